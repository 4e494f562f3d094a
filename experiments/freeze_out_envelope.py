"""Experiment: the freeze-out LTA against M (paper Fig. 12, M = 4–20 GeV), with the §5.3 recipe as start strategy.

For every mass: the optimiser with ``start="freeze-out"`` (the recipe's guesses refined first, the screen in the
recipe's vicinity; :mod:`lta_jax.studies.freeze_out`) and, as the baseline at the same budget, the optimiser with the
plain Sobol screen of the large-LTA box. Objective |Y_L(T_end)| without the BAU constraint (Fig. 12 "without BAU"),
T_end below the freeze-out temperatures (default 1 GeV: the freeze-out asymmetry is made at T_out ≈ 2–6 GeV here).
Also recorded: the recipe's T_out and ΔM*, Re ω* of its first guess.

Results are written after every run (atomic JSON, resumable), then a figure:

    python experiments/freeze_out_envelope.py --masses 4 7 10 14 20 --budget 200 --out experiments/results/freeze_out
"""

from __future__ import annotations

import argparse
import json
import math
import pathlib
import sys
import time

import lta_jax  # noqa: F401
from lta_jax.cli.settings import rate_model_from_spec
from lta_jax.studies.optimise import optimise
from lta_jax.studies.output import write_json_atomic

REQUIRED_LTA = 66e-6


def run(args) -> dict:
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "freeze_out_envelope.json"
    settings = dict(masses=args.masses, budget=args.budget, T_end=args.T_end, seed=args.seed, bau=False,
                    objective="lta", machine="2-core CPU (this project's development machine)",
                    command=" ".join(["python"] + sys.argv))
    data = json.loads(path.read_text()) if path.exists() else {"settings": settings, "runs": []}
    done = {(r["M"], r["start"]) for r in data["runs"]}
    rates = rate_model_from_spec(None)
    for m in args.masses:
        for start in ("freeze-out", "sample"):
            if (m, start) in done:
                continue
            t0 = time.perf_counter()
            try:
                res = optimise(rates, objective="lta", mass=m, bau=False, budget=args.budget, seed=args.seed,
                               t_end=args.T_end, start=start, progress=False, keep_history=False)
                row = {"M": m, "start": start, "status": res.best.get("status"), "best": res.best,
                       "solve_equivalents": res.solve_equivalents, "seconds": time.perf_counter() - t0}
                if start == "freeze-out":
                    first = res.settings["freeze_out_starts"][0]
                    row["recipe"] = {k: first[k] for k in ("T_out", "delta_M", "re_omega", "delta_M_at_T_out")}
                    row["recipe_guesses"] = len(res.settings["freeze_out_starts"])
            except ValueError as err:  # e.g. no freeze-out in the searched range at this mass
                row = {"M": m, "start": start, "status": f"error: {err}", "seconds": time.perf_counter() - t0}
            data["runs"].append(row)
            write_json_atomic(path, data)
            best = row.get("best", {}).get("objective")
            print(f"M = {m:g} GeV, start {start}: |Y_L| = {best} ({row['seconds']:.0f} s)", file=sys.stderr)
    return data


def plot(data: dict, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for start, style, label in (("freeze-out", "o-", "freeze-out recipe starts (§5.3)"),
                                ("sample", "s--", "plain Sobol screen (baseline, same budget)")):
        rows = sorted((r for r in data["runs"] if r["start"] == start and r["status"] == "success"),
                      key=lambda r: r["M"])
        ax.semilogy([r["M"] for r in rows], [r["best"]["objective"] for r in rows], style, label=label)
    ax.axhline(REQUIRED_LTA, color="k", ls=":", lw=1, label="required for DM (5.1)")
    s = data["settings"]
    ax.set_xlabel("M [GeV]")
    ax.set_ylabel(f"max |Y_L(T = {s['T_end']:g} GeV)|, no BAU constraint")
    ax.set_title(f"freeze-out LTA (cf. paper Fig. 12), NH, {s['budget']:g} solve-equivalents per mass and curve",
                 fontsize=9)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--masses", type=float, nargs="+", default=[4.0, 7.0, 10.0, 14.0, 20.0])
    parser.add_argument("--budget", type=float, default=200)
    parser.add_argument("--T-end", dest="T_end", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="experiments/results/freeze_out")
    args = parser.parse_args()
    data = run(args)
    png = pathlib.Path(args.out) / "freeze_out_envelope.png"
    plot(data, png)
    print(json.dumps({"json": str(pathlib.Path(args.out) / "freeze_out_envelope.json"), "plot": str(png)}))


if __name__ == "__main__":
    main()
