"""Exact derivatives of the observables with respect to the six model parameters, through the diffrax solve.

The parameter vector θ = (M, log10(ΔM/GeV), Im ω, Re ω, δ, η) is unconstrained except for M > 0 (ΔM enters through its
logarithm, the angles are periodic). :func:`observable_vector` maps θ to

    (Y_B, Y_L(T_end), Y_Δe(T_end), Y_Δμ(T_end), Y_Δτ(T_end), soft max_{T ≤ T_sph} |Y_Δe|)

as a pure JAX function; :func:`observables_and_jacobian` returns the values and the 6×6 Jacobian in forward mode
(``jax.jacfwd`` with ``diffrax.ForwardMode``; cheapest for six parameters) or reverse mode (``jax.jacrev`` with
``RecursiveCheckpointAdjoint``). The exact max |Y_e| is not differentiable where the arg-max jumps; its surrogate is a
p-norm (p = 64) over the saved trajectory with T ≤ T_sph (:func:`lta_jax.solver.observables.soft_max_abs`).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Literal

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from lta_jax.model import constants as c
from lta_jax.kinetics.averaged import GeneratorBasis, KineticOptions, initial_state, kinetic_generator
from lta_jax.rates.interpolated import InterpolatedRates
from lta_jax.solver.magnus import error_density, first_order_only, held_fixed, node_states, placed_nodes
from lta_jax.solver.observables import baryon_asymmetry_simple, nan_unless, soft_max_abs
from lta_jax.model.parameters import ModelParameters
from lta_jax.rates.base import RateModel
from lta_jax.solver.integrate import solve_arrays
from lta_jax.solver.methods import DERIVATIVE_MODES, AdaptiveMagnus, FixedGridMagnus, SolverOptions
from lta_jax.solver.result import KINETICS
from lta_jax.solver.setup import Setup, prepare
from lta_jax.plasma.susceptibility import Susceptibility
from lta_jax.plasma.thermodynamics import Thermodynamics

#: Default numerics of derivatives: Magnus4 on 800 steps in z, split at T_sph (ObservableMap.node_solve).
DERIVATIVE_SOLVER = SolverOptions.fixed_grid(800)

PARAMETER_NAMES = ("M", "log10_delta_M", "im_omega", "re_omega", "delta", "eta")
OBSERVABLE_NAMES = ("Y_B", "Y_L_end", "Y_De_end", "Y_Dmu_end", "Y_Dtau_end", "soft_max_abs_Y_e")


def parameters_to_vector(params: ModelParameters) -> jnp.ndarray:
    """θ = (M, log10 ΔM, Im ω, Re ω, δ, η)."""
    return jnp.stack([params.mass, jnp.log10(params.delta_mass), params.im_omega, params.re_omega, params.delta,
                      params.eta])


def vector_to_parameters(theta, like: ModelParameters) -> ModelParameters:
    """Inverse of :func:`parameters_to_vector`; hierarchy, oscillation data and v0 are taken from ``like``."""
    return ModelParameters(theta[0], 10.0 ** theta[1], theta[2], theta[3], theta[4], theta[5],
                           hierarchy=like.hierarchy, neutrino_data=like.neutrino_data, v0=like.v0)


class DerivativeModeError(ValueError):
    """A derivative was asked of an observable map in the mode it was not made for (``make_observable_map(...,
    mode=...)``) on a method that supports only that mode per map (Kvaerno5: diffrax's adjoints)."""


class ObservableMap(eqx.Module):
    """θ ↦ observables for a fixed :class:`~lta_jax.solver.setup.Setup` (rates, plasma models, options, temperature
    range) and fixed numerics. If the set-up's rate model is still expensive (``make_observable_map(...,
    single_mass=False)``: maps used at several masses), its table is built inside every evaluation."""

    setup: Setup
    solver_options: SolverOptions = eqx.field(static=True)
    power: float = eqx.field(static=True, default=64.0)
    #: Momentum-resolved kinetics: the mode grid (``None``: the averaged equations) and the resolved numerics.
    grid: Any = None
    resolved_options: Any = eqx.field(static=True, default=None)
    #: Reverse mode of the adaptive Magnus path: the derivative is that of this fixed grid through the same saved
    #: points (``None``: the derivative of the map's own discretisation). See :func:`_adaptive_values`.
    derivative_options: SolverOptions | None = eqx.field(static=True, default=None)

    @property
    def like(self) -> ModelParameters:
        """The set-up's point: hierarchy, oscillation data and v0 of every θ."""
        return self.setup.params

    @property
    def t_start(self) -> float:
        return self.setup.t_start

    @property
    def t_end(self) -> float:
        return self.setup.t_end

    def system(self, theta):
        """The system at θ. θ may carry :data:`lta_jax.rates.uncertainty.N_NUISANCE` more entries after the six model
        parameters: the rate model's log-factors (:class:`lta_jax.rates.uncertainty.RateUncertainty`)."""
        system = self.setup.system_at(vector_to_parameters(theta, self.like))
        if theta.shape[0] > len(PARAMETER_NAMES):
            from lta_jax.rates.uncertainty import RateUncertainty

            system = eqx.tree_at(lambda s: s.rates, system, RateUncertainty(system.rates, theta[6:]))
        return system

    def solve(self, theta):
        """The raw solution at θ: the averaged equations with ``solver_options``, or (``grid`` set) the resolved
        equations with ``resolved_options``, projected on the 11 averaged yields (same layout of saved points)."""
        if self.grid is not None:
            from lta_jax.kinetics.resolved import ResolvedSystem
            from lta_jax.solver.resolved import solve_resolved_arrays

            system = ResolvedSystem(self.system(theta), self.grid)
            return solve_resolved_arrays(system, self.t_start, self.t_end, None, self.resolved_options)[0]
        return solve_arrays(self.system(theta), self.t_start, self.t_end, None, self.solver_options)

    def _on_nodes(self) -> bool:
        return (self.grid is None and isinstance(self.solver_options.method, FixedGridMagnus)
                and self.t_end < c.T_SPHALERON < self.t_start)

    def node_split(self) -> tuple[int, int]:
        """Steps above and below T_sph of the node path, in proportion to the lengths in z (independent of M)."""
        above = math.log(self.t_start / c.T_SPHALERON)
        total = math.log(self.t_start / self.t_end)
        n_above = max(1, round(self.solver_options.fixed_steps * above / total))
        return n_above, max(1, self.solver_options.fixed_steps - n_above)

    def node_solve(self, theta):
        """Magnus4 through a grid whose nodes include T_sph and T_end (:func:`lta_jax.solver.magnus.node_states`):
        states at T ≤ T_sph on the nodes, no dense output. Returns (z nodes below T_sph, their states, all finite)."""
        system = self.system(theta)
        params = system.params
        if self.solver_options.tabulate_rates and system.rates.expensive:
            # Not tabulated outside (the map serves several masses): a traced table at this point's mass.
            system = eqx.tree_at(lambda s: s.rates, system,
                                 InterpolatedRates.build(system.rates, params.mass, self.t_end, self.t_start))
        basis = GeneratorBasis.build(system)
        mass = params.mass
        z0, z_sph, z1 = (jnp.log(mass / t) for t in (self.t_start, c.T_SPHALERON, self.t_end))
        n_above, n_below = self.node_split()
        generator = lambda z, a: kinetic_generator(z, a[0], a[1])  # noqa: E731
        y0 = initial_state(system, self.t_start)
        pilot = self.solver_options.grid_pilot
        if pilot is None:
            nodes = jnp.concatenate([jnp.linspace(z0, z_sph, n_above + 1), jnp.linspace(z_sph, z1, n_below + 1)[1:]])
        else:  # placed nodes on both sides of T_sph (z_sph stays a node); a fixed grid under differentiation
            edges, density = error_density(generator, (system, basis), z0, z1, y0, pilot)
            placed = jnp.concatenate([placed_nodes(edges, density, z0, z_sph, n_above),
                                      placed_nodes(edges, density, z_sph, z1, n_below)[1:]])
            nodes = held_fixed(placed, z0, z1).at[n_above].set(z_sph)
        states = node_states(generator, (system, basis), nodes, y0)
        below = states[n_above:]
        return nodes[n_above:], below, jnp.all(jnp.isfinite(below))

    def __call__(self, theta):
        # Second derivatives (jax.hessian, grad of grad) are refused here with a clear error: inside the grids' loops
        # the exponential's own guard is evaluated inline and they came out wrong without one (docs/numerics.md).
        theta = first_order_only(theta)
        if self.derivative_options is not None:
            return _adaptive_values(theta, fn=self)
        try:
            return self.evaluate(theta)
        except TypeError as error:
            # diffrax's RecursiveCheckpointAdjoint is a custom VJP: forward mode through it fails while tracing.
            if "forward-mode autodiff" not in str(error):
                raise
            raise DerivativeModeError(
                "this observable map was made with mode='reverse' on an adaptive diffrax solver "
                f"({type(self.solver_options.solver).__name__}), whose checkpointed reverse-mode adjoint cannot be "
                "differentiated forwards (jax.jvp, jax.jacfwd): make it with "
                "mode='forward' for those, or use jax.grad/jax.vjp/jax.jacrev") from None

    def derivative_map(self) -> "ObservableMap":
        """The map whose derivative reverse mode returns for this one: itself, or (adaptive Magnus) the fixed grid of
        ``derivative_options`` read at the same saved points."""
        if self.derivative_options is None:
            return self
        return dataclasses.replace(self, solver_options=self.derivative_options, derivative_options=None)

    def evaluate(self, theta, on_nodes: bool | None = None):
        """The observables at θ by this map's own numerics (``on_nodes``: force or forbid the node path; default:
        where it applies)."""
        if self._on_nodes() if on_nodes is None else on_nodes:
            _, below, ok = self.node_solve(theta)
            y_end = below[-1]
            values = jnp.stack([
                baryon_asymmetry_simple(below[0]),
                jnp.sum(y_end[0:3]),
                y_end[0], y_end[1], y_end[2],
                soft_max_abs(below[:, 0], self.power),
            ])
            return jnp.where(ok, values, jnp.nan)
        raw = self.solve(theta)
        y_end = raw.states[-1]
        # The saved temperatures T_i = T_start (T_end/T_start)^{i/(n−1)} do not depend on θ.
        n = raw.states.shape[0]
        temperatures = self.t_start * (self.t_end / self.t_start) ** (np.arange(n) / (n - 1))
        window = jnp.asarray(temperatures <= c.T_SPHALERON * (1 + 1e-12))
        y_e = jnp.where(window, raw.states[:, 0], 0.0)
        values = jnp.stack([
            baryon_asymmetry_simple(raw.state_sph),
            jnp.sum(y_end[0:3]),
            y_end[0], y_end[1], y_end[2],
            soft_max_abs(y_e, self.power),
        ])
        # A failed solve must never be returned as numbers.
        ok = raw.result == diffrax.RESULTS.successful
        return jnp.where(ok, values, jnp.nan)


#: Steps of the fixed grid whose derivative the adaptive Magnus path returns in reverse mode (see
#: :func:`_adaptive_values`).
ADAPTIVE_REVERSE_STEPS = 800


@eqx.filter_custom_jvp
def _adaptive_values(theta, *, fn: ObservableMap):
    """Values of the adaptive Magnus path; their derivative, in either mode, is that of the fixed grid
    ``fn.derivative_options`` (:data:`ADAPTIVE_REVERSE_STEPS` Magnus steps) through the same saved points.

    Why not the adaptive solve's own discrete derivative: diffrax reverses its while loop by recursive checkpointing,
    which recomputes forward steps (value + gradient 8.9× the value, benchmarks/README.md). Both discretisations
    converge to the exact derivative: at the README point to 10 GeV, every entry of the 6 × 6 Jacobian of the 800-step
    grid agreed with forward mode through the adaptive solve (diffrax ``ForwardMode``) to ≤ 1.5e-5 relative
    (2026-12-06; ``tests/test_reverse_mode.py`` checks it). The values returned are the adaptive ones; a failed adaptive
    solve gives NaN values and NaN derivatives.

    One tangent rule serves both modes: it is the grid's forward-mode derivative, which is linear in the tangent and
    which JAX transposes for ``jax.grad``/``jax.vjp``/``jax.jacrev`` (the exponential's rule carries its own transpose,
    :func:`lta_jax.solver.magnus.expm`). So ``jax.jacfwd`` of a reverse-mode map works too (a custom VJP here made it
    raise JAX's "can't apply forward-mode autodiff (jvp) to a custom_vjp function"). Derivatives with respect to
    anything inside ``fn`` (rates, tables) are not defined here: only θ's."""
    return fn.evaluate(theta)


@_adaptive_values.def_jvp
def _adaptive_values_jvp(primals, tangents, *, fn):
    (theta,), (tangent,) = primals, tangents
    values = fn.evaluate(theta)
    if tangent is None:  # nothing perturbs θ
        return values, jnp.zeros_like(values)
    surrogate = fn.derivative_map()
    _, derivative = jax.jvp(lambda t: surrogate.evaluate(t, on_nodes=False), (theta,), (tangent,))
    return values, nan_unless(jnp.all(jnp.isfinite(values)), derivative)  # reverse mode transposes the factor too


def make_observable_map(
    params: ModelParameters,
    rates: RateModel,
    *,
    t_start: float | None = None,
    t_end: float = 5.0,
    thermo: Thermodynamics | None = None,
    susceptibility: Susceptibility | None = None,
    options: KineticOptions | None = None,
    solver_options: SolverOptions | None = None,
    mode: Literal["forward", "reverse"] = "forward",
    single_mass: bool = True,
    kinetics: str = "averaged",
    n_modes: int | None = None,
    resolved_options=None,
) -> ObservableMap:
    """Validate inputs (before compilation) and build the differentiable map θ ↦ observables.

    ``mode`` selects the diffrax adjoint of the adaptive methods: ``ForwardMode`` for ``jax.jvp``/``jax.jacfwd``,
    ``RecursiveCheckpointAdjoint`` for ``jax.vjp``/``jax.grad``/``jax.jacrev`` (the fixed and node grids take either).
    Reverse mode on the adaptive Magnus method returns the adaptive values with the derivative of a fixed grid of
    :data:`ADAPTIVE_REVERSE_STEPS` steps through the same saved points (:func:`_adaptive_values`: agrees with forward
    mode through the adaptive solve to ≤ 1.5e-5, at a fraction of diffrax's checkpointed reverse pass).
    Every method supports both (:attr:`lta_jax.solver.methods.Method.derivative_modes`); the Magnus methods are
    reverse-differentiable through :func:`lta_jax.solver.magnus.expm`'s Fréchet-derivative rule (docs/numerics.md).
    ``t_start`` defaults to T0 of the given point and is then held fixed.
    ``single_mass`` (default): the map is used at the mass of ``params`` only, and an expensive rate model is
    tabulated once here; ``False`` (maps over several masses) builds the table inside every evaluation instead.
    ``kinetics="resolved"`` (with ``n_modes``, ``resolved_options`` as in :func:`lta_jax.solve`): the map solves the
    momentum-resolved equations by the structured splitting (``solver_options`` then does not apply); both derivative
    modes work through it (the splitting is a scan of exponentials, :func:`lta_jax.solver.magnus.expm`).
    """
    if mode not in DERIVATIVE_MODES:
        raise ValueError(f"mode must be one of {DERIVATIVE_MODES}, got {mode!r}")
    if kinetics not in KINETICS:
        raise ValueError(f"kinetics must be one of {KINETICS}, got {kinetics!r}")
    grid = None
    if kinetics == "resolved":
        from lta_jax.kinetics.resolved import grid_from_modes
        from lta_jax.rates.modes import mode_model_of
        from lta_jax.solver.resolved import ResolvedOptions
        from lta_jax.solver.setup import resolved_rates

        if solver_options is not None:
            raise ValueError("the resolved equations take resolved_options (not solver_options)")
        rates = resolved_rates(rates, n_modes)
        inner = mode_model_of(rates)
        grid = grid_from_modes(inner.y, rule=inner.quadrature)
        resolved_options = ResolvedOptions() if resolved_options is None else resolved_options
        from lta_jax.solver.resolved import STRUCTURED

        if resolved_options.method not in STRUCTURED:
            raise ValueError(f"derivatives of the resolved equations use a structured method {STRUCTURED}, got "
                             f"{resolved_options.method!r}")
    elif n_modes is not None or resolved_options is not None:
        raise ValueError("n_modes and resolved_options need kinetics='resolved'")
    # Default: Magnus4 through 800 nodes that include T_sph and T_end (no dense output; ~1e-5 of the tight implicit
    # reference at the Fig.-18 point). SolverOptions.kvaerno5() gives the implicit path (its tests run in the slow step).
    base = DERIVATIVE_SOLVER if solver_options is None else solver_options
    base.method.check_derivative_mode(mode)  # a combination that cannot be differentiated is refused before tracing
    # single_mass: tabulated once, outside the trace, at this point's mass: derivatives in M flow through the table's
    # ∂/∂M slopes (exact at M itself; lta_jax.rates.interpolated). A map used at a different mass must be rebuilt.
    setup = prepare(params, rates, t_start=t_start, t_end=t_end, thermo=thermo, susceptibility=susceptibility,
                    options=options, tabulate=single_mass and base.tabulate_rates)
    adjoint = diffrax.ForwardMode() if mode == "forward" else diffrax.RecursiveCheckpointAdjoint()
    derivative_options = None
    if mode == "reverse" and grid is None and isinstance(base.method, AdaptiveMagnus):
        derivative_options = SolverOptions.fixed_grid(ADAPTIVE_REVERSE_STEPS, n_save=base.n_save,
                                                      tabulate_rates=base.tabulate_rates)
    return ObservableMap(setup, eqx.tree_at(lambda o: o.adjoint, base, adjoint), grid=grid,
                         resolved_options=resolved_options, derivative_options=derivative_options)


@eqx.filter_jit
def _values(fn: ObservableMap, theta):
    return fn(theta)


@eqx.filter_jit
def _values_and_jac_forward(fn: ObservableMap, theta):
    # One pass: primal and all six tangents together.
    values, jvp = jax.vmap(lambda v: jax.jvp(fn, (theta,), (v,)), out_axes=(None, 1))(jnp.eye(theta.shape[0]))
    return values, jvp


class JacobianResult(tuple):
    """``(values, jacobian)`` — unpacks as a pair — with ``.mode`` (the derivative mode used) and ``.observables``
    (the names of the rows)."""

    def __new__(cls, values, jacobian, mode: str, observables: tuple[str, ...]):
        out = super().__new__(cls, (values, jacobian))
        out.mode, out.observables = mode, observables
        return out

    @property
    def values(self) -> np.ndarray:
        return self[0]

    @property
    def jacobian(self) -> np.ndarray:
        return self[1]


#: Jacobian modes of :func:`observables_and_jacobian`: the two derivative modes and "auto".
JACOBIAN_MODES = ("auto",) + DERIVATIVE_MODES


def cheaper_mode(n_outputs: int, n_parameters: int = len(PARAMETER_NAMES), solver_options: SolverOptions | None = None,
                 kinetics: str = "averaged") -> str:
    """The mode "auto" picks. On the adaptive Magnus path reverse mode, always: its backward passes run through a fixed
    grid (:func:`_adaptive_values`) while forward mode carries six tangents through every adaptive step — 6 × 6
    Jacobian 4.75–6.09× the value by reverse mode against 9.11–10.78× by forward mode (2-core CPU, README point,
    computed rates, to 10 GeV, two runs of benchmarks/bench_gradients.py, 2026-12-06). Elsewhere reverse when there
    are fewer outputs than parameters, else forward (node grid of 400 steps, same runs: 6 × 6 forward 4.83–10.2×,
    reverse 6.50–10.6×)."""
    if kinetics == "averaged" and solver_options is not None and isinstance(solver_options.method, AdaptiveMagnus):
        return "reverse"
    return "reverse" if n_outputs < n_parameters else "forward"


@eqx.filter_jit
def _values_and_jac_reverse(fn: ObservableMap, theta, rows):
    values, pullback = jax.vjp(fn, theta)
    return values, jax.vmap(lambda cotangent: pullback(cotangent)[0])(jnp.eye(values.shape[0])[rows])


def observables_and_jacobian(params: ModelParameters, rates: RateModel, *, mode="auto", observables=None,
                             **kwargs) -> JacobianResult:
    """Values and Jacobian of ``observables`` (default all of :data:`OBSERVABLE_NAMES`) with respect to
    :data:`PARAMETER_NAMES` at ``params``.

    Returns a :class:`JacobianResult`, which unpacks as ``(values, jacobian)``: NumPy arrays of shape (n,) and (n, 6),
    ``jacobian[i, j]`` = ∂ observable_i / ∂θ_j, plus ``.mode``, the mode used. ``mode``: "forward" (one pass with six
    tangents), "reverse" (one forward pass and one backward pass per observable) or "auto" (default: the cheaper for
    the shape and path, :func:`cheaper_mode` — reverse for fewer than six observables, and on the adaptive path).
    Keyword arguments are those of
    :func:`make_observable_map`. NaN values mean the solve failed.
    """
    if mode not in JACOBIAN_MODES:
        raise ValueError(f"mode must be one of {JACOBIAN_MODES}, got {mode!r}")
    names = tuple(OBSERVABLE_NAMES) if observables is None else tuple(observables)
    unknown = [n for n in names if n not in OBSERVABLE_NAMES]
    if unknown or not names:
        raise ValueError(f"observables must be a non-empty subset of {OBSERVABLE_NAMES}, got {observables!r}")
    rows = [OBSERVABLE_NAMES.index(n) for n in names]
    if mode == "auto":
        mode = cheaper_mode(len(rows), solver_options=kwargs.get("solver_options"),
                            kinetics=kwargs.get("kinetics", "averaged"))
    fn = make_observable_map(params, rates, mode=mode, **kwargs)
    theta = parameters_to_vector(params)
    if mode == "forward":
        values, jac = _values_and_jac_forward(fn, theta)
        values, jac = values[jnp.asarray(rows)], jac[jnp.asarray(rows)]
    else:
        values, jac = _values_and_jac_reverse(fn, theta, jnp.asarray(rows))
        values = values[jnp.asarray(rows)]
    return JacobianResult(np.asarray(values), np.asarray(jac), mode, names)


def value_and_gradient(params: ModelParameters, rates: RateModel, observable: str = "Y_L_end", **kwargs):
    """One observable and its gradient with respect to :data:`PARAMETER_NAMES` by reverse mode (about 3.7× a value
    on the default node grid): ``(value, gradient (6,))``. Keyword arguments as for :func:`make_observable_map`."""
    result = observables_and_jacobian(params, rates, mode="reverse", observables=(observable,), **kwargs)
    return float(result.values[0]), result.jacobian[0]


def jacobian_table(values, jacobian) -> dict:
    """Nested dict {observable: {"value": v, "d/d<param>": ...}} for JSON output."""
    return {name: {"value": float(values[i]),
                   **{f"d/d{p}": float(jacobian[i, j]) for j, p in enumerate(PARAMETER_NAMES)}}
            for i, name in enumerate(OBSERVABLE_NAMES)}


def central_differences(fn: ObservableMap, theta, steps) -> np.ndarray:
    """Central finite differences of ``fn`` at θ with per-parameter steps (for validation), shape (6, len(θ))."""
    theta = np.asarray(theta, dtype=float)
    cols = []
    for j, h in enumerate(steps):
        if h == 0:
            cols.append(np.full(6, np.nan))
            continue
        e = np.zeros_like(theta)
        e[j] = h
        plus = np.asarray(_values(fn, jnp.asarray(theta + e)))
        minus = np.asarray(_values(fn, jnp.asarray(theta - e)))
        cols.append((plus - minus) / (2 * h))
    return np.stack(cols, axis=1)


__all__ = ["PARAMETER_NAMES", "OBSERVABLE_NAMES", "DerivativeModeError", "JACOBIAN_MODES", "JacobianResult", "ObservableMap", "cheaper_mode",
           "ADAPTIVE_REVERSE_STEPS", "make_observable_map", "observables_and_jacobian", "value_and_gradient",
           "parameters_to_vector", "vector_to_parameters", "central_differences", "jacobian_table"]
