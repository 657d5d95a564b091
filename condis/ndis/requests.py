"""OID requests and status indications (guide: querying-or-setting-information.md,
condis-miniport-driver-oid-requests.md, condis-protocol-driver-oid-requests.md,
condis-mcm-oid-requests.md, indicating-miniport-driver-status.md,
condis-miniport-driver-status-indications.md, handling-status-indications-in-a-condis-protocol-driver.md).

A protocol's NdisCoOidRequest with no AF goes to the miniport (MiniportCoOidRequest); with an AF it
goes to the protocol at the other end of the AF (ProtocolCoOidRequest of the call manager or
client). An MCM asks its client with NdisMCmOidRequest. A handler that returns a final status
finishes the request; one that returns NDIS_STATUS_PENDING finishes it with the matching
Complete call, which NDIS turns into the requester's ProtocolCoOidRequestComplete.
"""

from __future__ import annotations

from typing import Any

from condis._safe_repr import safe_repr
from condis.constants import DISPATCH_LEVEL
from condis.ndis import states as S
from condis.ndis.core import PENDING, SUCCESS
from condis.ndis.data import DataDdi
from condis.ndis.objects import SIDE_CLIENT, SIDE_CM, SIDE_MCM, SIDE_MINIPORT, Adapter, Af, Binding, Party, VcHandle
from condis.ndis.validate import oid_request_fault, structure_fault
from condis.structs import NDIS_OID_REQUEST, NDIS_STATUS_INDICATION


class OidRecord:
    """An OID request NDIS is waiting to see completed."""

    __slots__ = ("request", "target", "af", "vc", "party", "complete", "adapter", "done", "origin", "oid",
                 "in_handler")

    def __init__(self, request: Any, target: str, af: Af | None, vc: Any, party: Party | None,
                 complete: tuple, adapter: Adapter, origin: Binding | None = None) -> None:
        self.request = request
        self.target = target          # who must complete it: "miniport", "call manager", "MCM", "client"
        self.af = af
        self.vc = vc
        self.party = party
        self.complete = complete      # (handler, handler name, af ctx, vc ctx, party ctx) of the requester
        self.adapter = adapter
        self.done = False
        self.origin = origin          # the binding that made it with NdisCoOidRequest (None: an MCM's request)
        self.oid: int = request.Oid   # as issued: the requester's structure may change while it pends
        self.in_handler = True        # until the handler NDIS passed it to returns


class RequestDdi(DataDdi):
    """NdisCoOidRequest, NdisMCmOidRequest, their completions, and NdisMCoIndicateStatusEx."""

    def _request_arg(self, ddi: str, req: Any) -> None:
        self._param(ddi, oid_request_fault(req))
        if id(req) in self._oids:
            raise self._violate("condis.OidComplete", ddi, f"{safe_repr(req)} is already pending; a request is issued once "
                                "until it completes")

    def _contexts(self, side: str, af: Af | None, vc: Any, party: Party | None) -> tuple:
        if side == SIDE_CLIENT:
            return (af.client_context if af else None, vc.client_context if vc else None,
                    party.client_context if party else None)
        return (af.cm_context if af else None, vc.cm_context if vc else None, party.cm_context if party else None)

    def NdisCoOidRequest(self, NdisBindingHandle: Binding, NdisAfHandle: Af | None, NdisVcHandle: VcHandle | None,
                         NdisPartyHandle: Party | None, OidRequest: NDIS_OID_REQUEST) -> int:
        ddi = "NdisCoOidRequest"
        b = self._binding(ddi, NdisBindingHandle)
        af = None if NdisAfHandle is None else self._af(ddi, NdisAfHandle)
        self._request_arg(ddi, OidRequest)
        if af is None:
            side = SIDE_CM if b.cm is not None and b.cl is None else SIDE_CLIENT
        elif af.client is b:
            side = SIDE_CLIENT
        elif af.registered.cm_binding is b:
            side = SIDE_CM
        else:
            raise self._violate("condis.WrongCaller", ddi, f"{b!r} is neither the client nor the call manager of {af!r}")
        if side == SIDE_CLIENT:
            self._no_open_pending(ddi, b)
        vc = None
        if NdisVcHandle is not None:
            vc = self._vch(ddi, NdisVcHandle, (side,))
        party = None if NdisPartyHandle is None else self._party(ddi, NdisPartyHandle)
        if side == SIDE_CLIENT:
            table, field = b.cl, "ClOidRequestCompleteHandler"
        else:
            table, field = b.cm, "CmOidRequestCompleteHandler"
        done = getattr(table, field, None)
        complete = (done, "ProtocolCoOidRequestComplete") + self._contexts(side, af, vc, party)
        # The request's originator, which a status indication answering it names as its
        # DestinationHandle (ns-ndis-_ndis_status_indication.md, Remarks).
        OidRequest.RequestHandle = b
        if af is None:
            mp = b.adapter.miniport
            rec = OidRecord(OidRequest, SIDE_MINIPORT if mp.cm is None else SIDE_MCM, None, vc, party, complete,
                            b.adapter, b)
            return self._issue(rec, mp.co.CoOidRequestHandler, "MiniportCoOidRequest",
                               (b.adapter.context, vc.miniport_context if vc else None, OidRequest))
        if side == SIDE_CLIENT:
            target = SIDE_MCM if af.is_mcm else SIDE_CM
            fn = self._handler(af.cm, "CmOidRequestHandler", "ProtocolCoOidRequest", af.registered)
            args = self._contexts(SIDE_CM, af, vc, party)
        else:
            target = SIDE_CLIENT
            fn = self._handler(af.client.cl, "ClOidRequestHandler", "ProtocolCoOidRequest",
                               af.client.protocol)
            args = self._contexts(SIDE_CLIENT, af, vc, party)
        rec = OidRecord(OidRequest, target, af, vc, party, complete, b.adapter, b)
        return self._issue(rec, fn, "ProtocolCoOidRequest", args + (OidRequest,))

    def NdisMCmOidRequest(self, NdisAfHandle: Af, NdisVcHandle: VcHandle | None, NdisPartyHandle: Party | None,
                          NdisOidRequest: NDIS_OID_REQUEST) -> int:
        ddi = "NdisMCmOidRequest"
        af = self._af(ddi, NdisAfHandle)
        self._cm_family(ddi, af.is_mcm, af)
        self._request_arg(ddi, NdisOidRequest)
        vc = None if NdisVcHandle is None else self._vch(ddi, NdisVcHandle, (SIDE_MCM,))
        party = None if NdisPartyHandle is None else self._party(ddi, NdisPartyHandle)
        complete = (af.cm.CmOidRequestCompleteHandler, "ProtocolCoOidRequestComplete") + \
            self._contexts(SIDE_CM, af, vc, party)
        fn = self._handler(af.client.cl, "ClOidRequestHandler", "ProtocolCoOidRequest", af.client.protocol)
        rec = OidRecord(NdisOidRequest, SIDE_CLIENT, af, vc, party, complete, af.registered.adapter)
        return self._issue(rec, fn, "ProtocolCoOidRequest",
                           self._contexts(SIDE_CLIENT, af, vc, party) + (NdisOidRequest,))

    def _issue(self, rec: OidRecord, fn: Any, name: str, args: tuple) -> int:
        key = id(rec.request)
        self._oids[key] = rec
        status = self._result(name, self._up(fn, name, *args), 0)[0]
        rec.in_handler = False
        if status != PENDING:
            del self._oids[key]
        return status

    def _same_vc_and_party(self, ddi: str, rec: OidRecord | None, vc_handle: Any, party: Any) -> None:
        """A completion names the VC and party its request was made on (each Complete page's parameters)."""
        if rec is None:
            return      # not a pending request at all: _oid_complete says so
        vc = vc_handle.vc if isinstance(vc_handle, VcHandle) else None
        if vc is not rec.vc:
            made = f"VC {rec.vc.id:#x}" if rec.vc is not None else "no VC"
            raise self._violate("condis.OidComplete", ddi,
                                f"{rec.request!r} was made on {made}; it is completed for {safe_repr(vc_handle)}", vc=vc)
        if party is not rec.party:
            raise self._violate("condis.OidComplete", ddi,
                                f"{rec.request!r} was made for party {rec.party!r}; it is completed for {safe_repr(party)}",
                                vc=vc)

    def _oid_complete(self, ddi: str, req: Any, completer: str, status: int, adapter: Adapter | None = None) -> None:
        self._status_arg(ddi, status)
        rec = self._oids.get(id(req))
        if rec is None or rec.request is not req:
            raise self._violate("condis.OidComplete", ddi,
                                f"{safe_repr(req)} is not an OID request pending with a handler that returned "
                                "NDIS_STATUS_PENDING (never issued, or completed already)")
        if rec.target != completer or (adapter is not None and rec.adapter is not adapter):
            raise self._violate("condis.OidComplete", ddi,
                                f"the request was made to the {rec.target}; the {completer} cannot complete it")
        if rec.in_handler:
            # As for every request a handler may pend (README, "A Complete call is legal only after
            # the handler returned NDIS_STATUS_PENDING"): inside the handler, its return value is
            # the answer.
            raise self._violate("condis.CompleteWithoutPending", ddi,
                                f"{safe_repr(req)} is completed from inside the handler NDIS passed it to; the "
                                "handler returns the final status, or NDIS_STATUS_PENDING and completes it later")
        fn, name, af_ctx, vc_ctx, party_ctx = rec.complete
        if fn is None:
            raise self._violate("condis.MissingHandler", ddi, "the requester registered no OidRequestComplete handler")
        del self._oids[id(req)]
        self._up(fn, name, af_ctx, vc_ctx, party_ctx, req, status)
        waiting = rec.adapter.requests_done
        if waiting is not None and not waiting.done and not self._requests_at(rec.adapter):
            waiting.fire(SUCCESS)       # the last request outstanding at a paused adapter: its halt goes on

    def NdisCoOidRequestComplete(self, NdisAfHandle: Af, NdisVcHandle: VcHandle | None,
                                 NdisPartyHandle: Party | None, OidRequest: NDIS_OID_REQUEST, Status: int) -> None:
        ddi = "NdisCoOidRequestComplete"
        af = self._af(ddi, NdisAfHandle)
        rec = self._oids.get(id(OidRequest))
        completer = rec.target if rec is not None and rec.target in (SIDE_CLIENT, SIDE_CM) else SIDE_CM
        if NdisVcHandle is not None:
            self._vch(ddi, NdisVcHandle, (completer,))
        if rec is not None and rec.af is not af:
            raise self._violate("condis.OidComplete", ddi, f"{safe_repr(OidRequest)} was made on {rec.af!r}, not {af!r}")
        self._same_vc_and_party(ddi, rec, NdisVcHandle, NdisPartyHandle)
        self._oid_complete(ddi, OidRequest, completer, Status)

    def NdisMCmOidRequestComplete(self, NdisAfHandle: Af, NdisVcHandle: VcHandle | None, NdisPartyHandle: Party | None,
                                  OidRequest: NDIS_OID_REQUEST, Status: int) -> None:
        ddi = "NdisMCmOidRequestComplete"
        af = self._af(ddi, NdisAfHandle)
        self._cm_family(ddi, af.is_mcm, af)
        if NdisVcHandle is not None:
            self._vch(ddi, NdisVcHandle, (SIDE_MCM,))
        rec = self._oids.get(id(OidRequest))
        if rec is not None and rec.af is not af:
            raise self._violate("condis.OidComplete", ddi, f"{safe_repr(OidRequest)} was made on {rec.af!r}, not {af!r}")
        self._same_vc_and_party(ddi, rec, NdisVcHandle, NdisPartyHandle)
        self._oid_complete(ddi, OidRequest, SIDE_MCM, Status)

    def NdisMCoOidRequestComplete(self, MiniportAdapterHandle: Adapter, NdisMiniportVcHandle: VcHandle | None,
                                  Request: NDIS_OID_REQUEST, Status: int) -> None:
        ddi = "NdisMCoOidRequestComplete"
        if self._irql > DISPATCH_LEVEL:
            raise self._at_dirql(ddi)
        ad = MiniportAdapterHandle
        if type(ad) is not Adapter or ad.ndis is not self or ad.state == S.ADAPTER_HALTED:
            raise self._bad_handle(ddi, "MiniportAdapterHandle", ad, Adapter)
        if NdisMiniportVcHandle is not None:
            self._vch(ddi, NdisMiniportVcHandle, (SIDE_MINIPORT, SIDE_MCM))
        self._same_vc_and_party(ddi, self._oids.get(id(Request)), NdisMiniportVcHandle, None)
        self._oid_complete(ddi, Request, SIDE_MCM if ad.is_mcm else SIDE_MINIPORT, Status, ad)

    # ------------------------------------------------------------------ status indications

    def NdisMCoIndicateStatusEx(self, MiniportAdapterHandle: Adapter, NdisVcHandle: VcHandle | None,
                                StatusIndication: NDIS_STATUS_INDICATION) -> None:
        """Pass a miniport's status to the protocols above it: for a VC, the protocols that share the
        VC; else every binding of the adapter (guide: condis-miniport-driver-status-indications.md).

        ddi: ns-ndis-_ndis_status_indication.md — a DestinationHandle (the RequestHandle of the OID
        request the status answers: NDIS sets it to the requesting binding) sends the status to that
        driver only.
        """
        ddi = "NdisMCoIndicateStatusEx"
        if self._irql > DISPATCH_LEVEL:
            raise self._at_dirql(ddi)
        ad = MiniportAdapterHandle
        if type(ad) is not Adapter or ad.ndis is not self or ad.state == S.ADAPTER_HALTED:
            raise self._bad_handle(ddi, "MiniportAdapterHandle", ad, Adapter)
        self._param(ddi, structure_fault(StatusIndication, NDIS_STATUS_INDICATION, "StatusIndication"))
        dest = StatusIndication.DestinationHandle
        if dest is not None and (type(dest) is not Binding or dest not in ad.bindings):
            raise self._violate("condis.BadParameter", ddi,
                                f"StatusIndication.DestinationHandle must be NULL or the RequestHandle of a request "
                                f"a binding of {ad!r} made; got {safe_repr(dest)}")
        if NdisVcHandle is None:
            for b in list(ad.bindings):
                if b.state in (S.BINDING_PAUSED, S.BINDING_RUNNING) and (dest is None or b is dest):
                    self._up(b.co.CoStatusHandlerEx, "ProtocolCoStatusEx", b.context, None, StatusIndication)
            return
        vc = self._vch(ddi, NdisVcHandle, (SIDE_MINIPORT, SIDE_MCM))
        cm = vc.cm_binding
        if cm is not None and (dest is None or cm is dest):
            self._up(cm.co.CoStatusHandlerEx, "ProtocolCoStatusEx", cm.context, vc.cm_context, StatusIndication)
        if vc.af is not None:
            client = vc.af.client
            if dest is None or client is dest:
                self._up(client.co.CoStatusHandlerEx, "ProtocolCoStatusEx", client.context, vc.client_context,
                         StatusIndication)
