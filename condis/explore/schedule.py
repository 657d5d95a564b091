"""The schedule file: everything needed to rerun one schedule exactly, as JSON.

    {"format": "condis-schedule/1", "scenario": "mcm/close-race", "strategy": "random", "seed": 17,
     "window_ns": 20000, "faults": [{"site": "frame", "n": 3, "action": "drop"}],
     "choices": [0, 1, 0, 2], "failure": {"kind": "violation", "rule": "condis.CallState", ...}}

``choices`` is the index taken at each decision point of the scheduler (a step with more than
one ready event, oldest first); past its end the default order applies, so trailing zeros are
dropped. ``strategy`` and ``seed`` say how the schedule was found; replay needs only the scenario,
the window, the faults and the choices.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from condis.explore.faults import Fault

FORMAT = "condis-schedule/1"


@dataclass
class Failure:
    """Why a schedule failed: ``kind`` is violation, exception, check, teardown or livelock."""

    kind: str
    rule: str
    message: str

    @property
    def signature(self) -> tuple[str, str]:
        """What the shrinker keeps: the same kind of failure, with the same rule or exception type."""
        return (self.kind, self.rule)

    def __str__(self) -> str:
        return f"{self.kind} {self.rule}: {self.message}" if self.rule else f"{self.kind}: {self.message}"


@dataclass
class Schedule:
    """One schedule of a scenario, and how it failed (``failure`` is None for a clean one)."""

    scenario: str
    choices: list[int]
    faults: list[Fault] = field(default_factory=list)
    window_ns: int = 0
    strategy: str = "replay"
    seed: int | None = None
    failure: Failure | None = None
    steps: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT, "scenario": self.scenario, "strategy": self.strategy, "seed": self.seed,
            "window_ns": self.window_ns, "faults": [f.as_json() for f in self.faults],
            "choices": self.choices, "steps": self.steps,
            "failure": None if self.failure is None else {"kind": self.failure.kind, "rule": self.failure.rule,
                                                          "message": self.failure.message},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Schedule:
        if data.get("format") != FORMAT:
            raise ValueError(f"not a condis schedule (format {data.get('format')!r}, expected {FORMAT!r})")
        failure = data.get("failure")
        return cls(scenario=str(data["scenario"]), choices=[int(c) for c in data["choices"]],
                   faults=[Fault.from_json(f) for f in data.get("faults", [])], window_ns=int(data["window_ns"]),
                   strategy=str(data.get("strategy", "replay")), seed=data.get("seed"),
                   failure=None if failure is None else Failure(failure["kind"], failure["rule"], failure["message"]),
                   steps=int(data.get("steps", 0)))

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.as_json(), indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> Schedule:
        return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))

    @property
    def decisions(self) -> int:
        """How many decision points take a non-default choice: the size the shrinker minimises."""
        return sum(1 for c in self.choices if c)


def trimmed(choices: list[int]) -> list[int]:
    """``choices`` without the trailing defaults (replay takes the default past the end anyway)."""
    end = len(choices)
    while end and choices[end - 1] == 0:
        end -= 1
    return choices[:end]
