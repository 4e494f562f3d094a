"""Experiment: the fit of the crossover-width constant C_X of the computed rates (issue 3).

Γ_X = C_X T²/m_W(T) saturates the four-fermion width through the crossover (lta_jax.computed_rates). C_X is the
value that minimises Σ ln²(computed/table) of γ̄_ν−, γ̄_N− and h̄− against the authors' M = 1 GeV OrgH table at
15 temperatures between 60 and 140 GeV (where the width, not the direct decays, decides those coefficients).
Writes ``<out>/fit_rate_constants.json`` with the scan of C_X, the best value and the ratios it gives.

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
from lta_jax import computed_rates as cr
from lta_jax.rates import TabulatedRates

FIT_COLUMNS = ("gamma_nu_minus", "gamma_N_minus", "h_minus")


def coefficients(model: cr.ComputedRates, t, mass, c_x):
    """The computed averages at temperature t with the crossover constant c_x (everything else as in the model)."""
    modes = model.momentum_resolved(t, mass, c_x=c_x)
    return cr.averaged_coefficients(t, mass, modes["h_plus"], modes["gamma_plus"], modes["h_minus"],
                                    modes["gamma_minus"], model.constants)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reference", default=os.environ.get("LTA_JAX_REFERENCE_DIR", "../shared/reference"))
    ap.add_argument("--out", default="experiments/results/rates_accuracy")
    args = ap.parse_args()
    table = TabulatedRates.from_file(pathlib.Path(args.reference) / "nuMSM-fortran" / "Int_OrgH_MN10E-1_kcAve.dat")
    model = cr.ComputedRates.build()
    temps = np.geomspace(60.0, 140.0, 15)
    ref = np.array([[float(getattr(table(t, 1.0), n)) for n in FIT_COLUMNS] for t in temps])
    fn = jax.jit(jax.vmap(lambda t, cx: jnp.stack([getattr(coefficients(model, t, 1.0, cx), n) for n in FIT_COLUMNS]),
                          in_axes=(0, None)))
    grid = np.round(np.arange(0.010, 0.0401, 0.001), 4)
    cost = []
    for cx in grid:
        ratios = np.asarray(fn(jnp.asarray(temps), cx)) / ref
        cost.append(float(np.sum(np.log(np.abs(ratios)) ** 2)))
    best = float(grid[int(np.argmin(cost))])
    ratios = np.asarray(fn(jnp.asarray(temps), best)) / ref
    report = {"constant": "C_X", "fit": "least squares of ln(computed/table), M = 1 GeV, 60–140 GeV",
              "columns": FIT_COLUMNS, "temperatures": temps.tolist(), "grid": grid.tolist(), "cost": cost,
              "best": best, "value_in_package": cr.C_X,
              "ratios_at_best": {n: ratios[:, i].tolist() for i, n in enumerate(FIT_COLUMNS)}}
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "fit_rate_constants.json").write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    print(f"C_X best = {best} (package: {cr.C_X}); ratio ranges at best:",
          {n: (round(float(ratios[:, i].min()), 3), round(float(ratios[:, i].max()), 3))
           for i, n in enumerate(FIT_COLUMNS)})


if __name__ == "__main__":
    main()
