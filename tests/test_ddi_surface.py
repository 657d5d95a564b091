"""The DDI surface against ddi-index.tsv: every function row is a method of the host under its
documented name with its documented parameters, checks its documented IRQL, and is reached by a
tour of real flows (so none is a stub that a flow never needs)."""

from __future__ import annotations

import inspect

import pytest

from condis import (
    DISPATCH_LEVEL,
    NDIS_OID_REQUEST,
    NDIS_STATUS_INDICATION,
    NDIS_STATUS_PENDING,
    NDIS_STATUS_SUCCESS,
    NDIS_TIMER_CHARACTERISTICS,
    OID_CO_GET_CALL_INFORMATION,
    OID_GEN_CO_LINK_SPEED,
    Ndis,
    Violation,
)
from condis._ddi_table import FUNCTIONS
from condis.demo import testbed as make_bed
from condis.drivers.callcontrol import PartyCtx
from condis.drivers.cm import AtmCallManager
from condis.drivers.mcm import AtmMcm
from condis.ndis.core import irql_rule, max_irql
from condis.trace import Recorder

# Parameters the pages mark [in, out] (or leave unmarked) that are in fact written by NDIS: they
# come back as OUT values.
RETURNED = {
    "NdisCoCreateVc": {"NdisVcHandle"},
    "NdisCoGetTapiCallId": {"TapiCallId"},
    "NDIS_RAISE_IRQL_TO_DISPATCH": {"_pIrql_"},
}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_function_is_a_host_method_with_its_documented_parameters(name):
    method = getattr(Ndis, name, None)
    assert callable(method), f"{name} is missing from condis.Ndis"
    assert method.__module__.startswith("condis.ndis."), method.__module__
    _, _, _, params, outs = FUNCTIONS[name]
    expected = [p for p in params if p not in outs and p not in RETURNED.get(name, ())]
    got = [p for p in inspect.signature(method).parameters if p != "self"]
    assert got == expected


@pytest.mark.parametrize("name", sorted(n for n in FUNCTIONS if max_irql(n) == 0))
def test_passive_level_functions_refuse_dispatch_level(name):
    host = Ndis("irql")
    errors = []

    def call():
        try:
            getattr(host, name)(*[None] * (len(inspect.signature(getattr(host, name)).parameters)))
        except Violation as v:
            errors.append(v)
    host.post(call, irql=DISPATCH_LEVEL)
    host.run()
    assert errors and errors[0].rule == irql_rule(name) and errors[0].page == FUNCTIONS[name][2]


@pytest.mark.parametrize("name", sorted(n for n in FUNCTIONS if max_irql(n) == DISPATCH_LEVEL))
def test_dispatch_level_functions_refuse_dirql(name):
    host = Ndis("irql")
    with pytest.raises(Violation) as e:
        host.interrupt(lambda: getattr(host, name)(*[None] * len(inspect.signature(getattr(host, name)).parameters)))
    assert e.value.rule == irql_rule(name)


class PendingRequests:
    """Pends every AF and SAP request and completes it from a work item with the Ndis(M)CmXxxComplete
    of the driver's family (``cm`` picks NdisCm or NdisMCm)."""

    def _pend(self, complete, *args):
        self.later(self.first_port(), lambda: complete(*args))
        return NDIS_STATUS_PENDING

    def CmOpenAf(self, ctx, family, handle):
        status, af = super().CmOpenAf(ctx, family, handle)
        return self._pend(self.cm("OpenAddressFamilyComplete"), status, handle, af), None

    def CmCloseAf(self, af):
        super().CmCloseAf(af)
        return self._pend(self.cm("CloseAddressFamilyComplete"), NDIS_STATUS_SUCCESS, af.ndis_af)

    def CmRegisterSap(self, af, sap, handle):
        status, ctx = super().CmRegisterSap(af, sap, handle)
        return self._pend(self.cm("RegisterSapComplete"), status, handle, ctx), None

    def CmDeregisterSap(self, sap):
        super().CmDeregisterSap(sap)
        return self._pend(self.cm("DeregisterSapComplete"), NDIS_STATUS_SUCCESS, sap.ndis_sap)


class PendingMcm(PendingRequests, AtmMcm):
    """The MCM, also pending its OID requests and the pause."""

    def first_port(self):
        return self.adapters[0]

    def CmOidRequest(self, af, vc, party, request):
        return self._pend(self.ndis.NdisMCmOidRequestComplete, af.ndis_af, vc.ndis_vc, None, request,
                          NDIS_STATUS_SUCCESS)

    def MiniportCoOidRequest(self, adapter, vc, request):
        return self._pend(self.ndis.NdisMCoOidRequestComplete, adapter.handle, None, request, NDIS_STATUS_SUCCESS)

    def MiniportPause(self, adapter, params):
        def paused(a, b, c, d):
            self.ndis.NdisFreeTimerObject(timer)      # halt follows: nothing of the adapter may be left
            self.ndis.NdisMPauseComplete(adapter.handle)
        _, timer = self.ndis.NdisAllocateTimerObject(adapter.handle, NDIS_TIMER_CHARACTERISTICS(TimerFunction=paused))
        self.ndis.NdisSetTimerObject(timer, -10, 0, None)
        return NDIS_STATUS_PENDING


class PendingCm(PendingRequests, AtmCallManager):
    """The stand-alone call manager, also pending its OID requests."""

    def first_port(self):
        return self.bindings[0]

    def CmOidRequest(self, af, vc, party, request):
        return self._pend(self.ndis.NdisCoOidRequestComplete, af.ndis_af, vc.ndis_vc, None, request,
                          NDIS_STATUS_SUCCESS)


def _tour(kind: str, recorder: Recorder) -> None:
    bed = make_bed(kind, recorder, mcm=PendingMcm, cm=PendingCm)
    a, b = bed.clients
    host, manager = bed.hosts[0], bed.call_managers[0]
    assert all(af.open for af in a.bindings[0].afs)
    # the client answers its OID requests later, with NdisCoOidRequestComplete
    cl = host.drivers["atmclient"].protocol.cl

    def client_oid(af, call, party, request):
        host.post(lambda: host.NdisCoOidRequestComplete(af.ndis_af, call.vc, None, request, NDIS_STATUS_SUCCESS))
        return NDIS_STATUS_PENDING
    cl.ClOidRequestHandler = client_oid
    b.answer = lambda call: NDIS_STATUS_PENDING     # B answers its first call later
    calls = []
    bed.do(0, lambda: calls.append(a.place_call(b"bob", multipoint=True)))
    bed.do(1, b.accept, b.incoming[0])
    b.answer = lambda call: NDIS_STATUS_SUCCESS
    call = calls[0]
    parties = []
    bed.do(0, lambda: parties.append(a.add_party(call, b"bob")))
    bed.do(0, lambda: parties.append(a.add_party(call, b"bob")))
    bed.do(0, a.drop_party, parties[-1])
    bed.do(0, a.send, call, b"data")
    bed.do(1, b.send, b.incoming[0], b"back")
    bed.do(0, a.modify_qos, call, 3_000_000)
    bed.do(1, b.close, b.incoming[1])           # incoming drop party at A
    port = manager.adapters[0] if kind == "mcm" else manager.bindings[0]
    vcs = (e.vc if isinstance(e, PartyCtx) else e for e in port.calls.values())    # a leaf stands for its call
    cm_vc = next(v for v in vcs if v.ndis_vc is not None and v.af is not None)

    def requests():
        req = NDIS_OID_REQUEST(Oid=OID_GEN_CO_LINK_SPEED)
        host.NdisCoOidRequest(a.bindings[0].handle, None, None, None, req)
        req = NDIS_OID_REQUEST(Oid=OID_CO_GET_CALL_INFORMATION)
        host.NdisCoOidRequest(a.bindings[0].handle, call.af.ndis_af, call.vc, None, req)
        status, tapi = host.NdisCoGetTapiCallId(call.vc)
        assert host.NdisClGetProtocolVcContextFromTapiCallId(tapi) == (NDIS_STATUS_SUCCESS, call)
        assert host.NdisCoAssignInstanceName(call.vc, "atm")[1].endswith("atm")
        lock = host.NdisAllocateSpinLock()
        host.NdisAcquireSpinLock(lock)
        host.NdisReleaseSpinLock(lock)
        old = host.NDIS_RAISE_IRQL_TO_DISPATCH()
        host.NdisDprAcquireSpinLock(lock)
        host.NdisDprReleaseSpinLock(lock)
        host.NDIS_LOWER_IRQL(old, DISPATCH_LEVEL)
        host.NdisFreeSpinLock(lock)
        _, timer = host.NdisAllocateTimerObject(a.bindings[0].handle, NDIS_TIMER_CHARACTERISTICS(
            TimerFunction=lambda *x: None))
        host.NdisSetTimerObject(timer, -100, 0, None)
        assert host.NdisCancelTimerObject(timer) is True
        host.NdisFreeTimerObject(timer)
    bed.do(0, requests)
    assert a.log.count(("oid-complete", NDIS_STATUS_SUCCESS)) == (2 if kind == "mcm" else 1)

    def from_the_call_manager():
        adapter = bed.hosts[0].adapters["atm0"]
        host.NdisMCoIndicateStatusEx(adapter, None, NDIS_STATUS_INDICATION(StatusCode=0x4001000B))
        req = NDIS_OID_REQUEST(Oid=OID_CO_GET_CALL_INFORMATION)
        if kind == "mcm":
            host.NdisMCmOidRequest(call.af.ndis_af, cm_vc.ndis_vc, None, req)
            host.NdisMCmDispatchIncomingCallQoSChange(cm_vc.ndis_vc, cm_vc.params)
        else:
            host.NdisCoOidRequest(manager.bindings[0].handle, call.af.ndis_af, cm_vc.ndis_vc, None, req)
            host.NdisCmDispatchIncomingCallQoSChange(cm_vc.ndis_vc, cm_vc.params)
    host.post(from_the_call_manager, irql=DISPATCH_LEVEL)
    bed.run()
    bed.do(0, a.close, call)
    if kind == "mcm":
        bed.hosts[0].post(lambda: manager.withdraw_af(manager.adapters[0]))
        bed.run()
    for h in bed.hosts:
        h.remove_adapter("atm0")
    bed.run()
    for h in bed.hosts:
        for name in list(h.drivers):
            h.unload_driver(name)
        bed.run()
    assert all(h.vc_count == 0 for h in bed.hosts)


def test_a_tour_of_real_flows_reaches_every_function():
    rec = Recorder()
    _tour("mcm", rec)
    _tour("cm", rec)
    reached = {r.name for r in rec.records if r.kind == "ddi"}
    assert sorted(set(FUNCTIONS) - reached) == []
    assert not [r for r in rec.records if r.kind == "violation"]
