"""Casas–Ibarra parametrisation (docs/physics.md §1; validation targets V1–V4)."""

import math

import numpy as np
import pytest

from lta_jax.model.parameters import (ModelParameters, flavour_mixings, h_basis_yukawas, heavy_light_masses,
                                light_masses, majorana_masses, parse_angle, physical_mass_splitting_vacuum,
                                pmns_matrix, total_mixing, validate_parameters, yukawa_bilinears, yukawas)

SET_41 = ModelParameters(2.0, 0.983e-11, -2.754e-3, 0.551 * math.pi, 0.993 * math.pi, 1.479 * math.pi)
IH_POINT = ModelParameters(1.0, 1e-11, 0.5, math.pi / 4, math.pi, math.pi / 2, hierarchy="IH")


def test_yukawas_check_values_set_41():
    expected = np.array([[-2.263082e-09 + 8.585773e-09j, 1.284355e-08 + 5.168817e-10j],
                         [-2.353187e-09 - 4.091616e-08j, 1.457874e-08 - 7.640411e-09j],
                         [2.120426e-09 - 3.824652e-08j, -1.313547e-08 - 5.327212e-09j]])
    np.testing.assert_allclose(np.asarray(yukawas(SET_41)), expected, rtol=2e-6)
    assert float(total_mixing(SET_41)) == pytest.approx(2.927159e-11, rel=1e-6)
    np.testing.assert_allclose(np.asarray(flavour_mixings(SET_41)), [1.849422e-12, 1.478095e-11, 1.264121e-11],
                               rtol=1e-6)
    assert float(physical_mass_splitting_vacuum(SET_41)) == pytest.approx(1.175435e-11, rel=1e-6)


def test_ih_and_other_check_values():
    assert float(total_mixing(IH_POINT)) == pytest.approx(1.520654e-10, rel=1e-6)
    np.testing.assert_allclose(np.asarray(flavour_mixings(IH_POINT)), [1.263283e-10, 1.519110e-11, 1.054595e-11],
                               rtol=1e-6)
    assert float(physical_mass_splitting_vacuum(IH_POINT)) == pytest.approx(1.000705e-11, rel=1e-6)
    fig11 = ModelParameters(10.0, 2.06e-11, 0.2, 0.500001 * math.pi, 3.11 * math.pi, 0.68 * math.pi)
    assert float(total_mixing(fig11)) == pytest.approx(6.328845e-12, rel=1e-6)
    assert float(physical_mass_splitting_vacuum(fig11)) == pytest.approx(6.88195e-14, rel=1e-5)
    table4 = ModelParameters(1.0, 5.3782e-9, 5.2607, 0.83214 * math.pi, 1.2708 * math.pi, 1.7938 * math.pi)
    assert float(total_mixing(table4)) == pytest.approx(1.085990e-06, rel=1e-5)


@pytest.mark.parametrize("params", [SET_41, IH_POINT])
def test_seesaw_reconstruction(params):
    """−v0² F M⁻¹ Fᵀ = U diag(m) Uᵀ (docs/physics.md §1.4)."""
    f = np.asarray(yukawas(params))
    m_heavy = np.asarray(majorana_masses(params))
    lhs = -params.v0**2 * f @ np.diag(1 / m_heavy) @ f.T
    u = np.asarray(pmns_matrix(params))
    rhs = u @ np.diag(light_masses(params.hierarchy, params.neutrino_data)) @ u.T
    # float64 round-off on entries ~3e-11 GeV is ~1e-26 GeV: require agreement to 1e-14 of the largest entry.
    assert np.max(np.abs(lhs - rhs)) < 1e-14 * np.max(np.abs(rhs))


@pytest.mark.parametrize("params", [SET_41, IH_POINT])
def test_identities_a2_a3(params):
    """(A.2): Σ|h_α2|², Σ|h_α3|², Σ h_α2 h*_α3 in closed form; (A.3): m_h ± m_l."""
    h = np.asarray(h_basis_yukawas(params))
    m_h, m_l = heavy_light_masses(params.hierarchy, params.neutrino_data)
    mass, im, re = float(params.mass), float(params.im_omega), float(params.re_omega)
    v2 = params.v0**2
    assert np.sum(abs(h[:, 0]) ** 2) == pytest.approx((m_h + m_l) * mass * math.exp(-2 * im) / (2 * v2), rel=1e-8)
    assert np.sum(abs(h[:, 1]) ** 2) == pytest.approx((m_h + m_l) * mass * math.exp(2 * im) / (2 * v2), rel=1e-8)
    off = np.sum(h[:, 0] * np.conj(h[:, 1]))
    expected = (m_h - m_l) * mass * np.exp(2j * re) / (2 * v2)
    # ΔM ≪ M corrections are O(ΔM/M); the identity is exact up to them.
    assert abs(off - expected) < 1e-8 * abs(expected)
    ref = {"NH": (5.854e-11, 4.134e-11), "IH": (9.854e-11, 7.51e-13)}[params.hierarchy]
    assert m_h + m_l == pytest.approx(ref[0], rel=1e-3)
    assert m_h - m_l == pytest.approx(ref[1], rel=2e-3)


def test_total_mixing_closed_form():
    """U² = (m_h + m_l) cosh(2 Im ω)/M (corrected (5.2), docs/physics.md §1.5)."""
    for im in (-1.0, 0.0, 0.3, 2.0):
        p = ModelParameters(3.0, 1e-12, im, 0.3, 1.0, 2.0)
        m_h, m_l = heavy_light_masses("NH", p.neutrino_data)
        assert float(total_mixing(p)) == pytest.approx((m_h + m_l) * math.cosh(2 * im) / 3.0, rel=1e-9)


@pytest.mark.parametrize("params", [SET_41, IH_POINT])
def test_delta_m_vacuum_equals_exact_seesaw(params):
    """δM(0) of (4.8) vs the splitting of the heavy eigenvalues of the full 5×5 mass matrix (docs/physics.md §7.1)."""
    f = np.asarray(yukawas(params)).astype(np.clongdouble)
    md = params.v0 * f
    m_heavy = np.asarray(majorana_masses(params))
    full = np.zeros((5, 5), dtype=complex)
    full[:3, 3:] = md
    full[3:, :3] = md.T
    full[3:, 3:] = np.diag(m_heavy)
    # Second-order seesaw for the heavy block: M_eff = M + (1/2){M⁻¹, m_Dᵀ m_D*}-type corrections; use the exact
    # singular values of the 5×5 matrix instead (they are the physical masses).
    sv = np.sort(np.linalg.svd(full.astype(complex), compute_uv=False))[-2:]
    half_split = (sv[1] - sv[0]) / 2
    assert half_split == pytest.approx(float(physical_mass_splitting_vacuum(params)), rel=2e-4)


def test_bilinears_hermitian_and_consistent():
    b = yukawa_bilinears(SET_41)
    for arr in (np.asarray(b.y_plus), np.asarray(b.y_minus)):
        np.testing.assert_allclose(arr, np.conj(np.swapaxes(arr, -1, -2)), atol=0)
    np.testing.assert_allclose(np.trace(np.asarray(b.y_plus), axis1=1, axis2=2).real, np.asarray(b.hh_dagger))


def test_parse_angle():
    assert parse_angle("1.625pi") == pytest.approx(1.625 * math.pi)
    assert parse_angle("pi/2") == pytest.approx(math.pi / 2)
    assert parse_angle("-pi") == pytest.approx(-math.pi)
    assert parse_angle("0.3") == 0.3
    assert parse_angle(1.5) == 1.5
    for bad in ("abc", "2xpi", "pi/x"):
        with pytest.raises(ValueError):
            parse_angle(bad)


@pytest.mark.parametrize("kwargs, match", [
    (dict(mass=float("nan"), delta_mass=1e-11), "finite"),
    (dict(mass=-1.0, delta_mass=1e-11), "positive"),
    (dict(mass=1.0, delta_mass=0.0), "ΔM"),
    (dict(mass=1.0, delta_mass=-1e-11), "ΔM"),
    (dict(mass=1.0, delta_mass=2.0), "smaller"),
    (dict(mass=1.0, delta_mass=1e-11, im_omega=float("inf")), "finite"),
])
def test_invalid_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        validate_parameters(ModelParameters(**kwargs))


def test_unknown_hierarchy():
    with pytest.raises(ValueError, match="hierarchy"):
        ModelParameters(1.0, 1e-11, hierarchy="XH")
