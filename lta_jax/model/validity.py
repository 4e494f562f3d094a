"""Where the model and its default rate model are valid, as plain-Python checks (no JAX, no NumPy).

The command line runs these before it imports JAX, so bad input exits within about a second instead of after the
seconds-long JAX import and rate-model set-up; the solvers call the same functions on every single solve. Each check
raises ``ValueError`` with a message that says what was wrong and what is allowed.
"""

from __future__ import annotations

import math

from lta_jax.warnings import warn_user

#: Light-neutrino mass orderings: normal and inverted.
HIERARCHIES = ("NH", "IH")

#: Validity range of the computed rate model (lta_jax.rates.computed): temperatures [GeV] (below 1 GeV quarks are
#: confined and the plasma is no longer the one the self-energy assumes) and HNL masses [GeV] (the paper's range).
COMPUTED_T_RANGE = (1.0, 1e5)
COMPUTED_M_RANGE = (0.1, 30.0)

#: M0 = M_Planck / 1.66 √g* ≈ 7.1e17 GeV of T_osc = (M ΔM M0 / 3)^{1/3} (docs/physics.md §2.5).
OSCILLATION_M0 = 7.1e17


def parse_angle(value: str | float) -> float:
    """Parse an angle in radians; accepts a plain number or a multiple of π such as ``"1.625pi"`` or ``"pi/2"``."""
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip().lower().replace("π", "pi").replace(" ", "")
    if "pi" not in text:
        try:
            return float(text)
        except ValueError as err:
            raise ValueError(f"cannot parse angle {value!r}: expected a number or a multiple of pi") from err
    head, _, tail = text.partition("pi")
    head = head.rstrip("*")
    if head in ("", "+"):
        factor = 1.0
    elif head == "-":
        factor = -1.0
    else:
        try:
            factor = float(head)
        except ValueError as err:
            raise ValueError(f"cannot parse angle {value!r}") from err
    if tail:
        if not tail.startswith("/"):
            raise ValueError(f"cannot parse angle {value!r}")
        try:
            factor /= float(tail[1:])
        except ValueError as err:
            raise ValueError(f"cannot parse angle {value!r}") from err
    return factor * math.pi


def check_hierarchy(hierarchy: str) -> None:
    if hierarchy not in HIERARCHIES:
        raise ValueError(f"unknown hierarchy {hierarchy!r}: expected one of {HIERARCHIES}")


def check_parameter_values(mass: float, delta_mass: float, im_omega: float, re_omega: float, delta: float,
                           eta: float) -> None:
    """Reject non-finite values, M ≤ 0, ΔM ≤ 0 and ΔM ≥ M (the ordering M2 = M − ΔM > 0 needs ΔM < M)."""
    values = dict(mass=mass, delta_mass=delta_mass, im_omega=im_omega, re_omega=re_omega, delta=delta, eta=eta)
    for name, value in values.items():
        if not math.isfinite(value):
            raise ValueError(f"{name} must be finite, got {value!r}")
    if mass <= 0:
        raise ValueError(f"HNL mass M must be positive, got {mass!r} GeV")
    if delta_mass <= 0:
        raise ValueError(f"mass splitting ΔM must be positive, got {delta_mass!r} GeV")
    if delta_mass >= mass:
        raise ValueError(f"ΔM = {delta_mass} GeV must be smaller than M = {mass} GeV")


def start_temperature(mass: float, delta_mass: float) -> float:
    """Default initial temperature T0 = max(10³ GeV, 10 T_osc) with T_osc = (M ΔM M0/3)^{1/3} [GeV]: the HNLs start
    well before their first oscillation (docs/physics.md §2.5)."""
    t_osc = (mass * delta_mass * OSCILLATION_M0 / 3) ** (1 / 3)
    return max(1e3, 10 * t_osc)


def check_temperatures(t_start: float, t_end: float) -> None:
    """Both positive and finite [GeV], and T_end < T_start (the integration runs as the universe cools)."""
    for name, value in (("T_start", t_start), ("T_end", t_end)):
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a positive finite temperature in GeV, got {value!r}")
    if t_end >= t_start:
        raise ValueError(f"T_end = {t_end:g} GeV must be below T_start = {t_start:g} GeV (the universe cools)")


def check_computed_range(t_low: float, t_high: float, mass: float, t_min: float = COMPUTED_T_RANGE[0],
                         t_max: float = COMPUTED_T_RANGE[1]) -> None:
    """Raise ``ValueError`` outside the computed rate model's range, warn where it is unvalidated."""
    if t_low < t_min or t_high > t_max:
        raise ValueError(f"the computed rate model is defined for {t_min:g}–{t_max:g} GeV (below 1 GeV quarks are "
                         f"confined); requested {t_low:g}–{t_high:g} GeV")
    if not (COMPUTED_M_RANGE[0] <= mass <= COMPUTED_M_RANGE[1]):
        raise ValueError(f"the computed rate model covers {COMPUTED_M_RANGE[0]:g} ≤ M ≤ {COMPUTED_M_RANGE[1]:g} GeV, "
                         f"got M = {mass:g} GeV")
    if t_low < 5.0:
        warn_user(f"computed rates below 5 GeV (T_end = {t_low:g} GeV): no reference table to validate against; "
                  "four-fermion width with decoupling species and vacuum HNL decays (docs/physics.md, 'Below 5 GeV': "
                  "O(1) uncertainty)")
    if mass > t_low / 3:
        warn_user(f"computed rates: M = {mass:g} GeV is not ≪ T_end = {t_low:g} GeV; the neutrino self-energy is "
                  "evaluated at the light cone (z = M/T → 0), which degrades for M ≳ T/3")


def check_uncertainty_factor(factor) -> float:
    """F ≥ 1 and finite (F = 1: central rates), as a float; a clear ValueError otherwise (the rate-uncertainty
    factor of :mod:`lta_jax.rates.uncertainty`; here, JAX-free, so that the command line checks it first)."""
    if not (isinstance(factor, (int, float)) and math.isfinite(factor) and factor >= 1):
        raise ValueError(f"the rate uncertainty factor F must be a finite number ≥ 1, got {factor!r}")
    return float(factor)
