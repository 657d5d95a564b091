/* Base types with Windows' widths on 64-bit Linux (LP64: a C long is 64 bits there, so ULONG
   and LONG are int-sized), SAL annotations, calling conventions and IRQL. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* SAL annotations, IN/OUT/OPTIONAL and calling conventions document; they compile to nothing. */
#define _In_
#define _In_opt_
#define _Out_
#define _Out_opt_
#define _Inout_
#define _Inout_opt_
#define _In_reads_(n)
#define _In_reads_bytes_(n)
#define _Out_writes_(n)
#define _Out_writes_bytes_(n)
#define _Out_writes_bytes_to_(n, m)
#define _Inout_updates_bytes_(n)
#define _Field_size_bytes_(n)
#define _Must_inspect_result_
#define _Use_decl_annotations_
#define _Success_(expr)
#define _When_(expr, annotation)
#define _IRQL_requires_(irql)
#define _IRQL_requires_max_(irql)
#define _IRQL_requires_min_(irql)
#define _IRQL_raises_(irql)
#define _IRQL_saves_
#define _IRQL_restores_
#define _IRQL_saves_global_(kind, param)
#define _IRQL_restores_global_(kind, param)
#define _IRQL_requires_same_
#define _Function_class_(name)
#define _Acquires_lock_(lock)
#define _Releases_lock_(lock)
#define _Requires_lock_held_(lock)
#define _Analysis_assume_(expr)
#define _Printf_format_string_
#define __drv_aliasesMem
#define __drv_freesMem(kind)
#define __drv_allocatesMem(kind)
#define IN
#define OUT
#define OPTIONAL
#define CONST const
#define NTAPI
#define WINAPI
#define STDCALL
#define __stdcall
#define __cdecl
#define FASTCALL
#define EXPORT
#define DECLSPEC_ALIGN(n)
#define POINTER_ALIGNMENT
#define UNALIGNED
#define FORCEINLINE static inline __attribute__((always_inline))
#define NDIS_EXPORT

typedef void VOID, *PVOID;
typedef char CHAR, *PCHAR;
typedef const char *PCSTR;
typedef unsigned char UCHAR, *PUCHAR;
typedef short SHORT, CSHORT, *PSHORT;
typedef unsigned short USHORT, *PUSHORT;
typedef int INT, *PINT;
typedef unsigned int UINT, *PUINT;
typedef int32_t LONG, *PLONG;
typedef uint32_t ULONG, *PULONG;
typedef int64_t LONGLONG, LONG64, *PLONG64;
typedef uint64_t ULONGLONG, ULONG64, *PULONG64;
typedef intptr_t LONG_PTR;
typedef uintptr_t ULONG_PTR, *PULONG_PTR;
typedef uintptr_t SIZE_T, *PSIZE_T;
typedef unsigned char BOOLEAN, *PBOOLEAN;
typedef uint16_t WCHAR, *PWCHAR, *PWSTR;
typedef const uint16_t *PCWSTR;
typedef int32_t NTSTATUS;

#define TRUE  1
#define FALSE 0
#ifndef NULL
#define NULL ((void *)0)
#endif
#define STATUS_SUCCESS ((NTSTATUS)0x00000000L)
#define STATUS_UNSUCCESSFUL ((NTSTATUS)0xC0000001L)
#define NT_SUCCESS(Status) (((NTSTATUS)(Status)) >= 0)

typedef union _LARGE_INTEGER {
    struct {
        ULONG LowPart;
        LONG HighPart;
    };
    LONGLONG QuadPart;
} LARGE_INTEGER, *PLARGE_INTEGER;

typedef LARGE_INTEGER NDIS_PHYSICAL_ADDRESS, *PNDIS_PHYSICAL_ADDRESS;

typedef struct _GUID {
    ULONG Data1;
    USHORT Data2;
    USHORT Data3;
    UCHAR Data4[8];
} GUID;

/* UNICODE_STRING (NDIS_STRING): lengths in bytes, not counting a terminator. */
typedef struct _UNICODE_STRING {
    USHORT Length;
    USHORT MaximumLength;
    PWSTR Buffer;
} UNICODE_STRING, *PUNICODE_STRING, NDIS_STRING, *PNDIS_STRING;

typedef struct _VAR_STRING {
    ULONG ulTotalSize;
    ULONG ulNeededSize;
    ULONG ulUsedSize;
    ULONG ulStringFormat;
    ULONG ulStringSize;
    ULONG ulStringOffset;
} VAR_STRING, *PVAR_STRING;

typedef struct _LIST_ENTRY {
    struct _LIST_ENTRY *Flink;
    struct _LIST_ENTRY *Blink;
} LIST_ENTRY, *PLIST_ENTRY;

/* The pack's structures carry an SLIST link beside their data; condis never uses it. */
typedef union _SLIST_HEADER {
    ULONGLONG Alignment[2];
} SLIST_HEADER, *PSLIST_HEADER;

typedef UCHAR KIRQL, *PKIRQL;
#define PASSIVE_LEVEL  0
#define APC_LEVEL      1
#define DISPATCH_LEVEL 2
/* A device IRQL, above DISPATCH_LEVEL, as KeGetCurrentIrql reports it inside condis's interrupts. */
#define DIRQL_LEVEL    3

typedef PVOID NDIS_HANDLE, *PNDIS_HANDLE;
typedef LONG NDIS_STATUS, *PNDIS_STATUS;
typedef ULONG NDIS_OID, *PNDIS_OID;
typedef ULONG NDIS_PORT_NUMBER, *PNDIS_PORT_NUMBER;
typedef ULONG NDIS_AF, *PNDIS_AF;
typedef ULONG SERVICETYPE;
typedef ULONG NET_IFINDEX;
typedef USHORT NET_IFTYPE;
typedef ULONG NET_IF_COMPARTMENT_ID;
typedef USHORT NET_FRAME_TYPE, *PNET_FRAME_TYPE;
typedef union _NET_LUID {
    ULONG64 Value;
} NET_LUID, *PNET_LUID;

typedef enum _NDIS_MEDIUM {
    NdisMedium802_3, NdisMedium802_5, NdisMediumFddi, NdisMediumWan, NdisMediumLocalTalk,
    NdisMediumDix, NdisMediumArcnetRaw, NdisMediumArcnet878_2, NdisMediumAtm, NdisMediumWirelessWan,
    NdisMediumIrda, NdisMediumBpc, NdisMediumCoWan, NdisMedium1394, NdisMediumInfiniBand,
    NdisMediumTunnel, NdisMediumNative802_11, NdisMediumLoopback, NdisMediumWiMAX, NdisMediumIP,
    NdisMediumMax
} NDIS_MEDIUM, *PNDIS_MEDIUM;

typedef ULONG NDIS_PHYSICAL_MEDIUM;
typedef ULONG NDIS_MEDIA_CONNECT_STATE;
typedef ULONG NDIS_MEDIA_DUPLEX_STATE;
typedef ULONG NET_IF_ACCESS_TYPE;
typedef ULONG NET_IF_DIRECTION_TYPE;
typedef ULONG NET_IF_CONNECTION_TYPE;
typedef ULONG NDIS_INTERFACE_TYPE;
typedef ULONG NDIS_REQUEST_TYPE;
typedef ULONG EX_POOL_PRIORITY;

#define MediaConnectStateUnknown      0
#define MediaConnectStateConnected    1
#define MediaConnectStateDisconnected 2

/* NDIS_REQUEST_TYPE */
#define NdisRequestQueryInformation 0
#define NdisRequestSetInformation   1
#define NdisRequestQueryStatistics  2
#define NdisRequestMethod           12

/* EX_POOL_PRIORITY, for NdisAllocateMemoryWithTagPriority (wdm.h values) */
#define LowPoolPriority    0
#define NormalPoolPriority 16
#define HighPoolPriority   32

typedef enum _NDIS_HALT_ACTION {
    NdisHaltDeviceDisabled, NdisHaltDeviceInstanceDeInitialized, NdisHaltDevicePoweredDown,
    NdisHaltDeviceSurpriseRemoved, NdisHaltDeviceFailed, NdisHaltDeviceInitializationFailed,
    NdisHaltDeviceStopped
} NDIS_HALT_ACTION;

typedef enum _NDIS_SHUTDOWN_ACTION {
    NdisShutdownPowerOff, NdisShutdownBugCheck
} NDIS_SHUTDOWN_ACTION;

/* Objects a CoNDIS driver only passes along; condis never dereferences them. */
typedef struct _DEVICE_OBJECT *PDEVICE_OBJECT;
typedef struct _DRIVER_EXTENSION *PDRIVER_EXTENSION;
typedef struct _FAST_IO_DISPATCH *PFAST_IO_DISPATCH;
typedef struct _EPROCESS *PEPROCESS;
typedef struct _NDIS_PNP_CAPABILITIES *PNDIS_PNP_CAPABILITIES;
typedef struct _NDIS_PM_CAPABILITIES *PNDIS_PM_CAPABILITIES;
typedef struct _NDIS_RECEIVE_SCALE_CAPABILITIES *PNDIS_RECEIVE_SCALE_CAPABILITIES;
typedef struct _NDIS_RESOURCE_LIST *PNDIS_RESOURCE_LIST;
typedef struct _NDIS_PORT_AUTHENTICATION_PARAMETERS *PNDIS_PORT_AUTHENTICATION_PARAMETERS;
typedef struct _NDIS_PCI_DEVICE_CUSTOM_PROPERTIES *PNDIS_PCI_DEVICE_CUSTOM_PROPERTIES;
typedef struct _NDIS_PORT *PNDIS_PORT;
typedef struct _NDIS_OFFLOAD *PNDIS_OFFLOAD;
typedef struct _NDIS_TCP_CONNECTION_OFFLOAD *PNDIS_TCP_CONNECTION_OFFLOAD;
typedef struct _NDIS_HD_SPLIT_CURRENT_CONFIG *PNDIS_HD_SPLIT_CURRENT_CONFIG;
typedef struct _NDIS_RECEIVE_FILTER_CAPABILITIES *PNDIS_RECEIVE_FILTER_CAPABILITIES;
typedef struct _NDIS_NIC_SWITCH_CAPABILITIES *PNDIS_NIC_SWITCH_CAPABILITIES;
typedef struct _NDIS_NDK_CAPABILITIES *PNDIS_NDK_CAPABILITIES;
typedef struct _NDIS_SRIOV_CAPABILITIES *PNDIS_SRIOV_CAPABILITIES;
typedef struct _NDIS_NIC_SWITCH_INFO_ARRAY *PNDIS_NIC_SWITCH_INFO_ARRAY;
typedef struct _NET_BUFFER_SHARED_MEMORY *PNET_BUFFER_SHARED_MEMORY;
typedef struct _SCATTER_GATHER_LIST *PSCATTER_GATHER_LIST;
typedef struct _NET_DEVICE_PNP_EVENT *PNET_DEVICE_PNP_EVENT;
typedef struct _NDIS_RESTART_ATTRIBUTES *PNDIS_RESTART_ATTRIBUTES;

#define NDIS_MAX_PHYS_ADDRESS_LENGTH 32
#define NDIS_OID_REQUEST_NDIS_RESERVED_SIZE 16
#define IRP_MJ_MAXIMUM_FUNCTION 0x1b
