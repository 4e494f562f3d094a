"""End-to-end validation against the authors' Fortran output (V10) and an independent SciPy Radau solve."""

import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from conftest import FIG19, reference_path
from lta_jax.parameters import ModelParameters, yukawa_bilinears
from lta_jax.rates import TabulatedRates
from lta_jax.solver import SolverOptions, solve
from lta_jax.susceptibility import susceptibility_from_table
from lta_jax.thermodynamics import read_laine_meyer_table, thermodynamics_from_table

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


def test_v10_with_in_house_thermodynamics(fortran, modh_rates):
    """Same run with the package's own thermodynamics and susceptibilities; deviation locked in (target ≤ 5 %).

    Measured: Y_L(131.7 GeV) 0.96 %, Y_L(10 GeV) 2.45 %, worst Y_Δα 1.73 % of its maximum.
    """
    err_sph, err_end, worst = _compare(_run(fortran, modh_rates), fortran)
    print(f"V10 in-house thermo: Y_L(131.7) {err_sph:.2%}, Y_L(10) {err_end:.2%}, worst Y_Δα {worst:.2%}")
    assert err_sph < 0.015 and err_end < 0.03 and worst < 0.025


# ----------------------------------------------------------------------------------------------------------------
# Independent NumPy implementation of the same equations (kinetics.md §2.3–2.4), solved with SciPy Radau.
# ----------------------------------------------------------------------------------------------------------------


def _numpy_system(rates_path, thermo_path, susc_path):
    table = np.loadtxt(rates_path)[::-1]
    ln_t = np.log(table[:, 0])
    lm = read_laine_meyer_table(thermo_path)
    sus = np.loadtxt(susc_path)[::-1]
    b = yukawa_bilinears(PARAMS)
    yp, ym, hh = np.asarray(b.y_plus), np.asarray(b.y_minus), np.asarray(b.hh_dagger)
    mass, dmass = float(PARAMS.mass), float(PARAMS.delta_mass)
    sigma1 = np.array([[0, 1], [1, 0]], dtype=complex)

    def rhs(z, x):
        t = mass * math.exp(-z)
        gnp, gnm, gNp, gNm, hp, hm, h0 = (np.interp(math.log(t), ln_t, table[:, i]) for i in range(1, 8))
        g_eff = np.interp(math.log(t), np.log(lm["T"]), lm["g_eff"])
        hubble = t**2 / (1.22089e19 * math.sqrt(45 / (4 * math.pi**3 * g_eff)))
        cdiag = np.interp(t, sus[:, 0], sus[:, 3])
        doff = np.interp(t, sus[:, 0], sus[:, 4])
        omega = doff + (cdiag - doff) * np.eye(3)
        yd = x[0:3]
        p = np.array([[x[3], x[5] + 1j * x[6]], [x[5] - 1j * x[6], x[4]]])
        m = np.array([[x[7], x[9] + 1j * x[10]], [x[9] - 1j * x[10], x[8]]])
        w = omega @ yd
        ham = dmass * h0 * sigma1 + hp * yp.sum(0) + hm * ym.sum(0)
        gam = gNp * yp.sum(0) + gNm * ym.sum(0)
        dd = np.empty(3)
        src_p = np.zeros((2, 2), complex)
        src_m = np.zeros((2, 2), complex)
        for a in range(3):
            gt_nu = -gNp * yp[a].T + gNm * ym[a].T
            gt_n = -gnp * yp[a] + gnm * ym[a]
            dd[a] = np.real(-(gnp + gnm) * hh[a] * w[a] / 6 + 2j * np.trace(p @ gt_nu.imag) - np.trace(m @ gt_nu.real))
            src_p += gt_n.imag * w[a]
            src_m += gt_n.real * w[a]
        rh, ih, rg, ig = ham.real, ham.imag, gam.real, gam.imag
        dp = (-1j * (rh @ p - p @ rh) + 0.5 * (ih @ m - m @ ih) - 0.5 * (rg @ p + p @ rg)
              - 0.25j * (ig @ m + m @ ig) - 1j / 12 * src_p)
        dm = (2 * (ih @ p - p @ ih) - 1j * (rh @ m - m @ rh) - 1j * (ig @ p + p @ ig) - 0.5 * (rg @ m + m @ rg)
              - src_m / 6)
        out = np.concatenate([dd, [dp[0, 0].real, dp[1, 1].real, dp[0, 1].real, dp[0, 1].imag],
                              [dm[0, 0].real, dm[1, 1].real, dm[0, 1].real, dm[0, 1].imag]])
        return out / hubble

    def jac(z, x):  # the system is linear: the Jacobian is the matrix of the map
        return np.stack([rhs(z, e) for e in np.eye(11)], axis=1)

    return rhs, jac


def test_diffrax_agrees_with_scipy_radau(fortran, modh_rates):
    """≤ 1e-4 relative on Y_L(T_sph) and Y_L(T_end) between diffrax and SciPy Radau (analytic Jacobian)."""
    thermo_path = reference_path("thermo/standardmodel.dat")
    susc_path = reference_path("thermo/susceptibility.dat")
    rhs, jac = _numpy_system(reference_path("nuMSM-fortran/Int_ModH_MN10E-1_kcAve.dat"), thermo_path, susc_path)
    t0, t_end = fortran[0, 0], 10.0
    z0, z1, z_sph = math.log(1 / t0), math.log(1 / t_end), math.log(1 / 131.7)
    atol = np.r_[[1e-22] * 3, [1e-15] * 4, [1e-22] * 4]
    ref = solve_ivp(rhs, (z0, z1), fortran[0, 1:], method="Radau", jac=jac, rtol=1e-10, atol=atol,
                    t_eval=[z_sph, z1])
    assert ref.success, ref.message
    sol = solve(PARAMS, modh_rates, t_start=t0, t_end=t_end, thermo=thermodynamics_from_table(thermo_path),
                susceptibility=susceptibility_from_table(susc_path), y0=fortran[0, 1:],
                solver_options=SolverOptions(rtol=1e-10, atol_density=1e-15, atol_asymmetry=1e-22),
                raise_on_failure=True)
    y_sph, y_end = float(sol.raw.state_sph[:3].sum()), float(sol.states[-1, :3].sum())
    print(f"diffrax vs Radau: Y_L(T_sph) {y_sph:.8e} vs {ref.y[:3, 0].sum():.8e}; "
          f"Y_L(T_end) {y_end:.8e} vs {ref.y[:3, 1].sum():.8e}")
    assert y_sph == pytest.approx(ref.y[:3, 0].sum(), rel=1e-4)
    assert y_end == pytest.approx(ref.y[:3, 1].sum(), rel=1e-4)
