"""The cogen (mechanism 2) part of ``consortium.toml``: ``[terms]`` and the per-silo fields.

With ``[coordinator].mechanism = "cogen"`` the file holds (see :mod:`fl_node.mechanisms.cogen`
for what each number does on chain)::

    [terms]
    a = 2.0                # loss scale in L(X) = a (D + X)^-b + alpha_D Delta / (D + X)
    b = 0.5                # loss exponent
    alpha_D = 0.8          # weight of heterogeneity in the loss
    kappa = 0.01           # redistribution intensity (money per unit of score difference)
    q = 1.0                # quality weight of a synthetic sample in the score s_i = D_i + q x_i
    gamma = [[0.0, 0.1], [0.1, 0.0]]  # competition matrix: symmetric, zero diagonal, in [0, 1],
                                      #   basis-point grid (the chain stores basis points)
    qbar = [0.1, 0.1, ...] # the reference label distribution (one entry per class, sums to 1)
    generator = "gmm"      # the generator kind every silo trains ("gmm" or "cvae")

    [[silos]]              # name, account, endpoint, partition_id, supernode_public_key as for
    s = 449                #   tradefl; s is D_i, the silo's real samples
    delta = 0.62           # its label heterogeneity: L1 distance of its label mix to qbar
    theta = 10.0           # its valuation: money per unit of loss reduction (public)
    x_max = 898            # the most synthetic samples it may generate (whole number)

Every error names the field and the fix (:class:`fl_node.daemon.ConfigFileError`, exit 3).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fl_node.daemon import Table

if TYPE_CHECKING:
    from fl_node.mechanisms.cogen import CogenTerms

__all__ = ["COGEN_SILO_KEYS", "parse_cogen_terms"]

#: the [[silos]] keys of a cogen consortium (beside the common ones)
COGEN_SILO_KEYS = ("delta", "theta", "x_max")

#: |sum(qbar) - 1| allowed
_QBAR_TOL = 1e-6


def _check_gamma(t: Table, n: int) -> tuple[tuple[float, ...], ...]:
    gamma = t.matrix("gamma", f"a symmetric {n}x{n} matrix with zero diagonal, entries in [0, 1]")
    if len(gamma) != n:
        raise t.error(
            "gamma", f"is {len(gamma)}x{len(gamma)} but there are {n} [[silos]]", "match them"
        )
    for i in range(n):
        if gamma[i][i] != 0.0:
            raise t.error("gamma", f"has gamma[{i}][{i}] = {gamma[i][i]}", "set the diagonal to 0")
        for j in range(n):
            v = gamma[i][j]
            if not 0.0 <= v <= 1.0:
                raise t.error("gamma", f"has gamma[{i}][{j}] = {v} outside [0, 1]", "fix it")
            if v != gamma[j][i]:
                raise t.error(
                    "gamma", f"is not symmetric (gamma[{i}][{j}] != gamma[{j}][{i}])", "mirror it"
                )
            if abs(v * 10_000 - round(v * 10_000)) > 1e-6:
                raise t.error(
                    "gamma",
                    f"has gamma[{i}][{j}] = {v}, off the basis-point grid",
                    "round entries to multiples of 0.0001 (the chain stores basis points)",
                )
    return gamma


def _check_qbar(t: Table) -> tuple[float, ...]:
    qbar = t.numbers("qbar", "the reference label distribution, one probability per class")
    negative = [i for i, v in enumerate(qbar) if v < 0.0]
    if negative:
        raise t.error(
            "qbar", f"has qbar[{negative[0]}] = {qbar[negative[0]]} < 0", "use probabilities >= 0"
        )
    if abs(sum(qbar) - 1.0) > _QBAR_TOL:
        raise t.error("qbar", f"sums to {sum(qbar):.9g}, not 1", "normalize it (divide by the sum)")
    return qbar


def parse_cogen_terms(
    terms: Table, silo_tables: list[Table], names: list[str], sizes: list[float]
) -> CogenTerms:
    """Validate a cogen consortium's ``[terms]`` and per-silo fields into :class:`CogenTerms`.

    ``names`` and ``sizes`` (``s`` = D_i) come from the already validated ``[[silos]]``.

    Raises
    ------
    fl_node.daemon.ConfigFileError
        Naming the field (``[terms].gamma``, ``[[silos]][1].delta`` ...) and the fix.
    """
    from fl_node.cogen import GENERATOR_KINDS
    from fl_node.mechanisms.cogen import CogenTerms
    from solver import GameError

    terms.check_keys(("a", "b", "alpha_D", "kappa", "q", "gamma", "qbar", "generator"))
    n = len(silo_tables)
    delta, theta, x_max = [], [], []
    for t in silo_tables:
        delta.append(t.number("delta", "its label heterogeneity, L1 to qbar, in [0, 2]", min=0.0, max=2.0))  # fmt: skip
        theta.append(t.number("theta", "its money per unit of loss reduction, e.g. 10.0", above=0.0))  # fmt: skip
        most = t.number("x_max", "the most synthetic samples it may generate, e.g. 2 * s", above=0.0)  # fmt: skip
        if most != int(most):
            raise t.error("x_max", f"= {most} is not a whole number of samples", "use an integer")
        x_max.append(most)
    result = CogenTerms(
        names=tuple(names),
        D=tuple(sizes),
        delta=tuple(delta),
        theta=tuple(theta),
        x_max=tuple(x_max),
        gamma=_check_gamma(terms, n),
        a=terms.number("a", "the loss scale in L(X) = a (D + X)^-b + ..., e.g. 2.0", above=0.0),
        b=terms.number("b", "the loss exponent, e.g. 0.5", above=0.0),
        alpha_D=terms.number("alpha_D", "the heterogeneity weight in the loss, e.g. 0.8", min=0.0),
        kappa=terms.number("kappa", "the redistribution intensity, e.g. 0.01", min=0.0),
        q=terms.number("q", "the quality weight of a synthetic sample, e.g. 1.0", min=0.0),
        qbar=_check_qbar(terms),
        generator=terms.choice("generator", GENERATOR_KINDS, default="gmm"),
    )
    try:
        result.game()  # every weight w_i > 0, etc.
    except GameError as exc:
        raise terms.error(
            None,
            f"do not form a valid cogen game with the [[silos]]' delta, theta and x_max: {exc}",
            "change the named field (a silo's weight w_i must be > 0: lower the competition "
            "gamma or kappa, or raise its theta)",
        ) from None
    return result
