"""What a completion handler is given when the request it completes failed: NULL (None) for the
handle the request would have created (each completion handler's page)."""

from __future__ import annotations

from typing import Any

import pytest

from condis import NDIS_STATUS_PENDING, NDIS_STATUS_RESOURCES
from condis.demo import testbed as make_bed
from condis.drivers.client import AtmClient
from condis.drivers.cm import AtmCallManager
from condis.drivers.mcm import AtmMcm
from condis.trace import Recorder


class FailsLater:
    """Pends a client's AF open (``fail_open``) or SAP registration and fails it from a work item."""

    fail_open = True

    def _port(self) -> Any:
        return self.adapters[0] if hasattr(self, "adapters") else self.bindings[0]

    def CmOpenAf(self, ctx: Any, family: Any, handle: Any) -> tuple[int, Any]:
        if not self.fail_open:
            return super().CmOpenAf(ctx, family, handle)
        self.later(self._port(), lambda: self.cm("OpenAddressFamilyComplete")(NDIS_STATUS_RESOURCES, handle, None))
        return NDIS_STATUS_PENDING, None

    def CmRegisterSap(self, af: Any, sap: Any, handle: Any) -> tuple[int, Any]:
        self.later(self._port(), lambda: self.cm("RegisterSapComplete")(NDIS_STATUS_RESOURCES, handle, None))
        return NDIS_STATUS_PENDING, None


class FailsOpenMcm(FailsLater, AtmMcm):
    pass


class FailsOpenCm(FailsLater, AtmCallManager):
    pass


class FailsSapMcm(FailsLater, AtmMcm):
    fail_open = False


class FailsSapCm(FailsLater, AtmCallManager):
    fail_open = False


class HandleClient(AtmClient):
    """Notes the handle each completion handler is given."""

    def ClOpenAfCompleteEx(self, ProtocolAfContext: Any, NdisAfHandle: Any, Status: int) -> None:
        self.log.append(("open-af-handle", Status, NdisAfHandle))
        super().ClOpenAfCompleteEx(ProtocolAfContext, NdisAfHandle, Status)

    def ClRegisterSapComplete(self, Status: int, ProtocolSapContext: Any, Sap: Any, NdisSapHandle: Any) -> None:
        self.log.append(("sap-handle", Status, NdisSapHandle))
        super().ClRegisterSapComplete(Status, ProtocolSapContext, Sap, NdisSapHandle)


@pytest.mark.parametrize("kind", ["mcm", "cm"])
def test_a_failed_pended_af_open_completes_with_a_null_af_handle(kind):
    bed = make_bed(kind, Recorder(), mcm=FailsOpenMcm, cm=FailsOpenCm, client=HandleClient)
    for client in bed.clients:
        assert [e for e in client.log if e[0] == "open-af-handle"] == [("open-af-handle", NDIS_STATUS_RESOURCES,
                                                                         None)]


@pytest.mark.parametrize("kind", ["mcm", "cm"])
def test_a_failed_pended_sap_registration_completes_with_a_null_sap_handle(kind):
    bed = make_bed(kind, Recorder(), mcm=FailsSapMcm, cm=FailsSapCm, client=HandleClient)
    host_b = bed.clients[1]     # B listens on "bob"
    assert [e for e in host_b.log if e[0] == "sap-handle"] == [("sap-handle", NDIS_STATUS_RESOURCES, None)]
