"""Malformed input: structures with fields missing, of the wrong type or containing themselves,
look-alike contexts, NET_BUFFER_LIST chains that loop, handlers a miniport never registered.

Each is refused with condis.Violation before anything changes (condis/ndis/validate.py), and the
refusal's message is built whatever the input (condis/_safe_repr.py).
"""

from __future__ import annotations

import copy

import pytest

import condis
from condis import (
    CO_ADDRESS_FAMILY,
    CO_CALL_PARAMETERS,
    NDIS_OID_REQUEST,
    NDIS_STATUS_PENDING,
    NDIS_STATUS_SUCCESS,
    NDIS_TIMER_CHARACTERISTICS,
    NET_BUFFER_LIST,
    OID_GEN_CO_LINK_SPEED,
    PASSIVE_LEVEL,
    Ndis,
    Simulation,
    Wire,
    structs,
)
from condis.constants import CO_ADDRESS_FAMILY_Q2931
from condis.drivers import signaling as sig
from condis.drivers.client import RETRIES
from condis.drivers.cm import AtmCallManager
from condis.drivers.mcm import AtmMcm
from condis.drivers.miniport import AtmMiniport
from condis.ndis import states as S
from condis.ndis.snapshot import snapshot
from condis.structs import NDIS_MINIPORT_CO_CHARACTERISTICS, NDIS_OPEN_PARAMETERS
from condis.trace.recorder import describe
from tests.rules.conftest import _mode, created_vc, expect_violation, make_bed, nbl_for, passive, place, posted

# ---------------------------------------------------------------------------- malformed call parameters


def _missing(params: CO_CALL_PARAMETERS) -> CO_CALL_PARAMETERS:
    p = copy.deepcopy(params)
    del p.CallMgrParameters.Transmit.PeakBandwidth
    return p


def _wrong_type(params: CO_CALL_PARAMETERS) -> CO_CALL_PARAMETERS:
    p = copy.deepcopy(params)
    p.MediaParameters.MediaSpecific.Parameters = 12
    return p


def _itself(params: CO_CALL_PARAMETERS) -> CO_CALL_PARAMETERS:
    p = copy.deepcopy(params)
    p.CallMgrParameters = p
    return p


BROKEN = {"missing": (_missing, "CallParameters.CallMgrParameters.Transmit.PeakBandwidth is missing"),
          "wrong-type": (_wrong_type, "CallParameters.MediaParameters.MediaSpecific.Parameters must be bytes"),
          "itself": (_itself, "CallParameters.CallMgrParameters must be CO_CALL_MANAGER_PARAMETERS")}


@pytest.fixture(params=sorted(BROKEN))
def broken(request: pytest.FixtureRequest):
    return BROKEN[request.param]


@pytest.mark.rule("condis.BadParameter")
def test_make_call_with_malformed_call_parameters(bed, broken):
    mangle, text = broken
    host, vc = bed.hosts[0], created_vc(bed)
    params = mangle(sig.call_parameters(b"bob"))
    v = expect_violation(bed, "condis.BadParameter", posted(host, lambda: host.NdisClMakeCall(vc, params, None)),
                         ddi="NdisClMakeCall")
    assert text in v.detail


@pytest.mark.rule("condis.BadParameter")
def test_modify_qos_with_malformed_call_parameters(bed, broken):
    mangle, text = broken
    call = place(bed)
    host = bed.hosts[0]
    params = mangle(sig.call_parameters(b"bob", 2_000_000))
    v = expect_violation(bed, "condis.BadParameter", posted(host, lambda: host.NdisClModifyCallQoS(call.vc, params)),
                         ddi="NdisClModifyCallQoS")
    assert text in v.detail


@pytest.mark.rule("condis.BadParameter")
@pytest.mark.parametrize("kind", ["mcm", "cm"])
def test_incoming_call_answered_with_malformed_call_parameters(kind, broken):
    mangle, text = broken
    bed = make_bed(kind, answer=lambda call: NDIS_STATUS_PENDING)
    place(bed)
    b_host, offered = bed.hosts[1], bed.clients[1].incoming[-1]
    params = mangle(offered.params)
    v = expect_violation(bed, "condis.BadParameter",
                         posted(b_host, lambda: b_host.NdisClIncomingCallComplete(NDIS_STATUS_SUCCESS, offered.vc,
                                                                                  params)),
                         ddi="NdisClIncomingCallComplete")
    assert text in v.detail
    assert offered.vc.vc.state == S.CALL_OFFERED and offered.vc.vc.op == S.OP_PENDING


def _offering(mcm_or_cm: type, mangle):
    class Offers(mcm_or_cm):
        """Offers every incoming call with broken call parameters."""

        def cm(self, name):
            fn = super().cm(name)
            if name != "DispatchIncomingCall":
                return fn
            return lambda sap, vc, params: fn(sap, vc, mangle(params))
    return Offers


@pytest.mark.rule("condis.BadParameter")
@pytest.mark.parametrize("kind", ["mcm", "cm"])
def test_incoming_call_dispatched_with_malformed_call_parameters(kind, broken):
    mangle, text = broken
    offers = _offering(AtmMcm if kind == "mcm" else AtmCallManager, mangle)
    bed = make_bed(kind, mcm=offers) if kind == "mcm" else make_bed(kind, cm=offers)
    ddi = "NdisMCmDispatchIncomingCall" if kind == "mcm" else "NdisCmDispatchIncomingCall"
    a = bed.clients[0]
    v = expect_violation(bed, "condis.BadParameter", posted(bed.hosts[0], lambda: a.place_call(b"bob")), ddi=ddi,
                         unchanged=False)
    assert text in v.detail
    # The offer never happened: no VC of host B is left INCOMING_CALL, none is left behind at the end.
    assert all(vc.state != S.CALL_OFFERED for ad in bed.hosts[1].adapters.values() for vc in ad.vcs)
    assert not bed.clients[1].incoming
    if _mode[0] == "record":
        bed.run()
        found = bed.sim.finish().findings
        assert [f.rule for f in found] == ["condis.BadParameter"]


@pytest.mark.rule("condis.BadParameter")
def test_activate_vc_with_malformed_call_parameters(broken):
    mangle, text = broken
    bed = make_bed("cm")
    host, vc = bed.hosts[0], bed.call_managers[0].bindings[0].signaling.ndis_vc
    params = mangle(sig.call_parameters(b"", vci=sig.SIGNALING_VCI))
    v = expect_violation(bed, "condis.BadParameter", posted(host, lambda: host.NdisCmActivateVc(vc, params)),
                         ddi="NdisCmActivateVc")
    assert text in v.detail


@pytest.mark.rule("condis.BadParameter")
def test_an_address_family_with_a_field_missing(bed):
    host, binding = bed.hosts[0], bed.clients[0].bindings[0].handle
    family = CO_ADDRESS_FAMILY(CO_ADDRESS_FAMILY_Q2931, 3, 1)
    del family.AddressFamily
    v = expect_violation(bed, "condis.BadParameter",
                         passive(host, lambda: host.NdisClOpenAddressFamilyEx(binding, family, object())),
                         ddi="NdisClOpenAddressFamilyEx")
    assert "AddressFamily.AddressFamily is missing" in v.detail


# ---------------------------------------------------------------------------- messages that cannot fail


class Unprintable:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


@pytest.mark.rule("condis.BadHandle")
def test_a_garbage_handle_whose_repr_raises(bed):
    host = bed.hosts[0]
    v = expect_violation(bed, "condis.BadHandle", posted(host, lambda: host.NdisCoDeleteVc(Unprintable())),
                         ddi="NdisCoDeleteVc")
    assert "Unprintable object whose repr raised RuntimeError" in v.detail


def test_a_broken_structure_still_has_a_repr():
    p = sig.call_parameters(b"bob")
    del p.Flags
    p.MediaParameters = p
    text = repr(p)
    assert text.startswith("CO_CALL_PARAMETERS(Flags=<missing>, CallMgrParameters=CO_CALL_MANAGER_PARAMETERS(")
    assert text.endswith("MediaParameters=...)")


# ---------------------------------------------------------------------------- a call manager over an MCM


def _mcm_host_with_cm(mcm: type) -> Ndis:
    """Host A with an MCM adapter and, bound over it, a stand-alone call manager."""
    sim = Simulation(verify=_mode[0])
    wire = Wire(sim)
    host = Ndis("A", sim=sim)
    host.load_driver(mcm().DriverEntry, "atmmcm")
    host.add_adapter("atmmcm", "atm0", wire.a)
    host.run()
    return host


@pytest.mark.rule("condis.MissingHandler")
def test_a_call_manager_over_an_mcm_cannot_create_its_signaling_vc():
    host = _mcm_host_with_cm(AtmMcm)
    manager = AtmCallManager()
    v = expect_violation(host.sim, "condis.MissingHandler",
                         lambda: (host.load_driver(manager.DriverEntry, "atmcm"), host.run()),
                         ddi="NdisCoCreateVc", unchanged=False)
    assert "registered no CoCreateVcHandler" in v.detail
    assert all(vc.cm_binding is None for vc in host.adapters["atm0"].vcs)


class McmThatCreatesVcs(AtmMcm):
    """Registers MiniportCoCreateVc and MiniportCoDeleteVc, but no MiniportCoActivateVc."""

    def SetOptions(self, NdisDriverHandle, DriverContext):
        status = self.ndis.NdisSetOptionalHandlers(NdisDriverHandle, NDIS_MINIPORT_CO_CHARACTERISTICS(
            CoSendNetBufferListsHandler=self.MiniportCoSendNetBufferLists,
            CoOidRequestHandler=self.MiniportCoOidRequest,
            CoCreateVcHandler=lambda ctx, handle: (NDIS_STATUS_SUCCESS, object()),
            CoDeleteVcHandler=lambda ctx: NDIS_STATUS_SUCCESS))
        if status != NDIS_STATUS_SUCCESS:
            return status
        return self.ndis.NdisSetOptionalHandlers(NdisDriverHandle, self.call_manager_handlers())


@pytest.mark.rule("condis.MissingHandler")
def test_a_call_manager_over_an_mcm_cannot_activate_a_vc():
    host = _mcm_host_with_cm(McmThatCreatesVcs)
    manager = AtmCallManager()
    v = expect_violation(host.sim, "condis.MissingHandler",
                         lambda: (host.load_driver(manager.DriverEntry, "atmcm"), host.run()),
                         ddi="NdisCmActivateVc", unchanged=False)
    assert "registered no CoActivateVcHandler" in v.detail
    sig_vc = manager.bindings[0].signaling.ndis_vc.vc
    assert (sig_vc.activation, sig_vc.act_op) == (S.VC_INACTIVE, S.OP_NONE)


# ---------------------------------------------------------------------------- support routines


@pytest.mark.rule("condis.BadParameter")
@pytest.mark.parametrize("args, text", [
    ((0, 0, 5, 0, 0), "MdlChain must be the data as bytes"),
    ((0, 0, "data", 0, 4), "MdlChain must be the data as bytes"),
    ((0, 0, b"data", "0", 4), "DataOffset must be an int"),
    ((0, 0, b"data", 0, 4.0), "DataLength must be an int"),
])
def test_allocate_net_buffer_list_with_malformed_arguments(bed, args, text):
    host, pool = bed.hosts[0], bed.clients[0].bindings[0].pool
    v = expect_violation(bed, "condis.BadParameter",
                         posted(host, lambda: host.NdisAllocateNetBufferAndNetBufferList(pool, *args)),
                         ddi="NdisAllocateNetBufferAndNetBufferList")
    assert text in v.detail
    assert pool.outstanding == 0


@pytest.mark.rule("condis.BadParameter")
def test_timer_characteristics_with_a_field_missing(bed):
    host, binding = bed.hosts[0], bed.clients[0].bindings[0].handle
    chars = NDIS_TIMER_CHARACTERISTICS(TimerFunction=lambda *a: None)
    del chars.FunctionContext
    v = expect_violation(bed, "condis.BadParameter",
                         posted(host, lambda: host.NdisAllocateTimerObject(binding, chars)),
                         ddi="NdisAllocateTimerObject")
    assert "TimerCharacteristics.FunctionContext is missing" in v.detail


@pytest.mark.rule("condis.BadParameter")
@pytest.mark.parametrize("period", [-5, 1.5, "10"])
def test_a_timer_period_that_is_not_a_ulong(bed, period):
    host, binding = bed.hosts[0], bed.clients[0].bindings[0].handle
    fired = []
    timer = []
    host.post(lambda: timer.append(host.NdisAllocateTimerObject(
        binding, NDIS_TIMER_CHARACTERISTICS(TimerFunction=lambda *a: fired.append(1)))[1]))
    bed.run()
    v = expect_violation(bed, "condis.BadParameter",
                         posted(host, lambda: host.NdisSetTimerObject(timer[0], -10, period, None)),
                         ddi="NdisSetTimerObject")
    assert "MillisecondsPeriod must be" in v.detail
    bed.run()
    assert fired == [] and timer[0].event is None
    host.post(lambda: host.NdisFreeTimerObject(timer[0]))
    bed.run()


@pytest.mark.rule("Irql_IrqlSetting_Function")
@pytest.mark.parametrize("old", [[], {}])
def test_lower_irql_to_a_value_that_is_not_an_irql(bed, old):
    host = bed.hosts[0]
    def lower() -> None:
        raised = host.NDIS_RAISE_IRQL_TO_DISPATCH()
        host.NDIS_LOWER_IRQL(old, host.irql)
        host.NDIS_LOWER_IRQL(raised, host.irql)
    expect_violation(bed, "Irql_IrqlSetting_Function", posted(host, lower, irql=PASSIVE_LEVEL),
                     ddi="NDIS_LOWER_IRQL")


@pytest.mark.rule("condis.NblState")
def test_free_a_net_buffer_list_ndis_never_allocated(bed):
    host, pool = bed.hosts[0], bed.clients[0].bindings[0].pool
    forged = NET_BUFFER_LIST(Pool=pool)
    v = expect_violation(bed, "condis.NblState", posted(host, lambda: host.NdisFreeNetBufferList(forged)),
                         ddi="NdisFreeNetBufferList")
    assert "was never allocated from it" in v.detail
    assert pool.outstanding == 0 and not forged.Freed


# ---------------------------------------------------------------------------- bind and unbind contexts


class BindContext:
    """A look-alike: named like NDIS's bind context, shaped nothing like it."""

    state = "PENDING"


class UnbindContext(BindContext):
    pass


UnbindContext.__name__ = "UnbindContext"


@pytest.mark.rule("condis.CompleteWithoutPending")
def test_complete_bind_with_a_look_alike_context(bed):
    host = bed.hosts[0]
    expect_violation(bed, "condis.CompleteWithoutPending",
                     passive(host, lambda: host.NdisCompleteBindAdapterEx(BindContext(), NDIS_STATUS_SUCCESS)),
                     ddi="NdisCompleteBindAdapterEx")


@pytest.mark.rule("condis.CompleteWithoutPending")
def test_complete_unbind_with_a_look_alike_context(bed):
    host = bed.hosts[0]
    expect_violation(bed, "condis.CompleteWithoutPending",
                     passive(host, lambda: host.NdisCompleteUnbindAdapterEx(UnbindContext())),
                     ddi="NdisCompleteUnbindAdapterEx")


@pytest.mark.rule("condis.BindState")
def test_open_adapter_with_a_look_alike_bind_context(bed):
    host, client = bed.hosts[0], bed.clients[0]
    params = NDIS_OPEN_PARAMETERS(AdapterName="atm0", MediumArray=[0], MediumArraySize=1)
    expect_violation(bed, "condis.BindState",
                     passive(host, lambda: host.NdisOpenAdapterEx(client.handle, object(), params, BindContext())),
                     ddi="NdisOpenAdapterEx")


# ---------------------------------------------------------------------------- NET_BUFFER_LISTs


@pytest.mark.rule("condis.BadParameter")
def test_send_a_chain_that_loops(bed):
    call = place(bed)
    host, pool = bed.hosts[0], bed.clients[0].bindings[0].pool
    first, second = nbl_for(host, pool, call.vc), nbl_for(host, pool, call.vc)
    first.Next, second.Next = second, first
    v = expect_violation(bed, "condis.BadParameter", posted(host, lambda: host.NdisCoSendNetBufferLists(call.vc, first, 0)),
                         ddi="NdisCoSendNetBufferLists")
    assert "the Next chain comes back to a NET_BUFFER_LIST after 2 lists" in v.detail
    assert describe(first) == "2 NBL, then not NULL"


@pytest.mark.rule("condis.BadParameter")
def test_send_a_net_buffer_list_with_a_field_missing(bed):
    call = place(bed)
    host, pool = bed.hosts[0], bed.clients[0].bindings[0].pool
    nbl = nbl_for(host, pool, call.vc)
    del nbl.Next
    v = expect_violation(bed, "condis.BadParameter", posted(host, lambda: host.NdisCoSendNetBufferLists(call.vc, nbl, 0)),
                         ddi="NdisCoSendNetBufferLists")
    assert "NetBufferLists.Next is missing" in v.detail


@pytest.mark.rule("condis.BadParameter")
def test_send_a_net_buffer_list_whose_pool_is_not_a_pool(bed):
    call = place(bed)
    host, pool = bed.hosts[0], bed.clients[0].bindings[0].pool
    nbl = nbl_for(host, pool, call.vc)
    nbl.Pool = "pool"
    v = expect_violation(bed, "condis.BadParameter", posted(host, lambda: host.NdisCoSendNetBufferLists(call.vc, nbl, 0)),
                         ddi="NdisCoSendNetBufferLists")
    assert "was not allocated from a NET_BUFFER_LIST pool" in v.detail


class HoldsSends(AtmMcm):
    """Keeps every send, its SourceHandle overwritten; the test completes it."""

    held: list

    def MiniportCoSendNetBufferLists(self, MiniportVcContext, NetBufferLists, SendFlags):
        NetBufferLists.SourceHandle = MiniportVcContext.ndis_vc
        self.held.append((MiniportVcContext.ndis_vc, NetBufferLists))


@pytest.mark.rule("condis.BadParameter")
def test_a_miniport_overwrites_source_handle_while_the_send_is_in_flight():
    bed = make_bed("mcm", mcm=HoldsSends)
    bed.call_managers[0].held = []
    call = place(bed)
    host = bed.hosts[0]
    bed.do(0, bed.clients[0].send, call, b"data")
    (handle, nbl), = bed.call_managers[0].held
    v = expect_violation(bed, "condis.BadParameter",
                         posted(host, lambda: host.NdisMCoSendNetBufferListsComplete(handle, nbl, 0)),
                         ddi="NdisMCoSendNetBufferListsComplete")
    assert "not the handle of the driver that sent it" in v.detail
    assert call.vc.vc.sends == {nbl}
    nbl.SourceHandle = call.vc      # put back, the completion returns the list to the client
    posted(host, lambda: host.NdisMCoSendNetBufferListsComplete(handle, nbl, 0))()
    assert call.send_completed == 1 and not call.vc.vc.sends


# ---------------------------------------------------------------------------- OID requests


class PendsOids(AtmMcm):
    def MiniportCoOidRequest(self, MiniportAdapterContext, MiniportVcContext, NdisRequest):
        return NDIS_STATUS_PENDING


@pytest.mark.rule("condis.BadParameter")
def test_an_oid_request_with_a_wrong_typed_field():
    bed = make_bed("mcm", mcm=PendsOids)
    host, binding = bed.hosts[0], bed.clients[0].bindings[0].handle
    request = NDIS_OID_REQUEST(Oid="link speed")
    v = expect_violation(bed, "condis.BadParameter",
                         posted(host, lambda: host.NdisCoOidRequest(binding, None, None, None, request)),
                         ddi="NdisCoOidRequest")
    assert "OidRequest.Oid must be int" in v.detail


def test_a_pended_request_changed_by_its_requester():
    """NDIS's view of a pended request is what was issued: the requester's structure may change."""
    bed = make_bed("mcm", mcm=PendsOids)
    host, binding = bed.hosts[0], bed.clients[0].bindings[0].handle
    requests = [NDIS_OID_REQUEST(Oid=OID_GEN_CO_LINK_SPEED), NDIS_OID_REQUEST(Oid=OID_GEN_CO_LINK_SPEED + 1)]
    for r in requests:
        host.post(lambda r=r: host.NdisCoOidRequest(binding, None, None, None, r))
    bed.run()
    requests[0].Oid = "changed"
    del requests[1].Oid
    assert snapshot(host)["oids"] == [(OID_GEN_CO_LINK_SPEED, "MCM", False), (OID_GEN_CO_LINK_SPEED + 1, "MCM", False)]
    assert any(f"an OID request ({OID_GEN_CO_LINK_SPEED:#x}) pended at the MCM" in line for line in host.leaks())


class CompletesInside(AtmMcm):
    """Completes each OID request from inside MiniportCoOidRequest, then returns a final status too."""

    def MiniportCoOidRequest(self, MiniportAdapterContext, MiniportVcContext, NdisRequest):
        self.ndis.NdisMCoOidRequestComplete(MiniportAdapterContext.handle, None, NdisRequest, NDIS_STATUS_SUCCESS)
        return NDIS_STATUS_SUCCESS


@pytest.mark.rule("condis.CompleteWithoutPending")
def test_a_miniport_completes_a_request_inside_its_handler():
    bed = make_bed("mcm", mcm=CompletesInside)
    host, client = bed.hosts[0], bed.clients[0]
    request = NDIS_OID_REQUEST(Oid=OID_GEN_CO_LINK_SPEED)
    out = []
    v = expect_violation(bed, "condis.CompleteWithoutPending",
                         posted(host, lambda: out.append(host.NdisCoOidRequest(client.bindings[0].handle, None, None,
                                                                                None, request))),
                         ddi="NdisMCoOidRequestComplete")
    assert "from inside the handler" in v.detail
    assert out == ([NDIS_STATUS_SUCCESS] if _mode[0] == "record" else [])
    assert not any(e[0] == "oid-complete" for e in client.log) and host._oids == {}


# ---------------------------------------------------------------------------- a handler that raises


class Crash(Exception):
    pass


class CrashesMakingCalls(AtmMcm):
    def CmMakeCall(self, CallMgrVcContext, CallParameters, NdisPartyHandle):
        raise Crash("make call")


class CrashesClosingCalls(AtmMcm):
    def CmCloseCall(self, CallMgrVcContext, CallMgrPartyContext, CloseData, Size):
        raise Crash("close call")


class CrashesOnOids(AtmMcm):
    def MiniportCoOidRequest(self, MiniportAdapterContext, MiniportVcContext, NdisRequest):
        raise Crash("oid")


def test_a_make_call_handler_that_raises_leaves_the_vc_idle():
    bed = make_bed("mcm", mcm=CrashesMakingCalls)
    host, client = bed.hosts[0], bed.clients[0]
    with pytest.raises(Crash):
        bed.do(0, client.place_call, b"bob")
    vc = client.calls[-1].vc
    assert (vc.vc.state, vc.vc.op, list(vc.vc.parties), host.irql) == (S.CALL_IDLE, S.OP_NONE, [], PASSIVE_LEVEL)
    out = []
    bed.do(0, lambda: out.append(host.NdisCoDeleteVc(vc)))
    assert out == [NDIS_STATUS_SUCCESS] and vc.vc.deleted


def test_a_close_call_handler_that_raises_leaves_the_call_up():
    bed = make_bed("mcm", mcm=CrashesClosingCalls)
    call = place(bed)
    with pytest.raises(Crash):
        bed.do(0, bed.clients[0].close, call)
    vc = call.vc.vc
    assert (vc.state, vc.op, vc.closed_by_client, bed.hosts[0].irql) == (S.CALL_CONNECTED, S.OP_NONE, False,
                                                                         PASSIVE_LEVEL)


def test_an_oid_handler_that_raises_leaves_no_request_pending():
    bed = make_bed("mcm", mcm=CrashesOnOids)
    host, binding = bed.hosts[0], bed.clients[0].bindings[0].handle
    request = NDIS_OID_REQUEST(Oid=OID_GEN_CO_LINK_SPEED)
    with pytest.raises(Crash):
        bed.do(0, host.NdisCoOidRequest, binding, None, None, None, request)
    assert host._oids == {} and snapshot(host)["oids"] == []


@pytest.mark.parametrize("ddi", ["NdisAcquireSpinLock", "NdisFreeSpinLock", "NdisAllocateIoWorkItem",
                                 "NdisCompleteBindAdapterEx", "NdisFreeTimerObject"])
def test_garbage_whose_repr_raises_is_still_refused(bed, ddi):
    host = bed.hosts[0]
    args = (Unprintable(), NDIS_STATUS_SUCCESS) if ddi == "NdisCompleteBindAdapterEx" else (Unprintable(),)
    found = []

    def call() -> None:
        try:
            getattr(host, ddi)(*args)
        except condis.Violation as v:
            found.append(v)
            raise
    verifier = bed.sim.verifier
    mark = len(verifier.violations) if verifier.recording else 0
    try:
        passive(host, call)()
    except condis.Violation:
        pass
    reported = found + (verifier.violations[mark:] if verifier.recording else [])
    assert reported and "Unprintable object whose repr raised RuntimeError" in reported[0].detail


def test_a_client_whose_sap_deregistration_keeps_failing_does_not_ask_forever():
    """Record mode: the SAP was deregistered behind the client's back, so each NdisClDeregisterSap the
    client makes while closing its AF is refused; it asks again from its retry timer, a bounded
    number of times, never in a loop from inside the refusal."""
    bed = make_bed("mcm", verify="record")
    host, client = bed.hosts[0], bed.clients[0]
    sap = client.af_for().saps[0]
    bed.do(0, host.NdisClDeregisterSap, sap.handle)
    host.unload_driver("atmclient")
    bed.run()
    refused = [v for v in bed.sim.verifier.violations if v.ddi == "NdisClDeregisterSap"]
    assert refused and {v.rule for v in refused} == {"condis.BadHandle"} and len(refused) <= RETRIES


@pytest.mark.rule("condis.BadParameter")
def test_receive_flags_that_are_not_an_int(bed):
    call = place(bed)
    host = bed.hosts[1]
    answered = bed.clients[1].incoming[-1]
    miniport_handle = answered.vc.vc.h_miniport
    pool = host.adapters["atm0"].context.nic.pool
    nbl = nbl_for(host, pool, miniport_handle)
    v = expect_violation(bed, "condis.BadParameter",
                         posted(host, lambda: host.NdisMCoIndicateReceiveNetBufferLists(miniport_handle, nbl, 1, "x")),
                         ddi="NdisMCoIndicateReceiveNetBufferLists")
    assert "CoReceiveFlags must be an int" in v.detail
    assert call.received == []


@pytest.mark.rule("condis.NblState")
def test_free_a_net_buffer_list_whose_source_handle_was_deleted(bed):
    host, pool = bed.hosts[0], bed.clients[0].bindings[0].pool
    nbl = nbl_for(host, pool, None)
    del nbl.SourceHandle
    posted(host, lambda: host.NdisFreeNetBufferList(nbl))()
    assert pool.outstanding == 0 and nbl.Freed


@pytest.mark.rule("condis.BadParameter")
def test_receive_a_list_whose_net_buffer_is_malformed(bed):
    call = place(bed)
    host = bed.hosts[1]
    miniport_handle = bed.clients[1].incoming[-1].vc.vc.h_miniport
    nbl = nbl_for(host, host.adapters["atm0"].context.nic.pool, miniport_handle)
    nbl.FirstNetBuffer.Data = None
    v = expect_violation(bed, "condis.BadParameter",
                         posted(host, lambda: host.NdisMCoIndicateReceiveNetBufferLists(miniport_handle, nbl, 1, 0)),
                         ddi="NdisMCoIndicateReceiveNetBufferLists")
    assert "NetBufferLists.FirstNetBuffer.Data must be bytes" in v.detail
    assert call.received == []


def test_a_signaling_frame_that_holds_no_message_is_dropped():
    assert sig.Message.decode(b"fuzz") is None
    assert sig.Message.decode(bytes([200]) + bytes(40)) is None
    bed = make_bed("cm")
    host = bed.hosts[1]
    sig_vc = bed.call_managers[1].bindings[0].signaling.ndis_vc.vc
    nbl = nbl_for(host, host.adapters["atm0"].context.nic.pool, sig_vc.h_miniport)
    heard = bed.call_managers[1].bindings[0].heard
    posted(host, lambda: host.NdisMCoIndicateReceiveNetBufferLists(sig_vc.h_miniport, nbl, 1, 0))()
    assert bed.call_managers[1].bindings[0].heard == heard
    assert place(bed).state == "UP"      # signaling goes on


class CrashesRegisteringSaps(AtmMcm):
    """Registers the SAPs of the testbed's set-up, then crashes on the next."""

    armed = False

    def CmRegisterSap(self, CallMgrAfContext, Sap, NdisSapHandle):
        if self.armed:
            raise Crash("register sap")
        return super().CmRegisterSap(CallMgrAfContext, Sap, NdisSapHandle)


class CrashesActivating(AtmMiniport):
    """Activates the VCs of the testbed's set-up (the signaling VC), then crashes on the next."""

    armed: list = []

    def MiniportCoActivateVc(self, MiniportVcContext, CallParameters):
        if self.armed:
            raise Crash("activate")
        return super().MiniportCoActivateVc(MiniportVcContext, CallParameters)


def test_a_register_sap_handler_that_raises_leaves_no_sap():
    bed = make_bed("mcm", mcm=CrashesRegisteringSaps)
    bed.call_managers[0].armed = True
    host, af = bed.hosts[0], bed.clients[0].af_for()
    before = snapshot(host)
    with pytest.raises(Crash):
        bed.do(0, host.NdisClRegisterSap, af.ndis_af, object(), structs.CO_SAP(Sap=b"carol"))
    assert snapshot(host) == before


def test_an_activate_handler_that_raises_leaves_the_vc_inactive():
    bed = make_bed("cm", miniport=CrashesActivating)
    CrashesActivating.armed.append(True)
    try:
        with pytest.raises(Crash):
            bed.do(0, bed.clients[0].place_call, b"bob")
    finally:
        CrashesActivating.armed.clear()
    # Host B's call manager activated the VC for the incoming SETUP: the crash came from there.
    vcs = [vc for vc in bed.hosts[1].adapters["atm0"].vcs if vc.af is not None]
    assert [(vc.activation, vc.act_op) for vc in vcs] == [(S.VC_INACTIVE, S.OP_NONE)]
    assert bed.hosts[1].irql == PASSIVE_LEVEL
