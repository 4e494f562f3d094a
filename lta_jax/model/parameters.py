"""Model parameters and the Casas–Ibarra Yukawa couplings of two heavy neutral leptons (docs/physics.md §1).

The six parameters of the paper (arXiv:2011.12637, §2) are the common mass M, the splitting ΔM (half the Majorana
splitting: M2,3 = M ∓ ΔM), the complex Casas–Ibarra angle ω = Re ω + i Im ω and the PMNS phases δ (Dirac) and η
(Majorana, P = diag(1, e^{iη}, 1)), plus the light-neutrino hierarchy (normal "NH" or inverted "IH").

All functions here are pure JAX functions of a :class:`ModelParameters` pytree, so they can be differentiated and
vmapped; the hierarchy is a static field (it changes the array structure of Ω).
"""

from __future__ import annotations

import math
from typing import Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Complex, Float

from lta_jax.model.constants import EV, V0
from lta_jax.model.validity import HIERARCHIES, check_hierarchy, check_parameter_values, parse_angle  # noqa: F401  (re-exported)

Hierarchy = Literal["NH", "IH"]


class NeutrinoData(eqx.Module):
    """Oscillation data (NuFIT 3.2, 2018; docs/physics.md §1.2), angles in degrees, mass splittings in eV².

    ``dm2_3l`` is Δm²_31 for NH (> 0) and Δm²_32 for IH (< 0). Defaults reproduce (A.3) of the paper.
    """

    theta12: float = 33.62
    theta13: float = 8.54
    theta23: float = 47.2
    dm2_21: float = 7.40e-5
    dm2_3l: float = 2.494e-3

    @staticmethod
    def nufit32(hierarchy: str) -> "NeutrinoData":
        """NuFIT 3.2 best fit for ``hierarchy`` ("NH" or "IH"), docs/physics.md §1.2."""
        check_hierarchy(hierarchy)
        if hierarchy == "NH":
            return NeutrinoData(33.62, 8.54, 47.2, 7.40e-5, 2.494e-3)
        return NeutrinoData(33.62, 8.58, 48.1, 7.40e-5, -2.465e-3)


def light_masses(hierarchy: str, data: NeutrinoData) -> np.ndarray:
    """Light-neutrino masses (m1, m2, m3) in GeV with the lightest one massless (docs/physics.md §1.2)."""
    check_hierarchy(hierarchy)
    if hierarchy == "NH":
        if data.dm2_3l <= 0:
            raise ValueError("normal hierarchy needs dm2_3l = Δm²_31 > 0")
        m = [0.0, math.sqrt(data.dm2_21), math.sqrt(data.dm2_3l)]
    else:
        if data.dm2_3l >= 0:
            raise ValueError("inverted hierarchy needs dm2_3l = Δm²_32 < 0")
        a = -data.dm2_3l
        m = [math.sqrt(a - data.dm2_21), math.sqrt(a), 0.0]
    return np.array(m) * EV


def heavy_light_masses(hierarchy: str, data: NeutrinoData) -> tuple[float, float]:
    """(m_h, m_l): the heavier and lighter of the two massive light neutrinos [GeV]."""
    m = np.sort(light_masses(hierarchy, data))
    return float(m[2]), float(m[1])


class ModelParameters(eqx.Module):
    """The six νMSM parameters of one point (arrays so that they can be traced, batched and differentiated).

    Attributes:
        mass: common HNL mass M [GeV].
        delta_mass: ΔM [GeV]; the Majorana masses are M ∓ ΔM (docs/physics.md §1.1).
        im_omega, re_omega: imaginary and real part of the Casas–Ibarra angle ω.
        delta, eta: Dirac and Majorana PMNS phases [rad] (docs/physics.md §1.3).
        hierarchy: "NH" or "IH" (static).
        neutrino_data: oscillation data (static), NuFIT 3.2 by default.
        v0: Higgs vev in the 174-GeV normalisation [GeV] (static).
    """

    mass: Float[Array, ""]
    delta_mass: Float[Array, ""]
    im_omega: Float[Array, ""]
    re_omega: Float[Array, ""]
    delta: Float[Array, ""]
    eta: Float[Array, ""]
    hierarchy: str = eqx.field(static=True, default="NH")
    neutrino_data: NeutrinoData = eqx.field(static=True, default=None)
    v0: float = eqx.field(static=True, default=V0)

    def __init__(
        self,
        mass,
        delta_mass,
        im_omega=0.0,
        re_omega=math.pi / 2,
        delta=0.0,
        eta=0.0,
        hierarchy: str = "NH",
        neutrino_data: NeutrinoData | None = None,
        v0: float = V0,
    ):
        check_hierarchy(hierarchy)
        self.mass = jnp.asarray(mass, dtype=float)
        self.delta_mass = jnp.asarray(delta_mass, dtype=float)
        self.im_omega = jnp.asarray(im_omega, dtype=float)
        self.re_omega = jnp.asarray(re_omega, dtype=float)
        self.delta = jnp.asarray(delta, dtype=float)
        self.eta = jnp.asarray(eta, dtype=float)
        self.hierarchy = hierarchy
        self.neutrino_data = NeutrinoData.nufit32(hierarchy) if neutrino_data is None else neutrino_data
        self.v0 = float(v0)

    def as_dict(self) -> dict:
        """Plain-float dictionary of the inputs (for JSON output)."""
        return {
            "M": float(self.mass),
            "delta_M": float(self.delta_mass),
            "im_omega": float(self.im_omega),
            "re_omega": float(self.re_omega),
            "delta": float(self.delta),
            "eta": float(self.eta),
            "hierarchy": self.hierarchy,
            "v0": self.v0,
        }


def validate_parameters(params: ModelParameters) -> None:
    """Raise ``ValueError`` for unphysical concrete inputs (before any compilation), ``TypeError`` for traced ones.

    Rejects non-finite values, M ≤ 0, ΔM ≤ 0 and ΔM ≥ M (the heavier-lighter ordering M2 < M3 needs ΔM < M).
    """
    names = ("mass", "delta_mass", "im_omega", "re_omega", "delta", "eta")
    values = {}
    for name in names:
        if isinstance(getattr(params, name), jax.core.Tracer):
            raise TypeError(
                f"{name} is being traced (jax.grad, jax.jit, jax.vmap, ...), but this entry point checks concrete inputs "
                "and returns NumPy results, so it cannot be differentiated or traced. Derivatives: "
                "lta_jax.observables_and_jacobian, or the pure maps lta_jax.solver.gradients.make_observable_map "
                "(averaged or resolved kinetics) and lta_jax.solver.chiral.make_chiral_map (chiral extension), which "
                "take jax.grad/jvp/vmap; batches: lta_jax.solve_batch.")
        value = np.asarray(getattr(params, name))
        if value.shape != ():
            raise ValueError(f"{name} must be a scalar for a single solve (got shape {value.shape}); "
                             "use lta_jax.solve_batch for arrays")
        values[name] = float(value)
    check_parameter_values(**values)
    if params.v0 <= 0 or not math.isfinite(params.v0):
        raise ValueError(f"v0 must be positive and finite, got {params.v0!r}")


def pmns_matrix(params: ModelParameters) -> Complex[Array, "3 3"]:
    """PMNS matrix U = R23 · U13(δ) · R12 · diag(1, e^{iη}, 1) in the PDG convention (docs/physics.md §1.3)."""
    d = params.neutrino_data
    t12, t13, t23 = (math.radians(a) for a in (d.theta12, d.theta13, d.theta23))
    c12, s12, c13, s13, c23, s23 = (math.cos(t12), math.sin(t12), math.cos(t13), math.sin(t13),
                                    math.cos(t23), math.sin(t23))
    r23 = jnp.array([[1, 0, 0], [0, c23, s23], [0, -s23, c23]], dtype=complex)
    e_minus = jnp.exp(-1j * params.delta)
    u13 = jnp.array([[c13, 0, 0], [0, 1, 0], [0, 0, c13]], dtype=complex)
    u13 = u13.at[0, 2].set(s13 * e_minus).at[2, 0].set(-s13 * jnp.conj(e_minus))
    r12 = jnp.array([[c12, s12, 0], [-s12, c12, 0], [0, 0, 1]], dtype=complex)
    majorana = jnp.diag(jnp.array([1.0, 0.0, 1.0], dtype=complex).at[1].set(jnp.exp(1j * params.eta)))
    return r23 @ u13 @ r12 @ majorana


def casas_ibarra_omega(params: ModelParameters) -> Complex[Array, "3 2"]:
    """The 3×2 orthogonal matrix Ω(ω) of the Casas–Ibarra parametrisation, ξ = +1 (docs/physics.md §1.4)."""
    omega = params.re_omega + 1j * params.im_omega
    c, s = jnp.cos(omega), jnp.sin(omega)
    zero = jnp.zeros((), dtype=complex)
    if params.hierarchy == "NH":
        rows = [[zero, zero], [c, s], [-s, c]]
    else:
        rows = [[c, s], [-s, c], [zero, zero]]
    return jnp.array([[r[0], r[1]] for r in rows])


def majorana_masses(params: ModelParameters) -> Float[Array, "2"]:
    """(M2, M3) = (M − ΔM, M + ΔM) [GeV] (docs/physics.md §1.1)."""
    return jnp.stack([params.mass - params.delta_mass, params.mass + params.delta_mass])


def yukawas(params: ModelParameters) -> Complex[Array, "3 2"]:
    """Yukawa matrix F_αI in the HNL mass basis (Casas–Ibarra, docs/physics.md §1.4).

    F = (i / v0) U diag(√m1, √m2, √m3) Ω diag(√M2, √M3); rows α = e, μ, τ, columns N2, N3.
    """
    m_light = jnp.asarray(light_masses(params.hierarchy, params.neutrino_data))
    sqrt_m = jnp.sqrt(m_light).astype(complex)
    sqrt_M = jnp.sqrt(majorana_masses(params)).astype(complex)
    u = pmns_matrix(params)
    return (1j / params.v0) * (u * sqrt_m[None, :]) @ casas_ibarra_omega(params) * sqrt_M[None, :]


def mixing_angles(params: ModelParameters) -> Complex[Array, "3 2"]:
    """Active–sterile mixing Θ_αI = v0 F_αI / M_I (paper §2)."""
    return params.v0 * yukawas(params) / majorana_masses(params)[None, :]


def flavour_mixings(params: ModelParameters) -> Float[Array, "3"]:
    """U_α² = Σ_I |Θ_αI|² for α = e, μ, τ (docs/physics.md §1.5)."""
    return jnp.sum(jnp.abs(mixing_angles(params)) ** 2, axis=1)


def total_mixing(params: ModelParameters) -> Float[Array, ""]:
    """U² = Σ_αI |Θ_αI|² (computed from F; equals (m_h + m_l) cosh(2 Im ω)/M, corrected (5.2), docs/physics.md §1.5)."""
    return jnp.sum(flavour_mixings(params))


#: U_N = (1/√2) [[−i, i], [1, 1]]: rotation to the "h-basis" of 1808.10833 (6.9) (docs/physics.md §1.6).
U_N = np.array([[-1j, 1j], [1, 1]]) / math.sqrt(2.0)


def h_basis_yukawas(params: ModelParameters) -> Complex[Array, "3 2"]:
    """h = F · U_N; column 0 is labelled "2", column 1 "3" (docs/physics.md §1.6)."""
    return yukawas(params) @ jnp.asarray(U_N)


class YukawaBilinears(eqx.Module):
    """Flavour-resolved Hermitian 2×2 bilinears of the h-basis Yukawas (docs/physics.md §1.6).

    ``y_plus[α]`` = Y+^α = [[|h_α3|², −h_α3 h*_α2], [−h_α2 h*_α3, |h_α2|²]],
    ``y_minus[α]`` = Y−^α = [[|h_α2|², −h_α3 h*_α2], [−h_α2 h*_α3, |h_α3|²]],
    ``hh_dagger`` = (hh†)_αα = |h_α2|² + |h_α3|².
    """

    y_plus: Complex[Array, "3 2 2"]
    y_minus: Complex[Array, "3 2 2"]
    hh_dagger: Float[Array, "3"]


def yukawa_bilinears(params: ModelParameters) -> YukawaBilinears:
    """The h-basis bilinears Y±^α and (hh†)_αα used by the rate matrices (docs/physics.md §1.6, 1808.10833 (6.9))."""
    return bilinears_from_h_basis(h_basis_yukawas(params))


def bilinears_from_h_basis(h: Complex[Array, "3 2"]) -> YukawaBilinears:
    """Y±^α and (hh†)_αα of :func:`yukawa_bilinears` from h-basis Yukawas h = F U_N (columns "2", "3"; docs/physics.md
    §1.6) given directly — e.g. the pseudo-Dirac limit h_α2 = 0 of docs/physics.md §7.5."""
    h2, h3 = h[:, 0], h[:, 1]
    a2, a3 = jnp.abs(h2) ** 2, jnp.abs(h3) ** 2
    off = -h3 * jnp.conj(h2)  # (1,2) element; the (2,1) element is its conjugate −h_α2 h*_α3
    y_plus = jnp.stack([jnp.stack([a3 + 0j, off], -1), jnp.stack([jnp.conj(off), a2 + 0j], -1)], -2)
    y_minus = jnp.stack([jnp.stack([a2 + 0j, off], -1), jnp.stack([jnp.conj(off), a3 + 0j], -1)], -2)
    return YukawaBilinears(y_plus=y_plus, y_minus=y_minus, hh_dagger=a2 + a3)


def physical_mass_splitting_vacuum(params: ModelParameters) -> Float[Array, ""]:
    """δM(T = 0) from (4.8): δM² = ΔM² + ΔM (m_h − m_l) cos 2Re ω + (m_h − m_l)²/4 (docs/physics.md §7.1).

    δM is half the physical splitting, like ΔM. For IH, (m3, m2) → (m2, m1).
    """
    m_h, m_l = heavy_light_masses(params.hierarchy, params.neutrino_data)
    dm = m_h - m_l
    return jnp.sqrt(params.delta_mass**2 + params.delta_mass * dm * jnp.cos(2 * params.re_omega) + dm**2 / 4)
