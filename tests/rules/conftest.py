"""The per-rule tests: a ``rule(id)`` marker and the harness every test here calls.

Each test builds a scenario, then hands the one step that breaks a rule to :func:`expect_violation`,
which checks that condis reports exactly that rule, with a page that exists in the reference pack,
and that the refused call changed nothing NDIS tracks (:func:`condis.ndis.snapshot.snapshot` of
every host, before and after).

The tests run in strict mode, where condis stops a run at the first Violation. In record mode the
refused call returns a refusal value and the run goes on; only :func:`_violations`, which collects
what was reported, and :func:`settle`, which stops the run once the refusal is over, tell the two
apart, so a test reads the same in both. Every test here runs in both modes (the ``verify_mode``
fixture); ``CONDIS_VERIFY=strict`` or ``record`` in the environment runs only that one.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from condis import (
    DISPATCH_LEVEL,
    NDIS_STATUS_SUCCESS,
    NET_BUFFER_LIST,
    PASSIVE_LEVEL,
    RULES,
    Ndis,
    Simulation,
    VcHandle,
    Violation,
)
from condis._ddi_table import CALLBACKS, FUNCTIONS
from condis._pages import OUTSIDE_THE_PACK
from condis.demo import Testbed, testbed
from condis.drivers.callcontrol import PartyCtx
from condis.drivers.client import AtmClient, Call
from condis.drivers.cm import AtmCallManager
from condis.drivers.mcm import AtmMcm
from condis.drivers.miniport import AtmMiniport
from condis.ndis.snapshot import snapshot
from condis.ndis.support import KERNEL_ROUTINES
from condis.trace import Recorder

# the reference pack beside the repository: /work/shared/reference for /work/main, and for a worktree
# deeper down, the first such folder above it
REFERENCE = next((p / "shared" / "reference" for p in Path(__file__).resolve().parents[3:]
                  if (p / "shared" / "reference").is_dir()), Path(__file__).resolve().parents[3] / "shared" / "reference")
MODES = (os.environ["CONDIS_VERIFY"],) if os.environ.get("CONDIS_VERIFY") else ("strict", "record")
_mode = ["strict"]      # the mode testbeds are built in, set for each test by verify_mode


@pytest.fixture(autouse=True, params=MODES)
def verify_mode(request: pytest.FixtureRequest) -> str:
    """Run the test in each verifier mode: a refused call must change nothing in either."""
    _mode[0] = request.param
    return request.param


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "rule(id): the test breaks the catalog rule ``id`` (condis/rules.py); tests/rules/test_catalog.py "
        "checks that every rule has one")


# ---------------------------------------------------------------------------- the harness

def expect_violation(where: Any, rule: str, action: Callable[[], Any], *, ddi: str | None = None,
                     unchanged: bool = True, more: bool = False, page: str | None = None) -> Violation:
    """Run ``action`` and check that it broke ``rule`` and nothing else happened.

    ``where`` is a testbed, a host or a simulation: every host of its simulation is checked.
    ``ddi`` names the function or handler the violation must be reported in. With
    ``unchanged=False`` (rules about what a handler returned: the handler already ran), only the
    IRQL and spin-lock count of each host must be back where they were; the test asserts the rest.
    With ``more`` (teardown, which reports everything left behind), other violations may follow
    the first in record mode. ``page`` is the page the violation must cite where it is more precise
    than the rule's own (see ``_violate`` in condis/ndis/core.py). Returns the Violation for further
    checks.
    """
    sim = _sim(where)
    hosts = list(sim.hosts)
    before = [snapshot(h) for h in hosts]
    marks = [_recorded(h) for h in hosts]
    found = _violations(sim, action)
    assert len(found) == 1 or (more and found), f"expected one {rule} violation, got {[v.rule for v in found] or 'none'}"
    v = found[0]
    assert v.rule == rule, f"expected {rule}, got {v.rule}: {v}"
    assert rule in RULES, f"{rule} is not in the catalog"
    assert v.ddi and v.detail, v
    if ddi is not None:
        assert v.ddi == ddi, f"reported in {v.ddi}, expected {ddi}: {v}"
    # The rule's own page, or the page of the function or handler it was broken in (IRQL limits and
    # what a handler may return are written there).
    if page is not None:
        assert v.page == page, f"page {v.page!r}, expected {page!r}"
    if v.page in OUTSIDE_THE_PACK:
        # a kernel routine's page, which the pack does not hold; a kernel routine's refusal cites its own
        assert v.ddi not in KERNEL_ROUTINES or v.page.endswith(f"/nf-wdm-{v.ddi.lower()}.md"), \
            f"{v.page} is not the page of {v.ddi}"
    elif REFERENCE.is_dir():
        assert (REFERENCE / v.page).is_file(), f"{v.page} is not in the reference pack"
        page_states(v)
    else:
        # without the pack: the rule's own page, or the page of the function or handler it was
        # broken in, or a page the test names
        pages = {RULES[rule].page, FUNCTIONS.get(v.ddi, (None, None, None))[2], CALLBACKS.get(v.ddi, (None, None))[1],
                 page}
        assert v.page in pages, f"page {v.page!r}, expected one of {sorted(p for p in pages if p)}"
    if all(_traced(h) for h in hosts):
        recorded = sum(_recorded(h) - m for h, m in zip(hosts, marks, strict=True))
        assert recorded == len(found), f"the trace holds {recorded} violations for {len(found)} reported"
    after = [snapshot(h) for h in hosts]
    for host, b, a in zip(hosts, before, after, strict=True):
        assert (a["irql"], a["locks_held"]) == (b["irql"], b["locks_held"]), \
            f"host {host.name} left at IRQL {a['irql']} holding {a['locks_held']} lock(s)"
        if unchanged:
            assert a == b, f"host {host.name} changed: {changes(b, a)}"
    return v


# What a page must say, besides the DDI's name, to state the rule: one of these words, case aside.
RULE_TERMS: dict[str, tuple[str, ...]] = {
    "condis.CompleteWithoutPending": ("NDIS_STATUS_PENDING",),
    "condis.PendingStatus": ("status",),
    "condis.BadHandle": ("handle",),
    "condis.PartyHandle": ("party",),
    "condis.PartyContext": ("CallMgrPartyContext",),
    "condis.DropLastParty": ("last",),
    "condis.CloseWithParties": ("part",),
    "condis.VcActivation": ("activat",),
    "condis.CallState": ("call",),
    "condis.NblPool": ("fAllocateNetBuffer",),
    "condis.NblState": ("NET_BUFFER_LIST",),
    "condis.LeakTimer": ("free",),
    "condis.LeakWorkItem": ("NdisFreeIoWorkItem",),
    "condis.LeakQueued": ("timer", "work item"),
    "SpinLock": ("spin lock",),
    "SpinLockBalanced": ("NdisReleaseSpinLock",),
    "condis.Timer": ("NdisAllocateTimerObject",),
    "condis.WorkItem": ("NdisAllocateIoWorkItem",),
    "condis.SendOnInactiveVc": ("activated",),
    "condis.DeactivateWithSends": ("send",),
    "condis.MissingHandler": ("handler",),
    "condis.HandlerIrql": ("IRQL",),
    "condis.CloseWithAfs": ("NdisClCloseAddressFamily",),
    "condis.AfState": ("address famil",),
    "condis.SapState": ("SAP",),
    "condis.LeakReceive": ("NdisReturnNetBufferLists",),
    "condis.SendOnPausedBinding": ("send",),
}
# Rules whose page states them for every function or handler alike, so it need not name the one at
# hand: how a handler returns (IRQL, locks), what a teardown finds (raised at the moment, or at the
# DDI that started it), that data flows on an activated VC, that a binding whose AF open is pending
# starts nothing else, that a handler NDIS needs is registered, that a NET_BUFFER_LIST is not used
# once freed, that a protocol sends only on a running binding (the binding-states page states it for
# every operation of a binding state), that received lists go back.
GENERAL_RULES = frozenset({"condis.HandlerIrql", "SpinLockBalanced", "condis.LeakVc", "condis.LeakAf", "condis.LeakSap",
                           "condis.LeakSend", "condis.LeakBinding", "condis.LeakQueued", "condis.LeakTimer",
                           "condis.LeakWorkItem", "condis.NeverCompleted", "condis.SendOnInactiveVc",
                           "condis.OpenAfPending", "condis.MissingHandler", "condis.NblState", "condis.LeakReceive",
                           "condis.SendOnPausedBinding"})


def _names(ddi: str) -> set[str]:
    """How pages write a DDI's name: as it is, or for the NdisCm / NdisMCm pair as Ndis(M)Cm."""
    out = {ddi}
    for prefix in ("NdisMCm", "NdisCm"):
        if ddi.startswith(prefix):
            out.add("Ndis(M)Cm" + ddi[len(prefix):])
            out.add("Ndis\\(M\\)Cm" + ddi[len(prefix):])   # the guide's markdown escapes
    return out


def page_states(v: Violation) -> None:
    """The page a Violation cites states its rule: it names the function or handler the rule was
    broken in (teardown findings name the moment instead) and a key term of the rule."""
    text = (REFERENCE / v.page).read_text(encoding="utf-8")
    if (v.ddi in FUNCTIONS or v.ddi in CALLBACKS) and v.rule not in GENERAL_RULES:
        assert any(n in text for n in _names(v.ddi)), f"{v.page} never names {v.ddi}: {v}"
    terms = RULE_TERMS.get(v.rule, ())
    assert not terms or any(t.lower() in text.lower() for t in terms), \
        f"{v.page} has none of {terms} for rule {v.rule}: {v}"


def _violations(sim: Simulation, action: Callable[[], Any]) -> list[Violation]:
    """What ``action`` reported: in record mode what the verifier collected while it ran, in strict
    mode the Violation it raised, which ended the run."""
    verifier = getattr(sim, "verifier", None)
    if verifier is not None and verifier.recording:
        mark = len(verifier.violations)
        action()
        return verifier.violations[mark:]
    try:
        action()
    except Violation as v:
        return [v]
    return []


def _sim(where: Any) -> Simulation:
    return where if isinstance(where, Simulation) else where.sim


def _traced(host: Ndis) -> bool:
    return getattr(host.tracer, "records", None) is not None


def _recorded(host: Ndis) -> int:
    if not _traced(host):
        return 0
    return sum(1 for r in host.tracer.records if r.kind == "violation" and r.host == host.name)


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The entries of two snapshots that differ, as {section: {key: (before, after)}}."""
    out: dict[str, Any] = {}
    for section in before.keys() | after.keys():
        b, a = before.get(section), after.get(section)
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            out[section] = {k: (b.get(k), a.get(k)) for k in b.keys() | a.keys() if b.get(k) != a.get(k)}
        else:
            out[section] = (b, a)
    return out


def posted(host: Ndis, fn: Callable[[], Any], irql: int = DISPATCH_LEVEL) -> Callable[[], Any]:
    """An action that runs ``fn`` on ``host`` as a scheduled step at ``irql``, then runs the simulation
    (see :func:`settle`)."""
    def action() -> None:
        host.post(fn, irql=irql)
        settle(host.sim)
    return action


def settle(sim: Simulation) -> None:
    """Run until nothing is runnable, or, in record mode, until the step that reported a violation
    has finished: what the run does after the refusal is no longer the refused call's doing."""
    verifier = getattr(sim, "verifier", None)
    if verifier is None or not verifier.recording:
        sim.run()
        return
    mark = len(verifier.violations)
    sim.run(until=lambda: len(verifier.violations) > mark)


def passive(host: Ndis, fn: Callable[[], Any]) -> Callable[[], Any]:
    """``posted`` at PASSIVE_LEVEL, as an application or a work item would call."""
    return posted(host, fn, irql=PASSIVE_LEVEL)


# ---------------------------------------------------------------------------- scenarios

def make_bed(kind: str = "mcm", *, mcm: type = AtmMcm, cm: type = AtmCallManager, miniport: type = AtmMiniport,
             client: type = AtmClient, answer: Callable[[Call], int] | None = None, verify: str | None = None
             ) -> Testbed:
    """Two hosts on a wire (:func:`condis.demo.testbed`), with any sample driver replaced by a
    subclass that breaks a rule. Traced, so the harness can count the violations reported."""
    return testbed(kind, Recorder(), answer=answer, verify=verify or _mode[0], mcm=mcm, cm=cm, miniport=miniport,
                   client=client)


def place(bed: Testbed, address: bytes = b"bob", multipoint: bool = False, host: int = 0) -> Call:
    """A call from ``host``'s client to ``address``, run until it is up (or failed)."""
    calls: list[Call] = []
    bed.do(host, lambda: calls.append(bed.clients[host].place_call(address, multipoint=multipoint)))
    return calls[0]


def manager_vc(bed: Testbed, host: int = 0) -> Any:
    """The call manager's context (VcCtx) of the newest call on ``host``."""
    manager = bed.call_managers[host]
    port = manager.adapters[0] if hasattr(manager, "adapters") else manager.bindings[0]
    entry = list(port.calls.values())[-1]      # a leaf of a multipoint call stands for the call there
    return entry.vc if isinstance(entry, PartyCtx) else entry


def created_vc(bed: Testbed, host: int = 0) -> VcHandle:
    """A VC the client on ``host`` created on its AF and has not used: the client's NdisVcHandle."""
    ndis, af = bed.hosts[host], bed.clients[host].af_for()
    out = []
    ndis.post(lambda: out.append(ndis.NdisCoCreateVc(af.binding.handle, af.ndis_af, object())))
    bed.run()
    status, handle = out[0]
    assert status == NDIS_STATUS_SUCCESS
    return handle


def nbl_for(host: Ndis, pool: Any, handle: Any, data: bytes = b"data") -> NET_BUFFER_LIST:
    """A NET_BUFFER_LIST from ``pool`` over ``data``, its SourceHandle set to ``handle``."""
    nbl = host.NdisAllocateNetBufferAndNetBufferList(pool, 0, 0, data, 0, len(data))
    nbl.SourceHandle = handle
    return nbl


def cut_wire(bed: Testbed) -> None:
    """Drop every frame from now on: requests that wait for the peer stay pending."""
    bed.wire.fault = lambda src, frame: []


@pytest.fixture(params=["mcm", "cm"])
def bed(request: pytest.FixtureRequest) -> Testbed:
    """A traced testbed of either kind."""
    return make_bed(request.param)


@pytest.fixture
def mcm() -> Testbed:
    return make_bed("mcm")


@pytest.fixture
def cm() -> Testbed:
    return make_bed("cm")
