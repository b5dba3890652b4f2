// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IFedSettle} from "../IFedSettle.sol";
import {DataStore} from "./DataStore.sol";

/// @title RhoTriangle: the pair weights w_ij as a strict upper triangle stored in data contracts
/// @notice Entry (i, j), i < j, is the big-endian uint16 at byte offset
///  2 * (i * (2n - i - 1) / 2 + j - i - 1) of the n(n-1)-byte triangle; w_ji = w_ij, w_ii = 0.
///  The triangle is cut into chunks of CHUNK bytes (the last one shorter), each the code of one
///  data contract. The round's rhoHash chains the chunks: h_0 = 0, h_{k+1} = keccak256(h_k ||
///  keccak256(chunk_k)).
library RhoTriangle {
    uint256 internal constant BPS = 10_000;
    /// Bytes per chunk: the largest even size a data contract holds.
    uint256 internal constant CHUNK = DataStore.MAX_DATA - 1;

    /// @notice Bytes of the triangle for n orgs.
    function size(uint256 n) internal pure returns (uint256) {
        return n * (n - 1);
    }

    /// Every uint16 lane of a word: its top bit; the other 15 bits; 0x8000 - (BPS + 1).
    uint256 private constant LANE_TOP = 0x8000800080008000800080008000800080008000800080008000800080008000;
    uint256 private constant LANE_LOW = 0x7fff7fff7fff7fff7fff7fff7fff7fff7fff7fff7fff7fff7fff7fff7fff7fff;
    uint256 private constant LANE_BIAS = 0x58ef58ef58ef58ef58ef58ef58ef58ef58ef58ef58ef58ef58ef58ef58ef58ef;

    /// @notice Reverts RhoOutOfRange at the first entry above BPS (offset counted from `base`).
    /// @dev 16 entries per word: a lane x > BPS has its top bit set, or (x & 0x7fff) + LANE_BIAS
    ///  reaches bit 15 (no carry between lanes: 0x7fff + 0x58ef < 0x10000). Bytes past the chunk's
    ///  end can only raise a false alarm, which the exact loop then clears.
    function check(bytes calldata chunk, uint256 base) internal pure {
        uint256 bad;
        assembly ("memory-safe") {
            let end := add(chunk.offset, chunk.length)
            for { let p := chunk.offset } lt(p, end) { p := add(p, 32) } {
                let w := calldataload(p)
                bad := or(bad, or(and(w, LANE_TOP), and(add(and(w, LANE_LOW), LANE_BIAS), LANE_TOP)))
            }
        }
        if (bad == 0) return;
        for (uint256 k; k < chunk.length; k += 2) {
            uint256 v = uint16(bytes2(chunk[k:k + 2]));
            if (v > BPS) revert IFedSettle.RhoOutOfRange(base + k, v);
        }
    }

    /// @notice The whole triangle in memory (one EXTCODECOPY per chunk).
    function load(address[] memory chunks, uint256 total) internal view returns (bytes memory tri) {
        tri = new bytes(total + 32); // 32 bytes of slack: entry reads load a whole word
        uint256 dest;
        assembly ("memory-safe") {
            dest := add(tri, 0x20)
        }
        uint256 count = chunks.length;
        for (uint256 k; k < count; ++k) {
            uint256 len = total - k * CHUNK;
            if (len > CHUNK) len = CHUNK;
            DataStore.copy(chunks[k], 0, len, dest + k * CHUNK);
        }
    }
}
