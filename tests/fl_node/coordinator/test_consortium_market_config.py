"""A market consortium.toml and a market node.toml: valid files load, every error names the field."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from fl_node.coordinator import ScaffoldOptions, load_consortium_config, scaffold
from fl_node.daemon import ConfigFileError, load_node_config
from fl_node.mechanisms.market import MarketReport, MarketTerms, market_training_size

CONSORTIUM = """
[chain]
rpc_url = "http://127.0.0.1:8545"
[chain.operator]
dev_account = 0

[coordinator]
state_dir = "state/coordinator"
mechanism = "market"
[coordinator.key]
dev_account = 1

[terms]
lambda_pay = 2.0
lambda_prox = 0.1
eta = 0.5
stall_tol = 1e-5

[[silos]]
name = "silo-1"
account = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
N = 97
c = 0.05
K = 15000.0
endpoint = "http://127.0.0.1:8601"

[[silos]]
name = "silo-2"
account = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
N = 131
c = 0.02
K = 0.0
endpoint = "http://127.0.0.1:8602"

[fl]
rounds = 3
"""


def _load(tmp_path: Path, text: str):
    path = tmp_path / "consortium.toml"
    path.write_text(text, encoding="utf-8")
    return load_consortium_config(path)


def _replace(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def test_a_market_consortium_loads_into_market_terms_and_units(tmp_path: Path) -> None:
    from fl_node.mechanisms import get_mechanism
    from settlement import MECHANISM_MARKET

    config = _load(tmp_path, CONSORTIUM)
    assert config.mechanism == "market"
    terms = config.terms
    assert isinstance(terms, MarketTerms)
    assert terms.reports == (
        MarketReport("silo-1", 97, 0.05, 15000.0),
        MarketReport("silo-2", 131, 0.02, 0.0),
    )
    p = terms.params
    assert (p.lambda_pay, p.lambda_prox, p.eta, p.stall_tol) == (2.0, 0.1, 0.5, 1e-5)
    assert [s.s for s in config.silos] == [97, 131]  # N is the silo's data size
    # a market round's default units: K and c with 6 decimals, 1e16 wei per unit of utility
    units = config.units
    assert (units.x_scale, units.f_scale, units.unit_wei) == (10**6, 10**6, 10**16)
    accepted = get_mechanism("market").accepted_terms(config, coordinator="0x" + "11" * 20)
    assert accepted.config.mechanism_id == MECHANISM_MARKET
    assert accepted.config.gamma_wad == 10**16 and accepted.config.d_min_wad == 3
    assert accepted.config.lambda_wad == 2 * 10**18
    assert [(o.base, o.x_max, o.f_max) for o in accepted.orgs] == [
        (97, 15000 * 10**6, 50_000),
        (131, 0, 20_000),
    ]
    # the rule off, and explicit units
    text = _replace(CONSORTIUM, "stall_tol = 1e-5", "free_rider_rule = false")
    text += '\n[units]\nunit_wei = "1000000000"\n'
    config = _load(tmp_path, text)
    assert config.terms.params.stall_tol is None
    assert (config.units.x_scale, config.units.unit_wei) == (10**6, 10**9)


MARKET_ERRORS = [
    # (old, new, the field named, a word of the fix)
    ("lambda_pay = 2.0\n", "", "[terms].lambda_pay is missing", "distance weight"),
    ("lambda_pay = 2.0", "lambda_pay = -1.0", "[terms].lambda_pay", ">= 0"),
    ("lambda_pay = 2.0", "lamda_pay = 2.0", "[terms].lamda_pay is not a known field", "lambda_pay"),
    ("eta = 0.5", "eta = 0", "[terms].eta", "> 0"),
    ("lambda_prox = 0.1", 'lambda_prox = "much"', "[terms].lambda_prox", "number"),
    (
        "stall_tol = 1e-5",
        "stall_tol = 1e-5\nfree_rider_rule = false",
        "[terms].stall_tol",
        "remove",
    ),
    ("N = 97", "N = 97.5", "[silos][0].N", "integer"),
    ("N = 131\n", "", "[silos][1].N is missing", "training samples"),
    ("N = 97", "s = 97", "[silos][0].s is not a field of a market silo", "rename it to N"),
    ("c = 0.05", "c = -0.05", "[silos][0].c", ">= 0"),
    ("c = 0.05", "c = 0.0500001", "[silos][0].c", "1/1000000"),
    ("K = 15000.0", "K = 15000.00000001", "[silos][0].K", "1/1000000"),
    ("K = 0.0\n", "", "[silos][1].K is missing", "eagerness"),
    ("K = 15000.0", "K = 15000.0\np = 1200.0", "[silos][0].p is not a known field", ""),
    ("K = 15000.0", "K = 15000.0\npartition_id = 1", "[silos][0].partition_id", "set it to 0"),
    # the coordinator submits the table
    ('mechanism = "market"', 'mechanism = "market"\nattest = false', "[coordinator].attest", "key"),
    # a market round may run on the deployment engine, which needs its SuperLink
    (
        "[fl]",
        '[runtime]\nmode = "deployment"\n[fl]',
        "[runtime.deployment] is missing",
        "superlink",
    ),
]


@pytest.mark.parametrize(("old", "new", "field", "fix"), MARKET_ERRORS)
def test_market_consortium_errors_name_the_field_and_the_fix(
    tmp_path: Path, old: str, new: str, field: str, fix: str
) -> None:
    with pytest.raises(ConfigFileError) as info:
        _load(tmp_path, _replace(CONSORTIUM, old, new))
    message = str(info.value)
    assert message.startswith("consortium.toml: "), message
    assert field in message, message
    assert fix.lower() in message.lower(), message


def test_a_market_config_error_exits_3_from_the_cli(tmp_path: Path) -> None:
    path = tmp_path / "consortium.toml"
    path.write_text(_replace(CONSORTIUM, "c = 0.05", "c = 0.05000001"), encoding="utf-8")
    fedsettle = str(Path(sys.executable).parent / "fedsettle")
    done = subprocess.run(
        [fedsettle, "coordinator", "check", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 3, done.stderr
    assert "[silos][0].c" in done.stderr and "[units].f_scale" in done.stderr


def test_init_writes_a_market_consortium_the_silos_agree_with(tmp_path: Path) -> None:
    from fl_node.daemon._market import MarketSilo

    paths = scaffold(tmp_path, ScaffoldOptions(silos=3, mechanism="market", rounds=2))
    config = load_consortium_config(paths[0])
    terms = config.terms
    assert config.mechanism == "market" and isinstance(terms, MarketTerms)
    assert config.mode == "embedded" and config.attest and config.fl.rounds == 2
    # N = each slot's training size in the market's split (what the session trains)
    fl = config.fl
    sizes = [market_training_size(fl.dataset, 3, fl.seed, fl.alpha, i) for i in range(3)]
    assert [r.N for r in terms.reports] == sizes
    assert all(r.K > 0 and r.c > 0 for r in terms.reports)
    for i, path in enumerate(paths[1:]):
        node = load_node_config(path)
        assert node.cost is None and node.cogen is None and node.market is not None
        side = MarketSilo(node.name, node.market, node.data)
        assert side.N == sizes[i]
        side.check(terms, i)  # its own N, c and K are registered
    side = MarketSilo("silo-1", load_node_config(paths[1]).market, load_node_config(paths[1]).data)
    first = terms.reports[0]
    lied = MarketTerms(
        (MarketReport("silo-1", sizes[0] * 2, first.c, first.K), *terms.reports[1:]), terms.params
    )
    with pytest.raises(ValueError, match=r"terms.reports\[silo-1\].N = .* the silo registered"):
        side.check(lied, 0)
    with pytest.raises(ValueError, match=r"slot 1 .* set \[data\].partition_id"):
        side.check(terms, 1)
    with pytest.raises(ValueError, match="the market's split depends on the silo count"):
        side.check(MarketTerms(terms.reports[:2], terms.params), 0)


def test_a_market_consortium_on_the_deployment_engine_gives_each_supernode_its_silo(
    tmp_path: Path,
) -> None:
    """`init --mechanism market --runtime deployment`: every daemon's SuperNode node config
    loads exactly the market silo (train size N) the consortium registered for its slot."""
    from fl_node.daemon._daemon import _market_keys
    from fl_node.flower import load_silo

    out = tmp_path / "dep"
    paths = scaffold(out, ScaffoldOptions(silos=3, mechanism="market", runtime="deployment"))
    fedsettle = str(Path(sys.executable).parent / "fedsettle")
    subprocess.run(
        [
            fedsettle,
            "coordinator",
            "credentials",
            "--out",
            str(out / "credentials"),
            "--silos",
            "3",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    config = load_consortium_config(paths[0])
    assert config.mode == "deployment" and config.deployment is not None
    terms = config.terms
    assert isinstance(terms, MarketTerms)
    for i, path in enumerate(paths[1:]):
        node = load_node_config(path)
        assert node.supernode is not None
        keys = _market_keys(node)
        assert keys == {"market-split": "clusters"}  # 3 silos: the label-cluster split
        silo = load_silo({**node.data.node_config(), **keys, "silo-name": node.name})
        assert len(silo.data) == terms.reports[i].N
        assert silo.test is not None and len(silo.test) > 0


def test_a_market_node_needs_its_own_config_and_bundled_data(tmp_path: Path) -> None:
    paths = scaffold(tmp_path, ScaffoldOptions(silos=3, mechanism="market", rounds=1))
    text = paths[1].read_text()
    bad = tmp_path / "bad.toml"
    (tmp_path / "silo.npz").write_bytes(b"")
    cases = [
        ("[market]\n", "[cogen]\nprice_per_cpu_second = 1.0\n[market]\n", "with [cogen]"),
        ("[market]\n", "[cost]\neta = 1.0\nT1 = 0.1\nT3 = 0.1\nF = [1.0]\n[market]\n", "[cost]"),
        ('dataset = "digits"', 'file = "silo.npz"', "[data].dataset"),
        ("K = ", "cc = 1.0\nK = ", "did you mean c"),
    ]
    for old, new, word in cases:
        bad.write_text(_replace(text, old, new))
        with pytest.raises(ConfigFileError) as info:
            load_node_config(bad)
        assert word in str(info.value) and "market" in str(info.value), str(info.value)


def test_node_check_prints_the_market_and_cogen_fields(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from fl_node.cli import main

    market = scaffold(tmp_path / "m", ScaffoldOptions(silos=3, mechanism="market", rounds=1))
    terms = load_consortium_config(market[0]).terms
    capsys.readouterr()
    assert main(["node", "check", "--config", str(market[2]), "--format", "json"]) == 0
    info = json.loads(capsys.readouterr().out)
    own = terms.reports[1]
    assert info["market"] == {"N": own.N, "c": own.c, "K": own.K} and info["s"] == own.N
    assert main(["node", "check", "--config", str(market[2])]) == 0
    entry = capsys.readouterr().out.split("consortium.toml entry:")[1]
    assert f"N = {own.N}\nc = {own.c!r}\nK = {own.K!r}" in entry and "\ns = " not in entry
    cogen = scaffold(tmp_path / "c", ScaffoldOptions(silos=2, mechanism="cogen", rounds=1))
    consortium = load_consortium_config(cogen[0])
    assert main(["node", "check", "--config", str(cogen[1]), "--format", "json"]) == 0
    info = json.loads(capsys.readouterr().out)["cogen"]
    assert info["price_per_cpu_second"] == 100.0
    # the counts give the delta the consortium holds for this silo, against its qbar
    from solver.cogen import heterogeneity

    counts = info["label_counts"]
    assert sum(counts) == consortium.terms.D[0] and len(counts) == len(consortium.terms.qbar)
    delta = float(heterogeneity(counts, consortium.terms.qbar))
    assert delta == pytest.approx(consortium.terms.delta[0], abs=1e-9)
    assert main(["node", "check", "--config", str(cogen[1])]) == 0
    entry = capsys.readouterr().out.split("consortium.toml entry:")[1]
    assert f"# label_counts = {counts}" in entry
