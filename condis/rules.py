"""The rules condis enforces, each with the page that states it.

Ids are the Static Driver Verifier names where one exists (rules/ndis-*.md) and ``condis.*`` names
for rules that only the guide and DDI pages state. Every Violation condis raises names one of these.
"""

from __future__ import annotations

from typing import NamedTuple


class Rule(NamedTuple):
    id: str
    summary: str
    page: str


_R = [
    # --- IRQL families (rules/ and ddi-index.tsv) ---
    Rule("Irql_MCM_Function", "An NdisMCm* function was called above the IRQL its page allows.",
         "rules/ndis-irql-mcm-function.md"),
    Rule("Irql_CallManager_Function", "An NdisCm* function was called above the IRQL its page allows.",
         "rules/ndis-irql-callmanager-function.md"),
    Rule("Irql_Connection_Function", "An NdisCo* function was called above the IRQL its page allows.",
         "rules/ndis-irql-connection-function.md"),
    Rule("Irql_Protocol_Driver_Function", "A protocol-driver function was called above the IRQL its page allows.",
         "rules/ndis-irql-protocol-driver-function.md"),
    Rule("Irql_MCO_Function", "An NdisMCo* function was called above the IRQL its page allows.",
         "rules/ndis-irql-mco-function.md"),
    Rule("Irql_Miniport_Driver_Function", "A miniport-driver function was called above the IRQL its page allows.",
         "rules/ndis-irql-miniport-driver-function.md"),
    Rule("Irql_Synch_Function", "A spin-lock function was called at an IRQL its page does not allow.",
         "rules/ndis-irql-synch-function.md"),
    Rule("Irql_Timer_Function", "A timer function was called above the IRQL its page allows.",
         "rules/ndis-irql-timer-function.md"),
    Rule("Irql_Miscellaneous_Function", "A work-item or registration helper was called above the IRQL its page allows.",
         "ddi/nf-ndis-ndisqueueioworkitem.md"),
    Rule("Irql_NetBuffer_Function", "A NET_BUFFER_LIST function was called above the IRQL its page allows.",
         "ddi/nf-nblapi-ndisallocatenetbufferlistpool.md"),
    Rule("Irql_IrqlSetting_Function", "NDIS_RAISE_IRQL_TO_DISPATCH / NDIS_LOWER_IRQL used at a wrong IRQL or out of pairs.",
         "ddi/nf-ndis-ndis_lower_irql.md"),
    # --- handler manners ---
    Rule("condis.HandlerIrql", "A handler returned at a different IRQL from the one NDIS called it at.",
         "rules/ndis-irql-synch-function.md"),
    Rule("SpinLockBalanced", "A spin lock acquired in a handler or work item was still held when it returned.",
         "ddi/nf-ndis-ndisacquirespinlock.md"),
    Rule("SpinLock", "A spin lock was acquired twice by the same path or released while not held.",
         "ddi/nf-ndis-ndisacquirespinlock.md"),
    Rule("condis.HandlerReturn", "A handler returned something other than its documented status (and OUT values).",
         "ddi/nc-ndis-protocol_cm_open_af.md"),
    Rule("condis.NoPendingHere", "A handler that must complete synchronously returned NDIS_STATUS_PENDING.",
         "guide/deleting-a-vc.md"),
    Rule("condis.MissingHandler", "A driver lacks a handler NDIS needs for the operation it started.",
         "guide/condis-client-registration.md"),
    # --- handles and callers ---
    Rule("condis.BadHandle", "A handle is of the wrong kind, stale, or was issued by another host.",
         "guide/using-afs--vcs--saps--and-parties.md"),
    Rule("condis.WrongCaller", "The function was called by a kind of driver its page does not allow.",
         "guide/differences-in-calls-to-ndisxxx-functions.md"),
    Rule("condis.PendingStatus", "NDIS_STATUS_PENDING was passed as the final status of a Complete call.",
         "seed/000_e0f5fe94aade492e.txt"),
    Rule("condis.BadParameter", "A parameter is missing, of the wrong type, or out of its documented range.",
         "guide/quality-of-service.md"),
    # --- registration and binding ---
    Rule("condis.Registration", "Driver or adapter registration done out of order or twice.",
         "guide/initializing-a-miniport-driver.md"),
    Rule("condis.SetOptionsOnly", "NdisSetOptionalHandlers called outside the driver's SetOptions handler.",
         "ddi/nf-ndis-ndissetoptionalhandlers.md"),
    Rule("condis.BindState", "A binding operation was called in a binding state that does not allow it.",
         "guide/binding-to-an-adapter.md"),
    Rule("condis.CloseWithAfs", "A binding was closed while it still had address families open or registered.",
         "guide/closing-an-address-family-in-a-condis-client.md"),
    # --- AFs and SAPs ---
    Rule("condis.AfState", "An address-family operation was called in an AF state that does not allow it.",
         "guide/registering-and-opening-an-address-family.md"),
    Rule("condis.AfBusy", "An AF was closed while SAPs were registered or calls were not closed on it.",
         "guide/closing-an-address-family-in-a-condis-client.md"),
    Rule("condis.SapState", "A SAP operation was called in a SAP state that does not allow it.",
         "guide/registering-a-sap.md"),
    # --- VCs ---
    Rule("condis.OnlyCreatorDeletes", "Only the driver that created a VC may delete it.",
         "guide/deleting-a-vc.md"),
    Rule("condis.VcActivation", "A VC activation or deactivation was requested in an activation state that does not allow it.",
         "guide/activating-a-vc.md"),
    Rule("condis.VcState", "A VC was deleted while a call on it was still being made, offered or closed.",
         "ddi/nf-ndis-ndiscodeletevc.md"),
    # --- calls ---
    Rule("condis.CallState", "A call-management function was called in a call state that does not allow it.",
         "guide/making-a-call.md"),
    Rule("condis.CompleteWithoutPending", "A Complete function was called for a request whose handler did not return NDIS_STATUS_PENDING (or completed it twice).",
         "seed/000_e0f5fe94aade492e.txt"),
    Rule("condis.PartyHandle", "The party handle does not fit the VC: NULL on a multipoint VC, non-NULL on a point-to-point one, or not the last party.",
         "seed/000_e0f5fe94aade492e.txt"),
    Rule("condis.DropLastParty", "The last party of a multipoint call is closed with NdisClCloseCall, not dropped.",
         "guide/dropping-a-party-from-a-multipoint-call.md"),
    Rule("condis.CloseWithParties", "A multipoint call was closed while more than one party was still on it.",
         "guide/client-initiated-request-to-close-a-call.md"),
    # --- data ---
    Rule("condis.SendOnInactiveVc", "Data was sent or indicated on a VC that is not active with a call up.",
         "guide/sending-and-receiving-data2.md"),
    Rule("condis.SendAfterClose", "NdisCoSendNetBufferLists was called on a VC after NdisClCloseCall.",
         "guide/sending-and-receiving-data2.md"),
    Rule("condis.SendsOutstanding", "A call was closed while NET_BUFFER_LISTs sent on its VC were not completed.",
         "ddi/nf-ndis-ndisclclosecall.md"),
    Rule("condis.SendComplete", "A send was completed that was not outstanding on that VC, or completed twice.",
         "guide/sending-net-buffer-structures-from-condis-drivers.md"),
    Rule("condis.NblState", "A NET_BUFFER_LIST was used after it was freed, or freed while NDIS or another driver owns it.",
         "ddi/nf-nblapi-ndisfreenetbufferlist.md"),
    # --- requests and status ---
    Rule("condis.OidComplete", "An OID request was completed that was not pending, or completed twice.",
         "guide/condis-miniport-driver-oid-requests.md"),
    # --- support routines ---
    Rule("condis.WorkItem", "A work item was queued while already queued, or used after it was freed.",
         "ddi/nf-ndis-ndisqueueioworkitem.md"),
    Rule("condis.Timer", "A timer object was used after it was freed.",
         "ddi/nf-ndis-ndisfreetimerobject.md"),
    # --- teardown: what a driver left behind (condis/ndis/leaks.py) ---
    Rule("condis.LeakVc", "A VC was still there when its adapter halted, its binding closed or the run ended: its creator never deleted it.",
         "guide/deleting-a-vc.md"),
    Rule("condis.LeakAf", "An address family was still open when its adapter halted, its binding closed or the run ended.",
         "guide/closing-an-address-family-in-a-condis-client.md"),
    Rule("condis.LeakSap", "A SAP was still registered when its AF's adapter halted, its binding closed or the run ended.",
         "guide/deregistering-a-sap.md"),
    Rule("condis.LeakSend", "NET_BUFFER_LISTs sent on a VC were never completed by the miniport.",
         "guide/sending-net-buffer-structures-from-condis-drivers.md"),
    Rule("condis.NeverCompleted", "A handler returned NDIS_STATUS_PENDING and the matching Complete function was never called.",
         "seed/000_e0f5fe94aade492e.txt"),
    Rule("condis.LeakBinding", "A binding was still open when the run ended: the protocol never unbound.",
         "guide/unbinding-from-an-adapter.md"),
    Rule("condis.LeakQueued", "A timer or work item was still queued when its adapter halted, its binding closed, its driver unloaded or the run ended.",
         "guide/halting-a-miniport-adapter.md"),
    # --- from the obligation sentences of the CoNDIS pages (condis/verifier/musts.tsv) ---
    Rule("condis.PartyContext", "A call manager's CallMgrPartyContext does not fit the call: non-NULL for a point-to-point call, or NULL for a party it accepted.",
         "ddi/nc-ndis-protocol_cm_make_call.md"),
    Rule("condis.DeactivateWithSends", "A miniport reported a VC deactivated while NET_BUFFER_LISTs sent on it were still not completed.",
         "ddi/nf-ndis-ndismcodeactivatevccomplete.md"),
    Rule("condis.CallParamsChanged", "A client accepted an offered call with changed call parameters but without CALL_PARAMETERS_CHANGED in their Flags.",
         "ddi/nf-ndis-ndisclincomingcallcomplete.md"),
    Rule("condis.QosReactivation", "A call manager reported a client's QoS change successful without activating the VC again with the new parameters.",
         "guide/client-initiated-request-to-change-call-parameters.md"),
    Rule("condis.OpenAfPending", "A client started another CoNDIS request on a binding while its open-AF request there was still pending.",
         "ddi/nf-ndis-ndiscmopenaddressfamilycomplete.md"),
    Rule("condis.SeparateOidHandlers", "An MCM registered its MiniportCoOidRequest as the call manager's ProtocolCoOidRequest.",
         "ddi/ns-ndis-_ndis_co_call_manager_optional_handlers.md"),
    # --- what C drivers do around the CoNDIS DDIs (support/) ---
    Rule("condis.ObjectHeader", "A structure's NDIS_OBJECT_HEADER does not say what it is: wrong Type, unknown Revision, or a Size short of its revision.",
         "support/ns-objectheader-ndis_object_header.md"),
    Rule("condis.LeakMemory", "Memory from NdisAllocateMemoryWithTagPriority, or an MDL from NdisAllocateMdl, was still allocated when its driver unloaded.",
         "support/nf-ndis-ndisfreememory.md"),
    Rule("condis.FreeMemory", "NdisFreeMemory or NdisFreeMdl was given memory its driver did not allocate that way, or memory already freed.",
         "support/nf-ndis-ndisfreememory.md"),
    Rule("condis.Assert", "An ASSERT in the driver failed.", "support/nf-wdm-assertmsg.md"),
    Rule("condis.DriverImage", "A driver image condis cannot load: not built with condis cc, or without a DriverEntry.",
         "support/ns-wdm-_driver_object.md"),
]

RULES: dict[str, Rule] = {r.id: r for r in _R}
