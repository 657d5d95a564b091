"""The C stand-alone call manager (condis/cdriver/samples/atmcm) over the Python CoNDIS miniport.

Host A runs the C call manager over AtmMiniport, with the Python client on it; host B is all
Python (the Python call manager, tests/test_cm_flows.py's). The guide's cm-* flows at A are
asserted with the lists tests/test_cm_flows.py expects of the Python call manager: the C call
manager makes the same calls into NDIS in the same order. Calls go both ways, data both ways,
closes come from either side, and unbinding closes the client's AF; every test ends with the
verifier having nothing to say, leaks of the C driver's memory included.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest

from condis import NDIS_STATUS_SUCCESS
from condis.cdriver import CDriver
from condis.demo import testbed as make_bed
from condis.drivers.client import CLOSED, UP
from condis.drivers.cm import AtmCallManager
from condis.explore import Fault, FaultInjector, Options, Replay, execute, explore
from condis.explore.scenario import resolve
from condis.explore.scenarios import call_flow, close_race, two_hosts
from condis.trace import Recorder
from tests.c.samples import CClient, image
from tests.conftest import steps
from tests.test_cm_flows import RECV, SEND, SENT, names, without_signaling


def c_cm_on_a() -> Callable[..., Any]:
    """A ``cm=`` factory: the C call manager for host A (even VCIs), the Python one for B (odd)."""
    path = image("atmcm")
    ends = itertools.count()

    def make(odd_vcis: bool) -> Any:
        if next(ends) == 0:
            return CDriver(path, OddVcis=int(odd_vcis))
        return AtmCallManager(odd_vcis=odd_vcis)
    return make


def teardown(bed: Any) -> None:
    """Unload the clients, remove the adapters (unbinding the call managers), unload the rest;
    the verifier must have nothing to say."""
    for host in bed.hosts:
        if host.drivers["atmclient"].state == "LOADED":
            host.unload_driver("atmclient")
    bed.run()
    for host in bed.hosts:
        for name, adapter in list(host.adapters.items()):
            if adapter.state != "HALTED":
                host.remove_adapter(name)
    bed.run()
    for host in bed.hosts:
        host.unload_driver("atmcm")
        host.unload_driver("atmmp")
    bed.run()
    report = bed.sim.finish()
    assert report.findings == [], report.report()


@pytest.fixture
def cm():
    b = make_bed("cm", Recorder(), cm=c_cm_on_a())
    yield b
    teardown(b)


def _call(bed: Any, side: int = 0, to: bytes = b"bob") -> tuple[Any, Any]:
    calls = []
    bed.do(side, lambda: calls.append(bed.clients[side].place_call(to)))
    return calls[0], bed.clients[1 - side].incoming[-1]


def test_the_c_call_manager_is_loaded_on_a_only(cm):
    assert isinstance(cm.call_managers[0], CDriver) and isinstance(cm.call_managers[1], AtmCallManager)
    a = [r for r in cm.recorder.records if r.host == "A" and r.name == "ProtocolBindAdapterEx"]
    assert {r.driver for r in a} == {"atmcm", "atmclient"}


def test_binding_creates_and_activates_the_signaling_vc_then_registers_the_af(cm):
    a = names(steps(cm.recorder, host="A", drivers=("atmcm", "atmmp")))
    i = a.index("ProtocolBindAdapterEx")
    assert a[i:i + 8] == [
        "ProtocolBindAdapterEx", "NdisOpenAdapterEx",
        "NdisCoCreateVc", "MiniportCoCreateVc",
        "NdisCmActivateVc", "MiniportCoActivateVc",
        "NdisMCoActivateVcComplete", "ProtocolCmActivateVcComplete",
    ]
    a = names(steps(cm.recorder, host="A"))
    j = a.index("NdisCmRegisterAddressFamilyEx")
    assert a[j:j + 8] == ["NdisCmRegisterAddressFamilyEx", "NdisCompleteBindAdapterEx", "ProtocolNetPnPEvent",
                          "ProtocolCoAfRegisterNotify", "NdisClOpenAddressFamilyEx", "ProtocolCmOpenAf",
                          "NdisClRegisterSap", "ProtocolCmRegisterSap"]
    binds = [r for r in cm.recorder.records if r.host == "A" and r.driver == "atmcm"
             and r.name in ("ProtocolBindAdapterEx", "NdisCmRegisterAddressFamilyEx", "ProtocolCmOpenAf",
                            "ProtocolCmRegisterSap")]
    assert [r.result.split(",")[0] for r in binds] == ["NDIS_STATUS_PENDING"] + ["NDIS_STATUS_SUCCESS"] * 3


def test_making_a_call_from_the_c_call_managers_host(cm):
    rec = cm.recorder
    mark = len(rec.records)
    call, answered = _call(cm)
    assert call.state == UP and answered.state == UP
    # cm-05 and cm-11 at A, as the Python call manager does them
    assert without_signaling(steps(rec, mark, "A")) == [
        "NdisCoCreateVc", "ProtocolCoCreateVc", "MiniportCoCreateVc",
        "NdisClMakeCall", "ProtocolCmMakeCall",
        "NdisCmActivateVc", "MiniportCoActivateVc",
        "NdisMCoActivateVcComplete", "ProtocolCmActivateVcComplete",
        "NdisCmMakeCallComplete", "ProtocolClMakeCallComplete",
    ]
    # SETUP goes out on the signaling VC through NDIS, from within ProtocolCmMakeCall
    a = names(steps(rec, mark, "A"))
    k = a.index("ProtocolCmMakeCall")
    assert a[k + 1:k + 3] == SEND
    # the VCI chosen at A is on the even half, and the miniport got it in the media parameters
    assert cm.hosts[0].vc_count == 2 and cm.hosts[1].vc_count == 2


def test_an_incoming_call_from_the_python_host(cm):
    rec = cm.recorder
    mark = len(rec.records)
    call, answered = _call(cm, side=1, to=b"alice")
    assert call.state == UP and answered.state == UP
    # cm-06 and cm-13 at A: the C call manager creates the VC (client, then miniport), activates
    # it, offers the call and reports it connected
    assert without_signaling(steps(rec, mark, "A")) == [
        "NdisCoCreateVc", "ProtocolCoCreateVc", "MiniportCoCreateVc",
        "NdisCmActivateVc", "MiniportCoActivateVc",
        "NdisMCoActivateVcComplete", "ProtocolCmActivateVcComplete",
        "NdisCmDispatchIncomingCall", "ProtocolClIncomingCall",
        "NdisCmDispatchCallConnected", "ProtocolClCallConnected",
    ]
    made = [r for r in rec.records[mark:] if r.host == "A" and r.name == "NdisCoCreateVc"]
    assert [(r.driver, r.result.split(",")[0]) for r in made] == [("atmcm", "NDIS_STATUS_SUCCESS")]


def test_data_both_ways_goes_through_the_miniport(cm):
    call, answered = _call(cm)
    rec = cm.recorder
    mark = len(rec.records)
    cm.do(0, cm.clients[0].send, call, b"from A")
    cm.do(1, cm.clients[1].send, answered, b"from B")
    assert answered.received == [b"from A"] and call.received == [b"from B"]
    # the call manager is not in the data path: the client's sends and receives only
    a = [r for r in rec.records[mark:] if r.host == "A" and r.driver == "atmcm"]
    assert a == []
    assert names(steps(rec, mark, "A", drivers=("atmclient", "atmmp"))) == SEND + SENT + RECV


def test_client_initiated_close_at_a(cm):
    call, answered = _call(cm)
    rec = cm.recorder
    mark = len(rec.records)
    cm.do(0, cm.clients[0].close, call)
    # cm-20 and cm-09 at A: the same sequence as the Python call manager's
    assert without_signaling(steps(rec, mark, "A")) == [
        "NdisClCloseCall", "ProtocolCmCloseCall",
        "NdisCmDeactivateVc", "MiniportCoDeactivateVc",
        "NdisMCoDeactivateVcComplete", "ProtocolCmDeactivateVcComplete",
        "NdisCmCloseCallComplete", "ProtocolClCloseCallComplete",
        "NdisCoDeleteVc", "ProtocolCoDeleteVc", "MiniportCoDeleteVc",
    ]
    closes = [r.result for r in rec.records[mark:] if r.host == "A" and r.name == "ProtocolCmCloseCall"]
    assert closes == ["NDIS_STATUS_PENDING"]
    assert call.state == CLOSED and call.deleted and answered.state == CLOSED and answered.deleted
    assert [h.vc_count for h in cm.hosts] == [1, 1]   # only the signaling VCs


def test_remote_close_from_the_python_host(cm):
    call, answered = _call(cm)
    rec = cm.recorder
    mark = len(rec.records)
    cm.do(1, cm.clients[1].close, answered)
    # cm-22 and cm-10 at A: the incoming close, the client's close pends until the VC is inactive
    assert without_signaling(steps(rec, mark, "A")) == [
        "NdisCmDispatchIncomingCloseCall", "ProtocolClIncomingCloseCall",
        "NdisClCloseCall", "ProtocolCmCloseCall",
        "NdisCmDeactivateVc", "MiniportCoDeactivateVc",
        "NdisMCoDeactivateVcComplete", "ProtocolCmDeactivateVcComplete",
        "NdisCmCloseCallComplete", "ProtocolClCloseCallComplete",
        "NdisCoDeleteVc", "ProtocolCoDeleteVc", "MiniportCoDeleteVc",
    ]
    # the close pends until the VC is inactive, so the client's delete succeeds at once
    a = [(r.name, r.result) for r in rec.records[mark:] if r.host == "A"
         and r.name in ("NdisClCloseCall", "ProtocolCmCloseCall", "NdisCoDeleteVc")]
    assert a == [("NdisClCloseCall", "NDIS_STATUS_PENDING"), ("ProtocolCmCloseCall", "NDIS_STATUS_PENDING"),
                 ("NdisCoDeleteVc", "NDIS_STATUS_SUCCESS")]
    assert call.state == CLOSED and call.deleted and answered.state == CLOSED
    assert [h.vc_count for h in cm.hosts] == [1, 1]


def test_closing_an_incoming_call_at_a_deletes_the_call_managers_vc(cm):
    call, answered = _call(cm, side=1, to=b"alice")
    rec = cm.recorder
    mark = len(rec.records)
    cm.do(0, cm.clients[0].close, answered)
    a = without_signaling(steps(rec, mark, "A"))
    # the client closes; the VC is the call manager's, which deletes it once it is deactivated
    assert a[:2] == ["NdisClCloseCall", "ProtocolCmCloseCall"]
    deletes = [(r.driver, r.result) for r in rec.records[mark:] if r.host == "A" and r.name == "NdisCoDeleteVc"]
    assert deletes == [("atmcm", "NDIS_STATUS_SUCCESS")]
    assert call.state == CLOSED and answered.state == CLOSED
    assert [h.vc_count for h in cm.hosts] == [1, 1]


def test_unbinding_the_c_call_manager_closes_the_clients_af(cm):
    call, _ = _call(cm)
    rec = cm.recorder
    mark = len(rec.records)
    done = cm.hosts[0].remove_adapter("atm0")
    cm.run()
    assert done.done and done.status == NDIS_STATUS_SUCCESS
    a = without_signaling(steps(rec, mark, "A"))
    assert a[:5] == ["ProtocolNetPnPEvent", "NdisCmDispatchIncomingCloseCall", "ProtocolClIncomingCloseCall",
                     "NdisClCloseCall", "ProtocolCmCloseCall"]
    i = a.index("ProtocolUnbindAdapterEx")
    assert a[i:i + 4] == ["ProtocolUnbindAdapterEx", "NdisCmNotifyCloseAddressFamily", "ProtocolClNotifyCloseAf",
                          "NdisClDeregisterSap"]
    for later in ("NdisClDeregisterSap", "NdisClCloseAddressFamily", "ProtocolCmCloseAf",
                  "NdisClNotifyCloseAddressFamilyComplete", "ProtocolCmNotifyCloseAfComplete",
                  "NdisCmDeactivateVc", "NdisCoDeleteVc",
                  "NdisCloseAdapterEx", "NdisCompleteUnbindAdapterEx", "MiniportPause", "MiniportHaltEx"):
        assert later in a[i:], later
    assert a.index("NdisClNotifyCloseAddressFamilyComplete") < a.index("NdisCompleteUnbindAdapterEx") < a.index(
        "MiniportHaltEx")
    assert call.state == CLOSED and cm.hosts[0].vc_count == 0
    assert cm.clients[1].incoming[-1].state == CLOSED     # RESTART cleared the call at B too


def test_the_c_client_over_the_c_call_manager():
    """Both C samples on A (the C client over the C call manager), the Python ones on B."""
    bed = make_bed("cm", Recorder(), cm=c_cm_on_a(), client=CClient)
    try:
        call, answered = _call(bed)
        assert call.state == "UP" and answered.state == UP
        bed.do(0, bed.clients[0].send, call, b"C to Python")
        bed.do(1, bed.clients[1].send, answered, b"Python to C")
        assert answered.received == [b"C to Python"] and call.received == [b"Python to C"]
        bed.do(1, bed.clients[1].close, answered)
        assert call.state == "CLOSED" and answered.state == CLOSED
        back, incoming = _call(bed, side=1, to=b"alice")
        assert back.state == UP and incoming.state == "UP"
        bed.do(0, bed.clients[0].close, incoming)
        assert back.state == CLOSED and incoming.state == "CLOSED"
        # unbinding with a call up: the C client closes its call and AF when asked
        call, answered = _call(bed)
        done = bed.hosts[0].remove_adapter("atm0")
        bed.run()
        assert done.done and done.status == NDIS_STATUS_SUCCESS
        assert call.state == "CLOSED" and answered.state == CLOSED and bed.hosts[0].vc_count == 0
    finally:
        teardown(bed)


def test_multipoint_through_the_c_call_manager(cm):
    """tests/test_cm_flows.py's multipoint flow, placed from the C call manager's host: leaves
    added and dropped from A, a leaf hanging up at B (an incoming drop party at A)."""
    a, b = cm.clients
    calls = []
    cm.do(0, lambda: calls.append(a.place_call(b"bob", multipoint=True)))
    call = calls[0]
    parties = []
    cm.do(0, lambda: parties.append(a.add_party(call, b"bob")))
    cm.do(0, lambda: parties.append(a.add_party(call, b"bob")))
    assert [p.state for p in call.parties] == [UP, UP, UP] and len(b.incoming) == 3
    cm.do(0, a.send, call, b"to every leaf")
    assert [c.received for c in b.incoming] == [[b"to every leaf"]] * 3
    cm.do(0, a.drop_party, parties[0])
    mark = len(cm.recorder.records)
    cm.do(1, b.close, b.incoming[2])
    assert "NdisCmDispatchIncomingDropParty" in names(steps(cm.recorder, mark, "A"))
    assert len([p for p in call.parties if p.state == UP]) == 1
    cm.do(0, a.close, call)
    assert call.state == CLOSED and call.deleted
    assert [c.state for c in b.incoming] == [CLOSED] * 3


def test_the_c_call_manager_on_both_hosts():
    """Two C call managers on one wire (A even VCIs, B odd), the Python clients over them."""
    path = image("atmcm")
    bed = make_bed("cm", Recorder(), cm=lambda odd_vcis: CDriver(path, OddVcis=int(odd_vcis)))
    try:
        call, answered = _call(bed)
        back, incoming = _call(bed, side=1, to=b"alice")
        assert [c.state for c in (call, answered, back, incoming)] == [UP] * 4
        bed.do(0, bed.clients[0].send, call, b"A to B")
        bed.do(1, bed.clients[1].send, back, b"B to A")
        assert answered.received == [b"A to B"] and incoming.received == [b"B to A"]
        bed.do(0, bed.clients[0].close, call)
        bed.do(0, bed.clients[0].close, incoming)
        assert [c.state for c in (call, answered, back, incoming)] == [CLOSED] * 4
        assert [h.vc_count for h in bed.hosts] == [1, 1]
    finally:
        teardown(bed)


# ---- under the explorer ---------------------------------------------------------------------------


def cm_call_flow(sim: Any) -> Any:
    """Explorer scenario: the built-in call flow (condis/explore/scenarios.py) with the C call
    manager on A and the Python one on B, both over the Python miniport."""
    bed = two_hosts(sim, "cm", cm=c_cm_on_a())
    call_flow(bed)
    return bed.check


def cm_close_race(sim: Any) -> Any:
    """Explorer scenario: both ends closing the same call at once, the C call manager on A."""
    bed = two_hosts(sim, "cm", cm=c_cm_on_a())
    close_race(bed)
    return bed.check


SCENARIOS = "tests/c/test_cm_sample.py"
# what a call manager refusing to start looks like to a two-host scenario (tests/c/test_faults.py)
REFUSED_START = ("add adapter failed with NDIS_STATUS_RESOURCES", "no open AF", "stuck in state MAKING")


@pytest.mark.parametrize("scenario", ["cm_call_flow", "cm_close_race"])
def test_the_c_call_manager_survives_lost_duplicated_and_delayed_frames(scenario):
    options = Options(fault_sites=("frame",), fault_rate=0.2)
    report = explore(f"{SCENARIOS}:{scenario}", "random", schedules=30, seed=2000, options=options)
    assert report.failures == [], f"{scenario}: {report.failures[0].failure} {report.failures[0].faults}"


@pytest.mark.parametrize("site", ["alloc", "activate"])
def test_every_allocation_or_activation_failing_once_at_most_keeps_it_from_starting(site):
    """A failed allocation or a refused activation anywhere (the signaling VC's included: the bind
    is then undone and fails) breaks no rule and leaks nothing; at most a driver does not start."""
    ref = f"{SCENARIOS}:cm_call_flow"
    counter = FaultInjector()
    execute(resolve(ref), Replay([]), counter)
    assert counter.counts[site] > 2
    for n in range(counter.counts[site]):
        outcome = execute(resolve(ref), Replay([]), FaultInjector([Fault(site, n, "fail")]))
        if outcome.failure is not None:
            assert outcome.failure.kind == "exception" and any(
                phrase in outcome.failure.message for phrase in REFUSED_START), f"{site} #{n}: {outcome.failure}"
