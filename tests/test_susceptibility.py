"""Susceptibilities (docs/physics.md §3, §5; V16)."""

import numpy as np
import pytest

from lta_jax.plasma.electroweak import baryon_equilibrium_fraction, baryon_rate, sphaleron_x
from lta_jax.plasma.susceptibility import (OMEGA_HIGGS, OMEGA_SYMMETRIC, _VACUUM_MASS, SPECIES, baryon_fraction,
                                    in_house_susceptibility, omega_from_equilibrium, species_susceptibilities,
                                    susceptibility_from_table)


def _massless_chi():
    return species_susceptibilities(100.0, 0.0)


def test_symmetric_phase_exact_fractions():
    omega = np.asarray(omega_from_equilibrium(_massless_chi(), 0.0, 1.0))
    np.testing.assert_allclose(omega * 237, [[514, 40, 40], [40, 514, 40], [40, 40, 514]], atol=1e-9)
    np.testing.assert_allclose(OMEGA_SYMMETRIC * 237, omega * 237, atol=1e-9)


def test_b_over_b_minus_l_is_28_over_79():
    assert float(baryon_fraction(_massless_chi(), 0.0)) == pytest.approx(28 / 79, rel=1e-12)


@pytest.mark.parametrize("x", [0.25, 1.0, 4.0])
def test_condensate_reproduces_burnier_laine_shaposhnikov(x):
    """B/(B−L) = 4(77 + 27x)/(869 + 333x) (hep-ph/0511246) for massless fermions and condensate x = v²/T²."""
    assert float(baryon_fraction(_massless_chi(), x)) == pytest.approx(4 * (77 + 27 * x) / (869 + 333 * x), rel=1e-12)


def test_higgs_phase_limit_158_over_69():
    """Sphalerons off, W/Z/h/t decoupled, all other species massless, large condensate → (1/69)[[158, 20, 20], …]."""
    heavy = {"uL2", "uR2", "phi+", "phi0", "W+"}
    chi = np.asarray(_massless_chi()).copy()
    for i, s in enumerate(SPECIES):
        if s[0] in heavy:
            chi[i] = 0.0
    omega = np.asarray(omega_from_equilibrium(chi, 1e12, 0.0))
    np.testing.assert_allclose(omega * 69, [[158, 20, 20], [20, 158, 20], [20, 20, 158]], atol=1e-3)
    np.testing.assert_allclose(OMEGA_HIGGS * 69, omega * 69, atol=1e-3)


def test_in_house_model_against_reference_table(reference_file):
    """Deviation of the diagonal c from reference/thermo/susceptibility.dat: ≤ 0.6 % except at the sphaleron
    step (129–130 GeV), where the switch positions differ by ≲ 1 GeV."""
    table = np.loadtxt(reference_file("thermo/susceptibility.dat"))
    model = in_house_susceptibility()
    worst = 0.0
    for row in table:
        t = row[0]
        if 128.5 <= t <= 131.0:
            continue
        omega = np.asarray(model(float(t)))
        worst = max(worst, abs(omega[0, 0] / row[3] - 1), abs(omega[0, 1] - row[4]) / row[3])
        assert omega[0, 0] - omega[0, 1] == pytest.approx(2.0, abs=2e-3)  # c − d = 2 while leptons are light
    assert worst < 0.006, f"max deviation {worst:.3%}"


def test_tabulated_susceptibility(reference_file):
    model = susceptibility_from_table(reference_file("thermo/susceptibility.dat"))
    omega = np.asarray(model(300.0))
    np.testing.assert_allclose(omega * 237, [[514, 40, 40], [40, 514, 40], [40, 40, 514]], rtol=1e-7)
    np.testing.assert_allclose(np.asarray(model(1000.0)), omega)  # symmetric phase continued above the table
    with pytest.raises(ValueError, match="below"):
        model.check_range(1.0, 100.0)


def test_sphaleron_rate_and_fraction():
    """V17: Γ_B(131.7 GeV) ≈ H (freeze-out definition); χ → 28/79 at high T."""
    from lta_jax.plasma.thermodynamics import in_house_thermodynamics

    th = in_house_thermodynamics()
    ratio = float(baryon_rate(131.7) / th.hubble_rate(131.7))
    assert 0.7 < ratio < 1.8
    assert float(baryon_equilibrium_fraction(1e4)) == pytest.approx(28 / 79, rel=1e-3)
    assert float(sphaleron_x(20.0)) > 100


def test_vacuum_masses_vector_is_complete():
    assert len(_VACUUM_MASS) == len(SPECIES)
