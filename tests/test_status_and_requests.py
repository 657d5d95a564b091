"""Status indications and OID requests: who hears a miniport's status, and when NDIS halts an
adapter that still has requests outstanding."""

from __future__ import annotations

from typing import Any

import pytest

from condis import (
    NDIS_OID_REQUEST,
    NDIS_STATUS_INDICATION,
    NDIS_STATUS_PENDING,
    NDIS_STATUS_SUCCESS,
    OID_GEN_CO_LINK_SPEED,
)
from condis.demo import testbed as make_bed
from condis.drivers.mcm import AtmMcm
from condis.drivers.miniport import AtmMiniport
from condis.trace import Recorder
from tests.conftest import steps

_STATUS = 0x4001000B


def test_a_status_with_a_destination_handle_reaches_only_that_binding():
    bed = make_bed("cm", Recorder())
    host, client = bed.hosts[0], bed.clients[0]
    request = NDIS_OID_REQUEST(Oid=OID_GEN_CO_LINK_SPEED)
    statuses = []
    bed.do(0, lambda: statuses.append(host.NdisCoOidRequest(client.bindings[0].handle, None, None, None, request)))
    assert statuses == [NDIS_STATUS_SUCCESS]
    assert request.RequestHandle is client.bindings[0].handle    # NDIS names the requester
    adapter = host.adapters["atm0"]
    mark = len(bed.recorder.records)

    def indicate(dest):
        host.NdisMCoIndicateStatusEx(adapter, None, NDIS_STATUS_INDICATION(
            SourceHandle=adapter, StatusCode=_STATUS, DestinationHandle=dest, RequestId=request.RequestId))
    host.post(indicate, request.RequestHandle, irql=2)
    bed.run()
    assert _heard(bed, mark, "atmclient") == ["A:ProtocolCoStatusEx"]
    assert _heard(bed, mark, "atmcm") == []
    assert client.log[-1] == ("status", _STATUS)
    host.post(indicate, None, irql=2)       # without one, every binding of the adapter hears it
    mark = len(bed.recorder.records)
    bed.run()
    assert _heard(bed, mark, "atmclient") == _heard(bed, mark, "atmcm") == ["A:ProtocolCoStatusEx"]


def _heard(bed, mark, driver):
    return [s for s in steps(bed.recorder, mark, host="A", drivers=(driver,)) if s.endswith("ProtocolCoStatusEx")]


class HoldsOids:
    """Pends every OID request made to the miniport and completes none until told."""

    def MiniportCoOidRequest(self, MiniportAdapterContext: Any, MiniportVcContext: Any, NdisRequest: Any) -> int:
        self.held = (MiniportAdapterContext, NdisRequest)
        return NDIS_STATUS_PENDING

    def complete_held(self) -> None:
        adapter, request = self.held
        self.ndis.NdisMCoOidRequestComplete(adapter.handle, None, request, NDIS_STATUS_SUCCESS)


class HoldsOidsMcm(HoldsOids, AtmMcm):
    pass


class HoldsOidsMiniport(HoldsOids, AtmMiniport):
    pass


@pytest.mark.parametrize("kind", ["mcm", "cm"])
def test_the_halt_waits_for_the_oid_requests_outstanding_at_the_miniport(kind):
    # Only a protocol that closes its binding with its request outstanding leaves one at the miniport
    # when NDIS would halt it (a close the verifier reports): record mode, so the run goes on.
    bed = make_bed(kind, Recorder(), verify="record", mcm=HoldsOidsMcm, miniport=HoldsOidsMiniport)
    host, client = bed.hosts[0], bed.clients[0]
    miniport = host.drivers["atmmcm" if kind == "mcm" else "atmmp"].miniport.context
    request = NDIS_OID_REQUEST(Oid=OID_GEN_CO_LINK_SPEED)
    statuses = []
    bed.do(0, lambda: statuses.append(host.NdisCoOidRequest(client.bindings[0].handle, None, None, None, request)))
    assert statuses == [NDIS_STATUS_PENDING]
    mark = len(bed.recorder.records)
    done = host.remove_adapter("atm0")
    bed.run()
    assert "A:MiniportPause" in steps(bed.recorder, mark) and "A:MiniportHaltEx" not in steps(bed.recorder, mark)
    assert not done.done
    assert [v.rule for v in bed.sim.verifier.violations] == ["condis.CloseWithRequests"]
    mark = len(bed.recorder.records)
    host.post(miniport.complete_held)
    bed.run()
    assert steps(bed.recorder, mark, host="A")[:3] == ["A:NdisMCoOidRequestComplete", "A:ProtocolCoOidRequestComplete",
                                                      "A:MiniportHaltEx"]
    assert done.done
