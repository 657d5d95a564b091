/*
 * miniport.h - DriverEntry and registration of the sample MCM.
 */
#pragma once

#include "atmmcm.h"

DRIVER_INITIALIZE DriverEntry;
