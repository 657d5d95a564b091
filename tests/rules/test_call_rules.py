"""Calls and parties: call-management functions in a call state that does not allow them, Complete
calls without a pended request, party handles that do not fit the VC, dropping the last party,
and closing a multipoint call that still has more than one party."""

from __future__ import annotations

import pytest

from condis import NDIS_STATUS_SUCCESS
from condis.drivers.client import CLOSED, UP
from condis.drivers.mcm import AtmMcm
from condis.ndis import states as S
from tests.rules.conftest import expect_violation, make_bed, manager_vc, passive, place, posted


def two_party_call(bed):
    """A multipoint call from A to bob, with a second party added to bob."""
    call = place(bed, multipoint=True)
    bed.do(0, bed.clients[0].add_party, call, b"bob")
    assert [p.state for p in call.parties] == [UP, UP]
    return call


# ---------------------------------------------------------------------------- condis.CallState

@pytest.mark.rule("condis.CallState")
def test_a_second_call_made_on_a_vc_with_a_call_up(bed):
    call = place(bed)
    host = bed.hosts[0]
    v = expect_violation(bed, "condis.CallState",
                         passive(host, lambda: host.NdisClMakeCall(call.vc, call.params, None)), ddi="NdisClMakeCall")
    assert "CONNECTED" in v.detail


@pytest.mark.rule("condis.CallState")
def test_a_call_reported_connected_twice(bed):
    place(bed)
    vc = manager_vc(bed, host=1)
    connected = bed.call_managers[1].cm("DispatchCallConnected")
    v = expect_violation(bed, "condis.CallState", posted(bed.hosts[1], lambda: connected(vc.ndis_vc)),
                         ddi=bed.call_managers[1].prefix + "DispatchCallConnected",
                         page="guide/indicating-an-incoming-call.md")
    assert "expected ACCEPTED" in v.detail


# ---------------------------------------------------------------------------- condis.CompleteWithoutPending

class CompletesInsideCloseCall(AtmMcm):
    """Tries to complete the close from inside ProtocolCmCloseCall, then pends it as usual."""

    refused = None

    def CmCloseCall(self, CallMgrVcContext, CallMgrPartyContext, CloseData, Size):
        ndis, handle = self.ndis, CallMgrVcContext.ndis_vc
        self.refused = expect_violation(ndis, "condis.CompleteWithoutPending",
                                        lambda: ndis.NdisMCmCloseCallComplete(NDIS_STATUS_SUCCESS, handle, None),
                                        ddi="NdisMCmCloseCallComplete")
        return super().CmCloseCall(CallMgrVcContext, CallMgrPartyContext, CloseData, Size)


@pytest.mark.rule("condis.CompleteWithoutPending")
def test_a_close_completed_that_was_never_requested(bed):
    call = place(bed)
    vc, manager = manager_vc(bed), bed.call_managers[0]
    complete = manager.cm("CloseCallComplete")
    v = expect_violation(bed, "condis.CompleteWithoutPending",
                         posted(bed.hosts[0], lambda: complete(NDIS_STATUS_SUCCESS, vc.ndis_vc, None)),
                         ddi=manager.prefix + "CloseCallComplete")
    assert "CONNECTED" in v.detail and call.state == UP


@pytest.mark.rule("condis.CompleteWithoutPending")
def test_a_close_completed_inside_protocolcmclosecall():
    bed = make_bed("mcm", mcm=CompletesInsideCloseCall)
    call = place(bed)
    bed.do(0, bed.clients[0].close, call)
    assert "IN_HANDLER" in bed.call_managers[0].refused.detail
    assert call.state == CLOSED and call.deleted         # the close the MCM pended went through


@pytest.mark.rule("condis.CompleteWithoutPending")
def test_a_miniport_completes_an_activation_that_did_not_pend(cm):
    call = place(cm)
    vc = call.vc.vc
    host = cm.hosts[0]
    v = expect_violation(cm, "condis.CompleteWithoutPending",
                         posted(host, lambda: host.NdisMCoActivateVcComplete(NDIS_STATUS_SUCCESS, vc.h_miniport,
                                                                            vc.call_params)),
                         ddi="NdisMCoActivateVcComplete", page="ddi/nf-ndis-ndismcoactivatevccomplete.md")
    assert "ACTIVE" in v.detail


@pytest.mark.rule("condis.CompleteWithoutPending")
def test_a_bind_completed_that_did_not_pend(mcm):
    host = mcm.hosts[0]
    finished = mcm.clients[0].bindings[0].handle.bind_context
    expect_violation(mcm, "condis.CompleteWithoutPending",
                     passive(host, lambda: host.NdisCompleteBindAdapterEx(finished, NDIS_STATUS_SUCCESS)),
                     ddi="NdisCompleteBindAdapterEx")


# ---------------------------------------------------------------------------- condis.PartyHandle

@pytest.mark.rule("condis.PartyHandle")
def test_a_point_to_point_call_closed_with_a_party_handle(bed):
    other = place(bed, multipoint=True)
    call = place(bed)
    stray = other.parties[0].handle
    host = bed.hosts[0]
    v = expect_violation(bed, "condis.PartyHandle", passive(host, lambda: host.NdisClCloseCall(call.vc, stray, None, 0)),
                         ddi="NdisClCloseCall")
    assert "must be NULL" in v.detail


@pytest.mark.rule("condis.PartyHandle")
def test_a_multipoint_call_closed_without_its_last_party(bed):
    call = place(bed, multipoint=True)
    host = bed.hosts[0]
    v = expect_violation(bed, "condis.PartyHandle", passive(host, lambda: host.NdisClCloseCall(call.vc, None, None, 0)),
                         ddi="NdisClCloseCall")
    assert "last remaining party" in v.detail


@pytest.mark.rule("condis.PartyHandle")
def test_a_party_added_to_a_point_to_point_call(bed):
    call = place(bed)
    host = bed.hosts[0]
    v = expect_violation(bed, "condis.PartyHandle",
                         passive(host, lambda: host.NdisClAddParty(call.vc, object(), call.params)),
                         ddi="NdisClAddParty", page="guide/adding-a-party-to-a-multipoint-call.md")
    assert "point-to-point" in v.detail


# ---------------------------------------------------------------------------- condis.DropLastParty

@pytest.mark.rule("condis.DropLastParty")
def test_the_client_drops_the_last_party(bed):
    call = place(bed, multipoint=True)
    host = bed.hosts[0]
    last = call.parties[0].handle
    v = expect_violation(bed, "condis.DropLastParty", passive(host, lambda: host.NdisClDropParty(last, None, 0)),
                         ddi="NdisClDropParty")
    assert "NdisClCloseCall" in v.detail and last.state == S.PARTY_CONNECTED


@pytest.mark.rule("condis.DropLastParty")
def test_the_call_manager_indicates_a_drop_of_the_last_party(bed):
    call = place(bed, multipoint=True)
    manager = bed.call_managers[0]
    drop = manager.cm("DispatchIncomingDropParty")
    last = call.parties[0].handle
    v = expect_violation(bed, "condis.DropLastParty",
                         posted(bed.hosts[0], lambda: drop(NDIS_STATUS_SUCCESS, last, None, 0)),
                         ddi=manager.prefix + "DispatchIncomingDropParty")
    assert "CloseCall instead" in v.detail


# ---------------------------------------------------------------------------- condis.CloseWithParties

@pytest.mark.rule("condis.CloseWithParties")
def test_the_client_closes_a_call_that_still_has_two_parties(bed):
    call = two_party_call(bed)
    host = bed.hosts[0]
    last = call.parties[-1].handle
    v = expect_violation(bed, "condis.CloseWithParties",
                         passive(host, lambda: host.NdisClCloseCall(call.vc, last, None, 0)), ddi="NdisClCloseCall")
    assert "2 parties" in v.detail
