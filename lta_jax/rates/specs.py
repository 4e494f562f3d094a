"""Rate models by name: the specification strings of the command line, scan cards and cluster workers."""

from __future__ import annotations

from lta_jax.rates.base import RateModel, TabulatedRates
from lta_jax.rates.provisional import ProvisionalRates


def rate_model_from_spec(spec) -> RateModel:
    """"computed" (or empty; the default) → :class:`ComputedRates` with the paper's symmetric-phase normalisation;
    "computed-ulysses" → the same with ULYSSES' constants; "provisional" → :class:`ProvisionalRates`; a directory →
    per-mode tables (:class:`lta_jax.rates.modes.TabulatedModeRates`, for the resolved equations); else a table path
    (the authors' 9-column format)."""
    if spec in (None, "", "computed", "computed-paper"):
        from lta_jax.rates.computed import ComputedRates
        return ComputedRates.build("paper")
    if spec == "computed-ulysses":
        from lta_jax.rates.computed import ComputedRates
        return ComputedRates.build("ulysses")
    if spec == "provisional":
        return ProvisionalRates()
    from pathlib import Path

    if Path(str(spec)).is_dir():
        from lta_jax.rates.modes import TabulatedModeRates
        return TabulatedModeRates.from_directory(spec)
    return TabulatedRates.from_file(spec)


__all__ = ["rate_model_from_spec"]
