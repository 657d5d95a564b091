"""A deterministic discrete-event scheduler with virtual time.

Theory of operation
-------------------
Everything that happens "later" in a simulated machine is an :class:`Event`: a DPC, an NDIS
work item, a timer expiry, a frame arriving off a simulated wire, a scenario step. Events carry
the virtual time at which they become due (in nanoseconds) and a sequence number that records
the order they were scheduled in.

``step()`` runs one event. The events due at the earliest pending time are the *ready* set; which
of them runs next is decided in exactly one place, :meth:`Strategy.choose`. The default strategy
takes the oldest (lowest sequence number), so a run is reproducible run to run. Exploration plugs
another strategy in there; nothing else in condis decides an order.

A strategy may widen the ready set with a ``window_ns`` attribute: every event due within that
much virtual time of the earliest one is then ready. The races that matter in CoNDIS are between a
frame arriving and a local request, which are rarely due at the same nanosecond; a window lets a
strategy run the later one first. Time never runs backwards: choosing an event due later moves the
clock to it, and the events passed over run late, by at most the window (an event stays the
earliest pending until it runs, so the clock cannot pass its due time plus the window).

The scheduler does not know what an event does: it calls ``event.host._run_event(event)`` (or the
plain function for host-less events) and the host sets the IRQL and checks the handler's manners.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from typing import Any, Protocol

NS_PER_MS = 1_000_000


class Event:
    """One thing the scheduler will run."""

    __slots__ = ("due", "seq", "kind", "label", "fn", "args", "host", "irql", "cancelled", "owner")

    def __init__(self, due: int, seq: int, kind: str, label: str, fn: Callable[..., Any],
                 args: tuple, host: Any, irql: int, owner: Any) -> None:
        self.due = due
        self.seq = seq
        self.kind = kind
        self.label = label
        self.fn = fn
        self.args = args
        self.host = host
        self.irql = irql
        self.cancelled = False
        self.owner = owner

    def __lt__(self, other: Event) -> bool:
        return (self.due, self.seq) < (other.due, other.seq)

    def __repr__(self) -> str:
        host = getattr(self.host, "name", None)
        return f"<Event #{self.seq} {self.kind} {self.label!r} t={self.due} host={host}>"


class Strategy(Protocol):
    """Chooses which ready event runs next: the scheduler's one choice point."""

    def choose(self, ready: Sequence[Event], now: int) -> int:
        """Return the index in ``ready`` (ordered oldest first) of the event to run."""
        ...


class FifoStrategy:
    """The default: the oldest ready event first. Reproducible run to run."""

    def choose(self, ready: Sequence[Event], now: int) -> int:
        return 0


class Scheduler:
    """Virtual time and the queue of pending events, shared by every host of one simulation."""

    def __init__(self, strategy: Strategy | None = None) -> None:
        self.now = 0
        # A heap of (due, seq, event): tuples compare in C, so the heap never calls Event.__lt__.
        self._queue: list[tuple[int, int, Event]] = []
        self._seq = 0
        self.strategy = strategy
        self.steps = 0

    def schedule(self, delay_ns: int, fn: Callable[..., Any], args: tuple = (), *, kind: str = "event",
                 label: str = "", host: Any = None, irql: int = 0, owner: Any = None) -> Event:
        """Queue ``fn(*args)`` to run ``delay_ns`` nanoseconds of virtual time from now."""
        if delay_ns < 0:
            raise ValueError(f"an event cannot be scheduled in the past (delay {delay_ns} ns)")
        seq = self._seq = self._seq + 1
        due = self.now + delay_ns
        ev = Event(due, seq, kind, label, fn, args, host, irql, owner)
        heapq.heappush(self._queue, (due, seq, ev))
        return ev

    def cancel(self, ev: Event) -> bool:
        """Cancel a pending event; return whether it was still pending."""
        if ev.cancelled or ev.due < 0:
            return False
        ev.cancelled = True
        return True

    def pending(self) -> list[Event]:
        """Events still to run, in default order."""
        return [e for _, _, e in sorted(self._queue) if not e.cancelled]

    def _pop_next(self) -> Event | None:
        queue = self._queue
        pop = heapq.heappop
        while queue and queue[0][2].cancelled:
            pop(queue)
        if not queue:
            return None
        first = pop(queue)[2]
        if self.strategy is None:
            return first
        due = first.due
        horizon = due + getattr(self.strategy, "window_ns", 0)
        while queue and queue[0][2].cancelled:
            pop(queue)
        if not queue or queue[0][0] > horizon:
            return first        # nothing else is ready: there is no choice to make
        ready = [first]
        while queue and queue[0][0] <= horizon:
            ev = pop(queue)[2]
            if not ev.cancelled:
                ready.append(ev)
        pick = self.strategy.choose(ready, max(self.now, due)) if len(ready) > 1 else 0
        chosen = ready.pop(pick)
        for ev in ready:
            heapq.heappush(queue, (ev.due, ev.seq, ev))
        return chosen

    def step(self) -> bool:
        """Run one event; return False when nothing is runnable."""
        ev = self._pop_next()
        if ev is None:
            return False
        self._run(ev)
        return True

    def _run(self, ev: Event) -> None:
        if ev.due > self.now:     # an event passed over by a windowed strategy runs late, at the current time
            self.now = ev.due
        ev.due = -1  # marks "already ran" for cancel()
        self.steps += 1
        if ev.host is not None:
            ev.host._run_event(ev)
        else:
            ev.fn(*ev.args)

    def run(self, until: int | Callable[[], bool] | None = None, max_steps: int | None = None) -> int:
        """Run events until none is runnable, virtual time passes ``until`` (ns), or ``until()`` is true.

        Returns the number of events run.
        """
        ran = 0
        if callable(until):
            pred = until
            while not pred() and (max_steps is None or ran < max_steps) and self.step():
                ran += 1
            return ran
        limit = until
        queue = self._queue
        if limit is None:
            # No time limit: step() inlined, the loop every run to quiescence takes.
            pop_next, run = self._pop_next, self._run
            while max_steps is None or ran < max_steps:
                ev = pop_next()
                if ev is None:
                    break
                run(ev)
                ran += 1
            return ran
        while max_steps is None or ran < max_steps:
            while queue and queue[0][2].cancelled:
                heapq.heappop(queue)
            if not queue or queue[0][0] > limit:
                self.now = max(self.now, limit)
                break
            if not self.step():
                break
            ran += 1
        return ran
