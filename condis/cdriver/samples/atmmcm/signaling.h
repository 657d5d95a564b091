/*
 * signaling.h - the line signaling of the sample MCM: the message codec, the messages a call
 * sends and keeps for retransmission, and what arrives from the peer.
 */
#pragma once

#include "atmmcm.h"

ULONG SigEncode(const SIG_MESSAGE *Message, PUCHAR Buffer, ULONG Length);
BOOLEAN SigDecode(const UCHAR *Data, ULONG Length, PSIG_MESSAGE Message);

VOID SigTransmit(PMCM_ADAPTER Adapter, const SIG_MESSAGE *Message);
VOID SigSendForCall(PMCM_VC Vc, ULONG Endpoint, SIG_KIND Kind, USHORT Cause);
VOID SigSendReleaseComplete(PMCM_ADAPTER Adapter, ULONG Ref, BOOLEAN Mine, USHORT Cause, ULONG Endpoint);
VOID SigRequest(PMCM_ENTRY Entry, SIG_KIND Kind, USHORT Cause, ULONG Vci, const UCHAR *Address,
                ULONG AddressLength, LONGLONG Rate);
VOID SigAnswered(PMCM_ENTRY Entry);
VOID SigForget(PMCM_ENTRY Entry);
VOID SigKnow(PMCM_ENTRY Entry);
VOID SigRemember(PMCM_ENTRY Entry);

NDIS_STATUS SigOpen(PMCM_ADAPTER Adapter);
VOID SigClose(PMCM_ADAPTER Adapter);
VOID SigArm(PMCM_ADAPTER Adapter);
VOID SigSendRestart(PMCM_ADAPTER Adapter);
VOID SigReceive(PMCM_ADAPTER Adapter, const SIG_MESSAGE *Message);
