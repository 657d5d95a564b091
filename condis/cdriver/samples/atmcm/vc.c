/*
 * vc.c - per-VC state: references, call parameters, activation and deactivation, deferred work, shared with the sample MCM: ../atmmcm/vc.c, compiled here with the routing
 * of atmcm.h (whose comment says what changes for a call manager over a miniport).
 */
#include "atmcm.h"
#include "../atmmcm/vc.c"
