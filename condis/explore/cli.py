"""``condis explore``, ``condis replay`` and ``condis coverage``."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from condis.explore.faults import SITES
from condis.explore.runner import LocalRunner, Options, ProcessRunner, Runner, explore
from condis.explore.scenarios import BUILTIN
from condis.explore.schedule import Schedule, shown_path
from condis.explore.shrink import replay, shrink
from condis.output import Case, Progress, write_junit
from condis.trace.recorder import Record, Recorder


def register(sub: Any, explore: argparse.ArgumentParser) -> None:
    """What the explorer adds to the ``condis`` command beyond ``explore``'s own options: ``--ray``
    and ``--coverage`` on ``explore``, and the ``coverage`` command (run by ``args.handler``)."""
    explore.add_argument("--ray", nargs="?", const="", default=None, metavar="ADDRESS",
                         help="run random and pct schedules on Ray: a local instance, or the cluster at ADDRESS "
                              "(ray://head:10001, head:6379, auto); needs pip install 'condis[ray]'")
    explore.add_argument("--coverage", nargs="?", const="", default=None, metavar="FILE.html",
                         help="trace every schedule and report the DDIs, handlers, states and transitions "
                              "they exercised (also as an HTML page)")
    cov = sub.add_parser("coverage", help="which DDIs, handlers, states and transitions recorded runs exercised",
                         description="Read traces (JSON Lines) and report, as coverage.py does for lines, which DDIs "
                                     "and handlers the runs exercised and which states and transitions of NDIS's "
                                     "state machines (condis/ndis/states.py) they reached and which they never did.")
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
    bar = Progress(f"exploring {args.scenario} ({args.strategy})", args.schedules, "schedules")

    def progress(ran: int, total: int, failures: int) -> None:
        bar.update(ran, f"{failures} failing")
    try:
        runner = runner_for(args.workers, getattr(args, "ray", None))
        with bar:
            report = explore(args.scenario, args.strategy, args.schedules, args.seed, options, runner,
                             stop_first=not args.all, progress=progress)
    except (ValueError, ImportError) as e:
        print(f"condis explore: {e}", file=sys.stderr)
        return 2
    elapsed = time.monotonic() - start
    extra = f"; {report.executed} run in all" if report.executed != report.ran else ""
    rate = f", {report.executed / elapsed:.0f}/s" if elapsed > 0 else ""
    print(f"{report.ran} schedule(s) of {args.scenario} ({args.strategy}) in {elapsed:.1f} s{rate}{extra}: "
          f"{len(report.failures) or 'no'} failing", file=sys.stderr)
    if report.coverage is not None:
        from condis.coverage import write
        write(report.coverage, coverage or None)
    saved: list[tuple[str, Schedule]] = []
    if report.failures and args.all:
        saved = _save_groups(report.failures, args.output, not args.no_shrink)
    elif report.failures:
        first = report.failures[0]
        print(f"first failure after {report.first_failure_at} schedule(s): {first.failure}")
        if not args.no_shrink:
            first = _shrunk(first)
        first.save(args.output)
        saved.append((args.output, first))
        print(f"failing schedule: {args.output}  (condis replay {args.output})")
    if getattr(args, "junit", None):
        _explore_junit(args.junit, args, report.ran, elapsed, saved)
        print(f"junit: {args.junit}")
    return 1 if report.failures else 0


def _shrunk(schedule: Schedule) -> Schedule:
    found = len(schedule.choices), schedule.decisions
    with Progress("shrinking", None, "replay(s)", every=50) as shrinking:
        small = shrink(schedule, progress=shrinking.update)
    print(f"shrunk from {found[0]} choices ({found[1]} non-default) to {len(small.choices)} "
          f"({small.decisions} non-default), {len(small.faults)} fault(s)", file=sys.stderr)
    return small


def _save_groups(failures: list[Schedule], output: str, shrinking: bool) -> list[tuple[str, Schedule]]:
    """``--all``: one schedule file per distinct failure (rule and driver code), the lowest seed's."""
    groups: dict[tuple[str, str, str], list[Schedule]] = {}
    for schedule in failures:
        assert schedule.failure is not None
        groups.setdefault(schedule.failure.place, []).append(schedule)
    print(f"{len(groups)} distinct failure(s) in {len(failures)} failing schedule(s):")
    saved = []
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
        saved.append((path, first))
        seeds = ", ".join(str(s.seed) for s in same[:5]) + (", ..." if len(same) > 5 else "")
        print(f"      failing schedule: {path}  (seeds {seeds})")
    return saved


def _explore_junit(path: str, args: argparse.Namespace, ran: int, elapsed: float,
                   saved: list[tuple[str, Schedule]]) -> None:
    """One test case for the exploration, failed if any schedule failed, and one per failing schedule."""
    name = f"{args.scenario} ({args.strategy}, {ran} schedules)"
    cases = [Case(name, "condis.explore", elapsed,
                  f"{len(saved)} failing schedule(s): {saved[0][1].failure}" if saved else None,
                  "\n".join(f"{p}: {s.failure}" for p, s in saved))]
    for p, schedule in saved:
        cases.append(Case(f"{args.scenario}: {p}", "condis.explore.schedule", 0.0, str(schedule.failure),
                          f"{schedule.failure}\n\nrerun it with: condis replay {p}"))
    write_junit(path, f"condis explore {args.scenario}", cases)


def replay_asan(path: str) -> int:
    """``condis replay --asan``: the same replay in a new process with AddressSanitizer's runtime
    preloaded and the scenario's C drivers rebuilt with it (CONDIS_ASAN=1), so a bad access is
    reported with its file and line instead of crashing."""
    import os
    import subprocess

    from condis.cdriver.build import BuildError, asan_runtime
    try:
        runtime = asan_runtime()
    except BuildError as e:
        print(f"condis replay --asan: {e.output}", file=sys.stderr)
        return 2
    # CONDIS_ASAN: the child builds and loads the drivers' ASan images, and replays in its own process
    env = {**os.environ, "LD_PRELOAD": runtime, "CONDIS_ASAN": "1",
           "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "detect_leaks=0:halt_on_error=1")}
    proc = subprocess.run([sys.executable, "-m", "condis.cli", "replay", path], env=env)
    return proc.returncode if proc.returncode >= 0 else 1


def replay_command(args: argparse.Namespace) -> int:
    """``condis replay FILE``: rerun a schedule and draw it; write the trace in the formats asked for."""
    from condis.trace.files import chrome, mermaid, write_jsonl, wrong_kind
    from condis.trace.lanes import render
    path = args.file
    why = wrong_kind(path, "schedule") if Path(path).is_file() else None
    if why is not None:
        print(f"condis replay: {why}", file=sys.stderr)
        return 2
    try:
        schedule = Schedule.load(path)
    except (OSError, ValueError, KeyError) as e:
        print(f"condis replay: {e}", file=sys.stderr)
        return 2
    start = time.monotonic()
    faults = ", ".join(str(f) for f in schedule.faults) or "none"
    crashed = schedule.failure is not None and schedule.failure.kind == "crash" and not os.environ.get("CONDIS_ASAN")
    with Progress(f"replaying {schedule.scenario}", None, "trace records", every=100_000) as bar:
        recorder = _CountingRecorder(bar)
        # a schedule that crashed a driver replays where a crash takes only a child process down
        outcome = replay(schedule, isolate=True) if crashed else replay(schedule, tracer=recorder)
        bar.update(len(recorder.records))
    elapsed = time.monotonic() - start
    print(f"{schedule.scenario}: {len(schedule.choices)} choice(s), faults: {faults}")
    if crashed:
        print(f"(the schedule crashed a driver: replayed in a child process, with no trace; "
              f"condis replay --asan {path} shows the bad access)")
    else:
        print(render(recorder.records, f"replay of {path}", support=args.support))
    outputs = (("html", args.html), ("trace", args.trace), ("mermaid", args.mermaid), ("chrome", args.chrome))
    for kind, out in outputs:
        if not out:
            continue
        if kind == "trace":
            write_jsonl(recorder.records, out)
        else:
            if kind == "html":
                from condis.trace.html import render_html
                text = render_html(recorder.records, f"condis replay: {schedule.scenario}")
            elif kind == "mermaid":
                text = mermaid(recorder.records)
            else:
                text = json.dumps(chrome(recorder.records))
            Path(out).write_text(text, encoding="utf-8")
        print(f"{kind}: {out}")
    if args.junit:
        failure = str(outcome.failure) if outcome.failure is not None else None
        write_junit(args.junit, "condis replay", [Case(f"{schedule.scenario}: {path}", "condis.replay", elapsed,
                                                       failure, failure or "")])
        print(f"junit: {args.junit}")
    if outcome.failure is None:
        print("the schedule ran clean: it no longer fails (was the driver fixed?)")
        return 0
    print(f"FAILED: {outcome.failure}")
    if schedule.failure is not None and outcome.failure.signature != schedule.failure.signature:
        print(f"note: the file recorded a different failure: {schedule.failure}")
    return 1


class _CountingRecorder(Recorder):
    """A recorder that shows how far a long replay has come, every 4096 records."""

    def __init__(self, bar: Progress) -> None:
        super().__init__()
        self._bar = bar

    def _add(self, host: Any, kind: str, name: str, who: tuple[str, str] | None, args: str) -> Record:
        rec = super()._add(host, kind, name, who, args)
        if not rec.seq & 4095:
            self._bar.update(rec.seq)
        return rec
