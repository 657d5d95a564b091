"""Each guide flow through a stand-alone call manager over a CoNDIS miniport (guide/images/cm-*.png):
NDIS passes VC creation, activation, deactivation and deletion on to the miniport, and the call
manager signals over its own VC with NdisCoSendNetBufferLists."""

from __future__ import annotations

from condis.drivers.client import CLOSED, UP
from tests.conftest import steps

# The call manager's own signaling traffic on the calling host: a message out, one in.
SEND = ["NdisCoSendNetBufferLists", "MiniportCoSendNetBufferLists"]
SENT = ["NdisMCoSendNetBufferListsComplete", "ProtocolCoSendNetBufferListsComplete"]
# netbuffercoreceive.png: the indication, and the protocol's return of what it was given
RECV = ["NdisMCoIndicateReceiveNetBufferLists", "ProtocolCoReceiveNetBufferLists",
        "NdisReturnNetBufferLists", "MiniportReturnNetBufferLists"]


def names(s: list[str]) -> list[str]:
    return [x.split(":", 1)[1] for x in s]


def without_signaling(s: list[str]) -> list[str]:
    return [x for x in names(s) if x not in SEND + SENT + RECV]


def test_binding_creates_and_activates_the_signaling_vc_then_registers_the_af(cm):
    a = names(steps(cm.recorder, host="A", drivers=("atmcm", "atmmp")))
    i = a.index("ProtocolBindAdapterEx")
    # guide: registering-and-opening-an-address-family.md (cm-01) after the binding is open
    assert a[i:i + 8] == [
        "ProtocolBindAdapterEx", "NdisOpenAdapterEx",
        "NdisCoCreateVc", "MiniportCoCreateVc",
        "NdisCmActivateVc", "MiniportCoActivateVc",
        "NdisMCoActivateVcComplete", "ProtocolCmActivateVcComplete",
    ]
    # cm-01: registering the AF tells the bound client, which opens it with the call manager; NDIS
    # tells it once the call manager's bind has completed (nf-ndis-ndiscmregisteraddressfamilyex.md)
    # and the binding restarted
    a = names(steps(cm.recorder, host="A"))
    j = a.index("NdisCmRegisterAddressFamilyEx")
    assert a[j:j + 8] == ["NdisCmRegisterAddressFamilyEx", "NdisCompleteBindAdapterEx", "ProtocolNetPnPEvent",
                          "ProtocolCoAfRegisterNotify", "NdisClOpenAddressFamilyEx", "ProtocolCmOpenAf",
                          "NdisClRegisterSap", "ProtocolCmRegisterSap"]


def test_making_a_call(cm):
    rec = cm.recorder
    mark = len(rec.records)
    calls = []
    cm.do(0, lambda: calls.append(cm.clients[0].place_call(b"bob")))
    assert calls[0].state == UP
    # cm-05 (client creates the VC: call manager, then miniport) and cm-11 (make call; activation
    # pends in the miniport and completes before the call does)
    assert without_signaling(steps(rec, mark, "A")) == [
        "NdisCoCreateVc", "ProtocolCoCreateVc", "MiniportCoCreateVc",
        "NdisClMakeCall", "ProtocolCmMakeCall",
        "NdisCmActivateVc", "MiniportCoActivateVc",
        "NdisMCoActivateVcComplete", "ProtocolCmActivateVcComplete",
        "NdisCmMakeCallComplete", "ProtocolClMakeCallComplete",
    ]
    # cm-06 and cm-13 at B: the call manager creates the VC (client, then miniport), activates it,
    # offers the call, and reports it connected
    assert without_signaling(steps(rec, mark, "B")) == [
        "NdisCoCreateVc", "ProtocolCoCreateVc", "MiniportCoCreateVc",
        "NdisCmActivateVc", "MiniportCoActivateVc",
        "NdisMCoActivateVcComplete", "ProtocolCmActivateVcComplete",
        "NdisCmDispatchIncomingCall", "ProtocolClIncomingCall",
        "NdisCmDispatchCallConnected", "ProtocolClCallConnected",
    ]
    # The signaling goes through NDIS: SETUP out of A and CONNECT ACK, CONNECT into A.
    a = names(steps(rec, mark, "A"))
    assert a[a.index("ProtocolCmMakeCall") + 1:a.index("ProtocolCmMakeCall") + 3] == SEND


def test_client_initiated_close(cm):
    calls = []
    cm.do(0, lambda: calls.append(cm.clients[0].place_call(b"bob")))
    call, answered = calls[0], cm.clients[1].incoming[-1]
    rec = cm.recorder
    mark = len(rec.records)
    cm.do(0, cm.clients[0].close, call)
    # cm-20: the call manager deactivates the VC (cm-08; the miniport pends) before it completes the
    # close; then cm-09: the client deletes its VC (call manager, then miniport).
    a = without_signaling(steps(rec, mark, "A"))
    assert a == [
        "NdisClCloseCall", "ProtocolCmCloseCall",
        "NdisCmDeactivateVc", "MiniportCoDeactivateVc",
        "NdisMCoDeactivateVcComplete", "ProtocolCmDeactivateVcComplete",
        "NdisCmCloseCallComplete", "ProtocolClCloseCallComplete",
        "NdisCoDeleteVc", "ProtocolCoDeleteVc", "MiniportCoDeleteVc",
    ]
    deletes = [r.result for r in rec.records[mark:] if r.host == "A" and r.name == "NdisCoDeleteVc"]
    assert deletes == ["NDIS_STATUS_SUCCESS"]
    # cm-22 and cm-10 at B. The call manager deactivates the VC from ProtocolCmCloseCall (cm-22's steps
    # 6 and 7) and, as the miniport pends that, pends the close until the VC is inactive: a client may
    # delete its VC once NdisClCloseCall is done (nc-ndis-protocol_cl_incoming_close_call.md).
    assert without_signaling(steps(rec, mark, "B")) == [
        "NdisCmDispatchIncomingCloseCall", "ProtocolClIncomingCloseCall",
        "NdisClCloseCall", "ProtocolCmCloseCall",
        "NdisCmDeactivateVc", "MiniportCoDeactivateVc",
        "NdisMCoDeactivateVcComplete", "ProtocolCmDeactivateVcComplete",
        "NdisCmCloseCallComplete", "ProtocolClCloseCallComplete",
        "NdisCoDeleteVc", "ProtocolCoDeleteVc", "MiniportCoDeleteVc",
    ]
    b = [r for r in rec.records[mark:] if r.host == "B" and r.name in ("NdisClCloseCall", "ProtocolCmCloseCall")]
    assert [r.result for r in b] == ["NDIS_STATUS_PENDING", "NDIS_STATUS_PENDING"]
    assert call.state == CLOSED and call.deleted and answered.deleted
    assert [h.vc_count for h in cm.hosts] == [1, 1]   # only the signaling VCs


def test_data_goes_through_the_miniport(cm):
    calls = []
    cm.do(0, lambda: calls.append(cm.clients[0].place_call(b"bob")))
    call, answered = calls[0], cm.clients[1].incoming[-1]
    rec = cm.recorder
    mark = len(rec.records)
    cm.do(0, cm.clients[0].send, call, b"over the miniport")
    assert answered.received == [b"over the miniport"]
    assert names(steps(rec, mark, "A")) == SEND + SENT
    assert names(steps(rec, mark, "B")) == RECV
    receive = [r for r in rec.records[mark:] if r.name == "ProtocolCoReceiveNetBufferLists"][0]
    assert receive.driver == "atmclient"


def test_multipoint_through_the_call_manager(cm):
    a, b = cm.clients
    calls = []
    cm.do(0, lambda: calls.append(a.place_call(b"bob", multipoint=True)))
    call = calls[0]
    parties = []
    cm.do(0, lambda: parties.append(a.add_party(call, b"bob")))
    cm.do(0, lambda: parties.append(a.add_party(call, b"bob")))
    assert [p.state for p in call.parties] == [UP, UP, UP] and len(b.incoming) == 3
    cm.do(0, a.send, call, b"to every leaf")
    assert [c.received for c in b.incoming] == [[b"to every leaf"]] * 3
    cm.do(0, a.drop_party, parties[0])
    cm.do(1, b.close, b.incoming[2])     # a leaf hangs up: incoming drop party at A
    assert len([p for p in call.parties if p.state == UP]) == 1
    cm.do(0, a.close, call)
    assert call.state == CLOSED and call.deleted
    assert [c.state for c in b.incoming] == [CLOSED] * 3


def test_unbinding_the_call_manager_closes_the_clients_af(cm):
    calls = []
    cm.do(0, lambda: calls.append(cm.clients[0].place_call(b"bob")))
    rec = cm.recorder
    mark = len(rec.records)
    done = cm.hosts[0].remove_adapter("atm0")
    cm.run()
    assert done.done and done.status == 0
    a = without_signaling(steps(rec, mark, "A"))
    # The binding pauses first (protocol-binding-states-and-operations.md): a paused binding sends
    # nothing, so the sample call manager signals RESTART while pausing and clears its calls, as the
    # peer does on RESTART (incoming-request-to-close-a-call.md).
    assert a[:5] == ["ProtocolNetPnPEvent", "NdisCmDispatchIncomingCloseCall", "ProtocolClIncomingCloseCall",
                     "NdisClCloseCall", "ProtocolCmCloseCall"]
    # closing-a-condis-call-manager-or-mcm.md: the call manager's unbind asks the client to close
    # the AF; the client deregisters its SAP and closes the AF.
    i = a.index("ProtocolUnbindAdapterEx")
    assert a[i:i + 4] == ["ProtocolUnbindAdapterEx", "NdisCmNotifyCloseAddressFamily", "ProtocolClNotifyCloseAf",
                          "NdisClDeregisterSap"]
    for later in ("NdisClDeregisterSap", "NdisClCloseAddressFamily", "ProtocolCmCloseAf",
                  "NdisClNotifyCloseAddressFamilyComplete", "ProtocolCmNotifyCloseAfComplete",
                  "NdisCloseAdapterEx", "NdisCompleteUnbindAdapterEx", "MiniportPause", "MiniportHaltEx"):
        assert later in a[i:], later
    assert a.index("NdisClNotifyCloseAddressFamilyComplete") < a.index("NdisCompleteUnbindAdapterEx") < a.index(
        "MiniportHaltEx")
    assert calls[0].state == CLOSED and cm.hosts[0].vc_count == 0
    assert cm.clients[1].incoming[-1].state == CLOSED
