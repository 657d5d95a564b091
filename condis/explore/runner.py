"""Running many schedules: jobs, runners, and the explore loop.

A :class:`Job` is plain data (a scenario reference, a strategy and a range of seeds), so any
engine that can call :func:`run_job` somewhere and hand back its :class:`JobResult` can run
schedules: :class:`LocalRunner` runs jobs in this process, :class:`ProcessRunner` spreads them
over worker processes, :class:`condis.explore.ray_runner.RayRunner` over a Ray cluster, and any
other engine only has to implement :class:`Runner`'s one method.

What an exploration finds does not depend on the runner: results are taken in seed order, so the
first failure is the one of the lowest failing seed and the counts are those of a run in one
process, whichever job happened to finish first.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from random import Random
from typing import Protocol

from condis.coverage import Coverage
from condis.explore.execute import MAX_STEPS, Outcome, execute
from condis.explore.faults import FaultInjector
from condis.explore.isolate import Crashed, c_driver_loads, execute_isolated, stream_in_child, warm_up
from condis.explore.scenario import ScenarioFn, resolve
from condis.explore.schedule import Schedule, trimmed
from condis.explore.strategies import WINDOW_NS, Chooser, Pct, RandomWalk, Replay
from condis.trace.recorder import Recorder


@dataclass(frozen=True)
class Options:
    """How each schedule is run: the strategy's window, PCT's depth and its estimate of the decision
    points in a run (0: count them on the default order), how many decision points of a run
    exhaustive search expands, the faults
    drawn at random (``fault_sites``, each with probability ``fault_rate``, at most ``fault_budget``
    per run), and the step limit past which a run counts as a livelock."""

    window_ns: int = WINDOW_NS
    depth: int = 3
    steps: int = 0
    bound: int = 64
    fault_sites: tuple[str, ...] = ()
    fault_rate: float = 0.05
    fault_budget: int = 2
    max_steps: int = MAX_STEPS
    isolate: bool = False       # each job's schedules in a forked child (scenarios with C drivers)
    coverage: bool = False      # trace each schedule and count what it exercised (condis.coverage)


@dataclass(frozen=True)
class Job:
    """Run ``scenario`` under ``strategy`` once per seed in [first_seed, first_seed + count).

    ``scenario`` is a reference (see :mod:`condis.explore.scenario`); a scenario function that no
    reference names travels as the function itself, which only runners in this process can run."""

    scenario: str | ScenarioFn
    strategy: str
    first_seed: int
    count: int
    options: Options = Options()
    stop_first: bool = True


@dataclass
class JobResult:
    job: Job
    ran: int
    failures: list[Schedule] = field(default_factory=list)
    coverage: Coverage | None = None    # with Options.coverage: what the job's schedules exercised


def chooser_for(strategy: str, seed: int, options: Options) -> Chooser:
    if strategy == "random":
        return RandomWalk(seed, options.window_ns)
    if strategy == "pct":
        return Pct(seed, options.depth, options.steps, options.window_ns)
    raise ValueError(f"no strategy {strategy!r} for seeded runs; choose random or pct")


def run_one(scenario: str | ScenarioFn, strategy: str, seed: int, options: Options) -> Outcome:
    """One seeded schedule: the strategy and the random faults both draw from ``seed``."""
    return _run_seeded(resolve(scenario), strategy, seed, options)


def _faults_for(seed: int, options: Options) -> FaultInjector | None:
    return FaultInjector(rng=Random(f"faults:{seed}"), sites=options.fault_sites, rate=options.fault_rate,
                         budget=options.fault_budget) if options.fault_sites else None


def _run_seeded(fn: ScenarioFn, strategy: str, seed: int, options: Options,
                coverage: Coverage | None = None) -> Outcome:
    """One schedule; ``fifo`` is the default order, without faults (the explorer's first schedule)."""
    faults = _faults_for(seed, options) if strategy != "fifo" else None
    chooser = chooser_for(strategy, seed, options) if strategy != "fifo" else Replay([], options.window_ns)
    if coverage is None:
        return execute(fn, chooser, faults, max_steps=options.max_steps)
    # a tracer changes nothing the strategy sees: the schedule is the one an untraced run makes
    recorder = Recorder(states=True)
    outcome = execute(fn, chooser, faults, recorder, max_steps=options.max_steps)
    recorder.settle()
    coverage.add(recorder.records)
    return outcome


def run_job(job: Job) -> JobResult:
    """Run a job's schedules; stop at the first failure if the job says so. Safe to call anywhere."""
    if job.options.isolate:
        return _run_job_isolated(job)
    result = JobResult(job, 0, coverage=Coverage() if job.options.coverage else None)
    fn = resolve(job.scenario)      # once per job: a reference names the same function every time
    for seed in range(job.first_seed, job.first_seed + job.count):
        outcome = _run_seeded(fn, job.strategy, seed, job.options, result.coverage)
        result.ran += 1
        if outcome.failure is not None:
            result.failures.append(to_schedule(job.scenario, job.strategy, seed, job.options.window_ns, outcome))
            if job.stop_first:
                break
    return result


def _run_job_isolated(job: Job) -> JobResult:
    """run_job with the schedules in a forked child that reports each as it ends. A schedule whose
    driver crashes the child is run again alone, recording its choices and faults up to the crash
    (see :func:`condis.explore.isolate.execute_isolated`); the job goes on from the next seed. With
    coverage, each child sends what its schedules exercised when it ends."""
    result = JobResult(job, 0, coverage=Coverage() if job.options.coverage else None)
    fn = resolve(job.scenario)
    seed, end = job.first_seed, job.first_seed + job.count

    def produce(first: int) -> Callable[[Callable[[object], None]], None]:
        def run(emit: Callable[[object], None]) -> None:
            coverage = Coverage() if job.options.coverage else None
            for s in range(first, end):
                emit((s, _run_seeded(fn, job.strategy, s, job.options, coverage)))
                if coverage is not None and s + 1 == end:
                    emit(coverage)
        return run
    while seed < end:
        for item in stream_in_child(produce(seed)):
            if isinstance(item, Coverage):
                if result.coverage is not None:
                    result.coverage.merge(item)
                continue
            if isinstance(item, Crashed):
                outcome = execute_isolated(fn, chooser_for(job.strategy, seed, job.options),
                                           _faults_for(seed, job.options), job.options.max_steps)
            else:
                seed, outcome = item
            result.ran += 1
            if outcome.failure is not None:
                result.failures.append(to_schedule(job.scenario, job.strategy, seed, job.options.window_ns, outcome))
                if job.stop_first:
                    return result
            seed += 1
            if isinstance(item, Crashed):
                break
    return result


def to_schedule(scenario: str | ScenarioFn, strategy: str, seed: int | None, window_ns: int,
                outcome: Outcome) -> Schedule:
    return Schedule(scenario_name(scenario), trimmed(outcome.choices), outcome.faults, window_ns, strategy, seed,
                    outcome.failure, outcome.steps)


class Runner(Protocol):
    """Runs jobs somewhere and yields their results as they finish."""

    def map(self, jobs: Iterable[Job]) -> Iterator[JobResult]:
        """Yield one result per job. Stopping the iteration early may abandon jobs not yet started."""
        ...


class LocalRunner:
    """Jobs one after the other, in this process, in order."""

    def map(self, jobs: Iterable[Job]) -> Iterator[JobResult]:
        for job in jobs:
            yield run_job(job)


class ProcessRunner:
    """Jobs spread over ``workers`` processes, a few in flight per worker; results in completion order."""

    def __init__(self, workers: int) -> None:
        self.workers = workers

    def map(self, jobs: Iterable[Job]) -> Iterator[JobResult]:
        pending = iter(jobs)
        with ProcessPoolExecutor(self.workers) as pool:
            running: set[Future[JobResult]] = set()
            try:
                while True:
                    while len(running) < 2 * self.workers:
                        job = next(pending, None)
                        if job is None:
                            break
                        running.add(pool.submit(run_job, job))
                    if not running:
                        return
                    done, running = wait(running, return_when=FIRST_COMPLETED)
                    for fut in done:
                        yield fut.result()
            finally:
                for fut in running:
                    fut.cancel()


def _baseline(scenario: str | ScenarioFn, options: Options, coverage: Coverage | None) -> tuple[Outcome, bool]:
    """The default order, run in a forked child (it may be the first run of a C driver): its
    outcome, and whether the scenario loaded C drivers.

    A process with other threads running (a Ray driver, say) is not forked, since only the forking
    thread goes on in the child: the default order runs here, and a C driver that crashes on it
    takes this process down; the jobs after it are isolated as usual."""
    if threading.active_count() > 1:
        before = c_driver_loads()
        outcome = _run_seeded(resolve(scenario), "fifo", 0, options, coverage)
        return outcome, c_driver_loads() > before
    found: list[tuple[Outcome, bool]] = []

    def run(emit: Callable[[object], None]) -> None:
        before = c_driver_loads()
        mine = Coverage() if coverage is not None else None
        outcome = _run_seeded(resolve(scenario), "fifo", 0, options, mine)
        emit((outcome, c_driver_loads() > before, mine))
    for item in stream_in_child(run):
        if isinstance(item, Crashed):     # the default order crashed a C driver: find how far it got
            return execute_isolated(resolve(scenario), Replay([], options.window_ns), None, options.max_steps), True
        outcome, loaded, mine = item
        found.append((outcome, loaded))
        if coverage is not None and mine is not None:
            coverage.merge(mine)
    if found[0][1]:
        warm_up()
    return found[0]


@dataclass
class Report:
    """What an exploration did: how many schedules ran and the failing ones found (first one first).

    ``ran`` counts the schedules of the exploration up to its end: up to the first failure when
    it stops there, as a run in one process would have; ``executed`` counts every schedule a runner
    ran, those other workers ran past the first failure included."""

    scenario: str
    strategy: str
    ran: int = 0
    failures: list[Schedule] = field(default_factory=list)
    first_failure_at: int | None = None     # how many schedules had run when the first failure was found
    executed: int = 0
    coverage: Coverage | None = None        # with Options.coverage: what the ``ran`` schedules exercised
    saved: str | None = None                # where the first failure's schedule file was written, if it was


def explore(scenario: str | ScenarioFn, strategy: str = "random", schedules: int = 1000, seed: int = 0,
            options: Options = Options(), runner: Runner | None = None, stop_first: bool = True,
            progress: Callable[[int, int, int], None] | None = None, batch: int = 20) -> Report:
    """Run ``scenario`` (a reference or a scenario function) under up to ``schedules`` schedules of ``strategy``.

    The first schedule is always the default order. ``random`` and ``pct`` then run seeds
    ``seed``, ``seed + 1``, ... in jobs of ``batch`` on ``runner`` (in this process by default);
    ``exhaustive`` searches orderings in this process (see :mod:`condis.explore.search`).
    ``progress(ran, total, failures)`` is called as results come in.
    """
    if strategy == "exhaustive":
        from condis.explore.search import exhaustive
        return exhaustive(scenario, schedules, options, stop_first, progress)
    # Jobs carry a reference other processes can import; reports and schedule files name the
    # scenario so that it replays from anywhere (a function by its file's absolute path).
    name = scenario_name(scenario)
    scenario = scenario_ref(scenario)
    report = Report(name, strategy, coverage=Coverage() if options.coverage else None)
    baseline, loads_c = _baseline(scenario, options, report.coverage)
    if loads_c and not options.isolate:
        # the scenario runs C drivers: a crash in one must not take the explorer down
        options = Options(**{**options.__dict__, "isolate": True})
    report.ran = report.executed = 1
    if baseline.failure is not None:
        report.failures.append(to_schedule(name, "fifo", None, options.window_ns, baseline))
        report.first_failure_at = 1
        if stop_first:
            return report
    if strategy == "pct" and not options.steps:
        # PCT draws its change points among the decision points a run has: measure them on the default order.
        options = Options(**{**options.__dict__, "steps": max(1, len(baseline.choices))})
    total = schedules - 1
    # Stopping at the first failure, the failure kept is the one of the lowest failing seed: jobs past
    # it are not started, and results of jobs below it are waited for, so every runner finds the same.
    lowest: list[int] = []      # the lowest failing seed so far, once there is one

    def jobs() -> Iterator[Job]:
        for i in range(0, total, batch):
            if lowest and seed + i > lowest[0]:
                return
            yield Job(scenario, strategy, seed + i, min(batch, total - i), options, stop_first)

    runner = runner if runner is not None else LocalRunner()
    done: dict[int, JobResult] = {}
    results = runner.map(jobs())
    try:
        for result in results:
            done[result.job.first_seed] = result
            report.executed += result.ran
            if result.failures and stop_first:
                first = result.failures[0].seed
                assert first is not None
                lowest[:] = [min([first, *lowest])]
            if progress is not None:
                progress(report.executed, schedules, len(report.failures) + sum(len(r.failures) for r in done.values()))
            if lowest and all(first_seed in done for first_seed in range(seed, lowest[0] + 1, batch)):
                break
    finally:
        close = getattr(results, "close", None)
        if close is not None:
            close()
    kept = [r for first_seed, r in sorted(done.items()) if not lowest or first_seed <= lowest[0]]
    found = [f for r in kept for f in r.failures]
    report.ran += sum(r.ran for r in kept)
    if report.coverage is not None:
        for r in kept:
            if r.coverage is not None:
                report.coverage.merge(r.coverage)
    if found and report.first_failure_at is None:
        assert found[0].seed is not None
        report.first_failure_at = found[0].seed - seed + 2     # the default order, then seeds seed .. found
    for schedule in found:
        schedule.scenario = name
    report.failures.extend(found)
    return report


def scenario_ref(scenario: str | ScenarioFn) -> str | ScenarioFn:
    """What a job carries to name ``scenario``: a reference as given; for a function, its
    ``module:function`` when that names this very function (so other processes can import it), else
    the function itself (a test's scenario, a function defined inside another, a lambda)."""
    if isinstance(scenario, str):
        return scenario
    module, qualname = getattr(scenario, "__module__", ""), getattr(scenario, "__qualname__", "")
    if not module or module == "__main__" or "." in qualname:
        return scenario
    if module.startswith("_condis_scenario_"):      # loaded from a file by resolve(): named by that file
        ref = f"{getattr(sys.modules.get(module), '__file__', '')}:{qualname}"
    else:
        ref = f"{module}:{qualname}"
    try:
        return ref if resolve(ref) is scenario else scenario
    except (ValueError, ImportError):
        return scenario


def scenario_name(scenario: str | ScenarioFn) -> str:
    """How a report and a schedule file name ``scenario``: a reference as given; a function defined at
    the top of a file by ``/absolute/path/file.py:function``, which replays from anywhere; any other
    function by ``<its name>``, which only its own test can replay (with ``replay(schedule, fn)``)."""
    if isinstance(scenario, str):
        return scenario
    qualname = getattr(scenario, "__qualname__", repr(scenario))
    file = getattr(sys.modules.get(getattr(scenario, "__module__", "")), "__file__", None)
    if file and "." not in qualname and "<" not in qualname:
        return f"{Path(file).resolve()}:{qualname}"
    return f"<{qualname}>"
