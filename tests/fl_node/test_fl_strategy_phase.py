"""The silo agent and the distributed best-response phase against the full-information solver."""

from __future__ import annotations

import numpy as np
import pytest

from fl_node.agent import SiloAgent, Strategy
from fl_node.consortium import make_demo_consortium
from fl_node.strategy_phase import run_strategy_phase
from solver import best_response, evaluate

SIZES = [300, 250, 400, 180, 310]
NAMES = [f"silo-{i}" for i in range(len(SIZES))]


@pytest.fixture(scope="module")
def consortium():  # type: ignore[no-untyped-def]
    return make_demo_consortium(NAMES, SIZES, seed=3)


def _start(consortium) -> list[Strategy]:  # type: ignore[no-untyped-def]
    t = consortium.terms
    return [Strategy(o.name, t.D_min, o.F[-1], t.D_min * o.s) for o in consortium.orgs]


def test_agent_needs_only_public_terms_and_the_aggregate(consortium) -> None:  # type: ignore[no-untyped-def]
    game = consortium.game()
    for i, org in enumerate(consortium.orgs):
        agent = SiloAgent(org, consortium.terms)
        for others in (0.0, 250.0, 900.0):
            mine = agent.respond(others)
            full = best_response(game.view(i), others)
            assert (mine.d, mine.f, mine.x) == pytest.approx((full.d, full.f, full.x), rel=1e-12)


def test_phase_reaches_a_nash_equilibrium_with_a_trace(consortium) -> None:  # type: ignore[no-untyped-def]
    agents = [SiloAgent(o, consortium.terms) for o in consortium.orgs]
    result = run_strategy_phase(agents, _start(consortium))
    assert result.converged
    assert result.queries == len(result.trace) == result.sweeps * len(agents)
    check = evaluate(
        consortium.game(), [s.d for s in result.strategies], [s.f for s in result.strategies]
    )
    assert check.is_nash
    assert abs(float(np.sum(check.redistribution))) < 1e-9
    assert result.omega == pytest.approx(sum(s.x for s in result.strategies))


class _Gone:
    def __init__(self, name: str) -> None:
        self.name = name

    def respond(self, others_total: float) -> Strategy:
        raise ConnectionRefusedError("silo agent unreachable")


def test_an_unreachable_silo_is_dropped_and_leaves_the_aggregate(consortium) -> None:  # type: ignore[no-untyped-def]
    agents = [SiloAgent(o, consortium.terms) for o in consortium.orgs]
    agents[2] = _Gone(agents[2].name)  # type: ignore[call-overload]
    result = run_strategy_phase(agents, _start(consortium))
    assert result.converged and result.dropped == ["silo-2"]
    others_seen = [t.others_total for t in result.trace if t.sweep == result.sweeps]
    final = {s.name: s.x for s in result.strategies if s.name != "silo-2"}
    for t, seen in zip(
        [t for t in result.trace if t.sweep == result.sweeps], others_seen, strict=True
    ):
        assert seen == pytest.approx(sum(final.values()) - final[t.name])
    assert result.omega == pytest.approx(sum(final.values()))


def test_mismatched_inputs_are_rejected(consortium) -> None:  # type: ignore[no-untyped-def]
    agents = [SiloAgent(o, consortium.terms) for o in consortium.orgs]
    with pytest.raises(ValueError, match="one each"):
        run_strategy_phase(agents, _start(consortium)[:2])
    with pytest.raises(ValueError, match="non-negative"):
        agents[0].respond(-1.0)
