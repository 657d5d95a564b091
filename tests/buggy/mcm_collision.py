"""An MCM that forgets the clearing collision: when both ends release a call at once, the peer's
RELEASE reaches a call whose own close is pending, and this MCM indicates it to the client as a
new incoming close (NdisMCmDispatchIncomingCloseCall) instead of completing the pended close."""

from __future__ import annotations

from typing import Any

from condis import NDIS_STATUS_SUCCESS
from condis.drivers import signaling as sig
from condis.drivers.callcontrol import RELEASE_IND, RELEASE_REQ, PartyCtx, VcCtx
from condis.drivers.mcm import AtmMcm
from condis.explore.scenarios import close_race, two_hosts


class CollisionMcm(AtmMcm):
    def _remote_release(self, vc: VcCtx, party: PartyCtx | None, msg: sig.Message) -> None:
        if vc.state == RELEASE_REQ:
            # BUG: a RELEASE crossing our own is a new incoming close to this driver.
            vc.state = RELEASE_IND
            self.cm("DispatchIncomingCloseCall")(NDIS_STATUS_SUCCESS, vc.ndis_vc, None, 0)
            return
        super()._remote_release(vc, party, msg)


def scenario(sim: Any) -> Any:
    bed = two_hosts(sim, "mcm", mcm=CollisionMcm)
    close_race(bed)
    return bed.check
