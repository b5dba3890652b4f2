"""The mechanism registry and TradeFL (mechanism 1) through the :class:`Mechanism` protocol."""

from __future__ import annotations

from pathlib import Path

import pytest

from fl_node.agent import SiloAgent, Strategy
from fl_node.coordinator import ScaffoldOptions, load_consortium_config, scaffold
from fl_node.daemon import ConfigFileError, terms_to_json
from fl_node.flower import Assignment
from fl_node.mechanisms import (
    DEFAULT_MECHANISM,
    TradeFL,
    UnknownMechanism,
    get_mechanism,
    mechanism_names,
)

NAMES = ["silo-0", "silo-1", "silo-2"]
SIZES = [300, 250, 400]


def test_the_registry_serves_tradefl_and_names_the_choices_for_an_unknown_name() -> None:
    assert DEFAULT_MECHANISM == "tradefl" and "tradefl" in mechanism_names()
    assert isinstance(get_mechanism("tradefl"), TradeFL)
    with pytest.raises(UnknownMechanism, match=r"unknown mechanism 'cogenn'; registered .*tradefl"):
        get_mechanism("cogenn")


def test_the_silo_agent_plays_the_game_among_the_active_silos_only() -> None:
    mech = TradeFL()
    consortium = mech.demo_consortium(NAMES, SIZES, seed=2, epochs=2)
    terms = consortium.terms
    doc = {"terms": terms_to_json(terms), "active": ["silo-0", "silo-2"]}
    agent = mech.silo_agent(consortium.private[2], doc)
    assert agent.terms.names == ("silo-0", "silo-2")
    assert agent.terms.rho == ((0.0, terms.rho[0][2]), (terms.rho[2][0], 0.0))
    full = mech.silo_agent(consortium.private[2], {"terms": terms_to_json(terms)})
    direct = SiloAgent(consortium.private[2], terms)
    assert full.respond(300.0) == direct.respond(300.0)
    # without silo-1 the game is another one: silo-2's weight z_i = p_i - sum_j rho_ij p_j changes
    assert agent.terms.weight(1) != terms.weight(2)


def test_strategies_become_training_plans_reports_and_rows() -> None:
    mech = TradeFL()
    consortium = mech.demo_consortium(NAMES, SIZES, seed=2, epochs=2)
    s = Strategy("silo-1", 0.5, 800.0, 125.0)
    assert mech.training_plan({"silo-1": s}) == {"silo-1": Assignment(d=0.5, f=800.0, x=125.0)}
    assert mech.strategy_from_json(mech.strategy_to_json(s)) == s
    assert mech.assignment_fields(s) == {"d": 0.5, "f": 800.0, "x": 125.0}
    assert mech.strategy_fields(None) == {"d": None, "f": None, "x": None}
    reg = consortium.registry
    assert [r["F_max"] for r in reg] == [o.F[-1] for o in consortium.private]
    assert [r["p"] for r in reg] == list(consortium.terms.p)
    assert consortium.terms.tau == pytest.approx(0.6)  # 0.3 s per local epoch


def test_the_initial_profile_is_everyone_at_d_min_and_its_fastest_level(tmp_path: Path) -> None:
    config = load_consortium_config(scaffold(tmp_path, ScaffoldOptions(rounds=1))[0])
    assert config.mechanism == "tradefl"
    start = TradeFL().initial_strategies(config, config.silos[:2])
    d_min = config.terms.D_min
    assert start == [Strategy(s.name, d_min, s.F_max, d_min * s.s) for s in config.silos[:2]]
    doc = TradeFL().terms_document(config)
    assert doc["terms"] == terms_to_json(config.terms) and doc["units"]["x_scale"] == 1000


def test_consortium_toml_names_an_unknown_mechanism(tmp_path: Path) -> None:
    path = scaffold(tmp_path, ScaffoldOptions(rounds=1))[0]
    text = path.read_text()
    assert "[coordinator]\n" in text
    path.write_text(text.replace("[coordinator]\n", '[coordinator]\nmechanism = "market2"\n'))
    with pytest.raises(
        ConfigFileError, match=r"mechanism = 'market2' is not a registered .*tradefl"
    ):
        load_consortium_config(path)
    path.write_text(text.replace("[coordinator]\n", '[coordinator]\nmechanism = "tradefl"\n'))
    assert load_consortium_config(path).mechanism == "tradefl"
