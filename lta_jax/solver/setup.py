"""One set-up for every solve: validate a point and its temperature range before anything compiles, fill in the
defaults (T0, the in-house thermodynamics and susceptibility), tabulate an expensive rate model at the point's mass,
and build the point's :class:`~lta_jax.kinetics.averaged.KineticSystem`.

:func:`prepare` is what :func:`lta_jax.solver.integrate.solve`, the resolved and chiral solves, the observable map of
:mod:`lta_jax.solver.gradients` and the optimiser call; the batch path validates per point
(:func:`lta_jax.studies.batch.validate_batch`) and shares :func:`default_models` and the rate-table cache.
"""

from __future__ import annotations

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from lta_jax.cache import cached_program_call, remembered
from lta_jax.kinetics.averaged import KineticOptions, KineticSystem, derived_arrays
from lta_jax.model.parameters import ModelParameters, YukawaBilinears, validate_parameters
from lta_jax.model.validity import check_temperatures, start_temperature
from lta_jax.plasma.susceptibility import Susceptibility, in_house_susceptibility
from lta_jax.plasma.thermodynamics import Thermodynamics, in_house_thermodynamics
from lta_jax.rates.base import RateModel
from lta_jax.rates.interpolated import cached_table


class Setup(eqx.Module):
    """A validated point with everything a solve needs besides its numerics: the parameters, the rate model
    (tabulated at the point's mass when it is expensive and ``tabulate`` was asked for), thermodynamics,
    susceptibility, kinetic options and the temperature range [GeV] (T_start > T_end)."""

    params: ModelParameters
    rates: RateModel
    thermo: Thermodynamics
    susceptibility: Susceptibility
    options: KineticOptions
    t_start: float = eqx.field(static=True)
    t_end: float = eqx.field(static=True)

    def system(self) -> KineticSystem:
        """The point's system (its set-up arrays from a compiled or exported program, :func:`set_up_system`)."""
        return set_up_system(self.params, self.rates, self.thermo, self.susceptibility, self.options)

    def system_at(self, params: ModelParameters) -> KineticSystem:
        """The system of other (possibly traced) parameters with this set-up's models: for maps θ ↦ observables."""
        return KineticSystem(params, self.rates, self.thermo, self.susceptibility, self.options)


def default_start_temperature(params: ModelParameters) -> float:
    """T0 = max(10³ GeV, 10 T_osc(ΔM)) of :func:`lta_jax.model.validity.start_temperature` [GeV]."""
    return start_temperature(float(params.mass), float(params.delta_mass))



def default_models(thermo=None, susceptibility=None) -> tuple[Thermodynamics, Susceptibility]:
    """The given models, or the in-house thermodynamics and susceptibility where None."""
    return (in_house_thermodynamics() if thermo is None else thermo,
            in_house_susceptibility() if susceptibility is None else susceptibility)


def prepare(params: ModelParameters, rates: RateModel, *, t_start: float | None = None, t_end: float = 5.0,
            thermo: Thermodynamics | None = None, susceptibility: Susceptibility | None = None,
            options: KineticOptions | None = None, tabulate: bool = True) -> Setup:
    """Validate a concrete point and range (clear errors before any compilation) and return its :class:`Setup`:
    T0 = max(10³ GeV, 10 T_osc) unless given, the in-house models unless given, every model's validity range checked,
    and an expensive rate model tabulated once at the mass (:func:`lta_jax.rates.interpolated.cached_table`) if ``tabulate``."""
    validate_parameters(params)
    if t_start is None:
        t_start = default_start_temperature(params)
    t_start, t_end = float(t_start), float(t_end)
    check_temperatures(t_start, t_end)
    thermo, susceptibility = default_models(thermo, susceptibility)
    rates.check_range(t_end, t_start, float(params.mass))
    thermo.check_range(t_end, t_start)
    susceptibility.check_range(t_end, t_start)
    if tabulate and rates.expensive:
        rates = cached_table(rates, float(params.mass), t_end, t_start)
    options = KineticOptions() if options is None else options
    return Setup(params, rates, thermo, susceptibility, options, t_start, t_end)


#: Compiled set-up of a point (Yukawas, bilinears, decay matrix): eagerly it costs 0.2–0.4 s of op-by-op dispatch.
build_system = eqx.filter_jit(KineticSystem)


@functools.cache
def derived_structure():
    """The pytree structure of :func:`lta_jax.kinetics.averaged.derived_arrays` (from a placeholder: no tracing)."""
    zero = jnp.zeros(())
    bilinears = YukawaBilinears(zero, zero, zero)
    return jax.tree_util.tree_structure((bilinears, bilinears, zero, zero))


def set_up_system(params, rates, thermo, susceptibility, options) -> KineticSystem:
    """The point's :class:`KineticSystem`; its set-up arrays from a serialised program when the command line has
    switched the program cache on (tracing the set-up costs ≈ 0.3 s of a repeated command, lowering it 0.2 s), else
    the jitted constructor."""
    options = KineticOptions() if options is None else options
    derived = cached_program_call("system", derived_arrays, (params, options), derived_structure())
    if derived is None:
        return build_system(params, rates, thermo, susceptibility, options)
    return KineticSystem(params, rates, thermo, susceptibility, options, derived=derived)



def resolved_rates(rates: RateModel, n_modes: int | None):
    """The per-mode rate model for the resolved equations: a per-mode model as given (its modes are the grid), or
    the computed model evaluated on the paper's grid (6.2) with ``n_modes`` modes (default 48) plus the low modes
    :data:`lta_jax.kinetics.resolved.LOW_MODES`."""
    from lta_jax.kinetics.resolved import LOW_MODES, momentum_grid
    from lta_jax.rates.computed import ComputedRates
    from lta_jax.rates.base import RateVariant
    from lta_jax.rates.modes import ComputedModeRates, mode_model_of

    if isinstance(rates, RateVariant) and mode_model_of(rates) is None:
        return RateVariant(resolved_rates(rates.base, n_modes), rates.rate_scale, rates.h_plus,
                           rates.fermion_number_violation)
    inner = mode_model_of(rates)
    if inner is not None:
        if n_modes is not None and int(n_modes) != len(inner.y):
            raise ValueError(f"the per-mode rates have {len(inner.y)} modes; n_modes={n_modes} conflicts")
        return rates
    if isinstance(rates, ComputedRates):
        n = 48 if n_modes is None else int(n_modes)
        if n < 2:
            raise ValueError(f"need at least 2 momentum modes, got {n_modes}")
        return remembered("mode_rate_model", rates, (n,),
                          lambda: ComputedModeRates(rates, np.asarray(momentum_grid(n, extra=LOW_MODES).y)))
    raise ValueError(f"the resolved equations need per-mode rates: the computed model (ComputedRates) or per-mode "
                     f"tables (TabulatedModeRates.from_directory); got {rates.description!r}. An averaged model can be "
                     "copied to every mode with lta_jax.rates.modes.UniformModeRates(rates, y)")


__all__ = ["Setup", "prepare", "default_models", "default_start_temperature", "build_system", "set_up_system",
           "resolved_rates"]
