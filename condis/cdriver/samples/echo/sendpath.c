/*
 * sendpath.c - what NDIS adds to a send made from C, for `condis bench`.
 *
 * Built into the echo client's image. `condis bench` registers BenchMiniportSend as the MCM's
 * MiniportCoSendNetBufferLists and BenchSendComplete as the echo client's
 * ProtocolCoSendNetBufferListsComplete, then times the same two handlers two ways:
 *
 *   BenchThroughNdis  NdisCoSendNetBufferLists -> MiniportCoSendNetBufferLists (BenchMiniportSend)
 *                     -> NdisMCoSendNetBufferListsComplete -> ProtocolCoSendNetBufferListsComplete
 *                     (BenchSendComplete), every step through condis;
 *   BenchDirect       the same two handlers called through function pointers, as NDIS calls
 *                     them, with no NDIS between them.
 *
 * Both run at DISPATCH_LEVEL; each send is completed before the next is made.
 */
#include <ndis.h>

static NDIS_HANDLE BenchMiniportVc;     /* the MCM's handle of the VC the sends go on */
static LONG BenchCompleted;
static UCHAR BenchData[64];

/* The NET_BUFFER_LIST every send reuses, on the VC NdisVcHandle, from a pool of NdisHandle's. */
PNET_BUFFER_LIST BenchPrepare(NDIS_HANDLE NdisHandle, NDIS_HANDLE NdisVcHandle)
{
    NET_BUFFER_LIST_POOL_PARAMETERS params;
    NDIS_HANDLE pool;
    PMDL mdl;
    PNET_BUFFER_LIST nbl;

    NdisZeroMemory(&params, sizeof(params));
    params.Header.Type = NDIS_OBJECT_TYPE_DEFAULT;
    params.Header.Revision = NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1;
    params.Header.Size = NDIS_SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1;
    params.fAllocateNetBuffer = TRUE;
    pool = NdisAllocateNetBufferListPool(NdisHandle, &params);
    mdl = pool != NULL ? NdisAllocateMdl(NdisHandle, BenchData, sizeof(BenchData)) : NULL;
    nbl = mdl != NULL ? NdisAllocateNetBufferAndNetBufferList(pool, 0, 0, mdl, 0, sizeof(BenchData)) : NULL;
    if (nbl != NULL) {
        nbl->SourceHandle = NdisVcHandle;
    }
    return nbl;
}

VOID BenchSendComplete(NDIS_HANDLE ProtocolVcContext, PNET_BUFFER_LIST NetBufferLists, ULONG SendCompleteFlags)
{
    UNREFERENCED_PARAMETER(ProtocolVcContext);
    UNREFERENCED_PARAMETER(SendCompleteFlags);
    NET_BUFFER_LIST_STATUS(NetBufferLists) = NDIS_STATUS_SUCCESS;
    BenchCompleted++;
}

VOID BenchMiniportSend(NDIS_HANDLE MiniportVcContext, PNET_BUFFER_LIST NetBufferLists, ULONG SendFlags)
{
    UNREFERENCED_PARAMETER(MiniportVcContext);
    UNREFERENCED_PARAMETER(SendFlags);
    NdisMCoSendNetBufferListsComplete(BenchMiniportVc, NetBufferLists, NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL);
}

/* BenchMiniportSend with its completion made directly, for the floor. */
static VOID BenchMiniportSendDirect(NDIS_HANDLE MiniportVcContext, PNET_BUFFER_LIST NetBufferLists, ULONG SendFlags)
{
    PROTOCOL_CO_SEND_NET_BUFFER_LISTS_COMPLETE *volatile complete = BenchSendComplete;
    UNREFERENCED_PARAMETER(SendFlags);
    complete(MiniportVcContext, NetBufferLists, NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL);
}

ULONG BenchThroughNdis(NDIS_HANDLE NdisVcHandle, NDIS_HANDLE MiniportVcHandle, PNET_BUFFER_LIST NetBufferList,
                       ULONG Count)
{
    KIRQL irql;
    BenchMiniportVc = MiniportVcHandle;
    BenchCompleted = 0;
    NDIS_RAISE_IRQL_TO_DISPATCH(&irql);
    for (ULONG i = 0; i < Count; i++) {
        NdisCoSendNetBufferLists(NdisVcHandle, NetBufferList, NDIS_SEND_FLAGS_DISPATCH_LEVEL);
    }
    NDIS_LOWER_IRQL(irql, DISPATCH_LEVEL);
    return (ULONG)BenchCompleted;
}

ULONG BenchDirect(PNET_BUFFER_LIST NetBufferList, ULONG Count)
{
    MINIPORT_CO_SEND_NET_BUFFER_LISTS *volatile send = BenchMiniportSendDirect;
    BenchCompleted = 0;
    for (ULONG i = 0; i < Count; i++) {
        send(NULL, NetBufferList, NDIS_SEND_FLAGS_DISPATCH_LEVEL);
    }
    return (ULONG)BenchCompleted;
}

/* The cost of one call into NDIS from C that does nothing but answer: KeGetCurrentIrql. */
ULONG BenchCallIntoNdis(ULONG Count)
{
    ULONG sum = 0;
    for (ULONG i = 0; i < Count; i++) {
        sum += KeGetCurrentIrql();
    }
    return sum;
}
