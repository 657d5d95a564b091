/*
 * af.c - the sample client's AFs and SAPs (registering-and-opening-an-address-family.md,
 * registering-a-sap.md, closing-an-address-family-in-a-condis-client.md).
 *
 * Closing an AF is a walk of small steps, ClientAfProgress: close every call still up, wait
 * for the rest to finish and their VCs to be deleted (by us for the calls we placed, by the
 * call manager for the ones we were offered), deregister the SAPs, then NdisClCloseAddressFamily.
 * Each completion on the way calls ClientAfProgress again.
 */
#include "af.h"
#include "call.h"
#include "protocol.h"

/*
 * ProtocolCoAfRegisterNotify - a call manager registered an AF on a binding. PASSIVE_LEVEL.
 * A Q.2931 AF is opened; ClOpenAfCompleteEx finishes the open, called here when it did not pend.
 */
VOID ProtocolCoAfRegisterNotify(NDIS_HANDLE ProtocolBindingContext, PCO_ADDRESS_FAMILY AddressFamily)
{
    PCLIENT_BINDING binding = ProtocolBindingContext;
    PCLIENT_AF af;
    NDIS_HANDLE handle = NULL;
    NDIS_STATUS status;

    if (AddressFamily->AddressFamily != CO_ADDRESS_FAMILY_Q2931) {
        return;
    }
    af = ClientAllocate(binding->NdisBindingHandle, sizeof(CLIENT_AF));
    if (af == NULL) {
        return;
    }
    af->Binding = binding;
    InitializeListHead(&af->Saps);
    InitializeListHead(&af->Calls);
    InsertTailList(&binding->Afs, &af->Link);
    status = NdisClOpenAddressFamilyEx(binding->NdisBindingHandle, AddressFamily, af, &handle);
    if (status != NDIS_STATUS_PENDING) {
        ClOpenAfCompleteEx(af, handle, status);
    }
}

/*
 * ClOpenAfCompleteEx - the open of the AF is done. PASSIVE_LEVEL. Registers the binding's SAP;
 * ClRegisterSapComplete finishes that, called here when it did not pend.
 */
VOID ClOpenAfCompleteEx(NDIS_HANDLE ProtocolAfContext, NDIS_HANDLE NdisAfHandle, NDIS_STATUS Status)
{
    PCLIENT_AF af = ProtocolAfContext;
    PCLIENT_BINDING binding = af->Binding;
    union {
        CO_SAP Sap;
        UCHAR Space[sizeof(CO_SAP) + CLIENT_MAX_ADDRESS];
    } sap;
    PCLIENT_SAP context;
    NDIS_HANDLE handle = NULL;

    if (Status != NDIS_STATUS_SUCCESS) {
        RemoveEntryList(&af->Link);
        ClientFree(af);
        DbgPrint("atmclient: opening the AF failed, 0x%08x\n", (unsigned)Status);
        return;
    }
    af->NdisAfHandle = NdisAfHandle;
    af->Open = TRUE;
    if (binding->SapLength == 0) {
        return;
    }
    context = ClientAllocate(binding->NdisBindingHandle, sizeof(CLIENT_SAP));
    if (context == NULL) {
        return;
    }
    context->Af = af;
    InsertTailList(&af->Saps, &context->Link);
    sap.Sap.SapType = 1;
    sap.Sap.SapLength = binding->SapLength;
    NdisMoveMemory(sap.Sap.Sap, binding->Sap, binding->SapLength);
    Status = NdisClRegisterSap(af->NdisAfHandle, context, &sap.Sap, &handle);
    if (Status != NDIS_STATUS_PENDING) {
        ClRegisterSapComplete(Status, context, &sap.Sap, handle);
    }
}

/* ClRegisterSapComplete - the SAP's registration is done. PASSIVE_LEVEL. */
VOID ClRegisterSapComplete(NDIS_STATUS Status, NDIS_HANDLE ProtocolSapContext, PCO_SAP Sap, NDIS_HANDLE NdisSapHandle)
{
    PCLIENT_SAP sap = ProtocolSapContext;
    PCLIENT_AF af = sap->Af;

    UNREFERENCED_PARAMETER(Sap);
    if (Status == NDIS_STATUS_SUCCESS) {
        sap->NdisSapHandle = NdisSapHandle;
        sap->Registered = TRUE;
    } else {
        RemoveEntryList(&sap->Link);
        ClientFree(sap);
    }
    ClientAfProgress(af);
}

/* ClDeregisterSapComplete - a deregistration ClientAfProgress asked for is done. PASSIVE_LEVEL. */
VOID ClDeregisterSapComplete(NDIS_STATUS Status, NDIS_HANDLE ProtocolSapContext)
{
    PCLIENT_SAP sap = ProtocolSapContext;
    PCLIENT_AF af = sap->Af;

    sap->Deregistering = FALSE;
    if (Status == NDIS_STATUS_SUCCESS) {
        RemoveEntryList(&sap->Link);
        ClientFree(sap);
    }
    ClientAfProgress(af);
}

/*
 * ClCloseAfComplete - the AF is closed. PASSIVE_LEVEL. Completes the call manager's close
 * request if it asked (NdisClNotifyCloseAddressFamilyComplete), frees the AF, and finishes an
 * unbind that waited for the binding's last AF.
 */
VOID ClCloseAfComplete(NDIS_STATUS Status, NDIS_HANDLE ProtocolAfContext)
{
    PCLIENT_AF af = ProtocolAfContext;
    PCLIENT_BINDING binding = af->Binding;

    UNREFERENCED_PARAMETER(Status);
    af->Open = FALSE;
    RemoveEntryList(&af->Link);
    if (af->Notify == ClientNotifyPending) {
        NdisClNotifyCloseAddressFamilyComplete(af->NdisAfHandle, NDIS_STATUS_SUCCESS);
    }
    ClientFree(af);
    if (binding->Unbind == ClientUnbindPending && IsListEmpty(&binding->Afs)) {
        ClientFinishUnbind(binding);
    }
}

/*
 * ClNotifyCloseAf - the call manager withdraws its AF. PASSIVE_LEVEL. Close calls and SAPs,
 * then the AF; if that cannot finish here, NDIS_STATUS_PENDING, and ClCloseAfComplete completes
 * the request with NdisClNotifyCloseAddressFamilyComplete.
 */
NDIS_STATUS ClNotifyCloseAf(NDIS_HANDLE ProtocolAfContext)
{
    PCLIENT_AF af = ProtocolAfContext;

    af->Notify = ClientNotifyInHandler;
    if (ClientCloseAf(af)) {
        return NDIS_STATUS_SUCCESS;     /* closed, and freed, already */
    }
    af->Notify = ClientNotifyPending;
    return NDIS_STATUS_PENDING;
}

/*
 * ClientAfStep - moves a closing AF on as far as it goes now; TRUE if it got closed (and freed).
 */
static BOOLEAN ClientAfStep(PCLIENT_AF Af)
{
    PLIST_ENTRY e, next;
    NDIS_STATUS status;

    if (!Af->Closing || !Af->Open) {
        return FALSE;
    }
    for (e = Af->Calls.Flink; e != &Af->Calls; e = next) {
        PCLIENT_CALL call = CONTAINING_RECORD(e, CLIENT_CALL, Link);
        next = e->Flink;
        if (call->State == ClientCallUp || call->State == ClientCallAccepted) {
            ClientCloseCall(call);
        }
    }
    for (e = Af->Saps.Flink; e != &Af->Saps; e = e->Flink) {
        PCLIENT_SAP sap = CONTAINING_RECORD(e, CLIENT_SAP, Link);
        if (sap->Registered && !sap->Deregistering) {
            sap->Deregistering = TRUE;
            status = NdisClDeregisterSap(sap->NdisSapHandle);
            if (status != NDIS_STATUS_PENDING) {
                ClDeregisterSapComplete(status, sap);   /* it asks for another step */
            }
            return FALSE;
        }
    }
    /* A VC is deleted by its creator: us for a call we placed, the call manager (which
       deactivates it first) for one we were offered. The AF outlives every VC on it. */
    if (!IsListEmpty(&Af->Calls) || !IsListEmpty(&Af->Saps)) {
        return FALSE;
    }
    Af->Open = FALSE;
    status = NdisClCloseAddressFamily(Af->NdisAfHandle);
    if (status == NDIS_STATUS_PENDING) {
        return FALSE;       /* ClCloseAfComplete frees it */
    }
    Af->Open = TRUE;
    ClCloseAfComplete(status, Af);
    return TRUE;
}

/* Runs steps until none is asked for; TRUE if the AF got closed (and freed). A step's
   completions that ask for progress from inside it only ask for one more step. */
static BOOLEAN ClientAfRun(PCLIENT_AF Af)
{
    if (Af->InProgress) {
        Af->ProgressAgain = TRUE;
        return FALSE;
    }
    Af->InProgress = TRUE;
    do {
        Af->ProgressAgain = FALSE;
        if (ClientAfStep(Af)) {
            return TRUE;
        }
    } while (Af->ProgressAgain);
    Af->InProgress = FALSE;
    return FALSE;
}

/*
 * ClientAfProgress - something an AF's close waits for happened (a call closed, a VC deleted,
 * a SAP deregistered): move the close on. Any handler's IRQL.
 */
VOID ClientAfProgress(PCLIENT_AF Af)
{
    (VOID)ClientAfRun(Af);
}

/*
 * ClientCloseAf - starts closing an AF (at unbind, or for the call manager); TRUE if it closed
 * at once (the AF is freed then). PASSIVE_LEVEL.
 */
BOOLEAN ClientCloseAf(PCLIENT_AF Af)
{
    if (Af->Closing) {
        return FALSE;
    }
    Af->Closing = TRUE;
    return ClientAfRun(Af);
}

/*
 * ClientOpenAf - the AF the application places its calls on: the first open one, not closing,
 * of the first binding that has one; NULL if there is none. PASSIVE_LEVEL.
 */
PCLIENT_AF ClientOpenAf(VOID)
{
    for (PLIST_ENTRY b = ClientDriver.Bindings.Flink; b != &ClientDriver.Bindings; b = b->Flink) {
        PCLIENT_BINDING binding = CONTAINING_RECORD(b, CLIENT_BINDING, Link);
        for (PLIST_ENTRY a = binding->Afs.Flink; a != &binding->Afs; a = a->Flink) {
            PCLIENT_AF af = CONTAINING_RECORD(a, CLIENT_AF, Link);
            if (af->Open && !af->Closing) {
                return af;
            }
        }
    }
    return NULL;
}
