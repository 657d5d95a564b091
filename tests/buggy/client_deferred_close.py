"""A client that acknowledges an incoming close later, from a work item, and meanwhile leaves the
call looking up to its application: when the user hangs up in between, NdisClCloseCall is called
twice for one call."""

from __future__ import annotations

from typing import Any

from condis.constants import DelayedWorkQueue
from condis.drivers.client import AtmClient, Call
from condis.explore.scenarios import close_race, two_hosts
from condis.structs import IO_WORKITEM


class DeferringClient(AtmClient):
    def ClIncomingCloseCall(self, CloseStatus: int, ProtocolVcContext: Call, CloseData: Any, Size: int) -> None:
        call = ProtocolVcContext
        call.events.append("incoming-close")
        item = IO_WORKITEM()
        self.ndis.IoInitializeWorkItem(self.driver_object, item)

        def acknowledge(IoObject: Any, Context: Any, IoWorkItem: Any) -> None:
            self.ndis.IoUninitializeWorkItem(IoWorkItem)
            self.close(call)        # BUG: the application may have closed the call since
        self.ndis.IoQueueWorkItemEx(item, acknowledge, DelayedWorkQueue, None)


def scenario(sim: Any) -> Any:
    bed = two_hosts(sim, "mcm", client=DeferringClient)
    close_race(bed)
    return bed.check
