/* Pointer types the callback prototypes name before their structures are declared. */
#pragma once

typedef struct _DRIVER_OBJECT DRIVER_OBJECT, *PDRIVER_OBJECT;
typedef struct _NDIS_MINIPORT_INIT_PARAMETERS *PNDIS_MINIPORT_INIT_PARAMETERS;
typedef struct _NDIS_MINIPORT_PAUSE_PARAMETERS *PNDIS_MINIPORT_PAUSE_PARAMETERS;
typedef struct _NDIS_MINIPORT_RESTART_PARAMETERS *PNDIS_MINIPORT_RESTART_PARAMETERS;
typedef struct _NDIS_BIND_PARAMETERS *PNDIS_BIND_PARAMETERS;
typedef struct _NDIS_OPEN_PARAMETERS *PNDIS_OPEN_PARAMETERS;
typedef struct _NDIS_OID_REQUEST *PNDIS_OID_REQUEST;
typedef struct _NDIS_STATUS_INDICATION *PNDIS_STATUS_INDICATION;
typedef struct _NET_PNP_EVENT_NOTIFICATION *PNET_PNP_EVENT_NOTIFICATION;

/* Kernel I/O work items (wdm.h): how a protocol driver reaches PASSIVE_LEVEL, since NDIS work
   items are for miniport drivers. The driver allocates IoSizeofWorkItem() bytes for each. */
typedef struct _IO_WORKITEM *PIO_WORKITEM;
typedef enum _WORK_QUEUE_TYPE {
    CriticalWorkQueue, DelayedWorkQueue, HyperCriticalWorkQueue
} WORK_QUEUE_TYPE;
