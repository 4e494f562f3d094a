"""Screen-and-refine optimisation under the BAU constraint: constraint handling, CP folding, budget accounting and
the CLI contract (rates: the provisional model, so no reference data are needed)."""

import json
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from typer.testing import CliRunner

from lta_jax.cli.commands import app
from lta_jax.model.parameters import ModelParameters
from lta_jax.rates.provisional import ProvisionalRates
from lta_jax.solver.gradients import make_observable_map
from lta_jax.solver.integrate import SolverOptions
from lta_jax.studies import optimise as opt

TARGET = 8.7e-11
#: One static set-up for every solve below, so the compiled functions are shared between tests.
SETUP = dict(mass=1.0, t_end=50.0, steps=100, candidates=2, progress=False)


def test_starting_points_in_the_unit_cube():
    v = opt.starting_points(16, sampler="sobol", seed=3)
    assert v.shape == (16, 5) and np.all((v >= 0) & (v <= 1))
    assert opt.starting_points(4, sampler="random", dim=6).shape == (4, 6)
    with pytest.raises(ValueError, match="sampler"):
        opt.starting_points(2, sampler="grid")


def test_box_sample_fills_the_large_lta_box():
    """Sobol points of the large-LTA box as solve_batch columns: inside the box, reproducible by seed, spread over it."""
    p = opt.box_sample(64, 2.0, "IH", seed=1)
    assert p["hierarchy"] == "IH" and np.all(p["M"] == 2.0)
    for key, column in (("log10_delta_M", np.log10(p["delta_M"])), ("im_omega", p["im_omega"]),
                        ("re_omega", p["re_omega"]), ("delta", p["delta"]), ("eta", p["eta"])):
        lo, hi = opt.LARGE_LTA_BOX[key]
        assert np.all((column >= lo) & (column <= hi)), key
        assert np.ptp(column) > 0.8 * (hi - lo), key  # 64 Sobol points reach close to both ends
    assert np.array_equal(opt.box_sample(64, 2.0, "IH", seed=1)["eta"], p["eta"])
    assert not np.array_equal(opt.box_sample(64, 2.0, "IH", seed=2)["eta"], p["eta"])


def test_projected_step_restores_the_constraint_and_climbs_along_it():
    """For ln Y_B and ln J linear in v the step is exact: Gauss–Newton puts ln(Y_B/target) back to 0, and the tangent
    part raises ln J while leaving ln Y_B unchanged (the constraint is not traded against the objective)."""
    scores = opt._Scores(1, TARGET, 0.1, bau=True)
    a = np.array([1.0, -2.0, 0.5, 0.0, 0.3])  # ∇ ln Y_B
    b = np.array([0.2, 1.0, 1.0, -0.4, 0.0])  # ∇ ln J
    v = np.full(5, 0.5)
    y_b = 3.0 * TARGET  # outside the band
    obs = np.array([y_b, 1e-6, 0, 0, 0, 2e-6])
    jac = np.zeros((6, 5))
    jac[0], jac[1] = a * y_b, b * 1e-6
    new = opt._step(v, obs, jac, radius=0.5, scores=scores, bau=True)
    dv = new - v
    assert math.log(y_b / TARGET) + a @ dv == pytest.approx(0.0, abs=1e-12)  # restored
    tangent = dv - (-(math.log(3.0)) / (a @ a)) * a
    assert np.linalg.norm(tangent) == pytest.approx(0.5)  # the trust radius
    assert a @ tangent == pytest.approx(0.0, abs=1e-12) and b @ tangent > 0
    free = opt._step(v, obs, jac, radius=0.5, scores=opt._Scores(1, TARGET, 0.1, bau=False), bau=False)
    np.testing.assert_allclose(free - v, 0.5 * b / np.linalg.norm(b))


class _SteepProblem:
    """A stand-in for the kinetic map with a steep, curved constraint, as at M = 10 GeV: ln(Y_B/target) =
    40 (v₀ − 0.5) + 400 (v₁ − 0.5)², so a step of 0.05 along v₁ moves Y_B by a factor e^4 while the objective J = e^{3 v₁}
    rewards exactly that move. The feasible maximum sits where v₀ reaches 0: v₁ = 0.5 + √(0.05) ≈ 0.724."""

    @staticmethod
    def observables(vs):
        vs = np.asarray(vs)
        g = 40 * (vs[:, 0] - 0.5) + 400 * (vs[:, 1] - 0.5) ** 2
        obs = np.zeros((len(vs), 6))
        obs[:, 0], obs[:, 1], obs[:, 5] = TARGET * np.exp(g), np.exp(3 * vs[:, 1]), 1.0
        return obs

    def values_and_jacobians(self, problem, vs):
        obs = self.observables(vs)
        jac = np.zeros(obs.shape + (5,))
        jac[:, 0, 0] = obs[:, 0] * 40
        jac[:, 0, 1] = obs[:, 0] * 800 * (np.asarray(vs)[:, 1] - 0.5)
        jac[:, 1, 1] = 3 * obs[:, 1]
        return obs, jac


def test_refinement_line_search_follows_a_steep_curved_constraint(monkeypatch):
    """The refinement's batched line search (values only) keeps candidates in the BAU band along a constraint that
    changes by orders of magnitude within one trust radius, climbs to the feasible maximum, and charges exactly what it
    evaluates. Two candidates: one inside the band, one starting 7× above it (restoration first)."""
    steep = _SteepProblem()
    monkeypatch.setattr(opt, "_values", lambda problem, vs: steep.observables(vs))
    space = opt._Space.make(opt.LARGE_LTA_BOX, 1.0)
    scores = opt._Scores(1, TARGET, 0.1, bau=True)
    rows = []

    def record(phase, vs, obs, flip, candidate=None, iteration=None, accepted=None, cost=1.0):
        rows.extend(zip(np.asarray(obs)[:, 0], np.asarray(obs)[:, 1], np.asarray(accepted)))

    start = np.array([[0.5, 0.5, 0.5, 0.5, 0.5], [0.5 + math.log(7) / 40, 0.5, 0.5, 0.5, 0.5]])
    state = dict(used=0.0)
    out = opt._refine(None, start.copy(), [], scores, True, space, True, steep.values_and_jacobians, 6.0, 600.0,
                      state, record, opt._NoBar())
    assert state["used"] <= 600 and state["used"] == pytest.approx(6.0 * out["gradient_evaluations"]
                                                                   + out["line_search_points"])
    obs = np.array([(y_b, j) for y_b, j, _ in rows])
    feasible = np.abs(obs[:, 0] / TARGET - 1) <= 0.1
    assert feasible.any()
    best_v1 = math.log(obs[feasible, 1].max()) / 3
    assert best_v1 > 0.70  # the constrained maximum is 0.724; the start was 0.5
    # The candidate that started outside the band entered it (its first accepted trial restored Y_B).
    accepted = obs[[a for _, _, a in rows]]
    assert np.any(np.abs(accepted[:, 0] / TARGET - 1) <= 0.1)


def test_best_point_is_confirmed_by_the_full_solve(monkeypatch):
    """The reported best is the best grid-feasible point whose full adaptive solve puts Y_B in the band too: a point
    the fixed grid puts in the band but the full solve does not (as found at M = 20 GeV) is passed over, each full
    solve is charged, and when none is confirmed the best is reported infeasible."""
    scores = opt._Scores(1, TARGET, 0.1, bau=True)
    full_y_b = {1e-11: 40 * TARGET, 2e-11: 1.05 * TARGET, 3e-11: 0.5 * TARGET}  # keyed by ΔM

    def fake_full_solve(best, *args):
        return {"full_solve_status": "success", "full_solve_Y_B": full_y_b[best["delta_M"]], "max_abs_Y_e": 1.0}

    monkeypatch.setattr(opt, "_full_solve", fake_full_solve)

    def row(delta_m, objective, feasible=True):
        return {"status": "success", "M": 1.0, "delta_M": delta_m, "im_omega": 0.0, "re_omega": 1.0, "delta": 0.0,
                "eta": 0.0, "objective": objective, "Y_B": TARGET, "feasible": feasible,
                "merit": math.log(objective) if feasible else -1001.0, "_key": (delta_m,)}

    state = dict(used=100.0, full_solves=0, top=[row(1e-11, 3e-5), row(2e-11, 2e-5), row(3e-11, 1e-5)])
    best, rejected = opt._verified_best(state, scores, None, "NH", 1e3, 10.0, None, None)
    assert best["delta_M"] == 2e-11 and best["feasible"] and best["full_solve_confirms_band"]
    assert rejected == 1 and state["used"] == 102.0 and state["full_solves"] == 2
    state = dict(used=0.0, full_solves=0, top=[row(1e-11, 3e-5), row(3e-11, 1e-5)])
    best, rejected = opt._verified_best(state, scores, None, "NH", 1e3, 10.0, None, None)
    assert best["delta_M"] == 1e-11 and not best["feasible"] and rejected == 2 and state["full_solves"] == 2
    free = opt._Scores(1, TARGET, 0.1, bau=False)  # no constraint: the first point is taken as it is
    state = dict(used=0.0, full_solves=0, top=[row(1e-11, 3e-5)])
    assert opt._verified_best(state, free, None, "NH", 1e3, 10.0, None, None)[0]["feasible"]


def test_merit_orders_feasible_then_distance_to_the_band():
    scores = opt._Scores(1, TARGET, 0.1, bau=True)
    obs = np.array([[TARGET, 1e-8, 0, 0, 0, 0],          # feasible, small J
                    [5 * TARGET, 1e-5, 0, 0, 0, 0],      # large J, far from the band
                    [1.3 * TARGET, 1e-5, 0, 0, 0, 0],    # large J, near the band
                    [np.nan] * 6])                        # failed
    m = scores.merit(obs)
    assert m[0] > m[2] > m[1] > m[3] == -np.inf
    assert list(scores.feasible(obs)) == [True, False, False, False]
    off = opt._Scores(1, TARGET, 0.1, bau=False).merit(obs)
    assert off[1] == off[2] > off[0]


def _problem():
    space = opt._Space.make(opt.LARGE_LTA_BOX, 1.0)
    fn = make_observable_map(ModelParameters(1.0, 1e-11), ProvisionalRates(), t_start=1e3, t_end=50.0,
                             solver_options=SolverOptions.fixed_grid(100))
    return opt._Problem(fn, space), space


@pytest.mark.slow  # long run (≥ 45 s on 2 cores in the default suite, 2026-12-02): the bounded slow step of .ci/run
def test_cp_conjugation_flips_every_asymmetry_through_the_solve():
    """F → F* ((Im ω, δ, η) → −(Im ω, δ, η)) flips Y_B, Y_L, Y_Δα exactly and leaves the soft max |Y_e| unchanged —
    the symmetry the optimiser uses to fold the Y_B band onto ±target."""
    problem, space = _problem()
    v = np.array([0.3, 0.2, 0.4, 0.35, 0.6])
    theta = np.asarray(space.theta(jnp.asarray(v)))
    conj = opt.cp_conjugate(theta)
    v_conj = np.array([v[0], (conj[2] + 0.2) / 0.4, v[2], (conj[4] / (2 * math.pi)) % 1, (conj[5] / (2 * math.pi)) % 1])
    a, b = np.asarray(opt._values(problem, jnp.asarray(np.stack([v, v_conj]))))
    assert np.all(np.abs(a) > 0)
    np.testing.assert_allclose(b[:5], -a[:5], rtol=1e-7)
    np.testing.assert_allclose(b[5], a[5], rtol=1e-7)


def test_folded_jacobian_is_the_jacobian_at_the_conjugate():
    """The refinement conjugates points with Y_B < 0 and carries their Jacobian over: it must equal the Jacobian
    evaluated at the conjugate point."""
    problem, space = _problem()
    v = np.array([[0.3, 0.8, 0.4, 0.35, 0.6], [0.6, 0.1, 0.7, 0.8, 0.2]])
    obs, jac = (np.array(x) for x in opt._values_and_fd_jacobians(problem, jnp.asarray(v)))
    obs[:, 0] = -np.abs(obs[:, 0])  # force the fold of both points
    sign = np.sign(np.asarray(opt._values(problem, jnp.asarray(v)))[:, 0])
    jac[:, 0] *= -sign[:, None]
    (f_obs, f_jac), f_v, flip = opt._refold(obs, jac, v, space, True)
    assert flip.all()
    c_obs, c_jac = (np.asarray(x) for x in opt._values_and_fd_jacobians(problem, jnp.asarray(f_v)))
    np.testing.assert_allclose(f_obs[:, 1:], c_obs[:, 1:], rtol=1e-6)
    for k in range(2):
        scale = np.max(np.abs(c_jac[k, 1:5]), axis=1, keepdims=True)
        assert np.all(np.abs(f_jac[k, 1:5] - c_jac[k, 1:5]) <= 1e-3 * scale)


def test_budget_accounting_and_cp_folding():
    """Solve-equivalents never exceed the budget (+1 for the final full solve of the best point), the screen takes its
    fraction, a value + gradient is charged its measured cost, and with CP folding every point has Y_B ≥ 0."""
    res = opt.optimise(ProvisionalRates(), budget=120, seed=1, **SETUP)
    screened = int(120 * opt.DEFAULT_SCREEN_FRACTION)
    assert res.screened == screened and res.solve_equivalents <= 120 + res.full_solves
    assert 1 <= res.full_solves <= opt.VERIFIED_AT_MOST
    assert res.gradient_evaluations >= 2 and res.line_search_points > 0
    assert res.line_search_points % (2 * (len(opt.LINE_SEARCH) + 1)) == 0  # whole searches of both candidates
    # The default exact reverse mode (about 3-5 solves a point here), measured as a wall-time ratio (not assumed).
    assert 2.0 < res.cost_of_gradient < 15.0
    assert res.solve_equivalents >= screened + res.line_search_points + res.gradient_evaluations + res.full_solves
    # With a fixed charge per value + Jacobian the account is exact: screen + Jacobian rows + line-search values + 1.
    fixed = opt.optimise(ProvisionalRates(), budget=120, seed=1, gradient_cost=6.0, **SETUP)
    assert fixed.solve_equivalents == pytest.approx(screened + 6.0 * fixed.gradient_evaluations
                                                    + fixed.line_search_points + fixed.full_solves)
    assert fixed.solve_equivalents <= 120 + fixed.full_solves and fixed.cost_of_gradient == 6.0
    ok = [h for h in res.history if h["status"] == "success"]
    assert ok and all(h["Y_B"] >= 0 for h in ok)
    assert res.best["status"] == "success" and res.best["full_solve_status"] == "success"
    for key in ("M", "delta_M", "im_omega", "re_omega", "delta", "eta", "hierarchy", "Y_B", "Y_L_end",
                "max_abs_Y_e", "T_max_Y_e"):
        assert key in res.best
    feasible = [h["objective"] for h in res.history if h["feasible"]]
    if feasible and res.rejected_by_full_solve == 0:  # the best is the best feasible point seen
        assert res.best["feasible"] and res.best["objective"] == max(feasible)
    off = opt.optimise(ProvisionalRates(), budget=64, seed=1, cp_symmetry=False, screen_fraction=1.0, **SETUP)
    assert off.gradient_evaluations == 0 and not any(h["cp_conjugated"] for h in off.history)
    assert any(h["Y_B"] < 0 for h in off.history)


def test_reverse_and_forward_gradients_take_the_same_path():
    """With a fixed charge per value + Jacobian, the optimiser on exact reverse-mode rows follows the same path as on
    forward mode (the rows agree to round-off): same number of gradient evaluations and line-search points, same best
    point. (The first reverse-mode version left its unused rows NaN and the refinement took every candidate for a
    failed point: it restarted them all and lost at every mass; this fails on that code.)"""
    runs = [opt.optimise(ProvisionalRates(), budget=120, seed=1, gradient_cost=6.0, gradient=g, **SETUP)
            for g in ("reverse", "forward")]
    assert runs[0].gradient_evaluations == runs[1].gradient_evaluations >= 2
    assert runs[0].line_search_points == runs[1].line_search_points
    assert runs[0].best["objective"] == pytest.approx(runs[1].best["objective"], rel=1e-6)
    assert runs[0].settings["gradient"] == "reverse"


def test_optimiser_rejects_bad_settings():
    with pytest.raises(ValueError, match="objective"):
        opt.optimise(ProvisionalRates(), objective="bau", progress=False)
    with pytest.raises(ValueError, match="bau_tolerance"):
        opt.optimise(ProvisionalRates(), bau_tolerance=0.0, progress=False)
    with pytest.raises(ValueError, match="budget"):
        opt.optimise(ProvisionalRates(), budget=-1, progress=False)
    with pytest.raises(ValueError, match="provisional"):  # T_end below the rate model's range
        opt.optimise(ProvisionalRates(), t_end=1.0, progress=False)


def test_optimise_cli(tmp_path):
    out = tmp_path / "opt.json"
    png = tmp_path / "opt.png"
    result = CliRunner().invoke(app, ["optimise", "--objective", "max-ye", "--M", "1.0", "--budget", "80",
                                      "--candidates", "2", "--rates", "provisional", "--T-end", "50", "--grid-steps", "100",
                                      "--json",
                                      str(out), "--plot", str(png), "--no-progress"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)  # stdout is the JSON summary only
    data = json.loads(out.read_text())
    for key in ("best", "solve_equivalents", "budget", "cost_of_gradient", "history", "settings"):
        assert key in data
    assert "history" not in printed and printed["best"] == data["best"]
    assert data["settings"]["objective"] == "max-ye" and data["solve_equivalents"] <= 81
    assert png.stat().st_size > 5000
    for bad in (["--objective", "nope"], ["--budget", "0"], ["--hierarchy", "XH"]):
        assert CliRunner().invoke(app, ["optimise", *bad]).exit_code == 2


def test_envelope_resumes_and_refuses_other_settings(tmp_path):
    """Two masses, BAU curve only: one atomic file per mass, the second run reuses them (nothing recomputed), a run
    with other settings in the same directory is refused, the CLI prints strict JSON and writes the figure."""
    from lta_jax.studies.envelope import run_envelope

    kw = dict(masses=[1.0, 2.0], constraints=(True,), budget_per_mass=70, t_end=50.0, steps=100, candidates=2,
              progress=False)
    lines = []
    first = run_envelope(ProvisionalRates(), tmp_path, log=lines.append, **kw)
    # The progress line of a BAU run says when its best point lies outside the band (not just its objective).
    assert len(lines) == 2
    for line, point in zip(lines, first["points"]):
        assert line.startswith(f"M = {point['M']:g} GeV, BAU")
        assert ("no feasible point" in line) == (not point["best"]["feasible"]), line
    files = sorted(tmp_path.glob("M_*_bau.json"))
    assert [p.name for p in files] == ["M_1_bau.json", "M_2_bau.json"]
    assert [p["warm_starts"] for p in first["points"]] == [0, 1]  # M = 2 starts from M = 1's best
    stamps = [p.stat().st_mtime_ns for p in files]
    again = run_envelope(ProvisionalRates(), tmp_path, **kw)
    assert [p.stat().st_mtime_ns for p in files] == stamps and again["points"] == first["points"]
    with pytest.raises(ValueError, match="different settings"):
        run_envelope(ProvisionalRates(), tmp_path, **dict(kw, budget_per_mass=90))
    result = CliRunner().invoke(app, ["envelope", "--masses", "1", "2", "--bau", "--budget-per-mass", "70",
                                      "--rates", "provisional", "--T-end", "50", "--grid-steps", "100",
                                      "--candidates", "2", "--out", str(tmp_path), "--no-progress"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert [p["M"] for p in printed["points"]] == [1.0, 2.0]
    assert (tmp_path / "envelope.png").stat().st_size > 5000
    assert CliRunner().invoke(app, ["envelope", "--out", str(tmp_path / "x")]).exit_code == 2


def test_effective_lta_objective_divides_by_the_dilution_factor():
    """Objective "effective-lta": J = |Y_L|/D_fin (observable 6), ∇ ln J = ∇Y_L/Y_L − ∇D/D, and the projected step
    climbs that, not |Y_L| (a D_fin growing along the Y_L ridge turns the step around)."""
    scores = opt._Scores(opt.OBJECTIVE_INDEX["effective-lta"], TARGET, 0.1, bau=False, diluted=True)
    obs = np.array([TARGET, -2e-6, 0, 0, 0, 1e-6, 4.0])
    assert scores.objective(obs) == pytest.approx(5e-7)
    jac = np.zeros((7, 5))
    jac[1] = -2e-6 * np.array([1.0, 0, 0, 0, 0])  # ln|Y_L| grows along v0 ...
    jac[6] = 4.0 * np.array([3.0, 0, 0, 0, 0])  # ... but ln D_fin grows three times faster
    np.testing.assert_allclose(scores.log_gradient(obs, jac), [-2.0, 0, 0, 0, 0])
    v = np.full(5, 0.5)
    assert opt._step(v, obs, jac, radius=0.1, scores=scores, bau=False)[0] == pytest.approx(0.4)
    plain = opt._Scores(opt.OBJECTIVE_INDEX["lta"], TARGET, 0.1, bau=False)
    assert opt._step(v, obs[:6], jac[:6], radius=0.1, scores=plain, bau=False)[0] == pytest.approx(0.6)


@pytest.mark.slow
def test_effective_lta_optimisation_reports_the_diluted_objective():
    """A short effective-LTA run: the D_fin of every evaluation is that of the dilution study (same point), the best
    point's objective is |Y_L|/D_fin, its f_DM estimate is Y_L_eff/66e-6, and the forward-mode D_fin column of the
    optimiser's Jacobian agrees with central differences."""
    from lta_jax.studies.dilution import dilution

    res = opt.optimise(ProvisionalRates(), objective="effective-lta", budget=40, seed=2, **SETUP)
    best = res.best
    assert best["status"] == "success"
    assert best["objective"] == pytest.approx(abs(best["Y_L_end"]) / best["D_fin"], rel=1e-12)
    params = ModelParameters(best["M"], best["delta_M"], best["im_omega"], best["re_omega"], best["delta"],
                             best["eta"])
    assert best["D_fin"] == pytest.approx(dilution(params)["D_fin"], rel=1e-4)
    assert best["Y_L_eff"] == pytest.approx(best["Y_L_end"] / best["D_fin"], rel=1e-12)
    assert best["f_DM_estimate"] == pytest.approx(abs(best["Y_L_eff"]) / 66e-6, rel=1e-12)
    assert all(h["D_fin"] > 1.0 for h in res.history if h["status"] == "success")  # M = 1 GeV dilutes (D ≈ 1.5–3)
    space = opt._Space.make(opt.LARGE_LTA_BOX, 1.0)
    fn = make_observable_map(ModelParameters(1.0, 1e-11), ProvisionalRates(), t_start=1e3, t_end=50.0,
                             solver_options=SolverOptions.fixed_grid(100))
    from lta_jax.plasma.thermodynamics import in_house_thermodynamics

    problem = opt._Problem(fn, space, in_house_thermodynamics())
    v = np.array([[0.3, 0.8, 0.4, 0.35, 0.6]])
    obs, jac = (np.asarray(x) for x in opt._values_and_fd_jacobians(problem, jnp.asarray(v)))
    assert obs.shape == (1, 7) and jac.shape == (1, 7, 5)
    h = 1e-3
    shifted = jnp.asarray(np.concatenate([v[0] + h * np.eye(5), v[0] - h * np.eye(5)]))
    d_shifted = np.asarray(eqx.filter_jit(lambda p, x: jax.vmap(p.dilution_factor)(x))(problem, shifted))
    central = (d_shifted[:5] - d_shifted[5:]) / (2 * h)
    np.testing.assert_allclose(jac[0, 6], central, rtol=2e-3, atol=1e-4 * abs(obs[0, 6]))


def test_start_strategy_is_checked():
    with pytest.raises(ValueError, match="start"):
        opt.optimise(ProvisionalRates(), start="grid", progress=False)
    with pytest.raises(ValueError, match="fixed mass"):
        opt.optimise(ProvisionalRates(), start="freeze-out", free_mass=True, progress=False)


def test_gradient_cost_is_counted_in_screened_points(monkeypatch):
    """A value + Jacobian is charged its wall time over the per-point wall time of a screening batch (CHUNK points),
    not over a value batch of the K candidates, which costs less per point (vmapped batches grow sub-linearly
    efficient). Timed stand-ins: 1 ms per point in small batches, 2 ms in a screening batch, a Jacobian of 8
    candidates 96 ms = 6 screened points each (the former unit would have said 12)."""
    import time as _time

    def fake_values(problem, vs):
        n = vs.shape[0]
        _time.sleep((0.001 if n <= 8 else 0.002) * n)
        return vs

    def fake_jacobians(problem, vs):
        _time.sleep(0.096)
        return vs

    monkeypatch.setattr(opt, "_values", fake_values)
    cost = opt._measure_cost(None, np.zeros((8, 5)), fake_jacobians)
    assert 5.0 < cost < 7.5
