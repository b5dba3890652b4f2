// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title DataStore: immutable bytes stored as the code of a data contract (SSTORE2 pattern)
/// @notice Code costs 200 gas per byte once, where a fresh storage slot costs 22,100 gas per 32
///  bytes, and is read back with EXTCODECOPY. The runtime code is `0x00 || data`: the leading STOP
///  makes calls to it no-ops and keeps it from starting with 0xEF (EIP-3541). The data contract has
///  no selfdestruct, so the bytes can never change. At most MAX_DATA bytes per data contract.
library DataStore {
    /// EIP-170 code size limit (24,576) minus the leading STOP byte.
    uint256 internal constant MAX_DATA = 24_575;
    /// Initcode header (10 bytes): PUSH2 len, DUP1, PUSH1 0x0a, RETURNDATASIZE, CODECOPY,
    /// RETURNDATASIZE, RETURN; then the runtime's leading STOP.
    uint256 private constant HEADER = 11;

    /// CREATE of a data contract failed (out of gas: callers keep the data under MAX_DATA).
    error DeployFailed();

    /// @notice Allocates an initcode buffer for `size` data bytes; the data goes at `dataPtr`. The
    ///  buffer has 32 bytes of slack after the data, so writers may spill a word past the end.
    function newBuffer(uint256 size) internal pure returns (bytes memory buf, uint256 dataPtr) {
        buf = new bytes(HEADER + size + 32);
        uint256 len = 1 + size; // runtime length
        assembly ("memory-safe") {
            mstore(add(buf, 0x20), shl(168, or(or(shl(80, 0x61), shl(64, len)), 0x80600a3d393df300)))
            dataPtr := add(buf, add(0x20, HEADER))
        }
    }

    /// @notice Deploys a filled buffer from `newBuffer(size)` and returns the data contract.
    function deploy(bytes memory buf, uint256 size) internal returns (address data) {
        assembly ("memory-safe") {
            data := create(0, add(buf, 0x20), add(HEADER, size))
        }
        // callers keep the data under MAX_DATA, so this fails only out of gas
        if (data == address(0)) revert DeployFailed();
    }

    /// @notice Stores calldata bytes as a data contract.
    function write(bytes calldata data) internal returns (address) {
        (bytes memory buf, uint256 ptr) = newBuffer(data.length);
        assembly ("memory-safe") {
            calldatacopy(ptr, data.offset, data.length)
        }
        return deploy(buf, data.length);
    }

    /// @notice Copies `len` data bytes from `start` of data contract `data` to memory `dest`.
    function copy(address data, uint256 start, uint256 len, uint256 dest) internal view {
        assembly ("memory-safe") {
            extcodecopy(data, dest, add(1, start), len)
        }
    }
}
