// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title IFedSettle: budget-balanced, bonded settlement of coopetitive federated-learning rounds
/// @notice The interface every fedsettle settlement contract implements (version 2). The full
///  written specification with test vectors is docs/settlement-spec.md; this file is its summary.
///
///  Units: amounts are in the round's asset (wei for ETH, token units for an ERC-20); the pair
///  weights w_ij (rho for TradeFL, gamma_ij for cogen) are basis points (BPS = 10_000); gammaWad,
///  lambdaWad and dMinWad are WAD (1e18) fixed point; reports x, f are integers in the round's
///  scales (x_real = x / xScale, f_real = f / fScale).
///
///  The weights travel as the strict upper triangle, row-major: entry (i, j), i < j, is the
///  big-endian uint16 at byte offset 2 * (i * (2n - i - 1) / 2 + j - i - 1); w_ji = w_ij and
///  w_ii = 0 by construction, so symmetry needs no check. The n(n-1) bytes are stored as the code
///  of data contracts of at most RHO_CHUNK bytes each (roundOpen carries the first chunk,
///  rhoAppend the rest).
///
///  Mechanisms (each one a rule library in contracts/rules/, selected by mechanismId):
///   1 TradeFL:  score_i = x_i * fScale * WAD + lambdaWad * f_i * xScale,
///               scoreUnit = xScale * fScale * WAD, minimum report (ceil(dMinWad xMax_i / WAD), 1)
///   2 cogen:    score_i = base_i * xScale * WAD + lambdaWad * x_i  (base_i = D_i, the slot's real
///               sample count; lambdaWad = q, the quality weight of a synthetic sample),
///               scoreUnit = xScale * WAD, minimum report (0, 0)
///   3 market:   the model-sharing market (rules/MarketRule.sol via rules/MarketSession.sol):
///               gammaWad = wei per unit of utility, lambdaWad = lambda_pay, dMinWad = the FL
///               rounds the bonds cover; slot base = N_i, xMax = K_i xScale, fMax = c_i fScale;
///               score_i = N_i. The coordinator's table carries every FL round's graph and edge
///               distances; the contract computes r_ij and the payoffs from it (no pair weights:
///               rho is all zeros); bond_i = MarketRule.bond, the importer's worst case.
///  Both pairwise rules pay, for every ordered pair of depositors (i, j),
///      t_ij = trunc(gammaWad * w_ij * (score_i - score_j) / (BPS * WAD * scoreUnit))
///  and R_i = sum_j t_ij. Truncation toward zero is odd, so t_ji = -t_ij and sum_i R_i = 0
///  exactly: each org's payoff is computed from its own row, in any order, in resumable chunks.
///
///  Money rules (mechanisms.md 4.1):
///  - bond_i = sum_{j != i} trunc(gammaWad * w_ij * max(0, sMax_j - sMin_i) / (BPS WAD scoreUnit)),
///    the exact worst-case liability (rivals at their maximum score, i at its minimum), computed
///    once at open for every slot when the whole triangle comes with roundOpen (n(n-1) <=
///    RHO_CHUNK), else at deposit from row i; deposit_i + R_i >= 0 always.
///  - Silence never pays: a depositor without a report is settled at its minimum report.
///  - No veto after reports open: the round's operator may abandon only in phase Deposit; anyone
///    may abandon once deposits closed with fewer than two depositors; nobody else, ever. Once
///    reports close anyone may settle, at any time.
///  - Bounded locks: depositDeadline - now and reportDeadline - depositDeadline are each at most
///    MAX_PHASE_SPAN (30 days).
///  - One valid report per slot: with a coordinator, the coordinator account itself submits the
///    whole table once (contributionTableSubmit); without one, each org reports once.
///  - paramsDigest is computed by the contract from the round's numbers (see paramsDigest below).
interface IFedSettle {
    // ------------------------------------------------------------------ types
    /// Round parameters fixed at open.
    struct RoundConfig {
        uint8 mechanismId; // 1 = TradeFL, 2 = cogen (synthetic-data generation), 3 = market
        address token; // ERC-20 the round settles in; address(0) = ETH
        address coordinator; // if non-zero, only this account submits the report table
        uint256 gammaWad; // wei (token units) per unit of score difference; cogen: kappa
        uint256 lambdaWad; // TradeFL: score units per unit of f; cogen: q, weight of a synthetic sample
        uint256 dMinWad; // TradeFL: x_i >= ceil(dMinWad * xMax_i / WAD), 0 < dMinWad <= WAD; cogen: 0
        uint64 xScale; // 1 <= xScale <= 1e9
        uint64 fScale; // 1 <= fScale <= 1e9 (cogen: 1)
        uint64 depositDeadline; // deposits accepted while block.timestamp <= it
        uint64 reportDeadline; // reports accepted while block.timestamp <= it; > depositDeadline
    }

    /// One organization slot, fixed at open.
    struct OrgSpec {
        address account; // the only address that may deposit, report and pull-withdraw
        uint64 xMax; // maximum x (TradeFL: > 0; cogen: synthetic samples, may be 0)
        uint64 fMax; // maximum f (TradeFL: > 0; cogen: 0)
        uint64 base; // cogen: D_i, the public real-sample count; TradeFL: 0
    }

    enum Phase {
        None, // round does not exist
        Deposit, // accepting deposits (once rho is complete)
        Report, // accepting contribution reports
        Calculate, // reports closed; payoffCalculate may run (in chunks) at any time
        Settled, // payoffs computed; payouts open (deposit + R_i)
        Abandoned // abandoned; payouts open (deposit in full)
    }

    /// Per-round, per-org record for auditors.
    struct Profile {
        address account;
        uint64 xMax;
        uint64 fMax;
        uint64 base;
        uint256 bond; // required bond (computed from row i; 0 while rho is incomplete)
        uint256 deposited; // amount deposited (>= bond), 0 if not joined
        uint64 x; // reported x (0 if not reported)
        uint64 f; // reported f
        uint256 score; // score the slot is settled at (its report, else its minimum); 0 if not joined
        int256 payoff; // R_i (0 until computed)
        bool joined;
        bool reported;
        bool withdrawn;
    }

    /// Per-round summary for auditors.
    struct RoundState {
        Phase phase;
        uint32 n; // organization slots
        uint32 joinedCount;
        uint32 reportedCount;
        uint32 settledCount; // slots whose payoff is computed (payoffCalculate's cursor)
        uint256 totalDeposits;
        uint256 totalWithdrawn;
        uint256 rhoBytes; // bytes of the weight triangle uploaded so far (complete at n(n-1))
        bytes32 rhoHash; // chained hash of the triangle's chunks (0 until complete)
        bytes32 orgsHash; // keccak256(0x00 || org table rows) (the org table code without the terms)
        bytes32 paramsDigest; // digest of every parameter (0 until rho is complete)
        bytes32 payoffDigest; // chained digest of the payoff table (final once Settled)
        address operator; // who opened the round
    }

    // ------------------------------------------------------------------ events
    event RoundOpened(uint256 indexed roundId, address indexed operator, RoundConfig config, uint256 n);
    event OrgRegistered(
        uint256 indexed roundId, uint256 index, address indexed account, uint64 xMax, uint64 fMax, uint64 base
    );
    event RhoAppended(uint256 indexed roundId, uint256 chunk, address data, uint256 rhoBytes);
    event RoundReady(uint256 indexed roundId, bytes32 rhoHash, bytes32 paramsDigest);
    event DepositSubmitted(uint256 indexed roundId, uint256 index, address indexed account, uint256 amount, uint256 bond);
    event ContributionSubmitted(uint256 indexed roundId, uint256 index, address indexed account, uint64 x, uint64 f, uint256 score);
    event ReportTableSubmitted(uint256 indexed roundId, address indexed coordinator, address data, uint32 reports);
    event PayoffCalculated(uint256 indexed roundId, uint256 index, address indexed account, uint256 score, int256 payoff);
    event RoundSettled(uint256 indexed roundId, address indexed caller, uint32 depositors, bytes32 payoffDigest);
    event RoundAbandoned(uint256 indexed roundId, address indexed caller, Phase atPhase);
    event PayoffTransferred(uint256 indexed roundId, uint256 index, address indexed account, uint256 amount);
    event PayoffDeferred(uint256 indexed roundId, uint256 index, address indexed account, uint256 amount);

    // ------------------------------------------------------------------ errors
    error NotOperator(address caller);
    error UnknownRound(uint256 roundId);
    error UnsupportedMechanism(uint8 mechanismId);
    error InvalidParameter(string field); // e.g. "xScale", "deadlines", "orgs", "xMax[3]", "token"
    // "lambdaWad" / "gammaWad": worst-case amounts would overflow; "amount": a deposit >= 2^120;
    // "totalDeposits": the round's total would pass 2^128 - 1; "liabilities": the token's total
    error ParameterOverflow(string field);
    error PhaseSpanTooLong(string field, uint256 span, uint256 maxSpan); // field "deposit" or "report"
    error RhoLength(uint256 expected, uint256 actual); // a chunk of the wrong size
    error RhoOutOfRange(uint256 offset, uint256 value); // an entry above 10_000 at this byte offset
    error RhoIncomplete(uint256 uploaded, uint256 expected);
    error RhoComplete(uint256 roundId);
    error DuplicateAccount(address account);
    error BadIndex(uint256 index, uint256 n);
    error WrongCaller(address expected, address caller);
    error WrongPhase(Phase expected, Phase actual);
    error AlreadyDeposited(uint256 index);
    error BondTooSmall(uint256 required, uint256 sent);
    error ValueMismatch(uint256 expected, uint256 sent); // msg.value != amount (ETH) or != 0 (token)
    error TokenShortfall(uint256 expected, uint256 received); // fee-on-transfer and similar tokens
    error NotJoined(uint256 index);
    error AlreadyReported(uint256 index);
    error ReportOutOfBounds(string field, uint256 value, uint256 min, uint256 max); // "x[i]" or "f[i]"
    error ReportsByCoordinator(address coordinator); // self-report in a round with a coordinator
    error NoCoordinator(); // table submitted to a round without a coordinator
    error TableAlreadySubmitted();
    error TableLength(uint256 expected, uint256 actual);
    error CannotAbandon(Phase phase);
    error AlreadyWithdrawn(uint256 index);
    error NothingToWithdraw(uint256 index);
    error TransferFailed(address to, uint256 amount);
    // mechanism 3: a bad graph in the table (raised by MarketRule.checkGraph inside MarketEngine)
    error MarketLengthMismatch(uint256 expected, uint256 got);
    error MarketRowStart(uint256 index);
    error MarketBadExporter(uint256 importer, uint256 exporter);
    error MarketDuplicateEdge(uint256 importer, uint256 exporter);
    error MarketDistanceOutOfRange(uint256 importer, uint256 exporter, uint256 distWad);

    // ------------------------------------------------------------------ entry points
    /// Opens a round (contract operator only): validates config and orgs, stores the org table as
    /// code and the first chunk of the weight triangle (`rho`: all of it when n(n-1) <= RHO_CHUNK).
    function roundOpen(RoundConfig calldata config, OrgSpec[] calldata orgs, bytes calldata rho)
        external
        returns (uint256 roundId);

    /// Appends the next chunk of the weight triangle (the round's operator, phase Deposit).
    function rhoAppend(uint256 roundId, bytes calldata chunk) external;

    /// Joins slot `index` with `amount` >= bond(index): ETH rounds send msg.value == amount; token
    /// rounds send no ether and the contract pulls `amount` with transferFrom (approve first).
    function depositSubmit(uint256 roundId, uint256 index, uint256 amount) external payable;

    /// depositSubmit for a token round, with an EIP-2612 permit instead of a prior approve.
    function depositWithPermit(
        uint256 roundId,
        uint256 index,
        uint256 amount,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external;

    /// Self-report (rounds without a coordinator): slot `index`'s account reports (x, f) once.
    function contributionSubmit(uint256 roundId, uint256 index, uint64 x, uint64 f) external;

    /// The coordinator submits the whole assignment table once: n rows of (uint64 x, uint64 f)
    /// big-endian (16 bytes per slot); a row (0, 0) means "no report" (settled at the minimum).
    /// Mechanism 2 (cogen) only: the rows may be followed by n big-endian int64 measured scores
    /// (each slot's leave-one-out contribution in units of 1e-9 validation loss, int64 min = not
    /// measured). They are stored with the table, attested by the coordinator's one transaction,
    /// and never enter a payoff or a bond.
    /// Mechanism 3: the table is uint16 R then R graphs (MarketSession: rowStart as n + 1 uint16,
    /// then per edge uint16 exporter, uint64 distWad); a slot named in no graph trades nothing.
    function contributionTableSubmit(uint256 roundId, bytes calldata table) external;

    /// Computes the payoffs of the next `maxOrgs` slots (0 = all remaining); anyone, phase
    /// Calculate; the call that reaches slot n settles the round.
    function payoffCalculate(uint256 roundId, uint256 maxOrgs) external;

    /// Pull payment: slot `index`'s account withdraws deposit + R_i (Settled) or deposit (Abandoned).
    function payoffTransfer(uint256 roundId, uint256 index) external;

    /// Push payments (anyone) to slots [start, start + count): each gets its payout with a fixed
    /// gas stipend; a recipient that refuses is skipped (PayoffDeferred) and pulls later.
    function payoutBatch(uint256 roundId, uint256 start, uint256 count) external;

    /// Abandons a round: by its operator in phase Deposit; by anyone once deposits closed with
    /// fewer than two depositors. Every deposit is then withdrawable in full.
    function roundAbandon(uint256 roundId) external;

    // ------------------------------------------------------------------ views
    function profileRecord(uint256 roundId, uint256 index) external view returns (Profile memory);
    function requiredBond(uint256 roundId, uint256 index) external view returns (uint256);
    function roundConfig(uint256 roundId) external view returns (RoundConfig memory);
    function roundState(uint256 roundId) external view returns (RoundState memory);
    function rhoChunks(uint256 roundId) external view returns (address[] memory);
    function phaseOf(uint256 roundId) external view returns (Phase); // None for an unknown round id
    function roundCount() external view returns (uint256);
    function operator() external view returns (address);
    function liabilities(address token) external view returns (uint256); // owed to depositors, all rounds
}
