"""Data on VCs: sending or indicating on a VC that carries no call, sending after NdisClCloseCall,
closing with sends outstanding, completing sends that are not outstanding, and NET_BUFFER_LISTs
used or freed in the wrong hands."""

from __future__ import annotations

import pytest

from condis import NET_BUFFER_LIST
from condis.drivers.client import CLOSED, CLOSING
from tests.rules.conftest import created_vc, cut_wire, expect_violation, nbl_for, passive, place, posted


def sent_not_completed(bed, call):
    """Send one NET_BUFFER_LIST on ``call`` and stop before the miniport completes it."""
    host = bed.hosts[0]
    nbl = nbl_for(host, call.af.binding.pool, call.vc)
    host.post(lambda: host.NdisCoSendNetBufferLists(call.vc, nbl, 0))
    bed.sim.run(max_steps=1)
    assert call.vc.vc.sends == {nbl}
    return nbl


# ---------------------------------------------------------------------------- condis.SendOnInactiveVc

@pytest.mark.rule("condis.SendOnInactiveVc")
def test_a_client_sends_on_a_vc_with_no_call(bed):
    handle = created_vc(bed)
    host = bed.hosts[0]
    nbl = nbl_for(host, bed.clients[0].bindings[0].pool, handle)
    v = expect_violation(bed, "condis.SendOnInactiveVc", passive(host, lambda: host.NdisCoSendNetBufferLists(handle, nbl, 0)),
                         ddi="NdisCoSendNetBufferLists")
    assert "INACTIVE" in v.detail and not handle.vc.sends


@pytest.mark.rule("condis.SendOnInactiveVc")
def test_an_mcm_indicates_data_on_a_vc_it_never_activated(mcm):
    handle = created_vc(mcm)
    host = mcm.hosts[0]
    mcm_handle = handle.vc.h_cm
    nbl = nbl_for(host, mcm.call_managers[0].adapters[0].nic.pool, mcm_handle)
    v = expect_violation(mcm, "condis.SendOnInactiveVc",
                         posted(host, lambda: host.NdisMCoIndicateReceiveNetBufferLists(mcm_handle, nbl, 1, 0)),
                         ddi="NdisMCoIndicateReceiveNetBufferLists")
    assert "INACTIVE" in v.detail


# ---------------------------------------------------------------------------- condis.SendAfterClose

@pytest.mark.rule("condis.SendAfterClose")
def test_a_client_sends_after_ndisclclosecall(bed):
    call = place(bed)
    cut_wire(bed)
    bed.do(0, bed.clients[0].close, call)
    assert call.state == CLOSING
    host = bed.hosts[0]
    nbl = nbl_for(host, call.af.binding.pool, call.vc)
    v = expect_violation(bed, "condis.SendAfterClose", passive(host, lambda: host.NdisCoSendNetBufferLists(call.vc, nbl, 0)),
                         ddi="NdisCoSendNetBufferLists")
    assert "NdisClCloseCall" in v.detail and not call.vc.vc.sends


# ---------------------------------------------------------------------------- condis.SendsOutstanding

@pytest.mark.rule("condis.SendsOutstanding")
def test_a_call_closed_while_a_send_on_it_is_outstanding(bed):
    call = place(bed)
    sent_not_completed(bed, call)
    host = bed.hosts[0]
    v = expect_violation(bed, "condis.SendsOutstanding",
                         passive(host, lambda: host.NdisClCloseCall(call.vc, None, None, 0)), ddi="NdisClCloseCall")
    assert "1 NET_BUFFER_LIST(s)" in v.detail
    bed.run()                                   # the send completes; now the close goes through
    bed.do(0, bed.clients[0].close, call)
    assert call.state == CLOSED


# ---------------------------------------------------------------------------- condis.SendComplete

@pytest.mark.rule("condis.SendComplete")
def test_a_miniport_completes_a_send_it_never_got(bed):
    call = place(bed)
    host = bed.hosts[0]
    vc = call.vc.vc
    stray = nbl_for(host, call.af.binding.pool, call.vc)
    v = expect_violation(bed, "condis.SendComplete",
                         posted(host, lambda: host.NdisMCoSendNetBufferListsComplete(vc.h_miniport, stray, 0)),
                         ddi="NdisMCoSendNetBufferListsComplete")
    assert "not sends outstanding" in v.detail


@pytest.mark.rule("condis.SendComplete")
def test_a_miniport_completes_a_send_on_another_vc(mcm):
    first, second = place(mcm), place(mcm)
    nbl = sent_not_completed(mcm, first)
    host = mcm.hosts[0]
    expect_violation(mcm, "condis.SendComplete",
                     posted(host, lambda: host.NdisMCoSendNetBufferListsComplete(second.vc.vc.h_miniport, nbl, 0)),
                     ddi="NdisMCoSendNetBufferListsComplete")
    mcm.run()
    assert first.send_completed == 1 and not first.vc.vc.sends


# ---------------------------------------------------------------------------- condis.NblState

@pytest.mark.rule("condis.NblState")
def test_a_net_buffer_list_freed_twice(mcm):
    host = mcm.hosts[0]
    pool = mcm.clients[0].bindings[0].pool
    nbl = nbl_for(host, pool, None)
    host.NdisFreeNetBufferList(nbl)
    v = expect_violation(mcm, "condis.NblState", posted(host, lambda: host.NdisFreeNetBufferList(nbl)),
                         ddi="NdisFreeNetBufferList")
    assert "already freed" in v.detail and pool.outstanding == 0


@pytest.mark.rule("condis.NblState")
def test_a_net_buffer_list_freed_while_it_is_being_sent(bed):
    call = place(bed)
    nbl = sent_not_completed(bed, call)
    host = bed.hosts[0]
    v = expect_violation(bed, "condis.NblState", posted(host, lambda: host.NdisFreeNetBufferList(nbl)),
                         ddi="NdisFreeNetBufferList")
    assert "still being sent" in v.detail and not nbl.Freed


@pytest.mark.rule("condis.NblState")
def test_a_freed_net_buffer_list_sent(mcm):
    call = place(mcm)
    host = mcm.hosts[0]
    nbl = nbl_for(host, call.af.binding.pool, call.vc)
    host.NdisFreeNetBufferList(nbl)
    expect_violation(mcm, "condis.NblState", passive(host, lambda: host.NdisCoSendNetBufferLists(call.vc, nbl, 0)),
                     ddi="NdisCoSendNetBufferLists")


@pytest.mark.rule("condis.NblState")
def test_a_pool_freed_with_net_buffer_lists_still_allocated(mcm):
    host = mcm.hosts[0]
    pool = mcm.clients[0].bindings[0].pool
    nbl_for(host, pool, None)
    expect_violation(mcm, "condis.NblState", posted(host, lambda: host.NdisFreeNetBufferListPool(pool)),
                     ddi="NdisFreeNetBufferListPool")


@pytest.mark.rule("condis.BadParameter")
def test_a_hand_built_net_buffer_list_sent(bed):
    """Sends come from a pool: a NET_BUFFER_LIST no pool gave out is refused, on the first send of a
    VC and on any later one alike."""
    call = place(bed)
    host = bed.hosts[0]
    host.post(lambda: host.NdisCoSendNetBufferLists(call.vc, nbl_for(host, call.af.binding.pool, call.vc), 0))
    bed.run()
    v = expect_violation(bed, "condis.BadParameter", passive(host, lambda: host.NdisCoSendNetBufferLists(
        call.vc, NET_BUFFER_LIST(SourceHandle=call.vc), 0)), ddi="NdisCoSendNetBufferLists")
    assert "not allocated from a NET_BUFFER_LIST pool" in v.detail


@pytest.mark.rule("condis.BadParameter")
def test_a_net_buffer_list_sent_with_another_handle_as_its_sourcehandle(mcm):
    call = place(mcm)
    host = mcm.hosts[0]
    nbl = nbl_for(host, call.af.binding.pool, call.vc.vc.h_cm)       # the call manager's handle, not the sender's
    v = expect_violation(mcm, "condis.BadParameter", posted(host, lambda: host.NdisCoSendNetBufferLists(call.vc, nbl, 0)),
                         ddi="NdisCoSendNetBufferLists", page="ddi/nf-ndis-ndiscosendnetbufferlists.md")
    assert "SourceHandle must be the sender's NdisVcHandle" in v.detail and not call.vc.vc.sends
