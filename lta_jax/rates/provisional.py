"""PROVISIONAL rate model for runs without a rate table (placeholder until the computed-rates issue lands).

It is *not* a validated physics model. It exists so that ``lta-jax solve`` runs on a machine without the authors'
tables, and every output made with it says so. Ingredients:

* Symmetric phase (docs/physics.md §6.2, literature constants): γ̄_ν+ = 8.66e-3 T and γ̄_N+ = 1.095e-2 T (ULYSSES averaged
  Ghiglieri–Laine rates at 1 TeV), γ̄_ν− = 0.0229 M²/T and γ̄_N− = 0.0388 M²/T (same source), h̄+ = π² T/(144 ζ(3))
  (free theory), h̄− = 0. These Higgs-doublet-mediated pieces are faded out as (1 − v²/v0²) through the crossover — a
  crude interpolation.
* Higgs phase, "Mode B" of docs/physics.md §6.4: indirect contributions through ν–N mixing, per mode
      h_s(k) = [v²/(2E)] ε_s D_s/(D_s² + Γ_ν²/4),   γ_s(k) = [v²/(2E)] ε_s Γ_ν/(D_s² + Γ_ν²/4),
  ε± = E ± k, D_s = ε_s − V_ν, averaged with the §2.4 weights; Γ_ν = C_F G_F² T⁴ k with C_F = 10 (docs/physics.md §6.4,
  calibrated there) plus the inverse decays ν ℓ̄ → W, ν ν̄ → Z of §6.4, and the Nötzold–Raffelt potential V_ν = −(7√2π²/45) G_F k T⁴ (2/m_W² + 1/m_Z²) with T-dependent
  m_W, m_Z. The high-temperature (HTL) part of V_ν is omitted, so this model has **no level crossing** (h̄− keeps its
  sign). Direct W/Z/h decays and vacuum decays are not included.
* h̄0 = −M⟨1/E_N⟩ with the Fermi–Dirac average (docs/physics.md §2.4).

Valid range claimed: 5 GeV ≤ T ≤ 10⁵ GeV; expect O(1) deviations from the authors' tables below ~40 GeV.
"""

from __future__ import annotations

import math

import jax.numpy as jnp

from lta_jax.model import constants as c
from lta_jax.rates.computed import (FULL_Y_NODES, FULL_Y_WEIGHTS, active_neutrino_width, averaged_coefficients,
                             mode_b_coefficients, thermal_boson_masses_squared)
from lta_jax.rates.base import RateModel

# The symmetric-phase constants, C_F, the Mode-B formulas and the averaging are shared with the computed
# model (lta_jax.rates.computed); the provisional model differs in its thermal potential (Nötzold–Raffelt only), its width
# (unsaturated, f_F-only inverse decays, one width for both channels) and its averages (all momenta, y ∈ (0, 30)).


class ProvisionalRates(RateModel):
    """See the module docstring. PROVISIONAL: labelled as such in every output."""

    t_min: float = 5.0
    t_max: float = 1e5

    def __call__(self, temperature, mass):
        t = jnp.asarray(temperature)
        m = jnp.asarray(mass)
        k = jnp.asarray(FULL_Y_NODES) * t
        # Thermal masses: m_W(T) = g v(T)/√2 (174 normalisation) with a floor g T/2 that keeps V_ν finite as v → 0.
        m_w2, m_z2 = thermal_boson_masses_squared(t)
        g_f = c.G_FERMI * (c.M_W**2 / m_w2)
        v_nu = -(7 * math.sqrt(2) * math.pi**2 / 45) * g_f * k * t**4 * (2 / m_w2 + 1 / m_z2)
        # Only the low-temperature potential: b_ν T = −V_ν, a_ν = 0 (no level crossing).
        width = active_neutrino_width(k, t, m_w2, m_z2, c_x=None)
        h_p, g_p, h_m, g_m = mode_b_coefficients(t, m, 0.0, -v_nu, width, k)
        return averaged_coefficients(t, m, h_p, g_p, h_m, g_m, nodes=(FULL_Y_NODES, FULL_Y_WEIGHTS))

    def check_range(self, t_low, t_high, mass):
        if t_low < self.t_min or t_high > self.t_max:
            raise ValueError(f"the provisional rate model is defined for {self.t_min:g}–{self.t_max:g} GeV; "
                             f"requested {t_low:g}–{t_high:g} GeV")

    @property
    def expensive(self) -> bool:
        return True

    @property
    def description(self) -> str:
        return "PROVISIONAL literature-constant + Mode-B model (not validated; see lta_jax.rates.provisional)"
