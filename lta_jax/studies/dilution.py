"""Entropy dilution by HNL decays after the asymmetries froze (paper §3, Figs. 2, 3, 8; docs/dilution.md).

Once the lepton asymmetry is frozen (T ≈ 10 GeV), the two HNLs are still abundant; when they decay, their energy
heats the plasma and every frozen yield Y_X = n_X/s is diluted by the entropy injected. This module solves that
late-time problem from T_in (default 5 GeV) to T_fin (default 0.1 MeV) with the vacuum decay rates (3.1):

    dn_I/dt + 3H n_I = −Γ_I ⟨M/E⟩_T (n_I − n_I^eq(T))                                  (HNL number, both helicities)
    d(s a³)/dt = a³ Σ_I M Γ_I (n_I − n_I^eq)/T                                         (energy of the decays → plasma)
    H² = (8π/3 M_Pl²) [ρ_SM(T) + Σ_I n_I ⟨E⟩_T]                                       (Friedmann, HNLs included)

Each decay deposits its full energy E at the rate Γ M/E per particle, so the heat per volume and time is
Q_I = M Γ_I (n_I − n_eq) exactly, whatever the momentum shape; ⟨M/E⟩ and ⟨E⟩ are equilibrium (Fermi–Dirac) averages
at the plasma temperature (the paper's ansatz ρ_N ∝ ρ_eq). The dilution factor is D(T) = (s a³)(T)/(s a³)(T_in) and
D_fin = D(T_fin); frozen yields today are Y(T_in)/D_fin.

Variables: the independent variable is u = ln(T_in/T) (so the end point is known in advance); the state is
(ln S, N_2, N_3) with S = s a³ and N_I = n_I a³, normalised so that S(T_in) = 1 (then N_I = n_I/s at T_in). The scale
factor follows from S: a³ = S/s(T). With q = d ln S/d ln a (entropy injection per e-fold), ln S = ln s + 3 ln a gives
d ln a/du = (1/c_s²)/(3 − q). Pure JAX, solved by Kvaerno5 (mildly stiff: equilibrium tracking while Γ ≫ H),
vmappable and differentiable in all inputs.
"""

from __future__ import annotations

import math

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from lta_jax.model import constants as c
from lta_jax.model.parameters import ModelParameters, mixing_angles
from lta_jax.plasma.thermodynamics import Thermodynamics, in_house_thermodynamics
from lta_jax.rates.decays import hnl_widths
from lta_jax.solver.methods import pid_controller

#: Default start and end of the late-time problem [GeV] (paper §3: 5 GeV → 0.1 MeV).
T_IN, T_FIN = 5.0, 1e-4
#: ħ [GeV s]: lifetimes τ = ħ/Γ.
HBAR_GEV_S = 6.582119569e-25
#: BBN bound on the HNL lifetime for M > m_π (Boyarsky, Ovchynnikov, Ruchayskiy, Syvolap, arXiv:2008.00749) [s].
LIFETIME_LIMIT_S = 0.02
#: Y_L needed for all of the dark matter by resonant production, paper (5.1) (M_DM = 7.1 keV); presets of docs/dilution.md.
REQUIRED_LTA = {"paper": 66e-6, "equilibrium-c": 3 * 11.60e-6 * 2.09, "nonequilibrium-d": 3 * 17.80e-6 * 2.09}

_U, _W = np.polynomial.legendre.leggauss(64)


def thermal_averages(mass, temperature):
    """(n_eq/T³ for both helicities, ⟨M/E⟩, ⟨E⟩/T) of a Fermi–Dirac HNL at temperature T (docs/dilution.md).

    Quadrature in y = k/T on [0, 30 + 12√(M/T)] (the non-relativistic width grows like √(M/T)), with the integrand
    written as y² e^{x−ε}/(1 + e^{−ε}) (x = M/T, ε = E/T) so that nothing overflows for x up to 10⁵; n_eq carries the
    factor e^{−x}."""
    x = jnp.asarray(mass / temperature, dtype=float)
    y_max = 30.0 + 12.0 * jnp.sqrt(x)
    y = 0.5 * y_max * (jnp.asarray(_U) + 1.0)
    w = 0.5 * y_max * jnp.asarray(_W)
    eps = jnp.sqrt(y**2 + x**2)
    weight = w * y**2 * jnp.exp(x - eps) / (1.0 + jnp.exp(-eps))
    norm = jnp.sum(weight)
    n_over_t3 = 2 * jnp.exp(-x) * norm / (2 * math.pi**2)
    return n_over_t3, jnp.sum(weight * x / eps) / norm, jnp.sum(weight * eps) / norm


class DilutionProblem(eqx.Module):
    """The late-time HNL problem: mass M [GeV], rest-frame total widths Γ_I [GeV] (shape (2,)), thermodynamics."""

    mass: Float[Array, ""]
    widths: Float[Array, "2"]
    thermo: Thermodynamics

    def temperature(self, u, t_in):
        return t_in * jnp.exp(-u)

    def rhs(self, u, state, t_in):
        """d(ln S, N_2, N_3)/du (module docstring)."""
        ln_s, n = state[0], state[1:]
        t = self.temperature(u, t_in)
        s_plasma = self.thermo.entropy_density(t)
        a3 = jnp.exp(ln_s) / s_plasma
        n_eq_t3, m_over_e, e_over_t = thermal_averages(self.mass, t)
        n_eq = n_eq_t3 * t**3 * a3  # comoving equilibrium number
        rho = math.pi**2 / 30 * self.thermo.g_eff(t) * t**4 + jnp.sum(n) / a3 * e_over_t * t
        hubble = jnp.sqrt(8 * math.pi / 3 * rho) / c.M_PLANCK
        excess = n - n_eq
        q = jnp.sum(self.mass * self.widths * excess) / (t * jnp.exp(ln_s) * hubble)  # d ln S / d ln a
        # q → 3 would mean the injection heats the plasma as fast as expansion cools it (T stops falling): u = ln T
        # is then no longer a time variable; report it as a failed solve (NaN) instead of integrating backwards.
        dx_du = jnp.where(q < 3.0, 1.0 / (self.thermo.sound_speed_squared(t) * (3.0 - q)), jnp.nan)
        dn_du = -self.widths * m_over_e * excess / hubble * dx_du
        return jnp.concatenate([(q * dx_du)[None], dn_du])


class DilutionResult(eqx.Module):
    """Trajectory and summary of a dilution solve (arrays; batchable)."""

    temperatures: Float[Array, "n"]
    dilution: Float[Array, "n"]  # D(T)
    hnl_yields: Float[Array, "n 2"]  # n_I/s
    equilibrium_yield: Float[Array, "n"]  # n_eq/s (both helicities)
    scale_factor_cubed: Float[Array, "n"]  # a³/a_in³
    d_fin: Float[Array, ""]
    lifetimes_s: Float[Array, "2"]
    result: diffrax.RESULTS
    steps: Array


def solve_dilution_arrays(mass, widths, thermo: Thermodynamics, t_in=T_IN, t_fin=T_FIN, initial_yields=None,
                          n_save: int = 400, rtol: float = 1e-7, max_steps: int = 20_000,
                          adjoint=None) -> DilutionResult:
    """Pure, traceable late-time solve. ``initial_yields``: n_I/s at T_in (default: equilibrium, both helicities);
    ``adjoint``: a diffrax adjoint (``diffrax.ForwardMode()`` for forward-mode derivatives; default reverse mode)."""
    mass = jnp.asarray(mass, dtype=float)
    widths = jnp.asarray(widths, dtype=float)
    t_in = jnp.asarray(t_in, dtype=float)
    t_fin = jnp.asarray(t_fin, dtype=float)
    problem = DilutionProblem(mass, widths, thermo)
    n_eq_t3, _, _ = thermal_averages(mass, t_in)
    y_eq_in = n_eq_t3 * t_in**3 / thermo.entropy_density(t_in)
    y0 = jnp.full(2, y_eq_in) if initial_yields is None else jnp.asarray(initial_yields, dtype=float)
    u1 = jnp.log(t_in / t_fin)
    us = jnp.linspace(0.0, u1, n_save)
    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(lambda u, y, a: problem.rhs(u, y, a)), diffrax.Kvaerno5(), t0=0.0, t1=u1, dt0=u1 / 1000,
        y0=jnp.concatenate([jnp.zeros(1), y0]), args=t_in, saveat=diffrax.SaveAt(ts=us),
        stepsize_controller=pid_controller(rtol, jnp.array([1e-10, 1e-14, 1e-14]), pcoeff=0.0, icoeff=1.0),
        max_steps=max_steps, throw=False, adjoint=diffrax.RecursiveCheckpointAdjoint() if adjoint is None else adjoint)
    temperatures = t_in * jnp.exp(-us)
    big_s = jnp.exp(sol.ys[:, 0])
    a3 = big_s / thermo.entropy_density(temperatures) * thermo.entropy_density(t_in)
    n_eq = jax.vmap(lambda t: thermal_averages(mass, t)[0])(temperatures) * temperatures**3
    return DilutionResult(
        temperatures=temperatures, dilution=big_s, hnl_yields=sol.ys[:, 1:] / big_s[:, None],
        equilibrium_yield=n_eq / thermo.entropy_density(temperatures), scale_factor_cubed=a3, d_fin=big_s[-1],
        lifetimes_s=HBAR_GEV_S / widths, result=sol.result, steps=sol.stats["num_steps"])


def hnl_decay_widths(params: ModelParameters) -> Float[Array, "2"]:
    """Rest-frame total widths Γ_I [GeV] of the two HNLs from their mass-basis mixings |Θ_αI|² (paper (3.1))."""
    return hnl_widths(params.mass, jnp.abs(mixing_angles(params)) ** 2)


_solve_jit = eqx.filter_jit(solve_dilution_arrays)


def dilution(params: ModelParameters, *, thermo: Thermodynamics | None = None, t_in: float = T_IN,
             t_fin: float = T_FIN, initial_yields=None, lifetime_limit_s: float = LIFETIME_LIMIT_S,
             n_save: int = 400) -> dict:
    """Solve the late-time problem for one parameter point; JSON-ready summary plus the trajectory.

    Returns D_fin, the lifetimes, ``lifetime_exceeds_limit`` (a lifetime above ``lifetime_limit_s``, default the
    0.02 s BBN bound), the diffrax status and the arrays T, D(T), n_I/s, n_eq/s. Validates inputs first."""
    from lta_jax.model.parameters import validate_parameters

    validate_parameters(params)
    thermo = in_house_thermodynamics() if thermo is None else thermo
    if not (0 < t_fin < t_in):
        raise ValueError(f"need 0 < T_fin < T_in, got T_in = {t_in!r}, T_fin = {t_fin!r}")
    thermo.check_range(t_fin, t_in)
    if not (lifetime_limit_s > 0):
        raise ValueError(f"lifetime limit must be positive, got {lifetime_limit_s!r}")
    if initial_yields is not None:
        initial_yields = np.asarray(initial_yields, dtype=float)
        if initial_yields.shape != (2,) or np.any(initial_yields < 0) or not np.all(np.isfinite(initial_yields)):
            raise ValueError("initial_yields must be two non-negative numbers (n_I/s at T_in)")
    res = _solve_jit(params.mass, hnl_decay_widths(params), thermo, t_in, t_fin, initial_yields, n_save)
    ok = bool(res.result == diffrax.RESULTS.successful)
    lifetimes = [float(v) for v in res.lifetimes_s]
    return {
        "status": "success" if ok else "failed",
        "D_fin": float(res.d_fin) if ok else math.nan,
        "lifetimes_s": lifetimes,
        "lifetime_limit_s": float(lifetime_limit_s),
        "lifetime_exceeds_limit": bool(max(lifetimes) > lifetime_limit_s),
        "T_in": float(t_in), "T_fin": float(t_fin), "steps": int(res.steps),
        "trajectory": {"T": np.asarray(res.temperatures), "D": np.asarray(res.dilution),
                       "hnl_yields": np.asarray(res.hnl_yields), "equilibrium_yield": np.asarray(res.equilibrium_yield)},
    }


def hnl_yields_from_solution(solution, t_in: float = T_IN) -> np.ndarray:
    """n_I/s of N₂, N₃ (both helicities) at ``t_in`` from a kinetic solution that covers it — the hand-over from the
    kinetic equations to the late-time problem instead of assuming equilibrium at T_in.

    Both helicities together are Y_N + Y_N̄ = 2(Y+ + Y_eq 1) (h-basis, docs/physics.md §2.1); the mass-basis
    populations are tr/2 ± Re X₁₂, the inverse of the basis map of :func:`lta_jax.rates.decays.decay_matrix` (the
    decay rate Tr(Γ_h X) equals Γ₂ n₂ + Γ₃ n₃ for every Γ₂, Γ₃). The state is interpolated linearly in ln T."""
    from lta_jax.plasma.thermodynamics import equilibrium_yield

    t = np.asarray(solution.temperatures)
    if not (t.min() * (1 - 1e-9) <= t_in <= t.max() * (1 + 1e-9)):
        raise ValueError(f"T_in = {t_in:g} GeV is outside the kinetic solution ({t.min():g}–{t.max():g} GeV): solve "
                         "down to T_in or below")
    if not solution.succeeded:
        raise ValueError(f"the kinetic solve failed ({solution.status}); no HNL yields to hand over")
    order = np.argsort(t)
    x = np.array([np.interp(np.log(t_in), np.log(t[order]), np.asarray(solution.states)[order, k])
                  for k in (3, 4, 5)])
    y_eq = float(equilibrium_yield(solution.system.thermo, t_in, solution.system.params.mass))
    x11, x22, re12 = 2 * (x[0] + y_eq), 2 * (x[1] + y_eq), 2 * x[2]
    half_trace = 0.5 * (x11 + x22)
    return np.maximum(np.array([half_trace + re12, half_trace - re12]), 0.0)


def dilution_factor_and_gradient(params: ModelParameters, *, thermo: Thermodynamics | None = None,
                                 t_in: float = T_IN, t_fin: float = T_FIN):
    """(D_fin, ∂D_fin/∂θ) with θ = (M, log10 ΔM, Im ω, Re ω, δ, η) (:data:`lta_jax.solver.gradients.PARAMETER_NAMES`),
    by forward-mode differentiation through the diffrax solve (six tangents in one pass; reverse mode through the
    adaptive Kvaerno5 loop measured several times slower to compile and run). Equilibrium initial yields at T_in."""
    from lta_jax.solver.gradients import parameters_to_vector

    thermo = in_house_thermodynamics() if thermo is None else thermo
    thermo.check_range(t_fin, t_in)
    return _d_fin_value_and_grad(parameters_to_vector(params), params, thermo, float(t_in), float(t_fin))


@eqx.filter_jit
def _d_fin_value_and_grad(theta, like, thermo, t_in, t_fin):
    from lta_jax.solver.gradients import vector_to_parameters

    def d_fin(th):
        p = vector_to_parameters(th, like)
        return solve_dilution_arrays(p.mass, hnl_decay_widths(p), thermo, t_in, t_fin, n_save=20,
                                     adjoint=diffrax.ForwardMode()).d_fin

    return jax.vmap(lambda t: jax.jvp(d_fin, (theta,), (t,)), out_axes=(None, 0))(jnp.eye(theta.shape[0]))


def effective_lta_and_gradient(params: ModelParameters, rates, *, t_end: float = 10.0, thermo=None, **kwargs):
    """(Y_L^eff, ∂Y_L^eff/∂θ) with Y_L^eff = Y_L(T_end)/D_fin: the kinetic Jacobian of Y_L
    (:func:`lta_jax.solver.gradients.observables_and_jacobian`, forward mode; ``kwargs`` go there) combined with
    :func:`dilution_factor_and_gradient` by the quotient rule."""
    from lta_jax.solver.gradients import OBSERVABLE_NAMES, observables_and_jacobian

    values, jac = observables_and_jacobian(params, rates, t_end=t_end, thermo=thermo, **kwargs)
    i = OBSERVABLE_NAMES.index("Y_L_end")
    y_l, grad_y_l = float(values[i]), np.asarray(jac[i])
    d, grad_d = dilution_factor_and_gradient(params)
    d, grad_d = float(d), np.asarray(grad_d)
    return y_l / d, grad_y_l / d - y_l * grad_d / d**2


def effective_observables(y_l: float, y_b: float, d_fin: float, required: str | float = "paper") -> dict:
    """Y_L^eff = Y_L/D_fin, Y_B today = Y_B(T_sph)/D_fin and the dark-matter fraction estimate f_DM = Y_L^eff/Y_L^req
    (linear response, an estimate; paper §5.2, (5.1)). ``required``: a preset of :data:`REQUIRED_LTA` or a number."""
    y_req = REQUIRED_LTA[required] if isinstance(required, str) else float(required)
    y_eff = y_l / d_fin
    return {"Y_L_eff": y_eff, "Y_B_today": y_b / d_fin, "f_DM_estimate": abs(y_eff) / y_req, "Y_L_required": y_req,
            "f_DM_note": "estimate: linear response of resonant sterile-neutrino production to the LTA (paper §5.2)"}


__all__ = ["thermal_averages", "DilutionProblem", "DilutionResult", "solve_dilution_arrays", "hnl_decay_widths",
           "dilution", "effective_observables", "dilution_factor_and_gradient", "effective_lta_and_gradient",
           "hnl_yields_from_solution", "T_IN", "T_FIN", "LIFETIME_LIMIT_S", "REQUIRED_LTA", "HBAR_GEV_S"]
