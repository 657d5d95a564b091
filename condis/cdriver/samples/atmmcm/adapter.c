/*
 * adapter.c - adapter lifetime of the sample MCM (condis/drivers/mcm.py's MiniportInitializeEx
 * and MiniportHaltEx): attributes, the NIC, the signaling timer, and the AF registered from
 * MiniportInitializeEx (differences-in-initialization.md).
 */
#include "adapter.h"
#include "callmgr.h"
#include "datapath.h"
#include "signaling.h"

/*
 * AdapterReadOddVcis - the "OddVcis" parameter of the adapter's configuration: the two ends of
 * a wire allocate data VCIs from different halves (even on one, odd on the other), so that
 * calls placed from both ends never pick the same VCI. Absent, the adapter takes the even ones.
 * PASSIVE_LEVEL.
 */
static BOOLEAN AdapterReadOddVcis(NDIS_HANDLE MiniportAdapterHandle)
{
    NDIS_CONFIGURATION_OBJECT object;
    NDIS_HANDLE configuration = NULL;
    NDIS_STRING keyword = NDIS_STRING_CONST("OddVcis");
    PNDIS_CONFIGURATION_PARAMETER value = NULL;
    NDIS_STATUS status;
    BOOLEAN odd = FALSE;

    NdisZeroMemory(&object, sizeof(object));
    object.Header.Type = NDIS_OBJECT_TYPE_CONFIGURATION_OBJECT;
    object.Header.Revision = NDIS_CONFIGURATION_OBJECT_REVISION_1;
    object.Header.Size = NDIS_SIZEOF_CONFIGURATION_OBJECT_REVISION_1;
    object.NdisHandle = MiniportAdapterHandle;
    NdisOpenConfigurationEx(&object, &configuration);
    if (configuration == NULL) {
        return FALSE;
    }
    NdisReadConfiguration(&status, &value, configuration, &keyword, NdisParameterInteger);
    if (status == NDIS_STATUS_SUCCESS && value != NULL && value->ParameterType == NdisParameterInteger) {
        odd = value->ParameterData.IntegerData != 0;
    }
    NdisCloseConfiguration(configuration);
    return odd;
}

/* The two attribute sets an ATM-like adapter reports from MiniportInitializeEx. */
static NDIS_STATUS AdapterSetAttributes(PMCM_ADAPTER Adapter)
{
    NDIS_MINIPORT_ADAPTER_ATTRIBUTES attributes;
    NDIS_OID oids[] = {OID_GEN_CO_LINK_SPEED};
    NDIS_STATUS status;

    NdisZeroMemory(&attributes, sizeof(attributes));
    attributes.RegistrationAttributes.Header.Type = NDIS_OBJECT_TYPE_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES;
    attributes.RegistrationAttributes.Header.Revision = NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_1;
    attributes.RegistrationAttributes.Header.Size = NDIS_SIZEOF_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_1;
    attributes.RegistrationAttributes.MiniportAdapterContext = Adapter;
    attributes.RegistrationAttributes.InterfaceType = NdisInterfaceInternal;
    status = NdisMSetMiniportAttributes(Adapter->MiniportAdapterHandle, &attributes);
    if (status != NDIS_STATUS_SUCCESS) {
        return status;
    }
    NdisZeroMemory(&attributes, sizeof(attributes));
    attributes.GeneralAttributes.Header.Type = NDIS_OBJECT_TYPE_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES;
    attributes.GeneralAttributes.Header.Revision = NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_1;
    attributes.GeneralAttributes.Header.Size = NDIS_SIZEOF_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_1;
    attributes.GeneralAttributes.MediaType = NdisMediumAtm;
    attributes.GeneralAttributes.MtuSize = MCM_MTU;
    attributes.GeneralAttributes.MaxXmitLinkSpeed = MCM_LINK_SPEED;
    attributes.GeneralAttributes.XmitLinkSpeed = MCM_LINK_SPEED;
    attributes.GeneralAttributes.MaxRcvLinkSpeed = MCM_LINK_SPEED;
    attributes.GeneralAttributes.RcvLinkSpeed = MCM_LINK_SPEED;
    attributes.GeneralAttributes.MediaConnectState = MediaConnectStateConnected;
    attributes.GeneralAttributes.SupportedOidList = oids;
    attributes.GeneralAttributes.SupportedOidListLength = sizeof(oids);
    return NdisMSetMiniportAttributes(Adapter->MiniportAdapterHandle, &attributes);
}

/*
 * MiniportInitializeEx - NDIS starts an adapter, at PASSIVE_LEVEL. The hardware is the
 * condis.WirePort in AllocatedResources. On failure, everything allocated here is freed again.
 */
NDIS_STATUS MiniportInitializeEx(NDIS_HANDLE NdisMiniportHandle, NDIS_HANDLE MiniportDriverContext,
                                 PNDIS_MINIPORT_INIT_PARAMETERS MiniportInitParameters)
{
    PMCM_ADAPTER adapter;
    NDIS_STATUS status;

    UNREFERENCED_PARAMETER(MiniportDriverContext);
    if (MiniportInitParameters->AllocatedResources == NULL) {
        return NDIS_STATUS_RESOURCES;
    }
    adapter = McmAllocate(NdisMiniportHandle, sizeof(MCM_ADAPTER));
    if (adapter == NULL) {
        return NDIS_STATUS_RESOURCES;
    }
    adapter->MiniportAdapterHandle = NdisMiniportHandle;
    adapter->WirePort = (PVOID)MiniportInitParameters->AllocatedResources;
    adapter->OddVcis = AdapterReadOddVcis(NdisMiniportHandle);
    adapter->NextVci = FIRST_DATA_VCI + (adapter->OddVcis ? 1 : 0);
    adapter->NextRef = 1;
    adapter->NextEndpoint = 1;
    InitializeListHead(&adapter->Afs);
    InitializeListHead(&adapter->Calls);
    InitializeListHead(&adapter->Deferred);
    InitializeListHead(&adapter->Mapped);

    status = AdapterSetAttributes(adapter);
    if (status != NDIS_STATUS_SUCCESS) {
        McmFree(adapter);
        return status;
    }
    status = NicOpen(adapter);
    if (status != NDIS_STATUS_SUCCESS) {
        McmFree(adapter);
        return status;
    }
    status = SigOpen(adapter);
    if (status == NDIS_STATUS_SUCCESS) {
        status = CallMgrRegisterAf(adapter);
    }
    if (status != NDIS_STATUS_SUCCESS) {
        SigClose(adapter);
        NicClose(adapter);
        McmFree(adapter);
        return status;
    }
    return NDIS_STATUS_SUCCESS;
}

/*
 * MiniportHaltEx - NDIS stops the adapter, at PASSIVE_LEVEL, its clients unbound and their AFs
 * closed. RESTART tells the peer every call here is gone; then the timers, the NIC and the
 * adapter are freed.
 */
VOID MiniportHaltEx(NDIS_HANDLE MiniportAdapterContext, NDIS_HALT_ACTION HaltAction)
{
    PMCM_ADAPTER adapter = MiniportAdapterContext;

    UNREFERENCED_PARAMETER(HaltAction);
    ASSERT(IsListEmpty(&adapter->Afs));
    ASSERT(adapter->QueuedWorkItems == 0);     /* halting-a-miniport-adapter.md: no work left queued */
    SigSendRestart(adapter);
    SigClose(adapter);
    CallMgrHalt(adapter);
    NicClose(adapter);
    McmFree(adapter);
}

/* MiniportPause - nothing is in flight that a pause must wait for. PASSIVE_LEVEL. */
NDIS_STATUS MiniportPause(NDIS_HANDLE MiniportAdapterContext, PNDIS_MINIPORT_PAUSE_PARAMETERS MiniportPauseParameters)
{
    UNREFERENCED_PARAMETER(MiniportAdapterContext);
    UNREFERENCED_PARAMETER(MiniportPauseParameters);
    return NDIS_STATUS_SUCCESS;
}

/* MiniportRestart - PASSIVE_LEVEL. */
NDIS_STATUS MiniportRestart(NDIS_HANDLE MiniportAdapterContext, PNDIS_MINIPORT_RESTART_PARAMETERS RestartParameters)
{
    UNREFERENCED_PARAMETER(MiniportAdapterContext);
    UNREFERENCED_PARAMETER(RestartParameters);
    return NDIS_STATUS_SUCCESS;
}
