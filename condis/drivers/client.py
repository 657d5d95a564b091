"""A sample CoNDIS client: opens the Q.2931 AF, registers SAPs, places, accepts, sends on and
closes calls, adds and drops parties, and tears everything down on unbind or when the call
manager asks it to close the AF.

Its application interface (``place_call``, ``send``, ``close``, ``add_party``, ``drop_party``,
``modify_qos``) is what a scenario calls, at PASSIVE_LEVEL (for example through ``ndis.post``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from condis import _status as st
from condis.constants import CO_ADDRESS_FAMILY_Q2931, NdisMediumAtm
from condis.drivers import signaling as sig
from condis.structs import (
    CO_SAP,
    NDIS_CO_CLIENT_OPTIONAL_HANDLERS,
    NDIS_OPEN_PARAMETERS,
    NDIS_PROTOCOL_CO_CHARACTERISTICS,
    NDIS_PROTOCOL_DRIVER_CHARACTERISTICS,
    NDIS_TIMER_CHARACTERISTICS,
    NET_BUFFER_LIST_POOL_PARAMETERS,
)

SUCCESS = st.NDIS_STATUS_SUCCESS
PENDING = st.NDIS_STATUS_PENDING
RETRY_100NS = -1_000   # 100 us before trying NdisCoDeleteVc again
RETRIES = 50           # then give up: the call manager never deactivated the VC
HISTORY = 1024         # calls the client keeps for a test to look at

# call states, as the client sees them
MAKING, OFFERED, ACCEPTED, UP, CLOSING, CLOSED, FAILED = (
    "MAKING", "OFFERED", "ACCEPTED", "UP", "CLOSING", "CLOSED", "FAILED")


class Binding:
    """ProtocolBindingContext."""

    def __init__(self, client: AtmClient, adapter_name: str) -> None:
        self.client = client
        self.adapter_name = adapter_name
        self.handle: Any = None
        self.afs: list[ClientAf] = []
        self.unbind_context: Any = None
        self.unbind = ""            # "", "in handler", "pending"
        self.pool: Any = None
        self.unbind_item: Any = None    # allocated at bind, so that finishing an unbind never lacks one


class ClientAf:
    """ProtocolAfContext (ClientAfContext)."""

    def __init__(self, binding: Binding) -> None:
        self.binding = binding
        self.ndis_af: Any = None
        self.open = False
        self.saps: list[ClientSap] = []
        self.calls: dict[Call, None] = {}      # an ordered set: thousands of calls come and go
        self.closing = False
        self.notify = ""                   # "", "in handler", "pending", "done": a call manager's close request
        self.on_closed: list[Callable[[], None]] = []


class ClientSap:
    """ProtocolSapContext."""

    def __init__(self, af: ClientAf, address: bytes) -> None:
        self.af = af
        self.address = address
        self.handle: Any = None
        self.registered = False
        self.deregistering = False


class Call:
    """ProtocolVcContext: one VC and the call on it, as the application sees it.

    A client may hold a million of these, so they have slots rather than a __dict__, the parties
    of a point-to-point call are a shared empty tuple, and the list of data received is made when
    the first data arrives (or someone asks for it).
    """

    __slots__ = ("af", "outgoing", "vc", "state", "status", "parties", "_received", "sent", "send_completed",
                 "deleted", "params", "events", "retry_timer", "retries", "close_waits")

    def __init__(self, af: ClientAf, outgoing: bool) -> None:
        self.af = af
        self.outgoing = outgoing          # we created the VC
        self.vc: Any = None
        self.state = MAKING if outgoing else OFFERED
        self.status: int | None = None
        self.parties: list[ClientParty] | tuple[()] = ()     # a list once the call is multipoint
        self._received: list[bytes] | None = None
        self.sent = 0
        self.send_completed = 0
        self.deleted = False
        self.params: Any = None
        self.events: list[str] = []
        self.retry_timer: Any = None
        self.retries = 0
        self.close_waits = False          # closing a multipoint call: waiting for its other parties to go

    @property
    def received(self) -> list[bytes]:
        """The data received on the call, one entry per NET_BUFFER_LIST, in order."""
        if self._received is None:
            self._received = []
        return self._received

    def __repr__(self) -> str:
        return f"<Call {self.state} {'out' if self.outgoing else 'in'}>"


class ClientParty:
    """ProtocolPartyContext."""

    __slots__ = ("call", "address", "handle", "state")

    def __init__(self, call: Call, address: bytes) -> None:
        self.call = call
        self.address = address
        self.handle: Any = None
        self.state = MAKING


class AtmClient:
    """The client driver. ``saps`` are the addresses it listens on; ``answer`` decides incoming calls:
    it returns NDIS_STATUS_SUCCESS to accept, another status to reject, or NDIS_STATUS_PENDING to
    answer later with ``accept(call)`` or ``reject(call)``.

    ``calls`` (every call, placed or offered) and ``incoming`` (the offered ones) keep the last
    ``history`` calls, most recent last: enough to look at in a test, and a client that makes
    millions of calls does not keep them all.
    """

    def __init__(self, saps: tuple[bytes, ...] = (), answer: Callable[[Call], int] | None = None,
                 history: int = HISTORY) -> None:
        self.ndis: Any = None
        self.handle: Any = None
        self.saps = saps
        self.answer = answer or (lambda call: SUCCESS)
        self.bindings: list[Binding] = []
        self.calls: deque[Call] = deque(maxlen=history)
        self.incoming: deque[Call] = deque(maxlen=history)
        self.log: list[tuple[str, Any]] = []
        # One description serves every call's retry timer: NDIS only reads it (the call reaches
        # _retry_delete as the context NdisSetTimerObject is given).
        self.retry_timer_chars = NDIS_TIMER_CHARACTERISTICS(TimerFunction=self._retry_delete)

    # ---- DriverEntry and registration ------------------------------------------------------
    def DriverEntry(self, ndis: Any, DriverObject: Any, RegistryPath: str) -> int:
        self.ndis = ndis
        chars = NDIS_PROTOCOL_DRIVER_CHARACTERISTICS(
            Name="atmclient", SetOptionsHandler=self.SetOptions, BindAdapterHandlerEx=self.ProtocolBindAdapterEx,
            UnbindAdapterHandlerEx=self.ProtocolUnbindAdapterEx, NetPnPEventHandler=self.ProtocolNetPnPEvent)
        status, self.handle = ndis.NdisRegisterProtocolDriver(self, chars)
        if status == SUCCESS:
            DriverObject.DriverUnload = self.Unload
        return status

    def SetOptions(self, NdisDriverHandle: Any, DriverContext: Any) -> int:
        ndis = self.ndis
        status = ndis.NdisSetOptionalHandlers(NdisDriverHandle, NDIS_PROTOCOL_CO_CHARACTERISTICS(
            CoStatusHandlerEx=self.ProtocolCoStatusEx, CoAfRegisterNotifyHandler=self.ProtocolCoAfRegisterNotify,
            CoReceiveNetBufferListsHandler=self.ProtocolCoReceiveNetBufferLists,
            CoSendNetBufferListsCompleteHandler=self.ProtocolCoSendNetBufferListsComplete))
        if status != SUCCESS:
            return status
        return ndis.NdisSetOptionalHandlers(NdisDriverHandle, NDIS_CO_CLIENT_OPTIONAL_HANDLERS(
            ClCreateVcHandler=self.ClCreateVc, ClDeleteVcHandler=self.ClDeleteVc,
            ClOidRequestHandler=self.ClOidRequest, ClOidRequestCompleteHandler=self.ClOidRequestComplete,
            ClOpenAfCompleteHandlerEx=self.ClOpenAfCompleteEx, ClCloseAfCompleteHandler=self.ClCloseAfComplete,
            ClRegisterSapCompleteHandler=self.ClRegisterSapComplete,
            ClDeregisterSapCompleteHandler=self.ClDeregisterSapComplete,
            ClMakeCallCompleteHandler=self.ClMakeCallComplete,
            ClModifyCallQoSCompleteHandler=self.ClModifyCallQoSComplete,
            ClCloseCallCompleteHandler=self.ClCloseCallComplete, ClAddPartyCompleteHandler=self.ClAddPartyComplete,
            ClDropPartyCompleteHandler=self.ClDropPartyComplete, ClIncomingCallHandler=self.ClIncomingCall,
            ClIncomingCallQoSChangeHandler=self.ClIncomingCallQoSChange,
            ClIncomingCloseCallHandler=self.ClIncomingCloseCall, ClIncomingDropPartyHandler=self.ClIncomingDropParty,
            ClCallConnectedHandler=self.ClCallConnected, ClNotifyCloseAfHandler=self.ClNotifyCloseAf))

    def Unload(self, DriverObject: Any) -> None:
        self.ndis.NdisDeregisterProtocolDriver(self.handle)

    # ---- binding (binding-to-an-adapter.md, unbinding-from-an-adapter.md) ----------------
    def ProtocolBindAdapterEx(self, ProtocolDriverContext: Any, BindContext: Any, BindParameters: Any) -> int:
        if BindParameters.MediaType != NdisMediumAtm:
            return st.NDIS_STATUS_UNSUPPORTED_MEDIA
        b = Binding(self, BindParameters.AdapterName)
        status, b.handle = self.ndis.NdisOpenAdapterEx(self.handle, b, NDIS_OPEN_PARAMETERS(
            AdapterName=BindParameters.AdapterName, MediumArray=[NdisMediumAtm], MediumArraySize=1), BindContext)
        if status != SUCCESS:
            return status
        b.pool = self.ndis.NdisAllocateNetBufferListPool(b.handle, NET_BUFFER_LIST_POOL_PARAMETERS(DataSize=9180))
        b.unbind_item = self.ndis.NdisAllocateIoWorkItem(b.handle) if b.pool is not None else None
        if b.unbind_item is None:
            # A bind that fails closes what it opened (binding-to-an-adapter.md).
            if b.pool is not None:
                self.ndis.NdisFreeNetBufferListPool(b.pool)
            self.ndis.NdisCloseAdapterEx(b.handle)
            return st.NDIS_STATUS_RESOURCES
        self.bindings.append(b)
        return SUCCESS

    def ProtocolUnbindAdapterEx(self, UnbindContext: Any, ProtocolBindingContext: Binding) -> int:
        b = ProtocolBindingContext
        b.unbind_context = UnbindContext
        b.unbind = "in handler"
        for af in list(b.afs):
            self._close_af(af)
        if not b.afs:
            self._close_binding(b)
            return SUCCESS
        b.unbind = "pending"
        return PENDING

    def _close_binding(self, b: Binding) -> None:
        if b.unbind_item is not None:
            self.ndis.NdisFreeIoWorkItem(b.unbind_item)
            b.unbind_item = None
        self.ndis.NdisFreeNetBufferListPool(b.pool)
        self.ndis.NdisCloseAdapterEx(b.handle)
        self.bindings.remove(b)

    def _finish_unbind(self, b: Binding) -> None:
        """Completions arrive at any IRQL; closing the adapter needs PASSIVE_LEVEL, so use a work item
        (the one allocated at bind)."""
        item, b.unbind_item = b.unbind_item, None

        def run(ctx: Any, handle: Any) -> None:
            self.ndis.NdisFreeIoWorkItem(handle)
            self._close_binding(b)
            self.ndis.NdisCompleteUnbindAdapterEx(b.unbind_context)
        self.ndis.NdisQueueIoWorkItem(item, run, None)

    def ProtocolNetPnPEvent(self, ProtocolBindingContext: Any, NetPnPEventNotification: Any) -> int:
        return SUCCESS

    def ProtocolCoStatusEx(self, ProtocolBindingContext: Any, ProtocolVcContext: Any, StatusIndication: Any) -> None:
        self.log.append(("status", StatusIndication.StatusCode))

    # ---- AFs and SAPs ------------------------------------------------------------------
    def ProtocolCoAfRegisterNotify(self, ProtocolBindingContext: Binding, AddressFamily: Any) -> None:
        if AddressFamily.AddressFamily != CO_ADDRESS_FAMILY_Q2931:
            return
        b = ProtocolBindingContext
        af = ClientAf(b)
        b.afs.append(af)
        status, handle = self.ndis.NdisClOpenAddressFamilyEx(b.handle, AddressFamily, af)
        if status != PENDING:
            self.ClOpenAfCompleteEx(af, handle, status)

    def ClOpenAfCompleteEx(self, ProtocolAfContext: ClientAf, NdisAfHandle: Any, Status: int) -> None:
        af = ProtocolAfContext
        if Status != SUCCESS:
            af.binding.afs.remove(af)
            self.log.append(("open-af-failed", Status))
            return
        af.ndis_af = NdisAfHandle
        af.open = True
        self.log.append(("af-open", af.binding.adapter_name))
        for address in self.saps:
            sap = ClientSap(af, address)
            af.saps.append(sap)
            status, handle = self.ndis.NdisClRegisterSap(af.ndis_af, sap, CO_SAP(SapType=1, Sap=address))
            if status != PENDING:
                self.ClRegisterSapComplete(status, sap, None, handle)

    def ClRegisterSapComplete(self, Status: int, ProtocolSapContext: ClientSap, Sap: Any, NdisSapHandle: Any) -> None:
        sap = ProtocolSapContext
        if Status == SUCCESS:
            sap.handle = NdisSapHandle
            sap.registered = True
        else:
            sap.af.saps.remove(sap)
        self._progress(sap.af)

    def ClDeregisterSapComplete(self, Status: int, ProtocolSapContext: ClientSap) -> None:
        sap = ProtocolSapContext
        sap.deregistering = False
        if Status != SUCCESS:
            # the SAP stays registered; the AF's close tries again at its next step, not now, which
            # would ask again and again while NDIS keeps refusing
            return
        sap.registered = False
        sap.af.saps.remove(sap)
        self._progress(sap.af)

    def ClCloseAfComplete(self, Status: int, ProtocolAfContext: ClientAf) -> None:
        af = ProtocolAfContext
        af.open = False
        b = af.binding
        b.afs.remove(af)
        self.log.append(("af-closed", b.adapter_name))
        for fn in af.on_closed:
            fn()
        if b.unbind == "pending" and not b.afs:
            self._finish_unbind(b)

    def ClNotifyCloseAf(self, ClientAfContext: ClientAf) -> int:
        """The call manager withdraws its AF: close calls and SAPs, then the AF
        (closing-an-address-family-in-a-condis-client.md)."""
        af = ClientAfContext
        af.notify = "in handler"
        af.on_closed.append(lambda: self._notify_closed(af))
        self._close_af(af)
        if af.notify == "done":
            return SUCCESS
        af.notify = "pending"
        return PENDING

    def _notify_closed(self, af: ClientAf) -> None:
        if af.notify == "pending":
            self.ndis.NdisClNotifyCloseAddressFamilyComplete(af.ndis_af, SUCCESS)
        af.notify = "done"

    def _close_af(self, af: ClientAf) -> None:
        if af.closing:
            return
        af.closing = True
        self._progress(af)

    def _progress(self, af: ClientAf) -> None:
        """Move a closing AF one step on (closing-an-address-family-in-a-condis-client.md)."""
        if not af.closing or not af.open:
            return
        busy = False
        for call in list(af.calls):
            if call.state in (UP, ACCEPTED):
                live = [p for p in call.parties if p.state == UP]
                if len(live) > 1:
                    for p in live[1:]:
                        self.drop_party(p)
                else:
                    self.close(call)
                busy = True
            elif call.state in (MAKING, OFFERED, CLOSING):
                busy = True
            elif not call.deleted:
                # A VC is deleted by its creator: us for a call we placed, the call manager (which
                # deactivates it first) for one we were offered. The AF outlives every VC on it.
                busy = True
        for sap in list(af.saps):
            if sap.registered and not sap.deregistering:
                sap.deregistering = True
                status = self.ndis.NdisClDeregisterSap(sap.handle)
                if status != PENDING:
                    self.ClDeregisterSapComplete(status, sap)
                    return
            busy = True
        if busy or af.saps:
            return
        af.open = False
        status = self.ndis.NdisClCloseAddressFamily(af.ndis_af)
        if status != PENDING:
            af.open = True
            self.ClCloseAfComplete(status, af)

    # ---- application interface ----------------------------------------------------------
    def af_for(self, adapter_name: str | None = None) -> ClientAf:
        for b in self.bindings:
            if adapter_name is None or b.adapter_name == adapter_name:
                for af in b.afs:
                    if af.open and not af.closing:
                        return af
        raise LookupError(f"no open AF{' on ' + adapter_name if adapter_name else ''}")

    def place_call(self, address: bytes, rate: int = 1_000_000, multipoint: bool = False,
                   adapter_name: str | None = None) -> Call:
        """Create a VC and make a call to ``address`` (making-a-call.md)."""
        af = self.af_for(adapter_name)
        call = Call(af, outgoing=True)
        af.calls[call] = None
        self.calls.append(call)
        # The timer that retries deleting the VC, allocated now so that the call can always be cleaned up.
        status, call.retry_timer = self.ndis.NdisAllocateTimerObject(af.binding.handle, self.retry_timer_chars)
        if status == SUCCESS:
            status, call.vc = self.ndis.NdisCoCreateVc(af.binding.handle, af.ndis_af, call)
        if status != SUCCESS:
            if call.retry_timer is not None:
                self.ndis.NdisFreeTimerObject(call.retry_timer)
                call.retry_timer = None
            call.state = FAILED
            call.status = status
            call.deleted = True
            return call
        call.params = sig.call_parameters(address, rate)
        party = None
        if multipoint:
            party = ClientParty(call, address)
            call.parties = [party]
        status, handle = self.ndis.NdisClMakeCall(call.vc, call.params, party)
        if party is not None:
            party.handle = handle
        if status != PENDING:
            self.ClMakeCallComplete(status, call, handle, call.params)
        return call

    def send(self, call: Call, data: bytes) -> None:
        """Send one NET_BUFFER_LIST on an established call."""
        pool = call.af.binding.pool
        nbl = self.ndis.NdisAllocateNetBufferAndNetBufferList(pool, 0, 0, data, 0, len(data))
        if nbl is None:
            call.events.append("send-failed")     # no NET_BUFFER_LIST to send it in
            return
        nbl.SourceHandle = call.vc
        call.sent += 1
        self.ndis.NdisCoSendNetBufferLists(call.vc, nbl, 0)

    def close(self, call: Call) -> None:
        """Close a call (client-initiated-request-to-close-a-call.md). A multipoint call is closed with
        its last party: the others are dropped first, and the close waits until those drops (and any
        add-party under way) have completed (dropping-a-party-from-a-multipoint-call.md)."""
        call.state = CLOSING
        call.close_waits = True
        if call.parties:
            live = [p for p in call.parties if p.state == UP]
            for p in live[1:]:
                self.drop_party(p)
        self._close_when_single(call)

    def _close_when_single(self, call: Call) -> None:
        if not call.close_waits or len(call.parties) > 1:
            return
        call.close_waits = False
        last = next((p for p in call.parties if p.state == UP), None) if call.parties else None
        status = self.ndis.NdisClCloseCall(call.vc, last.handle if last else None, None, 0)
        if status != PENDING:
            self.ClCloseCallComplete(status, call, last)

    def add_party(self, call: Call, address: bytes) -> ClientParty:
        party = ClientParty(call, address)
        call.parties = [*call.parties, party]
        status, handle = self.ndis.NdisClAddParty(call.vc, party, sig.call_parameters(address))
        party.handle = handle
        if status != PENDING:
            self.ClAddPartyComplete(status, party, handle, None)
        return party

    def drop_party(self, party: ClientParty) -> None:
        party.state = CLOSING
        status = self.ndis.NdisClDropParty(party.handle, None, 0)
        if status != PENDING:
            self.ClDropPartyComplete(status, party)

    def modify_qos(self, call: Call, rate: int) -> int:
        params = sig.call_parameters(sig.called_address(call.params), rate) if call.params else sig.call_parameters(
            b"", rate)
        status = self.ndis.NdisClModifyCallQoS(call.vc, params)
        if status != PENDING:
            self.ClModifyCallQoSComplete(status, call, params)
        return status

    def accept(self, call: Call) -> None:
        """Answer a call that ``answer`` left pending."""
        call.state = ACCEPTED
        self.ndis.NdisClIncomingCallComplete(SUCCESS, call.vc, call.params)

    def reject(self, call: Call, status: int = st.NDIS_STATUS_NOT_ACCEPTED) -> None:
        call.state = CLOSED
        self.ndis.NdisClIncomingCallComplete(status, call.vc, call.params)

    # ---- VCs ----------------------------------------------------------------------------
    def ClCreateVc(self, ProtocolAfContext: ClientAf, NdisVcHandle: Any) -> tuple[int, Any]:
        call = Call(ProtocolAfContext, outgoing=False)
        call.vc = NdisVcHandle
        ProtocolAfContext.calls[call] = None
        return SUCCESS, call

    def ClDeleteVc(self, ProtocolVcContext: Call) -> int:
        call = ProtocolVcContext
        call.deleted = True
        call.af.calls.pop(call, None)
        self._progress(call.af)
        return SUCCESS

    def _delete_vc(self, call: Call) -> None:
        """Delete a VC we created once its call is over. The call manager deactivates the VC after the
        close completes (client-initiated-request-to-close-a-call.md), so delete from a work item and,
        while NDIS still answers NOT_ACCEPTED or CLOSING (nf-ndis-ndiscodeletevc.md), retry later."""
        item = self.ndis.NdisAllocateIoWorkItem(call.af.binding.handle)
        if item is None:
            # No work item: the retry timer (allocated with the call) gets out of this handler instead.
            self.ndis.NdisSetTimerObject(call.retry_timer, RETRY_100NS, 0, call)
            return

        def run(ctx: Any, handle: Any) -> None:
            self.ndis.NdisFreeIoWorkItem(handle)
            self._try_delete(call)
        self.ndis.NdisQueueIoWorkItem(item, run, None)

    def _try_delete(self, call: Call) -> None:
        status = self.ndis.NdisCoDeleteVc(call.vc)
        if status in (st.NDIS_STATUS_NOT_ACCEPTED, st.NDIS_STATUS_CLOSING) and call.retries < RETRIES:
            call.retries += 1
            self.ndis.NdisSetTimerObject(call.retry_timer, RETRY_100NS, 0, call)
            return
        if call.retry_timer is not None:
            self.ndis.NdisFreeTimerObject(call.retry_timer)
            call.retry_timer = None
        if status != SUCCESS:
            call.events.append("delete-failed")
            self.log.append(("delete-vc-failed", status))
            return
        call.deleted = True
        call.af.calls.pop(call, None)
        call.events.append("deleted")
        self._progress(call.af)

    def _retry_delete(self, s1: Any, call: Call, s2: Any, s3: Any) -> None:
        self._try_delete(call)

    def _after_close(self, call: Call) -> None:
        call.state = CLOSED
        call.events.append("closed")
        for p in call.parties:
            p.state = CLOSED
        if call.outgoing:
            self._delete_vc(call)
        else:
            self._progress(call.af)

    # ---- calls --------------------------------------------------------------------------
    def ClMakeCallComplete(self, Status: int, ProtocolVcContext: Call, NdisPartyHandle: Any,
                           CallParameters: Any) -> None:
        call = ProtocolVcContext
        call.status = Status
        if Status == SUCCESS:
            call.state = UP
            call.events.append("connected")
            for p in call.parties:
                p.state = UP
                p.handle = NdisPartyHandle
            self._progress(call.af)
            return
        call.state = FAILED
        call.events.append("failed")
        self._delete_vc(call)

    def ClIncomingCall(self, ProtocolSapContext: ClientSap, ProtocolVcContext: Call, CallParameters: Any) -> int:
        call = ProtocolVcContext
        call.params = CallParameters
        self.incoming.append(call)
        self.calls.append(call)
        status = self.answer(call)
        call.state = ACCEPTED if status == SUCCESS else (OFFERED if status == PENDING else CLOSED)
        return status

    def ClCallConnected(self, ProtocolVcContext: Call) -> None:
        call = ProtocolVcContext
        call.state = UP
        call.events.append("connected")
        self._progress(call.af)

    def ClIncomingCloseCall(self, CloseStatus: int, ProtocolVcContext: Call, CloseData: Any, Size: int) -> None:
        """The remote closed: acknowledge with NdisClCloseCall (incoming-request-to-close-a-call.md)."""
        call = ProtocolVcContext
        call.events.append("incoming-close")
        self.close(call)

    def ClCloseCallComplete(self, Status: int, ProtocolVcContext: Call, ProtocolPartyContext: Any) -> None:
        call = ProtocolVcContext
        call.status = Status
        if Status != SUCCESS:
            call.state = UP
            return
        self._after_close(call)

    def ClModifyCallQoSComplete(self, Status: int, ProtocolVcContext: Call, CallParameters: Any) -> None:
        call = ProtocolVcContext
        call.events.append(f"qos:{st.STATUS_NAMES.get(Status, Status)}")
        if Status == SUCCESS:
            call.params = CallParameters

    def ClIncomingCallQoSChange(self, ProtocolVcContext: Call, CallParameters: Any) -> None:
        ProtocolVcContext.params = CallParameters
        ProtocolVcContext.events.append("qos-changed")

    # ---- parties ------------------------------------------------------------------------
    def ClAddPartyComplete(self, Status: int, ProtocolPartyContext: ClientParty, NdisPartyHandle: Any,
                           CallParameters: Any) -> None:
        party = ProtocolPartyContext
        if Status == SUCCESS:
            party.state = UP
            party.handle = NdisPartyHandle
            if party.call.close_waits:
                self.drop_party(party)      # added while the call was being closed
        else:
            party.state = FAILED
            party.call.parties.remove(party)
            self._close_when_single(party.call)

    def ClDropPartyComplete(self, Status: int, ProtocolPartyContext: ClientParty) -> None:
        party = ProtocolPartyContext
        if Status == SUCCESS:
            party.state = CLOSED
            party.call.parties.remove(party)
        else:
            party.state = UP
        self._close_when_single(party.call)
        self._progress(party.call.af)

    def ClIncomingDropParty(self, DropStatus: int, ProtocolPartyContext: ClientParty, CloseData: Any,
                            Size: int) -> None:
        self.drop_party(ProtocolPartyContext)

    # ---- data and requests -------------------------------------------------------------
    def ProtocolCoReceiveNetBufferLists(self, ProtocolBindingContext: Any, ProtocolVcContext: Call,
                                        NetBufferLists: Any, NumberOfNetBufferLists: int, ReceiveFlags: int) -> None:
        nbl = NetBufferLists
        while nbl is not None:
            nb = nbl.FirstNetBuffer
            ProtocolVcContext.received.append(nb.Data[nb.DataOffset:nb.DataOffset + nb.DataLength])
            nbl = nbl.Next

    def ProtocolCoSendNetBufferListsComplete(self, ProtocolVcContext: Call, NetBufferLists: Any,
                                             SendCompleteFlags: int) -> None:
        nbl = NetBufferLists
        while nbl is not None:
            nxt = nbl.Next
            nbl.Next = None
            self.ndis.NdisFreeNetBufferList(nbl)
            ProtocolVcContext.send_completed += 1
            nbl = nxt

    def ClOidRequest(self, ProtocolAfContext: Any, ProtocolVcContext: Any, ProtocolPartyContext: Any,
                     OidRequest: Any) -> int:
        return st.NDIS_STATUS_NOT_SUPPORTED

    def ClOidRequestComplete(self, ProtocolAfContext: Any, ProtocolVcContext: Any, ProtocolPartyContext: Any,
                             OidRequest: Any, Status: int) -> None:
        self.log.append(("oid-complete", Status))
