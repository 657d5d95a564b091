/*
 * atmcm.h - what every file of the sample stand-alone call manager shares.
 *
 * The sample call manager is a protocol driver that binds to a CoNDIS miniport for an ATM-like
 * NIC (condis/drivers/miniport.py) and does for it what the sample MCM's call-manager half does
 * for its own NIC (registering-and-opening-an-address-family.md, differences-in-virtual-connections.md).
 * It is condis/drivers/cm.py in C.
 *
 * The call control is the sample MCM's, compiled into this image unchanged: callmgr.c, vc.c and
 * signaling.c of ../atmmcm are each included by the file of the same name here, after this
 * header. What differs between an MCM and a call manager over a miniport is what the few lines
 * below route:
 *   - the NdisMCmXxx calls an MCM makes become the NdisCmXxx (or NdisCoXxx) calls a call manager
 *     makes: the same arguments, with a binding handle where the MCM passes its adapter handle
 *     (MCM_ADAPTER.MiniportAdapterHandle holds our NdisBindingHandle);
 *   - the MCM's cells on its wire become NET_BUFFER_LISTs on our signaling VC (sigvc.c), and
 *     programming the NIC for a VC is the miniport's business once NDIS passes it the
 *     activation (MCM_ADAPTER.WirePort holds our ATMCM_BINDING);
 *   - NDIS I/O work items are for miniport drivers (nf-ndis-ndisallocateioworkitem.md): a
 *     protocol driver queues kernel work items, in storage it allocates (workitem.c).
 *
 * Who owns what:
 *   ATMCM_BINDING  ProtocolBindingContext and CallMgrBindingContext: one per bound adapter,
 *                  with the MCM_ADAPTER the shared call control hangs everything off.
 *   ATMCM_SIGVC    ProtocolVcContext of the binding's signaling VC (VCI 5), which we create
 *                  with no AF and activate ourselves.
 * Every other context (AF, SAP, VC, party) is the shared call control's (../atmmcm/atmmcm.h).
 */
#pragma once

#include <ndis.h>

/* ---- the MCM's calls, as a call manager over a miniport makes them (ddi.h has both) ---- */
#define NdisMCmRegisterAddressFamilyEx  NdisCmRegisterAddressFamilyEx
#define NdisMCmCreateVc                 NdisCoCreateVc
#define NdisMCmDeleteVc                 NdisCoDeleteVc
#define NdisMCmActivateVc               NdisCmActivateVc
#define NdisMCmDeactivateVc             NdisCmDeactivateVc
#define NdisMCmMakeCallComplete         NdisCmMakeCallComplete
#define NdisMCmCloseCallComplete        NdisCmCloseCallComplete
#define NdisMCmAddPartyComplete         NdisCmAddPartyComplete
#define NdisMCmDropPartyComplete        NdisCmDropPartyComplete
#define NdisMCmModifyCallQoSComplete    NdisCmModifyCallQoSComplete
#define NdisMCmDispatchIncomingCall     NdisCmDispatchIncomingCall
#define NdisMCmDispatchCallConnected    NdisCmDispatchCallConnected
#define NdisMCmDispatchIncomingCloseCall NdisCmDispatchIncomingCloseCall
#define NdisMCmDispatchIncomingDropParty NdisCmDispatchIncomingDropParty

/* ---- the MCM's NIC, as this driver reaches the line ---- */
#define CondisWireTransmit   AtmCmSignalingTransmit
#define CondisWireProgramVc  AtmCmProgramVc

/* ---- NDIS I/O work items, as a protocol driver has them ---- */
#define NdisAllocateIoWorkItem  AtmCmAllocateWorkItem
#define NdisQueueIoWorkItem     AtmCmQueueWorkItem
#define NdisFreeIoWorkItem      AtmCmFreeWorkItem

#include "../atmmcm/atmmcm.h"

#define ATMCM_TAG NDIS_TAG('A', 't', 'c', 'm')

typedef struct _ATMCM_BINDING ATMCM_BINDING, *PATMCM_BINDING;

typedef struct _ATMCM_SIGVC {
    PATMCM_BINDING Binding;
    NDIS_HANDLE NdisVcHandle;        /* NULL until created, and again once deleted */
    BOOLEAN Active;
    MCM_CALL_PARAMETERS Params;
} ATMCM_SIGVC, *PATMCM_SIGVC;

typedef VOID (ATMCM_LATER)(PATMCM_BINDING Binding);

struct _ATMCM_BINDING {
    MCM_ADAPTER Adapter;             /* first: the shared call control's CallMgrBindingContext */
    LIST_ENTRY Link;                 /* in AtmCmDriver.Bindings */
    NDIS_HANDLE NdisBindingHandle;
    NDIS_HANDLE BindContext;         /* until the bind completes */
    NDIS_HANDLE UnbindContext;       /* while an unbind is pending */
    NDIS_HANDLE Pool;                /* NET_BUFFER_LISTs for signaling */
    ATMCM_SIGVC Signaling;
    BOOLEAN Unbinding;
    BOOLEAN Paused;                  /* a paused binding sends nothing */
    NDIS_STATUS BindStatus;          /* a failing bind's status, while it undoes itself */
    ULONG SendsPending;              /* signaling NET_BUFFER_LISTs the miniport still has */
    NDIS_HANDLE LaterItem;           /* the binding's own work item (workitem.c's AtmCmLater) */
};

typedef struct _ATMCM_DRIVER {
    NDIS_HANDLE ProtocolHandle;
    PDRIVER_OBJECT DriverObject;
    LIST_ENTRY Bindings;
} ATMCM_DRIVER;

extern ATMCM_DRIVER AtmCmDriver;

#define ATMCM_BINDING_OF(McmAdapter) CONTAINING_RECORD((McmAdapter), ATMCM_BINDING, Adapter)

/* sigvc.c */
VOID AtmCmSignalingTransmit(PVOID Port, ULONG Vci, const VOID *Data, ULONG Length);
BOOLEAN AtmCmProgramVc(PVOID Port);

/* workitem.c */
NDIS_HANDLE AtmCmAllocateWorkItem(NDIS_HANDLE NdisObjectHandle);
VOID AtmCmQueueWorkItem(NDIS_HANDLE WorkItem, NDIS_IO_WORKITEM_ROUTINE Routine, PVOID Context);
VOID AtmCmFreeWorkItem(NDIS_HANDLE WorkItem);
VOID AtmCmLater(PATMCM_BINDING Binding, ATMCM_LATER *Routine);
