"""The trace recorder: every DDI call and return, handler call and return, scheduler event, wire
frame and violation of a run, with host, driver, IRQL and virtual time.

Attach one with ``condis.Simulation(tracer=Recorder())`` (every host of the simulation) or
``ndis.trace_with(recorder)``. With no tracer a host does no tracing work at all: the traced
wrappers are only installed when a tracer is attached.

``Recorder(states=True)`` also records each change of an object's state in the tables of
:mod:`condis.ndis.states` (adapters, bindings, AFs, SAPs, calls and VC activation, parties), as
records of kind ``state``: ``name`` the table ("call"), ``args`` the object ("VC 0xd"), ``result``
"OLD -> NEW" (OLD empty when the object was created), and ``driver`` the DDI or handler under way
and the one that last returned, which say which of the table's transitions it was. The recorder
compares the objects' states at each DDI and handler call and return and each event, so a state
passed through between two of those is not seen; :meth:`Recorder.settle` takes in the last changes
at the end of a run.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Iterator
from typing import Any

from condis._ddi_table import CALLBACKS, FUNCTIONS
from condis.ndis import states as S
from condis.ndis.core import status_name
from condis.ndis.objects import Adapter, Af, Binding, Handle, MiniportDriver, Party, ProtocolDriver, Sap, Vc, VcHandle
from condis.structs import NET_BUFFER_LIST

# DDIs that are plumbing rather than protocol: kept in the record, left out of lane drawings.
SUPPORT_DDIS = frozenset({
    "NdisAcquireSpinLock", "NdisReleaseSpinLock", "NdisDprAcquireSpinLock", "NdisDprReleaseSpinLock",
    "NdisAllocateSpinLock", "NdisFreeSpinLock", "NDIS_RAISE_IRQL_TO_DISPATCH", "NDIS_LOWER_IRQL",
    "NdisAllocateIoWorkItem", "NdisQueueIoWorkItem", "NdisFreeIoWorkItem", "NdisAllocateTimerObject",
    "NdisSetTimerObject", "NdisCancelTimerObject", "NdisFreeTimerObject", "NdisAllocateNetBufferListPool",
    "NdisFreeNetBufferListPool", "NdisAllocateNetBufferAndNetBufferList", "NdisFreeNetBufferList",
    "IoInitializeWorkItem", "IoQueueWorkItemEx", "IoUninitializeWorkItem",
})

_PREFIX_ROLE = (("NdisCl", "Client"), ("NdisMCm", "MCM"), ("NdisCm", "Call Manager"), ("NdisMCo", "Miniport"),
                ("NdisM", "Miniport"), ("NdisCo", "Client"))


class Record:
    """One traced happening."""

    __slots__ = ("seq", "t", "host", "kind", "name", "driver", "role", "args", "result", "irql", "parent")

    def __init__(self, seq: int, t: int, host: str, kind: str, name: str, driver: str, role: str, args: str,
                 irql: int, parent: int | None) -> None:
        self.seq = seq
        self.t = t
        self.host = host
        self.kind = kind          # ddi, handler, event, frame, violation
        self.name = name
        self.driver = driver
        self.role = role
        self.args = args
        self.result = ""
        self.irql = irql
        self.parent = parent

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}

    def __repr__(self) -> str:
        return f"<{self.kind} {self.host}:{self.role}:{self.name}({self.args}) -> {self.result}>"


def describe(value: Any, param: str = "") -> str:
    """A short, stable text for an argument: handles by kind and id, statuses by name."""
    if value is None:
        return "NULL"
    if "Status" in param and type(value) is int:
        return status_name(value)
    if isinstance(value, VcHandle):
        return f"VC {value.vc.id:#x}"
    if isinstance(value, Handle):
        return f"{value.kind} {value.id:#x}"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, NET_BUFFER_LIST):
        # counted the way NDIS checks a chain: a loop, another type or a missing Next ends the count
        n, nbl, seen = 0, value, set()
        while type(nbl) is NET_BUFFER_LIST and id(nbl) not in seen:
            seen.add(id(nbl))
            n, nbl = n + 1, getattr(nbl, "Next", None)
        return f"{n} NBL" if nbl is None else f"{n} NBL, then not NULL"
    if isinstance(value, (bytes, bytearray)):
        return f"{len(value)}B"
    name = type(value).__name__
    return name if name.isupper() or name.startswith("CO_") else name


def role_of_owner(owner: Any) -> tuple[str, str] | None:
    if isinstance(owner, tuple):
        return owner
    if isinstance(owner, MiniportDriver):
        return (owner.name, "MCM" if owner.cm is not None else "Miniport")
    if isinstance(owner, ProtocolDriver):
        return (owner.name, "Call Manager" if owner.cm is not None and owner.cl is None else "Client")
    return None


# The state tables each kind of object moves through: (table name in states.MACHINES, attribute).
TRACKED: dict[type, tuple[tuple[str, str], ...]] = {
    Adapter: (("adapter", "state"),), Binding: (("binding", "state"),), Af: (("AF", "state"),),
    Sap: (("SAP", "state"),), Vc: (("call", "state"), ("VC activation", "activation")), Party: (("party", "state"),),
}


class Recorder:
    """Collects :class:`Record` objects in memory, in the order things happened; with ``states``,
    each object's state changes too (see the module's docstring)."""

    def __init__(self, states: bool = False) -> None:
        self.records: list[Record] = []
        self._stack: list[int] = []
        self._seq = 0
        self.states = states
        self._watched: list[tuple[Any, tuple[tuple[str, str], ...], list[str]]] = []
        self._open: list[str] = []          # names of the DDI and handler calls under way
        self._returned = ""                 # the one that returned last

    def _add(self, host: Any, kind: str, name: str, who: tuple[str, str] | None, args: str) -> Record:
        driver, role = who if who else ("", "")
        parent = self._stack[-1] if self._stack else None
        seq = self._seq
        self._seq = seq + 1
        rec = Record(seq, host.sim.scheduler.now if host is not None else 0,
                     host.name if host is not None else "", kind, name, driver, role, args,
                     host._irql if host is not None else 0, parent)
        self.records.append(rec)
        return rec

    def created(self, obj: Any) -> None:
        """A host made ``obj`` (called from :class:`condis.ndis.objects.Handle` when ``states`` is on)."""
        fields = TRACKED.get(type(obj))
        if fields is None:
            return
        self._state(obj, fields[0][0], "", obj.state)
        self._watched.append((obj, fields, [obj.state] + [""] * (len(fields) - 1)))

    def settle(self) -> None:
        """Record the state changes made since the last DDI, handler or event (the end of a run)."""
        if not self.states:
            return
        cause = " ".join(n for n in (self._open[-1] if self._open else "", self._returned) if n)
        keep = []
        for entry in self._watched:
            obj, fields, last = entry
            for i, (machine, attr) in enumerate(fields):
                now = getattr(obj, attr)
                if now != last[i]:
                    self._state(obj, machine, last[i], now, cause)
                    last[i] = now
            if not (obj.deleted if type(obj) is Vc else all(
                    last[i] not in S.MACHINES[machine] for i, (machine, _) in enumerate(fields))):
                keep.append(entry)
        self._watched = keep

    def _state(self, obj: Any, machine: str, old: str, new: str, cause: str = "") -> None:
        rec = self._add(obj.ndis, "state", machine, None, f"{obj.kind} {obj.id:#x}")
        rec.driver = cause
        rec.result = f"{old} -> {new}"

    def ddi_call(self, host: Any, name: str, args: tuple) -> Record:
        if self.states:
            self.settle()
            self._open.append(name)
        who = role_of_owner(host._current)
        if who is None:
            who = ("", next((r for p, r in _PREFIX_ROLE if name.startswith(p)), "Driver"))
        rec = self._add(host, "ddi", name, who, _args_text(FUNCTIONS.get(name), 3, args))
        self._stack.append(rec.seq)
        return rec

    def ddi_return(self, host: Any, name: str, rec: Record, result: Any) -> None:
        if self.states:
            self.settle()
            if self._open:
                self._open.pop()
            if name not in SUPPORT_DDIS:
                self._returned = name
        self._stack.pop()
        rec.result = _result_text(result)

    def handler_call(self, host: Any, name: str, who: tuple[str, str] | None, args: tuple) -> Record:
        if self.states:
            self.settle()
            self._open.append(name)
        rec = self._add(host, "handler", name, who, _args_text(CALLBACKS.get(name), 2, args))
        self._stack.append(rec.seq)
        return rec

    handler_return = ddi_return

    @contextlib.contextmanager
    def nested_events(self) -> Iterator[None]:
        """Events that run while a DDI waits for them (its caller blocked at PASSIVE_LEVEL) start
        afresh, as every event does; when they are done, the waiting DDI's nesting is back."""
        saved = list(self._stack)
        try:
            yield
        finally:
            self._stack[:] = saved

    def event(self, host: Any, ev: Any) -> None:
        if self.states:
            self.settle()
            self._open.clear()
        self._stack.clear()
        host._current = role_of_owner(ev.owner)
        self._add(host, "event", ev.kind, host._current, ev.label)

    def frame(self, src: Any, dst: Any, frame: Any) -> None:
        host = src.host
        rec = self._add(host, "frame", str(frame), None, f"{src.name}->{dst.name}")
        rec.driver = dst.host.name if dst.host is not None else ""

    def violation(self, host: Any, v: Any) -> None:
        rec = self._add(host, "violation", v.rule, role_of_owner(host._current), str(v))
        rec.result = v.page       # the page it broke, by its path in the pack (condis.errors.page_link)


class RingRecorder(Recorder):
    """A recorder that keeps only the last ``size`` records.

    The verifier attaches one in record mode when no recorder is attached, so that each finding can
    show the events that led up to it without keeping the whole run in memory.
    """

    def __init__(self, size: int = 256) -> None:
        super().__init__()
        self.records = deque(maxlen=size)  # type: ignore[assignment]


def _args_text(row: tuple | None, col: int, args: tuple) -> str:
    names = row[col] if row is not None else ()
    return ", ".join(describe(a, names[i] if i < len(names) else "") for i, a in enumerate(args))


def _result_text(result: Any) -> str:
    if result is None:
        return ""
    if isinstance(result, tuple):
        return ", ".join(describe(x, "Status" if i == 0 else "") for i, x in enumerate(result))
    if type(result) is int:
        return status_name(result)
    return describe(result)


_MAIN_ROLES = ("MCM", "Call Manager", "Client", "Miniport")


def settled_roles(records: list[Record]) -> list[Record]:
    """Records with each driver shown in the role it ended up in.

    While a driver registers, NDIS does not yet know whether a miniport is an MCM or a protocol a
    client or a call manager; its first steps are recorded as "Driver", "Miniport" or "Protocol".
    Drawings show them in the driver's final role.
    """
    final: dict[tuple[str, str], str] = {}
    for r in records:
        if r.driver and r.role in _MAIN_ROLES:
            key = (r.host, r.driver)
            known = final.get(key)
            if known is None or _MAIN_ROLES.index(r.role) < _MAIN_ROLES.index(known):
                final[key] = r.role
    out = []
    for r in records:
        role = final.get((r.host, r.driver))
        if role is not None and role != r.role and r.role not in ("Client", "Call Manager"):
            copy = Record(r.seq, r.t, r.host, r.kind, r.name, r.driver, role, r.args, r.irql, r.parent)
            copy.result = r.result
            r = copy
        out.append(r)
    return out
