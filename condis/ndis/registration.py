"""Driver registration (guide: initializing-a-miniport-driver.md, initializing-a-protocol-driver.md,
condis-*-registration.md, configuring-optional-*-driver-services.md)."""

from __future__ import annotations

from typing import Any

from condis._safe_repr import safe_repr
from condis.ndis import states as S
from condis.ndis.core import SUCCESS, NdisCore, field_reader, fields_reader
from condis.ndis.objects import Adapter, Driver, DriverObject, MiniportDriver, ProtocolDriver
from condis.structs import (
    NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS,
    NDIS_CO_CLIENT_OPTIONAL_HANDLERS,
    NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES,
    NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES,
    NDIS_MINIPORT_CO_CHARACTERISTICS,
    NDIS_MINIPORT_DRIVER_CHARACTERISTICS,
    NDIS_PROTOCOL_CO_CHARACTERISTICS,
    NDIS_PROTOCOL_DRIVER_CHARACTERISTICS,
)


class RegistrationDdi(NdisCore):
    """NdisMRegisterMiniportDriver, NdisRegisterProtocolDriver, NdisSetOptionalHandlers and kin."""

    def __init__(self, name: str, sim: Any) -> None:
        super().__init__(name, sim)
        self.drivers: dict[str, Driver] = {}
        self._by_driver_object: dict[int, Driver] = {}
        self._roles: dict[Any, tuple[str, str]] = {}
        # Handlers noted but not yet in _roles: (driver name, role, the handlers, replace an earlier role?)
        self._unnoted: list[tuple[str, str, tuple[Any, ...], bool]] = []

    @property
    def roles(self) -> dict[Any, tuple[str, str]]:
        """handler -> (driver name, role), for traces: which lane a handler call lands in.

        Only a tracer reads it, so the map is built when first read rather than at every
        registration: a run without a tracer (every schedule the explorer runs) never pays for it.
        A note keeps the handlers a table held when it was noted, and the notes are applied in the
        order they were made, so this is exactly the map that filling it in at registration builds.
        """
        if self._unnoted:
            roles = self._roles
            for name, role, handlers, replace in self._unnoted:
                for fn in handlers:
                    if callable(fn) and (replace or fn not in roles):
                        roles[fn] = (name, role)
            self._unnoted.clear()
        return self._roles

    def _note_handlers(self, name: str, role: str, table: Any) -> None:
        """Every handler in a characteristics table runs as ``role`` of driver ``name``."""
        self._unnoted.append((name, role, fields_reader(type(table))(table), True))

    def _note_handler(self, name: str, role: str, fn: Any, replace: bool = True) -> None:
        """``fn`` runs as ``role`` of driver ``name`` (unless it has a role already and not ``replace``)."""
        self._unnoted.append((name, role, (fn,), replace))

    def _driver_of(self, ddi: str, driver_object: Any) -> Driver:
        drv = self._by_driver_object.get(id(driver_object)) if isinstance(driver_object, DriverObject) else None
        if drv is None or drv.state == S.DRIVER_UNLOADED:
            raise self._violate("condis.BadParameter", ddi,
                                f"DriverObject must be the DRIVER_OBJECT this host passed DriverEntry; got "
                                f"{safe_repr(driver_object)}")
        return drv

    # ------------------------------------------------------------------ miniport drivers

    def NdisMRegisterMiniportDriver(self, DriverObject: Any, RegistryPath: Any, MiniportDriverContext: Any,
                                    MiniportDriverCharacteristics: NDIS_MINIPORT_DRIVER_CHARACTERISTICS
                                    ) -> tuple[int, MiniportDriver | None]:
        ddi = "NdisMRegisterMiniportDriver"
        self._passive_only(ddi)
        drv = self._driver_of(ddi, DriverObject)
        chars = MiniportDriverCharacteristics
        if not isinstance(chars, NDIS_MINIPORT_DRIVER_CHARACTERISTICS):
            raise self._violate("condis.BadParameter", ddi,
                                f"MiniportDriverCharacteristics must be NDIS_MINIPORT_DRIVER_CHARACTERISTICS, got "
                                f"{safe_repr(chars)}")
        if drv.miniport is not None:
            raise self._violate("condis.Registration", ddi, f"driver {drv.name!r} already registered as a miniport")
        for field in ("InitializeHandlerEx", "HaltHandlerEx", "UnloadHandler", "PauseHandler", "RestartHandler"):
            if getattr(chars, field) is None:
                raise self._violate("condis.MissingHandler", ddi, f"MiniportDriverCharacteristics.{field} is required")
        mp = MiniportDriver(self, self._next_id(), drv, MiniportDriverContext, chars)
        drv.miniport = mp
        self._note_handlers(drv.name, "Miniport", chars)
        if chars.SetOptionsHandler is not None:
            mp.in_set_options = True
            try:
                status = self._result("SetOptions", self._up(chars.SetOptionsHandler, "SetOptions", mp,
                                                             MiniportDriverContext), 0)[0]
            finally:
                mp.in_set_options = False
            if status != SUCCESS:
                drv.miniport = None
                mp.state = S.DEREGISTERED
                return status, None
        if mp.co is None:
            # guide: condis-miniport-driver-registration.md — a CoNDIS miniport registers its Co handlers
            drv.miniport = None
            mp.state = S.DEREGISTERED
            raise self._violate("condis.Registration", ddi,
                                f"{drv.name!r} set no NDIS_MINIPORT_CO_CHARACTERISTICS in SetOptions; "
                                "condis runs CoNDIS miniports only")
        if mp.cm is None:
            # An MCM handles VC creation and activation itself (guide: differences-in-virtual-connections.md);
            # a plain CoNDIS miniport needs all four VC handlers.
            missing = [f for f in ("CoCreateVcHandler", "CoDeleteVcHandler", "CoActivateVcHandler",
                                   "CoDeactivateVcHandler") if getattr(mp.co, f) is None]
            if missing:
                drv.miniport = None
                mp.state = S.DEREGISTERED
                raise self._violate("condis.MissingHandler", ddi,
                                    f"NDIS_MINIPORT_CO_CHARACTERISTICS for {drv.name!r} lacks {', '.join(missing)}")
        return SUCCESS, mp

    def NdisMDeregisterMiniportDriver(self, NdisMiniportDriverHandle: MiniportDriver) -> None:
        ddi = "NdisMDeregisterMiniportDriver"
        self._passive_only(ddi)
        mp = NdisMiniportDriverHandle
        if not isinstance(mp, MiniportDriver) or mp.ndis is not self or mp.state != S.REGISTERED:
            raise self._bad_handle(ddi, "NdisMiniportDriverHandle", mp, MiniportDriver)
        live = [a for a in mp.adapters if a.state != S.ADAPTER_HALTED]
        if live:
            raise self._violate("condis.Registration", ddi, f"adapters {live} of {mp.name!r} are not halted yet")
        mp.state = S.DEREGISTERED
        mp.driver.miniport = None

    # ------------------------------------------------------------------ protocol drivers

    def NdisRegisterProtocolDriver(self, ProtocolDriverContext: Any,
                                   ProtocolCharacteristics: NDIS_PROTOCOL_DRIVER_CHARACTERISTICS
                                   ) -> tuple[int, ProtocolDriver | None]:
        ddi = "NdisRegisterProtocolDriver"
        self._passive_only(ddi)
        chars = ProtocolCharacteristics
        if not isinstance(chars, NDIS_PROTOCOL_DRIVER_CHARACTERISTICS):
            raise self._violate("condis.BadParameter", ddi,
                                f"ProtocolCharacteristics must be NDIS_PROTOCOL_DRIVER_CHARACTERISTICS, got {safe_repr(chars)}")
        drv = self._loading
        if drv is None:
            raise self._violate("condis.Registration", ddi, "must be called from DriverEntry (see load_driver)")
        if drv.protocol is not None:
            raise self._violate("condis.Registration", ddi, f"driver {drv.name!r} already registered a protocol")
        for field in ("BindAdapterHandlerEx", "UnbindAdapterHandlerEx", "NetPnPEventHandler"):
            if getattr(chars, field) is None:
                raise self._violate("condis.MissingHandler", ddi, f"ProtocolCharacteristics.{field} is required")
        proto = ProtocolDriver(self, self._next_id(), drv, ProtocolDriverContext, chars)
        drv.protocol = proto
        self._note_handlers(drv.name, "Protocol", chars)
        if chars.SetOptionsHandler is not None:
            proto.in_set_options = True
            try:
                status = self._result("SetOptions", self._up(chars.SetOptionsHandler, "SetOptions", proto,
                                                             ProtocolDriverContext), 0)[0]
            finally:
                proto.in_set_options = False
            if status != SUCCESS:
                drv.protocol = None
                proto.state = S.DEREGISTERED
                return status, None
        if proto.co is None:
            drv.protocol = None
            proto.state = S.DEREGISTERED
            raise self._violate("condis.Registration", ddi,
                                f"{drv.name!r} set no NDIS_PROTOCOL_CO_CHARACTERISTICS in SetOptions; "
                                "condis runs CoNDIS protocols only (guide: condis-client-registration.md)")
        role = "Call Manager" if proto.cm is not None and proto.cl is None else "Client"
        self._note_handlers(drv.name, role, chars)
        self._note_handlers(drv.name, role, proto.co)
        return SUCCESS, proto

    def NdisDeregisterProtocolDriver(self, NdisProtocolHandle: ProtocolDriver) -> None:
        ddi = "NdisDeregisterProtocolDriver"
        self._passive_only(ddi)
        proto = NdisProtocolHandle
        if not isinstance(proto, ProtocolDriver) or proto.ndis is not self or proto.state != S.REGISTERED:
            raise self._bad_handle(ddi, "NdisProtocolHandle", proto, ProtocolDriver)
        live = [b for b in proto.bindings if b.state != S.BINDING_UNBOUND]
        if live:
            raise self._violate("condis.Registration", ddi,
                                f"bindings {live} are still open; NDIS unbinds them before the driver unloads")
        proto.state = S.DEREGISTERED
        proto.driver.protocol = None

    # ------------------------------------------------------------------ optional handlers

    def NdisSetOptionalHandlers(self, NdisHandle: Any, OptionalHandlers: Any) -> int:
        """Register a CoNDIS handler table from SetOptions (guide: condis-*-registration.md)."""
        ddi = "NdisSetOptionalHandlers"
        self._passive_only(ddi)
        h, table = NdisHandle, OptionalHandlers
        if not isinstance(h, (MiniportDriver, ProtocolDriver)) or h.ndis is not self:
            raise self._violate("condis.BadHandle", ddi,
                                f"NdisHandle must be the driver handle passed to SetOptions; got {safe_repr(h)}")
        if not h.in_set_options:
            raise self._violate("condis.SetOptionsOnly", ddi,
                                f"called for {h.name!r} outside its SetOptions handler")
        miniport = isinstance(h, MiniportDriver)
        if miniport:
            if isinstance(table, NDIS_MINIPORT_CO_CHARACTERISTICS):
                need = ("CoSendNetBufferListsHandler", "CoOidRequestHandler")
                slot = "co"
            elif isinstance(table, NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS):
                need = _CM_REQUIRED
                slot = "cm"
            else:
                raise self._violate("condis.BadParameter", ddi,
                                    f"a miniport driver passes NDIS_MINIPORT_CO_CHARACTERISTICS or "
                                    f"NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS; got {type(table).__name__}")
        else:
            if isinstance(table, NDIS_PROTOCOL_CO_CHARACTERISTICS):
                need = ("CoStatusHandlerEx", "CoReceiveNetBufferListsHandler", "CoSendNetBufferListsCompleteHandler")
                slot = "co"
            elif isinstance(table, NDIS_CO_CLIENT_OPTIONAL_HANDLERS):
                need = _CL_REQUIRED
                slot = "cl"
            elif isinstance(table, NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS):
                need = _PROTOCOL_CM_REQUIRED
                slot = "cm"
            else:
                raise self._violate("condis.BadParameter", ddi,
                                    f"a protocol driver passes NDIS_PROTOCOL_CO_CHARACTERISTICS, "
                                    f"NDIS_CO_CLIENT_OPTIONAL_HANDLERS or NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS; "
                                    f"got {type(table).__name__}")
        # One read of the required fields; only a table that lacks one is looked at field by field.
        missing = [f for f in need if getattr(table, f) is None] if None in field_reader(need)(table) else []
        if missing:
            raise self._violate("condis.MissingHandler", ddi,
                                f"{type(table).__name__} for {h.name!r} lacks {', '.join(missing)}")
        co = table if slot == "co" else h.co
        if not miniport and co is not None and (h.cl is not None or slot == "cl") \
                and co.CoAfRegisterNotifyHandler is None:
            # ddi: nc-ndis-protocol_co_af_register_notify.md — every CoNDIS client has one
            raise self._violate("condis.MissingHandler", ddi,
                                f"{h.name!r} registers as a CoNDIS client but its NDIS_PROTOCOL_CO_CHARACTERISTICS "
                                "lacks CoAfRegisterNotifyHandler")
        cm = table if slot == "cm" else h.cm
        if miniport and co is not None and cm is not None \
                and cm.CmOidRequestHandler == co.CoOidRequestHandler:
            # ddi: ns-ndis-_ndis_co_call_manager_optional_handlers.md — an MCM answers its clients'
            # call-manager requests in a ProtocolCoOidRequest of its own, not in MiniportCoOidRequest.
            raise self._violate("condis.SeparateOidHandlers", ddi,
                                f"{h.name!r} gives its MiniportCoOidRequest ({co.CoOidRequestHandler!r}) as "
                                "CmOidRequestHandler; an MCM registers a separate ProtocolCoOidRequest")
        if getattr(h, slot) is not None:
            raise self._violate("condis.Registration", ddi,
                                f"{type(table).__name__} already registered for {h.name!r}")
        setattr(h, slot, table)
        name = h.name
        if miniport:
            role = "MCM" if slot == "cm" or h.cm is not None else "Miniport"
            if slot == "cm":
                self._note_handlers(name, role, h.chars)
                if h.co is not None:
                    self._note_handlers(name, role, h.co)
        elif slot == "cl":
            role = "Client"
        elif slot == "cm":
            role = "Call Manager"
        else:
            role = "Client" if h.cm is None else "Call Manager"
        self._note_handlers(name, role, table)
        return SUCCESS

    # ------------------------------------------------------------------ adapter attributes

    def NdisMSetMiniportAttributes(self, NdisMiniportHandle: Adapter, MiniportAttributes: Any) -> int:
        ddi = "NdisMSetMiniportAttributes"
        self._passive_only(ddi)
        ad = NdisMiniportHandle
        if not isinstance(ad, Adapter) or ad.ndis is not self or ad.state == S.ADAPTER_HALTED:
            raise self._bad_handle(ddi, "NdisMiniportHandle", ad, Adapter)
        if not ad.in_initialize:
            raise self._violate("condis.Registration", ddi,
                                f"{ad!r}: attributes are set from MiniportInitializeEx (state {ad.state})")
        if isinstance(MiniportAttributes, NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES):
            if ad.context is not None:
                raise self._violate("condis.Registration", ddi, f"{ad!r}: registration attributes set twice")
            ad.context = MiniportAttributes.MiniportAdapterContext
        elif isinstance(MiniportAttributes, NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES):
            if ad.context is None:
                raise self._violate("condis.Registration", ddi,
                                    f"{ad!r}: registration attributes come before general attributes")
            ad.general = MiniportAttributes
        else:
            raise self._violate("condis.BadParameter", ddi,
                                f"MiniportAttributes must be registration or general attributes, got "
                                f"{safe_repr(MiniportAttributes)}")
        return SUCCESS

    _loading: Driver | None = None


_CM_REQUIRED = ("CmOpenAfHandler", "CmCloseAfHandler", "CmRegisterSapHandler", "CmDeregisterSapHandler",
                "CmMakeCallHandler", "CmCloseCallHandler", "CmIncomingCallCompleteHandler",
                "CmActivateVcCompleteHandler", "CmDeactivateVcCompleteHandler", "CmModifyCallQoSHandler")
_PROTOCOL_CM_REQUIRED = _CM_REQUIRED + ("CmCreateVcHandler", "CmDeleteVcHandler")
_CL_REQUIRED = ("ClCreateVcHandler", "ClDeleteVcHandler", "ClOpenAfCompleteHandlerEx", "ClCloseAfCompleteHandler",
                "ClRegisterSapCompleteHandler", "ClDeregisterSapCompleteHandler", "ClMakeCallCompleteHandler",
                "ClModifyCallQoSCompleteHandler", "ClCloseCallCompleteHandler", "ClIncomingCallHandler",
                "ClIncomingCallQoSChangeHandler", "ClIncomingCloseCallHandler", "ClCallConnectedHandler")

