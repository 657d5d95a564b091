"""Handles, callers and parameters: a stale, foreign or wrong-kind handle; a function called by a
kind of driver its page does not allow; NDIS_STATUS_PENDING as a final status; a bad parameter."""

from __future__ import annotations

import pytest

from condis import (
    CO_ADDRESS_FAMILY,
    CO_ADDRESS_FAMILY_Q2931,
    CO_CALL_PARAMETERS,
    DISPATCH_LEVEL,
    NDIS_STATUS_PENDING,
    NDIS_STATUS_SUCCESS,
    NDIS_TIMER_CHARACTERISTICS,
)
from condis.drivers.client import CLOSED, CLOSING
from condis.ndis import states as S
from tests.rules.conftest import (
    created_vc,
    cut_wire,
    expect_violation,
    make_bed,
    manager_vc,
    passive,
    place,
    posted,
)


def pended_close(bed):
    """A call whose close the call manager pended and, with the wire cut, never finishes."""
    call = place(bed)
    cut_wire(bed)
    bed.do(0, bed.clients[0].close, call)
    assert call.state == CLOSING
    return call, manager_vc(bed)


# ---------------------------------------------------------------------------- condis.BadHandle

@pytest.mark.rule("condis.BadHandle")
def test_a_vc_handle_used_after_the_vc_was_deleted(bed):
    call = place(bed)
    bed.do(0, bed.clients[0].close, call)
    assert call.state == CLOSED and call.deleted
    host = bed.hosts[0]
    v = expect_violation(bed, "condis.BadHandle", passive(host, lambda: host.NdisClCloseCall(call.vc, None, None, 0)),
                         ddi="NdisClCloseCall")
    assert "no longer valid" in v.detail


@pytest.mark.rule("condis.BadHandle")
def test_a_handle_another_host_issued(bed):
    sap = bed.clients[0].af_for().saps[0].handle
    other = bed.hosts[1]
    v = expect_violation(bed, "condis.BadHandle", passive(other, lambda: other.NdisClDeregisterSap(sap)),
                         ddi="NdisClDeregisterSap")
    assert "belongs to host 'A'" in v.detail


@pytest.mark.rule("condis.BadHandle")
def test_a_binding_handle_where_a_vc_handle_belongs(mcm):
    host = mcm.hosts[0]
    binding = mcm.clients[0].bindings[0].handle
    params = CO_CALL_PARAMETERS()
    v = expect_violation(mcm, "condis.BadHandle", passive(host, lambda: host.NdisClMakeCall(binding, params, None)),
                         ddi="NdisClMakeCall")
    assert "got Binding" in v.detail


@pytest.mark.rule("condis.BadHandle")
def test_a_work_item_queued_after_it_was_freed(mcm):
    host = mcm.hosts[0]
    item = host.NdisAllocateIoWorkItem(host.adapters["atm0"])
    host.NdisFreeIoWorkItem(item)
    expect_violation(mcm, "condis.BadHandle", passive(host, lambda: host.NdisQueueIoWorkItem(item, lambda c, h: None,
                                                                                             None)),
                     ddi="NdisQueueIoWorkItem")


# ---------------------------------------------------------------------------- condis.WrongCaller

@pytest.mark.rule("condis.WrongCaller")
def test_an_mcm_completes_a_close_with_the_stand_alone_call_managers_function(mcm):
    _, vc = pended_close(mcm)
    host = mcm.hosts[0]
    v = expect_violation(mcm, "condis.WrongCaller",
                         posted(host, lambda: host.NdisCmCloseCallComplete(NDIS_STATUS_SUCCESS, vc.ndis_vc, None)),
                         ddi="NdisCmCloseCallComplete")
    assert "NdisMCmCloseCallComplete" in v.detail


@pytest.mark.rule("condis.WrongCaller")
def test_a_stand_alone_call_manager_completes_a_close_with_the_mcm_function(cm):
    _, vc = pended_close(cm)
    host = cm.hosts[0]
    v = expect_violation(cm, "condis.WrongCaller",
                         posted(host, lambda: host.NdisMCmCloseCallComplete(NDIS_STATUS_SUCCESS, vc.ndis_vc, None)),
                         ddi="NdisMCmCloseCallComplete")
    assert "NdisCmCloseCallComplete" in v.detail


@pytest.mark.rule("condis.WrongCaller")
def test_a_client_makes_a_call_with_the_call_managers_vc_handle(bed):
    handle = created_vc(bed)
    host = bed.hosts[0]
    params = CO_CALL_PARAMETERS()
    v = expect_violation(bed, "condis.WrongCaller",
                         passive(host, lambda: host.NdisClMakeCall(handle.vc.h_cm, params, None)),
                         ddi="NdisClMakeCall")
    assert "client's handle" in v.detail


@pytest.mark.rule("condis.WrongCaller")
def test_a_client_creates_a_vc_with_no_af(mcm):
    host = mcm.hosts[0]
    binding = mcm.clients[0].bindings[0].handle
    v = expect_violation(mcm, "condis.WrongCaller", passive(host, lambda: host.NdisCoCreateVc(binding, None, object())),
                         ddi="NdisCoCreateVc")
    assert "not a call manager" in v.detail


@pytest.mark.rule("condis.WrongCaller")
def test_a_plain_miniport_registers_an_af(cm):
    host = cm.hosts[0]
    adapter = host.adapters["atm0"]
    family = CO_ADDRESS_FAMILY(CO_ADDRESS_FAMILY_Q2931, 3, 1)
    v = expect_violation(cm, "condis.WrongCaller",
                         passive(host, lambda: host.NdisMCmRegisterAddressFamilyEx(adapter, family)),
                         ddi="NdisMCmRegisterAddressFamilyEx")
    assert "only an MCM" in v.detail


# ---------------------------------------------------------------------------- condis.PendingStatus

@pytest.mark.rule("condis.PendingStatus")
def test_a_close_completed_with_ndis_status_pending(bed):
    call, vc = pended_close(bed)
    host, manager = bed.hosts[0], bed.call_managers[0]
    complete = manager.cm("CloseCallComplete")
    v = expect_violation(bed, "condis.PendingStatus",
                         posted(host, lambda: complete(NDIS_STATUS_PENDING, vc.ndis_vc, None)),
                         ddi=manager.prefix + "CloseCallComplete")
    assert "final status" in v.detail
    assert vc.ndis_vc.vc.state == S.CALL_CLOSING and call.state == CLOSING


@pytest.mark.rule("condis.PendingStatus")
def test_an_incoming_call_accepted_with_ndis_status_pending():
    bed = make_bed("mcm", answer=lambda call: NDIS_STATUS_PENDING)
    place(bed)
    offered = bed.clients[1].incoming[-1]
    host = bed.hosts[1]
    expect_violation(bed, "condis.PendingStatus",
                     passive(host, lambda: host.NdisClIncomingCallComplete(NDIS_STATUS_PENDING, offered.vc,
                                                                           offered.params)),
                     ddi="NdisClIncomingCallComplete")
    bed.do(1, bed.clients[1].accept, offered)          # the right answer still goes through
    assert offered.vc.vc.state == S.CALL_CONNECTED


# ---------------------------------------------------------------------------- condis.BadParameter

@pytest.mark.rule("condis.BadParameter")
def test_a_call_made_without_call_parameters(bed):
    handle = created_vc(bed)
    host = bed.hosts[0]
    v = expect_violation(bed, "condis.BadParameter", passive(host, lambda: host.NdisClMakeCall(handle, None, None)),
                         ddi="NdisClMakeCall")
    assert "CO_CALL_PARAMETERS" in v.detail


@pytest.mark.rule("condis.BadParameter")
def test_a_net_buffer_list_longer_than_its_data(mcm):
    host = mcm.hosts[0]
    pool = mcm.clients[0].bindings[0].pool
    v = expect_violation(mcm, "condis.BadParameter",
                         posted(host, lambda: host.NdisAllocateNetBufferAndNetBufferList(pool, 0, 0, b"abc", 2, 4)),
                         ddi="NdisAllocateNetBufferAndNetBufferList")
    assert "exceed" in v.detail and pool.outstanding == 0


@pytest.mark.rule("condis.BadParameter")
def test_a_timer_set_with_a_due_time_that_is_not_an_int(mcm):
    host = mcm.hosts[0]
    _, timer = host.NdisAllocateTimerObject(mcm.clients[0].bindings[0].handle,
                                            NDIS_TIMER_CHARACTERISTICS(TimerFunction=lambda *a: None))
    expect_violation(mcm, "condis.BadParameter", posted(host, lambda: host.NdisSetTimerObject(timer, 1.5, 0, None),
                                                        irql=DISPATCH_LEVEL),
                     ddi="NdisSetTimerObject")
    assert timer.event is None


# Size with no Buffer (each page: Size is zero when Buffer is NULL): refused, the call manager or the
# client is not called with a length of data that is not there.

@pytest.mark.rule("condis.BadParameter")
def test_a_call_closed_with_a_size_and_no_buffer(bed):
    call = place(bed)
    host = bed.hosts[0]
    v = expect_violation(bed, "condis.BadParameter", passive(host, lambda: host.NdisClCloseCall(call.vc, None, None, 8)),
                         ddi="NdisClCloseCall", page="ddi/nf-ndis-ndisclclosecall.md")
    assert "Size is 8 but Buffer is NULL" in v.detail and call.vc.vc.state == S.CALL_CONNECTED
    out = []
    # the same close without the data (the sample call managers carry no close data) goes through
    passive(host, lambda: out.append(host.NdisClCloseCall(call.vc, None, None, 0)))()
    assert out and call.vc.vc.state != S.CALL_CONNECTED


@pytest.mark.rule("condis.BadParameter")
def test_a_party_dropped_with_a_size_and_no_buffer(bed):
    call = place(bed, multipoint=True)
    bed.do(0, bed.clients[0].add_party, call, b"bob")
    host, party = bed.hosts[0], call.parties[-1].handle
    v = expect_violation(bed, "condis.BadParameter", passive(host, lambda: host.NdisClDropParty(party, None, 4)),
                         ddi="NdisClDropParty", page="ddi/nf-ndis-ndiscldropparty.md")
    assert "Size is 4" in v.detail and party.state == S.PARTY_CONNECTED


@pytest.mark.rule("condis.BadParameter")
def test_an_incoming_close_and_drop_indicated_with_a_size_and_no_buffer(bed):
    call = place(bed, multipoint=True)
    bed.do(0, bed.clients[0].add_party, call, b"bob")
    manager, host = bed.call_managers[0], bed.hosts[0]
    close, drop = manager.cm("DispatchIncomingCloseCall"), manager.cm("DispatchIncomingDropParty")
    party = call.parties[-1].handle
    name = manager.prefix + "DispatchIncomingDropParty"
    expect_violation(bed, "condis.BadParameter", posted(host, lambda: drop(NDIS_STATUS_SUCCESS, party, None, 2)),
                     ddi=name, page=f"ddi/nf-ndis-{name.lower()}.md")
    name = manager.prefix + "DispatchIncomingCloseCall"
    v = expect_violation(bed, "condis.BadParameter",
                         posted(host, lambda: close(NDIS_STATUS_SUCCESS, call.vc.vc.h_cm, None, 2)),
                         ddi=name, page=f"ddi/nf-ndis-{name.lower()}.md")
    assert "Size is 2" in v.detail and call.vc.vc.state == S.CALL_CONNECTED and party.state == S.PARTY_CONNECTED
