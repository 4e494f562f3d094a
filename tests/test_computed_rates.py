"""Computed rates (issue 3): one-loop ν self-energy limits, quadrature, level crossing, accuracy vs the
authors' M = 1 GeV table (locked in at the level reached), differentiability, the `lta-jax rates` command."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import quad
from typer.testing import CliRunner

from lta_jax import ModelParameters, SolverOptions, solve, summary
from lta_jax.model.benchmark_points import FIG19, TABLE4, TABLE4_SPECIFICATION_Y_B
from lta_jax.cli.commands import app
from lta_jax.rates.computed import ComputedRates, Y_NODES
from lta_jax.rates.base import TabulatedRates
from lta_jax.rates.self_energy import loop_functions, loop_integrands, neutrino_self_energy, notzold_raffelt_potential

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
    """Ratios computed/table at M = 1 GeV, locked in at what the model reaches (issue 3 targets 20 %; README table)."""
    table = TabulatedRates.from_file(reference_file(ORGH))

    def ratio(name, temps):
        return np.array([float(getattr(computed(t, 1.0), name)) / float(getattr(table(t, 1.0), name)) for t in temps])

    higgs = np.geomspace(5.0, 150.0, 30)
    symmetric = np.geomspace(155.0, 1e4, 10)
    assert np.all(np.abs(ratio("h_plus", np.concatenate([higgs, symmetric])) - 1) < 0.13)
    # h̄0 = −M⟨1/E⟩ with the ρ weights over y ≥ 0.3: 0.3 % above the table at high T and 12 % below it at 5 GeV (the
    # table's ρ-averages are 13 % above the ρ-average of its own modes at 5 GeV; not resolved).
    assert np.all(np.abs(ratio("h_zero", np.geomspace(5.0, 1e4, 25)) - 1) < 0.13)
    assert np.all(np.abs(ratio("h_zero", np.geomspace(40.0, 1e4, 15)) - 1) < 0.02)
    for name in ("gamma_N_minus", "gamma_nu_minus"):
        # FNV: within 0.94–1.10 from 5 to 131.7 GeV (measured), 0.84–1.10 to 150 GeV; the symmetric-phase constant
        # misses the table's dip near 200 GeV (ratio up to 1.29 on this grid, 1.40 at 180–200 GeV).
        assert np.all(np.abs(ratio(name, np.geomspace(5.0, 131.7, 30)) - 1) < 0.12), name
        assert np.all(np.abs(ratio(name, higgs) - 1) < 0.17), name
        assert np.all(np.abs(ratio(name, symmetric) - 1) < 0.32), name
    for name in ("gamma_N_plus", "gamma_nu_plus"):
        # FNC: helicity-projected 1↔2 width + R_PLUS four-fermion width + direct decays: 0.78–1.21 below 150 GeV.
        assert np.all(np.abs(ratio(name, higgs) - 1) < 0.23), name
        assert np.all(np.abs(ratio(name, symmetric) - 1) < 0.09), name
    assert np.all(np.abs(ratio("h_minus", np.geomspace(5.0, 17.0, 8)) - 1) < 0.13)
    assert np.all(np.abs(ratio("h_minus", np.geomspace(35.0, 131.7, 10)) - 1) < 0.20)
    assert np.all((ratio("h_minus", np.geomspace(40.0, 145.0, 10)) > 0.85)
                  & (ratio("h_minus", np.geomspace(40.0, 145.0, 10)) < 1.35))

    def zero(fn, lo, hi):
        from scipy.optimize import brentq
        return brentq(lambda t: float(fn(t, 1.0).h_minus), lo, hi)

    t_zero, t_zero_table = zero(computed, 20.0, 40.0), zero(table, 20.0, 30.0)
    assert t_zero_table == pytest.approx(26.7, abs=0.3)
    # The level crossing within the issue's ±3 GeV: 27.2 GeV (measured) against the table's 26.7.
    assert abs(t_zero - t_zero_table) < 1.0


def test_level_crossing_depends_on_soft_modes(reference_file):
    """Averaged over all momenta (y_min = 0) the zero of h̄− moves to ≈31.3 GeV: the soft modes k < 0.3T, with
    h−(k) → v²/(2M), decide the averaged level crossing (computed_rates.AVERAGE_Y_MIN)."""
    from scipy.optimize import brentq

    full = ComputedRates.build(y_min=0.0)
    t_zero = brentq(lambda t: float(full(t, 1.0).h_minus), 20.0, 40.0)
    assert 30.5 < t_zero < 32.0
    with pytest.raises(ValueError, match="y_min"):
        ComputedRates.build(y_min=-0.1)


MODES = "nuMSM-fortran/modes_ModH_M1/Int_ModH_MN10E-1_kc{}E-1.dat"


@pytest.mark.parametrize("kc", [10, 30, 80])
def test_momentum_resolved_against_authors_modes(computed, reference_file, kc):
    """Per-mode coefficients vs the authors' per-mode tables (ModH; γ and h− as OrgH below 120 GeV): the FNV rate
    within 25 % at 8–100 GeV for k/T = 1, 3, 8, and h− within 5 % at 8–10 GeV."""
    from lta_jax.rates.base import parse_fortran_table

    data = parse_fortran_table(reference_file(MODES.format(kc)))
    y = jnp.asarray([kc / 10])
    for t in (8.0, 10.0, 15.0, 20.0, 40.0, 60.0, 100.0):
        row = data[np.argmin(np.abs(data[:, 0] - t))]
        modes = computed.momentum_resolved(row[0], 1.0, y=y)
        assert float(modes["gamma_minus"][0]) / row[2] == pytest.approx(1.0, abs=0.25), t
        if t <= 10.0:
            assert float(modes["h_minus"][0]) / row[6] == pytest.approx(1.0, abs=0.05), t
        assert float(modes["h_zero"][0]) == pytest.approx(row[7], rel=1e-6)


def test_fnc_rate_per_mode_against_authors_modes(computed, reference_file):
    """Per-mode FNC rate γ+(k) (helicity-projected 1↔2 width + R_PLUS four-fermion width + direct decays) vs the
    authors' per-mode tables: within 16 % for k/T = 2–10 at 15–40 GeV (measured 0.84–1.02). With one width for both
    channels (the specification's Mode B) the soft modes were up to 2.5× too large at 15–20 GeV."""
    from lta_jax.rates.base import parse_fortran_table

    for kc in (20, 30, 50, 80, 100):
        data = parse_fortran_table(reference_file(MODES.format(kc)))
        for t in (15.0, 20.0, 30.0, 40.0):
            row = data[np.argmin(np.abs(data[:, 0] - t))]
            ours = float(computed.momentum_resolved(row[0], 1.0, y=jnp.asarray([kc / 10]))["gamma_plus"][0])
            assert 0.82 < ours / row[1] < 1.05, (kc, t, ours / row[1])


def test_momentum_resolved_averages_to_the_coefficients(computed):
    """The averaged model is exactly the §2.4 average of its per-mode coefficients plus the symmetric-phase part."""
    from lta_jax.rates.computed import averaged_coefficients

    for t in (7.0, 45.0, 140.0):
        modes = computed.momentum_resolved(t, 2.0)
        direct = averaged_coefficients(t, 2.0, modes["h_plus"], modes["gamma_plus"], modes["h_minus"],
                                       modes["gamma_minus"], computed.constants)
        np.testing.assert_allclose(np.asarray(direct), np.asarray(computed(t, 2.0)), rtol=1e-12)
        np.testing.assert_allclose(np.asarray(modes["gamma_plus"]),
                                   np.asarray(modes["gamma_plus_indirect"] + modes["gamma_plus_direct"]), rtol=1e-12)


def test_width_limits():
    """Γ_ν: the four-fermion law C_F G_F² T⁴ k at T ≪ m_W (inverse decays negligible; C_F's reference temperature
    7 GeV), the decoupling of b, c, τ below it, and saturation at Γ_X = C_X T²/m_W(T) far above it."""
    from lta_jax.model import constants as c
    from lta_jax.rates.computed import (C_F, C_X, R_PLUS, active_neutrino_width, relativistic_scatterers,
                                        thermal_boson_masses_squared, thermal_inverse_decay_width)

    ratio = [float(relativistic_scatterers(t) / relativistic_scatterers(7.0)) for t in (1.0, 5.0, 100.0)]
    assert 0.80 < ratio[0] < 0.87 and 0.98 < ratio[1] < 1.0 and 1.0 < ratio[2] < 1.02
    # all 21 weights relativistic at high T: 3 ν + e, μ, τ + 5 quarks × 3 colours
    assert float(relativistic_scatterers(1e4)) == pytest.approx(21.0, rel=1e-3)
    def without_inverse_decays(k, t):
        m_w2, m_z2 = thermal_boson_masses_squared(t)
        return float(active_neutrino_width(k, t, m_w2, m_z2) - thermal_inverse_decay_width(k, t, m_w2, m_z2)), m_w2

    t, k = 7.0, 21.0
    assert without_inverse_decays(k, t)[0] == pytest.approx(C_F * c.G_FERMI**2 * t**4 * k, rel=0.01)
    t, k = 1e3, 3e3
    no_inverse, m_w2 = without_inverse_decays(k, t)
    assert no_inverse == pytest.approx(C_X * t**2 / math.sqrt(float(m_w2)), rel=1e-3)
    # the FNC channel: R_PLUS times the scattering part
    m_w2, m_z2 = thermal_boson_masses_squared(t)
    plus = float(active_neutrino_width(k, t, m_w2, m_z2, helicity=+1)
                 - thermal_inverse_decay_width(k, t, m_w2, m_z2, helicity=+1))
    assert plus == pytest.approx(R_PLUS * no_inverse, rel=1e-12)


@pytest.mark.parametrize("k, t", [(3.0, 20.0), (60.0, 30.0), (300.0, 60.0), (50.0, 5.0)])
def test_thermal_inverse_decays_against_quadrature(k, t):
    """Both helicity channels of the 1↔2 width equal a SciPy quadrature of their defining integrals,
    (g² m_B²/(16π k²)) ∫_{p_min}^∞ dp [f_F(p) + f_B(k + p)] × (1 or 4kp/m_B² − 1) (+ the Z term); without the gain
    term the FNV channel is the specification's formula (inverse_decay_width)."""
    from lta_jax.model import constants as c
    from lta_jax.rates.computed import (inverse_decay_width, thermal_boson_masses_squared,
                                        thermal_inverse_decay_width)

    m_w2, m_z2 = (float(x) for x in thermal_boson_masses_squared(t))
    cw2 = (c.M_W / c.M_Z) ** 2

    def by_quad(helicity, gain=True):
        total = 0.0
        for pref, m2 in ((c.G_WEAK**2 * m_w2 / (16 * math.pi * k**2), m_w2),
                         (c.G_WEAK**2 * m_z2 / (32 * math.pi * cw2 * k**2), m_z2)):
            p_min = m2 / (4 * k)

            def integrand(p):
                stat = 1 / (math.exp(p / t) + 1) + (1 / math.expm1((k + p) / t) if gain else 0.0)
                return stat * (1.0 if helicity < 0 else 4 * k * p / m2 - 1)
            total += pref * quad(integrand, p_min, p_min + 200 * t, limit=200)[0]
        return total

    for helicity in (-1, 1):
        assert float(thermal_inverse_decay_width(k, t, m_w2, m_z2, helicity)) == pytest.approx(by_quad(helicity),
                                                                                               rel=1e-7)
    assert float(inverse_decay_width(k, t, m_w2, m_z2)) == pytest.approx(by_quad(-1, gain=False), rel=1e-7)


def test_direct_decays_quadrature_and_boltzmann_suppression():
    """The closed-form direct decay rate equals a SciPy quadrature of its defining integral; channels with m_B < M
    are closed; it vanishes with v and is Boltzmann-suppressed at T ≪ m_W."""
    from lta_jax.model import constants as c
    from lta_jax.rates.computed import direct_decay_rate

    def bose(x):
        return math.exp(-x) / -math.expm1(-x)

    def fermi(x):
        return math.exp(-x) / (1 + math.exp(-x))

    def by_quad(k, t, m, v):
        e = math.hypot(k, m)
        ratio2 = (v / c.V0) ** 2
        m_w2 = c.G_WEAK**2 * c.V0**2 / 2 * ratio2
        total = 0.0
        for weight, mb2 in ((1.0, m_w2), (0.5, m_w2 * (c.M_Z / c.M_W) ** 2), (0.5, c.M_HIGGS**2 * ratio2)):
            d = mb2 - m * m
            if d <= 0:
                continue
            lo, hi = d / (2 * (e + k)), d / (2 * (e - k))
            hi = min(hi, lo + 100 * t)  # both terms fall like e^(−p/T): the rest is below double precision
            total += weight * d / (16 * math.pi * e * k) * quad(lambda p: bose((e + p) / t) + fermi(p / t), lo, hi,
                                                                limit=400)[0]
        return total

    for k, t, m, v in [(60.0, 20.0, 1.0, 174.1), (300.0, 100.0, 5.0, 120.0), (200.0, 150.0, 30.0, 40.0)]:
        assert float(direct_decay_rate(k, t, m, v)) == pytest.approx(by_quad(k, t, m, v), rel=1e-6)
    assert float(direct_decay_rate(3.0, 1.0, 1.0, 174.1)) < 1e-25
    assert float(direct_decay_rate(300.0, 100.0, 1.0, 0.0)) == 0.0


def test_differentiable_in_mass_and_temperature(computed):
    def gamma(m, t):
        return computed(t, m).gamma_N_minus

    d_m, d_t = jax.grad(gamma, argnums=(0, 1))(1.0, 20.0)
    assert np.isfinite(float(d_m)) and np.isfinite(float(d_t)) and float(d_m) > 0  # FNV rates grow with M
    # every coefficient, forward and reverse mode, over the whole range in M and T (until v(T) was computed in a
    # cancellation-free form, v = 0 exactly above ~25 TeV made every derivative NaN there)
    coefficients = jax.jit(lambda m, t: jnp.stack(list(computed(t, m))))
    jac_fwd = jax.jit(jax.jacfwd(lambda m, t: jnp.stack(list(computed(t, m))), argnums=(0, 1)))
    jac_rev = jax.jit(jax.jacrev(lambda m, t: jnp.stack(list(computed(t, m))), argnums=(0, 1)))
    for m in (0.1, 1.0, 30.0):
        for t in (1.0, 27.0, 155.0, 3e4, 1e5):
            values = np.asarray(coefficients(m, t))
            assert np.all(np.isfinite(values)) and np.all(values[:4] >= 0), (m, t)
            for jac in (jac_fwd, jac_rev):
                assert all(np.all(np.isfinite(np.asarray(d))) for d in jac(m, t)), (m, t)
    with pytest.raises(ValueError, match="0.1 ≤ M ≤ 30"):
        computed.check_range(10.0, 1e3, 50.0)
    with pytest.raises(ValueError, match="quarks are confined"):
        computed.check_range(0.5, 1e3, 0.1)
    with pytest.warns(UserWarning, match="below 5 GeV"):
        computed.check_range(2.0, 1e3, 0.5)


def test_higgs_vev_profile_without_cancellation():
    """v(T) = v0 √(f/f0), f = ½[u + √(u² + ε²)]: the cancellation-free form equals the naive one where that is
    accurate (T ≤ 1 TeV), stays positive and monotonic up to 10⁵ GeV with its asymptote v0 ε/(2√(f0|u|)), and has a
    finite derivative everywhere."""
    from lta_jax.model import constants as c
    from lta_jax.plasma.electroweak import VEV_PROFILE, higgs_vev

    t_star, power, eps = VEV_PROFILE
    f0 = 0.5 * (1 + math.sqrt(1 + eps**2))
    temps = np.geomspace(1.0, 1e5, 200)
    v = np.asarray(higgs_vev(jnp.asarray(temps)))
    u = 1 - (temps / t_star) ** power
    naive = c.V0 * np.sqrt(0.5 * (u + np.sqrt(u * u + eps**2)) / f0)
    low = temps <= 1e3
    np.testing.assert_allclose(v[low], naive[low], rtol=1e-8)
    assert np.all(v > 0) and np.all(np.diff(v) < 0)
    assert v[-1] == pytest.approx(c.V0 * eps / (2 * math.sqrt(f0 * abs(u[-1]))), rel=1e-6)
    slopes = np.asarray(jax.vmap(jax.grad(higgs_vev))(jnp.asarray(temps)))
    assert np.all(np.isfinite(slopes)) and np.all(slopes <= 0)


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




@pytest.mark.slow  # long physics run (≥ 25 s on 2 cores, 2026-12-01): the bounded slow step of .ci/run
def test_table4_benchmarks_with_computed_rates(computed):
    """V9 with the computed rates and the package defaults (in-house thermodynamics, S_eq off), locked at what they
    reach: Y_B/8.7e-11 = 1.005, 1.247, 0.955, 0.956, 0.486 for M = 0.5, 1, 2, 5, 10 GeV. The specification's V9 numbers
    were made with the S_eq source term on; in that protocol all five pass (next test). At M = 10 GeV the source term
    matters (M/T ≈ 0.08 at T_sph): the authors' table scaled in M gives 0.62 here and 0.85 with it."""
    expected = {0.5: 1.005, 1.0: 1.247, 2.0: 0.955, 5.0: 0.956, 10.0: 0.486}
    for params in TABLE4:
        m = float(params.mass)
        s = summary(solve(params, computed, t_end=120.0))
        ratio = s["Y_B"] / 8.7e-11
        assert ratio == pytest.approx(expected[m], rel=0.05), (m, ratio)
        if m <= 5.0:
            assert abs(ratio - 1) < 0.3


@pytest.mark.slow  # long physics run (≥ 25 s on 2 cores, 2026-12-01): the bounded slow step of .ci/run
def test_table4_benchmarks_in_the_specification_protocol(computed, reference_file):
    """V9 as the specification computed its Y_B column: S_eq source term on, Laine–Meyer thermodynamics and the
    reference susceptibility. With that protocol the authors' M = 1 GeV table scaled in M reproduces the column
    (0.974, 1.218, 0.972, 1.057, 0.846 × 8.7e-11; the M = 2 GeV entry came from the M = 2 GeV table) to 0.2 % (measured
    0.973, 1.219, 0.971, 1.058, 0.846) — without S_eq the M = 10 GeV point gives 0.62, which is why it looked like a
    solver gap. The computed rates in the same protocol: 1.019, 1.276, 0.969, 0.989, 0.705 (measured), all five within
    the ±30 % acceptance."""
    from lta_jax.kinetics.averaged import KineticOptions
    from lta_jax.plasma.susceptibility import susceptibility_from_table
    from lta_jax.plasma.thermodynamics import thermodynamics_from_table

    thermo = thermodynamics_from_table(reference_file("thermo/standardmodel.dat"))
    susceptibility = susceptibility_from_table(reference_file("thermo/susceptibility.dat"))
    table = TabulatedRates.from_file(reference_file(ORGH))

    def v9(rates):
        return np.array([summary(solve(params, rates, t_end=120.0, thermo=thermo, susceptibility=susceptibility,
                                       options=KineticOptions(source_term=True)))["Y_B"] / 8.7e-11
                         for params in TABLE4])

    np.testing.assert_allclose(v9(table), np.array(TABLE4_SPECIFICATION_Y_B) / 8.7e-11, rtol=5e-3)
    ours = v9(computed)
    np.testing.assert_allclose(ours, [1.019, 1.276, 0.969, 0.989, 0.705], rtol=0.02)
    assert np.all(np.abs(ours - 1) < 0.3), ours


def test_level_crossing_per_mode(computed, reference_file):
    """Per momentum mode, h−(k) changes sign where the authors' per-mode tables say, within 1 GeV, for k/T = 0.5–10
    (measured: ≤ 0.4 GeV): the one-loop potential puts the level crossing where the authors' code does."""
    from lta_jax.rates.base import parse_fortran_table

    for kc in (5, 10, 30, 100):
        data = parse_fortran_table(reference_file(MODES.format(kc)))
        sel = (data[:, 0] > 10.0) & (data[:, 0] < 60.0)
        t, h = data[sel, 0], data[sel, 6]
        crossings = np.where(np.diff(np.sign(h)) != 0)[0]
        assert len(crossings) == 1
        t_table = t[crossings[0]]
        y = jnp.asarray([kc / 10])
        grid = np.geomspace(0.8 * t_table, 1.25 * t_table, 300)
        h_minus = jax.jit(jax.vmap(lambda tt: computed.momentum_resolved(tt, 1.0, y=y)["h_minus"][0]))
        values = np.asarray(h_minus(jnp.asarray(grid)))
        ours = grid[np.where(np.diff(np.sign(values)) != 0)[0]]
        assert len(ours) == 1 and abs(ours[0] - t_table) < 1.0, (kc, ours, t_table)


@pytest.mark.slow  # long physics run (≥ 25 s on 2 cores, 2026-12-01): the bounded slow step of .ci/run
def test_fig19_point_computed_against_authors_table(computed, reference_file):
    """End to end at the paper's Fig.-19 point (S_eq = 0, from 995.954 GeV): Y_L with the computed rates vs the same
    solver with the authors' OrgH table, locked at what is reached (measured ratios 1.38, 1.01, 1.04, 1.24 at 131.7,
    50, 20, 10 GeV). Y_L(131.7 GeV) at this point is ill-conditioned: swapping in the table's γ̄_ν+ alone (5–13 %
    different above 131.7 GeV) moves the ratio from 1.38 to 1.14."""
    table = TabulatedRates.from_file(reference_file(ORGH))

    def y_l(rates):
        sol = solve(FIG19, rates, t_start=995.954, t_end=10.0)
        temps, values = sol.temperatures[::-1], sol.states[::-1, 0:3].sum(axis=1)
        return np.array([np.interp(t, temps, values) for t in (131.7, 50.0, 20.0, 10.0)])

    ratio = y_l(computed) / y_l(table)
    assert abs(ratio[0] - 1) < 0.45 and abs(ratio[1] - 1) < 0.06 and abs(ratio[2] - 1) < 0.08, ratio
    assert abs(ratio[3] - 1) < 0.3, ratio
