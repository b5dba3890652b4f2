// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {MarketRule} from "../rules/MarketRule.sol";

/// @title MarketRuleHarness: external wrappers of MarketRule for tests (pure, called with eth_call)
contract MarketRuleHarness {
    function isqrt(uint256 x) external pure returns (uint256) {
        return MarketRule.isqrt(x);
    }

    function sqrtInvWad(uint256 kWad, uint256 t) external pure returns (uint256) {
        return MarketRule.sqrtInvWad(kWad, t);
    }

    function checkParams(
        uint256[] calldata n,
        uint256[] calldata kWad,
        uint256[] calldata cWad,
        uint256 lambdaWad,
        uint256 unitWei,
        uint256 rounds
    ) external pure {
        MarketRule.checkParams(n, kWad, cWad, lambdaWad, unitWei, rounds);
    }

    function settleRound(MarketRule.Table memory t, MarketRule.Graph memory g)
        external
        pure
        returns (uint256[] memory rWei, int256[] memory payoff)
    {
        return MarketRule.settleRound(t, g);
    }

    function bond(uint256 i, uint256[] calldata n, uint256[] calldata kWad, uint256 unitWei, uint256 rounds)
        external
        pure
        returns (uint256)
    {
        return MarketRule.bond(i, n, kWad, unitWei, rounds);
    }

    function bonds(uint256[] calldata n, uint256[] calldata kWad, uint256 unitWei, uint256 rounds)
        external
        pure
        returns (uint256[] memory)
    {
        return MarketRule.bonds(n, kWad, unitWei, rounds);
    }
}
