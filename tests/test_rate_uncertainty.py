"""Rate uncertainties as parameters (issue 33): the nuisance factors stay within [1/F, F] at every temperature, vary
smoothly through the crossover, leave h̄0 alone, are differentiable, and the optimiser and CLI take them."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lta_jax.rates.base import COLUMN_NAMES
from lta_jax.rates.provisional import ProvisionalRates
from lta_jax.rates.uncertainty import (HIGGS_KNOTS, N_NUISANCE, SHAPE, SYMMETRIC_KNOTS, RateUncertainty,
                                       check_uncertainty_factor, describe_factors, log_factors_at)

T = np.geomspace(1.0, 2e4, 400)


def test_factors_stay_within_the_bounds_and_vary_smoothly():
    rng = np.random.default_rng(0)
    bound = math.log(2.0)
    for _ in range(5):
        ell = rng.uniform(-bound, bound, SHAPE)
        values = np.asarray(log_factors_at(jnp.asarray(ell), T))
        assert values.shape == (6, T.size)
        assert np.all(np.abs(values) <= bound * (1 + 1e-12))
        # smooth in ln T: no jump anywhere (the crossover blend is continuous); the largest step between neighbouring
        # temperatures (Δ ln T = 0.025) is bounded by the steepest knot slope times the step, plus the blend's change
        assert np.max(np.abs(np.diff(values, axis=1))) < 0.2
    corners = np.full(SHAPE, bound)
    np.testing.assert_allclose(np.asarray(log_factors_at(jnp.asarray(corners), T)), bound, rtol=1e-12)


def test_knots_hold_in_their_phases_and_h0_is_not_varied():
    ell = np.zeros(SHAPE)
    ell[1, 0] = [0.3, -0.2]  # γ̄_ν− in the symmetric phase: 0.3 at 10³ GeV, −0.2 at 160 GeV
    ell[3, 1] = [0.1, 0.5]   # γ̄_N− in the Higgs phase: 0.1 at 130 GeV, 0.5 at 5 GeV
    at = lambda t: np.asarray(log_factors_at(jnp.asarray(ell), jnp.asarray([t])))[:, 0]  # noqa: E731
    # (v/v0)² is 4e-6 at 1 TeV and 2e-5 at 5 GeV from the other end: the knots hold to that
    assert at(SYMMETRIC_KNOTS[0])[1] == pytest.approx(0.3, abs=1e-5)  # v ≈ 0 far above the crossover
    assert at(1e4)[1] == pytest.approx(0.3, abs=1e-5)                 # constant beyond the outer knot
    assert math.isclose(at(HIGGS_KNOTS[1])[3], 0.5, rel_tol=1e-4)       # v ≈ v0 deep in the Higgs phase
    assert at(1e3)[3] == pytest.approx(0.0, abs=1e-6) and at(5.0)[1] == pytest.approx(0.0, abs=1e-3)
    base = ProvisionalRates()
    varied = RateUncertainty(base, np.full(N_NUISANCE, 0.4))
    for t in (1e3, 130.0, 10.0):
        r0, r1 = base(t, 1.0), varied(t, 1.0)
        for i, name in enumerate(COLUMN_NAMES[:6]):
            assert float(r1[i]) == pytest.approx(float(r0[i]) * math.exp(0.4), rel=1e-12), name
        assert float(r1.h_zero) == float(r0.h_zero)


def test_rates_are_differentiable_in_the_factors():
    base = ProvisionalRates()
    grad = jax.grad(lambda ell: RateUncertainty(base, ell)(50.0, 1.0).gamma_N_minus)(jnp.zeros(N_NUISANCE))
    grad = np.asarray(grad).reshape(SHAPE)
    assert grad[3].sum() == pytest.approx(float(base(50.0, 1.0).gamma_N_minus), rel=1e-12)  # Σ ∂/∂ℓ = value at ℓ = 0
    assert np.all(grad[[0, 1, 2, 4, 5]] == 0)


def test_bad_factor_is_refused_and_factors_are_described():
    for bad in (0.5, math.nan, math.inf, "2"):
        with pytest.raises(ValueError, match="factor F"):
            check_uncertainty_factor(bad)
    described = describe_factors(np.zeros(N_NUISANCE))
    assert set(described) == set(COLUMN_NAMES[:6])
    assert described["h_minus"]["higgs"] == {"T_GeV": list(HIGGS_KNOTS), "factor": [1.0, 1.0]}


@pytest.mark.slow  # two optimisations and a 30-parameter reverse-mode program: ≈ 80 s on 2 cores
def test_optimiser_moves_the_rate_factors_within_their_bounds():
    """With F = 2 the optimiser's best point carries its factors (within [1/2, 2]), is confirmed by a full solve with
    those factors, and is at least as good as the central-rate optimum at the same budget here."""
    from lta_jax.studies import optimise as opt

    setup = dict(mass=1.0, t_end=50.0, steps=100, candidates=2, progress=False, budget=120, seed=1, gradient_cost=6.0)
    central = opt.optimise(ProvisionalRates(), **setup)
    varied = opt.optimise(ProvisionalRates(), rate_uncertainty=2.0, **setup)
    factors = varied.best["rate_factors"]
    values = [f for c in factors.values() for p in c.values() for f in p["factor"]]
    assert len(values) == N_NUISANCE and all(0.5 - 1e-12 <= f <= 2 + 1e-12 for f in values)
    assert any(abs(f - 1) > 1e-3 for f in values)  # the refinement moved them
    assert varied.best["feasible"] and varied.best["full_solve_confirms_band"]
    assert varied.best["objective"] >= central.best["objective"]
    assert varied.settings["rate_uncertainty"] == 2.0 and "rate_factors" not in central.best
