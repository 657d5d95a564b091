"""The README's "Write your own driver" walk-through runs as written and prints what it says."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _section(title: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end >= 0 else len(text)]


def _blocks(section: str, lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```$", section, re.S | re.M)


def test_the_walk_through_has_no_elisions():
    for code in _blocks(_section("Write your own driver"), "python"):
        assert "..." not in code and "…" not in code


def test_the_walk_through_runs_as_written_and_prints_what_the_readme_shows(tmp_path):
    section = _section("Write your own driver")
    code = _blocks(section, "python")
    assert len(code) == 4
    script = tmp_path / "first_driver.py"
    script.write_text("\n\n".join(code), encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    [shown] = _blocks(section, "text")
    assert done.stdout == shown
    # the trace it saved is one `condis trace` reads
    from condis.trace.files import file_kind, read_jsonl
    trace = tmp_path / "first-call.jsonl"
    assert file_kind(trace) == "trace"
    names = [r.name for r in read_jsonl(trace)]
    assert names.count("NdisClMakeCall") == 1 and "ProtocolClMakeCallComplete" in names and "NdisCoDeleteVc" in names
