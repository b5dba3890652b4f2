"""``fedsettle experiment market`` end to end on a reduced setting (1 seed, 2 rounds, 1 epoch)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fl_node.cli import main


@pytest.fixture(scope="module")
def experiment(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("market")
    rc = main(
        [
            "experiment",
            "market",
            "--seeds",
            "3",
            "--rounds",
            "2",
            "--epochs",
            "1",
            "--out",
            str(out / "fig"),
            "--doc",
            str(out / "market.md"),
        ]
    )
    assert rc == 0
    return out, json.loads((out / "fig" / "market.json").read_text(encoding="utf-8"))


def test_outputs_exist_with_every_method_and_figure(
    experiment: tuple[Path, dict[str, Any]],
) -> None:
    out, res = experiment
    for split in ("clusters", "dirichlet"):
        (run,) = res["runs"][split]
        assert set(run["methods"]) == {
            "local",
            "fedavg",
            "fedprox",
            "ditto",
            "fedamp",
            "cfl",
            "fedfomo",
            "pfedgraph",
            "market",
        }
        assert sorted(i for c in run["methods"]["cfl"]["clusters"] for i in c) == list(range(9))
        assert all(len(m["final"]) == 9 for m in run["methods"].values())
        mk = run["methods"]["market"]
        assert mk["ledger"]["rounds"] == 1
        assert abs(sum(mk["received"])) < 1e-9
    for name in res["figures"]:
        assert (out / "fig" / name).stat().st_size > 1000
    doc = (out / "market.md").read_text(encoding="utf-8")
    assert "| Market (iPFL) |" in doc and "fig/market_accuracy.png" in doc
    assert "Against the paper's claims" in doc
    assert "| FedAMP-style |" in doc and "| CFL-style |" in doc and "| FedFomo-style |" in doc


def test_free_rider_rule_before_and_after(experiment: tuple[Path, dict[str, Any]]) -> None:
    _, res = experiment
    (rob,) = res["robustness"]
    assert not rob["free_rider_no_rule"]["free_rider_rule"] and rob["free_rider"]["free_rider_rule"]
    after = rob["free_rider"]
    assert after["imported_by_others"] == [0, 0] and after["paid_by_importers"] == [0.0, 0.0]
    assert after["distance_own_group"] == [2.0, 2.0] == after["distance_other_groups"]
    assert rob["free_rider_no_rule"]["distance_own_group"] == [1.0, 1.0]


def test_binding_cancels_the_size_lie_and_catches_phantoms(
    experiment: tuple[Path, dict[str, Any]],
) -> None:
    _, res = experiment
    (mr,) = res["misreport"]
    n = mr["true_N"]
    assert mr["size_x2_unbound"]["accepted_N"] == 2 * n
    bound = mr["size_x2_bound"]
    assert bound["binding"]["passed"] and bound["accepted_N"] == n
    for key in ("liar_received_gain", "liar_true_utility_gain", "others_accuracy_gain"):
        assert bound[key] == 0.0  # the bound run is the truthful run
    assert not mr["size_x2_phantom_bound"]["binding"]["passed"]
    dup = mr["size_x2_noisy_duplicates_bound"]
    assert dup["binding"]["passed"] and dup["accepted_N"] == 2 * n  # the documented limit


def test_cli_rejects_bad_options_with_the_field_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["experiment", "market", "--rounds", "1"]) == 2
    assert "--rounds 1" in capsys.readouterr().err
