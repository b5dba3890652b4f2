// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title FieldNames: the indexed field names of InvalidParameter and ReportOutOfBounds errors
/// @notice FedSettle deploys one FieldNames in its constructor (like AccountSet), so this code
///  (called only on the way to a revert) does not count against FedSettle's 24,576-byte limit.
contract FieldNames {
    /// @notice `name[i]`, e.g. "xMax[3]".
    function indexedName(string calldata name, uint256 i) external pure returns (string memory) {
        return string.concat(name, "[", _decimal(i), "]");
    }

    function _decimal(uint256 v) private pure returns (string memory) {
        if (v == 0) return "0";
        uint256 len = 0;
        for (uint256 t = v; t != 0; t /= 10) ++len;
        bytes memory out = new bytes(len);
        for (; v != 0; v /= 10) out[--len] = bytes1(uint8(48 + v % 10));
        return string(out);
    }
}
