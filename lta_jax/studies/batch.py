"""Many parameter points in one call, with a diffrax status per point (issue 5).

:func:`solve_batch` validates every point first (a clear error naming the point, before compilation), then solves them
with one of four strategies that all run the same compiled, pure per-point function (:func:`point_observables`):

* ``"sequential"`` — one compiled solve per point, one after the other;
* ``"threads"`` — a pool of Python threads, each solving chunks of up to :data:`THREAD_CHUNK` points in one compiled
  ``lax.map`` call (XLA releases the GIL while it runs, so the chunks run concurrently on the host's cores; one call
  per chunk instead of per point removes the per-call dispatch that cost about a third of the time of a fixed-grid
  point: large-LTA box, M = 1 GeV to 10 GeV, 398 steps, 64 points, 2 threads, the compiled calls alone: chunks of
  1 / 4 / 16 points 399–416 / 551–566 / 593–597 points/s; docs/numerics.md);
* ``"map"`` — ``jax.lax.map`` over a chunk: one compiled call per chunk, points still solved one after the other;
* ``"vmap"`` — ``jax.vmap`` over a chunk: all points step in lock-step (every element takes as many steps as the
  slowest). This is the GPU strategy. Chunks are sharded over all local devices when there is more than one.

``strategy="auto"`` picks ``"vmap"`` on GPU/TPU and ``"threads"`` on CPU, the choice measured in
``benchmarks/bench_batch.py`` and ``benchmarks/bench_magnus.py`` (see benchmarks/README.md): on the 2-core CPU machine
vmap loses throughput as the batch grows, and threads are never slower than sequential solves. This holds for the
fixed-grid path too, where vmap has no stragglers (auto chose vmap there until 2026-12-02): large-LTA box at
M = 1 GeV to 10 GeV, 399 steps, 400 saved points, medians of 3 warm calls, same process: 32 points 181–182 (vmap)
vs 241–262 points/s (threads), 128 points 172 vs 287–288; first call 6.7–11.6 vs 0.4–4.0 s.

A failed solve is reported in ``BatchResult.status`` (the diffrax result name) and its observables are NaN — never
numbers.
"""

from __future__ import annotations

import math
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from lta_jax.model import constants as c
from lta_jax.kinetics.averaged import KineticOptions, KineticSystem, conserved_combinations
from lta_jax.solver.observables import (SphaleronKernel, baryon_asymmetry_simple, baryon_asymmetry_sphaleron,
                                        sphaleron_kernel)
from lta_jax.model.parameters import ModelParameters, validate_parameters
from lta_jax.rates.base import RateModel
from lta_jax.model.validity import check_temperatures, start_temperature
from lta_jax.cache import first_time
from lta_jax.rates.interpolated import cached_table
from lta_jax.solver.integrate import solve_arrays
from lta_jax.solver.methods import SolverOptions
from lta_jax.solver.result import SPHALERON_WINDOW
from lta_jax.plasma.susceptibility import Susceptibility
from lta_jax.plasma.thermodynamics import Thermodynamics
from lta_jax.solver.setup import default_models

#: Scalar observables of every batch point (the keys of ``BatchResult.observables``); same meaning as in
#: :func:`lta_jax.solver.observables.summary`.
BATCH_OBSERVABLES = ("Y_B", "Y_B_sphaleron", "Y_L_sph", "Y_L_end", "Y_De_end", "Y_Dmu_end", "Y_Dtau_end",
                     "Delta_N_end", "max_abs_Y_e", "Y_e_at_max", "T_max_Y_e", "L_plus_end", "L_minus_end")

STRATEGIES = ("auto", "sequential", "threads", "map", "vmap")

#: diffrax result code → name (0 is "successful").
RESULT_NAMES = {int(item._value): name for name, item in diffrax.RESULTS._name_to_item.items()}


def result_name(code: int) -> str:
    """"success" or the diffrax result name of an integer result code."""
    code = int(code)
    return "success" if code == 0 else RESULT_NAMES.get(code, f"result_{code}")


class BatchSetup(eqx.Module):
    """What is shared by all points of a batch (rates, thermodynamics, susceptibility, options, hierarchy)."""

    like: ModelParameters
    rates: RateModel
    thermo: Thermodynamics
    susceptibility: Susceptibility
    options: KineticOptions
    solver_options: SolverOptions = eqx.field(static=True)
    # Momentum-resolved equations: the grid and their options (None: the averaged equations).
    grid: Any = None
    resolved_options: Any = eqx.field(static=True, default=None)
    # Y_B of the sphaleron equation as weights on the window grid, computed once per batch (None: per point).
    sphaleron: SphaleronKernel | None = None


def point_observables(setup: BatchSetup, theta, t_start, t_end) -> dict:
    """Pure per-point function: θ = (M, ΔM, Im ω, Re ω, δ, η) ↦ dict of scalar observables, result code and steps.

    Traceable, vmappable. The observables are those of :func:`lta_jax.solver.observables.summary` (Y_B from the simple rule
    and from the sphaleron rate equation, Y_L at T_sph and T_end, Y_Δα(T_end), Δ_N, max |Y_e| below T_sph with its
    sign and temperature, L±); observables of a failed solve are NaN.
    """
    like = setup.like
    params = ModelParameters(theta[0], theta[1], theta[2], theta[3], theta[4], theta[5], hierarchy=like.hierarchy,
                             neutrino_data=like.neutrino_data, v0=like.v0)
    system = KineticSystem(params, setup.rates, setup.thermo, setup.susceptibility, setup.options)
    if setup.resolved_options is not None:
        from lta_jax.kinetics.resolved import ResolvedSystem
        from lta_jax.solver.resolved import solve_resolved_arrays

        system = ResolvedSystem(system, setup.grid)
        raw, _ = solve_resolved_arrays(system, t_start, t_end, None, setup.resolved_options)
    else:
        raw = solve_arrays(system, t_start, t_end, None, setup.solver_options)
    ok = raw.result == diffrax.RESULTS.successful
    y_end = raw.states[-1]
    temperatures = params.mass * jnp.exp(-raw.z)
    in_window = temperatures <= c.T_SPHALERON * (1 + 1e-12)
    abs_e = jnp.where(in_window, jnp.abs(raw.states[:, 0]), -1.0)
    i_max = jnp.argmax(abs_e)
    any_in = jnp.any(in_window)
    hi, lo = SPHALERON_WINDOW
    sph_in = (t_end <= c.T_SPHALERON) & (t_start >= c.T_SPHALERON)
    window_in = (t_end <= lo) & (t_start >= hi)
    if setup.sphaleron is None:
        y_b_sph = baryon_asymmetry_sphaleron(system, raw.z_window, raw.states_window)
    else:
        y_b_sph = setup.sphaleron(raw.states_window)
    l_plus, l_minus = conserved_combinations(y_end)
    nan = jnp.nan
    values = {
        "Y_B": jnp.where(sph_in, baryon_asymmetry_simple(raw.state_sph), nan),
        "Y_B_sphaleron": jnp.where(window_in, y_b_sph, nan),
        "Y_L_sph": jnp.where(sph_in, jnp.sum(raw.state_sph[0:3]), nan),
        "Y_L_end": jnp.sum(y_end[0:3]),
        "Y_De_end": y_end[0], "Y_Dmu_end": y_end[1], "Y_Dtau_end": y_end[2],
        "Delta_N_end": y_end[7] + y_end[8],
        "max_abs_Y_e": jnp.where(any_in, abs_e[i_max], nan),
        "Y_e_at_max": jnp.where(any_in, raw.states[i_max, 0], nan),
        "T_max_Y_e": jnp.where(any_in, temperatures[i_max], nan),
        "L_plus_end": l_plus, "L_minus_end": l_minus,
    }
    values = {k: jnp.where(ok, v, nan) for k, v in values.items()}
    values["result"] = raw.result._value
    values["steps"] = raw.num_steps
    values["rejected_steps"] = raw.num_rejected_steps
    return values


_point_jit = eqx.filter_jit(point_observables)


def _hash_or_id(obj):
    try:
        return ("hash", type(obj), hash(obj))
    except TypeError:
        return ("id", id(obj))


def _compile_key(setup: BatchSetup):
    """Identifies a set-up already compiled by ``_point_jit`` (a heuristic that only decides whether the threads
    wait for one serial warm-up call: the in-house models are cached objects, so their ids are stable; a false miss
    costs one serial point, a false hit only lets threads trace concurrently)."""
    leaves = jax.tree_util.tree_leaves(eqx.filter(setup, eqx.is_array))
    return (_hash_or_id(setup.rates), _hash_or_id(setup.thermo), _hash_or_id(setup.susceptibility),
            setup.like.hierarchy, setup.options,
            setup.solver_options, setup.resolved_options, tuple((x.shape, str(x.dtype)) for x in leaves))


@eqx.filter_jit
def _chunk_vmap(setup: BatchSetup, thetas, t_starts, t_ends):
    return jax.vmap(point_observables, in_axes=(None, 0, 0, 0))(setup, thetas, t_starts, t_ends)


@eqx.filter_jit
def _chunk_map(setup: BatchSetup, thetas, t_starts, t_ends):
    return jax.lax.map(lambda args: point_observables(setup, *args), (thetas, t_starts, t_ends))


@dataclass
class BatchResult:
    """Per-point results of :func:`solve_batch` (NumPy arrays of length n, in input order).

    Attributes:
        inputs: dict of input arrays (M, delta_M, im_omega, re_omega, delta, eta, T_start, T_end) and ``hierarchy``.
        observables: dict name → array (:data:`BATCH_OBSERVABLES`), NaN where a solve failed.
        status: "success" or the diffrax result name, per point.
        result_code: the integer diffrax result code.
        steps, rejected_steps: solver step counts per point.
        seconds: wall time per point (for chunked strategies, the chunk's time divided by its size).
        strategy, chunk_size, workers: how the batch was run.
    """

    inputs: dict
    observables: dict
    status: np.ndarray
    result_code: np.ndarray
    steps: np.ndarray
    rejected_steps: np.ndarray
    seconds: np.ndarray
    strategy: str
    chunk_size: int
    workers: int
    extra: dict = field(default_factory=dict)

    @property
    def succeeded(self) -> np.ndarray:
        return self.result_code == 0

    def __len__(self) -> int:
        return len(self.status)

    def rows(self) -> list[dict]:
        """One JSON-ready dict per point (inputs, observables, status, steps, seconds)."""
        out = []
        for i in range(len(self)):
            row = {k: (v if isinstance(v, str) else float(v[i])) for k, v in self.inputs.items()}
            row.update({k: float(v[i]) for k, v in self.observables.items()})
            row.update(status=str(self.status[i]), steps=int(self.steps[i]),
                       rejected_steps=int(self.rejected_steps[i]), seconds=float(self.seconds[i]))
            out.append(row)
        return out


def parameter_arrays(points) -> dict:
    """Normalise batch input to a dict of 1-d float arrays (M, delta_M, im_omega, re_omega, delta, eta) + hierarchy.

    Accepts a sequence of :class:`ModelParameters` (same hierarchy), one :class:`ModelParameters` whose fields are
    1-d arrays, or a dict of equal-length arrays with those keys (``hierarchy`` optional, default "NH").
    """
    keys = ("M", "delta_M", "im_omega", "re_omega", "delta", "eta")
    fields = ("mass", "delta_mass", "im_omega", "re_omega", "delta", "eta")
    if isinstance(points, ModelParameters):
        arrays = {k: np.atleast_1d(np.asarray(getattr(points, f), dtype=float)) for k, f in zip(keys, fields)}
        hierarchy = points.hierarchy
    elif isinstance(points, dict):
        missing = [k for k in keys if k not in points]
        if missing:
            raise ValueError(f"batch dict is missing {missing}; needs {keys}")
        arrays = {k: np.atleast_1d(np.asarray(points[k], dtype=float)) for k in keys}
        hierarchy = str(points.get("hierarchy", "NH")).upper()
    else:
        points = list(points)
        if not points:
            raise ValueError("empty batch")
        if not all(isinstance(p, ModelParameters) for p in points):
            raise TypeError("batch must be ModelParameters objects, one batched ModelParameters, or a dict of arrays")
        hierarchies = {p.hierarchy for p in points}
        if len(hierarchies) > 1:
            raise ValueError(f"one hierarchy per batch (got {sorted(hierarchies)}); split the batch")
        hierarchy = hierarchies.pop()
        arrays = {k: np.array([float(getattr(p, f)) for p in points]) for k, f in zip(keys, fields)}
    lengths = {k: v.shape for k, v in arrays.items()}
    n = max(v.size for v in arrays.values())
    for k, v in arrays.items():
        if v.ndim != 1:
            raise ValueError(f"batch parameter {k} must be 1-d, got shape {v.shape}")
        if v.size == 1 and n > 1:
            arrays[k] = np.full(n, v[0])
        elif v.size != n:
            raise ValueError(f"batch parameters have different lengths: {lengths}")
    arrays["hierarchy"] = hierarchy
    return arrays


def validate_batch(arrays: dict, rates: RateModel, t_start, t_end, thermo, susceptibility):
    """Validate every point (before compilation); returns (T_start array, T_end array, thermo, susceptibility).

    Errors name the offending point index. The same checks as :func:`lta_jax.solver.integrate.validate_setup` for a
    single solve, on plain floats: parameter values and temperature order per point, the hierarchy and v0 once, the
    validity ranges of rates and tables once per mass over its widest range (point by point only to name an offending
    point). Building a ModelParameters and range checks per point cost ~1.8 ms each, half of a fixed-grid point.
    """
    from lta_jax.model.validity import check_parameter_values

    n = arrays["M"].size
    t_end_arr = np.broadcast_to(np.asarray(t_end, dtype=float), (n,)).copy()
    if t_start is None:
        t_start_arr = np.full(n, np.nan)
    else:
        t_start_arr = np.broadcast_to(np.asarray(t_start, dtype=float), (n,)).copy()
    keys = ("M", "delta_M", "im_omega", "re_omega", "delta", "eta")
    names = ("mass", "delta_mass", "im_omega", "re_omega", "delta", "eta")
    columns = [np.asarray(arrays[k], dtype=float).tolist() for k in keys]
    for i in range(n):
        try:
            check_parameter_values(**{name: column[i] for name, column in zip(names, columns)})
            if math.isnan(t_start_arr[i]):
                t_start_arr[i] = start_temperature(columns[0][i], columns[1][i])
        except ValueError as err:
            raise ValueError(f"batch point {i}: {err}") from err
    first = ModelParameters(*(column[0] for column in columns), hierarchy=arrays["hierarchy"])
    validate_parameters(first)  # hierarchy and v0 (shared by the batch)
    thermo, susceptibility = default_models(thermo, susceptibility)

    def check_ranges(mass, t_high, t_low):
        rates.check_range(t_low, t_high, mass)
        thermo.check_range(t_low, t_high)
        susceptibility.check_range(t_low, t_high)

    for i in range(n):
        try:
            check_temperatures(float(t_start_arr[i]), float(t_end_arr[i]))
        except ValueError as err:
            raise ValueError(f"batch point {i}: {err}") from err
    masses = np.asarray(columns[0])
    for mass in np.unique(masses):
        members = np.flatnonzero(masses == mass)
        try:  # the widest range of this mass covers all of its points (the checks are monotone in the range)
            check_ranges(float(mass), float(np.max(t_start_arr[members])), float(np.min(t_end_arr[members])))
        except ValueError:
            for i in members:  # name the first offending point
                try:
                    check_ranges(float(mass), float(t_start_arr[i]), float(t_end_arr[i]))
                except ValueError as err:
                    raise ValueError(f"batch point {i}: {err}") from err
            raise
    return t_start_arr, t_end_arr, thermo, susceptibility


#: Largest chunk of points one thread solves in one compiled call (``"threads"``).
THREAD_CHUNK = 16


def thread_chunk(n: int, workers: int) -> int:
    """Points per compiled call for ``"threads"``: the largest power of two ≤ min(THREAD_CHUNK, ⌈n/workers⌉), so every
    worker gets a chunk and a handful of chunk sizes (1, 2, 4, 8, 16) cover all batch sizes (each compiles once)."""
    per_worker = max(1, -(-n // max(workers, 1)))
    return 1 << (min(THREAD_CHUNK, per_worker).bit_length() - 1)


def default_strategy() -> str:
    """vmap on an accelerator; threads on CPU (benchmarks/README.md, 'Batch throughput')."""
    return "vmap" if jax.default_backend() in ("gpu", "cuda", "rocm", "tpu") else "threads"


def _shard(x):
    devices = jax.local_devices()
    if len(devices) == 1:
        return x
    mesh = jax.sharding.Mesh(np.array(devices), ("batch",))
    spec = jax.sharding.PartitionSpec("batch", *([None] * (x.ndim - 1)))
    return jax.device_put(x, jax.sharding.NamedSharding(mesh, spec))


def _kinetics(rates: RateModel, kinetics: str, n_modes, resolved_options):
    """(rates, momentum grid, resolved options) of a batch: the per-mode model and its grid for the resolved
    equations, ``(rates, None, None)`` for the averaged ones; inconsistent choices are refused."""
    if kinetics == "resolved":
        from lta_jax.kinetics.resolved import grid_from_modes
        from lta_jax.rates.modes import mode_model_of
        from lta_jax.solver.resolved import ResolvedOptions
        from lta_jax.solver.setup import resolved_rates

        rates = resolved_rates(rates, n_modes)
        inner = mode_model_of(rates)
        return (rates, grid_from_modes(inner.y, rule=inner.quadrature),
                ResolvedOptions() if resolved_options is None else resolved_options)
    if kinetics != "averaged":
        raise ValueError(f"kinetics must be 'averaged' or 'resolved', got {kinetics!r}")
    if n_modes is not None or resolved_options is not None:
        raise ValueError("n_modes and resolved_options need kinetics='resolved'")
    return rates, None, None


def _padded(columns, start: int, chunk: int, n: int):
    """Indices of the chunk from ``start`` and the columns' rows for it, the last point repeated to fill ``chunk``."""
    idx = np.arange(start, min(start + chunk, n))
    pad = np.concatenate([idx, np.full(chunk - idx.size, idx[-1])])
    return idx, [jnp.asarray(a[pad]) for a in columns]


def _run_sequential(setup: BatchSetup, columns):
    """One compiled point after another (strategy "sequential")."""
    for i in range(columns[0].shape[0]):
        t0 = time.perf_counter()
        out = _point_jit(setup, *(jnp.asarray(a[i]) for a in columns))
        out = jax.tree_util.tree_map(np.asarray, out)
        yield np.array([i]), {k: np.asarray(v)[None] for k, v in out.items()}, time.perf_counter() - t0


def _run_threads(setup: BatchSetup, columns, chunk: int, n_workers: int):
    """Chunks of ``chunk`` points per compiled ``lax.map`` call, run by ``n_workers`` threads (strategy "threads")."""
    n = columns[0].shape[0]

    def run_chunk(start):
        idx, args = _padded(columns, start, chunk, n)
        t0 = time.perf_counter()
        out = jax.tree_util.tree_map(np.asarray, _chunk_map(setup, *args))
        return idx, out, time.perf_counter() - t0

    starts = range(0, n, chunk)
    pool = ThreadPoolExecutor(max_workers=n_workers)
    if first_time("compiled_batch_setup", (_compile_key(setup), chunk)):
        # first use of this set-up: compile once before fanning out, so threads do not all trace and compile
        first = [run_chunk(0)]
        results = iter([*first, *pool.map(run_chunk, starts[1:])])
    else:
        results = pool.map(run_chunk, starts)
    try:
        yield from results
    finally:
        pool.shutdown()


def _run_compiled_chunks(setup: BatchSetup, columns, chunk: int, strategy: str):
    """Chunks of ``chunk`` points, one compiled call each, in this thread: ``vmap`` (sharded over the local devices)
    or ``lax.map`` (strategies "vmap" and "map")."""
    n = columns[0].shape[0]
    fn = _chunk_vmap if strategy == "vmap" else _chunk_map
    for start in range(0, n, chunk):
        idx, args = _padded(columns, start, chunk, n)
        if strategy == "vmap":
            args = [_shard(a) for a in args]
        t0 = time.perf_counter()
        out = jax.tree_util.tree_map(np.asarray, fn(setup, *args))
        yield idx, out, time.perf_counter() - t0


def solve_batch(
    points,
    rates: RateModel,
    *,
    t_start=None,
    t_end=5.0,
    thermo: Thermodynamics | None = None,
    susceptibility: Susceptibility | None = None,
    options: KineticOptions | None = None,
    solver_options: SolverOptions | None = None,
    strategy: str = "auto",
    chunk_size: int | None = None,
    workers: int | None = None,
    callback: Callable[[int, int], None] | None = None,
    kinetics: str = "averaged",
    n_modes: int | None = None,
    resolved_options=None,
) -> BatchResult:
    """Solve many parameter points; returns a :class:`BatchResult` with per-point observables and status.

    Args:
        points: sequence of :class:`ModelParameters`, a batched :class:`ModelParameters`, or a dict of arrays
            (keys M, delta_M, im_omega, re_omega, delta, eta; optional hierarchy). One hierarchy per batch.
        rates, thermo, susceptibility, options, solver_options: as in :func:`lta_jax.solve` (shared by all points).
        t_start: scalar or per-point array [GeV]; default per point max(10³ GeV, 10 T_osc).
        t_end: scalar or per-point array [GeV].
        strategy: "auto", "sequential", "threads", "map" or "vmap" (module docstring).
        chunk_size: points per compiled call for "map"/"vmap" (default: whole batch, padded to a multiple of the
            device count) and "threads" (default :func:`thread_chunk`). Different chunk sizes compile separately;
            the last chunk is padded by repeating a point.
        workers: threads for "threads" (default: number of CPU cores).
        callback: called as ``callback(done, total)`` after each finished point or chunk (progress bars).
        kinetics, n_modes, resolved_options: as in :func:`lta_jax.solve` ("resolved": the momentum-resolved
            equations; their observables are computed from the averaged projection, as for a single solve).
    Long only through its signature and this docstring (about 50 lines of code: set-up, one runner per
    strategy, one collector).
    """
    rates, grid, resolved_options = _kinetics(rates, kinetics, n_modes, resolved_options)
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; choose one of {STRATEGIES}")
    arrays = parameter_arrays(points)
    t_starts, t_ends, thermo, susceptibility = validate_batch(arrays, rates, t_start, t_end, thermo, susceptibility)
    n = t_starts.size
    solver_options = SolverOptions() if solver_options is None else solver_options
    if chunk_size is not None and (int(chunk_size) < 1):
        raise ValueError(f"chunk_size must be ≥ 1, got {chunk_size}")
    if workers is not None and int(workers) < 1:
        raise ValueError(f"workers must be ≥ 1, got {workers}")
    if strategy == "auto":
        # Also for fixed grids (identical work per point, so lock-step vmap loses nothing to stragglers): on CPU the
        # threads measured faster (module docstring).
        strategy = default_strategy()
    like = ModelParameters(arrays["M"][0], arrays["delta_M"][0], hierarchy=arrays["hierarchy"])
    masses = np.asarray(arrays["M"], dtype=float)
    if solver_options.tabulate_rates and rates.expensive and np.all(masses == masses[0]):
        # One mass for the whole batch: tabulate the rates once here instead of once per point inside the solve.
        rates = cached_table(rates, float(masses[0]), float(np.min(t_ends)), float(np.max(t_starts)))
    options = KineticOptions() if options is None else options
    setup = BatchSetup(like, rates, thermo, susceptibility, options, solver_options, grid, resolved_options,
                       sphaleron_kernel(thermo, options))
    thetas = np.stack([arrays[k] for k in ("M", "delta_M", "im_omega", "re_omega", "delta", "eta")], axis=1)
    columns = (thetas, t_starts, t_ends)
    if strategy == "sequential" or (strategy == "threads" and int(workers or os.cpu_count() or 1) == 1):
        chunks, chunk, n_workers = _run_sequential(setup, columns), 1, 1
    elif strategy == "threads":
        n_workers = int(workers or os.cpu_count() or 1)
        chunk = int(chunk_size) if chunk_size else thread_chunk(n, n_workers)
        chunks = _run_threads(setup, columns, chunk, n_workers)
    else:
        n_workers = 1
        n_dev = len(jax.local_devices()) if strategy == "vmap" else 1
        chunk = int(math.ceil(int(chunk_size or n) / n_dev) * n_dev)
        chunks = _run_compiled_chunks(setup, columns, chunk, strategy)
    per_point: list[dict | None] = [None] * n
    seconds = np.zeros(n)
    done = 0
    for idx, out, dt in chunks:  # every runner yields (point indices, observables per point, wall time of the chunk)
        for j, i in enumerate(idx):
            per_point[i] = {k: v[j] for k, v in out.items()}
            seconds[i] = dt / idx.size
        done += idx.size
        if callback:
            callback(done, n)

    codes = np.array([int(p["result"]) for p in per_point])
    observables = {k: np.array([float(p[k]) for p in per_point]) for k in BATCH_OBSERVABLES}
    inputs = {k: arrays[k] for k in ("M", "delta_M", "im_omega", "re_omega", "delta", "eta")}
    inputs.update(T_start=t_starts, T_end=t_ends, hierarchy=arrays["hierarchy"])
    return BatchResult(
        inputs=inputs, observables=observables, status=np.array([result_name(k) for k in codes]),
        result_code=codes, steps=np.array([int(p["steps"]) for p in per_point]),
        rejected_steps=np.array([int(p["rejected_steps"]) for p in per_point]), seconds=seconds,
        strategy=strategy, chunk_size=chunk, workers=n_workers,
    )


__all__ = ["BATCH_OBSERVABLES", "STRATEGIES", "THREAD_CHUNK", "BatchResult", "BatchSetup", "point_observables",
           "solve_batch", "parameter_arrays", "result_name", "default_strategy", "thread_chunk"]
