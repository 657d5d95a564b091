"""The verifier: what Driver Verifier and Static Driver Verifier do for a CoNDIS driver, at run time.

Theory of operation
-------------------
The checks themselves live where the rules bite — at each DDI entry, each handler return and each
completion (``condis/ndis/*``), and at teardown (``condis/ndis/leaks.py``) — and every one of them
names a rule of the catalog (:mod:`condis.rules`). This module decides what happens when a check
fails. One :class:`Verifier` belongs to each :class:`condis.Simulation`, in one of three modes:

``strict`` (the default)
    The violating call raises :class:`condis.Violation` before it changes anything, as a bug check
    stops a machine. Nothing is collected.

``record``
    The violating call is refused in the same way — NDIS changes nothing — but instead of raising,
    the DDI returns a refusal to its caller (``NDIS_STATUS_FAILURE``; ``(NDIS_STATUS_FAILURE, None,
    ...)`` for a DDI with OUT values; nothing for a void DDI) and the run goes on. A handler that
    returned something it may not is treated as having failed. Every violation is kept as a
    :class:`Finding`, with the events that led up to it, and :meth:`Verifier.report` /
    :meth:`Verifier.to_json` give the report.

``off``
    For runs that only want speed, such as a driver's own load test. NDIS drops what it does only
    to verify: it no longer checks a handler's manners (IRQL and spin locks on return), keeps no
    account of the sends outstanding on a VC and routes data without looking at it, and makes no
    teardown checks. The checks NDIS's routing relies on — handles, call and VC states, pended
    requests — stay, and raise as in strict mode: a broken driver still cannot corrupt NDIS.

In strict and record mode NDIS's own state stays consistent: a refused call touches no other AF,
SAP, VC, party or call, so one broken driver does not hide the next problem.
"""

from __future__ import annotations

import json
from typing import Any

from condis.errors import Violation, cite
from condis.rules import RULES

MODES = ("strict", "record", "off")

#: How many trace records before a violation a finding keeps.
CONTEXT = 24


class Finding:
    """One violation the verifier saw: the rule, where, when, and what led up to it."""

    __slots__ = ("rule", "page", "ddi", "detail", "host", "time_ns", "recent", "violation")

    def __init__(self, violation: Violation, host: str, time_ns: int, recent: list[str]) -> None:
        self.violation = violation
        self.rule = violation.rule
        self.page = violation.page
        self.ddi = violation.ddi
        self.detail = violation.detail
        self.host = host
        self.time_ns = time_ns
        self.recent = recent

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "page": self.page, "title": self.violation.title, "url": self.violation.url,
                "ddi": self.ddi, "detail": self.detail, "host": self.host, "time_ns": self.time_ns,
                "summary": RULES[self.rule].summary, "recent": self.recent}

    def __repr__(self) -> str:
        return f"<Finding {self.rule} in {self.ddi} on {self.host} at {self.time_ns} ns>"


class Verifier:
    """What happens when a check fails, for every host of one simulation (see the module doc).

    Args:
        mode: ``"strict"`` (raise at the violating call), ``"record"`` (refuse it, collect, go on) or
            ``"off"`` (only the checks NDIS's routing needs; see the module doc).
    """

    def __init__(self, mode: str = "strict") -> None:
        if mode not in MODES:
            raise ValueError(f"verifier mode must be one of {', '.join(MODES)}; got {mode!r}")
        self.mode = mode
        self.findings: list[Finding] = []
        self._left_behind: set[tuple[str, str, str]] = set()

    @property
    def recording(self) -> bool:
        return self.mode == "record"

    @property
    def violations(self) -> list[Violation]:
        """The violations recorded so far, in the order they happened."""
        return [f.violation for f in self.findings]

    @property
    def checking(self) -> bool:
        return self.mode != "off"

    def first_report(self, host: str, rule: str, message: str) -> bool:
        """Whether a teardown finding is new. One thing left behind is seen at each teardown step it
        outlives (binding closed, adapter halted, run end); it is reported once, at the first."""
        key = (host, rule, message)
        if key in self._left_behind:
            return False
        self._left_behind.add(key)
        return True

    def found(self, host: Any, violation: Violation) -> None:
        """A check failed on ``host``: keep it in record mode, raise otherwise."""
        if self.mode != "record":
            raise violation
        tracer = host.tracer
        recent: list[str] = []
        if tracer is not None:
            # the events of this host, from the end back: one recorder may hold a whole run of several hosts
            for scanned, r in enumerate(reversed(tracer.records)):
                if scanned == 64 * CONTEXT:      # far enough back: the rest is other hosts' busy stretch
                    break
                if r.host == host.name and r.kind != "violation":
                    recent.append(_line(r))
                    if len(recent) == CONTEXT:
                        break
            recent.reverse()
        self.findings.append(Finding(violation, host.name, host.sim.scheduler.now, recent))

    # ------------------------------------------------------------------ the report

    def report(self) -> str:
        """The findings for a person: each rule, where it is written, and what led up to it."""
        if not self.findings:
            return "condis verifier: no violations"
        lines = [f"condis verifier: {len(self.findings)} violation(s)"]
        for i, f in enumerate(self.findings, 1):
            lines.append("")
            lines.append(f"{i}. {f.rule} in {f.ddi} on host {f.host} at t={f.time_ns / 1000:.3f} us")
            lines.append(f"   {f.detail}")
            lines.append(f"   rule: {RULES[f.rule].summary}")
            lines.append(f"   see:  {cite(f.page)}")
            if f.recent:
                lines.append("   leading up to it:")
                lines.extend(f"     {r}" for r in f.recent)
        return "\n".join(lines)

    def to_json(self) -> str:
        """The findings as JSON: ``{"mode": ..., "violations": [{rule, page, ddi, detail, ...}]}``."""
        return json.dumps({"mode": self.mode, "violations": [f.as_dict() for f in self.findings]}, indent=2)


def statements(rule: str) -> list[tuple[str, str]]:
    """Where the reference pages state ``rule``: (page, what the sentence requires) from musts.tsv,
    the table that accounts for every rule sentence of the CoNDIS pages."""
    from importlib.resources import files
    rows = []
    for line in files(__package__).joinpath("musts.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        cols = line.split("\t")
        if len(cols) >= 4 and cols[2] == rule:
            rows.append((cols[0], cols[3]))
    return rows


def _line(r: Any) -> str:
    who = f"{r.driver}/{r.role}" if r.driver else r.role
    if r.kind in ("ddi", "handler"):
        arrow = f" -> {r.result}" if r.result else ""
        return f"{r.t / 1000:10.3f}us {r.host} {who}: {r.name}({r.args}){arrow}"
    return f"{r.t / 1000:10.3f}us {r.host} {r.kind}: {r.name} {r.args}".rstrip()


__all__ = ["CONTEXT", "MODES", "Finding", "Verifier", "statements"]
