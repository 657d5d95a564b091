/*
 * signaling.c - line signaling: the message codec, retransmission, and the dispatch of what
 * the peer sends to the call-manager code in callmgr.c.
 *
 * The byte format is condis/drivers/signaling.py's, exactly: a 24-byte big-endian header
 * (kind, mine, reference, VCI, cause, endpoint, rate) and the called address to the end of the
 * cell. The reliability rules are condis/drivers/callcontrol.py's (its module comment):
 *   - a message that needs an answer (SETUP, CONNECT, RELEASE) is kept until the answer comes
 *     and sent again from the adapter's timer, at most SIG_TRIES times; then the call is given up;
 *   - unless the peer said nothing at all since it was first sent: then the link is down and the
 *     message is held, and sent again when the peer is heard from;
 *   - RESTART from the peer clears every call with it;
 *   - a message for a call we do not know is answered with RELEASE COMPLETE (except a RELEASE
 *     COMPLETE); a late SETUP for one of the last SIG_REMEMBERED calls cleared is answered so too.
 *
 * Every routine here runs at DISPATCH_LEVEL or below, from the NIC's receive interrupt, the
 * adapter's timer, or a call-manager handler; none of them waits.
 */
#include "signaling.h"
#include "callmgr.h"
#include "vc.h"

/* ---- the codec ------------------------------------------------------------------------ */

static VOID PutBe(PUCHAR Out, ULONGLONG Value, ULONG Bytes)
{
    for (ULONG i = 0; i < Bytes; i++) {
        Out[i] = (UCHAR)(Value >> (8 * (Bytes - 1 - i)));
    }
}

static ULONGLONG GetBe(const UCHAR *In, ULONG Bytes)
{
    ULONGLONG value = 0;
    for (ULONG i = 0; i < Bytes; i++) {
        value = (value << 8) | In[i];
    }
    return value;
}

/*
 * SigEncode - writes Message in its wire form into Buffer; returns its length, or 0 if Buffer
 * is too short. Any IRQL.
 */
ULONG SigEncode(const SIG_MESSAGE *Message, PUCHAR Buffer, ULONG Length)
{
    ULONG total = SIG_HEADER_SIZE + Message->AddressLength;
    if (Length < total) {
        return 0;
    }
    Buffer[0] = (UCHAR)Message->Kind;
    Buffer[1] = Message->Mine ? 1 : 0;
    PutBe(Buffer + 2, Message->Ref, 4);
    PutBe(Buffer + 6, Message->Vci, 4);
    PutBe(Buffer + 10, Message->Cause, 2);
    PutBe(Buffer + 12, Message->Endpoint, 4);
    PutBe(Buffer + 16, (ULONGLONG)Message->Rate, 8);
    NdisMoveMemory(Buffer + SIG_HEADER_SIZE, Message->Address, Message->AddressLength);
    return total;
}

/*
 * SigDecode - reads a cell's payload into Message; FALSE for a payload that is not a message
 * (too short, an unknown kind, an address longer than any SAP can hold). Any IRQL.
 */
BOOLEAN SigDecode(const UCHAR *Data, ULONG Length, PSIG_MESSAGE Message)
{
    if (Length < SIG_HEADER_SIZE || Data[0] >= MsgKinds || Length - SIG_HEADER_SIZE > MCM_MAX_ADDRESS) {
        return FALSE;
    }
    Message->Kind = (SIG_KIND)Data[0];
    Message->Mine = Data[1] != 0;
    Message->Ref = (ULONG)GetBe(Data + 2, 4);
    Message->Vci = (ULONG)GetBe(Data + 6, 4);
    Message->Cause = (USHORT)GetBe(Data + 10, 2);
    Message->Endpoint = (ULONG)GetBe(Data + 12, 4);
    Message->Rate = (LONGLONG)GetBe(Data + 16, 8);
    Message->AddressLength = Length - SIG_HEADER_SIZE;
    NdisMoveMemory(Message->Address, Data + SIG_HEADER_SIZE, Message->AddressLength);
    return TRUE;
}

/* ---- sending ---------------------------------------------------------------------------- */

/*
 * SigTransmit - puts a message on the signaling VCI. Called from every signaling path, at
 * DISPATCH_LEVEL or below.
 */
VOID SigTransmit(PMCM_ADAPTER Adapter, const SIG_MESSAGE *Message)
{
    UCHAR cell[SIG_HEADER_SIZE + MCM_MAX_ADDRESS];
    ULONG length = SigEncode(Message, cell, sizeof(cell));
    ASSERT(length != 0);
    CondisWireTransmit(Adapter->WirePort, SIGNALING_VCI, cell, length);
}

static VOID SigBuild(PSIG_MESSAGE Message, PMCM_VC Vc, ULONG Endpoint, SIG_KIND Kind, USHORT Cause)
{
    NdisZeroMemory(Message, sizeof(*Message));
    Message->Kind = Kind;
    Message->Ref = Vc->Ref;
    Message->Mine = Vc->PlacedHere;
    Message->Endpoint = Endpoint;
    Message->Cause = Cause;
}

/*
 * SigSendForCall - sends a message about Vc's call (or its leaf Endpoint) that needs no answer
 * (CALL PROCEEDING, CONNECT ACK, RELEASE COMPLETE). Called from callmgr.c at DISPATCH_LEVEL or below.
 */
VOID SigSendForCall(PMCM_VC Vc, ULONG Endpoint, SIG_KIND Kind, USHORT Cause)
{
    SIG_MESSAGE message;
    SigBuild(&message, Vc, Endpoint, Kind, Cause);
    SigTransmit(Vc->Adapter, &message);
}

/*
 * SigSendReleaseComplete - answers a message about a call this side does not (or no longer) keep.
 * Called from the receive path and callmgr.c, at DISPATCH_LEVEL or below.
 */
VOID SigSendReleaseComplete(PMCM_ADAPTER Adapter, ULONG Ref, BOOLEAN Mine, USHORT Cause, ULONG Endpoint)
{
    SIG_MESSAGE message;
    NdisZeroMemory(&message, sizeof(message));
    message.Kind = MsgReleaseComplete;
    message.Ref = Ref;
    message.Mine = Mine;
    message.Cause = Cause;
    message.Endpoint = Endpoint;
    SigTransmit(Adapter, &message);
}

/*
 * SigRequest - sends a message the peer must answer and keeps it, for the adapter's timer to
 * send again until the answer comes. Called from callmgr.c at DISPATCH_LEVEL or below.
 */
VOID SigRequest(PMCM_ENTRY Entry, SIG_KIND Kind, USHORT Cause, ULONG Vci, const UCHAR *Address,
                ULONG AddressLength, LONGLONG Rate)
{
    PMCM_ADAPTER adapter = Entry->Vc->Adapter;
    PSIG_MESSAGE message = &Entry->Waiting;

    SigBuild(message, Entry->Vc, Entry->Endpoint, Kind, Cause);
    message->Vci = Vci;
    message->Rate = Rate;
    message->AddressLength = AddressLength;
    if (AddressLength != 0) {
        NdisMoveMemory(message->Address, Address, AddressLength);
    }
    Entry->Unanswered = TRUE;
    Entry->Held = FALSE;
    Entry->Fresh = TRUE;
    Entry->Sent = 1;
    Entry->HeardWhenSent = adapter->Heard;
    SigTransmit(adapter, message);
    SigArm(adapter);
}

static BOOLEAN SigAnyUnanswered(PMCM_ADAPTER Adapter)
{
    for (PLIST_ENTRY e = Adapter->Calls.Flink; e != &Adapter->Calls; e = e->Flink) {
        PMCM_ENTRY entry = CONTAINING_RECORD(e, MCM_ENTRY, Link);
        if (entry->Unanswered && !entry->Held) {
            return TRUE;
        }
    }
    return FALSE;
}

/*
 * SigAnswered - the peer answered the call's kept message (or the call no longer needs it): stop
 * retransmitting it, and stop the timer when nothing else waits. DISPATCH_LEVEL or below.
 */
VOID SigAnswered(PMCM_ENTRY Entry)
{
    PMCM_ADAPTER adapter = Entry->Vc->Adapter;
    if (!Entry->Unanswered) {
        return;
    }
    Entry->Unanswered = FALSE;
    Entry->Held = FALSE;
    if (adapter->RetransmitArmed && IsListEmpty(&adapter->Deferred) && !SigAnyUnanswered(adapter)) {
        adapter->RetransmitArmed = FALSE;
        NdisCancelTimerObject(adapter->RetransmitTimer);
    }
}

static BOOLEAN SigWasCleared(PMCM_ADAPTER Adapter, ULONG Ref, ULONG Endpoint)
{
    for (ULONG i = 0; i < Adapter->ClearedCount; i++) {
        if (Adapter->Cleared[i].Ref == Ref && Adapter->Cleared[i].Endpoint == Endpoint) {
            return TRUE;
        }
    }
    return FALSE;
}

/*
 * SigRemember - remembers a call the peer placed once it is cleared here, so that a late
 * retransmission of its SETUP is answered rather than offered as a new call. The oldest of
 * SIG_REMEMBERED calls is forgotten first. DISPATCH_LEVEL or below.
 */
VOID SigRemember(PMCM_ENTRY Entry)
{
    PMCM_ADAPTER adapter = Entry->Vc->Adapter;
    if (SigWasCleared(adapter, Entry->Vc->Ref, Entry->Endpoint)) {
        return;
    }
    adapter->Cleared[adapter->ClearedNext].Ref = Entry->Vc->Ref;
    adapter->Cleared[adapter->ClearedNext].Endpoint = Entry->Endpoint;
    adapter->ClearedNext = (adapter->ClearedNext + 1) % SIG_REMEMBERED;
    if (adapter->ClearedCount < SIG_REMEMBERED) {
        adapter->ClearedCount++;
    }
}

/*
 * SigForget - the call (or leaf) is over for signaling: take it out of the adapter's calls, drop
 * its kept message, remember it if the peer placed it, and drop the reference signaling held on
 * it (the caller holds its own). DISPATCH_LEVEL or below.
 */
VOID SigForget(PMCM_ENTRY Entry)
{
    SigAnswered(Entry);
    if (!Entry->InCalls) {
        return;
    }
    RemoveEntryList(&Entry->Link);
    Entry->InCalls = FALSE;
    if (!Entry->Vc->PlacedHere) {
        SigRemember(Entry);
    }
    VcEntryDereference(Entry);
}

/*
 * SigKnow - signaling knows the call (or leaf) from now on: it is put in the adapter's calls,
 * with a reference. DISPATCH_LEVEL or below.
 */
VOID SigKnow(PMCM_ENTRY Entry)
{
    ASSERT(!Entry->InCalls);
    VcEntryReference(Entry);
    Entry->InCalls = TRUE;
    InsertTailList(&Entry->Vc->Adapter->Calls, &Entry->Link);
}

/* ---- the adapter's timer ---------------------------------------------------------------- */

static NDIS_TIMER_FUNCTION SigTimer;

/*
 * SigOpen - allocates the adapter's retransmission timer. Called from MiniportInitializeEx at
 * PASSIVE_LEVEL.
 */
NDIS_STATUS SigOpen(PMCM_ADAPTER Adapter)
{
    NDIS_TIMER_CHARACTERISTICS timer;
    NdisZeroMemory(&timer, sizeof(timer));
    timer.Header.Type = NDIS_OBJECT_TYPE_TIMER_CHARACTERISTICS;
    timer.Header.Revision = NDIS_TIMER_CHARACTERISTICS_REVISION_1;
    timer.Header.Size = NDIS_SIZEOF_TIMER_CHARACTERISTICS_REVISION_1;
    timer.AllocationTag = ATMMCM_TAG;
    timer.TimerFunction = SigTimer;
    timer.FunctionContext = Adapter;
    return NdisAllocateTimerObject(Adapter->MiniportAdapterHandle, &timer, &Adapter->RetransmitTimer);
}

/*
 * SigClose - stops and frees the timer and abandons whatever still waited for an answer or a
 * work item. Called from MiniportHaltEx (and a failing MiniportInitializeEx) at PASSIVE_LEVEL.
 */
VOID SigClose(PMCM_ADAPTER Adapter)
{
    if (Adapter->RetransmitTimer != NULL) {
        NdisCancelTimerObject(Adapter->RetransmitTimer);
        NdisFreeTimerObject(Adapter->RetransmitTimer);
        Adapter->RetransmitTimer = NULL;
    }
    Adapter->RetransmitArmed = FALSE;
    for (PLIST_ENTRY e = Adapter->Calls.Flink; e != &Adapter->Calls; e = e->Flink) {
        PMCM_ENTRY entry = CONTAINING_RECORD(e, MCM_ENTRY, Link);
        entry->Unanswered = FALSE;
        entry->Held = FALSE;
    }
    VcAbandonDeferred(Adapter);
}

/*
 * SigArm - starts the timer if it is not running. DISPATCH_LEVEL or below.
 */
VOID SigArm(PMCM_ADAPTER Adapter)
{
    LARGE_INTEGER due;
    if (Adapter->RetransmitTimer == NULL || Adapter->RetransmitArmed) {
        return;
    }
    Adapter->RetransmitArmed = TRUE;
    due.QuadPart = SIG_RETRANSMIT_100NS;
    NdisSetTimerObject(Adapter->RetransmitTimer, due, 0, Adapter);
}

/*
 * SigTimer - the adapter's timer, at DISPATCH_LEVEL: sends again what is still unanswered,
 * holds what the silent peer never acknowledged, gives up what was sent SIG_TRIES times, and
 * queues again the work that found no work item.
 */
static VOID SigTimer(PVOID SystemSpecific1, PVOID FunctionContext, PVOID SystemSpecific2, PVOID SystemSpecific3)
{
    PMCM_ADAPTER adapter = FunctionContext;
    BOOLEAN gaveUp = TRUE;

    UNREFERENCED_PARAMETER(SystemSpecific1);
    UNREFERENCED_PARAMETER(SystemSpecific2);
    UNREFERENCED_PARAMETER(SystemSpecific3);
    adapter->RetransmitArmed = FALSE;

    /* First the messages that are simply sent again or held; giving a call up runs call-manager
       code that may clear other calls, so those are marked here and handled one at a time. */
    for (PLIST_ENTRY e = adapter->Calls.Flink; e != &adapter->Calls; e = e->Flink) {
        PMCM_ENTRY entry = CONTAINING_RECORD(e, MCM_ENTRY, Link);
        entry->GiveUp = FALSE;
        if (!entry->Unanswered || entry->Held) {
            continue;
        }
        if (entry->Fresh) {
            entry->Fresh = FALSE;
        } else if (entry->Sent < SIG_TRIES) {
            entry->Sent++;
            SigTransmit(adapter, &entry->Waiting);
        } else if (adapter->Heard == entry->HeardWhenSent && !adapter->PeerGone) {
            entry->Held = TRUE;
        } else {
            entry->GiveUp = TRUE;
        }
    }
    while (gaveUp) {
        gaveUp = FALSE;
        for (PLIST_ENTRY e = adapter->Calls.Flink; e != &adapter->Calls; e = e->Flink) {
            PMCM_ENTRY entry = CONTAINING_RECORD(e, MCM_ENTRY, Link);
            if (entry->GiveUp) {
                entry->GiveUp = FALSE;
                entry->Unanswered = FALSE;
                VcEntryReference(entry);
                CallNoAnswer(entry->Vc, entry->Party, &entry->Waiting);
                VcEntryDereference(entry);
                gaveUp = TRUE;
                break;
            }
        }
    }
    VcRetryDeferred(adapter);
    if (SigAnyUnanswered(adapter) || !IsListEmpty(&adapter->Deferred)) {
        SigArm(adapter);
    }
}

/*
 * SigSendRestart - tells the peer that every call on this adapter is gone. Going away, we cannot
 * wait for an acknowledgement, so RESTART goes out SIG_TRIES times at once; the peer takes the
 * copies as one. Called from MiniportHaltEx at PASSIVE_LEVEL.
 */
VOID SigSendRestart(PMCM_ADAPTER Adapter)
{
    SIG_MESSAGE message;
    NdisZeroMemory(&message, sizeof(message));
    message.Kind = MsgRestart;
    message.Cause = CAUSE_OUT_OF_ORDER;
    for (ULONG i = 0; i < SIG_TRIES; i++) {
        SigTransmit(Adapter, &message);
    }
}

/* The peer said RESTART: clear every call with it, as a RELEASE COMPLETE for each would. */
static VOID SigRestarted(PMCM_ADAPTER Adapter)
{
    BOOLEAN more = TRUE;

    Adapter->PeerGone = TRUE;
    for (PLIST_ENTRY e = Adapter->Calls.Flink; e != &Adapter->Calls; e = e->Flink) {
        PMCM_ENTRY entry = CONTAINING_RECORD(e, MCM_ENTRY, Link);
        if (entry->Held) {
            entry->Held = FALSE;    /* held messages are dropped: nobody is there to answer them */
            entry->Unanswered = FALSE;
        }
        entry->GiveUp = TRUE;       /* to be cleared below, once each */
    }
    while (more) {
        more = FALSE;
        for (PLIST_ENTRY e = Adapter->Calls.Flink; e != &Adapter->Calls; e = e->Flink) {
            PMCM_ENTRY entry = CONTAINING_RECORD(e, MCM_ENTRY, Link);
            SIG_MESSAGE cleared;
            if (!entry->GiveUp) {
                continue;
            }
            entry->GiveUp = FALSE;
            VcEntryReference(entry);
            SigAnswered(entry);
            if (!CallReleased(entry->Vc, entry->Party)) {
                SigBuild(&cleared, entry->Vc, entry->Endpoint, MsgReleaseComplete, CAUSE_OUT_OF_ORDER);
                cleared.Mine = !entry->Vc->PlacedHere;
                CallRemoteRelease(entry->Vc, entry->Party, &cleared);
            }
            VcEntryDereference(entry);
            more = TRUE;
            break;
        }
    }
}

/* ---- receiving -------------------------------------------------------------------------- */

static PMCM_ENTRY SigFindCall(PMCM_ADAPTER Adapter, ULONG Ref, BOOLEAN PlacedHere, ULONG Endpoint)
{
    for (PLIST_ENTRY e = Adapter->Calls.Flink; e != &Adapter->Calls; e = e->Flink) {
        PMCM_ENTRY entry = CONTAINING_RECORD(e, MCM_ENTRY, Link);
        if (entry->Vc->Ref == Ref && entry->Vc->PlacedHere == PlacedHere && entry->Endpoint == Endpoint) {
            return entry;
        }
    }
    return NULL;
}

/* Which messages from the peer answer the message we wait on. */
static BOOLEAN SigAnswers(SIG_KIND Waiting, SIG_KIND Kind)
{
    BOOLEAN release = Kind == MsgRelease || Kind == MsgDropParty || Kind == MsgReleaseComplete;
    switch (Waiting) {
    case MsgSetup:
    case MsgAddParty:
        return release || Kind == MsgCallProceeding || Kind == MsgConnect;
    case MsgConnect:
        return release || Kind == MsgConnectAck;
    case MsgRelease:
    case MsgDropParty:
        return release;
    default:
        return FALSE;
    }
}

/* The peer is heard from again: what waited for it is sent again, and retransmitted as before. */
static VOID SigResendHeld(PMCM_ADAPTER Adapter)
{
    BOOLEAN any = FALSE;
    for (PLIST_ENTRY e = Adapter->Calls.Flink; e != &Adapter->Calls; e = e->Flink) {
        PMCM_ENTRY entry = CONTAINING_RECORD(e, MCM_ENTRY, Link);
        if (entry->Unanswered && entry->Held) {
            entry->Held = FALSE;
            entry->HeardWhenSent = Adapter->Heard;
            entry->Sent = 1;
            entry->Fresh = TRUE;
            SigTransmit(Adapter, &entry->Waiting);
            any = TRUE;
        }
    }
    if (any) {
        SigArm(Adapter);
    }
}

/*
 * SigReceive - a signaling message arrived from the peer. Called from the NIC's receive
 * interrupt (datapath.c) at DISPATCH_LEVEL.
 */
VOID SigReceive(PMCM_ADAPTER Adapter, const SIG_MESSAGE *Message)
{
    PMCM_ENTRY entry;
    BOOLEAN placedHere = !Message->Mine;

    Adapter->Heard++;
    if (Message->Kind == MsgRestart) {
        SigRestarted(Adapter);
        return;
    }
    Adapter->PeerGone = FALSE;
    SigResendHeld(Adapter);

    entry = SigFindCall(Adapter, Message->Ref, placedHere, Message->Endpoint);
    if (Message->Kind == MsgSetup || Message->Kind == MsgAddParty) {
        if (!placedHere && SigWasCleared(Adapter, Message->Ref, Message->Endpoint)) {
            /* a late retransmission of a call already cleared here: say so again */
            SigSendReleaseComplete(Adapter, Message->Ref, FALSE, CAUSE_NORMAL, Message->Endpoint);
        } else if (entry == NULL) {
            if (Message->Mine) {
                CallIncomingSetup(Adapter, Message);
            }
        } else if (entry->Vc->State == CallPresent) {
            /* a retransmission while our client decides: tell the caller to wait for the answer */
            entry->Vc->Proceeding = TRUE;
            SigSendForCall(entry->Vc, Message->Endpoint, MsgCallProceeding, 0);
        }
        return;     /* past PRESENT, our own CONNECT or RELEASE is on its way, and retransmitted */
    }
    if (entry == NULL) {
        /* A call we no longer know: a duplicate, or a retransmission whose answer was lost.
           Answer it so the peer clears the call too (a RELEASE COMPLETE needs no answer). */
        if (Message->Kind != MsgReleaseComplete) {
            USHORT cause = (Message->Kind == MsgRelease || Message->Kind == MsgDropParty)
                               ? CAUSE_NORMAL : CAUSE_BAD_REFERENCE;
            SigSendReleaseComplete(Adapter, Message->Ref, placedHere, cause, Message->Endpoint);
        }
        return;
    }
    VcEntryReference(entry);
    if (entry->Unanswered && SigAnswers(entry->Waiting.Kind, Message->Kind)) {
        SigAnswered(entry);
    }
    switch (Message->Kind) {
    case MsgConnect:
        CallConnected(entry->Vc, entry->Party, Message);
        break;
    case MsgConnectAck:
        CallConnectAck(entry->Vc);
        break;
    case MsgRelease:
    case MsgDropParty:
        CallRemoteRelease(entry->Vc, entry->Party, Message);
        break;
    case MsgReleaseComplete:
        if (!CallReleased(entry->Vc, entry->Party)) {
            CallRemoteRelease(entry->Vc, entry->Party, Message);    /* the peer cleared the call (or refused it) */
        }
        break;
    default:
        break;                                  /* CALL PROCEEDING: answered is all it means */
    }
    VcEntryDereference(entry);
}
