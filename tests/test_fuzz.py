"""A fuzzer over the two-host testbed: no input may break NDIS.

Hypothesis drives a state machine (hypothesis.stateful) that mixes the sample drivers' own traffic
(calls placed, data sent, calls closed) with random DDI calls on either host: every documented
function, its arguments drawn from live, stale, foreign, wrong-kind and garbage handles, wrong
statuses and malformed structures (a field deleted, of the wrong type, a structure containing
itself, NET_BUFFER_LIST chains that loop), called at PASSIVE_LEVEL, at DISPATCH_LEVEL (raised, or
holding a spin lock) and at DIRQL (from ``ndis.interrupt``), in strict and record mode.

After every step:
- the call returned (a status or nothing) or raised condis.Violation, and nothing else: any other
  exception from inside condis is a defect;
- a call refused at its entry left NDIS's state (``condis.ndis.snapshot``) of both hosts as it was;
- the simulation runs on to quiescence.
At the end, while no random call was accepted in a way that changed NDIS's state, the calls the
random steps did not touch are all up, and close and delete cleanly; ``sim.finish()`` raises
nothing but condis.Violation.

The normal suite runs a few examples with a fixed seed. ``CONDIS_FUZZ_EXAMPLES=N`` (and
optionally ``CONDIS_FUZZ_STEPS=M``, steps per example) runs N random examples instead.
"""

from __future__ import annotations

import inspect
import os
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule

import condis
from condis import _status as status_codes
from condis import demo, structs
from condis._ddi_table import FUNCTIONS
from condis.constants import CO_ADDRESS_FAMILY_Q2931, DISPATCH_LEVEL, OID_GEN_CO_LINK_SPEED, PASSIVE_LEVEL, NdisMediumAtm
from condis.drivers import client as client_module
from condis.drivers import signaling as sig
from condis.ndis import objects as O
from condis.ndis.host import REFUSALS
from condis.ndis.snapshot import snapshot
from condis.rules import RULES
from condis.trace import Recorder

EXAMPLES = int(os.environ.get("CONDIS_FUZZ_EXAMPLES", "0"))
STEPS = int(os.environ.get("CONDIS_FUZZ_STEPS", "40"))
STATS: Counter[str] = Counter()    # what the random calls did, for a long run's summary

_CONDIS = Path(condis.__file__).resolve().parent
_DRIVERS = _CONDIS / "drivers"

# rules a teardown step reports after it changed state on purpose (record mode)
_TEARDOWN_RULES = frozenset(r for r in RULES if r.startswith("condis.Leak") or r == "condis.NeverCompleted")

_HANDLE_TYPES = {cls.__name__: cls for cls in (
    O.VcHandle, O.Party, O.Af, O.Sap, O.Adapter, O.Binding, O.SpinLock, O.TimerObject, O.IoWorkItem, O.NblPool,
    O.BindContext, O.UnbindContext, O.ProtocolDriver, O.MiniportDriver)}

_STATUSES = (status_codes.NDIS_STATUS_SUCCESS, status_codes.NDIS_STATUS_PENDING, status_codes.NDIS_STATUS_FAILURE,
             status_codes.NDIS_STATUS_NOT_ACCEPTED, status_codes.NDIS_STATUS_RESOURCES, status_codes.NDIS_STATUS_CLOSING,
             0x12345678, -1)


class Unprintable:
    """Garbage whose repr raises."""

    def __repr__(self) -> str:
        raise RuntimeError("no repr")


def _look_alike(name: str) -> Any:
    """An object named like an NDIS type and shaped nothing like it."""
    return type(name, (), {"state": "PENDING", "vc": None, "side": "client", "route": None, "ndis": None})()


def _noop(*args: Any) -> None:
    return None


_GARBAGE = (lambda: None, lambda: 0, lambda: -1, lambda: 2**70, lambda: 1.5, lambda: True, lambda: "x", lambda: b"\0",
            lambda: [], lambda: {}, lambda: {1, 2}, lambda: object(), Unprintable, lambda: _noop,
            lambda: _look_alike("VcHandle"), lambda: _look_alike("BindContext"), lambda: _look_alike("UnbindContext"),
            lambda: _look_alike("Party"), lambda: structs.NET_BUFFER_LIST(), lambda: structs.CO_CALL_PARAMETERS())

_WELL_FORMED = {
    "CO_CALL_PARAMETERS": lambda: sig.call_parameters(b"bob", 1_000_000, 33),
    "CO_ADDRESS_FAMILY": lambda: structs.CO_ADDRESS_FAMILY(CO_ADDRESS_FAMILY_Q2931, 3, 1),
    "CO_SAP": lambda: structs.CO_SAP(Sap=b"fuzz"),
    "NDIS_OID_REQUEST": lambda: structs.NDIS_OID_REQUEST(Oid=OID_GEN_CO_LINK_SPEED),
    "NDIS_TIMER_CHARACTERISTICS": lambda: structs.NDIS_TIMER_CHARACTERISTICS(TimerFunction=_noop),
    "NET_BUFFER_LIST_POOL_PARAMETERS": lambda: structs.NET_BUFFER_LIST_POOL_PARAMETERS(),
    "NDIS_STATUS_INDICATION": lambda: structs.NDIS_STATUS_INDICATION(StatusCode=status_codes.NDIS_STATUS_SUCCESS),
    "NDIS_OPEN_PARAMETERS": lambda: structs.NDIS_OPEN_PARAMETERS(AdapterName="atm0", MediumArray=[NdisMediumAtm],
                                                                 MediumArraySize=1),
    "NDIS_MINIPORT_DRIVER_CHARACTERISTICS": lambda: structs.NDIS_MINIPORT_DRIVER_CHARACTERISTICS(),
    "NDIS_PROTOCOL_DRIVER_CHARACTERISTICS": lambda: structs.NDIS_PROTOCOL_DRIVER_CHARACTERISTICS(Name="fuzz"),
}


def _params(name: str) -> list[tuple[str, str]]:
    sig_ = inspect.signature(getattr(condis.Ndis, name))
    return [(p.name, str(p.annotation)) for p in list(sig_.parameters.values())[1:]]


_DDIS = sorted(FUNCTIONS)
_PARAMS = {name: _params(name) for name in _DDIS}


def _number(data: Any) -> int:
    """One draw of the fuzzer: always the same strategy, whatever the state. What it picks depends
    on the state (which handles exist), and the state of a run may differ slightly when Hypothesis
    replays it (objects ordered by address in some sets); a draw whose strategy changed with it
    would make Hypothesis stop the run as flaky."""
    return data.draw(st.integers(0, 2**16))


def _choose(data: Any, options: Any) -> Any:
    """One of ``options`` (a sequence), drawn with :func:`_number`."""
    options = list(options)
    return options[_number(data) % len(options)]


def _innermost_file(exc: BaseException) -> Path:
    tb = traceback.extract_tb(exc.__traceback__)
    return Path(tb[-1].filename).resolve() if tb else Path()


class NdisFuzz(RuleBasedStateMachine):
    """Random DDI calls mixed with the sample drivers' traffic; see the module doc."""

    def __init__(self) -> None:
        super().__init__()
        self.bed: Any = None
        self.dead = False           # a driver stopped the run (strict Violation, a driver's own exception)
        self.tainted = False        # a random call was accepted and changed NDIS's state
        self.touched: set[int] = set()     # ids of VCs whose handles random calls were given
        self.seen: list[Any] = []          # every handle ever collected, live or stale
        self.own: dict[str, list[Any]] = {"SpinLock": [], "NblPool": [], "TimerObject": [], "IoWorkItem": []}
        self.nbls: list[Any] = []
        self.calls: list[Any] = []         # calls placed by the good traffic
        self.clean = False                 # the random call being built passes only well-formed arguments

    # ------------------------------------------------------------------ setup

    @initialize(kind=st.sampled_from(["mcm", "cm"]), mode=st.sampled_from(["strict", "record"]),
                traced=st.booleans())
    def build(self, kind: str, mode: str, traced: bool) -> None:
        self.bed = demo.testbed(kind, Recorder() if traced else None, verify=mode)
        self.mode = mode
        self.step_lock = self.bed.hosts[0].NdisAllocateSpinLock(), self.bed.hosts[1].NdisAllocateSpinLock()
        for i, host in enumerate(self.bed.hosts):
            binding = self.bed.clients[i].bindings[0].handle
            self.own["SpinLock"].append(host.NdisAllocateSpinLock())
            self.own["NblPool"].append(host.NdisAllocateNetBufferListPool(
                binding, structs.NET_BUFFER_LIST_POOL_PARAMETERS()))
            self.own["TimerObject"].append(host.NdisAllocateTimerObject(
                binding, structs.NDIS_TIMER_CHARACTERISTICS(TimerFunction=_noop))[1])
            # NDIS work items are for miniports (nf-ndis-ndisallocateioworkitem.md): the adapter's handle
            self.own["IoWorkItem"].append(host.NdisAllocateIoWorkItem(host.adapters["atm0"]))

    # ------------------------------------------------------------------ the handles there are

    def _live(self) -> dict[str, list[Any]]:
        found: dict[str, list[Any]] = {k: list(v) for k, v in self.own.items()}
        add = lambda kind, h: h is not None and found.setdefault(kind, []).append(h)  # noqa: E731
        for host in self.bed.hosts:
            for d in host.drivers.values():
                add("MiniportDriver", d.miniport)
                add("ProtocolDriver", d.protocol)
            for ad in host.adapters.values():
                add("Adapter", ad)
                for vc in sorted(ad.vcs, key=lambda v: v.id):
                    for h in (vc.h_client, vc.h_cm, vc.h_miniport):
                        add("VcHandle", h)
                    for p in vc.parties:
                        add("Party", p)
                registered = list(ad.afs)
                for b in ad.bindings:
                    add("Binding", b)
                    add("BindContext", b.bind_context)
                    add("UnbindContext", b.unbind_context)
                    registered.extend(b.registered_afs)
                for raf in registered:
                    for af in raf.opens:
                        add("Af", af)
                        for s in af.saps:
                            add("Sap", s)
        for handles in found.values():
            for h in handles:
                if all(h is not s for s in self.seen[-400:]):
                    self.seen.append(h)
        return found

    def _handle(self, data: Any, kind: str, live: dict[str, list[Any]]) -> Any:
        choice = "good" if self.clean else _choose(data, ["good", "good", "good", "stale", "wrong-kind",
                                                                      "garbage"])
        pool = live.get(kind, [])
        if choice == "good" and pool:
            return _choose(data, pool)
        if choice == "stale":
            stale = [h for h in self.seen if type(h) is _HANDLE_TYPES.get(kind)]
            if stale:
                return _choose(data, stale)
        if choice == "wrong-kind":
            others = [h for k, hs in live.items() if k != kind for h in hs]
            if others:
                return _choose(data, others)
        return _choose(data, _GARBAGE)()

    def _nbl(self, data: Any, live: dict[str, list[Any]]) -> Any:
        shape = _choose(data, ["good", "chain"] if self.clean else [
            "good", "good", "chain", "loop", "deleted", "wrong-type", "forged", "garbage"])
        if shape == "garbage":
            return _choose(data, _GARBAGE)()
        host = _choose(data, self.bed.hosts)
        pool = self.own["NblPool"][self.bed.hosts.index(host)]
        if shape == "forged" or pool.state == "FREED":     # a random call may have freed the fuzzer's pool
            nbl = structs.NET_BUFFER_LIST(Pool=pool)
        else:
            nbl = host.NdisAllocateNetBufferAndNetBufferList(pool, 0, 0, b"fuzz", 0, 4)
            if nbl is None:
                return None
        self.nbls.append(nbl)
        nbl.SourceHandle = self._handle(data, "VcHandle", live)
        if shape in ("chain", "loop") and pool.state != "FREED":
            second = host.NdisAllocateNetBufferAndNetBufferList(pool, 0, 0, b"more", 0, 4)
            if second is not None:
                second.SourceHandle = nbl.SourceHandle
                nbl.Next = second
                self.nbls.append(second)
                if shape == "loop":
                    second.Next = nbl
        elif shape == "deleted":
            delattr(nbl, _choose(data, list(type(nbl).__slots__)))
        elif shape == "wrong-type":
            setattr(nbl, _choose(data, ["Next", "Freed", "Pool", "FirstNetBuffer"]),
                    _choose(data, _GARBAGE)())
        return nbl

    def _struct(self, data: Any, type_name: str, live: dict[str, list[Any]]) -> Any:
        if type_name == "NET_BUFFER_LIST":
            return self._nbl(data, live)
        make = _WELL_FORMED.get(type_name)
        shape = "good" if self.clean else _choose(data, ["good", "good", "deleted", "wrong-type", "itself",
                                                                     "other", "garbage"])
        if make is None or shape == "garbage":
            return _choose(data, _GARBAGE)()
        if shape == "other":
            return _WELL_FORMED[_choose(data, sorted(_WELL_FORMED))]()
        top = make()
        if shape == "good":
            return top
        self._break(data, top, shape)
        return top

    def _break(self, data: Any, top: Any, shape: str) -> None:
        """Break one field of ``top`` or of a structure nested in it: delete it, give it a value of
        another type, or make it ``top`` itself."""
        target = top
        for _ in range(_number(data) % 4):
            nested = [getattr(target, f) for f in type(target).__slots__
                      if hasattr(getattr(target, f, None), "__dataclass_fields__") and getattr(target, f) is not target]
            if not nested:
                break
            target = _choose(data, nested)
        field = _choose(data, list(type(target).__slots__))
        if shape == "deleted" and hasattr(target, field):
            delattr(target, field)
        elif shape == "itself":
            setattr(target, field, top)
        else:
            setattr(target, field, _choose(data, _GARBAGE)())

    def _arg(self, data: Any, param: str, annotation: str, live: dict[str, list[Any]]) -> Any:
        kinds = [a.strip() for a in annotation.split("|")]
        if "None" in kinds and _number(data) % 5 == 0:
            return None
        kind = kinds[0]
        if kind in _HANDLE_TYPES:
            return self._handle(data, kind, live)
        if kind in _WELL_FORMED or kind == "NET_BUFFER_LIST":
            return self._struct(data, kind, live)
        if self.clean:
            if "Status" in param:
                return _choose(data, _STATUSES[:3])
            if kind == "int":
                return _choose(data, [0, 1, 2])
        if kind == "int":
            if "Status" in param:
                return _choose(data, _STATUSES + (None, "SUCCESS"))
            values = [0, 1, 2, 3, 4, -1, -10_000, 2**40]
            pick = _number(data) % (len(values) + len(_GARBAGE))
            return values[pick] if pick < len(values) else _GARBAGE[pick - len(values)]()
        if kind in ("bytes", "str"):
            return _choose(data, [b"", b"fuzz", "fuzz", None, 7, Unprintable()])
        if kind.startswith("Callable"):
            return _choose(data, [_noop, None, "routine", 3])
        # Any: a handle of any kind, a context, garbage
        pick = _choose(data, ["handle", "context", "garbage"])
        everything = [h for hs in live.values() for h in hs]
        if pick == "handle" and everything:
            return _choose(data, everything)
        if pick == "context":
            return object()
        return _choose(data, _GARBAGE)()

    # ------------------------------------------------------------------ running a call

    def _at(self, host: Any, how: str, fn: Any) -> Any:
        """Run ``fn`` on ``host`` at PASSIVE_LEVEL, DISPATCH_LEVEL (raised, or in a spin lock) or DIRQL."""
        lock = self.step_lock[self.bed.hosts.index(host)]
        try:
            if how == "passive":
                return fn()
            if how == "dirql":
                return host.interrupt(fn)
            if how == "spinlock":
                host.NdisAcquireSpinLock(lock)
            else:
                host.NDIS_RAISE_IRQL_TO_DISPATCH()
            return fn()
        finally:
            self._settle(host)

    def _settle(self, host: Any) -> None:
        """Back to PASSIVE_LEVEL with none of the fuzzer's spin locks held (a random call may have
        taken one, raised or lowered the IRQL)."""
        held = [lock for lock in self.own["SpinLock"] + list(self.step_lock) if lock.owner is host and lock.allocated]
        if held and host.irql != DISPATCH_LEVEL:
            host.NDIS_RAISE_IRQL_TO_DISPATCH()
        for lock in reversed(held):
            # each with the routine that pairs with how it was acquired (nf-ndis-ndisreleasespinlock.md)
            if lock.acquired_by == "NdisAcquireSpinLock":
                host.NdisReleaseSpinLock(lock)
            else:
                host.NdisDprReleaseSpinLock(lock)
        if PASSIVE_LEVEL < host.irql < DISPATCH_LEVEL:     # a random NDIS_LOWER_IRQL stopped at APC_LEVEL
            host.NDIS_RAISE_IRQL_TO_DISPATCH()
        if host.irql == DISPATCH_LEVEL:
            host.NDIS_LOWER_IRQL(PASSIVE_LEVEL, DISPATCH_LEVEL)
        assert (host.irql, host._locks_held) == (PASSIVE_LEVEL, 0), \
            f"host {host.name} left at IRQL {host.irql} holding {host._locks_held} lock(s)"

    def _guard(self, fn: Any) -> tuple[str, Any]:
        """Run ``fn``; what it did: ("ok", result), ("violation", v) or ("driver", exception).

        Any other exception is a defect and propagates, unless its innermost frame is in a sample
        driver: a driver that a random call, made in its name or to it, told something its own
        bookkeeping cannot account for (those are counted, and the example stops)."""
        try:
            return "ok", fn()
        except condis.Violation as v:
            return "violation", v
        except Exception as e:
            if _innermost_file(e).is_relative_to(_DRIVERS):
                STATS[f"driver exception {type(e).__name__} at {_where(e)}"] += 1
                return "driver", e
            raise

    def _queued(self) -> list[tuple[str, str]]:
        """The events waiting in the scheduler (timers, work items, frames), by kind and label."""
        return [(ev.kind, ev.label) for ev in self.bed.sim.scheduler.pending()]

    def _run_sim(self) -> None:
        verifier = self.bed.sim.verifier
        mark = len(verifier.violations) if verifier.recording else 0
        what, value = self._guard(lambda: self.bed.sim.run(max_steps=200_000))
        if what != "ok":
            self.dead = True
            STATS[f"run stopped: {what}"] += 1
            return
        assert not self.bed.sim.scheduler.pending() or value == 200_000
        if value == 200_000:
            # a driver that never stops retrying: only the fuzzer's tampering can have caused it
            assert self.tainted, "the simulation never became quiet although no random call changed NDIS's state"
            self.dead = True
        if verifier.recording and len(verifier.violations) > mark:
            self.tainted = True

    # ------------------------------------------------------------------ rules

    @rule(data=st.data())
    def random_ddi(self, data: Any) -> None:
        if self.dead:
            return
        host = _choose(data, self.bed.hosts)
        name = _choose(data, _DDIS)
        how = _choose(data, ["passive", "passive", "dispatch", "spinlock", "dirql"])
        live = self._live()
        # Half the calls pass only live handles of the right kind, well-formed structures and plain
        # statuses: they get past the handle checks, into the state machines and the handlers.
        self.clean = _number(data) % 2 == 0
        args = [self._arg(data, p, a, live) for p, a in _PARAMS[name]]
        for a in args:
            vc = getattr(a, "vc", None)
            if type(a) in (O.VcHandle, O.Party) and vc is not None:
                self.touched.add(vc.id)
        hosts = self.bed.hosts
        verifier = self.bed.sim.verifier
        before = [snapshot(h) for h in hosts] + [self._queued()]
        mark = len(verifier.violations) if verifier.recording else 0
        what, value = self._guard(lambda: self._at(host, how, lambda: getattr(host, name)(*args)))
        STATS["calls"] += 1
        STATS[f"{what} {name}"] += 1
        if what == "driver":
            self.dead = True
            return
        refused = what == "violation" and value.ddi in (name, "NdisAcquireSpinLock") and value.rule not in _TEARDOWN_RULES
        if verifier.recording:
            new = verifier.violations[mark:]
            refused = bool(new) and all(v.ddi == name and v.rule not in _TEARDOWN_RULES for v in new)
            if new and not refused:
                self.tainted = True
            if refused and what == "ok":
                assert value == REFUSALS[name], f"{name} was refused but returned {value!r}, not {REFUSALS[name]!r}"
        if what == "violation" and not refused:
            self.dead = True    # strict mode: a driver's check failed inside the call, the run stops there
            STATS[f"nested violation {value.rule}"] += 1
            return
        after = [snapshot(h) for h in hosts] + [self._queued()]
        if refused:
            STATS["refused"] += 1
            for h, b, a in zip(hosts, before, after, strict=False):
                assert a == b, f"{name} was refused ({what}) but host {h.name} changed: {_diff(b, a)}"
            assert after[-1] == before[-1], f"{name} was refused ({what}) but queued {after[-1]} (was {before[-1]})"
        elif after != before:
            self.tainted = True
            STATS["accepted, state changed"] += 1
        self._run_sim()

    @precondition(lambda self: not self.dead and not self.tainted)
    @rule(data=st.data())
    def tamper_with_call_parameters(self, data: Any) -> None:
        """A driver changes the call parameters it gave NDIS (which NDIS keeps for the VC) behind its back."""
        held = [vc.call_params for host in self.bed.hosts for ad in host.adapters.values()
                for vc in sorted(ad.vcs, key=lambda v: v.id) if vc.call_params is not None]
        if not held:
            return
        params = _choose(data, held)
        self._break(data, params, _choose(data, ["deleted", "wrong-type", "itself"]))
        self.tainted = True     # the drivers' own structures are broken now: only NDIS's survival is checked
        STATS["call parameters tampered with"] += 1
        self._run_sim()

    @precondition(lambda self: not self.dead and len(self.calls) < 6)
    @rule(side=st.integers(0, 1), multipoint=st.booleans())
    def place_call(self, side: int, multipoint: bool) -> None:
        client = self.bed.clients[side]
        out: list[Any] = []
        self._good(side, lambda: out.append(client.place_call(b"bob" if side == 0 else b"alice",
                                                              multipoint=multipoint)))
        if out:
            self.calls.append((side, out[0]))

    @precondition(lambda self: not self.dead and bool(self.calls))
    @rule(data=st.data())
    def send_on_a_call(self, data: Any) -> None:
        side, call = _choose(data, self.calls)
        if call.state == client_module.UP and not self._touched(call):
            self._good(side, lambda: self.bed.clients[side].send(call, b"payload"))

    @precondition(lambda self: not self.dead and bool(self.calls))
    @rule(data=st.data())
    def close_a_call(self, data: Any) -> None:
        side, call = _choose(data, self.calls)
        if call.state == client_module.UP and not self._touched(call):
            self._good(side, lambda: self.bed.clients[side].close(call))

    def _touched(self, call: Any) -> bool:
        return call.vc is not None and call.vc.vc.id in self.touched

    def _good(self, side: int, fn: Any) -> None:
        """The sample drivers' own traffic: on a bed no random call disturbed, it runs clean."""
        verifier = self.bed.sim.verifier
        mark = len(verifier.violations) if verifier.recording else 0
        STATS["good steps"] += 1
        self.bed.hosts[side].post(fn, owner=("atmclient", "Client"))
        self._run_sim()
        if not self.tainted and not self.dead and verifier.recording:
            assert verifier.violations[mark:] == [], verifier.violations[mark:]

    # ------------------------------------------------------------------ the end

    def teardown(self) -> None:
        if self.bed is None:
            return
        if not self.dead and not self.tainted:
            untouched = [(side, c) for side, c in self.calls if not self._touched(c)]
            for _, call in untouched:
                assert call.state in (client_module.UP, client_module.CLOSED), f"{call} did not finish setting up"
            for side, call in untouched:
                if call.state == client_module.UP:
                    self._good(side, lambda side=side, call=call: self.bed.clients[side].close(call))
            if not self.dead:
                for _, call in untouched:
                    assert call.state == client_module.CLOSED and call.deleted, f"{call} did not close and go away"
                    STATS["calls through their lifecycle"] += 1
        # The fuzzer's own timer objects and work items go back first: still allocated at unload, each
        # is a leak of the driver whose handle allocated it. (A random call may have freed one already.)
        for kind, free in (("TimerObject", "NdisFreeTimerObject"), ("IoWorkItem", "NdisFreeIoWorkItem")):
            for i, handle in enumerate(self.own[kind]):
                host = self.bed.hosts[i]
                if handle is not None and handle.state != "FREED":
                    self._guard(lambda host=host, handle=handle, free=free: (
                        free == "NdisFreeTimerObject" and host.NdisCancelTimerObject(handle),
                        getattr(host, free)(handle)))
        # The end of the run: only condis.Violation may come out of it (what random calls left behind).
        verifier = self.bed.sim.verifier
        mark = len(verifier.violations) if verifier.recording else 0
        what, value = self._guard(self.bed.sim.finish)
        STATS[f"finish: {what}"] += 1
        if not self.tainted and not self.dead:
            # nothing a random call did was accepted: the run ends as clean as the testbed's own
            assert what == "ok", f"an undisturbed run left something behind: {value}"
            assert not verifier.recording or verifier.violations[mark:] == [], verifier.violations[mark:][:3]


def _where(e: BaseException) -> str:
    tb = traceback.extract_tb(e.__traceback__)
    return f"{Path(tb[-1].filename).name}:{tb[-1].lineno}" if tb else "?"


def _diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {k: (before[k], after[k]) for k in before if before[k] != after.get(k)}


_QUICK = settings(max_examples=20, stateful_step_count=30, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck), print_blob=True)
_LONG = settings(max_examples=EXAMPLES or 1, stateful_step_count=STEPS, deadline=None, database=None,
                 suppress_health_check=list(HealthCheck), print_blob=True)

TestNdisFuzz = NdisFuzz.TestCase
TestNdisFuzz.settings = _LONG if EXAMPLES else _QUICK


def teardown_module() -> None:
    if EXAMPLES:
        print("\nfuzz summary:")
        for key, n in STATS.most_common():
            print(f"  {n:8d}  {key}")
