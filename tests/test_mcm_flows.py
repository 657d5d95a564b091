"""Each guide flow through an MCM, as the exact order of DDI calls and handler calls on the host
where it happens. The expected lists are the guide's figures (guide/images/fig1-*.png), with the
steps the figure leaves implicit (the signaling an MCM does internally) left out."""

from __future__ import annotations

import pytest

from condis import NDIS_STATUS_NOT_ACCEPTED, NDIS_STATUS_PENDING, NDIS_STATUS_SUCCESS
from condis.demo import testbed as make_bed
from condis.drivers.client import CLOSED, UP, AtmClient
from condis.drivers.mcm import AtmMcm
from condis.trace import Recorder
from tests.conftest import steps


def test_registering_and_opening_the_af(mcm):
    # fig1-01: NdisMCmRegisterAddressFamilyEx -> ProtocolCoAfRegisterNotify -> NdisClOpenAddressFamilyEx
    # -> ProtocolCmOpenAf; then fig1-02: NdisClRegisterSap -> ProtocolCmRegisterSap.
    a = steps(mcm.recorder, host="A")
    expected = [
        "A:NdisMCmRegisterAddressFamilyEx",
        "A:ProtocolCoAfRegisterNotify", "A:NdisClOpenAddressFamilyEx", "A:ProtocolCmOpenAf",
        "A:NdisClRegisterSap", "A:ProtocolCmRegisterSap",
    ]
    protocol = [s for s in a if any(k in s for k in ("AddressFamily", "AfRegister", "OpenAf", "Sap"))]
    assert protocol == expected
    assert a.index("A:MiniportInitializeEx") < a.index("A:NdisMCmRegisterAddressFamilyEx") < a.index(
        "A:ProtocolBindAdapterEx")


def test_making_a_call_and_the_incoming_call(mcm):
    rec = mcm.recorder
    mark = len(rec.records)
    calls = []
    mcm.do(0, lambda: calls.append(mcm.clients[0].place_call(b"bob")))
    assert calls[0].state == UP
    # fig1-05 then fig1-11, on the calling host
    assert steps(rec, mark, "A") == [
        "A:NdisCoCreateVc", "A:ProtocolCoCreateVc",
        "A:NdisClMakeCall", "A:ProtocolCmMakeCall",
        "A:NdisMCmActivateVc",
        "A:NdisMCmMakeCallComplete", "A:ProtocolClMakeCallComplete",
    ]
    # fig1-06, fig1-07 and fig1-13 on the called host
    assert steps(rec, mark, "B") == [
        "B:NdisMCmCreateVc", "B:ProtocolCoCreateVc",
        "B:NdisMCmActivateVc",
        "B:NdisMCmDispatchIncomingCall", "B:ProtocolClIncomingCall",
        "B:NdisMCmDispatchCallConnected", "B:ProtocolClCallConnected",
    ]


def _call(bed):
    calls = []
    bed.do(0, lambda: calls.append(bed.clients[0].place_call(b"bob")))
    return calls[0], bed.clients[1].incoming[-1]


def test_client_initiated_close_is_completed_by_ndismcmclosecallcomplete(mcm):
    call, answered = _call(mcm)
    rec = mcm.recorder
    mark = len(rec.records)
    mcm.do(0, mcm.clients[0].close, call)
    # client-initiated-request-to-close-a-call.md: 1 NdisClCloseCall, 2 ProtocolCmCloseCall (pends), then
    # the MCM deactivates the VC before NdisMCmCloseCallComplete and ProtocolClCloseCallComplete, as
    # cm-20 on the same page draws it for a call manager and the ProtocolClCloseCallComplete page
    # (nc-ndis-protocol_cl_close_call_complete.md) requires: success there means the VC is deactivated
    # and the client may delete it. (fig1-20 draws the deactivation last; see
    # CallControl.deactivate_before_close_complete.) Then fig1-09: the client deletes its VC.
    assert steps(rec, mark, "A") == [
        "A:NdisClCloseCall", "A:ProtocolCmCloseCall",
        "A:NdisMCmDeactivateVc",
        "A:NdisMCmCloseCallComplete", "A:ProtocolClCloseCallComplete",
        "A:NdisCoDeleteVc", "A:ProtocolCoDeleteVc",
    ]
    a = [r for r in rec.records[mark:] if r.host == "A" and r.kind in ("ddi", "handler")]
    assert [r.result for r in a if r.name in ("NdisClCloseCall", "ProtocolCmCloseCall", "NdisCoDeleteVc")] == [
        "NDIS_STATUS_PENDING", "NDIS_STATUS_PENDING", "NDIS_STATUS_SUCCESS"]
    # fig1-22 at B: the incoming close, the client's close completing synchronously, then fig1-10
    assert steps(rec, mark, "B") == [
        "B:NdisMCmDispatchIncomingCloseCall", "B:ProtocolClIncomingCloseCall",
        "B:NdisClCloseCall", "B:ProtocolCmCloseCall",
        "B:NdisMCmDeactivateVc",
        "B:NdisMCmDeleteVc", "B:ProtocolCoDeleteVc",
    ]
    assert call.state == CLOSED and answered.state == CLOSED and answered.deleted and call.deleted
    assert [h.vc_count for h in mcm.hosts] == [0, 0]


def deletes(bed, since):
    """Each NdisCoDeleteVc on host A since ``since``: (the handler it was called from, its status)."""
    by_seq = {r.seq: r for r in bed.recorder.records}
    return [(by_seq[r.parent].name if r.parent in by_seq else None, r.result)
            for r in bed.recorder.records[since:] if r.host == "A" and r.name == "NdisCoDeleteVc"]


@pytest.mark.parametrize("kind", ["mcm", "cm"])
def test_the_client_deletes_its_vc_inside_protocolclclosecallcomplete(kind):
    # nc-ndis-protocol_cl_close_call_complete.md: on success the call is closed and the VC deactivated,
    # so the client may tear the VC down with NdisCoDeleteVc from the handler itself.
    bed = make_bed(kind, Recorder())
    call, answered = _call(bed)
    mark = len(bed.recorder.records)
    bed.do(0, bed.clients[0].close, call)
    assert deletes(bed, mark) == [("ProtocolClCloseCallComplete", "NDIS_STATUS_SUCCESS")]
    assert call.state == CLOSED and call.deleted and call.events[-2:] == ["closed", "deleted"]
    assert answered.deleted
    assert [h.vc_count for h in bed.hosts] == ([0, 0] if kind == "mcm" else [1, 1])
    bed.sim.finish()


class CompletesFirst(AtmMcm):
    """An MCM that completes the close before it deactivates the VC, in fig1-20's order."""

    deactivate_before_close_complete = False


def test_ndis_accepts_an_mcm_that_completes_the_close_before_deactivating():
    # fig1-20's order is legal too: NDIS takes it, the client's delete from ProtocolClCloseCallComplete
    # is told NDIS_STATUS_NOT_ACCEPTED (nf-ndis-ndiscodeletevc.md), and the sample client, written to
    # cope with both orders, deletes the VC from its retry timer once the MCM has deactivated it.
    bed = make_bed("mcm", Recorder(), mcm=CompletesFirst)
    call, answered = _call(bed)
    mark = len(bed.recorder.records)
    bed.do(0, bed.clients[0].close, call)
    assert steps(bed.recorder, mark, "A") == [
        "A:NdisClCloseCall", "A:ProtocolCmCloseCall",
        "A:NdisMCmCloseCallComplete", "A:ProtocolClCloseCallComplete", "A:NdisCoDeleteVc",
        "A:NdisMCmDeactivateVc",
        "A:NdisCoDeleteVc", "A:ProtocolCoDeleteVc",
    ]
    assert deletes(bed, mark) == [("ProtocolClCloseCallComplete", "NDIS_STATUS_NOT_ACCEPTED"),
                                  ("TimerFunction", "NDIS_STATUS_SUCCESS")]
    assert call.state == CLOSED and call.deleted and answered.deleted
    assert [h.vc_count for h in bed.hosts] == [0, 0]
    bed.sim.finish()


def test_data_both_ways(mcm):
    call, answered = _call(mcm)
    rec = mcm.recorder
    mark = len(rec.records)
    mcm.do(0, mcm.clients[0].send, call, b"ping")
    mcm.do(1, mcm.clients[1].send, answered, b"pong")
    assert answered.received == [b"ping"] and call.received == [b"pong"]
    assert call.send_completed == 1 and answered.send_completed == 1
    assert steps(rec, mark, "A") == [
        "A:NdisCoSendNetBufferLists", "A:MiniportCoSendNetBufferLists",
        "A:NdisMCoSendNetBufferListsComplete", "A:ProtocolCoSendNetBufferListsComplete",
        "A:NdisMCoIndicateReceiveNetBufferLists", "A:ProtocolCoReceiveNetBufferLists",
        # netbuffercoreceive.png: the client returns what it was indicated, and NDIS gives it back
        "A:NdisReturnNetBufferLists", "A:MiniportReturnNetBufferLists",
    ]


def test_qos_change_requested_by_the_client(mcm):
    call, _ = _call(mcm)
    rec = mcm.recorder
    mark = len(rec.records)
    mcm.do(0, mcm.clients[0].modify_qos, call, 2_000_000)
    # fig1-15: NdisClModifyCallQoS -> ProtocolCmModifyCallQoS -> (reactivation) -> complete
    assert steps(rec, mark, "A") == [
        "A:NdisClModifyCallQoS", "A:ProtocolCmModifyCallQoS",
        "A:NdisMCmActivateVc",
        "A:NdisMCmModifyCallQoSComplete", "A:ProtocolClModifyCallQoSComplete",
    ]
    assert call.events[-1] == "qos:NDIS_STATUS_SUCCESS"


def test_multipoint_add_and_drop_party_and_incoming_drop(mcm):
    a, b = mcm.clients
    calls = []
    mcm.do(0, lambda: calls.append(a.place_call(b"bob", multipoint=True)))
    call = calls[0]
    assert call.state == UP and [p.state for p in call.parties] == [UP]
    rec = mcm.recorder
    mark = len(rec.records)
    parties = []
    mcm.do(0, lambda: parties.append(a.add_party(call, b"bob")))
    # fig1-17
    assert steps(rec, mark, "A") == [
        "A:NdisClAddParty", "A:ProtocolCmAddParty",
        "A:NdisMCmActivateVc",
        "A:NdisMCmAddPartyComplete", "A:ProtocolClAddPartyComplete",
    ]
    assert [p.state for p in call.parties] == [UP, UP] and len(b.incoming) == 2
    mark = len(rec.records)
    mcm.do(0, a.drop_party, parties[0])
    # fig1-18
    assert steps(rec, mark, "A") == [
        "A:NdisClDropParty", "A:ProtocolCmDropParty",
        "A:NdisMCmDropPartyComplete", "A:ProtocolClDropPartyComplete",
        "A:NdisMCmActivateVc",
    ]
    mcm.do(0, lambda: parties.append(a.add_party(call, b"bob")))
    mark = len(rec.records)
    mcm.do(1, b.close, b.incoming[-1])
    # fig1-19: the leaf hangs up; not the last party, so an incoming drop, which the client answers
    assert steps(rec, mark, "A") == [
        "A:NdisMCmDispatchIncomingDropParty", "A:ProtocolClIncomingDropParty",
        "A:NdisClDropParty", "A:ProtocolCmDropParty",
        "A:NdisMCmActivateVc",
    ]
    assert len([p for p in call.parties if p.state == UP]) == 1
    mark = len(rec.records)
    mcm.do(0, a.close, call)
    # the last party goes with NdisClCloseCall and the party handle (dropping-a-party-...md)
    closing = [r for r in rec.records[mark:] if r.name == "NdisMCmCloseCallComplete"]
    assert len(closing) == 1 and closing[0].args.startswith("NDIS_STATUS_SUCCESS, VC") and "party" in closing[0].args
    assert call.state == CLOSED and call.deleted


def test_incoming_call_left_pending_then_accepted(mcm):
    b = mcm.clients[1]
    b.answer = lambda call: NDIS_STATUS_PENDING
    calls = []
    mcm.do(0, lambda: calls.append(mcm.clients[0].place_call(b"bob")))
    offered = b.incoming[-1]
    assert calls[0].state == "MAKING"
    rec = mcm.recorder
    mark = len(rec.records)
    mcm.do(1, b.accept, offered)
    assert steps(rec, mark, "B") == [
        "B:NdisClIncomingCallComplete", "B:ProtocolCmIncomingCallComplete",
        "B:NdisMCmDispatchCallConnected", "B:ProtocolClCallConnected",
    ]
    assert calls[0].state == UP and offered.state == UP


def test_incoming_call_rejected(mcm):
    b = mcm.clients[1]
    b.answer = lambda call: NDIS_STATUS_NOT_ACCEPTED
    calls = []
    mcm.do(0, lambda: calls.append(mcm.clients[0].place_call(b"bob")))
    call = calls[0]
    assert call.state == "FAILED" and call.status == NDIS_STATUS_NOT_ACCEPTED and call.deleted
    assert [h.vc_count for h in mcm.hosts] == [0, 0]


def test_call_to_an_unknown_address_fails(mcm):
    calls = []
    mcm.do(0, lambda: calls.append(mcm.clients[0].place_call(b"nobody")))
    assert calls[0].state == "FAILED" and calls[0].status != NDIS_STATUS_SUCCESS


def test_the_client_keeps_its_last_calls_only():
    class ShortMemory(AtmClient):
        def __init__(self, **kwargs) -> None:
            super().__init__(history=2, **kwargs)
    bed = make_bed("mcm", client=ShortMemory)
    client = bed.clients[0]
    placed = []
    for _ in range(3):
        bed.do(0, lambda: placed.append(client.place_call(b"bob")))
        bed.do(0, client.close, placed[-1])
    assert list(client.calls) == placed[1:] and all(c.state == CLOSED for c in placed)
    assert len(bed.clients[1].incoming) == 2
