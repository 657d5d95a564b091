"""The pytest plugin, as a driver's own test suite uses it (run by pytester)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from condis.cli import main

REPO = Path(__file__).resolve().parent.parent

DRIVERS = '''
import pytest
from condis import NDIS_STATUS_SUCCESS
from condis.drivers.callcontrol import RELEASE_IND, RELEASE_REQ
from condis.drivers.client import AtmClient
from condis.drivers.mcm import AtmMcm
from condis.explore.scenarios import close_race, two_hosts


class DoubleCloser(AtmClient):
    """A client whose hang-up closes the call twice."""

    def hang_up(self, call):
        self.ndis.NdisClCloseCall(call.vc, None, None, 0)
        self.ndis.NdisClCloseCall(call.vc, None, None, 0)   # BUG: the call is already closing


class CollisionMcm(AtmMcm):
    """An MCM that takes a RELEASE crossing its own for a new incoming close."""

    def _remote_release(self, vc, party, msg):
        if vc.state == RELEASE_REQ:
            vc.state = RELEASE_IND
            self.cm("DispatchIncomingCloseCall")(NDIS_STATUS_SUCCESS, vc.ndis_vc, None, 0)   # BUG
            return
        super()._remote_release(vc, party, msg)


def racing(sim):
    bed = two_hosts(sim, "mcm", mcm=CollisionMcm)
    close_race(bed)
    return bed.check


def calm(sim):
    bed = two_hosts(sim, "mcm")
    close_race(bed)
    return bed.check
'''


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.strip().splitlines(), 1) if needle in line)   # as makepyfile writes it


def run(pytester, source: str, *args: str):
    pytester.makepyfile(drivers=DRIVERS, test_driver=source)
    return pytester.runpytest("-p", "condis.pytest_plugin", *args)


def test_the_testbed_with_my_driver_and_the_expected_flow(pytester):
    result = run(pytester, '''
import pytest
from condis.drivers.client import AtmClient
from condis.drivers.client import UP


class MyClient(AtmClient):
    answered = 0

    def ClIncomingCall(self, *args):
        MyClient.answered += 1
        return super().ClIncomingCall(*args)


@pytest.fixture
def condis_drivers():
    return {"client": MyClient}


def test_a_call_through_the_mcm(condis_testbed, condis_recorder, condis_flow):
    bed = condis_testbed("mcm")
    assert type(bed.clients[1]) is MyClient and bed.recorder is condis_recorder
    mark = len(condis_recorder.records)
    calls = []
    bed.do(0, lambda: calls.append(bed.clients[0].place_call(b"bob")))
    assert calls[0].state == UP and MyClient.answered == 1
    condis_flow(["NdisCoCreateVc", "ProtocolCoCreateVc", "NdisClMakeCall", "ProtocolCmMakeCall",
                 "NdisMCmActivateVc", "NdisMCmMakeCallComplete", "ProtocolClMakeCallComplete"], since=mark, host="A")
    condis_flow(["B:NdisMCmCreateVc", "B:ProtocolCoCreateVc", "B:NdisMCmActivateVc",
                 "B:NdisMCmDispatchIncomingCall", "B:ProtocolClIncomingCall",
                 "B:NdisMCmDispatchCallConnected", "B:ProtocolClCallConnected"], since=mark, host="B")


def test_hosts_in_one_simulation(condis_host, condis_sim):
    a, b = condis_host("A"), condis_host("B")
    assert a.sim is b.sim is condis_sim and [h.name for h in condis_sim.hosts] == ["A", "B"]
''')
    result.assert_outcomes(passed=2)


def test_a_flow_mismatch_shows_the_difference_and_the_lanes(pytester):
    result = run(pytester, '''
def test_wrong_flow(condis_testbed, condis_recorder, condis_flow):
    bed = condis_testbed("mcm")
    mark = len(condis_recorder.records)
    bed.do(0, lambda: bed.clients[0].place_call(b"bob"))
    condis_flow(["NdisCoCreateVc", "ProtocolCoCreateVc", "NdisClMakeCall", "ProtocolClMakeCallComplete"],
                since=mark, host="A")
''')
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "the flow differs from the expected one (4 step(s) expected, 7 made)" in out
    assert "+A:ProtocolCmMakeCall" in out and "+A:NdisMCmMakeCallComplete" in out
    assert "--- expected flow" in out and "+++ the run's flow" in out
    assert "A:Client" in out and "A:NDIS" in out and "A:MCM" in out      # the lanes' heads
    assert "NdisClMakeCall(VC 0x" in out


def test_explore_in_a_test_saves_the_shrunk_schedule_and_points_at_the_driver(pytester, tmp_path, capsys):
    schedules = tmp_path / "found"
    result = run(pytester, '''
from drivers import calm, racing


def test_close_race_is_handled(condis_explore):
    condis_explore(racing, schedules=100)


def test_the_sample_mcm_handles_it(condis_explore):
    report = condis_explore(calm, schedules=30)
    assert report.ran == 30 and not report.failures


def test_the_report_without_failing(condis_explore):
    report = condis_explore("drivers:racing", schedules=100, check=False)
    assert report.failures[0].failure.rule == "condis.CallState" and report.saved.endswith(".json")
''', "--condis-schedules", str(schedules))
    result.assert_outcomes(passed=2, failed=1)
    out = result.stdout.str()
    bug_line = line_of(DRIVERS, 'self.cm("DispatchIncomingCloseCall")')
    assert "condis explore: violation after 2 schedule(s) of" in out
    assert f"driver code: drivers.py:{bug_line} in _remote_release" in out
    assert "rule condis.CallState:" in out and "!! NdisMCmDispatchIncomingCloseCall" in out
    saved = schedules / "test_close_race_is_handled.json"
    assert f"schedule: {saved}  (condis replay {saved})" in out
    data = json.loads(saved.read_text())
    assert data["scenario"].endswith("drivers.py:racing") and data["failure"]["where"].endswith(
        f"drivers.py:{bug_line} in _remote_release")
    # the file replays from the command line, from anywhere
    assert main(["replay", str(saved)]) == 1
    assert "FAILED: violation condis.CallState" in capsys.readouterr().out
    assert (schedules / "test_the_report_without_failing.json").is_file()


def test_schedules_default_to_the_tests_tmp_path(pytester):
    result = run(pytester, '''
from drivers import racing


def test_found(condis_explore, tmp_path):
    report = condis_explore(racing, schedules=100, check=False)
    assert report.saved == str(tmp_path / "test_found.json")
''')
    result.assert_outcomes(passed=1)


def test_a_violation_in_a_test_is_explained(pytester):
    source = '''
import pytest
from drivers import DoubleCloser


@pytest.fixture
def condis_drivers():
    return {"client": DoubleCloser}


def test_hang_up(condis_testbed):
    bed = condis_testbed("mcm")
    calls = []
    bed.do(0, lambda: calls.append(bed.clients[0].place_call(b"bob")))
    bed.do(0, bed.clients[0].hang_up, calls[0])
'''
    result = run(pytester, source)
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "condis violation" in out
    assert "rule: condis.CallState — " in out and "page: guide/" in out
    bug_line = line_of(DRIVERS, "# BUG: the call is already closing")
    assert f"driver code: drivers.py:{bug_line} in hang_up" in out
    assert "the last steps" in out and "!! NdisClCloseCall" in out


def test_a_violation_without_a_recorder_says_how_to_get_the_lanes(pytester):
    result = run(pytester, '''
import condis


def test_double_registration():
    ndis = condis.Ndis("A")
    ndis.NdisDeregisterProtocolDriver(object())
''')
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "condis violation" in out and "rule: condis.BadHandle" in out
    assert "driver code: test_driver.py:6 in test_double_registration" in out
    assert "no recorder was attached" in out


def test_coverage_of_the_suite(pytester):
    page = pytester.path / "cov.html"
    result = run(pytester, '''
def test_a_call(condis_testbed):
    bed = condis_testbed("cm")
    bed.do(0, lambda: bed.clients[0].place_call(b"bob"))


def test_explored(condis_explore):
    condis_explore("mcm/close-race", schedules=10)
''', f"--condis-coverage={page}")
    result.assert_outcomes(passed=2)
    out = result.stdout.str()
    assert "condis coverage" in out and "condis coverage: 11 run(s), all drivers" in out
    assert "transitions never taken" in out and "call: CONNECTED --[NdisClModifyCallQoS]--> MODIFY_QOS" in out
    assert "NdisCmMakeCallComplete" not in out.split("DDIs never called")[1].split("handlers never called")[0]
    assert page.read_text().startswith("<!doctype html>")


def test_installed_the_entry_point_loads_it_once(pytester, monkeypatch):
    # a distribution declaring the plugin under pytest11, as `pip install condis` leaves one
    dist = pytester.path / "site" / "condis-0.1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: condis\nVersion: 0.1.0\n")
    (dist / "entry_points.txt").write_text("[pytest11]\ncondis.pytest_plugin = condis.pytest_plugin\n")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(pytester.path / "site"), str(REPO)]))
    pytester.makepyfile(test_x='''
def test_plugin(condis_sim, request):
    names = [name for name, plugin in request.config.pluginmanager.list_name_plugin()
             if getattr(plugin, "__name__", "") == "condis.pytest_plugin"]
    assert names == ["condis.pytest_plugin"]
''')
    # the entry point alone: a suite with no conftest and no -p has the fixtures
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
    # and with this repository's way as well (pytest_plugins, -p): still one plugin
    pytester.makeconftest('pytest_plugins = ["condis.pytest_plugin"]')
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "condis.pytest_plugin").assert_outcomes(passed=1)
