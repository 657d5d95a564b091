"""The simulation a set of hosts lives in: one virtual clock, one scheduler, optional tracing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from condis.runtime.scheduler import Scheduler, Strategy


class Simulation:
    """Hosts that share virtual time. ``strategy`` is the scheduler's one choice point."""

    def __init__(self, strategy: Strategy | None = None, tracer: Any = None) -> None:
        self.scheduler = Scheduler(strategy)
        self.hosts: list[Any] = []
        self.tracer = tracer

    @property
    def now(self) -> int:
        return self.scheduler.now

    def run(self, until: int | Callable[[], bool] | None = None, max_steps: int | None = None) -> int:
        """Run events until none is runnable, time reaches ``until`` (ns), or ``until()`` is true."""
        return self.scheduler.run(until, max_steps)
