// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @notice The numbers of a round every rule library reads (copied from storage once per call).
struct Terms {
    uint8 mechanismId;
    uint256 gammaWad;
    uint256 lambdaWad;
    uint256 dMinWad;
    uint256 xScale;
    uint256 fScale;
}
