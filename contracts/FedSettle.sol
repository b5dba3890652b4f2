// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IFedSettle} from "./IFedSettle.sol";
import {Attestation} from "./lib/Attestation.sol";
import {OrgTable} from "./lib/OrgTable.sol";
import {Redistribution} from "./lib/Redistribution.sol";
import {RhoMatrix} from "./lib/RhoMatrix.sol";

/// @title FedSettle: budget-balanced, bonded settlement of TradeFL federated-learning rounds
/// @notice Implements IFedSettle (units, score and pair-transfer formulas are documented there and
///  in lib/Redistribution.sol).
///
///  Phases (computed from the clock and the counters; only Settled and Abandoned are stored):
///  - Deposit:   block.timestamp <= depositDeadline and joinedCount < n.
///  - Report:    deposits closed (deadline passed, or all n joined), block.timestamp <=
///               reportDeadline and reportedCount < joinedCount.
///  - Calculate: reports closed (deadline passed, or every depositor reported). payoffCalculate
///               stays callable after settleDeadline until someone abandons the round.
///  - Settled:   after payoffCalculate. Abandoned: after roundAbandon.
///
///  Money rules:
///  - Required bond of org i (computed at open, exact worst case, see Redistribution.worstCaseBonds):
///        bond_i = sum_{j != i} trunc(gammaWad * rho_ij * max(0, sMax_j - sMin_i) / DENOM)
///    with sMax_j = score(xMax_j, fMax_j) and sMin_i = score(xMin_i, F_MIN), where
///    xMin_i = ceil(dMinWad * xMax_i / WAD) and F_MIN = 1 (the smallest reportable f: a report
///    needs 1 <= f <= fMax). Bonds above 2^96 - 1 wei are refused (ParameterOverflow("bond[i]")).
///  - A depositor that did not report gets R = 0 and its full deposit back; pairs are formed only
///    among reporters. Orgs that never deposited are not part of the round.
///  - Withdrawal pays deposit + R_i when Settled (never negative: R_i >= -bond_i >= -deposit_i) and
///    the deposit when Abandoned. Sum of payouts == sum of deposits, to the wei.
///  - Accounting never reads address(this).balance (forced ether changes nothing);
///    `liabilities` is the wei still owed to depositors across all rounds.
///
///  Storage: per round an 11-slot record and the keccak256 of rho (rho itself is only in the
///  RoundOpened event and in payoffCalculate's calldata); the immutable org table (account, bond,
///  xMax, fMax) is the code of one data contract per round (lib/OrgTable.sol); per org, three slots
///  written by the org's own transactions (deposit; report; payoff rewrites the report slot).
///
///  Check order of the entry points (the first failing check reverts):
///  - depositSubmit:      UnknownRound, BadIndex, WrongCaller, AlreadyDeposited, WrongPhase,
///                        BondTooSmall, ParameterOverflow("msg.value") (>= 2^128 wei).
///  - contributionSubmit: UnknownRound, BadIndex, WrongCaller, NotJoined, AlreadyReported,
///                        WrongPhase, ReportOutOfBounds("x"), ReportOutOfBounds("f"), BadAttestation.
///  - payoffTransfer:     Reentrancy, UnknownRound, BadIndex, WrongCaller, WrongPhase(Settled, p)
///                        (Abandoned is accepted too), NothingToWithdraw, AlreadyWithdrawn,
///                        TransferFailed.
///
///  Payoff digest (stored per round, emitted in RoundSettled): keccak256 of the concatenation, over
///  every slot i = 0..n-1 in order, of abi.encode(uint256 i, address account, uint256 score,
///  int256 payoff) (128 bytes per slot; score and payoff are 0 for slots that did not report,
///  including slots that never joined).
contract FedSettle is IFedSettle {
    uint256 internal constant WAD = 1e18;
    uint256 internal constant BPS = 10_000;
    uint256 internal constant MAX_SCALE = 1e9;
    /// Most slots per round: the org table must fit one data contract (OrgTable.MAX_ROWS); gas
    /// bounds n lower anyway. It also keeps |payoff| < n * 2^96 < 2^105 (int128).
    uint256 internal constant MAX_ORGS = OrgTable.MAX_ROWS;
    uint8 internal constant MECHANISM_TRADEFL = 1;
    /// Smallest reportable compute level f.
    uint64 internal constant F_MIN = 1;

    uint8 internal constant STATUS_OPEN = 0;
    uint8 internal constant STATUS_SETTLED = 1;
    uint8 internal constant STATUS_ABANDONED = 2;

    /// Mutable per-org state. The immutable part (account, bond, xMax, fMax) lives in the round's
    /// OrgTable data contract, so roundOpen writes no per-org storage at all. Each later write
    /// lands where it is cheapest: payoffCalculate rewrites slot C, already non-zero since the
    /// report (2,900 gas instead of 22,100 for a fresh slot).
    struct Org {
        // slot B (deposit, then withdrawal)
        uint128 deposit; // whole msg.value, < 2^128 enforced
        bool joined;
        bool withdrawn;
        // slot C (report; payoff at settle). reported <=> x != 0, since x >= xMin >= 1
        uint64 x;
        uint64 f;
        int128 payoff; // -2^96 < R_i < n * 2^96 <= 2^105
        // slot D (report)
        uint256 score;
    }

    /// Round record (11 slots).
    struct Round {
        uint256 gammaWad;
        uint256 lambdaWad;
        uint256 dMinWad;
        uint64 xScale;
        uint64 fScale;
        uint64 depositDeadline;
        uint64 reportDeadline;
        uint64 settleDeadline;
        address coordinator;
        uint8 mechanismId;
        uint8 status;
        bytes32 paramsDigest;
        address operator;
        uint32 n;
        uint32 joinedCount;
        uint32 reportedCount;
        uint128 totalDeposits;
        uint128 totalWithdrawn;
        bytes32 rhoHash;
        bytes32 payoffDigest;
        address table; // OrgTable data contract
        mapping(uint256 index => Org) orgs;
    }

    /// @inheritdoc IFedSettle
    address public immutable operator;
    /// @inheritdoc IFedSettle
    uint256 public roundCount;
    /// @inheritdoc IFedSettle
    uint256 public liabilities;

    uint256 private immutable _deployChainId;
    bytes32 private immutable _deployDomain;
    mapping(uint256 roundId => Round) private _rounds;
    bool private transient _locked;

    constructor() {
        operator = msg.sender;
        _deployChainId = block.chainid;
        _deployDomain = Attestation.domainSeparator(block.chainid, address(this));
    }

    // ------------------------------------------------------------------ open

    /// @inheritdoc IFedSettle
    /// @dev Validation order: NotOperator, UnsupportedMechanism, InvalidParameter for "xScale",
    ///  "fScale" (each in 1..1e9), "dMinWad" (in 1..1e18), "deadlines" (now <= deposit < report <
    ///  settle), "orgs" (n < 2 or n > 511); per org in index order InvalidParameter "account[i]"
    ///  (zero), "xMax[i]", "fMax[i]" (zero) and ParameterOverflow("lambdaWad") (a maximum score above
    ///  2^255 - 1); ParameterOverflow("gammaWad") (gammaWad * BPS * largest score above 2^255 - 1);
    ///  DuplicateAccount; RhoLength; RhoDiagonalNonZero; RhoOutOfRange / RhoNotSymmetric (first bad
    ///  upper-triangle entry in row-major order); ParameterOverflow("bond[i]") (bond >= 2^96 wei).
    ///  gammaWad = 0 and lambdaWad = 0 are allowed (all bonds are then 0 when gammaWad = 0).
    ///  Emits RoundOpened (with rho) then OrgRegistered per org in index order.
    function roundOpen(RoundConfig calldata config, OrgSpec[] calldata orgs, bytes calldata rho)
        external
        returns (uint256 roundId)
    {
        if (msg.sender != operator) revert NotOperator(msg.sender);
        uint256[] memory ranges = _validatedRanges(config, orgs, rho);
        uint256 n = orgs.length;

        roundId = ++roundCount;
        Round storage r = _rounds[roundId];
        _storeConfig(r, config, n);
        r.rhoHash = keccak256(rho);
        emit RoundOpened(roundId, msg.sender, config, rho);

        bytes memory buf = OrgTable.newBuffer(n);
        for (uint256 i; i < n;) {
            uint256 bond = ranges[3 * i + 2];
            if (bond > type(uint96).max) revert ParameterOverflow(_indexed("bond", i));
            OrgSpec calldata spec = orgs[i];
            OrgTable.put(buf, i, spec.account, uint96(bond), spec.xMax, spec.fMax);
            emit OrgRegistered(roundId, i, spec.account, spec.xMax, spec.fMax, bond);
            unchecked {
                ++i;
            }
        }
        r.table = OrgTable.deploy(buf, n);
    }

    /// @dev Every check of roundOpen before any write. Returns (sMin, sMax, bond) per org,
    ///  flattened (3n words).
    function _validatedRanges(RoundConfig calldata config, OrgSpec[] calldata orgs, bytes calldata rho)
        private
        view
        returns (uint256[] memory ranges)
    {
        _validateConfig(config, orgs.length);
        ranges = _scoreRange(config, orgs);
        address dup = _firstDuplicate(orgs);
        if (dup != address(0)) revert DuplicateAccount(dup);
        RhoMatrix.checkShape(rho, orgs.length);
        uint256 denom = Redistribution.denominator(config.xScale, config.fScale);
        if (!Redistribution.worstCaseBonds(rho, orgs.length, ranges, config.gammaWad, denom)) {
            RhoMatrix.revertFirstBad(rho, orgs.length);
        }
    }

    function _validateConfig(RoundConfig calldata c, uint256 n) private view {
        if (c.mechanismId != MECHANISM_TRADEFL) revert UnsupportedMechanism(c.mechanismId);
        if (c.xScale == 0 || c.xScale > MAX_SCALE) revert InvalidParameter("xScale");
        if (c.fScale == 0 || c.fScale > MAX_SCALE) revert InvalidParameter("fScale");
        if (c.dMinWad == 0 || c.dMinWad > WAD) revert InvalidParameter("dMinWad");
        if (
            c.depositDeadline < block.timestamp || c.reportDeadline <= c.depositDeadline
                || c.settleDeadline <= c.reportDeadline
        ) revert InvalidParameter("deadlines");
        if (n < 2 || n > MAX_ORGS) revert InvalidParameter("orgs");
    }

    /// @dev Per-org field checks and the score range [sMin_i, sMax_i] (bond word left 0); also
    ///  refuses parameters whose worst-case products could overflow, so the pair loops may run
    ///  unchecked.
    function _scoreRange(RoundConfig calldata c, OrgSpec[] calldata orgs)
        private
        pure
        returns (uint256[] memory ranges)
    {
        uint256 n = orgs.length;
        ranges = new uint256[](3 * n);
        uint256 xFactor = uint256(c.fScale) * WAD; // score per unit of x
        uint256 lambdaWad = c.lambdaWad;
        uint256 maxScore;
        for (uint256 i; i < n; ++i) {
            OrgSpec calldata o = orgs[i];
            if (o.account == address(0)) revert InvalidParameter(_indexed("account", i));
            if (o.xMax == 0) revert InvalidParameter(_indexed("xMax", i));
            if (o.fMax == 0) revert InvalidParameter(_indexed("fMax", i));
            uint256 xPart = o.xMax * xFactor; // < 2^64 * 2^30 * 2^60: no overflow
            uint256 perLambda = uint256(o.fMax) * c.xScale; // < 2^94
            if (lambdaWad > (Redistribution.SCORE_LIMIT - xPart) / perLambda) {
                revert ParameterOverflow("lambdaWad");
            }
            uint256 hi = xPart + lambdaWad * perLambda;
            uint256 xMin = _xMin(c.dMinWad, o.xMax);
            ranges[3 * i] = xMin * xFactor + lambdaWad * F_MIN * c.xScale;
            ranges[3 * i + 1] = hi;
            if (hi > maxScore) maxScore = hi;
        }
        // every |t numerator| <= gammaWad * BPS * maxScore; maxScore >= WAD > 0
        if (c.gammaWad > Redistribution.SCORE_LIMIT / maxScore / BPS) revert ParameterOverflow("gammaWad");
    }

    /// @dev Open-addressing hash set in memory: O(n) instead of O(n^2) comparisons, no storage.
    function _firstDuplicate(OrgSpec[] calldata orgs) private pure returns (address) {
        uint256 n = orgs.length;
        uint256 size = 4;
        while (size < 2 * n) size <<= 1;
        address[] memory table = new address[](size);
        uint256 mask = size - 1;
        for (uint256 i; i < n; ++i) {
            address a = orgs[i].account;
            uint256 h;
            assembly ("memory-safe") {
                mstore(0, a)
                h := keccak256(0, 0x20)
            }
            h &= mask;
            while (true) {
                address t = table[h];
                if (t == address(0)) {
                    table[h] = a;
                    break;
                }
                if (t == a) return a;
                h = (h + 1) & mask;
            }
        }
        return address(0);
    }

    function _storeConfig(Round storage r, RoundConfig calldata c, uint256 n) private {
        r.gammaWad = c.gammaWad;
        r.lambdaWad = c.lambdaWad;
        r.dMinWad = c.dMinWad;
        r.xScale = c.xScale;
        r.fScale = c.fScale;
        r.depositDeadline = c.depositDeadline;
        r.reportDeadline = c.reportDeadline;
        r.settleDeadline = c.settleDeadline;
        r.coordinator = c.coordinator;
        r.mechanismId = c.mechanismId;
        r.paramsDigest = c.paramsDigest;
        r.operator = msg.sender;
        r.n = uint32(n);
    }

    // ------------------------------------------------------------------ join and report

    /// @inheritdoc IFedSettle
    function depositSubmit(uint256 roundId, uint256 index) external payable {
        Round storage r = _round(roundId);
        (address account, uint96 bond,,) = _row(r, index);
        if (msg.sender != account) revert WrongCaller(account, msg.sender);
        Org storage o = r.orgs[index];
        if (o.joined) revert AlreadyDeposited(index);
        Phase p = _phase(r);
        if (p != Phase.Deposit) revert WrongPhase(Phase.Deposit, p);
        if (msg.value < bond) revert BondTooSmall(bond, msg.value);
        if (msg.value > type(uint128).max) revert ParameterOverflow("msg.value");
        o.deposit = uint128(msg.value);
        o.joined = true;
        r.joinedCount += 1;
        r.totalDeposits += uint128(msg.value);
        liabilities += msg.value;
        emit DepositSubmitted(roundId, index, msg.sender, msg.value);
    }

    /// @inheritdoc IFedSettle
    function contributionSubmit(uint256 roundId, uint256 index, uint64 x, uint64 f, bytes calldata attestation)
        external
    {
        Round storage r = _round(roundId);
        (address account,, uint64 xMax, uint64 fMax) = _row(r, index);
        if (msg.sender != account) revert WrongCaller(account, msg.sender);
        Org storage o = r.orgs[index];
        if (!o.joined) revert NotJoined(index);
        if (o.x != 0) revert AlreadyReported(index);
        Phase p = _phase(r);
        if (p != Phase.Report) revert WrongPhase(Phase.Report, p);
        _checkBounds(r.dMinWad, xMax, fMax, x, f);
        address coordinator = r.coordinator;
        if (coordinator != address(0)) _checkAttestation(coordinator, roundId, index, x, f, attestation);
        uint256 s = Redistribution.score(x, f, r.lambdaWad, r.xScale, r.fScale);
        o.x = x;
        o.f = f;
        o.score = s;
        r.reportedCount += 1;
        emit ContributionSubmitted(roundId, index, msg.sender, x, f, s);
    }

    function _checkBounds(uint256 dMinWad, uint64 xMax, uint64 fMax, uint64 x, uint64 f) private pure {
        uint256 xMin = _xMin(dMinWad, xMax);
        if (x < xMin || x > xMax) revert ReportOutOfBounds("x", x, xMin, xMax);
        if (f < F_MIN || f > fMax) revert ReportOutOfBounds("f", f, F_MIN, fMax);
    }

    /// @dev The attestation signs the caller's own slot (account = msg.sender, checked before).
    function _checkAttestation(
        address coordinator,
        uint256 roundId,
        uint256 index,
        uint64 x,
        uint64 f,
        bytes calldata attestation
    ) private view {
        bytes32 digest = Attestation.contributionDigest(_domainSeparator(), roundId, index, msg.sender, x, f);
        address recovered = Attestation.recover(digest, attestation);
        if (recovered != coordinator) revert BadAttestation(recovered, coordinator);
    }

    // ------------------------------------------------------------------ settle

    /// @inheritdoc IFedSettle
    /// @dev Gas: one EXTCODECOPY of the org table, one cold read of slot B per slot and of slots C
    ///  and D per reporter, one pair loop over reporters reading rho from calldata, one write of
    ///  slot C per reporter, one event per joined org.
    function payoffCalculate(uint256 roundId, bytes calldata rho) external {
        Round storage r = _round(roundId);
        Phase p = _phase(r);
        if (p != Phase.Calculate) revert WrongPhase(Phase.Calculate, p);
        bytes32 got = keccak256(rho);
        if (got != r.rhoHash) revert RhoMismatch(r.rhoHash, got);

        uint256 n = r.n;
        uint256[] memory reps = _reporters(r, n);
        Redistribution.payoffs(rho, n, reps, r.gammaWad, Redistribution.denominator(r.xScale, r.fScale));
        bytes32 digest = _recordPayoffs(r, roundId, reps);
        r.payoffDigest = digest;
        r.status = STATUS_SETTLED;
        emit RoundSettled(roundId, msg.sender, uint32(reps.length / 3), digest);
    }

    /// @dev One (2*i, score_i, 0) triple per reporter i, in increasing i (score != 0 <=> reported,
    ///  since score >= xMin * fScale * WAD >= WAD).
    function _reporters(Round storage r, uint256 n) private view returns (uint256[] memory reps) {
        reps = new uint256[](3 * uint256(r.reportedCount));
        uint256 c;
        for (uint256 i; i < n;) {
            uint256 s = r.orgs[i].score;
            if (s != 0) {
                reps[c] = 2 * i;
                reps[c + 1] = s;
                unchecked {
                    c += 3;
                }
            }
            unchecked {
                ++i;
            }
        }
    }

    /// @dev Writes each reporter's payoff once, emits PayoffCalculated per joined org and returns
    ///  the payoff digest (encoding documented on the contract).
    function _recordPayoffs(Round storage r, uint256 roundId, uint256[] memory reps) private returns (bytes32) {
        uint256 n = r.n;
        address[] memory accounts = OrgTable.accounts(r.table, n);
        bytes memory table = new bytes(n * 128);
        uint256 c; // next reporter triple in reps
        for (uint256 i; i < n;) {
            Org storage o = r.orgs[i];
            uint256 s;
            int256 payoff;
            if (c < reps.length && reps[c] == 2 * i) {
                s = reps[c + 1];
                payoff = int256(reps[c + 2]);
                // -2^96 < payoff < n * 2^96 <= 2^105 (Redistribution.worstCaseBonds): fits int128
                o.payoff = int128(payoff);
                unchecked {
                    c += 3;
                }
            }
            if (o.joined) emit PayoffCalculated(roundId, i, accounts[i], s, payoff);
            address account = accounts[i];
            assembly ("memory-safe") {
                let row := add(add(table, 0x20), shl(7, i))
                mstore(row, i)
                mstore(add(row, 0x20), account)
                mstore(add(row, 0x40), s)
                mstore(add(row, 0x60), payoff)
            }
            unchecked {
                ++i;
            }
        }
        return keccak256(table);
    }

    /// @inheritdoc IFedSettle
    /// @dev The transfer forwards all gas and ignores return data (no return-data bomb). A failing
    ///  recipient reverts only its own call (TransferFailed, state unchanged, retry later).
    ///  A zero amount marks the slot withdrawn without calling the recipient.
    function payoffTransfer(uint256 roundId, uint256 index) external {
        if (_locked) revert Reentrancy();
        _locked = true;
        Round storage r = _round(roundId);
        (address account,,,) = _row(r, index);
        if (msg.sender != account) revert WrongCaller(account, msg.sender);
        Phase p = _phase(r);
        if (p != Phase.Settled && p != Phase.Abandoned) revert WrongPhase(Phase.Settled, p);
        Org storage o = r.orgs[index];
        if (!o.joined) revert NothingToWithdraw(index);
        if (o.withdrawn) revert AlreadyWithdrawn(index);
        uint256 amount = o.deposit;
        if (p == Phase.Settled) {
            // deposit + payoff >= deposit - bond >= 0 (Redistribution.worstCaseBonds)
            amount = uint256(int256(amount) + o.payoff);
        }
        // effects before the interaction
        o.withdrawn = true;
        r.totalWithdrawn += uint128(amount);
        liabilities -= amount;
        emit PayoffTransferred(roundId, index, msg.sender, amount);
        if (amount != 0) {
            bool ok;
            assembly ("memory-safe") {
                ok := call(gas(), account, amount, 0, 0, 0, 0)
            }
            if (!ok) revert TransferFailed(account, amount);
        }
        _locked = false;
    }

    /// @inheritdoc IFedSettle
    function roundAbandon(uint256 roundId) external {
        Round storage r = _round(roundId);
        Phase p = _phase(r);
        if (p == Phase.Settled || p == Phase.Abandoned) revert CannotAbandon(p);
        bool allowed = msg.sender == r.operator || block.timestamp > r.settleDeadline
            || (p != Phase.Deposit && r.joinedCount < 2);
        if (!allowed) revert CannotAbandon(p);
        r.status = STATUS_ABANDONED;
        emit RoundAbandoned(roundId, msg.sender, p);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IFedSettle
    function profileRecord(uint256 roundId, uint256 index) external view returns (Profile memory prof) {
        Round storage r = _round(roundId);
        (prof.account, prof.bond, prof.xMax, prof.fMax) = _row(r, index);
        Org storage o = r.orgs[index];
        prof.deposited = o.deposit;
        prof.x = o.x;
        prof.f = o.f;
        prof.score = o.score;
        prof.payoff = o.payoff;
        prof.joined = o.joined;
        prof.reported = o.x != 0;
        prof.withdrawn = o.withdrawn;
    }

    /// @inheritdoc IFedSettle
    function roundConfig(uint256 roundId) external view returns (RoundConfig memory) {
        Round storage r = _round(roundId);
        return RoundConfig({
            mechanismId: r.mechanismId,
            gammaWad: r.gammaWad,
            lambdaWad: r.lambdaWad,
            dMinWad: r.dMinWad,
            xScale: r.xScale,
            fScale: r.fScale,
            depositDeadline: r.depositDeadline,
            reportDeadline: r.reportDeadline,
            settleDeadline: r.settleDeadline,
            coordinator: r.coordinator,
            paramsDigest: r.paramsDigest
        });
    }

    /// @inheritdoc IFedSettle
    function roundState(uint256 roundId) external view returns (RoundState memory) {
        Round storage r = _round(roundId);
        return RoundState({
            phase: _phase(r),
            n: r.n,
            joinedCount: r.joinedCount,
            reportedCount: r.reportedCount,
            totalDeposits: r.totalDeposits,
            totalWithdrawn: r.totalWithdrawn,
            rhoHash: r.rhoHash,
            payoffDigest: r.payoffDigest,
            operator: r.operator
        });
    }

    /// @inheritdoc IFedSettle
    /// @dev Returns Phase.None for an unknown round id instead of reverting.
    function phaseOf(uint256 roundId) external view returns (Phase) {
        if (roundId == 0 || roundId > roundCount) return Phase.None;
        return _phase(_rounds[roundId]);
    }

    /// @inheritdoc IFedSettle
    /// @dev The account field is the slot's registered account. Reverts UnknownRound / BadIndex.
    function contributionDigest(uint256 roundId, uint256 index, uint64 x, uint64 f) external view returns (bytes32) {
        Round storage r = _round(roundId);
        (address account,,,) = _row(r, index);
        return Attestation.contributionDigest(_domainSeparator(), roundId, index, account, x, f);
    }

    // ------------------------------------------------------------------ internals

    function _round(uint256 roundId) private view returns (Round storage) {
        if (roundId == 0 || roundId > roundCount) revert UnknownRound(roundId);
        return _rounds[roundId];
    }

    /// @dev The immutable row of slot `index` (BadIndex if out of range).
    function _row(Round storage r, uint256 index)
        private
        view
        returns (address account, uint96 bond, uint64 xMax, uint64 fMax)
    {
        uint256 n = r.n;
        if (index >= n) revert BadIndex(index, n);
        return OrgTable.get(r.table, index);
    }

    function _phase(Round storage r) private view returns (Phase) {
        uint8 status = r.status;
        if (status == STATUS_SETTLED) return Phase.Settled;
        if (status == STATUS_ABANDONED) return Phase.Abandoned;
        uint256 joined = r.joinedCount;
        if (block.timestamp <= r.depositDeadline && joined < r.n) return Phase.Deposit;
        if (block.timestamp <= r.reportDeadline && r.reportedCount < joined) return Phase.Report;
        return Phase.Calculate;
    }

    /// @dev The domain is cached at deployment and recomputed only after a chain split.
    function _domainSeparator() private view returns (bytes32) {
        if (block.chainid == _deployChainId) return _deployDomain;
        return Attestation.domainSeparator(block.chainid, address(this));
    }

    /// @dev xMin = ceil(dMinWad * xMax / WAD) >= 1 (dMinWad > 0, xMax > 0).
    function _xMin(uint256 dMinWad, uint64 xMax) private pure returns (uint256) {
        return (dMinWad * xMax + WAD - 1) / WAD;
    }

    function _indexed(string memory name, uint256 i) private pure returns (string memory) {
        return string.concat(name, "[", _decimal(i), "]");
    }

    function _decimal(uint256 v) private pure returns (string memory) {
        if (v == 0) return "0";
        uint256 len;
        for (uint256 t = v; t != 0; t /= 10) ++len;
        bytes memory out = new bytes(len);
        for (; v != 0; v /= 10) out[--len] = bytes1(uint8(48 + v % 10));
        return string(out);
    }
}
