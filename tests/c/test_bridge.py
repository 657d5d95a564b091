"""A C driver on a condis host: the same flows, verifier and teardown checks as a Python driver.

The C echo client (condis/cdriver/samples/echo/echo_client.c) answers calls on host B of a two-host MCM testbed
whose host A runs the Python sample client; misuse.c breaks one rule per configured case.
"""

from __future__ import annotations

import gc
import re
from pathlib import Path

import pytest

import condis
from condis.cdriver import CDriver
from condis.cdriver import image as images
from condis.drivers.client import UP, AtmClient
from condis.drivers.mcm import AtmMcm
from condis.trace import Recorder
from tests.conftest import steps

DRIVERS = Path(__file__).resolve().parent / "drivers"
ECHO = Path(__file__).resolve().parents[2] / "condis" / "cdriver" / "samples" / "echo"


def line_of(source: str, text: str) -> int:
    """The line number of the first line of drivers/<source> that contains ``text``."""
    path = DRIVERS / source if (DRIVERS / source).is_file() else ECHO / source
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if text in line:
            return n
    raise AssertionError(f"{text!r} not in {source}")


class Bed:
    """Host A: the Python MCM and client (alice). Host B: the Python MCM and a C client (bob)."""

    def __init__(self, b_client, verify: str = "strict") -> None:
        self.recorder = Recorder()
        self.sim = condis.Simulation(verify=verify, tracer=self.recorder)
        wire = condis.Wire(self.sim)
        self.a = condis.Ndis("A", sim=self.sim)
        self.b = condis.Ndis("B", sim=self.sim)
        self.alice = AtmClient(saps=(b"alice",))
        self.a.load_driver(AtmMcm().DriverEntry, "atmmcm")
        self.a.load_driver(self.alice.DriverEntry, "atmclient")
        self.a.add_adapter("atmmcm", "atm0", wire.a)
        self.b.load_driver(AtmMcm().DriverEntry, "atmmcm")
        self.b.load_driver(b_client.DriverEntry, "atmclient")
        self.b.add_adapter("atmmcm", "atm0", wire.b)
        self.sim.run()

    def do(self, fn, *args):
        out = []
        self.a.post(lambda: out.append(fn(*args)), owner=("atmclient", "Client"))
        self.sim.run()
        return out[0]


@pytest.fixture
def echo(c_image):
    return CDriver(c_image("echo_client"), Sap="bob")


def test_an_incoming_call_reaches_the_c_client_as_fig1_06_07_13_draw_it(echo):
    bed = Bed(echo)
    mark = len(bed.recorder.records)
    call = bed.do(bed.alice.place_call, b"bob")
    assert call.state == UP
    # the same sequence the Python client gets (tests/test_mcm_flows.py)
    assert steps(bed.recorder, mark, "B") == [
        "B:NdisMCmCreateVc", "B:ProtocolCoCreateVc",
        "B:NdisMCmActivateVc",
        "B:NdisMCmDispatchIncomingCall", "B:ProtocolClIncomingCall",
        "B:NdisMCmDispatchCallConnected", "B:ProtocolClCallConnected",
    ]
    b_lanes = {r.driver for r in bed.recorder.records[mark:] if r.host == "B" and r.kind == "handler"}
    assert "atmclient" in b_lanes


def test_data_the_c_client_receives_comes_back_on_the_same_vc(echo):
    bed = Bed(echo)
    call = bed.do(bed.alice.place_call, b"bob")
    mark = len(bed.recorder.records)
    bed.do(bed.alice.send, call, b"hello from python")
    assert call.received == [b"hello from python"]
    assert call.send_completed == 1
    b = steps(bed.recorder, mark, "B")
    # the MCM indicates without NDIS_RECEIVE_FLAGS_RESOURCES: the C client gives the list back itself
    assert b == ["B:NdisMCoIndicateReceiveNetBufferLists", "B:ProtocolCoReceiveNetBufferLists",
                 "B:NdisCoSendNetBufferLists", "B:MiniportCoSendNetBufferLists",
                 "B:NdisReturnNetBufferLists", "B:MiniportReturnNetBufferLists",
                 "B:NdisMCoSendNetBufferListsComplete", "B:ProtocolCoSendNetBufferListsComplete"]
    assert echo.debug_output == [echo.debug_output[0]]
    assert re.fullmatch(r"echo: 17 bytes back on VC 0xffffa0[0-9a-f]+\n", echo.debug_output[0])


def test_a_close_from_the_caller_and_an_unload_leave_nothing_behind(echo):
    bed = Bed(echo)
    call = bed.do(bed.alice.place_call, b"bob")
    bed.do(bed.alice.send, call, b"x" * 100)
    mark = len(bed.recorder.records)
    bed.do(bed.alice.close, call)
    b = steps(bed.recorder, mark, "B")
    assert b[:4] == ["B:NdisMCmDispatchIncomingCloseCall", "B:ProtocolClIncomingCloseCall",
                     "B:NdisClCloseCall", "B:ProtocolCmCloseCall"]
    assert "B:ProtocolCoDeleteVc" in b
    bed.sim.finish()       # unbinds, unloads: the C client deregisters its SAP, closes its AF and binding
    assert bed.a.leaks() == [] and bed.b.leaks() == []
    (inst,) = echo.instances
    assert inst.memory == {} and inst.mdls == {}


def test_handle_values_are_the_same_from_run_to_run(c_image):
    lines = []
    for _ in range(2):
        echo = CDriver(c_image("echo_client"), Sap="bob")
        bed = Bed(echo)
        call = bed.do(bed.alice.place_call, b"bob")
        bed.do(bed.alice.send, call, b"abc")
        lines.append(echo.debug_output)
    assert lines[0] == lines[1]


def test_a_violation_names_the_c_file_and_line_that_made_the_call(c_image):
    forgetful = CDriver(c_image("echo_client", "-DECHO_FORGETS_SOURCE_HANDLE"), Sap="bob")
    bed = Bed(forgetful)
    call = bed.do(bed.alice.place_call, b"bob")
    with pytest.raises(condis.Violation) as e:
        bed.do(bed.alice.send, call, b"hello")
    v = e.value
    assert v.ddi == "NdisCoSendNetBufferLists"
    line = line_of("echo_client.c", "NdisCoSendNetBufferLists(vc->VcHandle, reply, 0);")
    assert v.c_source == f"{ECHO / 'echo_client.c'}:{line} (EchoReceive)"
    assert f"[called from {ECHO / 'echo_client.c'}:{line} (EchoReceive)]" in str(v)


def test_record_mode_refuses_the_call_and_the_c_driver_goes_on(c_image):
    forgetful = CDriver(c_image("echo_client", "-DECHO_FORGETS_SOURCE_HANDLE"), Sap="bob")
    bed = Bed(forgetful, verify="record")
    call = bed.do(bed.alice.place_call, b"bob")
    bed.do(bed.alice.send, call, b"hello")
    (finding,) = bed.sim.verifier.findings
    assert finding.rule == "condis.BadParameter" and finding.ddi == "NdisCoSendNetBufferLists"
    assert finding.violation.c_source.endswith(f"echo_client.c:{line_of('echo_client.c', 'NdisCoSendNetBufferLists(vc->')}"
                                               " (EchoReceive)")
    assert call.received == []          # refused: nothing reached the wire


CASES = [
    # (Case, rule, the source text of the call that breaks it, or None for a teardown finding)
    pytest.param(1, "condis.BadHandle", "NdisDeregisterProtocolDriver((NDIS_HANDLE)",
                 marks=pytest.mark.rule("condis.BadHandle")),
    pytest.param(2, "condis.LeakMemory", None, marks=pytest.mark.rule("condis.LeakMemory")),
    pytest.param(3, "condis.FreeMemory", "/* the second free */", marks=pytest.mark.rule("condis.FreeMemory")),
    pytest.param(4, "condis.Assert", "ASSERT(which == 0);", marks=pytest.mark.rule("condis.Assert")),
    pytest.param(5, "condis.ObjectHeader", "/* the header no longer matches */",
                 marks=pytest.mark.rule("condis.ObjectHeader")),
    pytest.param(6, "condis.BadParameter", "NdisRegisterProtocolDriver(NULL, NULL",
                 marks=pytest.mark.rule("condis.BadParameter")),
    pytest.param(8, "Irql_Protocol_Driver_Function", "/* at DISPATCH_LEVEL */",
                 marks=pytest.mark.rule("Irql_Protocol_Driver_Function")),
    pytest.param(9, "SpinLockBalanced", None, marks=pytest.mark.rule("SpinLockBalanced")),
    pytest.param(10, "SpinLock", "/* the wrong release */", marks=pytest.mark.rule("SpinLock")),
    pytest.param(12, "condis.WorkItem", "/* a protocol's handle */", marks=pytest.mark.rule("condis.WorkItem")),
]


@pytest.mark.parametrize("verify", ["strict", "record"])
@pytest.mark.parametrize(("case", "rule", "call"), CASES)
def test_each_misuse_is_named_with_its_rule_and_its_line(c_image, verify, case, rule, call):
    sim = condis.Simulation(verify=verify)
    host = condis.Ndis("A", sim=sim)
    driver = CDriver(c_image("misuse"), Case=case)
    if verify == "strict":
        with pytest.raises(condis.Violation) as e:
            host.load_driver(driver.DriverEntry, "misuse")
            sim.finish()
        violation = e.value
    else:
        assert host.load_driver(driver.DriverEntry, "misuse") == condis.NDIS_STATUS_SUCCESS
        sim.finish()
        violation = sim.verifier.findings[0].violation
    assert violation.rule == rule
    if rule == "condis.LeakMemory":
        assert "allocated at" in str(violation) and "misuse.c" in str(violation)
    elif call is None:
        assert violation.ddi == "DriverEntry"
    else:
        assert violation.c_source.split(" ")[0].endswith(f"misuse.c:{line_of('misuse.c', call)}")


@pytest.mark.rule("condis.DriverImage")
def test_an_image_without_driver_entry_is_refused_and_the_host_goes_on(c_image):
    sim = condis.Simulation()
    host = condis.Ndis("A", sim=sim)
    with pytest.raises(condis.Violation) as e:
        host.load_driver(str(c_image("no_entry")), "broken")
    assert e.value.rule == "condis.DriverImage"
    assert "no DriverEntry" in str(e.value)
    # the host goes on: the name is free and another driver loads
    assert host.load_driver(CDriver(c_image("misuse")).DriverEntry, "broken") == condis.NDIS_STATUS_SUCCESS
    sim.finish()


def test_a_path_loads_like_a_driver_entry(c_image):
    sim = condis.Simulation()
    host = condis.Ndis("A", sim=sim)
    assert host.load_driver(str(c_image("misuse")), "misuse") == condis.NDIS_STATUS_SUCCESS
    assert host.drivers["misuse"].protocol is not None
    sim.finish()


def test_each_load_starts_with_fresh_globals(c_image):
    path = c_image("misuse")
    sim = condis.Simulation()
    first, second = CDriver(path), CDriver(path)
    for name, driver in (("A", first), ("B", second)):
        condis.Ndis(name, sim=sim).load_driver(driver.DriverEntry, "misuse")
    # two hosts, two copies of the image: each counts its own loads
    assert first.debug_output == second.debug_output == ["misuse: load 1\n"]
    sim.finish()
    del sim
    gc.collect()
    pool = images._POOL[next(k for k in images._POOL if k[0] == str(path.resolve()))]
    size = len(pool)
    again = CDriver(path)
    sim = condis.Simulation()
    condis.Ndis("A", sim=sim).load_driver(again.DriverEntry, "misuse")
    assert again.debug_output == ["misuse: load 1\n"]       # a reused copy, reset to its state at load
    assert len(pool) == size


def test_a_protocol_defers_work_with_a_kernel_work_item(c_image):
    sim = condis.Simulation()
    host = condis.Ndis("A", sim=sim)
    driver = CDriver(c_image("misuse"), Case=11)
    assert host.load_driver(driver.DriverEntry, "misuse") == condis.NDIS_STATUS_SUCCESS
    assert driver.debug_output == ["misuse: load 1\n"]       # queued, not run yet
    sim.run()
    assert driver.debug_output == ["misuse: load 1\n", "misuse: work item at IRQL 0, as queued\n"]
    sim.finish()                     # the routine gave its item and storage back: nothing left behind
    assert driver.instances[0].memory == {}
