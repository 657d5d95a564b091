"""Scenarios: what the explorer runs under many schedules.

A scenario is a function ``scenario(sim) -> check``. It builds hosts in ``sim`` (a
:class:`condis.Simulation` the explorer made, with its strategy and fault injector in place),
loads drivers, and schedules its workload with ``host.post(..., delay_ns=...)``; it does not run
the simulation. The explorer runs it until nothing is left to run, then calls ``check()`` (if the
scenario returned one), which raises AssertionError when the run ended wrong (a call stuck, data
lost), and then checks teardown: what the drivers left behind.

A scenario is named by a reference: a built-in short name (``condis explore --list``),
``package.module:function``, or ``path/to/file.py:function``; in Python, the function itself will do.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

Check = Callable[[], None]
ScenarioFn = Callable[[Any], Check | None]


def resolve(ref: str | ScenarioFn) -> ScenarioFn:
    """The scenario function a reference names (a function is its own reference)."""
    from condis.explore.scenarios import BUILTIN
    if callable(ref):
        return ref
    if ref in BUILTIN:
        return BUILTIN[ref].fn
    where, sep, name = ref.rpartition(":")
    if not sep or not where or not name:
        hint = " (a scenario function that no file names replays only from its own code)" if ref.startswith("<") else ""
        raise ValueError(f"scenario {ref!r} is not a built-in name (condis explore --list), "
                         f"module:function or file.py:function{hint}")
    if where.endswith(".py"):
        path = Path(where).resolve()
        if not path.is_file():
            raise ValueError(f"scenario {ref!r}: no file {where}")
        module_name = f"_condis_scenario_{abs(hash(str(path)))}"
        module = sys.modules.get(module_name)
        if module is None:
            # The file's folder goes on sys.path, as `python file.py` does, so it can import its neighbours.
            if str(path.parent) not in sys.path:
                sys.path.insert(0, str(path.parent))
            spec = importlib.util.spec_from_file_location(module_name, path)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[module_name] = module
            spec.loader.exec_module(module)
    else:
        module = importlib.import_module(where)
    fn = getattr(module, name, None)
    if not callable(fn):
        raise ValueError(f"scenario {ref!r}: {where} has no function {name!r}")
    return fn
