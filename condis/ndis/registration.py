"""Driver registration (guide: initializing-a-miniport-driver.md, initializing-a-protocol-driver.md,
condis-*-registration.md, configuring-optional-*-driver-services.md)."""

from __future__ import annotations

import copy
from typing import Any

from condis import _status as st
from condis._safe_repr import safe_repr
from condis.ndis import states as S
from condis.ndis.core import SUCCESS, NdisCore, field_reader, fields_reader
from condis.ndis.objects import Adapter, Binding, Driver, DriverObject, MiniportDriver, ProtocolDriver
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
        status = _characteristics_status(chars, _MINIPORT_REVISIONS, _MINIPORT_REQUIRED)
        if status != SUCCESS:
            return status, None
        # ddi: nf-ndis-ndismregisterminiportdriver.md — NDIS keeps its own copy of the structure, so
        # entry points the driver writes into its structure afterwards are never called.
        chars = copy.copy(chars)
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
        status = _characteristics_status(chars, _PROTOCOL_REVISIONS, _PROTOCOL_REQUIRED)
        if status != SUCCESS:
            return status, None
        chars = copy.copy(chars)    # ddi: nf-ndis-ndisregisterprotocoldriver.md — NDIS keeps a copy
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

    # ------------------------------------------------------------------ optional handlers

    def NdisSetOptionalHandlers(self, NdisHandle: Any, OptionalHandlers: Any) -> int:
        """Register a CoNDIS handler table from SetOptions (guide: condis-*-registration.md), or, with a
        binding handle, a protocol's table for one binding from its ProtocolBindAdapterEx.

        ddi: nf-ndis-ndissetoptionalhandlers.md, guide: configuring-optional-protocol-driver-services.md —
        a protocol may also pass the NdisBindingHandle of NdisOpenAdapterEx, from ProtocolBindAdapterEx
        (or ProtocolOpenAdapterCompleteEx, which is where a pended bind goes on: condis takes the call
        while the bind is not yet complete), with NDIS_PROTOCOL_CO_CHARACTERISTICS,
        NDIS_CO_CLIENT_OPTIONAL_HANDLERS or NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS. The table
        overwrites the driver's default of that type for that binding only.
        """
        ddi = "NdisSetOptionalHandlers"
        self._passive_only(ddi)
        h, table = NdisHandle, OptionalHandlers
        binding = type(h) is Binding and h.ndis is self
        if not binding and (not isinstance(h, (MiniportDriver, ProtocolDriver)) or h.ndis is not self):
            raise self._violate("condis.BadHandle", ddi,
                                "NdisHandle must be the driver handle passed to SetOptions, or a protocol's "
                                f"NdisBindingHandle from NdisOpenAdapterEx; got {safe_repr(h)}")
        if binding:
            bind = h.bind_context
            if h.state == S.BINDING_UNBOUND or bind is None or bind.state == S.BIND_DONE:
                raise self._violate("condis.SetOptionsOnly", ddi,
                                    f"called for {h!r} ({h.state}) after its bind completed; a protocol sets "
                                    "handlers for a binding from ProtocolBindAdapterEx")
        elif not h.in_set_options:
            raise self._violate("condis.SetOptionsOnly", ddi,
                                f"called for {h.name!r} outside its SetOptions handler")
        name = h.protocol.name if binding else h.name
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
                                f"{type(table).__name__} for {name!r} lacks {', '.join(missing)}")
        co = table if slot == "co" else h.co
        if not miniport and co is not None and (h.cl is not None or slot == "cl") \
                and co.CoAfRegisterNotifyHandler is None:
            # ddi: nc-ndis-protocol_co_af_register_notify.md — every CoNDIS client has one
            raise self._violate("condis.MissingHandler", ddi,
                                f"{name!r} registers as a CoNDIS client but its NDIS_PROTOCOL_CO_CHARACTERISTICS "
                                "lacks CoAfRegisterNotifyHandler")
        cm = table if slot == "cm" else h.cm
        if miniport and co is not None and cm is not None \
                and cm.CmOidRequestHandler == co.CoOidRequestHandler:
            # ddi: ns-ndis-_ndis_co_call_manager_optional_handlers.md — an MCM answers its clients'
            # call-manager requests in a ProtocolCoOidRequest of its own, not in MiniportCoOidRequest.
            raise self._violate("condis.SeparateOidHandlers", ddi,
                                f"{name!r} gives its MiniportCoOidRequest ({co.CoOidRequestHandler!r}) as "
                                "CmOidRequestHandler; an MCM registers a separate ProtocolCoOidRequest")
        if getattr(h, slot) is not (getattr(h.protocol, slot) if binding else None):
            raise self._violate("condis.Registration", ddi,
                                f"{type(table).__name__} already registered for {h if binding else name!r}")
        table = copy.copy(table)    # a copy, as of the characteristics: later writes to the driver's table change nothing
        setattr(h, slot, table)
        if binding:
            self._binding_tables_changed(h, slot)
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

    def _binding_tables_changed(self, b: Binding, slot: str) -> None:
        """What NDIS took from a binding's tables before the bind set new ones: the call-manager table
        of the AFs it registered, and the send-complete route of its clients' VCs."""
        if slot == "cm":
            for raf in b.registered_afs:
                raf.cm = b.cm
        elif slot == "co":
            for vc in b.adapter.vcs:
                if vc.af is not None and vc.af.client is b and vc.h_miniport.route is not None:
                    vc.h_miniport.route = b.co.CoSendNetBufferListsCompleteHandler

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


# ddi: ns-ndis-_ndis_miniport_driver_characteristics.md, ns-ndis-_ndis_protocol_driver_characteristics.md —
# MajorNdisVersion is 6; the MinorNdisVersion values the pages list, plus 1: the REVISION_2 paragraph of
# both pages names NDIS 6.1, which ndis.h spells MinorNdisVersion 1.
_MINOR_VERSIONS = frozenset({0, 1, 20, 30, 40, 50, 51, 60, 70, 80, 81, 82, 83, 84, 85, 86})
# Header.Revision -> the first NDIS version whose members need it (minor version; the same pages):
# REVISION_2 added members for NDIS 6.1, the miniport's REVISION_3 one for NDIS 6.80.
_MINIPORT_REVISIONS = {1: 0, 2: 1, 3: 80}
_PROTOCOL_REVISIONS = {1: 0, 2: 1}
_MINIPORT_REQUIRED = ("InitializeHandlerEx", "HaltHandlerEx", "UnloadHandler", "PauseHandler", "RestartHandler")
_PROTOCOL_REQUIRED = ("BindAdapterHandlerEx", "UnbindAdapterHandlerEx", "NetPnPEventHandler")


def _characteristics_status(chars: Any, revisions: dict[int, int], required: tuple[str, ...]) -> int:
    """What registration returns for a characteristics structure NDIS cannot take, else SUCCESS.

    The registration pages document these as return values, not as bugs NDIS stops: a driver may try
    a newer NDIS version and fall back on NDIS_STATUS_BAD_VERSION. NDIS_STATUS_BAD_CHARACTERISTICS is
    the structure being the wrong revision for the version it declares (a Header is optional in
    condis; without one the structure is taken as the revision its version needs), or a required
    entry point missing (nf-ndis-ndisregisterprotocoldriver.md: some members invalid).
    """
    if chars.MajorNdisVersion != 6 or chars.MinorNdisVersion not in _MINOR_VERSIONS:
        return st.NDIS_STATUS_BAD_VERSION
    header = chars.Header
    if header is not None:
        # A revision the version needs, or a later one: a structure too short for its version is bad.
        needs = max(rev for rev, minor in revisions.items() if minor <= chars.MinorNdisVersion)
        if header.Revision not in revisions or header.Revision < needs:
            return st.NDIS_STATUS_BAD_CHARACTERISTICS
    if None in field_reader(required)(chars):
        return st.NDIS_STATUS_BAD_CHARACTERISTICS
    return SUCCESS


_CM_REQUIRED = ("CmOpenAfHandler", "CmCloseAfHandler", "CmRegisterSapHandler", "CmDeregisterSapHandler",
                "CmMakeCallHandler", "CmCloseCallHandler", "CmIncomingCallCompleteHandler",
                "CmActivateVcCompleteHandler", "CmDeactivateVcCompleteHandler", "CmModifyCallQoSHandler")
_PROTOCOL_CM_REQUIRED = _CM_REQUIRED + ("CmCreateVcHandler", "CmDeleteVcHandler")
_CL_REQUIRED = ("ClCreateVcHandler", "ClDeleteVcHandler", "ClOpenAfCompleteHandlerEx", "ClCloseAfCompleteHandler",
                "ClRegisterSapCompleteHandler", "ClDeregisterSapCompleteHandler", "ClMakeCallCompleteHandler",
                "ClModifyCallQoSCompleteHandler", "ClCloseCallCompleteHandler", "ClIncomingCallHandler",
                "ClIncomingCallQoSChangeHandler", "ClIncomingCloseCallHandler", "ClCallConnectedHandler")

