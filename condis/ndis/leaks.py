"""What a run left behind: the teardown report of a host.

Called when a run ends (``Ndis.leaks``), it lists every object a driver still owes NDIS something
for: VCs never deleted by their creator, parties, open AFs, registered SAPs, requests a handler
pended and nobody completed, sends never completed, OID requests never completed, and work items or
timers still queued.
"""

from __future__ import annotations

from typing import Any

from condis.ndis import states as S

# call state -> (the handler that pended, the Complete function an MCM / a call manager calls)
_PENDED = {
    S.CALL_MAKING: ("ProtocolCmMakeCall", "MakeCallComplete"),
    S.CALL_CLOSING: ("ProtocolCmCloseCall", "CloseCallComplete"),
    S.CALL_MODIFYING: ("ProtocolCmModifyCallQoS", "ModifyCallQoSComplete"),
}


def leaks(host: Any) -> list[str]:
    """One line per thing left behind on ``host``, most specific first."""
    out: list[str] = []
    for adapter in host.adapters.values():
        for vc in sorted(adapter.vcs, key=lambda v: v.id):
            family = "NdisMCm" if vc.is_mcm else "NdisCm"
            if vc.op == S.OP_PENDING and vc.state in _PENDED:
                handler, complete = _PENDED[vc.state]
                out.append(f"{handler} returned NDIS_STATUS_PENDING for VC {vc.id:#x}; {family}{complete} was "
                           "never called")
            elif vc.op == S.OP_PENDING and vc.state == S.CALL_OFFERED:
                out.append(f"ProtocolClIncomingCall returned NDIS_STATUS_PENDING for VC {vc.id:#x}; "
                           "NdisClIncomingCallComplete was never called")
            if vc.act_op == S.OP_PENDING:
                what = "MiniportCoActivateVc" if vc.activation == S.VC_ACTIVATING else "MiniportCoDeactivateVc"
                done = "NdisMCoActivateVcComplete" if vc.activation == S.VC_ACTIVATING else "NdisMCoDeactivateVcComplete"
                out.append(f"{what} returned NDIS_STATUS_PENDING for VC {vc.id:#x}; {done} was never called")
            if vc.sends:
                out.append(f"{len(vc.sends)} NET_BUFFER_LIST(s) sent on VC {vc.id:#x} were never completed "
                           "(NdisMCoSendNetBufferListsComplete)")
            for p in vc.parties:
                if p.op == S.OP_PENDING:
                    out.append(f"a party request on VC {vc.id:#x} pended ({p.state}) and was never completed")
            kind = "signaling VC" if vc.af is None else "VC"
            out.append(f"{kind} {vc.id:#x} (created by the {vc.creator}, call {vc.state}, {vc.activation}) was "
                       "never deleted")
        for raf in adapter.afs:
            for af in raf.opens:
                out.extend(_af_leaks(af))
        for b in adapter.bindings:
            for af in b.client_afs:
                if af.registered.cm_binding is not None:
                    out.extend(_af_leaks(af))
            if b.state != S.BINDING_UNBOUND:
                out.append(f"{b!r} is still open ({b.state})")
    for rec in host._oids.values():
        out.append(f"an OID request ({rec.request.Oid:#x}) pended at the {rec.target} and was never completed")
    for ev in host.sim.scheduler.pending():
        if ev.host is host and ev.kind in ("work item", "timer"):
            out.append(f"a {ev.kind} ({ev.label}) is still queued")
    return out


def _af_leaks(af: Any) -> list[str]:
    out = []
    if af.state == S.AF_OPEN_PENDING:
        out.append(f"ProtocolCmOpenAf returned NDIS_STATUS_PENDING for {af!r}; the open was never completed")
    if af.state == S.AF_CLOSE_PENDING:
        out.append(f"ProtocolCmCloseAf returned NDIS_STATUS_PENDING for {af!r}; the close was never completed")
    for sap in af.saps:
        if sap.state in (S.SAP_REGISTER_PENDING, S.SAP_DEREGISTER_PENDING):
            out.append(f"a SAP request on {sap!r} pended ({sap.state}) and was never completed")
        out.append(f"{sap!r} on {af!r} was never deregistered")
    if af.notify == S.NOTIFY_PENDING:
        out.append(f"ProtocolClNotifyCloseAf returned NDIS_STATUS_PENDING for {af!r}; "
                   "NdisClNotifyCloseAddressFamilyComplete was never called")
    if af.state != S.AF_CLOSED:
        out.append(f"{af!r} ({af.state}) was never closed")
    return out
