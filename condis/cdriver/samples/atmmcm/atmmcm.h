/*
 * atmmcm.h - what every file of the sample MCM shares: its contexts and constants.
 *
 * The sample MCM is a miniport for an ATM-like NIC with integrated call management
 * (condis-mcm-registration.md, differences-in-initialization.md). It speaks the same signaling
 * as condis's Python samples (condis/drivers/signaling.py), so a host running this driver and a
 * host running the Python MCM call each other over a condis.Wire.
 *
 * Who owns what:
 *   MCM_ADAPTER   MiniportAdapterContext (and CallMgrBindingContext): one per NIC; everything
 *                 below hangs off it, so a second adapter has its own of everything.
 *   MCM_AF        CallMgrAfContext: one client's open of our AF.
 *   MCM_SAP       CallMgrSapContext.
 *   MCM_VC        CallMgrVcContext and MiniportVcContext: one VC and the call on it. It is
 *                 reference counted: one reference while NDIS knows the VC (from its creation
 *                 to its deletion), one while the call is known to signaling (until the peer
 *                 confirmed its end), one for each queued work item.
 *   MCM_PARTY     CallMgrPartyContext: one leaf of a multipoint call we placed, with its own
 *                 signaling entry (MCM_ENTRY); it holds a reference on its VC.
 *
 * Locking: the transmit-done list is shared by the send path (any IRQL up to DISPATCH_LEVEL) and
 * the transmit-done timer, so it has a spin lock. The call-control state is changed only from
 * handlers, DPCs and work items, which condis runs one at a time per host; on a multiprocessor
 * machine each signaling step would hold an adapter lock, released around every call into NDIS
 * (which may call back into this driver). This sample leaves that lock out.
 */
#pragma once

#include <ndis.h>

#define ATMMCM_TAG NDIS_TAG('A', 'm', 'c', 'm')

/* The two OIDs the MCM answers, with condis's values (condis/constants.py); condis's ndis.h
   declares no OIDs. */
#ifndef OID_GEN_CO_LINK_SPEED
#define OID_GEN_CO_LINK_SPEED 0x00010110
#endif
#ifndef OID_CO_GET_CALL_INFORMATION
#define OID_CO_GET_CALL_INFORMATION 0xFE000003
#endif

#define MCM_LINK_SPEED      155520000ULL   /* bits per second, an OC-3 line */
#define MCM_MTU             9180
#define MCM_MAX_ADDRESS     64             /* longest called address a call may carry */
#define MCM_DEFAULT_RATE    1000000
#define MCM_MAX_PARTIES     16             /* leaves of one multipoint call */

/* ---- signaling (signaling.c; condis/drivers/signaling.py) ---- */

#define SIGNALING_VCI   5
#define FIRST_DATA_VCI  32

typedef enum _SIG_KIND {
    MsgSetup, MsgCallProceeding, MsgConnect, MsgConnectAck, MsgRelease, MsgReleaseComplete,
    MsgAddParty, MsgDropParty, MsgRestart, MsgKinds
} SIG_KIND;

#define CAUSE_NORMAL        16
#define CAUSE_REJECTED      21
#define CAUSE_NO_ROUTE      3
#define CAUSE_OUT_OF_ORDER  27
#define CAUSE_RESOURCES     47
#define CAUSE_BAD_REFERENCE 81
#define CAUSE_TIMER         102

/* One message, decoded. On the wire: kind (1 byte), mine (1), reference (4), VCI (4), cause (2),
   endpoint (4), rate (8, signed), all big-endian, then the called address to the end. */
typedef struct _SIG_MESSAGE {
    SIG_KIND Kind;
    BOOLEAN Mine;              /* the sender placed this call */
    ULONG Ref;
    ULONG Vci;
    USHORT Cause;
    ULONG Endpoint;
    LONGLONG Rate;
    ULONG AddressLength;
    UCHAR Address[MCM_MAX_ADDRESS];
} SIG_MESSAGE, *PSIG_MESSAGE;

#define SIG_HEADER_SIZE 24

/* Retransmission (condis/drivers/callcontrol.py: RETRANSMIT_100NS, TRIES, REMEMBERED). */
#define SIG_RETRANSMIT_100NS (-500)
#define SIG_TRIES            3
#define SIG_REMEMBERED       64

/* ---- per-call signaling state (callcontrol.py's module comment has the whole story) ---- */

typedef enum _CALL_STATE {
    CallNull,
    CallInitiated,      /* we sent SETUP, waiting for CONNECT or RELEASE COMPLETE */
    CallPresent,        /* the remote's SETUP is offered to our client */
    CallConnectReq,     /* our client accepted; we sent CONNECT, waiting for CONNECT ACK */
    CallActivating,     /* the remote answered our SETUP; the VC is being activated */
    CallActive,
    CallReleaseReq,     /* we sent RELEASE, waiting for RELEASE COMPLETE */
    CallReleaseInd,     /* the remote released; our client was told, we wait for its close */
    CallClearing        /* our client's request already failed; we wait for RELEASE COMPLETE */
} CALL_STATE;

/* What to do when the VC's activation or deactivation is done (the Python sample's "then"). */
typedef enum _VC_NEXT {
    VcNextNothing,
    VcNextOfferIncomingCall,    /* an incoming call's VC is up: offer the call to the client */
    VcNextCompleteMakeCall,     /* an outgoing call's VC is up: complete the make-call */
    VcNextFailMakeCall,         /* deactivated after a failed make-call: complete it with a failure */
    VcNextCompleteClose,        /* deactivated after our close was confirmed: complete the close */
    VcNextDelete,               /* deactivated after a call: delete the VC if we created it */
    VcNextCompleteQoS,          /* re-activated with new parameters: complete the QoS change */
    VcNextPartyAdded            /* re-activated with a new leaf's VCI: complete the add-party */
} VC_NEXT;

/* Deferred work a VC asks for, run from an NDIS work item at PASSIVE_LEVEL. */
#define VC_LATER_TEARDOWN  0x1
#define VC_LATER_QOS       0x2
#define VC_LATER_REACTIVATE 0x4    /* a leaf left a multipoint call: take its VCI off the VC */

/* The call parameters a VC owns: CO_CALL_PARAMETERS with its two parts and room for their
   variable-length specific parameters (the called address, and the VCI list). */
typedef struct _MCM_CALL_PARAMETERS {
    CO_CALL_PARAMETERS Call;
    union {
        CO_CALL_MANAGER_PARAMETERS Manager;
        UCHAR ManagerSpace[sizeof(CO_CALL_MANAGER_PARAMETERS) + MCM_MAX_ADDRESS];
    };
    union {
        CO_MEDIA_PARAMETERS Media;
        UCHAR MediaSpace[sizeof(CO_MEDIA_PARAMETERS) + MCM_MAX_PARTIES * sizeof(ULONG)];
    };
} MCM_CALL_PARAMETERS, *PMCM_CALL_PARAMETERS;

typedef struct _MCM_ADAPTER MCM_ADAPTER, *PMCM_ADAPTER;
typedef struct _MCM_AF MCM_AF, *PMCM_AF;
typedef struct _MCM_VC MCM_VC, *PMCM_VC;
typedef struct _MCM_PARTY MCM_PARTY, *PMCM_PARTY;

/*
 * One call as signaling knows it: its key on the wire is (reference, placed here, endpoint).
 * A point-to-point call's entry is its VC's; each leaf of a multipoint call we placed has its
 * own, in its MCM_PARTY. The entry keeps the one message of its call the peer has not
 * answered yet.
 */
typedef struct _MCM_ENTRY {
    LIST_ENTRY Link;                /* in the adapter's Calls while signaling knows the call */
    BOOLEAN InCalls;
    PMCM_VC Vc;
    PMCM_PARTY Party;               /* NULL for a VC's own entry */
    ULONG Endpoint;                 /* the leaf reference: 0 for a point-to-point call */
    BOOLEAN Unanswered;
    BOOLEAN Held;                   /* unanswered while the peer is silent: the link is down */
    BOOLEAN Fresh;                  /* sent since the timer last ticked */
    BOOLEAN GiveUp;                 /* marked by the timer (or a RESTART) to be cleared */
    ULONG Sent;
    ULONG HeardWhenSent;
    SIG_MESSAGE Waiting;
} MCM_ENTRY, *PMCM_ENTRY;

typedef struct _MCM_SAP {
    LIST_ENTRY Link;                /* in the AF's Saps */
    PMCM_AF Af;
    NDIS_HANDLE NdisSapHandle;
    ULONG AddressLength;
    UCHAR Address[MCM_MAX_ADDRESS];
} MCM_SAP, *PMCM_SAP;

struct _MCM_AF {
    LIST_ENTRY Link;                /* in the adapter's Afs */
    PMCM_ADAPTER Adapter;
    NDIS_HANDLE NdisAfHandle;
    LIST_ENTRY Saps;
};

struct _MCM_VC {
    LONG RefCount;
    PMCM_ADAPTER Adapter;
    NDIS_HANDLE NdisVcHandle;       /* NULL once NDIS deleted the VC */
    BOOLEAN CreatedByUs;            /* an incoming call's VC: we delete it */

    /* the call */
    MCM_ENTRY Entry;                /* a point-to-point call's (or an incoming leaf's) */
    ULONG Ref;
    BOOLEAN PlacedHere;
    CALL_STATE State;
    ULONG Vci;
    BOOLEAN RemoteReleased;         /* the remote released while we could not tell the client yet */
    USHORT ReleaseCause;
    BOOLEAN Proceeding;             /* we told the caller CALL PROCEEDING: its client is deciding */
    PMCM_SAP Sap;                   /* an incoming call's SAP, until the call is offered */
    MCM_CALL_PARAMETERS Params;
    PMCM_CALL_PARAMETERS PreviousParams;   /* during a QoS change: what to go back to */

    /* a multipoint call we placed: its leaves */
    LIST_ENTRY Parties;
    ULONG PartyCount;
    PMCM_PARTY ClosingParty;        /* the last leaf, closed with the call */

    /* activation and the NIC */
    VC_NEXT Next;                   /* what the pending (de)activation leads to */
    NDIS_STATUS NextStatus;         /* for VcNextFailMakeCall: the status to fail with */
    PMCM_PARTY NextParty;           /* the leaf the pending activation is for */
    LIST_ENTRY MappedLink;          /* in the adapter's Mapped while the NIC delivers its VCIs */
    BOOLEAN Mapped;
    ULONG MappedCount;
    ULONG MappedVcis[MCM_MAX_PARTIES];

    /* work for a work item */
    ULONG Later;                    /* VC_LATER_* bits */
    BOOLEAN LaterQueued;
    BOOLEAN InDeferred;
    LIST_ENTRY DeferredLink;        /* in the adapter's Deferred when no work item was to be had */
};

/* CallMgrPartyContext: one leaf of a multipoint call we placed. Reference counted: one while
   NDIS knows the party, one while it is a leaf of the call, one while signaling knows it. */
struct _MCM_PARTY {
    LONG RefCount;
    LIST_ENTRY Link;                /* in the VC's Parties while it is a leaf of the call */
    BOOLEAN InParties;
    BOOLEAN NdisKnows;              /* until the add-party, drop-party or close that ends it completes */
    MCM_ENTRY Entry;
    NDIS_HANDLE NdisPartyHandle;
    ULONG Vci;
    CALL_STATE State;
    BOOLEAN RemoteReleased;
    BOOLEAN HasHeldClose;           /* a release held until the other leaves are dropped */
    USHORT HeldCause;
    MCM_CALL_PARAMETERS Params;     /* an added leaf's (the first leaf's are the call's) */
};

/* A cleared call the peer placed, remembered so that its late SETUP is not taken for a new one. */
typedef struct _MCM_CLEARED {
    ULONG Ref;
    ULONG Endpoint;
} MCM_CLEARED;

struct _MCM_ADAPTER {
    NDIS_HANDLE MiniportAdapterHandle;
    PVOID WirePort;
    BOOLEAN OddVcis;

    /* call control (signaling.c, callmgr.c) */
    LIST_ENTRY Afs;
    LIST_ENTRY Calls;
    ULONG NextVci;
    ULONG NextRef;
    ULONG NextEndpoint;             /* the next leaf reference of a multipoint call we place */
    NDIS_HANDLE RetransmitTimer;
    BOOLEAN RetransmitArmed;
    ULONG Heard;                    /* messages received from the peer */
    BOOLEAN PeerGone;               /* the peer said RESTART and has said nothing since */
    LIST_ENTRY Deferred;            /* VCs whose work found no work item */
    LONG QueuedWorkItems;           /* queued and not yet run: none may be left at halt */
    MCM_CLEARED Cleared[SIG_REMEMBERED];
    ULONG ClearedCount;
    ULONG ClearedNext;

    /* the NIC (datapath.c) */
    NDIS_HANDLE ReceivePool;
    NDIS_HANDLE TransmitDoneTimer;
    BOOLEAN TransmitDoneArmed;
    NDIS_SPIN_LOCK TransmitLock;
    PNET_BUFFER_LIST TransmitDoneHead;
    PNET_BUFFER_LIST TransmitDoneTail;
    LIST_ENTRY Mapped;
    ULONG Dropped;                  /* cells lost: no VC for their VCI, or no receive buffer */
    UCHAR TransmitBuffer[MCM_MTU];
};

/* The VC an NBL was sent on, while it waits for its transmit-done (MiniportReserved is ours). */
#define MCM_NBL_VC(Nbl) (*(PMCM_VC *)&(Nbl)->MiniportReserved[0])

PVOID McmAllocate(NDIS_HANDLE NdisHandle, ULONG Length);
VOID McmFree(PVOID Memory);
