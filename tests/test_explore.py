"""The explorer: it finds each planted race bug, shrinks the failing schedule, replays it exactly,
and runs the correct sample drivers clean."""

from __future__ import annotations

from pathlib import Path

import pytest

from condis.explore import (
    Fault,
    FaultInjector,
    Options,
    ProcessRunner,
    Replay,
    Schedule,
    execute,
    explore,
    replay,
    shrink,
)
from condis.explore.runner import chooser_for
from condis.explore.scenario import resolve
from condis.runtime.scheduler import Scheduler
from condis.trace import Recorder
from condis.trace.recorder import SUPPORT_DDIS

BUGGY = Path(__file__).parent / "buggy"

# planted bug -> what it breaks: (failure kind, rule); the second NdisClCloseCall of the deferring client
# finds the call closed (CallState) or, if the VC was deleted in between, a dead handle (BadHandle)
PLANTED = {
    "mcm_collision": {("violation", "condis.CallState")},
    "cm_collision": {("check", "")},
    "client_deferred_close": {("violation", "condis.CallState"), ("violation", "condis.BadHandle")},
}


def ref(name: str) -> str:
    return f"{BUGGY / name}.py:scenario"


def steps_of(recorder: Recorder) -> list[tuple]:
    return [(r.t, r.host, r.kind, r.name, r.driver, r.role, r.args, r.result) for r in recorder.records]


@pytest.mark.parametrize("bug", PLANTED)
def test_the_default_order_does_not_show_the_bug(bug):
    assert execute(resolve(ref(bug)), Replay([])).failure is None


@pytest.mark.parametrize("strategy", ["random", "pct", "exhaustive"])
@pytest.mark.parametrize("bug", PLANTED)
def test_every_strategy_finds_every_planted_bug(bug, strategy):
    report = explore(ref(bug), strategy, schedules=200)
    assert report.failures, f"{strategy} ran {report.ran} schedules of {bug} without finding it"
    first = report.failures[0]
    assert first.failure.signature in PLANTED[bug]
    assert 1 < report.first_failure_at <= 100 and report.ran == report.first_failure_at


def test_the_stuck_close_is_reported_with_what_was_left_behind():
    first = explore(ref("cm_collision"), "random", schedules=200).failures[0]
    assert "stuck in state CLOSING" in first.failure.message


def test_the_shrunk_schedule_is_smaller_and_still_fails_the_same_way():
    found = explore(ref("cm_collision"), "random", schedules=200).failures[0]
    small = shrink(found)
    assert small.decisions < found.decisions and len(small.choices) <= len(found.choices)
    assert small.failure.signature == found.failure.signature
    assert replay(small).failure.signature == found.failure.signature
    # 1-minimal: resetting any one remaining choice to the default makes the bug go away
    for k, c in enumerate(small.choices):
        if c:
            other = Schedule(small.scenario, small.choices[:k] + [0] + small.choices[k + 1:], window_ns=small.window_ns)
            assert replay(other).failure is None or replay(other).failure.signature != found.failure.signature


def test_replay_from_the_file_reproduces_the_identical_trace(tmp_path):
    found = shrink(explore(ref("mcm_collision"), "random", schedules=200).failures[0])
    path = tmp_path / "failure.json"
    found.save(path)
    loaded = Schedule.load(path)
    assert loaded == found
    first, second = Recorder(), Recorder()
    one, two = replay(loaded, tracer=first), replay(loaded, tracer=second)
    assert steps_of(first) == steps_of(second) and len(first.records) > 50
    assert one.failure == two.failure and one.failure.signature == ("violation", "condis.CallState")
    # tracing changes nothing the strategy sees: the untraced run made the same choices
    assert replay(loaded).choices == one.choices
    assert [r.name for r in first.records if r.kind == "violation"] == ["condis.CallState"]


# Every built-in scenario. Each once showed a race in the sample drivers, fixed since:
# - cm/hangup-while-connecting: a RELEASE arriving while the VC of a call we placed was being
#   activated was indicated as an incoming close on a call whose make-call had not completed
#   (callcontrol._call_activated now fails the make-call instead);
# - mcm/ and cm/drop-party-race: a RELEASE for a leaf whose drop was pending was taken for a close
#   of the whole multipoint call (callcontrol._remote_release now takes it as the drop's answer);
# - mcm/af-withdraw: a RELEASE reaching a call whose SETUP was still unanswered was never answered,
#   so the other side's close stayed pending (every RELEASE is now answered);
# - cm/af-withdraw: the SAP was deregistered while an incoming call's VC was being activated, and
#   the call was then offered on the dead SAP (callcontrol._incoming_setup now refuses it);
# - mcm/ and cm/close-while-add-party-pending: the leaf whose add-party was pending outlived the
#   closed call, and its CONNECT or RELEASE later reached a VC already deleted (BadHandle); a leaf's
#   release was indicated as an incoming drop of the last party; a RELEASE COMPLETE for a leaf being
#   dropped was taken for the answer to the call's close (callcontrol.CmCloseCall, _release_held,
#   _released).
CLEAN = [f"{kind}/{name}" for name in ("call", "close-race", "hangup-while-connecting", "drop-party-race",
                                        "af-withdraw", "close-while-add-party-pending") for kind in ("mcm", "cm")]


def test_the_correct_sample_drivers_survive_a_large_run_clean():
    ran = 0
    for scenario in CLEAN:
        for strategy, n in (("random", 100), ("pct", 50)):
            report = explore(scenario, strategy, schedules=n, seed=1000)
            assert report.failures == [], f"{scenario} ({strategy}): {report.failures[0].failure}"
            assert report.ran == n
            ran += report.ran
    assert ran == 1800


def first_run_where(scenario: str, happened) -> tuple[Recorder, object]:
    """The trace of the first random schedule (seeds 0, 1, ...) in which ``happened(records)``."""
    for seed in range(300):
        rec = Recorder()
        outcome = execute(resolve(scenario), chooser_for("random", seed, Options()), tracer=rec)
        if happened(rec.records):
            return rec, outcome
    raise AssertionError(f"no schedule of {scenario} in 300 showed it")


def protocol_steps(records, host: str) -> list[str]:
    return [f"{r.name}({r.args.split(',')[0]})" if "Complete" in r.name else r.name for r in records
            if r.host == host and ((r.kind == "ddi" and r.name not in SUPPORT_DDIS) or (
                r.kind == "handler" and r.name not in ("WorkItemRoutine", "TimerFunction")))
            and "NetBufferLists" not in r.name]


def test_a_release_arriving_while_the_vc_is_activated_fails_the_make_call():
    # guide: making-a-call.md -- the make-call completes once the VC is active; a RELEASE before that
    # makes it fail (the VC deactivated first), and is never indicated as a close of a call not yet up
    rec, outcome = first_run_where("cm/hangup-while-connecting", lambda records: any(
        r.name == "NdisCmMakeCallComplete" and r.args.startswith("NDIS_STATUS_FAILURE") for r in records))
    assert outcome.failure is None
    a = protocol_steps(rec.records, "A")
    i = a.index("NdisCmMakeCallComplete(NDIS_STATUS_FAILURE)")
    assert a[i - 5:i + 3] == [
        "ProtocolCmActivateVcComplete(NDIS_STATUS_SUCCESS)",
        "NdisCmDeactivateVc", "MiniportCoDeactivateVc",
        "NdisMCoDeactivateVcComplete(NDIS_STATUS_SUCCESS)", "ProtocolCmDeactivateVcComplete(NDIS_STATUS_SUCCESS)",
        "NdisCmMakeCallComplete(NDIS_STATUS_FAILURE)", "ProtocolClMakeCallComplete(NDIS_STATUS_FAILURE)",
        "NdisCoDeleteVc",
    ]
    assert "NdisCmDispatchIncomingCloseCall" not in a


@pytest.mark.parametrize("kind", ["mcm", "cm"])
def test_a_leaf_hanging_up_while_its_drop_is_pending_completes_the_drop(kind):
    # incoming-request-to-drop-a-party-from-a-multipoint-call.md: the leaf's RELEASE crossing our DROP
    # PARTY answers it; the multipoint call itself stays up until the client closes it
    def crossed(records):
        frames = [r.name for r in records if r.kind == "frame"]
        return "DROP_PARTY ref=1 cause=16 ep=2" in frames and "RELEASE ref=1 cause=16 ep=2" in frames
    rec, outcome = first_run_where(f"{kind}/drop-party-race", crossed)
    assert outcome.failure is None
    a = protocol_steps(rec.records, "A")
    prefix = "NdisMCm" if kind == "mcm" else "NdisCm"
    assert a.count(f"{prefix}DropPartyComplete(NDIS_STATUS_SUCCESS)") == 1
    assert f"{prefix}DispatchIncomingDropParty" not in a and f"{prefix}DispatchIncomingCloseCall" not in a


@pytest.mark.parametrize("kind", ["mcm", "cm"])
def test_a_close_while_an_add_party_is_pending_fails_the_add_party_first(kind):
    # client-initiated-request-to-close-a-call.md: only connected parties are dropped before the close,
    # so the client closes at once; the call manager clears the leaf being added and fails its add-party
    # before the close completes (NDIS drops every party of the VC when it does)
    rec = Recorder()
    outcome = execute(resolve(f"{kind}/close-while-add-party-pending"), Replay([]), tracer=rec)
    assert outcome.failure is None
    a = protocol_steps([r for r in rec.records if r.t >= 200_000], "A")
    prefix = "NdisMCm" if kind == "mcm" else "NdisCm"
    deactivation = [f"{prefix}DeactivateVc"] if kind == "mcm" else [
        "NdisCmDeactivateVc", "MiniportCoDeactivateVc", "NdisMCoDeactivateVcComplete(NDIS_STATUS_SUCCESS)",
        "ProtocolCmDeactivateVcComplete(NDIS_STATUS_SUCCESS)"]
    assert a[:a.index("ProtocolCoDeleteVc") + 1] == [
        "NdisClAddParty", "ProtocolCmAddParty",
        "NdisClCloseCall", "ProtocolCmCloseCall",
        f"{prefix}AddPartyComplete(NDIS_STATUS_FAILURE)", "ProtocolClAddPartyComplete(NDIS_STATUS_FAILURE)",
        *deactivation,
        f"{prefix}CloseCallComplete(NDIS_STATUS_SUCCESS)", "ProtocolClCloseCallComplete(NDIS_STATUS_SUCCESS)",
        "NdisCoDeleteVc", "ProtocolCoDeleteVc",
    ]
    frames = [r.name for r in rec.records if r.kind == "frame" and r.host == "A" and r.t >= 200_000]
    assert frames[:3] == ["ADD_PARTY ref=1 vci=34 ep=2", "RELEASE_COMPLETE ref=1 cause=16 ep=2",
                          "RELEASE ref=1 cause=16 ep=1"]


# The samples' signaling retransmits what the wire loses and recognises what it duplicates or
# delays, and they fail cleanly when the NIC refuses a VC. (A stand-alone call manager whose
# signaling VC is refused cannot bind at all, so the cm/ scenarios get refused activations only
# in the sweep below.)
FAULTY = [(scenario, "frame") for scenario in CLEAN] + [(s, "frame,activate") for s in CLEAN if s.startswith("mcm/")]


@pytest.mark.parametrize(("scenario", "sites"), FAULTY)
def test_the_sample_drivers_survive_lost_duplicated_and_delayed_frames_and_refused_vcs(scenario, sites):
    options = Options(fault_sites=tuple(sites.split(",")), fault_rate=0.2)
    report = explore(scenario, "random", schedules=40, seed=2000, options=options)
    assert report.failures == [], f"{scenario} ({sites}): {report.failures[0].failure} {report.failures[0].faults}"


ALLOCATORS = {"NdisAllocateIoWorkItem", "NdisAllocateTimerObject", "NdisAllocateNetBufferListPool",
              "NdisAllocateNetBufferAndNetBufferList"}
WORKLOAD_NS = 100_000       # the built-in scenarios' first step: before it, the hosts are coming up
# What a driver refusing to start looks like to a built-in scenario: an adapter that does not start,
# a client with no AF to call on, or a call placed to a host whose call manager never bound (its
# SETUP is held for a peer that has never been heard from).
REFUSED_START = ("add adapter failed with NDIS_STATUS_RESOURCES", "no open AF", "stuck in state MAKING")


def sweep(scenario: str, site: str, at_start) -> None:
    """Fail each ``site`` of a default-order run once (as Driver Verifier's low-resources simulation
    does, one allocation at a time): it must end clean, or, if the fault came while the hosts were
    starting (``at_start(records, n)``), with a driver refusing to start -- never a Violation, a
    crash or a leak."""
    counter = FaultInjector()
    execute(resolve(scenario), Replay([]), counter)
    assert counter.counts[site] > 5
    for n in range(counter.counts[site]):
        rec = Recorder()
        outcome = execute(resolve(scenario), Replay([]), FaultInjector([Fault(site, n, "fail")]), tracer=rec)
        if outcome.failure is None:
            continue
        assert at_start(rec.records, n), f"{scenario}, {site} #{n} failed: {outcome.failure}"
        assert outcome.failure.kind in ("exception", "check") and any(
            phrase in outcome.failure.message for phrase in REFUSED_START), f"{scenario}, {site} #{n}: {outcome.failure}"


@pytest.mark.parametrize("scenario", ["mcm/call", "cm/call", "mcm/drop-party-race", "cm/af-withdraw",
                                      "cm/close-while-add-party-pending"])
def test_every_allocation_failing_once_is_survived(scenario):
    def at_start(records, n):
        return [r.t for r in records if r.kind == "ddi" and r.name in ALLOCATORS][n] < WORKLOAD_NS
    sweep(scenario, "alloc", at_start)


@pytest.mark.parametrize("scenario", ["cm/call", "cm/drop-party-race"])
def test_every_refused_activation_is_survived(scenario):
    def at_start(records, n):
        return [r.t for r in records if r.kind == "handler" and r.name == "MiniportCoActivateVc"][n] < WORKLOAD_NS
    sweep(scenario, "activate", at_start)


def test_workers_spread_schedules_over_processes():
    report = explore(ref("mcm_collision"), "random", schedules=400, runner=ProcessRunner(2), batch=10)
    assert report.failures and report.failures[0].failure.signature in PLANTED["mcm_collision"]


def test_collecting_every_failure_instead_of_stopping():
    report = explore(ref("client_deferred_close"), "random", schedules=60, stop_first=False)
    assert report.ran == 60 and len(report.failures) > 1
    assert {f.failure.kind for f in report.failures} == {"violation"}


def test_wire_faults_are_found_shrunk_to_the_faults_that_matter_and_replayed():
    options = Options(fault_sites=("frame",), fault_rate=0.2)
    assert explore(ref("mcm_trusting"), "random", schedules=100).failures == []    # no fault, no bug
    found = explore(ref("mcm_trusting"), "random", schedules=200, options=options).failures[0]
    assert found.faults and all(f.site == "frame" for f in found.faults)
    small = shrink(found)
    assert 1 <= len(small.faults) <= len(found.faults) and small.decisions <= found.decisions
    again = replay(small)
    assert again.failure == small.failure and again.faults == small.faults
    for fault in small.faults:      # each remaining fault is needed
        fewer = Schedule(small.scenario, small.choices, [f for f in small.faults if f != fault], small.window_ns)
        outcome = replay(fewer)
        assert outcome.failure is None or outcome.failure.signature != small.failure.signature


def test_a_refused_activation_reaches_the_miniport_as_its_nic_refusing():
    rec = Recorder()
    schedule = Schedule("cm/call", [], [Fault("activate", 0, "fail")], window_ns=0)
    replay(schedule, tracer=rec)
    activations = [r for r in rec.records if r.kind == "handler" and r.name == "MiniportCoActivateVc"]
    assert activations[0].result == "NDIS_STATUS_RESOURCES"
    assert all(r.result == "NDIS_STATUS_PENDING" for r in activations[1:])


def test_a_failed_allocation_returns_null_to_the_driver():
    # the first allocation of the run is the MCM's receive pool on A, which then fails its start
    rec = Recorder()
    outcome = execute(resolve("mcm/call"), Replay([]), FaultInjector([Fault("alloc", 0, "fail")]), tracer=rec)
    assert outcome.faults == [Fault("alloc", 0, "fail")]
    pool = next(r for r in rec.records if r.kind == "ddi" and r.name in ALLOCATORS)
    assert pool.name == "NdisAllocateNetBufferListPool" and pool.result == ""       # NULL
    init = next(r for r in rec.records if r.name == "MiniportInitializeEx")
    assert init.result == "NDIS_STATUS_RESOURCES"
    assert "add adapter failed with NDIS_STATUS_RESOURCES" in outcome.failure.message


def test_no_fault_injector_means_no_hooks():
    from condis import Ndis, Simulation, Wire
    sim = Simulation()
    wire = Wire(sim)
    assert wire.fault is None and wire.refuse_vc is None and Ndis("A", sim=sim)._fail_alloc is None


def test_a_window_lets_a_later_event_run_first_and_time_never_goes_back():
    class Last:
        window_ns = 10

        def choose(self, ready, now):
            return len(ready) - 1
    s = Scheduler(Last())
    ran = []
    for due in (0, 5, 10, 20):
        s.schedule(due, lambda d=due: ran.append((d, s.now)))
    s.run()
    assert ran == [(10, 10), (5, 10), (0, 10), (20, 20)]


def test_the_default_order_ignores_the_window():
    s = Scheduler()
    ran = []
    for due in (10, 0, 5):
        s.schedule(due, lambda d=due: ran.append((d, s.now)))
    s.run()
    assert ran == [(0, 0), (5, 5), (10, 10)]
