"""The remaining guide flows through an MCM: deregistering a SAP and closing the AF, an incoming QoS
change, OID requests each way, and status indications."""

from __future__ import annotations

from condis import (
    DISPATCH_LEVEL,
    NDIS_OID_REQUEST,
    NDIS_STATUS_INDICATION,
    NDIS_STATUS_NOT_SUPPORTED,
    NDIS_STATUS_SUCCESS,
    OID_CO_GET_CALL_INFORMATION,
    OID_GEN_CO_LINK_SPEED,
)
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
