"""Solve with the chiral-condensate extension (paper §7; :mod:`lta_jax.kinetics.chiral`; docs/chiral.md).

Above T_sph the standard equations are solved as usual (the extension is a Higgs-phase effect, paper §7); the standard
solution's state at T_sph, with R₀ from μ_R = 0, starts the 12 equations with R₀, which run to T_end in two parts:

* while the condensate law acts (γ_C > :data:`FROZEN_GAMMA` H) the equations are nonlinear: Kvaerno5 with the
  tolerances of :meth:`lta_jax.solver.integrate.SolverOptions.kvaerno5`;
* below that temperature (:func:`frozen_temperature`; from T_sph on in the perturbative mode, whose law is linear)
  R₀ is held at its value — (7.9) with γ_C ≤ 1e-4 H would move it by a relative ~1e-8 over the rest of a run — and the
  equations are linear again: the adaptive Magnus solver of the standard equations steps over the HNL oscillations
  that made the implicit solver resolve every period below ~10 GeV.

The standard continuation below T_sph is returned too, for comparison (the paper's dashed curves).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import diffrax
import equinox as eqx
import jax.numpy as jnp
import numpy as np

from lta_jax.kinetics.chiral import ChiralOptions, ChiralSystem, chiral_potentials, flavour_equilibrium, initial_r
from lta_jax.model import constants as c
from lta_jax.solver.methods import AdaptiveMagnus, SolverOptions, adaptive_controller, first_step, pid_controller
from lta_jax.solver.result import result_message

#: Absolute tolerances per component: asymmetries, Y+ (densities), Y−, Y_R (SolverOptions.kvaerno5's values).
_ATOL = np.r_[[1e-18] * 3, [1e-10] * 4, [1e-18] * 4, [1e-18]]
#: Below the temperature where γ_C = FROZEN_GAMMA · H, R₀ is held fixed and the linear equations run on Magnus. The
#: neglected change: |dY_R/dz| ≤ FROZEN_GAMMA (T³/s) ((μ_R − κμ₁)/T)³ with T³/s ≈ 0.03 and μ/T ≈ 120 Y: for
#: asymmetries ~1e-5 that is ~3e-15 per unit of z (a relative ~1e-8 of Y_R ~ 1e-6 over a run), for 1e-4 still ≲ 1e-5.
FROZEN_GAMMA = 1e-4


def frozen_temperature(chiral: ChiralOptions) -> float:
    """T [GeV] below which R₀ is held fixed: where γ_C = A H σ((ln T − ln T_*)/w_T) falls to FROZEN_GAMMA · H, i.e.
    ln T = ln T_* + w_T ln(r/(1 − r)) with r = FROZEN_GAMMA/A; T_sph when the law is linear from the start
    (perturbative mode, or A ≤ FROZEN_GAMMA)."""
    if chiral.mode != "condensate" or chiral.gamma_c_amplitude <= FROZEN_GAMMA:
        return c.T_SPHALERON
    r = FROZEN_GAMMA / chiral.gamma_c_amplitude
    t = chiral.gamma_c_temperature * math.exp(chiral.gamma_c_width * math.log(r / (1 - r)))
    return min(t, c.T_SPHALERON)


@eqx.filter_jit
def _solve_below_sphaleron(cs: ChiralSystem, x0, z0, z1, ts, rtol, max_steps: int,
                           adjoint=diffrax.RecursiveCheckpointAdjoint()):
    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(cs), diffrax.Kvaerno5(), t0=z0, t1=z1, dt0=(z1 - z0) * 1e-4, y0=x0,
        saveat=diffrax.SaveAt(ts=ts),
        stepsize_controller=pid_controller(rtol, jnp.asarray(_ATOL), pcoeff=0.0, icoeff=1.0),
        max_steps=max_steps, adjoint=adjoint, throw=False)
    return sol.ys, sol.result, sol.stats["num_steps"]


@eqx.filter_jit
def _solve_linear(cs: ChiralSystem, x0, z0, z1, ts, options):
    """The linear part (R₀ fixed or relaxed linearly) with the standard equations' adaptive Magnus settings (and their
    adjoint); the generator comes from the Jacobian of the 12-component right-hand side (it is affine in the state)."""
    controller = adaptive_controller(options, jnp.concatenate([options.atol(), jnp.asarray([options.atol_asymmetry])]))
    sol = diffrax.diffeqsolve(diffrax.ODETerm(cs), options.solver, t0=z0, t1=z1,
                              dt0=first_step(z0, z1, options.dtmax), y0=x0, saveat=diffrax.SaveAt(ts=ts),
                              stepsize_controller=controller, max_steps=options.max_steps, adjoint=options.adjoint,
                              throw=False)
    return sol.ys, sol.result, sol.stats["num_steps"]


@dataclass
class ChiralSolution:
    """Below T_sph: temperatures (descending), the 12-vectors with R₀ (``states``), the standard solution on the same
    temperatures (``standard``), the full standard :class:`~lta_jax.solver.integrate.Solution` whose state at T_sph
    started the run (``standard_solution``), status, steps (implicit + Magnus), options, and the temperature below
    which R₀ was held fixed (``frozen_below``)."""

    temperatures: np.ndarray
    states: np.ndarray
    standard: object
    standard_solution: object
    status: str
    steps: int
    options: ChiralOptions
    drop_at_maximum: bool = False  # T_* was placed at the standard run's max |Y_Δe| (gamma_c_temperature=None)
    frozen_below: float | None = None

    @property
    def succeeded(self) -> bool:
        return self.status == "success"

    def summary(self) -> dict:
        """JSON-ready: final flavour asymmetries and Y_R with and without the extension, the max |Y_Δe| and |Y_R| below
        T_sph and the fractions of them left at T_end, and ``Y_De_at_flavour_equilibrium``: the electron asymmetry that
        equal flavour chemical potentials would give with the run's final Y_L and Y_R
        (:func:`lta_jax.kinetics.chiral.flavour_equilibrium`; equal to ``Y_De_end`` when the HNL rates have
        re-equilibrated the flavours after R₀ froze)."""
        if not self.succeeded:
            return {"status": self.status}
        x, t = self.states, self.temperatures
        std = np.asarray(self.standard.states)
        i = int(np.argmax(np.abs(x[:, 0])))
        ir = int(np.argmax(np.abs(x[:, 11])))
        w_end = np.asarray(chiral_potentials(jnp.asarray(x[-1, :3]), x[-1, 11]))
        opts = self.options
        y_l_end = float(np.sum(x[-1, :3]))
        return {
            "status": "success", "mode": opts.mode, "kappa": float(opts.kappa),
            "gamma_c": {"amplitude_over_H": float(opts.gamma_c_amplitude), "T_star": float(opts.gamma_c_temperature),
                        "T_star_from": ("the standard equations' max |Y_De| below T_sph" if self.drop_at_maximum
                                        else "given"),
                        "width_ln_T": float(opts.gamma_c_width)} if opts.mode == "condensate" else None,
            "T_flip_equilibration": float(opts.equilibration_temperature) if opts.mode == "perturbative" else None,
            "T_from": float(t[0]), "T_end": float(t[-1]), "steps": self.steps,
            "R0_frozen_below_T": self.frozen_below,
            "Y_R_end": float(x[-1, 11]), "R0_convention": "paper (7.3)-(7.6): R0 = minus the e_R asymmetry",
            "Y_De_end": float(x[-1, 0]), "Y_Dmu_end": float(x[-1, 1]), "Y_Dtau_end": float(x[-1, 2]),
            "Y_L_end": y_l_end,
            "Y_De_at_flavour_equilibrium": float(flavour_equilibrium(y_l_end, x[-1, 11])[0]),
            "mu_R_minus_kappa_mu_1_over_mu_1_end": float((w_end[3] - opts.kappa * w_end[0]) / w_end[0])
            if w_end[0] != 0 else None,
            "max_abs_Y_De_below_T_sph": float(abs(x[i, 0])), "T_max_Y_De": float(t[i]),
            "Y_De_end_over_max": float(x[-1, 0] / x[i, 0]) if x[i, 0] != 0 else None,
            "max_abs_Y_R": float(abs(x[ir, 11])), "T_max_Y_R": float(t[ir]),
            "Y_R_end_over_max": float(x[-1, 11] / x[ir, 11]) if x[ir, 11] != 0 else None,
            "standard": {"Y_De_end": float(std[-1, 0]), "Y_Dmu_end": float(std[-1, 1]),
                         "Y_Dtau_end": float(std[-1, 2]), "Y_L_end": float(np.sum(std[-1, :3]))},
        }


def chiral_states(system, chiral: ChiralOptions, x0, temperatures: np.ndarray, t_frozen: float, *, rtol: float,
                  max_steps: int, linear, adjoint=diffrax.RecursiveCheckpointAdjoint()):
    """The 12-vectors with R₀ at ``temperatures`` (descending from T_sph; NumPy, fixed) from ``x0`` at T_sph: the
    implicit solver while the condensate acts (above ``t_frozen``), the adaptive Magnus solver (options ``linear``)
    below it with R₀ held (module docstring). Pure JAX in the point (``system``, ``x0``), so that it runs eagerly in
    :func:`solve_chiral` and traced — differentiated, batched — in :class:`ChiralMap`; ``t_frozen`` and the options
    are fixed. Returns (states (n, 12), diffrax result of the first failing part, steps)."""
    mass = system.params.mass
    t_end = float(temperatures[-1])
    held_from_start = t_frozen >= c.T_SPHALERON  # the law is linear throughout
    held_part = t_frozen > t_end
    t_hold = max(t_frozen, t_end)

    def z(t):
        return jnp.log(mass / jnp.asarray(t))

    # Both parts save at all the temperatures, clipped to their own range (so the compiled solves keep one shape
    # whatever A, T_* or κ put the hold at); the rows of each part are picked below.
    implicit = linear_states = None
    result, steps, x = diffrax.RESULTS.successful, 0, x0
    if not held_from_start:  # the implicit solver while the condensate acts, to the hold or to T_end
        ts = z(np.maximum(temperatures, t_hold))
        implicit, result, steps = _solve_below_sphaleron(ChiralSystem(system, chiral.traced()), x, ts[0], ts[-1], ts,
                                                         rtol, max_steps, adjoint)
        x = implicit[-1]  # the last rows are the state at the hold
    if held_part:
        held = dataclasses.replace(chiral, gamma_c_amplitude=0.0) if chiral.mode == "condensate" else chiral
        ts = z(np.minimum(temperatures, temperatures[0] if held_from_start else t_hold))
        # A failed implicit part leaves no state to continue from: start from zeros (a quick run whose rows are
        # discarded) rather than let the step controller spend its budget on NaNs.
        x = jnp.where(result == diffrax.RESULTS.successful, x, 0.0)
        linear_states, linear_result, n = _solve_linear(ChiralSystem(system, held.traced()), x, ts[0], ts[-1], ts,
                                                        eqx.tree_at(lambda o: o.adjoint, linear, adjoint))
        result = diffrax.RESULTS.where(result == diffrax.RESULTS.successful, linear_result, result)
        steps = steps + n
    if implicit is None:
        return linear_states, result, steps
    if linear_states is None:
        return implicit, result, steps
    nonlinear = jnp.asarray(temperatures > t_frozen)  # saved points reached before R₀ is frozen
    return jnp.where(nonlinear[:, None], implicit, linear_states), result, steps


def checked_chiral_input(params, chiral: ChiralOptions | None, t_start, t_end) -> ChiralOptions:
    """The chiral options (default ones for ``None``) after checking them, the point and the temperature range (a chiral
    run starts above T_sph and ends below it): ``ValueError`` before anything compiles."""
    from lta_jax.model.parameters import validate_parameters

    chiral = ChiralOptions() if chiral is None else chiral
    chiral.check()
    validate_parameters(params)
    if not (0 < t_end < c.T_SPHALERON):
        raise ValueError(f"the chiral extension runs below T_sph = {c.T_SPHALERON} GeV: need 0 < T_end < T_sph, "
                         f"got {t_end!r}")
    if t_start is not None and not t_start > c.T_SPHALERON:
        raise ValueError(f"the chiral extension starts from the standard state at T_sph = {c.T_SPHALERON} GeV: "
                         f"T_start must lie above it, got {t_start!r}")
    return chiral


def solve_chiral(params, rates, *, t_start: float | None = None, t_end: float = 10.0,
                 chiral: ChiralOptions | None = None, thermo=None, susceptibility=None, options=None,
                 n_save: int = 300, rtol: float = 1e-8, max_steps: int = 200_000, standard=None,
                 hold_frozen: bool = True, solver_options=None) -> ChiralSolution:
    """The standard solve to ``t_end``, then the equations with R₀ from its state at T_sph to ``t_end`` < T_sph
    (module docstring). ``standard``: an existing standard solution of the same point to ``t_end`` (a
    :class:`~lta_jax.solver.integrate.Solution` or another chiral run's ``.standard``; else it is solved here).
    ``hold_frozen=False``: no hold — the implicit solver all the way (the reference the hold is tested against; below
    ~10 GeV it exceeds its step budget). ``options``: the :class:`KineticOptions`;
    ``solver_options``: those of the standard solve, also used for the linear part when they are the adaptive Magnus
    solver (else that part uses the default :class:`~lta_jax.solver.integrate.SolverOptions`). Long on purpose: the three parts (standard
    solve, implicit part while the condensate acts, the held linear part) share the saved temperatures and pick
    rows from each other."""
    from lta_jax.rates.interpolated import cached_table
    from lta_jax.solver.integrate import solve
    from lta_jax.solver.setup import build_system, default_models

    chiral = checked_chiral_input(params, chiral, t_start, t_end)
    thermo, susceptibility = default_models(thermo, susceptibility)
    rates.check_range(t_end, c.T_SPHALERON, float(params.mass))
    common = dict(thermo=thermo, susceptibility=susceptibility, options=options, solver_options=solver_options)
    temperatures = np.geomspace(c.T_SPHALERON, t_end, n_save)
    if standard is None:
        standard = solve(params, rates, t_start=t_start, t_end=t_end, **common)
    standard = getattr(standard, "solution", standard)  # a ChiralSolution's .standard stands for its solution
    nan_states = np.full((n_save, 12), np.nan)
    if not standard.succeeded:
        return ChiralSolution(temperatures, nan_states, standard, standard, standard.status, 0, chiral)
    drop_at_maximum = chiral.gamma_c_temperature is None
    if drop_at_maximum:
        chiral = dataclasses.replace(chiral, gamma_c_temperature=electron_maximum_temperature(standard))
    # The standard solution's state at T_sph (a step end of the adaptive solvers) starts the run.
    x_sph = jnp.asarray(standard.raw.state_sph)
    x0 = jnp.concatenate([x_sph, initial_r(x_sph[:3])[None]])
    mass = float(params.mass)
    tab = cached_table(rates, mass, t_end, c.T_SPHALERON) if rates.expensive else rates
    system = build_system(params, tab, thermo, susceptibility, standard.system.options)
    t_frozen = frozen_temperature(chiral) if hold_frozen else 0.0
    states, result, steps = chiral_states(system, chiral, x0, temperatures, t_frozen, rtol=rtol, max_steps=max_steps,
                                          linear=linear_options(solver_options))
    ok = bool(result == diffrax.RESULTS.successful)

    # The standard continuation on the same temperatures (linear interpolation in ln T of its saved states).
    t_std = np.asarray(standard.temperatures)
    order = np.argsort(t_std)
    std_states = np.stack([np.interp(np.log(temperatures), np.log(t_std[order]), np.asarray(standard.states)[order, k])
                           for k in range(11)], axis=1)
    return ChiralSolution(temperatures, np.asarray(states) if ok else nan_states,
                          _Standard(temperatures, std_states, standard), standard,
                          "success" if ok else result_message(result), int(steps), chiral, drop_at_maximum,
                          t_frozen if t_frozen > t_end else None)


#: The rows of :class:`ChiralMap`: Y_B (from the standard equations at T_sph: the extension acts below it), the flavour
#: asymmetries, their sum and Y_R at T_end with R₀, and the soft max of |Y_Δe| below T_sph (p-norm, p = 64).
CHIRAL_OBSERVABLE_NAMES = ("Y_B", "Y_L_end", "Y_De_end", "Y_Dmu_end", "Y_Dtau_end", "Y_R_end", "soft_max_abs_Y_e")

#: The standard part of :class:`ChiralMap` stops here (or at T_end, if higher): it only supplies the state at T_sph.
STANDARD_STOP = 100.0


class ChiralMap(eqx.Module):
    """θ = (M, log10 ΔM, Im ω, Re ω, δ, η) ↦ :data:`CHIRAL_OBSERVABLE_NAMES`: the chiral run of :func:`solve_chiral`
    (standard equations to T_sph, then R₀ with the hold) as one pure JAX function, so that ``jax.grad``, ``jax.jvp``,
    ``jax.jacrev``/``jacfwd`` and ``vmap`` work through it. Made by :func:`make_chiral_map`, which fixes everything
    that is not θ: the chiral options (γ_C's drop temperature included, resolved at the made point when it is "at the
    maximum" and then held fixed under differentiation), the hold temperature and the saved temperatures. Derivatives
    are those of the discrete solves (diffrax ``ForwardMode`` or ``RecursiveCheckpointAdjoint`` through the adaptive
    Magnus and Kvaerno5 parts). A failed part gives NaN values and NaN derivatives."""

    standard: Any  # lta_jax.solver.gradients.ObservableMap of the standard equations (set-up, tables, adjoint)
    chiral: ChiralOptions
    temperatures: tuple = eqx.field(static=True)
    t_frozen: float = eqx.field(static=True)
    rtol: float = eqx.field(static=True)
    max_steps: int = eqx.field(static=True)
    linear: Any = eqx.field(static=True)
    power: float = eqx.field(static=True, default=64.0)

    def __call__(self, theta):
        from lta_jax.solver.integrate import solve_arrays
        from lta_jax.solver.magnus import first_order_only
        from lta_jax.solver.observables import baryon_asymmetry_simple, nan_unless, soft_max_abs

        theta = first_order_only(theta)  # second derivatives: a clear SecondDerivativeError (solver.magnus)
        std = self.standard
        system = std.system(theta)
        temperatures = np.asarray(self.temperatures)
        raw = solve_arrays(system, std.t_start, max(float(temperatures[-1]), STANDARD_STOP), None, std.solver_options)
        x0 = jnp.concatenate([raw.state_sph, initial_r(raw.state_sph[:3])[None]])
        states, result, _ = chiral_states(system, self.chiral, x0, temperatures, self.t_frozen, rtol=self.rtol,
                                          max_steps=self.max_steps, linear=self.linear, adjoint=std.solver_options.adjoint)
        x_end = states[-1]
        values = jnp.stack([baryon_asymmetry_simple(raw.state_sph), jnp.sum(x_end[:3]), x_end[0], x_end[1], x_end[2],
                            x_end[11], soft_max_abs(states[:, 0], self.power)])
        ok = (raw.result == diffrax.RESULTS.successful) & (result == diffrax.RESULTS.successful)
        return nan_unless(ok, values)  # NaN in values and in derivatives of both modes


def make_chiral_map(params, rates, *, chiral: ChiralOptions | None = None, t_start: float | None = None,
                    t_end: float = 10.0, mode: str = "forward", n_save: int = 100, rtol: float = 1e-8,
                    max_steps: int = 200_000, hold_frozen: bool = True, thermo=None, susceptibility=None,
                    options=None, solver_options=None) -> ChiralMap:
    """Validate (before compilation) and build the differentiable :class:`ChiralMap` at ``params``: arguments as for
    :func:`solve_chiral` (``solver_options``: the standard part's, default the adaptive Magnus solver; the linear part
    as in :func:`solve_chiral`), ``mode`` as for :func:`lta_jax.solver.gradients.make_observable_map` (the diffrax
    adjoint of every part: "forward" for ``jax.jvp``/``jacfwd``, "reverse" for ``jax.grad``/``vjp``/``jacrev``; each
    works either way, the other is slower). The rates are tabulated once at the mass of ``params``: a map used at
    another mass must be rebuilt. ``gamma_c_temperature=None`` (γ_C drops at the standard run's max |Y_Δe|): that
    temperature is found by one standard solve here and held fixed (its derivative, the move of the arg-max, is not
    included)."""
    from lta_jax.solver.gradients import make_observable_map
    from lta_jax.solver.integrate import solve

    chiral = checked_chiral_input(params, chiral, t_start, t_end)
    if not (isinstance(n_save, int) and n_save >= 2):
        raise ValueError(f"n_save must be an integer ≥ 2, got {n_save!r}")
    solver_options = SolverOptions() if solver_options is None else solver_options
    common = dict(t_start=t_start, thermo=thermo, susceptibility=susceptibility, options=options)
    if chiral.gamma_c_temperature is None:
        standard = solve(params, rates, t_end=t_end, solver_options=solver_options, **common)
        chiral = dataclasses.replace(chiral, gamma_c_temperature=electron_maximum_temperature(standard))
    std = make_observable_map(params, rates, t_end=t_end, mode=mode, solver_options=solver_options, **common)
    std = dataclasses.replace(std, derivative_options=None)  # the standard part is read at T_sph, not observed
    t_frozen = frozen_temperature(chiral) if hold_frozen else 0.0
    temperatures = tuple(float(t) for t in np.geomspace(c.T_SPHALERON, t_end, n_save))
    return ChiralMap(std, chiral, temperatures, t_frozen, rtol, max_steps, linear_options(solver_options))


def electron_maximum_temperature(standard) -> float:
    """T [GeV] of the largest |Y_Δe| below T_sph in a standard solution (where the paper lets γ_C drop, §7). A failed
    solve has no maximum: ValueError with its status."""
    if not getattr(standard, "succeeded", True):
        raise ValueError(f"the standard solve failed ({standard.status}): no electron-asymmetry maximum to drop γ_C at")
    t = np.asarray(standard.temperatures)
    y_e = np.abs(np.asarray(standard.states)[:, 0])
    below = t <= c.T_SPHALERON
    if not np.any(below):
        raise ValueError("the standard solution has no temperatures below T_sph")
    return float(t[below][np.argmax(y_e[below])])


def linear_options(solver_options=None):
    """Magnus settings for the linear part: the given solver options when they are the adaptive Magnus solver, else
    the default :class:`~lta_jax.solver.integrate.SolverOptions`."""
    if solver_options is not None and isinstance(solver_options.method, AdaptiveMagnus):
        return solver_options
    return SolverOptions()


@dataclass
class _Standard:
    """The standard equations on the chiral run's temperatures, and the solution they were interpolated from."""

    temperatures: np.ndarray
    states: np.ndarray
    solution: object = None


__all__ = ["CHIRAL_OBSERVABLE_NAMES", "FROZEN_GAMMA", "STANDARD_STOP", "ChiralMap", "ChiralSolution", "chiral_states",
           "electron_maximum_temperature", "frozen_temperature", "linear_options", "make_chiral_map", "solve_chiral"]
