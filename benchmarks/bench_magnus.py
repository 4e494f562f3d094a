"""Magnus integrator vs Kvaerno5 on the averaged equations (issue: a solver whose cost does not grow with the number
of HNL oscillations). One run, same machine, same equations; medians of 5 warm runs after a warm-up.

    python benchmarks/bench_magnus.py [--quick] [--out benchmarks/results/magnus.json]

Cases: the default (Fig.-18) point to 5 GeV and to 1 GeV with Magnus adaptive (default), Magnus fixed grid and
Kvaerno5 (implicit reference); the forward-mode value + 6×6 Jacobian against one solve; a vmapped fixed-grid batch of
points of the paper's large-LTA box (lta_jax.studies.optimise.LARGE_LTA_BOX) at M = 1 GeV to 10 GeV against threads. Accuracy is relative to a fixed-grid run
with 4× the steps (for Kvaerno5 at 5 GeV: its own tight run gives the same numbers to 2e-6).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

import lta_jax
from lta_jax import SolverOptions, solve, solve_batch, summary
from lta_jax.model.benchmark_points import FIG18
from lta_jax.rates.computed import ComputedRates
from lta_jax.solver.gradients import observables_and_jacobian
from lta_jax.studies.optimise import LARGE_LTA_BOX

KEYS = ("Y_B", "Y_L_end", "max_abs_Y_e")


def timed(fn, repeats=5):
    t0 = time.perf_counter()
    out = fn()
    first = time.perf_counter() - t0
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return out, first, (statistics.median(times) if times else first)


def solve_case(rates, t_end, options, repeats):
    def run():
        sol = solve(FIG18, rates, t_end=t_end, solver_options=options)
        jax.block_until_ready(sol.raw.states)
        return summary(sol)

    return timed(run, repeats)


def rel_err(a, b):
    if a["status"] != "success" or b["status"] != "success":
        return None
    errs = [abs(a[k] / b[k] - 1) for k in KEYS] + [abs(x / y - 1) for x, y in zip(a["Y_Delta_end"], b["Y_Delta_end"])]
    return max(errs)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="skip the Kvaerno5 run to 1 GeV (~1 min, fails)")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--out", default="benchmarks/results/magnus.json")
    args = parser.parse_args()
    rates = ComputedRates.build()
    report = {"machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, jax {jax.__version__}",
              "command": " ".join(sys.argv), "cases": []}

    def log(case):
        report["cases"].append(case)
        print(json.dumps(case), file=sys.stderr, flush=True)

    for t_end, fixed in ((5.0, 800), (1.0, 1600)):
        reference, _, _ = solve_case(rates, t_end, SolverOptions.fixed_grid(4 * fixed), 0)
        cases = [("magnus adaptive (default)", SolverOptions()), (f"magnus fixed {fixed}", SolverOptions.fixed_grid(fixed)),
                 (f"magnus fixed {fixed // 4}, pilot 16", SolverOptions.fixed_grid(fixed // 4, pilot=16)),
                 (f"magnus fixed {fixed // 2}, pilot 16", SolverOptions.fixed_grid(fixed // 2, pilot=16))]
        if t_end == 5.0 or not args.quick:
            cases.append(("kvaerno5", SolverOptions.kvaerno5()))
        for label, options in cases:
            repeats = 1 if (label == "kvaerno5" and t_end < 5) else 5
            out, first, warm = solve_case(rates, t_end, options, repeats)
            log({"case": f"Fig.18 to {t_end:g} GeV", "solver": label, "status": out["status"], "steps": out["steps"],
                 "first_call_s": round(first, 3), "warm_ms": round(1e3 * warm, 2), "rel_err": rel_err(out, reference)})

    # value + 6×6 Jacobian (forward mode) vs one solve, same options
    for label, options in (("magnus fixed 800", SolverOptions.fixed_grid(800)), ("magnus adaptive", SolverOptions())):
        _, _, solve_warm = solve_case(rates, 10.0, options, 5)
        _, first, jac_warm = timed(lambda: jax.block_until_ready(
            observables_and_jacobian(FIG18, rates, mode="forward", t_end=10.0, solver_options=options)[1]))
        log({"case": "value + 6x6 Jacobian / solve (to 10 GeV)", "solver": label, "solve_ms": round(1e3 * solve_warm, 1),
             "jacobian_ms": round(1e3 * jac_warm, 1), "ratio": round(jac_warm / solve_warm, 2),
             "first_call_s": round(first, 1)})

    # batch throughput: large-LTA box at M = 1 GeV, to 10 GeV
    rng = np.random.default_rng(0)
    n = args.batch
    box = {k: rng.uniform(lo, hi, n) for k, (lo, hi) in LARGE_LTA_BOX.items()}
    points = {"M": np.ones(n), "delta_M": 10 ** box["log10_delta_M"], "im_omega": box["im_omega"],
              "re_omega": box["re_omega"], "delta": box["delta"], "eta": box["eta"]}
    # accuracy of each batch: worst relative difference of Y_B, Y_L(T_end), max |Y_e| over the points, against a
    # fixed grid of 3200 steps on the same points
    reference = solve_batch(points, rates, t_end=10.0, solver_options=SolverOptions.fixed_grid(3200, n_save=200),
                            strategy="sequential").observables
    for label, options, strategy in (("magnus fixed 800, vmap", SolverOptions.fixed_grid(800, n_save=200), "vmap"),
                                     ("magnus fixed 400, vmap", SolverOptions.fixed_grid(400, n_save=200), "vmap"),
                                     ("magnus fixed 400, threads", SolverOptions.fixed_grid(400, n_save=200), "threads"),
                                     ("magnus fixed 200, threads", SolverOptions.fixed_grid(200, n_save=200), "threads"),
                                     ("magnus fixed 400, pilot 16, threads",
                                      SolverOptions.fixed_grid(400, pilot=16, n_save=200), "threads"),
                                     ("magnus adaptive, threads", SolverOptions(n_save=200), "threads")):
        res, first, warm = timed(lambda: solve_batch(points, rates, t_end=10.0, solver_options=options,
                                                     strategy=strategy), repeats=3)
        ok = int(np.sum(np.asarray(res.status) == "success"))
        worst = max(float(np.max(np.abs(res.observables[k] / reference[k] - 1)))
                    for k in ("Y_B", "Y_L_end", "max_abs_Y_e"))
        log({"case": f"batch of {n}, large-LTA box, M = 1 GeV, to 10 GeV", "solver": label, "succeeded": ok,
             "points_per_s": round(n / warm, 1), "first_call_s": round(first, 1), "worst_rel_err": worst})

    tmp = args.out + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(report, fh, indent=2, allow_nan=False)
    os.replace(tmp, args.out)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
