/*
 * sigvc.c - the signaling VC: the shared signaling's messages as NET_BUFFER_LISTs on it
 * (making-a-call.md: a call manager sends its signaling with NdisCoSendNetBufferLists), and
 * what arrives on it handed to the shared signaling.
 */
#include "sigvc.h"
#include "../atmmcm/signaling.h"

/* What a signaling NET_BUFFER_LIST was built of (ProtocolReserved is ours while we own it). */
#define ATMCM_NBL_BUFFER(Nbl) ((Nbl)->ProtocolReserved[0])
#define ATMCM_NBL_MDL(Nbl)    ((Nbl)->ProtocolReserved[1])

/*
 * AtmCmSignalingTransmit - sends one signaling message (the shared signaling's SigTransmit
 * calls this for the MCM's CondisWireTransmit). Port is our ATMCM_BINDING; Vci is always the
 * signaling VCI, which is our signaling VC's. A paused binding sends nothing
 * (protocol-binding-states-and-operations.md), and without its VC there is no line: the
 * message is lost here as it could be on the wire, and retransmission recovers it the same
 * way. DISPATCH_LEVEL or below.
 */
VOID AtmCmSignalingTransmit(PVOID Port, ULONG Vci, const VOID *Data, ULONG Length)
{
    PATMCM_BINDING binding = Port;
    PUCHAR buffer;
    PMDL mdl = NULL;
    PNET_BUFFER_LIST nbl = NULL;

    UNREFERENCED_PARAMETER(Vci);
    if (binding->Paused || !binding->Signaling.Active) {
        return;
    }
    buffer = McmAllocate(binding->NdisBindingHandle, Length);
    if (buffer != NULL) {
        NdisMoveMemory(buffer, Data, Length);
        mdl = NdisAllocateMdl(binding->NdisBindingHandle, buffer, Length);
    }
    if (mdl != NULL) {
        nbl = NdisAllocateNetBufferAndNetBufferList(binding->Pool, 0, 0, mdl, 0, Length);
    }
    if (nbl == NULL) {
        if (mdl != NULL) {
            NdisFreeMdl(mdl);
        }
        if (buffer != NULL) {
            McmFree(buffer);
        }
        return;
    }
    ATMCM_NBL_BUFFER(nbl) = buffer;
    ATMCM_NBL_MDL(nbl) = mdl;
    nbl->SourceHandle = binding->Signaling.NdisVcHandle;
    binding->SendsPending++;
    NdisCoSendNetBufferLists(binding->Signaling.NdisVcHandle, nbl, 0);
}

/*
 * AtmCmProgramVc - the MCM programs its NIC for a VC before activating it; here NDIS passes the
 * activation to the miniport, which programs its own NIC (or fails the activation). Always TRUE.
 */
BOOLEAN AtmCmProgramVc(PVOID Port)
{
    UNREFERENCED_PARAMETER(Port);
    return TRUE;
}

/*
 * ProtocolCoSendNetBufferListsComplete - the miniport is done with our signaling sends: free
 * what each was built of. DISPATCH_LEVEL or below.
 */
VOID ProtocolCoSendNetBufferListsComplete(NDIS_HANDLE ProtocolVcContext, PNET_BUFFER_LIST NetBufferLists,
                                          ULONG SendCompleteFlags)
{
    PATMCM_SIGVC vc = ProtocolVcContext;
    PNET_BUFFER_LIST nbl = NetBufferLists;

    UNREFERENCED_PARAMETER(SendCompleteFlags);
    while (nbl != NULL) {
        PNET_BUFFER_LIST next = NET_BUFFER_LIST_NEXT_NBL(nbl);
        PVOID buffer = ATMCM_NBL_BUFFER(nbl);
        PMDL mdl = ATMCM_NBL_MDL(nbl);
        NET_BUFFER_LIST_NEXT_NBL(nbl) = NULL;
        NdisFreeNetBufferList(nbl);
        NdisFreeMdl(mdl);
        McmFree(buffer);
        vc->Binding->SendsPending--;
        nbl = next;
    }
}

/*
 * ProtocolCoReceiveNetBufferLists - cells arrived on one of our VCs; only the signaling VC's
 * carry anything for us. Each NET_BUFFER_LIST is decoded, given back unless NDIS keeps the
 * ownership (NDIS_RECEIVE_FLAGS_RESOURCES), and then its message handed to the shared signaling,
 * which may call into NDIS. Once the binding paused (after our RESTART) nothing more is heard:
 * what we asked of the peer from then on times out, as with a peer that went away.
 * DISPATCH_LEVEL or below.
 */
VOID ProtocolCoReceiveNetBufferLists(NDIS_HANDLE ProtocolBindingContext, NDIS_HANDLE ProtocolVcContext,
                                     PNET_BUFFER_LIST NetBufferLists, ULONG NumberOfNetBufferLists, ULONG ReceiveFlags)
{
    PATMCM_BINDING binding = ProtocolBindingContext;
    BOOLEAN ours = ProtocolVcContext == &binding->Signaling && !binding->Paused;
    BOOLEAN giveBack = !(ReceiveFlags & NDIS_RECEIVE_FLAGS_RESOURCES);
    ULONG returnFlags = (ReceiveFlags & NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL) ? NDIS_RETURN_FLAGS_DISPATCH_LEVEL : 0;
    PNET_BUFFER_LIST nbl = NetBufferLists;

    UNREFERENCED_PARAMETER(NumberOfNetBufferLists);
    while (nbl != NULL) {
        PNET_BUFFER_LIST next = NET_BUFFER_LIST_NEXT_NBL(nbl);
        PNET_BUFFER nb = NET_BUFFER_LIST_FIRST_NB(nbl);
        UCHAR cell[SIG_HEADER_SIZE + MCM_MAX_ADDRESS];
        SIG_MESSAGE message;
        BOOLEAN decoded = FALSE;

        if (ours && nb != NULL) {
            ULONG length = NET_BUFFER_DATA_LENGTH(nb);
            if (length <= sizeof(cell)) {
                PUCHAR data = length != 0 ? NdisGetDataBuffer(nb, length, cell, 1, 0) : NULL;
                decoded = data != NULL && SigDecode(data, length, &message);
            }
        }
        if (giveBack) {
            NET_BUFFER_LIST_NEXT_NBL(nbl) = NULL;
            NdisReturnNetBufferLists(binding->NdisBindingHandle, nbl, returnFlags);
        }
        if (decoded && !binding->Paused) {
            SigReceive(&binding->Adapter, &message);
        }
        nbl = next;
    }
}

/* ProtocolCoStatusEx - status of the NIC or one of our VCs: nothing this sample acts on. */
VOID ProtocolCoStatusEx(NDIS_HANDLE ProtocolBindingContext, NDIS_HANDLE ProtocolVcContext,
                        PNDIS_STATUS_INDICATION StatusIndication)
{
    UNREFERENCED_PARAMETER(ProtocolBindingContext);
    UNREFERENCED_PARAMETER(ProtocolVcContext);
    UNREFERENCED_PARAMETER(StatusIndication);
}
