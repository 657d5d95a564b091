"""Teardown rules (condis/ndis/leaks.py): what a driver left behind when its binding closed, its
adapter halted, it unloaded, or the run ended (``Simulation.finish``)."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import cut_wire, expect_violation, make_bed, place, settle

from condis import (
    IO_WORKITEM,
    NDIS_OID_REQUEST,
    NDIS_STATUS_PENDING,
    NDIS_STATUS_SUCCESS,
    NDIS_TIMER_CHARACTERISTICS,
    OID_GEN_CO_LINK_SPEED,
    DelayedWorkQueue,
)
from condis.drivers.client import AtmClient
from condis.drivers.mcm import AtmMcm
from condis.ndis import states as S
from condis.structs import NDIS_OPEN_PARAMETERS, NDIS_PROTOCOL_CO_CHARACTERISTICS, NDIS_PROTOCOL_DRIVER_CHARACTERISTICS


class StuckUnbindClient(AtmClient):
    """Pends its unbind and never finishes it: whatever it had stays where it was."""

    def ProtocolUnbindAdapterEx(self, UnbindContext: Any, ProtocolBindingContext: Any) -> int:
        return NDIS_STATUS_PENDING


class SwallowingMcm(AtmMcm):
    """Takes sends and never completes them."""

    def MiniportCoSendNetBufferLists(self, MiniportVcContext: Any, NetBufferLists: Any, SendFlags: int) -> None:
        return None


class TimerClient(AtmClient):
    """Arms a one-hour timer and never cancels it."""

    def arm(self) -> None:
        _, self.timer = self.ndis.NdisAllocateTimerObject(self.handle, NDIS_TIMER_CHARACTERISTICS(
            TimerFunction=lambda *args: None, FunctionContext=None))
        self.ndis.NdisSetTimerObject(self.timer, -36_000_000_000, 0, None)


class KernelItemClient(AtmClient):
    """Initializes a kernel work item in DriverEntry and never uninitializes it; with ``queue_at_unload``
    it also queues the item from its unload routine, where the routine will run after the driver is gone."""

    queue_at_unload = False

    def DriverEntry(self, ndis: Any, DriverObject: Any, RegistryPath: str) -> int:
        status = super().DriverEntry(ndis, DriverObject, RegistryPath)
        self.item = IO_WORKITEM()
        ndis.IoInitializeWorkItem(DriverObject, self.item)
        return status

    def Unload(self, DriverObject: Any) -> None:
        if self.queue_at_unload:
            self.ndis.IoQueueWorkItemEx(self.item, lambda *args: None, DelayedWorkQueue, None)
        super().Unload(DriverObject)


class QueuesAtUnload(KernelItemClient):
    queue_at_unload = True


class PlainProtocol:
    """A protocol that binds to every adapter and pends its unbind forever: it never closes the binding."""

    def DriverEntry(self, ndis: Any, DriverObject: Any, RegistryPath: str) -> int:
        self.ndis = ndis
        status, self.handle = ndis.NdisRegisterProtocolDriver(self, NDIS_PROTOCOL_DRIVER_CHARACTERISTICS(
            Name="plain", BindAdapterHandlerEx=self.Bind, UnbindAdapterHandlerEx=self.Unbind,
            NetPnPEventHandler=lambda ctx, event: NDIS_STATUS_SUCCESS, SetOptionsHandler=self.SetOptions))
        DriverObject.DriverUnload = lambda d: ndis.NdisDeregisterProtocolDriver(self.handle)
        return status

    def SetOptions(self, NdisDriverHandle: Any, DriverContext: Any) -> int:
        return self.ndis.NdisSetOptionalHandlers(NdisDriverHandle, NDIS_PROTOCOL_CO_CHARACTERISTICS(
            CoStatusHandlerEx=lambda *args: None, CoReceiveNetBufferListsHandler=lambda *args: None,
            CoSendNetBufferListsCompleteHandler=lambda *args: None))

    def Bind(self, ctx: Any, BindContext: Any, BindParameters: Any) -> int:
        status, self.binding = self.ndis.NdisOpenAdapterEx(self.handle, self, NDIS_OPEN_PARAMETERS(
            AdapterName=BindParameters.AdapterName, MediumArray=[BindParameters.MediaType], MediumArraySize=1),
            BindContext)
        return status

    def Unbind(self, UnbindContext: Any, ProtocolBindingContext: Any) -> int:
        return NDIS_STATUS_PENDING


@pytest.mark.rule("condis.NeverCompleted")
def test_a_close_call_pended_and_never_completed_is_reported_at_run_end(mcm):
    call = place(mcm)
    cut_wire(mcm)
    mcm.do(0, mcm.clients[0].close, call)
    v = expect_violation(mcm, "condis.NeverCompleted", mcm.sim.finish, unchanged=False, more=True)
    assert "ProtocolCmCloseCall returned NDIS_STATUS_PENDING for VC" in v.detail
    assert "NdisMCmCloseCallComplete was never called" in v.detail


@pytest.mark.rule("condis.LeakVc")
def test_a_vc_the_client_never_deleted_is_reported_when_its_binding_closes(bed):
    client = bed.clients[0]
    af = client.bindings[0].afs[0]
    made = []
    bed.hosts[0].post(lambda: made.append(bed.hosts[0].NdisCoCreateVc(af.binding.handle, af.ndis_af, object())))
    bed.run()
    assert made[0][0] == NDIS_STATUS_SUCCESS
    v = expect_violation(bed, "condis.LeakVc", bed.sim.finish, ddi="NdisCloseAdapterEx", unchanged=False, more=True)
    assert f"VC {made[0][1].vc.id:#x}" in v.detail and "never deleted by its creator" in v.detail
    if bed.sim.verifier.mode == "strict":       # the close was refused; record mode reports it and goes on
        assert client.bindings[0].handle.state != S.BINDING_UNBOUND
    else:
        assert client.bindings == []


@pytest.mark.rule("condis.LeakSap")
def test_a_sap_still_registered_at_run_end_is_reported():
    bed = make_bed("mcm", client=StuckUnbindClient)
    v = expect_violation(bed, "condis.LeakSap", bed.sim.finish, ddi="run end", unchanged=False, more=True)
    assert "was never deregistered" in v.detail


@pytest.mark.rule("condis.LeakAf")
def test_an_af_still_open_at_run_end_is_reported():
    bed = make_bed("mcm", client=lambda saps, answer: StuckUnbindClient(saps=(), answer=answer))
    v = expect_violation(bed, "condis.LeakAf", bed.sim.finish, ddi="run end", unchanged=False, more=True)
    assert "was never closed" in v.detail and "(OPEN)" in v.detail


@pytest.mark.rule("condis.LeakSend")
def test_sends_the_miniport_never_completed_are_reported_at_run_end():
    bed = make_bed("mcm", mcm=SwallowingMcm, client=StuckUnbindClient)
    call = place(bed)
    bed.do(0, bed.clients[0].send, call, b"lost")
    v = expect_violation(bed, "condis.LeakSend", bed.sim.finish, ddi="run end", unchanged=False, more=True)
    assert f"1 NET_BUFFER_LIST(s) sent on VC {call.vc.vc.id:#x}" in v.detail


@pytest.mark.rule("condis.LeakBinding")
def test_a_binding_never_closed_is_reported_at_run_end(mcm):
    assert mcm.hosts[0].load_driver(PlainProtocol().DriverEntry, "plain") == NDIS_STATUS_SUCCESS
    mcm.run()
    v = expect_violation(mcm, "condis.LeakBinding", mcm.sim.finish, ddi="run end", unchanged=False, more=True)
    assert "binding plain->atm0 is still open" in v.detail


@pytest.mark.rule("condis.LeakQueued")
def test_a_timer_left_queued_at_unload_is_reported():
    bed = make_bed("mcm", client=TimerClient)
    bed.hosts[0].post(bed.clients[0].arm)
    bed.sim.run(max_steps=1)
    v = expect_violation(bed, "condis.LeakQueued", bed.sim.finish, ddi="Unload", unchanged=False, more=True)
    assert "a timer (<lambda>) is still queued" in v.detail


@pytest.mark.rule("condis.LeakQueued")
def test_a_kernel_work_item_queued_from_the_unload_routine_is_reported():
    bed = make_bed("mcm", client=QueuesAtUnload)
    v = expect_violation(bed, "condis.LeakQueued", bed.sim.finish, ddi="Unload", unchanged=False, more=True,
                         page="kernel/nf-wdm-iouninitializeworkitem.md")
    assert v.detail.startswith("[A] a work item (<lambda>) is still queued")


# ---------------------------------------------------------------------------- allocated, never freed

@pytest.mark.rule("condis.LeakWorkItem")
def test_a_kernel_work_item_never_uninitialized_before_unload_is_reported():
    bed = make_bed("mcm", client=KernelItemClient)
    item = bed.clients[0].item
    v = expect_violation(bed, "condis.LeakWorkItem", bed.sim.finish, ddi="Unload", unchanged=False, more=True,
                         page="kernel/nf-wdm-ioinitializeworkitem.md")
    assert v.detail.startswith(f"[A] {item!r} (initialized with <DRIVER_OBJECT atmclient>) was never uninitialized "
                               "with IoUninitializeWorkItem")


class LeakyMcm(AtmMcm):
    """Allocates a timer object and a work item for each adapter, and for the driver, and never frees them."""

    def MiniportInitializeEx(self, NdisMiniportHandle: Any, MiniportDriverContext: Any,
                             MiniportInitParameters: Any) -> int:
        status = super().MiniportInitializeEx(NdisMiniportHandle, MiniportDriverContext, MiniportInitParameters)
        self.leaked = [self.ndis.NdisAllocateTimerObject(NdisMiniportHandle, NDIS_TIMER_CHARACTERISTICS(
            TimerFunction=lambda *args: None))[1], self.ndis.NdisAllocateIoWorkItem(NdisMiniportHandle)]
        return status


class LeakyDriverMcm(AtmMcm):
    """Allocates a work item with its miniport driver handle and never frees it."""

    def DriverEntry(self, ndis: Any, DriverObject: Any, RegistryPath: str) -> int:
        status = super().DriverEntry(ndis, DriverObject, RegistryPath)
        self.leaked = ndis.NdisAllocateIoWorkItem(self.driver_handle)
        return status


class LeakyTimerClient(AtmClient):
    """Allocates a timer object with its protocol driver handle and never frees it."""

    def arm(self) -> None:
        _, self.timer = self.ndis.NdisAllocateTimerObject(self.handle, NDIS_TIMER_CHARACTERISTICS(
            TimerFunction=lambda *args: None, FunctionContext=None))


def _halt(bed):
    def action():
        bed.hosts[0].remove_adapter("atm0")
        bed.run()
    return action


@pytest.mark.rule("condis.LeakTimer")
def test_a_timer_object_still_allocated_after_miniporthaltex_is_reported():
    bed = make_bed("mcm", mcm=LeakyMcm)
    timer, item = bed.call_managers[0].leaked
    assert timer.event is None                 # allocated, never set: only allocated
    v = expect_violation(bed, "condis.LeakTimer", _halt(bed), ddi="MiniportHaltEx", unchanged=False, more=True,
                         page="ddi/nc-ndis-miniport_halt.md")
    assert f"timer object {timer.id:#x} (allocated with adapter 'atm0') was never freed" in v.detail
    if bed.sim.verifier.recording:
        rules = [f.rule for f in bed.sim.verifier.findings if f.ddi == "MiniportHaltEx"]
        assert rules == ["condis.LeakTimer", "condis.LeakWorkItem"]


@pytest.mark.rule("condis.LeakWorkItem")
def test_a_work_item_still_allocated_after_miniporthaltex_is_reported():
    bed = make_bed("mcm", mcm=LeakyMcm)
    timer, item = bed.call_managers[0].leaked
    bed.hosts[0].NdisFreeTimerObject(timer)
    v = expect_violation(bed, "condis.LeakWorkItem", _halt(bed), ddi="MiniportHaltEx", unchanged=False, more=True,
                         page="ddi/nf-ndis-ndisallocateioworkitem.md")
    assert f"work item {item.id:#x} (allocated with adapter 'atm0') was never freed with NdisFreeIoWorkItem" in v.detail


@pytest.mark.rule("condis.LeakWorkItem")
def test_a_work_item_of_the_miniport_driver_still_allocated_after_its_unload_is_reported():
    bed = make_bed("mcm", mcm=LeakyDriverMcm)
    item = bed.call_managers[0].leaked
    v = expect_violation(bed, "condis.LeakWorkItem", bed.sim.finish, ddi="MiniportDriverUnload", unchanged=False,
                         more=True)
    assert f"work item {item.id:#x}" in v.detail and "miniport driver" in v.detail


@pytest.mark.rule("condis.LeakTimer")
def test_a_timer_object_of_a_protocol_still_allocated_after_its_unload_is_reported():
    bed = make_bed("mcm", client=LeakyTimerClient)
    bed.do(0, bed.clients[0].arm)
    timer = bed.clients[0].timer
    v = expect_violation(bed, "condis.LeakTimer", bed.sim.finish, ddi="Unload", unchanged=False, more=True,
                         page="ddi/nf-ndis-ndisfreetimerobject.md")
    assert f"timer object {timer.id:#x} (allocated with protocol driver" in v.detail


class HoldsOidsMcm(AtmMcm):
    """Pends the OID requests made to the miniport and never completes them."""

    def MiniportCoOidRequest(self, MiniportAdapterContext: Any, MiniportVcContext: Any, NdisRequest: Any) -> int:
        return NDIS_STATUS_PENDING


class AsksTheMiniport(AtmClient):
    """Asks the miniport for its link speed, then unbinds without waiting for the answer."""

    def ask(self) -> None:
        self.status = self.ndis.NdisCoOidRequest(self.bindings[0].handle, None, None, None,
                                                 NDIS_OID_REQUEST(Oid=OID_GEN_CO_LINK_SPEED))


@pytest.mark.rule("condis.CloseWithRequests")
def test_a_binding_closed_with_its_oid_request_outstanding():
    bed = make_bed("mcm", mcm=HoldsOidsMcm, client=AsksTheMiniport)
    bed.do(0, bed.clients[0].ask)
    assert bed.clients[0].status == NDIS_STATUS_PENDING
    host = bed.hosts[0]

    def remove():
        host.remove_adapter("atm0")
        settle(bed.sim)
    v = expect_violation(bed, "condis.CloseWithRequests", remove, ddi="NdisCloseAdapterEx", unchanged=False,
                         more=True)
    assert f"OID request ({OID_GEN_CO_LINK_SPEED:#x})" in v.detail and "ProtocolCoOidRequestComplete" in v.detail


@pytest.mark.rule("condis.NeverCompleted")
def test_a_protocol_deregistered_while_its_unbind_never_completes():
    bed = make_bed("mcm", client=StuckUnbindClient)
    host = bed.hosts[0]
    proto = host.drivers["atmclient"].protocol

    def deregister():
        host.post(lambda: host.NdisDeregisterProtocolDriver(proto), owner=("atmclient", "Driver"))
        settle(bed.sim)
    v = expect_violation(bed, "condis.NeverCompleted", deregister, ddi="NdisDeregisterProtocolDriver",
                         unchanged=False)
    assert "was never unbound" in v.detail and proto.state == S.REGISTERED   # NDIS still waits: not deregistered
