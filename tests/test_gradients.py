"""Derivatives through the diffrax solve vs central finite differences (issue 4; rates: the provisional model, smooth
in T and M, so these tests need no reference data)."""

import math

import numpy as np
import pytest

from lta_jax.solver.gradients import (OBSERVABLE_NAMES, PARAMETER_NAMES, central_differences, make_observable_map,
                               observables_and_jacobian, parameters_to_vector)
from lta_jax.model.parameters import ModelParameters
from lta_jax.rates.provisional import ProvisionalRates
from lta_jax.solver.integrate import SolverOptions

TIGHT = SolverOptions.kvaerno5(rtol=1e-10, atol_density=1e-12, atol_asymmetry=1e-20, atol_hnl_asymmetry=1e-20, n_save=200)
KW = dict(t_start=1e3, t_end=20.0, solver_options=TIGHT)
#: The default derivative path: Magnus4 through a node grid that contains T_sph and T_end (lta_jax.solver.gradients).
NODES = dict(t_start=1e3, t_end=20.0, solver_options=SolverOptions.fixed_grid(400))
# FD steps: log10 ΔM needs a small step at strong washout (h = 1e-4 left a 9e-4 truncation error, h = 3e-6: 8e-7);
# δ at the IH point needs a larger one (h = 1e-5: 1.4e-4 solver noise in ∂Y_L/∂δ; h = 3e-5 and 1e-4 agree with AD to
# 5e-6).
STEPS = [1e-5, 3e-6, 1e-5, 1e-5, 3e-5, 1e-5]

# (parameters, T_end): the strong-washout and IH points stop at 50 GeV to bound the test time (a strong-washout
# Jacobian to 20 GeV at rtol 1e-10 took 130 s).
POINTS = {
    "NH weak washout (Fig. 18)": (ModelParameters(1.0, 1.26e-11, -0.14, 0.52 * math.pi, 1.30 * math.pi, 1.02 * math.pi),
                                  20.0),
    "NH strong washout": (ModelParameters(2.0, 1e-10, 1.0, 0.3 * math.pi, 0.7 * math.pi, 0.2 * math.pi), 50.0),
    "IH": (ModelParameters(1.5, 1e-11, 0.5, 0.25 * math.pi, math.pi, 0.5 * math.pi, hierarchy="IH"), 50.0),
}


def _check(values, jac, fd, observables=range(5), rel=1e-4):
    """Every Jacobian entry agrees with FD to `rel` of the largest entry of its row (entries below 1 % of the row's
    largest are compared on that 1 % scale, since a relative error of an almost-vanishing derivative is meaningless)."""
    for i in observables:
        scale = np.max(np.abs(jac[i]))
        assert scale > 0, OBSERVABLE_NAMES[i]
        for j in range(6):
            err = abs(jac[i, j] - fd[i, j])
            assert err <= rel * max(abs(jac[i, j]), 1e-2 * scale), (
                f"∂{OBSERVABLE_NAMES[i]}/∂{PARAMETER_NAMES[j]}: AD {jac[i, j]:.8e} vs FD {fd[i, j]:.8e}")


# Through the implicit Kvaerno5 reference at tight tolerances: 1–1.5 min a point on 2 cores, in the `-m slow` step.
@pytest.mark.slow
@pytest.mark.parametrize("name", list(POINTS))
def test_forward_mode_matches_finite_differences(name):
    params, t_end = POINTS[name]
    kw = dict(KW, t_end=t_end)
    values, jac = observables_and_jacobian(params, ProvisionalRates(), mode="forward", **kw)
    assert np.all(np.isfinite(values)) and np.all(np.isfinite(jac))
    fd = central_differences(make_observable_map(params, ProvisionalRates(), **kw), parameters_to_vector(params), STEPS)
    _check(values, jac, fd)


@pytest.mark.slow  # > 5 min on 2 cores at the TIGHT Kvaerno5 tolerances (measured 2026-12-01): the bounded slow step
def test_reverse_mode_equals_forward_mode():
    params = POINTS["NH weak washout (Fig. 18)"][0]
    v_f, j_f = observables_and_jacobian(params, ProvisionalRates(), mode="forward", **KW)
    v_r, j_r = observables_and_jacobian(params, ProvisionalRates(), mode="reverse", **KW)
    np.testing.assert_allclose(v_r, v_f, rtol=1e-12)
    np.testing.assert_allclose(j_r, j_f, rtol=1e-8, atol=1e-8 * np.max(np.abs(j_f), axis=1, keepdims=True).max())


@pytest.mark.parametrize("name", ["NH weak washout (Fig. 18)", pytest.param("IH", marks=pytest.mark.slow)])
def test_magnus_node_path_matches_finite_differences(name):
    """The default derivative path (Magnus4 on a node grid, rate table with ∂/∂M slopes) against central differences
    of the same map, all six observables (incl. the soft max of |Y_e|) and all six parameters."""
    params = POINTS[name][0]
    kw = dict(NODES, t_end=POINTS[name][1])
    values, jac = observables_and_jacobian(params, ProvisionalRates(), mode="forward", **kw)
    assert np.all(np.isfinite(values)) and np.all(np.isfinite(jac))
    fd = central_differences(make_observable_map(params, ProvisionalRates(), **kw), parameters_to_vector(params), STEPS)
    _check(values, jac, fd, observables=range(6))


@pytest.mark.slow  # the tight Kvaerno5 solve: ≈40 s on 2 cores
def test_magnus_node_values_agree_with_kvaerno5():
    """The node path's observables (400 steps) agree with the tight implicit reference: Y_B, Y_L and Y_Δα to 1e-4;
    the soft max samples |Y_e| on other points (nodes instead of the saved grid), so 2 %."""
    params = POINTS["NH weak washout (Fig. 18)"][0]
    fn_nodes = make_observable_map(params, ProvisionalRates(), **NODES)
    fn_tight = make_observable_map(params, ProvisionalRates(), **KW)
    theta = parameters_to_vector(params)
    nodes, tight = np.asarray(fn_nodes(theta)), np.asarray(fn_tight(theta))
    np.testing.assert_allclose(nodes[:5], tight[:5], rtol=1e-4)
    np.testing.assert_allclose(nodes[5], tight[5], rtol=0.02)


def test_default_derivatives_use_the_node_path():
    fn = make_observable_map(POINTS["IH"][0], ProvisionalRates(), t_start=1e3, t_end=20.0)
    assert fn._on_nodes() and fn.node_split()[0] + fn.node_split()[1] == fn.solver_options.fixed_steps


def test_cp_conserving_point_has_zero_asymmetry_but_nonzero_derivative():
    """At δ = η = Im ω = 0, Re ω = π/4 the Yukawas are i × real (no CP violation) and every asymmetry vanishes, but
    ∂Y_L/∂δ does not: the derivative is the only non-zero quantity, and it agrees with a finite difference.
    (At ω = 0 each HNL couples to one light state and ∂/∂δ vanishes too.)"""
    params = ModelParameters(1.0, 1e-11, 0.0, 0.25 * math.pi, 0.0, 0.0)
    kw = NODES  # same static set-up as the Fig.-18 test above: its compiled functions are reused
    values, jac = observables_and_jacobian(params, ProvisionalRates(), mode="forward", **kw)
    assert np.max(np.abs(values[:5])) < 1e-17  # round-off of the exponentials (physical asymmetries ≳ 1e-12)
    d_delta = jac[1, PARAMETER_NAMES.index("delta")]
    assert abs(d_delta) > 1e-12
    fd = central_differences(make_observable_map(params, ProvisionalRates(), **kw), parameters_to_vector(params),
                             [0, 0, 0, 0, 1e-5, 0])
    assert fd[1, 4] == pytest.approx(d_delta, rel=1e-4)


def test_bad_mode_and_inputs():
    with pytest.raises(ValueError, match="mode"):
        make_observable_map(POINTS["IH"][0], ProvisionalRates(), mode="sideways")
    with pytest.raises(ValueError, match="ΔM"):
        make_observable_map(ModelParameters(1.0, 0.0), ProvisionalRates())


@pytest.mark.slow
def test_jacobian_finite_from_tens_of_tev():
    """A solve that starts at 50 TeV (where the default T0 = max(10³ GeV, 10 T_osc) lands for M ΔM ≳ 1e-7 GeV²): until
    v(T) was computed without cancellation it was exactly 0 above ~25 TeV, ∂v/∂T was NaN and the forward-mode
    Jacobian stopped with "a linear solver received non-finite input". ≈2 min on 2 cores (slow step)."""
    params = ModelParameters(10.0, 1e-8, 1.0, 0.3, 1.0, 0.5)
    values, jac = observables_and_jacobian(params, ProvisionalRates(), mode="forward", t_start=5e4, t_end=120.0,
                                           solver_options=SolverOptions(rtol=1e-6, atol_density=1e-9,
                                                                        atol_asymmetry=1e-16))
    assert np.all(np.isfinite(values)) and np.all(np.isfinite(jac))
    assert np.max(np.abs(jac[0])) > 0
