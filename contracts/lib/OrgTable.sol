// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title OrgTable: a round's immutable organization table, stored as contract code
/// @notice The per-org data fixed at open (account, bond, xMax, fMax) never changes, so roundOpen
///  writes it once as the runtime code of a fresh data contract instead of two storage slots per
///  org: code costs 200 gas per byte (48 bytes = 9,600 gas per org) where two new slots cost
///  44,200. The code is `0x00 || row_0 || ... || row_{n-1}`; the leading STOP makes calls to it
///  no-ops and keeps it from starting with 0xEF (EIP-3541). Row i (48 bytes, at code offset
///  1 + 48 i): account (20 bytes) | bond (12 bytes, uint96) | xMax (8 bytes) | fMax (8 bytes),
///  all big-endian. The data contract has no selfdestruct, so the table cannot change.
library OrgTable {
    uint256 internal constant ROW = 48;
    /// Largest n whose table fits the 24,576-byte code size limit (EIP-170): 1 + 48 * 511 bytes.
    uint256 internal constant MAX_ROWS = 511;
    /// Initcode header: PUSH2 len, DUP1, PUSH1 0x0a, RETURNDATASIZE, CODECOPY, RETURNDATASIZE,
    /// RETURN (10 bytes) followed by the runtime's leading STOP byte.
    uint256 private constant HEADER = 11;

    /// @notice Allocates an initcode buffer for n rows; fill it with `put`, then `deploy` it.
    function newBuffer(uint256 n) internal pure returns (bytes memory buf) {
        // 16 bytes of slack: `put` writes the last row's 16-byte tail with a 32-byte mstore
        buf = new bytes(HEADER + ROW * n + 16);
        uint256 len = 1 + ROW * n; // runtime length
        assembly ("memory-safe") {
            mstore(add(buf, 0x20), shl(168, or(or(shl(80, 0x61), shl(64, len)), 0x80600a3d393df300)))
        }
    }

    /// @notice Writes row i. Rows must be written in increasing i (each write spills 16 zero bytes
    ///  into the next row).
    function put(bytes memory buf, uint256 i, address account, uint96 bond, uint64 xMax, uint64 fMax)
        internal
        pure
    {
        assembly ("memory-safe") {
            let p := add(add(buf, add(0x20, HEADER)), mul(i, ROW))
            mstore(p, or(shl(96, account), bond))
            mstore(add(p, 0x20), or(shl(192, xMax), shl(128, fMax)))
        }
    }

    /// @notice Deploys the table for n rows and returns its address.
    function deploy(bytes memory buf, uint256 n) internal returns (address table) {
        uint256 size = HEADER + ROW * n;
        assembly ("memory-safe") {
            table := create(0, add(buf, 0x20), size)
        }
        // n <= MAX_ROWS keeps the code under the size limit, so this fails only out of gas
        require(table != address(0), "OrgTable: deploy failed");
    }

    /// @notice Row i of `table` (one EXTCODECOPY into the scratch space).
    function get(address table, uint256 i)
        internal
        view
        returns (address account, uint96 bond, uint64 xMax, uint64 fMax)
    {
        assembly ("memory-safe") {
            extcodecopy(table, 0, add(1, mul(i, ROW)), ROW)
            let w := mload(0)
            account := shr(96, w)
            bond := and(w, 0xffffffffffffffffffffffff)
            w := mload(0x20)
            xMax := shr(192, w)
            fMax := and(shr(128, w), 0xffffffffffffffff)
        }
    }

    /// @notice The account of every row, in order (one EXTCODECOPY of the whole table).
    function accounts(address table, uint256 n) internal view returns (address[] memory out) {
        out = new address[](n);
        bytes memory raw = new bytes(ROW * n);
        assembly ("memory-safe") {
            extcodecopy(table, add(raw, 0x20), 1, mul(n, ROW))
            let src := add(raw, 0x20)
            let dst := add(out, 0x20)
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                mstore(add(dst, shl(5, i)), shr(96, mload(add(src, mul(i, ROW)))))
            }
        }
    }
}
