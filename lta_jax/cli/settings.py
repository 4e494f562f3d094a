"""Set-up helpers shared by the command line and scripts: turn a settings dictionary (CLI options or a TOML card)
into a validated run, execute it, write outputs."""

from __future__ import annotations

import math
from dataclasses import dataclass

from lta_jax.kinetics.averaged import KineticOptions
from lta_jax.solver.observables import summary
from lta_jax.model.parameters import ModelParameters, parse_angle, validate_parameters
from lta_jax.rates.provisional import ProvisionalRates
from lta_jax.rates.base import RateModel, RateVariant, TabulatedRates
from lta_jax.solver.integrate import Solution, check_temperatures, default_start_temperature, solve
from lta_jax.plasma.susceptibility import Susceptibility, in_house_susceptibility, susceptibility_from_table
from lta_jax.plasma.thermodynamics import Thermodynamics, in_house_thermodynamics, thermodynamics_from_table


@dataclass
class Run:
    params: ModelParameters
    rates: RateModel
    thermo: Thermodynamics
    susceptibility: Susceptibility
    options: KineticOptions
    t_start: float
    t_end: float
    settings: dict
    solution: Solution | None = None


def _number(settings, key) -> float:
    value = settings[key]
    try:
        return float(value)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{key} must be a number, got {value!r}") from err


def rate_model_from_spec(spec) -> RateModel:
    """"computed" (or empty; the default) → :class:`ComputedRates` with the paper's symmetric-phase normalisation;
    "computed-ulysses" → the same with ULYSSES' constants; "provisional" → :class:`ProvisionalRates`; else a table
    path (the authors' 9-column format)."""
    if spec in (None, "", "computed", "computed-paper"):
        from lta_jax.rates.computed import ComputedRates
        return ComputedRates.build("paper")
    if spec == "computed-ulysses":
        from lta_jax.rates.computed import ComputedRates
        return ComputedRates.build("ulysses")
    if spec == "provisional":
        return ProvisionalRates()
    return TabulatedRates.from_file(spec)


def prepare_run(settings: dict) -> Run:
    """Validate everything (before any compilation) and build the model objects."""
    hierarchy = str(settings.get("hierarchy", "NH")).upper()
    params = ModelParameters(
        _number(settings, "M"), _number(settings, "delta_M"), _number(settings, "im_omega"),
        parse_angle(settings["re_omega"]), parse_angle(settings["delta"]), parse_angle(settings["eta"]),
        hierarchy=hierarchy,
    )
    validate_parameters(params)
    rates_path = settings.get("rates")
    base = rate_model_from_spec(rates_path)
    scale = float(settings.get("rate_scale", 1.0))
    if not (scale > 0 and math.isfinite(scale)):
        raise ValueError(f"rate scale must be positive and finite, got {scale!r}")
    h_plus = bool(settings.get("h_plus", True))
    rates = base if (scale == 1.0 and h_plus) else RateVariant(base, rate_scale=scale, h_plus=h_plus)
    thermo = thermodynamics_from_table(settings["thermo"]) if settings.get("thermo") else in_house_thermodynamics()
    susc = (susceptibility_from_table(settings["susceptibility"]) if settings.get("susceptibility")
            else in_house_susceptibility())
    t_start = float(settings["T_start"]) if settings.get("T_start") is not None else default_start_temperature(params)
    t_end = float(settings.get("T_end", 5.0))
    check_temperatures(t_start, t_end)
    rates.check_range(t_end, t_start, float(params.mass))
    thermo.check_range(t_end, t_start)
    susc.check_range(t_end, t_start)
    options = KineticOptions(source_term=bool(settings.get("source_term", False)))
    return Run(params, rates, thermo, susc, options, t_start, t_end, settings)


def execute_run(run: Run) -> dict:
    """Solve and return the JSON-ready result (inputs, observables, status)."""
    run.solution = solve(run.params, run.rates, t_start=run.t_start, t_end=run.t_end, thermo=run.thermo,
                         susceptibility=run.susceptibility, options=run.options)
    result = summary(run.solution)
    result["inputs"] = {**run.params.as_dict(), "T_start": run.t_start, "T_end": run.t_end,
                        "source_term": run.options.source_term, "h_plus": bool(run.settings.get("h_plus", True)),
                        "rate_scale": float(run.settings.get("rate_scale", 1.0)),
                        "rates": run.rates.description, "thermo": run.thermo.label,
                        "susceptibility": getattr(run.susceptibility, "label", type(run.susceptibility).__name__)}
    base = getattr(run.rates, "base", run.rates)
    result["provisional_rates"] = isinstance(base, ProvisionalRates)
    return result


def write_plot(run: Run, path) -> None:
    from lta_jax.cli.plotting import plot_asymmetries

    p = run.params
    title = (f"M = {float(p.mass):g} GeV, ΔM = {float(p.delta_mass):.3g} GeV, Im ω = {float(p.im_omega):g}, "
             f"Re ω = {float(p.re_omega) / math.pi:.3g}π, δ = {float(p.delta) / math.pi:.3g}π, "
             f"η = {float(p.eta) / math.pi:.3g}π, {p.hierarchy}\nrates: {run.rates.description}")
    plot_asymmetries(run.solution, path, title=title)
