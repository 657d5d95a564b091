"""A self-contained HTML page of a run: lanes per host (client, NDIS, call manager or MCM, miniport),
numbered steps like the guide's figures, violations highlighted, and a filter by VC. No network is
needed to open it: the drawing is inline SVG and the filter a few lines of inline script."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from condis.trace.lanes import _lanes_of, drawable
from condis.trace.recorder import Record

ROW = 30
LANE = 150
LEFT = 40
TOP = 56
_VC = re.compile(r"VC 0x[0-9a-f]+")

_STYLE = """
body{font-family:system-ui,sans-serif;margin:16px;color:#1d1d1f;background:#fff}
h1{font-size:20px;margin:0 0 4px} h2{font-size:16px;margin:18px 0 4px} p.summary{margin:0 0 12px;color:#555}
.controls{margin:8px 0 12px} .controls label{margin-right:12px}
svg text{font-size:12px} .lane-head{font-weight:600;font-size:13px}
.lifeline{stroke:#c7c7cc;stroke-width:1} .host-sep{stroke:#8e8e93;stroke-dasharray:4 4}
.ddi line{stroke:#0a58ca;stroke-width:1.5} .handler line{stroke:#198754;stroke-width:1.5}
.frame line{stroke:#6f42c1;stroke-width:1.5;stroke-dasharray:5 3}
.violation rect{fill:#f8d7da} .violation text{fill:#842029;font-weight:600}
.num{fill:#6e6e73} .label{fill:#1d1d1f} .result{fill:#6e6e73}
g.step.hidden{display:none}
"""

_SCRIPT = """
(function(){
  var sel=document.getElementById('vc'), txt=document.getElementById('text');
  var steps=document.querySelectorAll('g.step');
  function apply(){
    var vc=sel.value, t=txt.value.toLowerCase(), shown=0;
    steps.forEach(function(g){
      var ok=(!vc||(' '+g.dataset.vcs+' ').indexOf(' '+vc+' ')>=0)&&(!t||g.textContent.toLowerCase().indexOf(t)>=0);
      g.classList.toggle('hidden',!ok); if(ok) shown++;
    });
    document.getElementById('shown').textContent=shown;
    document.body.dataset.shown=shown;
  }
  sel.addEventListener('change',apply); txt.addEventListener('input',apply); apply();
  document.body.dataset.ready='1';
})();
"""


def render_html(records: Iterable[Record], title: str = "condis run",
                sections: list[tuple[str, Iterable[Record]]] | None = None) -> str:
    """The page, as a string: one diagram of ``records``, or one per titled section."""
    parts = sections if sections is not None else [("", records)]
    svgs, vcs, total, violations, hosts = [], [], 0, 0, 0
    for heading, recs in parts:
        svg, n, v, h = _diagram(recs, vcs, total)
        if heading:
            svgs.append(f"<h2>{html.escape(heading)}</h2>")
        svgs.append(svg)
        total, violations, hosts = total + n, violations + v, hosts + h
    options = "".join(f'<option value="{html.escape(v)}">{html.escape(v)}</option>' for v in vcs)
    return _PAGE.format(title=html.escape(title), style=_STYLE, n=total, hosts=hosts, violations=violations,
                        options=options, svgs="\n".join(svgs), script=_SCRIPT)


def _diagram(records: Iterable[Record], vcs: list[str], first: int) -> tuple[str, int, int, int]:
    recs = drawable(records)
    lanes = _lanes_of(recs)
    x = {lane: LEFT + i * LANE + LANE // 2 for i, lane in enumerate(lanes)}
    width = LEFT + len(lanes) * LANE + 420
    rows: list[str] = []
    n = 0
    for r in recs:
        if r.kind == "frame":
            a = next((x[k] for k in x if k[0] == r.host and k[1] in ("MCM", "Miniport")), None)
            b = next((x[k] for k in x if k[0] == r.driver and k[1] in ("MCM", "Miniport")), None)
            if a is None or b is None:
                continue
            label, result = r.name, ""
        elif r.kind == "violation":
            a = b = x.get((r.host, "NDIS"), LEFT)
            label, result = f"VIOLATION {r.name}: {r.args}", ""
        else:
            lane, ndis = (r.host, r.role or "Client"), (r.host, "NDIS")
            if lane not in x or ndis not in x:
                continue
            a, b = (x[lane], x[ndis]) if r.kind == "ddi" else (x[ndis], x[lane])
            label, result = f"{r.name}({r.args})", r.result
        n += 1
        y = TOP + n * ROW + 6
        found = sorted(set(_VC.findall(f"{r.host} {r.args} {r.result}")))
        tags = [f"{r.host}:{v}" for v in found]
        vcs.extend(t for t in tags if t not in vcs)
        parts = [f'<g class="step {r.kind}" data-step="{first + n}" data-vcs="{html.escape(" ".join(tags))}">']
        if r.kind == "violation":
            parts.append(f'<rect x="0" y="{y - 18}" width="{width}" height="{ROW}"/>')
        parts.append(f'<text class="num" x="4" y="{y}">{first + n}</text>')
        if a != b:
            parts.append(f'<line x1="{a}" y1="{y}" x2="{b}" y2="{y}" marker-end="url(#arrow)"/>')
        label_text = html.escape(label)
        res = f' <tspan class="result">→ {html.escape(result)}</tspan>' if result else ""
        parts.append(f'<text class="label" x="{min(a, b) + 6}" y="{y - 5}">{label_text}{res}</text></g>')
        rows.append("".join(parts))
    height = TOP + (n + 2) * ROW
    heads = []
    hosts_seen: list[str] = []
    for (host, role), cx in x.items():
        if host not in hosts_seen and hosts_seen:
            sep = cx - LANE // 2
            heads.append(f'<line class="host-sep" x1="{sep}" y1="8" x2="{sep}" y2="{height}"/>')
        if host not in hosts_seen:
            hosts_seen.append(host)
        heads.append(f'<text class="lane-head" x="{cx}" y="{TOP - 20}" text-anchor="middle">'
                     f'{html.escape(host)}: {html.escape(role)}</text>')
        heads.append(f'<line class="lifeline" x1="{cx}" y1="{TOP - 12}" x2="{cx}" y2="{height}"/>')
    violations = sum(1 for r in recs if r.kind == "violation")
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
           'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="context-stroke"/></marker></defs>'
           f'{"".join(heads)}{"".join(rows)}</svg>')
    return svg, n, violations, len(hosts_seen)


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>{style}</style></head>
<body data-steps="{n}">
<h1>{title}</h1>
<p class="summary">{n} steps on {hosts} host(s); {violations} violation(s).
Blue: a driver calls NDIS. Green: NDIS calls a driver's handler. Purple: a frame on the wire.</p>
<div class="controls"><label>VC <select id="vc"><option value="">all</option>{options}</select></label>
<label>text <input id="text" type="search" placeholder="NdisClCloseCall"></label>
showing <span id="shown">{n}</span> steps</div>
{svgs}
<script>{script}</script>
</body></html>
"""
