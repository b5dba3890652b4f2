"""Round-driving helpers for the contract tests (all against the session's real anvil).

Imported by the tests as ``fedsettle_helpers`` (pytest puts this directory on ``sys.path``).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3

from settlement import (
    MECHANISM_TRADEFL,
    ZERO_ADDRESS,
    ErrorDecoder,
    OrgSpec,
    Phase,
    Receipt,
    RoundConfig,
    RoundOutcome,
    Rule,
    SettlementClient,
    TokenClient,
    compute_outcome,
    load_artifact,
    pack_rho,
    unpack_rho,
    warp_to,
)
from settlement._transact import Transactor


def random_rho(n: int, rng: random.Random, zero_share: float = 0.2) -> list[list[int]]:
    """A symmetric n x n matrix in bps with zero diagonal; some entries 0, some 10000."""
    rho = [[0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            roll = rng.random()
            if roll < zero_share:
                v = 0
            elif roll < zero_share + 0.05:
                v = 10_000
            else:
                v = rng.randint(1, 9_999)
            rho[i][j] = rho[j][i] = v
    return rho


@dataclass
class OpenRound:
    """A round opened by a test, with everything needed to drive and check it."""

    client: SettlementClient
    round_id: int
    config: RoundConfig
    orgs: list[OrgSpec]
    accounts: list[Any]  # LocalAccount, or a ContractAccount for contract-owned slots
    rho: bytes
    deposits: dict[int, int] = field(default_factory=dict)
    reports: dict[int, tuple[int, int]] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.orgs)

    @property
    def rho_bps(self) -> list[list[int]]:
        return unpack_rho(self.rho, self.n)

    @property
    def rule(self) -> Rule:
        return Rule(self.config)

    def x_min(self, i: int) -> int:
        return self.rule.min_report(self.orgs[i])[0]

    def expected(self) -> RoundOutcome:
        return compute_outcome(self.config, self.orgs, self.rho_bps, self.deposits, self.reports)


class ContractAccount:
    """A deployed test contract (OrgAccount and friends) that can hold a slot."""

    def __init__(self, client: SettlementClient, name: str, address: str):
        self.client = client
        self.name = name
        self.artifact = load_artifact(name)
        self.address = Web3.to_checksum_address(address)
        self.contract = client.w3.eth.contract(address=self.address, abi=self.artifact.abi)
        # reverts bubble up from FedSettle through the wrapper: decode with both ABIs
        decoder = ErrorDecoder([*client.artifact.abi, *self.artifact.abi])
        self.tx = Transactor(client.w3, decoder, client.nonces, client._decode_logs)

    @classmethod
    def deploy(
        cls, client: SettlementClient, name: str, sender: LocalAccount, *args: Any, value: int = 0
    ) -> ContractAccount:
        artifact = load_artifact(name)
        factory = client.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        data = factory.constructor(*args).data_in_transaction
        decoder = ErrorDecoder([*client.artifact.abi, *artifact.abi])
        tx = Transactor(client.w3, decoder, client.nonces, lambda logs: ())
        receipt = tx.send(sender, None, data, value=value)
        assert receipt.contract_address
        return cls(client, name, receipt.contract_address)

    def transact(self, fn: str, *args: Any, sender: LocalAccount, value: int = 0) -> Receipt:
        data = self.contract.encode_abi(fn, args=list(args))
        return self.tx.send(sender, self.address, data, value=value)

    def call(self, fn: str, *args: Any) -> Any:
        return self.contract.functions[fn](*args).call()


class Rounds:
    """Opens and drives rounds on the session's contract."""

    def __init__(self, client: SettlementClient, accounts: list[LocalAccount], operator: Any):
        self.client = client
        self.accounts = accounts
        self.operator = operator
        self.w3 = client.w3

    def open(
        self,
        n: int = 3,
        *,
        rho: Any = None,
        gamma: int | float | str = 10**12,
        lambda_: float | str = 0.5,
        d_min: float | str = 0.1,
        x_max: int | Sequence[int] = 1000,
        f_max: int | Sequence[int] = 8,
        base: int | Sequence[int] = 0,
        x_scale: int = 1,
        f_scale: int = 1,
        coordinator: str = ZERO_ADDRESS,
        token: str = ZERO_ADDRESS,
        mechanism_id: int = MECHANISM_TRADEFL,
        accounts: Sequence[Any] | None = None,
        windows: tuple[int, int] = (600, 600),
        seed: int = 0,
    ) -> OpenRound:
        accounts = list(accounts if accounts is not None else self.accounts[:n])

        def per_org(v: int | Sequence[int]) -> list[int]:
            return [v] * n if isinstance(v, int) else list(v)

        orgs = [
            OrgSpec(a.address, x, f, b)
            for a, x, f, b in zip(
                accounts, per_org(x_max), per_org(f_max), per_org(base), strict=True
            )
        ]
        rho_bytes = pack_rho(random_rho(n, random.Random(seed)) if rho is None else rho)
        config = self.client.round_config_from_reals(
            gamma=gamma,
            lambda_=lambda_,
            d_min=d_min,
            x_scale=x_scale,
            f_scale=f_scale,
            deposit_window=windows[0],
            report_window=windows[1],
            coordinator=coordinator,
            token=token,
            mechanism_id=mechanism_id,
        )
        opened = self.client.round_open(config, orgs, rho_bytes, sender=self.operator)
        return OpenRound(self.client, opened.round_id, config, orgs, accounts, rho_bytes)

    def join(
        self, r: OpenRound, indices: Sequence[int] | None = None, extra: int | Mapping[int, int] = 0
    ) -> None:
        """Deposit bond (+ extra) for each slot in ``indices`` (default: all)."""
        bonds = r.expected().bonds
        token = r.client.token(r.round_id) if r.config.uses_token else None
        for i in range(r.n) if indices is None else indices:
            amount = bonds[i] + (extra if isinstance(extra, int) else extra.get(i, 0))
            account = r.accounts[i]
            if isinstance(account, ContractAccount):
                account.transact("deposit", r.round_id, i, sender=self.operator, value=amount)
            else:
                if token is not None:
                    token.mint(account, account.address, amount)
                    token.approve(account, r.client.address, amount)
                r.client.deposit_submit(r.round_id, i, amount, sender=account)
            r.deposits[i] = amount

    def report(self, r: OpenRound, reports: Mapping[int, tuple[int, int]]) -> None:
        """Self-reports (rounds without a coordinator)."""
        for i, (x, f) in reports.items():
            account = r.accounts[i]
            if isinstance(account, ContractAccount):
                account.transact("report", r.round_id, i, x, f, sender=self.operator)
            else:
                r.client.contribution_submit(r.round_id, i, x, f, sender=account)
            r.reports[i] = (x, f)

    def submit_table(
        self, r: OpenRound, reports: Mapping[int, tuple[int, int]], coordinator: LocalAccount
    ) -> Receipt:
        """The coordinator's one table (rounds with a coordinator)."""
        receipt = r.client.contribution_table_submit(r.round_id, reports, sender=coordinator)
        r.reports.update({i: v for i, v in reports.items() if v != (0, 0)})
        return receipt

    def random_reports(
        self, r: OpenRound, rng: random.Random, indices: Sequence[int] | None = None
    ) -> dict[int, tuple[int, int]]:
        out = {}
        for i in range(r.n) if indices is None else indices:
            (x_lo, x_hi), (f_lo, f_hi) = r.rule.bounds(r.orgs[i])
            x = rng.choice([x_lo, x_hi, rng.randint(x_lo, x_hi)])
            f = rng.choice([f_lo, f_hi, rng.randint(f_lo, f_hi)])
            out[i] = (x, f)
        return out

    def warp_past(self, timestamp: int) -> None:
        """Mine a block after ``timestamp`` (no-op if the chain is already past it)."""
        now = self.w3.eth.get_block("latest")["timestamp"]
        if now <= timestamp:
            warp_to(self.w3, timestamp + 1)

    def close_deposits(self, r: OpenRound) -> None:
        self.warp_past(r.config.deposit_deadline)

    def close_reports(self, r: OpenRound) -> None:
        self.warp_past(r.config.report_deadline)

    def settle(self, r: OpenRound, chunk: int = 0) -> list[Receipt]:
        if r.client.phase_of(r.round_id) != Phase.CALCULATE:
            self.close_reports(r)
        return r.client.settle(r.round_id, chunk, sender=self.operator)

    def withdraw(self, r: OpenRound, indices: Sequence[int] | None = None) -> dict[int, int]:
        """Pull for each joined slot; returns the amounts from PayoffTransferred events."""
        paid = {}
        for i in sorted(r.deposits) if indices is None else indices:
            account = r.accounts[i]
            if isinstance(account, ContractAccount):
                receipt = account.transact("withdraw", r.round_id, i, sender=self.operator)
            else:
                receipt = r.client.payoff_transfer(r.round_id, i, sender=account)
            (event,) = receipt.events_named("PayoffTransferred")
            paid[i] = int(event.args["amount"])
        return paid

    def push(self, r: OpenRound, sender: Any = None) -> tuple[dict[int, int], dict[int, int]]:
        """payoutBatch over every slot: (paid, deferred) amounts by slot from the events."""
        receipt = r.client.payout_batch(r.round_id, sender=sender or self.operator)
        paid = {
            int(e.args["index"]): int(e.args["amount"])
            for e in receipt.events_named("PayoffTransferred")
        }
        deferred = {
            int(e.args["index"]): int(e.args["amount"])
            for e in receipt.events_named("PayoffDeferred")
        }
        return paid, deferred


def deploy_token(
    client: SettlementClient, deployer: LocalAccount, name: str = "TestToken"
) -> TokenClient:
    """A fresh test token sharing the client's nonce manager."""
    return TokenClient.deploy(client.w3, deployer, name, nonces=client.nonces)
