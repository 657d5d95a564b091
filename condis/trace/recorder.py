"""The trace recorder: every DDI call and return, handler call and return, scheduler event, wire
frame and violation of a run, with host, driver, IRQL and virtual time.

Attach one with ``condis.Simulation(tracer=Recorder())`` (every host of the simulation) or
``ndis.trace_with(recorder)``. With no tracer a host does no tracing work at all: the traced
wrappers are only installed when a tracer is attached.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from condis._ddi_table import CALLBACKS, FUNCTIONS
from condis.ndis.core import status_name
from condis.ndis.objects import Handle, MiniportDriver, ProtocolDriver, VcHandle
from condis.structs import NET_BUFFER_LIST

# DDIs that are plumbing rather than protocol: kept in the record, left out of lane drawings.
SUPPORT_DDIS = frozenset({
    "NdisAcquireSpinLock", "NdisReleaseSpinLock", "NdisDprAcquireSpinLock", "NdisDprReleaseSpinLock",
    "NdisAllocateSpinLock", "NdisFreeSpinLock", "NDIS_RAISE_IRQL_TO_DISPATCH", "NDIS_LOWER_IRQL",
    "NdisAllocateIoWorkItem", "NdisQueueIoWorkItem", "NdisFreeIoWorkItem", "NdisAllocateTimerObject",
    "NdisSetTimerObject", "NdisCancelTimerObject", "NdisFreeTimerObject", "NdisAllocateNetBufferListPool",
    "NdisFreeNetBufferListPool", "NdisAllocateNetBufferAndNetBufferList", "NdisFreeNetBufferList",
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


class Recorder:
    """Collects :class:`Record` objects in memory, in the order things happened."""

    def __init__(self) -> None:
        self.records: list[Record] = []
        self._stack: list[int] = []
        self._seq = 0

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

    def ddi_call(self, host: Any, name: str, args: tuple) -> Record:
        who = role_of_owner(host._current)
        if who is None:
            who = ("", next((r for p, r in _PREFIX_ROLE if name.startswith(p)), "Driver"))
        rec = self._add(host, "ddi", name, who, _args_text(FUNCTIONS.get(name), 3, args))
        self._stack.append(rec.seq)
        return rec

    def ddi_return(self, host: Any, name: str, rec: Record, result: Any) -> None:
        self._stack.pop()
        rec.result = _result_text(result)

    def handler_call(self, host: Any, name: str, who: tuple[str, str] | None, args: tuple) -> Record:
        rec = self._add(host, "handler", name, who, _args_text(CALLBACKS.get(name), 2, args))
        self._stack.append(rec.seq)
        return rec

    handler_return = ddi_return

    def event(self, host: Any, ev: Any) -> None:
        self._stack.clear()
        host._current = role_of_owner(ev.owner)
        self._add(host, "event", ev.kind, host._current, ev.label)

    def frame(self, src: Any, dst: Any, frame: Any) -> None:
        host = src.host
        rec = self._add(host, "frame", str(frame), None, f"{src.name}->{dst.name}")
        rec.driver = dst.host.name if dst.host is not None else ""

    def violation(self, host: Any, v: Any) -> None:
        self._add(host, "violation", v.rule, role_of_owner(host._current), str(v))


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
