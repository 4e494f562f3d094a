"""Chiral-condensate extension of the averaged equations below T_sph (paper §7; docs/chiral.md).

A twelfth state, Y_R = R₀/s, the paper's right-handed-electron charge R₀ (in the paper's sign convention: at μ_R = 0
its equations give R₀ = −(64L₁ − 5L₂ − 5L₃)/207, i.e. R₀ is *minus* the e_R asymmetry; the physics is the same when
κ is read in the same convention). The chemical potentials of the lepton flavours and of R₀ follow from (7.3)–(7.6),

    (μ₁, μ₂, μ₃, μ_R) = (1/(271 T²)) C (L₁, L₂, L₃, R₀),
    C = [[858, 60, 60, 768], [60, 622, 80, −60], [60, 80, 622, −60], [768, −60, −60, 2484]],

derived for massless leptons, u, c, d, s, b quarks and no W or top (valid for m_b ≪ T ≪ m_W), with B and Q = 0 and
L_i ≈ Y_Δi (B/s ~ 10⁻¹⁰ ≪ L/s). They replace the susceptibility relation μ = ω̃ n/T² of the standard equations:
in the package's variable w_α = Σβ ω̃_αβ Y_Δβ = μ_α T²/s this is simply w = C (Y_Δ, Y_R)/271. Eliminating R₀ with
μ_R = 0 gives w = (1/69)[[158, 20, 20], …] Y_Δ, the package's Higgs-phase ω̃ in the same window (a test).

R₀ obeys, as the comoving rate in z = ln(M/T) (dz/dt = H, or 3c_s²H with the sound-speed option):

* ``mode="condensate"`` (7.9): dY_R/dz = −(γ_C/ż) (T³/s) ((μ_R − κ μ₁)/T)³, with μ/T = (s/T³) w. The default
  γ_C(T) = A H(T) σ((ln T − ln T_*)/w_T) (σ logistic; A = 10⁴, T_* = 40 GeV, w_T = 0.05) is the paper's Fig.-16 choice
  "10⁴ H above ≈ 40 GeV, quickly dropping below" — an ad hoc profile (the paper gives none). The cubic law relaxes
  slowly for small asymmetries: its rate is ≈ 27.5 γ_C ((μ_R − κμ₁)/T)², i.e. ≈ 0.3 H for γ_C = 10⁴ H at μ/T ~ 10⁻³.
* ``mode="perturbative"`` (7.7), the baseline without a condensate: chirality flips relax μ_R → 0 at the rate
  Γ_flip(T) = H(T) T_eq/T (flips ∝ y_e² T against H ∝ T², in equilibrium below T_eq ≈ 8.5×10⁴ GeV):
  dY_R/dz = −(Γ_flip/ż) (271/2484) w_R, so that Y_R relaxes at exactly Γ_flip. With Γ_flip ≫ H this reproduces the
  standard equations with the massless Higgs-phase ω̃ (a test).

What the condensate can keep. While γ_C holds R₀ at the attractor μ_R = κμ₁ (:func:`condensate_fixed_point`), Y_R
is a κ-dependent fraction of the flavour asymmetries; once γ_C has dropped, R₀ is frozen and the HNL rates still drive
the flavours to a common chemical potential μ₁ = μ₂ = μ₃ at fixed total lepton number (:func:`flavour_equilibrium`;
the paper's "partial redistribution of electron asymmetry in agreement with (7.6)"). Then Y_Δe ends at
≈ 0.27 Y_L − 0.76 Y_R: the condensate keeps the part −0.76 Y_R of the electron asymmetry, which per unit of Y_Δe at the
drop is 0.235 at κ = 0, 0.215 at κ = 0.1, 0.38 at κ = −1, 0.70 at κ = −10 and → 0.85 as κ → −∞
(:func:`kept_electron_fraction`). The attractor exists only for κ < C₄₄/C₁₄ = 2484/768 ≈ 3.23: above, μ_R − κμ₁
falls as R₀ grows and (7.9) pushes R₀ away (:data:`KAPPA_LIMIT`; rejected by :meth:`ChiralOptions.check`).

The equations are nonlinear in the condensate mode, so :mod:`lta_jax.solver.chiral` integrates them with the
implicit Kvaerno5 from T_sph (the standard state, R₀ from μ_R = 0) until γ_C has dropped, then holds R₀ and
continues the linear equations with the Magnus solver.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from lta_jax.kinetics.averaged import (KineticSystem, _SOURCE_DIRECTION, averaged_equations, equilibrium_source,
                                       expansion_rate, matrices_to_state, state_to_matrices, system_rate_matrices)

#: (7.3)–(7.6): 271 T² (μ₁, μ₂, μ₃, μ_R) = C (L₁, L₂, L₃, R₀) (paper's sign convention for R₀).
CHIRAL_MATRIX = ((858.0, 60.0, 60.0, 768.0), (60.0, 622.0, 80.0, -60.0), (60.0, 80.0, 622.0, -60.0),
                 (768.0, -60.0, -60.0, 2484.0))
CHIRAL_DENOMINATOR = 271.0
MODES = ("condensate", "perturbative")
#: (7.9) has an attractor at μ_R = κμ₁ only for κ < C₄₄/C₁₄ = 2484/768: ∂(μ_R − κμ₁)/∂R₀ ∝ 2484 − 768 κ.
KAPPA_LIMIT = CHIRAL_MATRIX[3][3] / CHIRAL_MATRIX[0][3]


#: The numeric fields of :class:`ChiralOptions`, in order.
_NUMERIC = ("kappa", "gamma_c_amplitude", "gamma_c_temperature", "gamma_c_width", "equilibration_temperature")


class ChiralOptions(eqx.Module):
    """Parameters of the R₀ equation (module docstring). ``kappa`` may have either sign (paper: κ = 0.1 in Fig. 16) but
    must stay below :data:`KAPPA_LIMIT` in the condensate mode. ``gamma_c_temperature=None`` places γ_C's drop where
    the standard equations' |Y_Δe| is largest below T_sph (the paper: γ_C "quickly drops at the temperature where the
    electron asymmetry is maximal"); :func:`lta_jax.solver.chiral.solve_chiral` resolves it before solving."""

    mode: str = eqx.field(static=True, default="condensate")
    kappa: float = 0.1
    gamma_c_amplitude: float = 1e4  # A in γ_C = A H σ((ln T − ln T_*)/w_T)
    gamma_c_temperature: float | None = 40.0  # T_* [GeV]; None: at the standard run's max |Y_Δe| below T_sph
    gamma_c_width: float = 0.05  # w_T (in ln T)
    equilibration_temperature: float = 8.5e4  # T_eq [GeV] of the perturbative chirality flips (7.7)

    def check(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"chiral mode must be one of {MODES}, got {self.mode!r}")
        for name in _NUMERIC:
            value = getattr(self, name)
            if name == "gamma_c_temperature" and value is None:
                continue
            if not (isinstance(value, (int, float)) and math.isfinite(value)):
                raise ValueError(f"chiral option {name} must be a finite number, got {value!r}")
        if self.gamma_c_amplitude < 0:
            raise ValueError(f"γ_C amplitude must be ≥ 0, got {self.gamma_c_amplitude!r}")
        if self.mode == "condensate" and not self.kappa < KAPPA_LIMIT:
            raise ValueError(f"κ must be below C₄₄/C₁₄ = 2484/768 ≈ {KAPPA_LIMIT:.4f} for (7.9) to have its attractor "
                             f"at μ_R = κμ₁ (above it the condensate law drives R₀ away), got {self.kappa!r}")
        for name in ("gamma_c_temperature", "gamma_c_width", "equilibration_temperature"):
            if name == "gamma_c_temperature" and self.gamma_c_temperature is None:
                continue
            if getattr(self, name) <= 0:
                raise ValueError(f"chiral option {name} must be positive, got {getattr(self, name)!r}")

    def traced(self) -> "ChiralOptions":
        """The numeric options as JAX scalars: a compiled solve then takes κ, A, T_*, w_T and T_eq as arguments
        instead of baking them in as constants (a new κ used to recompile the implicit solve, ~10 s each)."""
        if self.gamma_c_temperature is None:
            raise ValueError("γ_C's drop temperature is still 'at the maximum': solve_chiral resolves it first")
        return ChiralOptions(self.mode, *(jnp.asarray(getattr(self, name), dtype=float) for name in _NUMERIC))

    def gamma_c(self, temperature, hubble):
        """γ_C(T) [GeV] = A H σ((ln T − ln T_*)/w_T)."""
        if self.gamma_c_temperature is None:
            raise ValueError("γ_C's drop temperature is still 'at the maximum': solve_chiral resolves it first")
        x = (jnp.log(temperature) - jnp.log(self.gamma_c_temperature)) / self.gamma_c_width
        return self.gamma_c_amplitude * hubble * jax.nn.sigmoid(x)


def chiral_potentials(y_delta, y_r) -> Float[Array, "4"]:
    """w = (μ₁, μ₂, μ₃, μ_R) T²/s = C (Y_Δ, Y_R)/271 ((7.3)–(7.6) in yields)."""
    return jnp.asarray(CHIRAL_MATRIX) @ jnp.concatenate([y_delta, jnp.atleast_1d(y_r)]) / CHIRAL_DENOMINATOR


def initial_r(y_delta) -> Float[Array, ""]:
    """Y_R with μ_R = 0: −(C₄₁ L₁ + C₄₂ L₂ + C₄₃ L₃)/C₄₄ = −(64 L₁ − 5 L₂ − 5 L₃)/207."""
    c = jnp.asarray(CHIRAL_MATRIX)
    return -(c[3, :3] @ y_delta) / c[3, 3]


def condensate_fixed_point(y_delta, kappa) -> Float[Array, ""]:
    """Y_R at the attractor of (7.9), μ_R = κ μ₁ (from (7.3) and (7.6)): (C₄ − κ C₁)·(Y_Δ, Y_R) = 0."""
    c = jnp.asarray(CHIRAL_MATRIX)
    return -((c[3, :3] - kappa * c[0, :3]) @ y_delta) / (c[3, 3] - kappa * c[0, 3])


def flavour_equilibrium(y_lepton, y_r) -> Float[Array, "3"]:
    """The flavour asymmetries (Y_Δe, Y_Δμ, Y_Δτ) with equal chemical potentials μ₁ = μ₂ = μ₃ ((7.3)–(7.5)) at the
    total lepton asymmetry ``y_lepton`` = Σ Y_Δα and a fixed Y_R: where the HNL rates drive the flavours once R₀ is
    frozen. Linear in both: Y_Δe = (291 Y_L − 828 Y_R)/1089, Y_Δμ = Y_Δτ = (Y_L − Y_Δe)/2."""
    c = jnp.asarray(CHIRAL_MATRIX)
    rows = jnp.stack([c[0, :3] - c[1, :3], c[1, :3] - c[2, :3], jnp.ones(3)])
    rhs = jnp.stack([-(c[0, 3] - c[1, 3]) * y_r, -(c[1, 3] - c[2, 3]) * y_r, y_lepton])
    return jnp.linalg.solve(rows, rhs)


def kept_electron_fraction(kappa) -> Float[Array, ""]:
    """The electron asymmetry the condensate keeps after full re-equilibration, per unit of Y_Δe when γ_C drops (with
    Y_Δμ = Y_Δτ = 0 then and no total lepton number): flavour_equilibrium(0, condensate_fixed_point((1, 0, 0), κ))₁.
    0.235 at κ = 0, 0.215 at κ = 0.1, 0.38 at κ = −1, 0.70 at κ = −10, → 0.85 as κ → −∞; negative for
    768/858 < κ < KAPPA_LIMIT."""
    return flavour_equilibrium(0.0, condensate_fixed_point(jnp.asarray([1.0, 0.0, 0.0]), kappa))[0]


def reduced_omega() -> Float[Array, "3 3"]:
    """The 3×3 ω̃ obtained from C by eliminating R₀ at μ_R = 0 (should equal (1/69)[[158, 20, 20], …])."""
    c = jnp.asarray(CHIRAL_MATRIX)
    return (c[:3, :3] - jnp.outer(c[:3, 3], c[3, :3]) / c[3, 3]) / CHIRAL_DENOMINATOR


class ChiralSystem(eqx.Module):
    """The standard system plus the R₀ equation; state x = (the 11 averaged variables, Y_R)."""

    system: KineticSystem
    chiral: ChiralOptions

    def __call__(self, z, x, args=None):
        return chiral_rhs(z, x, self)


def chiral_rhs(z, x: Float[Array, "12"], cs: ChiralSystem) -> Float[Array, "12"]:
    """dx/dz of the averaged equations with the chemical potentials (7.3)–(7.6) and the R₀ equation (module
    docstring). Same matrices as :func:`lta_jax.kinetics.averaged.kinetic_rhs`; only w changes."""
    system, opts = cs.system, cs.chiral
    temperature = system.temperature(z)
    coeffs = system.rates(temperature, system.params.mass)
    mats = system_rate_matrices(system, coeffs)
    y_delta, y_plus, y_minus = state_to_matrices(x[:11])
    w = chiral_potentials(y_delta, x[11])
    # averaged_equations uses Y_Δ only through w = ω̃ Y_Δ: pass ω̃ = 1 and w itself.
    d_delta, d_plus, d_minus = averaged_equations(mats, jnp.eye(3), w[:3], y_plus, y_minus)
    rate = expansion_rate(system, temperature)
    dx = matrices_to_state(d_delta, d_plus, d_minus) / rate
    if system.options.source_term:
        dx = dx - equilibrium_source(system, z) * _SOURCE_DIRECTION
    hubble = system.thermo.hubble_rate(temperature)
    s_over_t3 = system.thermo.entropy_density(temperature) / temperature**3
    if opts.mode == "condensate":
        offset = s_over_t3 * (w[3] - opts.kappa * w[0])  # (μ_R − κ μ₁)/T
        d_r = -opts.gamma_c(temperature, hubble) / rate / s_over_t3 * offset**3
    else:
        flip = hubble * opts.equilibration_temperature / temperature
        d_r = -flip / rate * (CHIRAL_DENOMINATOR / CHIRAL_MATRIX[3][3]) * w[3]
    return jnp.concatenate([dx, d_r[None]])


__all__ = ["CHIRAL_MATRIX", "CHIRAL_DENOMINATOR", "KAPPA_LIMIT", "MODES", "ChiralOptions", "ChiralSystem", "chiral_rhs",
           "chiral_potentials", "condensate_fixed_point", "flavour_equilibrium", "initial_r", "kept_electron_fraction",
           "reduced_omega"]
