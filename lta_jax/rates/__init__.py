"""Stage 3 — rate coefficients γ̄_ν±, γ̄_N±, h̄±, h̄0 as functions of (T, M).

``base`` defines the interface and the tabulated model; ``computed`` is the package's own model (the default), built on
``self_energy`` (one-loop active-neutrino self-energy); ``decays`` gives the vacuum HNL widths; ``provisional`` the
earlier literature-constant model; ``interpolated`` tabulates any model once per mass for the solvers.
"""

from lta_jax.rates.base import COLUMN_NAMES, RateCoefficients, RateModel, RateVariant, TabulatedRates

__all__ = ["COLUMN_NAMES", "RateCoefficients", "RateModel", "RateVariant", "TabulatedRates"]
