/*
 * protocol.h - DriverEntry and registration of the sample call manager.
 */
#pragma once

#include "atmcm.h"

DRIVER_INITIALIZE DriverEntry;
