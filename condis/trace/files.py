"""Traces on disk (JSON Lines) and the other formats a run can be drawn in: Mermaid sequence
diagrams and the Chrome trace-event format (opens in Perfetto or chrome://tracing)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from condis.errors import page_link
from condis.trace.lanes import drawable
from condis.trace.recorder import Record

FORMAT = "condis-trace"
VERSION = 1


def write_jsonl(records: Iterable[Record], path: str | Path) -> int:
    """Write records as JSON Lines after a header line; returns how many were written."""
    n = 0
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps({"format": FORMAT, "version": VERSION}) + "\n")
        for r in records:
            f.write(json.dumps(r.as_dict()) + "\n")
            n += 1
    return n


# What condis writes, by what a file starts with: (kind, what reads it).
_KINDS = {
    "trace": "condis trace show|html|mermaid|chrome FILE",
    "schedule": "condis replay FILE",
    "chrome": "Perfetto (https://ui.perfetto.dev) or chrome://tracing",
    "report": "a JSON reader: it is the verifier's report (condis demo --report)",
    "html": "a web browser",
    "mermaid": "a Mermaid renderer",
    "junit": "a CI system's test report viewer",
}


def file_kind(path: str | Path) -> str:
    """What kind of condis file ``path`` is: one of trace, schedule, chrome, report, html, mermaid,
    junit, or "unknown" (also for a file that cannot be read)."""
    try:
        with open(path, encoding="utf-8") as f:
            head = f.read(4096)
    except (OSError, UnicodeDecodeError):
        return "unknown"
    start = head.lstrip()
    first = start.split("\n", 1)[0]
    if first.startswith("{"):
        try:
            line = json.loads(first)
        except ValueError:
            line = None
        if isinstance(line, dict) and line.get("format") == FORMAT:
            return "trace"
        if '"condis-schedule/' in head:
            return "schedule"
        if '"traceEvents"' in head:
            return "chrome"
        if '"violations"' in head and '"mode"' in head:
            return "report"
    if start.lower().startswith(("<!doctype html", "<html")):
        return "html"
    if start.startswith("sequenceDiagram"):
        return "mermaid"
    if start.startswith("<?xml") and "<testsuites" in head:
        return "junit"
    return "unknown"


def wrong_kind(path: str | Path, wanted: str) -> str | None:
    """None if ``path`` is a ``wanted`` file; else a sentence saying what it is and what opens it."""
    kind = file_kind(path)
    if kind == wanted:
        return None
    names = {"trace": "a condis trace (JSON Lines)", "schedule": "a condis schedule file", "chrome": "a Chrome trace",
             "report": "a verifier report", "html": "an HTML page", "mermaid": "a Mermaid diagram",
             "junit": "a JUnit report"}
    if kind == "unknown":
        return f"{path} is not {names[wanted]}"
    return f"{path} is {names[kind]}, not {names[wanted]}; open it with {_KINDS[kind].replace('FILE', str(path))}"


def read_jsonl(path: str | Path) -> list[Record]:
    """Read a trace written by :func:`write_jsonl`."""
    records = []
    with open(path, encoding="utf-8") as f:
        try:
            header = json.loads(f.readline() or "{}")
        except ValueError:
            header = {}
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise ValueError(wrong_kind(path, "trace") or f"{path}: not a condis trace")
        if header.get("version") != VERSION:
            raise ValueError(f"{path}: condis trace version {header.get('version')}, this condis reads {VERSION}")
        for line in f:
            d = json.loads(line)
            r = Record(d["seq"], d["t"], d["host"], d["kind"], d["name"], d["driver"], d["role"], d["args"],
                       d["irql"], d["parent"])
            r.result = d["result"]
            records.append(r)
    return records


def _participant(host: str, role: str) -> str:
    return f"{host}_{role.replace(' ', '')}"


def mermaid(records: Iterable[Record]) -> str:
    """A Mermaid sequenceDiagram of the protocol steps, numbered like the guide's figures."""
    recs = drawable(records)
    lines = ["sequenceDiagram", "    autonumber"]
    seen: list[str] = []

    def declare(host: str, role: str) -> str:
        p = _participant(host, role)
        if p not in seen:
            seen.append(p)
            lines.insert(2 + len(seen) - 1, f"    participant {p} as {host}: {role}")
        return p

    for r in recs:
        if r.kind == "frame":
            src = next((s for s in seen if s.startswith(f"{r.host}_") and s.endswith(("MCM", "Miniport"))), None)
            dst = next((s for s in seen if s.startswith(f"{r.driver}_") and s.endswith(("MCM", "Miniport"))), None)
            if src and dst:
                lines.append(f"    {src}-->>{dst}: {r.name}")
            continue
        if r.kind == "violation":
            lines.append(f"    Note over {declare(r.host, 'NDIS')}: VIOLATION {r.name}")
            continue
        ndis = declare(r.host, "NDIS")
        drv = declare(r.host, r.role or "Client")
        a, b = (drv, ndis) if r.kind == "ddi" else (ndis, drv)
        label = f"{r.name}({r.args})" + (f" → {r.result}" if r.result else "")
        lines.append(f"    {a}->>{b}: {label.replace(';', ',').replace('#', '')}")
    return "\n".join(lines) + "\n"


# Which Complete call finishes a request whose handler returned NDIS_STATUS_PENDING.
_COMPLETES: dict[str, tuple[str, ...]] = {
    "ProtocolBindAdapterEx": ("NdisCompleteBindAdapterEx",),
    "ProtocolUnbindAdapterEx": ("NdisCompleteUnbindAdapterEx",),
    "MiniportPause": ("NdisMPauseComplete",),
    "MiniportCoActivateVc": ("NdisMCoActivateVcComplete",),
    "MiniportCoDeactivateVc": ("NdisMCoDeactivateVcComplete",),
    "MiniportCoOidRequest": ("NdisMCoOidRequestComplete",),
    "ProtocolCoOidRequest": ("NdisCoOidRequestComplete", "NdisMCmOidRequestComplete"),
    "ProtocolClIncomingCall": ("NdisClIncomingCallComplete",),
    "ProtocolClNotifyCloseAf": ("NdisClNotifyCloseAddressFamilyComplete",),
}
for _op, _ddi in (("OpenAf", "OpenAddressFamily"), ("CloseAf", "CloseAddressFamily"), ("RegisterSap", "RegisterSap"),
                  ("DeregisterSap", "DeregisterSap"), ("MakeCall", "MakeCall"), ("CloseCall", "CloseCall"),
                  ("AddParty", "AddParty"), ("DropParty", "DropParty"), ("ModifyCallQoS", "ModifyCallQoS")):
    _COMPLETES[f"ProtocolCm{_op}"] = (f"NdisCm{_ddi}Complete", f"NdisMCm{_ddi}Complete")


def pended(records: Iterable[Record]) -> list[tuple[Record, Record | None]]:
    """Each handler call that returned NDIS_STATUS_PENDING, with the Complete call that finished it
    (None if none did): the first later Complete call of the same kind by the same driver on the
    same host, in the order the requests pended."""
    waiting: dict[tuple[str, str, str], list[int]] = {}
    out: list[tuple[Record, Record | None]] = []
    finishes: dict[str, list[str]] = {}
    for handler, ddis in _COMPLETES.items():
        for ddi in ddis:
            finishes.setdefault(ddi, []).append(handler)
    for r in records:
        if r.kind == "handler" and r.name in _COMPLETES and r.result.startswith("NDIS_STATUS_PENDING"):
            waiting.setdefault((r.host, r.driver, r.name), []).append(len(out))
            out.append((r, None))
        elif r.kind == "ddi" and r.name in finishes:
            for handler in finishes[r.name]:
                queue = waiting.get((r.host, r.driver, handler))
                if queue:
                    i = queue.pop(0)
                    out[i] = (out[i][0], r)
                    break
    return out


def chrome(records: Iterable[Record]) -> dict:
    """The Chrome trace-event format: one process per host, one thread per driver role; every record
    an instant event at virtual time (microseconds), and every pended request a span from its
    handler's NDIS_STATUS_PENDING return to its Complete call (to the end of the run if none came),
    so Perfetto shows how long each stayed pending."""
    records = list(records)
    events = []
    pids: dict[str, int] = {}
    tids: dict[tuple[str, str], int] = {}

    def at(r: Record) -> float:
        return r.t / 1000 + r.seq * 1e-3     # order within one instant of virtual time

    for r in records:
        pid = pids.setdefault(r.host or "wire", len(pids) + 1)
        tid = tids.setdefault((r.host, r.role or r.kind), len(tids) + 1)
        if r.kind == "violation":       # its result is the page it broke: shown by title and address
            title, url = page_link(r.result)
            args = {"message": r.args, "page": title, "url": url, "irql": r.irql, "driver": r.driver}
        else:
            args = {"args": r.args, "result": r.result, "irql": r.irql, "driver": r.driver}
        ev = {"name": r.name, "cat": r.kind, "ph": "i", "s": "t", "ts": at(r), "pid": pid, "tid": tid, "args": args}
        events.append(ev)
    end = max((at(r) for r in records), default=0.0)
    for n, (start, done) in enumerate(pended(records), 1):
        pid, tid = pids[start.host or "wire"], tids[(start.host, start.role or start.kind)]
        name = f"{start.name} pending"
        common = {"name": name, "cat": "pending", "id": n, "pid": pid, "tid": tid}
        events.append({**common, "ph": "b", "ts": at(start),
                       "args": {"args": start.args, "driver": start.driver,
                                "completed_by": f"{done.name}({done.args})" if done is not None else "never completed"}})
        events.append({**common, "ph": "e", "ts": at(done) if done is not None else end})
    meta = [{"name": "process_name", "ph": "M", "pid": pid, "args": {"name": f"host {host}"}}
            for host, pid in pids.items()]
    meta += [{"name": "thread_name", "ph": "M", "pid": pids[host or "wire"], "tid": tid, "args": {"name": role}}
             for (host, role), tid in tids.items()]
    return {"traceEvents": meta + events, "displayTimeUnit": "ns"}
