"""Experiment: gradient-based optimisation vs random scanning of the "large LTA" box under the BAU constraint.

For each mass (NH): run the optimiser (multi-start Adam, forward-mode gradients), count its cost in solves using the
cost of one value+gradient measured in this run relative to one plain solve, then run a random scan of the same box
with the same number of solves and one with ``--scan-multiplier`` (default 20) times that budget. Report the best
feasible LTA (|Y_B/8.7e-11 − 1| ≤ tolerance) of each. Finally map ∂Y_L/∂log10ΔM and ∂Y_L/∂Re ω on a small grid around
the optimiser's best point.

Writes ``<out>/optimise_vs_scan.json`` and ``<out>/optimise_vs_scan.png``.

    python experiments/optimise_vs_scan.py --masses 1 2 5 --starts 4 --steps 30            # full study
    python experiments/optimise_vs_scan.py --masses 1 --starts 2 --steps 10 --scan-multiplier 5 --map-size 3  # reduced

Rates: ``--rates`` (default: the package's computed rates, ``lta_jax.rates.computed``; the first study, in
results/optimise_vs_scan, used ``--rates provisional``).
"""

from __future__ import annotations

import argparse
import json
import math
import pathlib
import statistics
import time

import jax.numpy as jnp
import numpy as np

import lta_jax  # noqa: F401
from lta_jax.model import constants as c
from lta_jax import solve_batch
from lta_jax.solver.gradients import _values, _values_and_jac_forward, make_observable_map
from lta_jax.studies.optimise import LARGE_LTA_BOX, OPTIMISATION_SOLVER, optimise
from lta_jax.model.parameters import ModelParameters
from lta_jax.cli.settings import rate_model_from_spec


def random_scan(rates, mass, n, seed, tol, progress_label, t_end, cp_symmetry=False):
    """Uniform random points of the large-LTA box, solved with :func:`lta_jax.solve_batch` (threads: same equations
    and tolerances as the optimiser's value function, ~1.7× the throughput of one-by-one solves on 2 cores)."""
    from rich.progress import Progress

    rng = np.random.default_rng(seed)
    lo = np.array([v[0] for v in LARGE_LTA_BOX.values()])
    hi = np.array([v[1] for v in LARGE_LTA_BOX.values()])
    u = lo + (hi - lo) * rng.random((n, 5))
    points = {"M": np.full(n, mass), "delta_M": 10 ** u[:, 0], "im_omega": u[:, 1], "re_omega": u[:, 2],
              "delta": u[:, 3], "eta": u[:, 4]}
    with Progress() as bar:
        task = bar.add_task(progress_label, total=n)
        result = solve_batch(points, rates, t_start=1e3, t_end=t_end, solver_options=OPTIMISATION_SOLVER,
                             strategy="threads", callback=lambda done, total: bar.update(task, completed=done))
    y_b, y_l = result.observables["Y_B"], result.observables["Y_L_end"]
    if cp_symmetry:  # a point with Y_B < 0 stands for its CP conjugate, which has −Y_B (lta_jax.studies.optimise)
        y_b = np.abs(y_b)
    feasible = result.succeeded & (np.abs(y_b / c.Y_B_OBSERVED - 1) <= tol)
    best = None
    if feasible.any():
        i = int(np.flatnonzero(feasible)[np.argmax(np.abs(y_l[feasible]))])
        best = {"objective": float(abs(y_l[i])), "Y_B": float(y_b[i]), "u": u[i].tolist()}
    return {"solves": n, "feasible_points": int(feasible.sum()), "failed_solves": int((~result.succeeded).sum()),
            "best": best}


def level_crossing_diagnostic(rates, mass, delta_m, im_omega, re_omega, delta, eta, t_end):
    """Where is the LTA of a point made, and how much does it depend on H_N there (docs/physics.md §6.5)?

    Returns Y_L at 35 and 15 GeV and at T_end, the share of Y_L(T_end) accumulated between 35 and 15 GeV (the
    level-crossing band, where (2.2) is not derived), and Y_L(T_end) with h̄+ switched off (the paper's Fig.-19
    variant) — a large ratio flags a result that carries the level-crossing theory uncertainty."""
    from lta_jax import solve
    from lta_jax.rates.base import RateVariant

    params = ModelParameters(mass, delta_m, im_omega, re_omega, delta, eta)
    sol = solve(params, rates, t_start=1e3, t_end=t_end, solver_options=OPTIMISATION_SOLVER)
    if not sol.succeeded:
        return {"status": sol.status}
    temps, y_l = sol.temperatures[::-1], sol.states[::-1, 0:3].sum(axis=1)  # ascending T for np.interp
    at = {t: float(np.interp(t, temps, y_l)) for t in (35.0, 15.0)}
    end = float(y_l[0])
    off = solve(params, RateVariant(rates, h_plus=False), t_start=1e3, t_end=t_end, solver_options=OPTIMISATION_SOLVER)
    end_off = float(off.states[-1, 0:3].sum()) if off.succeeded else math.nan
    return {"status": "success", "Y_L_35GeV": at[35.0], "Y_L_15GeV": at[15.0], "Y_L_end": end,
            "share_made_15_35GeV": abs(at[15.0] - at[35.0]) / abs(end) if end else math.nan,
            "Y_L_end_h_plus_off": end_off, "h_plus_off_over_on": abs(end_off / end) if end else math.nan}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--masses", type=float, nargs="+", default=[1.0, 2.0, 5.0])
    ap.add_argument("--starts", type=int, default=4)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--scan-multiplier", type=float, default=20.0)
    ap.add_argument("--bau-tolerance", type=float, default=0.1)
    ap.add_argument("--t-end", type=float, default=10.0)
    ap.add_argument("--map-size", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cp-symmetry", action="store_true",
                    help="optimiser and scans count |Y_B| in the band as feasible (the CP conjugate has +Y_B); "
                         "off in the first study (README table)")
    ap.add_argument("--rates", default="computed", help="computed (default), provisional, or a 9-column table")
    ap.add_argument("--out", default="results/optimise_vs_scan")
    args = ap.parse_args()
    out_dir = pathlib.Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    rates = rate_model_from_spec(args.rates)
    table = {"settings": vars(args), "rates": rates.description, "masses": {}}

    for mass in args.masses:
        ref = ModelParameters(mass, 1e-11, 0.0, math.pi / 2, math.pi, math.pi)
        fn = make_observable_map(ref, rates, t_start=1e3, t_end=args.t_end, solver_options=OPTIMISATION_SOLVER)
        theta0 = jnp.asarray([mass, -11.0, 0.0, math.pi / 2, math.pi, math.pi])
        _values(fn, theta0).block_until_ready()
        _values_and_jac_forward(fn, theta0)[1].block_until_ready()
        t_solve, t_grad = [], []
        for k in range(3):
            th = theta0.at[1].add(0.1 * k)
            t0 = time.perf_counter()
            _values(fn, th).block_until_ready()
            t_solve.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            _values_and_jac_forward(fn, th)[1].block_until_ready()
            t_grad.append(time.perf_counter() - t0)
        cost_ratio = statistics.median(t_grad) / statistics.median(t_solve)

        res = optimise(rates, objective="lta", mass=mass, starts=args.starts, steps=args.steps, t_end=args.t_end,
                       bau_tolerance=args.bau_tolerance, seed=args.seed, cp_symmetry=args.cp_symmetry)
        budget = int(math.ceil(res.gradient_evaluations * cost_ratio))
        equal = random_scan(rates, mass, budget, args.seed + 1, args.bau_tolerance, f"scan ×1, M={mass}", args.t_end,
                            args.cp_symmetry)
        large = random_scan(rates, mass, int(budget * args.scan_multiplier), args.seed + 2, args.bau_tolerance,
                            f"scan ×{args.scan_multiplier:g}, M={mass}", args.t_end, args.cp_symmetry)

        # Derivative maps around the optimiser's best point.
        b = res.best
        maps = None
        if b.get("status") == "success":
            n = args.map_size
            d_logdm = np.linspace(-0.2, 0.2, n)
            d_re = np.linspace(-0.05, 0.05, n)
            grid_dm = np.zeros((n, n))
            grid_re = np.zeros((n, n))
            for i, a in enumerate(d_logdm):
                for j, r in enumerate(d_re):
                    th = jnp.asarray([mass, math.log10(b["delta_M"]) + a, b["im_omega"], b["re_omega"] + r,
                                      b["delta"], b["eta"]])
                    _, jac = _values_and_jac_forward(fn, th)
                    jac = np.asarray(jac)
                    grid_dm[i, j] = jac[1, 1] / (math.log(10) * 10 ** float(th[1]))  # ∂Y_L/∂ΔM
                    grid_re[i, j] = jac[1, 3]
            maps = {"log10_delta_M_offsets": d_logdm.tolist(), "re_omega_offsets": d_re.tolist(),
                    "dYL_dDeltaM": grid_dm.tolist(), "dYL_dReOmega": grid_re.tolist()}

        # Level crossing: where the best points make their LTA and how much they depend on H_N there.
        crossing = {}
        if b.get("status") == "success" and b.get("feasible"):
            crossing["optimiser_best"] = level_crossing_diagnostic(
                rates, mass, b["delta_M"], b["im_omega"], b["re_omega"], b["delta"], b["eta"], args.t_end)
        if large["best"] is not None:
            u = large["best"]["u"]
            crossing["scan_best"] = level_crossing_diagnostic(rates, mass, 10 ** u[0], *u[1:], args.t_end)

        table["masses"][str(mass)] = {
            "cost_value_and_gradient_over_solve": cost_ratio,
            "median_solve_s": statistics.median(t_solve), "median_value_and_gradient_s": statistics.median(t_grad),
            "optimiser": {"gradient_evaluations": res.gradient_evaluations, "solve_equivalents": budget,
                          "best": res.best, "feasible_found": bool(res.best.get("feasible"))},
            "random_scan_equal_budget": equal,
            f"random_scan_{args.scan_multiplier:g}x_budget": large,
            "derivative_maps": maps,
            "level_crossing": crossing,
            "optimiser_history": res.history,
        }
        print(json.dumps({k: v for k, v in table["masses"][str(mass)].items()
                          if k not in ("optimiser_history", "derivative_maps")}, indent=1, default=str), flush=True)
        # Write after every mass (atomically), so an interrupted study keeps what it finished.
        tmp = out_dir / "optimise_vs_scan.json.tmp"
        tmp.write_text(json.dumps(table, indent=1, default=str))
        tmp.replace(out_dir / "optimise_vs_scan.json")
        plot(table, out_dir / "optimise_vs_scan.png", args.scan_multiplier)
    print(f"written {out_dir}")


def plot(table, path, multiplier):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    masses = list(table["masses"])
    n_maps = sum(1 for m in masses if table["masses"][m]["derivative_maps"])
    fig, axes = plt.subplots(1, 1 + 2 * n_maps, figsize=(5 + 8 * n_maps, 4))
    axes = np.atleast_1d(axes)
    labels = ["optimiser", "scan ×1", f"scan ×{multiplier:g}"]
    keys = [None, "random_scan_equal_budget", f"random_scan_{multiplier:g}x_budget"]
    width = 0.25
    for k, (label, key) in enumerate(zip(labels, keys)):
        vals = []
        for m in masses:
            entry = table["masses"][m]
            best = entry["optimiser"]["best"] if key is None else entry[key]["best"]
            ok = best is not None and (key is not None or best.get("feasible"))
            vals.append(best["objective"] if ok else np.nan)
        axes[0].bar(np.arange(len(masses)) + (k - 1) * width, vals, width, label=label)
    axes[0].set_yscale("log")
    axes[0].set_xticks(range(len(masses)), [f"M = {m} GeV" for m in masses])
    axes[0].set_ylabel("best feasible |Y_L(T_end)|")
    axes[0].legend(fontsize=8)
    i = 1
    for m in masses:
        maps = table["masses"][m]["derivative_maps"]
        if not maps:
            continue
        for name in ("dYL_dDeltaM", "dYL_dReOmega"):
            im = axes[i].imshow(np.array(maps[name]), origin="lower", aspect="auto", cmap="RdBu_r",
                                extent=[maps["re_omega_offsets"][0], maps["re_omega_offsets"][-1],
                                        maps["log10_delta_M_offsets"][0], maps["log10_delta_M_offsets"][-1]])
            axes[i].set_title(f"{name}, M = {m} GeV", fontsize=9)
            axes[i].set_xlabel("Δ Re ω around optimum")
            axes[i].set_ylabel("Δ log10 ΔM")
            fig.colorbar(im, ax=axes[i])
            i += 1
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
