"""Entropy dilution by HNL decays (lta_jax.studies.dilution; paper §3): thermal averages, the single-species analytic
estimate, entropy = decayed energy / T, the specification's D_fin table, fast decays, gradients, inputs."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lta_jax.model.parameters import ModelParameters
from lta_jax.plasma.thermodynamics import Thermodynamics
from lta_jax.studies.dilution import (HBAR_GEV_S, dilution, effective_observables, hnl_decay_widths,
                                      solve_dilution_arrays, thermal_averages)


@pytest.mark.parametrize("x, n_per_helicity, m_over_e, e_over_t", [
    (0.01, 0.09134, 0.0046, 3.151), (1.0, 0.07675, 0.3583, 3.462), (5.0, 6.71e-3, 0.7616, 6.811),
    (10.0, 1.09e-4, 0.8670, 11.67), (20.0, 1.28e-8, 0.9295, 21.59)])
def test_thermal_averages(x, n_per_helicity, m_over_e, e_over_t):
    """Fermi–Dirac n_eq/T³ per helicity, ⟨M/E⟩ and ⟨E⟩/T against the values of docs/dilution.md (0.1–0.5 %)."""
    n, me, e = (float(v) for v in thermal_averages(x, 1.0))
    assert n / 2 == pytest.approx(n_per_helicity, rel=5e-3)
    assert me == pytest.approx(m_over_e, rel=2e-3, abs=1e-4)
    assert e == pytest.approx(e_over_t, rel=1e-3)
    assert 1 <= e * me / x * 1.0 or x < 1  # ⟨E⟩⟨M/E⟩ ≥ M (Jensen), non-trivially for x ≥ 1


def _constant_dof(g: float = 10.75) -> Thermodynamics:
    ln_t = np.linspace(math.log(1e-6), math.log(10.0), 50)
    return Thermodynamics(ln_t, np.full(50, g), np.full(50, g), np.full(50, 1 / 3), label=f"g = {g}")


@pytest.fixture(scope="module")
def single_species():
    """One non-relativistic species, r = n/s = 2.85e-3, M = 1 GeV, τ = 0.256 s, g* = 10.75, from 20 MeV (n_eq ≈ 0)."""
    width = HBAR_GEV_S / 0.256
    thermo = _constant_dof()
    res = solve_dilution_arrays(1.0, jnp.array([width, width]), thermo, t_in=0.02, t_fin=1e-4,
                                initial_yields=jnp.array([2.85e-3, 0.0]), n_save=4000)
    return res, width


def test_single_species_against_the_ode_and_the_sudden_decay_estimate(single_species):
    """docs/dilution.md: the specification's ODE gives 2.55; the Scherrer–Turner formula 2.28 (±15 %)."""
    res, _ = single_species
    d_fin = float(res.d_fin)
    assert d_fin == pytest.approx(2.55, rel=0.03)
    g, r, mass, tau = 10.75, 2.85e-3, 1.0, 0.256 / HBAR_GEV_S
    estimate = (1 + 2.95 * (2 * math.pi**2 * g / 45) ** (1 / 3) * (r * mass) ** (4 / 3)
                * (tau / 1.22089e19) ** (2 / 3)) ** 0.75
    assert d_fin == pytest.approx(estimate, rel=0.15)


def test_injected_entropy_equals_decayed_energy_over_t(single_species):
    """S_fin − S_in = ∫ (M/T) d(decayed number): each decay heats the plasma by its energy M (non-relativistic)."""
    res, _ = single_species
    t = np.asarray(res.temperatures)
    big_s = np.asarray(res.dilution)
    number = np.asarray(res.hnl_yields)[:, 0] * big_s  # comoving N = n a³ (S_in = 1)
    decayed = -np.diff(number)
    t_mid = np.sqrt(t[1:] * t[:-1])
    assert big_s[-1] - big_s[0] == pytest.approx(np.sum(1.0 / t_mid * decayed), rel=1e-2)
    assert number[-1] < 1e-6 * number[0]  # all decayed


# Specification table (docs/dilution.md): D_fin at Re ω = π/2, NH.
SPEC_D_FIN = {(0.5, 0): 7.7, (1.0, 0): 5.0, (1.0, 2): 1.6, (2.0, 1): 1.8, (5.0, 0): 1.6, (30.0, 2): 1.00}


@pytest.mark.parametrize("mass, im_omega", sorted(SPEC_D_FIN))
def test_dilution_table(mass, im_omega):
    """D_fin against the specification's table within 10 % (measured ≤ 5 %; δ = η = 0 here), fast decays → D ≈ 1."""
    point = ModelParameters(mass, 1e-9, float(im_omega), math.pi / 2, 0.0, 0.0)
    out = dilution(point, n_save=50)
    assert out["status"] == "success"
    assert out["D_fin"] == pytest.approx(SPEC_D_FIN[(mass, im_omega)], rel=0.10)
    assert out["D_fin"] >= 1.0
    assert out["lifetime_exceeds_limit"] == (max(out["lifetimes_s"]) > 0.02)


@pytest.mark.slow
def test_gradient_of_d_fin_in_all_six_parameters():
    """∂D_fin/∂θ, θ = (M, log10 ΔM, Im ω, Re ω, δ, η), by forward mode through the diffrax solve, against central
    finite differences of the same solve for M, Im ω, Re ω, δ (ΔM ≪ M enters only through M ∓ ΔM: negligible)."""
    from lta_jax.solver.gradients import parameters_to_vector, vector_to_parameters
    from lta_jax.studies.dilution import dilution_factor_and_gradient

    # M = 1.3 GeV: between the nodes of the QCD correction of the hadronic widths, which is piecewise linear in ln M
    # (at a node, e.g. M = 1 GeV, the widths have a kink: the forward derivative is one-sided, 0.9 % off the central
    # difference of D_fin there).
    point = ModelParameters(1.3, 1e-9, 0.5, 0.6 * math.pi, 1.1 * math.pi, 0.3 * math.pi)
    value, grad = dilution_factor_and_gradient(point)
    theta = np.asarray(parameters_to_vector(point))
    assert float(value) == pytest.approx(dilution(point, n_save=20)["D_fin"], rel=1e-7)
    assert abs(float(grad[1])) < 1e-6 * float(value)  # ΔM ≪ M enters only through M ∓ ΔM
    for j, h in ((0, 1e-3), (2, 1e-3), (3, 1e-3), (4, 1e-3)):
        e = np.zeros(6)
        e[j] = h
        plus = dilution(vector_to_parameters(jnp.asarray(theta + e), point), n_save=20)["D_fin"]
        minus = dilution(vector_to_parameters(jnp.asarray(theta - e), point), n_save=20)["D_fin"]
        fd = (plus - minus) / (2 * h)
        # abs: the adaptive solve's step-selection noise in the difference, ≈ rtol · D_fin / h ≈ 1e-4 D_fin
        assert float(grad[j]) == pytest.approx(fd, rel=2e-3, abs=1e-4 * abs(float(value))), j
    assert float(grad[2]) < 0  # larger Im ω: larger mixings, faster decays, less dilution


@pytest.mark.slow
def test_gradient_of_the_effective_lta():
    """∂Y_L^eff/∂θ (Y_L(10 GeV)/D_fin: the kinetic Jacobian and the dilution gradient by the quotient rule) against
    central finite differences of Y_L/D_fin through the same observable map, for Im ω and Re ω."""
    from lta_jax import ComputedRates
    from lta_jax.solver.gradients import (_values, make_observable_map, parameters_to_vector,
                                          vector_to_parameters)
    from lta_jax.studies.dilution import effective_lta_and_gradient

    rates = ComputedRates.build()
    point = ModelParameters(1.0, 1.26e-11, -0.14, 0.52 * math.pi, 1.30 * math.pi, 1.02 * math.pi)
    value, grad = effective_lta_and_gradient(point, rates, t_end=10.0)
    fn = make_observable_map(point, rates, t_end=10.0)
    theta = np.asarray(parameters_to_vector(point))

    def y_eff(th):
        y_l = float(np.asarray(_values(fn, jnp.asarray(th)))[1])
        return y_l / dilution(vector_to_parameters(jnp.asarray(th), point), n_save=20)["D_fin"]

    assert value == pytest.approx(y_eff(theta), rel=1e-6)
    for j in (2, 3):
        e = np.zeros(6)
        e[j] = 1e-4
        fd = (y_eff(theta + e) - y_eff(theta - e)) / 2e-4
        assert grad[j] == pytest.approx(fd, rel=5e-3), j


def test_effective_observables_and_inputs():
    out = effective_observables(66e-6 * 3, 8.7e-11 * 3, 3.0)
    assert out["Y_L_eff"] == pytest.approx(66e-6) and out["f_DM_estimate"] == pytest.approx(1.0)
    assert out["Y_B_today"] == pytest.approx(8.7e-11)
    assert "estimate" in out["f_DM_note"]
    point = ModelParameters(1.0, 1e-9, 0.0, math.pi / 2, 0.0, 0.0)
    with pytest.raises(ValueError, match="T_fin"):
        dilution(point, t_in=1e-4, t_fin=1e-3)
    with pytest.raises(ValueError, match="initial_yields"):
        dilution(point, initial_yields=[-1.0, 0.0])


def test_dilution_command_rejects_bad_input():
    from typer.testing import CliRunner

    from lta_jax.cli.commands import app

    runner = CliRunner()
    for args in (["dilution", "--T-in", "1e-5"], ["dilution", "--M", "-1"], ["dilution", "--lifetime-limit", "0"],
                 ["solve", "--export", "x.txt"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)


@pytest.mark.slow
def test_dilution_commands(tmp_path):
    """`lta-jax dilution --json --plot` (paper Fig. 2) and `lta-jax solve --dilution --export` (strict JSON with D_fin,
    Y_L_eff, Y_B_today and the f_DM estimate; the two-block text export)."""
    import json

    from typer.testing import CliRunner

    from lta_jax.cli.commands import app

    runner = CliRunner()
    out, png = tmp_path / "d.json", tmp_path / "d.png"
    result = runner.invoke(app, ["dilution", "--json", str(out), "--plot", str(png)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["status"] == "success" and data["D_fin"] > 1 and len(data["trajectory"]["T"]) > 10
    assert png.stat().st_size > 10_000
    export = tmp_path / "export.txt"
    result = runner.invoke(app, ["solve", "--T-end", "5", "--dilution", "--export", str(export), "--json",
                                 str(tmp_path / "s.json")])
    assert result.exit_code == 0, result.output
    solved = json.loads((tmp_path / "s.json").read_text())
    dil = solved["dilution"]
    assert dil["Y_L_eff"] == pytest.approx(solved["Y_L_end"] / dil["D_fin"])
    assert dil["Y_B_today"] == pytest.approx(solved["Y_B"] / dil["D_fin"])
    assert "estimate" in dil["f_DM_note"]
    assert dil["initial_yields_from"].startswith("the kinetic solution")  # the solve reached T_in = 5 GeV
    assert len(dil["initial_yields"]) == 2 and min(dil["initial_yields"]) > 0
    text = export.read_text().splitlines()
    blocks = [i for i, line in enumerate(text) if line.startswith("# block:")]
    assert len(blocks) == 2
    kinetic = np.loadtxt(text[blocks[0] + 1:blocks[1]])
    diluted = np.loadtxt(text[blocks[1] + 1:])
    assert kinetic.shape[1] == 4 and diluted.shape[1] == 2
    assert diluted[-1, 1] == pytest.approx(dil["D_fin"], rel=1e-9)


def test_hnl_yields_from_a_kinetic_solution():
    """Hand-over from the kinetic equations: n_I/s (both helicities) from Y+ in the h-basis. Equilibrium (Y+ = 0) gives
    2 Y_eq each; in general the decay rate is the same in both bases, Tr(Γ_h X) = Γ₂ n₂ + Γ₃ n₃ with Γ_h the h-basis
    decay matrix of lta_jax.rates.decays.decay_matrix and X = 2(Y+ + Y_eq 1)."""
    from types import SimpleNamespace

    from lta_jax.plasma.thermodynamics import equilibrium_yield, in_house_thermodynamics
    from lta_jax.studies.dilution import hnl_yields_from_solution

    thermo = in_house_thermodynamics()
    y_eq = float(equilibrium_yield(thermo, 5.0, 1.0))
    t = np.array([10.0, 5.0, 2.0])

    def fake(y_plus):  # (Y+11, Y+22, Re Y+12, Im Y+12), the same at every saved point
        states = np.zeros((3, 11))
        states[:, 3:7] = y_plus
        return SimpleNamespace(temperatures=t, states=states, succeeded=True, status="success",
                               system=SimpleNamespace(thermo=thermo, params=SimpleNamespace(mass=1.0)))

    np.testing.assert_allclose(hnl_yields_from_solution(fake([0, 0, 0, 0])), [2 * y_eq, 2 * y_eq], rtol=1e-12)
    y_plus = np.array([-0.3, -0.5, 0.1, 0.05]) * y_eq
    n2, n3 = hnl_yields_from_solution(fake(y_plus))
    x = 2 * (np.array([[y_plus[0], y_plus[2] + 1j * y_plus[3]], [y_plus[2] - 1j * y_plus[3], y_plus[1]]])
             + y_eq * np.eye(2))
    for d2, d3 in ((1.0, 3.0), (2.0, 0.5)):
        mean, half_diff = 0.5 * (d2 + d3), 0.5 * (d3 - d2)
        gamma_h = np.array([[mean, -half_diff], [-half_diff, mean]])
        assert np.trace(gamma_h @ x).real == pytest.approx(d2 * n2 + d3 * n3, rel=1e-12)
    with pytest.raises(ValueError, match="outside the kinetic solution"):
        hnl_yields_from_solution(fake([0, 0, 0, 0]), t_in=1.0)
