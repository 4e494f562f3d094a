"""Experiment: how much of its maximum can the electron asymmetry keep? The chiral extension (paper §7, Fig. 16) at
set (4.1) with κ varied, γ_C = A H (A = 10⁶, strong enough to hold μ_R = κμ₁) dropping where the standard equations'
|Y_Δe| is largest (the paper's recipe; 38.7 GeV here).

Once γ_C has dropped, R₀ is frozen and the HNL rates drive the flavours to equal chemical potentials at fixed total
lepton number, so Y_Δe ends at ≈ 0.27 Y_L − 0.76 Y_R (:func:`lta_jax.kinetics.chiral.flavour_equilibrium`); with R₀
at the condensate's attractor μ_R = κμ₁ when γ_C drops, the part kept per unit of Y_Δe then is
:func:`lta_jax.kinetics.chiral.kept_electron_fraction` (κ) — 0.215 at the paper's κ = 0.1, → 0.85 as κ → −∞.
For each κ: the flavour asymmetries at 10 GeV; Y_Δe(10 GeV) as a fraction of the standard equations' largest |Y_Δe|
below T_sph (the paper's "maximal electron asymmetry", §8, which the condensate is meant to preserve) against that
prediction; and the flavour-equilibrium value from the run's own final Y_L and Y_R. Writes ``kappa_scan.json`` and
``kappa_scan.png``:

    python experiments/chiral_kappa_scan.py --out experiments/results/chiral
    python experiments/chiral_kappa_scan.py --plot-only     # redraw the figure from kappa_scan.json
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

import numpy as np

import lta_jax  # noqa: F401
from lta_jax.cli.settings import rate_model_from_spec
from lta_jax.kinetics.chiral import KAPPA_LIMIT, ChiralOptions, kept_electron_fraction
from lta_jax.model.benchmark_points import SET_4_1
from lta_jax.solver.chiral import solve_chiral
from lta_jax.studies.output import write_json_atomic

KAPPAS = (-30.0, -10.0, -3.0, -1.0, -0.3, 0.0, 0.1, 0.3, 0.6, 1.0, 2.0)
SHOWN = (0.1, -10.0)  # the evolution panel: the paper's κ and one that keeps most of the maximum


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kappas", type=float, nargs="+", default=list(KAPPAS))
    parser.add_argument("--amplitude", type=float, default=1e6, help="A of γ_C = A H above the drop")
    parser.add_argument("--out", default="experiments/results/chiral")
    parser.add_argument("--plot-only", action="store_true", help="redraw kappa_scan.png from kappa_scan.json")
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.plot_only:
        plot_scan(json.loads((out / "kappa_scan.json").read_text()), out / "kappa_scan.png")
        return
    bad = [k for k in args.kappas if not k < KAPPA_LIMIT]
    if bad:
        parser.error(f"κ must be below {KAPPA_LIMIT:.4f} (the condensate law's attractor), got {bad}")
    rates = rate_model_from_spec(None)
    standard = None
    runs, curves = [], {}
    standard_max = None
    for kappa in args.kappas:
        sol = solve_chiral(SET_4_1, rates, t_end=10.0, standard=standard,
                           chiral=ChiralOptions(kappa=kappa, gamma_c_amplitude=args.amplitude,
                                                gamma_c_temperature=None))
        standard = sol.standard
        if standard_max is None:
            below = sol.standard.states[:, 0]  # the standard states on the chiral run's temperatures (≤ T_sph)
            standard_max = float(below[np.argmax(np.abs(below))])
        row = {"kappa": kappa, **sol.summary(), "kept_fraction_predicted": float(kept_electron_fraction(kappa))}
        if sol.succeeded:
            row["Y_De_end_over_standard_max"] = row["Y_De_end"] / standard_max
        runs.append(row)
        if not sol.succeeded:
            print(f"κ = {kappa:g}: {sol.status}", file=sys.stderr)
            continue
        if kappa in SHOWN:
            curves[f"{kappa:g}"] = sol.states[:, :3].tolist()
        print(f"κ = {kappa:g}: Y_De(10 GeV) = {row['Y_De_end']:.3g} = {row['Y_De_end_over_standard_max']:.3f} of the "
              f"standard max {standard_max:.3g} ({row['Y_De_end_over_max']:.3f} of its own max "
              f"{row['max_abs_Y_De_below_T_sph']:.3g}; R0 alone keeps {row['kept_fraction_predicted']:.3f}); "
              f"flavour equilibrium {row['Y_De_at_flavour_equilibrium']:.3g}; Y_Dmu = {row['Y_Dmu_end']:.3g}, "
              f"Y_Dtau = {row['Y_Dtau_end']:.3g}; T_* = {row['gamma_c']['T_star']:.1f} GeV", file=sys.stderr)
    result = {"point": SET_4_1.as_dict(), "amplitude_over_H": args.amplitude, "standard_max_Y_De": standard_max,
              "runs": runs,
              "temperatures": standard.temperatures.tolist(), "standard": np.asarray(standard.states)[:, :3].tolist(),
              "curves": curves}
    write_json_atomic(out / "kappa_scan.json", result)
    plot_scan(result, out / "kappa_scan.png")


def plot_scan(result: dict, path):
    """Left: Y_Δe(10 GeV) over the standard equations' max Y_Δe below T_sph against κ — measured, the R₀-only
    prediction kept_electron_fraction(κ), and the flavour-equilibrium value from each run's final Y_L and Y_R;
    Y_Δμ on the same scale. Right: the flavour
    asymmetries below 50 GeV for the paper's κ = 0.1 and for κ = −10, with the standard equations dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = [r for r in result["runs"] if r["status"] == "success"]
    kappa = np.array([r["kappa"] for r in runs])
    y_max = result["standard_max_Y_De"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.4), constrained_layout=True)
    fine = np.concatenate([-np.geomspace(100.0, 1e-3, 300), np.linspace(0.0, 2.5, 200)])
    left.plot(fine, [float(kept_electron_fraction(k)) for k in fine], color="0.5", lw=1,
              label="R₀ alone, full re-equilibration\n(kept_electron_fraction)")
    left.plot(kappa, [r["Y_De_end_over_standard_max"] for r in runs], "o", color="C0",
              label=r"$Y_{\Delta e}$(10 GeV) (run)")
    left.plot(kappa, np.array([r["Y_De_at_flavour_equilibrium"] for r in runs]) / y_max, "x", color="k", ms=7,
              label="flavour equilibrium from the run's\nfinal $Y_L$, $Y_R$")
    left.plot(kappa, np.array([r["Y_Dmu_end"] for r in runs]) / y_max, "s", color="C1", ms=4,
              label=r"$Y_{\Delta\mu}$(10 GeV) (= $Y_{\Delta\tau}$)")
    std_end = result["standard"][-1][0] / y_max
    left.axhline(std_end, color="C0", ls=":", lw=1, label=r"$Y_{\Delta e}$ without $R_0$ (standard)")
    left.axhline(0, color="0.7", lw=0.6)
    left.axvline(0.1, color="C3", lw=0.8, ls="--")
    left.text(0.12, 0.93, "κ = 0.1\n(paper)", color="C3", fontsize=8, va="top")
    left.set_xscale("symlog", linthresh=1.0, linscale=1.5)
    ticks = [-100, -30, -10, -3, -1, -0.5, 0, 0.5, 1, 2]
    left.set_xticks(ticks, [f"{t:g}" for t in ticks])
    left.set(xlabel="κ (paper's sign convention; attractor only for κ < 3.23)",
             ylabel=r"at 10 GeV / max $Y_{\Delta e}$ of the standard equations", ylim=(-0.8, 1.05),
             title=f"set (4.1), γ_C = {result['amplitude_over_H']:.0e} H until the max of $Y_{{\\Delta e}}$",
             xlim=(-120, 2.6))
    left.legend(fontsize=7, loc="lower left")
    t = np.asarray(result["temperatures"])
    sel = t <= 50
    std = np.asarray(result["standard"])
    names = (r"$Y_{\Delta e}$", r"$Y_{\Delta\mu}$", r"$Y_{\Delta\tau}$")
    for k in range(3):
        right.plot(t[sel], std[sel, k], color=f"C{k}", ls="--", lw=1, label=f"{names[k]} standard")
    for key, style in zip((f"{k:g}" for k in SHOWN), ("-", "-.")):
        if key not in result["curves"]:
            continue
        states = np.asarray(result["curves"][key])
        for k in range(3):
            right.plot(t[sel], states[sel, k], color=f"C{k}", ls=style, lw=1.6, label=f"{names[k]}, κ = {key}")
    right.axhline(0, color="0.7", lw=0.6)
    right.set_xscale("log")
    right.set_ylim(-1.5e-5, 4.8e-5)
    right.set(xlabel="T [GeV]", ylabel="Y = n/s")
    right.set_title("T < 50 GeV with the condensate (solid κ = 0.1, dash-dot κ = −10)\n"
                    "μ, τ peaks (±1.2e-4 near 42 GeV) clipped", fontsize=9)
    right.legend(fontsize=7, ncol=3, loc="upper left")
    fig.savefig(path, dpi=130)
    plt.close(fig)


if __name__ == "__main__":
    main()
