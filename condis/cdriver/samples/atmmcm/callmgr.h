/*
 * callmgr.h - the call-manager half of the sample MCM: the ProtocolCmXxx handlers it registers
 * with NdisSetOptionalHandlers, and the call flows signaling drives.
 */
#pragma once

#include "atmmcm.h"

VOID CallMgrFillHandlers(PNDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS Handlers);
NDIS_STATUS CallMgrRegisterAf(PMCM_ADAPTER Adapter);
VOID CallMgrHalt(PMCM_ADAPTER Adapter);

/* from signaling.c, for what the peer sent */
VOID CallIncomingSetup(PMCM_ADAPTER Adapter, const SIG_MESSAGE *Message);
VOID CallConnected(PMCM_VC Vc, PMCM_PARTY Party, const SIG_MESSAGE *Message);
VOID CallConnectAck(PMCM_VC Vc);
VOID CallRemoteRelease(PMCM_VC Vc, PMCM_PARTY Party, const SIG_MESSAGE *Message);
BOOLEAN CallReleased(PMCM_VC Vc, PMCM_PARTY Party);
VOID CallNoAnswer(PMCM_VC Vc, PMCM_PARTY Party, const SIG_MESSAGE *Message);

/* from vc.c, when an activation or deactivation is done, and for deferred work */
VOID CallVcRequestDone(PMCM_VC Vc, VC_NEXT Next, NDIS_STATUS Status);
VOID CallTeardown(PMCM_VC Vc);
VOID CallStartQoS(PMCM_VC Vc);
VOID CallReactivate(PMCM_VC Vc);
