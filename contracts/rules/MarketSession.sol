// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IFedSettle} from "../IFedSettle.sol";
import {OrgTable} from "../lib/OrgTable.sol";
import {MarketEngine} from "./MarketEngine.sol";
import {MarketRule} from "./MarketRule.sol";
import {Terms} from "./Terms.sol";

/// @title MarketSession (mechanism 3 in the core): the core's round fields and slots as MarketRule
///  inputs; the arithmetic runs in the core's MarketEngine
/// @notice Round fields for the market: gammaWad = unitWei (wei per 1.0 unit of utility),
///  lambdaWad = lambda_pay in WAD, dMinWad = the number of FL rounds the bonds cover (an integer,
///  1 <= rounds <= MAX_ROUNDS), xScale / fScale = the scales of K and c. Slot i: base = N_i
///  (samples, >= 1), xMax = K_i * xScale, fMax = c_i * fScale; kWad = xMax * WAD / xScale
///  (truncated). c enters only the off-chain greedy rule, so the contract stores it and never
///  reads it. The weight triangle is not used (send zeros). A coordinator is required: it submits
///  the round's one table (MarketEngine), every slot a graph names must be a depositor, and a
///  slot named in no graph trades nothing.
library MarketSession {
    uint256 internal constant WAD = 1e18;
    uint256 internal constant MAX_SCALE = 1e9;
    /// FL rounds per settlement round (the table's count is a uint16).
    uint256 internal constant MAX_ROUNDS = type(uint16).max;

    function checkConfig(IFedSettle.RoundConfig calldata c) internal pure {
        if (c.coordinator == address(0)) revert IFedSettle.InvalidParameter("coordinator");
        if (c.xScale == 0 || c.xScale > MAX_SCALE) revert IFedSettle.InvalidParameter("xScale");
        if (c.fScale == 0 || c.fScale > MAX_SCALE) revert IFedSettle.InvalidParameter("fScale");
        if (c.dMinWad == 0 || c.dMinWad > MAX_ROUNDS) revert IFedSettle.InvalidParameter("dMinWad");
        if (c.gammaWad == 0 || c.gammaWad > MarketRule.MAX_UNIT_WEI) revert IFedSettle.InvalidParameter("gammaWad");
        if (c.lambdaWad > MarketRule.MAX_LAMBDA_WAD) revert IFedSettle.InvalidParameter("lambdaWad");
    }

    /// @notice A slot needs N = base >= 1; its score is N (bad code 3 names "base").
    function checkOrg(uint64 base) internal pure returns (uint256 sMax, uint8 bad) {
        if (base == 0) return (0, 3);
        return (base, 0);
    }

    /// @notice Every slot's bond; revert ParameterOverflow("gammaWad") unless their sum is below `limit`:
    ///  every payoff then lies in (-limit, limit) (an org gains at most what the others bonded).
    function checkBonds(MarketEngine engine, Terms memory t, IFedSettle.OrgSpec[] calldata orgs, uint256 limit)
        internal
        pure
        returns (uint256[] memory b)
    {
        uint256 m = orgs.length;
        uint256[] memory n = new uint256[](m);
        uint256[] memory kWad = new uint256[](m);
        for (uint256 i; i < m; ++i) {
            n[i] = orgs[i].base;
            kWad[i] = uint256(orgs[i].xMax) * WAD / t.xScale;
        }
        b = engine.bonds(n, kWad, t.gammaWad, t.dMinWad);
        uint256 total = 0;
        for (uint256 i; i < m; ++i) {
            total += b[i];
        }
        if (total >= limit) revert IFedSettle.ParameterOverflow("gammaWad");
    }

    /// @notice The MarketRule.Table of the round from its org table rows.
    function table(Terms memory t, bytes memory rows, uint256 m) internal pure returns (MarketRule.Table memory tab) {
        tab.n = new uint256[](m);
        tab.kWad = new uint256[](m);
        for (uint256 i; i < m; ++i) {
            OrgTable.Row memory row = OrgTable.rowAt(rows, i);
            tab.n[i] = row.base;
            tab.kWad[i] = uint256(row.xMax) * WAD / t.xScale;
        }
        tab.lambdaWad = t.lambdaWad;
        tab.unitWei = t.gammaWad;
    }

    /// @notice Slot i's bond: MarketRule.bond over `rounds` = dMinWad FL rounds.
    function bond(MarketEngine engine, Terms memory t, bytes memory rows, uint256 m, uint256 i)
        internal
        pure
        returns (uint256)
    {
        MarketRule.Table memory tab = table(t, rows, m);
        return engine.bonds(tab.n, tab.kWad, tab.unitWei, t.dMinWad)[i];
    }
}
