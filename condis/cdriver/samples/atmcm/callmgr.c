/*
 * callmgr.c - the call-manager interface: the ProtocolCmXxx handlers and the call flows, shared with the sample MCM: ../atmmcm/callmgr.c, compiled here with the routing
 * of atmcm.h (whose comment says what changes for a call manager over a miniport).
 */
#include "atmcm.h"
#include "../atmmcm/callmgr.c"
