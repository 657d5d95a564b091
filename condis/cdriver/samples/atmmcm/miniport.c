/*
 * miniport.c - DriverEntry and registration of the sample MCM (condis-mcm-registration.md): a
 * CoNDIS miniport whose SetOptions handler registers both its CoNDIS miniport handlers and its
 * call-manager handlers. Also the driver's memory helpers.
 */
#include "miniport.h"
#include "adapter.h"
#include "callmgr.h"
#include "datapath.h"

/* The one thing the driver keeps for all its adapters: its handle from NDIS, for unload. */
static NDIS_HANDLE McmDriverHandle;

static SET_OPTIONS MiniportSetOptions;
static MINIPORT_UNLOAD MiniportDriverUnload;

/*
 * DriverEntry - registers the miniport driver (NdisMRegisterMiniportDriver). PASSIVE_LEVEL.
 */
NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    NDIS_MINIPORT_DRIVER_CHARACTERISTICS chars;

    NdisZeroMemory(&chars, sizeof(chars));
    chars.Header.Type = NDIS_OBJECT_TYPE_MINIPORT_DRIVER_CHARACTERISTICS;
    chars.Header.Revision = NDIS_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_1;
    chars.Header.Size = NDIS_SIZEOF_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_1;
    chars.MajorNdisVersion = 6;
    chars.MinorNdisVersion = 0;
    chars.MajorDriverVersion = 1;
    chars.SetOptionsHandler = MiniportSetOptions;
    chars.InitializeHandlerEx = MiniportInitializeEx;
    chars.HaltHandlerEx = MiniportHaltEx;
    chars.UnloadHandler = MiniportDriverUnload;
    chars.PauseHandler = MiniportPause;
    chars.RestartHandler = MiniportRestart;
    return NdisMRegisterMiniportDriver(DriverObject, RegistryPath, NULL, &chars, &McmDriverHandle);
}

/*
 * MiniportSetOptions - NDIS asks for the optional handler tables, from within
 * NdisMRegisterMiniportDriver at PASSIVE_LEVEL: the CoNDIS miniport table, then the call
 * manager's (what makes this miniport an MCM).
 */
static NDIS_STATUS MiniportSetOptions(NDIS_HANDLE NdisDriverHandle, NDIS_HANDLE DriverContext)
{
    NDIS_MINIPORT_CO_CHARACTERISTICS co;
    NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS cm;
    NDIS_STATUS status;

    UNREFERENCED_PARAMETER(DriverContext);
    NicFillHandlers(&co);
    status = NdisSetOptionalHandlers(NdisDriverHandle, (PNDIS_DRIVER_OPTIONAL_HANDLERS)&co);
    if (status != NDIS_STATUS_SUCCESS) {
        return status;
    }
    CallMgrFillHandlers(&cm);
    return NdisSetOptionalHandlers(NdisDriverHandle, (PNDIS_DRIVER_OPTIONAL_HANDLERS)&cm);
}

/* MiniportDriverUnload - the driver goes away, every adapter halted. PASSIVE_LEVEL. */
static VOID MiniportDriverUnload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
    NdisMDeregisterMiniportDriver(McmDriverHandle);
}

/*
 * McmAllocate / McmFree - zeroed nonpaged memory for the driver's contexts, charged to an NDIS
 * handle (the adapter's), and its release. Any IRQL up to DISPATCH_LEVEL.
 */
PVOID McmAllocate(NDIS_HANDLE NdisHandle, ULONG Length)
{
    PVOID memory = NdisAllocateMemoryWithTagPriority(NdisHandle, Length, ATMMCM_TAG, NormalPoolPriority);
    if (memory != NULL) {
        NdisZeroMemory(memory, Length);
    }
    return memory;
}

VOID McmFree(PVOID Memory)
{
    NdisFreeMemory(Memory, 0, 0);
}
