"""Rate uncertainties as parameters: every rate coefficient multiplied by a smooth nuisance factor in [1/F, F].

The paper draws its maximal-asymmetry curves with a thickness for "the possible uncertainties" of the rates and states
its dark-matter conclusion with "all factor-of-2 uncertainties pushed in the direction which maximizes" the asymmetries
(arXiv:2011.12637, §5 and §8). Here that push is an optimisation over nuisance parameters, moved by the optimiser together with
the model parameters (exact reverse-mode gradients make the 24 extra directions cheap).

Parametrisation (:class:`RateUncertainty`): each of the six coefficients that come from the plasma — γ̄_ν+, γ̄_ν−, γ̄_N+,
γ̄_N−, h̄+, h̄− (h̄0 = −M⟨1/E_N⟩ is the vacuum mass term, known exactly, and is not varied) — gets a factor exp ℓ_c(T) with

    ℓ_c(T) = (1 − w(T)) S_c(ln T) + w(T) H_c(ln T),     w(T) = (v(T)/v0)²,

S_c and H_c linear in ln T between two knots each (symmetric phase: :data:`SYMMETRIC_KNOTS` = 10³ and 160 GeV; Higgs
phase: :data:`HIGGS_KNOTS` = 130 and 5 GeV; constant beyond the outer knots) and w the Higgs-phase weight of the
crossover profile (:func:`lta_jax.plasma.electroweak.higgs_vev`: 0 in the symmetric phase, 1 at low T). The 6 × 2 × 2 =
24 knot values are the nuisance parameters, each in [−ln F, ln F]; linear interpolation and the convex blend keep every
factor within [1/F, F] at every temperature, and the factor varies smoothly with T (no jump at the crossover).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from lta_jax.model import constants as c
from lta_jax.model.validity import check_uncertainty_factor  # noqa: F401  (re-exported)
from lta_jax.plasma.electroweak import higgs_vev
from lta_jax.rates.base import COLUMN_NAMES, RateCoefficients, RateModel

#: The coefficients that get a factor (the first six of :data:`lta_jax.rates.base.COLUMN_NAMES`; h̄0 is not varied).
UNCERTAIN_COEFFICIENTS = COLUMN_NAMES[:6]
PHASES = ("symmetric", "higgs")
#: Knots in T [GeV] of the symmetric- and Higgs-phase profiles S_c, H_c (high T first).
SYMMETRIC_KNOTS = (1e3, 160.0)
HIGGS_KNOTS = (130.0, 5.0)
#: Shape of the nuisance parameters: (coefficient, phase, knot).
SHAPE = (len(UNCERTAIN_COEFFICIENTS), len(PHASES), 2)
#: Number of nuisance parameters.
N_NUISANCE = int(np.prod(SHAPE))


def log_factors_at(log_factors: Float[Array, "6 2 2"], temperature) -> Float[Array, "6 ..."]:
    """ℓ_c(T) of every varied coefficient c (module docstring), shape (6,) + shape of ``temperature``."""
    ln_t = jnp.log(jnp.asarray(temperature, dtype=float))

    def profile(knots, values):  # linear in ln T between the two knots (given high T first), constant outside
        ln_knots = jnp.log(jnp.asarray(knots[::-1]))
        return jax.vmap(lambda v: jnp.interp(ln_t, ln_knots, v[::-1]))(values)

    weight = (higgs_vev(temperature) / c.V0) ** 2
    return ((1 - weight) * profile(SYMMETRIC_KNOTS, log_factors[:, 0])
            + weight * profile(HIGGS_KNOTS, log_factors[:, 1]))


class RateUncertainty(RateModel):
    """``base`` with γ̄_ν±, γ̄_N±, h̄± multiplied by exp ℓ_c(T) (module docstring); ``log_factors`` of shape
    :data:`SHAPE` = (coefficient, phase, knot). Traceable in ``log_factors`` (the optimiser differentiates through it)."""

    base: RateModel
    log_factors: Float[Array, "6 2 2"]

    def __init__(self, base: RateModel, log_factors):
        self.base = base
        self.log_factors = jnp.reshape(jnp.asarray(log_factors, dtype=float), SHAPE)

    def __call__(self, temperature, mass):
        r = self.base(temperature, mass)
        factors = jnp.exp(log_factors_at(self.log_factors, temperature))
        return RateCoefficients(*(r[i] * factors[i] for i in range(6)), r.h_zero)

    @property
    def expensive(self) -> bool:
        return self.base.expensive

    def check_range(self, t_low, t_high, mass):
        self.base.check_range(t_low, t_high, mass)

    @property
    def description(self) -> str:
        bound = float(jnp.max(jnp.abs(self.log_factors)))
        return f"{self.base.description} [rate factors within ×{math.exp(bound):.3g}]"


def describe_factors(log_factors) -> dict:
    """The nuisance values as JSON: {coefficient: {phase: {"T_GeV": knots, "factor": e^ℓ at the knots}}}."""
    values = np.reshape(np.asarray(log_factors, dtype=float), SHAPE)
    knots = {"symmetric": SYMMETRIC_KNOTS, "higgs": HIGGS_KNOTS}
    return {name: {phase: {"T_GeV": list(knots[phase]), "factor": [float(math.exp(x)) for x in values[i, p]]}
                   for p, phase in enumerate(PHASES)}
            for i, name in enumerate(UNCERTAIN_COEFFICIENTS)}


__all__ = ["RateUncertainty", "UNCERTAIN_COEFFICIENTS", "PHASES", "SYMMETRIC_KNOTS", "HIGGS_KNOTS", "SHAPE",
           "N_NUISANCE", "log_factors_at", "check_uncertainty_factor", "describe_factors"]
