"""The sample drivers against what their guide pages ask of them, and against bad input: what users
copy must not break a page's rule or crash on what it receives."""

from __future__ import annotations

from condis.drivers.client import CLOSED, CLOSING
from tests.conftest import steps


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
