"""The scheduler, PnP, registration and the floor of misuse checks."""

from __future__ import annotations

import pytest

from condis import (
    DISPATCH_LEVEL,
    IO_WORKITEM,
    NDIS_CO_CLIENT_OPTIONAL_HANDLERS,
    NDIS_PROTOCOL_DRIVER_CHARACTERISTICS,
    NDIS_STATUS_SUCCESS,
    NDIS_TIMER_CHARACTERISTICS,
    PASSIVE_LEVEL,
    DelayedWorkQueue,
    Ndis,
    Simulation,
    Violation,
)
from condis.demo import run_demo
from condis.demo import testbed as make_bed
from condis.drivers.client import CLOSED, UP
from condis.ndis import states as S
from condis.trace import Recorder
from tests.conftest import steps


class Reverse:
    """A strategy that takes the newest ready event: proves the scheduler asks its strategy."""

    def __init__(self) -> None:
        self.asked = 0

    def choose(self, ready, now):
        self.asked += 1
        return len(ready) - 1


def test_the_scheduler_runs_events_in_time_order_and_fifo_by_default():
    sim = Simulation()
    host = Ndis("h", sim=sim)
    seen = []
    host.post(seen.append, "late", delay_ns=50)
    host.post(seen.append, "first")
    host.post(seen.append, "second")
    host.post(lambda: seen.append(host.irql), irql=DISPATCH_LEVEL)
    assert host.run() == 4
    assert seen == ["first", "second", DISPATCH_LEVEL, "late"] and host.now == 50


def test_the_strategy_is_the_one_choice_point():
    strategy = Reverse()
    sim = Simulation(strategy)
    host = Ndis("h", sim=sim)
    seen = []
    for i in range(3):
        host.post(seen.append, i)
    sim.run()
    assert seen == [2, 1, 0] and strategy.asked == 2


class LatestInWindow(Reverse):
    """Reverse, over every event due within 10 ns of the earliest."""

    window_ns = 10


def test_a_windowed_strategy_is_asked_only_when_there_is_a_choice():
    strategy = LatestInWindow()
    sim = Simulation(strategy)
    host = Ndis("h", sim=sim)
    seen = []
    host.post(seen.append, "now")
    host.post(seen.append, "soon", delay_ns=5)
    dropped = sim.scheduler.schedule(6, seen.append, ("cancelled",), host=host)
    host.post(seen.append, "alone", delay_ns=100)
    sim.scheduler.cancel(dropped)
    assert sim.run(max_steps=10) == 3
    # "soon" ran first, late by nothing (the clock moved to it); "now" then ran 5 ns late; the
    # cancelled event never counted as ready, and "alone" had nothing to compete with.
    assert seen == ["soon", "now", "alone"] and strategy.asked == 1 and host.now == 100


def test_run_until_a_time_or_a_predicate():
    host = Ndis("h")
    seen = []
    for t in (10, 20, 30):
        host.post(seen.append, t, delay_ns=t)
    host.run(until=25)
    assert seen == [10, 20] and host.now == 25
    host.run(until=lambda: len(seen) == 3)
    assert seen == [10, 20, 30]


def test_runs_are_reproducible():
    texts = [r.text for r in run_demo(out=lambda s: None, kinds=("cm",))]
    again = [r.text for r in run_demo(out=lambda s: None, kinds=("cm",))]
    assert texts == again


def test_timers_run_at_dispatch_and_work_items_at_passive(mcm):
    host = mcm.hosts[0]
    binding = mcm.clients[0].bindings[0].handle
    seen = []
    _, timer = host.NdisAllocateTimerObject(binding, NDIS_TIMER_CHARACTERISTICS(
        TimerFunction=lambda a, ctx, b, c: seen.append(("timer", ctx, host.irql))))
    host.NdisSetTimerObject(timer, -10_000, 0, "t")          # 1 ms, relative
    item = host.NdisAllocateIoWorkItem(host.adapters["atm0"])
    host.NdisQueueIoWorkItem(item, lambda ctx, h: seen.append(("work", ctx, host.irql)), "w")
    start = host.now
    mcm.run()
    assert seen == [("work", "w", PASSIVE_LEVEL), ("timer", "t", DISPATCH_LEVEL)]
    assert host.now - start >= 1_000_000
    with pytest.raises(Violation) as e:                      # queued twice before it ran
        host.NdisQueueIoWorkItem(item, lambda c, h: None, None)
        host.NdisQueueIoWorkItem(item, lambda c, h: None, None)
    assert e.value.rule == "condis.WorkItem"


def test_a_handler_that_returns_holding_a_spin_lock_is_caught(mcm):
    host = mcm.hosts[0]
    lock = host.NdisAllocateSpinLock()
    item = host.NdisAllocateIoWorkItem(host.adapters["atm0"])
    host.NdisQueueIoWorkItem(item, lambda c, h: host.NdisAcquireSpinLock(lock), None)
    with pytest.raises(Violation) as e:
        mcm.run()
    assert e.value.rule == "SpinLockBalanced"
    assert host.irql == PASSIVE_LEVEL


def test_set_optional_handlers_only_from_set_options():
    host = Ndis("h")
    captured = {}

    def set_options(handle, context):     # keeps its handle, registers no CoNDIS handlers
        captured["h"] = handle
        return NDIS_STATUS_SUCCESS

    def entry(ndis, driver_object, path):
        chars = NDIS_PROTOCOL_DRIVER_CHARACTERISTICS(
            SetOptionsHandler=set_options,
            BindAdapterHandlerEx=lambda *a: 0, UnbindAdapterHandlerEx=lambda *a: 0,
            NetPnPEventHandler=lambda *a: 0)
        return ndis.NdisRegisterProtocolDriver(None, chars)[0]
    with pytest.raises(Violation) as e:
        host.load_driver(entry, "p")
    assert e.value.rule == "condis.Registration"     # no CoNDIS characteristics were set
    with pytest.raises(Violation) as e:
        host.NdisSetOptionalHandlers(captured["h"], NDIS_CO_CLIENT_OPTIONAL_HANDLERS())
    assert e.value.rule == "condis.SetOptionsOnly" and "outside its SetOptions handler" in str(e.value)


def test_removing_an_mcm_adapter_with_calls_up(mcm):
    calls = []
    mcm.do(0, lambda: calls.append(mcm.clients[0].place_call(b"bob")))
    mcm.do(1, lambda: calls.append(mcm.clients[1].place_call(b"alice")))
    rec = mcm.recorder
    mark = len(rec.records)
    done = mcm.hosts[0].remove_adapter("atm0")
    mcm.run()
    assert done.done and done.status == NDIS_STATUS_SUCCESS
    a = [s.split(":", 1)[1] for s in steps(rec, mark, "A")]
    # the client's unbind closes both calls, its SAP and its AF, then NDIS pauses and halts
    assert a[:3] == ["ProtocolNetPnPEvent", "ProtocolUnbindAdapterEx", "NdisClCloseCall"]
    for name in ("NdisClDeregisterSap", "NdisClCloseAddressFamily", "NdisCloseAdapterEx",
                 "NdisCompleteUnbindAdapterEx"):
        assert name in a
    assert a[-2:] == ["MiniportPause", "MiniportHaltEx"]
    assert all(c.state == CLOSED for c in calls)
    assert all(c.state == CLOSED for c in mcm.clients[1].calls)
    assert mcm.hosts[0].adapters["atm0"].state == S.ADAPTER_HALTED and mcm.hosts[0].vc_count == 0
    # B keeps working: it can still register and its AF is open
    assert mcm.clients[1].af_for().open


def test_a_protocol_loaded_later_binds_to_existing_adapters(mcm):
    from condis.drivers.client import AtmClient
    late = AtmClient(saps=(b"carol",))
    assert mcm.hosts[1].load_driver(late.DriverEntry, "late") == NDIS_STATUS_SUCCESS
    mcm.run()
    assert late.af_for().open
    calls = []
    mcm.do(0, lambda: calls.append(mcm.clients[0].place_call(b"carol")))
    assert calls[0].state == UP and late.incoming[-1].state == UP


def test_a_violation_leaves_every_other_call_alone(mcm):
    calls = []
    mcm.do(0, lambda: calls.append(mcm.clients[0].place_call(b"bob")))
    mcm.do(0, lambda: calls.append(mcm.clients[0].place_call(b"bob")))
    first, second = calls
    host = mcm.hosts[0]
    with pytest.raises(Violation) as e:
        host.NdisClMakeCall(first.vc, first.params, None)      # a call is already up on it
    assert e.value.rule == "condis.CallState" and "CONNECTED" in str(e.value)
    assert "guide/making-a-call.md" == e.value.page
    mcm.do(0, mcm.clients[0].send, second, b"fine")
    mcm.do(0, mcm.clients[0].close, first)
    mcm.do(0, mcm.clients[0].close, second)
    assert first.state == CLOSED and second.state == CLOSED and mcm.hosts[0].vc_count == 0


def test_stale_and_foreign_handles_are_refused(mcm):
    calls = []
    mcm.do(0, lambda: calls.append(mcm.clients[0].place_call(b"bob")))
    call = calls[0]
    mcm.do(0, mcm.clients[0].close, call)
    with pytest.raises(Violation) as e:
        mcm.hosts[0].NdisClCloseCall(call.vc, None, None, 0)
    assert e.value.rule == "condis.BadHandle" and "no longer valid" in str(e.value)
    with pytest.raises(Violation) as e:
        mcm.hosts[1].NdisClDeregisterSap(mcm.clients[0].bindings[0].afs[0].saps[0].handle)
    assert e.value.rule == "condis.BadHandle" and "belongs to host 'A'" in str(e.value)


def test_the_demo_draws_ndismcmclosecallcomplete_completing_the_pended_close():
    mcm_run, cm_run = run_demo(out=lambda s: None)
    for result, complete in ((mcm_run, "NdisMCmCloseCallComplete"), (cm_run, "NdisCmCloseCallComplete")):
        text = result.text
        lines = text.splitlines()
        close = next(i for i, line in enumerate(lines) if "ProtocolCmCloseCall(" in line and "PENDING" in line)
        assert any(complete + "(NDIS_STATUS_SUCCESS" in line for line in lines[close:])
        assert "client VCs left: 0" in text and "B received [b'hello from A']" in text
        assert not [r for r in result.recorder.records if r.kind == "violation"]


def test_cli_demo_runs(capsys):
    from condis.cli import main
    assert main(["demo", "--only", "mcm"]) == 0
    assert "NdisMCmCloseCallComplete" in capsys.readouterr().out


@pytest.fixture
def mcm():
    return make_bed("mcm", Recorder())


def test_cli_lists_and_explains_rules(capsys):
    from condis.cli import main
    assert main(["rules"]) == 0
    assert "condis.CompleteWithoutPending" in capsys.readouterr().out
    assert main(["rules", "Irql_MCM_Function"]) == 0
    out = capsys.readouterr().out
    from condis.errors import page_link
    from condis.rules import RULES
    title, url = page_link(RULES["Irql_MCM_Function"].page)
    assert f"page: {title}\n        {url}\n" in out and url.startswith("https://learn.microsoft.com/")
    assert "rules/" not in out
    assert main(["rules", "NoSuchRule"]) == 2


def test_every_violation_names_a_catalogued_rule():
    import pathlib
    import re

    from condis.rules import RULES
    source = "".join(p.read_text() for p in (pathlib.Path(__file__).parent.parent / "condis").rglob("*.py"))
    used = set(re.findall(r'_violate\(\s*"([^"]+)"', source))
    assert used and used <= set(RULES), used - set(RULES)


def test_benchmarks_still_run(tmp_path):
    import json

    from condis.cli import main
    out = tmp_path / "bench.json"
    assert main(["bench", "--quick", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["quick"] and result["memory"][0]["up"] == result["memory"][0]["calls"] == 1_000
    assert set(result["lifecycles_per_s"]) == {"verifier_on", "verifier_off", "verifier_on_trace_on"}
    assert set(result["send_dispatch"]) == {"verifier_on", "verifier_off"}
    assert result["explored_schedules_per_s"] > 0


def test_a_vcs_data_routes_last_as_long_as_the_vc(mcm):
    client, host = mcm.clients[0], mcm.hosts[0]
    calls = []
    mcm.do(0, lambda: calls.append(client.place_call(b"bob")))
    h = calls[0].vc
    vc = h.vc
    mcm_driver = host.drivers["atmmcm"]
    # fixed when NDIS created the VC: the miniport's send handler on the client's handle, the
    # client's send-complete handler on the miniport's
    assert h.route == mcm_driver.miniport.co.CoSendNetBufferListsHandler and h.route_ctx is vc.miniport_context
    assert vc.h_miniport.route == host.drivers["atmclient"].protocol.co.CoSendNetBufferListsCompleteHandler
    assert vc.h_miniport.route_ctx is vc.client_context
    mcm.do(0, client.send, calls[0], b"data")
    assert calls[0].send_completed == 1
    mcm.do(0, client.close, calls[0])
    assert vc.deleted and h.route is None and vc.h_miniport.route is None
    with pytest.raises(Violation) as v:
        host.NdisCoSendNetBufferLists(h, None, 0)
    assert v.value.rule == "condis.BadHandle"


def test_a_full_teardown_leaves_nothing_behind():
    for kind in ("mcm", "cm"):
        bed = make_bed(kind)
        calls = []
        bed.do(0, lambda b=bed, c=calls: c.append(b.clients[0].place_call(b"bob")))
        assert bed.hosts[0].leaks()            # a call is up: its VC, the SAP, the AF, the binding
        for host in bed.hosts:
            host.remove_adapter("atm0")
        bed.run()
        assert [h.leaks() for h in bed.hosts] == [[], []]


def test_a_pended_close_never_completed_is_reported(mcm):
    calls = []
    mcm.do(0, lambda: calls.append(mcm.clients[0].place_call(b"bob")))
    mcm.wire.fault = lambda src, frame: []      # the RELEASE COMPLETE never comes back
    mcm.do(0, mcm.clients[0].close, calls[0])
    vc = calls[0].vc.vc
    assert mcm.hosts[0].leaks()[0] == (f"ProtocolCmCloseCall returned NDIS_STATUS_PENDING for VC {vc.id:#x}; "
                                       "NdisMCmCloseCallComplete was never called")


def test_a_kernel_work_item_runs_its_routine_at_passive_level_and_may_be_queued_again_from_it(cm):
    host, client = cm.hosts[0], cm.clients[0]
    io_object, item, seen = client.driver_object, IO_WORKITEM(), []

    def routine(IoObject, Context, IoWorkItem):
        seen.append((IoObject, Context, IoWorkItem, host.irql))
        if Context == "first":
            host.IoQueueWorkItemEx(IoWorkItem, routine, DelayedWorkQueue, "again")
        else:
            host.IoUninitializeWorkItem(IoWorkItem)
    mark = len(cm.recorder.records)
    host.post(lambda: host.IoInitializeWorkItem(io_object, item), irql=DISPATCH_LEVEL)
    host.post(lambda: host.IoQueueWorkItemEx(item, routine, DelayedWorkQueue, "first"), irql=DISPATCH_LEVEL)
    cm.run()
    assert seen == [(io_object, "first", item, PASSIVE_LEVEL), (io_object, "again", item, PASSIVE_LEVEL)]
    assert item.io_object is None and item not in host._io_work_items
    # traced like the DDIs: each call, and the routine's runs as work-item events of the client
    records = [(r.kind, r.name, r.driver) for r in cm.recorder.records[mark:]
               if r.kind in ("ddi", "handler") or (r.kind == "event" and r.name == "work item")]
    assert records == [
        ("ddi", "IoInitializeWorkItem", ""), ("ddi", "IoQueueWorkItemEx", ""),
        ("event", "work item", "atmclient"), ("handler", "WorkItemRoutine", "atmclient"),
        ("ddi", "IoQueueWorkItemEx", "atmclient"),
        ("event", "work item", "atmclient"), ("handler", "WorkItemRoutine", "atmclient"),
        ("ddi", "IoUninitializeWorkItem", "atmclient"),
    ]


def test_the_protocol_drivers_defer_work_with_kernel_work_items_and_the_mcm_with_ndis_ones():
    used: dict[str, set[str]] = {}
    for result in run_demo(out=lambda s: None):
        for r in result.recorder.records:
            if r.kind == "ddi" and "WorkItem" in r.name:
                used.setdefault(r.driver, set()).add(r.name)
    kernel = {"IoInitializeWorkItem", "IoQueueWorkItemEx", "IoUninitializeWorkItem"}
    assert used["atmcm"] == kernel
    assert used["atmclient"] == {"IoInitializeWorkItem", "IoUninitializeWorkItem"}   # its unbinds never pend here
    assert used["atmmcm"] == {"NdisAllocateIoWorkItem", "NdisQueueIoWorkItem", "NdisFreeIoWorkItem"}
