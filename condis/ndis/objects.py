"""The objects NDIS tracks, one class per kind of handle.

A handle NDIS gives a driver is the object itself: opaque to the driver, and checked by type and
liveness at every DDI entry. Per-VC and per-party objects use ``__slots__``: a host may carry a
million of them.

Each object's ``state`` is one of the names in :mod:`condis.ndis.states`.
"""

from __future__ import annotations

from typing import Any

from condis.ndis import states as S


class Handle:
    """Base of every NDIS handle: an id for messages and traces, and the host that issued it."""

    __slots__ = ("id", "ndis", "state")
    kind = "handle"

    def __init__(self, ndis: Any, ident: int, state: str) -> None:
        self.id = ident
        self.ndis = ndis
        self.state = state
        if ndis._states is not None:    # a tracer recording state changes (condis.trace.Recorder(states=True))
            ndis._states.created(self)

    def __repr__(self) -> str:
        return f"{self.kind} {self.id:#x}"

    @property
    def label(self) -> str:
        return f"{self.kind} {self.id:#x} ({self.state})"


class Driver(Handle):
    """A loaded driver image: what DriverEntry registered."""

    __slots__ = ("name", "driver_object", "miniport", "protocol")
    kind = "driver"

    def __init__(self, ndis: Any, ident: int, name: str) -> None:
        super().__init__(ndis, ident, S.DRIVER_LOADING)
        self.name = name
        self.driver_object = DriverObject(name)
        self.miniport: MiniportDriver | None = None
        self.protocol: ProtocolDriver | None = None


class DriverObject:
    """The DRIVER_OBJECT the I/O manager passes DriverEntry; DriverUnload may be set on it."""

    __slots__ = ("DriverName", "DriverUnload", "DriverExtension")

    def __init__(self, name: str) -> None:
        self.DriverName = name
        self.DriverUnload: Any = None
        self.DriverExtension: Any = None

    def __repr__(self) -> str:
        return f"<DRIVER_OBJECT {self.DriverName}>"


class MiniportDriver(Handle):
    """NdisMiniportDriverHandle: a registered miniport driver (a CoNDIS miniport or an MCM)."""

    __slots__ = ("driver", "context", "chars", "co", "cm", "adapters", "in_set_options")
    kind = "miniport driver"

    def __init__(self, ndis: Any, ident: int, driver: Driver, context: Any, chars: Any) -> None:
        super().__init__(ndis, ident, S.REGISTERED)
        self.driver = driver
        self.context = context
        self.chars = chars
        self.co: Any = None
        self.cm: Any = None
        self.adapters: list[Adapter] = []
        self.in_set_options = False

    @property
    def name(self) -> str:
        return self.driver.name


class ProtocolDriver(Handle):
    """NdisProtocolHandle: a registered protocol driver (a CoNDIS client and/or call manager)."""

    __slots__ = ("driver", "context", "chars", "co", "cl", "cm", "bindings", "in_set_options")
    kind = "protocol driver"

    def __init__(self, ndis: Any, ident: int, driver: Driver, context: Any, chars: Any) -> None:
        super().__init__(ndis, ident, S.REGISTERED)
        self.driver = driver
        self.context = context
        self.chars = chars
        self.co: Any = None
        self.cl: Any = None
        self.cm: Any = None
        self.bindings: list[Binding] = []
        self.in_set_options = False

    @property
    def name(self) -> str:
        return self.driver.name


class Adapter(Handle):
    """NdisMiniportHandle: one miniport adapter (NIC) and what NDIS knows of it."""

    __slots__ = ("name", "miniport", "context", "hardware", "general", "bindings", "afs",
                 "vcs", "removal", "pause", "requests_done", "in_initialize")
    kind = "adapter"

    def __init__(self, ndis: Any, ident: int, name: str, miniport: MiniportDriver, hardware: Any) -> None:
        super().__init__(ndis, ident, S.ADAPTER_INITIALIZING)
        self.name = name
        self.miniport = miniport
        self.context: Any = None
        self.hardware = hardware
        self.general: Any = None
        self.bindings: list[Binding] = []
        self.afs: list[RegisteredAf] = []   # AFs an MCM registered on this adapter
        self.vcs: set[Vc] = set()
        self.removal: Any = None
        self.pause: Any = None
        self.requests_done: Any = None  # what a halt waits for while OID requests are outstanding
        self.in_initialize = False

    @property
    def is_mcm(self) -> bool:
        return self.miniport.cm is not None

    def __repr__(self) -> str:
        return f"adapter {self.name!r}"


class Binding(Handle):
    """NdisBindingHandle: one protocol bound to one adapter.

    ``co``, ``cl`` and ``cm`` are the protocol's CoNDIS handler tables for this binding: the ones it
    registered from ProtocolSetOptions, unless it set others for the binding from its
    ProtocolBindAdapterEx (ddi: nf-ndis-ndissetoptionalhandlers.md). NDIS calls the protocol
    through these.
    """

    __slots__ = ("protocol", "adapter", "context", "bind_context", "unbind_context",
                 "client_afs", "cm_afs", "registered_afs", "on_done", "co", "cl", "cm", "pausing",
                 "unbinding")
    kind = "binding"

    def __init__(self, ndis: Any, ident: int, protocol: ProtocolDriver, adapter: Adapter, context: Any) -> None:
        super().__init__(ndis, ident, S.BINDING_OPENING)
        self.protocol = protocol
        self.adapter = adapter
        self.context = context
        self.co: Any = protocol.co
        self.cl: Any = protocol.cl
        self.cm: Any = protocol.cm
        self.pausing: Any = None        # while NDIS waits for its sends to complete before it is Paused
        self.unbinding: Any = None      # from the start of NDIS's unbind (pause included) to its end
        self.bind_context: Any = None
        self.unbind_context: Any = None
        self.client_afs: list[Af] = []        # AFs this binding opened as a client
        self.registered_afs: list[RegisteredAf] = []  # AFs this binding registered as a call manager
        self.cm_afs: list[Af] = []            # AFs clients opened with this binding's call manager
        self.on_done: Any = None

    def __repr__(self) -> str:
        return f"binding {self.protocol.name}->{self.adapter.name}"


class BindContext:
    """The BindContext NDIS passes ProtocolBindAdapterEx; completes with NdisCompleteBindAdapterEx."""

    __slots__ = ("binding_protocol", "adapter", "binding", "state", "completion")

    def __init__(self, protocol: ProtocolDriver, adapter: Adapter) -> None:
        self.binding_protocol = protocol
        self.adapter = adapter
        self.binding: Binding | None = None
        self.state = S.BIND_IN_HANDLER
        self.completion: Any = None

    def __repr__(self) -> str:
        return f"<BindContext {self.binding_protocol.name}->{self.adapter.name}>"


class UnbindContext:
    """The UnbindContext NDIS passes ProtocolUnbindAdapterEx; completes with NdisCompleteUnbindAdapterEx."""

    __slots__ = ("binding", "state", "completion")

    def __init__(self, binding: Binding) -> None:
        self.binding = binding
        self.state = S.BIND_IN_HANDLER
        self.completion: Any = None

    def __repr__(self) -> str:
        return f"<UnbindContext {self.binding!r}>"


class RegisteredAf(Handle):
    """An address family a call manager (on a binding) or an MCM (on an adapter) registered."""

    __slots__ = ("family", "adapter", "cm_binding", "cm", "opens")
    kind = "registered AF"

    def __init__(self, ndis: Any, ident: int, family: Any, adapter: Adapter, cm_binding: Binding | None,
                 cm: Any) -> None:
        super().__init__(ndis, ident, S.REGISTERED)
        self.family = family
        self.adapter = adapter
        self.cm_binding = cm_binding    # None for an MCM
        self.cm = cm                    # NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS
        self.opens: list[Af] = []

    @property
    def is_mcm(self) -> bool:
        return self.cm_binding is None


class Af(Handle):
    """NdisAfHandle: one client's open of one registered address family."""

    __slots__ = ("registered", "client", "client_context", "cm_context", "saps", "notify",
                 "op", "op_status")
    kind = "AF"

    def __init__(self, ndis: Any, ident: int, registered: RegisteredAf, client: Binding, ctx: Any) -> None:
        super().__init__(ndis, ident, S.AF_OPENING)
        self.registered = registered
        self.client = client
        self.client_context = ctx
        self.cm_context: Any = None
        self.saps: list[Sap] = []
        self.notify = S.NOTIFY_NONE
        self.op: Any = None
        self.op_status: int = 0

    @property
    def is_mcm(self) -> bool:
        return self.registered.cm_binding is None

    @property
    def cm(self) -> Any:
        return self.registered.cm


class Sap(Handle):
    """NdisSapHandle: a SAP a client registered on an open AF."""

    __slots__ = ("af", "client_context", "cm_context", "sap")
    kind = "SAP"

    def __init__(self, ndis: Any, ident: int, af: Af, ctx: Any, sap: Any) -> None:
        super().__init__(ndis, ident, S.SAP_REGISTERING)
        self.af = af
        self.client_context = ctx
        self.cm_context: Any = None
        self.sap = sap


class Vc(Handle):
    """NdisVcHandle: a virtual connection shared by a client, a call manager and a miniport.

    ``state`` is the call state; ``activation`` the miniport side (see states.py).
    """

    __slots__ = ("af", "adapter", "creator", "client_context", "cm_context", "miniport_context",
                 "activation", "parties", "multipoint", "sends", "call_params", "op", "act_op",
                 "op_party", "sap", "deleted", "tapi_call_id", "instance_name", "cm_binding",
                 "h_client", "h_cm", "h_miniport", "closed_by_client", "call_params_prev")
    kind = "VC"

    def __init__(self, ndis: Any, ident: int, adapter: Adapter, af: Af | None, creator: str) -> None:
        super().__init__(ndis, ident, S.CALL_IDLE)
        self.af = af
        self.adapter = adapter
        self.creator = creator          # CREATOR_CLIENT / CREATOR_CM / CREATOR_MCM
        self.client_context: Any = None
        self.cm_context: Any = None
        self.miniport_context: Any = None
        self.activation = S.VC_INACTIVE
        self.parties: list[Party] | tuple = ()   # a list once the first party joins
        self.multipoint = False
        self.sends: set[Any] | None = None  # NET_BUFFER_LISTs sent and not yet completed
        self.call_params: Any = None
        self.call_params_prev: Any = None
        self.op = S.OP_NONE             # the outstanding call-management request
        self.act_op = S.OP_NONE         # the outstanding activation/deactivation request
        self.op_party: Party | None = None
        self.sap: Sap | None = None
        self.deleted = False
        self.tapi_call_id: Any = None
        self.instance_name: str | None = None
        self.cm_binding: Binding | None = None     # the stand-alone call manager's binding
        self.closed_by_client = False   # NdisClCloseCall was called for the current call
        # One handle per driver sharing the VC, so NDIS knows who calls (None where no such driver).
        self.h_client: VcHandle | None = None
        self.h_cm: VcHandle | None = None
        self.h_miniport: VcHandle | None = None

    @property
    def is_mcm(self) -> bool:
        return self.cm_binding is None


SIDE_CLIENT = "client"
SIDE_CM = "call manager"
SIDE_MCM = "MCM"
SIDE_MINIPORT = "miniport"


class VcHandle:
    """The NdisVcHandle one driver holds for a VC: the VC and which driver's side it is.

    ``route`` and ``route_ctx`` are where data from this handle goes, fixed while the VC exists
    (set in :meth:`condis.ndis.vc.VcDdi._vc_created`): on the client's handle, the miniport's send
    handler and MiniportVcContext; on the miniport's, the client's send-complete handler and
    ProtocolVcContext. ``route`` is None before the VC is created and after it is deleted, and on
    handles data never takes the short path from. Two slots, not a tuple: a tuple would cost more
    memory per call than the rest of the handle.
    """

    __slots__ = ("vc", "side", "route", "route_ctx")
    kind = "VC handle"

    def __init__(self, vc: Vc, side: str) -> None:
        self.vc = vc
        self.side = side
        self.route: Any = None
        self.route_ctx: Any = None

    @property
    def ndis(self) -> Any:
        return self.vc.ndis

    @property
    def state(self) -> str:
        return "DELETED" if self.vc.deleted else self.vc.state

    def __repr__(self) -> str:
        return f"VC {self.vc.id:#x} ({self.side}'s handle)"


class Party(Handle):
    """NdisPartyHandle: one leaf of a point-to-multipoint call."""

    __slots__ = ("vc", "client_context", "cm_context", "op")
    kind = "party"

    def __init__(self, ndis: Any, ident: int, vc: Vc, ctx: Any) -> None:
        super().__init__(ndis, ident, S.PARTY_ADDING)
        self.vc = vc
        self.client_context = ctx
        self.cm_context: Any = None
        self.op = S.OP_NONE


class SpinLock:
    """NDIS_SPIN_LOCK: the host whose memory it is in, and while it is held, the host holding it,
    the IRQL to restore and which function acquired it (NdisAcquireSpinLock or NdisDprAcquireSpinLock)."""

    __slots__ = ("owner", "old_irql", "allocated", "name", "ndis", "acquired_by")

    def __init__(self, name: str = "", ndis: Any = None) -> None:
        self.owner: Any = None
        self.old_irql = 0
        self.allocated = False
        self.name = name
        self.ndis = ndis
        self.acquired_by = ""

    def __repr__(self) -> str:
        return f"<NDIS_SPIN_LOCK {self.name or hex(id(self))}>"


class IoWorkItem(Handle):
    """NDIS_HANDLE of an I/O work item (NdisAllocateIoWorkItem)."""

    __slots__ = ("owner", "event")
    kind = "work item"

    def __init__(self, ndis: Any, ident: int, owner: Any) -> None:
        super().__init__(ndis, ident, S.ALLOCATED)
        self.owner = owner
        self.event: Any = None


class TimerObject(Handle):
    """NDIS_HANDLE of a timer object (NdisAllocateTimerObject)."""

    __slots__ = ("owner", "chars", "event", "period_ms", "context")
    kind = "timer"

    def __init__(self, ndis: Any, ident: int, owner: Any, chars: Any) -> None:
        super().__init__(ndis, ident, S.ALLOCATED)
        self.owner = owner
        self.chars = chars
        self.event: Any = None
        self.period_ms = 0
        self.context: Any = None


class NblPool(Handle):
    """NDIS_HANDLE of a NET_BUFFER_LIST pool."""

    __slots__ = ("owner", "params", "outstanding", "allocated")
    kind = "NBL pool"

    def __init__(self, ndis: Any, ident: int, owner: Any, params: Any) -> None:
        super().__init__(ndis, ident, S.ALLOCATED)
        self.owner = owner
        self.params = params
        self.outstanding = 0
        self.allocated: set[Any] = set()      # the NET_BUFFER_LISTs allocated from it and not freed
