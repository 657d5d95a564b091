"""The NDIS routines whose C form does not map one to one onto the host's Python method:
tables told apart by their header, structures NDIS allocates for the driver (NET_BUFFER_LISTs,
MDLs, memory, spin locks), configuration, the IRQL macros, DbgPrint, ASSERT, and the simulated
NIC's wire. Everything else goes through :func:`condis.cdriver.bridge._generic`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

from condis import _status as st
from condis.cdriver import bridge as B
from condis.cdriver._ffi import address, ffi
from condis.cdriver._signatures import FUNCTIONS
from condis.cdriver.handles import BadPointer, mdl_bytes, read_bytes
from condis.constants import DIRQL, DISPATCH_LEVEL
from condis.drivers.signaling import Cell
from condis.structs import NDIS_OPEN_PARAMETERS

SUCCESS = st.NDIS_STATUS_SUCCESS
SPECIAL: dict[str, Callable[..., Any]] = {}


def special(fn: Callable[..., Any]) -> Callable[..., Any]:
    SPECIAL[fn.__name__] = fn
    return fn


def _ptr(value: Any) -> int:
    return address(value)


# ---------------------------------------------------------------------- registration

@special
def NdisMRegisterMiniportDriver(inst: B.Instance, DriverObject: Any, RegistryPath: Any, MiniportDriverContext: Any,
                                MiniportDriverCharacteristics: Any, NdisMiniportDriverHandle: Any) -> int:
    chars = B.read_table(inst, MiniportDriverCharacteristics, "NDIS_MINIPORT_DRIVER_CHARACTERISTICS",
                         "MiniportDriverCharacteristics")
    if NdisMiniportDriverHandle == ffi().NULL:
        raise BadPointer("NdisMiniportDriverHandle is NULL; NDIS writes the driver handle there")
    status, handle = inst.host.NdisMRegisterMiniportDriver(
        B._driver_object_from_c(inst, DriverObject, ""), B._string(RegistryPath),
        inst.side.from_c(MiniportDriverContext), chars)
    NdisMiniportDriverHandle[0] = inst.side.to_c(handle)
    return status


@special
def NdisRegisterProtocolDriver(inst: B.Instance, ProtocolDriverContext: Any, ProtocolCharacteristics: Any,
                               NdisProtocolHandle: Any) -> int:
    chars = B.read_table(inst, ProtocolCharacteristics, "NDIS_PROTOCOL_DRIVER_CHARACTERISTICS",
                         "ProtocolCharacteristics")
    if NdisProtocolHandle == ffi().NULL:
        raise BadPointer("NdisProtocolHandle is NULL; NDIS writes the protocol handle there")
    status, handle = inst.host.NdisRegisterProtocolDriver(inst.side.from_c(ProtocolDriverContext), chars)
    NdisProtocolHandle[0] = inst.side.to_c(handle)
    return status


@special
def NdisSetOptionalHandlers(inst: B.Instance, NdisHandle: Any, OptionalHandlers: Any) -> int:
    f = ffi()
    if OptionalHandlers == f.NULL:
        raise BadPointer("OptionalHandlers is NULL")
    kind = f.cast("NDIS_OBJECT_HEADER *", OptionalHandlers).Type
    cname = B._BY_TYPE.get(kind)
    if cname not in ("NDIS_MINIPORT_CO_CHARACTERISTICS", "NDIS_PROTOCOL_CO_CHARACTERISTICS",
                     "NDIS_CO_CLIENT_OPTIONAL_HANDLERS", "NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS"):
        raise B.TableError(f"OptionalHandlers->Header.Type is {kind:#x}, which names no CoNDIS handler table "
                           "(NDIS_OBJECT_TYPE_CO_MINIPORT_CHARACTERISTICS, _CO_PROTOCOL_CHARACTERISTICS, "
                           "_CO_CLIENT_OPTIONAL_HANDLERS or _CO_CALL_MANAGER_OPTIONAL_HANDLERS)")
    table = B.read_table(inst, OptionalHandlers, cname, "OptionalHandlers")
    return inst.host.NdisSetOptionalHandlers(inst.side.from_c(NdisHandle), table)


@special
def NdisMSetMiniportAttributes(inst: B.Instance, NdisMiniportAdapterHandle: Any, MiniportAttributes: Any) -> int:
    f = ffi()
    if MiniportAttributes == f.NULL:
        raise BadPointer("MiniportAttributes is NULL")
    kind = f.cast("NDIS_OBJECT_HEADER *", MiniportAttributes).Type
    cname = B._BY_TYPE.get(kind)
    if cname not in ("NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES", "NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES"):
        raise B.TableError(f"MiniportAttributes->Header.Type is {kind:#x}; condis takes registration (0x9e) or "
                           "general (0x9f) attributes")
    attrs = B.read_table(inst, MiniportAttributes, cname, "MiniportAttributes")
    return inst.host.NdisMSetMiniportAttributes(inst.side.from_c(NdisMiniportAdapterHandle), attrs)


@special
def NdisOpenAdapterEx(inst: B.Instance, NdisProtocolHandle: Any, ProtocolBindingContext: Any, OpenParameters: Any,
                      BindContext: Any, NdisBindingHandle: Any) -> int:
    f = ffi()
    if OpenParameters == f.NULL or NdisBindingHandle == f.NULL:
        raise BadPointer("OpenParameters and NdisBindingHandle must not be NULL")
    op = OpenParameters
    count = op.MediumArraySize
    if count > 64 or (count and op.MediumArray == f.NULL):
        raise BadPointer(f"MediumArraySize is {count}")
    params = NDIS_OPEN_PARAMETERS(AdapterName=B._string(op.AdapterName) or "",
                                  MediumArray=[int(op.MediumArray[i]) for i in range(count)], MediumArraySize=count)
    status, binding = inst.host.NdisOpenAdapterEx(inst.side.from_c(NdisProtocolHandle),
                                                  inst.side.from_c(ProtocolBindingContext), params,
                                                  inst.side.from_c(BindContext))
    NdisBindingHandle[0] = inst.side.to_c(binding)
    if params.SelectedMediumIndex is not None and op.SelectedMediumIndex != f.NULL:
        op.SelectedMediumIndex[0] = params.SelectedMediumIndex
    return status


# ---------------------------------------------------------------------- NET_BUFFER_LISTs and MDLs

@special
def NdisAllocateNetBufferAndNetBufferList(inst: B.Instance, PoolHandle: Any, ContextSize: int, ContextBackFill: int,
                                          MdlChain: Any, DataOffset: int, DataLength: int) -> Any:
    f = ffi()
    data = mdl_bytes(MdlChain, DataOffset + DataLength)
    if MdlChain != f.NULL and len(data) < DataOffset + DataLength:
        raise BadPointer(f"DataOffset {DataOffset} + DataLength {DataLength} exceed the "
                         f"{len(data)} bytes the MdlChain describes")
    nbl = inst.host.NdisAllocateNetBufferAndNetBufferList(inst.side.from_c(PoolHandle), ContextSize, ContextBackFill,
                                                         None if MdlChain == f.NULL else data, DataOffset, DataLength)
    if nbl is None:
        return f.NULL
    mem = f.new("NET_BUFFER_LIST *")
    nb = f.new("NET_BUFFER *")
    mem.FirstNetBuffer = nb
    mem.NdisPoolHandle = inst.side.to_c(nbl.Pool)
    nb.NdisPoolHandle = mem.NdisPoolHandle
    nb.MdlChain = MdlChain
    nb.DataOffset = DataOffset
    nb.DataLength = DataLength
    mdl, offset = MdlChain, DataOffset
    while mdl != f.NULL and offset >= mdl.ByteCount and mdl.Next != f.NULL:
        offset -= mdl.ByteCount
        mdl = mdl.Next
    nb.CurrentMdl, nb.CurrentMdlOffset = mdl, offset
    keep: tuple[Any, ...] = (mem, nb)
    if ContextSize:
        raw = f.new("UCHAR[]", f.sizeof("NET_BUFFER_LIST_CONTEXT") + ContextSize + ContextBackFill)
        ctx = f.cast("NET_BUFFER_LIST_CONTEXT *", raw)
        ctx.Size = ContextSize + ContextBackFill
        ctx.Offset = ContextBackFill
        mem.Context = ctx
        keep += (raw,)
    inst.side.adopt_nbl(nbl, mem, keep)
    return mem


@special
def NdisFreeNetBufferList(inst: B.Instance, NetBufferList: Any) -> None:
    nbl = inst.side.nbl_from_c(NetBufferList) if NetBufferList != ffi().NULL else None
    if nbl is not None:
        nbl.Next = None     # one NET_BUFFER_LIST is freed, whatever its Next says
    inst.host.NdisFreeNetBufferList(nbl)
    inst.side.forget_nbl(nbl)


def _after_nbls(name: str) -> Callable[..., Any]:
    """Send-complete, receive-return: Python NET_BUFFER_LISTs go back to the Python driver that
    allocated them, so their C copies end here."""
    generic = B._generic(name)

    def body(inst: B.Instance, *args: Any) -> Any:
        result = generic(inst, *args)
        inst.side.forget_shadows_of(args[1])
        return result
    body.__name__ = name
    return body


@special
def NdisAllocateMdl(inst: B.Instance, NdisHandle: Any, VirtualAddress: Any, Length: int) -> Any:
    _at_most_dispatch(inst, "NdisAllocateMdl")
    _owner(inst, "NdisAllocateMdl", NdisHandle)
    f = ffi()
    if VirtualAddress == f.NULL:
        raise BadPointer("VirtualAddress is NULL")
    mdl = f.new("MDL *")
    mdl.MappedSystemVa = mdl.StartVa = VirtualAddress
    mdl.ByteCount = Length
    inst.mdls[_ptr(mdl)] = (mdl, inst.where())
    return mdl


@special
def NdisFreeMdl(inst: B.Instance, Mdl: Any) -> None:
    _at_most_dispatch(inst, "NdisFreeMdl")
    if inst.mdls.pop(_ptr(Mdl), None) is None:
        raise inst.host._violate("condis.FreeMemory", "NdisFreeMdl",
                                 f"MDL {_ptr(Mdl):#x} was not allocated with NdisAllocateMdl by {inst.name!r}, or is "
                                 "already freed")


# ---------------------------------------------------------------------- memory

@special
def NdisAllocateMemoryWithTagPriority(inst: B.Instance, NdisHandle: Any, Length: int, Tag: int, Priority: int) -> Any:
    _at_most_dispatch(inst, "NdisAllocateMemoryWithTagPriority")
    _owner(inst, "NdisAllocateMemoryWithTagPriority", NdisHandle)
    host = inst.host
    fail = host._fail_alloc
    if Length == 0 or (fail is not None and fail("NdisAllocateMemoryWithTagPriority")):
        return ffi().NULL
    mem = ffi().new("UCHAR[]", Length)
    inst.memory[_ptr(mem)] = (mem, Length, Tag, inst.where())
    return ffi().cast("PVOID", mem)


@special
def NdisFreeMemory(inst: B.Instance, VirtualAddress: Any, Length: int, MemoryFlags: int) -> None:
    if inst.memory.pop(_ptr(VirtualAddress), None) is None:
        raise inst.host._violate("condis.FreeMemory", "NdisFreeMemory",
                                 f"{_ptr(VirtualAddress):#x} was not allocated by NdisAllocateMemoryWithTagPriority "
                                 f"for {inst.name!r}, or is already freed")


def _owner(inst: B.Instance, ddi: str, handle: Any) -> Any:
    obj = inst.side.from_c(handle)
    if obj is None or type(obj) is int:
        raise inst.host._violate("condis.BadHandle", ddi,
                                 f"NdisHandle must be a handle NDIS gave {inst.name!r} (its driver, adapter or "
                                 f"binding handle); got {obj!r}")
    return obj


def _at_most_dispatch(inst: B.Instance, ddi: str) -> None:
    if inst.host.irql > DISPATCH_LEVEL:
        raise inst.host._violate("Irql_Miscellaneous_Function", ddi, "called above DISPATCH_LEVEL; its page allows "
                                 "<= DISPATCH_LEVEL")


# ---------------------------------------------------------------------- spin locks, IRQL, time

@special
def NdisAllocateSpinLock(inst: B.Instance, SpinLock: Any) -> None:
    if SpinLock == ffi().NULL:
        raise BadPointer("SpinLock is NULL")
    inst.side.locks[_ptr(SpinLock)] = inst.host.NdisAllocateSpinLock()


@special
def NdisFreeSpinLock(inst: B.Instance, SpinLock: Any) -> None:
    inst.host.NdisFreeSpinLock(B._lock_from_c(inst, SpinLock, "SpinLock"))
    inst.side.locks.pop(_ptr(SpinLock), None)


@special
def CondisRaiseIrqlToDispatch(inst: B.Instance, pIrql: Any) -> None:
    old = inst.host.NDIS_RAISE_IRQL_TO_DISPATCH()
    if pIrql != ffi().NULL:
        pIrql[0] = old


@special
def CondisLowerIrql(inst: B.Instance, OldIrql: int, CurIrql: int) -> None:
    inst.host.NDIS_LOWER_IRQL(OldIrql, CurIrql)


@special
def KeGetCurrentIrql(inst: B.Instance) -> int:
    irql = inst.host.irql
    return 3 if irql >= DIRQL else irql


@special
def NdisGetCurrentSystemTime(inst: B.Instance, pSystemTime: Any) -> None:
    if pSystemTime == ffi().NULL:
        raise BadPointer("pSystemTime is NULL")
    pSystemTime.QuadPart = inst.host.now // 100     # 100-nanosecond units, from the virtual clock


# ---------------------------------------------------------------------- TAPI and WMI names

@special
def NdisCoGetTapiCallId(inst: B.Instance, NdisVcHandle: Any, TapiCallId: Any) -> int:
    status, call_id = inst.host.NdisCoGetTapiCallId(inst.side.from_c(NdisVcHandle))
    if status == SUCCESS and call_id is not None and TapiCallId != ffi().NULL:
        v = TapiCallId
        v.ulNeededSize = ffi().sizeof("VAR_STRING") + len(call_id)
        if v.ulTotalSize >= v.ulNeededSize:
            ffi().memmove(ffi().cast("PUCHAR", v) + ffi().sizeof("VAR_STRING"), call_id, len(call_id))
            v.ulStringOffset, v.ulStringSize, v.ulUsedSize = ffi().sizeof("VAR_STRING"), len(call_id), v.ulNeededSize
        else:
            return st.NDIS_STATUS_BUFFER_TOO_SHORT
    return status


@special
def NdisClGetProtocolVcContextFromTapiCallId(inst: B.Instance, TapiCallId: Any, ProtocolVcContext: Any) -> int:
    data = read_bytes(TapiCallId.Buffer, TapiCallId.Length)
    status, ctx = inst.host.NdisClGetProtocolVcContextFromTapiCallId(data)
    if ProtocolVcContext != ffi().NULL:
        ProtocolVcContext[0] = inst.side.to_c(ctx)
    return status


@special
def NdisCoAssignInstanceName(inst: B.Instance, NdisVcHandle: Any, BaseInstanceName: Any, VcInstanceName: Any) -> int:
    status, name = inst.host.NdisCoAssignInstanceName(inst.side.from_c(NdisVcHandle), B._string(BaseInstanceName))
    if status == SUCCESS and name is not None and VcInstanceName != ffi().NULL:
        buf = B._wide(name)
        inst.strings.append(buf)
        VcInstanceName.Buffer, VcInstanceName.Length, VcInstanceName.MaximumLength = buf, 2 * len(name), 2 * len(name) + 2
    return status


# ---------------------------------------------------------------------- kernel work items

def _work_item(inst: B.Instance, ptr: Any) -> Any:
    """The IO_WORKITEM that stands for the driver's storage at ``ptr`` (one per address, for the
    host's life: the kernel's view of that storage)."""
    from condis.structs import IO_WORKITEM
    if ptr == ffi().NULL:
        raise BadPointer("IoWorkItem is NULL")
    items = inst.side.work_items
    item = items.get(_ptr(ptr))
    if item is None:
        item = items[_ptr(ptr)] = IO_WORKITEM()
        inst.side.work_item_addresses[id(item)] = _ptr(ptr)
    return item


@special
def IoInitializeWorkItem(inst: B.Instance, IoObject: Any, IoWorkItem: Any) -> None:
    inst.host.IoInitializeWorkItem(B._driver_object_from_c(inst, IoObject, "IoObject"), _work_item(inst, IoWorkItem))


@special
def IoQueueWorkItemEx(inst: B.Instance, IoWorkItem: Any, WorkerRoutine: Any, QueueType: int, Context: Any) -> None:
    routine = B.thunk(inst, WorkerRoutine, "IO_WORKITEM_ROUTINE_EX")
    inst.host.IoQueueWorkItemEx(_work_item(inst, IoWorkItem), routine, QueueType, inst.side.from_c(Context))


@special
def IoUninitializeWorkItem(inst: B.Instance, IoWorkItem: Any) -> None:
    inst.host.IoUninitializeWorkItem(_work_item(inst, IoWorkItem))


# ---------------------------------------------------------------------- configuration

@special
def NdisOpenConfigurationEx(inst: B.Instance, ConfigObject: Any, ConfigurationHandle: Any) -> None:
    f = ffi()
    if ConfigObject == f.NULL or ConfigurationHandle == f.NULL:
        raise BadPointer("ConfigObject and ConfigurationHandle must not be NULL")
    _owner(inst, "NdisOpenConfigurationEx", ConfigObject.NdisHandle)
    handle = f.new("UCHAR[]", 1)           # an opaque handle NDIS owns until NdisCloseConfiguration
    inst.configs[_ptr(handle)] = (handle, [])
    ConfigurationHandle[0] = handle


@special
def NdisReadConfiguration(inst: B.Instance, Status: Any, ParameterValue: Any, ConfigurationHandle: Any,
                          Keyword: Any, ParameterType: int) -> None:
    f = ffi()
    config = inst.configs.get(_ptr(ConfigurationHandle))
    if config is None:
        raise inst.host._violate("condis.BadHandle", "NdisReadConfiguration",
                                 "ConfigurationHandle is not a handle NdisOpenConfigurationEx returned, or is closed")
    key = B._string(Keyword)
    value = inst.config.get(key) if key is not None else None
    if value is None or Status == f.NULL or ParameterValue == f.NULL:
        if Status != f.NULL:
            Status[0] = B.signed(st.NDIS_STATUS_FAILURE)
        return
    param = f.new("NDIS_CONFIGURATION_PARAMETER *")
    if isinstance(value, int):
        param.ParameterType = 0
        param.ParameterData.IntegerData = value
    else:
        buf = B._wide(str(value))
        config[1].append(buf)
        param.ParameterType = 2
        s = param.ParameterData.StringData
        s.Buffer, s.Length, s.MaximumLength = buf, 2 * len(str(value)), 2 * len(str(value)) + 2
    config[1].append(param)
    ParameterValue[0] = param
    Status[0] = SUCCESS


@special
def NdisCloseConfiguration(inst: B.Instance, ConfigurationHandle: Any) -> None:
    if inst.configs.pop(_ptr(ConfigurationHandle), None) is None:
        raise inst.host._violate("condis.BadHandle", "NdisCloseConfiguration",
                                 "ConfigurationHandle is not an open configuration handle")


# ---------------------------------------------------------------------- debugging

@special
def CondisDebugPrint(inst: B.Instance, Text: Any) -> None:
    """DbgPrint: the line goes to the driver's debug output (``CDriver.debug_output``), as a
    kernel debugger would show it, and to stderr when CONDIS_DBGPRINT is set."""
    text = ffi().string(Text).decode("utf-8", "replace")
    inst.debug.append(text)
    if os.environ.get("CONDIS_DBGPRINT"):
        sys.stderr.write(f"[{inst.host.name}] {inst.name}: {text}")


@special
def CondisAssertFailed(inst: B.Instance, Expression: Any, File: Any, Line: int) -> None:
    where = f"{ffi().string(File).decode()}:{Line}"
    expr = ffi().string(Expression).decode("utf-8", "replace")
    v = inst.host._violate("condis.Assert", "ASSERT", f"{inst.name!r}: ASSERT({expr}) failed at {where}")
    v.c_source = where
    inst.host.verifier.found(inst.host, v)


# ---------------------------------------------------------------------- the simulated NIC's wire

@special
def CondisWireAttach(inst: B.Instance, Port: Any, Receive: Any, Context: Any) -> None:
    port = _port(inst, Port)
    fn = ffi().cast("PCONDIS_WIRE_RECEIVE", Receive)
    ctx = Context

    def on_cell(cell: Cell) -> None:
        data = cell.payload if isinstance(cell.payload, (bytes, bytearray)) else b""
        buf = ffi().new("UCHAR[]", bytes(data)) if data else ffi().NULL
        inst.run(fn, ctx, cell.vci, buf, len(data))
    port.attach(inst.host, on_cell, inst.py_driver_object)


@special
def CondisWireDetach(inst: B.Instance, Port: Any) -> None:
    _port(inst, Port).detach()


@special
def CondisWireTransmit(inst: B.Instance, Port: Any, Vci: int, Data: Any, Length: int) -> None:
    _port(inst, Port).transmit(Cell(Vci, read_bytes(Data, Length)))


@special
def CondisWireProgramVc(inst: B.Instance, Port: Any) -> int:
    return int(_port(inst, Port).program())


def _port(inst: B.Instance, value: Any) -> Any:
    from condis.wire import WirePort
    port = inst.side.from_c(value)
    if not isinstance(port, WirePort):
        raise inst.host._violate("condis.BadParameter", "CondisWire",
                                 f"Port must be the MiniportInitParameters->AllocatedResources of a wire adapter; got {port!r}")
    return port


# ---------------------------------------------------------------------- the table

def bodies() -> dict[str, Callable[..., Any]]:
    """The body of every routine of the C surface."""
    out: dict[str, Callable[..., Any]] = {}
    for name in FUNCTIONS:
        if name in SPECIAL:
            out[name] = SPECIAL[name]
        elif name in ("NdisMCoSendNetBufferListsComplete", "NdisReturnNetBufferLists"):
            out[name] = _after_nbls(name)
        else:
            out[name] = B._generic(name)
    return out
