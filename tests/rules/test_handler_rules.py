"""Handler manners: the IRQL and spin locks a handler returns with, what it returns, whether it may
pend, and whether the driver registered it at all."""

from __future__ import annotations

import pytest

from condis import (
    DISPATCH_LEVEL,
    NDIS_OID_REQUEST,
    NDIS_STATUS_FAILURE,
    NDIS_STATUS_PENDING,
    NDIS_STATUS_SUCCESS,
    OID_CO_GET_CALL_INFORMATION,
    OID_GEN_CO_LINK_SPEED,
    PASSIVE_LEVEL,
)
from condis.constants import NetEventPause
from condis.drivers.client import ACCEPTED, UP, AtmClient
from condis.drivers.mcm import AtmMcm
from condis.drivers.miniport import AtmMiniport
from condis.ndis import states as S
from condis.ndis.snapshot import snapshot
from tests.rules.conftest import changes, cut_wire, expect_violation, make_bed, passive, place, posted, settle

# ---------------------------------------------------------------------------- IRQL and spin locks


class LowersIrqlOnReceive(AtmClient):
    """Lowers to PASSIVE_LEVEL in its receive handler, which NDIS called at DISPATCH_LEVEL."""

    def ProtocolCoReceiveNetBufferLists(self, *args):
        super().ProtocolCoReceiveNetBufferLists(*args)
        self.ndis.NDIS_LOWER_IRQL(PASSIVE_LEVEL, DISPATCH_LEVEL)


class KeepsLockOnReceive(AtmClient):
    """Takes its receive lock and returns without releasing it."""

    def ProtocolCoReceiveNetBufferLists(self, *args):
        self.lock = getattr(self, "lock", None) or self.ndis.NdisAllocateSpinLock()
        self.ndis.NdisDprAcquireSpinLock(self.lock)
        super().ProtocolCoReceiveNetBufferLists(*args)


def _send_to_b(bed):
    """A's client sends on its call; the rule is broken at B when the data arrives."""
    call = place(bed)
    return call, passive(bed.hosts[0], lambda: bed.clients[0].send(call, b"data"))


@pytest.mark.rule("condis.HandlerIrql")
@pytest.mark.parametrize("kind", ["mcm", "cm"])
def test_a_handler_that_returns_at_another_irql(kind):
    bed = make_bed(kind, client=LowersIrqlOnReceive)
    _, action = _send_to_b(bed)
    before = snapshot(bed.hosts[1])
    v = expect_violation(bed, "condis.HandlerIrql", action, ddi="ProtocolCoReceiveNetBufferLists", unchanged=False)
    assert "called at DISPATCH_LEVEL and returned at PASSIVE_LEVEL" in v.detail
    # The handler ran (it took the data); NDIS put the IRQL back, and a receive moves no NDIS state.
    assert bed.clients[1].incoming[-1].received == [b"data"]
    assert bed.hosts[1].irql == PASSIVE_LEVEL and snapshot(bed.hosts[1]) == before


@pytest.mark.rule("condis.HandlerIrql")
def test_a_work_item_routine_that_returns_at_dispatch_level(mcm):
    host = mcm.hosts[0]
    item = host.NdisAllocateIoWorkItem(host.adapters["atm0"])

    def forgets_to_lower(ctx, handle):
        host.NDIS_RAISE_IRQL_TO_DISPATCH()
    v = expect_violation(mcm, "condis.HandlerIrql",
                         passive(host, lambda: host.NdisQueueIoWorkItem(item, forgets_to_lower, None)),
                         ddi="WorkItemRoutine")
    assert "returned at DISPATCH_LEVEL" in v.detail and host.irql == PASSIVE_LEVEL


@pytest.mark.rule("SpinLockBalanced")
def test_a_handler_that_returns_holding_a_spin_lock():
    bed = make_bed("mcm", client=KeepsLockOnReceive)
    _, action = _send_to_b(bed)
    before = snapshot(bed.hosts[1])
    v = expect_violation(bed, "SpinLockBalanced", action, ddi="ProtocolCoReceiveNetBufferLists", unchanged=False)
    assert "1 spin lock" in v.detail
    # NDIS takes the lock count and the IRQL back to what the handler was called with.
    assert snapshot(bed.hosts[1]) == before and before["locks_held"] == 0


@pytest.mark.rule("SpinLockBalanced")
def test_a_work_item_routine_that_returns_holding_a_spin_lock(cm):
    host = cm.hosts[0]
    lock = host.NdisAllocateSpinLock()
    item = host.NdisAllocateIoWorkItem(host.adapters["atm0"])
    expect_violation(cm, "SpinLockBalanced",
                     passive(host, lambda: host.NdisQueueIoWorkItem(item, lambda c, h: host.NdisAcquireSpinLock(lock),
                                                                    None)),
                     ddi="WorkItemRoutine")


def _in_a_step(host, fn, irql=PASSIVE_LEVEL):
    """Run ``fn`` as one scheduled step; returns what it returned."""
    out = []
    host.post(lambda: out.append(fn()), irql=irql)
    host.run()
    return out[0]


@pytest.mark.rule("SpinLock")
def test_acquiring_a_spin_lock_the_path_already_holds(mcm):
    host = mcm.hosts[0]
    lock = host.NdisAllocateSpinLock()

    def step():
        host.NdisAcquireSpinLock(lock)
        v = expect_violation(host, "SpinLock", lambda: host.NdisAcquireSpinLock(lock), ddi="NdisAcquireSpinLock")
        held = host.irql, lock.owner is host
        host.NdisReleaseSpinLock(lock)
        return v, held
    v, held = _in_a_step(host, step)
    assert "already held" in v.detail and held == (DISPATCH_LEVEL, True) and lock.owner is None


@pytest.mark.rule("SpinLock")
def test_dpr_acquiring_a_held_spin_lock(mcm):
    host = mcm.hosts[0]
    lock = host.NdisAllocateSpinLock()

    def step():
        host.NdisDprAcquireSpinLock(lock)
        v = expect_violation(host, "SpinLock", lambda: host.NdisDprAcquireSpinLock(lock), ddi="NdisDprAcquireSpinLock")
        host.NdisDprReleaseSpinLock(lock)
        return v
    _in_a_step(host, step, irql=DISPATCH_LEVEL)


@pytest.mark.rule("SpinLock")
def test_releasing_a_spin_lock_that_is_not_held(mcm):
    host = mcm.hosts[0]
    lock = host.NdisAllocateSpinLock()
    v = expect_violation(mcm, "SpinLock", posted(host, lambda: host.NdisReleaseSpinLock(lock)),
                         ddi="NdisReleaseSpinLock")
    assert "not held" in v.detail


@pytest.mark.rule("SpinLock")
def test_a_spin_lock_acquired_at_passive_level_released_with_the_dpr_function(mcm):
    # NdisDprReleaseSpinLock would leave the IRQL at DISPATCH_LEVEL instead of restoring PASSIVE_LEVEL
    host = mcm.hosts[0]
    lock = host.NdisAllocateSpinLock()

    def step():
        host.NdisAcquireSpinLock(lock)
        v = expect_violation(host, "SpinLock", lambda: host.NdisDprReleaseSpinLock(lock), ddi="NdisDprReleaseSpinLock",
                             page="ddi/nf-ndis-ndisdprreleasespinlock.md")
        held = host.irql, lock.owner is host, host._locks_held
        host.NdisReleaseSpinLock(lock)
        return v, held, host.irql
    v, held, after = _in_a_step(host, step)
    assert "acquired with NdisAcquireSpinLock" in v.detail and held == (DISPATCH_LEVEL, True, 1)
    assert after == PASSIVE_LEVEL and lock.owner is None


@pytest.mark.rule("SpinLock")
def test_a_spin_lock_acquired_with_the_dpr_function_released_with_ndisreleasespinlock(mcm):
    # NdisReleaseSpinLock would restore an IRQL the DPR acquire never saved
    host = mcm.hosts[0]
    lock = host.NdisAllocateSpinLock()

    def step():
        host.NdisDprAcquireSpinLock(lock)
        v = expect_violation(host, "SpinLock", lambda: host.NdisReleaseSpinLock(lock), ddi="NdisReleaseSpinLock",
                             page="ddi/nf-ndis-ndisreleasespinlock.md")
        host.NdisDprReleaseSpinLock(lock)
        return v, host.irql, host._locks_held
    v, irql, locks = _in_a_step(host, step, irql=DISPATCH_LEVEL)
    assert "acquired with NdisDprAcquireSpinLock" in v.detail and (irql, locks) == (DISPATCH_LEVEL, 0)


@pytest.mark.rule("SpinLock")
def test_a_spin_lock_held_on_one_host_released_on_another(mcm):
    a, b = mcm.hosts
    lock = a.NdisAllocateSpinLock()

    def step():
        a.NdisAcquireSpinLock(lock)
        v = expect_violation(mcm, "SpinLock", lambda: b.NdisReleaseSpinLock(lock), ddi="NdisReleaseSpinLock")
        counts = (a._locks_held, b._locks_held, a.irql, b.irql)
        a.NdisReleaseSpinLock(lock)
        return v, counts
    v, counts = _in_a_step(a, step)
    assert "allocated on host 'A'" in v.detail and counts == (1, 0, DISPATCH_LEVEL, PASSIVE_LEVEL)
    assert (a._locks_held, lock.owner) == (0, None)


@pytest.mark.rule("SpinLock")
def test_freeing_a_held_spin_lock(mcm):
    host = mcm.hosts[0]
    lock = host.NdisAllocateSpinLock()

    def step():
        host.NdisAcquireSpinLock(lock)
        expect_violation(host, "SpinLock", lambda: host.NdisFreeSpinLock(lock), ddi="NdisFreeSpinLock")
        host.NdisReleaseSpinLock(lock)
        host.NdisFreeSpinLock(lock)
        return lock.allocated
    assert _in_a_step(host, step) is False


# ---------------------------------------------------------------------------- what a handler returns


class CreateVcWithoutContext(AtmMcm):
    """Returns a bare status from ProtocolCoCreateVc, forgetting its CallMgrVcContext."""

    def CmCreateVc(self, ProtocolAfContext, NdisVcHandle):
        status, _ = super().CmCreateVc(ProtocolAfContext, NdisVcHandle)
        return status


class PendsCreateVc(AtmMcm):
    def CmCreateVc(self, ProtocolAfContext, NdisVcHandle):
        return NDIS_STATUS_PENDING, None


def _create_vc(bed):
    host, client = bed.hosts[0], bed.clients[0]
    af = client.af_for()
    return passive(host, lambda: host.NdisCoCreateVc(af.binding.handle, af.ndis_af, object()))


@pytest.mark.rule("condis.HandlerReturn")
def test_protocolcocreatevc_returns_no_context():
    bed = make_bed("mcm", mcm=CreateVcWithoutContext)
    v = expect_violation(bed, "condis.HandlerReturn", _create_vc(bed), ddi="ProtocolCoCreateVc")
    assert "(status, 1 OUT value(s))" in v.detail and bed.hosts[0].vc_count == 0


class ForgetsToReturn(AtmClient):
    def ClIncomingCall(self, ProtocolSapContext, ProtocolVcContext, CallParameters):
        super().ClIncomingCall(ProtocolSapContext, ProtocolVcContext, CallParameters)


@pytest.mark.rule("condis.HandlerReturn")
def test_protocolclincomingcall_returns_nothing():
    bed = make_bed("mcm", client=ForgetsToReturn)
    calls = []
    action = passive(bed.hosts[0], lambda: calls.append(bed.clients[0].place_call(b"bob")))
    before = snapshot(bed.hosts[1])
    v = expect_violation(bed, "condis.HandlerReturn", action, ddi="ProtocolClIncomingCall", unchanged=False)
    assert "returned None" in v.detail and bed.clients[1].incoming[-1].state == ACCEPTED
    changed = changes(before, snapshot(bed.hosts[1]))
    if bed.sim.verifier.recording:
        # Record mode takes the handler as having failed: the offer is rejected and the MCM drops the VC.
        assert changed == {}
    else:
        # Strict mode stops at the return: B's new VC stays offered, inside the handler.
        assert [after[:2] for _, after in changed["vcs"].values()] == [(S.CALL_OFFERED, S.OP_IN_HANDLER)]


class FailsItsUnbind(AtmClient):
    """Closes the binding as it should, then reports the unbind as failed."""

    def ProtocolUnbindAdapterEx(self, UnbindContext, ProtocolBindingContext):
        status = super().ProtocolUnbindAdapterEx(UnbindContext, ProtocolBindingContext)
        assert status == NDIS_STATUS_SUCCESS     # the sample closes at once on the MCM's host
        return NDIS_STATUS_FAILURE


@pytest.mark.rule("condis.HandlerReturn")
def test_protocolunbindadapterex_fails_the_unbind():
    bed = make_bed("mcm", client=FailsItsUnbind)
    binding = bed.clients[0].bindings[0].handle
    host = bed.hosts[0]
    v = expect_violation(bed, "condis.HandlerReturn", lambda: (host.remove_adapter("atm0"), settle(bed.sim)),
                         ddi="ProtocolUnbindAdapterEx", unchanged=False)
    assert "cannot fail" in v.detail and binding.state == S.BINDING_UNBOUND


class FailsItsPause(AtmClient):
    def ProtocolNetPnPEvent(self, ProtocolBindingContext, NetPnPEventNotification):
        if NetPnPEventNotification.NetEvent == NetEventPause:
            return NDIS_STATUS_FAILURE
        return super().ProtocolNetPnPEvent(ProtocolBindingContext, NetPnPEventNotification)


@pytest.mark.rule("condis.HandlerReturn")
def test_protocolnetpnpevent_fails_a_pause():
    bed = make_bed("mcm", client=FailsItsPause)
    host = bed.hosts[0]
    v = expect_violation(bed, "condis.HandlerReturn", lambda: (host.remove_adapter("atm0"), settle(bed.sim)),
                         ddi="ProtocolNetPnPEvent", unchanged=False)
    assert "succeeds NetEventPause" in v.detail


@pytest.mark.rule("condis.NoPendingHere")
def test_protocolcocreatevc_may_not_pend():
    bed = make_bed("mcm", mcm=PendsCreateVc)
    v = expect_violation(bed, "condis.NoPendingHere", _create_vc(bed), ddi="ProtocolCoCreateVc")
    assert "synchronously" in v.detail


class PendingCreates(AtmMiniport):
    """Pends MiniportCoCreateVc once told to (the call manager's signaling VC is created first)."""

    pend = False

    def MiniportCoCreateVc(self, MiniportAdapterContext, NdisVcHandle):
        if self.pend:
            return NDIS_STATUS_PENDING, None
        return super().MiniportCoCreateVc(MiniportAdapterContext, NdisVcHandle)


@pytest.mark.rule("condis.NoPendingHere")
def test_miniportcocreatevc_may_not_pend():
    bed = make_bed("cm", miniport=PendingCreates)
    bed.hosts[0].drivers["atmmp"].miniport.context.pend = True
    expect_violation(bed, "condis.NoPendingHere", _create_vc(bed), ddi="MiniportCoCreateVc")


# ---------------------------------------------------------------------------- handlers never registered


class NoNotifyCloseAf(AtmClient):
    ClNotifyCloseAf = None       # the optional ClNotifyCloseAfHandler is left out of its table


class NoCmOidRequest(AtmMcm):
    CmOidRequest = None


class NoCmAddParty(AtmMcm):
    CmAddParty = None


class NoCmDropParty(AtmMcm):
    CmDropParty = None


class NoIncomingDropParty(AtmClient):
    ClIncomingDropParty = None


@pytest.mark.rule("condis.MissingHandler")
def test_the_mcm_withdraws_its_af_from_a_client_without_clnotifycloseafhandler():
    bed = make_bed("mcm", client=NoNotifyCloseAf)
    manager = bed.call_managers[0]
    v = expect_violation(bed, "condis.MissingHandler",
                         passive(bed.hosts[0], lambda: manager.withdraw_af(manager.adapters[0])),
                         ddi="ProtocolClNotifyCloseAf")
    assert "ClNotifyCloseAfHandler" in v.detail and bed.clients[0].af_for().open


@pytest.mark.rule("condis.MissingHandler")
def test_a_client_asks_a_call_manager_without_cmoidrequesthandler():
    bed = make_bed("mcm", mcm=NoCmOidRequest)
    host, af = bed.hosts[0], bed.clients[0].af_for()
    request = NDIS_OID_REQUEST(Oid=OID_CO_GET_CALL_INFORMATION)
    expect_violation(bed, "condis.MissingHandler",
                     passive(host, lambda: host.NdisCoOidRequest(af.binding.handle, af.ndis_af, None, None, request)),
                     ddi="ProtocolCoOidRequest")


@pytest.mark.rule("condis.MissingHandler")
def test_a_client_adds_a_party_through_a_call_manager_without_cmaddpartyhandler():
    bed = make_bed("mcm", mcm=NoCmAddParty)
    call = place(bed, multipoint=True)
    assert call.state == UP
    host = bed.hosts[0]
    expect_violation(bed, "condis.MissingHandler", passive(host, lambda: bed.clients[0].add_party(call, b"bob")),
                     ddi="ProtocolCmAddParty")




def _two_parties(bed):
    call = place(bed, multipoint=True)
    bed.do(0, bed.clients[0].add_party, call, b"bob")
    assert [p.state for p in call.parties] == [UP, UP]
    return call


@pytest.mark.rule("condis.MissingHandler")
def test_a_client_drops_a_party_through_a_call_manager_without_cmdroppartyhandler():
    bed = make_bed("mcm", mcm=NoCmDropParty)
    call = _two_parties(bed)
    expect_violation(bed, "condis.MissingHandler", passive(bed.hosts[0], lambda: bed.clients[0].drop_party(call.parties[0])),
                     ddi="ProtocolCmDropParty")


@pytest.mark.rule("condis.MissingHandler")
def test_a_call_manager_indicates_a_drop_to_a_client_without_clincomingdroppartyhandler():
    bed = make_bed("mcm", client=NoIncomingDropParty)
    call = _two_parties(bed)
    drop = bed.call_managers[0].cm("DispatchIncomingDropParty")
    party = call.parties[0].handle
    expect_violation(bed, "condis.MissingHandler", posted(bed.hosts[0], lambda: drop(NDIS_STATUS_SUCCESS, party, None, 0)),
                     ddi="ProtocolClIncomingDropParty")


class PendsOidsWithoutNotifyComplete(AtmMcm):
    """Pends every miniport OID request, and registered no CmNotifyCloseAfCompleteHandler."""

    CmNotifyCloseAfComplete = None

    def MiniportCoOidRequest(self, MiniportAdapterContext, MiniportVcContext, NdisRequest):
        return NDIS_STATUS_PENDING


class NoOidComplete(AtmClient):
    ClOidRequestComplete = None

    def ClNotifyCloseAf(self, ClientAfContext):
        return NDIS_STATUS_PENDING          # answered later, with NdisClNotifyCloseAddressFamilyComplete


@pytest.mark.rule("condis.MissingHandler")
def test_an_oid_request_completed_to_a_client_without_cloidrequestcompletehandler():
    bed = make_bed("mcm", mcm=PendsOidsWithoutNotifyComplete, client=NoOidComplete)
    host, binding = bed.hosts[0], bed.clients[0].bindings[0].handle
    request = NDIS_OID_REQUEST(Oid=OID_GEN_CO_LINK_SPEED)
    host.post(lambda: host.NdisCoOidRequest(binding, None, None, None, request))
    bed.run()
    adapter = host.adapters["atm0"]
    expect_violation(bed, "condis.MissingHandler",
                     posted(host, lambda: host.NdisMCoOidRequestComplete(adapter, None, request, NDIS_STATUS_SUCCESS)),
                     ddi="NdisMCoOidRequestComplete")


@pytest.mark.rule("condis.MissingHandler")
def test_a_close_notification_completed_to_a_call_manager_without_cmnotifycloseafcompletehandler():
    bed = make_bed("mcm", mcm=PendsOidsWithoutNotifyComplete, client=NoOidComplete)
    manager, host = bed.call_managers[0], bed.hosts[0]
    passive(host, lambda: manager.withdraw_af(manager.adapters[0]))()
    af = bed.clients[0].af_for().ndis_af
    assert af.notify == S.NOTIFY_PENDING
    expect_violation(bed, "condis.MissingHandler",
                     passive(host, lambda: host.NdisClNotifyCloseAddressFamilyComplete(af, NDIS_STATUS_SUCCESS)),
                     ddi="NdisClNotifyCloseAddressFamilyComplete")


class NoAddPartyComplete(AtmClient):
    ClAddPartyComplete = None


class NoDropPartyComplete(AtmClient):
    ClDropPartyComplete = None


@pytest.mark.rule("condis.MissingHandler")
def test_an_add_party_completed_to_a_client_without_claddpartycompletehandler():
    bed = make_bed("mcm", client=NoAddPartyComplete)
    call = place(bed, multipoint=True)
    cut_wire(bed)
    bed.do(0, bed.clients[0].add_party, call, b"bob")
    party = call.parties[-1].handle
    assert (party.state, party.op) == (S.PARTY_ADDING, S.OP_PENDING)
    host = bed.hosts[0]
    expect_violation(bed, "condis.MissingHandler",
                     posted(host, lambda: host.NdisMCmAddPartyComplete(NDIS_STATUS_SUCCESS, party, object(), call.params)),
                     ddi="ProtocolClAddPartyComplete")


@pytest.mark.rule("condis.MissingHandler")
def test_a_drop_party_completed_to_a_client_without_cldroppartycompletehandler():
    bed = make_bed("mcm", client=NoDropPartyComplete)
    call = _two_parties(bed)
    cut_wire(bed)
    bed.do(0, bed.clients[0].drop_party, call.parties[0])
    party = call.parties[0].handle
    assert (party.state, party.op) == (S.PARTY_DROPPING, S.OP_PENDING)
    host = bed.hosts[0]
    expect_violation(bed, "condis.MissingHandler",
                     posted(host, lambda: host.NdisMCmDropPartyComplete(NDIS_STATUS_SUCCESS, party)),
                     ddi="ProtocolClDropPartyComplete")
