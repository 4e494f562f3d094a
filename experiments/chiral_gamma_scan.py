"""Experiment: how strong must the condensate be? The chiral extension (paper §7, Fig. 16) at set (4.1), κ = 0.1,
with the γ_C amplitude A (γ_C = A H above T_* = 40 GeV, dropping below) varied over 10⁴–10¹⁰.

For each A: the flavour asymmetries at T_end = 10 GeV, the largest |Y_Δe| below T_sph and where it occurs, and the
right-handed-electron charge Y_R at the end against its largest |Y_R| (does it freeze at its maximum?). The standard
equations (no R₀) are solved once for comparison. Writes ``gamma_scan.json``:

    python experiments/chiral_gamma_scan.py --out experiments/results/chiral
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import numpy as np

import lta_jax  # noqa: F401
from lta_jax.cli.settings import rate_model_from_spec
from lta_jax.kinetics.chiral import ChiralOptions
from lta_jax.model.benchmark_points import SET_4_1
from lta_jax.solver.chiral import solve_chiral
from lta_jax.studies.output import write_json_atomic


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--amplitudes", type=float, nargs="+", default=[1e4, 1e6, 1e8, 1e10])
    parser.add_argument("--kappa", type=float, default=0.1)
    parser.add_argument("--out", default="experiments/results/chiral")
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rates = rate_model_from_spec(None)
    standard = None
    rows = []
    for amplitude in args.amplitudes:
        sol = solve_chiral(SET_4_1, rates, t_end=10.0, standard=standard,
                           chiral=ChiralOptions(kappa=args.kappa, gamma_c_amplitude=amplitude))
        standard = sol.standard
        if not sol.succeeded:
            rows.append({"A": amplitude, "status": sol.status})
            continue
        x, t = sol.states, sol.temperatures
        std = np.asarray(standard.states)
        ie, ir = int(np.argmax(np.abs(x[:, 0]))), int(np.argmax(np.abs(x[:, 11])))
        rows.append({"A": amplitude, "status": sol.status, "steps": sol.steps,
                     "Y_De_end": x[-1, 0], "Y_Dmu_end": x[-1, 1], "Y_Dtau_end": x[-1, 2],
                     "Y_De_end_standard": std[-1, 0], "max_abs_Y_De": abs(x[ie, 0]), "T_max_Y_De": t[ie],
                     "Y_De_end_over_max": abs(x[-1, 0]) / abs(x[ie, 0]),
                     "Y_R_end": x[-1, 11], "max_abs_Y_R": abs(x[ir, 11]), "T_max_Y_R": t[ir],
                     "Y_R_end_over_max": abs(x[-1, 11]) / abs(x[ir, 11])})
        r = rows[-1]
        print(f"A = {amplitude:g}: Y_De(10 GeV) = {r['Y_De_end']:.3g} ({r['Y_De_end'] / r['Y_De_end_standard']:.2f}× "
              f"standard, {r['Y_De_end_over_max']:.3f} of its max {r['max_abs_Y_De']:.3g} at {r['T_max_Y_De']:.1f} GeV); "
              f"Y_Dmu = {r['Y_Dmu_end']:.3g}; |Y_R| end/max = {r['Y_R_end_over_max']:.4f} (max at {r['T_max_Y_R']:.1f} GeV)",
              file=sys.stderr)
    write_json_atomic(out / "gamma_scan.json", {"point": SET_4_1.as_dict(), "kappa": args.kappa, "runs": rows})


if __name__ == "__main__":
    main()
