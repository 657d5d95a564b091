"""What ``condis bench`` measures for C drivers: the send path from C, and call lifecycles with the
C sample drivers next to the Python ones (see :mod:`condis.bench`)."""

from __future__ import annotations

import time
from pathlib import Path

import condis
from condis.cdriver import bridge as B
from condis.cdriver.build import compiled
from condis.cdriver.driver import CDriver
from condis.drivers.client import AtmClient
from condis.drivers.mcm import AtmMcm

ECHO = Path(__file__).resolve().parent / "samples" / "echo"


def send_path(n: int) -> tuple[float, float, float]:
    """(ns per send from C through NDIS, ns per direct C call of the same handlers, ratio).

    The C echo client on host B answers a call from the Python client on host A; the MCM's send
    handler and the echo client's send-complete handler are replaced by the two C handlers of
    samples/echo/sendpath.c before the call is made (NDIS fixes a VC's data routes when it creates
    it), and the same handlers are then called directly in C, in alternating rounds.
    """
    echo = CDriver(compiled([ECHO / "echo_client.c", ECHO / "sendpath.c"]), Sap="bob")
    sim = condis.Simulation(verify="strict")
    wire = condis.Wire(sim)
    a, b = condis.Ndis("A", sim=sim), condis.Ndis("B", sim=sim)
    alice = AtmClient(saps=(b"alice",))
    a.load_driver(AtmMcm().DriverEntry, "atmmcm")
    a.load_driver(alice.DriverEntry, "atmclient")
    a.add_adapter("atmmcm", "atm0", wire.a)
    b.load_driver(AtmMcm().DriverEntry, "atmmcm")
    b.load_driver(echo.DriverEntry, "echoclient")
    b.add_adapter("atmmcm", "atm0", wire.b)
    sim.run()
    inst = echo.on(b)
    image = inst.image
    handler = "VOID (NDIS_HANDLE, PNET_BUFFER_LIST, ULONG)"
    mp = b.drivers["atmmcm"].miniport
    cl = b.drivers["echoclient"].protocol
    mp.co.CoSendNetBufferListsHandler = B.thunk(inst, image.symbol("BenchMiniportSend", handler),
                                                "MINIPORT_CO_SEND_NET_BUFFER_LISTS")
    cl.co.CoSendNetBufferListsCompleteHandler = B.thunk(inst, image.symbol("BenchSendComplete", handler),
                                                        "PROTOCOL_CO_SEND_NET_BUFFER_LISTS_COMPLETE")
    a.post(lambda: alice.place_call(b"bob"))
    sim.run()
    (vc,) = b.adapters["atm0"].vcs
    side = B.side_of(b)
    c_vc, c_mp_vc = side.to_c(vc.h_client), side.to_c(vc.h_miniport)
    prepare = inst.function("BenchPrepare", "PNET_BUFFER_LIST (NDIS_HANDLE, NDIS_HANDLE)")
    c_nbl = prepare(side.to_c(cl), c_vc)
    through_ndis = inst.function("BenchThroughNdis", "ULONG (NDIS_HANDLE, NDIS_HANDLE, PNET_BUFFER_LIST, ULONG)")
    direct = inst.function("BenchDirect", "ULONG (PNET_BUFFER_LIST, ULONG)")
    rounds = 10
    per = max(n // rounds, 1)
    through = floor = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        done = through_ndis(c_vc, c_mp_vc, c_nbl, per)
        through = min(through, (time.perf_counter() - start) / per)
        if done != per:
            raise RuntimeError(f"{done} of {per} sends from C completed")
        start = time.perf_counter()
        direct(c_nbl, per * 100)
        floor = min(floor, (time.perf_counter() - start) / (per * 100))
    return through * 1e9, floor * 1e9, through / floor


def call_into_ndis(n: int) -> float:
    """ns per call from C into NDIS of a routine that only answers (KeGetCurrentIrql): what the
    crossing itself costs."""
    echo = CDriver(compiled([ECHO / "echo_client.c", ECHO / "sendpath.c"]), Sap="bob")
    sim = condis.Simulation()
    host = condis.Ndis("A", sim=sim)
    host.load_driver(echo.DriverEntry, "echoclient")
    calls = echo.on(host).function("BenchCallIntoNdis", "ULONG (ULONG)")
    calls(10)
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        calls(max(n // 5, 1))
        best = min(best, (time.perf_counter() - start) / max(n // 5, 1))
    sim.finish()
    return best * 1e9


def _sample(name: str) -> Path:
    return compiled(sorted((Path(__file__).resolve().parent / "samples" / name).glob("*.c")))


def lifecycles(n: int) -> float:
    """Call lifecycles per second through the C sample MCM and client on both hosts: the lifecycle
    :func:`condis.bench.lifecycles` times through the Python samples, driven through the C client's
    application interface (samples/atmclient/app.h)."""
    from condis import _status as st
    from condis.cdriver._ffi import ffi
    mcm_image, client_image = _sample("atmmcm"), _sample("atmclient")
    sim = condis.Simulation(verify="strict")
    wire = condis.Wire(sim)
    clients = []
    hosts = []
    for name, port, sap, odd in (("A", wire.a, "alice", 0), ("B", wire.b, "bob", 1)):
        host = condis.Ndis(name, sim=sim)
        client = CDriver(client_image, Sap=sap)
        for driver, entry in (("atmmcm", CDriver(mcm_image, OddVcis=odd).DriverEntry), ("atmclient", client.DriverEntry)):
            if host.load_driver(entry, driver) != st.NDIS_STATUS_SUCCESS:
                raise RuntimeError(f"the C sample {driver} did not load")
        host.add_adapter("atmmcm", "atm0", port)
        clients.append(client)
        hosts.append(host)
    sim.run()
    a = clients[0].on(hosts[0])
    place = a.function("AtmClientPlaceCall", "PVOID (PUCHAR, ULONG, ULONG)")
    close = a.function("AtmClientClose", "VOID (PVOID)")
    state = a.function("AtmClientCallState", "ULONG (PVOID)")
    bob = ffi().new("UCHAR[]", b"bob")
    calls: list[object] = []
    start = time.perf_counter()
    for _ in range(n):
        hosts[0].post(lambda: calls.append(place(bob, 3, 1_000_000)))
        sim.run()
        call = calls.pop()
        if state(call) != 3:       # ATMCLIENT_UP
            raise RuntimeError("a call through the C samples did not come up")
        hosts[0].post(close, call)
        sim.run()
    return n / (time.perf_counter() - start)
