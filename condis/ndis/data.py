"""Sending and receiving NET_BUFFER_LISTs on VCs (guide: sending-and-receiving-data2.md,
sending-net-buffer-structures-from-condis-drivers.md, receiving-net-buffer-structures-in-condis-drivers.md).

Receives: NDIS hands protocols every indication with NDIS_RECEIVE_FLAGS_RESOURCES set, so ownership
of the NET_BUFFER_LISTs goes back to the miniport when NdisMCoIndicateReceiveNetBufferLists returns.
The receive page allows NDIS to indicate with other flags than the miniport's; this keeps
NdisReturnNetBufferLists, which is outside condis's DDI surface, out of the picture.
"""

from __future__ import annotations

from typing import Any

from condis._safe_repr import safe_repr
from condis.constants import NDIS_RECEIVE_FLAGS_RESOURCES
from condis.ndis import states as S
from condis.ndis.calls import CallDdi
from condis.ndis.objects import SIDE_CLIENT, SIDE_CM, SIDE_MCM, SIDE_MINIPORT, NblPool, Vc, VcHandle
from condis.ndis.validate import int_fault, nbl_chain_fault
from condis.structs import NET_BUFFER_LIST

_ACTIVE = S.VC_ACTIVE
_SEND_STATES = frozenset({S.CALL_CONNECTED, S.CALL_MODIFYING, S.CALL_ACCEPTED})
_CLOSED_STATES = (S.CALL_CLOSING, S.CALL_IDLE)
_MINIPORT_SIDES = (SIDE_MINIPORT, SIDE_MCM)
# Data may still arrive while a close is being negotiated, until the close completes (seed page).
_RECEIVE_STATES = _SEND_STATES | {S.CALL_CLOSING, S.CALL_CLOSE_INDICATED}


class DataDdi(CallDdi):
    """NdisCoSendNetBufferLists, NdisMCoSendNetBufferListsComplete, NdisMCoIndicateReceiveNetBufferLists."""

    def _nbls(self, ddi: str, first: Any) -> list[NET_BUFFER_LIST]:
        # the chain as a whole first: no loop, no other type, no field NDIS reads missing
        self._param(ddi, nbl_chain_fault(first))
        out = []
        nbl = first
        while nbl is not None:
            if nbl.Freed:
                raise self._violate("condis.NblState", ddi, f"{nbl!r} was already freed with NdisFreeNetBufferList")
            if type(nbl.Pool) is not NblPool or nbl not in nbl.Pool.allocated:
                # ddi: nf-ndis-ndiscosendnetbufferlists.md — the lists come from a pool NDIS allocated
                raise self._violate("condis.BadParameter", ddi,
                                    f"{nbl!r} was not allocated from a NET_BUFFER_LIST pool "
                                    "(NdisAllocateNetBufferAndNetBufferList)")
            out.append(nbl)
            nbl = nbl.Next
        if not out:
            raise self._violate("condis.BadParameter", ddi, "NetBufferLists is NULL")
        return out

    def _data_vc_ok(self, vc: Vc, states: frozenset[str]) -> bool:
        if vc.activation != S.VC_ACTIVE:
            return False
        # A call manager's signaling VC has no call: active is enough.
        return vc.af is None or vc.state in states

    def NdisCoSendNetBufferLists(self, NdisVcHandle: VcHandle, NetBufferLists: NET_BUFFER_LIST, SendFlags: int) -> None:
        # The usual send, accepted in one test: one NET_BUFFER_LIST of the client's, not freed and
        # not being sent already, on the client's handle of a live VC of this host (its route is
        # set) whose call is up on an active VC. Anything else takes the full checks below, which
        # say what is wrong.
        h, nbl = NdisVcHandle, NetBufferLists
        if type(h) is VcHandle and type(nbl) is NET_BUFFER_LIST and h.route is not None:
            send, ctx, vc = h.route, h.route_ctx, h.vc
            try:
                usual = (vc.ndis is self and nbl.SourceHandle is h and nbl.Next is None and not nbl.Freed
                         and type(nbl.Pool) is NblPool and vc.activation == _ACTIVE and vc.state in _SEND_STATES)
            except AttributeError:      # a field of the list deleted: the full checks say which
                usual = False
            if usual:
                sends = vc.sends
                if sends is None:
                    sends = vc.sends = set()
                if nbl not in sends:
                    sends.add(nbl)
                    if self.tracer is None:     # nothing to record: the manners check of _up, inline
                        irql, locks = self._irql, self._locks_held
                        send(ctx, nbl, SendFlags)
                        if self._irql != irql or self._locks_held != locks:
                            self._handler_manners("MiniportCoSendNetBufferLists", irql, locks)
                        return
                    self._up(send, "MiniportCoSendNetBufferLists", ctx, nbl, SendFlags)
                    return
        self._send_checked(NdisVcHandle, NetBufferLists, SendFlags)

    def _send_checked(self, NdisVcHandle: VcHandle, NetBufferLists: NET_BUFFER_LIST, SendFlags: int) -> None:
        ddi = "NdisCoSendNetBufferLists"
        vc = self._vch(ddi, NdisVcHandle, (SIDE_CLIENT, SIDE_CM))
        nbls = self._nbls(ddi, NetBufferLists)
        if NdisVcHandle.side == SIDE_CLIENT and vc.closed_by_client and vc.state in _CLOSED_STATES:
            raise self._violate("condis.SendAfterClose", ddi,
                                f"the client already called NdisClCloseCall on VC {vc.id:#x} ({vc.state})", vc=vc)
        if not self._data_vc_ok(vc, _SEND_STATES):
            raise self._violate("condis.SendOnInactiveVc", ddi,
                                f"VC {vc.id:#x} is {vc.activation} with call state {vc.state}; data flows on an "
                                "activated VC whose call is up", vc=vc)
        for nbl in nbls:
            if nbl.SourceHandle is not NdisVcHandle:
                raise self._violate("condis.BadParameter", ddi,
                                    f"{nbl!r}.SourceHandle must be the sender's NdisVcHandle {NdisVcHandle!r} "
                                    "(guide: sending-net-buffer-structures-from-condis-drivers.md)", vc=vc)
        sends = vc.sends
        if sends is None:
            sends = vc.sends = set()
        for nbl in nbls:
            if nbl in sends:
                raise self._violate("condis.NblState", ddi, f"{nbl!r} is already being sent on VC {vc.id:#x}", vc=vc)
        sends.update(nbls)
        mp = vc.adapter.miniport
        self._up(mp.co.CoSendNetBufferListsHandler, "MiniportCoSendNetBufferLists", vc.miniport_context,
                 NetBufferLists, SendFlags)

    def NdisMCoSendNetBufferListsComplete(self, NdisVcHandle: VcHandle, NetBufferLists: NET_BUFFER_LIST,
                                          SendCompleteFlags: int) -> None:
        # The usual completion, accepted in one test: one NET_BUFFER_LIST the client sent on this VC,
        # completed with the miniport's handle of a live VC of this host (its route is set).
        h, nbl = NdisVcHandle, NetBufferLists
        if type(h) is VcHandle and type(nbl) is NET_BUFFER_LIST and h.route is not None:
            done, ctx, vc = h.route, h.route_ctx, h.vc
            try:
                usual = vc.ndis is self and nbl.SourceHandle is vc.h_client and nbl.Next is None and not nbl.Freed
            except AttributeError:      # a field of the list deleted: the full checks say which
                usual = False
            if usual:
                sends = vc.sends
                if sends is not None and nbl in sends:
                    sends.discard(nbl)
                    if self.tracer is None:     # nothing to record: the manners check of _up, inline
                        irql, locks = self._irql, self._locks_held
                        done(ctx, nbl, SendCompleteFlags)
                        if self._irql != irql or self._locks_held != locks:
                            self._handler_manners("ProtocolCoSendNetBufferListsComplete", irql, locks)
                        return
                    self._up(done, "ProtocolCoSendNetBufferListsComplete", ctx, nbl, SendCompleteFlags)
                    return
        ddi = "NdisMCoSendNetBufferListsComplete"
        vc = self._vch(ddi, NdisVcHandle, _MINIPORT_SIDES)
        nbls = self._nbls(ddi, NetBufferLists)
        sends = vc.sends or set()
        stray = [n for n in nbls if n not in sends]
        if stray:
            raise self._violate("condis.SendComplete", ddi,
                                f"{stray} are not sends outstanding on VC {vc.id:#x} (never sent there, or already "
                                "completed)", vc=vc)
        senders = (vc.h_client, vc.h_cm) if vc.cm_binding is not None else (vc.h_client,)
        for n in nbls:
            if n.SourceHandle is None or not any(n.SourceHandle is s for s in senders):
                # NDIS returns each list to the driver its SourceHandle names, so it must still be the
                # sender's handle (guide: sending-net-buffer-structures-from-condis-drivers.md)
                raise self._violate("condis.BadParameter", ddi,
                                    f"{n!r}.SourceHandle is {safe_repr(n.SourceHandle)}, not the handle of the driver "
                                    f"that sent it on VC {vc.id:#x}; a miniport leaves SourceHandle as it got it",
                                    vc=vc)
        sends.difference_update(nbls)
        self._return_sends(vc, NetBufferLists, SendCompleteFlags)

    def _return_sends(self, vc: Vc, first: NET_BUFFER_LIST, flags: int) -> None:
        """Return each NET_BUFFER_LIST to the protocol that sent it, in the order the miniport gave."""
        side = first.SourceHandle.side
        nbl = first.Next
        while nbl is not None and nbl.SourceHandle.side == side:
            nbl = nbl.Next
        if nbl is None:     # one sender, the usual case: the chain goes back as it is
            self._sends_done(vc, side, first, flags)
            return
        groups: dict[str, list[NET_BUFFER_LIST]] = {}
        nbl = first
        while nbl is not None:
            groups.setdefault(nbl.SourceHandle.side, []).append(nbl)
            nbl = nbl.Next
        for group in groups.values():
            for a, b in zip(group, group[1:], strict=False):
                a.Next = b
            group[-1].Next = None
        for side, group in groups.items():
            self._sends_done(vc, side, group[0], flags)

    def _sends_done(self, vc: Vc, side: str, first: NET_BUFFER_LIST, flags: int) -> None:
        if side == SIDE_CLIENT:
            co, ctx = vc.af.client.protocol.co, vc.client_context
        else:
            co, ctx = vc.cm_binding.protocol.co, vc.cm_context
        self._up(co.CoSendNetBufferListsCompleteHandler, "ProtocolCoSendNetBufferListsComplete", ctx, first, flags)

    # ------------------------------------------------------------------ verifier off
    # With the verifier off and no tracer (condis.verifier, mode "off") the host calls these instead
    # of the checked DDIs above: they route the data and nothing else, straight to the handler.
    # NDIS keeps no account of the sends outstanding, so nothing at close or teardown looks for them.

    def _unchecked_NdisCoSendNetBufferLists(self, NdisVcHandle: VcHandle, NetBufferLists: NET_BUFFER_LIST,
                                            SendFlags: int) -> None:
        h = NdisVcHandle
        send = h.route
        if send is None:        # not the client's handle of a live VC: what to do is for the checks to say
            self._send_checked(h, NetBufferLists, SendFlags)
            return
        send(h.route_ctx, NetBufferLists, SendFlags)

    def _unchecked_NdisMCoSendNetBufferListsComplete(self, NdisVcHandle: VcHandle, NetBufferLists: NET_BUFFER_LIST,
                                                     SendCompleteFlags: int) -> None:
        h = NdisVcHandle
        done = h.route
        if done is not None and NetBufferLists.Next is None and NetBufferLists.SourceHandle.side == SIDE_CLIENT:
            # one NET_BUFFER_LIST from the client: straight back to it
            done(h.route_ctx, NetBufferLists, SendCompleteFlags)
        else:
            self._return_sends(NdisVcHandle.vc, NetBufferLists, SendCompleteFlags)

    def NdisMCoIndicateReceiveNetBufferLists(self, NdisVcHandle: VcHandle, NetBufferLists: NET_BUFFER_LIST,
                                             NumberOfNetBufferLists: int, CoReceiveFlags: int) -> None:
        ddi = "NdisMCoIndicateReceiveNetBufferLists"
        vc = self._vch(ddi, NdisVcHandle, (SIDE_MINIPORT, SIDE_MCM))
        nbls = self._nbls(ddi, NetBufferLists)
        self._param(ddi, int_fault(CoReceiveFlags, "CoReceiveFlags"))    # NDIS adds its own flag to them
        if NumberOfNetBufferLists != len(nbls):
            raise self._violate("condis.BadParameter", ddi,
                                f"NumberOfNetBufferLists is {NumberOfNetBufferLists} but the chain holds {len(nbls)}")
        if not self._data_vc_ok(vc, _RECEIVE_STATES):
            raise self._violate("condis.SendOnInactiveVc", ddi,
                                f"VC {vc.id:#x} is {vc.activation} with call state {vc.state}; a VC carries no data "
                                "once it is deactivated or its call closed (seed: NdisMCmCloseCallComplete)", vc=vc)
        for n in nbls:
            if n.SourceHandle is not NdisVcHandle:
                raise self._violate("condis.BadParameter", ddi,
                                    f"{n!r}.SourceHandle must be {NdisVcHandle!r} (guide: receiving-net-buffer-"
                                    "structures-in-condis-drivers.md)", vc=vc)
        flags = CoReceiveFlags | NDIS_RECEIVE_FLAGS_RESOURCES
        if vc.af is None:
            proto, ctx, binding = vc.cm_binding.protocol, vc.cm_context, vc.cm_binding
        else:
            binding = vc.af.client
            proto, ctx = binding.protocol, vc.client_context
        self._up(proto.co.CoReceiveNetBufferListsHandler, "ProtocolCoReceiveNetBufferLists", binding.context, ctx,
                 NetBufferLists, NumberOfNetBufferLists, flags)
