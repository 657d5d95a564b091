"""``condis explore`` and ``condis replay``."""

from __future__ import annotations

import argparse
import sys
import time

from condis.explore.faults import SITES
from condis.explore.runner import LocalRunner, Options, ProcessRunner, Runner, explore
from condis.explore.scenarios import BUILTIN
from condis.explore.schedule import Schedule
from condis.explore.shrink import replay, shrink


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
    options = Options(window_ns=args.window, depth=args.depth, bound=args.bound, fault_sites=sites,
                      fault_rate=args.fault_rate)
    runner: Runner = ProcessRunner(args.workers) if args.workers > 1 else LocalRunner()
    start = time.monotonic()
    try:
        report = explore(args.scenario, args.strategy, args.schedules, args.seed, options, runner,
                         stop_first=not args.all, progress=_progress)
    except (ValueError, ImportError) as e:
        print(f"\ncondis explore: {e}", file=sys.stderr)
        return 2
    elapsed = time.monotonic() - start
    print(f"\r{report.ran} schedule(s) of {args.scenario} ({args.strategy}) in {elapsed:.1f} s"
          f"{f', {report.ran / elapsed:.0f}/s' if elapsed > 0 else ''}: "
          f"{len(report.failures) or 'no'} failing" + " " * 20, file=sys.stderr)
    if not report.failures:
        return 0
    first = report.failures[0]
    print(f"first failure after {report.first_failure_at} schedule(s): {first.failure}")
    if not args.no_shrink:
        found = len(first.choices), first.decisions
        first = shrink(first, progress=lambda n: print(f"\rshrinking: {n} replay(s)", end="", file=sys.stderr))
        print(f"\rshrunk from {found[0]} choices ({found[1]} non-default) to {len(first.choices)} "
              f"({first.decisions} non-default), {len(first.faults)} fault(s)" + " " * 10, file=sys.stderr)
    first.save(args.output)
    print(f"failing schedule: {args.output}  (condis replay {args.output})")
    for i, other in enumerate(report.failures[1:], 2):
        path = args.output.replace(".json", f"-{i}.json") if args.output.endswith(".json") else f"{args.output}-{i}"
        other.save(path)
        print(f"failing schedule: {path}  ({other.failure})")
    return 1


def _progress(ran: int, total: int, failures: int) -> None:
    width = 30
    done = width * ran // max(total, 1)
    print(f"\r[{'#' * done}{'.' * (width - done)}] {ran}/{total} schedules, {failures} failing", end="",
          file=sys.stderr)


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
    env = {**os.environ, "LD_PRELOAD": runtime, "CONDIS_ASAN": "1",
           "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "detect_leaks=0:halt_on_error=1")}
    proc = subprocess.run([sys.executable, "-m", "condis.cli", "replay", "--in-process", path], env=env)
    return proc.returncode if proc.returncode >= 0 else 1


def replay_command(path: str, html_path: str | None, support: bool, in_process: bool = False) -> int:
    from condis.trace.lanes import render
    from condis.trace.recorder import Recorder
    try:
        schedule = Schedule.load(path)
    except (OSError, ValueError, KeyError) as e:
        print(f"condis replay: {e}", file=sys.stderr)
        return 2
    recorder = Recorder()
    faults = ", ".join(str(f) for f in schedule.faults) or "none"
    print(f"{schedule.scenario}: {len(schedule.choices)} choice(s), faults: {faults}")
    if schedule.failure is not None and schedule.failure.kind == "crash" and not in_process:
        # the driver crashed the explorer's child: replay where a crash takes only a child down
        outcome = replay(schedule, isolate=True)
        print(f"(the schedule crashed a driver: replayed in a child process, with no trace; run "
              f"condis replay --asan {path} to see the bad access)")
    else:
        outcome = replay(schedule, tracer=recorder)
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
