"""A client that acknowledges an incoming close later, from a work item, and meanwhile leaves the
call looking up to its application: when the user hangs up in between, NdisClCloseCall is called
twice for one call."""

from __future__ import annotations

from typing import Any

from condis.drivers.client import AtmClient, Call
from condis.explore.scenarios import close_race, two_hosts


class DeferringClient(AtmClient):
    def ClIncomingCloseCall(self, CloseStatus: int, ProtocolVcContext: Call, CloseData: Any, Size: int) -> None:
        call = ProtocolVcContext
        call.events.append("incoming-close")
        item = self.ndis.NdisAllocateIoWorkItem(call.af.binding.handle)

        def acknowledge(ctx: Any, handle: Any) -> None:
            self.ndis.NdisFreeIoWorkItem(handle)
            self.close(call)        # BUG: the application may have closed the call since
        self.ndis.NdisQueueIoWorkItem(item, acknowledge, None)


def scenario(sim: Any) -> Any:
    bed = two_hosts(sim, "mcm", client=DeferringClient)
    close_race(bed)
    return bed.check
