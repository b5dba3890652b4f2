"""Merkle commitment to a silo's samples: proofs, challenges, liars caught, detection formula."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from fl_node.market import (
    ChallengeResult,
    Commitment,
    MerkleTree,
    Opening,
    accepted_size,
    challenge_indices,
    challenges_needed,
    detection_probability,
    honest_responder,
    leaf_hash,
    verify_openings,
    verify_path,
)


def _data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 6)).astype(np.float32), rng.integers(0, 3, size=n)


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 13])
def test_every_leaf_proof_verifies_and_a_tampered_one_does_not(n: int) -> None:
    x, y = _data(n)
    tree = MerkleTree.of_samples(x, y)
    c = tree.commitment
    assert c.n == n
    for k in range(n):
        assert verify_path(c, k, tree.leaf(k), tree.path(k))
        assert not verify_path(c, k, hashlib.sha256(b"other").digest(), tree.path(k))
        if n > 1:
            assert not verify_path(c, (k + 1) % n, tree.leaf(k), tree.path(k))
    # the commitment binds the count: the same top hash under another n does not verify
    assert not verify_path(Commitment(c.root, n + 1), 0, tree.leaf(0), tree.path(0))


def test_leaves_are_sorted_and_order_maps_back_to_samples() -> None:
    x, y = _data(10)
    tree = MerkleTree.of_samples(x, y)
    leaves = [tree.leaf(k) for k in range(10)]
    assert leaves == sorted(leaves)
    assert all(tree.leaf(k) == leaf_hash(x[tree.order[k]], y[tree.order[k]]) for k in range(10))


def test_honest_silo_passes_and_gets_min_of_reported_committed_trained() -> None:
    x, y = _data(40)
    tree = MerkleTree.of_samples(x, y)
    c = tree.commitment
    rng = np.random.default_rng(1)
    res = verify_openings(
        c, challenge_indices(c, 20, rng), honest_responder(tree, x, y), n_features=6, n_classes=3
    )
    assert res.passed and res.failures == ()
    assert accepted_size(80.0, c, list(range(40)), res) == 40  # x2 report cut to the commitment
    assert accepted_size(40.0, c, list(range(30)) * 2, res) == 30  # trained 30 distinct leaves
    with pytest.raises(ValueError, match="outside the commitment"):
        accepted_size(40.0, c, [40], res)


def test_phantom_liar_is_caught_and_excluded() -> None:
    """Doubles its count with random leaves it cannot open."""
    x, y = _data(30)
    real = [leaf_hash(x[k], y[k]) for k in range(30)]
    phantom = [hashlib.sha256(b"phantom%d" % k).digest() for k in range(30)]
    tree = MerkleTree(real + phantom)
    honest = honest_responder(tree, x, y)

    def respond(k: int) -> Opening | None:
        return honest(k) if tree.order[k] < 30 else None

    c = tree.commitment
    res = verify_openings(
        c, challenge_indices(c, 20, np.random.default_rng(3)), respond, n_features=6, n_classes=3
    )
    assert not res.passed
    assert any("not opened" in f for f in res.failures)
    with pytest.raises(ValueError, match="challenges failed"):
        accepted_size(60.0, c, list(range(60)), res)


def test_exact_duplicate_liar_is_caught_by_the_sorted_order() -> None:
    x, y = _data(25)
    x2, y2 = np.concatenate([x, x]), np.concatenate([y, y])
    tree = MerkleTree.of_samples(x2, y2)
    c = tree.commitment
    res = verify_openings(
        c,
        challenge_indices(c, 20, np.random.default_rng(4)),
        honest_responder(tree, x2, y2),
        n_features=6,
        n_classes=3,
    )
    assert not res.passed
    assert any("duplicate" in f for f in res.failures)


def test_noisy_duplicate_liar_is_not_caught() -> None:
    """The documented limit: a copy plus tiny noise is a distinct, well-formed sample."""
    x, y = _data(25)
    x2 = np.concatenate([x, x + np.float32(1e-3)])
    y2 = np.concatenate([y, y])
    tree = MerkleTree.of_samples(x2, y2)
    c = tree.commitment
    res = verify_openings(
        c, list(range(c.n)), honest_responder(tree, x2, y2), n_features=6, n_classes=3
    )
    assert res.passed
    assert accepted_size(50.0, c, list(range(50)), res) == 50


def test_malformed_and_forged_openings_fail() -> None:
    x, y = _data(8)
    tree = MerkleTree.of_samples(x, y)
    c = tree.commitment
    honest = honest_responder(tree, x, y)
    op = honest(2)
    assert op is not None

    def forged(k: int) -> Opening | None:
        o = honest(k)
        assert o is not None
        return Opening(k, o.x + 1, o.y, o.path) if k == 2 else o

    res = verify_openings(c, [2], forged, n_features=6, n_classes=3)
    assert res.failures == ("leaf 2: Merkle path does not verify",)
    assert not verify_openings(c, [2], honest, n_features=5, n_classes=3).passed
    assert not verify_openings(c, [2], honest, n_features=6, n_classes=int(op.y)).passed


def test_detection_probability_matches_measured_catch_rate() -> None:
    """1 - (1 - b/n)^k against 400 challenge draws of a real half-phantom liar."""
    x, y = _data(20)
    real = [leaf_hash(x[k], y[k]) for k in range(20)]
    tree = MerkleTree(real + [hashlib.sha256(b"p%d" % k).digest() for k in range(20)])
    honest = honest_responder(tree, x, y)
    c = tree.commitment
    bad = {k for k in range(c.n) if tree.order[k] >= 20}
    # only the challenged index itself counts as a hit when its neighbour is honest: measure the
    # bad positions the way the verifier sees them (k bad, or k+1 bad)
    hit = {k for k in range(c.n) if k in bad or (k + 1 < c.n and k + 1 in bad)}
    rng = np.random.default_rng(5)
    k_ch = 2
    caught = 0
    trials = 400
    for _ in range(trials):
        idx = challenge_indices(c, k_ch, rng)
        res = verify_openings(
            c,
            idx,
            lambda j: honest(j) if j not in bad else None,
            n_features=6,
            n_classes=3,
        )
        caught += not res.passed
    p = detection_probability(len(hit), c.n, k_ch)
    sd = np.sqrt(p * (1 - p) / trials)
    assert abs(caught / trials - p) < 4 * sd
    assert detection_probability(1, 2, 20) == pytest.approx(1 - 2**-20)
    assert challenges_needed(0.5, 1 - 1e-6) == 20
    assert detection_probability(0, 10, 5) == 0.0


def test_bad_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="empty dataset"):
        MerkleTree([])
    with pytest.raises(ValueError, match="bad <= n"):
        detection_probability(3, 2, 1)
    with pytest.raises(ValueError, match="bad_share"):
        challenges_needed(0.0, 0.5)
    assert not ChallengeResult(False, ("x",)).passed
