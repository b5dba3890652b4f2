// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {DataStore} from "./DataStore.sol";

/// @title OrgTable: a round's immutable organization table, stored as data-contract code
/// @notice Row i (ROW = 44 bytes at data offset 44 i), big-endian:
///  account (20 bytes) | xMax (8) | fMax (8) | base (8). After the n rows, the round's numeric
///  terms (TERMS = 5 words): gammaWad | lambdaWad | dMinWad | xScale | fScale, so that a
///  transaction reads them with the rows (one cold account) instead of five cold storage slots.
///  When the weight triangle arrives with roundOpen, every slot's bond follows the terms (BOND = 16
///  bytes each, big-endian), so a deposit reads its bond from the code it reads its row from.
///  The round's `orgsHash` is keccak256(0x00 || rows), the code without the terms and bonds.
library OrgTable {
    uint256 internal constant ROW = 44;
    uint256 internal constant TERMS = 160;
    uint256 internal constant BOND = 16;
    /// Largest n whose table and terms fit one data contract: 44 * 554 + 160 <= DataStore.MAX_DATA.
    uint256 internal constant MAX_ROWS = (DataStore.MAX_DATA - TERMS) / ROW;

    /// @notice Bytes of the data for n rows and the terms.
    function size(uint256 n) internal pure returns (uint256) {
        return ROW * n + TERMS;
    }

    /// @notice Bytes of the data for n rows, the terms and n bonds.
    function sizeWithBonds(uint256 n) internal pure returns (uint256) {
        return (ROW + BOND) * n + TERMS;
    }

    /// @notice Writes the bonds after the terms (each below 2^128: checked at open).
    function putBonds(uint256 ptr, uint256 n, uint256[] memory bonds) internal pure {
        assembly ("memory-safe") {
            let p := add(add(ptr, mul(n, 44)), 160)
            let src := add(bonds, 0x20)
            for { let k := 0 } lt(k, n) { k := add(k, 1) } {
                mstore(add(p, shl(4, k)), shl(128, mload(add(src, shl(5, k)))))
            }
        }
    }

    /// @notice Slot i's bond from a table written with `putBonds` (one EXTCODECOPY of 16 bytes).
    function bondAt(address table, uint256 n, uint256 i) internal view returns (uint256 bond) {
        assembly ("memory-safe") {
            mstore(0, 0)
            extcodecopy(table, 0, add(add(161, mul(n, 44)), shl(4, i)), 16)
            bond := shr(128, mload(0))
        }
    }

    /// @notice Writes the terms after the n rows (call after the last `put`).
    function putTerms(uint256 ptr, uint256 n, uint256 gammaWad, uint256 lambdaWad, uint256 dMinWad, uint256 xScale, uint256 fScale)
        internal
        pure
    {
        assembly ("memory-safe") {
            let p := add(ptr, mul(n, 44))
            mstore(p, gammaWad)
            mstore(add(p, 0x20), lambdaWad)
            mstore(add(p, 0x40), dMinWad)
            mstore(add(p, 0x60), xScale)
            mstore(add(p, 0x80), fScale)
        }
    }

    /// @notice The terms stored after the n rows.
    function terms(address table, uint256 n)
        internal
        view
        returns (uint256 gammaWad, uint256 lambdaWad, uint256 dMinWad, uint256 xScale, uint256 fScale)
    {
        uint256[5] memory w;
        uint256 dest;
        assembly ("memory-safe") {
            dest := w
        }
        DataStore.copy(table, ROW * n, TERMS, dest);
        return (w[0], w[1], w[2], w[3], w[4]);
    }

    /// @notice orgsHash: keccak256(0x00 || rows), the table's code without the terms.
    function rowsHash(address table, uint256 n) internal view returns (bytes32 h) {
        bytes memory code = new bytes(1 + ROW * n);
        assembly ("memory-safe") {
            extcodecopy(table, add(code, 0x20), 0, mload(code))
        }
        h = keccak256(code);
    }

    struct Row {
        address account;
        uint64 xMax;
        uint64 fMax;
        uint64 base;
    }

    /// @notice Writes row i at `ptr + 44 i`. Rows must be written in increasing i: the second word
    ///  spills 16 zero bytes into the next row (DataStore buffers have 32 bytes of slack).
    function put(uint256 ptr, uint256 i, address account, uint64 xMax, uint64 fMax, uint64 base) internal pure {
        assembly ("memory-safe") {
            let p := add(ptr, mul(i, 44))
            mstore(p, or(shl(96, account), shl(32, xMax)))
            mstore(add(p, 28), or(shl(192, fMax), shl(128, base)))
        }
    }

    /// @notice Every row's bytes (44 n) in memory: one EXTCODECOPY.
    function load(address table, uint256 n) internal view returns (bytes memory raw) {
        raw = new bytes(ROW * n);
        uint256 dest;
        assembly ("memory-safe") {
            dest := add(raw, 0x20)
        }
        DataStore.copy(table, 0, ROW * n, dest);
    }

    /// @notice Row i of a table loaded with `load` (no bounds check).
    function rowAt(bytes memory raw, uint256 i) internal pure returns (Row memory row) {
        address account;
        uint64 xMax;
        uint64 fMax;
        uint64 base;
        assembly ("memory-safe") {
            let p := add(add(raw, 0x20), mul(i, 44))
            let w := mload(p)
            account := shr(96, w)
            xMax := and(shr(32, w), 0xffffffffffffffff)
            w := mload(add(p, 28))
            fMax := shr(192, w)
            base := and(shr(128, w), 0xffffffffffffffff)
        }
        row = Row(account, xMax, fMax, base);
    }

    /// @notice The account of row i of a loaded table (no bounds check, no allocation).
    function accountAt(bytes memory raw, uint256 i) internal pure returns (address account) {
        assembly ("memory-safe") {
            account := shr(96, mload(add(add(raw, 0x20), mul(i, 44))))
        }
    }

    /// @notice xMax and base of row i of a loaded table (no bounds check, no allocation).
    function xMaxBaseAt(bytes memory raw, uint256 i) internal pure returns (uint64 xMax, uint64 base) {
        assembly ("memory-safe") {
            let p := add(add(raw, 0x20), mul(i, 44))
            xMax := and(shr(32, mload(p)), 0xffffffffffffffff)
            base := and(shr(128, mload(add(p, 28))), 0xffffffffffffffff)
        }
    }

    /// @notice Every slot's score at its maximum report, cx xMax + cf fMax + cb base (a rule's
    ///  linear score, Rules.coefficients), in one pass over the loaded table.
    /// @dev Unchecked: roundOpen checked every slot's maximum score against 2^255 - 1.
    function maxScores(bytes memory raw, uint256 n, uint256 cx, uint256 cf, uint256 cb)
        internal
        pure
        returns (uint256[] memory s)
    {
        s = new uint256[](n);
        assembly ("memory-safe") {
            let p := add(raw, 0x20)
            let q := add(s, 0x20)
            let end := add(q, shl(5, n))
            for {} lt(q, end) { q := add(q, 0x20) } {
                let w := mload(add(p, 28))
                let v := add(mul(cf, shr(192, w)), mul(cb, and(shr(128, w), 0xffffffffffffffff)))
                mstore(q, add(v, mul(cx, and(shr(32, mload(p)), 0xffffffffffffffff))))
                p := add(p, 44)
            }
        }
    }

    /// @notice Row i read straight from the code (one EXTCODECOPY of 44 bytes).
    function get(address table, uint256 i) internal view returns (Row memory row) {
        bytes memory raw = new bytes(ROW);
        uint256 dest;
        assembly ("memory-safe") {
            dest := add(raw, 0x20)
        }
        DataStore.copy(table, ROW * i, ROW, dest);
        row = rowAt(raw, 0);
    }
}
