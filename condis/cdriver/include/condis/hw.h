/* The simulated hardware the sample miniports drive: one end of a condis.Wire, found in
   MiniportInitParameters->AllocatedResources. A frame is a cell: a VCI and its payload.
   Frames arrive as the NIC's receive interrupt, at DISPATCH_LEVEL on the receiving host. */
#pragma once

typedef VOID (CONDIS_WIRE_RECEIVE)(PVOID Context, ULONG Vci, PUCHAR Data, ULONG Length);
typedef CONDIS_WIRE_RECEIVE *PCONDIS_WIRE_RECEIVE;
