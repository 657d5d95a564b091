"""The sample drivers against what their guide pages ask of them, and against bad input: what users
copy must not break a page's rule or crash on what it receives."""

from __future__ import annotations

import pytest

from condis.drivers.client import CLOSED, CLOSING, UP
from tests.conftest import steps

CLIENT = ("atmclient", "Client")


def _call(bed):
    calls = []
    bed.do(0, lambda: calls.append(bed.clients[0].place_call(b"bob")))
    return calls[0], bed.clients[1].incoming[-1]


def test_a_close_waits_for_the_calls_sends_to_complete(bed):
    # nf-ndis-ndisclclosecall.md: no send may be outstanding on a VC whose call is closed; the sample
    # client closes once ProtocolCoSendNetBufferListsComplete has returned the last one.
    call, answered = _call(bed)
    client = bed.clients[0]
    mark = len(bed.recorder.records)
    states = []

    def send_and_close() -> None:
        client.send(call, b"last words")
        client.close(call)
        states.append(call.state)
    bed.do(0, send_and_close)
    assert states == [CLOSING]
    a = [s for s in steps(bed.recorder, mark, "A") if "NetBufferLists" in s or "CloseCall" in s]
    assert a.index("A:ProtocolCoSendNetBufferListsComplete") < a.index("A:NdisClCloseCall")
    assert answered.received == [b"last words"] and call.send_completed == 1
    assert call.state == CLOSED and call.deleted and answered.deleted
    bed.sim.finish()


@pytest.mark.parametrize(("address", "added", "then"), [
    (b"bob", "NDIS_STATUS_SUCCESS", ["DispatchIncomingDropParty", "ProtocolClIncomingDropParty", "NdisClDropParty",
                                     "ProtocolCmDropParty"]),
    (b"carol", "NDIS_STATUS_NO_ROUTE_TO_DESTINATION", ["DispatchIncomingCloseCall", "ProtocolClIncomingCloseCall",
                                                       "NdisClCloseCall", "ProtocolCmCloseCall"]),
])
def test_a_leaf_released_while_the_other_is_being_added_waits_for_the_add_party(bed, address, added, then):
    # incoming-request-to-drop-a-party-from-a-multipoint-call.md: the remote's release of a leaf is an
    # incoming drop only while another party stays; an add-party still pending is no party yet. So the
    # release waits: an incoming drop once the new leaf is up, the close of the call if its add fails.
    calls = []
    bed.do(0, lambda: calls.append(bed.clients[0].place_call(b"bob", multipoint=True)))
    call, leaf = calls[0], bed.clients[1].incoming[-1]
    mark = len(bed.recorder.records)
    bed.hosts[0].post(bed.clients[0].add_party, call, address, owner=CLIENT)
    bed.hosts[1].post(bed.clients[1].close, leaf, owner=CLIENT)      # B's RELEASE reaches A first
    bed.run()
    prefix = "A:NdisMCm" if "atmmcm" in bed.hosts[0].drivers else "A:NdisCm"
    a = [s for s in steps(bed.recorder, mark, "A") if "Party" in s or "CloseCall" in s]
    assert a == ["A:NdisClAddParty", "A:ProtocolCmAddParty", f"{prefix}AddPartyComplete",
                 "A:ProtocolClAddPartyComplete", *(prefix + t if t.startswith("Dispatch") else "A:" + t for t in then)]
    completions = [r.args.split(",")[0] for r in bed.recorder.records[mark:] if r.name == "ProtocolClAddPartyComplete"]
    assert completions == [added]
    if call.state == UP:
        assert [p.address for p in call.parties] == [address]
        bed.do(0, bed.clients[0].close, call)
    assert call.state == CLOSED and call.deleted
    bed.sim.finish()
