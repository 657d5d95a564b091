/* undeclared.c - calls an NDIS routine condis does not provide: the build fails with its name. */
#include <ndis.h>

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(DriverObject);
    UNREFERENCED_PARAMETER(RegistryPath);
    NdisMSleep(10);
    return STATUS_SUCCESS;
}
