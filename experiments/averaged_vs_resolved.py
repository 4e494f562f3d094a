"""Experiment: how well do the momentum-averaged equations reproduce the momentum-resolved ones (paper §6)?

1. ``--points`` scrambled Sobol points of the large-LTA box (``lta_jax.studies.optimise.LARGE_LTA_BOX``) at each of
   ``--masses`` (NH, computed rates, default T_start → ``--t-end``): the ratios averaged/resolved of Y_L(T_end),
   max |Y_e| (T ≤ T_sph) and Y_B (simple rule at T_sph) — the paper's "within a factor ~1.3" made quantitative
   (``averaged_vs_resolved.md``, histogram ``averaged_vs_resolved.png``).
2. Convergence in the number of modes at set (4.1) (paper Fig. 14): Y_e(T) and the observables for
   N = 5, 10, 24, 48, 82 (grid (6.2) plus the default low modes) (``resolved_convergence.png``).
3. Y_L(T) and Y_e(T), averaged against resolved, at set (4.1) and at the Fig.-18 point (paper Fig. 15)
   (``resolved_curves.png``).

Results are written atomically after every mass/part and resumed when the settings match; progress on stderr:

    python experiments/averaged_vs_resolved.py --points 64 --masses 1 2 --modes 48
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
import time

import numpy as np

import lta_jax  # noqa: F401
from lta_jax import solve, solve_batch, summary
from lta_jax.model.benchmark_points import FIG18, SET_4_1
from lta_jax.rates.computed import ComputedRates
from lta_jax.studies.optimise import box_sample
from lta_jax.studies.output import write_json_atomic

OBSERVABLES = ("Y_L_end", "max_abs_Y_e", "Y_B")
LABELS = {"Y_L_end": "Y_L(T_end)", "max_abs_Y_e": "max |Y_e| (T ≤ T_sph)", "Y_B": "Y_B (T_sph)"}
CONVERGENCE_MODES = (5, 10, 24, 48, 82)


def _log(text: str) -> None:
    print(f"[averaged_vs_resolved] {text}", file=sys.stderr, flush=True)


def _values(res, key) -> list:
    return [float(v) if np.isfinite(v) else None for v in res.observables[key]]


def run_box(args, data, path, rates) -> None:
    for mass in args.masses:
        key = f"{mass:g}"
        if key in data["box"]:
            continue
        points = box_sample(args.points, mass, "NH", seed=args.seed)
        entry = {"inputs": {k: [float(v) for v in points[k]] for k in ("delta_M", "im_omega", "re_omega", "delta",
                                                                      "eta")}}
        for kinetics in ("averaged", "resolved"):
            _log(f"M = {mass:g} GeV, {args.points} points, {kinetics} ...")
            extra = dict(kinetics="resolved", n_modes=args.modes) if kinetics == "resolved" else {}
            t0 = time.perf_counter()
            res = solve_batch(points, rates, t_end=args.t_end, strategy="threads", **extra)
            entry[kinetics] = {"seconds": time.perf_counter() - t0, "status": [str(s) for s in res.status],
                               **{k: _values(res, k) for k in OBSERVABLES}}
        data["box"][key] = entry
        write_json_atomic(path, data)


def _trajectory(sol) -> dict:
    return {"T": [float(v) for v in sol.temperatures], "Y_L": [float(v) for v in sol.states[:, 0:3].sum(axis=1)],
            "Y_e": [float(v) for v in sol.states[:, 0]]}


def run_convergence(args, data, path, rates) -> None:
    for n in CONVERGENCE_MODES:
        key = str(n)
        if key in data["convergence"]:
            continue
        _log(f"set (4.1), N = {n} modes ...")
        t0 = time.perf_counter()
        sol = solve(SET_4_1, rates, t_end=args.t_end, kinetics="resolved", n_modes=n)
        data["convergence"][key] = {"seconds": time.perf_counter() - t0, "n_total": sol.grid.n_modes,
                                    "summary": summary(sol), **_trajectory(sol)}
        write_json_atomic(path, data)


def run_curves(args, data, path, rates) -> None:
    for name, point in (("set (4.1)", SET_4_1), ("Fig. 18", FIG18)):
        if name in data["curves"]:
            continue
        _log(f"{name}: averaged and resolved trajectories ...")
        avg = solve(point, rates, t_end=args.t_end)
        res = solve(point, rates, t_end=args.t_end, kinetics="resolved", n_modes=args.modes)
        data["curves"][name] = {"averaged": {**_trajectory(avg), "summary": summary(avg)},
                                "resolved": {**_trajectory(res), "summary": summary(res)}}
        write_json_atomic(path, data)


def _ratios(entry, key):
    a = np.array([np.nan if v is None else v for v in entry["averaged"][key]])
    r = np.array([np.nan if v is None else v for v in entry["resolved"][key]])
    ok = (np.array(entry["averaged"]["status"]) == "success") & (np.array(entry["resolved"]["status"]) == "success")
    return a[ok] / r[ok]


def table(data, args) -> str:
    lines = ["| M [GeV] | observable | points | median avg/res | 16–84 % | within ×1.3 | within ×2 | opposite sign |",
             "|---|---|---|---|---|---|---|---|"]
    for mass in args.masses:
        entry = data["box"].get(f"{mass:g}")
        if entry is None:
            continue
        for key in OBSERVABLES:
            q = _ratios(entry, key)
            q = q[np.isfinite(q)]
            pos = q[q > 0]
            within = lambda f: f"{np.mean((q > 0) & (np.abs(np.log(np.abs(q))) <= np.log(f))):.0%}"  # noqa: E731
            lo, med, hi = (np.percentile(pos, [16, 50, 84]) if pos.size else (np.nan,) * 3)
            label = LABELS[key].replace("|", "\\|")
            lines.append(f"| {mass:g} | {label} | {q.size} | {med:.2f} | {lo:.2f} – {hi:.2f} | {within(1.3)} | "
                         f"{within(2.0)} | {np.mean(q < 0):.0%} |")
    timing = []
    for mass in args.masses:
        entry = data["box"].get(f"{mass:g}")
        if entry:
            timing.append(f"M = {mass:g} GeV: averaged {entry['averaged']['seconds']:.0f} s, resolved "
                          f"{entry['resolved']['seconds']:.0f} s for {len(entry['averaged']['status'])} points")
    fails = []
    for mass in args.masses:
        entry = data["box"].get(f"{mass:g}")
        if entry:
            for kinetics in ("averaged", "resolved"):
                bad = [s for s in entry[kinetics]["status"] if s != "success"]
                if bad:
                    fails.append(f"M = {mass:g} GeV {kinetics}: {len(bad)} failed ({sorted(set(bad))})")
    conv = ["", "Convergence in the number of modes, set (4.1) (grid (6.2) + 5 low modes):", "",
            "| N (6.2) | modes in all | Y_B | Y_L(T_end) | max \\|Y_e\\| | wall [s] |", "|---|---|---|---|---|---|"]
    for n in CONVERGENCE_MODES:
        c = data["convergence"].get(str(n))
        if c:
            s = c["summary"]
            conv.append(f"| {n} | {c['n_total']} | {s['Y_B']:.4e} | {s['Y_L_end']:.4e} | {s['max_abs_Y_e']:.4e} | "
                        f"{c['seconds']:.1f} |")
    curves = ["", "Named points (averaged / resolved):", ""]
    for name, entry in data["curves"].items():
        a, r = entry["averaged"]["summary"], entry["resolved"]["summary"]
        curves.append(f"- {name}: Y_L(T_end) {a['Y_L_end']:.3e} / {r['Y_L_end']:.3e} (ratio "
                      f"{a['Y_L_end'] / r['Y_L_end']:.2f}); max |Y_e| {a['max_abs_Y_e']:.3e} / {r['max_abs_Y_e']:.3e}; "
                      f"Y_B {a['Y_B']:.3e} / {r['Y_B']:.3e}")
    return "\n".join(lines + [""] + [f"- {t}" for t in timing] + ([""] + fails if fails else ["", "No solve failed."])
                     + conv + curves)


def figures(data, args, out) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for ax, key in zip(axes, OBSERVABLES):
        bins = np.linspace(-2.5, 1.5, 41) if key == "Y_B" else np.linspace(-1.0, 1.0, 41)
        for mass in args.masses:
            entry = data["box"].get(f"{mass:g}")
            if entry is None:
                continue
            q = _ratios(entry, key)
            q = q[np.isfinite(q) & (q > 0)]
            ax.hist(np.clip(np.log10(q), bins[0], bins[-1]), bins=bins, histtype="step", lw=1.5,
                    label=f"M = {mass:g} GeV ({q.size} same-sign pts)")
        for f in (1.3, 2.0):
            for s in (-1, 1):
                ax.axvline(s * np.log10(f), color="grey", ls=":" if f == 2.0 else "--", lw=0.8)
        ax.set_xlabel(f"log10 (averaged / resolved), {LABELS[key]}")
        ax.set_ylabel("points")
        ax.set_ylim(0, ax.get_ylim()[1] * 1.35)  # room for the legend above the histograms
        ax.legend(fontsize=7, loc="upper left")
    axes[0].set_title("dashed: factor 1.3, dotted: factor 2 (outermost bins collect the tails)", fontsize=8, loc="left")
    fig.suptitle(f"Averaged vs momentum-resolved ({args.modes} + 5 low modes), large-LTA box, NH, computed rates, to "
                 f"{args.t_end:g} GeV", fontsize=10)
    fig.tight_layout()
    fig.savefig(out / "averaged_vs_resolved.png", dpi=130)
    plt.close(fig)

    if data["convergence"]:
        fig, ax = plt.subplots(figsize=(6.5, 4.2))
        for n in CONVERGENCE_MODES:
            c = data["convergence"].get(str(n))
            if c:
                ax.plot(c["T"], np.abs(c["Y_e"]), lw=1.2, label=f"N = {n} (+5 low)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.invert_xaxis()
        ax.set_xlabel("T [GeV]")
        ax.set_ylabel("|Y_Δe|")
        ax.set_ylim(1e-12, None)
        ax.set_title("Set (4.1): convergence in the number of momentum modes (cf. paper Fig. 14)", fontsize=9)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out / "resolved_convergence.png", dpi=130)
        plt.close(fig)

    if data["curves"]:
        fig, axes = plt.subplots(1, len(data["curves"]), figsize=(12, 4.2))
        for ax, (name, entry) in zip(np.atleast_1d(axes), data["curves"].items()):
            for kinetics, style in (("averaged", "-"), ("resolved", "--")):
                e = entry[kinetics]
                ax.plot(e["T"], np.abs(e["Y_L"]), style, color="C0", label=f"|Y_L| {kinetics}")
                ax.plot(e["T"], np.abs(e["Y_e"]), style, color="C1", label=f"|Y_Δe| {kinetics}")
            ax.axvline(131.7, color="k", ls=":", lw=0.8)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.invert_xaxis()
            ax.set_ylim(1e-13, None)
            ax.set_xlabel("T [GeV]")
            ax.set_title(f"{name}: averaged (solid) vs resolved {args.modes}+5 modes (dashed); dotted: T_sph",
                         fontsize=8)
            ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out / "resolved_curves.png", dpi=130)
        plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=64)
    parser.add_argument("--masses", type=float, nargs="+", default=[1.0, 2.0])
    parser.add_argument("--modes", type=int, default=48)
    parser.add_argument("--t-end", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-convergence", action="store_true")
    parser.add_argument("--out", default="experiments/results/averaged_vs_resolved")
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "averaged_vs_resolved.json"
    settings = dict(points=args.points, modes=args.modes, t_end=args.t_end, seed=args.seed, rates="computed",
                    hierarchy="NH", low_modes=True)
    data = json.loads(path.read_text()) if path.exists() else {}
    if data.get("settings") != settings:
        data = {"settings": settings, "box": {}, "convergence": {}, "curves": {}}
    rates = ComputedRates.build()
    run_box(args, data, path, rates)
    run_curves(args, data, path, rates)
    if not args.skip_convergence:
        run_convergence(args, data, path, rates)
    command = (f"python experiments/averaged_vs_resolved.py --points {args.points} --masses "
               f"{' '.join(f'{m:g}' for m in args.masses)} --modes {args.modes} --t-end {args.t_end:g}")
    header = (f"Averaged vs momentum-resolved equations: {args.points} Sobol points of the large-LTA box per mass, NH, "
              f"computed rates, default T_start → {args.t_end:g} GeV, resolved with {args.modes} modes of the grid "
              f"(6.2) + 5 low modes (structured splitting, default options). Ratios are averaged/resolved; "
              f"'within ×f' counts points with the same sign and |log ratio| ≤ log f. Command: {command}\n\n")
    (out / "averaged_vs_resolved.md").write_text(header + table(data, args) + "\n")
    figures(data, args, out)
    print(json.dumps({"table": str(out / "averaged_vs_resolved.md"), "figures": [
        str(out / n) for n in ("averaged_vs_resolved.png", "resolved_convergence.png", "resolved_curves.png")]}))


if __name__ == "__main__":
    main()
