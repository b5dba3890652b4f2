// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IFedSettle} from "../IFedSettle.sol";
import {OrgAccount} from "./OrgAccount.sol";

/// @title ReentrantAttacker (test only): re-enters payoffTransfer from its receive()
/// @notice mode 0: plain account. mode 1: re-enter and let the revert bubble up (the whole
///  withdrawal then fails with TransferFailed). mode 2: re-enter inside try/catch, record the revert
///  data in `lastRevert` and keep the ether of the outer call.
contract ReentrantAttacker is OrgAccount {
    uint8 public mode;
    uint256 public attackRound;
    uint256 public attackIndex;
    uint256 public reentryAttempts;
    uint256 public reentrySuccesses;
    bytes public lastRevert;

    constructor(IFedSettle settle_) OrgAccount(settle_) {}

    function setMode(uint8 mode_) external {
        mode = mode_;
    }

    function withdraw(uint256 roundId, uint256 index) external override {
        attackRound = roundId;
        attackIndex = index;
        settle.payoffTransfer(roundId, index);
    }

    receive() external payable override {
        _record();
        if (mode == 0) return;
        reentryAttempts += 1;
        if (mode == 1) {
            settle.payoffTransfer(attackRound, attackIndex);
            reentrySuccesses += 1;
        } else {
            try settle.payoffTransfer(attackRound, attackIndex) {
                reentrySuccesses += 1;
            } catch (bytes memory reason) {
                lastRevert = reason;
            }
        }
    }
}
