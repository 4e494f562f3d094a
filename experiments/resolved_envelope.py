"""Experiment: the NH envelope (max |Y_L(T_end)| against M, with and without the BAU constraint) in momentum-resolved
kinetics beside the averaged one, same optimiser and budget — the study the paper left for future work (§6).

For every mass and constraint: ``run_envelope(kinetics="resolved", n_modes=N)`` (every solve of the optimiser, the BAU
constraint and the full-solve confirmation on the resolved equations) and ``run_envelope()`` (averaged), each in its
own directory (resumable: finished masses are kept). Then, per mass: the ratio resolved/averaged of the best |Y_L|;
where the BAU band moves — the resolved Y_B at the averaged optimum and the averaged Y_B at the resolved optimum (one
solve each); and at the masses of ``--dilution`` the dark-matter fraction estimate f_DM = |Y_L|/D_fin / Y_L^req of
both BAU optima after the entropy dilution by HNL decays (:mod:`lta_jax.studies.dilution`). Writes
``resolved_envelope.json`` (strict JSON), ``resolved_envelope.md`` (table) and ``resolved_envelope.png`` (the paper's
Fig.-8 style, both kinetics):

    python experiments/resolved_envelope.py --masses 0.5 1 2 3 5 10 20 30 --modes 48 --budget 300 \
        --out experiments/results/resolved_envelope
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
from lta_jax.model.parameters import ModelParameters
from lta_jax.studies.envelope import REQUIRED_LTA, run_envelope
from lta_jax.studies.output import write_json_atomic

KINETICS = ("averaged", "resolved")


def _params(best: dict) -> ModelParameters:
    return ModelParameters(best["M"], best["delta_M"], best["im_omega"], best["re_omega"], best["delta"], best["eta"])


def _cross_solve(best: dict, kinetics: str, n_modes: int, t_end: float, rates) -> dict:
    """Y_B and Y_L of an optimum in the other kinetics (one default solve)."""
    from lta_jax import solve, summary

    extra = dict(kinetics="resolved", n_modes=n_modes) if kinetics == "resolved" else {}
    s = summary(solve(_params(best), rates, t_start=1e3, t_end=t_end, **extra))
    return {"status": s["status"], "Y_B": s["Y_B"], "Y_L_end": s["Y_L_end"]}


def _f_dm(best: dict) -> dict:
    from lta_jax.studies.dilution import dilution, effective_observables

    d = dilution(_params(best))
    return {"D_fin": d["D_fin"], **{k: v for k, v in effective_observables(best["Y_L_end"], best["Y_B"], d["D_fin"]).items()
                                    if k in ("Y_L_eff", "f_DM_estimate", "Y_L_required")}}


def run(args) -> dict:
    from lta_jax.rates.computed import ComputedRates

    out = pathlib.Path(args.out)
    envelopes, seconds = {}, {}
    for kinetics in KINETICS:
        t0 = time.perf_counter()
        extra = dict(kinetics="resolved", n_modes=args.modes) if kinetics == "resolved" else {}
        print(f"{kinetics} envelope ...", file=sys.stderr, flush=True)
        envelopes[kinetics] = run_envelope("computed", out / kinetics, masses=args.masses, budget_per_mass=args.budget,
                                           seed=args.seed, t_end=args.T_end, progress=not args.no_progress,
                                           log=lambda msg: print(msg, file=sys.stderr, flush=True), **extra)
        seconds[kinetics] = sum(p["seconds"] for p in envelopes[kinetics]["points"])
        print(f"{kinetics}: {time.perf_counter() - t0:.0f} s in this run", file=sys.stderr, flush=True)
    rates = ComputedRates.build()
    rows = []
    for bau in (True, False):
        for m in sorted(args.masses):
            best = {k: next(p["best"] for p in envelopes[k]["points"] if p["M"] == m and p["bau"] == bau)
                    for k in KINETICS}
            ok = {k: best[k].get("status") == "success" and (not bau or bool(best[k].get("feasible"))) for k in KINETICS}
            row = {"M": m, "bau": bau, **{f"{k}_objective": best[k].get("objective") if ok[k] else None
                                          for k in KINETICS},
                   **{f"{k}_admissible": ok[k] for k in KINETICS}}
            if all(ok.values()):
                row["ratio_resolved_to_averaged"] = best["resolved"]["objective"] / best["averaged"]["objective"]
            if bau:  # where the band moves: each optimum solved in the other kinetics
                for k, other in (("averaged", "resolved"), ("resolved", "averaged")):
                    if best[k].get("status") == "success":
                        row[f"{k}_optimum_in_{other}"] = _cross_solve(best[k], other, args.modes, args.T_end, rates)
                if m in args.dilution:
                    row["f_DM"] = {k: _f_dm(best[k]) for k in KINETICS if ok[k]}
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    result = {"settings": dict(masses=sorted(args.masses), modes=args.modes, budget_per_mass=args.budget,
                               seed=args.seed, T_end=args.T_end, machine="2-core CPU (this project's development machine)",
                               command=" ".join(["python"] + sys.argv)),
              "optimisation_seconds": seconds, "rows": rows}
    write_json_atomic(out / "resolved_envelope.json", result)
    (out / "resolved_envelope.md").write_text(table(result))
    figure(result, envelopes, out / "resolved_envelope.png")
    return result


def _fmt(x, spec=".3g"):
    return "—" if x is None or (isinstance(x, float) and not math.isfinite(x)) else format(x, spec)


def table(result) -> str:
    s = result["settings"]
    lines = [f"Resolved ({s['modes']} + 5 modes) against averaged NH envelope, max |Y_L({s['T_end']:g} GeV)|, "
             f"{s['budget_per_mass']:g} solve-equivalents per mass and curve, seed {s['seed']}. Command: "
             f"`{s['command']}`. Optimisation time: averaged {result['optimisation_seconds']['averaged']:.0f} s, "
             f"resolved {result['optimisation_seconds']['resolved']:.0f} s.", "",
             "| M [GeV] | BAU | averaged | resolved | resolved/averaged | Y_B(res) at averaged optimum | "
             "Y_B(avg) at resolved optimum |", "|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        cross_a = r.get("averaged_optimum_in_resolved", {}).get("Y_B")
        cross_r = r.get("resolved_optimum_in_averaged", {}).get("Y_B")
        lines.append(f"| {r['M']:g} | {'yes' if r['bau'] else 'no'} | {_fmt(r['averaged_objective'])} | "
                     f"{_fmt(r['resolved_objective'])} | {_fmt(r.get('ratio_resolved_to_averaged'))} | "
                     f"{_fmt(cross_a) if r['bau'] else ''} | {_fmt(cross_r) if r['bau'] else ''} |")
    for r in result["rows"]:
        for k, v in r.get("f_DM", {}).items():
            lines.append(f"\nf_DM estimate at M = {r['M']:g} GeV ({k} BAU optimum): {v['f_DM_estimate']:.3g} "
                         f"(D_fin = {v['D_fin']:.3g})")
    return "\n".join(lines) + "\n"


def figure(result, envelopes, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = result["settings"]
    fig, ax = plt.subplots(figsize=(6.8, 4.6))
    styles = {("averaged", True): ("C0", "o-"), ("averaged", False): ("C1", "s-"),
              ("resolved", True): ("C0", "o--"), ("resolved", False): ("C1", "s--")}
    for (kinetics, bau), (color, style) in styles.items():
        points = sorted((p for p in envelopes[kinetics]["points"] if p["bau"] == bau), key=lambda p: p["M"])
        ys = [p["best"]["objective"] if p["best"].get("status") == "success" and (not bau or p["best"].get("feasible"))
              else np.nan for p in points]  # a mass without an admissible point is a gap, never a value
        ax.loglog([p["M"] for p in points], ys, style, color=color, mfc="none" if kinetics == "resolved" else color,
                  label=f"{kinetics}, {'with BAU' if bau else 'without BAU'}")
    ax.axhline(REQUIRED_LTA, color="k", lw=1, ls=":", label="required for DM (5.1), before dilution")
    ax.set_xlabel("M [GeV]")
    ax.set_ylabel(f"max |Y_L(T = {s['T_end']:g} GeV)|")
    ax.set_xticks(s["masses"], [f"{m:g}" for m in s["masses"]])
    ax.set_xticks([], minor=True)
    ax.set_title(f"NH envelope: averaged (solid) vs momentum-resolved, {s['modes']} + 5 modes (dashed)\n"
                 f"{s['budget_per_mass']:g} solve-equivalents per mass and curve", fontsize=9)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--masses", type=float, nargs="+", default=[0.5, 1, 2, 3, 5, 10, 20, 30])
    parser.add_argument("--modes", type=int, default=48)
    parser.add_argument("--budget", type=float, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--T-end", dest="T_end", type=float, default=10.0)
    parser.add_argument("--dilution", type=float, nargs="*", default=[2.0], help="masses with the f_DM estimate")
    parser.add_argument("--out", default="experiments/results/resolved_envelope")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args()
    result = run(args)
    print(json.dumps({k: v for k, v in result.items() if k != "rows"}, indent=1))


if __name__ == "__main__":
    main()
