"""Explorer scenarios on the C samples: the planted races, compiled in with a -D, and the same
workloads on the correct images.

``condis explore tests/c/planted.py:mcm_collision`` runs the C MCM built with
ATMMCM_PLANT_CLEARING_COLLISION (the C form of tests/buggy/mcm_collision.py) on both hosts;
``client_deferred_close`` the C client built with ATMCLIENT_PLANT_DEFERRED_CLOSE (the C form of
tests/buggy/client_deferred_close.py) over the Python MCM. The others run the built-in
workloads (condis/explore/scenarios.py) on the correct images: the C MCM under the Python
client, the C client over the Python MCM or stand-alone call manager, and both C samples.
"""

from __future__ import annotations

from typing import Any

from condis.explore.scenarios import (
    af_withdraw,
    call_flow,
    close_race,
    drop_party_race,
    hangup_while_connecting,
    two_hosts,
)
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


def mcm_af_withdraw(sim: Any) -> Any:
    bed = two_hosts(sim, "mcm", mcm=c_mcm())
    af_withdraw(bed)
    return bed.check


def mcm_drop_party_race(sim: Any) -> Any:
    bed = two_hosts(sim, "mcm", mcm=c_mcm())
    drop_party_race(bed)
    return bed.check


def mcm_hangup_while_connecting(sim: Any) -> Any:
    bed = two_hosts(sim, "mcm", mcm=c_mcm())
    hangup_while_connecting(bed)
    return bed.check


def client_af_withdraw(sim: Any) -> Any:
    bed = two_hosts(sim, "mcm", client=c_client())
    af_withdraw(bed)
    return bed.check


def client_hangup_while_connecting(sim: Any) -> Any:
    bed = two_hosts(sim, "mcm", client=c_client())
    hangup_while_connecting(bed)
    return bed.check


def client_over_the_call_manager(sim: Any) -> Any:
    bed = two_hosts(sim, "cm", client=c_client())
    call_flow(bed)
    return bed.check


def all_c_call_flow(sim: Any) -> Any:
    bed = two_hosts(sim, "mcm", mcm=c_mcm(), client=c_client())
    call_flow(bed)
    return bed.check


def all_c_close_race(sim: Any) -> Any:
    bed = two_hosts(sim, "mcm", mcm=c_mcm(), client=c_client())
    close_race(bed)
    return bed.check


def client_drop_party_race(sim: Any) -> Any:
    bed = two_hosts(sim, "mcm", client=c_client())
    drop_party_race(bed)
    return bed.check


def all_c_drop_party_race(sim: Any) -> Any:
    bed = two_hosts(sim, "mcm", mcm=c_mcm(), client=c_client())
    drop_party_race(bed)
    return bed.check
