"""A sample MCM: a miniport for an ATM-like NIC with integrated call management.

Registers as a CoNDIS miniport with call-manager handlers (guide: condis-mcm-registration.md),
registers its AF from MiniportInitializeEx (differences-in-initialization.md), signals over the
wire itself, and creates, activates, deactivates and deletes client VCs through NdisMCm* calls
(differences-in-virtual-connections.md). Its signaling VC never reaches NDIS.

Load it with ``ndis.load_driver(AtmMcm().DriverEntry, "atmmcm")`` and start an adapter with
``ndis.add_adapter("atmmcm", "atm0", wire.a)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from condis import _status as st
from condis.constants import CO_ADDRESS_FAMILY_Q2931, OID_CO_GET_CALL_INFORMATION
from condis.drivers import signaling as sig
from condis.drivers.callcontrol import AfCtx, CallControl, Port, VcCtx
from condis.drivers.nic import CellNic, answer_oid, set_attributes
from condis.structs import (
    CO_ADDRESS_FAMILY,
    NDIS_MINIPORT_CO_CHARACTERISTICS,
    NDIS_MINIPORT_DRIVER_CHARACTERISTICS,
)

SUCCESS = st.NDIS_STATUS_SUCCESS


class McmAdapter(Port):
    """MiniportAdapterContext."""

    def __init__(self, handle: Any, wire_port: Any) -> None:
        super().__init__(odd=wire_port.name.endswith(".b"))
        self.handle = handle
        self.wire_port = wire_port
        self.nic: CellNic | None = None


class AtmMcm(CallControl):
    """The MCM driver. One instance is one loaded driver image; it may run several adapters."""

    prefix = "NdisMCm"

    def __init__(self) -> None:
        super().__init__()
        self.driver_handle: Any = None
        self.adapters: list[McmAdapter] = []

    # ---- DriverEntry and registration ------------------------------------------------------
    def DriverEntry(self, ndis: Any, DriverObject: Any, RegistryPath: str) -> int:
        self.ndis = ndis
        chars = NDIS_MINIPORT_DRIVER_CHARACTERISTICS(
            SetOptionsHandler=self.SetOptions, InitializeHandlerEx=self.MiniportInitializeEx,
            HaltHandlerEx=self.MiniportHaltEx, UnloadHandler=self.MiniportDriverUnload,
            PauseHandler=self.MiniportPause, RestartHandler=self.MiniportRestart,
            ReturnNetBufferListsHandler=self.MiniportReturnNetBufferLists)
        status, self.driver_handle = ndis.NdisMRegisterMiniportDriver(DriverObject, RegistryPath, self, chars)
        return status

    def SetOptions(self, NdisDriverHandle: Any, DriverContext: Any) -> int:
        ndis = self.ndis
        status = ndis.NdisSetOptionalHandlers(NdisDriverHandle, NDIS_MINIPORT_CO_CHARACTERISTICS(
            CoSendNetBufferListsHandler=self.MiniportCoSendNetBufferLists,
            CoOidRequestHandler=self.MiniportCoOidRequest))
        if status != SUCCESS:
            return status
        return ndis.NdisSetOptionalHandlers(NdisDriverHandle, self.call_manager_handlers())

    def MiniportReturnNetBufferLists(self, MiniportAdapterContext: McmAdapter, NetBufferLists: Any,
                                     ReturnFlags: int) -> None:
        """A protocol returned received NET_BUFFER_LISTs: the NIC frees them."""
        MiniportAdapterContext.nic.returned(NetBufferLists)

    def MiniportDriverUnload(self, DriverObject: Any) -> None:
        self.ndis.NdisMDeregisterMiniportDriver(self.driver_handle)

    # ---- adapter lifetime ------------------------------------------------------------------
    def MiniportInitializeEx(self, NdisMiniportHandle: Any, MiniportDriverContext: Any,
                             MiniportInitParameters: Any) -> int:
        ndis = self.ndis
        wire_port = MiniportInitParameters.AllocatedResources
        if wire_port is None:
            return st.NDIS_STATUS_RESOURCES
        adapter = McmAdapter(NdisMiniportHandle, wire_port)
        set_attributes(ndis, NdisMiniportHandle, adapter)
        adapter.nic = CellNic.open(ndis, NdisMiniportHandle, wire_port, self.driver_handle,
                                   lambda cell: self.on_frame(adapter, cell.payload))
        if adapter.nic is None:
            return st.NDIS_STATUS_RESOURCES
        status = self.open_port(adapter)
        if status == SUCCESS:
            status = ndis.NdisMCmRegisterAddressFamilyEx(NdisMiniportHandle,
                                                         CO_ADDRESS_FAMILY(CO_ADDRESS_FAMILY_Q2931, 3, 1))
        if status != SUCCESS:
            self.close_port(adapter)
            adapter.nic.close()
            return status
        self.adapters.append(adapter)
        return SUCCESS

    def MiniportRestart(self, MiniportAdapterContext: McmAdapter, RestartParameters: Any) -> int:
        return SUCCESS

    def MiniportPause(self, MiniportAdapterContext: McmAdapter, PauseParameters: Any) -> int:
        return SUCCESS

    def MiniportHaltEx(self, MiniportAdapterContext: McmAdapter, HaltAction: int) -> None:
        adapter = MiniportAdapterContext
        self.restart(adapter)
        self.close_port(adapter)
        if adapter.nic is not None:
            adapter.nic.close()
        self.adapters.remove(adapter)

    def port_of(self, binding_context: McmAdapter) -> Port:
        return binding_context

    # ---- what CallControl needs from an MCM ---------------------------------------------
    def send_message(self, port: Port, msg: sig.Message) -> None:
        port.nic.transmit_cell(sig.signal(msg))

    def create_vc(self, port: Port, af: AfCtx, vc: VcCtx) -> int:
        status, vc.ndis_vc = self.ndis.NdisMCmCreateVc(port.handle, af.ndis_af, vc)
        return status

    def delete_vc(self, vc: VcCtx) -> int:
        return self.ndis.NdisMCmDeleteVc(vc.ndis_vc)

    def activate(self, vc: VcCtx, then: Callable[[int], None]) -> None:
        nic = vc.port.nic
        mapped = nic.map(vc.vcis, vc.ndis_vc, vc.mapped) if nic.port.program() else None
        if mapped is None:
            then(st.NDIS_STATUS_RESOURCES)      # the NIC cannot carry the VC: nothing to tell NDIS
            return
        vc.mapped = mapped
        status = self.ndis.NdisMCmActivateVc(vc.ndis_vc, vc.params)
        if status == st.NDIS_STATUS_PENDING:
            vc.then = then
        else:
            then(status)

    def deactivate(self, vc: VcCtx, then: Callable[[int], None]) -> None:
        vc.port.nic.unmap(vc.mapped)
        vc.mapped = ()
        status = self.ndis.NdisMCmDeactivateVc(vc.ndis_vc)
        if status == st.NDIS_STATUS_PENDING:
            vc.then = then
        else:
            then(status)

    # ---- data and requests ----------------------------------------------------------------
    def MiniportCoSendNetBufferLists(self, MiniportVcContext: VcCtx, NetBufferLists: Any, SendFlags: int) -> None:
        vc = MiniportVcContext
        vc.port.nic.send(vc.ndis_vc, vc.vcis, NetBufferLists)

    def MiniportCoOidRequest(self, MiniportAdapterContext: McmAdapter, MiniportVcContext: Any, NdisRequest: Any) -> int:
        return answer_oid(NdisRequest)

    def CmOidRequest(self, CallMgrAfContext: Any, CallMgrVcContext: Any, CallMgrPartyContext: Any,
                     OidRequest: Any) -> int:
        if OidRequest.Oid == OID_CO_GET_CALL_INFORMATION and CallMgrVcContext is not None:
            OidRequest.InformationBuffer = CallMgrVcContext.params
            OidRequest.BytesWritten = 1
            return SUCCESS
        return st.NDIS_STATUS_NOT_SUPPORTED

    def CmOidRequestComplete(self, CallMgrAfContext: Any, CallMgrVcContext: Any, CallMgrPartyContext: Any,
                             OidRequest: Any, Status: int) -> None:
        """The MCM asks its clients nothing in this sample, so no request of its own completes."""

    def CmNotifyCloseAfComplete(self, CallMgrAfContext: Any, Status: int) -> None:
        """The client closed the AF we asked it to close (closing-a-condis-call-manager-or-mcm.md)."""

    def withdraw_af(self, adapter: McmAdapter) -> list[int]:
        """Ask every client to close our AF on ``adapter`` (NdisMCmNotifyCloseAddressFamily, PASSIVE_LEVEL)."""
        return [self.ndis.NdisMCmNotifyCloseAddressFamily(af.ndis_af) for af in list(adapter.afs)]
