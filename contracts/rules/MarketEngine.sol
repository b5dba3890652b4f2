// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IFedSettle} from "../IFedSettle.sol";
import {OrgTable} from "../lib/OrgTable.sol";
import {MarketRule} from "./MarketRule.sol";

/// @title MarketEngine: mechanism 3's arithmetic (MarketRule) behind external pure calls
/// @notice FedSettle deploys one MarketEngine in its constructor (its creation code is part of
///  FedSettle's initcode, so its runtime code does not count against FedSettle's 24,576-byte
///  limit) and calls it for the market's bonds, table checks and payoffs. Reverts bubble up
///  unchanged through FedSettle.
///
///  The table (bytes, big-endian): uint16 R (1 <= R <= maxRounds) then R FL-round blocks; block k
///  is rowStart[0..m] as m + 1 uint16, then rowStart[m] edges of 10 bytes each: uint16 exporter,
///  uint64 distWad (one MarketRule.Graph in compressed rows).
contract MarketEngine {
    uint256 internal constant EDGE_BYTES = 10;
    uint256 internal constant WAD = 1e18;

    /// @notice Every slot's bond from the round's slot specs (roundOpen): base = N_i,
    ///  kWad = xMax * WAD / xScale (truncated), MarketRule.bonds.
    function specBonds(IFedSettle.OrgSpec[] calldata orgs, uint256 xScale, uint256 unitWei, uint256 rounds)
        external
        pure
        returns (uint256[] memory)
    {
        uint256 m = orgs.length;
        uint256[] memory n = new uint256[](m);
        uint256[] memory kWad = new uint256[](m);
        for (uint256 i; i < m; ++i) {
            n[i] = orgs[i].base;
            kWad[i] = uint256(orgs[i].xMax) * WAD / xScale;
        }
        return MarketRule.bonds(n, kWad, unitWei, rounds);
    }

    /// @notice Every slot's bond from the org table's rows (lib/OrgTable.sol), as specBonds.
    function rowBonds(bytes calldata rows, uint256 xScale, uint256 unitWei, uint256 rounds)
        external
        pure
        returns (uint256[] memory)
    {
        MarketRule.Table memory tab = _table(rows, xScale, 0, unitWei);
        return MarketRule.bonds(tab.n, tab.kWad, unitWei, rounds);
    }

    /// @notice Every slot's net payoff from the table, for the round whose org table rows are `rows`.
    function rowPayoffs(
        bytes calldata rows,
        uint256 xScale,
        uint256 lambdaWad,
        uint256 unitWei,
        bytes calldata table,
        uint256 maxRounds
    ) external pure returns (int256[] memory) {
        return _payoffs(_table(rows, xScale, lambdaWad, unitWei), table, maxRounds);
    }

    /// @dev The MarketRule.Table of a round from its org table rows.
    function _table(bytes calldata rows, uint256 xScale, uint256 lambdaWad, uint256 unitWei)
        private
        pure
        returns (MarketRule.Table memory tab)
    {
        bytes memory raw = rows;
        uint256 m = raw.length / OrgTable.ROW;
        tab.n = new uint256[](m);
        tab.kWad = new uint256[](m);
        for (uint256 i; i < m; ++i) {
            OrgTable.Row memory row = OrgTable.rowAt(raw, i);
            tab.n[i] = row.base;
            tab.kWad[i] = uint256(row.xMax) * WAD / xScale;
        }
        tab.lambdaWad = lambdaWad;
        tab.unitWei = unitWei;
    }

    /// @notice Decodes and checks the table; `named[i]` is true when some graph names slot i.
    function named(bytes calldata table, uint256 m, uint256 maxRounds) external pure returns (bool[] memory out) {
        MarketRule.Graph[] memory gs = decode(table, m, maxRounds);
        out = new bool[](m);
        for (uint256 k; k < gs.length; ++k) {
            MarketRule.Graph memory g = gs[k];
            for (uint256 i; i < m; ++i) {
                if (g.rowStart[i + 1] > g.rowStart[i]) out[i] = true;
            }
            for (uint256 e; e < g.exporters.length; ++e) {
                out[g.exporters[e]] = true;
            }
        }
    }

    /// @dev Every slot's net payoff: the sum over the table's graphs of MarketRule.settleRound
    ///  (each sums to exactly 0).
    function _payoffs(MarketRule.Table memory tab, bytes calldata table, uint256 maxRounds)
        private
        pure
        returns (int256[] memory total)
    {
        uint256 m = tab.n.length;
        MarketRule.Graph[] memory gs = decode(table, m, maxRounds);
        total = new int256[](m);
        for (uint256 k; k < gs.length; ++k) {
            // The per-edge payments (first return) are for auditors; the core needs the net payoffs.
            // slither-disable-next-line unused-return
            (, int256[] memory p) = MarketRule.settleRound(tab, gs[k]);
            for (uint256 i; i < m; ++i) {
                total[i] += p[i];
            }
        }
    }

    /// @notice The table's graphs; reverts TableLength on a wrong size, InvalidParameter("rounds")
    ///  on a count outside 1 .. maxRounds, and MarketRule's graph errors (checkGraph).
    function decode(bytes calldata raw, uint256 m, uint256 maxRounds)
        public
        pure
        returns (MarketRule.Graph[] memory gs)
    {
        uint256 len = raw.length;
        if (len < 2) revert IFedSettle.TableLength(2, len);
        uint256 rounds = uint16(bytes2(raw[0:2]));
        if (rounds == 0 || rounds > maxRounds) revert IFedSettle.InvalidParameter("rounds");
        gs = new MarketRule.Graph[](rounds);
        uint256 p = 2;
        for (uint256 k; k < rounds; ++k) {
            if (len < p + 2 * (m + 1)) revert IFedSettle.TableLength(p + 2 * (m + 1), len);
            MarketRule.Graph memory g = gs[k];
            g.rowStart = new uint256[](m + 1);
            for (uint256 i; i <= m; ++i) {
                g.rowStart[i] = uint16(bytes2(raw[p:p + 2]));
                p += 2;
            }
            uint256 edges = g.rowStart[m];
            if (len < p + EDGE_BYTES * edges) revert IFedSettle.TableLength(p + EDGE_BYTES * edges, len);
            g.exporters = new uint256[](edges);
            g.distWad = new uint256[](edges);
            for (uint256 e; e < edges; ++e) {
                g.exporters[e] = uint16(bytes2(raw[p:p + 2]));
                g.distWad[e] = uint64(bytes8(raw[p + 2:p + 10]));
                p += EDGE_BYTES;
            }
            MarketRule.checkGraph(m, g.rowStart, g.exporters, g.distWad);
        }
        if (p != len) revert IFedSettle.TableLength(p, len);
    }
}
