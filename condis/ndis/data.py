"""Sending and receiving NET_BUFFER_LISTs on VCs (guide: sending-and-receiving-data2.md,
sending-net-buffer-structures-from-condis-drivers.md, receiving-net-buffer-structures-in-condis-drivers.md).

Receives: NDIS indicates with the miniport's flags. With NDIS_RECEIVE_FLAGS_RESOURCES set, the
NET_BUFFER_LISTs are the miniport's again when ProtocolCoReceiveNetBufferLists returns. Without it,
the protocol owns them until it hands them back with NdisReturnNetBufferLists (an NDIS 6
ProtocolCoReceiveNetBufferLists returns nothing, so it cannot give them back by its return value:
ddi: nc-ndis-protocol_co_receive_net_buffer_lists.md), and NDIS then gives them to the miniport's
MiniportReturnNetBufferLists, in whatever groups they come back in.
"""

from __future__ import annotations

from typing import Any

from condis._safe_repr import safe_repr
from condis.constants import DISPATCH_LEVEL, IRQL_NAMES, NDIS_RECEIVE_FLAGS_RESOURCES, NDIS_RETURN_FLAGS_DISPATCH_LEVEL
from condis.ndis import states as S
from condis.ndis.calls import CallDdi
from condis.ndis.objects import SIDE_CLIENT, SIDE_CM, SIDE_MCM, SIDE_MINIPORT, Adapter, Binding, NblPool, Vc, VcHandle
from condis.ndis.validate import int_fault, nbl_chain_fault
from condis.structs import NET_BUFFER_LIST

_ACTIVE = S.VC_ACTIVE
_SEND_STATES = frozenset({S.CALL_CONNECTED, S.CALL_MODIFYING, S.CALL_ACCEPTED})
_CLOSED_STATES = (S.CALL_CLOSING, S.CALL_IDLE)
_MINIPORT_SIDES = (SIDE_MINIPORT, SIDE_MCM)
# Data may still arrive while a close is being negotiated, until the close completes (seed page).
_RECEIVE_STATES = _SEND_STATES | {S.CALL_CLOSING, S.CALL_CLOSE_INDICATED}


class DataDdi(CallDdi):
    """NdisCoSendNetBufferLists, NdisMCoSendNetBufferListsComplete, NdisMCoIndicateReceiveNetBufferLists,
    NdisReturnNetBufferLists."""

    def __init__(self, name: str, sim: Any) -> None:
        super().__init__(name, sim)
        # NET_BUFFER_LISTs indicated without NDIS_RECEIVE_FLAGS_RESOURCES -> the binding that owns them
        # until it returns them with NdisReturnNetBufferLists
        self._received: dict[NET_BUFFER_LIST, Binding] = {}

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
        # A VC carries data once activated (guide: activating-a-vc.md), and goes on carrying it while
        # its call manager re-activates it to change an active call's parameters: MiniportCoActivateVc
        # may be called many times for one VC, and the client and call manager may keep sending and
        # receiving with the older parameters until the new ones take (ddi: nc-ndis-miniport_co_activate_vc.md);
        # a failed re-activation restores those (nf-ndis-ndismcoactivatevccomplete.md). So data is
        # refused during a VC's first activation only; a re-activation keeps the parameters the VC
        # was active with in call_params_prev until it completes (condis/ndis/vc.py).
        if vc.activation != S.VC_ACTIVE and not (vc.activation == S.VC_ACTIVATING and vc.call_params_prev is not None):
            return False
        # A call manager's signaling VC has no call: active is enough.
        return vc.af is None or vc.state in states

    def NdisCoSendNetBufferLists(self, NdisVcHandle: VcHandle, NetBufferLists: NET_BUFFER_LIST, SendFlags: int) -> None:
        # The usual send, accepted in one test: one NET_BUFFER_LIST of the client's, not freed and
        # not being sent already, on the client's handle of a live VC of this host (its route is
        # set) whose call is up on an active VC, at DISPATCH_LEVEL or below (not from an interrupt;
        # the IRQL is read here once, for the manners check too). Anything else takes the full
        # checks below, which say what is wrong.
        h, nbl = NdisVcHandle, NetBufferLists
        if type(h) is VcHandle and type(nbl) is NET_BUFFER_LIST and h.route is not None:
            send, ctx, vc = h.route, h.route_ctx, h.vc
            try:
                usual = (vc.ndis is self and nbl.SourceHandle is h and nbl.Next is None and not nbl.Freed
                         and type(nbl.Pool) is NblPool and vc.activation == _ACTIVE and vc.state in _SEND_STATES
                         and (irql := self._irql) <= DISPATCH_LEVEL)
            except AttributeError:      # a field of the list deleted: the full checks say which
                usual = False
            if usual:
                sends = vc.sends
                if sends is None:
                    sends = vc.sends = set()
                if nbl not in sends:
                    sends.add(nbl)
                    if self.tracer is None:     # nothing to record: the manners check of _up, inline
                        locks = self._locks_held
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
        binding = vc.af.client if NdisVcHandle.side == SIDE_CLIENT else vc.cm_binding
        if binding.state != S.BINDING_RUNNING:
            # guide: protocol-binding-states-and-operations.md — a protocol sends in the Running and
            # Pausing states only (Pausing is while its ProtocolNetPnPEvent(NetEventPause) runs; the
            # binding is Paused once that returned, and stays so while it unbinds). Real NDIS would
            # complete such sends with NDIS_STATUS_PAUSED, as a paused miniport does
            # (nc-ndis-miniport_pause.md); condis reports the protocol's error instead, and in record
            # mode refuses the call, so the protocol keeps its NET_BUFFER_LISTs.
            raise self._violate("condis.SendOnPausedBinding", ddi,
                                f"{binding!r} is {binding.state}"
                                f"{' (unbinding)' if binding.unbind_context is not None else ''}; a protocol "
                                "sends on a running binding only", vc=vc)
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
                raise self._violate("condis.NblState", ddi, f"{nbl!r} is already being sent on VC {vc.id:#x}",
                                    page="guide/sending-net-buffer-structures-from-condis-drivers.md", vc=vc)
        sends.update(nbls)
        mp = vc.adapter.miniport
        self._up(mp.co.CoSendNetBufferListsHandler, "MiniportCoSendNetBufferLists", vc.miniport_context,
                 NetBufferLists, SendFlags)

    def NdisMCoSendNetBufferListsComplete(self, NdisVcHandle: VcHandle, NetBufferLists: NET_BUFFER_LIST,
                                          SendCompleteFlags: int) -> None:
        # The usual completion, accepted in one test: one NET_BUFFER_LIST the client sent on this VC,
        # completed with the miniport's handle of a live VC of this host (its route is set), at
        # DISPATCH_LEVEL or below.
        h, nbl = NdisVcHandle, NetBufferLists
        if type(h) is VcHandle and type(nbl) is NET_BUFFER_LIST and h.route is not None:
            done, ctx, vc = h.route, h.route_ctx, h.vc
            try:
                usual = (vc.ndis is self and nbl.SourceHandle is vc.h_client and nbl.Next is None and not nbl.Freed
                         and (irql := self._irql) <= DISPATCH_LEVEL)
            except AttributeError:      # a field of the list deleted: the full checks say which
                usual = False
            if usual:
                sends = vc.sends
                if sends is not None and nbl in sends:
                    sends.discard(nbl)
                    if self.tracer is None:     # nothing to record: the manners check of _up, inline
                        locks = self._locks_held
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
        for b in (vc.af.client if vc.af is not None else None, vc.cm_binding):
            if b is not None and b.pausing is not None and not b.pausing.done and not self._sends_of(b):
                b.pausing.fire()    # the last send of a pausing binding completed: it is Paused now

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
            co, ctx = vc.af.client.co, vc.client_context
        else:
            co, ctx = vc.cm_binding.co, vc.cm_context
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
                                "before its first activation completes, nor once it is deactivated or its call "
                                "closed (seed: NdisMCmCloseCallComplete)", vc=vc)
        for n in nbls:
            if n.SourceHandle is not NdisVcHandle:
                raise self._violate("condis.BadParameter", ddi,
                                    f"{n!r}.SourceHandle must be {NdisVcHandle!r} (guide: receiving-net-buffer-"
                                    "structures-in-condis-drivers.md)", vc=vc)
        if vc.af is None:
            ctx, binding = vc.cm_context, vc.cm_binding
        else:
            binding = vc.af.client
            ctx = vc.client_context
        keep = not CoReceiveFlags & NDIS_RECEIVE_FLAGS_RESOURCES
        if keep:
            received = self._received
            held = [n for n in nbls if n in received]
            if held:
                raise self._violate("condis.NblState", ddi,
                                    f"{held} are still owned by {received[held[0]]!r}, which has not returned them "
                                    "with NdisReturnNetBufferLists", vc=vc)
            returned = vc.adapter.miniport.chars.ReturnNetBufferListsHandler
            if returned is None:
                raise self._violate("condis.MissingHandler", ddi,
                                    f"{vc.adapter.miniport.name!r} indicates without NDIS_RECEIVE_FLAGS_RESOURCES "
                                    "but registered no ReturnNetBufferListsHandler for NDIS to give them back to",
                                    vc=vc)
        if binding.state != S.BINDING_RUNNING:
            # guide: protocol-binding-states-and-operations.md — a binding receives while Running or
            # Pausing only (condis keeps a pausing binding RUNNING until it is Paused). NDIS does not
            # indicate to a paused one: what the miniport let go of goes straight back to it.
            if keep:
                self._up(returned, "MiniportReturnNetBufferLists", vc.adapter.context, NetBufferLists,
                         NDIS_RETURN_FLAGS_DISPATCH_LEVEL if self._irql == DISPATCH_LEVEL else 0)
            return
        if keep:
            for n in nbls:
                received[n] = binding
        self._up(binding.co.CoReceiveNetBufferListsHandler, "ProtocolCoReceiveNetBufferLists", binding.context, ctx,
                 NetBufferLists, NumberOfNetBufferLists, CoReceiveFlags)

    def NdisReturnNetBufferLists(self, NdisBindingHandle: Binding, NetBufferLists: NET_BUFFER_LIST,
                                 ReturnFlags: int) -> None:
        """A protocol gives back NET_BUFFER_LISTs it was indicated without NDIS_RECEIVE_FLAGS_RESOURCES;
        NDIS returns them to the miniport that indicated them (MiniportReturnNetBufferLists).

        support: nf-ndis-ndisreturnnetbufferlists.md — every one of them from the binding named, from
        any number of earlier indications; guide: receiving-net-buffer-structures-in-condis-drivers.md.
        """
        ddi = "NdisReturnNetBufferLists"
        if self._irql > DISPATCH_LEVEL:
            raise self._violate("Irql_SendRcv_Function", ddi,
                                f"called at {IRQL_NAMES[self._irql]}; its page allows <= DISPATCH_LEVEL")
        b = NdisBindingHandle
        if type(b) is not Binding or b.ndis is not self or b.state == S.BINDING_UNBOUND:
            raise self._bad_handle(ddi, "NdisBindingHandle", b, Binding)
        # Ownership first: a list returned already is usually freed already too, and returning it
        # again is the protocol's error whatever the miniport did with it since.
        received = self._received
        nbls: list[NET_BUFFER_LIST] = []
        n = NetBufferLists
        while n is not None:
            if type(n) is not NET_BUFFER_LIST:
                raise self._violate("condis.BadParameter", ddi, f"NetBufferLists must chain NET_BUFFER_LISTs; got {n!r}")
            owner = received.get(n)
            if owner is not b:
                why = ("was never indicated to it without NDIS_RECEIVE_FLAGS_RESOURCES, or was returned already"
                       if owner is None else f"was indicated to {owner!r}")
                raise self._violate("condis.ReturnNbl", ddi, f"{n!r} is not a NET_BUFFER_LIST {b!r} owns: it {why}")
            nbls.append(n)
            n = n.Next
        if not nbls:
            raise self._violate("condis.BadParameter", ddi, "NetBufferLists is NULL")
        by_adapter: dict[Adapter, list[NET_BUFFER_LIST]] = {}
        for n in nbls:
            del received[n]
            by_adapter.setdefault(n.SourceHandle.vc.adapter, []).append(n)
        for adapter, group in by_adapter.items():
            for a, nxt in zip(group, group[1:], strict=False):
                a.Next = nxt
            group[-1].Next = None
            self._up(adapter.miniport.chars.ReturnNetBufferListsHandler, "MiniportReturnNetBufferLists",
                     adapter.context, group[0], ReturnFlags)
