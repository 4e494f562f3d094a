"""Cost of the momentum-resolved equations against the averaged solve, measured in the same run.

    python benchmarks/bench_resolved.py [--repeats 3] [--dense 24] [--out benchmarks/results/resolved.json]

Set (4.1) (M = 2 GeV), computed rates, default T_start → 10 GeV. Cases: the averaged solve (adaptive Magnus default);
the resolved equations with the coupled step (default) and the Strang splitting for N = 24, 48, 96 modes of the grid (6.2)
plus the 5 low modes; Kvaerno5 on the dense (8N+3)-system for the N of ``--dense`` (the general-purpose stiff solver
the structure replaces; 0 to skip); ``solve_batch`` of ``--batch`` Sobol points of the large-LTA box at M = 2 GeV (per
point; the issue's unit: the averaged adaptive single solve); and, for the N of ``--gradient``, the reverse-mode gradient
of Y_L(10 GeV) through the resolved map (``make_observable_map(kinetics="resolved")``; the optimiser's numerics
``OPTIMISATION_RESOLVED`` and the full solve's) against its value. Warm time = median of ``--repeats`` calls after a first (compiling) call;
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


def batch_rows(rates, args, rows, averaged):
    """solve_batch of args.batch large-LTA points at M = 2 GeV, resolved N for each of args.modes (per point)."""
    from lta_jax import solve_batch
    from lta_jax.studies.boxes import box_sample

    cols = box_sample(args.batch, 2.0, "NH", seed=0)
    points = [lta_jax.ModelParameters(cols["M"][i], cols["delta_M"][i], cols["im_omega"][i], cols["re_omega"][i],
                                      cols["delta"][i], cols["eta"][i]) for i in range(args.batch)]
    for n in args.modes:
        def run():
            out = solve_batch(points, rates, t_start=1e3, t_end=10.0, kinetics="resolved", n_modes=n)
            return out

        out, first, warm = timed(run, args.repeats)
        row = {"case": f"solve_batch resolved N={n}, {args.batch} points (per point)", "first_call_s": first,
               "warm_s": warm / args.batch, "failed": int(sum(s != "success" for s in out.status)),
               "ratio_to_averaged": warm / args.batch / averaged["warm_s"]}
        rows.append(row)
        print(f"{row['case']:42s} first {first:6.1f} s  warm {row['warm_s']:7.3f} s per point  "
              f"({row['ratio_to_averaged']:.1f}× the averaged single solve)", file=sys.stderr, flush=True)


def gradient_rows(rates, n, repeats, rows):
    """Value and value + reverse-mode gradient of Y_L(10 GeV) through the resolved map at set (4.1)."""
    import equinox as eqx

    from lta_jax.solver.gradients import _values, make_observable_map, parameters_to_vector
    from lta_jax.studies.optimise import OPTIMISATION_RESOLVED

    theta = parameters_to_vector(SET_4_1)
    value_and_grad = eqx.filter_jit(lambda fn, t: jax.value_and_grad(lambda x: fn(x)[1])(t))
    for label, options in (("optimiser numerics", ResolvedOptions(**OPTIMISATION_RESOLVED)),
                           ("full-solve numerics", ResolvedOptions())):
        fn = make_observable_map(SET_4_1, rates, t_end=10.0, kinetics="resolved", n_modes=n, mode="reverse",
                                 resolved_options=options)
        _, first_v, value = timed(lambda: jax.block_until_ready(_values(fn, theta)), repeats)
        _, first_g, both = timed(lambda: jax.block_until_ready(value_and_grad(fn, theta)), repeats)
        row = {"case": f"resolved N={n} reverse gradient of Y_L, {label}", "value_s": value, "value_and_grad_s": both,
               "ratio": both / value, "compile_value_s": first_v - value, "compile_value_and_grad_s": first_g - both}
        rows.append(row)
        print(f"{row['case']:42s} value {value:7.3f} s  value + gradient {both:7.3f} s  ({row['ratio']:.2f}×)",
              file=sys.stderr, flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--modes", type=int, nargs="+", default=[24, 48, 96])
    parser.add_argument("--dense", type=int, nargs="*", default=[24])
    parser.add_argument("--batch", type=int, default=8, help="points of the resolved batch rows (0: skip)")
    parser.add_argument("--gradient", type=int, nargs="*", default=[48], help="N of the gradient rows")
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
        row = case(f"resolved N={n}, coupled step (default)", kinetics="resolved", n_modes=n)
        row["ratio_to_averaged"] = row["warm_s"] / averaged["warm_s"]
        row = case(f"resolved N={n}, Strang splitting", kinetics="resolved", n_modes=n,
                   resolved_options=ResolvedOptions(method="split"))
        row["ratio_to_averaged"] = row["warm_s"] / averaged["warm_s"]
    if args.batch:
        batch_rows(rates, args, rows, averaged)
    for n in args.gradient:
        gradient_rows(rates, n, args.repeats, rows)
    for n in args.dense:
        dense = case(f"resolved N={n}, dense Kvaerno5", kinetics="resolved", n_modes=n,
                     resolved_options=ResolvedOptions(method="kvaerno5"))
        for label in ("coupled step (default)", "Strang splitting"):
            structured = next((r for r in rows if r["case"] == f"resolved N={n}, {label}"), None)
            if structured is None:  # this N is not among --modes
                structured = case(f"resolved N={n}, {label}", kinetics="resolved", n_modes=n,
                                  resolved_options=ResolvedOptions(method="coupled" if "coupled" in label else "split"))
            structured["rel_err_vs_dense"] = max(abs(structured[k] / dense[k] - 1) for k in KEYS)
        dense["ratio_to_default"] = dense["warm_s"] / next(
            r["warm_s"] for r in rows if r["case"] == f"resolved N={n}, coupled step (default)")
    machine = {"platform": platform.platform(), "processor": platform.processor(), "cpus": os.cpu_count(),
               "python": platform.python_version(), "jax": jax.__version__, "backend": jax.default_backend(),
               "lta_jax": getattr(lta_jax, "__version__", "dev")}
    result = {"command": "python " + " ".join(sys.argv), "machine": machine, "point": "set (4.1), M = 2 GeV, NH",
              "T_end": 10.0, "rows": rows}
    write_json_atomic(args.out, result)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
