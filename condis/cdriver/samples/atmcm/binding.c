/*
 * binding.c - binding to the miniport, the signaling VC, and the AF.
 *
 * A bind opens the adapter, creates the signaling VC with no AF and activates it on VCI 5
 * (differences-in-virtual-connections.md), and registers the AF once that VC is up
 * (registering-and-opening-an-address-family.md); the bind pends until then. An unbind asks
 * every client to close the AF (NdisCmNotifyCloseAddressFamily, closing-a-condis-call-manager-
 * or-mcm.md); once the last AF is closed it deactivates and deletes the signaling VC and closes
 * the adapter. A failing bind takes the same road back. A pause sends RESTART, the last message
 * a binding that is about to stop sending can send, and clears the calls here as the peer
 * clears its own on RESTART.
 *
 * The signaling VC's activation and deactivation complete through the call-manager handlers
 * the shared call control registers; BindingFillHandlers puts ours in front of those.
 */
#include "binding.h"
#include "callclose.h"
#include "../atmmcm/callmgr.h"
#include "../atmmcm/signaling.h"
#include "../atmmcm/vc.h"

static PROTOCOL_CM_ACTIVATE_VC_COMPLETE BindingActivateVcComplete;
static PROTOCOL_CM_DEACTIVATE_VC_COMPLETE BindingDeactivateVcComplete;
static PROTOCOL_CM_CLOSE_AF BindingCloseAf;
static PROTOCOL_CM_NOTIFY_CLOSE_AF_COMPLETE BindingNotifyCloseAfComplete;
static ATMCM_LATER BindingFinishBind;
static ATMCM_LATER BindingTeardown;

/* The shared call control's handlers ours stand in front of. */
static PROTOCOL_CM_ACTIVATE_VC_COMPLETE *SharedActivateVcComplete;
static PROTOCOL_CM_DEACTIVATE_VC_COMPLETE *SharedDeactivateVcComplete;
static PROTOCOL_CM_CLOSE_AF *SharedCloseAf;

/*
 * BindingReadOddVcis - the binding's "OddVcis" parameter: the two ends of a wire take data VCIs
 * from different halves, so that calls placed from both ends never pick the same one. Absent,
 * the binding takes the even ones. PASSIVE_LEVEL.
 */
static BOOLEAN BindingReadOddVcis(NDIS_HANDLE NdisBindingHandle)
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
    object.NdisHandle = NdisBindingHandle;
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

/* ---- binding ------------------------------------------------------------------------------ */

/*
 * BindingStart - the adapter is open: set up the shared call control's adapter, the signaling
 * pool and timer, and create and activate the signaling VC. NDIS_STATUS_PENDING once the
 * activation is under way (BindingSignalingActivated goes on from there); any other status
 * after undoing what it did, but not the open. PASSIVE_LEVEL.
 */
static NDIS_STATUS BindingStart(PATMCM_BINDING Binding)
{
    PMCM_ADAPTER adapter = &Binding->Adapter;
    NET_BUFFER_LIST_POOL_PARAMETERS pool;
    NDIS_STATUS status;

    adapter->MiniportAdapterHandle = Binding->NdisBindingHandle;
    adapter->WirePort = Binding;
    adapter->OddVcis = BindingReadOddVcis(Binding->NdisBindingHandle);
    adapter->NextVci = FIRST_DATA_VCI + (adapter->OddVcis ? 1 : 0);
    adapter->NextRef = 1;
    adapter->NextEndpoint = 1;
    InitializeListHead(&adapter->Afs);
    InitializeListHead(&adapter->Calls);
    InitializeListHead(&adapter->Deferred);
    InitializeListHead(&adapter->Mapped);
    Binding->Signaling.Binding = Binding;

    NdisZeroMemory(&pool, sizeof(pool));
    pool.Header.Type = NDIS_OBJECT_TYPE_DEFAULT;
    pool.Header.Revision = NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1;
    pool.Header.Size = NDIS_SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1;
    pool.ProtocolId = NDIS_PROTOCOL_ID_DEFAULT;
    pool.fAllocateNetBuffer = TRUE;
    pool.PoolTag = ATMCM_TAG;
    Binding->Pool = NdisAllocateNetBufferListPool(Binding->NdisBindingHandle, &pool);
    Binding->LaterItem = AtmCmAllocateWorkItem(Binding->NdisBindingHandle);
    status = Binding->Pool != NULL && Binding->LaterItem != NULL ? SigOpen(adapter) : NDIS_STATUS_RESOURCES;
    if (status == NDIS_STATUS_SUCCESS) {
        status = NdisCoCreateVc(Binding->NdisBindingHandle, NULL, &Binding->Signaling,
                                &Binding->Signaling.NdisVcHandle);
    }
    if (status != NDIS_STATUS_SUCCESS) {
        Binding->Signaling.NdisVcHandle = NULL;
        SigClose(adapter);
        if (Binding->LaterItem != NULL) {
            AtmCmFreeWorkItem(Binding->LaterItem);
            Binding->LaterItem = NULL;
        }
        if (Binding->Pool != NULL) {
            NdisFreeNetBufferListPool(Binding->Pool);
            Binding->Pool = NULL;
        }
        return status;
    }
    VcBuildParameters(&Binding->Signaling.Params, NULL, 0, MCM_DEFAULT_RATE, SIGNALING_VCI);
    Binding->Signaling.Params.Call.CallMgrParameters = &Binding->Signaling.Params.Manager;
    Binding->Signaling.Params.Call.MediaParameters = &Binding->Signaling.Params.Media;
    status = NdisCmActivateVc(Binding->Signaling.NdisVcHandle, &Binding->Signaling.Params.Call);
    if (status != NDIS_STATUS_PENDING) {
        BindingActivateVcComplete(status, &Binding->Signaling, &Binding->Signaling.Params.Call);
    }
    return NDIS_STATUS_PENDING;
}

/*
 * ProtocolBindAdapterEx - NDIS offers an adapter, at PASSIVE_LEVEL. An ATM adapter is opened
 * and the bind pends: BindingFinishBind completes it (NdisCompleteBindAdapterEx) once the
 * signaling VC is up and the AF registered, or BindingClosed with a failure once the binding is
 * undone. A bind that cannot even start its signaling VC fails with its status instead.
 */
NDIS_STATUS ProtocolBindAdapterEx(NDIS_HANDLE ProtocolDriverContext, NDIS_HANDLE BindContext,
                                  PNDIS_BIND_PARAMETERS BindParameters)
{
    PATMCM_BINDING binding;
    NDIS_OPEN_PARAMETERS open;
    NDIS_MEDIUM media[] = {NdisMediumAtm};
    UINT selected = 0;
    NDIS_STATUS status;

    UNREFERENCED_PARAMETER(ProtocolDriverContext);
    if (BindParameters->MediaType != NdisMediumAtm) {
        return NDIS_STATUS_UNSUPPORTED_MEDIA;
    }
    binding = McmAllocate(AtmCmDriver.ProtocolHandle, sizeof(ATMCM_BINDING));
    if (binding == NULL) {
        return NDIS_STATUS_RESOURCES;
    }
    binding->BindContext = BindContext;
    NdisZeroMemory(&open, sizeof(open));
    open.Header.Type = NDIS_OBJECT_TYPE_OPEN_PARAMETERS;
    open.Header.Revision = NDIS_OPEN_PARAMETERS_REVISION_1;
    open.Header.Size = NDIS_SIZEOF_OPEN_PARAMETERS_REVISION_1;
    open.AdapterName = BindParameters->AdapterName;
    open.MediumArray = media;
    open.MediumArraySize = 1;
    open.SelectedMediumIndex = &selected;
    status = NdisOpenAdapterEx(AtmCmDriver.ProtocolHandle, binding, &open, BindContext, &binding->NdisBindingHandle);
    if (status == NDIS_STATUS_PENDING) {
        return NDIS_STATUS_PENDING;     /* ProtocolOpenAdapterCompleteEx goes on */
    }
    if (status != NDIS_STATUS_SUCCESS) {
        McmFree(binding);
        return status;
    }
    InsertTailList(&AtmCmDriver.Bindings, &binding->Link);
    status = BindingStart(binding);
    if (status != NDIS_STATUS_PENDING) {
        /* A bind that fails closes what it opened (binding-to-an-adapter.md); it fails here, by
           its return value, so there is no pended bind to complete once the adapter is closed. */
        binding->BindContext = NULL;
        binding->BindStatus = status;
        BindingTeardown(binding);
    }
    return status;
}

/*
 * ProtocolOpenAdapterCompleteEx - a pended NdisOpenAdapterEx completed, at PASSIVE_LEVEL: go on
 * with the bind, or fail it (NdisCompleteBindAdapterEx).
 */
VOID ProtocolOpenAdapterCompleteEx(NDIS_HANDLE ProtocolBindingContext, NDIS_STATUS Status)
{
    PATMCM_BINDING binding = ProtocolBindingContext;

    if (Status != NDIS_STATUS_SUCCESS) {
        NDIS_HANDLE bindContext = binding->BindContext;
        McmFree(binding);
        NdisCompleteBindAdapterEx(bindContext, Status);
        return;
    }
    InsertTailList(&AtmCmDriver.Bindings, &binding->Link);
    Status = BindingStart(binding);
    if (Status != NDIS_STATUS_PENDING) {
        binding->BindStatus = Status;
        BindingTeardown(binding);
    }
}

/* The signaling VC's activation is done: register the AF from the binding's work item. */
static VOID BindingSignalingActivated(PATMCM_BINDING Binding, NDIS_STATUS Status)
{
    Binding->Signaling.Active = Status == NDIS_STATUS_SUCCESS;
    Binding->BindStatus = Status;
    AtmCmLater(Binding, BindingFinishBind);
}

/*
 * BindingFinishBind - registers the AF (CallMgrRegisterAf, NdisCmRegisterAddressFamilyEx) and
 * completes the pended bind; without the signaling VC or the AF the call manager has nothing to
 * offer on this adapter, and the binding is undone first. From the binding's work item, at
 * PASSIVE_LEVEL.
 */
static VOID BindingFinishBind(PATMCM_BINDING Binding)
{
    NDIS_HANDLE bindContext = Binding->BindContext;

    if (Binding->BindStatus == NDIS_STATUS_SUCCESS) {
        Binding->BindStatus = CallMgrRegisterAf(&Binding->Adapter);
    }
    if (Binding->BindStatus != NDIS_STATUS_SUCCESS) {
        BindingTeardown(Binding);       /* completes the bind with BindStatus once closed */
        return;
    }
    Binding->BindContext = NULL;
    NdisCompleteBindAdapterEx(bindContext, NDIS_STATUS_SUCCESS);
}

/* ---- going away ---------------------------------------------------------------------------- */

/* The adapter is closed: complete the pended bind that failed, or the unbind, and free the
   binding. */
static VOID BindingClosed(PATMCM_BINDING Binding)
{
    RemoveEntryList(&Binding->Link);
    if (Binding->BindContext != NULL) {
        NdisCompleteBindAdapterEx(Binding->BindContext, Binding->BindStatus);
    } else if (Binding->Unbinding) {
        NdisCompleteUnbindAdapterEx(Binding->UnbindContext);
    }
    McmFree(Binding);
}

/*
 * BindingTeardown - undoes a binding whose AFs are all closed: deactivates the signaling VC
 * (when that pends, BindingDeactivateVcComplete queues this again), deletes it, drops what
 * signaling still kept, frees the timer, work item and pool, and closes the adapter
 * (ProtocolCloseAdapterCompleteEx if that pends). Called at PASSIVE_LEVEL: from a failing bind,
 * from the binding's work item.
 */
static VOID BindingTeardown(PATMCM_BINDING Binding)
{
    PATMCM_SIGVC sig = &Binding->Signaling;

    if (sig->Active) {
        sig->Active = FALSE;    /* nothing more is sent on it */
        if (NdisCmDeactivateVc(sig->NdisVcHandle) == NDIS_STATUS_PENDING) {
            return;
        }
    }
    if (sig->NdisVcHandle != NULL) {
        NdisCoDeleteVc(sig->NdisVcHandle);
        sig->NdisVcHandle = NULL;
    }
    CallMgrHalt(&Binding->Adapter);
    SigClose(&Binding->Adapter);
    if (Binding->LaterItem != NULL) {
        AtmCmFreeWorkItem(Binding->LaterItem);
        Binding->LaterItem = NULL;
    }
    if (Binding->Pool != NULL) {
        ASSERT(Binding->SendsPending == 0);    /* a deactivated VC has no sends left in the miniport */
        NdisFreeNetBufferListPool(Binding->Pool);
        Binding->Pool = NULL;
    }
    if (NdisCloseAdapterEx(Binding->NdisBindingHandle) != NDIS_STATUS_PENDING) {
        BindingClosed(Binding);
    }
}

/* ProtocolCloseAdapterCompleteEx - a pended NdisCloseAdapterEx completed. PASSIVE_LEVEL. */
VOID ProtocolCloseAdapterCompleteEx(NDIS_HANDLE ProtocolBindingContext)
{
    BindingClosed(ProtocolBindingContext);
}

/*
 * ProtocolUnbindAdapterEx - NDIS takes the adapter away, at PASSIVE_LEVEL. Every client is asked
 * to close our AF; each close reaches BindingCloseAf, and the last one has BindingTeardown
 * finish the unbind (NdisCompleteUnbindAdapterEx). Always NDIS_STATUS_PENDING.
 */
NDIS_STATUS ProtocolUnbindAdapterEx(NDIS_HANDLE UnbindContext, NDIS_HANDLE ProtocolBindingContext)
{
    PATMCM_BINDING binding = ProtocolBindingContext;
    PLIST_ENTRY e = binding->Adapter.Afs.Flink;
    BOOLEAN noAf = IsListEmpty(&binding->Adapter.Afs);

    binding->Unbinding = TRUE;
    binding->UnbindContext = UnbindContext;
    while (e != &binding->Adapter.Afs) {
        PMCM_AF af = CONTAINING_RECORD(e, MCM_AF, Link);
        e = e->Flink;           /* the client may close this AF before the call returns */
        NdisCmNotifyCloseAddressFamily(af->NdisAfHandle);
    }
    if (noAf) {
        AtmCmLater(binding, BindingTeardown);   /* else the last BindingCloseAf queues it */
    }
    return NDIS_STATUS_PENDING;
}

/*
 * ProtocolNetPnPEvent - PnP events on the binding, at PASSIVE_LEVEL. Pausing, the binding may
 * still send: RESTART goes out, and the calls here are cleared as the peer clears its own on
 * RESTART (incoming-request-to-close-a-call.md); a paused binding then sends nothing
 * (protocol-binding-states-and-operations.md) until it restarts.
 */
NDIS_STATUS ProtocolNetPnPEvent(NDIS_HANDLE ProtocolBindingContext, PNET_PNP_EVENT_NOTIFICATION NetPnPEvent)
{
    PATMCM_BINDING binding = ProtocolBindingContext;

    if (binding == NULL) {
        return NDIS_STATUS_SUCCESS;     /* an event for the driver, not a binding */
    }
    if (NetPnPEvent->NetPnPEvent.NetEvent == NetEventPause && binding->Signaling.Active && !binding->Paused) {
        SIG_MESSAGE restart;
        SigSendRestart(&binding->Adapter);
        binding->Paused = TRUE;
        NdisZeroMemory(&restart, sizeof(restart));
        restart.Kind = MsgRestart;
        restart.Cause = CAUSE_OUT_OF_ORDER;
        SigReceive(&binding->Adapter, &restart);    /* as if the peer had said it: every call clears */
    } else if (NetPnPEvent->NetPnPEvent.NetEvent == NetEventRestart) {
        binding->Paused = FALSE;
    }
    return NDIS_STATUS_SUCCESS;
}

/* ---- the call-manager handlers the binding's life depends on --------------------------------- */

/*
 * BindingActivateVcComplete - a pended NdisCmActivateVc completed: the signaling VC's goes on
 * with the bind, a call's goes to the shared call control. DISPATCH_LEVEL or below.
 */
static VOID BindingActivateVcComplete(NDIS_STATUS Status, NDIS_HANDLE CallMgrVcContext, PCO_CALL_PARAMETERS CallParameters)
{
    PATMCM_SIGVC sig = CallMgrVcContext;
    for (PLIST_ENTRY e = AtmCmDriver.Bindings.Flink; e != &AtmCmDriver.Bindings; e = e->Flink) {
        if (sig == &CONTAINING_RECORD(e, ATMCM_BINDING, Link)->Signaling) {
            BindingSignalingActivated(sig->Binding, Status);
            return;
        }
    }
    SharedActivateVcComplete(Status, CallMgrVcContext, CallParameters);
}

/*
 * BindingDeactivateVcComplete - a pended NdisCmDeactivateVc completed: the signaling VC's goes
 * on with the teardown from the binding's work item, a call's goes to the shared call control.
 * DISPATCH_LEVEL or below.
 */
static VOID BindingDeactivateVcComplete(NDIS_STATUS Status, NDIS_HANDLE CallMgrVcContext)
{
    PATMCM_SIGVC sig = CallMgrVcContext;
    for (PLIST_ENTRY e = AtmCmDriver.Bindings.Flink; e != &AtmCmDriver.Bindings; e = e->Flink) {
        if (sig == &CONTAINING_RECORD(e, ATMCM_BINDING, Link)->Signaling) {
            AtmCmLater(sig->Binding, BindingTeardown);     /* failed or not: the VC is of no more use */
            return;
        }
    }
    SharedDeactivateVcComplete(Status, CallMgrVcContext);
}

/*
 * BindingCloseAf - a client closes our AF (NdisClCloseAddressFamily): the shared call control
 * forgets it; during an unbind the last close moves the teardown on, from the binding's work
 * item. PASSIVE_LEVEL. Completes synchronously.
 */
static NDIS_STATUS BindingCloseAf(NDIS_HANDLE CallMgrAfContext)
{
    PATMCM_BINDING binding = ATMCM_BINDING_OF(((PMCM_AF)CallMgrAfContext)->Adapter);
    NDIS_STATUS status = SharedCloseAf(CallMgrAfContext);
    if (binding->Unbinding && IsListEmpty(&binding->Adapter.Afs)) {
        AtmCmLater(binding, BindingTeardown);
    }
    return status;
}

/*
 * BindingNotifyCloseAfComplete - a client finished closing the AF we asked it to close; its
 * close already reached BindingCloseAf, which moved the unbind on. DISPATCH_LEVEL or below.
 */
static VOID BindingNotifyCloseAfComplete(NDIS_HANDLE CallMgrAfContext, NDIS_STATUS Status)
{
    UNREFERENCED_PARAMETER(CallMgrAfContext);
    UNREFERENCED_PARAMETER(Status);
}

/*
 * BindingFillHandlers - the call-manager table SetOptions registers: the shared call control's,
 * with ours in front of the handlers the signaling VC and the unbind need, and callclose.c's in
 * front of its CmCloseCall. PASSIVE_LEVEL.
 */
VOID BindingFillHandlers(PNDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS Handlers)
{
    CallMgrFillHandlers(Handlers);
    SharedActivateVcComplete = Handlers->CmActivateVcCompleteHandler;
    SharedDeactivateVcComplete = Handlers->CmDeactivateVcCompleteHandler;
    SharedCloseAf = Handlers->CmCloseAfHandler;
    Handlers->CmActivateVcCompleteHandler = BindingActivateVcComplete;
    Handlers->CmDeactivateVcCompleteHandler = BindingDeactivateVcComplete;
    Handlers->CmCloseAfHandler = BindingCloseAf;
    Handlers->CmNotifyCloseAfCompleteHandler = BindingNotifyCloseAfComplete;
    CallCloseFillHandlers(Handlers);
}
