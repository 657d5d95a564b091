/*
 * app.c - the sample client's application interface (app.h). Every routine runs at
 * PASSIVE_LEVEL, as an application's request to the driver does.
 */
#include "app.h"
#include "af.h"
#include "call.h"
#include "datapath.h"

/* AtmClientPlaceCall - calls Address on the first open AF (a multipoint call, Address its first
   leaf, if Multipoint); NULL if there is no open AF (or no memory). */
PVOID AtmClientPlaceCall(const UCHAR *Address, ULONG AddressLength, ULONG Rate, BOOLEAN Multipoint)
{
    PCLIENT_AF af = ClientOpenAf();
    if (af == NULL) {
        return NULL;
    }
    return ClientPlaceCall(af, Address, AddressLength, Rate != 0 ? Rate : CLIENT_DEFAULT_RATE, Multipoint);
}

/* AtmClientSend - sends one NET_BUFFER_LIST on an established call. */
NDIS_STATUS AtmClientSend(PVOID Call, const UCHAR *Data, ULONG Length)
{
    PCLIENT_CALL call = Call;
    if (call->State != ClientCallUp) {
        return NDIS_STATUS_CLOSING;
    }
    return ClientSend(call, Data, Length);
}

/* AtmClientClose - hangs up: closes a call that is up (or accepted); anything else is left alone. */
VOID AtmClientClose(PVOID Call)
{
    PCLIENT_CALL call = Call;
    if (call->State == ClientCallUp || call->State == ClientCallAccepted) {
        ClientCloseCall(call);
    }
}

/* AtmClientAccept / AtmClientReject - answer an offered call the client left pending. */
VOID AtmClientAccept(PVOID Call)
{
    PCLIENT_CALL call = Call;
    if (call->State == ClientCallOffered) {
        ClientAnswer(call, NDIS_STATUS_SUCCESS);
    }
}

VOID AtmClientReject(PVOID Call, NDIS_STATUS Status)
{
    PCLIENT_CALL call = Call;
    if (call->State == ClientCallOffered && Status != NDIS_STATUS_SUCCESS && Status != NDIS_STATUS_PENDING) {
        ClientAnswer(call, Status);
    }
}

/* AtmClientModifyQoS - asks for a new rate on a call that is up. */
NDIS_STATUS AtmClientModifyQoS(PVOID Call, ULONG Rate)
{
    PCLIENT_CALL call = Call;
    if (call->State != ClientCallUp) {
        return NDIS_STATUS_CLOSING;
    }
    return ClientModifyQoS(call, Rate);
}

/* AtmClientSetAnswer - how incoming calls are answered from now on: NDIS_STATUS_SUCCESS accepts,
   NDIS_STATUS_PENDING leaves them for AtmClientAccept or AtmClientReject, any other refuses. */
VOID AtmClientSetAnswer(NDIS_STATUS Status)
{
    ClientDriver.Answer = Status;
}

ULONG AtmClientCallCount(VOID)
{
    return ClientDriver.HistoryCount;
}

PVOID AtmClientCallAt(ULONG Index)
{
    return Index < ClientDriver.HistoryCount ? ClientDriver.History[Index] : NULL;
}

ULONG AtmClientIncomingCount(VOID)
{
    return ClientDriver.IncomingCount;
}

PVOID AtmClientIncomingAt(ULONG Index)
{
    return Index < ClientDriver.IncomingCount ? ClientDriver.Incoming[Index] : NULL;
}

ULONG AtmClientCallState(PVOID Call)
{
    return (ULONG)((PCLIENT_CALL)Call)->State;
}

NDIS_STATUS AtmClientCallStatus(PVOID Call)
{
    return ((PCLIENT_CALL)Call)->Status;
}

NDIS_STATUS AtmClientCallQoSStatus(PVOID Call)
{
    return ((PCLIENT_CALL)Call)->QoSStatus;
}

BOOLEAN AtmClientCallDeleted(PVOID Call)
{
    return ((PCLIENT_CALL)Call)->Deleted;
}

ULONG AtmClientCallSent(PVOID Call)
{
    return ((PCLIENT_CALL)Call)->Sent;
}

ULONG AtmClientCallSendCompleted(PVOID Call)
{
    return ((PCLIENT_CALL)Call)->SendCompleted;
}

ULONG AtmClientCallReceivedCount(PVOID Call)
{
    return ((PCLIENT_CALL)Call)->Received;
}

/* AtmClientCallReceived - copies the Index-th payload kept for the call into Buffer; returns its
   length (0 if it was not kept, or Buffer is too short for it). */
ULONG AtmClientCallReceived(PVOID Call, ULONG Index, PUCHAR Buffer, ULONG Length)
{
    PCLIENT_CALL call = Call;
    ULONG kept;
    if (Index >= CLIENT_KEPT_RECEIVES || Index >= call->Received) {
        return 0;
    }
    kept = call->KeptLength[Index];
    if (kept > Length) {
        return 0;
    }
    NdisMoveMemory(Buffer, call->Kept[Index], kept);
    return kept;
}

/* AtmClientAddParty - adds a leaf to a multipoint call that is up; NULL if it cannot. */
PVOID AtmClientAddParty(PVOID Call, const UCHAR *Address, ULONG AddressLength)
{
    PCLIENT_CALL call = Call;
    if (call->State != ClientCallUp || IsListEmpty(&call->Parties)) {
        return NULL;
    }
    return ClientAddParty(call, Address, AddressLength);
}

/* AtmClientDropParty - drops a leaf that is up, not the last (the last goes with AtmClientClose). */
VOID AtmClientDropParty(PVOID Party)
{
    PCLIENT_PARTY party = Party;
    if (party->State == ClientCallUp && party->Call->PartyCount > 1) {
        ClientDropParty(party);
    }
}

/* AtmClientPartyCount / AtmClientPartyAt - the leaves of a multipoint call, those that are (or
   are becoming) part of it, in the order they were added. */
ULONG AtmClientPartyCount(PVOID Call)
{
    return ((PCLIENT_CALL)Call)->PartyCount;
}

PVOID AtmClientPartyAt(PVOID Call, ULONG Index)
{
    PCLIENT_CALL call = Call;
    for (PLIST_ENTRY e = call->Parties.Flink; e != &call->Parties; e = e->Flink) {
        if (Index-- == 0) {
            return CONTAINING_RECORD(e, CLIENT_PARTY, Link);
        }
    }
    return NULL;
}

ULONG AtmClientPartyState(PVOID Party)
{
    return (ULONG)((PCLIENT_PARTY)Party)->State;
}
