"""Cost of derivatives through the solve (issue 33): value, value + gradient of one observable (reverse mode), the
6 × 6 Jacobian in forward, reverse and "auto" mode, the gradient with respect to the six model parameters plus the 24
rate-uncertainty factors, and the compilation of the value and the value + gradient programs.

    python benchmarks/bench_gradients.py --repeats 7 --out benchmarks/results/gradients.json
    python benchmarks/bench_gradients.py --chiral --repeats 3 --out benchmarks/results/gradients_chiral.json

``--chiral``: instead, the chiral map (:func:`lta_jax.solver.chiral.make_chiral_map`: standard equations to T_sph,
Kvaerno5 while the condensate acts, Magnus with R₀ held) at set (4.1), default chiral options, to 10 GeV: value, the
7 × 6 Jacobian by forward mode, value + gradient of Y_L by reverse mode.

Paths: the node grid of the optimiser (Magnus, 400 steps, T_sph and T_end nodes) and the adaptive Magnus default, at the
README point (M = 1 GeV NH, computed rates) to T_end = 10 GeV. Every timing is the median of ``--repeats`` calls after
compilation (the minimum is recorded too), all in one process, one after another; ratios are to the value measured
in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from _results import emit, machine


def _timed(fn, *args, repeats: int):
    t0 = time.perf_counter()
    jax.block_until_ready(fn(*args))
    first = time.perf_counter() - t0
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - t0)
    return {"median_ms": 1e3 * statistics.median(times), "min_ms": 1e3 * min(times), "first_call_s": first}


def _add_ratios(row: dict) -> None:
    """Every timing of ``row`` as a multiple of the value's median (same run)."""
    base = row["value"]["median_ms"]
    for timing in row.values():
        timing["ratio_to_value"] = timing["median_ms"] / base


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--quick", action="store_true", help="provisional rates, T_end = 50 GeV, 2 repeats (a smoke run)")
    ap.add_argument("--chiral", action="store_true", help="the chiral map instead (set (4.1), to 10 GeV)")
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    if args.chiral:
        return _chiral(args)

    from lta_jax.model.parameters import ModelParameters
    from lta_jax.rates.computed import ComputedRates
    from lta_jax.rates.provisional import ProvisionalRates
    from lta_jax.rates.uncertainty import N_NUISANCE
    from lta_jax.solver.gradients import cheaper_mode, make_observable_map, parameters_to_vector
    from lta_jax.solver.methods import SolverOptions

    repeats = 2 if args.quick else args.repeats
    point = ModelParameters(1.0, 1.26e-11, -0.14, 0.52 * np.pi, 1.30 * np.pi, 1.02 * np.pi)
    rates = ProvisionalRates() if args.quick else ComputedRates.build()
    t_end = 50.0 if args.quick else 10.0
    theta = parameters_to_vector(point)
    theta_30 = jnp.concatenate([theta, jnp.zeros(N_NUISANCE)])
    paths = {"node grid (400 steps)": SolverOptions.fixed_grid(400), "adaptive Magnus": SolverOptions(n_save=200)}
    results = {}
    for name, options in paths.items():
        kw = dict(t_start=1e3, t_end=t_end, solver_options=options)
        fwd = make_observable_map(point, rates, mode="forward", **kw)
        rev = make_observable_map(point, rates, mode="reverse", **kw)
        value = eqx.filter_jit(lambda m, t: m(t))
        grad = eqx.filter_jit(lambda m, t: jax.value_and_grad(lambda x: m(x)[1])(t))
        jac_fwd = eqx.filter_jit(lambda m, t: (m(t), jax.jacfwd(m)(t)))
        jac_rev = eqx.filter_jit(lambda m, t: (m(t), jax.jacrev(m)(t)))
        row = {"value": _timed(value, rev, theta, repeats=repeats)}
        row["value_and_grad_reverse"] = _timed(grad, rev, theta, repeats=repeats)
        row["value_and_grad_reverse_30_parameters"] = _timed(grad, rev, theta_30, repeats=repeats)
        row["value_and_jacobian_forward"] = _timed(jac_fwd, fwd, theta, repeats=repeats)
        row["value_and_jacobian_reverse"] = _timed(jac_rev, rev, theta, repeats=repeats)
        _add_ratios(row)
        row["gradient_30_over_6"] = (row["value_and_grad_reverse_30_parameters"]["median_ms"]
                                     / row["value_and_grad_reverse"]["median_ms"])
        row["auto_6x6_picks"] = cheaper_mode(6, solver_options=options)  # what mode="auto" takes here
        # compilation (first call includes tracing + compilation): value vs value + gradient
        row["compile_ratio_grad_over_value"] = (row["value_and_grad_reverse"]["first_call_s"]
                                                / row["value"]["first_call_s"])
        results[name] = row
        print(f"{name}: " + ", ".join(f"{k} {v['median_ms']:.1f} ms ({v['ratio_to_value']:.2f}x)"
                                      for k, v in row.items() if isinstance(v, dict))
              + f"; 30/6 = {row['gradient_30_over_6']:.2f}; compile grad/value = "
                f"{row['compile_ratio_grad_over_value']:.2f}", file=sys.stderr, flush=True)
    out = {"machine": machine(),
           "command": "python benchmarks/bench_gradients.py " + ("--quick" if args.quick else f"--repeats {repeats}"),
           "point": "M = 1 GeV NH (README point), T 1e3 -> " + f"{t_end:g} GeV", "results": results}
    emit(out, args.out)


def _chiral(args) -> None:
    from lta_jax.model.benchmark_points import SET_4_1
    from lta_jax.rates.computed import ComputedRates
    from lta_jax.rates.provisional import ProvisionalRates
    from lta_jax.solver.chiral import make_chiral_map
    from lta_jax.solver.gradients import parameters_to_vector

    repeats = 2 if args.quick else args.repeats
    rates = ProvisionalRates() if args.quick else ComputedRates.build()
    t_end = 50.0 if args.quick else 10.0
    theta = parameters_to_vector(SET_4_1)
    fwd = make_chiral_map(SET_4_1, rates, t_start=1e3, t_end=t_end, mode="forward")
    rev = make_chiral_map(SET_4_1, rates, t_start=1e3, t_end=t_end, mode="reverse")
    value = eqx.filter_jit(lambda m, t: m(t))
    grad = eqx.filter_jit(lambda m, t: jax.value_and_grad(lambda x: m(x)[1])(t))
    jac_fwd = eqx.filter_jit(lambda m, t: (m(t), jax.jacfwd(m)(t)))
    row = {"value": _timed(value, fwd, theta, repeats=repeats),
           "value_and_jacobian_forward": _timed(jac_fwd, fwd, theta, repeats=repeats),
           "value_and_grad_reverse": _timed(grad, rev, theta, repeats=repeats)}
    _add_ratios(row)
    print("chiral map: " + ", ".join(f"{k} {v['median_ms']:.0f} ms ({v['ratio_to_value']:.2f}x, first call "
                                     f"{v['first_call_s']:.1f} s)" for k, v in row.items()), file=sys.stderr)
    emit({"machine": machine(), "command": "python benchmarks/bench_gradients.py --chiral "
          + ("--quick" if args.quick else f"--repeats {repeats}"),
          "point": f"set (4.1), default chiral options, T 1e3 -> {t_end:g} GeV", "results": {"chiral map": row}},
         args.out)


if __name__ == "__main__":
    main()
