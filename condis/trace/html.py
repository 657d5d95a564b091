"""A self-contained HTML page of a run, for a design review.

It opens on what matters: how many steps and violations, and each violation with a link to its step
and to the documentation page of the rule it broke. Below, each run is drawn in lanes per host
(client, NDIS, call manager or MCM, miniport) with numbered steps like the guide's figures; the
set-up (drivers loading, binding, address families registered and opened, SAPs registered) is one
row that expands, as in the terminal demo. Labels wrap instead of running off the edge, handles are
named with their host (``A:VC 0xe``) so two hosts' handles never look alike, and a filter by VC or
text hides steps without leaving gaps. No network is needed to open it: the drawing is HTML and CSS
and the filter a few lines of inline script.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from condis.errors import page_link
from condis.trace.lanes import _lanes_of, drawable
from condis.trace.recorder import Record

LANE = 112          # px per lane
_VC = re.compile(r"\b[A-Za-z0-9_]+:VC 0x[0-9a-f]+")
_HANDLE = re.compile(r"(?<![:\w])(miniport driver|protocol driver|registered AF|VC handle|work item|NBL pool|"
                     r"binding|adapter|party|timer|driver|handle|AF|SAP|VC) (0x[0-9a-f]+)")

# What a run does before it does anything the reader came for: drivers load and register, protocols
# bind, call managers register their address families, clients open them and register SAPs.
SETUP = frozenset({
    "DriverEntry", "SetOptions", "NdisRegisterProtocolDriver", "NdisMRegisterMiniportDriver", "NdisSetOptionalHandlers",
    "MiniportInitializeEx", "NdisMSetMiniportAttributes", "MiniportRestart", "ProtocolBindAdapterEx",
    "NdisOpenAdapterEx", "ProtocolOpenAdapterCompleteEx", "NdisCompleteBindAdapterEx", "ProtocolNetPnPEvent",
    "NdisCmRegisterAddressFamilyEx", "NdisMCmRegisterAddressFamilyEx", "ProtocolCoAfRegisterNotify",
    "NdisClOpenAddressFamilyEx", "ProtocolCmOpenAf", "NdisCmOpenAddressFamilyComplete",
    "NdisMCmOpenAddressFamilyComplete", "ClOpenAfCompleteEx", "ProtocolClOpenAfCompleteEx", "NdisClRegisterSap",
    "ProtocolCmRegisterSap", "NdisCmRegisterSapComplete", "NdisMCmRegisterSapComplete", "ClRegisterSapComplete",
    "ProtocolClRegisterSapComplete",
})
_ACTIVITY = ("Call", "Party", "NetBufferLists", "Unbind", "Halt", "Close", "Deregister", "Unload", "Pause",
             "OidRequest", "Status")


def setup_length(recs: list[Record]) -> int:
    """How many of the drawable records ``recs`` are the run's set-up: the steps up to the last set-up
    step that comes before the first violation, frame or call, data, request or teardown step."""
    end = 0
    for i, r in enumerate(recs):
        if r.kind in ("frame", "violation") or any(word in r.name for word in _ACTIVITY):
            break
        if r.name in SETUP:
            end = i + 1
    return end


def qualify(host: str, text: str) -> str:
    """Handles in ``text`` named with their host: "VC 0xe" on host A becomes "A:VC 0xe"."""
    return _HANDLE.sub(lambda m: f"{host}:{m.group(1)} {m.group(2)}", text) if host else text


_STYLE = """
body{font-family:system-ui,sans-serif;margin:16px;color:#1d1d1f;background:#fff}
h1{font-size:20px;margin:0 0 6px} h2{font-size:16px;margin:22px 0 6px}
.summary{margin:0 0 10px} .legend{color:#555;margin:0 0 10px;font-size:13px}
#violations{border:2px solid #b02a37;background:#fbe9eb;border-radius:6px;padding:8px 12px;margin:0 0 12px}
#violations h2{margin:0 0 6px;color:#842029} #violations ol{margin:0;padding-left:22px}
#violations li{margin:4px 0;overflow-wrap:anywhere} #violations .rule{font-weight:600;color:#842029}
.clean{color:#0f5132;font-weight:600}
.controls{margin:8px 0 12px;position:sticky;top:0;background:#fff;padding:6px 0;z-index:3}
.controls label{margin-right:12px}
.diagram{font-size:12px}
.row{display:flex;align-items:stretch;min-height:26px}
.row.head{position:sticky;top:38px;background:#fff;z-index:2;font-weight:600;font-size:12px;min-height:30px}
.num{flex:0 0 44px;text-align:right;padding:5px 8px 0 0;color:#6e6e73}
.lanes{flex:0 0 auto;position:relative}
.label{flex:1 1 320px;min-width:320px;padding:5px 8px 4px;overflow-wrap:anywhere;white-space:normal}
.head .lanes span{position:absolute;top:6px;transform:translateX(-50%);white-space:nowrap;
  background:#fff;padding:0 3px}
.arrow{position:absolute;top:12px;height:0;border-top:2px solid currentColor}
.arrow::before{content:"";position:absolute;top:-5px;width:8px;height:8px;border-radius:50%;background:currentColor}
.arrow.r::before{left:-4px} .arrow.l::before{right:-4px}
.arrow::after{content:"";position:absolute;top:-6px;border-style:solid}
.arrow.r::after{right:-2px;border-width:5px 0 5px 8px;border-color:transparent transparent transparent currentColor}
.arrow.l::after{left:-2px;border-width:5px 8px 5px 0;border-color:transparent currentColor transparent transparent}
.ddi .arrow{color:#0a58ca} .handler .arrow{color:#198754} .frame .arrow{color:#6f42c1;border-top-style:dashed}
.violation{background:#f8d7da} .violation .label{color:#842029;font-weight:600}
.mark{position:absolute;top:3px;transform:translateX(-50%);color:#b02a37;font-weight:700}
.result{color:#6e6e73}
.setup-row button{font:inherit;cursor:pointer;background:#eef2f7;border:1px solid #c7ccd6;border-radius:4px;
  padding:2px 8px;margin:2px 0}
.diagram:not(.open) .step.setup{display:none}
.step.hidden{display:none}
.step:target{outline:2px solid #b02a37}
a{color:#0a58ca}
"""

_SCRIPT = """
(function(){
  var sel=document.getElementById('vc'), txt=document.getElementById('text');
  var steps=document.querySelectorAll('.step');
  function apply(){
    var vc=sel.value, t=txt.value.toLowerCase(), shown=0;
    document.querySelectorAll('.diagram').forEach(function(d){ d.dataset.matches=0; });
    steps.forEach(function(s){
      var ok=(!vc||(' '+s.dataset.vcs+' ').indexOf(' '+vc+' ')>=0)&&(!t||s.textContent.toLowerCase().indexOf(t)>=0);
      s.classList.toggle('hidden',!ok);
      var d=s.closest('.diagram');
      if(ok&&s.classList.contains('setup')) d.dataset.matches=+d.dataset.matches+1;
      if(ok&&(!s.classList.contains('setup')||d.classList.contains('open'))) shown++;
    });
    document.querySelectorAll('.setup-row .count').forEach(function(c){
      c.textContent=c.closest('.diagram').dataset.matches;
    });
    document.getElementById('shown').textContent=shown;
    document.body.dataset.shown=shown;
  }
  document.querySelectorAll('.setup-row button').forEach(function(b){
    b.addEventListener('click',function(){
      var d=b.closest('.diagram'), open=d.classList.toggle('open');
      b.setAttribute('aria-expanded',open?'true':'false');
      b.querySelector('.tri').textContent=open?'\\u25be':'\\u25b8';
      apply();
    });
  });
  document.querySelectorAll('#violations a.step-link').forEach(function(a){
    a.addEventListener('click',function(){ sel.value=''; txt.value=''; apply(); });
  });
  // a filter can come with the address: page.html?vc=A:VC%200x10&text=CloseCall&setup=open
  var q=new URLSearchParams(location.search);
  if(q.get('vc')) sel.value=q.get('vc');
  if(q.get('text')) txt.value=q.get('text');
  if(q.get('setup')==='open') document.querySelectorAll('.setup-row button').forEach(function(b){ b.click(); });
  sel.addEventListener('change',apply); txt.addEventListener('input',apply); apply();
  document.body.dataset.ready='1';
})();
"""


def render_html(records: Iterable[Record], title: str = "condis run",
                sections: list[tuple[str, Iterable[Record]]] | None = None) -> str:
    """The page, as a string: one diagram of ``records``, or one per titled section."""
    parts = sections if sections is not None else [("", records)]
    bodies: list[str] = []
    vcs: list[str] = []
    found: list[tuple[int, Record]] = []
    total = shown = 0
    hosts: list[str] = []
    for i, (heading, recs) in enumerate(parts):
        body, n, visible = _diagram(i, list(recs), vcs, total, found, hosts)
        if heading:
            bodies.append(f"<h2>{html.escape(heading)}</h2>")
        bodies.append(body)
        total, shown = total + n, shown + visible
    options = "".join(f'<option value="{html.escape(v)}">{html.escape(v)}</option>' for v in vcs)
    return _PAGE.format(title=html.escape(title), style=_STYLE, n=total, shown=shown, hosts=len(hosts),
                        violations=len(found), summary=_summary(found), options=options,
                        diagrams="\n".join(bodies), script=_SCRIPT)


def _summary(found: list[tuple[int, Record]]) -> str:
    if not found:
        return '<p class="clean" id="no-violations">No violations.</p>'
    items = []
    for step, r in found:
        page = r.result
        title, url = page_link(page) if page else ("", "")
        text = r.args
        cut = text.rfind(" see ")
        if url and cut >= 0 and text.endswith(url):
            text = text[:cut]          # the page is linked below instead
        link = f' — see <a class="page" href="{html.escape(url)}">{html.escape(title)}</a>' if url else ""
        items.append(f'<li><a class="step-link" href="#step-{step}">step {step}</a> '
                     f'<span class="rule">{html.escape(r.name)}</span> on host {html.escape(r.host)}: '
                     f'{html.escape(text)}{link}</li>')
    return (f'<section id="violations"><h2>{len(found)} violation(s)</h2><ol>{"".join(items)}</ol></section>')


def _diagram(index: int, records: list[Record], vcs: list[str], first: int, found: list[tuple[int, Record]],
             hosts: list[str]) -> tuple[str, int, int]:
    """One run in lanes: (its HTML, how many steps, how many shown at first)."""
    recs = drawable(records)
    lanes = _lanes_of(recs)
    x = {lane: i * LANE + LANE // 2 for i, lane in enumerate(lanes)}
    width = max(len(lanes), 1) * LANE
    setup = setup_length(recs)
    rows: list[str] = []
    n = setup_steps = 0
    for i, r in enumerate(recs):
        if r.kind == "frame":
            a = next((x[k] for k in x if k[0] == r.host and k[1] in ("MCM", "Miniport")), None)
            b = next((x[k] for k in x if k[0] == r.driver and k[1] in ("MCM", "Miniport")), None)
            if a is None or b is None:
                continue
            label, result = f"≈ {r.name}", ""
        elif r.kind == "violation":
            a = b = x.get((r.host, "NDIS"), LANE // 2)
            label, result = f"VIOLATION {r.name}: {r.args}", ""
        else:
            lane, ndis = (r.host, r.role or "Client"), (r.host, "NDIS")
            if lane not in x or ndis not in x:
                continue
            a, b = (x[lane], x[ndis]) if r.kind == "ddi" else (x[ndis], x[lane])
            label, result = f"{r.name}({qualify(r.host, r.args)})", qualify(r.host, r.result)
        n += 1
        step = first + n
        if r.host and r.host not in hosts:
            hosts.append(r.host)
        tags = sorted(set(_VC.findall(f"{label} {result}" if r.kind != "violation" else qualify(r.host, r.args))))
        vcs.extend(t for t in tags if t not in vcs)
        in_setup = i < setup
        setup_steps += in_setup
        cls = f"row step {r.kind}" + (" setup" if in_setup else "")
        if r.kind == "violation":
            found.append((step, r))
            drawing = f'<span class="mark" style="left:{a}px">!!</span>'
        else:
            side = "r" if b > a else "l"
            drawing = f'<i class="arrow {side}" style="left:{min(a, b)}px;width:{abs(b - a)}px"></i>'
        res = f' <span class="result">→ {html.escape(result)}</span>' if result else ""
        rows.append(f'<div class="{cls}" id="step-{step}" data-step="{step}" data-vcs="{html.escape(" ".join(tags))}">'
                    f'<span class="num">{step}</span><span class="lanes">{drawing}</span>'
                    f'<span class="label">{html.escape(label)}{res}</span></div>')
    if setup_steps:
        rows.insert(0, f'<div class="row setup-row"><span class="num"></span><span class="lanes"></span>'
                                 f'<span class="label"><button type="button" aria-expanded="false">'
                                 f'<span class="tri">▸</span> set-up: drivers loaded, adapters bound, address '
                                 f'families registered and opened, SAPs registered — steps {first + 1}–'
                                 f'{first + setup_steps} (<span class="count">{setup_steps}</span> shown when '
                                 f'opened)</button></span></div>')
    heads = "".join(f'<span style="left:{cx}px">{html.escape(host)}: {html.escape(role)}</span>'
                    for (host, role), cx in x.items())
    # lifelines and the line between hosts, drawn as the background of every row's lanes
    layers = []
    seen: list[str] = []
    for (host, _), cx in x.items():
        if seen and host not in seen:
            layers.append(f"linear-gradient(#8e8e93,#8e8e93) {cx - LANE // 2}px 0/1px 100% no-repeat")
        if host not in seen:
            seen.append(host)
    half = LANE // 2
    layers.append(f"linear-gradient(to right,transparent {half - 1}px,#c7c7cc {half - 1}px,#c7c7cc "
                  f"{half}px,transparent {half}px) 0 0/{LANE}px 100% repeat-x")
    style = f"#d{index} .lanes{{width:{width}px;background:{','.join(layers)}}}"
    body = (f'<style>{style}</style><div class="diagram" id="d{index}" data-setup="{setup_steps}">'
            f'<div class="row head"><span class="num">step</span><span class="lanes">{heads}</span>'
            f'<span class="label">what happened</span></div>{"".join(rows)}</div>')
    return body, n, n - setup_steps


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>{style}</style></head>
<body data-steps="{n}" data-violations="{violations}">
<h1>{title}</h1>
<p class="summary">{n} steps on {hosts} host(s); {violations} violation(s).</p>
{summary}
<p class="legend">Blue: a driver calls NDIS. Green: NDIS calls a driver's handler. Purple, dashed: a frame on the
wire. Handles are named with their host (A:VC 0xe).</p>
<div class="controls"><label>VC <select id="vc"><option value="">all</option>{options}</select></label>
<label>text <input id="text" type="search" placeholder="NdisClCloseCall"></label>
showing <span id="shown">{shown}</span> of {n} steps</div>
{diagrams}
<script>{script}</script>
</body></html>
"""
