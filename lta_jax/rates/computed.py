"""Rate coefficients computed by the package: ``ComputedRates`` (``--rates computed``, the default).

What is computed, per momentum mode k = yT (Gauss–Legendre nodes in y ∈ (0.3, 30), :data:`AVERAGE_Y_MIN`) and
averaged with the weights of docs/physics.md §2.4 (ρ-weights y² f_F(E/T) for γ̄_N±, h̄±; μ-weights y² f_F(1 − f_F) for
γ̄_ν±):

* **Symmetric phase**, the Higgs-doublet-mediated rates γ̄_ν+ = a T, γ̄_N+ = b T, γ̄_ν− = c M²/T, γ̄_N− = d M²/T,
  h̄+ = e T with literature normalisations (:data:`SYMMETRIC_CONSTANTS`): by default those of the paper's own rate code
  (1808.10833 family; docs/physics.md §6.2), optionally ULYSSES' averages of the Ghiglieri–Laine rates (their FNV constants
  are 2–2.5× larger — the literature's spread, docs/physics.md §11.3). They are faded out as (1 − v²/v0²) through the
  crossover, v(T) from :mod:`lta_jax.plasma.electroweak`.
* **Higgs phase, indirect contributions** through ν–N mixing (docs/physics.md §6.4, "Mode B"):
      h_s(k) = [v²/(2E)] ε_s D_s/(D_s² + Γ_s²/4),   γ_s(k) = [v²/(2E)] ε_s Γ_s/(D_s² + Γ_s²/4),
      ε± = E ± k,   D_s = (1 + a_ν) ε_s + b_ν T,
  with a_ν, b_ν from the **one-loop thermal self-energy** of :mod:`lta_jax.rates.self_energy` (W and Z loops, massive
  bosons, g²/2 W coupling). The sign change of b_ν is the level crossing (h̄− changes sign). The self-energy is
  tabulated once per process on ln T × the y nodes at z = M/T = 0 (the mass shell enters only through √(y² + z²); good
  for M ≪ T, hence the warning for M > T_end/3).
* **Active-neutrino width** Γ_s (:func:`active_neutrino_width`), per channel: Γ_s/2 is the imaginary part of the
  D_s pole, i.e. the helicity projection ¼Tr[(γ⁰ ∓ γ·k̂) Im Σ_ν] — the on-shell interaction rate Γ_ν for the FNV
  channel, another projection for the FNC channel. Four-fermion scattering C_F G_F² T⁴ k saturated through the
  crossover by Γ_X = C_X T²/m_W(T) (times :data:`R_PLUS` in the FNC channel), plus the 1↔2 part ν ℓ̄ ↔ W, ν ν̄ ↔ Z
  computed for each projection (:func:`thermal_inverse_decay_width`).
* **Direct 1↔2 decays** W, Z, h ↔ N ℓ (:func:`direct_decay_rate`), Goldstone-equivalence normalisation, in the FNC
  rates.
* h̄0 = −M⟨1/E_N⟩ (docs/physics.md §2.4).

Constants fitted rather than derived (each named, value and fit documented): :data:`C_F` = 10 (four-fermion width,
the specification's calibration at 5–10 GeV), :data:`C_X` = 0.017 (crossover width; least squares of the FNV
coefficients and h̄− against the authors' M = 1 GeV table at 60–140 GeV) and :data:`R_PLUS` = 0.85 (the FNC
channel's share of the four-fermion width; least squares of γ̄_ν+ at 5–20 GeV), both by
``experiments/fit_rate_constants.py``. :data:`C_DIRECT` = 1 is not fitted. :data:`AVERAGE_Y_MIN` = 0.3 is a convention
(the authors' averaging range), not a fit.

Accuracy against the authors' M = 1 GeV table: README ("Rate coefficients") and ``experiments/rates_accuracy.py``.
Below 5 GeV (no reference data; docs/physics.md §8, O(1) uncertainty): C_F scaled with the number of relativistic
scattering partners (:func:`relativistic_scatterers`), and the solver adds the vacuum HNL decays (3.1) of
:mod:`lta_jax.rates.decays` to Γ_N (``KineticOptions.hnl_decays``). Not included: the self-energy off the light cone
(M ≳ T/3, warned), the momentum dependence of the symmetric-phase rates.
Range: 1 GeV ≤ T ≤ 10⁵ GeV (warning below 5 GeV), 0.1 ≤ M ≤ 30 GeV.
"""

from __future__ import annotations

import functools
import math
import os
from typing import NamedTuple

import equinox as eqx
import interpax
import jax
import jax.numpy as jnp
import numpy as np

from lta_jax.cache import cached_arrays, cached_spline
from lta_jax.model import constants as c
from lta_jax.plasma.electroweak import higgs_vev
from lta_jax.rates.base import RateCoefficients, RateModel
from lta_jax.model.validity import COMPUTED_M_RANGE, COMPUTED_T_RANGE, check_computed_range


class SymmetricPhaseConstants(NamedTuple):
    """Symmetric-phase normalisations: γ̄_ν+/T, γ̄_N+/T, γ̄_ν−·T/M², γ̄_N−·T/M², h̄+/T, and where they come from."""

    gamma_nu_plus: float
    gamma_N_plus: float
    gamma_nu_minus: float
    gamma_N_minus: float
    h_plus: float
    source: str


#: The normalisation of the paper's own rate code (1808.10833 family, Ghiglieri–Laine rates as implemented by the
#: authors), as quoted for T = 1 TeV in docs/physics.md §6.2. The package default: the paper's results rest on it.
PAPER_CONSTANTS = SymmetricPhaseConstants(8.64e-3, 9.65e-3, 0.0112, 0.0152, 0.0523,
                                          "1808.10833 code normalisation (docs/physics.md §6.2, T = 1 TeV)")
#: ULYSSES' averages of the Ghiglieri–Laine rates (arXiv:1605.07720, 1703.06085; ULYSSES ``data/ARS_rates`` at
#: M = 1 GeV, 1 TeV, docs/physics.md §6.2) and the free-theory h̄+ = π²T/(144 ζ(3)) (docs/physics.md §6.1). Their FNV constants
#: are 2–2.5× the paper's: this is the literature's spread (docs/physics.md §11.3), selectable as ``symmetric="ulysses"``.
ULYSSES_CONSTANTS = SymmetricPhaseConstants(8.66e-3, 1.095e-2, 0.0229, 0.0388, math.pi**2 / (144 * c.ZETA3),
                                            "ULYSSES averages of the Ghiglieri–Laine rates (docs/physics.md §6.2)")
SYMMETRIC_CONSTANTS = {"paper": PAPER_CONSTANTS, "ulysses": ULYSSES_CONSTANTS}

#: Fitted: coefficient of the four-fermion part of the active-neutrino width (docs/physics.md §6.4; the specification's
#: calibration to the authors' table at 5–10 GeV; physically it depends on the number of relativistic species).
C_F = 10.0
#: Fitted: the crossover width Γ_X = C_X T²/m_W(T) that saturates the four-fermion width (see
#: :func:`active_neutrino_width`); least squares of the FNV coefficients and h̄− against the authors' M = 1 GeV table
#: over 60–140 GeV (``experiments/fit_rate_constants.py``).
C_X = 0.017
#: Fitted: the FNC channel's share of the four-fermion width, Γ_4f⁺ = R_PLUS Γ_4f (see :func:`active_neutrino_width`);
#: least squares of γ̄_ν+ (μ-weighted) against the authors' M = 1 GeV table at 5–20 GeV, where the four-fermion part
#: decides it (``experiments/fit_rate_constants.py``). Per mode at 5–7 GeV the authors' FNC width is 0.6–0.75 of their
#: FNV width for k/T = 0.5–3.
R_PLUS = 0.85
#: Normalisation of the direct 1↔2 decays B ↔ N ℓ (B = W, Z, h) relative to Goldstone equivalence (1 = no fit).
C_DIRECT = 1.0

#: Lower end of the momentum averages, y = k/T ≥ 0.3: the range of the authors' averages (their per-mode files start
#: at k/T = 0.3; their h̄0 = −M⟨1/E⟩ at 1–10 TeV is the ρ-average over y ≥ 0.3 to 0.3 %, the full integral is 2.5 % off;
#: at 40 GeV their averages equal the ρ-average of their own 0.3–10 modes to 1 %). Not a physics cut: the soft modes
#: y < 0.3 (0.25 % of the N) carry h−(k) → v²/(2M), so they decide where the *averaged* h̄− changes sign — 27.2 GeV
#: with the cut, 31.3 GeV with the full integral (``ComputedRates.build(y_min=0)``) against the authors' 26.6 GeV. That
#: spread is a measure of how little the momentum-averaged equations can say at the level crossing (docs/physics.md §6.5).
AVERAGE_Y_MIN = 0.3


@functools.lru_cache(maxsize=None)
def momentum_nodes(y_min: float = AVERAGE_Y_MIN):
    """Gauss–Legendre nodes and weights in y = k/T on (y_min, 30): 24 nodes on each of (y_min, 1), (1, 6), (6, 30)."""
    x, w = np.polynomial.legendre.leggauss(24)
    panels = [(y_min, 1.0), (1.0, 6.0), (6.0, 30.0)]
    return (np.concatenate([0.5 * (b - a) * x + 0.5 * (a + b) for a, b in panels]),
            np.concatenate([0.5 * (b - a) * w for a, b in panels]))


Y_NODES, Y_WEIGHTS = momentum_nodes(AVERAGE_Y_MIN)
#: Nodes on the full range y ∈ (0, 30) (the provisional model's averages).
FULL_Y_NODES, FULL_Y_WEIGHTS = momentum_nodes(0.0)

#: Temperatures [GeV] of the self-energy table: above ~170 GeV v = 0 and the indirect terms vanish.
SELF_ENERGY_T_RANGE = (0.9, 175.0)


def inverse_decay_width(k, t, m_w2, m_z2):
    """Inverse decays ν ℓ̄ → W and ν ν̄ → Z with a Boltzmann boson and a Fermi partner, the formula of docs/physics.md §6.4
    [GeV]: only the loss term f_F of the partner (the provisional model's width; the computed model uses
    :func:`thermal_inverse_decay_width`)."""
    cw2 = (c.M_W / c.M_Z) ** 2
    return (c.G_WEAK**2 * m_w2 * t / (16 * math.pi * k**2) * jnp.log1p(jnp.exp(-m_w2 / (4 * k * t)))
            + c.G_WEAK**2 * m_z2 * t / (32 * math.pi * cw2 * k**2) * jnp.log1p(jnp.exp(-m_z2 / (4 * k * t))))


_LAGUERRE_U, _LAGUERRE_W = np.polynomial.laguerre.laggauss(24)


def _log_one_minus_exp(x):
    return jnp.log(-jnp.expm1(-x))


def thermal_inverse_decay_width(k, t, m_w2, m_z2, helicity: int = -1):
    """1↔2 part of the active-neutrino width, ν ℓ̄ ↔ W and ν ν̄ ↔ Z, for the two helicity channels [GeV].

    Im Σ_ν of the W–ℓ (Z–ν) loop on its 1↔2 cut: with K = P' + Q (lepton line P', boson Q, Q² = m_B², K² ≈ 0) the
    unitary-gauge polarisation sum gives the Dirac structure γ^μ P̸' γ^ν (−g_μν + Q_μQ_ν/m_B²) = 2P̸' − K̸. The two
    channels of the Mode-B formulas see its projections c∓ = ¼ Tr[(γ⁰ ∓ γ·k̂) Im Σ] (Γ_s/2 = Im of the coefficient
    of the D_s pole, docs/physics.md §6.4):

    * ``helicity=-1`` (FNV, ε−): c− ∝ p(1 − cos θ) = m_B²/(2k) at fixed partner momentum p — the on-shell width of
      docs/physics.md §6.4, (g² m_B²/(16π k²)) ∫_{p_min}^∞ dp [f_F(p) + f_B(k + p)], p_min = m_B²/(4k), here with the
      gain + loss statistics f_F + f_B of a damping rate (the specification's formula keeps only f_F: a Boltzmann
      boson) — the same statistics as :func:`direct_decay_rate`.
    * ``helicity=+1`` (FNC, ε+): the P̸' part gives c+ ∝ p(1 + cos θ), i.e. the integrand is weighted by
      c+/c− = 4kp/m_B² − 1 = u/a (p = p_min + T u, a = p_min/T): suppressed for soft k (the partner must come
      against k), enhanced for hard k. The −K̸ part (longitudinal bosons, weight 2k²/m_B²) is the Goldstone
      amplitude already counted by :func:`direct_decay_rate` (equivalence theorem) and is left out so as not to
      count it twice. With that split the authors' per-mode γ+(k) is reproduced to ≤ 16 % for k/T = 2–10 at
      15–40 GeV (test; at 60 GeV our hard modes fall to 0.6 of theirs).
    The + integral is done with 24-node Gauss–Laguerre quadrature in u (smooth integrand; test against SciPy)."""
    cw2 = (c.M_W / c.M_Z) ** 2
    total = 0.0
    for pref, m2 in ((c.G_WEAK**2 * m_w2 / (16 * math.pi * k**2), m_w2),
                     (c.G_WEAK**2 * m_z2 / (32 * math.pi * cw2 * k**2), m_z2)):
        a = m2 / (4 * k * t)
        kappa = k / t
        if helicity < 0:
            integral = t * (jnp.log1p(jnp.exp(-a)) - _log_one_minus_exp(a + kappa))
        else:
            u = jnp.asarray(_LAGUERRE_U)
            a_, kappa_ = jnp.asarray(a)[..., None], jnp.asarray(kappa)[..., None]
            # f_F(p) + f_B(k + p) = e^{−u} × (the smooth factor below), p = p_min + T u.
            smooth = jnp.exp(-a_) / (1 + jnp.exp(-a_ - u)) + jnp.exp(-a_ - kappa_) / -jnp.expm1(-a_ - kappa_ - u)
            integral = t * jnp.sum(jnp.asarray(_LAGUERRE_W) * smooth * u, axis=-1) / a
        total = total + pref * integral
    return total


#: Scattering partners of an active neutrino in four-fermion processes: (mass [GeV], weight = colours × species).
#: Equal weights per Dirac fermion and colour — a counting rule, not the electroweak couplings [UNVERIFIED].
SCATTERING_PARTNERS = ((0.0, 3.0), (c.M_ELECTRON, 1.0), (c.M_MUON, 1.0), (c.M_TAU, 1.0), (c.M_UP, 3.0),
                       (c.M_DOWN, 3.0), (c.M_STRANGE, 3.0), (c.M_CHARM, 3.0), (c.M_BOTTOM, 3.0))
#: C_F was calibrated at 5–10 GeV (docs/physics.md §6.4); the species count is normalised there.
C_F_REFERENCE_TEMPERATURE = 7.0


def relativistic_scatterers(t, xp=jnp):
    """Σ_f w_f n_f(T)/n_f(m_f = 0): the Fermi–Dirac-weighted number of four-fermion scattering partners.

    Below ~5 GeV the b, c quarks and the τ decouple and the four-fermion width drops with them (docs/physics.md §8: "C_F
    reduced as species decouple"); :func:`active_neutrino_width` scales C_F by this count relative to 7 GeV. ``xp``:
    the array module (``numpy`` for a constant)."""
    y = xp.asarray(Y_NODES)
    w = xp.asarray(Y_WEIGHTS) * y**2
    massless = xp.sum(w / (xp.exp(y) + 1))
    return sum(weight * xp.sum(w / (xp.exp(xp.sqrt(y**2 + (mass / t) ** 2)) + 1)) / massless
               for mass, weight in SCATTERING_PARTNERS)


# The species count at C_F's reference temperature: a constant, evaluated once here rather than in every RHS call
# (with NumPy: op by op in JAX it cost 0.4 s of every import).
_REFERENCE_SCATTERERS = float(relativistic_scatterers(C_F_REFERENCE_TEMPERATURE, np))


def active_neutrino_width(k, t, m_w2, m_z2, c_f=C_F, c_x=C_X, helicity: int = -1, r_plus=R_PLUS):
    """Γ_ν(k, T) [GeV], the active-neutrino width in the Mode-B formulas (docs/physics.md §6.4), for the FNV
    (``helicity=-1``, the on-shell interaction rate) or the FNC (``helicity=+1``) channel.

    * Four-fermion scattering Γ_4f = C_F G_F² T⁴ k, valid for T ≪ m_W (Fermi theory; fitted C_F), with C_F scaled
      by :func:`relativistic_scatterers` relative to 7 GeV (b, c, τ decoupling below ~5 GeV).
    * Through the crossover the W propagator is no longer contact-like and Γ_4f (∝ T⁵) overshoots: it is combined
      harmonically, Γ = (1/Γ_4f + 1/Γ_X)⁻¹, with the saturated width Γ_X = C_X T²/m_W(T) (phenomenological form; C_X
      fitted, :data:`C_X`). With a momentum-independent width ∝ T the authors' FNV coefficients and h̄− are
      reproduced to ≲5 % at 60–140 GeV for a coefficient that grows like T/m_W(T); this form encodes that.
    * In the FNC channel this scattering part is multiplied by :data:`R_PLUS` (fitted): the channel sees another
      helicity projection of Im Σ_ν than the on-shell width (:func:`thermal_inverse_decay_width`), which for the
      two-loop four-fermion self-energy is not computed here.
    * Plus the 1↔2 part, :func:`thermal_inverse_decay_width` for the channel.
    ``c_x=None`` gives the provisional model's width: the unsaturated four-fermion width with G_F ∝ 1/m_W²(T) and
    :func:`inverse_decay_width`, the same for both channels."""
    if c_x is None:
        g_f = c.G_FERMI * (c.M_W**2 / m_w2)
        return c_f * g_f**2 * t**4 * k + inverse_decay_width(k, t, m_w2, m_z2)
    species = relativistic_scatterers(t) / _REFERENCE_SCATTERERS
    four_fermion = c_f * species * c.G_FERMI**2 * t**4 * k
    saturated = c_x * t**2 / jnp.sqrt(m_w2)
    scattering = four_fermion * saturated / (four_fermion + saturated)
    if helicity > 0:
        scattering = r_plus * scattering
    return scattering + thermal_inverse_decay_width(k, t, m_w2, m_z2, helicity)


def direct_decay_rate(k, t, m, v):
    """Direct 1↔2 processes B ↔ N ℓ for B = W±, Z, h (docs/physics.md §6.4, "Direct 1↔2 processes") [GeV per |F|²].

    Per mode: Γ^(B)(k) = n_B m_B²/(16π E k) ∫_{p−}^{p+} dp [f_B(E + p) + f_F(p)], p∓ = (m_B² − M²)/(2(E ± k)), massless
    lepton, done in closed form. Σ|𝓜_B|² = n_B |F|² (m_B² − M²) from Goldstone equivalence (the Yukawa vertex
    N̄ φ ℓ, 2 p_N·p_ℓ = m_B² − M²): the longitudinal W (charged Goldstone) with n_W = 1, the Z (neutral Goldstone) and
    h with n = ½ each, times :data:`C_DIRECT`. Boson masses from the Higgs mechanism only, m_B ∝ v(T) (the thermal
    parts belong to the symmetric-phase rates, which fade as v grows), so the rate vanishes with v. Where m_B(v) < M
    (T ≳ 142 GeV for M = 30 GeV) the decay N → B ℓ is closed by the lepton's thermal mass (m_ℓ∞ ≈ 0.3 T > 40 GeV there)
    and the rate is set to zero. Assigned to the FNC rates (the FNV part is suppressed by M²/E²; its split is
    [UNVERIFIED] in the specification)."""
    energy = jnp.sqrt(k**2 + m**2)
    ratio2 = (v / c.V0) ** 2
    m_w2 = c.G_WEAK**2 * c.V0**2 / 2 * ratio2
    total = 0.0
    for weight, mb2 in ((1.0, m_w2), (0.5, m_w2 * (c.M_Z / c.M_W) ** 2), (0.5, c.M_HIGGS**2 * ratio2)):
        delta = mb2 - m**2
        open_ = delta > 0
        span = jnp.where(open_, delta, 1.0)  # placeholder where closed keeps the logs finite (and gradients NaN-free)
        p_lo = span / (2 * (energy + k))
        p_hi = span / (2 * (energy - k))
        fermi = t * (jnp.log1p(jnp.exp(-p_lo / t)) - jnp.log1p(jnp.exp(-p_hi / t)))
        bose = t * (_log_one_minus_exp((energy + p_hi) / t) - _log_one_minus_exp((energy + p_lo) / t))
        rate = weight * span / (16 * math.pi * energy * k) * (bose + fermi)
        total = total + C_DIRECT * jnp.where(open_, rate, 0.0)
    return total


def mode_b_coefficients(t, m, a_nu, b_nu_t, width, k=None, width_plus=None):
    """Higgs-phase indirect coefficients (docs/physics.md §6.4) per mode k [GeV] (default: the :data:`Y_NODES` modes),
    given the self-energy a_ν and b_ν T [GeV] and the active-neutrino width at those modes: ``width`` for the FNV
    channel and ``width_plus`` for the FNC channel (default: the same).

    Returns (h+, γ+, h−, γ−) arrays [GeV]."""
    v = higgs_vev(t)
    if k is None:
        k = jnp.asarray(Y_NODES) * t
    if width_plus is None:
        width_plus = width
    energy = jnp.sqrt(k**2 + m**2)

    def indirect(eps, gamma):
        d = (1 + a_nu) * eps + b_nu_t
        denom = d**2 + gamma**2 / 4
        pref = v**2 / (2 * energy) * eps
        return pref * d / denom, pref * gamma / denom

    h_p, g_p = indirect(energy + k, width_plus)
    h_m, g_m = indirect(energy - k, width)
    return h_p, g_p, h_m, g_m


def averaged_coefficients(t, m, h_p, g_p, h_m, g_m, constants: SymmetricPhaseConstants = ULYSSES_CONSTANTS,
                          nodes=None) -> RateCoefficients:
    """Momentum averages (docs/physics.md §2.4) over the modes ``nodes`` = (y, weights) (default :data:`Y_NODES`, the
    range y ≥ :data:`AVERAGE_Y_MIN`) plus the symmetric-phase constants faded by (1 − v²/v0²)."""
    y, w = (jnp.asarray(q) for q in (nodes if nodes is not None else (Y_NODES, Y_WEIGHTS)))
    energy = jnp.sqrt((y * t) ** 2 + m**2)
    f_n = 1 / (jnp.exp(energy / t) + 1)
    f_nu = 1 / (jnp.exp(y) + 1)
    w_rho = w * y**2 * f_n
    w_mu = w * y**2 * f_nu * (1 - f_nu)
    fade = 1 - (higgs_vev(t) / c.V0) ** 2

    def avg(q, weight):
        return jnp.sum(weight * q) / jnp.sum(weight)

    return RateCoefficients(
        gamma_nu_plus=constants.gamma_nu_plus * t * fade + avg(g_p, w_mu),
        gamma_nu_minus=constants.gamma_nu_minus * m**2 / t * fade + avg(g_m, w_mu),
        gamma_N_plus=constants.gamma_N_plus * t * fade + avg(g_p, w_rho),
        gamma_N_minus=constants.gamma_N_minus * m**2 / t * fade + avg(g_m, w_rho),
        h_plus=constants.h_plus * t * fade + avg(h_p, w_rho),
        h_minus=avg(h_m, w_rho),
        h_zero=-m * avg(1 / energy, w_rho),
    )


def thermal_boson_masses_squared(t):
    """m_W²(T), m_Z²(T) from v(T) with a floor (gT/2)² that keeps the widths finite as v → 0."""
    v = higgs_vev(t)
    m_w2 = (c.G_WEAK * v) ** 2 / 2 + (c.G_WEAK * t / 2) ** 2
    return m_w2, m_w2 * (c.M_Z / c.M_W) ** 2


@functools.lru_cache(maxsize=None)
def self_energy_table(n_per_efold: int = 12, crossover_step: float = 1.5, n_panels: int = 2000,
                      y_min: float = AVERAGE_Y_MIN):
    """(ln T nodes, a_ν, b_ν) on :data:`SELF_ENERGY_T_RANGE` × ``momentum_nodes(y_min)`` at z = 0 (NumPy arrays).

    Nodes: ``n_per_efold`` per e-fold up to 100 GeV, then every ``crossover_step`` GeV through the crossover, where
    m_W(T) changes fast. The loop integrals use ``n_panels`` quadrature panels (≈0.5 % near their log singularities;
    the table interpolates to ≈0.4 % below 100 GeV — tests)."""
    from lta_jax.rates.self_energy import neutrino_self_energy

    lo, hi = (math.log(t) for t in SELF_ENERGY_T_RANGE)
    coarse = np.linspace(lo, math.log(100.0), int((math.log(100.0) - lo) * n_per_efold) + 1)
    fine = np.log(np.arange(100.0 + crossover_step, SELF_ENERGY_T_RANGE[1] + 1e-9, crossover_step))
    ln_t = np.concatenate([coarse, fine])
    y = jnp.asarray(momentum_nodes(y_min)[0])

    @jax.jit
    def row(lt):
        t = jnp.exp(lt)
        return neutrino_self_energy(y * t, t, 0.0, n_panels)

    a, b = jax.lax.map(row, jnp.asarray(ln_t))
    return ln_t, np.asarray(a), np.asarray(b)


class ComputedRates(RateModel):
    """The package's computed rate model (module docstring). Build with ``ComputedRates.build()`` (tabulates the
    one-loop self-energy once, ~seconds); ``symmetric="paper"`` (default) or ``"ulysses"`` picks the symmetric-phase
    normalisation (:data:`SYMMETRIC_CONSTANTS`); ``y_min`` the lower end of the momentum averages (default
    :data:`AVERAGE_Y_MIN`, the authors' range; ``y_min=0`` averages over all momenta)."""

    a_spline: interpax.Interpolator1D
    b_spline: interpax.Interpolator1D
    constants: SymmetricPhaseConstants = eqx.field(static=True, default=PAPER_CONSTANTS)
    y_min: float = eqx.field(static=True, default=AVERAGE_Y_MIN)
    t_min: float = COMPUTED_T_RANGE[0]
    t_max: float = COMPUTED_T_RANGE[1]

    @staticmethod
    def build(symmetric: str = "paper", y_min: float = AVERAGE_Y_MIN) -> "ComputedRates":
        if symmetric not in SYMMETRIC_CONSTANTS:
            raise ValueError(f"unknown symmetric-phase normalisation {symmetric!r}; choose from "
                             f"{sorted(SYMMETRIC_CONSTANTS)}")
        if not (0.0 <= float(y_min) < 1.0):
            raise ValueError(f"y_min (lower end of the momentum averages, k/T) must be in [0, 1), got {y_min!r}")
        return _computed_rates(symmetric, float(y_min))

    @property
    def nodes(self):
        """(y, weights) of the momentum averages (NumPy arrays)."""
        return momentum_nodes(self.y_min)

    def self_energy(self, t):
        """(a_ν, b_ν) on the y nodes at temperature t [GeV] (interpolated; constant above the table)."""
        lt = jnp.clip(jnp.log(t), math.log(SELF_ENERGY_T_RANGE[0]), math.log(SELF_ENERGY_T_RANGE[1]))
        return self.a_spline(lt), self.b_spline(lt)

    def momentum_resolved(self, temperature, mass, y=None, c_x=C_X, r_plus=R_PLUS):
        """Per-mode coefficients at k = yT, y = the averaging nodes by default (other y: the self-energy is
        interpolated linearly between the nodes, constant outside them): a dict of arrays [GeV] with keys
        ``gamma_plus`` (indirect + direct), ``gamma_minus``, ``h_plus`` (indirect), ``h_minus``, ``h_zero`` = −M/E_k,
        and the parts ``gamma_plus_indirect``, ``gamma_plus_direct``. ``c_x`` and ``r_plus`` override the fitted
        constants (for their fit, ``experiments/fit_rate_constants.py``). The symmetric-phase constants are momentum
        averages and are not included. These are the γ(k, T, M) the momentum-resolved equations need (paper §6)."""
        t = jnp.asarray(temperature, dtype=float)
        m = jnp.asarray(mass, dtype=float)
        a_nu, b_nu = self.self_energy(t)
        y_nodes = jnp.asarray(self.nodes[0])
        if y is None:
            y = y_nodes
        else:
            y = jnp.asarray(y, dtype=float)
            a_nu, b_nu = (jnp.interp(y, y_nodes, q) for q in (a_nu, b_nu))
        m_w2, m_z2 = thermal_boson_masses_squared(t)
        k = y * t
        width = active_neutrino_width(k, t, m_w2, m_z2, c_x=c_x)
        width_plus = active_neutrino_width(k, t, m_w2, m_z2, c_x=c_x, helicity=+1, r_plus=r_plus)
        h_p, g_p, h_m, g_m = mode_b_coefficients(t, m, a_nu, b_nu * t, width, k, width_plus)
        direct = direct_decay_rate(k, t, m, higgs_vev(t))
        return {"gamma_plus": g_p + direct, "gamma_minus": g_m, "h_plus": h_p, "h_minus": h_m,
                "h_zero": -m / jnp.sqrt(k**2 + m**2), "gamma_plus_indirect": g_p, "gamma_plus_direct": direct}

    def __call__(self, temperature, mass):
        t = jnp.asarray(temperature, dtype=float)
        m = jnp.asarray(mass, dtype=float)
        modes = self.momentum_resolved(t, m)
        return averaged_coefficients(t, m, modes["h_plus"], modes["gamma_plus"], modes["h_minus"],
                                     modes["gamma_minus"], self.constants, self.nodes)

    def check_range(self, t_low, t_high, mass):
        check_computed_range(t_low, t_high, mass, self.t_min, self.t_max)

    @property
    def expensive(self) -> bool:
        return True

    @property
    def description(self) -> str:
        return (f"computed: {self.constants.source} + one-loop ν self-energy (Mode B, helicity-projected widths, "
                f"crossover width) + direct W/Z/h decays, k/T ≥ {self.y_min:g} (lta_jax.rates.computed)")


@functools.lru_cache(maxsize=None)
def _computed_rates(symmetric: str, y_min: float) -> ComputedRates:
    # Seconds to compute, a function of the package's own code only: kept in the on-disk cache (lta_jax.cache).
    table = cached_arrays("self_energy", (y_min,), ("rates/self_energy.py", "rates/computed.py", "plasma",
                                                    "model/constants.py"),
                          lambda: dict(zip(("ln_t", "a", "b"), self_energy_table(y_min=y_min))))
    ln_t, a, b = table["ln_t"], table["a"], table["b"]
    return ComputedRates(cached_spline(ln_t, a), cached_spline(ln_t, b), SYMMETRIC_CONSTANTS[symmetric], y_min)


COLUMN_NAMES = ("gamma_nu_plus", "gamma_nu_minus", "gamma_N_plus", "gamma_N_minus", "h_plus", "h_minus", "h_zero")


def rate_table(rates: RateModel, mass: float, t_high: float = 1e5, t_low: float = 5.0, rows: int = 1501) -> np.ndarray:
    """Any rate model as a 9-column table in the authors' format (docs/rate-table-format.md): T descending, uniform in ln T,
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


__all__ = ["ComputedRates", "check_computed_range", "COMPUTED_T_RANGE", "COMPUTED_M_RANGE", "SymmetricPhaseConstants", "SYMMETRIC_CONSTANTS", "PAPER_CONSTANTS", "ULYSSES_CONSTANTS",
           "thermal_boson_masses_squared", "rate_table", "write_rate_table", "COLUMN_NAMES", "mode_b_coefficients",
           "averaged_coefficients", "active_neutrino_width", "inverse_decay_width", "thermal_inverse_decay_width",
           "direct_decay_rate", "self_energy_table", "momentum_nodes", "C_F", "C_X", "R_PLUS", "C_DIRECT",
           "AVERAGE_Y_MIN", "Y_NODES", "Y_WEIGHTS", "FULL_Y_NODES", "FULL_Y_WEIGHTS"]
