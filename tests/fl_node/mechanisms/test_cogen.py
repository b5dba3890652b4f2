"""Cogen (mechanism 2) through the :class:`Mechanism` protocol: terms, agents, plan, training data."""

from __future__ import annotations

import numpy as np
import pytest

from fl_node.flower import (
    Assignment,
    Request,
    SiloConfigError,
    TrainConfig,
    handle_train,
    local_silos,
)
from fl_node.mechanisms import Cogen, get_mechanism, mechanism_names
from fl_node.mechanisms.cogen import CogenStrategy, CogenTerms, mixed_training_data
from fl_node.strategy_phase import run_strategy_phase
from solver.cogen import solve

N = 3


@pytest.fixture(scope="module")
def consortium():
    """Three strongly non-IID digits silos whose GMM generators were trained and measured."""
    silos = local_silos(N, node_config={"dataset": "digits", "alpha": 0.1, "data-seed": 3})
    ordered = [silos[k] for k in sorted(silos)]
    names = [s.name for s in ordered]
    sizes = [len(s.data) for s in ordered]
    drawn = Cogen().demo_consortium(names, sizes, seed=3, epochs=1, silos=ordered)
    return drawn, ordered


def test_the_registry_serves_cogen() -> None:
    assert "cogen" in mechanism_names()
    assert isinstance(get_mechanism("cogen"), Cogen)


def test_demo_terms_are_measured_from_each_silos_data(consortium) -> None:
    drawn, silos = consortium
    terms: CogenTerms = drawn.terms
    assert terms.D == tuple(float(len(s.data)) for s in silos)
    assert terms.x_max == tuple(2.0 * d for d in terms.D)
    assert all(0 < d <= 2 for d in terms.delta)
    assert sum(terms.qbar) == pytest.approx(1.0)
    costs = [o.c for o in drawn.private]
    assert all(c > 0 for c in costs)  # measured CPU time, priced
    assert CogenTerms.from_json(terms.to_json()) == terms
    with pytest.raises(ValueError, match=r"lack \['qbar'\]"):
        CogenTerms.from_json({k: v for k, v in terms.to_json().items() if k != "qbar"})


def test_the_distributed_phase_reaches_the_solvers_fixed_point(consortium) -> None:
    drawn, _ = consortium
    mech = Cogen()
    doc = {"cogen": drawn.terms.to_json()}
    agents = [mech.silo_agent(p, doc) for p in drawn.private]
    initial = [CogenStrategy(p.name, 0.0, p.D) for p in drawn.private]
    phase = run_strategy_phase(agents, initial)  # type: ignore[arg-type]
    assert phase.converged
    reference = solve(drawn.full_information.game, "fixed-point")
    np.testing.assert_allclose([s.x for s in phase.strategies], reference.x, rtol=1e-5, atol=1e-3)
    # the phase document is JSON-ready with the shared trace fields
    assert phase.to_dict()["trace"][0]["d"] == 1.0


def test_an_agent_plays_among_the_active_silos_and_checks_its_registration(consortium) -> None:
    drawn, _ = consortium
    mech = Cogen()
    terms = drawn.terms
    doc = {"cogen": terms.to_json(), "active": [terms.names[0], terms.names[2]]}
    agent = mech.silo_agent(drawn.private[2], doc)
    assert agent.view.D_total == terms.D[0] + terms.D[2]
    lied = dict(terms.to_json(), D=[terms.D[0], terms.D[1], terms.D[2] + 1])
    with pytest.raises(ValueError, match=r"terms.D\[2\] = .* but silo"):
        mech.silo_agent(drawn.private[2], {"cogen": lied})


def test_training_plan_weights_by_real_plus_synthetic_samples() -> None:
    mech = Cogen()
    plan = mech.training_plan(
        {"a": CogenStrategy("a", 41.6, 100.0), "b": CogenStrategy("b", 0, 50)}
    )
    assert plan["a"] == Assignment(d=1.0, f=0.0, x=142.0, extra={"synthetic": 42})
    assert plan["b"] == Assignment(d=1.0, f=0.0, x=50.0, extra={"synthetic": 0})
    label, without = mech.comparison_plan({"a": CogenStrategy("a", 41.6, 100.0)})
    assert label == "without_generation" and without["a"] == Assignment(1.0, 0.0, 100.0)
    assert mech.strategy_from_json(mech.strategy_to_json(CogenStrategy("a", 3.5, 9))) == (
        CogenStrategy("a", 3.5, 9.0)
    )
    with pytest.raises(ValueError, match="name, x and D"):
        mech.strategy_from_json({"name": "a", "x": 1})
    with pytest.raises(ValueError, match="would replace common train keys"):
        Assignment(1.0, 0.0, 1.0, extra={"lr": 0.5})


def test_a_silo_trains_on_exactly_x_of_its_own_synthetic_samples(consortium) -> None:
    _, silos = consortium
    silo = silos[0]
    mixed = mixed_training_data(silo, {"synthetic": 37, "seed": 5})
    assert len(mixed.data) == len(silo.data) + 37
    assert mixed.x == 37 and mixed.delta_mixed < mixed.delta_real
    assert mixed_training_data(silo, {"synthetic": 37, "seed": 5}) is mixed  # generated once
    # the train handler uses it: the reply counts the mixed samples
    from fl_node.models import build_model, get_parameters

    params = get_parameters(build_model(silo.meta, "auto", seed=0))
    config = TrainConfig(epochs=1).message_config(1, Assignment(1.0, 0.0, 1.0, {"synthetic": 37}))
    reply = handle_train(silo, Request(config, params))
    assert reply.metrics["num-examples-total"] == len(silo.data) + 37
    stranger = local_silos(2, node_config={"dataset": "digits", "alpha": 5.0, "data-seed": 9})[1]
    with pytest.raises(SiloConfigError, match="has no trained generator"):
        mixed_training_data(stranger, {"synthetic": 3})
