"""Benchmark: batch throughput vs batch size and strategy, and the cost of a gradient relative to a solve.

Points: the first n of a fixed scrambled-Sobol set (seed 0) in the paper's "large LTA" box at M = 1 GeV (NH),
provisional rates, in-house thermodynamics and susceptibility, T0 = max(10³ GeV, 10 T_osc) → T_end = 10 GeV, fast
tolerances (rtol 1e-6, atol 1e-9 / 1e-16). Every strategy solves the same points. For each (strategy, n): one warm-up
call (compiles), then ``--repeats`` timed calls; reported: median seconds per point and points per second.

Gradient cost: for the same points, the median time of the observables alone (one primal solve, forward-mode
adjoint) and of the observables plus the full 6×6 Jacobian (forward mode, all six tangents in one pass).

    python benchmarks/bench_batch.py --repeats 3 --out benchmarks/results/batch.json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pathlib
import platform
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np
from scipy.stats import qmc

import lta_jax
from lta_jax import ModelParameters, ProvisionalRates, SolverOptions, solve_batch
from lta_jax.solver.gradients import _values, _values_and_jac_forward, make_observable_map, parameters_to_vector

FAST = SolverOptions(rtol=1e-6, atol_density=1e-9, atol_asymmetry=1e-16, n_save=400)
BOX = {"log10_delta_M": (-12.0, -10.0), "im_omega": (-0.2, 0.2), "re_omega": (0.4 * math.pi, 0.6 * math.pi),
       "delta": (0.0, 2 * math.pi), "eta": (0.0, 2 * math.pi)}


def sobol_points(n: int) -> dict:
    unit = qmc.Sobol(5, scramble=True, seed=0).random(n)
    lo = np.array([v[0] for v in BOX.values()])
    hi = np.array([v[1] for v in BOX.values()])
    u = lo + (hi - lo) * unit
    return {"M": np.ones(n), "delta_M": 10 ** u[:, 0], "im_omega": u[:, 1], "re_omega": u[:, 2], "delta": u[:, 3],
            "eta": u[:, 4], "hierarchy": "NH"}


def subset(points, n):
    return {k: (v if isinstance(v, str) else v[:n]) for k, v in points.items()}


def time_batch(points, strategy, n, repeats, t_end):
    sub = subset(points, n)
    kwargs = dict(t_end=t_end, solver_options=FAST, strategy=strategy)
    if strategy in ("map", "vmap"):
        kwargs["chunk_size"] = n
    t0 = time.perf_counter()
    first = solve_batch(sub, ProvisionalRates(), **kwargs)
    first_time = time.perf_counter() - t0
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = solve_batch(sub, ProvisionalRates(), **kwargs)
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    return {"strategy": strategy, "n": n, "median_s": med, "min_s": min(times), "per_point_s": med / n,
            "points_per_s": n / med, "first_call_s": first_time, "steps_mean": float(result.steps.mean()),
            "steps_max": int(result.steps.max()), "failed": int((~result.succeeded).sum()),
            "Y_B": result.observables["Y_B"].tolist()}


def time_gradient(points, n, repeats, t_end):
    rows = []
    for i in range(n):
        p = ModelParameters(points["M"][i], points["delta_M"][i], points["im_omega"][i], points["re_omega"][i],
                            points["delta"][i], points["eta"][i])
        fn = make_observable_map(p, ProvisionalRates(), t_end=t_end, solver_options=FAST, mode="forward")
        theta = parameters_to_vector(p)
        jax.block_until_ready(_values(fn, theta))
        jax.block_until_ready(_values_and_jac_forward(fn, theta))
        tv, tg = [], []
        for _ in range(repeats):
            t0 = time.perf_counter()
            jax.block_until_ready(_values(fn, theta))
            tv.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            jax.block_until_ready(_values_and_jac_forward(fn, theta))
            tg.append(time.perf_counter() - t0)
        rows.append({"point": i, "values_s": statistics.median(tv), "values_and_jacobian_s": statistics.median(tg),
                     "ratio": statistics.median(tg) / statistics.median(tv)})
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--sizes", default="1,2,4,8,16")
    ap.add_argument("--strategies", default="sequential,threads,map,vmap")
    ap.add_argument("--gradient-points", type=int, default=4)
    ap.add_argument("--t-end", type=float, default=10.0)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    points = sobol_points(max(sizes))
    out = {"machine": {"platform": platform.platform(), "processor": platform.processor(), "cpus": os.cpu_count(),
                       "backend": jax.default_backend(), "devices": [str(d) for d in jax.devices()],
                       "jax": jax.__version__},
           "command": "python benchmarks/bench_batch.py " + " ".join(
               f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if v is not None),
           "date": time.strftime("%Y-%m-%d"), "batch": [], "gradient": []}
    for strategy in args.strategies.split(","):
        for n in sizes:
            row = time_batch(points, strategy, n, args.repeats, args.t_end)
            print(f"{strategy:10s} n={n:3d}  {row['per_point_s'] * 1e3:8.1f} ms/point  "
                  f"{row['points_per_s']:6.2f} points/s  first call {row['first_call_s']:.1f} s", flush=True)
            out["batch"].append(row)
    if args.gradient_points:
        out["gradient"] = time_gradient(points, args.gradient_points, args.repeats, args.t_end)
        for row in out["gradient"]:
            print(f"gradient point {row['point']}: values {row['values_s'] * 1e3:.1f} ms, values+Jacobian "
                  f"{row['values_and_jacobian_s'] * 1e3:.1f} ms, ratio {row['ratio']:.2f}", flush=True)
        out["gradient_ratio_median"] = statistics.median(r["ratio"] for r in out["gradient"])
    if args.out:
        pathlib.Path(args.out).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
