"""Running many schedules: jobs, runners, and the explore loop.

A :class:`Job` is plain data (a scenario reference, a strategy and a range of seeds), so any
engine that can call :func:`run_job` somewhere and hand back its :class:`JobResult` can run
schedules: :class:`LocalRunner` runs jobs in this process, :class:`ProcessRunner` spreads them
over worker processes, and a cluster engine only has to implement :class:`Runner`'s one method.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from random import Random
from typing import Protocol

from condis.explore.execute import MAX_STEPS, Outcome, execute
from condis.explore.faults import FaultInjector
from condis.explore.isolate import Crashed, c_drivers_loaded, execute_isolated, stream_in_child, warm_up
from condis.explore.scenario import ScenarioFn, resolve
from condis.explore.schedule import Schedule, trimmed
from condis.explore.strategies import WINDOW_NS, Chooser, Pct, RandomWalk, Replay


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


@dataclass(frozen=True)
class Job:
    """Run ``scenario`` under ``strategy`` once per seed in [first_seed, first_seed + count)."""

    scenario: str
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


def chooser_for(strategy: str, seed: int, options: Options) -> Chooser:
    if strategy == "random":
        return RandomWalk(seed, options.window_ns)
    if strategy == "pct":
        return Pct(seed, options.depth, options.steps, options.window_ns)
    raise ValueError(f"no strategy {strategy!r} for seeded runs; choose random or pct")


def run_one(scenario: str, strategy: str, seed: int, options: Options) -> Outcome:
    """One seeded schedule: the strategy and the random faults both draw from ``seed``."""
    return _run_seeded(resolve(scenario), strategy, seed, options)


def _faults_for(seed: int, options: Options) -> FaultInjector | None:
    return FaultInjector(rng=Random(f"faults:{seed}"), sites=options.fault_sites, rate=options.fault_rate,
                         budget=options.fault_budget) if options.fault_sites else None


def _run_seeded(fn: ScenarioFn, strategy: str, seed: int, options: Options) -> Outcome:
    return execute(fn, chooser_for(strategy, seed, options), _faults_for(seed, options), max_steps=options.max_steps)


def run_job(job: Job) -> JobResult:
    """Run a job's schedules; stop at the first failure if the job says so. Safe to call anywhere."""
    if job.options.isolate:
        return _run_job_isolated(job)
    result = JobResult(job, 0)
    fn = resolve(job.scenario)      # once per job: a reference names the same function every time
    for seed in range(job.first_seed, job.first_seed + job.count):
        outcome = _run_seeded(fn, job.strategy, seed, job.options)
        result.ran += 1
        if outcome.failure is not None:
            result.failures.append(to_schedule(job.scenario, job.strategy, seed, job.options.window_ns, outcome))
            if job.stop_first:
                break
    return result


def _run_job_isolated(job: Job) -> JobResult:
    """run_job with the schedules in a forked child that reports each as it ends. A schedule whose
    driver crashes the child is run again alone, recording its choices and faults up to the crash
    (see :func:`condis.explore.isolate.execute_isolated`); the job goes on from the next seed."""
    result = JobResult(job, 0)
    fn = resolve(job.scenario)
    seed, end = job.first_seed, job.first_seed + job.count

    def produce(first: int) -> Callable[[Callable[[object], None]], None]:
        def run(emit: Callable[[object], None]) -> None:
            for s in range(first, end):
                emit((s, _run_seeded(fn, job.strategy, s, job.options)))
        return run
    while seed < end:
        for item in stream_in_child(produce(seed)):
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


def to_schedule(scenario: str, strategy: str, seed: int | None, window_ns: int, outcome: Outcome) -> Schedule:
    return Schedule(scenario, trimmed(outcome.choices), outcome.faults, window_ns, strategy, seed, outcome.failure,
                    outcome.steps)


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


def _baseline(scenario: str, options: Options) -> tuple[Outcome, bool]:
    """The default order, run in a forked child (it may be the first run of a C driver): its
    outcome, and whether the scenario loaded C drivers."""
    if options.isolate or c_drivers_loaded():
        return execute_isolated(resolve(scenario), Replay([], options.window_ns), None, options.max_steps), True
    loads: list[bool] = []

    def run(emit: Callable[[object], None]) -> None:
        outcome = execute(resolve(scenario), Replay([], options.window_ns), max_steps=options.max_steps)
        emit((outcome, c_drivers_loaded()))
    for item in stream_in_child(run):
        if isinstance(item, Crashed):     # the default order crashed a C driver: find how far it got
            return execute_isolated(resolve(scenario), Replay([], options.window_ns), None, options.max_steps), True
        outcome, loaded = item
        loads.append(loaded)
    if loads[0]:
        warm_up()
    return outcome, loads[0]


@dataclass
class Report:
    """What an exploration did: how many schedules ran and the failing ones found (first one first)."""

    scenario: str
    strategy: str
    ran: int = 0
    failures: list[Schedule] = field(default_factory=list)
    first_failure_at: int | None = None     # how many schedules had run when the first failure was found


def explore(scenario: str, strategy: str = "random", schedules: int = 1000, seed: int = 0,
            options: Options = Options(), runner: Runner | None = None, stop_first: bool = True,
            progress: Callable[[int, int, int], None] | None = None, batch: int = 20) -> Report:
    """Run ``scenario`` under up to ``schedules`` schedules of ``strategy``.

    The first schedule is always the default order. ``random`` and ``pct`` then run seeds
    ``seed``, ``seed + 1``, ... in jobs of ``batch`` on ``runner`` (in this process by default);
    ``exhaustive`` searches orderings in this process (see :mod:`condis.explore.search`).
    ``progress(ran, total, failures)`` is called as results come in.
    """
    if strategy == "exhaustive":
        from condis.explore.search import exhaustive
        return exhaustive(scenario, schedules, options, stop_first, progress)
    report = Report(scenario, strategy)
    baseline, loads_c = _baseline(scenario, options)
    if loads_c and not options.isolate:
        # the scenario runs C drivers: a crash in one must not take the explorer down
        options = Options(**{**options.__dict__, "isolate": True})
    report.ran = 1
    if baseline.failure is not None:
        report.failures.append(to_schedule(scenario, "fifo", None, options.window_ns, baseline))
        report.first_failure_at = 1
        if stop_first:
            return report
    if strategy == "pct" and not options.steps:
        # PCT draws its change points among the decision points a run has: measure them on the default order.
        options = Options(**{**options.__dict__, "steps": max(1, len(baseline.choices))})
    total = schedules - 1
    jobs = (Job(scenario, strategy, seed + i, min(batch, total - i), options, stop_first)
            for i in range(0, total, batch))
    runner = runner if runner is not None else LocalRunner()
    found: list[Schedule] = []
    results = runner.map(jobs)
    for result in results:
        report.ran += result.ran
        found.extend(result.failures)
        if progress is not None:
            progress(report.ran, schedules, len(report.failures) + len(found))
        if found and stop_first:
            break
    close = getattr(results, "close", None)
    if close is not None:
        close()
    found.sort(key=lambda s: s.seed if s.seed is not None else -1)
    if found and report.first_failure_at is None:
        report.first_failure_at = 1 + found[0].seed - seed + 1
    report.failures.extend(found)
    return report
