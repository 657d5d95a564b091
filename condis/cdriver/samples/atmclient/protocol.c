/*
 * protocol.c - DriverEntry, registration and binding of the sample client
 * (binding-to-an-adapter.md, unbinding-from-an-adapter.md), and its memory helpers.
 */
#include "protocol.h"
#include "af.h"
#include "call.h"
#include "datapath.h"

CLIENT_DRIVER ClientDriver;

static SET_OPTIONS ProtocolSetOptions;
static DRIVER_UNLOAD ProtocolUnload;
static PROTOCOL_BIND_ADAPTER_EX ProtocolBindAdapterEx;
static PROTOCOL_UNBIND_ADAPTER_EX ProtocolUnbindAdapterEx;
static PROTOCOL_OPEN_ADAPTER_COMPLETE_EX ProtocolOpenAdapterCompleteEx;
static PROTOCOL_CLOSE_ADAPTER_COMPLETE_EX ProtocolCloseAdapterCompleteEx;
static PROTOCOL_NET_PNP_EVENT ProtocolNetPnPEvent;
static PROTOCOL_CO_STATUS_EX ProtocolCoStatusEx;

/*
 * DriverEntry - registers the protocol driver (NdisRegisterProtocolDriver). PASSIVE_LEVEL.
 */
NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    NDIS_PROTOCOL_DRIVER_CHARACTERISTICS chars;
    NDIS_STRING name = NDIS_STRING_CONST("atmclient");
    NDIS_STATUS status;

    UNREFERENCED_PARAMETER(RegistryPath);
    InitializeListHead(&ClientDriver.Bindings);
    ClientDriver.Answer = NDIS_STATUS_SUCCESS;
    ClientDriver.DriverObject = DriverObject;
    NdisZeroMemory(&chars, sizeof(chars));
    chars.Header.Type = NDIS_OBJECT_TYPE_PROTOCOL_DRIVER_CHARACTERISTICS;
    chars.Header.Revision = NDIS_PROTOCOL_DRIVER_CHARACTERISTICS_REVISION_1;
    chars.Header.Size = NDIS_SIZEOF_PROTOCOL_DRIVER_CHARACTERISTICS_REVISION_1;
    chars.MajorNdisVersion = 6;
    chars.MinorNdisVersion = 0;
    chars.MajorDriverVersion = 1;
    chars.Name = name;
    chars.SetOptionsHandler = ProtocolSetOptions;
    chars.BindAdapterHandlerEx = ProtocolBindAdapterEx;
    chars.UnbindAdapterHandlerEx = ProtocolUnbindAdapterEx;
    chars.OpenAdapterCompleteHandlerEx = ProtocolOpenAdapterCompleteEx;
    chars.CloseAdapterCompleteHandlerEx = ProtocolCloseAdapterCompleteEx;
    chars.NetPnPEventHandler = ProtocolNetPnPEvent;
    status = NdisRegisterProtocolDriver(&ClientDriver, &chars, &ClientDriver.ProtocolHandle);
    if (status == NDIS_STATUS_SUCCESS) {
        DriverObject->DriverUnload = ProtocolUnload;
    }
    return status;
}

/*
 * ProtocolSetOptions - NDIS asks for the optional handler tables, from within
 * NdisRegisterProtocolDriver at PASSIVE_LEVEL: the CoNDIS protocol table, then the client's.
 */
static NDIS_STATUS ProtocolSetOptions(NDIS_HANDLE NdisDriverHandle, NDIS_HANDLE DriverContext)
{
    NDIS_PROTOCOL_CO_CHARACTERISTICS co;
    NDIS_CO_CLIENT_OPTIONAL_HANDLERS cl;
    NDIS_STATUS status;

    UNREFERENCED_PARAMETER(DriverContext);
    NdisZeroMemory(&co, sizeof(co));
    co.Header.Type = NDIS_OBJECT_TYPE_CO_PROTOCOL_CHARACTERISTICS;
    co.Header.Revision = NDIS_PROTOCOL_CO_CHARACTERISTICS_REVISION_1;
    co.Header.Size = NDIS_SIZEOF_PROTOCOL_CO_CHARACTERISTICS_REVISION_1;
    co.CoStatusHandlerEx = ProtocolCoStatusEx;
    co.CoAfRegisterNotifyHandler = ProtocolCoAfRegisterNotify;
    co.CoReceiveNetBufferListsHandler = ProtocolCoReceiveNetBufferLists;
    co.CoSendNetBufferListsCompleteHandler = ProtocolCoSendNetBufferListsComplete;
    status = NdisSetOptionalHandlers(NdisDriverHandle, (PNDIS_DRIVER_OPTIONAL_HANDLERS)&co);
    if (status != NDIS_STATUS_SUCCESS) {
        return status;
    }
    NdisZeroMemory(&cl, sizeof(cl));
    cl.Header.Type = NDIS_OBJECT_TYPE_CO_CLIENT_OPTIONAL_HANDLERS;
    cl.Header.Revision = NDIS_CO_CLIENT_OPTIONAL_HANDLERS_REVISION_1;
    cl.Header.Size = NDIS_SIZEOF_CO_CLIENT_OPTIONAL_HANDLERS_REVISION_1;
    cl.ClCreateVcHandler = ClCreateVc;
    cl.ClDeleteVcHandler = ClDeleteVc;
    cl.ClOidRequestHandler = ClOidRequest;
    cl.ClOidRequestCompleteHandler = ClOidRequestComplete;
    cl.ClOpenAfCompleteHandlerEx = ClOpenAfCompleteEx;
    cl.ClCloseAfCompleteHandler = ClCloseAfComplete;
    cl.ClRegisterSapCompleteHandler = ClRegisterSapComplete;
    cl.ClDeregisterSapCompleteHandler = ClDeregisterSapComplete;
    cl.ClMakeCallCompleteHandler = ClMakeCallComplete;
    cl.ClModifyCallQoSCompleteHandler = ClModifyCallQoSComplete;
    cl.ClCloseCallCompleteHandler = ClCloseCallComplete;
    cl.ClAddPartyCompleteHandler = ClAddPartyComplete;
    cl.ClDropPartyCompleteHandler = ClDropPartyComplete;
    cl.ClIncomingCallHandler = ClIncomingCall;
    cl.ClIncomingCallQoSChangeHandler = ClIncomingCallQoSChange;
    cl.ClIncomingCloseCallHandler = ClIncomingCloseCall;
    cl.ClIncomingDropPartyHandler = ClIncomingDropParty;
    cl.ClCallConnectedHandler = ClCallConnected;
    cl.ClNotifyCloseAfHandler = ClNotifyCloseAf;
    return NdisSetOptionalHandlers(NdisDriverHandle, (PNDIS_DRIVER_OPTIONAL_HANDLERS)&cl);
}

/* ProtocolUnload - every binding is gone: free what the application could still look at, and
   deregister. PASSIVE_LEVEL. */
static VOID ProtocolUnload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
    ClientHistoryClear();
    NdisDeregisterProtocolDriver(ClientDriver.ProtocolHandle);
}

/* ---- binding ------------------------------------------------------------------------------ */

/*
 * ClientReadSap - this adapter's address, the "Sap" parameter of the binding's configuration
 * (a string; its characters are the address's bytes). None: the client listens on nothing
 * and only places calls. PASSIVE_LEVEL.
 */
static VOID ClientReadSap(PCLIENT_BINDING Binding)
{
    NDIS_CONFIGURATION_OBJECT object;
    NDIS_HANDLE configuration = NULL;
    NDIS_STRING keyword = NDIS_STRING_CONST("Sap");
    PNDIS_CONFIGURATION_PARAMETER value = NULL;
    NDIS_STATUS status;

    NdisZeroMemory(&object, sizeof(object));
    object.Header.Type = NDIS_OBJECT_TYPE_CONFIGURATION_OBJECT;
    object.Header.Revision = NDIS_CONFIGURATION_OBJECT_REVISION_1;
    object.Header.Size = NDIS_SIZEOF_CONFIGURATION_OBJECT_REVISION_1;
    object.NdisHandle = Binding->NdisBindingHandle;
    NdisOpenConfigurationEx(&object, &configuration);
    if (configuration == NULL) {
        return;
    }
    NdisReadConfiguration(&status, &value, configuration, &keyword, NdisParameterString);
    if (status == NDIS_STATUS_SUCCESS && value != NULL && value->ParameterType == NdisParameterString) {
        PNDIS_STRING text = &value->ParameterData.StringData;
        ULONG count = text->Length / sizeof(WCHAR);
        if (count > CLIENT_MAX_ADDRESS) {
            count = CLIENT_MAX_ADDRESS;
        }
        for (ULONG i = 0; i < count; i++) {
            Binding->Sap[i] = (UCHAR)text->Buffer[i];
        }
        Binding->SapLength = count;
    }
    NdisCloseConfiguration(configuration);
}

/* The binding's own resources, once the adapter is open. */
static NDIS_STATUS ClientBindOpened(PCLIENT_BINDING Binding)
{
    NET_BUFFER_LIST_POOL_PARAMETERS pool;

    NdisZeroMemory(&pool, sizeof(pool));
    pool.Header.Type = NDIS_OBJECT_TYPE_DEFAULT;
    pool.Header.Revision = NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1;
    pool.Header.Size = NDIS_SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1;
    pool.ProtocolId = NDIS_PROTOCOL_ID_DEFAULT;
    pool.fAllocateNetBuffer = TRUE;
    pool.PoolTag = ATMCLIENT_TAG;
    Binding->Pool = NdisAllocateNetBufferListPool(Binding->NdisBindingHandle, &pool);
    if (Binding->Pool != NULL) {
        Binding->UnbindWorkItem = ClientAllocateWorkItem(Binding->NdisBindingHandle);
    }
    if (Binding->UnbindWorkItem == NULL) {
        /* a bind that fails closes what it opened (binding-to-an-adapter.md) */
        if (Binding->Pool != NULL) {
            NdisFreeNetBufferListPool(Binding->Pool);
            Binding->Pool = NULL;
        }
        if (NdisCloseAdapterEx(Binding->NdisBindingHandle) != NDIS_STATUS_PENDING) {
            ClientFree(Binding);
        }   /* else ProtocolCloseAdapterCompleteEx frees it */
        return NDIS_STATUS_RESOURCES;
    }
    ClientReadSap(Binding);
    InsertTailList(&ClientDriver.Bindings, &Binding->Link);
    return NDIS_STATUS_SUCCESS;
}

/*
 * ProtocolBindAdapterEx - NDIS offers an adapter, at PASSIVE_LEVEL. An ATM adapter is opened;
 * if the open pends, ProtocolOpenAdapterCompleteEx finishes the bind with
 * NdisCompleteBindAdapterEx.
 */
static NDIS_STATUS ProtocolBindAdapterEx(NDIS_HANDLE ProtocolDriverContext, NDIS_HANDLE BindContext,
                                         PNDIS_BIND_PARAMETERS BindParameters)
{
    PCLIENT_BINDING binding;
    NDIS_OPEN_PARAMETERS open;
    NDIS_MEDIUM media[] = {NdisMediumAtm};
    UINT selected = 0;
    NDIS_STATUS status;

    UNREFERENCED_PARAMETER(ProtocolDriverContext);
    if (BindParameters->MediaType != NdisMediumAtm) {
        return NDIS_STATUS_UNSUPPORTED_MEDIA;
    }
    binding = ClientAllocate(ClientDriver.ProtocolHandle, sizeof(CLIENT_BINDING));
    if (binding == NULL) {
        return NDIS_STATUS_RESOURCES;
    }
    InitializeListHead(&binding->Afs);
    binding->BindContext = BindContext;
    NdisZeroMemory(&open, sizeof(open));
    open.Header.Type = NDIS_OBJECT_TYPE_OPEN_PARAMETERS;
    open.Header.Revision = NDIS_OPEN_PARAMETERS_REVISION_1;
    open.Header.Size = NDIS_SIZEOF_OPEN_PARAMETERS_REVISION_1;
    open.AdapterName = BindParameters->AdapterName;
    open.MediumArray = media;
    open.MediumArraySize = 1;
    open.SelectedMediumIndex = &selected;
    status = NdisOpenAdapterEx(ClientDriver.ProtocolHandle, binding, &open, BindContext, &binding->NdisBindingHandle);
    if (status == NDIS_STATUS_PENDING) {
        return NDIS_STATUS_PENDING;
    }
    if (status != NDIS_STATUS_SUCCESS) {
        ClientFree(binding);
        return status;
    }
    binding->BindContext = NULL;
    return ClientBindOpened(binding);
}

/* ProtocolOpenAdapterCompleteEx - a pended NdisOpenAdapterEx completed. PASSIVE_LEVEL. */
static VOID ProtocolOpenAdapterCompleteEx(NDIS_HANDLE ProtocolBindingContext, NDIS_STATUS Status)
{
    PCLIENT_BINDING binding = ProtocolBindingContext;
    NDIS_HANDLE bindContext = binding->BindContext;

    binding->BindContext = NULL;
    if (Status != NDIS_STATUS_SUCCESS) {
        ClientFree(binding);
    } else {
        Status = ClientBindOpened(binding);
    }
    NdisCompleteBindAdapterEx(bindContext, Status);
}

/* Free the binding's resources and close the adapter; TRUE if the close completed at once. */
static BOOLEAN ClientCloseBinding(PCLIENT_BINDING Binding)
{
    if (Binding->UnbindWorkItem != NULL) {
        ClientFreeWorkItem(Binding->UnbindWorkItem);
        Binding->UnbindWorkItem = NULL;
    }
    NdisFreeNetBufferListPool(Binding->Pool);
    Binding->Pool = NULL;
    RemoveEntryList(&Binding->Link);
    return NdisCloseAdapterEx(Binding->NdisBindingHandle) != NDIS_STATUS_PENDING;
}

/* The adapter is closed: finish a pended unbind, and free the binding. */
static VOID ClientBindingClosed(PCLIENT_BINDING Binding)
{
    if (Binding->Unbind == ClientUnbindPending) {
        NdisCompleteUnbindAdapterEx(Binding->UnbindContext);
    }
    ClientFree(Binding);
}

/*
 * ProtocolUnbindAdapterEx - NDIS takes the adapter away, at PASSIVE_LEVEL. Every AF is closed
 * (its calls closed and SAPs deregistered first); when none was open the adapter is closed here
 * and the unbind completes at once. Otherwise NDIS_STATUS_PENDING: ClCloseAfComplete, once the
 * last AF is closed, has ClientFinishUnbind close the adapter and call NdisCompleteUnbindAdapterEx.
 */
static NDIS_STATUS ProtocolUnbindAdapterEx(NDIS_HANDLE UnbindContext, NDIS_HANDLE ProtocolBindingContext)
{
    PCLIENT_BINDING binding = ProtocolBindingContext;
    PLIST_ENTRY e, next;

    binding->UnbindContext = UnbindContext;
    binding->Unbind = ClientUnbindInHandler;
    for (e = binding->Afs.Flink; e != &binding->Afs; e = next) {
        next = e->Flink;            /* closing an AF frees it, and only it */
        ClientCloseAf(CONTAINING_RECORD(e, CLIENT_AF, Link));
    }
    if (IsListEmpty(&binding->Afs)) {
        if (ClientCloseBinding(binding)) {
            ClientFree(binding);
            return NDIS_STATUS_SUCCESS;
        }
        binding->Unbind = ClientUnbindPending;     /* ProtocolCloseAdapterCompleteEx completes it */
        return NDIS_STATUS_PENDING;
    }
    binding->Unbind = ClientUnbindPending;
    return NDIS_STATUS_PENDING;
}

static IO_WORKITEM_ROUTINE_EX ClientUnbindWorkItem;

/*
 * ClientFinishUnbind - the last AF of an unbinding adapter closed. Completions arrive at any
 * IRQL and closing the adapter needs PASSIVE_LEVEL, so this queues the work item allocated at
 * bind. From ClCloseAfComplete, at DISPATCH_LEVEL or below.
 */
VOID ClientFinishUnbind(PCLIENT_BINDING Binding)
{
    PIO_WORKITEM item = Binding->UnbindWorkItem;
    Binding->UnbindWorkItem = NULL;
    IoQueueWorkItemEx(item, ClientUnbindWorkItem, DelayedWorkQueue, Binding);
}

/* ClientUnbindWorkItem - closes the adapter of a pended unbind, at PASSIVE_LEVEL. */
static VOID ClientUnbindWorkItem(PVOID IoObject, PVOID Context, PIO_WORKITEM IoWorkItem)
{
    PCLIENT_BINDING binding = Context;
    UNREFERENCED_PARAMETER(IoObject);
    ClientFreeWorkItem(IoWorkItem);
    if (ClientCloseBinding(binding)) {
        ClientBindingClosed(binding);
    }
}

/* ProtocolCloseAdapterCompleteEx - a pended NdisCloseAdapterEx completed. PASSIVE_LEVEL. */
static VOID ProtocolCloseAdapterCompleteEx(NDIS_HANDLE ProtocolBindingContext)
{
    ClientBindingClosed(ProtocolBindingContext);
}

/* ProtocolNetPnPEvent - nothing to do for any PnP event. PASSIVE_LEVEL. */
static NDIS_STATUS ProtocolNetPnPEvent(NDIS_HANDLE ProtocolBindingContext, PNET_PNP_EVENT_NOTIFICATION NetPnPEvent)
{
    UNREFERENCED_PARAMETER(ProtocolBindingContext);
    UNREFERENCED_PARAMETER(NetPnPEvent);
    return NDIS_STATUS_SUCCESS;
}

/* ProtocolCoStatusEx - a status indication from the miniport or call manager. Any IRQL. */
static VOID ProtocolCoStatusEx(NDIS_HANDLE ProtocolBindingContext, NDIS_HANDLE ProtocolVcContext,
                               PNDIS_STATUS_INDICATION StatusIndication)
{
    UNREFERENCED_PARAMETER(ProtocolBindingContext);
    UNREFERENCED_PARAMETER(ProtocolVcContext);
    DbgPrint("atmclient: status 0x%08x\n", (unsigned)StatusIndication->StatusCode);
}

/*
 * ClientAllocate / ClientFree - zeroed nonpaged memory charged to an NDIS handle, and its
 * release. Any IRQL up to DISPATCH_LEVEL.
 */
PVOID ClientAllocate(NDIS_HANDLE NdisHandle, ULONG Length)
{
    PVOID memory = NdisAllocateMemoryWithTagPriority(NdisHandle, Length, ATMCLIENT_TAG, NormalPoolPriority);
    if (memory != NULL) {
        NdisZeroMemory(memory, Length);
    }
    return memory;
}

VOID ClientFree(PVOID Memory)
{
    NdisFreeMemory(Memory, 0, 0);
}

/*
 * ClientAllocateWorkItem - a kernel work item in memory of our own: NDIS work items are for
 * miniport drivers (nf-ndis-ndisallocateioworkitem.md), a protocol driver reaches PASSIVE_LEVEL
 * with IoInitializeWorkItem / IoQueueWorkItemEx on its DRIVER_OBJECT. NULL when out of memory.
 */
PIO_WORKITEM ClientAllocateWorkItem(NDIS_HANDLE NdisHandle)
{
    PIO_WORKITEM item = ClientAllocate(NdisHandle, IoSizeofWorkItem());
    if (item != NULL) {
        IoInitializeWorkItem(ClientDriver.DriverObject, item);
    }
    return item;
}

/* ClientFreeWorkItem - gives back a work item that is not queued (or whose routine is running). */
VOID ClientFreeWorkItem(PIO_WORKITEM Item)
{
    IoUninitializeWorkItem(Item);
    ClientFree(Item);
}
