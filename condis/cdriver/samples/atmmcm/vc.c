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
    InitializeListHead(&vc->CallLink);
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
    ASSERT(!Vc->InCalls && !Vc->Mapped && !Vc->InDeferred && !Vc->LaterQueued);
    if (Vc->PreviousParams != NULL) {
        McmFree(Vc->PreviousParams);
    }
    McmFree(Vc);
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
    specific->ParamType = 2;
    specific->Length = 0;
    if (Vc->Vci != 0) {
        specific->Length = sizeof(ULONG);
        specific->Parameters[0] = (UCHAR)(Vc->Vci >> 24);
        specific->Parameters[1] = (UCHAR)(Vc->Vci >> 16);
        specific->Parameters[2] = (UCHAR)(Vc->Vci >> 8);
        specific->Parameters[3] = (UCHAR)Vc->Vci;
    }
}

/* ---- the NIC's VCI map ---------------------------------------------------------------- */

static VOID VcMap(PMCM_VC Vc)
{
    if (Vc->Mapped && Vc->MappedVci == Vc->Vci) {
        return;
    }
    VcUnmap(Vc);
    if (Vc->Vci != 0) {
        Vc->MappedVci = Vc->Vci;
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
