"""Maximise the LTA (or max |Y_e|) under the BAU constraint: screen, then refine with projected gradients.

Problem: maximise J(θ) = |Y_L(T_end)| (objective "lta", T_end = 10 GeV by default), the effective LTA
|Y_L(T_end)|/D_fin after the entropy dilution by the HNL decays ("effective-lta", paper Fig. 8 lower panel; D_fin from
:mod:`lta_jax.studies.dilution` with equilibrium HNLs at 5 GeV) or the p-norm surrogate of max_{T ≤ T_sph} |Y_Δe|
("max-ye") subject to |Y_B/Y_B^target − 1| ≤ tol (or unconstrained with ``bau=False``). The BAU constraint stays on
Y_B(T_sph) before dilution, as in the paper.

Why not multi-start Adam on a penalty (the first optimiser): every start ended in its own narrow basin, the BAU band was
entered late or never, and it lost to random scanning at equal budget. The landscape is multimodal with narrow ridges
in ΔM and Re ω, so the global part is left to sampling, and gradients are used where they pay — climbing a ridge that
a sample has found:

1. **Screen**: a scrambled Sobol sample of the box (a fraction of the budget) is solved as one fixed-grid batch (Magnus4
   on a node grid, identical work per point, ``vmap``; :meth:`lta_jax.solver.gradients.ObservableMap.node_solve`).
2. **Refine**: the K best distinct candidates (feasible first; with the constraint, those within a factor 10 of the
   target) climb in the normalised box coordinates v ∈ [0, 1]^d, batched over K. A candidate's step goes up the
   gradient of ln J projected onto the tangent space of the constraint g(v) = ln(Y_B/target) = 0, plus a Gauss–Newton
   restoration −g ∇g/|∇g|² that pulls the point back into the band (the constraint is handled as a constraint, not a
   penalty that fights the objective). An iteration is a **batched line search** on values only: every candidate's
   step at 1, 1/4 and 1/16 of its length, plus the restoration alone (outside the band) or 1/64 of the step (inside),
   K × 4 solves in one batch; the best trial is accepted when its merit (feasible beats infeasible; then larger J;
   infeasible points by their distance to the band) improves, and only then is the Jacobian computed there. The next
   trust radius is twice the length that worked (at most 0.3); when no trial improves, the next search starts 128×
   shorter. Why values first: near the band Y_B can change by orders of magnitude within one trust radius (M = 10
   GeV), and a value + Jacobian per trial (the former scheme: one trial, radius halved on rejection) spent the budget
   on rejected steps (M = 10 GeV: 28 of 32 trials rejected; 6 of 24 runs ended outside the band; docs/optimisation.md). A
   candidate whose radius collapses, or that converges onto a better candidate, is replaced by the next unused
   screening point (restarts keep the refinement diverse).
3. **CP folding**: the CP conjugate (Im ω, δ, η) → −(Im ω, δ, η) flips every asymmetry exactly, so every point is
   recorded with Y_B > 0 (a point with Y_B < 0 is conjugated, ``"cp_conjugated": true``).
4. **Confirmation**: the best points are re-solved with the adaptive integrator in order of merit until one has Y_B in
   the band there too (:func:`_verified_best`): the optimiser's fixed grid can be off where Y_B nearly cancels, and a
   search inside a thin band finds such places (M = 20 GeV).

Derivatives: exact reverse mode by default (``gradient="reverse"``: one forward and one backward pass per needed row —
Y_B and the objective — through the matrix exponentials, :func:`lta_jax.solver.magnus.expm`); ``gradient="forward"``
(or ``"ad"``) uses :func:`jax.jvp` with all d tangents; ``gradient="fd"`` forward differences on the fixed grid (K (d + 1)
solves in one batch; the fixed-grid solve has no step-size noise, so a step of 1e-6 in v is accurate to ~1e-6; the
former default, which measured cheaper than forward mode: M = 2 GeV, K = 8: AD 12.3 solve-equivalents per value +
Jacobian, FD 6). The step rule is a chain of optax transformations (:mod:`lta_jax.studies.updates`).

Budget accounting in solve-equivalents: a screened point and a line-search point cost 1 each (a line search of K × 4
points costs less per point than a screening batch of 64, so this over-charges slightly); a value + Jacobian costs its
wall time in units of a screened point's (per point of a screening batch), measured once per run and batch shape on
the compiled functions (``cost_of_gradient`` in the result is that of a batch of K; :func:`_measure_cost`); Jacobian
batches are padded to a power of two (or K), and the padding is charged. Each full solve of step 4 (max |Y_e| and its
temperature on the saved trajectory, and the confirmation of the band) costs 1, so ``solve_equivalents`` ends at
most ``full_solves`` above the budget. Because the measured ratio depends
on the machine and its load, so does the number of refinement steps a budget buys; ``gradient_cost`` fixes the ratio
instead, and then a run is reproducible wherever it runs (same seed, same result).
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass, field

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from lta_jax.studies.choices import MAX_BUDGET, OBJECTIVES, STARTS  # noqa: F401  (the names the optimiser accepts; re-exported)
from lta_jax.studies.choices import check_study_kinetics
from lta_jax.model import constants as c
from lta_jax.model.parameters import ModelParameters
from lta_jax.rates.base import RateModel
from lta_jax.solver.gradients import ObservableMap, make_observable_map
from lta_jax.solver.methods import SolverOptions
from lta_jax.studies.output import stderr_progress
from lta_jax.studies.updates import refinement_rule
from lta_jax.studies.boxes import LARGE_LTA_BOX, PERIODIC, box_sample, starting_points  # noqa: F401  (re-exported)

#: Observable index of each objective's numerator (OBSERVABLE_NAMES); "effective-lta" divides by D_fin (index 6).
OBJECTIVE_INDEX = {"lta": 1, "max-ye": 5, "effective-lta": 1}
#: Observables of the optimiser: the kinetic ones, then D_fin with the effective-LTA objective.
DILUTION_INDEX = 6
#: Node-grid steps of the optimiser's solves (Fig.-18 point to 5 GeV: 400 steps agree with 800 to ≈1e-5 in Y_L).
OPTIMISATION_STEPS = 400
#: Numerics of the optimiser's resolved solves (``kinetics="resolved"``): the coupled step on 200 output points plus 250
#: steps placed where the coupling is stiff (571 steps from 10³ to 10 GeV instead of the full solve's 1121). Against
#: a converged solve (1000 + 4000 steps), 48 + 5 modes: Y_B within 2e-5 / 4e-4, Y_L(10 GeV) within 5.5e-3 / 2.2e-3 at
#: set (4.1) / a point with ΔM = 1.07e-12 GeV where the former Strang splitting on 1321 steps was 8e-3 / 4.3e-2 off
#: (2-core CPU, 2026-12-06; docs/resolved.md). The confirmation is the full resolved solve.
OPTIMISATION_RESOLVED = dict(method="coupled", n_save=200, refine=250)
#: Candidates refined together (one batched value + Jacobian per iteration).
DEFAULT_CANDIDATES = 8
#: Fraction of the budget spent on the screening sample. 0.3 since the line search made refinement cheaper: against
#: 0.5, paired runs (same Sobol sequence) at M = 1, 2, 5, 10 GeV, seeds 0–11, budget 500: higher best feasible |Y_L|
#: in 39 of 48 runs, geometric-mean ratio 1.07, 1.15, 0.87, 1.31 (docs/optimisation.md); 0.15 was mixed.
DEFAULT_SCREEN_FRACTION = 0.3
#: Screening batch (one compiled vmap over this many points).
CHUNK = 64


@dataclass
class OptimisationResult:
    best: dict
    history: list = field(default_factory=list)
    solve_equivalents: float = 0.0
    budget: float = 0.0
    screened: int = 0
    gradient_evaluations: int = 0
    cost_of_gradient: float = math.nan
    line_search_points: int = 0
    rejected_by_full_solve: int = 0
    full_solves: int = 0
    seconds: float = 0.0
    settings: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"best": self.best, "solve_equivalents": self.solve_equivalents, "budget": self.budget,
                "screened": self.screened, "gradient_evaluations": self.gradient_evaluations,
                "line_search_points": self.line_search_points, "cost_of_gradient": self.cost_of_gradient,
                "full_solves": self.full_solves, "rejected_by_full_solve": self.rejected_by_full_solve,
                "seconds": self.seconds, "settings": self.settings, "history": self.history}


class _Space(eqx.Module):
    """Normalised coordinates v ∈ [0, 1]^d of the box (and ln M in [ln M_lo, ln M_hi] with a free mass) ↔ θ."""

    lo: tuple = eqx.field(static=True)
    width: tuple = eqx.field(static=True)
    mass: jax.Array  # traced, not static: one compilation serves every mass of an envelope
    mass_bounds: tuple | None = eqx.field(static=True)
    #: Rate-uncertainty coordinates after the model's (lta_jax.rates.uncertainty: 24, each [0, 1] ↦ [−ln F, ln F]).
    nuisance: int = eqx.field(static=True, default=0)
    log_range: float = eqx.field(static=True, default=0.0)

    @staticmethod
    def make(box: dict, mass: float, mass_bounds=None, rate_uncertainty: float = 1.0) -> "_Space":
        names = list(LARGE_LTA_BOX)
        if list(box) != names:
            raise ValueError(f"the box must give {names} in this order, got {list(box)}")
        lo = np.array([box[k][0] for k in names], dtype=float)
        width = np.array([box[k][1] - box[k][0] for k in names], dtype=float)
        if np.any(width <= 0):
            raise ValueError(f"every box interval must have positive width: {box}")
        from lta_jax.rates.uncertainty import N_NUISANCE

        varied = rate_uncertainty > 1
        return _Space(tuple(map(float, lo)), tuple(map(float, width)), jnp.asarray(float(mass)),
                      None if mass_bounds is None else tuple(map(float, mass_bounds)),
                      N_NUISANCE if varied else 0, math.log(rate_uncertainty) if varied else 0.0)

    @property
    def model_dim(self) -> int:
        """Coordinates of the model parameters (the box, and ln M with a free mass)."""
        return 5 + (self.mass_bounds is not None)

    @property
    def dim(self) -> int:
        return self.model_dim + self.nuisance

    def theta(self, v):
        u = jnp.asarray(self.lo) + jnp.asarray(self.width) * v[:5]
        if self.mass_bounds is None:
            mass = self.mass
        else:
            a, b = (math.log(m) for m in self.mass_bounds)
            mass = jnp.exp(a + (b - a) * v[5])
        if not self.nuisance:
            return jnp.concatenate([mass[None], u])
        return jnp.concatenate([mass[None], u, self.log_range * (2 * v[self.model_dim:] - 1)])

    def central(self, v: np.ndarray) -> np.ndarray:
        """Model coordinates ``v`` (..., model_dim) with the rate factors at their central value 1 appended."""
        return np.concatenate([v, np.full(v.shape[:-1] + (self.nuisance,), 0.5)], axis=-1)

    def clip(self, v: np.ndarray) -> np.ndarray:
        """Keep bounded coordinates inside the box; wrap the periodic ones (δ, η) when the box spans 2π."""
        v = np.array(v, dtype=float)
        names = list(LARGE_LTA_BOX)
        for i, name in enumerate(names):
            if name in PERIODIC and abs(self.width[i] - 2 * math.pi) < 1e-12:
                v[..., i] = np.mod(v[..., i], 1.0)
            else:
                v[..., i] = np.clip(v[..., i], 0.0, 1.0)
        if self.mass_bounds is not None:
            v[..., 5] = np.clip(v[..., 5], 0.0, 1.0)
        v[..., self.model_dim:] = np.clip(v[..., self.model_dim:], 0.0, 1.0)
        return v


class _Problem(eqx.Module):
    """θ ↦ observables in the normalised coordinates (the objective is chosen outside: one compilation serves lta and
    max-ye). With ``thermo`` set, D_fin of the late-time dilution solve is appended (effective-LTA objective)."""

    fn: ObservableMap
    space: _Space
    thermo: object = None  # Thermodynamics of the dilution solve, or None (no D_fin)
    #: Observable rows whose derivatives the refinement uses (reverse mode computes only these): Y_B and the objective.
    rows: tuple = eqx.field(static=True, default=(0, 1, 5))

    def kinetic(self, v):
        return self.fn(self.space.theta(v))

    def dilution_factor(self, v):
        """D_fin (T_in = 5 GeV, equilibrium HNLs → 0.1 MeV): forward-mode differentiable (diffrax ForwardMode)."""
        from lta_jax.solver.gradients import vector_to_parameters
        from lta_jax.studies.dilution import hnl_decay_widths, solve_dilution_arrays

        p = vector_to_parameters(self.space.theta(v), self.fn.like)
        return solve_dilution_arrays(p.mass, hnl_decay_widths(p), self.thermo, n_save=2, rtol=1e-6,
                                     adjoint=diffrax.ForwardMode()).d_fin

    def observables(self, v):
        if self.thermo is None:
            return self.kinetic(v)
        return jnp.concatenate([self.kinetic(v), self.dilution_factor(v)[None]])


@eqx.filter_jit
def _values(problem: _Problem, vs):
    return jax.vmap(problem.observables)(vs)


@eqx.filter_jit
def _values_and_jacobians(problem: _Problem, vs):
    """Observables (K, 6) and ∂observables/∂v (K, 6, d): one forward-mode pass per point, all tangents together."""

    def one(v):
        return jax.vmap(lambda t: jax.jvp(problem.observables, (v,), (t,)), out_axes=(None, 1))(jnp.eye(v.shape[0]))

    return jax.vmap(one)(vs)


#: Forward-difference step in the normalised coordinates (fixed-grid solves are smooth in θ: no step-size noise).
FD_STEP = 1e-6


@eqx.filter_jit
def _values_and_fd_jacobians(problem: _Problem, vs):
    """Observables (K, n) and forward-difference ∂observables/∂v (K, n, d) from one batch of K (d + 1) solves.

    D_fin (effective-LTA objective) comes from an adaptive solve whose step-size choices would make a difference
    quotient noisy, so its derivative is taken by forward mode (all d tangents in one pass) instead."""
    d = vs.shape[1]
    shifted = vs[:, None, :] + FD_STEP * jnp.eye(d)[None]
    everything = jnp.concatenate([vs[:, None, :], shifted], axis=1).reshape(-1, d)
    obs = jax.vmap(problem.kinetic)(everything).reshape(vs.shape[0], d + 1, -1)
    values, jac = obs[:, 0], jnp.swapaxes((obs[:, 1:] - obs[:, :1]) / FD_STEP, 1, 2)
    return _dilution_jacobians(problem, vs, values, jac)


def _dilution_jacobians(problem: _Problem, vs, values, jac):
    """Append D_fin and its derivatives (forward mode: the dilution solve is adaptive, all d tangents in one pass)."""
    if problem.thermo is None:
        return values, jac
    tangents = jnp.eye(vs.shape[1])
    d_fin, d_jac = jax.vmap(lambda v: jax.vmap(lambda t: jax.jvp(problem.dilution_factor, (v,), (t,)),
                                               out_axes=(None, 0))(tangents))(vs)
    return jnp.concatenate([values, d_fin[:, None]], axis=1), jnp.concatenate([jac, d_jac[:, None, :]], axis=1)


@eqx.filter_jit
def _values_and_reverse_jacobians(problem: _Problem, vs):
    """Observables (K, n) and the rows :attr:`_Problem.rows` of ∂observables/∂v (K, n, d) by reverse mode: one forward
    pass and one backward pass per row through the exponential chain (exact; cost independent of d). Rows the
    refinement does not use are NaN; D_fin (effective LTA) by forward mode (:func:`_dilution_jacobians`)."""
    rows = jnp.asarray(problem.rows)

    def one(v):
        obs, pullback = jax.vjp(problem.kinetic, v)
        wanted = jax.vmap(lambda cotangent: pullback(cotangent)[0])(jnp.eye(obs.shape[0])[rows])
        return obs, jnp.full((obs.shape[0], v.shape[0]), jnp.nan).at[rows].set(wanted)

    values, jac = jax.vmap(one)(vs)
    return _dilution_jacobians(problem, vs, values, jac)


#: How the refinement gets its derivatives: exact reverse mode (default), exact forward mode ("forward", also "ad"),
#: forward differences on the fixed grid ("fd").
GRADIENTS = {"reverse": _values_and_reverse_jacobians, "forward": _values_and_jacobians, "ad": _values_and_jacobians,
             "fd": _values_and_fd_jacobians}


def _fold(obs: np.ndarray, v: np.ndarray, space: _Space, cp_symmetry: bool):
    """CP folding: a point with Y_B < 0 is replaced by its conjugate (all asymmetries flip; max |Y_e| does not)."""
    obs = np.array(obs, dtype=float)
    v = np.array(v, dtype=float)
    flip = cp_symmetry & np.isfinite(obs[:, 0]) & (obs[:, 0] < 0)
    if np.any(flip):
        theta = np.array(jax.vmap(space.theta)(jnp.asarray(v[flip])))
        theta[:, [2, 4, 5]] *= -1
        names = list(LARGE_LTA_BOX)
        lo, width = np.asarray(space.lo), np.asarray(space.width)
        u = (theta[:, 1:6] - lo) / width
        for i, name in enumerate(names):
            if name in PERIODIC:
                u[:, i] = np.mod(u[:, i], 1.0)
        v[flip, :5] = u
        obs[flip, :5] *= -1
    return obs, v, flip


class _Scores:
    """Objective, constraint residual and merit of observables (see module docstring)."""

    def __init__(self, objective_index, target, tolerance, bau, diluted=False):
        self.k, self.target, self.log_band, self.bau = objective_index, target, math.log1p(tolerance), bau
        self.tolerance, self.diluted = tolerance, diluted

    def objective(self, obs):
        """J: |obs[k]|, divided by D_fin for the effective LTA."""
        j = np.abs(obs[..., self.k])
        return j / obs[..., DILUTION_INDEX] if self.diluted else j

    def log_gradient(self, obs, jac):
        """∇ ln J of one point (the sign of obs[k] cancels; ln J = ln|Y_L| − ln D_fin for the effective LTA)."""
        grad = jac[self.k] / obs[self.k]
        return grad - jac[DILUTION_INDEX] / obs[DILUTION_INDEX] if self.diluted else grad

    def residual(self, obs):
        """g = ln(Y_B/target) (−inf for Y_B ≤ 0)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(np.where(obs[..., 0] > 0, obs[..., 0], 0.0) / self.target)

    def feasible(self, obs):
        ok = np.all(np.isfinite(obs), axis=-1)
        if not self.bau:
            return ok
        return ok & (np.abs(obs[..., 0] / self.target - 1) <= self.tolerance)

    def merit(self, obs):
        """Feasible points: ln J (> −1000); infeasible: −1000 − distance to the band in ln Y_B; failed: −inf."""
        ok = np.all(np.isfinite(obs), axis=-1)
        with np.errstate(divide="ignore"):
            log_j = np.log(self.objective(obs))
        if not self.bau:
            return np.where(ok, log_j, -np.inf)
        g = self.residual(obs)
        excess = np.where(np.isfinite(g), np.maximum(np.abs(g) - self.log_band, 0.0), 1e3)
        return np.where(~ok, -np.inf, np.where(self.feasible(obs), log_j, -1000.0 - excess))


def _direction(v, obs, jac, radius, scores: _Scores, bau: bool, split: int | None = None):
    """(move, restore) of one candidate by the optax step rule :func:`lta_jax.studies.updates.refinement_rule`: a move
    of length ``radius`` up the gradient of ln J, projected onto the tangent space of the constraint
    g = ln(Y_B/target) = 0 (with the constraint), and the Gauss–Newton restoration −g ∇g/|∇g|² (capped at 2 radius;
    zero without the constraint). The restoration alone is the rule applied to a zero ascent direction. ``split``:
    the first rate-uncertainty coordinate, whose block is preconditioned separately (:func:`normalise_blocks`)."""
    grad_j = scores.log_gradient(obs, jac)
    extra = dict(radius=radius)
    if bau:
        extra.update(constraint_gradient=jac[0] / obs[0],  # ∇ ln Y_B
                     residual=float(np.log(obs[0] / scores.target)) if obs[0] > 0 else 0.0)
    rule = refinement_rule(bau, split)
    state = rule.init(v)
    # Two exact calls: the move is the rule at g = 0 (no restoration), the restoration the rule without ascent.
    move, _ = rule.update(grad_j, state, v, **{**extra, "residual": 0.0} if bau else extra)
    restore, _ = rule.update(np.zeros_like(grad_j), state, v, **extra)
    return move, restore


def _step(v, obs, jac, radius, scores: _Scores, bau: bool):
    """The full projected gradient step of one candidate: v + move + restore (:func:`_direction`)."""
    move, restore = _direction(v, obs, jac, radius, scores, bau)
    return v + move + restore


#: Fractions of a candidate's step (:func:`_step`) one line search tries, in one batch of values; a last trial is the
#: restoration alone for a candidate outside the band, or :data:`SHORTEST_FRACTION` of the step for one inside it.
LINE_SEARCH = (1.0, 0.25, 1.0 / 16)
SHORTEST_FRACTION = 1.0 / 64
#: Trust radius (in the normalised coordinates) of a new candidate, its largest value, and the radius below which a
#: candidate is replaced by the next screening point.
INITIAL_RADIUS, MAX_RADIUS, RESTART_RADIUS = 0.05, 0.3, 1e-5


def _refine(problem, current, queue, scores: _Scores, bau, space, cp_symmetry, values_and_jacobians, gradient_cost,
            budget, state, record, bar) -> dict:
    """Refinement (module docstring, step 2): value + Jacobian of the candidates that moved, then a batched line search
    of every candidate's projected step (values only), until the budget is spent. Returns the accounting.
    One function on purpose: every iteration updates the candidates' coordinates, observables, Jacobians, radii and
    the queue together; split, each piece would take and return all of them."""
    n_cand, dim = current.shape
    n_trials = len(LINE_SEARCH) + 1
    costs: dict = {}  # solve-equivalents per row of a value + Jacobian batch of n rows (measured per batch shape)

    def cost(n):
        if n not in costs:
            costs[n] = (float(gradient_cost) if gradient_cost is not None
                        else _measure_cost(problem, np.resize(current, (n, dim)), values_and_jacobians))
        return costs[n]

    radius = np.full(n_cand, INITIAL_RADIUS)
    ids = np.arange(n_cand)
    next_id = n_cand
    need = np.ones(n_cand, bool)  # candidates whose Jacobian is not known at their current point
    fresh = np.ones(n_cand, bool)  # ... and whose value is not yet recorded (new candidates)
    obs = jac = None
    iteration = 0
    counts = dict(gradient_evaluations=0, line_search_points=0)
    while True:
        if need.any():
            rows = np.flatnonzero(need)
            # Batch shapes are powers of two (or K): a few compilations, each measured once.
            size = min(1 << (len(rows) - 1).bit_length(), n_cand)
            charge = size * cost(size)
            if state["used"] + charge > budget:
                break
            o, j = (np.asarray(a)[: len(rows)] for a in
                    values_and_jacobians(problem, jnp.asarray(current[np.resize(rows, size)])))
            state["used"] += charge
            counts["gradient_evaluations"] += size
            (o, j), v, flip = _refold(o, j, current[rows], space, cp_symmetry)
            if obs is None:
                obs, jac = np.full((n_cand,) + o.shape[1:], np.nan), np.full((n_cand,) + j.shape[1:], np.nan)
            obs[rows], jac[rows], current[rows] = o, j, v
            new = fresh[rows]
            if new.any():
                record("refine", v[new], o[new], flip[new], ids[rows][new], iteration, np.ones(int(new.sum()), bool),
                       cost=charge / size)
            need[:] = False
            fresh[:] = False
            # A failed point is replaced below. Only the Jacobian rows the step uses count (reverse mode leaves the
            # others NaN; checking every row zeroed every radius and restarted every candidate).
            used = [0, scores.k] + ([DILUTION_INDEX] if scores.diluted else [])
            radius[rows] = np.where(np.all(np.isfinite(j[:, used]), axis=(1, 2)) & np.all(np.isfinite(o), axis=1),
                                    radius[rows], 0.0)
        charge = n_cand * n_trials
        if state["used"] + charge > budget:
            break
        iteration += 1
        trials = np.repeat(current[:, None, :], n_trials, axis=1)
        inside = scores.feasible(obs)
        for i in range(n_cand):
            if radius[i] > 0:
                move, restore = _direction(current[i], obs[i], jac[i], radius[i], scores, bau,
                                           space.model_dim if space.nuisance else None)
                step = move + restore
                trials[i, :-1] += np.asarray(LINE_SEARCH)[:, None] * step
                trials[i, -1] += SHORTEST_FRACTION * step if (inside[i] or not bau) else restore
        trials = space.clip(trials.reshape(-1, dim))
        t_obs = np.asarray(_values(problem, jnp.asarray(trials)))
        state["used"] += charge
        counts["line_search_points"] += charge
        t_obs, trials, flip = _fold(t_obs, trials, space, cp_symmetry)
        t_merit = scores.merit(t_obs).reshape(n_cand, n_trials)
        choice = np.argmax(t_merit, axis=1)
        accept = (radius > 0) & (t_merit[np.arange(n_cand), choice] > scores.merit(obs))
        chosen = np.zeros((n_cand, n_trials), bool)
        chosen[accept, choice[accept]] = True
        record("refine", trials, t_obs, flip, np.repeat(ids, n_trials), iteration, chosen.ravel())
        t_obs, trials = t_obs.reshape(n_cand, n_trials, -1), trials.reshape(n_cand, n_trials, dim)
        fractions = np.array(LINE_SEARCH + (SHORTEST_FRACTION,))
        for i in range(n_cand):
            if accept[i]:
                current[i], obs[i], need[i] = trials[i, choice[i]], t_obs[i, choice[i]], True
                restoring_only = choice[i] == n_trials - 1 and bau and not inside[i]
                # The next radius: twice the length that worked (the restoration alone: a quarter).
                radius[i] = 0.25 * radius[i] if restoring_only else min(2 * fractions[choice[i]] * radius[i],
                                                                         MAX_RADIUS)
            else:  # no trial improved: the next search starts below the shortest one tried
                radius[i] *= SHORTEST_FRACTION / 2
        # Restarts: a collapsed radius, or convergence onto a better candidate.
        merit = scores.merit(obs)
        for i in range(n_cand):
            duplicate = any(np.linalg.norm(current[i] - current[j]) < 0.01 and merit[j] >= merit[i]
                            for j in range(n_cand) if j != i)
            if (radius[i] < RESTART_RADIUS or duplicate) and queue:
                current[i] = queue.pop(0)
                radius[i], ids[i], need[i], fresh[i] = INITIAL_RADIUS, next_id, True, True
                next_id += 1
        bar.update(min(state["used"], budget))
    return dict(cost_of_gradient=cost(n_cand), **counts)


def optimise(
    rates: RateModel,
    *,
    objective: str = "lta",
    mass: float = 1.0,
    free_mass: bool = False,
    mass_bounds: tuple = (0.1, 30.0),
    hierarchy: str = "NH",
    bau: bool = True,
    bau_target: float = c.Y_B_OBSERVED,
    bau_tolerance: float = 0.1,
    budget: float = 1000.0,
    seed: int = 0,
    candidates: int = DEFAULT_CANDIDATES,
    screen_fraction: float = DEFAULT_SCREEN_FRACTION,
    extra_starts=(),
    t_start: float = 1e3,
    t_end: float = 10.0,
    steps: int = OPTIMISATION_STEPS,
    box: dict = LARGE_LTA_BOX,
    thermo=None,
    susceptibility=None,
    progress: bool = True,
    cp_symmetry: bool = True,
    sampler: str = "sobol",
    keep_history: bool = True,
    gradient: str = "reverse",
    start: str = "sample",
    gradient_cost: float | None = None,
    rate_uncertainty: float = 1.0,
    kinetics: str = "averaged",
    n_modes: int | None = None,
) -> OptimisationResult:
    """Screen-and-refine maximisation of the LTA or max |Y_e| with Y_B in the band target·(1 ± tolerance) (module
    docstring). ``budget`` counts solve-equivalents; ``extra_starts`` are θ-like dicts (M, delta_M, im_omega, re_omega,
    delta, eta) refined first (warm starts from neighbouring masses). ``screen_fraction = 1`` with
    ``sampler="random"`` is the plain random scan the optimiser is judged against. ``start="freeze-out"`` puts
    ``candidates`` guesses of the paper's §5.3 freeze-out recipe (:func:`lta_jax.studies.freeze_out.freeze_out_starts`:
    T_out from the Γ_N eigenvalues, (ΔM, Re ω) minimising δM(T_out)) first in the refinement queue.
    ``rate_uncertainty = F > 1``: every rate coefficient gets a smooth nuisance factor in [1/F, F]
    (:mod:`lta_jax.rates.uncertainty`, 24 parameters) that the refinement moves together with the model parameters
    (the screen uses central rates); the best point's factors are in ``best["rate_factors"]``.
    ``kinetics="resolved"`` (``n_modes`` modes, default 48): every solve is the momentum-resolved one (structured
    coupled step with :data:`OPTIMISATION_RESOLVED`, the full resolved solve for the confirmation), so the BAU constraint
    is on the resolved Y_B; a solve-equivalent is then a resolved solve.
    Long only through its 29 settings and this docstring (about 55 lines of code: checks, problem,
    screen, refinement, confirmation, result).
    """
    rate_uncertainty = _check_settings(objective, bau_target, bau_tolerance, mass, budget, screen_fraction,
                                       gradient_cost, candidates, steps, hierarchy, mass_bounds, sampler, gradient,
                                       rate_uncertainty, start)
    from lta_jax.rates.uncertainty import describe_factors

    solve_kinetics = check_study_kinetics(kinetics, n_modes, rate_uncertainty, objective, free_mass)

    values_and_jacobians = GRADIENTS[gradient]
    recipe_starts = []
    if start == "freeze-out":
        if free_mass:
            raise ValueError("start='freeze-out' needs a fixed mass (the recipe is per mass)")
        box, recipe_starts = _freeze_out_box(candidates, mass, rates, hierarchy, box, seed, thermo, susceptibility)
        extra_starts = list(recipe_starts) + list(extra_starts)
    space = _Space.make(box, mass, mass_bounds if free_mass else None, rate_uncertainty)
    diluted = objective == "effective-lta"
    problem = _build_problem(rates, space, objective, mass, hierarchy, mass_bounds if free_mass else None, t_start,
                             t_end, thermo, susceptibility, steps, solve_kinetics)
    scores = _Scores(OBJECTIVE_INDEX[objective], bau_target, bau_tolerance, bau, diluted)
    t0 = time.perf_counter()
    record = _Recorder(space, scores, objective, hierarchy, keep_history)
    state, history = record.state, record.history

    # 1. Screen. The screen samples the model parameters at central rates; the refinement moves the rate factors too.
    n_screen = max(1, int(budget * screen_fraction))
    sample = space.central(starting_points(n_screen, sampler=sampler, seed=seed, dim=space.model_dim))
    with _progress(progress, budget, f"{objective} at M = {mass:g} GeV") as bar:
        screen_obs, screen_v = _screen(problem, space, sample, cp_symmetry, record, bar, 6 + diluted)
        screened = n_screen

        # 2. Refine.
        queue = [space.clip(_to_v(s, space)) for s in extra_starts] + list(_ranked(screen_v, screen_obs, scores, bau))
        n_cand = min(candidates, len(queue))
        refinement = dict(cost_of_gradient=math.nan, gradient_evaluations=0, line_search_points=0)
        if n_cand and state["used"] + 1 <= budget and screen_fraction < 1:
            refinement = _refine(problem, np.stack([queue.pop(0) for _ in range(n_cand)]), queue, scores, bau,
                                 space, cp_symmetry, values_and_jacobians, gradient_cost, budget, state, record, bar)
    best, rejected = _verified_best(state, scores, rates, hierarchy, t_start, t_end, thermo, susceptibility,
                                    solve_kinetics)
    if "rate_log_factors" in best:
        best["rate_factors"] = describe_factors(best.pop("rate_log_factors"))
    if best["status"] == "success":
        if diluted:
            from lta_jax.studies.dilution import effective_observables

            best.update(effective_observables(best["Y_L_end"], best["Y_B"], best["D_fin"]))
    settings = dict(objective=objective, M=mass, free_M=free_mass, hierarchy=hierarchy, bau=bau,
                    bau_target=bau_target, bau_tolerance=bau_tolerance, budget=budget, seed=seed,
                    candidates=candidates, screen_fraction=screen_fraction, sampler=sampler, T_start=t_start,
                    T_end=t_end, steps=steps, gradient=gradient, box={k: list(v) for k, v in box.items()},
                    start=start, rate_uncertainty=rate_uncertainty)
    if solve_kinetics:
        settings.update(kinetics="resolved", n_modes=48 if n_modes is None else n_modes,
                        modes_in_grid=problem.fn.grid.n_modes, resolved_options=dict(OPTIMISATION_RESOLVED))
    if start == "freeze-out":
        settings["freeze_out_starts"] = recipe_starts
    return OptimisationResult(best=best, history=history, solve_equivalents=float(state["used"]), budget=budget,
                              screened=screened, **refinement, rejected_by_full_solve=rejected,
                              full_solves=state["full_solves"], seconds=time.perf_counter() - t0, settings=settings)


def _check_settings(objective, bau_target, bau_tolerance, mass, budget, screen_fraction, gradient_cost, candidates,
                    steps, hierarchy, mass_bounds, sampler, gradient, rate_uncertainty, start) -> float:
    """Every setting of :func:`optimise`, checked before anything is compiled; returns the rate-uncertainty factor F."""
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
    for name, value in (("bau_target", bau_target), ("bau_tolerance", bau_tolerance), ("mass", mass),
                        ("budget", budget)):
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be positive and finite, got {value!r}")
    if budget > MAX_BUDGET:
        raise ValueError(f"budget {budget:g} is more than the optimiser runs (at most {MAX_BUDGET:.0e} "
                         "solve-equivalents, ~14 core-hours; its screen is held in memory)")
    if not 0 < screen_fraction <= 1:
        raise ValueError(f"screen_fraction must be in (0, 1], got {screen_fraction!r}")
    if gradient_cost is not None and not (math.isfinite(gradient_cost) and gradient_cost >= 1):
        raise ValueError(f"gradient_cost (solve-equivalents per value + Jacobian) must be ≥ 1, got {gradient_cost!r}")
    if candidates < 1 or steps < 10:
        raise ValueError("candidates must be ≥ 1 and steps ≥ 10")
    if hierarchy not in ("NH", "IH"):
        raise ValueError(f"hierarchy must be NH or IH, got {hierarchy!r}")
    lo_m, hi_m = mass_bounds
    if not (0 < lo_m < hi_m):
        raise ValueError(f"invalid mass bounds {mass_bounds!r}")
    if sampler not in ("sobol", "random"):
        raise ValueError(f"sampler must be 'sobol' or 'random', got {sampler!r}")
    if gradient not in GRADIENTS:
        raise ValueError(f"gradient must be one of {tuple(GRADIENTS)}, got {gradient!r}")
    from lta_jax.rates.uncertainty import check_uncertainty_factor

    if start not in STARTS:
        raise ValueError(f"start must be one of {STARTS}, got {start!r}")
    return check_uncertainty_factor(rate_uncertainty)


class _Recorder:
    """Charges and records evaluations: ``history`` (every row, if kept) and ``state`` — the solve-equivalents used,
    the full solves, and ``top``, the best distinct evaluations by merit (the full solve's verification candidates)."""

    def __init__(self, space: _Space, scores: _Scores, objective: str, hierarchy: str, keep_history: bool):
        self.space, self.scores, self.objective, self.hierarchy = space, scores, objective, hierarchy
        self.keep_history = keep_history
        self.history: list = []
        self.state = dict(used=0.0, top=[], full_solves=0)

    def __call__(self, phase, vs, obs, flip, candidate=None, iteration=None, accepted=None, cost=1.0):
        """Record evaluations that have just been charged (``cost`` solve-equivalents each, the last ending at the
        running total)."""
        state, scores = self.state, self.scores
        thetas = np.asarray(jax.vmap(self.space.theta)(jnp.asarray(vs)))
        merit = scores.merit(obs)
        for i in range(len(vs)):
            row = _row(thetas[i], obs[i], self.objective, scores, bool(flip[i]), self.hierarchy)
            row.update(phase=phase, merit=float(merit[i]),
                       solve_equivalents=float(state["used"] - (len(vs) - 1 - i) * cost))
            if candidate is not None:
                row.update(candidate=int(candidate[i]), iteration=int(iteration), accepted=bool(accepted[i]))
            if self.keep_history:
                self.history.append(row)
            top = state["top"]
            if row["status"] == "success" and (len(top) < VERIFIED_AT_MOST or merit[i] > top[-1]["merit"]):
                key = tuple(round(row[k], 12) for k in ("M", "delta_M", "im_omega", "re_omega", "delta", "eta")) + tuple(
                    round(x, 12) for x in row.get("rate_log_factors", ()))
                if all(r["_key"] != key for r in top):
                    top.append(dict(row, _key=key))
                    top.sort(key=lambda r: -r["merit"])
                    del top[VERIFIED_AT_MOST:]


def _screen(problem: _Problem, space: _Space, sample, cp_symmetry: bool, record: _Recorder, bar, n_obs: int):
    """Solve the screening sample in batches of :data:`CHUNK` (the last one padded), CP-folded and recorded; returns
    (observables, coordinates) of every screened point."""
    screen_obs, screen_v = np.empty((0, n_obs)), np.empty((0, space.dim))
    for lo in range(0, len(sample), CHUNK):
        chunk = sample[lo:lo + CHUNK]
        padded = np.concatenate([chunk, np.repeat(chunk[-1:], CHUNK - len(chunk), axis=0)])
        obs = np.asarray(_values(problem, jnp.asarray(padded)))[: len(chunk)]
        obs, v, flip = _fold(obs, chunk, space, cp_symmetry)
        record.state["used"] += len(chunk)
        record("screen", v, obs, flip)
        screen_obs, screen_v = np.concatenate([screen_obs, obs]), np.concatenate([screen_v, v])
        bar.update(record.state["used"])
    return screen_obs, screen_v


def _freeze_out_box(candidates, mass, rates, hierarchy, box, seed, thermo, susceptibility):
    """(box, guesses) of ``start="freeze-out"``: the §5.3 recipe's guesses and, since the paper scans "in the vicinity"
    of the recipe's values, a narrow box around them for the screen."""
    from lta_jax.studies.freeze_out import freeze_out_starts, vicinity_box

    guesses = freeze_out_starts(candidates, mass, rates, hierarchy=hierarchy, box=box, seed=seed, thermo=thermo,
                                susceptibility=susceptibility)
    if not guesses:
        raise ValueError(f"the freeze-out recipe found no guess at M = {mass:g} GeV in the box (the Γ_N "
                         "eigenvalues never fall below H, or ΔM* lies outside it)")
    return vicinity_box(guesses, box), guesses


def _build_problem(rates, space: _Space, objective: str, mass: float, hierarchy: str, mass_bounds, t_start, t_end,
                   thermo, susceptibility, steps: int, solve_kinetics: dict | None = None) -> _Problem:
    """The map from normalised coordinates to observables the optimiser evaluates: the fixed-grid observable map of
    ``steps`` steps (rates range-checked at every mass it may visit; ``mass_bounds`` for a free mass) and, for the
    effective LTA, the dilution solve's thermodynamics."""
    reference = ModelParameters(mass, 1e-11, 0.0, math.pi / 2, 0.0, 0.0, hierarchy=hierarchy)
    for m in (mass_bounds if mass_bounds is not None else (mass,)):  # every mass the optimiser may visit
        rates.check_range(t_end, t_start, m)
    if solve_kinetics:  # the resolved splitting with the optimiser's numerics
        from lta_jax.solver.resolved import ResolvedOptions

        numerics = dict(resolved_options=ResolvedOptions(**OPTIMISATION_RESOLVED), **solve_kinetics)
    else:
        numerics = dict(solver_options=SolverOptions.fixed_grid(steps))
    fn = make_observable_map(reference, rates, t_start=t_start, t_end=t_end, thermo=thermo,
                             susceptibility=susceptibility, mode="forward", single_mass=mass_bounds is None,
                             **numerics)
    diluted = objective == "effective-lta"
    if diluted:
        from lta_jax.plasma.thermodynamics import in_house_thermodynamics
        from lta_jax.studies.dilution import T_FIN, T_IN

        dilution_thermo = in_house_thermodynamics() if thermo is None else thermo
        dilution_thermo.check_range(T_FIN, T_IN)
    return _Problem(fn, space, dilution_thermo if diluted else None, rows=(0, OBJECTIVE_INDEX[objective]))


def _refold(obs, jac, v, space, cp_symmetry):
    """CP folding of refined points: conjugating flips v's δ, η, Im ω and the signs of the asymmetry rows; the
    Jacobian in v of the conjugate is that of the original with the conjugated coordinates' columns flipped."""
    obs2, v2, flip = _fold(obs, v, space, cp_symmetry)
    jac = np.array(jac, dtype=float)
    if np.any(flip):
        jac[flip, :5, :] *= -1
        for col in (1, 3, 4):  # v coordinates of Im ω, δ, η: u → −u makes dv'/dv = −1 (v is affine in u)
            jac[flip, :, col] *= -1
    return (obs2, jac), v2, flip


def _measure_cost(problem: _Problem, vs, values_and_jacobians) -> float:
    """Solve-equivalents of one value + Jacobian: the wall time of the candidates' batched value + Jacobian per
    candidate, over the wall time per point of a screening batch (CHUNK points, the batch every screened point — and
    every point of the random-scan baseline — is solved in, and which the budget counts as 1 each). After compilation,
    medians of 3. A vmapped batch costs more per point as it grows (2-core CPU, M = 10 GeV, node grid: 3.45 ms per
    point in a batch of 8, 5.0 ms in one of 64), so the former unit, a value batch of the K candidates, charged a
    gradient 9.7 screened points for a cost of 5.4."""
    vs = jnp.asarray(vs)
    screen = jnp.resize(vs, (CHUNK, vs.shape[1]))  # the screen's batch shape (compiled there); rows repeat cyclically
    jax.block_until_ready(_values(problem, screen))
    jax.block_until_ready(values_and_jacobians(problem, vs))

    def median(f, x):
        times = []
        for _ in range(3):
            t = time.perf_counter()
            jax.block_until_ready(f(problem, x))
            times.append(time.perf_counter() - t)
        return float(np.median(times))

    per_screened_point = median(_values, screen) / CHUNK
    return max(1.0, median(values_and_jacobians, vs) / (vs.shape[0] * per_screened_point))


def _to_v(start: dict, space: _Space) -> np.ndarray:
    u = np.array([math.log10(start["delta_M"]), start["im_omega"], start["re_omega"], start["delta"], start["eta"]])
    v = (u - np.asarray(space.lo)) / np.asarray(space.width)
    if space.mass_bounds is not None:
        a, b = (math.log(m) for m in space.mass_bounds)
        v = np.append(v, (math.log(start["M"]) - a) / (b - a))
    return space.central(v)


def _ranked(vs, obs, scores: _Scores, bau: bool):
    """Screening points in the order they should be refined: feasible by J, then (with the constraint) points within
    a factor 10 of the target by J, then the rest by merit; near-duplicates (< 0.05 apart in v) dropped."""
    ok = np.all(np.isfinite(obs), axis=1)
    merit = scores.merit(obs)
    j = np.where(ok, np.log(np.maximum(scores.objective(obs), 1e-300)), -np.inf)
    if bau:
        g = scores.residual(obs)
        near = ok & np.isfinite(g) & (np.abs(g) < math.log(10))
        key = np.where(scores.feasible(obs), 2e3 + j, np.where(near, 1e3 + j, merit))
    else:
        key = merit
    chosen = []
    for i in np.argsort(-key):
        if not np.isfinite(key[i]):
            break
        if all(np.linalg.norm(vs[i] - vs[k]) >= 0.05 for k in chosen):
            chosen.append(i)
            yield vs[i]


def _row(theta, obs, objective, scores: _Scores, conjugated, hierarchy) -> dict:
    ok = bool(np.all(np.isfinite(obs)))
    return {
        "status": "success" if ok else "failed", "cp_conjugated": conjugated, "hierarchy": hierarchy,
        "M": float(theta[0]), "delta_M": float(10 ** theta[1]), "im_omega": float(theta[2]),
        "re_omega": float(theta[3]), "delta": float(theta[4] % (2 * math.pi)), "eta": float(theta[5] % (2 * math.pi)),
        "objective": float(scores.objective(obs)) if ok else math.nan,
        "Y_B": float(obs[0]) if ok else math.nan, "Y_L_end": float(obs[1]) if ok else math.nan,
        "soft_max_abs_Y_e": float(obs[5]) if ok else math.nan,
        "feasible": bool(scores.feasible(obs)),
    } | ({"D_fin": float(obs[DILUTION_INDEX]) if ok else math.nan} if scores.diluted else {}) | (
        {"rate_log_factors": [float(x) for x in theta[6:]]} if len(theta) > 6 else {})


#: Most full (adaptive) solves spent on confirming the best point's Y_B (:func:`_verified_best`).
VERIFIED_AT_MOST = 8


def _verified_best(state, scores: _Scores, rates, hierarchy, t_start, t_end, thermo, susceptibility,
                   solve_kinetics: dict | None = None):
    """The best evaluation whose Y_B band the full adaptive solve confirms, and the number of grid-feasible points it
    rejected. The optimiser's fixed grid (400 steps) can be off where Y_B nearly cancels, and a search that maximises
    J inside a thin band finds such places: at M = 20 GeV the best grid-feasible point of an envelope run (Y_B
    8.2e-11 on the grid) had Y_B = 3.5e-9 in the full solve. So the best points are re-solved in order of merit (up to
    :data:`VERIFIED_AT_MOST`, one solve-equivalent each, as the final solve always was) until one is confirmed; if
    none is, the best is reported with ``feasible`` false. Without the BAU constraint the first point is taken."""
    top = [{k: v for k, v in row.items() if k != "_key"} for row in state["top"]]
    if not top:
        return {"status": "no successful evaluation"}, 0

    def solve_fully(row):  # one solve-equivalent
        row.update(_full_solve(row, rates, hierarchy, t_start, t_end, thermo, susceptibility, solve_kinetics))
        state["used"] += 1
        state["full_solves"] += 1

    rejected = 0
    for row in top:
        if scores.bau and not row["feasible"]:
            break  # the rest are infeasible on the grid too
        solve_fully(row)
        y_b = row.get("full_solve_Y_B")
        confirmed = (row["full_solve_status"] == "success" and
                     (not scores.bau or (y_b is not None and abs(y_b / scores.target - 1) <= scores.tolerance)))
        row["full_solve_confirms_band"] = bool(confirmed)
        if confirmed:
            return row, rejected
        rejected += 1
    best = top[0]
    if "full_solve_status" not in best:  # no grid-feasible point: the best infeasible one, solved once for max |Y_e|
        solve_fully(best)
    best["feasible"] = False
    return best, rejected


def _full_solve(best: dict, rates, hierarchy, t_start, t_end, thermo, susceptibility,
                solve_kinetics: dict | None = None) -> dict:
    """max |Y_e| and T_max_Y_e of the best point from a full solve on the saved trajectory (the adaptive Magnus
    default, or the default resolved solve with ``solve_kinetics``)."""
    from lta_jax.solver.integrate import solve
    from lta_jax.solver.observables import summary

    params = ModelParameters(best["M"], best["delta_M"], best["im_omega"], best["re_omega"], best["delta"],
                             best["eta"], hierarchy=hierarchy)
    if "rate_log_factors" in best:  # the point's rate factors (rate-uncertainty optimisation)
        from lta_jax.rates.uncertainty import RateUncertainty

        rates = RateUncertainty(rates, best["rate_log_factors"])
    sol = solve(params, rates, t_start=t_start, t_end=t_end, thermo=thermo, susceptibility=susceptibility,
                **(solve_kinetics or {}))
    s = summary(sol)
    return {"max_abs_Y_e": s.get("max_abs_Y_e"), "T_max_Y_e": s.get("T_max_Y_e"), "full_solve_status": sol.status,
            "full_solve_Y_B": s.get("Y_B"), "full_solve_Y_L_end": s.get("Y_L_end")}


def cp_conjugate(theta) -> np.ndarray:
    """θ = (M, log10 ΔM, Im ω, Re ω, δ, η) → (M, log10 ΔM, −Im ω, Re ω, −δ, −η): F → F*, all asymmetries flip sign."""
    theta = np.array(theta, dtype=float)
    theta[[2, 4, 5]] *= -1
    return theta


class _NoBar:
    def update(self, completed):
        pass


class _TaskBar:
    """The optimiser's view of a :func:`lta_jax.studies.output.stderr_progress` bar: ``update(completed)``."""

    def __init__(self, bar, task):
        self.bar, self.task = bar, task

    def update(self, completed):
        self.bar.update(self.task, completed=completed)


@contextlib.contextmanager
def _progress(enabled: bool, total: float, description: str):
    """A progress bar of solve-equivalents on stderr (the package's one implementation), or nothing."""
    if not enabled:
        yield _NoBar()
        return
    bar, task = stderr_progress(description, total, unit="solve-equivalents")
    try:
        yield _TaskBar(bar, task)
    finally:
        bar.stop()
