"""Experiment: does the default solver succeed everywhere in the large-LTA box down to T = 1 GeV?

For each mass (NH by default): ``--points`` scrambled Sobol points of the paper's large-LTA box (ΔM, Im ω, Re ω, δ, η;
``lta_jax.studies.optimise.LARGE_LTA_BOX``), computed rates, solved from the default T_start to ``--t-end`` by the
adaptive Magnus default through ``solve_batch`` (threads). Reported per mass: the diffrax status of every point
(failures listed with their parameters, never dropped), the steps (median, max), the wall time, and the range of Y_B and
|Y_L(T_end)|. Results are written atomically after every mass and resumed (finished masses are skipped when the
settings match); then a table (``solver_robustness.md``) and a figure (``solver_robustness.png``: steps per point and
|Y_L(T_end)| against ΔM):

    python experiments/solver_robustness.py --points 256 --masses 1 2 5 --t-end 1
"""

from __future__ import annotations

import argparse
import json
import math
import pathlib
import sys
import time

import numpy as np

import lta_jax  # noqa: F401
from lta_jax import SolverOptions, solve_batch
from lta_jax.rates.computed import ComputedRates
from lta_jax.studies.optimise import box_sample
from lta_jax.studies.output import write_json_atomic


def _finite_or_none(values) -> list:
    return [float(v) if math.isfinite(float(v)) else None for v in values]


def run(args) -> dict:
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "solver_robustness.json"
    settings = dict(points=args.points, t_end=args.t_end, seed=args.seed, hierarchy=args.hierarchy, rates="computed",
                    solver="magnus adaptive (default)")
    data = json.loads(path.read_text()) if path.exists() else {}
    if data.get("settings") != settings:
        data = {"settings": settings, "masses": {}}
    rates = ComputedRates.build()
    for mass in args.masses:
        key = f"{mass:g}"
        if key in data["masses"]:
            continue
        print(f"[solver_robustness] {args.hierarchy} M = {mass:g} GeV, {args.points} points ...", file=sys.stderr,
              flush=True)
        points = box_sample(args.points, mass, args.hierarchy, seed=args.seed)
        t0 = time.perf_counter()
        res = solve_batch(points, rates, t_end=args.t_end, solver_options=SolverOptions(n_save=100),
                          strategy="threads")
        data["masses"][key] = {
            "seconds": time.perf_counter() - t0,
            "status": [str(s) for s in res.status],
            "steps": [int(s) for s in res.steps],
            "Y_B": _finite_or_none(res.observables["Y_B"]),
            "Y_L_end": _finite_or_none(res.observables["Y_L_end"]),
            "inputs": {k: [float(v) for v in res.inputs[k]] for k in ("delta_M", "im_omega", "re_omega", "delta",
                                                                         "eta")},
        }
        write_json_atomic(path, data)
    return data


def table(data, masses) -> str:
    lines = ["| M [GeV] | points | succeeded | failed (status) | steps median / max | wall [s] | \\|Y_B\\| range | "
             "\\|Y_L(T_end)\\| range |", "|---|---|---|---|---|---|---|---|"]
    failures = []
    for mass in masses:
        m = data["masses"].get(f"{mass:g}")
        if m is None:
            continue
        status = np.array(m["status"])
        ok = status == "success"
        bad = {s: int(np.sum(status == s)) for s in sorted(set(status[~ok]))}
        y_b = np.abs(np.array([np.nan if v is None else v for v in m["Y_B"]]))[ok]
        y_l = np.abs(np.array([np.nan if v is None else v for v in m["Y_L_end"]]))[ok]
        lines.append(f"| {mass:g} | {len(status)} | {int(ok.sum())} | {bad or '—'} | {int(np.median(m['steps']))} / "
                     f"{int(np.max(m['steps']))} | {m['seconds']:.0f} | {np.nanmin(y_b):.1e} – {np.nanmax(y_b):.1e} | "
                     f"{np.nanmin(y_l):.1e} – {np.nanmax(y_l):.1e} |")
        for i in np.flatnonzero(~ok):
            failures.append(f"- M = {mass:g} GeV, point {i}: {status[i]}; "
                            + ", ".join(f"{k} = {m['inputs'][k][i]:.6g}" for k in m["inputs"]))
    return "\n".join(lines) + ("\n\nFailed points:\n" + "\n".join(failures) if failures else "\n\nNo point failed.")


def figure(data, masses, path, settings) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_steps, ax_yl) = plt.subplots(1, 2, figsize=(10, 4))
    for mass in masses:
        m = data["masses"].get(f"{mass:g}")
        if m is None:
            continue
        ok = np.array(m["status"]) == "success"
        dm = np.array(m["inputs"]["delta_M"])
        steps = np.array(m["steps"])
        y_l = np.abs(np.array([np.nan if v is None else v for v in m["Y_L_end"]]))
        line = ax_steps.scatter(dm[ok], steps[ok], s=8, label=f"M = {mass:g} GeV")
        ax_yl.scatter(dm[ok], y_l[ok], s=8, color=line.get_facecolor()[0], label=f"M = {mass:g} GeV")
        if (~ok).any():
            ax_steps.scatter(dm[~ok], steps[~ok], marker="x", s=40, color="k",
                             label="failed" if mass == masses[0] else None)
    ax_steps.set_xscale("log")
    ax_steps.set_xlabel("ΔM [GeV]")
    ax_steps.set_ylabel("accepted + rejected steps")
    ax_steps.set_title("steps of the adaptive Magnus solve", fontsize=9)
    ax_yl.set_xscale("log")
    ax_yl.set_yscale("log")
    ax_yl.set_xlabel("ΔM [GeV]")
    ax_yl.set_ylabel(f"|Y_L(T = {settings['t_end']:g} GeV)|")
    ax_yl.set_title("late-time lepton asymmetry", fontsize=9)
    for ax in (ax_steps, ax_yl):
        ax.legend(fontsize=8)
    fig.suptitle(f"{settings['points']} Sobol points of the large-LTA box per mass, {settings['hierarchy']}, computed "
                 f"rates, to {settings['t_end']:g} GeV", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=256)
    parser.add_argument("--masses", type=float, nargs="+", default=[1.0, 2.0, 5.0])
    parser.add_argument("--hierarchy", choices=("NH", "IH"), default="NH")
    parser.add_argument("--t-end", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="experiments/results/solver_robustness")
    args = parser.parse_args()
    data = run(args)
    out = pathlib.Path(args.out)
    command = ("python experiments/solver_robustness.py --points {points} --masses {masses} --hierarchy {hierarchy} "
               "--t-end {t_end:g}").format(masses=" ".join(f"{m:g}" for m in args.masses), **data["settings"])
    header = (f"Adaptive Magnus default over the large-LTA box ({args.points} Sobol points per mass, {args.hierarchy}, "
              f"computed rates, to {args.t_end:g} GeV, threads on this machine). Command: {command}\n\n")
    (out / "solver_robustness.md").write_text(header + table(data, args.masses) + "\n")
    figure(data, args.masses, out / "solver_robustness.png", data["settings"])
    print(json.dumps({"table": str(out / "solver_robustness.md"), "figure": str(out / "solver_robustness.png")}))


if __name__ == "__main__":
    main()
