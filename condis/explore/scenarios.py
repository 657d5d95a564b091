"""Built-in scenarios: the flows of the guide and the classic CoNDIS races, on the sample drivers.

Each scenario exists for both sample configurations: ``mcm/NAME`` (an MCM on each host) and
``cm/NAME`` (a stand-alone call manager over a CoNDIS miniport on each host). Host A's client
listens on "alice", host B's on "bob". Steps are posted at fixed virtual times; the sample wire
takes 10 us, so steps 100 us apart are sequential in the default order, and the races are set up
by posting two steps close enough that a strategy's window lets either run first.

:func:`two_hosts` and :class:`Bed` are for scenarios of your own: pass your driver classes in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from condis import _status as st
from condis.drivers.client import CLOSED, FAILED, UP, AtmClient, Call
from condis.drivers.cm import AtmCallManager
from condis.drivers.mcm import AtmMcm
from condis.drivers.miniport import AtmMiniport
from condis.ndis.host import Ndis
from condis.wire import Wire

US = 1_000
CLIENT = ("atmclient", "Client")
TEARDOWN_POLLS = 40       # 2 ms of virtual time for each teardown stage


@dataclass
class Bed:
    """Two hosts A and B on one wire, each with a call manager (or MCM) and a client."""

    kind: str
    wire: Wire
    hosts: list[Ndis]
    clients: list[AtmClient]
    managers: list[Any]
    miniport: str
    calls: dict[str, Call] = field(default_factory=dict)
    expected: list[str] = field(default_factory=list)
    torn_down: list[bool] = field(default_factory=list)

    def at(self, t_ns: int, host: int, fn: Callable[..., Any], *args: Any, owner: Any = CLIENT) -> None:
        """Run ``fn(*args)`` on host ``host`` (0 is A) at virtual time ``t_ns``, at PASSIVE_LEVEL."""
        h = self.hosts[host]
        h.post(fn, *args, delay_ns=t_ns - h.now, owner=owner)

    def place(self, t_ns: int, host: int, name: str, address: bytes, multipoint: bool = False) -> None:
        """At ``t_ns``, host ``host``'s client calls ``address``; the call is remembered as ``name``."""
        def step() -> None:
            self.calls[name] = self.clients[host].place_call(address, multipoint=multipoint)
        self.expected.append(name)
        self.at(t_ns, host, step)

    def answered(self, host: int, index: int) -> Call | None:
        """The ``index``-th call host ``host``'s client was offered, if it has arrived."""
        incoming = self.clients[host].incoming
        return incoming[index] if len(incoming) > index else None

    def hang_up(self, t_ns: int, host: int, call: Callable[[], Call | None]) -> None:
        """At ``t_ns``, host ``host``'s user hangs up ``call()`` if it is still up (an application's
        close: it does nothing for a call already closing, failed or not yet there)."""
        def step() -> None:
            c = call()
            if c is not None and c.state == UP:
                self.clients[host].close(c)
        self.at(t_ns, host, step)

    def send(self, t_ns: int, host: int, call: Callable[[], Call | None], data: bytes) -> None:
        def step() -> None:
            c = call()
            if c is not None and c.state == UP:
                self.clients[host].send(c, data)
        self.at(t_ns, host, step)

    def teardown(self, t_ns: int) -> None:
        """From ``t_ns`` on: unload the clients, remove the adapters, unload the call managers and
        miniports, each host on its own, each stage once the previous one completed."""
        self.torn_down = [False, False]
        for i in range(2):
            self.at(t_ns, i, self._teardown, i, [], owner=None)

    def _teardown(self, i: int, waiting: list[Any], polls: int = 0) -> None:
        host = self.hosts[i]
        if any(not c.done for c in waiting):
            # Give up after a while: a stage that never completes is reported by check() and teardown.
            if polls < TEARDOWN_POLLS:
                host.post(self._teardown, i, waiting, polls + 1, delay_ns=50 * US)
            return
        if host.drivers["atmclient"].state == "LOADED":
            host.post(self._teardown, i, [host.unload_driver("atmclient")], delay_ns=50 * US)
        elif any(a.state != "HALTED" for a in host.adapters.values()):
            host.post(self._teardown, i, [host.remove_adapter(n) for n, a in host.adapters.items()
                                           if a.state != "HALTED"], delay_ns=50 * US)
        elif any(d.state == "LOADED" for d in host.drivers.values()):
            host.post(self._teardown, i, [host.unload_driver(n) for n, d in host.drivers.items()
                                           if d.state == "LOADED"], delay_ns=50 * US)
        else:
            self.torn_down[i] = True

    def check(self) -> None:
        """Every call the scenario placed was made (or failed) and is over; both hosts were torn down."""
        for name in self.expected:
            assert name in self.calls, f"call {name!r} was never placed"
        for client, host in zip(self.clients, self.hosts, strict=True):
            for c in client.calls:
                assert c.state in (CLOSED, FAILED), f"[{host.name}] a call is stuck in state {c.state}: {c.events}"
        stuck = [h.name for h, done in zip(self.hosts, self.torn_down, strict=True) if not done]
        assert not stuck, f"teardown did not finish on host(s) {', '.join(stuck)}"


def two_hosts(sim: Any, kind: str = "mcm", client: Callable[..., AtmClient] = AtmClient,
              mcm: Callable[[], Any] = AtmMcm, cm: Callable[..., Any] = AtmCallManager,
              miniport: Callable[[], Any] = AtmMiniport,
              answer: tuple[Callable[[Call], int] | None, Callable[[Call], int] | None] = (None, None)) -> Bed:
    """Build hosts A and B in ``sim``: ``kind`` "mcm" loads ``mcm()`` on each, "cm" loads
    ``miniport()`` and ``cm(odd_vcis=...)``; then ``client(saps=..., answer=...)`` and the adapter."""
    wire = Wire(sim)
    hosts, clients, managers = [], [], []
    for i, (name, port, address) in enumerate((("A", wire.a, b"alice"), ("B", wire.b, b"bob"))):
        host = Ndis(name, sim=sim)
        if kind == "mcm":
            manager = mcm()
            _check(host.load_driver(manager.DriverEntry, "atmmcm"), "load atmmcm")
            miniport_name = "atmmcm"
        elif kind == "cm":
            _check(host.load_driver(miniport().DriverEntry, "atmmp"), "load atmmp")
            manager = cm(odd_vcis=port is wire.b)
            _check(host.load_driver(manager.DriverEntry, "atmcm"), "load atmcm")
            miniport_name = "atmmp"
        else:
            raise ValueError(f"kind must be 'mcm' or 'cm', not {kind!r}")
        c = client(saps=(address,), answer=answer[i])
        _check(host.load_driver(c.DriverEntry, "atmclient"), "load atmclient")
        _check(host.add_adapter(miniport_name, "atm0", port), "add adapter")
        hosts.append(host)
        clients.append(c)
        managers.append(manager)
    return Bed(kind, wire, hosts, clients, managers, miniport_name)


def _check(status: int, what: str) -> None:
    if status != st.NDIS_STATUS_SUCCESS:
        raise RuntimeError(f"{what} failed with {st.STATUS_NAMES.get(status, status)}")


# ---- the workloads ---------------------------------------------------------------------------

def call_flow(bed: Bed) -> None:
    """The guide's flows in sequence: A calls bob, data both ways, A closes (client-initiated close,
    incoming close at B); B calls alice and A closes that one (the other side's close)."""
    bed.place(100 * US, 0, "a->bob", b"bob")
    bed.send(200 * US, 0, lambda: bed.calls.get("a->bob"), b"hello from A")
    bed.send(200 * US, 1, lambda: bed.answered(1, 0), b"hello from B")
    bed.hang_up(300 * US, 0, lambda: bed.calls.get("a->bob"))
    bed.place(400 * US, 1, "b->alice", b"alice")
    bed.hang_up(500 * US, 0, lambda: bed.answered(0, 0))
    bed.teardown(600 * US)


def close_race(bed: Bed) -> None:
    """A local NdisClCloseCall crossing an incoming close: both users hang up within the wire's
    latency, so each side's RELEASE may reach the other before or after its own close."""
    bed.place(100 * US, 0, "a->bob", b"bob")
    bed.hang_up(300 * US, 0, lambda: bed.calls.get("a->bob"))
    bed.hang_up(315 * US, 1, lambda: bed.answered(1, 0))
    bed.teardown(500 * US)


def hangup_while_connecting(bed: Bed) -> None:
    """B's user hangs up the moment the call is connected there, while A's make-call may still be
    completing (A's call manager activates the VC before it completes the make-call)."""
    bed.place(100 * US, 0, "a->bob", b"bob")
    bed.hang_up(130 * US + 1, 1, lambda: bed.answered(1, 0))
    bed.hang_up(300 * US, 0, lambda: bed.calls.get("a->bob"))
    bed.teardown(500 * US)


def af_withdraw(bed: Bed) -> None:
    """An AF closed while calls are up: host A's adapter is removed (so its call manager withdraws
    the AF, or its client unbinds) while one call is up and another is arriving from B."""
    bed.place(100 * US, 0, "a->bob", b"bob")
    bed.place(300 * US, 1, "b->alice", b"alice")
    bed.at(310 * US, 0, lambda: bed.hosts[0].remove_adapter("atm0"), owner=None)
    bed.teardown(600 * US)


def drop_party_race(bed: Bed) -> None:
    """A drop-party crossing an incoming drop: A's multipoint call has two leaves at B; A drops the
    second just as B's user hangs that leaf up."""
    def add() -> None:
        call = bed.calls.get("a->bob")
        if call is not None and call.state == UP:
            bed.clients[0].add_party(call, b"bob")

    def drop() -> None:
        call = bed.calls.get("a->bob")
        if call is not None and call.state == UP:
            live = [p for p in call.parties if p.state == UP]
            if len(live) > 1:
                bed.clients[0].drop_party(live[-1])
    bed.place(100 * US, 0, "a->bob", b"bob", multipoint=True)
    bed.at(200 * US, 0, add)
    bed.at(300 * US, 0, drop)
    bed.hang_up(315 * US, 1, lambda: bed.answered(1, 1))
    bed.hang_up(400 * US, 0, lambda: bed.calls.get("a->bob"))
    bed.teardown(600 * US)


def close_while_add_party_pending(bed: Bed) -> None:
    """A closes its multipoint call while its NdisClAddParty for a second leaf is still pending (the
    call manager must fail the add-party before the close completes, and clear the leaf at B); B's
    user hangs up the first leaf at about the same time."""
    def add() -> None:
        call = bed.calls.get("a->bob")
        if call is not None and call.state == UP:
            bed.clients[0].add_party(call, b"bob")
    bed.place(100 * US, 0, "a->bob", b"bob", multipoint=True)
    bed.at(200 * US, 0, add)
    bed.hang_up(205 * US, 0, lambda: bed.calls.get("a->bob"))
    bed.hang_up(215 * US, 1, lambda: bed.answered(1, 0))
    bed.teardown(500 * US)


@dataclass(frozen=True)
class Builtin:
    fn: Callable[[Any], Callable[[], None]]
    summary: str


def _scenario(kind: str, workload: Callable[[Bed], None]) -> Callable[[Any], Callable[[], None]]:
    def scenario(sim: Any) -> Callable[[], None]:
        bed = two_hosts(sim, kind)
        workload(bed)
        return bed.check
    scenario.__name__ = f"{kind}_{workload.__name__}"
    scenario.__doc__ = workload.__doc__
    return scenario


_WORKLOADS = {"call": call_flow, "close-race": close_race, "hangup-while-connecting": hangup_while_connecting,
              "af-withdraw": af_withdraw, "drop-party-race": drop_party_race,
              "close-while-add-party-pending": close_while_add_party_pending}
BUILTIN: dict[str, Builtin] = {
    f"{kind}/{name}": Builtin(_scenario(kind, workload), " ".join((workload.__doc__ or "").split()))
    for name, workload in _WORKLOADS.items() for kind in ("mcm", "cm")
}
