// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IFedSettle} from "../IFedSettle.sol";
import {Terms} from "./Terms.sol";

/// @title TradeFLRule (mechanism 1): coopetitive resource trading, r_ij = gamma rho_ij (c_i - c_j)
/// @notice score_i = x_i * fScale * WAD + lambdaWad * f_i * xScale, so that
///  c_i = x_i / xScale + lambda f_i / fScale = score_i / scoreUnit with scoreUnit = xScale fScale WAD.
///  Reports: ceil(dMinWad xMax_i / WAD) <= x_i <= xMax_i and 1 <= f_i <= fMax_i; the minimum
///  report (settles a silent depositor) is (xMin_i, 1). Slots need xMax, fMax > 0 and base = 0.
library TradeFLRule {
    uint256 internal constant WAD = 1e18;
    uint256 internal constant MAX_SCALE = 1e9;
    uint256 internal constant SCORE_LIMIT = uint256(type(int256).max);

    function checkConfig(IFedSettle.RoundConfig calldata c) internal pure {
        if (c.xScale == 0 || c.xScale > MAX_SCALE) revert IFedSettle.InvalidParameter("xScale");
        if (c.fScale == 0 || c.fScale > MAX_SCALE) revert IFedSettle.InvalidParameter("fScale");
        if (c.dMinWad == 0 || c.dMinWad > WAD) revert IFedSettle.InvalidParameter("dMinWad");
    }

    /// @notice Checks slot i's fields (field name from `bad`: 1 xMax, 2 fMax, 3 base, 4 lambdaWad
    ///  overflow) and returns its maximum score.
    /// @dev Unchecked arithmetic here and below: the scales are at most 1e9 (checkConfig), so every
    ///  product is bounded as noted, and lambdaWad * fMax * xScale is checked against the limit.
    function checkOrg(Terms memory t, uint64 xMax, uint64 fMax, uint64 base)
        internal
        pure
        returns (uint256 sMax, uint8 bad)
    {
        if (xMax == 0) return (0, 1);
        if (fMax == 0) return (0, 2);
        if (base != 0) return (0, 3);
        unchecked {
            uint256 xPart = uint256(xMax) * t.fScale * WAD; // < 2^64 * 1e9 * 1e18 < 2^154
            uint256 perLambda = uint256(fMax) * t.xScale; // < 2^94, > 0
            if (t.lambdaWad > (SCORE_LIMIT - xPart) / perLambda) return (0, 4);
            return (xPart + t.lambdaWad * perLambda, 0);
        }
    }

    function scoreUnit(Terms memory t) internal pure returns (uint256) {
        unchecked {
            return t.xScale * t.fScale * WAD; // < 2^120
        }
    }

    /// @notice score = cx x + cf f (+ 0 base); cf <= the checked maximum score since fMax >= 1.
    function coefficients(Terms memory t) internal pure returns (uint256 cx, uint256 cf, uint256 cb) {
        unchecked {
            return (t.fScale * WAD, t.lambdaWad * t.xScale, 0);
        }
    }

    function minReport(Terms memory t, uint64 xMax) internal pure returns (uint64 x, uint64 f) {
        unchecked {
            x = uint64((t.dMinWad * xMax + WAD - 1) / WAD); // <= xMax since dMinWad <= WAD
        }
        f = 1;
    }

    /// @notice 0 if (x, f) is admissible for the slot, else 1 (x out of bounds) or 2 (f).
    function checkReport(Terms memory t, uint64 xMax, uint64 fMax, uint64 x, uint64 f)
        internal
        pure
        returns (uint8 bad, uint256 min, uint256 max)
    {
        (uint64 xMin,) = minReport(t, xMax);
        if (x < xMin || x > xMax) return (1, xMin, xMax);
        if (f < 1 || f > fMax) return (2, 1, fMax);
        return (0, 0, 0);
    }
}
