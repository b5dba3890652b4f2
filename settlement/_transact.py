"""Sending transactions: explicit nonces, pre-flight revert decoding, receipts.

Every state-changing call goes through :class:`Transactor`: it estimates gas first (so a revert is
decoded into the contract's Python exception before anything is signed), signs locally with the
sender's key, sends with a nonce from :class:`NonceManager`, waits for the receipt and returns a
:class:`Receipt`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn, cast

from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import Web3
from web3.types import RPCEndpoint

from settlement._errors import ErrorDecoder, TransactionFailed
from settlement._types import Wei

#: mainnet's per-transaction gas cap; the gas margin never pushes a transaction over it
TX_GAS_CAP = 16_777_216

#: seconds a fetched base fee is reused before asking the node again
BASE_FEE_TTL = 2.0

_NONCE_ERRORS = ("nonce too low", "nonce too high", "already known", "invalid nonce")


@dataclass(frozen=True)
class EventRecord:
    """One decoded contract event.

    Attributes
    ----------
    name : str
        Event name (``"DepositSubmitted"``).
    args : dict
        Arguments by their Solidity names; ``RoundOpened.config`` is a :class:`RoundConfig`.
    """

    name: str
    args: Mapping[str, Any]
    block_number: int
    tx_hash: str
    log_index: int

    @property
    def round_id(self) -> int:
        """The event's ``roundId`` argument."""
        return int(self.args["roundId"])


@dataclass(frozen=True)
class Receipt:
    """The outcome of a mined transaction.

    Attributes
    ----------
    tx_hash : str
    block_number : int
    gas_used : int
    gas_limit : int
        The gas limit the transaction was sent with.
    effective_gas_price : Wei
    events : tuple of EventRecord
        The contract's events emitted by this transaction, in log order.
    """

    tx_hash: str
    block_number: int
    gas_used: int
    gas_limit: int
    effective_gas_price: Wei
    events: tuple[EventRecord, ...]
    contract_address: str | None = None

    @property
    def fee(self) -> Wei:
        """Wei paid for gas."""
        return Wei(self.gas_used * self.effective_gas_price)

    def events_named(self, name: str) -> list[EventRecord]:
        """The events called ``name``."""
        return [e for e in self.events if e.name == name]


class NonceManager:
    """Hands out consecutive nonces per sender without asking the node each time.

    The first nonce of an address comes from ``eth_getTransactionCount(address, "pending")``;
    later ones are counted locally. Call :meth:`resync` after anything that rewinds the chain
    (``evm_revert``) or after a transaction was dropped.
    """

    def __init__(self, w3: Web3):
        self._w3 = w3
        self._next: dict[str, int] = {}
        self._lock = threading.Lock()

    def take(self, address: str) -> int:
        """Reserve and return the next nonce of ``address``."""
        with self._lock:
            if address not in self._next:
                self._next[address] = int(
                    self._w3.eth.get_transaction_count(cast(Any, address), "pending")
                )
            nonce = self._next[address]
            self._next[address] = nonce + 1
            return nonce

    def resync(self, address: str | None = None) -> None:
        """Forget the local count of ``address`` (or of every address)."""
        with self._lock:
            if address is None:
                self._next.clear()
            else:
                self._next.pop(address, None)


def _log(entry: Mapping[str, Any]) -> dict[str, Any]:
    # the shape web3's log decoder expects (what eth_getLogs returns through web3)
    return {
        "address": Web3.to_checksum_address(entry["address"]),
        "topics": [HexBytes(t) for t in entry["topics"]],
        "data": HexBytes(entry["data"]),
        "blockNumber": int(entry["blockNumber"], 16),
        "transactionHash": HexBytes(entry["transactionHash"]),
        "transactionIndex": int(entry["transactionIndex"], 16),
        "blockHash": HexBytes(entry["blockHash"]),
        "logIndex": int(entry["logIndex"], 16),
    }


def _rpc_error_data(error: Any) -> str | None:
    if isinstance(error, Mapping):
        data = error.get("data")
        if isinstance(data, Mapping):
            data = data.get("data")
        if isinstance(data, str) and data.startswith("0x"):
            return data
    return None


class Transactor:
    """Signs, sends and confirms transactions to one contract."""

    def __init__(
        self,
        w3: Web3,
        decoder: ErrorDecoder,
        nonces: NonceManager,
        decode_logs: Callable[[list[Any]], tuple[EventRecord, ...]],
        *,
        gas_margin: float = 1.2,
        receipt_timeout: float = 120.0,
    ):
        self.w3 = w3
        self.decoder = decoder
        self.nonces = nonces
        self._decode_logs = decode_logs
        self.gas_margin = gas_margin
        self.receipt_timeout = receipt_timeout
        self._tip: int | None = None
        self._chain_id: int | None = None
        self._base_fee: tuple[float, int] | None = None  # (monotonic time, wei)

    @property
    def chain_id(self) -> int:
        """The chain id (asked once)."""
        if self._chain_id is None:
            self._chain_id = int(self.w3.eth.chain_id)
        return self._chain_id

    # ------------------------------------------------------------------ helpers
    def request(self, method: str, params: list[Any]) -> dict[str, Any]:
        """One raw JSON-RPC request; the response dict holds ``result`` or ``error``."""
        return cast(dict[str, Any], self.w3.provider.make_request(RPCEndpoint(method), params))

    def raise_rpc(self, error: Any, what: str) -> NoReturn:
        data = _rpc_error_data(error)
        if data is not None:
            raise self.decoder.decode(data)
        message = error.get("message", error) if isinstance(error, Mapping) else error
        if "revert" in str(message).lower():
            raise self.decoder.decode(b"")
        raise TransactionFailed(f"{what} failed: {message}")

    def call_check(self, tx: dict[str, Any]) -> None:
        """``eth_call`` the transaction and raise the decoded revert, if any."""
        response = self.request("eth_call", [tx, "latest"])
        if "error" in response:
            self.raise_rpc(response["error"], "eth_call")

    def estimate(self, tx: dict[str, Any]) -> int:
        """``eth_estimateGas``; a revert raises the decoded :class:`ContractError`."""
        response = self.request("eth_estimateGas", [tx])
        if "error" in response:
            self.raise_rpc(response["error"], "gas estimation")
        return int(response["result"], 16)

    def _fees(self) -> dict[str, int]:
        if self._tip is None:
            response = self.request("eth_maxPriorityFeePerGas", [])
            # nodes without the method get a 1 gwei tip
            self._tip = int(response["result"], 16) if "result" in response else 10**9
        now = time.monotonic()
        if self._base_fee is None or now - self._base_fee[0] > BASE_FEE_TTL:
            block = self.request("eth_getBlockByNumber", ["latest", False]).get("result") or {}
            self._base_fee = (now, int(block.get("baseFeePerGas", "0x0"), 16))
        # 2x base fee stays valid through several full blocks of fee increases (EIP-1559: +12.5%)
        return {
            "maxFeePerGas": 2 * self._base_fee[1] + self._tip,
            "maxPriorityFeePerGas": self._tip,
        }

    def _wait_receipt(self, tx_hash: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.receipt_timeout
        delay = 0.002
        while True:
            response = self.request("eth_getTransactionReceipt", [tx_hash])
            if "error" in response:
                self.raise_rpc(response["error"], "fetching the receipt")
            if response.get("result"):
                return cast(dict[str, Any], response["result"])
            if time.monotonic() > deadline:
                raise TransactionFailed(
                    f"transaction {tx_hash} not mined within {self.receipt_timeout} s",
                    tx_hash=tx_hash,
                )
            time.sleep(delay)
            delay = min(delay * 2, 0.5)

    # --------------------------------------------------------------------- send
    def send(
        self,
        sender: LocalAccount,
        to: str | None,
        data: str,
        *,
        value: int = 0,
        gas: int | None = None,
    ) -> Receipt:
        """Pre-flight, sign, send and wait for one transaction.

        Raises
        ------
        ContractError
            The decoded revert (from the pre-flight, or from replaying a failed transaction).
        TransactionFailed
            Any other failure (gas cap exceeded, out of gas, node refused it).
        """
        call: dict[str, Any] = {"from": sender.address, "data": data, "value": hex(value)}
        if to is not None:
            call["to"] = to
        if gas is None:
            estimate = self.estimate(call)
            gas = max(estimate, min(int(estimate * self.gas_margin), TX_GAS_CAP))
        tx: dict[str, Any] = {
            "from": sender.address,
            "data": data,
            "value": value,
            "gas": gas,
            "chainId": self.chain_id,
            **self._fees(),
        }
        if to is not None:
            tx["to"] = to
        tx_hash = None
        for attempt in range(2):
            tx["nonce"] = self.nonces.take(sender.address)
            signed = sender.sign_transaction(tx)
            response = self.request("eth_sendRawTransaction", [Web3.to_hex(signed.raw_transaction)])
            if "error" not in response:
                tx_hash = response["result"]
                break
            message = str(response["error"].get("message", response["error"]))
            self.nonces.resync(sender.address)
            if attempt == 0 and any(s in message.lower() for s in _NONCE_ERRORS):
                continue
            self.raise_rpc(response["error"], "sending the transaction")
        assert tx_hash is not None
        raw = self._wait_receipt(tx_hash)
        ok = int(raw["status"], 16) == 1
        receipt = Receipt(
            tx_hash=raw["transactionHash"],
            block_number=int(raw["blockNumber"], 16),
            gas_used=int(raw["gasUsed"], 16),
            gas_limit=gas,
            effective_gas_price=Wei(int(raw.get("effectiveGasPrice") or "0x0", 16)),
            events=self._decode_logs([_log(entry) for entry in raw["logs"]]) if ok else (),
            contract_address=(
                Web3.to_checksum_address(raw["contractAddress"])
                if raw.get("contractAddress")
                else None
            ),
        )
        if not ok:
            # the pre-flight passed, so the state changed in between or gas ran out: replay to
            # find a revert reason, else report the gas
            self.call_check(call)
            raise TransactionFailed(
                f"transaction {receipt.tx_hash} failed (used {receipt.gas_used} of {gas} gas)",
                tx_hash=receipt.tx_hash,
                gas_used=receipt.gas_used,
            )
        return receipt
