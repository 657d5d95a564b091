/* unresolved.c - declares and calls a routine nothing defines: the link fails with its name. */
#include <ndis.h>

VOID NdisMRegisterScatterGatherDma(VOID);

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(DriverObject);
    UNREFERENCED_PARAMETER(RegistryPath);
    NdisMRegisterScatterGatherDma();
    return STATUS_SUCCESS;
}
