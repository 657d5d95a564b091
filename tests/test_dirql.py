"""Every DDI whose page caps it at DISPATCH_LEVEL or below is refused at DIRQL, however the driver
reaches it: through the host at the time, or through a reference taken before the interrupt."""

from __future__ import annotations

import inspect

import pytest

from condis import DIRQL, DISPATCH_LEVEL, Ndis, Simulation, Violation
from condis._ddi_table import FUNCTIONS
from condis.ndis.core import irql_rule, max_irql
from condis.ndis.host import REFUSALS

CAPPED = sorted(n for n in FUNCTIONS if max_irql(n) <= DISPATCH_LEVEL)


def _nulls(name):
    """Arguments a careless ISR might pass: 0 for a status or a number, NULL for the rest."""
    params = list(inspect.signature(getattr(Ndis, name)).parameters.values())[1:]     # after self
    return [0 if p.annotation in ("int", int) else None for p in params]


@pytest.mark.parametrize("name", CAPPED)
def test_a_reference_taken_before_the_interrupt_is_refused_at_dirql(name):
    host = Ndis("irql")
    ddi = getattr(host, name)               # taken before the interrupt
    seen = []
    with pytest.raises(Violation) as e:
        host.interrupt(lambda: (seen.append(host.irql), ddi(*_nulls(name))))
    assert seen == [DIRQL]
    assert e.value.rule == irql_rule(name) and e.value.page == FUNCTIONS[name][2], e.value
    assert "DIRQL" in e.value.detail


@pytest.mark.parametrize("name", CAPPED)
def test_record_mode_refuses_it_and_returns_the_refusal(name):
    host = Ndis("irql", sim=Simulation(verify="record"))
    ddi = getattr(host, name)
    out = host.interrupt(lambda: ddi(*_nulls(name)))
    assert out == REFUSALS[name]
    assert [v.rule for v in host.verifier.violations] == [irql_rule(name)]
