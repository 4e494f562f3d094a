"""The momentum-resolved equations (paper §6; lta_jax.kinetics.resolved, lta_jax.solver.resolved): reduction to the
averaged equations, conservation laws per mode, CP conservation, the structured splitting against a dense solver,
the paper's grid (6.2), and the authors' per-mode tables."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lta_jax.kinetics.averaged import KineticOptions, KineticSystem, conserved_combinations, initial_state, kinetic_rhs
from lta_jax.kinetics.averaged import GeneratorBasis
from lta_jax.kinetics.resolved import (ResolvedSystem, dense_generator, grid_from_modes, momentum_grid, project,
                                       resolved_rhs)
from lta_jax.kinetics.resolved import initial_state as resolved_initial_state
from lta_jax.model.benchmark_points import FIG18, SET_4_1
from lta_jax.model.parameters import ModelParameters
from lta_jax.plasma.susceptibility import in_house_susceptibility
from lta_jax.plasma.thermodynamics import in_house_thermodynamics
from lta_jax.rates.base import TabulatedRates
from lta_jax.rates.computed import ComputedRates
from lta_jax.rates.modes import ComputedModeRates, TabulatedModeRates, UniformModeRates
from lta_jax.rates.provisional import ProvisionalRates
from lta_jax.solver.integrate import SolverOptions, solve
from lta_jax.solver.observables import summary
from lta_jax.solver.resolved import ResolvedOptions
from test_kinetics import DropRates


def _resolved(params, mode_rates, options=None):
    kinetic = KineticSystem(params, mode_rates, in_house_thermodynamics(), in_house_susceptibility(), options)
    return ResolvedSystem(kinetic, grid_from_modes(mode_rates.y, rule=mode_rates.quadrature))


def _random_state(rng, n):
    u = rng.normal(size=(n, 8)) * np.r_[[1e-4] * 4, [1e-10] * 4]
    return jnp.asarray(np.concatenate([rng.normal(size=3) * 1e-9, u.reshape(-1)]))


def test_grid_has_equal_equilibrium_weight_between_modes():
    """Paper (6.2): y₁ = 0.1, y_max = 20, the same ∫ y² f_F dy between neighbouring modes."""
    grid = momentum_grid(24)
    y = np.asarray(grid.y)
    assert y[0] == pytest.approx(0.1) and y[-1] == pytest.approx(20.0) and len(y) == 24
    from scipy.integrate import quad

    pieces = [quad(lambda t: t * t / (math.exp(t) + 1), a, b)[0] for a, b in zip(y[:-1], y[1:])]
    np.testing.assert_allclose(pieces, np.mean(pieces), rtol=1e-4)
    # the weights integrate ∫ d³y/(2π)³ f_F = 3ζ(3)/(4π²) up to the truncation at y < 0.1 (1e-4), and the μ weight
    # ∫ d³y/(2π)³ f_F(1 − f_F) = 1/12 to the quadrature's accuracy
    f = 1 / (jnp.exp(grid.y) + 1)
    assert float(jnp.sum(grid.weights * f)) == pytest.approx(3 * 1.2020569031595942 / (4 * math.pi**2), rel=2e-4)
    assert float(jnp.sum(grid.weights * f * (1 - f))) == pytest.approx(1 / 12, rel=3e-3)
    assert len(momentum_grid(24, extra=(0.3, 0.5)).y) == 26
    with pytest.raises(ValueError):
        momentum_grid(1)


def test_uniform_rates_reduce_to_the_averaged_equations():
    """With the same rates at every mode, Σ_i of the resolved equations is the averaged system, exactly (for any
    state, with the source term on), and the initial states agree."""
    averaged = ProvisionalRates()
    y = np.asarray(momentum_grid(5).y)
    options = KineticOptions(source_term=True)
    system = _resolved(FIG18, UniformModeRates(averaged, y), options)
    kinetic = KineticSystem(FIG18, averaged, system.thermo, system.susceptibility, options)
    rng = np.random.default_rng(3)
    resolved, averaged_rhs = jax.jit(resolved_rhs), jax.jit(kinetic_rhs)
    for z in (-6.0, -2.0, -0.5):
        x = _random_state(rng, 5)
        lhs = project(resolved(jnp.asarray(z), x, system))
        rhs = averaged_rhs(jnp.asarray(z), project(x), kinetic)
        np.testing.assert_allclose(np.asarray(lhs), np.asarray(rhs), rtol=1e-10, atol=1e-12 * float(jnp.max(
            jnp.abs(rhs))))
    np.testing.assert_allclose(np.asarray(project(resolved_initial_state(system, 1e3))),
                               np.asarray(initial_state(kinetic, 1e3)), rtol=1e-13)


@pytest.mark.slow
def test_uniform_rates_solve_matches_the_averaged_solve():
    """The same at the level of a solve (structured splitting, 4 modes): Y_B, Y_L(10 GeV) and max |Y_e| of the resolved
    solve equal the averaged solve's to the splitting's accuracy."""
    averaged = ProvisionalRates()
    modes = UniformModeRates(averaged, momentum_grid(4).y)
    res = summary(solve(FIG18, modes, t_end=10.0, kinetics="resolved", raise_on_failure=True))
    avg = summary(solve(FIG18, averaged, t_end=10.0, raise_on_failure=True))
    for key in ("Y_B", "Y_L_end", "max_abs_Y_e"):
        assert res[key] == pytest.approx(avg[key], rel=3e-3), key


class DropModeRates(DropRates):
    """Per-mode rates with the FNV (γ−) or FNC (γ+) coefficients set to zero (DropRates of test_kinetics, per mode)."""

    @property
    def y(self):
        return self.base.y

    @property
    def quadrature(self):
        return self.base.quadrature


@pytest.fixture(scope="module")
def computed_rates():
    return ComputedRates.build()


@pytest.mark.parametrize("drop, index", [("minus", 1), ("plus", 0)])
def test_conservation_laws_hold_with_momentum_dependent_rates(computed_rates, drop, index):
    """L− = Δ_N + ΣΔα is conserved with γ− ≡ 0 and L+ = Δ_N − ΣΔα with γ+ ≡ 0, mode by mode (docs/physics.md §7.4),
    with genuinely momentum-dependent rates (the computed model per mode), for any state."""
    modes = ComputedModeRates(computed_rates, momentum_grid(6).y)
    system = _resolved(FIG18, DropModeRates(modes, drop), KineticOptions(hnl_decays=False))
    rng = np.random.default_rng(5)
    rhs = eqx.filter_jit(resolved_rhs)
    for z in (-6.0, -3.0, -1.0):
        dx = project(rhs(jnp.asarray(z), _random_state(rng, 6), system))
        laws = conserved_combinations(dx)
        scale = float(jnp.max(jnp.abs(dx[jnp.array([0, 1, 2, 7, 8])])))
        assert abs(float(laws[index])) < 1e-12 * scale
        assert abs(float(laws[1 - index])) > 1e-9 * scale


def test_dense_generator_equals_the_right_hand_side(computed_rates):
    """The block assembly used by the solvers (GeneratorBasis per mode) against the direct per-mode equations."""
    modes = ComputedModeRates(computed_rates, momentum_grid(3).y)
    system = _resolved(SET_4_1, modes, KineticOptions(source_term=True))
    basis = jax.jit(GeneratorBasis.build)(system.kinetic)
    rng = np.random.default_rng(7)
    generator, rhs = jax.jit(dense_generator), jax.jit(resolved_rhs)
    for z in (-5.0, -2.5, 0.5):
        x = _random_state(rng, 3)
        g = generator(jnp.asarray(z), system, basis)
        direct = rhs(jnp.asarray(z), x, system)
        np.testing.assert_allclose(np.asarray(g[:-1, :-1] @ x + g[:-1, -1]), np.asarray(direct), rtol=1e-9,
                                   atol=1e-9 * float(jnp.max(jnp.abs(direct))))


@pytest.mark.slow  # long run (≥ 60 s on 2 cores in the default suite, 2026-12-02): the bounded slow step of .ci/run
def test_cp_conserving_point_gives_zero(computed_rates):
    """δ = η = Re ω = Im ω = 0: no CP violation, no asymmetry in any mode (round-off), unlike the Fig.-18 point."""
    params = ModelParameters(1.0, 1e-11, 0.0, 0.0, 0.0, 0.0)
    opts = ResolvedOptions(n_save=200, refine=500)
    sol = solve(params, computed_rates, t_start=1e3, t_end=10.0, kinetics="resolved", n_modes=4,
                resolved_options=opts, raise_on_failure=True)
    assert np.max(np.abs(sol.states[:, 0:3])) <= 1e-18
    assert np.max(np.abs(sol.states[:, 3])) > 1e-4
    cpv = solve(FIG18, computed_rates, t_start=1e3, t_end=10.0, kinetics="resolved", n_modes=4,
                resolved_options=opts, raise_on_failure=True)
    assert np.max(np.abs(cpv.states[:, 0:3])) > 1e-9


def test_resolved_input_errors(computed_rates):
    with pytest.raises(ValueError, match="per-mode rates"):
        solve(FIG18, ProvisionalRates(), kinetics="resolved")
    with pytest.raises(ValueError, match="kinetics"):
        solve(FIG18, computed_rates, kinetics="momentum")
    with pytest.raises(ValueError, match="n_modes"):
        solve(FIG18, computed_rates, n_modes=8)
    with pytest.raises(ValueError, match="method"):
        ResolvedOptions(method="euler")


@pytest.mark.slow
def test_structured_steps_match_dense_kvaerno5(computed_rates):
    """The structured methods with their default options against Kvaerno5 on the dense (8N+3)-system, 6 + 5 modes,
    set (4.1) to 10 GeV: Y_B, Y_L(10 GeV), max |Y_e| — the coupled step (default) within 1e-4 (measured ≤ 7.9e-6;
    the issue asks 1e-3), the Strang splitting within 2e-3 (measured ≤ 5.0e-4; docs/resolved.md)."""
    opts = dict(t_end=10.0, kinetics="resolved", n_modes=6, raise_on_failure=True)
    dense = summary(solve(SET_4_1, computed_rates, resolved_options=ResolvedOptions(method="kvaerno5"), **opts))
    for method, tolerance in (("coupled", 1e-4), ("split", 2e-3)):
        structured = summary(solve(SET_4_1, computed_rates, resolved_options=ResolvedOptions(method=method), **opts))
        for key in ("Y_B", "Y_L_end", "max_abs_Y_e"):
            assert structured[key] == pytest.approx(dense[key], rel=tolerance), (method, key)


def test_authors_mode_tables_load_and_average_to_their_averaged_table(reference_file):
    """The authors' per-mode tables (k/T = 0.3 … 10; the two copies of the averaged table are skipped): averaged with
    the package's weights over their modes they give the authors' averaged table — μ-weighted within 1.5 % at all T,
    ρ-weighted within 1.5 % for T ≥ 100 GeV (below, the authors' ρ averages are larger by a common factor ≈ 1 + 0.6 M/T,
    a normalisation of their averages, not of the per-mode rates)."""
    averaged_path = reference_file("nuMSM-fortran/Int_ModH_MN10E-1_kcAve.dat")
    with pytest.warns(UserWarning, match="skipped 2"):
        modes = TabulatedModeRates.from_directory(averaged_path.parent / "modes_ModH_M1")
    assert len(modes.y) == 98 and modes.y[0] == pytest.approx(0.3) and modes.y[-1] == pytest.approx(10.0)
    averaged = TabulatedRates.from_file(averaged_path)
    assert modes.quadrature == "uniform"
    grid = grid_from_modes(modes.y, rule=modes.quadrature)
    y, w = np.asarray(grid.y), np.asarray(grid.weights)
    for t in (1000.0, 200.0, 100.0, 20.0, 5.0):
        per_mode, avg = modes(t, 1.0), averaged(t, 1.0)
        f = 1 / (np.exp(y) + 1)
        f_n = 1 / (np.exp(np.sqrt(y**2 + (1 / t) ** 2)) + 1)
        for k, weight in ((0, w * f * (1 - f)), (1, w * f * (1 - f)), (2, w * f_n), (4, w * f_n), (6, w * f_n)):
            if float(avg[k]) == 0.0:
                continue
            ratio = float(np.sum(np.asarray(per_mode[k]) * weight) / np.sum(weight)) / float(avg[k])
            if k < 2 or t >= 100:
                assert ratio == pytest.approx(1.0, abs=0.015), (t, k)
            else:
                assert ratio == pytest.approx(1 / (1 + 0.6 / t), abs=0.03), (t, k)


def test_resolved_solution_api(computed_rates):
    """kinetics="resolved" returns the averaged projection (same observables) plus the per-mode states."""
    sol = solve(FIG18, computed_rates, t_start=1e3, t_end=10.0, kinetics="resolved", n_modes=4,
                resolved_options=ResolvedOptions(n_save=200, refine=500), raise_on_failure=True)
    assert sol.states.shape == (200, 11)
    # 4 modes of the grid (6.2) and the 5 low modes added by default
    assert sol.grid.n_modes == 9 and sol.mode_states.shape == (200, 3 + 8 * 9)
    np.testing.assert_allclose(np.asarray(project(sol.mode_states)), sol.states, rtol=1e-12)
    out = summary(sol)
    assert out["status"] == "success" and math.isfinite(out["Y_B"])


@pytest.mark.slow
def test_resolved_batch_and_gradient(computed_rates):
    """Batches and forward-mode derivatives run the same resolved code path: a batch of two points equals the single
    solves, and ∂Y_L(10 GeV)/∂Im ω through the solve matches a central finite difference."""
    from lta_jax.studies.batch import BatchSetup, point_observables, solve_batch

    opts = ResolvedOptions(n_save=200, refine=500)
    points = [FIG18, ModelParameters(1.0, 1.26e-11, -0.3, 0.52 * math.pi, 1.30 * math.pi, 1.02 * math.pi)]
    batch = solve_batch(points, computed_rates, t_start=1e3, t_end=10.0, kinetics="resolved", n_modes=3,
                        resolved_options=opts, strategy="sequential")
    assert list(batch.status) == ["success", "success"]
    single = summary(solve(points[1], computed_rates, t_start=1e3, t_end=10.0, kinetics="resolved", n_modes=3,
                           resolved_options=opts))
    assert batch.observables["Y_L_end"][1] == pytest.approx(single["Y_L_end"], rel=1e-9)

    from lta_jax.solver.integrate import resolved_rates

    modes = resolved_rates(computed_rates, 3)
    setup = BatchSetup(FIG18, modes, in_house_thermodynamics(), in_house_susceptibility(), KineticOptions(),
                       None, grid_from_modes(modes.y, rule=modes.quadrature), opts)
    theta = jnp.asarray([1.0, 1.26e-11, -0.14, 0.52 * math.pi, 1.30 * math.pi, 1.02 * math.pi])

    def y_l(im_omega):
        return point_observables(setup, theta.at[2].set(im_omega), 1e3, 10.0)["Y_L_end"]

    derivative = float(jax.jit(jax.jacfwd(y_l))(-0.14))
    step = 1e-4
    finite = (float(jax.jit(y_l)(-0.14 + step)) - float(jax.jit(y_l)(-0.14 - step))) / (2 * step)
    assert derivative == pytest.approx(finite, rel=1e-3)
    assert abs(derivative) > 0


@pytest.mark.slow
def test_command_line_resolved(tmp_path):
    """`lta-jax solve --kinetics resolved --modes 4`: the usual JSON keys plus the momentum grid."""
    import json

    from typer.testing import CliRunner

    from lta_jax.cli.commands import app

    out = tmp_path / "r.json"
    result = CliRunner().invoke(app, ["solve", "--kinetics", "resolved", "--modes", "4", "--T-start", "1000",
                                      "--T-end", "10", "--json", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["status"] == "success" and data["inputs"]["kinetics"] == "resolved"
    assert data["momentum_grid"]["n_modes"] == 9 and len(data["momentum_grid"]["y"]) == 9
    for key in ("Y_B", "Y_L_end", "max_abs_Y_e", "Y_Delta_end"):
        assert key in data


@pytest.mark.slow
def test_averaged_and_resolved_agree_on_the_lta(computed_rates):
    """Paper §6, Fig. 15: for large-LTA points the averaged equations give the LTA within a factor ~1.3 of the resolved
    ones (48 modes + 5 low). Measured: Fig.-18 point 1.32, set (4.1) see docs/resolved.md; bound 1.5. Y_B at T_sph
    differs more (the paper: "the asymmetries at the sphaleron freeze-out differ")."""
    for point in (FIG18, SET_4_1):
        avg = summary(solve(point, computed_rates, t_end=10.0, raise_on_failure=True))
        res = summary(solve(point, computed_rates, t_end=10.0, kinetics="resolved", raise_on_failure=True))
        ratio = avg["Y_L_end"] / res["Y_L_end"]
        assert 1 / 1.5 < ratio < 1.5, (point, ratio)


@pytest.mark.slow
def test_convergence_in_the_number_of_modes(computed_rates):
    """Paper Fig. 14 at set (4.1): the observables settle as N grows (grid (6.2) + low modes): the change from 12 to 24
    modes is smaller than from 5 to 12, and below 5 % for Y_L(10 GeV) and max |Y_e|."""
    runs = {n: summary(solve(SET_4_1, computed_rates, t_end=10.0, kinetics="resolved", n_modes=n,
                             raise_on_failure=True)) for n in (5, 12, 24)}
    for key in ("Y_L_end", "max_abs_Y_e"):
        coarse = abs(runs[12][key] / runs[5][key] - 1)
        fine = abs(runs[24][key] / runs[12][key] - 1)
        assert fine < coarse or fine < 0.01, (key, coarse, fine)
        assert fine < 0.05, (key, fine)


@pytest.mark.parametrize("flags", [dict(fermion_number_violation=False), dict(h_plus=False),
                                   dict(rate_scale=2.0, fermion_number_violation=False)])
def test_rate_variants_reach_the_modes(computed_rates, flags):
    """`--no-fnv`, `--no-h-plus` and a rate scale apply to the per-mode rates of the resolved equations as to the
    averaged ones (`--no-fnv` was dropped on the way to the modes before, and the run silently equalled the default)."""
    from lta_jax.rates.base import RateVariant
    from lta_jax.solver.integrate import resolved_rates

    plain = resolved_rates(computed_rates, 3)
    variant = resolved_rates(RateVariant(computed_rates, **flags), 3)
    assert isinstance(variant, RateVariant) and variant.base is plain
    for name in ("rate_scale", "h_plus", "fermion_number_violation"):
        assert getattr(variant, name) == getattr(RateVariant(computed_rates, **flags), name)
    a, b = plain(50.0, 1.0), variant(50.0, 1.0)
    k = flags.get("rate_scale", 1.0)
    np.testing.assert_allclose(np.asarray(b.gamma_nu_plus), k * np.asarray(a.gamma_nu_plus), rtol=1e-12)
    for name in ("gamma_nu_minus", "gamma_N_minus"):
        expected = 0.0 if flags.get("fermion_number_violation", True) is False else k
        np.testing.assert_allclose(np.asarray(getattr(b, name)), expected * np.asarray(getattr(a, name)), rtol=1e-12)
        assert np.all(np.asarray(getattr(a, name)) != 0)
    h_plus = np.asarray(b.h_plus)
    assert np.all(h_plus == 0) if flags.get("h_plus", True) is False else np.allclose(h_plus, np.asarray(a.h_plus))


def test_resolved_study_options_refused_before_compilation(computed_rates, tmp_path):
    """--kinetics/--modes of optimise and envelope: combinations that are not implemented for the resolved equations
    are refused with a clear message (exit 2 on the command line), never averaged silently."""
    from typer.testing import CliRunner

    from lta_jax.cli.commands import app
    from lta_jax.solver.gradients import make_observable_map
    from lta_jax.studies.envelope import run_envelope
    from lta_jax.studies.optimise import optimise

    runner = CliRunner()
    for args, message in ((["optimise", "--modes", "8"], "--modes needs --kinetics resolved"),
                          (["optimise", "--kinetics", "resolved", "--rate-uncertainty", "2"], "not available"),
                          (["optimise", "--kinetics", "resolved", "--free-M"], "fixed --M"),
                          (["optimise", "--kinetics", "resolved", "--objective", "effective-lta"], "fixed --M"),
                          (["optimise", "--kinetics", "momentum"], "--kinetics must be"),
                          (["envelope", "--masses", "1", "--out", str(tmp_path / "e"), "--kinetics", "resolved",
                            "--modes", "1"], "--modes must be"),
                          (["envelope", "--masses", "1", "--out", str(tmp_path / "e"), "--modes", "8"],
                           "--modes needs")):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output, (args, result.output)
    from lta_jax.solver.result import KINETICS
    from lta_jax.studies.choices import STUDY_KINETICS

    assert STUDY_KINETICS == KINETICS  # the JAX-free copy the command line checks against
    with pytest.raises(ValueError, match="rate_uncertainty"):
        optimise(computed_rates, mass=2.0, kinetics="resolved", rate_uncertainty=2.0)
    with pytest.raises(ValueError, match="n_modes needs"):
        optimise(computed_rates, mass=2.0, n_modes=8)
    with pytest.raises(ValueError, match="n_modes needs"):
        run_envelope(computed_rates, tmp_path / "e2", masses=[1.0], n_modes=8)
    with pytest.raises(ValueError, match="resolved_options"):
        make_observable_map(SET_4_1, computed_rates, kinetics="resolved", solver_options=SolverOptions())
    with pytest.raises(ValueError, match="structured"):
        make_observable_map(SET_4_1, computed_rates, kinetics="resolved",
                            resolved_options=ResolvedOptions(method="kvaerno5"))


@pytest.mark.slow
def test_resolved_reverse_mode_matches_central_differences(computed_rates):
    """Reverse mode (jax.grad) through the resolved splitting equals central differences of the same discrete map
    (set (4.1), 3 + 5 modes, uniform steps: refine = 0, so that no node depends on θ besides the ends), for Y_B and
    Y_L(10 GeV) and all six parameters."""
    from lta_jax.solver.gradients import _values, make_observable_map, parameters_to_vector

    fn = make_observable_map(SET_4_1, computed_rates, t_end=10.0, kinetics="resolved", n_modes=3, mode="reverse",
                             resolved_options=ResolvedOptions(n_save=150, refine=0))
    theta = parameters_to_vector(SET_4_1)
    for row in (0, 1):
        gradient = np.asarray(jax.jit(jax.grad(lambda t: fn(t)[row]))(theta))
        steps = np.array([1e-5, 1e-5, 1e-5, 1e-5, 1e-5, 1e-5])
        finite = np.array([(float(_values(fn, theta.at[j].add(h))[row]) - float(_values(fn, theta.at[j].add(-h))[row]))
                           / (2 * h) for j, h in enumerate(steps)])
        scale = np.max(np.abs(finite))
        assert scale > 0
        np.testing.assert_allclose(gradient, finite, atol=1e-4 * scale, rtol=0)


@pytest.mark.slow
def test_resolved_optimiser_constrains_the_resolved_baryon_asymmetry(computed_rates):
    """optimise(kinetics="resolved"): the Y_B it constrains is the resolved one — the best point's Y_B from the
    optimiser's resolved map agrees with the full resolved solve (which confirms it) to the splitting's accuracy, and
    the settings record the kinetics."""
    from lta_jax.studies.optimise import optimise

    result = optimise(computed_rates, mass=2.0, kinetics="resolved", n_modes=3, budget=16, candidates=1,
                      progress=False, keep_history=False, gradient_cost=4.0)
    best = result.best
    assert result.settings["kinetics"] == "resolved" and result.settings["n_modes"] == 3
    assert best["full_solve_status"] == "success"
    params = ModelParameters(best["M"], best["delta_M"], best["im_omega"], best["re_omega"], best["delta"],
                             best["eta"])
    resolved = summary(solve(params, computed_rates, t_start=1e3, t_end=10.0, kinetics="resolved", n_modes=3))
    assert best["full_solve_Y_B"] == pytest.approx(resolved["Y_B"], rel=1e-9)
    # The optimiser's coarser splitting (OPTIMISATION_RESOLVED): Y_B to ≤ 1e-3, Y_L to a few % where the coupling is
    # stiff (measured 4.3 % at such a point); the averaged Y_B differs by factors of 2–6 (docs/resolved.md).
    assert best["Y_B"] == pytest.approx(resolved["Y_B"], rel=1e-2)
    assert best["Y_L_end"] == pytest.approx(resolved["Y_L_end"], rel=0.1)
    averaged = summary(solve(params, computed_rates, t_start=1e3, t_end=10.0))
    assert abs(averaged["Y_B"] / resolved["Y_B"] - 1) > 0.05  # so the first check could tell them apart
