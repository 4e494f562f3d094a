"""Gradient-based optimisation under the BAU constraint (issue 4): mechanics, bookkeeping, CLI contract."""

import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

from lta_jax.cli.commands import app
from lta_jax.studies.optimise import LARGE_LTA_BOX, optimise, starting_points
from lta_jax.rates.provisional import ProvisionalRates


def test_starting_points_inside_box():
    u = starting_points(16, sampler="sobol", seed=3)
    assert u.shape == (16, 5)
    for j, (lo, hi) in enumerate(LARGE_LTA_BOX.values()):
        assert np.all((u[:, j] >= lo) & (u[:, j] <= hi))
    assert starting_points(4, sampler="random", free_mass=True).shape == (4, 6)
    with pytest.raises(ValueError, match="sampler"):
        starting_points(2, sampler="grid")


def test_optimiser_moves_towards_the_bau_band():
    """Far outside the band the penalty dominates: the constraint violation must shrink along the run."""
    res = optimise(ProvisionalRates(), objective="lta", mass=1.0, starts=1, steps=4, t_end=50.0, progress=False,
                   learning_rate=0.05, seed=0)
    assert res.solves == 4 and res.gradient_evaluations == 4 and len(res.history) == 4
    viol = [abs(h["Y_B"] / 8.7e-11 - 1) for h in res.history]
    assert all(math.isfinite(v) for v in viol)
    assert min(viol[1:]) < viol[0]
    assert res.best["status"] == "success"


def test_optimiser_rejects_bad_settings():
    with pytest.raises(ValueError, match="objective"):
        optimise(ProvisionalRates(), objective="bau", progress=False)
    with pytest.raises(ValueError, match="bau_tolerance"):
        optimise(ProvisionalRates(), bau_tolerance=0.0, progress=False)
    with pytest.raises(ValueError, match="provisional"):  # T_end below the rate model's range
        optimise(ProvisionalRates(), t_end=1.0, progress=False)


def test_optimise_cli(tmp_path):
    out = tmp_path / "opt.json"
    png = tmp_path / "opt.png"
    result = CliRunner().invoke(app, ["optimise", "--objective", "max-ye", "--M", "1.0", "--starts", "1", "--steps",
                                      "2", "--T-end", "50", "--json", str(out), "--plot", str(png)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    for key in ("best", "solves", "gradient_evaluations", "history", "settings"):
        assert key in data
    assert len(data["history"]) == 2 and data["settings"]["objective"] == "max-ye"
    assert png.stat().st_size > 5000
    bad = CliRunner().invoke(app, ["optimise", "--objective", "nope"])
    assert bad.exit_code == 2


def test_cp_conjugation_flips_every_asymmetry_through_the_solve():
    """F → F* ((Im ω, δ, η) → −(Im ω, δ, η)) flips Y_B, Y_L, Y_Δα exactly and leaves the soft max |Y_e| unchanged —
    the symmetry the optimiser uses to fold the Y_B band onto ±target."""
    import jax.numpy as jnp

    from lta_jax.solver.gradients import _values, make_observable_map
    from lta_jax.studies.optimise import OPTIMISATION_SOLVER, cp_conjugate
    from lta_jax.model.parameters import ModelParameters

    fn = make_observable_map(ModelParameters(5.0, 1e-11), ProvisionalRates(), t_start=1e3, t_end=50.0,
                             solver_options=OPTIMISATION_SOLVER)
    theta = np.array([5.0, -10.5, -0.13, 1.4, 4.0, 0.5])
    a = np.asarray(_values(fn, jnp.asarray(theta)))
    b = np.asarray(_values(fn, jnp.asarray(cp_conjugate(theta))))
    assert np.all(np.abs(a) > 0)
    np.testing.assert_allclose(b[:5], -a[:5], rtol=1e-7)
    np.testing.assert_allclose(b[5], a[5], rtol=1e-7)


def test_cp_symmetric_optimiser_reports_positive_bau_points():
    res = optimise(ProvisionalRates(), objective="lta", mass=1.0, starts=2, steps=2, t_end=50.0, progress=False,
                   seed=1, cp_symmetry=True)
    ok = [h for h in res.history if h["status"] == "success"]
    assert ok and all(h["Y_B"] > 0 for h in ok)
    off = optimise(ProvisionalRates(), objective="lta", mass=1.0, starts=2, steps=1, t_end=50.0, progress=False,
                   seed=1, cp_symmetry=False)
    assert not any(h["cp_conjugated"] for h in off.history)
