"""Address families and SAPs (guide: operations-on-address-families-and-saps.md and its pages:
registering-and-opening-an-address-family.md, registering-a-sap.md, deregistering-a-sap.md,
closing-an-address-family.md, closing-a-condis-call-manager-or-mcm.md,
closing-an-address-family-in-a-condis-client.md).

Who may call: a stand-alone call manager calls NdisCm*, an MCM NdisMCm*, over the same objects
(guide: differences-in-calls-to-ndisxxx-functions.md). NDIS knows which kind of call manager
serves an AF, so the wrong family is refused with condis.WrongCaller.
"""

from __future__ import annotations

from typing import Any

from condis import _status as st
from condis._safe_repr import safe_repr
from condis.constants import DISPATCH_LEVEL
from condis.ndis import states as S
from condis.ndis.core import PENDING, SUCCESS
from condis.ndis.objects import Adapter, Af, Binding, RegisteredAf, Sap
from condis.ndis.pnp import PnpDdi
from condis.ndis.validate import address_family_fault, sap_fault
from condis.structs import CO_ADDRESS_FAMILY, CO_SAP


class AfSapDdi(PnpDdi):
    """Registering, opening and closing AFs; registering and deregistering SAPs."""

    def __init__(self, name: str, sim: Any) -> None:
        super().__init__(name, sim)
        # client bindings (by id) whose open-AF request pended, until ProtocolClOpenAfCompleteEx runs
        self._opening: dict[int, Af] = {}

    # ------------------------------------------------------------------ checks

    def _no_open_pending(self, ddi: str, b: Binding) -> None:
        """ddi: nf-ndis-ndiscmopenaddressfamilycomplete.md — while a client's open-AF request on a
        binding is pending, the client starts nothing else on that binding."""
        af = self._opening.get(b.id)
        if af is not None:
            raise self._violate("condis.OpenAfPending", ddi,
                                f"the open of {af!r} on {b!r} is still pending; wait for ProtocolClOpenAfCompleteEx "
                                "before starting anything else on the binding")

    def _af(self, ddi: str, af: Any, param: str = "NdisAfHandle") -> Af:
        if self._irql > DISPATCH_LEVEL:
            raise self._at_dirql(ddi)
        if type(af) is not Af or af.ndis is not self or af.state == S.AF_CLOSED:
            raise self._bad_handle(ddi, param, af, Af)
        return af

    def _sap(self, ddi: str, sap: Any) -> Sap:
        if self._irql > DISPATCH_LEVEL:
            raise self._at_dirql(ddi)
        if type(sap) is not Sap or sap.ndis is not self or sap.state == S.SAP_DEREGISTERED:
            raise self._bad_handle(ddi, "NdisSapHandle", sap, Sap)
        return sap

    def _binding(self, ddi: str, b: Any) -> Binding:
        if self._irql > DISPATCH_LEVEL:
            raise self._at_dirql(ddi)
        if type(b) is not Binding or b.ndis is not self or b.state not in (S.BINDING_PAUSED, S.BINDING_RUNNING):
            raise self._bad_handle(ddi, "NdisBindingHandle", b, Binding)
        return b

    def _cm_family(self, ddi: str, is_mcm: bool, what: Any) -> None:
        """NdisMCm* belongs to an MCM's objects, NdisCm* to a stand-alone call manager's."""
        wants_mcm = ddi.startswith("NdisMCm")
        if wants_mcm != is_mcm:
            other = ddi.replace("NdisMCm", "NdisCm", 1) if wants_mcm else ddi.replace("NdisCm", "NdisMCm", 1)
            owner = "an MCM" if is_mcm else "a stand-alone call manager"
            raise self._violate("condis.WrongCaller", ddi,
                                f"{safe_repr(what)} is served by {owner}, which calls {other}; "
                                f"{'only an MCM' if wants_mcm else 'only a stand-alone call manager'} calls {ddi}",
                                obj=what)

    def _family_arg(self, ddi: str, family: Any) -> None:
        self._param(ddi, address_family_fault(family))

    # ------------------------------------------------------------------ registering an AF

    def NdisCmRegisterAddressFamilyEx(self, NdisBindingHandle: Binding, AddressFamily: CO_ADDRESS_FAMILY) -> int:
        ddi = "NdisCmRegisterAddressFamilyEx"
        self._passive_only(ddi)
        b = self._binding(ddi, NdisBindingHandle)
        self._family_arg(ddi, AddressFamily)
        if b.cm is None:
            raise self._violate("condis.WrongCaller", ddi,
                                f"{b.protocol.name!r} registered no NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS; only a "
                                "call manager registers an AF (guide: condis-call-manager-registration.md)")
        if b.unbinding is not None:
            # ddi: nf-ndis-ndiscmregisteraddressfamilyex.md — fails while the binding is being closed
            # (from the pause before ProtocolUnbindAdapterEx on: in condis a pause leads to the unbind)
            return st.NDIS_STATUS_FAILURE
        return self._register_af(b.adapter, b, AddressFamily, b.cm)

    def NdisMCmRegisterAddressFamilyEx(self, MiniportAdapterHandle: Adapter, AddressFamily: CO_ADDRESS_FAMILY) -> int:
        ddi = "NdisMCmRegisterAddressFamilyEx"
        self._passive_only(ddi)
        ad = MiniportAdapterHandle
        if type(ad) is not Adapter or ad.ndis is not self or ad.state == S.ADAPTER_HALTED:
            raise self._bad_handle(ddi, "MiniportAdapterHandle", ad, Adapter)
        self._family_arg(ddi, AddressFamily)
        if ad.miniport.cm is None:
            raise self._violate("condis.WrongCaller", ddi,
                                f"{ad.miniport.name!r} registered no NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS; only an "
                                "MCM calls NdisMCmRegisterAddressFamilyEx (guide: condis-mcm-registration.md)")
        if not ad.in_initialize and ad.state != S.ADAPTER_RUNNING:
            raise self._violate("condis.Registration", ddi,
                                f"{ad!r} is {ad.state}; an MCM registers its AF from MiniportInitializeEx "
                                "(guide: differences-in-initialization.md)")
        return self._register_af(ad, None, AddressFamily, ad.miniport.cm)

    def _register_af(self, adapter: Adapter, cm_binding: Binding | None, family: CO_ADDRESS_FAMILY, cm: Any) -> int:
        # guide: registering-and-opening-an-address-family.md — one call manager per AF type per adapter
        for raf in self._afs_on(adapter):
            if raf.family.AddressFamily == family.AddressFamily:
                return st.NDIS_STATUS_FAILURE
        # NDIS keeps its own copy of the AF it registered: what the call manager does to its structure
        # afterwards cannot change what clients are told or what later opens are matched against.
        family = CO_ADDRESS_FAMILY(family.AddressFamily, family.MajorVersion, family.MinorVersion)
        raf = RegisteredAf(self, self._next_id(), family, adapter, cm_binding, cm)
        if cm_binding is None:
            adapter.afs.append(raf)
        else:
            cm_binding.registered_afs.append(raf)
        # Clients already bound hear of the AF once the call manager's bind is done: at once for an
        # MCM or a call manager already bound, else when its ProtocolBindAdapterEx has completed
        # (PnpDdi._bind_task). Clients still binding hear of it when their own bind completes.
        # ddi: nf-ndis-ndiscmregisteraddressfamilyex.md says NDIS notifies the clients when the call
        # manager's ProtocolBindAdapterEx returns after a successful bind; the guide's figure
        # (registering-and-opening-an-address-family.md, cm-01) numbers the registration, then the
        # notification, which that order keeps. The DDI page is the one precise about when.
        if self._af_ready(raf):
            self._notify_clients(adapter, raf)
        return SUCCESS

    # ------------------------------------------------------------------ opening an AF

    def NdisClOpenAddressFamilyEx(self, NdisBindingHandle: Binding, AddressFamily: CO_ADDRESS_FAMILY,
                                  ClientAfContext: Any) -> tuple[int, Af | None]:
        ddi = "NdisClOpenAddressFamilyEx"
        self._passive_only(ddi)
        b = self._binding(ddi, NdisBindingHandle)
        self._family_arg(ddi, AddressFamily)
        if b.cl is None:
            raise self._violate("condis.WrongCaller", ddi,
                                f"{b.protocol.name!r} registered no NDIS_CO_CLIENT_OPTIONAL_HANDLERS; only a CoNDIS "
                                "client opens an AF (guide: condis-client-registration.md)")
        self._no_open_pending(ddi, b)
        raf = next((r for r in self._afs_on(b.adapter) if r.family.AddressFamily == AddressFamily.AddressFamily
                    and r.cm_binding is not b), None)
        if raf is None:
            return st.NDIS_STATUS_FAILURE, None
        af = Af(self, self._next_id(), raf, b, ClientAfContext)
        cm_ctx = raf.adapter.context if raf.is_mcm else raf.cm_binding.context
        fn = self._handler(raf.cm, "CmOpenAfHandler", "ProtocolCmOpenAf", raf)
        status, cm_af_ctx = self._result("ProtocolCmOpenAf",
                                         self._up(fn, "ProtocolCmOpenAf", cm_ctx, AddressFamily, af), 1)
        if status == SUCCESS:
            af.cm_context = cm_af_ctx
            self._af_opened(af)
            return SUCCESS, af
        if status == PENDING:
            af.state = S.AF_OPEN_PENDING
            self._opening[b.id] = af
            return PENDING, None
        af.state = S.AF_CLOSED
        return status, None

    def _af_opened(self, af: Af) -> None:
        af.state = S.AF_OPEN
        af.client.client_afs.append(af)
        af.registered.opens.append(af)
        if af.registered.cm_binding is not None:
            af.registered.cm_binding.cm_afs.append(af)

    def NdisCmOpenAddressFamilyComplete(self, Status: int, NdisAfHandle: Af, CallMgrAfContext: Any) -> None:
        self._open_af_complete("NdisCmOpenAddressFamilyComplete", Status, NdisAfHandle, CallMgrAfContext)

    def NdisMCmOpenAddressFamilyComplete(self, Status: int, NdisAfHandle: Af, CallMgrAfContext: Any) -> None:
        self._open_af_complete("NdisMCmOpenAddressFamilyComplete", Status, NdisAfHandle, CallMgrAfContext)

    def _open_af_complete(self, ddi: str, status: int, af: Any, cm_ctx: Any) -> None:
        self._status_arg(ddi, status)
        af = self._af(ddi, af)
        self._cm_family(ddi, af.is_mcm, af)
        if af.state != S.AF_OPEN_PENDING:
            raise self._violate("condis.CompleteWithoutPending", ddi,
                                f"{af.label}: only an open whose ProtocolCmOpenAf returned NDIS_STATUS_PENDING is "
                                "completed")
        if status == SUCCESS:
            af.cm_context = cm_ctx
            self._af_opened(af)
        else:
            af.state = S.AF_CLOSED
        fn = self._handler(af.client.cl, "ClOpenAfCompleteHandlerEx", "ProtocolClOpenAfCompleteEx",
                           af.client.protocol)
        # ProtocolClOpenAfCompleteEx runs at PASSIVE_LEVEL; NDIS defers it from DISPATCH_LEVEL. The
        # binding is free for other requests once the client hears the outcome.
        def deliver() -> None:
            self._opening.pop(af.client.id, None)
            # ddi: nc-ndis-protocol_cl_open_af_complete_ex.md — the AF handle only on success, else NULL
            self._up(fn, "ProtocolClOpenAfCompleteEx", af.client_context, af if status == SUCCESS else None, status)
        self._at_passive(deliver, (), "ProtocolClOpenAfCompleteEx", af.client.protocol)

    # ------------------------------------------------------------------ closing an AF

    def NdisClCloseAddressFamily(self, NdisAfHandle: Af) -> int:
        ddi = "NdisClCloseAddressFamily"
        af = self._af(ddi, NdisAfHandle)
        if af.state != S.AF_OPEN:
            raise self._violate("condis.AfState", ddi, f"{af.label} must be OPEN to close it")
        # ddi: nf-ndis-ndisclcloseaddressfamily.md — after closing the calls (NdisClCloseCall) and
        # deregistering the SAPs; guide: closing-an-address-family-in-a-condis-client.md, steps 1-4.
        saps = [s for s in af.saps if s.state != S.SAP_DEREGISTERED]
        # a scan of the adapter's VCs: closing an AF is rare, and a set per AF costs every call memory
        calls = [v for v in af.registered.adapter.vcs if v.af is af and v.state != S.CALL_IDLE]
        if saps or calls:
            raise self._violate("condis.AfBusy", ddi,
                                f"{af!r} still has {len(saps)} SAP(s) registered and {len(calls)} call(s) not "
                                f"closed ({saps + calls}); close the calls and deregister the SAPs first "
                                "(guide: closing-an-address-family-in-a-condis-client.md)")
        af.state = S.AF_CLOSING
        fn = self._handler(af.cm, "CmCloseAfHandler", "ProtocolCmCloseAf", af.registered)
        status = self._result("ProtocolCmCloseAf", self._up(fn, "ProtocolCmCloseAf", af.cm_context), 0)[0]
        if status == PENDING:
            af.state = S.AF_CLOSE_PENDING
        else:
            self._af_close_done(af, status)
        return status

    def _af_close_done(self, af: Af, status: int) -> None:
        if status != SUCCESS:
            af.state = S.AF_OPEN
            return
        af.state = S.AF_CLOSED
        af.client.client_afs.remove(af)
        af.registered.opens.remove(af)
        if af.registered.cm_binding is not None:
            af.registered.cm_binding.cm_afs.remove(af)

    def NdisCmCloseAddressFamilyComplete(self, Status: int, NdisAfHandle: Af) -> None:
        self._close_af_complete("NdisCmCloseAddressFamilyComplete", Status, NdisAfHandle)

    def NdisMCmCloseAddressFamilyComplete(self, Status: int, NdisAfHandle: Af) -> None:
        self._close_af_complete("NdisMCmCloseAddressFamilyComplete", Status, NdisAfHandle)

    def _close_af_complete(self, ddi: str, status: int, af: Any) -> None:
        self._status_arg(ddi, status)
        af = self._af(ddi, af)
        self._cm_family(ddi, af.is_mcm, af)
        if af.state != S.AF_CLOSE_PENDING:
            raise self._violate("condis.CompleteWithoutPending", ddi,
                                f"{af.label}: only a close whose ProtocolCmCloseAf returned NDIS_STATUS_PENDING is "
                                "completed")
        self._af_close_done(af, status)
        fn = self._handler(af.client.cl, "ClCloseAfCompleteHandler", "ProtocolClCloseAfComplete",
                           af.client.protocol)
        self._up(fn, "ProtocolClCloseAfComplete", status, af.client_context)

    # ------------------------------------------------------------------ close notification

    def NdisCmNotifyCloseAddressFamily(self, NdisAfHandle: Af) -> int:
        return self._notify_close_af("NdisCmNotifyCloseAddressFamily", NdisAfHandle)

    def NdisMCmNotifyCloseAddressFamily(self, NdisAfHandle: Af) -> int:
        return self._notify_close_af("NdisMCmNotifyCloseAddressFamily", NdisAfHandle)

    def _notify_close_af(self, ddi: str, af: Any) -> int:
        self._passive_only(ddi)
        af = self._af(ddi, af)
        self._cm_family(ddi, af.is_mcm, af)
        if af.state != S.AF_OPEN or af.notify != S.NOTIFY_NONE:
            raise self._violate("condis.AfState", ddi,
                                f"{af.label} (notification {af.notify}): a call manager asks a client to close an "
                                "AF that is OPEN, once (guide: closing-a-condis-call-manager-or-mcm.md)",
                                page="guide/closing-a-condis-call-manager-or-mcm.md")
        fn = self._handler(af.client.cl, "ClNotifyCloseAfHandler", "ProtocolClNotifyCloseAf",
                           af.client.protocol)
        af.notify = S.NOTIFY_IN_HANDLER
        status = self._result("ProtocolClNotifyCloseAf", self._up(fn, "ProtocolClNotifyCloseAf",
                                                                   af.client_context), 0)[0]
        af.notify = S.NOTIFY_PENDING if status == PENDING else S.NOTIFY_DONE
        return status

    def NdisClNotifyCloseAddressFamilyComplete(self, NdisAfHandle: Af, Status: int) -> None:
        ddi = "NdisClNotifyCloseAddressFamilyComplete"
        self._status_arg(ddi, Status)
        af = NdisAfHandle
        # The client usually closed the AF before completing the notification, so a CLOSED AF is
        # still a valid handle here as long as its notification is pending.
        if type(af) is not Af or af.ndis is not self:
            raise self._bad_handle(ddi, "NdisAfHandle", af, Af)
        if af.notify != S.NOTIFY_PENDING:
            raise self._violate("condis.CompleteWithoutPending", ddi,
                                f"{af!r} notification is {af.notify}; only a ProtocolClNotifyCloseAf that returned "
                                "NDIS_STATUS_PENDING is completed")
        fn = af.cm.CmNotifyCloseAfCompleteHandler
        if fn is None:
            raise self._violate("condis.MissingHandler", ddi,
                                f"the call manager of {af!r} registered no CmNotifyCloseAfCompleteHandler")
        af.notify = S.NOTIFY_DONE
        self._up(fn, "ProtocolCmNotifyCloseAfComplete", af.cm_context, Status)

    # ------------------------------------------------------------------ SAPs

    def NdisClRegisterSap(self, NdisAfHandle: Af, ProtocolSapContext: Any, Sap: CO_SAP
                          ) -> tuple[int, Sap | None]:
        ddi = "NdisClRegisterSap"
        af = self._af(ddi, NdisAfHandle)
        self._no_open_pending(ddi, af.client)
        if af.state != S.AF_OPEN:
            raise self._violate("condis.AfState", ddi, f"{af.label} must be OPEN to register a SAP")
        self._param(ddi, sap_fault(Sap))
        sap = _SapObj(self, self._next_id(), af, ProtocolSapContext, Sap)
        af.saps.append(sap)
        fn = self._handler(af.cm, "CmRegisterSapHandler", "ProtocolCmRegisterSap", af.registered)
        status, cm_ctx = self._result("ProtocolCmRegisterSap",
                                      self._up(fn, "ProtocolCmRegisterSap", af.cm_context, Sap, sap), 1)
        if status == SUCCESS:
            sap.cm_context = cm_ctx
            sap.state = S.SAP_REGISTERED
            return SUCCESS, sap
        if status == PENDING:
            sap.state = S.SAP_REGISTER_PENDING
            return PENDING, None
        sap.state = S.SAP_DEREGISTERED
        af.saps.remove(sap)
        return status, None

    def NdisCmRegisterSapComplete(self, Status: int, NdisSapHandle: Sap, CallMgrSapContext: Any) -> None:
        self._register_sap_complete("NdisCmRegisterSapComplete", Status, NdisSapHandle, CallMgrSapContext)

    def NdisMCmRegisterSapComplete(self, Status: int, NdisSapHandle: Sap, CallMgrSapContext: Any) -> None:
        self._register_sap_complete("NdisMCmRegisterSapComplete", Status, NdisSapHandle, CallMgrSapContext)

    def _register_sap_complete(self, ddi: str, status: int, sap: Any, cm_ctx: Any) -> None:
        self._status_arg(ddi, status)
        sap = self._sap(ddi, sap)
        self._cm_family(ddi, sap.af.is_mcm, sap)
        if sap.state != S.SAP_REGISTER_PENDING:
            raise self._violate("condis.CompleteWithoutPending", ddi,
                                f"{sap.label}: only a registration whose ProtocolCmRegisterSap returned "
                                "NDIS_STATUS_PENDING is completed")
        if status == SUCCESS:
            sap.cm_context = cm_ctx
            sap.state = S.SAP_REGISTERED
        else:
            sap.state = S.SAP_DEREGISTERED
            sap.af.saps.remove(sap)
        af = sap.af
        fn = self._handler(af.client.cl, "ClRegisterSapCompleteHandler", "ProtocolClRegisterSapComplete",
                           af.client.protocol)
        # ddi: nc-ndis-protocol_cl_register_sap_complete.md — the SAP handle only on success, else NULL
        self._up(fn, "ProtocolClRegisterSapComplete", status, sap.client_context, sap.sap,
                 sap if status == SUCCESS else None)

    def NdisClDeregisterSap(self, NdisSapHandle: Sap) -> int:
        ddi = "NdisClDeregisterSap"
        sap = self._sap(ddi, NdisSapHandle)
        if sap.state != S.SAP_REGISTERED:
            raise self._violate("condis.SapState", ddi, f"{sap.label} must be REGISTERED to deregister it",
                                page="guide/deregistering-a-sap.md")
        sap.state = S.SAP_DEREGISTERING
        af = sap.af
        fn = self._handler(af.cm, "CmDeregisterSapHandler", "ProtocolCmDeregisterSap", af.registered)
        status = self._result("ProtocolCmDeregisterSap", self._up(fn, "ProtocolCmDeregisterSap", sap.cm_context), 0)[0]
        if status == PENDING:
            sap.state = S.SAP_DEREGISTER_PENDING
        else:
            self._sap_deregistered(sap, status)
        return status

    def _sap_deregistered(self, sap: Sap, status: int) -> None:
        if status == SUCCESS:
            sap.state = S.SAP_DEREGISTERED
            sap.af.saps.remove(sap)
        else:
            sap.state = S.SAP_REGISTERED

    def NdisCmDeregisterSapComplete(self, Status: int, NdisSapHandle: Sap) -> None:
        self._deregister_sap_complete("NdisCmDeregisterSapComplete", Status, NdisSapHandle)

    def NdisMCmDeregisterSapComplete(self, Status: int, NdisSapHandle: Sap) -> None:
        self._deregister_sap_complete("NdisMCmDeregisterSapComplete", Status, NdisSapHandle)

    def _deregister_sap_complete(self, ddi: str, status: int, sap: Any) -> None:
        self._status_arg(ddi, status)
        sap = self._sap(ddi, sap)
        self._cm_family(ddi, sap.af.is_mcm, sap)
        if sap.state != S.SAP_DEREGISTER_PENDING:
            raise self._violate("condis.CompleteWithoutPending", ddi,
                                f"{sap.label}: only a deregistration whose ProtocolCmDeregisterSap returned "
                                "NDIS_STATUS_PENDING is completed")
        self._sap_deregistered(sap, status)
        af = sap.af
        fn = self._handler(af.client.cl, "ClDeregisterSapCompleteHandler",
                           "ProtocolClDeregisterSapComplete", af.client.protocol)
        self._up(fn, "ProtocolClDeregisterSapComplete", status, sap.client_context)


_SapObj = Sap
