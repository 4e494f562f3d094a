"""Solve the averaged kinetic equations with diffrax (stiff, implicit, adaptive) — the package's main entry point.

One code path serves a single solve, ``jax.vmap`` batches, ``jax.grad``/``jax.jacfwd`` and GPU: :func:`solve_arrays` is a
pure function of array inputs; :func:`solve` validates concrete inputs first (clear errors before any compilation),
then calls the compiled core and wraps the result in a :class:`Solution`.

Numerics (docs/numerics.md, measured on this problem in ``benchmarks/``):
* Kvaerno5 + PID controller (pcoeff 0.3, icoeff 0.4), float64;
* the released diffrax VeryChord root finder reports a slowly converging Newton iteration as divergence and rejects
  the step; :class:`ContractionChord` reports divergence only when the contraction rate really diverges;
* per-component absolute tolerances: asymmetries (~1e-10) sit next to Y+ ~ 1e-3.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx
from diffrax._root_finder._verychord import _converged, _diverged, _small
from jaxtyping import Array, Float

from lta_jax.model import constants as c
from lta_jax.rates.interpolated import InterpolatedRates, tabulate
from lta_jax.solver.magnus import LinearODETerm, Magnus4, aligned_steps, fixed_grid_solve
from lta_jax.solver.resolved import solve_resolved_arrays
from lta_jax.kinetics.averaged import (GeneratorBasis, KineticOptions, KineticSystem, derived_arrays, initial_state,
                                      kinetic_generator, kinetic_rhs)
from lta_jax.model.parameters import ModelParameters, YukawaBilinears, validate_parameters
from lta_jax.model.validity import check_temperatures, start_temperature  # noqa: F401  (check_temperatures re-exported)
from lta_jax.rates.base import RateModel
from lta_jax.plasma.susceptibility import Susceptibility, in_house_susceptibility
from lta_jax.plasma.thermodynamics import Thermodynamics, in_house_thermodynamics


class ContractionChord(diffrax.VeryChord):
    """VeryChord whose Newton iteration fails only when the contraction rate diverges (docs/numerics.md §1).

    Terminates when the update is small, has converged, or diverges (after ≥ 2 iterations) and reports
    ``nonlinear_divergence`` only for a diverging, non-small update (the fix merged upstream in optimistix PR #230 /
    diffrax PR #754, not yet released for diffrax 0.7.2).
    """

    def terminate(self, fn, y, args, options, state, tags):
        del fn, y, args, options, tags
        at_least_two = state.step >= 2
        rate = state.diffsize / state.diffsize_prev
        factor = state.diffsize * rate / (1 - rate)
        small = _small(state.diffsize)
        diverged = _diverged(rate)
        converged = _converged(factor, self.kappa)
        terminate = at_least_two & (small | diverged | converged)
        terminate_result = optx.RESULTS.where(
            at_least_two & jnp.invert(small) & diverged, optx.RESULTS.nonlinear_divergence, optx.RESULTS.successful
        )
        linsolve_fail = state.result != optx.RESULTS.successful
        result = optx.RESULTS.where(linsolve_fail, state.result, terminate_result)
        return linsolve_fail | terminate, result


def default_solver() -> diffrax.AbstractSolver:
    """Kvaerno5 with :class:`ContractionChord` taking its tolerances from the step-size controller."""
    return diffrax.Kvaerno5(root_finder=diffrax.with_stepsize_controller_tols(ContractionChord)())


class SolverOptions(eqx.Module):
    """Numerical options of a solve (all static: changing them recompiles).

    The default integrator is the fourth-order Magnus method of :mod:`lta_jax.solver.magnus` with step-doubling error
    control: the averaged equations are linear, so it propagates the HNL oscillations exactly and its steps follow the
    variation of the rates, not the oscillation phase. :meth:`kvaerno5` gives the implicit Runge–Kutta reference
    (``--solver kvaerno5``; needed for non-linear extensions). ``fixed_steps = N`` replaces the adaptive controller by
    N uniform steps in z (identical work for every point: the batch path).

    Attributes:
        rtol: relative tolerance of the PID controller.
        atol_density: absolute tolerance of the Y+ components (Y_eq ~ 2e-3).
        atol_asymmetry: absolute tolerance of Y_Δα (physical asymmetries are ≳ 1e-12).
        atol_hnl_asymmetry: absolute tolerance of the Y− components (up to ~1e-4; they oscillate through zero, and a
            tolerance far below their scale made the Magnus controller take 5× more steps for the same Y_Δα).
        dtmax: largest step in z (Magnus default 0.006; None for no limit). The step-doubling estimate trusts steps
            that are too long where the HNLs oscillate fast: without local extrapolation, with 0.01 Y_Δα(5 GeV) was
            up to 1.8e-3 off Kvaerno5 in the large-LTA box (NH, M = 10 GeV), with 0.003 ≤ 3e-5 for M = 1–10 GeV, NH
            and IH. With the extrapolated step (:class:`lta_jax.solver.magnus.Magnus4`) and T_sph a step end, 0.006
            keeps every observable ≤ 6e-5 (end values ≤ 2.4e-6) with 35–45 % fewer steps than 0.003; 0.01 let Y_B
            reach 1.1e-4 (experiments/solver_accuracy.py, docs/numerics.md). Tightening rtol instead did not help.
        tabulate_rates: evaluate expensive rate models (computed, provisional) once per solve on a grid in ln T and
            interpolate (:mod:`lta_jax.rates.interpolated`) instead of at every stage.
        n_save: number of saved points, uniform in z = ln(M/T) between T_start and T_end.
        max_steps: step limit; exceeding it is reported as a failed solve (never a truncated result).
        pcoeff, icoeff: PID coefficients.
        solver: a diffrax solver object (default :class:`lta_jax.solver.magnus.Magnus4`).
        adjoint: diffrax adjoint (``RecursiveCheckpointAdjoint`` for reverse mode, ``ForwardMode`` for jacfwd).
        fixed_steps: number of steps of a fixed grid (``None``: adaptive).
        grid_pilot: place a fixed grid's nodes where the local error is, estimated by step doubling on this many
            uniform pilot intervals (:func:`lta_jax.solver.magnus.grid_nodes`); ``None``: uniform nodes.

    Defaults chosen by measurement (docs/validation.md, benchmarks/README.md).
    """

    rtol: float = 1e-6
    atol_density: float = 1e-9
    atol_asymmetry: float = 1e-17
    n_save: int = 1000
    max_steps: int = 100_000
    pcoeff: float = 0.3
    icoeff: float = 0.4
    solver: Any = eqx.field(default_factory=lambda: Magnus4())
    adjoint: Any = eqx.field(default_factory=diffrax.RecursiveCheckpointAdjoint)
    fixed_steps: int | None = None
    atol_hnl_asymmetry: float = 1e-13
    tabulate_rates: bool = True
    dtmax: float | None = 0.006
    grid_pilot: int | None = None

    def atol(self) -> Float[Array, "11"]:
        a, d, m = self.atol_asymmetry, self.atol_density, self.atol_hnl_asymmetry
        return jnp.array([a, a, a, d, d, d, d, m, m, m, m])

    @classmethod
    def kvaerno5(cls, **overrides) -> "SolverOptions":
        """The implicit reference: Kvaerno5 + PID with the tolerances measured for it (at the Fig.-18 point
        (1e-8, 1e-10, 1e-18) gives Y_L, Y_B and max |Y_e| to 1e-8 of (1e-8, 1e-13, 1e-20) with 2.5× fewer steps)."""
        settings = dict(rtol=1e-8, atol_density=1e-10, atol_asymmetry=1e-18, atol_hnl_asymmetry=1e-18,
                        solver=default_solver(), tabulate_rates=False, dtmax=None)
        settings.update(overrides)
        return cls(**settings)

    @classmethod
    def fixed_grid(cls, steps: int = 800, pilot: int | None = None, **overrides) -> "SolverOptions":
        """Fourth-order commutator-free Magnus on ``steps`` steps in z, no error control, outside diffrax's loop
        (:func:`lta_jax.solver.magnus.fixed_grid_solve`): identical work per point, for ``vmap``; ``max_steps`` and the
        tolerances are ignored. Nodes uniform in z, or with ``pilot = K`` placed where a K-interval pilot finds the
        local error (6K extra exponentials; ``grid_pilot``). Uniform grids round ``steps`` to the nearest multiple of
        ``n_save − 1`` (at least ``n_save − 1``; :func:`lta_jax.solver.magnus.aligned_steps`) so that the saved points
        are nodes and need no dense output: with the default 1000 saved points any ``steps`` up to 1498 runs 999
        steps, for less than 800 steps plus dense output cost (``num_steps`` reports what ran). Accuracy (measured
        with the step counts named) at the Fig.-18 point to 5 GeV: 400 uniform steps ≤ 1.1e-5, 800 steps ≤ 9e-7;
        large-LTA box at M = 1 GeV to 10 GeV: 400 steps typically 2e-5, worst 4e-4; to 1 GeV at M = 10 GeV 400
        uniform steps are 4e-2 off, 400 placed steps (pilot 16) 3e-4 (docs/numerics.md)."""
        return cls(solver=Magnus4(error_estimate=False), fixed_steps=int(steps),
                   grid_pilot=None if pilot is None else int(pilot), **overrides)


#: Integrator choices of the command line and cards.
SOLVERS = {"magnus": SolverOptions, "kvaerno5": SolverOptions.kvaerno5}


#: Temperatures of the sphaleron-rate post-processing window (docs/physics.md §5: start ≈160 GeV, end ≈110 GeV).
SPHALERON_WINDOW = (160.0, 110.0)
N_SPHALERON_POINTS = 121


class RawSolution(eqx.Module):
    """Arrays returned by the compiled core (batchable)."""

    z: Float[Array, "n"]
    states: Float[Array, "n 11"]
    z_sph: Float[Array, ""]
    state_sph: Float[Array, "11"]
    z_window: Float[Array, "m"]
    states_window: Float[Array, "m 11"]
    result: Any
    num_steps: Array
    num_accepted_steps: Array
    num_rejected_steps: Array


def default_start_temperature(params: ModelParameters) -> float:
    """T0 = max(10³ GeV, 10 T_osc(ΔM)) of :func:`lta_jax.model.validity.start_temperature` [GeV]."""
    return start_temperature(float(params.mass), float(params.delta_mass))


def adaptive_controller(solver_options: "SolverOptions", atol, step_ts=None) -> diffrax.PIDController:
    """The PID step-size controller of the adaptive solvers with ``solver_options``' rtol, gains and dtmax; ``atol``
    per component (:meth:`SolverOptions.atol`, extended for extra state)."""
    return diffrax.PIDController(rtol=solver_options.rtol, atol=atol, pcoeff=solver_options.pcoeff,
                                 icoeff=solver_options.icoeff, dtmax=solver_options.dtmax, step_ts=step_ts)


def first_step(z0, z1, dtmax):
    """An explicit first step, (z1 − z0)/1000 capped at dtmax (the controller grows it ×10 per accepted step):
    diffrax's automatic choice would trace and compile the right-hand side twice more for one number."""
    return (z1 - z0) / 1000 if dtmax is None else jnp.minimum((z1 - z0) / 1000, dtmax)


def output_points(mass, z0, z1, n_save: int):
    """The saved points of a solve from z0 to z1: ``n_save`` uniform in z, z(T_sph) and the sphaleron window 160–110
    GeV (clipped to the range). Returns (z_main, z_sph, z_window, z_all, order, inverse): z_all concatenates them,
    ``order`` sorts z_all, ``inverse`` undoes the sort."""
    z_main = jnp.linspace(z0, z1, n_save)
    z_sph = jnp.clip(jnp.log(mass / c.T_SPHALERON), z0, z1)
    hi, lo = SPHALERON_WINDOW
    z_window = jnp.clip(jnp.linspace(jnp.log(mass / hi), jnp.log(mass / lo), N_SPHALERON_POINTS), z0, z1)
    z_all = jnp.concatenate([z_main, z_sph[None], z_window])
    order = jnp.argsort(z_all)
    return z_main, z_sph, z_window, z_all, order, jnp.argsort(order)


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
    z_main, z_sph, z_window, z_all, order, inverse = output_points(mass, z0, z1, n)

    if solver_options.fixed_steps is None:
        # Y_B is read at T_sph: make it a step end, not a dense-output point.
        controller = adaptive_controller(solver_options, solver_options.atol(), step_ts=jnp.reshape(z_sph, (1,)))
        dt0 = first_step(z0, z1, solver_options.dtmax)
    else:
        controller = diffrax.ConstantStepSize()
        dt0 = (z1 - z0) / solver_options.fixed_steps
    if solver_options.fixed_steps is not None and isinstance(solver_options.solver, Magnus4):
        basis = GeneratorBasis.build(system)
        pilot = solver_options.grid_pilot
        # Uniform grids put the n saved points on nodes (their states come from the chain, not from dense output).
        steps = solver_options.fixed_steps if pilot is not None else aligned_steps(solver_options.fixed_steps, n)
        ys, finite = fixed_grid_solve(lambda z, a: kinetic_generator(z, a[0], a[1]), (system, basis), z0, z1, y0,
                                      steps, z_all, pilot, on_nodes=0 if pilot is not None else n)
        steps = jnp.asarray(steps)
        result = diffrax.RESULTS.where(finite, diffrax.RESULTS.successful, diffrax.RESULTS.internal_error)
        return RawSolution(z=z_main, states=ys[:n], z_sph=z_sph, state_sph=ys[n], z_window=z_window,
                           states_window=ys[n + 1:], result=result, num_steps=steps, num_accepted_steps=steps,
                           num_rejected_steps=jnp.asarray(0))
    if isinstance(solver_options.solver, Magnus4):
        # Exponential integrators need A(z) at every stage: assemble it from a per-point basis (exact) instead of
        # differentiating the right-hand side there.
        term = LinearODETerm(lambda z, x, a: kinetic_rhs(z, x, a[0]), lambda z, a: kinetic_generator(z, a[0], a[1]))
        args = (system, GeneratorBasis.build(system))
    else:
        term = diffrax.ODETerm(kinetic_rhs)
        args = system
    sol = diffrax.diffeqsolve(
        term,
        solver_options.solver,
        t0=z0,
        t1=z1,
        dt0=dt0,
        y0=y0,
        args=args,
        saveat=diffrax.SaveAt(ts=z_all[order]),
        stepsize_controller=controller,
        max_steps=solver_options.max_steps,
        adjoint=solver_options.adjoint,
        throw=False,
    )
    ys = sol.ys[inverse]
    return RawSolution(
        z=z_main, states=ys[:n], z_sph=z_sph, state_sph=ys[n], z_window=z_window, states_window=ys[n + 1:],
        result=sol.result, num_steps=sol.stats["num_steps"], num_accepted_steps=sol.stats["num_accepted_steps"],
        num_rejected_steps=sol.stats["num_rejected_steps"],
    )


_solve_compiled = eqx.filter_jit(solve_arrays)


@functools.cache
def _raw_solution_structure():
    """The pytree structure of a :class:`RawSolution` (from a placeholder: no tracing)."""
    zero = jnp.zeros(())
    return jax.tree_util.tree_structure(RawSolution(zero, zero, zero, zero, zero, zero, diffrax.RESULTS.successful,
                                                    zero, zero, zero))


def _run_solve(system, t_start, t_end, y0, solver_options) -> RawSolution:
    """The compiled solve: a serialised program when the command line has switched the program cache on
    (:func:`lta_jax.cache.cached_program_call`; no tracing in a repeated command), else the jitted function."""
    from lta_jax.cache import cached_program_call

    args = (system, t_start, t_end, y0, solver_options)
    raw = cached_program_call("solve", solve_arrays, args, _raw_solution_structure())
    return _solve_compiled(*args) if raw is None else raw


#: Compiled set-up of a point (Yukawas, bilinears, decay matrix): eagerly it costs 0.2–0.4 s of op-by-op dispatch.
_build_system = eqx.filter_jit(KineticSystem)


@functools.cache
def _derived_structure():
    """The pytree structure of :func:`lta_jax.kinetics.averaged.derived_arrays` (from a placeholder: no tracing)."""
    zero = jnp.zeros(())
    bilinears = YukawaBilinears(zero, zero, zero)
    return jax.tree_util.tree_structure((bilinears, bilinears, zero, zero))


def _set_up_system(params, rates, thermo, susceptibility, options) -> KineticSystem:
    """The point's :class:`KineticSystem`; its set-up arrays from a serialised program when the command line has
    switched the program cache on (tracing the set-up costs ≈ 0.3 s of a repeated command, lowering it 0.2 s), else
    the jitted constructor."""
    from lta_jax.cache import cached_program_call

    options = KineticOptions() if options is None else options
    derived = cached_program_call("system", derived_arrays, (params, options), _derived_structure())
    if derived is None:
        return _build_system(params, rates, thermo, susceptibility, options)
    return KineticSystem(params, rates, thermo, susceptibility, options, derived=derived)


_TABLES: dict = {}


#: The arrays of a rate table (:class:`lta_jax.rates.interpolated.InterpolatedRates` without its base model).
_TABLE_FIELDS = ("mass", "u0", "d_u", "values", "slopes", "mass_slopes")


def cached_table(rates: RateModel, mass: float, t_low: float, t_high: float) -> InterpolatedRates:
    """The rate table of ``rates`` at ``mass`` over [t_low, t_high], built once and reused by later solves of the
    same model, mass and range (rates once per mass, not per step; a handful of tables are kept in memory).

    Averaged tables (86 kB) are also kept on disk (``<cache>/tables``, :mod:`lta_jax.cache`) for models made of the
    package's own classes, keyed by the model's content (:func:`lta_jax.cache.content_digest`), mass, range and the
    rate, plasma and model code: a new process then reads the table instead of tracing its build (≈ 1.2 s of a
    repeated ``lta-jax solve``, docs/numerics.md)."""
    key = (id(rates), mass, t_low, t_high)
    hit = _TABLES.get(key)
    if hit is not None and hit[0] is rates:
        return hit[1]
    table = _disk_table(rates, mass, t_low, t_high)
    if len(_TABLES) >= 32:
        _TABLES.pop(next(iter(_TABLES)))
    _TABLES[key] = (rates, table)
    return table


def _disk_table(rates: RateModel, mass: float, t_low: float, t_high: float) -> InterpolatedRates:
    """The table from ``<cache>/tables`` (built and stored on a miss); built directly when the model has no content
    key or is a per-mode model (:func:`cached_table`)."""
    from lta_jax.cache import cached_arrays, content_digest
    from lta_jax.rates.interpolated import DEFAULT_NODES
    from lta_jax.rates.modes import mode_model_of

    # Per-mode tables (resolved equations) stay in memory only: ≈ 4.5 MB a mass with 53 modes, against 86 kB.
    on_disk = not isinstance(rates, InterpolatedRates) and mode_model_of(rates) is None
    digest = content_digest(rates) if on_disk else None
    if digest is None:
        return tabulate(rates, mass, t_low, t_high)

    def compute():
        table = tabulate(rates, mass, t_low, t_high)
        return {name: np.asarray(getattr(table, name)) for name in _TABLE_FIELDS}

    arrays = cached_arrays("rate_table", (digest, float(mass), float(t_low), float(t_high), DEFAULT_NODES),
                           ("rates", "plasma", "model"), compute)
    return InterpolatedRates(rates, *(jnp.asarray(arrays[name]) for name in _TABLE_FIELDS))


class Solution(eqx.Module):
    """Result of :func:`solve`: the trajectory, diffrax status and the set-up that produced it.

    Observables are in :mod:`lta_jax.solver.observables` (``summary(solution)`` gives the usual numbers).
    """

    system: KineticSystem
    raw: RawSolution
    t_start: float
    t_end: float

    @property
    def temperatures(self) -> np.ndarray:
        """Saved temperatures [GeV], descending."""
        return np.asarray(self.system.params.mass * np.exp(-np.asarray(self.raw.z)))

    @property
    def states(self) -> np.ndarray:
        """Saved 11-vectors, shape (n_save, 11) (column order of :data:`lta_jax.kinetics.averaged.STATE_LABELS`)."""
        return np.asarray(self.raw.states)

    @property
    def succeeded(self) -> bool:
        return bool(self.raw.result == diffrax.RESULTS.successful)

    @property
    def status(self) -> str:
        """"success" or the diffrax result message."""
        return "success" if self.succeeded else _result_message(self.raw.result)


def _result_message(result) -> str:
    for name in ("max_steps_reached", "singular", "breakdown", "dt_min_reached", "event_occurred",
                 "nonlinear_max_steps_reached", "nonlinear_divergence", "internal_error"):
        member = getattr(diffrax.RESULTS, name, None)
        if member is not None and bool(result == member):
            return name
    return "failed"


class SolveError(RuntimeError):
    """A solve that did not succeed (the diffrax result is in the message and in ``.status``)."""

    def __init__(self, status: str, detail: str = ""):
        super().__init__(f"kinetic solve failed: diffrax result '{status}'{': ' + detail if detail else ''}")
        self.status = status


def validate_setup(params: ModelParameters, rates: RateModel, t_start, t_end, thermo=None, susceptibility=None):
    """Validate a concrete set-up before any compilation; returns (t_start, t_end, thermo, susceptibility) with the
    defaults filled in (T0 = max(10³ GeV, 10 T_osc), in-house thermodynamics and susceptibility)."""
    validate_parameters(params)
    if t_start is None:
        t_start = default_start_temperature(params)
    t_start, t_end = float(t_start), float(t_end)
    check_temperatures(t_start, t_end)
    thermo = in_house_thermodynamics() if thermo is None else thermo
    susceptibility = in_house_susceptibility() if susceptibility is None else susceptibility
    rates.check_range(t_end, t_start, float(params.mass))
    thermo.check_range(t_end, t_start)
    susceptibility.check_range(t_end, t_start)
    return t_start, t_end, thermo, susceptibility


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
    t_start, t_end, thermo, susceptibility = validate_setup(params, rates, t_start, t_end, thermo, susceptibility)
    solver_options = SolverOptions() if solver_options is None else solver_options
    if y0 is not None:
        y0 = jnp.asarray(y0, dtype=float)
        if y0.shape != (11,) or not bool(jnp.all(jnp.isfinite(y0))):
            raise ValueError(f"initial state must be 11 finite numbers, got shape {y0.shape}")
    if solver_options.tabulate_rates and rates.expensive:
        rates = cached_table(rates, float(params.mass), t_end, t_start)
    system = _set_up_system(params, rates, thermo, susceptibility, options)
    raw = _run_solve(system, jnp.asarray(t_start), jnp.asarray(t_end), y0, solver_options)
    solution = Solution(system=system, raw=raw, t_start=t_start, t_end=t_end)
    if raise_on_failure and not solution.succeeded:
        raise SolveError(solution.status, f"after {int(raw.num_steps)} steps")
    return solution


#: Kinetic equations :func:`solve` integrates.
KINETICS = ("averaged", "resolved")


class ResolvedSolution(Solution):
    """Result of a momentum-resolved solve: as :class:`Solution` (``states`` are the averaged 11-vectors
    Y_Δ, Y± = Σ_i u_i±, so every observable is computed the same way) plus the per-mode states."""

    mode_states: Any

    @property
    def grid(self):
        """The momentum grid (:class:`lta_jax.kinetics.resolved.MomentumGrid`)."""
        return self.system.grid


_MODE_MODELS: dict = {}


def resolved_rates(rates: RateModel, n_modes: int | None):
    """The per-mode rate model for the resolved equations: a per-mode model as given (its modes are the grid), or
    the computed model evaluated on the paper's grid (6.2) with ``n_modes`` modes (default 48) plus the low modes
    :data:`lta_jax.kinetics.resolved.LOW_MODES`."""
    from lta_jax.kinetics.resolved import LOW_MODES, momentum_grid
    from lta_jax.rates.computed import ComputedRates
    from lta_jax.rates.modes import ComputedModeRates, mode_model_of

    from lta_jax.rates.base import RateVariant

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
        key = (id(rates), n)
        hit = _MODE_MODELS.get(key)
        if hit is None or hit[0] is not rates:
            hit = (rates, ComputedModeRates(rates, np.asarray(momentum_grid(n, extra=LOW_MODES).y)))
            _MODE_MODELS[key] = hit
        return hit[1]
    raise ValueError(f"the resolved equations need per-mode rates: the computed model (ComputedRates) or per-mode "
                     f"tables (TabulatedModeRates.from_directory); got {rates.description!r}. An averaged model can be "
                     "copied to every mode with lta_jax.rates.modes.UniformModeRates(rates, y)")


def _solve_resolved(params, rates, t_start, t_end, thermo, susceptibility, options, n_modes, resolved_options,
                    raise_on_failure):
    from lta_jax.kinetics.resolved import ResolvedSystem, grid_from_modes
    from lta_jax.rates.modes import mode_model_of
    from lta_jax.solver.resolved import ResolvedOptions

    mode_rates = resolved_rates(rates, n_modes)
    t_start, t_end, thermo, susceptibility = validate_setup(params, mode_rates, t_start, t_end, thermo,
                                                            susceptibility)
    resolved_options = ResolvedOptions() if resolved_options is None else resolved_options
    inner = mode_model_of(mode_rates)
    grid = grid_from_modes(inner.y, rule=inner.quadrature)
    if mode_rates.expensive:
        mode_rates = cached_table(mode_rates, float(params.mass), t_end, t_start)
    system = ResolvedSystem(_build_system(params, mode_rates, thermo, susceptibility, options), grid)
    raw, mode_states = _solve_resolved_compiled(system, jnp.asarray(t_start), jnp.asarray(t_end), None,
                                                resolved_options)
    solution = ResolvedSolution(system=system, raw=raw, t_start=t_start, t_end=t_end, mode_states=mode_states)
    if raise_on_failure and not solution.succeeded:
        raise SolveError(solution.status, f"after {int(raw.num_steps)} steps")
    return solution


_solve_resolved_compiled = eqx.filter_jit(solve_resolved_arrays)
