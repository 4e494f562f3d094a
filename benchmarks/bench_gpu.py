"""Batched solves on an accelerator (issue 35): points/s of vmapped batches of the large-LTA box, peak device memory,
and the worst difference from the same points solved on the CPU.

    python benchmarks/bench_gpu.py --out benchmarks/results/gpu.json          # on a GPU machine (pip install -e ".[cuda]")
    python benchmarks/bench_gpu.py --quick                                    # a tiny run on whatever device (CI)

Sizes: the averaged equations at B = 1024, 4096, 16384 points, on the fixed grid (Magnus, 400 steps) and with the
adaptive Magnus default; the momentum-resolved equations (N = 48) at B = 64 and 256. Each size is solved twice in one
``vmap`` call (``solve_batch(..., strategy="vmap", chunk_size=B)``): the first call includes compilation, the second
is timed. The CPU comparison re-solves the first ``--compare`` points of every batch on the host CPU (threads).
Goal (issue 35): ≥ 10⁴ averaged points/s at B ≥ 4096 on one GPU.
"""

from __future__ import annotations

import argparse
import sys
import time

import jax
import numpy as np

from _results import emit, machine


def _peak_bytes(device) -> int | None:
    stats = device.memory_stats() if hasattr(device, "memory_stats") else None
    return None if not stats else int(stats.get("peak_bytes_in_use", 0))


def _worst_relative(a: dict, b: dict, keys=("Y_B", "Y_L_end", "max_abs_Y_e")) -> float:
    worst = 0.0
    for k in keys:
        x, y = np.asarray(a[k]), np.asarray(b[k])
        ok = np.isfinite(x) & np.isfinite(y)
        if np.any(ok):
            worst = max(worst, float(np.max(np.abs(x[ok] - y[ok]) / np.maximum(np.abs(y[ok]), 1e-300))))
    return worst


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="B = 8 and 16, provisional rates, fixed grid only")
    ap.add_argument("--compare", type=int, default=64, help="points of each batch re-solved on the CPU")
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)

    from lta_jax.rates.computed import ComputedRates
    from lta_jax.rates.provisional import ProvisionalRates
    from lta_jax.solver.methods import SolverOptions
    from lta_jax.studies.batch import solve_batch
    from lta_jax.studies.boxes import box_sample

    device = jax.devices()[0]
    cpu = jax.devices("cpu")[0]
    rates = ProvisionalRates() if args.quick else ComputedRates.build()
    t_end = 50.0 if args.quick else 10.0
    cases = ([("averaged, fixed grid 100", SolverOptions.fixed_grid(100, n_save=100), "averaged", (8, 16))]
             if args.quick else
             [("averaged, fixed grid 400", SolverOptions.fixed_grid(400, n_save=200), "averaged", (1024, 4096, 16384)),
              ("averaged, adaptive Magnus", SolverOptions(n_save=200), "averaged", (1024, 4096, 16384)),
              ("resolved N = 48", None, "resolved", (64, 256))])
    rows = []
    for name, options, kinetics, sizes in cases:
        for size in sizes:
            points = box_sample(size, 1.0, seed=0)
            kw = dict(t_end=t_end, strategy="vmap", chunk_size=size)
            kw.update(solver_options=options) if kinetics == "averaged" else kw.update(kinetics="resolved", n_modes=48)
            t0 = time.perf_counter()
            solve_batch(points, rates, **kw)
            first = time.perf_counter() - t0
            t0 = time.perf_counter()
            result = solve_batch(points, rates, **kw)
            seconds = time.perf_counter() - t0
            n_cmp = min(args.compare, size)
            subset = {k: (v[:n_cmp] if isinstance(v, np.ndarray) else v) for k, v in points.items()}
            with jax.default_device(cpu):
                reference = solve_batch(subset, rates, **{**kw, "strategy": "threads", "chunk_size": None})
            row = dict(case=name, points=size, seconds=seconds, first_call_seconds=first,
                       points_per_second=size / seconds, succeeded=int(np.sum(result.succeeded)),
                       peak_device_bytes=_peak_bytes(device),
                       worst_relative_difference_from_cpu=_worst_relative(
                           {k: v[:n_cmp] for k, v in result.observables.items()}, reference.observables),
                       compared_points=n_cmp)
            rows.append(row)
            print(f"{name}, B = {size}: {row['points_per_second']:.0f} points/s (first call {first:.1f} s), "
                  f"worst difference from CPU {row['worst_relative_difference_from_cpu']:.2e}", file=sys.stderr,
                  flush=True)
    out = {"machine": machine(device=str(device), device_kind=device.device_kind, backend=jax.default_backend()),
           "command": "python benchmarks/bench_gpu.py" + (" --quick" if args.quick else ""), "rows": rows}
    emit(out, args.out)


if __name__ == "__main__":
    main()
