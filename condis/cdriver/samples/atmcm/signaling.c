/*
 * signaling.c - the line signaling: codec, retransmission, and the dispatch of what the peer sends, shared with the sample MCM: ../atmmcm/signaling.c, compiled here with the routing
 * of atmcm.h (whose comment says what changes for a call manager over a miniport).
 */
#include "atmcm.h"
#include "../atmmcm/signaling.c"
