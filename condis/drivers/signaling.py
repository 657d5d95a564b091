"""The ATM-like signaling both sample call managers speak, and the cells the wire carries.

A cell is ``(vci, payload)``. VCI 5 carries signaling messages (as in ATM); other VCIs carry call
data. Messages are a small subset of Q.2931: SETUP, CALL PROCEEDING, CONNECT, CONNECT ACK, RELEASE,
RELEASE COMPLETE, ADD PARTY, DROP PARTY, and RESTART (for every call at once: its sender is going
away). Each call has a call reference chosen by the side that placed it; ``mine`` on the wire says
whether the sender is that side, so both ends key a call by (reference, placed-locally). How the
call managers cope with a wire that loses, duplicates or delays messages is described in
:mod:`condis.drivers.callcontrol`.
"""

from __future__ import annotations

from dataclasses import dataclass

from condis.constants import CO_ADDRESS_FAMILY_Q2931, RECEIVE_VC, TRANSMIT_VC
from condis.structs import (
    CO_CALL_MANAGER_PARAMETERS,
    CO_CALL_PARAMETERS,
    CO_MEDIA_PARAMETERS,
    CO_SPECIFIC_PARAMETERS,
    FLOWSPEC,
)

SIGNALING_VCI = 5
FIRST_DATA_VCI = 32
AF = CO_ADDRESS_FAMILY_Q2931

SETUP = "SETUP"
CALL_PROCEEDING = "CALL_PROCEEDING"
CONNECT = "CONNECT"
CONNECT_ACK = "CONNECT_ACK"
RELEASE = "RELEASE"
RELEASE_COMPLETE = "RELEASE_COMPLETE"
ADD_PARTY = "ADD_PARTY"
DROP_PARTY = "DROP_PARTY"
RESTART = "RESTART"

CAUSE_NORMAL = 16
CAUSE_REJECTED = 21
CAUSE_NO_ROUTE = 3
CAUSE_OUT_OF_ORDER = 27     # destination out of order: the peer's call manager went away
CAUSE_RESOURCES = 47        # resources unavailable: the NIC could not carry the call
CAUSE_BAD_REFERENCE = 81    # the message names a call the receiver does not know
CAUSE_TIMER = 102           # recovery on timer expiry: the peer never answered


@dataclass(frozen=True, slots=True)
class Cell:
    """What the wire carries: a VCI and its payload."""

    vci: int
    payload: bytes

    def __str__(self) -> str:
        if self.vci == SIGNALING_VCI:
            return str(Message.decode(self.payload))
        return f"DATA vci={self.vci} {len(self.payload)}B"


@dataclass(frozen=True, slots=True)
class Message:
    """One signaling message."""

    kind: str
    ref: int
    mine: bool          # the sender placed this call
    vci: int = 0
    cause: int = 0
    endpoint: int = 0   # party (leaf) reference for ADD/DROP PARTY
    address: bytes = b""
    rate: int = 0

    def encode(self) -> bytes:
        return (f"{self.kind} {self.ref} {int(self.mine)} {self.vci} {self.cause} {self.endpoint} "
                f"{self.address.hex() or '-'} {self.rate}").encode()

    @classmethod
    def decode(cls, raw: bytes) -> Message:
        kind, ref, mine, vci, cause, endpoint, address, rate = raw.decode().split()
        return cls(kind, int(ref), mine == "1", int(vci), int(cause), int(endpoint),
                   b"" if address == "-" else bytes.fromhex(address), int(rate))

    def __str__(self) -> str:
        extra = f" vci={self.vci}" if self.vci else ""
        extra += f" cause={self.cause}" if self.cause else ""
        extra += f" ep={self.endpoint}" if self.endpoint else ""
        return f"{self.kind} ref={self.ref}{extra}"


def signal(msg: Message) -> Cell:
    return Cell(SIGNALING_VCI, msg.encode())


def call_parameters(address: bytes, rate: int = 1_000_000, vci: int = 0) -> CO_CALL_PARAMETERS:
    """Call parameters as the samples use them: the called address in CallMgrSpecific, the rate in
    the FLOWSPECs, and (once signaling chose it) the VCI list in MediaSpecific."""
    flow = FLOWSPEC(TokenRate=rate, PeakBandwidth=rate, MaxSduSize=9180, ServiceType=1)
    cm = CO_CALL_MANAGER_PARAMETERS(Transmit=flow, Receive=FLOWSPEC(**{f: getattr(flow, f) for f in flow.__slots__}),
                                    CallMgrSpecific=CO_SPECIFIC_PARAMETERS(ParamType=1, Length=len(address),
                                                                           Parameters=address))
    media = CO_MEDIA_PARAMETERS(Flags=TRANSMIT_VC | RECEIVE_VC, ReceiveSizeHint=9180,
                                MediaSpecific=vcis_parameter([vci] if vci else []))
    return CO_CALL_PARAMETERS(CallMgrParameters=cm, MediaParameters=media)


def called_address(params: CO_CALL_PARAMETERS) -> bytes:
    cm = params.CallMgrParameters
    return cm.CallMgrSpecific.Parameters if cm is not None else b""


def rate_of(params: CO_CALL_PARAMETERS) -> int:
    cm = params.CallMgrParameters
    return cm.Transmit.TokenRate if cm is not None else 0


def vcis_parameter(vcis: list[int]) -> CO_SPECIFIC_PARAMETERS:
    raw = b"".join(v.to_bytes(4, "big") for v in vcis)   # VPI << 16 | VCI
    return CO_SPECIFIC_PARAMETERS(ParamType=2, Length=len(raw), Parameters=raw)


def vcis_of(params: CO_CALL_PARAMETERS | None) -> list[int]:
    """The VCIs a data VC uses, from its media parameters."""
    if params is None or params.MediaParameters is None:
        return []
    raw = params.MediaParameters.MediaSpecific.Parameters
    return [int.from_bytes(raw[i:i + 4], "big") for i in range(0, len(raw), 4)]


class VciPool:
    """Data VCIs one side of a wire allocates (even on one end, odd on the other, so they never clash)."""

    def __init__(self, odd: bool) -> None:
        self._next = FIRST_DATA_VCI + (1 if odd else 0)

    def take(self) -> int:
        vci = self._next
        self._next += 2
        return vci
