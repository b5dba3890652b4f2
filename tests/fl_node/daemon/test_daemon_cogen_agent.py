"""A silo daemon's agent in a cogen (mechanism 2) round on a real anvil.

It accepts the consortium's terms only when every on-chain field of the round matches them and
its own data confirms its registered D_i and delta_i; it answers with its exact best response
given the aggregate, using the cost it measured on its own generator; it accepts only the
assignment that encodes its own answer.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount

from fl_node.coordinator import (
    ConsortiumConfig,
    ScaffoldOptions,
    load_consortium_config,
    scaffold,
)
from fl_node.daemon import ActionLog, AgentRequestError, AgentService, StateDir, load_node_config
from fl_node.daemon._cogen import CogenSilo
from fl_node.flower import load_silo
from fl_node.mechanisms import get_mechanism
from fl_node.mechanisms.cogen import CogenTerms
from settlement import AnvilBackend, SettlementClient
from solver.cogen import view_response

pytestmark = pytest.mark.chain

COGEN = get_mechanism("cogen")


@pytest.fixture(scope="module")
def setup(
    tmp_path_factory: pytest.TempPathFactory,
    client: SettlementClient,
    org_accounts: list[LocalAccount],
    coordinator: LocalAccount,
) -> tuple[ConsortiumConfig, int, Path]:
    """A two-silo cogen consortium from ``init`` (silo accounts 90, 91), its round opened."""
    out = tmp_path_factory.mktemp("cogen-agent")
    paths = scaffold(out, ScaffoldOptions(silos=2, mechanism="cogen", rounds=1, seed=4))
    config = load_consortium_config(paths[0])
    silos = tuple(
        dataclasses.replace(s, account=org_accounts[90 + s.index].address) for s in config.silos
    )
    config = dataclasses.replace(config, silos=silos)
    rid = COGEN.open_round(client, config, coordinator=coordinator.address, windows=(3600, 3600))
    return config, rid, paths[1]


def _service(
    tmp_path: Path, anvil: AnvilBackend, client: SettlementClient, node_toml: Path, address: str
) -> AgentService:
    node = load_node_config(node_toml)
    silo = load_silo({**node.data.node_config(), "silo-name": node.name})
    service = AgentService(
        name=node.name,
        address=address,
        s=len(silo.data),
        cost=None,
        contract=client.address,
        state=StateDir(tmp_path / "state"),
        log=ActionLog(tmp_path / "state" / "actions.jsonl", name=node.name, stream=None),
        cogen=CogenSilo(silo, node.cogen, node.data.seed),
    )
    service.reader = SettlementClient.at(anvil, client.address)
    return service


def _offer(client: SettlementClient, config: ConsortiumConfig, rid: int, **terms: Any) -> dict:
    doc = COGEN.terms_document(config)
    doc["cogen"] = {**doc["cogen"], **terms}
    return {
        "round_id": rid,
        "contract": client.address,
        "chain_id": client.chain_id,
        "mechanism": "cogen",
        **doc,
        "active": [s.name for s in config.silos],
    }


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"kappa": 0.02}, "gamma_wad"),  # kappa is gammaWad on chain
        ({"q": 2.0}, "lambda_wad"),
        ({"x_max": [1.0, 1.0]}, "orgs[0].x_max"),
        ({"gamma": [[0.0, 0.2], [0.2, 0.0]]}, "rho"),
    ],
)
def test_terms_that_differ_from_the_round_on_chain_are_refused(
    tmp_path: Path,
    anvil: AnvilBackend,
    client: SettlementClient,
    setup: tuple[ConsortiumConfig, int, Path],
    change: dict[str, Any],
    named: str,
) -> None:
    config, rid, node_toml = setup
    service = _service(tmp_path, anvil, client, node_toml, config.silos[0].account)
    with pytest.raises(AgentRequestError) as info:
        service.accept_terms(_offer(client, config, rid, **change))
    assert info.value.status == 409 and named in str(info.value)


def test_terms_misstating_the_silos_own_data_are_refused(
    tmp_path: Path,
    anvil: AnvilBackend,
    client: SettlementClient,
    setup: tuple[ConsortiumConfig, int, Path],
) -> None:
    config, rid, node_toml = setup
    terms: CogenTerms = config.terms
    service = _service(tmp_path, anvil, client, node_toml, config.silos[0].account)
    lied = [terms.delta[0] + 0.1, terms.delta[1]]
    with pytest.raises(AgentRequestError, match=r"terms.delta\[0\] = .* fix the consortium"):
        service.accept_terms(_offer(client, config, rid, delta=lied))


def test_the_agent_answers_its_best_response_and_checks_its_assignment(
    tmp_path: Path,
    anvil: AnvilBackend,
    client: SettlementClient,
    setup: tuple[ConsortiumConfig, int, Path],
) -> None:
    config, rid, node_toml = setup
    terms: CogenTerms = config.terms
    service = _service(tmp_path, anvil, client, node_toml, config.silos[0].account)
    accepted = service.accept_terms(_offer(client, config, rid))
    assert accepted["accepted"] and accepted["index"] == 0
    record = service.state.load_round(rid)
    assert record is not None and record.terms is not None
    c = record.terms["private"]["c"]
    assert c > 0  # measured on its own generator, kept in its own state dir only
    answer = service.best_response({"round_id": rid, "others_total": 300.0})
    own = terms.game({terms.names[0]: c}).view(terms.names[0])
    assert answer == {"name": "silo-1", "x": view_response(own, 300.0), "D": terms.D[0]}
    x = answer["x"]
    good = {"round_id": rid, "index": 0, "x": x, "x_onchain": round(x), "f_onchain": 0}
    with pytest.raises(AgentRequestError, match="differs from this silo's own best response"):
        service.accept_assignment({**good, "x": x + 5})
    with pytest.raises(AgentRequestError, match="does not encode this silo's strategy"):
        service.accept_assignment({**good, "x_onchain": round(x) + 3})
    assert service.accept_assignment(good) == {"accepted": True, "x": round(x), "f": 0}
