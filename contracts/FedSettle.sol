// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IFedSettle} from "./IFedSettle.sol";
import {AccountSet} from "./lib/AccountSet.sol";
import {PairwiseEngine} from "./lib/PairwiseEngine.sol";
import {DataStore} from "./lib/DataStore.sol";
import {FieldNames} from "./lib/FieldNames.sol";
import {OrgTable} from "./lib/OrgTable.sol";
import {Pairwise} from "./lib/Pairwise.sol";
import {RhoTriangle} from "./lib/RhoTriangle.sol";
import {MarketEngine} from "./rules/MarketEngine.sol";
import {MarketSession} from "./rules/MarketSession.sol";
import {Rules} from "./rules/Rules.sol";
import {Terms} from "./rules/Terms.sol";

/// @title FedSettle: the settlement core (phases, deadlines, bonds, deposits, reports,
///  settlement, payouts, records); mechanism payoff rules live in contracts/rules/
/// @notice Implements IFedSettle; the units, formulas and money rules are documented there and in
///  docs/settlement-spec.md.
///
///  Phases (computed from the clock and the counters; only Settled and Abandoned are stored):
///  - Deposit:   block.timestamp <= depositDeadline and joinedCount < n (deposits need rho complete).
///  - Report:    deposits closed, block.timestamp <= reportDeadline and reports not done (the
///               coordinator's table not yet submitted; without a coordinator, some depositor
///               has not reported).
///  - Calculate: reports closed. payoffCalculate runs in resumable chunks, at any time.
///  - Settled:   after the chunk that computes slot n-1. Abandoned: after roundAbandon.
///
///  Storage: per round an 11-slot record, the lists of rho and payoff chunk data contracts and
///  the slots' flags, 4 bits each (64 slots per word); the org table (with the bonds when the
///  triangle came with roundOpen), the weight triangle, the coordinator's report table and the
///  payoffs (16 bytes per slot, one data contract per payoffCalculate chunk) are data-contract
///  code. A slot gets a storage word of its own only for a self-report (x, f) or for a deposit
///  the org table does not imply (above the bond, or a round without bonds in its table).
///
///  Accounting never reads the contract's balance: forced ether or tokens change nothing;
///  `liabilities(token)` is what is still owed to depositors in that asset across all rounds.
///
///  paramsDigest (computed when rho completes): keccak256(abi.encode(block.chainid, address(this),
///  roundId, RoundConfig, orgsHash, rhoHash)), orgsHash = keccak256(0x00 || rows) (OrgTable.rowsHash).
///  payoffDigest: d_0 = 0, d_{i+1} = keccak256(d_i || abi.encode(i, account_i, score_i, payoff_i))
///  over every slot (score and payoff 0 for slots that never deposited).
contract FedSettle is IFedSettle, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// Longest span of the deposit phase (open .. depositDeadline) and of the report phase
    /// (depositDeadline .. reportDeadline): funds are never locked longer than 2 * MAX_PHASE_SPAN
    /// before anyone can settle or abandon.
    uint256 public constant MAX_PHASE_SPAN = 30 days;
    /// Gas forwarded with each ETH push payment of payoutBatch; a recipient needing more pulls.
    uint256 public constant PUSH_GAS = 10_000;
    /// Most slots per round: the org table fits one data contract.
    uint256 public constant MAX_ORGS = OrgTable.MAX_ROWS;
    /// Bytes per rho chunk (every chunk but the last).
    uint256 public constant RHO_CHUNK = RhoTriangle.CHUNK;

    uint256 internal constant BPS = 10_000;
    /// Deposits are below 2^120 and |payoffs| below 2^119 (checked at open), so the org slot packs.
    uint256 internal constant AMOUNT_LIMIT = 1 << 120;
    uint256 internal constant PAYOFF_LIMIT = 1 << 119;

    uint8 internal constant STATUS_OPEN = 0;
    uint8 internal constant STATUS_SETTLED = 1;
    uint8 internal constant STATUS_ABANDONED = 2;

    uint256 internal constant JOINED = 1;
    uint256 internal constant REPORTED = 2; // self-reported (coordinator rounds: see the table)
    uint256 internal constant WITHDRAWN = 4;
    uint256 internal constant STORED = 8; // the deposit is in the slot's Org word, not the bond

    /// One word, written only for a self-report or a deposit the org table does not imply.
    struct Org {
        uint120 deposit;
        uint64 x;
        uint64 f;
    }

    /// Packed so that a deposit reads and writes few slots: slot 0 holds the deposit clock and
    /// counters, slot 1 the asset and status, slot 2 the org table (whose code also holds the
    /// numeric terms: gammaWad, lambdaWad, dMinWad, xScale, fScale, and the bonds when the triangle
    /// came with roundOpen; see lib/OrgTable.sol).
    struct Round {
        uint64 depositDeadline;
        uint32 n;
        uint32 joinedCount;
        uint128 totalDeposits;
        address token;
        uint8 mechanismId;
        uint8 status;
        uint32 rhoBytes;
        address orgTable;
        uint32 reportedCount;
        uint32 settledCount;
        address coordinator;
        uint64 reportDeadline;
        address reportTable;
        address operator;
        uint128 totalWithdrawn;
        bytes32 rhoHash;
        bytes32 paramsDigest;
        bytes32 payoffDigest;
        address[] rhoChunks;
        uint256[] payoffChunks; // data contract | end slot << 160
        mapping(uint256 word => uint256) flags; // slot i: bits 4 (i % 64) .. of word i / 64
        mapping(uint256 index => Org) orgs;
    }

    /// @inheritdoc IFedSettle
    address public immutable operator;
    /// Mechanism 3's arithmetic, deployed by the constructor (see rules/MarketEngine.sol).
    MarketEngine public immutable marketEngine;
    /// roundOpen's duplicate-account check, deployed by the constructor (see lib/AccountSet.sol).
    AccountSet private immutable accountSet;
    /// The pairwise rules' bonds and payoffs, deployed by the constructor (lib/PairwiseEngine.sol).
    PairwiseEngine private immutable pairwiseEngine;
    /// The indexed field names of errors, deployed by the constructor (lib/FieldNames.sol).
    FieldNames private immutable fieldNames;
    /// @inheritdoc IFedSettle
    uint256 public roundCount;
    /// @inheritdoc IFedSettle
    mapping(address token => uint256) public liabilities;

    mapping(uint256 roundId => Round) private _rounds;

    constructor() {
        operator = msg.sender;
        marketEngine = new MarketEngine();
        accountSet = new AccountSet();
        pairwiseEngine = new PairwiseEngine();
        fieldNames = new FieldNames();
    }

    // ------------------------------------------------------------------ open

    /// @inheritdoc IFedSettle
    /// @dev Validation order: NotOperator; UnsupportedMechanism; the rule's InvalidParameter
    ///  ("xScale", "fScale", "dMinWad"); InvalidParameter("token") (not a contract);
    ///  InvalidParameter("deadlines") (depositDeadline < now or reportDeadline <= depositDeadline);
    ///  PhaseSpanTooLong("deposit" | "report"); InvalidParameter("orgs") (n < 2 or n > MAX_ORGS);
    ///  per slot InvalidParameter("account[i]" | "xMax[i]" | "fMax[i]" | "base[i]") or
    ///  ParameterOverflow("lambdaWad"); ParameterOverflow("gammaWad"); DuplicateAccount; then the
    ///  rho chunk checks of rhoAppend.
    function roundOpen(RoundConfig calldata config, OrgSpec[] calldata orgs, bytes calldata rho)
        external
        returns (uint256 roundId)
    {
        if (msg.sender != operator) revert NotOperator(msg.sender);
        _validateConfig(config, orgs.length);
        uint256 n = orgs.length;
        // the triangle comes whole with the open: every bond is computed once, into the org table
        bool bonded = RhoTriangle.size(n) <= RHO_CHUNK && rho.length == RhoTriangle.size(n);
        address table = _orgTable(_termsOf(config), orgs, rho, bonded);

        roundId = ++roundCount;
        Round storage r = _rounds[roundId];
        _storeConfig(r, config, n);
        r.orgTable = table;
        emit RoundOpened(roundId, msg.sender, config, n);
        for (uint256 i; i < n; ++i) {
            OrgSpec calldata o = orgs[i];
            emit OrgRegistered(roundId, i, o.account, o.xMax, o.fMax, o.base);
        }
        _appendRho(r, roundId, rho, bonded);
    }

    /// @dev Checks every slot and deploys the org table: rows, terms and (`bonded`: the whole
    ///  triangle is `rho`, whose entries are checked here) every slot's bond.
    function _orgTable(Terms memory t, OrgSpec[] calldata orgs, bytes calldata rho, bool bonded)
        private
        returns (address)
    {
        (bytes memory buf, uint256 ptr) = DataStore.newBuffer(_tableSize(orgs.length, bonded));
        uint256[] memory marketBonds = _checkAmounts(t, orgs, _putRows(ptr, t, orgs));
        address dup = _firstDuplicate(orgs);
        if (dup != address(0)) revert DuplicateAccount(dup);
        if (bonded) OrgTable.putBonds(ptr, orgs.length, _openBonds(t, orgs, rho, marketBonds));
        return DataStore.deploy(buf, _tableSize(orgs.length, bonded));
    }

    function _tableSize(uint256 n, bool bonded) private pure returns (uint256) {
        return bonded ? OrgTable.sizeWithBonds(n) : OrgTable.size(n);
    }

    /// @dev ParameterOverflow unless every amount fits (mechanism 3: its bonds, returned).
    function _checkAmounts(Terms memory t, OrgSpec[] calldata orgs, uint256 maxScore)
        private
        view
        returns (uint256[] memory marketBonds)
    {
        if (t.mechanismId == Rules.MARKET) return MarketSession.checkBonds(marketEngine, t, orgs, PAYOFF_LIMIT);
        _checkOverflow(t, orgs.length, maxScore);
        return new uint256[](0);
    }

    /// @dev Every slot's bond from the whole triangle `rho`, whose entries are checked first
    ///  (RhoOutOfRange).
    function _openBonds(Terms memory t, OrgSpec[] calldata orgs, bytes calldata rho, uint256[] memory marketBonds)
        private
        view
        returns (uint256[] memory)
    {
        if (t.mechanismId != Rules.MARKET) return pairwiseEngine.bonds(t, orgs, rho);
        pairwiseEngine.checkRho(rho, 0);
        return marketBonds;
    }

    /// @inheritdoc IFedSettle
    /// @dev Check order: UnknownRound, NotOperator (the round's operator), RhoComplete,
    ///  WrongPhase(Deposit), RhoLength (every chunk but the last has RHO_CHUNK bytes), RhoOutOfRange.
    function rhoAppend(uint256 roundId, bytes calldata chunk) external {
        Round storage r = _round(roundId);
        if (msg.sender != r.operator) revert NotOperator(msg.sender);
        if (r.rhoBytes == RhoTriangle.size(r.n)) revert RhoComplete(roundId);
        _requirePhase(r, Phase.Deposit);
        _appendRho(r, roundId, chunk, false);
    }

    /// @dev Checks every slot and writes its row, then the terms; returns the largest maximum score.
    function _putRows(uint256 ptr, Terms memory t, OrgSpec[] calldata orgs) private view returns (uint256 maxScore) {
        for (uint256 i; i < orgs.length; ++i) {
            OrgSpec calldata o = orgs[i];
            if (o.account == address(0)) revert InvalidParameter(_indexed("account", i));
            (uint256 sMax, uint8 bad) = Rules.checkOrg(t, o.xMax, o.fMax, o.base);
            if (bad == 4) revert ParameterOverflow("lambdaWad");
            if (bad != 0) revert InvalidParameter(_indexed(bad == 1 ? "xMax" : bad == 2 ? "fMax" : "base", i));
            if (sMax > maxScore) maxScore = sMax;
            OrgTable.put(ptr, i, o.account, o.xMax, o.fMax, o.base);
        }
        OrgTable.putTerms(ptr, orgs.length, t.gammaWad, t.lambdaWad, t.dMinWad, t.xScale, t.fScale);
    }

    /// @dev `checked`: roundOpen checked the chunk's entries already.
    function _appendRho(Round storage r, uint256 roundId, bytes calldata chunk, bool checked) private {
        uint256 total = RhoTriangle.size(r.n);
        uint256 done = r.rhoBytes;
        uint256 expected = total - done;
        if (expected > RHO_CHUNK) expected = RHO_CHUNK;
        if (chunk.length != expected) revert RhoLength(expected, chunk.length);
        if (!checked) pairwiseEngine.checkRho(chunk, done);
        address data = DataStore.write(chunk);
        r.rhoChunks.push(data);
        done += chunk.length;
        r.rhoBytes = uint32(done);
        bytes32 h = keccak256(abi.encodePacked(r.rhoHash, keccak256(chunk)));
        r.rhoHash = h;
        emit RhoAppended(roundId, r.rhoChunks.length - 1, data, done);
        if (done == total) _ready(r, roundId, h);
    }

    /// @dev The triangle is complete: the parameter digest (see the contract's notice).
    function _ready(Round storage r, uint256 roundId, bytes32 rhoHash) private {
        bytes32 digest = keccak256(
            abi.encode(block.chainid, address(this), roundId, _config(r), OrgTable.rowsHash(r.orgTable, r.n), rhoHash)
        );
        r.paramsDigest = digest;
        emit RoundReady(roundId, rhoHash, digest);
    }

    function _validateConfig(RoundConfig calldata c, uint256 n) private view {
        Rules.checkConfig(c);
        if (c.token != address(0) && c.token.code.length == 0) revert InvalidParameter("token");
        if (c.depositDeadline < block.timestamp || c.reportDeadline <= c.depositDeadline) {
            revert InvalidParameter("deadlines");
        }
        uint256 span = c.depositDeadline - block.timestamp;
        if (span > MAX_PHASE_SPAN) revert PhaseSpanTooLong("deposit", span, MAX_PHASE_SPAN);
        span = c.reportDeadline - c.depositDeadline;
        if (span > MAX_PHASE_SPAN) revert PhaseSpanTooLong("report", span, MAX_PHASE_SPAN);
        if (n < 2 || n > MAX_ORGS) revert InvalidParameter("orgs");
    }

    /// @dev Every pair numerator gammaWad * w * |s_i - s_j| <= gammaWad * BPS * maxScore must fit
    ///  int256, and n * (largest |t| + 1) < 2^119 keeps bonds and payoffs inside the org slot.
    function _checkOverflow(Terms memory t, uint256 n, uint256 maxScore) private pure {
        if (maxScore == 0 || t.gammaWad == 0) return;
        if (t.gammaWad > uint256(type(int256).max) / maxScore / BPS) revert ParameterOverflow("gammaWad");
        uint256 largest = t.gammaWad * BPS * maxScore / Rules.denominator(t);
        if (largest >= PAYOFF_LIMIT / n - 1) revert ParameterOverflow("gammaWad");
    }

    /// @dev AccountSet.firstDuplicate(bytes) on the raw OrgSpec words of the calldata (no ABI
    ///  re-encoding of the struct array).
    function _firstDuplicate(OrgSpec[] calldata orgs) private view returns (address dup) {
        address set = address(accountSet);
        bytes4 selector = AccountSet.firstDuplicate.selector;
        bool ok;
        assembly ("memory-safe") {
            let len := shl(7, orgs.length)
            let p := mload(0x40)
            mstore(p, selector)
            mstore(add(p, 4), 0x20)
            mstore(add(p, 0x24), len)
            calldatacopy(add(p, 0x44), orgs.offset, len)
            ok := staticcall(gas(), set, p, add(0x44, len), 0, 0x20)
            dup := mload(0)
        }
        require(ok);
    }

    function _storeConfig(Round storage r, RoundConfig calldata c, uint256 n) private {
        r.depositDeadline = c.depositDeadline;
        r.reportDeadline = c.reportDeadline;
        r.token = c.token;
        r.mechanismId = c.mechanismId;
        r.coordinator = c.coordinator;
        r.n = uint32(n);
        r.operator = msg.sender;
    }

    // ------------------------------------------------------------------ deposit

    /// @inheritdoc IFedSettle
    /// @dev Check order: UnknownRound, BadIndex, WrongCaller, AlreadyDeposited, WrongPhase(Deposit),
    ///  RhoIncomplete, BondTooSmall, ParameterOverflow("amount" | "totalDeposits" | "liabilities"),
    ///  ValueMismatch, then the token transfer (its own error) and TokenShortfall.
    function depositSubmit(uint256 roundId, uint256 index, uint256 amount) external payable nonReentrant {
        _deposit(roundId, index, amount);
    }

    /// @inheritdoc IFedSettle
    /// @dev The permit is tried, not required: if someone front-ran it (the allowance is already
    ///  there) the deposit still goes through; a missing allowance fails in transferFrom.
    function depositWithPermit(
        uint256 roundId,
        uint256 index,
        uint256 amount,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external nonReentrant {
        address token = _round(roundId).token;
        if (token == address(0)) revert InvalidParameter("token");
        try IERC20Permit(token).permit(msg.sender, address(this), amount, deadline, v, r, s) {} catch {}
        _deposit(roundId, index, amount);
    }

    function _deposit(uint256 roundId, uint256 index, uint256 amount) private {
        Round storage r = _round(roundId);
        OrgTable.Row memory row = _row(r, index);
        if (msg.sender != row.account) revert WrongCaller(row.account, msg.sender);
        if (_flags(r, index) & JOINED != 0) revert AlreadyDeposited(index);
        _requirePhase(r, Phase.Deposit);
        uint256 bond = _bond(r, index);
        if (amount < bond) revert BondTooSmall(bond, amount);
        if (amount >= AMOUNT_LIMIT) revert ParameterOverflow("amount");
        uint256 total = uint256(r.totalDeposits) + amount;
        if (total > type(uint128).max) revert ParameterOverflow("totalDeposits");
        address token = r.token;
        uint256 owed = liabilities[token];
        if (amount > type(uint256).max - owed) revert ParameterOverflow("liabilities");
        uint256 expectedValue = token == address(0) ? amount : 0;
        if (msg.value != expectedValue) revert ValueMismatch(expectedValue, msg.value);

        if (amount != bond || !_bonded(r.n)) {
            r.orgs[index].deposit = uint120(amount);
            _setFlags(r, index, JOINED | STORED);
        } else {
            _setFlags(r, index, JOINED);
        }
        r.joinedCount += 1;
        r.totalDeposits = uint128(total);
        liabilities[token] = owed + amount;
        emit DepositSubmitted(roundId, index, msg.sender, amount, bond);
        if (token != address(0) && amount != 0) {
            IERC20 erc20 = IERC20(token);
            uint256 before = erc20.balanceOf(address(this));
            erc20.safeTransferFrom(msg.sender, address(this), amount);
            uint256 received = erc20.balanceOf(address(this)) - before;
            if (received != amount) revert TokenShortfall(amount, received);
        }
    }

    // ------------------------------------------------------------------ reports

    /// @inheritdoc IFedSettle
    /// @dev Check order: UnknownRound, BadIndex, WrongCaller, ReportsByCoordinator, NotJoined,
    ///  AlreadyReported, WrongPhase(Report), ReportOutOfBounds("x[i]" | "f[i]").
    function contributionSubmit(uint256 roundId, uint256 index, uint64 x, uint64 f) external {
        Round storage r = _round(roundId);
        OrgTable.Row memory row = _row(r, index);
        if (msg.sender != row.account) revert WrongCaller(row.account, msg.sender);
        if (r.coordinator != address(0)) revert ReportsByCoordinator(r.coordinator);
        uint256 flags = _flags(r, index);
        if (flags & JOINED == 0) revert NotJoined(index);
        if (flags & REPORTED != 0) revert AlreadyReported(index);
        _requirePhase(r, Phase.Report);
        uint256 s = _checkedScore(_terms(r), row, index, x, f);
        _setFlags(r, index, REPORTED);
        Org storage o = r.orgs[index];
        o.x = x;
        o.f = f;
        r.reportedCount += 1;
        emit ContributionSubmitted(roundId, index, msg.sender, x, f, s);
    }

    /// @inheritdoc IFedSettle
    /// @dev Check order: UnknownRound, NoCoordinator, WrongCaller(coordinator), TableAlreadySubmitted,
    ///  WrongPhase(Report), TableLength (16 n bytes; cogen also 24 n), then per slot in index order
    ///  NotJoined (a non-zero row for a slot that did not deposit) and ReportOutOfBounds. The table
    ///  becomes the code of a data contract; reports close with it.
    function contributionTableSubmit(uint256 roundId, bytes calldata table) external {
        Round storage r = _round(roundId);
        address coordinator = r.coordinator;
        if (coordinator == address(0)) revert NoCoordinator();
        if (msg.sender != coordinator) revert WrongCaller(coordinator, msg.sender);
        if (r.reportTable != address(0)) revert TableAlreadySubmitted();
        _requirePhase(r, Phase.Report);
        if (r.mechanismId == Rules.MARKET) return _marketTableSubmit(r, roundId, table);
        uint256 n = r.n;
        // cogen: the rows may be followed by n int64 measured scores, stored, never paid on
        if (table.length != 16 * n && (r.mechanismId != Rules.COGEN || table.length != 24 * n)) {
            revert TableLength(16 * n, table.length);
        }
        uint32 reports = _checkTable(r, roundId, table, n);
        address data = DataStore.write(table);
        r.reportTable = data;
        r.reportedCount = reports;
        emit ReportTableSubmitted(roundId, msg.sender, data, reports);
    }

    /// @dev Mechanism 3: the table carries every FL round's graph (MarketSession); it is decoded
    ///  and checked (TableLength, InvalidParameter("rounds"), the MarketRule graph errors), then
    ///  every slot a graph names must be a depositor (NotJoined). reportedCount = the slots named.
    function _marketTableSubmit(Round storage r, uint256 roundId, bytes calldata table) private {
        uint256 n = r.n;
        bool[] memory named = marketEngine.named(table, n, _terms(r).dMinWad);
        uint32 reports = 0;
        for (uint256 i; i < n; ++i) {
            if (!named[i]) continue;
            if (_flags(r, i) & JOINED == 0) revert NotJoined(i);
            ++reports;
        }
        address data = DataStore.write(table);
        r.reportTable = data;
        r.reportedCount = reports;
        emit ReportTableSubmitted(roundId, msg.sender, data, reports);
    }

    /// @dev Mechanism 3: every slot's payoff from the stored table (all zero without a table).
    function _marketPayoffs(Round storage r, Terms memory t, bytes memory rows, uint256 n)
        private
        view
        returns (int256[] memory)
    {
        address data = r.reportTable;
        if (data == address(0)) return new int256[](n);
        uint256 size = data.code.length - 1;
        bytes memory raw = new bytes(size);
        uint256 dest;
        assembly ("memory-safe") {
            dest := add(raw, 0x20)
        }
        DataStore.copy(data, 0, size, dest);
        return marketEngine.rowPayoffs(rows, t.xScale, t.lambdaWad, t.gammaWad, raw, t.dMinWad);
    }

    /// @dev Checks every non-zero row of the table and emits ContributionSubmitted; returns how
    ///  many rows report.
    function _checkTable(Round storage r, uint256 roundId, bytes calldata table, uint256 n)
        private
        returns (uint32 reports)
    {
        Terms memory t = _terms(r);
        bytes memory rows = OrgTable.load(r.orgTable, n);
        uint256[] memory words = _flagWords(r, n);
        uint256[3] memory c;
        (c[0], c[1], c[2]) = Rules.coefficients(t);
        for (uint256 i; i < n; ++i) {
            (uint64 x, uint64 f) = _tableRow(table, i);
            if (x == 0 && f == 0) continue;
            if (_flagOf(words, i) & JOINED == 0) revert NotJoined(i);
            OrgTable.Row memory row = OrgTable.rowAt(rows, i);
            _checkReport(t, row, i, x, f);
            ++reports;
            // an admissible report scores at most the slot's maximum (checked at open)
            emit ContributionSubmitted(roundId, i, row.account, x, f, c[0] * x + c[1] * f + c[2] * row.base);
        }
    }

    function _tableRow(bytes calldata table, uint256 i) private pure returns (uint64 x, uint64 f) {
        assembly ("memory-safe") {
            let w := calldataload(add(table.offset, shl(4, i)))
            x := shr(192, w)
            f := and(shr(128, w), 0xffffffffffffffff)
        }
    }

    /// @dev The score of an admissible report; ReportOutOfBounds("x[i]" | "f[i]") otherwise.
    function _checkedScore(Terms memory t, OrgTable.Row memory row, uint256 i, uint64 x, uint64 f)
        private
        view
        returns (uint256)
    {
        _checkReport(t, row, i, x, f);
        return Rules.score(t, row, x, f);
    }

    /// @dev ReportOutOfBounds("x[i]" | "f[i]") unless the report is admissible.
    function _checkReport(Terms memory t, OrgTable.Row memory row, uint256 i, uint64 x, uint64 f) private view {
        (uint8 bad, uint256 min, uint256 max) = Rules.checkReport(t, row, x, f);
        if (bad == 1) revert ReportOutOfBounds(_indexed("x", i), x, min, max);
        if (bad == 2) revert ReportOutOfBounds(_indexed("f", i), f, min, max);
    }

    function _requirePhase(Round storage r, Phase expected) private view {
        Phase p = _phase(r);
        if (p != expected) revert WrongPhase(expected, p);
    }

    // ------------------------------------------------------------------ settle

    /// @inheritdoc IFedSettle
    /// @dev Check order: UnknownRound, WrongPhase(Calculate), RhoIncomplete. Each call computes
    ///  R_i for the next slots from their rows (PairwiseEngine.payoffs), stores them as one data
    ///  contract, emits PayoffCalculated per depositor and extends the payoff digest; the call that
    ///  reaches slot n - 1 marks the round Settled and emits RoundSettled.
    function payoffCalculate(uint256 roundId, uint256 maxOrgs) external {
        Round storage r = _round(roundId);
        _requirePhase(r, Phase.Calculate);
        uint256 n = r.n;
        if (r.rhoBytes != RhoTriangle.size(n)) revert RhoIncomplete(r.rhoBytes, RhoTriangle.size(n));
        uint256 start = r.settledCount;
        uint256 end = maxOrgs == 0 || maxOrgs > n - start ? n : start + maxOrgs;

        Terms memory t = _terms(r);
        bytes memory rows = OrgTable.load(r.orgTable, n);
        uint256[] memory scores = _scores(r, t, rows, n);
        bytes32 digest = _record(r, roundId, rows, scores, _payoffs(r, t, rows, scores, start, end), start, end);
        r.settledCount = uint32(end);
        if (end == n) {
            r.status = STATUS_SETTLED;
            emit RoundSettled(roundId, msg.sender, r.joinedCount, digest);
        }
    }

    /// @dev Slots [start, end): emits PayoffCalculated per depositor, extends and stores the
    ///  payoff digest and stores the chunk's payoffs as a data contract (16 bytes per slot).
    function _record(
        Round storage r,
        uint256 roundId,
        bytes memory rows,
        uint256[] memory scores,
        int256[] memory payoffs,
        uint256 start,
        uint256 end
    ) private returns (bytes32 digest) {
        (bytes memory buf, uint256 ptr) = DataStore.newBuffer(16 * (end - start));
        digest = r.payoffDigest;
        for (uint256 i = start; i < end; ++i) {
            address account = OrgTable.accountAt(rows, i);
            uint256 s = scores[i];
            int256 payoff = 0;
            if (s == Pairwise.INACTIVE) {
                s = 0;
            } else {
                payoff = payoffs[i];
                // |payoff| < 2^119 (checked at open): 16 bytes, two's complement
                assembly ("memory-safe") {
                    mstore(add(ptr, shl(4, sub(i, start))), shl(128, payoff))
                }
                emit PayoffCalculated(roundId, i, account, s, payoff);
            }
            assembly ("memory-safe") {
                // keccak256(abi.encode(digest, i, account, s, payoff)) in memory past the free pointer
                let p := mload(0x40)
                mstore(p, digest)
                mstore(add(p, 0x20), i)
                mstore(add(p, 0x40), account)
                mstore(add(p, 0x60), s)
                mstore(add(p, 0x80), payoff)
                digest := keccak256(p, 0xa0)
            }
        }
        r.payoffDigest = digest;
        r.payoffChunks.push(uint256(uint160(DataStore.deploy(buf, 16 * (end - start)))) | end << 160);
    }

    /// @dev R_i for the depositors among slots [start, end) (PairwiseEngine.payoffs; mechanism 3: every
    ///  slot's payoff from the table).
    function _payoffs(
        Round storage r,
        Terms memory t,
        bytes memory rows,
        uint256[] memory scores,
        uint256 start,
        uint256 end
    ) private view returns (int256[] memory out) {
        uint256 n = r.n;
        if (t.mechanismId == Rules.MARKET) return _marketPayoffs(r, t, rows, n);
        return pairwiseEngine.payoffs(t, r.rhoChunks, n, start, end, scores);
    }

    /// @dev The score every slot is settled at: its report, a silent depositor's minimum report,
    ///  Pairwise.INACTIVE for a slot that never deposited.
    function _scores(Round storage r, Terms memory t, bytes memory rows, uint256 n)
        private
        view
        returns (uint256[] memory scores)
    {
        scores = new uint256[](n);
        address table = r.reportTable;
        bytes memory reports;
        if (table != address(0) && t.mechanismId != Rules.MARKET) {
            reports = new bytes(16 * n + 16);
            uint256 dest;
            assembly ("memory-safe") {
                dest := add(reports, 0x20)
            }
            DataStore.copy(table, 0, 16 * n, dest);
        }
        uint256[3] memory c;
        (c[0], c[1], c[2]) = Rules.coefficients(t);
        uint256[] memory words = _flagWords(r, n);
        for (uint256 i; i < n; ++i) {
            uint256 flags = _flagOf(words, i);
            if (flags & JOINED == 0) {
                scores[i] = Pairwise.INACTIVE;
                continue;
            }
            (uint64 x, uint64 f) = _reportOf(r, flags, reports, i);
            (uint64 xMax, uint64 base) = OrgTable.xMaxBaseAt(rows, i);
            if (x == 0 && f == 0) (x, f) = Rules.minReport(t, xMax);
            unchecked {
                scores[i] = c[0] * x + c[1] * f + c[2] * base; // admissible: <= the slot's maximum
            }
        }
    }

    /// @dev (0, 0) when the slot did not report.
    function _reportOf(Round storage r, uint256 flags, bytes memory reports, uint256 i)
        private
        view
        returns (uint64 x, uint64 f)
    {
        if (reports.length != 0) {
            assembly ("memory-safe") {
                let w := mload(add(add(reports, 0x20), shl(4, i)))
                x := shr(192, w)
                f := and(shr(128, w), 0xffffffffffffffff)
            }
        } else if (flags & REPORTED != 0) {
            Org storage o = r.orgs[i];
            (x, f) = (o.x, o.f);
        }
    }

    // ------------------------------------------------------------------ payouts

    /// @inheritdoc IFedSettle
    /// @dev Check order: UnknownRound, BadIndex, WrongCaller, WrongPhase(Settled, p) (Abandoned is
    ///  accepted too), NothingToWithdraw, AlreadyWithdrawn, TransferFailed. A zero amount marks the
    ///  slot withdrawn without a transfer. ETH is sent with all gas, ignoring return data.
    function payoffTransfer(uint256 roundId, uint256 index) external nonReentrant {
        Round storage r = _round(roundId);
        OrgTable.Row memory row = _row(r, index);
        if (msg.sender != row.account) revert WrongCaller(row.account, msg.sender);
        Phase p = _phase(r);
        if (p != Phase.Settled && p != Phase.Abandoned) revert WrongPhase(Phase.Settled, p);
        uint256 flags = _flags(r, index);
        if (flags & JOINED == 0) revert NothingToWithdraw(index);
        if (flags & WITHDRAWN != 0) revert AlreadyWithdrawn(index);
        uint256 amount = _payout(r, index, flags, p);
        _markPaid(r, r.token, index, amount);
        emit PayoffTransferred(roundId, index, msg.sender, amount);
        if (amount != 0 && !_send(r.token, row.account, amount, gasleft())) {
            revert TransferFailed(row.account, amount);
        }
    }

    /// @inheritdoc IFedSettle
    /// @dev Slots past n are ignored; slots not joined or already paid are skipped. A failed send
    ///  restores the slot's state (it stays pullable) and emits PayoffDeferred.
    function payoutBatch(uint256 roundId, uint256 start, uint256 count) external nonReentrant {
        Round storage r = _round(roundId);
        Phase p = _phase(r);
        if (p != Phase.Settled && p != Phase.Abandoned) revert WrongPhase(Phase.Settled, p);
        uint256 n = r.n;
        uint256 end = count > n || start + count > n ? n : start + count;
        bytes memory rows = OrgTable.load(r.orgTable, n);
        address token = r.token;
        uint256 stipend = token == address(0) ? PUSH_GAS : gasleft();
        uint256[] memory words = _flagWords(r, n);
        for (uint256 i = start; i < end; ++i) {
            uint256 flags = _flagOf(words, i);
            if (flags & JOINED == 0 || flags & WITHDRAWN != 0) continue;
            address account = OrgTable.accountAt(rows, i);
            uint256 amount = _payout(r, i, flags, p);
            _markPaid(r, token, i, amount);
            if (amount == 0 || _send(token, account, amount, stipend)) {
                emit PayoffTransferred(roundId, i, account, amount);
            } else {
                r.flags[i >> 6] &= ~(WITHDRAWN << ((i & 63) << 2));
                r.totalWithdrawn -= uint128(amount);
                liabilities[token] += amount;
                emit PayoffDeferred(roundId, i, account, amount);
            }
        }
    }

    /// @dev Slot i's deposit (the Org word if STORED, else its bond in the org table), plus R_i
    ///  once Settled.
    function _payout(Round storage r, uint256 i, uint256 flags, Phase p) private view returns (uint256 amount) {
        amount = flags & STORED != 0 ? r.orgs[i].deposit : OrgTable.bondAt(r.orgTable, r.n, i);
        // deposit + payoff >= deposit - bond >= 0 (Pairwise: R_i >= -bond_i)
        if (p == Phase.Settled) amount = uint256(int256(amount) + _payoffOf(r, i));
    }

    /// @dev R_i from the payoff chunk that holds slot i (0 before it is computed).
    function _payoffOf(Round storage r, uint256 i) private view returns (int256 payoff) {
        uint256 start = 0;
        uint256 count = r.payoffChunks.length;
        for (uint256 k; k < count; ++k) {
            uint256 c = r.payoffChunks[k];
            uint256 end = c >> 160;
            if (i < end) {
                address data = address(uint160(c));
                assembly ("memory-safe") {
                    extcodecopy(data, 0, add(1, shl(4, sub(i, start))), 16)
                    payoff := signextend(15, shr(128, mload(0)))
                }
                return payoff;
            }
            start = end;
        }
    }

    function _flags(Round storage r, uint256 i) private view returns (uint256) {
        return (r.flags[i >> 6] >> ((i & 63) << 2)) & 15;
    }

    /// @dev Every flag word of the round (one storage read per 64 slots).
    function _flagWords(Round storage r, uint256 n) private view returns (uint256[] memory words) {
        words = new uint256[]((n + 63) >> 6);
        for (uint256 k; k < words.length; ++k) {
            words[k] = r.flags[k];
        }
    }

    function _flagOf(uint256[] memory words, uint256 i) private pure returns (uint256) {
        return (words[i >> 6] >> ((i & 63) << 2)) & 15;
    }

    function _setFlags(Round storage r, uint256 i, uint256 bits) private {
        r.flags[i >> 6] |= bits << ((i & 63) << 2);
    }

    /// @dev Bonds live in the org table when the whole triangle came with roundOpen.
    function _bonded(uint256 n) private pure returns (bool) {
        return RhoTriangle.size(n) <= RHO_CHUNK;
    }

    function _markPaid(Round storage r, address token, uint256 i, uint256 amount) private {
        _setFlags(r, i, WITHDRAWN);
        r.totalWithdrawn += uint128(amount); // payouts sum to the deposits, < 2^128
        liabilities[token] -= amount;
    }

    /// @dev ETH: a call with `gasLimit` gas and no return data copied (no return-data bomb);
    ///  tokens: SafeERC20's trySafeTransfer (false instead of a revert).
    function _send(address token, address to, uint256 amount, uint256 gasLimit) private returns (bool ok) {
        if (token != address(0)) return IERC20(token).trySafeTransfer(to, amount);
        assembly ("memory-safe") {
            ok := call(gasLimit, to, amount, 0, 0, 0, 0)
        }
    }

    // ------------------------------------------------------------------ abandon

    /// @inheritdoc IFedSettle
    function roundAbandon(uint256 roundId) external {
        Round storage r = _round(roundId);
        Phase p = _phase(r);
        bool allowed = false;
        if (p == Phase.Deposit) allowed = msg.sender == r.operator;
        else if (p == Phase.Report || p == Phase.Calculate) allowed = r.joinedCount < 2;
        if (!allowed) revert CannotAbandon(p);
        r.status = STATUS_ABANDONED;
        emit RoundAbandoned(roundId, msg.sender, p);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IFedSettle
    function profileRecord(uint256 roundId, uint256 index) external view returns (Profile memory prof) {
        Round storage r = _round(roundId);
        OrgTable.Row memory row = _row(r, index);
        (prof.account, prof.xMax, prof.fMax, prof.base) = (row.account, row.xMax, row.fMax, row.base);
        if (r.rhoBytes == RhoTriangle.size(r.n)) prof.bond = _bond(r, index);
        uint256 flags = _flags(r, index);
        prof.payoff = _payoffOf(r, index);
        prof.joined = flags & JOINED != 0;
        if (prof.joined) prof.deposited = _payout(r, index, flags, Phase.Abandoned);
        prof.withdrawn = flags & WITHDRAWN != 0;
        bytes memory reports;
        if (r.reportTable != address(0) && r.mechanismId != Rules.MARKET) {
            reports = new bytes(48);
            uint256 dest;
            assembly ("memory-safe") {
                dest := add(reports, 0x20)
            }
            DataStore.copy(r.reportTable, 16 * index, 16, dest);
            index = 0; // the one row copied
        }
        (prof.x, prof.f) = _reportOf(r, flags, reports, index);
        prof.reported = prof.joined && (prof.x != 0 || prof.f != 0 || flags & REPORTED != 0);
        if (prof.joined) {
            Terms memory t = _terms(r);
            (uint64 x, uint64 f) = prof.reported ? (prof.x, prof.f) : Rules.minReport(t, row.xMax);
            prof.score = Rules.score(t, row, x, f);
        }
    }

    /// @inheritdoc IFedSettle
    /// @dev Reverts RhoIncomplete until the whole weight triangle is uploaded.
    function requiredBond(uint256 roundId, uint256 index) external view returns (uint256) {
        Round storage r = _round(roundId);
        _row(r, index);
        return _bond(r, index);
    }

    /// @inheritdoc IFedSettle
    function roundConfig(uint256 roundId) external view returns (RoundConfig memory) {
        return _config(_round(roundId));
    }

    /// @inheritdoc IFedSettle
    function roundState(uint256 roundId) external view returns (RoundState memory s) {
        Round storage r = _round(roundId);
        s.phase = _phase(r);
        s.n = r.n;
        s.joinedCount = r.joinedCount;
        s.reportedCount = r.reportedCount;
        s.settledCount = r.settledCount;
        s.totalDeposits = r.totalDeposits;
        s.totalWithdrawn = r.totalWithdrawn;
        s.rhoBytes = r.rhoBytes;
        if (r.rhoBytes == RhoTriangle.size(r.n)) s.rhoHash = r.rhoHash;
        s.orgsHash = OrgTable.rowsHash(r.orgTable, r.n);
        s.paramsDigest = r.paramsDigest;
        s.payoffDigest = r.payoffDigest;
        s.operator = r.operator;
    }

    /// @inheritdoc IFedSettle
    function rhoChunks(uint256 roundId) external view returns (address[] memory) {
        return _round(roundId).rhoChunks;
    }

    /// @inheritdoc IFedSettle
    /// @dev Returns Phase.None for an unknown round id instead of reverting.
    function phaseOf(uint256 roundId) external view returns (Phase) {
        if (roundId == 0 || roundId > roundCount) return Phase.None;
        return _phase(_rounds[roundId]);
    }

    // ------------------------------------------------------------------ internals

    /// @dev Every opened round has n >= 2 (slot 0, which every entry point reads anyway).
    function _round(uint256 roundId) private view returns (Round storage) {
        Round storage r = _rounds[roundId];
        if (r.n == 0) revert UnknownRound(roundId);
        return r;
    }

    /// @dev The immutable row of slot `index` (BadIndex if out of range).
    function _row(Round storage r, uint256 index) private view returns (OrgTable.Row memory) {
        uint256 n = r.n;
        if (index >= n) revert BadIndex(index, n);
        return OrgTable.get(r.orgTable, index);
    }

    /// @dev bond_i: from the org table when the triangle came with roundOpen, else from row i
    ///  (PairwiseEngine.bondOf; mechanism 3: MarketSession.bond); RhoIncomplete until the triangle is
    ///  complete.
    function _bond(Round storage r, uint256 index) private view returns (uint256) {
        uint256 n = r.n;
        uint256 total = RhoTriangle.size(n);
        if (r.rhoBytes != total) revert RhoIncomplete(r.rhoBytes, total);
        if (total <= RHO_CHUNK) return OrgTable.bondAt(r.orgTable, n, index);
        Terms memory t = _terms(r);
        if (t.mechanismId != Rules.MARKET) return pairwiseEngine.bondOf(t, r.orgTable, r.rhoChunks, n, index);
        return marketEngine.rowBonds(OrgTable.load(r.orgTable, n), t.xScale, t.gammaWad, t.dMinWad)[index];
    }

    function _phase(Round storage r) private view returns (Phase) {
        uint8 status = r.status;
        if (status == STATUS_SETTLED) return Phase.Settled;
        if (status == STATUS_ABANDONED) return Phase.Abandoned;
        uint256 joined = r.joinedCount;
        if (block.timestamp <= r.depositDeadline && joined < r.n) return Phase.Deposit;
        bool reportsDone =
            r.coordinator != address(0) ? r.reportTable != address(0) : r.reportedCount == joined;
        if (block.timestamp <= r.reportDeadline && !reportsDone) return Phase.Report;
        return Phase.Calculate;
    }

    /// @dev The numeric terms from the org table's code (lib/OrgTable.sol), the mechanism from slot 1.
    function _terms(Round storage r) private view returns (Terms memory t) {
        t.mechanismId = r.mechanismId;
        (t.gammaWad, t.lambdaWad, t.dMinWad, t.xScale, t.fScale) = OrgTable.terms(r.orgTable, r.n);
    }

    function _termsOf(RoundConfig calldata c) private pure returns (Terms memory) {
        return Terms(c.mechanismId, c.gammaWad, c.lambdaWad, c.dMinWad, c.xScale, c.fScale);
    }

    function _config(Round storage r) private view returns (RoundConfig memory) {
        Terms memory t = _terms(r);
        return RoundConfig({
            mechanismId: t.mechanismId,
            token: r.token,
            coordinator: r.coordinator,
            gammaWad: t.gammaWad,
            lambdaWad: t.lambdaWad,
            dMinWad: t.dMinWad,
            xScale: uint64(t.xScale),
            fScale: uint64(t.fScale),
            depositDeadline: r.depositDeadline,
            reportDeadline: r.reportDeadline
        });
    }

    function _indexed(string memory name, uint256 i) private view returns (string memory) {
        return fieldNames.indexedName(name, i);
    }
}
