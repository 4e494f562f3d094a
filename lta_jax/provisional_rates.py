"""PROVISIONAL rate model for runs without a rate table (placeholder until the computed-rates issue lands).

It is *not* a validated physics model. It exists so that ``lta-jax solve`` runs on a machine without the authors'
tables, and every output made with it says so. Ingredients:

* Symmetric phase (kinetics.md §6.2, literature constants): γ̄_ν+ = 8.66e-3 T and γ̄_N+ = 1.095e-2 T (ULYSSES averaged
  Ghiglieri–Laine rates at 1 TeV), γ̄_ν− = 0.0229 M²/T and γ̄_N− = 0.0388 M²/T (same source), h̄+ = π² T/(144 ζ(3))
  (free theory), h̄− = 0. These Higgs-doublet-mediated pieces are faded out as (1 − v²/v0²) through the crossover — a
  crude interpolation.
* Higgs phase, "Mode B" of kinetics.md §6.4: indirect contributions through ν–N mixing, per mode
      h_s(k) = [v²/(2E)] ε_s D_s/(D_s² + Γ_ν²/4),   γ_s(k) = [v²/(2E)] ε_s Γ_ν/(D_s² + Γ_ν²/4),
  ε± = E ± k, D_s = ε_s − V_ν, averaged with the §2.4 weights; Γ_ν = C_F G_F² T⁴ k with C_F = 10 (kinetics.md §6.4,
  calibrated there) plus the inverse decays ν ℓ̄ → W, ν ν̄ → Z of §6.4, and the Nötzold–Raffelt potential V_ν = −(7√2π²/45) G_F k T⁴ (2/m_W² + 1/m_Z²) with T-dependent
  m_W, m_Z. The high-temperature (HTL) part of V_ν is omitted, so this model has **no level crossing** (h̄− keeps its
  sign). Direct W/Z/h decays and vacuum decays are not included.
* h̄0 = −M⟨1/E_N⟩ with the Fermi–Dirac average (kinetics.md §2.4).

Valid range claimed: 5 GeV ≤ T ≤ 10⁵ GeV; expect O(1) deviations from the authors' tables below ~40 GeV.
"""

from __future__ import annotations

import math

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
C_F = 10.0

# Gauss–Legendre nodes in y = k/T on [0, 30] (three panels).
_panels = [(0.0, 1.0), (1.0, 6.0), (6.0, 30.0)]
_x, _w = np.polynomial.legendre.leggauss(24)
_Y = np.concatenate([0.5 * (b - a) * _x + 0.5 * (a + b) for a, b in _panels])
_W = np.concatenate([0.5 * (b - a) * _w for a, b in _panels])


class ProvisionalRates(RateModel):
    """See the module docstring. PROVISIONAL: labelled as such in every output."""

    t_min: float = 5.0
    t_max: float = 1e5

    def __call__(self, temperature, mass):
        t = jnp.asarray(temperature)
        m = jnp.asarray(mass)
        v = higgs_vev(t)
        fade = 1 - (v / c.V0) ** 2
        y = jnp.asarray(_Y)
        w = jnp.asarray(_W)
        k = y * t
        energy = jnp.sqrt(k**2 + m**2)
        f_n = 1 / (jnp.exp(energy / t) + 1)
        f_nu = 1 / (jnp.exp(y) + 1)
        w_rho = w * y**2 * f_n
        w_mu = w * y**2 * f_nu * (1 - f_nu)
        # Thermal masses: m_W(T) = g v(T)/√2 (174 normalisation) with a floor g T/2 that keeps V_ν finite as v → 0.
        m_w2 = (c.G_WEAK * v) ** 2 / 2 + (c.G_WEAK * t / 2) ** 2
        m_z2 = m_w2 * (c.M_Z / c.M_W) ** 2
        g_f = c.G_FERMI * (c.M_W**2 / m_w2)
        v_nu = -(7 * math.sqrt(2) * math.pi**2 / 45) * g_f * k * t**4 * (2 / m_w2 + 1 / m_z2)
        # Γ_ν(k): four-fermion scattering + inverse decays ν ℓ̄ → W, ν ν̄ → Z (kinetics.md §6.4, with m_W(T), m_Z(T)).
        cw2 = (c.M_W / c.M_Z) ** 2
        width = (C_F * g_f**2 * t**4 * k
                 + c.G_WEAK**2 * m_w2 * t / (16 * math.pi * k**2) * jnp.log1p(jnp.exp(-m_w2 / (4 * k * t)))
                 + c.G_WEAK**2 * m_z2 * t / (32 * math.pi * cw2 * k**2) * jnp.log1p(jnp.exp(-m_z2 / (4 * k * t))))

        def indirect(eps):
            d = eps - v_nu
            denom = d**2 + width**2 / 4
            pref = v**2 / (2 * energy) * eps
            return pref * d / denom, pref * width / denom

        h_p, g_p = indirect(energy + k)
        h_m, g_m = indirect(energy - k)

        def avg(q, weight):
            return jnp.sum(weight * q) / jnp.sum(weight)

        inv_e = avg(1 / energy, w_rho)
        return RateCoefficients(
            gamma_nu_plus=GAMMA_NU_PLUS * t * fade + avg(g_p, w_mu),
            gamma_nu_minus=GAMMA_NU_MINUS * m**2 / t * fade + avg(g_m, w_mu),
            gamma_N_plus=GAMMA_N_PLUS * t * fade + avg(g_p, w_rho),
            gamma_N_minus=GAMMA_N_MINUS * m**2 / t * fade + avg(g_m, w_rho),
            h_plus=H_PLUS * t * fade + avg(h_p, w_rho),
            h_minus=avg(h_m, w_rho),
            h_zero=-m * inv_e,
        )

    def check_range(self, t_low, t_high, mass):
        if t_low < self.t_min or t_high > self.t_max:
            raise ValueError(f"the provisional rate model is defined for {self.t_min:g}–{self.t_max:g} GeV; "
                             f"requested {t_low:g}–{t_high:g} GeV")

    @property
    def description(self) -> str:
        return "PROVISIONAL literature-constant + Mode-B model (not validated; see lta_jax.provisional_rates)"
