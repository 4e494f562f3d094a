"""SM thermodynamics (docs/plasma.md §1, §6 checklist)."""

import math

import numpy as np
import pytest

from lta_jax.model import constants as c
from lta_jax.plasma.thermodynamics import (equilibrium_yield, free_energy_density_over_t4, free_pressure_over_t4,
                                    in_house_thermodynamics, read_laine_meyer_table, thermodynamics_from_table)


def test_massless_sm_count():
    """28 bosonic + (7/8)·90 fermionic dof = 106.75 from the free-gas integrals (docs/plasma.md §1.4)."""
    p = free_pressure_over_t4(np.array([0.0]), 28, False) + free_pressure_over_t4(np.array([0.0]), 90, True)
    rho = free_energy_density_over_t4(np.array([0.0]), 28, False) + free_energy_density_over_t4(np.array([0.0]), 90, True)
    assert 90 / math.pi**2 * p[0] == pytest.approx(106.75, rel=1e-9)
    assert 30 / math.pi**2 * rho[0] == pytest.approx(106.75, rel=1e-9)


def test_m0_and_hubble_for_constant_g():
    m0 = c.M_PLANCK * math.sqrt(45 / (4 * math.pi**3 * 106.75))
    assert m0 == pytest.approx(7.118e17, rel=1e-3)
    assert 100.0**2 / m0 == pytest.approx(1.405e-14, rel=1e-3)


def test_in_house_model_against_eos15(reference_file):
    """≤ 1.0 % in g_eff and h_eff above 1 GeV (target 1.5 %); looser in the QCD crossover, as the spec expects."""
    ref = read_laine_meyer_table(reference_file("thermo/standardmodel.dat"))
    th = in_house_thermodynamics()
    # Known deficiency: the HotQCD→free-gas blend centred at 0.58 GeV leaves a bump of up to 14 % at ≈0.6 GeV.
    bands = [((1.0, 1e4), 0.010), ((0.3, 1.0), 0.15), ((0.15, 0.3), 0.10), ((1e-4, 0.1), 0.005)]
    for (lo, hi), tol in bands:
        t = np.geomspace(lo, hi, 60)
        for name in ("g_eff", "h_eff"):
            model = np.asarray(getattr(th, name)(t))
            table = np.interp(np.log(t), np.log(ref["T"]), ref[name])
            worst = np.max(np.abs(model / table - 1))
            assert worst < tol, f"{name} deviates by {worst:.3%} in {lo}–{hi} GeV"


def test_low_temperature_values():
    th = in_house_thermodynamics()
    assert float(th.g_eff(0.01)) == pytest.approx(10.76, rel=5e-3)
    assert float(th.h_eff(0.01)) == pytest.approx(10.755, rel=5e-3)
    assert float(th.g_eff(1e-4)) == pytest.approx(4.31, rel=1e-2)
    assert float(th.h_eff(1e-4)) == pytest.approx(4.79, rel=1e-2)


def test_sound_speed_is_consistent_with_h_eff():
    """c_s² = [3 + d ln h/d ln T]⁻¹: compare the tabulated c_s² with a finite difference of the spline."""
    th = in_house_thermodynamics()
    for t in (0.19, 1.0, 20.0, 150.0):
        eps = 1e-3
        dlnh = (math.log(float(th.h_eff(t * math.exp(eps)))) - math.log(float(th.h_eff(t * math.exp(-eps))))) / (2 * eps)
        assert float(th.sound_speed_squared(t)) == pytest.approx(1 / (3 + dlnh), rel=2e-3)
    assert float(th.sound_speed_squared(1e4)) == pytest.approx(1 / 3, rel=1e-3)


def test_equilibrium_yield_massless():
    """Y_eq = 0.2082/h_eff per helicity in the massless limit (docs/plasma.md §1.1)."""
    th = in_house_thermodynamics()
    for t in (50.0, 500.0):
        assert float(equilibrium_yield(th, t, 1e-6)) == pytest.approx(0.2082 / float(th.h_eff(t)), rel=1e-3)
    # Boltzmann suppression for M ≫ T
    assert float(equilibrium_yield(th, 1.0, 20.0)) < 1e-8


def test_table_loader_errors(tmp_path):
    bad = tmp_path / "bad.dat"
    bad.write_text("# header\n1 2 3\n")
    with pytest.raises(ValueError, match="malformed"):
        read_laine_meyer_table(bad)
    with pytest.raises(FileNotFoundError):
        read_laine_meyer_table(tmp_path / "missing.dat")


def test_loaded_table_reproduces_itself(reference_file):
    path = reference_file("thermo/standardmodel.dat")
    th = thermodynamics_from_table(path)
    ref = read_laine_meyer_table(path)
    i = np.searchsorted(ref["T"], 10.0)
    assert float(th.g_eff(ref["T"][i])) == pytest.approx(ref["g_eff"][i], rel=1e-10)
    with pytest.raises(ValueError, match="outside"):
        th.check_range(1e-6, 10.0)
