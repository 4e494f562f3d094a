"""Resumable parameter scans: a TOML card → a deterministic list of points → results written chunk by chunk (issue 5).

Card (all tables optional except ``[scan]``)::

    [scan]
    sampling = "sobol"        # "grid", "random" or "sobol"
    points = 256              # random/sobol: number of points (grid: product of the per-parameter counts)
    seed = 0
    preset = "large-lta"      # ranges of paper Table 1: "broad" or "large-lta" (optional)
    chunk = 8                 # points per checkpoint file
    strategy = "auto"         # solve_batch strategy

    [fixed]                   # parameters held fixed (defaults: the CLI's default point)
    M = 1.0
    hierarchy = "NH"

    [parameters]              # scanned parameters: [lo, hi] or {range = [lo, hi], n = 5 (grid), log = true}
    log10_delta_M = [-12, -10]
    im_omega = [-0.2, 0.2]
    re_omega = ["0.4pi", "0.6pi"]

    [solver]
    T_end = 10.0
    rates = "computed"        # "computed-ulysses", "provisional", or a 9-column table
    tolerance = "fast"        # "fast" (rtol 1e-6) or "default" (rtol 1e-8)
    grid_steps = 800          # optional: fixed-grid Magnus on this many steps instead (identical work per point,
                              # so a chunk is one vmapped call: the batch path of clusters and GPUs)
    grid_pilot = 16           # optional, with grid_steps: place the nodes where a 16-interval pilot finds the error

    [cluster]                 # optional: where chunks are computed (the command line's --workers/--scheduler win)
    workers = 2               # a local Dask cluster of 2 worker processes; or scheduler = "tcp://host:8786"

Scanned names: ``M``, ``log10_M``, ``delta_M``, ``log10_delta_M``, ``im_omega``, ``re_omega``, ``delta``, ``eta``.

Output directory::

    plan.json            the card, its hash and the number of points (a resume must use the same card)
    points.npz           the planned points (inputs), index order
    chunks/chunk_NNNNNN.h5   results of points [N·chunk, (N+1)·chunk), each written to a temporary file, flushed,
                         fsync'ed and renamed (atomic on POSIX): a chunk file is complete or absent
    results.h5           all finished rows, index order (rewritten atomically at the end)

Resuming after an interruption (even ``kill -9``) reruns only the chunks without a file; no point is lost or
duplicated. :func:`load_results` reads finished rows at any time.

Where chunks are computed (``run_scan(..., cluster=...)``, ``lta-jax scan --workers N | --scheduler ADDRESS``, or a
``[cluster]`` table in the card with the same keys): in this process (default), or on a Dask cluster
(:mod:`lta_jax.studies.cluster`). Either way every chunk is computed by :func:`solve_chunk` and written by this process
into the same chunk files, with a ``worker`` column naming who computed each row; the card's digest does not depend on
``[cluster]``, so a scan started on a cluster can be resumed in-process and the other way round.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import pathlib
import time
import warnings
from dataclasses import dataclass

import numpy as np

# Light imports only at module level: `lta-jax scan` checks a card (and rejects a bad one) before JAX, equinox, SciPy
# or h5py are imported; the solver stack is imported where a chunk is solved or a file is written.
from lta_jax.model.validity import HIERARCHIES, parse_angle
from lta_jax.studies.cluster import ClusterOptions, cluster_options, dask_client, rate_model_for, run_tasks, worker_identity
from lta_jax.studies.output import stderr_progress

#: Paper Table 1 ranges (docs/physics.md §1): "broad" and the "large LTA" region.
PRESETS = {
    "broad": {"M": (0.1, 30.0), "log10_delta_M": (-17.0, -9.0), "im_omega": (-2.0, 2.0),
              "re_omega": (0.0, 2 * math.pi), "delta": (0.0, 2 * math.pi), "eta": (0.0, 2 * math.pi)},
    "large-lta": {"M": (0.1, 30.0), "log10_delta_M": (-12.0, -10.0), "im_omega": (-0.2, 0.2),
                  "re_omega": (0.4 * math.pi, 0.6 * math.pi), "delta": (0.0, 2 * math.pi),
                  "eta": (0.0, 2 * math.pi)},
}
#: Most points of one scan: its plan (six inputs per point, 48 bytes) stays below 0.5 GB, and at ~5 ms a point it is
#: already about 14 core-hours.
MAX_POINTS = 10_000_000
SCANNABLE = ("M", "log10_M", "delta_M", "log10_delta_M", "im_omega", "re_omega", "delta", "eta")
INPUTS = ("M", "delta_M", "im_omega", "re_omega", "delta", "eta")
DEFAULT_FIXED = {"M": 1.0, "delta_M": 1.26e-11, "im_omega": -0.14, "re_omega": 0.52 * math.pi,
                 "delta": 1.30 * math.pi, "eta": 1.02 * math.pi}
#: Card ``tolerance`` names → solver options (:func:`_solver_options`).
TOLERANCES = {
    "fast": dict(rtol=1e-6, atol_density=1e-9, atol_asymmetry=1e-16, n_save=400),
    "default": {},
}
STRING_COLUMNS = ("status", "worker")  # per row: the solve's status, and who computed its chunk
SCAN_KEYS = {"sampling", "points", "seed", "preset", "chunk", "strategy"}
SOLVER_KEYS = {"T_end", "T_start", "rates", "tolerance", "max_steps", "grid_steps", "grid_pilot"}


@dataclass
class ScanCard:
    sampling: str
    n_points: int
    seed: int
    chunk: int
    strategy: str
    hierarchy: str
    fixed: dict
    ranges: dict  # name -> (lo, hi, n_grid or None)
    solver: dict
    raw: dict

    @property
    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.raw, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _range(name, value, preset_ranges):
    if isinstance(value, dict):
        rng = value.get("range", preset_ranges.get(name))
        n = value.get("n")
        if set(value) - {"range", "n", "log"}:
            raise ValueError(f"parameter {name}: unknown keys {sorted(set(value) - {'range', 'n', 'log'})}")
        if value.get("log"):
            raise ValueError(f"parameter {name}: use log10_{name} for logarithmic sampling")
    else:
        rng, n = value, None
    if rng is None or len(rng) != 2:
        raise ValueError(f"parameter {name}: range must be [lo, hi], got {rng!r}")
    lo, hi = (parse_angle(v) if isinstance(v, str) else float(v) for v in rng)
    if not (math.isfinite(lo) and math.isfinite(hi) and hi >= lo):
        raise ValueError(f"parameter {name}: need finite lo ≤ hi, got [{lo}, {hi}]")
    if n is not None and (int(n) != n or n < 1):
        raise ValueError(f"parameter {name}: grid count n must be a positive integer, got {n!r}")
    return lo, hi, None if n is None else int(n)


def parse_card(card: dict) -> ScanCard:
    """Validate a scan card (a dict parsed from TOML) before any compilation."""
    unknown = set(card) - {"scan", "fixed", "parameters", "solver", "cluster"}
    if unknown:
        raise ValueError(f"unknown tables in scan card: {sorted(unknown)}")
    scan = dict(card.get("scan", {}))
    if set(scan) - SCAN_KEYS:
        raise ValueError(f"unknown keys in [scan]: {sorted(set(scan) - SCAN_KEYS)}; allowed {sorted(SCAN_KEYS)}")
    sampling = str(scan.get("sampling", "sobol"))
    if sampling not in ("grid", "random", "sobol"):
        raise ValueError(f"sampling must be grid, random or sobol, got {sampling!r}")
    preset = scan.get("preset")
    if preset is not None and preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}")
    preset_ranges = PRESETS.get(preset, {})
    fixed_in = dict(card.get("fixed", {}))
    hierarchy = str(fixed_in.pop("hierarchy", "NH")).upper()
    if hierarchy not in HIERARCHIES:
        raise ValueError(f"unknown hierarchy {hierarchy!r}: expected one of {HIERARCHIES}")
    bad = set(fixed_in) - set(INPUTS)
    if bad:
        raise ValueError(f"unknown fixed parameters {sorted(bad)}; allowed {INPUTS} and hierarchy")
    fixed = {**DEFAULT_FIXED, **{k: parse_angle(v) if isinstance(v, str) else float(v) for k, v in fixed_in.items()}}
    params_in = dict(card.get("parameters", {}))
    if not params_in and preset is not None:
        params_in = {k: list(v) for k, v in preset_ranges.items() if k not in fixed_in}
    bad = set(params_in) - set(SCANNABLE)
    if bad:
        raise ValueError(f"unknown scan parameters {sorted(bad)}; allowed {SCANNABLE}")
    for a, b in (("M", "log10_M"), ("delta_M", "log10_delta_M")):
        if a in params_in and b in params_in:
            raise ValueError(f"scan either {a} or {b}, not both")
    if not params_in:
        raise ValueError("nothing to scan: give a [parameters] table or a preset")
    ranges = {name: _range(name, value, preset_ranges) for name, value in params_in.items()}
    if sampling == "grid":
        missing = [k for k, r in ranges.items() if r[2] is None]
        if missing:
            raise ValueError(f"grid sampling needs a count n for every scanned parameter (missing: {missing})")
        n_points = int(np.prod([r[2] for r in ranges.values()]))
    else:
        if "points" not in scan:
            raise ValueError(f"{sampling} sampling needs [scan] points = N")
        n_points = int(scan["points"])
    if n_points < 1:
        raise ValueError(f"number of points must be ≥ 1, got {n_points}")
    if n_points > MAX_POINTS:
        raise ValueError(f"{n_points} points is more than one scan holds (at most {MAX_POINTS:.0e}: the plan alone "
                         f"would take {n_points * 48 / 2**30:.3g} GiB); split it into several scans")
    chunk = int(scan.get("chunk", 8))
    if chunk < 1:
        raise ValueError(f"chunk must be ≥ 1, got {chunk}")
    solver = dict(card.get("solver", {}))
    if set(solver) - SOLVER_KEYS:
        raise ValueError(f"unknown keys in [solver]: {sorted(set(solver) - SOLVER_KEYS)}")
    solver.setdefault("T_end", 10.0)
    solver.setdefault("rates", "computed")
    solver.setdefault("tolerance", "fast")
    if solver["tolerance"] not in TOLERANCES:
        raise ValueError(f"tolerance must be one of {sorted(TOLERANCES)}, got {solver['tolerance']!r}")
    if "grid_steps" in solver and (int(solver["grid_steps"]) != solver["grid_steps"] or solver["grid_steps"] < 10):
        raise ValueError(f"grid_steps must be an integer ≥ 10, got {solver['grid_steps']!r}")
    if "grid_pilot" in solver:
        pilot = solver["grid_pilot"]
        if "grid_steps" not in solver:
            raise ValueError("grid_pilot needs grid_steps (it places the nodes of a fixed grid)")
        if isinstance(pilot, bool) or not isinstance(pilot, int) or pilot < 2:
            raise ValueError(f"grid_pilot must be an integer ≥ 2, got {pilot!r}")
    cluster_options(card_section=card.get("cluster"))  # checked here; where it runs is not part of the plan
    plan = {k: v for k, v in card.items() if k != "cluster"}
    return ScanCard(sampling, n_points, int(scan.get("seed", 0)), chunk, str(scan.get("strategy", "auto")),
                    hierarchy, fixed, ranges, solver, plan)


def plan_points(card: ScanCard) -> dict:
    """The deterministic list of points of a card: dict of arrays (M, delta_M, im_omega, re_omega, delta, eta)."""
    names = list(card.ranges)
    lo = np.array([card.ranges[k][0] for k in names])
    hi = np.array([card.ranges[k][1] for k in names])
    if card.sampling == "grid":
        axes = [np.linspace(lo[j], hi[j], card.ranges[k][2]) for j, k in enumerate(names)]
        mesh = np.meshgrid(*axes, indexing="ij")
        values = np.stack([m.ravel() for m in mesh], axis=1)
    else:
        if card.sampling == "sobol":
            with warnings.catch_warnings():  # balance is best for n = 2^k; any n is still a valid low-discrepancy set
                warnings.filterwarnings("ignore", message=".*balance properties of Sobol.*")
                from scipy.stats import qmc

                unit = qmc.Sobol(len(names), scramble=True, seed=card.seed).random(card.n_points)
        else:
            unit = np.random.default_rng(card.seed).random((card.n_points, len(names)))
        values = lo + (hi - lo) * unit
    n = values.shape[0]
    points = {k: np.full(n, float(card.fixed[k])) for k in INPUTS}
    for j, name in enumerate(names):
        if name.startswith("log10_"):
            points[name[len("log10_"):]] = 10.0 ** values[:, j]
        else:
            points[name] = values[:, j].copy()
    points["hierarchy"] = card.hierarchy
    return points


def _solver_options(card: ScanCard):
    from lta_jax.solver.integrate import SolverOptions

    if "grid_steps" in card.solver:
        return SolverOptions.fixed_grid(int(card.solver["grid_steps"]), pilot=card.solver.get("grid_pilot"),
                                        n_save=TOLERANCES["fast"]["n_save"])
    base = SolverOptions(**TOLERANCES[card.solver["tolerance"]])
    if "max_steps" in card.solver:
        import equinox as eqx

        base = eqx.tree_at(lambda o: o.max_steps, base, int(card.solver["max_steps"]))
    return base


def _atomic_write_h5(path: pathlib.Path, columns: dict, attrs: dict | None = None) -> None:
    import h5py

    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    with h5py.File(tmp, "w") as f:
        for k, v in columns.items():
            if k in STRING_COLUMNS:
                f.create_dataset(k, data=np.asarray(v, dtype=object), dtype=h5py.string_dtype())
            else:
                f.create_dataset(k, data=np.asarray(v))
        for k, v in (attrs or {}).items():
            f.attrs[k] = v
        f.flush()
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _atomic_write_text(path: pathlib.Path, text: str) -> None:
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    tmp.write_text(text)
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _read_h5(path: pathlib.Path) -> dict:
    import h5py

    with h5py.File(path, "r") as f:
        columns = {k: (f[k].asstr()[...] if k in STRING_COLUMNS else f[k][...]) for k in f.keys()}
    if "worker" not in columns:  # chunk files written before the column existed
        columns["worker"] = np.full(len(columns["index"]), "unrecorded", dtype=object)
    return columns


def load_results(out_dir) -> dict:
    """All finished rows of a scan directory (from its chunk files), sorted by point index; columns as arrays."""
    out_dir = pathlib.Path(out_dir)
    files = sorted((out_dir / "chunks").glob("chunk_*.h5"))
    if not files:
        from lta_jax.studies.batch import BATCH_OBSERVABLES

        row_columns = ("index", *INPUTS, "T_start", "T_end", *BATCH_OBSERVABLES, "result_code", "steps",
                       "rejected_steps", "seconds")
        return {k: np.array([]) for k in (*row_columns, *STRING_COLUMNS)}
    parts = [_read_h5(p) for p in files]
    cols = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    order = np.argsort(cols["index"])
    return {k: v[order] for k, v in cols.items()}


@dataclass
class ScanReport:
    out_dir: pathlib.Path
    n_points: int
    done_before: int
    solved_now: int
    failed: int
    seconds: float


def solve_chunk(card_dict: dict, index, points: dict) -> dict:
    """The rows of one chunk: the points ``points`` (arrays of :data:`INPUTS` plus ``hierarchy``) with indices ``index``
    solved with the card's solver settings. The work of a cluster worker and of the in-process executor alike (the rate
    model is built once per process); returns the chunk file's columns, with the ``worker`` that computed them."""
    from lta_jax.studies.batch import solve_batch

    card = parse_card(card_dict)
    result = solve_batch(points, rate_model_for(card.solver["rates"]), t_start=card.solver.get("T_start"),
                         t_end=float(card.solver["T_end"]), solver_options=_solver_options(card),
                         strategy=card.strategy)
    index = np.asarray(index)
    return {"index": index, **{key: result.inputs[key] for key in (*INPUTS, "T_start", "T_end")},
            **result.observables, "result_code": result.result_code, "steps": result.steps,
            "rejected_steps": result.rejected_steps, "seconds": result.seconds, "status": result.status,
            "worker": np.full(index.size, worker_identity(), dtype=object)}


def run_scan(card_dict: dict, out_dir, *, progress: bool = True, max_chunks: int | None = None,
             cluster: ClusterOptions | None = None) -> ScanReport:
    """Run (or resume) the scan of ``card_dict`` into ``out_dir``; returns a :class:`ScanReport`.

    Refuses to resume a directory planned with a different card. ``max_chunks`` stops after that many new chunks
    (for tests and for splitting work). ``cluster``: where the chunks are computed (module docstring); default: the
    card's ``[cluster]`` table if it has one, else this process.
    """
    card = parse_card(card_dict)
    if cluster is None:
        cluster = cluster_options(card_section=card_dict.get("cluster"))
    out_dir = pathlib.Path(out_dir)
    chunk_dir = out_dir / "chunks"
    chunk_dir.mkdir(parents=True, exist_ok=True)
    for stale in list(out_dir.glob("*.tmp*")) + list(chunk_dir.glob("*.tmp*")):
        stale.unlink()  # a temporary file is a write that was interrupted: its chunk is redone
    plan_path = out_dir / "plan.json"
    if plan_path.exists():
        plan = json.loads(plan_path.read_text())
        if plan["digest"] != card.digest:
            raise ValueError(f"{out_dir} holds a scan of a different card (digest {plan['digest']} ≠ {card.digest}); "
                             "use a new output directory")
    points = plan_points(card)
    if not plan_path.exists():
        # validate every point before compiling anything (solve_batch does it again per chunk; cheap)
        from lta_jax.studies.batch import validate_batch
        validate_batch(points, rate_model_for(card.solver["rates"]), card.solver.get("T_start"),
                       float(card.solver["T_end"]), None, None)
        tmp = out_dir / f"points.tmp{os.getpid()}.npz"
        np.savez(tmp, **{k: points[k] for k in INPUTS})
        os.replace(tmp, out_dir / "points.npz")
        _atomic_write_text(plan_path, json.dumps({"digest": card.digest, "n_points": card.n_points,
                                                  "chunk": card.chunk, "card": card.raw}, indent=1, default=str))
    n = len(points["M"])
    n_chunks = math.ceil(n / card.chunk)
    todo = [k for k in range(n_chunks) if not (chunk_dir / f"chunk_{k:06d}.h5").exists()]
    done_before = n - sum(min(card.chunk, n - k * card.chunk) for k in todo)
    if max_chunks is not None:
        todo = todo[:max_chunks]
    t0 = time.perf_counter()
    tally = {"solved": 0, "failed": 0}
    bar = task = None
    if progress and todo:
        bar, task = stderr_progress("scan", n, done_before)

    def chunk_task(k):
        idx = np.arange(k * card.chunk, min((k + 1) * card.chunk, n))
        sub = {key: points[key][idx] for key in INPUTS}
        sub["hierarchy"] = card.hierarchy
        return idx, sub

    def write(k, columns):  # in the client only: the single writer of chunk files, whoever computed them
        path = chunk_dir / f"chunk_{k:06d}.h5"
        if path.exists():  # never write a chunk twice
            return
        _atomic_write_h5(path, columns, {"card_digest": card.digest, "worker": str(columns["worker"][0])})
        tally["solved"] += len(columns["index"])
        tally["failed"] += int(np.sum(np.asarray(columns["result_code"]) != 0))
        if bar is not None:
            bar.update(task, advance=len(columns["index"]))

    try:
        if cluster is None:
            for k in todo:
                write(k, solve_chunk(card.raw, *chunk_task(k)))
        elif todo:
            with dask_client(cluster) as client:
                run_tasks(client, [(f"scan-{card.digest}-chunk{k:06d}", solve_chunk, (card.raw, *chunk_task(k)))
                                   for k in todo],
                          lambda name, columns: write(int(name.rsplit("chunk", 1)[1]), columns))
    finally:
        if bar is not None:
            bar.stop()
    remaining = [k for k in range(n_chunks) if not (chunk_dir / f"chunk_{k:06d}.h5").exists()]
    if not remaining:
        _atomic_write_h5(out_dir / "results.h5", load_results(out_dir),
                         {"card_digest": card.digest, "n_points": n, "card": json.dumps(card.raw, default=str)})
    return ScanReport(out_dir, n, done_before, tally["solved"], tally["failed"], time.perf_counter() - t0)


__all__ = ["PRESETS", "ScanCard", "parse_card", "plan_points", "run_scan", "solve_chunk", "load_results",
           "ScanReport"]
