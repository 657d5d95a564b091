"""``condis explore`` and ``condis replay`` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from condis.cli import main

BUG = str(Path(__file__).parent / "buggy" / "mcm_collision.py") + ":scenario"


def test_list_names_the_built_in_scenarios(capsys):
    assert main(["explore", "--list"]) == 0
    out = capsys.readouterr().out
    for name in ("mcm/call", "cm/close-race", "mcm/af-withdraw", "cm/drop-party-race", "mcm/hangup-while-connecting"):
        assert name in out


def test_explore_writes_a_minimal_schedule_and_replay_reproduces_it(tmp_path, capsys):
    out = tmp_path / "failure.json"
    assert main(["explore", BUG, "-n", "200", "-o", str(out)]) == 1
    text = capsys.readouterr().out
    assert "first failure after 2 schedule(s): violation condis.CallState" in text
    saved = json.loads(out.read_text())
    assert saved["format"] == "condis-schedule/1" and saved["scenario"] == BUG
    assert saved["failure"]["rule"] == "condis.CallState"
    page = tmp_path / "failure.html"
    assert main(["replay", str(out), "--html", str(page)]) == 1
    shown = capsys.readouterr().out
    assert "NdisMCmDispatchIncomingCloseCall" in shown and "!! NdisMCmDispatchIncomingCloseCall" in shown
    assert "FAILED: violation condis.CallState" in shown
    assert "VIOLATION condis.CallState" in page.read_text()


def test_a_clean_exploration_exits_zero(capsys):
    assert main(["explore", "mcm/close-race", "-n", "50", "--strategy", "pct"]) == 0
    assert "50 schedule(s) of mcm/close-race (pct)" in capsys.readouterr().err


def test_unknown_scenarios_and_fault_sites_are_refused(capsys):
    assert main(["explore", "no-such-scenario"]) == 2
    assert main(["explore", "mcm/call", "--faults", "cosmic-rays"]) == 2
    err = capsys.readouterr().err
    assert "built-in name" in err and "cosmic-rays" in err
