"""The HTML page of a run, opened in a real headless browser (Debian's chromium)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from condis.cli import main
from condis.trace.html import render_html

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def test_page_has_lanes_numbered_steps_and_a_vc_filter(mcm):
    calls = []
    mcm.do(0, lambda: calls.append(mcm.clients[0].place_call(b"bob")))
    mcm.do(0, mcm.clients[0].close, calls[0])
    page = render_html(mcm.recorder.records, "close")
    for lane in ("A: Client", "A: NDIS", "A: MCM", "B: MCM", "B: NDIS", "B: Client"):
        assert f">{lane}</text>" in page
    steps = re.findall(r'<g class="step (\w+)" data-step="(\d+)"', page)
    assert [int(n) for _, n in steps] == list(range(1, len(steps) + 1))
    assert 'data-vcs="A:VC 0x' in page and '<option value="A:VC 0x' in page
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")     # opens offline


@pytest.mark.skipif(CHROMIUM is None, reason="no browser: install Debian's chromium "
                    "(apt-get update && apt-get install -y chromium) to run this test")
def test_the_demo_page_renders_in_a_headless_browser(tmp_path):
    page = tmp_path / "demo.html"
    assert main(["demo", "--html", str(page)]) == 0
    profile = tmp_path / "profile"
    dom = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=2000",
                          "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120).stdout
    # the script ran: it marked the page ready and counted the steps it shows
    assert 'data-ready="1"' in dom
    total = int(re.search(r'data-steps="(\d+)"', dom).group(1))
    assert total > 100 and f'data-shown="{total}"' in dom
    assert "Through the MCM" in dom and "Through the stand-alone call manager" in dom
    assert "NdisMCmCloseCallComplete" in dom and "A: Call Manager" in dom
    shot = tmp_path / "demo.png"
    subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--window-size=1400,1000",
                    f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 20_000
