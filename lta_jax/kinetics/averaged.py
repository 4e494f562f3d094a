"""The 11 momentum-averaged kinetic equations (kinetics.md §2.3–2.4; paper (2.2)/(6.1) averaged with ρ ∝ ρ_eq).

State (real 11-vector, column order of the authors' evolution files):
    x = (Y_Δe, Y_Δμ, Y_Δτ, Y+11, Y+22, Re Y+12, Im Y+12, Y−11, Y−22, Re Y−12, Im Y−12),
with Y+ = (Y_N + Y_N̄)/2 − Y_eq·1 and Y− = Y_N − Y_N̄ as Hermitian 2×2 matrices in the h-basis, and the time variable
z = ln(M/T). The equations are linear in x; the right-hand side is a pure JAX function of (z, x, setup).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Complex, Float

from lta_jax.rates.decays import decay_matrix
from lta_jax.model.parameters import ModelParameters, YukawaBilinears, yukawa_bilinears, yukawas
from lta_jax.rates.base import RateCoefficients, RateModel
from lta_jax.plasma.susceptibility import Susceptibility
from lta_jax.plasma.thermodynamics import Thermodynamics, equilibrium_yield

STATE_LABELS = ("Y_De", "Y_Dmu", "Y_Dtau", "Y+11", "Y+22", "ReY+12", "ImY+12", "Y-11", "Y-22", "ReY-12", "ImY-12")
SIGMA1 = jnp.array([[0.0, 1.0], [1.0, 0.0]], dtype=complex)


class KineticOptions(eqx.Module):
    """Physics switches (kinetics.md §2.3, §4, §8).

    Attributes:
        source_term: include S_eq = dY_eq/dz in the Y+ equation (off, as in the paper and the reference Fortran output).
        sound_speed_factor: use dz/dt = 3c_s² H instead of H (exact T–a relation with varying h_eff; off).
        hnl_decays: add the vacuum decays (3.1) of :mod:`lta_jax.rates.decays` to Γ_N (on; negligible while T ≫ M, they
            matter when the equations run to T ≲ M).
    """

    source_term: bool = eqx.field(static=True, default=False)
    sound_speed_factor: bool = eqx.field(static=True, default=False)
    hnl_decays: bool = eqx.field(static=True, default=True)


class KineticSystem(eqx.Module):
    """Everything the right-hand side needs: parameters, rates, thermodynamics, susceptibilities, options."""

    params: ModelParameters
    rates: RateModel
    thermo: Thermodynamics
    susceptibility: Susceptibility
    options: KineticOptions
    # Y±^α and (hh†)_αα computed once at set-up (not in the right-hand side); stored as real and imaginary parts
    # because diffrax's implicit solvers expect real pytrees.
    bilinears_re: YukawaBilinears
    bilinears_im: YukawaBilinears
    # Rest-frame decay matrix of (3.1) in the h-basis (lta_jax.rates.decays), real and imaginary parts; zero when off.
    decays_re: Float[Array, "2 2"]
    decays_im: Float[Array, "2 2"]

    def __init__(self, params, rates, thermo, susceptibility, options: KineticOptions | None = None):
        self.params = params
        self.rates = rates
        self.thermo = thermo
        self.susceptibility = susceptibility
        self.options = KineticOptions() if options is None else options
        b = yukawa_bilinears(params)
        self.bilinears_re = jax.tree_util.tree_map(jnp.real, b)
        self.bilinears_im = jax.tree_util.tree_map(jnp.imag, b)
        if self.options.hnl_decays:
            d = decay_matrix(params.mass, yukawas(params)) + 0j
        else:
            d = jnp.zeros((2, 2), dtype=complex)
        self.decays_re, self.decays_im = jnp.real(d), jnp.imag(d)

    @property
    def bilinears(self) -> YukawaBilinears:
        re, im = self.bilinears_re, self.bilinears_im
        return YukawaBilinears(y_plus=re.y_plus + 1j * im.y_plus, y_minus=re.y_minus + 1j * im.y_minus,
                               hh_dagger=re.hh_dagger)

    def temperature(self, z):
        """T = M e^{−z} [GeV] (6.1a)."""
        return self.params.mass * jnp.exp(-z)

    def __call__(self, z, x, args=None):
        return kinetic_rhs(z, x, self)


def state_to_matrices(x: Float[Array, "11"]):
    """Split the real state into (Y_Δ (3,), Y+ (2×2 Hermitian), Y− (2×2 Hermitian))."""
    y_delta = x[0:3]

    def herm(a11, a22, re12, im12):
        off = re12 + 1j * im12
        return jnp.array([[a11 + 0j, off], [jnp.conj(off), a22 + 0j]])

    return y_delta, herm(*x[3:7]), herm(*x[7:11])


def matrices_to_state(d_delta, d_plus, d_minus) -> Float[Array, "11"]:
    """Inverse of :func:`state_to_matrices` for the (Hermitian) time derivatives."""
    def parts(m):
        return [jnp.real(m[0, 0]), jnp.real(m[1, 1]), jnp.real(m[0, 1]), jnp.imag(m[0, 1])]

    return jnp.concatenate([jnp.real(d_delta), jnp.stack(parts(d_plus)), jnp.stack(parts(d_minus))])


class RateMatrices(eqx.Module):
    """Rate and Hamiltonian matrices of kinetics.md §2.4 at one temperature (all in GeV)."""

    gamma_nu: Float[Array, "3"]  # Γ_να
    gamma_tilde_N: Complex[Array, "3 2 2"]  # Γ̃^α_N
    gamma_tilde_nu: Complex[Array, "3 2 2"]  # Γ̃_να
    gamma_N: Complex[Array, "2 2"]  # Γ_N
    hamiltonian: Complex[Array, "2 2"]  # H_N


def rate_matrices(coeffs: RateCoefficients, bilinears: YukawaBilinears, delta_mass) -> RateMatrices:
    """Build Γ_να, Γ̃^α_N, Γ̃_να, Γ_N and H_N from the seven coefficients (kinetics.md §2.4, 1808.10833 (6.3), (6.9)).

        Γ_να  = (γ̄_ν+ + γ̄_ν−) (hh†)_αα
        Γ̃^α_N = −γ̄_ν+ Y+^α + γ̄_ν− Y−^α
        Γ̃_να  = −γ̄_N+ (Y+^α)ᵀ + γ̄_N− (Y−^α)ᵀ        (the transposes are required by the conservation laws)
        Γ_N   = γ̄_N+ Σα Y+^α + γ̄_N− Σα Y−^α
        H_N   = ΔM h̄0 σ1 + h̄+ Σα Y+^α + h̄− Σα Y−^α
    """
    yp, ym = bilinears.y_plus, bilinears.y_minus
    yp_t, ym_t = jnp.swapaxes(yp, -1, -2), jnp.swapaxes(ym, -1, -2)
    sum_p, sum_m = jnp.sum(yp, axis=0), jnp.sum(ym, axis=0)
    return RateMatrices(
        gamma_nu=(coeffs.gamma_nu_plus + coeffs.gamma_nu_minus) * bilinears.hh_dagger,
        gamma_tilde_N=-coeffs.gamma_nu_plus * yp + coeffs.gamma_nu_minus * ym,
        gamma_tilde_nu=-coeffs.gamma_N_plus * yp_t + coeffs.gamma_N_minus * ym_t,
        gamma_N=coeffs.gamma_N_plus * sum_p + coeffs.gamma_N_minus * sum_m,
        hamiltonian=delta_mass * coeffs.h_zero * SIGMA1 + coeffs.h_plus * sum_p + coeffs.h_minus * sum_m,
    )


def _comm(a, b):
    return a @ b - b @ a


def _anti(a, b):
    return a @ b + b @ a


def averaged_equations(mats: RateMatrices, omega_tilde, y_delta, y_plus, y_minus):
    """Time derivatives H dY/dz of (Y_Δα, Y+, Y−) without the source term (kinetics.md §2.3). Re/Im are element-wise.

        H dY_Δα/dz = −(1/6) Γ_να w_α + 2i Tr(Y+ Im Γ̃_να) − Tr(Y− Re Γ̃_να)
        H dY+/dz   = −i[Re H_N, Y+] + ½[Im H_N, Y−] − ½{Re Γ_N, Y+} − (i/4){Im Γ_N, Y−} − (i/12) Σα Im Γ̃^α_N w_α
        H dY−/dz   = 2[Im H_N, Y+] − i[Re H_N, Y−] − i{Im Γ_N, Y+} − ½{Re Γ_N, Y−} − (1/6) Σα Re Γ̃^α_N w_α
    with w_α = Σβ ω̃_αβ Y_Δβ.
    """
    w = omega_tilde @ y_delta
    re_h, im_h = jnp.real(mats.hamiltonian) + 0j, jnp.imag(mats.hamiltonian) + 0j
    re_g, im_g = jnp.real(mats.gamma_N) + 0j, jnp.imag(mats.gamma_N) + 0j
    re_gt_nu, im_gt_nu = jnp.real(mats.gamma_tilde_nu) + 0j, jnp.imag(mats.gamma_tilde_nu) + 0j
    re_gt_n, im_gt_n = jnp.real(mats.gamma_tilde_N) + 0j, jnp.imag(mats.gamma_tilde_N) + 0j

    tr_plus = jnp.einsum("ij,aji->a", y_plus, im_gt_nu)
    tr_minus = jnp.einsum("ij,aji->a", y_minus, re_gt_nu)
    d_delta = -mats.gamma_nu * w / 6 + 2j * tr_plus - tr_minus

    source_plus = jnp.einsum("aij,a->ij", im_gt_n, w)
    source_minus = jnp.einsum("aij,a->ij", re_gt_n, w)
    d_plus = (-1j * _comm(re_h, y_plus) + 0.5 * _comm(im_h, y_minus) - 0.5 * _anti(re_g, y_plus)
              - 0.25j * _anti(im_g, y_minus) - (1j / 12) * source_plus)
    d_minus = (2 * _comm(im_h, y_plus) - 1j * _comm(re_h, y_minus) - 1j * _anti(im_g, y_plus)
               - 0.5 * _anti(re_g, y_minus) - source_minus / 6)
    return d_delta, d_plus, d_minus


def expansion_rate(system: KineticSystem, temperature):
    """dz/dt: H (paper default) or 3 c_s² H with ``sound_speed_factor`` (kinetics.md §4)."""
    hubble = system.thermo.hubble_rate(temperature)
    if system.options.sound_speed_factor:
        hubble = 3 * system.thermo.sound_speed_squared(temperature) * hubble
    return hubble


def equilibrium_source(system: KineticSystem, z):
    """S_eq = dY_eq/dz at z (exact derivative by forward-mode AD of Y_eq(T(z)))."""
    def y_eq(zz):
        return equilibrium_yield(system.thermo, system.temperature(zz), system.params.mass)

    return jax.jvp(y_eq, (z,), (jnp.ones_like(z),))[1]


def kinetic_rhs(z, x, system: KineticSystem) -> Float[Array, "11"]:
    """dx/dz of the 11 averaged kinetic equations at z = ln(M/T) (kinetics.md §2.3)."""
    temperature = system.temperature(z)
    coeffs = system.rates(temperature, system.params.mass)
    mats = rate_matrices(coeffs, system.bilinears, system.params.delta_mass)
    if system.options.hnl_decays:
        # (3.1): rest-frame widths times the thermal time dilation ⟨M/E⟩ = M⟨1/E_N⟩ = −h̄0.
        decays = -coeffs.h_zero * (system.decays_re + 1j * system.decays_im)
        mats = eqx.tree_at(lambda m: m.gamma_N, mats, mats.gamma_N + decays)
    omega_tilde = system.susceptibility(temperature)
    y_delta, y_plus, y_minus = state_to_matrices(x)
    d_delta, d_plus, d_minus = averaged_equations(mats, omega_tilde, y_delta, y_plus, y_minus)
    dxdz = matrices_to_state(d_delta, d_plus, d_minus) / expansion_rate(system, temperature)
    if system.options.source_term:
        s_eq = equilibrium_source(system, z)
        dxdz = dxdz - s_eq * jnp.array([0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0], dtype=float)
    return dxdz


def initial_state(system: KineticSystem, t_start) -> Float[Array, "11"]:
    """No HNLs and no asymmetries at T0: Y_Δ = 0, Y− = 0, Y+ = −Y_eq·1 (kinetics.md §2.5)."""
    y_eq = equilibrium_yield(system.thermo, t_start, system.params.mass)
    return jnp.zeros(11).at[3].set(-y_eq).at[4].set(-y_eq)


def conserved_combinations(x):
    """(L+, L−) = (Δ_N − Σα Y_Δα, Δ_N + Σα Y_Δα) with Δ_N = Tr Y− ((4.4); kinetics.md §7.4)."""
    delta_n = x[..., 7] + x[..., 8]
    y_l = x[..., 0] + x[..., 1] + x[..., 2]
    return delta_n - y_l, delta_n + y_l
