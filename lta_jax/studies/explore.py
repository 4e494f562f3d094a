"""Where in parameter space is the BAU reproduced, and how is the LTA distributed there: gradient-based sampling of the
BAU-compatible region at fixed M with BlackJAX (paper Figs. 6 and 7; docs/exploration.md).

Target density over θ = (log10 ΔM, Im ω, Re ω, δ, η) at fixed M and hierarchy:

    p(θ) ∝ 1_box(θ) · exp(−½ (ln(|Y_B(θ)| / Y_B^obs) / W)²),

a flat prior on the box (the paper's Table 1: ``large-lta`` or ``broad``) times a likelihood Gaussian in
ln(Y_B/Y_B^obs) of width W. CP folding as in the optimiser: a point and its CP conjugate (Im ω, δ, η → −Im ω, −δ, −η)
have opposite asymmetries, so the density uses |Y_B| and a sample with Y_B < 0 is reported as its conjugate (all
asymmetries flipped) — the box is symmetric under the conjugation in Im ω, and δ, η are periodic.

Coordinates of the sampler (unbounded): a bounded parameter u ∈ (lo, hi) is v = (u − lo)/(hi − lo) = σ(z) with the
log-Jacobian log σ(z) + log(1 − σ(z)) added to the density; a periodic one (δ, η spanning 2π) is v = z mod 1 — the
density is periodic in z, so the chain moves freely around the circle and the marginal of v is the right one.

Y_B comes from the fixed-grid observable map of :mod:`lta_jax.solver.gradients` (Magnus4 on ``steps`` nodes including
T_sph and T_end, computed rates tabulated at M), differentiated in reverse mode (:func:`lta_jax.solver.magnus.expm`'s
Fréchet rule: exact gradients of the discrete solution). Chains run vmapped: one compiled program serves all.

Sampler: BlackJAX NUTS (default) or HMC, step size and diagonal mass matrix from Stan-style window adaptation per
chain. Budget in solve-equivalents: every gradient evaluation costs ``gradient_cost`` (measured at the start: the
wall time of value + gradient over that of one point of a vmapped value batch) and the draws stop when the next block
would exceed it. Resumable: after every block the chains' states and the draws so far are written atomically
(``DIR/state.npz``, ``DIR/samples.h5``); a rerun with the same settings continues the chains.
"""

from __future__ import annotations

import functools
import json
import math
import os
import pathlib
import sys
import time
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from lta_jax.studies.boxes import LARGE_LTA_BOX, PERIODIC

#: Observed baryon yield (docs/physics.md §5).
Y_B_OBSERVED = 8.7e-11
PARAMETERS = ("log10_delta_M", "im_omega", "re_omega", "delta", "eta")
#: The paper's Table-1 boxes at fixed M.
BOXES = {"large-lta": LARGE_LTA_BOX,
         "broad": {"log10_delta_M": (-17.0, -9.0), "im_omega": (-2.0, 2.0), "re_omega": (0.0, 2 * math.pi),
                   "delta": (0.0, 2 * math.pi), "eta": (0.0, 2 * math.pi)}}
#: Stored observables (names of the observable map; max |Y_e| is its soft maximum over the grid's nodes).
OBSERVABLES = ("Y_B", "Y_L_end", "Y_De_end", "Y_Dmu_end", "Y_Dtau_end", "max_abs_Y_e")
KERNELS = ("nuts", "hmc")


@dataclass
class ExploreSettings:
    """What defines a run (a rerun continues only with the same settings; the budget may grow)."""

    mass: float
    hierarchy: str = "NH"
    box: str = "large-lta"
    bau_width: float = 0.1
    chains: int = 4
    budget: float = 20000.0
    warmup: int = 100
    block: int = 25
    seed: int = 0
    kernel: str = "nuts"
    steps: int = 400
    #: NUTS trees of at most 2^max_doublings − 1 leapfrog steps (a thin band otherwise costs trees of depth 8–9)
    max_doublings: int = 6
    t_end: float = 10.0
    hmc_steps: int = 8

    def key(self) -> dict:
        d = dict(self.__dict__)
        d.pop("budget")
        return d


@dataclass
class ExploreResult:
    """Samples (chains, draws) per parameter and observable, and the run's summary (strict-JSON-ready)."""

    samples: dict
    summary: dict = field(default_factory=dict)


def check_settings(s: ExploreSettings) -> None:
    """Every setting checked before anything is compiled (clear ValueErrors)."""
    from lta_jax.studies.choices import MAX_BUDGET

    if not (isinstance(s.mass, (int, float)) and math.isfinite(s.mass) and 0.1 <= s.mass <= 30.0):
        raise ValueError(f"M must be a number in [0.1, 30] GeV, got {s.mass!r}")
    if s.hierarchy not in ("NH", "IH"):
        raise ValueError(f"hierarchy must be NH or IH, got {s.hierarchy!r}")
    if s.box not in BOXES:
        raise ValueError(f"box must be one of {sorted(BOXES)}, got {s.box!r}")
    if not (math.isfinite(s.bau_width) and 0.001 <= s.bau_width <= 10.0):
        raise ValueError(f"bau_width must be in [0.001, 10] (a width in ln Y_B), got {s.bau_width!r}")
    if not (isinstance(s.chains, int) and 1 <= s.chains <= 1024):
        raise ValueError(f"chains must be an integer in [1, 1024], got {s.chains!r}")
    if not (math.isfinite(s.budget) and 1 <= s.budget <= MAX_BUDGET):
        raise ValueError(f"budget must be in [1, {MAX_BUDGET:g}] solve-equivalents, got {s.budget!r}")
    for name, lo in (("warmup", 10), ("block", 1), ("steps", 50), ("hmc_steps", 1), ("max_doublings", 1)):
        value = getattr(s, name)
        if not (isinstance(value, int) and value >= lo):
            raise ValueError(f"{name} must be an integer ≥ {lo}, got {value!r}")
    if s.kernel not in KERNELS:
        raise ValueError(f"kernel must be one of {KERNELS}, got {s.kernel!r}")
    if not (math.isfinite(s.t_end) and 1.0 <= s.t_end <= 120.0):
        raise ValueError(f"t_end must be in [1, 120] GeV, got {s.t_end!r}")


def to_unit(z, periodic):
    """Sampler coordinates z (unbounded) → box coordinates v ∈ [0, 1): σ(z) for a bounded parameter, z mod 1 for a
    periodic one (module docstring)."""
    import jax
    import jax.numpy as jnp

    return jnp.where(jnp.asarray(periodic), jnp.mod(z, 1.0), jax.nn.sigmoid(z))


def log_jacobian(z, periodic):
    """log |dv/dz| summed over the bounded coordinates: log σ(z) + log(1 − σ(z)) (0 for the periodic ones), so that a
    flat prior on the box is a proper density in z."""
    import jax
    import jax.numpy as jnp

    return jnp.sum(jnp.where(jnp.asarray(periodic), 0.0, jax.nn.log_sigmoid(z) + jax.nn.log_sigmoid(-z)))


class _Target:
    """The log density in the sampler's unbounded coordinates z (module docstring) and the map z → θ, observables."""

    def __init__(self, settings: ExploreSettings, rates, thermo=None, susceptibility=None):
        from lta_jax.model.parameters import ModelParameters
        from lta_jax.solver.gradients import make_observable_map
        from lta_jax.solver.methods import SolverOptions

        box = BOXES[settings.box]
        self.lo = np.array([box[k][0] for k in PARAMETERS])
        self.width = np.array([box[k][1] - box[k][0] for k in PARAMETERS])
        self.periodic = np.array([k in PERIODIC and abs(self.width[i] - 2 * math.pi) < 1e-12
                                  for i, k in enumerate(PARAMETERS)])
        self.width_ln = settings.bau_width
        reference = ModelParameters(settings.mass, 1e-11, 0.0, math.pi / 2, 0.0, 0.0, hierarchy=settings.hierarchy)
        rates.check_range(settings.t_end, 1e3, settings.mass)
        self.fn = make_observable_map(reference, rates, t_start=None, t_end=settings.t_end, thermo=thermo,
                                      susceptibility=susceptibility,
                                      solver_options=SolverOptions.fixed_grid(settings.steps), mode="reverse")
        self.mass = settings.mass

    def unit(self, z):
        return to_unit(z, self.periodic)

    def theta(self, z):
        import jax.numpy as jnp

        u = jnp.asarray(self.lo) + jnp.asarray(self.width) * self.unit(z)
        return jnp.concatenate([jnp.asarray([self.mass]), u])

    def observables(self, z):
        return self.fn(self.theta(z))

    def log_density(self, z):
        import jax.numpy as jnp

        y_b = self.observables(z)[0]
        log_ratio = jnp.log(jnp.abs(y_b) / Y_B_OBSERVED)
        log_like = -0.5 * (log_ratio / self.width_ln) ** 2
        value = log_like + log_jacobian(z, self.periodic)
        return jnp.where(jnp.isfinite(value), value, -jnp.inf)

    def initial_positions(self, n: int, seed: int) -> np.ndarray:
        """Starting points: a Sobol screen of 16 n points, the n with the largest density (spread over the band)."""
        import jax

        from lta_jax.studies.boxes import starting_points

        v = np.clip(starting_points(16 * n, seed=seed, dim=5), 1e-3, 1 - 1e-3)
        z = np.where(self.periodic, v, np.log(v) - np.log1p(-v))
        dens = np.asarray(jax.jit(jax.vmap(self.log_density))(z))
        dens = np.where(np.isfinite(dens), dens, -np.inf)
        return z[np.argsort(-dens)[:n]]


def _fold(theta: np.ndarray, obs: np.ndarray, target: _Target):
    """CP folding of samples: Y_B < 0 → the conjugate point, every asymmetry flipped (max |Y_e| unchanged)."""
    theta, obs = np.array(theta), np.array(obs)
    flip = obs[..., 0] < 0
    theta[flip, 1] *= -1  # Im ω (boxes are symmetric in it)
    for i in (3, 4):  # δ, η → −δ, −η mod 2π, back into the box
        lo, width = target.lo[i], target.width[i]
        theta[flip, i] = lo + np.mod(-theta[flip, i] - lo, width)
    obs[flip, :5] *= -1
    return theta, obs, flip


def _diagnostics(draws: np.ndarray) -> tuple[float, float]:
    """(R-hat, ESS) of draws (chains, n) from BlackJAX's diagnostics."""
    import blackjax.diagnostics as diag
    import jax.numpy as jnp

    if draws.shape[1] < 4:
        return math.nan, math.nan
    x = jnp.asarray(draws)
    rhat = float(diag.potential_scale_reduction(x)) if draws.shape[0] > 1 else math.nan
    return rhat, float(diag.effective_sample_size(x))


def _measure_gradient_cost(target: _Target, z0: np.ndarray) -> float:
    """Solve-equivalents of one value + gradient: its wall time over that of one point of a vmapped value batch of
    64 (the batch unit of the optimiser and of scans), medians of 3 after compilation."""
    import jax
    import jax.numpy as jnp

    grad = jax.jit(jax.vmap(jax.value_and_grad(target.log_density)))
    values = jax.jit(jax.vmap(target.observables))
    z = jnp.asarray(z0)
    batch = jnp.resize(z, (64, z.shape[1]))
    jax.block_until_ready(grad(z))
    jax.block_until_ready(values(batch))

    def median(f, x):
        times = []
        for _ in range(3):
            t = time.perf_counter()
            jax.block_until_ready(f(x))
            times.append(time.perf_counter() - t)
        return float(np.median(times))

    return max(1.0, median(grad, z) / z.shape[0] / (median(values, batch) / 64))


def _atomic_write(path: pathlib.Path, write) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    write(tmp)
    os.replace(tmp, path)


def explore(mass: float, *, hierarchy: str = "NH", box: str = "large-lta", bau_width: float = 0.1, chains: int = 4,
            budget: float = 20000.0, seed: int = 0, out: str | os.PathLike | None = None, progress: bool = True,
            kernel: str = "nuts", warmup: int = 100, block: int = 25, steps: int = 400, t_end: float = 10.0,
            max_doublings: int = 6, hmc_steps: int = 8, rates=None, thermo=None,
            susceptibility=None, cluster=None) -> ExploreResult:
    """Sample the BAU-compatible region at fixed ``mass`` [GeV] (module docstring). ``budget`` in solve-equivalents
    (warm-up included). With ``out``, results are written there incrementally and a rerun continues the chains.
    Returns an :class:`ExploreResult` (samples (chains, draws) per name of :data:`PARAMETERS` and
    :data:`OBSERVABLES`; ``summary`` with R-hat and ESS per parameter, acceptance, solve-equivalents, settings).

    ``cluster`` (:class:`lta_jax.studies.cluster.ClusterOptions`): the chains are split into one group per worker
    (:func:`_explore_on_cluster`); ``out`` is then required and ``rates`` is a specification string."""
    if cluster is not None:
        return _explore_on_cluster(cluster, mass, hierarchy=hierarchy, box=box, bau_width=bau_width, chains=chains,
                                   budget=budget, seed=seed, out=out, progress=progress, kernel=kernel, warmup=warmup,
                                   block=block, steps=steps, t_end=t_end, max_doublings=max_doublings,
                                   hmc_steps=hmc_steps, rates=rates)
    settings = ExploreSettings(mass=float(mass), hierarchy=hierarchy, box=box, bau_width=float(bau_width),
                               chains=chains, budget=float(budget), warmup=warmup, block=block, seed=seed,
                               kernel=kernel, steps=steps, t_end=float(t_end), hmc_steps=hmc_steps,
                               max_doublings=max_doublings)
    check_settings(settings)
    out_dir = None if out is None else pathlib.Path(out)
    if out_dir is not None and out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"out must be a directory, got the file {out_dir}")
    if out_dir is not None and (out_dir / "groups").exists():
        raise ValueError(f"{out_dir} holds a cluster run (groups/); rerun it with --workers/--scheduler or use "
                         "another --out")

    import jax
    import jax.numpy as jnp

    if rates is None:
        from lta_jax.rates.computed import ComputedRates

        rates = ComputedRates.build()
    t_wall = time.perf_counter()
    target = _Target(settings, rates, thermo, susceptibility)
    state_file = None if out_dir is None else out_dir / "state.npz"
    previous = _load_state(state_file, settings)
    rng = jax.random.PRNGKey(seed)
    def say(text):
        if progress:
            print(f"explore: {text}", file=sys.stderr, flush=True)

    if previous is None:
        say(f"M = {mass:g} GeV {hierarchy}, {chains} chains, budget {budget:g} solve-equivalents: screening "
            f"{16 * chains} Sobol points for the starts (compiles the solve)")
        z0 = target.initial_positions(chains, seed)
        gradient_cost = _measure_gradient_cost(target, z0)
        say(f"a value + gradient costs {gradient_cost:.2f} solve-equivalents; warm-up of {warmup} steps per chain "
            "(compiles the sampler)")
        spent = 16.0 * chains + 3 * chains * gradient_cost + 3 * 64  # screen + cost measurement
        warmup_steps = affordable_warmup(settings, budget - spent, gradient_cost)
        if warmup_steps < warmup:
            say(f"warm-up cut to {warmup_steps} steps per chain: at most half the remaining budget, counting every "
                "step at its largest number of gradients")
        warm_key, rng = jax.random.split(rng)
        params, positions, warm_grads, warm_accept = _warm_up(target, settings, z0, warm_key, warmup_steps)
        warm_accept = {"acceptance": warm_accept, "steps": warmup_steps}
        spent += warm_grads * gradient_cost
        draws = {name: np.zeros((chains, 0)) for name in PARAMETERS + OBSERVABLES}
        acceptance, grad_evals, flips = [], 0.0, 0
    else:
        (params, positions, rng, spent, gradient_cost, draws, acceptance, grad_evals, flips) = previous
        warm_accept = {"acceptance": math.nan, "steps": None}  # the warm-up ran in an earlier call
    step = _make_step(target, settings, params)
    states = jax.vmap(lambda z: _init_state(settings.kernel, z, target.log_density))(jnp.asarray(positions))
    observe = jax.jit(jax.vmap(lambda z: jnp.concatenate([target.theta(z)[1:], target.observables(z)])))
    say(f"warm-up done ({spent:.0f} solve-equivalents so far); drawing blocks of {block}" if previous is None else
        f"continuing {chains} chains from {draws['Y_B'].shape[1]} draws ({spent:.0f} solve-equivalents so far)")
    while True:
        done = draws["Y_B"].shape[1]
        # gradients per draw: measured on the draws so far (NUTS trees vary), else the kernel's nominal count
        per_draw = grad_evals / (done * chains) if done else (settings.hmc_steps if settings.kernel == "hmc" else 8.0)
        next_block = settings.block * chains * (per_draw * gradient_cost + 1)
        if done and spent + next_block > settings.budget:
            break  # at least one block is always drawn: the budget is met to within one block, reported exactly
        rng, key = jax.random.split(rng)
        states, infos = _run_block(step, states, key, settings.block, chains)
        z = np.asarray(states.position)
        block_obs = np.asarray(observe(jnp.asarray(np.asarray(infos.position).reshape(-1, 5))))
        theta = block_obs[:, :5].reshape(chains, settings.block, 5)
        obs = block_obs[:, 5:].reshape(chains, settings.block, len(OBSERVABLES))
        theta, obs, flip = _fold(theta, obs, target)
        flips += int(flip.sum())
        for i, name in enumerate(PARAMETERS):
            draws[name] = np.concatenate([draws[name], theta[..., i]], axis=1)
        for i, name in enumerate(OBSERVABLES):
            draws[name] = np.concatenate([draws[name], obs[..., i]], axis=1)
        n_grad = float(np.sum(np.asarray(infos.num_integration_steps)))
        grad_evals += n_grad
        spent += n_grad * gradient_cost + chains * settings.block  # the stored observables: one value each
        acceptance.append(float(np.mean(np.asarray(infos.acceptance_rate))))
        positions = z
        if out_dir is not None:
            _save(out_dir, settings, params, positions, rng, spent, gradient_cost, draws, acceptance, grad_evals,
                  flips, warm_accept, target, time.perf_counter() - t_wall)
        say(f"{draws['Y_B'].shape[1]} draws per chain, {spent:.0f}/{budget:g} solve-equivalents, "
            f"acceptance {acceptance[-1]:.2f}")
    summary = _summary(settings, draws, acceptance, spent, gradient_cost, grad_evals, flips, warm_accept,
                       time.perf_counter() - t_wall)
    if out_dir is not None:
        _atomic_write(out_dir / "summary.json", lambda p: p.write_text(json.dumps(summary, indent=1,
                                                                               allow_nan=False)))
    return ExploreResult(draws, summary)


def _explore_group(spec, out_dir: str, kwargs: dict) -> ExploreResult:
    """One group of chains on a cluster worker: :func:`explore` in its own directory (resumable on its own)."""
    from lta_jax.studies.cluster import rate_model_for

    return explore(rates=rate_model_for(spec), out=out_dir, progress=False, **kwargs)


def _explore_on_cluster(cluster, mass, *, chains: int, budget: float, seed: int, out, progress: bool, rates,
                        **kwargs) -> ExploreResult:
    """The chains split into groups, one :func:`explore` per group on the Dask cluster (``DIR/groups/<g>``, seed
    ``seed + g``, the budget shared in proportion to the chains); then the draws of all groups as one set of chains
    (each group's draws cut to the shortest group's) in ``DIR/samples.h5`` and ``DIR/summary.json``, R-hat and ESS
    over all chains. Groups: one per worker of a local cluster, one per chain on a scheduler (its worker count may
    change). A rerun resumes every group from its directory. The draws differ from an in-process run with the same
    seed (each group screens its own starts)."""
    from lta_jax.studies.cluster import dask_client, run_tasks

    if out is None:
        raise ValueError("explore on a cluster needs an output directory (out=...): every group writes its chains there")
    if not isinstance(rates, (str, type(None))):
        raise ValueError("on a cluster, give the rate model as its specification string (workers build it)")
    settings = ExploreSettings(mass=float(mass), chains=chains, budget=float(budget), seed=seed,
                               **{k: v for k, v in kwargs.items() if k in ExploreSettings.__dataclass_fields__})
    check_settings(settings)
    out_dir = pathlib.Path(out)
    if (out_dir / "state.npz").exists():
        raise ValueError(f"{out_dir} holds an in-process run (state.npz); use another --out for a cluster run")
    groups = min(chains, cluster.workers if cluster.workers is not None else chains)
    sizes = [chains // groups + (1 if g < chains % groups else 0) for g in range(groups)]
    tasks = [(f"group-{g}", _explore_group,
              (rates, str(out_dir / "groups" / str(g)),
               dict(mass=mass, chains=n, budget=max(1.0, budget * n / chains), seed=seed + g, **kwargs)))
             for g, n in enumerate(sizes)]
    results = {}
    t_wall = time.perf_counter()
    with dask_client(cluster) as client:
        if progress:
            print(f"explore: {chains} chains in {groups} groups on the {cluster.description}", file=sys.stderr,
                  flush=True)

        def collect(name, result):
            results[name] = result
            if progress:
                print(f"explore: {name} done ({len(results)}/{groups})", file=sys.stderr, flush=True)

        run_tasks(client, tasks, collect, in_flight_per_worker=1, key_prefix="explore")
    parts = [results[f"group-{g}"] for g in range(groups)]
    shortest = min(p.samples["Y_B"].shape[1] for p in parts)
    draws = {name: np.concatenate([p.samples[name][:, :shortest] for p in parts], axis=0)
             for name in PARAMETERS + OBSERVABLES}
    summaries = [p.summary for p in parts]
    acceptance = [s["acceptance"] for s in summaries if s["acceptance"] is not None]
    warm = [s["warmup_acceptance"] for s in summaries if s["warmup_acceptance"] is not None]
    steps_run = [s["warmup_steps_run"] for s in summaries if s["warmup_steps_run"] is not None]
    summary = _summary(settings, draws, acceptance, sum(s["solve_equivalents"] for s in summaries),
                       float(np.mean([s["gradient_cost_solve_equivalents"] for s in summaries])),
                       sum(s["gradient_evaluations_after_warmup"] for s in summaries),
                       sum(s["cp_folded_draws"] for s in summaries),
                       {"acceptance": float(np.mean(warm)) if warm else math.nan,
                        "steps": min(steps_run) if steps_run else None},
                       time.perf_counter() - t_wall)
    summary["cluster"] = {"where": cluster.description, "groups": groups, "chains_per_group": sizes,
                          "draws_per_chain_per_group": [p.samples["Y_B"].shape[1] for p in parts]}

    _write_samples(out_dir, settings, draws, "(chains, draws) of all groups; parameters CP-folded so that Y_B > 0")
    _atomic_write(out_dir / "summary.json", lambda p: p.write_text(json.dumps(summary, indent=1, allow_nan=False)))
    return ExploreResult(draws, summary)


def _init_state(kernel: str, z, log_density):
    import blackjax

    return blackjax.nuts.init(z, log_density) if kernel == "nuts" else blackjax.hmc.init(z, log_density)


def _make_step(target: _Target, settings: ExploreSettings, params):
    import blackjax
    import jax

    step_size, inverse_mass = params
    if settings.kernel == "nuts":
        kernel = blackjax.nuts.build_kernel()

        def one(key, state, eps, minv):
            return kernel(key, state, target.log_density, eps, minv, max_num_doublings=settings.max_doublings)
    else:
        kernel = blackjax.hmc.build_kernel()

        def one(key, state, eps, minv):
            return kernel(key, state, target.log_density, eps, minv, settings.hmc_steps)

    def step(keys, states):
        return jax.vmap(one)(keys, states, step_size, inverse_mass)

    return step


def _run_block(step, states, key, n: int, chains: int):
    """``n`` draws of every chain from ``states``: (new states, :class:`_Info` with arrays of shape (chains, n, ...))."""
    return _block_runner(step, n, chains)(states, key)


@functools.lru_cache(maxsize=8)
def _block_runner(step, n: int, chains: int):
    """The compiled block of ``n`` draws for one ``step`` (one compilation per run, not one per block)."""
    import jax

    def body(carry, k):
        new, info = step(jax.random.split(k, chains), carry)
        return new, _Info(new.position, info.acceptance_rate, info.num_integration_steps)

    @jax.jit
    def run(states, key):
        states, infos = jax.lax.scan(body, states, jax.random.split(key, n))
        # scan stacks along the first axis (draws); the stored layout is (chains, draws)
        return states, _Info(*(jax.numpy.swapaxes(x, 0, 1) for x in infos))

    return run


class _Info(NamedTuple):
    position: object
    acceptance_rate: object
    num_integration_steps: object


#: Least warm-up steps per chain (as ``check_settings`` requires of ``warmup``), run whatever the budget.
MIN_WARMUP = 10


def affordable_warmup(settings: ExploreSettings, remaining: float, gradient_cost: float) -> int:
    """Warm-up steps per chain that fit in half the ``remaining`` budget with every step at its largest number of
    gradients (NUTS: 2^max_doublings, HMC: hmc_steps): the warm-up cannot exceed the budget, whatever its trees do
    (it once spent 42000 solve-equivalents of a 40000 budget). At least :data:`MIN_WARMUP`, at most ``warmup``."""
    per_step = 2 ** settings.max_doublings if settings.kernel == "nuts" else settings.hmc_steps
    fits = math.floor(0.5 * max(remaining, 0.0) / (settings.chains * per_step * gradient_cost))
    return int(min(settings.warmup, max(MIN_WARMUP, fits)))


def _warm_up(target: _Target, settings: ExploreSettings, z0: np.ndarray, key, steps: int):
    """Stan-style window adaptation of step size and diagonal inverse mass matrix over ``steps`` steps, one per chain
    (vmapped)."""
    import blackjax
    import jax
    import jax.numpy as jnp

    algorithm = blackjax.nuts if settings.kernel == "nuts" else blackjax.hmc
    extra = ({"max_num_doublings": settings.max_doublings} if settings.kernel == "nuts"
             else {"num_integration_steps": settings.hmc_steps})

    def one(k, z):
        adapt = blackjax.window_adaptation(algorithm, target.log_density, target_acceptance_rate=0.8, **extra)
        (state, params), info = adapt.run(k, z, num_steps=steps)
        return (state.position, params["step_size"], params["inverse_mass_matrix"],
                jnp.sum(info.info.num_integration_steps), jnp.mean(info.info.acceptance_rate))

    keys = jax.random.split(key, settings.chains)
    positions, eps, minv, n_steps, accept = jax.jit(jax.vmap(one))(keys, jnp.asarray(z0))
    return (eps, minv), np.asarray(positions), float(np.sum(np.asarray(n_steps))), float(np.mean(np.asarray(accept)))


def _summary(settings, draws, acceptance, spent, gradient_cost, grad_evals, flips, warm_accept, wall) -> dict:
    per_parameter = {}
    for name in PARAMETERS + ("log10_abs_Y_L_end",):
        x = (np.log10(np.abs(draws["Y_L_end"]) + 1e-300) if name == "log10_abs_Y_L_end" else draws[name])
        rhat, ess = _diagnostics(x)
        q = np.quantile(x, [0.16, 0.5, 0.84]) if x.size else [math.nan] * 3
        per_parameter[name] = {"rhat": _finite(rhat), "ess": _finite(ess), "median": _finite(q[1]),
                               "interval_68": [_finite(q[0]), _finite(q[2])]}
    ess_min = min((v["ess"] for v in per_parameter.values() if v["ess"] is not None), default=None)
    return {"settings": settings.__dict__, "draws_per_chain": int(draws["Y_B"].shape[1]),
            "solve_equivalents": float(spent), "gradient_cost_solve_equivalents": float(gradient_cost),
            # the warm-up (at least MIN_WARMUP steps, at most half the budget) and the first block are always run,
            # whatever the budget (docs/exploration.md)
            "budget_exceeded": bool(spent > settings.budget),
            "warmup_steps_run": warm_accept["steps"],
            "gradient_evaluations_after_warmup": float(grad_evals),
            "acceptance": _finite(float(np.mean(acceptance))) if acceptance else None,
            "warmup_acceptance": _finite(warm_accept["acceptance"]), "cp_folded_draws": int(flips),
            "parameters": per_parameter, "rhat": {k: v["rhat"] for k, v in per_parameter.items()},
            "ess": {k: v["ess"] for k, v in per_parameter.items()},
            "min_ess_per_solve_equivalent": (None if ess_min is None or spent <= 0 else ess_min / spent),
            "wall_seconds": float(wall)}


def _finite(x):
    return float(x) if x is not None and math.isfinite(float(x)) else None


def _write_samples(out_dir, settings, draws, layout: str) -> None:
    """``DIR/samples.h5``, atomically: one dataset (chains, draws) per parameter and observable, the settings."""
    import h5py

    def write_h5(path):
        with h5py.File(path, "w") as f:
            for name, values in draws.items():
                f.create_dataset(name, data=np.asarray(values))
            f.attrs["settings"] = json.dumps(settings.__dict__)
            f.attrs["layout"] = layout

    _atomic_write(out_dir / "samples.h5", write_h5)


def _save(out_dir, settings, params, positions, rng, spent, gradient_cost, draws, acceptance, grad_evals, flips,
          warm_accept, target, wall) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_samples(out_dir, settings, draws, "(chains, draws); parameters CP-folded so that Y_B > 0")
    eps, minv = params

    def write_state(path):
        with open(path, "wb") as fh:
            np.savez(fh, step_size=np.asarray(eps), inverse_mass=np.asarray(minv), positions=np.asarray(positions),
                     rng=np.asarray(rng), spent=spent, gradient_cost=gradient_cost, acceptance=np.asarray(acceptance),
                     grad_evals=grad_evals, flips=flips, key=json.dumps(settings.key()))

    _atomic_write(out_dir / "state.npz", write_state)
    summary = _summary(settings, draws, acceptance, spent, gradient_cost, grad_evals, flips, warm_accept, wall)
    _atomic_write(out_dir / "summary.json", lambda p: p.write_text(json.dumps(summary, indent=1, allow_nan=False)))


def _load_state(path, settings: ExploreSettings):
    """The saved chains of a previous run with the same settings (budget aside), or None. A different run in the same
    folder is refused (ValueError) rather than mixed."""
    if path is None or not path.is_file():
        return None
    import h5py
    import jax.numpy as jnp

    with np.load(path) as s:
        if json.loads(str(s["key"])) != json.loads(json.dumps(settings.key())):
            raise ValueError(f"{path.parent} holds a run with other settings ({str(s['key'])}); use another --out")
        params = (jnp.asarray(s["step_size"]), jnp.asarray(s["inverse_mass"]))
        state = (params, s["positions"], jnp.asarray(s["rng"]), float(s["spent"]), float(s["gradient_cost"]))
        acceptance, grad_evals, flips = list(s["acceptance"]), float(s["grad_evals"]), int(s["flips"])
    with h5py.File(path.parent / "samples.h5", "r") as f:
        draws = {name: np.asarray(f[name]) for name in PARAMETERS + OBSERVABLES}
    return (*state, draws, acceptance, grad_evals, flips)


__all__ = ["explore", "affordable_warmup", "MIN_WARMUP", "to_unit", "log_jacobian", "ExploreResult", "ExploreSettings", "BOXES", "PARAMETERS", "OBSERVABLES", "Y_B_OBSERVED",
           "check_settings"]
