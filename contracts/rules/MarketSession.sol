// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IFedSettle} from "../IFedSettle.sol";
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
        b = engine.specBonds(orgs, t.xScale, t.gammaWad, t.dMinWad);
        uint256 total = 0;
        for (uint256 i; i < orgs.length; ++i) {
            total += b[i];
        }
        if (total >= limit) revert IFedSettle.ParameterOverflow("gammaWad");
    }
}
