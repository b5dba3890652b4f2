// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title Pairwise: rows of the pairwise redistribution t_ij = trunc(g w_ij (s_i - s_j) / D)
/// @notice Shared by the pairwise rules (TradeFL, cogen). `tri` is the weight triangle in memory
///  (RhoTriangle.load), g = gammaWad, D = BPS * WAD * scoreUnit.
///  - payoffRow: R_i = sum over active j != i of trunc(g w_ij (s_i - s_j) / D) (EVM sdiv,
///    truncation toward zero). Because trunc is odd and w is symmetric, t_ji = -t_ij, so the rows
///    sum to exactly zero: each row can be computed alone, in any transaction.
///  - bondRow: bond_i = sum over j != i of trunc(g w_ij max(0, sMax_j - sMin_i) / D).
///  Solvency: for any scores with sMin_i <= s_i and s_j <= sMax_j, t_ij >= -trunc(g w_ij max(0,
///  sMax_j - sMin_i) / D) (trunc is monotone and odd), so R_i >= -bond_i. The bound is attained,
///  so the bond is the exact worst case.
/// @dev Overflow: roundOpen guarantees g * BPS * max score <= 2^255 - 1, so every product fits
///  int256 and the loops run unchecked.
library Pairwise {
    /// Score marking a slot that takes no part in the round (never deposited).
    uint256 internal constant INACTIVE = type(uint256).max;

    /// @notice R_i from row i; scores[j] == INACTIVE skips j (its term is multiplied by 0).
    function payoffRow(bytes memory tri, uint256 n, uint256 i, uint256[] memory scores, uint256 g, uint256 denom)
        internal
        pure
        returns (int256 out)
    {
        if (g == 0) return 0;
        assembly ("memory-safe") {
            let sp := add(scores, 0x20)
            let si := mload(add(sp, shl(5, i)))
            // columns j < i: entry (j, i) at offset 2(i - 1) for j = 0, then + 2n - 2j - 4
            let end := add(sp, shl(5, i))
            let o := add(add(tri, 0x20), shl(1, sub(i, 1)))
            let step := sub(shl(1, n), 4)
            for {} lt(sp, end) { sp := add(sp, 0x20) } {
                let sj := mload(sp)
                let t := sdiv(mul(mul(g, shr(240, mload(o))), sub(si, sj)), denom)
                out := add(out, mul(t, iszero(eq(sj, not(0)))))
                o := add(o, step)
                step := sub(step, 2)
            }
            // columns j > i: contiguous from offset i (2n - i - 1)
            sp := add(sp, 0x20)
            end := add(add(scores, 0x20), shl(5, n))
            o := add(add(tri, 0x20), mul(i, sub(sub(shl(1, n), i), 1)))
            for {} lt(sp, end) { sp := add(sp, 0x20) } {
                let sj := mload(sp)
                let t := sdiv(mul(mul(g, shr(240, mload(o))), sub(si, sj)), denom)
                out := add(out, mul(t, iszero(eq(sj, not(0)))))
                o := add(o, 2)
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
