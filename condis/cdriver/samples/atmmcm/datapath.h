/*
 * datapath.h - the NIC of the sample MCM: cells to NET_BUFFER_LISTs and back, on the
 * condis.WirePort the adapter was given.
 */
#pragma once

#include "atmmcm.h"

NDIS_STATUS NicOpen(PMCM_ADAPTER Adapter);
VOID NicClose(PMCM_ADAPTER Adapter);
VOID NicFillHandlers(PNDIS_MINIPORT_CO_CHARACTERISTICS Handlers);
