"""The verifier's two modes: strict raises at the violating call; record refuses it, keeps the
violation with what led up to it, and lets the run go on. In both, nothing else changes."""

from __future__ import annotations

import json

import pytest

import condis
from condis import NDIS_STATUS_FAILURE, NDIS_STATUS_SUCCESS, Ndis, Violation
from condis.demo import run_demo
from condis.demo import testbed as make_bed
from condis.drivers.client import CLOSED, UP, AtmClient
from condis.drivers.mcm import AtmMcm
from condis.errors import cite, page_link
from condis.ndis.snapshot import snapshot
from condis.rules import RULES
from condis.trace import Recorder
from condis.trace.recorder import RingRecorder


def place(bed, address=b"bob"):
    calls = []
    bed.do(0, lambda: calls.append(bed.clients[0].place_call(address)))
    return calls[0]


def remake(bed, call):
    """NdisClMakeCall on a VC whose call is already up: condis.CallState. Returns what the DDI returned."""
    out = []
    bed.do(0, lambda: out.append(bed.hosts[0].NdisClMakeCall(call.vc, call.params, None)))
    return out[0] if out else None


def states(bed):
    return [snapshot(h) for h in bed.hosts]


def test_strict_mode_raises_at_the_call_and_changes_nothing():
    bed = make_bed("mcm", Recorder())
    call = place(bed)
    before = states(bed)
    with pytest.raises(Violation) as e:
        remake(bed, call)
    assert e.value.rule == "condis.CallState" and e.value.ddi == "NdisClMakeCall"
    assert "CONNECTED" in str(e.value) and e.value.page == "guide/making-a-call.md"
    # users have no reference pack: the message names the page by its title and address
    assert (e.value.title, e.value.url) == ("Making a Call",
                                            "https://learn.microsoft.com/windows-hardware/drivers/network/making-a-call")
    assert str(e.value).endswith("see Making a Call: https://learn.microsoft.com/windows-hardware/drivers/network/making-a-call")
    assert "guide/" not in str(e.value)
    assert states(bed) == before
    assert bed.sim.verifier.findings == []


def test_record_mode_refuses_the_call_keeps_the_violation_and_the_run_goes_on():
    bed = make_bed("mcm", Recorder(), verify="record")
    call = place(bed)
    before = states(bed)
    assert remake(bed, call) == (NDIS_STATUS_FAILURE, None)
    assert states(bed) == before
    [finding] = bed.sim.verifier.findings
    assert (finding.rule, finding.ddi, finding.host) == ("condis.CallState", "NdisClMakeCall", "A")
    assert finding.page == "guide/making-a-call.md"
    assert call.state == UP
    bed.do(0, bed.clients[0].close, call)       # the run goes on, and the call still closes cleanly
    assert call.state == CLOSED
    assert bed.sim.finish().violations == [finding.violation]


def test_record_mode_report_names_rule_page_and_what_led_up_to_it():
    bed = make_bed("mcm", verify="record")       # no recorder: the verifier keeps a short ring of events
    assert isinstance(bed.sim.tracer, RingRecorder)
    call = place(bed)
    remake(bed, call)
    remake(bed, call)
    text = bed.sim.verifier.report()
    assert text.startswith("condis verifier: 2 violation(s)")
    assert text.count("condis.CallState in NdisClMakeCall on host A") == 2
    assert f"see:  {cite(RULES['condis.CallState'].page)}" in text
    assert "leading up to it:" in text
    data = json.loads(bed.sim.verifier.to_json())
    assert data["mode"] == "record" and [v["rule"] for v in data["violations"]] == ["condis.CallState"] * 2
    recent = data["violations"][0]["recent"]
    assert 0 < len(recent) <= condis.verifier.CONTEXT
    assert "NdisClMakeCall" in recent[-1]          # the refused call itself closes the context
    assert any("ProtocolClCallConnected" in line or "ProtocolClMakeCallComplete" in line for line in recent)


class SloppyMcm(AtmMcm):
    """Returns a bare status where ProtocolCmMakeCall must return (status, CallMgrPartyContext)."""

    def CmMakeCall(self, *args):
        super().CmMakeCall(*args)
        return NDIS_STATUS_SUCCESS


def sloppy_bed(verify):
    bed = make_bed("mcm", Recorder(), verify=verify)
    # swap host A's MCM handler table entry for the sloppy one (the MCM registered it at load)
    mcm = bed.call_managers[0]
    mcm.__class__ = SloppyMcm
    for raf in bed.hosts[0].adapters["atm0"].afs:
        raf.cm.CmMakeCallHandler = mcm.CmMakeCall
    return bed


def test_a_malformed_handler_return_is_a_failure_in_record_mode():
    bed = sloppy_bed("record")
    calls = []
    bed.do(0, lambda: calls.append(bed.clients[0].place_call(b"bob")))
    first, *later = bed.sim.verifier.findings
    assert (first.rule, first.ddi) == ("condis.HandlerReturn", "ProtocolCmMakeCall")
    assert first.page == "ddi/nc-ndis-protocol_cm_make_call.md"
    # NDIS went on as if the MCM had failed the call: the client gave up and deleted its VC ...
    assert calls[0].state not in (UP,) and calls[0].vc.vc.deleted
    # ... and the MCM, which believed the call was on its way, later used the stale VC handle
    assert [(f.rule, f.ddi) for f in later] == [("condis.BadHandle", "NdisMCmActivateVc"),
                                                ("condis.BadHandle", "NdisMCmMakeCallComplete")]


def test_a_malformed_handler_return_raises_in_strict_mode():
    bed = sloppy_bed("strict")
    with pytest.raises(Violation) as e:
        place(bed)
    assert (e.value.rule, e.value.ddi) == ("condis.HandlerReturn", "ProtocolCmMakeCall")


@pytest.mark.parametrize("verify", ["strict", "record"])
def test_the_demo_and_sample_drivers_run_clean(verify):
    results = run_demo(out=lambda text: None, verify=verify)
    assert [r.findings for r in results] == [[], []]
    assert all("condis verifier: no violations" in r.text for r in results)


def test_strict_mode_without_tracer_installs_nothing_on_the_host():
    bed = make_bed("mcm")
    host = bed.hosts[0]
    assert "NdisClMakeCall" not in host.__dict__ and "_up" not in host.__dict__


def test_an_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="strict, record"):
        condis.Simulation(verify="lenient")


def test_condis_demo_writes_the_record_mode_report(tmp_path, capsys):
    from condis.cli import main
    path = tmp_path / "report.json"
    assert main(["demo", "--only", "mcm", "--verify", "record", "--report", str(path)]) == 0
    assert json.loads(path.read_text()) == {"mode": "record", "violations": []}
    assert "condis verifier: no violations" in capsys.readouterr().out


def test_verifier_off_routes_data_without_checks_and_skips_teardown():
    untraced = make_bed("mcm", verify="off").hosts[0]
    assert isinstance(untraced, Ndis) and type(untraced).__name__ == "UncheckedNdis"
    assert untraced._up(lambda x: x + 1, "Handler", 1) == 2
    assert untraced.NdisCoSendNetBufferLists.__func__.__name__ == "_unchecked_NdisCoSendNetBufferLists"
    bed = make_bed("mcm", Recorder(), verify="off")
    call = place(bed)
    mark = len(bed.recorder.records)
    bed.do(0, bed.clients[0].send, call, b"fast")
    assert [f"{r.host}:{r.name}" for r in bed.recorder.records[mark:]
            if r.host == "A" and r.kind in ("ddi", "handler") and "SendNetBufferList" in r.name] == [
        "A:NdisCoSendNetBufferLists", "A:MiniportCoSendNetBufferLists",
        "A:NdisMCoSendNetBufferListsComplete", "A:ProtocolCoSendNetBufferListsComplete"]
    assert bed.clients[1].incoming[-1].received == [b"fast"]
    with pytest.raises(Violation) as e:          # the checks NDIS's routing relies on stay
        remake(bed, call)
    assert e.value.rule == "condis.CallState"
    bed.wire.fault = lambda src, frame: []       # a close that stays pended: no teardown check looks
    bed.do(0, bed.clients[0].close, call)
    assert bed.sim.finish().findings == []


def test_verifier_off_keeps_a_host_subclass_and_a_tracer_brings_the_checks_back():
    class Named(Ndis):
        def greeting(self) -> str:
            return f"host {self.name}"
    host = Named("h", sim=condis.Simulation(verify="off"))
    assert isinstance(host, Named) and host.greeting() == "host h"
    assert host.NdisCoSendNetBufferLists.__func__.__name__ == "_unchecked_NdisCoSendNetBufferLists"
    host.trace_with(Recorder())
    assert isinstance(host, Named) and host.NdisCoSendNetBufferLists.__name__ == "NdisCoSendNetBufferLists"


class LockingMcm(AtmMcm):
    """Once told to, acquires a spin lock in its send handler and returns holding it."""

    misbehave = False

    def MiniportCoSendNetBufferLists(self, MiniportVcContext, NetBufferLists, SendFlags):
        if self.misbehave:
            self.ndis.NdisAcquireSpinLock(self.ndis.NdisAllocateSpinLock())
        return super().MiniportCoSendNetBufferLists(MiniportVcContext, NetBufferLists, SendFlags)


class LockingClient(AtmClient):
    """Once told to, acquires a spin lock in its send-complete handler (at DISPATCH_LEVEL) and keeps it."""

    misbehave = False

    def ProtocolCoSendNetBufferListsComplete(self, ProtocolVcContext, NetBufferLists, SendCompleteFlags):
        if self.misbehave:
            self.ndis.NdisDprAcquireSpinLock(self.ndis.NdisAllocateSpinLock())
        return super().ProtocolCoSendNetBufferListsComplete(ProtocolVcContext, NetBufferLists, SendCompleteFlags)


@pytest.mark.parametrize("traced", [False, True])
def test_handler_manners_are_checked_on_the_usual_send_path(traced):
    """The send path accepts the usual send in one test; a handler's manners are still checked there."""
    for drivers, rule, handler in (({"mcm": LockingMcm}, "SpinLockBalanced", "MiniportCoSendNetBufferLists"),
                                   ({"client": LockingClient}, "SpinLockBalanced",
                                    "ProtocolCoSendNetBufferListsComplete")):
        bed = make_bed("mcm", Recorder() if traced else None, **drivers)
        call = place(bed)
        bed.do(0, bed.clients[0].send, call, b"one")    # the first send on a VC takes the full checks
        bed.call_managers[0].misbehave = bed.clients[0].misbehave = True
        with pytest.raises(Violation) as e:
            bed.do(0, bed.clients[0].send, call, b"two")
        assert (e.value.rule, e.value.ddi) == (rule, handler)
        assert (bed.hosts[0].irql, bed.hosts[0]._locks_held) == (0, 0)


def test_condis_rules_explains_a_rule_with_every_place_the_pages_state_it(capsys):
    from condis.cli import main
    assert main(["rules", "condis.VcState"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("condis.VcState\n  A VC was deleted while a call on it")
    title, url = page_link(RULES["condis.VcState"].page)
    assert f"  page: {title}\n        {url}\n" in out
    assert ("    NdisMCmDeleteVc function (ndis.h) "
            "(https://learn.microsoft.com/windows-hardware/drivers/ddi/ndis/nf-ndis-ndismcmdeletevc):\n") in out
    assert main(["rules", "condis.NoSuchRule"]) == 2


def test_record_mode_reports_a_leak_once_with_the_events_of_its_host():
    bed = make_bed("mcm", Recorder(), verify="record")
    af = bed.clients[0].af_for()
    made = []
    bed.do(0, lambda: made.append(bed.hosts[0].NdisCoCreateVc(af.binding.handle, af.ndis_af, object())))
    vc = made[0][1].vc.id
    verifier = bed.sim.finish()
    # closing the binding, halting the adapter and the run's end each find the VC: one finding
    [leak] = verifier.findings
    assert sum(r.kind == "violation" for r in bed.recorder.records) == 1
    assert (leak.rule, leak.host, leak.ddi) == ("condis.LeakVc", "A", "NdisCloseAdapterEx")
    assert f"VC {vc:#x}" in leak.detail
    assert len(leak.recent) == 24 and all(" A " in line for line in leak.recent)
    assert any("NdisCoCreateVc(binding" in line for line in leak.recent)
    report = verifier.report()
    assert report.count("condis.LeakVc in") == 1
    title, url = page_link(RULES["condis.LeakVc"].page)
    assert f"see:  {title}: {url}" in report and url.startswith("https://learn.microsoft.com/")
    assert json.loads(verifier.to_json())["violations"][0]["url"] == url
