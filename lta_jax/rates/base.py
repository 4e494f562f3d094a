"""Momentum-averaged rate coefficients γ̄_ν±, γ̄_N±, h̄±, h̄0 as functions of (T, M) (docs/physics.md §2.4, §6).

A *rate model* is any :class:`RateModel`: a callable ``rates(T, M) -> RateCoefficients`` (all seven in GeV, no Yukawa
factors) plus ``check_range``. Implementations here:

* :class:`TabulatedRates` — a table in the 9-column format of the authors' Fortran code (``docs/rate-table-format.md``),
  interpolated linearly in ln T ("Mode A", docs/physics.md §6.3), with the mass-scaling rules of §6.3 when M differs from
  the table's mass.
* :class:`RateVariant` — the paper's variants: h̄+ switched off (paper §9, Fig. 19) and a global scale κ of all rates
  (not of H_N; paper Fig. 18).
* :class:`ProvisionalRates` (in :mod:`lta_jax.rates.provisional`) — a literature-constant model for runs without a table.
"""

from __future__ import annotations

import math
import pathlib
import re

from typing import NamedTuple

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from lta_jax.warnings import warn_user


class RateCoefficients(NamedTuple):
    """The seven momentum-averaged coefficient functions at one (T, M), in GeV (docs/physics.md §2.4).

    "+" is fermion-number conserving, "−" fermion-number violating; "ν" coefficients multiply μ terms (weight
    k² f_ν(1−f_ν)), "N" coefficients and h̄± multiply ρ (weight k² f_F(E_N)); h̄0 = −M⟨1/E_N⟩ multiplies ΔM σ1.
    """

    gamma_nu_plus: Float[Array, "..."]
    gamma_nu_minus: Float[Array, "..."]
    gamma_N_plus: Float[Array, "..."]
    gamma_N_minus: Float[Array, "..."]
    h_plus: Float[Array, "..."]
    h_minus: Float[Array, "..."]
    h_zero: Float[Array, "..."]


COLUMN_NAMES = ("gamma_nu_plus", "gamma_nu_minus", "gamma_N_plus", "gamma_N_minus", "h_plus", "h_minus", "h_zero")


class RateModel(eqx.Module):
    """Interface: ``__call__(T, M) -> RateCoefficients`` and ``check_range(t_low, t_high, M)``."""

    def __call__(self, temperature: ArrayLike, mass: ArrayLike) -> RateCoefficients:
        raise NotImplementedError

    def check_range(self, t_low: float, t_high: float, mass: float) -> None:
        """Raise ``ValueError`` before compilation if the model is not valid for these inputs."""

    @property
    def description(self) -> str:
        return type(self).__name__

    @property
    def expensive(self) -> bool:
        """True if an evaluation is costly enough that solvers should tabulate the model once per solve
        (:mod:`lta_jax.rates.interpolated`). Tables (linear in ln T) are not re-tabulated: it would change them."""
        return False


_FORTRAN_EXPONENT = re.compile(r"(?<=[0-9.])([+-]\d{3})\b")


def parse_fortran_table(path: str | pathlib.Path, n_columns: int | None = None) -> np.ndarray:
    """Read a whitespace-separated Fortran table; accepts exponents without the letter (``-7.44015-316``).

    Denormal values (|x| < 1e-300) are set to zero (docs/rate-table-format.md, "Fortran number format").
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"table not found: {path}")
    rows = []
    for lineno, line in enumerate(path.read_text().splitlines(), 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        text = _FORTRAN_EXPONENT.sub(r"E\1", text)
        try:
            values = [float(v) for v in text.split()]
        except ValueError as err:
            raise ValueError(f"malformed table {path}, line {lineno}: {err}") from err
        if n_columns is not None and len(values) != n_columns:
            raise ValueError(f"malformed table {path}, line {lineno}: expected {n_columns} columns, got {len(values)}")
        rows.append(values)
    if not rows:
        raise ValueError(f"malformed table {path}: no data rows")
    data = np.array(rows)
    if not np.all(np.isfinite(data)):
        raise ValueError(f"malformed table {path}: non-finite entries")
    data[np.abs(data) < 1e-300] = 0.0
    return data


def _mass_from_filename(path: pathlib.Path) -> float | None:
    """Mass encoded as ``MN<digits>E<exp>`` in the authors' file names (``MN10E-1`` = 10×10⁻¹ GeV)."""
    match = re.search(r"MN(\d+)E([+-]?\d+)", path.name)
    return float(match.group(1)) * 10.0 ** int(match.group(2)) if match else None


def scale_to_mass(values, mass, table_mass: float) -> RateCoefficients:
    """The seven coefficients of a table made for ``table_mass``, scaled to ``mass`` by the §6.3 rules of
    docs/physics.md: FNC coefficients unchanged, γ̄_ν−, γ̄_N−, h̄− ∝ M², h̄0 ∝ M."""
    ratio = jnp.asarray(mass) / table_mass
    scale = (1.0, ratio**2, 1.0, ratio**2, 1.0, ratio**2, ratio)
    return RateCoefficients(*(v * s for v, s in zip(values, scale)))


def check_table_range(what: str, t_min: float, t_max: float, table_mass: float, t_low, t_high, mass) -> None:
    """Refuse temperatures outside a table; warn when the table is scaled to another mass."""
    if t_low < t_min * (1 - 1e-9) or t_high > t_max * (1 + 1e-9):
        raise ValueError(f"temperatures {t_low:g}–{t_high:g} GeV are outside {what} ({t_min:g}–{t_max:g} GeV)")
    if abs(mass / table_mass - 1) > 1e-6:
        warn_user(f"{what} is for M = {table_mass:g} GeV; scaling it to M = {mass:g} GeV (FNV ∝ M², h0 ∝ M; "
                  "unreliable below ~30 GeV, docs/physics.md)")


class TabulatedRates(RateModel):
    """Rates from a 9-column table (T, γ̄_ν+, γ̄_ν−, γ̄_N+, γ̄_N−, h̄+, h̄−, h̄0, S_eq), linear in ln T (docs/physics.md §6.3).

    For M ≠ ``table_mass`` the §6.3 scaling rules are applied: FNC coefficients unchanged, γ̄_ν−, γ̄_N−, h̄− ∝ M²,
    h̄0 ∝ M. The scaling fails below ~30 GeV (docs/physics.md §6.3); a warning is issued at set-up.
    """

    ln_temperature: Float[Array, "n"]
    columns: Float[Array, "7 n"]
    table_mass: float = eqx.field(static=True)
    t_min: float = eqx.field(static=True)
    t_max: float = eqx.field(static=True)
    label: str = eqx.field(static=True)

    def __call__(self, temperature, mass):
        ln_t = jnp.log(temperature)
        values = [jnp.interp(ln_t, self.ln_temperature, col) for col in self.columns]
        return scale_to_mass(values, mass, self.table_mass)

    def check_range(self, t_low, t_high, mass):
        check_table_range(f"the rate table '{self.label}'", self.t_min, self.t_max, self.table_mass, t_low, t_high,
                          mass)

    @property
    def description(self) -> str:
        return f"table {self.label} (M_table = {self.table_mass:g} GeV)"

    @staticmethod
    def from_file(path: str | pathlib.Path, table_mass: float | None = None) -> "TabulatedRates":
        """Load a table. The table's mass is ``table_mass``, else read from an ``MN..E..`` file name, else inferred
        from the vacuum column h̄0 = −M⟨1/E⟩ ≈ −0.445 M/T at the highest T (relativistic limit of the authors' tables;
        the pure Fermi–Dirac average gives 0.456, docs/physics.md §2.4)."""
        path = pathlib.Path(path)
        data = parse_fortran_table(path, n_columns=9)
        if data.shape[0] < 2:
            raise ValueError(f"malformed rate table {path}: need at least two rows")
        data = data[np.argsort(data[:, 0])]
        t = data[:, 0]
        if np.any(t <= 0) or np.any(np.diff(t) <= 0):
            raise ValueError(f"malformed rate table {path}: temperatures must be positive and distinct")
        if table_mass is None:
            table_mass = _mass_from_filename(path)
        if table_mass is None:
            if data[-1, 7] >= 0:
                raise ValueError(f"cannot infer the HNL mass of rate table {path} (h0 column not negative); "
                                 "pass table_mass")
            table_mass = float(-data[-1, 7] * t[-1] / 0.4447)
        if not (table_mass > 0 and math.isfinite(table_mass)):
            raise ValueError(f"invalid table mass {table_mass!r}")
        return TabulatedRates(
            ln_temperature=jnp.asarray(np.log(t)),
            columns=jnp.asarray(data[:, 1:8].T),
            table_mass=float(table_mass),
            t_min=float(t[0]),
            t_max=float(t[-1]),
            label=path.name,
        )


class RateVariant(RateModel):
    """Paper variants of a base model: ``h_plus=False`` sets h̄+ ≡ 0 (paper §9, Fig. 19; docs/physics.md §6.5);
    ``rate_scale`` = κ multiplies every γ̄ (hence Γ_να, Γ̃_να, Γ_N, Γ̃^α_N) but not H_N (paper Fig. 18);
    ``fermion_number_violation=False`` sets the fermion-number-violating rates γ̄_ν− = γ̄_N− = 0 (paper Fig. 13: the
    rates of the earlier studies that missed them; h̄−, a Hamiltonian term, is kept)."""

    base: RateModel
    rate_scale: Float[Array, ""]
    h_plus: bool = eqx.field(static=True, default=True)
    fermion_number_violation: bool = eqx.field(static=True, default=True)

    def __init__(self, base: RateModel, rate_scale=1.0, h_plus: bool = True, fermion_number_violation: bool = True):
        self.base = base
        self.rate_scale = jnp.asarray(rate_scale, dtype=float)
        self.h_plus = bool(h_plus)
        self.fermion_number_violation = bool(fermion_number_violation)

    def __call__(self, temperature, mass):
        r = self.base(temperature, mass)
        k = self.rate_scale
        fnv = k if self.fermion_number_violation else 0.0 * k
        return RateCoefficients(
            r.gamma_nu_plus * k, r.gamma_nu_minus * fnv, r.gamma_N_plus * k, r.gamma_N_minus * fnv,
            r.h_plus if self.h_plus else jnp.zeros_like(r.h_plus), r.h_minus, r.h_zero,
        )

    @property
    def expensive(self) -> bool:
        return self.base.expensive

    def check_range(self, t_low, t_high, mass):
        scale = float(self.rate_scale)
        if not (scale > 0 and math.isfinite(scale)):
            raise ValueError(f"rate scale κ must be positive and finite, got {scale!r}")
        self.base.check_range(t_low, t_high, mass)

    @property
    def description(self) -> str:
        extra = ([] if self.h_plus else ["h+ off"]) + ([] if self.fermion_number_violation else ["γ̄− = 0"])
        if float(self.rate_scale) != 1.0:
            extra.append(f"κ = {float(self.rate_scale):g}")
        return self.base.description + (f" [{', '.join(extra)}]" if extra else "")
