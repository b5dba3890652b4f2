"""Python-side validation of client inputs: clear errors naming the field, before any transaction."""

from __future__ import annotations

import dataclasses

import pytest
from eth_utils import to_checksum_address

from settlement import (
    WAD,
    ZERO_ADDRESS,
    ArtifactError,
    ConfigError,
    OrgSpec,
    RhoError,
    RoundConfig,
    SettlementClient,
    load_artifact,
    round_config_from_reals,
)


def _config(**overrides) -> RoundConfig:
    params = dict(now=1_000, gamma="2.5", lambda_=0.5, d_min="0.1", x_scale=10, f_scale=4)
    params.update(overrides)
    return round_config_from_reals(**params)


def test_config_from_reals() -> None:
    c = _config(deposit_window=10, report_window=20)
    assert (c.gamma_wad, c.lambda_wad, c.d_min_wad) == (25 * WAD // 10, WAD // 2, WAD // 10)
    assert (c.deposit_deadline, c.report_deadline) == (1010, 1030)
    assert (c.x_scale, c.f_scale, c.mechanism_id, c.coordinator) == (10, 4, 1, ZERO_ADDRESS)
    assert not c.attested and not c.uses_token
    assert RoundConfig.from_abi(c.to_abi()) == c
    cogen = _config(mechanism_id=2, d_min=0, f_scale=1, token="0x" + "ab" * 20)
    assert (cogen.mechanism_id, cogen.d_min_wad, cogen.uses_token) == (2, 0, True)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"d_min": 0}, "d_min"),
        ({"d_min": 1.01}, "d_min"),
        ({"gamma": -1}, "gamma"),
        ({"lambda_": "x"}, "lambda"),
        ({"x_scale": 0}, "x_scale"),
        ({"f_scale": 10**10}, "f_scale"),
        ({"report_window": 0}, "report_window"),
        ({"coordinator": "0x123"}, "coordinator"),
        ({"token": "0x12"}, "token"),
        ({"mechanism_id": 2}, "d_min"),  # cogen has no D_min
        ({"deposit_window": 31 * 86_400}, "deposit_window"),  # beyond MAX_PHASE_SPAN
    ],
)
def test_config_errors_name_the_field(overrides, field) -> None:
    with pytest.raises(ConfigError, match=field):
        _config(**overrides)


def test_value_objects_check_solidity_ranges() -> None:
    with pytest.raises(ConfigError, match=r"x_max: .* does not fit uint64"):
        OrgSpec("0x" + "11" * 20, 2**64, 1)
    with pytest.raises(ConfigError, match="account"):
        OrgSpec("not an address", 1, 1)
    with pytest.raises(ConfigError, match="mechanism_id"):
        dataclasses.replace(_config(), mechanism_id=256)
    with pytest.raises(ConfigError, match="gamma_wad: expected an integer"):
        dataclasses.replace(_config(), gamma_wad=1.5)
    lower = "0x" + "ab" * 20
    assert OrgSpec(lower, 1, 1).account == to_checksum_address(lower) != lower


def test_artifacts_load_and_missing_names_the_script() -> None:
    artifact = load_artifact("FedSettle")
    names = {e["name"] for e in artifact.abi if e["type"] == "function"}
    assert {"roundOpen", "depositSubmit", "contributionSubmit", "payoffCalculate"} <= names
    assert artifact.bytecode.startswith("0x") and len(artifact.bytecode) > 1000
    assert load_artifact("ReentrantAttacker").abi
    with pytest.raises(ArtifactError, match=r"compile_contracts\.py"):
        load_artifact("NoSuchContract")


@pytest.mark.chain
def test_client_input_errors(anvil, client: SettlementClient, org_accounts) -> None:
    count = client.round_count()
    config = client.round_config_from_reals(gamma=1, lambda_=1, d_min=1)
    orgs = [OrgSpec(a.address, 10, 1) for a in org_accounts[:2]]
    with pytest.raises(RhoError, match=r"rho\[0\]\[1\]"):
        client.round_open(config, orgs, [[0, 0.2], [0.3, 0]])
    assert client.round_count() == count  # nothing was sent
    with pytest.raises(ConfigError, match="no sender"):
        SettlementClient.at(anvil, client.address).round_abandon(1)
    with pytest.raises(ConfigError, match="amount"):
        client.deposit_submit(1, 0, -5, sender=org_accounts[0])
    with pytest.raises(ConfigError, match="unknown event"):
        client.events("NoSuchEvent")
    rid = client.round_open(config, orgs, [[0, 0.2], [0.2, 0]]).round_id
    with pytest.raises(ConfigError, match="settles in ETH"):
        client.token(rid)
    with pytest.raises(ConfigError, match=r"reports\[0\]\.x"):
        client.contribution_table_submit(rid, {0: (-1, 0)})
    with pytest.raises(ConfigError, match=r"outside 0 \.\. 1"):
        client.contribution_table_submit(rid, {5: (1, 1)})
    with pytest.raises(ConfigError, match="no FedSettle contract"):
        SettlementClient.at(anvil, "0x" + "42" * 20).round_count()
    assert client.with_account(org_accounts[0]).account is org_accounts[0]
