"""Solve with the chiral-condensate extension (paper §7; :mod:`lta_jax.kinetics.chiral`; docs/chiral.md).

Above T_sph the standard equations are solved as usual (the extension is a Higgs-phase effect, paper §7); from T_sph
down to T_end the 12 equations with R₀ are integrated by Kvaerno5 (the condensate law is nonlinear) with the
tolerances of :meth:`lta_jax.solver.integrate.SolverOptions.kvaerno5`, starting from the standard state at T_sph and
R₀ from μ_R = 0. The standard continuation below T_sph is solved too, for comparison (the paper's dashed curves).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import diffrax
import equinox as eqx
import jax.numpy as jnp
import numpy as np

from lta_jax.kinetics.averaged import KineticSystem
from lta_jax.kinetics.chiral import ChiralOptions, ChiralSystem, chiral_potentials, flavour_equilibrium, initial_r
from lta_jax.model import constants as c
from lta_jax.rates.interpolated import InterpolatedRates

#: Absolute tolerances per component: asymmetries, Y+ (densities), Y−, Y_R (SolverOptions.kvaerno5's values).
_ATOL = np.r_[[1e-18] * 3, [1e-10] * 4, [1e-18] * 4, [1e-18]]


@eqx.filter_jit
def _solve_below_sphaleron(cs: ChiralSystem, x0, z0, z1, ts, rtol, max_steps: int):
    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(cs), diffrax.Kvaerno5(), t0=z0, t1=z1, dt0=(z1 - z0) * 1e-4, y0=x0,
        saveat=diffrax.SaveAt(ts=ts),
        stepsize_controller=diffrax.PIDController(rtol=rtol, atol=jnp.asarray(_ATOL)),
        max_steps=max_steps, throw=False)
    return sol.ys, sol.result, sol.stats["num_steps"]


@dataclass
class ChiralSolution:
    """Below T_sph: temperatures (descending), the 12-vectors with R₀ (``states``), the standard solution on the same
    temperatures (``standard``), the run above T_sph (``above``), status and options."""

    temperatures: np.ndarray
    states: np.ndarray
    standard: object
    above: object
    status: str
    steps: int
    options: ChiralOptions
    drop_at_maximum: bool = False  # T_* was placed at the standard run's max |Y_Δe| (gamma_c_temperature=None)

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


def solve_chiral(params, rates, *, t_start: float | None = None, t_end: float = 10.0,
                 chiral: ChiralOptions | None = None, thermo=None, susceptibility=None, options=None,
                 n_save: int = 300, rtol: float = 1e-8, max_steps: int = 200_000, standard=None) -> ChiralSolution:
    """The standard solve to T_sph, then the equations with R₀ (module docstring) to ``t_end`` < T_sph.
    ``standard``: an existing standard solution of the same point to ``t_end`` (else it is solved here)."""
    from lta_jax.model.parameters import validate_parameters
    from lta_jax.plasma.susceptibility import in_house_susceptibility
    from lta_jax.plasma.thermodynamics import in_house_thermodynamics
    from lta_jax.solver.integrate import solve

    chiral = ChiralOptions() if chiral is None else chiral
    chiral.check()
    validate_parameters(params)
    if not (0 < t_end < c.T_SPHALERON):
        raise ValueError(f"the chiral extension runs below T_sph = {c.T_SPHALERON} GeV: need 0 < T_end < T_sph, "
                         f"got {t_end!r}")
    thermo = in_house_thermodynamics() if thermo is None else thermo
    susceptibility = in_house_susceptibility() if susceptibility is None else susceptibility
    rates.check_range(t_end, c.T_SPHALERON, float(params.mass))
    common = dict(thermo=thermo, susceptibility=susceptibility, options=options)
    above = solve(params, rates, t_start=t_start, t_end=c.T_SPHALERON, **common)
    temperatures = np.geomspace(c.T_SPHALERON, t_end, n_save)
    if standard is None:
        standard = solve(params, rates, t_start=t_start, t_end=t_end, **common)
    drop_at_maximum = chiral.gamma_c_temperature is None
    if drop_at_maximum:
        chiral = dataclasses.replace(chiral, gamma_c_temperature=electron_maximum_temperature(standard))
    if not above.succeeded:
        return ChiralSolution(temperatures, np.full((n_save, 12), np.nan), standard, above, above.status, 0, chiral,
                              drop_at_maximum)
    x_sph = jnp.asarray(above.states[-1])
    x0 = jnp.concatenate([x_sph, initial_r(x_sph[:3])[None]])
    mass = float(params.mass)
    tab = InterpolatedRates.build(rates, mass, t_end, c.T_SPHALERON) if rates.expensive else rates
    system = KineticSystem(params, tab, thermo, susceptibility, above.system.options)
    zs = jnp.log(mass / jnp.asarray(temperatures))
    ys, result, steps = _solve_below_sphaleron(ChiralSystem(system, chiral), x0, zs[0], zs[-1], zs, rtol,
                                               max_steps)
    ok = bool(result == diffrax.RESULTS.successful)
    from lta_jax.solver.integrate import _result_message

    # The standard continuation on the same temperatures (linear interpolation in ln T of its saved states).
    t_std = np.asarray(standard.temperatures)
    order = np.argsort(t_std)
    std_states = np.stack([np.interp(np.log(temperatures), np.log(t_std[order]), np.asarray(standard.states)[order, k])
                           for k in range(11)], axis=1)
    return ChiralSolution(temperatures, np.asarray(ys) if ok else np.full((n_save, 12), np.nan),
                          _Standard(temperatures, std_states), above,
                          "success" if ok else _result_message(result), int(steps), chiral, drop_at_maximum)


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


@dataclass
class _Standard:
    temperatures: np.ndarray
    states: np.ndarray


__all__ = ["ChiralSolution", "electron_maximum_temperature", "solve_chiral"]
