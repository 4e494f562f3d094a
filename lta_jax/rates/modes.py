"""Per-momentum-mode rate coefficients for the momentum-resolved equations (paper §6; docs/physics.md §2.2, §6.4).

A *mode rate model* is a :class:`~lta_jax.rates.base.RateModel` whose seven coefficients are arrays over the momentum
modes y_i = k_i/T of a grid (shape ``(N,)``) instead of momentum averages. Per mode the "ν" (μ-weighted) and "N"
(ρ-weighted) coefficients coincide — the weights only differ after averaging — and h0(k) = −M/E_k. The resolved
equations (:mod:`lta_jax.kinetics.resolved`) apply the momentum weights themselves.

* :class:`ComputedModeRates` — the package's computed model per mode (:meth:`ComputedRates.momentum_resolved`) plus
  a per-mode form of its symmetric-phase constants (below).
* :class:`TabulatedModeRates` — user tables, one 9-column file per mode in the authors' format
  (``docs/rate-table-format.md``), e.g. a directory ``modes_ModH_M1/`` of ``Int_ModH_MN10E-1_kc37E-1.dat`` (k/T = 3.7).
* :class:`UniformModeRates` — any momentum-averaged model copied to every mode (momentum-independent rates: the
  resolved equations then reproduce the averaged ones; a test and a reference point).

Symmetric phase. The computed model's symmetric-phase rates are literature *averages* (γ̄_ν+/T, γ̄_N+/T, …): two
numbers per channel, the μ-weighted and the ρ-weighted one. Per mode, the FNC rate is the power law γ+(y) ∝ T y^p whose
μ- and ρ-weighted averages over the model's own momentum nodes reproduce both FNC numbers (slow modes equilibrate
faster, as for 1↔2 rates ∝ T²/k); the FNV rate is a helicity flip, the same shape times (M/k)², γ−(y) ∝ (M²/T)
y^(p−2), normalised to the μ-weighted γ̄_ν− (its ρ-weighted average then follows from the shape instead of being
fitted); h+ per mode is the free-theory shape T²/(8k) normalised to the model's h̄+/T. Against the authors' per-mode
tables at 1 TeV this gives γ+ within 0.7–1.1 and γ− within 0.85–1.1 for k/T = 0.3 … 3 (the high modes, with little
weight, fall off faster: γ+ 0.5, γ− 0.08 of the authors' at k/T = 10); the implied ρ/μ ratio of the FNV averages,
1.367, agrees with the constants' 1.357 (tests/test_resolved.py, docs/resolved.md).
"""

from __future__ import annotations

import pathlib
import re

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from lta_jax.model import constants as c
from lta_jax.plasma.electroweak import higgs_vev
from lta_jax.rates.base import (RateCoefficients, RateModel, TabulatedRates, check_table_range,
                               scale_to_mass)
from lta_jax.rates.computed import ComputedRates


class ModeRateModel(RateModel):
    """Interface: ``__call__(T, M)`` returns :class:`RateCoefficients` whose entries have shape ``(N,)``, one value per
    mode of :attr:`y` (k/T)."""

    @property
    def y(self) -> np.ndarray:
        raise NotImplementedError

    #: Quadrature rule for these modes (:func:`lta_jax.kinetics.resolved.grid_from_modes`): "equilibrium" for the
    #: paper's grid (6.2), "uniform" for modes uniform in k/T.
    quadrature: str = eqx.field(static=True, default="equilibrium", kw_only=True)


#: Quadrature rules of a momentum grid: "equilibrium" (the paper's grid (6.2)) and "uniform" (modes uniform in k/T);
#: :func:`lta_jax.kinetics.resolved.grid_from_modes` builds the weights.
QUADRATURE_RULES = ("equilibrium", "uniform")


def _check_quadrature(rule: str) -> str:
    if rule not in QUADRATURE_RULES:
        raise ValueError(f"quadrature rule must be one of {QUADRATURE_RULES}, got {rule!r}")
    return rule


def _power_law(y, w_mu, w_rho, ratio: float) -> tuple[float, float]:
    """(A, p) with ⟨A y^p⟩_ρ / ⟨A y^p⟩_μ = ``ratio`` and ⟨A y^p⟩_μ = 1 (bisection in p; the ratio is monotone in p)."""
    def avg(p, w):
        return float(np.sum(w * y**p) / np.sum(w))

    lo, hi = -6.0, 6.0
    f_lo = avg(lo, w_rho) / avg(lo, w_mu) - ratio
    if (avg(hi, w_rho) / avg(hi, w_mu) - ratio > 0) == (f_lo > 0):
        raise ValueError(f"no power law y^p (|p| ≤ 6) has ρ/μ-average ratio {ratio:g}")
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        f_mid = avg(mid, w_rho) / avg(mid, w_mu) - ratio
        if (f_mid > 0) == (f_lo > 0):
            lo, f_lo = mid, f_mid
        else:
            hi = mid
    p = 0.5 * (lo + hi)
    return 1.0 / avg(p, w_mu), p


class ComputedModeRates(ModeRateModel):
    """The computed rate model per mode at k = y_i T (see module docstring for the symmetric-phase part)."""

    computed: ComputedRates
    modes: Float[Array, "N"]
    plus_shape: tuple = eqx.field(static=True)
    minus_shape: tuple = eqx.field(static=True)
    h_plus_norm: float = eqx.field(static=True)

    def __init__(self, computed: ComputedRates, y, quadrature: str = "equilibrium"):
        self.computed = computed
        self.modes = jnp.asarray(np.asarray(y, dtype=float))
        self.quadrature = _check_quadrature(quadrature)
        nodes, weights = computed.nodes
        f = 1 / (np.exp(nodes) + 1)  # massless weights: the constants describe T ≫ M
        w_mu, w_rho = weights * nodes**2 * f * (1 - f), weights * nodes**2 * f
        k = computed.constants
        plus = _power_law(nodes, w_mu, w_rho, k.gamma_N_plus / k.gamma_nu_plus)
        self.plus_shape = (plus[0] * k.gamma_nu_plus, plus[1])
        # FNV = helicity flip: the FNC shape times (M/k)², normalised to the μ-weighted average γ̄_ν− (the ρ-weighted
        # one then follows; it is not fitted, see module docstring).
        p_minus = plus[1] - 2
        mu_avg = float(np.sum(w_mu * nodes**p_minus) / np.sum(w_mu))
        self.minus_shape = (k.gamma_nu_minus / mu_avg, p_minus)
        self.h_plus_norm = k.h_plus / float(np.sum(w_rho / nodes) / np.sum(w_rho))

    @property
    def y(self) -> np.ndarray:
        return np.asarray(self.modes)

    def __call__(self, temperature, mass):
        t = jnp.asarray(temperature, dtype=float)
        m = jnp.asarray(mass, dtype=float)
        y = self.modes
        per_mode = self.computed.momentum_resolved(t, m, y)
        fade = 1 - (higgs_vev(t) / c.V0) ** 2
        (a_p, p_p), (a_m, p_m) = self.plus_shape, self.minus_shape
        gamma_plus = per_mode["gamma_plus"] + fade * t * a_p * y**p_p
        gamma_minus = per_mode["gamma_minus"] + fade * m**2 / t * a_m * y**p_m
        h_plus = per_mode["h_plus"] + fade * t * self.h_plus_norm / y
        return RateCoefficients(gamma_plus, gamma_minus, gamma_plus, gamma_minus, h_plus, per_mode["h_minus"],
                                per_mode["h_zero"])

    def check_range(self, t_low, t_high, mass):
        self.computed.check_range(t_low, t_high, mass)

    @property
    def expensive(self) -> bool:
        return True

    @property
    def description(self) -> str:
        return f"{self.computed.description}, per mode ({len(self.y)} modes)"


class UniformModeRates(ModeRateModel):
    """A momentum-averaged model copied to every mode of ``y`` (momentum-independent rates)."""

    averaged: RateModel
    modes: Float[Array, "N"]

    def __init__(self, averaged: RateModel, y, quadrature: str = "equilibrium"):
        self.averaged = averaged
        self.modes = jnp.asarray(np.asarray(y, dtype=float))
        self.quadrature = _check_quadrature(quadrature)

    @property
    def y(self) -> np.ndarray:
        return np.asarray(self.modes)

    def __call__(self, temperature, mass):
        ones = jnp.ones_like(self.modes)
        return RateCoefficients(*(v * ones for v in self.averaged(temperature, mass)))

    def check_range(self, t_low, t_high, mass):
        self.averaged.check_range(t_low, t_high, mass)

    @property
    def expensive(self) -> bool:
        return self.averaged.expensive

    @property
    def description(self) -> str:
        return f"{self.averaged.description}, the same at every mode (momentum-independent)"


class TabulatedModeRates(ModeRateModel):
    """Per-mode tables (one 9-column table per mode, linear in ln T; the §6.3 mass scaling as in
    :class:`TabulatedRates`). Build with :meth:`from_directory` or :meth:`from_tables`."""

    ln_temperature: Float[Array, "n"]
    columns: Float[Array, "7 N n"]
    modes: Float[Array, "N"]
    table_mass: float = eqx.field(static=True)
    t_min: float = eqx.field(static=True)
    t_max: float = eqx.field(static=True)
    label: str = eqx.field(static=True)

    @property
    def y(self) -> np.ndarray:
        return np.asarray(self.modes)

    @staticmethod
    def from_tables(tables, y, label: str = "per-mode tables") -> "TabulatedModeRates":
        """Stack :class:`TabulatedRates` (one per mode, same T grid and mass) for the modes ``y`` (k/T)."""
        tables = list(tables)
        y = np.asarray(y, dtype=float)
        if len(tables) != len(y) or len(y) < 2:
            raise ValueError(f"need one table per mode and at least two modes, got {len(tables)} tables, {len(y)} modes")
        if np.any(np.diff(y) <= 0) or y[0] <= 0:
            raise ValueError("mode momenta k/T must be positive and increasing")
        grid = np.asarray(tables[0].ln_temperature)
        for t in tables[1:]:
            if t.ln_temperature.shape != grid.shape or not np.allclose(np.asarray(t.ln_temperature), grid, rtol=0,
                                                                        atol=1e-9):
                raise ValueError(f"per-mode table {t.label} has a different temperature grid than {tables[0].label}")
            if abs(t.table_mass / tables[0].table_mass - 1) > 1e-9:
                raise ValueError(f"per-mode table {t.label} is for another HNL mass")
        columns = np.stack([np.asarray(t.columns) for t in tables], axis=1)
        uniform = np.allclose(np.diff(y), y[1] - y[0], rtol=1e-6)
        return TabulatedModeRates(jnp.asarray(grid), jnp.asarray(columns), jnp.asarray(y), tables[0].table_mass,
                                  tables[0].t_min, tables[0].t_max, label,
                                  quadrature="uniform" if uniform else "equilibrium")

    @staticmethod
    def from_directory(path, table_mass: float | None = None) -> "TabulatedModeRates":
        """Load every ``*_kc<digits>E<exp>.dat`` file of a directory (k/T = digits × 10^exp). A file whose ν and N
        columns differ is a momentum *average*, not a mode (the authors' ``kc1E-1`` and ``kc2E-1`` are copies of the
        averaged table): it is skipped with a warning."""
        from lta_jax.warnings import warn_user

        path = pathlib.Path(path)
        if not path.is_dir():
            raise FileNotFoundError(f"per-mode table directory not found: {path}")
        found = []
        for f in path.iterdir():
            match = re.search(r"_kc(\d+)E([+-]?\d+)\.dat$", f.name)
            if match:
                found.append((int(match.group(1)) * 10.0 ** int(match.group(2)), f))
        if not found:
            raise ValueError(f"no per-mode tables (*_kc<n>E<exp>.dat) in {path}")
        found.sort()
        tables, y, skipped = [], [], []
        for k, f in found:
            table = TabulatedRates.from_file(f, table_mass=table_mass)
            cols = np.asarray(table.columns)
            if not (np.allclose(cols[0], cols[2], rtol=1e-6, atol=0) and np.allclose(cols[1], cols[3], rtol=1e-6,
                                                                                      atol=0)):
                skipped.append(f.name)
                continue
            tables.append(table)
            y.append(k)
        if skipped:
            warn_user(f"skipped {len(skipped)} file(s) whose ν and N columns differ (momentum averages, not modes): "
                      f"{', '.join(skipped)}")
        return TabulatedModeRates.from_tables(tables, y, label=f"{path.name} ({len(y)} modes)")

    def __call__(self, temperature, mass):
        ln_t = jnp.log(temperature)
        interp = jax.vmap(jax.vmap(lambda col: jnp.interp(ln_t, self.ln_temperature, col)))
        return scale_to_mass(interp(self.columns), mass, self.table_mass)

    def check_range(self, t_low, t_high, mass):
        check_table_range(f"the per-mode tables '{self.label}'", self.t_min, self.t_max, self.table_mass, t_low,
                          t_high, mass)

    @property
    def description(self) -> str:
        return f"per-mode tables {self.label} (M_table = {self.table_mass:g} GeV)"


def mode_model_of(rates: RateModel) -> ModeRateModel | None:
    """The per-mode model inside ``rates`` (itself, or the base of a variant or table), else None."""
    while rates is not None:
        if isinstance(rates, ModeRateModel):
            return rates
        rates = getattr(rates, "base", None)
    return None


__all__ = ["ModeRateModel", "ComputedModeRates", "UniformModeRates", "TabulatedModeRates", "mode_model_of"]
