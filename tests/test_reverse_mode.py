"""Reverse-mode derivatives through the exponential integrators (issue 33): the Fréchet-derivative rule of the matrix
exponential, reverse = forward on every Magnus path (adaptive, fixed grid, node grid, resolved splitting), reverse
against central differences on the default derivative path, mode "auto", the refusals, and the optimiser's exact
gradients and optax step rule."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lta_jax.model.benchmark_points import FIG18
from lta_jax.rates.provisional import ProvisionalRates
from lta_jax.solver.gradients import (OBSERVABLE_NAMES, central_differences, make_observable_map,
                                      observables_and_jacobian, parameters_to_vector, value_and_gradient)
from lta_jax.solver.magnus import expm
from lta_jax.solver.methods import SolverOptions

THETA = parameters_to_vector(FIG18)


def _row_close(a, b, rel):
    """Every row of a agrees with b to ``rel`` of that row's largest entry."""
    a, b = np.atleast_2d(np.asarray(a)), np.atleast_2d(np.asarray(b))
    scale = np.max(np.abs(b), axis=1, keepdims=True)
    assert np.all(scale > 0)
    assert np.all(np.abs(a - b) <= rel * scale), np.max(np.abs(a - b) / scale)


@pytest.mark.parametrize("norm", [0.05, 3.0, 200.0])  # no squaring, a few, many
def test_exponential_derivatives_equal_scipy_algorithm(norm):
    """jvp, vjp (grad) and their vmaps of the Taylor-18 exponential equal those of jax.scipy.linalg.expm (Padé-13,
    an independent algorithm) to round-off."""
    rng = np.random.default_rng(1)
    a = jnp.asarray(rng.normal(size=(12, 12)))
    a = a * norm / jnp.max(jnp.sum(jnp.abs(a), axis=0))
    w, e = (jnp.asarray(rng.normal(size=(12, 12))) for _ in range(2))
    ours = jax.grad(lambda m: jnp.sum(w * expm(m)))(a)
    ref = jax.grad(lambda m: jnp.sum(w * jax.scipy.linalg.expm(m)))(a)
    _row_close(ours.ravel(), ref.ravel(), 1e-10)
    _row_close(jax.jvp(expm, (a,), (e,))[1].ravel(), jax.jvp(jax.scipy.linalg.expm, (a,), (e,))[1].ravel(), 1e-10)
    batched = jax.vmap(jax.grad(lambda m: jnp.sum(w * expm(m))))(jnp.stack([a, 0.5 * a]))
    _row_close(batched[0].ravel(), ours.ravel(), 1e-12)


def primitives(jaxpr) -> set:
    """Names of every primitive in a (closed) jaxpr, sub-jaxprs included (loops, custom rules, linear solves)."""
    jaxpr = getattr(jaxpr, "jaxpr", jaxpr)
    names = set()
    for eqn in jaxpr.eqns:
        names.add(eqn.primitive.name)
        for param in eqn.params.values():
            for sub in (param if isinstance(param, (list, tuple)) else [param]):
                if hasattr(sub, "eqns") or hasattr(getattr(sub, "jaxpr", None), "eqns"):
                    names |= primitives(sub)
    return names


#: Primitives that call a linear-algebra library (LAPACK on CPU).
LAPACK = {"lu", "triangular_solve", "cholesky", "eig", "eigh", "qr", "svd", "lu_pivots_to_permutation"}


def test_exponential_reverse_pass_uses_no_linear_algebra_library():
    """The derivative rule is matrix products only (a batched LAPACK solve once deadlocked XLA's CPU pool): the
    reverse pass of a vmapped exponential contains no LAPACK primitive (the detector does see one in SciPy's)."""
    grad = jax.vmap(jax.grad(lambda m: jnp.sum(expm(m) ** 2)))
    assert not primitives(jax.make_jaxpr(grad)(jnp.zeros((4, 12, 12)))) & LAPACK
    assert primitives(jax.make_jaxpr(jax.grad(lambda m: jnp.sum(jax.scipy.linalg.expm(m))))(jnp.eye(3))) & LAPACK


def _directional(f, theta=THETA, seed=0):
    """(⟨∇f, v⟩ by reverse mode, jvp(f, v) by forward mode) for a random direction v."""
    v = jnp.asarray(np.random.default_rng(seed).normal(size=theta.shape))
    return (float(jax.jit(jax.grad(f))(theta) @ v),
            float(jax.jit(lambda t, d: jax.jvp(f, (t,), (d,))[1])(theta, v)))


@pytest.mark.parametrize("options, rel", [(SolverOptions.fixed_grid(100), 1e-8), (SolverOptions(n_save=20), 1e-5)],
                         ids=["node grid", "adaptive Magnus"])
def test_reverse_directional_derivative_equals_forward(options, rel):
    """Default-suite check of reverse mode through the observable map: ⟨∇Y_L, v⟩ (jax.grad) equals the forward-mode
    jvp in a random direction — exactly (1e-8) on the node grid, whose reverse pass is that of the same discrete map;
    to the discretisation accuracy on the adaptive path, whose reverse mode returns the derivative of an 800-step
    fixed grid through the same saved points (measured 5.6e-7 of the largest entry of the 6 × 6 Jacobian)."""
    kw = dict(t_start=1e3, t_end=100.0, solver_options=options)
    reverse_map = make_observable_map(FIG18, ProvisionalRates(), mode="reverse", **kw)
    forward_map = make_observable_map(FIG18, ProvisionalRates(), mode="forward", **kw)
    v = jnp.asarray(np.random.default_rng(0).normal(size=6))
    by_reverse = float(eqx.filter_jit(lambda m, t: jax.grad(lambda x: m(x)[1] * 1e8)(t))(reverse_map, THETA) @ v)
    by_forward = float(eqx.filter_jit(lambda m, t: jax.jvp(lambda x: m(x)[1] * 1e8, (t,), (v,))[1])(forward_map, THETA))
    assert math.isclose(by_reverse, by_forward, rel_tol=rel), (by_reverse, by_forward)


def test_forward_mode_works_on_a_reverse_mode_adaptive_map():
    """One derivative rule serves both modes on the adaptive path: jax.jvp of a map made with mode="reverse" equals
    ⟨jax.grad, v⟩ of the same map (the same 800-step grid, to round-off) — it raised JAX's "can't apply forward-mode
    autodiff (jvp) to a custom_vjp function" before — and vmap of its gradient gives one row per point."""
    fn = make_observable_map(FIG18, ProvisionalRates(), mode="reverse", t_start=1e3, t_end=100.0,
                             solver_options=SolverOptions(n_save=10))
    v = jnp.asarray(np.random.default_rng(1).normal(size=6))
    y_l = lambda m: (lambda x: m(x)[1] * 1e8)  # noqa: E731
    by_reverse = float(eqx.filter_jit(lambda m, t: jax.grad(y_l(m))(t))(fn, THETA) @ v)
    by_forward = float(eqx.filter_jit(lambda m, t: jax.jvp(y_l(m), (t,), (v,))[1])(fn, THETA))
    assert math.isclose(by_reverse, by_forward, rel_tol=1e-9), (by_reverse, by_forward)
    batch = eqx.filter_jit(lambda m, t: jax.vmap(jax.grad(y_l(m)))(t))(fn, jnp.stack([THETA, THETA + 0.01]))
    assert batch.shape == (2, 6) and np.all(np.isfinite(np.asarray(batch)))


def test_failed_adaptive_solve_has_nan_gradient():
    """A failed adaptive solve (step limit) gives NaN values and NaN reverse-mode derivatives, although the fixed grid
    whose derivative reverse mode returns would have succeeded: never numbers for a failed solve."""
    bad = make_observable_map(FIG18, ProvisionalRates(), mode="reverse", t_start=1e3, t_end=100.0,
                              solver_options=SolverOptions(n_save=20, max_steps=5))
    value, grad = eqx.filter_jit(lambda m, t: jax.value_and_grad(lambda x: m(x)[1])(t))(bad, THETA)
    assert np.isnan(float(value)) and np.all(np.isnan(np.asarray(grad)))


@pytest.mark.slow  # two 6 × 6 Jacobians per path (≈ 2 min on 2 cores)
@pytest.mark.parametrize("options, rel", [(SolverOptions.fixed_grid(200), 1e-8), (SolverOptions(n_save=50), 1e-5)],
                         ids=["node grid", "adaptive Magnus"])
def test_reverse_mode_equals_forward_mode_through_magnus(options, rel):
    """jax.jacrev of the observable map equals jax.jacfwd on the node grid (fixed-grid Magnus: the same discrete map,
    1e-8) and on the adaptive Magnus path (forward mode through diffrax's loop; reverse mode the derivative of the
    800-step fixed grid through the same saved points: measured 1.0e-7 of each row's largest entry, bound 1e-5)."""
    kw = dict(t_start=1e3, t_end=50.0, solver_options=options)
    forward = eqx.filter_jit(lambda m, t: jax.jacfwd(m)(t))(
        make_observable_map(FIG18, ProvisionalRates(), mode="forward", **kw), THETA)
    reverse = eqx.filter_jit(lambda m, t: jax.jacrev(m)(t))(
        make_observable_map(FIG18, ProvisionalRates(), mode="reverse", **kw), THETA)
    assert np.all(np.isfinite(np.asarray(reverse)))
    _row_close(reverse, forward, rel)


def test_reverse_mode_through_the_dense_output_of_a_fixed_grid():
    """jax.grad through solve_arrays on a uniform fixed grid whose saved points need dense output (the sphaleron
    window) equals forward mode."""
    from lta_jax.kinetics.averaged import KineticSystem
    from lta_jax.plasma.susceptibility import in_house_susceptibility
    from lta_jax.plasma.thermodynamics import in_house_thermodynamics
    from lta_jax.solver.gradients import vector_to_parameters
    from lta_jax.solver.integrate import solve_arrays

    options = SolverOptions.fixed_grid(30, n_save=16)
    models = (ProvisionalRates(), in_house_thermodynamics(), in_house_susceptibility())

    def window_sum(theta):
        raw = solve_arrays(KineticSystem(vector_to_parameters(theta, FIG18), *models), 1e3, 60.0, None, options)
        return jnp.sum(raw.states_window[:, 0]) * 1e8

    by_reverse, by_forward = _directional(window_sum)
    assert math.isclose(by_reverse, by_forward, rel_tol=1e-8), (by_reverse, by_forward)


def test_reverse_mode_through_the_resolved_splitting():
    """jax.grad of Y_L through the momentum-resolved splitting (few modes, coarse) equals forward mode."""
    from lta_jax.kinetics.averaged import KineticSystem
    from lta_jax.kinetics.resolved import ResolvedSystem, momentum_grid
    from lta_jax.plasma.susceptibility import in_house_susceptibility
    from lta_jax.plasma.thermodynamics import in_house_thermodynamics
    from lta_jax.rates.modes import UniformModeRates
    from lta_jax.solver.gradients import vector_to_parameters
    from lta_jax.solver.resolved import ResolvedOptions, solve_resolved_arrays

    grid = momentum_grid(4)
    rates = UniformModeRates(ProvisionalRates(), np.asarray(grid.y))
    options = ResolvedOptions(n_save=10, refine=20)

    def y_l(theta):
        system = ResolvedSystem(KineticSystem(vector_to_parameters(theta, FIG18), rates, in_house_thermodynamics(),
                                              in_house_susceptibility()), grid)
        raw, _ = solve_resolved_arrays(system, 1e3, 60.0, None, options)
        return jnp.sum(raw.states[-1, :3]) * 1e8

    by_reverse, by_forward = _directional(y_l)
    assert math.isclose(by_reverse, by_forward, rel_tol=1e-8), (by_reverse, by_forward)


def test_reverse_gradient_matches_central_differences_on_the_default_path():
    """value_and_gradient (reverse mode, node grid of 400 steps) of Y_B and Y_L against central differences of the
    same map: ≤ 1e-4 of each row's largest entry (entries below 1 % compared on that scale)."""
    kw = dict(t_start=1e3, t_end=20.0, solver_options=SolverOptions.fixed_grid(400))
    fn = make_observable_map(FIG18, ProvisionalRates(), **kw)
    fd = central_differences(fn, THETA, [1e-5, 3e-6, 1e-5, 1e-5, 3e-5, 1e-5])
    for i, name in ((0, "Y_B"), (1, "Y_L_end")):
        value, grad = value_and_gradient(FIG18, ProvisionalRates(), observable=name, **kw)
        scale = np.max(np.abs(grad))
        assert np.all(np.abs(grad - fd[i]) <= 1e-4 * np.maximum(np.abs(grad), 1e-2 * scale)), (name, grad, fd[i])


def test_auto_mode_picks_by_shape_and_says_so():
    kw = dict(t_start=1e3, t_end=50.0, solver_options=SolverOptions.fixed_grid(100))
    one = observables_and_jacobian(FIG18, ProvisionalRates(), observables=("Y_L_end",), **kw)
    everything = observables_and_jacobian(FIG18, ProvisionalRates(), **kw)
    assert one.mode == "reverse" and everything.mode == "forward"
    values, jac = everything  # still unpacks as a pair
    assert values.shape == (6,) and jac.shape == (6, 6) and one.jacobian.shape == (1, 6)
    _row_close(one.jacobian, jac[[OBSERVABLE_NAMES.index("Y_L_end")]], 1e-8)


def test_auto_mode_takes_reverse_on_the_adaptive_path():
    """On the adaptive Magnus path reverse mode runs its backward passes through a fixed grid and measured cheaper
    than forward mode even for the full 6 × 6 Jacobian: "auto" picks it for every shape there (not on grids, not for
    Kvaerno5, not for the resolved equations)."""
    from lta_jax.solver.gradients import cheaper_mode

    assert cheaper_mode(6, solver_options=SolverOptions()) == "reverse"
    assert cheaper_mode(6, solver_options=SolverOptions.fixed_grid(400)) == "forward"
    assert cheaper_mode(6, solver_options=SolverOptions.kvaerno5()) == "forward"
    assert cheaper_mode(6, solver_options=None, kinetics="resolved") == "forward"
    assert cheaper_mode(1, solver_options=SolverOptions.fixed_grid(400)) == "reverse"


@pytest.mark.parametrize("options", [SolverOptions.fixed_grid(20), SolverOptions(n_save=10)], ids=["grid", "adaptive"])
@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_second_derivatives_are_refused_clearly(options, mode):
    """jax.hessian and grad-of-grad of an observable map stop at tracing with SecondDerivativeError (the rule of the
    exponential is first order). Before the map refused them at entry, jax.hessian of a fixed-grid map returned wrong
    numbers without an error (off by up to 200 % against central differences of the gradient), grad of grad raised
    JAX's while-loop error and the adaptive reverse path JAX's custom_vjp error."""
    from lta_jax.solver.magnus import SecondDerivativeError

    fn = make_observable_map(FIG18, ProvisionalRates(), mode=mode, t_start=1e3, t_end=100.0, solver_options=options)
    y_l = lambda t: fn(t)[1]  # noqa: E731
    with pytest.raises(SecondDerivativeError, match="second derivatives"):
        jax.hessian(y_l)(THETA)
    with pytest.raises(SecondDerivativeError, match="central differences"):
        jax.grad(lambda t: jax.grad(y_l)(t)[0])(THETA)
    with pytest.raises(SecondDerivativeError):
        jax.hessian(lambda a: jnp.sum(expm(a)))(jnp.eye(3))


def test_forward_mode_on_a_reverse_mode_kvaerno5_map_is_refused_clearly():
    """Kvaerno5 takes diffrax's adjoints, one mode per map: jax.jacfwd of a map made with mode="reverse" stops at
    tracing with DerivativeModeError (it raised JAX's "can't apply forward-mode autodiff (jvp) to a custom_vjp
    function"). (The converse, jax.grad of a mode="forward" map on an adaptive diffrax path, still ends in JAX's
    while-loop error at transposition, where no hook of ours runs: docs/numerics.md.)"""
    from lta_jax.solver.gradients import DerivativeModeError

    fn = make_observable_map(FIG18, ProvisionalRates(), mode="reverse", t_start=1e3, t_end=100.0,
                             solver_options=SolverOptions.kvaerno5())
    with pytest.raises(DerivativeModeError, match="mode='forward'.*Kvaerno5|Kvaerno5.*mode='forward'"):
        eqx.filter_jit(lambda m, t: jax.jacfwd(m)(t))(fn, THETA)


def test_bad_derivative_requests_are_refused_clearly():
    with pytest.raises(ValueError, match="mode must be one of"):
        observables_and_jacobian(FIG18, ProvisionalRates(), mode="backward", t_start=1e3, t_end=50.0)
    with pytest.raises(ValueError, match="observables must be"):
        observables_and_jacobian(FIG18, ProvisionalRates(), observables=("Y_X",), t_start=1e3, t_end=50.0)
    with pytest.raises(ValueError, match="mode must be one of"):
        make_observable_map(FIG18, ProvisionalRates(), mode="adjoint", t_start=1e3, t_end=50.0)

    from lta_jax.solver.methods import FixedGridMagnus

    class ForwardOnly(FixedGridMagnus):
        derivative_modes = ("forward",)

    with pytest.raises(ValueError, match="supports derivative modes .*'forward'.* not 'reverse'"):
        ForwardOnly(SolverOptions.fixed_grid(10)).check_derivative_mode("reverse")


def test_optimiser_reverse_rows_equal_forward_mode():
    """The optimiser's default Jacobian (reverse mode, rows Y_B and the objective) equals forward mode on those rows;
    the rows it does not compute are NaN, never numbers."""
    from lta_jax.model.parameters import ModelParameters
    from lta_jax.studies import optimise as opt

    space = opt._Space.make(opt.LARGE_LTA_BOX, 1.0)
    fn = make_observable_map(ModelParameters(1.0, 1e-11), ProvisionalRates(), t_start=1e3, t_end=50.0,
                             solver_options=SolverOptions.fixed_grid(100))
    problem = opt._Problem(fn, space, rows=(0, 1))
    v = jnp.asarray([[0.3, 0.8, 0.4, 0.35, 0.6], [0.6, 0.1, 0.7, 0.8, 0.2]])
    obs_r, jac_r = (np.asarray(x) for x in opt._values_and_reverse_jacobians(problem, v))
    obs_f, jac_f = (np.asarray(x) for x in opt._values_and_jacobians(problem, v))
    np.testing.assert_allclose(obs_r, obs_f, rtol=1e-9)
    for k in range(2):
        _row_close(jac_r[k, :2], jac_f[k, :2], 1e-8)
        assert np.all(np.isnan(jac_r[k, 2:]))


def test_optax_step_rule_projects_normalises_and_restores():
    """refinement_rule: the move is ⟂ ∇g with length radius, the restoration is the Gauss–Newton step −g∇g/|∇g|²
    capped at 2 radius, and the chain equals the hand-written formula of the former optimiser."""
    from lta_jax.studies.updates import refinement_rule

    rng = np.random.default_rng(0)
    grad_j, grad_g = rng.normal(size=5), rng.normal(size=5)
    rule = refinement_rule(True)
    state = rule.init(np.zeros(5))
    move, _ = rule.update(grad_j, state, None, radius=0.1, constraint_gradient=grad_g, residual=0.0)
    assert abs(move @ grad_g) < 1e-14 and math.isclose(np.linalg.norm(move), 0.1, rel_tol=1e-12)
    restore, _ = rule.update(np.zeros(5), state, None, radius=10.0, constraint_gradient=grad_g, residual=0.3)
    np.testing.assert_allclose(restore, -0.3 * grad_g / (grad_g @ grad_g), rtol=1e-14)
    capped, _ = rule.update(np.zeros(5), state, None, radius=1e-3, constraint_gradient=grad_g, residual=0.3)
    assert math.isclose(np.linalg.norm(capped), 2e-3, rel_tol=1e-12)
    tangent = grad_j - (grad_j @ grad_g) / (grad_g @ grad_g + 1e-300) * grad_g  # the former formula, by hand
    np.testing.assert_array_equal(move, 0.1 * tangent / np.linalg.norm(tangent))
    free_rule = refinement_rule(False)
    free, _ = free_rule.update(grad_j, free_rule.init(np.zeros(5)), None, radius=0.2)
    np.testing.assert_array_equal(free, 0.2 * grad_j / (np.linalg.norm(grad_j) + 1e-300))
