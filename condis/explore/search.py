"""Bounded exhaustive search over event orderings, skipping orderings that reach a state already seen.

Depth-first over choice lists: a run follows a prefix of choices and then the default order;
at every decision point past the prefix (up to the first ``Options.bound`` of a run) the other
ready events are pushed as new prefixes to try. Before expanding a decision point the search
fingerprints the state there; a state already seen was (or will be) expanded from its first
visit, so neither it nor anything after it in this run is expanded again.

The fingerprint is an approximation of "the same state", and says so:

- NDIS's view of every host (:func:`condis.ndis.snapshot.fingerprint`: object states, pended
  requests, including object ids, so it is exact for one scenario);
- the pending events: for each, its kind, host, the function it runs, its frame if it carries one,
  and its due time relative to now;
- what the scenario lets us see of the drivers: every call of a sample client (state, events,
  data counts) when the drivers are the sample ones, found through :func:`observe`.

Driver memory it cannot see (a private flag, a counter) is not in it, so two states that differ
only there are taken as one, and the orderings below the second are skipped: the search can then
miss a bug. Exhaustive search is bounded by the number of decision points it expands
(``Options.bound``; past it a run follows the default order) and by the number of schedules.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from condis.coverage import Coverage
from condis.explore.execute import ExploreSimulation, execute
from condis.explore.runner import Options, Report, scenario_name, to_schedule
from condis.explore.scenario import ScenarioFn, resolve
from condis.explore.strategies import Replay
from condis.ndis.snapshot import fingerprint
from condis.runtime.scheduler import Event
from condis.trace.recorder import Recorder


class _Probe(Replay):
    """Replays a prefix and, past it, records each decision point's size and state fingerprint."""

    def __init__(self, prefix: list[int], window_ns: int, expand: int) -> None:
        super().__init__(prefix, window_ns)
        self.expand = expand
        self.sim: ExploreSimulation | None = None
        self.points: list[tuple[int, int]] = []     # (decision index, number of ready events)
        self.states: list[int] = []

    def pick(self, ready: Sequence[Event], now: int) -> int:
        k = len(self.choices)
        if len(self.prefix) <= k < self.expand and self.sim is not None:
            self.points.append((k, len(ready)))
            self.states.append(state_of(self.sim, ready, now))
        return super().pick(ready, now)


def state_of(sim: ExploreSimulation, ready: Sequence[Event], now: int) -> int:
    """The fingerprint described in the module docstring."""
    events = sorted(_event_key(ev, now) for ev in list(ready) + sim.scheduler.pending())
    return hash((fingerprint(sim.hosts), tuple(events), observe(sim)))


def _event_key(ev: Event, now: int) -> tuple:
    frame = ev.args[1] if ev.kind == "frame" and len(ev.args) > 1 else None
    return (ev.kind, str(getattr(ev.host, "name", "")), getattr(ev.fn, "__name__", ""), repr(frame),
            max(0, ev.due - now))


def observe(sim: ExploreSimulation) -> tuple:
    """The sample clients' calls on every host, as far as the drivers loaded there are sample clients."""
    out = []
    for host in sim.hosts:
        for name, drv in sorted(host.drivers.items()):
            client = getattr(drv.protocol, "context", None)
            calls = getattr(client, "calls", None)
            if isinstance(calls, list):
                out.append((host.name, name, tuple((c.state, tuple(c.events), len(c.received), c.sent,
                                                    c.send_completed, c.deleted) for c in calls)))
    return tuple(out)


def exhaustive(scenario: str | ScenarioFn, schedules: int, options: Options, stop_first: bool = True,
               progress: Callable[[int, int, int], None] | None = None) -> Report:
    """Depth-first search of ``scenario``'s orderings, at most ``schedules`` runs."""
    fn = resolve(scenario)
    expand = options.bound
    report = Report(scenario_name(scenario), "exhaustive", coverage=Coverage() if options.coverage else None)
    seen: set[int] = set()
    stack: list[list[int]] = [[]]
    while stack and report.ran < schedules:
        prefix = stack.pop()
        probe = _Probe(prefix, options.window_ns, expand)

        def scenario_in(sim: Any, probe: _Probe = probe) -> Any:
            probe.sim = sim
            return fn(sim)
        recorder = Recorder(states=True) if report.coverage is not None else None
        outcome = execute(scenario_in, probe, tracer=recorder, max_steps=options.max_steps)
        if recorder is not None and report.coverage is not None:
            recorder.settle()
            report.coverage.add(recorder.records)
        report.ran += 1
        report.executed += 1
        if outcome.failure is not None:
            report.failures.append(to_schedule(scenario, "exhaustive", None, options.window_ns, outcome))
            if report.first_failure_at is None:
                report.first_failure_at = report.ran
            if stop_first:
                break
        branches = []
        for (k, size), state in zip(probe.points, probe.states, strict=True):
            if state in seen:
                break
            seen.add(state)
            branches.extend(outcome.choices[:k] + [alt] for alt in range(1, size))
        stack.extend(reversed(branches))
        if progress is not None:
            progress(report.ran, schedules, len(report.failures))
    return report
