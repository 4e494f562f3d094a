"""End-to-end validation against the authors' Fortran output (V10) and an independent SciPy Radau solve."""

import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from conftest import FIG19, reference_path
from lta_jax.model.parameters import ModelParameters
from lta_jax.rates.base import TabulatedRates
from lta_jax.solver.integrate import SolverOptions, solve
from lta_jax.plasma.susceptibility import susceptibility_from_table
from lta_jax.plasma.thermodynamics import thermodynamics_from_table
from lta_jax.kinetics.numpy_reference import numpy_kinetic_system

PARAMS = ModelParameters(**FIG19)


@pytest.fixture(scope="module")
def fortran():
    return np.loadtxt(reference_path("nuMSM-fortran/LA_Evo_ModH.dat"))


@pytest.fixture(scope="module")
def modh_rates():
    return TabulatedRates.from_file(reference_path("nuMSM-fortran/Int_ModH_MN10E-1_kcAve.dat"))


def _run(fortran, rates, thermo=None, susceptibility=None):
    # 2000 saved points: the comparison interpolates between them, and 300 points left 8 % interpolation error at
    # the sharp features near 50 GeV (measured; with 2000 points the worst deviation is 1.8 %).
    return solve(PARAMS, rates, t_start=fortran[0, 0], t_end=10.0, thermo=thermo, susceptibility=susceptibility,
                 y0=fortran[0, 1:], solver_options=SolverOptions(n_save=2000), raise_on_failure=True)


def _compare(sol, fortran):
    """(rel. error of Y_L at 131.7 GeV, at 10 GeV, worst Y_Δα error / max_T |Y_Δα| over 996–10 GeV)."""
    t_ref = fortran[::-1, 0]
    y_l_ref = np.interp(np.log(131.7), np.log(t_ref), fortran[::-1, 1:4].sum(1))
    err_sph = abs(float(sol.raw.state_sph[:3].sum()) / y_l_ref - 1)
    err_end = abs(sol.states[-1, :3].sum() / fortran[-1, 1:4].sum() - 1)
    worst = 0.0
    for a in range(3):
        model = np.interp(np.log(t_ref), np.log(sol.temperatures[::-1]), sol.states[::-1, a])
        worst = max(worst, np.max(np.abs(model - fortran[::-1, 1 + a])) / np.max(np.abs(fortran[:, 1 + a])))
    return err_sph, err_end, worst


def test_v10_with_reference_thermodynamics(fortran, modh_rates):
    """V10 acceptance: Y_L within 3 % at 131.7 and 10 GeV, every Y_Δα within 7 % of its max magnitude."""
    thermo = thermodynamics_from_table(reference_path("thermo/standardmodel.dat"))
    susc = susceptibility_from_table(reference_path("thermo/susceptibility.dat"))
    err_sph, err_end, worst = _compare(_run(fortran, modh_rates, thermo, susc), fortran)
    print(f"V10 reference thermo: Y_L(131.7) {err_sph:.2%}, Y_L(10) {err_end:.2%}, worst Y_Δα {worst:.2%}")
    assert err_sph < 0.03 and err_end < 0.03 and worst < 0.07


@pytest.mark.slow  # long physics run (≥ 25 s on 2 cores, 2026-12-01): the bounded slow step of .ci/run
def test_v10_with_in_house_thermodynamics(fortran, modh_rates):
    """Same run with the package's own thermodynamics and susceptibilities; deviation locked in (target ≤ 5 %).

    Measured: Y_L(131.7 GeV) 0.96 %, Y_L(10 GeV) 2.45 %, worst Y_Δα 1.73 % of its maximum.
    """
    err_sph, err_end, worst = _compare(_run(fortran, modh_rates), fortran)
    print(f"V10 in-house thermo: Y_L(131.7) {err_sph:.2%}, Y_L(10) {err_end:.2%}, worst Y_Δα {worst:.2%}")
    assert err_sph < 0.015 and err_end < 0.03 and worst < 0.025


@pytest.mark.slow  # long physics run (≥ 25 s on 2 cores, 2026-12-01): the bounded slow step of .ci/run
def test_diffrax_agrees_with_scipy_radau(fortran, modh_rates):
    """≤ 1e-4 relative on Y_L(T_sph) and Y_L(T_end) between diffrax and SciPy Radau (analytic Jacobian)."""
    thermo_path = reference_path("thermo/standardmodel.dat")
    susc_path = reference_path("thermo/susceptibility.dat")
    rhs, jac = numpy_kinetic_system(PARAMS, reference_path("nuMSM-fortran/Int_ModH_MN10E-1_kcAve.dat"),
                                    thermo_path, susc_path)
    t0, t_end = fortran[0, 0], 10.0
    z0, z1, z_sph = math.log(1 / t0), math.log(1 / t_end), math.log(1 / 131.7)
    atol = np.r_[[1e-22] * 3, [1e-15] * 4, [1e-22] * 4]
    ref = solve_ivp(rhs, (z0, z1), fortran[0, 1:], method="Radau", jac=jac, rtol=1e-10, atol=atol,
                    t_eval=[z_sph, z1])
    assert ref.success, ref.message
    sol = solve(PARAMS, modh_rates, t_start=t0, t_end=t_end, thermo=thermodynamics_from_table(thermo_path),
                susceptibility=susceptibility_from_table(susc_path), y0=fortran[0, 1:],
                solver_options=SolverOptions.kvaerno5(rtol=1e-10, atol_density=1e-15, atol_asymmetry=1e-22,
                                                                atol_hnl_asymmetry=1e-22),
                raise_on_failure=True)
    y_sph, y_end = float(sol.raw.state_sph[:3].sum()), float(sol.states[-1, :3].sum())
    print(f"diffrax vs Radau: Y_L(T_sph) {y_sph:.8e} vs {ref.y[:3, 0].sum():.8e}; "
          f"Y_L(T_end) {y_end:.8e} vs {ref.y[:3, 1].sum():.8e}")
    assert y_sph == pytest.approx(ref.y[:3, 0].sum(), rel=1e-4)
    assert y_end == pytest.approx(ref.y[:3, 1].sum(), rel=1e-4)
