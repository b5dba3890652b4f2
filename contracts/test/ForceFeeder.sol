// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title ForceFeeder (test only): forces ether into a contract with selfdestruct
/// @notice selfdestruct moves the balance without calling the target (EIP-6780 keeps the transfer),
///  so the target's balance grows without any of its code running.
contract ForceFeeder {
    constructor() payable {}

    function feed(address payable target) external payable {
        selfdestruct(target);
    }
}
