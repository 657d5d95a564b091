"""Virtual connections: only the creator deletes a VC, activation requests one at a time and only
in a state that allows them, and the call state a VC must be in to be used."""

from __future__ import annotations

import pytest

from condis import NDIS_STATUS_NOT_ACCEPTED, NDIS_STATUS_PENDING, NDIS_STATUS_RESOURCES
from condis.drivers import signaling as sig
from condis.drivers.client import AtmClient
from condis.drivers.cm import AtmCallManager
from condis.drivers.mcm import AtmMcm
from condis.ndis import states as S
from tests.conftest import steps
from tests.rules.conftest import created_vc, cut_wire, expect_violation, make_bed, passive, place, posted

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


# ---------------------------------------------------------------------------- a VC whose creation failed

class _RefusesVcs:
    """ProtocolCoCreateVc fails, but the handle NDIS showed it is kept."""

    kept = None

    def CmCreateVc(self, ProtocolAfContext, NdisVcHandle):
        type(self).kept = NdisVcHandle
        return NDIS_STATUS_RESOURCES, None


class McmRefusesVcs(_RefusesVcs, AtmMcm):
    pass


class CmRefusesVcs(_RefusesVcs, AtmCallManager):
    pass


class ClientRefusesVcs(AtmClient):
    kept = None

    def ClCreateVc(self, ProtocolAfContext, NdisVcHandle):
        type(self).kept = NdisVcHandle
        return NDIS_STATUS_RESOURCES, None


@pytest.mark.rule("condis.BadHandle")
@pytest.mark.parametrize("kind, manager", [("mcm", McmRefusesVcs), ("cm", CmRefusesVcs)])
def test_the_call_managers_handle_to_a_vc_it_refused_is_dead(kind, manager):
    # ddi: nc-ndis-protocol_co_create_vc.md — a failed ProtocolCoCreateVc leaves no VC behind
    bed = make_bed(kind, **{kind: manager})
    host, af = bed.hosts[0], bed.clients[0].af_for()
    out = []
    host.post(lambda: out.append(host.NdisCoCreateVc(af.binding.handle, af.ndis_af, object())))
    bed.run()
    kept = manager.kept
    assert out == [(NDIS_STATUS_RESOURCES, None)] and kept is not None and kept.vc not in host.adapters["atm0"].vcs
    family = "NdisMCm" if kind == "mcm" else "NdisCm"
    params = sig.call_parameters(b"bob", vci=40)
    for ddi, action in [(f"{family}ActivateVc", lambda: getattr(host, f"{family}ActivateVc")(kept, params)),
                        (f"{family}DeactivateVc", lambda: getattr(host, f"{family}DeactivateVc")(kept)),
                        ("NdisCoGetTapiCallId", lambda: host.NdisCoGetTapiCallId(kept))]:
        v = expect_violation(bed, "condis.BadHandle", posted(host, action), ddi=ddi)
        assert "no longer valid" in v.detail


@pytest.mark.rule("condis.BadHandle")
def test_the_clients_handle_to_a_vc_it_refused_is_dead():
    bed = make_bed("cm", client=ClientRefusesVcs)
    place(bed)                                   # host B's call manager creates a VC for the call; B's client refuses
    host, kept = bed.hosts[1], ClientRefusesVcs.kept
    assert kept is not None and kept.vc not in host.adapters["atm0"].vcs
    v = expect_violation(bed, "condis.BadHandle", posted(host, lambda: host.NdisCoGetTapiCallId(kept)),
                         ddi="NdisCoGetTapiCallId")
    assert "no longer valid" in v.detail
