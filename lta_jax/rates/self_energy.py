"""One-loop thermal self-energy of the active neutrinos, Re Σ_ν = a_ν K̸ + b_ν u̸ (docs/physics.md §6.4; issue 3).

The Higgs-phase rates of the HNLs go through their mixing with the active neutrinos; the neutrino's thermal potential
−b_ν T sets the energy mismatch D− ≈ E_N − E_ν(k) of the near-resonant (fermion-number-violating) channel, and its sign
change between the low-temperature Nötzold–Raffelt regime and the high-temperature (hard-thermal-loop) regime is the
level crossing of the paper (§9; docs/physics.md §6.5).

Loops: W–charged lepton and Z–neutrino, massless leptons, massive W and Z with m_W(T) = g v(T)/√2 and
m_Z(T) = m_W(T)/c_W (v in the 174-GeV normalisation, :func:`lta_jax.plasma.electroweak.higgs_vev`), thermal Fermi and Bose
distributions, vacuum parts dropped, evaluated on the HNL mass shell K = (E, k), E = √(k² + M²)
(Ghiglieri–Laine arXiv:1605.07720; the integrands below are those of the public ULYSSES implementation,
``ulysses/ProdRates.py``, functions ``_A_integrand`` and ``_B_integrand``, arXiv:2301.05722). As the specification
requires (docs/physics.md §6.4), the W loop enters with coupling g²/2, not ULYSSES' g²/4:

    a_ν = (g² + g'²)/4 · A(m_Z) + (g²/2) · A(m_W),     b_ν = (g² + g'²)/4 · B(m_Z) + (g²/2) · B(m_W).

With that coefficient the low-temperature limit reproduces the Nötzold–Raffelt potential,
b_ν T = −V_ν = (7√2π²/45) G_F k T⁴ (2/m_W² + 1/m_Z²) (Nötzold & Raffelt, Nucl. Phys. B307 (1988) 924),
which a test checks.

Numerics: each A, B is a one-dimensional integral over the loop momentum w = p/T ∈ (0, 80) with integrable logarithmic
singularities; a composite 4-point Gauss–Legendre rule on 4000 uniform panels (16,000 nodes) is the default. A test compares
it with SciPy's adaptive ``quad`` of the same integrand. Everything is pure JAX (differentiable in k, T, M).
"""

from __future__ import annotations

import functools
import math

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from lta_jax.model import constants as c
from lta_jax.plasma.electroweak import higgs_vev

#: Hypercharge coupling g' (g' = g tan θ_W with sin² θ_W = 0.2312 at m_Z).
G_HYPER = c.G_WEAK * math.sqrt(0.2312 / (1 - 0.2312))
W_MAX = 80.0


@functools.lru_cache(maxsize=None)
def w_rule(n_panels: int = 4000):
    """Composite 4-point Gauss–Legendre nodes and weights on (0, W_MAX) with ``n_panels`` uniform panels."""
    x, wts = np.polynomial.legendre.leggauss(4)
    edges = np.linspace(0.0, W_MAX, n_panels + 1)
    half = 0.5 * np.diff(edges)
    mid = 0.5 * (edges[1:] + edges[:-1])
    return (mid[:, None] + half[:, None] * x[None, :]).ravel(), (half[:, None] * wts[None, :]).ravel()


def _abs_eps(x):
    return jnp.abs(x) + 1e-14  # as in ULYSSES: the singular points are integrable, the offset only keeps them finite


def _fermi(x):
    return 1.0 / (1.0 + jnp.exp(x))


def _bose(x):
    return 1.0 / jnp.expm1(jnp.maximum(x, 1e-10))


def _logs(y0, y, w, o, d, sign):
    """L± of the integrands; ``sign`` = −1 for the fermion line (D1), +1 for the boson line (D2).

    L± = ln|n1/d1| ± ln|n2/d2| (each |·| offset by 1e-14), taken as one logarithm of a product of ratios each: two
    logarithms instead of eight per point (the logarithms were most of the cost of the self-energy table)."""
    if sign < 0:
        n1, d1 = d - 2 * o * y0 - 2 * y * w, d - 2 * o * y0 + 2 * y * w
        n2, d2 = d + 2 * o * y0 - 2 * y * w, d + 2 * o * y0 + 2 * y * w
    else:
        n1, d1 = d + 2 * o * y0 + 2 * y * w, d + 2 * o * y0 - 2 * y * w
        n2, d2 = d - 2 * o * y0 + 2 * y * w, d - 2 * o * y0 - 2 * y * w
    n1, d1, n2, d2 = _abs_eps(n1), _abs_eps(d1), _abs_eps(n2), _abs_eps(d2)
    return jnp.log((n1 * n2) / (d1 * d2)), jnp.log((n1 * d2) / (d1 * n2))


def loop_integrands(w, y, z, z_boson):
    """(A, B) integrands at loop momentum w = p/T for y = k/T, z = M/T and boson mass z_B = m_B/T (lepton massless).

    Returns the integrands of A·y² and B·y² (ULYSSES ``_A_integrand``/``_B_integrand``)."""
    y0 = jnp.sqrt(y * y + z * z)
    delta = z_boson**2
    d1 = y0**2 - y**2 - delta
    d2 = y0**2 - y**2 + delta
    o1 = w
    o2 = jnp.sqrt(w * w + z_boson**2)
    l1p, l1m = _logs(y0, y, w, o1, d1, -1)
    l2p, l2m = _logs(y0, y, w, o2, d2, +1)
    fb, ff = _bose(o2), _fermi(o1)
    a_b = (-(d2 + 2 * y * y) / (2 * y) * w / o2 * l2p - y0 * w / y * l2m + 4 * w * w / o2) * fb
    a_f = (d1 / (2 * y) * w / o1 * l1p - y0 * w / y * l1m + 4 * w * w / o1) * ff
    zn2 = y0 * y0 - y * y
    b_b = (zn2 / y * w * l2m + d2 / 2 * y0 / y * w / o2 * l2p - 4 * y0 * w * w / o2) * fb
    b_f = (zn2 / y * w * l1m - d1 / 2 * y0 / y * w / o1 * l1p - 4 * y0 * w * w / o1) * ff
    norm = 1.0 / (8 * math.pi**2)
    return (a_b + a_f) * norm, (b_b + b_f) * norm


def loop_functions(y, z, z_boson, n_panels: int = 4000):
    """(A, B)(y, z, z_B): the integrals over w ∈ (0, 80) divided by y² (dimensionless)."""
    y = jnp.asarray(y, dtype=float)
    nodes, weights = w_rule(n_panels)
    a, b = loop_integrands(jnp.asarray(nodes), y[..., None], jnp.asarray(z)[..., None],
                           jnp.asarray(z_boson)[..., None])
    w = jnp.asarray(weights)
    return jnp.sum(a * w, axis=-1) / y**2, jnp.sum(b * w, axis=-1) / y**2


def boson_masses(temperature: ArrayLike):
    """(m_W, m_Z)(T) [GeV] from v(T): m_W = g v/√2 (v in the 174-GeV normalisation), m_Z = m_W/c_W."""
    v = higgs_vev(temperature)
    m_w = c.G_WEAK * v / math.sqrt(2)
    m_z = m_w * math.sqrt(c.G_WEAK**2 + G_HYPER**2) / c.G_WEAK
    return m_w, m_z


def neutrino_self_energy(momentum: ArrayLike, temperature: ArrayLike, mass: ArrayLike = 0.0, n_panels: int = 4000):
    """(a_ν, b_ν) at momentum k [GeV] and temperature T [GeV] on the HNL mass shell (mass M [GeV]).

    Dimensionless; the neutrino's thermal potential is V_ν = −b_ν T (docs/physics.md §6.4)."""
    k = jnp.asarray(momentum, dtype=float)
    t = jnp.asarray(temperature, dtype=float)
    m_w, m_z = boson_masses(t)
    y, z = k / t, jnp.asarray(mass, dtype=float) / t
    a_z, b_z = loop_functions(y, z, m_z / t, n_panels)
    a_w, b_w = loop_functions(y, z, m_w / t, n_panels)
    g2, gp2 = c.G_WEAK**2, G_HYPER**2
    return (g2 + gp2) / 4 * a_z + g2 / 2 * a_w, (g2 + gp2) / 4 * b_z + g2 / 2 * b_w


def notzold_raffelt_potential(momentum: ArrayLike, temperature: ArrayLike) -> Float[Array, "..."]:
    """V_ν = −(7√2π²/45) G_F k T⁴ (2/m_W² + 1/m_Z²) [GeV] for T ≪ m_W (Nötzold–Raffelt 1988; docs/physics.md §6.4)."""
    m_w, m_z = boson_masses(temperature)
    t = jnp.asarray(temperature, dtype=float)
    return -(7 * math.sqrt(2) * math.pi**2 / 45) * c.G_FERMI * jnp.asarray(momentum) * t**4 * (
        2 / m_w**2 + 1 / m_z**2)


__all__ = ["G_HYPER", "w_rule", "loop_integrands", "loop_functions", "boson_masses", "neutrino_self_energy",
           "notzold_raffelt_potential"]
