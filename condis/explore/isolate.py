"""Running schedules where a crashing driver cannot take the explorer down.

A C driver that dereferences a bad pointer or aborts kills the process it runs in. When the
scenario loads C drivers, each job's schedules run in a forked child that reports each one as it
finishes; if the child dies, the schedule it was running is a failure of kind ``crash`` (its
signal is the rule), saved like any other, and the job goes on in a new child from the next seed.
``condis replay`` reruns a crash the same way and says so; ``condis replay --asan`` reruns it
with AddressSanitizer, which names the bad access with its file and line.
"""

from __future__ import annotations

import faulthandler
import os
import pickle
import signal
import struct
import sys
from collections.abc import Callable, Iterator
from typing import Any

_LEN = struct.Struct("<Q")


def c_driver_loads() -> int:
    """How many times this process has loaded a C driver image (0 when it never imported the bridge)."""
    image = sys.modules.get("condis.cdriver.image")
    return 0 if image is None else image.loads()


def warm_up() -> None:
    """Set up the C bridge here once (its declarations and routine table), so that the children
    forked for each job inherit it rather than each doing it again."""
    from condis.cdriver._ffi import parse_all
    from condis.cdriver.driver import ops
    parse_all()
    ops()


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def stream_in_child(produce: Callable[[Callable[[Any], None]], None]) -> Iterator[Any]:
    """Run ``produce(emit)`` in a forked child; yield each value it emits, in order. When the
    child dies of a signal, yield ``Crashed(signum)`` last."""
    read_fd, write_fd = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:      # the child: emit each result as it comes, then leave without cleanup
        os.close(read_fd)
        faulthandler.disable()      # a crash is the parent's to report, once, as a failure
        code = 0
        try:
            out = os.fdopen(write_fd, "wb", buffering=0)

            def emit(value: Any) -> None:
                data = pickle.dumps(value)
                out.write(_LEN.pack(len(data)) + data)
            produce(emit)
        except BrokenPipeError:     # the parent stopped listening (it has what it needed): leave quietly
            code = 0
        except BaseException:      # noqa: BLE001 - reported to the parent as the child's failure
            import traceback
            traceback.print_exc()
            code = 70
        finally:
            os._exit(code)
    os.close(write_fd)
    finished = False
    try:
        with os.fdopen(read_fd, "rb") as pipe:
            while True:
                head = pipe.read(_LEN.size)
                if len(head) < _LEN.size:
                    break
                (size,) = _LEN.unpack(head)
                data = pipe.read(size)
                if len(data) < size:
                    break
                yield pickle.loads(data)
        finished = True
    finally:
        if not finished:        # the caller stopped early: the child's remaining schedules are not wanted
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        yield Crashed(os.WTERMSIG(status))
    elif os.WEXITSTATUS(status) != 0:
        yield Crashed(0, os.WEXITSTATUS(status))


class Crashed:
    """The child died: of ``signum``, or (signum 0) exited with ``code`` after an internal error."""

    def __init__(self, signum: int, code: int = 0) -> None:
        self.signum = signum
        self.code = code

    @property
    def name(self) -> str:
        return signal_name(self.signum) if self.signum else f"exit status {self.code}"


class _Emitting(list):
    """A list that also sends each item it is given to the parent, so a run that crashes still
    leaves the choices and faults it made up to the crash."""

    def __init__(self, tag: str, emit: Callable[[Any], None]) -> None:
        super().__init__()
        self.tag = tag
        self.emit = emit

    def append(self, item: Any) -> None:
        super().append(item)
        self.emit((self.tag, item))


def execute_isolated(fn: Any, chooser: Any, faults: Any = None, max_steps: int | None = None) -> Any:
    """:func:`condis.explore.execute.execute` in a forked child. When the child crashes, the outcome
    is a ``crash`` failure with the choices and faults the run had made up to the crash, so the
    schedule file replays to the same point."""
    from condis.explore.execute import MAX_STEPS, Outcome, execute

    def run(emit: Callable[[Any], None]) -> None:
        chooser.choices = _Emitting("choice", emit)
        if faults is not None:
            faults.injected = _Emitting("fault", emit)
        outcome = execute(fn, chooser, faults, max_steps=max_steps or MAX_STEPS)
        emit(("done", Outcome(outcome.failure, list(outcome.choices), list(outcome.faults), outcome.steps)))
    choices: list[int] = []
    injected: list[Any] = []
    for item in stream_in_child(run):
        if isinstance(item, Crashed):
            return Outcome(crash_failure(item), choices, injected, len(choices))
        tag, value = item
        if tag == "done":
            return value
        (choices if tag == "choice" else injected).append(value)
    raise AssertionError("the child ended without a result")


def crash_failure(crash: Crashed) -> Any:
    from condis.explore.schedule import Failure
    return Failure("crash", crash.name, f"a driver crashed the process ({crash.name}); condis replay reruns the "
                   "schedule, condis replay --asan shows the bad access with its file and line")
