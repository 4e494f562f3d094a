"""Set-up helpers shared by the command line and scripts: turn a settings dictionary (CLI options or a TOML card)
into a validated run, execute it, write outputs."""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path

from lta_jax.kinetics.averaged import KineticOptions
from lta_jax.solver.observables import summary
from lta_jax.cli.checks import check_settings
from lta_jax.model.parameters import ModelParameters, validate_parameters
from lta_jax.rates.provisional import ProvisionalRates
from lta_jax.rates.base import RateModel, RateVariant
from lta_jax.rates.specs import rate_model_from_spec  # noqa: F401  (re-exported: the CLI and cards use it)
from lta_jax.solver.integrate import SOLVERS, Solution, SolverOptions, solve
from lta_jax.plasma.susceptibility import Susceptibility, susceptibility_from_table
from lta_jax.plasma.thermodynamics import Thermodynamics, thermodynamics_from_table
from lta_jax.solver.setup import default_models


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
    solver_options: SolverOptions | None = None
    solution: Solution | None = None
    kinetics: str = "averaged"
    n_modes: int | None = None
    resolved_options: object | None = None
    dilution: dict | None = None
    chiral: object | None = None


def prepare_run(settings: dict) -> Run:
    """Validate everything, then build the model objects: every check that needs no solve runs before any rate
    model is built or anything is compiled (bad input fails within seconds)."""
    checked = check_settings(settings)
    params = ModelParameters(**checked.values, hierarchy=checked.hierarchy)
    validate_parameters(params)
    t_start, t_end, scale, max_steps, solver = (checked.t_start, checked.t_end, checked.rate_scale, checked.max_steps,
                                                checked.solver)
    rates_spec = settings.get("rates")
    # User tables are plain NumPy reads (fast): load and range-check them before the in-house models are built.
    thermo = thermodynamics_from_table(settings["thermo"]) if settings.get("thermo") else None
    susc = susceptibility_from_table(settings["susceptibility"]) if settings.get("susceptibility") else None
    for model in (thermo, susc):
        if model is not None:
            model.check_range(t_end, t_start)
    base = rate_model_from_spec(rates_spec)
    h_plus = bool(settings.get("h_plus", True))
    fnv = bool(settings.get("fnv", True))
    rates = (base if (scale == 1.0 and h_plus and fnv)
             else RateVariant(base, rate_scale=scale, h_plus=h_plus, fermion_number_violation=fnv))
    thermo, susc = default_models(thermo, susc)
    rates.check_range(t_end, t_start, float(params.mass))
    thermo.check_range(t_end, t_start)
    susc.check_range(t_end, t_start)
    options = KineticOptions(source_term=bool(settings.get("source_term", False)))
    solver_options = SOLVERS[solver](max_steps=max_steps)
    resolved_options = None
    if checked.kinetics == "resolved":
        from lta_jax.solver.resolved import ResolvedOptions

        # magnus → the structured coupled exponential step; kvaerno5 → the dense implicit reference.
        resolved_options = ResolvedOptions(method="coupled" if solver == "magnus" else "kvaerno5", max_steps=max_steps)
        solver_options = None
    return Run(params, rates, thermo, susc, options, t_start, t_end, settings, solver_options, None,
               checked.kinetics, checked.n_modes, resolved_options)


def execute_run(run: Run) -> dict:
    """Solve and return the JSON-ready result (inputs, observables, status)."""
    extra = {}
    if run.kinetics == "resolved":
        extra = dict(kinetics="resolved", n_modes=run.n_modes, resolved_options=run.resolved_options)
    run.solution = solve(run.params, run.rates, t_start=run.t_start, t_end=run.t_end, thermo=run.thermo,
                         susceptibility=run.susceptibility, options=run.options,
                         solver_options=run.solver_options, **extra)
    result = summary(run.solution)
    result["inputs"] = {**run.params.as_dict(), "T_start": run.t_start, "T_end": run.t_end,
                        "source_term": run.options.source_term, "h_plus": bool(run.settings.get("h_plus", True)),
                        "fermion_number_violation": bool(run.settings.get("fnv", True)),
                        "rate_scale": float(run.settings.get("rate_scale", 1.0)),
                        "rates": run.rates.description, "thermo": run.thermo.label,
                        "solver": str(run.settings.get("solver", "magnus")).lower(),
                        "max_steps": (run.solver_options or run.resolved_options).max_steps,
                        "kinetics": run.kinetics,
                        "susceptibility": getattr(run.susceptibility, "label", type(run.susceptibility).__name__)}
    base = getattr(run.rates, "base", run.rates)
    result["provisional_rates"] = isinstance(base, ProvisionalRates)
    if run.settings.get("dilution") and result["status"] == "success":
        from lta_jax.studies.dilution import T_IN, dilution, effective_observables, hnl_yields_from_solution

        # The kinetic solution hands its HNL yields over at T_in when it reaches that far; else equilibrium at T_in.
        handover = run.t_end <= T_IN
        initial = hnl_yields_from_solution(run.solution, T_IN) if handover else None
        dil = dilution(run.params, thermo=run.thermo if run.thermo.t_min <= 1e-4 else None, initial_yields=initial)
        run.dilution = dil
        result["dilution"] = {k: v for k, v in dil.items() if k != "trajectory"}
        result["dilution"]["initial_yields"] = ([float(v) for v in initial] if handover else "equilibrium")
        result["dilution"]["initial_yields_from"] = ("the kinetic solution at T_in" if handover
                                                     else "equilibrium at T_in (the solve ends above T_in)")
        if dil["status"] == "success":
            result["dilution"].update(effective_observables(result["Y_L_end"], result["Y_B"], dil["D_fin"]))
            result["dilution"]["Y_L_eff_note"] = f"Y_L(T_end = {run.t_end:g} GeV) / D_fin"
    if run.settings.get("chiral") and result["status"] == "success":
        from lta_jax.kinetics.chiral import ChiralOptions
        from lta_jax.solver.chiral import solve_chiral

        from lta_jax.cli.checks import gamma_c_drop

        opts = ChiralOptions(kappa=float(run.settings.get("kappa", 0.1)),
                             gamma_c_amplitude=float(run.settings.get("gamma_c", 1e4)),
                             gamma_c_temperature=gamma_c_drop(run.settings))
        chiral = solve_chiral(run.params, run.rates, t_start=run.t_start, t_end=run.t_end, chiral=opts,
                              thermo=run.thermo, susceptibility=run.susceptibility, options=run.options,
                              solver_options=run.solver_options, standard=run.solution)
        run.chiral = chiral
        result["chiral"] = chiral.summary()
        if not chiral.succeeded:
            result["status"] = f"chiral extension failed: {chiral.status}"
    if run.kinetics == "resolved":
        grid = run.solution.grid
        result["momentum_grid"] = {"n_modes": grid.n_modes, "y": [float(v) for v in grid.y],
                                   "quadrature": _mode_quadrature(run.solution),
                                   "method": run.resolved_options.method}
    return result


def _mode_quadrature(solution) -> str:
    from lta_jax.rates.modes import mode_model_of

    return mode_model_of(solution.system.rates).quadrature


def write_plot(run: Run, path, y_b: float | None = None, process=None) -> None:
    """The solve's figure (:func:`lta_jax.cli.plotting.plot_asymmetries`), drawn by ``process`` (a
    :class:`lta_jax.cli.plot_process.PlotProcess` started before the solve) when given, else here; if the process
    fails, here, with the reason on stderr. The chiral extension's figure is always drawn here."""
    p = run.params
    title = (f"M = {float(p.mass):g} GeV, ΔM = {float(p.delta_mass):.3g} GeV, Im ω = {float(p.im_omega):g}, "
             f"Re ω = {float(p.re_omega) / math.pi:.3g}π, δ = {float(p.delta) / math.pi:.3g}π, "
             f"η = {float(p.eta) / math.pi:.3g}π, {p.hierarchy}\nrates: {run.rates.description.split(' (')[0]}")
    failure = None if process is None else process.draw(path, run.solution.temperatures, run.solution.states, title,
                                                        y_b)
    if failure is not None:
        print(f"warning: {failure}; drawing in this process", file=sys.stderr)
    if process is None or failure is not None:
        from lta_jax.cli.plotting import plot_asymmetries

        plot_asymmetries(run.solution, path, title=title, y_b=y_b)
    if run.chiral is not None and run.chiral.succeeded:
        from lta_jax.cli.plotting import plot_chiral

        plot_chiral(run.chiral, chiral_plot_path(path), title=title.split("\n")[0])


def chiral_plot_path(path) -> Path:
    """Where ``--plot PATH`` puts the chiral extension's Fig.-16-style figure: PATH with ``_chiral`` before the
    suffix."""
    path = Path(path)
    return path.with_name(f"{path.stem}_chiral{path.suffix or '.png'}")


def write_export(run: Run, result: dict, path) -> None:
    """Text export for sterile-neutrino dark-matter codes (docs/dilution.md): '#' header lines with the point, D_fin and
    the column meanings, then two blocks, each introduced by a '# block:' line — the kinetic solution
    (T [GeV], Y_Δe, Y_Δμ, Y_Δτ; T descending) and the dilution (T [GeV], D(T))."""
    import numpy as np

    if run.dilution is None or run.dilution["status"] != "success":
        raise ValueError("no successful dilution solve to export")
    p = run.params
    sol = run.solution
    traj = run.dilution["trajectory"]
    lines = ["# lta-jax export: lepton asymmetries and entropy dilution (docs/dilution.md)",
             f"# point: M = {float(p.mass):.10g} GeV, delta_M = {float(p.delta_mass):.10g} GeV, im_omega = "
             f"{float(p.im_omega):.10g}, re_omega = {float(p.re_omega):.10g}, delta = {float(p.delta):.10g}, eta = "
             f"{float(p.eta):.10g}, {p.hierarchy}; kinetics = {run.kinetics}",
             f"# D_fin = {run.dilution['D_fin']:.10g}; frozen yields today = yield(T_in) / D_fin",
             "# block: kinetic  columns: T[GeV] Y_De Y_Dmu Y_Dtau   (Y = n/s, Delta_alpha = L_alpha - B/3)"]
    lines += [" ".join(f"{v:.10e}" for v in (t, *x[:3])) for t, x in zip(sol.temperatures, sol.states)]
    lines.append("# block: dilution  columns: T[GeV] D(T) = (s a^3)(T) / (s a^3)(T_in)")
    lines += [f"{t:.10e} {d:.10e}" for t, d in zip(np.asarray(traj["T"]), np.asarray(traj["D"]))]
    from pathlib import Path

    Path(path).write_text("\n".join(lines) + "\n")
