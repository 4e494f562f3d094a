"""Command line: ``lta-jax solve`` (the contract is documented in the README and in ``lta-jax solve --help``)."""

from __future__ import annotations

import math
import os
import pathlib
import sys
import textwrap
import time
from typing import Optional

# diffrax checks traced arguments (t0/t1/dt0, saved times) with equinox runtime errors, which are host callbacks by
# default, and JAX's persistent compilation cache refuses to store any program with a host callback: every command
# would recompile its solve (≈ 5 s). The command line validates those inputs before anything is traced (the checks
# cannot fail after that), so it asks equinox for its callback-free mode (NaN instead of an exception). Effective
# only when equinox is not imported yet (a fresh process); a user's own setting wins.
os.environ.setdefault("EQX_ON_ERROR", "nan")

import typer

from lta_jax.cache import enable_compilation_cache, enable_program_cache
from lta_jax.studies.output import to_json, write_json_atomic

app = typer.Typer(add_completion=False, rich_markup_mode=None, help="Differentiable kinetic equations of low-scale leptogenesis (νMSM).")

#: The documented default point: the paper's Fig. 18 point (a large-LTA point, docs/physics.md V14), NH.
DEFAULT_POINT = {
    "M": 1.0, "delta_M": 1.26e-11, "im_omega": -0.14, "re_omega": "0.52pi", "delta": "1.30pi", "eta": "1.02pi",
    "hierarchy": "NH", "T_end": 5.0,
}
#: The point options of solve and diagnose (None: the value of DEFAULT_POINT or of a card).
POINT_MASS_OPTION = typer.Option(None, "--M", help="HNL mass M [GeV] (default 1: the paper's Fig.-18 point)")
POINT_DELTA_M_OPTION = typer.Option(None, "--delta-M", help="mass splitting ΔM [GeV] (M2,3 = M ∓ ΔM; default 1.26e-11)")
POINT_IM_OMEGA_OPTION = typer.Option(None, "--im-omega", help="Im ω (default −0.14)")
POINT_RE_OMEGA_OPTION = typer.Option(None, "--re-omega", help="Re ω [rad], or a multiple of π like 1.625pi (default 0.52pi)")
POINT_DELTA_OPTION = typer.Option(None, "--delta", help="Dirac phase δ [rad or Npi] (default 1.30pi)")
POINT_ETA_OPTION = typer.Option(None, "--eta", help="Majorana phase η [rad or Npi] (default 1.02pi)")
POINT_HIERARCHY_OPTION = typer.Option(None, "--hierarchy", help="NH or IH (default NH)")
POINT_RATES_OPTION = typer.Option(None, "--rates", help="computed (default), computed-ulysses, provisional, or a "
                                  "9-column rate table")
POINT_T_START_OPTION = typer.Option(None, "--T-start", help="initial T [GeV] (default max(1e3, 10 T_osc))")
POINT_T_END_OPTION = typer.Option(None, "--T-end", help="final T [GeV] (default 5)")
CARD_KEYS = {"M", "delta_M", "im_omega", "re_omega", "delta", "eta", "hierarchy", "rates", "T_start", "T_end",
             "source_term", "h_plus", "fnv", "rate_scale", "thermo", "susceptibility", "solver", "max_steps", "json", "plot",
             "kinetics", "modes", "dilution", "export", "chiral", "kappa", "gamma_c",
             "gamma_c_drop"}


def _load_card(path: pathlib.Path) -> dict:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python < 3.11
        import tomli as tomllib
    if not path.is_file():
        raise typer.BadParameter(f"card not found: {path}")
    try:
        card = tomllib.loads(path.read_text())
    except Exception as err:  # tomllib.TOMLDecodeError
        raise typer.BadParameter(f"malformed card {path}: {err}") from err
    unknown = set(card) - CARD_KEYS
    if unknown:
        raise typer.BadParameter(f"unknown keys in card {path}: {sorted(unknown)}; allowed: {sorted(CARD_KEYS)}")
    return card


def _prepared_run(settings: dict, after_checks=None):
    """Checks, then the model objects of a solve-like command (lta_jax.cli.settings.prepare_run); bad input exits 2.
    The plain-Python checks run first: bad input fails before JAX is even imported. ``after_checks()`` runs between
    the two (the solve command starts its plot process there)."""
    from lta_jax.cli.checks import check_settings

    try:
        check_settings(settings)
    except (ValueError, FileNotFoundError) as err:
        _fail(str(err))
    if after_checks is not None:
        after_checks()
    from lta_jax.cli import settings as api  # heavy imports after the checks

    try:
        run = api.prepare_run(settings)
    except (ValueError, FileNotFoundError) as err:
        _fail(str(err))
    enable_compilation_cache()
    enable_program_cache()
    typer.echo(f"rates: {run.rates.description}", err=True)
    return run


def _check_outputs(files=(), directory=None) -> None:
    """Every output path before any work (exit 2): ``files`` as (path, option) pairs, ``directory`` = (path, option)."""
    from lta_jax.cli.checks import check_output_dir, check_output_file

    try:
        for path, option in files:
            check_output_file(path, option)
        if directory is not None:
            check_output_dir(*directory)
    except ValueError as err:
        _fail(str(err))


def _stopped(err: Exception) -> None:
    """A campaign stopped by a failure of its work (not of its input): one line on stderr, exit 1."""
    from lta_jax.studies.cluster import ClusterTaskFailed

    if not isinstance(err, ClusterTaskFailed):
        raise err
    typer.echo(f"error: {err}", err=True)
    raise typer.Exit(code=1)


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


@app.command()
def solve(
    M: Optional[float] = POINT_MASS_OPTION,
    delta_M: Optional[float] = POINT_DELTA_M_OPTION,
    im_omega: Optional[float] = POINT_IM_OMEGA_OPTION,
    re_omega: Optional[str] = POINT_RE_OMEGA_OPTION,
    delta: Optional[str] = POINT_DELTA_OPTION,
    eta: Optional[str] = POINT_ETA_OPTION,
    hierarchy: Optional[str] = POINT_HIERARCHY_OPTION,
    rates: Optional[str] = POINT_RATES_OPTION,
    T_start: Optional[float] = POINT_T_START_OPTION,
    T_end: Optional[float] = POINT_T_END_OPTION,
    source_term: Optional[bool] = typer.Option(None, "--source-term/--no-source-term", help="S_eq (default off)"),
    h_plus: Optional[bool] = typer.Option(None, "--h-plus/--no-h-plus", help="keep h̄+ (default on; paper §9)"),
    fnv: Optional[bool] = typer.Option(None, "--fnv/--no-fnv", help="keep the fermion-number-violating rates γ̄− "
                                       "(default on; --no-fnv sets γ̄− = 0 as in the paper's Fig. 13)"),
    rate_scale: Optional[float] = typer.Option(None, "--rate-scale", help="global rate scale κ (paper Fig. 18)"),
    thermo: Optional[str] = typer.Option(None, "--thermo", help="table in the Laine–Meyer format"),
    susceptibility: Optional[str] = typer.Option(None, "--susceptibility", help="susceptibility table"),
    solver: Optional[str] = typer.Option(None, "--solver", help="magnus (default; exponential integrator) or "
                                         "kvaerno5 (implicit Runge–Kutta reference)"),
    max_steps: Optional[int] = typer.Option(None, "--max-steps", help="step limit (default 100000); exceeding it is "
                                            "reported as max_steps_reached"),
    kinetics: Optional[str] = typer.Option(None, "--kinetics", help="averaged (default; 11 equations) or resolved "
                                           "(momentum-resolved, paper §6; --rates computed or a per-mode directory)"),
    modes: Optional[int] = typer.Option(None, "--modes", help="momentum modes of --kinetics resolved (default 48)"),
    with_dilution: Optional[bool] = typer.Option(None, "--dilution/--no-dilution", help="add the entropy dilution by "
                                                 "HNL decays: D_fin, Y_L_eff, Y_B_today, f_DM estimate"),
    export: Optional[pathlib.Path] = typer.Option(None, "--export", help="with --dilution: text file of Y_Δα(T) and "
                                                  "D(T) for dark-matter codes (docs/dilution.md)"),
    chiral: Optional[bool] = typer.Option(None, "--chiral/--no-chiral", help="below T_sph: the right-handed-electron "
                                          "charge R0 with the chiral-condensate law (7.9) (paper §7; docs/chiral.md)"),
    kappa: Optional[float] = typer.Option(None, "--kappa", help="κ of (7.9) (default 0.1, paper Fig. 16)"),
    gamma_c: Optional[float] = typer.Option(None, "--gamma-c", help="γ_C/H above T_* = 40 GeV (default 1e4; "
                                            "0 switches the condensate off: R0 frozen)"),
    gamma_c_drop: Optional[str] = typer.Option(None, "--gamma-c-drop", help="T_* [GeV] where γ_C drops (default 40), "
                                               "or 'max': where the standard run's |Y_Δe| is largest (paper §7)"),
    card: Optional[pathlib.Path] = typer.Option(None, "--card", help="TOML card with the same keys"),
    json_path: Optional[pathlib.Path] = typer.Option(None, "--json", help="write the results as JSON"),
    plot: Optional[pathlib.Path] = typer.Option(None, "--plot", help="write a plot of the asymmetries (PNG)"),
):
    """Solve the kinetic equations for one point (averaged, or momentum-resolved with --kinetics resolved); print and
    optionally save Y_B, the LTA and more.

    Without arguments: the paper's Fig.-18 point with the computed rate model, plot written to lta_solve.png.
    """
    _PROMPT_EXIT["allowed"] = True
    given = {k: v for k, v in dict(M=M, delta_M=delta_M, im_omega=im_omega, re_omega=re_omega, delta=delta, eta=eta,
                                   hierarchy=hierarchy, rates=rates, T_start=T_start, T_end=T_end,
                                   source_term=source_term, h_plus=h_plus, fnv=fnv, rate_scale=rate_scale, thermo=thermo,
                                   susceptibility=susceptibility, solver=solver, max_steps=max_steps, json=json_path,
                                   plot=plot, kinetics=kinetics, modes=modes, dilution=with_dilution,
                                   chiral=chiral, kappa=kappa, gamma_c=gamma_c, gamma_c_drop=gamma_c_drop,
                                   export=export).items() if v is not None}
    settings = dict(DEFAULT_POINT)
    no_input = not given and card is None
    if card is not None:
        settings.update(_load_card(card))
    settings.update(given)
    if no_input and "plot" not in settings:
        settings["plot"] = "lta_solve.png"

    plotter = []  # the figure's drawing process, started once the input is known to be good (cli/plot_process.py)
    if settings.get("plot"):
        from lta_jax.cli import plot_process

        run = _prepared_run(settings, after_checks=lambda: plotter.append(plot_process.start()))
    else:
        run = _prepared_run(settings)
    process = plotter[0] if plotter else None
    try:
        _solve_and_report(run, settings, process)
    finally:
        if process is not None:
            process.close()


def _solve_and_report(run, settings: dict, process) -> None:
    """The solve command after its set-up: solve, print (and write) the JSON, the export and the figures."""
    from lta_jax.cli import settings as api

    t0 = time.perf_counter()
    result = api.execute_run(run)
    result["wall_time_s"] = time.perf_counter() - t0
    text = to_json(result)
    if settings.get("json"):
        pathlib.Path(settings["json"]).write_text(text + "\n")
    typer.echo(text)
    if settings.get("export") and result["status"] == "success":
        api.write_export(run, result, settings["export"])
        typer.echo(f"export written to {settings['export']}", err=True)
    if settings.get("plot") and result["status"] == "success":
        api.write_plot(run, settings["plot"], result.get("Y_B"), process=process)
        typer.echo(f"plot written to {settings['plot']}", err=True)
        if run.chiral is not None and run.chiral.succeeded:
            typer.echo(f"chiral plot (Fig.-16 style) written to {api.chiral_plot_path(settings['plot'])}", err=True)
    if result["status"] != "success":
        typer.echo(f"error: the solve failed ({result['status']}); no observables reported", err=True)
        raise typer.Exit(code=1)


@app.command()
def diagnose(
    M: Optional[float] = POINT_MASS_OPTION,
    delta_M: Optional[float] = POINT_DELTA_M_OPTION,
    im_omega: Optional[float] = POINT_IM_OMEGA_OPTION,
    re_omega: Optional[str] = POINT_RE_OMEGA_OPTION,
    delta: Optional[str] = POINT_DELTA_OPTION,
    eta: Optional[str] = POINT_ETA_OPTION,
    hierarchy: Optional[str] = POINT_HIERARCHY_OPTION,
    rates: Optional[str] = POINT_RATES_OPTION,
    T_start: Optional[float] = POINT_T_START_OPTION,
    T_end: Optional[float] = POINT_T_END_OPTION,
    h_plus: Optional[bool] = typer.Option(None, "--h-plus/--no-h-plus", help="keep h̄+ (default on; paper §9)"),
    fnv: Optional[bool] = typer.Option(None, "--fnv/--no-fnv", help="keep γ̄− (default on; paper Fig. 13)"),
    rate_scale: Optional[float] = typer.Option(None, "--rate-scale", help="global rate scale κ (paper Fig. 18)"),
    card: Optional[pathlib.Path] = typer.Option(None, "--card", help="TOML card with the solve keys"),
    points: int = typer.Option(300, "--points", help="temperatures of the diagnostic grid (log-spaced)"),
    json_path: Optional[pathlib.Path] = typer.Option(None, "--json", help="write everything (with the arrays) as JSON"),
    plot: Optional[pathlib.Path] = typer.Option(None, "--plot", help="six-panel PNG in the style of Figs. 4, 5, 11, 13"),
):
    """Why an asymmetry is made or survives: Γ_N eigenvalues over H (with and without γ̄−), the eigenvalues of the
    linear matrix A(T), δM(T), Γ_osc/H, T_osc, T_in/T_out and L± along a solve (docs/diagnostics.md). stdout: the
    summary as JSON; --json adds the arrays."""
    given = {k: v for k, v in dict(M=M, delta_M=delta_M, im_omega=im_omega, re_omega=re_omega, delta=delta, eta=eta,
                                   hierarchy=hierarchy, rates=rates, T_start=T_start, T_end=T_end, h_plus=h_plus,
                                   fnv=fnv, rate_scale=rate_scale).items() if v is not None}
    settings = dict(DEFAULT_POINT)
    if card is not None:
        settings.update(_load_card(card))
    settings.update(given)
    settings.pop("plot", None)
    settings.pop("json", None)
    if not 10 <= points <= 5000:
        _fail(f"--points must be between 10 and 5000, got {points}")
    _check_outputs([(json_path, "--json"), (plot, "--plot")])
    run = _prepared_run(settings)
    import numpy as np

    from lta_jax.cli import settings as api
    from lta_jax.solver.diagnostics import diagnose as run_diagnostics

    result = api.execute_run(run)
    if result["status"] != "success":
        typer.echo(to_json({"status": result["status"], "inputs": result["inputs"]}))
        typer.echo(f"error: the solve failed ({result['status']}); no diagnostics", err=True)
        raise typer.Exit(code=1)
    temperatures = np.geomspace(run.t_start, run.t_end, points)
    diag = run_diagnostics(run.solution.system, temperatures, run.solution)
    arrays = {k for k, v in diag.items() if isinstance(v, np.ndarray)} | {"run"}
    report = {"status": "success", "inputs": result["inputs"], "Y_B": result["Y_B"], "Y_L_end": result["Y_L_end"]}
    report.update({k: v for k, v in diag.items() if k not in arrays})
    if json_path:
        write_json_atomic(json_path, {**report, **{k: diag[k] for k in arrays}})
        report["json"] = str(json_path)
    if plot:
        from lta_jax.cli.plotting import plot_diagnostics

        p = run.params
        plot_diagnostics(diag, plot, f"M = {float(p.mass):g} GeV, ΔM = {float(p.delta_mass):.3g} GeV, "
                                     f"Im ω = {float(p.im_omega):.4g}, Re ω = {float(p.re_omega) / math.pi:.6g}π, "
                                     f"δ = {float(p.delta) / math.pi:.3g}π, η = {float(p.eta) / math.pi:.3g}π, "
                                     f"{p.hierarchy}\n" + "\n".join(textwrap.wrap(f"rates: {run.rates.description}",
                                                                                  150)))
        report["plot"] = str(plot)
    typer.echo(to_json(report))


# Options shared by the optimiser commands (optimise, envelope).
CANDIDATES_OPTION = typer.Option(8, "--candidates", help="candidates refined together")
GRID_STEPS_OPTION = typer.Option(400, "--grid-steps", help="Magnus4 steps of every solve (fixed grid)")
SCHEDULER_OPTION = typer.Option(None, "--scheduler", help="run on a running Dask cluster: the scheduler's address "
                                "(tcp://host:8786; docs/cluster.md)")
WORKERS_OPTION = typer.Option(None, "--workers", help="run on a local Dask cluster of N worker processes "
                              "(default: in this process)")
def _check_rate_uncertainty(value) -> None:
    from lta_jax.model.validity import check_uncertainty_factor

    try:
        check_uncertainty_factor(value)
    except ValueError as err:
        raise ValueError(f"--rate-uncertainty: {err}") from None


def _check_gradient_cost(value) -> None:
    if value is not None and not (math.isfinite(value) and value >= 1):
        raise ValueError(f"--gradient-cost must be ≥ 1 solve-equivalent, got {value!r}")


GRADIENT_OPTION = typer.Option("reverse", "--gradient", help="the refinement's derivatives: reverse (exact reverse "
                               "mode, default), forward (exact forward mode) or fd (forward differences)")
RATE_UNCERTAINTY_OPTION = typer.Option(1.0, "--rate-uncertainty", help="F ≥ 1: every rate coefficient gets a smooth "
                                       "nuisance factor in [1/F, F] that the optimiser moves too (docs/optimisation.md)")
GRADIENT_COST_OPTION = typer.Option(None, "--gradient-cost", help="solve-equivalents charged per value + Jacobian "
                                    "(default: measured; fix it for runs that are reproducible on any machine)")
START_OPTION = typer.Option("sample", "--start", help="sample (Sobol screen of the large-LTA box) or freeze-out "
                            "(the paper's §5.3 recipe: T_out from the Γ_N eigenvalues, (ΔM, Re ω) minimising δM(T_out); "
                            "its guesses are refined first and the screen samples their vicinity)")
LTA_T_END_OPTION = typer.Option(10.0, "--T-end", help="temperature where the LTA is evaluated [GeV]")
STUDY_KINETICS_OPTION = typer.Option("averaged", "--kinetics", help="averaged (default; 11 equations) or resolved "
                                     "(momentum-resolved equations: every solve and the BAU constraint; docs/resolved.md)")
STUDY_MODES_OPTION = typer.Option(None, "--modes", help="momentum modes of --kinetics resolved (default 48, plus 5 low modes)")


@app.command()
def optimise(
    objective: str = typer.Option("lta", "--objective", help="lta (|Y_L(T_end)|), effective-lta (|Y_L(T_end)|/D_fin after the dilution by HNL decays) or max-ye (max |Y_Δe|, T ≤ T_sph)"),
    M: float = typer.Option(1.0, "--M", help="HNL mass [GeV] (with --free-M: only the hierarchy reference)"),
    free_M: bool = typer.Option(False, "--free-M", help="optimise M as well (within --mass-range)"),
    mass_range: tuple[float, float] = typer.Option((0.1, 30.0), "--mass-range", help="M bounds with --free-M [GeV]"),
    hierarchy: str = typer.Option("NH", "--hierarchy", help="NH or IH"),
    bau: bool = typer.Option(True, "--bau/--no-bau", help="impose Y_B within the band around the target"),
    bau_target: float = typer.Option(8.7e-11, "--bau-target", help="required Y_B"),
    bau_tolerance: float = typer.Option(0.1, "--bau-tolerance", help="relative band around the target"),
    budget: float = typer.Option(1000, "--budget", help="solve-equivalents (a value + gradient counts its measured cost)"),
    candidates: int = CANDIDATES_OPTION,
    grid_steps: int = GRID_STEPS_OPTION,
    rates: Optional[str] = typer.Option(None, "--rates", help="computed (default), computed-ulysses, provisional, or a 9-column table"),
    T_end: float = LTA_T_END_OPTION,
    seed: int = typer.Option(0, "--seed"),
    cp_symmetry: bool = typer.Option(True, "--cp-symmetry/--no-cp-symmetry",
                                     help="fold Y_B = −target onto +target by CP conjugation (exact; default on)"),
    start: str = START_OPTION,
    gradient_cost: Optional[float] = GRADIENT_COST_OPTION,
    gradient: str = GRADIENT_OPTION,
    rate_uncertainty: float = RATE_UNCERTAINTY_OPTION,
    kinetics: str = STUDY_KINETICS_OPTION,
    modes: Optional[int] = STUDY_MODES_OPTION,
    json_path: Optional[pathlib.Path] = typer.Option(None, "--json", help="write best point, budget and history"),
    plot: Optional[pathlib.Path] = typer.Option(None, "--plot", help="PNG of the search against the budget"),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="progress bar on stderr"),
):
    """Maximise the LTA or max |Y_e| under the BAU constraint: a Sobol screen of the large-LTA box, then projected
    gradient refinement of the best candidates (lta_jax/studies/optimise.py; docs/optimisation.md)."""
    from lta_jax.model.validity import check_hierarchy
    from lta_jax.studies.choices import (CLI_NAMES, GRADIENT_METHODS, MAX_BUDGET, OBJECTIVES, STARTS,
                                         check_study_kinetics)

    _check_outputs([(json_path, "--json"), (plot, "--plot")])
    try:  # checks first, with light imports only: a wrong option exits 2 before JAX is imported
        check_hierarchy(hierarchy.upper())
        if gradient not in GRADIENT_METHODS:
            raise ValueError(f"--gradient must be one of {GRADIENT_METHODS}, got {gradient!r}")
        if objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
        for name, value in (("--budget", budget), ("--bau-target", bau_target), ("--bau-tolerance", bau_tolerance),
                            ("--M", M)):
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be positive and finite, got {value!r}")
        if budget > MAX_BUDGET:
            raise ValueError(f"--budget {budget:g} is more than the optimiser runs (at most {MAX_BUDGET:.0e} "
                             "solve-equivalents)")
        if candidates < 1:
            raise ValueError("--candidates must be ≥ 1")
        if start not in STARTS:
            raise ValueError(f"--start must be one of {STARTS}, got {start!r}")
        _check_gradient_cost(gradient_cost)
        _check_rate_uncertainty(rate_uncertainty)
        check_study_kinetics(kinetics, modes, rate_uncertainty, objective, free_M, names=CLI_NAMES)
        from lta_jax.studies import optimise as opt
        from lta_jax.cli.settings import rate_model_from_spec
        enable_compilation_cache()
        rate_model = rate_model_from_spec(rates)
        for m in (mass_range if free_M else (M,)):
            rate_model.check_range(T_end, 1e3, m)
        result = opt.optimise(rate_model, objective=objective, mass=M, free_mass=free_M, mass_bounds=mass_range,
                              hierarchy=hierarchy.upper(), bau=bau, bau_target=bau_target, bau_tolerance=bau_tolerance,
                              budget=budget, candidates=candidates, seed=seed, t_end=T_end, cp_symmetry=cp_symmetry,
                              steps=grid_steps, start=start, gradient_cost=gradient_cost, gradient=gradient,
                              rate_uncertainty=rate_uncertainty, progress=progress, kinetics=kinetics,
                              n_modes=modes)
    except (ValueError, FileNotFoundError) as err:
        _fail(str(err))
    out = result.to_json()
    out["settings"]["rates"] = rate_model.description
    out["settings"]["cp_symmetry"] = cp_symmetry
    if json_path:
        write_json_atomic(json_path, out)
    if plot:
        from lta_jax.cli.plotting import plot_history

        plot_history(result, plot)
    summary_out = {k: v for k, v in out.items() if k != "history"}
    typer.echo(to_json(summary_out))


@app.command()
def explore(
    M: float = typer.Option(..., "--M", help="HNL mass [GeV] (fixed)"),
    hierarchy: str = typer.Option("NH", "--hierarchy", help="NH or IH"),
    box: str = typer.Option("large-lta", "--box", help="large-lta or broad (the paper's Table 1)"),
    bau_width: float = typer.Option(0.1, "--bau-width", help="width W of the likelihood exp(−½ (ln(Y_B/8.7e-11)/W)²)"),
    chains: int = typer.Option(4, "--chains", help="chains (run vmapped)"),
    budget: float = typer.Option(20000, "--budget", help="solve-equivalents, warm-up included (a gradient counts its measured cost)"),
    seed: int = typer.Option(0, "--seed"),
    out: pathlib.Path = typer.Option(..., "--out", help="directory: samples.h5, summary.json, state.npz (a rerun continues the chains)"),
    kernel: str = typer.Option("nuts", "--kernel", help="nuts or hmc (BlackJAX)"),
    warmup: int = typer.Option(100, "--warmup", help="window-adaptation steps per chain"),
    grid_steps: int = GRID_STEPS_OPTION,
    T_end: float = LTA_T_END_OPTION,
    rates: Optional[str] = typer.Option(None, "--rates", help="computed (default), computed-ulysses, provisional, or a 9-column table"),
    plot: bool = typer.Option(False, "--plot", help="write OUT/fig6_lta_vs_parameters.png, OUT/fig7_im_omega_delta_M.png, OUT/corner.png"),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="progress on stderr"),
    scheduler: Optional[str] = SCHEDULER_OPTION,
    workers: Optional[int] = WORKERS_OPTION,
):
    """Sample the BAU-compatible region at fixed M with BlackJAX (NUTS or HMC on exact reverse-mode gradients): the
    paper's Figs. 6 and 7 as posterior samples instead of scans (lta_jax/studies/explore.py; docs/exploration.md).
    With --workers/--scheduler the chains run in groups on a Dask cluster (one group per worker)."""
    from lta_jax.studies.explore import ExploreSettings, check_settings

    _check_outputs(directory=(out, "--out"))
    try:  # every check before JAX is imported
        check_settings(ExploreSettings(mass=M, hierarchy=hierarchy.upper(), box=box, bau_width=bau_width,
                                       chains=chains, budget=budget, warmup=warmup, seed=seed, kernel=kernel,
                                       steps=grid_steps, t_end=T_end))
        from lta_jax.studies.cluster import cluster_options
        cluster = cluster_options(scheduler, workers)
        from lta_jax.cli.settings import rate_model_from_spec
        from lta_jax.studies.explore import explore as run_explore

        enable_compilation_cache()
        rate_model = rate_model_from_spec(rates)
        rate_model.check_range(T_end, 1e3, M)
        result = run_explore(M, hierarchy=hierarchy.upper(), box=box, bau_width=bau_width, chains=chains,
                             budget=budget, seed=seed, out=out, progress=progress, kernel=kernel, warmup=warmup,
                             steps=grid_steps, t_end=T_end,
                             rates=rate_model if cluster is None else (rates or "computed"), cluster=cluster)
    except (ValueError, FileNotFoundError) as err:
        _fail(str(err))
    except RuntimeError as err:  # lta_jax.studies.cluster.ClusterTaskFailed: one line, finished groups kept
        _stopped(err)
    summary = dict(result.summary)
    summary["settings"] = {**summary["settings"], "rates": rate_model.description}
    if plot:
        from lta_jax.cli.plotting import plot_explore

        summary["figures"] = plot_explore(result.samples, summary, out)
    typer.echo(to_json(summary))


@app.command()  # long: most of its lines declare its options
def envelope(
    more_masses: Optional[list[float]] = typer.Argument(None, help="further masses after --masses (--masses 0.5 1 2)",
                                                         show_default=False),
    masses: Optional[float] = typer.Option(None, "--masses", help="HNL masses [GeV]: --masses 0.5 1 2 5 10 20 30"),
    objective: str = typer.Option("lta", "--objective", help="lta (|Y_L(T_end)|), effective-lta (|Y_L|/D_fin, after dilution) or max-ye"),
    hierarchy: str = typer.Option("NH", "--hierarchy", help="NH or IH"),
    bau: Optional[bool] = typer.Option(None, "--bau/--no-bau", help="only with / only without the BAU constraint "
                                       "(default: both curves)"),
    budget_per_mass: float = typer.Option(1000, "--budget-per-mass", help="solve-equivalents per mass and curve"),
    candidates: int = CANDIDATES_OPTION,
    grid_steps: int = GRID_STEPS_OPTION,
    rates: Optional[str] = typer.Option(None, "--rates", help="computed (default), computed-ulysses, provisional, or a 9-column table"),
    T_end: float = LTA_T_END_OPTION,
    seed: int = typer.Option(0, "--seed"),
    start: str = START_OPTION,
    out: pathlib.Path = typer.Option(..., "--out", help="output directory (an existing one is resumed)"),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="progress bars on stderr"),
    scheduler: Optional[str] = SCHEDULER_OPTION,
    workers: Optional[int] = WORKERS_OPTION,
    gradient_cost: Optional[float] = GRADIENT_COST_OPTION,
    gradient: str = GRADIENT_OPTION,
    rate_uncertainty: float = RATE_UNCERTAINTY_OPTION,
    kinetics: str = STUDY_KINETICS_OPTION,
    modes: Optional[int] = STUDY_MODES_OPTION,
    schedule: Optional[str] = typer.Option(None, "--schedule", help="chain (masses in order, each from the one below; "
                                           "default in-process) or waves (even masses, then odd ones, in parallel; "
                                           "default on a cluster)"),
):
    """The largest LTA or max |Y_e| against M, with and without the BAU constraint (the paper's Figs. 8, 9, 17):
    one optimisation per mass, warm-started from its neighbours; resumable (rerun the same command)."""
    from lta_jax.model.validity import check_hierarchy
    from lta_jax.studies.choices import (CLI_NAMES, GRADIENT_METHODS, MAX_BUDGET, OBJECTIVES, SCHEDULES, STARTS,
                                         check_study_kinetics)

    mass_list = ([masses] if masses is not None else []) + list(more_masses or [])
    _check_outputs(directory=(out, "--out"))
    try:  # checks first, with light imports only: a wrong option exits 2 before JAX is imported
        check_hierarchy(hierarchy.upper())
        if objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
        if not mass_list:
            raise ValueError("give the masses: --masses 0.5 1 2 5 10 20 30")
        if start not in STARTS:
            raise ValueError(f"--start must be one of {STARTS}, got {start!r}")
        if not (math.isfinite(budget_per_mass) and 0 < budget_per_mass <= MAX_BUDGET):
            raise ValueError(f"--budget-per-mass must be positive and at most {MAX_BUDGET:.0e}, "
                             f"got {budget_per_mass!r}")
        _check_gradient_cost(gradient_cost)
        if gradient not in GRADIENT_METHODS:
            raise ValueError(f"--gradient must be one of {GRADIENT_METHODS}, got {gradient!r}")
        _check_rate_uncertainty(rate_uncertainty)
        check_study_kinetics(kinetics, modes, rate_uncertainty, objective, names=CLI_NAMES)
        if schedule is not None and schedule not in SCHEDULES:
            raise ValueError(f"--schedule must be one of {SCHEDULES}, got {schedule!r}")
        if any(not (math.isfinite(m) and m > 0) for m in mass_list):
            raise ValueError(f"masses must be positive numbers, got {mass_list!r}")
        from lta_jax.studies.cluster import cluster_options
        cluster = cluster_options(scheduler, workers)
        from lta_jax.studies import envelope as env
        enable_compilation_cache()
        constraints = (True, False) if bau is None else (bau,)
        result = env.run_envelope(rates or "computed", out, masses=mass_list, objective=objective,
                                  hierarchy=hierarchy.upper(), constraints=constraints,
                                  budget_per_mass=budget_per_mass, seed=seed, t_end=T_end, progress=progress,
                                  steps=grid_steps, candidates=candidates, start=start,
                                  log=lambda msg: typer.echo(msg, err=True), cluster=cluster, schedule=schedule,
                                  gradient_cost=gradient_cost, gradient=gradient, kinetics=kinetics, n_modes=modes)
        band = None
        if rate_uncertainty > 1:  # the optimistic edge: the same envelope with the rate factors free within [1/F, F]
            band = env.run_envelope(rates or "computed", out / f"rate_uncertainty_{rate_uncertainty:g}",
                                    masses=mass_list, objective=objective, hierarchy=hierarchy.upper(),
                                    constraints=constraints, budget_per_mass=budget_per_mass, seed=seed, t_end=T_end,
                                    progress=progress, steps=grid_steps, candidates=candidates, start=start,
                                    log=lambda msg: typer.echo(msg, err=True), cluster=cluster, schedule=schedule,
                                    gradient_cost=gradient_cost, gradient=gradient, rate_uncertainty=rate_uncertainty)
    except (ValueError, FileNotFoundError) as err:
        _fail(str(err))
    except RuntimeError as err:  # lta_jax.studies.cluster.ClusterTaskFailed: one line, finished masses kept
        _stopped(err)
    env.plot_envelope(result, out / "envelope.png", band=band)
    rows = [{"M": p["M"], "bau": p["bau"], "objective": p["best"].get("objective"),
             "feasible": p["best"].get("feasible"), "Y_B": p["best"].get("Y_B")}
            | {k: p["best"][k] for k in ("D_fin", "f_DM_estimate") if k in p["best"]} for p in result["points"]]
    if band is not None:
        edge = {(p["M"], p["bau"]): p["best"] for p in band["points"]}
        for row in rows:
            best = edge.get((row["M"], row["bau"]), {})
            row["optimistic"] = {"objective": best.get("objective"), "feasible": best.get("feasible"),
                                 "rate_factors": best.get("rate_factors")}
    typer.echo(to_json({"out": str(out), "json": str(out / "envelope.json"), "plot": str(out / "envelope.png"),
                        "points": rows}))


@app.command()
def scan(
    card: pathlib.Path = typer.Option(..., "--card", help="scan card (TOML; format in docs/scans.md)"),
    out: pathlib.Path = typer.Option(..., "--out", help="output directory (created; an existing one is resumed)"),
    max_chunks: Optional[int] = typer.Option(None, "--max-chunks", help="stop after this many new chunks"),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="progress bar on stderr"),
    scheduler: Optional[str] = SCHEDULER_OPTION,
    workers: Optional[int] = WORKERS_OPTION,
):
    """Grid/random/Sobol scan of any subset of the six parameters; resumable (rerun the same command)."""
    from lta_jax.studies.scan import parse_card, run_scan

    try:
        import tomllib
    except ModuleNotFoundError:  # Python < 3.11
        import tomli as tomllib
    if not card.is_file():
        _fail(f"card not found: {card}")
    try:
        card_dict = tomllib.loads(card.read_text())
        parse_card(card_dict)
    except Exception as err:  # TOML syntax or card content: exit 2 before any compilation
        _fail(f"bad scan card {card}: {err}")
    _check_outputs(directory=(out, "--out"))
    from lta_jax.studies.cluster import cluster_options
    try:  # the command line overrides the card's [cluster] table
        cluster = cluster_options(scheduler, workers, card_dict.get("cluster"))
    except ValueError as err:
        _fail(str(err))
    enable_compilation_cache()
    try:
        report = run_scan(card_dict, out, progress=progress, max_chunks=max_chunks, cluster=cluster)
    except (ValueError, FileNotFoundError) as err:
        _fail(str(err))
    except RuntimeError as err:  # lta_jax.studies.cluster.ClusterTaskFailed: one line, finished chunks kept
        _stopped(err)
    typer.echo(to_json({"out": str(report.out_dir), "points": report.n_points, "done_before": report.done_before,
                           "solved_now": report.solved_now, "failed_now": report.failed,
                           "seconds": round(report.seconds, 2),
                           "complete": (report.out_dir / "results.h5").exists(),
                           "executor": "in-process" if cluster is None else cluster.description}))


@app.command()
def rates(
    M: float = typer.Option(1.0, "--M", help="HNL mass [GeV]"),
    rates_spec: str = typer.Option("computed", "--rates", help="computed (default), computed-ulysses, provisional, or a 9-column table"),
    out: pathlib.Path = typer.Option(..., "--out", help="output table (9 columns, T descending, E format)"),
    T_high: float = typer.Option(1e5, "--T-high", help="highest temperature [GeV]"),
    T_low: float = typer.Option(5.0, "--T-low", help="lowest temperature [GeV]"),
    rows: int = typer.Option(1501, "--rows", help="number of rows (uniform in ln T)"),
    plot: Optional[pathlib.Path] = typer.Option(None, "--plot", help="PNG overlaying this model and --compare"),
    compare: Optional[pathlib.Path] = typer.Option(None, "--compare", help="a 9-column table to overlay/compare"),
):
    """Write a rate model as a 9-column table in the authors' format; optionally plot it against another table."""
    try:  # plain checks first: bad input exits 2 before JAX is imported
        if not (math.isfinite(M) and M > 0):
            raise ValueError(f"HNL mass M must be positive and finite, got {M!r}")
        if not (0 < T_low < T_high and math.isfinite(T_high)):
            raise ValueError(f"need 0 < T_low < T_high, got {T_low!r}, {T_high!r}")
        if rows < 2:
            raise ValueError("need at least 2 rows")
    except ValueError as err:
        _fail(str(err))
    _check_outputs([(out, "--out"), (plot, "--plot")])
    from lta_jax.rates.base import TabulatedRates
    from lta_jax.rates.computed import rate_table, write_rate_table
    from lta_jax.rates.specs import rate_model_from_spec

    try:
        enable_compilation_cache()
        model = rate_model_from_spec(rates_spec)
        model.check_range(T_low, T_high, M)
        other = TabulatedRates.from_file(compare) if compare else None
    except (ValueError, FileNotFoundError) as err:
        _fail(str(err))
    table = rate_table(model, M, T_high, T_low, rows)
    write_rate_table(out, table)
    report = {"out": str(out), "M": M, "rates": model.description, "rows": rows}
    if other is not None:
        from lta_jax.cli.plotting import rate_ratios
        report["ratios"] = rate_ratios(table, other, M)
    if plot:
        from lta_jax.cli.plotting import plot_rate_tables
        plot_rate_tables(table, other, M, plot, model.description,
                         other_label=compare.name if compare is not None else "table")
        report["plot"] = str(plot)
    typer.echo(to_json(report))


@app.command()
def dilution(
    M: float = typer.Option(1.0, "--M", help="HNL mass [GeV]"),
    delta_M: float = typer.Option(1.26e-11, "--delta-M", help="mass splitting ΔM [GeV] (M2,3 = M ∓ ΔM)"),
    im_omega: float = typer.Option(-0.14, "--im-omega", help="Im ω"),
    re_omega: str = typer.Option("0.52pi", "--re-omega", help="Re ω [rad or Npi]"),
    delta: str = typer.Option("1.30pi", "--delta", help="Dirac phase δ [rad or Npi]"),
    eta: str = typer.Option("1.02pi", "--eta", help="Majorana phase η [rad or Npi]"),
    hierarchy: str = typer.Option("NH", "--hierarchy", help="NH or IH"),
    T_in: float = typer.Option(5.0, "--T-in", help="start of the late-time problem [GeV] (HNLs in equilibrium)"),
    T_fin: float = typer.Option(1e-4, "--T-fin", help="end [GeV] (default 0.1 MeV)"),
    lifetime_limit: float = typer.Option(0.02, "--lifetime-limit", help="flag HNL lifetimes above this [s] (BBN)"),
    scan_mass: Optional[list[float]] = typer.Option(None, "--scan-mass", help="masses [GeV] for a D_fin table at "
                                                    "Im ω = 0, 1, 2 (paper Fig. 3); repeat the option"),
    json_path: Optional[pathlib.Path] = typer.Option(None, "--json", help="write the result (with the trajectory)"),
    plot: Optional[pathlib.Path] = typer.Option(None, "--plot", help="PNG: Γ/H, yields, D(T) (or D_fin vs M)"),
):
    """Entropy dilution by HNL decays (paper §3): D_fin, lifetimes and D(T) for one point, or D_fin against M."""
    from lta_jax.model.validity import check_hierarchy, check_parameter_values, parse_angle

    try:
        check_hierarchy(hierarchy.upper())
        angles = dict(re_omega=parse_angle(re_omega), delta=parse_angle(delta), eta=parse_angle(eta))
        masses = list(scan_mass) if scan_mass else [M]
        for mass in masses:
            check_parameter_values(mass=mass, delta_mass=delta_M, im_omega=im_omega, **angles)
        if not (0 < T_fin < T_in):
            raise ValueError(f"need 0 < T_fin < T_in, got {T_in!r}, {T_fin!r}")
        if not lifetime_limit > 0:
            raise ValueError(f"lifetime limit must be positive, got {lifetime_limit!r}")
    except ValueError as err:
        _fail(str(err))
    _check_outputs([(json_path, "--json"), (plot, "--plot")])
    enable_compilation_cache()
    from lta_jax.model.parameters import ModelParameters
    from lta_jax.plasma.thermodynamics import in_house_thermodynamics
    from lta_jax.studies import dilution as dil

    def point(mass, imw):
        return ModelParameters(mass, delta_M, imw, angles["re_omega"], angles["delta"], angles["eta"],
                               hierarchy=hierarchy.upper())

    common = dict(t_in=T_in, t_fin=T_fin, lifetime_limit_s=lifetime_limit)
    if scan_mass:
        table = {}
        rows = []
        for imw in (0.0, 1.0, 2.0):
            table[imw] = []
            for mass in masses:
                out = dil.dilution(point(mass, imw), **common)
                table[imw].append(out["D_fin"])
                rows.append({"M": mass, "im_omega": imw, **{k: out[k] for k in (
                    "status", "D_fin", "lifetimes_s", "lifetime_exceeds_limit")}})
                typer.echo(f"M = {mass:g} GeV, Im ω = {imw:g}: D_fin = {out['D_fin']:.4g}", err=True)
        report = {"masses": masses, "rows": rows, "inputs": {"delta_M": delta_M, **angles, "hierarchy": hierarchy,
                                                              "T_in": T_in, "T_fin": T_fin}}
        if plot:
            from lta_jax.cli.plotting import plot_dilution_scan
            plot_dilution_scan(masses, table, plot, f"D_fin against M, Re ω = {angles['re_omega'] / math.pi:.3g}π, "
                               f"δ = {angles['delta'] / math.pi:.3g}π, η = {angles['eta'] / math.pi:.3g}π, "
                               f"ΔM = {delta_M:.3g} GeV, {hierarchy.upper()}")
            report["plot"] = str(plot)
        text = to_json(report)
    else:
        params = point(M, im_omega)
        out = dil.dilution(params, **common)
        report = {k: v for k, v in out.items() if k != "trajectory"}
        report["inputs"] = params.as_dict()
        text = to_json(report)
        if json_path:
            write_json_atomic(json_path, {**report, "trajectory": out["trajectory"]})
        if plot and out["status"] == "success":
            from lta_jax.cli.plotting import plot_dilution
            plot_dilution(out, M, dil.hnl_decay_widths(params), in_house_thermodynamics(), plot,
                          f"M = {M:g} GeV, Im ω = {im_omega:g}, {hierarchy.upper()}: late-time HNL decays")
    if scan_mass and json_path:
        write_json_atomic(json_path, report)
    typer.echo(text)


@app.command()
def version():
    """Print the package version."""
    from importlib.metadata import version as _v

    typer.echo(_v("lta-jax"))


#: Set by commands that may end with a prompt exit (:func:`main`).
_PROMPT_EXIT = {"allowed": False}


def _plain_physics_warnings() -> None:
    """On the command line a PhysicsWarning reads ``warning: <message>`` on stderr: the file and line it would name
    are the ``lta-jax`` entry script's, which tell a user nothing. Other warnings keep Python's format."""
    import warnings

    from lta_jax.warnings import PhysicsWarning

    shown = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, PhysicsWarning):
            (file or sys.stderr).write(f"warning: {message}\n")
        else:
            shown(message, category, filename, lineno, file, line)

    warnings.showwarning = show


def _end_promptly() -> None:
    """The last exit handler of ``lta-jax`` (registered before anything else, handlers run last-in first-out): after
    a command that allows it, end the process here, once every other handler (JAX's among them) has run, instead of
    going on to the interpreter's teardown."""
    code = _PROMPT_EXIT.get("code")
    if code is None:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def main():  # pragma: no cover
    """Entry point of ``lta-jax``. After ``solve``, the process ends as soon as its exit handlers have run: the
    interpreter's teardown (destroying JAX's compiled programs and backend, module by module) took 0.5 s of a
    repeated ``lta-jax solve``'s ≈ 4 s, with nothing left to do by then (its files are written and closed, the plot
    process has finished). How, with public interfaces only: :func:`_end_promptly` is registered with ``atexit``
    before JAX is imported (the command line imports it only after its checks; a test keeps it so), so it runs after
    every handler registered later, and Python calls the handlers before it tears the interpreter down. Other
    commands (Dask clusters among them) end as usual."""
    import atexit

    _plain_physics_warnings()
    atexit.register(_end_promptly)
    try:
        app()
    except SystemExit as stop:
        if _PROMPT_EXIT["allowed"] and (stop.code is None or isinstance(stop.code, int)):
            _PROMPT_EXIT["code"] = stop.code or 0
        raise


if __name__ == "__main__":  # pragma: no cover
    main()
