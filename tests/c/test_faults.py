"""The C samples under the explorer's fault injection, as tests/test_explore.py runs the Python
samples: lost, duplicated and delayed frames and refused VCs must leave no call stuck and break
no rule, and each allocation failing once must at most keep a driver from starting."""

from __future__ import annotations

import pytest

from condis.explore import Fault, FaultInjector, Options, Replay, execute, explore
from condis.explore.scenario import resolve

PLANTED = "tests/c/planted.py"
# what a driver refusing to start looks like to a two-host scenario (tests/test_explore.py)
REFUSED_START = ("add adapter failed with NDIS_STATUS_RESOURCES", "no open AF", "stuck in state MAKING")


@pytest.mark.parametrize("sites", ["frame", "frame,activate"])
@pytest.mark.parametrize("scenario", ["mcm_call_flow", "mcm_clean", "mcm_drop_party_race", "client_clean",
                                      "all_c_drop_party_race"])
def test_the_c_samples_survive_lost_duplicated_and_delayed_frames_and_refused_vcs(scenario, sites):
    options = Options(fault_sites=tuple(sites.split(",")), fault_rate=0.2)
    report = explore(f"{PLANTED}:{scenario}", "random", schedules=30, seed=2000, options=options)
    assert report.failures == [], f"{scenario} ({sites}): {report.failures[0].failure} {report.failures[0].faults}"


@pytest.mark.parametrize("scenario", ["mcm_call_flow", "mcm_drop_party_race", "client_clean", "client_drop_party_race"])
def test_every_allocation_failing_once_is_survived(scenario):
    ref = f"{PLANTED}:{scenario}"
    counter = FaultInjector()
    execute(resolve(ref), Replay([]), counter)
    assert counter.counts["alloc"] > 5
    for n in range(counter.counts["alloc"]):
        outcome = execute(resolve(ref), Replay([]), FaultInjector([Fault("alloc", n, "fail")]))
        if outcome.failure is not None:
            assert outcome.failure.kind in ("exception", "check") and any(
                phrase in outcome.failure.message for phrase in REFUSED_START), f"{scenario}, alloc #{n}: {outcome.failure}"
