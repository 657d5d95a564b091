/* What the generated structures leave out: DRIVER_OBJECT, spin locks, timer objects, PnP
   events, pause and restart parameters, and the unions NdisSetOptionalHandlers and
   NdisMSetMiniportAttributes take (each member opens with an NDIS_OBJECT_HEADER whose Type says
   which it is). */
#pragma once

typedef NTSTATUS (DRIVER_DISPATCH)(PDEVICE_OBJECT DeviceObject, PVOID Irp);
typedef DRIVER_DISPATCH *PDRIVER_DISPATCH;
typedef VOID (DRIVER_STARTIO)(PDEVICE_OBJECT DeviceObject, PVOID Irp);
typedef DRIVER_STARTIO *PDRIVER_STARTIO;

/* support/ns-wdm-_driver_object: NDIS drivers use DriverUnload only. */
struct _DRIVER_OBJECT {
    CSHORT Type;
    CSHORT Size;
    PDEVICE_OBJECT DeviceObject;
    ULONG Flags;
    PVOID DriverStart;
    ULONG DriverSize;
    PVOID DriverSection;
    PDRIVER_EXTENSION DriverExtension;
    UNICODE_STRING DriverName;
    PUNICODE_STRING HardwareDatabase;
    PFAST_IO_DISPATCH FastIoDispatch;
    PDRIVER_INITIALIZE DriverInit;
    PDRIVER_STARTIO DriverStartIo;
    PDRIVER_UNLOAD DriverUnload;
    PDRIVER_DISPATCH MajorFunction[IRP_MJ_MAXIMUM_FUNCTION + 1];
};

/* ndis.h: a spin lock and the IRQL its holder came from. */
typedef ULONG_PTR KSPIN_LOCK;
typedef struct _NDIS_SPIN_LOCK {
    KSPIN_LOCK SpinLock;
    KIRQL OldIrql;
} NDIS_SPIN_LOCK, *PNDIS_SPIN_LOCK;

typedef NDIS_TIMER_FUNCTION *PNDIS_TIMER_FUNCTION;
typedef struct _NDIS_TIMER_CHARACTERISTICS {
    NDIS_OBJECT_HEADER Header;
    ULONG AllocationTag;
    PNDIS_TIMER_FUNCTION TimerFunction;
    PVOID FunctionContext;
} NDIS_TIMER_CHARACTERISTICS, *PNDIS_TIMER_CHARACTERISTICS;

typedef NDIS_IO_WORKITEM_FUNCTION *NDIS_IO_WORKITEM_ROUTINE;

typedef ULONG NET_PNP_EVENT_CODE;
#define NetEventSetPower           0
#define NetEventQueryPower         1
#define NetEventQueryRemoveDevice  2
#define NetEventCancelRemoveDevice 3
#define NetEventReconfigure        4
#define NetEventBindList           5
#define NetEventBindsComplete      6
#define NetEventPnPCapabilities    7
#define NetEventPause              8
#define NetEventRestart            9
#define NetEventPortActivation     10
#define NetEventPortDeactivation   11
#define NetEventIMReEnableDevice   12

typedef struct _NET_PNP_EVENT {
    NET_PNP_EVENT_CODE NetEvent;
    PVOID Buffer;
    ULONG BufferLength;
    ULONG_PTR NdisReserved[4];
    ULONG_PTR TransportReserved[4];
    ULONG_PTR TdiReserved[4];
    ULONG_PTR TdiClientReserved[4];
} NET_PNP_EVENT, *PNET_PNP_EVENT;

typedef struct _NET_PNP_EVENT_NOTIFICATION {
    NDIS_OBJECT_HEADER Header;
    NDIS_PORT_NUMBER PortNumber;
    NET_PNP_EVENT NetPnPEvent;
} NET_PNP_EVENT_NOTIFICATION;

typedef struct _NDIS_MINIPORT_PAUSE_PARAMETERS {
    NDIS_OBJECT_HEADER Header;
    ULONG Flags;
    ULONG PauseReason;
} NDIS_MINIPORT_PAUSE_PARAMETERS;

typedef struct _NDIS_MINIPORT_RESTART_PARAMETERS {
    NDIS_OBJECT_HEADER Header;
    PNDIS_RESTART_ATTRIBUTES RestartAttributes;
    NET_IFINDEX BoundIfIndex;
    NET_LUID BoundIfNetluid;
    ULONG Flags;
} NDIS_MINIPORT_RESTART_PARAMETERS;

/* NdisSetOptionalHandlers: one of the CoNDIS tables, told apart by Header.Type. */
typedef union _NDIS_DRIVER_OPTIONAL_HANDLERS {
    NDIS_OBJECT_HEADER Header;
    NDIS_PROTOCOL_CO_CHARACTERISTICS ProtocolCoCharacteristics;
    NDIS_MINIPORT_CO_CHARACTERISTICS MiniportCoCharacteristics;
    NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS CallManagerCharacteristics;
    NDIS_CO_CLIENT_OPTIONAL_HANDLERS ClientCharacteristics;
} NDIS_DRIVER_OPTIONAL_HANDLERS, *PNDIS_DRIVER_OPTIONAL_HANDLERS;

/* NdisMSetMiniportAttributes: registration or general attributes, told apart by Header.Type. */
typedef union _NDIS_MINIPORT_ADAPTER_ATTRIBUTES {
    NDIS_OBJECT_HEADER Header;
    NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES RegistrationAttributes;
    NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES GeneralAttributes;
} NDIS_MINIPORT_ADAPTER_ATTRIBUTES, *PNDIS_MINIPORT_ADAPTER_ATTRIBUTES;

#define NDIS_MINIPORT_ATTRIBUTES_HARDWARE_DEVICE 0x00000001
#define NDIS_MINIPORT_ATTRIBUTES_NDIS_WDM        0x00000002
#define NdisInterfaceInternal 0
#define NdisInterfacePci      5
