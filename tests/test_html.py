"""The design-review HTML page of a run, and the same page opened in a real headless browser
(Debian's chromium)."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from condis.cli import main
from condis.errors import page_link
from condis.rules import RULES
from condis.trace.html import qualify, render_html, setup_length
from condis.trace.lanes import drawable

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
BUG = str(Path(__file__).parent / "buggy" / "mcm_collision.py") + ":scenario"
needs_browser = pytest.mark.skipif(CHROMIUM is None, reason="no browser: install Debian's chromium "
                                   "(apt-get update && apt-get install -y chromium) to run this test")
_ROW = re.compile(r'<div class="row step (\w+)( setup)?" id="step-(\d+)" data-step="(\d+)" data-vcs="([^"]*)">'
                  r'.*?<span class="label">(.*?)</span></div>')


def _close_page(mcm) -> str:
    calls = []
    mcm.do(0, lambda: calls.append(mcm.clients[0].place_call(b"bob")))
    mcm.do(0, mcm.clients[0].close, calls[0])
    return render_html(mcm.recorder.records, "close")


def test_page_has_lanes_numbered_steps_and_a_vc_filter(mcm):
    page = _close_page(mcm)
    for lane in ("A: Client", "A: NDIS", "A: MCM", "B: MCM", "B: NDIS", "B: Client"):
        assert f">{lane}</span>" in page
    rows = _ROW.findall(page)
    assert [int(r[3]) for r in rows] == list(range(1, len(rows) + 1))
    assert all(r[2] == r[3] for r in rows)
    assert 'data-vcs="A:VC 0x' in page and '<option value="A:VC 0x' in page and '<option value="B:VC 0x' in page
    # opens offline: nothing is fetched
    assert "<link" not in page and " src=" not in page and "@import" not in page
    assert '<p class="clean" id="no-violations">No violations.</p>' in page


def test_set_up_is_one_collapsed_row_and_the_rest_is_shown(mcm):
    page = _close_page(mcm)
    recs = drawable(mcm.recorder.records)
    n = setup_length(recs)
    rows = _ROW.findall(page)
    setup = [r for r in rows if r[1]]
    assert n > 20 and len(setup) == n and [int(r[3]) for r in setup] == list(range(1, n + 1))
    assert {recs[i].name for i in range(n)} >= {"DriverEntry", "ProtocolBindAdapterEx", "NdisMCmRegisterAddressFamilyEx",
                                                "NdisClOpenAddressFamilyEx", "NdisClRegisterSap"}
    assert recs[n].name == "NdisCoCreateVc"          # the first step of the call
    assert f'data-setup="{n}"' in page and ".diagram:not(.open) .step.setup{display:none}" in page
    assert page.count('class="row setup-row"') == 1
    assert f"steps 1–{n} (<span class=\"count\">{n}</span> shown when opened)" in page
    assert f'showing <span id="shown">{len(rows) - n}</span> of {len(rows)} steps' in page


def test_handles_are_named_with_their_host(mcm):
    page = _close_page(mcm)
    for kind, _, _, _, _, label in _ROW.findall(page):
        if kind in ("ddi", "handler"):
            assert not re.search(r"(?<![AB]:)\b(VC|AF|SAP|binding) 0x", label), label
    assert "NdisClCloseCall(A:VC 0x" in page and "NdisMCmDispatchIncomingCloseCall(NDIS_STATUS_SUCCESS, B:VC 0x" in page
    assert qualify("B", "VC 0xe, AF 0x3, NBL pool 0xb, 1 NBL") == "B:VC 0xe, B:AF 0x3, B:NBL pool 0xb, 1 NBL"


def test_labels_wrap_instead_of_being_clipped(mcm):
    page = _close_page(mcm)
    label_rule = re.search(r"\.label\{([^}]*)\}", page).group(1)
    assert "overflow-wrap:anywhere" in label_rule and "white-space:normal" in label_rule
    assert "nowrap" not in label_rule and "overflow:hidden" not in page and "text-overflow" not in page
    assert "<svg" not in page            # no fixed-size drawing for text to run off


def _violation_page(tmp_path: Path) -> Path:
    schedule, page = tmp_path / "f.json", tmp_path / "failure.html"
    assert main(["explore", BUG, "-n", "200", "-o", str(schedule)]) == 1
    assert main(["replay", str(schedule), "--html", str(page)]) == 1
    return page


def test_the_summary_links_each_violation_to_its_step_and_page(tmp_path):
    text = _violation_page(tmp_path).read_text()
    summary = text[text.index('<section id="violations">'):text.index("</section>")]
    [(step, rule)] = re.findall(r'<a class="step-link" href="#step-(\d+)">step \d+</a> <span class="rule">([\w.]+)',
                                summary)
    assert rule == "condis.CallState"
    assert f'id="step-{step}"' in text and 'class="row step violation"' in text
    title, url = page_link(RULES["condis.CallState"].page)
    assert f'<a class="page" href="{url}">{title}</a>' in summary and url.startswith("https://learn.microsoft.com/")
    assert text.index('<section id="violations">') < text.index('class="diagram"')      # at the top


def _png_pixels(path: Path) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of RGB(A) bytes) of an 8-bit PNG, decoded with zlib alone."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, head = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            head = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    width, height, depth, color, _, _, interlace = head
    assert depth == 8 and color in (2, 6) and interlace == 0
    bpp = 3 if color == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, [b"".join(r[i:i + 3] for i in range(0, stride, bpp)) for r in rows]


@needs_browser
def test_the_demo_page_renders_in_a_headless_browser(tmp_path):
    page = tmp_path / "demo.html"
    assert main(["demo", "--html", str(page)]) == 0
    profile = tmp_path / "profile"
    dom = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=2000",
                          "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120).stdout
    # the script ran: it marked the page ready and counted the steps it shows, the set-up left out
    assert 'data-ready="1"' in dom
    total = int(re.search(r'data-steps="(\d+)"', dom).group(1))
    setups = [int(n) for n in re.findall(r'class="diagram" id="d\d" data-setup="(\d+)"', dom)]
    assert total > 100 and len(setups) == 2 and all(n > 20 for n in setups)
    assert f'data-shown="{total - sum(setups)}"' in dom
    assert "Through the MCM" in dom and "Through the stand-alone call manager" in dom
    assert "NdisMCmCloseCallComplete" in dom and "A: Call Manager" in dom and "No violations." in dom
    # a filter given with the address hides the other steps
    text = page.read_text()
    wanted = sum(1 for kind, setup, _, _, _, label in _ROW.findall(text) if not setup and "NdisClCloseCall(" in label)
    dom = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=2000",
                          "--dump-dom", page.as_uri() + "?text=NdisClCloseCall("], capture_output=True, text=True,
                         timeout=120).stdout
    assert wanted >= 4 and f'data-shown="{wanted}"' in dom
    # the set-up row opens: every step is shown, the set-up's under its row
    dom = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=2000",
                          "--dump-dom", page.as_uri() + "?setup=open"], capture_output=True, text=True,
                         timeout=120).stdout
    assert f'data-shown="{total}"' in dom and dom.count('class="diagram open"') == 2
    assert dom.count('aria-expanded="true"') == 2


@needs_browser
def test_the_first_screen_of_a_failing_run_shows_the_violation(tmp_path):
    page = _violation_page(tmp_path)
    shot = tmp_path / "failure.png"
    subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1400,1000",
                    "--hide-scrollbars", f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=120)
    width, height, rows = _png_pixels(shot)
    assert (width, height) == (1400, 1000)
    colours = {rows[y][x * 3:x * 3 + 3] for y in range(0, height, 7) for x in range(0, width, 7)}
    assert len(colours) > 20                               # not a blank page
    # the summary's red frame and pink fill (#b02a37, #fbe9eb) are within the first screen's top third
    top = {rows[y][x * 3:x * 3 + 3] for y in range(0, height // 3) for x in range(0, width, 3)}
    assert bytes((0xb0, 0x2a, 0x37)) in top and bytes((0xfb, 0xe9, 0xeb)) in top
