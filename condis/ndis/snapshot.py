"""Every state NDIS tracks on a host, as plain data.

Two uses: a test that breaks a rule checks that the refused call left every object as it was
(``snapshot(host)`` before and after compare equal), and the explorer recognises a state it has
already been in (``fingerprint``). Only NDIS's own view is captured: object states and the
requests outstanding, never a driver's private memory.
"""

from __future__ import annotations

from collections import Counter
from typing import Any


def snapshot(host: Any) -> dict[str, Any]:
    """The state of every driver, adapter, binding, AF, SAP, VC, party, OID request and received
    NET_BUFFER_LIST a protocol owns on ``host``."""
    vcs: dict[int, tuple] = {}
    afs: dict[int, tuple] = {}
    saps: dict[int, tuple] = {}
    registered: dict[int, tuple] = {}
    bindings: dict[int, tuple] = {}
    adapters: dict[str, tuple] = {}
    for adapter in host.adapters.values():
        adapters[adapter.name] = (adapter.state, len(adapter.vcs))
        for vc in adapter.vcs:
            vcs[vc.id] = (vc.state, vc.op, vc.activation, vc.act_op, vc.creator, vc.deleted, vc.multipoint,
                          len(vc.sends or ()),
                          tuple((p.id, p.state, p.op) for p in vc.parties))
        own = list(adapter.afs)
        for b in adapter.bindings:
            bindings[b.id] = (b.protocol.name, adapter.name, b.state, b.unbinding is not None, b.pausing is not None)
            own.extend(b.registered_afs)
            for af in b.client_afs:
                afs[af.id] = _af(af)
                saps.update((s.id, (af.id, s.state)) for s in af.saps)
        for raf in own:
            registered[raf.id] = (raf.state, tuple(af.id for af in raf.opens))
            for af in raf.opens:
                afs[af.id] = _af(af)
                saps.update((s.id, (af.id, s.state)) for s in af.saps)
    return {
        "irql": host._irql,
        "locks_held": host._locks_held,
        "drivers": {name: d.state for name, d in host.drivers.items()},
        "adapters": adapters,
        "bindings": bindings,
        "registered_afs": registered,
        "afs": afs,
        "saps": saps,
        "vcs": vcs,
        "oids": sorted((rec.oid, rec.target, rec.done) for rec in host._oids.values()),
        # how many received NET_BUFFER_LISTs each binding (by id) owns
        "received": sorted(Counter(b.id for b in host._received.values()).items()),
    }


def _af(af: Any) -> tuple:
    return (af.state, af.notify, af.op, sum(1 for v in af.registered.adapter.vcs if v.af is af))


def fingerprint(hosts: list[Any]) -> int:
    """A hash of the NDIS state of ``hosts`` (object ids included, so it is exact for one scenario)."""
    return hash(tuple(_freeze(snapshot(h)) for h in hosts))


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple((k, _freeze(v)) for k, v in sorted(value.items(), key=lambda kv: repr(kv[0])))
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value
