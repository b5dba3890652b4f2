// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IFedSettle} from "../IFedSettle.sol";
import {OrgTable} from "../lib/OrgTable.sol";
import {Pairwise} from "../lib/Pairwise.sol";
import {CogenRule} from "./CogenRule.sol";
import {MarketSession} from "./MarketSession.sol";
import {Terms} from "./Terms.sol";
import {TradeFLRule} from "./TradeFLRule.sol";

/// @title Rules: the one dispatch point from the settlement core to a mechanism's payoff rule
/// @notice The core (FedSettle) owns phases, deadlines, deposits, reports, settlement order,
///  payouts, records and events; everything mechanism-specific goes through these functions,
///  selected by `mechanismId`. A rule library must provide, as internal pure functions:
///  - checkConfig(RoundConfig): revert InvalidParameter for its own config constraints;
///  - checkOrg(Terms, xMax, fMax, base) -> (sMax, bad): the slot's maximum score, or a field code;
///  - minReport(Terms, xMax) -> (x, f): the report a silent depositor is settled at; it must have
///    the slot's minimum score (so silence never pays and the bond covers it);
///  - checkReport(Terms, row, x, f) -> (bad, min, max);
///  - coefficients(Terms) -> (cx, cf, cb): score(row, x, f) == cx x + cf f + cb base exactly (the
///    core computes scores in bulk from them: bonds, settlement);
///  - bond(i) and payoffs(start, end) from the weight triangle and the scores, with
///    sum_i payoff(i) == 0 exactly and payoff(i) >= -bond(i) for every admissible report set.
///  Mechanism 3 (model-sharing market, contracts/rules/MarketRule.sol through MarketSession.sol)
///  is one more `if` branch in checkConfig, checkOrg and coefficients (its score is N_i, its minimum
///  report (0, 0)); its bond and payoffs need the whole org table and the coordinator's table, so
///  the core calls MarketEngine for those directly.
library Rules {
    uint8 internal constant TRADEFL = 1;
    uint8 internal constant COGEN = 2;
    uint8 internal constant MARKET = 3;
    uint256 internal constant BPS = 10_000;
    uint256 internal constant WAD = 1e18;

    function checkConfig(IFedSettle.RoundConfig calldata c) internal pure {
        if (c.mechanismId == TRADEFL) return TradeFLRule.checkConfig(c);
        if (c.mechanismId == COGEN) return CogenRule.checkConfig(c);
        if (c.mechanismId == MARKET) return MarketSession.checkConfig(c);
        revert IFedSettle.UnsupportedMechanism(c.mechanismId);
    }

    /// @notice Slot's maximum score; `bad` names a field (1 xMax, 2 fMax, 3 base, 4 lambdaWad).
    function checkOrg(Terms memory t, uint64 xMax, uint64 fMax, uint64 base) internal pure returns (uint256, uint8) {
        if (t.mechanismId == TRADEFL) return TradeFLRule.checkOrg(t, xMax, fMax, base);
        if (t.mechanismId == MARKET) return MarketSession.checkOrg(base);
        return CogenRule.checkOrg(t, xMax, fMax, base);
    }

    /// @notice D = BPS * WAD * scoreUnit, the divisor of every pair transfer.
    function denominator(Terms memory t) internal pure returns (uint256) {
        uint256 unit = t.mechanismId == TRADEFL ? TradeFLRule.scoreUnit(t) : CogenRule.scoreUnit(t);
        return BPS * WAD * unit;
    }

    /// @notice The report a silent depositor with maximum x `xMax` is settled at (its minimum).
    function minReport(Terms memory t, uint64 xMax) internal pure returns (uint64, uint64) {
        if (t.mechanismId == TRADEFL) return TradeFLRule.minReport(t, xMax);
        return (0, 0);
    }

    /// @notice (cx, cf, cb) with score(row, x, f) = cx x + cf f + cb base: every rule's score is
    ///  linear in the report and the slot's base (mechanism 3: score = base = N_i).
    function coefficients(Terms memory t) internal pure returns (uint256, uint256, uint256) {
        if (t.mechanismId == TRADEFL) return TradeFLRule.coefficients(t);
        if (t.mechanismId == MARKET) return (0, 0, 1);
        return CogenRule.coefficients(t);
    }

    function checkReport(Terms memory t, OrgTable.Row memory row, uint64 x, uint64 f)
        internal
        pure
        returns (uint8, uint256, uint256)
    {
        if (t.mechanismId == TRADEFL) return TradeFLRule.checkReport(t, row.xMax, row.fMax, x, f);
        return CogenRule.checkReport(row.xMax, x, f);
    }

    function score(Terms memory t, OrgTable.Row memory row, uint64 x, uint64 f) internal pure returns (uint256) {
        (uint256 cx, uint256 cf, uint256 cb) = coefficients(t);
        unchecked {
            return cx * x + cf * f + cb * row.base; // an admissible report: <= the slot's maximum
        }
    }

    /// @notice Every slot's maximum score (its fields were checked at open).
    function maxScores(Terms memory t, bytes memory rows, uint256 n) internal pure returns (uint256[] memory) {
        (uint256 cx, uint256 cf, uint256 cb) = coefficients(t);
        return OrgTable.maxScores(rows, n, cx, cf, cb);
    }

    /// @notice Slot i's score at its minimum report.
    function minScore(Terms memory t, bytes memory rows, uint256 i) internal pure returns (uint256) {
        (uint256 cx, uint256 cf, uint256 cb) = coefficients(t);
        (uint64 xMax, uint64 base) = OrgTable.xMaxBaseAt(rows, i);
        (uint64 x, uint64 f) = minReport(t, xMax);
        return cx * x + cf * f + cb * base;
    }

    /// @notice Slot i's bond (both mechanisms here are pairwise): every rival at its maximum score
    ///  (OrgTable.maxScores over the loaded org table `rows`), slot i at its minimum.
    function bond(Terms memory t, bytes memory tri, bytes memory rows, uint256 n, uint256 i)
        internal
        pure
        returns (uint256)
    {
        uint256[] memory sMax = maxScores(t, rows, n);
        return Pairwise.bondRow(tri, n, i, sMax, minScore(t, rows, i), t.gammaWad, denominator(t));
    }

    /// @notice R_i for the slots in [start, end) (out[i]); scores[j] == Pairwise.INACTIVE for slots
    ///  that never deposited (their entries of `tri`, a memory copy, are zeroed).
    function payoffs(Terms memory t, bytes memory tri, uint256 n, uint256 start, uint256 end, uint256[] memory scores)
        internal
        pure
        returns (int256[] memory)
    {
        if (t.gammaWad == 0) return new int256[](n);
        return Pairwise.payoffRows(tri, n, start, end, _scaled(tri, n, scores, t.gammaWad), denominator(t));
    }

    function _mul(uint256 a, uint256 b) private pure returns (uint256) {
        unchecked {
            return a * b;
        }
    }

    /// @dev g * score per slot (<= gammaWad * max score, checked at open); an inactive slot keeps
    ///  INACTIVE and its row and column of `tri` are zeroed.
    function _scaled(bytes memory tri, uint256 n, uint256[] memory scores, uint256 g)
        private
        pure
        returns (uint256[] memory out)
    {
        out = new uint256[](n);
        for (uint256 j; j < n; ++j) {
            uint256 s = scores[j];
            if (s == Pairwise.INACTIVE) Pairwise.deactivate(tri, n, j);
            else s = _mul(s, g);
            out[j] = s;
        }
    }
}
