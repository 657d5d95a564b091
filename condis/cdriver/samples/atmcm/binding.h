/*
 * binding.h - binding to the miniport (binding-to-an-adapter.md, unbinding-from-an-adapter.md):
 * the signaling VC's lifetime, the AF's registration, pausing, and the AF handlers the binding's
 * life depends on.
 */
#pragma once

#include "atmcm.h"

PROTOCOL_BIND_ADAPTER_EX ProtocolBindAdapterEx;
PROTOCOL_UNBIND_ADAPTER_EX ProtocolUnbindAdapterEx;
PROTOCOL_OPEN_ADAPTER_COMPLETE_EX ProtocolOpenAdapterCompleteEx;
PROTOCOL_CLOSE_ADAPTER_COMPLETE_EX ProtocolCloseAdapterCompleteEx;
PROTOCOL_NET_PNP_EVENT ProtocolNetPnPEvent;

VOID BindingFillHandlers(PNDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS Handlers);
