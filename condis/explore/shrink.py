"""Shrinking a failing schedule: fewer faults, fewer non-default choices, a shorter choice list.

Every candidate is replayed; it is kept only if it fails the same way (same kind, same rule or
exception type). The passes, repeated until none makes progress or the budget of replays is
spent: drop each fault; cut the choice list to the shortest prefix that still fails (the rest
follows the default order); reset each remaining choice to the default, last first; lower each
remaining choice towards the default. The result is 1-minimal for these steps: no single fault
removed, choice reset or cut still fails the same way.
"""

from __future__ import annotations

from collections.abc import Callable

from condis.explore.execute import MAX_STEPS, Outcome, execute
from condis.explore.faults import Fault, FaultInjector
from condis.explore.isolate import execute_isolated
from condis.explore.scenario import ScenarioFn, resolve
from condis.explore.schedule import Schedule, trimmed
from condis.explore.strategies import Replay


def replay(schedule: Schedule, fn: ScenarioFn | None = None, tracer: object = None,
           max_steps: int = MAX_STEPS, isolate: bool = False) -> Outcome:
    """Run a schedule exactly: its choices, then the default order, with its faults and nothing else.

    ``isolate`` runs it in a forked child, so that a driver that crashes (a schedule whose failure
    is a ``crash``) takes only the child down; such a run records no trace here."""
    fn = fn if fn is not None else resolve(schedule.scenario)
    chooser = Replay(schedule.choices, schedule.window_ns)
    if isolate:
        return execute_isolated(fn, chooser, FaultInjector(schedule.faults), max_steps)
    return execute(fn, chooser, FaultInjector(schedule.faults), tracer, max_steps)


def shrink(schedule: Schedule, budget: int = 400, progress: Callable[[int], None] | None = None) -> Schedule:
    """The smallest schedule found that fails like ``schedule`` (which must have failed)."""
    assert schedule.failure is not None, "only a failing schedule can be shrunk"
    fn = resolve(schedule.scenario)
    target = schedule.failure.signature
    crashes = schedule.failure.kind == "crash"      # each candidate in a child: it may crash again
    best = schedule
    runs = 0

    def attempt(choices: list[int], faults: list[Fault]) -> bool:
        nonlocal best, runs
        if runs >= budget:
            return False
        runs += 1
        if progress is not None:
            progress(runs)
        candidate = Schedule(schedule.scenario, choices, faults, schedule.window_ns, schedule.strategy, schedule.seed)
        outcome = replay(candidate, fn, isolate=crashes)
        if outcome.failure is None or outcome.failure.signature != target:
            return False
        shrunk = Schedule(schedule.scenario, trimmed(outcome.choices), outcome.faults, schedule.window_ns,
                          schedule.strategy, schedule.seed, outcome.failure, outcome.steps)
        if _size(shrunk) < _size(best):
            best = shrunk
            return True
        return False

    progressed = True
    while progressed and runs < budget:
        progressed = False
        for fault in list(best.faults):
            progressed |= attempt(best.choices, [f for f in best.faults if f != fault])
        progressed |= _cut(best, attempt)
        for k in reversed(range(len(best.choices))):
            if k < len(best.choices) and best.choices[k]:
                progressed |= attempt(best.choices[:k] + [0] + best.choices[k + 1:], best.faults)
        for k in range(len(best.choices)):
            while k < len(best.choices) and best.choices[k] > 1 and attempt(
                    best.choices[:k] + [best.choices[k] - 1] + best.choices[k + 1:], best.faults):
                progressed = True
    return best


def _cut(best: Schedule, attempt: Callable[[list[int], list[Fault]], bool]) -> bool:
    """Binary search for a shorter prefix of the choices that still fails."""
    lo, hi, cut = 0, len(best.choices) - 1, False
    while lo <= hi:
        mid = (lo + hi) // 2
        if attempt(best.choices[:mid], best.faults):
            cut, hi = True, mid - 1
        else:
            lo = mid + 1
    return cut


def _size(s: Schedule) -> tuple[int, int, int, int]:
    return (len(s.faults), s.decisions, len(s.choices), sum(s.choices))
