/*
 * misuse.c - a C protocol driver that breaks one rule, chosen by its "Case" configuration
 * value, for the bridge's negative tests. Case 0 breaks nothing.
 */
#include <ndis.h>

static NDIS_HANDLE MisuseHandle;
static LONG MisuseLoads;            /* a global: each load of the image must see it start at 0 */
static PVOID MisuseBlock;
static NDIS_SPIN_LOCK MisuseLock;
static PDRIVER_OBJECT MisuseDriverObject;

/* Case 11's kernel work item: runs at PASSIVE_LEVEL, then gives its storage back. */
static VOID MisuseWork(PVOID IoObject, PVOID Context, PIO_WORKITEM IoWorkItem)
{
    DbgPrint("misuse: work item at IRQL %d, %s\n", (int)KeGetCurrentIrql(),
             IoObject == MisuseDriverObject && Context == &MisuseLock ? "as queued" : "NOT as queued");
    IoUninitializeWorkItem(IoWorkItem);
    NdisFreeMemory(IoWorkItem, IoSizeofWorkItem(), 0);
}

static NDIS_STATUS MisuseBind(NDIS_HANDLE ProtocolDriverContext, NDIS_HANDLE BindContext,
                              PNDIS_BIND_PARAMETERS BindParameters)
{
    UNREFERENCED_PARAMETER(ProtocolDriverContext);
    UNREFERENCED_PARAMETER(BindContext);
    UNREFERENCED_PARAMETER(BindParameters);
    return NDIS_STATUS_NOT_SUPPORTED;
}

static NDIS_STATUS MisuseUnbind(NDIS_HANDLE UnbindContext, NDIS_HANDLE ProtocolBindingContext)
{
    UNREFERENCED_PARAMETER(UnbindContext);
    UNREFERENCED_PARAMETER(ProtocolBindingContext);
    return NDIS_STATUS_SUCCESS;
}

static NDIS_STATUS MisusePnP(NDIS_HANDLE ProtocolBindingContext, PNET_PNP_EVENT_NOTIFICATION NetPnPEvent)
{
    UNREFERENCED_PARAMETER(ProtocolBindingContext);
    UNREFERENCED_PARAMETER(NetPnPEvent);
    return NDIS_STATUS_SUCCESS;
}

static VOID MisuseStatus(NDIS_HANDLE b, NDIS_HANDLE v, PNDIS_STATUS_INDICATION s) { (void)b; (void)v; (void)s; }
static VOID MisuseAfNotify(NDIS_HANDLE b, PCO_ADDRESS_FAMILY af) { (void)b; (void)af; }
static VOID MisuseReceive(NDIS_HANDLE b, NDIS_HANDLE v, PNET_BUFFER_LIST n, ULONG c, ULONG f)
{
    (void)b; (void)v; (void)n; (void)c; (void)f;
}
static VOID MisuseSendComplete(NDIS_HANDLE v, PNET_BUFFER_LIST n, ULONG f) { (void)v; (void)n; (void)f; }

static NDIS_STATUS MisuseSetOptions(NDIS_HANDLE NdisDriverHandle, NDIS_HANDLE DriverContext)
{
    NDIS_PROTOCOL_CO_CHARACTERISTICS co;
    UNREFERENCED_PARAMETER(DriverContext);
    NdisZeroMemory(&co, sizeof(co));
    co.Header.Type = NDIS_OBJECT_TYPE_CO_PROTOCOL_CHARACTERISTICS;
    co.Header.Revision = NDIS_PROTOCOL_CO_CHARACTERISTICS_REVISION_1;
    co.Header.Size = NDIS_SIZEOF_PROTOCOL_CO_CHARACTERISTICS_REVISION_1;
    co.CoStatusHandlerEx = MisuseStatus;
    co.CoAfRegisterNotifyHandler = MisuseAfNotify;
    co.CoReceiveNetBufferListsHandler = MisuseReceive;
    co.CoSendNetBufferListsCompleteHandler = MisuseSendComplete;
    return NdisSetOptionalHandlers(NdisDriverHandle, (PNDIS_DRIVER_OPTIONAL_HANDLERS)&co);
}

static VOID MisuseUnload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
    NdisDeregisterProtocolDriver(MisuseHandle);
}

ULONG MisuseCase(VOID)
{
    NDIS_CONFIGURATION_OBJECT object;
    NDIS_HANDLE config = NULL;
    NDIS_STRING keyword = NDIS_STRING_CONST("Case");
    PNDIS_CONFIGURATION_PARAMETER value = NULL;
    NDIS_STATUS status;
    ULONG result = 0;

    NdisZeroMemory(&object, sizeof(object));
    object.Header.Type = NDIS_OBJECT_TYPE_CONFIGURATION_OBJECT;
    object.Header.Revision = NDIS_CONFIGURATION_OBJECT_REVISION_1;
    object.Header.Size = NDIS_SIZEOF_CONFIGURATION_OBJECT_REVISION_1;
    object.NdisHandle = MisuseHandle;
    NdisOpenConfigurationEx(&object, &config);
    NdisReadConfiguration(&status, &value, config, &keyword, NdisParameterInteger);
    if (status == NDIS_STATUS_SUCCESS) {
        result = value->ParameterData.IntegerData;
    }
    NdisCloseConfiguration(config);
    return result;
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    NDIS_PROTOCOL_DRIVER_CHARACTERISTICS pchars;
    NDIS_STRING name = NDIS_STRING_CONST("misuse");
    NDIS_STATUS status;
    ULONG which;
    UNREFERENCED_PARAMETER(RegistryPath);

    NdisZeroMemory(&pchars, sizeof(pchars));
    pchars.Header.Type = NDIS_OBJECT_TYPE_PROTOCOL_DRIVER_CHARACTERISTICS;
    pchars.Header.Revision = NDIS_PROTOCOL_DRIVER_CHARACTERISTICS_REVISION_1;
    pchars.Header.Size = NDIS_SIZEOF_PROTOCOL_DRIVER_CHARACTERISTICS_REVISION_1;
    pchars.MajorNdisVersion = 6;
    pchars.Name = name;
    pchars.SetOptionsHandler = MisuseSetOptions;
    pchars.BindAdapterHandlerEx = MisuseBind;
    pchars.UnbindAdapterHandlerEx = MisuseUnbind;
    pchars.NetPnPEventHandler = MisusePnP;
    status = NdisRegisterProtocolDriver(NULL, &pchars, &MisuseHandle);
    if (status != NDIS_STATUS_SUCCESS) {
        return status;
    }
    DriverObject->DriverUnload = MisuseUnload;
    MisuseLoads++;
    DbgPrint("misuse: load %d\n", (int)MisuseLoads);

    which = MisuseCase();
    switch (which) {
    case 1: /* a forged handle */
        NdisDeregisterProtocolDriver((NDIS_HANDLE)(ULONG_PTR)0x1234);
        break;
    case 2: /* memory never freed: a leak at unload */
        MisuseBlock = NdisAllocateMemoryWithTagPriority(MisuseHandle, 64, NDIS_TAG('L', 'e', 'a', 'k'),
                                                        NormalPoolPriority);
        break;
    case 3: /* freed twice */
        MisuseBlock = NdisAllocateMemoryWithTagPriority(MisuseHandle, 16, NDIS_TAG('D', 'b', 'l', 'F'),
                                                        NormalPoolPriority);
        NdisFreeMemory(MisuseBlock, 16, 0);
        NdisFreeMemory(MisuseBlock, 16, 0);     /* the second free */
        break;
    case 4: /* a failed ASSERT */
        ASSERT(which == 0);
        break;
    case 5: /* a characteristics header that does not match */
        pchars.Header.Size = 8;
        NdisRegisterProtocolDriver(NULL, &pchars, &MisuseHandle);      /* the header no longer matches */
        break;
    case 6: /* a NULL where a structure is required */
        NdisRegisterProtocolDriver(NULL, NULL, &MisuseHandle);
        break;
    case 8: /* a PASSIVE_LEVEL routine at DISPATCH_LEVEL, inside a spin lock */
        NdisAllocateSpinLock(&MisuseLock);
        NdisAcquireSpinLock(&MisuseLock);
        NdisDeregisterProtocolDriver(MisuseHandle);     /* at DISPATCH_LEVEL */
        NdisReleaseSpinLock(&MisuseLock);
        NdisFreeSpinLock(&MisuseLock);
        break;
    case 9: /* DriverEntry returns holding a spin lock */
        NdisAllocateSpinLock(&MisuseLock);
        NdisAcquireSpinLock(&MisuseLock);
        break;
    case 10: /* a lock released with the DPR routine after a plain acquire */
        NdisAllocateSpinLock(&MisuseLock);
        NdisAcquireSpinLock(&MisuseLock);
        NdisDprReleaseSpinLock(&MisuseLock);            /* the wrong release */
        break;
    case 11: /* a kernel work item, the way a protocol driver reaches PASSIVE_LEVEL: no finding */
        MisuseDriverObject = DriverObject;
        NdisAllocateSpinLock(&MisuseLock);
        MisuseBlock = NdisAllocateMemoryWithTagPriority(MisuseHandle, IoSizeofWorkItem(), NDIS_TAG('W', 'o', 'r', 'k'),
                                                        NormalPoolPriority);
        IoInitializeWorkItem(DriverObject, MisuseBlock);
        NdisAcquireSpinLock(&MisuseLock);      /* queued at DISPATCH_LEVEL, run at PASSIVE_LEVEL */
        IoQueueWorkItemEx(MisuseBlock, MisuseWork, DelayedWorkQueue, &MisuseLock);
        NdisReleaseSpinLock(&MisuseLock);
        break;
    case 12: /* an NDIS work item asked for with a protocol driver's handle */
        NdisAllocateIoWorkItem(MisuseHandle);   /* a protocol's handle */
        break;
    case 7: /* a crash: the explorer must survive it */
        *(volatile int *)MisuseBlock = 1;
        break;
    default:
        break;
    }
    return STATUS_SUCCESS;
}
