"""An MCM that trusts the wire: it never arms its retransmission timer, so a SETUP, CONNECT or
RELEASE the wire loses is never sent again and its call waits for an answer that does not come.
It runs clean as long as no frame is lost; the explorer finds it only with frame faults."""

from __future__ import annotations

from typing import Any

from condis.drivers.callcontrol import Port
from condis.drivers.mcm import AtmMcm
from condis.explore.scenarios import call_flow, two_hosts


class TrustingMcm(AtmMcm):
    def _arm(self, port: Port) -> None:
        """BUG: "the wire never loses a frame" -- nothing is ever retransmitted."""


def scenario(sim: Any) -> Any:
    bed = two_hosts(sim, "mcm", mcm=TrustingMcm)
    call_flow(bed)
    return bed.check
