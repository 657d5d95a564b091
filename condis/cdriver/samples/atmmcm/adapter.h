/*
 * adapter.h - adapter lifetime of the sample MCM: MiniportInitializeEx, MiniportHaltEx,
 * MiniportPause and MiniportRestart.
 */
#pragma once

#include "atmmcm.h"

MINIPORT_INITIALIZE MiniportInitializeEx;
MINIPORT_HALT MiniportHaltEx;
MINIPORT_PAUSE MiniportPause;
MINIPORT_RESTART MiniportRestart;
