"""A sample CoNDIS miniport for the same ATM-like NIC, with no call management of its own.

A stand-alone call manager (:mod:`condis.drivers.cm`) binds to it. NDIS asks it to create, activate,
deactivate and delete VCs (guide: connection-oriented-operations-performed-by-miniport-drivers.md);
it learns a VC's VCIs from the media parameters the call manager activates it with. Activation and
deactivation complete asynchronously, as NIC programming does; deactivation waits until the
VC's sends are completed (deactivating-a-vc.md).
"""

from __future__ import annotations

from typing import Any

from condis import _status as st
from condis.drivers.nic import CellNic, answer_oid, set_attributes
from condis.drivers.signaling import vcis_of
from condis.structs import (
    NDIS_MINIPORT_CO_CHARACTERISTICS,
    NDIS_MINIPORT_DRIVER_CHARACTERISTICS,
    NDIS_TIMER_CHARACTERISTICS,
)

SUCCESS = st.NDIS_STATUS_SUCCESS
PENDING = st.NDIS_STATUS_PENDING
PROGRAMMING_100NS = -20    # 2 us to program the NIC for a VC


class MpAdapter:
    """MiniportAdapterContext."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle
        self.nic: CellNic | None = None
        self.vcs: dict[MpVc, None] = {}


class MpVc:
    """MiniportVcContext."""

    def __init__(self, adapter: MpAdapter, handle: Any) -> None:
        self.adapter = adapter
        self.handle = handle
        self.vcis: list[int] = []
        self.mapped: tuple[int, ...] = ()      # the VCIs the NIC delivers to this VC (CellNic.map)
        self.params: Any = None
        self.activating: list[int] = []       # the VCIs of the activation under way
        self.timer: Any = None
        self.work = ""      # "activate" / "deactivate" while the NIC is being programmed


class AtmMiniport:
    """The miniport driver: one instance is one loaded driver image."""

    def __init__(self) -> None:
        self.ndis: Any = None
        self.driver_handle: Any = None

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
        return self.ndis.NdisSetOptionalHandlers(NdisDriverHandle, NDIS_MINIPORT_CO_CHARACTERISTICS(
            CoCreateVcHandler=self.MiniportCoCreateVc, CoDeleteVcHandler=self.MiniportCoDeleteVc,
            CoActivateVcHandler=self.MiniportCoActivateVc, CoDeactivateVcHandler=self.MiniportCoDeactivateVc,
            CoSendNetBufferListsHandler=self.MiniportCoSendNetBufferLists,
            CoOidRequestHandler=self.MiniportCoOidRequest))

    def MiniportReturnNetBufferLists(self, MiniportAdapterContext: MpAdapter, NetBufferLists: Any,
                                     ReturnFlags: int) -> None:
        """A protocol returned received NET_BUFFER_LISTs: the NIC frees them."""
        MiniportAdapterContext.nic.returned(NetBufferLists)

    def MiniportDriverUnload(self, DriverObject: Any) -> None:
        self.ndis.NdisMDeregisterMiniportDriver(self.driver_handle)

    def MiniportInitializeEx(self, NdisMiniportHandle: Any, MiniportDriverContext: Any,
                             MiniportInitParameters: Any) -> int:
        wire_port = MiniportInitParameters.AllocatedResources
        if wire_port is None:
            return st.NDIS_STATUS_RESOURCES
        adapter = MpAdapter(NdisMiniportHandle)
        set_attributes(self.ndis, NdisMiniportHandle, adapter)
        adapter.nic = CellNic.open(self.ndis, NdisMiniportHandle, wire_port, self.driver_handle, None)
        return SUCCESS if adapter.nic is not None else st.NDIS_STATUS_RESOURCES

    def MiniportRestart(self, MiniportAdapterContext: MpAdapter, RestartParameters: Any) -> int:
        return SUCCESS

    def MiniportPause(self, MiniportAdapterContext: MpAdapter, PauseParameters: Any) -> int:
        return SUCCESS

    def MiniportHaltEx(self, MiniportAdapterContext: MpAdapter, HaltAction: int) -> None:
        MiniportAdapterContext.nic.close()

    # ---- VCs ------------------------------------------------------------------------------
    def MiniportCoCreateVc(self, MiniportAdapterContext: MpAdapter, NdisVcHandle: Any) -> tuple[int, Any]:
        vc = MpVc(MiniportAdapterContext, NdisVcHandle)
        status, vc.timer = self.ndis.NdisAllocateTimerObject(MiniportAdapterContext.handle, NDIS_TIMER_CHARACTERISTICS(
            TimerFunction=self._programmed, FunctionContext=vc))
        if status != SUCCESS:
            return st.NDIS_STATUS_RESOURCES, None
        MiniportAdapterContext.vcs[vc] = None
        return SUCCESS, vc

    def MiniportCoDeleteVc(self, MiniportVcContext: MpVc) -> int:
        vc = MiniportVcContext
        self.ndis.NdisFreeTimerObject(vc.timer)
        del vc.adapter.vcs[vc]
        return SUCCESS

    def MiniportCoActivateVc(self, MiniportVcContext: MpVc, CallParameters: Any) -> int:
        vc = MiniportVcContext
        vcis = vcis_of(CallParameters)
        if not vcis:
            return st.NDIS_STATUS_INVALID_DATA
        if not vc.adapter.nic.port.program():
            return st.NDIS_STATUS_RESOURCES     # the NIC has no room for another VC
        # The VCIs carry the VC once the activation completes: NDIS takes no data on a VC before
        # (activating-a-vc.md), so a cell that arrives while the NIC is programmed is dropped.
        vc.activating, vc.params = vcis, CallParameters
        vc.work = "activate"
        self.ndis.NdisSetTimerObject(vc.timer, PROGRAMMING_100NS, 0, vc)
        return PENDING

    def MiniportCoDeactivateVc(self, MiniportVcContext: MpVc) -> int:
        vc = MiniportVcContext
        vc.adapter.nic.unmap(vc.mapped)
        vc.mapped = ()
        vc.work = "deactivate"
        self.ndis.NdisSetTimerObject(vc.timer, PROGRAMMING_100NS, 0, vc)
        return PENDING

    def _programmed(self, s1: Any, vc: MpVc, s2: Any, s3: Any) -> None:
        if vc.work == "activate":
            vc.work = ""
            mapped = vc.adapter.nic.map(vc.activating, vc.handle, vc.mapped)
            if mapped is None:      # another VC has one of these VCIs
                self.ndis.NdisMCoActivateVcComplete(st.NDIS_STATUS_RESOURCES, vc.handle, vc.params)
                return
            vc.vcis, vc.mapped = vc.activating, mapped
            self.ndis.NdisMCoActivateVcComplete(SUCCESS, vc.handle, vc.params)
        elif vc.adapter.nic.pending_sends(vc.handle):
            self.ndis.NdisSetTimerObject(vc.timer, PROGRAMMING_100NS, 0, vc)   # sends still draining
        else:
            vc.work = ""
            vc.vcis = []
            self.ndis.NdisMCoDeactivateVcComplete(SUCCESS, vc.handle)

    # ---- data and requests ----------------------------------------------------------------
    def MiniportCoSendNetBufferLists(self, MiniportVcContext: MpVc, NetBufferLists: Any, SendFlags: int) -> None:
        vc = MiniportVcContext
        vc.adapter.nic.send(vc.handle, vc.vcis, NetBufferLists)

    def MiniportCoOidRequest(self, MiniportAdapterContext: MpAdapter, MiniportVcContext: Any, NdisRequest: Any) -> int:
        return answer_oid(NdisRequest)
