"""Rate coefficients computed by the package (issue 3, in progress): ``ComputedRates``.

What is computed, per momentum mode k = yT (Gauss–Legendre nodes in y ∈ (0, 30)) and averaged with the weights of
kinetics.md §2.4 (ρ-weights y² f_F(E/T) for γ̄_N±, h̄±; μ-weights y² f_F(1 − f_F) for γ̄_ν±):

* **Symmetric phase**, the Higgs-doublet-mediated rates, with the literature constants of the ULYSSES implementation
  of the Ghiglieri–Laine rates (arXiv:1605.07720, 1703.06085; ULYSSES ``data/ARS_rates`` averaged at M = 1 GeV,
  1 TeV, as quoted in kinetics.md §6.2): γ̄_ν+ = 8.66e-3 T, γ̄_N+ = 1.095e-2 T, γ̄_ν− = 0.0229 M²/T,
  γ̄_N− = 0.0388 M²/T, and the free-theory h̄+ = π²T/(144 ζ(3)) (kinetics.md §6.1). They are faded out as
  (1 − v²/v0²) through the crossover. kinetics.md §6.2 documents that the fermion-number-violating constants of the two
  state-of-the-art implementations differ by 2–2.5×; these are not fitted to the authors' table.
* **Higgs phase**, the indirect contributions through ν–N mixing (kinetics.md §6.4, "Mode B"):
      h_s(k) = [v²/(2E)] ε_s D_s/(D_s² + Γ_ν²/4),   γ_s(k) = [v²/(2E)] ε_s Γ_ν/(D_s² + Γ_ν²/4),
      ε± = E ± k,   D_s = (1 + a_ν) ε_s + b_ν T,
  with a_ν, b_ν from the **one-loop thermal self-energy** of :mod:`lta_jax.self_energy` (W and Z loops, massive
  bosons, g²/2 W coupling). This produces the level crossing (the sign change of h̄−) that the provisional model
  lacks. The self-energy is tabulated once (first use) on a grid in ln T × the y nodes, at z = M/T = 0: the mass
  shell enters the loop only through y0 = √(y² + z²); the approximation is good for M ≪ T (a test bounds it) and is
  why M > T_end/3 triggers a warning.
* Γ_ν = C_F G_F² T⁴ k + inverse decays ν ℓ̄ → W, ν ν̄ → Z (kinetics.md §6.4). **Fitted constant:** C_F = 10 (the
  specification's calibration to the authors' table at 5–10 GeV; physically it depends on the number of relativistic
  species).
* h̄0 = −M⟨1/E_N⟩ (kinetics.md §2.4).

Not yet included (so issue 3 stays open): direct 1↔2 decays of W/Z/h (the ≈0.02 T missing in γ̄_N+ at 30–60 GeV),
vacuum HNL decays below 5 GeV (§8), thermal W/Z masses in the symmetric phase, and the momentum-resolved interface.
Valid range: 5 GeV ≤ T ≤ 10⁵ GeV, 0.1 ≤ M ≤ 30 GeV.
"""

from __future__ import annotations

import functools
import math
import os
import warnings

import interpax
import jax
import jax.numpy as jnp
import numpy as np

from . import constants as c
from .electroweak import higgs_vev
from .rates import RateCoefficients, RateModel

GAMMA_NU_PLUS = 8.66e-3
GAMMA_N_PLUS = 1.095e-2
GAMMA_NU_MINUS = 0.0229
GAMMA_N_MINUS = 0.0388
H_PLUS = math.pi**2 / (144 * c.ZETA3)
#: Fitted: coefficient of the four-fermion part of the active-neutrino width (kinetics.md §6.4).
C_F = 10.0

# Gauss–Legendre nodes in y = k/T on (0, 30), three panels.
_panels = [(0.0, 1.0), (1.0, 6.0), (6.0, 30.0)]
_x, _w = np.polynomial.legendre.leggauss(24)
Y_NODES = np.concatenate([0.5 * (b - a) * _x + 0.5 * (a + b) for a, b in _panels])
Y_WEIGHTS = np.concatenate([0.5 * (b - a) * _w for a, b in _panels])

#: Temperatures [GeV] of the self-energy table: above ~170 GeV v = 0 and the indirect terms vanish.
SELF_ENERGY_T_RANGE = (4.0, 175.0)


def active_neutrino_width(k, t, m_w2, m_z2):
    """Γ_ν(k, T) [GeV]: C_F G_F² T⁴ k (four-fermion scattering) + inverse decays ν ℓ̄ → W and ν ν̄ → Z with a Boltzmann
    boson and a Fermi partner (kinetics.md §6.4); G_F is scaled as m_W²(0)/m_W²(T)."""
    g_f = c.G_FERMI * (c.M_W**2 / m_w2)
    cw2 = (c.M_W / c.M_Z) ** 2
    return (C_F * g_f**2 * t**4 * k
            + c.G_WEAK**2 * m_w2 * t / (16 * math.pi * k**2) * jnp.log1p(jnp.exp(-m_w2 / (4 * k * t)))
            + c.G_WEAK**2 * m_z2 * t / (32 * math.pi * cw2 * k**2) * jnp.log1p(jnp.exp(-m_z2 / (4 * k * t))))


def mode_b_coefficients(t, m, a_nu, b_nu_t, m_w2, m_z2):
    """Higgs-phase indirect coefficients (kinetics.md §6.4) per y node, given the self-energy a_ν and b_ν T [GeV].

    Returns (h+, γ+, h−, γ−) arrays over :data:`Y_NODES` [GeV]."""
    v = higgs_vev(t)
    k = jnp.asarray(Y_NODES) * t
    energy = jnp.sqrt(k**2 + m**2)
    width = active_neutrino_width(k, t, m_w2, m_z2)

    def indirect(eps):
        d = (1 + a_nu) * eps + b_nu_t
        denom = d**2 + width**2 / 4
        pref = v**2 / (2 * energy) * eps
        return pref * d / denom, pref * width / denom

    h_p, g_p = indirect(energy + k)
    h_m, g_m = indirect(energy - k)
    return h_p, g_p, h_m, g_m


def averaged_coefficients(t, m, h_p, g_p, h_m, g_m) -> RateCoefficients:
    """Momentum averages (kinetics.md §2.4) plus the symmetric-phase constants faded by (1 − v²/v0²)."""
    y = jnp.asarray(Y_NODES)
    w = jnp.asarray(Y_WEIGHTS)
    energy = jnp.sqrt((y * t) ** 2 + m**2)
    f_n = 1 / (jnp.exp(energy / t) + 1)
    f_nu = 1 / (jnp.exp(y) + 1)
    w_rho = w * y**2 * f_n
    w_mu = w * y**2 * f_nu * (1 - f_nu)
    fade = 1 - (higgs_vev(t) / c.V0) ** 2

    def avg(q, weight):
        return jnp.sum(weight * q) / jnp.sum(weight)

    return RateCoefficients(
        gamma_nu_plus=GAMMA_NU_PLUS * t * fade + avg(g_p, w_mu),
        gamma_nu_minus=GAMMA_NU_MINUS * m**2 / t * fade + avg(g_m, w_mu),
        gamma_N_plus=GAMMA_N_PLUS * t * fade + avg(g_p, w_rho),
        gamma_N_minus=GAMMA_N_MINUS * m**2 / t * fade + avg(g_m, w_rho),
        h_plus=H_PLUS * t * fade + avg(h_p, w_rho),
        h_minus=avg(h_m, w_rho),
        h_zero=-m * avg(1 / energy, w_rho),
    )


def thermal_boson_masses_squared(t):
    """m_W²(T), m_Z²(T) from v(T) with a floor (gT/2)² that keeps the widths finite as v → 0."""
    v = higgs_vev(t)
    m_w2 = (c.G_WEAK * v) ** 2 / 2 + (c.G_WEAK * t / 2) ** 2
    return m_w2, m_w2 * (c.M_Z / c.M_W) ** 2


@functools.lru_cache(maxsize=None)
def self_energy_table(n_per_efold: int = 12, crossover_step: float = 1.5, n_panels: int = 2000):
    """(ln T nodes, a_ν, b_ν) on :data:`SELF_ENERGY_T_RANGE` × :data:`Y_NODES` at z = 0 (NumPy arrays).

    Nodes: ``n_per_efold`` per e-fold up to 100 GeV, then every ``crossover_step`` GeV through the crossover, where
    m_W(T) changes fast. The loop integrals use ``n_panels`` quadrature panels (≈0.5 % near their log singularities;
    the table interpolates to ≈0.4 % below 100 GeV — tests)."""
    from .self_energy import neutrino_self_energy

    lo, hi = (math.log(t) for t in SELF_ENERGY_T_RANGE)
    coarse = np.linspace(lo, math.log(100.0), int((math.log(100.0) - lo) * n_per_efold) + 1)
    fine = np.log(np.arange(100.0 + crossover_step, SELF_ENERGY_T_RANGE[1] + 1e-9, crossover_step))
    ln_t = np.concatenate([coarse, fine])
    y = jnp.asarray(Y_NODES)

    @jax.jit
    def row(lt):
        t = jnp.exp(lt)
        return neutrino_self_energy(y * t, t, 0.0, n_panels)

    a, b = jax.lax.map(row, jnp.asarray(ln_t))
    return ln_t, np.asarray(a), np.asarray(b)


class ComputedRates(RateModel):
    """The package's computed rate model (module docstring). Build with ``ComputedRates.build()`` (tabulates the
    one-loop self-energy once, ~seconds)."""

    a_spline: interpax.Interpolator1D
    b_spline: interpax.Interpolator1D
    t_min: float = 5.0
    t_max: float = 1e5

    @staticmethod
    def build() -> "ComputedRates":
        return _computed_rates()

    def self_energy(self, t):
        """(a_ν, b_ν) on the y nodes at temperature t [GeV] (interpolated; constant above the table)."""
        lt = jnp.clip(jnp.log(t), math.log(SELF_ENERGY_T_RANGE[0]), math.log(SELF_ENERGY_T_RANGE[1]))
        return self.a_spline(lt), self.b_spline(lt)

    def __call__(self, temperature, mass):
        t = jnp.asarray(temperature, dtype=float)
        m = jnp.asarray(mass, dtype=float)
        a_nu, b_nu = self.self_energy(t)
        m_w2, m_z2 = thermal_boson_masses_squared(t)
        h_p, g_p, h_m, g_m = mode_b_coefficients(t, m, a_nu, b_nu * t, m_w2, m_z2)
        return averaged_coefficients(t, m, h_p, g_p, h_m, g_m)

    def check_range(self, t_low, t_high, mass):
        if t_low < self.t_min or t_high > self.t_max:
            raise ValueError(f"the computed rate model is defined for {self.t_min:g}–{self.t_max:g} GeV (vacuum HNL "
                             f"decays below 5 GeV are not implemented yet); requested {t_low:g}–{t_high:g} GeV")
        if not (0.1 <= mass <= 30.0):
            raise ValueError(f"the computed rate model covers 0.1 ≤ M ≤ 30 GeV, got M = {mass:g} GeV")
        if mass > t_low / 3:
            warnings.warn(f"computed rates: M = {mass:g} GeV is not ≪ T_end = {t_low:g} GeV; the neutrino self-energy "
                          "is evaluated at the light cone (z = M/T → 0), which degrades for M ≳ T/3", stacklevel=2)

    @property
    def description(self) -> str:
        return ("computed (in progress): literature symmetric-phase constants + one-loop ν self-energy Mode B; "
                "no direct decays, no vacuum decays (lta_jax.computed_rates)")


@functools.lru_cache(maxsize=None)
def _computed_rates() -> ComputedRates:
    ln_t, a, b = self_energy_table()
    return ComputedRates(interpax.Interpolator1D(ln_t, a, method="cubic2"),
                         interpax.Interpolator1D(ln_t, b, method="cubic2"))


COLUMN_NAMES = ("gamma_nu_plus", "gamma_nu_minus", "gamma_N_plus", "gamma_N_minus", "h_plus", "h_minus", "h_zero")


def rate_table(rates: RateModel, mass: float, t_high: float = 1e5, t_low: float = 5.0, rows: int = 1501) -> np.ndarray:
    """Any rate model as a 9-column table in the authors' format (reference/README.md): T descending, uniform in ln T,
    columns T, γ̄_ν+, γ̄_ν−, γ̄_N+, γ̄_N−, h̄+, h̄−, h̄0, S_eq. The negligible S_eq column (≈ −1e-21 in the authors'
    files) is written as 0: the package computes S_eq from the thermodynamics when the source term is switched on."""
    temperatures = np.exp(np.linspace(math.log(t_high), math.log(t_low), rows))
    fn = jax.jit(jax.vmap(lambda t: jnp.stack(list(rates(t, mass)))))
    values = np.asarray(fn(jnp.asarray(temperatures)))
    return np.column_stack([temperatures, values, np.zeros(rows)])


def write_rate_table(path, table: np.ndarray) -> None:
    """Write :func:`rate_table` output in the Fortran-like E format of the reference tables."""
    lines = ["".join(f"{v:19.8E}" for v in row) for row in table]
    tmp = f"{path}.tmp"
    with open(tmp, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    os.replace(tmp, path)


__all__ = ["ComputedRates", "thermal_boson_masses_squared", "rate_table", "write_rate_table", "COLUMN_NAMES", "mode_b_coefficients", "averaged_coefficients", "active_neutrino_width",
           "self_energy_table", "C_F", "Y_NODES", "Y_WEIGHTS"]
