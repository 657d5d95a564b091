"""``condis demo``: two hosts, a call placed and answered, data both ways, one call closed from each
side — through the sample MCM, then through the stand-alone call manager over a CoNDIS miniport —
drawn in lanes like the guide's figures."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from condis import _status as st
from condis.drivers.client import AtmClient, Call
from condis.drivers.cm import AtmCallManager
from condis.drivers.mcm import AtmMcm
from condis.drivers.miniport import AtmMiniport
from condis.ndis.host import Ndis
from condis.sim import Simulation
from condis.trace.lanes import render
from condis.trace.recorder import Recorder
from condis.wire import Wire


@dataclass
class Testbed:
    """Two hosts on one wire, each with a call manager (MCM, or miniport + stand-alone CM) and a client."""

    sim: Simulation
    wire: Wire
    hosts: list[Ndis]
    clients: list[AtmClient]
    call_managers: list[Any]
    recorder: Recorder | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def run(self) -> int:
        return self.sim.run()

    def do(self, host: int, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` on a host as the client application, then run the simulation to quiet."""
        h = self.hosts[host]
        h.post(fn, *args, owner=("atmclient", "Client"))
        self.sim.run()


def testbed(kind: str = "mcm", recorder: Recorder | None = None, addresses: tuple[bytes, bytes] = (b"alice", b"bob"),
            answer: Callable[[Call], int] | None = None, verify: str = "strict", *, mcm: type = AtmMcm,
            cm: type = AtmCallManager, miniport: type = AtmMiniport, client: type = AtmClient) -> Testbed:
    """Build two hosts A and B joined by a wire; ``kind`` is "mcm" or "cm" (stand-alone call manager);
    ``verify`` is the verifier mode (see :mod:`condis.verifier`). ``mcm``, ``cm``, ``miniport`` and
    ``client`` are the driver classes to load, so a variant of a sample driver can take its place."""
    mcm_class, cm_class, miniport_class, client_class = mcm, cm, miniport, client
    sim = Simulation(tracer=recorder, verify=verify)
    wire = Wire(sim)
    hosts, clients, cms = [], [], []
    for name, port, address in (("A", wire.a, addresses[0]), ("B", wire.b, addresses[1])):
        host = Ndis(name, sim=sim)
        if kind == "mcm":
            manager: Any = mcm_class()
            _check(host.load_driver(manager.DriverEntry, "atmmcm"), "load atmmcm")
            adapter_driver = "atmmcm"
        else:
            _check(host.load_driver(miniport_class().DriverEntry, "atmmp"), "load atmmp")
            manager = cm_class(odd_vcis=port is wire.b)
            _check(host.load_driver(manager.DriverEntry, "atmcm"), "load atmcm")
            adapter_driver = "atmmp"
        cms.append(manager)
        app = client_class(saps=(address,), answer=answer)
        _check(host.load_driver(app.DriverEntry, "atmclient"), "load atmclient")
        _check(host.add_adapter(adapter_driver, "atm0", port), "add adapter")
        hosts.append(host)
        clients.append(app)
    bed = Testbed(sim, wire, hosts, clients, cms, recorder)
    bed.run()
    return bed


def _check(status: int, what: str) -> None:
    if status != st.NDIS_STATUS_SUCCESS:
        raise RuntimeError(f"{what} failed with {st.STATUS_NAMES.get(status, status)}")


@dataclass
class DemoResult:
    text: str
    recorder: Recorder
    calls: list[Call]
    findings: list[Any]


def run_demo(out: Callable[[str], Any] = print, kinds: tuple[str, ...] = ("mcm", "cm"),
             verify: str = "strict") -> list[DemoResult]:
    """Run the demo for each configuration, printing lanes through ``out``; returns what it drew."""
    results = [_demo(kind, verify) for kind in kinds]
    for r in results:
        out(r.text)
    return results


def _demo(kind: str, verify: str = "strict") -> DemoResult:
    """One configuration of the demo: its lanes and what happened."""
    rec = Recorder(states=True)     # the saved trace (--trace) also gives `condis coverage` its states
    bed = testbed(kind, rec, verify=verify)
    a, b = bed.clients
    title = ("MCM: client | NDIS | MCM on each host" if kind == "mcm" else
             "Stand-alone call manager over a CoNDIS miniport on each host")
    sections: list[str] = [f"\n══ {title} " + "═" * 40]
    mark = len(rec.records)

    def section(name: str) -> None:
        nonlocal mark
        sections.append(render(rec.records[mark:], name))
        mark = len(rec.records)

    setup = [r for r in rec.records if r.kind == "ddi" and r.name in ("NdisClOpenAddressFamilyEx",
                                                                    "NdisClRegisterSap")]
    sections.append(f"set-up: {len(rec.records)} traced steps; "
                    f"{sum(1 for r in setup if r.name == 'NdisClOpenAddressFamilyEx')} AFs opened, "
                    f"{sum(1 for r in setup if r.name == 'NdisClRegisterSap')} SAPs registered")
    mark = len(rec.records)
    calls: list[Call] = []
    bed.do(0, lambda: calls.append(a.place_call(b"bob")))
    section("A calls bob at B: making a call / indicating an incoming call")
    first, answered = calls[0], b.incoming[-1]
    bed.do(0, a.send, first, b"hello from A")
    bed.do(1, b.send, answered, b"hello from B")
    section("data both ways")
    bed.do(0, a.close, first)
    section("A closes the call: client-initiated close, incoming close at B")
    bed.do(1, lambda: calls.append(b.place_call(b"alice")))
    second, answered2 = calls[1], a.incoming[-1]
    section("B calls alice at A")
    bed.do(0, a.close, answered2)
    section("A closes the call B placed: the other side's close")
    for host in bed.hosts:
        for name in ("atmclient",):
            host.unload_driver(name)
    bed.run()
    summary = (f"result: call 1 {first.state}, B received {answered.received}, A received {first.received}; "
               f"call 2 {second.state}; client VCs left: "
               f"{sum(1 for h in bed.hosts for ad in h.adapters.values() for v in ad.vcs if v.af is not None)}")
    sections.append(summary)
    verifier = bed.sim.finish()
    sections.append(f"teardown: every driver unloaded on both hosts; {verifier.report()}")
    text = "\n".join(s for s in sections if s)
    return DemoResult(text, rec, calls, verifier.findings)
