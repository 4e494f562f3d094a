"""The Magnus integrator (lta_jax.solver.magnus) and the per-solve rate tables (lta_jax.rates.interpolated)."""

import math

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp

from lta_jax import ModelParameters, SolverOptions, solve, summary
from lta_jax.model.benchmark_points import FIG18
from lta_jax.rates.computed import ComputedRates
from lta_jax.rates.interpolated import InterpolatedRates, tabulate, unwarp, warp
from lta_jax.solver.magnus import LinearODETerm, Magnus4

RNG = np.random.default_rng(0)
A0, A1, A2 = (RNG.normal(size=(4, 4)) for _ in range(3))
B0 = RNG.normal(size=4)


def _field(t, x, args):
    return (A0 + jnp.sin(2 * t) * A1 + t**2 * A2) @ x + B0 * jnp.cos(t)


def _scipy_reference():
    def f(t, x):
        return (A0 + np.sin(2 * t) * A1 + t**2 * A2) @ x + B0 * np.cos(t)

    return solve_ivp(f, (0, 1), np.ones(4), rtol=1e-13, atol=1e-13, method="DOP853").y[:, -1]


@pytest.mark.parametrize("solver_cls, order", [(Magnus4, 4)])
def test_convergence_order_on_an_affine_system(solver_cls, order):
    """Error against an independent SciPy solve falls like h^order (inhomogeneous term included)."""
    ref = _scipy_reference()
    errors = []
    for n in (8, 16, 32):
        y = diffrax.diffeqsolve(diffrax.ODETerm(_field), solver_cls(error_estimate=False), 0.0, 1.0, 1.0 / n,
                                jnp.ones(4), stepsize_controller=diffrax.ConstantStepSize()).ys[-1]
        errors.append(np.abs(np.asarray(y) - ref).max())
    rates = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(np.abs(rates - order) < 0.3), (errors, rates)


def test_adaptive_magnus_and_dense_output():
    """Step-doubling control meets the tolerance at the step ends; the dense output between steps (third order inside
    a step; the kinetic solves cap the step at dz = 0.01 for it) is accurate to ~1e-4 with these long steps."""
    ts = jnp.linspace(0.0, 1.0, 7)
    sol = diffrax.diffeqsolve(diffrax.ODETerm(_field), Magnus4(), 0.0, 1.0, None, jnp.ones(4),
                              stepsize_controller=diffrax.PIDController(rtol=1e-8, atol=1e-10),
                              saveat=diffrax.SaveAt(ts=ts))

    def f(t, x):
        return (A0 + np.sin(2 * t) * A1 + t**2 * A2) @ x + B0 * np.cos(t)

    ref = solve_ivp(f, (0, 1), np.ones(4), rtol=1e-13, atol=1e-13, method="DOP853", t_eval=np.asarray(ts)).y.T
    assert sol.result == diffrax.RESULTS.successful
    assert int(sol.stats["num_steps"]) < 60
    # The system grows like e^{3t}, so global errors exceed the local tolerance; measured 8e-7 of max |y| at the end.
    scale = np.abs(ref).max()
    assert np.abs(np.asarray(sol.ys)[-1] - ref[-1]).max() < 1e-5 * scale
    assert np.abs(np.asarray(sol.ys) - ref).max() < 1e-4 * scale


def test_linear_term_supplies_its_generator_in_either_time_direction():
    """diffeqsolve hands the solver its term wrapped (diffrax's WrapTerm, for the time direction); the Magnus step must
    still take the LinearODETerm's own generator. Here the vector field is deliberately zero, so a step that
    differentiated it instead (as before the fix) would leave the state unchanged; backwards (t0 > t1) the same
    generator must bring the end state back to the start."""

    def generator(t, args):
        del args
        a = A0 + jnp.sin(2 * t) * A1 + t**2 * A2
        top = jnp.concatenate([a, (B0 * jnp.cos(t))[:, None]], axis=1)
        return jnp.concatenate([top, jnp.zeros((1, 5))], axis=0)

    term = LinearODETerm(lambda t, x, args: jnp.zeros_like(x), generator)
    controller = diffrax.PIDController(rtol=1e-10, atol=1e-12)
    forward = diffrax.diffeqsolve(term, Magnus4(), 0.0, 1.0, 0.01, jnp.ones(4), stepsize_controller=controller)
    end = np.asarray(forward.ys[-1])
    ref = _scipy_reference()
    assert np.abs(end - ref).max() < 1e-7 * np.abs(ref).max()
    backward = diffrax.diffeqsolve(term, Magnus4(), 1.0, 0.0, -0.01, jnp.asarray(end), stepsize_controller=controller)
    assert np.abs(np.asarray(backward.ys[-1]) - 1.0).max() < 1e-7


def test_rate_table_matches_direct_evaluation(computed_rates):
    """Cubic Hermite in ln T: ≤ 1e-4 relative to direct evaluation at 5–1000 GeV, off the grid nodes, away from the
    zero of h̄− (there: absolute error ≤ 1e-4 of the local scale of |h̄−|)."""
    mass = 1.0
    table = tabulate(computed_rates, mass, 5.0, 1000.0)
    temperatures = np.exp(np.linspace(math.log(5.0), math.log(1000.0), 997))
    direct = np.asarray(jax.jit(jax.vmap(lambda t: jnp.stack(list(computed_rates(t, mass)))))(temperatures))
    interp = np.asarray(jax.jit(jax.vmap(lambda t: jnp.stack(list(table(t, mass)))))(temperatures))
    scale = np.maximum(np.abs(direct), 1e-3 * np.max(np.abs(direct), axis=0))
    for j in range(7):
        err = np.abs(interp[:, j] - direct[:, j]) / scale[:, j]
        assert err.max() < 1e-4, (j, err.max(), temperatures[np.argmax(err)])


def test_rate_table_resolves_the_electroweak_crossover(computed_rates):
    """The nodes are uniform in warp(ln T), 4× denser through the crossover: at M = 10 GeV over 110–170 GeV every
    coefficient is within 1e-5 of direct evaluation (measured ≤ 3.6e-6; a uniform 512-node grid: 4.6e-4, which
    moved Y_B by 1e-3 at a near-cancellation point, see test_magnus_matches_kvaerno5_where_y_b_nearly_cancels);
    warp and unwarp invert each other."""
    x = jnp.linspace(math.log(0.5), math.log(2e3), 301)
    np.testing.assert_allclose(np.asarray(unwarp(warp(x))), np.asarray(x), rtol=0, atol=1e-13)
    mass = 10.0
    table = tabulate(computed_rates, mass, 5.0, 1439.0)
    temperatures = np.linspace(110.0, 170.0, 1201)
    direct = np.asarray(jax.jit(jax.vmap(lambda t: jnp.stack(list(computed_rates(t, mass)))))(temperatures))
    interp = np.asarray(jax.jit(jax.vmap(lambda t: jnp.stack(list(table(t, mass)))))(temperatures))
    scale = np.maximum(np.abs(direct), 1e-3 * np.max(np.abs(direct), axis=0))
    err = np.abs(interp - direct) / scale
    assert err.max() < 1e-5, (err.max(axis=0), temperatures[np.argmax(err, axis=0)])


@pytest.mark.slow  # long physics run (≥ 25 s on 2 cores, 2026-12-02): the bounded slow step of .ci/run
def test_magnus_matches_kvaerno5_where_y_b_nearly_cancels(computed_rates):
    """A large-LTA-box point at NH M = 10 GeV whose Y_B (−4.45e-9) is 50× below the box median: the default solve
    agrees with Kvaerno5 (direct rates) to 1e-4 on Y_B (measured 1.1e-6; 1.1e-3 with the uniform 512-node table)."""
    p = ModelParameters(10.0, 5.0254034591880095e-11, 0.17254640199244026, 1.4845392448354908, 2.2905362105757385,
                        0.8793033020776864, hierarchy="NH")
    magnus = summary(solve(p, computed_rates, t_end=5.0))
    reference = summary(solve(p, computed_rates, t_end=5.0, solver_options=SolverOptions.kvaerno5()))
    assert magnus["status"] == reference["status"] == "success"
    assert magnus["Y_B"] == pytest.approx(reference["Y_B"], rel=1e-4)


def test_rate_table_mass_derivative(computed_rates):
    """∂/∂M of the table equals ∂/∂M of the model at the table's mass (first-order Taylor in M; the slopes are
    interpolated linearly in ln T, measured ≤ 5e-4 relative)."""
    table = tabulate(computed_rates, 2.0, 5.0, 1000.0)
    for t in (8.0, 50.0, 300.0):
        d_model = jax.jacfwd(lambda m: jnp.stack(list(computed_rates(t, m))))(2.0)
        d_table = jax.jacfwd(lambda m: jnp.stack(list(table(t, m))))(2.0)
        np.testing.assert_allclose(np.asarray(d_table), np.asarray(d_model), rtol=1e-3, atol=1e-30)
    assert isinstance(table, InterpolatedRates)


@pytest.mark.slow  # long run (≥ 45 s on 2 cores in the default suite, 2026-12-02): the bounded slow step of .ci/run
def test_magnus_matches_kvaerno5_at_fig18(computed_rates):
    """The default (Magnus) solve agrees with the implicit Kvaerno5 reference to ≤ 1e-4 on Y_B, Y_L, Y_Δα, max|Y_e|
    (measured: ≤ 1e-5; Kvaerno5 at its defaults is within 2e-6 of a tight Kvaerno5 run)."""
    p = FIG18
    magnus = summary(solve(p, computed_rates, t_end=5.0))
    reference = summary(solve(p, computed_rates, t_end=5.0, solver_options=SolverOptions.kvaerno5()))
    assert magnus["status"] == reference["status"] == "success"
    for key in ("Y_B", "Y_L_end", "max_abs_Y_e"):
        assert magnus[key] == pytest.approx(reference[key], rel=1e-4), key
    np.testing.assert_allclose(magnus["Y_Delta_end"], reference["Y_Delta_end"], rtol=1e-4)
    # No step-count comparison: with dtmax 0.003 Magnus takes 2061 steps here against Kvaerno5's 1188, but a Magnus step
    # is three explicit exponentials, not an implicit solve; the wall-time comparison is in benchmarks/bench_magnus.py,
    # and test_fixed_grid_agrees_with_adaptive_to_1_gev covers the range where Kvaerno5 runs out of steps.


def test_cp_conserving_point_stays_zero_with_magnus(computed_rates):
    p = ModelParameters(1.0, 1e-11, 0.0, 1.6, 0.0, 0.0)
    out = summary(solve(p, computed_rates, t_end=10.0))
    assert out["status"] == "success"
    # Round-off only: Y+ ~ 1e-3 through a 12×12 exponential per step (Kvaerno5: ~1e-20); CP-violating points give
    # Y_L ~ 1e-10–1e-5.
    assert abs(out["Y_L_end"]) < 1e-17 and abs(out["Y_B"]) < 1e-17


@pytest.fixture(scope="module")
def computed_rates():
    return ComputedRates.build()


@pytest.mark.slow  # long run (≥ 60 s on 2 cores in the default suite, 2026-12-02): the bounded slow step of .ci/run
def test_generator_basis_is_the_jacobian_of_the_rhs(computed_rates):
    """A(z) assembled from the per-point basis equals the Jacobian of kinetic_rhs (and b its value at 0), with the
    source term on, at temperatures across the crossover and the level crossing."""
    import equinox as eqx

    from lta_jax.kinetics.averaged import GeneratorBasis, KineticOptions, KineticSystem, kinetic_generator, kinetic_rhs
    from lta_jax.plasma.susceptibility import in_house_susceptibility
    from lta_jax.plasma.thermodynamics import in_house_thermodynamics
    from lta_jax.solver.magnus import affine_generator

    system = KineticSystem(FIG18, computed_rates, in_house_thermodynamics(), in_house_susceptibility(),
                           KineticOptions(source_term=True))
    basis = eqx.filter_jit(GeneratorBasis.build)(system)
    for temperature in (900.0, 140.0, 130.0, 27.0, 6.0):
        z = math.log(1.0 / temperature)
        assembled = np.asarray(kinetic_generator(z, system, basis))
        direct = np.asarray(affine_generator(kinetic_rhs, z, system, 11))
        np.testing.assert_allclose(assembled, direct, rtol=1e-10, atol=1e-12 * np.abs(direct).max())


def test_fixed_grid_agrees_with_adaptive_to_1_gev(computed_rates):
    """The fixed-grid path (vmap-friendly) and the adaptive default agree at the Fig.-18 point down to T = 1 GeV, where
    Kvaerno5 runs out of its 100,000 steps (measured: 8e-6 relative between them)."""
    with pytest.warns(UserWarning, match="below 5 GeV"):
        adaptive = summary(solve(FIG18, computed_rates, t_end=1.0))
    fixed = summary(solve(FIG18, computed_rates, t_end=1.0, solver_options=SolverOptions.fixed_grid(1600)))
    assert adaptive["status"] == fixed["status"] == "success"
    for key in ("Y_B", "Y_L_end", "max_abs_Y_e"):
        assert adaptive[key] == pytest.approx(fixed[key], rel=1e-4), key
    np.testing.assert_allclose(adaptive["Y_Delta_end"], fixed["Y_Delta_end"], rtol=1e-4)


def test_coarse_fixed_grid_stays_stable(computed_rates):
    """A coarse fixed grid must lose accuracy gracefully, never blow up: a large-LTA point with fast HNL oscillations
    (M = 1 GeV, ΔM = 1e-10 GeV) on 100 uniform steps to 10 GeV. The one-exponential Magnus4 step grew to ~1e74 on such points
    (its commutator term is not damped); the commutator-free step measured ≤ 1e-2 over 32 box points."""
    point = ModelParameters(1.0, 1e-10, 0.1, math.pi / 2, 1.0, 2.0)
    adaptive = summary(solve(point, computed_rates, t_end=10.0))
    # n_save = 101: the saved points sit on the 100 nodes (aligned_steps would otherwise refine the grid to 999 steps).
    coarse_solution = solve(point, computed_rates, t_end=10.0, solver_options=SolverOptions.fixed_grid(100, n_save=101))
    coarse = summary(coarse_solution)
    assert coarse["status"] == "success" and int(coarse_solution.raw.num_steps) == 100
    for key in ("Y_B", "Y_L_end"):
        assert coarse[key] == pytest.approx(adaptive[key], rel=2e-2), key


def test_expm_against_scipy_vmapped_and_differentiated():
    """The integrator's Taylor-18 exponential (squaring loop of traced length) against SciPy for norms 1e-3 … 1e4
    (0 … 11 squarings), identical under vmap (where the loop runs max(s) times), its forward derivative against
    jax.scipy's, and NaN when more than MAX_SQUARINGS squarings would be needed."""
    import scipy.linalg

    from lta_jax.solver.magnus import MAX_SQUARINGS, expm

    rng = np.random.default_rng(1)
    mats = []
    for scale in np.geomspace(1e-3, 1e4, 8):
        a = rng.normal(size=(12, 12))
        mats.append((a - a.T) * scale - np.diag(rng.uniform(0, 1, 12)))  # oscillation + damping, like Ω of a step
    mats = np.array(mats)
    single = np.array([np.asarray(expm(jnp.asarray(m))) for m in mats])
    batched = np.asarray(jax.vmap(expm)(jnp.asarray(mats)))
    for m, e in zip(mats, single):
        ref = scipy.linalg.expm(m)
        assert np.max(np.abs(e - ref)) <= 1e-10 * max(1.0, np.max(np.abs(ref)))
    np.testing.assert_allclose(batched, single, rtol=0, atol=1e-12)
    tangent = jnp.asarray(rng.normal(size=(12, 12)))
    for m in mats[[0, 4, 7]]:
        _, ours = jax.jvp(expm, (jnp.asarray(m),), (tangent,))
        _, theirs = jax.jvp(lambda x: jax.scipy.linalg.expm(x, max_squarings=MAX_SQUARINGS), (jnp.asarray(m),), (tangent,))
        assert np.max(np.abs(ours - theirs)) <= 1e-9 * np.max(np.abs(theirs))
    assert np.isnan(np.asarray(expm(jnp.eye(3) * 5.4 * 2.0 ** (MAX_SQUARINGS + 2)))).all()
    assert np.isnan(np.asarray(expm(jnp.full((3, 3), np.inf)))).all()


def test_expm_calls_no_linear_algebra_library():
    """Regression guard: a batched LAPACK solve inside the vmapped exponential deadlocked XLA's CPU thread pool
    (docs/numerics.md); the exponential must stay matrix products only, also under vmap and jvp (its derivative rule
    is a custom_linear_solve whose solves are matrix products: the primitives inside it are inspected too)."""
    from test_reverse_mode import LAPACK, primitives

    from lta_jax.solver.magnus import expm

    mats = jnp.zeros((4, 12, 12))
    assert not primitives(jax.make_jaxpr(jax.vmap(lambda m: jax.jvp(expm, (m,), (m,))))(mats)) & LAPACK


def test_placed_nodes_equidistribute_the_density():
    """Nodes of a placed grid: equal shares of the density's integral between neighbours (exact for a piecewise-constant
    density), the requested ends exactly, also for a sub-range (the node path places both sides of T_sph)."""
    from lta_jax.solver.magnus import placed_nodes

    edges, density = jnp.array([0.0, 1.0, 2.0]), jnp.array([1.0, 3.0])
    nodes = np.asarray(placed_nodes(edges, density, 0.0, 2.0, 8))
    np.testing.assert_allclose(nodes, [0, 0.5, 1, 1 + 1 / 6, 1 + 2 / 6, 1.5, 1 + 4 / 6, 1 + 5 / 6, 2], atol=1e-14)
    sub = np.asarray(placed_nodes(edges, density, 0.5, 1.5, 4))  # integral 0.5 + 1.5 = 2: steps of 0.5
    np.testing.assert_allclose(sub, [0.5, 1.0, 1 + 1 / 6, 1 + 2 / 6, 1.5], atol=1e-14)


def test_grid_propagators_in_groups_equal_one_batch():
    """The step exponentials computed in contiguous groups equal the single vmapped batch to round-off (the groups only
    stop small matrices from paying the largest matrix's squarings; XLA's batched products may round differently at
    another batch size)."""
    from lta_jax.solver import magnus

    rng = np.random.default_rng(0)
    scales = jnp.asarray(np.geomspace(1e-3, 3e2, 37))[:, None, None]
    g1 = jnp.asarray(rng.normal(size=(37, 6, 6))) * scales
    g2 = g1 + 0.01 * jnp.asarray(rng.normal(size=(37, 6, 6))) * scales
    h = jnp.linspace(0.5, 1.5, 37)
    grouped = magnus.grid_propagators(g1, g2, h)
    single = jax.vmap(magnus.step_propagator)(g1, g2, h)
    assert magnus.PROPAGATOR_GROUPS > 1
    np.testing.assert_allclose(np.asarray(grouped), np.asarray(single), rtol=1e-12, atol=0)


def test_saved_points_on_nodes_equal_dense_output_and_scipy():
    """A uniform grid whose step count is a multiple of n_save − 1 reads the saved points off the chain
    (``on_nodes``): the same states as dense output at those points (a dense step of length 0 from the node), and the
    independent SciPy solve at every saved point. Extra (off-node) save points still get dense output."""
    from lta_jax.solver import magnus

    def generator(t, args):
        del args
        a = A0 + jnp.sin(2 * t) * A1 + t**2 * A2
        top = jnp.concatenate([a, (B0 * jnp.cos(t))[:, None]], axis=1)
        return jnp.concatenate([top, jnp.zeros((1, 5))], axis=0)

    assert magnus.aligned_steps(800, 1000) == 999 and magnus.aligned_steps(400, 200) == 398
    assert magnus.aligned_steps(200, 1000) == 999 and magnus.aligned_steps(50, 2) == 50
    n_save, steps = 11, magnus.aligned_steps(64, 11)
    save_z = jnp.concatenate([jnp.linspace(0.0, 1.0, n_save), jnp.array([0.123, 0.77])])
    on_nodes, ok = magnus.fixed_grid_solve(generator, None, 0.0, 1.0, jnp.ones(4), steps, save_z, on_nodes=n_save)
    dense, _ = magnus.fixed_grid_solve(generator, None, 0.0, 1.0, jnp.ones(4), steps, save_z)
    assert steps == 60 and bool(ok) and on_nodes.shape == (n_save + 2, 4)
    np.testing.assert_allclose(np.asarray(on_nodes), np.asarray(dense), rtol=1e-12, atol=1e-12)
    only_nodes, _ = magnus.fixed_grid_solve(generator, None, 0.0, 1.0, jnp.ones(4), steps, save_z[:n_save],
                                            on_nodes=n_save)
    np.testing.assert_array_equal(np.asarray(only_nodes), np.asarray(on_nodes)[:n_save])

    def f(t, x):
        return (A0 + np.sin(2 * t) * A1 + t**2 * A2) @ x + B0 * np.cos(t)

    order = np.argsort(np.asarray(save_z))
    ref = solve_ivp(f, (0, 1), np.ones(4), rtol=1e-13, atol=1e-13, method="DOP853",
                    t_eval=np.asarray(save_z)[order]).y.T[np.argsort(order)]
    assert np.abs(np.asarray(on_nodes) - ref).max() < 1e-6 * np.abs(ref).max()
    with pytest.raises(ValueError, match="multiple"):
        magnus.fixed_grid_solve(generator, None, 0.0, 1.0, jnp.ones(4), 64, save_z, on_nodes=n_save)


@pytest.mark.slow  # three computed-rates solves to 1 GeV (≈ 40 s on 2 cores, 2026-12-02): the bounded slow step
def test_pilot_placed_grid_beats_uniform_nodes_to_1_gev(computed_rates):
    """At M = 10 GeV, run to 1 GeV, the local error sits where the HNL oscillations set in; 400 steps placed by a 16-interval
    pilot must be ≥ 5× closer to a 6400-step uniform reference than 400 uniform steps, and within 2e-4 on Y_B, Y_L,
    max |Y_e| and each Y_Δα (measured 2026-12-02: uniform 1.2e-3, placed 5.0e-5); 50 placed steps stay finite."""
    point = ModelParameters(10.0, 3e-11, -0.1, 0.45 * math.pi, 4.0, 1.0)

    def run(options):  # 401 saved points: the uniform grids' step counts are multiples of 400 (aligned_steps)
        options = eqx.tree_at(lambda o: o.n_save, options, 401)
        with pytest.warns(UserWarning, match="below 5 GeV"):
            return summary(solve(point, computed_rates, t_end=1.0, solver_options=options))

    def worst(out, ref):
        errors = [abs(out[k] / ref[k] - 1) for k in ("Y_B", "Y_L_end", "max_abs_Y_e")]
        return max(errors + [abs(a / b - 1) for a, b in zip(out["Y_Delta_end"], ref["Y_Delta_end"])])

    reference = run(SolverOptions.fixed_grid(6400))
    uniform, placed = run(SolverOptions.fixed_grid(400)), run(SolverOptions.fixed_grid(400, pilot=16))
    assert worst(placed, reference) < 2e-4
    assert worst(uniform, reference) > 5 * worst(placed, reference)
    coarse = run(SolverOptions.fixed_grid(50, pilot=16))
    assert coarse["status"] == "success" and worst(coarse, reference) < 5e-2
