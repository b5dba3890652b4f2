"""EIP-712 attestation of a contribution report (the coordinator's signature).

Typed data (same as ``contracts/lib/Attestation.sol``): domain ``{name: "FedSettle", version: "1",
chainId, verifyingContract}``, primary type
``Contribution(uint256 roundId,uint256 index,address account,uint64 x,uint64 f)``. The chain id
and contract address in the domain make a signature useless on another chain or contract; the
round id in the message makes it useless in another round.
"""

from __future__ import annotations

from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_keys.datatypes import PrivateKey
from eth_utils import keccak

DOMAIN_NAME = "FedSettle"
DOMAIN_VERSION = "1"

_TYPES = {
    "EIP712Domain": [
        {"name": "name", "type": "string"},
        {"name": "version", "type": "string"},
        {"name": "chainId", "type": "uint256"},
        {"name": "verifyingContract", "type": "address"},
    ],
    "Contribution": [
        {"name": "roundId", "type": "uint256"},
        {"name": "index", "type": "uint256"},
        {"name": "account", "type": "address"},
        {"name": "x", "type": "uint64"},
        {"name": "f", "type": "uint64"},
    ],
}


def contribution_typed_data(
    *, chain_id: int, contract: str, round_id: int, index: int, account: str, x: int, f: int
) -> dict[str, Any]:
    """The full EIP-712 message (``eth_signTypedData_v4`` JSON) of one report."""
    return {
        "types": _TYPES,
        "primaryType": "Contribution",
        "domain": {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": chain_id,
            "verifyingContract": contract,
        },
        "message": {"roundId": round_id, "index": index, "account": account, "x": x, "f": f},
    }


def contribution_digest(
    *, chain_id: int, contract: str, round_id: int, index: int, account: str, x: int, f: int
) -> bytes:
    """The 32-byte digest the coordinator signs (equals the contract's ``contributionDigest``)."""
    message = encode_typed_data(
        full_message=contribution_typed_data(
            chain_id=chain_id,
            contract=contract,
            round_id=round_id,
            index=index,
            account=account,
            x=x,
            f=f,
        )
    )
    # EIP-191 version 0x01: keccak(0x19 || 0x01 || domainSeparator || hashStruct(message))
    return keccak(b"\x19" + message.version + message.header + message.body)


def sign_contribution(
    coordinator_key: bytes | str | PrivateKey | Any,
    *,
    chain_id: int,
    contract: str,
    round_id: int,
    index: int,
    account: str,
    x: int,
    f: int,
) -> bytes:
    """The coordinator's 65-byte ``r || s || v`` attestation of one report.

    Parameters
    ----------
    coordinator_key : private key bytes/hex, or a ``LocalAccount``
        The round's coordinator key.

    Returns
    -------
    bytes
        65 bytes, ``v`` in {27, 28}, low ``s`` (what the contract accepts).
    """
    key = getattr(coordinator_key, "key", coordinator_key)
    message = encode_typed_data(
        full_message=contribution_typed_data(
            chain_id=chain_id,
            contract=contract,
            round_id=round_id,
            index=index,
            account=account,
            x=x,
            f=f,
        )
    )
    return bytes(Account.sign_message(message, key).signature)
