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
    rules = sub.add_parser("rules", help="the rules condis enforces, each with the page that states it")
    rules.add_argument("rule", nargs="?", help="one rule id to explain")
    args = parser.parse_args(argv)
    if args.command == "rules":
        return _rules(args.rule)
    if args.command == "demo":
        from condis.demo import run_demo
        run_demo(kinds=(args.only,) if args.only else ("mcm", "cm"))
        return 0
    return 2


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
    return 0


if __name__ == "__main__":
    sys.exit(main())
