"""Integration methods of the averaged equations as objects: each owns its numerics, its ``run`` and the derivative
modes it supports (as dynamiqs does beside diffrax); :class:`SolverOptions` is the user's bag of numerical settings and
:meth:`SolverOptions.method` the object it selects.

* :class:`AdaptiveMagnus` — the default: fourth-order Magnus with step doubling under diffrax's PID controller;
* :class:`FixedGridMagnus` — commutator-free fourth-order Magnus on a fixed (uniform or pilot-placed) grid, outside
  diffrax's loop (identical work per point: batches, derivatives);
* :class:`DiffraxMethod` — any other diffrax solver, by default implicit Kvaerno5 with :class:`ContractionChord`
  (the reference; needed for non-linear extensions).

Numerics (docs/numerics.md, measured on this problem in ``benchmarks/``): Kvaerno5 + PID controller (pcoeff 0.3,
icoeff 0.4), float64; the released diffrax VeryChord root finder reports a slowly converging Newton iteration as
divergence and rejects the step, :class:`ContractionChord` reports divergence only when the contraction rate really
diverges; per-component absolute tolerances: asymmetries (~1e-10) sit next to Y+ ~ 1e-3.
"""

from __future__ import annotations

from typing import Any, ClassVar

import diffrax
import equinox as eqx
import jax.numpy as jnp
import optimistix as optx
from jaxtyping import Array, Float

from lta_jax.kinetics.averaged import GeneratorBasis, KineticSystem, kinetic_generator, kinetic_rhs
from lta_jax.solver.compat import converged as _converged
from lta_jax.solver.compat import diverged as _diverged
from lta_jax.solver.compat import small as _small
from lta_jax.solver.magnus import LinearODETerm, Magnus4, aligned_steps, fixed_grid_solve


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

    @property
    def method(self) -> "Method":
        """The integration method these options select (:func:`method_of`)."""
        return method_of(self)

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


def pid_controller(rtol, atol, *, pcoeff: float = 0.3, icoeff: float = 0.4, dtmax=None,
                   step_ts=None) -> diffrax.PIDController:
    """The one builder of the package's PID step-size controllers (gains 0.3/0.4 measured for these equations,
    docs/numerics.md; pcoeff 0, icoeff 1 is diffrax's plain integral controller). ``atol`` per component."""
    return diffrax.PIDController(rtol=rtol, atol=atol, pcoeff=pcoeff, icoeff=icoeff, dtmax=dtmax, step_ts=step_ts)


def adaptive_controller(solver_options: SolverOptions, atol, step_ts=None) -> diffrax.PIDController:
    """The PID controller of the adaptive solvers with ``solver_options``' rtol, gains and dtmax; ``atol`` per
    component (:meth:`SolverOptions.atol`, extended for extra state)."""
    return pid_controller(solver_options.rtol, atol, pcoeff=solver_options.pcoeff, icoeff=solver_options.icoeff,
                          dtmax=solver_options.dtmax, step_ts=step_ts)


def first_step(z0, z1, dtmax):
    """An explicit first step, (z1 − z0)/1000 capped at dtmax (the controller grows it ×10 per accepted step):
    diffrax's automatic choice would trace and compile the right-hand side twice more for one number."""
    return (z1 - z0) / 1000 if dtmax is None else jnp.minimum((z1 - z0) / 1000, dtmax)



#: Derivative modes a method can be asked for (``jax.jvp``/``jacfwd`` and ``jax.vjp``/``grad``/``jacrev``).
DERIVATIVE_MODES = ("forward", "reverse")


class Method(eqx.Module):
    """An integration method of the averaged equations: ``run`` integrates from z0 to z1 and returns the states at the
    saved points. ``derivative_modes`` lists the modes its result can be differentiated in."""

    options: SolverOptions = eqx.field(static=True)
    name: ClassVar[str] = "method"
    derivative_modes: ClassVar[tuple[str, ...]] = DERIVATIVE_MODES

    def run(self, system: KineticSystem, z0, z1, y0, z_all, n_uniform: int, z_sph):
        """States at ``z_all`` (whose first ``n_uniform`` entries are ``linspace(z0, z1, n_uniform)``; ``z_sph`` is a
        step end of the adaptive methods). Returns (states (len(z_all), 11), diffrax result, (steps, accepted,
        rejected))."""
        raise NotImplementedError

    def check_derivative_mode(self, mode: str) -> None:
        """Refuse, before tracing, a derivative mode this method does not support."""
        if mode not in self.derivative_modes:
            raise ValueError(f"the {self.name} method supports derivative modes {self.derivative_modes}, not {mode!r}")


class FixedGridMagnus(Method):
    """Commutator-free fourth-order Magnus on ``options.fixed_steps`` steps (:func:`lta_jax.solver.magnus.fixed_grid_solve`):
    uniform grids put the saved points on nodes (:func:`lta_jax.solver.magnus.aligned_steps`), ``grid_pilot`` places
    the nodes where a pilot finds the local error."""

    name: ClassVar[str] = "fixed-grid Magnus"

    def run(self, system, z0, z1, y0, z_all, n_uniform, z_sph):
        del z_sph
        basis = GeneratorBasis.build(system)
        pilot = self.options.grid_pilot
        # Uniform grids put the n saved points on nodes (their states come from the chain, not from dense output).
        steps = self.options.fixed_steps if pilot is not None else aligned_steps(self.options.fixed_steps, n_uniform)
        ys, finite = fixed_grid_solve(lambda z, a: kinetic_generator(z, a[0], a[1]), (system, basis), z0, z1, y0,
                                      steps, z_all, pilot, on_nodes=0 if pilot is not None else n_uniform)
        steps = jnp.asarray(steps)
        result = diffrax.RESULTS.where(finite, diffrax.RESULTS.successful, diffrax.RESULTS.internal_error)
        return ys, result, (steps, steps, jnp.asarray(0))


class DiffraxMethod(Method):
    """``options.solver`` inside ``diffrax.diffeqsolve`` (adaptive PID control, or constant steps with
    ``fixed_steps``); the saved points are dense output. Reverse mode through ``options.adjoint``."""

    name: ClassVar[str] = "diffrax"

    def term_and_args(self, system):
        return diffrax.ODETerm(kinetic_rhs), system

    def run(self, system, z0, z1, y0, z_all, n_uniform, z_sph):
        del n_uniform
        options = self.options
        if options.fixed_steps is None:
            # Y_B is read at T_sph: make it a step end, not a dense-output point.
            controller = adaptive_controller(options, options.atol(), step_ts=jnp.reshape(z_sph, (1,)))
            dt0 = first_step(z0, z1, options.dtmax)
        else:
            controller = diffrax.ConstantStepSize()
            dt0 = (z1 - z0) / options.fixed_steps
        term, args = self.term_and_args(system)
        order = jnp.argsort(z_all)
        sol = diffrax.diffeqsolve(term, options.solver, t0=z0, t1=z1, dt0=dt0, y0=y0, args=args,
                                  saveat=diffrax.SaveAt(ts=z_all[order]), stepsize_controller=controller,
                                  max_steps=options.max_steps, adjoint=options.adjoint, throw=False)
        stats = (sol.stats["num_steps"], sol.stats["num_accepted_steps"], sol.stats["num_rejected_steps"])
        return sol.ys[jnp.argsort(order)], sol.result, stats


class AdaptiveMagnus(DiffraxMethod):
    """The default: :class:`lta_jax.solver.magnus.Magnus4` (step doubling, local extrapolation) under the PID
    controller. Exponential integrators need A(z) at every stage: it is assembled from a per-point basis (exact)
    instead of differentiating the right-hand side there."""

    name: ClassVar[str] = "adaptive Magnus"

    def term_and_args(self, system):
        term = LinearODETerm(lambda z, x, a: kinetic_rhs(z, x, a[0]), lambda z, a: kinetic_generator(z, a[0], a[1]))
        return term, (system, GeneratorBasis.build(system))


def method_of(options: SolverOptions) -> Method:
    """The method object ``options`` select."""
    if isinstance(options.solver, Magnus4):
        return FixedGridMagnus(options) if options.fixed_steps is not None else AdaptiveMagnus(options)
    return DiffraxMethod(options)


__all__ = ["SolverOptions", "SOLVERS", "ContractionChord", "default_solver", "pid_controller", "adaptive_controller", "first_step",
           "DERIVATIVE_MODES", "Method", "AdaptiveMagnus", "FixedGridMagnus", "DiffraxMethod", "method_of"]
