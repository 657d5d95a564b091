/*
 * callmgr.c - the call-manager interface of the sample MCM: the ProtocolCmXxx handlers (AFs,
 * SAPs, VCs, calls) and the call flows the peer's signaling drives.
 *
 * It is condis/drivers/callcontrol.py in C. Each handler that pends a request
 * (NDIS_STATUS_PENDING) names, in its opening comment, the routine that completes it.
 *
 * One choice differs from the Python MCM: when the peer confirms a close our client asked for,
 * the VC is deactivated first and the close completed after. The pages disagree on the order:
 * client-initiated-request-to-close-a-call.md draws it so for a call manager (images/cm-20.png)
 * and the other way round for an MCM (images/fig1-20.png), while
 * ddi/nc-ndis-protocol_cl_close_call_complete.md tells the client that a successful close means
 * the VC is deactivated already. This MCM does what that page promises, since a client may delete
 * its VC from ProtocolClCloseCallComplete and NdisCoDeleteVc fails on a VC still active.
 */
#include "callmgr.h"
#include "signaling.h"
#include "vc.h"

/* ---- causes and statuses ---------------------------------------------------------------- */

/* The status an incoming close carries for the cause the remote gave. */
static NDIS_STATUS CallCauseStatus(USHORT Cause)
{
    switch (Cause) {
    case CAUSE_NORMAL:
        return NDIS_STATUS_SUCCESS;
    case CAUSE_REJECTED:
        return NDIS_STATUS_NOT_ACCEPTED;
    case CAUSE_NO_ROUTE:
        return NDIS_STATUS_NO_ROUTE_TO_DESTINATION;
    case CAUSE_RESOURCES:
        return NDIS_STATUS_RESOURCES;
    default:
        return NDIS_STATUS_FAILURE;
    }
}

/* The status a failed request completes with, for the cause the remote gave. */
static NDIS_STATUS CallFailure(USHORT Cause)
{
    NDIS_STATUS status = CallCauseStatus(Cause);
    return status == NDIS_STATUS_SUCCESS ? NDIS_STATUS_FAILURE : status;
}

static const UCHAR *CallAddress(PMCM_VC Vc, PULONG Length)
{
    *Length = Vc->Params.Manager.CallMgrSpecific.Length;
    return Vc->Params.Manager.CallMgrSpecific.Parameters;
}

/* ---- AFs and SAPs (registering-and-opening-an-address-family.md, registering-a-sap.md) ---- */

/*
 * CallMgrRegisterAf - registers the Q.2931 AF this MCM serves (NdisMCmRegisterAddressFamilyEx).
 * Called from MiniportInitializeEx at PASSIVE_LEVEL (differences-in-initialization.md).
 */
NDIS_STATUS CallMgrRegisterAf(PMCM_ADAPTER Adapter)
{
    CO_ADDRESS_FAMILY family;
    family.AddressFamily = CO_ADDRESS_FAMILY_Q2931;
    family.MajorVersion = 3;
    family.MinorVersion = 1;
    return NdisMCmRegisterAddressFamilyEx(Adapter->MiniportAdapterHandle, &family);
}

/*
 * CmOpenAf - a client opens our AF (NdisClOpenAddressFamilyEx). PASSIVE_LEVEL. Completes
 * synchronously.
 */
static NDIS_STATUS CmOpenAf(NDIS_HANDLE CallMgrBindingContext, PCO_ADDRESS_FAMILY AddressFamily,
                            NDIS_HANDLE NdisAfHandle, PNDIS_HANDLE CallMgrAfContext)
{
    PMCM_ADAPTER adapter = CallMgrBindingContext;
    PMCM_AF af;

    if (AddressFamily->AddressFamily != CO_ADDRESS_FAMILY_Q2931) {
        return NDIS_STATUS_BAD_VERSION;
    }
    af = McmAllocate(adapter->MiniportAdapterHandle, sizeof(MCM_AF));
    if (af == NULL) {
        return NDIS_STATUS_RESOURCES;
    }
    af->Adapter = adapter;
    af->NdisAfHandle = NdisAfHandle;
    InitializeListHead(&af->Saps);
    InsertTailList(&adapter->Afs, &af->Link);
    *CallMgrAfContext = af;
    return NDIS_STATUS_SUCCESS;
}

/*
 * CmCloseAf - the client closes the AF, its SAPs deregistered and its VCs gone
 * (NdisClCloseAddressFamily). PASSIVE_LEVEL. Completes synchronously.
 */
static NDIS_STATUS CmCloseAf(NDIS_HANDLE CallMgrAfContext)
{
    PMCM_AF af = CallMgrAfContext;
    ASSERT(IsListEmpty(&af->Saps));
    RemoveEntryList(&af->Link);
    McmFree(af);
    return NDIS_STATUS_SUCCESS;
}

/* The SAP a client registered for an address on this adapter, if any. */
static PMCM_SAP CallSapFor(PMCM_ADAPTER Adapter, const UCHAR *Address, ULONG Length)
{
    for (PLIST_ENTRY a = Adapter->Afs.Flink; a != &Adapter->Afs; a = a->Flink) {
        PMCM_AF af = CONTAINING_RECORD(a, MCM_AF, Link);
        for (PLIST_ENTRY s = af->Saps.Flink; s != &af->Saps; s = s->Flink) {
            PMCM_SAP sap = CONTAINING_RECORD(s, MCM_SAP, Link);
            if (sap->AddressLength == Length && NdisEqualMemory(sap->Address, Address, Length)) {
                return sap;
            }
        }
    }
    return NULL;
}

/*
 * CmRegisterSap - a client listens on an address (NdisClRegisterSap). PASSIVE_LEVEL. Completes
 * synchronously; an address another SAP of this adapter has is refused.
 */
static NDIS_STATUS CmRegisterSap(NDIS_HANDLE CallMgrAfContext, PCO_SAP Sap, NDIS_HANDLE NdisSapHandle,
                                 PNDIS_HANDLE CallMgrSapContext)
{
    PMCM_AF af = CallMgrAfContext;
    PMCM_SAP sap;

    if (Sap->SapLength > MCM_MAX_ADDRESS) {
        return NDIS_STATUS_INVALID_ADDRESS;
    }
    if (CallSapFor(af->Adapter, Sap->Sap, Sap->SapLength) != NULL) {
        return NDIS_STATUS_SAP_IN_USE;
    }
    sap = McmAllocate(af->Adapter->MiniportAdapterHandle, sizeof(MCM_SAP));
    if (sap == NULL) {
        return NDIS_STATUS_RESOURCES;
    }
    sap->Af = af;
    sap->NdisSapHandle = NdisSapHandle;
    sap->AddressLength = Sap->SapLength;
    NdisMoveMemory(sap->Address, Sap->Sap, Sap->SapLength);
    InsertTailList(&af->Saps, &sap->Link);
    *CallMgrSapContext = sap;
    return NDIS_STATUS_SUCCESS;
}

/*
 * CmDeregisterSap - the client stops listening (NdisClDeregisterSap). PASSIVE_LEVEL. Completes
 * synchronously. A call already offered outlives its SAP; one whose VC is still being activated
 * is refused when the activation is done (deregistering-a-sap.md).
 */
static NDIS_STATUS CmDeregisterSap(NDIS_HANDLE CallMgrSapContext)
{
    PMCM_SAP sap = CallMgrSapContext;
    PMCM_ADAPTER adapter = sap->Af->Adapter;

    for (PLIST_ENTRY e = adapter->Calls.Flink; e != &adapter->Calls; e = e->Flink) {
        PMCM_ENTRY entry = CONTAINING_RECORD(e, MCM_ENTRY, Link);
        if (entry->Vc->Sap == sap) {
            entry->Vc->Sap = NULL;
        }
    }
    RemoveEntryList(&sap->Link);
    McmFree(sap);
    return NDIS_STATUS_SUCCESS;
}

/* ---- VCs the client creates (creating-a-vc.md) ----------------------------------------- */

/*
 * CmCreateVc - a client creates a VC on our AF (NdisCoCreateVc). PASSIVE_LEVEL. The context is
 * also the MiniportVcContext NDIS passes the send handler.
 */
static NDIS_STATUS CmCreateVc(NDIS_HANDLE ProtocolAfContext, NDIS_HANDLE NdisVcHandle, PNDIS_HANDLE ProtocolVcContext)
{
    PMCM_AF af = ProtocolAfContext;
    PMCM_VC vc = VcAllocate(af->Adapter, FALSE);
    if (vc == NULL) {
        return NDIS_STATUS_RESOURCES;
    }
    vc->NdisVcHandle = NdisVcHandle;
    *ProtocolVcContext = vc;
    return NDIS_STATUS_SUCCESS;
}

/*
 * CmDeleteVc - the client deletes its VC (NdisCoDeleteVc), or NDIS deletes one we created
 * (NdisMCmDeleteVc). PASSIVE_LEVEL. Drops NDIS's reference on the context.
 */
static NDIS_STATUS CmDeleteVc(NDIS_HANDLE ProtocolVcContext)
{
    PMCM_VC vc = ProtocolVcContext;
    if (vc->CreatedByUs) {
        return NDIS_STATUS_SUCCESS;     /* VcDelete drops the reference when NdisMCmDeleteVc returns */
    }
    VcUnmap(vc);
    vc->NdisVcHandle = NULL;
    VcDereference(vc);
    return NDIS_STATUS_SUCCESS;
}

/* ---- outgoing calls (making-a-call.md) ---------------------------------------------------- */

/* The signaling entry of the call, or of one of its leaves. */
static PMCM_ENTRY CallEntry(PMCM_VC Vc, PMCM_PARTY Party)
{
    return Party != NULL ? &Party->Entry : &Vc->Entry;
}

/* Completes the make-call; with a failure, the first leaf's party is NDIS's no more. */
static VOID CallCompleteMakeCall(PMCM_VC Vc, PMCM_PARTY Party, NDIS_STATUS Status)
{
    NdisMCmMakeCallComplete(Status, Vc->NdisVcHandle, Party != NULL ? Party->NdisPartyHandle : NULL, Party,
                            &Vc->Params.Call);
    if (Party != NULL && Status != NDIS_STATUS_SUCCESS) {
        PartyNdisDone(Party);
    }
}

/* Completes an add-party; with a failure, the party is NDIS's no more. */
static VOID CallCompleteAddParty(PMCM_PARTY Party, NDIS_STATUS Status)
{
    NdisMCmAddPartyComplete(Status, Party->NdisPartyHandle, Party, &Party->Params.Call);
    if (Status != NDIS_STATUS_SUCCESS) {
        PartyNdisDone(Party);
    }
}

/*
 * CmMakeCall - the client places a call (NdisClMakeCall), point-to-point, or multipoint with its
 * first leaf's party handle. PASSIVE_LEVEL. Sends SETUP and returns NDIS_STATUS_PENDING;
 * NdisMCmMakeCallComplete completes it, from CallActivated (the callee answered and the VC is
 * up), CallPlacedCallFailed (the callee refused, or never answered) or the VcNextFailMakeCall
 * deactivation (the VC came up but the call could not stay).
 */
static NDIS_STATUS CmMakeCall(NDIS_HANDLE CallMgrVcContext, PCO_CALL_PARAMETERS CallParameters,
                              NDIS_HANDLE NdisPartyHandle, PNDIS_HANDLE CallMgrPartyContext)
{
    PMCM_VC vc = CallMgrVcContext;
    PMCM_ADAPTER adapter = vc->Adapter;
    PMCM_PARTY party = NULL;
    NDIS_STATUS status;
    const UCHAR *address;
    ULONG length;

    if (NdisPartyHandle != NULL) {
        party = PartyAllocate(vc, NdisPartyHandle, adapter->NextEndpoint, adapter->NextVci);
        if (party == NULL) {
            return NDIS_STATUS_RESOURCES;
        }
    }
    status = VcCopyParameters(&vc->Params, CallParameters);
    if (status != NDIS_STATUS_SUCCESS) {
        if (party != NULL) {
            PartyNdisDone(party);
        }
        return status;
    }
    SigForget(&vc->Entry);      /* the VC's previous call may still be being cleared toward the peer */
    vc->Ref = adapter->NextRef++;
    vc->PlacedHere = TRUE;
    vc->Entry.Endpoint = 0;
    vc->State = CallInitiated;
    vc->RemoteReleased = FALSE;
    vc->Proceeding = FALSE;
    vc->Vci = adapter->NextVci;
    adapter->NextVci += 2;      /* even VCIs on one end of the wire, odd on the other */
    if (party != NULL) {
        adapter->NextEndpoint++;      /* the first leaf's parameters are the call's (vc->Params) */
        PartyJoin(party);
    }
    *CallMgrPartyContext = party;
    SigKnow(CallEntry(vc, party));
    address = CallAddress(vc, &length);
    SigRequest(CallEntry(vc, party), MsgSetup, 0, vc->Vci, address, length, vc->Params.Manager.Transmit.TokenRate);
    return NDIS_STATUS_PENDING;
}

/* CONNECT for a call (or a leaf) we placed: acknowledge it and activate the VC; then complete
   the make-call (or add-party). */
VOID CallConnected(PMCM_VC Vc, PMCM_PARTY Party, const SIG_MESSAGE *Message)
{
    if (Party != NULL && Vc->State == CallActive && Party->State == CallInitiated) {
        SigSendForCall(Vc, Message->Endpoint, MsgConnectAck, 0);    /* an added leaf answered */
        Party->State = CallActivating;
        Vc->NextParty = Party;
        VcActivate(Vc, VcNextPartyAdded);
        return;
    }
    if (Vc->State != CallInitiated) {
        CALL_STATE state = Party != NULL ? Party->State : Vc->State;
        if (state == CallActivating || state == CallActive) {
            SigSendForCall(Vc, Message->Endpoint, MsgConnectAck, 0);    /* our CONNECT ACK was lost */
        }
        return;
    }
    SigSendForCall(Vc, Message->Endpoint, MsgConnectAck, 0);
    Vc->State = CallActivating;
    if (Party != NULL) {
        Party->State = CallActivating;
    }
    Vc->NextParty = Party;
    VcActivate(Vc, VcNextCompleteMakeCall);
}

/* The VC of a call we placed is activated (or refused): complete the make-call. */
static VOID CallActivated(PMCM_VC Vc, PMCM_PARTY Party, NDIS_STATUS Status)
{
    NDIS_STATUS result;

    if (Status == NDIS_STATUS_SUCCESS && !Vc->RemoteReleased) {
        Vc->State = CallActive;
        if (Party != NULL) {
            Party->State = CallActive;
        }
        CallCompleteMakeCall(Vc, Party, NDIS_STATUS_SUCCESS);
        return;
    }
    if (Vc->RemoteReleased) {
        /* The remote released while the VC was being activated; its RELEASE is answered already.
           The make-call is still pending, so it fails rather than being closed as a call that was
           never up (making-a-call.md, incoming-request-to-close-a-call.md). */
        result = CallFailure(Vc->ReleaseCause);
        SigForget(CallEntry(Vc, Party));
        Vc->State = CallNull;
    } else {
        /* the NIC refused the VC: the remote thinks the call is up, so release it there */
        result = Status;
        Vc->State = CallClearing;
        SigRequest(CallEntry(Vc, Party), MsgRelease, CAUSE_RESOURCES, 0, NULL, 0, 0);
    }
    if (Party != NULL) {
        PartyLeave(Party);
    }
    if (Status == NDIS_STATUS_SUCCESS) {
        Vc->NextStatus = result;        /* only a VC that was activated is deactivated */
        Vc->NextParty = Party;
        VcDeactivate(Vc, VcNextFailMakeCall);
    } else {
        CallCompleteMakeCall(Vc, Party, result);
    }
}

/* The callee refused our call (or an added leaf), or never answered. */
static VOID CallPlacedCallFailed(PMCM_VC Vc, PMCM_PARTY Party, USHORT Cause)
{
    NDIS_STATUS status = CallFailure(Cause);

    SigForget(CallEntry(Vc, Party));
    if (Party != NULL && Vc->State == CallActive) {     /* an added leaf was refused */
        PartyLeave(Party);
        CallCompleteAddParty(Party, status);
        return;
    }
    Vc->State = CallNull;
    if (Party != NULL) {
        PartyLeave(Party);
    }
    CallCompleteMakeCall(Vc, Party, status);
}

/* ---- leaves (adding-a-party-to-a-multipoint-call.md, dropping-a-party-from-a-multipoint-call.md) */

/*
 * CmAddParty - the client adds a leaf to its multipoint call (NdisClAddParty). PASSIVE_LEVEL.
 * Sends ADD PARTY and returns NDIS_STATUS_PENDING; NdisMCmAddPartyComplete completes it from
 * CallPartyAdded (the leaf answered and the VC carries its VCI) or CallPlacedCallFailed.
 */
static NDIS_STATUS CmAddParty(NDIS_HANDLE CallMgrVcContext, PCO_CALL_PARAMETERS CallParameters,
                              NDIS_HANDLE NdisPartyHandle, PNDIS_HANDLE CallMgrPartyContext)
{
    PMCM_VC vc = CallMgrVcContext;
    PMCM_ADAPTER adapter = vc->Adapter;
    PMCM_PARTY party;
    NDIS_STATUS status;
    const UCHAR *address;
    ULONG length;

    if (vc->PartyCount >= MCM_MAX_PARTIES) {
        return NDIS_STATUS_RESOURCES;
    }
    party = PartyAllocate(vc, NdisPartyHandle, adapter->NextEndpoint, adapter->NextVci);
    if (party == NULL) {
        return NDIS_STATUS_RESOURCES;
    }
    status = VcCopyParameters(&party->Params, CallParameters);
    if (status != NDIS_STATUS_SUCCESS) {
        PartyNdisDone(party);
        return status;
    }
    adapter->NextEndpoint++;
    adapter->NextVci += 2;
    PartyJoin(party);
    SigKnow(&party->Entry);
    *CallMgrPartyContext = party;
    length = party->Params.Manager.CallMgrSpecific.Length;
    address = party->Params.Manager.CallMgrSpecific.Parameters;
    SigRequest(&party->Entry, MsgAddParty, 0, party->Vci, address, length, party->Params.Manager.Transmit.TokenRate);
    return NDIS_STATUS_PENDING;
}

/* The VC carries a newly added leaf's VCI (or could not): complete the add-party. */
static VOID CallPartyAdded(PMCM_PARTY Party, NDIS_STATUS Status)
{
    PMCM_VC vc = Party->Entry.Vc;
    NDIS_STATUS result;

    if (Status == NDIS_STATUS_SUCCESS && !Party->RemoteReleased) {
        Party->State = CallActive;
        CallCompleteAddParty(Party, NDIS_STATUS_SUCCESS);
        return;
    }
    PartyLeave(Party);
    if (Party->RemoteReleased) {
        SigForget(&Party->Entry);
        result = NDIS_STATUS_FAILURE;
    } else {
        Party->State = CallClearing;    /* the leaf thinks it was added: drop it there */
        SigRequest(&Party->Entry, MsgDropParty, CAUSE_RESOURCES, 0, NULL, 0, 0);
        result = Status;
    }
    if (Status == NDIS_STATUS_SUCCESS) {
        VcLater(vc, VC_LATER_REACTIVATE);   /* the activation took the leaf's VCI: take it off again */
    }
    CallCompleteAddParty(Party, result);
}

/* CallReactivate - a leaf left: the VC is activated again without its VCI. PASSIVE_LEVEL. */
VOID CallReactivate(PMCM_VC Vc)
{
    if (Vc->State == CallActive && Vc->NdisVcHandle != NULL) {
        VcActivate(Vc, VcNextNothing);
    }
}

/* A leaf is no longer part of the call: signaling forgets it, the VC stops carrying its VCI. */
static VOID CallPartyGone(PMCM_PARTY Party)
{
    PMCM_VC vc = Party->Entry.Vc;
    SigForget(&Party->Entry);
    PartyLeave(Party);
    VcLater(vc, VC_LATER_REACTIVATE);
}

static VOID CallIncomingClose(PMCM_VC Vc, PMCM_PARTY Party, USHORT Cause);

/* Our drop of a leaf is confirmed: complete it; a release held for the last leaf goes on now. */
static VOID CallPartyDropped(PMCM_PARTY Party)
{
    PMCM_VC vc = Party->Entry.Vc;
    PMCM_PARTY last;

    PartyReference(Party);
    CallPartyGone(Party);
    NdisMCmDropPartyComplete(NDIS_STATUS_SUCCESS, Party->NdisPartyHandle);
    PartyNdisDone(Party);
    PartyDereference(Party);
    if (vc->PartyCount == 1 && vc->State == CallActive) {
        last = CONTAINING_RECORD(vc->Parties.Flink, MCM_PARTY, Link);
        if (last->HasHeldClose) {
            CallIncomingClose(vc, last, last->HeldCause);
        }
    }
}

/*
 * CmDropParty - the client drops a leaf that is not the last (NdisClDropParty). PASSIVE_LEVEL.
 * After the leaf hung up (RELEASE_IND): acknowledged here and now, NDIS_STATUS_SUCCESS.
 * Otherwise DROP PARTY goes out and NDIS_STATUS_PENDING is returned; NdisMCmDropPartyComplete
 * completes it once the leaf confirms (CallPartyDropped).
 */
static NDIS_STATUS CmDropParty(NDIS_HANDLE CallMgrPartyContext, PVOID CloseData, UINT Size)
{
    PMCM_PARTY party = CallMgrPartyContext;

    UNREFERENCED_PARAMETER(CloseData);
    UNREFERENCED_PARAMETER(Size);
    if (party->State == CallReleaseInd) {
        PartyReference(party);
        SigSendForCall(party->Entry.Vc, party->Entry.Endpoint, MsgReleaseComplete, CAUSE_NORMAL);
        CallPartyGone(party);
        party->NdisKnows = FALSE;       /* NDIS drops the party when this returns */
        PartyDereference(party);
        PartyDereference(party);
        return NDIS_STATUS_SUCCESS;
    }
    party->State = CallReleaseReq;
    SigRequest(&party->Entry, MsgDropParty, CAUSE_NORMAL, 0, NULL, 0, 0);
    return NDIS_STATUS_PENDING;
}

/* ---- incoming calls (indicating-an-incoming-call.md) ------------------------------------- */

/*
 * CallIncomingSetup - the peer offers a call (SETUP): create a VC for it, activate it, then
 * offer the call to the client whose SAP has the called address. DISPATCH_LEVEL.
 */
VOID CallIncomingSetup(PMCM_ADAPTER Adapter, const SIG_MESSAGE *Message)
{
    PMCM_SAP sap = CallSapFor(Adapter, Message->Address, Message->AddressLength);
    PMCM_VC vc;
    ULONG rate;

    if (sap == NULL) {
        SigSendReleaseComplete(Adapter, Message->Ref, FALSE, CAUSE_NO_ROUTE, Message->Endpoint);
        return;
    }
    vc = VcAllocate(Adapter, TRUE);        /* with our reference, for this routine */
    if (vc == NULL) {
        SigSendReleaseComplete(Adapter, Message->Ref, FALSE, CAUSE_RESOURCES, Message->Endpoint);
        return;
    }
    vc->Ref = Message->Ref;
    vc->PlacedHere = FALSE;
    vc->Vci = Message->Vci;
    vc->Entry.Endpoint = Message->Endpoint;
    vc->State = CallPresent;
    rate = Message->Rate != 0 ? (ULONG)Message->Rate : MCM_DEFAULT_RATE;
    VcBuildParameters(&vc->Params, sap->Address, sap->AddressLength, rate, vc->Vci);
    if (NdisMCmCreateVc(Adapter->MiniportAdapterHandle, sap->Af->NdisAfHandle, vc, &vc->NdisVcHandle)
        != NDIS_STATUS_SUCCESS) {
        SigSendReleaseComplete(Adapter, Message->Ref, FALSE, CAUSE_REJECTED, Message->Endpoint);
        VcDereference(vc);
        return;
    }
    VcReference(vc);            /* NDIS's reference, until NdisMCmDeleteVc */
    vc->Sap = sap;
    SigKnow(&vc->Entry);
    VcActivate(vc, VcNextOfferIncomingCall);
    VcDereference(vc);
}

/*
 * CallReject - refuses an incoming call (or answers the caller's RELEASE, if it gave up), then
 * frees its VC: deactivated and deleted if it was activated, only deleted if not.
 */
static VOID CallReject(PMCM_VC Vc, USHORT Cause, BOOLEAN Activated)
{
    if (Vc->RemoteReleased) {
        SigSendForCall(Vc, Vc->Entry.Endpoint, MsgReleaseComplete, CAUSE_NORMAL);
    } else if (Vc->Proceeding) {
        Vc->State = CallClearing;   /* past CALL PROCEEDING a call is cleared with RELEASE */
        SigRequest(&Vc->Entry, MsgRelease, Cause, 0, NULL, 0, 0);
    } else {
        SigSendForCall(Vc, Vc->Entry.Endpoint, MsgReleaseComplete, Cause);
    }
    if (Vc->State != CallClearing) {
        SigForget(&Vc->Entry);
        Vc->State = CallNull;
    }
    if (Activated) {
        CallTeardown(Vc);
    } else {
        VcDelete(Vc);               /* never activated, so nothing to deactivate */
    }
}

static PROTOCOL_CM_INCOMING_CALL_COMPLETE CmIncomingCallComplete;

/* An incoming call's VC is up (or the NIC refused it): offer the call to the client. */
static VOID CallOffer(PMCM_VC Vc, NDIS_STATUS Status)
{
    PMCM_SAP sap = Vc->Sap;
    NDIS_STATUS result;

    Vc->Sap = NULL;
    if (Status != NDIS_STATUS_SUCCESS) {
        CallReject(Vc, CAUSE_RESOURCES, FALSE);
    } else if (Vc->RemoteReleased) {
        CallReject(Vc, CAUSE_NORMAL, TRUE);         /* the caller gave up while the VC was activated */
    } else if (sap == NULL) {
        /* the client deregistered the SAP while the VC was being activated (deregistering-a-sap.md) */
        CallReject(Vc, CAUSE_NO_ROUTE, TRUE);
    } else {
        result = NdisMCmDispatchIncomingCall(sap->NdisSapHandle, Vc->NdisVcHandle, &Vc->Params.Call);
        if (result != NDIS_STATUS_PENDING) {
            CmIncomingCallComplete(result, Vc, &Vc->Params.Call);   /* the client's answer is final */
        }
    }
}

/*
 * CmIncomingCallComplete - the client answered an incoming call (NdisClIncomingCallComplete,
 * or the return of its ProtocolClIncomingCall). PASSIVE_LEVEL or DISPATCH_LEVEL. Accepted:
 * send CONNECT, and NdisMCmDispatchCallConnected follows CONNECT ACK (CallConnectAck).
 */
static VOID CmIncomingCallComplete(NDIS_STATUS Status, NDIS_HANDLE CallMgrVcContext, PCO_CALL_PARAMETERS CallParameters)
{
    PMCM_VC vc = CallMgrVcContext;

    UNREFERENCED_PARAMETER(CallParameters);
    VcReference(vc);
    if (Status != NDIS_STATUS_SUCCESS) {
        CallReject(vc, CAUSE_REJECTED, TRUE);
    } else if (vc->RemoteReleased) {
        vc->State = CallReleaseInd;     /* the caller gave up while our client was deciding */
        NdisMCmDispatchIncomingCloseCall(NDIS_STATUS_SUCCESS, vc->NdisVcHandle, NULL, 0);
    } else {
        vc->State = CallConnectReq;
        SigRequest(&vc->Entry, MsgConnect, 0, vc->Vci, NULL, 0, 0);
    }
    VcDereference(vc);
}

/* CONNECT ACK for a call we accepted: it is up. */
VOID CallConnectAck(PMCM_VC Vc)
{
    if (Vc->State == CallConnectReq) {
        Vc->State = CallActive;
        NdisMCmDispatchCallConnected(Vc->NdisVcHandle);
    }
}

/* ---- QoS (client-initiated-request-to-change-call-parameters.md) ------------------------- */

/*
 * CmModifyCallQoS - the client asks for new call parameters (NdisClModifyCallQoS).
 * PASSIVE_LEVEL. Returns NDIS_STATUS_PENDING; the VC is re-activated with the new parameters
 * from a work item (CallStartQoS), and NdisMCmModifyCallQoSComplete completes the request
 * from CallQoSDone.
 */
static NDIS_STATUS CmModifyCallQoS(NDIS_HANDLE CallMgrVcContext, PCO_CALL_PARAMETERS CallParameters)
{
    PMCM_VC vc = CallMgrVcContext;
    NDIS_STATUS status;

    if (vc->PreviousParams != NULL) {
        return NDIS_STATUS_RESOURCES;   /* one change at a time */
    }
    vc->PreviousParams = McmAllocate(vc->Adapter->MiniportAdapterHandle, sizeof(MCM_CALL_PARAMETERS));
    if (vc->PreviousParams == NULL) {
        return NDIS_STATUS_RESOURCES;
    }
    NdisMoveMemory(vc->PreviousParams, &vc->Params, sizeof(MCM_CALL_PARAMETERS));
    status = VcCopyParameters(&vc->Params, CallParameters);
    if (status != NDIS_STATUS_SUCCESS) {
        NdisMoveMemory(&vc->Params, vc->PreviousParams, sizeof(MCM_CALL_PARAMETERS));
        McmFree(vc->PreviousParams);
        vc->PreviousParams = NULL;
        return status;
    }
    VcLater(vc, VC_LATER_QOS);
    return NDIS_STATUS_PENDING;
}

/* CallStartQoS - the work item of a QoS change, at PASSIVE_LEVEL: re-activate the VC. */
VOID CallStartQoS(PMCM_VC Vc)
{
    VcActivate(Vc, VcNextCompleteQoS);
}

static VOID CallQoSDone(PMCM_VC Vc, NDIS_STATUS Status)
{
    if (Status != NDIS_STATUS_SUCCESS) {
        NdisMoveMemory(&Vc->Params, Vc->PreviousParams, sizeof(MCM_CALL_PARAMETERS));
    }
    McmFree(Vc->PreviousParams);
    Vc->PreviousParams = NULL;
    NdisMCmModifyCallQoSComplete(Status, Vc->NdisVcHandle, &Vc->Params.Call);
}

/* ---- closing calls (client-initiated-request-to-close-a-call.md,
        incoming-request-to-close-a-call.md) --------------------------------------------- */

/*
 * CmCloseCall - the client closes a call (NdisClCloseCall), a multipoint call with its last
 * leaf's party. PASSIVE_LEVEL.
 * After the remote released (RELEASE_IND): acknowledged here and now, NDIS_STATUS_SUCCESS; the
 * VC is deactivated (and deleted, if ours) from a work item.
 * Otherwise: RELEASE goes out and NDIS_STATUS_PENDING is returned; NdisMCmCloseCallComplete
 * completes the close once the peer confirms (CallCloseConfirmed), after the VC's deactivation.
 */
static NDIS_STATUS CmCloseCall(NDIS_HANDLE CallMgrVcContext, NDIS_HANDLE CallMgrPartyContext, PVOID CloseData, UINT Size)
{
    PMCM_VC vc = CallMgrVcContext;
    PMCM_PARTY party = CallMgrPartyContext;

    UNREFERENCED_PARAMETER(CloseData);
    UNREFERENCED_PARAMETER(Size);
    if (vc->State == CallReleaseInd) {
        PMCM_ENTRY entry = CallEntry(vc, party);
        VcReference(vc);
        SigSendForCall(vc, entry->Endpoint, MsgReleaseComplete, CAUSE_NORMAL);
        SigForget(entry);
        vc->State = CallNull;
        if (party != NULL) {
            PartyLeave(party);
            party->NdisKnows = FALSE;   /* NDIS drops the party with the call when this returns */
            PartyDereference(party);
        }
        VcLater(vc, VC_LATER_TEARDOWN);
        VcDereference(vc);
        return NDIS_STATUS_SUCCESS;
    }
    vc->State = CallReleaseReq;
    vc->ClosingParty = party;
    if (party != NULL) {
        party->State = CallReleaseReq;
    }
    SigRequest(CallEntry(vc, party), MsgRelease, CAUSE_NORMAL, 0, NULL, 0, 0);
    return NDIS_STATUS_PENDING;
}

/* RELEASE COMPLETE (or a crossing RELEASE) for our pended close: deactivate, then complete it. */
static VOID CallCloseConfirmed(PMCM_VC Vc)
{
    SigForget(CallEntry(Vc, Vc->ClosingParty));
    Vc->State = CallNull;
    Vc->NextParty = Vc->ClosingParty;
    Vc->ClosingParty = NULL;
    if (Vc->NextParty != NULL) {
        PartyLeave(Vc->NextParty);
    }
    VcDeactivate(Vc, VcNextCompleteClose);
}

/*
 * CallReleased - our release of the call (or of a leaf) is confirmed; FALSE if none was under
 * way. DISPATCH_LEVEL or below.
 */
BOOLEAN CallReleased(PMCM_VC Vc, PMCM_PARTY Party)
{
    if (Party != NULL && Party->State == CallReleaseReq && Vc->ClosingParty != Party) {
        CallPartyDropped(Party);
    } else if (Vc->State == CallReleaseReq) {
        CallCloseConfirmed(Vc);
    } else if (Vc->State == CallClearing || (Party != NULL && Party->State == CallClearing)) {
        SigForget(CallEntry(Vc, Party));
    } else {
        return FALSE;
    }
    return TRUE;
}

/* The remote released an established call: tell the client, and wait for its close. */
static VOID CallIncomingClose(PMCM_VC Vc, PMCM_PARTY Party, USHORT Cause)
{
    Vc->State = CallReleaseInd;
    if (Party != NULL) {
        Party->State = CallReleaseInd;
    }
    NdisMCmDispatchIncomingCloseCall(CallCauseStatus(Cause), Vc->NdisVcHandle, NULL, 0);
}

/* A leaf of our multipoint call hung up (incoming-request-to-drop-a-party-from-a-multipoint-
   call.md); TRUE if that was all there was to do. */
static BOOLEAN CallLeafReleased(PMCM_VC Vc, PMCM_PARTY Party, const SIG_MESSAGE *Message, BOOLEAN Answer)
{
    BOOLEAN othersStay = FALSE;

    if (Party->State == CallInitiated || Party->State == CallActivating) {
        if (Answer) {
            SigSendForCall(Vc, Message->Endpoint, MsgReleaseComplete, CAUSE_NORMAL);
        }
        if (Party->State == CallInitiated) {
            CallPlacedCallFailed(Vc, Party, Message->Cause != 0 ? Message->Cause : CAUSE_REJECTED);
        } else {
            Party->RemoteReleased = TRUE;   /* the add-party fails once the activation is done */
        }
        return TRUE;
    }
    if (Party->State != CallActive) {
        return TRUE;                        /* a duplicate: the client was told already */
    }
    for (PLIST_ENTRY e = Vc->Parties.Flink; e != &Vc->Parties; e = e->Flink) {
        PMCM_PARTY other = CONTAINING_RECORD(e, MCM_PARTY, Link);
        if (other != Party && other->State != CallReleaseReq) {
            othersStay = TRUE;
        }
    }
    if (othersStay) {
        Party->State = CallReleaseInd;
        NdisMCmDispatchIncomingDropParty(NDIS_STATUS_SUCCESS, Party->NdisPartyHandle, NULL, 0);
        return TRUE;
    }
    if (Vc->PartyCount > 1) {
        /* every other leaf is being dropped: this becomes the last, and its release the close of
           the call, once those drops complete */
        Party->State = CallReleaseInd;
        Party->HasHeldClose = TRUE;
        Party->HeldCause = Message->Cause;
        return TRUE;
    }
    return FALSE;
}

/*
 * CallRemoteRelease - a RELEASE or DROP PARTY from the remote, or a RELEASE COMPLETE that clears
 * a call without one. DISPATCH_LEVEL.
 */
VOID CallRemoteRelease(PMCM_VC Vc, PMCM_PARTY Party, const SIG_MESSAGE *Message)
{
    BOOLEAN answer = Message->Kind != MsgReleaseComplete;
    USHORT cause = Message->Cause != 0 ? Message->Cause : CAUSE_REJECTED;

#ifdef ATMMCM_PLANT_CLEARING_COLLISION
    /* PLANTED BUG (the explorer's target; tests/buggy/mcm_collision.py in C): a RELEASE that
       crosses our own is taken for a new incoming close, instead of as the answer to ours, so
       the client is told of a close while its own NdisClCloseCall is still pending. */
    if (Vc->State == CallReleaseReq) {
        Vc->State = CallReleaseInd;
        NdisMCmDispatchIncomingCloseCall(NDIS_STATUS_SUCCESS, Vc->NdisVcHandle, NULL, 0);
        return;
    }
#endif
    if (CallReleased(Vc, Party)) {
        return;     /* clearing collision: each side takes the other's RELEASE as the answer */
    }
    if (Party != NULL && Vc->State == CallActive && CallLeafReleased(Vc, Party, Message, answer)) {
        return;
    }
    switch (Vc->State) {
    case CallReleaseInd:
        return;     /* a duplicate: the client was told already */
    case CallPresent:
        Vc->RemoteReleased = TRUE;      /* handled when our client answers */
        return;
    case CallInitiated:
        if (answer) {
            SigSendForCall(Vc, Message->Endpoint, MsgReleaseComplete, CAUSE_NORMAL);
        }
        CallPlacedCallFailed(Vc, Party, cause);
        return;
    case CallActivating:
        if (answer) {
            SigSendForCall(Vc, Message->Endpoint, MsgReleaseComplete, CAUSE_NORMAL);
        }
        Vc->RemoteReleased = TRUE;      /* the make-call fails once the activation is done */
        Vc->ReleaseCause = Message->Cause;
        return;
    default:
        CallIncomingClose(Vc, Party, Message->Cause);
        return;
    }
}

/*
 * CallNoAnswer - a message was sent SIG_TRIES times and never answered. From the adapter's
 * timer at DISPATCH_LEVEL.
 */
VOID CallNoAnswer(PMCM_VC Vc, PMCM_PARTY Party, const SIG_MESSAGE *Message)
{
    SIG_MESSAGE cleared;

    if (!CallEntry(Vc, Party)->InCalls) {
        return;
    }
    switch (Message->Kind) {
    case MsgSetup:
    case MsgAddParty:
        /* T303: the called side never answered. Clear the call there too, in case it got through. */
        SigSendReleaseComplete(Vc->Adapter, Message->Ref, Message->Mine, CAUSE_TIMER, Message->Endpoint);
        CallPlacedCallFailed(Vc, Party, CAUSE_TIMER);
        break;
    case MsgConnect:
        /* our CONNECT was never acknowledged: close the accepted call as if the caller had cleared it */
        cleared = *Message;
        cleared.Kind = MsgReleaseComplete;
        cleared.Mine = !Message->Mine;
        cleared.Cause = CAUSE_TIMER;
        CallRemoteRelease(Vc, Party, &cleared);
        break;
    default:
        /* T308: the peer never confirmed our release; the call is over on our side anyway */
        CallReleased(Vc, Party);
        break;
    }
}

/*
 * CallTeardown - after a call: deactivate the VC, and delete it if we created it
 * (deactivating-a-vc.md). DISPATCH_LEVEL or below.
 */
VOID CallTeardown(PMCM_VC Vc)
{
    if (Vc->NdisVcHandle != NULL) {
        VcDeactivate(Vc, VcNextDelete);
    }
}

/*
 * CallVcRequestDone - an activation or deactivation is done; carry on as Next says.
 * From vc.c, at DISPATCH_LEVEL or below.
 */
VOID CallVcRequestDone(PMCM_VC Vc, VC_NEXT Next, NDIS_STATUS Status)
{
    PMCM_PARTY party = Vc->NextParty;

    Vc->NextParty = NULL;
    VcReference(Vc);
    switch (Next) {
    case VcNextOfferIncomingCall:
        CallOffer(Vc, Status);
        break;
    case VcNextCompleteMakeCall:
        CallActivated(Vc, party, Status);
        break;
    case VcNextFailMakeCall:
        CallCompleteMakeCall(Vc, party, Vc->NextStatus);
        break;
    case VcNextCompleteClose:
        NdisMCmCloseCallComplete(NDIS_STATUS_SUCCESS, Vc->NdisVcHandle, party != NULL ? party->NdisPartyHandle : NULL);
        if (party != NULL) {
            PartyNdisDone(party);
        }
        if (Vc->CreatedByUs) {
            VcDelete(Vc);
        }
        break;
    case VcNextDelete:
        if (Vc->CreatedByUs) {
            VcDelete(Vc);
        }
        break;
    case VcNextCompleteQoS:
        CallQoSDone(Vc, Status);
        break;
    case VcNextPartyAdded:
        CallPartyAdded(party, Status);
        break;
    case VcNextNothing:
        break;
    }
    VcDereference(Vc);
}

/* ---- completions NDIS reports, and requests ---------------------------------------------- */

/* CmActivateVcComplete - a pended NdisMCmActivateVc completed. DISPATCH_LEVEL or below. */
static VOID CmActivateVcComplete(NDIS_STATUS Status, NDIS_HANDLE CallMgrVcContext, PCO_CALL_PARAMETERS CallParameters)
{
    UNREFERENCED_PARAMETER(CallParameters);
    VcRequestDone(CallMgrVcContext, Status);
}

/* CmDeactivateVcComplete - a pended NdisMCmDeactivateVc completed. DISPATCH_LEVEL or below. */
static VOID CmDeactivateVcComplete(NDIS_STATUS Status, NDIS_HANDLE CallMgrVcContext)
{
    VcRequestDone(CallMgrVcContext, Status);
}

/*
 * CmOidRequest - a client's request to the call manager (NdisCoOidRequest). PASSIVE_LEVEL.
 * Answers OID_CO_GET_CALL_INFORMATION with a copy of the call's parameters; completes
 * synchronously.
 */
static NDIS_STATUS CmOidRequest(NDIS_HANDLE CallMgrAfContext, NDIS_HANDLE CallMgrVcContext,
                                NDIS_HANDLE CallMgrPartyContext, PNDIS_OID_REQUEST OidRequest)
{
    PMCM_VC vc = CallMgrVcContext;
    PMCM_CALL_PARAMETERS copy;

    UNREFERENCED_PARAMETER(CallMgrAfContext);
    UNREFERENCED_PARAMETER(CallMgrPartyContext);
    if (OidRequest->DATA.QUERY_INFORMATION.Oid != OID_CO_GET_CALL_INFORMATION || vc == NULL) {
        return NDIS_STATUS_NOT_SUPPORTED;
    }
    if (OidRequest->DATA.QUERY_INFORMATION.InformationBufferLength < sizeof(MCM_CALL_PARAMETERS)) {
        OidRequest->DATA.QUERY_INFORMATION.BytesNeeded = sizeof(MCM_CALL_PARAMETERS);
        return NDIS_STATUS_BUFFER_TOO_SHORT;
    }
    copy = OidRequest->DATA.QUERY_INFORMATION.InformationBuffer;
    NdisMoveMemory(copy, &vc->Params, sizeof(MCM_CALL_PARAMETERS));
    copy->Call.CallMgrParameters = &copy->Manager;
    copy->Call.MediaParameters = &copy->Media;
    OidRequest->DATA.QUERY_INFORMATION.BytesWritten = sizeof(MCM_CALL_PARAMETERS);
    return NDIS_STATUS_SUCCESS;
}

/* CmOidRequestComplete - never called: this MCM asks its clients nothing. */
static VOID CmOidRequestComplete(NDIS_HANDLE CallMgrAfContext, NDIS_HANDLE CallMgrVcContext,
                                 NDIS_HANDLE CallMgrPartyContext, PNDIS_OID_REQUEST OidRequest, NDIS_STATUS Status)
{
    UNREFERENCED_PARAMETER(CallMgrAfContext);
    UNREFERENCED_PARAMETER(CallMgrVcContext);
    UNREFERENCED_PARAMETER(CallMgrPartyContext);
    UNREFERENCED_PARAMETER(OidRequest);
    UNREFERENCED_PARAMETER(Status);
}

/* CmNotifyCloseAfComplete - never called: this MCM does not withdraw its AF while it runs. */
static VOID CmNotifyCloseAfComplete(NDIS_HANDLE CallMgrAfContext, NDIS_STATUS Status)
{
    UNREFERENCED_PARAMETER(CallMgrAfContext);
    UNREFERENCED_PARAMETER(Status);
}

/*
 * CallMgrFillHandlers - the table the MCM's SetOptions hands NdisSetOptionalHandlers
 * (condis-mcm-registration.md). PASSIVE_LEVEL.
 */
VOID CallMgrFillHandlers(PNDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS Handlers)
{
    NdisZeroMemory(Handlers, sizeof(*Handlers));
    Handlers->Header.Type = NDIS_OBJECT_TYPE_CO_CALL_MANAGER_OPTIONAL_HANDLERS;
    Handlers->Header.Revision = NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS_REVISION_1;
    Handlers->Header.Size = NDIS_SIZEOF_CO_CALL_MANAGER_OPTIONAL_HANDLERS_REVISION_1;
    Handlers->CmCreateVcHandler = CmCreateVc;
    Handlers->CmDeleteVcHandler = CmDeleteVc;
    Handlers->CmOpenAfHandler = CmOpenAf;
    Handlers->CmCloseAfHandler = CmCloseAf;
    Handlers->CmRegisterSapHandler = CmRegisterSap;
    Handlers->CmDeregisterSapHandler = CmDeregisterSap;
    Handlers->CmMakeCallHandler = CmMakeCall;
    Handlers->CmCloseCallHandler = CmCloseCall;
    Handlers->CmIncomingCallCompleteHandler = CmIncomingCallComplete;
    Handlers->CmAddPartyHandler = CmAddParty;
    Handlers->CmDropPartyHandler = CmDropParty;
    Handlers->CmActivateVcCompleteHandler = CmActivateVcComplete;
    Handlers->CmDeactivateVcCompleteHandler = CmDeactivateVcComplete;
    Handlers->CmModifyCallQoSHandler = CmModifyCallQoS;
    Handlers->CmOidRequestHandler = CmOidRequest;
    Handlers->CmOidRequestCompleteHandler = CmOidRequestComplete;
    Handlers->CmNotifyCloseAfCompleteHandler = CmNotifyCloseAfComplete;
}

/*
 * CallMgrHalt - the adapter halts: every call signaling still keeps (those being cleared toward
 * the peer) is dropped. From MiniportHaltEx at PASSIVE_LEVEL, after RESTART told the peer.
 */
VOID CallMgrHalt(PMCM_ADAPTER Adapter)
{
    while (!IsListEmpty(&Adapter->Calls)) {
        SigForget(CONTAINING_RECORD(Adapter->Calls.Flink, MCM_ENTRY, Link));
    }
}
