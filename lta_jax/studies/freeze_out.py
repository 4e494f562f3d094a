"""The freeze-out recipe of the paper's §5.3: initial guesses for points that make their asymmetry at HNL freeze-out.

Freeze-out production needs the HNL oscillations to start near the freeze-out temperature T_out, i.e. a tiny physical
mass difference δM(T_out) (4.6). The recipe: for a mass M (and Im ω, δ, η, which fix the size of the rates),

1. find T_out — the Γ_N eigenvalues equal H; of the two freeze-out temperatures take the lower
   (:func:`lta_jax.solver.diagnostics.equilibration_temperatures`);
2. minimise δM(T_out) over (ΔM, Re ω).

Step 2 is done exactly in ΔM: H_N = ΔM h̄0 σ₁ + B with B = h̄+ Σα Y+^α + h̄− Σα Y−^α independent of ΔM (the Yukawas
depend on ΔM only through M ∓ ΔM, a relative change of 10⁻¹¹), so the eigenvalue splitting
Δλ = 2 [((B₁₁ − B₂₂)/2)² + (Re B₁₂ + ΔM h̄0)² + (Im B₁₂)²]^{1/2} is smallest at ΔM* = −Re B₁₂/h̄0, and
δM_min(Re ω) = [((B₁₁ − B₂₂)/2)² + (Im B₁₂)²]^{1/2}/|h̄0| is then minimised over Re ω in a bracket (bounded scalar
search). T_out depends on (ΔM, Re ω) only weakly; the two steps are repeated until it settles.

The result is an initial guess: the paper scans "in the vicinity of these values"; here the guesses are handed to the
optimiser as its first candidates (``lta-jax optimise --start freeze-out``), which then refines them like any other.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from scipy.optimize import minimize_scalar

from lta_jax.kinetics.averaged import KineticSystem, system_rate_matrices
from lta_jax.model.parameters import ModelParameters
from lta_jax.solver.diagnostics import equilibration_temperatures, gamma_n_eigenvalues_over_hubble

#: Temperatures searched for T_out [GeV] (log grid).
T_OUT_GRID = (0.5, 1e3, 240)


class _Recipe(eqx.Module):
    """Rates, plasma and hierarchy; the point enters as an array (one compilation serves every point)."""

    rates: object
    thermo: object
    susceptibility: object
    hierarchy: str = eqx.field(static=True)

    def system(self, point):
        """point = (M, ΔM, Im ω, Re ω, δ, η)."""
        return KineticSystem(ModelParameters(*point, hierarchy=self.hierarchy), self.rates, self.thermo,
                             self.susceptibility)


@eqx.filter_jit
def _gamma_profile(recipe: _Recipe, point, temperatures):
    system = recipe.system(point)
    return jax.vmap(lambda t: gamma_n_eigenvalues_over_hubble(system, t))(temperatures)


@eqx.filter_jit
def _offset_matrix(recipe: _Recipe, point, temperature):
    """(B, h̄0) at T: the ΔM-independent part of H_N and the coefficient of ΔM σ₁."""
    system = recipe.system(point.at[1].set(0.0))
    coeffs = system.rates(temperature, system.params.mass)
    return system_rate_matrices(system, coeffs).hamiltonian, coeffs.h_zero


def _t_out(recipe: _Recipe, point, t_grid=T_OUT_GRID) -> float | None:
    temperatures = np.geomspace(t_grid[1], t_grid[0], int(t_grid[2]))
    ratio = np.asarray(_gamma_profile(recipe, jnp.asarray(point, dtype=float), jnp.asarray(temperatures)))
    return equilibration_temperatures(temperatures, ratio)["T_out"]


def _minimal_splitting(recipe: _Recipe, point, temperature) -> tuple[float, float]:
    b, h0 = (np.asarray(v) for v in _offset_matrix(recipe, jnp.asarray(point, dtype=float), float(temperature)))
    h0 = float(h0)
    rest = math.hypot(0.5 * float(np.real(b[0, 0] - b[1, 1])), float(np.imag(b[0, 1])))
    return -float(np.real(b[0, 1])) / h0, rest / abs(h0)


def _recipe_of(system: KineticSystem) -> tuple[_Recipe, list]:
    p = system.params
    point = [float(v) for v in (p.mass, p.delta_mass, p.im_omega, p.re_omega, p.delta, p.eta)]
    return _Recipe(system.rates, system.thermo, system.susceptibility, p.hierarchy), point


def freeze_out_temperature(system: KineticSystem, t_grid=T_OUT_GRID) -> float | None:
    """T_out [GeV]: the lower of the two Γ_N-eigenvalue freeze-out crossings (None if neither falls below H)."""
    return _t_out(*_recipe_of(system), t_grid)


def minimal_splitting(system: KineticSystem, temperature: float) -> tuple[float, float]:
    """(ΔM*, δM_min) at T for the system's Re ω: the ΔM that minimises δM(T) and the minimum (module docstring)."""
    return _minimal_splitting(*_recipe_of(system), temperature)


def freeze_out_guess(mass: float, im_omega: float, delta: float, eta: float, rates, *, hierarchy: str = "NH",
                     re_omega_bracket=(0.45 * math.pi, 0.55 * math.pi), thermo=None, susceptibility=None,
                     iterations: int = 4) -> dict:
    """The §5.3 recipe for one (M, Im ω, δ, η): T_out and the (ΔM, Re ω) minimising δM(T_out).

    Returns a θ-like dict (M, delta_M, im_omega, re_omega, delta, eta) plus T_out, the minimal δM(T_out), δM(0) of
    the guess and the number of T_out iterations; ``status`` is "no freeze-out" when the Γ_N eigenvalues never fall
    below H in the searched range, or "ΔM* ≤ 0" when the minimum lies outside the physical ΔM > 0."""
    from lta_jax.model.parameters import physical_mass_splitting_vacuum
    from lta_jax.solver.setup import default_models

    thermo, susceptibility = default_models(thermo, susceptibility)
    lo, hi = re_omega_bracket
    if not lo < hi:
        raise ValueError(f"Re ω bracket must be increasing, got {re_omega_bracket!r}")

    recipe = _Recipe(rates, thermo, susceptibility, hierarchy)

    def point(delta_m, re_omega):
        return [mass, delta_m, im_omega, re_omega, delta, eta]

    delta_m, re_omega = 2e-11, 0.5 * (lo + hi)  # δM(0) = 0 needs ΔM ≈ (m_h − m_l)/2 ≈ 2e-11 GeV and Re ω ≈ π/2
    t_out = None
    history = []
    for _ in range(iterations):
        t_new = _t_out(recipe, point(delta_m, re_omega))
        if t_new is None:
            return {"status": "no freeze-out", "M": mass, "im_omega": im_omega, "delta": delta, "eta": eta,
                    "hierarchy": hierarchy}
        best = minimize_scalar(lambda w: _minimal_splitting(recipe, point(delta_m, w), t_new)[1], bounds=(lo, hi),
                               method="bounded", options={"xatol": 1e-9})
        re_omega = float(best.x)
        delta_m = _minimal_splitting(recipe, point(delta_m, re_omega), t_new)[0]
        history.append(t_new)
        if delta_m <= 0:
            return {"status": "ΔM* ≤ 0", "M": mass, "im_omega": im_omega, "delta": delta, "eta": eta,
                    "hierarchy": hierarchy, "T_out": t_new}
        if t_out is not None and abs(t_new / t_out - 1) < 1e-3:
            t_out = t_new
            break
        t_out = t_new
    params = ModelParameters(*point(delta_m, re_omega), hierarchy=hierarchy)
    return {"status": "success", "M": mass, "delta_M": delta_m, "im_omega": im_omega, "re_omega": re_omega,
            "delta": delta, "eta": eta, "hierarchy": hierarchy, "T_out": t_out,
            "delta_M_at_T_out": _minimal_splitting(recipe, point(delta_m, re_omega), t_out)[1],
            "delta_M_vacuum": float(physical_mass_splitting_vacuum(params)),
            "T_out_iterations": history}


def freeze_out_starts(n: int, mass: float, rates, *, hierarchy: str = "NH", box: dict | None = None, seed: int = 0,
                      **kwargs) -> list[dict]:
    """Up to ``n`` freeze-out guesses for the optimiser (its ``extra_starts``): (Im ω, δ, η) from a scrambled Sobol
    sample of ``box`` (default the optimiser's large-LTA box), (ΔM, Re ω) from :func:`freeze_out_guess` with the Re ω
    bracket of the box; guesses that fail or leave the box are dropped."""
    from lta_jax.studies.boxes import LARGE_LTA_BOX, starting_points

    box = LARGE_LTA_BOX if box is None else box
    u = starting_points(n, seed=seed, dim=3)
    (a_lo, a_hi), (d_lo, d_hi), (e_lo, e_hi) = box["im_omega"], box["delta"], box["eta"]
    log_lo, log_hi = box["log10_delta_M"]
    starts = []
    for ui in u:
        guess = freeze_out_guess(mass, a_lo + ui[0] * (a_hi - a_lo), d_lo + ui[1] * (d_hi - d_lo),
                                 e_lo + ui[2] * (e_hi - e_lo), rates, hierarchy=hierarchy,
                                 re_omega_bracket=box["re_omega"], **kwargs)
        if guess["status"] == "success" and log_lo <= math.log10(guess["delta_M"]) <= log_hi:
            starts.append(guess)
    return starts


#: Half-widths of the vicinity box around the recipe's values (log10 ΔM, Re ω [rad]).
VICINITY = {"log10_delta_M": 0.01, "re_omega": 1e-4 * math.pi}


def vicinity_box(starts: list[dict], box: dict) -> dict:
    """``box`` with log10 ΔM and Re ω narrowed to the hull of the recipe's guesses plus :data:`VICINITY` (clipped to the
    original box): freeze-out needs δM(T_out) ≈ 0, a ridge far narrower than the large-LTA box."""
    out = dict(box)
    for key, values in (("log10_delta_M", [math.log10(s["delta_M"]) for s in starts]),
                        ("re_omega", [s["re_omega"] for s in starts])):
        lo, hi = box[key]
        out[key] = (max(lo, min(values) - VICINITY[key]), min(hi, max(values) + VICINITY[key]))
    return out


__all__ = ["vicinity_box", "VICINITY", "freeze_out_temperature", "minimal_splitting", "freeze_out_guess", "freeze_out_starts", "T_OUT_GRID"]
