"""A C host and a Python host on one wire: host A runs the C MCM and the C client (alice), host B
the Python MCM and the Python client (bob). They call each other, so the C MCM's signaling must
be the Python codec's byte for byte, and its retransmission and duplicate handling must be the
Python call control's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from condis import NDIS_STATUS_FAILURE, NDIS_STATUS_NOT_ACCEPTED, NDIS_STATUS_PENDING
from condis.demo import testbed as make_bed
from condis.drivers import signaling as sig
from condis.drivers.client import AtmClient
from condis.drivers.mcm import AtmMcm
from condis.trace import Recorder
from tests.c.samples import CClient, c_mcm, teardown


def _alternate(first: Callable[..., Any], second: Callable[..., Any]) -> Callable[..., Any]:
    """A factory that makes host A's driver with ``first`` and host B's with ``second``."""
    made = []

    def make(**kwargs: Any) -> Any:
        made.append(None)
        return (first if len(made) == 1 else second)(**kwargs)
    return make


@pytest.fixture
def bed():
    c = c_mcm()
    b = make_bed("mcm", Recorder(), mcm=_alternate(c, AtmMcm), client=_alternate(CClient, AtmClient))
    b.wire.record = True
    yield b
    teardown(b)


def _place(bed, host: int, address: bytes):
    calls = []
    bed.do(host, lambda: calls.append(bed.clients[host].place_call(address)))
    return calls[0], bed.clients[1 - host].incoming[-1]


def _signals(bed, port: str) -> list[sig.Message]:
    return [sig.Message.decode(f.payload) for _, src, f in bed.wire.frames
            if src == port and f.vci == sig.SIGNALING_VCI]


def test_the_c_host_calls_the_python_host_and_back():
    c = c_mcm()
    bed = make_bed("mcm", Recorder(), mcm=_alternate(c, AtmMcm), client=_alternate(CClient, AtmClient))
    assert type(bed.clients[0]) is CClient and type(bed.clients[1]) is AtmClient
    out, answered = _place(bed, 0, b"bob")
    assert out.state == "UP" and answered.state == "UP"
    bed.do(0, bed.clients[0].send, out, b"from C")
    bed.do(1, bed.clients[1].send, answered, b"from Python")
    assert answered.received == [b"from C"] and out.received == [b"from Python"]
    bed.do(0, bed.clients[0].close, out)
    assert out.state == "CLOSED" and answered.state == "CLOSED" and out.deleted and answered.deleted

    back, answered2 = _place(bed, 1, b"alice")
    assert back.state == "UP" and answered2.state == "UP"
    bed.do(0, bed.clients[0].send, answered2, b"C answers")
    assert back.received == [b"C answers"]
    bed.do(1, bed.clients[1].close, back)
    assert back.state == "CLOSED" and answered2.state == "CLOSED" and back.deleted and answered2.deleted
    assert [h.vc_count for h in bed.hosts] == [0, 0]
    teardown(bed)


def test_the_c_mcm_signals_in_the_python_codec_byte_for_byte(bed):
    out, answered = _place(bed, 0, b"bob")
    bed.do(0, bed.clients[0].close, out)
    setup = next(f.payload for _, src, f in bed.wire.frames if src == "wire.a" and f.vci == sig.SIGNALING_VCI)
    assert setup == sig.Message(sig.SETUP, 1, True, 32, 0, 0, b"bob", 1_000_000).encode()
    assert [(m.kind, m.ref, m.mine, m.vci, m.cause) for m in _signals(bed, "wire.a")] == [
        (sig.SETUP, 1, True, 32, 0),
        (sig.CONNECT_ACK, 1, True, 0, 0),
        (sig.RELEASE, 1, True, 0, sig.CAUSE_NORMAL),
    ]
    assert [(m.kind, m.ref, m.mine, m.vci, m.cause) for m in _signals(bed, "wire.b")] == [
        (sig.CONNECT, 1, False, 32, 0),
        (sig.RELEASE_COMPLETE, 1, False, 0, sig.CAUSE_NORMAL),
    ]


def test_the_c_mcm_answers_a_python_setup_with_its_own_vci_half(bed):
    back, answered = _place(bed, 1, b"alice")
    assert back.state == "UP" and answered.state == "UP"
    # B (the Python MCM on the wire's b end) chose an odd VCI; the C MCM's CONNECT carries it back
    assert [(m.kind, m.ref, m.mine, m.vci) for m in _signals(bed, "wire.a")] == [(sig.CONNECT, 1, False, 33)]
    out, _ = _place(bed, 0, b"bob")
    assert [m.vci for m in _signals(bed, "wire.a") if m.kind == sig.SETUP] == [32]


def test_a_lost_setup_is_sent_again_from_the_c_mcm_timer(bed):
    lost = []

    def fault(src, frame):
        if src is bed.wire.a and frame.vci == sig.SIGNALING_VCI and not lost:
            lost.append(frame)
            return []                   # the first SETUP never arrives
        return [bed.wire.latency_ns]
    bed.wire.fault = fault
    out, answered = _place(bed, 0, b"bob")
    assert out.state == "UP" and answered.state == "UP"
    assert [m.kind for m in _signals(bed, "wire.a")] == [sig.SETUP, sig.SETUP, sig.CONNECT_ACK]


def test_duplicated_frames_change_nothing(bed):
    bed.wire.fault = lambda src, frame: [bed.wire.latency_ns, bed.wire.latency_ns + 1]
    out, answered = _place(bed, 0, b"bob")
    assert out.state == "UP" and answered.state == "UP"
    assert len(bed.clients[1].incoming) == 1     # the second SETUP was not a second call
    bed.do(0, bed.clients[0].send, out, b"twice")
    assert answered.received == [b"twice", b"twice"]     # data cells are not signaling: both arrive
    bed.do(0, bed.clients[0].close, out)
    assert out.state == "CLOSED" and answered.state == "CLOSED" and out.deleted and answered.deleted
    assert [h.vc_count for h in bed.hosts] == [0, 0]


def test_a_close_toward_a_silent_peer_is_held_until_it_is_heard_again(bed):
    out, answered = _place(bed, 0, b"bob")
    silent = [True]
    bed.wire.fault = lambda src, frame: [] if src is bed.wire.b and silent[0] else [bed.wire.latency_ns]
    bed.do(0, bed.clients[0].close, out)
    # B released the call and answered every RELEASE, but A heard none of it: after its tries,
    # A holds the RELEASE instead of giving the close up, and the close stays pending
    assert answered.state == "CLOSED"
    assert out.state == "CLOSING"
    assert [m.kind for m in _signals(bed, "wire.a")] == [
        sig.SETUP, sig.CONNECT_ACK, sig.RELEASE, sig.RELEASE, sig.RELEASE]
    silent[0] = False
    back, _ = _place(bed, 1, b"alice")          # B is heard from again: the held RELEASE goes out
    assert back.state == "UP"
    assert out.state == "CLOSED" and out.deleted
    assert [m.kind for m in _signals(bed, "wire.a")][5:] == [sig.RELEASE, sig.CONNECT]


def _forge(bed, msg: sig.Message) -> None:
    """A signaling message on the wire as if host B's call manager had sent it."""
    bed.wire.b.transmit(sig.signal(msg))
    bed.run()


def test_a_restart_from_the_peer_clears_the_c_side_s_calls(bed):
    out, answered = _place(bed, 0, b"bob")
    mark = len(bed.recorder.records)
    _forge(bed, sig.Message(sig.RESTART, 0, False, cause=sig.CAUSE_OUT_OF_ORDER))
    closes = [r for r in bed.recorder.records[mark:] if r.host == "A" and r.name == "NdisMCmDispatchIncomingCloseCall"]
    assert len(closes) == 1 and closes[0].args.startswith("NDIS_STATUS_FAILURE")
    assert out.state == "CLOSED" and out.deleted
    # A's RELEASE COMPLETE reached B, whose MCM cleared the call there too
    assert answered.state == "CLOSED" and answered.deleted
    assert [h.vc_count for h in bed.hosts] == [0, 0]


@pytest.mark.parametrize(("kind", "cause"), [(sig.CONNECT, sig.CAUSE_BAD_REFERENCE), (sig.RELEASE, sig.CAUSE_NORMAL)])
def test_a_message_for_a_call_the_c_mcm_does_not_know_is_answered(bed, kind, cause):
    _forge(bed, sig.Message(kind, 7, False, 40))
    assert [(m.kind, m.ref, m.mine, m.cause) for m in _signals(bed, "wire.a")] == [
        (sig.RELEASE_COMPLETE, 7, True, cause)]


def test_a_release_complete_for_an_unknown_call_is_not_answered(bed):
    _forge(bed, sig.Message(sig.RELEASE_COMPLETE, 7, False, cause=sig.CAUSE_NORMAL))
    assert _signals(bed, "wire.a") == []


def test_a_late_setup_for_a_call_cleared_here_is_answered_not_offered(bed):
    back, answered = _place(bed, 1, b"alice")
    setup = next(f for _, src, f in bed.wire.frames if src == "wire.b" and f.vci == sig.SIGNALING_VCI)
    bed.do(1, bed.clients[1].close, back)
    assert answered.state == "CLOSED"
    offered = len(bed.clients[0].incoming)
    bed.wire.b.transmit(setup)          # the SETUP again, as a retransmission that was delayed
    bed.run()
    assert len(bed.clients[0].incoming) == offered
    last = _signals(bed, "wire.a")[-1]
    assert (last.kind, last.ref, last.mine, last.cause) == (sig.RELEASE_COMPLETE, 1, False, sig.CAUSE_NORMAL)


def test_each_leaf_of_a_python_multipoint_call_is_a_call_at_the_c_host(bed):
    root, leaves = bed.clients[1], bed.clients[0]
    calls, parties = [], []
    bed.do(1, lambda: calls.append(root.place_call(b"alice", multipoint=True)))
    call = calls[0]
    bed.do(1, lambda: parties.append(root.add_party(call, b"alice")))
    assert [p.state for p in call.parties] == ["UP", "UP"] and [c.state for c in leaves.incoming] == ["UP", "UP"]
    bed.do(1, root.send, call, b"to both")
    assert [c.received for c in leaves.incoming] == [[b"to both"], [b"to both"]]
    bed.do(1, root.drop_party, parties[0])          # ADD PARTY's leaf goes: DROP PARTY to the C MCM
    assert [p.state for p in call.parties] == ["UP"] and [c.state for c in leaves.incoming] == ["UP", "CLOSED"]
    bed.do(0, leaves.close, leaves.incoming[0])     # the last leaf hangs up: the root's call is over
    assert call.state == "CLOSED" and [c.state for c in leaves.incoming] == ["CLOSED", "CLOSED"]
    assert all(c.deleted for c in leaves.incoming)


def test_a_c_client_deciding_slowly_gets_call_proceeding_sent_for_it(bed):
    alice = bed.clients[0]
    alice.answer = lambda call: NDIS_STATUS_PENDING
    calls = []
    bed.do(1, lambda: calls.append(bed.clients[1].place_call(b"alice")))
    offered = alice.incoming[-1]
    assert calls[0].state == "MAKING" and offered.state == "OFFERED"
    # B's SETUP was sent again while alice decided: the C MCM said CALL PROCEEDING, and B stopped
    assert [m.kind for m in _signals(bed, "wire.b")] == [sig.SETUP, sig.SETUP]
    assert [m.kind for m in _signals(bed, "wire.a")] == [sig.CALL_PROCEEDING]
    bed.do(0, alice.accept, offered)
    assert calls[0].state == "UP" and offered.state == "UP"
    assert [m.kind for m in _signals(bed, "wire.a")] == [sig.CALL_PROCEEDING, sig.CONNECT]


def test_a_call_refused_after_call_proceeding_is_released_not_just_refused(bed):
    alice = bed.clients[0]
    alice.answer = lambda call: NDIS_STATUS_PENDING
    calls = []
    bed.do(1, lambda: calls.append(bed.clients[1].place_call(b"alice")))
    bed.do(0, alice.reject, alice.incoming[-1])
    assert calls[0].state == "FAILED" and calls[0].status == NDIS_STATUS_NOT_ACCEPTED
    # past CALL PROCEEDING the C MCM clears with RELEASE (kept until B's RELEASE COMPLETE)
    assert [(m.kind, m.cause) for m in _signals(bed, "wire.a")] == [
        (sig.CALL_PROCEEDING, 0), (sig.RELEASE, sig.CAUSE_REJECTED)]
    assert [m.kind for m in _signals(bed, "wire.b")][-1] == sig.RELEASE_COMPLETE
    assert alice.incoming[-1].deleted and [h.vc_count for h in bed.hosts] == [0, 0]


def test_after_the_peer_s_restart_a_call_to_it_is_given_up_not_held(bed):
    up, answered = _place(bed, 0, b"bob")
    bed.hosts[1].remove_adapter("atm0")     # B's client closes the call, then its MCM says RESTART
    bed.run()
    assert up.state == "CLOSED" and up.deleted
    assert [m.kind for m in _signals(bed, "wire.b")][-3:] == [sig.RESTART] * 3
    calls = []
    bed.do(0, lambda: calls.append(bed.clients[0].place_call(b"bob")))
    # nobody answers the SETUP; the peer said it went away, so after its tries the call fails
    # (T303) instead of being held for a peer that might come back
    assert calls[0].state == "FAILED" and calls[0].status == NDIS_STATUS_FAILURE and calls[0].deleted
    assert [(m.kind, m.cause) for m in _signals(bed, "wire.a")][-4:] == [
        (sig.SETUP, 0), (sig.SETUP, 0), (sig.SETUP, 0), (sig.RELEASE_COMPLETE, sig.CAUSE_TIMER)]


def test_a_multipoint_call_from_the_c_mcm_to_leaves_at_the_python_host():
    bed = make_bed("mcm", Recorder(), mcm=_alternate(c_mcm(), AtmMcm))    # the Python client on both
    a, b = bed.clients
    calls, parties = [], []
    bed.do(0, lambda: calls.append(a.place_call(b"bob", multipoint=True)))
    call = calls[0]
    bed.do(0, lambda: parties.append(a.add_party(call, b"bob")))
    bed.do(0, lambda: parties.append(a.add_party(call, b"bob")))
    assert [p.state for p in call.parties] == ["UP"] * 3 and [c.state for c in b.incoming] == ["UP"] * 3
    bed.do(0, a.send, call, b"to all")
    assert [c.received for c in b.incoming] == [[b"to all"]] * 3
    bed.do(0, a.drop_party, parties[0])
    bed.do(1, b.close, b.incoming[2])       # a leaf hangs up: an incoming drop at the C MCM
    assert [p.state for p in call.parties] == ["UP"] and [c.state for c in b.incoming] == ["UP", "CLOSED", "CLOSED"]
    bed.do(0, a.send, call, b"to one")
    assert [c.received for c in b.incoming] == [[b"to all", b"to one"], [b"to all"], [b"to all"]]
    bed.do(0, a.close, call)
    assert call.state == "CLOSED" and call.deleted and all(c.state == "CLOSED" and c.deleted for c in b.incoming)
    teardown(bed)
