"""Virtual connections: create, activate, deactivate, delete (guide: creating-a-vc.md,
activating-a-vc.md, deactivating-a-vc.md, deleting-a-vc.md, differences-in-virtual-connections.md).

Each driver that shares a VC holds its own :class:`VcHandle` to it, so NDIS knows who calls:
the client, the call manager (or MCM) and the miniport. Only the creator deletes a VC.
"""

from __future__ import annotations

from typing import Any

from condis import _status as st
from condis._safe_repr import safe_repr
from condis.constants import DISPATCH_LEVEL
from condis.ndis import states as S
from condis.ndis.afsap import AfSapDdi
from condis.ndis.core import PENDING, SUCCESS
from condis.ndis.objects import (
    SIDE_CLIENT,
    SIDE_CM,
    SIDE_MCM,
    SIDE_MINIPORT,
    Adapter,
    Af,
    Binding,
    Vc,
    VcHandle,
)
from condis.ndis.validate import call_parameters_fault
from condis.structs import CO_CALL_PARAMETERS

CM_SIDES = (SIDE_CM, SIDE_MCM)
MINIPORT_SIDES = (SIDE_MINIPORT, SIDE_MCM)
_CREATOR_SIDE = {S.CREATOR_CLIENT: SIDE_CLIENT, S.CREATOR_CM: SIDE_CM, S.CREATOR_MCM: SIDE_MCM}


class VcDdi(AfSapDdi):
    """NdisCoCreateVc, NdisMCmCreateVc, Ndis(M)Cm(De)ActivateVc, NdisCoDeleteVc, NdisMCmDeleteVc."""

    def __init__(self, name: str, sim: Any) -> None:
        super().__init__(name, sim)
        self.vc_count = 0
        # VCs activated again while a client's QoS change was outstanding on them (calls.py checks it)
        self._qos_reactivated: set[int] = set()

    # ------------------------------------------------------------------ checks

    def _vch(self, ddi: str, h: Any, sides: tuple[str, ...], param: str = "NdisVcHandle") -> Vc:
        """The VC behind a handle, refusing stale handles and handles of the wrong driver."""
        if self._irql > DISPATCH_LEVEL:
            raise self._at_dirql(ddi)
        if type(h) is not VcHandle or h.vc.ndis is not self or h.vc.deleted:
            raise self._bad_handle(ddi, param, h, VcHandle)
        if h.side not in sides:
            raise self._violate("condis.WrongCaller", ddi,
                                f"{param} is {safe_repr(h)}; {ddi} is called with the {' or '.join(sides)}'s handle",
                                vc=h.vc)
        return h.vc

    def _cm_table(self, vc: Vc) -> Any:
        return vc.adapter.miniport.cm if vc.cm_binding is None else vc.cm_binding.cm

    def _client_cl(self, vc: Vc) -> Any:
        return vc.af.client.cl

    def _call_params_arg(self, ddi: str, params: Any) -> None:
        """Every DDI that takes CO_CALL_PARAMETERS checks them here, whole (condis/ndis/validate.py):
        NDIS reads them, hands them to other drivers and keeps a copy of what was offered. With the
        verifier off only the type is checked: nothing then reads inside them."""
        if not self.verifier.checking:
            if not isinstance(params, CO_CALL_PARAMETERS):
                raise self._violate("condis.BadParameter", ddi,
                                    f"CallParameters must be CO_CALL_PARAMETERS, got {safe_repr(params)}")
            return
        self._param(ddi, call_parameters_fault(params))

    def _miniport_handler(self, ddi: str, adapter: Adapter, field: str, name: str) -> Any:
        """The CoNDIS miniport handler NDIS is about to need for ``ddi``, refused before anything
        changes if the miniport registered none (an MCM registers no MiniportCoCreateVc, for one:
        a stand-alone call manager bound over it cannot create VCs through it)."""
        mp = adapter.miniport
        fn = getattr(mp.co, field, None) if mp.co is not None else None
        if fn is None:
            raise self._violate("condis.MissingHandler", ddi,
                                f"{adapter!r}'s miniport {mp.name!r} registered no {field}, which {ddi} needs "
                                f"({name})")
        return fn

    def _new_vc(self, adapter: Adapter, af: Af | None, creator: str, cm_binding: Binding | None) -> Vc:
        vc = Vc(self, self._next_id(), adapter, af, creator)
        vc.cm_binding = cm_binding
        if af is not None:
            vc.h_client = VcHandle(vc, SIDE_CLIENT)
        if cm_binding is None:
            vc.h_cm = vc.h_miniport = VcHandle(vc, SIDE_MCM)
        else:
            vc.h_cm = VcHandle(vc, SIDE_CM)
            vc.h_miniport = VcHandle(vc, SIDE_MINIPORT)
        return vc

    def _vc_created(self, vc: Vc) -> None:
        vc.adapter.vcs.add(vc)
        self.vc_count += 1
        # The routes of a client's data on this VC, fixed for the VC's life, so the send path
        # (condis/ndis/data.py) looks up no handler tables: the miniport's send handler on the
        # client's handle, the client's send-complete handler on the miniport's.
        h = vc.h_client
        if h is not None:
            send = vc.adapter.miniport.co.CoSendNetBufferListsHandler
            done = vc.af.client.co.CoSendNetBufferListsCompleteHandler
            if send is not None and done is not None:
                h.route, h.route_ctx = send, vc.miniport_context
                vc.h_miniport.route, vc.h_miniport.route_ctx = done, vc.client_context

    # ------------------------------------------------------------------ creating

    def NdisCoCreateVc(self, NdisBindingHandle: Binding, NdisAfHandle: Af | None, ProtocolVcContext: Any
                       ) -> tuple[int, VcHandle | None]:
        """A client creates a VC for an outgoing call; a call manager one for an incoming call, or,
        with no AF, a signaling VC of its own (guide: creating-a-vc.md)."""
        ddi = "NdisCoCreateVc"
        b = self._binding(ddi, NdisBindingHandle)
        af = None if NdisAfHandle is None else self._af(ddi, NdisAfHandle)
        if af is not None and af.state != S.AF_OPEN:
            raise self._violate("condis.AfState", ddi, f"{af.label} must be OPEN to create a VC on it")
        if af is None:
            if b.cm is None:
                raise self._violate("condis.WrongCaller", ddi,
                                    "NdisAfHandle is NULL, which only a call manager's signaling VC may be; "
                                    f"{b.protocol.name!r} is not a call manager")
            creator, cm_binding = S.CREATOR_CM, b
        elif af.client is b:
            self._no_open_pending(ddi, b)
            creator, cm_binding = S.CREATOR_CLIENT, af.registered.cm_binding
        elif af.registered.cm_binding is b:
            creator, cm_binding = S.CREATOR_CM, b
        else:
            raise self._violate("condis.WrongCaller", ddi,
                                f"{b!r} is neither the client nor the call manager of {af!r}")
        if cm_binding is None:
            # guide: differences-in-calls-to-ndisxxx-functions.md — an MCM's VCs come from NdisMCmCreateVc;
            # a client of an MCM still calls NdisCoCreateVc (creating-a-vc.md, fig1-05).
            if creator != S.CREATOR_CLIENT:
                raise self._violate("condis.WrongCaller", ddi, "an MCM creates VCs with NdisMCmCreateVc")
        else:
            mp_create = self._miniport_handler(ddi, b.adapter, "CoCreateVcHandler", "MiniportCoCreateVc")
        vc = self._new_vc(b.adapter, af, creator, cm_binding)
        if creator == S.CREATOR_CLIENT:
            vc.client_context = ProtocolVcContext
            fn = self._handler(self._cm_table(vc), "CmCreateVcHandler", "ProtocolCoCreateVc", af.registered)
            status, ctx = self._result("ProtocolCoCreateVc",
                                       self._up(fn, "ProtocolCoCreateVc", af.cm_context, vc.h_cm), 1)
            status = self._sync_only("ProtocolCoCreateVc", status)
            if status != SUCCESS:
                vc.deleted = True      # the handle the call manager was shown dies with the VC
                return status, None
            vc.cm_context = ctx
            if cm_binding is None:
                vc.miniport_context = ctx
        else:
            vc.cm_context = ProtocolVcContext
            if af is not None:
                fn = self._handler(self._client_cl(vc), "ClCreateVcHandler", "ProtocolCoCreateVc", af.client.protocol)
                status, ctx = self._result("ProtocolCoCreateVc",
                                           self._up(fn, "ProtocolCoCreateVc", af.client_context, vc.h_client), 1)
                status = self._sync_only("ProtocolCoCreateVc", status)
                if status != SUCCESS:
                    vc.deleted = True  # as above, for the client's handle
                    return status, None
                vc.client_context = ctx
        if cm_binding is not None:
            status, ctx = self._result("MiniportCoCreateVc", self._up(
                mp_create, "MiniportCoCreateVc", b.adapter.context, vc.h_miniport), 1)
            status = self._sync_only("MiniportCoCreateVc", status)
            if status != SUCCESS:
                # undo the protocol side that already accepted the VC
                other = vc.cm_context if creator == S.CREATOR_CLIENT else vc.client_context
                table, field, h = ((self._cm_table(vc), "CmDeleteVcHandler", vc.h_cm) if creator == S.CREATOR_CLIENT
                                   else (self._client_cl(vc) if af else None, "ClDeleteVcHandler", vc.h_client))
                if table is not None:
                    self._sync_only("ProtocolCoDeleteVc", self._result(
                        "ProtocolCoDeleteVc", self._up(getattr(table, field), "ProtocolCoDeleteVc", other), 0)[0], SUCCESS)
                vc.deleted = True
                return status, None
            vc.miniport_context = ctx
        self._vc_created(vc)
        return SUCCESS, (vc.h_client if creator == S.CREATOR_CLIENT else vc.h_cm)

    def NdisMCmCreateVc(self, MiniportAdapterHandle: Adapter, NdisAfHandle: Af, MiniportVcContext: Any
                        ) -> tuple[int, VcHandle | None]:
        """An MCM creates a VC for an incoming call (guide: creating-a-vc.md, fig1-06)."""
        ddi = "NdisMCmCreateVc"
        if self._irql > DISPATCH_LEVEL:
            raise self._at_dirql(ddi)
        ad = MiniportAdapterHandle
        if type(ad) is not Adapter or ad.ndis is not self or ad.state == S.ADAPTER_HALTED:
            raise self._bad_handle(ddi, "MiniportAdapterHandle", ad, Adapter)
        af = self._af(ddi, NdisAfHandle)
        self._cm_family(ddi, af.is_mcm, af)
        if af.registered.adapter is not ad:
            raise self._violate("condis.WrongCaller", ddi, f"{af!r} is not served by {ad!r}")
        if af.state != S.AF_OPEN:
            raise self._violate("condis.AfState", ddi, f"{af.label} must be OPEN to create a VC on it")
        vc = self._new_vc(ad, af, S.CREATOR_MCM, None)
        vc.cm_context = vc.miniport_context = MiniportVcContext
        fn = self._handler(self._client_cl(vc), "ClCreateVcHandler", "ProtocolCoCreateVc", af.client.protocol)
        status, ctx = self._result("ProtocolCoCreateVc",
                                   self._up(fn, "ProtocolCoCreateVc", af.client_context, vc.h_client), 1)
        status = self._sync_only("ProtocolCoCreateVc", status)
        if status != SUCCESS:
            vc.deleted = True
            return status, None
        vc.client_context = ctx
        self._vc_created(vc)
        return SUCCESS, vc.h_cm

    # ------------------------------------------------------------------ deleting

    def NdisCoDeleteVc(self, NdisVcHandle: VcHandle) -> int:
        ddi = "NdisCoDeleteVc"
        vc = self._vch(ddi, NdisVcHandle, (SIDE_CLIENT, SIDE_CM, SIDE_MCM))
        if NdisVcHandle.side == SIDE_MCM:
            raise self._violate("condis.WrongCaller", ddi, "an MCM deletes its VCs with NdisMCmDeleteVc")
        return self._delete_vc(ddi, vc, NdisVcHandle.side)

    def NdisMCmDeleteVc(self, NdisVcHandle: VcHandle) -> int:
        ddi = "NdisMCmDeleteVc"
        vc = self._vch(ddi, NdisVcHandle, (SIDE_MCM,))
        return self._delete_vc(ddi, vc, SIDE_MCM)

    def _delete_vc(self, ddi: str, vc: Vc, side: str) -> int:
        creator_side = _CREATOR_SIDE[vc.creator]
        if side != creator_side:
            raise self._violate("condis.OnlyCreatorDeletes", ddi,
                                f"VC {vc.id:#x} was created by the {vc.creator}; the {side} may not delete it "
                                "(guide: deleting-a-vc.md)", vc=vc)
        # Documented statuses, not violations: the page tells the caller to try again later.
        if vc.act_op != S.OP_NONE and vc.activation == S.VC_DEACTIVATING:
            return st.NDIS_STATUS_CLOSING
        if vc.activation != S.VC_INACTIVE:
            return st.NDIS_STATUS_NOT_ACCEPTED
        # The remarks of the same page: no call may be outstanding on a VC that is deleted. An
        # inactive VC whose call is still being made, offered or closed is a caller's mistake, not a
        # "try later" (the VC may never become active to give NOT_ACCEPTED a meaning).
        if vc.state != S.CALL_IDLE:
            raise self._violate("condis.VcState", ddi,
                                f"VC {vc.id:#x} still has a call in state {vc.state} ({vc.op}); a VC is deleted once "
                                "its call is closed (ddi: nf-ndis-ndiscodeletevc.md)", vc=vc)
        if vc.cm_binding is not None:
            mp_delete = self._miniport_handler(ddi, vc.adapter, "CoDeleteVcHandler", "MiniportCoDeleteVc")
        # guide: deleting-a-vc.md — the other protocol's ProtocolCoDeleteVc and the miniport's
        # MiniportCoDeleteVc; both synchronous.
        if vc.creator == S.CREATOR_CLIENT:
            fn = self._handler(self._cm_table(vc), "CmDeleteVcHandler", "ProtocolCoDeleteVc", vc.af.registered)
            self._sync_only("ProtocolCoDeleteVc", self._result(
                "ProtocolCoDeleteVc", self._up(fn, "ProtocolCoDeleteVc", vc.cm_context), 0)[0], SUCCESS)
        elif vc.af is not None:
            fn = self._handler(self._client_cl(vc), "ClDeleteVcHandler", "ProtocolCoDeleteVc", vc.af.client.protocol)
            self._sync_only("ProtocolCoDeleteVc", self._result(
                "ProtocolCoDeleteVc", self._up(fn, "ProtocolCoDeleteVc", vc.client_context), 0)[0], SUCCESS)
        if vc.cm_binding is not None:
            self._sync_only("MiniportCoDeleteVc", self._result(
                "MiniportCoDeleteVc", self._up(mp_delete, "MiniportCoDeleteVc", vc.miniport_context), 0)[0], SUCCESS)
        vc.deleted = True
        if vc.h_client is not None:
            vc.h_client.route = vc.h_miniport.route = None
        vc.adapter.vcs.discard(vc)
        self.vc_count -= 1
        return SUCCESS

    # ------------------------------------------------------------------ activation

    def NdisCmActivateVc(self, NdisVcHandle: VcHandle, CallParameters: CO_CALL_PARAMETERS) -> int:
        ddi = "NdisCmActivateVc"
        vc = self._vch(ddi, NdisVcHandle, CM_SIDES)
        self._cm_family(ddi, vc.is_mcm, NdisVcHandle)
        self._call_params_arg(ddi, CallParameters)
        self._activation_allowed(ddi, vc)
        activate = self._miniport_handler(ddi, vc.adapter, "CoActivateVcHandler", "MiniportCoActivateVc")
        if vc.state in S.CALL_QOS_CHANGING:
            self._qos_reactivated.add(vc.id)
        vc.call_params_prev = vc.call_params if vc.activation == S.VC_ACTIVE else None
        vc.activation = S.VC_ACTIVATING
        vc.act_op = S.OP_IN_HANDLER
        vc.call_params = CallParameters
        status = self._result("MiniportCoActivateVc", self._up(
            activate, "MiniportCoActivateVc", vc.miniport_context, CallParameters), 0)[0]
        if status == PENDING:
            vc.act_op = S.OP_PENDING
            return PENDING
        # A final status is the call manager's to handle; NDIS calls ProtocolCmActivateVcComplete only
        # after a pended activation (ddi: nf-ndis-ndiscmactivatevc.md, "-returns").
        self._activated(vc, status, notify=False)
        return status

    def NdisMCmActivateVc(self, NdisVcHandle: VcHandle, CallParameters: CO_CALL_PARAMETERS) -> int:
        """An MCM tells NDIS it has readied its NIC for the VC (guide: activating-a-vc.md).

        The MCM activates internally, so the request is final here and, as the page's "-returns"
        says, the MCM calls its own ProtocolCmActivateVcComplete if it wants one; fig1-07 draws NDIS
        calling it, which would make the same completion run twice.
        """
        ddi = "NdisMCmActivateVc"
        vc = self._vch(ddi, NdisVcHandle, CM_SIDES)
        self._cm_family(ddi, vc.is_mcm, NdisVcHandle)
        self._call_params_arg(ddi, CallParameters)
        self._activation_allowed(ddi, vc)
        if vc.state in S.CALL_QOS_CHANGING:
            self._qos_reactivated.add(vc.id)
        vc.call_params = CallParameters
        vc.activation = S.VC_ACTIVE
        return SUCCESS

    def _activation_allowed(self, ddi: str, vc: Vc) -> None:
        if vc.activation in (S.VC_ACTIVATING, S.VC_DEACTIVATING):
            raise self._violate("condis.VcActivation", ddi,
                                f"VC {vc.id:#x} is {vc.activation}; wait for that request to complete", vc=vc)

    def _activated(self, vc: Vc, status: int, notify: bool = True) -> None:
        vc.act_op = S.OP_NONE
        if status == SUCCESS:
            vc.activation = S.VC_ACTIVE
        elif vc.call_params_prev is None:
            vc.activation = S.VC_INACTIVE
        else:
            # a failed re-activation leaves the VC active with its previous parameters
            vc.activation = S.VC_ACTIVE
            vc.call_params = vc.call_params_prev
        vc.call_params_prev = None
        if not notify:
            return
        fn = self._handler(self._cm_table(vc), "CmActivateVcCompleteHandler", "ProtocolCmActivateVcComplete", vc)
        self._up(fn, "ProtocolCmActivateVcComplete", status, vc.cm_context, vc.call_params)

    def NdisMCoActivateVcComplete(self, Status: int, NdisVcHandle: VcHandle, CallParameters: CO_CALL_PARAMETERS) -> None:
        ddi = "NdisMCoActivateVcComplete"
        self._status_arg(ddi, Status)
        vc = self._vch(ddi, NdisVcHandle, (SIDE_MINIPORT,))
        if vc.activation != S.VC_ACTIVATING or vc.act_op != S.OP_PENDING:
            raise self._violate("condis.CompleteWithoutPending", ddi,
                                f"VC {vc.id:#x} is {vc.activation} ({vc.act_op}); only an activation whose "
                                "MiniportCoActivateVc returned NDIS_STATUS_PENDING is completed", vc=vc)
        self._call_params_arg(ddi, CallParameters)
        vc.call_params = CallParameters
        self._activated(vc, Status)

    def NdisCmDeactivateVc(self, NdisVcHandle: VcHandle) -> int:
        ddi = "NdisCmDeactivateVc"
        vc = self._vch(ddi, NdisVcHandle, CM_SIDES)
        self._cm_family(ddi, vc.is_mcm, NdisVcHandle)
        if vc.activation == S.VC_INACTIVE:
            return st.NDIS_STATUS_NOT_ACCEPTED
        self._deactivation_allowed(ddi, vc)
        deactivate = self._miniport_handler(ddi, vc.adapter, "CoDeactivateVcHandler", "MiniportCoDeactivateVc")
        vc.activation = S.VC_DEACTIVATING
        vc.act_op = S.OP_IN_HANDLER
        status = self._result("MiniportCoDeactivateVc", self._up(
            deactivate, "MiniportCoDeactivateVc", vc.miniport_context), 0)[0]
        if status == PENDING:
            vc.act_op = S.OP_PENDING
            return PENDING
        if status == SUCCESS and vc.sends:
            vc.activation = S.VC_ACTIVE
            vc.act_op = S.OP_NONE
            raise self._sends_left("MiniportCoDeactivateVc", vc, "returned NDIS_STATUS_SUCCESS")
        self._deactivated(vc, status, notify=False)  # as for activation: no completion on a final status
        return status

    def NdisMCmDeactivateVc(self, NdisVcHandle: VcHandle) -> int:
        ddi = "NdisMCmDeactivateVc"
        vc = self._vch(ddi, NdisVcHandle, CM_SIDES)
        self._cm_family(ddi, vc.is_mcm, NdisVcHandle)
        if vc.activation == S.VC_INACTIVE:
            return st.NDIS_STATUS_NOT_ACCEPTED     # the page's "already deactivated": a status, not a fault
        self._deactivation_allowed(ddi, vc)
        if vc.sends:
            # An MCM is the VC's miniport too: the same duty as for NdisMCoDeactivateVcComplete.
            raise self._sends_left(ddi, vc, "called")
        vc.activation = S.VC_INACTIVE
        vc.call_params = None
        return SUCCESS

    def _sends_left(self, name: str, vc: Vc, what: str) -> Any:
        # ddi: nf-ndis-ndismcodeactivatevccomplete.md — a miniport finishes every send on the VC
        # before it reports the VC deactivated (guide: deactivating-a-vc.md).
        return self._violate("condis.DeactivateWithSends", name,
                             f"{what} for VC {vc.id:#x} while {len(vc.sends)} NET_BUFFER_LIST(s) sent on it are not "
                             "completed; complete them with NdisMCoSendNetBufferListsComplete first",
                             page="guide/deactivating-a-vc.md" if name == "NdisMCmDeactivateVc" else None, vc=vc)

    def _deactivation_allowed(self, ddi: str, vc: Vc) -> None:
        """A deactivation while an activation or deactivation is in flight is refused. An INACTIVE VC
        is not refused: both deactivate functions return NDIS_STATUS_NOT_ACCEPTED for it. That status
        is on ddi: nf-ndis-ndismcmdeactivatevc.md ("already deactivated"); nf-ndis-ndiscmdeactivatevc.md
        lists no statuses, and NdisMCmDeactivateVc is the same routine under the MCM's name (the
        reference pack's README), so the call manager gets the same answer."""
        if vc.activation != S.VC_ACTIVE:
            raise self._violate("condis.VcActivation", ddi,
                                f"VC {vc.id:#x} is {vc.activation}; only an ACTIVE VC is deactivated", vc=vc)

    def _deactivated(self, vc: Vc, status: int, notify: bool = True) -> None:
        vc.act_op = S.OP_NONE
        if status == SUCCESS:
            vc.activation = S.VC_INACTIVE
            vc.call_params = None
        else:
            vc.activation = S.VC_ACTIVE
        if not notify:
            return
        fn = self._handler(self._cm_table(vc), "CmDeactivateVcCompleteHandler", "ProtocolCmDeactivateVcComplete", vc)
        self._up(fn, "ProtocolCmDeactivateVcComplete", status, vc.cm_context)

    def NdisMCoDeactivateVcComplete(self, Status: int, NdisVcHandle: VcHandle) -> None:
        ddi = "NdisMCoDeactivateVcComplete"
        self._status_arg(ddi, Status)
        vc = self._vch(ddi, NdisVcHandle, (SIDE_MINIPORT,))
        if vc.activation != S.VC_DEACTIVATING or vc.act_op != S.OP_PENDING:
            raise self._violate("condis.CompleteWithoutPending", ddi,
                                f"VC {vc.id:#x} is {vc.activation} ({vc.act_op}); only a deactivation whose "
                                "MiniportCoDeactivateVc returned NDIS_STATUS_PENDING is completed", vc=vc)
        if Status == SUCCESS and vc.sends:
            raise self._sends_left(ddi, vc, "called with NDIS_STATUS_SUCCESS")
        self._deactivated(vc, Status)
