"""Observables of a solution: lepton and baryon asymmetries, HNL asymmetry, conserved combinations, max |Y_e|.

Sign conventions (docs/physics.md §5): Y_{B−L} = −Σα Y_Δα; Y_L ≡ Σα Y_Δα is the late-time lepton asymmetry (LTA).
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from lta_jax.cache import cached_arrays, content_digest
from lta_jax.model import constants as c
from lta_jax.plasma.electroweak import baryon_equilibrium_fraction, baryon_rate
from lta_jax.kinetics.averaged import KineticSystem, conserved_combinations, expansion_rate
from lta_jax.solver.integrate import N_SPHALERON_POINTS, SPHALERON_WINDOW, RawSolution, Solution


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


#: Sub-steps of the sphaleron equation per interval of the saved window grid (120 intervals → 7680 steps, Δz ≈ 5e-5).
#: The error falls as the square of the sub-step: 3e-5 (4), 2e-6 (16), 1e-7 (64) relative to Kvaerno5 at rtol 1e-8
#: (tests/test_variants.py).
SPHALERON_SUBSTEPS = 64


def _relaxation_phi(x):
    """φ(x) = (1 − e^{−x})/x, with φ(0) = 1 (stable for small x)."""
    small = jnp.abs(x) < 1e-8
    safe = jnp.where(small, 1.0, x)
    return jnp.where(small, 1.0 - 0.5 * x, -jnp.expm1(-safe) / safe)


@eqx.filter_jit
def baryon_asymmetry_sphaleron(system: KineticSystem, z_window, states_window,
                               substeps: int = SPHALERON_SUBSTEPS):
    """Y_B from the sphaleron rate equation (1709.07834; docs/physics.md §5), frozen at the end of the window:

        dY_B/dz = −r(z) [Y_B − g(z)],  r = Γ_B/H,  g = χ(T) Y_{B−L},  Y_{B−L} = −Σα Y_Δα(T),

    started at 160 GeV in equilibrium (Y_B = g) and integrated to 110 GeV, with Y_{B−L}(z) interpolated linearly on
    the saved window grid. The equation is linear and scalar, so it is integrated exactly step by step instead of by an
    implicit solver (it is very stiff above T_sph, r ~ 1e10 at 160 GeV): on a sub-grid, with g linear and ∫r dz exact
    for a rate exponential in z inside a step (x = ∫r dz over the step),

        Y_B(b) = g_b + (Y_B(a) − g_a) e^{−x} − (g_b − g_a)(1 − e^{−x})/x,

    an affine map whose composition over all steps is a cumulative sum (no loop, no linear solve; unconditionally
    stable). Pure JAX, differentiable in both modes, vmappable; no solver that could fail (a non-finite input gives
    a non-finite Y_B). Batches use the same map through :func:`sphaleron_kernel` (its weights computed once).
    """
    y_bl = -jnp.sum(jnp.asarray(states_window)[:, 0:3], axis=-1)
    return _sphaleron_map(system, system.params.mass, jnp.asarray(z_window), y_bl, substeps)


def _sphaleron_map(system, mass, z_window, y_bl, substeps: int):
    """The exact sub-stepped solution of :func:`baryon_asymmetry_sphaleron` for Y_{B−L} on the window grid; linear in
    ``y_bl``. ``system`` needs ``thermo`` and ``options`` (for the expansion rate)."""
    fractions = jnp.arange(substeps) / substeps
    z_sub = (z_window[:-1, None] + fractions[None, :] * jnp.diff(z_window)[:, None]).reshape(-1)
    z_sub = jnp.concatenate([z_sub, z_window[-1:]])
    y_sub = (y_bl[:-1, None] + fractions[None, :] * jnp.diff(y_bl)[:, None]).reshape(-1)
    y_sub = jnp.concatenate([y_sub, y_bl[-1:]])
    temperatures = mass * jnp.exp(-z_sub)
    rate = baryon_rate(temperatures) / expansion_rate(system, temperatures)
    target = baryon_equilibrium_fraction(temperatures) * y_sub
    h = jnp.diff(z_sub)
    log_ratio = jnp.log(rate[1:] / rate[:-1])
    # ∫ r dz over a step for r log-linear in z: h (r_b − r_a)/ln(r_b/r_a) = h r_a (e^ℓ − 1)/ℓ with ℓ = ln(r_b/r_a)
    x = h * rate[:-1] * _relaxation_phi(-log_ratio)
    decay = jnp.exp(-x)
    offsets = target[1:] - target[:-1] * decay - (target[1:] - target[:-1]) * _relaxation_phi(x)
    # ∫ r dz from the end of each step to the end of the window, summed from the end: Σx − cumsum(x) lost the small
    # tails to cancellation against Σx ~ 1e6 (results then varied by 3e-8 with the mass's round-off in z).
    remaining = jnp.concatenate([jnp.cumsum(x[::-1])[::-1][1:], jnp.zeros(1, dtype=x.dtype)])
    y_b = target[0] * jnp.exp(-jnp.sum(x)) + jnp.sum(offsets * jnp.exp(-remaining))
    return y_b


class _Expansion(eqx.Module):
    """What :func:`lta_jax.kinetics.averaged.expansion_rate` reads from a system."""

    thermo: Any
    options: Any


class SphaleronKernel(eqx.Module):
    """:func:`baryon_asymmetry_sphaleron` as the linear functional it is: Y_B = Σ_i w_i Y_{B−L}(T_i) on the window's
    saved temperatures T_i = 160 (110/160)^{i/120} GeV, which are the same for every mass and parameter point.

    The weights depend only on the thermodynamics and the expansion-rate option, so a batch computes them once
    (:func:`sphaleron_kernel`) instead of re-evaluating Γ_B/H and χ at the 7681 sub-step temperatures for every point
    (that was 5 of the 9 ms of a 200-step fixed-grid point, M = 1 GeV to 10 GeV, 2-core CPU). Equal to
    :func:`baryon_asymmetry_sphaleron` to round-off (tests/test_variants.py)."""

    weights: Float[Array, " m"]

    def __call__(self, states_window) -> Float[Array, ""]:
        return jnp.dot(self.weights, -jnp.sum(jnp.asarray(states_window)[..., 0:3], axis=-1))


def window_temperatures() -> np.ndarray:
    """The saved temperatures of the sphaleron window [GeV], descending (mass-independent)."""
    hi, lo = SPHALERON_WINDOW
    return hi * (lo / hi) ** (np.arange(N_SPHALERON_POINTS) / (N_SPHALERON_POINTS - 1))


@eqx.filter_jit
def _kernel_weights(expansion: _Expansion, substeps: int):
    z_window = -jnp.log(jnp.asarray(window_temperatures()))  # mass 1: z = ln(1/T)
    return jax.grad(lambda y: _sphaleron_map(expansion, 1.0, z_window, y, substeps))(jnp.zeros(z_window.shape))


_KERNELS: dict = {}


def _stored_weights(thermo, options, substeps: int) -> np.ndarray:
    """The kernel's weights, from the on-disk cache (:func:`lta_jax.cache.cached_arrays`, keyed by the thermodynamics'
    content) when the model is one of the package's classes: tracing and lowering :func:`_kernel_weights` costs
    ≈ 0.25 s of a repeated ``lta-jax solve``."""
    def compute():
        return {"weights": np.asarray(_kernel_weights(_Expansion(thermo, options), substeps))}

    content = content_digest(thermo)
    if content is None:
        return compute()["weights"]
    key = (content, bool(options.sound_speed_factor), substeps)
    return cached_arrays("sphaleron_kernel", key, ("solver/observables.py", "kinetics/averaged.py", "plasma", "model"),
                         compute)["weights"]


def sphaleron_kernel(thermo, options, substeps: int = SPHALERON_SUBSTEPS) -> SphaleronKernel:
    """The :class:`SphaleronKernel` of a thermodynamics model and kinetic options (cached by their content)."""
    leaves = jax.tree_util.tree_leaves(eqx.filter(thermo, eqx.is_array))
    digest = hashlib.blake2b(digest_size=16)
    for leaf in leaves:
        digest.update(np.ascontiguousarray(np.asarray(leaf)).tobytes())
    key = (type(thermo).__qualname__, str(jax.tree_util.tree_structure(eqx.filter(thermo, eqx.is_array))),
           digest.hexdigest(), bool(options.sound_speed_factor), int(substeps))
    kernel = _KERNELS.get(key)
    if kernel is None:
        kernel = SphaleronKernel(jnp.asarray(_stored_weights(thermo, options, int(substeps))))
        if len(_KERNELS) >= 16:
            _KERNELS.pop(next(iter(_KERNELS)))
        _KERNELS[key] = kernel
    return kernel


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


def nan_unless(ok, values):
    """``values`` where the solve succeeded (``ok``), NaN otherwise — as a factor (1 or NaN), not a select: a select
    against a NaN constant transposes to a zero cotangent, so reverse mode would return a zero gradient for a failed
    solve; the factor carries the NaN into derivatives of both modes."""
    return values * jnp.where(ok, 1.0, jnp.nan)


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
        system = solution.system
        y_b = float(sphaleron_kernel(system.thermo, system.options)(raw.states_window))
        out["Y_B_sphaleron"] = y_b if math.isfinite(y_b) else math.nan
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
