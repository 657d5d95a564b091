"""The explorer on C drivers: schedules replay exactly, and a C driver that crashes takes only a
child process down; its schedule is saved, replays to the crash, and replays under AddressSanitizer."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from condis.explore.runner import Options, ProcessRunner, explore
from condis.explore.schedule import Schedule
from condis.explore.shrink import replay

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = Path(__file__).resolve().parent / "scenarios.py"


def test_a_scenario_with_a_c_driver_explores_clean():
    report = explore(f"{SCENARIOS}:echo_call", "random", schedules=60, seed=1)
    assert report.ran == 60
    assert report.failures == []


def test_schedules_with_a_c_driver_replay_exactly():
    report = explore(f"{SCENARIOS}:echo_call", "pct", schedules=10, seed=3, stop_first=False)
    assert report.failures == []
    # a replayed schedule makes the same choices as the run it came from
    from condis.explore.execute import execute
    from condis.explore.runner import chooser_for
    from condis.explore.scenario import resolve
    fn = resolve(f"{SCENARIOS}:echo_call")
    options = Options(steps=8)
    first = execute(fn, chooser_for("pct", 5, options))
    again = replay(Schedule(f"{SCENARIOS}:echo_call", first.choices, [], options.window_ns), fn)
    assert again.choices[:len(first.choices)] == first.choices and again.steps == first.steps


def test_a_crashing_c_driver_is_a_failure_not_the_end_of_the_explorer(tmp_path):
    options = Options(fault_sites=("frame",), fault_rate=0.3)
    report = explore(f"{SCENARIOS}:echo_crash", "random", schedules=200, seed=0, options=options)
    assert report.failures, "no schedule duplicated the data frame"
    failure = report.failures[0]
    assert failure.failure.kind == "crash" and failure.failure.rule == "SIGSEGV"
    assert any(f.site == "frame" for f in failure.faults)
    path = tmp_path / "crash.json"
    failure.save(str(path))
    # the saved schedule crashes again, in a child, at the same point
    again = replay(Schedule.load(str(path)), isolate=True)
    assert again.failure is not None and again.failure.signature == ("crash", "SIGSEGV")
    # and condis replay says so, from another working directory
    proc = subprocess.run([sys.executable, "-m", "condis.cli", "replay", str(path)], cwd=tmp_path,
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 1
    assert "crash SIGSEGV" in proc.stdout


def test_workers_find_the_same_crash():
    options = Options(fault_sites=("frame",), fault_rate=0.3)
    alone = explore(f"{SCENARIOS}:echo_crash", "random", schedules=200, seed=0, options=options)
    spread = explore(f"{SCENARIOS}:echo_crash", "random", schedules=200, seed=0, options=options,
                     runner=ProcessRunner(2))
    assert alone.failures and alone.failures[0].failure.kind == "crash"
    assert [f.seed for f in alone.failures] == [f.seed for f in spread.failures]


def test_replay_asan_names_the_bad_access_with_its_line(tmp_path):
    options = Options(fault_sites=("frame",), fault_rate=0.3)
    report = explore(f"{SCENARIOS}:echo_crash", "random", schedules=200, seed=0, options=options)
    path = tmp_path / "crash.json"
    report.failures[0].save(str(path))
    proc = subprocess.run([sys.executable, "-m", "condis.cli", "replay", "--asan", str(path)], cwd=tmp_path,
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "AddressSanitizer" in text
    source = (ROOT / "condis" / "cdriver" / "samples" / "echo" / "echo_client.c").read_text().splitlines()
    line = next(n for n, t in enumerate(source, 1) if "*(volatile LONG *)(ULONG_PTR)vc->Echoed = 0;" in t)
    assert f"echo_client.c:{line}" in text
