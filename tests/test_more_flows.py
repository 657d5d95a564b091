"""The remaining guide flows through an MCM: deregistering a SAP and closing the AF, an incoming QoS
change, OID requests each way, and status indications; and data on VCs a QoS change re-activates."""

from __future__ import annotations

from condis import (
    DISPATCH_LEVEL,
    NDIS_OID_REQUEST,
    NDIS_STATUS_INDICATION,
    NDIS_STATUS_NOT_SUPPORTED,
    NDIS_STATUS_PENDING,
    NDIS_STATUS_SUCCESS,
    OID_CO_GET_CALL_INFORMATION,
    OID_GEN_CO_LINK_SPEED,
)
from condis.demo import testbed as make_bed
from condis.drivers.miniport import AtmMiniport
from condis.ndis.states import VC_ACTIVATING, VC_ACTIVE
from condis.trace import Recorder
from tests.conftest import steps


def names(s):
    return [x.split(":", 1)[1] for x in s]


def test_withdrawing_the_af_deregisters_the_sap_and_closes_the_af(mcm):
    rec = mcm.recorder
    mark = len(rec.records)
    host, manager = mcm.hosts[0], mcm.call_managers[0]
    out = []
    host.post(lambda: out.extend(manager.withdraw_af(manager.adapters[0])))
    mcm.run()
    # closing-a-condis-call-manager-or-mcm.md, then fig1-04 and closing-an-address-family.md; the
    # client closes everything inside ProtocolClNotifyCloseAf, so the notification completes at once.
    assert names(steps(rec, mark, "A")) == [
        "NdisMCmNotifyCloseAddressFamily", "ProtocolClNotifyCloseAf",
        "NdisClDeregisterSap", "ProtocolCmDeregisterSap",
        "NdisClCloseAddressFamily", "ProtocolCmCloseAf",
    ]
    assert out == [NDIS_STATUS_SUCCESS] and not mcm.clients[0].bindings[0].afs


def test_incoming_qos_change(mcm):
    calls = []
    mcm.do(0, lambda: calls.append(mcm.clients[0].place_call(b"bob")))
    manager = mcm.call_managers[1]
    vc = list(manager.adapters[0].calls.values())[-1]
    host = mcm.hosts[1]
    rec = mcm.recorder
    mark = len(rec.records)

    def remote_changed_qos():
        host.NdisMCmActivateVc(vc.ndis_vc, vc.params)
        host.NdisMCmDispatchIncomingCallQoSChange(vc.ndis_vc, vc.params)
    host.post(remote_changed_qos, irql=DISPATCH_LEVEL)
    mcm.run()
    # fig1-16: reactivate with the new parameters, then tell the client
    assert names(steps(rec, mark, "B")) == [
        "NdisMCmActivateVc", "NdisMCmDispatchIncomingCallQoSChange", "ProtocolClIncomingCallQoSChange"]
    assert mcm.clients[1].incoming[-1].events[-1] == "qos-changed"


def test_oid_requests_to_the_miniport_and_to_the_call_manager(mcm):
    calls = []
    mcm.do(0, lambda: calls.append(mcm.clients[0].place_call(b"bob")))
    call = calls[0]
    host = mcm.hosts[0]
    binding = mcm.clients[0].bindings[0].handle
    rec = mcm.recorder
    mark = len(rec.records)
    results = []

    def ask():
        link = NDIS_OID_REQUEST(Oid=OID_GEN_CO_LINK_SPEED)
        results.append(host.NdisCoOidRequest(binding, None, None, None, link))
        results.append(link.InformationBuffer)
        info = NDIS_OID_REQUEST(Oid=OID_CO_GET_CALL_INFORMATION)
        results.append(host.NdisCoOidRequest(binding, call.af.ndis_af, call.vc, None, info))
        results.append(info.InformationBuffer is not None)
    mcm.do(0, ask)
    # condis-protocol-driver-oid-requests.md: no AF -> the miniport; an AF -> the call manager
    assert names(steps(rec, mark, "A")) == [
        "NdisCoOidRequest", "MiniportCoOidRequest", "NdisCoOidRequest", "ProtocolCoOidRequest"]
    handler = [r for r in rec.records[mark:] if r.name == "ProtocolCoOidRequest"][0]
    assert handler.driver == "atmmcm"
    assert results == [NDIS_STATUS_SUCCESS, (1_555_200, 1_555_200), NDIS_STATUS_SUCCESS, True]
    # the MCM asks the client, which does not support it: a final status, no completion
    mark = len(rec.records)
    manager = mcm.call_managers[0]
    af = manager.adapters[0].afs[0]
    got = []
    host.post(lambda: got.append(host.NdisMCmOidRequest(af.ndis_af, None, None, NDIS_OID_REQUEST(Oid=1))),
              irql=DISPATCH_LEVEL)
    mcm.run()
    assert got == [NDIS_STATUS_NOT_SUPPORTED]
    assert names(steps(rec, mark, "A")) == ["NdisMCmOidRequest", "ProtocolCoOidRequest"]


def test_status_indication_reaches_every_binding(mcm):
    host = mcm.hosts[0]
    rec = mcm.recorder
    mark = len(rec.records)
    adapter = host.adapters["atm0"]
    host.post(lambda: host.NdisMCoIndicateStatusEx(adapter, None, NDIS_STATUS_INDICATION(StatusCode=0x4001000B)),
              irql=DISPATCH_LEVEL)
    mcm.run()
    assert names(steps(rec, mark, "A")) == ["NdisMCoIndicateStatusEx", "ProtocolCoStatusEx"]
    assert ("status", 0x4001000B) in mcm.clients[0].log


def _holds_reactivations():
    """A miniport that pends each re-activation of a VC it already carries until the test completes it
    (its NIC goes on carrying the VC on its old VCIs meanwhile), and the list of what it holds."""
    held = []

    class HoldsReactivations(AtmMiniport):
        def MiniportCoActivateVc(self, MiniportVcContext, CallParameters):
            if not MiniportVcContext.mapped:
                return super().MiniportCoActivateVc(MiniportVcContext, CallParameters)
            held.append((self.ndis, MiniportVcContext.handle, CallParameters))
            return NDIS_STATUS_PENDING
    return HoldsReactivations, held


def test_data_flows_both_ways_while_a_qos_change_reactivates_the_vcs():
    # ddi: nc-ndis-miniport_co_activate_vc.md — the VC stays usable with its older call parameters
    # while the call manager re-activates it
    miniport, held = _holds_reactivations()
    bed = make_bed("cm", Recorder(), miniport=miniport)
    a, b = bed.clients
    bed.do(0, lambda: a.place_call(b"bob"))
    call, answered = a.calls[-1], b.incoming[-1]
    mark = len(bed.recorder.records)
    bed.do(0, a.modify_qos, call, 3_000_000)
    reactivating = [handle.vc for _, handle, _ in held]
    assert reactivating and call.vc.vc in reactivating
    assert all(vc.activation == VC_ACTIVATING and vc.call_params_prev is not None for vc in reactivating)
    bed.do(0, a.send, call, b"during")
    bed.do(1, b.send, answered, b"back")
    assert answered.received == [b"during"] and call.received == [b"back"]
    assert not [r for r in bed.recorder.records[mark:] if r.kind == "violation"]
    for ndis, handle, params in held:
        ndis.post(ndis.NdisMCoActivateVcComplete, NDIS_STATUS_SUCCESS, handle, params)
    bed.run()
    assert all(vc.activation == VC_ACTIVE and vc.call_params_prev is None for vc in reactivating)
    assert call.events[-1] == "qos:NDIS_STATUS_SUCCESS"
