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


PENDED_CLOSE_AF = '''
import condis
from condis.drivers.mcm import AtmMcm

_close_af = AtmMcm.CmCloseAf


def _pend_close_af(self, CallMgrAfContext):
    """The close of an AF pended, and completed later at DISPATCH_LEVEL."""
    _close_af(self, CallMgrAfContext)
    self.ndis.post(self.ndis.NdisMCmCloseAddressFamilyComplete, condis.NDIS_STATUS_SUCCESS,
                   CallMgrAfContext.ndis_af, irql=condis.DISPATCH_LEVEL, owner=("atmmcm", "MCM"))
    return condis.NDIS_STATUS_PENDING


AtmMcm.CmCloseAf = _pend_close_af
'''


def test_the_walk_through_client_finishes_an_unbind_that_waits_for_its_af_to_close(tmp_path):
    code = _blocks(_section("Write your own driver"), "python")
    script = tmp_path / "first_driver.py"
    script.write_text(PENDED_CLOSE_AF + "\n\n".join(code), encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert "condis verifier: no violations\n" in done.stdout
    from condis.trace.files import read_jsonl
    steps = [(r.host, r.name, r.result) for r in read_jsonl(tmp_path / "first-call.jsonl")
             if r.host == "A" and r.driver == "myclient" and r.kind in ("ddi", "handler")]
    names = [name for _, name, _ in steps]
    unbind = names.index("ProtocolUnbindAdapterEx")
    assert steps[unbind][2] == "NDIS_STATUS_PENDING"
    assert names[unbind:] == ["ProtocolUnbindAdapterEx", "NdisClCloseAddressFamily", "ProtocolClCloseAfComplete",
                              "IoQueueWorkItemEx", "WorkItemRoutine", "IoUninitializeWorkItem",
                              "NdisFreeNetBufferListPool", "NdisCloseAdapterEx", "NdisCompleteUnbindAdapterEx",
                              "Unload", "NdisDeregisterProtocolDriver"]
