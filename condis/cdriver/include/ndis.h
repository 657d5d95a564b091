/*
 * ndis.h - condis's NDIS header for CoNDIS drivers built with `condis cc`.
 *
 * Written for condis from the reference pages of the CoNDIS DDI (the -syntax blocks in
 * facts/prototypes.tsv, the structure pages, the status table). It is not a copy of the WDK's
 * ndis.h: it declares what condis provides, with Windows' widths on 64-bit Linux (ULONG and
 * LONG are 32 bits, ULONG_PTR is pointer-sized, WCHAR is 16 bits). A routine condis does not
 * provide is not declared, so calling one fails at compile time with its name.
 *
 * Parts, in the order the reference pack groups them:
 *   condis/types.h     base types, SAL annotations, calling conventions, IRQL
 *   condis/status.h    NDIS_STATUS values                           (generated)
 *   condis/objects.h   NDIS_OBJECT_HEADER, object types, revisions and sizes
 *   condis/co.h        CO_ADDRESS_FAMILY, CO_SAP, FLOWSPEC, CO_CALL_PARAMETERS  (generated)
 *   condis/nbl.h       MDL, NET_BUFFER, NET_BUFFER_LIST and their accessors
 *   condis/handlers.h  driver callback types                        (generated)
 *   condis/structs.h   characteristics, attributes, parameters      (generated)
 *   condis/misc.h      spin locks, timers, PnP events, unions of optional tables
 *   condis/ddi.h       the NDIS routines condis provides             (generated)
 *   condis/support.h   memory, LIST_ENTRY, interlocked, DbgPrint, ASSERT
 */
#pragma once

/* The NDIS version macros a WDK driver defines before including ndis.h (NDIS60,
   NDIS_MINIPORT_DRIVER, NDIS60_MINIPORT, ...) are accepted and change nothing: condis
   implements NDIS 6.0 CoNDIS semantics whatever they say, and structures carry every field of
   their newest revision (a driver's Header.Revision and Header.Size say which it fills in). */
#define NDIS_SUPPORT_NDIS6   1
#define NDIS_SUPPORT_NDIS61  1
#define NDIS_SUPPORT_NDIS620 1
#define NDIS_SUPPORT_NDIS630 1
#define NDIS_SUPPORT_NDIS680 1

#include "condis/types.h"
#include "condis/status.h"
#include "condis/objects.h"
#include "condis/co.h"
#include "condis/nbl.h"
#include "condis/misc_types.h"
#include "condis/handlers.h"
#include "condis/structs.h"
#include "condis/misc.h"
#include "condis/config.h"
#include "condis/hw.h"
#include "condis/ddi.h"
#ifndef CONDIS_CDEF   /* the C bridge reads the declarations above, not these helpers */
#include "condis/support.h"
#endif
