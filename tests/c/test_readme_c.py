"""The README's "Test your C driver" walk-through works as written: the sample builds, the script
prints what the README shows, the planted bug is named at its C line."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("## Test your C driver\n")
    return text[start:text.index("\n## ", start + 1)]


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```$", _section(), re.S | re.M)


def _condis(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "condis.cli", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **env})


def test_the_c_walk_through_runs_as_written(tmp_path):
    samples = Path(_condis(["cc", "--samples"], tmp_path).stdout.strip())
    work = tmp_path / "myclient"
    shutil.copytree(samples / "echo", work)
    assert _condis(["cc", "echo_client.c", "-o", "echo.so"], work).returncode == 0
    run_echo, scenario = _blocks("python")
    (work / "run_echo.py").write_text(run_echo)
    (work / "scenario.py").write_text(scenario)
    done = subprocess.run([sys.executable, "run_echo.py"], cwd=work, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert done.stdout == _blocks("text")[0]
    # the planted bug, named at the line the README shows
    assert _condis(["cc", "echo_client.c", "-o", "echo-bug.so", "--", "-DECHO_FORGETS_SOURCE_HANDLE"],
                   work).returncode == 0
    bug = subprocess.run([sys.executable, "run_echo.py", "echo-bug.so"], cwd=work, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    line = re.search(r"echo_client\.c:(\d+) \(EchoReceive\)", _blocks("text")[1]).group(1)
    assert f"[called from {work / 'echo_client.c'}:{line} (EchoReceive)]" in bug.stderr
    # the scenario explores clean with the sample as it is
    explored = _condis(["explore", "scenario.py:call", "-n", "30"], work)
    assert explored.returncode == 0, explored.stderr
