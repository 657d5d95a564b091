"""``condis bench``: what a call costs. Run on one core; prints a table and writes JSON.

Measured:
- call lifecycles per second through the sample MCM (create VC, make call, incoming call accepted,
  connected, close pended, deactivate, close completed with NdisMCmCloseCallComplete, delete), with
  the verifier on (strict) and off, and with trace recording on;
- the time NDIS adds on the send path (NdisCoSendNetBufferLists -> MiniportCoSendNetBufferLists ->
  NdisMCoSendNetBufferListsComplete -> ProtocolCoSendNetBufferListsComplete) as a ratio to the same
  handlers called directly in the same order, in the same run, with the verifier off and on;
- memory per active call (resident memory growth over both ends of every call) and the time to set
  the calls up and tear them down;
- explorer throughput: random-walk schedules per second on the close-call race scenario
  (``mcm/close-race``: a local NdisClCloseCall crossing the remote side's close), in this process;
- with gcc, the C bridge: call lifecycles per second through the C sample MCM and client (next
  to the Python samples' figure of the same run), one call from C into NDIS, and the send path made
  from C (the echo sample's sendpath.c) against the same C handlers called directly in C.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import shutil
import time
from typing import Any

from condis.demo import testbed
from condis.trace import Recorder


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def lifecycles(n: int, trace: bool, verify: str = "strict") -> float:
    bed = testbed("mcm", Recorder() if trace else None, verify=verify)
    a = bed.clients[0]
    calls: list[Any] = []

    def one() -> None:
        calls.append(a.place_call(b"bob"))
    start = time.perf_counter()
    for _ in range(n):
        bed.do(0, one)
        bed.do(0, a.close, calls.pop())
        if trace:
            bed.recorder.records.clear()
    return n / (time.perf_counter() - start)


def dispatch_ratio(n: int, verify: str = "strict") -> tuple[float, float, float]:
    """(ns per send through NDIS, ns per direct call of the same handlers, ratio)."""
    bed = testbed("mcm", verify=verify)
    a = bed.clients[0]
    host = bed.hosts[0]
    mp = host.drivers["atmmcm"].miniport
    cl = host.drivers["atmclient"].protocol
    handles: list[Any] = []

    def miniport_send(ctx: Any, nbls: Any, flags: int) -> None:
        host.NdisMCoSendNetBufferListsComplete(handles[0], nbls, 0)

    def protocol_done(ctx: Any, nbls: Any, flags: int) -> None:
        pass
    # In place before the call is made: NDIS fixes a VC's data routes when it creates the VC.
    mp.co.CoSendNetBufferListsHandler = miniport_send
    cl.co.CoSendNetBufferListsCompleteHandler = protocol_done
    calls: list[Any] = []
    bed.do(0, lambda: calls.append(a.place_call(b"bob")))
    call = calls[0]
    vc = call.vc.vc
    handles.append(vc.h_cm)
    nbl = host.NdisAllocateNetBufferAndNetBufferList(a.bindings[0].pool, 0, 0, b"x", 0, 1)
    nbl.SourceHandle = call.vc
    send = host.NdisCoSendNetBufferLists
    h = call.vc

    def direct_send(ctx: Any, nbls: Any, flags: int) -> None:
        direct_complete(ctx, nbls, 0)

    def direct_complete(ctx: Any, nbls: Any, flags: int) -> None:
        protocol_done(ctx, nbls, flags)
    ctx = vc.miniport_context
    # Rounds of each, alternating, and the fastest round of each: what else the machine does
    # then slows both alike instead of one.
    rounds = 10
    per = max(n // rounds, 1)
    through = floor = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(per):
            send(h, nbl, 0)
        through = min(through, (time.perf_counter() - start) / per)
        start = time.perf_counter()
        for _ in range(per):
            direct_send(ctx, nbl, 0)
        floor = min(floor, (time.perf_counter() - start) / per)
    return through * 1e9, floor * 1e9, through / floor


def memory_per_call(n: int) -> dict[str, float]:
    bed = testbed("mcm")
    a = bed.clients[0]
    calls: list[Any] = []
    gc.collect()
    before = _rss()
    start = time.perf_counter()
    host = bed.hosts[0]
    for _ in range(n):
        host.post(lambda: calls.append(a.place_call(b"bob")))
    bed.run()
    setup = time.perf_counter() - start
    up = sum(1 for c in calls if c.state == "UP")
    gc.collect()
    grown = _rss() - before
    start = time.perf_counter()
    for c in calls:
        host.post(a.close, c)
    bed.run()
    teardown = time.perf_counter() - start
    return {"calls": n, "up": up, "bytes_per_call": grown / max(up, 1), "setup_s": setup, "teardown_s": teardown}


def explorer_throughput(schedules: int) -> float:
    """Random-walk schedules per second on the close-call race, one process."""
    from condis.explore.runner import explore
    start = time.perf_counter()
    report = explore("mcm/close-race", "random", schedules, stop_first=False)
    elapsed = time.perf_counter() - start
    if report.failures:
        raise RuntimeError(f"the close-call race failed under exploration: {report.failures[0].failure}")
    return report.ran / elapsed


def run(quick: bool = False) -> dict[str, Any]:
    from condis.output import Progress
    n = 200 if quick else 5_000
    sends = 2_000 if quick else 200_000
    sizes = (1_000,) if quick else (10_000, 100_000, 1_000_000)
    with Progress("benchmarks", 7 + len(sizes), "measures") as bar:
        def step(what: str, value: Any) -> Any:
            bar.advance(note=what)
            return value
        result: dict[str, Any] = {
            "date": time.strftime("%Y-%m-%d"), "machine": f"{platform.machine()} {os.cpu_count()} cores",
            "python": platform.python_version(), "quick": quick,
            "lifecycles_per_s": {"verifier_on": step("lifecycles, verifier on", lifecycles(n, False)),
                                 "verifier_off": step("lifecycles, verifier off", lifecycles(n, False, "off")),
                                 "verifier_on_trace_on": step("lifecycles, trace on", lifecycles(n // 2, True))},
        }
        result["send_dispatch"] = {}
        for mode, verify in (("verifier_off", "off"), ("verifier_on", "strict")):
            through, floor, ratio = step(f"send path, {mode.replace('_', ' ')}", dispatch_ratio(sends, verify))
            result["send_dispatch"][mode] = {"through_ndis_ns": through, "direct_ns": floor, "ratio": ratio}
        result["memory"] = [step(f"memory at {s:,} calls", memory_per_call(s)) for s in sizes]
        result["explored_schedules_per_s"] = step("explorer", explorer_throughput(100 if quick else 3_000))
        result["c"] = step("C drivers", c_drivers(quick)) if shutil.which("gcc") else None
    return result


def c_drivers(quick: bool) -> dict[str, Any]:
    """The C bridge: a call from C into NDIS, and the send path from C through NDIS against the
    same C handlers called directly (condis.cdriver.bench)."""
    from condis.cdriver.bench import call_into_ndis, lifecycles, send_path
    through, floor, ratio = send_path(2_000 if quick else 50_000)
    return {"lifecycles_per_s": lifecycles(100 if quick else 2_000),
            "call_into_ndis_ns": call_into_ndis(10_000 if quick else 200_000),
            "send_path": {"through_ndis_ns": through, "direct_ns": floor, "ratio": ratio}}


def table(result: dict[str, Any]) -> str:
    lc = result["lifecycles_per_s"]
    lines = [
        f"condis bench  {result['date']}  {result['machine']}  Python {result['python']}"
        + ("  (quick)" if result["quick"] else ""),
        "| measure | value |", "|---|---|",
        f"| call lifecycles/s, verifier on | {lc['verifier_on']:,.0f} |",
        f"| call lifecycles/s, verifier off | {lc['verifier_off']:,.0f} |",
        f"| call lifecycles/s, verifier on, trace on | {lc['verifier_on_trace_on']:,.0f} |",
    ]
    for mode, label in (("verifier_off", "verifier off"), ("verifier_on", "verifier on")):
        sd = result["send_dispatch"][mode]
        lines.append(f"| send path, {label}: through NDIS / direct | {sd['through_ndis_ns']:,.0f} ns / "
                     f"{sd['direct_ns']:,.0f} ns = {sd['ratio']:.1f}x |")
    for m in result["memory"]:
        lines.append(f"| memory per active call at {m['calls']:,} calls | {m['bytes_per_call']:,.0f} B |")
        lines.append(f"| set up / tear down {m['calls']:,} calls | {m['setup_s']:.2f} s / {m['teardown_s']:.2f} s |")
    lines.append(f"| explored schedules/s (mcm/close-race, random, one process) | "
                 f"{result['explored_schedules_per_s']:,.0f} |")
    c = result.get("c")
    if c is not None:
        sp = c["send_path"]
        lines.append(f"| call lifecycles/s, C sample MCM and client, verifier on | {c['lifecycles_per_s']:,.0f} |")
        lines.append(f"| C driver: one call into NDIS (KeGetCurrentIrql) | {c['call_into_ndis_ns']:,.0f} ns |")
        lines.append(f"| C driver: send path through NDIS / same C handlers called directly | "
                     f"{sp['through_ndis_ns']:,.0f} ns / {sp['direct_ns']:,.1f} ns = {sp['ratio']:,.0f}x |")
    return "\n".join(lines)


def main(quick: bool, json_path: str | None) -> int:
    result = run(quick)
    print(table(result))
    if json_path:
        with open(json_path, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=2)
    return 0
