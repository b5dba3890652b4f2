"""Build a :class:`RoundConfig` from real-valued parameters."""

from __future__ import annotations

from settlement._errors import ConfigError
from settlement._fixedpoint import WAD, Real, to_wad
from settlement._types import ZERO_ADDRESS, ZERO_BYTES32, Address, RoundConfig


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
    settle_window: int = 3600,
    coordinator: Address | str = ZERO_ADDRESS,
    params_digest: bytes = ZERO_BYTES32,
    mechanism_id: int = 1,
) -> RoundConfig:
    """A round configuration from real parameters and deadlines relative to ``now``.

    Parameters
    ----------
    now : int
        The chain's current time (``SettlementClient.chain_time()``), unix seconds.
    gamma : real
        Incentive intensity in wei per unit of contribution score ``c = x + lambda f``.
    lambda_ : real
        Magnitude factor: score units per unit of compute ``f``.
    d_min : real
        Minimum data fraction in (0, 1]: reports need ``x >= ceil(d_min * xMax)``.
    x_scale, f_scale : int
        Fixed-point scales of the reports (``x_real = x / x_scale``), 1 .. 1e9.
    deposit_window, report_window, settle_window : int
        Seconds each phase lasts; the deadlines are cumulative from ``now``.
    coordinator : address
        If set, every report needs this key's EIP-712 attestation.
    params_digest : bytes
        32-byte digest of the off-chain parameter file.

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
    if not 0 < d_min_wad <= WAD:
        raise ConfigError(f"d_min: {d_min!r} must be in (0, 1]")
    for name, scale in (("x_scale", x_scale), ("f_scale", f_scale)):
        if isinstance(scale, bool) or not isinstance(scale, int) or not 1 <= scale <= 10**9:
            raise ConfigError(f"{name}: {scale!r} must be an integer in [1, 1e9]")
    for name, window in (
        ("deposit_window", deposit_window),
        ("report_window", report_window),
        ("settle_window", settle_window),
    ):
        if isinstance(window, bool) or not isinstance(window, int) or window <= 0:
            raise ConfigError(f"{name}: {window!r} must be a positive number of seconds")
    deposit_deadline = now + deposit_window
    report_deadline = deposit_deadline + report_window
    return RoundConfig(
        gamma_wad=gamma_wad,
        lambda_wad=lambda_wad,
        d_min_wad=d_min_wad,
        x_scale=x_scale,
        f_scale=f_scale,
        deposit_deadline=deposit_deadline,
        report_deadline=report_deadline,
        settle_deadline=report_deadline + settle_window,
        coordinator=Address(coordinator),
        params_digest=params_digest,
        mechanism_id=mechanism_id,
    )
