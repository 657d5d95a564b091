/*
 * vc.h - per-VC state of the sample MCM: allocation and references, the call parameters a VC
 * owns, activation and deactivation through NDIS, the NIC's VCI mapping, and work deferred to
 * a work item.
 */
#pragma once

#include "atmmcm.h"

PMCM_VC VcAllocate(PMCM_ADAPTER Adapter, BOOLEAN CreatedByUs);
VOID VcReference(PMCM_VC Vc);
VOID VcDereference(PMCM_VC Vc);
VOID VcEntryReference(PMCM_ENTRY Entry);
VOID VcEntryDereference(PMCM_ENTRY Entry);
ULONG VcVcis(PMCM_VC Vc, ULONG Vcis[MCM_MAX_PARTIES]);

PMCM_PARTY PartyAllocate(PMCM_VC Vc, NDIS_HANDLE NdisPartyHandle, ULONG Endpoint, ULONG Vci);
VOID PartyReference(PMCM_PARTY Party);
VOID PartyDereference(PMCM_PARTY Party);
VOID PartyJoin(PMCM_PARTY Party);
VOID PartyLeave(PMCM_PARTY Party);
VOID PartyNdisDone(PMCM_PARTY Party);

NDIS_STATUS VcCopyParameters(PMCM_CALL_PARAMETERS To, const CO_CALL_PARAMETERS *From);
VOID VcBuildParameters(PMCM_CALL_PARAMETERS To, const UCHAR *Address, ULONG AddressLength, ULONG Rate, ULONG Vci);
VOID VcSetMediaVci(PMCM_VC Vc);

VOID VcActivate(PMCM_VC Vc, VC_NEXT Next);
VOID VcDeactivate(PMCM_VC Vc, VC_NEXT Next);
VOID VcRequestDone(PMCM_VC Vc, NDIS_STATUS Status);
VOID VcDelete(PMCM_VC Vc);
VOID VcUnmap(PMCM_VC Vc);

VOID VcLater(PMCM_VC Vc, ULONG Work);
VOID VcRetryDeferred(PMCM_ADAPTER Adapter);
VOID VcAbandonDeferred(PMCM_ADAPTER Adapter);
