"""What the explorer reports points at the driver's code; --all groups what it found by rule and
place; the counts agree whatever runs the schedules; a schedule file replays from anywhere."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

from condis.cli import main
from condis.explore import Job, JobResult, LocalRunner, ProcessRunner, Schedule, explore, replay, run_job
from condis.explore.execute import driver_frame

BUGGY = Path(__file__).parent / "buggy"
COLLISION = f"{BUGGY / 'mcm_collision.py'}:scenario"
DEFERRED = f"{BUGGY / 'client_deferred_close.py'}:scenario"


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_a_violation_names_the_driver_line_that_made_the_call():
    first = explore(COLLISION, schedules=50).failures[0]
    line = line_of(BUGGY / "mcm_collision.py", 'self.cm("DispatchIncomingCloseCall")')
    assert first.failure.where == f"{BUGGY / 'mcm_collision.py'}:{line} in _remote_release"
    # the call went through the sample MCM's helper; the place named is the user's line that called it
    assert "at tests/buggy/mcm_collision.py:" in str(first.failure) or str(BUGGY) in str(first.failure)


def test_replay_names_the_same_line(tmp_path, capsys):
    found = explore(DEFERRED, schedules=50).failures[0]
    path = tmp_path / "f.json"
    found.save(path)
    assert json.loads(path.read_text())["failure"]["where"] == found.failure.where
    assert main(["replay", str(path)]) == 1
    line = line_of(BUGGY / "client_deferred_close.py", "self.close(call)")
    assert f"client_deferred_close.py:{line} in acknowledge" in capsys.readouterr().out


def test_the_innermost_frame_outside_condis_is_the_drivers():
    def outer() -> None:
        from condis.drivers.client import AtmClient
        AtmClient.close(None, None)     # a sample driver's method, called from here, fails inside
    try:
        outer()
    except AttributeError as e:
        where = driver_frame(e.__traceback__)
    assert where.startswith(f"{Path(__file__).resolve()}:") and where.endswith(" in outer")


def test_all_writes_one_file_per_distinct_rule_and_place(tmp_path, capsys):
    out = tmp_path / "found.json"
    assert main(["explore", DEFERRED, "-n", "200", "--all", "--no-shrink", "-o", str(out)]) == 1
    text = capsys.readouterr().out
    assert "2 distinct failure(s) in 28 failing schedule(s):" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["found-2.json", "found.json"]
    rules = {json.loads(p.read_text())["failure"]["rule"] for p in tmp_path.iterdir()}
    assert rules == {"condis.CallState", "condis.BadHandle"}
    assert "10x violation condis.CallState at" in text and "18x violation condis.BadHandle at" in text


class Reversed:
    """A runner that hands back results in the opposite order of the jobs, as a busy cluster may."""

    def __init__(self) -> None:
        self.ran = 0

    def map(self, jobs: Iterable[Job]) -> Iterator[JobResult]:
        results = [run_job(job) for job in jobs]
        self.ran = sum(r.ran for r in results)
        yield from reversed(results)


def outline(report) -> tuple:
    return (report.ran, report.first_failure_at, [(s.seed, s.failure.place, s.choices) for s in report.failures])


def test_the_same_seeds_give_the_same_findings_on_every_runner():
    local = explore(DEFERRED, schedules=200, runner=LocalRunner(), batch=5)
    late = Reversed()
    reversed_ = explore(DEFERRED, schedules=200, runner=late, batch=5)
    workers = explore(DEFERRED, schedules=200, runner=ProcessRunner(2), batch=5)
    assert outline(local) == outline(reversed_) == outline(workers)
    assert local.ran == local.first_failure_at == 4
    # the reversed runner ran every job, and the failure of the last one came back first
    assert late.ran > 4 and reversed_.executed == late.ran + 1     # and the default order first
    every = [explore(DEFERRED, schedules=120, runner=r, batch=7, stop_first=False)
             for r in (LocalRunner(), Reversed(), ProcessRunner(2))]
    assert outline(every[0]) == outline(every[1]) == outline(every[2])
    assert every[0].ran == 120 and len(every[0].failures) > 10


def test_the_printed_counts_agree_with_workers(capsys):
    assert main(["explore", DEFERRED, "-n", "200", "--workers", "2", "--no-shrink", "-o", "/dev/null"]) == 1
    captured = capsys.readouterr()
    # progress lines first (plain ones, off a terminal), then the summary
    summary = captured.err.strip().splitlines()[-1]
    assert summary.startswith("4 schedule(s) of ") and ": 1 failing" in summary
    assert "first failure after 4 schedule(s)" in captured.out


def test_a_schedule_replays_from_another_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(Path(__file__).parent.parent)
    found = explore("tests/buggy/mcm_collision.py:scenario", schedules=50).failures[0]
    path = tmp_path / "f.json"
    found.save(path)
    saved = json.loads(path.read_text())
    assert saved["scenario"] == COLLISION.replace(str(BUGGY), str(BUGGY.resolve()))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert replay(Schedule.load(path)).failure == found.failure


def test_a_schedule_moved_with_its_scenario_finds_it_beside_itself(tmp_path, monkeypatch):
    tree = tmp_path / "one"
    (tree / "schedules").mkdir(parents=True)
    shutil.copy(BUGGY / "mcm_collision.py", tree / "bug.py")
    found = explore(f"{tree / 'bug.py'}:scenario", schedules=50).failures[0]
    found.save(tree / "schedules" / "f.json")
    assert json.loads((tree / "schedules" / "f.json").read_text())["scenario_from_file"] == "../bug.py:scenario"
    moved = tmp_path / "two"
    tree.rename(moved)
    monkeypatch.chdir(tmp_path)
    loaded = Schedule.load(moved / "schedules" / "f.json")
    assert loaded.scenario == f"{(moved / 'bug.py').resolve()}:scenario"
    again = replay(loaded).failure
    assert (again.kind, again.rule) == (found.failure.kind, found.failure.rule)
    assert again.where.startswith(f"{(moved / 'bug.py').resolve()}:")
