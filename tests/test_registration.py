"""Registration as the registration pages describe it: the statuses NdisMRegisterMiniportDriver and
NdisRegisterProtocolDriver return, the copies NDIS keeps of the handler tables, and the optional
handlers a protocol sets for one binding."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from condis import (
    CO_ADDRESS_FAMILY,
    CO_ADDRESS_FAMILY_Q2931,
    IO_WORKITEM,
    NDIS_STATUS_BAD_CHARACTERISTICS,
    NDIS_STATUS_BAD_VERSION,
    NDIS_STATUS_FAILURE,
    NDIS_STATUS_PENDING,
    NDIS_STATUS_SUCCESS,
    DelayedWorkQueue,
    Ndis,
)
from condis.demo import testbed as make_bed
from condis.drivers.client import AtmClient
from condis.drivers.cm import AtmCallManager
from condis.drivers.mcm import AtmMcm
from condis.ndis import states as S
from condis.structs import (
    NDIS_CO_CLIENT_OPTIONAL_HANDLERS,
    NDIS_OBJECT_HEADER,
    NDIS_PROTOCOL_CO_CHARACTERISTICS,
)
from condis.trace import Recorder
from tests.conftest import steps


class _Intercept:
    """Puts ``fn`` in front of the host's DDI ``name`` while a driver registers, then puts it back."""

    def __init__(self, ndis: Any, name: str, fn: Any) -> None:
        self.ndis, self.name = ndis, name
        self.saved = vars(ndis).get(name)
        self.real = getattr(ndis, name)
        setattr(ndis, name, lambda *args: fn(self.real, *args))

    def __enter__(self) -> _Intercept:
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.saved is None:
            delattr(self.ndis, self.name)
        else:
            setattr(self.ndis, self.name, self.saved)


class EditedClient(AtmClient):
    """Registers as the sample does, through ``edit``, which may change what it hands NDIS."""

    def __init__(self, edit: Any, **kw: Any) -> None:
        super().__init__(**kw)
        self.edit = edit
        self.status: int | None = None

    def DriverEntry(self, ndis: Any, DriverObject: Any, RegistryPath: str) -> int:
        def register(real: Any, context: Any, chars: Any) -> Any:
            out = real(context, self.edit(chars))
            self.status = out[0]
            return out
        with _Intercept(ndis, "NdisRegisterProtocolDriver", register):
            return super().DriverEntry(ndis, DriverObject, RegistryPath)


class EditedMcm(AtmMcm):
    def __init__(self, edit: Any) -> None:
        super().__init__()
        self.edit = edit
        self.status: int | None = None

    def DriverEntry(self, ndis: Any, DriverObject: Any, RegistryPath: str) -> int:
        def register(real: Any, driver_object: Any, path: Any, context: Any, chars: Any) -> Any:
            out = real(driver_object, path, context, self.edit(chars))
            self.status = out[0]
            return out
        with _Intercept(ndis, "NdisMRegisterMiniportDriver", register):
            return super().DriverEntry(ndis, DriverObject, RegistryPath)


_REFUSED = [
    ("major 5", lambda c: replace(c, MajorNdisVersion=5), NDIS_STATUS_BAD_VERSION),
    ("minor 15", lambda c: replace(c, MinorNdisVersion=15), NDIS_STATUS_BAD_VERSION),
    ("revision 1 for NDIS 6.20", lambda c: replace(c, MinorNdisVersion=20, Header=NDIS_OBJECT_HEADER(Revision=1)),
     NDIS_STATUS_BAD_CHARACTERISTICS),
    ("revision 9", lambda c: replace(c, Header=NDIS_OBJECT_HEADER(Revision=9)), NDIS_STATUS_BAD_CHARACTERISTICS),
]
_ACCEPTED = [
    ("NDIS 6.1, revision 2", lambda c: replace(c, MinorNdisVersion=1, Header=NDIS_OBJECT_HEADER(Revision=2))),
    ("NDIS 6.86", lambda c: replace(c, MinorNdisVersion=86)),
    ("NDIS 6.0, revision 2", lambda c: replace(c, Header=NDIS_OBJECT_HEADER(Revision=2))),
]


@pytest.mark.parametrize("what, edit, status", _REFUSED, ids=[r[0] for r in _REFUSED])
def test_a_protocol_with_a_bad_version_or_structure_is_not_registered(what, edit, status):
    host = Ndis("A")
    client = EditedClient(edit)
    assert host.load_driver(client.DriverEntry, "atmclient") == status
    assert client.status == status
    assert host.drivers["atmclient"].state == S.DRIVER_UNLOADED and host.drivers["atmclient"].protocol is None


@pytest.mark.parametrize("what, edit, status", _REFUSED, ids=[r[0] for r in _REFUSED])
def test_a_miniport_with_a_bad_version_or_structure_is_not_registered(what, edit, status):
    host = Ndis("A")
    mcm = EditedMcm(edit)
    assert host.load_driver(mcm.DriverEntry, "atmmcm") == status
    assert mcm.status == status and host.drivers["atmmcm"].miniport is None


@pytest.mark.parametrize("what, edit", _ACCEPTED, ids=[r[0] for r in _ACCEPTED])
def test_the_documented_versions_register(what, edit):
    host = Ndis("A")
    mcm, client = EditedMcm(edit), EditedClient(edit)
    assert host.load_driver(mcm.DriverEntry, "atmmcm") == NDIS_STATUS_SUCCESS
    assert host.load_driver(client.DriverEntry, "atmclient") == NDIS_STATUS_SUCCESS


@pytest.mark.parametrize("field", ["BindAdapterHandlerEx", "UnbindAdapterHandlerEx", "NetPnPEventHandler"])
def test_a_protocol_without_a_required_handler_gets_bad_characteristics(field):
    host = Ndis("A")
    client = EditedClient(lambda c: replace(c, **{field: None}))
    assert host.load_driver(client.DriverEntry, "atmclient") == NDIS_STATUS_BAD_CHARACTERISTICS


def test_a_miniport_without_a_required_handler_gets_bad_characteristics():
    host = Ndis("A")
    mcm = EditedMcm(lambda c: replace(c, HaltHandlerEx=None))
    assert host.load_driver(mcm.DriverEntry, "atmmcm") == NDIS_STATUS_BAD_CHARACTERISTICS


# ---------------------------------------------------------------------------- copies of the tables

class RewritingClient(AtmClient):
    """Keeps the structures it registered and writes other handlers into them afterwards."""

    def DriverEntry(self, ndis: Any, DriverObject: Any, RegistryPath: str) -> int:
        def register(real: Any, context: Any, chars: Any) -> Any:
            self.chars = chars
            return real(context, chars)
        with _Intercept(ndis, "NdisRegisterProtocolDriver", register):
            return super().DriverEntry(ndis, DriverObject, RegistryPath)

    def SetOptions(self, NdisDriverHandle: Any, DriverContext: Any) -> int:
        tables: list[Any] = []

        def keep(real: Any, handle: Any, table: Any) -> int:
            tables.append(table)
            return real(handle, table)
        with _Intercept(self.ndis, "NdisSetOptionalHandlers", keep):
            status = super().SetOptions(NdisDriverHandle, DriverContext)
        self.co = next(t for t in tables if isinstance(t, NDIS_PROTOCOL_CO_CHARACTERISTICS))
        self.cl = next(t for t in tables if isinstance(t, NDIS_CO_CLIENT_OPTIONAL_HANDLERS))
        return status

    def rewrite(self) -> None:
        self.chars.NetPnPEventHandler = lambda *args: self.log.append(("rewritten", "NetPnPEvent"))
        self.co.CoAfRegisterNotifyHandler = lambda *args: self.log.append(("rewritten", "AfRegisterNotify"))
        self.cl.ClOpenAfCompleteHandlerEx = lambda *args: self.log.append(("rewritten", "OpenAfComplete"))


def test_handlers_written_into_the_structures_after_registration_are_not_called():
    bed = make_bed("mcm", Recorder(), client=RewritingClient)
    host, client = bed.hosts[0], bed.clients[0]
    client.rewrite()
    late = RewritingClient(saps=(b"carol",))
    assert host.load_driver(late.DriverEntry, "late") == NDIS_STATUS_SUCCESS
    late.rewrite()                  # before NDIS binds it: the bind and the AF notification are still to come
    bed.run()
    assert ("rewritten", "NetPnPEvent") not in late.log + client.log
    assert ("rewritten", "AfRegisterNotify") not in late.log
    assert ("rewritten", "OpenAfComplete") not in late.log
    assert late.af_for().open       # the registered ProtocolCoAfRegisterNotify ran and opened the AF
    mark = len(bed.recorder.records)
    host.remove_adapter("atm0")
    bed.run()
    assert "A:ProtocolNetPnPEvent" in steps(bed.recorder, mark)
    assert not [e for e in client.log + late.log if e[0] == "rewritten"]


# ---------------------------------------------------------------------------- handlers for one binding

class PerBindingClient(AtmClient):
    """Sets, from ProtocolBindAdapterEx, its own NDIS_PROTOCOL_CO_CHARACTERISTICS for the binding: the
    AF notification and received data of that binding reach these handlers, not the driver's."""

    def ProtocolBindAdapterEx(self, ProtocolDriverContext: Any, BindContext: Any, BindParameters: Any) -> int:
        status = super().ProtocolBindAdapterEx(ProtocolDriverContext, BindContext, BindParameters)
        if status != NDIS_STATUS_SUCCESS:
            return status
        b = self.bindings[-1]

        def notify(context: Any, family: Any) -> None:
            self.log.append(("binding notify", context))
            self.ProtocolCoAfRegisterNotify(context, family)

        def receive(*args: Any) -> None:
            self.log.append(("binding receive", args[0]))
            self.ProtocolCoReceiveNetBufferLists(*args)
        self.set_status = self.ndis.NdisSetOptionalHandlers(b.handle, NDIS_PROTOCOL_CO_CHARACTERISTICS(
            CoStatusHandlerEx=self.ProtocolCoStatusEx, CoAfRegisterNotifyHandler=notify,
            CoReceiveNetBufferListsHandler=receive,
            CoSendNetBufferListsCompleteHandler=self.ProtocolCoSendNetBufferListsComplete))
        return status

    def ProtocolCoAfRegisterNotify(self, ProtocolBindingContext: Any, AddressFamily: Any) -> None:
        self.log.append(("driver notify", ProtocolBindingContext))
        super().ProtocolCoAfRegisterNotify(ProtocolBindingContext, AddressFamily)


@pytest.mark.parametrize("kind", ["mcm", "cm"])
def test_a_protocol_sets_handlers_for_a_binding_from_protocolbindadapterex(kind):
    bed = make_bed(kind, Recorder(), client=PerBindingClient)
    client = bed.clients[0]
    b = client.bindings[0]
    assert client.set_status == NDIS_STATUS_SUCCESS
    # guide: configuring-optional-protocol-driver-services.md — the binding's table, then the driver's
    # own handler called from it
    assert [e for e in client.log if "notify" in e[0]] == [("binding notify", b), ("driver notify", b)]
    assert b.afs[0].open
    calls = []
    bed.do(0, lambda: calls.append(client.place_call(b"bob")))
    bed.do(1, lambda: bed.clients[1].send(bed.clients[1].calls[-1], b"pong"))
    assert ("binding receive", b) in client.log
    assert ("binding receive", b) not in bed.clients[1].log


# ---------------------------------------------------------------------------- AFs and closing bindings

class RegistersWhileUnbinding(AtmCallManager):
    """Tries to register another AF on the binding NDIS is unbinding it from."""

    def ProtocolUnbindAdapterEx(self, UnbindContext: Any, ProtocolBindingContext: Any) -> int:
        self.late_status = self.ndis.NdisCmRegisterAddressFamilyEx(
            ProtocolBindingContext.handle, CO_ADDRESS_FAMILY(CO_ADDRESS_FAMILY_Q2931 + 1, 3, 1))
        return super().ProtocolUnbindAdapterEx(UnbindContext, ProtocolBindingContext)


def test_an_af_registered_on_a_binding_being_closed_fails():
    bed = make_bed("cm", Recorder(), cm=RegistersWhileUnbinding)
    host, manager = bed.hosts[0], bed.call_managers[0]
    done = host.remove_adapter("atm0")
    bed.run()
    # ddi: nf-ndis-ndiscmregisteraddressfamilyex.md — NDIS_STATUS_FAILURE while the binding closes
    assert manager.late_status == NDIS_STATUS_FAILURE and done.done


# ---------------------------------------------------------------------------- deregistering

@pytest.mark.parametrize("kind, driver", [("mcm", "atmclient"), ("cm", "atmclient"), ("cm", "atmcm")])
def test_deregistering_a_protocol_with_open_bindings_unbinds_them_within_the_call(kind, driver):
    bed = make_bed(kind, Recorder())
    host = bed.hosts[0]
    proto = host.drivers[driver].protocol
    binding = proto.bindings[0]
    mark = len(bed.recorder.records)
    host.post(lambda: host.NdisDeregisterProtocolDriver(proto), owner=(driver, "Driver"))
    bed.run()
    # ddi: nf-ndis-ndisderegisterprotocoldriver.md — ProtocolUnbindAdapterEx for each open binding,
    # within the call, and the driver is released once the binding is closed
    done = [r for r in bed.recorder.records[mark:] if r.kind == "ddi" and r.name == "NdisDeregisterProtocolDriver"]
    # the call manager's RESTART, sent while the binding pauses; NDIS unbinds once it completed
    signaling = ("A:NdisCoSendNetBufferLists", "A:ProtocolCoSendNetBufferListsComplete")
    seen = [s for s in steps(bed.recorder, mark, host="A", drivers=(driver,)) if s not in signaling]
    assert seen[:3] == ["A:NdisDeregisterProtocolDriver", "A:ProtocolNetPnPEvent", "A:ProtocolUnbindAdapterEx"]
    assert "A:NdisCloseAdapterEx" in seen
    assert len(done) == 1 and binding.state == S.BINDING_UNBOUND
    assert proto.state == S.DEREGISTERED and host.drivers[driver].protocol is None
    bed.sim.finish()     # nothing left behind, and the rest of the drivers unload as usual


# ---------------------------------------------------------------------------- pausing and unbinding

def test_a_binding_is_paused_and_unbound_only_once_its_sends_have_completed():
    bed = make_bed("cm", Recorder())
    mark = len(bed.recorder.records)
    bed.hosts[0].remove_adapter("atm0")
    bed.run()
    cm = steps(bed.recorder, mark, host="A", drivers=("atmcm",))
    # ddi: nc-ndis-protocol_net_pnp_event.md — Pausing until NDIS completed the binding's sends (the
    # call manager's RESTART, sent while it pauses); ProtocolUnbindAdapterEx only once it is Paused
    pause, unbind = cm.index("A:ProtocolNetPnPEvent"), cm.index("A:ProtocolUnbindAdapterEx")
    assert cm[pause + 1] == "A:NdisCoSendNetBufferLists"
    assert pause < cm.index("A:ProtocolCoSendNetBufferListsComplete") < unbind
    assert "A:NdisCoSendNetBufferLists" not in cm[unbind:]


class SlowUnbindClient(AtmClient):
    """Pends every unbind and does the sample's unbind later, from a work item."""

    def ProtocolUnbindAdapterEx(self, UnbindContext: Any, ProtocolBindingContext: Any) -> int:
        self.log.append(("unbind", ProtocolBindingContext))
        unbind = super().ProtocolUnbindAdapterEx

        def later(IoObject: Any, Context: Any, IoWorkItem: Any) -> None:
            self.ndis.IoUninitializeWorkItem(IoWorkItem)
            if unbind(UnbindContext, ProtocolBindingContext) == NDIS_STATUS_SUCCESS:
                self.ndis.NdisCompleteUnbindAdapterEx(UnbindContext)
        item = IO_WORKITEM()
        self.ndis.IoInitializeWorkItem(self.driver_object, item)
        self.ndis.IoQueueWorkItemEx(item, later, DelayedWorkQueue, None)
        return NDIS_STATUS_PENDING


def test_an_adapter_removed_while_its_protocol_unloads_is_unbound_once():
    bed = make_bed("mcm", Recorder(), client=SlowUnbindClient)
    host, client = bed.hosts[0], bed.clients[0]
    unloaded = host.unload_driver("atmclient")
    removed = host.remove_adapter("atm0")
    bed.run()
    assert unloaded.done and removed.done
    assert len([e for e in client.log if e[0] == "unbind"]) == 1    # one ProtocolUnbindAdapterEx, not one per task


class HearsLate(AtmCallManager):
    """Runs ``late`` (a frame's indication, in the test) as its unbind starts: the binding is Paused."""

    late: Any = None

    def ProtocolUnbindAdapterEx(self, UnbindContext: Any, ProtocolBindingContext: Any) -> int:
        self.late()
        return super().ProtocolUnbindAdapterEx(UnbindContext, ProtocolBindingContext)


def test_ndis_indicates_nothing_to_a_paused_binding_and_gives_the_miniport_its_buffers_back():
    bed = make_bed("cm", Recorder(), cm=HearsLate)
    host, manager = bed.hosts[0], bed.call_managers[0]
    binding = manager.bindings[0].handle
    signaling = manager.bindings[0].signaling.ndis_vc.vc
    nic = host.adapters["atm0"].context.nic
    nbl = host.NdisAllocateNetBufferAndNetBufferList(nic.pool, 0, 0, b"late", 0, 4)
    nbl.SourceHandle = signaling.h_miniport
    seen = []

    def late() -> None:
        mark = len(bed.recorder.records)
        assert binding.state == S.BINDING_PAUSED
        host.NdisMCoIndicateReceiveNetBufferLists(signaling.h_miniport, nbl, 1, 0)
        seen.extend(steps(bed.recorder, mark, host="A"))
    manager.late = late
    host.remove_adapter("atm0")
    bed.run()
    # guide: protocol-binding-states-and-operations.md — a Paused binding receives nothing; the
    # miniport gets its NET_BUFFER_LIST back at once (and frees it)
    assert seen == ["A:NdisMCoIndicateReceiveNetBufferLists", "A:MiniportReturnNetBufferLists"]
    assert nbl.Freed
