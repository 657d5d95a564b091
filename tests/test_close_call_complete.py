"""NdisMCmCloseCallComplete, rule by rule from its page (seed/000_e0f5fe94aade492e.txt): each test
breaks one rule and checks the Violation names it, and that nothing else changed."""

from __future__ import annotations

import pytest

from condis import (
    DISPATCH_LEVEL,
    NDIS_STATUS_FAILURE,
    NDIS_STATUS_PENDING,
    NDIS_STATUS_SUCCESS,
    Violation,
)
from condis.demo import testbed as make_bed
from condis.drivers.callcontrol import PartyCtx
from condis.drivers.client import CLOSED, CLOSING, UP
from condis.ndis import states as S
from condis.trace import Recorder

# the same page in the DDI folder: what a Complete function's own violations cite
PAGE = "ddi/nf-ndis-ndismcmclosecallcomplete.md"


def place(bed, address=b"bob", multipoint=False):
    calls = []
    bed.do(0, lambda: calls.append(bed.clients[0].place_call(address, multipoint=multipoint)))
    return calls[0]


def mcm_vc(bed, host=0):
    """The MCM's per-VC context of the newest call on ``host`` (what the MCM keeps for each call)."""
    port = bed.call_managers[host].adapters[0]
    entry = list(port.calls.values())[-1]      # a leaf of a multipoint call stands for the call there
    return entry.vc if isinstance(entry, PartyCtx) else entry


def on_host(bed, host, fn, irql=DISPATCH_LEVEL):
    """Run ``fn`` on a host as the MCM's DPC would, and return what it returned."""
    out = []
    bed.hosts[host].post(lambda: out.append(fn()), irql=irql)
    bed.run()
    return out[0] if out else None


def pended_close(bed, multipoint=False):
    """A call whose ProtocolCmCloseCall returned NDIS_STATUS_PENDING and stays pending: the wire is cut,
    so no RELEASE COMPLETE comes back."""
    call = place(bed, multipoint=multipoint)
    bed.wire.fault = lambda src, frame: []
    bed.do(0, bed.clients[0].close, call)
    vc = mcm_vc(bed)
    assert call.state == CLOSING and vc.ndis_vc.vc.state == S.CALL_CLOSING and vc.ndis_vc.vc.op == S.OP_PENDING
    return call, vc


def close_completions(bed, since=0):
    return [r for r in bed.recorder.records[since:] if r.name == "ProtocolClCloseCallComplete"]


@pytest.fixture
def mcm():
    return make_bed("mcm", Recorder())


def test_completing_a_pended_close_calls_protocolclclosecallcomplete_once(mcm):
    call, vc = pended_close(mcm)
    mark = len(mcm.recorder.records)
    on_host(mcm, 0, lambda: mcm.hosts[0].NdisMCmCloseCallComplete(NDIS_STATUS_SUCCESS, vc.ndis_vc, None))
    done = close_completions(mcm, mark)
    assert len(done) == 1 and done[0].args.startswith("NDIS_STATUS_SUCCESS, Call, NULL")
    assert call.state == CLOSED
    with pytest.raises(Violation) as e:           # and not twice
        on_host(mcm, 0, lambda: mcm.hosts[0].NdisMCmCloseCallComplete(NDIS_STATUS_SUCCESS, vc.ndis_vc, None))
    assert e.value.rule == "condis.CompleteWithoutPending" and e.value.page == PAGE
    assert len(close_completions(mcm, mark)) == 1


def test_only_after_protocolcmclosecall_returned_pending(mcm):
    call = place(mcm)
    vc = mcm_vc(mcm)
    with pytest.raises(Violation) as e:
        on_host(mcm, 0, lambda: mcm.hosts[0].NdisMCmCloseCallComplete(NDIS_STATUS_SUCCESS, vc.ndis_vc, None))
    assert e.value.rule == "condis.CompleteWithoutPending"
    assert "CONNECTED" in str(e.value) and "ProtocolCmCloseCall" in str(e.value)
    # nothing changed: the call is up and carries data, and closes normally
    assert vc.ndis_vc.vc.state == S.CALL_CONNECTED and call.state == UP
    mcm.do(0, mcm.clients[0].send, call, b"still up")
    assert mcm.clients[1].incoming[-1].received == [b"still up"]
    mcm.do(0, mcm.clients[0].close, call)
    assert call.state == CLOSED and call.deleted


def test_not_from_inside_protocolcmclosecall_before_it_returns_pending(mcm):
    call = place(mcm)
    manager = mcm.call_managers[0]
    ndis = mcm.hosts[0]
    original = manager.CmCloseCall

    def completes_too_early(vc, party, data, size):
        ndis.NdisMCmCloseCallComplete(NDIS_STATUS_SUCCESS, vc.ndis_vc, None)
        return NDIS_STATUS_PENDING
    manager.CmCloseCall = completes_too_early
    ndis.drivers["atmmcm"].miniport.cm.CmCloseCallHandler = completes_too_early
    with pytest.raises(Violation) as e:
        mcm.do(0, mcm.clients[0].close, call)
    assert e.value.rule == "condis.CompleteWithoutPending" and "IN_HANDLER" in str(e.value)
    assert close_completions(mcm) == []
    ndis.drivers["atmmcm"].miniport.cm.CmCloseCallHandler = original
    # every other call carries on
    other = place(mcm)
    assert other.state == UP
    mcm.do(0, mcm.clients[0].close, other)
    assert other.state == CLOSED


def test_status_may_not_be_pending(mcm):
    call, vc = pended_close(mcm)
    with pytest.raises(Violation) as e:
        on_host(mcm, 0, lambda: mcm.hosts[0].NdisMCmCloseCallComplete(NDIS_STATUS_PENDING, vc.ndis_vc, None))
    assert e.value.rule == "condis.PendingStatus" and e.value.page == PAGE
    assert vc.ndis_vc.vc.state == S.CALL_CLOSING and close_completions(mcm) == []
    on_host(mcm, 0, lambda: mcm.hosts[0].NdisMCmCloseCallComplete(NDIS_STATUS_FAILURE, vc.ndis_vc, None))
    # a failed close leaves the call up
    assert vc.ndis_vc.vc.state == S.CALL_CONNECTED and len(close_completions(mcm)) == 1 and call.state == UP


def test_party_handle_is_null_for_a_point_to_point_vc(mcm):
    other = place(mcm, multipoint=True)
    _, vc = pended_close(mcm)
    stray = other.parties[0].handle
    with pytest.raises(Violation) as e:
        on_host(mcm, 0, lambda: mcm.hosts[0].NdisMCmCloseCallComplete(NDIS_STATUS_SUCCESS, vc.ndis_vc, stray))
    assert e.value.rule == "condis.PartyHandle" and "NULL" in str(e.value)
    assert vc.ndis_vc.vc.state == S.CALL_CLOSING and other.state == UP


def test_party_handle_is_the_last_party_of_a_multipoint_vc(mcm):
    call, vc = pended_close(mcm, multipoint=True)
    last = call.parties[0].handle
    with pytest.raises(Violation) as e:
        on_host(mcm, 0, lambda: mcm.hosts[0].NdisMCmCloseCallComplete(NDIS_STATUS_SUCCESS, vc.ndis_vc, None))
    assert e.value.rule == "condis.PartyHandle" and "last party" in str(e.value)
    on_host(mcm, 0, lambda: mcm.hosts[0].NdisMCmCloseCallComplete(NDIS_STATUS_SUCCESS, vc.ndis_vc, last))
    assert call.state == CLOSED and last.state == S.PARTY_DROPPED


def test_after_a_successful_close_the_vc_carries_no_data(mcm):
    call, vc = pended_close(mcm)
    on_host(mcm, 0, lambda: mcm.hosts[0].NdisMCmCloseCallComplete(NDIS_STATUS_SUCCESS, vc.ndis_vc, None))
    mcm.wire.fault = None
    ndis = mcm.hosts[0]
    client = mcm.clients[0]
    nbl = ndis.NdisAllocateNetBufferAndNetBufferList(call.af.binding.pool, 0, 0, b"late", 0, 4)
    nbl.SourceHandle = call.vc
    with pytest.raises(Violation) as e:
        ndis.NdisCoSendNetBufferLists(call.vc, nbl, 0)
    assert e.value.rule == "condis.SendAfterClose" and "NdisClCloseCall" in str(e.value)
    assert call.vc.vc.sends is None or not call.vc.vc.sends          # nothing was handed to the MCM
    assert client.calls[-1] is call and call.state == CLOSED


def test_receive_on_a_closed_vc_is_refused(mcm):
    call = place(mcm)
    ndis = mcm.hosts[0]
    vc = mcm_vc(mcm)
    handle = vc.ndis_vc
    mcm.wire.fault = lambda src, frame: []
    manager = mcm.call_managers[0]
    # Complete the close but keep the VC (skip the MCM's own deactivation), then indicate data on it.
    manager._teardown = lambda v: None
    mcm.do(0, mcm.clients[0].close, call)
    on_host(mcm, 0, lambda: ndis.NdisMCmCloseCallComplete(NDIS_STATUS_SUCCESS, handle, None))
    nic = manager.adapters[0].nic
    nbl = ndis.NdisAllocateNetBufferAndNetBufferList(nic.pool, 0, 0, b"late", 0, 4)
    nbl.SourceHandle = handle
    with pytest.raises(Violation) as e:
        on_host(mcm, 0, lambda: ndis.NdisMCoIndicateReceiveNetBufferLists(handle, nbl, 1, 0))
    assert e.value.rule == "condis.SendOnInactiveVc" and "IDLE" in str(e.value)


def test_an_mcm_created_vc_is_the_mcms_to_delete(mcm):
    call = place(mcm)
    answered = mcm.clients[1].incoming[-1]
    b = mcm.hosts[1]
    with pytest.raises(Violation) as e:
        on_host(mcm, 1, lambda: b.NdisCoDeleteVc(answered.vc))
    assert e.value.rule == "condis.OnlyCreatorDeletes" and "MCM" in str(e.value)
    mcm.do(0, mcm.clients[0].close, call)
    assert answered.deleted        # the MCM deleted it with NdisMCmDeleteVc (test_mcm_flows checks the order)


def test_a_client_created_vc_is_the_clients_to_delete(mcm):
    call, vc = pended_close(mcm)
    ndis = mcm.hosts[0]
    on_host(mcm, 0, lambda: ndis.NdisMCmCloseCallComplete(NDIS_STATUS_SUCCESS, vc.ndis_vc, None))
    with pytest.raises(Violation) as e:
        on_host(mcm, 0, lambda: ndis.NdisMCmDeleteVc(vc.ndis_vc))
    assert e.value.rule == "condis.OnlyCreatorDeletes" and "client" in str(e.value)


def test_only_an_mcm_calls_it():
    cm = make_bed("cm", Recorder())
    call = place(cm)
    manager = cm.call_managers[0]
    vc = list(manager.bindings[0].calls.values())[-1]
    cm.wire.fault = lambda src, frame: []
    cm.do(0, cm.clients[0].close, call)
    ndis = cm.hosts[0]
    with pytest.raises(Violation) as e:
        on_host(cm, 0, lambda: ndis.NdisMCmCloseCallComplete(NDIS_STATUS_SUCCESS, vc.ndis_vc, None))
    assert e.value.rule == "condis.WrongCaller" and "NdisCmCloseCallComplete" in str(e.value)
    on_host(cm, 0, lambda: ndis.NdisCmCloseCallComplete(NDIS_STATUS_SUCCESS, vc.ndis_vc, None))
    assert call.state == CLOSED


def test_an_mcm_does_not_call_the_stand_alone_variant(mcm):
    _, vc = pended_close(mcm)
    with pytest.raises(Violation) as e:
        on_host(mcm, 0, lambda: mcm.hosts[0].NdisCmCloseCallComplete(NDIS_STATUS_SUCCESS, vc.ndis_vc, None))
    assert e.value.rule == "condis.WrongCaller" and "NdisMCmCloseCallComplete" in str(e.value)


def test_irql_at_most_dispatch_level(mcm):
    call, vc = pended_close(mcm)
    ndis = mcm.hosts[0]
    with pytest.raises(Violation) as e:
        ndis.interrupt(lambda: ndis.NdisMCmCloseCallComplete(NDIS_STATUS_SUCCESS, vc.ndis_vc, None))
    assert e.value.rule == "Irql_MCM_Function" and e.value.page == "ddi/nf-ndis-ndismcmclosecallcomplete.md"
    assert vc.ndis_vc.vc.state == S.CALL_CLOSING
    mark = len(mcm.recorder.records)
    on_host(mcm, 0, lambda: ndis.NdisMCmCloseCallComplete(NDIS_STATUS_SUCCESS, vc.ndis_vc, None))
    rec = [r for r in mcm.recorder.records[mark:] if r.name == "NdisMCmCloseCallComplete"][0]
    assert rec.irql == DISPATCH_LEVEL and call.state == CLOSED
