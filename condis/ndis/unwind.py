"""What NDIS does when a handler it called raises an exception.

On Windows an exception in a driver's handler is a bug check: the machine stops, nothing more
happens. condis lets the exception propagate to whoever ran the simulation (a test, the explorer),
as a stopped machine would report it, and leaves NDIS consistent first: every object a handler
call had put in an ``*_IN_HANDLER`` state goes back to the state it had before NDIS called the
handler, so the run can still be inspected and torn down (a VC left MAKE_CALL/IN_HANDLER could
never be closed or deleted, and teardown would report it forever).

The rule for each in-handler state, in the order a request enters it:

- NdisClMakeCall: the VC goes back to IDLE, its parties are dropped (it was IDLE before);
- Ndis(M)CmDispatchIncomingCall: the VC goes back to IDLE, no SAP;
- NdisClModifyCallQoS: the call is CONNECTED again;
- NdisClCloseCall: the call is CONNECTED again and its party connected. A close can start from
  ACCEPTED or CLOSE_INDICATED too; the failure path of a close already turns CLOSE_INDICATED into
  CONNECTED, and an ACCEPTED call whose close crashed is treated as connected the same way;
- NdisClAddParty: the new party is dropped; NdisClDropParty: the party is CONNECTED again (also
  when the drop answered an incoming drop, as for the close);
- NdisCmActivateVc, NdisCmDeactivateVc: the activation is as before the request (the failure
  path of each: inactive, or active with its previous parameters; active);
- NdisClCloseAddressFamily: the AF is OPEN again; Ndis(M)CmNotifyCloseAddressFamily: no
  notification was made; NdisClRegisterSap: the SAP is gone; NdisClDeregisterSap: registered again;
- an OID request: NDIS forgets it, as if it had never been issued;
- a bind or unbind: its context is finished, so it cannot be completed or reused.

Objects a handler was creating (a VC in NdisCoCreateVc, an AF in NdisClOpenAddressFamilyEx) were
never entered in NDIS's tables, and NET_BUFFER_LISTs handed to a send or receive handler stay with
that handler, as they would have had it returned.
"""

from __future__ import annotations

from typing import Any

from condis import _status as st
from condis.ndis import states as S


def unwind(host: Any) -> None:
    """Put back every object of ``host`` that a handler call left in an ``*_IN_HANDLER`` state."""
    for adapter in host.adapters.values():
        for vc in sorted(adapter.vcs, key=lambda v: v.id):
            _vc(host, vc)
        registered = list(adapter.afs)
        for b in adapter.bindings:
            registered.extend(b.registered_afs)
            for ctx in (b.bind_context, b.unbind_context):
                if ctx is not None and ctx.state == S.BIND_IN_HANDLER:
                    ctx.state = S.BIND_DONE
        for raf in registered:
            for af in list(raf.opens):
                _af(af)
    for key, rec in list(host._oids.items()):
        if rec.in_handler:
            del host._oids[key]


def _vc(host: Any, vc: Any) -> None:
    if vc.op == S.OP_IN_HANDLER:
        if vc.state == S.CALL_MAKING:
            host._make_call_failed(vc)
        elif vc.state == S.CALL_OFFERED:
            vc.state = S.CALL_IDLE
            vc.op = S.OP_NONE
            vc.sap = None
        else:   # CLOSE_CALL or MODIFY_QOS: the call is up again
            party = vc.op_party
            if vc.state == S.CALL_CLOSING:
                vc.closed_by_client = False
                if party is not None:
                    party.state = S.PARTY_CONNECTED
            vc.state = S.CALL_CONNECTED
            vc.op = S.OP_NONE
            vc.op_party = None
    for party in list(vc.parties):
        if party.op != S.OP_IN_HANDLER:
            continue
        if party.state == S.PARTY_ADDING:
            host._drop(party)
        else:
            party.state = S.PARTY_CONNECTED
            party.op = S.OP_NONE
    if vc.act_op == S.OP_IN_HANDLER:
        if vc.activation == S.VC_ACTIVATING:
            host._activated(vc, st.NDIS_STATUS_FAILURE, notify=False)
        else:
            host._deactivated(vc, st.NDIS_STATUS_FAILURE, notify=False)


def _af(af: Any) -> None:
    if af.state == S.AF_CLOSING:
        af.state = S.AF_OPEN
    if af.notify == S.NOTIFY_IN_HANDLER:
        af.notify = S.NOTIFY_NONE
    for sap in list(af.saps):
        if sap.state == S.SAP_REGISTERING:
            sap.state = S.SAP_DEREGISTERED
            af.saps.remove(sap)
        elif sap.state == S.SAP_DEREGISTERING:
            sap.state = S.SAP_REGISTERED
