"""Recording runs and drawing them: JSON Lines round trip, Mermaid, Chrome trace events, the CLI."""

from __future__ import annotations

import json

from condis import Ndis
from condis._ddi_table import FUNCTIONS
from condis.cli import main
from condis.trace.files import chrome, mermaid, read_jsonl, write_jsonl


def _close(mcm):
    calls = []
    mcm.do(0, lambda: calls.append(mcm.clients[0].place_call(b"bob")))
    mark = len(mcm.recorder.records)
    mcm.do(0, mcm.clients[0].close, calls[0])
    return [r for r in mcm.recorder.records[mark:] if r.host == "A"]


def test_without_a_tracer_no_ddi_is_wrapped():
    host = Ndis("plain")
    assert not any(name in host.__dict__ for name in FUNCTIONS) and "_up" not in host.__dict__


def test_jsonl_round_trip(mcm, tmp_path):
    path = tmp_path / "run.jsonl"
    n = write_jsonl(mcm.recorder.records, path)
    back = read_jsonl(path)
    assert n == len(back) == len(mcm.recorder.records)
    assert [r.as_dict() for r in back] == [r.as_dict() for r in mcm.recorder.records]


def test_mermaid_draws_the_figure_arrows_in_order(mcm):
    text = mermaid(_close(mcm))
    arrows = [line.split(":", 1)[0].strip() + " " + line.split(":", 1)[1].split("(")[0].strip()
              for line in text.splitlines() if "->>" in line]
    # client-initiated-request-to-close-a-call.md, the VC deactivated before the close completes (as in
    # cm-20 and nc-ndis-protocol_cl_close_call_complete.md), then the client's deletion of its VC
    assert arrows[:5] == [
        "A_Client->>A_NDIS NdisClCloseCall",
        "A_NDIS->>A_MCM ProtocolCmCloseCall",
        "A_MCM->>A_NDIS NdisMCmDeactivateVc",
        "A_MCM->>A_NDIS NdisMCmCloseCallComplete",
        "A_NDIS->>A_Client ProtocolClCloseCallComplete",
    ]
    assert text.startswith("sequenceDiagram\n    autonumber\n")


def test_chrome_trace_events(mcm):
    doc = chrome(mcm.recorder.records)
    events = [e for e in doc["traceEvents"] if e["ph"] == "i"]
    assert len(events) == len(mcm.recorder.records)
    assert [e["ts"] for e in events] == sorted(e["ts"] for e in events)
    names = {e["args"]["name"] for e in doc["traceEvents"] if e["name"] == "process_name"}
    assert names == {"host A", "host B"}


def test_cli_writes_and_draws_a_trace(tmp_path, capsys):
    base = tmp_path / "demo.jsonl"
    assert main(["demo", "--only", "mcm", "--trace", str(base)]) == 0
    path = tmp_path / "demo-mcm.jsonl"
    assert path.exists()
    capsys.readouterr()
    assert main(["trace", "show", str(path)]) == 0
    assert "NdisMCmCloseCallComplete" in capsys.readouterr().out
    out = tmp_path / "c.json"
    assert main(["trace", "chrome", str(path), "-o", str(out)]) == 0
    assert json.loads(out.read_text())["traceEvents"]
    assert main(["trace", "mermaid", str(tmp_path / "missing.jsonl")]) == 2


def test_chrome_trace_spans_each_pended_request_until_its_complete_call(mcm):
    calls = []
    mcm.do(0, lambda: calls.append(mcm.clients[0].place_call(b"bob")))
    mcm.do(0, mcm.clients[0].close, calls[0])
    records = mcm.recorder.records
    doc = chrome(records)
    instants = {(e["pid"], e["name"], e["ts"]) for e in doc["traceEvents"] if e["ph"] == "i"}
    spans: dict[int, list[dict]] = {}
    for e in doc["traceEvents"]:
        if e["ph"] in ("b", "e"):
            spans.setdefault(e["id"], []).append(e)
    closes = [pair for pair in spans.values() if pair[0]["name"] == "ProtocolCmCloseCall pending"]
    assert len(closes) == 1
    [(begin, end)] = closes
    assert (begin["ph"], end["ph"], begin["cat"], begin["pid"], begin["tid"]) == ("b", "e", "pending", end["pid"], end["tid"])
    handler = next(r for r in records if r.name == "ProtocolCmCloseCall" and r.host == "A")
    complete = next(r for r in records if r.name == "NdisMCmCloseCallComplete" and r.host == "A")
    assert handler.result == "NDIS_STATUS_PENDING" and complete.t > handler.t
    assert begin["ts"] == handler.t / 1000 + handler.seq * 1e-3 and end["ts"] == complete.t / 1000 + complete.seq * 1e-3
    assert (begin["pid"], "ProtocolCmCloseCall", begin["ts"]) in instants
    assert begin["args"]["completed_by"].startswith("NdisMCmCloseCallComplete(NDIS_STATUS_SUCCESS, VC 0x")
    assert end["ts"] - begin["ts"] > 1       # it stayed pending across the wire's round trip (microseconds)


def test_a_request_never_completed_spans_to_the_end_of_the_run():
    from condis.trace.recorder import Record
    recs = [Record(0, 1000, "A", "handler", "ProtocolCmCloseCall", "mcm", "MCM", "VcCtx", 0, None),
            Record(1, 9000, "A", "ddi", "NdisMCmDeactivateVc", "mcm", "MCM", "VC 0xd", 0, None)]
    recs[0].result = "NDIS_STATUS_PENDING"
    begin, end = [e for e in chrome(recs)["traceEvents"] if e["ph"] in ("b", "e")]
    assert begin["args"]["completed_by"] == "never completed" and (begin["ts"], end["ts"]) == (1.0, 9.001)
