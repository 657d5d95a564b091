/* no_entry.c - an image without a DriverEntry, which condis refuses to load. */
#include <ndis.h>

ULONG NotADriver(VOID)
{
    return 0;
}
