"""Every state NDIS tracks, and the transitions between them, in one place.

Theory of operation
-------------------
NDIS keeps one small state machine per object. Each table below maps a state to the DDIs and
handler outcomes that move it, next to the guide page the transitions come from; the DDI code
consults ``ALLOWED`` to refuse a call made in the wrong state and to say which state was expected.
A request that a handler may pend moves through two states: ``*_IN_HANDLER`` while NDIS is inside
the handler, ``*_PENDING`` once the handler returned NDIS_STATUS_PENDING. Only the second admits the
matching Complete call (seed: NdisMCmCloseCallComplete — "for which the MCM driver previously
returned NDIS_STATUS_PENDING").
"""

from __future__ import annotations

# generic
REGISTERED = "REGISTERED"
DEREGISTERED = "DEREGISTERED"
ALLOCATED = "ALLOCATED"
FREED = "FREED"

# drivers (guide: initializing-a-protocol-driver.md, initializing-a-miniport-driver.md)
DRIVER_LOADING = "LOADING"
DRIVER_LOADED = "LOADED"
DRIVER_UNLOADED = "UNLOADED"

# adapters (guide: miniport-adapter-states-and-operations.md)
ADAPTER_INITIALIZING = "INITIALIZING"
ADAPTER_PAUSED = "PAUSED"
ADAPTER_RUNNING = "RUNNING"
ADAPTER_PAUSING = "PAUSING"
ADAPTER_HALTED = "HALTED"
ADAPTER_TRANSITIONS = {
    ADAPTER_INITIALIZING: {"MiniportInitializeEx -> SUCCESS": ADAPTER_PAUSED,
                           "MiniportInitializeEx -> failure": ADAPTER_HALTED},
    ADAPTER_PAUSED: {"MiniportRestart -> SUCCESS": ADAPTER_RUNNING, "MiniportHaltEx": ADAPTER_HALTED},
    ADAPTER_RUNNING: {"MiniportPause -> SUCCESS": ADAPTER_PAUSED, "MiniportPause -> PENDING": ADAPTER_PAUSING},
    ADAPTER_PAUSING: {"NdisMPauseComplete": ADAPTER_PAUSED},
}

# bindings (guide: protocol-binding-states-and-operations.md, binding-to-an-adapter.md)
BINDING_OPENING = "OPENING"
BINDING_PAUSED = "PAUSED"
BINDING_RUNNING = "RUNNING"
BINDING_CLOSING = "CLOSING"
BINDING_UNBOUND = "UNBOUND"
BIND_IN_HANDLER = "IN_HANDLER"
BIND_PENDING = "PENDING"
BIND_DONE = "DONE"
BINDING_TRANSITIONS = {
    BINDING_OPENING: {"NdisOpenAdapterEx -> SUCCESS": BINDING_PAUSED,
                      "NdisOpenAdapterEx -> failure": BINDING_UNBOUND},
    BINDING_PAUSED: {"ProtocolNetPnPEvent(NetEventRestart)": BINDING_RUNNING,
                     "NdisCloseAdapterEx": BINDING_CLOSING},
    BINDING_RUNNING: {"ProtocolNetPnPEvent(NetEventPause)": BINDING_PAUSED},
    BINDING_CLOSING: {"close completes": BINDING_UNBOUND},
}

# opened address families (guide: registering-and-opening-an-address-family.md,
# closing-an-address-family.md, closing-an-address-family-in-a-condis-client.md)
AF_OPENING = "OPEN_IN_HANDLER"
AF_OPEN_PENDING = "OPEN_PENDING"
AF_OPEN = "OPEN"
AF_CLOSING = "CLOSE_IN_HANDLER"
AF_CLOSE_PENDING = "CLOSE_PENDING"
AF_CLOSED = "CLOSED"
AF_TRANSITIONS = {
    AF_OPENING: {"ProtocolCmOpenAf -> SUCCESS": AF_OPEN, "ProtocolCmOpenAf -> PENDING": AF_OPEN_PENDING,
                 "ProtocolCmOpenAf -> failure": AF_CLOSED},
    AF_OPEN_PENDING: {"Ndis(M)CmOpenAddressFamilyComplete(SUCCESS)": AF_OPEN,
                      "Ndis(M)CmOpenAddressFamilyComplete(failure)": AF_CLOSED},
    AF_OPEN: {"NdisClCloseAddressFamily": AF_CLOSING},
    AF_CLOSING: {"ProtocolCmCloseAf -> SUCCESS": AF_CLOSED, "ProtocolCmCloseAf -> PENDING": AF_CLOSE_PENDING,
                 "ProtocolCmCloseAf -> failure": AF_OPEN},
    AF_CLOSE_PENDING: {"Ndis(M)CmCloseAddressFamilyComplete(SUCCESS)": AF_CLOSED,
                       "Ndis(M)CmCloseAddressFamilyComplete(failure)": AF_OPEN},
}
# The close notification a call manager sends runs beside the AF state
# (guide: closing-a-condis-call-manager-or-mcm.md).
NOTIFY_NONE = "NONE"
NOTIFY_IN_HANDLER = "NOTIFY_IN_HANDLER"
NOTIFY_PENDING = "NOTIFY_PENDING"
NOTIFY_DONE = "NOTIFIED"

# SAPs (guide: registering-a-sap.md, deregistering-a-sap.md)
SAP_REGISTERING = "REGISTER_IN_HANDLER"
SAP_REGISTER_PENDING = "REGISTER_PENDING"
SAP_REGISTERED = "REGISTERED"
SAP_DEREGISTERING = "DEREGISTER_IN_HANDLER"
SAP_DEREGISTER_PENDING = "DEREGISTER_PENDING"
SAP_DEREGISTERED = "DEREGISTERED"
SAP_TRANSITIONS = {
    SAP_REGISTERING: {"ProtocolCmRegisterSap -> SUCCESS": SAP_REGISTERED,
                      "ProtocolCmRegisterSap -> PENDING": SAP_REGISTER_PENDING,
                      "ProtocolCmRegisterSap -> failure": SAP_DEREGISTERED},
    SAP_REGISTER_PENDING: {"Ndis(M)CmRegisterSapComplete(SUCCESS)": SAP_REGISTERED,
                           "Ndis(M)CmRegisterSapComplete(failure)": SAP_DEREGISTERED},
    SAP_REGISTERED: {"NdisClDeregisterSap": SAP_DEREGISTERING},
    SAP_DEREGISTERING: {"ProtocolCmDeregisterSap -> SUCCESS": SAP_DEREGISTERED,
                        "ProtocolCmDeregisterSap -> PENDING": SAP_DEREGISTER_PENDING,
                        "ProtocolCmDeregisterSap -> failure": SAP_REGISTERED},
    SAP_DEREGISTER_PENDING: {"Ndis(M)CmDeregisterSapComplete(SUCCESS)": SAP_DEREGISTERED,
                             "Ndis(M)CmDeregisterSapComplete(failure)": SAP_REGISTERED},
}

# VC creators (guide: creating-a-vc.md, deleting-a-vc.md — only the creator deletes)
CREATOR_CLIENT = "client"
CREATOR_CM = "call manager"
CREATOR_MCM = "MCM"

# VC activation (guide: activating-a-vc.md, deactivating-a-vc.md)
VC_INACTIVE = "INACTIVE"
VC_ACTIVATING = "ACTIVATING"
VC_ACTIVE = "ACTIVE"
VC_DEACTIVATING = "DEACTIVATING"
ACTIVATION_TRANSITIONS = {
    VC_INACTIVE: {"Ndis(M)CmActivateVc": VC_ACTIVATING},
    VC_ACTIVATING: {"MiniportCoActivateVc -> SUCCESS": VC_ACTIVE,
                    "NdisMCoActivateVcComplete(SUCCESS)": VC_ACTIVE,
                    "activation failed": VC_INACTIVE},
    VC_ACTIVE: {"Ndis(M)CmActivateVc (new call parameters)": VC_ACTIVATING,
                "Ndis(M)CmDeactivateVc": VC_DEACTIVATING},
    VC_DEACTIVATING: {"MiniportCoDeactivateVc -> SUCCESS": VC_INACTIVE,
                      "NdisMCoDeactivateVcComplete": VC_INACTIVE},
}
# the outstanding activation request, while the VC is ACTIVATING or DEACTIVATING
OP_NONE = "NONE"
OP_IN_HANDLER = "IN_HANDLER"
OP_PENDING = "PENDING"

# calls on a VC (guide: making-a-call.md, indicating-an-incoming-call.md,
# client-initiated-request-to-close-a-call.md, incoming-request-to-close-a-call.md,
# client-initiated-request-to-change-call-parameters.md)
CALL_IDLE = "IDLE"
CALL_MAKING = "MAKE_CALL"                 # NdisClMakeCall outstanding (op says in handler / pending)
CALL_OFFERED = "INCOMING_CALL"            # Ndis(M)CmDispatchIncomingCall outstanding
CALL_ACCEPTED = "ACCEPTED"                # client accepted; waiting for Ndis(M)CmDispatchCallConnected
CALL_CONNECTED = "CONNECTED"
CALL_MODIFYING = "MODIFY_QOS"             # NdisClModifyCallQoS outstanding on a connected call
CALL_OFFER_MODIFYING = "INCOMING_CALL_MODIFY_QOS"  # the same on an offered call the client has not answered
CALL_CLOSE_INDICATED = "INCOMING_CLOSE"   # Ndis(M)CmDispatchIncomingCloseCall told the client
CALL_CLOSING = "CLOSE_CALL"               # NdisClCloseCall outstanding
CALL_TRANSITIONS = {
    CALL_IDLE: {"NdisClMakeCall": CALL_MAKING, "Ndis(M)CmDispatchIncomingCall": CALL_OFFERED},
    CALL_MAKING: {"ProtocolCmMakeCall -> SUCCESS / Ndis(M)CmMakeCallComplete(SUCCESS)": CALL_CONNECTED,
                  "ProtocolCmMakeCall -> failure / Ndis(M)CmMakeCallComplete(failure)": CALL_IDLE},
    CALL_OFFERED: {"ProtocolClIncomingCall -> SUCCESS / NdisClIncomingCallComplete(SUCCESS)": CALL_ACCEPTED,
                   "ProtocolClIncomingCall -> failure / NdisClIncomingCallComplete(failure)": CALL_IDLE,
                   "NdisClModifyCallQoS (ProtocolClIncomingCall returned PENDING)": CALL_OFFER_MODIFYING},
    # ddi: nf-ndis-ndisclincomingcallcomplete.md, cm-13 / fig1-13 step 8: the client may negotiate the
    # QoS of an offered call before it answers it; the call is still offered afterwards.
    CALL_OFFER_MODIFYING: {"ProtocolCmModifyCallQoS -> status / Ndis(M)CmModifyCallQoSComplete": CALL_OFFERED},
    CALL_ACCEPTED: {"Ndis(M)CmDispatchCallConnected": CALL_CONNECTED,
                    "Ndis(M)CmDispatchIncomingCloseCall": CALL_CLOSE_INDICATED},
    CALL_CONNECTED: {"NdisClModifyCallQoS": CALL_MODIFYING, "NdisClCloseCall": CALL_CLOSING,
                     "Ndis(M)CmDispatchIncomingCloseCall": CALL_CLOSE_INDICATED},
    CALL_MODIFYING: {"ProtocolCmModifyCallQoS -> status / Ndis(M)CmModifyCallQoSComplete": CALL_CONNECTED},
    CALL_CLOSE_INDICATED: {"NdisClCloseCall": CALL_CLOSING},
    CALL_CLOSING: {"ProtocolCmCloseCall -> SUCCESS / Ndis(M)CmCloseCallComplete(SUCCESS)": CALL_IDLE,
                   "ProtocolCmCloseCall -> failure / Ndis(M)CmCloseCallComplete(failure)": CALL_CONNECTED},
}
# a client's QoS change is outstanding (the call manager reactivates the VC for it)
CALL_QOS_CHANGING = frozenset({CALL_MODIFYING, CALL_OFFER_MODIFYING})
# states in which data may flow on the VC (sending-and-receiving-data2.md; NdisClCloseCall page)
CALL_CARRIES_DATA = frozenset({CALL_CONNECTED, CALL_MODIFYING, CALL_ACCEPTED})

# parties (guide: adding-a-party-to-a-multipoint-call.md, dropping-a-party-from-a-multipoint-call.md,
# incoming-request-to-drop-a-party-from-a-multipoint-call.md)
PARTY_ADDING = "ADD_PARTY"
PARTY_CONNECTED = "CONNECTED"
PARTY_DROP_INDICATED = "INCOMING_DROP"
PARTY_DROPPING = "DROP_PARTY"
PARTY_CLOSING = "CLOSE_CALL"
PARTY_DROPPED = "DROPPED"
PARTY_TRANSITIONS = {
    PARTY_ADDING: {"ProtocolCmAddParty / ProtocolCmMakeCall -> SUCCESS, or their Complete(SUCCESS)": PARTY_CONNECTED,
                   "-> failure": PARTY_DROPPED},
    PARTY_CONNECTED: {"NdisClDropParty": PARTY_DROPPING, "Ndis(M)CmDispatchIncomingDropParty": PARTY_DROP_INDICATED,
                      "NdisClCloseCall (last party)": PARTY_CLOSING},
    PARTY_DROP_INDICATED: {"NdisClDropParty": PARTY_DROPPING},
    PARTY_DROPPING: {"ProtocolCmDropParty -> SUCCESS / Ndis(M)CmDropPartyComplete(SUCCESS)": PARTY_DROPPED,
                     "-> failure": PARTY_CONNECTED},
    PARTY_CLOSING: {"close call completes (SUCCESS)": PARTY_DROPPED, "-> failure": PARTY_CONNECTED},
}

MACHINES = {
    "adapter": ADAPTER_TRANSITIONS,
    "binding": BINDING_TRANSITIONS,
    "AF": AF_TRANSITIONS,
    "SAP": SAP_TRANSITIONS,
    "VC activation": ACTIVATION_TRANSITIONS,
    "call": CALL_TRANSITIONS,
    "party": PARTY_TRANSITIONS,
}
