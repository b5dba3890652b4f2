// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title MarketRule: payments of the model-sharing market (mechanism id 3) from attested inputs
/// @notice One FL round of the market (shared/spec/mechanisms.md section 3): importer i pays each
///  exporter j it imports r_ij = [G_i(S_i) - G_i(S_i \ {j})] - lambda_pay d_ij N_j / N_i, where
///  G_i(S) = sqrt(K_i / N_i) - sqrt(K_i / (N_i + sum_{j in S} N_j)). The library computes every r_ij
///  in wei, each org's net payoff (exporter +r, importer -r: the payoffs sum to exactly 0) and each
///  org's bond (its proven worst-case liability over all the session's rounds).
///
///  Inputs (all integers), fixed at session open in `Table` (ABI tuple
///  `(uint256[] n, uint256[] kWad, uint256 lambdaWad, uint256 unitWei)`, rows in org order):
///  - `n[i]`       N_i, samples; 1 <= N_i <= MAX_N;
///  - `kWad[i]`    K_i * 1e18 (WAD); 0 <= kWad <= MAX_K_WAD; 0 is a pure seller;
///  - `lambdaWad`  lambda_pay * 1e18 <= MAX_LAMBDA_WAD;
///  - `unitWei`    wei per 1.0 unit of utility, 1 <= unitWei <= MAX_UNIT_WEI;
///  plus, for `checkParams` only, `cWad[i]` = c_i * 1e18 (payments do not depend on c: it enters
///  the greedy threshold and the utility, which are off-chain) and `rounds` (the number of FL
///  rounds the bonds must cover, 1 <= rounds <= MAX_ROUNDS).
///
///  Per FL round, the attested graph in compressed rows, `Graph` (ABI tuple
///  `(uint256[] rowStart, uint256[] exporters, uint256[] distWad)`): the edges of importer i are
///  the positions e in [rowStart[i], rowStart[i + 1]); `exporters[e]` is the exporter's org index
///  (in acceptance order; the order changes no payment) and `distWad[e]` = d_{i, exporters[e]} *
///  1e18 in [0, 2e18] (d = 1 - cos). rowStart has m + 1 entries, rowStart[0] = 0, non-decreasing,
///  rowStart[m] = exporters.length = distWad.length; an exporter index is < m, differs from i and
///  appears once per row. Example, m = 3, org 0 imports 2 then 1, org 2 imports 0:
///  rowStart = [0, 2, 2, 3], exporters = [2, 1, 0], distWad = [d02, d01, d20].
///
///  Entry points: `checkParams` (at open, reverts on bad input), `bonds`/`bond` (at open: the
///  deposit each org owes), `settleRound` (per round: `rWei` per edge position and the net
///  `payoff` per org, sum exactly 0), `edgePayments`, `netPayoffs`, `checkGraph`, `isqrt`,
///  `sqrtInvWad`. All are `internal pure`: they inline into the calling contract.
///
///  Arithmetic and rounding (deterministic, every division rounds toward zero = down, all values
///  are non-negative until the payoff):
///      h_i(t)   = isqrt(kWad_i * 1e18 / t)             = floor(1e18 sqrt(K_i / t)) exactly
///      t_i      = N_i + sum_{j in S_i} N_j
///      margWad  = h_i(t_i - N_j) - h_i(t_i)             (>= 0: h is non-increasing)
///      penWad   = lambdaWad * distWad * N_j / (1e18 * N_i)
///      rWad     = max(0, margWad - penWad)
///      rWei     = rWad * unitWei / 1e18
///  Against the exact real value, |rWei - r_ij * unitWei| < 2 * unitWei / 1e18 + 1 (before the
///  clamp; the clamp only moves a negative value to 0), i.e. under 2 wei for unitWei <= 5e17.
///
///  Decisions:
///  - The contract computes payments from the graph AS ATTESTED: it does not re-run the greedy
///    threshold rule (that needs c and a bisection; the coordinator's attestation vouches for the
///    graph). Any row of valid indices is accepted and paid by the formula.
///  - A negative r_ij (the distance term exceeds the marginal gain, impossible for the greedy row
///    of truthful reports, where r_ij > c_j >= 0) is paid as 0: money never flows from an exporter
///    to an importer. Hence an org's liability comes only from its own imports, which the bond
///    covers whatever graph and distances are attested.
/// @dev Checked arithmetic throughout (input limits keep every product far below 2^256: kWad * 1e18
///  < 2^188, lambdaWad * distWad * N_j < 2^221, rWad * unitWei < 2^190); only the square root's
///  inner loop is unchecked, where no overflow is possible. Gas, measured through the test harness
///  (benchmarks/market_solver.py, calldata and ABI decoding included): about 5.2k per edge, plus
///  about 1.8k per org; bonds about 5k per org.
library MarketRule {
    uint256 internal constant WAD = 1e18;
    /// Largest model distance: 1 - cos is at most 2.
    uint256 internal constant MAX_DISTANCE_WAD = 2e18;
    uint256 internal constant MAX_ORGS = 511;
    uint256 internal constant MAX_N = type(uint64).max;
    uint256 internal constant MAX_K_WAD = type(uint128).max;
    uint256 internal constant MAX_C_WAD = type(uint128).max;
    uint256 internal constant MAX_LAMBDA_WAD = type(uint96).max;
    uint256 internal constant MAX_UNIT_WEI = type(uint96).max;
    uint256 internal constant MAX_ROUNDS = type(uint32).max;

    /// @notice The session's public inputs (fixed at open): N_i, K_i in WAD, lambda_pay in WAD,
    ///  wei per utility unit. Rows are in org order.
    struct Table {
        uint256[] n;
        uint256[] kWad;
        uint256 lambdaWad;
        uint256 unitWei;
    }

    /// @notice One round's attested graph in compressed rows (see the library notice).
    struct Graph {
        uint256[] rowStart;
        uint256[] exporters;
        uint256[] distWad;
    }

    error MarketOrgCount(uint256 m);
    error MarketLengthMismatch(uint256 expected, uint256 got);
    error MarketSizeOutOfRange(uint256 org, uint256 n);
    error MarketEagernessOutOfRange(uint256 org, uint256 kWad);
    error MarketCostOutOfRange(uint256 org, uint256 cWad);
    error MarketLambdaOutOfRange(uint256 lambdaWad);
    error MarketUnitOutOfRange(uint256 unitWei);
    error MarketRoundsOutOfRange(uint256 rounds);
    /// rowStart[index] breaks the shape rules (first 0, non-decreasing, last = edge count).
    error MarketRowStart(uint256 index);
    /// Exporter index >= m or equal to the importer.
    error MarketBadExporter(uint256 importer, uint256 exporter);
    error MarketDuplicateEdge(uint256 importer, uint256 exporter);
    error MarketDistanceOutOfRange(uint256 importer, uint256 exporter, uint256 distWad);

    /// @notice Validates the parameters fixed when the session opens (revert names the first bad
    ///  field). The core calls this before `bonds`; the same limits make every later product safe.
    function checkParams(
        uint256[] memory n,
        uint256[] memory kWad,
        uint256[] memory cWad,
        uint256 lambdaWad,
        uint256 unitWei,
        uint256 rounds
    ) internal pure {
        uint256 m = n.length;
        if (m == 0 || m > MAX_ORGS) revert MarketOrgCount(m);
        if (kWad.length != m) revert MarketLengthMismatch(m, kWad.length);
        if (cWad.length != m) revert MarketLengthMismatch(m, cWad.length);
        for (uint256 i; i < m; ++i) {
            if (n[i] == 0 || n[i] > MAX_N) revert MarketSizeOutOfRange(i, n[i]);
            if (kWad[i] > MAX_K_WAD) revert MarketEagernessOutOfRange(i, kWad[i]);
            if (cWad[i] > MAX_C_WAD) revert MarketCostOutOfRange(i, cWad[i]);
        }
        if (lambdaWad > MAX_LAMBDA_WAD) revert MarketLambdaOutOfRange(lambdaWad);
        if (unitWei == 0 || unitWei > MAX_UNIT_WEI) revert MarketUnitOutOfRange(unitWei);
        if (rounds == 0 || rounds > MAX_ROUNDS) revert MarketRoundsOutOfRange(rounds);
    }

    /// @notice floor(sqrt(x)), exact for every uint256 (Newton's iteration from above).
    /// @dev The start 2^(floor(log2 x)/2 + 1) exceeds sqrt(x); from any z >= floor(sqrt x) the
    ///  integer step y = (z + x/z) / 2 stays >= floor(sqrt x) and falls strictly while z is above
    ///  it, so the first non-decreasing step stops at floor(sqrt x). z + x/z < 2^129: no overflow.
    function isqrt(uint256 x) internal pure returns (uint256 z) {
        if (x == 0) return 0;
        uint256 e = 0;
        uint256 t = x;
        if (t >= 1 << 128) { t >>= 128; e += 128; }
        if (t >= 1 << 64) { t >>= 64; e += 64; }
        if (t >= 1 << 32) { t >>= 32; e += 32; }
        if (t >= 1 << 16) { t >>= 16; e += 16; }
        if (t >= 1 << 8) { t >>= 8; e += 8; }
        if (t >= 1 << 4) { t >>= 4; e += 4; }
        if (t >= 1 << 2) { t >>= 2; e += 2; }
        if (t >= 1 << 1) { e += 1; }
        z = 1 << ((e >> 1) + 1);
        unchecked {
            while (true) {
                uint256 y = (z + x / z) >> 1;
                if (y >= z) break;
                z = y;
            }
        }
    }

    /// @notice h(t) = floor(1e18 * sqrt(K / t)) = isqrt(floor(kWad * 1e18 / t)) for t >= 1.
    /// @dev floor(sqrt(floor(y))) = floor(sqrt(y)) for real y >= 0, so the division adds no error.
    function sqrtInvWad(uint256 kWad, uint256 t) internal pure returns (uint256) {
        return isqrt(kWad * WAD / t);
    }

    /// @notice Checks the compressed graph: shape of rowStart, lengths, exporter indices (< m, not
    ///  the importer, once per row) and distances (<= 2e18). Reverts at the first violation.
    function checkGraph(
        uint256 m,
        uint256[] memory rowStart,
        uint256[] memory exporters,
        uint256[] memory distWad
    ) internal pure {
        uint256 edges = exporters.length;
        if (rowStart.length != m + 1) revert MarketLengthMismatch(m + 1, rowStart.length);
        if (distWad.length != edges) revert MarketLengthMismatch(edges, distWad.length);
        if (rowStart[0] != 0) revert MarketRowStart(0);
        if (rowStart[m] != edges) revert MarketRowStart(m);
        // stamp[j] == i + 1 marks j as already imported by row i (one pass, no clearing)
        uint256[] memory stamp = new uint256[](m);
        for (uint256 i; i < m; ++i) {
            uint256 end = rowStart[i + 1];
            if (end < rowStart[i]) revert MarketRowStart(i + 1);
            for (uint256 e = rowStart[i]; e < end; ++e) {
                uint256 j = exporters[e];
                if (j >= m || j == i) revert MarketBadExporter(i, j);
                if (stamp[j] == i + 1) revert MarketDuplicateEdge(i, j);
                stamp[j] = i + 1;
                if (distWad[e] > MAX_DISTANCE_WAD) revert MarketDistanceOutOfRange(i, j, distWad[e]);
            }
        }
    }

    /// @notice Payment of every edge in wei (same positions as `g.exporters`), from attested
    ///  inputs; see the library notice for the formula and rounding. Validates the graph.
    function edgePayments(Table memory t, Graph memory g) internal pure returns (uint256[] memory rWei) {
        uint256 m = t.n.length;
        if (t.kWad.length != m) revert MarketLengthMismatch(m, t.kWad.length);
        checkGraph(m, g.rowStart, g.exporters, g.distWad);
        rWei = new uint256[](g.exporters.length);
        for (uint256 i; i < m; ++i) {
            _rowPayments(t, g, i, rWei);
        }
    }

    /// Row i of edgePayments: the pool t_i = N_i + sum of the row's N_j, then each edge.
    function _rowPayments(Table memory t, Graph memory g, uint256 i, uint256[] memory rWei) private pure {
        uint256 start = g.rowStart[i];
        uint256 end = g.rowStart[i + 1];
        if (start == end) return;
        uint256 total = t.n[i];
        for (uint256 e = start; e < end; ++e) {
            total += t.n[g.exporters[e]];
        }
        uint256 hTotal = sqrtInvWad(t.kWad[i], total);
        for (uint256 e = start; e < end; ++e) {
            uint256 nj = t.n[g.exporters[e]];
            uint256 marg = sqrtInvWad(t.kWad[i], total - nj) - hTotal;
            uint256 pen = t.lambdaWad * g.distWad[e] * nj / (WAD * t.n[i]);
            rWei[e] = marg > pen ? (marg - pen) * t.unitWei / WAD : 0;
        }
    }

    /// @notice Net payoff per org in wei: every edge e of importer i credits g.exporters[e] and
    ///  debits i by the same rWei[e], once, so the payoffs sum to exactly 0.
    /// @dev g must have passed `checkGraph` (edgePayments does it).
    function netPayoffs(uint256 m, Graph memory g, uint256[] memory rWei)
        internal
        pure
        returns (int256[] memory payoff)
    {
        payoff = new int256[](m);
        for (uint256 i; i < m; ++i) {
            for (uint256 e = g.rowStart[i]; e < g.rowStart[i + 1]; ++e) {
                int256 r = int256(rWei[e]); // rWei < 2^190
                payoff[g.exporters[e]] += r;
                payoff[i] -= r;
            }
        }
    }

    /// @notice Edge payments and net payoffs of one round (edgePayments then netPayoffs).
    function settleRound(Table memory t, Graph memory g)
        internal
        pure
        returns (uint256[] memory rWei, int256[] memory payoff)
    {
        rWei = edgePayments(t, g);
        payoff = netPayoffs(t.n.length, g, rWei);
    }

    /// @notice Bond of org i: rounds * floor(unitWei * B_i / 1e18), where
    ///  B_i = h_i(N_i) - h_i(N_all) + (m - 1) and N_all = sum of all N. The payoff of i over the
    ///  session is >= -bond(i) for EVERY attested graph and distances, so deposit >= bond keeps
    ///  deposit + payoff >= 0. Depends only on n, kWad, unitWei, rounds (fixed at open).
    /// @dev Proof (per round). Exports pay i >= 0 (clamp), so i loses at most sum_{j in S} rWei_ij
    ///  <= floor(unitWei * sum_j margWad_j / 1e18) (floor is superadditive and rWad <= margWad).
    ///  With s(t) = 1e18 sqrt(K_i/t) real, h = floor(s), t = t_i: margWad_j < s(t - N_j) - s(t) + 1.
    ///  s is convex and decreasing, so the last-in marginals sum to at most the total gain,
    ///  sum_j [s(t - N_j) - s(t)] <= s(N_i) - s(t) <= s(N_i) - s(N_all) < h(N_i) + 1 - h(N_all).
    ///  Hence sum_j margWad_j < h(N_i) - h(N_all) + |S| + 1 and, being integers, <= B_i as |S| <= m-1.
    ///  Rounds add. The bound is tight up to 1 WAD unit for m = 2; for larger m it is a cover (the
    ///  real worst case is the largest sum of last-in marginals over subsets S, at most G_i(all)).
    function bond(uint256 i, uint256[] memory n, uint256[] memory kWad, uint256 unitWei, uint256 rounds)
        internal
        pure
        returns (uint256)
    {
        uint256 m = n.length;
        uint256 all = 0;
        for (uint256 j; j < m; ++j) {
            all += n[j];
        }
        return _bond(kWad[i], n[i], all, m, unitWei, rounds);
    }

    /// @notice Every org's `bond`, in org order (one pass for N_all).
    function bonds(uint256[] memory n, uint256[] memory kWad, uint256 unitWei, uint256 rounds)
        internal
        pure
        returns (uint256[] memory out)
    {
        uint256 m = n.length;
        if (kWad.length != m) revert MarketLengthMismatch(m, kWad.length);
        uint256 all = 0;
        for (uint256 j; j < m; ++j) {
            all += n[j];
        }
        out = new uint256[](m);
        for (uint256 i; i < m; ++i) {
            out[i] = _bond(kWad[i], n[i], all, m, unitWei, rounds);
        }
    }

    function _bond(uint256 k, uint256 ni, uint256 all, uint256 m, uint256 unitWei, uint256 rounds)
        private
        pure
        returns (uint256)
    {
        if (k == 0) return 0; // h = 0: a pure seller's imports cost exactly nothing
        uint256 b = sqrtInvWad(k, ni) - sqrtInvWad(k, all) + (m - 1);
        // Floored once per FL round on purpose: each round's payments are floored the same way, and
        // the settlement mirror (settlement.rules.bond) computes exactly this value.
        // slither-disable-next-line divide-before-multiply
        return rounds * (unitWei * b / WAD);
    }
}
