// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title IFedSettle: budget-balanced settlement of coopetitive federated-learning rounds
/// @notice The interface every fedsettle settlement contract implements. Units:
///  - amounts are wei;
///  - rho entries are basis points (BPS = 10_000), passed as `bytes rho`: n*n big-endian uint16,
///    row-major, symmetric, zero diagonal, each entry <= 10_000;
///  - gammaWad (wei per unit of contribution score) and lambdaWad (score units per unit of f)
///    and dMinWad (fraction of xMax) are WAD (1e18) fixed point;
///  - reports x (contributed data d_i s_i) and f (compute level) are integers in the round's
///    scales xScale and fScale: x_real = x / xScale, f_real = f / fScale.
///  The exact contribution score is the integer
///      score_i = x_i * fScale * WAD + lambdaWad * f_i * xScale
///  (c_i = score_i / (xScale * fScale * WAD)), and the pair transfer, computed once per unordered
///  pair {i, j} of reporters with i < j and rounded toward zero, is
///      t_ij = gammaWad * rho_ij * (score_i - score_j) / (BPS * WAD * xScale * fScale * WAD)
///  credited to i and debited from j, so the payoffs sum to exactly zero.
interface IFedSettle {
    // ------------------------------------------------------------------ types
    /// Round parameters fixed at open.
    struct RoundConfig {
        uint8 mechanismId; // 1 = TradeFL pairwise redistribution (the only one implemented)
        uint256 gammaWad;
        uint256 lambdaWad;
        uint256 dMinWad; // x_i >= ceil(dMinWad * xMax_i / WAD); 0 < dMinWad <= WAD
        uint64 xScale; // 1 <= xScale <= 1e9
        uint64 fScale; // 1 <= fScale <= 1e9
        uint64 depositDeadline; // unix seconds; deposits accepted while block.timestamp <= it
        uint64 reportDeadline; // reports accepted while block.timestamp <= it; > depositDeadline
        uint64 settleDeadline; // payoffCalculate must run by then, else anyone may abandon; > reportDeadline
        address coordinator; // if non-zero, every report needs this key's EIP-712 attestation
        bytes32 paramsDigest; // digest (sha256 or keccak) of the off-chain parameter file
    }

    /// One organization slot, fixed at open.
    struct OrgSpec {
        address account; // the only address that may deposit, report and withdraw for this slot
        uint64 xMax; // per-org maximum contribution x (e.g. s_i in xScale units); > 0
        uint64 fMax; // per-org maximum compute level f; > 0
    }

    enum Phase {
        None, // round does not exist
        Deposit, // accepting deposits
        Report, // accepting contribution reports
        Calculate, // reports closed; payoffCalculate may be called
        Settled, // payoffs computed; withdrawals open (bond + R_i)
        Abandoned // abandoned; withdrawals open (deposit in full)
    }

    /// Per-round, per-org profile for auditors.
    struct Profile {
        address account;
        uint256 bond; // required bond computed at open (worst-case liability)
        uint256 deposited; // amount actually deposited (>= bond), 0 if not joined
        uint64 xMax;
        uint64 fMax;
        uint64 x; // reported x (0 if not reported)
        uint64 f; // reported f
        uint256 score; // exact score (0 if not reported)
        int256 payoff; // R_i in wei (0 until settled; 0 for non-reporters)
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
        uint256 totalDeposits; // wei deposited into this round
        uint256 totalWithdrawn; // wei paid out of this round
        bytes32 rhoHash; // keccak256(rho)
        bytes32 payoffDigest; // keccak256 of the payoff table, 0 until settled
        address operator; // who opened the round
    }

    // ------------------------------------------------------------------ events
    event RoundOpened(uint256 indexed roundId, address indexed operator, RoundConfig config, bytes rho);
    event OrgRegistered(uint256 indexed roundId, uint256 index, address indexed account, uint64 xMax, uint64 fMax, uint256 bond);
    event DepositSubmitted(uint256 indexed roundId, uint256 index, address indexed account, uint256 amount);
    event ContributionSubmitted(uint256 indexed roundId, uint256 index, address indexed account, uint64 x, uint64 f, uint256 score);
    event PayoffCalculated(uint256 indexed roundId, uint256 index, address indexed account, uint256 score, int256 payoff);
    event RoundSettled(uint256 indexed roundId, address indexed caller, uint32 reporters, bytes32 payoffDigest);
    event RoundAbandoned(uint256 indexed roundId, address indexed caller, Phase atPhase);
    event PayoffTransferred(uint256 indexed roundId, uint256 index, address indexed account, uint256 amount);

    // ------------------------------------------------------------------ errors
    error NotOperator(address caller);
    error UnknownRound(uint256 roundId);
    error UnsupportedMechanism(uint8 mechanismId);
    error InvalidParameter(string field); // e.g. "gammaWad", "xScale", "deadlines", "orgs", "xMax[3]"
    // worst-case amounts would overflow: "lambdaWad" (a score above 2^255 - 1), "gammaWad"
    // (gammaWad * 10_000 * max score above 2^255 - 1), "bond[i]" (bond >= 2^96 wei), "msg.value"
    error ParameterOverflow(string field);
    error RhoLength(uint256 expected, uint256 actual); // bytes length != 2*n*n
    error RhoNotSymmetric(uint256 i, uint256 j);
    error RhoDiagonalNonZero(uint256 i);
    error RhoOutOfRange(uint256 i, uint256 j, uint256 value);
    error RhoMismatch(bytes32 expected, bytes32 actual); // rho passed to payoffCalculate is not the round's
    error DuplicateAccount(address account);
    error BadIndex(uint256 index, uint256 n);
    error WrongCaller(address expected, address caller);
    error WrongPhase(Phase expected, Phase actual);
    error AlreadyDeposited(uint256 index);
    error BondTooSmall(uint256 required, uint256 sent);
    error NotJoined(uint256 index);
    error AlreadyReported(uint256 index);
    error ReportOutOfBounds(string field, uint256 value, uint256 min, uint256 max); // field "x" or "f"
    error BadAttestation(address recovered, address coordinator);
    error CannotAbandon(Phase phase);
    error AlreadyWithdrawn(uint256 index);
    error NothingToWithdraw(uint256 index);
    error TransferFailed(address to, uint256 amount);
    error Reentrancy();

    // ------------------------------------------------------------------ entry points
    /// Opens a round (operator only). Validates every parameter and rho, computes each org's
    /// required bond = its worst-case liability (others at max score, itself at min score),
    /// stores per-org records and keccak256(rho). Returns the new round id (ids start at 1).
    function roundOpen(RoundConfig calldata config, OrgSpec[] calldata orgs, bytes calldata rho)
        external
        returns (uint256 roundId);

    /// Joins round `roundId` as slot `index` by depositing msg.value >= bond(index).
    /// The whole msg.value is recorded and returned at withdrawal (plus R_i when settled).
    function depositSubmit(uint256 roundId, uint256 index) external payable;

    /// Reports (x, f) once. `attestation` is the coordinator's 65-byte EIP-712 signature over
    /// Contribution(uint256 roundId,uint256 index,address account,uint64 x,uint64 f) in domain
    /// (name "FedSettle", version "1", chainId, verifyingContract); ignored (may be empty) when the
    /// round has no coordinator.
    function contributionSubmit(uint256 roundId, uint256 index, uint64 x, uint64 f, bytes calldata attestation)
        external;

    /// Computes and records every R_i (once per unordered pair of reporters), the payoff digest,
    /// and moves the round to Settled. Callable by anyone in phase Calculate, with the round's rho.
    function payoffCalculate(uint256 roundId, bytes calldata rho) external;

    /// Pull payment: slot `index`'s account withdraws deposit + R_i (Settled) or deposit (Abandoned).
    function payoffTransfer(uint256 roundId, uint256 index) external;

    /// Abandons a round: by anyone once its settle deadline passed unsettled, or once the deposit
    /// deadline passed with fewer than two deposits; by the operator at any time before Settled.
    function roundAbandon(uint256 roundId) external;

    // ------------------------------------------------------------------ views
    function profileRecord(uint256 roundId, uint256 index) external view returns (Profile memory);
    function roundConfig(uint256 roundId) external view returns (RoundConfig memory);
    function roundState(uint256 roundId) external view returns (RoundState memory);
    function phaseOf(uint256 roundId) external view returns (Phase); // None for an unknown round id
    function roundCount() external view returns (uint256);
    function contributionDigest(uint256 roundId, uint256 index, uint64 x, uint64 f) external view returns (bytes32);
    function operator() external view returns (address);
    function liabilities() external view returns (uint256); // wei owed to depositors, all rounds
}
