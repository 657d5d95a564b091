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
from condis.explore.scenario import resolve
from condis.runtime.scheduler import Scheduler
from condis.trace import Recorder

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


def test_the_correct_sample_drivers_survive_a_large_run_clean():
    clean = ["mcm/call", "cm/call", "mcm/close-race", "cm/close-race", "mcm/hangup-while-connecting"]
    ran = 0
    for scenario in clean:
        for strategy, n in (("random", 200), ("pct", 100)):
            report = explore(scenario, strategy, schedules=n, seed=1000)
            assert report.failures == [], f"{scenario} ({strategy}): {report.failures[0].failure}"
            assert report.ran == n
            ran += report.ran
    assert ran == 1500


# Races the explorer found in the sample drivers while it was being built. When a sample is fixed,
# its scenario moves to the clean run above.
SAMPLE_RACES = [
    # the stand-alone CM activates the VC of a call it placed before completing the make-call; a RELEASE
    # arriving in between is indicated as an incoming close on a call whose make-call has not completed
    ("cm/hangup-while-connecting", ("violation", "condis.CallState"), "MAKE_CALL"),
    # a RELEASE for a leaf whose drop is pending is taken for a close of the whole multipoint call
    ("mcm/drop-party-race", ("violation", "condis.CloseWithParties"), "2 parties"),
    ("cm/drop-party-race", ("violation", "condis.CloseWithParties"), "2 parties"),
    # an AF withdrawn while a call arrives: a close is sent for a call the peer no longer answers
    ("mcm/af-withdraw", ("check", ""), "stuck in state CLOSING"),
    # the SAP is deregistered while the VC of an incoming call is being activated; the CM then
    # dispatches the call to the dead SAP (this one shows in the default order)
    ("cm/af-withdraw", ("violation", "condis.BadHandle"), "DEREGISTERED"),
]


@pytest.mark.parametrize(("scenario", "signature", "phrase"), SAMPLE_RACES)
def test_races_the_explorer_found_in_the_sample_drivers(scenario, signature, phrase):
    report = explore(scenario, "random", schedules=300)
    assert report.failures, f"{scenario} ran clean: move it to the clean run"
    assert report.failures[0].failure.signature == signature and phrase in report.failures[0].failure.message


def test_workers_spread_schedules_over_processes():
    report = explore(ref("mcm_collision"), "random", schedules=400, runner=ProcessRunner(2), batch=10)
    assert report.failures and report.failures[0].failure.signature in PLANTED["mcm_collision"]


def test_collecting_every_failure_instead_of_stopping():
    report = explore(ref("client_deferred_close"), "random", schedules=60, stop_first=False)
    assert report.ran == 60 and len(report.failures) > 1
    assert {f.failure.kind for f in report.failures} == {"violation"}


def test_wire_faults_are_found_shrunk_to_the_faults_that_matter_and_replayed():
    options = Options(fault_sites=("frame",), fault_rate=0.2)
    found = explore("mcm/call", "random", schedules=200, options=options).failures[0]
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
    faults = FaultInjector([Fault("alloc", 0, "fail")])
    outcome = execute(resolve("mcm/call"), Replay([]), faults)
    assert outcome.faults == [Fault("alloc", 0, "fail")] and faults.counts["alloc"] > 1


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
