"""Faults the explorer injects: frames lost, duplicated or delayed on the simulated wire, an
allocation DDI failing (as Driver Verifier's low-resources simulation does), and the NIC refusing
to program a VC (a miniport failing an activation).

Every fault site is counted over the whole simulation, in the order the sites are reached, so
``Fault("frame", 3, "drop")`` means "lose the fourth frame put on any wire". A schedule's fault plan
is a list of such faults; replaying the same choices with the same plan reaches the same sites in
the same order, so the plan reproduces exactly and the shrinker can remove faults one by one.

The hooks are found by the simulated parts themselves when they are built: a :class:`condis.Wire`
and a host's support DDIs look for a ``faults`` attribute on their simulation (the explorer's
simulation has one, a plain :class:`condis.Simulation` has none), so nothing is checked on any
path when no fault injector exists.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from random import Random
from typing import Any

FRAME, ALLOC, ACTIVATE = "frame", "alloc", "activate"
SITES = (FRAME, ALLOC, ACTIVATE)
ACTIONS = {FRAME: ("drop", "duplicate", "delay"), ALLOC: ("fail",), ACTIVATE: ("fail",)}
DELAY_FACTOR = 3      # a delayed frame takes three times the wire's latency


@dataclass(frozen=True, slots=True)
class Fault:
    """One injected fault: at the ``n``-th (from 0) occurrence of ``site``, do ``action``."""

    site: str
    n: int
    action: str

    def as_json(self) -> dict[str, Any]:
        return {"site": self.site, "n": self.n, "action": self.action}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fault:
        fault = cls(str(data["site"]), int(data["n"]), str(data["action"]))
        if fault.site not in ACTIONS or fault.action not in ACTIONS[fault.site]:
            raise ValueError(f"unknown fault {data!r}; sites and actions: {ACTIONS}")
        return fault

    def __str__(self) -> str:
        what = {FRAME: "frame", ALLOC: "allocation", ACTIVATE: "VC activation"}[self.site]
        return f"{self.action} {what} #{self.n}"


class FaultInjector:
    """Decides at each fault site whether to inject a fault, and records the faults it injected.

    ``plan`` faults are injected where they say. With an ``rng``, faults of the ``sites`` kinds are
    also drawn at random, each site with probability ``rate``, at most ``budget`` of them in a run.
    """

    def __init__(self, plan: Iterable[Fault] = (), rng: Random | None = None, sites: Iterable[str] = (),
                 rate: float = 0.0, budget: int = 2) -> None:
        self.planned = {(f.site, f.n): f.action for f in plan}
        self.rng = rng
        self.sites = frozenset(sites)
        self.rate = rate
        self.budget = budget
        self.counts = dict.fromkeys(SITES, 0)
        self.injected: list[Fault] = []

    def decide(self, site: str) -> str | None:
        """Count one occurrence of ``site``; return the fault action to apply there, if any."""
        n = self.counts[site]
        self.counts[site] = n + 1
        action = self.planned.get((site, n))
        if (action is None and self.rng is not None and site in self.sites and len(self.injected) < self.budget
                and self.rng.random() < self.rate):
            action = self.rng.choice(ACTIONS[site])
        if action is not None:
            self.injected.append(Fault(site, n, action))
        return action

    # ---- the hooks the simulated parts call -----------------------------------------------
    def frame(self, latency_ns: int) -> list[int]:
        """The delivery delays of one frame (the :attr:`condis.Wire.fault` contract)."""
        action = self.decide(FRAME)
        if action is None:
            return [latency_ns]
        if action == "drop":
            return []
        if action == "duplicate":
            return [latency_ns, latency_ns]
        return [latency_ns * DELAY_FACTOR]

    def allocation(self, ddi: str) -> bool:
        """Whether this call of an allocation DDI fails."""
        return self.decide(ALLOC) is not None

    def activation(self) -> bool:
        """Whether the NIC refuses to program this VC."""
        return self.decide(ACTIVATE) is not None
