/*
 * vc.c - per-VC state: allocation and references, the call parameters a VC owns, activation
 * and deactivation (differences-in-virtual-connections.md: an MCM activates and deactivates its
 * VCs itself, with NdisMCmActivateVc and NdisMCmDeactivateVc), the NIC's VCI mapping, and work
 * deferred to an NDIS work item.
 */
#include "vc.h"
#include "callmgr.h"
#include "signaling.h"

/*
 * VcAllocate - a new VC context with one reference, the caller's (NDIS's, for a VC a client
 * creates; the call's, for a VC we create for an incoming call). DISPATCH_LEVEL or below.
 */
PMCM_VC VcAllocate(PMCM_ADAPTER Adapter, BOOLEAN CreatedByUs)
{
    PMCM_VC vc = McmAllocate(Adapter->MiniportAdapterHandle, sizeof(MCM_VC));
    if (vc == NULL) {
        return NULL;
    }
    vc->RefCount = 1;
    vc->Adapter = Adapter;
    vc->CreatedByUs = CreatedByUs;
    vc->State = CallNull;
    vc->Entry.Vc = vc;
    InitializeListHead(&vc->Entry.Link);
    InitializeListHead(&vc->Parties);
    InitializeListHead(&vc->MappedLink);
    InitializeListHead(&vc->DeferredLink);
    return vc;
}

/* VcReference / VcDereference - take and drop a reference; the last one frees the VC. */
VOID VcReference(PMCM_VC Vc)
{
    NdisInterlockedIncrement(&Vc->RefCount);
}

VOID VcDereference(PMCM_VC Vc)
{
    if (NdisInterlockedDecrement(&Vc->RefCount) != 0) {
        return;
    }
    ASSERT(!Vc->Entry.InCalls && !Vc->Mapped && !Vc->InDeferred && !Vc->LaterQueued && IsListEmpty(&Vc->Parties));
    if (Vc->PreviousParams != NULL) {
        McmFree(Vc->PreviousParams);
    }
    McmFree(Vc);
}

/* ---- leaves of a multipoint call ---------------------------------------------------------- */

/*
 * PartyAllocate - a new leaf of Vc's multipoint call, with NDIS's reference (NdisKnows); the
 * party holds a reference on its VC. DISPATCH_LEVEL or below.
 */
PMCM_PARTY PartyAllocate(PMCM_VC Vc, NDIS_HANDLE NdisPartyHandle, ULONG Endpoint, ULONG Vci)
{
    PMCM_PARTY party = McmAllocate(Vc->Adapter->MiniportAdapterHandle, sizeof(MCM_PARTY));
    if (party == NULL) {
        return NULL;
    }
    party->RefCount = 1;
    party->NdisKnows = TRUE;
    party->NdisPartyHandle = NdisPartyHandle;
    party->Vci = Vci;
    party->State = CallInitiated;
    party->Entry.Vc = Vc;
    party->Entry.Party = party;
    party->Entry.Endpoint = Endpoint;
    InitializeListHead(&party->Entry.Link);
    InitializeListHead(&party->Link);
    VcReference(Vc);
    return party;
}

VOID PartyReference(PMCM_PARTY Party)
{
    NdisInterlockedIncrement(&Party->RefCount);
}

VOID PartyDereference(PMCM_PARTY Party)
{
    PMCM_VC vc = Party->Entry.Vc;
    if (NdisInterlockedDecrement(&Party->RefCount) != 0) {
        return;
    }
    ASSERT(!Party->Entry.InCalls && !Party->InParties && !Party->NdisKnows);
    McmFree(Party);
    VcDereference(vc);
}

/* PartyJoin / PartyLeave - the leaf becomes one of the call's, and stops being one. */
VOID PartyJoin(PMCM_PARTY Party)
{
    PMCM_VC vc = Party->Entry.Vc;
    PartyReference(Party);
    Party->InParties = TRUE;
    InsertTailList(&vc->Parties, &Party->Link);
    vc->PartyCount++;
}

VOID PartyLeave(PMCM_PARTY Party)
{
    if (!Party->InParties) {
        return;
    }
    RemoveEntryList(&Party->Link);
    InitializeListHead(&Party->Link);
    Party->InParties = FALSE;
    Party->Entry.Vc->PartyCount--;
    PartyDereference(Party);
}

/* PartyNdisDone - NDIS no longer knows the party: its add, drop or close completed. */
VOID PartyNdisDone(PMCM_PARTY Party)
{
    if (Party->NdisKnows) {
        Party->NdisKnows = FALSE;
        PartyDereference(Party);
    }
}

/* VcEntryReference / VcEntryDereference - a reference on what a signaling entry stands for. */
VOID VcEntryReference(PMCM_ENTRY Entry)
{
    if (Entry->Party != NULL) {
        PartyReference(Entry->Party);
    } else {
        VcReference(Entry->Vc);
    }
}

VOID VcEntryDereference(PMCM_ENTRY Entry)
{
    if (Entry->Party != NULL) {
        PartyDereference(Entry->Party);
    } else {
        VcDereference(Entry->Vc);
    }
}

/*
 * VcVcis - the VCIs the VC carries: a point-to-point call's one, or those of the leaves of a
 * multipoint call that are up or going (condis/drivers/callcontrol.py: VcCtx.vcis).
 */
ULONG VcVcis(PMCM_VC Vc, ULONG Vcis[MCM_MAX_PARTIES])
{
    ULONG count = 0;
    if (IsListEmpty(&Vc->Parties)) {
        if (Vc->Vci != 0) {
            Vcis[count++] = Vc->Vci;
        }
        return count;
    }
    for (PLIST_ENTRY e = Vc->Parties.Flink; e != &Vc->Parties && count < MCM_MAX_PARTIES; e = e->Flink) {
        PMCM_PARTY party = CONTAINING_RECORD(e, MCM_PARTY, Link);
        if (party->State == CallActivating || party->State == CallActive || party->State == CallReleaseReq ||
            party->State == CallReleaseInd) {
            Vcis[count++] = party->Vci;
        }
    }
    return count;
}

/* ---- call parameters ------------------------------------------------------------------- */

static VOID VcLinkParameters(PMCM_CALL_PARAMETERS Params)
{
    Params->Call.CallMgrParameters = &Params->Manager;
    Params->Call.MediaParameters = &Params->Media;
}

static VOID VcFlowspec(PFLOWSPEC Flow, ULONG Rate)
{
    NdisZeroMemory(Flow, sizeof(*Flow));
    Flow->TokenRate = Rate;
    Flow->PeakBandwidth = Rate;
    Flow->ServiceType = 1;          /* SERVICETYPE_BESTEFFORT */
    Flow->MaxSduSize = MCM_MTU;
}

/*
 * VcBuildParameters - the call parameters of an incoming call, as the Python samples build them
 * (condis/drivers/signaling.py: call_parameters): the called address in CallMgrSpecific, the rate
 * in both FLOWSPECs, the VCI list in MediaSpecific. Any IRQL.
 */
VOID VcBuildParameters(PMCM_CALL_PARAMETERS To, const UCHAR *Address, ULONG AddressLength, ULONG Rate, ULONG Vci)
{
    NdisZeroMemory(To, sizeof(*To));
    VcLinkParameters(To);
    VcFlowspec(&To->Manager.Transmit, Rate);
    VcFlowspec(&To->Manager.Receive, Rate);
    To->Manager.CallMgrSpecific.ParamType = 1;
    To->Manager.CallMgrSpecific.Length = AddressLength;
    NdisMoveMemory(To->Manager.CallMgrSpecific.Parameters, Address, AddressLength);
    To->Media.Flags = TRANSMIT_VC | RECEIVE_VC;
    To->Media.ReceiveSizeHint = MCM_MTU;
    To->Media.MediaSpecific.ParamType = 2;
    if (Vci != 0) {
        PUCHAR out = To->Media.MediaSpecific.Parameters;
        To->Media.MediaSpecific.Length = sizeof(ULONG);
        out[0] = (UCHAR)(Vci >> 24);
        out[1] = (UCHAR)(Vci >> 16);
        out[2] = (UCHAR)(Vci >> 8);
        out[3] = (UCHAR)Vci;
    }
}

/*
 * VcCopyParameters - keeps a copy of a client's call parameters (from ProtocolCmMakeCall or
 * ProtocolCmModifyCallQoS): the client's buffer is its own once the request returns.
 * NDIS_STATUS_INVALID_ADDRESS if the called address is longer than a VC has room for.
 */
NDIS_STATUS VcCopyParameters(PMCM_CALL_PARAMETERS To, const CO_CALL_PARAMETERS *From)
{
    const CO_CALL_MANAGER_PARAMETERS *manager = From->CallMgrParameters;
    const CO_MEDIA_PARAMETERS *media = From->MediaParameters;

    if (manager != NULL && manager->CallMgrSpecific.Length > MCM_MAX_ADDRESS) {
        return NDIS_STATUS_INVALID_ADDRESS;
    }
    if (manager != NULL) {
        VcBuildParameters(To, manager->CallMgrSpecific.Parameters, manager->CallMgrSpecific.Length,
                          manager->Transmit.TokenRate, 0);
        To->Manager.Transmit = manager->Transmit;
        To->Manager.Receive = manager->Receive;
        To->Manager.CallMgrSpecific.ParamType = manager->CallMgrSpecific.ParamType;
    } else {
        VcBuildParameters(To, NULL, 0, MCM_DEFAULT_RATE, 0);
    }
    To->Call.Flags = From->Flags;
    if (media != NULL) {
        To->Media.Flags = media->Flags;
        To->Media.ReceivePriority = media->ReceivePriority;
        To->Media.ReceiveSizeHint = media->ReceiveSizeHint;
    }
    return NDIS_STATUS_SUCCESS;
}

/*
 * VcSetMediaVci - writes the VC's VCI into its media parameters (as the Python samples do: one
 * big-endian 32-bit entry per VCI), before each activation. Any IRQL.
 */
VOID VcSetMediaVci(PMCM_VC Vc)
{
    PCO_SPECIFIC_PARAMETERS specific = &Vc->Params.Media.MediaSpecific;
    ULONG vcis[MCM_MAX_PARTIES];
    ULONG count = VcVcis(Vc, vcis);

    specific->ParamType = 2;
    specific->Length = count * sizeof(ULONG);
    for (ULONG i = 0; i < count; i++) {
        specific->Parameters[4 * i] = (UCHAR)(vcis[i] >> 24);
        specific->Parameters[4 * i + 1] = (UCHAR)(vcis[i] >> 16);
        specific->Parameters[4 * i + 2] = (UCHAR)(vcis[i] >> 8);
        specific->Parameters[4 * i + 3] = (UCHAR)vcis[i];
    }
}

/* ---- the NIC's VCI map ---------------------------------------------------------------- */

static VOID VcMap(PMCM_VC Vc)
{
    VcUnmap(Vc);
    Vc->MappedCount = VcVcis(Vc, Vc->MappedVcis);
    if (Vc->MappedCount != 0) {
        Vc->Mapped = TRUE;
        InsertTailList(&Vc->Adapter->Mapped, &Vc->MappedLink);
    }
}

/*
 * VcUnmap - the NIC stops delivering the VC's cells: before a deactivation, and when the VC
 * is deleted. DISPATCH_LEVEL or below.
 */
VOID VcUnmap(PMCM_VC Vc)
{
    if (Vc->Mapped) {
        RemoveEntryList(&Vc->MappedLink);
        InitializeListHead(&Vc->MappedLink);
        Vc->Mapped = FALSE;
        Vc->MappedCount = 0;
    }
}

/* ---- activation and deactivation ------------------------------------------------------- */

/*
 * VcActivate - programs the NIC for the VC and activates it with its parameters
 * (NdisMCmActivateVc); when that is done, Next says what the call manager does with the result.
 * A NIC with no room for one more VC fails the activation before NDIS is told anything.
 * Called from callmgr.c at DISPATCH_LEVEL or below.
 */
VOID VcActivate(PMCM_VC Vc, VC_NEXT Next)
{
    NDIS_STATUS status;

    if (!CondisWireProgramVc(Vc->Adapter->WirePort)) {
        CallVcRequestDone(Vc, Next, NDIS_STATUS_RESOURCES);
        return;
    }
    VcMap(Vc);
    VcSetMediaVci(Vc);
    status = NdisMCmActivateVc(Vc->NdisVcHandle, &Vc->Params.Call);
    if (status == NDIS_STATUS_PENDING) {
        Vc->Next = Next;        /* ProtocolCmActivateVcComplete brings the result */
        return;
    }
    CallVcRequestDone(Vc, Next, status);
}

/*
 * VcDeactivate - unmaps the VC's VCI and deactivates it (NdisMCmDeactivateVc); then Next.
 * Called from callmgr.c at DISPATCH_LEVEL or below.
 */
VOID VcDeactivate(PMCM_VC Vc, VC_NEXT Next)
{
    NDIS_STATUS status;

    VcUnmap(Vc);
    status = NdisMCmDeactivateVc(Vc->NdisVcHandle);
    if (status == NDIS_STATUS_PENDING) {
        Vc->Next = Next;        /* ProtocolCmDeactivateVcComplete brings the result */
        return;
    }
    CallVcRequestDone(Vc, Next, status);
}

/*
 * VcRequestDone - a pended activation or deactivation completed. Called from
 * ProtocolCmActivateVcComplete and ProtocolCmDeactivateVcComplete, at DISPATCH_LEVEL or below.
 */
VOID VcRequestDone(PMCM_VC Vc, NDIS_STATUS Status)
{
    VC_NEXT next = Vc->Next;
    Vc->Next = VcNextNothing;
    CallVcRequestDone(Vc, next, Status);
}

/*
 * VcDelete - deletes a VC this MCM created (NdisMCmDeleteVc), once its call is over and it is
 * deactivated (deactivating-a-vc.md), and drops NDIS's reference on it. DISPATCH_LEVEL or below.
 */
VOID VcDelete(PMCM_VC Vc)
{
    ASSERT(Vc->CreatedByUs);
    if (Vc->NdisVcHandle == NULL) {
        return;
    }
    VcUnmap(Vc);
    if (NdisMCmDeleteVc(Vc->NdisVcHandle) == NDIS_STATUS_SUCCESS) {
        Vc->NdisVcHandle = NULL;
        VcDereference(Vc);
    }
}

/* ---- work items ------------------------------------------------------------------------ */

static NDIS_IO_WORKITEM_FUNCTION VcWorkItem;

static VOID VcQueueLater(PMCM_VC Vc)
{
    PMCM_ADAPTER adapter = Vc->Adapter;
    NDIS_HANDLE item = NdisAllocateIoWorkItem(adapter->MiniportAdapterHandle);

    VcReference(Vc);
    if (item == NULL) {
        /* No work item for now (NdisAllocateIoWorkItem returns NULL when out of resources): the
           adapter's timer tries again. */
        Vc->InDeferred = TRUE;
        InsertTailList(&adapter->Deferred, &Vc->DeferredLink);
        SigArm(adapter);
        return;
    }
    Vc->LaterQueued = TRUE;
    adapter->QueuedWorkItems++;
    NdisQueueIoWorkItem(item, VcWorkItem, Vc);
}

/*
 * VcLater - runs Work (VC_LATER_*) for the VC soon, outside the current handler, from an NDIS
 * work item at PASSIVE_LEVEL. Called from callmgr.c at DISPATCH_LEVEL or below.
 */
VOID VcLater(PMCM_VC Vc, ULONG Work)
{
    Vc->Later |= Work;
    if (!Vc->LaterQueued && !Vc->InDeferred) {
        VcQueueLater(Vc);
    }
}

/* VcWorkItem - the work item VcLater queued, at PASSIVE_LEVEL. */
static VOID VcWorkItem(PVOID WorkItemContext, NDIS_HANDLE NdisIoWorkItemHandle)
{
    PMCM_VC vc = WorkItemContext;
    ULONG work = vc->Later;

    NdisFreeIoWorkItem(NdisIoWorkItemHandle);
    vc->Adapter->QueuedWorkItems--;
    vc->LaterQueued = FALSE;
    vc->Later = 0;
    if (work & VC_LATER_TEARDOWN) {
        CallTeardown(vc);
    }
    if (work & VC_LATER_QOS) {
        CallStartQoS(vc);
    }
    if (work & VC_LATER_REACTIVATE) {
        CallReactivate(vc);
    }
    VcDereference(vc);
}

/*
 * VcRetryDeferred - queues again the work that found no work item. Called from the adapter's
 * timer at DISPATCH_LEVEL.
 */
VOID VcRetryDeferred(PMCM_ADAPTER Adapter)
{
    LIST_ENTRY waiting;

    InitializeListHead(&waiting);
    while (!IsListEmpty(&Adapter->Deferred)) {
        InsertTailList(&waiting, RemoveHeadList(&Adapter->Deferred));
    }
    while (!IsListEmpty(&waiting)) {
        PMCM_VC vc = CONTAINING_RECORD(RemoveHeadList(&waiting), MCM_VC, DeferredLink);
        vc->InDeferred = FALSE;
        VcQueueLater(vc);
        VcDereference(vc);
    }
}

/*
 * VcAbandonDeferred - the adapter is going away: drop the work that never found a work item.
 * Called from MiniportHaltEx at PASSIVE_LEVEL.
 */
VOID VcAbandonDeferred(PMCM_ADAPTER Adapter)
{
    while (!IsListEmpty(&Adapter->Deferred)) {
        PMCM_VC vc = CONTAINING_RECORD(RemoveHeadList(&Adapter->Deferred), MCM_VC, DeferredLink);
        vc->InDeferred = FALSE;
        vc->Later = 0;
        VcDereference(vc);
    }
}
