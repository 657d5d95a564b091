/*
 * callclose.h - closing a call the remote released, as a call manager over a miniport does it.
 */
#pragma once

#include "atmcm.h"

VOID CallCloseFillHandlers(PNDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS Handlers);
