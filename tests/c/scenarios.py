"""Explorer scenarios with a C driver: the Python sample client on host A calls the C echo client
(drivers/echo_client.c) on host B through the Python MCM, sends one packet and closes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import condis
from condis.cdriver import CDriver, compiled
from condis.drivers.client import UP, AtmClient
from condis.drivers.mcm import AtmMcm

ECHO = Path(__file__).resolve().parent / "drivers" / "echo_client.c"


def _echo_bed(sim: Any, *flags: str) -> Any:
    wire = condis.Wire(sim)
    a, b = condis.Ndis("A", sim=sim), condis.Ndis("B", sim=sim)
    alice = AtmClient(saps=(b"alice",))
    a.load_driver(AtmMcm().DriverEntry, "atmmcm")
    a.load_driver(alice.DriverEntry, "atmclient")
    a.add_adapter("atmmcm", "atm0", wire.a)
    b.load_driver(AtmMcm().DriverEntry, "atmmcm")
    b.load_driver(CDriver(compiled([ECHO], flags), Sap="bob").DriverEntry, "echoclient")
    b.add_adapter("atmmcm", "atm0", wire.b)
    calls: list[Any] = []

    def call() -> None:
        calls.append(alice.place_call(b"bob"))

    def send() -> None:
        if calls and calls[0].state == UP:
            alice.send(calls[0], b"ping")

    def close() -> None:
        if calls and calls[0].state == UP:
            alice.close(calls[0])
    a.post(call, delay_ns=1_000_000, owner=("atmclient", "Client"))
    a.post(send, delay_ns=2_000_000, owner=("atmclient", "Client"))
    a.post(close, delay_ns=3_000_000, owner=("atmclient", "Client"))
    return calls


def echo_call(sim: Any) -> Any:
    """The call, one packet echoed back, the close; the check: the echo came back."""
    calls = _echo_bed(sim)

    def check() -> None:
        assert calls and calls[0].received == [b"ping"], f"no echo: {calls and calls[0].received}"
    return check


def echo_crash(sim: Any) -> Any:
    """The same with the echo client's planted bug: it crashes when a VC brings it a second packet,
    which only a duplicated frame does."""
    _echo_bed(sim, "-DECHO_CRASHES_ON_A_SECOND_PACKET")
    return None
