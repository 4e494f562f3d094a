"""Experiment: accuracy of the computed rates against the authors' M = 1 GeV table (issue 3).

Writes ``<out>/rates_accuracy.json`` (min/max of computed/table per coefficient and temperature band, and the h̄−
sign change of both) and ``<out>/rates_accuracy.png`` (overlay and ratios), plus the computed table itself.

    python experiments/rates_accuracy.py --reference ../shared/reference --out experiments/results/rates_accuracy
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib

import lta_jax  # noqa: F401
from lta_jax.rates.computed import ComputedRates, rate_table, write_rate_table
from lta_jax.cli.plotting import plot_rate_tables, rate_ratios
from lta_jax.rates.base import TabulatedRates


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reference", default=os.environ.get("LTA_JAX_REFERENCE_DIR", "../shared/reference"))
    ap.add_argument("--out", default="experiments/results/rates_accuracy")
    ap.add_argument("--rows", type=int, default=301)
    args = ap.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table_path = pathlib.Path(args.reference) / "nuMSM-fortran" / "Int_OrgH_MN10E-1_kcAve.dat"
    reference = TabulatedRates.from_file(table_path)
    model = ComputedRates.build()
    table = rate_table(model, 1.0, rows=args.rows)
    write_rate_table(out / "computed_MN10E-1.dat", table)
    report = {"M": 1.0, "model": model.description, "reference": table_path.name, "rows": args.rows,
              "ratios_computed_over_table": rate_ratios(table, reference, 1.0)}
    (out / "rates_accuracy.json").write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    plot_rate_tables(table, reference, 1.0, out / "rates_accuracy.png", model.description)
    print(json.dumps(report, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
