/*
 * datapath.c - the sample client's data path (sending-net-buffer-structures-from-condis-
 * clients.md, receiving-net-buffer-structures-in-condis-drivers.md): one NET_BUFFER_LIST per
 * send, over a copy of the application's bytes; and the bytes received on each call.
 */
#include "datapath.h"

/* What a sent NET_BUFFER_LIST carries until its send completes (ProtocolReserved is ours). */
#define CLIENT_NBL_BUFFER(Nbl) ((Nbl)->ProtocolReserved[0])
#define CLIENT_NBL_MDL(Nbl)    ((Nbl)->ProtocolReserved[1])

/*
 * ClientSend - sends Data on an established call (NdisCoSendNetBufferLists);
 * ProtocolCoSendNetBufferListsComplete gives the NET_BUFFER_LIST back. NDIS_STATUS_RESOURCES if
 * there was nothing to send it in. PASSIVE_LEVEL.
 */
NDIS_STATUS ClientSend(PCLIENT_CALL Call, const UCHAR *Data, ULONG Length)
{
    PCLIENT_BINDING binding = Call->Af->Binding;
    PUCHAR buffer;
    PMDL mdl = NULL;
    PNET_BUFFER_LIST nbl = NULL;

    buffer = ClientAllocate(binding->NdisBindingHandle, Length != 0 ? Length : 1);
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
            ClientFree(buffer);
        }
        return NDIS_STATUS_RESOURCES;
    }
    CLIENT_NBL_BUFFER(nbl) = buffer;
    CLIENT_NBL_MDL(nbl) = mdl;
    nbl->SourceHandle = Call->NdisVcHandle;
    Call->Sent++;
    NdisCoSendNetBufferLists(Call->NdisVcHandle, nbl, 0);
    return NDIS_STATUS_SUCCESS;
}

/*
 * ProtocolCoSendNetBufferListsComplete - our sends are done: free what each was built of.
 * PASSIVE_LEVEL or DISPATCH_LEVEL.
 */
VOID ProtocolCoSendNetBufferListsComplete(NDIS_HANDLE ProtocolVcContext, PNET_BUFFER_LIST NetBufferLists,
                                          ULONG SendCompleteFlags)
{
    PCLIENT_CALL call = ProtocolVcContext;
    PNET_BUFFER_LIST nbl = NetBufferLists;

    UNREFERENCED_PARAMETER(SendCompleteFlags);
    while (nbl != NULL) {
        PNET_BUFFER_LIST next = NET_BUFFER_LIST_NEXT_NBL(nbl);
        PVOID buffer = CLIENT_NBL_BUFFER(nbl);
        PMDL mdl = CLIENT_NBL_MDL(nbl);
        NET_BUFFER_LIST_NEXT_NBL(nbl) = NULL;
        NdisFreeNetBufferList(nbl);
        NdisFreeMdl(mdl);
        ClientFree(buffer);
        call->SendCompleted++;
        nbl = next;
    }
}

/*
 * ProtocolCoReceiveNetBufferLists - data arrived on a call. PASSIVE_LEVEL or DISPATCH_LEVEL.
 * The first CLIENT_KEPT_RECEIVES payloads are kept (up to CLIENT_KEPT_BYTES each) for the
 * application; every one is counted. Without NDIS_RECEIVE_FLAGS_RESOURCES the NET_BUFFER_LISTs
 * are ours until NdisReturnNetBufferLists, which is called at once: nothing is kept of them.
 */
VOID ProtocolCoReceiveNetBufferLists(NDIS_HANDLE ProtocolBindingContext, NDIS_HANDLE ProtocolVcContext,
                                     PNET_BUFFER_LIST NetBufferLists, ULONG NumberOfNetBufferLists, ULONG ReceiveFlags)
{
    PCLIENT_BINDING binding = ProtocolBindingContext;
    PCLIENT_CALL call = ProtocolVcContext;

    UNREFERENCED_PARAMETER(NumberOfNetBufferLists);
    for (PNET_BUFFER_LIST nbl = NetBufferLists; nbl != NULL; nbl = NET_BUFFER_LIST_NEXT_NBL(nbl)) {
        PNET_BUFFER nb = NET_BUFFER_LIST_FIRST_NB(nbl);
        ULONG length = nb != NULL ? NET_BUFFER_DATA_LENGTH(nb) : 0;
        if (call->Received < CLIENT_KEPT_RECEIVES) {
            ULONG keep = length < CLIENT_KEPT_BYTES ? length : CLIENT_KEPT_BYTES;
            PUCHAR data = keep != 0 ? NdisGetDataBuffer(nb, keep, call->Kept[call->Received], 1, 0) : NULL;
            if (data != NULL && data != call->Kept[call->Received]) {
                NdisMoveMemory(call->Kept[call->Received], data, keep);
            }
            call->KeptLength[call->Received] = data != NULL ? keep : 0;
        }
        call->Received++;
    }
    if (!(ReceiveFlags & NDIS_RECEIVE_FLAGS_RESOURCES)) {
        NdisReturnNetBufferLists(binding->NdisBindingHandle, NetBufferLists,
                                 (ReceiveFlags & NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL) ? NDIS_RETURN_FLAGS_DISPATCH_LEVEL : 0);
    }
}
