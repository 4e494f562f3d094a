"""A/B of the optimiser's derivatives (issue 33): exact reverse mode (the default) against forward differences (the
former default), same budget, masses and seeds, in one process (same machine state for both arms).

    python experiments/gradient_ab.py --masses 1 2 5 10 --seeds 0 1 2 --budget 500 --out experiments/results/gradient_ab

Writes ``OUT/gradient_ab.json`` (every run: best feasible |Y_L(10 GeV)|, confirmed by the full solve, solve-equivalents
per gradient, wall time), ``OUT/gradient_ab.png`` (best |Y_L| per seed and mass, both arms) and prints the median
table. Resumable: finished runs in the JSON are kept. Progress on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys
import time

import numpy as np


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--masses", type=float, nargs="+", default=[1.0, 2.0, 5.0, 10.0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4, 5])
    ap.add_argument("--budget", type=float, default=500.0)
    ap.add_argument("--arms", nargs="+", default=["reverse", "fd"])
    ap.add_argument("--out", type=pathlib.Path, required=True)
    args = ap.parse_args(argv)

    from lta_jax.cache import enable_compilation_cache
    from lta_jax.rates.computed import ComputedRates
    from lta_jax.studies.optimise import optimise

    enable_compilation_cache()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "gradient_ab.json"
    runs = json.loads(path.read_text())["runs"] if path.is_file() else []
    done = {(r["arm"], r["M"], r["seed"]) for r in runs}
    rates = ComputedRates.build()
    for mass in args.masses:
        for seed in args.seeds:
            for arm in args.arms:
                if (arm, mass, seed) in done:
                    continue
                t0 = time.perf_counter()
                res = optimise(rates, mass=mass, seed=seed, budget=args.budget, gradient=arm, progress=False)
                best = res.best
                runs.append(dict(arm=arm, M=mass, seed=seed, feasible=bool(best.get("feasible")),
                                 best_abs_Y_L=float(best["objective"]) if best.get("feasible") else 0.0,
                                 Y_B=best.get("Y_B"), solve_equivalents=res.solve_equivalents,
                                 cost_of_gradient=res.cost_of_gradient, gradient_evaluations=res.gradient_evaluations,
                                 seconds=time.perf_counter() - t0))
                print(f"M={mass:g} seed={seed} {arm:8s} |Y_L|={runs[-1]['best_abs_Y_L']:.3e} "
                      f"cost/grad={res.cost_of_gradient:.2f} {runs[-1]['seconds']:.0f}s", file=sys.stderr, flush=True)
                tmp = path.with_suffix(".tmp")
                tmp.write_text(json.dumps({"budget": args.budget, "runs": runs}, indent=1))
                os.replace(tmp, path)
    table = summarise(runs, args.arms)
    print(json.dumps(table, indent=1))
    plot(runs, args.arms, args.out / "gradient_ab.png", args.budget)


def summarise(runs, arms) -> dict:
    out = {}
    for mass in sorted({r["M"] for r in runs}):
        row = {}
        for arm in arms:
            sel = [r for r in runs if r["M"] == mass and r["arm"] == arm]
            if sel:
                row[arm] = dict(median_best_abs_Y_L=float(np.median([r["best_abs_Y_L"] for r in sel])),
                                feasible=f"{sum(r['feasible'] for r in sel)}/{len(sel)}",
                                median_cost_of_gradient=float(np.median([r["cost_of_gradient"] for r in sel])),
                                median_seconds=float(np.median([r["seconds"] for r in sel])))
        out[f"{mass:g}"] = row
    return out


def plot(runs, arms, path, budget) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    masses = sorted({r["M"] for r in runs})
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for k, (arm, marker) in enumerate(zip(arms, "os^")):
        for j, mass in enumerate(masses):
            vals = [r["best_abs_Y_L"] for r in runs if r["M"] == mass and r["arm"] == arm]
            x = np.full(len(vals), j + (k - 0.5) * 0.2)
            ax.scatter(x, np.where(np.asarray(vals) > 0, vals, np.nan), marker=marker, color=f"C{k}",
                       label=arm if j == 0 else None, alpha=0.8)
            if vals:
                ax.hlines(np.median(vals), j + (k - 0.5) * 0.2 - 0.08, j + (k - 0.5) * 0.2 + 0.08, color=f"C{k}")
    ax.set_xticks(range(len(masses)), [f"{m:g}" for m in masses])
    ax.set_yscale("log")
    ax.set_xlabel("M [GeV] (NH, large-LTA box)")
    ax.set_ylabel("best feasible |Y_L(10 GeV)| (confirmed)")
    ax.set_title(f"Optimiser: exact reverse mode vs forward differences\n"
                 f"budget {budget:g} solve-equivalents per run, 6 seeds (bars: medians)", fontsize=10)
    ax.legend(title="gradient")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
