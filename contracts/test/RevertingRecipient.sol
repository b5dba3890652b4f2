// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IFedSettle} from "../IFedSettle.sol";
import {OrgAccount} from "./OrgAccount.sol";

/// @title RevertingRecipient (test only): an account whose receive() reverts
/// @notice Refuses every payment until `setAccepting(true)`, so tests can check that a failed
///  withdrawal blocks no one else and can be retried.
contract RevertingRecipient is OrgAccount {
    bool public accepting;

    error Refused(uint256 amount);

    constructor(IFedSettle settle_) OrgAccount(settle_) {}

    function setAccepting(bool accepting_) external {
        accepting = accepting_;
    }

    receive() external payable override {
        if (!accepting) revert Refused(msg.value);
        _record();
    }
}
