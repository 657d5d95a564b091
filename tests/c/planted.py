"""Explorer scenarios on the C samples: the planted races, compiled in with a -D, and the same
workloads on the correct images.

``condis explore tests/c/planted.py:mcm_collision`` runs the C MCM built with
ATMMCM_PLANT_CLEARING_COLLISION (the C form of tests/buggy/mcm_collision.py) on both hosts;
``client_deferred_close`` the C client built with ATMCLIENT_PLANT_DEFERRED_CLOSE (the C form of
tests/buggy/client_deferred_close.py) over the Python MCM. ``mcm_clean`` and ``client_clean``
are the same races on the correct images.
"""

from __future__ import annotations

from typing import Any

from condis.explore.scenarios import call_flow, close_race, two_hosts
from tests.c.samples import c_client, c_mcm


def mcm_collision(sim: Any) -> Any:
    bed = two_hosts(sim, "mcm", mcm=c_mcm("-DATMMCM_PLANT_CLEARING_COLLISION"))
    close_race(bed)
    return bed.check


def mcm_clean(sim: Any) -> Any:
    bed = two_hosts(sim, "mcm", mcm=c_mcm())
    close_race(bed)
    return bed.check


def mcm_call_flow(sim: Any) -> Any:
    bed = two_hosts(sim, "mcm", mcm=c_mcm())
    call_flow(bed)
    return bed.check


def client_deferred_close(sim: Any) -> Any:
    bed = two_hosts(sim, "mcm", client=c_client("-DATMCLIENT_PLANT_DEFERRED_CLOSE"))
    close_race(bed)
    return bed.check


def client_clean(sim: Any) -> Any:
    bed = two_hosts(sim, "mcm", client=c_client())
    close_race(bed)
    return bed.check
