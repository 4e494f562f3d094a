"""Standard-Model thermodynamics: g_eff(T), h_eff(T), c_s²(T), entropy density, Hubble rate (docs/plasma.md §1).

The default is the package's own model (:func:`in_house_thermodynamics`): the pressure p(T) of the SM plasma is built
from free-gas sums with a QCD treatment (docs/plasma.md §1.4) and everything else follows from derivatives of
ln p(ln T) (thermodynamic consistency, smooth c_s²):

    s = dp/dT,  ρ = T s − p,  g_eff = 30 ρ / (π² T⁴),  h_eff = 45 s / (2π² T³),  c_s² = [3 + d ln h_eff / d ln T]⁻¹.

The model is tabulated once in NumPy (a few ms) on a fine grid in ln T and evaluated in JAX with a C²-smooth spline, so
that all quantities are differentiable functions of T. A user table in the Laine–Meyer column format
(arXiv:1503.04935, "eos15") can replace it (:func:`thermodynamics_from_table`).

Units: GeV.
"""

from __future__ import annotations

import functools
import math
import pathlib

import equinox as eqx
import interpax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from lta_jax.cache import cached_arrays, cached_spline
from lta_jax.model import constants as c

# --------------------------------------------------------------------------------------------------------------------
# Free-gas building blocks (NumPy, set-up time only)
# --------------------------------------------------------------------------------------------------------------------

# Gauss–Legendre nodes on y ∈ [0, 60] in three panels: accurate to < 1e-10 for x = m/T ≤ 60 (heavier species are zero).
_Y_PANELS = [(0.0, 2.0), (2.0, 12.0), (12.0, 60.0)]
_GL_X, _GL_W = np.polynomial.legendre.leggauss(48)
_Y_NODES = np.concatenate([0.5 * (b - a) * _GL_X + 0.5 * (b + a) for a, b in _Y_PANELS])
_Y_WEIGHTS = np.concatenate([0.5 * (b - a) * _GL_W for a, b in _Y_PANELS])


def free_pressure_over_t4(x: np.ndarray, dof: float, fermion: bool) -> np.ndarray:
    """p/T⁴ of a free gas with g = ``dof`` and x = m/T (docs/plasma.md §1.4 item 1).

    p/T⁴ = g/(6π²) ∫ dy y⁴ / (E (e^E + η)),  E = √(y² + x²), η = +1 fermions, −1 bosons.
    """
    x = np.asarray(x, dtype=float)[..., None]
    y = _Y_NODES
    energy = np.sqrt(y**2 + x**2)
    eta = 1.0 if fermion else -1.0
    with np.errstate(over="ignore"):
        integrand = y**4 / (energy * (np.exp(energy) + eta))
    integrand = np.where(np.isfinite(integrand), integrand, 0.0)
    return dof / (6 * math.pi**2) * np.sum(integrand * _Y_WEIGHTS, axis=-1)


def free_energy_density_over_t4(x: np.ndarray, dof: float, fermion: bool) -> np.ndarray:
    """ρ/T⁴ = g/(2π²) ∫ dy y² E / (e^E + η) of a free gas with x = m/T."""
    x = np.asarray(x, dtype=float)[..., None]
    y = _Y_NODES
    energy = np.sqrt(y**2 + x**2)
    eta = 1.0 if fermion else -1.0
    with np.errstate(over="ignore"):
        integrand = y**2 * energy / (np.exp(energy) + eta)
    integrand = np.where(np.isfinite(integrand), integrand, 0.0)
    return dof / (2 * math.pi**2) * np.sum(integrand * _Y_WEIGHTS, axis=-1)


# --------------------------------------------------------------------------------------------------------------------
# Strong coupling
# --------------------------------------------------------------------------------------------------------------------

ALPHA_S_MZ = 0.118  # α_s(M_Z) (docs/plasma.md §1.4 item 4)


def alpha_s(mu: np.ndarray) -> np.ndarray:
    """Two-loop running α_s(μ) from α_s(M_Z) = 0.118 with flavour thresholds at m_c, m_b, m_t (docs/plasma.md §1.4).

    The argument is frozen at μ ≥ 1 GeV. Integrated numerically in ln μ² once (set-up time only).
    """
    mu = np.maximum(np.asarray(mu, dtype=float), 1.0)
    grid, values = _alpha_s_table()
    return np.interp(np.log(mu), grid, values)


@functools.lru_cache(maxsize=1)
def _alpha_s_table() -> tuple[np.ndarray, np.ndarray]:
    grid = np.linspace(math.log(1.0), math.log(2e5), 3000)  # ln μ
    i_mz = np.searchsorted(grid, math.log(c.M_Z))
    grid = np.insert(grid, i_mz, math.log(c.M_Z))
    thresholds = np.log([c.M_CHARM, c.M_BOTTOM, c.M_TOP])

    def beta(lnmu, a):
        nf = 3 + np.sum(lnmu > thresholds)
        b0 = 11 - 2 * nf / 3
        b1 = 102 - 38 * nf / 3
        # dα/d ln μ = 2 dα/d ln μ² = −2 (b0 α²/(4π) + b1 α³/(16π²))
        return -2 * (b0 * a**2 / (4 * math.pi) + b1 * a**3 / (16 * math.pi**2))

    values = np.empty_like(grid)
    values[i_mz] = ALPHA_S_MZ
    for direction in (+1, -1):  # RK4 away from M_Z in both directions
        i = i_mz
        while 0 <= i + direction < len(grid):
            h = grid[i + direction] - grid[i]
            a, t = values[i], grid[i]
            k1 = beta(t, a)
            k2 = beta(t + h / 2, a + h * k1 / 2)
            k3 = beta(t + h / 2, a + h * k2 / 2)
            k4 = beta(t + h, a + h * k3)
            values[i + direction] = a + h * (k1 + 2 * k2 + 2 * k3 + k4) / 6
            i += direction
    return grid, values


# --------------------------------------------------------------------------------------------------------------------
# QCD sector
# --------------------------------------------------------------------------------------------------------------------

#: Hadron-resonance gas: (mass [GeV], degeneracy incl. spin, isospin and antiparticles, is_fermion); PDG masses of the
#: light (u, d, s) mesons and baryons up to ≈1.7 GeV (docs/plasma.md §1.4 item 3).
HADRONS = [
    (0.1380, 3, False), (0.4957, 4, False), (0.5479, 1, False), (0.7753, 9, False), (0.7827, 3, False),
    (0.8917, 12, False), (0.9578, 1, False), (0.9900, 1, False), (0.9800, 3, False), (1.0195, 3, False),
    (1.1660, 3, False), (1.2295, 9, False), (1.2300, 9, False), (1.2755, 5, False), (1.2819, 3, False),
    (1.2940, 1, False), (1.3000, 3, False), (1.2530, 12, False), (1.3182, 15, False), (1.3500, 1, False),
    (1.4030, 12, False), (1.4140, 12, False), (1.4250, 4, False), (1.4273, 20, False), (1.4650, 9, False),
    (1.4264, 3, False), (1.4100, 3, False), (1.4089, 1, False), (1.5060, 1, False), (1.5174, 5, False),
    (1.6700, 3, False), (1.6670, 7, False), (1.6706, 15, False), (1.6800, 3, False), (1.6888, 21, False),
    (1.7200, 9, False), (1.7180, 12, False),
    (0.9389, 8, True), (1.2320, 32, True), (1.1157, 4, True), (1.1930, 12, True), (1.3180, 8, True),
    (1.3828, 24, True), (1.5318, 16, True), (1.6725, 8, True), (1.4050, 4, True), (1.5195, 8, True),
    (1.4400, 8, True), (1.5150, 16, True), (1.5300, 8, True), (1.5700, 32, True), (1.6100, 16, True),
    (1.6500, 8, True), (1.6750, 24, True), (1.6850, 24, True), (1.6000, 4, True), (1.6740, 4, True),
    (1.6600, 12, True), (1.6900, 8, True), (1.6750, 24, True),
]

# HotQCD 2+1-flavour parametrisation (Bazavov et al., arXiv:1407.6387 eq. 16; coefficients as in docs/plasma.md §1.4).
_HOTQCD = dict(tc=0.154, ct=3.8706, an=-8.7704, bn=3.9200, dn=0.3419, t0=0.9761, ad=-1.2600, bd=0.8425, dd=-0.0475)

#: Empirical suppression of the free QCD pressure (quarks and gluons) above a few GeV:
#:     p_QCD → p_QCD,free · [1 − QCD_SUPPRESSION · S(T)],  S(T) = ½[1 + tanh(ln(T/T_s)/w)].
#: docs/plasma.md §1.4 suggests a factor [1 − α_s(2πT)/π] tuned to the Borsanyi lattice compilation. Against the
#: paper's thermodynamics (Laine–Meyer eos15, refs. [83, 84]) that shape fails: eos15 is within 0.2 % of a free gas at
#: 1–1.5 GeV (the lattice interaction measure keeps e/T⁴ close to Stefan–Boltzmann there) while it lies 2.6–2.9 % of the
#: QCD pressure below the free gas from 5 GeV to 100 TeV — a nearly constant fraction, which a running α_s cannot
#: reproduce. The three constants below were fitted (least squares, max deviation of g_eff and h_eff over 1–10⁴ GeV) to
#: eos15 and give ≤ 0.8 % there (tests/test_thermodynamics.py measures it).
QCD_SUPPRESSION = 0.0191
QCD_SUPPRESSION_ONSET = (2.37, 0.466)  # (T_s [GeV], w)

#: Centre (GeV) and width (in ln T) of the blend HotQCD → free QCD gas, and of the blend HRG → HotQCD (T linear).
PERTURBATIVE_BLEND = (0.583, 0.15)
HADRONIC_BLEND = (0.125, 0.010)


def qcd_correction(temperature: np.ndarray) -> np.ndarray:
    """Multiplicative correction 1 − QCD_SUPPRESSION · S(T) applied to every free quark and gluon pressure."""
    t_s, w = QCD_SUPPRESSION_ONSET
    return 1 - QCD_SUPPRESSION * 0.5 * (1 + np.tanh(np.log(np.asarray(temperature) / t_s) / w))


def hotqcd_pressure_over_t4(temperature: np.ndarray) -> np.ndarray:
    """p/T⁴ of 2+1-flavour QCD from the HotQCD parametrisation (arXiv:1407.6387 eq. 16)."""
    q = _HOTQCD
    t = np.asarray(temperature) / q["tc"]
    p_id = 95 * math.pi**2 / 180
    num = p_id + q["an"] / t + q["bn"] / t**2 + q["dn"] / t**4
    den = 1 + q["ad"] / t + q["bd"] / t**2 + q["dd"] / t**4
    return 0.5 * (1 + np.tanh(q["ct"] * (t - q["t0"]))) * num / den


def hadron_gas_pressure_over_t4(temperature: np.ndarray) -> np.ndarray:
    """p/T⁴ of the hadron-resonance gas (free Bose/Fermi gases of :data:`HADRONS`)."""
    t = np.asarray(temperature, dtype=float)
    return sum(free_pressure_over_t4(m / t, g, f) for m, g, f in HADRONS)


def light_qcd_pressure_over_t4(temperature: np.ndarray) -> np.ndarray:
    """u, d, s, g pressure blended HRG → HotQCD → perturbative (docs/plasma.md §1.4 item 3)."""
    t = np.asarray(temperature, dtype=float)
    correction = qcd_correction(t)
    perturbative = (free_pressure_over_t4(0 * t, 16, False) + free_pressure_over_t4(c.M_UP / t, 12, True)
                    + free_pressure_over_t4(c.M_DOWN / t, 12, True)
                    + free_pressure_over_t4(c.M_STRANGE / t, 12, True)) * correction
    centre, width = PERTURBATIVE_BLEND
    w_pert = 0.5 * (1 + np.tanh(np.log(t / centre) / width))
    centre_h, width_h = HADRONIC_BLEND
    w_qgp = 0.5 * (1 + np.tanh((t - centre_h) / width_h))
    qgp = w_pert * perturbative + (1 - w_pert) * hotqcd_pressure_over_t4(t)
    return w_qgp * qgp + (1 - w_qgp) * hadron_gas_pressure_over_t4(t)


#: Non-QCD species: (mass [GeV], dof, is_fermion) (docs/plasma.md §1.4 item 1). Neutrinos are added separately.
ELECTROWEAK_SPECIES = [
    (0.0, 2, False),  # photon
    (c.M_W, 6, False), (c.M_Z, 3, False), (c.M_HIGGS, 1, False),
    (c.M_ELECTRON, 4, True), (c.M_MUON, 4, True), (c.M_TAU, 4, True),
]
HEAVY_QUARKS = [c.M_CHARM, c.M_BOTTOM, c.M_TOP]

#: Instantaneous neutrino decoupling temperature [GeV] (docs/plasma.md §1.4 item 5).
T_NEUTRINO_DECOUPLING = 1.9e-3


def sm_pressure_over_t4(temperature: np.ndarray) -> np.ndarray:
    """Total SM p/T⁴ with neutrinos in equilibrium (valid above neutrino decoupling)."""
    t = np.asarray(temperature, dtype=float)
    p = sum(free_pressure_over_t4(m / t, g, f) for m, g, f in ELECTROWEAK_SPECIES)
    p = p + free_pressure_over_t4(0 * t, 6, True)  # three left-handed neutrinos + antineutrinos
    correction = qcd_correction(t)
    p = p + sum(free_pressure_over_t4(m / t, 12, True) for m in HEAVY_QUARKS) * correction
    return p + light_qcd_pressure_over_t4(t)


def _photon_electron_dof(temperature: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(g, h) of photons + e± (massive electrons), exact free gas."""
    x = c.M_ELECTRON / np.asarray(temperature)
    p = free_pressure_over_t4(0 * x, 2, False) + free_pressure_over_t4(x, 4, True)
    rho = free_energy_density_over_t4(0 * x, 2, False) + free_energy_density_over_t4(x, 4, True)
    return 30 / math.pi**2 * rho, 45 / (2 * math.pi**2) * (rho + p)


def in_house_dof_table(n_points: int = 3000, t_min: float = 1e-5, t_max: float = 1e5):
    """Tabulate (ln T, g_eff, h_eff, c_s²) of the in-house model on a uniform grid in ln T (NumPy)."""
    from scipy.interpolate import CubicSpline  # here, not at import: 0.6 s of every command, used on a cache miss only

    ln_t = np.linspace(math.log(t_min), math.log(t_max), n_points)
    t = np.exp(ln_t)
    ln_p = np.log(sm_pressure_over_t4(t)) + 4 * ln_t  # ln p
    spline = CubicSpline(ln_t, ln_p)
    dlnp = spline(ln_t, 1)
    p_over_t4 = np.exp(ln_p - 4 * ln_t)
    s_over_t3 = p_over_t4 * dlnp  # s = p/T · d ln p / d ln T
    rho_over_t4 = s_over_t3 - p_over_t4
    g = 30 / math.pi**2 * rho_over_t4
    h = 45 / (2 * math.pi**2) * s_over_t3
    # Neutrino decoupling (docs/plasma.md §1.4 item 5): below T_d neutrinos keep their own temperature T_ν.
    below = t < T_NEUTRINO_DECOUPLING
    g_ge, h_ge = _photon_electron_dof(t[below])
    _, h_ge_d = _photon_electron_dof(np.array([T_NEUTRINO_DECOUPLING]))
    tnu3 = h_ge / h_ge_d[0]  # (T_ν/T)³
    g_low = g_ge + 7 / 8 * 6 * tnu3 ** (4 / 3)
    h_low = h_ge + 7 / 8 * 6 * tnu3
    # Join continuously: above T_d the equilibrium model includes the (massive-quark) remainders, so rescale the
    # low-T branch to match at T_d (the mismatch is < 0.1 %).
    i_d = np.searchsorted(t, T_NEUTRINO_DECOUPLING)
    g[below] = g_low * g[i_d] / (g_ge[-1] + 7 / 8 * 6 * tnu3[-1] ** (4 / 3)) if below.any() else g[below]
    h[below] = h_low * h[i_d] / (h_ge[-1] + 7 / 8 * 6 * tnu3[-1]) if below.any() else h[below]
    cs2 = 1.0 / (3.0 + CubicSpline(ln_t, np.log(h))(ln_t, 1))
    return ln_t, g, h, cs2


# --------------------------------------------------------------------------------------------------------------------
# The JAX-side model
# --------------------------------------------------------------------------------------------------------------------


class Thermodynamics(eqx.Module):
    """Degrees of freedom g_eff(T), h_eff(T) and c_s²(T) as smooth functions of T (cubic splines in ln T).

    Build with :func:`in_house_thermodynamics` (default) or :func:`thermodynamics_from_table`. All methods take T in GeV.
    """

    ln_g: interpax.Interpolator1D
    ln_h: interpax.Interpolator1D
    cs2: interpax.Interpolator1D
    t_min: float = eqx.field(static=True)
    t_max: float = eqx.field(static=True)
    label: str = eqx.field(static=True)

    def __init__(self, ln_t, g_eff, h_eff, cs2, label: str):
        ln_t = np.asarray(ln_t, dtype=float)
        self.ln_g = cached_spline(ln_t, np.log(np.asarray(g_eff)))
        self.ln_h = cached_spline(ln_t, np.log(np.asarray(h_eff)))
        self.cs2 = cached_spline(ln_t, np.asarray(cs2, dtype=float))
        self.t_min = float(np.exp(ln_t[0]))
        self.t_max = float(np.exp(ln_t[-1]))
        self.label = label

    def g_eff(self, temperature: ArrayLike) -> Float[Array, "..."]:
        """Energy degrees of freedom, ρ = (π²/30) g_eff T⁴."""
        return jnp.exp(self.ln_g(jnp.log(temperature)))

    def h_eff(self, temperature: ArrayLike) -> Float[Array, "..."]:
        """Entropy degrees of freedom, s = (2π²/45) h_eff T³."""
        return jnp.exp(self.ln_h(jnp.log(temperature)))

    def sound_speed_squared(self, temperature: ArrayLike) -> Float[Array, "..."]:
        """c_s² = [3 + d ln h_eff / d ln T]⁻¹ (docs/plasma.md §1.1)."""
        return self.cs2(jnp.log(temperature))

    def entropy_density(self, temperature: ArrayLike) -> Float[Array, "..."]:
        """s = (2π²/45) h_eff T³ [GeV³]."""
        return 2 * math.pi**2 / 45 * self.h_eff(temperature) * temperature**3

    def planck_mass_m0(self, temperature: ArrayLike) -> Float[Array, "..."]:
        """M0(T) = M_Pl √(45 / (4π³ g_eff)) [GeV], so that H = T²/M0 (docs/physics.md §4)."""
        return c.M_PLANCK * jnp.sqrt(45 / (4 * math.pi**3 * self.g_eff(temperature)))

    def hubble_rate(self, temperature: ArrayLike) -> Float[Array, "..."]:
        """H = T²/M0(T) [GeV] for a radiation-dominated universe (docs/physics.md §4)."""
        return temperature**2 / self.planck_mass_m0(temperature)

    def check_range(self, t_low: float, t_high: float) -> None:
        """Raise ``ValueError`` if [t_low, t_high] is not inside the tabulated range."""
        if t_low < self.t_min * (1 - 1e-12) or t_high > self.t_max * (1 + 1e-12):
            raise ValueError(f"temperatures {t_low:g}–{t_high:g} GeV are outside the range "
                             f"{self.t_min:g}–{self.t_max:g} GeV of the thermodynamics model '{self.label}'")


@functools.lru_cache(maxsize=None)
def in_house_thermodynamics() -> Thermodynamics:
    """The package's own SM thermodynamics model for 1e-5 ≤ T ≤ 1e5 GeV (docs/plasma.md §1.4)."""
    # ≈ 1 s of free-gas sums, a function of the package's code only: kept in the on-disk cache (lta_jax.cache).
    table = cached_arrays("dof", (), ("plasma/thermodynamics.py", "model/constants.py"),
                          lambda: dict(zip(("ln_t", "g", "h", "cs2"), in_house_dof_table())))
    ln_t, g, h, cs2 = (table[k] for k in ("ln_t", "g", "h", "cs2"))
    return Thermodynamics(ln_t, g, h, cs2, label="in-house")


def read_laine_meyer_table(path: str | pathlib.Path) -> dict[str, np.ndarray]:
    """Read a table in the Laine–Meyer eos15 column format (arXiv:1503.04935).

    Columns: T [MeV], p/T⁴, e/T⁴, s/T³, c/T³, w = p/e, c_s², g_eff, h_eff, i_eff; '#' starts a comment line.
    Returns T in GeV (ascending), g_eff, h_eff and c_s².
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"thermodynamics table not found: {path}")
    try:
        data = np.loadtxt(path, comments="#", ndmin=2)
    except ValueError as err:
        raise ValueError(f"malformed thermodynamics table {path}: {err}") from err
    if data.shape[1] < 9 or data.shape[0] < 4:
        raise ValueError(f"malformed thermodynamics table {path}: expected ≥ 4 rows of ≥ 9 columns "
                         f"(T/MeV, p/T⁴, e/T⁴, s/T³, c/T³, w, c_s², g_eff, h_eff), got shape {data.shape}")
    if not np.all(np.isfinite(data[:, :9])):
        raise ValueError(f"malformed thermodynamics table {path}: non-finite entries")
    order = np.argsort(data[:, 0])
    data = data[order]
    t = data[:, 0] * 1e-3
    if np.any(np.diff(t) <= 0) or np.any(t <= 0):
        raise ValueError(f"malformed thermodynamics table {path}: temperatures must be positive and distinct")
    if np.any(data[:, 7] <= 0) or np.any(data[:, 8] <= 0):
        raise ValueError(f"malformed thermodynamics table {path}: g_eff and h_eff must be positive")
    return {"T": t, "g_eff": data[:, 7], "h_eff": data[:, 8], "cs2": data[:, 6]}


def thermodynamics_from_table(path: str | pathlib.Path) -> Thermodynamics:
    """Thermodynamics from a user table in the Laine–Meyer format (e.g. the eos15 Dec-2019 tabulation)."""
    table = read_laine_meyer_table(path)
    return Thermodynamics(np.log(table["T"]), table["g_eff"], table["h_eff"], table["cs2"],
                          label=f"table:{pathlib.Path(path).name}")


def equilibrium_yield(thermo: Thermodynamics, temperature, mass) -> Float[Array, "..."]:
    """Y_eq = n_eq/s for one helicity state of an HNL of mass M (docs/physics.md §2.1).

    n_eq = ∫ d³k/(2π)³ f_F(E) = T³/(2π²) ∫ dy y² / (e^{√(y²+x²)} + 1), x = M/T (Gauss–Legendre, JAX-traceable).
    """
    x = jnp.asarray(mass / temperature)[..., None]
    y = jnp.asarray(_Y_NODES)
    energy = jnp.sqrt(y**2 + x**2)
    n_over_t3 = jnp.sum(jnp.asarray(_Y_WEIGHTS) * y**2 / (jnp.exp(energy) + 1.0), axis=-1) / (2 * math.pi**2)
    return n_over_t3 * temperature**3 / thermo.entropy_density(temperature)
