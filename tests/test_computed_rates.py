"""Computed rates (issue 3, in progress): one-loop ν self-energy limits, quadrature, level crossing, accuracy vs the
authors' M = 1 GeV table (locked in at the level reached), differentiability, the `lta-jax rates` command."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import quad
from typer.testing import CliRunner

from lta_jax import ModelParameters, SolverOptions, solve, summary
from lta_jax.cli import app
from lta_jax.computed_rates import ComputedRates, Y_NODES
from lta_jax.rates import TabulatedRates
from lta_jax.self_energy import loop_functions, loop_integrands, neutrino_self_energy, notzold_raffelt_potential

runner = CliRunner()
ORGH = "nuMSM-fortran/Int_OrgH_MN10E-1_kcAve.dat"


@pytest.mark.parametrize("temperature", [1.0, 2.0])
@pytest.mark.parametrize("y", [1.0, 3.0])
def test_low_temperature_limit_is_notzold_raffelt(temperature, y):
    """T ≪ m_W, light cone (M → 0): b_ν T = −V_ν(Nötzold–Raffelt) to 0.3 % — this fixes the W-loop coupling g²/2
    (with ULYSSES' g²/4 the ratio would be ≈ 0.6)."""
    _, b = neutrino_self_energy(y * temperature, temperature, 1e-3)
    v_nr = notzold_raffelt_potential(y * temperature, temperature)
    assert float(b * temperature / -v_nr) == pytest.approx(1.0, abs=3e-3)


@pytest.mark.parametrize("y, z, zb", [(3.0, 0.04, 3.2), (1.0, 0.05, 2.0), (3.0, 0.2, 16.0)])
def test_quadrature_against_scipy_quad(y, z, zb):
    """The fixed 16,000-node rule vs SciPy's adaptive quad (singular points given) of the same integrands."""
    y0 = math.hypot(y, z)
    d1 = z * z - zb * zb
    pts = [p for p in (-d1 / (2 * (y0 + y)), -d1 / (2 * (y0 - y))) if 0 < p < 80]
    ref = [quad(lambda w, i=i: float(loop_integrands(jnp.asarray(w), y, z, zb)[i]), 1e-9, 80, points=pts or None,
                limit=400)[0] / y**2 for i in (0, 1)]
    a, b = loop_functions(y, z, zb)
    assert float(a) == pytest.approx(ref[0], rel=5e-3)
    assert float(b) == pytest.approx(ref[1], rel=5e-3)


def test_potential_changes_sign_between_regimes():
    """Level crossing: b_ν > 0 (Nötzold–Raffelt, V_ν < 0) at low T and b_ν < 0 (thermal-mass regime) above ~20 GeV,
    for a typical momentum k = 3T."""
    b = [float(neutrino_self_energy(3 * t, t, 1.0)[1]) for t in (10.0, 15.0, 20.0, 40.0)]
    assert b[0] > 0 and b[1] > 0 and b[2] < 0 and b[3] < 0


@pytest.fixture(scope="module")
def computed():
    return ComputedRates.build()


def test_table_interpolation_of_self_energy(computed):
    for t in (7.3, 27.1, 61.0, 141.0):
        a, b = computed.self_energy(jnp.asarray(t))
        a0, b0 = neutrino_self_energy(jnp.asarray(Y_NODES) * t, t, 0.0)
        assert float(jnp.max(jnp.abs(b - b0)) / jnp.max(jnp.abs(b0))) < 0.03


def test_accuracy_against_authors_table(computed, reference_file):
    """Ratios computed/table at M = 1 GeV, locked in at what the model reaches today (issue 3 targets 20 %)."""
    table = TabulatedRates.from_file(reference_file(ORGH))

    def ratio(name, temps):
        return np.array([float(getattr(computed(t, 1.0), name)) / float(getattr(table(t, 1.0), name)) for t in temps])

    low = np.geomspace(5.0, 20.0, 12)
    mid = np.geomspace(35.0, 60.0, 6)
    assert np.all(np.abs(ratio("h_plus", np.geomspace(5.0, 131.7, 25)) - 1) < 0.12)
    # h̄0 = −M⟨1/E⟩ with the ρ weights: 2.6 % above the table at high T and 11 % below it at 5 GeV (the table's
    # averaging differs from kinetics.md §2.4 here; not resolved).
    assert np.all(np.abs(ratio("h_zero", np.geomspace(5.0, 1e4, 25)) - 1) < 0.12)
    assert np.all(np.abs(ratio("gamma_N_minus", np.concatenate([low, mid])) - 1) < 0.20)
    assert np.all(np.abs(ratio("gamma_nu_minus", np.concatenate([low, mid])) - 1) < 0.20)
    assert np.all(np.abs(ratio("h_minus", np.geomspace(5.0, 17.0, 8)) - 1) < 0.15)
    # FNC rates at 5–20 GeV: within 0.75–1.5 (the four-fermion width is calibrated there).
    assert np.all((ratio("gamma_N_plus", low) > 0.75) & (ratio("gamma_N_plus", low) < 1.5))
    # Symmetric phase: FNC literature constants within 15 %; FNV 2–3× (kinetics.md §6.2 — not fitted).
    assert np.all(np.abs(ratio("gamma_nu_plus", np.geomspace(200.0, 1e4, 8)) - 1) < 0.15)

    def zero(fn, lo, hi):
        from scipy.optimize import brentq
        return brentq(lambda t: float(fn(t, 1.0).h_minus), lo, hi)

    t_zero, t_zero_table = zero(computed, 28.0, 40.0), zero(table, 20.0, 30.0)
    assert t_zero_table == pytest.approx(26.7, abs=0.3)
    # The level crossing exists, but 5.8 GeV above the table's (issue target ±3 GeV: not met yet).
    assert 31.0 < t_zero < 34.0


def test_differentiable_in_mass_and_temperature(computed):
    def gamma(m, t):
        return computed(t, m).gamma_N_minus

    d_m, d_t = jax.grad(gamma, argnums=(0, 1))(1.0, 20.0)
    assert np.isfinite(float(d_m)) and np.isfinite(float(d_t)) and float(d_m) > 0  # FNV rates grow with M
    with pytest.raises(ValueError, match="0.1 ≤ M ≤ 30"):
        computed.check_range(10.0, 1e3, 50.0)
    with pytest.raises(ValueError, match="vacuum HNL decays"):
        computed.check_range(1.0, 1e3, 1.0)


def test_solve_with_computed_rates(computed):
    params = ModelParameters(1.0, 1.26e-11, -0.14, 0.52 * math.pi, 1.30 * math.pi, 1.02 * math.pi)
    fast = SolverOptions(rtol=1e-6, atol_density=1e-9, atol_asymmetry=1e-16, n_save=200)
    s = summary(solve(params, computed, t_end=20.0, solver_options=fast))
    assert s["status"] == "success" and math.isfinite(s["Y_B"]) and s["Y_B"] != 0


def test_rates_command_round_trip(tmp_path, computed):
    out = tmp_path / "computed_MN10E-1.dat"
    result = runner.invoke(app, ["rates", "--M", "1", "--rates", "computed", "--out", str(out), "--rows", "41"])
    assert result.exit_code == 0, result.output
    data = np.loadtxt(out)
    assert data.shape == (41, 9) and data[0, 0] == pytest.approx(1e5) and data[-1, 0] == pytest.approx(5.0)
    back = TabulatedRates.from_file(out)
    for t in (data[10, 0], data[30, 0]):
        np.testing.assert_allclose(np.asarray(back(t, 1.0)), np.asarray(computed(t, 1.0)), rtol=1e-6, atol=1e-12)
    bad = runner.invoke(app, ["rates", "--M", "-1", "--out", str(tmp_path / "x.dat")])
    assert bad.exit_code == 2 and "positive" in bad.output
