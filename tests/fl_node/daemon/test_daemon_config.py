"""node.toml and consortium.toml validation: every error names the file, the field and the fix."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from eth_account import Account

from fl_node.coordinator import load_consortium_config
from fl_node.daemon import ConfigFileError, load_node_config

NODE = """
[silo]
name = "silo-1"

[chain]
rpc_url = "http://127.0.0.1:8545"
contract = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
max_bond_wei = "1000000000000000000"

[key]
dev_account = 2

[cost]
eta = 2.0
T1 = 0.05
T3 = 0.05
F = [800.0, 1600.0, 2400.0]

[data]
dataset = "digits"
partition_id = 0
num_partitions = 3

[agent]
port = 8601

[state]
dir = "state/silo-1"
"""

CONSORTIUM = """
[chain]
rpc_url = "http://127.0.0.1:8545"
[chain.operator]
dev_account = 0

[coordinator]
state_dir = "state/coordinator"
[coordinator.key]
dev_account = 1

[terms]
gamma = 0.004
lam = 0.05
w_e = 1.0
kappa = 2e-10
G = 10.0
D_min = 0.2
A0 = 1.0
tau = 0.6
rho = [[0.0, 0.05], [0.05, 0.0]]

[[silos]]
name = "silo-1"
account = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
s = 400
F_max = 4000.0
p = 1200.0
endpoint = "http://127.0.0.1:8601"

[[silos]]
name = "silo-2"
account = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
s = 500
F_max = 3000.0
p = 900.0
endpoint = "http://127.0.0.1:8602"
"""


def _write(tmp_path: Path, text: str, name: str = "node.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _replace(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def test_valid_node_config_loads_with_paths_relative_to_the_file(tmp_path: Path) -> None:
    config = load_node_config(_write(tmp_path, NODE))
    assert config.name == "silo-1"
    assert config.chain.max_bond_wei == 10**18
    assert config.chain.contract == "0x5FbDB2315678afecb367f032d93F642f64180aa3"
    assert config.cost.F == (800.0, 1600.0, 2400.0)
    assert config.state_dir == tmp_path / "state" / "silo-1"
    assert config.key.load().address == "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
    assert config.data.node_config()["num-partitions"] == 3
    assert config.supernode is None


USD = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"


def test_a_token_is_read_from_both_configs(tmp_path: Path) -> None:
    """``[chain].token``: the asset the consortium settles in and the one a silo accepts."""
    node = load_node_config(_write(tmp_path, NODE))
    consortium = load_consortium_config(_write(tmp_path, CONSORTIUM, "consortium.toml"))
    assert node.chain.token is None and consortium.token is None  # ETH
    line = 'max_bond_wei = "1000000000000000000"'
    node = load_node_config(_write(tmp_path, _replace(NODE, line, f'{line}\ntoken = "{USD}"')))
    assert node.chain.token == USD
    text = _replace(CONSORTIUM, "[chain.operator]", f'token = "{USD.lower()}"\n[chain.operator]')
    assert load_consortium_config(_write(tmp_path, text, "consortium.toml")).token == USD


NODE_ERRORS = [
    # (old, new, the field named, a word of the fix)
    ('rpc_url = "http://127.0.0.1:8545"\n', "", "[chain].rpc_url is missing", "JSON-RPC URL"),
    ('rpc_url = "http://127.0.0.1:8545"', 'rpc_url = "127.0.0.1:8545"', "[chain].rpc_url", "http"),
    ("0x5FbDB2315678afecb367f032d93F642f64180aa3", "0x5FbDB23", "[chain].contract", "40 hex"),
    ('max_bond_wei = "1000000000000000000"', "max_bond_wei = -1", "[chain].max_bond_wei", "wei"),
    (
        'max_bond_wei = "1000000000000000000"',
        'max_bond_wei = "1e18"',
        "[chain].max_bond_wei",
        "integer",
    ),
    ("F = [800.0, 1600.0, 2400.0]", "F = [1600.0, 800.0]", "[cost].F", "ascending"),
    ("F = [800.0, 1600.0, 2400.0]", "F = []", "[cost].F", "compute levels"),
    ("eta = 2.0", "eta = 0", "[cost].eta", "epochs"),
    ("T1 = 0.05", 'T1 = "fast"', "[cost].T1", "number"),
    ('dataset = "digits"', 'dataset = "mnist"', "[data].dataset", "digits"),
    ("partition_id = 0", "partition_id = 3", "[data].partition_id", "n-1"),
    ("dev_account = 2", "dev_account = -1", "[key].dev_account", "anvil"),
    ("dev_account = 2", 'keystore = "k.json"', "[key].password_env is missing", "environment"),
    ("dev_account = 2", "", "[key] names no key", "keystore"),
    ("port = 8601", "port = 70000", "[agent].port", "65535"),
    ("port = 8601", "prot = 8601", "[agent].prot is not a known field", "did you mean port"),
    ('[silo]\nname = "silo-1"\n', "", "[silo] is missing", "name"),
    (
        'max_bond_wei = "1000000000000000000"',
        'max_bond_wei = "1000000000000000000"\ntoken = "USDC"',
        "[chain].token",
        "ERC-20",
    ),
    ('dir = "state/silo-1"', "", "[state].dir is missing", "directory"),
]


@pytest.mark.parametrize(("old", "new", "field", "fix"), NODE_ERRORS)
def test_node_config_errors_name_the_field_and_the_fix(
    tmp_path: Path, old: str, new: str, field: str, fix: str
) -> None:
    path = _write(tmp_path, _replace(NODE, old, new))
    with pytest.raises(ConfigFileError) as info:
        load_node_config(path)
    message = str(info.value)
    assert message.startswith("node.toml: "), message
    assert field in message
    assert fix.lower() in message.lower()


def test_missing_chain_rpc_url_message_is_the_documented_one(tmp_path: Path) -> None:
    path = _write(tmp_path, _replace(NODE, 'rpc_url = "http://127.0.0.1:8545"\n', ""))
    with pytest.raises(ConfigFileError) as info:
        load_node_config(path)
    assert str(info.value) == (
        "node.toml: [chain].rpc_url is missing; set it to the JSON-RPC URL of the chain, "
        "e.g. http://127.0.0.1:8545"
    )


def test_unreadable_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigFileError, match="no such config file"):
        load_node_config(tmp_path / "absent.toml")
    with pytest.raises(ConfigFileError, match=r"node.toml: not valid TOML"):
        load_node_config(_write(tmp_path, "[silo\nname="))


def test_supernode_section_requires_tls_or_insecure(tmp_path: Path) -> None:
    text = NODE + '\n[supernode]\nsuperlink = "127.0.0.1:9092"\n'
    with pytest.raises(ConfigFileError, match=r"\[supernode\]\.root_certificates is missing"):
        load_node_config(_write(tmp_path, text))
    bad = NODE + '\n[supernode]\nsuperlink = "https://x:9092"\ninsecure = true\n'
    with pytest.raises(ConfigFileError, match=r"\[supernode\]\.superlink .*host:port"):
        load_node_config(_write(tmp_path, bad))
    ok = NODE + '\n[supernode]\nsuperlink = "127.0.0.1:9092"\ninsecure = true\nport = 9100\n'
    config = load_node_config(_write(tmp_path, ok))
    assert config.supernode is not None and config.supernode.port == 9100


def test_keystore_key_loads_and_wrong_password_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = Account.create()
    keystore = tmp_path / "keys" / "silo.json"
    keystore.parent.mkdir()
    keystore.write_text(json.dumps(Account.encrypt(account.key, "s3cret", iterations=2**10)))
    text = _replace(
        NODE, "dev_account = 2", 'keystore = "keys/silo.json"\npassword_env = "SILO_TEST_PW"'
    )
    config = load_node_config(_write(tmp_path, text))
    monkeypatch.delenv("SILO_TEST_PW", raising=False)
    with pytest.raises(ConfigFileError, match=r"\[key\]\.password_env: .*SILO_TEST_PW is unset"):
        config.key.load()
    monkeypatch.setenv("SILO_TEST_PW", "wrong")
    with pytest.raises(ConfigFileError, match=r"does not decrypt"):
        config.key.load()
    monkeypatch.setenv("SILO_TEST_PW", "s3cret")
    assert config.key.load().address == account.address
    (tmp_path / "keys" / "silo.json").unlink()
    with pytest.raises(ConfigFileError, match=r"\[key\]\.keystore: .* does not exist"):
        config.key.load()


def test_valid_consortium_config_loads(tmp_path: Path) -> None:
    config = load_consortium_config(_write(tmp_path, CONSORTIUM, "consortium.toml"))
    assert [s.name for s in config.silos] == ["silo-1", "silo-2"]
    assert config.terms.names == ("silo-1", "silo-2")
    assert config.terms.p == (1200.0, 900.0)
    assert all(isinstance(v, float) for row in config.terms.rho for v in row)
    assert config.attest and config.contract is None and config.mode == "embedded"
    assert config.units.unit_wei == 10**18


CONSORTIUM_ERRORS = [
    (
        "rho = [[0.0, 0.05], [0.05, 0.0]]",
        "rho = [[0.0, 0.05], [0.04, 0.0]]",
        "[terms].rho",
        "symmetric",
    ),
    ("rho = [[0.0, 0.05], [0.05, 0.0]]", "rho = [[0.0, 0.05]]", "[terms].rho", "square"),
    (
        "rho = [[0.0, 0.05], [0.05, 0.0]]",
        "rho = [[0.1, 0.05], [0.05, 0.0]]",
        "[terms].rho",
        "diagonal",
    ),
    (
        "rho = [[0.0, 0.05], [0.05, 0.0]]",
        "rho = [[0.0, 0.00005], [0.00005, 0.0]]",
        "[terms].rho",
        "basis",
    ),
    ("gamma = 0.004", "", "[terms].gamma is missing", "incentive"),
    ("D_min = 0.2", "D_min = 1.5", "[terms].D_min", "<= 1.0"),
    (
        'endpoint = "http://127.0.0.1:8602"',
        'endpoint = "http://127.0.0.1:8601"',
        "[silos][1].endpoint",
        "its own",
    ),
    ("s = 500", "s = 500.5", "[silos][1].s", "integer"),
    (
        'account = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"',
        'account = "bob"',
        "[silos][1].account",
        "address",
    ),
    ("[chain.operator]\ndev_account = 0\n", "", "[chain.operator] is missing", "dev_account"),
    ("[chain.operator]", 'token = "0x12"\n[chain.operator]', "[chain].token", "ERC-20"),
    (
        'state_dir = "state/coordinator"',
        'state_dir = "state/coordinator"\nmechanism = "market"',
        "[silos][0].s is not a field of a market silo",  # a market silo registers N, c, K
        "rename it to N",
    ),
    ("[coordinator.key]\ndev_account = 1\n", "", "[coordinator.key] is missing", "keystore"),
    (
        'state_dir = "state/coordinator"',
        'state_dir = "state/coordinator"\nmode = "x"',
        "[coordinator].mode is not a known field",
        "remove",
    ),
]


@pytest.mark.parametrize(("old", "new", "field", "fix"), CONSORTIUM_ERRORS)
def test_consortium_config_errors_name_the_field_and_the_fix(
    tmp_path: Path, old: str, new: str, field: str, fix: str
) -> None:
    path = _write(tmp_path, _replace(CONSORTIUM, old, new), "consortium.toml")
    with pytest.raises(ConfigFileError) as info:
        load_consortium_config(path)
    message = str(info.value)
    assert message.startswith("consortium.toml: "), message
    assert field in message
    assert fix.lower() in message.lower()


def test_deployment_runtime_needs_supernode_keys(tmp_path: Path) -> None:
    text = CONSORTIUM + (
        '\n[runtime]\nmode = "deployment"\n[runtime.deployment]\nsuperlink = "127.0.0.1:9092"\n'
        'root_certificates = "tls/ca.crt"\nssl_certfile = "tls/s.pem"\nssl_keyfile = "tls/s.key"\n'
    )
    with pytest.raises(ConfigFileError, match=re.escape("[silos][0].supernode_public_key")):
        load_consortium_config(_write(tmp_path, text, "consortium.toml"))
    with pytest.raises(ConfigFileError, match=r"\[runtime\]\.mode .*'embedded' or 'deployment'"):
        load_consortium_config(
            _write(tmp_path, CONSORTIUM + '\n[runtime]\nmode = "cloud"\n', "consortium.toml")
        )


def test_the_superlink_keeps_memory_state_unless_the_file_is_asked_for(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``[runtime.deployment].superlink_state``: Flower's in-memory state by default (no
    ``--database``), a SQLite file with ``"file"``; any other value names the field and the two
    options."""
    from fl_node.cli import main
    from fl_node.coordinator import superlink_argv

    out = tmp_path / "dep"
    assert main(["coordinator", "init", "--out", str(out), "--runtime", "deployment"]) == 0
    capsys.readouterr()
    path = out / "consortium.toml"
    text = path.read_text()
    assert 'superlink_state = "memory"' in text
    db = tmp_path / "superlink.db"
    memory = load_consortium_config(path).deployment
    assert memory is not None and memory.superlink_state == "memory"
    assert "--database" not in superlink_argv(memory, db, "flower-superlink")
    path.write_text(text.replace('superlink_state = "memory"', 'superlink_state = "file"'))
    file = load_consortium_config(path).deployment
    assert file is not None
    argv = superlink_argv(file, db, "flower-superlink")
    assert argv[argv.index("--database") + 1] == str(db)
    path.write_text(text.replace('superlink_state = "memory"', 'superlink_state = "disk"'))
    with pytest.raises(ConfigFileError) as err:
        load_consortium_config(path)
    message = str(err.value)
    assert "[runtime.deployment].superlink_state" in message
    assert "'memory' or 'file'" in message
