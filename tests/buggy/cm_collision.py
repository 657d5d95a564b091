"""A stand-alone call manager that ignores a RELEASE crossing its own: it waits for a RELEASE
COMPLETE the peer never sends (the peer, in the same collision, took our RELEASE as the answer),
so ProtocolCmCloseCall's NDIS_STATUS_PENDING is never completed and the call stays closing."""

from __future__ import annotations

from typing import Any

from condis.drivers import signaling as sig
from condis.drivers.callcontrol import RELEASE_REQ, PartyCtx, VcCtx
from condis.drivers.cm import AtmCallManager
from condis.explore.scenarios import close_race, two_hosts


class DeafCallManager(AtmCallManager):
    def _remote_release(self, vc: VcCtx, party: PartyCtx | None, msg: sig.Message) -> None:
        if vc.state == RELEASE_REQ:
            return      # BUG: "we are releasing already" -- but the peer will not answer a crossing RELEASE
        super()._remote_release(vc, party, msg)


def scenario(sim: Any) -> Any:
    bed = two_hosts(sim, "cm", cm=DeafCallManager)
    close_race(bed)
    return bed.check
