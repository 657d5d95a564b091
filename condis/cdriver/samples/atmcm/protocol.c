/*
 * protocol.c - DriverEntry and registration of the sample call manager: a protocol driver
 * (NdisRegisterProtocolDriver) whose SetOptions registers the CoNDIS protocol handlers and the
 * call-manager handlers (condis-call-manager-registration.md; the table is binding.c's).
 */
#include "protocol.h"
#include "binding.h"
#include "sigvc.h"

ATMCM_DRIVER AtmCmDriver;

static SET_OPTIONS ProtocolSetOptions;
static DRIVER_UNLOAD ProtocolUnload;

/*
 * DriverEntry - registers the protocol driver (NdisRegisterProtocolDriver). PASSIVE_LEVEL.
 */
NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    NDIS_PROTOCOL_DRIVER_CHARACTERISTICS chars;
    NDIS_STRING name = NDIS_STRING_CONST("atmcm");
    NDIS_STATUS status;

    UNREFERENCED_PARAMETER(RegistryPath);
    InitializeListHead(&AtmCmDriver.Bindings);
    AtmCmDriver.DriverObject = DriverObject;
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
    status = NdisRegisterProtocolDriver(&AtmCmDriver, &chars, &AtmCmDriver.ProtocolHandle);
    if (status == NDIS_STATUS_SUCCESS) {
        DriverObject->DriverUnload = ProtocolUnload;
    }
    return status;
}

/*
 * ProtocolSetOptions - NDIS asks for the optional handler tables, from within
 * NdisRegisterProtocolDriver at PASSIVE_LEVEL: the CoNDIS protocol table, then the call
 * manager's.
 */
static NDIS_STATUS ProtocolSetOptions(NDIS_HANDLE NdisDriverHandle, NDIS_HANDLE DriverContext)
{
    NDIS_PROTOCOL_CO_CHARACTERISTICS co;
    NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS cm;
    NDIS_STATUS status;

    UNREFERENCED_PARAMETER(DriverContext);
    NdisZeroMemory(&co, sizeof(co));
    co.Header.Type = NDIS_OBJECT_TYPE_CO_PROTOCOL_CHARACTERISTICS;
    co.Header.Revision = NDIS_PROTOCOL_CO_CHARACTERISTICS_REVISION_1;
    co.Header.Size = NDIS_SIZEOF_PROTOCOL_CO_CHARACTERISTICS_REVISION_1;
    co.CoStatusHandlerEx = ProtocolCoStatusEx;
    co.CoReceiveNetBufferListsHandler = ProtocolCoReceiveNetBufferLists;
    co.CoSendNetBufferListsCompleteHandler = ProtocolCoSendNetBufferListsComplete;
    status = NdisSetOptionalHandlers(NdisDriverHandle, (PNDIS_DRIVER_OPTIONAL_HANDLERS)&co);
    if (status != NDIS_STATUS_SUCCESS) {
        return status;
    }
    BindingFillHandlers(&cm);
    return NdisSetOptionalHandlers(NdisDriverHandle, (PNDIS_DRIVER_OPTIONAL_HANDLERS)&cm);
}

/* ProtocolUnload - every binding is gone: deregister. PASSIVE_LEVEL. */
static VOID ProtocolUnload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
    NdisDeregisterProtocolDriver(AtmCmDriver.ProtocolHandle);
}
