"""A real history of rounds on a fresh FedSettle, for the auditor tests.

Rounds, in order (each finished before the next opens, so time warps do not interfere):

1. ``settled``: 4 orgs all deposit (one above its bond) and self-report; settled; 2 pull.
2. ``missing``: 5 slots, 4 deposit, 2 report (two silent depositors, settled at their minimum;
   one never joins); settled in chunks of 2 slots; every depositor is paid by one push batch.
3. ``abandoned_op``: the operator abandons during the deposit phase (1 deposit, withdrawn).
4. ``abandoned_late``: 1 of 3 slots deposits; once deposits close another org abandons (fewer
   than two depositors); the depositor withdraws.
5. ``attested``: the coordinator submits the report table (slot 1 left empty: silent), non-trivial
   scales; settled; nobody withdraws.
6. ``open``: still in the report phase (2 deposits, 1 report): deposits locked (opened last,
   so that no later time warp closes its reports).
7. ``token``: an ERC-20 (TestToken) round, silos approve and deposit through
   ``fl_node.chain_steps.join``; settled; paid by push.
8. ``cogen``: mechanism 2 (score D + q x, bases D on the slots), slot 2 silent (settled at
   x = 0); settled; paid by push.
9. ``cogen_measured``: mechanism 2 with a coordinator whose table carries measured
   (leave-one-out) scores, slot 1 unmeasured; settled; nobody withdraws.

The v2 steps go through ``fl_node.chain_steps`` (join, report, submit_table, settle, payout,
withdraw) on top of :class:`settlement.SettlementClient`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from fl_node import chain_steps as steps
from settlement import (
    MECHANISM_COGEN,
    ZERO_ADDRESS,
    AnvilBackend,
    OrgSpec,
    RoundConfig,
    SettlementClient,
    TokenClient,
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


#: the measured scores of round 9's table (slot 1 not measured)
MEASURED_SCORES = {0: 0.031, 2: -0.0045}


@dataclass
class Scenario:
    """The chain, the contract, the accounts and the round ids by name."""

    chain: AnvilBackend
    client: SettlementClient
    orgs: list[LocalAccount]
    coordinator: LocalAccount
    token: TokenClient
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
    token = TokenClient.deploy(chain, dev_account(0), "TestToken", nonces=client.nonces)
    for a in orgs[:3]:
        token.mint(dev_account(0), a.address, 10**15)
    sc = Scenario(chain=chain, client=client, orgs=orgs, coordinator=dev_account(1), token=token)

    def open_round(
        n: int,
        *,
        gamma: int = 10**12,
        lambda_: float = 0.5,
        d_min: float = 0.1,
        x_scale: int = 1,
        f_scale: int = 1,
        coordinator: str = ZERO_ADDRESS,
        token: str = ZERO_ADDRESS,
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
            token=token,
        )
        specs = [OrgSpec(to_address(orgs[i].address), x_max + 10 * i, f_max + i) for i in range(n)]
        return client.round_open(cfg, specs, rho(n)).round_id, cfg

    # 1. settled, everyone reports, one deposit above the bond, two pull withdrawals
    r, cfg = open_round(4)
    for i in range(4):
        extra = 12345 if i == 2 else 0
        client.deposit_submit(r, i, client.required_bond(r, i) + extra, sender=orgs[i])
    for i, (x, f) in enumerate([(20, 1), (110, 5), (60, 3), (90, 2)]):
        steps.report(client, r, i, orgs[i], x, f)
    steps.settle(client, r)
    for i in (0, 1):
        steps.withdraw(client, r, i, orgs[i])
    sc.rounds["settled"] = r

    # 2. silent depositors: slots 2 and 3 join but never report, slot 4 never joins
    r, cfg = open_round(5, gamma=7 * 10**11, lambda_=1.25)
    for i in range(4):
        steps.join(client, r, i, orgs[i])
    warp_to(w3, cfg.deposit_deadline + 1)
    steps.report(client, r, 0, orgs[0], 100, 4)
    steps.report(client, r, 1, orgs[1], 15, 1)
    warp_to(w3, cfg.report_deadline + 1)
    steps.settle(client, r, orgs[4], chunk=2)
    steps.payout(client, r, orgs[4])
    sc.rounds["missing"] = r

    # 3. abandoned by the operator while deposits are open
    r, cfg = open_round(3)
    steps.join(client, r, 1, orgs[1])
    client.round_abandon(r)
    steps.withdraw(client, r, 1, orgs[1])
    sc.rounds["abandoned_op"] = r

    # 4. deposits closed with one depositor: anyone abandons
    r, cfg = open_round(3)
    steps.join(client, r, 0, orgs[0])
    warp_to(w3, cfg.deposit_deadline + 1)
    client.round_abandon(r, sender=orgs[2])
    steps.withdraw(client, r, 0, orgs[0])
    sc.rounds["abandoned_late"] = r

    # 5. the coordinator's report table with fixed-point scales; slot 1 silent
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
        steps.join(client, r, i, orgs[i])
    steps.submit_table(client, r, {0: (25_000, 7), 2: (100_000, 60)}, sc.coordinator)
    steps.settle(client, r)
    sc.rounds["attested"] = r

    # 7. settled in an ERC-20: approve + deposit, self-reports, push payouts
    r, cfg = open_round(3, gamma=10**6, token=token.address)
    for i in range(3):
        steps.join(client, r, i, orgs[i])
    for i, (x, f) in enumerate([(30, 2), (100, 1), (77, 5)]):
        steps.report(client, r, i, orgs[i], x, f)
    steps.settle(client, r)
    steps.payout(client, r)
    sc.rounds["token"] = r

    # 8. cogen: public bases D_i, reports x only (f = 0), slot 2 silent
    cfg = client.round_config_from_reals(
        gamma=10**13, lambda_="0.75", d_min=0, mechanism_id=MECHANISM_COGEN
    )
    specs = [
        OrgSpec(to_address(orgs[i].address), x_max=xm, f_max=0, base=d)
        for i, (xm, d) in enumerate([(286, 143), (214, 107), (1194, 597)])
    ]
    r = client.round_open(cfg, specs, rho(3)).round_id
    for i in range(3):
        steps.join(client, r, i, orgs[i])
    steps.report(client, r, 0, orgs[0], 120, 0)
    steps.report(client, r, 1, orgs[1], 214, 0)
    warp_to(w3, cfg.report_deadline + 1)
    steps.settle(client, r)
    steps.payout(client, r)
    sc.rounds["cogen"] = r

    # 9. cogen with a coordinator: its one table carries measured (leave-one-out) scores
    cfg = client.round_config_from_reals(
        gamma=10**13,
        lambda_="1",
        d_min=0,
        mechanism_id=MECHANISM_COGEN,
        coordinator=sc.coordinator.address,
    )
    r = client.round_open(cfg, specs, rho(3)).round_id
    for i in range(3):
        steps.join(client, r, i, orgs[i])
    steps.submit_table(
        client, r, {0: (200, 0), 2: (50, 0)}, sc.coordinator, measured=MEASURED_SCORES
    )
    steps.settle(client, r)
    sc.rounds["cogen_measured"] = r

    # 6 (played last: later rounds warp time). still open: in the report phase, deposits locked
    r, cfg = open_round(3)
    steps.join(client, r, 0, orgs[0])
    steps.join(client, r, 1, orgs[1])
    warp_to(w3, cfg.deposit_deadline + 1)
    steps.report(client, r, 0, orgs[0], 40, 1)
    sc.rounds["open"] = r

    return sc
