"""What every DDI family of the host shares: handle checks, IRQL, calling handlers, violations.

Data flows one way: a driver calls a DDI, the DDI checks its preconditions (raising
:class:`condis.Violation` before it changes anything), moves object state, and calls the handlers
of the other drivers through :meth:`NdisCore._up`, which is also where handler manners are
checked (IRQL restored, no spin lock left held).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from operator import attrgetter
from typing import Any

from condis import _status as st
from condis._ddi_table import CALLBACKS, FUNCTIONS
from condis._safe_repr import safe_repr
from condis.constants import DIRQL, DISPATCH_LEVEL, IRQL_NAMES, PASSIVE_LEVEL
from condis.errors import Violation
from condis.ndis.unwind import unwind
from condis.rules import RULES

PENDING = st.NDIS_STATUS_PENDING
# rules about what a handler returned: the handler's page is the one to read
_HANDLER_PAGE_RULES = frozenset({"condis.HandlerReturn", "condis.NoPendingHere", "condis.PartyContext"})
# rules each function's own page states for its own parameters: which handle it takes and from
# whom, which driver calls it (the NdisMCm / NdisCm pages each say who may call them), for a
# Complete function, that it completes a request whose handler returned NDIS_STATUS_PENDING, and
# the CallMgrPartyContext it takes; where and how often a registration function is called
_FUNCTION_PAGE_RULES = frozenset({"condis.BadHandle", "condis.BadParameter", "condis.WrongCaller",
                                  "condis.CompleteWithoutPending", "condis.PendingStatus", "condis.PartyContext",
                                  "condis.Timer", "condis.Registration"})
# which structure registers a handler, by the prefix of its field there
_HANDLER_TABLES = {"Cl": "ddi/ns-ndis-_ndis_co_client_optional_handlers.md",
                   "Cm": "ddi/ns-ndis-_ndis_co_call_manager_optional_handlers.md"}
SUCCESS = st.NDIS_STATUS_SUCCESS
_BLOCKED_STEPS = 100_000    # events a DDI that waits lets run before it gives up (as Simulation.finish does)


def status_name(status: Any) -> str:
    """NDIS_STATUS_XXX for a status value (hex for an unknown one)."""
    if isinstance(status, int):
        return st.STATUS_NAMES.get(status, f"{status:#010x}")
    return safe_repr(status)


def irql_rule(ddi: str) -> str:
    """The IRQL compliance rule ddi-index.tsv names for a function."""
    for rule in FUNCTIONS[ddi][1]:
        if rule.startswith("Irql_"):
            return rule
    return "Irql_Miscellaneous_Function"


def max_irql(ddi: str) -> int:
    """The highest IRQL a function's page allows (ddi-index.tsv).

    "PASSIVE_LEVEL" caps at PASSIVE. "<= DISPATCH_LEVEL" and the bare "DISPATCH_LEVEL" of
    NdisCoGetTapiCallId, NdisClGetProtocolVcContextFromTapiCallId and NdisCoAssignInstanceName cap at
    DISPATCH: their SDV rules (Irql_Connection_Function, Irql_Protocol_Driver_Function) check only a
    maximum. The spin-lock functions that must run exactly at DISPATCH_LEVEL check that themselves.
    "Any level" and "See Remarks" have no cap.
    """
    irql = FUNCTIONS[ddi][0]
    if irql.startswith("PASSIVE"):
        return PASSIVE_LEVEL
    if "DISPATCH" in irql:
        return DISPATCH_LEVEL
    return DIRQL


def page_of(name: str) -> str:
    """The reference page of a DDI function or handler."""
    if name in FUNCTIONS:
        return FUNCTIONS[name][2]
    if name in CALLBACKS:
        return CALLBACKS[name][1]
    return "guide/connection-oriented-ndis.md"


@functools.cache
def field_reader(fields: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """A function that reads ``fields`` of a structure into a tuple, in one call.

    Built once per tuple of names (the names are fixed: a structure type's ``__slots__`` or a
    constant tuple), so the same names always get the same reader.
    """
    get = attrgetter(*fields)
    if len(fields) == 1:
        return lambda obj: (get(obj),)
    return get


@functools.cache
def fields_reader(struct_type: type) -> Callable[[Any], tuple[Any, ...]]:
    """A function that reads every field of a slotted structure type, in declaration order.

    Built once per type: a class's slots are fixed when the class is created.
    """
    return field_reader(tuple(struct_type.__slots__))


class NdisCore:
    """State and helpers shared by the DDI families; see :class:`condis.Ndis`."""

    def __init__(self, name: str, sim: Any) -> None:
        self.name = name
        self.sim = sim
        self._ids = 0
        self._irql = PASSIVE_LEVEL
        self._locks_held = 0
        self._current: Any = None  # the driver NDIS last called into (kept up to date when tracing)
        # Handlers NDIS is inside of now, and how many of those are DriverEntry or an unload routine,
        # which the I/O manager calls, not NDIS: a DDI that must not be called from an NDIS entry
        # point looks at the difference (verifier on; the lean host's handler call does not count).
        self._handlers_in = 0
        self._io_routines_in = 0
        self.tracer: Any = None
        self._states: Any = None   # the tracer, when it records state changes (see Handle.__init__)
        self.verifier = sim.verifier
        self._record = self.verifier.recording

    # ---------------------------------------------------------------- ids and errors

    def _next_id(self) -> int:
        self._ids += 1
        return self._ids

    def _violate(self, rule: str, ddi: str, detail: str, page: str | None = None, **objects: Any) -> Violation:
        """Build the Violation for ``rule`` (callers ``raise`` it so control flow stays visible).

        ``page`` names the page that states this instance of the rule where it is more precise than
        the rule's own page (a pack path, as every page of a Violation is).
        """
        if page is None:
            if (rule.startswith("Irql_") or rule in _FUNCTION_PAGE_RULES) and ddi in FUNCTIONS:
                page = FUNCTIONS[ddi][2]
            elif rule in _HANDLER_PAGE_RULES and ddi in CALLBACKS:
                page = CALLBACKS[ddi][1]   # the handler's own page says what it may return
            else:
                page = RULES[rule].page
        v = Violation(rule, page, ddi, f"[{self.name}] {detail}", **objects)
        if self.tracer is not None:
            self.tracer.violation(self, v)
        return v

    def _bad_handle(self, ddi: str, param: str, value: Any, expected: type) -> Violation:
        if isinstance(value, expected):
            if value.ndis is not self:
                why = f"{safe_repr(value)} belongs to host {value.ndis.name!r}"
            else:
                why = f"{safe_repr(value)} is no longer valid (state {value.state})"
        else:
            why = f"got {type(value).__name__} {safe_repr(value)}"
        kind = expected.kind if expected.kind.endswith("handle") else f"{expected.kind} handle"
        return self._violate("condis.BadHandle", ddi, f"{param} must be a live {kind} of this host; {why}")

    def _param(self, ddi: str, fault: str | None) -> None:
        """Refuse a malformed parameter: ``fault`` is what a check of condis/ndis/validate.py found."""
        if fault is not None:
            raise self._violate("condis.BadParameter", ddi, fault)

    def _teardown(self, when: str, findings: list[tuple[str, ...]]) -> None:
        """Report what a teardown found left behind (see condis/ndis/leaks.py): ``(rule, message)``
        pairs, or ``(rule, message, page)`` where a page states this case more precisely.

        Strict mode raises the first finding, its message counting the others; record mode keeps each.
        """
        if not findings or not self.verifier.checking:
            return
        if not self._record:
            rule, message, *page = findings[0]
            more = f" (and {len(findings) - 1} more left behind)" if len(findings) > 1 else ""
            raise self._violate(rule, when, message + more, *page)
        for rule, message, *page in findings:
            if self.verifier.first_report(self.name, rule, message):
                self.verifier.found(self, self._violate(rule, when, message, *page))

    def _status_arg(self, ddi: str, status: Any, param: str = "Status") -> None:
        """A Complete call's final status: an NDIS_STATUS value other than NDIS_STATUS_PENDING."""
        if self._irql > DISPATCH_LEVEL:
            raise self._at_dirql(ddi)
        if type(status) is not int:
            raise self._violate("condis.BadParameter", ddi,
                                f"{param} must be an NDIS_STATUS int, got {safe_repr(status)}")
        if status == PENDING:
            raise self._violate("condis.PendingStatus", ddi,
                                f"{param} is NDIS_STATUS_PENDING; a Complete call reports a final status")

    # ---------------------------------------------------------------- IRQL

    @property
    def irql(self) -> int:
        """The IRQL of the code running now on this host."""
        return self._irql

    def _at_dirql(self, ddi: str) -> Violation:
        """The IRQL violation of a DDI capped at DISPATCH_LEVEL or below, called at DIRQL (from
        ``Ndis.interrupt``).

        Each such DDI tests ``self._irql > DISPATCH_LEVEL`` in the first check it makes, before it
        looks at its arguments or changes anything: the handle and status checks every DDI opens
        with (``_vch``, ``_binding``, ``_af``, ``_sap``, ``_party``, ``_status_arg``, ...), or the
        IRQL tests of ``_passive_only`` and ``_dispatch_only``. The send path folds it into the one
        test that accepts the usual send. Outside an interrupt that is one comparison per DDI call.
        With the verifier off, the lean send routes (condis/ndis/data.py) test nothing, the IRQL
        included.
        """
        return self._violate(irql_rule(ddi), ddi,
                             f"called at DIRQL (from an interrupt); its page allows {FUNCTIONS[ddi][0]}")

    def _passive_only(self, ddi: str) -> None:
        if self._irql != PASSIVE_LEVEL:
            raise self._violate(irql_rule(ddi), ddi,
                                f"called at {IRQL_NAMES[self._irql]}; its page requires PASSIVE_LEVEL")

    def _dispatch_only(self, ddi: str) -> None:
        if self._irql != DISPATCH_LEVEL:
            raise self._violate(irql_rule(ddi), ddi,
                                f"called at {IRQL_NAMES[self._irql]}; its page requires DISPATCH_LEVEL")

    # ---------------------------------------------------------------- calling drivers

    def _up(self, fn: Callable[..., Any], name: str, *args: Any) -> Any:
        """Call a driver's handler and check it returns with the IRQL and locks it was given.

        A handler that raises (a bug check on Windows) lets the exception through, after NDIS put
        back what the interrupted request had changed (condis/ndis/unwind.py).
        """
        irql = self._irql
        locks = self._locks_held
        self._handlers_in += 1
        try:
            result = fn(*args)
        except BaseException:
            self._handler_raised(irql, locks)
            raise
        finally:
            self._handlers_in -= 1
        if self._irql != irql or self._locks_held != locks:
            self._handler_manners(name, irql, locks)
        return result

    def _io_routine(self, fn: Callable[..., Any], name: str, *args: Any) -> Any:
        """Call DriverEntry or a driver's unload routine: as a handler, but the I/O manager's call."""
        self._io_routines_in += 1
        try:
            return self._up(fn, name, *args)
        finally:
            self._io_routines_in -= 1

    def _in_ndis_entry_point(self) -> bool:
        """Whether the caller runs inside a handler NDIS called (not only DriverEntry or Unload)."""
        return self._handlers_in > self._io_routines_in
    def _handler_raised(self, irql: int, locks: int) -> None:
        """A handler raised: the IRQL and spin-lock count NDIS called it with, and every object left
        in an ``*_IN_HANDLER`` state back as it was before the request (condis/ndis/unwind.py)."""
        self._irql = irql
        self._locks_held = locks
        unwind(self)

    def _handler_manners(self, name: str, irql: int, locks: int) -> None:
        """IRQL or spin locks not as NDIS left them when a handler returned: restore them, then report."""
        if self._locks_held != locks:
            held = self._locks_held - locks
            self._locks_held = locks
            self._irql = irql
            v = self._violate("SpinLockBalanced", name, f"returned still holding {held} spin lock(s) it acquired")
        else:
            got = self._irql
            self._irql = irql
            v = self._violate("condis.HandlerIrql", name,
                              f"was called at {IRQL_NAMES[irql]} and returned at {IRQL_NAMES.get(got, got)}")
        self.verifier.found(self, v)

    def _result(self, name: str, result: Any, outs: int) -> tuple:
        """Split a handler's return into (status, *OUT values), checking its shape.

        A malformed return raises in strict mode; in record mode NDIS goes on as if the handler had
        returned NDIS_STATUS_FAILURE.
        """
        if outs:
            if type(result) is tuple and len(result) == outs + 1 and type(result[0]) is int:
                return result
            v = self._violate("condis.HandlerReturn", name,
                              f"must return (status, {outs} OUT value(s)) as a tuple; returned {safe_repr(result)}")
        elif type(result) is int:
            return (result,)
        else:
            v = self._violate("condis.HandlerReturn", name, f"must return an NDIS_STATUS int; returned {safe_repr(result)}")
        self.verifier.found(self, v)
        return (st.NDIS_STATUS_FAILURE,) + (None,) * outs

    def _sync_only(self, name: str, status: int, instead: int = st.NDIS_STATUS_FAILURE) -> int:
        """A handler that may not pend: PENDING raises in strict mode; in record mode NDIS goes on with
        ``instead`` (failure where the handler was asked to take something on, success where it was
        told to let go of it)."""
        if status != PENDING:
            return status
        self.verifier.found(self, self._violate(
            "condis.NoPendingHere", name, "returned NDIS_STATUS_PENDING; this handler must complete synchronously"))
        return instead

    def _handler(self, table: Any, field: str, name: str, owner: Any) -> Callable[..., Any]:
        fn = getattr(table, field, None) if table is not None else None
        if fn is None:
            raise self._violate("condis.MissingHandler", name,
                                f"{safe_repr(owner)} registered no {field}, which NDIS needs here",
                                page=_HANDLER_TABLES.get(field[:2]))
        return fn

    # ---------------------------------------------------------------- deferral and events

    def _at_passive(self, fn: Callable[..., Any], args: tuple, label: str, owner: Any = None) -> None:
        """Run ``fn`` now if at PASSIVE_LEVEL, else from an NDIS work item (PASSIVE_LEVEL handlers)."""
        if self._irql == PASSIVE_LEVEL:
            fn(*args)
        else:
            self.sim.scheduler.schedule(0, fn, args, kind="ndis-work", label=label, host=self,
                                        irql=PASSIVE_LEVEL, owner=owner)

    def _block_until(self, done: Callable[[], bool]) -> None:
        """Wait inside a DDI, as its caller would block at PASSIVE_LEVEL: the simulation runs other
        events until ``done()``, nothing is left to run, or ``_BLOCKED_STEPS`` events ran (a periodic
        timer would otherwise keep a wait that never ends going forever)."""
        nested = getattr(self.tracer, "nested_events", None)
        with nested() if nested is not None else contextlib.nullcontext():
            self.sim.run(until=done, max_steps=_BLOCKED_STEPS)

    def _run_event(self, ev: Any) -> None:
        """Run a scheduled event at its IRQL (called by the scheduler)."""
        saved_irql, saved_locks = self._irql, self._locks_held
        self._irql = ev.irql
        tracer = self.tracer
        if tracer is not None:
            prev = self._current
            tracer.event(self, ev)
        try:
            ev.fn(*ev.args)
            if self._irql != ev.irql or self._locks_held != 0:
                self._handler_manners(ev.label or ev.kind, ev.irql, 0)
        except Violation as v:
            # Record mode: a check NDIS makes outside any DDI (a PnP step, a handler's manners) failed.
            if not self._record:
                raise
            self.verifier.found(self, v)
        finally:
            self._irql, self._locks_held = saved_irql, saved_locks
            if tracer is not None:
                self._current = prev
