"""Gradient-based maximisation of the LTA (or max |Y_e|) under the BAU constraint (issue 4).

Problem: maximise J(θ) = |Y_L(T_end)| (objective "lta") or the p-norm surrogate of max_{T ≤ T_sph} |Y_Δe| ("max-ye")
subject to |Y_B/Y_B^target − 1| ≤ tol.

Method: Adam (optax) on the loss

    L(u) = −ln J(θ(u)) + μ · [relu(|Y_B/Y_B^target − 1| − tol) / tol]²,

a quadratic penalty that is exactly zero inside the tolerance band. The constraint is a band (an inequality pair),
not an equality: a penalty leaves the optimiser free inside it, while an augmented Lagrangian would need multiplier
updates on two inequalities to reach the same point. μ = 10 makes leaving the band by one band width cost as much as
losing a factor e^10 in J. ln J makes the objective scale-free (asymmetries span 1e-12…1e-4).

Variables u = (log10 ΔM, Im ω, Re ω, δ, η) and, with ``free_mass``, ln M, clipped to [M_min, M_max] by a smooth
sigmoid; angles are periodic and need no constraint. Starts come from a Sobol or random sample of the paper's "large
LTA" box (Table 1: log10 ΔM ∈ [−12, −10], Im ω ∈ [−0.2, 0.2], Re ω ∈ [0.4π, 0.6π], δ, η ∈ [0, 2π)). Each
value+gradient is one forward-mode pass (all tangents at once); starts are run one after another, because a vmapped
adaptive solve on CPU runs at the pace of its slowest member (docs/numerics.md).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from scipy.stats import qmc

from lta_jax.model import constants as c
from lta_jax.solver.gradients import ObservableMap, make_observable_map
from lta_jax.model.parameters import ModelParameters
from lta_jax.rates.base import RateModel
from lta_jax.solver.integrate import SolverOptions

LARGE_LTA_BOX = {"log10_delta_M": (-12.0, -10.0), "im_omega": (-0.2, 0.2), "re_omega": (0.4 * math.pi, 0.6 * math.pi),
                 "delta": (0.0, 2 * math.pi), "eta": (0.0, 2 * math.pi)}
OBJECTIVES = ("lta", "max-ye")
PENALTY_WEIGHT = 10.0
#: Solver preset for optimisation: ~1e-5 accuracy, several times cheaper than the default (benchmarks/README.md).
OPTIMISATION_SOLVER = SolverOptions.kvaerno5(rtol=1e-6, atol_density=1e-9, atol_asymmetry=1e-16, atol_hnl_asymmetry=1e-16,
                                             n_save=400)


@dataclass
class OptimisationResult:
    best: dict
    history: list = field(default_factory=list)
    solves: int = 0
    gradient_evaluations: int = 0
    seconds: float = 0.0
    seconds_per_value_and_gradient: float = math.nan

    def to_json(self) -> dict:
        return {"best": self.best, "solves": self.solves, "gradient_evaluations": self.gradient_evaluations,
                "seconds": self.seconds, "seconds_per_value_and_gradient": self.seconds_per_value_and_gradient,
                "history": self.history}


class _Problem(eqx.Module):
    fn: ObservableMap
    objective_index: int = eqx.field(static=True)
    bau_target: float = eqx.field(static=True)
    bau_tolerance: float = eqx.field(static=True)
    free_mass: bool = eqx.field(static=True)
    mass: float = eqx.field(static=True)
    mass_bounds: tuple = eqx.field(static=True)
    cp_symmetry: bool = eqx.field(static=True, default=True)

    def theta(self, u):
        if self.free_mass:
            lo, hi = math.log(self.mass_bounds[0]), math.log(self.mass_bounds[1])
            mass = jnp.exp(lo + (hi - lo) * jax.nn.sigmoid(u[5]))
        else:
            mass = jnp.asarray(self.mass)
        return jnp.stack([mass, u[0], u[1], u[2], u[3], u[4]])

    def loss_from_observables(self, obs):
        objective = jnp.abs(obs[self.objective_index])
        # With cp_symmetry, a point with Y_B = −target is as good as one with +target: its CP conjugate
        # (Im ω, δ, η) → −(Im ω, δ, η) flips every asymmetry exactly and leaves |Y_L|, max |Y_e| unchanged.
        y_b = jnp.abs(obs[0]) if self.cp_symmetry else obs[0]
        violation = jax.nn.relu(jnp.abs(y_b / self.bau_target - 1) - self.bau_tolerance) / self.bau_tolerance
        return -jnp.log(objective + 1e-300) + PENALTY_WEIGHT * violation**2

    def observables(self, u):
        return self.fn(self.theta(u))


@eqx.filter_jit
def _value_and_grad(problem: _Problem, u):
    """Observables, loss and ∇_u loss from one forward-mode pass (all tangents together)."""
    obs, jac = jax.vmap(lambda v: jax.jvp(problem.observables, (u,), (v,)), out_axes=(None, 1))(jnp.eye(u.shape[0]))
    loss, dloss_dobs = jax.value_and_grad(problem.loss_from_observables)(obs)
    return obs, loss, dloss_dobs @ jac


def starting_points(n: int, *, sampler: str = "sobol", seed: int = 0, free_mass: bool = False, mass_bounds=(0.1, 30.0),
                    box: dict = LARGE_LTA_BOX) -> np.ndarray:
    """``n`` starts in the unconstrained variables u (Sobol or uniform random inside ``box``)."""
    names = list(box)
    dim = len(names) + (1 if free_mass else 0)
    if sampler == "sobol":
        unit = qmc.Sobol(dim, scramble=True, seed=seed).random(n)
    elif sampler == "random":
        unit = np.random.default_rng(seed).random((n, dim))
    else:
        raise ValueError(f"sampler must be 'sobol' or 'random', got {sampler!r}")
    lo = np.array([box[k][0] for k in names])
    hi = np.array([box[k][1] for k in names])
    u = lo + (hi - lo) * unit[:, : len(names)]
    if free_mass:
        u = np.concatenate([u, (unit[:, -1:] - 0.5) * 4.0], axis=1)  # sigmoid argument in [−2, 2]
    return u


def optimise(
    rates: RateModel,
    *,
    objective: str = "lta",
    mass: float = 1.0,
    free_mass: bool = False,
    mass_bounds: tuple = (0.1, 30.0),
    hierarchy: str = "NH",
    bau_target: float = c.Y_B_OBSERVED,
    bau_tolerance: float = 0.1,
    starts: int = 4,
    steps: int = 30,
    learning_rate: float = 0.05,
    sampler: str = "sobol",
    seed: int = 0,
    t_start: float = 1e3,
    t_end: float = 5.0,
    solver_options: SolverOptions = OPTIMISATION_SOLVER,
    thermo=None,
    susceptibility=None,
    progress: bool = True,
    cp_symmetry: bool = True,
) -> OptimisationResult:
    """Multi-start Adam maximisation of the LTA or max |Y_e| with Y_B in the band target·(1 ± tolerance).

    ``cp_symmetry`` (default on): the CP conjugate θ̄ = (M, ΔM, −Im ω, Re ω, −δ, −η) has every asymmetry of θ with
    the opposite sign (exact: the rates are real and F → F*; a test checks it through the solve). The penalty then
    acts on |Y_B|, and a point found with Y_B < 0 is recorded as its conjugate (``"cp_conjugated": true``), so every
    reported point has Y_B > 0 and can be re-solved as it stands. This doubles the feasible set and removes the
    wrong-sign traps seen at M = 5 GeV. ``cp_symmetry=False`` is the behaviour of the first optimiser-vs-scan study.
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
    for name, value in (("bau_target", bau_target), ("bau_tolerance", bau_tolerance), ("mass", mass)):
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be positive and finite, got {value!r}")
    if starts < 1 or steps < 1:
        raise ValueError("starts and steps must be ≥ 1")
    lo_m, hi_m = mass_bounds
    if not (0 < lo_m < hi_m):
        raise ValueError(f"invalid mass bounds {mass_bounds!r}")
    reference = ModelParameters(mass, 1e-11, 0.0, math.pi / 2, 0.0, 0.0, hierarchy=hierarchy)
    # Validate the temperature range against the rate model for every mass the optimiser may visit.
    for m in ((lo_m, hi_m) if free_mass else (mass,)):
        rates.check_range(t_end, t_start, m)
    fn = make_observable_map(reference, rates, t_start=t_start, t_end=t_end, thermo=thermo,
                             susceptibility=susceptibility, solver_options=solver_options, mode="forward")
    problem = _Problem(fn, 1 if objective == "lta" else 5, bau_target, bau_tolerance, free_mass, mass, mass_bounds,
                       cp_symmetry)
    u_starts = starting_points(starts, sampler=sampler, seed=seed, free_mass=free_mass, mass_bounds=mass_bounds)
    optimiser = optax.adam(learning_rate)

    history, best = [], None
    t0 = time.perf_counter()
    n_calls, call_time = 0, 0.0
    progress_bar = _progress(progress, starts * steps)
    with progress_bar as bar:
        task = bar.add_task(f"optimising {objective}", total=starts * steps) if bar else None
        for s, u0 in enumerate(u_starts):
            u = jnp.asarray(u0)
            state = optimiser.init(u)
            for step in range(steps):
                tc = time.perf_counter()
                obs, loss, grad = _value_and_grad(problem, u)
                obs = np.asarray(obs)
                if n_calls > 0:  # the first call includes compilation
                    call_time += time.perf_counter() - tc
                n_calls += 1
                theta = np.asarray(problem.theta(u))
                record = _record(s, step, theta, obs, float(loss), objective, bau_target, bau_tolerance, cp_symmetry)
                history.append(record)
                if record["status"] == "success" and (best is None or _better(record, best)):
                    best = record
                if not np.all(np.isfinite(np.asarray(grad))):
                    if bar:
                        bar.advance(task, steps - step)
                    break  # failed solve: this start stops, the failure stays in the history
                updates, state = optimiser.update(grad, state, u)
                u = optax.apply_updates(u, updates)
                if bar:
                    bar.advance(task)
    if best is None:
        best = {"status": "no successful evaluation"}
    timing = call_time / (n_calls - 1) if n_calls > 1 else math.nan
    return OptimisationResult(best=best, history=history, solves=n_calls, gradient_evaluations=n_calls,
                              seconds=time.perf_counter() - t0, seconds_per_value_and_gradient=timing)


def _better(a: dict, b: dict) -> bool:
    """Feasible beats infeasible; then larger objective; among infeasible points smaller loss."""
    if a["feasible"] != b["feasible"]:
        return a["feasible"]
    if a["feasible"]:
        return a["objective"] > b["objective"]
    return a["loss"] < b["loss"]


def cp_conjugate(theta) -> np.ndarray:
    """θ = (M, log10 ΔM, Im ω, Re ω, δ, η) → (M, log10 ΔM, −Im ω, Re ω, −δ, −η): F → F*, all asymmetries flip sign."""
    theta = np.array(theta, dtype=float)
    theta[[2, 4, 5]] *= -1
    return theta


def _record(start, step, theta, obs, loss, objective, target, tol, cp_symmetry=False) -> dict:
    ok = bool(np.all(np.isfinite(obs)))
    value = float(abs(obs[1] if objective == "lta" else obs[5])) if ok else math.nan
    conjugated = bool(cp_symmetry and ok and obs[0] < 0)
    if conjugated:
        theta = cp_conjugate(theta)
        obs = np.asarray(obs, dtype=float) * np.array([-1, -1, -1, -1, -1, 1])
    y_b = float(obs[0]) if ok else math.nan
    return {
        "start": start, "step": step, "status": "success" if ok else "failed", "cp_conjugated": conjugated,
        "M": float(theta[0]), "delta_M": float(10 ** theta[1]), "im_omega": float(theta[2]),
        "re_omega": float(theta[3] % (2 * math.pi)), "delta": float(theta[4] % (2 * math.pi)),
        "eta": float(theta[5] % (2 * math.pi)),
        "objective": value, "Y_L_end": float(obs[1]) if ok else math.nan, "Y_B": y_b,
        "soft_max_abs_Y_e": float(obs[5]) if ok else math.nan, "loss": loss,
        "feasible": bool(ok and abs(y_b / target - 1) <= tol),
    }


class _NoBar:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def _progress(enabled: bool, total: int):
    if not enabled:
        return _NoBar()
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    # stderr: stdout carries only the JSON result.
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    console=Console(stderr=True))


def plot_history(result: OptimisationResult, path, objective: str, bau_target: float, bau_tolerance: float):
    """Objective and Y_B/target per step for every start."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    starts = sorted({h["start"] for h in result.history})
    for s in starts:
        rows = [h for h in result.history if h["start"] == s]
        steps = [h["step"] for h in rows]
        ax1.semilogy(steps, [h["objective"] for h in rows], marker=".", label=f"start {s}")
        ax2.plot(steps, [h["Y_B"] / bau_target for h in rows], marker=".")
    ax2.axhspan(1 - bau_tolerance, 1 + bau_tolerance, color="0.85")
    ax1.set_xlabel("step")
    ax1.set_ylabel("|Y_L(T_end)|" if objective == "lta" else "soft max |Y_e|")
    ax2.set_xlabel("step")
    ax2.set_ylabel("Y_B / target (band: feasible)")
    ax2.set_ylim(-3, 5)
    from matplotlib.ticker import MaxNLocator

    for ax in (ax1, ax2):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # steps are whole numbers
    ax1.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
