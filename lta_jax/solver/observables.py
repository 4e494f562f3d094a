"""Observables of a solution: lepton and baryon asymmetries, HNL asymmetry, conserved combinations, max |Y_e|.

Sign conventions (docs/physics.md §5): Y_{B−L} = −Σα Y_Δα; Y_L ≡ Σα Y_Δα is the late-time lepton asymmetry (LTA).
"""

from __future__ import annotations

import math

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from lta_jax.model import constants as c
from lta_jax.plasma.electroweak import baryon_equilibrium_fraction, baryon_rate
from lta_jax.kinetics.averaged import KineticSystem, conserved_combinations, expansion_rate
from lta_jax.solver.integrate import SPHALERON_WINDOW, RawSolution, Solution, default_solver


def lepton_asymmetry(states) -> np.ndarray:
    """Y_L = Σα Y_Δα along a trajectory (shape (..., 11) → (...))."""
    return np.asarray(states)[..., 0:3].sum(axis=-1)


def hnl_asymmetry(states) -> np.ndarray:
    """Δ_N = Tr Y− (4.2)."""
    s = np.asarray(states)
    return s[..., 7] + s[..., 8]


def baryon_asymmetry_simple(y_delta_sph) -> jnp.ndarray:
    """Y_B = (28/79) Y_{B−L}(T_sph) = −(28/79) Σα Y_Δα(T_sph) (the paper, 1808.10833; docs/physics.md §5)."""
    return -c.B_OVER_B_MINUS_L * jnp.sum(jnp.asarray(y_delta_sph)[..., 0:3], axis=-1)


@eqx.filter_jit
def baryon_asymmetry_sphaleron(system: KineticSystem, z_window, states_window, rtol: float = 1e-8):
    """Y_B from the sphaleron rate equation (1709.07834; docs/physics.md §5), frozen at the end of the window:

        dY_B/dz = −(Γ_B/H) [Y_B − χ(T) Y_{B−L}],  Y_{B−L} = −Σα Y_Δα(T),

    started at 160 GeV in equilibrium (Y_B = χ Y_{B−L}) and integrated to 110 GeV, with Y_{B−L}(z) interpolated
    linearly on the saved window grid. Pure JAX (differentiable); the equation is very stiff above T_sph (Γ_B/H ~ 1e10
    at 160 GeV), hence Kvaerno5.
    """
    z_window = jnp.asarray(z_window)
    y_bl = -jnp.sum(jnp.asarray(states_window)[:, 0:3], axis=-1)
    scale = jnp.max(jnp.abs(y_bl)) + 1e-300
    u_bl = y_bl / scale  # solve for Y_B/scale so tolerances are relative

    def rhs(z, u, args):
        temperature = system.params.mass * jnp.exp(-z)
        rate = baryon_rate(temperature) / expansion_rate(system, temperature)
        target = baryon_equilibrium_fraction(temperature) * jnp.interp(z, z_window, u_bl)
        return -rate * (u - target)

    t0 = z_window[0]
    u0 = baryon_equilibrium_fraction(system.params.mass * jnp.exp(-t0)) * u_bl[0]
    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(rhs), default_solver(), t0=t0, t1=z_window[-1], dt0=None, y0=u0,
        stepsize_controller=diffrax.PIDController(rtol=rtol, atol=1e-10),
        max_steps=20_000, throw=False,
    )
    return sol.ys[-1] * scale, sol.result


def max_abs_electron_asymmetry(temperatures, states, t_max: float | None = c.T_SPHALERON):
    """(Y_e at the maximum of |Y_Δe|, T at the maximum) over saved points with T ≤ ``t_max`` (docs/plasma.md §3.3;
    ``t_max=None`` for the unrestricted maximum). Returns the signed value, so the sign is kept."""
    t = np.asarray(temperatures)
    y_e = np.asarray(states)[:, 0]
    mask = np.ones_like(t, dtype=bool) if t_max is None else t <= t_max * (1 + 1e-12)
    if not mask.any():
        return math.nan, math.nan
    idx = np.flatnonzero(mask)[np.argmax(np.abs(y_e[mask]))]
    return float(y_e[idx]), float(t[idx])


def soft_max_abs(values, power: float = 64.0):
    """Smooth surrogate of max |v| for differentiation: the p-norm ‖v‖_p = (Σ |v_i|^p)^{1/p}, computed in log space.

    It is ≥ max |v| and ≤ n^{1/p} max |v|; for a smooth peak spread over w saved points it is ≈ w^{1/p} max |v| (w = 50,
    p = 64: +6 %). Unlike a log-sum-exp normalised by the (non-differentiable) maximum, its derivative is the exact
    derivative of the function it returns.
    """
    a = jnp.abs(values)
    positive = a > 0
    log_a = jnp.log(jnp.where(positive, a, 1.0))  # double-where: no NaN gradient from log(0)
    log_a = jnp.where(positive, log_a, -jnp.inf)
    return jnp.exp(jax.nn.logsumexp(power * log_a) / power)


def summary(solution: Solution) -> dict:
    """The standard numbers of a run (JSON-ready). A failed solve gives NaN observables and its diffrax status."""
    raw: RawSolution = solution.raw
    status = solution.status
    t_sph_in = solution.t_end <= c.T_SPHALERON <= solution.t_start
    hi, lo = SPHALERON_WINDOW
    window_in = solution.t_end <= lo and solution.t_start >= hi
    nan3 = [math.nan] * 3
    out = {
        "status": status,
        "T_start": solution.t_start,
        "T_end": solution.t_end,
        "steps": int(raw.num_steps),
        "accepted_steps": int(raw.num_accepted_steps),
        "rejected_steps": int(raw.num_rejected_steps),
    }
    if not solution.succeeded:
        out.update(Y_B=math.nan, Y_B_sphaleron=math.nan, Y_L_sph=math.nan, Y_L_end=math.nan, Y_Delta_end=nan3,
                   Delta_N_end=math.nan, max_abs_Y_e=math.nan, Y_e_at_max=math.nan, T_max_Y_e=math.nan)
        return out
    states = solution.states
    y_end = states[-1]
    out["Y_L_end"] = float(lepton_asymmetry(y_end))
    out["Y_Delta_end"] = [float(v) for v in y_end[0:3]]
    out["Delta_N_end"] = float(hnl_asymmetry(y_end))
    if t_sph_in:
        out["Y_L_sph"] = float(lepton_asymmetry(np.asarray(raw.state_sph)))
        out["Y_B"] = float(baryon_asymmetry_simple(raw.state_sph))
    else:
        out["Y_L_sph"] = math.nan
        out["Y_B"] = math.nan
    if window_in:
        y_b, result = baryon_asymmetry_sphaleron(solution.system, raw.z_window, raw.states_window)
        out["Y_B_sphaleron"] = float(y_b) if bool(result == diffrax.RESULTS.successful) else math.nan
    else:
        out["Y_B_sphaleron"] = math.nan
    y_e, t_e = max_abs_electron_asymmetry(solution.temperatures, states)
    out["max_abs_Y_e"] = abs(y_e) if math.isfinite(y_e) else math.nan
    out["Y_e_at_max"] = y_e
    out["T_max_Y_e"] = t_e
    l_plus, l_minus = conserved_combinations(np.asarray(y_end))
    out["L_plus_end"] = float(l_plus)
    out["L_minus_end"] = float(l_minus)
    return out
