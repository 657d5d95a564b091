"""Call control shared by the two sample call managers (the MCM and the stand-alone one).

It is the signaling half of an ATM-like call manager: it turns client requests (ProtocolCmXxx)
into signaling messages and signaling messages into Ndis(M)CmXxx calls. What differs between an
MCM and a stand-alone call manager is behind a few methods the drivers provide: how a message
reaches the wire, how a VC is created, activated, deactivated and deleted, and which family of
NDIS functions (NdisMCm* or NdisCm*) to call (guide: mcm-drivers-vs--call-managers.md).

Local signaling states of a call (a small subset of Q.2931's):
    INITIATED     we sent SETUP / ADD PARTY, waiting for CONNECT or RELEASE COMPLETE
    PRESENT       the remote's SETUP is offered to our client
    CONNECT_REQ   our client accepted; we sent CONNECT, waiting for CONNECT ACK
    ACTIVE        the call is up
    RELEASE_REQ   we sent RELEASE / DROP PARTY, waiting for RELEASE COMPLETE
    RELEASE_IND   the remote released; our client was told, we wait for its close
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from condis import _status as st
from condis.drivers import signaling as sig
from condis.structs import CO_CALL_PARAMETERS, NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS

SUCCESS = st.NDIS_STATUS_SUCCESS
PENDING = st.NDIS_STATUS_PENDING

INITIATED, PRESENT, CONNECT_REQ, ACTIVE, RELEASE_REQ, RELEASE_IND, NULL = (
    "INITIATED", "PRESENT", "CONNECT_REQ", "ACTIVE", "RELEASE_REQ", "RELEASE_IND", "NULL")

_CAUSE_STATUS = {
    sig.CAUSE_NORMAL: st.NDIS_STATUS_SUCCESS,
    sig.CAUSE_REJECTED: st.NDIS_STATUS_NOT_ACCEPTED,
    sig.CAUSE_NO_ROUTE: st.NDIS_STATUS_NO_ROUTE_TO_DESTINATION,
}


class AfCtx:
    """CallMgrAfContext: one client's open of our AF."""

    def __init__(self, port: Port, ndis_af: Any) -> None:
        self.port = port
        self.ndis_af = ndis_af
        self.saps: list[SapCtx] = []


class SapCtx:
    """CallMgrSapContext."""

    def __init__(self, af: AfCtx, ndis_sap: Any, address: bytes) -> None:
        self.af = af
        self.ndis_sap = ndis_sap
        self.address = address


class PartyCtx:
    """CallMgrPartyContext: one leaf of a multipoint call."""

    def __init__(self, vc: VcCtx, ndis_party: Any, endpoint: int, vci: int) -> None:
        self.vc = vc
        self.ndis_party = ndis_party
        self.endpoint = endpoint
        self.vci = vci
        self.state = INITIATED
        self.params: CO_CALL_PARAMETERS | None = None


class VcCtx:
    """CallMgrVcContext (and, in the MCM, MiniportVcContext): one VC and the call on it."""

    def __init__(self, port: Port, af: AfCtx | None, mine: bool) -> None:
        self.port = port
        self.af = af
        self.ndis_vc: Any = None
        self.created_by_us = mine
        self.ref = 0
        self.placed_here = False
        self.state = NULL
        self.params: CO_CALL_PARAMETERS | None = None
        self.vci = 0
        self.parties: list[PartyCtx] = []
        self.closing_party: PartyCtx | None = None
        self.remote_released = False
        self.endpoint = 0               # the leaf reference of an incoming call that is one party of a remote's
        self.then: Callable[[int], None] | None = None   # what to do when activation/deactivation completes
        self.waiting: list[tuple[str, Callable[[int], None]]] = []   # requests queued behind it

    @property
    def vcis(self) -> list[int]:
        if self.parties:
            return [p.vci for p in self.parties if p.state in (ACTIVE, RELEASE_REQ, RELEASE_IND)]
        return [self.vci] if self.vci else []

    def key(self, endpoint: int = 0) -> tuple[int, bool, int]:
        return (self.ref, self.placed_here, endpoint)


class Port:
    """Per-adapter (MCM) or per-binding (call manager) state."""

    def __init__(self, odd: bool) -> None:
        self.handle: Any = None         # the NDIS handle work items are allocated on
        self.afs: list[AfCtx] = []
        self.calls: dict[tuple[int, bool, int], tuple[VcCtx, PartyCtx | None]] = {}
        self.vcis = sig.VciPool(odd)
        self.next_ref = 1
        self.next_endpoint = 1


class CallControl(ABC):
    """The call-manager handlers both samples register in NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS."""

    prefix = "NdisCm"   # NdisMCm for the MCM
    # When a pended close is confirmed: deactivate the VC first, then complete the close (cm-20, and the
    # ProtocolClCloseCallComplete page), or complete first and then deactivate (fig1-20). The samples
    # follow the figure of their kind; a client must cope with both (nf-ndis-ndiscodeletevc.md).
    deactivate_before_close_complete = True

    def __init__(self) -> None:
        self.ndis: Any = None

    # ---- what each driver provides ----------------------------------------------------------
    @abstractmethod
    def send_message(self, port: Port, msg: sig.Message) -> None:
        """Put a signaling message on the wire toward the peer."""

    @abstractmethod
    def create_vc(self, port: Port, af: AfCtx, vc: VcCtx) -> int:
        """Create a VC for an incoming call on ``af`` and store its handle in ``vc.ndis_vc``."""

    @abstractmethod
    def delete_vc(self, vc: VcCtx) -> int:
        """Delete a VC this call manager created."""

    @abstractmethod
    def activate(self, vc: VcCtx, then: Callable[[int], None]) -> None:
        """Activate (or re-activate) the VC with vc.params, then call ``then(status)``."""

    @abstractmethod
    def deactivate(self, vc: VcCtx, then: Callable[[int], None]) -> None:
        """Deactivate the VC, then call ``then(status)``."""

    def later(self, port: Port, fn: Callable[[], None]) -> None:
        """Run ``fn`` soon, outside the current handler, from an NDIS work item (PASSIVE_LEVEL)."""
        item = self.ndis.NdisAllocateIoWorkItem(port.handle)

        def run(ctx: Any, handle: Any) -> None:
            self.ndis.NdisFreeIoWorkItem(handle)
            fn()
        self.ndis.NdisQueueIoWorkItem(item, run, None)

    def call_manager_handlers(self) -> NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS:
        """The table both samples hand NdisSetOptionalHandlers from their SetOptions handler."""
        return NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS(
            CmCreateVcHandler=self.CmCreateVc, CmDeleteVcHandler=self.CmDeleteVc, CmOpenAfHandler=self.CmOpenAf,
            CmCloseAfHandler=self.CmCloseAf, CmRegisterSapHandler=self.CmRegisterSap,
            CmDeregisterSapHandler=self.CmDeregisterSap, CmMakeCallHandler=self.CmMakeCall,
            CmCloseCallHandler=self.CmCloseCall, CmIncomingCallCompleteHandler=self.CmIncomingCallComplete,
            CmAddPartyHandler=self.CmAddParty, CmDropPartyHandler=self.CmDropParty,
            CmActivateVcCompleteHandler=self.CmActivateVcComplete,
            CmDeactivateVcCompleteHandler=self.CmDeactivateVcComplete, CmModifyCallQoSHandler=self.CmModifyCallQoS,
            CmOidRequestHandler=self.CmOidRequest, CmOidRequestCompleteHandler=self.CmOidRequestComplete,
            CmNotifyCloseAfCompleteHandler=self.CmNotifyCloseAfComplete)

    # ---- helpers --------------------------------------------------------------------------
    def cm(self, name: str) -> Callable[..., Any]:
        """The Ndis(M)Cm function of this call manager's family (NdisCmXxx or NdisMCmXxx)."""
        return getattr(self.ndis, self.prefix + name)

    def _send(self, vc: VcCtx, kind: str, endpoint: int = 0, cause: int = 0, vci: int = 0,
              address: bytes = b"", rate: int = 0) -> None:
        self.send_message(vc.port, sig.Message(kind, vc.ref, vc.placed_here, vci, cause, endpoint, address, rate))

    def _forget(self, vc: VcCtx, endpoint: int = 0) -> None:
        vc.port.calls.pop(vc.key(endpoint), None)

    def _media(self, vc: VcCtx) -> None:
        if vc.params is not None and vc.params.MediaParameters is not None:
            vc.params.MediaParameters.MediaSpecific = sig.vcis_parameter(vc.vcis)

    # ---- AFs and SAPs (registering-and-opening-an-address-family.md, registering-a-sap.md) ---
    @abstractmethod
    def port_of(self, binding_context: Any) -> Port:
        """The Port behind the CallMgrBindingContext NDIS passes ProtocolCmOpenAf."""

    def CmOpenAf(self, CallMgrBindingContext: Any, AddressFamily: Any, NdisAfHandle: Any) -> tuple[int, Any]:
        port = self.port_of(CallMgrBindingContext)
        if AddressFamily.AddressFamily != sig.AF:
            return st.NDIS_STATUS_BAD_VERSION, None
        af = AfCtx(port, NdisAfHandle)
        port.afs.append(af)
        return SUCCESS, af

    def CmCloseAf(self, CallMgrAfContext: AfCtx) -> int:
        CallMgrAfContext.port.afs.remove(CallMgrAfContext)
        return SUCCESS

    def CmRegisterSap(self, CallMgrAfContext: AfCtx, Sap: Any, NdisSapHandle: Any) -> tuple[int, Any]:
        port = CallMgrAfContext.port
        if any(s.address == Sap.Sap for a in port.afs for s in a.saps):
            return st.NDIS_STATUS_SAP_IN_USE, None
        sap = SapCtx(CallMgrAfContext, NdisSapHandle, bytes(Sap.Sap))
        CallMgrAfContext.saps.append(sap)
        return SUCCESS, sap

    def CmDeregisterSap(self, CallMgrSapContext: SapCtx) -> int:
        CallMgrSapContext.af.saps.remove(CallMgrSapContext)
        return SUCCESS

    # ---- VCs the client creates (creating-a-vc.md) ----------------------------------------
    def CmCreateVc(self, ProtocolAfContext: AfCtx, NdisVcHandle: Any) -> tuple[int, Any]:
        vc = VcCtx(ProtocolAfContext.port, ProtocolAfContext, mine=False)
        vc.ndis_vc = NdisVcHandle
        return SUCCESS, vc

    def CmDeleteVc(self, ProtocolVcContext: VcCtx) -> int:
        return SUCCESS

    # ---- outgoing calls (making-a-call.md) -------------------------------------------------
    def CmMakeCall(self, CallMgrVcContext: VcCtx, CallParameters: CO_CALL_PARAMETERS, NdisPartyHandle: Any
                   ) -> tuple[int, Any]:
        vc = CallMgrVcContext
        port = vc.port
        vc.ref = port.next_ref
        port.next_ref += 1
        vc.placed_here = True
        vc.params = CallParameters
        vc.state = INITIATED
        vc.remote_released = False
        vc.vci = port.vcis.take()
        party = None
        endpoint = 0
        if NdisPartyHandle is not None:
            endpoint = port.next_endpoint
            port.next_endpoint += 1
            party = PartyCtx(vc, NdisPartyHandle, endpoint, vc.vci)
            vc.parties = [party]
        port.calls[vc.key(endpoint)] = (vc, party)
        self._send(vc, sig.SETUP, endpoint, vci=vc.vci, address=sig.called_address(CallParameters),
                   rate=sig.rate_of(CallParameters))
        return PENDING, party

    def _connected(self, vc: VcCtx, party: PartyCtx | None, msg: sig.Message) -> None:
        """CONNECT for a call we placed: activate the VC, then complete the make-call (or add-party)."""
        self._send(vc, sig.CONNECT_ACK, msg.endpoint)
        if party is not None and vc.state == ACTIVE:       # an added party answered
            party.state = ACTIVE
            self._media(vc)
            self.activate(vc, lambda status: self._party_added(party, status))
            return
        vc.state = ACTIVE
        if party is not None:
            party.state = ACTIVE
        self._media(vc)

        def done(status: int) -> None:
            self.cm("MakeCallComplete")(status, vc.ndis_vc, party.ndis_party if party else None, party, vc.params)
        self.activate(vc, done)

    def _party_added(self, party: PartyCtx, status: int) -> None:
        self.cm("AddPartyComplete")(status, party.ndis_party, party, party.params)

    def _placed_call_failed(self, vc: VcCtx, party: PartyCtx | None, cause: int) -> None:
        status = _CAUSE_STATUS.get(cause, st.NDIS_STATUS_FAILURE) or st.NDIS_STATUS_FAILURE
        if party is not None and vc.state == ACTIVE:        # an added party was refused
            self._forget(vc, party.endpoint)
            vc.parties.remove(party)
            self.cm("AddPartyComplete")(status, party.ndis_party, party, party.params)
            return
        self._forget(vc, party.endpoint if party else 0)
        vc.state = NULL
        vc.parties = []
        self.cm("MakeCallComplete")(status, vc.ndis_vc, party.ndis_party if party else None, party, vc.params)

    # ---- incoming calls (indicating-an-incoming-call.md) -----------------------------------
    def _incoming_setup(self, port: Port, msg: sig.Message) -> None:
        sap = next((s for a in port.afs for s in a.saps if s.address == msg.address), None)
        if sap is None:
            self.send_message(port, sig.Message(sig.RELEASE_COMPLETE, msg.ref, False, 0, sig.CAUSE_NO_ROUTE,
                                                msg.endpoint))
            return
        vc = VcCtx(port, sap.af, mine=True)
        vc.ref, vc.placed_here, vc.vci, vc.state = msg.ref, False, msg.vci, PRESENT
        vc.params = sig.call_parameters(msg.address, msg.rate or 1_000_000, msg.vci)
        vc.endpoint = msg.endpoint
        if self.create_vc(port, sap.af, vc) != SUCCESS:
            self.send_message(port, sig.Message(sig.RELEASE_COMPLETE, msg.ref, False, 0, sig.CAUSE_REJECTED,
                                                msg.endpoint))
            return
        port.calls[vc.key(msg.endpoint)] = (vc, None)

        def offer(status: int) -> None:
            if status != SUCCESS:
                self._reject(vc)
                return
            result = self.cm("DispatchIncomingCall")(sap.ndis_sap, vc.ndis_vc, vc.params)
            if result != PENDING:
                self.CmIncomingCallComplete(result, vc, vc.params)
        self.activate(vc, offer)

    def CmIncomingCallComplete(self, Status: int, CallMgrVcContext: VcCtx, CallParameters: Any) -> None:
        vc = CallMgrVcContext
        if Status != SUCCESS:
            self._reject(vc)
            return
        if vc.remote_released:         # the caller gave up while our client was deciding
            vc.state = RELEASE_IND
            self.cm("DispatchIncomingCloseCall")(SUCCESS, vc.ndis_vc, None, 0)
            return
        vc.state = CONNECT_REQ
        self._send(vc, sig.CONNECT, vc.endpoint, vci=vc.vci)

    def _reject(self, vc: VcCtx) -> None:
        if not vc.remote_released:
            self._send(vc, sig.RELEASE_COMPLETE, vc.endpoint, cause=sig.CAUSE_REJECTED)
        self._forget(vc, vc.endpoint)
        vc.state = NULL
        self._teardown(vc)

    def _connect_ack(self, vc: VcCtx) -> None:
        if vc.state == CONNECT_REQ:
            vc.state = ACTIVE
            self.cm("DispatchCallConnected")(vc.ndis_vc)

    # ---- QoS (client-initiated-request-to-change-call-parameters.md) ------------------------
    def CmModifyCallQoS(self, CallMgrVcContext: VcCtx, CallParameters: CO_CALL_PARAMETERS) -> int:
        vc = CallMgrVcContext
        previous = vc.params
        vc.params = CallParameters
        self._media(vc)

        def done(status: int) -> None:
            if status != SUCCESS:
                vc.params = previous
            self.cm("ModifyCallQoSComplete")(status, vc.ndis_vc, vc.params)
        self.later(vc.port, lambda: self.activate(vc, done))
        return PENDING

    # ---- closing calls (client-initiated-request-to-close-a-call.md, incoming-request-to-close-a-call.md)
    def CmCloseCall(self, CallMgrVcContext: VcCtx, CallMgrPartyContext: PartyCtx | None, CloseData: Any,
                    Size: int) -> int:
        vc = CallMgrVcContext
        party = CallMgrPartyContext
        endpoint = party.endpoint if party else vc.endpoint
        if vc.state == RELEASE_IND:
            # The remote released first: acknowledge it, and the close is done here and now.
            self._send(vc, sig.RELEASE_COMPLETE, endpoint, cause=sig.CAUSE_NORMAL)
            self._forget(vc, endpoint)
            vc.state = NULL
            self.later(vc.port, lambda: self._teardown(vc))
            return SUCCESS
        vc.state = RELEASE_REQ
        vc.closing_party = party
        if party is not None:
            party.state = RELEASE_REQ
        self._send(vc, sig.RELEASE, endpoint, cause=sig.CAUSE_NORMAL)
        return PENDING

    def _close_confirmed(self, vc: VcCtx, endpoint: int) -> None:
        """RELEASE COMPLETE (or a crossing RELEASE) for our pended close: complete it, then free the VC."""
        self._forget(vc, endpoint)
        vc.state = NULL
        party = vc.closing_party
        vc.closing_party = None

        def complete() -> None:
            self.cm("CloseCallComplete")(SUCCESS, vc.ndis_vc, party.ndis_party if party else None)
        if not self.deactivate_before_close_complete:
            complete()
            self._teardown(vc)
            return

        def deactivated(status: int) -> None:
            complete()
            if vc.created_by_us:
                self.delete_vc(vc)
        self.deactivate(vc, deactivated)

    def _remote_release(self, vc: VcCtx, party: PartyCtx | None, msg: sig.Message) -> None:
        if party is not None and len([p for p in vc.parties if p.state == ACTIVE]) > 1 and vc.state == ACTIVE:
            # one leaf of our multipoint call hung up (incoming-request-to-drop-a-party-...md)
            party.state = RELEASE_IND
            self.cm("DispatchIncomingDropParty")(SUCCESS, party.ndis_party, None, 0)
            return
        if vc.state == RELEASE_REQ:
            self._close_confirmed(vc, msg.endpoint)     # clearing collision: both sides released
            return
        if vc.state == PRESENT:
            vc.remote_released = True                   # handled when our client answers
            return
        if vc.state == INITIATED:
            self._placed_call_failed(vc, party, msg.cause or sig.CAUSE_REJECTED)
            return
        vc.state = RELEASE_IND
        if party is not None:
            party.state = RELEASE_IND
        status = _CAUSE_STATUS.get(msg.cause, st.NDIS_STATUS_FAILURE)
        self.cm("DispatchIncomingCloseCall")(status, vc.ndis_vc, None, 0)

    def _teardown(self, vc: VcCtx) -> None:
        """After a call: deactivate the VC, and delete it if we created it (deactivating-a-vc.md)."""
        def deactivated(status: int) -> None:
            if vc.created_by_us:
                self.delete_vc(vc)
        if vc.ndis_vc is None:
            return
        self.deactivate(vc, deactivated)

    # ---- parties (adding-a-party-..., dropping-a-party-...) ---------------------------------
    def CmAddParty(self, CallMgrVcContext: VcCtx, CallParameters: CO_CALL_PARAMETERS, NdisPartyHandle: Any
                   ) -> tuple[int, Any]:
        vc = CallMgrVcContext
        port = vc.port
        party = PartyCtx(vc, NdisPartyHandle, port.next_endpoint, port.vcis.take())
        port.next_endpoint += 1
        party.params = CallParameters
        vc.parties.append(party)
        port.calls[vc.key(party.endpoint)] = (vc, party)
        self._send(vc, sig.ADD_PARTY, party.endpoint, vci=party.vci, address=sig.called_address(CallParameters),
                   rate=sig.rate_of(CallParameters))
        return PENDING, party

    def CmDropParty(self, CallMgrPartyContext: PartyCtx, CloseData: Any, Size: int) -> int:
        party = CallMgrPartyContext
        vc = party.vc
        if party.state == RELEASE_IND:
            self._send(vc, sig.RELEASE_COMPLETE, party.endpoint, cause=sig.CAUSE_NORMAL)
            self._party_gone(party)
            return SUCCESS
        party.state = RELEASE_REQ
        self._send(vc, sig.DROP_PARTY, party.endpoint, cause=sig.CAUSE_NORMAL)
        return PENDING

    def _party_gone(self, party: PartyCtx) -> None:
        vc = party.vc
        self._forget(vc, party.endpoint)
        vc.parties.remove(party)
        self._media(vc)
        self.later(vc.port, lambda: self.activate(vc, lambda status: None))

    def _party_dropped(self, party: PartyCtx) -> None:
        self._party_gone(party)
        self.cm("DropPartyComplete")(SUCCESS, party.ndis_party)

    # ---- activation completions NDIS reports for pended requests ------------------------
    def CmActivateVcComplete(self, Status: int, CallMgrVcContext: VcCtx, CallParameters: Any) -> None:
        self._vc_request_done(CallMgrVcContext, Status)

    def CmDeactivateVcComplete(self, Status: int, CallMgrVcContext: VcCtx) -> None:
        self._vc_request_done(CallMgrVcContext, Status)

    def _vc_request_done(self, vc: VcCtx, status: int) -> None:
        then, vc.then = vc.then, None
        if then is not None:
            then(status)
        # NDIS takes one activation or deactivation of a VC at a time (activating-a-vc.md): start the next.
        if vc.then is None and vc.waiting:
            kind, then = vc.waiting.pop(0)
            getattr(self, kind)(vc, then)

    # ---- signaling input -----------------------------------------------------------------
    def on_message(self, port: Port, msg: sig.Message) -> None:
        """A signaling message arrived from the peer."""
        key = (msg.ref, not msg.mine, msg.endpoint)
        if msg.kind in (sig.SETUP, sig.ADD_PARTY) and msg.mine:
            if key not in port.calls:
                self._incoming_setup(port, msg)
            return
        entry = port.calls.get(key)
        if entry is None:
            return
        vc, party = entry
        if party is None and vc.parties:
            party = next((p for p in vc.parties if p.endpoint == msg.endpoint), None)
        kind = msg.kind
        if kind == sig.CONNECT:
            self._connected(vc, party, msg)
        elif kind == sig.CONNECT_ACK:
            self._connect_ack(vc)
        elif kind in (sig.RELEASE, sig.DROP_PARTY):
            self._remote_release(vc, party, msg)
        elif kind == sig.RELEASE_COMPLETE:
            if party is not None and party.state == RELEASE_REQ and vc.closing_party is not party:
                self._party_dropped(party)
            elif vc.state == RELEASE_REQ:
                self._close_confirmed(vc, msg.endpoint)
            elif vc.state == INITIATED or (party is not None and party.state == INITIATED):
                self._placed_call_failed(vc, party, msg.cause)
