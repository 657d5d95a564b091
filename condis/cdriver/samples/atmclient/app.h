/*
 * app.h - the sample client's application interface: what a user-mode application would reach
 * through the driver's device, here exported from the image for condis scenarios to call at
 * PASSIVE_LEVEL. A call is an opaque handle; it stays valid while the driver's history lists it
 * (its last CLIENT_HISTORY calls), and until the driver unloads.
 */
#pragma once

#include "atmclient.h"

#define ATMCLIENT_API __attribute__((visibility("default")))

/* Call states AtmClientCallState returns (CLIENT_CALL_STATE). */
#define ATMCLIENT_MAKING   0
#define ATMCLIENT_OFFERED  1
#define ATMCLIENT_ACCEPTED 2
#define ATMCLIENT_UP       3
#define ATMCLIENT_CLOSING  4
#define ATMCLIENT_CLOSED   5
#define ATMCLIENT_FAILED   6

ATMCLIENT_API PVOID AtmClientPlaceCall(const UCHAR *Address, ULONG AddressLength, ULONG Rate, BOOLEAN Multipoint);
ATMCLIENT_API NDIS_STATUS AtmClientSend(PVOID Call, const UCHAR *Data, ULONG Length);
ATMCLIENT_API VOID AtmClientClose(PVOID Call);
ATMCLIENT_API VOID AtmClientAccept(PVOID Call);
ATMCLIENT_API VOID AtmClientReject(PVOID Call, NDIS_STATUS Status);
ATMCLIENT_API NDIS_STATUS AtmClientModifyQoS(PVOID Call, ULONG Rate);
ATMCLIENT_API VOID AtmClientSetAnswer(NDIS_STATUS Status);
ATMCLIENT_API PVOID AtmClientAddParty(PVOID Call, const UCHAR *Address, ULONG AddressLength);
ATMCLIENT_API VOID AtmClientDropParty(PVOID Party);

ATMCLIENT_API ULONG AtmClientCallCount(VOID);
ATMCLIENT_API PVOID AtmClientCallAt(ULONG Index);
ATMCLIENT_API ULONG AtmClientIncomingCount(VOID);
ATMCLIENT_API PVOID AtmClientIncomingAt(ULONG Index);

ATMCLIENT_API ULONG AtmClientCallState(PVOID Call);
ATMCLIENT_API NDIS_STATUS AtmClientCallStatus(PVOID Call);
ATMCLIENT_API NDIS_STATUS AtmClientCallQoSStatus(PVOID Call);
ATMCLIENT_API BOOLEAN AtmClientCallDeleted(PVOID Call);
ATMCLIENT_API ULONG AtmClientCallSent(PVOID Call);
ATMCLIENT_API ULONG AtmClientCallSendCompleted(PVOID Call);
ATMCLIENT_API ULONG AtmClientCallReceivedCount(PVOID Call);
ATMCLIENT_API ULONG AtmClientCallReceived(PVOID Call, ULONG Index, PUCHAR Buffer, ULONG Length);
ATMCLIENT_API ULONG AtmClientPartyCount(PVOID Call);
ATMCLIENT_API PVOID AtmClientPartyAt(PVOID Call, ULONG Index);
ATMCLIENT_API ULONG AtmClientPartyState(PVOID Party);
