"""Response models of the auditor (API, CLI ``--format json`` and exports share them).

Amounts are exact integers in wei (JSON integers of any size, never floats); ``*_real`` fields are
the same values as floats for display only. Addresses are checksummed hex, hashes ``0x`` hex.
"""

from __future__ import annotations

from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, Field

PhaseName = Literal["None", "Deposit", "Report", "Calculate", "Settled", "Abandoned"]
PHASE_NAMES: tuple[PhaseName, ...] = (
    "None",
    "Deposit",
    "Report",
    "Calculate",
    "Settled",
    "Abandoned",
)


class EventRef(BaseModel):
    """Where an event sits in the chain."""

    block_number: int
    block_hash: str
    log_index: int
    tx_hash: str
    timestamp: int | None = Field(None, description="block timestamp, unix seconds")


class Status(BaseModel):
    """What the index covers."""

    chain_id: int | None
    contract_address: str | None
    indexed_block: int = Field(description="last fully indexed block (-1: none)")
    indexed_block_hash: str
    indexed_timestamp: int | None
    head_block: int | None = Field(None, description="the node's latest block, if reachable")
    rounds: int


class RoundConfigOut(BaseModel):
    """``IFedSettle.RoundConfig`` as opened, plus the real values for display."""

    mechanism_id: int
    gamma_wad: int
    lambda_wad: int
    d_min_wad: int
    x_scale: int
    f_scale: int
    deposit_deadline: int
    report_deadline: int
    settle_deadline: int
    coordinator: str
    params_digest: str
    gamma_real: float = Field(description="gammaWad / 1e18 (wei per unit of contribution score)")
    lambda_real: float = Field(description="lambdaWad / 1e18")
    d_min_real: float = Field(description="dMinWad / 1e18")


class RoundSummary(BaseModel):
    """One row of the rounds list (the fields of ``IFedSettle.RoundState`` and the deadlines)."""

    round_id: int
    phase: PhaseName
    phase_id: int
    n: int
    joined_count: int
    reported_count: int
    total_deposits_wei: int
    total_withdrawn_wei: int
    rho_hash: str
    payoff_digest: str = Field(description="0x00..00 until settled, like roundState")
    operator: str
    deposit_deadline: int
    report_deadline: int
    settle_deadline: int
    opened: EventRef


class Settlement(BaseModel):
    """The RoundSettled event."""

    caller: str
    reporters: int
    payoff_digest: str
    event: EventRef


class Abandonment(BaseModel):
    """The RoundAbandoned event."""

    caller: str
    at_phase: PhaseName
    event: EventRef


class RoundDetail(RoundSummary):
    """Everything about one round: parameters, phase as of the indexed head, rho."""

    config: RoundConfigOut
    rho_bps: list[list[int]] = Field(description="competition matrix in basis points")
    settlement: Settlement | None
    abandonment: Abandonment | None
    as_of_block: int = Field(description="phase is evaluated at this indexed block")
    as_of_timestamp: int | None


class OrgRecord(BaseModel):
    """Per-org record: the fields of ``IFedSettle.Profile`` plus payout bookkeeping."""

    round_id: int
    index: int
    account: str
    bond_wei: int
    deposited_wei: int
    x_max: int
    f_max: int
    x: int
    f: int
    score: int
    contribution_real: float = Field(description="c_i = score / (xScale fScale 1e18)")
    payoff_wei: int = Field(description="R_i (0 until settled, 0 for non-reporters)")
    joined: bool
    reported: bool
    withdrawn: bool
    withdrawn_wei: int = Field(description="amount paid out by PayoffTransferred (0 if none)")
    owed_wei: int = Field(
        description="what the slot can still withdraw: deposit + R_i once settled, the deposit "
        "once abandoned, 0 after withdrawal; before settlement the deposit (locked)"
    )


class DepositOut(BaseModel):
    round_id: int
    index: int
    account: str
    amount_wei: int
    event: EventRef


class ContributionOut(BaseModel):
    round_id: int
    index: int
    account: str
    x: int
    f: int
    score: int
    contribution_real: float
    event: EventRef


class PayoffOut(BaseModel):
    round_id: int
    index: int
    account: str
    score: int
    payoff_wei: int
    event: EventRef


class WithdrawalOut(BaseModel):
    round_id: int
    index: int
    account: str
    amount_wei: int
    event: EventRef


class AccountRound(BaseModel):
    """One slot of an account in one round."""

    round_id: int
    index: int
    phase: PhaseName
    deposited_wei: int
    payoff_wei: int
    withdrawn_wei: int
    owed_wei: int


class AccountBalance(BaseModel):
    """An account's money across rounds."""

    account: str
    deposited_wei: int
    payoff_wei: int
    withdrawn_wei: int
    owed_wei: int = Field(description="deposits + payoffs not yet withdrawn")
    rounds: list[AccountRound]


class Balances(BaseModel):
    """Money held by the contract for every account (``liabilities()`` from the index)."""

    liabilities_wei: int = Field(description="sum of deposits minus sum of withdrawals")
    contract_balance_wei: int | None = Field(None, description="eth_getBalance, if reachable")
    accounts: list[AccountBalance]


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """A page of a list."""

    items: list[T]
    page: int
    per_page: int
    total: int


class OrgCheck(BaseModel):
    """Verification of one org slot."""

    index: int
    account: str
    joined: bool
    reported: bool
    bond_wei: int
    deposited_wei: int
    deposit_covers_bond: bool
    score_recorded: int | None
    score_expected: int | None
    score_ok: bool
    payoff_recorded_wei: int | None = Field(description="PayoffCalculated.payoff, None if none")
    payoff_expected_wei: int = Field(description="recomputed exactly from the on-chain inputs")
    payoff_solver_real: float | None = Field(
        description="R_i in wei from the solver's real-valued formula (rounding differs)"
    )
    payoff_ok: bool
    status: Literal["withdrawn", "withdrawable", "locked", "not_joined"]
    owed_wei: int
    withdrawn_wei: int
    withdrawal_ok: bool = Field(description="a withdrawal paid exactly deposit (+ R_i)")


class Verification(BaseModel):
    """Result of recomputing a round from its on-chain inputs."""

    round_id: int
    phase: PhaseName
    as_of_block: int
    ok: bool = Field(
        description="every payoff matches, the budget balances, no funds are stuck, and (when a "
        "node is reachable) the index agrees with the contract's views"
    )
    checks: dict[str, bool | None] = Field(description="each check; None = not applicable")
    problems: list[str] = Field(description="one message per failed check")
    notes: list[str] = Field(description="what could not be checked, and why")
    budget_balance_wei: int = Field(description="sum of recorded payoffs; 0 when balanced")
    total_deposits_wei: int
    total_withdrawn_wei: int
    outstanding_wei: int = Field(description="deposits - withdrawals of this round")
    expected_outstanding_wei: int = Field(description="sum of owed_wei over the slots")
    all_bonds_withdrawable_or_withdrawn: bool
    funds_stuck_wei: int
    payoff_digest_recorded: str | None
    payoff_digest_expected: str | None
    solver_max_abs_diff_wei: float | None = Field(
        description="largest |exact R_i - solver R_i|; truncation makes it up to n-1 wei"
    )
    orgs: list[OrgCheck]
