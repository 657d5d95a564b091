"""``condis explore``, ``condis replay`` and ``condis coverage``."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from condis.explore.faults import SITES
from condis.explore.runner import LocalRunner, Options, ProcessRunner, Runner, explore
from condis.explore.scenarios import BUILTIN
from condis.explore.schedule import Schedule, shown_path
from condis.explore.shrink import replay, shrink


def register(sub: Any, explore: argparse.ArgumentParser) -> None:
    """What the explorer adds to the ``condis`` command beyond ``explore``'s own options: ``--ray``
    and ``--coverage`` on ``explore``, and the ``coverage`` command (run by ``args.handler``)."""
    explore.add_argument("--ray", nargs="?", const="", default=None, metavar="ADDRESS",
                         help="run random and pct schedules on Ray: a local instance, or the cluster at ADDRESS "
                              "(ray://head:10001, head:6379, auto); needs pip install 'condis[ray]'")
    explore.add_argument("--coverage", nargs="?", const="", default=None, metavar="FILE.html",
                         help="trace every schedule and report the DDIs, handlers, states and transitions "
                              "they exercised (also as an HTML page)")
    cov = sub.add_parser("coverage", help="which DDIs, handlers, states and transitions recorded runs exercised")
    cov.add_argument("traces", nargs="+", metavar="TRACE", help="traces saved as JSON Lines (condis.trace.files)")
    cov.add_argument("--driver", metavar="NAME", help="count only the DDIs and handlers of this driver")
    cov.add_argument("--html", metavar="FILE.html", help="also write the report as an HTML page")
    cov.set_defaults(handler=coverage_command)


def coverage_command(args: argparse.Namespace) -> int:
    from condis.coverage import from_files, write
    try:
        cov = from_files(args.traces, args.driver)
    except (OSError, ValueError, KeyError) as e:
        print(f"condis coverage: {e}", file=sys.stderr)
        return 2
    write(cov, args.html)
    return 0


def runner_for(workers: int, ray: str | None) -> Runner:
    """The runner ``--workers`` and ``--ray`` ask for (``ray`` "" is a local Ray instance)."""
    if ray is not None:
        if workers > 1:
            raise ValueError("choose --workers or --ray, not both")
        from condis.explore.ray_runner import RayRunner
        return RayRunner(ray or None)
    return ProcessRunner(workers) if workers > 1 else LocalRunner()


def explore_command(args: argparse.Namespace) -> int:
    if args.list:
        width = max(len(name) for name in BUILTIN)
        for name, builtin in BUILTIN.items():
            print(f"{name:<{width}}  {builtin.summary}")
        return 0
    if not args.scenario:
        print("condis explore: name a scenario (condis explore --list shows the built-in ones)", file=sys.stderr)
        return 2
    sites = tuple(s for s in args.faults.split(",") if s)
    unknown = [s for s in sites if s not in SITES]
    if unknown:
        print(f"condis explore: unknown fault site(s) {unknown}; choose from {', '.join(SITES)}", file=sys.stderr)
        return 2
    coverage = getattr(args, "coverage", None)
    options = Options(window_ns=args.window, depth=args.depth, bound=args.bound, fault_sites=sites,
                      fault_rate=args.fault_rate, coverage=coverage is not None)
    start = time.monotonic()
    try:
        runner = runner_for(args.workers, getattr(args, "ray", None))
        report = explore(args.scenario, args.strategy, args.schedules, args.seed, options, runner,
                         stop_first=not args.all, progress=_progress)
    except (ValueError, ImportError) as e:
        print(f"\ncondis explore: {e}", file=sys.stderr)
        return 2
    elapsed = time.monotonic() - start
    extra = f"; {report.executed} run in all" if report.executed != report.ran else ""
    rate = f", {report.executed / elapsed:.0f}/s" if elapsed > 0 else ""
    print(f"\r{report.ran} schedule(s) of {args.scenario} ({args.strategy}) in {elapsed:.1f} s{rate}{extra}: "
          f"{len(report.failures) or 'no'} failing" + " " * 20, file=sys.stderr)
    if report.coverage is not None:
        from condis.coverage import write
        write(report.coverage, coverage or None)
    if not report.failures:
        return 0
    if args.all:
        return _save_groups(report.failures, args.output, not args.no_shrink)
    first = report.failures[0]
    print(f"first failure after {report.first_failure_at} schedule(s): {first.failure}")
    if not args.no_shrink:
        first = _shrunk(first)
    first.save(args.output)
    print(f"failing schedule: {args.output}  (condis replay {args.output})")
    return 1


def _shrunk(schedule: Schedule) -> Schedule:
    found = len(schedule.choices), schedule.decisions
    small = shrink(schedule, progress=lambda n: print(f"\rshrinking: {n} replay(s)", end="", file=sys.stderr))
    print(f"\rshrunk from {found[0]} choices ({found[1]} non-default) to {len(small.choices)} "
          f"({small.decisions} non-default), {len(small.faults)} fault(s)" + " " * 10, file=sys.stderr)
    return small


def _save_groups(failures: list[Schedule], output: str, shrinking: bool) -> int:
    """``--all``: one schedule file per distinct failure (rule and driver code), the lowest seed's."""
    groups: dict[tuple[str, str, str], list[Schedule]] = {}
    for schedule in failures:
        assert schedule.failure is not None
        groups.setdefault(schedule.failure.place, []).append(schedule)
    print(f"{len(groups)} distinct failure(s) in {len(failures)} failing schedule(s):")
    for i, same in enumerate(groups.values(), 1):
        first = same[0]
        assert first.failure is not None
        failure = first.failure
        where = f" at {shown_path(failure.where)}" if failure.where else ""
        print(f"{i:>3}. {len(same):>4}x {failure.kind} {failure.rule or ''}{where}".rstrip())
        print(f"      {failure.message.splitlines()[0]}")
        if shrinking:
            first = _shrunk(first)
        path = output if i == 1 else (output.replace(".json", f"-{i}.json") if output.endswith(".json")
                                      else f"{output}-{i}")
        first.save(path)
        seeds = ", ".join(str(s.seed) for s in same[:5]) + (", ..." if len(same) > 5 else "")
        print(f"      failing schedule: {path}  (seeds {seeds})")
    return 1


def _progress(ran: int, total: int, failures: int) -> None:
    width = 30
    done = width * ran // max(total, 1)
    print(f"\r[{'#' * done}{'.' * (width - done)}] {ran}/{total} schedules, {failures} failing", end="",
          file=sys.stderr)


def replay_command(path: str, html_path: str | None, support: bool) -> int:
    from condis.trace.lanes import render
    from condis.trace.recorder import Recorder
    try:
        schedule = Schedule.load(path)
    except (OSError, ValueError, KeyError) as e:
        print(f"condis replay: {e}", file=sys.stderr)
        return 2
    recorder = Recorder()
    outcome = replay(schedule, tracer=recorder)
    faults = ", ".join(str(f) for f in schedule.faults) or "none"
    print(f"{schedule.scenario}: {len(schedule.choices)} choice(s), faults: {faults}")
    print(render(recorder.records, f"replay of {path}", support=support))
    if html_path:
        from condis.trace.html import render_html
        with open(html_path, "w", encoding="utf-8") as f:
            f.write(render_html(recorder.records, f"condis replay: {schedule.scenario}"))
        print(f"html: {html_path}")
    if outcome.failure is None:
        print("the schedule ran clean: it no longer fails (was the driver fixed?)")
        return 0
    print(f"FAILED: {outcome.failure}")
    if schedule.failure is not None and outcome.failure.signature != schedule.failure.signature:
        print(f"note: the file recorded a different failure: {schedule.failure}")
    return 1
