/*
 * datapath.c - send and receive on the sample MCM's NIC (condis/drivers/nic.py in C).
 *
 * Sends are put on the wire at once and completed from a transmit-done timer (a DPC), as a NIC
 * interrupts when its transmit ring drains. A received cell on VCI 5 is a signaling message
 * (signaling.c); any other is indicated on the VC its VCI is mapped to, in a NET_BUFFER_LIST
 * that describes the cell's bytes where the NIC put them, and freed when the indication returns
 * (NDIS_RECEIVE_FLAGS_RESOURCES: the data is the NIC's again once it does).
 */
#include "datapath.h"
#include "signaling.h"
#include "vc.h"

static NDIS_TIMER_FUNCTION NicTransmitDone;
static CONDIS_WIRE_RECEIVE NicReceive;

/*
 * NicOpen - allocates the receive pool, the transmit-done timer and lock, and connects to the
 * wire. From MiniportInitializeEx at PASSIVE_LEVEL; on failure nothing is left allocated.
 */
NDIS_STATUS NicOpen(PMCM_ADAPTER Adapter)
{
    NET_BUFFER_LIST_POOL_PARAMETERS pool;
    NDIS_TIMER_CHARACTERISTICS timer;
    NDIS_STATUS status;

    NdisZeroMemory(&pool, sizeof(pool));
    pool.Header.Type = NDIS_OBJECT_TYPE_DEFAULT;
    pool.Header.Revision = NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1;
    pool.Header.Size = NDIS_SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1;
    pool.ProtocolId = NDIS_PROTOCOL_ID_DEFAULT;
    pool.fAllocateNetBuffer = TRUE;
    pool.PoolTag = ATMMCM_TAG;
    Adapter->ReceivePool = NdisAllocateNetBufferListPool(Adapter->MiniportAdapterHandle, &pool);
    if (Adapter->ReceivePool == NULL) {
        return NDIS_STATUS_RESOURCES;
    }
    NdisZeroMemory(&timer, sizeof(timer));
    timer.Header.Type = NDIS_OBJECT_TYPE_TIMER_CHARACTERISTICS;
    timer.Header.Revision = NDIS_TIMER_CHARACTERISTICS_REVISION_1;
    timer.Header.Size = NDIS_SIZEOF_TIMER_CHARACTERISTICS_REVISION_1;
    timer.AllocationTag = ATMMCM_TAG;
    timer.TimerFunction = NicTransmitDone;
    timer.FunctionContext = Adapter;
    status = NdisAllocateTimerObject(Adapter->MiniportAdapterHandle, &timer, &Adapter->TransmitDoneTimer);
    if (status != NDIS_STATUS_SUCCESS) {
        NdisFreeNetBufferListPool(Adapter->ReceivePool);
        Adapter->ReceivePool = NULL;
        return status;
    }
    NdisAllocateSpinLock(&Adapter->TransmitLock);
    InitializeListHead(&Adapter->Mapped);
    CondisWireAttach(Adapter->WirePort, NicReceive, Adapter);
    return NDIS_STATUS_SUCCESS;
}

/*
 * NicClose - disconnects from the wire and frees what NicOpen allocated. From MiniportHaltEx
 * (or a failing MiniportInitializeEx) at PASSIVE_LEVEL.
 */
VOID NicClose(PMCM_ADAPTER Adapter)
{
    CondisWireDetach(Adapter->WirePort);
    NdisCancelTimerObject(Adapter->TransmitDoneTimer);
    NdisFreeTimerObject(Adapter->TransmitDoneTimer);
    Adapter->TransmitDoneTimer = NULL;
    NdisFreeSpinLock(&Adapter->TransmitLock);
    NdisFreeNetBufferListPool(Adapter->ReceivePool);
    Adapter->ReceivePool = NULL;
}

/*
 * MiniportCoSendNetBufferLists - a client sends on a VC (NdisCoSendNetBufferLists), at
 * PASSIVE_LEVEL or DISPATCH_LEVEL. Each NET_BUFFER_LIST's data goes out as one cell on each of
 * the VC's VCIs (one per leaf of a multipoint call); every NET_BUFFER_LIST handed in is
 * completed by NicTransmitDone.
 */
static VOID MiniportCoSendNetBufferLists(NDIS_HANDLE MiniportVcContext, PNET_BUFFER_LIST NetBufferLists, ULONG SendFlags)
{
    PMCM_VC vc = MiniportVcContext;
    PMCM_ADAPTER adapter = vc->Adapter;
    PNET_BUFFER_LIST nbl = NetBufferLists;
    BOOLEAN arm;
    LARGE_INTEGER due;
    ULONG vcis[MCM_MAX_PARTIES];
    ULONG count = VcVcis(vc, vcis);

    while (nbl != NULL) {
        PNET_BUFFER_LIST next = NET_BUFFER_LIST_NEXT_NBL(nbl);
        PNET_BUFFER nb = NET_BUFFER_LIST_FIRST_NB(nbl);
        ULONG length = nb != NULL ? NET_BUFFER_DATA_LENGTH(nb) : 0;
        PUCHAR data = adapter->TransmitBuffer;

        if (length > MCM_MTU) {
            NET_BUFFER_LIST_STATUS(nbl) = NDIS_STATUS_INVALID_LENGTH;
        } else {
            if (length != 0) {
                data = NdisGetDataBuffer(nb, length, adapter->TransmitBuffer, 1, 0);
            }
            for (ULONG i = 0; data != NULL && i < count; i++) {
                CondisWireTransmit(adapter->WirePort, vcis[i], data, length);
            }
            NET_BUFFER_LIST_STATUS(nbl) = NDIS_STATUS_SUCCESS;
        }
        NET_BUFFER_LIST_NEXT_NBL(nbl) = NULL;
        MCM_NBL_VC(nbl) = vc;

        if (SendFlags & NDIS_SEND_FLAGS_DISPATCH_LEVEL) {
            NdisDprAcquireSpinLock(&adapter->TransmitLock);
        } else {
            NdisAcquireSpinLock(&adapter->TransmitLock);
        }
        if (adapter->TransmitDoneTail == NULL) {
            adapter->TransmitDoneHead = nbl;
        } else {
            NET_BUFFER_LIST_NEXT_NBL(adapter->TransmitDoneTail) = nbl;
        }
        adapter->TransmitDoneTail = nbl;
        arm = !adapter->TransmitDoneArmed;
        adapter->TransmitDoneArmed = TRUE;
        if (SendFlags & NDIS_SEND_FLAGS_DISPATCH_LEVEL) {
            NdisDprReleaseSpinLock(&adapter->TransmitLock);
        } else {
            NdisReleaseSpinLock(&adapter->TransmitLock);
        }
        if (arm) {
            due.QuadPart = -10;     /* 1 us: the transmit ring drains */
            NdisSetTimerObject(adapter->TransmitDoneTimer, due, 0, adapter);
        }
        nbl = next;
    }
}

/*
 * NicTransmitDone - the transmit-done timer, at DISPATCH_LEVEL: completes every NET_BUFFER_LIST
 * sent since it last ran, one NdisMCoSendNetBufferListsComplete per VC, in the order sent.
 */
static VOID NicTransmitDone(PVOID SystemSpecific1, PVOID FunctionContext, PVOID SystemSpecific2, PVOID SystemSpecific3)
{
    PMCM_ADAPTER adapter = FunctionContext;
    PNET_BUFFER_LIST done;

    UNREFERENCED_PARAMETER(SystemSpecific1);
    UNREFERENCED_PARAMETER(SystemSpecific2);
    UNREFERENCED_PARAMETER(SystemSpecific3);
    NdisDprAcquireSpinLock(&adapter->TransmitLock);
    done = adapter->TransmitDoneHead;
    adapter->TransmitDoneHead = adapter->TransmitDoneTail = NULL;
    adapter->TransmitDoneArmed = FALSE;
    NdisDprReleaseSpinLock(&adapter->TransmitLock);

    while (done != NULL) {
        PMCM_VC vc = MCM_NBL_VC(done);
        PNET_BUFFER_LIST first = NULL, last = NULL, rest = NULL, restTail = NULL;
        /* split off this VC's NET_BUFFER_LISTs, keeping both lists in order */
        while (done != NULL) {
            PNET_BUFFER_LIST next = NET_BUFFER_LIST_NEXT_NBL(done);
            NET_BUFFER_LIST_NEXT_NBL(done) = NULL;
            if (MCM_NBL_VC(done) == vc) {
                if (last == NULL) {
                    first = done;
                } else {
                    NET_BUFFER_LIST_NEXT_NBL(last) = done;
                }
                last = done;
            } else {
                if (restTail == NULL) {
                    rest = done;
                } else {
                    NET_BUFFER_LIST_NEXT_NBL(restTail) = done;
                }
                restTail = done;
            }
            done = next;
        }
        for (PNET_BUFFER_LIST n = first; n != NULL; n = NET_BUFFER_LIST_NEXT_NBL(n)) {
            MCM_NBL_VC(n) = NULL;
        }
        NdisMCoSendNetBufferListsComplete(vc->NdisVcHandle, first, NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL);
        done = rest;
    }
}

/*
 * NicReceive - the NIC's receive interrupt for one cell, at DISPATCH_LEVEL (CondisWireAttach).
 * Data is valid only during the call.
 */
static VOID NicReceive(PVOID Context, ULONG Vci, PUCHAR Data, ULONG Length)
{
    PMCM_ADAPTER adapter = Context;
    PMCM_VC vc = NULL;
    PMDL mdl;
    PNET_BUFFER_LIST nbl;

    if (Vci == SIGNALING_VCI) {
        SIG_MESSAGE message;
        if (SigDecode(Data, Length, &message)) {
            SigReceive(adapter, &message);
        } else {
            adapter->Dropped++;     /* not a message this signaling knows */
        }
        return;
    }
    for (PLIST_ENTRY e = adapter->Mapped.Flink; e != &adapter->Mapped; e = e->Flink) {
        PMCM_VC mapped = CONTAINING_RECORD(e, MCM_VC, MappedLink);
        for (ULONG i = 0; i < mapped->MappedCount && vc == NULL; i++) {
            if (mapped->MappedVcis[i] == Vci) {
                vc = mapped;
            }
        }
    }
    if (vc == NULL || vc->NdisVcHandle == NULL) {
        adapter->Dropped++;         /* no VC for this VCI */
        return;
    }
    mdl = NdisAllocateMdl(adapter->MiniportAdapterHandle, Data, Length);
    if (mdl == NULL) {
        adapter->Dropped++;         /* no receive buffer: the cell is lost, as on a full ring */
        return;
    }
    nbl = NdisAllocateNetBufferAndNetBufferList(adapter->ReceivePool, 0, 0, mdl, 0, Length);
    if (nbl == NULL) {
        NdisFreeMdl(mdl);
        adapter->Dropped++;
        return;
    }
    nbl->SourceHandle = vc->NdisVcHandle;
    NdisMCoIndicateReceiveNetBufferLists(vc->NdisVcHandle, nbl, 1,
                                         NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL | NDIS_RECEIVE_FLAGS_RESOURCES);
    NdisFreeNetBufferList(nbl);
    NdisFreeMdl(mdl);
}

/*
 * MiniportCoOidRequest - the miniport OIDs the adapter answers (condis-miniport-driver-oid-
 * requests.md): the link speed, in units of 100 bps, both directions. PASSIVE_LEVEL; completes
 * synchronously.
 */
static NDIS_STATUS MiniportCoOidRequest(NDIS_HANDLE MiniportAdapterContext, NDIS_HANDLE MiniportVcContext,
                                        PNDIS_OID_REQUEST OidRequest)
{
    PULONG speed;

    UNREFERENCED_PARAMETER(MiniportAdapterContext);
    UNREFERENCED_PARAMETER(MiniportVcContext);
    if (OidRequest->DATA.QUERY_INFORMATION.Oid != OID_GEN_CO_LINK_SPEED) {
        return NDIS_STATUS_NOT_SUPPORTED;
    }
    if (OidRequest->DATA.QUERY_INFORMATION.InformationBufferLength < 2 * sizeof(ULONG)) {
        OidRequest->DATA.QUERY_INFORMATION.BytesNeeded = 2 * sizeof(ULONG);
        return NDIS_STATUS_BUFFER_TOO_SHORT;
    }
    speed = OidRequest->DATA.QUERY_INFORMATION.InformationBuffer;
    speed[0] = (ULONG)(MCM_LINK_SPEED / 100);
    speed[1] = (ULONG)(MCM_LINK_SPEED / 100);
    OidRequest->DATA.QUERY_INFORMATION.BytesWritten = 2 * sizeof(ULONG);
    return NDIS_STATUS_SUCCESS;
}

/*
 * NicFillHandlers - the CoNDIS miniport table SetOptions registers. PASSIVE_LEVEL.
 */
VOID NicFillHandlers(PNDIS_MINIPORT_CO_CHARACTERISTICS Handlers)
{
    NdisZeroMemory(Handlers, sizeof(*Handlers));
    Handlers->Header.Type = NDIS_OBJECT_TYPE_CO_MINIPORT_CHARACTERISTICS;
    Handlers->Header.Revision = NDIS_MINIPORT_CO_CHARACTERISTICS_REVISION_1;
    Handlers->Header.Size = NDIS_SIZEOF_MINIPORT_CO_CHARACTERISTICS_REVISION_1;
    Handlers->CoSendNetBufferListsHandler = MiniportCoSendNetBufferLists;
    Handlers->CoOidRequestHandler = MiniportCoOidRequest;
}
