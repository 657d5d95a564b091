/*
 * protocol.h - DriverEntry, registration and binding of the sample client.
 */
#pragma once

#include "atmclient.h"

DRIVER_INITIALIZE DriverEntry;
VOID ClientFinishUnbind(PCLIENT_BINDING Binding);
