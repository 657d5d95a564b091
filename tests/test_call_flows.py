"""Call flows the DDI pages allow beyond the guide's main figures: negotiating the QoS of an offered
call before answering it, and an incoming close of a multipoint call with several parties."""

from __future__ import annotations

import pytest

from condis import NDIS_STATUS_PENDING, NDIS_STATUS_SUCCESS
from condis.demo import testbed as make_testbed
from condis.drivers.client import UP
from condis.ndis import states as S
from condis.trace import Recorder
from tests.conftest import steps


def names(s):
    return [x.split(":", 1)[1] for x in s]


@pytest.mark.parametrize("kind", ["mcm", "cm"])
def test_the_client_negotiates_the_qos_of_an_offered_call_before_answering(kind):
    # ddi: nf-ndis-ndisclincomingcallcomplete.md (remarks), cm-13 / fig1-13 step 8
    bed = make_testbed(kind, Recorder(), answer=lambda call: NDIS_STATUS_PENDING)
    rec, b = bed.recorder, bed.clients[1]
    bed.do(0, bed.clients[0].place_call, b"bob")
    offered = b.incoming[-1]
    vc = offered.vc.vc
    assert (vc.state, vc.op) == (S.CALL_OFFERED, S.OP_PENDING)
    mark = len(rec.records)
    out = []
    bed.do(1, lambda: out.append(b.modify_qos(offered, 2_000_000)))
    family = "NdisMCm" if kind == "mcm" else "NdisCm"
    activation = ["NdisMCmActivateVc"] if kind == "mcm" else ["NdisCmActivateVc", "MiniportCoActivateVc",
                                                              "NdisMCoActivateVcComplete", "ProtocolCmActivateVcComplete"]
    assert out == [NDIS_STATUS_PENDING]
    assert names(steps(rec, mark, "B")) == ["NdisClModifyCallQoS", "ProtocolCmModifyCallQoS", *activation,
                                            f"{family}ModifyCallQoSComplete", "ProtocolClModifyCallQoSComplete"]
    assert offered.events[-1] == "qos:NDIS_STATUS_SUCCESS"
    assert (vc.state, vc.op) == (S.CALL_OFFERED, S.OP_PENDING)   # still offered, the answer still due
    mark = len(rec.records)
    bed.do(1, b.accept, offered)
    assert names(steps(rec, mark, "B"))[:2] == ["NdisClIncomingCallComplete", "ProtocolCmIncomingCallComplete"]
    assert "ProtocolClCallConnected" in names(steps(rec, mark, "B"))
    assert offered.state == UP and vc.state == S.CALL_CONNECTED
    assert bed.clients[0].calls[-1].state == UP
    bed.sim.finish()


@pytest.mark.parametrize("kind", ["mcm", "cm"])
def test_an_incoming_close_of_a_multipoint_call_with_two_parties(kind):
    # ddi: nc-ndis-protocol_cl_incoming_close_call.md — the client drops all but the last party,
    # then closes the call with that one
    bed = make_testbed(kind, Recorder())
    rec, a = bed.recorder, bed.clients[0]
    bed.do(0, a.place_call, b"bob", 1_000_000, True)
    call = a.calls[-1]
    bed.do(0, a.add_party, call, b"bob")
    assert [p.state for p in call.parties] == [UP, UP]
    first, second = (p.handle for p in call.parties)
    manager = bed.call_managers[0]
    mark = len(rec.records)
    bed.hosts[0].post(manager.cm("DispatchIncomingCloseCall"), NDIS_STATUS_SUCCESS, call.vc.vc.h_cm, None, 0)
    bed.run()
    family = manager.prefix
    seen = [s for s in names(steps(rec, mark, "A")) if "Party" in s or "CloseCall" in s]
    assert seen == [f"{family}DispatchIncomingCloseCall", "ProtocolClIncomingCloseCall",
                    "NdisClDropParty", "ProtocolCmDropParty", f"{family}DropPartyComplete", "ProtocolClDropPartyComplete",
                    "NdisClCloseCall", "ProtocolCmCloseCall", f"{family}CloseCallComplete", "ProtocolClCloseCallComplete"]
    assert first.state == second.state == S.PARTY_DROPPED
    assert call.vc.vc.deleted or call.vc.vc.state == S.CALL_IDLE
    bed.sim.finish()
