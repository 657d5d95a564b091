"""``condis cc``: build a C driver image with the machine's gcc against condis's ndis.h."""

from __future__ import annotations

import argparse
import sys

from condis.cdriver.build import INCLUDE, BuildError, build, command


def add_parser(sub: argparse._SubParsersAction) -> None:
    cc = sub.add_parser(
        "cc", help="compile and link a C driver: condis cc SRC.c ... -o DRIVER.so [--asan] [-- gcc flags]",
        description="Compile and link a CoNDIS driver written in C into a driver image that "
                    "Ndis.load_driver(path, name) loads: gcc with condis's ndis.h on the include path, debug "
                    "information, warnings on, implicit declarations (a routine condis does not provide) as errors, "
                    "and every undefined symbol refused at link time with its name.")
    cc.add_argument("sources", nargs="*", metavar="SRC.c", help="the driver's C sources")
    cc.add_argument("-o", "--output", metavar="DRIVER.so", help="the driver image to write (default: first source's name .so)")
    cc.add_argument("--asan", action="store_true", help="build with AddressSanitizer (see condis replay --asan)")
    cc.add_argument("--show", action="store_true", help="print the gcc command line instead of running it")
    cc.add_argument("--include-dir", action="store_true", help="print the directory of condis's ndis.h and exit")
    cc.add_argument("--samples", action="store_true",
                    help="print the directory of condis's C sample drivers (echo, atmmcm, atmcm, atmclient) and exit")
    cc.epilog = "Flags after -- go to gcc as they are (-DNAME, -O2, ...)."


def split_extra(argv: list[str]) -> tuple[list[str], list[str]]:
    """``condis cc ... -- FLAGS``: the arguments for condis, and the gcc flags after ``--``."""
    if argv and argv[0] == "cc" and "--" in argv:
        i = argv.index("--")
        return argv[:i], argv[i + 1:]
    return argv, []


def cc_command(args: argparse.Namespace, extra: list[str]) -> int:
    if args.include_dir:
        print(INCLUDE)
        return 0
    if args.samples:
        print(INCLUDE.parent / "samples")
        return 0
    if not args.sources:
        print("condis cc: no source files (condis cc SRC.c ... -o DRIVER.so)", file=sys.stderr)
        return 2
    output = args.output or args.sources[0].rsplit(".", 1)[0] + ".so"
    if args.show:
        print(" ".join(command(args.sources, output, args.asan, extra)))
        return 0
    try:
        path = build(args.sources, output, asan=args.asan, extra=extra)
    except BuildError as e:
        sys.stderr.write(e.output if e.output.endswith("\n") else e.output + "\n")
        return 1
    print(path)
    return 0
