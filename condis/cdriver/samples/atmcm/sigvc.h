/*
 * sigvc.h - the signaling VC's data path: sends of the shared signaling, and what arrives.
 */
#pragma once

#include "atmcm.h"

PROTOCOL_CO_SEND_NET_BUFFER_LISTS_COMPLETE ProtocolCoSendNetBufferListsComplete;
PROTOCOL_CO_RECEIVE_NET_BUFFER_LISTS ProtocolCoReceiveNetBufferLists;
PROTOCOL_CO_STATUS_EX ProtocolCoStatusEx;
