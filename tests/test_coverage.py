"""NDIS coverage: the state changes a recorder sees, the DDIs, handlers, states and transitions
they count as exercised, and the ``condis coverage`` and ``explore --coverage`` reports."""

from __future__ import annotations

from condis._ddi_table import FUNCTIONS
from condis.cli import main
from condis.coverage import Coverage, states, transitions
from condis.demo import testbed as make_bed
from condis.explore import Options, ProcessRunner, explore
from condis.ndis import states as S
from condis.trace import Recorder
from condis.trace.files import read_jsonl, write_jsonl


def call_and_close(kind: str = "mcm") -> Recorder:
    rec = Recorder(states=True)
    bed = make_bed(kind, rec)
    calls = []
    bed.do(0, lambda: calls.append(bed.clients[0].place_call(b"bob")))
    bed.do(0, bed.clients[0].close, calls[0])
    bed.sim.finish()
    rec.settle()
    return rec


def changes(rec: Recorder, host: str, table: str) -> list[str]:
    return [f"{r.args}: {r.result}" for r in rec.records if r.kind == "state" and r.host == host and r.name == table]


def test_the_recorder_sees_each_call_state_of_a_placed_and_closed_call():
    rec = call_and_close()
    vc = next(r.args for r in rec.records if r.kind == "state" and r.host == "A" and r.name == "call")
    assert changes(rec, "A", "call") == [f"{vc}: {x}" for x in (
        " -> IDLE", "IDLE -> MAKE_CALL", "MAKE_CALL -> CONNECTED", "CONNECTED -> CLOSE_CALL", "CLOSE_CALL -> IDLE")]
    assert [c.split(": ")[1] for c in changes(rec, "B", "call")] == [
        " -> IDLE", "IDLE -> INCOMING_CALL", "INCOMING_CALL -> ACCEPTED", "ACCEPTED -> CONNECTED",
        "CONNECTED -> INCOMING_CLOSE", "INCOMING_CLOSE -> CLOSE_CALL", "CLOSE_CALL -> IDLE"]
    # each change names the call under way: the one that made it
    made = next(r for r in rec.records if r.kind == "state" and r.result == "IDLE -> MAKE_CALL")
    assert made.driver.split()[0] == "NdisClMakeCall"
    assert changes(rec, "A", "adapter")[-1].endswith("PAUSED -> HALTED")


def test_no_state_records_without_states_and_no_hook_without_a_tracer():
    rec = Recorder()
    bed = make_bed("mcm", rec)
    assert not [r for r in rec.records if r.kind == "state"]
    assert all(h._states is None for h in bed.hosts)
    assert all(h._states is None for h in make_bed("mcm").hosts)
    assert all(h._states is not None for h in make_bed("mcm", Recorder(states=True)).hosts)


def test_coverage_counts_ddis_handlers_states_and_transitions():
    cov = Coverage().add(call_and_close().records)
    assert cov.ddis["NdisClMakeCall"] == 1 and cov.handlers["ProtocolCmMakeCall"] == 1
    assert cov.ddis["NdisClAddParty"] == 0
    assert (("call", S.CALL_CONNECTED) in cov.reached) and (("call", S.CALL_MODIFYING) not in cov.reached)
    assert cov.taken[("call", S.CALL_IDLE, "NdisClMakeCall")] == 1
    assert cov.taken[("call", S.CALL_CONNECTED, "NdisClModifyCallQoS")] == 0
    # the MCM deactivates its own VC inside NdisMCmDeactivateVc: ACTIVE -> INACTIVE is seen as a jump,
    # credited to the path through DEACTIVATING that names the DDI, not to the one through ACTIVATING
    assert cov.taken[("VC activation", S.VC_ACTIVE, "Ndis(M)CmDeactivateVc")] == 2
    assert cov.taken[("VC activation", S.VC_ACTIVATING, "activation failed")] == 0
    assert not cov.unlisted
    summary = {what: (got, of) for what, got, of in cov.summary()}
    assert summary["DDIs"][1] == len(FUNCTIONS) and summary["transitions"][1] == len(transitions())
    assert summary["states"] == (sum(1 for s in states() if s in cov.reached), len(states()))


def test_a_drivers_coverage_counts_against_its_kind():
    cov = Coverage("atmclient").add(call_and_close().records)
    assert cov.roles == {"Client"}
    assert "NdisClMakeCall" in cov.all_ddis() and "NdisMCmActivateVc" not in cov.all_ddis()
    assert cov.ddis["NdisClMakeCall"] == 1 and cov.ddis["NdisMCmMakeCallComplete"] == 0
    assert cov.handlers["ProtocolClMakeCallComplete"] == 1 and cov.handlers["ProtocolCmMakeCall"] == 0


def test_condis_coverage_reads_traces_and_writes_the_page(tmp_path, capsys):
    paths = []
    for kind in ("mcm", "cm"):
        path = tmp_path / f"{kind}.jsonl"
        write_jsonl(call_and_close(kind).records, path)
        paths.append(str(path))
    assert [r.kind for r in read_jsonl(paths[0]) if r.kind == "state"]
    page = tmp_path / "cov.html"
    assert main(["coverage", *paths, "--html", str(page)]) == 0
    out = capsys.readouterr().out
    assert "condis coverage: 2 run(s), all drivers" in out
    assert "states never reached" in out and "  call: MODIFY_QOS" in out
    assert "NdisClAddParty" in out.split("DDIs never called")[1].split("handlers never called")[0]
    # the cm run exercises what the mcm run does not: the miniport's activation handler
    assert "MiniportCoActivateVc" not in out.split("handlers never called")[1].split("state table")[0]
    text = page.read_text()
    assert text.startswith("<!doctype html>") and "<tr class='miss'><td>NdisClAddParty</td><td>never</td></tr>" in text
    assert "MODIFY_QOS" in text


def test_a_trace_without_states_still_gives_ddi_coverage(tmp_path, capsys):
    path = tmp_path / "t.jsonl"
    rec = Recorder()
    make_bed("mcm", rec)
    write_jsonl(rec.records, path)
    assert main(["coverage", str(path), "--driver", "atmmcm"]) == 0
    out = capsys.readouterr().out
    assert "driver atmmcm (MCM)" in out and "Recorder(states=True)" in out


def test_explore_coverage_is_the_same_whatever_runs_it(capsys):
    one = explore("mcm/close-race", schedules=40, options=Options(coverage=True), batch=7)
    two = explore("mcm/close-race", schedules=40, options=Options(coverage=True), batch=7, runner=ProcessRunner(2))
    assert one.coverage.runs == 40 and one.coverage == two.coverage
    assert one.coverage.taken[("call", S.CALL_CLOSING, "ProtocolCmCloseCall -> SUCCESS / "
                               "Ndis(M)CmCloseCallComplete(SUCCESS)")] > 0
    assert main(["explore", "mcm/close-race", "-n", "20", "--coverage"]) == 0
    assert "condis coverage: 20 run(s), all drivers" in capsys.readouterr().out


def test_the_demos_saved_trace_gives_state_coverage(tmp_path, capsys):
    assert main(["demo", "--only", "mcm", "--trace", str(tmp_path / "run.jsonl")]) == 0
    capsys.readouterr()
    assert main(["coverage", str(tmp_path / "run-mcm.jsonl")]) == 0
    out = capsys.readouterr().out
    assert "state table" in out and "Recorder(states=True)" not in out
    assert "call: MODIFY_QOS" in out and "call: CONNECTED\n" not in out


def test_exhaustive_search_collects_coverage_without_changing_its_search():
    plain = explore("mcm/drop-party-race", "exhaustive", schedules=40)
    covered = explore("mcm/drop-party-race", "exhaustive", schedules=40, options=Options(coverage=True))
    assert plain.coverage is None and covered.coverage.runs == covered.ran == plain.ran == 40
    assert covered.coverage.reached[("party", S.PARTY_DROPPING)] > 0
