"""The schedule file: everything needed to rerun one schedule exactly, as JSON.

    {"format": "condis-schedule/1", "scenario": "mcm/close-race", "strategy": "random", "seed": 17,
     "window_ns": 20000, "faults": [{"site": "frame", "n": 3, "action": "drop"}],
     "choices": [0, 1, 0, 2], "failure": {"kind": "violation", "rule": "condis.CallState", ...}}

``choices`` is the index taken at each decision point of the scheduler (a step with more than
one ready event, oldest first); past its end the default order applies, so trailing zeros are
dropped. ``strategy`` and ``seed`` say how the schedule was found; replay needs only the scenario,
the window, the faults and the choices. ``failure.where`` is the driver code that made the failing
call (``file:line in function``), when there is one.

A scenario named by a file (``path/to/file.py:function``) is saved with the file's absolute path
and, as ``scenario_from_file``, its path from the schedule file's folder: the schedule replays from
any working directory, and still after the tree holding both files was moved or copied.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from condis.explore.faults import Fault

FORMAT = "condis-schedule/1"


@dataclass
class Failure:
    """Why a schedule failed: ``kind`` is violation, exception, check, teardown or livelock; ``where``
    the driver code that made the violating call or raised (see :func:`condis.explore.execute.driver_frame`)."""

    kind: str
    rule: str
    message: str
    where: str = ""

    @property
    def signature(self) -> tuple[str, str]:
        """What the shrinker keeps: the same kind of failure, with the same rule or exception type."""
        return (self.kind, self.rule)

    @property
    def place(self) -> tuple[str, str, str]:
        """The same failure at the same place: how ``condis explore --all`` groups what it found."""
        return (self.kind, self.rule, self.where)

    def __str__(self) -> str:
        text = f"{self.kind} {self.rule}: {self.message}" if self.rule else f"{self.kind}: {self.message}"
        return f"{text}\n  at {shown_path(self.where)}" if self.where else text

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "rule": self.rule, "message": self.message, "where": self.where}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Failure:
        return cls(data["kind"], data["rule"], data["message"], data.get("where", ""))


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
            "failure": None if self.failure is None else self.failure.as_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Schedule:
        if data.get("format") != FORMAT:
            raise ValueError(f"not a condis schedule (format {data.get('format')!r}, expected {FORMAT!r})")
        failure = data.get("failure")
        return cls(scenario=str(data["scenario"]), choices=[int(c) for c in data["choices"]],
                   faults=[Fault.from_json(f) for f in data.get("faults", [])], window_ns=int(data["window_ns"]),
                   strategy=str(data.get("strategy", "replay")), seed=data.get("seed"),
                   failure=None if failure is None else Failure.from_json(failure),
                   steps=int(data.get("steps", 0)))

    def save(self, path: str | Path) -> None:
        """Write the schedule as JSON; a file scenario is saved by absolute path and from ``path``'s folder."""
        path = Path(path)
        data = self.as_json()
        file, sep, name = self.scenario.rpartition(":")
        if sep and file.endswith(".py"):
            absolute = Path(file).resolve()
            data["scenario"] = f"{absolute}:{name}"
            data["scenario_from_file"] = f"{Path(os.path.relpath(absolute, path.resolve().parent)).as_posix()}:{name}"
        path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> Schedule:
        """Read a schedule; its file scenario is found by its absolute path, else from the schedule's folder."""
        path = Path(path)
        data = json.loads(path.read_text(encoding="utf-8"))
        schedule = cls.from_json(data)
        file, sep, name = schedule.scenario.rpartition(":")
        if sep and file.endswith(".py") and not Path(file).is_file():
            near, _, _ = str(data.get("scenario_from_file", Path(file).as_posix() + ":")).rpartition(":")
            candidate = path.resolve().parent / near
            if candidate.is_file():
                schedule.scenario = f"{candidate.resolve()}:{name}"
        return schedule

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


def shown_path(where: str) -> str:
    """``where`` (``/abs/file.py:12 in fn``) with the file relative to the working directory when it lies below it."""
    file, sep, rest = where.partition(":")
    if not sep:
        return where
    try:
        rel = Path(file).relative_to(Path.cwd())
    except ValueError:
        return where
    return f"{rel.as_posix()}:{rest}"
