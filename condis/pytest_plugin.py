"""condis for pytest: fixtures for simulations, hosts and the two-host testbed with your drivers,
exploration inside a test, flow assertions drawn as lanes, and violations explained.

Installed with condis (the ``pytest11`` entry point), so a driver's test suite needs nothing else:

- ``condis_recorder``: a :class:`condis.trace.Recorder` that records state changes too; every
  simulation the fixtures below make traces into it.
- ``condis_sim``: a :class:`condis.Simulation` tracing into ``condis_recorder``.
- ``condis_host(name)``: a host (:class:`condis.Ndis`) in ``condis_sim``.
- ``condis_testbed(kind="mcm", client=..., mcm=..., cm=..., miniport=..., **kw)``: the two-host
  testbed of :func:`condis.demo.testbed`, up and bound, with your driver classes; override the
  ``condis_drivers`` fixture (a dict of those keywords) to make your classes the default.
- ``condis_explore(scenario, ...)``: :func:`condis.explore.explore` inside the test; a failing
  schedule is shrunk, saved beside the test's output (``tmp_path``, or the folder given by
  ``--condis-schedules`` / the ``condis_schedules`` ini option) and fails the test with the
  violation, the driver line, the replay command and the lanes of its last steps.
- ``condis_flow(expected, ...)`` (or :func:`assert_flow` with any recorder): the DDI and handler
  sequence the guide's figures draw; a mismatch shows the difference and the run in lanes.

A test that fails with a :class:`condis.Violation` gets a "condis violation" section: the
violation, its rule and page, the driver code that made the call, and the lanes of the last steps.
``--condis-coverage[=FILE.html]`` reports the NDIS coverage (:mod:`condis.coverage`) of every run
the fixtures traced, after the tests.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest

from condis.coverage import Coverage, write
from condis.errors import Violation
from condis.explore.execute import driver_frame
from condis.explore.runner import Options, Report, explore
from condis.explore.schedule import shown_path
from condis.explore.shrink import replay, shrink
from condis.ndis.host import Ndis
from condis.rules import RULES
from condis.sim import Simulation
from condis.trace.lanes import drawable, render
from condis.trace.recorder import SUPPORT_DDIS, Recorder

LAST_STEPS = 24          # how many steps of a run a failure draws
_RECORDERS = pytest.StashKey[list[Recorder]]()
_COVERAGE = pytest.StashKey[Coverage]()
_COVERAGE_HTML = pytest.StashKey[str]()


# ---------------------------------------------------------------------- options and the session

def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("condis")
    group.addoption("--condis-coverage", nargs="?", const="", default=None, metavar="FILE.html",
                    help="report the DDIs, handlers, states and transitions the condis fixtures' runs exercised "
                         "(and write the report as an HTML page)")
    group.addoption("--condis-schedules", default=None, metavar="DIR",
                    help="save failing schedules found by condis_explore here (default: the test's tmp_path)")
    parser.addini("condis_schedules", "where condis_explore saves failing schedules (default: the test's tmp_path)")


def pytest_configure(config: pytest.Config) -> None:
    html = config.getoption("--condis-coverage")
    if html is not None:
        config.stash[_COVERAGE] = Coverage()
        config.stash[_COVERAGE_HTML] = html


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    cov = config.stash.get(_COVERAGE, None)
    if cov is None:
        return
    terminalreporter.section("condis coverage")
    write(cov, config.stash[_COVERAGE_HTML] or None, terminalreporter.write_line)


def _coverage(config: pytest.Config) -> Coverage | None:
    return config.stash.get(_COVERAGE, None)


# ---------------------------------------------------------------------- fixtures

@pytest.fixture
def condis_recorder(request: pytest.FixtureRequest) -> Any:
    """A recorder of every DDI, handler, event, frame, violation and state change of the test's runs."""
    rec = Recorder(states=True)
    request.node.stash.setdefault(_RECORDERS, []).append(rec)
    yield rec
    cov = _coverage(request.config)
    if cov is not None and rec.records:
        rec.settle()
        cov.add(rec.records)


@pytest.fixture
def condis_sim(condis_recorder: Recorder) -> Simulation:
    """A simulation (strict verifier) whose hosts trace into ``condis_recorder``."""
    return Simulation(tracer=condis_recorder)


@pytest.fixture
def condis_host(condis_sim: Simulation) -> Callable[[str], Ndis]:
    """``condis_host("A")``: a new host in ``condis_sim``."""
    def make(name: str = "host") -> Ndis:
        return Ndis(name, sim=condis_sim)
    return make


@pytest.fixture
def condis_drivers() -> dict[str, type]:
    """The driver classes ``condis_testbed`` loads by default: override it with yours, e.g.
    ``{"client": MyClient}`` (keys: client, mcm, cm, miniport; the samples fill the rest)."""
    return {}


@pytest.fixture
def condis_testbed(condis_recorder: Recorder, condis_drivers: dict[str, type]) -> Callable[..., Any]:
    """``condis_testbed(kind="mcm", **kw)``: hosts A and B on one wire, each with a call manager (an
    MCM, or a miniport and a stand-alone call manager for "cm") and a client, bound and with AFs and
    SAPs up; keywords as :func:`condis.demo.testbed` (client=, mcm=, cm=, miniport=, verify=, ...)."""
    from condis.demo import testbed

    def make(kind: str = "mcm", **kw: Any) -> Any:
        return testbed(kind, condis_recorder, **{**condis_drivers, **kw})
    return make


@pytest.fixture
def condis_explore(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[..., Report]:
    """``condis_explore(scenario, strategy="random", schedules=200, ..., check=True)``: explore a
    scenario (a reference or a function) in the test. On a failure the schedule is shrunk and saved,
    and the test fails with what broke, where, and how to replay it; with ``check=False`` the report
    is returned instead, its first failure shrunk and saved (``report.saved``)."""
    def run(scenario: str | Callable[..., Any], strategy: str = "random", schedules: int = 200, seed: int = 0,
            options: Options | None = None, check: bool = True, **kw: Any) -> Report:
        cov = _coverage(request.config)
        opts = options or Options()
        if cov is not None and not opts.coverage:
            opts = Options(**{**opts.__dict__, "coverage": True})
        report = explore(scenario, strategy, schedules, seed, opts, **kw)
        if cov is not None and report.coverage is not None:
            cov.merge(report.coverage)
        if not report.failures:
            return report
        fn = scenario if callable(scenario) else None
        small = shrink(report.failures[0], fn=fn)
        report.failures[0] = small
        path = _schedule_dir(request, tmp_path) / f"{_safe(request.node.name)}.json"
        small.save(path)
        report.saved = str(path)
        if not check:
            return report
        rec = Recorder()
        replay(small, fn, tracer=rec)
        assert small.failure is not None
        text = [f"condis explore: {small.failure.kind} after {report.first_failure_at} schedule(s) of "
                f"{report.scenario} ({strategy})", f"  {small.failure.message}"]
        if small.failure.where:
            text.append(f"  driver code: {shown_path(small.failure.where)}")
        rule = RULES.get(small.failure.rule)
        if rule is not None:
            text.append(f"  rule {rule.id}: {rule.summary} (see {rule.page})")
        replayable = not small.scenario.startswith("<")
        text.append(f"  schedule: {path}" + (f"  (condis replay {path})" if replayable else
                                              "  (replay it with condis.explore.replay(Schedule.load(path), fn))"))
        text.append(_lanes(rec.records, "the last steps of the shrunk schedule"))
        pytest.fail("\n".join(text), pytrace=False)
    return run


@pytest.fixture
def condis_flow(condis_recorder: Recorder) -> Callable[..., None]:
    """``condis_flow(expected, since=0, host=None, drivers=(), frames=False)``: :func:`assert_flow`
    on ``condis_recorder``."""
    def check(expected: Sequence[str], since: int = 0, host: str | None = None, drivers: tuple[str, ...] = (),
              frames: bool = False) -> None:
        __tracebackhide__ = True
        assert_flow(condis_recorder, expected, since, host, drivers, frames)
    return check


# ---------------------------------------------------------------------- flows

def flow(recorder: Recorder, since: int = 0, host: str | None = None, drivers: tuple[str, ...] = (),
         frames: bool = False) -> list[str]:
    """The protocol DDI and handler calls recorded since ``since``, as "host:name", in order.

    ``host`` keeps one host's, ``drivers`` the calls made by (DDIs) or into (handlers) those drivers,
    ``frames`` adds the signaling frames ("A:~SETUP"). Plumbing (spin locks, NBL, timer and work-item
    bookkeeping) is left out, as the guide's figures leave it out.
    """
    out = []
    for r in list(recorder.records)[since:]:
        if (host is not None and r.host != host) or (drivers and r.driver not in drivers):
            continue
        if r.kind == "ddi" and r.name not in SUPPORT_DDIS:
            out.append(f"{r.host}:{r.name}")
        elif r.kind == "handler" and r.name not in ("WorkItemRoutine", "TimerFunction"):
            out.append(f"{r.host}:{r.name}")
        elif frames and r.kind == "frame":
            out.append(f"{r.host}:~{r.name.split()[0]}")
    return out


def assert_flow(recorder: Recorder, expected: Sequence[str], since: int = 0, host: str | None = None,
                drivers: tuple[str, ...] = (), frames: bool = False) -> None:
    """Assert the run made exactly the ``expected`` DDI and handler calls (see :func:`flow`), in order.

    Steps are "A:NdisClMakeCall" (host and name) or, when ``host`` is given, just the names. A
    mismatch fails with the difference and the run since ``since`` drawn in lanes.
    """
    __tracebackhide__ = True
    got = flow(recorder, since, host, drivers, frames)
    want = [f"{host}:{s}" if host is not None and ":" not in s else s for s in expected]
    if got == want:
        return
    diff = "\n".join(difflib.unified_diff(want, got, "expected flow", "the run's flow", lineterm="", n=2))
    records = list(recorder.records)[since:]
    if host is not None:
        records = [r for r in records if r.host == host or r.kind == "frame"]
    raise AssertionError(f"the flow differs from the expected one ({len(want)} step(s) expected, "
                         f"{len(got)} made)\n{diff}\n{_lanes(records, 'the run', last=None)}")


# ---------------------------------------------------------------------- violations in a failing test

@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if call.excinfo is None or report.passed:
        return report
    violation = _violation(call.excinfo.value)
    if violation is None:
        return report
    rule = RULES.get(violation.rule)
    lines = [str(violation), f"rule: {violation.rule}" + (f" — {rule.summary}" if rule else ""),
             f"page: {violation.page}"]
    where = driver_frame(violation.__traceback__)
    if where:
        lines.append(f"driver code: {shown_path(where)}")
    recorder = _recorder_of(item)
    if recorder is not None:
        lines.append(_lanes(list(recorder.records), "the last steps"))
    else:
        lines.append("(no recorder was attached: use the condis_* fixtures, or a condis.trace.Recorder, "
                     "to see the last steps in lanes)")
    report.sections.append(("condis violation", "\n".join(lines)))
    return report


def _violation(e: BaseException | None) -> Violation | None:
    seen = set()
    while e is not None and id(e) not in seen:
        if isinstance(e, Violation):
            return e
        seen.add(id(e))
        e = e.__cause__ or e.__context__
    return None


def _recorder_of(item: pytest.Item) -> Recorder | None:
    """The recorder of the test's run: the plugin's fixture's, else one the test holds (a recorder,
    a testbed, a simulation or a host with a tracer)."""
    mine = item.stash.get(_RECORDERS, [])
    if mine and mine[-1].records:
        return mine[-1]
    for value in getattr(item, "funcargs", {}).values():
        for candidate in (value, getattr(value, "recorder", None), getattr(value, "tracer", None),
                          getattr(getattr(value, "sim", None), "tracer", None)):
            if isinstance(candidate, Recorder) and candidate.records:
                return candidate
    return None


def _lanes(records: Iterable[Any], title: str, last: int | None = LAST_STEPS) -> str:
    records, start = list(records), 1
    if last is not None:
        shown = drawable(records)
        if len(shown) > last:
            cut, start = shown[-last].seq, len(shown) - last + 1
            records = [r for r in records if r.seq >= cut]
            title = f"{title} (steps {start} to {len(shown)})"
    return render(records, title, start=start) or "(nothing drawn: no DDI or handler was traced)"


def _schedule_dir(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    where = request.config.getoption("--condis-schedules") or request.config.getini("condis_schedules")
    if not where:
        return tmp_path
    folder = Path(where)
    if not folder.is_absolute():
        folder = request.config.rootpath / folder
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "schedule"
