// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IFedSettle} from "../IFedSettle.sol";
import {Terms} from "./Terms.sol";

/// @title CogenRule (mechanism 2): strategic synthetic-data generation, t_ij = kappa gamma_ij (s_i - s_j)
/// @notice s_i = D_i + q x_i (D_i the slot's public real-sample count `base`, x_i the synthetic
///  samples reported, q the quality weight = lambdaWad / WAD, kappa = gammaWad):
///  score_i = base_i * xScale * WAD + lambdaWad * x_i, scoreUnit = xScale * WAD.
///  Reports: 0 <= x_i <= xMax_i and f_i = 0; the minimum report (settles a silent depositor) is
///  (0, 0). Config needs dMinWad = 0 and fScale = 1; slots need fMax = 0.
library CogenRule {
    uint256 internal constant WAD = 1e18;
    uint256 internal constant MAX_SCALE = 1e9;
    uint256 internal constant SCORE_LIMIT = uint256(type(int256).max);

    function checkConfig(IFedSettle.RoundConfig calldata c) internal pure {
        if (c.xScale == 0 || c.xScale > MAX_SCALE) revert IFedSettle.InvalidParameter("xScale");
        if (c.fScale != 1) revert IFedSettle.InvalidParameter("fScale");
        if (c.dMinWad != 0) revert IFedSettle.InvalidParameter("dMinWad");
    }

    function checkOrg(Terms memory t, uint64 xMax, uint64 fMax, uint64 base)
        internal
        pure
        returns (uint256 sMax, uint8 bad)
    {
        if (fMax != 0) return (0, 2);
        unchecked {
            uint256 basePart = uint256(base) * t.xScale * WAD; // < 2^154 (xScale <= 1e9)
            if (xMax != 0 && t.lambdaWad > (SCORE_LIMIT - basePart) / xMax) return (0, 4);
            return (basePart + t.lambdaWad * xMax, 0); // checked just above
        }
    }

    /// @notice score = cx x + cb base (f is always 0).
    function coefficients(Terms memory t) internal pure returns (uint256 cx, uint256 cf, uint256 cb) {
        unchecked {
            return (t.lambdaWad, 0, t.xScale * WAD);
        }
    }

    function scoreUnit(Terms memory t) internal pure returns (uint256) {
        unchecked {
            return t.xScale * WAD;
        }
    }

    function checkReport(uint64 xMax, uint64 x, uint64 f) internal pure returns (uint8 bad, uint256 min, uint256 max) {
        if (x > xMax) return (1, 0, xMax);
        if (f != 0) return (2, 0, 0);
        return (0, 0, 0);
    }
}
