"""Support routines CoNDIS drivers lean on: spin locks and IRQL, I/O work items (NDIS's for
miniports, the kernel's for protocol drivers), timer objects, NET_BUFFER_LIST pools, and the TAPI and
WMI names of VCs.

Work items run at PASSIVE_LEVEL and timer functions at DISPATCH_LEVEL, as scheduled events
(ddi: nf-ndis-ndisqueueioworkitem.md, nf-ndis-ndissettimerobject.md; kernel/nf-wdm-ioqueueworkitemex.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from condis import _status as st
from condis._safe_repr import safe_repr
from condis.constants import DISPATCH_LEVEL, IRQL_NAMES, PASSIVE_LEVEL, DelayedWorkQueue
from condis.ndis import states as S
from condis.ndis.core import SUCCESS
from condis.ndis.objects import (
    SIDE_CLIENT,
    Adapter,
    Binding,
    DriverObject,
    IoWorkItem,
    MiniportDriver,
    NblPool,
    ProtocolDriver,
    SpinLock,
    TimerObject,
    VcHandle,
)
from condis.ndis.requests import RequestDdi
from condis.ndis.validate import int_fault, structure_fault
from condis.structs import (
    IO_WORKITEM,
    NDIS_TIMER_CHARACTERISTICS,
    NET_BUFFER,
    NET_BUFFER_LIST,
    NET_BUFFER_LIST_POOL_PARAMETERS,
)

_OWNERS = (Adapter, Binding, MiniportDriver, ProtocolDriver)
# ddi: nf-ndis-ndisallocateioworkitem.md — NDIS work items are for miniports (the adapter handle
# MiniportInitializeEx got, or the miniport driver handle), filters and NDIS device handles; protocol
# drivers cannot have them, since NDIS gives them no device object or driver object. condis models
# neither filters nor NDIS device handles.
_WORK_ITEM_OWNERS = (Adapter, MiniportDriver)
# The kernel's I/O work items, which protocol drivers use instead (ddi: nf-ndis-ndisallocateioworkitem.md
# points at IoAllocateWorkItem). IoAllocateWorkItem and IoQueueWorkItem need a device object, which a
# protocol driver does not have and condis does not model; the ones a driver object is enough for are
# IoInitializeWorkItem (with the driver's DRIVER_OBJECT), IoQueueWorkItemEx and IoUninitializeWorkItem.
# These pages are not in the reference pack (condis/_pages.py lists them with the pack's pages):
_IO_INIT = "kernel/nf-wdm-ioinitializeworkitem.md"
_IO_QUEUE = "kernel/nf-wdm-ioqueueworkitemex.md"
_IO_UNINIT = "kernel/nf-wdm-iouninitializeworkitem.md"
# Kernel routines that are host methods beside the DDIs of condis/_ddi_table.py: traced, and refused
# in record mode, as the DDIs are (condis/ndis/host.py).
KERNEL_ROUTINES = ("IoInitializeWorkItem", "IoQueueWorkItemEx", "IoUninitializeWorkItem")
# ddi: nf-ndis-ndisreleasespinlock.md — each acquire takes one release before the lock is acquired again
_RECIPROCAL = "ddi/nf-ndis-ndisreleasespinlock.md"


class SupportDdi(RequestDdi):
    """Spin locks, IRQL macros, work items, timers, NET_BUFFER_LISTs, TAPI call ids, instance names."""

    def __init__(self, name: str, sim: Any) -> None:
        super().__init__(name, sim)
        self._tapi: dict[bytes, Any] = {}
        # timer objects and work items allocated and not yet freed (the teardown checks look here)
        self._resources: set[IoWorkItem | TimerObject] = set()
        # kernel I/O work items initialized and not yet uninitialized (the teardown checks look here)
        self._io_work_items: set[IO_WORKITEM] = set()
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
        if lock.ndis is not self:
            # a spin lock is memory of one machine: another host's driver cannot reach it
            raise self._violate("SpinLock", ddi, f"{safe_repr(lock)} was allocated on host {lock.ndis.name!r}, not on this one")
        return lock

    def NdisAllocateSpinLock(self) -> SpinLock:
        """Returns the initialized NDIS_SPIN_LOCK (the function's SpinLock OUT parameter)."""
        lock = SpinLock(ndis=self)
        lock.allocated = True
        return lock

    def NdisFreeSpinLock(self, SpinLock: SpinLock) -> None:
        lock = self._lock("NdisFreeSpinLock", SpinLock)
        if lock.owner is not None:
            raise self._violate("SpinLock", "NdisFreeSpinLock", f"{safe_repr(lock)} is still held; release it first",
                                page="ddi/nf-ndis-ndisfreespinlock.md")
        lock.allocated = False

    def NdisAcquireSpinLock(self, _SpinLock: SpinLock) -> None:
        ddi = "NdisAcquireSpinLock"
        if self._irql > DISPATCH_LEVEL:
            raise self._at_dirql(ddi)
        lock = self._lock(ddi, _SpinLock)
        if lock.owner is not None:
            raise self._violate("SpinLock", ddi, f"{safe_repr(lock)} is already held; acquiring it again deadlocks this "
                                "processor", page=_RECIPROCAL)
        lock.old_irql = self._irql
        lock.owner = self
        lock.acquired_by = ddi
        self._irql = DISPATCH_LEVEL
        self._locks_held += 1

    def _releasing(self, ddi: str, lock: SpinLock, acquire: str) -> None:
        """The lock is held, and was acquired with ``acquire``, the function its releaser pairs with.

        ddi: nf-ndis-ndisreleasespinlock.md, nf-ndis-ndisdprreleasespinlock.md — a lock taken with
        NdisAcquireSpinLock is released with NdisReleaseSpinLock (which restores the IRQL it was taken
        at), one taken with NdisDprAcquireSpinLock with NdisDprReleaseSpinLock (which leaves the IRQL
        at DISPATCH_LEVEL): crossing them leaves the IRQL wrong.
        """
        if lock.owner is None:
            raise self._violate("SpinLock", ddi, f"{lock!r} is not held", page=_RECIPROCAL)
        if lock.acquired_by != acquire:
            raise self._violate("SpinLock", ddi,
                                f"{lock!r} was acquired with {lock.acquired_by}; release it with the function "
                                f"that pairs with that one, not {ddi}",
                                page=f"ddi/nf-ndis-{ddi.lower()}.md")

    def NdisReleaseSpinLock(self, _SpinLock: SpinLock) -> None:
        ddi = "NdisReleaseSpinLock"
        if self._irql > DISPATCH_LEVEL:
            raise self._at_dirql(ddi)
        lock = self._lock(ddi, _SpinLock)
        self._releasing(ddi, lock, "NdisAcquireSpinLock")
        self._dispatch_only(ddi)
        lock.owner = None
        self._locks_held -= 1
        self._irql = lock.old_irql

    def NdisDprAcquireSpinLock(self, _SpinLock: SpinLock) -> None:
        ddi = "NdisDprAcquireSpinLock"
        if self._irql > DISPATCH_LEVEL:
            raise self._at_dirql(ddi)
        lock = self._lock(ddi, _SpinLock)
        self._dispatch_only(ddi)
        if lock.owner is not None:
            raise self._violate("SpinLock", ddi, f"{safe_repr(lock)} is already held; acquiring it again deadlocks",
                                page=_RECIPROCAL)
        lock.old_irql = DISPATCH_LEVEL
        lock.owner = self
        lock.acquired_by = ddi
        self._locks_held += 1

    def NdisDprReleaseSpinLock(self, _SpinLock: SpinLock) -> None:
        ddi = "NdisDprReleaseSpinLock"
        if self._irql > DISPATCH_LEVEL:
            raise self._at_dirql(ddi)
        lock = self._lock(ddi, _SpinLock)
        self._dispatch_only(ddi)
        self._releasing(ddi, lock, "NdisDprAcquireSpinLock")
        lock.owner = None
        self._locks_held -= 1

    def NDIS_RAISE_IRQL_TO_DISPATCH(self) -> int:
        """Raise to DISPATCH_LEVEL; returns the previous IRQL (the macro's _pIrql_ OUT value)."""
        if self._irql > DISPATCH_LEVEL:     # "raising" from DIRQL would lower the IRQL
            raise self._at_dirql("NDIS_RAISE_IRQL_TO_DISPATCH")
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
        if self._irql > DISPATCH_LEVEL:
            raise self._at_dirql(ddi)
        if not isinstance(h, _OWNERS) or h.ndis is not self:
            raise self._violate("condis.BadHandle", ddi,
                                f"{param} must be a miniport adapter, binding or driver handle of this host; got "
                                f"{safe_repr(h)}")
        return h

    def NdisAllocateIoWorkItem(self, NdisObjectHandle: Any) -> IoWorkItem | None:
        ddi = "NdisAllocateIoWorkItem"
        owner = self._owner_arg(ddi, NdisObjectHandle, "NdisObjectHandle")
        if not isinstance(owner, _WORK_ITEM_OWNERS):
            raise self._violate("condis.WorkItem", ddi,
                                f"NdisObjectHandle is {owner!r}, a protocol driver's handle; NDIS work items are "
                                "for miniport drivers (their adapter handle or miniport driver handle): a protocol "
                                "driver defers work with a kernel work item (IoInitializeWorkItem, "
                                "IoQueueWorkItemEx)", page="ddi/nf-ndis-ndisallocateioworkitem.md")
        if self._fail_alloc is not None and self._fail_alloc("NdisAllocateIoWorkItem"):
            return None     # ddi: nf-ndis-ndisallocateioworkitem.md returns NULL when it cannot allocate
        wi = IoWorkItem(self, self._next_id(), owner)
        self._resources.add(wi)
        return wi

    def NdisQueueIoWorkItem(self, NdisIoWorkItemHandle: IoWorkItem, Routine: Callable[[Any, Any], None],
                            WorkItemContext: Any) -> None:
        ddi = "NdisQueueIoWorkItem"
        if self._irql > DISPATCH_LEVEL:
            raise self._at_dirql(ddi)
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
        if self._irql > DISPATCH_LEVEL:
            raise self._at_dirql(ddi)
        wi = NdisIoWorkItemHandle
        if type(wi) is not IoWorkItem or wi.ndis is not self or wi.state == S.FREED:
            raise self._bad_handle(ddi, "NdisIoWorkItemHandle", wi, IoWorkItem)
        if wi.event is not None:
            raise self._violate("condis.WorkItem", ddi, f"{wi!r} is still queued; free it from its routine or after")
        wi.state = S.FREED
        self._resources.discard(wi)

    # ------------------------------------------------------------------ kernel work items

    def _io_work_item(self, ddi: str, item: Any, page: str) -> IO_WORKITEM:
        if type(item) is not IO_WORKITEM:
            raise self._violate("condis.IoWorkItem", ddi,
                                f"IoWorkItem must be an IO_WORKITEM (the caller's storage for one); got {item!r}",
                                page=page)
        if item.host is not None and item.host is not self:
            raise self._violate("condis.IoWorkItem", ddi,
                                f"{item!r} was initialized on host {item.host.name!r}, not on this one", page=page)
        return item

    def IoInitializeWorkItem(self, IoObject: DriverObject, IoWorkItem: IO_WORKITEM) -> None:
        """Set up a work item in the caller's storage for the driver whose DRIVER_OBJECT is ``IoObject``."""
        ddi = "IoInitializeWorkItem"
        item = self._io_work_item(ddi, IoWorkItem, _IO_INIT)
        drv = self._by_driver_object.get(id(IoObject)) if isinstance(IoObject, DriverObject) else None
        if drv is None or drv.state == S.DRIVER_UNLOADED:
            # kernel/nf-wdm-ioinitializeworkitem.md: the caller's driver object or one of its device
            # objects; condis has no device objects, and a work item queued with IoQueueWorkItemEx
            # needs none
            raise self._violate("condis.IoWorkItem", ddi,
                                f"IoObject must be the DRIVER_OBJECT this host passed the caller's DriverEntry; "
                                f"got {IoObject!r}", page=_IO_INIT)
        if item.event is not None:
            raise self._violate("condis.IoWorkItem", ddi,
                                f"{item!r} is queued and its routine has not run; initializing it again would take "
                                "it from the work queue", page=_IO_INIT)
        if item.io_object is None:
            item.id = self._next_id()
        item.host, item.io_object, item.owner = self, IoObject, drv
        self._io_work_items.add(item)

    def IoQueueWorkItemEx(self, IoWorkItem: IO_WORKITEM, WorkerRoutine: Callable[[Any, Any, Any], None],
                          QueueType: int, Context: Any) -> None:
        """Queue ``WorkerRoutine(IoObject, Context, IoWorkItem)`` to run at PASSIVE_LEVEL."""
        ddi = "IoQueueWorkItemEx"
        if self._irql > DISPATCH_LEVEL:
            raise self._violate("condis.IoWorkItem", ddi,
                                "called at DIRQL (from an interrupt); its page allows <= DISPATCH_LEVEL", page=_IO_QUEUE)
        item = self._io_work_item(ddi, IoWorkItem, _IO_QUEUE)
        if item.io_object is None:
            raise self._violate("condis.IoWorkItem", ddi,
                                f"{item!r} is not initialized; set it up with IoInitializeWorkItem first",
                                page=_IO_QUEUE)
        if item.event is not None:
            # one work item is one entry of the queue: queue it again from its routine, or after
            raise self._violate("condis.IoWorkItem", ddi, f"{item!r} is already queued and has not run yet",
                                page=_IO_QUEUE)
        if not callable(WorkerRoutine):
            raise self._violate("condis.IoWorkItem", ddi, f"WorkerRoutine must be callable, got {WorkerRoutine!r}",
                                page=_IO_QUEUE)
        if QueueType != DelayedWorkQueue:
            raise self._violate("condis.IoWorkItem", ddi,
                                f"QueueType is {QueueType!r}; drivers pass DelayedWorkQueue ({DelayedWorkQueue})",
                                page=_IO_QUEUE)
        drv = item.owner
        item.event = self.sim.scheduler.schedule(0, self._run_io_work_item, (item, WorkerRoutine, Context),
                                                 kind="work item", label=getattr(WorkerRoutine, "__name__", "work item"),
                                                 host=self, irql=PASSIVE_LEVEL,
                                                 owner=drv.protocol if drv.protocol is not None else drv.miniport)

    def _run_io_work_item(self, item: IO_WORKITEM, routine: Callable[[Any, Any, Any], None], ctx: Any) -> None:
        item.event = None
        self._up(routine, "WorkItemRoutine", item.io_object, ctx, item)

    def IoUninitializeWorkItem(self, IoWorkItem: IO_WORKITEM) -> None:
        """Undo IoInitializeWorkItem, before the caller frees the storage (also from the item's routine)."""
        ddi = "IoUninitializeWorkItem"
        item = self._io_work_item(ddi, IoWorkItem, _IO_UNINIT)
        if item.io_object is None:
            raise self._violate("condis.IoWorkItem", ddi,
                                f"{item!r} is not initialized (never, or uninitialized already)", page=_IO_UNINIT)
        if item.event is not None:
            raise self._violate("condis.IoWorkItem", ddi,
                                f"{item!r} is still queued; uninitialize it from its routine or after it ran",
                                page=_IO_UNINIT)
        item.io_object = item.owner = None
        self._io_work_items.discard(item)

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
        self._param(ddi, structure_fault(TimerCharacteristics, NDIS_TIMER_CHARACTERISTICS, "TimerCharacteristics"))
        if not callable(TimerCharacteristics.TimerFunction):
            # ddi: nf-ndis-ndisallocatetimerobject.md — invalid characteristics are a documented status
            return st.NDIS_STATUS_BAD_CHARACTERISTICS, None
        if self._fail_alloc is not None and self._fail_alloc(ddi):
            return st.NDIS_STATUS_RESOURCES, None
        # NDIS keeps its own copy of the characteristics: the driver's structure may change or go away.
        chars = NDIS_TIMER_CHARACTERISTICS(TimerCharacteristics.Header, TimerCharacteristics.AllocationTag,
                                           TimerCharacteristics.TimerFunction, TimerCharacteristics.FunctionContext)
        t = TimerObject(self, self._next_id(), owner, chars)
        t.context = chars.FunctionContext
        self._resources.add(t)
        return SUCCESS, t

    def _timer(self, ddi: str, t: Any) -> TimerObject:
        if type(t) is not TimerObject or t.ndis is not self or t.state == S.FREED:
            raise self._violate("condis.Timer", ddi, f"TimerObject must be a live timer object; got {safe_repr(t)}")
        return t

    def NdisSetTimerObject(self, TimerObject: TimerObject, DueTime: int, MillisecondsPeriod: int = 0,
                           FunctionContext: Any = None) -> bool:
        """Arm a timer; DueTime is in 100 ns units, negative for relative (returns True if it was armed)."""
        ddi = "NdisSetTimerObject"
        if self._irql > DISPATCH_LEVEL:
            raise self._at_dirql(ddi)
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
        ddi = "NdisCancelTimerObject"
        t = self._timer(ddi, TimerObject)
        # ddi: nf-ndis-ndiscanceltimerobject.md, remarks: a periodic timer (set with a nonzero
        # MillisecondsPeriod) is cancelled at PASSIVE_LEVEL, since NDIS waits for queued DPCs; a
        # one-shot timer at DISPATCH_LEVEL or below.
        limit = PASSIVE_LEVEL if t.period_ms else DISPATCH_LEVEL
        if self._irql > limit:
            kind = f"a periodic timer ({t.period_ms} ms)" if t.period_ms else "a one-shot timer"
            raise self._violate("Irql_Timer_Function", ddi,
                                f"cancels {kind} at {IRQL_NAMES.get(self._irql, self._irql)}; its page requires "
                                f"{IRQL_NAMES[limit]}{'' if t.period_ms else ' or below'} for {kind.split(' (')[0]}")
        t.period_ms = 0
        return self._cancel_timer(t)

    def NdisFreeTimerObject(self, TimerObject: TimerObject) -> None:
        ddi = "NdisFreeTimerObject"
        if self._irql > DISPATCH_LEVEL:
            raise self._at_dirql(ddi)
        t = self._timer(ddi, TimerObject)
        self._cancel_timer(t)
        t.state = S.FREED
        self._resources.discard(t)

    # ------------------------------------------------------------------ NET_BUFFER_LISTs

    def NdisAllocateNetBufferListPool(self, NdisHandle: Any, Parameters: NET_BUFFER_LIST_POOL_PARAMETERS
                                      ) -> NblPool | None:
        ddi = "NdisAllocateNetBufferListPool"
        if self._irql > DISPATCH_LEVEL:
            raise self._at_dirql(ddi)
        owner = None if NdisHandle is None else self._owner_arg(ddi, NdisHandle, "NdisHandle")
        self._param(ddi, structure_fault(Parameters, NET_BUFFER_LIST_POOL_PARAMETERS, "Parameters"))
        if Parameters.DataSize and not Parameters.fAllocateNetBuffer:
            raise self._violate("condis.NblPool", ddi,
                                f"Parameters.DataSize is {Parameters.DataSize} with fAllocateNetBuffer FALSE; data "
                                "buffers come with NET_BUFFERs, so a DataSize needs fAllocateNetBuffer TRUE",
                                page="support/ns-nblapi-net_buffer_list_pool_parameters.md")
        if self._fail_alloc is not None and self._fail_alloc(ddi):
            return None
        return NblPool(self, self._next_id(), owner, Parameters)

    def NdisFreeNetBufferListPool(self, PoolHandle: NblPool) -> None:
        ddi = "NdisFreeNetBufferListPool"
        pool = self._pool(ddi, PoolHandle)
        if pool.outstanding:
            raise self._violate("condis.NblState", ddi,
                                f"{pool!r} still has {pool.outstanding} NET_BUFFER_LIST(s) allocated; free them first",
                                page="ddi/nf-nblapi-ndisfreenetbufferlistpool.md")
        pool.state = S.FREED

    def _pool(self, ddi: str, pool: Any) -> NblPool:
        if self._irql > DISPATCH_LEVEL:
            raise self._at_dirql(ddi)
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
        params = pool.params
        if not params.fAllocateNetBuffer or params.DataSize:
            # ddi: nf-nblapi-ndisallocatenetbufferandnetbufferlist.md — the pool pairs each
            # NET_BUFFER_LIST with a NET_BUFFER and no data buffer: fAllocateNetBuffer TRUE, DataSize 0
            raise self._violate("condis.NblPool", ddi,
                                f"{pool!r} was allocated with fAllocateNetBuffer={params.fAllocateNetBuffer} and "
                                f"DataSize={params.DataSize}; this function needs a pool allocated with "
                                "fAllocateNetBuffer TRUE and DataSize 0")
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
        if self._irql > DISPATCH_LEVEL:
            raise self._at_dirql(ddi)
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
        if nbl in self._received:
            raise self._violate("condis.NblState", ddi,
                                f"{nbl!r} was indicated to {self._received[nbl]!r}, which owns it until it returns it "
                                "with NdisReturnNetBufferLists")
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
        if self._irql > DISPATCH_LEVEL:
            raise self._at_dirql("NdisClGetProtocolVcContextFromTapiCallId")
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

