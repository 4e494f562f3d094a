"""Accuracy of the reverse-mode gradients (issue 33): ∂Y_B and ∂Y_L(10 GeV) with respect to (M, log10 ΔM, Im ω, Re ω,
δ, η) by reverse mode against central differences, at the README point (paper Fig. 18) and at the paper's set (4.1),
computed rates, 10³ → 10 GeV.

    python experiments/gradient_accuracy.py --steps 1600 --out experiments/results/gradient_accuracy

Both sides use the same discrete solution (Magnus on a node grid of ``--steps`` steps with T_sph and T_end as nodes, the
rate table tabulated at the point's mass): reverse mode is exact for it, central differences carry a truncation error
O(h²) and round-off O(ε/h), so the table also gives two step sizes (h and h/2) to show which dominates. Writes
``OUT/gradient_accuracy.json`` and ``OUT/gradient_accuracy.md`` (the table of docs/validation.md).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

import numpy as np


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=1600)
    ap.add_argument("--out", type=pathlib.Path, required=True)
    args = ap.parse_args(argv)

    from lta_jax.model.benchmark_points import FIG18, SET_4_1
    from lta_jax.rates.computed import ComputedRates
    from lta_jax.solver.gradients import (PARAMETER_NAMES, central_differences, make_observable_map,
                                          observables_and_jacobian, parameters_to_vector)
    from lta_jax.solver.methods import SolverOptions

    rates = ComputedRates.build()
    steps = np.array([1e-5, 3e-6, 1e-5, 1e-5, 3e-5, 1e-5])
    kw = dict(t_start=1e3, t_end=10.0, solver_options=SolverOptions.fixed_grid(args.steps))
    out, lines = {}, []
    for label, point in (("README point (Fig. 18)", FIG18), ("set (4.1)", SET_4_1)):
        result = observables_and_jacobian(point, rates, mode="reverse", observables=("Y_B", "Y_L_end"), **kw)
        fn = make_observable_map(point, rates, **kw)
        theta = parameters_to_vector(point)
        fd_h = central_differences(fn, theta, steps)[[0, 1]]
        fd_h2 = central_differences(fn, theta, steps / 2)[[0, 1]]
        rows = {}
        for i, name in enumerate(("Y_B", "Y_L_end")):
            scale = np.max(np.abs(result.jacobian[i]))
            rel = np.abs(result.jacobian[i] - fd_h2[i]) / np.maximum(np.abs(result.jacobian[i]), 1e-2 * scale)
            rel_h = np.abs(result.jacobian[i] - fd_h[i]) / np.maximum(np.abs(result.jacobian[i]), 1e-2 * scale)
            rows[name] = {"value": float(result.values[i]),
                          **{p: {"reverse": float(result.jacobian[i, j]), "central_h": float(fd_h[i, j]),
                                 "central_h2": float(fd_h2[i, j]), "relative_difference_h2": float(rel[j]),
                                 "relative_difference_h": float(rel_h[j])} for j, p in enumerate(PARAMETER_NAMES)}}
            lines.append(f"| {label} | {name} = {result.values[i]:.4g} | " + " | ".join(
                f"{result.jacobian[i, j]:.4g} ({rel[j]:.1e})" for j in range(6)) + f" | {np.max(rel):.1e} |")
            print(lines[-1], file=sys.stderr, flush=True)
        out[label] = rows
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "gradient_accuracy.json").write_text(json.dumps(
        {"command": f"python experiments/gradient_accuracy.py --steps {args.steps}", "steps_h": steps.tolist(),
         "points": out}, indent=1) + "\n")
    header = ("| point | observable | ∂/∂M | ∂/∂log10 ΔM | ∂/∂Im ω | ∂/∂Re ω | ∂/∂δ | ∂/∂η | worst |\n"
              "|---|---|---|---|---|---|---|---|---|\n")
    (args.out / "gradient_accuracy.md").write_text(header + "\n".join(lines) + "\n")
    print(header + "\n".join(lines))


if __name__ == "__main__":
    main()
