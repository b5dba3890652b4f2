"""``SettlementClient``: a typed client of one deployed ``FedSettle`` contract."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3 import Web3
from web3.contract import Contract

from settlement._artifacts import Artifact, load_artifact
from settlement._attestation import contribution_digest, sign_contribution
from settlement._backends.base import ChainBackend
from settlement._config import round_config_from_reals
from settlement._devnet import chain_time
from settlement._errors import ConfigError, ErrorDecoder, _abi_type
from settlement._fixedpoint import Real, pack_rho
from settlement._transact import EventRecord, NonceManager, Receipt, Transactor
from settlement._types import (
    ZERO_ADDRESS,
    ZERO_BYTES32,
    Address,
    OrgSpec,
    Phase,
    Profile,
    RoundConfig,
    RoundId,
    RoundState,
    Wei,
    to_address,
)


@dataclass(frozen=True)
class OpenedRound:
    """Result of :meth:`SettlementClient.round_open`: the new round id and the receipt."""

    round_id: RoundId
    receipt: Receipt


def _rho_bytes(rho: bytes | Any) -> bytes:
    # raw bytes go to the contract unchanged (its validation is the authority); a matrix is
    # validated and packed here first
    if isinstance(rho, bytes | bytearray):
        return bytes(rho)
    if isinstance(rho, str) and rho.startswith("0x"):
        return bytes.fromhex(rho[2:])
    return pack_rho(rho)


def _plain(value: Any) -> Any:
    # web3 returns AttributeDict / HexBytes; hand out plain dicts, tuples and bytes
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return tuple(_plain(v) for v in value)
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    return value


class SettlementClient:
    """Typed access to a deployed ``FedSettle`` contract.

    Every state-changing method estimates gas first (so a revert raises the contract's decoded
    error, e.g. :class:`settlement.BondTooSmall`, before anything is signed), signs with
    ``sender`` (default: the client's ``account``) using an explicit nonce, waits for the receipt
    and returns a :class:`Receipt`.

    Parameters
    ----------
    chain : ChainBackend or Web3
        Where the contract lives.
    address : str
        The contract address.
    account : LocalAccount, optional
        Default sender of transactions.
    artifact : Artifact, optional
        ABI source; default the committed ``FedSettle`` artifact.
    nonces : NonceManager, optional
        Share one between clients that send from the same accounts.

    Examples
    --------
    >>> with AnvilBackend() as chain:                          # doctest: +SKIP
    ...     client = SettlementClient.deploy(chain, dev_account(0))
    ...     opened = client.round_open(config, orgs, [[0, 0.5], [0.5, 0]])
    """

    def __init__(
        self,
        chain: ChainBackend | Web3,
        address: str,
        *,
        account: LocalAccount | None = None,
        artifact: Artifact | None = None,
        nonces: NonceManager | None = None,
    ):
        self.w3: Web3 = chain.web3() if isinstance(chain, ChainBackend) else chain
        self.artifact = artifact or load_artifact("FedSettle")
        self.address = to_address(address, "address")
        self.account = account
        self.contract: Contract = self.w3.eth.contract(
            address=cast(Any, self.address), abi=self.artifact.abi
        )
        self.errors = ErrorDecoder(self.artifact.abi)
        self.nonces = nonces or NonceManager(self.w3)
        self._events_by_topic: dict[bytes, str] = {}
        for entry in self.artifact.abi:
            if entry.get("type") == "event":
                sig = f"{entry['name']}({','.join(_abi_type(p) for p in entry['inputs'])})"
                self._events_by_topic[keccak(text=sig)] = str(entry["name"])
        self._tx = Transactor(self.w3, self.errors, self.nonces, self._decode_logs)

    # ------------------------------------------------------------- construction
    @classmethod
    def deploy(
        cls,
        chain: ChainBackend | Web3,
        deployer: LocalAccount,
        *constructor_args: Any,
        artifact: Artifact | None = None,
        nonces: NonceManager | None = None,
    ) -> SettlementClient:
        """Deploy a new contract from ``deployer`` (who becomes its operator).

        Returns
        -------
        SettlementClient
            Bound to the new address with ``deployer`` as default sender; the deployment receipt
            is in :attr:`deploy_receipt`.
        """
        w3 = chain.web3() if isinstance(chain, ChainBackend) else chain
        artifact = artifact or load_artifact("FedSettle")
        factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        data = factory.constructor(*constructor_args).data_in_transaction
        nonces = nonces or NonceManager(w3)
        decoder = ErrorDecoder(artifact.abi)
        receipt = Transactor(w3, decoder, nonces, lambda logs: ()).send(deployer, None, data)
        if not receipt.contract_address:
            raise ConfigError("deployment receipt has no contract address")
        client = cls(
            w3, receipt.contract_address, account=deployer, artifact=artifact, nonces=nonces
        )
        client.deploy_receipt = receipt
        return client

    deploy_receipt: Receipt | None = None

    @classmethod
    def at(
        cls, chain: ChainBackend | Web3, address: str, account: LocalAccount | None = None
    ) -> SettlementClient:
        """A client of the contract already deployed at ``address``."""
        return cls(chain, address, account=account)

    def with_account(self, account: LocalAccount) -> SettlementClient:
        """The same contract with another default sender (sharing the nonce manager)."""
        return SettlementClient(
            self.w3, self.address, account=account, artifact=self.artifact, nonces=self.nonces
        )

    @property
    def chain_id(self) -> int:
        """Chain id of the connected node."""
        return self._tx.chain_id

    def __repr__(self) -> str:
        return f"SettlementClient(address={self.address!r}, chain_id={self.chain_id})"

    # ------------------------------------------------------------------ sending
    def _send(
        self, fn: str, args: Sequence[Any], sender: LocalAccount | None, value: int = 0
    ) -> Receipt:
        account = sender or self.account
        if account is None:
            raise ConfigError(f"{fn}: no sender; pass sender= or construct with account=")
        data = self.contract.encode_abi(fn, args=list(args))
        return self._tx.send(account, self.address, data, value=value)

    def estimate_gas(
        self, fn: str, *args: Any, sender: LocalAccount | None = None, value: int = 0
    ) -> int:
        """Gas a call of contract function ``fn`` would use now (nothing is sent).

        Raises the decoded :class:`ContractError` if the call would revert, and
        :class:`TransactionFailed` if the node refuses it (e.g. above the per-transaction cap).
        """
        account = sender or self.account
        data = self.contract.encode_abi(fn, args=list(args))
        call: dict[str, Any] = {"to": self.address, "data": data, "value": hex(value)}
        if account is not None:
            call["from"] = account.address
        return self._tx.estimate(call)

    def round_open(
        self,
        config: RoundConfig,
        orgs: Sequence[OrgSpec],
        rho: bytes | Any,
        *,
        sender: LocalAccount | None = None,
    ) -> OpenedRound:
        """Open a round (operator only).

        Parameters
        ----------
        config : RoundConfig
        orgs : sequence of OrgSpec
            One slot per organization, index = position.
        rho : bytes or matrix
            Packed rho bytes (sent as is), or a matrix of fractions / bps ints (validated and
            packed with :func:`settlement.pack_rho`).

        Returns
        -------
        OpenedRound
            The new round id and the receipt.
        """
        rho_bytes = _rho_bytes(rho)
        receipt = self._send(
            "roundOpen", [config.to_abi(), [o.to_abi() for o in orgs], rho_bytes], sender
        )
        opened = receipt.events_named("RoundOpened")
        if not opened:
            raise ConfigError("roundOpen emitted no RoundOpened event; is this a FedSettle?")
        return OpenedRound(round_id=RoundId(opened[0].round_id), receipt=receipt)

    def deposit_submit(
        self,
        round_id: int,
        index: int,
        amount: Wei | int | None = None,
        *,
        sender: LocalAccount | None = None,
    ) -> Receipt:
        """Join slot ``index`` by depositing ``amount`` wei (default: exactly the required bond)."""
        if amount is None:
            amount = self.required_bond(round_id, index)
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
            raise ConfigError(f"amount: {amount!r} must be a non-negative integer number of wei")
        return self._send("depositSubmit", [round_id, index], sender, value=int(amount))

    def contribution_submit(
        self,
        round_id: int,
        index: int,
        x: int,
        f: int,
        attestation: bytes = b"",
        *,
        sender: LocalAccount | None = None,
    ) -> Receipt:
        """Report the contribution ``(x, f)`` of slot ``index`` (in the round's scales)."""
        return self._send("contributionSubmit", [round_id, index, x, f, attestation], sender)

    def payoff_calculate(
        self, round_id: int, rho: bytes | Any | None = None, *, sender: LocalAccount | None = None
    ) -> Receipt:
        """Compute every payoff (anyone, in phase Calculate).

        ``rho`` defaults to the bytes logged by the round's ``RoundOpened`` event.
        """
        rho_bytes = self.round_rho(round_id) if rho is None else _rho_bytes(rho)
        return self._send("payoffCalculate", [round_id, rho_bytes], sender)

    def payoff_transfer(
        self, round_id: int, index: int, *, sender: LocalAccount | None = None
    ) -> Receipt:
        """Withdraw slot ``index``'s deposit + R_i (or the deposit, if abandoned)."""
        return self._send("payoffTransfer", [round_id, index], sender)

    def round_abandon(self, round_id: int, *, sender: LocalAccount | None = None) -> Receipt:
        """Abandon a stuck round so every deposit becomes withdrawable in full."""
        return self._send("roundAbandon", [round_id], sender)

    # -------------------------------------------------------------------- views
    def _view(self, fn: str, *args: Any) -> Any:
        data = self.contract.encode_abi(fn, args=list(args))
        response = self._tx.request("eth_call", [{"to": self.address, "data": data}, "latest"])
        if "error" in response:
            self._tx.raise_rpc(response["error"], f"{fn} call")
        raw = bytes.fromhex(response["result"][2:])
        if not raw:
            raise ConfigError(f"address: no FedSettle contract at {self.address} on this chain")
        return self._decode(fn, raw)

    def _decode(self, fn: str, raw: bytes) -> Any:
        outputs = self.contract.get_function_by_name(fn).abi["outputs"]
        values = self.w3.codec.decode([_abi_type(o) for o in outputs], raw)
        return values[0] if len(values) == 1 else values

    def profile_record(self, round_id: int, index: int) -> Profile:
        """The per-org record of slot ``index`` in round ``round_id``."""
        return Profile.from_abi(self._view("profileRecord", round_id, index))

    def profiles(self, round_id: int) -> list[Profile]:
        """Every slot's record, in index order."""
        return [self.profile_record(round_id, i) for i in range(self.round_state(round_id).n)]

    def round_config(self, round_id: int) -> RoundConfig:
        """The configuration the round was opened with."""
        return RoundConfig.from_abi(self._view("roundConfig", round_id))

    def round_state(self, round_id: int) -> RoundState:
        """The round's summary (phase, counts, totals, digests)."""
        return RoundState.from_abi(self._view("roundState", round_id))

    def phase_of(self, round_id: int) -> Phase:
        """The round's current phase (time-dependent)."""
        return Phase(self._view("phaseOf", round_id))

    def round_count(self) -> int:
        """Number of rounds opened so far (the last round id)."""
        return int(self._view("roundCount"))

    def operator(self) -> Address:
        """The contract operator (the only account that may open rounds)."""
        return to_address(self._view("operator"))

    def liabilities(self) -> Wei:
        """Wei the contract owes depositors over all rounds."""
        return Wei(int(self._view("liabilities")))

    def required_bond(self, round_id: int, index: int) -> Wei:
        """The bond slot ``index`` must deposit (its worst-case liability)."""
        return self.profile_record(round_id, index).bond

    def contribution_digest(self, round_id: int, index: int, x: int, f: int) -> bytes:
        """The contract's EIP-712 digest of a report (what the coordinator signs)."""
        return bytes(self._view("contributionDigest", round_id, index, x, f))

    def balance(self, address: str | None = None) -> Wei:
        """Ether balance of ``address`` (default: the contract)."""
        return Wei(int(self.w3.eth.get_balance(cast(Any, address or self.address))))

    def chain_time(self) -> int:
        """Timestamp of the latest block."""
        return chain_time(self.w3)

    # ------------------------------------------------------------------ helpers
    def sign_contribution(
        self, coordinator_key: Any, round_id: int, index: int, account: str, x: int, f: int
    ) -> bytes:
        """The coordinator's EIP-712 attestation of a report to this contract on this chain."""
        return sign_contribution(
            coordinator_key,
            chain_id=self.chain_id,
            contract=self.address,
            round_id=round_id,
            index=index,
            account=to_address(account, "account"),
            x=x,
            f=f,
        )

    def local_contribution_digest(
        self, round_id: int, index: int, account: str, x: int, f: int
    ) -> bytes:
        """:meth:`contribution_digest` recomputed in Python (no call)."""
        return contribution_digest(
            chain_id=self.chain_id,
            contract=self.address,
            round_id=round_id,
            index=index,
            account=to_address(account, "account"),
            x=x,
            f=f,
        )

    def round_config_from_reals(
        self,
        *,
        gamma: Real,
        lambda_: Real,
        d_min: Real,
        x_scale: int = 1,
        f_scale: int = 1,
        deposit_window: int = 3600,
        report_window: int = 3600,
        settle_window: int = 3600,
        coordinator: Address | str = ZERO_ADDRESS,
        params_digest: bytes = ZERO_BYTES32,
    ) -> RoundConfig:
        """:func:`settlement.round_config_from_reals` with deadlines from the chain's time."""
        return round_config_from_reals(
            now=self.chain_time(),
            gamma=gamma,
            lambda_=lambda_,
            d_min=d_min,
            x_scale=x_scale,
            f_scale=f_scale,
            deposit_window=deposit_window,
            report_window=report_window,
            settle_window=settle_window,
            coordinator=coordinator,
            params_digest=params_digest,
        )

    # ------------------------------------------------------------------- events
    def _decode_logs(self, logs: Iterable[Any]) -> tuple[EventRecord, ...]:
        out = []
        for log in logs:
            if to_address(log["address"]) != self.address or not log["topics"]:
                continue
            name = self._events_by_topic.get(bytes(log["topics"][0]))
            if name is None:
                continue
            decoded = self.contract.events[name]().process_log(log)
            args = {k: _plain(v) for k, v in decoded["args"].items()}
            if name == "RoundOpened":
                cfg = args["config"]
                args["config"] = RoundConfig.from_abi(
                    list(cfg.values()) if isinstance(cfg, Mapping) else cfg
                )
                args["rho"] = bytes(args["rho"])
            for key in ("atPhase",):
                if key in args:
                    args[key] = Phase(args[key])
            out.append(
                EventRecord(
                    name=name,
                    args=args,
                    block_number=int(log["blockNumber"]),
                    tx_hash=Web3.to_hex(log["transactionHash"]),
                    log_index=int(log["logIndex"]),
                )
            )
        return tuple(out)

    def events(
        self,
        name: str | Sequence[str] | None = None,
        *,
        round_id: int | None = None,
        from_block: int = 0,
        to_block: int | str = "latest",
    ) -> list[EventRecord]:
        """Decoded events of this contract, oldest first.

        Parameters
        ----------
        name : str or sequence of str, optional
            Event name(s); default all.
        round_id : int, optional
            Only this round's events (``roundId`` is every event's first indexed argument).
        from_block, to_block :
            Block range.
        """
        topics: list[Any] = [None]
        if name is not None:
            names = [name] if isinstance(name, str) else list(name)
            known = {v: k for k, v in self._events_by_topic.items()}
            unknown = [n for n in names if n not in known]
            if unknown:
                raise ConfigError(f"name: unknown event(s) {unknown}; known: {sorted(known)}")
            topics = [[Web3.to_hex(known[n]) for n in names]]
        if round_id is not None:
            topics.append(Web3.to_hex(int(round_id).to_bytes(32, "big")))
        logs = self.w3.eth.get_logs(
            cast(
                Any,
                {
                    "address": self.address,
                    "fromBlock": from_block,
                    "toBlock": to_block,
                    "topics": topics,
                },
            )
        )
        return list(self._decode_logs(logs))

    def round_rho(self, round_id: int) -> bytes:
        """The packed rho the round was opened with (from its ``RoundOpened`` event)."""
        opened = self.events("RoundOpened", round_id=round_id)
        if not opened:
            raise ConfigError(f"round_id: no RoundOpened event for round {round_id}")
        return bytes(opened[0].args["rho"])
