"""The simulation a set of hosts lives in: one virtual clock, one scheduler, one verifier, optional tracing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from condis.ndis import leaks
from condis.ndis import states as S
from condis.runtime.scheduler import Scheduler, Strategy
from condis.verifier import Verifier

# An unload that has not finished after this many events is stuck (a pended unbind never completed,
# or a periodic timer keeps the run alive); the teardown then reports what it finds.
_UNLOAD_STEPS = 100_000


class Simulation:
    """Hosts that share virtual time.

    Args:
        strategy: the scheduler's one choice point (default: oldest ready event first).
        tracer: a :class:`condis.trace.Recorder` for every host, or ``None`` to record nothing.
        verify: ``"strict"`` raises :class:`condis.Violation` at the violating call; ``"record"``
            refuses the call, collects the violation in ``self.verifier`` and goes on; ``"off"``
            keeps only the checks NDIS's routing needs (see :mod:`condis.verifier`). In record
            mode a small ring recorder is attached when no tracer is given, so each finding shows
            what led up to it.
    """

    def __init__(self, strategy: Strategy | None = None, tracer: Any = None, verify: str = "strict") -> None:
        self.scheduler = Scheduler(strategy)
        self.hosts: list[Any] = []
        self.verifier = Verifier(verify)
        if tracer is None and self.verifier.recording:
            from condis.trace.recorder import RingRecorder
            tracer = RingRecorder()
        self.tracer = tracer

    @property
    def now(self) -> int:
        return self.scheduler.now

    def run(self, until: int | Callable[[], bool] | None = None, max_steps: int | None = None) -> int:
        """Run events until none is runnable, time reaches ``until`` (ns), or ``until()`` is true."""
        return self.scheduler.run(until, max_steps)

    def finish(self) -> Verifier:
        """End the run and check what drivers left behind on every host (see :mod:`condis.ndis.leaks`).

        Every driver still loaded is first unloaded, newest first, as when a machine shuts down:
        adapters are removed, protocols unbind, and each teardown step checks its own leftovers.
        Then whatever remains on any host is reported: in strict mode the first thing left behind
        raises :class:`condis.Violation` (its message counts the rest); in record mode each becomes
        a finding. Returns the verifier, whose ``report()`` and ``to_json()`` describe every
        violation of the run.
        """
        for host in self.hosts:
            for name, drv in reversed(list(host.drivers.items())):
                if drv.state == S.DRIVER_LOADED:
                    # Run until the unload is done, not until quiet: a timer a driver forgot must
                    # still be queued when the teardown looks for it.
                    done = host.unload_driver(name)
                    self.run(until=lambda done=done: done.done, max_steps=_UNLOAD_STEPS)
        for host in self.hosts:
            host._teardown("run end", leaks.run_end(host))
        return self.verifier
