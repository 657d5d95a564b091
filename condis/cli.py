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
    args = parser.parse_args(argv)
    if args.command == "demo":
        from condis.demo import run_demo
        run_demo(kinds=(args.only,) if args.only else ("mcm", "cm"))
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
