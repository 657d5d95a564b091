/* The routines every driver calls around the CoNDIS DDIs (support/: memory, LIST_ENTRY,
   interlocked operations, DbgPrint, ASSERT). Those that need NDIS (memory, which condis tracks
   per driver so what is not freed by unload is reported as a leak; IRQL; time) are declared in
   ddi.h; the rest are plain C here, as in the WDK. */
#pragma once

#include <stdarg.h>
#include <string.h>

#define UNREFERENCED_PARAMETER(P) ((void)(P))
#define CONTAINING_RECORD(address, type, field) ((type *)((PUCHAR)(address) - offsetof(type, field)))
#define FIELD_OFFSET(type, field) ((LONG)offsetof(type, field))
#define ARRAYSIZE(a) (sizeof(a) / sizeof((a)[0]))

/* NDIS_STRING_CONST("x"): a counted UTF-16 string, its lengths in bytes without the terminator. */
#define NDIS_STRING_CONST(x) { sizeof(u"" x) - sizeof(WCHAR), sizeof(u"" x), (PWSTR)(u"" x) }
#define RTL_CONSTANT_STRING(x) NDIS_STRING_CONST(x)

/* ---- memory (support/nf-ndis-ndiszeromemory, -ndismovememory, -ndisequalmemory) ---- */
#define NdisZeroMemory(Destination, Length) memset((Destination), 0, (Length))
#define NdisMoveMemory(Destination, Source, Length) memmove((Destination), (Source), (Length))
#define NdisEqualMemory(Source1, Source2, Length) (memcmp((Source1), (Source2), (Length)) == 0)
#define NdisFillMemory(Destination, Length, Fill) memset((Destination), (Fill), (Length))
#define RtlZeroMemory NdisZeroMemory
#define RtlCopyMemory(d, s, n) memcpy((d), (s), (n))
#define RtlMoveMemory NdisMoveMemory

/* ---- IRQL (support/nf-ndis-ndis_raise_irql_to_dispatch and -ndis_lower_irql) ---- */
#define NDIS_RAISE_IRQL_TO_DISPATCH(_pIrql_) CondisRaiseIrqlToDispatch(_pIrql_)
#define NDIS_LOWER_IRQL(_OldIrql_, _CurIrql_) CondisLowerIrql((_OldIrql_), (_CurIrql_))
#define NDIS_CURRENT_IRQL() KeGetCurrentIrql()

/* ---- doubly linked lists (support/nf-wdm-initializelisthead and its neighbours) ---- */
FORCEINLINE VOID InitializeListHead(PLIST_ENTRY ListHead)
{
    ListHead->Flink = ListHead->Blink = ListHead;
}

FORCEINLINE BOOLEAN IsListEmpty(const LIST_ENTRY *ListHead)
{
    return (BOOLEAN)(ListHead->Flink == ListHead);
}

FORCEINLINE BOOLEAN RemoveEntryList(PLIST_ENTRY Entry)
{
    PLIST_ENTRY Flink = Entry->Flink;
    PLIST_ENTRY Blink = Entry->Blink;
    Blink->Flink = Flink;
    Flink->Blink = Blink;
    return (BOOLEAN)(Flink == Blink);
}

FORCEINLINE PLIST_ENTRY RemoveHeadList(PLIST_ENTRY ListHead)
{
    PLIST_ENTRY Entry = ListHead->Flink;
    PLIST_ENTRY Flink = Entry->Flink;
    ListHead->Flink = Flink;
    Flink->Blink = ListHead;
    return Entry;
}

FORCEINLINE PLIST_ENTRY RemoveTailList(PLIST_ENTRY ListHead)
{
    PLIST_ENTRY Entry = ListHead->Blink;
    PLIST_ENTRY Blink = Entry->Blink;
    ListHead->Blink = Blink;
    Blink->Flink = ListHead;
    return Entry;
}

FORCEINLINE VOID InsertTailList(PLIST_ENTRY ListHead, PLIST_ENTRY Entry)
{
    PLIST_ENTRY Blink = ListHead->Blink;
    Entry->Flink = ListHead;
    Entry->Blink = Blink;
    Blink->Flink = Entry;
    ListHead->Blink = Entry;
}

FORCEINLINE VOID InsertHeadList(PLIST_ENTRY ListHead, PLIST_ENTRY Entry)
{
    PLIST_ENTRY Flink = ListHead->Flink;
    Entry->Flink = Flink;
    Entry->Blink = ListHead;
    Flink->Blink = Entry;
    ListHead->Flink = Entry;
}

#define NdisInitializeListHead(_ListHead) InitializeListHead(_ListHead)

/* ---- interlocked operations (support/nf-ndis-ndisinterlocked*) ---- */
FORCEINLINE LONG NdisInterlockedIncrement(PLONG Addend)
{
    return __atomic_add_fetch(Addend, 1, __ATOMIC_SEQ_CST);
}

FORCEINLINE LONG NdisInterlockedDecrement(PLONG Addend)
{
    return __atomic_sub_fetch(Addend, 1, __ATOMIC_SEQ_CST);
}

/* The list operations take the driver's spin lock through NDIS, so the verifier sees it held. */
FORCEINLINE PLIST_ENTRY NdisInterlockedInsertHeadList(PLIST_ENTRY ListHead, PLIST_ENTRY ListEntry,
                                                      PNDIS_SPIN_LOCK SpinLock)
{
    PLIST_ENTRY First;
    NdisAcquireSpinLock(SpinLock);
    First = IsListEmpty(ListHead) ? NULL : ListHead->Flink;
    InsertHeadList(ListHead, ListEntry);
    NdisReleaseSpinLock(SpinLock);
    return First;
}

FORCEINLINE PLIST_ENTRY NdisInterlockedInsertTailList(PLIST_ENTRY ListHead, PLIST_ENTRY ListEntry,
                                                      PNDIS_SPIN_LOCK SpinLock)
{
    PLIST_ENTRY Last;
    NdisAcquireSpinLock(SpinLock);
    Last = IsListEmpty(ListHead) ? NULL : ListHead->Blink;
    InsertTailList(ListHead, ListEntry);
    NdisReleaseSpinLock(SpinLock);
    return Last;
}

FORCEINLINE PLIST_ENTRY NdisInterlockedRemoveHeadList(PLIST_ENTRY ListHead, PNDIS_SPIN_LOCK SpinLock)
{
    PLIST_ENTRY Entry = NULL;
    NdisAcquireSpinLock(SpinLock);
    if (!IsListEmpty(ListHead)) {
        Entry = RemoveHeadList(ListHead);
    }
    NdisReleaseSpinLock(SpinLock);
    return Entry;
}

/* ---- NdisGetDataBuffer (support/nf-nblapi-ndisgetdatabuffer): a pointer to BytesNeeded
   contiguous bytes at the NET_BUFFER's current position, in its MDL when they are contiguous
   there, else copied into Storage; NULL when the data is shorter or Storage is NULL. ---- */
PVOID NdisGetDataBuffer(PNET_BUFFER NetBuffer, ULONG BytesNeeded, PVOID Storage, UINT AlignMultiple,
                        UINT AlignOffset);

/* ---- kernel work items: the storage a driver allocates for one (IoInitializeWorkItem's page) ---- */
FORCEINLINE ULONG IoSizeofWorkItem(VOID)
{
    return 64;
}

/* ---- debugging (support/nf-wdm-dbgprint, nf-wdm-assertmsg) ---- */
ULONG DbgPrint(PCSTR Format, ...) __attribute__((format(printf, 1, 2)));
#define DbgPrintEx(ComponentId, Level, ...) DbgPrint(__VA_ARGS__)
#define DPFLTR_DEFAULT_ID 101
#define DPFLTR_ERROR_LEVEL 0
#define DPFLTR_WARNING_LEVEL 1
#define DPFLTR_TRACE_LEVEL 2
#define DPFLTR_INFO_LEVEL 3
#define KdPrint(args) DbgPrint args

/* A failed ASSERT is a verifier finding with the file and line, not an abort. */
#define ASSERT(Expression) \
    ((Expression) ? (void)0 : CondisAssertFailed(#Expression, __FILE__, __LINE__))
#define ASSERTMSG(Message, Expression) \
    ((Expression) ? (void)0 : CondisAssertFailed(Message, __FILE__, __LINE__))
#define NT_ASSERT ASSERT

/* The pool tag macro drivers use to build a ULONG tag from four characters. */
#define NDIS_TAG(a, b, c, d) ((ULONG)(a) | ((ULONG)(b) << 8) | ((ULONG)(c) << 16) | ((ULONG)(d) << 24))
