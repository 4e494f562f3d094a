"""Issue 34 §2: which rate coefficient moves the M = 10 GeV Table-4 benchmark of 1808.10833 (Y_B/8.7e-11 = 0.70 with
the computed rates, 0.85 with the authors' M = 1 GeV table scaled to M = 10 GeV, in the specification's protocol).

    python experiments/table4_m10.py --out experiments/results/table4_m10 [--reference ../shared/reference]

Protocol of docs/physics.md V9 (S_eq on, Laine–Meyer thermodynamics, reference susceptibility, to 120 GeV). Each run
takes the computed rates and replaces one coefficient (or a group, or one coefficient inside a temperature window) by
the scaled table's. Writes OUT/table4_m10.json (strict JSON). Needs the reference folder. About 1 min on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys

NAMES = ("gamma_nu_plus", "gamma_nu_minus", "gamma_N_plus", "gamma_N_minus", "h_plus", "h_minus", "h_zero")
GROUPS = (("gamma_nu_minus", "gamma_N_minus"), ("gamma_nu_minus", "gamma_N_minus", "h_plus"))
WINDOWS = ((300.0, 1e5), (160.0, 300.0), (131.7, 160.0), (160.0, 1e5))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=pathlib.Path, required=True)
    ap.add_argument("--reference", default=os.environ.get("LTA_JAX_REFERENCE_DIR", "../shared/reference"))
    args = ap.parse_args(argv)
    ref = pathlib.Path(args.reference)
    table_path = ref / "nuMSM-fortran" / "Int_OrgH_MN10E-1_kcAve.dat"
    if not table_path.is_file():
        sys.exit(f"reference table missing: {table_path} (set --reference or LTA_JAX_REFERENCE_DIR)")

    import jax.numpy as jnp

    from lta_jax import summary
    from lta_jax.kinetics.averaged import KineticOptions
    from lta_jax.model.benchmark_points import TABLE4
    from lta_jax.plasma.susceptibility import susceptibility_from_table
    from lta_jax.plasma.thermodynamics import thermodynamics_from_table
    from lta_jax.rates.base import RateModel, TabulatedRates
    from lta_jax.rates.computed import ComputedRates
    from lta_jax.rates.interpolated import InterpolatedRates
    from lta_jax.solver.integrate import solve

    class Swap(RateModel):
        """The computed coefficients with ``take`` from the table inside [t_low, t_high]."""

        computed: RateModel
        table: RateModel
        take: tuple
        t_low: float = 0.0
        t_high: float = 1e9

        def __call__(self, temperature, mass):
            a, b = self.computed(temperature, mass), self.table(temperature, mass)
            inside = (temperature >= self.t_low) & (temperature <= self.t_high)
            return a._replace(**{n: jnp.where(inside, getattr(b, n), getattr(a, n)) for n in self.take})

        def check_range(self, t_low, t_high, mass):
            pass

        @property
        def description(self):
            return "computed with table coefficients " + ", ".join(self.take)

        @property
        def expensive(self):
            return False

    thermo = thermodynamics_from_table(ref / "thermo" / "standardmodel.dat")
    susc = susceptibility_from_table(ref / "thermo" / "susceptibility.dat")
    point = TABLE4[4]
    table = TabulatedRates.from_file(table_path)
    computed = InterpolatedRates.build(ComputedRates.build(), point.mass, 100.0, 1e5)

    def ratio(rates):
        s = summary(solve(point, rates, t_end=120.0, thermo=thermo, susceptibility=susc,
                          options=KineticOptions(source_term=True), raise_on_failure=True))
        return s["Y_B"] / 8.7e-11

    result = {"command": "python experiments/table4_m10.py --out " + str(args.out),
              "computed": ratio(computed), "table_scaled": ratio(table), "one_coefficient_from_table": {},
              "groups_from_table": {}, "fnv_from_table_in_window": {}, "coefficient_ratio_computed_over_table": {}}
    for name in NAMES:
        result["one_coefficient_from_table"][name] = ratio(Swap(computed, table, (name,)))
        print(name, result["one_coefficient_from_table"][name], file=sys.stderr, flush=True)
    for group in GROUPS:
        result["groups_from_table"][" + ".join(group)] = ratio(Swap(computed, table, group))
    for lo, hi in WINDOWS:
        result["fnv_from_table_in_window"][f"{lo:g}-{hi:g} GeV"] = ratio(
            Swap(computed, table, GROUPS[0], lo, hi))
    for t in (1000.0, 300.0, 200.0, 170.0, 160.0, 150.0, 140.0, 131.7):
        a, b = computed(t, point.mass), table(t, point.mass)
        result["coefficient_ratio_computed_over_table"][f"{t:g}"] = {
            n: float(getattr(a, n) / getattr(b, n)) for n in NAMES if float(getattr(b, n)) != 0.0}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "table4_m10.json").write_text(json.dumps(result, indent=1, allow_nan=False))
    print(json.dumps({k: result[k] for k in ("computed", "table_scaled", "one_coefficient_from_table",
                                             "groups_from_table", "fnv_from_table_in_window")}, indent=1))


if __name__ == "__main__":
    main()
