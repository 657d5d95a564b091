"""Plug and Play: loading drivers, starting and removing adapters, binding and unbinding.

Guide: binding-to-an-adapter.md, unbinding-from-an-adapter.md, initializing-a-miniport-adapter.md,
halting-a-miniport-adapter.md, protocol-binding-states-and-operations.md.

The simulation-control calls (``load_driver``, ``add_adapter``, ``remove_adapter``,
``unload_driver``) do what the I/O manager and the PnP manager do on Windows. Anything that may
wait for a driver (a pended bind, unbind or pause) runs as a PnP task: a generator that yields a
:class:`Completion` and is resumed from an NDIS work item at PASSIVE_LEVEL when it fires.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator
from typing import Any

from condis import _status as st
from condis._safe_repr import safe_repr
from condis.constants import (
    DISPATCH_LEVEL,
    PASSIVE_LEVEL,
    NdisHaltDeviceDisabled,
    NetEventPause,
    NetEventRestart,
)
from condis.ndis import leaks
from condis.ndis import states as S
from condis.ndis.core import PENDING, SUCCESS, status_name
from condis.ndis.images import image_entry
from condis.ndis.objects import (
    SIDE_CLIENT,
    SIDE_CM,
    SIDE_MCM,
    SIDE_MINIPORT,
    Adapter,
    BindContext,
    Binding,
    Driver,
    ProtocolDriver,
    RegisteredAf,
    UnbindContext,
)
from condis.ndis.registration import RegistrationDdi
from condis.ndis.validate import structure_fault
from condis.structs import NDIS_BIND_PARAMETERS, NDIS_MINIPORT_INIT_PARAMETERS, NDIS_OPEN_PARAMETERS, NDIS_PNP_EVENT


class Completion:
    """Something a PnP task waits for; ``done`` and ``status`` once it has happened."""

    __slots__ = ("label", "done", "status", "_then")

    def __init__(self, label: str) -> None:
        self.label = label
        self.done = False
        self.status: int | None = None
        self._then: list[Callable[[], None]] = []

    def fire(self, status: int = SUCCESS) -> None:
        self.done = True
        self.status = status
        then, self._then = self._then, []
        for fn in then:
            fn()

    def __repr__(self) -> str:
        state = status_name(self.status) if self.done else "waiting"
        return f"<Completion {self.label}: {state}>"


Task = Generator[Completion, int, None]
_AT_MINIPORT = (SIDE_MINIPORT, SIDE_MCM)
# The context types by another name: NdisOpenAdapterEx's parameter is called BindContext, and a
# context is recognised by its type, never by its class name (a look-alike is not one).
_BindContext, _UnbindContext = BindContext, UnbindContext


class PnpDdi(RegistrationDdi):
    """Adapters and bindings, and the PnP manager that drives them."""

    def __init__(self, name: str, sim: Any) -> None:
        super().__init__(name, sim)
        self.adapters: dict[str, Adapter] = {}
        self._protocols: list[ProtocolDriver] = []
        self._oids: dict[int, Any] = {}     # OID requests NDIS waits to see completed (condis/ndis/requests.py)

    # ------------------------------------------------------------------ tasks

    def _spawn(self, task: Task, label: str, owner: Any = None) -> None:
        """Start a PnP task at PASSIVE_LEVEL from an NDIS work item."""
        def step(value: Any = None) -> None:
            while True:
                try:
                    waiting = task.send(value)
                except StopIteration:
                    return
                if not waiting.done:
                    waiting._then.append(lambda w=waiting: self.sim.scheduler.schedule(
                        0, step, (w.status,), kind="pnp", label=label, host=self,
                        irql=PASSIVE_LEVEL, owner=owner))
                    return
                value = waiting.status
        self.sim.scheduler.schedule(0, step, (), kind="pnp", label=label, host=self, irql=PASSIVE_LEVEL,
                                    owner=owner)

    def _as_passive(self, fn: Callable[..., Any], *args: Any) -> Any:
        saved = self._irql
        self._irql = PASSIVE_LEVEL
        try:
            return fn(*args)
        finally:
            self._irql = saved

    # ------------------------------------------------------------------ drivers

    def load_driver(self, driver_entry: Callable[..., int] | str | os.PathLike[str], name: str) -> int:
        """Load a driver: call ``driver_entry(ndis, driver_object, registry_path)`` and return its status.

        ``driver_entry`` may also be the path of a driver image (a C driver built with ``condis cc``):
        its DriverEntry is called through the image loader registered for the file's suffix
        (:mod:`condis.ndis.images`). A protocol driver that loads is then bound to every running
        adapter (from NDIS work items).
        """
        if isinstance(driver_entry, (str, os.PathLike)):
            driver_entry = image_entry(driver_entry)
        if name in self.drivers and self.drivers[name].state != S.DRIVER_UNLOADED:
            raise ValueError(f"a driver named {safe_repr(name)} is already loaded on host {self.name!r}")
        drv = Driver(self, self._next_id(), name)
        self.drivers[name] = drv
        self._by_driver_object[id(drv.driver_object)] = drv
        registry_path = f"\\Registry\\Machine\\System\\CurrentControlSet\\Services\\{name}"
        self._loading = drv
        self._note_handler(name, "Driver", driver_entry)
        try:
            status = self._as_passive(self._io_routine, driver_entry, "DriverEntry", self, drv.driver_object,
                                      registry_path)
        except BaseException:
            # DriverEntry did not return (a refused image, a driver bug): the driver is not loaded,
            # and the name is free for another try
            if drv.miniport is None and drv.protocol is None:
                drv.state = S.DRIVER_UNLOADED
            raise
        finally:
            self._loading = None
        status = self._result("DriverEntry", status, 0)[0]
        if status == PENDING:
            raise self._violate("condis.NoPendingHere", "DriverEntry", "DriverEntry must run synchronously "
                                "(guide: initializing-a-protocol-driver.md)")
        if status != SUCCESS:
            if drv.miniport is not None or drv.protocol is not None:
                raise self._violate("condis.Registration", "DriverEntry",
                                    f"{safe_repr(name)} failed with {status_name(status)} but left its NDIS registration "
                                    "in place; it must deregister before failing")
            drv.state = S.DRIVER_UNLOADED
            return status
        if drv.miniport is None and drv.protocol is None:
            raise self._violate("condis.Registration", "DriverEntry",
                                f"{safe_repr(name)} returned success without registering with NDIS")
        drv.state = S.DRIVER_LOADED
        if drv.protocol is not None:
            self._protocols.append(drv.protocol)
            for adapter in self.adapters.values():
                if adapter.state == S.ADAPTER_RUNNING:
                    self._spawn(self._bind_task(drv.protocol, adapter), f"bind {name}->{adapter.name}")
        return status

    def unload_driver(self, name: str) -> Completion:
        """Unload a driver: remove its adapters or unbind its bindings, then call its unload routine."""
        drv = self.drivers.get(name)
        if drv is None or drv.state != S.DRIVER_LOADED:
            raise ValueError(f"no loaded driver {safe_repr(name)} on host {self.name!r}")
        done = Completion(f"unload {name}")
        self._spawn(self._unload_task(drv, done), f"unload {name}")
        return done

    def _unload_task(self, drv: Driver, done: Completion) -> Task:
        owned = leaks.handles_of(drv)
        if drv.miniport is not None:
            mp = drv.miniport
            for adapter in list(mp.adapters):
                if adapter.state != S.ADAPTER_HALTED:
                    yield self.remove_adapter(adapter.name)
            self._up(mp.chars.UnloadHandler, "MiniportDriverUnload", drv.driver_object)
            self._teardown("MiniportDriverUnload", leaks.after_unload(self, owned))
        if drv.protocol is not None:
            proto = drv.protocol
            for b in list(proto.bindings):
                if b.state != S.BINDING_UNBOUND:
                    yield from self._unbind_task(b)
            unload = drv.driver_object.DriverUnload
            if unload is None:
                raise self._violate("condis.MissingHandler", "Unload",
                                    f"{drv.name!r} set no DriverObject.DriverUnload; a protocol deregisters there "
                                    "(guide: initializing-a-protocol-driver.md)")
            self._note_handler(drv.name, "Driver", unload, replace=False)
            self._io_routine(unload, "Unload", drv.driver_object)
            self._teardown("Unload", leaks.after_unload(self, owned))
            if proto in self._protocols:
                self._protocols.remove(proto)
        if drv.miniport is not None or drv.protocol is not None:
            raise self._violate("condis.Registration", "Unload",
                                f"{drv.name!r} returned from its unload routine still registered with NDIS")
        drv.state = S.DRIVER_UNLOADED
        done.fire(SUCCESS)

    # ------------------------------------------------------------------ adapters

    def add_adapter(self, miniport_driver_name: str, name: str, hardware: Any = None) -> int:
        """Start an adapter of a loaded miniport driver, as PnP does when a NIC appears.

        ``hardware`` is what the driver finds in MiniportInitParameters.AllocatedResources (for the
        sample drivers, a port on a :class:`condis.Wire`). Returns MiniportInitializeEx's status;
        the protocols are bound afterwards, from NDIS work items.
        """
        drv = self.drivers.get(miniport_driver_name)
        if drv is None or drv.miniport is None:
            raise ValueError(f"no miniport driver {miniport_driver_name!r} is loaded on host {self.name!r}")
        if name in self.adapters and self.adapters[name].state != S.ADAPTER_HALTED:
            raise ValueError(f"an adapter named {safe_repr(name)} already exists on host {self.name!r}")
        mp = drv.miniport
        adapter = Adapter(self, self._next_id(), name, mp, hardware)
        self.adapters[name] = adapter
        mp.adapters.append(adapter)
        params = NDIS_MINIPORT_INIT_PARAMETERS(AllocatedResources=hardware, IfIndex=adapter.id)
        adapter.in_initialize = True
        try:
            status = self._as_passive(self._up, mp.chars.InitializeHandlerEx, "MiniportInitializeEx", adapter,
                                      mp.context, params)
        finally:
            adapter.in_initialize = False
        status = self._result("MiniportInitializeEx", status, 0)[0]
        if status == PENDING:
            raise self._violate("condis.NoPendingHere", "MiniportInitializeEx",
                                "MiniportInitializeEx completes synchronously")
        if status != SUCCESS:
            adapter.state = S.ADAPTER_HALTED
            adapter.afs.clear()
            return status
        if adapter.context is None:
            raise self._violate("condis.Registration", "MiniportInitializeEx",
                                f"{adapter!r} returned success without NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES "
                                "(guide: initializing-a-miniport-adapter.md)")
        if adapter.general is None:
            raise self._violate("condis.Registration", "MiniportInitializeEx",
                                f"{adapter!r} returned success without NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES")
        adapter.state = S.ADAPTER_PAUSED
        status = self._result("MiniportRestart", self._as_passive(
            self._up, mp.chars.RestartHandler, "MiniportRestart", adapter.context, None), 0)[0]
        if status != SUCCESS:
            raise self._violate("condis.NoPendingHere" if status == PENDING else "condis.Registration",
                                "MiniportRestart", f"returned {status_name(status)}; condis restarts adapters "
                                "synchronously (NdisMRestartComplete is outside its DDI surface)")
        adapter.state = S.ADAPTER_RUNNING
        for proto in self._protocols:
            self._spawn(self._bind_task(proto, adapter), f"bind {proto.name}->{name}")
        return status

    def remove_adapter(self, name: str) -> Completion:
        """Remove an adapter as PnP does: unbind every protocol (call managers first), pause, halt."""
        adapter = self.adapters.get(name)
        if adapter is None or adapter.state == S.ADAPTER_HALTED:
            raise ValueError(f"no running adapter {safe_repr(name)} on host {self.name!r}")
        if adapter.removal is not None:
            return adapter.removal
        done = adapter.removal = Completion(f"remove {name}")
        self._spawn(self._remove_task(adapter, done), f"remove {name}")
        return done

    def _remove_task(self, adapter: Adapter, done: Completion) -> Task:
        # Stand-alone call managers first: their unbind closes their clients' AFs through
        # NdisCmNotifyCloseAddressFamily (guide: closing-a-condis-call-manager-or-mcm.md).
        order = sorted(adapter.bindings, key=lambda b: b.cm is None)
        for b in order:
            if b.state != S.BINDING_UNBOUND:
                yield from self._unbind_task(b)
        mp = adapter.miniport
        adapter.state = S.ADAPTER_PAUSING
        status = self._result("MiniportPause", self._up(mp.chars.PauseHandler, "MiniportPause", adapter.context,
                                                        None), 0)[0]
        if status == PENDING:
            adapter.pause = Completion(f"pause {adapter.name}")
            yield adapter.pause
        adapter.state = S.ADAPTER_PAUSED
        # guide: halting-a-miniport-adapter.md — NDIS does not halt an adapter while OID requests are
        # outstanding at its miniport: the halt waits for the last one to complete.
        if self._requests_at(adapter):
            adapter.requests_done = Completion(f"requests of {adapter.name}")
            yield adapter.requests_done
            adapter.requests_done = None
        self._up(mp.chars.HaltHandlerEx, "MiniportHaltEx", adapter.context, NdisHaltDeviceDisabled)
        adapter.state = S.ADAPTER_HALTED
        self._teardown("MiniportHaltEx", leaks.after_halt(self, adapter))
        for raf in adapter.afs:
            raf.state = S.DEREGISTERED
        done.fire(SUCCESS)

    def _requests_at(self, adapter: Adapter) -> bool:
        """Whether OID requests made to the miniport of ``adapter`` (as a miniport, or as an MCM
        answering its clients) are still outstanding."""
        return any(rec.adapter is adapter and rec.target in _AT_MINIPORT for rec in self._oids.values())

    def NdisMPauseComplete(self, MiniportAdapterHandle: Adapter) -> None:
        ddi = "NdisMPauseComplete"
        if self._irql > DISPATCH_LEVEL:
            raise self._at_dirql(ddi)
        ad = MiniportAdapterHandle
        if not isinstance(ad, Adapter) or ad.ndis is not self:
            raise self._bad_handle(ddi, "MiniportAdapterHandle", ad, Adapter)
        waiting = ad.pause
        if ad.state != S.ADAPTER_PAUSING or waiting is None or waiting.done:
            raise self._violate("condis.CompleteWithoutPending", ddi,
                                f"{ad!r} is {ad.state}; only a MiniportPause that returned NDIS_STATUS_PENDING "
                                "is completed")
        waiting.fire(SUCCESS)

    # ------------------------------------------------------------------ binding

    def _bind_task(self, proto: ProtocolDriver, adapter: Adapter) -> Task:
        if adapter.state != S.ADAPTER_RUNNING or proto.state != S.REGISTERED:
            return
        ctx = BindContext(proto, adapter)
        gen = adapter.general
        params = NDIS_BIND_PARAMETERS(AdapterName=adapter.name, BoundAdapterName=adapter.name,
                                      MediaType=gen.MediaType, MtuSize=gen.MtuSize,
                                      MaxXmitLinkSpeed=gen.MaxXmitLinkSpeed, XmitLinkSpeed=gen.XmitLinkSpeed,
                                      MaxRcvLinkSpeed=gen.MaxRcvLinkSpeed, RcvLinkSpeed=gen.RcvLinkSpeed,
                                      MediaConnectState=gen.MediaConnectState, MacOptions=gen.MacOptions)
        status = self._result("ProtocolBindAdapterEx", self._up(
            proto.chars.BindAdapterHandlerEx, "ProtocolBindAdapterEx", proto.context, ctx, params), 0)[0]
        if status == PENDING:
            ctx.state = S.BIND_PENDING
            ctx.completion = Completion(f"bind {proto.name}->{adapter.name}")
            status = yield ctx.completion
        ctx.state = S.BIND_DONE
        b = ctx.binding
        if status != SUCCESS:
            if b is not None and b.state != S.BINDING_UNBOUND:
                raise self._violate("condis.BindState", "ProtocolBindAdapterEx",
                                    f"failed the bind of {b!r} with {status_name(status)} but left the binding "
                                    "open; close it with NdisCloseAdapterEx first (guide: binding-to-an-adapter.md)")
            return
        if b is None or b.state == S.BINDING_UNBOUND:
            raise self._violate("condis.BindState", "ProtocolBindAdapterEx",
                                f"{proto.name!r} reported a successful bind to {adapter!r} without an open binding "
                                "(NdisOpenAdapterEx)")
        self._pnp_event(b, NetEventRestart)
        b.state = S.BINDING_RUNNING
        # A client that binds after an AF was registered hears of it now
        # (guide: registering-and-opening-an-address-family.md), if the AF's call manager finished its
        # own bind; the clients bound already hear of the AFs this call manager registered while it
        # was binding (ddi: nf-ndis-ndiscmregisteraddressfamilyex.md, Remarks).
        for raf in list(self._afs_on(adapter)):
            if raf.cm_binding is not b and self._af_ready(raf):
                self._notify_af(b, raf)
        for raf in list(b.registered_afs):
            if raf.state == S.REGISTERED:
                self._notify_clients(adapter, raf)

    def _paused(self, b: Binding) -> None:
        """A binding NDIS pauses leaves the data path that looks at no binding state
        (condis/ndis/data.py) on its clients' VCs: sends take the checks that refuse them once it is
        Paused, and completions the path that tells a pause waiting for them."""
        for vc in b.adapter.vcs:
            if vc.af is not None and vc.af.client is b and vc.h_client is not None:
                vc.h_client.route = None
                vc.h_miniport.route = None

    def _sends_of(self, b: Binding) -> bool:
        """Whether NET_BUFFER_LISTs the protocol sent on binding ``b`` are still outstanding."""
        for vc in b.adapter.vcs:
            if vc.sends:
                side = SIDE_CM if vc.cm_binding is b else SIDE_CLIENT if vc.af is not None and vc.af.client is b \
                    else None
                if side is not None and any(nbl.SourceHandle.side == side for nbl in vc.sends):
                    return True
        return False

    def _pnp_event(self, b: Binding, code: int) -> None:
        ev = NDIS_PNP_EVENT(NetEvent=code)
        status = self._result("ProtocolNetPnPEvent", self._up(
            b.protocol.chars.NetPnPEventHandler, "ProtocolNetPnPEvent", b.context, ev), 0)[0]
        if status == PENDING:
            raise self._violate("condis.NoPendingHere", "ProtocolNetPnPEvent",
                                "condis completes PnP events synchronously (NdisCompleteNetPnPEvent is outside its "
                                "DDI surface)")
        if status != SUCCESS:
            # ddi: nc-ndis-protocol_net_pnp_event.md — a protocol always succeeds NetEventPause and
            # NetEventRestart; record mode goes on as from a success.
            name = "NetEventPause" if code == NetEventPause else "NetEventRestart"
            self.verifier.found(self, self._violate(
                "condis.HandlerReturn", "ProtocolNetPnPEvent",
                f"returned {status_name(status)} for {name} on {b!r}; a protocol succeeds {name}"))

    def _unbind_task(self, b: Binding) -> Task:
        if b.unbinding is not None:
            # Another PnP task (an adapter removal, an unload, a deregistration) is unbinding it
            # already: NDIS unbinds a binding once, and this task waits for that unbind to end.
            if not b.unbinding.done:
                yield b.unbinding
            return
        b.unbinding = Completion(f"unbind {b!r}")
        if b.state == S.BINDING_RUNNING:
            self._pnp_event(b, NetEventPause)
            self._paused(b)
            # ddi: nc-ndis-protocol_net_pnp_event.md — the binding is Paused once NDIS has completed
            # all of its outstanding sends; until then it is Pausing, and may still send.
            if self._sends_of(b):
                b.pausing = Completion(f"pause {b!r}")
                yield b.pausing
                b.pausing = None
            b.state = S.BINDING_PAUSED
        ctx = UnbindContext(b)
        b.unbind_context = ctx
        status = self._result("ProtocolUnbindAdapterEx", self._up(
            b.protocol.chars.UnbindAdapterHandlerEx, "ProtocolUnbindAdapterEx", ctx, b.context), 0)[0]
        if status not in (SUCCESS, PENDING):
            # ddi: nc-ndis-protocol_unbind_adapter_ex.md — a protocol cannot fail an unbind; record
            # mode goes on as from a success, and the binding must be closed all the same.
            self.verifier.found(self, self._violate(
                "condis.HandlerReturn", "ProtocolUnbindAdapterEx",
                f"returned {status_name(status)} for {b!r}; an unbind cannot fail: it returns NDIS_STATUS_SUCCESS or "
                "NDIS_STATUS_PENDING"))
        if status == PENDING:
            ctx.state = S.BIND_PENDING
            ctx.completion = Completion(f"unbind {b!r}")
            yield ctx.completion
        ctx.state = S.BIND_DONE
        if b.state != S.BINDING_UNBOUND:
            raise self._violate("condis.BindState", "ProtocolUnbindAdapterEx",
                                f"completed the unbind of {b!r} without closing it with NdisCloseAdapterEx "
                                "(guide: unbinding-from-an-adapter.md)")
        b.unbinding.fire(SUCCESS)

    def NdisDeregisterProtocolDriver(self, NdisProtocolHandle: ProtocolDriver) -> None:
        """Deregister a protocol: NDIS first unbinds every binding it still has, within the call.

        ddi: nf-ndis-ndisderegisterprotocoldriver.md — not from an entry point NDIS calls (it could
        deadlock); with bindings open, NDIS calls ProtocolUnbindAdapterEx for each (pausing a running
        one first, as for any unbind) and waits for each to complete before it releases the driver.
        The caller waits at PASSIVE_LEVEL: the simulation runs on until the unbind completes.
        """
        ddi = "NdisDeregisterProtocolDriver"
        self._passive_only(ddi)
        proto = NdisProtocolHandle
        if not isinstance(proto, ProtocolDriver) or proto.ndis is not self or proto.state != S.REGISTERED:
            raise self._bad_handle(ddi, "NdisProtocolHandle", proto, ProtocolDriver)
        if self._in_ndis_entry_point():
            raise self._violate("condis.DeregisterInHandler", ddi,
                                f"{proto.name!r} called it from a handler NDIS called; a protocol deregisters from "
                                "its unload routine or from DriverEntry when that fails")
        for b in list(proto.bindings):
            # In condis a binding is PAUSED only while it binds or unbinds: a bind under way is let
            # finish; then the binding is unbound here, or the unbind under way is waited for.
            self._block_until(lambda b=b: b.state != S.BINDING_PAUSED or b.unbinding is not None)
            if b.state != S.BINDING_UNBOUND and not self._wait_for(self._unbind_task(b)):
                self._teardown(ddi, [("condis.NeverCompleted",
                                      f"{b!r} was never unbound (a bind or unbind pended and was never completed); "
                                      "NDIS waits for it before it deregisters the protocol")])
                return
        proto.state = S.DEREGISTERED
        proto.driver.protocol = None
        if proto in self._protocols:
            self._protocols.remove(proto)

    def _wait_for(self, task: Task) -> bool:
        """Run a PnP task to its end here and now, running the simulation while it waits; False if
        it is still waiting when nothing else is left to run."""
        value: Any = None
        while True:
            try:
                waiting = task.send(value)
            except StopIteration:
                return True
            if not waiting.done:
                self._block_until(lambda w=waiting: w.done)
                if not waiting.done:
                    return False
            value = waiting.status

    def NdisOpenAdapterEx(self, NdisProtocolHandle: ProtocolDriver, ProtocolBindingContext: Any,
                          OpenParameters: NDIS_OPEN_PARAMETERS, BindContext: BindContext
                          ) -> tuple[int, Binding | None]:
        ddi = "NdisOpenAdapterEx"
        self._passive_only(ddi)
        proto, ctx = NdisProtocolHandle, BindContext
        if not isinstance(proto, ProtocolDriver) or proto.ndis is not self or proto.state != S.REGISTERED:
            raise self._bad_handle(ddi, "NdisProtocolHandle", proto, ProtocolDriver)
        if type(ctx) is not _BindContext or ctx.binding_protocol is not proto or ctx.state == S.BIND_DONE:
            raise self._violate("condis.BindState", ddi,
                                f"BindContext must be the live context NDIS passed {proto.name!r}'s "
                                f"ProtocolBindAdapterEx; got {safe_repr(ctx)}")
        if ctx.binding is not None and ctx.binding.state != S.BINDING_UNBOUND:
            raise self._violate("condis.BindState", ddi, f"{ctx.binding!r} is already open for this bind")
        self._param(ddi, structure_fault(OpenParameters, NDIS_OPEN_PARAMETERS, "OpenParameters"))
        adapter = ctx.adapter
        media = list(OpenParameters.MediumArray)[: OpenParameters.MediumArraySize or None]
        if adapter.general.MediaType not in media:
            return st.NDIS_STATUS_UNSUPPORTED_MEDIA, None
        OpenParameters.SelectedMediumIndex = media.index(adapter.general.MediaType)
        b = Binding(self, self._next_id(), proto, adapter, ProtocolBindingContext)
        b.bind_context = ctx
        b.state = S.BINDING_PAUSED
        ctx.binding = b
        proto.bindings.append(b)
        adapter.bindings.append(b)
        return SUCCESS, b

    def NdisCloseAdapterEx(self, NdisBindingHandle: Binding) -> int:
        ddi = "NdisCloseAdapterEx"
        self._passive_only(ddi)
        b = NdisBindingHandle
        if not isinstance(b, Binding) or b.ndis is not self or b.state in (S.BINDING_UNBOUND, S.BINDING_CLOSING):
            raise self._bad_handle(ddi, "NdisBindingHandle", b, Binding)
        in_bind = b.bind_context is not None and b.bind_context.state != S.BIND_DONE
        in_unbind = b.unbind_context is not None and b.unbind_context.state != S.BIND_DONE
        if not (in_bind or in_unbind):
            raise self._violate("condis.BindState", ddi,
                                f"{b!r} is closed from ProtocolBindAdapterEx or ProtocolUnbindAdapterEx, not while "
                                f"{b.state} (guide: unbinding-from-an-adapter.md)")
        open_afs = [af for af in b.client_afs if af.state != S.AF_CLOSED]
        if open_afs:
            raise self._violate("condis.CloseWithAfs", ddi,
                                f"{b!r} still has {len(open_afs)} AF(s) open ({open_afs}); close them with "
                                "NdisClCloseAddressFamily first")
        served = [af for af in b.cm_afs if af.state != S.AF_CLOSED]
        if served:
            raise self._violate("condis.CloseWithAfs", ddi,
                                f"clients still have {len(served)} AF(s) open with {b!r}'s call manager ({served}); "
                                "NdisCmNotifyCloseAddressFamily each and wait for the clients to close them")
        left = leaks.after_close(self, b)
        if left and not self._record:
            # strict: refuse the close itself, as for open AFs, so nothing changes
            self._teardown(ddi, left)
        b.state = S.BINDING_UNBOUND
        for raf in b.registered_afs:
            raf.state = S.DEREGISTERED
        b.adapter.bindings.remove(b)
        self._teardown(ddi, left)
        return SUCCESS

    def NdisCompleteBindAdapterEx(self, BindAdapterContext: BindContext, Status: int) -> None:
        ddi = "NdisCompleteBindAdapterEx"
        ctx = BindAdapterContext
        self._status_arg(ddi, Status)
        if type(ctx) is not _BindContext or ctx.adapter.ndis is not self or ctx.state != S.BIND_PENDING:
            raise self._violate("condis.CompleteWithoutPending", ddi,
                                f"{safe_repr(ctx)} is not a bind of this host whose ProtocolBindAdapterEx returned "
                                "NDIS_STATUS_PENDING")
        ctx.state = S.BIND_DONE
        ctx.completion.fire(Status)

    def NdisCompleteUnbindAdapterEx(self, UnbindContext: UnbindContext) -> None:
        ddi = "NdisCompleteUnbindAdapterEx"
        if self._irql > DISPATCH_LEVEL:
            raise self._at_dirql(ddi)
        ctx = UnbindContext
        if type(ctx) is not _UnbindContext or ctx.binding.ndis is not self or ctx.state != S.BIND_PENDING:
            raise self._violate("condis.CompleteWithoutPending", ddi,
                                f"{safe_repr(ctx)} is not an unbind of this host whose ProtocolUnbindAdapterEx "
                                "returned NDIS_STATUS_PENDING")
        ctx.state = S.BIND_DONE
        ctx.completion.fire(SUCCESS)

    def _afs_on(self, adapter: Adapter) -> list[RegisteredAf]:
        """Every AF registered on an adapter: the MCM's own and its bound call managers'."""
        afs = [raf for raf in adapter.afs if raf.state == S.REGISTERED]
        for b in adapter.bindings:
            afs.extend(raf for raf in b.registered_afs if raf.state == S.REGISTERED)
        return afs

    @staticmethod
    def _af_ready(raf: RegisteredAf) -> bool:
        """Whether clients may hear of an AF: an MCM's at once, a call manager's once its bind is done."""
        return raf.cm_binding is None or raf.cm_binding.state == S.BINDING_RUNNING

    def _notify_clients(self, adapter: Adapter, raf: RegisteredAf) -> None:
        """Tell every client bound to ``adapter`` (its bind done) of an AF registered there."""
        for b in list(adapter.bindings):
            if b is not raf.cm_binding and b.state == S.BINDING_RUNNING:
                self._notify_af(b, raf)

    def _notify_af(self, b: Binding, raf: RegisteredAf) -> None:
        """Tell a bound CoNDIS client of a registered AF (ProtocolCoAfRegisterNotify, PASSIVE_LEVEL)."""
        handler = b.co.CoAfRegisterNotifyHandler
        if handler is None or b.cl is None or b.state not in (S.BINDING_PAUSED, S.BINDING_RUNNING):
            return
        self._at_passive(self._up, (handler, "ProtocolCoAfRegisterNotify", b.context, raf.family),
                         "ProtocolCoAfRegisterNotify", b.protocol)
