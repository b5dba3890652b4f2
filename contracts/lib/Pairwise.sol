// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title Pairwise: rows of the pairwise redistribution t_ij = trunc(g w_ij (s_i - s_j) / D)
/// @notice Shared by the pairwise rules (TradeFL, cogen). `tri` is the weight triangle in memory
///  (RhoTriangle.load), g = gammaWad, D = BPS * WAD * scoreUnit.
///  - payoffRows: R_i = sum over active j != i of trunc(g w_ij (s_i - s_j) / D) (EVM sdiv,
///    truncation toward zero) for a chunk of slots. Because trunc is odd and w is symmetric,
///    t_ji = -t_ij, so the rows sum to exactly zero: each chunk can be computed alone, in any
///    transaction, and a pair inside a chunk is computed once.
///  - bondRow: bond_i = sum over j != i of trunc(g w_ij max(0, sMax_j - sMin_i) / D).
///  Solvency: for any scores with sMin_i <= s_i and s_j <= sMax_j, t_ij >= -trunc(g w_ij max(0,
///  sMax_j - sMin_i) / D) (trunc is monotone and odd), so R_i >= -bond_i. The bound is attained,
///  so the bond is the exact worst case.
/// @dev Overflow: roundOpen guarantees g * BPS * max score <= 2^255 - 1, so every product fits
///  int256 and the loops run unchecked.
library Pairwise {
    /// Score marking a slot that takes no part in the round (never deposited).
    uint256 internal constant INACTIVE = type(uint256).max;

    /// @notice R_i for every slot i in [start, end) (out[i]; other entries are scratch) from
    ///  `scores` = g * score (g w (s_i - s_j) == w (g s_i - g s_j) exactly), with scores[j] ==
    ///  INACTIVE for a slot that never deposited: its row and column of `tri` must be zero
    ///  (`deactivate`), so its terms vanish. A pair (i, j) inside the chunk is computed once:
    ///  t_ji = -t_ij exactly (sdiv truncates toward zero), so the result equals the row sums
    ///  R_i = sum_j t_ij.
    function payoffRows(bytes memory tri, uint256 n, uint256 start, uint256 end, uint256[] memory scores, uint256 denom)
        internal
        pure
        returns (int256[] memory out)
    {
        out = new int256[](n);
        for (uint256 i = start; i < end; ++i) {
            uint256 si;
            assembly ("memory-safe") {
                si := mload(add(scores, shl(5, add(i, 1))))
            }
            if (si == INACTIVE) continue;
            int256 acc = _lowerRow(tri, n, i, start, scores, si, denom) + _upperRow(tri, n, i, scores, out, si, denom);
            assembly ("memory-safe") {
                let p := add(out, shl(5, add(i, 1)))
                mstore(p, add(mload(p), acc))
            }
        }
    }

    /// @dev sum over j < start of t_ij (entry (j, i) at offset 2(i - 1) for j = 0, then + 2n - 2j - 4).
    function _lowerRow(
        bytes memory tri,
        uint256 n,
        uint256 i,
        uint256 start,
        uint256[] memory scores,
        uint256 si,
        uint256 denom
    ) private pure returns (int256 acc) {
        assembly ("memory-safe") {
            let sp := add(scores, 0x20)
            let last := add(sp, shl(5, start))
            let o := add(add(tri, 0x20), shl(1, sub(i, 1)))
            let step := sub(shl(1, n), 4)
            for {} lt(sp, last) { sp := add(sp, 0x20) } {
                acc := add(acc, sdiv(mul(shr(240, mload(o)), sub(si, mload(sp))), denom))
                o := add(o, step)
                step := sub(step, 2)
            }
        }
    }

    /// @dev sum over j > i of t_ij (contiguous from offset i (2n - i - 1)); adds t_ji = -t_ij to out[j].
    function _upperRow(
        bytes memory tri,
        uint256 n,
        uint256 i,
        uint256[] memory scores,
        int256[] memory out,
        uint256 si,
        uint256 denom
    ) private pure returns (int256 acc) {
        assembly ("memory-safe") {
            let sp := add(scores, shl(5, add(i, 2)))
            let last := add(scores, shl(5, add(n, 1)))
            let op := add(out, shl(5, add(i, 2)))
            let o := add(add(tri, 0x20), mul(i, sub(sub(shl(1, n), i), 1)))
            // two rivals per iteration, then the odd one out
            for { let last2 := sub(last, 0x20) } lt(sp, last2) { sp := add(sp, 0x40) } {
                let t := sdiv(mul(shr(240, mload(o)), sub(si, mload(sp))), denom)
                acc := add(acc, t)
                mstore(op, sub(mload(op), t))
                t := sdiv(mul(shr(240, mload(add(o, 2))), sub(si, mload(add(sp, 0x20)))), denom)
                acc := add(acc, t)
                let op2 := add(op, 0x20)
                mstore(op2, sub(mload(op2), t))
                op := add(op, 0x40)
                o := add(o, 4)
            }
            if lt(sp, last) {
                let t := sdiv(mul(shr(240, mload(o)), sub(si, mload(sp))), denom)
                acc := add(acc, t)
                mstore(op, sub(mload(op), t))
            }
        }
    }

    /// @notice Zeroes slot j's row and column of the triangle in memory (a slot that never
    ///  deposited takes no part in the payoffs).
    function deactivate(bytes memory tri, uint256 n, uint256 j) internal pure {
        assembly ("memory-safe") {
            let base := add(tri, 0x20)
            // column j: entry (a, j) for a < j
            let o := add(base, shl(1, sub(j, 1)))
            let step := sub(shl(1, n), 4)
            for { let a := 0 } lt(a, j) { a := add(a, 1) } {
                mstore8(o, 0)
                mstore8(add(o, 1), 0)
                o := add(o, step)
                step := sub(step, 2)
            }
            // row j: entries (j, b) for b > j, contiguous
            o := add(base, mul(j, sub(sub(shl(1, n), j), 1)))
            let last := add(o, shl(1, sub(sub(n, j), 1)))
            for {} lt(o, last) { o := add(o, 1) } {
                mstore8(o, 0)
            }
        }
    }

    /// @notice bond_i from row i against every other slot's maximum score.
    function bondRow(bytes memory tri, uint256 n, uint256 i, uint256[] memory sMax, uint256 sMinI, uint256 g, uint256 denom)
        internal
        pure
        returns (uint256 out)
    {
        if (g == 0) return 0;
        assembly ("memory-safe") {
            let sp := add(sMax, 0x20)
            let end := add(sp, shl(5, i))
            let o := add(add(tri, 0x20), shl(1, sub(i, 1)))
            let step := sub(shl(1, n), 4)
            for {} lt(sp, end) { sp := add(sp, 0x20) } {
                let v := mload(sp)
                // max(0, v - sMinI) as (v > sMinI) * (v - sMinI)
                out := add(out, div(mul(mul(mul(g, shr(240, mload(o))), gt(v, sMinI)), sub(v, sMinI)), denom))
                o := add(o, step)
                step := sub(step, 2)
            }
            sp := add(sp, 0x20)
            end := add(add(sMax, 0x20), shl(5, n))
            o := add(add(tri, 0x20), mul(i, sub(sub(shl(1, n), i), 1)))
            for {} lt(sp, end) { sp := add(sp, 0x20) } {
                let v := mload(sp)
                out := add(out, div(mul(mul(mul(g, shr(240, mload(o))), gt(v, sMinI)), sub(v, sMinI)), denom))
                o := add(o, 2)
            }
        }
    }
}
