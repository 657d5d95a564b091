/*
 * call.h - the sample client's calls: VCs, making, answering and closing calls, the leaves of
 * multipoint calls, QoS changes, and deleting the VCs it created.
 */
#pragma once

#include "atmclient.h"

PROTOCOL_CO_CREATE_VC ClCreateVc;
PROTOCOL_CO_DELETE_VC ClDeleteVc;
PROTOCOL_CL_MAKE_CALL_COMPLETE ClMakeCallComplete;
PROTOCOL_CL_INCOMING_CALL ClIncomingCall;
PROTOCOL_CL_CALL_CONNECTED ClCallConnected;
PROTOCOL_CL_INCOMING_CLOSE_CALL ClIncomingCloseCall;
PROTOCOL_CL_CLOSE_CALL_COMPLETE ClCloseCallComplete;
PROTOCOL_CL_MODIFY_CALL_QOS_COMPLETE ClModifyCallQoSComplete;
PROTOCOL_CL_INCOMING_CALL_QOS_CHANGE ClIncomingCallQoSChange;
PROTOCOL_CL_ADD_PARTY_COMPLETE ClAddPartyComplete;
PROTOCOL_CL_DROP_PARTY_COMPLETE ClDropPartyComplete;
PROTOCOL_CL_INCOMING_DROP_PARTY ClIncomingDropParty;
PROTOCOL_CO_OID_REQUEST ClOidRequest;
PROTOCOL_CO_OID_REQUEST_COMPLETE ClOidRequestComplete;

PCLIENT_CALL ClientPlaceCall(PCLIENT_AF Af, const UCHAR *Address, ULONG AddressLength, ULONG Rate, BOOLEAN Multipoint);
VOID ClientCloseCall(PCLIENT_CALL Call);
PCLIENT_PARTY ClientAddParty(PCLIENT_CALL Call, const UCHAR *Address, ULONG AddressLength);
VOID ClientDropParty(PCLIENT_PARTY Party);
VOID ClientAnswer(PCLIENT_CALL Call, NDIS_STATUS Status);
NDIS_STATUS ClientModifyQoS(PCLIENT_CALL Call, ULONG Rate);
VOID ClientBuildParameters(PCLIENT_CALL_PARAMETERS To, const UCHAR *Address, ULONG AddressLength, ULONG Rate);
VOID ClientCallRelease(PCLIENT_CALL Call);
VOID ClientHistoryAdd(PCLIENT_CALL Call, BOOLEAN Incoming);
VOID ClientHistoryClear(VOID);
