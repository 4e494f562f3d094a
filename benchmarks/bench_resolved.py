"""Cost of the momentum-resolved equations against the averaged solve, measured in the same run.

    python benchmarks/bench_resolved.py [--repeats 3] [--dense 24] [--out benchmarks/results/resolved.json]

Set (4.1) (M = 2 GeV), computed rates, default T_start → 10 GeV. Cases: the averaged solve (adaptive Magnus default);
the resolved equations with the structured splitting (default options) for N = 24, 48, 96 modes of the grid (6.2)
plus the 5 low modes; Kvaerno5 on the dense (8N+3)-system for the N of ``--dense`` (the general-purpose stiff solver
the structure replaces; 0 to skip). Warm time = median of ``--repeats`` calls after a first (compiling) call;
``block_until_ready`` on the results. Accuracy of the splitting: its observables against the dense solve at the same N.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys

import jax

import lta_jax
from lta_jax import solve, summary
from lta_jax.model.benchmark_points import SET_4_1
from lta_jax.rates.computed import ComputedRates
from lta_jax.solver.resolved import ResolvedOptions
from lta_jax.studies.output import write_json_atomic
from bench_magnus import timed  # noqa: E402  (benchmarks/ is on sys.path when run as a script)

KEYS = ("Y_B", "Y_L_end", "max_abs_Y_e")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--modes", type=int, nargs="+", default=[24, 48, 96])
    parser.add_argument("--dense", type=int, nargs="*", default=[24])
    parser.add_argument("--out", default="benchmarks/results/resolved.json")
    args = parser.parse_args()
    rates = ComputedRates.build()
    rows = []

    def case(label, **kw):
        def run():
            sol = solve(SET_4_1, rates, t_end=10.0, **kw)
            jax.block_until_ready(sol.raw.states)
            return summary(sol), getattr(getattr(sol, "grid", None), "n_modes", None)

        (out, n_total), first, warm = timed(run, args.repeats)
        row = {"case": label, "first_call_s": first, "warm_s": warm, "steps": out["steps"], "modes": n_total,
               **{k: out[k] for k in KEYS}, "status": out["status"]}
        rows.append(row)
        print(f"{label:42s} first {first:6.1f} s  warm {warm:7.3f} s  steps {out['steps']}  "
              + " ".join(f"{k}={out[k]:.4e}" for k in KEYS), file=sys.stderr, flush=True)
        return row

    averaged = case("averaged, adaptive Magnus (default)")
    for n in args.modes:
        row = case(f"resolved N={n}, splitting (default)", kinetics="resolved", n_modes=n)
        row["ratio_to_averaged"] = row["warm_s"] / averaged["warm_s"]
    for n in args.dense:
        dense = case(f"resolved N={n}, dense Kvaerno5", kinetics="resolved", n_modes=n,
                     resolved_options=ResolvedOptions(method="kvaerno5"))
        split = next(r for r in rows if r["case"] == f"resolved N={n}, splitting (default)")
        split["rel_err_vs_dense"] = max(abs(split[k] / dense[k] - 1) for k in KEYS)
        dense["ratio_to_split"] = dense["warm_s"] / split["warm_s"]
    machine = {"platform": platform.platform(), "processor": platform.processor(), "cpus": os.cpu_count(),
               "python": platform.python_version(), "jax": jax.__version__, "backend": jax.default_backend(),
               "lta_jax": getattr(lta_jax, "__version__", "dev")}
    result = {"command": "python " + " ".join(sys.argv), "machine": machine, "point": "set (4.1), M = 2 GeV, NH",
              "T_end": 10.0, "rows": rows}
    write_json_atomic(args.out, result)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
