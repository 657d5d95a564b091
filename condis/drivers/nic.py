"""The data path of the sample NICs: NET_BUFFER_LISTs to cells and back, shared by the MCM and the
plain CoNDIS miniport (both drive the same simulated hardware, a :class:`condis.WirePort`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from condis import _status as st
from condis.constants import (
    NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL,
    NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL,
    OID_GEN_CO_LINK_SPEED,
    NdisMediumAtm,
)
from condis.drivers.signaling import SIGNALING_VCI, Cell
from condis.structs import (
    NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES,
    NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES,
    NDIS_TIMER_CHARACTERISTICS,
    NET_BUFFER_LIST,
    NET_BUFFER_LIST_POOL_PARAMETERS,
)

LINK_SPEED = 155_520_000   # bits per second, an OC-3 line


def set_attributes(ndis: Any, handle: Any, context: Any) -> None:
    """The two attribute sets an ATM-like adapter reports from MiniportInitializeEx."""
    ndis.NdisMSetMiniportAttributes(handle, NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES(
        MiniportAdapterContext=context))
    ndis.NdisMSetMiniportAttributes(handle, NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES(
        MediaType=NdisMediumAtm, MtuSize=9180, MaxXmitLinkSpeed=LINK_SPEED, XmitLinkSpeed=LINK_SPEED,
        MaxRcvLinkSpeed=LINK_SPEED, RcvLinkSpeed=LINK_SPEED, MediaConnectState=1,
        SupportedOidList=[OID_GEN_CO_LINK_SPEED]))


def answer_oid(request: Any) -> int:
    """The miniport OIDs the sample adapters answer (condis-miniport-driver-oid-requests.md)."""
    if request.Oid == OID_GEN_CO_LINK_SPEED:
        request.InformationBuffer = (LINK_SPEED // 100, LINK_SPEED // 100)   # in 100 bps units
        request.BytesWritten = 8
        return 0
    return 0xC00000BB   # NDIS_STATUS_NOT_SUPPORTED


def payload(nbl: NET_BUFFER_LIST) -> bytes:
    """The bytes a NET_BUFFER_LIST's first NET_BUFFER describes."""
    nb = nbl.FirstNetBuffer
    return b"" if nb is None else nb.Data[nb.DataOffset:nb.DataOffset + nb.DataLength]


class CellNic:
    """One adapter's transmit and receive machinery.

    Sends are put on the wire at once and completed from a transmit-done timer (a DPC), as a NIC
    interrupts when its transmit ring drains. Each received cell is indicated on the VC its VCI is
    mapped to, without NDIS_RECEIVE_FLAGS_RESOURCES: the protocol owns its NET_BUFFER_LIST until it
    returns it, and the NIC frees it when NDIS hands it to MiniportReturnNetBufferLists
    (receiving-net-buffer-structures-in-condis-drivers.md).
    """

    def __init__(self, ndis: Any, adapter_handle: Any, port: Any, pool: Any,
                 on_signal: Callable[[Cell], None] | None) -> None:
        self.ndis = ndis
        self.adapter_handle = adapter_handle
        self.port = port
        self.on_signal = on_signal
        self.by_vci: dict[int, Any] = {}
        self.tx_done: list[tuple[Any, NET_BUFFER_LIST]] = []
        self.dropped = 0
        self.pool = pool
        self.timer: Any = None
        self.timer_armed = False

    @classmethod
    def open(cls, ndis: Any, adapter_handle: Any, port: Any, owner: Any,
             on_signal: Callable[[Cell], None] | None) -> CellNic | None:
        """Allocate the receive pool and the transmit-done timer and attach to the wire; None (with
        nothing left allocated) if an allocation failed, for MiniportInitializeEx to fail with."""
        # one NET_BUFFER per NET_BUFFER_LIST and no data buffer: the data is ours, passed as MdlChain
        # (nf-nblapi-ndisallocatenetbufferandnetbufferlist.md)
        pool = ndis.NdisAllocateNetBufferListPool(adapter_handle, NET_BUFFER_LIST_POOL_PARAMETERS(
            fAllocateNetBuffer=True, DataSize=0))
        if pool is None:
            return None
        nic = cls(ndis, adapter_handle, port, pool, on_signal)
        status, nic.timer = ndis.NdisAllocateTimerObject(adapter_handle, NDIS_TIMER_CHARACTERISTICS(
            TimerFunction=nic._transmit_done))
        if status != st.NDIS_STATUS_SUCCESS:
            ndis.NdisFreeNetBufferListPool(pool)
            return None
        port.attach(ndis, nic.on_cell, owner)
        return nic

    def close(self) -> None:
        self.port.detach()
        self.ndis.NdisCancelTimerObject(self.timer)
        self.ndis.NdisFreeTimerObject(self.timer)
        self.ndis.NdisFreeNetBufferListPool(self.pool)

    def map(self, vcis: Sequence[int], vc_handle: Any, mapped: tuple[int, ...] = ()) -> tuple[int, ...] | None:
        """Deliver the cells of ``vcis`` to ``vc_handle``, and no longer those of ``mapped``, the VCIs
        the VC was mapped to before. Returns the VCIs now mapped, for the VC to keep and hand back
        to the next map or unmap (the VC keeps them so that the NIC needs no table per VC); None,
        with nothing changed, if another VC has one of ``vcis`` already (the signaling VCI too): a
        VCI carries one VC, whatever the peer's signaling asked for."""
        by_vci = self.by_vci
        for vci in vcis:
            owner = by_vci.get(vci, vc_handle)
            if owner is not vc_handle or (vci == SIGNALING_VCI and self.on_signal is not None):
                return None
        self.unmap(mapped)
        for vci in vcis:
            by_vci[vci] = vc_handle
        return tuple(vcis)

    def unmap(self, mapped: tuple[int, ...]) -> None:
        """Stop delivering the cells of ``mapped`` (what :meth:`map` returned for a VC)."""
        by_vci = self.by_vci
        for vci in mapped:
            del by_vci[vci]

    def pending_sends(self, vc_handle: Any) -> int:
        return sum(1 for h, _ in self.tx_done if h is vc_handle)

    def transmit_cell(self, cell: Cell) -> None:
        self.port.transmit(cell)

    def send(self, vc_handle: Any, vcis: list[int], first: NET_BUFFER_LIST) -> None:
        nbl = first
        while nbl is not None:
            data = payload(nbl)
            for vci in vcis:
                self.port.transmit(Cell(vci, data))
            self.tx_done.append((vc_handle, nbl))
            nbl = nbl.Next
        if not self.timer_armed:
            self.timer_armed = True
            self.ndis.NdisSetTimerObject(self.timer, -10, 0, None)   # 1 us: the transmit ring drains

    def _transmit_done(self, s1: Any, ctx: Any, s2: Any, s3: Any) -> None:
        self.timer_armed = False
        done, self.tx_done = self.tx_done, []
        by_vc: dict[Any, list[NET_BUFFER_LIST]] = {}
        for h, nbl in done:
            by_vc.setdefault(h, []).append(nbl)
        for h, nbls in by_vc.items():
            for a, b in zip(nbls, nbls[1:], strict=False):
                a.Next = b
            nbls[-1].Next = None
            self.ndis.NdisMCoSendNetBufferListsComplete(h, nbls[0], NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL)

    def on_cell(self, cell: Cell) -> None:
        """The NIC's receive interrupt, at DISPATCH_LEVEL. What is no cell of bytes is line noise."""
        if type(cell) is not Cell or type(cell.payload) is not bytes:
            self.dropped += 1
            return
        if cell.vci == SIGNALING_VCI and self.on_signal is not None:
            self.on_signal(cell)
            return
        vc = self.by_vci.get(cell.vci)
        if vc is None:
            self.dropped += 1
            return
        nbl = self.ndis.NdisAllocateNetBufferAndNetBufferList(self.pool, 0, 0, cell.payload, 0, len(cell.payload))
        if nbl is None:
            self.dropped += 1       # no receive buffer: the cell is lost, as on a NIC whose ring is full
            return
        nbl.SourceHandle = vc
        self.ndis.NdisMCoIndicateReceiveNetBufferLists(vc, nbl, 1, NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL)

    def returned(self, first: NET_BUFFER_LIST) -> None:
        """MiniportReturnNetBufferLists: the receive buffers NDIS hands back are freed."""
        nbl = first
        while nbl is not None:
            nxt, nbl.Next = nbl.Next, None
            self.ndis.NdisFreeNetBufferList(nbl)
            nbl = nxt
