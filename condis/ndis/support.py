"""Support routines CoNDIS drivers lean on: spin locks and IRQL, I/O work items, timer objects,
NET_BUFFER_LIST pools, and the TAPI and WMI names of VCs.

Work items run at PASSIVE_LEVEL and timer functions at DISPATCH_LEVEL, as scheduled events
(ddi: nf-ndis-ndisqueueioworkitem.md, nf-ndis-ndissettimerobject.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from condis import _status as st
from condis._safe_repr import safe_repr
from condis.constants import DISPATCH_LEVEL, IRQL_NAMES, PASSIVE_LEVEL
from condis.ndis import states as S
from condis.ndis.core import SUCCESS
from condis.ndis.objects import (
    SIDE_CLIENT,
    Adapter,
    Binding,
    IoWorkItem,
    MiniportDriver,
    NblPool,
    ProtocolDriver,
    SpinLock,
    TimerObject,
    VcHandle,
)
from condis.ndis.requests import RequestDdi
from condis.ndis.validate import int_fault, structure_fault, timer_characteristics_fault
from condis.structs import NDIS_TIMER_CHARACTERISTICS, NET_BUFFER, NET_BUFFER_LIST, NET_BUFFER_LIST_POOL_PARAMETERS

_OWNERS = (Adapter, Binding, MiniportDriver, ProtocolDriver)


class SupportDdi(RequestDdi):
    """Spin locks, IRQL macros, work items, timers, NET_BUFFER_LISTs, TAPI call ids, instance names."""

    def __init__(self, name: str, sim: Any) -> None:
        super().__init__(name, sim)
        self._tapi: dict[bytes, Any] = {}
        # Low-resources simulation, as Driver Verifier's: the explorer's fault injector (when the
        # simulation has one) may fail any allocation below, as NDIS does when memory runs out.
        faults = getattr(sim, "faults", None)
        self._fail_alloc: Callable[[str], bool] | None = faults.allocation if faults is not None else None

    # ------------------------------------------------------------------ spin locks and IRQL

    def _lock(self, ddi: str, lock: Any) -> SpinLock:
        if type(lock) is not SpinLock or not lock.allocated:
            raise self._violate("condis.BadParameter", ddi,
                                f"_SpinLock must be an NDIS_SPIN_LOCK initialized by NdisAllocateSpinLock; got "
                                f"{safe_repr(lock)}")
        return lock

    def NdisAllocateSpinLock(self) -> SpinLock:
        """Returns the initialized NDIS_SPIN_LOCK (the function's SpinLock OUT parameter)."""
        lock = SpinLock()
        lock.allocated = True
        return lock

    def NdisFreeSpinLock(self, SpinLock: SpinLock) -> None:
        lock = self._lock("NdisFreeSpinLock", SpinLock)
        if lock.owner is not None:
            raise self._violate("SpinLock", "NdisFreeSpinLock", f"{safe_repr(lock)} is still held")
        lock.allocated = False

    def NdisAcquireSpinLock(self, _SpinLock: SpinLock) -> None:
        ddi = "NdisAcquireSpinLock"
        lock = self._lock(ddi, _SpinLock)
        if lock.owner is not None:
            raise self._violate("SpinLock", ddi, f"{safe_repr(lock)} is already held; acquiring it again deadlocks this "
                                "processor")
        lock.old_irql = self._irql
        lock.owner = self
        self._irql = DISPATCH_LEVEL
        self._locks_held += 1

    def NdisReleaseSpinLock(self, _SpinLock: SpinLock) -> None:
        ddi = "NdisReleaseSpinLock"
        lock = self._lock(ddi, _SpinLock)
        if lock.owner is None:
            raise self._violate("SpinLock", ddi, f"{safe_repr(lock)} is not held")
        self._dispatch_only(ddi)
        lock.owner = None
        self._locks_held -= 1
        self._irql = lock.old_irql

    def NdisDprAcquireSpinLock(self, _SpinLock: SpinLock) -> None:
        ddi = "NdisDprAcquireSpinLock"
        lock = self._lock(ddi, _SpinLock)
        self._dispatch_only(ddi)
        if lock.owner is not None:
            raise self._violate("SpinLock", ddi, f"{safe_repr(lock)} is already held; acquiring it again deadlocks")
        lock.old_irql = DISPATCH_LEVEL
        lock.owner = self
        self._locks_held += 1

    def NdisDprReleaseSpinLock(self, _SpinLock: SpinLock) -> None:
        ddi = "NdisDprReleaseSpinLock"
        lock = self._lock(ddi, _SpinLock)
        self._dispatch_only(ddi)
        if lock.owner is None:
            raise self._violate("SpinLock", ddi, f"{safe_repr(lock)} is not held")
        lock.owner = None
        self._locks_held -= 1

    def NDIS_RAISE_IRQL_TO_DISPATCH(self) -> int:
        """Raise to DISPATCH_LEVEL; returns the previous IRQL (the macro's _pIrql_ OUT value)."""
        old = self._irql
        self._irql = DISPATCH_LEVEL
        return old

    def NDIS_LOWER_IRQL(self, _OldIrql_: int, _CurIrql_: int) -> None:
        ddi = "NDIS_LOWER_IRQL"
        if (type(_OldIrql_) is not int or type(_CurIrql_) is not int or _CurIrql_ != self._irql
                or _OldIrql_ not in IRQL_NAMES or _OldIrql_ > _CurIrql_):
            raise self._violate("Irql_IrqlSetting_Function", ddi,
                                f"lowering from {safe_repr(_CurIrql_)} to {safe_repr(_OldIrql_)} while running at "
                                f"{IRQL_NAMES[self._irql]}; pass the IRQL NDIS_RAISE_IRQL_TO_DISPATCH returned")
        self._irql = _OldIrql_

    # ------------------------------------------------------------------ work items

    def _owner_arg(self, ddi: str, h: Any, param: str) -> Any:
        if not isinstance(h, _OWNERS) or h.ndis is not self:
            raise self._violate("condis.BadHandle", ddi,
                                f"{param} must be a miniport adapter, binding or driver handle of this host; got "
                                f"{safe_repr(h)}")
        return h

    def NdisAllocateIoWorkItem(self, NdisObjectHandle: Any) -> IoWorkItem | None:
        owner = self._owner_arg("NdisAllocateIoWorkItem", NdisObjectHandle, "NdisObjectHandle")
        if self._fail_alloc is not None and self._fail_alloc("NdisAllocateIoWorkItem"):
            return None     # ddi: nf-ndis-ndisallocateioworkitem.md returns NULL when it cannot allocate
        return IoWorkItem(self, self._next_id(), owner)

    def NdisQueueIoWorkItem(self, NdisIoWorkItemHandle: IoWorkItem, Routine: Callable[[Any, Any], None],
                            WorkItemContext: Any) -> None:
        ddi = "NdisQueueIoWorkItem"
        wi = NdisIoWorkItemHandle
        if type(wi) is not IoWorkItem or wi.ndis is not self or wi.state == S.FREED:
            raise self._bad_handle(ddi, "NdisIoWorkItemHandle", wi, IoWorkItem)
        if wi.event is not None:
            raise self._violate("condis.WorkItem", ddi, f"{wi!r} is already queued and has not run yet")
        if not callable(Routine):
            raise self._violate("condis.BadParameter", ddi, f"Routine must be callable, got {safe_repr(Routine)}")
        wi.event = self.sim.scheduler.schedule(0, self._run_work_item, (wi, Routine, WorkItemContext),
                                               kind="work item", label=getattr(Routine, "__name__", "work item"),
                                               host=self, irql=PASSIVE_LEVEL, owner=self._driver_of_owner(wi.owner))

    def _run_work_item(self, wi: IoWorkItem, routine: Callable[[Any, Any], None], ctx: Any) -> None:
        wi.event = None
        self._up(routine, "WorkItemRoutine", ctx, wi)

    def NdisFreeIoWorkItem(self, NdisIoWorkItemHandle: IoWorkItem) -> None:
        ddi = "NdisFreeIoWorkItem"
        wi = NdisIoWorkItemHandle
        if type(wi) is not IoWorkItem or wi.ndis is not self or wi.state == S.FREED:
            raise self._bad_handle(ddi, "NdisIoWorkItemHandle", wi, IoWorkItem)
        if wi.event is not None:
            raise self._violate("condis.WorkItem", ddi, f"{wi!r} is still queued; free it from its routine or after")
        wi.state = S.FREED

    def _driver_of_owner(self, owner: Any) -> Any:
        if isinstance(owner, Adapter):
            return owner.miniport
        if isinstance(owner, Binding):
            return owner.protocol
        return owner

    # ------------------------------------------------------------------ timers

    def NdisAllocateTimerObject(self, NdisHandle: Any, TimerCharacteristics: NDIS_TIMER_CHARACTERISTICS
                                ) -> tuple[int, TimerObject | None]:
        ddi = "NdisAllocateTimerObject"
        owner = self._owner_arg(ddi, NdisHandle, "NdisHandle")
        self._param(ddi, timer_characteristics_fault(TimerCharacteristics))
        if self._fail_alloc is not None and self._fail_alloc(ddi):
            return st.NDIS_STATUS_RESOURCES, None
        # NDIS keeps its own copy of the characteristics: the driver's structure may change or go away.
        chars = NDIS_TIMER_CHARACTERISTICS(TimerCharacteristics.Header, TimerCharacteristics.AllocationTag,
                                           TimerCharacteristics.TimerFunction, TimerCharacteristics.FunctionContext)
        t = TimerObject(self, self._next_id(), owner, chars)
        t.context = chars.FunctionContext
        return SUCCESS, t

    def _timer(self, ddi: str, t: Any) -> TimerObject:
        if type(t) is not TimerObject or t.ndis is not self or t.state == S.FREED:
            raise self._violate("condis.Timer", ddi, f"TimerObject must be a live timer object; got {safe_repr(t)}")
        return t

    def NdisSetTimerObject(self, TimerObject: TimerObject, DueTime: int, MillisecondsPeriod: int = 0,
                           FunctionContext: Any = None) -> bool:
        """Arm a timer; DueTime is in 100 ns units, negative for relative (returns True if it was armed)."""
        ddi = "NdisSetTimerObject"
        t = self._timer(ddi, TimerObject)
        if type(DueTime) is not int:
            raise self._violate("condis.BadParameter", ddi,
                                f"DueTime must be an int of 100 ns units, got {safe_repr(DueTime)}")
        # ddi: nf-ndis-ndissettimerobject.md — MillisecondsPeriod is a ULONG: 0 for a one-shot timer
        self._param(ddi, None if MillisecondsPeriod is None else int_fault(MillisecondsPeriod, "MillisecondsPeriod", 0))
        was = self._cancel_timer(t)
        now = self.sim.scheduler.now
        delay = -DueTime * 100 if DueTime < 0 else max(0, DueTime * 100 - now)
        t.period_ms = MillisecondsPeriod or 0
        if FunctionContext is not None:
            t.context = FunctionContext
        self._arm(t, delay)
        return was

    def _arm(self, t: TimerObject, delay: int) -> None:
        t.event = self.sim.scheduler.schedule(delay, self._fire_timer, (t,), kind="timer",
                                              label=getattr(t.chars.TimerFunction, "__name__", "timer"), host=self,
                                              irql=DISPATCH_LEVEL, owner=self._driver_of_owner(t.owner))

    def _fire_timer(self, t: TimerObject) -> None:
        t.event = None
        if t.period_ms:
            self._arm(t, t.period_ms * 1_000_000)
        self._up(t.chars.TimerFunction, "TimerFunction", None, t.context, None, None)

    def _cancel_timer(self, t: TimerObject) -> bool:
        if t.event is None:
            return False
        self.sim.scheduler.cancel(t.event)
        t.event = None
        return True

    def NdisCancelTimerObject(self, TimerObject: TimerObject) -> bool:
        t = self._timer("NdisCancelTimerObject", TimerObject)
        t.period_ms = 0
        return self._cancel_timer(t)

    def NdisFreeTimerObject(self, TimerObject: TimerObject) -> None:
        t = self._timer("NdisFreeTimerObject", TimerObject)
        self._cancel_timer(t)
        t.state = S.FREED

    # ------------------------------------------------------------------ NET_BUFFER_LISTs

    def NdisAllocateNetBufferListPool(self, NdisHandle: Any, Parameters: NET_BUFFER_LIST_POOL_PARAMETERS
                                      ) -> NblPool | None:
        ddi = "NdisAllocateNetBufferListPool"
        owner = None if NdisHandle is None else self._owner_arg(ddi, NdisHandle, "NdisHandle")
        self._param(ddi, structure_fault(Parameters, NET_BUFFER_LIST_POOL_PARAMETERS, "Parameters"))
        if self._fail_alloc is not None and self._fail_alloc(ddi):
            return None
        return NblPool(self, self._next_id(), owner, Parameters)

    def NdisFreeNetBufferListPool(self, PoolHandle: NblPool) -> None:
        ddi = "NdisFreeNetBufferListPool"
        pool = self._pool(ddi, PoolHandle)
        if pool.outstanding:
            raise self._violate("condis.NblState", ddi,
                                f"{pool!r} still has {pool.outstanding} NET_BUFFER_LIST(s) allocated; free them first")
        pool.state = S.FREED

    def _pool(self, ddi: str, pool: Any) -> NblPool:
        if type(pool) is not NblPool or pool.ndis is not self or pool.state == S.FREED:
            raise self._bad_handle(ddi, "PoolHandle", pool, NblPool)
        return pool

    def NdisAllocateNetBufferAndNetBufferList(self, PoolHandle: NblPool, ContextSize: int, ContextBackFill: int,
                                              MdlChain: bytes | None, DataOffset: int, DataLength: int
                                              ) -> NET_BUFFER_LIST | None:
        """Allocate a NET_BUFFER_LIST with one NET_BUFFER over ``MdlChain`` (the data, as bytes)."""
        ddi = "NdisAllocateNetBufferAndNetBufferList"
        pool = self._pool(ddi, PoolHandle)
        if MdlChain is not None and not isinstance(MdlChain, (bytes, bytearray, memoryview)):
            raise self._violate("condis.BadParameter", ddi,
                                f"MdlChain must be the data as bytes (or NULL), got {type(MdlChain).__name__} "
                                f"{safe_repr(MdlChain)}")
        for param, value in (("ContextSize", ContextSize), ("ContextBackFill", ContextBackFill),
                             ("DataOffset", DataOffset), ("DataLength", DataLength)):
            self._param(ddi, int_fault(value, param))
        data = b"" if MdlChain is None else bytes(MdlChain)
        if DataOffset < 0 or DataLength < 0 or DataOffset + DataLength > len(data):
            raise self._violate("condis.BadParameter", ddi,
                                f"DataOffset {DataOffset} + DataLength {DataLength} exceed the {len(data)}-byte MdlChain")
        if self._fail_alloc is not None and self._fail_alloc(ddi):
            return None
        nb = NET_BUFFER(Data=data, DataOffset=DataOffset, DataLength=DataLength)
        nbl = NET_BUFFER_LIST(FirstNetBuffer=nb, Pool=pool)
        pool.allocated.add(nbl)
        pool.outstanding += 1
        return nbl

    def NdisFreeNetBufferList(self, NetBufferList: NET_BUFFER_LIST) -> None:
        ddi = "NdisFreeNetBufferList"
        nbl = NetBufferList
        pool = getattr(nbl, "Pool", None) if type(nbl) is NET_BUFFER_LIST else None
        if type(pool) is not NblPool or pool.ndis is not self:
            raise self._violate("condis.NblState", ddi,
                                f"{safe_repr(nbl)} was not allocated by NdisAllocateNetBufferAndNetBufferList on this "
                                "host")
        if nbl not in pool.allocated:
            # NDIS knows every list it allocated: one it never allocated from this pool, or one
            # already freed, is not the driver's to free.
            already = getattr(nbl, "Freed", False) is True
            raise self._violate("condis.NblState", ddi,
                                f"{safe_repr(nbl)} is already freed" if already else
                                f"{safe_repr(nbl)} names {pool!r} but was never allocated from it "
                                "(NdisAllocateNetBufferAndNetBufferList)")
        src = getattr(nbl, "SourceHandle", None)
        if type(src) is VcHandle and src.vc.sends and nbl in src.vc.sends:
            raise self._violate("condis.NblState", ddi,
                                f"{nbl!r} is still being sent on VC {src.vc.id:#x}; free it after its send completes")
        nbl.Freed = True
        pool.allocated.discard(nbl)
        pool.outstanding -= 1

    # ------------------------------------------------------------------ TAPI and WMI names

    def NdisCoGetTapiCallId(self, NdisVcHandle: VcHandle) -> tuple[int, bytes | None]:
        """The TAPI call id of a VC (the VAR_STRING contents, as bytes)."""
        vc = self._vch("NdisCoGetTapiCallId", NdisVcHandle, (SIDE_CLIENT,) + ("call manager", "MCM"))
        if vc.tapi_call_id is None:
            vc.tapi_call_id = f"{self.name}:{vc.id:08x}".encode()
            self._tapi[vc.tapi_call_id] = vc
        return SUCCESS, vc.tapi_call_id

    def NdisClGetProtocolVcContextFromTapiCallId(self, TapiCallId: bytes) -> tuple[int, Any]:
        vc = self._tapi.get(bytes(TapiCallId)) if isinstance(TapiCallId, (bytes, bytearray)) else None
        if vc is None or vc.deleted or vc.af is None:
            return st.NDIS_STATUS_FAILURE, None
        return SUCCESS, vc.client_context

    def NdisCoAssignInstanceName(self, NdisVcHandle: VcHandle, BaseInstanceName: str) -> tuple[int, str | None]:
        """Give a VC a WMI instance name made of its NDIS-assigned id and ``BaseInstanceName``."""
        ddi = "NdisCoAssignInstanceName"
        vc = self._vch(ddi, NdisVcHandle, (SIDE_CLIENT, "call manager", "MCM", "miniport"))
        if NdisVcHandle.side == "MCM":
            # ddi: nf-ndis-ndiscoassigninstancename.md — an MCM may not name its VCs this way
            raise self._violate("condis.WrongCaller", ddi,
                                f"{NdisVcHandle!r} is an MCM's handle; an integrated MCM does not name its VCs with "
                                "NdisCoAssignInstanceName", vc=vc)
        if not isinstance(BaseInstanceName, str):
            raise self._violate("condis.BadParameter", ddi,
                                f"BaseInstanceName must be a string, got {safe_repr(BaseInstanceName)}")
        vc.instance_name = f"[{vc.id:016x}] {BaseInstanceName}"
        return SUCCESS, vc.instance_name

