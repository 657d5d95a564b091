/*
 * datapath.h - the sample client's data path: sending on a call, and what it receives.
 */
#pragma once

#include "atmclient.h"

PROTOCOL_CO_RECEIVE_NET_BUFFER_LISTS ProtocolCoReceiveNetBufferLists;
PROTOCOL_CO_SEND_NET_BUFFER_LISTS_COMPLETE ProtocolCoSendNetBufferListsComplete;

NDIS_STATUS ClientSend(PCLIENT_CALL Call, const UCHAR *Data, ULONG Length);
