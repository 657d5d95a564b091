"""CoNDIS constants other than NDIS_STATUS_* (facts/co-structures.md)."""

from __future__ import annotations

# IRQL (facts/co-structures.md)
PASSIVE_LEVEL = 0
APC_LEVEL = 1
DISPATCH_LEVEL = 2
# condis's stand-in for the device IRQLs above DISPATCH_LEVEL, where interrupt service routines run
DIRQL = 3
IRQL_NAMES = {PASSIVE_LEVEL: "PASSIVE_LEVEL", APC_LEVEL: "APC_LEVEL", DISPATCH_LEVEL: "DISPATCH_LEVEL", DIRQL: "DIRQL"}

# NDIS_AF: CO_ADDRESS_FAMILY.AddressFamily
CO_ADDRESS_FAMILY_Q2931 = 0x1
CO_ADDRESS_FAMILY_PSCHED = 0x2
CO_ADDRESS_FAMILY_L2TP = 0x3
CO_ADDRESS_FAMILY_IRDA = 0x4
CO_ADDRESS_FAMILY_1394 = 0x5
CO_ADDRESS_FAMILY_PPP = 0x6
CO_ADDRESS_FAMILY_INFINIBAND = 0x7
CO_ADDRESS_FAMILY_TAPI = 0x800
CO_ADDRESS_FAMILY_TAPI_PROXY = 0x801
CO_ADDRESS_FAMILY_PROXY = 0x80000000

# FLOWSPEC.ServiceType
SERVICETYPE_NOTRAFFIC = 0x0
SERVICETYPE_BESTEFFORT = 0x1
SERVICETYPE_CONTROLLEDLOAD = 0x2
SERVICETYPE_GUARANTEED = 0x3
SERVICETYPE_NOCHANGE = 0x6
SERVICETYPE_NONCONFORMING = 0x9
SERVICETYPE_QUALITATIVE = 0xD

# CO_CALL_PARAMETERS.Flags
PERMANENT_VC = 0x01
CALL_PARAMETERS_CHANGED = 0x02
QUERY_CALL_PARAMETERS = 0x04
BROADCAST_VC = 0x08
MULTIPOINT_VC = 0x10

# CO_MEDIA_PARAMETERS.Flags
RECEIVE_TIME_INDICATION = 0x001
USE_TIME_STAMPS = 0x002
TRANSMIT_VC = 0x004
RECEIVE_VC = 0x008
INDICATE_ERRED_PACKETS = 0x010
INDICATE_END_OF_TX = 0x020
RESERVE_RESOURCES_VC = 0x040
ROUND_DOWN_FLOW = 0x080
ROUND_UP_FLOW = 0x100

# NDIS_MEDIUM
(
    NdisMedium802_3, NdisMedium802_5, NdisMediumFddi, NdisMediumWan, NdisMediumLocalTalk,
    NdisMediumDix, NdisMediumArcnetRaw, NdisMediumArcnet878_2, NdisMediumAtm,
    NdisMediumWirelessWan, NdisMediumIrda, NdisMediumBpc, NdisMediumCoWan, NdisMedium1394,
    NdisMediumInfiniBand, NdisMediumTunnel, NdisMediumNative802_11, NdisMediumLoopback,
    NdisMediumWiMAX, NdisMediumIP,
) = range(20)

# NDIS_REQUEST_TYPE (NDIS_OID_REQUEST.RequestType)
NdisRequestQueryInformation = 0
NdisRequestSetInformation = 1
NdisRequestQueryStatistics = 2

# NET_PNP_EVENT_CODE (ProtocolNetPnPEvent)
NetEventSetPower = 0
NetEventQueryPower = 1
NetEventQueryRemoveDevice = 2
NetEventCancelRemoveDevice = 3
NetEventReconfigure = 4
NetEventBindList = 5
NetEventBindsComplete = 6
NetEventPnPCapabilities = 7
NetEventPause = 8
NetEventRestart = 9
NetEventPortActivation = 10
NetEventPortDeactivation = 11
NetEventIMReEnableDevice = 12

# NDIS_HALT_ACTION (MiniportHaltEx)
NdisHaltDeviceDisabled = 0
NdisHaltDeviceInstanceDeInitialized = 1
NdisHaltDevicePoweredDown = 2
NdisHaltDeviceSurpriseRemoved = 3
NdisHaltDeviceFailed = 4
NdisHaltDeviceInitializationFailed = 5
NdisHaltDeviceStopped = 6

# NdisCoSendNetBufferLists / NdisMCoSendNetBufferListsComplete / receive and return flags
NDIS_SEND_FLAGS_DISPATCH_LEVEL = 0x00000001
NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL = 0x00000001
NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL = 0x00000001
NDIS_RECEIVE_FLAGS_RESOURCES = 0x00000002
NDIS_RETURN_FLAGS_DISPATCH_LEVEL = 0x00000001

# WORK_QUEUE_TYPE (IoQueueWorkItemEx: kernel/nf-wdm-ioqueueworkitemex.md, where drivers pass DelayedWorkQueue)
CriticalWorkQueue = 0
DelayedWorkQueue = 1
HyperCriticalWorkQueue = 2

# A few OIDs the sample drivers answer
OID_GEN_CO_LINK_SPEED = 0x00010110
OID_GEN_CO_GET_TIME_CAPS = 0x00010111
OID_GEN_CO_GET_NETCARD_TIME = 0x00010112
OID_GEN_CO_VENDOR_DESCRIPTION = 0x0001010D
OID_CO_ADD_PVC = 0xFE000001
OID_CO_DELETE_PVC = 0xFE000002
OID_CO_GET_CALL_INFORMATION = 0xFE000003

# Status indications (NDIS_STATUS_INDICATION.StatusCode) use NDIS_STATUS_* values.
