// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title AccountSet: roundOpen's duplicate-account check behind an external pure call
/// @notice FedSettle deploys one AccountSet in its constructor (like rules/MarketEngine.sol), so
///  this code does not count against FedSettle's 24,576-byte limit.
contract AccountSet {
    uint256 internal constant SPEC = 128;

    /// @notice The first account that appears twice (address(0) if none): an open-addressing hash
    ///  set in memory, O(n) instead of O(n^2) comparisons, no storage.
    ///  `specs` is the ABI encoding of the OrgSpec[] elements (4 words each, the account first),
    ///  forwarded by FedSettle straight from its calldata.
    function firstDuplicate(bytes calldata specs) external pure returns (address) {
        uint256 n = specs.length / SPEC;
        uint256 size = 4;
        while (size < specs.length / (SPEC / 2)) size <<= 1; // size >= 2n
        address[] memory table = new address[](size);
        uint256 mask = size - 1;
        for (uint256 i; i < n; ++i) {
            address a;
            assembly ("memory-safe") {
                a := calldataload(add(specs.offset, mul(i, SPEC)))
            }
            uint256 h = uint256(keccak256(abi.encode(a))) & mask;
            while (true) {
                address seen = table[h];
                if (seen == address(0)) {
                    table[h] = a;
                    break;
                }
                if (seen == a) return a;
                h = (h + 1) & mask;
            }
        }
        return address(0);
    }
}
