"""Data on VCs: sending or indicating on a VC that carries no call, sending after NdisClCloseCall,
closing with sends outstanding, completing sends that are not outstanding, and NET_BUFFER_LISTs
used or freed in the wrong hands."""

from __future__ import annotations

import pytest

from condis import NDIS_RECEIVE_FLAGS_RESOURCES, NDIS_STATUS_PENDING, NET_BUFFER_LIST, NET_BUFFER_LIST_POOL_PARAMETERS
from condis.drivers.client import CLOSED, CLOSING, UP, AtmClient
from condis.drivers.cm import AtmCallManager
from condis.drivers.miniport import AtmMiniport
from condis.ndis.states import VC_ACTIVATING as ACTIVATING
from tests.rules.conftest import created_vc, cut_wire, expect_violation, make_bed, nbl_for, passive, place, posted


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


# ---------------------------------------------------------------------------- received NET_BUFFER_LISTs

class KeepingClient(AtmClient):
    """Copies what it receives and keeps the NET_BUFFER_LISTs, to return them when told."""

    def ProtocolCoReceiveNetBufferLists(self, ProtocolBindingContext, ProtocolVcContext, NetBufferLists,
                                        NumberOfNetBufferLists, ReceiveFlags):
        self.kept = getattr(self, "kept", [])
        self.kept.append((ProtocolBindingContext, NetBufferLists, ReceiveFlags))
        nb = NetBufferLists.FirstNetBuffer
        ProtocolVcContext.received.append(nb.Data[nb.DataOffset:nb.DataOffset + nb.DataLength])


KINDS = pytest.mark.parametrize("kind", ["mcm", "cm"])


def _kept(bed):
    """Host B's client, given one NET_BUFFER_LIST by A's send, has kept it."""
    call = place(bed)
    bed.do(0, bed.clients[0].send, call, b"keep me")
    client = bed.clients[1]
    assert len(client.kept) == 1 and not client.kept[0][2] & NDIS_RECEIVE_FLAGS_RESOURCES
    return client, client.kept[0]


@KINDS
def test_a_kept_net_buffer_list_goes_back_to_the_miniport_when_the_protocol_returns_it(kind):
    bed = make_bed(kind, client=KeepingClient)
    client, (binding, nbl, _) = _kept(bed)
    host = bed.hosts[1]
    mark = len(bed.recorder.records)
    outstanding = nbl.Pool.outstanding
    host.post(lambda: host.NdisReturnNetBufferLists(binding.handle, nbl, 0))
    bed.run()
    seen = [r.name for r in bed.recorder.records[mark:] if r.kind in ("ddi", "handler")]
    assert seen[:2] == ["NdisReturnNetBufferLists", "MiniportReturnNetBufferLists"]
    assert nbl.Freed and nbl.Pool.outstanding == outstanding - 1     # the NIC freed it


@pytest.mark.rule("condis.ReturnNbl")
@KINDS
def test_a_received_net_buffer_list_returned_twice(kind):
    bed = make_bed(kind, client=KeepingClient)
    client, (binding, nbl, _) = _kept(bed)
    host = bed.hosts[1]
    host.post(lambda: host.NdisReturnNetBufferLists(binding.handle, nbl, 0))
    bed.run()
    v = expect_violation(bed, "condis.ReturnNbl", posted(host, lambda: host.NdisReturnNetBufferLists(binding.handle, nbl, 0)),
                         ddi="NdisReturnNetBufferLists")
    assert "returned already" in v.detail


@pytest.mark.rule("condis.ReturnNbl")
def test_a_protocol_returns_a_net_buffer_list_it_was_never_indicated(bed):
    call = place(bed)
    host = bed.hosts[0]
    nbl = nbl_for(host, call.af.binding.pool, call.vc)
    v = expect_violation(bed, "condis.ReturnNbl",
                         posted(host, lambda: host.NdisReturnNetBufferLists(call.af.binding.handle, nbl, 0)),
                         ddi="NdisReturnNetBufferLists")
    assert "never indicated" in v.detail


@pytest.mark.rule("Irql_SendRcv_Function")
@KINDS
def test_received_net_buffer_lists_returned_from_an_interrupt(kind):
    bed = make_bed(kind, client=KeepingClient)
    client, (binding, nbl, _) = _kept(bed)
    host = bed.hosts[1]
    v = expect_violation(bed, "Irql_SendRcv_Function",
                         lambda: host.interrupt(lambda: host.NdisReturnNetBufferLists(binding.handle, nbl, 0)),
                         ddi="NdisReturnNetBufferLists")
    assert "DIRQL" in v.detail and not nbl.Freed


@pytest.mark.rule("condis.NblState")
@KINDS
def test_a_miniport_frees_a_net_buffer_list_the_protocol_still_owns(kind):
    bed = make_bed(kind, client=KeepingClient)
    client, (binding, nbl, _) = _kept(bed)
    host = bed.hosts[1]
    v = expect_violation(bed, "condis.NblState", posted(host, lambda: host.NdisFreeNetBufferList(nbl)),
                         ddi="NdisFreeNetBufferList")
    assert "NdisReturnNetBufferLists" in v.detail and not nbl.Freed


@pytest.mark.rule("condis.LeakReceive")
@KINDS
def test_received_net_buffer_lists_never_returned_are_reported_when_the_binding_closes(kind):
    bed = make_bed(kind, client=KeepingClient)
    client, (binding, nbl, _) = _kept(bed)
    host = bed.hosts[1]
    calls = list(client.calls)

    def unbind():
        for call in calls:
            client.close(call)
        host.remove_adapter("atm0")
        bed.run()
    v = expect_violation(bed, "condis.LeakReceive", unbind, ddi="NdisCloseAdapterEx", unchanged=False, more=True)
    assert "1 received NET_BUFFER_LIST(s)" in v.detail and "never returned" in v.detail


# ---------------------------------------------------------------------------- condis.SendOnPausedBinding

class SendsWhenUnbinding(AtmClient):
    """Sends on its calls from ProtocolUnbindAdapterEx, where the binding is Paused."""

    refused = None

    def ProtocolUnbindAdapterEx(self, UnbindContext, ProtocolBindingContext):
        for call in [c for c in self.calls if c.state == UP]:
            nbl = nbl_for(self.ndis, call.af.binding.pool, call.vc)
            self.refused = expect_violation(self.ndis, "condis.SendOnPausedBinding",
                                            lambda call=call, nbl=nbl: self.ndis.NdisCoSendNetBufferLists(call.vc, nbl, 0),
                                            ddi="NdisCoSendNetBufferLists")
            self.ndis.NdisFreeNetBufferList(nbl)
        return super().ProtocolUnbindAdapterEx(UnbindContext, ProtocolBindingContext)


@pytest.mark.rule("condis.SendOnPausedBinding")
def test_a_client_sends_from_protocolunbindadapterex():
    # An MCM's clients unbind while their calls are up (with a stand-alone call manager, the call
    # manager unbinds first and its calls are gone by then).
    bed = make_bed("mcm", client=SendsWhenUnbinding)
    call = place(bed)
    bed.hosts[0].remove_adapter("atm0")
    bed.run()
    assert "PAUSED (unbinding)" in bed.clients[0].refused.detail
    assert call.sent == 0 and bed.clients[1].incoming[-1].received == []


class SignalsWhenUnbinding(AtmCallManager):
    """Sends a message on its signaling VC from ProtocolUnbindAdapterEx."""

    refused = None

    def ProtocolUnbindAdapterEx(self, UnbindContext, ProtocolBindingContext):
        b = ProtocolBindingContext
        nbl = nbl_for(self.ndis, b.pool, b.signaling.ndis_vc, b"RESTART, late")
        self.refused = expect_violation(self.ndis, "condis.SendOnPausedBinding",
                                        lambda: self.ndis.NdisCoSendNetBufferLists(b.signaling.ndis_vc, nbl, 0),
                                        ddi="NdisCoSendNetBufferLists")
        self.ndis.NdisFreeNetBufferList(nbl)
        return super().ProtocolUnbindAdapterEx(UnbindContext, ProtocolBindingContext)


@pytest.mark.rule("condis.SendOnPausedBinding")
def test_a_call_manager_signals_from_protocolunbindadapterex():
    bed = make_bed("cm", cm=SignalsWhenUnbinding)
    done = bed.hosts[0].remove_adapter("atm0")
    bed.run()
    assert "PAUSED (unbinding)" in bed.call_managers[0].refused.detail and done.done


class HoldsActivations(AtmMiniport):
    """Pends every VC activation and never completes it: the call manager's signaling VC stays in its
    first activation."""

    def MiniportCoActivateVc(self, MiniportVcContext, CallParameters):
        return NDIS_STATUS_PENDING


@pytest.mark.rule("condis.SendOnInactiveVc")
@pytest.mark.parametrize("direction", ["send", "receive"])
def test_data_on_a_vc_in_its_first_activation_is_refused(direction):
    bed = make_bed("cm", miniport=HoldsActivations)
    host, b = bed.hosts[0], bed.call_managers[0].bindings[0]
    sig_vc = b.signaling.ndis_vc.vc
    assert sig_vc.activation == ACTIVATING and sig_vc.call_params_prev is None      # never active yet
    if direction == "send":
        handle = b.signaling.ndis_vc
        nbl = nbl_for(host, b.pool, handle)
        action = posted(host, lambda: host.NdisCoSendNetBufferLists(handle, nbl, 0))
        ddi = "NdisCoSendNetBufferLists"
    else:
        handle = sig_vc.h_miniport
        pool = host.NdisAllocateNetBufferListPool(host.adapters["atm0"], NET_BUFFER_LIST_POOL_PARAMETERS(
            fAllocateNetBuffer=True))
        nbl = nbl_for(host, pool, handle)
        action = posted(host, lambda: host.NdisMCoIndicateReceiveNetBufferLists(handle, nbl, 1, 0))
        ddi = "NdisMCoIndicateReceiveNetBufferLists"
    v = expect_violation(bed, "condis.SendOnInactiveVc", action, ddi=ddi)
    assert f"VC {sig_vc.id:#x} is ACTIVATING" in v.detail and not sig_vc.sends
