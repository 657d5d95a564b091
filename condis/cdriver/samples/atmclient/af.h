/*
 * af.h - the sample client's address families and SAPs: opening the AF a call manager
 * registers, registering the SAP, and closing both at unbind or when the call manager asks.
 */
#pragma once

#include "atmclient.h"

PROTOCOL_CO_AF_REGISTER_NOTIFY ProtocolCoAfRegisterNotify;
PROTOCOL_CL_OPEN_AF_COMPLETE_EX ClOpenAfCompleteEx;
PROTOCOL_CL_CLOSE_AF_COMPLETE ClCloseAfComplete;
PROTOCOL_CL_REGISTER_SAP_COMPLETE ClRegisterSapComplete;
PROTOCOL_CL_DEREGISTER_SAP_COMPLETE ClDeregisterSapComplete;
PROTOCOL_CL_NOTIFY_CLOSE_AF ClNotifyCloseAf;

BOOLEAN ClientCloseAf(PCLIENT_AF Af);
VOID ClientAfProgress(PCLIENT_AF Af);
PCLIENT_AF ClientOpenAf(VOID);
