"""The ``condis`` command."""

from __future__ import annotations

import argparse
import sys

from condis import __version__


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="condis", description="CoNDIS call management, executable in Python.")
    parser.add_argument("--version", action="version", version=f"condis {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="two hosts: calls placed, answered, carrying data and closed, drawn in lanes")
    demo.add_argument("--only", choices=("mcm", "cm"), help="run one configuration only")
    demo.add_argument("--html", metavar="FILE.html", help="also write the run as an HTML page")
    demo.add_argument("--trace", metavar="FILE.jsonl",
                      help="also record each configuration's run (FILE-mcm.jsonl, FILE-cm.jsonl)")
    demo.add_argument("--verify", choices=("strict", "record"), default="strict",
                      help="strict: stop at the first violation (default); record: collect them and go on")
    demo.add_argument("--report", metavar="FILE.json", help="also write the verifier's findings as JSON")
    trace = sub.add_parser("trace", help="draw a recorded trace")
    trace.add_argument("format", choices=("show", "mermaid", "chrome", "html"))
    trace.add_argument("file")
    trace.add_argument("-o", "--output", help="write here instead of standard output")
    bench = sub.add_parser("bench", help="measure what a call costs (one core)")
    bench.add_argument("--quick", action="store_true", help="small sizes: checks the benchmarks still run")
    bench.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    rules = sub.add_parser("rules", help="the rules condis enforces, each with the page that states it")
    rules.add_argument("rule", nargs="?", help="one rule id to explain")
    explore = sub.add_parser("explore", help="run a scenario under many schedules and faults; save the failing one")
    explore.add_argument("scenario", nargs="?", help="a built-in name, module:function or file.py:function")
    explore.add_argument("--list", action="store_true", help="list the built-in scenarios")
    explore.add_argument("--strategy", choices=("random", "pct", "exhaustive"), default="random")
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
    replay = sub.add_parser("replay", help="rerun a saved schedule exactly and draw its trace")
    replay.add_argument("file")
    replay.add_argument("--html", metavar="FILE.html", help="also write the trace as an HTML page")
    replay.add_argument("--support", action="store_true", help="draw spin locks, work items, timers and NBLs too")
    replay.add_argument("--asan", action="store_true",
                        help="rerun with AddressSanitizer: a C driver's bad access is shown with its file and line")
    replay.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)
    from condis.cdriver.cli import add_parser as add_cc
    from condis.cdriver.cli import split_extra
    add_cc(sub)
    argv, gcc_flags = split_extra(list(sys.argv[1:] if argv is None else argv))
    args = parser.parse_args(argv)
    if args.command == "cc":
        from condis.cdriver.cli import cc_command
        return cc_command(args, gcc_flags)
    if args.command == "explore":
        from condis.explore.cli import explore_command
        return explore_command(args)
    if args.command == "replay":
        from condis.explore.cli import replay_asan, replay_command
        if args.asan:
            return replay_asan(args.file)
        return replay_command(args.file, args.html, args.support, args.in_process)
    if args.command == "bench":
        from condis.bench import main as bench_main
        return bench_main(args.quick, args.json)
    if args.command == "rules":
        return _rules(args.rule)
    if args.command == "demo":
        from condis.demo import run_demo
        results = run_demo(kinds=(args.only,) if args.only else ("mcm", "cm"), verify=args.verify)
        if args.report:
            import json
            found = [f.as_dict() for r in results for f in r.findings]
            with open(args.report, "w", encoding="utf-8") as f:
                json.dump({"mode": args.verify, "violations": found}, f, indent=2)
            print(f"report: {args.report} ({len(found)} violation(s))")
        if args.html:
            from condis.trace.html import render_html
            kinds = ("mcm", "cm") if not args.only else (args.only,)
            titles = {"mcm": "Through the MCM", "cm": "Through the stand-alone call manager and miniport"}
            sections = [(titles[k], r.recorder.records) for k, r in zip(kinds, results, strict=True)]
            with open(args.html, "w", encoding="utf-8") as f:
                f.write(render_html([], "condis demo: two hosts, calls placed, answered, carrying data, closed",
                                    sections=sections))
            print(f"html: {args.html}")
        if args.trace:
            from pathlib import Path

            from condis.trace.files import write_jsonl
            base = Path(args.trace)
            for kind, result in zip(("mcm", "cm") if not args.only else (args.only,), results, strict=True):
                path = base.with_name(f"{base.stem}-{kind}{base.suffix or '.jsonl'}")
                write_jsonl(result.recorder.records, path)
                print(f"trace: {path}")
        return 0
    if args.command == "trace":
        return _trace(args.format, args.file, args.output)
    return 2


def _trace(fmt: str, path: str, output: str | None) -> int:
    import json

    from condis.trace.files import chrome, mermaid, read_jsonl
    from condis.trace.lanes import render
    try:
        records = read_jsonl(path)
    except (OSError, ValueError) as e:
        print(f"condis: {e}", file=sys.stderr)
        return 2
    if fmt == "show":
        text = render(records)
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
    from condis.rules import RULES
    if rule_id is None:
        width = max(len(r) for r in RULES)
        for r in RULES.values():
            print(f"{r.id:<{width}}  {r.summary}")
        return 0
    rule = RULES.get(rule_id)
    if rule is None:
        print(f"condis: no rule {rule_id!r}; `condis rules` lists them", file=sys.stderr)
        return 2
    print(f"{rule.id}\n  {rule.summary}\n  stated in: {rule.page}")
    from condis.verifier import statements
    rows = statements(rule.id)
    if rows:
        print(f"  the pages state it {len(rows)} time(s):")
        for page, note in rows:
            print(f"    {page}: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
