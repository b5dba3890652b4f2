// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title Redistribution: TradeFL contribution scores, pair transfers, worst-case bonds
/// @notice Integer arithmetic of the pairwise redistribution r_ij = gamma rho_ij (c_i - c_j):
///      score_i = x_i * fScale * WAD + lambdaWad * f_i * xScale
///      t_ij    = gammaWad * rho_ij * (score_i - score_j) / DENOM,
///      DENOM   = BPS * WAD * xScale * fScale * WAD,
///  the division truncating toward zero (EVM `sdiv`, the same as Solidity's signed `/`).
///  t_ij is credited to i and debited from j once per unordered pair, so payoffs sum to zero.
/// @dev Overflow: the caller (FedSettle.roundOpen) guarantees, before any of these run, that every
///  score lies in [0, SCORE_LIMIT] and that gammaWad * BPS * maxScore <= type(int256).max. Hence every
///  product gammaWad * rho * |score_i - score_j| fits in int256, and the loops use unchecked
///  assembly arithmetic.
library Redistribution {
    uint256 internal constant WAD = 1e18;
    uint256 internal constant BPS = 10_000;
    /// Largest admissible score: differences of two scores then fit in int256.
    uint256 internal constant SCORE_LIMIT = uint256(type(int256).max);

    /// @notice DENOM = BPS * WAD * xScale * fScale * WAD (<= 1e58 for scales <= 1e9).
    function denominator(uint256 xScale, uint256 fScale) internal pure returns (uint256) {
        return BPS * WAD * xScale * fScale * WAD;
    }

    /// @notice score = x * fScale * WAD + lambdaWad * f * xScale (checked arithmetic).
    function score(uint256 x, uint256 f, uint256 lambdaWad, uint256 xScale, uint256 fScale)
        internal
        pure
        returns (uint256)
    {
        return x * fScale * WAD + lambdaWad * f * xScale;
    }

    /// @notice Worst-case liability of every org: others at their maximum score, itself at its
    ///  minimum score, every rival that would owe it something absent instead:
    ///      bond_i = sum_{j != i} trunc(gammaWad * rho_ij * max(0, sMax_j - sMin_i) / DENOM).
    ///  `orgs` holds one (sMin, sMax, bond) triple of words per org; the bonds are accumulated into
    ///  the third words. The same pass checks symmetry and range of rho (its shape must already be
    ///  checked): it returns false if some upper-triangle entry exceeds BPS or differs from its
    ///  mirror, in which case the bonds are garbage and the caller must revert.
    /// @dev Why this covers every outcome (the solvency proof used by payoffTransfer):
    ///  a non-reporter gets R_i = 0 >= -bond_i. For a reporter i, R_i = sum over reporters j != i of
    ///  t_ij. Truncation toward zero is monotone non-decreasing in the numerator, the numerator is
    ///  non-decreasing in score_i and non-increasing in score_j, and sMin_i <= score_i,
    ///  score_j <= sMax_j for every admissible report, so
    ///      t_ij >= trunc(g rho_ij (sMin_i - sMax_j) / DENOM) >= -trunc(g rho_ij max(0, sMax_j - sMin_i) / DENOM)
    ///  (truncation toward zero is odd: trunc(-a) = -trunc(a)). Summing over the reporters j, and
    ///  adding the non-negative terms of the non-reporters, R_i >= -bond_i >= -deposit_i. The bound
    ///  is attained (reporters at the extremes), so the bond is the exact worst case, not a cover.
    ///  Symmetry makes rho_ij = rho_ji, so one read of the upper triangle serves both orgs.
    function worstCaseBonds(bytes calldata rho, uint256 n, uint256[] memory orgs, uint256 gammaWad, uint256 denom)
        internal
        pure
        returns (bool ok)
    {
        assembly ("memory-safe") {
            // Row i, columns j > i: returns bond_i plus its terms, adds the mirrored terms to bond_j
            // in place, and flags a bad entry. `b` walks the triples from j = i + 1, `rp` walks
            // rho from (i, i + 1) along the row, `cp` from (i + 1, i) down the column.
            // gammaWad and denom are kept at scratch 0x00 / 0x20 (stack depth).
            function row(bondI, minI, maxI, b, end, rp, cp, stride) -> out, bad {
                out := bondI
                for {} lt(b, end) {
                    b := add(b, 0x60)
                    rp := add(rp, 2)
                    cp := add(cp, stride)
                } {
                    let r := shr(240, calldataload(rp))
                    bad := or(bad, or(xor(r, shr(240, calldataload(cp))), gt(r, 10000)))
                    if r {
                        let gr := mul(mload(0x00), r)
                        // max(0, a - b) as (a > b) * (a - b): the wrapped difference is zeroed,
                        // cheaper than a branch
                        let v := mload(add(b, 0x20)) // sMax_j
                        out := add(out, div(mul(mul(gr, gt(v, minI)), sub(v, minI)), mload(0x20)))
                        v := mload(b) // sMin_j
                        let p := add(b, 0x40)
                        mstore(p, add(mload(p), div(mul(mul(gr, gt(maxI, v)), sub(maxI, v)), mload(0x20))))
                    }
                }
            }
            mstore(0x00, gammaWad)
            mstore(0x20, denom)
            let stride := shl(1, n)
            let step := add(stride, 2)
            let rp := add(rho.offset, 2) // (0, 1)
            let cp := add(rho.offset, stride) // (1, 0)
            let end := add(add(orgs, 0x20), mul(n, 0x60))
            let bad := 0
            for { let a := add(orgs, 0x20) } lt(a, end) {
                a := add(a, 0x60)
                rp := add(rp, step)
                cp := add(cp, step)
            } {
                // terms from rows j < i were added to bond_i while visiting row j
                let out, rowBad := row(mload(add(a, 0x40)), mload(a), mload(add(a, 0x20)), add(a, 0x60), end, rp, cp, stride)
                mstore(add(a, 0x40), out)
                bad := or(bad, rowBad)
            }
            ok := iszero(bad)
        }
    }

    /// @notice Payoffs of the reporters. `reps` holds one (column offset 2*i, score_i, payoff)
    ///  triple of words per reporter i, in increasing i; payoffs (third words) must start at zero.
    ///  For every pair a < b, t = trunc(gammaWad * rho_ij * (score_i - score_j) / DENOM) is added
    ///  to reporter a and subtracted from reporter b: each pair is rounded once, sum == 0 exactly.
    function payoffs(bytes calldata rho, uint256 n, uint256[] memory reps, uint256 gammaWad, uint256 denom)
        internal
        pure
    {
        if (gammaWad == 0) return;
        assembly ("memory-safe") {
            // Reporter a against every later reporter b: returns pay_a plus its transfers and
            // subtracts them from pay_b in place. gammaWad, denom at scratch 0x00 / 0x20.
            function row(payA, sA, rowPtr, b, end) -> out {
                out := payA
                for {} lt(b, end) { b := add(b, 0x60) } {
                    let r := shr(240, calldataload(add(rowPtr, mload(b))))
                    if r {
                        let t := sdiv(mul(mul(mload(0x00), r), sub(sA, mload(add(b, 0x20)))), mload(0x20))
                        out := add(out, t)
                        let p := add(b, 0x40)
                        mstore(p, sub(mload(p), t))
                    }
                }
            }
            mstore(0x00, gammaWad)
            mstore(0x20, denom)
            let end := add(add(reps, 0x20), mul(mload(reps), 0x20))
            for { let a := add(reps, 0x20) } lt(a, end) { a := add(a, 0x60) } {
                // row pointer: rho.offset + 2*i*n = rho.offset + col_i * n
                let rowPtr := add(rho.offset, mul(mload(a), n))
                mstore(add(a, 0x40), row(mload(add(a, 0x40)), mload(add(a, 0x20)), rowPtr, add(a, 0x60), end))
            }
        }
    }
}
