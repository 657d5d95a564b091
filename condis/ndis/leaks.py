"""What drivers left behind: the teardown checks of a host.

NDIS checks at four moments (issue: the verifier; Driver Verifier does the same at halt and unload):

- after MiniportHaltEx returns: nothing may remain on the adapter — VCs, AFs the MCM registered,
  requests its handlers pended, sends it never completed, its timers or work items still queued
  or still allocated (guide: halting-a-miniport-adapter.md; ddi: nc-ndis-miniport_halt.md, which
  has MiniportHaltEx free every resource of the device, and nf-ndis-ndisallocateioworkitem.md);
- after NdisCloseAdapterEx closes a binding: nothing of that protocol may remain on it — VCs it
  created or shares, AFs and SAPs, OID requests it made, received NET_BUFFER_LISTs it kept, timers or work items it
  queued for the binding (guide: unbinding-from-an-adapter.md, deleting-a-vc.md,
  receiving-net-buffer-structures-in-condis-drivers.md);
- after a driver's unload routine returns: no timer or work item of the driver may still be queued
  or allocated (guide: initializing-a-protocol-driver.md, initializing-a-miniport-driver.md; ddi:
  nf-ndis-ndisallocateioworkitem.md, nf-ndis-ndisfreetimerobject.md), nor a kernel work item it
  initialized with its DRIVER_OBJECT still queued or not uninitialized (the driver frees its storage
  as it unloads: kernel/nf-wdm-ioinitializeworkitem.md, nf-wdm-iouninitializeworkitem.md);
- when a run ends (``Simulation.finish``): everything above, on every host.

Each finding is a ``(rule, message)`` pair, or ``(rule, message, page)`` where a page states the
case more precisely than the rule's own; the rules are the ``condis.Leak*`` and
``condis.NeverCompleted`` entries of :mod:`condis.rules`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from condis._safe_repr import safe_repr
from condis.ndis import states as S
from condis.structs import IO_WORKITEM

Finding = tuple[str, ...]

# call state -> (the handler that pended, the Complete function an MCM / a call manager calls)
_PENDED = {
    S.CALL_MAKING: ("ProtocolCmMakeCall", "MakeCallComplete"),
    S.CALL_CLOSING: ("ProtocolCmCloseCall", "CloseCallComplete"),
    S.CALL_MODIFYING: ("ProtocolCmModifyCallQoS", "ModifyCallQoSComplete"),
    S.CALL_OFFER_MODIFYING: ("ProtocolCmModifyCallQoS", "ModifyCallQoSComplete"),
}
_PARTY_PENDED = {
    S.PARTY_ADDING: ("ProtocolCmAddParty", "AddPartyComplete"),
    S.PARTY_DROPPING: ("ProtocolCmDropParty", "DropPartyComplete"),
}


def leaks(host: Any) -> list[str]:
    """One line per thing left behind on ``host``, most specific first."""
    return [finding[1] for finding in run_end(host)]


def run_end(host: Any) -> list[Finding]:
    """Everything left on ``host`` when a run ends."""
    out: list[Finding] = []
    for adapter in host.adapters.values():
        out.extend(_vcs(adapter.vcs))
        for raf in adapter.afs:
            for af in raf.opens:
                out.extend(_af(af))
        for b in adapter.bindings:
            for af in b.client_afs:
                if af.registered.cm_binding is not None:
                    out.extend(_af(af))
            if b.state != S.BINDING_UNBOUND:
                out.append(("condis.LeakBinding", f"{b!r} is still open ({b.state}); the protocol never unbound"))
    out.extend(_oids(host, host._oids.values()))
    out.extend(_received(host, None))
    out.extend(_queued(host, None))
    out.extend(_allocated(host, None))
    out.extend(_initialized(host, None))
    return out


def after_halt(host: Any, adapter: Any) -> list[Finding]:
    """What is left on ``adapter`` once its MiniportHaltEx returned."""
    out = _vcs(adapter.vcs)
    for raf in adapter.afs:
        for af in raf.opens:
            out.extend(_af(af))
    out.extend(_oids(host, (r for r in host._oids.values() if r.adapter is adapter)))
    out.extend(_queued(host, lambda owner: owner is adapter))
    out.extend(_allocated(host, lambda owner: owner is adapter, halt=True))
    return out


def after_close(host: Any, b: Any) -> list[Finding]:
    """What the protocol of binding ``b`` left on it once NdisCloseAdapterEx closed it."""
    out = _vcs(vc for vc in b.adapter.vcs
               if vc.cm_binding is b or (vc.af is not None and vc.af.client is b))
    for af in b.client_afs:
        out.extend(_af(af))
    # ddi: nf-ndis-ndiscloseadapterex.md — a protocol waits for the OID requests it made to complete
    out.extend(("condis.CloseWithRequests", f"an OID request ({rec.request.Oid:#x}) {b!r} made is still outstanding at "
                f"the {rec.target}; wait for ProtocolCoOidRequestComplete before NdisCloseAdapterEx")
               for rec in host._oids.values() if rec.origin is b)
    out.extend(_received(host, b))
    out.extend(_queued(host, lambda owner: owner is b))
    return out


def handles_of(drv: Any) -> set[int]:
    """The ids of every handle NDIS gave driver ``drv``: take them before its unload routine
    deregisters it, to know afterwards which timers and work items were its own."""
    handles = {id(drv)}
    for h in (drv.miniport, drv.protocol):
        if h is not None:
            handles.add(id(h))
            handles.update(map(id, getattr(h, "adapters", ())))
            handles.update(map(id, getattr(h, "bindings", ())))
    return handles


def after_unload(host: Any, handles: set[int]) -> list[Finding]:
    """Timers and work items still queued or allocated, once the unload routine of the driver that
    owned ``handles`` (see :func:`handles_of`) returned."""
    def owned(owner: Any) -> bool:
        return id(owner) in handles
    return _queued(host, owned) + _allocated(host, owned) + _initialized(host, owned)


def _vcs(vcs: Iterable[Any]) -> list[Finding]:
    out: list[Finding] = []
    for vc in sorted(vcs, key=lambda v: v.id):
        family = "NdisMCm" if vc.is_mcm else "NdisCm"
        if vc.op == S.OP_PENDING and vc.state in _PENDED:
            handler, complete = _PENDED[vc.state]
            out.append(("condis.NeverCompleted", f"{handler} returned NDIS_STATUS_PENDING for VC {vc.id:#x}; "
                        f"{family}{complete} was never called"))
        elif vc.op == S.OP_PENDING and vc.state == S.CALL_OFFERED:
            out.append(("condis.NeverCompleted", f"ProtocolClIncomingCall returned NDIS_STATUS_PENDING for VC "
                        f"{vc.id:#x}; NdisClIncomingCallComplete was never called"))
        if vc.act_op == S.OP_PENDING:
            activating = vc.activation == S.VC_ACTIVATING
            what = "MiniportCoActivateVc" if activating else "MiniportCoDeactivateVc"
            done = "NdisMCoActivateVcComplete" if activating else "NdisMCoDeactivateVcComplete"
            out.append(("condis.NeverCompleted", f"{what} returned NDIS_STATUS_PENDING for VC {vc.id:#x}; "
                        f"{done} was never called"))
        if vc.sends:
            out.append(("condis.LeakSend", f"{len(vc.sends)} NET_BUFFER_LIST(s) sent on VC {vc.id:#x} were never "
                        "completed with NdisMCoSendNetBufferListsComplete"))
        for p in vc.parties:
            if p.op == S.OP_PENDING and p.state in _PARTY_PENDED:
                handler, complete = _PARTY_PENDED[p.state]
                out.append(("condis.NeverCompleted", f"{handler} returned NDIS_STATUS_PENDING for {safe_repr(p)} on VC "
                            f"{vc.id:#x}; {family}{complete} was never called"))
        kind = "signaling VC" if vc.af is None else "VC"
        out.append(("condis.LeakVc", f"{kind} {vc.id:#x} (created by the {vc.creator}, call {vc.state}, "
                    f"{vc.activation}) was never deleted by its creator"))
    return out


def _af(af: Any) -> list[Finding]:
    out: list[Finding] = []
    if af.state == S.AF_OPEN_PENDING:
        out.append(("condis.NeverCompleted", f"ProtocolCmOpenAf returned NDIS_STATUS_PENDING for {af!r}; "
                    "the open was never completed"))
    if af.state == S.AF_CLOSE_PENDING:
        out.append(("condis.NeverCompleted", f"ProtocolCmCloseAf returned NDIS_STATUS_PENDING for {af!r}; "
                    "the close was never completed"))
    for sap in af.saps:
        if sap.state in (S.SAP_REGISTER_PENDING, S.SAP_DEREGISTER_PENDING):
            out.append(("condis.NeverCompleted", f"a SAP request on {sap!r} pended ({sap.state}) and was never "
                        "completed"))
        out.append(("condis.LeakSap", f"{sap!r} on {af!r} was never deregistered"))
    if af.notify == S.NOTIFY_PENDING:
        out.append(("condis.NeverCompleted", f"ProtocolClNotifyCloseAf returned NDIS_STATUS_PENDING for {af!r}; "
                    "NdisClNotifyCloseAddressFamilyComplete was never called"))
    if af.state != S.AF_CLOSED:
        out.append(("condis.LeakAf", f"{af!r} ({af.state}) was never closed"))
    return out


def _oids(host: Any, records: Iterable[Any]) -> list[Finding]:
    return [("condis.NeverCompleted", f"an OID request ({rec.oid:#x}) pended at the {rec.target} and was "
             "never completed") for rec in records]


def _received(host: Any, binding: Any) -> list[Finding]:
    """NET_BUFFER_LISTs a protocol was indicated without NDIS_RECEIVE_FLAGS_RESOURCES and kept (those
    of ``binding``, or of every binding when None): it owes NdisReturnNetBufferLists for each."""
    held: dict[Any, int] = {}
    for owner in host._received.values():
        if binding is None or owner is binding:
            held[owner] = held.get(owner, 0) + 1
    return [("condis.LeakReceive", f"{count} received NET_BUFFER_LIST(s) indicated to {owner!r} were never returned "
             "with NdisReturnNetBufferLists") for owner, count in held.items()]


def _queued(host: Any, owned: Any) -> list[Finding]:
    """Work items and timers of ``host`` still queued (those whose object ``owned(owner)`` accepts)."""
    out: list[Finding] = []
    for ev in host.sim.scheduler.pending():
        if ev.host is not host or ev.kind not in ("work item", "timer"):
            continue
        obj = ev.args[0] if ev.args else None
        if owned is not None and not owned(getattr(obj, "owner", None)):
            continue
        # ddi: nf-ndis-ndiscanceltimerobject.md (cancel timers when halting or unloading),
        # nf-ndis-ndisallocateioworkitem.md (free work items before halt or unload),
        # kernel/nf-wdm-iouninitializeworkitem.md (a kernel work item is uninitialized once no longer queued)
        if ev.kind == "timer":
            page = "ddi/nf-ndis-ndiscanceltimerobject.md"
        elif isinstance(obj, IO_WORKITEM):
            page = "kernel/nf-wdm-iouninitializeworkitem.md"
        else:
            page = "ddi/nf-ndis-ndisallocateioworkitem.md"
        out.append(("condis.LeakQueued", f"a {ev.kind} ({ev.label}) is still queued", page))
    return out


def _allocated(host: Any, owned: Any, halt: bool = False) -> list[Finding]:
    """Timer objects and work items of ``host`` still allocated and not queued (a queued one is
    reported by :func:`_queued`), those whose owner ``owned(owner)`` accepts. At a halt the timer's
    page is MiniportHaltEx's, which has the driver free everything it allocated for the adapter."""
    out: list[Finding] = []
    for obj in sorted(host._resources, key=lambda o: o.id):
        if obj.event is not None or (owned is not None and not owned(obj.owner)):
            continue
        if obj.kind == "timer":
            finding = ("condis.LeakTimer", f"timer object {obj.id:#x} (allocated with {obj.owner!r}) was never freed "
                       "with NdisFreeTimerObject")
            out.append(finding + ("ddi/nc-ndis-miniport_halt.md",) if halt else finding)
        else:
            out.append(("condis.LeakWorkItem", f"work item {obj.id:#x} (allocated with {obj.owner!r}) was never "
                        "freed with NdisFreeIoWorkItem"))
    return out


def _initialized(host: Any, owned: Any) -> list[Finding]:
    """Kernel work items of ``host`` initialized and never uninitialized, and not queued (a queued one
    is reported by :func:`_queued`), those whose driver ``owned(owner)`` accepts."""
    return [("condis.LeakWorkItem", f"{item!r} (initialized with {item.io_object!r}) was never uninitialized with "
             "IoUninitializeWorkItem", "kernel/nf-wdm-ioinitializeworkitem.md")
            for item in sorted(host._io_work_items, key=lambda i: i.id)
            if item.event is None and (owned is None or owned(item.owner))]
