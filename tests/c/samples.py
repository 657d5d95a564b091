"""The C sample drivers (condis/cdriver/samples) built and loaded where a testbed takes a driver class.

- :func:`image` builds a sample through condis's image cache (:func:`condis.cdriver.compiled`),
  once per content of its sources and of condis's header and runtime, so explorer scenarios
  rebuild nothing.
- :func:`c_mcm` gives an ``mcm=`` factory for :func:`condis.demo.testbed` and
  :func:`condis.explore.scenarios.two_hosts`: each call is the next host's MCM, its "OddVcis"
  parameter alternating as the Python MCM's VCI half follows the wire end (A even, B odd).
- :class:`CClient` is the C client where a testbed takes the Python client's class: its
  "Sap" parameter is the testbed's address, and its application interface (app.h) is called
  through the same loaded copy of the image, as the host's client application.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cffi

from condis import _status as st
from condis.cdriver import CDriver, compiled
from condis.cdriver import bridge as B

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "condis" / "cdriver" / "samples"

STATES = ("MAKING", "OFFERED", "ACCEPTED", "UP", "CLOSING", "CLOSED", "FAILED")   # app.h's ATMCLIENT_*

APP_CDEF = """
void *AtmClientPlaceCall(const char *Address, uint32_t AddressLength, uint32_t Rate, unsigned char Multipoint);
int32_t AtmClientSend(void *Call, const char *Data, uint32_t Length);
void AtmClientClose(void *Call);
void AtmClientAccept(void *Call);
void AtmClientReject(void *Call, int32_t Status);
int32_t AtmClientModifyQoS(void *Call, uint32_t Rate);
void AtmClientSetAnswer(int32_t Status);
void *AtmClientAddParty(void *Call, const char *Address, uint32_t AddressLength);
void AtmClientDropParty(void *Party);
uint32_t AtmClientCallCount(void);
void *AtmClientCallAt(uint32_t Index);
uint32_t AtmClientIncomingCount(void);
void *AtmClientIncomingAt(uint32_t Index);
uint32_t AtmClientCallState(void *Call);
int32_t AtmClientCallStatus(void *Call);
int32_t AtmClientCallQoSStatus(void *Call);
unsigned char AtmClientCallDeleted(void *Call);
uint32_t AtmClientCallSent(void *Call);
uint32_t AtmClientCallSendCompleted(void *Call);
uint32_t AtmClientCallReceivedCount(void *Call);
uint32_t AtmClientCallReceived(void *Call, uint32_t Index, unsigned char *Buffer, uint32_t Length);
uint32_t AtmClientPartyCount(void *Call);
void *AtmClientPartyAt(void *Call, uint32_t Index);
uint32_t AtmClientPartyState(void *Party);
"""
_APP = cffi.FFI()
_APP.cdef(APP_CDEF)


def _sources(name: str) -> list[Path]:
    return sorted((SAMPLES / name).glob("*.c"))


def image(name: str, *flags: str) -> Path:
    """The sample ``name`` ("atmmcm", "atmclient" or "atmcm") built with ``flags`` (e.g. a -D that
    plants a bug), from condis's image cache: rebuilt only when a sample's sources, condis's header
    or runtime change."""
    return compiled(_sources(name), flags)


def c_mcm(*flags: str) -> Callable[[], CDriver]:
    """An ``mcm=`` factory: the C MCM for host A (even VCIs), then for host B (odd VCIs)."""
    path = image("atmmcm", *flags)
    ends = itertools.count()
    return lambda: CDriver(path, OddVcis=next(ends) % 2)


class CCall:
    """One call of the C client, read through its application interface."""

    def __init__(self, client: CClient, handle: Any) -> None:
        self.client = client
        self.handle = handle

    def _get(self, name: str) -> Any:
        return self.client.app(name, self.handle)

    @property
    def state(self) -> str:
        return STATES[self._get("AtmClientCallState")]

    @property
    def status(self) -> int:
        return B.unsigned(self._get("AtmClientCallStatus"))

    @property
    def qos_status(self) -> int:
        return B.unsigned(self._get("AtmClientCallQoSStatus"))

    @property
    def deleted(self) -> bool:
        return bool(self._get("AtmClientCallDeleted"))

    @property
    def sent(self) -> int:
        return self._get("AtmClientCallSent")

    @property
    def send_completed(self) -> int:
        return self._get("AtmClientCallSendCompleted")

    @property
    def received(self) -> list[bytes]:
        out = []
        buf = _APP.new("unsigned char[]", 256)
        for i in range(self._get("AtmClientCallReceivedCount")):
            n = self.client.app("AtmClientCallReceived", self.handle, i, buf, 256)
            out.append(bytes(_APP.buffer(buf, n)))
        return out

    @property
    def events(self) -> list[str]:
        return []       # the C client keeps no event log; its state says where the call is

    @property
    def parties(self) -> list[CParty]:
        """The leaves of a multipoint call that are (or are becoming) part of it."""
        count = self._get("AtmClientPartyCount")
        return [CParty(self.client, self.client.app("AtmClientPartyAt", self.handle, i)) for i in range(count)]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CCall) and self.handle == other.handle

    def __hash__(self) -> int:
        return hash(int(_APP.cast("uintptr_t", self.handle)))

    def __repr__(self) -> str:
        return f"<C call {self.state}>"


class CParty:
    """One leaf of a C client's multipoint call."""

    def __init__(self, client: CClient, handle: Any) -> None:
        self.client = client
        self.handle = handle

    @property
    def state(self) -> str:
        return STATES[self.client.app("AtmClientPartyState", self.handle)]

    def __repr__(self) -> str:
        return f"<C party {self.state}>"


class CClient:
    """The C client where a testbed takes ``AtmClient``: ``CClient(saps=(b"alice",), answer=...)``.

    ``answer`` (as the Python client's: a function of the offered call) is asked once, for the
    status every incoming call is answered with, since the C client answers all calls alike.
    """

    def __init__(self, saps: tuple[bytes, ...] = (), answer: Callable[[Any], int] | None = None,
                 flags: tuple[str, ...] = ()) -> None:
        config = {"Sap": saps[0].decode()} if saps else {}
        self.driver = CDriver(image("atmclient", *flags), **config)
        self._answer = answer
        self.lib: Any = None
        self.inst: Any = None

    def DriverEntry(self, ndis: Any, DriverObject: Any, RegistryPath: str) -> int:
        status = self.driver.DriverEntry(ndis, DriverObject, RegistryPath)
        if status == st.NDIS_STATUS_SUCCESS:
            self.inst = self.driver.instances[-1]
            self.lib = _APP.dlopen(str(self.inst.image.copy))   # this load's copy: its globals
            if self._answer is not None:
                self.answer = self._answer
        return status

    def app(self, name: str, *args: Any) -> Any:
        """Call the application interface routine ``name`` as this driver's code."""
        return self.inst.run(getattr(self.lib, name), *args)

    @property
    def answer(self) -> Callable[[Any], int] | None:
        return self._answer

    @answer.setter
    def answer(self, fn: Callable[[Any], int]) -> None:
        self._answer = fn
        if self.lib is not None:
            self.app("AtmClientSetAnswer", B.signed(fn(None)))

    # ---- the Python client's application interface, on the C client ----
    def place_call(self, address: bytes, rate: int = 1_000_000, multipoint: bool = False) -> CCall:
        handle = self.app("AtmClientPlaceCall", address, len(address), rate, multipoint)
        if handle == _APP.NULL:
            raise LookupError("no open AF")
        return CCall(self, handle)

    def send(self, call: CCall, data: bytes) -> None:
        self.app("AtmClientSend", call.handle, data, len(data))

    def add_party(self, call: CCall, address: bytes) -> CParty | None:
        """The new leaf; None if the C client could not add one (no memory for it, or the call is
        not an established multipoint call), as AtmClientAddParty's NULL says."""
        handle = self.app("AtmClientAddParty", call.handle, address, len(address))
        return None if handle == _APP.NULL else CParty(self, handle)

    def drop_party(self, party: CParty) -> None:
        self.app("AtmClientDropParty", party.handle)

    def close(self, call: CCall) -> None:
        self.app("AtmClientClose", call.handle)

    def accept(self, call: CCall) -> None:
        self.app("AtmClientAccept", call.handle)

    def reject(self, call: CCall, status: int = st.NDIS_STATUS_NOT_ACCEPTED) -> None:
        self.app("AtmClientReject", call.handle, B.signed(status))

    def modify_qos(self, call: CCall, rate: int) -> int:
        return B.unsigned(self.app("AtmClientModifyQoS", call.handle, rate))

    @property
    def calls(self) -> list[CCall]:
        return [CCall(self, self.app("AtmClientCallAt", i)) for i in range(self.app("AtmClientCallCount"))]

    @property
    def incoming(self) -> list[CCall]:
        return [CCall(self, self.app("AtmClientIncomingAt", i)) for i in range(self.app("AtmClientIncomingCount"))]


def c_client(*flags: str) -> Callable[..., CClient]:
    """A ``client=`` factory for the C client built with ``flags``."""
    return lambda **kwargs: CClient(flags=flags, **kwargs)


def teardown(bed: Any) -> None:
    """Unload the clients, remove the adapters, unload the MCMs; the verifier must have nothing
    to say, leaks included (a C driver's memory, MDLs and objects are checked at its unload)."""
    for host in bed.hosts:
        if host.drivers["atmclient"].state == "LOADED":
            host.unload_driver("atmclient")
    bed.run()
    for host in bed.hosts:
        for name, adapter in list(host.adapters.items()):
            if adapter.state != "HALTED":
                host.remove_adapter(name)
    bed.run()
    for host in bed.hosts:
        host.unload_driver("atmmcm")
    bed.run()
    report = bed.sim.finish()
    assert report.findings == [], report.report()
