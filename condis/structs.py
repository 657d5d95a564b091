"""The structures drivers and NDIS exchange, as Python types.

Field names are the documented ones (facts/co-structures.md and the ns-ndis-* pages), so a
driver written from the documentation reads the same here. Handles are opaque objects and a
driver's contexts are whatever Python objects it passes. Pointers to caller storage become
attributes: an IN OUT structure is changed in place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from condis._safe_repr import struct_repr

Handler = Callable[..., Any] | None


@dataclass(slots=True)
class NDIS_OBJECT_HEADER:
    Type: int = 0
    Revision: int = 1
    Size: int = 0


# ---- address families, SAPs, call parameters (facts/co-structures.md) ----

@dataclass(slots=True)
class CO_ADDRESS_FAMILY:
    AddressFamily: int
    MajorVersion: int = 1
    MinorVersion: int = 0


@dataclass(slots=True)
class CO_SAP:
    SapType: int = 0
    SapLength: int = 0
    Sap: bytes = b""

    def __post_init__(self) -> None:
        if not self.SapLength:
            self.SapLength = len(self.Sap)


@dataclass(slots=True)
class CO_SPECIFIC_PARAMETERS:
    ParamType: int = 0
    Length: int = 0
    Parameters: bytes = b""


@dataclass(slots=True)
class FLOWSPEC:
    TokenRate: int = 0
    TokenBucketSize: int = 0
    PeakBandwidth: int = 0
    Latency: int = 0
    DelayVariation: int = 0
    ServiceType: int = 0
    MaxSduSize: int = 0
    MinimumPolicedSize: int = 0


@dataclass(slots=True)
class CO_CALL_MANAGER_PARAMETERS:
    Transmit: FLOWSPEC = field(default_factory=FLOWSPEC)
    Receive: FLOWSPEC = field(default_factory=FLOWSPEC)
    CallMgrSpecific: CO_SPECIFIC_PARAMETERS = field(default_factory=CO_SPECIFIC_PARAMETERS)


@dataclass(slots=True)
class CO_MEDIA_PARAMETERS:
    Flags: int = 0
    ReceivePriority: int = 0
    ReceiveSizeHint: int = 0
    MediaSpecific: CO_SPECIFIC_PARAMETERS = field(default_factory=CO_SPECIFIC_PARAMETERS)


@dataclass(slots=True)
class CO_CALL_PARAMETERS:
    Flags: int = 0
    CallMgrParameters: CO_CALL_MANAGER_PARAMETERS | None = None
    MediaParameters: CO_MEDIA_PARAMETERS | None = None


# ---- driver characteristics (ns-ndis-_ndis_*_characteristics.md) ----

@dataclass(slots=True)
class NDIS_MINIPORT_DRIVER_CHARACTERISTICS:
    Header: NDIS_OBJECT_HEADER | None = None
    MajorNdisVersion: int = 6
    MinorNdisVersion: int = 0
    MajorDriverVersion: int = 1
    MinorDriverVersion: int = 0
    Flags: int = 0
    SetOptionsHandler: Handler = None
    InitializeHandlerEx: Handler = None
    HaltHandlerEx: Handler = None
    UnloadHandler: Handler = None
    PauseHandler: Handler = None
    RestartHandler: Handler = None
    OidRequestHandler: Handler = None
    SendNetBufferListsHandler: Handler = None
    ReturnNetBufferListsHandler: Handler = None
    CancelSendHandler: Handler = None
    CheckForHangHandlerEx: Handler = None
    ResetHandlerEx: Handler = None
    DevicePnPEventNotifyHandler: Handler = None
    ShutdownHandlerEx: Handler = None
    CancelOidRequestHandler: Handler = None
    DirectOidRequestHandler: Handler = None
    CancelDirectOidRequestHandler: Handler = None
    SynchronousOidRequestHandler: Handler = None


@dataclass(slots=True)
class NDIS_PROTOCOL_DRIVER_CHARACTERISTICS:
    Header: NDIS_OBJECT_HEADER | None = None
    MajorNdisVersion: int = 6
    MinorNdisVersion: int = 0
    MajorDriverVersion: int = 1
    MinorDriverVersion: int = 0
    Flags: int = 0
    Name: str = ""
    SetOptionsHandler: Handler = None
    BindAdapterHandlerEx: Handler = None
    UnbindAdapterHandlerEx: Handler = None
    OpenAdapterCompleteHandlerEx: Handler = None
    CloseAdapterCompleteHandlerEx: Handler = None
    NetPnPEventHandler: Handler = None
    UninstallHandler: Handler = None
    OidRequestCompleteHandler: Handler = None
    StatusHandlerEx: Handler = None
    ReceiveNetBufferListsHandler: Handler = None
    SendNetBufferListsCompleteHandler: Handler = None
    DirectOidRequestCompleteHandler: Handler = None


@dataclass(slots=True)
class NDIS_MINIPORT_CO_CHARACTERISTICS:
    Header: NDIS_OBJECT_HEADER | None = None
    Flags: int = 0
    CoCreateVcHandler: Handler = None
    CoDeleteVcHandler: Handler = None
    CoActivateVcHandler: Handler = None
    CoDeactivateVcHandler: Handler = None
    CoSendNetBufferListsHandler: Handler = None
    CoOidRequestHandler: Handler = None


@dataclass(slots=True)
class NDIS_PROTOCOL_CO_CHARACTERISTICS:
    Header: NDIS_OBJECT_HEADER | None = None
    Flags: int = 0
    CoStatusHandlerEx: Handler = None
    CoAfRegisterNotifyHandler: Handler = None
    CoReceiveNetBufferListsHandler: Handler = None
    CoSendNetBufferListsCompleteHandler: Handler = None


@dataclass(slots=True)
class NDIS_CO_CLIENT_OPTIONAL_HANDLERS:
    Header: NDIS_OBJECT_HEADER | None = None
    Reserved: int = 0
    ClCreateVcHandler: Handler = None
    ClDeleteVcHandler: Handler = None
    ClOidRequestHandler: Handler = None
    ClOidRequestCompleteHandler: Handler = None
    ClOpenAfCompleteHandlerEx: Handler = None
    ClCloseAfCompleteHandler: Handler = None
    ClRegisterSapCompleteHandler: Handler = None
    ClDeregisterSapCompleteHandler: Handler = None
    ClMakeCallCompleteHandler: Handler = None
    ClModifyCallQoSCompleteHandler: Handler = None
    ClCloseCallCompleteHandler: Handler = None
    ClAddPartyCompleteHandler: Handler = None
    ClDropPartyCompleteHandler: Handler = None
    ClIncomingCallHandler: Handler = None
    ClIncomingCallQoSChangeHandler: Handler = None
    ClIncomingCloseCallHandler: Handler = None
    ClIncomingDropPartyHandler: Handler = None
    ClCallConnectedHandler: Handler = None
    ClNotifyCloseAfHandler: Handler = None


@dataclass(slots=True)
class NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS:
    Header: NDIS_OBJECT_HEADER | None = None
    Reserved: int = 0
    CmCreateVcHandler: Handler = None
    CmDeleteVcHandler: Handler = None
    CmOpenAfHandler: Handler = None
    CmCloseAfHandler: Handler = None
    CmRegisterSapHandler: Handler = None
    CmDeregisterSapHandler: Handler = None
    CmMakeCallHandler: Handler = None
    CmCloseCallHandler: Handler = None
    CmIncomingCallCompleteHandler: Handler = None
    CmAddPartyHandler: Handler = None
    CmDropPartyHandler: Handler = None
    CmActivateVcCompleteHandler: Handler = None
    CmDeactivateVcCompleteHandler: Handler = None
    CmModifyCallQoSHandler: Handler = None
    CmOidRequestHandler: Handler = None
    CmOidRequestCompleteHandler: Handler = None
    CmNotifyCloseAfCompleteHandler: Handler = None


# ---- binding and adapter initialization ----

@dataclass(slots=True)
class NDIS_BIND_PARAMETERS:
    """The adapter facts NDIS hands ProtocolBindAdapterEx (a subset of the documented fields)."""

    Header: NDIS_OBJECT_HEADER | None = None
    ProtocolSection: str = ""
    AdapterName: str = ""
    MediaType: int = 0
    MtuSize: int = 0
    MaxXmitLinkSpeed: int = 0
    XmitLinkSpeed: int = 0
    MaxRcvLinkSpeed: int = 0
    RcvLinkSpeed: int = 0
    MediaConnectState: int = 0
    MacOptions: int = 0
    BoundAdapterName: str = ""


@dataclass(slots=True)
class NDIS_OPEN_PARAMETERS:
    Header: NDIS_OBJECT_HEADER | None = None
    AdapterName: str = ""
    MediumArray: list[int] = field(default_factory=list)
    MediumArraySize: int = 0
    SelectedMediumIndex: int | None = None  # OUT: NDIS sets it
    FrameTypeArray: list[int] | None = None
    FrameTypeArraySize: int = 0


@dataclass(slots=True)
class NDIS_MINIPORT_INIT_PARAMETERS:
    """What MiniportInitializeEx receives; AllocatedResources is the simulated hardware."""

    Header: NDIS_OBJECT_HEADER | None = None
    Flags: int = 0
    AllocatedResources: Any = None
    IMDeviceInstanceContext: Any = None
    MiniportAddDeviceContext: Any = None
    IfIndex: int = 0
    NetLuid: int = 0


@dataclass(slots=True)
class NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES:
    Header: NDIS_OBJECT_HEADER | None = None
    MiniportAdapterContext: Any = None
    AttributeFlags: int = 0
    CheckForHangTimeInSeconds: int = 0
    InterfaceType: int = 0


@dataclass(slots=True)
class NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES:
    """General attributes (a subset of the documented fields)."""

    Header: NDIS_OBJECT_HEADER | None = None
    Flags: int = 0
    MediaType: int = 0
    PhysicalMediumType: int = 0
    MtuSize: int = 0
    MaxXmitLinkSpeed: int = 0
    XmitLinkSpeed: int = 0
    MaxRcvLinkSpeed: int = 0
    RcvLinkSpeed: int = 0
    MediaConnectState: int = 0
    MacOptions: int = 0
    SupportedOidList: list[int] = field(default_factory=list)


# ---- requests, status, data ----

@dataclass(slots=True)
class NDIS_OID_REQUEST:
    """An OID request; the DATA union's members are flattened into the structure."""

    RequestType: int = 0
    Oid: int = 0
    InformationBuffer: Any = None
    InformationBufferLength: int = 0
    BytesWritten: int = 0
    BytesRead: int = 0
    BytesNeeded: int = 0
    PortNumber: int = 0
    Timeout: int = 0
    RequestId: Any = None
    RequestHandle: Any = None
    Header: NDIS_OBJECT_HEADER | None = None


@dataclass(slots=True)
class NDIS_STATUS_INDICATION:
    Header: NDIS_OBJECT_HEADER | None = None
    SourceHandle: Any = None
    PortNumber: int = 0
    StatusCode: int = 0
    Flags: int = 0
    DestinationHandle: Any = None
    RequestId: Any = None
    StatusBuffer: Any = None
    StatusBufferSize: int = 0
    Guid: Any = None


@dataclass(slots=True)
class NET_BUFFER:
    Next: NET_BUFFER | None = None
    Data: bytes = b""
    DataOffset: int = 0
    DataLength: int = 0


@dataclass(slots=True, eq=False)
class NET_BUFFER_LIST:
    """A NET_BUFFER_LIST; ``Next`` links lists the way NET_BUFFER_LIST_NEXT_NBL does."""

    Next: NET_BUFFER_LIST | None = None
    FirstNetBuffer: NET_BUFFER | None = None
    SourceHandle: Any = None
    Status: int = 0
    Flags: int = 0
    ProtocolReserved: Any = None
    MiniportReserved: Any = None
    Context: Any = None
    Pool: Any = None
    Freed: bool = False


@dataclass(slots=True)
class NET_BUFFER_LIST_POOL_PARAMETERS:
    Header: NDIS_OBJECT_HEADER | None = None
    ProtocolId: int = 0
    fAllocateNetBuffer: bool = True
    ContextSize: int = 0
    PoolTag: int = 0
    DataSize: int = 0


@dataclass(slots=True)
class NDIS_TIMER_CHARACTERISTICS:
    Header: NDIS_OBJECT_HEADER | None = None
    AllocationTag: int = 0
    TimerFunction: Handler = None
    FunctionContext: Any = None


class IO_WORKITEM:
    """A kernel I/O work item in the driver's own storage (in C, IoSizeofWorkItem bytes of nonpaged
    pool), set up by ``Ndis.IoInitializeWorkItem`` (kernel/nf-wdm-ioinitializeworkitem.md).

    Opaque to the driver: what is inside is the kernel's (the host that initialized it, the driver
    whose DRIVER_OBJECT it was initialized with, and the queued event while it is queued).
    """

    __slots__ = ("id", "host", "io_object", "owner", "event")

    def __init__(self) -> None:
        self.id = 0
        self.host: Any = None
        self.io_object: Any = None      # the DRIVER_OBJECT; None until initialized, and once uninitialized
        self.owner: Any = None          # the loaded driver of that DRIVER_OBJECT
        self.event: Any = None          # the scheduled run of its routine, while queued

    def __repr__(self) -> str:
        return f"<IO_WORKITEM {self.id:#x}>" if self.id else "<IO_WORKITEM (never initialized)>"


@dataclass(slots=True)
class NDIS_PNP_EVENT:
    """NET_PNP_EVENT_NOTIFICATION: the event code and its buffer."""

    NetEvent: int = 0
    Buffer: Any = None
    BufferLength: int = 0


# Every structure shows itself with a repr that cannot fail (condis/_safe_repr.py): a refusal's
# message names what the driver passed, however broken.
for _struct in [v for v in globals().values() if isinstance(v, type) and hasattr(v, "__dataclass_fields__")]:
    _struct.__repr__ = struct_repr  # type: ignore[method-assign]
del _struct
