"""The digests the contract computes, recomputed in Python: orgs, rho, parameters, payoffs."""

from __future__ import annotations

from collections.abc import Sequence

from eth_abi import encode as abi_encode
from eth_utils import keccak

from settlement._fixedpoint import rho_chunks
from settlement._types import OrgSpec, RoundConfig

_CONFIG_ABI = "(uint8,address,address,uint256,uint256,uint256,uint64,uint64,uint64,uint64)"


def org_table_bytes(orgs: Sequence[OrgSpec]) -> bytes:
    """The org table's rows: ``account (20) | xMax (8) | fMax (8) | base (8)`` per slot."""
    return b"".join(
        bytes.fromhex(o.account[2:])
        + o.x_max.to_bytes(8, "big")
        + o.f_max.to_bytes(8, "big")
        + o.base.to_bytes(8, "big")
        for o in orgs
    )


def orgs_hash(orgs: Sequence[OrgSpec]) -> bytes:
    """The round's ``orgsHash``: ``keccak256(0x00 || rows)`` (the org table code without the terms)."""
    return keccak(b"\x00" + org_table_bytes(orgs))


def rho_hash(triangle: bytes) -> bytes:
    """Chained hash of the stored chunks: ``h_{k+1} = keccak256(h_k || keccak256(chunk_k))``."""
    h = b"\x00" * 32
    for chunk in rho_chunks(triangle):
        h = keccak(h + keccak(chunk))
    return h


def params_digest(
    *,
    chain_id: int,
    contract: str,
    round_id: int,
    config: RoundConfig,
    orgs: Sequence[OrgSpec],
    triangle: bytes,
) -> bytes:
    """The contract's ``paramsDigest``: every number of the round in one hash.

    ``keccak256(abi.encode(chainId, contract, roundId, config, orgsHash, rhoHash))``.
    """
    return keccak(
        abi_encode(
            ["uint256", "address", "uint256", _CONFIG_ABI, "bytes32", "bytes32"],
            [chain_id, contract, round_id, config.to_abi(), orgs_hash(orgs), rho_hash(triangle)],
        )
    )


def payoff_digest(
    accounts: Sequence[str], scores: Sequence[int], payoffs_wei: Sequence[int]
) -> bytes:
    """The contract's payoff digest of a settled round.

    ``d_0 = 0``, ``d_{i+1} = keccak256(abi.encode(d_i, i, account_i, score_i, payoff_i))`` over
    every slot ``i = 0..n-1``, with score and payoff 0 for slots that never deposited.
    """
    if not len(accounts) == len(scores) == len(payoffs_wei):
        raise ValueError("payoff_digest: accounts, scores and payoffs must have equal lengths")
    d = b"\x00" * 32
    for i, (a, s, p) in enumerate(zip(accounts, scores, payoffs_wei, strict=True)):
        d = keccak(
            abi_encode(["bytes32", "uint256", "address", "uint256", "int256"], [d, i, a, s, p])
        )
    return d
