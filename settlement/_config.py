"""Build a :class:`RoundConfig` from real-valued parameters."""

from __future__ import annotations

from settlement._errors import ConfigError
from settlement._fixedpoint import WAD, Real, to_wad
from settlement._types import MECHANISM_COGEN, MECHANISM_TRADEFL, ZERO_ADDRESS, Address, RoundConfig

MAX_PHASE_SPAN = 30 * 86_400
"""The contract's ``MAX_PHASE_SPAN``: longest deposit phase and longest report phase, seconds."""


def round_config_from_reals(
    *,
    now: int,
    gamma: Real,
    lambda_: Real,
    d_min: Real,
    x_scale: int = 1,
    f_scale: int = 1,
    deposit_window: int = 3600,
    report_window: int = 3600,
    coordinator: Address | str = ZERO_ADDRESS,
    token: Address | str = ZERO_ADDRESS,
    mechanism_id: int = MECHANISM_TRADEFL,
) -> RoundConfig:
    """A round configuration from real parameters and deadlines relative to ``now``.

    Parameters
    ----------
    now : int
        The chain's current time (``SettlementClient.chain_time()``), unix seconds.
    gamma : real
        Incentive intensity in wei (token units) per unit of score difference (cogen: kappa).
        Pass decimal text or an int for exact values; a float is read through its ``repr``.
    lambda_ : real
        TradeFL: score units per unit of compute ``f``; cogen: q, the weight of a synthetic sample.
    d_min : real
        TradeFL: minimum data fraction in (0, 1] (reports need ``x >= ceil(d_min * xMax)``);
        cogen: 0.
    x_scale, f_scale : int
        Fixed-point scales of the reports (``x_real = x / x_scale``), 1 .. 1e9 (cogen: f_scale 1).
    deposit_window, report_window : int
        Seconds each phase lasts (at most :data:`MAX_PHASE_SPAN`); deadlines are cumulative.
    coordinator : address
        If set, this account submits the whole report table; else each org self-reports.
    token : address
        The ERC-20 the round settles in; the zero address settles in ETH.
    mechanism_id : int
        1 (TradeFL) or 2 (cogen).

    Returns
    -------
    RoundConfig
        ``gamma``, ``lambda`` and ``d_min`` as WAD integers, truncated toward zero.

    Raises
    ------
    ConfigError
        Naming the offending parameter.
    """
    gamma_wad = to_wad(gamma, field="gamma")
    lambda_wad = to_wad(lambda_, field="lambda")
    d_min_wad = to_wad(d_min, field="d_min")
    if mechanism_id == MECHANISM_TRADEFL and not 0 < d_min_wad <= WAD:
        raise ConfigError(f"d_min: {d_min!r} must be in (0, 1]")
    if mechanism_id == MECHANISM_COGEN and d_min_wad != 0:
        raise ConfigError(f"d_min: {d_min!r} must be 0 for mechanism 2 (cogen)")
    for name, scale in (("x_scale", x_scale), ("f_scale", f_scale)):
        if isinstance(scale, bool) or not isinstance(scale, int) or not 1 <= scale <= 10**9:
            raise ConfigError(f"{name}: {scale!r} must be an integer in [1, 1e9]")
    for name, window in (("deposit_window", deposit_window), ("report_window", report_window)):
        if isinstance(window, bool) or not isinstance(window, int) or window <= 0:
            raise ConfigError(f"{name}: {window!r} must be a positive number of seconds")
        if window > MAX_PHASE_SPAN:
            raise ConfigError(
                f"{name}: {window} s is longer than the contract's {MAX_PHASE_SPAN} s (30 days)"
            )
    deposit_deadline = now + deposit_window
    return RoundConfig(
        gamma_wad=gamma_wad,
        lambda_wad=lambda_wad,
        d_min_wad=d_min_wad,
        x_scale=x_scale,
        f_scale=f_scale,
        deposit_deadline=deposit_deadline,
        report_deadline=deposit_deadline + report_window,
        coordinator=Address(coordinator),
        token=Address(token),
        mechanism_id=mechanism_id,
    )
