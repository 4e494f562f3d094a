"""Benchmark: one averaged solve (diffrax) vs SciPy Radau, BDF and LSODA on the same equations, in the same run.

Problem: the paper's Fig.-19 point (V10), ModH rate table, Laine–Meyer thermodynamics and the reference susceptibility
table, 995.954 → 10 GeV, started from the first row of the authors' Fortran output. Needs ../shared/reference (or
$LTA_JAX_REFERENCE_DIR). Also times the default CLI configuration (provisional rates, in-house models), diffrax only.

Solvers: the adaptive Magnus4 default, the Magnus4 fixed grid (800 steps) and Kvaerno5 (the implicit reference).
Reports: compile time (first call minus the warm median), median warm time over repeats (block_until_ready), steps,
RHS evaluations (Kvaerno5 only; counted in a separate instrumented run), the error of Y_L(T_sph) and Y_L(T_end) against a tight
Radau reference (rtol 1e-11), and timing ratios. Writes JSON (``--out``).

    python benchmarks/bench_single_solve.py --repeats 5 --out benchmarks/results/single_solve.json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pathlib
import platform
import statistics
import sys
import time

import jax
import numpy as np
from scipy.integrate import solve_ivp

import lta_jax  # noqa: F401
from lta_jax.model.benchmark_points import FIG18, FIG19
from lta_jax.kinetics.averaged import initial_state
from lta_jax.rates.provisional import ProvisionalRates
from lta_jax.rates.base import TabulatedRates
from lta_jax.solver.integrate import SolverOptions, solve, solve_arrays
from lta_jax.plasma.susceptibility import in_house_susceptibility, susceptibility_from_table
from lta_jax.plasma.thermodynamics import in_house_thermodynamics, thermodynamics_from_table
from lta_jax.kinetics.numpy_reference import numpy_kinetic_system

REPO = pathlib.Path(__file__).resolve().parents[1]
REF = pathlib.Path(os.environ.get("LTA_JAX_REFERENCE_DIR", REPO.parent / "shared" / "reference"))


def count_rhs_evaluations(system, t_start, t_end, y0, options):
    """Number of RHS calls of one diffrax solve (instrumented with a host callback; not timed)."""
    counter = [0]

    def bump():
        counter[0] += 1

    import lta_jax.solver.integrate as solver_module

    original = solver_module.kinetic_rhs

    def counted(z, x, s):
        jax.debug.callback(bump)
        return original(z, x, s)

    solver_module.kinetic_rhs = counted
    try:
        raw = solve_arrays(system, t_start, t_end, y0, options)
        raw.states.block_until_ready()
    finally:
        solver_module.kinetic_rhs = original
    return counter[0]


def time_diffrax(params, rates, thermo, susc, t_start, t_end, y0, options, repeats, count_rhs=True):
    t0 = time.perf_counter()
    sol = solve(params, rates, t_start=t_start, t_end=t_end, thermo=thermo, susceptibility=susc, y0=y0,
                solver_options=options)
    sol.raw.states.block_until_ready()
    first = time.perf_counter() - t0
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        sol = solve(params, rates, t_start=t_start, t_end=t_end, thermo=thermo, susceptibility=susc, y0=y0,
                    solver_options=options)
        sol.raw.states.block_until_ready()
        times.append(time.perf_counter() - t0)
    system = sol.system
    y0_arr = y0 if y0 is not None else initial_state(system, np.float64(t_start))
    # The Magnus solvers evaluate the generator (a Jacobian), not the right-hand side: no RHS count for them.
    n_rhs = count_rhs_evaluations(system, t_start, t_end, np.asarray(y0_arr), options) if count_rhs else None
    warm = statistics.median(times)
    return sol, {"first_call_s": first, "compile_s": first - warm, "median_s": warm, "min_s": min(times),
                 "steps": int(sol.raw.num_steps), "rejected_steps": int(sol.raw.num_rejected_steps),
                 "rhs_evaluations": n_rhs, "status": sol.status}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "single_solve.json"))
    parser.add_argument("--scipy-rtol", type=float, default=1e-8)
    args = parser.parse_args()

    fortran = np.loadtxt(REF / "nuMSM-fortran/LA_Evo_ModH.dat")
    rates_path = REF / "nuMSM-fortran/Int_ModH_MN10E-1_kcAve.dat"
    thermo_path, susc_path = REF / "thermo/standardmodel.dat", REF / "thermo/susceptibility.dat"
    rates = TabulatedRates.from_file(rates_path)
    thermo, susc = thermodynamics_from_table(thermo_path), susceptibility_from_table(susc_path)
    t_start, t_end, y0 = float(fortran[0, 0]), 10.0, fortran[0, 1:]
    z0, z1, z_sph = math.log(1 / t_start), math.log(1 / t_end), math.log(1 / 131.7)

    rhs, jac = numpy_kinetic_system(FIG19, rates_path, thermo_path, susc_path)
    tight_atol = np.r_[[1e-23] * 3, [1e-16] * 4, [1e-23] * 4]
    tight = solve_ivp(rhs, (z0, z1), y0, method="Radau", jac=jac, rtol=1e-11, atol=tight_atol, t_eval=[z_sph, z1])
    ref_sph, ref_end = tight.y[:3, 0].sum(), tight.y[:3, 1].sum()

    results = {"machine": {"platform": platform.platform(), "processor": platform.processor(),
                           "cpus": os.cpu_count(), "jax": jax.__version__, "devices": str(jax.devices())},
               "command": "python benchmarks/bench_single_solve.py " + f"--repeats {args.repeats}",
               "problem": "paper Fig.-19 point, ModH table, 995.954 -> 10 GeV", "runs": {}}

    presets = {"Magnus4 adaptive (default)": SolverOptions(),
               "Magnus4 fixed 800": SolverOptions.fixed_grid(800),
               "Kvaerno5 (rtol 1e-8, the implicit reference)": SolverOptions.kvaerno5()}
    for label, options in presets.items():
        sol, entry = time_diffrax(FIG19, rates, thermo, susc, t_start, t_end, y0, options, args.repeats,
                                  count_rhs=label.startswith("Kvaerno5"))
        entry["err_Y_L_sph"] = abs(float(sol.raw.state_sph[:3].sum()) / ref_sph - 1)
        entry["err_Y_L_end"] = abs(float(sol.states[-1, :3].sum()) / ref_end - 1)
        results["runs"][f"diffrax {label}"] = entry
        print(label, entry, file=sys.stderr)

    rtol = args.scipy_rtol
    atol = np.r_[[1e-20] * 3, [rtol * 1e-5] * 4, [1e-20] * 4]
    for method in ("Radau", "BDF", "LSODA"):
        times, sol = [], None
        for _ in range(max(1, min(args.repeats, 3))):
            t0 = time.perf_counter()
            sol = solve_ivp(rhs, (z0, z1), y0, method=method, jac=jac, rtol=rtol, atol=atol, t_eval=[z_sph, z1])
            times.append(time.perf_counter() - t0)
        entry = {"median_s": statistics.median(times), "steps": None,  # solve_ivp does not report step counts
                 "rhs_evaluations": int(sol.nfev), "jacobian_evaluations": int(sol.njev), "success": bool(sol.success),
                 "err_Y_L_sph": abs(sol.y[:3, 0].sum() / ref_sph - 1) if sol.success else None,
                 "err_Y_L_end": abs(sol.y[:3, 1].sum() / ref_end - 1) if sol.success else None}
        results["runs"][f"scipy {method} rtol={rtol:g}"] = entry
        print(method, entry, file=sys.stderr)

    for label in presets:
        base = results["runs"][f"diffrax {label}"]["median_s"]
        results[f"scipy time / diffrax {label}"] = {
            k: v["median_s"] / base for k, v in results["runs"].items() if k.startswith("scipy")}

    # Default CLI configuration: provisional rates, in-house thermodynamics and susceptibility, from T0 to 5 GeV.
    for label in ("Magnus4 adaptive (default)", "Kvaerno5 (rtol 1e-8, the implicit reference)"):
        sol, entry = time_diffrax(FIG18, ProvisionalRates(), in_house_thermodynamics(), in_house_susceptibility(),
                                  1439.36, 5.0, None, presets[label], args.repeats,
                                  count_rhs=label.startswith("Kvaerno5"))
        results["runs"][f"CLI default point (provisional rates, in-house models, to 5 GeV), {label}"] = entry
        print("default point", label, entry, file=sys.stderr)

    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(json.dumps({"written": str(out)}))


if __name__ == "__main__":
    main()
