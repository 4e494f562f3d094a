"""Vacuum decays of the HNLs (paper §3, (3.1); docs/physics.md §8; docs/plasma.md §2.2).

Partial widths of a Majorana HNL of mass M with mixing U_α² to one flavour, from Bondarenko, Boyarsky, Gorbunov,
Ruchayskiy, arXiv:1805.08567 (formulas as listed in docs/plasma.md §2.2): leptonic three-body channels; hadronic
channels as exclusive single mesons below ≈1.2 GeV and as inclusive quark pairs with QCD corrections above, blended
smoothly in ln M (a differentiable version of the FairShip/1805.08567 switch). The result is expressed as

    Γ(N → all) = a_α(M) G_F² M⁵ U_α² / (96π³)       (Majorana factor 2 included),

with the dimensionless channel count a_α(M) of :func:`channel_counts` (≈1.6 at 0.1 GeV, ≈8 at 1–3 GeV, ≈12.5 at
30 GeV for e/μ mixing). Everything is pure JAX and differentiable in M.

In the kinetic equations the decays add to Γ_N (docs/physics.md §8, paper (3.1), M/E averaged as −h̄0 = M⟨1/E⟩) the
mass-basis-diagonal matrix Γ_I = Σ_α a_α G_F² M⁵ |Θ_αI|²/(96π³), Θ_αI = v0 F_αI/M, written in the h-basis
(:func:`decay_matrix`). Lepton asymmetries from the decays are not included (paper footnote 4).
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from lta_jax.model import constants as c

#: sin²θ_W (docs/plasma.md §2.2: ≈ 0.231).
SIN2_W = 0.231
#: |V_CKM| elements (PDG 2018).
V_UD, V_US, V_UB = 0.97420, 0.2243, 0.00394
V_CD, V_CS, V_CB = 0.218, 0.997, 0.0422
#: Lepton masses e, μ, τ [GeV].
LEPTON_MASSES = (c.M_ELECTRON, c.M_MUON, c.M_TAU)

# Meson channels of 1805.08567 (docs/plasma.md §2.2): (mass [GeV], decay constant f [GeV] or g [GeV²], |V|).
# Charged pseudoscalars P⁺: π, K, D, D_s, B, B_c.
CHARGED_PSEUDOSCALARS = ((0.13957, 0.1302, V_UD), (0.49368, 0.1556, V_US), (1.86966, 0.212, V_CD),
                         (1.96835, 0.249, V_CS), (5.27934, 0.187, V_UB), (6.2749, 0.434, V_CB))
# Neutral pseudoscalars P⁰: π⁰, η, η′, η_c.
NEUTRAL_PSEUDOSCALARS = ((0.13498, 0.1302), (0.54786, 0.0817), (0.95778, -0.0947), (2.9839, 0.237))
# Charged vectors V⁺: ρ, K*, D*, D_s* (g_K* ≈ 0.178 GeV² is [UNVERIFIED] in the specification).
CHARGED_VECTORS = ((0.77526, 0.162, V_UD), (0.89166, 0.178, V_US), (2.01026, 0.535, V_CD), (2.1122, 0.650, V_CS))
# Neutral vectors V⁰: ρ⁰, ω, φ, J/ψ with κ_V.
NEUTRAL_VECTORS = ((0.77526, 0.162, 1 - 2 * SIN2_W), (0.78265, 0.153, 4 / 3 * SIN2_W),
                   (1.019461, 0.234, 4 / 3 * SIN2_W - 1), (3.0969, 1.29, 1 - 8 / 3 * SIN2_W))
#: Quark masses for the inclusive channels [GeV]: u, d, s, c, b.
QUARK_MASSES = {"u": c.M_UP, "d": c.M_DOWN, "s": c.M_STRANGE, "c": c.M_CHARM, "b": c.M_BOTTOM}
CKM = {("u", "d"): V_UD, ("u", "s"): V_US, ("u", "b"): V_UB, ("c", "d"): V_CD, ("c", "s"): V_CS, ("c", "b"): V_CB}
#: Δ_QCD = α_s/π + 5.2(α_s/π)² + 26.4(α_s/π)³ at α_s(M) (2-loop, α_s(M_Z) = 0.118), docs/plasma.md §2.2 [CHECKED];
#: interpolated in ln M.
QCD_MASSES = (1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0)
QCD_CORRECTIONS = (0.32, 0.20, 0.16, 0.13, 0.10, 0.08, 0.06)
#: Centre [GeV] and width (in ln M) of the smooth switch from exclusive to inclusive hadronic widths.
HADRONIC_SWITCH = (1.2, 0.15)

_X, _W = np.polynomial.legendre.leggauss(64)


def kallen(a, b, cc):
    """λ(a, b, c) = a² + b² + c² − 2ab − 2ac − 2bc."""
    return a * a + b * b + cc * cc - 2 * a * b - 2 * a * cc - 2 * b * cc


def _sqrt_pos(x):
    """√x for x > 0, else 0, with finite derivatives everywhere (double-where: closed channels give 0, not NaN)."""
    positive = x > 0
    return jnp.where(positive, jnp.sqrt(jnp.where(positive, x, 1.0)), 0.0)


def three_body_integral(x_u, x_d, x_l):
    """I(x_u, x_d, x_l) of 1805.08567 (docs/plasma.md §2.2), I(0, 0, 0) = 1; zero when closed.

    12 ∫ dx/x (x − x_l² − x_d²)(1 + x_u² − x) λ^{1/2}(x, x_l², x_d²) λ^{1/2}(1, x, x_u²) over
    x ∈ [(x_d + x_l)², (1 − x_u)²]; Gauss–Legendre in t with x = lo + (hi − lo) sin²(πt/2)-like smoothing of the
    square-root end points (substitution x = lo + (hi − lo)(1 − cos θ)/2).

    Broadcasts over the shapes of its arguments (one vectorised evaluation for many channels)."""
    x_u, x_d, x_l = (jnp.asarray(v, dtype=float)[..., None] for v in (x_u, x_d, x_l))
    lo = (x_d + x_l) ** 2
    hi = jnp.where(x_u + x_d + x_l < 1, jnp.maximum((1 - x_u) ** 2, lo), lo)  # closed channel: empty range
    theta = 0.5 * math.pi * (jnp.asarray(_X) + 1)  # θ ∈ (0, π)
    x = lo + (hi - lo) * 0.5 * (1 - jnp.cos(theta))
    jac = (hi - lo) * 0.5 * jnp.sin(theta) * 0.5 * math.pi
    x = jnp.maximum(x, 1e-300)
    f = ((x - x_l**2 - x_d**2) * (1 + x_u**2 - x) * _sqrt_pos(kallen(x, x_l**2, x_d**2))
         * _sqrt_pos(kallen(1.0, x, x_u**2)) / x)
    return 12 * jnp.sum(jnp.asarray(_W) * f * jac, axis=-1)


def _neutral_current_functions(x):
    """f1(x), f2(x) of the ν ℓβ ℓβ / ν q q̄ channels (docs/plasma.md §2.2); zero for x ≥ ½."""
    xs = jnp.minimum(x, 0.4999999)
    root = jnp.sqrt(1 - 4 * xs**2)
    small = xs < 0.01
    xs_safe = jnp.where(small, 0.01, xs)
    log_closed = jnp.log((1 - 3 * xs_safe**2 - (1 - xs_safe**2) * jnp.sqrt(1 - 4 * xs_safe**2))
                         / (xs_safe**2 * (1 + jnp.sqrt(1 - 4 * xs_safe**2))))
    x_tiny = jnp.maximum(xs, 1e-30)
    log_series = jnp.log(x_tiny**4 + 4 * x_tiny**6 + 14 * x_tiny**8)
    big_l = jnp.where(small, log_series, log_closed)
    f1 = (1 - 14 * xs**2 - 2 * xs**4 - 12 * xs**6) * root + 12 * xs**4 * (xs**4 - 1) * big_l
    f2 = xs**2 * (2 + 10 * xs**2 - 12 * xs**4) * root + 6 * xs**4 * (1 - 2 * xs**2 + 2 * xs**4) * big_l
    open_ = x < 0.5
    return jnp.where(open_, f1, 0.0), jnp.where(open_, f2, 0.0)


# Every channel sum below is one vectorised evaluation over (flavour α, channel): the same formulas as a loop over
# channels, but a compiled graph a tenth the size (the decay matrix is part of every solve's set-up; unrolled, the
# channel sums were a second of XLA compilation in every fresh process).
_LEPTON_MASSES = np.asarray(LEPTON_MASSES)
_SAME = np.eye(3, dtype=bool)  # β = α
_S2 = SIN2_W
#: Neutral-current coefficients (c1, c2) of the ν ℓβ ℓβ channels, β = α (charged current interferes) or β ≠ α.
_LEPTON_C1 = np.where(_SAME, 0.25 * (1 + 4 * _S2 + 8 * _S2**2), 0.25 * (1 - 4 * _S2 + 8 * _S2**2))
_LEPTON_C2 = np.where(_SAME, 0.5 * _S2 * (2 * _S2 + 1), 0.5 * _S2 * (2 * _S2 - 1))
_QUARK_MASSES = np.asarray(list(QUARK_MASSES.values()))
_UP_TYPE = np.asarray([q in ("u", "c") for q in QUARK_MASSES])
_QUARK_C1 = np.where(_UP_TYPE, 0.25 * (1 - 8 / 3 * _S2 + 32 / 9 * _S2**2), 0.25 * (1 - 4 / 3 * _S2 + 8 / 9 * _S2**2))
_QUARK_C2 = np.where(_UP_TYPE, _S2 / 3 * (4 / 3 * _S2 - 1), _S2 / 6 * (2 / 3 * _S2 - 1))
_CKM_UP = np.asarray([QUARK_MASSES[up] for up, _ in CKM])
_CKM_DOWN = np.asarray([QUARK_MASSES[down] for _, down in CKM])
_CKM_V = np.asarray(list(CKM.values()))
_CHARGED_P = np.asarray(CHARGED_PSEUDOSCALARS).T  # rows: mass, f, |V|
_NEUTRAL_P = np.asarray(NEUTRAL_PSEUDOSCALARS).T
_CHARGED_V = np.asarray(CHARGED_VECTORS).T
_NEUTRAL_V = np.asarray(NEUTRAL_VECTORS).T


def _leptonic(mass):
    """Σ leptonic widths of the three charge configurations α = e, μ, τ (shape (3,)) in units of
    Γ0 = G_F² M⁵ U_α²/(192π³): invisible (Σ_β Γ(N → ν_α ν_β ν̄_β) = Γ0), charged current ℓ_α ℓ_β ν_β (β ≠ α) and
    neutral current ν_α ℓ_β ℓ_β."""
    x = _LEPTON_MASSES / mass
    charged = three_body_integral(x[None, :], 0.0, x[:, None])  # [α, β]: I(x_β, 0, x_α)
    f1, f2 = _neutral_current_functions(x)
    neutral = jnp.asarray(_LEPTON_C1) @ f1 + 4 * (jnp.asarray(_LEPTON_C2) @ f2)
    return 1.0 + jnp.sum(jnp.where(_SAME, 0.0, charged), axis=1) + neutral


def _exclusive_hadronic(mass):
    """Single-meson channels of the three charge configurations (shape (3,)) in units of Γ0."""
    m_l = _LEPTON_MASSES[:, None]
    x_l = m_l / mass
    # G_F² f² M³/(16π) / Γ0 = 12π² f²/M²
    unit = 12 * math.pi**2 / mass**2
    m_p, f_p, v = _CHARGED_P
    x_p = m_p / mass
    kin = ((1 - x_l**2) ** 2 - x_p**2 * (1 + x_l**2)) * _sqrt_pos(kallen(1.0, x_p**2, x_l**2))
    total = jnp.sum(jnp.where(mass > m_p + m_l, unit * f_p**2 * v**2 * kin, 0.0), axis=1)
    m_p, f_p = _NEUTRAL_P
    x_p = m_p / mass
    total = total + jnp.sum(jnp.where(mass > m_p, 0.5 * unit * f_p**2 * (1 - x_p**2) ** 2, 0.0))
    m_v, g_v, v = _CHARGED_V
    x_v = m_v / mass
    kin = (((1 - x_l**2) ** 2 + x_v**2 * (1 + x_l**2) - 2 * x_v**4)
           * _sqrt_pos(kallen(1.0, x_v**2, x_l**2)))
    total = total + jnp.sum(jnp.where(mass > m_v + m_l, unit * g_v**2 * v**2 / m_v**2 * kin, 0.0), axis=1)
    m_v, g_v, kappa = _NEUTRAL_V
    x_v = m_v / mass
    total = total + jnp.sum(jnp.where(mass > m_v, 0.5 * unit * kappa**2 * g_v**2 / m_v**2
                                      * (1 + 2 * x_v**2) * (1 - x_v**2) ** 2, 0.0))
    return total


def _inclusive_hadronic(mass):
    """Quark-level channels with the QCD correction, the three charge configurations (shape (3,)), units of Γ0."""
    x_l = _LEPTON_MASSES[:, None] / mass
    charged = three_body_integral(_CKM_UP / mass, _CKM_DOWN / mass, x_l)  # [α, (up, down)]
    total = jnp.sum(3 * _CKM_V**2 * charged, axis=1)
    f1, f2 = _neutral_current_functions(_QUARK_MASSES / mass)
    total = total + jnp.sum(3 * (_QUARK_C1 * f1 + 4 * _QUARK_C2 * f2))
    qcd = jnp.interp(jnp.log(mass), jnp.log(jnp.asarray(QCD_MASSES)), jnp.asarray(QCD_CORRECTIONS))
    return (1 + qcd) * total


def _channel_counts_scalar(mass):
    centre, width = HADRONIC_SWITCH
    w = 1 / (1 + jnp.exp(-(jnp.log(mass) - math.log(centre)) / width))
    return _leptonic(mass) + (1 - w) * _exclusive_hadronic(mass) + w * _inclusive_hadronic(mass)


def channel_counts(mass: ArrayLike) -> Float[Array, "3 ..."]:
    """a_α(M), α = e, μ, τ: Γ_tot(Majorana) = a_α G_F² M⁵ U_α²/(96π³) (docs/plasma.md §2.2 table); shape (3,) + the
    shape of ``mass``.

    The hadronic part is (1 − w) exclusive + w inclusive with w a logistic function of ln M centred at
    :data:`HADRONIC_SWITCH` (1.2 GeV, width 0.15)."""
    mass = jnp.asarray(mass, dtype=float)
    if mass.ndim == 0:
        return _channel_counts_scalar(mass)
    return jnp.moveaxis(jnp.vectorize(_channel_counts_scalar, signature="()->(a)")(mass), -1, 0)


def decay_rate_prefactor(mass: ArrayLike) -> Float[Array, ""]:
    """G_F² M³ v0²/(96π³) [GeV per unit |F|²]: Γ_I = prefactor · Σ_α a_α |F_αI|² (Θ_αI = v0 F_αI/M)."""
    mass = jnp.asarray(mass, dtype=float)
    return c.G_FERMI**2 * mass**3 * c.V0**2 / (96 * math.pi**3)


def hnl_widths(mass: ArrayLike, mixings: ArrayLike) -> Float[Array, "..."]:
    """Total rest-frame widths Γ_I [GeV] from the mass-basis mixings |Θ_αI|² (shape (3, n)): Σ_α a_α G_F² M⁵
    |Θ_αI|²/(96π³). ``mass`` a scalar, or one mass per column of ``mixings``."""
    mass = jnp.asarray(mass, dtype=float)
    return c.G_FERMI**2 * mass**5 / (96 * math.pi**3) * jnp.einsum("a...,a...->...", channel_counts(mass),
                                                                        jnp.asarray(mixings))


def decay_matrix(mass: ArrayLike, yukawas) -> Float[Array, "2 2"]:
    """The rest-frame decay matrix (3.1) in the h-basis of the kinetic equations [GeV]; multiply by ⟨M/E⟩ = −h̄0 for
    the thermal time dilation.

    (3.1) is diagonal in the mass basis, Γ_I = prefactor · d_I with d_I = Σ_α a_α(M) |F_αI|² (``yukawas`` = F, mass
    basis, shape (3, 2)). In the h-basis the helicity-blind rate of a mass-basis diag(d_2, d_3) has the structure of
    ½ Σ_α (Y+^α + Y−^α) restricted to the mass-diagonal part: [[(d_2 + d_3)/2, −(d_3 − d_2)/2], [−(d_3 − d_2)/2,
    (d_2 + d_3)/2]] (docs/physics.md §1.6, §2.4). The mass-basis off-diagonal Σ_α a_α F*_α2 F_α3 is dropped, as in (3.1):
    with flavour-dependent a_α it would turn CP-even Yukawas into a source of the helicity asymmetry (a test checks
    that a CP-conserving point stays at zero asymmetry)."""
    counts = channel_counts(mass)
    d = decay_rate_prefactor(mass) * jnp.einsum("a,ai->i", counts, jnp.abs(jnp.asarray(yukawas)) ** 2)
    mean, half_diff = 0.5 * (d[0] + d[1]), 0.5 * (d[1] - d[0])
    return jnp.array([[mean, -half_diff], [-half_diff, mean]])


__all__ = ["channel_counts", "hnl_widths", "decay_matrix", "decay_rate_prefactor", "three_body_integral"]
