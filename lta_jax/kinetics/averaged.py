"""The 11 momentum-averaged kinetic equations (docs/physics.md §2.3–2.4; paper (2.2)/(6.1) averaged with ρ ∝ ρ_eq).

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
    """Physics switches (docs/physics.md §2.3, §4, §8).

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

    def __init__(self, params, rates, thermo, susceptibility, options: KineticOptions | None = None,
                 derived: tuple | None = None):
        """``derived``: the output of :func:`derived_arrays` for these parameters and options, when already known (the
        command line reads it from a cached program instead of tracing its set-up)."""
        self.params = params
        self.rates = rates
        self.thermo = thermo
        self.susceptibility = susceptibility
        self.options = KineticOptions() if options is None else options
        derived = derived_arrays(params, self.options) if derived is None else derived
        self.bilinears_re, self.bilinears_im, self.decays_re, self.decays_im = derived

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


def derived_arrays(params: ModelParameters, options: KineticOptions):
    """What :class:`KineticSystem` computes from the parameters at set-up: the Yukawa bilinears (real and imaginary
    parts, docs/physics.md §1.6) and the rest-frame decay matrix of (3.1) (real and imaginary parts; zero when
    ``options.hnl_decays`` is off)."""
    b = yukawa_bilinears(params)
    if options.hnl_decays:
        d = decay_matrix(params.mass, yukawas(params)) + 0j
    else:
        d = jnp.zeros((2, 2), dtype=complex)
    return (jax.tree_util.tree_map(jnp.real, b), jax.tree_util.tree_map(jnp.imag, b), jnp.real(d), jnp.imag(d))


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
    """Rate and Hamiltonian matrices of docs/physics.md §2.4 at one temperature (all in GeV)."""

    gamma_nu: Float[Array, "3"]  # Γ_να
    gamma_tilde_N: Complex[Array, "3 2 2"]  # Γ̃^α_N
    gamma_tilde_nu: Complex[Array, "3 2 2"]  # Γ̃_να
    gamma_N: Complex[Array, "2 2"]  # Γ_N
    hamiltonian: Complex[Array, "2 2"]  # H_N


def rate_matrices(coeffs: RateCoefficients, bilinears: YukawaBilinears, delta_mass) -> RateMatrices:
    """Build Γ_να, Γ̃^α_N, Γ̃_να, Γ_N and H_N from the seven coefficients (docs/physics.md §2.4, 1808.10833 (6.3), (6.9)).

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
    """Time derivatives H dY/dz of (Y_Δα, Y+, Y−) without the source term (docs/physics.md §2.3). Re/Im are element-wise.

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
    """dz/dt: H (paper default) or 3 c_s² H with ``sound_speed_factor`` (docs/physics.md §4)."""
    hubble = system.thermo.hubble_rate(temperature)
    if system.options.sound_speed_factor:
        hubble = 3 * system.thermo.sound_speed_squared(temperature) * hubble
    return hubble


def equilibrium_source(system: KineticSystem, z):
    """S_eq = dY_eq/dz at z (exact derivative by forward-mode AD of Y_eq(T(z)))."""
    def y_eq(zz):
        return equilibrium_yield(system.thermo, system.temperature(zz), system.params.mass)

    return jax.jvp(y_eq, (z,), (jnp.ones_like(z),))[1]


def system_rate_matrices(system: KineticSystem, coeffs: RateCoefficients) -> RateMatrices:
    """The rate matrices the equations of ``system`` use: :func:`rate_matrices` plus, with ``hnl_decays``, the vacuum
    decays (3.1) in Γ_N."""
    mats = rate_matrices(coeffs, system.bilinears, system.params.delta_mass)
    if system.options.hnl_decays:
        # (3.1): rest-frame widths times the thermal time dilation ⟨M/E⟩ = M⟨1/E_N⟩ = −h̄0.
        decays = -coeffs.h_zero * (system.decays_re + 1j * system.decays_im)
        mats = eqx.tree_at(lambda m: m.gamma_N, mats, mats.gamma_N + decays)
    return mats


def _linear_part(system: KineticSystem, coeffs: RateCoefficients, omega_tilde, x) -> Float[Array, "11"]:
    """H dx/dz without the source term: linear in x, linear in the seven coefficients, affine in ω̃."""
    mats = system_rate_matrices(system, coeffs)
    y_delta, y_plus, y_minus = state_to_matrices(x)
    d_delta, d_plus, d_minus = averaged_equations(mats, omega_tilde, y_delta, y_plus, y_minus)
    return matrices_to_state(d_delta, d_plus, d_minus)


_SOURCE_DIRECTION = jnp.array([0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0], dtype=float)


def kinetic_rhs(z, x, system: KineticSystem) -> Float[Array, "11"]:
    """dx/dz of the 11 averaged kinetic equations at z = ln(M/T) (docs/physics.md §2.3)."""
    temperature = system.temperature(z)
    coeffs = system.rates(temperature, system.params.mass)
    omega_tilde = system.susceptibility(temperature)
    dxdz = _linear_part(system, coeffs, omega_tilde, x) / expansion_rate(system, temperature)
    if system.options.source_term:
        dxdz = dxdz - equilibrium_source(system, z) * _SOURCE_DIRECTION
    return dxdz


class GeneratorBasis(eqx.Module):
    """The matrix of the linear system, dx/dz = A(z) x − S_eq(z) e, as constant matrices of one parameter point:

        H(z) A(z) = Σ_k c_k(z) P_k + Σ_k Σ_ab c_k(z) ω̃_ab(z) Q_kab,

    with c the seven rate coefficients and ω̃ the susceptibility matrix at T(z). The right-hand side is linear in c and,
    for fixed c, affine in ω̃ (ω̃ enters only through w = ω̃ Y_Δ), so this is exact. Built once per solve from
    :func:`_linear_part` (70 Jacobians); afterwards A(z) costs a 70-term contraction instead of tracing the rate physics
    and the 2×2 matrix algebra at every stage (:func:`kinetic_generator`).
    """

    p: Float[Array, "7 11 11"]
    q: Float[Array, "7 9 11 11"]

    @property
    def matrix(self) -> Float[Array, "70 121"]:
        """(P_k, Q_kab) stacked as rows, for A = (c, c ⊗ ω̃) · matrix / H."""
        return jnp.concatenate([self.p.reshape(7, 121), self.q.reshape(63, 121)], axis=0)

    @staticmethod
    def build(system: KineticSystem) -> "GeneratorBasis":
        zero_x = jnp.zeros(11)
        unit_c = jnp.eye(7)
        unit_w = jnp.eye(9).reshape(9, 3, 3)

        def a_of(c, w):
            return jax.jacfwd(lambda x: _linear_part(system, RateCoefficients(*c), w, x))(zero_x)

        p = jax.vmap(lambda c: a_of(c, jnp.zeros((3, 3))))(unit_c)
        q = jax.vmap(lambda c: jax.vmap(lambda w: a_of(c, w))(unit_w))(unit_c) - p[:, None]
        return GeneratorBasis(p, q)


def kinetic_generator(z, system: KineticSystem, basis: GeneratorBasis) -> Float[Array, "12 12"]:
    """G(z) = [[A(z), b(z)], [0, 0]] of dx/dz = A x + b from :class:`GeneratorBasis` (equal to the Jacobian of
    :func:`kinetic_rhs` and its value at x = 0, to round-off; tests check it)."""
    temperature = system.temperature(z)
    c = jnp.stack(list(system.rates(temperature, system.params.mass)))
    w = system.susceptibility(temperature).reshape(9)
    # One (70)·(70 × 121) product: u = (c, c ⊗ ω̃).
    u = jnp.concatenate([c, (c[:, None] * w[None, :]).reshape(63)]) / expansion_rate(system, temperature)
    a = (u @ basis.matrix).reshape(11, 11)
    b = jnp.zeros(11)
    if system.options.source_term:
        b = -equilibrium_source(system, z) * _SOURCE_DIRECTION
    top = jnp.concatenate([a, b[:, None]], axis=1)
    return jnp.concatenate([top, jnp.zeros((1, 12))], axis=0)


def initial_state(system: KineticSystem, t_start) -> Float[Array, "11"]:
    """No HNLs and no asymmetries at T0: Y_Δ = 0, Y− = 0, Y+ = −Y_eq·1 (docs/physics.md §2.5)."""
    y_eq = equilibrium_yield(system.thermo, t_start, system.params.mass)
    return jnp.zeros(11).at[3].set(-y_eq).at[4].set(-y_eq)


def conserved_combinations(x):
    """(L+, L−) = (Δ_N − Σα Y_Δα, Δ_N + Σα Y_Δα) with Δ_N = Tr Y− ((4.4); docs/physics.md §7.4)."""
    delta_n = x[..., 7] + x[..., 8]
    y_l = x[..., 0] + x[..., 1] + x[..., 2]
    return delta_n - y_l, delta_n + y_l


def l_plus_rate(coeffs: RateCoefficients, bilinears: YukawaBilinears, omega_tilde, x):
    """H dL+/dz of the right-hand side above, written out (docs/physics.md §7.4); it contains only the
    fermion-number-conserving coefficients γ̄_ν+, γ̄_N+ — every γ̄−, h̄± and ΔM term cancels between Tr dY− and
    Σα dY_Δα:

        H dL+/dz = (1/3) γ̄_ν+ Σα (hh†)_αα w_α − 2 γ̄_N+ Tr(Y− Re Σα Y+^α) − 4i γ̄_N+ Tr(Y+ Im Σα Y+^α),

    without the source term (it only moves Tr Y+) and without the vacuum decays (``hnl_decays`` adds them to Γ_N
    alone, so they move Δ_N without a partner in Y_Δα). Tests compare it with :func:`kinetic_rhs`.
    """
    y_delta, y_plus, y_minus = state_to_matrices(x)
    w = omega_tilde @ y_delta
    sum_p = jnp.sum(bilinears.y_plus, axis=0)
    re_p, im_p = jnp.real(sum_p) + 0j, jnp.imag(sum_p) + 0j
    value = (coeffs.gamma_nu_plus / 3 * jnp.sum(bilinears.hh_dagger * w)
             - 2 * coeffs.gamma_N_plus * jnp.trace(y_minus @ re_p)
             - 4j * coeffs.gamma_N_plus * jnp.trace(y_plus @ im_p))
    return jnp.real(value)


def pseudo_dirac_charge(x, orientation=1.0):
    """Q = Σα Y_Δα + s (Y−₁₁ − Y−₂₂), the lepton number of the pseudo-Dirac pair (docs/physics.md §7.5).

    In the limit where one h-basis column of the Yukawas vanishes (h_α2 → 0 for Im ω ≫ 1, s = +1; h_α3 → 0 for
    Im ω ≪ −1, s = −1) and ΔM → 0, every term of :func:`kinetic_rhs` conserves Q exactly, whatever the seven rate
    coefficients and ω̃ (tests). With ΔM ≠ 0 the vacuum term ΔM h̄0 σ1 of H_N breaks it:
    H dQ/dz = −4 s ΔM h̄0 Im Y−₁₂ (:func:`lta_jax.solver.diagnostics.pseudo_dirac_breaking_over_hubble` gives the
    resulting decay rate of Q)."""
    y_l = x[..., 0] + x[..., 1] + x[..., 2]
    return y_l + orientation * (x[..., 7] - x[..., 8])
