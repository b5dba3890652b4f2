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
from settlement._backends.base import ChainBackend
from settlement._config import round_config_from_reals
from settlement._devnet import chain_time
from settlement._errors import ConfigError, ErrorDecoder, _abi_type
from settlement._fixedpoint import Real, pack_rho, rho_chunks
from settlement._logs import LogPager
from settlement._market import pack_market_table
from settlement._measured import pack_measured, unpack_measured
from settlement._token import TokenClient
from settlement._transact import EventRecord, NonceManager, Receipt, Transactor
from settlement._types import (
    ZERO_ADDRESS,
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
from settlement.rules._market import MarketGraph


@dataclass(frozen=True)
class OpenedRound:
    """Result of :meth:`SettlementClient.round_open`.

    Attributes
    ----------
    round_id : RoundId
    receipt : Receipt
        The ``roundOpen`` receipt.
    appends : tuple of Receipt
        One ``rhoAppend`` receipt per further rho chunk (empty when rho fit one chunk).
    """

    round_id: RoundId
    receipt: Receipt
    appends: tuple[Receipt, ...] = ()

    @property
    def receipts(self) -> tuple[Receipt, ...]:
        """Every transaction the opening took."""
        return (self.receipt, *self.appends)


def pack_report_table(n: int, reports: Mapping[int, tuple[int, int]]) -> bytes:
    """The coordinator's report table: ``n`` rows of ``(uint64 x, uint64 f)`` big-endian.

    Slots missing from ``reports`` get the row ``(0, 0)`` ("no report": settled at the minimum).
    """
    bad = sorted(i for i in reports if not 0 <= i < n)
    if bad:
        raise ConfigError(f"reports: slot indices {bad} are outside 0 .. {n - 1}")
    rows = []
    for i in range(n):
        x, f = reports.get(i, (0, 0))
        for name, v in (("x", x), ("f", f)):
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < 2**64:
                raise ConfigError(f"reports[{i}].{name}: {v!r} must be an integer in [0, 2**64)")
        rows.append(x.to_bytes(8, "big") + f.to_bytes(8, "big"))
    return b"".join(rows)


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
        deploy_block: int | None = None,
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
        self._logs = LogPager(self.w3, self.address, deploy_block)

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
            w3,
            receipt.contract_address,
            account=deployer,
            artifact=artifact,
            nonces=nonces,
            deploy_block=receipt.block_number,
        )
        client.deploy_receipt = receipt
        return client

    deploy_receipt: Receipt | None = None

    @classmethod
    def at(
        cls,
        chain: ChainBackend | Web3,
        address: str,
        account: LocalAccount | None = None,
        *,
        deploy_block: int | None = None,
    ) -> SettlementClient:
        """A client of the contract already deployed at ``address``.

        ``deploy_block`` (where log queries start) is found by bisection over ``eth_getCode``
        when not given.
        """
        return cls(chain, address, account=account, deploy_block=deploy_block)

    def with_account(self, account: LocalAccount) -> SettlementClient:
        """The same contract with another default sender (sharing the nonce manager)."""
        return SettlementClient(
            self.w3,
            self.address,
            account=account,
            artifact=self.artifact,
            nonces=self.nonces,
            deploy_block=self._logs.known_deploy_block,
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
        """Open a round (operator only) and upload its whole weight triangle.

        Parameters
        ----------
        config : RoundConfig
        orgs : sequence of OrgSpec
            One slot per organization, index = position.
        rho : bytes or matrix
            The packed upper triangle (sent as is), or a full matrix of fractions / bps ints
            (validated and packed with :func:`settlement.pack_rho`). Chunks beyond the first go
            in ``rhoAppend`` transactions.

        Returns
        -------
        OpenedRound
            The new round id and the receipts.
        """
        chunks = rho_chunks(_rho_bytes(rho))
        receipt = self._send(
            "roundOpen", [config.to_abi(), [o.to_abi() for o in orgs], chunks[0]], sender
        )
        opened = receipt.events_named("RoundOpened")
        if not opened:
            raise ConfigError("roundOpen emitted no RoundOpened event; is this a FedSettle?")
        round_id = RoundId(opened[0].round_id)
        appends = tuple(self.rho_append(round_id, c, sender=sender) for c in chunks[1:])
        return OpenedRound(round_id=round_id, receipt=receipt, appends=appends)

    def rho_append(
        self, round_id: int, chunk: bytes, *, sender: LocalAccount | None = None
    ) -> Receipt:
        """Append the next chunk of the round's weight triangle (the round's operator)."""
        return self._send("rhoAppend", [round_id, bytes(chunk)], sender)

    def deposit_submit(
        self,
        round_id: int,
        index: int,
        amount: Wei | int | None = None,
        *,
        sender: LocalAccount | None = None,
    ) -> Receipt:
        """Join slot ``index`` by depositing ``amount`` (default: exactly the required bond).

        ETH rounds send ``amount`` as the transaction value; token rounds send no ether and the
        contract pulls ``amount`` with ``transferFrom`` (approve it first, see :meth:`token`).
        """
        if amount is None:
            amount = self.required_bond(round_id, index)
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
            raise ConfigError(f"amount: {amount!r} must be a non-negative integer")
        value = 0 if self.round_config(round_id).uses_token else int(amount)
        return self._send("depositSubmit", [round_id, index, int(amount)], sender, value=value)

    def deposit_with_permit(
        self,
        round_id: int,
        index: int,
        amount: Wei | int | None = None,
        *,
        sender: LocalAccount,
        deadline: int | None = None,
    ) -> Receipt:
        """Join a token round with an EIP-2612 permit signed by ``sender`` (no approve needed)."""
        if amount is None:
            amount = self.required_bond(round_id, index)
        token = self.token(round_id)
        deadline = self.chain_time() + 3600 if deadline is None else deadline
        v, r, s = token.sign_permit(sender, self.address, int(amount), deadline)
        return self._send(
            "depositWithPermit", [round_id, index, int(amount), deadline, v, r, s], sender
        )

    def contribution_submit(
        self, round_id: int, index: int, x: int, f: int, *, sender: LocalAccount | None = None
    ) -> Receipt:
        """Self-report ``(x, f)`` for slot ``index`` (rounds without a coordinator)."""
        return self._send("contributionSubmit", [round_id, index, x, f], sender)

    def contribution_table_submit(
        self,
        round_id: int,
        reports: Mapping[int, tuple[int, int]],
        *,
        measured: Mapping[int, float] | None = None,
        sender: LocalAccount | None = None,
    ) -> Receipt:
        """The coordinator submits the round's whole report table (once, in one transaction).

        ``reports`` maps slot index -> ``(x, f)``; missing slots are "no report". ``measured``
        (cogen rounds only) maps slot index -> its measured score in validation-loss units,
        appended to the table (:mod:`settlement._measured`; never paid on).
        """
        n = self.round_state(round_id).n
        table = pack_report_table(n, reports)
        if measured is not None:
            table += pack_measured(n, measured)
        return self._send("contributionTableSubmit", [round_id, table], sender)

    def market_round_open(
        self, config: RoundConfig, orgs: Sequence[OrgSpec], *, sender: LocalAccount | None = None
    ) -> OpenedRound:
        """Open a market round (mechanism 3): the weight triangle is unused and sent as zeros."""
        n = len(orgs)
        return self.round_open(config, orgs, bytes(n * (n - 1)), sender=sender)

    def market_table_submit(
        self, round_id: int, graphs: Sequence[MarketGraph], *, sender: LocalAccount | None = None
    ) -> Receipt:
        """The coordinator submits a market round's one table: every FL round's graph."""
        n = self.round_state(round_id).n
        return self._send(
            "contributionTableSubmit", [round_id, pack_market_table(n, graphs)], sender
        )

    def report_table(self, round_id: int) -> bytes | None:
        """The report table stored by the contract, any mechanism (None before it is submitted)."""
        events = self.events("ReportTableSubmitted", round_id=round_id)
        if not events:
            return None
        return bytes(self.w3.eth.get_code(cast(Any, events[0].args["data"])))[1:]

    def measured_scores(self, round_id: int) -> list[float | None] | None:
        """The measured scores a cogen table carries, per slot (None: no table or no annex)."""
        table = self.report_table(round_id)
        if table is None:
            return None
        return unpack_measured(self.round_state(round_id).n, table)

    def payoff_calculate(
        self, round_id: int, max_orgs: int = 0, *, sender: LocalAccount | None = None
    ) -> Receipt:
        """Compute the payoffs of the next ``max_orgs`` slots (0: all remaining); anyone."""
        return self._send("payoffCalculate", [round_id, max_orgs], sender)

    def settle(
        self, round_id: int, chunk: int = 0, *, sender: LocalAccount | None = None
    ) -> list[Receipt]:
        """Run ``payoffCalculate`` in chunks of ``chunk`` slots (0: one call) until Settled."""
        receipts = []
        while self.phase_of(round_id) == Phase.CALCULATE:
            receipts.append(self.payoff_calculate(round_id, chunk, sender=sender))
        return receipts

    def payoff_transfer(
        self, round_id: int, index: int, *, sender: LocalAccount | None = None
    ) -> Receipt:
        """Pull slot ``index``'s deposit + R_i (or the deposit, if abandoned)."""
        return self._send("payoffTransfer", [round_id, index], sender)

    def payout_batch(
        self,
        round_id: int,
        start: int = 0,
        count: int | None = None,
        *,
        sender: LocalAccount | None = None,
    ) -> Receipt:
        """Push the payouts of slots ``[start, start + count)`` (default: all); anyone."""
        count = self.round_state(round_id).n if count is None else count
        return self._send("payoutBatch", [round_id, start, count], sender)

    def round_abandon(self, round_id: int, *, sender: LocalAccount | None = None) -> Receipt:
        """Abandon a round so every deposit becomes withdrawable in full (see the rules)."""
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

    def liabilities(self, token: str = ZERO_ADDRESS) -> Wei:
        """What the contract owes depositors over all rounds, in ETH or in ``token``."""
        return Wei(int(self._view("liabilities", to_address(token, "token"))))

    def required_bond(self, round_id: int, index: int) -> Wei:
        """The bond slot ``index`` must deposit (its worst-case liability)."""
        return Wei(int(self._view("requiredBond", round_id, index)))

    def rho_chunk_addresses(self, round_id: int) -> list[Address]:
        """The data contracts holding the round's weight triangle, in order."""
        return [to_address(a) for a in self._view("rhoChunks", round_id)]

    def round_rho(self, round_id: int) -> bytes:
        """The packed weight triangle of the round, read from its data contracts' code."""
        out = b""
        for address in self.rho_chunk_addresses(round_id):
            code = bytes(self.w3.eth.get_code(cast(Any, address)))
            out += code[1:]  # the leading STOP byte
        return out

    def token(self, round_id: int) -> TokenClient:
        """The ERC-20 the round settles in (ConfigError for an ETH round)."""
        token = self.round_config(round_id).token
        if token == ZERO_ADDRESS:
            raise ConfigError(f"round_id: round {round_id} settles in ETH, not in a token")
        return TokenClient(self.w3, token, nonces=self.nonces)

    def balance(self, address: str | None = None, *, token: str = ZERO_ADDRESS) -> Wei:
        """Balance of ``address`` (default: the contract) in ETH or in ``token``."""
        owner = address or self.address
        if to_address(token, "token") == ZERO_ADDRESS:
            return Wei(int(self.w3.eth.get_balance(cast(Any, owner))))
        return TokenClient(self.w3, token).balance_of(owner)

    def chain_time(self) -> int:
        """Timestamp of the latest block."""
        return chain_time(self.w3)

    # ------------------------------------------------------------------ helpers
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
        coordinator: Address | str = ZERO_ADDRESS,
        token: Address | str = ZERO_ADDRESS,
        mechanism_id: int = 1,
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
            coordinator=coordinator,
            token=token,
            mechanism_id=mechanism_id,
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
        from_block: int | None = None,
        to_block: int | str = "latest",
    ) -> list[EventRecord]:
        """Decoded events of this contract, oldest first.

        Logs are fetched from the deployment block (or ``from_block``) in bounded pages with
        retries, since real providers refuse unbounded ranges.

        Parameters
        ----------
        name : str or sequence of str, optional
            Event name(s); default all.
        round_id : int, optional
            Only this round's events (``roundId`` is every event's first indexed argument).
        from_block, to_block :
            Block range (default: the deployment block to latest).
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
        return list(self._decode_logs(self._logs.fetch(topics, from_block, to_block)))
