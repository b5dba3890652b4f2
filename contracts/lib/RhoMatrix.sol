// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IFedSettle} from "../IFedSettle.sol";

/// @title RhoMatrix: validation of and access to the packed competition matrix
/// @notice rho is passed as `bytes`: n*n big-endian uint16 entries in basis points, row-major, so
///  entry (i, j) is the two bytes at offset 2*(i*n + j). The contract never stores rho (only its
///  keccak256), so everything here reads calldata.
///  A valid matrix has length 2*n*n, a zero diagonal, is symmetric and has every entry <= BPS.
///  Validation is split for gas: `checkShape` (length and diagonal, O(n)) runs first; symmetry and
///  range are checked inside the O(n^2) bond loop (Redistribution.worstCaseBonds), which only
///  reports that something is wrong; `revertFirstBad` then rescans to name the first bad entry.
library RhoMatrix {
    /// 100% in basis points: the largest legal entry.
    uint256 internal constant BPS = 10_000;

    /// @notice Entry (i, j). No bounds check: callers pass i, j < n of a length-checked matrix.
    function entry(bytes calldata rho, uint256 n, uint256 i, uint256 j) internal pure returns (uint256 v) {
        assembly ("memory-safe") {
            v := shr(240, calldataload(add(rho.offset, shl(1, add(mul(i, n), j)))))
        }
    }

    /// @notice Reverts RhoLength unless rho has 2*n*n bytes, RhoDiagonalNonZero(i) at the first
    ///  non-zero diagonal entry.
    function checkShape(bytes calldata rho, uint256 n) internal pure {
        uint256 expected = 2 * n * n; // n <= OrgTable.MAX_ROWS: no overflow
        if (rho.length != expected) revert IFedSettle.RhoLength(expected, rho.length);
        for (uint256 i; i < n;) {
            if (entry(rho, n, i, i) != 0) revert IFedSettle.RhoDiagonalNonZero(i);
            unchecked {
                ++i;
            }
        }
    }

    /// @notice Reverts at the first entry (i, j), i < j in row-major order, that is above BPS
    ///  (RhoOutOfRange) or differs from (j, i) (RhoNotSymmetric); returns if there is none.
    function revertFirstBad(bytes calldata rho, uint256 n) internal pure {
        for (uint256 i; i < n; ++i) {
            for (uint256 j = i + 1; j < n; ++j) {
                uint256 a = entry(rho, n, i, j);
                if (a > BPS) revert IFedSettle.RhoOutOfRange(i, j, a);
                if (a != entry(rho, n, j, i)) revert IFedSettle.RhoNotSymmetric(i, j);
            }
        }
    }
}
