/*
 * atmclient.h - what every file of the sample CoNDIS client shares: its contexts and constants.
 *
 * The sample client (condis/drivers/client.py in C) binds to ATM adapters, opens the Q.2931 AF
 * when a call manager registers it, registers its SAP (the address in its "Sap" parameter),
 * answers incoming calls, places calls (point-to-point or multipoint), adds and drops the leaves
 * of its multipoint calls, sends and receives data, closes calls, and closes its AF at unbind or
 * when the call manager asks it to.
 *
 * Who owns what:
 *   CLIENT_DRIVER   the driver's one global block: its protocol handle, its bindings, the
 *                   application's view of its last calls. Everything per adapter hangs off a
 *                   CLIENT_BINDING, so a second adapter has its own of everything.
 *   CLIENT_BINDING  ProtocolBindingContext.
 *   CLIENT_AF       ProtocolAfContext (ClientAfContext).
 *   CLIENT_SAP      ProtocolSapContext.
 *   CLIENT_CALL     ProtocolVcContext: one VC and the call on it. It is freed once its VC is
 *                   deleted and the application's history (app.c) no longer lists it.
 *   CLIENT_PARTY    ProtocolPartyContext: one leaf of a multipoint call; freed with its call.
 *
 * Every handler of this client runs in condis's simulation one at a time per host; the
 * driver-wide history is only touched at PASSIVE_LEVEL or from handlers NDIS serializes.
 */
#pragma once

#include <ndis.h>

#define ATMCLIENT_TAG NDIS_TAG('A', 'c', 'l', 't')

#define CLIENT_MAX_ADDRESS   64
#define CLIENT_MTU           9180
#define CLIENT_DEFAULT_RATE  1000000
#define CLIENT_RETRY_100NS   (-1000)   /* 100 us before trying NdisCoDeleteVc again */
#define CLIENT_RETRIES       50        /* then give up: the call manager never deactivated the VC */
#define CLIENT_HISTORY       64        /* calls the application can still look at */
#define CLIENT_KEPT_RECEIVES 8         /* received payloads a call keeps for the application */
#define CLIENT_KEPT_BYTES    256       /* of each */

/* Call states, as the application sees them (client.py's MAKING ... FAILED, in that order). */
typedef enum _CLIENT_CALL_STATE {
    ClientCallMaking, ClientCallOffered, ClientCallAccepted, ClientCallUp, ClientCallClosing,
    ClientCallClosed, ClientCallFailed
} CLIENT_CALL_STATE;

typedef enum _CLIENT_NOTIFY {
    ClientNotifyNone,       /* the call manager has not asked us to close the AF */
    ClientNotifyInHandler,  /* inside ProtocolClNotifyCloseAf */
    ClientNotifyPending,    /* ProtocolClNotifyCloseAf returned NDIS_STATUS_PENDING */
} CLIENT_NOTIFY;

/* Call parameters a call owns (the called address, the rate, the VCI list the call manager fills). */
typedef struct _CLIENT_CALL_PARAMETERS {
    CO_CALL_PARAMETERS Call;
    union {
        CO_CALL_MANAGER_PARAMETERS Manager;
        UCHAR ManagerSpace[sizeof(CO_CALL_MANAGER_PARAMETERS) + CLIENT_MAX_ADDRESS];
    };
    union {
        CO_MEDIA_PARAMETERS Media;
        UCHAR MediaSpace[sizeof(CO_MEDIA_PARAMETERS) + 16 * sizeof(ULONG)];
    };
} CLIENT_CALL_PARAMETERS, *PCLIENT_CALL_PARAMETERS;

typedef struct _CLIENT_BINDING CLIENT_BINDING, *PCLIENT_BINDING;
typedef struct _CLIENT_AF CLIENT_AF, *PCLIENT_AF;

typedef struct _CLIENT_SAP {
    LIST_ENTRY Link;                /* in the AF's Saps */
    PCLIENT_AF Af;
    NDIS_HANDLE NdisSapHandle;
    BOOLEAN Registered;
    BOOLEAN Deregistering;
} CLIENT_SAP, *PCLIENT_SAP;

struct _CLIENT_AF {
    LIST_ENTRY Link;                /* in the binding's Afs */
    PCLIENT_BINDING Binding;
    NDIS_HANDLE NdisAfHandle;
    BOOLEAN Open;
    BOOLEAN Closing;
    CLIENT_NOTIFY Notify;
    BOOLEAN InProgress;             /* ClientAfProgress is running: a nested call only asks again */
    BOOLEAN ProgressAgain;
    LIST_ENTRY Saps;
    LIST_ENTRY Calls;
};

typedef enum _CLIENT_UNBIND {
    ClientUnbindNone, ClientUnbindInHandler, ClientUnbindPending
} CLIENT_UNBIND;

struct _CLIENT_BINDING {
    LIST_ENTRY Link;                /* in the driver's Bindings */
    NDIS_HANDLE NdisBindingHandle;
    NDIS_HANDLE BindContext;        /* while an open of the adapter is pending */
    NDIS_HANDLE UnbindContext;
    CLIENT_UNBIND Unbind;
    NDIS_HANDLE Pool;
    PIO_WORKITEM UnbindWorkItem;    /* allocated at bind, so that finishing an unbind never lacks one */
    LIST_ENTRY Afs;
    ULONG SapLength;                /* this adapter's address, from the "Sap" parameter */
    UCHAR Sap[CLIENT_MAX_ADDRESS];
};

typedef struct _CLIENT_CALL CLIENT_CALL, *PCLIENT_CALL;

typedef struct _CLIENT_PARTY {
    LIST_ENTRY Link;                /* in the call's Parties while a leaf, then in its Gone */
    PCLIENT_CALL Call;
    NDIS_HANDLE NdisPartyHandle;
    CLIENT_CALL_STATE State;        /* Making, Up, Closing, Closed or Failed */
    CLIENT_CALL_PARAMETERS Params;
} CLIENT_PARTY, *PCLIENT_PARTY;

struct _CLIENT_CALL {
    LIST_ENTRY Link;                /* in the AF's Calls until the VC is deleted */
    PCLIENT_AF Af;
    BOOLEAN Outgoing;               /* we created the VC */
    NDIS_HANDLE NdisVcHandle;
    CLIENT_CALL_STATE State;
    NDIS_STATUS Status;             /* of the last make-call or close */
    NDIS_STATUS QoSStatus;          /* of the last QoS change */
    BOOLEAN Deleted;
    BOOLEAN InHistory;
    BOOLEAN InIncoming;
    ULONG Sent;
    ULONG SendCompleted;
    ULONG Received;
    ULONG KeptLength[CLIENT_KEPT_RECEIVES];
    UCHAR Kept[CLIENT_KEPT_RECEIVES][CLIENT_KEPT_BYTES];
    NDIS_HANDLE RetryTimer;
    ULONG Retries;
    CLIENT_CALL_PARAMETERS Params;
    CLIENT_CALL_PARAMETERS QoSParams;
    LIST_ENTRY Parties;             /* a multipoint call's leaves */
    ULONG PartyCount;
    LIST_ENTRY Gone;                /* leaves dropped, refused or closed with the call */
    BOOLEAN CloseWaits;             /* closing a multipoint call: waiting for its other leaves to go */
};

typedef struct _CLIENT_DRIVER {
    NDIS_HANDLE ProtocolHandle;
    PDRIVER_OBJECT DriverObject;    /* what kernel work items are initialized with */
    LIST_ENTRY Bindings;
    NDIS_STATUS Answer;             /* how incoming calls are answered (app.c) */
    PCLIENT_CALL History[CLIENT_HISTORY];   /* every call, placed or offered, oldest first */
    ULONG HistoryCount;
    PCLIENT_CALL Incoming[CLIENT_HISTORY];  /* the offered ones */
    ULONG IncomingCount;
} CLIENT_DRIVER, *PCLIENT_DRIVER;

extern CLIENT_DRIVER ClientDriver;

PVOID ClientAllocate(NDIS_HANDLE NdisHandle, ULONG Length);
VOID ClientFree(PVOID Memory);
PIO_WORKITEM ClientAllocateWorkItem(NDIS_HANDLE NdisHandle);
VOID ClientFreeWorkItem(PIO_WORKITEM Item);
