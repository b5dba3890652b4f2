"""Binding a silo's reported data size N_i to something the coordinator can check.

At join a silo commits to its training set: one SHA-256 leaf per sample (over the sample's
canonical bytes), leaves **sorted**, a Merkle tree over them, and the commitment
``H(0x02 || n || root)`` that fixes the leaf count n. The coordinator then draws random leaf
indices; for each index k the silo opens leaves k and k+1 (the sample, its leaf and the Merkle
path). The coordinator verifies every path against the commitment, recomputes each leaf from the
revealed sample, checks the sample is well formed (feature count, finite values, label range) and
that leaf k < leaf k+1 strictly. Every round the silo also reports which committed leaves it
trained on; the coordinator accepts

    N_i = min(reported N_i, committed n_i, distinct trained leaves this round)

and only if the challenges passed (:func:`accepted_size`).

What it prevents
    - *Phantom samples*: leaves without a preimage (random hashes padding the count). A
      challenge landing on one cannot be answered.
    - *Exact duplicates*: the same sample committed twice gives equal adjacent sorted leaves, which
      a challenge on either position exposes.
    - *Changing the data after join*: the commitment is fixed; N_i can only go down (fewer trained
      samples), never above the committed n_i.
    - *Claiming more than was trained*: the per-round count is bounded by the distinct committed
      leaves the silo reports having trained (their openings can be spot-checked the same way).

    With b bad leaves among n and k independent uniform challenges, a liar survives with
    probability (1 - b/n)^k (:func:`detection_probability`); a x2 liar has b/n >= 1/2 (phantoms,
    or one of each equal adjacent pair), so 20 challenges catch it with probability 1 - 2^-20.

What it does not prevent
    - *Fabricated or near-duplicate samples*: a sample plus tiny noise, an augmentation, or a
      synthetic sample hashes as a distinct, well-formed leaf and answers every challenge. Only an
      external check closes this: leaves signed by a data authority (provenance), or a
      near-duplicate / plausibility test of the opened samples by the coordinator (which catches a
      copy only when both copies are opened).
    - *Training on the committed samples*: the trained count is the silo's report; without
      verifiable computation (a TEE, or proofs of training) a silo can claim to train leaves it
      skipped. What the count buys is that it cannot exceed the committed, openable leaves.
    - *Data quality*: a committed sample can be mislabeled or irrelevant.
    - *Privacy*: an opened sample is revealed to the coordinator (2 samples per challenge).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "ChallengeResult",
    "Commitment",
    "MerkleTree",
    "Opening",
    "accepted_size",
    "challenge_indices",
    "challenges_needed",
    "detection_probability",
    "honest_responder",
    "leaf_hash",
    "verify_openings",
    "verify_path",
]

LEAF, NODE, ROOT = b"\x00", b"\x01", b"\x02"


def leaf_hash(x: NDArray[np.floating], y: int) -> bytes:
    """SHA-256 leaf of one sample: its label (int64 LE) and features (float32 LE)."""
    feats = np.ascontiguousarray(np.asarray(x, dtype="<f4")).tobytes()
    return hashlib.sha256(LEAF + int(y).to_bytes(8, "little", signed=True) + feats).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE + left + right).digest()


def _seal(n: int, top: bytes) -> bytes:
    return hashlib.sha256(ROOT + n.to_bytes(8, "little") + top).digest()


@dataclass(frozen=True)
class Commitment:
    """What a silo publishes at join: the sealed root (binds the leaf count) and n."""

    root: bytes
    n: int


@dataclass(frozen=True)
class Opening:
    """Leaf ``index`` opened: the sample (``x``, ``y``) and the Merkle path (bottom up)."""

    index: int
    x: NDArray[np.float32]
    y: int
    path: tuple[bytes, ...]


class MerkleTree:
    """Merkle tree over sorted leaves; an odd node at the end of a level is promoted unchanged.

    Parameters
    ----------
    leaves
        Leaf hashes in any order (sorted here). ``order[k]`` is the position in the input of
        sorted leaf k.
    """

    def __init__(self, leaves: Sequence[bytes]) -> None:
        if not leaves:
            raise ValueError("cannot commit to an empty dataset")
        self.order = sorted(range(len(leaves)), key=lambda k: leaves[k])
        level = [leaves[k] for k in self.order]
        self.levels: list[list[bytes]] = [level]
        while len(level) > 1:
            nxt = [_node(level[k], level[k + 1]) for k in range(0, len(level) - 1, 2)]
            if len(level) % 2:
                nxt.append(level[-1])
            self.levels.append(nxt)
            level = nxt
        self.commitment = Commitment(_seal(len(leaves), level[0]), len(leaves))

    @classmethod
    def of_samples(cls, x: NDArray[np.floating], y: NDArray[np.integer]) -> MerkleTree:
        """The tree of a dataset's samples (one leaf per row)."""
        return cls([leaf_hash(x[k], int(y[k])) for k in range(len(y))])

    def leaf(self, index: int) -> bytes:
        return self.levels[0][index]

    def path(self, index: int) -> tuple[bytes, ...]:
        """Sibling hashes from the leaf up (levels where the node was promoted have none)."""
        if not 0 <= index < self.commitment.n:
            raise IndexError(f"leaf index {index} is outside [0, {self.commitment.n})")
        out = []
        k = index
        for level in self.levels[:-1]:
            sib = k ^ 1
            if sib < len(level):
                out.append(level[sib])
            k //= 2
        return tuple(out)


def verify_path(commitment: Commitment, index: int, leaf: bytes, path: Sequence[bytes]) -> bool:
    """True when ``leaf`` at ``index`` and ``path`` recompute ``commitment``."""
    n = commitment.n
    if not 0 <= index < n:
        return False
    h, k, size, it = leaf, index, n, iter(path)
    while size > 1:
        sib = k ^ 1
        if sib < size:
            s = next(it, None)
            if s is None:
                return False
            h = _node(h, s) if k % 2 == 0 else _node(s, h)
        k //= 2
        size = (size + 1) // 2
    return next(it, None) is None and _seal(n, h) == commitment.root


def challenge_indices(commitment: Commitment, k: int, rng: np.random.Generator) -> list[int]:
    """k leaf indices drawn uniformly with replacement (the coordinator's randomness)."""
    if k < 1:
        raise ValueError(f"the number of challenges must be >= 1; got {k}")
    return [int(v) for v in rng.integers(0, commitment.n, size=k)]


@dataclass(frozen=True)
class ChallengeResult:
    """Outcome of :func:`verify_openings`: passed, and one message per failure."""

    passed: bool
    failures: tuple[str, ...]


Responder = Callable[[int], Opening | None]


def verify_openings(
    commitment: Commitment,
    indices: Sequence[int],
    respond: Responder,
    *,
    n_features: int,
    n_classes: int,
) -> ChallengeResult:
    """Challenge leaves ``indices`` (and each one's right neighbour) through ``respond``.

    ``respond(k)`` is the silo's answer for leaf k: an :class:`Opening`, or None when it cannot
    open the leaf. Every opening must verify against ``commitment``, its sample must be well formed
    and hash to the opened leaf, and the opened leaves must increase strictly at k, k+1.
    """
    fails: list[str] = []
    for k in indices:
        leaves: list[bytes] = []
        for j in (k, k + 1) if k + 1 < commitment.n else (k,):
            op = respond(j)
            if op is None or op.index != j:
                fails.append(f"leaf {j}: not opened")
                break
            x = np.asarray(op.x)
            if x.shape != (n_features,) or not np.all(np.isfinite(x)):
                fails.append(f"leaf {j}: malformed features (shape {x.shape})")
                break
            if not 0 <= op.y < n_classes:
                fails.append(f"leaf {j}: label {op.y} outside [0, {n_classes})")
                break
            leaf = leaf_hash(x, op.y)
            if not verify_path(commitment, j, leaf, op.path):
                fails.append(f"leaf {j}: Merkle path does not verify")
                break
            leaves.append(leaf)
        else:
            if len(leaves) == 2 and not leaves[0] < leaves[1]:
                fails.append(f"leaves {k}, {k + 1}: not strictly increasing (duplicate sample)")
    return ChallengeResult(not fails, tuple(fails))


def detection_probability(bad: int, n: int, k: int) -> float:
    """Probability that k uniform challenges (with replacement) hit at least one of ``bad`` of
    ``n`` leaves: 1 - (1 - bad/n)^k."""
    if not 0 <= bad <= n or n < 1 or k < 0:
        raise ValueError(f"need 0 <= bad <= n, n >= 1, k >= 0; got bad={bad}, n={n}, k={k}")
    return 1.0 - (1.0 - bad / n) ** k


def challenges_needed(bad_share: float, target: float) -> int:
    """Fewest challenges catching a liar with ``bad_share`` bad leaves with probability >= target."""
    if not 0 < bad_share <= 1 or not 0 < target < 1:
        raise ValueError(f"need bad_share in (0, 1], target in (0, 1); got {bad_share}, {target}")
    if bad_share == 1:
        return 1
    return math.ceil(math.log(1 - target) / math.log(1 - bad_share))


def accepted_size(
    reported: float, commitment: Commitment, trained: Sequence[int], result: ChallengeResult
) -> int:
    """N_i the coordinator accepts: min(reported, committed n, distinct trained leaves).

    Raises
    ------
    ValueError
        When the challenges failed (the silo is excluded, not paid on a smaller N), or a trained
        leaf index lies outside the commitment.
    """
    if not result.passed:
        raise ValueError(f"size challenges failed: {'; '.join(result.failures)}")
    bad = [t for t in trained if not 0 <= t < commitment.n]
    if bad:
        raise ValueError(f"trained leaf {bad[0]} is outside the commitment [0, {commitment.n})")
    return int(min(math.floor(reported), commitment.n, len(set(trained))))


def honest_responder(
    tree: MerkleTree, x: NDArray[np.floating], y: NDArray[np.integer]
) -> Responder:
    """The silo side: open sorted leaf k from the dataset ``(x, y)`` the tree was built from."""

    def respond(k: int) -> Opening | None:
        if not 0 <= k < tree.commitment.n:
            return None
        row = tree.order[k]
        return Opening(k, np.asarray(x[row], dtype=np.float32), int(y[row]), tree.path(k))

    return respond
