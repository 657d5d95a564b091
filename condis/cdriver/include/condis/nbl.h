/* MDL, NET_BUFFER and NET_BUFFER_LIST, and the accessors drivers use to walk them
   (support/: ns-wdm-_mdl, ns-nbl-_net_buffer, ns-nbl-_net_buffer_list and the NET_BUFFER_* macro
   pages). The linked fields sit in anonymous unions, so NET_BUFFER_LIST_NEXT_NBL(nbl) is
   nbl->Next, as the accessor pages define them, and nbl->NetBufferListHeader.NetBufferListData.Next
   names the same field. */
#pragma once

typedef struct _MDL {
    struct _MDL *Next;
    CSHORT Size;
    CSHORT MdlFlags;
    struct _EPROCESS *Process;
    PVOID MappedSystemVa;
    PVOID StartVa;
    ULONG ByteCount;
    ULONG ByteOffset;
} MDL, *PMDL;

#define MmGetMdlByteCount(Mdl) ((Mdl)->ByteCount)
#define MmGetSystemAddressForMdlSafe(Mdl, Priority) ((Mdl)->MappedSystemVa)
#define NDIS_MDL_LINKAGE(Mdl) ((Mdl)->Next)
#define NdisGetNextMdl(Mdl, NextMdl) (*(NextMdl) = (Mdl)->Next)

typedef struct _NET_BUFFER NET_BUFFER, *PNET_BUFFER;
typedef struct _NET_BUFFER_LIST NET_BUFFER_LIST, *PNET_BUFFER_LIST;
typedef struct _NET_BUFFER_LIST_CONTEXT NET_BUFFER_LIST_CONTEXT, *PNET_BUFFER_LIST_CONTEXT;

typedef union _NET_BUFFER_DATA_LENGTH {
    ULONG DataLength;
    SIZE_T stDataLength;
} NET_BUFFER_DATA_LENGTH;

typedef struct _NET_BUFFER_DATA {
    PNET_BUFFER Next;
    PMDL CurrentMdl;
    ULONG CurrentMdlOffset;
    NET_BUFFER_DATA_LENGTH NbDataLength;
    PMDL MdlChain;
    ULONG DataOffset;
} NET_BUFFER_DATA, *PNET_BUFFER_DATA;

typedef union _NET_BUFFER_HEADER {
    NET_BUFFER_DATA NetBufferData;
    SLIST_HEADER Link;
} NET_BUFFER_HEADER, *PNET_BUFFER_HEADER;

struct _NET_BUFFER {
    union {
        struct {
            PNET_BUFFER Next;
            PMDL CurrentMdl;
            ULONG CurrentMdlOffset;
            union {
                ULONG DataLength;
                SIZE_T stDataLength;
            };
            PMDL MdlChain;
            ULONG DataOffset;
        };
        NET_BUFFER_HEADER NetBufferHeader;
    };
    USHORT ChecksumBias;
    USHORT Reserved;
    NDIS_HANDLE NdisPoolHandle;
    PVOID NdisReserved[2];
    PVOID ProtocolReserved[6];
    PVOID MiniportReserved[4];
    NDIS_PHYSICAL_ADDRESS DataPhysicalAddress;
    union {
        PNET_BUFFER_SHARED_MEMORY SharedMemoryInfo;
        PSCATTER_GATHER_LIST ScatterGatherList;
    };
};

struct _NET_BUFFER_LIST_CONTEXT {
    PNET_BUFFER_LIST_CONTEXT Next;
    USHORT Size;
    USHORT Offset;
    UCHAR ContextData[];
};

typedef struct _NET_BUFFER_LIST_DATA {
    PNET_BUFFER_LIST Next;
    PNET_BUFFER FirstNetBuffer;
} NET_BUFFER_LIST_DATA, *PNET_BUFFER_LIST_DATA;

typedef union _NET_BUFFER_LIST_HEADER {
    NET_BUFFER_LIST_DATA NetBufferListData;
    SLIST_HEADER Link;
} NET_BUFFER_LIST_HEADER, *PNET_BUFFER_LIST_HEADER;

/* The per-packet information slots (NET_BUFFER_LIST_INFO); condis keeps but never reads them. */
#define MaxNetBufferListInfo 20

struct _NET_BUFFER_LIST {
    union {
        struct {
            PNET_BUFFER_LIST Next;
            PNET_BUFFER FirstNetBuffer;
        };
        NET_BUFFER_LIST_HEADER NetBufferListHeader;
    };
    PNET_BUFFER_LIST_CONTEXT Context;
    PNET_BUFFER_LIST ParentNetBufferList;
    NDIS_HANDLE NdisPoolHandle;
    PVOID NdisReserved[2];
    PVOID ProtocolReserved[4];
    PVOID MiniportReserved[2];
    PVOID Scratch;
    NDIS_HANDLE SourceHandle;
    ULONG NblFlags;
    LONG ChildRefCount;
    ULONG Flags;
    NDIS_STATUS Status;
    PVOID NetBufferListInfo[MaxNetBufferListInfo];
};

typedef struct _NET_BUFFER_LIST_POOL_PARAMETERS {
    NDIS_OBJECT_HEADER Header;
    UCHAR ProtocolId;
    BOOLEAN fAllocateNetBuffer;
    USHORT ContextSize;
    ULONG PoolTag;
    ULONG DataSize;
} NET_BUFFER_LIST_POOL_PARAMETERS, *PNET_BUFFER_LIST_POOL_PARAMETERS;

#define NDIS_PROTOCOL_ID_DEFAULT 0x00

#define NET_BUFFER_LIST_NEXT_NBL(_NBL)       ((_NBL)->Next)
#define NET_BUFFER_LIST_FIRST_NB(_NBL)       ((_NBL)->FirstNetBuffer)
#define NET_BUFFER_LIST_STATUS(_NBL)         ((_NBL)->Status)
#define NET_BUFFER_LIST_FLAGS(_NBL)          ((_NBL)->Flags)
#define NET_BUFFER_NEXT_NB(_NB)              ((_NB)->Next)
#define NET_BUFFER_FIRST_MDL(_NB)            ((_NB)->MdlChain)
#define NET_BUFFER_CURRENT_MDL(_NB)          ((_NB)->CurrentMdl)
#define NET_BUFFER_CURRENT_MDL_OFFSET(_NB)   ((_NB)->CurrentMdlOffset)
#define NET_BUFFER_DATA_LENGTH(_NB)          ((_NB)->DataLength)
#define NET_BUFFER_DATA_OFFSET(_NB)          ((_NB)->DataOffset)
#define NET_BUFFER_LIST_CONTEXT_DATA_START(_NBL) \
    ((PUCHAR)(((_NBL)->Context) + 1) + (_NBL)->Context->Offset)
#define NET_BUFFER_LIST_CONTEXT_DATA_SIZE(_NBL) (((_NBL)->Context)->Size - ((_NBL)->Context)->Offset)

/* Send, send-complete, receive and return flags (ndis.h values). */
#define NDIS_SEND_FLAGS_DISPATCH_LEVEL            0x00000001
#define NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL   0x00000001
#define NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL         0x00000001
#define NDIS_RECEIVE_FLAGS_RESOURCES              0x00000002
#define NDIS_RETURN_FLAGS_DISPATCH_LEVEL          0x00000001
