"""The explorer on C drivers: it finds the races planted in the C samples (tests/c/planted.py),
shrinks and replays them, and runs the correct C images clean."""

from __future__ import annotations

import pytest

from condis.explore import Replay, execute, explore, replay, shrink
from condis.explore.scenario import resolve

PLANTED = "tests/c/planted.py"

# scenario -> what it breaks, as tests/test_explore.py's PLANTED says of the Python originals
BUGS = {
    "mcm_collision": {("violation", "condis.CallState")},
    "client_deferred_close": {("violation", "condis.CallState"), ("violation", "condis.BadHandle")},
}


@pytest.mark.parametrize("bug", BUGS)
def test_the_default_order_does_not_show_the_planted_bug(bug):
    assert execute(resolve(f"{PLANTED}:{bug}"), Replay([])).failure is None


@pytest.mark.parametrize("strategy", ["random", "pct", "exhaustive"])
@pytest.mark.parametrize("bug", BUGS)
def test_every_strategy_finds_the_bug_planted_in_c(bug, strategy):
    report = explore(f"{PLANTED}:{bug}", strategy, schedules=100)
    assert report.failures, f"{strategy} ran {report.ran} schedules of {bug} without finding it"
    first = report.failures[0]
    assert first.failure.signature in BUGS[bug]
    assert 1 < report.first_failure_at <= 100 and report.ran == report.first_failure_at
    assert ".c:" in first.failure.message       # the violation names the C file and line of the call


def test_the_planted_collision_is_in_the_c_mcm_s_incoming_close():
    first = explore(f"{PLANTED}:mcm_collision", "random", schedules=100).failures[0]
    assert "NdisMCmDispatchIncomingCloseCall" in first.failure.message
    assert "callmgr.c" in first.failure.message and "CallRemoteRelease" in first.failure.message


def test_the_shrunk_c_schedule_replays_the_same_failure():
    found = explore(f"{PLANTED}:mcm_collision", "random", schedules=100).failures[0]
    small = shrink(found)
    assert small.decisions <= found.decisions
    assert replay(small).failure.signature == found.failure.signature
    assert replay(small).failure.signature == replay(small).failure.signature


CLEAN = ["mcm_clean", "mcm_call_flow", "mcm_af_withdraw", "mcm_drop_party_race", "mcm_hangup_while_connecting", "client_clean",
         "client_af_withdraw", "client_hangup_while_connecting", "client_over_the_call_manager", "all_c_call_flow",
         "all_c_close_race", "client_drop_party_race", "all_c_drop_party_race"]


@pytest.mark.parametrize("scenario", CLEAN)
@pytest.mark.parametrize("strategy", ["random", "pct", "exhaustive"])
def test_the_correct_c_samples_survive_the_same_races(scenario, strategy):
    # more schedules than the planted bugs need to show (at most 8 here), fewer than the Python
    # samples' runs: every schedule loads two fresh copies of each C image
    report = explore(f"{PLANTED}:{scenario}", strategy, schedules=20)
    assert not report.failures, report.failures[0].failure.message
    assert report.ran == 20
