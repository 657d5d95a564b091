"""The ``condis`` command in a terminal and in a CI log: pages users can open, help for every option,
results on standard output and progress on standard error, pipes, JUnit reports, files of the
wrong kind."""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

from condis._ddi_table import FUNCTIONS
from condis.cli import build_parser, main
from condis.errors import cite, page_link
from condis.output import Case, Progress, junit_xml, table
from condis.rules import RULES

ROOT = Path(__file__).resolve().parent.parent
BUG = str(ROOT / "tests" / "buggy" / "mcm_collision.py") + ":scenario"
SEED_URL = "https://learn.microsoft.com/windows-hardware/drivers/ddi/ndis/nf-ndis-ndismcmclosecallcomplete"


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    [sub] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def test_every_subcommand_has_a_description_and_every_option_help():
    commands = _subcommands(build_parser())
    assert set(commands) == {"demo", "trace", "explore", "replay", "bench", "rules", "ddi", "cc", "coverage"}
    for name, parser in commands.items():
        assert parser.description, name
        for action in parser._actions:
            assert action.help and action.help != argparse.SUPPRESS, f"condis {name} {action.dest}"


def test_rules_lists_each_rule_with_its_page_title_and_address(capsys):
    assert main(["rules"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "rule\twhat it catches\tpage\taddress"
    rows = {line.split("\t")[0]: line.split("\t") for line in lines[1:]}
    assert set(rows) == set(RULES)
    assert rows["condis.CompleteWithoutPending"][2:] == list(page_link(RULES["condis.CompleteWithoutPending"].page))
    assert all(row[3].startswith("https://learn.microsoft.com/") for row in rows.values())
    assert not any("seed/" in line or ".md" in line for line in lines)


def test_an_irql_rule_lists_its_functions_with_the_irql_each_allows(capsys):
    assert main(["rules", "Irql_MCM_Function"]) == 0
    out = capsys.readouterr().out
    covered = sorted(n for n, row in FUNCTIONS.items() if "Irql_MCM_Function" in row[1])
    assert f"  functions it covers ({len(covered)}, with the IRQL each allows):\n" in out
    width = max(map(len, covered))
    for name in covered:
        assert f"    {name:<{width}}  {FUNCTIONS[name][0]}\n" in out
    assert f"    {'NdisMCmCloseCallComplete':<{width}}  <= DISPATCH_LEVEL\n" in out


def test_a_rule_the_index_names_lists_the_functions_it_covers(capsys):
    assert main(["rules", "SpinLockBalanced"]) == 0
    out = capsys.readouterr().out
    assert "  functions it covers (4):\n    NdisAcquireSpinLock\n" in out


def test_a_condis_rule_says_the_index_names_no_functions_for_it(capsys):
    assert main(["rules", "condis.CallState"]) == 0
    out = capsys.readouterr().out
    assert "  functions: the DDI index names functions for Static Driver Verifier rules only" in out
    assert "functions it covers" not in out


def test_an_unknown_rule_suggests_the_nearest_ones(capsys):
    assert main(["rules", "condis.CalState"]) == 2
    err = capsys.readouterr().err
    assert "no rule 'condis.CalState'; did you mean condis.CallState" in err
    assert main(["rules", "irql_mcm_functon"]) == 2
    assert "did you mean Irql_MCM_Function" in capsys.readouterr().err


def test_ddi_lists_every_function_with_its_irql(capsys):
    assert main(["ddi"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "function\tIRQL\tcompliance rules\tpage"
    rows = {line.split("\t")[0]: line.split("\t") for line in lines[1:]}
    assert set(rows) == set(FUNCTIONS)
    assert rows["NdisMCmCloseCallComplete"] == ["NdisMCmCloseCallComplete", "<= DISPATCH_LEVEL",
                                                "Irql_MCM_Function", SEED_URL]
    assert main(["ddi", "--irql", "OpenAddressFamily"]) == 0
    assert capsys.readouterr().out.splitlines() == [      # sorted by IRQL, PASSIVE_LEVEL first
        "name\tIRQL", "NdisClOpenAddressFamilyEx\tPASSIVE_LEVEL", "NdisCmOpenAddressFamilyComplete\t<= DISPATCH_LEVEL",
        "NdisMCmOpenAddressFamilyComplete\t<= DISPATCH_LEVEL"]
    assert main(["ddi", "--callbacks", "ProtocolCmCloseCall"]) == 0
    assert "ProtocolCmCloseCall\t" in capsys.readouterr().out
    assert main(["ddi", "NoSuchFunction"]) == 2


def test_a_pipe_closed_early_ends_quietly():
    # the demo writes more than a pipe holds, so the write after head exits fails every time
    cmd = f"{sys.executable} -m condis demo | head -2; echo rc=${{PIPESTATUS[0]}} >&2"
    done = subprocess.run(["bash", "-c", cmd], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.stdout.splitlines()[1].startswith("══ MCM: client | NDIS | MCM on each host")
    assert done.stderr == "rc=141\n"          # no traceback, no "Exception ignored"


def test_demo_with_the_verifier_off_runs_like_the_other_modes(capsys, tmp_path):
    junit = tmp_path / "demo.xml"
    assert main(["demo", "--verify", "off", "--junit", str(junit)]) == 0
    out = capsys.readouterr().out
    assert out.count("teardown: every driver unloaded on both hosts; condis verifier: no violations") == 2
    suite = ET.parse(junit).getroot().find("testsuite")
    assert (suite.get("tests"), suite.get("failures")) == ("2", "0")
    assert [c.get("name") for c in suite] == ["Through the MCM", "Through the stand-alone call manager and miniport"]


def test_explore_junit_fails_a_case_per_failing_schedule(tmp_path, capsys):
    out, junit = tmp_path / "f.json", tmp_path / "explore.xml"
    assert main(["explore", BUG, "-n", "200", "-o", str(out), "--junit", str(junit)]) == 1
    captured = capsys.readouterr()
    assert "junit:" in captured.out and "exploring " in captured.err and "shrunk from" in captured.err
    assert "exploring" not in captured.out and "shrunk" not in captured.out     # progress on stderr only
    suite = ET.parse(junit).getroot().find("testsuite")
    assert (suite.get("tests"), suite.get("failures")) == ("2", "2")
    explored, schedule = list(suite)
    assert explored.find("failure").get("message").startswith("1 failing schedule(s): violation condis.CallState")
    assert schedule.get("name") == f"{BUG}: {out}"
    assert f"condis replay {out}" in schedule.find("failure").text
    assert f"see {cite(RULES['condis.CallState'].page)}" in schedule.find("failure").get("message")


def test_a_clean_exploration_passes_its_junit_case(tmp_path, capsys):
    junit = tmp_path / "clean.xml"
    assert main(["explore", "mcm/close-race", "-n", "40", "--junit", str(junit)]) == 0
    err = capsys.readouterr().err
    # not a terminal: plain progress lines, the last one at the end
    assert "exploring mcm/close-race (random): 40/40 schedules, 0 failing\n" in err and "\r" not in err
    [case] = ET.parse(junit).getroot().find("testsuite")
    assert case.get("name") == "mcm/close-race (random, 40 schedules)" and case.find("failure") is None


def test_replay_writes_trace_mermaid_chrome_and_junit(tmp_path, capsys):
    schedule = tmp_path / "f.json"
    assert main(["explore", BUG, "-n", "200", "-o", str(schedule)]) == 1
    files = {k: tmp_path / f"r.{k}" for k in ("jsonl", "mmd", "json", "xml")}
    assert main(["replay", str(schedule), "--trace", str(files["jsonl"]), "--mermaid", str(files["mmd"]),
                 "--chrome", str(files["json"]), "--junit", str(files["xml"])]) == 1
    out = capsys.readouterr().out
    for kind, f in zip(("trace", "mermaid", "chrome", "junit"), files.values(), strict=True):
        assert f"{kind}: {f}\n" in out
    assert main(["trace", "show", str(files["jsonl"])]) == 0
    assert "!! NdisMCmDispatchIncomingCloseCall" in capsys.readouterr().out
    assert files["mmd"].read_text().startswith("sequenceDiagram\n")
    [violation] = [e for e in json.loads(files["json"].read_text())["traceEvents"] if e.get("cat") == "violation"]
    assert (violation["args"]["page"], violation["args"]["url"]) == page_link(RULES["condis.CallState"].page)
    [case] = ET.parse(files["xml"]).getroot().find("testsuite")
    assert case.find("failure").get("message").startswith("violation condis.CallState")


def test_a_file_of_the_other_kind_is_named_with_what_opens_it(tmp_path, capsys):
    schedule, trace = tmp_path / "f.json", tmp_path / "t.jsonl"
    assert main(["explore", BUG, "-n", "200", "-o", str(schedule)]) == 1
    assert main(["demo", "--only", "mcm", "--trace", str(trace)]) == 0
    capsys.readouterr()
    assert main(["trace", "show", str(schedule)]) == 2
    assert capsys.readouterr().err == (f"condis trace: {schedule} is a condis schedule file, not a condis trace "
                                       f"(JSON Lines); open it with condis replay {schedule}\n")
    mcm = tmp_path / "t-mcm.jsonl"
    assert main(["replay", str(mcm)]) == 2
    assert capsys.readouterr().err == (f"condis replay: {mcm} is a condis trace (JSON Lines), not a condis "
                                       f"schedule file; open it with condis trace show|html|mermaid|chrome {mcm}\n")
    assert main(["trace", "html", str(tmp_path / "missing.jsonl")]) == 2
    assert "no file" in capsys.readouterr().err


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_a_bar_on_a_terminal_and_plain_lines_elsewhere():
    log = io.StringIO()
    with Progress("work", 50, "items", stream=log) as bar:
        for i in range(1, 51):
            bar.update(i, f"{i % 3} odd")
    assert log.getvalue().splitlines() == [f"work: {n}/50 items, {n % 3} odd" for n in range(5, 51, 5)]
    log = io.StringIO()
    with Progress("search", None, "runs", every=4, stream=log) as bar:
        for i in range(1, 11):
            bar.update(i)
    assert log.getvalue().splitlines() == ["search: 4 runs", "search: 8 runs", "search: 10 runs"]
    tty = _Tty()
    with Progress("work", 50, "items", stream=tty) as bar:
        bar.update(25)
    assert "\x1b[" in tty.getvalue() and "work" in tty.getvalue()      # drawn by rich, with escape codes


def test_tables_are_tab_separated_off_a_terminal_and_drawn_on_one():
    log = io.StringIO()
    table(("a", "b"), [("1", "2")], stream=log)
    assert log.getvalue() == "a\tb\n1\t2\n"
    tty = _Tty()
    table(("a", "page"), [("[rule]", "https://learn.microsoft.com/x")], stream=tty)
    drawn = tty.getvalue()
    assert "┃" in drawn and "[rule]" in drawn                        # drawn, and text is not markup
    assert "\x1b]8;" in drawn and ";https://learn.microsoft.com/x\x1b\\" in drawn     # a terminal hyperlink


def test_junit_xml_counts_failures_and_escapes_text():
    text = junit_xml("suite", [Case("ok", "c", 0.5), Case("bad <one>", "c", 0.25, "broke & stopped", "body")])
    root = ET.fromstring(text)
    suite = root.find("testsuite")
    assert (root.get("tests"), root.get("failures"), suite.get("time")) == ("2", "1", "0.750")
    ok, bad = list(suite)
    assert ok.find("failure") is None and bad.get("name") == "bad <one>"
    assert (bad.find("failure").get("message"), bad.find("failure").text) == ("broke & stopped", "body")


def test_a_demo_stopped_by_a_violation_fails_its_junit_case(tmp_path, capsys, monkeypatch):
    import condis.demo
    from condis.errors import Violation
    real = condis.demo.run_demo

    def run_demo(kinds, verify):
        if kinds == ("cm",):
            raise Violation("condis.CallState", "guide/making-a-call.md", "NdisClMakeCall", "[A] VC 0xd is CONNECTED")
        return real(out=print, kinds=kinds, verify=verify)
    monkeypatch.setattr(condis.demo, "run_demo", run_demo)
    junit = tmp_path / "demo.xml"
    assert main(["demo", "--junit", str(junit)]) == 1
    err = capsys.readouterr().err
    assert err == ("condis demo: NdisClMakeCall: [A] VC 0xd is CONNECTED [rule condis.CallState] see Making a Call: "
                   "https://learn.microsoft.com/windows-hardware/drivers/network/making-a-call\n")
    mcm, cm = ET.parse(junit).getroot().find("testsuite")
    assert mcm.find("failure") is None
    assert cm.find("failure").get("message").startswith("1 violation(s): NdisClMakeCall: [A] VC 0xd is CONNECTED")
