"""A cogen consortium.toml and a cogen node.toml: valid files load, every error names the field."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from fl_node.coordinator import ScaffoldOptions, load_consortium_config, scaffold
from fl_node.daemon import ConfigFileError, load_node_config
from fl_node.mechanisms.cogen import CogenTerms

CONSORTIUM = """
[chain]
rpc_url = "http://127.0.0.1:8545"
[chain.operator]
dev_account = 0

[coordinator]
state_dir = "state/coordinator"
mechanism = "cogen"
[coordinator.key]
dev_account = 1

[terms]
a = 2.0
b = 0.5
alpha_D = 0.8
kappa = 0.01
q = 1.0
gamma = [[0.0, 0.1], [0.1, 0.0]]
qbar = [0.25, 0.25, 0.5]
generator = "gmm"

[[silos]]
name = "silo-1"
account = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
s = 400
delta = 0.6
theta = 10.0
x_max = 800
endpoint = "http://127.0.0.1:8601"

[[silos]]
name = "silo-2"
account = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
s = 500
delta = 0.3
theta = 12.0
x_max = 1000
endpoint = "http://127.0.0.1:8602"
"""


def _load(tmp_path: Path, text: str):
    path = tmp_path / "consortium.toml"
    path.write_text(text, encoding="utf-8")
    return load_consortium_config(path)


def _replace(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def test_a_cogen_consortium_loads_into_cogen_terms(tmp_path: Path) -> None:
    config = _load(tmp_path, CONSORTIUM)
    assert config.mechanism == "cogen"
    terms = config.terms
    assert isinstance(terms, CogenTerms)
    assert terms.names == ("silo-1", "silo-2") and terms.D == (400.0, 500.0)
    assert terms.delta == (0.6, 0.3) and terms.theta == (10.0, 12.0)
    assert terms.x_max == (800.0, 1000.0) and terms.gamma == ((0.0, 0.1), (0.1, 0.0))
    assert (terms.a, terms.b, terms.alpha_D, terms.kappa, terms.q) == (2.0, 0.5, 0.8, 0.01, 1.0)
    assert terms.qbar == (0.25, 0.25, 0.5) and terms.generator == "gmm"
    # its round: mechanism 2, slots registered with base = D_i and xMax = x_max
    from fl_node.mechanisms import get_mechanism
    from settlement import MECHANISM_COGEN

    accepted = get_mechanism("cogen").accepted_terms(config, coordinator=None)
    assert accepted.config.mechanism_id == MECHANISM_COGEN
    assert [(o.base, o.x_max, o.f_max) for o in accepted.orgs] == [
        (400, 800000, 0),
        (500, 10**6, 0),
    ]


COGEN_ERRORS = [
    # (old, new, the field named, a word of the fix)
    ("a = 2.0\n", "", "[terms].a is missing", "loss scale"),
    ("b = 0.5", "b = 0", "[terms].b", "> 0"),
    ("alpha_D = 0.8", "alpha_D = -1", "[terms].alpha_D", ">= 0"),
    ("kappa = 0.01", 'kappa = "high"', "[terms].kappa", "number"),
    ("q = 1.0", "q = -0.5", "[terms].q", ">= 0"),
    ("[[0.0, 0.1], [0.1, 0.0]]", "[[0.0, 0.1], [0.2, 0.0]]", "[terms].gamma", "mirror"),
    ("[[0.0, 0.1], [0.1, 0.0]]", "[[0.1, 0.1], [0.1, 0.0]]", "[terms].gamma", "diagonal"),
    ("[[0.0, 0.1], [0.1, 0.0]]", "[[0.0, 0.00001], [0.00001, 0.0]]", "[terms].gamma", "basis"),
    ("[[0.0, 0.1], [0.1, 0.0]]", "[[0.0]]", "[terms].gamma", "match"),
    ("qbar = [0.25, 0.25, 0.5]", "qbar = [0.25, 0.25, 0.25]", "[terms].qbar", "normalize"),
    ("qbar = [0.25, 0.25, 0.5]", "qbar = [-0.25, 0.75, 0.5]", "[terms].qbar", ">= 0"),
    ('generator = "gmm"', 'generator = "gan"', "[terms].generator", "cvae"),
    ("delta = 0.6", "delta = 2.5", "[silos][0].delta", "<= 2.0"),
    ("theta = 12.0", "theta = 0.0", "[silos][1].theta", "> 0"),
    ("x_max = 800", "x_max = 800.5", "[silos][0].x_max", "integer"),
    ("x_max = 1000\n", "", "[silos][1].x_max is missing", "synthetic samples"),
    ("x_max = 800", "x_max = 800\nF_max = 10.0", "[silos][0].F_max is not a known field", ""),
    # a silo whose weight w_i is not positive: the game itself is refused, naming the org
    ("theta = 10.0", "theta = 0.5", "silo-1", "raise its theta"),
]


@pytest.mark.parametrize(("old", "new", "field", "fix"), COGEN_ERRORS)
def test_cogen_consortium_errors_name_the_field_and_the_fix(
    tmp_path: Path, old: str, new: str, field: str, fix: str
) -> None:
    with pytest.raises(ConfigFileError) as info:
        _load(tmp_path, _replace(CONSORTIUM, old, new))
    message = str(info.value)
    assert message.startswith("consortium.toml: "), message
    assert field in message, message
    assert fix.lower() in message.lower(), message


def test_a_config_error_exits_3_from_the_cli(tmp_path: Path) -> None:
    path = tmp_path / "consortium.toml"
    path.write_text(_replace(CONSORTIUM, "delta = 0.6", "delta = 3.0"), encoding="utf-8")
    fedsettle = str(Path(sys.executable).parent / "fedsettle")
    done = subprocess.run(
        [fedsettle, "coordinator", "check", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 3, done.stderr
    assert "[silos][0].delta" in done.stderr


def test_init_writes_a_cogen_consortium_the_silos_agree_with(tmp_path: Path) -> None:
    from fl_node.daemon._cogen import CogenSilo
    from fl_node.flower import load_silo

    paths = scaffold(tmp_path, ScaffoldOptions(silos=3, mechanism="cogen", rounds=1))
    config = load_consortium_config(paths[0])
    terms = config.terms
    assert config.mechanism == "cogen" and isinstance(terms, CogenTerms)
    assert sum(terms.qbar) == pytest.approx(1.0)
    sides = []
    for i, path in enumerate(paths[1:]):
        node = load_node_config(path)
        assert node.cost is None and node.cogen is not None  # no tradefl [cost]
        silo = load_silo({**node.data.node_config(), "silo-name": node.name})
        # each silo's own data confirms its registered D_i and delta_i against qbar
        sides.append(CogenSilo(silo, node.cogen, node.data.seed))
        sides[-1].check(terms, i)
        assert terms.x_max[i] == 2 * terms.D[i]
    lied = CogenTerms(**{**terms.__dict__, "delta": (0.5, *terms.delta[1:])})
    with pytest.raises(ValueError, match=r"terms.delta\[0\] = 0.5 but this silo's label"):
        sides[0].check(lied, 0)
    lied = CogenTerms(**{**terms.__dict__, "D": (terms.D[0] + 1, *terms.D[1:])})
    with pytest.raises(ValueError, match=r"terms.D\[0\] = .* fix the consortium's \[\[silos\]\] s"):
        sides[0].check(lied, 0)


def test_a_node_without_cost_or_cogen_is_refused_and_cogen_needs_a_price(tmp_path: Path) -> None:
    paths = scaffold(tmp_path, ScaffoldOptions(silos=2, mechanism="cogen", rounds=1))
    text = paths[1].read_text()
    bad = tmp_path / "bad.toml"
    bad.write_text(_replace(text, "[cogen]\nprice_per_cpu_second = 100.0\n", ""))
    with pytest.raises(ConfigFileError, match=r"\[cost\] is missing"):
        load_node_config(bad)
    bad.write_text(_replace(text, "price_per_cpu_second = 100.0", "price_per_cpu_second = 0"))
    with pytest.raises(ConfigFileError, match=r"\[cogen\]\.price_per_cpu_second.*> 0"):
        load_node_config(bad)
