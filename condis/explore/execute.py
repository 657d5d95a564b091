"""Run one schedule of a scenario and say whether, and how, it failed.

A schedule fails when a driver breaks a CoNDIS rule (:class:`condis.Violation`), when any other
exception escapes a driver, when the scenario's own end check fails, when the run never goes
quiet (a livelock: ``max_steps`` events and still more to run), or when teardown finds what the
drivers left behind. A violation or an exception names the driver code it came from
(:func:`driver_frame`).
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import condis
from condis.errors import Violation
from condis.explore.faults import Fault, FaultInjector
from condis.explore.scenario import ScenarioFn
from condis.explore.schedule import Failure
from condis.explore.strategies import Chooser
from condis.sim import Simulation

MAX_STEPS = 50_000


class ExploreSimulation(Simulation):
    """A simulation with the explorer's fault injector, if any, found by the wire and the hosts built in it."""

    def __init__(self, strategy: Chooser, tracer: Any, faults: FaultInjector | None) -> None:
        self.faults = faults
        # strict: a schedule fails at the violating call, where its trace ends
        super().__init__(strategy=strategy, tracer=tracer, verify="strict")


@dataclass
class Outcome:
    """What one run did: its failure (None if clean), the choices it made and the faults it injected."""

    failure: Failure | None
    choices: list[int]
    faults: list[Fault]
    steps: int


def execute(scenario: ScenarioFn, chooser: Chooser, faults: FaultInjector | None = None, tracer: Any = None,
            max_steps: int = MAX_STEPS) -> Outcome:
    """Build the scenario in a fresh simulation, run it under ``chooser`` and ``faults``, and judge it.

    Without ``faults`` nothing is injected, and the wire and the hosts are built without fault
    hooks at all (an injector with nothing to inject would be asked at every frame and allocation).
    """
    sim = ExploreSimulation(chooser, tracer, faults)
    failure = _run(scenario, sim, max_steps)
    injected = list(faults.injected) if faults is not None else []
    return Outcome(failure, chooser.choices, injected, sim.scheduler.steps)


def _run(scenario: ScenarioFn, sim: ExploreSimulation, max_steps: int) -> Failure | None:
    try:
        check = scenario(sim)
        sim.run(max_steps=max_steps)
        if sim.scheduler.pending():
            return Failure("livelock", "", f"still {len(sim.scheduler.pending())} event(s) to run after "
                           f"{max_steps} steps")
    except Violation as v:
        return Failure("violation", v.rule, str(v), driver_frame(v.__traceback__))
    except Exception as e:
        return _exception(e)
    if check is not None:
        try:
            check()
        except AssertionError as e:
            return Failure("check", "", str(e) or "the scenario's end check failed")
    return _teardown(sim)


def _teardown(sim: ExploreSimulation) -> Failure | None:
    try:
        sim.finish()
    except Violation as v:
        return Failure("teardown", v.rule, str(v), driver_frame(v.__traceback__))
    return None


def _exception(e: Exception) -> Failure:
    frames = traceback.extract_tb(e.__traceback__)
    where = f" (at {frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno} in {frames[-1].name})" if frames else ""
    return Failure("exception", type(e).__name__, f"{type(e).__name__}: {e}{where}", driver_frame(e.__traceback__))


_PACKAGE = Path(condis.__file__).resolve().parent
_SAMPLES = _PACKAGE / "drivers"


def driver_frame(tb: TracebackType | None) -> str:
    """Where driver code made the call that failed: ``file:line in function`` of the innermost frame
    outside the condis package (your driver), else of the innermost sample driver frame
    (condis/drivers), else "" (the failure came from NDIS alone, as most teardown findings do)."""
    sample = ""
    for frame in reversed(traceback.extract_tb(tb)):
        path = Path(frame.filename).resolve()
        if not path.is_relative_to(_PACKAGE):
            return f"{path}:{frame.lineno} in {frame.name}"
        if not sample and path.is_relative_to(_SAMPLES):
            sample = f"{path}:{frame.lineno} in {frame.name}"
    return sample
