"""A sample stand-alone call manager: the MCM's signaling, as a protocol driver over a CoNDIS miniport.

It binds to the miniport, creates and activates a signaling VC on VCI 5 through NDIS, registers
its AF once that VC is up (guide: registering-and-opening-an-address-family.md), and sends and
receives signaling messages as NET_BUFFER_LISTs on it (making-a-call.md: "a call manager calls
NdisCoSendNetBufferLists"). Client VCs are created with NdisCoCreateVc and activated with
NdisCmActivateVc, which NDIS passes to the miniport. When NDIS pauses the binding it sends RESTART,
its last message (a paused binding sends nothing: protocol-binding-states-and-operations.md), and
clears its calls as the peer does on RESTART; on unbind it asks its clients to close the AF
(NdisCmNotifyCloseAddressFamily) before it closes the binding.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from condis import _status as st
from condis.constants import (
    CO_ADDRESS_FAMILY_Q2931,
    NDIS_RECEIVE_FLAGS_RESOURCES,
    NDIS_RETURN_FLAGS_DISPATCH_LEVEL,
    DelayedWorkQueue,
    NdisMediumAtm,
    NetEventPause,
    NetEventRestart,
)
from condis.drivers import signaling as sig
from condis.drivers.callcontrol import AfCtx, CallControl, Port, VcCtx
from condis.drivers.nic import payload
from condis.structs import (
    CO_ADDRESS_FAMILY,
    IO_WORKITEM,
    NDIS_OPEN_PARAMETERS,
    NDIS_PROTOCOL_CO_CHARACTERISTICS,
    NDIS_PROTOCOL_DRIVER_CHARACTERISTICS,
    NET_BUFFER_LIST_POOL_PARAMETERS,
)

SUCCESS = st.NDIS_STATUS_SUCCESS
PENDING = st.NDIS_STATUS_PENDING


class CmBinding(Port):
    """ProtocolBindingContext (also the CallMgrBindingContext clients' AF opens arrive with)."""

    def __init__(self, adapter_name: str, odd: bool) -> None:
        super().__init__(odd)
        self.adapter_name = adapter_name
        self.handle: Any = None
        self.pool: Any = None
        self.signaling: VcCtx | None = None
        self.bind_context: Any = None
        self.unbind_context: Any = None
        self.unbinding = False
        self.paused = False             # NDIS paused the binding: no more signaling on it


class AtmCallManager(CallControl):
    """The call manager. ``odd_vcis`` picks its half of the VCI space (one end of a wire each)."""

    prefix = "NdisCm"

    def __init__(self, odd_vcis: bool = False) -> None:
        super().__init__()
        self.odd = odd_vcis
        self.handle: Any = None
        self.driver_object: Any = None
        self.bindings: list[CmBinding] = []

    # ---- DriverEntry and registration ------------------------------------------------------
    def DriverEntry(self, ndis: Any, DriverObject: Any, RegistryPath: str) -> int:
        self.ndis = ndis
        self.driver_object = DriverObject     # what its kernel work items are initialized with
        chars = NDIS_PROTOCOL_DRIVER_CHARACTERISTICS(
            Name="atmcm", SetOptionsHandler=self.SetOptions, BindAdapterHandlerEx=self.ProtocolBindAdapterEx,
            UnbindAdapterHandlerEx=self.ProtocolUnbindAdapterEx, NetPnPEventHandler=self.ProtocolNetPnPEvent)
        status, self.handle = ndis.NdisRegisterProtocolDriver(self, chars)
        if status == SUCCESS:
            DriverObject.DriverUnload = self.Unload
        return status

    def SetOptions(self, NdisDriverHandle: Any, DriverContext: Any) -> int:
        ndis = self.ndis
        status = ndis.NdisSetOptionalHandlers(NdisDriverHandle, NDIS_PROTOCOL_CO_CHARACTERISTICS(
            CoStatusHandlerEx=self.ProtocolCoStatusEx,
            CoReceiveNetBufferListsHandler=self.ProtocolCoReceiveNetBufferLists,
            CoSendNetBufferListsCompleteHandler=self.ProtocolCoSendNetBufferListsComplete))
        if status != SUCCESS:
            return status
        return ndis.NdisSetOptionalHandlers(NdisDriverHandle, self.call_manager_handlers())

    def Unload(self, DriverObject: Any) -> None:
        self.ndis.NdisDeregisterProtocolDriver(self.handle)

    def queue_work(self, port: Port, run: Callable[[], None]) -> bool:
        """A protocol driver has no NDIS work items (nf-ndis-ndisallocateioworkitem.md): queue ``run()``
        on a kernel work item in storage of its own, initialized with its DRIVER_OBJECT."""
        item = IO_WORKITEM()
        self.ndis.IoInitializeWorkItem(self.driver_object, item)

        def routine(IoObject: Any, Context: Any, IoWorkItem: Any) -> None:
            self.ndis.IoUninitializeWorkItem(IoWorkItem)
            run()
        self.ndis.IoQueueWorkItemEx(item, routine, DelayedWorkQueue, None)
        return True

    # ---- binding ------------------------------------------------------------------------
    def ProtocolBindAdapterEx(self, ProtocolDriverContext: Any, BindContext: Any, BindParameters: Any) -> int:
        if BindParameters.MediaType != NdisMediumAtm:
            return st.NDIS_STATUS_UNSUPPORTED_MEDIA
        b = CmBinding(BindParameters.AdapterName, self.odd)
        status, b.handle = self.ndis.NdisOpenAdapterEx(self.handle, b, NDIS_OPEN_PARAMETERS(
            AdapterName=BindParameters.AdapterName, MediumArray=[NdisMediumAtm], MediumArraySize=1), BindContext)
        if status != SUCCESS:
            return status
        b.bind_context = BindContext
        # one NET_BUFFER per NET_BUFFER_LIST and no data buffer: the data is ours, passed as MdlChain
        # (nf-nblapi-ndisallocatenetbufferandnetbufferlist.md)
        b.pool = self.ndis.NdisAllocateNetBufferListPool(b.handle, NET_BUFFER_LIST_POOL_PARAMETERS(
            fAllocateNetBuffer=True, DataSize=0))
        if b.pool is None or self.open_port(b) != SUCCESS:
            self._release(b)        # a bind that fails closes what it opened (binding-to-an-adapter.md)
            return st.NDIS_STATUS_RESOURCES
        # The signaling VC: created with no AF, activated on VCI 5 (differences-in-virtual-connections.md).
        sig_vc = VcCtx(b, None, mine=True)
        status, sig_vc.ndis_vc = self.ndis.NdisCoCreateVc(b.handle, None, sig_vc)
        if status != SUCCESS:
            self._release(b)
            return status
        b.signaling = sig_vc
        sig_vc.params = sig.call_parameters(b"", vci=sig.SIGNALING_VCI)
        self.bindings.append(b)
        self.activate(sig_vc, lambda status: self.later(b, lambda: self._signaling_up(b, status)))
        return PENDING

    def _signaling_up(self, b: CmBinding, status: int) -> None:
        """PASSIVE_LEVEL: register the AF and finish the bind, or undo it if the signaling VC is not up."""
        if status != SUCCESS:
            self._bind_failed(b, status, active=False)
            return
        status = self.ndis.NdisCmRegisterAddressFamilyEx(b.handle, CO_ADDRESS_FAMILY(CO_ADDRESS_FAMILY_Q2931, 3, 1))
        if status != SUCCESS:
            self._bind_failed(b, status, active=True)
            return
        self.ndis.NdisCompleteBindAdapterEx(b.bind_context, status)

    def _bind_failed(self, b: CmBinding, status: int, active: bool) -> None:
        """Without its signaling VC the call manager has nothing to offer on this adapter: delete the
        VC (deactivated first if it was activated), close the binding, then fail the pended bind."""
        sig_vc = b.signaling

        def deleted() -> None:
            self.ndis.NdisCoDeleteVc(sig_vc.ndis_vc)
            b.signaling = None
            self._release(b)
            self.bindings.remove(b)
            self.ndis.NdisCompleteBindAdapterEx(b.bind_context, status)
        if active:
            self.deactivate(sig_vc, lambda _: self.later(b, lambda: self.when_idle(b, deleted)))
        else:
            self.when_idle(b, deleted)

    def _release(self, b: CmBinding) -> None:
        """PASSIVE_LEVEL: free the binding's timer and pool and close it."""
        self.close_port(b)
        if b.pool is not None:
            self.ndis.NdisFreeNetBufferListPool(b.pool)
            b.pool = None
        self.ndis.NdisCloseAdapterEx(b.handle)

    def ProtocolUnbindAdapterEx(self, UnbindContext: Any, ProtocolBindingContext: CmBinding) -> int:
        b = ProtocolBindingContext
        b.unbind_context = UnbindContext
        b.unbinding = True
        # Ask every client to close our AF (closing-a-condis-call-manager-or-mcm.md); each close
        # reaches CmCloseAf, which moves the unbind on.
        for af in list(b.afs):
            self.ndis.NdisCmNotifyCloseAddressFamily(af.ndis_af)
        self._unbind_progress(b)
        return PENDING

    def _unbind_progress(self, b: CmBinding) -> None:
        if not b.unbinding or b.afs or b.signaling is None or b.signaling.then is not None:
            return
        sig_vc = b.signaling
        b.unanswered.clear()    # every call is closed: what is left unanswered is abandoned with the VC

        def deactivated(status: int) -> None:
            self.ndis.NdisCoDeleteVc(sig_vc.ndis_vc)
            b.signaling = None
            self.later(b, lambda: self.when_idle(b, lambda: self._close(b)))
        self.deactivate(sig_vc, deactivated)

    def _close(self, b: CmBinding) -> None:
        self._release(b)
        self.bindings.remove(b)
        self.ndis.NdisCompleteUnbindAdapterEx(b.unbind_context)

    def ProtocolNetPnPEvent(self, ProtocolBindingContext: Any, NetPnPEventNotification: Any) -> int:
        b = ProtocolBindingContext
        event = NetPnPEventNotification.NetEvent
        if event == NetEventPause and b.signaling is not None:
            # Pausing, the binding may still send: RESTART is the last message, and the peer clears
            # whatever it has with us. Our calls are cleared here the same way: without signaling
            # they cannot go on.
            self.restart(b)
            b.paused = True
            self._restarted(b)
        elif event == NetEventRestart:
            b.paused = False
        return SUCCESS

    def ProtocolCoStatusEx(self, ProtocolBindingContext: Any, ProtocolVcContext: Any, StatusIndication: Any) -> None:
        """Status of the NIC or one of our VCs; this sample has nothing to do with it."""

    def port_of(self, binding_context: CmBinding) -> Port:
        return binding_context

    def CmCloseAf(self, CallMgrAfContext: AfCtx) -> int:
        status = super().CmCloseAf(CallMgrAfContext)
        b = CallMgrAfContext.port
        if b.unbinding:
            self.later(b, lambda: self._unbind_progress(b))
        return status

    def CmNotifyCloseAfComplete(self, CallMgrAfContext: Any, Status: int) -> None:
        """The client finished closing an AF we asked it to close; CmCloseAf already moved the unbind on."""

    # ---- what CallControl needs from a stand-alone call manager --------------------------
    def send_message(self, port: Port, msg: sig.Message) -> None:
        b = port
        if b.signaling is None or b.paused:
            return                  # paused or unbinding: no signaling any more
        raw = msg.encode()
        nbl = self.ndis.NdisAllocateNetBufferAndNetBufferList(b.pool, 0, 0, raw, 0, len(raw))
        if nbl is None:
            return                  # lost here rather than on the wire: retransmission recovers it the same way
        nbl.SourceHandle = b.signaling.ndis_vc
        self.ndis.NdisCoSendNetBufferLists(b.signaling.ndis_vc, nbl, 0)

    def ProtocolCoSendNetBufferListsComplete(self, ProtocolVcContext: Any, NetBufferLists: Any,
                                             SendCompleteFlags: int) -> None:
        nbl = NetBufferLists
        while nbl is not None:
            nxt, nbl.Next = nbl.Next, None
            self.ndis.NdisFreeNetBufferList(nbl)
            nbl = nxt

    def ProtocolCoReceiveNetBufferLists(self, ProtocolBindingContext: CmBinding, ProtocolVcContext: Any,
                                        NetBufferLists: Any, NumberOfNetBufferLists: int, ReceiveFlags: int) -> None:
        b = ProtocolBindingContext
        frames = []
        nbl = NetBufferLists
        # Once it sent RESTART while pausing, the call manager hears nothing more on the binding:
        # what it asks of the peer from then on times out, as with a peer that went away.
        while nbl is not None and not b.paused:
            if ProtocolVcContext is b.signaling:
                frames.append(payload(nbl))
            nbl = nbl.Next
        # Decoded: the NET_BUFFER_LISTs go back at once, unless NDIS reclaims them itself on return.
        if not ReceiveFlags & NDIS_RECEIVE_FLAGS_RESOURCES:
            self.ndis.NdisReturnNetBufferLists(b.handle, NetBufferLists, ReceiveFlags & NDIS_RETURN_FLAGS_DISPATCH_LEVEL)
        for raw in frames:
            self.on_frame(b, raw)

    def create_vc(self, port: Port, af: AfCtx, vc: VcCtx) -> int:
        status, vc.ndis_vc = self.ndis.NdisCoCreateVc(port.handle, af.ndis_af, vc)
        return status

    def delete_vc(self, vc: VcCtx) -> int:
        return self.ndis.NdisCoDeleteVc(vc.ndis_vc)

    def activate(self, vc: VcCtx, then: Callable[[int], None]) -> None:
        if vc.then is not None:
            vc.waiting = [*vc.waiting, ("activate", then)]
            return
        vc.then = then
        status = self.ndis.NdisCmActivateVc(vc.ndis_vc, vc.params)
        if status != PENDING:
            vc.then = None
            then(status)

    def deactivate(self, vc: VcCtx, then: Callable[[int], None]) -> None:
        if vc.then is not None:
            vc.waiting = [*vc.waiting, ("deactivate", then)]
            return
        vc.then = then
        status = self.ndis.NdisCmDeactivateVc(vc.ndis_vc)
        if status != PENDING:
            vc.then = None
            then(status)

    # ---- requests -------------------------------------------------------------------------
    def CmOidRequest(self, CallMgrAfContext: Any, CallMgrVcContext: Any, CallMgrPartyContext: Any,
                     OidRequest: Any) -> int:
        return st.NDIS_STATUS_NOT_SUPPORTED

    def CmOidRequestComplete(self, CallMgrAfContext: Any, CallMgrVcContext: Any, CallMgrPartyContext: Any,
                             OidRequest: Any, Status: int) -> None:
        """This sample issues no requests of its own to clients."""
