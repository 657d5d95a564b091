"""The sample drivers against what their guide pages ask of them, and against bad input: what users
copy must not break a page's rule or crash on what it receives."""

from __future__ import annotations

import random

import pytest

from condis import (
    DISPATCH_LEVEL,
    NDIS_STATUS_FAILURE,
    NDIS_STATUS_INVALID_DATA,
    NDIS_STATUS_NOT_ACCEPTED,
    NDIS_STATUS_NOT_SUPPORTED,
    NDIS_STATUS_SUCCESS,
)
from condis.constants import NDIS_RECEIVE_FLAGS_RESOURCES
from condis.demo import testbed as make_bed
from condis.drivers import signaling as sig
from condis.drivers.client import CLOSED, CLOSING, RETRIES, RETRY_100NS, UP
from condis.drivers.cm import AtmCallManager
from condis.drivers.mcm import AtmMcm
from condis.structs import CO_CALL_MANAGER_PARAMETERS, CO_CALL_PARAMETERS, CO_SAP, CO_SPECIFIC_PARAMETERS, FLOWSPEC
from condis.trace import Recorder
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
    expected = ["A:NdisClAddParty", "A:ProtocolCmAddParty", f"{prefix}AddPartyComplete",
                "A:ProtocolClAddPartyComplete", *(prefix + t if t.startswith("Dispatch") else "A:" + t for t in then)]
    assert a[:len(expected)] == expected
    completions = [r.args.split(",")[0] for r in bed.recorder.records[mark:] if r.name == "ProtocolClAddPartyComplete"]
    assert completions == [added]
    if call.state == UP:
        assert [p.address for p in call.parties] == [address]
        bed.do(0, bed.clients[0].close, call)
    assert call.state == CLOSED and call.deleted
    bed.sim.finish()


def test_a_cell_arriving_while_the_vc_is_being_activated_is_dropped(cm):
    # activating-a-vc.md: a VC carries data once it is activated. A data cell that follows the CONNECT
    # on the wire reaches the miniport while its activation of the caller's VC is still pending; the
    # NIC drops it rather than indicate it on a VC NDIS has not activated yet.
    wire = cm.wire

    def data_after_connect(src, frame):
        msg = sig.Message.decode(frame.payload) if frame.vci == sig.SIGNALING_VCI else None
        if src is wire.b and msg is not None and msg.kind == sig.CONNECT:
            cm.hosts[1].post(wire.b.transmit, sig.Cell(msg.vci, b"early"))
        return [wire.latency_ns]
    wire.fault = data_after_connect
    call, answered = _call(cm)
    nic = cm.hosts[0].adapters["atm0"].context.nic
    assert call.state == UP and call.received == [] and nic.dropped == 1
    cm.do(1, cm.clients[1].send, answered, b"on time")
    assert call.received == [b"on time"]
    cm.sim.finish()


# ---- what arrives on the signaling VCI ---------------------------------------------------------

def signaling_port(bed, host=0):
    """The sample call manager's per-adapter (MCM) or per-binding (call manager) signaling state."""
    manager = bed.call_managers[host]
    return manager.adapters[0] if hasattr(manager, "adapters") else manager.bindings[0]


def from_b(bed, *payloads: bytes) -> None:
    """Put ``payloads`` on the signaling VCI from B's end of the wire, and run."""
    for raw in payloads:
        bed.hosts[1].post(bed.wire.b.transmit, sig.Cell(sig.SIGNALING_VCI, raw))
    bed.run()


def header(code: int) -> bytes:
    return bytes([code]) + bytes(sig._HEADER.size - 1)


def test_frames_that_are_no_message_are_dropped_and_counted(bed):
    call, answered = _call(bed)
    port = signaling_port(bed)
    garbage = [b"", b"\x00", header(0)[:-1], header(len(sig._KINDS)), header(255), b"\xff" * 40]
    from_b(bed, *garbage)
    assert port.bad_frames == len(garbage)
    frames = [r.name for r in bed.recorder.records if r.kind == "frame"][-len(garbage):]
    assert frames == [f"BAD SIGNALING {len(g)}B" for g in garbage]
    bed.do(0, bed.clients[0].send, call, b"still up")
    assert answered.received == [b"still up"]
    bed.do(0, bed.clients[0].close, call)
    assert call.state == CLOSED and answered.state == CLOSED
    bed.sim.finish()


@pytest.mark.parametrize(("vci", "rate"), [(0, 0), (sig.SIGNALING_VCI, 0), (sig.FIRST_DATA_VCI - 1, 0),
                                           (41, -1)])
def test_a_setup_with_no_data_vci_or_a_negative_rate_is_refused(bed, vci, rate):
    port = signaling_port(bed)
    mark = len(bed.recorder.records)
    from_b(bed, sig.Message(sig.SETUP, 7, True, vci, 0, 0, b"alice", rate).encode())
    assert port.bad_frames == 1 and not bed.clients[0].incoming
    assert [r.name for r in bed.recorder.records[mark:] if r.kind == "frame"][-1] == "RELEASE_COMPLETE ref=7 cause=100"
    assert not [s for s in steps(bed.recorder, mark, "A") if "Vc" in s or "Incoming" in s]
    bed.sim.finish()


def test_a_setup_for_a_vci_in_use_is_refused_and_the_call_on_it_goes_on(bed):
    # A VCI carries one VC: the NIC refuses a second, and the call is refused for want of resources.
    call, answered = _call(bed)
    vci = answered.params.MediaParameters.MediaSpecific.Parameters      # the VCI A's call uses
    mark = len(bed.recorder.records)
    from_b(bed, sig.Message(sig.SETUP, 9, True, int.from_bytes(vci, "big"), 0, 0, b"alice").encode())
    frames = [r.name for r in bed.recorder.records[mark:] if r.kind == "frame"]
    assert frames[-1] == f"RELEASE_COMPLETE ref=9 cause={sig.CAUSE_RESOURCES}"
    assert not bed.clients[0].incoming
    bed.do(1, bed.clients[1].send, answered, b"same vci, same call")
    assert call.received == [b"same vci, same call"]
    bed.do(0, bed.clients[0].close, call)
    assert call.state == CLOSED and call.deleted
    bed.sim.finish()


# ---- what clients hand the call manager -------------------------------------------------------

def on_a(bed, fn):
    out = []
    bed.hosts[0].post(lambda: out.append(fn()), owner=CLIENT)
    bed.run()
    return out[0]


# A Sap that is not bytes at all never reaches the call manager: NDIS refuses the structure
# (tests/rules/test_input_rules.py). These are well-formed SAPs the signaling cannot take.
@pytest.mark.parametrize("sap", [
    CO_SAP(SapType=1, Sap=b""), CO_SAP(SapType=1, Sap=b"x" * (sig.MAX_ADDRESS + 1)),
    CO_SAP(SapType=1, Sap=b"dave", SapLength=9), CO_SAP(SapType=1, Sap=b"alice"),
], ids=["empty", "too-long", "wrong-length", "registered-already"])
def test_a_sap_the_call_manager_cannot_take_is_refused_with_invalid_data(bed, sap):
    # nc-ndis-protocol_cm_reg_sap.md: NDIS_STATUS_INVALID_DATA for a SAP that is invalid or that a
    # client registered already ("alice" is the sample client's own)
    af = bed.clients[0].af_for()
    mark = len(bed.recorder.records)
    status, handle = on_a(bed, lambda: bed.hosts[0].NdisClRegisterSap(af.ndis_af, object(), sap))
    assert (status, handle) == (NDIS_STATUS_INVALID_DATA, None)
    assert [r.result for r in bed.recorder.records[mark:] if r.name == "ProtocolCmRegisterSap"] == [
        "NDIS_STATUS_INVALID_DATA, NULL"]
    status, handle = on_a(bed, lambda: bed.hosts[0].NdisClRegisterSap(af.ndis_af, object(), CO_SAP(1, 4, b"dave")))
    assert status == NDIS_STATUS_SUCCESS       # the call manager goes on taking good ones
    assert on_a(bed, lambda: bed.hosts[0].NdisClDeregisterSap(handle)) == NDIS_STATUS_SUCCESS
    bed.sim.finish()


# Parameters of the wrong types never reach the call manager: NDIS refuses the structure
# (tests/rules/test_input_rules.py). These are well-formed ones the signaling cannot carry.
@pytest.mark.parametrize("params", [
    CO_CALL_PARAMETERS(0, None, None),
    CO_CALL_PARAMETERS(0, CO_CALL_MANAGER_PARAMETERS(Transmit=FLOWSPEC(TokenRate=2**64),
                                                     CallMgrSpecific=CO_SPECIFIC_PARAMETERS(1, 3, b"bob")), None),
], ids=["no-call-manager-parameters", "rate-too-big"])
def test_call_parameters_the_signaling_cannot_carry_fail_the_make_call(bed, params):
    # nc-ndis-protocol_cm_make_call.md: NDIS_STATUS_NOT_SUPPORTED for call parameters the call manager
    # cannot honour; nothing goes on the wire
    client = bed.clients[0]
    mark = len(bed.recorder.records)

    def make() -> tuple:
        call = client.place_call(b"bob")       # a VC with a call under way; then one with bad parameters
        return call, bed.hosts[0].NdisCoCreateVc(call.af.binding.handle, call.af.ndis_af, object())
    good, (status, vc) = on_a(bed, make)
    assert status == NDIS_STATUS_SUCCESS and good.state == UP
    status, party = on_a(bed, lambda: bed.hosts[0].NdisClMakeCall(vc, params, None))
    assert (status, party) == (NDIS_STATUS_NOT_SUPPORTED, None)
    frames = [r.name.split()[0] for r in bed.recorder.records[mark:] if r.kind == "frame" and r.host == "A"]
    assert frames.count("SETUP") == 1
    assert on_a(bed, lambda: bed.hosts[0].NdisCoDeleteVc(vc)) == NDIS_STATUS_SUCCESS
    bed.do(0, client.close, good)
    bed.sim.finish()


# ---- a refused SAP deregistration ----------------------------------------------------------------

class RefusesDeregistration:
    """Mixed into a sample call manager: ProtocolCmDeregisterSap fails the first ``refusals`` times."""

    refusals = 2

    def CmDeregisterSap(self, CallMgrSapContext):
        if self.refusals:
            self.refusals -= 1
            return NDIS_STATUS_FAILURE
        return super().CmDeregisterSap(CallMgrSapContext)


class McmRefusing(RefusesDeregistration, AtmMcm):
    pass


class CmRefusing(RefusesDeregistration, AtmCallManager):
    pass


def deregistrations(bed, since=0):
    return [(r.t, r.result) for r in bed.recorder.records[since:] if r.host == "A" and r.name == "NdisClDeregisterSap"]


@pytest.mark.parametrize("kind", ["mcm", "cm"])
def test_a_refused_sap_deregistration_is_tried_again_later(kind):
    bed = make_bed(kind, Recorder(), mcm=McmRefusing, cm=CmRefusing)
    client = bed.clients[0]
    mark = len(bed.recorder.records)
    bed.hosts[0].unload_driver("atmclient")
    bed.run()
    tries = deregistrations(bed, mark)
    assert [result for _, result in tries] == ["NDIS_STATUS_FAILURE", "NDIS_STATUS_FAILURE", "NDIS_STATUS_SUCCESS"]
    assert [b - a for (a, _), (b, _) in zip(tries, tries[1:], strict=False)] == [-RETRY_100NS * 100] * 2    # from the timer
    assert client.log[-1] == ("af-closed", "atm0") and not client.bindings
    bed.sim.finish()


@pytest.mark.parametrize("kind", ["mcm", "cm"])
def test_a_sap_deregistration_refused_for_good_is_given_up(kind):
    class Never(McmRefusing if kind == "mcm" else CmRefusing):
        refusals = 10**6
    bed = make_bed(kind, Recorder(), mcm=Never, cm=Never)
    client = bed.clients[0]
    bed.hosts[0].unload_driver("atmclient")
    bed.run()
    assert len(deregistrations(bed)) == RETRIES
    assert client.log[-1] == ("deregister-sap-failed", NDIS_STATUS_FAILURE)
    assert client.bindings[0].afs[0].saps[0].registered     # the SAP, and so the AF, stay


@pytest.mark.parametrize("kind", ["mcm", "cm"])
def test_a_deregistration_ndis_refuses_in_record_mode_is_tried_a_bounded_number_of_times(kind):
    # In record mode NDIS refuses a call that breaks a rule and returns NDIS_STATUS_FAILURE: here the
    # SAP was deregistered behind the client's back, so each of its tries is refused.
    bed = make_bed(kind, Recorder(), verify="record")
    client = bed.clients[0]
    sap = client.bindings[0].afs[0].saps[0]
    assert on_a(bed, lambda: bed.hosts[0].NdisClDeregisterSap(sap.handle)) == NDIS_STATUS_SUCCESS
    bed.hosts[0].unload_driver("atmclient")
    bed.run()
    assert len(deregistrations(bed)) == 1 + RETRIES
    refused = [v for v in bed.sim.verifier.violations if v.ddi == "NdisClDeregisterSap"]
    assert len(refused) == RETRIES
    assert client.log[-1] == ("deregister-sap-failed", NDIS_STATUS_FAILURE)


def test_a_client_may_delete_its_vc_once_it_acknowledged_an_incoming_close(bed):
    # nc-ndis-protocol_cl_incoming_close_call.md: after NdisClCloseCall the client may tear its VC down
    # with NdisCoDeleteVc (and must, for a close status other than success). An MCM deactivates the VC
    # inside ProtocolCmCloseCall, so the delete from ProtocolClIncomingCloseCall succeeds; a call manager
    # whose miniport pends the deactivation pends the close, and the client deletes on its completion.
    call, answered = _call(bed)
    mark = len(bed.recorder.records)
    bed.do(1, bed.clients[1].close, answered)
    by_seq = {r.seq: r for r in bed.recorder.records}
    deletes = [(by_seq[r.parent].name, r.result) for r in bed.recorder.records[mark:]
               if r.host == "A" and r.name == "NdisCoDeleteVc"]
    mcm = "atmmcm" in bed.hosts[0].drivers
    assert deletes == [("ProtocolClIncomingCloseCall" if mcm else "ProtocolClCloseCallComplete", "NDIS_STATUS_SUCCESS")]
    assert call.state == CLOSED and call.deleted and answered.deleted
    bed.sim.finish()


def test_what_is_no_cell_of_bytes_is_dropped_by_the_nic(bed):
    call, answered = _call(bed)
    nic = bed.hosts[0].adapters["atm0"].context.nic
    before = nic.dropped
    for frame in (b"raw bytes", None, sig.Cell(sig.SIGNALING_VCI, None), sig.Cell(answered.vc.vc.id, 7)):
        bed.hosts[1].post(bed.wire.b.transmit, frame)
    bed.run()
    assert nic.dropped == before + 4
    frames = [r.name for r in bed.recorder.records if r.kind == "frame"][-4:]
    assert frames[2:] == [f"BAD CELL vci={sig.SIGNALING_VCI}", f"BAD CELL vci={answered.vc.vc.id}"]
    bed.do(0, bed.clients[0].close, call)
    assert call.state == CLOSED
    bed.sim.finish()


def test_a_send_on_a_call_being_closed_is_refused(bed):
    # nf-ndis-ndisclclosecall.md: no send follows NdisClCloseCall, and the close waits for earlier ones
    call, _ = _call(bed)
    client = bed.clients[0]
    mark = len(bed.recorder.records)

    def close_then_send() -> None:
        client.close(call)
        client.send(call, b"too late")
    bed.do(0, close_then_send)
    assert call.events[-3:] == ["send-refused", "closed", "deleted"] and call.sent == 0
    assert "A:NdisCoSendNetBufferLists" not in steps(bed.recorder, mark, "A", drivers=("atmclient",))
    bed.sim.finish()


def test_a_net_buffer_list_without_a_net_buffer_is_received_as_no_data(mcm):
    call, answered = _call(mcm)
    host = mcm.hosts[1]
    nic = host.adapters["atm0"].context.nic

    def indicate() -> None:
        nbl = host.NdisAllocateNetBufferAndNetBufferList(nic.pool, 0, 0, b"", 0, 0)
        nbl.FirstNetBuffer = None
        nbl.SourceHandle = answered.vc.vc.h_miniport
        # with NDIS_RECEIVE_FLAGS_RESOURCES the list is the miniport's again when the indication returns
        host.NdisMCoIndicateReceiveNetBufferLists(nbl.SourceHandle, nbl, 1, NDIS_RECEIVE_FLAGS_RESOURCES)
        host.NdisFreeNetBufferList(nbl)
    host.post(indicate, irql=DISPATCH_LEVEL)
    mcm.run()
    assert answered.received == [b""]
    mcm.do(0, mcm.clients[0].close, call)
    mcm.sim.finish()


def test_the_miniport_refuses_an_activation_whose_media_parameters_list_no_vcis(cm):
    # activating-a-vc.md: MiniportCoActivateVc validates the call parameters and fails what the NIC
    # cannot carry
    call, answered = _call(cm)
    host = cm.hosts[0]
    vc = call.vc.vc
    bad = sig.call_parameters(b"bob")
    bad.MediaParameters.MediaSpecific = CO_SPECIFIC_PARAMETERS(2, 3, b"\x00\x00\x20")
    out = []
    host.post(lambda: out.append(host.NdisCmActivateVc(vc.h_cm, bad)), irql=DISPATCH_LEVEL,
              owner=("atmcm", "Call Manager"))
    cm.run()
    assert out == [NDIS_STATUS_INVALID_DATA]
    cm.do(0, cm.clients[0].send, call, b"still carried")
    assert answered.received == [b"still carried"]
    cm.do(0, cm.clients[0].close, call)
    cm.sim.finish()


def test_close_data_the_signaling_cannot_carry_is_refused_with_invalid_data(bed):
    # nc-ndis-protocol_cm_close_call.md, nc-ndis-protocol_cm_drop_party.md: a call manager whose medium
    # sends no data with a release refuses CloseData with NDIS_STATUS_INVALID_DATA
    calls = []
    bed.do(0, lambda: calls.append(bed.clients[0].place_call(b"bob", multipoint=True)))
    call = calls[0]
    bed.do(0, bed.clients[0].add_party, call, b"bob")
    first, second = call.parties
    host = bed.hosts[0]
    mark = len(bed.recorder.records)
    assert on_a(bed, lambda: host.NdisClDropParty(second.handle, b"bye", 3)) == NDIS_STATUS_INVALID_DATA
    assert [r for r in bed.recorder.records[mark:] if r.kind == "frame"] == []      # nothing signaled
    bed.do(0, bed.clients[0].drop_party, second)      # without data, as before
    assert call.parties == [first]
    mark = len(bed.recorder.records)
    assert on_a(bed, lambda: host.NdisClCloseCall(call.vc, first.handle, b"bye", 3)) == NDIS_STATUS_INVALID_DATA
    assert [r for r in bed.recorder.records[mark:] if r.kind == "frame"] == []
    bed.do(0, bed.clients[0].close, call)
    assert call.state == CLOSED and call.deleted
    bed.sim.finish()


class RefusesAfClose:
    """Mixed into a sample call manager: ProtocolCmCloseAf refuses the first two closes."""

    refusals = 2

    def CmCloseAf(self, CallMgrAfContext):
        if self.refusals:
            self.refusals -= 1
            return NDIS_STATUS_NOT_ACCEPTED      # nc-ndis-protocol_cm_close_af.md
        return super().CmCloseAf(CallMgrAfContext)


class McmRefusingAfClose(RefusesAfClose, AtmMcm):
    pass


class CmRefusingAfClose(RefusesAfClose, AtmCallManager):
    pass


@pytest.mark.parametrize("kind", ["mcm", "cm"])
def test_a_refused_af_close_keeps_the_af_open_and_is_tried_again_later(kind):
    bed = make_bed(kind, Recorder(), mcm=McmRefusingAfClose, cm=CmRefusingAfClose)
    client = bed.clients[0]
    mark = len(bed.recorder.records)
    bed.hosts[0].unload_driver("atmclient")
    bed.run()
    tries = [(r.t, r.result) for r in bed.recorder.records[mark:]
             if r.host == "A" and r.name == "NdisClCloseAddressFamily"]
    assert [result for _, result in tries] == ["NDIS_STATUS_NOT_ACCEPTED"] * 2 + ["NDIS_STATUS_SUCCESS"]
    assert [b - a for (a, _), (b, _) in zip(tries, tries[1:], strict=False)] == [-RETRY_100NS * 100] * 2
    assert client.log[-1] == ("af-closed", "atm0") and not client.bindings
    bed.sim.finish()


@pytest.mark.parametrize("kind", ["mcm", "cm"])
def test_random_signaling_frames_never_break_the_samples(kind):
    # Whatever arrives on the signaling VCI, well-formed or not, for calls that exist or not: the
    # samples neither crash nor break a rule, and everything is torn down cleanly at the end.
    for seed in range(40):
        rng = random.Random(seed)
        bed = make_bed(kind)
        a = bed.clients[0]
        for i in range(3):
            bed.hosts[0].post(a.place_call, b"bob", 1_000_000, i == 1, delay_ns=rng.randrange(100_000), owner=CLIENT)
        for _ in range(rng.randrange(1, 10)):
            if rng.random() < 0.7:
                raw = sig.Message(rng.choice(sig._KINDS), rng.randrange(5), rng.random() < 0.5,
                                  rng.choice([0, 5, 32, 33, 34, 35, 2**32 - 1]), rng.choice([0, 16, 21, 47, 81]),
                                  rng.choice([0, 1, 2, 3]), rng.choice([b"", b"alice", b"bob"]),
                                  rng.choice([0, -1, 10**6])).encode()
            else:
                raw = bytes(rng.randrange(256) for _ in range(rng.choice([0, 3, 23, 24, 30])))
            end = bed.wire.b if rng.random() < 0.7 else bed.wire.a
            bed.hosts[1 if end is bed.wire.b else 0].post(end.transmit, sig.Cell(sig.SIGNALING_VCI, raw),
                                                          delay_ns=rng.randrange(300_000))
        bed.run()
        for client, host in ((a, 0), (bed.clients[1], 1)):
            for call in list(client.calls):
                if call.state == UP:
                    bed.do(host, client.close, call)
        bed.sim.finish()
