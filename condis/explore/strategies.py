"""Strategies for the scheduler's choice point (:meth:`condis.Strategy.choose`).

Each one records the index it chose at every decision point (a step with more than one ready
event), so any run is reproduced by replaying that list: :class:`Replay` follows a list of
choices and takes the default (the oldest ready event, as :class:`condis.FifoStrategy` does) past
its end. A choice list is therefore also a complete, editable description of a schedule, which is
what the shrinker works on.

All strategies share a ``window_ns`` (see :mod:`condis.runtime.scheduler`): events due within that
much virtual time of the earliest one compete, so a frame arriving can be run before a local
request due a little earlier, or after one due a little later.
"""

from __future__ import annotations

from collections.abc import Sequence
from random import Random

from condis.runtime.scheduler import Event

WINDOW_NS = 20_000    # twice the sample wire's latency: a frame in flight can cross a local request


class Chooser:
    """A strategy that records its choices; subclasses say how to pick."""

    name = "fifo"

    def __init__(self, window_ns: int = WINDOW_NS) -> None:
        self.window_ns = window_ns
        self.choices: list[int] = []

    def choose(self, ready: Sequence[Event], now: int) -> int:
        pick = self.pick(ready, now)
        self.choices.append(pick)
        return pick

    def pick(self, ready: Sequence[Event], now: int) -> int:
        return 0


class Replay(Chooser):
    """Follow ``choices`` (clamped to the ready set's size), then the default order."""

    name = "replay"

    def __init__(self, choices: Sequence[int], window_ns: int = WINDOW_NS) -> None:
        super().__init__(window_ns)
        self.prefix = list(choices)

    def pick(self, ready: Sequence[Event], now: int) -> int:
        k = len(self.choices)
        if k < len(self.prefix):
            return min(self.prefix[k], len(ready) - 1)
        return 0


class RandomWalk(Chooser):
    """A uniformly random ready event at every decision point, from a seeded generator."""

    name = "random"

    def __init__(self, seed: int, window_ns: int = WINDOW_NS) -> None:
        super().__init__(window_ns)
        self.rng = Random(seed)

    def pick(self, ready: Sequence[Event], now: int) -> int:
        return self.rng.randrange(len(ready))


def lane(ev: Event) -> tuple[str, str, str]:
    """The "thread" an event belongs to, for PCT: its host, its kind and the driver it runs for.

    Frames into one host, work items of one driver, timers of one driver and scenario steps on one
    host each form a lane; PCT orders lanes, not single events. Labels are left out on purpose:
    they are only filled in when a trace is recorded, and a strategy must choose the same with or
    without one.
    """
    owner = ev.owner
    if isinstance(owner, tuple):
        who = str(owner[0])
    else:
        who = str(getattr(owner, "name", "") or "")
    return (str(getattr(ev.host, "name", "")), ev.kind, who)


class Pct(Chooser):
    """Probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010), over lanes of events.

    Every lane gets a random priority when it first has a ready event; the ready event of the
    highest-priority lane runs. At ``depth - 1`` decision points drawn at random among the first
    ``steps``, the lane about to run drops below every other lane. A bug that needs ``depth``
    ordering constraints is found with probability at least 1/(lanes * steps^(depth-1)) per run.
    """

    name = "pct"

    def __init__(self, seed: int, depth: int = 3, steps: int = 100, window_ns: int = WINDOW_NS) -> None:
        super().__init__(window_ns)
        self.rng = Random(seed)
        self.depth = depth
        points = max(1, steps)
        self.change_points = set(self.rng.sample(range(points), min(depth - 1, points)))
        self.priority: dict[tuple[str, str, str], float] = {}
        self.lowest = 0.0

    def pick(self, ready: Sequence[Event], now: int) -> int:
        lanes = [lane(ev) for ev in ready]
        for key in lanes:
            if key not in self.priority:
                self.priority[key] = 1.0 + self.rng.random()
        best = max(range(len(ready)), key=lambda i: (self.priority[lanes[i]], -i))
        if len(self.choices) in self.change_points:
            self.lowest -= 1.0
            self.priority[lanes[best]] = self.lowest
            best = max(range(len(ready)), key=lambda i: (self.priority[lanes[i]], -i))
        return best
