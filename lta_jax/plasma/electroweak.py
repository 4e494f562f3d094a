"""Electroweak background: the Higgs expectation value v(T) through the crossover and the sphaleron rate.

Units: GeV; v is in the 174-GeV normalisation (v(0) = v0) unless a name says 246.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from lta_jax.model import constants as c

#: Parameters of the smooth crossover profile v(T)/v0 = √(f(T)/f(0)), f = ½[u + √(u² + ε²)], u = 1 − (T/T_*)^p.
#: The SM transition is a crossover (lattice: T_c ≈ 159.5 GeV, D'Onofrio–Rummukainen arXiv:1508.07161). The three
#: constants are a least-squares fit (max deviation 0.014 in v/v0) to the profile v(T)/v0 of docs/physics.md §6.4, which
#: was inferred from the authors' rate table (h̄+ − 0.0536 T ≈ v²⟨1/E⟩/2) at 60–150 GeV; the lattice curve itself has
#: not been compared [UNVERIFIED]. The profile leaves v/v0 = 0.07 at 159.5 GeV and 0.012 at 300 GeV.
VEV_PROFILE = (149.316, 2.978, 0.06525)


def higgs_vev(temperature: ArrayLike) -> Float[Array, "..."]:
    """v(T) [GeV, 174-GeV normalisation] through the electroweak crossover (see :data:`VEV_PROFILE`)."""
    t_star, power, eps = VEV_PROFILE
    u = 1 - (jnp.asarray(temperature) / t_star) ** power
    s = jnp.sqrt(u * u + eps**2)
    # ½(u + s) = ½ε²/(s − u): the second form for u < 0, where the first cancels to 0 above ~25 TeV (v = 0 exactly,
    # and ∂v/∂T = ∞·0 = NaN in every gradient of the rates).
    f = jnp.where(u > 0, 0.5 * (u + s), 0.5 * eps**2 / (s - u))
    f0 = 0.5 * (1 + math.sqrt(1 + eps**2))
    return c.V0 * jnp.sqrt(f / f0)


def sphaleron_diffusion_rate(temperature: ArrayLike) -> Float[Array, "..."]:
    """Γ_diff/T⁴ = min(18 α_W⁵, exp(−147.7 + 0.83 T/GeV)) (arXiv:1404.3565; docs/physics.md §5), smooth minimum."""
    t = jnp.asarray(temperature)
    ln_symmetric = math.log(18 * c.ALPHA_W**5)
    ln_broken = -147.7 + 0.83 * t
    # Smooth min in the log (width 0.05 e-folds) so the rate is differentiable at the junction (≈161 GeV).
    return jnp.exp(-0.05 * jnp.logaddexp(-ln_symmetric / 0.05, -ln_broken / 0.05))


def sphaleron_x(temperature: ArrayLike) -> Float[Array, "..."]:
    """x = v(T)²/T² in the 246-GeV normalisation (docs/physics.md §5)."""
    return 2 * higgs_vev(temperature) ** 2 / jnp.asarray(temperature) ** 2


def baryon_rate(temperature: ArrayLike) -> Float[Array, "..."]:
    """Γ_B = 9 (869 + 333x)/(792 + 306x) Γ_diff/T³ [GeV] (hep-ph/0511246, 1709.07834; docs/physics.md §5).

    The x-dependence is [UNVERIFIED] (docs/physics.md §5); at x = 0 it is the independently checked 79/8 Γ_diff/T³.
    """
    x = sphaleron_x(temperature)
    return 9 * (869 + 333 * x) / (792 + 306 * x) * sphaleron_diffusion_rate(temperature) * jnp.asarray(temperature)


def baryon_equilibrium_fraction(temperature: ArrayLike) -> Float[Array, "..."]:
    """χ(T) = B/(B−L) in sphaleron equilibrium, 4(77 + 27x)/(869 + 333x) (hep-ph/0511246; 28/79 at x = 0)."""
    x = sphaleron_x(temperature)
    return 4 * (77 + 27 * x) / (869 + 333 * x)
