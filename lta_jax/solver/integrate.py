"""Solve the kinetic equations for one point — the package's main entry point.

The path of :func:`solve` reads in order: validate and set up (:func:`lta_jax.solver.setup.prepare`: defaults, range
checks, the rate table of the mass) → the point's system → the method's run (:mod:`lta_jax.solver.methods`, selected by
:class:`SolverOptions`) → a :class:`~lta_jax.solver.result.Solution`, whose observables are in
:mod:`lta_jax.solver.observables`. Caching (rate tables, exported programs: :mod:`lta_jax.cache`) wraps the steps
without changing them.

One code path serves a single solve, ``jax.vmap`` batches, ``jax.grad``/``jax.jacfwd`` and GPU: :func:`solve_arrays` is a
pure function of array inputs; :func:`solve` validates concrete inputs first (clear errors before any compilation),
then calls the compiled core and wraps the result.
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp

from lta_jax.cache import cached_program_call
from lta_jax.kinetics.averaged import KineticOptions, KineticSystem, initial_state
from lta_jax.model.parameters import ModelParameters
from lta_jax.model.validity import check_temperatures  # noqa: F401  (re-exported)
from lta_jax.plasma.susceptibility import Susceptibility
from lta_jax.plasma.thermodynamics import Thermodynamics
from lta_jax.rates.base import RateModel
from lta_jax.rates.interpolated import InterpolatedRates, cached_table  # noqa: F401  (cached_table re-exported)
from lta_jax.solver.methods import (SOLVERS, ContractionChord, SolverOptions, adaptive_controller,  # noqa: F401
                                    default_solver, first_step)
from lta_jax.solver.resolved import solve_resolved_arrays
from lta_jax.solver.result import (KINETICS, N_SPHALERON_POINTS, SPHALERON_WINDOW, RawSolution,  # noqa: F401
                                   ResolvedSolution, Solution, SolveError, output_points, raw_solution_structure,
                                   result_message)
from lta_jax.solver.setup import (build_system, default_start_temperature, prepare, resolved_rates,  # noqa: F401
                                  set_up_system)

# Former private names, kept for callers of earlier versions.
_build_system = build_system
_result_message = result_message


def solve_arrays(system: KineticSystem, t_start, t_end, y0=None,
                 solver_options: SolverOptions = SolverOptions()) -> RawSolution:
    """Pure, traceable solve from ``t_start`` down to ``t_end`` [GeV]; no validation (use :func:`solve`).

    ``y0`` defaults to :func:`lta_jax.kinetics.averaged.initial_state`. Saves ``n_save`` points uniform in z, the state at
    T_sph = 131.7 GeV and a fine grid in the sphaleron window 160–110 GeV (clipped to the integration range).
    """
    mass = system.params.mass
    t_start = jnp.asarray(t_start, dtype=float)
    t_end = jnp.asarray(t_end, dtype=float)
    if solver_options.tabulate_rates and system.rates.expensive:
        # Traced table (batches over M, Jacobians): built here so every derivative flows through it.
        system = eqx.tree_at(lambda s: s.rates, system, InterpolatedRates.build(system.rates, mass, t_end, t_start))
    z0, z1 = jnp.log(mass / t_start), jnp.log(mass / t_end)
    if y0 is None:
        y0 = initial_state(system, t_start)
    n = solver_options.n_save
    z_main, z_sph, z_window, z_all, _, _ = output_points(mass, z0, z1, n)
    ys, result, (steps, accepted, rejected) = solver_options.method.run(system, z0, z1, y0, z_all, n, z_sph)
    return RawSolution(z=z_main, states=ys[:n], z_sph=z_sph, state_sph=ys[n], z_window=z_window,
                       states_window=ys[n + 1:], result=result, num_steps=steps, num_accepted_steps=accepted,
                       num_rejected_steps=rejected)


_solve_compiled = eqx.filter_jit(solve_arrays)


def _run_solve(system, t_start, t_end, y0, solver_options) -> RawSolution:
    """The compiled solve: a serialised program when the command line has switched the program cache on
    (:func:`lta_jax.cache.cached_program_call`; no tracing in a repeated command), else the jitted function."""
    args = (system, t_start, t_end, y0, solver_options)
    raw = cached_program_call("solve", solve_arrays, args, raw_solution_structure())
    return _solve_compiled(*args) if raw is None else raw


def validate_setup(params: ModelParameters, rates: RateModel, t_start, t_end, thermo=None, susceptibility=None):
    """Validate a concrete set-up before any compilation; returns (t_start, t_end, thermo, susceptibility) with the
    defaults filled in (:func:`lta_jax.solver.setup.prepare` without tabulating)."""
    s = prepare(params, rates, t_start=t_start, t_end=t_end, thermo=thermo, susceptibility=susceptibility,
                tabulate=False)
    return s.t_start, s.t_end, s.thermo, s.susceptibility


def solve(
    params: ModelParameters,
    rates: RateModel,
    *,
    t_start: float | None = None,
    t_end: float = 5.0,
    thermo: Thermodynamics | None = None,
    susceptibility: Susceptibility | None = None,
    options: KineticOptions | None = None,
    solver_options: SolverOptions | None = None,
    y0=None,
    raise_on_failure: bool = False,
    kinetics: str = "averaged",
    n_modes: int | None = None,
    resolved_options=None,
) -> Solution:
    """Solve the 11 averaged kinetic equations for one parameter point (docs/physics.md §2).

    Args:
        params: the model point (:class:`lta_jax.ModelParameters`).
        rates: a rate model (e.g. :class:`lta_jax.rates.base.TabulatedRates`).
        t_start: initial temperature [GeV]; default max(10³ GeV, 10 T_osc) (docs/physics.md §2.5).
        t_end: final temperature [GeV] (default 5 GeV).
        thermo, susceptibility: defaults are the in-house models.
        options: physics switches (:class:`lta_jax.kinetics.averaged.KineticOptions`).
        solver_options: numerics (:class:`SolverOptions`).
        y0: initial 11-vector (default: no HNLs, no asymmetries).
        raise_on_failure: raise :class:`SolveError` instead of returning a solution whose ``status`` is not success.
        kinetics: "averaged" (the 11 momentum-averaged equations) or "resolved" (the momentum-resolved equations of
            paper §6, :mod:`lta_jax.kinetics.resolved`; returns a :class:`ResolvedSolution`).
        n_modes: momentum modes of the resolved equations (default 48: the paper's grid (6.2), to which the five
            low modes of :data:`lta_jax.kinetics.resolved.LOW_MODES` are added); with per-mode rate tables the grid is
            the tables' modes.
        resolved_options: numerics of the resolved equations (:class:`lta_jax.solver.resolved.ResolvedOptions`).

    Inputs are validated before compilation; a failed integration is reported by ``Solution.status`` (and never as
    numbers: :func:`lta_jax.solver.observables.summary` returns NaN observables for it).
    """
    if kinetics not in KINETICS:
        raise ValueError(f"kinetics must be one of {KINETICS}, got {kinetics!r}")
    if kinetics == "resolved":
        if y0 is not None or solver_options is not None:
            raise ValueError("the resolved equations take resolved_options (not y0 or solver_options)")
        return _solve_resolved(params, rates, t_start, t_end, thermo, susceptibility, options, n_modes,
                               resolved_options, raise_on_failure)
    if n_modes is not None or resolved_options is not None:
        raise ValueError("n_modes and resolved_options need kinetics='resolved'")
    solver_options = SolverOptions() if solver_options is None else solver_options
    setup = prepare(params, rates, t_start=t_start, t_end=t_end, thermo=thermo, susceptibility=susceptibility,
                    options=options, tabulate=solver_options.tabulate_rates)
    if y0 is not None:
        y0 = jnp.asarray(y0, dtype=float)
        if y0.shape != (11,) or not bool(jnp.all(jnp.isfinite(y0))):
            raise ValueError(f"initial state must be 11 finite numbers, got shape {y0.shape}")
    system = setup.system()
    raw = _run_solve(system, jnp.asarray(setup.t_start), jnp.asarray(setup.t_end), y0, solver_options)
    return _finished(Solution(system=system, raw=raw, t_start=setup.t_start, t_end=setup.t_end), raise_on_failure)


def _finished(solution: Solution, raise_on_failure: bool) -> Solution:
    if raise_on_failure and not solution.succeeded:
        raise SolveError(solution.status, f"after {int(solution.raw.num_steps)} steps")
    return solution


def _solve_resolved(params, rates, t_start, t_end, thermo, susceptibility, options, n_modes, resolved_options,
                    raise_on_failure):
    from lta_jax.kinetics.resolved import ResolvedSystem, grid_from_modes
    from lta_jax.rates.modes import mode_model_of
    from lta_jax.solver.resolved import ResolvedOptions

    mode_rates = resolved_rates(rates, n_modes)
    setup = prepare(params, mode_rates, t_start=t_start, t_end=t_end, thermo=thermo, susceptibility=susceptibility,
                    options=options)
    resolved_options = ResolvedOptions() if resolved_options is None else resolved_options
    inner = mode_model_of(mode_rates)
    grid = grid_from_modes(inner.y, rule=inner.quadrature)
    system = ResolvedSystem(build_system(setup.params, setup.rates, setup.thermo, setup.susceptibility,
                                         setup.options), grid)
    raw, mode_states = _solve_resolved_compiled(system, jnp.asarray(setup.t_start), jnp.asarray(setup.t_end), None,
                                                resolved_options)
    solution = ResolvedSolution(system=system, raw=raw, t_start=setup.t_start, t_end=setup.t_end,
                                mode_states=mode_states)
    return _finished(solution, raise_on_failure)


_solve_resolved_compiled = eqx.filter_jit(solve_resolved_arrays)
