"""What the ``condis`` command shows: progress on standard error, tables, and JUnit XML for CI systems.

Results go to standard output, progress to standard error. On a terminal progress is a bar drawn by
rich; elsewhere (a CI log, a file) it is a plain line now and then, so a log stays short and readable.
rich is imported only when something is drawn on a terminal.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO
from xml.etree import ElementTree as ET


def is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class Progress:
    """Progress of one long step, on ``stream`` (standard error by default).

    With a known ``total``, plain output is one line at each tenth of the way; without one (a search
    that may stop early, a run of unknown length), one line every ``every`` units. Use as a context
    manager, or call :meth:`close`.
    """

    def __init__(self, description: str, total: int | None = None, unit: str = "", every: int = 100,
                 stream: TextIO | None = None) -> None:
        self.description = description
        self.total = total
        self.unit = unit
        self.every = max(every, 1)
        self.stream = stream if stream is not None else sys.stderr
        self.done = 0
        self.note = ""
        self._shown = 0           # the last tenth (or multiple of every) written as a plain line
        self._written = 0         # the count on the last plain line
        self._bar: Any = None
        self._task: Any = None
        if is_terminal(self.stream):
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
            from rich.progress import Progress as Bar
            columns = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                       TextColumn("{task.fields[note]}"), TimeElapsedColumn()]
            self._bar = Bar(*columns, console=Console(file=self.stream), transient=True)
            self._bar.start()
            self._task = self._bar.add_task(description, total=total, note="")

    def update(self, done: int, note: str = "") -> None:
        """``done`` units so far; ``note`` is shown beside the count (e.g. "2 failing")."""
        self.done, self.note = done, note
        if self._bar is not None:
            self._bar.update(self._task, completed=done, note=note)
            return
        mark = 10 * done // self.total if self.total else done // self.every
        if mark > self._shown:
            self._shown = mark
            self._line()

    def advance(self, n: int = 1, note: str = "") -> None:
        self.update(self.done + n, note or self.note)

    def _line(self) -> None:
        self._written = self.done
        of = f"/{self.total}" if self.total else ""
        unit = f" {self.unit}" if self.unit else ""
        note = f", {self.note}" if self.note else ""
        print(f"{self.description}: {self.done}{of}{unit}{note}", file=self.stream, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
        elif self.done != self._written and (self.total or self._written):
            self._line()     # where it ended (a short run of unknown length says nothing)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], stream: TextIO | None = None,
          title: str = "") -> None:
    """Rows under their headers: a rich table on a terminal, tab-separated lines otherwise (one row a
    line, so ``grep`` and ``cut -f`` work on it)."""
    stream = stream if stream is not None else sys.stdout
    if is_terminal(stream):
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text
        t = Table(title=title or None, show_lines=False, highlight=False)
        for h in headers:
            t.add_column(h, overflow="fold")     # a long address folds onto the next line, never "…"
        for row in rows:
            # addresses as terminal hyperlinks: still one link when folded over two lines
            t.add_row(*(Text(c, style=f"link {c}") if c.startswith("https://") else Text(c) for c in row))
        Console(file=stream).print(t)
        return
    if title:
        print(title, file=stream)
    print("\t".join(headers), file=stream)
    for row in rows:
        print("\t".join(row), file=stream)


@dataclass
class Case:
    """One test case of a JUnit report: a name, how long it took, and why it failed, if it did."""

    name: str
    classname: str
    seconds: float = 0.0
    failure: str | None = None       # the one-line message
    details: str = ""                # the body: the report, the replay command, ...


def junit_xml(suite: str, cases: Sequence[Case]) -> str:
    """The JUnit XML report CI systems read (GitHub Actions, GitLab, Jenkins): one suite of ``cases``."""
    failures = sum(1 for c in cases if c.failure is not None)
    root = ET.Element("testsuites", name="condis", tests=str(len(cases)), failures=str(failures))
    s = ET.SubElement(root, "testsuite", name=suite, tests=str(len(cases)), failures=str(failures), errors="0",
                      skipped="0", time=f"{sum(c.seconds for c in cases):.3f}",
                      timestamp=time.strftime("%Y-%m-%dT%H:%M:%S"))
    for c in cases:
        e = ET.SubElement(s, "testcase", name=c.name, classname=c.classname, time=f"{c.seconds:.3f}")
        if c.failure is not None:
            f = ET.SubElement(e, "failure", message=c.failure, type="condis")
            f.text = c.details or c.failure
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(path: str, suite: str, cases: Sequence[Case]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(junit_xml(suite, cases))
