// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IFedSettle} from "../IFedSettle.sol";

/// @title OrgAccount (test only): a contract that can be an organization's account
/// @notice Forwards depositSubmit / contributionSubmit / payoffTransfer to the settlement contract
///  as itself, so tests can register a contract as a slot's account. Accepts ether by default;
///  subclasses override `receive` to misbehave.
contract OrgAccount {
    IFedSettle public immutable settle;
    uint256 public received; // total wei received
    uint256 public receiveCount;

    constructor(IFedSettle settle_) {
        settle = settle_;
    }

    function deposit(uint256 roundId, uint256 index) external payable {
        settle.depositSubmit{value: msg.value}(roundId, index, msg.value);
    }

    function report(uint256 roundId, uint256 index, uint64 x, uint64 f) external {
        settle.contributionSubmit(roundId, index, x, f);
    }

    function withdraw(uint256 roundId, uint256 index) external virtual {
        settle.payoffTransfer(roundId, index);
    }

    receive() external payable virtual {
        _record();
    }

    function _record() internal {
        received += msg.value;
        receiveCount += 1;
    }
}
