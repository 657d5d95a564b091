/*
 * callclose.c - the one call flow a call manager over a miniport does differently from the
 * sample MCM: the client's close of a call the remote released.
 *
 * The shared call control completes that close at once and deactivates the VC afterwards, from
 * a work item. Over a miniport the deactivation pends in the miniport, and a client may delete
 * its VC as soon as its NdisClCloseCall is done (nc-ndis-protocol_cl_incoming_close_call.md),
 * which NDIS refuses while the VC is still active (deactivating-a-vc.md). So here, as
 * condis/drivers/cm.py does (incoming-request-to-close-a-call.md, cm-22's steps 6 and 7), the
 * VC is deactivated from ProtocolCmCloseCall and the close pends until that is done.
 */
#include "callclose.h"
#include "../atmmcm/signaling.h"
#include "../atmmcm/vc.h"

static PROTOCOL_CM_CLOSE_CALL CallCloseReleased;
static PROTOCOL_CM_CLOSE_CALL *SharedCloseCall;

/*
 * CallCloseReleased - the client closes a call (NdisClCloseCall). PASSIVE_LEVEL.
 * A point-to-point call the remote released: RELEASE COMPLETE goes out and the VC is
 * deactivated; NDIS_STATUS_PENDING, and the shared call control's CallVcRequestDone completes the
 * close (NdisCmCloseCallComplete) when the deactivation completes, then deletes the VC if it is
 * ours. Should the miniport deactivate at once, the close completes here with its status, and
 * our VC is deleted first. Every other close is the shared call control's CmCloseCall.
 */
static NDIS_STATUS CallCloseReleased(NDIS_HANDLE CallMgrVcContext, NDIS_HANDLE CallMgrPartyContext,
                                     PVOID CloseData, UINT Size)
{
    PMCM_VC vc = CallMgrVcContext;
    NDIS_STATUS status;

    if (vc->State != CallReleaseInd || CallMgrPartyContext != NULL) {
        return SharedCloseCall(CallMgrVcContext, CallMgrPartyContext, CloseData, Size);
    }
    VcReference(vc);
    SigSendForCall(vc, vc->Entry.Endpoint, MsgReleaseComplete, CAUSE_NORMAL);
    SigForget(&vc->Entry);
    vc->State = CallNull;
    VcUnmap(vc);
    status = NdisCmDeactivateVc(vc->NdisVcHandle);
    if (status == NDIS_STATUS_PENDING) {
        vc->Next = VcNextCompleteClose;     /* ProtocolCmDeactivateVcComplete brings the result */
    } else if (vc->CreatedByUs) {
        VcDelete(vc);
    }
    VcDereference(vc);
    return status;
}

/*
 * CallCloseFillHandlers - puts CallCloseReleased in front of the shared CmCloseCall in the
 * call-manager table. PASSIVE_LEVEL, from SetOptions.
 */
VOID CallCloseFillHandlers(PNDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS Handlers)
{
    SharedCloseCall = Handlers->CmCloseCallHandler;
    Handlers->CmCloseCallHandler = CallCloseReleased;
}
