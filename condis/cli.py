"""The ``condis`` command.

Results go to standard output and progress to standard error (see :mod:`condis.output`), so
``condis ... > out.txt`` and ``condis ... | head`` keep only results.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from condis import __version__

_FORMATTER = argparse.HelpFormatter
_TITLES = {"mcm": "Through the MCM", "cm": "Through the stand-alone call manager and miniport"}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="condis", formatter_class=_FORMATTER,
        description="CoNDIS call management, executable in Python: run the demo, draw traces, explore "
                    "schedules for races, list the rules and DDIs condis checks.",
        epilog="`condis COMMAND --help` describes each command.")
    parser.add_argument("--version", action="version", version=f"condis {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, summary: str, description: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=summary, description=description, formatter_class=_FORMATTER)

    demo = command("demo", "two hosts: calls placed, answered, carrying data and closed, drawn in lanes",
                   "Two hosts on one wire: A calls B, data goes both ways, each side closes one call; once "
                   "through the sample MCM, once through the stand-alone call manager over a CoNDIS miniport. "
                   "The steps are drawn in lanes like the guide's figures.")
    demo.add_argument("--only", choices=("mcm", "cm"), help="run one configuration only (default: both)")
    demo.add_argument("--verify", choices=("strict", "record", "off"), default="strict",
                      help="strict: stop at the first violation (default); record: refuse it, collect it and go "
                           "on; off: only the checks NDIS's routing needs")
    demo.add_argument("--html", metavar="FILE.html", help="also write the run as a design-review HTML page")
    demo.add_argument("--trace", metavar="FILE.jsonl",
                      help="also record each configuration's run (FILE-mcm.jsonl, FILE-cm.jsonl)")
    demo.add_argument("--report", metavar="FILE.json", help="also write the verifier's findings as JSON")
    demo.add_argument("--junit", metavar="FILE.xml",
                      help="also write a JUnit report: one test case per configuration, failed by its violations")

    trace = command("trace", "draw a recorded trace (condis demo --trace, condis replay --trace)",
                    "Draw a trace saved as JSON Lines: in terminal lanes (show), as a Mermaid sequence "
                    "diagram, as the design-review HTML page, or in the Chrome trace-event format (open it in "
                    "Perfetto: https://ui.perfetto.dev).")
    trace.add_argument("format", choices=("show", "mermaid", "html", "chrome"), help="what to draw")
    trace.add_argument("file", help="a trace file written by condis (JSON Lines)")
    trace.add_argument("-o", "--output", metavar="FILE", help="write here instead of standard output")
    trace.add_argument("--support", action="store_true",
                       help="show: draw spin locks, work items, timers and NBLs too")

    explore = command("explore", "run a scenario under many schedules and faults; save the failing one",
                      "Run a scenario under many schedules (and, if asked, faults) until one breaks a rule or "
                      "its check; shrink that schedule and save it for `condis replay`. Exit status: 0 clean, "
                      "1 a failing schedule found, 2 bad arguments.")
    explore.add_argument("scenario", nargs="?", help="a built-in name (--list), module:function or file.py:function")
    explore.add_argument("--list", action="store_true", help="list the built-in scenarios")
    explore.add_argument("--strategy", choices=("random", "pct", "exhaustive"), default="random",
                         help="random walk (default), PCT (bugs of a given depth), or exhaustive search")
    explore.add_argument("-n", "--schedules", type=int, default=1000, help="how many schedules at most (1000)")
    explore.add_argument("--seed", type=int, default=0, help="first seed of random and pct (0)")
    explore.add_argument("--depth", type=int, default=3, help="pct: the bug depth (3)")
    explore.add_argument("--bound", type=int, default=64, help="exhaustive: decision points expanded per run (64)")
    explore.add_argument("--window", type=int, default=20_000, metavar="NS",
                         help="events due within NS of the earliest compete (20000: twice the wire's latency)")
    explore.add_argument("--faults", default="", metavar="SITES",
                         help="inject faults at random: comma-separated frame, alloc, activate")
    explore.add_argument("--fault-rate", type=float, default=0.05, help="chance of a fault at each site (0.05)")
    explore.add_argument("--workers", type=int, default=1, help="spread random and pct schedules over N processes")
    explore.add_argument("--all", action="store_true", help="collect every failing schedule instead of stopping")
    explore.add_argument("--no-shrink", action="store_true", help="save the failing schedule as found")
    explore.add_argument("-o", "--output", default="condis-failure.json", help="where to write the failing schedule")
    explore.add_argument("--junit", metavar="FILE.xml",
                         help="also write a JUnit report: the exploration, and each failing schedule, as test cases")

    replay = command("replay", "rerun a saved schedule exactly and draw its trace",
                     "Rerun a schedule file written by `condis explore`: its choices, then the default order, "
                     "with its faults. Draws the run in lanes and says whether it still fails. Exit status: 0 "
                     "clean, 1 it fails, 2 bad arguments.")
    replay.add_argument("file", help="a schedule file written by condis explore")
    replay.add_argument("--support", action="store_true", help="draw spin locks, work items, timers and NBLs too")
    replay.add_argument("--html", metavar="FILE.html", help="also write the run as a design-review HTML page")
    replay.add_argument("--trace", metavar="FILE.jsonl", help="also save the run as a trace (condis trace ...)")
    replay.add_argument("--mermaid", metavar="FILE.mmd", help="also write the run as a Mermaid sequence diagram")
    replay.add_argument("--chrome", metavar="FILE.json",
                        help="also write the run in the Chrome trace-event format (Perfetto)")
    replay.add_argument("--junit", metavar="FILE.xml", help="also write a JUnit report of the replay")
    replay.add_argument("--asan", action="store_true",
                        help="rerun with AddressSanitizer: a C driver's bad access is shown with its file and line")

    bench = command("bench", "measure what a call costs (run it on one core: taskset -c 0)",
                    "Measure call lifecycles per second, the send path's cost through NDIS, memory per call and "
                    "explorer throughput; prints a table on standard output.")
    bench.add_argument("--quick", action="store_true", help="small sizes: checks the benchmarks still run")
    bench.add_argument("--json", metavar="FILE", help="also write the results as JSON")

    rules = command("rules", "the rules condis enforces, each with the page that states it",
                    "Without an id: every rule with its summary and documentation page. With one: the rule, "
                    "its page, the functions it covers (with the IRQL each allows, for an IRQL rule) and where "
                    "the pages state it.")
    rules.add_argument("rule", nargs="?", help="one rule id to explain, e.g. condis.CallState or Irql_MCM_Function")

    ddi = command("ddi", "every DDI condis implements, with the IRQL its page allows",
                  "Every function of the DDI index (and with --callbacks every handler) with the IRQL its page "
                  "allows, its compliance rules and its documentation page.")
    ddi.add_argument("name", nargs="?", help="show only names containing this text (case-insensitive)")
    ddi.add_argument("--irql", action="store_true", help="only the name and IRQL columns, sorted by IRQL")
    ddi.add_argument("--callbacks", action="store_true", help="list the handlers (callbacks) instead of the functions")
    from condis.cdriver.cli import add_parser as add_cc
    from condis.explore.cli import register
    add_cc(sub)
    register(sub, explore)      # explore's --ray and --coverage, and the coverage command (args.handler)
    return parser


def main(argv: list[str] | None = None) -> int:
    from condis.cdriver.cli import split_extra
    argv, gcc_flags = split_extra(list(sys.argv[1:] if argv is None else argv))
    try:
        args = build_parser().parse_args(argv)
        args.gcc_flags = gcc_flags
        return _run(args)
    except BrokenPipeError:
        # The reader went away (condis rules | head): stop quietly, as other Unix tools do. Later writes,
        # Python's own flush at exit among them, go nowhere.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        return 141       # 128 + SIGPIPE, what a shell reports for a tool the pipe stopped
    except KeyboardInterrupt:
        print("condis: interrupted", file=sys.stderr)
        return 130


def _run(args: argparse.Namespace) -> int:
    if getattr(args, "handler", None) is not None:
        return args.handler(args)
    if args.command == "explore":
        from condis.explore.cli import explore_command
        return explore_command(args)
    if args.command == "replay":
        from condis.explore.cli import replay_asan, replay_command
        return replay_asan(args.file) if args.asan else replay_command(args)
    if args.command == "cc":
        from condis.cdriver.cli import cc_command
        return cc_command(args, args.gcc_flags)
    if args.command == "bench":
        from condis.bench import main as bench_main
        return bench_main(args.quick, args.json)
    if args.command == "rules":
        return _rules(args.rule)
    if args.command == "ddi":
        return _ddi(args.name, args.irql, args.callbacks)
    if args.command == "demo":
        return _demo(args)
    return _trace(args.format, args.file, args.output, args.support)


def _demo(args: argparse.Namespace) -> int:
    from condis.demo import run_demo
    from condis.errors import Violation
    kinds = (args.only,) if args.only else ("mcm", "cm")
    results, cases, failed = [], [], None
    for kind in kinds:
        start = time.monotonic()
        try:
            [result] = run_demo(kinds=(kind,), verify=args.verify)
        except Violation as v:
            failed = v
            cases.append(_demo_case(kind, time.monotonic() - start, [str(v)], str(v)))
            print(f"condis demo: {v}", file=sys.stderr)
            break
        results.append(result)
        found = [str(f.violation) for f in result.findings]
        cases.append(_demo_case(kind, time.monotonic() - start, found, result.text))
    if args.junit:
        from condis.output import write_junit
        write_junit(args.junit, "condis demo", cases)
        print(f"junit: {args.junit}")
    if args.report:
        import json
        found = [f.as_dict() for r in results for f in r.findings]
        with open(args.report, "w", encoding="utf-8") as f:
            json.dump({"mode": args.verify, "violations": found}, f, indent=2)
        print(f"report: {args.report} ({len(found)} violation(s))")
    if args.html:
        from condis.trace.html import render_html
        sections = [(_TITLES[k], r.recorder.records) for k, r in zip(kinds, results, strict=False)]
        with open(args.html, "w", encoding="utf-8") as f:
            f.write(render_html([], "condis demo: two hosts, calls placed, answered, carrying data, closed",
                                sections=sections))
        print(f"html: {args.html}")
    if args.trace:
        from pathlib import Path

        from condis.trace.files import write_jsonl
        base = Path(args.trace)
        for kind, result in zip(kinds, results, strict=False):
            path = base.with_name(f"{base.stem}-{kind}{base.suffix or '.jsonl'}")
            write_jsonl(result.recorder.records, path)
            print(f"trace: {path}")
    return 1 if failed is not None or any(r.findings for r in results) else 0


def _demo_case(kind: str, seconds: float, violations: list[str], text: str) -> object:
    from condis.output import Case
    failure = None
    if violations:
        failure = f"{len(violations)} violation(s): {violations[0]}"
    return Case(_TITLES[kind], "condis.demo", seconds, failure, "\n".join(violations) + "\n\n" + text)


def _trace(fmt: str, path: str, output: str | None, support: bool) -> int:
    import json

    from condis.trace.files import chrome, mermaid, read_jsonl, wrong_kind
    from condis.trace.lanes import render
    if not os.path.isfile(path):
        print(f"condis trace: no file {path}", file=sys.stderr)
        return 2
    why = wrong_kind(path, "trace")
    if why is not None:
        print(f"condis trace: {why}", file=sys.stderr)
        return 2
    try:
        records = read_jsonl(path)
    except (OSError, ValueError, KeyError) as e:
        print(f"condis trace: {path}: cannot be read ({e})", file=sys.stderr)
        return 2
    if fmt == "show":
        text = render(records, support=support)
    elif fmt == "mermaid":
        text = mermaid(records)
    elif fmt == "html":
        from condis.trace.html import render_html
        text = render_html(records, path)
    else:
        text = json.dumps(chrome(records))
    if output:
        with open(output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        print(text)
    return 0


def _rules(rule_id: str | None) -> int:
    from condis.errors import page_link
    from condis.output import table
    from condis.rules import RULES
    if rule_id is None:
        table(("rule", "what it catches", "page", "address"), [(r.id, r.summary, r.title, r.url) for r in RULES.values()])
        return 0
    rule = RULES.get(rule_id)
    if rule is None:
        import difflib
        by_lower = {r.lower(): r for r in RULES}
        near = difflib.get_close_matches(rule_id.lower(), by_lower, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(by_lower[n] for n in near)}?" if near else ""
        print(f"condis rules: no rule {rule_id!r}{hint} (`condis rules` lists them all)", file=sys.stderr)
        return 2
    print(f"{rule.id}\n  {rule.summary}\n  page: {rule.title}\n        {rule.url}")
    covered = _covered(rule.id)
    if covered:
        irql = rule.id.startswith("Irql_")
        print(f"  functions it covers ({len(covered)}" + (", with the IRQL each allows):" if irql else "):"))
        width = max(len(name) for name, _ in covered)
        for name, level in covered:
            print(f"    {name:<{width}}  {level}" if irql else f"    {name}")
        if irql:
            print("  a violation names the function's own page, where its IRQL is written")
    else:
        print("  functions: the DDI index names functions for Static Driver Verifier rules only; "
              "the pages below say where this one applies")
    from condis.verifier import statements
    rows = statements(rule.id)
    if rows:
        print(f"  the pages state it {len(rows)} time(s):")
        for page, note in rows:
            title, url = page_link(page)
            print(f"    {title} ({url}):\n      {note}")
    return 0


def _covered(rule: str) -> list[tuple[str, str]]:
    """(function, the IRQL its page allows) of every function ``rule`` covers: for an IRQL rule the
    functions whose IRQL family it is, else those ddi-index.tsv lists under it."""
    from condis._ddi_table import FUNCTIONS
    from condis.ndis.core import irql_rule
    if rule.startswith("Irql_"):
        names = [n for n in FUNCTIONS if irql_rule(n) == rule]
    else:
        names = [n for n, row in FUNCTIONS.items() if rule in row[1]]
    return [(n, FUNCTIONS[n][0]) for n in sorted(names)]


_IRQL_ORDER = ("PASSIVE_LEVEL", "DISPATCH_LEVEL", "<= DISPATCH_LEVEL")


def _ddi(name: str | None, irql_only: bool, callbacks: bool) -> int:
    from condis._ddi_table import CALLBACKS, FUNCTIONS
    from condis.errors import page_link
    from condis.output import table
    rows: list[tuple[str, ...]] = []
    if callbacks:
        entries = [(n, row[0], "", row[1]) for n, row in CALLBACKS.items()]
    else:
        entries = [(n, row[0], ", ".join(row[1]), row[2]) for n, row in FUNCTIONS.items()]
    entries = [e for e in entries if name is None or name.lower() in e[0].lower()]
    if not entries:
        print(f"condis ddi: no {'callback' if callbacks else 'function'} name contains {name!r}", file=sys.stderr)
        return 2
    if irql_only:
        def level(irql: str) -> int:
            return _IRQL_ORDER.index(irql) if irql in _IRQL_ORDER else len(_IRQL_ORDER)
        entries.sort(key=lambda e: (level(e[1]), e[1], e[0]))
        table(("name", "IRQL"), [(n, irql) for n, irql, _, _ in entries])
        return 0
    for n, irql, rules, page in sorted(entries):
        title, url = page_link(page)
        rows.append((n, irql, rules, url))
    table(("callback" if callbacks else "function", "IRQL", "compliance rules", "page"), rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
