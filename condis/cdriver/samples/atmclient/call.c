/*
 * call.c - the sample client's calls (making-a-call.md, indicating-an-incoming-call.md,
 * client-initiated-request-to-close-a-call.md, incoming-request-to-close-a-call.md,
 * client-initiated-request-to-change-call-parameters.md), and the VCs under them
 * (creating-a-vc.md, deleting-a-vc.md).
 *
 * A request this client makes that pends is finished by its Cl...Complete handler; one that
 * does not pend is finished by calling that same handler here, so each has one path.
 */
#include "call.h"
#include "af.h"

static NDIS_TIMER_FUNCTION ClientRetryDelete;
static IO_WORKITEM_ROUTINE_EX ClientDeleteWorkItem;

/* ---- call parameters ---------------------------------------------------------------------- */

static VOID ClientFlowspec(PFLOWSPEC Flow, ULONG Rate)
{
    NdisZeroMemory(Flow, sizeof(*Flow));
    Flow->TokenRate = Rate;
    Flow->PeakBandwidth = Rate;
    Flow->ServiceType = 1;          /* SERVICETYPE_BESTEFFORT */
    Flow->MaxSduSize = CLIENT_MTU;
}

/*
 * ClientBuildParameters - call parameters as the Python samples build them (signaling.py's
 * call_parameters): the called address in CallMgrSpecific, the rate in both FLOWSPECs, an empty
 * VCI list the call manager fills in. Any IRQL.
 */
VOID ClientBuildParameters(PCLIENT_CALL_PARAMETERS To, const UCHAR *Address, ULONG AddressLength, ULONG Rate)
{
    NdisZeroMemory(To, sizeof(*To));
    To->Call.CallMgrParameters = &To->Manager;
    To->Call.MediaParameters = &To->Media;
    ClientFlowspec(&To->Manager.Transmit, Rate);
    ClientFlowspec(&To->Manager.Receive, Rate);
    To->Manager.CallMgrSpecific.ParamType = 1;
    To->Manager.CallMgrSpecific.Length = AddressLength;
    if (AddressLength != 0) {
        NdisMoveMemory(To->Manager.CallMgrSpecific.Parameters, Address, AddressLength);
    }
    To->Media.Flags = TRANSMIT_VC | RECEIVE_VC;
    To->Media.ReceiveSizeHint = CLIENT_MTU;
    To->Media.MediaSpecific.ParamType = 2;
}

/* Keeps a copy of call parameters NDIS hands a handler (they are NDIS's once it returns). */
static VOID ClientCopyParameters(PCLIENT_CALL_PARAMETERS To, const CO_CALL_PARAMETERS *From)
{
    const CO_CALL_MANAGER_PARAMETERS *manager = From->CallMgrParameters;
    const CO_MEDIA_PARAMETERS *media = From->MediaParameters;
    ULONG length = manager != NULL ? manager->CallMgrSpecific.Length : 0;
    ULONG specific = media != NULL ? media->MediaSpecific.Length : 0;

    if (length > CLIENT_MAX_ADDRESS) {
        length = CLIENT_MAX_ADDRESS;
    }
    ClientBuildParameters(To, manager != NULL ? manager->CallMgrSpecific.Parameters : NULL, length,
                          manager != NULL ? manager->Transmit.TokenRate : CLIENT_DEFAULT_RATE);
    To->Call.Flags = From->Flags;
    if (manager != NULL) {
        To->Manager.Transmit = manager->Transmit;
        To->Manager.Receive = manager->Receive;
    }
    if (media != NULL) {
        if (specific > 16 * sizeof(ULONG)) {
            specific = 16 * sizeof(ULONG);
        }
        To->Media.Flags = media->Flags;
        To->Media.ReceivePriority = media->ReceivePriority;
        To->Media.ReceiveSizeHint = media->ReceiveSizeHint;
        To->Media.MediaSpecific.ParamType = media->MediaSpecific.ParamType;
        To->Media.MediaSpecific.Length = specific;
        NdisMoveMemory(To->Media.MediaSpecific.Parameters, media->MediaSpecific.Parameters, specific);
    }
}

/* ---- the application's history of calls ------------------------------------------------- */

/*
 * ClientCallRelease - frees a call nobody needs any more: its VC deleted, and neither history
 * list showing it to the application. Any IRQL up to DISPATCH_LEVEL.
 */
VOID ClientCallRelease(PCLIENT_CALL Call)
{
    if (Call->Deleted && !Call->InHistory && !Call->InIncoming) {
        while (!IsListEmpty(&Call->Parties)) {
            ClientFree(CONTAINING_RECORD(RemoveHeadList(&Call->Parties), CLIENT_PARTY, Link));
        }
        while (!IsListEmpty(&Call->Gone)) {
            ClientFree(CONTAINING_RECORD(RemoveHeadList(&Call->Gone), CLIENT_PARTY, Link));
        }
        ClientFree(Call);
    }
}

/* A leaf is no longer part of its call: it moves to the call's Gone, in State. */
static VOID ClientPartyGone(PCLIENT_PARTY Party, CLIENT_CALL_STATE State)
{
    Party->State = State;
    RemoveEntryList(&Party->Link);
    InsertTailList(&Party->Call->Gone, &Party->Link);
    Party->Call->PartyCount--;
}

/* Every leaf left goes with the call, in State. */
static VOID ClientPartiesGone(PCLIENT_CALL Call, CLIENT_CALL_STATE State)
{
    while (!IsListEmpty(&Call->Parties)) {
        ClientPartyGone(CONTAINING_RECORD(Call->Parties.Flink, CLIENT_PARTY, Link), State);
    }
}

/* A new leaf of Call, to Address. */
static PCLIENT_PARTY ClientNewParty(PCLIENT_CALL Call, const UCHAR *Address, ULONG AddressLength, ULONG Rate)
{
    PCLIENT_PARTY party = ClientAllocate(Call->Af->Binding->NdisBindingHandle, sizeof(CLIENT_PARTY));
    if (party == NULL) {
        return NULL;
    }
    party->Call = Call;
    party->State = ClientCallMaking;
    ClientBuildParameters(&party->Params, Address, AddressLength, Rate);
    InsertTailList(&Call->Parties, &party->Link);
    Call->PartyCount++;
    return party;
}

static VOID ClientListAdd(PCLIENT_CALL *List, PULONG Count, PCLIENT_CALL Call, BOOLEAN Incoming)
{
    if (*Count == CLIENT_HISTORY) {
        PCLIENT_CALL oldest = List[0];
        NdisMoveMemory(&List[0], &List[1], (CLIENT_HISTORY - 1) * sizeof(PCLIENT_CALL));
        (*Count)--;
        if (Incoming) {
            oldest->InIncoming = FALSE;
        } else {
            oldest->InHistory = FALSE;
        }
        ClientCallRelease(oldest);
    }
    List[(*Count)++] = Call;
}

/*
 * ClientHistoryAdd - the application can look at the last CLIENT_HISTORY calls (and offered
 * calls); older ones are forgotten, and freed once over. PASSIVE_LEVEL or DISPATCH_LEVEL.
 */
VOID ClientHistoryAdd(PCLIENT_CALL Call, BOOLEAN Incoming)
{
    Call->InHistory = TRUE;
    ClientListAdd(ClientDriver.History, &ClientDriver.HistoryCount, Call, FALSE);
    if (Incoming) {
        Call->InIncoming = TRUE;
        ClientListAdd(ClientDriver.Incoming, &ClientDriver.IncomingCount, Call, TRUE);
    }
}

/* ClientHistoryClear - the driver unloads: forget (and free) every call. PASSIVE_LEVEL. */
VOID ClientHistoryClear(VOID)
{
    for (ULONG i = 0; i < ClientDriver.IncomingCount; i++) {
        ClientDriver.Incoming[i]->InIncoming = FALSE;
    }
    ClientDriver.IncomingCount = 0;
    for (ULONG i = 0; i < ClientDriver.HistoryCount; i++) {
        PCLIENT_CALL call = ClientDriver.History[i];
        call->InHistory = FALSE;
        ClientCallRelease(call);
    }
    ClientDriver.HistoryCount = 0;
}

/* ---- VCs ------------------------------------------------------------------------------------ */

/*
 * ClCreateVc - the call manager creates a VC for an incoming call. PASSIVE_LEVEL or
 * DISPATCH_LEVEL.
 */
NDIS_STATUS ClCreateVc(NDIS_HANDLE ProtocolAfContext, NDIS_HANDLE NdisVcHandle, PNDIS_HANDLE ProtocolVcContext)
{
    PCLIENT_AF af = ProtocolAfContext;
    PCLIENT_CALL call = ClientAllocate(af->Binding->NdisBindingHandle, sizeof(CLIENT_CALL));

    if (call == NULL) {
        return NDIS_STATUS_RESOURCES;
    }
    call->Af = af;
    call->NdisVcHandle = NdisVcHandle;
    call->State = ClientCallOffered;
    InitializeListHead(&call->Parties);
    InitializeListHead(&call->Gone);
    InsertTailList(&af->Calls, &call->Link);
    *ProtocolVcContext = call;
    return NDIS_STATUS_SUCCESS;
}

/* The VC under a call is gone: the call leaves its AF, whose close may be waiting for it. */
static VOID ClientVcGone(PCLIENT_CALL Call)
{
    PCLIENT_AF af = Call->Af;
    Call->Deleted = TRUE;
    Call->NdisVcHandle = NULL;
    RemoveEntryList(&Call->Link);
    ClientCallRelease(Call);
    ClientAfProgress(af);
}

/*
 * ClDeleteVc - the call manager deletes the VC it created for an incoming call, after
 * deactivating it. PASSIVE_LEVEL or DISPATCH_LEVEL.
 */
NDIS_STATUS ClDeleteVc(NDIS_HANDLE ProtocolVcContext)
{
    ClientVcGone(ProtocolVcContext);
    return NDIS_STATUS_SUCCESS;
}

/* Tries NdisCoDeleteVc; while NDIS says the VC is still active or deactivating, later again. */
static VOID ClientTryDelete(PCLIENT_CALL Call)
{
    NDIS_STATUS status = NdisCoDeleteVc(Call->NdisVcHandle);
    LARGE_INTEGER due;

    if ((status == NDIS_STATUS_NOT_ACCEPTED || status == NDIS_STATUS_CLOSING) && Call->Retries < CLIENT_RETRIES) {
        Call->Retries++;
        due.QuadPart = CLIENT_RETRY_100NS;
        NdisSetTimerObject(Call->RetryTimer, due, 0, Call);
        return;
    }
    NdisFreeTimerObject(Call->RetryTimer);
    Call->RetryTimer = NULL;
    if (status != NDIS_STATUS_SUCCESS) {
        DbgPrint("atmclient: NdisCoDeleteVc failed, 0x%08x\n", (unsigned)status);
        return;
    }
    ClientVcGone(Call);
}

/*
 * ClientDeleteVc - deletes a VC we created once its call is over, from a work item; the call
 * manager may still be deactivating the VC, and NdisCoDeleteVc answers NDIS_STATUS_NOT_ACCEPTED
 * or NDIS_STATUS_CLOSING until it is done (nf-ndis-ndiscodeletevc.md), so it is tried again from
 * the call's timer. Any handler's IRQL.
 */
static VOID ClientDeleteVc(PCLIENT_CALL Call)
{
    PIO_WORKITEM item = ClientAllocateWorkItem(Call->Af->Binding->NdisBindingHandle);
    LARGE_INTEGER due;

    if (item == NULL) {
        /* no work item: the retry timer, allocated with the call, gets out of this handler */
        due.QuadPart = CLIENT_RETRY_100NS;
        NdisSetTimerObject(Call->RetryTimer, due, 0, Call);
        return;
    }
    IoQueueWorkItemEx(item, ClientDeleteWorkItem, DelayedWorkQueue, Call);
}

/* ClientDeleteWorkItem - ClientDeleteVc's work item, at PASSIVE_LEVEL. */
static VOID ClientDeleteWorkItem(PVOID IoObject, PVOID Context, PIO_WORKITEM IoWorkItem)
{
    UNREFERENCED_PARAMETER(IoObject);
    ClientFreeWorkItem(IoWorkItem);
    ClientTryDelete(Context);
}

/* ClientRetryDelete - the call's retry timer, at DISPATCH_LEVEL. */
static VOID ClientRetryDelete(PVOID SystemSpecific1, PVOID FunctionContext, PVOID SystemSpecific2, PVOID SystemSpecific3)
{
    UNREFERENCED_PARAMETER(SystemSpecific1);
    UNREFERENCED_PARAMETER(SystemSpecific2);
    UNREFERENCED_PARAMETER(SystemSpecific3);
    ClientTryDelete(FunctionContext);
}

/* ---- outgoing calls ------------------------------------------------------------------------ */

/*
 * ClientPlaceCall - creates a VC and makes a call to Address (NdisCoCreateVc, NdisClMakeCall),
 * a multipoint call with Address its first leaf if Multipoint; ClMakeCallComplete finishes it.
 * The call is returned even if it failed at once (its state says so); NULL only if there was no
 * memory for it. PASSIVE_LEVEL.
 */
PCLIENT_CALL ClientPlaceCall(PCLIENT_AF Af, const UCHAR *Address, ULONG AddressLength, ULONG Rate, BOOLEAN Multipoint)
{
    NDIS_HANDLE binding = Af->Binding->NdisBindingHandle;
    NDIS_TIMER_CHARACTERISTICS timer;
    NDIS_HANDLE partyHandle = NULL;
    PCLIENT_PARTY party = NULL;
    PCLIENT_CALL call;
    NDIS_STATUS status;

    call = ClientAllocate(binding, sizeof(CLIENT_CALL));
    if (call == NULL) {
        return NULL;
    }
    call->Af = Af;
    call->Outgoing = TRUE;
    call->State = ClientCallMaking;
    InitializeListHead(&call->Parties);
    InitializeListHead(&call->Gone);
    InsertTailList(&Af->Calls, &call->Link);
    ClientHistoryAdd(call, FALSE);

    /* the timer that retries deleting the VC, allocated now so that the call can always be cleaned up */
    NdisZeroMemory(&timer, sizeof(timer));
    timer.Header.Type = NDIS_OBJECT_TYPE_TIMER_CHARACTERISTICS;
    timer.Header.Revision = NDIS_TIMER_CHARACTERISTICS_REVISION_1;
    timer.Header.Size = NDIS_SIZEOF_TIMER_CHARACTERISTICS_REVISION_1;
    timer.AllocationTag = ATMCLIENT_TAG;
    timer.TimerFunction = ClientRetryDelete;
    timer.FunctionContext = call;
    status = NdisAllocateTimerObject(binding, &timer, &call->RetryTimer);
    if (status == NDIS_STATUS_SUCCESS) {
        status = NdisCoCreateVc(binding, Af->NdisAfHandle, call, &call->NdisVcHandle);
    }
    if (status == NDIS_STATUS_SUCCESS && Multipoint) {
        party = ClientNewParty(call, Address, AddressLength, Rate);
        if (party == NULL) {
            NdisCoDeleteVc(call->NdisVcHandle);     /* never used: deleted at once */
            status = NDIS_STATUS_RESOURCES;
        }
    }
    if (status != NDIS_STATUS_SUCCESS) {
        if (call->RetryTimer != NULL) {
            NdisFreeTimerObject(call->RetryTimer);
            call->RetryTimer = NULL;
        }
        call->State = ClientCallFailed;
        call->Status = status;
        RemoveEntryList(&call->Link);
        call->Deleted = TRUE;
        return call;
    }
    if (AddressLength > CLIENT_MAX_ADDRESS) {
        AddressLength = CLIENT_MAX_ADDRESS;     /* the call manager refuses a cut address as unknown */
    }
    ClientBuildParameters(&call->Params, Address, AddressLength, Rate);
    status = NdisClMakeCall(call->NdisVcHandle, &call->Params.Call, party, &partyHandle);
    if (party != NULL) {
        party->NdisPartyHandle = partyHandle;
    }
    if (status != NDIS_STATUS_PENDING) {
        ClMakeCallComplete(status, call, partyHandle, &call->Params.Call);
    }
    return call;
}

/* ClMakeCallComplete - our make-call is done. PASSIVE_LEVEL or DISPATCH_LEVEL. */
VOID ClMakeCallComplete(NDIS_STATUS Status, NDIS_HANDLE ProtocolVcContext, NDIS_HANDLE NdisPartyHandle,
                        PCO_CALL_PARAMETERS CallParameters)
{
    PCLIENT_CALL call = ProtocolVcContext;

    UNREFERENCED_PARAMETER(CallParameters);
    call->Status = Status;
    if (Status == NDIS_STATUS_SUCCESS) {
        call->State = ClientCallUp;
        for (PLIST_ENTRY e = call->Parties.Flink; e != &call->Parties; e = e->Flink) {
            PCLIENT_PARTY party = CONTAINING_RECORD(e, CLIENT_PARTY, Link);
            party->State = ClientCallUp;
            party->NdisPartyHandle = NdisPartyHandle;
        }
        ClientAfProgress(call->Af);     /* a closing AF closes the call at once */
        return;
    }
    call->State = ClientCallFailed;
    ClientPartiesGone(call, ClientCallFailed);
    ClientDeleteVc(call);
}

/* ---- incoming calls ----------------------------------------------------------------------- */

/*
 * ClIncomingCall - the call manager offers a call on our SAP. PASSIVE_LEVEL or DISPATCH_LEVEL.
 * Answered as the application said (AtmClientSetAnswer): accepted, refused, or left pending
 * for the application to answer with ClientAnswer (NdisClIncomingCallComplete).
 */
NDIS_STATUS ClIncomingCall(NDIS_HANDLE ProtocolSapContext, NDIS_HANDLE ProtocolVcContext, PCO_CALL_PARAMETERS CallParameters)
{
    PCLIENT_CALL call = ProtocolVcContext;
    NDIS_STATUS status = ClientDriver.Answer;

    UNREFERENCED_PARAMETER(ProtocolSapContext);
    ClientCopyParameters(&call->Params, CallParameters);
    ClientHistoryAdd(call, TRUE);
    if (status == NDIS_STATUS_SUCCESS) {
        call->State = ClientCallAccepted;
    } else if (status == NDIS_STATUS_PENDING) {
        call->State = ClientCallOffered;
    } else {
        call->State = ClientCallClosed;
    }
    return status;
}

/* ClientAnswer - the application answers a call left pending. PASSIVE_LEVEL. */
VOID ClientAnswer(PCLIENT_CALL Call, NDIS_STATUS Status)
{
    Call->State = Status == NDIS_STATUS_SUCCESS ? ClientCallAccepted : ClientCallClosed;
    NdisClIncomingCallComplete(Status, Call->NdisVcHandle, &Call->Params.Call);
}

/* ClCallConnected - a call we accepted is up. PASSIVE_LEVEL or DISPATCH_LEVEL. */
VOID ClCallConnected(NDIS_HANDLE ProtocolVcContext)
{
    PCLIENT_CALL call = ProtocolVcContext;
    call->State = ClientCallUp;
    ClientAfProgress(call->Af);
}

/* ---- closing calls ------------------------------------------------------------------------- */

/*
 * ClientDropParty - drops a leaf of a multipoint call (NdisClDropParty); ClDropPartyComplete
 * finishes it. PASSIVE_LEVEL.
 */
VOID ClientDropParty(PCLIENT_PARTY Party)
{
    NDIS_STATUS status;
    Party->State = ClientCallClosing;
    status = NdisClDropParty(Party->NdisPartyHandle, NULL, 0);
    if (status != NDIS_STATUS_PENDING) {
        ClDropPartyComplete(status, Party);
    }
}

/* Closes a closing multipoint call once it is down to its last leaf (with that leaf's party),
   or a point-to-point call at once. */
static VOID ClientCloseWhenSingle(PCLIENT_CALL Call)
{
    PCLIENT_PARTY last = NULL;
    NDIS_STATUS status;

    if (!Call->CloseWaits || Call->PartyCount > 1) {
        return;
    }
    Call->CloseWaits = FALSE;
    for (PLIST_ENTRY e = Call->Parties.Flink; e != &Call->Parties && last == NULL; e = e->Flink) {
        PCLIENT_PARTY party = CONTAINING_RECORD(e, CLIENT_PARTY, Link);
        if (party->State == ClientCallUp) {
            last = party;
        }
    }
    status = NdisClCloseCall(Call->NdisVcHandle, last != NULL ? last->NdisPartyHandle : NULL, NULL, 0);
    if (status != NDIS_STATUS_PENDING) {
        ClCloseCallComplete(status, Call, last);
    }
}

/*
 * ClientCloseCall - closes a call (NdisClCloseCall); ClCloseCallComplete finishes it. A
 * multipoint call is closed with its last leaf: the others are dropped first, and the close
 * waits until those drops (and any add-party under way) have completed
 * (dropping-a-party-from-a-multipoint-call.md). PASSIVE_LEVEL.
 */
VOID ClientCloseCall(PCLIENT_CALL Call)
{
    BOOLEAN first = TRUE;
    PLIST_ENTRY e, next;

    Call->State = ClientCallClosing;
    Call->CloseWaits = TRUE;
    for (e = Call->Parties.Flink; e != &Call->Parties; e = next) {
        PCLIENT_PARTY party = CONTAINING_RECORD(e, CLIENT_PARTY, Link);
        next = e->Flink;
        if (party->State != ClientCallUp) {
            continue;
        }
        if (first) {
            first = FALSE;      /* the call is closed with this one */
        } else {
            ClientDropParty(party);
        }
    }
    ClientCloseWhenSingle(Call);
}

#ifdef ATMCLIENT_PLANT_DEFERRED_CLOSE
static IO_WORKITEM_ROUTINE_EX ClientDeferredClose;

/* PLANTED BUG (the explorer's target; tests/buggy/client_deferred_close.py in C): the close is
   acknowledged later, from a work item, and meanwhile the call still looks up to the
   application; if the user hangs up in between, NdisClCloseCall is called twice. */
static VOID ClientDeferredClose(PVOID IoObject, PVOID Context, PIO_WORKITEM IoWorkItem)
{
    UNREFERENCED_PARAMETER(IoObject);
    ClientFreeWorkItem(IoWorkItem);
    ClientCloseCall(Context);
}
#endif

/*
 * ClIncomingCloseCall - the remote closed the call: acknowledge with NdisClCloseCall
 * (incoming-request-to-close-a-call.md). PASSIVE_LEVEL or DISPATCH_LEVEL.
 */
VOID ClIncomingCloseCall(NDIS_STATUS CloseStatus, NDIS_HANDLE ProtocolVcContext, PVOID CloseData, UINT Size)
{
    PCLIENT_CALL call = ProtocolVcContext;

    UNREFERENCED_PARAMETER(CloseStatus);
    UNREFERENCED_PARAMETER(CloseData);
    UNREFERENCED_PARAMETER(Size);
#ifdef ATMCLIENT_PLANT_DEFERRED_CLOSE
    PIO_WORKITEM item = ClientAllocateWorkItem(call->Af->Binding->NdisBindingHandle);
    if (item != NULL) {
        IoQueueWorkItemEx(item, ClientDeferredClose, DelayedWorkQueue, call);
        return;
    }
#endif
    ClientCloseCall(call);
}

/* The call is over: delete its VC if we created it, else tell a closing AF. */
static VOID ClientAfterClose(PCLIENT_CALL Call)
{
    Call->State = ClientCallClosed;
    ClientPartiesGone(Call, ClientCallClosed);
    if (Call->Outgoing) {
        ClientDeleteVc(Call);
    } else {
        ClientAfProgress(Call->Af);
    }
}

/* ClCloseCallComplete - our close is done. PASSIVE_LEVEL or DISPATCH_LEVEL. */
VOID ClCloseCallComplete(NDIS_STATUS Status, NDIS_HANDLE ProtocolVcContext, NDIS_HANDLE ProtocolPartyContext)
{
    PCLIENT_CALL call = ProtocolVcContext;

    UNREFERENCED_PARAMETER(ProtocolPartyContext);
    call->Status = Status;
    if (Status != NDIS_STATUS_SUCCESS) {
        call->State = ClientCallUp;
        return;
    }
    ClientAfterClose(call);
}

/* ---- QoS ------------------------------------------------------------------------------------- */

/*
 * ClientModifyQoS - asks for a new rate on a call (NdisClModifyCallQoS);
 * ClModifyCallQoSComplete finishes it. PASSIVE_LEVEL.
 */
NDIS_STATUS ClientModifyQoS(PCLIENT_CALL Call, ULONG Rate)
{
    NDIS_STATUS status;
    ClientBuildParameters(&Call->QoSParams, Call->Params.Manager.CallMgrSpecific.Parameters,
                          Call->Params.Manager.CallMgrSpecific.Length, Rate);
    status = NdisClModifyCallQoS(Call->NdisVcHandle, &Call->QoSParams.Call);
    if (status != NDIS_STATUS_PENDING) {
        ClModifyCallQoSComplete(status, Call, &Call->QoSParams.Call);
    }
    return status;
}

/* ClModifyCallQoSComplete - our QoS change is done. PASSIVE_LEVEL or DISPATCH_LEVEL. */
VOID ClModifyCallQoSComplete(NDIS_STATUS Status, NDIS_HANDLE ProtocolVcContext, PCO_CALL_PARAMETERS CallParameters)
{
    PCLIENT_CALL call = ProtocolVcContext;
    call->QoSStatus = Status;
    if (Status == NDIS_STATUS_SUCCESS) {
        ClientCopyParameters(&call->Params, CallParameters);
    }
}

/* ClIncomingCallQoSChange - the remote changed the call's parameters. PASSIVE_LEVEL or DISPATCH_LEVEL. */
VOID ClIncomingCallQoSChange(NDIS_HANDLE ProtocolVcContext, PCO_CALL_PARAMETERS CallParameters)
{
    PCLIENT_CALL call = ProtocolVcContext;
    ClientCopyParameters(&call->Params, CallParameters);
}

/* ---- leaves of a multipoint call (adding-a-party-to-a-multipoint-call.md,
        dropping-a-party-from-a-multipoint-call.md) --------------------------------------- */

/*
 * ClientAddParty - adds a leaf to a multipoint call that is up (NdisClAddParty);
 * ClAddPartyComplete finishes it. NULL if there was no memory for the leaf. PASSIVE_LEVEL.
 */
PCLIENT_PARTY ClientAddParty(PCLIENT_CALL Call, const UCHAR *Address, ULONG AddressLength)
{
    PCLIENT_PARTY party;
    NDIS_HANDLE handle = NULL;
    NDIS_STATUS status;

    if (AddressLength > CLIENT_MAX_ADDRESS) {
        AddressLength = CLIENT_MAX_ADDRESS;
    }
    party = ClientNewParty(Call, Address, AddressLength, CLIENT_DEFAULT_RATE);
    if (party == NULL) {
        return NULL;
    }
    status = NdisClAddParty(Call->NdisVcHandle, party, &party->Params.Call, &handle);
    party->NdisPartyHandle = handle;
    if (status != NDIS_STATUS_PENDING) {
        ClAddPartyComplete(status, party, handle, &party->Params.Call);
    }
    return party;
}

/* ClAddPartyComplete - our add-party is done. PASSIVE_LEVEL or DISPATCH_LEVEL. */
VOID ClAddPartyComplete(NDIS_STATUS Status, NDIS_HANDLE ProtocolPartyContext, NDIS_HANDLE NdisPartyHandle,
                        PCO_CALL_PARAMETERS CallParameters)
{
    PCLIENT_PARTY party = ProtocolPartyContext;
    PCLIENT_CALL call = party->Call;

    UNREFERENCED_PARAMETER(CallParameters);
    if (Status == NDIS_STATUS_SUCCESS) {
        party->State = ClientCallUp;
        party->NdisPartyHandle = NdisPartyHandle;
        if (call->CloseWaits) {
            ClientDropParty(party);     /* added while the call was being closed */
        }
        return;
    }
    ClientPartyGone(party, ClientCallFailed);
    ClientCloseWhenSingle(call);
}

/* ClDropPartyComplete - our drop of a leaf is done. PASSIVE_LEVEL or DISPATCH_LEVEL. */
VOID ClDropPartyComplete(NDIS_STATUS Status, NDIS_HANDLE ProtocolPartyContext)
{
    PCLIENT_PARTY party = ProtocolPartyContext;
    PCLIENT_CALL call = party->Call;

    if (Status == NDIS_STATUS_SUCCESS) {
        ClientPartyGone(party, ClientCallClosed);
    } else {
        party->State = ClientCallUp;
    }
    ClientCloseWhenSingle(call);
    ClientAfProgress(call->Af);
}

/* ClIncomingDropParty - a leaf hung up (not the last): acknowledge with NdisClDropParty
   (incoming-request-to-drop-a-party-from-a-multipoint-call.md). PASSIVE_LEVEL or DISPATCH_LEVEL. */
VOID ClIncomingDropParty(NDIS_STATUS DropStatus, NDIS_HANDLE ProtocolPartyContext, PVOID CloseData, UINT Size)
{
    UNREFERENCED_PARAMETER(DropStatus);
    UNREFERENCED_PARAMETER(CloseData);
    UNREFERENCED_PARAMETER(Size);
    ClientDropParty(ProtocolPartyContext);
}

/* ClOidRequest - the call manager's requests: none is supported. PASSIVE_LEVEL. */
NDIS_STATUS ClOidRequest(NDIS_HANDLE ProtocolAfContext, NDIS_HANDLE ProtocolVcContext,
                         NDIS_HANDLE ProtocolPartyContext, PNDIS_OID_REQUEST OidRequest)
{
    UNREFERENCED_PARAMETER(ProtocolAfContext);
    UNREFERENCED_PARAMETER(ProtocolVcContext);
    UNREFERENCED_PARAMETER(ProtocolPartyContext);
    UNREFERENCED_PARAMETER(OidRequest);
    return NDIS_STATUS_NOT_SUPPORTED;
}

/* ClOidRequestComplete - never called: this client sends no requests. */
VOID ClOidRequestComplete(NDIS_HANDLE ProtocolAfContext, NDIS_HANDLE ProtocolVcContext,
                          NDIS_HANDLE ProtocolPartyContext, PNDIS_OID_REQUEST OidRequest, NDIS_STATUS Status)
{
    UNREFERENCED_PARAMETER(ProtocolAfContext);
    UNREFERENCED_PARAMETER(ProtocolVcContext);
    UNREFERENCED_PARAMETER(ProtocolPartyContext);
    UNREFERENCED_PARAMETER(OidRequest);
    UNREFERENCED_PARAMETER(Status);
}
