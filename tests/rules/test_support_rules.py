"""OID request completions, I/O work items and timer objects."""

from __future__ import annotations

import pytest

from condis import (
    DISPATCH_LEVEL,
    IO_WORKITEM,
    NDIS_OID_REQUEST,
    NDIS_STATUS_BAD_CHARACTERISTICS,
    NDIS_STATUS_PENDING,
    NDIS_STATUS_SUCCESS,
    NDIS_TIMER_CHARACTERISTICS,
    NET_BUFFER_LIST_POOL_PARAMETERS,
    OID_GEN_CO_LINK_SPEED,
    PASSIVE_LEVEL,
    CriticalWorkQueue,
    DelayedWorkQueue,
    HyperCriticalWorkQueue,
)
from condis.drivers.mcm import AtmMcm
from tests.rules.conftest import expect_violation, make_bed, passive, posted


class PendsOids(AtmMcm):
    """Pends every MiniportCoOidRequest; the test completes them."""

    def MiniportCoOidRequest(self, MiniportAdapterContext, MiniportVcContext, NdisRequest):
        return NDIS_STATUS_PENDING


def pended_oid(bed):
    """An OID request the client sent to the MCM's miniport side, pended there."""
    host, client = bed.hosts[0], bed.clients[0]
    request = NDIS_OID_REQUEST(Oid=OID_GEN_CO_LINK_SPEED)
    out = []
    host.post(lambda: out.append(host.NdisCoOidRequest(client.bindings[0].handle, None, None, None, request)))
    bed.run()
    assert out == [NDIS_STATUS_PENDING]
    return request


# ---------------------------------------------------------------------------- condis.OidComplete

@pytest.mark.rule("condis.OidComplete")
def test_a_miniport_completes_a_request_nobody_made(bed):
    host = bed.hosts[0]
    adapter = host.adapters["atm0"]
    request = NDIS_OID_REQUEST(Oid=OID_GEN_CO_LINK_SPEED)
    v = expect_violation(bed, "condis.OidComplete",
                         posted(host, lambda: host.NdisMCoOidRequestComplete(adapter, None, request, NDIS_STATUS_SUCCESS)),
                         ddi="NdisMCoOidRequestComplete")
    assert "never issued, or completed already" in v.detail


@pytest.mark.rule("condis.OidComplete")
def test_a_miniport_completes_a_request_twice():
    bed = make_bed("mcm", mcm=PendsOids)
    request = pended_oid(bed)
    host = bed.hosts[0]
    adapter = host.adapters["atm0"]
    complete = posted(host, lambda: host.NdisMCoOidRequestComplete(adapter, None, request, NDIS_STATUS_SUCCESS))
    complete()
    assert bed.clients[0].log[-1] == ("oid-complete", NDIS_STATUS_SUCCESS)
    expect_violation(bed, "condis.OidComplete", complete, ddi="NdisMCoOidRequestComplete")
    assert [e for e in bed.clients[0].log if e[0] == "oid-complete"] == [("oid-complete", NDIS_STATUS_SUCCESS)]


@pytest.mark.rule("condis.OidComplete")
def test_a_request_issued_again_while_it_is_pending():
    bed = make_bed("mcm", mcm=PendsOids)
    request = pended_oid(bed)
    host, binding = bed.hosts[0], bed.clients[0].bindings[0].handle
    v = expect_violation(bed, "condis.OidComplete",
                         passive(host, lambda: host.NdisCoOidRequest(binding, None, None, None, request)),
                         ddi="NdisCoOidRequest")
    assert "already pending" in v.detail


# ---------------------------------------------------------------------------- condis.WorkItem

@pytest.mark.rule("condis.WorkItem")
def test_a_work_item_queued_twice_before_it_ran(bed):
    host = bed.hosts[0]
    item = host.NdisAllocateIoWorkItem(host.adapters["atm0"])
    ran = []

    def step():
        host.NdisQueueIoWorkItem(item, lambda ctx, h: ran.append(ctx), "first")
        return expect_violation(host, "condis.WorkItem",
                                lambda: host.NdisQueueIoWorkItem(item, lambda ctx, h: ran.append(ctx), "second"),
                                ddi="NdisQueueIoWorkItem")
    out = []
    host.post(lambda: out.append(step()))
    bed.run()
    assert "already queued" in out[0].detail and ran == ["first"]


@pytest.mark.rule("condis.WorkItem")
def test_a_work_item_freed_while_it_is_queued(mcm):
    host = mcm.hosts[0]
    item = host.NdisAllocateIoWorkItem(host.adapters["atm0"])
    ran = []

    def step():
        host.NdisQueueIoWorkItem(item, lambda ctx, h: ran.append(h), None)
        return expect_violation(host, "condis.WorkItem", lambda: host.NdisFreeIoWorkItem(item),
                                ddi="NdisFreeIoWorkItem")
    out = []
    host.post(lambda: out.append(step()))
    mcm.run()
    assert "still queued" in out[0].detail and ran == [item]
    host.NdisFreeIoWorkItem(item)          # once it ran, freeing it is fine


# ---------------------------------------------------------------------------- condis.Timer

def _freed_timer(bed):
    host = bed.hosts[0]
    _, timer = host.NdisAllocateTimerObject(bed.clients[0].bindings[0].handle,
                                            NDIS_TIMER_CHARACTERISTICS(TimerFunction=lambda *a: None))
    host.NdisFreeTimerObject(timer)
    return host, timer


@pytest.mark.rule("condis.Timer")
def test_a_timer_set_after_it_was_freed(bed):
    host, timer = _freed_timer(bed)
    v = expect_violation(bed, "condis.Timer", posted(host, lambda: host.NdisSetTimerObject(timer, -10, 0, None)),
                         ddi="NdisSetTimerObject")
    assert "live timer object" in v.detail and timer.event is None


@pytest.mark.rule("condis.Timer")
def test_a_timer_cancelled_after_it_was_freed(mcm):
    host, timer = _freed_timer(mcm)
    expect_violation(mcm, "condis.Timer", posted(host, lambda: host.NdisCancelTimerObject(timer)),
                     ddi="NdisCancelTimerObject")


@pytest.mark.rule("condis.Timer")
def test_a_timer_freed_twice(mcm):
    host, timer = _freed_timer(mcm)
    expect_violation(mcm, "condis.Timer", posted(host, lambda: host.NdisFreeTimerObject(timer)),
                     ddi="NdisFreeTimerObject")


# ---------------------------------------------------------------------------- condis.NblPool

def _pool(host, owner, **params):
    return host.NdisAllocateNetBufferListPool(owner, NET_BUFFER_LIST_POOL_PARAMETERS(**params))


@pytest.mark.rule("condis.NblPool")
@pytest.mark.parametrize("params", [{"fAllocateNetBuffer": False}, {"fAllocateNetBuffer": True, "DataSize": 512}])
def test_a_net_buffer_and_net_buffer_list_from_a_pool_made_for_something_else(mcm, params):
    host = mcm.hosts[0]
    pool = _pool(host, mcm.clients[0].bindings[0].handle, **params)
    out = []
    v = expect_violation(mcm, "condis.NblPool", posted(host, lambda: out.append(
        host.NdisAllocateNetBufferAndNetBufferList(pool, 0, 0, b"data", 0, 4))),
        ddi="NdisAllocateNetBufferAndNetBufferList")
    assert "fAllocateNetBuffer TRUE and DataSize 0" in v.detail and pool.outstanding == 0
    assert out == ([None] if mcm.sim.verifier.recording else [])
    host.NdisFreeNetBufferListPool(pool)


@pytest.mark.rule("condis.NblPool")
def test_a_pool_with_a_data_size_but_no_net_buffers(mcm):
    host = mcm.hosts[0]
    owner = mcm.clients[0].bindings[0].handle
    out = []
    v = expect_violation(mcm, "condis.NblPool", posted(host, lambda: out.append(
        _pool(host, owner, fAllocateNetBuffer=False, DataSize=512))), ddi="NdisAllocateNetBufferListPool",
        page="support/ns-nblapi-net_buffer_list_pool_parameters.md")
    assert "needs fAllocateNetBuffer TRUE" in v.detail
    assert out == ([None] if mcm.sim.verifier.recording else [])


def test_a_timer_object_allocated_without_a_timer_function_is_refused_with_bad_characteristics(mcm):
    # ddi: nf-ndis-ndisallocatetimerobject.md — NDIS_STATUS_BAD_CHARACTERISTICS, nothing allocated
    host = mcm.hosts[0]
    before = len(host._resources)
    out = host.NdisAllocateTimerObject(host.adapters["atm0"], NDIS_TIMER_CHARACTERISTICS(TimerFunction=None))
    assert out == (NDIS_STATUS_BAD_CHARACTERISTICS, None) and len(host._resources) == before


# ---------------------------------------------------------------------------- condis.WorkItem: whose handle

def _protocol_handle(bed, whose):
    if whose == "client binding":
        return bed.clients[0].bindings[0].handle
    if whose == "client driver":
        return bed.clients[0].handle
    return bed.call_managers[0].bindings[0].handle       # the stand-alone call manager's binding


@pytest.mark.rule("condis.WorkItem")
@pytest.mark.parametrize("whose", ["client binding", "client driver", "call manager binding"])
def test_a_protocol_driver_allocates_an_ndis_work_item(whose):
    bed = make_bed("cm")
    host = bed.hosts[0]
    handle = _protocol_handle(bed, whose)
    out = []
    v = expect_violation(bed, "condis.WorkItem", passive(host, lambda: out.append(host.NdisAllocateIoWorkItem(handle))),
                         ddi="NdisAllocateIoWorkItem", page="ddi/nf-ndis-ndisallocateioworkitem.md")
    assert f"NdisObjectHandle is {handle!r}, a protocol driver's handle" in v.detail
    assert "IoInitializeWorkItem" in v.detail
    # record mode refuses with NULL, as when it cannot allocate; strict mode stopped the step
    assert out == ([None] if bed.sim.verifier.recording else [])
    assert not any(type(r).__name__ == "IoWorkItem" for r in host._resources)


# ---------------------------------------------------------------------------- condis.IoWorkItem

def _initialized(bed):
    host, item = bed.hosts[0], IO_WORKITEM()
    host.IoInitializeWorkItem(bed.clients[0].driver_object, item)
    return host, item


def _nothing(IoObject, Context, IoWorkItem):
    pass


@pytest.mark.rule("condis.IoWorkItem")
def test_a_kernel_work_item_queued_twice_before_it_ran(bed):
    host, item = _initialized(bed)
    ran = []

    def routine(IoObject, Context, IoWorkItem):
        ran.append((IoObject, Context, IoWorkItem, host.irql))

    def step():
        host.IoQueueWorkItemEx(item, routine, DelayedWorkQueue, "first")
        return expect_violation(host, "condis.IoWorkItem",
                                lambda: host.IoQueueWorkItemEx(item, routine, DelayedWorkQueue, "second"),
                                ddi="IoQueueWorkItemEx", page="kernel/nf-wdm-ioqueueworkitemex.md")
    out = []
    host.post(lambda: out.append(step()), irql=DISPATCH_LEVEL)
    bed.run()
    assert "is already queued and has not run yet" in out[0].detail
    assert ran == [(bed.clients[0].driver_object, "first", item, PASSIVE_LEVEL)]


@pytest.mark.rule("condis.IoWorkItem")
def test_a_kernel_work_item_uninitialized_while_it_is_queued(bed):
    host, item = _initialized(bed)
    ran = []

    def step():
        host.IoQueueWorkItemEx(item, lambda o, c, i: ran.append(i), DelayedWorkQueue, None)
        return expect_violation(host, "condis.IoWorkItem", lambda: host.IoUninitializeWorkItem(item),
                                ddi="IoUninitializeWorkItem", page="kernel/nf-wdm-iouninitializeworkitem.md")
    out = []
    host.post(lambda: out.append(step()))
    bed.run()
    assert "is still queued" in out[0].detail and ran == [item]
    host.IoUninitializeWorkItem(item)           # once it ran, uninitializing it is fine
    assert item not in host._io_work_items


@pytest.mark.rule("condis.IoWorkItem")
@pytest.mark.parametrize("case", ["never initialized", "uninitialized", "critical queue", "hypercritical queue",
                                  "not callable", "at DIRQL"])
def test_a_kernel_work_item_queued_wrongly(mcm, case):
    host, item = _initialized(mcm)
    queue, routine = DelayedWorkQueue, _nothing
    if case == "never initialized":
        item = IO_WORKITEM()
    elif case == "uninitialized":
        host.IoUninitializeWorkItem(item)
    elif case == "critical queue":
        queue = CriticalWorkQueue
    elif case == "hypercritical queue":
        queue = HyperCriticalWorkQueue
    elif case == "not callable":
        routine = "routine"
    if case == "at DIRQL":
        action = posted(host, lambda: host.interrupt(lambda: host.IoQueueWorkItemEx(item, routine, queue, None)))
    else:
        action = posted(host, lambda: host.IoQueueWorkItemEx(item, routine, queue, None))
    v = expect_violation(mcm, "condis.IoWorkItem", action, ddi="IoQueueWorkItemEx",
                         page="kernel/nf-wdm-ioqueueworkitemex.md")
    expected = {"never initialized": "is not initialized", "uninitialized": "is not initialized",
                "critical queue": "QueueType is 0; drivers pass DelayedWorkQueue (1)",
                "hypercritical queue": "QueueType is 2; drivers pass DelayedWorkQueue (1)",
                "not callable": "WorkerRoutine must be callable", "at DIRQL": "called at DIRQL"}[case]
    assert expected in v.detail
    assert item.event is None


@pytest.mark.rule("condis.IoWorkItem")
@pytest.mark.parametrize("case", ["protocol handle", "another host's driver", "not an IO_WORKITEM", "queued"])
def test_a_kernel_work_item_initialized_wrongly(cm, case):
    host, client = cm.hosts[0], cm.clients[0]
    io_object, item = client.driver_object, IO_WORKITEM()
    if case == "protocol handle":
        io_object = client.handle
    elif case == "another host's driver":
        io_object = cm.hosts[1].drivers["atmclient"].driver_object      # another host's driver
    elif case == "not an IO_WORKITEM":
        item = object()
    elif case == "queued":
        host.IoInitializeWorkItem(io_object, item)
    ran = []

    def step():
        if case == "queued":
            host.IoQueueWorkItemEx(item, lambda o, c, i: ran.append(c), DelayedWorkQueue, "queued")
        return expect_violation(host, "condis.IoWorkItem", lambda: host.IoInitializeWorkItem(io_object, item),
                                ddi="IoInitializeWorkItem", page="kernel/nf-wdm-ioinitializeworkitem.md")
    out = []
    host.post(lambda: out.append(step()))
    cm.run()
    expected = {"protocol handle": "IoObject must be the DRIVER_OBJECT this host passed the caller's DriverEntry",
                "another host's driver": "IoObject must be the DRIVER_OBJECT this host passed the caller's DriverEntry",
                "not an IO_WORKITEM": "IoWorkItem must be an IO_WORKITEM",
                "queued": "is queued and its routine has not run"}[case]
    assert expected in out[0].detail
    assert ran == (["queued"] if case == "queued" else [])
    assert (item in host._io_work_items) == (case == "queued")
