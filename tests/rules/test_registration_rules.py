"""Registration and binding: registering out of order or twice, optional handlers outside SetOptions,
binding calls in a binding state that does not allow them, closing a binding that still has AFs."""

from __future__ import annotations

import pytest

from condis import (
    NDIS_CO_CLIENT_OPTIONAL_HANDLERS,
    NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES,
    NDIS_OPEN_PARAMETERS,
    NDIS_PROTOCOL_CO_CHARACTERISTICS,
    NDIS_PROTOCOL_DRIVER_CHARACTERISTICS,
    NDIS_STATUS_SUCCESS,
    NdisMediumAtm,
)
from condis.drivers.client import AtmClient
from condis.drivers.cm import AtmCallManager
from condis.ndis import states as S
from condis.ndis.snapshot import snapshot
from tests.rules.conftest import expect_violation, make_bed, passive


def _chars(driver):
    return NDIS_PROTOCOL_DRIVER_CHARACTERISTICS(
        Name="again", SetOptionsHandler=driver.SetOptions, BindAdapterHandlerEx=driver.ProtocolBindAdapterEx,
        UnbindAdapterHandlerEx=driver.ProtocolUnbindAdapterEx, NetPnPEventHandler=driver.ProtocolNetPnPEvent)


# ---------------------------------------------------------------------------- condis.Registration

class RegistersTwice(AtmClient):
    """Registers its protocol, then tries again from the same DriverEntry."""

    def DriverEntry(self, ndis, DriverObject, RegistryPath):
        status = super().DriverEntry(ndis, DriverObject, RegistryPath)
        self.refused = expect_violation(ndis, "condis.Registration",
                                        lambda: ndis.NdisRegisterProtocolDriver(self, _chars(self)),
                                        ddi="NdisRegisterProtocolDriver")
        return status


@pytest.mark.rule("condis.Registration")
def test_a_protocol_registered_twice_from_one_driverentry(mcm):
    late = RegistersTwice(saps=(b"carol",))
    assert mcm.hosts[1].load_driver(late.DriverEntry, "twice") == NDIS_STATUS_SUCCESS
    mcm.run()
    assert "already registered a protocol" in late.refused.detail
    assert late.af_for().open              # the first registration stands and binds as usual


@pytest.mark.rule("condis.Registration")
def test_a_protocol_registered_outside_driverentry(mcm):
    host, client = mcm.hosts[0], mcm.clients[0]
    v = expect_violation(mcm, "condis.Registration",
                         passive(host, lambda: host.NdisRegisterProtocolDriver(client, _chars(client))),
                         ddi="NdisRegisterProtocolDriver")
    assert "DriverEntry" in v.detail


@pytest.mark.rule("condis.Registration")
def test_adapter_attributes_set_after_miniportinitializeex(bed):
    host = bed.hosts[0]
    adapter = host.adapters["atm0"]
    attributes = NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES(MiniportAdapterContext=object())
    v = expect_violation(bed, "condis.Registration",
                         passive(host, lambda: host.NdisMSetMiniportAttributes(adapter, attributes)),
                         ddi="NdisMSetMiniportAttributes")
    assert "MiniportInitializeEx" in v.detail


@pytest.mark.rule("condis.Registration")
def test_a_miniport_deregistered_while_its_adapter_runs(mcm):
    host = mcm.hosts[0]
    handle = mcm.call_managers[0].driver_handle
    v = expect_violation(mcm, "condis.Registration",
                         passive(host, lambda: host.NdisMDeregisterMiniportDriver(handle)),
                         ddi="NdisMDeregisterMiniportDriver")
    assert "not halted" in v.detail


# ---------------------------------------------------------------------------- condis.SetOptionsOnly

@pytest.mark.rule("condis.SetOptionsOnly")
def test_optional_handlers_registered_after_setoptions_returned(bed):
    host, client = bed.hosts[0], bed.clients[0]
    v = expect_violation(bed, "condis.SetOptionsOnly",
                         passive(host, lambda: host.NdisSetOptionalHandlers(client.handle,
                                                                            NDIS_CO_CLIENT_OPTIONAL_HANDLERS())),
                         ddi="NdisSetOptionalHandlers")
    assert "outside its SetOptions handler" in v.detail


@pytest.mark.rule("condis.SetOptionsOnly")
def test_optional_handlers_set_for_a_binding_after_its_bind_completed(bed):
    host, client = bed.hosts[0], bed.clients[0]
    binding = client.bindings[0].handle
    table = NDIS_PROTOCOL_CO_CHARACTERISTICS(
        CoStatusHandlerEx=client.ProtocolCoStatusEx, CoAfRegisterNotifyHandler=client.ProtocolCoAfRegisterNotify,
        CoReceiveNetBufferListsHandler=client.ProtocolCoReceiveNetBufferLists,
        CoSendNetBufferListsCompleteHandler=client.ProtocolCoSendNetBufferListsComplete)
    v = expect_violation(bed, "condis.SetOptionsOnly",
                         passive(host, lambda: host.NdisSetOptionalHandlers(binding, table)),
                         ddi="NdisSetOptionalHandlers")
    assert "after its bind completed" in v.detail and binding.co is client.handle.co


# ---------------------------------------------------------------------------- condis.DeregisterInHandler

class DeregistersOnNotify(AtmClient):
    """Deregisters from ProtocolCoAfRegisterNotify, an entry point NDIS calls."""

    refused = None

    def ProtocolCoAfRegisterNotify(self, ProtocolBindingContext, AddressFamily):
        ndis = self.ndis
        self.refused = expect_violation(ndis, "condis.DeregisterInHandler",
                                        lambda: ndis.NdisDeregisterProtocolDriver(self.handle),
                                        ddi="NdisDeregisterProtocolDriver")
        super().ProtocolCoAfRegisterNotify(ProtocolBindingContext, AddressFamily)


@pytest.mark.rule("condis.DeregisterInHandler")
def test_a_protocol_deregisters_from_a_handler_ndis_called(bed):
    late = DeregistersOnNotify(saps=(b"carol",))
    assert bed.hosts[1].load_driver(late.DriverEntry, "late") == NDIS_STATUS_SUCCESS
    bed.run()
    assert "handler NDIS called" in late.refused.detail
    assert late.handle.state == S.REGISTERED and late.af_for().open     # still registered, and it goes on


# ---------------------------------------------------------------------------- condis.BindState

@pytest.mark.rule("condis.BindState")
def test_a_binding_closed_outside_bind_and_unbind(bed):
    host = bed.hosts[0]
    binding = bed.clients[0].bindings[0].handle
    v = expect_violation(bed, "condis.BindState", passive(host, lambda: host.NdisCloseAdapterEx(binding)),
                         ddi="NdisCloseAdapterEx")
    assert "ProtocolUnbindAdapterEx" in v.detail and binding.state == S.BINDING_RUNNING


@pytest.mark.rule("condis.BindState")
def test_an_adapter_opened_with_a_bind_context_that_is_finished(mcm):
    host, client = mcm.hosts[0], mcm.clients[0]
    spent = client.bindings[0].handle.bind_context
    params = NDIS_OPEN_PARAMETERS(AdapterName="atm0", MediumArray=[NdisMediumAtm], MediumArraySize=1)
    v = expect_violation(mcm, "condis.BindState",
                         passive(host, lambda: host.NdisOpenAdapterEx(client.handle, object(), params, spent)),
                         ddi="NdisOpenAdapterEx")
    assert "live context" in v.detail


class BindsWithoutOpening(AtmClient):
    """Reports a successful bind without ever calling NdisOpenAdapterEx."""

    def ProtocolBindAdapterEx(self, ProtocolDriverContext, BindContext, BindParameters):
        return NDIS_STATUS_SUCCESS


@pytest.mark.rule("condis.BindState")
def test_a_bind_reported_successful_without_an_open_binding(mcm):
    host = mcm.hosts[0]
    late = BindsWithoutOpening(saps=())
    before = snapshot(host)
    v = expect_violation(mcm, "condis.BindState", lambda: (host.load_driver(late.DriverEntry, "late"), mcm.run()),
                         ddi="ProtocolBindAdapterEx", unchanged=False)
    assert "without an open binding" in v.detail
    # The driver loaded; NDIS recorded no binding for it and nothing else moved.
    after = snapshot(host)
    assert after["bindings"] == before["bindings"] and after["drivers"]["late"] == S.DRIVER_LOADED


# ---------------------------------------------------------------------------- condis.CloseWithAfs

class _TriesCloseFirst:
    """On unbind, tries NdisCloseAdapterEx first (refused: an AF is still open), then unbinds properly."""

    refused = None

    def ProtocolUnbindAdapterEx(self, UnbindContext, ProtocolBindingContext):
        handle = ProtocolBindingContext.handle
        self.refused = expect_violation(self.ndis, "condis.CloseWithAfs", lambda: self.ndis.NdisCloseAdapterEx(handle),
                                        ddi="NdisCloseAdapterEx")
        return super().ProtocolUnbindAdapterEx(UnbindContext, ProtocolBindingContext)


class ClosesBindingFirst(_TriesCloseFirst, AtmClient):
    """A client that tries to close its binding before its AF."""


class CmClosesBindingFirst(_TriesCloseFirst, AtmCallManager):
    """A call manager that tries to close its binding while its clients still have its AF open."""


@pytest.mark.rule("condis.CloseWithAfs")
def test_a_client_closes_its_binding_with_its_af_open():
    bed = make_bed("mcm", client=ClosesBindingFirst)
    done = bed.hosts[0].remove_adapter("atm0")
    bed.run()
    assert "1 AF(s) open" in bed.clients[0].refused.detail
    assert done.done and done.status == NDIS_STATUS_SUCCESS     # the unbind that followed went through


@pytest.mark.rule("condis.CloseWithAfs")
def test_a_call_manager_closes_its_binding_while_clients_have_its_af_open():
    bed = make_bed("cm", cm=CmClosesBindingFirst)
    done = bed.hosts[0].remove_adapter("atm0")
    bed.run()
    assert "clients still have 1 AF(s) open" in bed.call_managers[0].refused.detail
    assert done.done and done.status == NDIS_STATUS_SUCCESS
