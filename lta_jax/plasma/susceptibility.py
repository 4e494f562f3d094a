"""Chemical potentials of the asymmetries Δα = Lα − B/3: the matrix ω̃(T) = T² ω, μα = ω_αβ n_Δβ (docs/physics.md §3).

The μα entering the kinetic equations is the chemical potential of N ↔ Lα Φ, μα = μ_Lα + μ_Φ. It equals the potential
conjugate to the charge Δα in chemical equilibrium, so ω̃ is the inverse of the 3×3 Δ-block of the susceptibility
matrix, with the other conserved charges (hypercharge Y, weak isospin T3, and baryon number B once sphalerons are
off) constrained to zero.

The in-house model (:func:`in_house_susceptibility`) solves that linear-response problem with

* every SM species as a free Bose/Fermi gas with its T-dependent mass (n_i = g_i μ_i T² c(m_i/T)/6 for fermions, twice
  that for bosons, docs/physics.md §3), charges (Y, T3, B, Lα) and all Yukawa and strong-sphaleron reactions in
  equilibrium (implicit in writing μ_i as a combination of conserved-charge potentials);
* the Higgs condensate as a reservoir of the charge of φ⁰: its pressure (v²/2) μ_φ0² (v in the 246-GeV normalisation)
  adds v² to the susceptibility of μ_φ0 = (μ_Y − μ_3)/2. This reproduces the x = v²/T² dependence of B/(B−L) of
  Burnier, Laine, Shaposhnikov (hep-ph/0511246), χ = 4(77 + 27x)/(869 + 333x), exactly for massless fermions (a test);
* weak sphalerons in equilibrium above T_sph and switched off below (B becomes conserved, n_B = 0), joined by a logistic
  step of width ``sphaleron_width`` in T (the reference table steps between 130 and 129 GeV).

Limits: symmetric phase ω̃ = (1/237)[[514, 40, 40], …]; Higgs phase at 10 GeV ≲ T ≪ m_W ω̃ → (1/69)[[158, 20, 20], …]
(tests). A user table in the format of docs/rate-table-format.md can replace the model.
"""

from __future__ import annotations

import functools
import math
import pathlib

import equinox as eqx
import interpax
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from lta_jax.cache import cached_arrays, cached_spline
from lta_jax.model import constants as c
from lta_jax.plasma.electroweak import higgs_vev

#: ω̃ in the symmetric phase with sphalerons (docs/physics.md §3): (1/237)[[514, 40, 40], …].
OMEGA_SYMMETRIC = np.array([[514, 40, 40], [40, 514, 40], [40, 40, 514]]) / 237.0
#: ω̃ in the Higgs phase with sphalerons off, W/Z/h/t decoupled (docs/physics.md §3): (1/69)[[158, 20, 20], …].
OMEGA_HIGGS = np.array([[158, 20, 20], [20, 158, 20], [20, 20, 158]]) / 69.0

# ------------------------------------------------------------------------------------------------------------------
# Species: (name, dof g, is_fermion, Y, T3, B, (L_e, L_mu, L_tau), mass function of v(T)/v0 [GeV])
# dof counts colour and helicity of the particle; n_i − n̄_i = g μ T² c(m/T)/6 (fermions) or g μ T² c(m/T)/3 (bosons).
# ------------------------------------------------------------------------------------------------------------------

_GENERATIONS = (
    # up mass, down mass, charged-lepton mass
    (c.M_UP, c.M_DOWN, c.M_ELECTRON),
    (c.M_CHARM, c.M_STRANGE, c.M_MUON),
    (c.M_TOP, c.M_BOTTOM, c.M_TAU),
)


def _species():
    out = []
    for gen, (m_u, m_d, m_l) in enumerate(_GENERATIONS):
        lep = [0, 0, 0]
        lep[gen] = 1
        lep = tuple(lep)
        none = (0, 0, 0)
        out += [
            (f"uL{gen}", 3, True, 1 / 6, +0.5, 1 / 3, none, m_u),
            (f"dL{gen}", 3, True, 1 / 6, -0.5, 1 / 3, none, m_d),
            (f"uR{gen}", 3, True, 2 / 3, 0.0, 1 / 3, none, m_u),
            (f"dR{gen}", 3, True, -1 / 3, 0.0, 1 / 3, none, m_d),
            (f"nu{gen}", 1, True, -1 / 2, +0.5, 0.0, lep, 0.0),
            (f"eL{gen}", 1, True, -1 / 2, -0.5, 0.0, lep, m_l),
            (f"eR{gen}", 1, True, -1.0, 0.0, 0.0, lep, m_l),
        ]
    out += [
        # Higgs doublet: φ+ becomes the longitudinal W+ (mass m_W), φ0 the neutral Higgs/Goldstone (mass m_h).
        ("phi+", 1, False, 1 / 2, +0.5, 0.0, (0, 0, 0), c.M_W),
        ("phi0", 1, False, 1 / 2, -0.5, 0.0, (0, 0, 0), c.M_HIGGS),
        # Transverse W+ (2 polarisations); W− is its antiparticle.
        ("W+", 2, False, 0.0, +1.0, 0.0, (0, 0, 0), c.M_W),
    ]
    return out


SPECIES = _species()
_DOF = np.array([s[1] for s in SPECIES], dtype=float)
_FERMION = np.array([s[2] for s in SPECIES])
_VACUUM_MASS = np.array([s[7] for s in SPECIES])
# Charges in the basis (Δe, Δμ, Δτ, B, Y, T3): Δα = Lα − B/3.
_CHARGES = np.array([[lep[0] - b / 3, lep[1] - b / 3, lep[2] - b / 3, b, y, t3]
                     for (_, _, _, y, t3, b, lep, _) in SPECIES])

_GL_X, _GL_W = np.polynomial.legendre.leggauss(64)
_Y_NODES = jnp.asarray(0.5 * 40 * (_GL_X + 1))
_Y_WEIGHTS = jnp.asarray(0.5 * 40 * _GL_W)


def fermion_susceptibility_factor(x: ArrayLike) -> Float[Array, "..."]:
    """c_F(x) = (6/π²) ∫ dy y² e^E/(e^E + 1)², E = √(y² + x²); c_F(0) = 1 (docs/physics.md §3)."""
    x = jnp.asarray(x)[..., None]
    energy = jnp.sqrt(_Y_NODES**2 + x**2)
    # e^E/(e^E+1)² = 1/(4 cosh²(E/2)), overflow-safe.
    integrand = _Y_NODES**2 / (4 * jnp.cosh(jnp.minimum(energy, 600.0) / 2) ** 2)
    return 6 / math.pi**2 * jnp.sum(_Y_WEIGHTS * integrand, axis=-1)


def boson_susceptibility_factor(x: ArrayLike) -> Float[Array, "..."]:
    """c_B(x) = (3/π²) ∫ dy y² e^E/(e^E − 1)², normalised to c_B(0) = 1 (docs/physics.md §3)."""
    x = jnp.asarray(x)[..., None]
    energy = jnp.sqrt(_Y_NODES**2 + x**2)
    # e^E/(e^E−1)² = 1/(4 sinh²(E/2)); the y → 0, x = 0 end is integrable (y²/E² → 1).
    integrand = _Y_NODES**2 / (4 * jnp.sinh(jnp.clip(energy, 1e-30, 600.0) / 2) ** 2)
    return 3 / math.pi**2 * jnp.sum(_Y_WEIGHTS * integrand, axis=-1)


def species_susceptibilities(temperature, v_ratio) -> Float[Array, "n"]:
    """χ_i/T² = n_i/(μ_i T²) for every species, with masses m_i = m_i^vac · v(T)/v0 (docs/physics.md §3)."""
    x = jnp.asarray(_VACUUM_MASS) * v_ratio / temperature
    fermi = _DOF / 6 * fermion_susceptibility_factor(x)
    bose = _DOF / 3 * boson_susceptibility_factor(x)
    return jnp.where(jnp.asarray(_FERMION), fermi, bose)


def omega_from_equilibrium(chi_species, condensate_x, sphaleron_on) -> Float[Array, "3 3"]:
    """ω̃ = T²ω from species susceptibilities (units of T²), the condensate x = v²/T² (246-GeV normalisation) and the
    sphaleron weight ``sphaleron_on`` ∈ [0, 1] (1: B not conserved, 0: B conserved with n_B = 0).

    The full susceptibility matrix in the charge basis (Δe, Δμ, Δτ, B, Y, T3) is Σ_i χ_i q_i q_iᵀ plus the condensate
    term x · q_φ0 q_φ0ᵀ. With sphalerons on, μ_B = 0 (B is not a conserved charge); with them off, n_B = 0 is imposed.
    Both are special cases of a penalty on μ_B: the B-row is kept with weight s/(1−s)-free form below.
    """
    q = jnp.asarray(_CHARGES)
    chi = (q.T * chi_species) @ q
    q_phi0 = jnp.asarray([0.0, 0.0, 0.0, 0.0, 0.5, -0.5])
    chi = chi + condensate_x * jnp.outer(q_phi0, q_phi0)
    # Conserved-charge sets: with sphalerons on, drop B (μ_B = 0); off, keep it (n_B = 0). Constraints n_Y = n_T3 = 0.
    omega_on = _schur_inverse(chi, keep_b=False)
    omega_off = _schur_inverse(chi, keep_b=True)
    # Interpolate the chemical potentials (not the densities) between the two regimes.
    return sphaleron_on * omega_on + (1 - sphaleron_on) * omega_off


def _schur_inverse(chi, keep_b: bool):
    """ω̃ = [χ_ΔΔ − χ_ΔC χ_CC⁻¹ χ_CΔ]⁻¹, C = constrained charges (B if kept, Y, T3)."""
    idx_c = jnp.array([3, 4, 5]) if keep_b else jnp.array([4, 5])
    idx_d = jnp.array([0, 1, 2])
    a = chi[jnp.ix_(idx_d, idx_d)]
    b = chi[jnp.ix_(idx_d, idx_c)]
    d = chi[jnp.ix_(idx_c, idx_c)]
    schur = a - b @ jnp.linalg.solve(d, b.T)
    return jnp.linalg.inv(schur)


def baryon_fraction(chi_species, condensate_x) -> Float[Array, ""]:
    """B/(B−L) in equilibrium with sphalerons on (hep-ph/0511246; 28/79 at x = 0).

    For a small B−L, n_Δα = n_{B−L}/3 each; B = Σ_i B_i χ_i μ_i with μ = ω̃ n_Δ.
    """
    q = jnp.asarray(_CHARGES)
    chi = (q.T * chi_species) @ q
    q_phi0 = jnp.asarray([0.0, 0.0, 0.0, 0.0, 0.5, -0.5])
    chi = chi + condensate_x * jnp.outer(q_phi0, q_phi0)
    # Solve for all potentials with μ_B = 0: unknowns (μ_Δ, μ_Y, μ_3) with n_Δα = −1/3 (so B − L = −Σ Δ = 1), n_Y = n_3 = 0.
    idx = jnp.array([0, 1, 2, 4, 5])
    sub = chi[jnp.ix_(idx, idx)]
    rhs = jnp.array([-1 / 3, -1 / 3, -1 / 3, 0.0, 0.0])
    mu = jnp.linalg.solve(sub, rhs)
    n_b = chi[3, idx] @ mu
    return n_b  # B − L = 1


class Susceptibility(eqx.Module):
    """Callable ω̃(T) = T² ω(T) (3×3, dimensionless), μα/T = Σβ ω̃_αβ n_Δβ/T³ (docs/physics.md §3)."""

    def __call__(self, temperature: ArrayLike) -> Float[Array, "3 3"]:
        raise NotImplementedError

    def check_range(self, t_low: float, t_high: float) -> None:
        """Raise ``ValueError`` if the model is not valid on [t_low, t_high]."""


class ConstantSusceptibility(Susceptibility):
    """A T-independent ω̃ (e.g. :data:`OMEGA_SYMMETRIC` or :data:`OMEGA_HIGGS`)."""

    matrix: Float[Array, "3 3"]

    def __call__(self, temperature):
        return self.matrix


class EquilibriumSusceptibility(Susceptibility):
    """The in-house linear-response model described in the module docstring.

    Attributes:
        t_sphaleron: temperature [GeV] where weak sphalerons switch off (docs/physics.md §5: 131.7 GeV; the reference
            table's step lies between 130 and 129 GeV, so the default centre is 129.5 GeV).
        sphaleron_width: width [GeV] of the logistic switch.
    """

    t_sphaleron: float = 129.5
    sphaleron_width: float = 0.3

    def __call__(self, temperature):
        temperature = jnp.asarray(temperature, dtype=float)
        v = higgs_vev(temperature)
        chi = species_susceptibilities(temperature, v / c.V0)
        condensate_x = 2 * v**2 / temperature**2  # v_246² / T²
        on = jax.nn.sigmoid((temperature - self.t_sphaleron) / self.sphaleron_width)
        return omega_from_equilibrium(chi, condensate_x, on)

    def check_range(self, t_low, t_high):
        if t_low < 1.0:
            raise ValueError(f"the in-house susceptibility model treats quarks as free and is not valid below 1 GeV "
                             f"(requested {t_low:g} GeV); load a table with --susceptibility")


class TabulatedSusceptibility(Susceptibility):
    """ω̃(T) from a table in the format of docs/rate-table-format.md ("Other user tables"), linear in T (docs/physics.md §3).

    Columns: T [GeV], a/T², b/T², c·T², d·T² with ω̃ = [[c, d, d], [d, c, d], [d, d, c]].
    """

    temperatures: Float[Array, "n"]
    diagonal: Float[Array, "n"]
    off_diagonal: Float[Array, "n"]
    label: str = eqx.field(static=True, default="table")

    def __call__(self, temperature):
        cdiag = jnp.interp(temperature, self.temperatures, self.diagonal)
        doff = jnp.interp(temperature, self.temperatures, self.off_diagonal)
        return doff * jnp.ones((3, 3)) + (cdiag - doff) * jnp.eye(3)

    def check_range(self, t_low, t_high):
        # Above the table ω̃ is continued as a constant: in the symmetric phase it does not depend on T
        # (docs/physics.md §3; the reference table is constant from 151 GeV up). Below the table we refuse.
        lo = float(self.temperatures[0])
        if t_low < lo * (1 - 1e-12):
            raise ValueError(f"temperature {t_low:g} GeV is below the susceptibility table '{self.label}' "
                             f"(which starts at {lo:g} GeV)")


def susceptibility_from_table(path: str | pathlib.Path) -> TabulatedSusceptibility:
    """Load a susceptibility table (format of docs/rate-table-format.md)."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"susceptibility table not found: {path}")
    try:
        data = np.loadtxt(path, comments="#", ndmin=2)
    except ValueError as err:
        raise ValueError(f"malformed susceptibility table {path}: {err}") from err
    if data.shape[1] != 5 or data.shape[0] < 2 or not np.all(np.isfinite(data)):
        raise ValueError(f"malformed susceptibility table {path}: expected ≥ 2 rows of 5 finite columns "
                         f"(T/GeV, a/T², b/T², c·T², d·T²), got shape {data.shape}")
    data = data[np.argsort(data[:, 0])]
    if np.any(np.diff(data[:, 0]) <= 0):
        raise ValueError(f"malformed susceptibility table {path}: duplicate temperatures")
    return TabulatedSusceptibility(jnp.asarray(data[:, 0]), jnp.asarray(data[:, 3]), jnp.asarray(data[:, 4]),
                                   label=path.name)


def _susceptibility_grid() -> np.ndarray:
    """ln T nodes for :class:`InterpolatedSusceptibility`: 20 per e-fold over 1 GeV–10⁶ GeV, plus a uniform 0.05-GeV
    grid over 120–170 GeV that resolves the electroweak crossover and the 0.3-GeV sphaleron step."""
    coarse = np.linspace(0.0, math.log(1e6), 20 * 14 + 1)
    fine = np.log(np.arange(120.0, 170.0 + 1e-9, 0.05))
    nodes = np.unique(np.concatenate([coarse[(coarse < fine[0]) | (coarse > fine[-1])], fine]))
    return nodes


def _evaluate_on_grid(model: Susceptibility, ln_t) -> np.ndarray:
    """ω̃ at T = exp(ln_t), shape (n, 3, 3): one compiled evaluation over the grid (op by op it was ~80 small
    compilations, 5 s of a cold start)."""
    return np.asarray(jax.jit(jax.vmap(model))(jnp.exp(jnp.asarray(ln_t))))


class InterpolatedSusceptibility(Susceptibility):
    """A susceptibility model tabulated once at set-up and interpolated (cubic spline in ln T) in the right-hand side.

    The in-house linear-response model costs ~150 µs per call (24 species, 64-node quadratures, two Schur inverses),
    about half of a right-hand-side evaluation; ω̃ depends on T only, so it belongs in set-up. Above the grid (10⁶ GeV)
    ω̃ is held constant (symmetric phase: every mass ∝ T). Interpolation error ≤ 1e-6 relative (a test).
    """

    spline: interpax.Interpolator1D
    t_low: float = eqx.field(static=True)
    t_high: float = eqx.field(static=True)
    source: Susceptibility = eqx.field(static=True)

    @staticmethod
    def from_model(model: Susceptibility, ln_t=None, values=None) -> "InterpolatedSusceptibility":
        """Tabulate ``model`` on ``ln_t`` (default :func:`_susceptibility_grid`); ``values`` (shape (n, 3, 3)) skips
        the evaluation when the table is already known."""
        ln_t = _susceptibility_grid() if ln_t is None else np.asarray(ln_t)
        values = _evaluate_on_grid(model, ln_t) if values is None else values
        return InterpolatedSusceptibility(cached_spline(ln_t, values.reshape(len(ln_t), 9)),
                                          float(np.exp(ln_t[0])), float(np.exp(ln_t[-1])), model)

    def __call__(self, temperature):
        ln_t = jnp.clip(jnp.log(jnp.asarray(temperature, dtype=float)), math.log(self.t_low), math.log(self.t_high))
        return self.spline(ln_t).reshape(jnp.shape(ln_t) + (3, 3))

    def check_range(self, t_low, t_high):
        self.source.check_range(t_low, t_high)
        if t_low < self.t_low * (1 - 1e-12):
            raise ValueError(f"temperature {t_low:g} GeV is below the tabulated susceptibility ({self.t_low:g} GeV)")


@functools.lru_cache(maxsize=None)
def in_house_susceptibility() -> InterpolatedSusceptibility:
    """The package's default susceptibility model: :class:`EquilibriumSusceptibility` tabulated at set-up."""
    model = EquilibriumSusceptibility()
    ln_t = _susceptibility_grid()
    # ≈ 2 s (compilation of the species sums), a function of the package's code only: kept in the on-disk cache.
    table = cached_arrays("susceptibility", (model.t_sphaleron, model.sphaleron_width),
                          ("plasma/susceptibility.py", "plasma/electroweak.py", "model/constants.py"),
                          lambda: {"values": _evaluate_on_grid(model, ln_t)})
    return InterpolatedSusceptibility.from_model(model, ln_t, table["values"])
