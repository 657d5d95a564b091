"""Virtual connections: only the creator deletes a VC, activation requests one at a time and only
in a state that allows them, and the call state a VC must be in to be used."""

from __future__ import annotations

import pytest

from condis import NDIS_STATUS_NOT_ACCEPTED, NDIS_STATUS_PENDING
from condis.drivers import signaling as sig
from condis.ndis import states as S
from tests.conftest import steps
from tests.rules.conftest import created_vc, cut_wire, expect_violation, passive, place, posted

# ---------------------------------------------------------------------------- condis.OnlyCreatorDeletes

@pytest.mark.rule("condis.OnlyCreatorDeletes")
def test_a_client_deletes_the_vc_its_call_manager_created_for_an_incoming_call(bed):
    place(bed)
    answered = bed.clients[1].incoming[-1]
    host = bed.hosts[1]
    v = expect_violation(bed, "condis.OnlyCreatorDeletes", passive(host, lambda: host.NdisCoDeleteVc(answered.vc)),
                         ddi="NdisCoDeleteVc")
    assert "the client may not delete it" in v.detail


@pytest.mark.rule("condis.OnlyCreatorDeletes")
def test_a_call_manager_deletes_a_vc_its_client_created(bed):
    handle = created_vc(bed)
    manager = bed.call_managers[0]
    vc_ctx = handle.vc.cm_context            # what the call manager's ProtocolCoCreateVc returned
    v = expect_violation(bed, "condis.OnlyCreatorDeletes", passive(bed.hosts[0], lambda: manager.delete_vc(vc_ctx)),
                         ddi={"NdisCm": "NdisCoDeleteVc", "NdisMCm": "NdisMCmDeleteVc"}[manager.prefix])
    assert "created by the client" in v.detail


# ---------------------------------------------------------------------------- condis.VcActivation

def test_deactivating_a_vc_that_is_not_active_returns_not_accepted(bed):
    # ddi: nf-ndis-ndismcmdeactivatevc.md — "already deactivated" is a status, and NdisCmDeactivateVc
    # answers the same; the miniport is not asked.
    handle = created_vc(bed)
    host, manager = bed.hosts[0], bed.call_managers[0]
    deactivate = getattr(host, manager.prefix + "DeactivateVc")
    params = sig.call_parameters(b"bob", vci=40)
    out = []
    activate = getattr(host, manager.prefix + "ActivateVc")
    host.post(lambda: out.append(deactivate(handle.vc.h_cm)))
    bed.run()
    assert out == [NDIS_STATUS_NOT_ACCEPTED] and handle.vc.activation == S.VC_INACTIVE
    host.post(lambda: out.append(activate(handle.vc.h_cm, params)))
    bed.run()
    assert handle.vc.activation == S.VC_ACTIVE
    since = len(bed.recorder.records)
    host.post(lambda: out.append(deactivate(handle.vc.h_cm)))
    bed.run()                                 # the miniport below a call manager may pend; it completes
    assert handle.vc.activation == S.VC_INACTIVE and handle.vc.call_params is None
    host.post(lambda: out.append(deactivate(handle.vc.h_cm)))
    bed.run()
    assert out[-1] == NDIS_STATUS_NOT_ACCEPTED and handle.vc.activation == S.VC_INACTIVE
    first = {"NdisMCm": ["A:NdisMCmDeactivateVc"],
             "NdisCm": ["A:NdisCmDeactivateVc", "A:MiniportCoDeactivateVc", "A:NdisMCoDeactivateVcComplete",
                        "A:ProtocolCmDeactivateVcComplete"]}[manager.prefix]
    assert steps(bed.recorder, since) == first + [f"A:{manager.prefix}DeactivateVc"]


@pytest.mark.rule("condis.VcActivation")
def test_a_vc_activated_again_while_its_activation_is_pending(cm):
    handle = created_vc(cm)
    host = cm.hosts[0]
    params = sig.call_parameters(b"bob", vci=40)
    out = []
    host.post(lambda: out.append(host.NdisCmActivateVc(handle.vc.h_cm, params)))
    cm.sim.run(max_steps=1)                  # the miniport is still programming the NIC
    assert out == [NDIS_STATUS_PENDING] and handle.vc.activation == S.VC_ACTIVATING
    v = expect_violation(cm, "condis.VcActivation", posted(host, lambda: host.NdisCmActivateVc(handle.vc.h_cm, params)),
                         ddi="NdisCmActivateVc")
    assert "ACTIVATING" in v.detail


@pytest.mark.rule("condis.VcActivation")
def test_a_make_call_on_a_vc_still_active_from_its_last_call(mcm):
    handle = created_vc(mcm)
    host = mcm.hosts[0]
    params = sig.call_parameters(b"bob", vci=40)
    host.post(lambda: host.NdisMCmActivateVc(handle.vc.h_cm, params))
    mcm.run()
    v = expect_violation(mcm, "condis.VcActivation", passive(host, lambda: host.NdisClMakeCall(handle, params, None)),
                         ddi="NdisClMakeCall")
    assert "still ACTIVE" in v.detail


# ---------------------------------------------------------------------------- condis.VcState

@pytest.mark.rule("condis.VcState")
def test_a_vc_deleted_while_its_call_is_being_made(mcm):
    cut_wire(mcm)
    call = place(mcm)
    vc = call.vc.vc
    assert (vc.state, vc.op, vc.activation) == (S.CALL_MAKING, S.OP_PENDING, S.VC_INACTIVE)
    host = mcm.hosts[0]
    expect_violation(mcm, "condis.VcState", passive(host, lambda: host.NdisCoDeleteVc(call.vc)), ddi="NdisCoDeleteVc")
