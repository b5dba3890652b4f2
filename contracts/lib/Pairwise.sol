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

    /// @notice R_i from row i; scores[j] == INACTIVE skips j.
    function payoffRow(bytes memory tri, uint256 n, uint256 i, uint256[] memory scores, uint256 g, uint256 denom)
        internal
        pure
        returns (int256 out)
    {
        if (g == 0) return 0;
        assembly ("memory-safe") {
            let t := add(tri, 0x20)
            let sc := add(scores, 0x20)
            let si := mload(add(sc, shl(5, i)))
            // columns j < i: offset 2(i - 1) at j = 0, then + 2n - 2j - 4
            let o := shl(1, sub(i, 1))
            for { let j := 0 } lt(j, i) { j := add(j, 1) } {
                let sj := mload(add(sc, shl(5, j)))
                let w := shr(240, mload(add(t, o)))
                if and(iszero(iszero(w)), iszero(eq(sj, not(0)))) {
                    out := add(out, sdiv(mul(mul(g, w), sub(si, sj)), denom))
                }
                o := add(o, sub(shl(1, n), add(shl(1, j), 4)))
            }
            // columns j > i: contiguous from offset i (2n - i - 1)
            o := mul(i, sub(sub(shl(1, n), i), 1))
            for { let j := add(i, 1) } lt(j, n) { j := add(j, 1) } {
                let sj := mload(add(sc, shl(5, j)))
                let w := shr(240, mload(add(t, o)))
                if and(iszero(iszero(w)), iszero(eq(sj, not(0)))) {
                    out := add(out, sdiv(mul(mul(g, w), sub(si, sj)), denom))
                }
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
            let t := add(tri, 0x20)
            let sc := add(sMax, 0x20)
            let o := shl(1, sub(i, 1))
            for { let j := 0 } lt(j, i) { j := add(j, 1) } {
                let v := mload(add(sc, shl(5, j)))
                let w := shr(240, mload(add(t, o)))
                // max(0, v - sMinI) as (v > sMinI) * (v - sMinI)
                out := add(out, div(mul(mul(mul(g, w), gt(v, sMinI)), sub(v, sMinI)), denom))
                o := add(o, sub(shl(1, n), add(shl(1, j), 4)))
            }
            o := mul(i, sub(sub(shl(1, n), i), 1))
            for { let j := add(i, 1) } lt(j, n) { j := add(j, 1) } {
                let v := mload(add(sc, shl(5, j)))
                let w := shr(240, mload(add(t, o)))
                out := add(out, div(mul(mul(mul(g, w), gt(v, sMinI)), sub(v, sMinI)), denom))
                o := add(o, 2)
            }
        }
    }
}
