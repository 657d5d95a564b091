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

import struct
from collections.abc import Sequence
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


_KINDS = (SETUP, CALL_PROCEEDING, CONNECT, CONNECT_ACK, RELEASE, RELEASE_COMPLETE, ADD_PARTY, DROP_PARTY, RESTART)
_CODES = {kind: code for code, kind in enumerate(_KINDS)}
# A message on the wire: its kind (as its index in _KINDS), whether the sender placed the call, the
# call reference, VCI, cause, endpoint and rate, big-endian; then the called address, to the end.
_HEADER = struct.Struct(">B?IIHIq")
_VCI = struct.Struct(">I")      # one entry of a VCI list: VPI << 16 | VCI


# Built for every frame: slotted but not frozen (a frozen dataclass's __init__ costs several times
# more). Nothing changes a cell or a message once it is built.
@dataclass(slots=True)
class Cell:
    """What the wire carries: a VCI and its payload."""

    vci: int
    payload: bytes

    def __str__(self) -> str:
        if self.vci == SIGNALING_VCI:
            msg = Message.decode(self.payload)
            return str(msg) if msg is not None else f"SIGNALING (no message) {len(self.payload)}B"
        return f"DATA vci={self.vci} {len(self.payload)}B"


@dataclass(slots=True)     # not frozen, for the reason Cell is not
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
        return _HEADER.pack(_CODES[self.kind], self.mine, self.ref, self.vci, self.cause, self.endpoint,
                            self.rate) + self.address

    @classmethod
    def decode(cls, raw: bytes) -> Message | None:
        """The message in a frame; None for a frame that holds none (too short, an unknown kind)."""
        if len(raw) < _HEADER.size or raw[0] >= len(_KINDS):
            return None
        code, mine, ref, vci, cause, endpoint, rate = _HEADER.unpack_from(raw)
        return cls(_KINDS[code], ref, mine, vci, cause, endpoint, raw[_HEADER.size:], rate)

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
    # Every call builds these, so the structures are filled positionally (keyword arguments cost
    # twice as much); the field names are in condis.structs. Each direction has its own FLOWSPEC:
    # a driver may change one without the other.
    cm = CO_CALL_MANAGER_PARAMETERS(_flowspec(rate), _flowspec(rate),
                                    CO_SPECIFIC_PARAMETERS(1, len(address), address))
    media = CO_MEDIA_PARAMETERS(TRANSMIT_VC | RECEIVE_VC, 0, 9180, vcis_parameter((vci,) if vci else ()))
    return CO_CALL_PARAMETERS(0, cm, media)


def _flowspec(rate: int) -> FLOWSPEC:
    # TokenRate, TokenBucketSize, PeakBandwidth, Latency, DelayVariation, ServiceType, MaxSduSize,
    # MinimumPolicedSize
    return FLOWSPEC(rate, 0, rate, 0, 0, 1, 9180, 0)


def called_address(params: CO_CALL_PARAMETERS) -> bytes:
    cm = params.CallMgrParameters
    return cm.CallMgrSpecific.Parameters if cm is not None else b""


def rate_of(params: CO_CALL_PARAMETERS) -> int:
    cm = params.CallMgrParameters
    return cm.Transmit.TokenRate if cm is not None else 0


def vcis_parameter(vcis: Sequence[int]) -> CO_SPECIFIC_PARAMETERS:
    raw = b"".join(map(_VCI.pack, vcis))
    return CO_SPECIFIC_PARAMETERS(2, len(raw), raw)     # ParamType, Length, Parameters


def vcis_of(params: CO_CALL_PARAMETERS | None) -> list[int]:
    """The VCIs a data VC uses, from its media parameters."""
    if params is None or params.MediaParameters is None:
        return []
    return [v for (v,) in _VCI.iter_unpack(params.MediaParameters.MediaSpecific.Parameters)]


class VciPool:
    """Data VCIs one side of a wire allocates (even on one end, odd on the other, so they never clash)."""

    def __init__(self, odd: bool) -> None:
        self._next = FIRST_DATA_VCI + (1 if odd else 0)

    def take(self) -> int:
        vci = self._next
        self._next += 2
        return vci
