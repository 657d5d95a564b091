"""The C bridge: a C driver image on a condis host.

NDIS's core knows a driver only by the handlers it registered. For a C driver, each handler it
registers is a :func:`thunk`: a Python callable that converts NDIS's arguments to C, calls the C
function, and converts back what it returned and what it wrote into its OUT parameters. In the
other direction, every NDIS routine a C driver calls lands in :data:`ROUTINES`, through the table
the image's runtime holds (runtime/exports.c): it converts the C arguments, calls the host's
method of the same name, and writes the results back for C.

Errors cannot unwind through C frames. When an NDIS routine a C driver called raises (a
:class:`condis.Violation` in strict mode), the routine returns its refusal to C (NDIS_STATUS_FAILURE,
NULL, FALSE), NDIS does nothing more for that driver until its code returns, and the violation is
raised when control comes back from C: the run stops at the violating call, with the C file and
line of the call in the message.
"""

from __future__ import annotations

import functools
import inspect
import weakref
from collections.abc import Callable
from typing import Any

from condis import _status as st
from condis import structs as S
from condis.cdriver import image as images
from condis.cdriver._ffi import address, ffi, new_with_header
from condis.cdriver._signatures import CALLBACKS, FUNCTIONS, HANDLER_TYPES
from condis.cdriver.handles import BadPointer, HostSide, read_bytes
from condis.constants import NDIS_RECEIVE_FLAGS_RESOURCES
from condis.errors import Violation

FAILURE = st.NDIS_STATUS_FAILURE
_SIDES: weakref.WeakKeyDictionary[Any, HostSide] = weakref.WeakKeyDictionary()


def signed(status: int) -> int:
    """An NDIS_STATUS as C holds it (a LONG): 0xC0000001 is negative there."""
    status &= 0xFFFFFFFF
    return status - (1 << 32) if status & 0x80000000 else status


def unsigned(status: int) -> int:
    """An NDIS_STATUS as NDIS's core and the status tables hold it (0xC0000001)."""
    return int(status) & 0xFFFFFFFF


def side_of(host: Any) -> HostSide:
    side = _SIDES.get(host)
    if side is None:
        side = _SIDES[host] = HostSide(host.sim.hosts.index(host) if host in host.sim.hosts else len(_SIDES))
    return side


class Activation:
    """One stretch of C code running: what went wrong in it, to raise when it returns."""

    __slots__ = ("instance", "pending")

    def __init__(self, instance: Instance) -> None:
        self.instance = instance
        self.pending: BaseException | None = None


_STACK: list[Activation] = []


class Instance:
    """A C driver loaded on one host: its image, its DRIVER_OBJECT, its configuration, and the
    memory it allocated through NDIS (reported as a leak if not freed by unload)."""

    def __init__(self, host: Any, image: images.Image, name: str, config: dict[str, Any]) -> None:
        self.host = host
        self.side = side_of(host)
        self.image = image
        self.name = name
        self.config = config
        f = ffi()
        self.c_driver_object = f.new("DRIVER_OBJECT *")
        self.c_name = _wide(name)
        self.c_driver_object.DriverName.Buffer = self.c_name
        self.c_driver_object.DriverName.Length = 2 * len(name)
        self.c_driver_object.DriverName.MaximumLength = 2 * len(name) + 2
        self.py_driver_object: Any = None
        self.memory: dict[int, tuple[Any, int, int]] = {}
        self.mdls: dict[int, Any] = {}
        self.configs: dict[int, Any] = {}
        self.thunks: dict[tuple[int, str], Callable[..., Any]] = {}
        self.strings: list[Any] = []
        self.debug: list[str] = []
        self.on_unload: Callable[[], None] | None = None

    def run(self, fn: Any, *args: Any) -> Any:
        """Call C: ``fn(*args)`` with this instance current; raise what went wrong inside."""
        act = Activation(self)
        _STACK.append(act)
        try:
            result = fn(*args)
        finally:
            _STACK.pop()
        if act.pending is not None:
            raise act.pending
        return result

    def where(self) -> str:
        return self.image.where(address(self.image.lib.condis_last_caller()))

    def function(self, name: str, signature: str) -> Callable[..., Any]:
        """A function the driver exports, ``signature`` its C type (``"VOID (ULONG)"``), as a Python
        callable that runs it as this driver, as NDIS runs its handlers (its calls into NDIS are
        checked and traced as theirs are). For tests and benchmarks that drive a C driver directly,
        as an application's request would."""
        fn = self.image.symbol(name, signature)

        def call(*args: Any) -> Any:
            return self.run(fn, *args)
        call.__name__ = name
        return call


def _wide(text: str) -> Any:
    data = text.encode("utf-16-le") + b"\0\0"
    buf = ffi().new("WCHAR[]", len(data) // 2)
    ffi().memmove(buf, data, len(data))
    return buf


def _string(ptr: Any) -> str | None:
    """A UNICODE_STRING (NDIS_STRING) from C as a Python str."""
    if ptr == ffi().NULL:
        return None
    if ptr.Length > ptr.MaximumLength or ptr.Length % 2:
        raise BadPointer(f"a UNICODE_STRING with Length {ptr.Length} and MaximumLength {ptr.MaximumLength}")
    return read_bytes(ptr.Buffer, ptr.Length).decode("utf-16-le", "replace")


# ---------------------------------------------------------------------- C handlers NDIS calls

def thunk(inst: Instance, fnptr: Any, callback: str) -> Callable[..., Any] | None:
    """The Python handler for a C function pointer of type ``callback`` (None for NULL)."""
    f = ffi()
    if fnptr == f.NULL:
        return None
    key = (address(fnptr), callback)
    known = inst.thunks.get(key)
    if known is not None:
        return known
    ret, params = CALLBACKS[callback]
    fn = f.cast(f"{callback} *", fnptr)
    plan = _plan(params)
    outs = sum(1 for kind in plan if kind == "out")
    side = inst.side
    # after a driver's unload routine, the bridge checks what it left allocated
    unloads = callback in ("MINIPORT_UNLOAD", "DRIVER_UNLOAD")
    receives = callback == "PROTOCOL_CO_RECEIVE_NET_BUFFER_LISTS"

    def handler(*args: Any) -> Any:
        cargs: list[Any] = []
        after: list[Callable[[], None]] = []
        slots: list[Any] = []
        i = 0
        for kind in plan:
            if kind == "out":
                slot = f.new("NDIS_HANDLE *")
                slots.append(slot)
                cargs.append(slot)
            elif kind == "bytes":
                data = args[i] if isinstance(args[i], (bytes, bytearray)) else b""
                buf = f.new("UCHAR[]", data) if data else f.NULL
                cargs += [buf, len(data)]
                i += 2
            else:
                cargs.append(_TO_C[kind](inst, args[i], after))
                i += 1
        if receives and args[4] & NDIS_RECEIVE_FLAGS_RESOURCES:
            # NDIS takes these back when the handler returns: their C copies end with it
            after.append(lambda: side.forget_shadows(args[2]))
        result = inst.run(fn, *cargs)
        for sync in after:
            sync()
        if unloads and inst.on_unload is not None:
            inst.on_unload()
        if ret in ("VOID", "void"):
            return None
        value = unsigned(result) if ret in ("NDIS_STATUS", "NTSTATUS") else int(result)
        if outs:
            return (value, *(side.from_c(s[0]) for s in slots))
        return value if ret != "BOOLEAN" else bool(value)

    handler.__name__ = callback
    handler.__qualname__ = f"{inst.name}.{callback}"
    inst.thunks[key] = handler
    return handler


def _plan(params: tuple[tuple[str, str, str], ...]) -> list[str]:
    """How each C parameter of a callback is made from NDIS's Python arguments."""
    plan = []
    skip = False
    for n, (_, ctype, name) in enumerate(params):
        if skip:
            skip = False
            continue
        if ctype == "PNDIS_HANDLE":
            plan.append("out")
        elif ctype == "PVOID" and name in ("CloseData", "Buffer") and n + 1 < len(params):
            plan.append("bytes")
            skip = True
        elif ctype == "PVOID" and name == "IoObject":
            plan.append("IoObject")
        else:
            plan.append(ctype if ctype in _TO_C else "int")
    return plan


def _params_to_c(inst: Instance, params: Any, after: list[Callable[[], None]]) -> Any:
    if params is None:
        return ffi().NULL
    mem = inst.side.params_to_c(params)
    after.append(lambda: inst.side.sync_params(params))
    return mem


def _oid_to_c(inst: Instance, req: Any, after: list[Callable[[], None]]) -> Any:
    if req is None:
        return ffi().NULL
    mem = inst.side.oid_to_c(req)
    after.append(lambda: inst.side.sync_oid(req))
    return mem


def _af_to_c(inst: Instance, af: Any, after: list[Callable[[], None]]) -> Any:
    mem = ffi().new("CO_ADDRESS_FAMILY *")
    if af is not None:
        mem.AddressFamily, mem.MajorVersion, mem.MinorVersion = af.AddressFamily, af.MajorVersion, af.MinorVersion
    return mem


def _sap_to_c(inst: Instance, sap: Any, after: list[Callable[[], None]]) -> Any:
    f = ffi()
    data = sap.Sap if sap is not None and isinstance(sap.Sap, (bytes, bytearray)) else b""
    raw = f.new("UCHAR[]", f.sizeof("CO_SAP") + len(data))
    mem = f.cast("CO_SAP *", raw)
    if sap is not None:
        mem.SapType = sap.SapType
        mem.SapLength = len(data)
        f.memmove(mem.Sap, data, len(data))
    inst.side.keep[address(mem)] = raw
    return mem


def _nbl_to_c(inst: Instance, nbl: Any, after: list[Callable[[], None]]) -> Any:
    return inst.side.nbl_to_c(nbl)


def _handle_to_c(inst: Instance, value: Any, after: list[Callable[[], None]]) -> Any:
    return inst.side.to_c(value)


def _int_to_c(inst: Instance, value: Any, after: list[Callable[[], None]]) -> Any:
    return value if type(value) is int else int(bool(value))


def _status_to_c(inst: Instance, value: Any, after: list[Callable[[], None]]) -> Any:
    return signed(value) if type(value) is int else 0


def _driver_object_to_c(inst: Instance, value: Any, after: list[Callable[[], None]]) -> Any:
    return inst.c_driver_object


def _io_object_to_c(inst: Instance, value: Any, after: list[Callable[[], None]]) -> Any:
    """A work item's IoObject: the driver's own DRIVER_OBJECT as it knows it."""
    return inst.c_driver_object if value is inst.py_driver_object else inst.side.to_c(value)


def _work_item_to_c(inst: Instance, value: Any, after: list[Callable[[], None]]) -> Any:
    """An IO_WORKITEM back at the address of the driver's storage it stands for."""
    return ffi().cast("PIO_WORKITEM", inst.side.work_item_addresses.get(id(value), 0))


def _status_indication_to_c(inst: Instance, ind: Any, after: list[Callable[[], None]]) -> Any:
    f = ffi()
    mem = new_with_header("NDIS_STATUS_INDICATION", 0x98)
    mem.SourceHandle = inst.side.to_c(ind.SourceHandle)
    mem.PortNumber = ind.PortNumber
    mem.StatusCode = ind.StatusCode
    mem.Flags = ind.Flags
    mem.DestinationHandle = inst.side.to_c(ind.DestinationHandle)
    mem.RequestId = inst.side.to_c(ind.RequestId)
    data = ind.StatusBuffer if isinstance(ind.StatusBuffer, (bytes, bytearray)) else b""
    if data:
        buf = f.new("UCHAR[]", bytes(data))
        inst.side.keep[address(mem)] = buf
        mem.StatusBuffer = buf
    mem.StatusBufferSize = len(data)
    return mem


def _bind_parameters_to_c(inst: Instance, bp: Any, after: list[Callable[[], None]]) -> Any:
    f = ffi()
    mem = new_with_header("NDIS_BIND_PARAMETERS", 0x86)
    keep: list[Any] = []
    for field in ("ProtocolSection", "AdapterName", "BoundAdapterName"):
        text = getattr(bp, field) or ""
        s = f.new("NDIS_STRING *")
        buf = _wide(text)
        s.Buffer, s.Length, s.MaximumLength = buf, 2 * len(text), 2 * len(text) + 2
        keep += [s, buf]
        setattr(mem, field, s)
    for field in ("MediaType", "MtuSize", "MaxXmitLinkSpeed", "XmitLinkSpeed", "MaxRcvLinkSpeed", "RcvLinkSpeed",
                  "MediaConnectState", "MacOptions"):
        setattr(mem, field, getattr(bp, field) or 0)
    inst.side.keep[address(mem)] = keep
    return mem


def _init_parameters_to_c(inst: Instance, ip: Any, after: list[Callable[[], None]]) -> Any:
    f = ffi()
    mem = new_with_header("NDIS_MINIPORT_INIT_PARAMETERS", 0x81)
    mem.Flags = ip.Flags
    # the adapter's hardware (a condis.WirePort for the samples) reaches C as an opaque handle
    mem.AllocatedResources = f.cast("PNDIS_RESOURCE_LIST", inst.side.to_c(ip.AllocatedResources))
    mem.IfIndex = ip.IfIndex
    mem.NetLuid.Value = ip.NetLuid
    return mem


def _pnp_event_to_c(inst: Instance, ev: Any, after: list[Callable[[], None]]) -> Any:
    f = ffi()
    mem = new_with_header("NET_PNP_EVENT_NOTIFICATION", 0x80)
    if ev is not None:
        mem.NetPnPEvent.NetEvent = ev.NetEvent
        data = ev.Buffer if isinstance(ev.Buffer, (bytes, bytearray)) else b""
        if data:
            buf = f.new("UCHAR[]", bytes(data))
            inst.side.keep[address(mem)] = buf
            mem.NetPnPEvent.Buffer = buf
        mem.NetPnPEvent.BufferLength = len(data)
    return mem


def _struct_to_c(ctype: str) -> Callable[[Instance, Any, list[Callable[[], None]]], Any]:
    """A structure NDIS builds for the handler, filled field by field from its Python form."""
    def convert(inst: Instance, value: Any, after: list[Callable[[], None]]) -> Any:
        f = ffi()
        mem = f.new(f"{ctype[1:]} *")
        if value is not None:
            for name, _field in f.typeof(f"{ctype[1:]}").fields:
                v = getattr(value, name, None)
                if type(v) is int:
                    setattr(mem, name, v)
        return mem
    return convert


_TO_C: dict[str, Callable[[Instance, Any, list[Callable[[], None]]], Any]] = {
    "int": _int_to_c,
    "NDIS_STATUS": _status_to_c,
    "NDIS_HANDLE": _handle_to_c,
    "PVOID": _handle_to_c,
    "PCO_CALL_PARAMETERS": _params_to_c,
    "PNDIS_OID_REQUEST": _oid_to_c,
    "PCO_ADDRESS_FAMILY": _af_to_c,
    "PCO_SAP": _sap_to_c,
    "PNET_BUFFER_LIST": _nbl_to_c,
    "PDRIVER_OBJECT": _driver_object_to_c,
    "IoObject": _io_object_to_c,
    "PIO_WORKITEM": _work_item_to_c,
    "PNDIS_STATUS_INDICATION": _status_indication_to_c,
    "PNDIS_BIND_PARAMETERS": _bind_parameters_to_c,
    "PNDIS_MINIPORT_INIT_PARAMETERS": _init_parameters_to_c,
    "PNET_PNP_EVENT_NOTIFICATION": _pnp_event_to_c,
    "PNDIS_MINIPORT_PAUSE_PARAMETERS": _struct_to_c("PNDIS_MINIPORT_PAUSE_PARAMETERS"),
    "PNDIS_MINIPORT_RESTART_PARAMETERS": _struct_to_c("PNDIS_MINIPORT_RESTART_PARAMETERS"),
}


# ---------------------------------------------------------------------- tables a C driver hands NDIS

_TABLES: dict[str, tuple[type, int, int]] = {
    # C structure: (Python structure, NDIS_OBJECT_TYPE_*, the newest revision)
    "NDIS_MINIPORT_DRIVER_CHARACTERISTICS": (S.NDIS_MINIPORT_DRIVER_CHARACTERISTICS, 0x8A, 3),
    "NDIS_PROTOCOL_DRIVER_CHARACTERISTICS": (S.NDIS_PROTOCOL_DRIVER_CHARACTERISTICS, 0x95, 2),
    "NDIS_MINIPORT_CO_CHARACTERISTICS": (S.NDIS_MINIPORT_CO_CHARACTERISTICS, 0x91, 1),
    "NDIS_PROTOCOL_CO_CHARACTERISTICS": (S.NDIS_PROTOCOL_CO_CHARACTERISTICS, 0x90, 1),
    "NDIS_CO_CLIENT_OPTIONAL_HANDLERS": (S.NDIS_CO_CLIENT_OPTIONAL_HANDLERS, 0xA6, 1),
    "NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS": (S.NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS, 0xA5, 1),
    "NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES": (S.NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES, 0x9E, 2),
    "NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES": (S.NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES, 0x9F, 2),
}
_BY_TYPE = {object_type: cname for cname, (_, object_type, _) in _TABLES.items()}


class TableError(Exception):
    """A table whose header does not say what it is; the message names the field that is wrong."""


def _revision_size(cname: str, revision: int) -> int:
    """NDIS_SIZEOF_<name>_REVISION_<n>: the size up to the last field of that revision."""
    f = ffi()
    last = _LAST_FIELD.get((cname, revision))
    if last is None:
        return f.sizeof(cname)
    return f.offsetof(cname, last) + f.sizeof(dict(f.typeof(cname).fields)[last].type)


_LAST_FIELD = {
    ("NDIS_MINIPORT_DRIVER_CHARACTERISTICS", 1): "CancelOidRequestHandler",
    ("NDIS_MINIPORT_DRIVER_CHARACTERISTICS", 2): "CancelDirectOidRequestHandler",
    ("NDIS_MINIPORT_DRIVER_CHARACTERISTICS", 3): "SynchronousOidRequestHandler",
    ("NDIS_PROTOCOL_DRIVER_CHARACTERISTICS", 1): "SendNetBufferListsCompleteHandler",
    ("NDIS_PROTOCOL_DRIVER_CHARACTERISTICS", 2): "DirectOidRequestCompleteHandler",
    ("NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES", 1): "InterfaceType",
    ("NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES", 2): "InterfaceType",
    ("NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES", 1): "AutoNegotiationFlags",
    ("NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES", 2): "PowerManagementCapabilitiesEx",
}


def read_table(inst: Instance, ptr: Any, cname: str, what: str) -> Any:
    """A C characteristics, optional-handler or attributes table as NDIS's Python structure: a
    copy (what the driver writes into its structure afterwards changes nothing), each function
    pointer a handler, only the fields its Header.Revision and Header.Size cover."""
    f = ffi()
    if ptr == f.NULL:
        raise BadPointer(f"{what} is NULL; NDIS needs the driver's {cname}")
    py_type, object_type, newest = _TABLES[cname]
    ptr = f.cast(f"{cname} *", ptr)
    h = ptr.Header
    if h.Type != object_type:
        raise TableError(f"{what}->Header.Type is {h.Type:#x}; a {cname} has NDIS_OBJECT_TYPE {object_type:#x}")
    if not 1 <= h.Revision <= newest:
        raise TableError(f"{what}->Header.Revision is {h.Revision}; {cname} has revisions 1 to {newest}")
    need = _revision_size(cname, h.Revision)
    if h.Size < need:
        raise TableError(f"{what}->Header.Size is {h.Size}; revision {h.Revision} of {cname} is {need} bytes "
                         f"(NDIS_SIZEOF_{cname[5:]}_REVISION_{h.Revision})")
    table = py_type()
    table.Header = S.NDIS_OBJECT_HEADER(h.Type, h.Revision, h.Size)
    slots = set(py_type.__slots__)
    for name, field in f.typeof(cname).fields:
        if name not in slots or name == "Header" or f.offsetof(cname, name) >= h.Size:
            continue
        value = getattr(ptr, name)
        kind = field.type.kind
        type_name = _type_name(cname, name)
        if type_name in HANDLER_TYPES:
            setattr(table, name, thunk(inst, value, HANDLER_TYPES[type_name]))
        elif kind in ("primitive", "enum"):
            setattr(table, name, int(value))
        elif type_name == "NDIS_STRING":
            setattr(table, name, read_bytes(value.Buffer, value.Length).decode("utf-16-le", "replace"))
        elif type_name == "NDIS_HANDLE":
            setattr(table, name, inst.side.from_c(value))
        elif type_name == "PNDIS_OID" and name == "SupportedOidList":
            count = ptr.SupportedOidListLength // 4
            setattr(table, name, [] if value == f.NULL else [int(value[i]) for i in range(min(count, 4096))])
    return table


@functools.cache
def _field_types(cname: str) -> dict[str, str]:
    """Field name -> the type name the header declares it with (cffi resolves typedefs away)."""
    from condis.cdriver._ffi import declarations
    text = declarations()
    start = text.index(f"}} {cname},") if f"}} {cname}," in text else -1
    body = text[text.rindex("{", 0, start) + 1:start] if start >= 0 else ""
    types = {}
    for line in body.split(";"):
        words = line.split()
        if len(words) >= 2:
            types[words[-1].split("[")[0]] = words[-2]
    return types


def _type_name(cname: str, field: str) -> str:
    return _field_types(cname).get(field, "")


# ---------------------------------------------------------------------- NDIS routines C calls

def _current() -> Activation | None:
    return _STACK[-1] if _STACK else None


def _refusal(ret: str) -> Any:
    if ret == "NDIS_STATUS":
        return FAILURE
    if ret in ("VOID", "void"):
        return None
    if ret in ("BOOLEAN", "ULONG", "LONG", "KIRQL", "UINT"):
        return 0
    return ffi().NULL


def _routine(name: str, body: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap ``body(inst, *c_args)``: refuse when no C driver is running or one of its calls
    already failed; catch what it raises and keep it for when C returns."""
    ret = FUNCTIONS[name][0]
    refused = _refusal(ret)
    if ret == "NDIS_STATUS":
        refused = signed(refused)

    def routine(*args: Any) -> Any:
        act = _current()
        if act is None or act.pending is not None:
            return refused
        inst = act.instance
        findings = inst.host.verifier.findings
        before = len(findings)
        try:
            result = body(inst, *args)
        except (Violation, BadPointer, TableError) as e:
            if isinstance(e, Violation):
                v = e
            else:
                v = inst.host._violate("condis.ObjectHeader" if isinstance(e, TableError) else "condis.BadParameter",
                                       name, str(e))
            _locate(inst, v)
            if inst.host.verifier.recording:
                # record mode: the call is refused and the driver goes on, as for a Python driver
                inst.host.verifier.found(inst.host, v)
            else:
                act.pending = v
            return refused
        except BaseException as e:   # a bug in condis or in a Python driver it called: raise it after C returns
            act.pending = e
            return refused
        if len(findings) != before:
            for finding in findings[before:]:
                _locate(inst, finding.violation)
        if ret == "NDIS_STATUS":
            return signed(result) if type(result) is int else refused
        if result is None:
            return refused
        return result
    routine.__name__ = name
    return routine


def _locate(inst: Instance, v: Violation) -> None:
    """Name the C file and line that made the violating call, in the violation and its message."""
    where = inst.where()
    if where and getattr(v, "c_source", None) is None:
        v.c_source = where
        v.args = (f"{v.args[0]} [called from {where}]",) + v.args[1:]


def _generic(name: str) -> Callable[..., Any]:
    """A routine whose C parameters map one to one onto the host method of the same name, OUT
    parameters (those the Python method does not take) written back from what it returns."""
    ret, cparams = FUNCTIONS[name]
    has_status = ret == "NDIS_STATUS"
    convert_ret = {"NDIS_HANDLE": "handle", "PNET_BUFFER_LIST": "nbl", "BOOLEAN": "int"}.get(ret, "")

    @functools.cache
    def plan() -> list[tuple[bool, Callable[[Instance, Any, str], Any], str]]:
        from condis.ndis.host import Ndis
        py_names = list(inspect.signature(getattr(Ndis, name)).parameters)[1:]
        # An IN parameter is passed even where the Python method spells its name otherwise
        # (NdisCompleteBindAdapterEx's BindContext is its BindAdapterContext).
        return [(direction == "in" or pname in py_names or "_" + pname in py_names,
                 _FROM_C.get(ctype, _int_from_c), pname)
                for direction, ctype, pname in cparams]

    def body(inst: Instance, *cargs: Any) -> Any:
        side = inst.side
        pyargs = []
        outs = []
        for (is_in, convert, pname), carg in zip(plan(), cargs, strict=True):
            if is_in:
                pyargs.append(convert(inst, carg, pname))
            else:
                outs.append(carg)
        result = getattr(inst.host, name)(*pyargs)
        if outs:
            values = result[1:] if has_status else (result,)
            for slot, value in zip(outs, values, strict=False):
                if slot != ffi().NULL:
                    slot[0] = side.to_c(value)
            return result[0] if has_status else None
        if convert_ret == "handle":
            return side.to_c(result)
        if convert_ret == "int":
            return int(bool(result))
        return result
    body.__name__ = name
    return body


def _int_from_c(inst: Instance, value: Any, name: str) -> Any:
    return int(value) if not isinstance(value, ffi().CData) else inst.side.from_c(value)


def _status_from_c(inst: Instance, value: Any, name: str) -> Any:
    return unsigned(value)


def _handle_from_c(inst: Instance, value: Any, name: str) -> Any:
    return inst.side.from_c(value)


def _params_from_c(inst: Instance, value: Any, name: str) -> Any:
    return inst.side.params_from_c(value)


def _af_from_c(inst: Instance, ptr: Any, name: str) -> Any:
    if ptr == ffi().NULL:
        return None
    return S.CO_ADDRESS_FAMILY(AddressFamily=ptr.AddressFamily, MajorVersion=ptr.MajorVersion,
                               MinorVersion=ptr.MinorVersion)


def _sap_from_c(inst: Instance, ptr: Any, name: str) -> Any:
    if ptr == ffi().NULL:
        return None
    return S.CO_SAP(SapType=ptr.SapType, SapLength=ptr.SapLength, Sap=read_bytes(ptr.Sap, ptr.SapLength))


def _nbl_from_c(inst: Instance, ptr: Any, name: str) -> Any:
    return inst.side.nbl_from_c(ptr)


def _oid_from_c(inst: Instance, ptr: Any, name: str) -> Any:
    return inst.side.oid_from_c(ptr)


def _string_from_c(inst: Instance, ptr: Any, name: str) -> Any:
    return _string(ptr)


def _driver_object_from_c(inst: Instance, ptr: Any, name: str) -> Any:
    if ptr == inst.c_driver_object:
        return inst.py_driver_object
    return inst.side.from_c(ptr)


def _lock_from_c(inst: Instance, ptr: Any, name: str) -> Any:
    addr = address(ptr)
    return inst.side.locks.get(addr, addr or None)


def _status_indication_from_c(inst: Instance, ptr: Any, name: str) -> Any:
    if ptr == ffi().NULL:
        return None
    return S.NDIS_STATUS_INDICATION(
        SourceHandle=inst.side.from_c(ptr.SourceHandle), PortNumber=ptr.PortNumber, StatusCode=ptr.StatusCode,
        Flags=ptr.Flags, DestinationHandle=inst.side.from_c(ptr.DestinationHandle),
        RequestId=inst.side.from_c(ptr.RequestId),
        StatusBuffer=read_bytes(ptr.StatusBuffer, ptr.StatusBufferSize) or None, StatusBufferSize=ptr.StatusBufferSize)


def _pool_parameters_from_c(inst: Instance, ptr: Any, name: str) -> Any:
    if ptr == ffi().NULL:
        return None
    return S.NET_BUFFER_LIST_POOL_PARAMETERS(
        Header=S.NDIS_OBJECT_HEADER(ptr.Header.Type, ptr.Header.Revision, ptr.Header.Size),
        ProtocolId=ptr.ProtocolId, fAllocateNetBuffer=bool(ptr.fAllocateNetBuffer), ContextSize=ptr.ContextSize,
        PoolTag=ptr.PoolTag, DataSize=ptr.DataSize)


def _timer_from_c(inst: Instance, ptr: Any, name: str) -> Any:
    if ptr == ffi().NULL:
        return None
    return S.NDIS_TIMER_CHARACTERISTICS(
        Header=S.NDIS_OBJECT_HEADER(ptr.Header.Type, ptr.Header.Revision, ptr.Header.Size),
        AllocationTag=ptr.AllocationTag, TimerFunction=thunk(inst, ptr.TimerFunction, "NDIS_TIMER_FUNCTION"),
        FunctionContext=inst.side.from_c(ptr.FunctionContext))


def _large_from_c(inst: Instance, value: Any, name: str) -> Any:
    return int(value.QuadPart)      # passed by address through the routine table


def _routine_from_c(inst: Instance, ptr: Any, name: str) -> Any:
    return thunk(inst, ptr, "NDIS_IO_WORKITEM_FUNCTION")


_FROM_C: dict[str, Callable[[Instance, Any, str], Any]] = {
    "NDIS_STATUS": _status_from_c,
    "NDIS_HANDLE": _handle_from_c,
    "PVOID": _handle_from_c,
    "PCO_CALL_PARAMETERS": _params_from_c,
    "PCO_ADDRESS_FAMILY": _af_from_c,
    "PCO_SAP": _sap_from_c,
    "PNET_BUFFER_LIST": _nbl_from_c,
    "PNDIS_OID_REQUEST": _oid_from_c,
    "PNDIS_STRING": _string_from_c,
    "PUNICODE_STRING": _string_from_c,
    "PDRIVER_OBJECT": _driver_object_from_c,
    "PNDIS_SPIN_LOCK": _lock_from_c,
    "PNDIS_STATUS_INDICATION": _status_indication_from_c,
    "PNET_BUFFER_LIST_POOL_PARAMETERS": _pool_parameters_from_c,
    "PNDIS_TIMER_CHARACTERISTICS": _timer_from_c,
    "LARGE_INTEGER": _large_from_c,
    "NDIS_IO_WORKITEM_ROUTINE": _routine_from_c,
}
