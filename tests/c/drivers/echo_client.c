/*
 * echo_client.c - a small CoNDIS client in C for condis's bridge tests.
 *
 * It opens the Q.2931 address family when a call manager registers it, registers the SAP its
 * configuration names ("Sap"), accepts every incoming call, sends back every packet it receives
 * on a VC, and closes the call when the peer does. At unbind it deregisters the SAP, closes the
 * address family and the binding, in that order, each after the last completed.
 */
#include <ndis.h>

#define ECHO_TAG NDIS_TAG('E', 'c', 'h', 'o')

typedef struct _ECHO_BINDING {
    NDIS_HANDLE BindingHandle;
    NDIS_HANDLE AfHandle;
    NDIS_HANDLE SapHandle;
    NDIS_HANDLE UnbindContext;
    NDIS_HANDLE PoolHandle;
    PCO_SAP Sap;
    ULONG SapSize;
    BOOLEAN InUnbind;       /* inside ProtocolUnbindAdapterEx: finish by returning, not by completing */
    BOOLEAN Closed;
} ECHO_BINDING, *PECHO_BINDING;

typedef struct _ECHO_VC {
    PECHO_BINDING Binding;
    NDIS_HANDLE VcHandle;
    LONG Echoed;
} ECHO_VC, *PECHO_VC;

typedef struct _ECHO_PACKET {
    PMDL Mdl;
    ULONG Length;
    UCHAR Data[1];
} ECHO_PACKET, *PECHO_PACKET;

static NDIS_HANDLE EchoProtocolHandle;
static NDIS_HANDLE EchoDriverHandle;
static WCHAR EchoSapText[64];

static PVOID EchoAlloc(ULONG Length)
{
    PVOID p = NdisAllocateMemoryWithTagPriority(EchoDriverHandle, Length, ECHO_TAG, NormalPoolPriority);
    if (p != NULL) {
        NdisZeroMemory(p, Length);
    }
    return p;
}

/* ---- address family and SAP ---- */

static VOID EchoOpenAfComplete(NDIS_HANDLE ProtocolAfContext, NDIS_HANDLE NdisAfHandle, NDIS_STATUS Status);

static VOID EchoAfRegisterNotify(NDIS_HANDLE ProtocolBindingContext, PCO_ADDRESS_FAMILY AddressFamily)
{
    PECHO_BINDING b = ProtocolBindingContext;
    NDIS_STATUS status;
    if (AddressFamily->AddressFamily != CO_ADDRESS_FAMILY_Q2931 || b->AfHandle != NULL) {
        return;
    }
    status = NdisClOpenAddressFamilyEx(b->BindingHandle, AddressFamily, b, &b->AfHandle);
    if (status != NDIS_STATUS_PENDING) {
        /* completed at once: NDIS calls no completion handler, so finish here */
        EchoOpenAfComplete(b, b->AfHandle, status);
    }
}

static VOID EchoOpenAfComplete(NDIS_HANDLE ProtocolAfContext, NDIS_HANDLE NdisAfHandle, NDIS_STATUS Status)
{
    PECHO_BINDING b = ProtocolAfContext;
    if (Status != NDIS_STATUS_SUCCESS) {
        b->AfHandle = NULL;
        return;
    }
    b->AfHandle = NdisAfHandle;
    if (NdisClRegisterSap(NdisAfHandle, b, b->Sap, &b->SapHandle) != NDIS_STATUS_SUCCESS && b->SapHandle == NULL) {
        DbgPrint("echo: SAP registration pending or refused\n");
    }
}

static VOID EchoRegisterSapComplete(NDIS_STATUS Status, NDIS_HANDLE ProtocolSapContext, PCO_SAP Sap,
                                    NDIS_HANDLE NdisSapHandle)
{
    PECHO_BINDING b = ProtocolSapContext;
    UNREFERENCED_PARAMETER(Sap);
    b->SapHandle = Status == NDIS_STATUS_SUCCESS ? NdisSapHandle : NULL;
}

/* ---- VCs and calls ---- */

static NDIS_STATUS EchoCreateVc(NDIS_HANDLE ProtocolAfContext, NDIS_HANDLE NdisVcHandle, PNDIS_HANDLE ProtocolVcContext)
{
    PECHO_VC vc = EchoAlloc(sizeof(ECHO_VC));
    if (vc == NULL) {
        return NDIS_STATUS_RESOURCES;
    }
    vc->Binding = ProtocolAfContext;
    vc->VcHandle = NdisVcHandle;
    *ProtocolVcContext = vc;
    return NDIS_STATUS_SUCCESS;
}

static NDIS_STATUS EchoDeleteVc(NDIS_HANDLE ProtocolVcContext)
{
    NdisFreeMemory(ProtocolVcContext, sizeof(ECHO_VC), 0);
    return NDIS_STATUS_SUCCESS;
}

static NDIS_STATUS EchoIncomingCall(NDIS_HANDLE ProtocolSapContext, NDIS_HANDLE ProtocolVcContext,
                                    PCO_CALL_PARAMETERS CallParameters)
{
    UNREFERENCED_PARAMETER(ProtocolSapContext);
    UNREFERENCED_PARAMETER(ProtocolVcContext);
    /* accept the call as offered */
    return CallParameters != NULL ? NDIS_STATUS_SUCCESS : NDIS_STATUS_FAILURE;
}

static VOID EchoCallConnected(NDIS_HANDLE ProtocolVcContext)
{
    UNREFERENCED_PARAMETER(ProtocolVcContext);
}

static VOID EchoIncomingCloseCall(NDIS_STATUS CloseStatus, NDIS_HANDLE ProtocolVcContext, PVOID CloseData, UINT Size)
{
    PECHO_VC vc = ProtocolVcContext;
    UNREFERENCED_PARAMETER(CloseStatus);
    UNREFERENCED_PARAMETER(CloseData);
    UNREFERENCED_PARAMETER(Size);
    NdisClCloseCall(vc->VcHandle, NULL, NULL, 0);
}

static VOID EchoCloseCallComplete(NDIS_STATUS Status, NDIS_HANDLE ProtocolVcContext, NDIS_HANDLE ProtocolPartyContext)
{
    UNREFERENCED_PARAMETER(Status);
    UNREFERENCED_PARAMETER(ProtocolVcContext);
    UNREFERENCED_PARAMETER(ProtocolPartyContext);
}

/* ---- data: every packet goes back on the VC it came in on ---- */

static VOID EchoReceive(NDIS_HANDLE ProtocolBindingContext, NDIS_HANDLE ProtocolVcContext,
                        PNET_BUFFER_LIST NetBufferLists, ULONG NumberOfNetBufferLists, ULONG ReceiveFlags)
{
    PECHO_BINDING b = ProtocolBindingContext;
    PECHO_VC vc = ProtocolVcContext;
    PNET_BUFFER_LIST nbl;
    UNREFERENCED_PARAMETER(NumberOfNetBufferLists);
    UNREFERENCED_PARAMETER(ReceiveFlags);
    for (nbl = NetBufferLists; nbl != NULL; nbl = NET_BUFFER_LIST_NEXT_NBL(nbl)) {
        PNET_BUFFER nb = NET_BUFFER_LIST_FIRST_NB(nbl);
        ULONG length = NET_BUFFER_DATA_LENGTH(nb);
        PECHO_PACKET packet = EchoAlloc(sizeof(ECHO_PACKET) + length);
        PNET_BUFFER_LIST reply;
        PUCHAR data;
        if (packet == NULL) {
            continue;
        }
#ifdef ECHO_CRASHES_ON_A_SECOND_PACKET
        /* a planted bug: the VC's echo counter is taken as a pointer once it is past one */
        if (vc->Echoed >= 1) {
            *(volatile LONG *)(ULONG_PTR)vc->Echoed = 0;
        }
#endif
        data = NdisGetDataBuffer(nb, length, packet->Data, 1, 0);
        if (data != packet->Data && data != NULL) {
            NdisMoveMemory(packet->Data, data, length);
        }
        packet->Length = length;
        packet->Mdl = NdisAllocateMdl(b->BindingHandle, packet->Data, length);
        reply = NdisAllocateNetBufferAndNetBufferList(b->PoolHandle, 0, 0, packet->Mdl, 0, length);
        if (reply == NULL) {
            NdisFreeMdl(packet->Mdl);
            NdisFreeMemory(packet, sizeof(ECHO_PACKET) + length, 0);
            continue;
        }
        reply->ProtocolReserved[0] = packet;
#ifndef ECHO_FORGETS_SOURCE_HANDLE
        reply->SourceHandle = vc->VcHandle;     /* the sending-net-buffer guide page: the sender sets it */
#endif
        NdisInterlockedIncrement(&vc->Echoed);
        DbgPrint("echo: %u bytes back on VC %p\n", (unsigned)length, vc->VcHandle);
        NdisCoSendNetBufferLists(vc->VcHandle, reply, 0);
    }
}

static VOID EchoSendComplete(NDIS_HANDLE ProtocolVcContext, PNET_BUFFER_LIST NetBufferLists, ULONG SendCompleteFlags)
{
    PNET_BUFFER_LIST nbl = NetBufferLists;
    UNREFERENCED_PARAMETER(ProtocolVcContext);
    UNREFERENCED_PARAMETER(SendCompleteFlags);
    while (nbl != NULL) {
        PNET_BUFFER_LIST next = NET_BUFFER_LIST_NEXT_NBL(nbl);
        PECHO_PACKET packet = nbl->ProtocolReserved[0];
        NdisFreeNetBufferList(nbl);
        NdisFreeMdl(packet->Mdl);
        NdisFreeMemory(packet, sizeof(ECHO_PACKET) + packet->Length, 0);
        nbl = next;
    }
}

static VOID EchoStatus(NDIS_HANDLE ProtocolBindingContext, NDIS_HANDLE ProtocolVcContext,
                       PNDIS_STATUS_INDICATION StatusIndication)
{
    UNREFERENCED_PARAMETER(ProtocolBindingContext);
    UNREFERENCED_PARAMETER(ProtocolVcContext);
    UNREFERENCED_PARAMETER(StatusIndication);
}

/* ---- the rest of the client table: requests this client never makes ---- */

static VOID EchoCloseAfComplete(NDIS_STATUS Status, NDIS_HANDLE ProtocolAfContext);
static VOID EchoDeregisterSapComplete(NDIS_STATUS Status, NDIS_HANDLE ProtocolSapContext)
{
    PECHO_BINDING b = ProtocolSapContext;
    UNREFERENCED_PARAMETER(Status);
    b->SapHandle = NULL;
    if (b->UnbindContext != NULL && NdisClCloseAddressFamily(b->AfHandle) != NDIS_STATUS_PENDING) {
        EchoCloseAfComplete(NDIS_STATUS_SUCCESS, b);
    }
}

static VOID EchoMakeCallComplete(NDIS_STATUS Status, NDIS_HANDLE ProtocolVcContext, NDIS_HANDLE NdisPartyHandle,
                                 PCO_CALL_PARAMETERS CallParameters)
{
    UNREFERENCED_PARAMETER(Status);
    UNREFERENCED_PARAMETER(ProtocolVcContext);
    UNREFERENCED_PARAMETER(NdisPartyHandle);
    UNREFERENCED_PARAMETER(CallParameters);
}

static VOID EchoModifyQosComplete(NDIS_STATUS Status, NDIS_HANDLE ProtocolVcContext, PCO_CALL_PARAMETERS CallParameters)
{
    UNREFERENCED_PARAMETER(Status);
    UNREFERENCED_PARAMETER(ProtocolVcContext);
    UNREFERENCED_PARAMETER(CallParameters);
}

static VOID EchoQosChange(NDIS_HANDLE ProtocolVcContext, PCO_CALL_PARAMETERS CallParameters)
{
    UNREFERENCED_PARAMETER(ProtocolVcContext);
    UNREFERENCED_PARAMETER(CallParameters);
}

static NDIS_STATUS EchoNotifyCloseAf(NDIS_HANDLE ProtocolAfContext)
{
    UNREFERENCED_PARAMETER(ProtocolAfContext);
    return NDIS_STATUS_SUCCESS;
}

/* ---- binding ---- */

static VOID EchoCloseAdapterComplete(NDIS_HANDLE ProtocolBindingContext)
{
    PECHO_BINDING b = ProtocolBindingContext;
    NDIS_HANDLE unbind = b->UnbindContext;
    if (b->InUnbind) {
        b->Closed = TRUE;       /* EchoUnbind frees the binding and returns NDIS_STATUS_SUCCESS */
        return;
    }
    NdisFreeNetBufferListPool(b->PoolHandle);
    NdisFreeMemory(b->Sap, b->SapSize, 0);
    NdisFreeMemory(b, sizeof(ECHO_BINDING), 0);
    NdisCompleteUnbindAdapterEx(unbind);
}

static VOID EchoCloseAfComplete(NDIS_STATUS Status, NDIS_HANDLE ProtocolAfContext)
{
    PECHO_BINDING b = ProtocolAfContext;
    UNREFERENCED_PARAMETER(Status);
    b->AfHandle = NULL;
    if (b->UnbindContext != NULL && NdisCloseAdapterEx(b->BindingHandle) != NDIS_STATUS_PENDING) {
        EchoCloseAdapterComplete(b);
    }
}

static VOID EchoOpenAdapterComplete(NDIS_HANDLE ProtocolBindingContext, NDIS_STATUS Status)
{
    UNREFERENCED_PARAMETER(ProtocolBindingContext);
    UNREFERENCED_PARAMETER(Status);
}

static NDIS_STATUS EchoBind(NDIS_HANDLE ProtocolDriverContext, NDIS_HANDLE BindContext,
                            PNDIS_BIND_PARAMETERS BindParameters)
{
    NDIS_MEDIUM media[] = { NdisMediumAtm, NdisMediumCoWan };
    UINT selected = 0;
    NDIS_OPEN_PARAMETERS open;
    NET_BUFFER_LIST_POOL_PARAMETERS pool;
    PECHO_BINDING b;
    NDIS_STATUS status;
    ULONG sapLength = 0;
    UNREFERENCED_PARAMETER(ProtocolDriverContext);

    b = EchoAlloc(sizeof(ECHO_BINDING));
    if (b == NULL) {
        return NDIS_STATUS_RESOURCES;
    }
    while (EchoSapText[sapLength] != 0) {
        sapLength++;
    }
    b->SapSize = sizeof(CO_SAP) + sapLength;
    b->Sap = EchoAlloc(b->SapSize);
    if (b->Sap == NULL) {
        NdisFreeMemory(b, sizeof(ECHO_BINDING), 0);
        return NDIS_STATUS_RESOURCES;
    }
    b->Sap->SapType = 0;
    b->Sap->SapLength = sapLength;
    for (ULONG i = 0; i < sapLength; i++) {
        b->Sap->Sap[i] = (UCHAR)EchoSapText[i];
    }
    NdisZeroMemory(&pool, sizeof(pool));
    pool.Header.Type = NDIS_OBJECT_TYPE_DEFAULT;
    pool.Header.Revision = NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1;
    pool.Header.Size = NDIS_SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1;
    pool.fAllocateNetBuffer = TRUE;
    pool.PoolTag = ECHO_TAG;
    b->PoolHandle = NdisAllocateNetBufferListPool(EchoProtocolHandle, &pool);

    NdisZeroMemory(&open, sizeof(open));
    open.Header.Type = NDIS_OBJECT_TYPE_OPEN_PARAMETERS;
    open.Header.Revision = NDIS_OPEN_PARAMETERS_REVISION_1;
    open.Header.Size = NDIS_SIZEOF_OPEN_PARAMETERS_REVISION_1;
    open.AdapterName = BindParameters->AdapterName;
    open.MediumArray = media;
    open.MediumArraySize = ARRAYSIZE(media);
    open.SelectedMediumIndex = &selected;
    status = NdisOpenAdapterEx(EchoProtocolHandle, b, &open, BindContext, &b->BindingHandle);
    if (status != NDIS_STATUS_SUCCESS && status != NDIS_STATUS_PENDING) {
        NdisFreeNetBufferListPool(b->PoolHandle);
        NdisFreeMemory(b->Sap, b->SapSize, 0);
        NdisFreeMemory(b, sizeof(ECHO_BINDING), 0);
    }
    return status;
}

static NDIS_STATUS EchoUnbind(NDIS_HANDLE UnbindContext, NDIS_HANDLE ProtocolBindingContext)
{
    PECHO_BINDING b = ProtocolBindingContext;
    b->UnbindContext = UnbindContext;
    b->InUnbind = TRUE;
    if (b->SapHandle != NULL) {
        if (NdisClDeregisterSap(b->SapHandle) != NDIS_STATUS_PENDING) {
            EchoDeregisterSapComplete(NDIS_STATUS_SUCCESS, b);
        }
    } else if (b->AfHandle != NULL) {
        if (NdisClCloseAddressFamily(b->AfHandle) != NDIS_STATUS_PENDING) {
            EchoCloseAfComplete(NDIS_STATUS_SUCCESS, b);
        }
    } else if (NdisCloseAdapterEx(b->BindingHandle) != NDIS_STATUS_PENDING) {
        EchoCloseAdapterComplete(b);
    }
    b->InUnbind = FALSE;
    if (b->Closed) {
        NdisFreeNetBufferListPool(b->PoolHandle);
        NdisFreeMemory(b->Sap, b->SapSize, 0);
        NdisFreeMemory(b, sizeof(ECHO_BINDING), 0);
        return NDIS_STATUS_SUCCESS;
    }
    return NDIS_STATUS_PENDING;     /* EchoCloseAdapterComplete completes the unbind */
}

static NDIS_STATUS EchoPnPEvent(NDIS_HANDLE ProtocolBindingContext, PNET_PNP_EVENT_NOTIFICATION NetPnPEvent)
{
    UNREFERENCED_PARAMETER(ProtocolBindingContext);
    UNREFERENCED_PARAMETER(NetPnPEvent);
    return NDIS_STATUS_SUCCESS;
}

/* ---- registration ---- */

static NDIS_STATUS EchoSetOptions(NDIS_HANDLE NdisDriverHandle, NDIS_HANDLE DriverContext)
{
    NDIS_PROTOCOL_CO_CHARACTERISTICS co;
    NDIS_CO_CLIENT_OPTIONAL_HANDLERS cl;
    NDIS_STATUS status;
    UNREFERENCED_PARAMETER(DriverContext);

    NdisZeroMemory(&co, sizeof(co));
    co.Header.Type = NDIS_OBJECT_TYPE_CO_PROTOCOL_CHARACTERISTICS;
    co.Header.Revision = NDIS_PROTOCOL_CO_CHARACTERISTICS_REVISION_1;
    co.Header.Size = NDIS_SIZEOF_PROTOCOL_CO_CHARACTERISTICS_REVISION_1;
    co.CoStatusHandlerEx = EchoStatus;
    co.CoAfRegisterNotifyHandler = EchoAfRegisterNotify;
    co.CoReceiveNetBufferListsHandler = EchoReceive;
    co.CoSendNetBufferListsCompleteHandler = EchoSendComplete;
    status = NdisSetOptionalHandlers(NdisDriverHandle, (PNDIS_DRIVER_OPTIONAL_HANDLERS)&co);
    if (status != NDIS_STATUS_SUCCESS) {
        return status;
    }
    NdisZeroMemory(&cl, sizeof(cl));
    cl.Header.Type = NDIS_OBJECT_TYPE_CO_CLIENT_OPTIONAL_HANDLERS;
    cl.Header.Revision = NDIS_CO_CLIENT_OPTIONAL_HANDLERS_REVISION_1;
    cl.Header.Size = NDIS_SIZEOF_CO_CLIENT_OPTIONAL_HANDLERS_REVISION_1;
    cl.ClCreateVcHandler = EchoCreateVc;
    cl.ClDeleteVcHandler = EchoDeleteVc;
    cl.ClOpenAfCompleteHandlerEx = EchoOpenAfComplete;
    cl.ClCloseAfCompleteHandler = EchoCloseAfComplete;
    cl.ClRegisterSapCompleteHandler = EchoRegisterSapComplete;
    cl.ClDeregisterSapCompleteHandler = EchoDeregisterSapComplete;
    cl.ClMakeCallCompleteHandler = EchoMakeCallComplete;
    cl.ClModifyCallQoSCompleteHandler = EchoModifyQosComplete;
    cl.ClCloseCallCompleteHandler = EchoCloseCallComplete;
    cl.ClIncomingCallHandler = EchoIncomingCall;
    cl.ClIncomingCallQoSChangeHandler = EchoQosChange;
    cl.ClIncomingCloseCallHandler = EchoIncomingCloseCall;
    cl.ClCallConnectedHandler = EchoCallConnected;
    cl.ClNotifyCloseAfHandler = EchoNotifyCloseAf;
    return NdisSetOptionalHandlers(NdisDriverHandle, (PNDIS_DRIVER_OPTIONAL_HANDLERS)&cl);
}

static VOID EchoUnload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
    NdisDeregisterProtocolDriver(EchoProtocolHandle);
}

static VOID EchoReadSap(VOID)
{
    NDIS_CONFIGURATION_OBJECT object;
    NDIS_HANDLE config = NULL;
    NDIS_STRING keyword = NDIS_STRING_CONST("Sap");
    PNDIS_CONFIGURATION_PARAMETER value = NULL;
    NDIS_STATUS status;

    NdisZeroMemory(&object, sizeof(object));
    object.Header.Type = NDIS_OBJECT_TYPE_CONFIGURATION_OBJECT;
    object.Header.Revision = NDIS_CONFIGURATION_OBJECT_REVISION_1;
    object.Header.Size = NDIS_SIZEOF_CONFIGURATION_OBJECT_REVISION_1;
    object.NdisHandle = EchoProtocolHandle;
    NdisOpenConfigurationEx(&object, &config);
    if (config == NULL) {
        return;
    }
    NdisReadConfiguration(&status, &value, config, &keyword, NdisParameterString);
    if (status == NDIS_STATUS_SUCCESS && value->ParameterType == NdisParameterString) {
        USHORT n = value->ParameterData.StringData.Length / sizeof(WCHAR);
        if (n >= ARRAYSIZE(EchoSapText)) {
            n = ARRAYSIZE(EchoSapText) - 1;
        }
        NdisMoveMemory(EchoSapText, value->ParameterData.StringData.Buffer, n * sizeof(WCHAR));
        EchoSapText[n] = 0;
    }
    NdisCloseConfiguration(config);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    NDIS_PROTOCOL_DRIVER_CHARACTERISTICS pchars;
    NDIS_STRING name = NDIS_STRING_CONST("echoclient");
    NDIS_STATUS status;
    UNREFERENCED_PARAMETER(RegistryPath);

    NdisZeroMemory(&pchars, sizeof(pchars));
    pchars.Header.Type = NDIS_OBJECT_TYPE_PROTOCOL_DRIVER_CHARACTERISTICS;
    pchars.Header.Revision = NDIS_PROTOCOL_DRIVER_CHARACTERISTICS_REVISION_1;
    pchars.Header.Size = NDIS_SIZEOF_PROTOCOL_DRIVER_CHARACTERISTICS_REVISION_1;
    pchars.MajorNdisVersion = 6;
    pchars.MinorNdisVersion = 0;
    pchars.Name = name;
    pchars.SetOptionsHandler = EchoSetOptions;
    pchars.BindAdapterHandlerEx = EchoBind;
    pchars.UnbindAdapterHandlerEx = EchoUnbind;
    pchars.OpenAdapterCompleteHandlerEx = EchoOpenAdapterComplete;
    pchars.CloseAdapterCompleteHandlerEx = EchoCloseAdapterComplete;
    pchars.NetPnPEventHandler = EchoPnPEvent;
    status = NdisRegisterProtocolDriver(NULL, &pchars, &EchoProtocolHandle);
    if (status != NDIS_STATUS_SUCCESS) {
        return status;
    }
    EchoDriverHandle = EchoProtocolHandle;
    EchoReadSap();
    DriverObject->DriverUnload = EchoUnload;
    return STATUS_SUCCESS;
}
