"""Call control shared by the two sample call managers (the MCM and the stand-alone one).

It is the signaling half of an ATM-like call manager: it turns client requests (ProtocolCmXxx)
into signaling messages and signaling messages into Ndis(M)CmXxx calls. What differs between an
MCM and a stand-alone call manager is behind a few methods the drivers provide: how a message
reaches the wire, how a VC is created, activated, deactivated and deleted, and which family of
NDIS functions (NdisMCm* or NdisCm*) to call (guide: mcm-drivers-vs--call-managers.md).

Local signaling states of a call, and of each party of a multipoint call (a small subset of Q.2931's):
    INITIATED     we sent SETUP / ADD PARTY, waiting for CONNECT or RELEASE COMPLETE
    PRESENT       the remote's SETUP is offered to our client
    CONNECT_REQ   our client accepted; we sent CONNECT, waiting for CONNECT ACK
    ACTIVATING    the remote answered our SETUP / ADD PARTY; the VC is being activated and our
                  client's make-call (add-party) is still pending
    ACTIVE        the call is up
    RELEASE_REQ   we sent RELEASE / DROP PARTY, waiting for RELEASE COMPLETE
    RELEASE_IND   the remote released; our client was told, we wait for its close
    CLEARING      our client's request already failed; we released the call toward the remote
                  and wait for RELEASE COMPLETE, with nothing left to tell NDIS

The wire may lose, duplicate or delay a message, so signaling does what Q.2931 does about it:
- A message that needs an answer (SETUP, ADD PARTY, CONNECT, RELEASE, DROP PARTY) is kept until
  the answer comes and sent again from the port's timer while it does not, at most ``TRIES``
  times in all (Q.2931's T303, T313 and T308). Then the call is given up cleanly: a make-call
  fails, an accepted call is closed as if the caller had released it, a close completes.
- Unless the peer has sent nothing at all since the message was first sent: then the link itself
  is down, and the request is held, not failed, and sent again when the peer is heard from.
- A call manager going away (halt, unbind) says RESTART; the peer clears every call it has with it
  as if each had been cleared by RELEASE COMPLETE, and no longer holds requests for it (a request
  to it fails once its tries are used up).
- A called side whose client takes its time answers a retransmitted SETUP with CALL PROCEEDING;
  the caller then stops retransmitting and waits for the client's answer without a timer (Q.2931's
  T310 is long), and the called side clears such a call with RELEASE rather than RELEASE COMPLETE.
- A message for a call we do not know (a duplicate, or a retransmission whose answer was lost) is
  answered with RELEASE COMPLETE, except a RELEASE COMPLETE itself; a duplicate for a call we
  know is recognised by the call's state and ignored (or, for CONNECT, acknowledged again). A
  SETUP for a call cleared a moment ago is such a late retransmission, not a new call: the last
  ``REMEMBERED`` calls the peer placed are remembered after they are cleared.
"""

from __future__ import annotations

import sys
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from condis import _status as st
from condis.drivers import signaling as sig
from condis.structs import CO_CALL_PARAMETERS, NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS, NDIS_TIMER_CHARACTERISTICS

SUCCESS = st.NDIS_STATUS_SUCCESS
PENDING = st.NDIS_STATUS_PENDING

INITIATED, PRESENT, CONNECT_REQ, ACTIVATING, ACTIVE, RELEASE_REQ, RELEASE_IND, CLEARING, NULL = (
    "INITIATED", "PRESENT", "CONNECT_REQ", "ACTIVATING", "ACTIVE", "RELEASE_REQ", "RELEASE_IND", "CLEARING",
    "NULL")

RETRANSMIT_100NS = -500     # the port timer ticks every 50 us while a message waits for its answer
TRIES = 3                   # a message is sent at most this many times before the call is given up
REMEMBERED = 64             # cleared calls of the peer's whose late SETUPs are recognised

_CAUSE_STATUS = {
    sig.CAUSE_NORMAL: st.NDIS_STATUS_SUCCESS,
    sig.CAUSE_REJECTED: st.NDIS_STATUS_NOT_ACCEPTED,
    sig.CAUSE_NO_ROUTE: st.NDIS_STATUS_NO_ROUTE_TO_DESTINATION,
    sig.CAUSE_RESOURCES: st.NDIS_STATUS_RESOURCES,
}

_RELEASES = (sig.RELEASE, sig.DROP_PARTY)
# which messages from the peer answer the message we are waiting on
_ANSWERED_BY = {
    sig.SETUP: {sig.CALL_PROCEEDING, sig.CONNECT, *_RELEASES, sig.RELEASE_COMPLETE},
    sig.ADD_PARTY: {sig.CALL_PROCEEDING, sig.CONNECT, *_RELEASES, sig.RELEASE_COMPLETE},
    sig.CONNECT: {sig.CONNECT_ACK, *_RELEASES, sig.RELEASE_COMPLETE},
    sig.RELEASE: {*_RELEASES, sig.RELEASE_COMPLETE},
    sig.DROP_PARTY: {*_RELEASES, sig.RELEASE_COMPLETE},
}


def _failure(cause: int) -> int:
    """The status a failed request completes with, for the cause the remote gave."""
    status = _CAUSE_STATUS.get(cause, st.NDIS_STATUS_FAILURE)
    return st.NDIS_STATUS_FAILURE if status == SUCCESS else status


class AfCtx:
    """CallMgrAfContext: one client's open of our AF."""

    __slots__ = ("port", "ndis_af", "saps")

    def __init__(self, port: Port, ndis_af: Any) -> None:
        self.port = port
        self.ndis_af = ndis_af
        self.saps: list[SapCtx] = []


class SapCtx:
    """CallMgrSapContext."""

    __slots__ = ("af", "ndis_sap", "address")

    def __init__(self, af: AfCtx, ndis_sap: Any, address: bytes) -> None:
        self.af = af
        self.ndis_sap = ndis_sap
        self.address = address


class PartyCtx:
    """CallMgrPartyContext: one leaf of a multipoint call."""

    __slots__ = ("vc", "ndis_party", "endpoint", "vci", "state", "params", "remote_released", "held_close")

    def __init__(self, vc: VcCtx, ndis_party: Any, endpoint: int, vci: int) -> None:
        self.vc = vc
        self.ndis_party = ndis_party
        self.endpoint = endpoint
        self.vci = vci
        self.state = INITIATED
        self.params: CO_CALL_PARAMETERS | None = None
        self.remote_released = False
        self.held_close: int | None = None   # the cause of a release held until the other leaves are dropped


class VcCtx:
    """CallMgrVcContext (and, in the MCM, MiniportVcContext): one VC and the call on it.

    A call manager holds one for every call up, so it has slots rather than a __dict__, and its
    lists of parties and of queued requests are a shared empty tuple until something is put in them.
    """

    __slots__ = ("port", "af", "ndis_vc", "created_by_us", "ref", "placed_here", "state", "params", "vci",
                 "parties", "closing_party", "remote_released", "release_cause", "proceeding", "endpoint", "then",
                 "waiting", "mapped")

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
        self.parties: list[PartyCtx] | tuple[()] = ()   # a list once the call is multipoint
        self.closing_party: PartyCtx | None = None
        self.remote_released = False
        self.release_cause = 0
        self.proceeding = False         # we told the caller CALL PROCEEDING: its client is deciding
        self.endpoint = 0               # the leaf reference of an incoming call that is one party of a remote's
        self.then: Callable[[int], None] | None = None   # what to do when activation/deactivation completes
        self.waiting: list[tuple[str, Callable[[int], None]]] | tuple[()] = ()   # requests queued behind it
        self.mapped: tuple[int, ...] = ()   # MCM: the VCIs the NIC delivers to this VC (CellNic.map)

    @property
    def vcis(self) -> list[int]:
        if self.parties:
            return [p.vci for p in self.parties if p.state in (ACTIVATING, ACTIVE, RELEASE_REQ, RELEASE_IND)]
        return [self.vci] if self.vci else []

    def key(self, endpoint: int = 0) -> tuple[int, bool, int]:
        return (self.ref, self.placed_here, endpoint)


@dataclass(slots=True)
class Unanswered:
    """A message the peer has not answered yet."""

    msg: sig.Message
    heard: int              # how many messages the peer had sent us when this one was first sent
    sent: int = 1
    fresh: bool = True      # sent since the timer last ticked: not due for retransmission yet


class Port:
    """Per-adapter (MCM) or per-binding (call manager) state."""

    def __init__(self, odd: bool) -> None:
        self.handle: Any = None         # the NDIS handle work items and the timer are allocated on
        self.afs: list[AfCtx] = []
        # Every call we know, by its key (VcCtx.key): the call's VcCtx, or for one leaf of a multipoint
        # call we placed, that leaf's PartyCtx (whose vc is the call's).
        self.calls: dict[tuple[int, bool, int], VcCtx | PartyCtx] = {}
        self.vcis = sig.VciPool(odd)
        self.next_ref = 1
        self.next_endpoint = 1
        self.timer: Any = None          # retransmits unanswered messages; retries work that found no work item
        self.timer_armed = False
        self.unanswered: dict[tuple[int, bool, int], Unanswered] = {}
        self.held: dict[tuple[int, bool, int], Unanswered] = {}    # unanswered while the peer is silent
        self.cleared: dict[tuple[int, bool, int], None] = {}       # the peer's calls cleared last, oldest first
        self.heard = 0                  # messages received from the peer
        self.peer_gone = False          # the peer said RESTART and has said nothing since
        self.deferred: list[Callable[[], None]] = []
        self.queued = 0                 # work items queued and not yet run


class CallControl(ABC):
    """The call-manager handlers both samples register in NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS."""

    prefix = "NdisCm"   # NdisMCm for the MCM
    # When a pended close is confirmed: deactivate the VC first, then complete the close (cm-20, and the
    # ProtocolClCloseCallComplete page), or complete first and then deactivate (fig1-20). The samples
    # follow the figure of their kind; a client must cope with both (nf-ndis-ndiscodeletevc.md).
    deactivate_before_close_complete = True

    def __init__(self) -> None:
        self.ndis: Any = None
        self._cm_names: dict[str, str] = {}     # "MakeCallComplete" -> "NdisMCmMakeCallComplete"

    # ---- what each driver provides ----------------------------------------------------------
    @abstractmethod
    def send_message(self, port: Port, msg: sig.Message) -> None:
        """Put a signaling message on the wire toward the peer (if it cannot, the message is lost)."""

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
        if item is None:
            # No work item for now (nf-ndis-ndisallocateioworkitem.md: NULL when out of resources):
            # the port's timer tries again.
            port.deferred.append(fn)
            self._arm(port)
            return

        def run(ctx: Any, handle: Any) -> None:
            self.ndis.NdisFreeIoWorkItem(handle)
            port.queued -= 1
            fn()
        port.queued += 1
        self.ndis.NdisQueueIoWorkItem(item, run, None)

    def when_idle(self, port: Port, fn: Callable[[], None]) -> None:
        """Run ``fn`` (from a work item) once no other work of the port is queued: what closes the
        port must not leave a work item queued on it (halting-a-miniport-adapter.md)."""
        if port.queued or port.deferred:
            port.deferred.append(lambda: self.when_idle(port, fn))     # look again on the timer's next tick
            self._arm(port)
        else:
            fn()

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

    # ---- the port's timer ---------------------------------------------------------------
    def open_port(self, port: Port) -> int:
        """Allocate the port's timer (from MiniportInitializeEx or ProtocolBindAdapterEx)."""
        status, port.timer = self.ndis.NdisAllocateTimerObject(port.handle, NDIS_TIMER_CHARACTERISTICS(
            TimerFunction=self._tick, FunctionContext=port))
        return status

    def close_port(self, port: Port) -> None:
        """Stop and free the port's timer; whatever still waited for an answer is abandoned."""
        if port.timer is not None:
            self.ndis.NdisCancelTimerObject(port.timer)
            self.ndis.NdisFreeTimerObject(port.timer)
            port.timer = None
        port.timer_armed = False
        port.unanswered.clear()
        port.held.clear()
        port.deferred.clear()

    def _arm(self, port: Port) -> None:
        if port.timer is not None and not port.timer_armed:
            port.timer_armed = True
            self.ndis.NdisSetTimerObject(port.timer, RETRANSMIT_100NS, 0, port)

    def _tick(self, s1: Any, port: Port, s2: Any, s3: Any) -> None:
        """The port timer (DISPATCH_LEVEL): retransmit what is still unanswered, give up what was sent
        ``TRIES`` times, and queue the work that found no work item."""
        port.timer_armed = False
        for key, waiting in list(port.unanswered.items()):
            if port.unanswered.get(key) is not waiting:
                continue            # answered, or forgotten, by a call given up earlier in this tick
            if waiting.fresh:
                waiting.fresh = False
            elif waiting.sent < TRIES:
                waiting.sent += 1
                self.send_message(port, waiting.msg)
            elif port.heard == waiting.heard and not port.peer_gone:
                port.held[key] = port.unanswered.pop(key)   # the peer is silent: the link is down
            else:
                del port.unanswered[key]
                self._no_answer(port, key, waiting.msg)
        deferred, port.deferred = port.deferred, []
        for fn in deferred:
            self.later(port, fn)
        if port.unanswered or port.deferred:
            self._arm(port)

    def restart(self, port: Port) -> None:
        """Tell the peer that every call on this port is gone (before the port goes away). Going away,
        we cannot wait for an acknowledgement, so RESTART goes out ``TRIES`` times at once; the
        peer takes the copies as one."""
        for _ in range(TRIES):
            self.send_message(port, sig.Message(sig.RESTART, 0, False, cause=sig.CAUSE_OUT_OF_ORDER))

    def _restarted(self, port: Port) -> None:
        """The peer went away: clear every call with it, as a RELEASE COMPLETE for each would."""
        port.peer_gone = True
        port.held.clear()
        for key, entry in list(port.calls.items()):
            if port.calls.get(key) is not entry:
                continue        # gone with a call cleared before it
            ref, placed_here, endpoint = key
            self._answered(port, key)
            vc, party = self._party_of(entry, endpoint)
            if not self._released(vc, party, endpoint):
                self._remote_release(vc, party, sig.Message(sig.RELEASE_COMPLETE, ref, not placed_here,
                                                            cause=sig.CAUSE_OUT_OF_ORDER, endpoint=endpoint))

    def _no_answer(self, port: Port, key: tuple[int, bool, int], msg: sig.Message) -> None:
        entry = port.calls.get(key)
        if entry is None:
            return
        vc, party = self._party_of(entry, msg.endpoint)
        if msg.kind in (sig.SETUP, sig.ADD_PARTY):
            # T303: the called side never answered. Clear the call there too, in case it got through.
            self.send_message(port, sig.Message(sig.RELEASE_COMPLETE, msg.ref, msg.mine, 0, sig.CAUSE_TIMER,
                                                msg.endpoint))
            self._placed_call_failed(vc, party, sig.CAUSE_TIMER)
        elif msg.kind == sig.CONNECT:
            # Our CONNECT was never acknowledged: close the accepted call as if the caller had cleared it.
            self._remote_release(vc, party, sig.Message(sig.RELEASE_COMPLETE, msg.ref, not msg.mine,
                                                        cause=sig.CAUSE_TIMER, endpoint=msg.endpoint))
        else:
            # T308: the peer never confirmed our release; the call is over on our side anyway.
            self._released(vc, party, msg.endpoint)

    # ---- helpers --------------------------------------------------------------------------
    def cm(self, name: str) -> Callable[..., Any]:
        """The Ndis(M)Cm function of this call manager's family (NdisCmXxx or NdisMCmXxx)."""
        full = self._cm_names.get(name)
        if full is None:
            # Interned: Python caches attribute lookups on a class only under interned names, and
            # NDIS's class is deep, so a name built afresh each time costs a walk of its bases.
            full = self._cm_names[name] = sys.intern(self.prefix + name)
        return getattr(self.ndis, full)

    def _send(self, vc: VcCtx, kind: str, endpoint: int = 0, cause: int = 0, vci: int = 0,
              address: bytes = b"", rate: int = 0) -> None:
        self.send_message(vc.port, sig.Message(kind, vc.ref, vc.placed_here, vci, cause, endpoint, address, rate))

    def _request(self, vc: VcCtx, kind: str, endpoint: int = 0, cause: int = 0, vci: int = 0,
                 address: bytes = b"", rate: int = 0) -> None:
        """Send a message the peer must answer, and keep it for retransmission until it is answered."""
        msg = sig.Message(kind, vc.ref, vc.placed_here, vci, cause, endpoint, address, rate)
        port, key = vc.port, vc.key(endpoint)
        if port.held:
            port.held.pop(key, None)
        port.unanswered[key] = Unanswered(msg, port.heard)
        self.send_message(port, msg)
        self._arm(port)

    def _answered(self, port: Port, key: tuple[int, bool, int]) -> None:
        if port.held:
            port.held.pop(key, None)
        if port.unanswered.pop(key, None) is not None and not port.unanswered:
            # A dict keeps the room of the most entries it ever held: after a burst of calls, give it back.
            port.unanswered = {}
            if not port.deferred and port.timer_armed:
                port.timer_armed = False
                self.ndis.NdisCancelTimerObject(port.timer)

    def _forget(self, vc: VcCtx, endpoint: int = 0) -> None:
        port, key = vc.port, vc.key(endpoint)
        if port.calls.pop(key, None) is not None and not vc.placed_here:
            port.cleared[key] = None
            if len(port.cleared) > REMEMBERED:
                del port.cleared[next(iter(port.cleared))]
        self._answered(port, key)

    def _media(self, vc: VcCtx) -> None:
        if vc.params is not None and vc.params.MediaParameters is not None:
            vc.params.MediaParameters.MediaSpecific = sig.vcis_parameter(vc.vcis)

    @staticmethod
    def _party_of(entry: VcCtx | PartyCtx, endpoint: int) -> tuple[VcCtx, PartyCtx | None]:
        """The call and the leaf a ``port.calls`` entry stands for."""
        if isinstance(entry, PartyCtx):
            return entry.vc, entry
        party = next((p for p in entry.parties if p.endpoint == endpoint), None) if entry.parties else None
        return entry, party

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
        if self._sap_for(port, Sap.Sap) is not None:
            return st.NDIS_STATUS_SAP_IN_USE, None
        sap = SapCtx(CallMgrAfContext, NdisSapHandle, bytes(Sap.Sap))
        CallMgrAfContext.saps.append(sap)
        return SUCCESS, sap

    @staticmethod
    def _sap_for(port: Port, address: bytes) -> SapCtx | None:
        """The SAP a client registered for ``address`` on ``port``, if any."""
        for af in port.afs:
            for sap in af.saps:
                if sap.address == address:
                    return sap
        return None

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
        port.calls[vc.key(endpoint)] = vc if party is None else party
        self._request(vc, sig.SETUP, endpoint, vci=vc.vci, address=sig.called_address(CallParameters),
                      rate=sig.rate_of(CallParameters))
        return PENDING, party

    def _connected(self, vc: VcCtx, party: PartyCtx | None, msg: sig.Message) -> None:
        """CONNECT for a call we placed: activate the VC, then complete the make-call (or add-party)."""
        if party is not None and vc.state == ACTIVE and party.state == INITIATED:     # an added party answered
            self._send(vc, sig.CONNECT_ACK, msg.endpoint)
            party.state = ACTIVATING
            self._media(vc)
            self.activate(vc, lambda status: self._party_added(party, status))
            return
        if vc.state != INITIATED:
            if (party.state if party is not None else vc.state) in (ACTIVATING, ACTIVE):
                self._send(vc, sig.CONNECT_ACK, msg.endpoint)   # our CONNECT ACK was lost: the peer asks again
            return
        self._send(vc, sig.CONNECT_ACK, msg.endpoint)
        vc.state = ACTIVATING
        if party is not None:
            party.state = ACTIVATING
        self._media(vc)
        self.activate(vc, lambda status: self._call_activated(vc, party, status))

    def _call_activated(self, vc: VcCtx, party: PartyCtx | None, status: int) -> None:
        """The VC of a call we placed is activated (or refused): complete the make-call."""
        if status == SUCCESS and not vc.remote_released:
            vc.state = ACTIVE
            if party is not None:
                party.state = ACTIVE
            self.cm("MakeCallComplete")(SUCCESS, vc.ndis_vc, party.ndis_party if party else None, party, vc.params)
            return
        endpoint = party.endpoint if party else 0
        if vc.remote_released:
            # The remote released while the VC was being activated; its RELEASE is answered already.
            # The make-call is still pending, so it fails rather than being closed as a call that was
            # never up (guide: making-a-call.md, incoming-request-to-close-a-call.md).
            result = _failure(vc.release_cause)
            self._forget(vc, endpoint)
            vc.state = NULL
        else:
            # The miniport refused the VC: the remote thinks the call is up, so release it there.
            result = status
            vc.state = CLEARING
            self._request(vc, sig.RELEASE, endpoint, cause=sig.CAUSE_RESOURCES)
        vc.parties = ()
        if status == SUCCESS:       # only a VC that was activated is deactivated (deactivating-a-vc.md)
            self.deactivate(vc, lambda _: self._make_call_failed(vc, party, result))
        else:
            self._make_call_failed(vc, party, result)

    def _make_call_failed(self, vc: VcCtx, party: PartyCtx | None, status: int) -> None:
        self.cm("MakeCallComplete")(status, vc.ndis_vc, party.ndis_party if party else None, party, vc.params)

    def _party_added(self, party: PartyCtx, status: int) -> None:
        vc = party.vc
        if status == SUCCESS and not party.remote_released:
            party.state = ACTIVE
            self.cm("AddPartyComplete")(SUCCESS, party.ndis_party, party, party.params)
            return
        vc.parties.remove(party)
        self._media(vc)
        if party.remote_released:
            self._forget(vc, party.endpoint)
            result = st.NDIS_STATUS_FAILURE
        else:
            party.state = CLEARING      # the leaf thinks it was added: drop it there
            self._request(vc, sig.DROP_PARTY, party.endpoint, cause=sig.CAUSE_RESOURCES)
            result = status
        if status == SUCCESS:       # the activation took the leaf's VCI: take it off the VC again
            self.later(vc.port, lambda: self._reactivate(vc))
        self.cm("AddPartyComplete")(result, party.ndis_party, party, party.params)

    def _reactivate(self, vc: VcCtx) -> None:
        if vc.state == ACTIVE:
            self.activate(vc, lambda status: None)

    def _placed_call_failed(self, vc: VcCtx, party: PartyCtx | None, cause: int) -> None:
        status = _failure(cause)
        if party is not None and vc.state == ACTIVE:        # an added party was refused
            self._forget(vc, party.endpoint)
            vc.parties.remove(party)
            self.cm("AddPartyComplete")(status, party.ndis_party, party, party.params)
            return
        self._forget(vc, party.endpoint if party else 0)
        vc.state = NULL
        vc.parties = ()
        self.cm("MakeCallComplete")(status, vc.ndis_vc, party.ndis_party if party else None, party, vc.params)

    # ---- incoming calls (indicating-an-incoming-call.md) -----------------------------------
    def _incoming_setup(self, port: Port, msg: sig.Message) -> None:
        sap = self._sap_for(port, msg.address)
        if sap is None:
            self.send_message(port, sig.Message(sig.RELEASE_COMPLETE, msg.ref, False, 0, sig.CAUSE_NO_ROUTE,
                                                msg.endpoint))
            return
        vc = VcCtx(port, sap.af, mine=True)
        vc.ref, vc.placed_here, vc.vci, vc.state = msg.ref, False, msg.vci, PRESENT
        # The SAP's copy of the called address (equal to the message's): one per address, not one per call.
        vc.params = sig.call_parameters(sap.address, msg.rate or 1_000_000, msg.vci)
        vc.endpoint = msg.endpoint
        if self.create_vc(port, sap.af, vc) != SUCCESS:
            self.send_message(port, sig.Message(sig.RELEASE_COMPLETE, msg.ref, False, 0, sig.CAUSE_REJECTED,
                                                msg.endpoint))
            return
        port.calls[vc.key(msg.endpoint)] = vc

        def offer(status: int) -> None:
            if status != SUCCESS:
                self._reject(vc, sig.CAUSE_RESOURCES, activated=False)   # the miniport refused the VC
            elif vc.remote_released:
                self._reject(vc, sig.CAUSE_NORMAL)          # the caller gave up while the VC was activated
            elif sap not in sap.af.saps:
                # The client deregistered the SAP while the VC was being activated: only a call already
                # offered outlives its SAP (deregistering-a-sap.md), so this one is refused.
                self._reject(vc, sig.CAUSE_NO_ROUTE)
            else:
                result = self.cm("DispatchIncomingCall")(sap.ndis_sap, vc.ndis_vc, vc.params)
                if result != PENDING:
                    self.CmIncomingCallComplete(result, vc, vc.params)
        self.activate(vc, offer)

    def CmIncomingCallComplete(self, Status: int, CallMgrVcContext: VcCtx, CallParameters: Any) -> None:
        vc = CallMgrVcContext
        if Status != SUCCESS:
            self._reject(vc, sig.CAUSE_REJECTED)
            return
        if vc.remote_released:         # the caller gave up while our client was deciding
            vc.state = RELEASE_IND
            self.cm("DispatchIncomingCloseCall")(SUCCESS, vc.ndis_vc, None, 0)
            return
        vc.state = CONNECT_REQ
        self._request(vc, sig.CONNECT, vc.endpoint, vci=vc.vci)

    def _reject(self, vc: VcCtx, cause: int, activated: bool = True) -> None:
        """Refuse an incoming call (or answer the caller's RELEASE, if it gave up), then free its VC."""
        if vc.remote_released:
            self._send(vc, sig.RELEASE_COMPLETE, vc.endpoint, cause=sig.CAUSE_NORMAL)
        elif vc.proceeding:
            vc.state = CLEARING     # past CALL PROCEEDING a call is cleared with RELEASE, which is retransmitted
            self._request(vc, sig.RELEASE, vc.endpoint, cause=cause)
        else:
            self._send(vc, sig.RELEASE_COMPLETE, vc.endpoint, cause=cause)
        if vc.state != CLEARING:
            self._forget(vc, vc.endpoint)
            vc.state = NULL
        if activated:
            self._teardown(vc)
        elif vc.created_by_us:
            self.delete_vc(vc)      # never activated, so nothing to deactivate

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
        self._request(vc, sig.RELEASE, endpoint, cause=sig.CAUSE_NORMAL)
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

    def _released(self, vc: VcCtx, party: PartyCtx | None, endpoint: int) -> bool:
        """Our release of ``party`` (or of the call) is confirmed; False if none was under way."""
        if party is not None and party.state == RELEASE_REQ and vc.closing_party is not party:
            self._party_dropped(party)
        elif vc.state == RELEASE_REQ:
            self._close_confirmed(vc, endpoint)
        elif vc.state == CLEARING or (party is not None and party.state == CLEARING):
            self._forget(vc, endpoint)
        else:
            return False
        return True

    def _remote_release(self, vc: VcCtx, party: PartyCtx | None, msg: sig.Message) -> None:
        """A RELEASE or DROP PARTY from the remote, or a RELEASE COMPLETE that clears a call without one."""
        answer = msg.kind != sig.RELEASE_COMPLETE
        if self._released(vc, party, msg.endpoint):
            return      # clearing collision: both sides released, and each takes the other's RELEASE as the answer
        if party is not None and vc.state == ACTIVE:
            # one leaf of our multipoint call (incoming-request-to-drop-a-party-from-a-multipoint-call.md)
            if party.state in (INITIATED, ACTIVATING):
                self._answer_release(vc, msg, answer)
                if party.state == INITIATED:
                    self._placed_call_failed(vc, party, msg.cause or sig.CAUSE_REJECTED)
                else:
                    party.remote_released = True    # the add-party fails once the activation is done
                return
            if party.state != ACTIVE:
                return                          # a duplicate: the client was told already
            others = [p for p in vc.parties if p is not party]
            if any(p.state != RELEASE_REQ for p in others):
                party.state = RELEASE_IND
                self.cm("DispatchIncomingDropParty")(SUCCESS, party.ndis_party, None, 0)
                return
            if others:
                # Every other leaf is being dropped: this becomes the last party, and its release the
                # close of the call, once those drops complete.
                party.state = RELEASE_IND
                party.held_close = msg.cause
                return
        if vc.state == RELEASE_IND:
            return                              # a duplicate: the client was told already
        if vc.state == PRESENT:
            vc.remote_released = True           # handled when our client answers
            return
        if vc.state == INITIATED:
            self._answer_release(vc, msg, answer)
            self._placed_call_failed(vc, party, msg.cause or sig.CAUSE_REJECTED)
            return
        if vc.state == ACTIVATING:
            self._answer_release(vc, msg, answer)
            vc.remote_released = True           # the make-call fails once the activation is done
            vc.release_cause = msg.cause
            return
        self._incoming_close(vc, party, msg.cause)

    def _answer_release(self, vc: VcCtx, msg: sig.Message, answer: bool) -> None:
        if answer:
            self._send(vc, sig.RELEASE_COMPLETE, msg.endpoint, cause=sig.CAUSE_NORMAL)

    def _incoming_close(self, vc: VcCtx, party: PartyCtx | None, cause: int) -> None:
        vc.state = RELEASE_IND
        if party is not None:
            party.state = RELEASE_IND
        status = _CAUSE_STATUS.get(cause, st.NDIS_STATUS_FAILURE)
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
        vc.parties = [*vc.parties, party]
        port.calls[vc.key(party.endpoint)] = party
        self._request(vc, sig.ADD_PARTY, party.endpoint, vci=party.vci, address=sig.called_address(CallParameters),
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
        self._request(vc, sig.DROP_PARTY, party.endpoint, cause=sig.CAUSE_NORMAL)
        return PENDING

    def _party_gone(self, party: PartyCtx) -> None:
        vc = party.vc
        self._forget(vc, party.endpoint)
        vc.parties.remove(party)
        self._media(vc)
        self.later(vc.port, lambda: self._reactivate(vc))

    def _party_dropped(self, party: PartyCtx) -> None:
        vc = party.vc
        self._party_gone(party)
        self.cm("DropPartyComplete")(SUCCESS, party.ndis_party)
        last = vc.parties[0] if len(vc.parties) == 1 else None
        if last is not None and last.held_close is not None and vc.state == ACTIVE:
            self._incoming_close(vc, last, last.held_close)     # the release held for the last party

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
    def on_message(self, port: Port, msg: sig.Message | None) -> None:
        """A signaling message arrived from the peer (None: a frame that held none, dropped)."""
        if msg is None:
            return
        port.heard += 1
        kind = msg.kind
        if kind == sig.RESTART:
            self._restarted(port)
            return
        port.peer_gone = False
        if port.held:
            # The peer is back: what waited for it is sent again, and retransmitted as before.
            for waiting in port.held.values():
                waiting.heard, waiting.sent, waiting.fresh = port.heard, 1, True
                self.send_message(port, waiting.msg)
            port.unanswered.update(port.held)
            port.held.clear()
            self._arm(port)
        key = (msg.ref, not msg.mine, msg.endpoint)
        if kind in (sig.SETUP, sig.ADD_PARTY):
            known = port.calls.get(key)
            if key in port.cleared:
                # A late retransmission of a call already cleared here: say so again.
                self.send_message(port, sig.Message(sig.RELEASE_COMPLETE, msg.ref, False, 0, sig.CAUSE_NORMAL,
                                                    msg.endpoint))
            elif known is None:
                if msg.mine:
                    self._incoming_setup(port, msg)
            else:
                vc = self._party_of(known, msg.endpoint)[0]
                if vc.state == PRESENT:
                    # A retransmission while our client decides: tell the caller to wait for the answer.
                    vc.proceeding = True
                    self._send(vc, sig.CALL_PROCEEDING, msg.endpoint)
            return      # (past PRESENT, our own CONNECT or RELEASE is on its way, and retransmitted)
        entry = port.calls.get(key)
        if entry is None:
            # A call we no longer know: a duplicate, or a retransmission whose answer was lost.
            # Answer it so the peer clears the call too (a RELEASE COMPLETE needs no answer).
            if kind != sig.RELEASE_COMPLETE:
                cause = sig.CAUSE_NORMAL if kind in _RELEASES else sig.CAUSE_BAD_REFERENCE
                self.send_message(port, sig.Message(sig.RELEASE_COMPLETE, msg.ref, not msg.mine, 0, cause,
                                                    msg.endpoint))
            return
        vc, party = self._party_of(entry, msg.endpoint)
        waiting = port.unanswered.get(key)
        if waiting is not None and kind in _ANSWERED_BY[waiting.msg.kind]:
            self._answered(port, key)
        if kind == sig.CONNECT:
            self._connected(vc, party, msg)
        elif kind == sig.CONNECT_ACK:
            self._connect_ack(vc)
        elif kind in _RELEASES:
            self._remote_release(vc, party, msg)
        elif kind == sig.RELEASE_COMPLETE:
            if not self._released(vc, party, msg.endpoint):
                self._remote_release(vc, party, msg)    # the peer cleared the call (or refused it)
