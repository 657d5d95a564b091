"""IRQL rules, one per function family of ddi-index.tsv: a function called at DIRQL (from an
interrupt service routine, ``host.interrupt``) when its page caps it at DISPATCH_LEVEL, and a
PASSIVE_LEVEL-only function called at DISPATCH_LEVEL. Each refusal names the function's own page."""

from __future__ import annotations

import pytest

from condis import (
    CO_ADDRESS_FAMILY,
    CO_ADDRESS_FAMILY_Q2931,
    DISPATCH_LEVEL,
    NDIS_CO_CLIENT_OPTIONAL_HANDLERS,
    NDIS_TIMER_CHARACTERISTICS,
    PASSIVE_LEVEL,
)
from condis.drivers.mcm import AtmMcm
from tests.rules.conftest import expect_violation, make_bed, manager_vc, nbl_for, passive, place, posted


# One call per family, with the arguments a driver would really pass; the ISR makes it at DIRQL.
def _mcm_deactivate(bed, host):
    vc = manager_vc(bed)
    return lambda: host.NdisMCmDeactivateVc(vc.ndis_vc)


def _cm_deactivate(bed, host):
    vc = manager_vc(bed)
    return lambda: host.NdisCmDeactivateVc(vc.ndis_vc)


def _co_send(bed, host):
    call = bed.clients[0].calls[-1]
    nbl = nbl_for(host, call.af.binding.pool, call.vc)
    return lambda: host.NdisCoSendNetBufferLists(call.vc, nbl, 0)


def _cl_close_call(bed, host):
    call = bed.clients[0].calls[-1]
    return lambda: host.NdisClCloseCall(call.vc, None, None, 0)


def _mco_indicate(bed, host):
    vc = manager_vc(bed)
    nbl = nbl_for(host, vc.port.nic.pool, vc.ndis_vc)
    return lambda: host.NdisMCoIndicateReceiveNetBufferLists(vc.ndis_vc, nbl, 1, 0)


def _pause_complete(bed, host):
    adapter = host.adapters["atm0"]
    return lambda: host.NdisMPauseComplete(adapter)


def _acquire(bed, host):
    lock = host.NdisAllocateSpinLock()
    return lambda: host.NdisAcquireSpinLock(lock)


def _set_timer(bed, host):
    _, timer = host.NdisAllocateTimerObject(bed.clients[0].bindings[0].handle,
                                            NDIS_TIMER_CHARACTERISTICS(TimerFunction=lambda *a: None))
    return lambda: host.NdisSetTimerObject(timer, -10, 0, None)


def _queue_work(bed, host):
    item = host.NdisAllocateIoWorkItem(host.adapters["atm0"])
    return lambda: host.NdisQueueIoWorkItem(item, lambda ctx, h: None, None)


def _allocate_nbl(bed, host):
    pool = bed.clients[0].bindings[0].pool
    return lambda: host.NdisAllocateNetBufferAndNetBufferList(pool, 0, 0, b"x", 0, 1)


def _raise_irql(bed, host):
    return lambda: host.NDIS_RAISE_IRQL_TO_DISPATCH()


@pytest.mark.parametrize("kind, rule, ddi, make", [
    pytest.param("mcm", "Irql_MCM_Function", "NdisMCmDeactivateVc", _mcm_deactivate,
                 marks=pytest.mark.rule("Irql_MCM_Function")),
    pytest.param("cm", "Irql_CallManager_Function", "NdisCmDeactivateVc", _cm_deactivate,
                 marks=pytest.mark.rule("Irql_CallManager_Function")),
    pytest.param("mcm", "Irql_Connection_Function", "NdisCoSendNetBufferLists", _co_send,
                 marks=pytest.mark.rule("Irql_Connection_Function")),
    pytest.param("mcm", "Irql_Protocol_Driver_Function", "NdisClCloseCall", _cl_close_call,
                 marks=pytest.mark.rule("Irql_Protocol_Driver_Function")),
    pytest.param("mcm", "Irql_MCO_Function", "NdisMCoIndicateReceiveNetBufferLists", _mco_indicate,
                 marks=pytest.mark.rule("Irql_MCO_Function")),
    pytest.param("mcm", "Irql_Miniport_Driver_Function", "NdisMPauseComplete", _pause_complete,
                 marks=pytest.mark.rule("Irql_Miniport_Driver_Function")),
    pytest.param("mcm", "Irql_Synch_Function", "NdisAcquireSpinLock", _acquire, marks=pytest.mark.rule("Irql_Synch_Function")),
    pytest.param("mcm", "Irql_Timer_Function", "NdisSetTimerObject", _set_timer, marks=pytest.mark.rule("Irql_Timer_Function")),
    pytest.param("mcm", "Irql_Miscellaneous_Function", "NdisQueueIoWorkItem", _queue_work,
                 marks=pytest.mark.rule("Irql_Miscellaneous_Function")),
    pytest.param("mcm", "Irql_NetBuffer_Function", "NdisAllocateNetBufferAndNetBufferList", _allocate_nbl,
                 marks=pytest.mark.rule("Irql_NetBuffer_Function")),
    pytest.param("mcm", "Irql_IrqlSetting_Function", "NDIS_RAISE_IRQL_TO_DISPATCH", _raise_irql,
                 marks=pytest.mark.rule("Irql_IrqlSetting_Function")),
])
def test_a_dispatch_level_function_is_refused_at_dirql(kind, rule, ddi, make):
    bed = make_bed(kind)
    place(bed)
    host = bed.hosts[0]
    call = make(bed, host)
    v = expect_violation(bed, rule, lambda: host.interrupt(call), ddi=ddi)
    assert "DIRQL" in v.detail


def _mcm_notify_close(bed, host):
    af = bed.call_managers[0].adapters[0].afs[0]
    return lambda: host.NdisMCmNotifyCloseAddressFamily(af.ndis_af)


def _cm_register_af(bed, host):
    b = bed.call_managers[0].bindings[0]
    return lambda: host.NdisCmRegisterAddressFamilyEx(b.handle, CO_ADDRESS_FAMILY(CO_ADDRESS_FAMILY_Q2931 + 1, 3, 1))


def _cl_open_af(bed, host):
    b = bed.clients[0].bindings[0]
    return lambda: host.NdisClOpenAddressFamilyEx(b.handle, CO_ADDRESS_FAMILY(CO_ADDRESS_FAMILY_Q2931, 3, 1), None)


def _deregister_miniport(bed, host):
    handle = bed.call_managers[0].driver_handle
    return lambda: host.NdisMDeregisterMiniportDriver(handle)


def _set_optional_handlers(bed, host):
    handle = bed.clients[0].handle
    return lambda: host.NdisSetOptionalHandlers(handle, NDIS_CO_CLIENT_OPTIONAL_HANDLERS())


@pytest.mark.parametrize("kind, rule, ddi, make", [
    pytest.param("mcm", "Irql_MCM_Function", "NdisMCmNotifyCloseAddressFamily", _mcm_notify_close,
                 marks=pytest.mark.rule("Irql_MCM_Function")),
    pytest.param("cm", "Irql_CallManager_Function", "NdisCmRegisterAddressFamilyEx", _cm_register_af,
                 marks=pytest.mark.rule("Irql_CallManager_Function")),
    pytest.param("mcm", "Irql_Protocol_Driver_Function", "NdisClOpenAddressFamilyEx", _cl_open_af,
                 marks=pytest.mark.rule("Irql_Protocol_Driver_Function")),
    pytest.param("mcm", "Irql_Miniport_Driver_Function", "NdisMDeregisterMiniportDriver", _deregister_miniport,
                 marks=pytest.mark.rule("Irql_Miniport_Driver_Function")),
    pytest.param("mcm", "Irql_Miscellaneous_Function", "NdisSetOptionalHandlers", _set_optional_handlers,
                 marks=pytest.mark.rule("Irql_Miscellaneous_Function")),
])
def test_a_passive_level_function_is_refused_at_dispatch_level(kind, rule, ddi, make):
    bed = make_bed(kind)
    host = bed.hosts[0]
    v = expect_violation(bed, rule, posted(host, make(bed, host), irql=DISPATCH_LEVEL), ddi=ddi)
    assert "DISPATCH_LEVEL" in v.detail and "PASSIVE_LEVEL" in v.detail


@pytest.mark.rule("Irql_Synch_Function")
def test_ndisdpracquirespinlock_is_refused_at_passive_level(mcm):
    host = mcm.hosts[0]
    lock = host.NdisAllocateSpinLock()
    v = expect_violation(mcm, "Irql_Synch_Function", passive(host, lambda: host.NdisDprAcquireSpinLock(lock)),
                         ddi="NdisDprAcquireSpinLock")
    assert v.page == "ddi/nf-ndis-ndisdpracquirespinlock.md" and lock.owner is None


@pytest.mark.rule("Irql_Synch_Function")
def test_ndisdprreleasespinlock_is_refused_at_passive_level(mcm):
    host = mcm.hosts[0]
    lock = host.NdisAllocateSpinLock()
    expect_violation(mcm, "Irql_Synch_Function", passive(host, lambda: host.NdisDprReleaseSpinLock(lock)),
                     ddi="NdisDprReleaseSpinLock")


@pytest.mark.rule("Irql_IrqlSetting_Function")
def test_ndis_lower_irql_with_an_irql_that_was_never_raised(mcm):
    host = mcm.hosts[0]
    # At PASSIVE_LEVEL, claiming to lower from DISPATCH_LEVEL: the macro must get what RAISE returned.
    v = expect_violation(mcm, "Irql_IrqlSetting_Function",
                         passive(host, lambda: host.NDIS_LOWER_IRQL(PASSIVE_LEVEL, DISPATCH_LEVEL)),
                         ddi="NDIS_LOWER_IRQL")
    assert "PASSIVE_LEVEL" in v.detail


@pytest.mark.rule("Irql_IrqlSetting_Function")
def test_ndis_lower_irql_may_not_raise(mcm):
    host = mcm.hosts[0]
    expect_violation(mcm, "Irql_IrqlSetting_Function",
                     posted(host, lambda: host.NDIS_LOWER_IRQL(DISPATCH_LEVEL + 1, DISPATCH_LEVEL)),
                     ddi="NDIS_LOWER_IRQL")


# ---------------------------------------------------------------------------- NdisCancelTimerObject

def _timer_set(host, period_ms):
    _, timer = host.NdisAllocateTimerObject(host.adapters["atm0"], NDIS_TIMER_CHARACTERISTICS(
        TimerFunction=lambda *a: None))
    host.post(lambda: host.NdisSetTimerObject(timer, -10_000_000, period_ms, None))
    host.run(max_steps=1)
    assert timer.event is not None
    return timer


@pytest.mark.rule("Irql_Timer_Function")
def test_a_periodic_timer_is_cancelled_above_passive_level(mcm):
    # ddi: nf-ndis-ndiscanceltimerobject.md, remarks: periodic at PASSIVE_LEVEL only
    host = mcm.hosts[0]
    timer = _timer_set(host, 50)
    v = expect_violation(mcm, "Irql_Timer_Function", posted(host, lambda: host.NdisCancelTimerObject(timer)),
                         ddi="NdisCancelTimerObject")
    assert "periodic timer (50 ms) at DISPATCH_LEVEL" in v.detail and "requires PASSIVE_LEVEL" in v.detail
    assert v.page == "ddi/nf-ndis-ndiscanceltimerobject.md" and timer.event is not None
    out = []
    passive(host, lambda: out.append(host.NdisCancelTimerObject(timer)))()
    assert out == [True] and timer.event is None


@pytest.mark.rule("Irql_Timer_Function")
def test_a_one_shot_timer_is_cancelled_at_dirql(mcm):
    host = mcm.hosts[0]
    timer = _timer_set(host, 0)
    v = expect_violation(mcm, "Irql_Timer_Function", lambda: host.interrupt(host.NdisCancelTimerObject, timer),
                         ddi="NdisCancelTimerObject")
    assert "one-shot timer at DIRQL" in v.detail and timer.event is not None
    out = []
    posted(host, lambda: out.append(host.NdisCancelTimerObject(timer)))()    # DISPATCH_LEVEL is fine for it
    assert out == [True] and timer.event is None


# ---------------------------------------------------------------------------- DIRQL, however the DDI is reached

class _HoldsSends(AtmMcm):
    """Keeps the sends it is given; the test completes them."""

    held: list = []

    def MiniportCoSendNetBufferLists(self, MiniportVcContext, NetBufferLists, SendFlags):
        self.held.append(NetBufferLists)


@pytest.mark.rule("Irql_MCO_Function")
def test_a_send_completion_reached_through_a_reference_taken_before_the_interrupt():
    bed = make_bed("mcm", mcm=_HoldsSends)
    call = place(bed)
    host = bed.hosts[0]
    _HoldsSends.held = []
    bed.do(0, bed.clients[0].send, call, b"data")
    nbl, = _HoldsSends.held
    vc = call.vc.vc
    complete = host.NdisMCoSendNetBufferListsComplete       # taken before the interrupt
    v = expect_violation(bed, "Irql_MCO_Function", lambda: host.interrupt(complete, vc.h_miniport, nbl, 0),
                         ddi="NdisMCoSendNetBufferListsComplete")
    assert "DIRQL" in v.detail and vc.sends == {nbl}
    posted(host, lambda: complete(vc.h_miniport, nbl, 0))()  # at DISPATCH_LEVEL it goes through
    assert not vc.sends


@pytest.mark.rule("Irql_Connection_Function")
def test_a_send_reached_through_a_reference_taken_before_the_interrupt(mcm):
    call = place(mcm)
    host = mcm.hosts[0]
    send = host.NdisCoSendNetBufferLists
    nbl = nbl_for(host, call.af.binding.pool, call.vc)
    v = expect_violation(mcm, "Irql_Connection_Function", lambda: host.interrupt(send, call.vc, nbl, 0),
                         ddi="NdisCoSendNetBufferLists")
    assert "DIRQL" in v.detail and not call.vc.vc.sends
