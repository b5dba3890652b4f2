"""A real history of rounds on a fresh FedSettle, for the auditor tests.

Rounds, in order (each finished before the next opens, so time warps do not interfere):

1. ``settled``: 4 orgs all deposit (one above its bond) and report; settled; 2 withdraw.
2. ``missing``: 5 slots, 4 deposit, 2 report (two joined non-reporters, one never joins);
   settled; every depositor withdraws.
3. ``abandoned_op``: the operator abandons during the deposit phase (1 deposit, withdrawn).
4. ``abandoned_late``: 3 deposit, 2 report, nobody settles; an org abandons after the settle
   deadline; 1 withdraws.
5. ``attested``: coordinator-attested reports, non-trivial scales; settled; nobody withdraws.
6. ``open``: still in the report phase (2 deposits, 1 report): deposits locked.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from settlement import (
    ZERO_ADDRESS,
    AnvilBackend,
    OrgSpec,
    RoundConfig,
    SettlementClient,
    dev_account,
    set_balance,
    to_address,
    warp_to,
)

RHO5 = [
    [0, 0.30, 0.20, 0.10, 0.45],
    [0.30, 0, 0.50, 0.20, 0.05],
    [0.20, 0.50, 0, 0.40, 0.15],
    [0.10, 0.20, 0.40, 0, 0.35],
    [0.45, 0.05, 0.15, 0.35, 0],
]


def rho(n: int) -> list[list[float]]:
    """The leading ``n x n`` block of a fixed symmetric competition matrix."""
    return [row[:n] for row in RHO5[:n]]


@dataclass
class Scenario:
    """The chain, the contract, the accounts and the round ids by name."""

    chain: AnvilBackend
    client: SettlementClient
    orgs: list[LocalAccount]
    coordinator: LocalAccount
    rounds: dict[str, int] = field(default_factory=dict)


def org_accounts(count: int, tag: str = "audit") -> list[LocalAccount]:
    """Deterministic accounts (funded by :func:`build`)."""
    return [Account.from_key(keccak(text=f"fedsettle-{tag}-org-{i}")) for i in range(count)]


def build(chain: AnvilBackend) -> Scenario:
    """Deploy a FedSettle on ``chain`` and play the rounds described in the module docstring."""
    w3 = chain.web3()
    client = SettlementClient.deploy(chain, dev_account(0))
    orgs = org_accounts(5)
    for a in orgs:
        set_balance(w3, a.address, 10**24)
    sc = Scenario(chain=chain, client=client, orgs=orgs, coordinator=dev_account(1))

    def open_round(
        n: int,
        *,
        gamma: int = 10**12,
        lambda_: float = 0.5,
        d_min: float = 0.1,
        x_scale: int = 1,
        f_scale: int = 1,
        coordinator: str = ZERO_ADDRESS,
        x_max: int = 100,
        f_max: int = 4,
    ) -> tuple[int, RoundConfig]:
        cfg = client.round_config_from_reals(
            gamma=gamma,
            lambda_=lambda_,
            d_min=d_min,
            x_scale=x_scale,
            f_scale=f_scale,
            coordinator=coordinator,
        )
        specs = [OrgSpec(to_address(orgs[i].address), x_max + 10 * i, f_max + i) for i in range(n)]
        return client.round_open(cfg, specs, rho(n)).round_id, cfg

    # 1. settled, everyone reports, one deposit above the bond, two withdrawals
    r, cfg = open_round(4)
    for i in range(4):
        extra = 12345 if i == 2 else 0
        client.deposit_submit(r, i, client.required_bond(r, i) + extra, sender=orgs[i])
    for i, (x, f) in enumerate([(20, 1), (110, 5), (60, 3), (90, 2)]):
        client.contribution_submit(r, i, x, f, sender=orgs[i])
    warp_to(w3, cfg.report_deadline + 1)
    client.payoff_calculate(r)
    for i in (0, 1):
        client.payoff_transfer(r, i, sender=orgs[i])
    sc.rounds["settled"] = r

    # 2. missing reporters: slots 2 and 3 join but never report, slot 4 never joins
    r, cfg = open_round(5, gamma=7 * 10**11, lambda_=1.25)
    for i in range(4):
        client.deposit_submit(r, i, sender=orgs[i])
    warp_to(w3, cfg.deposit_deadline + 1)
    client.contribution_submit(r, 0, 100, 4, sender=orgs[0])
    client.contribution_submit(r, 1, 15, 1, sender=orgs[1])
    warp_to(w3, cfg.report_deadline + 1)
    client.payoff_calculate(r)
    for i in range(4):
        client.payoff_transfer(r, i, sender=orgs[i])
    sc.rounds["missing"] = r

    # 3. abandoned by the operator while deposits are open
    r, cfg = open_round(3)
    client.deposit_submit(r, 1, sender=orgs[1])
    client.round_abandon(r)
    client.payoff_transfer(r, 1, sender=orgs[1])
    sc.rounds["abandoned_op"] = r

    # 4. nobody settles in time: anyone abandons after the settle deadline
    r, cfg = open_round(3)
    for i in range(3):
        client.deposit_submit(r, i, sender=orgs[i])
    client.contribution_submit(r, 0, 50, 2, sender=orgs[0])
    client.contribution_submit(r, 2, 120, 6, sender=orgs[2])
    warp_to(w3, cfg.settle_deadline + 1)
    client.round_abandon(r, sender=orgs[2])
    client.payoff_transfer(r, 0, sender=orgs[0])
    sc.rounds["abandoned_late"] = r

    # 5. attested reports with fixed-point scales
    r, cfg = open_round(
        3,
        gamma=3_300_000_000,
        lambda_=0.37,
        d_min=0.25,
        x_scale=1000,
        f_scale=10,
        coordinator=sc.coordinator.address,
        x_max=100_000,
        f_max=64,
    )
    for i in range(3):
        client.deposit_submit(r, i, sender=orgs[i])
    for i, (x, f) in enumerate([(25_000, 7), (61_234, 31), (100_000, 60)]):
        att = client.sign_contribution(sc.coordinator, r, i, orgs[i].address, x, f)
        client.contribution_submit(r, i, x, f, att, sender=orgs[i])
    warp_to(w3, cfg.report_deadline + 1)
    client.payoff_calculate(r)
    sc.rounds["attested"] = r

    # 6. still open: in the report phase, deposits locked
    r, cfg = open_round(3)
    client.deposit_submit(r, 0, sender=orgs[0])
    client.deposit_submit(r, 1, sender=orgs[1])
    warp_to(w3, cfg.deposit_deadline + 1)
    client.contribution_submit(r, 0, 40, 1, sender=orgs[0])
    sc.rounds["open"] = r
    return sc
