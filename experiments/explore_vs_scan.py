"""Issue 36: the BlackJAX sampler of ``lta-jax explore`` against a uniform Sobol scan of the same box weighted by the
same likelihood (the exact posterior by importance weights), in one run.

    python experiments/explore_vs_scan.py --out experiments/results/explore_vs_scan [--M 2] [--width 0.05]
                                          [--scan-points 8192] [--budget 60000] [--kernel nuts|hmc]
                                          [--chains 4]

Same observable map on both sides (fixed grid of 400 nodes, computed rates, T_end = 10 GeV, CP folding). For each:
posterior median and 68 % interval of every parameter and of log10 |Y_L(10 GeV)|, effective samples (the scan:
(Σw)²/Σw²; the sampler: the smallest ESS over the parameters from BlackJAX's diagnostics) per solve-equivalent, wall
time, and the sampler's R-hat. Writes OUT/explore_vs_scan_M{M}_W{W}.json, .md (the table of docs/exploration.md) and .png.
"""

from __future__ import annotations

import argparse
import json
import math
import pathlib
import sys
import time

import numpy as np


def weighted_quantiles(x, w, qs):
    order = np.argsort(x)
    cw = np.cumsum(w[order])
    cw = cw / cw[-1]
    return [float(np.interp(q, cw, x[order])) for q in qs]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=pathlib.Path, required=True)
    ap.add_argument("--M", type=float, default=2.0)
    ap.add_argument("--width", type=float, default=0.05)
    ap.add_argument("--scan-points", type=int, default=8192)
    ap.add_argument("--budget", type=float, default=60000.0)
    ap.add_argument("--chains", type=int, default=4)
    ap.add_argument("--kernel", choices=("nuts", "hmc"), default="nuts")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    import jax
    import jax.numpy as jnp

    from lta_jax.rates.computed import ComputedRates
    from lta_jax.studies.boxes import starting_points
    from lta_jax.studies.explore import (PARAMETERS, Y_B_OBSERVED, ExploreSettings, _fold, _Target, explore)

    rates = ComputedRates.build()
    target = _Target(ExploreSettings(mass=args.M, bau_width=args.width), rates)

    # --- uniform Sobol scan, importance-weighted -------------------------------------------------------------------
    t0 = time.perf_counter()
    v = starting_points(args.scan_points, seed=1, dim=5)
    u = target.lo + target.width * v
    theta_fn = jax.jit(jax.vmap(lambda uu: target.fn(jnp.concatenate([jnp.asarray([args.M]), uu]))))
    obs = np.concatenate([np.asarray(theta_fn(jnp.asarray(u[i:i + 256]))) for i in range(0, len(u), 256)])
    scan_seconds = time.perf_counter() - t0
    theta, obs_f, _ = _fold(u, obs, target)
    ok = np.isfinite(obs_f[:, 0]) & (obs_f[:, 0] > 0)
    log_w = np.where(ok, -0.5 * (np.log(np.where(ok, obs_f[:, 0], 1.0) / Y_B_OBSERVED) / args.width) ** 2, -np.inf)
    w = np.exp(log_w - np.max(log_w))
    scan_ess = float(w.sum() ** 2 / np.sum(w**2))
    columns = {k: theta[:, i] for i, k in enumerate(PARAMETERS)}
    columns["log10_abs_Y_L_end"] = np.log10(np.abs(obs_f[:, 1]) + 1e-300)
    scan = {k: weighted_quantiles(x[ok], w[ok], (0.16, 0.5, 0.84)) for k, x in columns.items()}
    print(f"scan: {args.scan_points} points in {scan_seconds:.1f} s, ESS {scan_ess:.1f}", file=sys.stderr, flush=True)

    # --- the sampler ---------------------------------------------------------------------------------------------------
    t0 = time.perf_counter()
    tag = f"M{args.M:g}_W{args.width:g}" + ("" if args.kernel == "nuts" else f"_{args.kernel}")
    tag += "" if args.chains == 4 else f"_C{args.chains}"
    run_dir = args.out / f"sampler_{tag}"
    result = explore(args.M, bau_width=args.width, chains=args.chains, budget=args.budget, warmup=60, block=20,
                     out=run_dir, rates=rates, kernel=args.kernel)
    sampler_seconds = time.perf_counter() - t0
    s = result.summary
    sampled = {k: s["parameters"][k] for k in list(PARAMETERS) + ["log10_abs_Y_L_end"]}
    ess_min = min(v["ess"] for v in sampled.values() if v["ess"] is not None)

    out = {"command": " ".join(["python experiments/explore_vs_scan.py", *(argv or sys.argv[1:])]),
           "M": args.M, "width": args.width,
           "scan": {"points": args.scan_points, "ess": scan_ess, "ess_per_solve_equivalent": scan_ess / args.scan_points,
                    "wall_seconds": scan_seconds, "quantiles_16_50_84": scan},
           "sampler": {"solve_equivalents": s["solve_equivalents"], "ess_min": ess_min,
                       "ess_per_solve_equivalent": ess_min / s["solve_equivalents"], "wall_seconds": sampler_seconds,
                       "rhat": s["rhat"], "acceptance": s["acceptance"], "draws_per_chain": s["draws_per_chain"],
                       "gradient_cost": s["gradient_cost_solve_equivalents"],
                       "quantiles_16_50_84": {k: [v["interval_68"][0], v["median"], v["interval_68"][1]]
                                              for k, v in sampled.items()}}}
    out["efficiency_ratio"] = out["sampler"]["ess_per_solve_equivalent"] / out["scan"]["ess_per_solve_equivalent"]
    stem = f"explore_vs_scan_{tag}"
    (args.out / f"{stem}.json").write_text(json.dumps(out, indent=1, allow_nan=False))
    lines = ["| quantity | scan median [16 %, 84 %] | sampler median [16 %, 84 %] | sampler R-hat |", "|---|---|---|---|"]
    for k in list(PARAMETERS) + ["log10_abs_Y_L_end"]:
        a, b = scan[k], out["sampler"]["quantiles_16_50_84"][k]
        lines.append(f"| {k} | {a[1]:.3g} [{a[0]:.3g}, {a[2]:.3g}] | {b[1]:.3g} [{b[0]:.3g}, {b[2]:.3g}] | "
                     f"{s['rhat'].get(k) if s['rhat'].get(k) is None else round(s['rhat'][k], 3)} |")
    lines.append(f"| ESS / solve-equivalent | {out['scan']['ess_per_solve_equivalent']:.3g} (ESS {scan_ess:.0f} of "
                 f"{args.scan_points}) | {out['sampler']['ess_per_solve_equivalent']:.3g} (min ESS {ess_min:.1f} in "
                 f"{s['solve_equivalents']:.0f}) | ratio {out['efficiency_ratio']:.3g} |")
    lines.append(f"| wall time | {scan_seconds:.0f} s | {sampler_seconds:.0f} s (compilation included) | |")
    (args.out / f"{stem}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    _plot(columns, w, ok, result.samples, args, args.out / f"{stem}.png")


def _plot(columns, w, ok, samples, args, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = ["log10_delta_M", "im_omega", "re_omega", "log10_abs_Y_L_end"]
    fig, axes = plt.subplots(1, 4, figsize=(16, 3.8))
    for ax, k in zip(axes, keys):
        x = columns[k][ok]
        y = (np.log10(np.abs(np.asarray(samples["Y_L_end"]).ravel()) + 1e-300) if k == "log10_abs_Y_L_end"
             else np.asarray(samples[k]).ravel())
        bins = np.linspace(min(x.min(), y.min()), max(x.max(), y.max()), 40)
        ax.hist(x, bins=bins, weights=w[ok], density=True, histtype="step", lw=2, label="weighted Sobol scan")
        ax.hist(y, bins=bins, density=True, histtype="step", lw=2, label="sampler draws")
        ax.set_xlabel(k)
    axes[0].legend(fontsize=8)
    fig.suptitle(f"posterior marginals, M = {args.M:g} GeV NH, large-LTA box, width {args.width:g} in ln Y_B, "
                 f"{args.kernel.upper()}, {args.chains} chains",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
