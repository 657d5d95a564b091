"""The guide's flows through the C samples, with the sequences tests/test_mcm_flows.py expects of
the Python samples: the C MCM under the Python client, the C client over the Python MCM, and
both C samples together, on both hosts.

One sequence differs, by design: the C MCM deactivates a VC before it completes the close its
client asked for (condis/cdriver/samples/atmmcm/callmgr.c says why), where the Python MCM
follows fig1-20 and completes first.
"""

from __future__ import annotations

import struct

import pytest

from condis import NDIS_STATUS_NOT_ACCEPTED, NDIS_STATUS_PENDING, NDIS_STATUS_SUCCESS
from condis._status import NDIS_STATUS_BUFFER_TOO_SHORT
from condis.constants import OID_CO_GET_CALL_INFORMATION, OID_GEN_CO_LINK_SPEED
from condis.demo import testbed as make_bed
from condis.drivers.client import AtmClient
from condis.drivers.mcm import AtmMcm
from condis.structs import NDIS_OID_REQUEST
from condis.trace import Recorder
from tests.c.samples import CCall, CClient, c_mcm, teardown
from tests.conftest import steps

CONFIGS = {
    "c-mcm": lambda: {"mcm": c_mcm(), "client": AtmClient},
    "c-client": lambda: {"mcm": AtmMcm, "client": CClient},
    "all-c": lambda: {"mcm": c_mcm(), "client": CClient},
}


@pytest.fixture(params=list(CONFIGS))
def bed(request: pytest.FixtureRequest):
    b = make_bed("mcm", Recorder(), **CONFIGS[request.param]())
    b.config = request.param
    yield b
    teardown(b)


def _call(bed):
    calls = []
    bed.do(0, lambda: calls.append(bed.clients[0].place_call(b"bob")))
    return calls[0], bed.clients[1].incoming[-1]


def test_registering_and_opening_the_af(bed):
    a = steps(bed.recorder, host="A")
    protocol = [s for s in a if any(k in s for k in ("AddressFamily", "AfRegister", "OpenAf", "Sap"))]
    assert protocol == [
        "A:NdisMCmRegisterAddressFamilyEx",
        "A:ProtocolCoAfRegisterNotify", "A:NdisClOpenAddressFamilyEx", "A:ProtocolCmOpenAf",
        "A:NdisClRegisterSap", "A:ProtocolCmRegisterSap",
    ]
    assert a.index("A:MiniportInitializeEx") < a.index("A:NdisMCmRegisterAddressFamilyEx") < a.index(
        "A:ProtocolBindAdapterEx")


def test_making_a_call_and_the_incoming_call(bed):
    rec = bed.recorder
    mark = len(rec.records)
    call, answered = _call(bed)
    assert call.state == "UP" and answered.state == "UP"
    assert steps(rec, mark, "A") == [
        "A:NdisCoCreateVc", "A:ProtocolCoCreateVc",
        "A:NdisClMakeCall", "A:ProtocolCmMakeCall",
        "A:NdisMCmActivateVc",
        "A:NdisMCmMakeCallComplete", "A:ProtocolClMakeCallComplete",
    ]
    assert steps(rec, mark, "B") == [
        "B:NdisMCmCreateVc", "B:ProtocolCoCreateVc",
        "B:NdisMCmActivateVc",
        "B:NdisMCmDispatchIncomingCall", "B:ProtocolClIncomingCall",
        "B:NdisMCmDispatchCallConnected", "B:ProtocolClCallConnected",
    ]


def test_client_initiated_close(bed):
    call, answered = _call(bed)
    rec = bed.recorder
    mark = len(rec.records)
    bed.do(0, bed.clients[0].close, call)
    # both MCMs, C and Python: the VC deactivated, then the close completed (cm-20, ProtocolClCloseCallComplete)
    close = ["A:NdisMCmDeactivateVc", "A:NdisMCmCloseCallComplete", "A:ProtocolClCloseCallComplete"]
    assert steps(rec, mark, "A") == [
        "A:NdisClCloseCall", "A:ProtocolCmCloseCall", *close, "A:NdisCoDeleteVc", "A:ProtocolCoDeleteVc",
    ]
    a = [r for r in rec.records[mark:] if r.host == "A" and r.kind in ("ddi", "handler")]
    assert [r.result for r in a if r.name in ("NdisClCloseCall", "ProtocolCmCloseCall")] == [
        "NDIS_STATUS_PENDING", "NDIS_STATUS_PENDING"]
    assert steps(rec, mark, "B") == [
        "B:NdisMCmDispatchIncomingCloseCall", "B:ProtocolClIncomingCloseCall",
        "B:NdisClCloseCall", "B:ProtocolCmCloseCall",
        "B:NdisMCmDeactivateVc",
        "B:NdisMCmDeleteVc", "B:ProtocolCoDeleteVc",
    ]
    assert call.state == "CLOSED" and answered.state == "CLOSED" and call.deleted and answered.deleted
    assert [h.vc_count for h in bed.hosts] == [0, 0]


def test_the_called_side_closes(bed):
    call, answered = _call(bed)
    rec = bed.recorder
    mark = len(rec.records)
    bed.do(1, bed.clients[1].close, answered)
    if bed.config == "c-mcm":
        # The C MCM acknowledges the close at once and deactivates the VC from a work item; the
        # Python client deletes its VC right after NdisClCloseCall, is told NDIS_STATUS_NOT_ACCEPTED
        # while the VC is still active (nf-ndis-ndiscodeletevc.md), and deletes it once it is not.
        teardown_steps = ["A:NdisCoDeleteVc", "A:NdisMCmDeactivateVc", "A:NdisCoDeleteVc", "A:ProtocolCoDeleteVc"]
    else:
        # the Python MCM deactivates before the client's acknowledging close returns
        teardown_steps = ["A:NdisMCmDeactivateVc", "A:NdisCoDeleteVc", "A:ProtocolCoDeleteVc"]
    assert steps(rec, mark, "A") == [
        "A:NdisMCmDispatchIncomingCloseCall", "A:ProtocolClIncomingCloseCall",
        "A:NdisClCloseCall", "A:ProtocolCmCloseCall", *teardown_steps,
    ]
    assert call.state == "CLOSED" and answered.state == "CLOSED" and call.deleted and answered.deleted
    assert [h.vc_count for h in bed.hosts] == [0, 0]


def test_data_both_ways(bed):
    call, answered = _call(bed)
    rec = bed.recorder
    mark = len(rec.records)
    bed.do(0, bed.clients[0].send, call, b"ping")
    bed.do(1, bed.clients[1].send, answered, b"pong")
    assert answered.received == [b"ping"] and call.received == [b"pong"]
    assert call.send_completed == 1 and answered.send_completed == 1
    received = ["A:NdisMCoIndicateReceiveNetBufferLists", "A:ProtocolCoReceiveNetBufferLists"]
    if bed.config == "c-client":
        # the Python MCM indicates without NDIS_RECEIVE_FLAGS_RESOURCES: the C client gives the list back
        received += ["A:NdisReturnNetBufferLists", "A:MiniportReturnNetBufferLists"]
    assert steps(rec, mark, "A") == [
        "A:NdisCoSendNetBufferLists", "A:MiniportCoSendNetBufferLists",
        "A:NdisMCoSendNetBufferListsComplete", "A:ProtocolCoSendNetBufferListsComplete", *received,
    ]


def test_qos_change_requested_by_the_client(bed):
    call, _ = _call(bed)
    rec = bed.recorder
    mark = len(rec.records)
    bed.do(0, bed.clients[0].modify_qos, call, 2_000_000)
    assert steps(rec, mark, "A") == [
        "A:NdisClModifyCallQoS", "A:ProtocolCmModifyCallQoS",
        "A:NdisMCmActivateVc",
        "A:NdisMCmModifyCallQoSComplete", "A:ProtocolClModifyCallQoSComplete",
    ]
    if isinstance(call, CCall):
        assert call.qos_status == NDIS_STATUS_SUCCESS
    else:
        assert call.events[-1] == "qos:NDIS_STATUS_SUCCESS"


def test_incoming_call_left_pending_then_accepted(bed):
    b = bed.clients[1]
    b.answer = lambda call: NDIS_STATUS_PENDING
    calls = []
    bed.do(0, lambda: calls.append(bed.clients[0].place_call(b"bob")))
    offered = b.incoming[-1]
    assert calls[0].state == "MAKING" and offered.state == "OFFERED"
    rec = bed.recorder
    mark = len(rec.records)
    bed.do(1, b.accept, offered)
    assert steps(rec, mark, "B") == [
        "B:NdisClIncomingCallComplete", "B:ProtocolCmIncomingCallComplete",
        "B:NdisMCmDispatchCallConnected", "B:ProtocolClCallConnected",
    ]
    assert calls[0].state == "UP" and offered.state == "UP"


def test_incoming_call_rejected(bed):
    bed.clients[1].answer = lambda call: NDIS_STATUS_NOT_ACCEPTED
    calls = []
    bed.do(0, lambda: calls.append(bed.clients[0].place_call(b"bob")))
    call = calls[0]
    assert call.state == "FAILED" and call.status == NDIS_STATUS_NOT_ACCEPTED and call.deleted
    assert [h.vc_count for h in bed.hosts] == [0, 0]


def test_call_to_an_unknown_address_fails(bed):
    calls = []
    bed.do(0, lambda: calls.append(bed.clients[0].place_call(b"nobody")))
    assert calls[0].state == "FAILED" and calls[0].status != NDIS_STATUS_SUCCESS and calls[0].deleted


def test_unbinding_with_calls_up_closes_them(bed):
    first, answered = _call(bed)
    calls = []
    bed.do(1, lambda: calls.append(bed.clients[1].place_call(b"alice")))
    second, answered2 = calls[0], bed.clients[0].incoming[-1]
    assert [c.state for c in (first, answered, second, answered2)] == ["UP"] * 4
    bed.do(0, bed.clients[0].send, answered2, b"to B")
    assert second.received == [b"to B"]
    # unbind with both calls up: the clients close them, deregister, close the AFs, unbind
    for host in bed.hosts:
        host.unload_driver("atmclient")
    bed.run()
    assert [h.vc_count for h in bed.hosts] == [0, 0]
    assert [c.state for c in (first, answered, second, answered2)] == ["CLOSED"] * 4


def test_multipoint_add_and_drop_party_and_incoming_drop(bed):
    mcm = bed
    a, b = mcm.clients
    calls = []
    mcm.do(0, lambda: calls.append(a.place_call(b"bob", multipoint=True)))
    call = calls[0]
    assert call.state == "UP" and [p.state for p in call.parties] == ["UP"]
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
    assert [p.state for p in call.parties] == ["UP", "UP"] and len(b.incoming) == 2
    mcm.do(0, a.send, call, b"to both")
    assert [c.received for c in b.incoming] == [[b"to both"], [b"to both"]]
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
    assert len([p for p in call.parties if p.state == "UP"]) == 1
    mark = len(rec.records)
    mcm.do(0, a.close, call)
    # the last party goes with NdisClCloseCall and the party handle (dropping-a-party-...md)
    closing = [r for r in rec.records[mark:] if r.name == "NdisMCmCloseCallComplete"]
    assert len(closing) == 1 and closing[0].args.startswith("NDIS_STATUS_SUCCESS, VC") and "party" in closing[0].args
    assert call.state == "CLOSED" and call.deleted


def _oid(bed, *args):
    out = []
    bed.hosts[0].post(lambda: out.append(bed.hosts[0].NdisCoOidRequest(*args)), owner=("atmclient", "Client"))
    bed.run()
    return out[0]


def test_the_c_mcm_answers_its_oids():
    bed = make_bed("mcm", Recorder(), mcm=c_mcm())
    a = bed.clients[0]
    binding = a.bindings[0].handle
    speed = NDIS_OID_REQUEST(Oid=OID_GEN_CO_LINK_SPEED, InformationBufferLength=8)
    assert _oid(bed, binding, None, None, None, speed) == NDIS_STATUS_SUCCESS
    assert struct.unpack("<II", speed.InformationBuffer) == (1_555_200, 1_555_200) and speed.BytesWritten == 8
    short = NDIS_OID_REQUEST(Oid=OID_GEN_CO_LINK_SPEED, InformationBufferLength=4)
    assert _oid(bed, binding, None, None, None, short) == NDIS_STATUS_BUFFER_TOO_SHORT and short.BytesNeeded == 8
    call, _ = _call(bed)
    info = NDIS_OID_REQUEST(Oid=OID_CO_GET_CALL_INFORMATION, InformationBufferLength=4096)
    assert _oid(bed, binding, call.af.ndis_af, call.vc, None, info) == NDIS_STATUS_SUCCESS
    # the call's CO_CALL_PARAMETERS, then its CO_CALL_MANAGER_PARAMETERS: the Transmit FLOWSPEC's TokenRate
    assert info.BytesWritten > 24 and struct.unpack_from("<I", info.InformationBuffer, 24) == (1_000_000,)
    teardown(bed)
