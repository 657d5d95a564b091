"""NDIS coverage: which DDIs and handlers a driver's runs exercised, and which states and
transitions of the state-machine tables (:mod:`condis.ndis.states`) they reached, and which never.

It is to CoNDIS what coverage.py is to lines. The runs are traces of a
:class:`condis.trace.Recorder`; state coverage needs ``Recorder(states=True)``, which records each
object's state changes (a trace without them still gives DDI and handler coverage). ``condis
coverage TRACE.jsonl...`` reads saved traces; ``condis explore --coverage`` and ``pytest
--condis-coverage`` collect the runs they make.

A state change is credited to the table's transition from the old state to the new one; where two
transitions join the same states (ACTIVATING to ACTIVE by the miniport's handler returning or by its
later Complete call), to the one whose trigger names the DDI or handler under way or just returned,
and to each of them when none does.
The recorder looks at states at each DDI and handler call and return, so a change that passes
through a state in between (an MCM activating its own VC inside NdisMCmActivateVc) shows as a jump:
it is credited to the shortest path of the table between the two states (of several, the one whose
triggers name those calls). A change no path of the
tables explains is listed apart: either the tables miss a transition or NDIS made one it should not.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from condis._ddi_table import CALLBACKS, FUNCTIONS
from condis.ndis.states import MACHINES
from condis.trace.recorder import Record, settled_roles

# The DDIs and handlers each kind of driver can use: a driver's coverage counts against its kind's.
_PROTOCOL = ("NdisRegisterProtocolDriver", "NdisDeregisterProtocolDriver", "NdisSetOptionalHandlers",
             "NdisOpenAdapterEx", "NdisCloseAdapterEx", "NdisCompleteBindAdapterEx", "NdisCompleteUnbindAdapterEx")
_MINIPORT = ("NdisMRegisterMiniportDriver", "NdisMDeregisterMiniportDriver", "NdisSetOptionalHandlers",
             "NdisMSetMiniportAttributes", "NdisMPauseComplete")
_FAMILY_PREFIXES = ("NdisCl", "NdisCm", "NdisMCm", "NdisCo", "NdisM")
SUPPORT = tuple(sorted(n for n in FUNCTIONS if not n.startswith(_FAMILY_PREFIXES) and n not in _PROTOCOL
                       and n != "NdisSetOptionalHandlers") + ["NdisCoAssignInstanceName", "NdisCoGetTapiCallId"])
_BIND_HANDLERS = ("ProtocolBindAdapterEx", "ProtocolUnbindAdapterEx", "ProtocolOpenAdapterCompleteEx",
                  "ProtocolCloseAdapterCompleteEx", "ProtocolNetPnPEvent", "SetOptions")


def _ddis(*prefixes: str, also: tuple[str, ...] = (), but: tuple[str, ...] = ()) -> frozenset[str]:
    return frozenset(n for n in FUNCTIONS if (n.startswith(prefixes) or n in also or n in SUPPORT)
                     and not n.startswith(but))


ROLE_DDIS: dict[str, frozenset[str]] = {
    "Client": _ddis("NdisCl", "NdisCo", also=_PROTOCOL),
    "Call Manager": _ddis("NdisCm", "NdisCo", also=_PROTOCOL),
    "MCM": _ddis("NdisMCm", "NdisMCo", also=_MINIPORT),
    "Miniport": _ddis("NdisMCo", also=_MINIPORT),
}
ROLE_HANDLERS: dict[str, frozenset[str]] = {
    "Client": frozenset(n for n in CALLBACKS if n.startswith(("ProtocolCl", "ProtocolCo")) or n in _BIND_HANDLERS),
    "Call Manager": frozenset(n for n in CALLBACKS if n.startswith(("ProtocolCm", "ProtocolCo")) or n in _BIND_HANDLERS),
    "MCM": frozenset(n for n in CALLBACKS if n.startswith(("Miniport", "ProtocolCm")) or n == "SetOptions"),
    "Miniport": frozenset(n for n in CALLBACKS if n.startswith("Miniport") or n == "SetOptions"),
}
# A handler record for a timer function or work-item routine is the driver's own code, not a handler.
_NOT_HANDLERS = ("WorkItemRoutine", "TimerFunction")


def transitions() -> list[tuple[str, str, str, str]]:
    """Every transition of the tables: (table, from state, trigger, to state)."""
    return [(m, old, trigger, new) for m, table in MACHINES.items() for old, row in table.items()
            for trigger, new in row.items()]


def states() -> list[tuple[str, str]]:
    """Every state of the tables: (table, state), in the tables' order."""
    out: dict[tuple[str, str], None] = {}
    for m, old, _, new in transitions():
        out[(m, old)] = None
        out[(m, new)] = None
    return list(out)


_WORD = re.compile(r"[A-Za-z_]+")


def _names(trigger: str) -> set[str]:
    """The DDI and handler names a trigger mentions, Ndis(M)Cm... standing for NdisCm... and NdisMCm..."""
    text = trigger.replace("Ndis(M)", "Ndis@")
    names = set()
    for word in _WORD.findall(text.replace("@", "_AT_")):
        if "_AT_" in word:
            names.update({word.replace("_AT_", ""), word.replace("_AT_", "M")})
        else:
            names.add(word)
    return names


_TRIGGER_NAMES = {(m, old, trig): _names(trig) for m, old, trig, _ in transitions()}


@dataclass
class Coverage:
    """What a set of runs exercised; add traces with :meth:`add`, combine with :meth:`merge`."""

    driver: str | None = None
    runs: int = 0
    ddis: Counter[str] = field(default_factory=Counter)
    handlers: Counter[str] = field(default_factory=Counter)
    roles: set[str] = field(default_factory=set)
    reached: Counter[tuple[str, str]] = field(default_factory=Counter)
    taken: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    unlisted: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    state_records: int = 0

    def add(self, records: Iterable[Record]) -> Coverage:
        """Count one run's records (the driver's DDIs and handlers only, if ``driver`` was given)."""
        self.runs += 1
        for r in settled_roles(list(records)):
            if r.kind == "state":
                self.state_records += 1
                self._state(r)
                continue
            if r.kind not in ("ddi", "handler") or (self.driver is not None and r.driver != self.driver):
                continue
            if self.driver is not None and r.role:
                self.roles.add(r.role)
            if r.kind == "ddi" and r.name in FUNCTIONS:
                self.ddis[r.name] += 1
            elif r.kind == "handler" and r.name not in _NOT_HANDLERS:
                self.handlers[r.name] += 1
        return self

    def _state(self, r: Record) -> None:
        old, _, new = r.result.partition(" -> ")
        table = MACHINES.get(r.name)
        if table is None:
            return
        self.reached[(r.name, new)] += 1
        if not old:
            return
        causes = set(r.driver.split())
        paths = _paths(table, old, new)
        if not paths:
            self.unlisted[(r.name, old, new)] += 1
            return
        # of the shortest chains, the one whose triggers name most of the calls that made the change
        path = max(paths, key=lambda chain: sum(
            1 for a, b in zip(chain, chain[1:], strict=False) for trig, to in table[a].items()
            if to == b and _TRIGGER_NAMES[(r.name, a, trig)] & causes))
        for a, b in zip(path, path[1:], strict=False):
            if b != new:
                self.reached[(r.name, b)] += 1      # passed through between two looks
            joining = [trig for trig, to in table[a].items() if to == b]
            named = [trig for trig in joining if _TRIGGER_NAMES[(r.name, a, trig)] & causes]
            for trig in named or joining:
                self.taken[(r.name, a, trig)] += 1

    def merge(self, other: Coverage) -> Coverage:
        self.runs += other.runs
        self.state_records += other.state_records
        self.ddis.update(other.ddis)
        self.handlers.update(other.handlers)
        self.roles |= other.roles
        self.reached.update(other.reached)
        self.taken.update(other.taken)
        self.unlisted.update(other.unlisted)
        return self

    # ------------------------------------------------------------------ what there is to cover

    def all_ddis(self) -> list[str]:
        if self.driver is None or not self.roles:
            return sorted(FUNCTIONS)
        return sorted(set().union(*(ROLE_DDIS.get(role, frozenset()) for role in self.roles)) | set(self.ddis))

    def all_handlers(self) -> list[str]:
        if self.driver is None or not self.roles:
            return sorted(CALLBACKS)
        return sorted(set().union(*(ROLE_HANDLERS.get(role, frozenset()) for role in self.roles))
                      | set(self.handlers))

    def summary(self) -> list[tuple[str, int, int]]:
        """(what, covered, of) for DDIs, handlers, states and transitions."""
        ddis, handlers = self.all_ddis(), self.all_handlers()
        all_states, all_transitions = states(), transitions()
        return [
            ("DDIs", sum(1 for n in ddis if self.ddis[n]), len(ddis)),
            ("handlers", sum(1 for n in handlers if self.handlers[n]), len(handlers)),
            ("states", sum(1 for s in all_states if s in self.reached), len(all_states)),
            ("transitions", sum(1 for m, o, t, _ in all_transitions if self.taken[(m, o, t)]), len(all_transitions)),
        ]

    # ------------------------------------------------------------------ reports

    def report(self) -> str:
        """The terminal report: totals, then what was never exercised."""
        who = f"driver {self.driver}" + (f" ({', '.join(sorted(self.roles))})" if self.roles else "") \
            if self.driver else "all drivers"
        lines = [f"condis coverage: {self.runs} run(s), {who}", ""]
        lines.append(f"{'':<12} {'covered':>8} {'of':>5} {'':>5}")
        for what, got, of in self.summary():
            lines.append(f"{what:<12} {got:>8} {of:>5} {_pct(got, of):>5}")
        never_ddis = [n for n in self.all_ddis() if not self.ddis[n]]
        never_handlers = [n for n in self.all_handlers() if not self.handlers[n]]
        lines += ["", f"DDIs never called ({len(never_ddis)}):"] + _wrap(never_ddis)
        lines += ["", f"handlers never called ({len(never_handlers)}):"] + _wrap(never_handlers)
        if not self.state_records:
            lines += ["", "no state changes in these runs: record them with condis.trace.Recorder(states=True)"]
            return "\n".join(lines)
        lines += ["", f"{'state table':<14} {'states':>9} {'transitions':>12}"]
        for m in MACHINES:
            ss = [s for s in states() if s[0] == m]
            ts = [t for t in transitions() if t[0] == m]
            got_s = sum(1 for s in ss if s in self.reached)
            got_t = sum(1 for t in ts if self.taken[t[:3]])
            lines.append(f"{m:<14} {got_s:>4}/{len(ss):<4} {got_t:>6}/{len(ts):<5} {_pct(got_t, len(ts)):>5}")
        missed_states = [f"{m}: {s}" for m, s in states() if (m, s) not in self.reached]
        missed = [f"{m}: {old} --[{trig}]--> {new}" for m, old, trig, new in transitions() if not self.taken[(m, old, trig)]]
        lines += ["", f"states never reached ({len(missed_states)}):"] + [f"  {s}" for s in missed_states]
        lines += ["", f"transitions never taken ({len(missed)}):"] + [f"  {t}" for t in missed]
        if self.unlisted:
            lines += ["", "state changes no path of the tables explains:"]
            lines += [f"  {m}: {old} -> {new} ({n}x)" for (m, old, new), n in sorted(self.unlisted.items())]
        return "\n".join(lines)

    def html(self, title: str = "condis coverage") -> str:
        """A self-contained HTML page: totals, each DDI and handler with its count, each table's
        states and transitions, the ones never reached marked."""
        out = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
               f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>",
               f"<p>{self.runs} run(s), {html.escape(self.driver or 'all drivers')}</p><table class='sum'>"]
        out += [f"<tr><th>{w}</th><td>{g} of {o}</td><td>{_pct(g, o)}</td><td><span class='bar'><span "
                f"style='width:{100 * g // max(o, 1)}%'></span></span></td></tr>" for w, g, o in self.summary()]
        out.append("</table>")
        for heading, names, counts in (("DDIs", self.all_ddis(), self.ddis),
                                       ("Handlers", self.all_handlers(), self.handlers)):
            out.append(f"<h2>{heading}</h2><table>")
            out += [f"<tr class='{'hit' if counts[n] else 'miss'}'><td>{n}</td><td>{counts[n] or 'never'}</td></tr>"
                    for n in names]
            out.append("</table>")
        if not self.state_records:
            out.append("<p>No state changes in these runs: record them with "
                       "<code>condis.trace.Recorder(states=True)</code>.</p>")
        for m, table in MACHINES.items():
            out.append(f"<h2>{html.escape(m)} states</h2><table>")
            for old, row in table.items():
                state_class = "hit" if (m, old) in self.reached else "miss"
                for trig, new in row.items():
                    n = self.taken[(m, old, trig)]
                    new_class = "hit" if (m, new) in self.reached else "miss"
                    out.append(f"<tr class='{'hit' if n else 'miss'}'><td class='{state_class}'>{html.escape(old)}</td>"
                               f"<td>{html.escape(trig)}</td><td class='{new_class}'>{html.escape(new)}</td>"
                               f"<td>{n or 'never'}</td></tr>")
            out.append("</table>")
        if self.unlisted:
            out.append("<h2>State changes no path of the tables explains</h2><table>")
            out += [f"<tr class='miss'><td>{html.escape(m)}</td><td>{html.escape(o)} &rarr; {html.escape(nw)}</td>"
                    f"<td>{n}</td></tr>" for (m, o, nw), n in sorted(self.unlisted.items())]
            out.append("</table>")
        out.append("</body></html>\n")
        return "\n".join(out)


def _paths(table: dict[str, dict[str, str]], old: str, new: str) -> list[list[str]]:
    """Every shortest chain of states from ``old`` to ``new`` (another state) in ``table``."""
    chains, frontier = [], [[old]]
    while frontier and not chains:
        longer = []
        for chain in frontier:
            for nxt in dict.fromkeys(table.get(chain[-1], {}).values()):
                if nxt in chain:
                    continue
                (chains if nxt == new else longer).append(chain + [nxt])
        frontier = longer
    return chains


def _pct(got: int, of: int) -> str:
    return f"{100 * got // of}%" if of else "-"


def _wrap(names: list[str], width: int = 100) -> list[str]:
    lines, line = [], "  "
    for n in names:
        if len(line) + len(n) + 2 > width and line.strip():
            lines.append(line.rstrip(", "))
            line = "  "
        line += n + ", "
    if line.strip():
        lines.append(line.rstrip(", "))
    return lines


_STYLE = """
body{font-family:system-ui,sans-serif;margin:16px;color:#1d1d1f} h1{font-size:20px} h2{font-size:16px;margin:18px 0 4px}
table{border-collapse:collapse} td,th{padding:2px 10px;text-align:left;font-size:13px}
tr.hit td{background:#e6f4ea} tr.miss td{background:#fce8e6} td.miss{font-weight:600;color:#a50e0e}
.bar{display:inline-block;width:160px;height:10px;background:#fce8e6} .bar span{display:block;height:10px;background:#34a853}
"""


def from_files(paths: Iterable[str], driver: str | None = None) -> Coverage:
    """Coverage of the traces saved at ``paths`` (JSON Lines, see :mod:`condis.trace.files`)."""
    from condis.trace.files import read_jsonl
    cov = Coverage(driver)
    for path in paths:
        cov.add(read_jsonl(path))
    return cov


def write(cov: Coverage, html_path: str | None, out: Any = print) -> None:
    """Print the terminal report through ``out`` and write the HTML page if asked."""
    out(cov.report())
    if html_path:
        with open(html_path, "w", encoding="utf-8") as f:
            f.write(cov.html())
        out(f"html: {html_path}")
