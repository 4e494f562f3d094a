"""Experiment: the fits of the two fitted constants of the computed rates (issue 3), C_X and R_PLUS.

* C_X: Γ_X = C_X T²/m_W(T) saturates the four-fermion width through the crossover (lta_jax.rates.computed). C_X is
  the value that minimises Σ ln²(computed/table) of γ̄_ν−, γ̄_N− and h̄− against the authors' M = 1 GeV OrgH table at
  15 temperatures between 60 and 140 GeV (where the width, not the direct decays, decides those coefficients).
* R_PLUS: the FNC channel's share of the four-fermion width. It minimises Σ ln²(computed/table) of γ̄_ν+ at
  15 temperatures between 5 and 20 GeV (the μ-weighted average: the authors' ρ-weighted averages carry a
  normalisation that differs from the ρ-average of their own modes by up to 13 % at 5 GeV). R_PLUS does not enter
  the FNV coefficients or h̄−, so the two fits are independent; C_X is fitted first.
Writes ``<out>/fit_rate_constants.json`` with both scans, the best values and the ratios they give.

    python experiments/fit_rate_constants.py --reference ../shared/reference --out experiments/results/rates_accuracy
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib

import jax
import jax.numpy as jnp
import numpy as np

import lta_jax  # noqa: F401  (float64)
from lta_jax.rates import computed as cr
from lta_jax.rates.base import TabulatedRates

FIT_COLUMNS = ("gamma_nu_minus", "gamma_N_minus", "h_minus")
FIT_COLUMNS_PLUS = ("gamma_nu_plus",)


def coefficients(model: cr.ComputedRates, t, mass, c_x, r_plus=cr.R_PLUS):
    """The computed averages at temperature t with the constants c_x, r_plus (everything else as in the model)."""
    modes = model.momentum_resolved(t, mass, c_x=c_x, r_plus=r_plus)
    return cr.averaged_coefficients(t, mass, modes["h_plus"], modes["gamma_plus"], modes["h_minus"],
                                    modes["gamma_minus"], model.constants, model.nodes)


def scan(fn, temps, ref, grid):
    """Σ ln²(computed/table) for each grid value; the best value and its ratios."""
    cost = []
    for value in grid:
        ratios = np.asarray(fn(jnp.asarray(temps), value)) / ref
        cost.append(float(np.sum(np.log(np.abs(ratios)) ** 2)))
    best = float(grid[int(np.argmin(cost))])
    return cost, best, np.asarray(fn(jnp.asarray(temps), best)) / ref


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reference", default=os.environ.get("LTA_JAX_REFERENCE_DIR", "../shared/reference"))
    ap.add_argument("--out", default="experiments/results/rates_accuracy")
    args = ap.parse_args()
    table = TabulatedRates.from_file(pathlib.Path(args.reference) / "nuMSM-fortran" / "Int_OrgH_MN10E-1_kcAve.dat")
    model = cr.ComputedRates.build()
    report = {}

    def reference(temps, columns):
        return np.array([[float(getattr(table(t, 1.0), n)) for n in columns] for t in temps])

    temps = np.geomspace(60.0, 140.0, 15)
    fn = jax.jit(jax.vmap(lambda t, cx: jnp.stack([getattr(coefficients(model, t, 1.0, cx), n) for n in FIT_COLUMNS]),
                          in_axes=(0, None)))
    grid = np.round(np.arange(0.010, 0.0401, 0.001), 4)
    cost, best_cx, ratios = scan(fn, temps, reference(temps, FIT_COLUMNS), grid)
    report["C_X"] = {"fit": "least squares of ln(computed/table), M = 1 GeV, 60–140 GeV", "columns": FIT_COLUMNS,
                     "temperatures": temps.tolist(), "grid": grid.tolist(), "cost": cost, "best": best_cx,
                     "value_in_package": cr.C_X,
                     "ratios_at_best": {n: ratios[:, i].tolist() for i, n in enumerate(FIT_COLUMNS)}}
    print(f"C_X best = {best_cx} (package: {cr.C_X}); ratio ranges at best:",
          {n: (round(float(ratios[:, i].min()), 3), round(float(ratios[:, i].max()), 3))
           for i, n in enumerate(FIT_COLUMNS)})

    temps = np.geomspace(5.0, 20.0, 15)
    fn = jax.jit(jax.vmap(lambda t, r: jnp.stack([getattr(coefficients(model, t, 1.0, best_cx, r), n)
                                                  for n in FIT_COLUMNS_PLUS]), in_axes=(0, None)))
    grid = np.round(np.arange(0.40, 1.201, 0.05), 3)
    cost, best_r, ratios = scan(fn, temps, reference(temps, FIT_COLUMNS_PLUS), grid)
    report["R_PLUS"] = {"fit": "least squares of ln(computed/table), M = 1 GeV, 5–20 GeV",
                        "columns": FIT_COLUMNS_PLUS, "temperatures": temps.tolist(), "grid": grid.tolist(),
                        "cost": cost, "best": best_r, "value_in_package": cr.R_PLUS,
                        "ratios_at_best": {n: ratios[:, i].tolist() for i, n in enumerate(FIT_COLUMNS_PLUS)}}
    print(f"R_PLUS best = {best_r} (package: {cr.R_PLUS}); ratio range at best:",
          (round(float(ratios.min()), 3), round(float(ratios.max()), 3)))
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "fit_rate_constants.json").write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")

if __name__ == "__main__":
    main()
