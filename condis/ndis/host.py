"""The host: one simulated machine's NDIS library, with every DDI as a method.

``Ndis`` is assembled from one class per DDI family, in the order the guide builds them up:
registration and PnP, AFs and SAPs, VCs, calls and parties, data, requests and status, support.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from condis import _status as st
from condis._ddi_table import FUNCTIONS
from condis.constants import DIRQL
from condis.errors import Violation
from condis.ndis import leaks as _leaks
from condis.ndis.support import KERNEL_ROUTINES, SupportDdi
from condis.sim import Simulation


class Ndis(SupportDdi):
    """One simulated host's NDIS.

    Args:
        name: the host's name, shown in messages and traces.
        sim: the :class:`condis.Simulation` (virtual clock and scheduler) the host lives in; hosts
            that talk over a wire share one. A new one is made when omitted.
        tracer: an object with ``ddi_call``, ``ddi_return``, ``handler_call``, ``handler_return``,
            ``event`` and ``violation`` methods (see :mod:`condis.trace`); ``None`` records nothing
            and costs nothing.
    """

    def __init__(self, name: str = "host", sim: Simulation | None = None, tracer: Any = None) -> None:
        self.sim = sim if sim is not None else Simulation()
        super().__init__(name, self.sim)
        self.sim.hosts.append(self)
        if tracer is None:
            tracer = self.sim.tracer
        self.tracer = tracer
        self._wrap()

    def __repr__(self) -> str:
        return f"<Ndis host {self.name!r}>"

    # ------------------------------------------------------------------ simulation control

    def run(self, until: int | Callable[[], bool] | None = None, max_steps: int | None = None) -> int:
        """Run the simulation (every host sharing it) until nothing is runnable, virtual time reaches
        ``until`` nanoseconds, or ``until()`` returns true. Returns the number of events run."""
        return self.sim.run(until, max_steps)

    def post(self, fn: Callable[..., Any], *args: Any, delay_ns: int = 0, irql: int = 0, label: str = "",
             owner: Any = None) -> Any:
        """Schedule ``fn(*args)`` to run on this host at ``irql`` after ``delay_ns`` of virtual time.

        This is how a scenario drives drivers: each step is an event the scheduler orders.
        """
        return self.sim.scheduler.schedule(delay_ns, fn, args, kind="post", label=label or getattr(fn, "__name__", ""),
                                           host=self, irql=irql, owner=owner)

    def leaks(self) -> list[str]:
        """What drivers left behind on this host: objects never deleted or closed, requests pended and
        never completed, work items and timers still queued (see :mod:`condis.ndis.leaks`)."""
        return _leaks.leaks(self)

    @property
    def now(self) -> int:
        """Virtual time in nanoseconds."""
        return self.sim.scheduler.now

    def interrupt(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn(*args)`` now at DIRQL, as a NIC's interrupt service routine runs.

        Every DDI whose page caps its IRQL at DISPATCH_LEVEL or below is refused there with the IRQL
        rule ddi-index.tsv names for it, however the driver reaches it (a bound method taken before
        the interrupt too): the DDIs test the IRQL themselves, at their entry checks (``_at_dirql``
        in condis/ndis/core.py), where a test of one attribute costs next to nothing outside an
        interrupt.
        """
        saved_irql = self._irql
        self._irql = DIRQL
        try:
            return fn(*args)
        finally:
            self._irql = saved_irql

    # ------------------------------------------------------------------ tracing

    def trace_with(self, tracer: Any) -> None:
        """Record every DDI call and return, handler call and return, event and violation."""
        self.tracer = tracer
        self._wrap()

    def _wrap(self) -> None:
        """Put the record-mode refusal and the tracing around every DDI, only where they are on.

        With neither, a DDI is the plain method: strict mode and no tracer cost nothing here.
        """
        record, tracer = self._record, self.tracer
        self._states = tracer if getattr(tracer, "states", False) else None
        off = not self.verifier.checking
        checked = getattr(type(self), "_checked_class", None)
        if checked is not None:
            self.__class__ = checked    # a tracer came: every handler call goes through the traced path
        if off and tracer is None:
            # Verifier off: the lean variants some DDIs have, which call handlers directly, and the
            # other handlers called without a look at their manners. They come with a subclass of
            # this host's class, not as attributes of this host: attributes set on the instance
            # would turn its attribute dictionary into a plain one, and make every self.xxx of
            # every DDI slower.
            self.__class__ = _unchecked_class(type(self))
            return
        cls = type(self)
        if not (record or tracer is not None):
            return
        for name in (*FUNCTIONS, *KERNEL_ROUTINES):
            fn = getattr(cls, name)
            if record:
                fn = _refusing(name, fn, REFUSALS[name])
            if tracer is not None:
                fn = _traced_ddi(self, name, fn)
            setattr(self, name, functools.partial(fn, self) if tracer is None else fn)
        if record:
            for name in ("load_driver", "add_adapter"):
                setattr(self, name, functools.partial(_refusing(name, getattr(cls, name), st.NDIS_STATUS_FAILURE),
                                                      self))
        if tracer is not None:
            self._up = functools.partial(_traced_up, self)  # type: ignore[method-assign]


def _refusal(fn: Callable[..., Any]) -> Any:
    """What a DDI returns when record mode refuses it, from its signature: NDIS_STATUS_FAILURE for a
    status, (NDIS_STATUS_FAILURE, None, ...) with OUT values, False for a BOOLEAN, None otherwise."""
    ret = str(inspect.signature(fn).return_annotation)
    if ret == "int":
        return st.NDIS_STATUS_FAILURE
    if ret == "bool":
        return False
    if ret.startswith("tuple["):
        depth, outs = 0, 0
        for ch in ret[len("tuple["):-1]:
            depth += ch == "["
            depth -= ch == "]"
            outs += ch == "," and depth == 0
        return (st.NDIS_STATUS_FAILURE,) + (None,) * outs
    return None


REFUSALS: dict[str, Any] = {name: _refusal(getattr(Ndis, name)) for name in (*FUNCTIONS, *KERNEL_ROUTINES)}


def _refusing(name: str, fn: Callable[..., Any], refused: Any) -> Callable[..., Any]:
    """Record mode: a DDI whose check failed changes nothing and returns ``refused``; the verifier
    keeps the violation and the caller goes on."""
    @functools.wraps(fn)
    def call(host: Ndis, *args: Any) -> Any:
        try:
            return fn(host, *args)
        except Violation as v:
            host.verifier.found(host, v)
            return refused
    return call


@functools.cache
def _unchecked_class(cls: type) -> type:
    """``cls`` (Ndis, or a subclass of it) with the verifier off and no tracer (see Ndis._wrap): the
    lean variants of the DDIs that have one, and handlers called without a look at their manners."""
    def _up(self: Ndis, fn: Callable[..., Any], name: str, *args: Any) -> Any:
        irql, locks = self._irql, self._locks_held
        try:
            return fn(*args)
        except BaseException:
            self._handler_raised(irql, locks)
            raise
    body: dict[str, Any] = {"_up": _up, "_checked_class": cls, "__module__": cls.__module__}
    for name in FUNCTIONS:
        lean = getattr(cls, f"_unchecked_{name}", None)
        if lean is not None:
            body[name] = lean
    return type(f"Unchecked{cls.__name__}", (cls,), body)


def _traced_ddi(host: Ndis, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def call(*args: Any) -> Any:
        tracer = host.tracer
        token = tracer.ddi_call(host, name, args)
        result = fn(host, *args)
        tracer.ddi_return(host, name, token, result)
        return result
    return call


def _traced_up(host: Ndis, fn: Callable[..., Any], name: str, *args: Any) -> Any:
    tracer = host.tracer
    prev = host._current
    # Timer functions and work-item routines are not registered handlers: they run as the driver
    # that owns the timer or work item, which the event already made current.
    host._current = host.roles.get(fn, prev)
    token = tracer.handler_call(host, name, host._current, args)
    try:
        result = SupportDdi._up(host, fn, name, *args)
    finally:
        host._current = prev
    tracer.handler_return(host, name, token, result)
    return result
