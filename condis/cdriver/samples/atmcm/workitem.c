/*
 * workitem.c - work items and memory for the shared call control.
 *
 * The shared code queues its deferred work with the NDIS I/O work item calls (atmcm.h routes
 * them here). NDIS I/O work items are for miniport drivers (nf-ndis-ndisallocateioworkitem.md),
 * so each one here is a kernel work item (IoInitializeWorkItem with our DRIVER_OBJECT) in
 * storage we allocate, with the NDIS-style routine and context it runs.
 */
#include "atmcm.h"

typedef struct _ATMCM_WORK_ITEM {
    NDIS_IO_WORKITEM_FUNCTION *Routine;
    PVOID Context;
    PATMCM_BINDING Binding;          /* for AtmCmLater's routines */
    ATMCM_LATER *Later;
    ULONGLONG Item[1];               /* IoSizeofWorkItem() bytes of IO_WORKITEM from here */
} ATMCM_WORK_ITEM, *PATMCM_WORK_ITEM;

#define ATMCM_ITEM(Work) ((PIO_WORKITEM)(Work)->Item)

/*
 * McmAllocate / McmFree - zeroed nonpaged memory for the contexts, charged to an NDIS handle
 * (the binding's), and its release. Any IRQL up to DISPATCH_LEVEL.
 */
PVOID McmAllocate(NDIS_HANDLE NdisHandle, ULONG Length)
{
    PVOID memory = NdisAllocateMemoryWithTagPriority(NdisHandle, Length, ATMCM_TAG, NormalPoolPriority);
    if (memory != NULL) {
        NdisZeroMemory(memory, Length);
    }
    return memory;
}

VOID McmFree(PVOID Memory)
{
    NdisFreeMemory(Memory, 0, 0);
}

/*
 * AtmCmAllocateWorkItem - a work item, or NULL when there is no memory for one (as
 * NdisAllocateIoWorkItem returns NULL). DISPATCH_LEVEL or below.
 */
NDIS_HANDLE AtmCmAllocateWorkItem(NDIS_HANDLE NdisObjectHandle)
{
    PATMCM_WORK_ITEM work = McmAllocate(NdisObjectHandle, FIELD_OFFSET(ATMCM_WORK_ITEM, Item) + IoSizeofWorkItem());
    if (work != NULL) {
        IoInitializeWorkItem(AtmCmDriver.DriverObject, ATMCM_ITEM(work));
    }
    return work;
}

/*
 * AtmCmFreeWorkItem - gives back a work item that is not queued (or whose routine is running).
 * DISPATCH_LEVEL or below.
 */
VOID AtmCmFreeWorkItem(NDIS_HANDLE WorkItem)
{
    PATMCM_WORK_ITEM work = WorkItem;
    IoUninitializeWorkItem(ATMCM_ITEM(work));
    McmFree(work);
}

static IO_WORKITEM_ROUTINE_EX AtmCmWorkRoutine;

/* AtmCmWorkRoutine - runs a queued work item's routine, at PASSIVE_LEVEL. */
static VOID AtmCmWorkRoutine(PVOID IoObject, PVOID Context, PIO_WORKITEM IoWorkItem)
{
    PATMCM_WORK_ITEM work = Context;
    UNREFERENCED_PARAMETER(IoObject);
    UNREFERENCED_PARAMETER(IoWorkItem);
    work->Routine(work->Context, work);     /* the routine frees the item, as with NDIS's */
}

/*
 * AtmCmQueueWorkItem - queues WorkItem to run Routine(Context, WorkItem) at PASSIVE_LEVEL.
 * DISPATCH_LEVEL or below.
 */
VOID AtmCmQueueWorkItem(NDIS_HANDLE WorkItem, NDIS_IO_WORKITEM_FUNCTION *Routine, PVOID Context)
{
    PATMCM_WORK_ITEM work = WorkItem;
    work->Routine = Routine;
    work->Context = Context;
    IoQueueWorkItemEx(ATMCM_ITEM(work), AtmCmWorkRoutine, DelayedWorkQueue, work);
}

static NDIS_IO_WORKITEM_FUNCTION AtmCmLaterRoutine;

/* AtmCmLaterRoutine - the binding's own work item, at PASSIVE_LEVEL: runs what AtmCmLater asked. */
static VOID AtmCmLaterRoutine(PVOID WorkItemContext, NDIS_HANDLE NdisIoWorkItemHandle)
{
    PATMCM_WORK_ITEM work = NdisIoWorkItemHandle;
    ATMCM_LATER *later = work->Later;

    UNREFERENCED_PARAMETER(WorkItemContext);
    work->Later = NULL;
    later(work->Binding);
}

/*
 * AtmCmLater - runs Routine(Binding) from the binding's own work item (allocated with the
 * binding, so that this cannot fail) at PASSIVE_LEVEL: completions arrive at DISPATCH_LEVEL or
 * below, and what follows them (registering the AF, closing the binding) needs PASSIVE_LEVEL.
 * The binding's steps are sequential: one is queued at a time. DISPATCH_LEVEL or below.
 */
VOID AtmCmLater(PATMCM_BINDING Binding, ATMCM_LATER *Routine)
{
    PATMCM_WORK_ITEM work = Binding->LaterItem;

    ASSERT(work->Later == NULL);
    work->Binding = Binding;
    work->Later = Routine;
    AtmCmQueueWorkItem(work, AtmCmLaterRoutine, NULL);
}
