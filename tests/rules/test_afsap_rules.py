"""Address families and SAPs: operations in an AF or SAP state that does not allow them, and an AF
closed while it still has SAPs or calls."""

from __future__ import annotations

import pytest

from condis import CO_SAP, NDIS_STATUS_PENDING
from condis.drivers.client import AtmClient
from condis.drivers.cm import AtmCallManager
from condis.drivers.mcm import AtmMcm
from condis.ndis import states as S
from tests.rules.conftest import expect_violation, make_bed, passive, place


class PendsCloseAf(AtmMcm):
    """Pends every ProtocolCmCloseAf and never completes it."""

    def CmCloseAf(self, CallMgrAfContext):
        return NDIS_STATUS_PENDING


class SitsOnNotify(AtmClient):
    """Pends ProtocolClNotifyCloseAf and does nothing about it."""

    def ClNotifyCloseAf(self, ClientAfContext):
        return NDIS_STATUS_PENDING


class McmPendsDeregisterSap(AtmMcm):
    def CmDeregisterSap(self, CallMgrSapContext):
        return NDIS_STATUS_PENDING


class CmPendsDeregisterSap(AtmCallManager):
    def CmDeregisterSap(self, CallMgrSapContext):
        return NDIS_STATUS_PENDING


def _withdraw(bed):
    """The MCM asks its client on A to close the AF."""
    manager = bed.call_managers[0]
    return passive(bed.hosts[0], lambda: manager.withdraw_af(manager.adapters[0]))


# ---------------------------------------------------------------------------- condis.AfState

@pytest.mark.rule("condis.AfState")
def test_a_sap_registered_on_an_af_that_is_closing():
    bed = make_bed("mcm", mcm=PendsCloseAf)
    af = bed.clients[0].bindings[0].afs[0]
    _withdraw(bed)()
    assert af.ndis_af.state == S.AF_CLOSE_PENDING
    host = bed.hosts[0]
    v = expect_violation(bed, "condis.AfState",
                         passive(host, lambda: host.NdisClRegisterSap(af.ndis_af, object(), CO_SAP(SapType=1, Sap=b"x"))),
                         ddi="NdisClRegisterSap")
    assert "CLOSE_PENDING" in v.detail


@pytest.mark.rule("condis.AfState")
def test_a_call_manager_asks_twice_for_the_same_af_to_close():
    bed = make_bed("mcm", client=SitsOnNotify)
    _withdraw(bed)()
    af = bed.clients[0].af_for().ndis_af
    assert af.notify == S.NOTIFY_PENDING
    v = expect_violation(bed, "condis.AfState", _withdraw(bed), ddi="NdisMCmNotifyCloseAddressFamily")
    assert "NOTIFY_PENDING" in v.detail and "once" in v.detail


# ---------------------------------------------------------------------------- condis.AfBusy

@pytest.mark.rule("condis.AfBusy")
def test_an_af_closed_with_its_sap_still_registered(bed):
    host, af = bed.hosts[1], bed.clients[1].af_for()
    v = expect_violation(bed, "condis.AfBusy", passive(host, lambda: host.NdisClCloseAddressFamily(af.ndis_af)),
                         ddi="NdisClCloseAddressFamily")
    assert "1 SAP(s) registered and 0 call(s)" in v.detail


@pytest.mark.rule("condis.AfBusy")
def test_an_af_closed_with_a_call_still_up(mcm):
    place(mcm)
    host, af = mcm.hosts[0], mcm.clients[0].af_for()
    v = expect_violation(mcm, "condis.AfBusy", passive(host, lambda: host.NdisClCloseAddressFamily(af.ndis_af)),
                         ddi="NdisClCloseAddressFamily")
    assert "1 call(s) not closed" in v.detail


# ---------------------------------------------------------------------------- condis.SapState

@pytest.mark.rule("condis.SapState")
@pytest.mark.parametrize("kind", ["mcm", "cm"])
def test_a_sap_deregistered_twice(kind):
    bed = make_bed(kind, mcm=McmPendsDeregisterSap, cm=CmPendsDeregisterSap)
    host = bed.hosts[1]
    sap = bed.clients[1].af_for().saps[0].handle
    out = []
    host.post(lambda: out.append(host.NdisClDeregisterSap(sap)))
    bed.run()
    assert out == [NDIS_STATUS_PENDING] and sap.state == S.SAP_DEREGISTER_PENDING
    v = expect_violation(bed, "condis.SapState", passive(host, lambda: host.NdisClDeregisterSap(sap)),
                         ddi="NdisClDeregisterSap")
    assert "DEREGISTER_PENDING" in v.detail
