"""Calls and parties: make, incoming, connected, QoS, close, add/drop party.

Guide: making-a-call.md, indicating-an-incoming-call.md, client-initiated-request-to-change-call-
parameters.md, incoming-request-to-change-call-parameters.md, adding-a-party-to-a-multipoint-call.md,
dropping-a-party-from-a-multipoint-call.md, incoming-request-to-drop-a-party-from-a-multipoint-call.md,
client-initiated-request-to-close-a-call.md, incoming-request-to-close-a-call.md; and the seed page,
NdisMCmCloseCallComplete.

A request the client makes (NdisClXxx) reaches the call manager's ProtocolCmXxx. If that handler
returns a final status, NdisClXxx returns it and NDIS calls no completion handler: the client
finishes the request itself (each NdisClXxx page, "-returns"). If it returns NDIS_STATUS_PENDING, the
call manager later calls Ndis(M)CmXxxComplete and NDIS calls the client's ProtocolClXxxComplete,
exactly once. The incoming direction is the mirror image.
"""

from __future__ import annotations

from typing import Any

from condis._safe_repr import safe_repr
from condis.constants import CALL_PARAMETERS_CHANGED, DISPATCH_LEVEL
from condis.ndis import states as S
from condis.ndis.core import PENDING, SUCCESS, fields_reader, page_of, status_name
from condis.ndis.objects import SIDE_CLIENT, Party, Sap, Vc, VcHandle
from condis.ndis.vc import CM_SIDES, VcDdi
from condis.structs import CO_CALL_PARAMETERS


def _values(obj: Any) -> Any:
    """A structure's fields as nested tuples: a copy of its values that later changes cannot reach.

    Much cheaper than copy.deepcopy on the call path: the CO_* structures are slotted dataclasses
    of ints, bytes and other such structures, so one reader per type takes all their fields at
    once, and only fields that are structures themselves are walked.
    """
    t = type(obj)
    if t in _LEAVES:
        return obj
    if t is list:
        return tuple([_values(v) for v in obj])
    if not getattr(t, "__slots__", ()):
        return obj
    vals = fields_reader(t)(obj)
    if _LEAVES.issuperset(map(type, vals)):
        return vals
    return tuple([_values(v) for v in vals])


_LEAVES = frozenset({int, bytes, str, bool, float, type(None)})


_LIVE_PARTY = (S.PARTY_CONNECTED, S.PARTY_DROP_INDICATED, S.PARTY_DROPPING, S.PARTY_CLOSING)


class CallDdi(VcDdi):
    """Call setup and teardown on a VC, and the parties of multipoint calls."""

    def __init__(self, name: str, sim: Any) -> None:
        super().__init__(name, sim)
        # VC id -> a copy of the call parameters NDIS offered, while ProtocolClIncomingCall's answer pends
        self._offered: dict[int, tuple] = {}

    # ------------------------------------------------------------------ helpers

    def _call_state(self, ddi: str, vc: Vc, allowed: tuple[str, ...], why: str, page: str | None = None) -> None:
        if vc.state not in allowed:
            raise self._violate("condis.CallState", ddi,
                                f"VC {vc.id:#x} is in call state {vc.state}, expected {' or '.join(allowed)}; {why}",
                                page=page, vc=vc)

    def _completing(self, ddi: str, vc: Vc, state: str, handler: str) -> None:
        if vc.state != state or vc.op != S.OP_PENDING:
            detail = (f"VC {vc.id:#x} is in call state {vc.state} ({vc.op}), expected {state} with "
                      f"{handler} having returned NDIS_STATUS_PENDING")
            raise self._violate("condis.CompleteWithoutPending", ddi, detail, vc=vc)

    def _party(self, ddi: str, p: Any, param: str = "NdisPartyHandle") -> Party:
        if self._irql > DISPATCH_LEVEL:
            raise self._at_dirql(ddi)
        if type(p) is not Party or p.ndis is not self or p.state == S.PARTY_DROPPED:
            raise self._bad_handle(ddi, param, p, Party)
        return p

    def _party_context_fault(self, party: Party | None, status: int, ctx: Any) -> str | None:
        """What is wrong with the CallMgrPartyContext a call manager gave for ``party``, if anything.

        NULL for a point-to-point call (ddi: nc-ndis-protocol_cm_make_call.md, CallMgrPartyContext), an
        explicit context for a party it accepted (ddi: nf-ndis-ndiscmaddpartycomplete.md).
        """
        if party is None and ctx is not None and status in (SUCCESS, PENDING):
            return f"CallMgrPartyContext is {safe_repr(ctx)} for a point-to-point call; it must be NULL when there is no party"
        if party is not None and ctx is None and status == SUCCESS:
            return (f"CallMgrPartyContext is NULL for {safe_repr(party)}, which the call manager accepted; NDIS passes that "
                    "context in every later ProtocolCmXxx call about the party")
        return None

    def _close_data(self, ddi: str, buffer: Any, size: Any, param: str = "Buffer") -> None:
        """Data sent with a close or a drop: the size of the buffer, zero when there is none.

        Each page that takes such a buffer (NdisClCloseCall, NdisClDropParty, Ndis(M)CmDispatchIncoming-
        CloseCall and -DropParty) gives Size as zero for a NULL buffer. A non-zero Size with no buffer
        is refused rather than passed on or read as "no data": the handler that receives the pair would
        read Size bytes from NULL, and a driver that sends it has lost track of its data.
        """
        if buffer is None and size != 0:
            raise self._violate("condis.BadParameter", ddi,
                                f"Size is {size!r} but {param} is NULL; Size is the length of the data at {param}, "
                                "zero when there is none", page=page_of(ddi))

    def _live_parties(self, vc: Vc) -> list[Party]:
        return [p for p in vc.parties if p.state in _LIVE_PARTY]

    def _drop(self, party: Party) -> None:
        party.state = S.PARTY_DROPPED
        party.op = S.OP_NONE
        party.vc.parties.remove(party)

    # ------------------------------------------------------------------ making a call

    def NdisClMakeCall(self, NdisVcHandle: VcHandle, CallParameters: CO_CALL_PARAMETERS,
                       ProtocolPartyContext: Any = None) -> tuple[int, Party | None]:
        """Returns (status, NdisPartyHandle); the party handle is None for a point-to-point call."""
        ddi = "NdisClMakeCall"
        vc = self._vch(ddi, NdisVcHandle, (SIDE_CLIENT,))
        self._call_params_arg(ddi, CallParameters)
        if vc.creator != S.CREATOR_CLIENT:
            raise self._violate("condis.WrongCaller", ddi,
                                f"VC {vc.id:#x} was created by the {vc.creator} for an incoming call; an outgoing "
                                "call is made on a VC the client created (guide: making-a-call.md)", vc=vc)
        self._call_state(ddi, vc, (S.CALL_IDLE,), "a VC hosts one call at a time")
        if vc.activation != S.VC_INACTIVE:
            raise self._violate("condis.VcActivation", ddi,
                                f"VC {vc.id:#x} is still {vc.activation} from its previous call; the call manager "
                                "deactivates it before it can carry another (guide: deactivating-a-vc.md)",
                                page="ddi/nf-ndis-ndismcmdeactivatevc.md" if vc.is_mcm else "ddi/nf-ndis-ndiscmdeactivatevc.md",
                                vc=vc)
        if vc.af.state != S.AF_OPEN:
            raise self._violate("condis.AfState", ddi, f"{vc.af.label} must be OPEN to make a call", vc=vc)
        self._no_open_pending(ddi, vc.af.client)
        party = None
        if ProtocolPartyContext is not None:
            party = Party(self, self._next_id(), vc, ProtocolPartyContext)
            party.op = S.OP_IN_HANDLER
            vc.parties = [*vc.parties, party]
        vc.multipoint = party is not None
        vc.state = S.CALL_MAKING
        vc.op = S.OP_IN_HANDLER
        vc.op_party = party
        vc.closed_by_client = False
        fn = self._handler(self._cm_table(vc), "CmMakeCallHandler", "ProtocolCmMakeCall", vc.af.registered)
        status, cm_party_ctx = self._result("ProtocolCmMakeCall", self._up(
            fn, "ProtocolCmMakeCall", vc.cm_context, CallParameters, party), 1)
        fault = self._party_context_fault(party, status, cm_party_ctx)
        if fault is not None:
            self._make_call_failed(vc)
            raise self._violate("condis.PartyContext", "ProtocolCmMakeCall",
                                f"returned {status_name(status)} on VC {vc.id:#x}; {fault}", vc=vc)
        if status == PENDING:
            vc.op = S.OP_PENDING
            if party is not None:
                party.op = S.OP_PENDING
            return PENDING, party
        if status == SUCCESS and vc.activation != S.VC_ACTIVE:
            self._make_call_failed(vc)
            raise self._violate("condis.VcActivation", "ProtocolCmMakeCall",
                                f"completed the call on VC {vc.id:#x} with NDIS_STATUS_SUCCESS while the VC is "
                                f"{vc.activation}; activate the VC before completing the call "
                                "(guide: making-a-call.md)", vc=vc)
        self._make_call_done(vc, status, party, cm_party_ctx)
        return status, (party if status == SUCCESS else None)

    def _make_call_done(self, vc: Vc, status: int, party: Party | None, cm_party_ctx: Any) -> None:
        vc.op = S.OP_NONE
        vc.op_party = None
        if status == SUCCESS:
            vc.state = S.CALL_CONNECTED
            if party is not None:
                party.state = S.PARTY_CONNECTED
                party.op = S.OP_NONE
                party.cm_context = cm_party_ctx
        else:
            self._make_call_failed(vc)

    def _make_call_failed(self, vc: Vc) -> None:
        vc.state = S.CALL_IDLE
        vc.op = S.OP_NONE
        vc.op_party = None
        for p in list(vc.parties):
            self._drop(p)
        vc.multipoint = False

    def NdisCmMakeCallComplete(self, Status: int, NdisVcHandle: VcHandle, NdisPartyHandle: Party | None,
                               CallMgrPartyContext: Any, CallParameters: CO_CALL_PARAMETERS) -> None:
        self._make_call_complete("NdisCmMakeCallComplete", Status, NdisVcHandle, NdisPartyHandle,
                                 CallMgrPartyContext, CallParameters)

    def NdisMCmMakeCallComplete(self, Status: int, NdisVcHandle: VcHandle, NdisPartyHandle: Party | None,
                                CallMgrPartyContext: Any, CallParameters: CO_CALL_PARAMETERS) -> None:
        self._make_call_complete("NdisMCmMakeCallComplete", Status, NdisVcHandle, NdisPartyHandle,
                                 CallMgrPartyContext, CallParameters)

    def _make_call_complete(self, ddi: str, status: int, h: Any, party: Any, cm_party_ctx: Any, params: Any) -> None:
        self._status_arg(ddi, status)
        vc = self._vch(ddi, h, CM_SIDES)
        self._cm_family(ddi, vc.is_mcm, h)
        self._call_params_arg(ddi, params)
        self._completing(ddi, vc, S.CALL_MAKING, "ProtocolCmMakeCall")
        if party is not vc.op_party:
            raise self._violate("condis.PartyHandle", ddi,
                                f"NdisPartyHandle is {safe_repr(party)}; the make-call on VC {vc.id:#x} was for "
                                f"{vc.op_party!r}", vc=vc)
        fault = self._party_context_fault(party, status, cm_party_ctx)
        if fault is not None:
            raise self._violate("condis.PartyContext", ddi, f"VC {vc.id:#x}: {fault}", vc=vc)
        if status == SUCCESS and vc.activation != S.VC_ACTIVE:
            raise self._violate("condis.VcActivation", ddi,
                                f"VC {vc.id:#x} is {vc.activation}; a call completes successfully only on an "
                                "activated VC (guide: making-a-call.md)", vc=vc)
        self._make_call_done(vc, status, party, cm_party_ctx)
        fn = self._handler(self._client_cl(vc), "ClMakeCallCompleteHandler", "ProtocolClMakeCallComplete",
                           vc.af.client.protocol)
        self._up(fn, "ProtocolClMakeCallComplete", status, vc.client_context,
                 party if status == SUCCESS else None, params)

    # ------------------------------------------------------------------ incoming call

    def NdisCmDispatchIncomingCall(self, NdisSapHandle: Sap, NdisVcHandle: VcHandle,
                                   CallParameters: CO_CALL_PARAMETERS) -> int:
        return self._dispatch_incoming_call("NdisCmDispatchIncomingCall", NdisSapHandle, NdisVcHandle, CallParameters)

    def NdisMCmDispatchIncomingCall(self, NdisSapHandle: Sap, NdisVcHandle: VcHandle,
                                    CallParameters: CO_CALL_PARAMETERS) -> int:
        return self._dispatch_incoming_call("NdisMCmDispatchIncomingCall", NdisSapHandle, NdisVcHandle, CallParameters)

    def _dispatch_incoming_call(self, ddi: str, sap: Any, h: Any, params: Any) -> int:
        sap = self._sap(ddi, sap)
        vc = self._vch(ddi, h, CM_SIDES)
        self._cm_family(ddi, vc.is_mcm, h)
        self._call_params_arg(ddi, params)
        if sap.state not in (S.SAP_REGISTERED, S.SAP_REGISTER_PENDING):
            raise self._violate("condis.SapState", ddi,
                                f"{sap.label}: calls are offered on a registered SAP (guide: registering-a-sap.md)")
        if vc.af is not sap.af or vc.creator == S.CREATOR_CLIENT:
            raise self._violate("condis.WrongCaller", ddi,
                                f"VC {vc.id:#x} must be one the call manager created on {sap.af!r}, the SAP's AF "
                                "(guide: indicating-an-incoming-call.md)", vc=vc)
        self._call_state(ddi, vc, (S.CALL_IDLE,), "a VC hosts one call at a time")
        # The DDI page and the guide text activate the VC before the call is offered; cm-13 and
        # fig1-13 draw the activation later, which would offer a call on a VC that cannot carry data.
        if vc.activation not in (S.VC_ACTIVATING, S.VC_ACTIVE):
            raise self._violate("condis.VcActivation", ddi,
                                f"VC {vc.id:#x} is {vc.activation}; the call manager activates the VC before it "
                                "offers the call (guide: indicating-an-incoming-call.md)", vc=vc)
        vc.state = S.CALL_OFFERED
        vc.op = S.OP_IN_HANDLER
        vc.sap = sap
        vc.closed_by_client = False
        fn = self._handler(self._client_cl(vc), "ClIncomingCallHandler", "ProtocolClIncomingCall",
                           vc.af.client.protocol)
        # What was offered, as plain values, for the CALL_PARAMETERS_CHANGED check of a pended answer
        # (a check only: with the verifier off there is nothing to keep)
        offered = (_values(params.CallMgrParameters), _values(params.MediaParameters)) \
            if self.verifier.checking else None
        status = self._result("ProtocolClIncomingCall", self._up(
            fn, "ProtocolClIncomingCall", sap.client_context, vc.client_context, params), 0)[0]
        if status == PENDING:
            vc.op = S.OP_PENDING
            if offered is not None:
                self._offered[vc.id] = offered
        else:
            self._incoming_call_done(vc, status)
        return status

    def _incoming_call_done(self, vc: Vc, status: int) -> None:
        vc.op = S.OP_NONE
        vc.state = S.CALL_ACCEPTED if status == SUCCESS else S.CALL_IDLE

    def NdisClIncomingCallComplete(self, Status: int, NdisVcHandle: VcHandle, CallParameters: CO_CALL_PARAMETERS) -> None:
        ddi = "NdisClIncomingCallComplete"
        self._status_arg(ddi, Status)
        vc = self._vch(ddi, NdisVcHandle, (SIDE_CLIENT,))
        self._call_params_arg(ddi, CallParameters)
        self._completing(ddi, vc, S.CALL_OFFERED, "ProtocolClIncomingCall")
        offered = self._offered.get(vc.id)
        if (Status == SUCCESS and offered is not None and not CallParameters.Flags & CALL_PARAMETERS_CHANGED
                and (_values(CallParameters.CallMgrParameters), _values(CallParameters.MediaParameters)) != offered):
            # ddi: nf-ndis-ndisclincomingcallcomplete.md — changed parameters carry the flag
            raise self._violate("condis.CallParamsChanged", ddi,
                                f"accepts the call on VC {vc.id:#x} with call parameters that differ from the ones "
                                "offered, but CallParameters.Flags lacks CALL_PARAMETERS_CHANGED", vc=vc)
        self._offered.pop(vc.id, None)
        self._incoming_call_done(vc, Status)
        fn = self._handler(self._cm_table(vc), "CmIncomingCallCompleteHandler", "ProtocolCmIncomingCallComplete", vc)
        self._up(fn, "ProtocolCmIncomingCallComplete", Status, vc.cm_context, CallParameters)

    def NdisCmDispatchCallConnected(self, NdisVcHandle: VcHandle) -> None:
        self._dispatch_call_connected("NdisCmDispatchCallConnected", NdisVcHandle)

    def NdisMCmDispatchCallConnected(self, NdisVcHandle: VcHandle) -> None:
        self._dispatch_call_connected("NdisMCmDispatchCallConnected", NdisVcHandle)

    def _dispatch_call_connected(self, ddi: str, h: Any) -> None:
        vc = self._vch(ddi, h, CM_SIDES)
        self._cm_family(ddi, vc.is_mcm, h)
        self._call_state(ddi, vc, (S.CALL_ACCEPTED,), "the client must have accepted the incoming call",
                         page="guide/indicating-an-incoming-call.md")
        vc.state = S.CALL_CONNECTED
        fn = self._handler(self._client_cl(vc), "ClCallConnectedHandler", "ProtocolClCallConnected",
                           vc.af.client.protocol)
        self._up(fn, "ProtocolClCallConnected", vc.client_context)

    # ------------------------------------------------------------------ quality of service

    def NdisClModifyCallQoS(self, NdisVcHandle: VcHandle, CallParameters: CO_CALL_PARAMETERS) -> int:
        ddi = "NdisClModifyCallQoS"
        vc = self._vch(ddi, NdisVcHandle, (SIDE_CLIENT,))
        self._call_params_arg(ddi, CallParameters)
        # An offered call whose ProtocolClIncomingCall pended may be negotiated before the client
        # answers it (ddi: nf-ndis-ndisclincomingcallcomplete.md; cm-13 and fig1-13, step 8).
        offered = vc.state == S.CALL_OFFERED and vc.op == S.OP_PENDING
        if not offered:
            self._call_state(ddi, vc, (S.CALL_CONNECTED,),
                             "QoS is changed on an established call, or on an offered call whose "
                             "ProtocolClIncomingCall returned NDIS_STATUS_PENDING")
        fn = self._handler(self._cm_table(vc), "CmModifyCallQoSHandler", "ProtocolCmModifyCallQoS", vc)
        vc.state = S.CALL_OFFER_MODIFYING if offered else S.CALL_MODIFYING
        vc.op = S.OP_IN_HANDLER
        self._qos_reactivated.discard(vc.id)
        status = self._result("ProtocolCmModifyCallQoS", self._up(
            fn, "ProtocolCmModifyCallQoS", vc.cm_context, CallParameters), 0)[0]
        if status == PENDING:
            vc.op = S.OP_PENDING
            return status
        self._qos_done(vc, status, CallParameters)
        if status == SUCCESS and not self._reactivated_for_qos(vc):
            raise self._qos_not_reactivated("ProtocolCmModifyCallQoS", vc, "returned NDIS_STATUS_SUCCESS")
        return status

    def _qos_done(self, vc: Vc, status: int, params: CO_CALL_PARAMETERS) -> None:
        """Back to the state the QoS change started from: connected, or offered with the client's
        answer still pending. A change agreed on an offered call is what the call is now offered
        with: accepting it is not a change of the call parameters (CALL_PARAMETERS_CHANGED)."""
        if vc.state == S.CALL_OFFER_MODIFYING:
            vc.state = S.CALL_OFFERED
            vc.op = S.OP_PENDING
            if status == SUCCESS and vc.id in self._offered:
                self._offered[vc.id] = (_values(params.CallMgrParameters), _values(params.MediaParameters))
        else:
            vc.state = S.CALL_CONNECTED
            vc.op = S.OP_NONE

    def _reactivated_for_qos(self, vc: Vc) -> bool:
        if vc.id not in self._qos_reactivated:
            return False
        self._qos_reactivated.discard(vc.id)
        return True

    def _qos_not_reactivated(self, name: str, vc: Vc, what: str) -> Any:
        # guide: client-initiated-request-to-change-call-parameters.md — a successful change is
        # followed by Ndis(M)CmActivateVc with the new parameters before the client hears of it.
        family = "NdisMCm" if vc.is_mcm else "NdisCm"
        return self._violate("condis.QosReactivation", name,
                             f"{what} for the QoS change on VC {vc.id:#x}, but {family}ActivateVc was not called with "
                             "the new parameters since the client asked", vc=vc)

    def NdisCmModifyCallQoSComplete(self, Status: int, NdisVcHandle: VcHandle, CallParameters: CO_CALL_PARAMETERS) -> None:
        self._modify_qos_complete("NdisCmModifyCallQoSComplete", Status, NdisVcHandle, CallParameters)

    def NdisMCmModifyCallQoSComplete(self, Status: int, NdisVcHandle: VcHandle, CallParameters: CO_CALL_PARAMETERS) -> None:
        self._modify_qos_complete("NdisMCmModifyCallQoSComplete", Status, NdisVcHandle, CallParameters)

    def _modify_qos_complete(self, ddi: str, status: int, h: Any, params: Any) -> None:
        self._status_arg(ddi, status)
        vc = self._vch(ddi, h, CM_SIDES)
        self._cm_family(ddi, vc.is_mcm, h)
        self._call_params_arg(ddi, params)
        self._completing(ddi, vc, S.CALL_OFFER_MODIFYING if vc.state == S.CALL_OFFER_MODIFYING else S.CALL_MODIFYING,
                         "ProtocolCmModifyCallQoS")
        if status == SUCCESS and vc.id not in self._qos_reactivated:
            raise self._qos_not_reactivated(ddi, vc, "called with NDIS_STATUS_SUCCESS")
        self._qos_reactivated.discard(vc.id)
        self._qos_done(vc, status, params)
        fn = self._handler(self._client_cl(vc), "ClModifyCallQoSCompleteHandler", "ProtocolClModifyCallQoSComplete",
                           vc.af.client.protocol)
        self._up(fn, "ProtocolClModifyCallQoSComplete", status, vc.client_context, params)

    def NdisCmDispatchIncomingCallQoSChange(self, NdisVcHandle: VcHandle, CallParameters: CO_CALL_PARAMETERS) -> None:
        self._incoming_qos("NdisCmDispatchIncomingCallQoSChange", NdisVcHandle, CallParameters)

    def NdisMCmDispatchIncomingCallQoSChange(self, NdisVcHandle: VcHandle, CallParameters: CO_CALL_PARAMETERS) -> None:
        self._incoming_qos("NdisMCmDispatchIncomingCallQoSChange", NdisVcHandle, CallParameters)

    def _incoming_qos(self, ddi: str, h: Any, params: Any) -> None:
        vc = self._vch(ddi, h, CM_SIDES)
        self._cm_family(ddi, vc.is_mcm, h)
        self._call_params_arg(ddi, params)
        self._call_state(ddi, vc, (S.CALL_CONNECTED,), "a remote QoS change applies to an established call")
        if vc.activation != S.VC_ACTIVE:
            raise self._violate("condis.VcActivation", ddi,
                                f"VC {vc.id:#x} is {vc.activation}; the call manager reactivates the VC with the new "
                                "parameters before telling the client (guide: incoming-request-to-change-call-"
                                "parameters.md)", vc=vc)
        fn = self._handler(self._client_cl(vc), "ClIncomingCallQoSChangeHandler", "ProtocolClIncomingCallQoSChange",
                           vc.af.client.protocol)
        self._up(fn, "ProtocolClIncomingCallQoSChange", vc.client_context, params)

    # ------------------------------------------------------------------ closing a call

    def NdisClCloseCall(self, NdisVcHandle: VcHandle, NdisPartyHandle: Party | None = None,
                        Buffer: Any = None, Size: int = 0) -> int:
        ddi = "NdisClCloseCall"
        vc = self._vch(ddi, NdisVcHandle, (SIDE_CLIENT,))
        self._call_state(ddi, vc, (S.CALL_CONNECTED, S.CALL_CLOSE_INDICATED, S.CALL_ACCEPTED),
                         "a call is closed once it is up or the call manager indicated its close")
        party = self._close_party(ddi, vc, NdisPartyHandle)
        self._close_data(ddi, Buffer, Size)
        if vc.sends:
            raise self._violate("condis.SendsOutstanding", ddi,
                                f"{len(vc.sends)} NET_BUFFER_LIST(s) sent on VC {vc.id:#x} are not completed yet; "
                                "wait for ProtocolCoSendNetBufferListsComplete before closing", vc=vc)
        previous = vc.state
        vc.state = S.CALL_CLOSING
        vc.op = S.OP_IN_HANDLER
        vc.op_party = party
        vc.closed_by_client = True
        if party is not None:
            party.state = S.PARTY_CLOSING
        fn = self._handler(self._cm_table(vc), "CmCloseCallHandler", "ProtocolCmCloseCall", vc)
        status = self._result("ProtocolCmCloseCall", self._up(
            fn, "ProtocolCmCloseCall", vc.cm_context, party.cm_context if party else None, Buffer, Size), 0)[0]
        if status == PENDING:
            vc.op = S.OP_PENDING
        else:
            self._close_call_done(vc, status, previous)
        return status

    def _close_party(self, ddi: str, vc: Vc, party: Any) -> Party | None:
        """The seed's party rule: NULL for point-to-point, the last remaining party for multipoint."""
        if not vc.multipoint:
            if party is not None:
                raise self._violate("condis.PartyHandle", ddi,
                                    f"VC {vc.id:#x} is point-to-point; NdisPartyHandle must be NULL, got {safe_repr(party)}",
                                    vc=vc)
            return None
        party = self._party(ddi, party) if party is not None else None
        live = self._live_parties(vc)
        if party is None or party.vc is not vc:
            raise self._violate("condis.PartyHandle", ddi,
                                f"VC {vc.id:#x} is multipoint; NdisPartyHandle must be its last remaining party "
                                f"(one of {live}), got {safe_repr(party)}", vc=vc)
        if len(live) > 1:
            raise self._violate("condis.CloseWithParties", ddi,
                                f"VC {vc.id:#x} still has {len(live)} parties ({live}); drop all but the last with "
                                "NdisClDropParty first", vc=vc)
        return party

    def _close_call_done(self, vc: Vc, status: int, previous: str = S.CALL_CONNECTED) -> None:
        party = vc.op_party
        vc.op = S.OP_NONE
        vc.op_party = None
        if status == SUCCESS:
            vc.state = S.CALL_IDLE
            vc.sap = None
            for p in list(vc.parties):
                self._drop(p)
            vc.multipoint = False
        else:
            vc.state = previous if previous != S.CALL_CLOSE_INDICATED else S.CALL_CONNECTED
            if party is not None:
                party.state = S.PARTY_CONNECTED

    def NdisCmCloseCallComplete(self, Status: int, NdisVcHandle: VcHandle, NdisPartyHandle: Party | None = None) -> None:
        self._close_call_complete("NdisCmCloseCallComplete", Status, NdisVcHandle, NdisPartyHandle)

    def NdisMCmCloseCallComplete(self, Status: int, NdisVcHandle: VcHandle, NdisPartyHandle: Party | None = None) -> None:
        """Complete a ProtocolCmCloseCall that returned NDIS_STATUS_PENDING (the seed page)."""
        self._close_call_complete("NdisMCmCloseCallComplete", Status, NdisVcHandle, NdisPartyHandle)

    def _close_call_complete(self, ddi: str, status: int, h: Any, party: Any) -> None:
        self._status_arg(ddi, status)
        vc = self._vch(ddi, h, CM_SIDES)
        self._cm_family(ddi, vc.is_mcm, h)
        self._completing(ddi, vc, S.CALL_CLOSING, "ProtocolCmCloseCall")
        if party is not vc.op_party:
            expected = "NULL (point-to-point VC)" if vc.op_party is None else f"{vc.op_party!r}, the last party"
            raise self._violate("condis.PartyHandle", ddi,
                                f"NdisPartyHandle is {safe_repr(party)}; expected {expected} of VC {vc.id:#x}", vc=vc)
        party_ctx = party.client_context if party is not None else None
        self._close_call_done(vc, status)
        fn = self._handler(self._client_cl(vc), "ClCloseCallCompleteHandler", "ProtocolClCloseCallComplete",
                           vc.af.client.protocol)
        self._up(fn, "ProtocolClCloseCallComplete", status, vc.client_context, party_ctx)

    def NdisCmDispatchIncomingCloseCall(self, CloseStatus: int, NdisVcHandle: VcHandle, Buffer: Any = None,
                                        Size: int = 0) -> None:
        self._incoming_close("NdisCmDispatchIncomingCloseCall", CloseStatus, NdisVcHandle, Buffer, Size)

    def NdisMCmDispatchIncomingCloseCall(self, CloseStatus: int, NdisVcHandle: VcHandle, Buffer: Any = None,
                                         Size: int = 0) -> None:
        self._incoming_close("NdisMCmDispatchIncomingCloseCall", CloseStatus, NdisVcHandle, Buffer, Size)

    def _incoming_close(self, ddi: str, close_status: int, h: Any, buffer: Any, size: int) -> None:
        if self._irql > DISPATCH_LEVEL:
            raise self._at_dirql(ddi)
        if type(close_status) is not int:
            raise self._violate("condis.BadParameter", ddi, f"CloseStatus must be an NDIS_STATUS int, got "
                                                            f"{safe_repr(close_status)}")
        vc = self._vch(ddi, h, CM_SIDES)
        self._cm_family(ddi, vc.is_mcm, h)
        self._close_data(ddi, buffer, size)
        self._call_state(ddi, vc, (S.CALL_CONNECTED, S.CALL_ACCEPTED),
                         "an incoming close applies to a call that is up and that the client is not already closing")
        # A multipoint call may be closed from the network with several parties still on it (the
        # network failed, or the peer released the whole call): the client then drops all but the
        # last party with NdisClDropParty and closes with that one (ddi:
        # nc-ndis-protocol_cl_incoming_close_call.md). Parties leaving one at a time while others
        # stay are indicated with Ndis(M)CmDispatchIncomingDropParty instead
        # (guide: incoming-request-to-drop-a-party-from-a-multipoint-call.md).
        vc.state = S.CALL_CLOSE_INDICATED
        fn = self._handler(self._client_cl(vc), "ClIncomingCloseCallHandler", "ProtocolClIncomingCloseCall",
                           vc.af.client.protocol)
        self._up(fn, "ProtocolClIncomingCloseCall", close_status, vc.client_context, buffer, size)

    # ------------------------------------------------------------------ parties

    def NdisClAddParty(self, NdisVcHandle: VcHandle, ProtocolPartyContext: Any,
                       CallParameters: CO_CALL_PARAMETERS) -> tuple[int, Party | None]:
        ddi = "NdisClAddParty"
        vc = self._vch(ddi, NdisVcHandle, (SIDE_CLIENT,))
        self._call_params_arg(ddi, CallParameters)
        if not vc.multipoint:
            raise self._violate("condis.PartyHandle", ddi,
                                f"VC {vc.id:#x} carries a point-to-point call; parties are added to a call made "
                                "with a ProtocolPartyContext (guide: adding-a-party-to-a-multipoint-call.md)",
                                page="guide/adding-a-party-to-a-multipoint-call.md", vc=vc)
        self._call_state(ddi, vc, (S.CALL_CONNECTED,), "parties join an established multipoint call")
        fn = self._handler(self._cm_table(vc), "CmAddPartyHandler", "ProtocolCmAddParty", vc)
        party = Party(self, self._next_id(), vc, ProtocolPartyContext)
        party.op = S.OP_IN_HANDLER
        vc.parties = [*vc.parties, party]
        status, cm_ctx = self._result("ProtocolCmAddParty", self._up(
            fn, "ProtocolCmAddParty", vc.cm_context, CallParameters, party), 1)
        fault = self._party_context_fault(party, status, cm_ctx)
        if fault is not None:
            self._drop(party)
            raise self._violate("condis.PartyContext", "ProtocolCmAddParty",
                                f"returned {status_name(status)} on VC {vc.id:#x}; {fault}", vc=vc)
        if status == PENDING:
            party.op = S.OP_PENDING
            return PENDING, party
        self._add_party_done(party, status, cm_ctx)
        return status, (party if status == SUCCESS else None)

    def _add_party_done(self, party: Party, status: int, cm_ctx: Any) -> None:
        if status == SUCCESS:
            party.state = S.PARTY_CONNECTED
            party.op = S.OP_NONE
            party.cm_context = cm_ctx
        else:
            self._drop(party)

    def NdisCmAddPartyComplete(self, Status: int, NdisPartyHandle: Party, CallMgrPartyContext: Any,
                               CallParameters: CO_CALL_PARAMETERS) -> None:
        self._add_party_complete("NdisCmAddPartyComplete", Status, NdisPartyHandle, CallMgrPartyContext, CallParameters)

    def NdisMCmAddPartyComplete(self, Status: int, NdisPartyHandle: Party, CallMgrPartyContext: Any,
                                CallParameters: CO_CALL_PARAMETERS) -> None:
        self._add_party_complete("NdisMCmAddPartyComplete", Status, NdisPartyHandle, CallMgrPartyContext,
                                 CallParameters)

    def _add_party_complete(self, ddi: str, status: int, party: Any, cm_ctx: Any, params: Any) -> None:
        self._status_arg(ddi, status)
        party = self._party(ddi, party)
        vc = party.vc
        self._cm_family(ddi, vc.is_mcm, party)
        self._call_params_arg(ddi, params)
        if party.state != S.PARTY_ADDING or party.op != S.OP_PENDING or vc.state == S.CALL_MAKING:
            raise self._violate("condis.CompleteWithoutPending", ddi,
                                f"{party.label}: only an add-party whose ProtocolCmAddParty returned "
                                "NDIS_STATUS_PENDING is completed", vc=vc)
        fault = self._party_context_fault(party, status, cm_ctx)
        if fault is not None:
            raise self._violate("condis.PartyContext", ddi, fault, vc=vc)
        fn = self._handler(self._client_cl(vc), "ClAddPartyCompleteHandler", "ProtocolClAddPartyComplete",
                           vc.af.client.protocol)
        ctx = party.client_context
        self._add_party_done(party, status, cm_ctx)
        self._up(fn, "ProtocolClAddPartyComplete", status, ctx, party if status == SUCCESS else None, params)

    def NdisClDropParty(self, NdisPartyHandle: Party, Buffer: Any = None, Size: int = 0) -> int:
        ddi = "NdisClDropParty"
        party = self._party(ddi, NdisPartyHandle)
        vc = party.vc
        if party.state not in (S.PARTY_CONNECTED, S.PARTY_DROP_INDICATED):
            raise self._violate("condis.CallState", ddi,
                                f"{party.label}: a party is dropped once it is connected", vc=vc)
        if len(self._live_parties(vc)) <= 1:
            raise self._violate("condis.DropLastParty", ddi,
                                f"{safe_repr(party)} is the last party of VC {vc.id:#x}; close the call with NdisClCloseCall "
                                "and this party handle instead", vc=vc)
        self._close_data(ddi, Buffer, Size)
        fn = self._handler(self._cm_table(vc), "CmDropPartyHandler", "ProtocolCmDropParty", vc)
        previous = party.state
        party.state = S.PARTY_DROPPING
        party.op = S.OP_IN_HANDLER
        status = self._result("ProtocolCmDropParty", self._up(
            fn, "ProtocolCmDropParty", party.cm_context, Buffer, Size), 0)[0]
        if status == PENDING:
            party.op = S.OP_PENDING
        elif status == SUCCESS:
            self._drop(party)
        else:
            party.state = previous
            party.op = S.OP_NONE
        return status

    def NdisCmDropPartyComplete(self, Status: int, NdisPartyHandle: Party) -> None:
        self._drop_party_complete("NdisCmDropPartyComplete", Status, NdisPartyHandle)

    def NdisMCmDropPartyComplete(self, Status: int, NdisPartyHandle: Party) -> None:
        self._drop_party_complete("NdisMCmDropPartyComplete", Status, NdisPartyHandle)

    def _drop_party_complete(self, ddi: str, status: int, party: Any) -> None:
        self._status_arg(ddi, status)
        party = self._party(ddi, party)
        vc = party.vc
        self._cm_family(ddi, vc.is_mcm, party)
        if party.state != S.PARTY_DROPPING or party.op != S.OP_PENDING:
            raise self._violate("condis.CompleteWithoutPending", ddi,
                                f"{party.label}: only a drop whose ProtocolCmDropParty returned NDIS_STATUS_PENDING "
                                "is completed", vc=vc)
        fn = self._handler(self._client_cl(vc), "ClDropPartyCompleteHandler", "ProtocolClDropPartyComplete",
                           vc.af.client.protocol)
        ctx = party.client_context
        if status == SUCCESS:
            self._drop(party)
        else:
            party.state = S.PARTY_CONNECTED
            party.op = S.OP_NONE
        self._up(fn, "ProtocolClDropPartyComplete", status, ctx)

    def NdisCmDispatchIncomingDropParty(self, DropStatus: int, NdisPartyHandle: Party, Buffer: Any = None,
                                        Size: int = 0) -> None:
        self._incoming_drop("NdisCmDispatchIncomingDropParty", DropStatus, NdisPartyHandle, Buffer, Size)

    def NdisMCmDispatchIncomingDropParty(self, DropStatus: int, NdisPartyHandle: Party, Buffer: Any = None,
                                         Size: int = 0) -> None:
        self._incoming_drop("NdisMCmDispatchIncomingDropParty", DropStatus, NdisPartyHandle, Buffer, Size)

    def _incoming_drop(self, ddi: str, drop_status: int, party: Any, buffer: Any, size: int) -> None:
        if self._irql > DISPATCH_LEVEL:
            raise self._at_dirql(ddi)
        if type(drop_status) is not int:
            raise self._violate("condis.BadParameter", ddi, f"DropStatus must be an NDIS_STATUS int, got "
                                                            f"{safe_repr(drop_status)}")
        party = self._party(ddi, party)
        vc = party.vc
        self._cm_family(ddi, vc.is_mcm, party)
        self._close_data(ddi, buffer, size)
        if party.state != S.PARTY_CONNECTED:
            raise self._violate("condis.CallState", ddi,
                                f"{party.label}: an incoming drop applies to a connected party that the client is "
                                "not already dropping", vc=vc)
        if len(self._live_parties(vc)) <= 1:
            raise self._violate("condis.DropLastParty", ddi,
                                f"{safe_repr(party)} is the last party of VC {vc.id:#x}; indicate "
                                f"{ddi.replace('DropParty', 'CloseCall')} instead (guide: incoming-request-to-drop-"
                                "a-party-from-a-multipoint-call.md)",
                                page="guide/incoming-request-to-drop-a-party-from-a-multipoint-call.md", vc=vc)
        fn = self._handler(self._client_cl(vc), "ClIncomingDropPartyHandler", "ProtocolClIncomingDropParty",
                           vc.af.client.protocol)
        party.state = S.PARTY_DROP_INDICATED
        self._up(fn, "ProtocolClIncomingDropParty", drop_status, party.client_context, buffer, size)
