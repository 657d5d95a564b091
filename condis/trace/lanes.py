"""Terminal sequence diagrams in lanes, like the guide's figures (guide/images/fig1-20.png):
one lane per driver role and one for NDIS on each host, numbered arrows in the order things happened,
and the wire between hosts."""

from __future__ import annotations

from collections.abc import Iterable

from condis.trace.recorder import SUPPORT_DDIS, Record, settled_roles

_ORDER = ("Client", "NDIS", "Call Manager", "MCM", "Miniport")
LANE = 11
_SHORT = {"Call Manager": "CM"}
LABEL = 96


def _lanes_of(records: list[Record]) -> list[tuple[str, str]]:
    hosts: list[str] = []
    roles: dict[str, set[str]] = {}
    for r in records:
        if r.kind == "frame" or not r.host:
            continue
        if r.host not in roles:
            hosts.append(r.host)
            roles[r.host] = {"NDIS"}
        if r.role:
            roles[r.host].add(r.role)
    lanes: list[tuple[str, str]] = []
    for i, h in enumerate(hosts):
        mine = [(h, role) for role in _ORDER if role in roles[h]]
        lanes.extend(reversed(mine) if i % 2 else mine)
    return lanes


def drawable(records: Iterable[Record], support: bool = False) -> list[Record]:
    """The records a lane diagram shows: protocol DDIs, handlers and frames."""
    out = []
    for r in settled_roles(list(records)):
        if r.kind == "handler" and r.name not in ("WorkItemRoutine", "TimerFunction"):
            out.append(r)
        elif r.kind == "ddi" and (support or r.name not in SUPPORT_DDIS):
            out.append(r)
        elif r.kind in ("frame", "violation"):
            out.append(r)
    return out


def render(records: Iterable[Record], title: str = "", support: bool = False, start: int = 1) -> str:
    """Draw records as numbered arrows between lanes; returns the text."""
    recs = drawable(records, support)
    lanes = _lanes_of(recs)
    if not lanes:
        return ""
    col = {lane: 6 + i * LANE + LANE // 2 for i, lane in enumerate(lanes)}
    width = 6 + len(lanes) * LANE
    head = [" " * width]
    head_chars = list(head[0])
    for (host, role), c in col.items():
        name = f"{host}:{_SHORT.get(role, role)}"
        name = name[:LANE - 1]
        s = c - len(name) // 2
        head_chars[s:s + len(name)] = name
    lines = []
    if title:
        lines.append(f"── {title} " + "─" * max(0, width + 20 - len(title)))
    lines.append("".join(head_chars).rstrip())
    n = start
    for r in recs:
        row = [" "] * width
        for c in col.values():
            row[c] = "│"
        if r.kind == "frame":
            src_host = r.host
            dst_host = r.driver
            a = next((col[k] for k in col if k[0] == src_host and k[1] in ("MCM", "Miniport")), None)
            b = next((col[k] for k in col if k[0] == dst_host and k[1] in ("MCM", "Miniport")), None)
            if a is None or b is None:
                continue
            label = f"≈ {r.name}"
        elif r.kind == "violation":
            lines.append(f"{n:>4}  !! {r.args}")
            n += 1
            continue
        else:
            lane = (r.host, r.role or "Client")
            ndis = (r.host, "NDIS")
            if lane not in col or ndis not in col:
                continue
            a, b = (col[lane], col[ndis]) if r.kind == "ddi" else (col[ndis], col[lane])
            label = f"{r.name}({r.args})"
            if r.result:
                label += f" → {r.result}"
        lo, hi = min(a, b), max(a, b)
        for x in range(lo + 1, hi):
            row[x] = "┄" if r.kind == "frame" else "─"
        row[b] = "▶" if b > a else "◀"
        row[a] = "●"
        if len(label) > LABEL:
            label = label[:LABEL - 1] + "…"
        lines.append(f"{n:>4} " + "".join(row)[5:] + "  " + label)
        n += 1
    return "\n".join(lines)
