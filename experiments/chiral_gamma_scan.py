"""Experiment: how strong must the condensate be? The chiral extension (paper §7, Fig. 16) at set (4.1), κ = 0.1,
with the γ_C amplitude A (γ_C = A H above T_* = 40 GeV, dropping below) varied over 10⁴–10¹⁰.

For each A: the flavour asymmetries at T_end = 10 GeV, the largest |Y_Δe| below T_sph and where it occurs, and the
right-handed-electron charge Y_R at the end against its largest |Y_R| (does it freeze at its maximum?). The standard
equations (no R₀) are solved once for comparison. Writes ``gamma_scan.json`` and ``gamma_scan.png``:

    python experiments/chiral_gamma_scan.py --out experiments/results/chiral
    python experiments/chiral_gamma_scan.py --plot-only     # redraw the figure from gamma_scan.json
"""

from __future__ import annotations

import argparse
import json
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
    parser.add_argument("--plot-only", action="store_true", help="redraw gamma_scan.png from gamma_scan.json")
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.plot_only:
        plot_scan(json.loads((out / "gamma_scan.json").read_text()), out / "gamma_scan.png")
        return
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
    result = {"point": SET_4_1.as_dict(), "kappa": args.kappa, "runs": rows}
    write_json_atomic(out / "gamma_scan.json", result)
    plot_scan(result, out / "gamma_scan.png")


def plot_scan(result: dict, path):
    """Two panels against the γ_C amplitude A: the flavour asymmetries at 10 GeV (with the standard equations' Y_Δe),
    and how much of its maximum each of Y_Δe and Y_R keeps at 10 GeV."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = [r for r in result["runs"] if r["status"] == "success"]
    a = np.array([r["A"] for r in runs])
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    for key, label, style in (("Y_De_end", r"$Y_{\Delta e}$", "o-"), ("Y_Dmu_end", r"$Y_{\Delta\mu}$", "s-"),
                              ("Y_Dtau_end", r"$Y_{\Delta\tau}$", "^--")):
        left.loglog(a, [abs(r[key]) for r in runs], style, label=label)
    left.axhline(abs(runs[0]["Y_De_end_standard"]), color="grey", ls=":",
                 label=r"$Y_{\Delta e}$ without $R_0$ (standard equations)")
    left.set(xlabel=r"$\gamma_C$ amplitude $A$ ($\gamma_C = A\,H$ above 40 GeV)", ylabel="|asymmetry| at T = 10 GeV",
             title=f"set (4.1), κ = {result['kappa']:g}: asymmetries at 10 GeV", ylim=(1e-7, 2e-5))
    left.legend(fontsize=8, loc="lower right", ncol=2)
    right.semilogx(a, [r["Y_De_end_over_max"] for r in runs], "o-", label=r"$|Y_{\Delta e}|$ at 10 GeV / its maximum")
    right.semilogx(a, [r["Y_R_end_over_max"] for r in runs], "s-", label=r"$|Y_R|$ at 10 GeV / its maximum")
    right.set(xlabel=r"$\gamma_C$ amplitude $A$", ylabel="fraction of the maximum kept", ylim=(0, 1.05),
              title="does it freeze at its maximum?")
    right.legend(fontsize=8, loc="center right")
    fig.savefig(path, dpi=130)
    plt.close(fig)


if __name__ == "__main__":
    main()
