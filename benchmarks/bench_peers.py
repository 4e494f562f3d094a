"""Peer benchmark: time per BAU point of ULYSSES 3 (its ARS model, ``EtaB_ARS``) and of lta-jax, in the same run.

ULYSSES (PyPI ``ulysses``, arXiv:2007.09150, 2301.05722) is what a user would pick today for ARS leptogenesis in Python.
Its ARS model integrates momentum-averaged equations with SciPy BDF (rtol 1e-13 when oscillations start late) from
z = T_ew/T = 1e-6 to z = 1, i.e. only above T_ew = 131.7 GeV, with constant g_* = 106.75, symmetric-phase rates and
constant susceptibilities. It is not the same model as ours (no Higgs phase, no h̄−, different rate normalisations,
docs/physics.md §6.2), so the comparison is of cost per BAU point for a comparable two-HNL point, not of numbers.

The point: M1 = 1 GeV, M2 − M1 = 2.52e-11 GeV (our ΔM = 1.26e-11 with M2,3 = M ∓ ΔM), normal ordering, lightest
neutrino massless, a small imaginary Casas–Ibarra angle (weak washout), as the paper's Fig.-18 point. lta-jax solves
the Fig.-18 point from T0 = max(10³ GeV, 10 T_osc) to T_end = 110 GeV (past T_sph, so Y_B is defined) with the
provisional rates, in-house thermodynamics and susceptibility, default and fast tolerances.

Needs ``pip install ulysses`` (we ran it in a separate virtual environment with system site packages, so that lta-jax
is importable beside it):

    python -m venv --system-site-packages /tmp/ulenv && /tmp/ulenv/bin/pip install ulysses==3.0.1
    MPLBACKEND=Agg /tmp/ulenv/bin/python benchmarks/bench_peers.py --repeats 3 --out benchmarks/results/peers.json
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import pathlib
import platform
import statistics
import time

import jax

import lta_jax
from lta_jax import ProvisionalRates, SolverOptions, solve, summary
from lta_jax.model.benchmark_points import FIG18

FAST = SolverOptions(rtol=1e-6, atol_density=1e-9, atol_asymmetry=1e-16, n_save=400)

#: ULYSSES input (angles in degrees, masses as log10 GeV, m as log10 eV). x/y: real/imaginary Casas–Ibarra angles.
ULYSSES_POINT = {"m": -60.0, "M1": 0.0, "M2": math.log10(1.0 + 2.52e-11), "M3": 3.0, "delta": 234.0, "a21": 0.0,
                 "a31": 367.2, "x1": 93.6, "y1": -8.02, "x2": 90.0, "y2": 0.0, "x3": 90.0, "y3": 0.0,
                 "t12": 33.62, "t13": 8.54, "t23": 47.2}


def time_ulysses(repeats: int):
    import ulysses

    model = ulysses.selectModel("BEARS", ordering=0)
    model.setParams(ULYSSES_POINT)
    times, eta = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            eta = model.EtaB
        times.append(time.perf_counter() - t0)
    return {"median_s": statistics.median(times), "min_s": min(times), "times_s": times, "eta_B": float(eta),
            "Y_B": float(eta) * 45 * 1.2020569 / ((43 / 11) * math.pi**4), "version": ulysses.__version__
            if hasattr(ulysses, "__version__") else "3.0.1"}


def time_lta_jax(solver_options: SolverOptions, repeats: int):
    rates = ProvisionalRates()
    t0 = time.perf_counter()
    sol = solve(FIG18, rates, t_end=110.0, solver_options=solver_options)
    jax.block_until_ready(sol.raw.states)
    first = time.perf_counter() - t0
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        sol = solve(FIG18, rates, t_end=110.0, solver_options=solver_options)
        jax.block_until_ready(sol.raw.states)
        times.append(time.perf_counter() - t0)
    s = summary(sol)
    return {"median_s": statistics.median(times), "min_s": min(times), "first_call_s": first, "Y_B": s["Y_B"],
            "Y_B_sphaleron": s["Y_B_sphaleron"], "steps": s["steps"], "T_start": s["T_start"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    out = {"machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "jax": jax.__version__,
                       "backend": jax.default_backend()},
           "date": time.strftime("%Y-%m-%d"), "ulysses_point": ULYSSES_POINT, "lta_jax_point": FIG18.as_dict()}
    out["lta_jax_default"] = time_lta_jax(SolverOptions(), args.repeats)
    out["lta_jax_fast"] = time_lta_jax(FAST, args.repeats)
    print("lta-jax default", out["lta_jax_default"], flush=True)
    print("lta-jax fast", out["lta_jax_fast"], flush=True)
    out["ulysses_ars"] = time_ulysses(args.repeats)
    print("ULYSSES ARS", out["ulysses_ars"], flush=True)
    out["ratio_ulysses_over_default"] = out["ulysses_ars"]["median_s"] / out["lta_jax_default"]["median_s"]
    out["ratio_ulysses_over_fast"] = out["ulysses_ars"]["median_s"] / out["lta_jax_fast"]["median_s"]
    print(f"ratios: ULYSSES/lta-jax default {out['ratio_ulysses_over_default']:.1f}, "
          f"fast {out['ratio_ulysses_over_fast']:.1f}")
    if args.out:
        pathlib.Path(args.out).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
