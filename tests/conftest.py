"""Shared fixtures: two-host testbeds with a recorder, and the sequence of protocol calls a run made."""

from __future__ import annotations

import pytest

from condis.demo import Testbed
from condis.demo import testbed as make_bed
from condis.trace import Recorder
from condis.trace.recorder import SUPPORT_DDIS

# condis's own plugin is active here as it is once condis is installed (where its pytest11 entry
# point, under the same name, loads it: it is not loaded twice); pytester tests the plugin.
pytest_plugins = ["condis.pytest_plugin", "pytester"]


def steps(recorder: Recorder, since: int = 0, host: str | None = None, frames: bool = False,
          drivers: tuple[str, ...] = ()) -> list[str]:
    """The protocol DDI and handler calls recorded since ``since``, as "host:name" strings, in order.

    ``drivers`` keeps only the calls made by (DDIs) or into (handlers) the named drivers.
    Plumbing (spin locks, NBL and timer bookkeeping) is left out, as the guide's figures leave it out.
    """
    out = []
    for r in recorder.records[since:]:
        if host is not None and r.host != host:
            continue
        if drivers and r.driver not in drivers:
            continue
        if r.kind == "ddi" and r.name not in SUPPORT_DDIS:
            out.append(f"{r.host}:{r.name}")
        elif r.kind == "handler" and r.name not in ("WorkItemRoutine", "TimerFunction"):
            out.append(f"{r.host}:{r.name}")
        elif frames and r.kind == "frame":
            out.append(f"{r.host}:~{r.name.split()[0]}")
    return out


@pytest.fixture(params=["mcm", "cm"])
def bed(request: pytest.FixtureRequest) -> Testbed:
    """A testbed of either kind, with a recorder."""
    return make_bed(request.param, Recorder())


@pytest.fixture
def mcm() -> Testbed:
    return make_bed("mcm", Recorder())


@pytest.fixture
def cm() -> Testbed:
    return make_bed("cm", Recorder())
