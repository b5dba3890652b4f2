// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IFedSettle} from "../IFedSettle.sol";
import {Rules} from "../rules/Rules.sol";
import {Terms} from "../rules/Terms.sol";
import {OrgTable} from "./OrgTable.sol";
import {RhoTriangle} from "./RhoTriangle.sol";

/// @title PairwiseEngine: the pairwise rules' bonds and payoffs behind external calls
/// @notice FedSettle deploys one PairwiseEngine in its constructor (like AccountSet and
///  rules/MarketEngine.sol), so this code does not count against FedSettle's 24,576-byte limit.
///  bond_i = sum_{j != i} trunc(gammaWad w_ij max(0, sMax_j - sMin_i) / D) and
///  R_i = sum_j trunc(gammaWad w_ij (s_i - s_j) / D) (lib/Pairwise.sol).
contract PairwiseEngine {
    /// @notice Reverts RhoOutOfRange at the first entry above BPS (RhoTriangle.check).
    function checkRho(bytes calldata chunk, uint256 base) external pure {
        RhoTriangle.check(chunk, base);
    }

    /// @notice Every slot's bond from the slot specs and the complete weight triangle `tri`
    ///  (roundOpen, when the triangle arrives with it): one pass over the triangle, each entry
    ///  (i, j) adding its term to both bond_i and bond_j; the entries are checked first
    ///  (RhoOutOfRange).
    /// @dev Unchecked: roundOpen checked gammaWad * BPS * every maximum score against 2^255 - 1 and
    ///  n * (largest term + 1) < 2^119 before calling.
    function bonds(Terms calldata t, IFedSettle.OrgSpec[] calldata orgs, bytes calldata tri)
        external
        pure
        returns (uint256[] memory out)
    {
        RhoTriangle.check(tri, 0);
        Terms memory tm = t;
        uint256 n = orgs.length;
        out = new uint256[](n);
        uint256 g = tm.gammaWad;
        if (g == 0) return out;
        (uint256 cx, uint256 cf, uint256 cb) = Rules.coefficients(tm);
        // per slot three words: gammaWad * maximum score, gammaWad * minimum score, bond accumulator
        // (g w (v - lo) == w (g v - g lo) exactly: every product fits, see above)
        uint256[] memory s = new uint256[](3 * n);
        for (uint256 i; i < n; ++i) {
            IFedSettle.OrgSpec calldata o = orgs[i];
            (uint64 x, uint64 f) = Rules.minReport(tm, o.xMax);
            unchecked {
                uint256 b = cb * o.base;
                s[3 * i] = g * (cx * o.xMax + cf * o.fMax + b);
                s[3 * i + 1] = g * (cx * x + cf * f + b);
            }
        }
        uint256 d = Rules.denominator(tm);
        assembly ("memory-safe") {
            let first := add(s, 0x20)
            let end := add(first, mul(0x60, n))
            let o := tri.offset
            for { let p := first } lt(p, end) { p := add(p, 0x60) } {
                let hi := mload(p)
                let lo := mload(add(p, 0x20))
                let acc := 0
                let q := add(p, 0x60)
                // two rivals per iteration, then the odd one out
                for { let last := sub(end, 0x60) } lt(q, last) { q := add(q, 0xc0) } {
                    let w := shr(240, calldataload(o))
                    let v := mload(q)
                    // max(0, v - lo) as (v > lo) * (v - lo)
                    acc := add(acc, div(mul(w, mul(gt(v, lo), sub(v, lo))), d))
                    v := mload(add(q, 0x20))
                    let a := add(q, 0x40)
                    mstore(a, add(mload(a), div(mul(w, mul(gt(hi, v), sub(hi, v))), d)))
                    w := shr(240, calldataload(add(o, 2)))
                    o := add(o, 4)
                    v := mload(add(q, 0x60))
                    acc := add(acc, div(mul(w, mul(gt(v, lo), sub(v, lo))), d))
                    v := mload(add(q, 0x80))
                    a := add(q, 0xa0)
                    mstore(a, add(mload(a), div(mul(w, mul(gt(hi, v), sub(hi, v))), d)))
                }
                if lt(q, end) {
                    let w := shr(240, calldataload(o))
                    o := add(o, 2)
                    let v := mload(q)
                    acc := add(acc, div(mul(w, mul(gt(v, lo), sub(v, lo))), d))
                    v := mload(add(q, 0x20))
                    let a := add(q, 0x40)
                    mstore(a, add(mload(a), div(mul(w, mul(gt(hi, v), sub(hi, v))), d)))
                }
                let a := add(p, 0x40)
                mstore(a, add(mload(a), acc))
            }
            let src := add(first, 0x40)
            let dst := add(out, 0x20)
            for { let k := 0 } lt(k, n) { k := add(k, 1) } {
                mstore(add(dst, shl(5, k)), mload(add(src, mul(0x60, k))))
            }
        }
    }

    /// @notice Slot i's bond from the round's code (rounds whose triangle came in chunks):
    ///  every rival at its maximum score, slot i at its minimum (Rules.bond).
    function bondOf(Terms calldata t, address orgTable, address[] calldata chunks, uint256 n, uint256 i)
        external
        view
        returns (uint256)
    {
        bytes memory rows = OrgTable.load(orgTable, n);
        return Rules.bond(t, RhoTriangle.load(chunks, RhoTriangle.size(n)), rows, n, i);
    }

    /// @notice R_i for the slots in [start, end) (Rules.payoffs) from the triangle's data contracts
    ///  `chunks`; scores[j] == Pairwise.INACTIVE for slots that never deposited.
    function payoffs(
        Terms calldata t,
        address[] calldata chunks,
        uint256 n,
        uint256 start,
        uint256 end,
        uint256[] calldata scores
    ) external view returns (int256[] memory) {
        return Rules.payoffs(t, RhoTriangle.load(chunks, RhoTriangle.size(n)), n, start, end, scores);
    }
}
