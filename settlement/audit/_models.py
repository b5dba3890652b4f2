"""Response models of the auditor (API, CLI ``--format json`` and exports share them).

Amounts are exact integers in wei (JSON integers of any size, never floats; with
``?amounts=string`` every amount and score is a decimal string instead, see
:func:`settlement.audit._amounts.stringify_amounts`); ``*_real`` fields are the same values as floats for display only.
Addresses are checksummed hex, hashes ``0x`` hex. Every property carries a description: the
OpenAPI schema is the API's reference.
"""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, Field

from settlement._types import ZERO_ADDRESS

PhaseName = Literal["None", "Deposit", "Report", "Calculate", "Settled", "Abandoned"]
PHASE_NAMES: tuple[PhaseName, ...] = (
    "None",
    "Deposit",
    "Report",
    "Calculate",
    "Settled",
    "Abandoned",
)

CheckStatus = Literal["passed", "failed", "not_checked"]
VerificationStatus = Literal["verified", "failed", "not_verified"]

_WEI = "in wei, or token units in a token round (a decimal string with ?amounts=string)"
_SCORE = "exact on-chain score xScale fScale 1e18 c_i (a decimal string with ?amounts=string)"
_ROUND = "round id"
_INDEX = "org slot index, 0 .. n-1"
_ACCOUNT = "org account, checksummed address"


class EventRef(BaseModel):
    """Where an event sits in the chain."""

    block_number: int = Field(description="block that holds the event's transaction")
    block_hash: str = Field(description="hash of that block (0x + 64 hex)")
    log_index: int = Field(description="position of the log in the block")
    tx_hash: str = Field(description="hash of the transaction that emitted the event")
    timestamp: int | None = Field(default=None, description="block timestamp, unix seconds")


class Status(BaseModel):
    """What the index covers."""

    chain_id: int | None = Field(description="chain id the index is bound to")
    contract_address: str | None = Field(description="contract the index is bound to")
    genesis_hash: str | None = Field(
        default=None, description="hash of block 0 of the indexed chain (another chain is refused)"
    )
    deployment_block: int | None = Field(
        default=None, description="block of the contract's creation on the indexed chain"
    )
    indexed_block: int = Field(description="last fully indexed block (-1: none)")
    indexed_block_hash: str = Field(description="hash of the last indexed block ('' if none)")
    indexed_timestamp: int | None = Field(description="timestamp of the last indexed block")
    head_block: int | None = Field(
        default=None, description="the node's latest block, if reachable"
    )
    rounds: int = Field(description="number of rounds in the index")
    labels: dict[str, str] = Field(
        default_factory=dict, description="display names of org accounts (address -> label)"
    )
    auditor_version: str = Field(
        default="", description="version of the fedsettle auditor serving this"
    )


class RoundConfigOut(BaseModel):
    """``IFedSettle.RoundConfig`` as opened, plus the real values for display."""

    mechanism_id: int = Field(description="settlement mechanism (1: TradeFL, 2: cogen)")
    token: str = Field(
        description="ERC-20 the round settles in (0x00..00: ETH); amounts in its units"
    )
    gamma_wad: int = Field(description="gamma, wei per unit of score, times 1e18")
    lambda_wad: int = Field(description="lambda (weight of f in the score) times 1e18")
    d_min_wad: int = Field(description="D_min (least data fraction) times 1e18")
    x_scale: int = Field(description="fixed-point scale of reported x")
    f_scale: int = Field(description="fixed-point scale of reported f")
    deposit_deadline: int = Field(description="deposits close after this unix time")
    report_deadline: int = Field(description="reports close after this unix time")
    coordinator: str = Field(description="address that submits the report table (0 = self-reports)")
    params_digest: str | None = Field(
        description="the contract's digest of every parameter (RoundReady); None until rho is complete"
    )
    gamma_real: float = Field(description="gammaWad / 1e18 (wei per unit of contribution score)")
    lambda_real: float = Field(description="lambdaWad / 1e18")
    d_min_real: float = Field(description="dMinWad / 1e18")
    parameters: dict[str, Any] = Field(
        default_factory=dict,
        description="the round's numbers in its mechanism's own terms (Mechanism.parameters())",
    )


class RoundSummary(BaseModel):
    """One row of the rounds list (the fields of ``IFedSettle.RoundState`` and the deadlines)."""

    round_id: int = Field(description=_ROUND)
    phase: PhaseName = Field(description="phase at the indexed block (the contract's phaseOf)")
    phase_id: int = Field(description="the phase as the contract's enum value")
    n: int = Field(description="number of org slots")
    joined_count: int = Field(description="slots that deposited")
    reported_count: int = Field(description="slots that reported")
    total_deposits_wei: int = Field(description=f"sum of deposits {_WEI}")
    total_withdrawn_wei: int = Field(description=f"sum of withdrawals {_WEI}")
    rho_hash: str = Field(
        description="chained hash of the weight triangle's chunks (0x00..00 until complete)"
    )
    payoff_digest: str = Field(description="0x00..00 until settled, like roundState")
    operator: str = Field(description="address that opened the round")
    deposit_deadline: int = Field(description="deposits close after this unix time")
    report_deadline: int = Field(description="reports close after this unix time")
    token: str = Field(description="ERC-20 the round settles in (0x00..00: ETH)")
    opened: EventRef = Field(description="the RoundOpened event")


class Settlement(BaseModel):
    """The RoundSettled event."""

    caller: str = Field(description="address that settled the round")
    depositors: int = Field(description="number of slots that deposited (and were settled)")
    payoff_digest: str = Field(description="digest of the payoff table")
    event: EventRef = Field(description="the RoundSettled event")


class Abandonment(BaseModel):
    """The RoundAbandoned event."""

    caller: str = Field(description="address that abandoned the round")
    at_phase: PhaseName = Field(description="phase the round was in when abandoned")
    event: EventRef = Field(description="the RoundAbandoned event")


class AssetInfo(BaseModel):
    """The asset a round settles in, for display: every amount is in its base units."""

    token: str = Field(description="the ERC-20 address; 0x00..00 for ether")
    symbol: str | None = Field(description="ETH, or the token's symbol() (null if unknown)")
    decimals: int | None = Field(
        description="18 for ether, or the token's decimals() (null if unknown: show base units)"
    )


class RoundDetail(RoundSummary):
    """Everything about one round: parameters, phase as of the indexed head, rho."""

    config: RoundConfigOut = Field(description="parameters as opened")
    rho_bps: list[list[int]] = Field(description="competition matrix in basis points")
    settlement: Settlement | None = Field(description="the RoundSettled event, if any")
    abandonment: Abandonment | None = Field(description="the RoundAbandoned event, if any")
    as_of_block: int = Field(description="phase is evaluated at this indexed block")
    as_of_timestamp: int | None = Field(description="timestamp of as_of_block")
    asset: AssetInfo | None = Field(
        default=None, description="the settlement asset (symbol and decimals read from the node)"
    )


class OrgRecord(BaseModel):
    """Per-org record: the fields of ``IFedSettle.Profile`` plus payout bookkeeping."""

    round_id: int = Field(description=_ROUND)
    index: int = Field(description=_INDEX)
    account: str = Field(description=_ACCOUNT)
    bond_wei: int = Field(description=f"required bond (worst-case liability) {_WEI}")
    base: int = Field(description="cogen: D_i, the slot's public real-sample count; TradeFL: 0")
    deposited_wei: int = Field(description=f"amount deposited {_WEI}")
    x_max: int = Field(description="largest x the slot may report")
    f_max: int = Field(description="largest f the slot may report")
    x: int = Field(description="reported x (0 if no report)")
    f: int = Field(description="reported f (0 if no report)")
    score: int = Field(
        description=f"{_SCORE} the slot is settled at (a silent depositor: its minimum); 0 if "
        "it never deposited"
    )
    contribution_real: float = Field(description="c_i = score / (xScale fScale 1e18)")
    payoff_wei: int = Field(description=f"R_i {_WEI} (0 until settled, 0 if it never deposited)")
    payoff_pending: bool = Field(
        description="the round is not settled yet: payoff_wei is not a result, R_i is pending"
    )
    joined: bool = Field(description="the slot deposited")
    reported: bool = Field(description="the slot reported")
    withdrawn: bool = Field(description="the slot withdrew")
    withdrawn_wei: int = Field(description=f"amount paid out by PayoffTransferred {_WEI}")
    owed_wei: int = Field(
        description="what the slot can still withdraw: deposit + R_i once settled, the deposit "
        "once abandoned, 0 after withdrawal; before settlement the deposit (locked)"
    )
    payout_deferred: bool = Field(
        default=False,
        description="a push payout to the slot was refused (PayoffDeferred): it stays owed "
        "until the slot pulls (withdrawn tells whether it has)",
    )
    measured_score: float | None = Field(
        default=None,
        description="cogen: the slot's measured marginal contribution (leave-one-out, in "
        "validation-loss units, 1e-9 resolution) that the coordinator's report table carries; "
        "attested, never paid on; null when the table measured nothing for the slot or the "
        "round has no such scores",
    )


class DepositOut(BaseModel):
    """A DepositSubmitted event."""

    round_id: int = Field(description=_ROUND)
    index: int = Field(description=_INDEX)
    account: str = Field(description=_ACCOUNT)
    amount_wei: int = Field(description=f"amount deposited {_WEI}")
    bond_wei: int = Field(description=f"bond the contract required at this deposit {_WEI}")
    event: EventRef = Field(description="where the event is")


class ContributionOut(BaseModel):
    """A ContributionSubmitted event."""

    round_id: int = Field(description=_ROUND)
    index: int = Field(description=_INDEX)
    account: str = Field(description=_ACCOUNT)
    x: int = Field(description="reported x")
    f: int = Field(description="reported f")
    score: int = Field(description=_SCORE)
    contribution_real: float = Field(description="c_i = score / (xScale fScale 1e18)")
    event: EventRef = Field(description="where the event is")


class PayoffOut(BaseModel):
    """A PayoffCalculated event."""

    round_id: int = Field(description=_ROUND)
    index: int = Field(description=_INDEX)
    account: str = Field(description=_ACCOUNT)
    score: int = Field(description=_SCORE)
    payoff_wei: int = Field(description=f"R_i {_WEI}, signed")
    event: EventRef = Field(description="where the event is")


class WithdrawalOut(BaseModel):
    """A PayoffTransferred event."""

    round_id: int = Field(description=_ROUND)
    index: int = Field(description=_INDEX)
    account: str = Field(description=_ACCOUNT)
    amount_wei: int = Field(description=f"amount paid out {_WEI}")
    event: EventRef = Field(description="where the event is")


class TxEvent(BaseModel):
    """One indexed event of a transaction or block."""

    event: str = Field(description="event name (RoundOpened, DepositSubmitted, ...)")
    round_id: int = Field(description=_ROUND)
    index: int | None = Field(description="org slot of the event, if it concerns one")
    account: str | None = Field(description="org account of the event, if it concerns one")
    ref: EventRef = Field(description="where the event is")


class AccountRound(BaseModel):
    """One slot of an account in one round."""

    round_id: int = Field(description=_ROUND)
    index: int = Field(description=_INDEX)
    phase: PhaseName = Field(description="phase of the round at the indexed block")
    deposited_wei: int = Field(description=f"amount deposited {_WEI}")
    payoff_wei: int = Field(description=f"R_i {_WEI} (0 while pending)")
    payoff_pending: bool = Field(description="the round is not settled: R_i is not known yet")
    withdrawn_wei: int = Field(description=f"amount paid out {_WEI}")
    owed_wei: int = Field(description=f"what the slot can still withdraw {_WEI}")


class AccountBalance(BaseModel):
    """An account's money in one asset across the rounds settling in it (one entry per account
    and asset: amounts in different assets are never added)."""

    account: str = Field(description="checksummed address")
    token: str = Field(
        default=ZERO_ADDRESS, description="the asset: an ERC-20 address, 0x00..00 for ether"
    )
    label: str | None = Field(
        default=None, description="display name of the account, if configured"
    )
    deposited_wei: int = Field(description=f"sum of deposits {_WEI}")
    payoff_wei: int = Field(description=f"sum of settled payoffs {_WEI}")
    withdrawn_wei: int = Field(description=f"sum of withdrawals {_WEI}")
    owed_wei: int = Field(description="deposits + payoffs not yet withdrawn")
    rounds: list[AccountRound] = Field(description="one entry per slot the account holds")
    asset: AssetInfo | None = Field(default=None, description="symbol and decimals of ``token``")
    other_assets: list[str] = Field(
        default_factory=list,
        description="/accounts only: the account's other assets (ask again with ?token=)",
    )


class Check(BaseModel):
    """One check of a verification: it passed, failed, or did not run (with the reason)."""

    status: CheckStatus = Field(description="passed, failed, or not_checked")
    reason: str = Field(description="what was compared, what differed, or why it did not run")
    applicable: bool = Field(
        default=True,
        description="false for a check that does not apply to this round (it cannot withhold "
        "'verified'); a not_checked applicable check does",
    )


class TokenSolvency(BaseModel):
    """One ERC-20's balance held by the contract against what it owes in that token."""

    token: str = Field(description="the ERC-20 address (a round settling in it was indexed)")
    check: Check = Field(
        description="passed when balanceOf(contract) == liabilities(token) == index liabilities"
    )
    contract_balance: int | None = Field(description="balanceOf(contract), token base units")
    liabilities: int | None = Field(description="the contract's liabilities(token), base units")
    index_liabilities: int = Field(
        description="deposits minus withdrawals of the indexed rounds in this token, base units"
    )
    surplus: int | None = Field(
        description="balance - liabilities(token): > 0 surplus (tokens sent without a deposit), "
        "< 0 shortfall"
    )


class Solvency(BaseModel):
    """The contract's balances against what it owes (contract-wide, not per round).

    The top-level fields are ether; ``tokens`` has one entry per ERC-20 that an indexed round
    settles in, and ``check`` fails when any asset fails.
    """

    check: Check = Field(description="passed when balance == liabilities() == index liabilities")
    as_of_block: int = Field(description="block the balance and views were read at")
    contract_balance_wei: int | None = Field(description=f"eth_getBalance {_WEI}")
    liabilities_wei: int | None = Field(description=f"the contract's liabilities() {_WEI}")
    index_liabilities_wei: int = Field(
        description=f"deposits minus withdrawals of every indexed round {_WEI}"
    )
    surplus_wei: int | None = Field(
        description=f"balance - liabilities() {_WEI}: > 0 surplus (e.g. forced ether), "
        "< 0 shortfall"
    )
    tokens: list[TokenSolvency] = Field(
        default_factory=list, description="per ERC-20 settlement asset, in the order first used"
    )


class Balances(BaseModel):
    """Money held by the contract for every account (``liabilities()`` from the index)."""

    liabilities_wei: int = Field(description="sum of deposits minus sum of withdrawals")
    contract_balance_wei: int | None = Field(
        default=None, description="eth_getBalance, if reachable"
    )
    solvency: Solvency | None = Field(
        default=None, description="balance vs liabilities, if reachable"
    )
    accounts: list[AccountBalance] = Field(description="one page of accounts")


class DeploymentInfo(BaseModel):
    """What ties a report to one deployment: chain, contract, code and block."""

    chain_id: int | None = Field(description="chain id of the indexed chain")
    contract_address: str | None = Field(description="the contract")
    genesis_hash: str | None = Field(description="hash of block 0 of the chain")
    deployment_block: int | None = Field(description="block of the contract's creation")
    block_number: int = Field(description="the report is as of this indexed block")
    block_hash: str = Field(description="hash of block_number")
    code_hash: str | None = Field(
        description="keccak256 of the contract's runtime code at block_number (None: no node)"
    )
    code: Check = Field(
        description="runtime code vs the artifact's deployedBytecode (immutables masked)"
    )
    artifact: str = Field(description="which artifact the code was compared with")
    auditor_version: str = Field(description="version of the fedsettle auditor")
    generated_at: str = Field(description="UTC time the report was made, ISO 8601")


class DeploymentReport(BaseModel):
    """The deployment and the contract-wide solvency check."""

    deployment: DeploymentInfo = Field(description="chain, contract, code and block")
    solvency: Solvency = Field(description="balance vs liabilities")


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """A page of a list."""

    items: list[T] = Field(description="the items of this page")
    page: int = Field(description="page number, from 1")
    per_page: int = Field(description="items per page")
    total: int = Field(description="items over all pages")


class OrgCheck(BaseModel):
    """Verification of one org slot."""

    index: int = Field(description=_INDEX)
    account: str = Field(description=_ACCOUNT)
    joined: bool = Field(description="the slot deposited")
    reported: bool = Field(description="the slot reported")
    bond_wei: int = Field(description=f"bond required at deposit (or recomputed) {_WEI}")
    deposited_wei: int = Field(description=f"amount deposited {_WEI}")
    deposit_covers_bond: bool = Field(description="deposit >= bond (or the slot never joined)")
    score_recorded: int | None = Field(description="ContributionSubmitted.score, None if none")
    score_expected: int | None = Field(description="recomputed score, None if no report")
    score_ok: bool | None = Field(description="recorded == recomputed; None if not checked")
    payoff_recorded_wei: int | None = Field(description="PayoffCalculated.payoff, None if none")
    payoff_expected_wei: int | None = Field(
        description="recomputed exactly from the on-chain inputs; None while pending (round not "
        "settled) or if the mechanism has no recomputation"
    )
    payoff_solver_real: float | None = Field(
        description="R_i in wei from the solver's real-valued formula (rounding differs)"
    )
    payoff_pending: bool = Field(description="the round is not settled: R_i is pending")
    payoff_ok: bool | None = Field(description="recorded == recomputed; None if not checked")
    status: Literal["withdrawn", "withdrawable", "locked", "not_joined"] = Field(
        description="where the slot's money is"
    )
    owed_wei: int = Field(description=f"what the slot can still withdraw {_WEI}")
    withdrawn_wei: int = Field(description=f"amount paid out {_WEI}")
    withdrawal_ok: bool = Field(description="a withdrawal paid exactly deposit (+ R_i)")


class Verification(BaseModel):
    """Result of recomputing a round from its on-chain inputs."""

    round_id: int = Field(description=_ROUND)
    phase: PhaseName = Field(description="phase at the indexed block")
    as_of_block: int = Field(description="the index block the verification read")
    status: VerificationStatus = Field(
        description="failed if any check failed; verified only if every applicable check ran "
        "and passed (a finished round, compared with a reachable node); else not_verified"
    )
    verified: bool = Field(description="status == 'verified'")
    summary: str = Field(description="one line: the verdict and its main reason")
    checks: dict[str, Check] = Field(description="every check by name, each tri-state")
    mechanism: str | None = Field(description="the mechanism that recomputed the round")
    token: str = Field(
        default="0x0000000000000000000000000000000000000000",
        description="ERC-20 the round settles in (0x00..00: ETH); amounts are in its units",
    )
    parameters: dict[str, Any] = Field(
        default_factory=dict, description="the round's numbers in its mechanism's own terms"
    )
    params_digest_recorded: str | None = Field(
        default=None, description="RoundReady paramsDigest, None until rho is complete"
    )
    params_digest_expected: str | None = Field(
        default=None, description="paramsDigest recomputed from the round's numbers"
    )
    problems: list[str] = Field(description="one message per failed comparison")
    notes: list[str] = Field(description="what was not checked, and why")
    budget_balance_wei: int = Field(description="sum of recorded payoffs; 0 when balanced")
    total_deposits_wei: int = Field(description=f"sum of deposits {_WEI}")
    total_withdrawn_wei: int = Field(description=f"sum of withdrawals {_WEI}")
    outstanding_wei: int = Field(description="deposits - withdrawals of this round")
    expected_outstanding_wei: int = Field(description="sum of owed_wei over the slots")
    all_bonds_withdrawable_or_withdrawn: bool = Field(
        description="every deposit can be withdrawn now or was withdrawn"
    )
    funds_stuck_wei: int = Field(description="wei that can never be withdrawn")
    payoff_digest_recorded: str | None = Field(description="RoundSettled digest, None if none")
    payoff_digest_expected: str | None = Field(description="digest of the recomputed table")
    solver_max_abs_diff_wei: float | None = Field(
        description="largest |exact R_i - solver R_i|; truncation makes it up to n-1 wei"
    )
    orgs: list[OrgCheck] = Field(description="one entry per org slot")


class MarketEdge(BaseModel):
    """One imported pair of a market round's FL round."""

    importer: int = Field(description="slot index of the importing org")
    exporter: int = Field(description="slot index of the org whose model is imported")
    distance_wad: int = Field(description="model distance d_ij in WAD (1e18 = 1.0), in [0, 2e18]")


class MarketGraphOut(BaseModel):
    """One FL round's import graph, as data and as inline SVG."""

    fl_round: int = Field(description="FL round, from 1 (the order of the coordinator's table)")
    edges: list[MarketEdge] = Field(description="every imported pair, importer by importer")
    svg: str = Field(
        description="the graph drawn as a standalone <svg> element (one line per edge)"
    )


class MarketGraphs(BaseModel):
    """The import graphs of a market round (mechanism 3), from the coordinator's table."""

    round_id: int = Field(description=_ROUND)
    n: int = Field(description="number of org slots")
    graphs: list[MarketGraphOut] = Field(
        description="one per FL round; empty until the coordinator's table is submitted"
    )
