"""The rules and checks that come from the obligation sentences of the CoNDIS pages
(condis/verifier/musts.tsv): party contexts, deactivating a VC with sends in flight, an MCM's OID
handlers, QoS changes without reactivation, changed call parameters without their flag, requests
while an AF open is pending, completions for the wrong VC, NdisCoAssignInstanceName from an MCM, and
a client without ProtocolCoAfRegisterNotify."""

from __future__ import annotations

from dataclasses import replace

import pytest

from condis import (
    NDIS_CO_CLIENT_OPTIONAL_HANDLERS,
    NDIS_MINIPORT_CO_CHARACTERISTICS,
    NDIS_OID_REQUEST,
    NDIS_PROTOCOL_CO_CHARACTERISTICS,
    NDIS_STATUS_PENDING,
    NDIS_STATUS_SUCCESS,
    OID_GEN_CO_LINK_SPEED,
)
from condis.constants import CALL_PARAMETERS_CHANGED
from condis.drivers.client import AtmClient
from condis.drivers.mcm import AtmMcm
from condis.drivers.miniport import AtmMiniport
from condis.ndis import states as S
from condis.ndis.snapshot import snapshot
from tests.rules.conftest import changes, expect_violation, make_bed, manager_vc, passive, place, posted

# ---------------------------------------------------------------------------- condis.PartyContext


class PartyContextOnPointToPoint(AtmMcm):
    """Hands NDIS a CallMgrPartyContext even when the call has no party."""

    def CmMakeCall(self, CallMgrVcContext, CallParameters, NdisPartyHandle):
        status, party = super().CmMakeCall(CallMgrVcContext, CallParameters, NdisPartyHandle)
        return status, (object() if NdisPartyHandle is None else party)


@pytest.mark.rule("condis.PartyContext")
def test_protocolcmmakecall_returns_a_party_context_for_a_point_to_point_call():
    bed = make_bed("mcm", mcm=PartyContextOnPointToPoint)
    host = bed.hosts[0]
    before = snapshot(host)
    v = expect_violation(bed, "condis.PartyContext", passive(host, lambda: bed.clients[0].place_call(b"bob")),
                         ddi="ProtocolCmMakeCall", unchanged=False)
    assert "point-to-point" in v.detail
    # NDIS put the call back where it was: the client's new VC is there, idle and inactive.
    created = changes(before, snapshot(host))["vcs"]
    assert [(old, new[:4]) for old, new in created.values()] == [(None, (S.CALL_IDLE, S.OP_NONE, S.VC_INACTIVE,
                                                                         S.OP_NONE))]


class HoldsAddedParty(AtmMcm):
    """Keeps the completion of an added party for the test to make."""

    held = None

    def _party_added(self, party, status):
        self.held = party


@pytest.mark.rule("condis.PartyContext")
def test_an_add_party_completed_with_success_and_no_party_context():
    bed = make_bed("mcm", mcm=HoldsAddedParty)
    host = bed.hosts[0]
    call = place(bed, multipoint=True)
    bed.do(0, bed.clients[0].add_party, call, b"bob")
    party = bed.call_managers[0].held
    assert party is not None and party.ndis_party.state == S.PARTY_ADDING
    v = expect_violation(bed, "condis.PartyContext",
                         posted(host, lambda: host.NdisMCmAddPartyComplete(NDIS_STATUS_SUCCESS, party.ndis_party, None,
                                                                            party.params)),
                         ddi="NdisMCmAddPartyComplete", page="ddi/nf-ndis-ndismcmaddpartycomplete.md")
    assert "NULL" in v.detail


# ---------------------------------------------------------------------------- condis.DeactivateWithSends


class HoldsSends(AtmMiniport):
    """Once ``hold`` is set, never completes a send; deactivates at once, or pends the deactivation
    when ``pend`` is set. (Until then it carries the call manager's signaling as usual.)"""

    hold = False
    pend = False
    deactivating = None

    def MiniportCoSendNetBufferLists(self, MiniportVcContext, NetBufferLists, SendFlags):
        if not self.hold:
            super().MiniportCoSendNetBufferLists(MiniportVcContext, NetBufferLists, SendFlags)

    def MiniportCoDeactivateVc(self, MiniportVcContext):
        if self.pend:
            self.deactivating = MiniportVcContext
            return NDIS_STATUS_PENDING
        return NDIS_STATUS_SUCCESS


def _call_with_a_send_in_flight(pend: bool):
    bed = make_bed("cm", miniport=HoldsSends)
    miniport = bed.hosts[0].drivers["atmmp"].miniport.context
    miniport.pend = pend
    call = place(bed)
    miniport.hold = True
    bed.do(0, bed.clients[0].send, call, b"data")
    vc = manager_vc(bed).ndis_vc.vc
    assert len(vc.sends) == 1 and vc.activation == S.VC_ACTIVE
    return bed, manager_vc(bed).ndis_vc


@pytest.mark.rule("condis.DeactivateWithSends")
def test_miniportcodeactivatevc_succeeds_with_a_send_outstanding():
    bed, handle = _call_with_a_send_in_flight(pend=False)
    host = bed.hosts[0]
    v = expect_violation(bed, "condis.DeactivateWithSends", posted(host, lambda: host.NdisCmDeactivateVc(handle)),
                         ddi="MiniportCoDeactivateVc")
    assert "1 NET_BUFFER_LIST(s)" in v.detail and handle.vc.activation == S.VC_ACTIVE


@pytest.mark.rule("condis.DeactivateWithSends")
def test_a_deactivation_completed_with_a_send_outstanding():
    bed, handle = _call_with_a_send_in_flight(pend=True)
    host = bed.hosts[0]
    miniport = host.drivers["atmmp"].miniport.context
    statuses = []
    posted(host, lambda: statuses.append(host.NdisCmDeactivateVc(handle)))()
    assert statuses == [NDIS_STATUS_PENDING] and handle.vc.activation == S.VC_DEACTIVATING
    mp_handle = miniport.deactivating.handle
    expect_violation(bed, "condis.DeactivateWithSends",
                     posted(host, lambda: host.NdisMCoDeactivateVcComplete(NDIS_STATUS_SUCCESS, mp_handle)),
                     ddi="NdisMCoDeactivateVcComplete")


# ---------------------------------------------------------------------------- condis.SeparateOidHandlers


class SharesOidHandler(AtmMcm):
    """Tries to register its MiniportCoOidRequest as its call manager's ProtocolCoOidRequest too."""

    refused = None

    def SetOptions(self, NdisDriverHandle, DriverContext):
        ndis = self.ndis
        assert ndis.NdisSetOptionalHandlers(NdisDriverHandle, NDIS_MINIPORT_CO_CHARACTERISTICS(
            CoSendNetBufferListsHandler=self.MiniportCoSendNetBufferLists,
            CoOidRequestHandler=self.MiniportCoOidRequest)) == NDIS_STATUS_SUCCESS
        shared = replace(self.call_manager_handlers(), CmOidRequestHandler=self.MiniportCoOidRequest)
        self.refused = expect_violation(ndis, "condis.SeparateOidHandlers",
                                        lambda: ndis.NdisSetOptionalHandlers(NdisDriverHandle, shared),
                                        ddi="NdisSetOptionalHandlers")
        return ndis.NdisSetOptionalHandlers(NdisDriverHandle, self.call_manager_handlers())


@pytest.mark.rule("condis.SeparateOidHandlers")
def test_an_mcm_registers_its_miniport_oid_handler_for_call_manager_requests():
    bed = make_bed("mcm", mcm=SharesOidHandler)
    assert "CmOidRequestHandler" in bed.call_managers[0].refused.detail
    call = place(bed)                      # the separate table registered afterwards works as usual
    assert call.vc is not None and call.vc.vc.state == S.CALL_CONNECTED


# ---------------------------------------------------------------------------- checks under existing rules


@pytest.mark.rule("condis.WrongCaller")
def test_an_mcm_names_its_vc_with_ndiscoassigninstancename(mcm):
    place(mcm)
    host, handle = mcm.hosts[0], manager_vc(mcm).ndis_vc
    v = expect_violation(mcm, "condis.WrongCaller", posted(host, lambda: host.NdisCoAssignInstanceName(handle, "vc")),
                         ddi="NdisCoAssignInstanceName")
    assert "MCM" in v.detail and handle.vc.instance_name is None


class NoAfRegisterNotify(AtmClient):
    """Registers its client handlers, then a co table without ProtocolCoAfRegisterNotify."""

    refused = None

    def SetOptions(self, NdisDriverHandle, DriverContext):
        ndis, tables = self.ndis, []
        self.ndis = _Collect(tables)
        super().SetOptions(NdisDriverHandle, DriverContext)
        self.ndis = ndis
        co = next(t for t in tables if isinstance(t, NDIS_PROTOCOL_CO_CHARACTERISTICS))
        cl = next(t for t in tables if isinstance(t, NDIS_CO_CLIENT_OPTIONAL_HANDLERS))
        assert ndis.NdisSetOptionalHandlers(NdisDriverHandle, cl) == NDIS_STATUS_SUCCESS
        lacking = replace(co, CoAfRegisterNotifyHandler=None)
        self.refused = expect_violation(ndis, "condis.MissingHandler",
                                        lambda: ndis.NdisSetOptionalHandlers(NdisDriverHandle, lacking),
                                        ddi="NdisSetOptionalHandlers")
        return ndis.NdisSetOptionalHandlers(NdisDriverHandle, co)


class _Collect:
    """Stands in for the host while the sample client's SetOptions builds its tables."""

    def __init__(self, tables: list) -> None:
        self.tables = tables

    def NdisSetOptionalHandlers(self, NdisHandle, OptionalHandlers):
        self.tables.append(OptionalHandlers)
        return NDIS_STATUS_SUCCESS


@pytest.mark.rule("condis.MissingHandler")
def test_a_client_without_protocolcoafregisternotify():
    bed = make_bed("mcm", client=NoAfRegisterNotify)
    assert "CoAfRegisterNotifyHandler" in bed.clients[0].refused.detail
    assert bed.clients[0].af_for().open    # registered properly afterwards, it hears of the AF and opens it


# ---------------------------------------------------------------------------- condis.QosReactivation


class ModifiesWithoutReactivating(AtmMcm):
    """Takes every QoS change and never activates the VC with the new parameters; pends unless
    ``at_once`` is set."""

    at_once = False
    modifying = None

    def CmModifyCallQoS(self, CallMgrVcContext, CallParameters):
        self.modifying = (CallMgrVcContext, CallParameters)
        return NDIS_STATUS_SUCCESS if self.at_once else NDIS_STATUS_PENDING


@pytest.mark.rule("condis.QosReactivation")
def test_a_qos_change_completed_with_success_without_reactivating_the_vc():
    bed = make_bed("mcm", mcm=ModifiesWithoutReactivating)
    host = bed.hosts[0]
    call = place(bed)
    bed.do(0, bed.clients[0].modify_qos, call, 3_000_000)
    vc, params = bed.call_managers[0].modifying
    assert vc.ndis_vc.vc.state == S.CALL_MODIFYING
    v = expect_violation(bed, "condis.QosReactivation",
                         posted(host, lambda: host.NdisMCmModifyCallQoSComplete(NDIS_STATUS_SUCCESS, vc.ndis_vc, params)),
                         ddi="NdisMCmModifyCallQoSComplete")
    assert "NdisMCmActivateVc" in v.detail


@pytest.mark.rule("condis.QosReactivation")
def test_protocolcmmodifycallqos_succeeds_at_once_without_reactivating_the_vc():
    bed = make_bed("mcm", mcm=ModifiesWithoutReactivating)
    bed.call_managers[0].at_once = True
    call = place(bed)
    host = bed.hosts[0]
    expect_violation(bed, "condis.QosReactivation", passive(host, lambda: bed.clients[0].modify_qos(call, 3_000_000)),
                     ddi="ProtocolCmModifyCallQoS")
    assert call.vc.vc.state == S.CALL_CONNECTED


# ---------------------------------------------------------------------------- condis.OpenAfPending


class PendsOpenAf(AtmMcm):
    """Pends every open of its AF; the test completes it."""

    pended = None

    def CmOpenAf(self, CallMgrBindingContext, AddressFamily, NdisAfHandle):
        status, ctx = super().CmOpenAf(CallMgrBindingContext, AddressFamily, NdisAfHandle)
        self.pended = (NdisAfHandle, ctx)
        return NDIS_STATUS_PENDING, None


@pytest.mark.rule("condis.OpenAfPending")
def test_a_client_sends_a_request_on_a_binding_whose_af_open_is_pending():
    bed = make_bed("mcm", mcm=PendsOpenAf)
    host, client = bed.hosts[0], bed.clients[0]
    binding = client.bindings[0].handle

    def request():
        return host.NdisCoOidRequest(binding, None, None, None, NDIS_OID_REQUEST(Oid=OID_GEN_CO_LINK_SPEED))
    v = expect_violation(bed, "condis.OpenAfPending", passive(host, request), ddi="NdisCoOidRequest")
    assert "ProtocolClOpenAfCompleteEx" in v.detail
    af, ctx = bed.call_managers[0].pended
    posted(host, lambda: host.NdisMCmOpenAddressFamilyComplete(NDIS_STATUS_SUCCESS, af, ctx))()
    assert client.af_for().open
    answers = []
    passive(host, lambda: answers.append(request()))()
    assert answers and answers[0] != NDIS_STATUS_PENDING     # the binding takes requests again


# ---------------------------------------------------------------------------- condis.OidComplete: the wrong VC


class PendsMiniportOids(AtmMcm):
    """Pends every MiniportCoOidRequest; the test completes them."""

    def MiniportCoOidRequest(self, MiniportAdapterContext, MiniportVcContext, NdisRequest):
        return NDIS_STATUS_PENDING


@pytest.mark.rule("condis.OidComplete")
def test_a_request_made_on_no_vc_is_completed_for_a_vc():
    bed = make_bed("mcm", mcm=PendsMiniportOids)
    host, client = bed.hosts[0], bed.clients[0]
    place(bed)
    request = NDIS_OID_REQUEST(Oid=OID_GEN_CO_LINK_SPEED)
    answers = []
    passive(host, lambda: answers.append(host.NdisCoOidRequest(client.bindings[0].handle, None, None, None,
                                                               request)))()
    assert answers == [NDIS_STATUS_PENDING]
    adapter, wrong = host.adapters["atm0"], manager_vc(bed).ndis_vc
    v = expect_violation(bed, "condis.OidComplete",
                         posted(host, lambda: host.NdisMCoOidRequestComplete(adapter, wrong, request,
                                                                             NDIS_STATUS_SUCCESS)),
                         ddi="NdisMCoOidRequestComplete")
    assert "no VC" in v.detail


class McmHoldsSends(AtmMcm):
    """Once ``hold`` is set, never completes a send."""

    hold = False

    def MiniportCoSendNetBufferLists(self, MiniportVcContext, NetBufferLists, SendFlags):
        if not self.hold:
            super().MiniportCoSendNetBufferLists(MiniportVcContext, NetBufferLists, SendFlags)


@pytest.mark.rule("condis.DeactivateWithSends")
def test_an_mcm_deactivates_a_vc_with_a_send_outstanding():
    bed = make_bed("mcm", mcm=McmHoldsSends)
    host = bed.hosts[0]
    call = place(bed)
    bed.call_managers[0].hold = True
    bed.do(0, bed.clients[0].send, call, b"data")
    handle = manager_vc(bed).ndis_vc
    expect_violation(bed, "condis.DeactivateWithSends", posted(host, lambda: host.NdisMCmDeactivateVc(handle)),
                     ddi="NdisMCmDeactivateVc")
    assert handle.vc.activation == S.VC_ACTIVE


# ---------------------------------------------------------------------------- condis.CallParamsChanged


@pytest.mark.rule("condis.CallParamsChanged")
def test_a_client_accepts_a_call_with_changed_parameters_and_no_flag():
    bed = make_bed("mcm", answer=lambda call: NDIS_STATUS_PENDING)
    place(bed)
    host, call = bed.hosts[1], bed.clients[1].incoming[0]
    assert call.vc.vc.state == S.CALL_OFFERED
    changed = replace(call.params, CallMgrParameters=replace(
        call.params.CallMgrParameters, Receive=replace(call.params.CallMgrParameters.Receive, PeakBandwidth=1)))
    v = expect_violation(bed, "condis.CallParamsChanged",
                         posted(host, lambda: host.NdisClIncomingCallComplete(NDIS_STATUS_SUCCESS, call.vc, changed)),
                         ddi="NdisClIncomingCallComplete")
    assert "CALL_PARAMETERS_CHANGED" in v.detail
    flagged = replace(changed, Flags=changed.Flags | CALL_PARAMETERS_CHANGED)
    posted(host, lambda: host.NdisClIncomingCallComplete(NDIS_STATUS_SUCCESS, call.vc, flagged))()
    assert call.vc.vc.state in (S.CALL_ACCEPTED, S.CALL_CONNECTED)     # said so, the change is accepted
