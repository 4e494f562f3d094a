"""Issue 34 §1: the strong-washout point where the authors' Fortran keeps Y_L ≈ 2.5e-9 at 10 GeV and our equations
erase it — what our equations imply, and which change reproduces the Fortran run.

    python experiments/strong_washout.py --out experiments/results/strong_washout [--reference ../shared/reference]

Point: M = 2 GeV, ΔM = 1e-9 GeV, Im ω = 4, Re ω = π/4, δ = π, η = 1.5π, NH, from T0 = 7517.71 GeV, S_eq off. Rates:
the authors' M = 1 GeV averaged table scaled to M = 2 GeV (their M = 2 GeV table is not available; the scaling is
unreliable below ~30 GeV, docs/physics.md §6.3) with the Laine–Meyer thermodynamics and the reference susceptibility
when the reference folder is present, and the package's computed rates with its in-house plasma models always.

Runs (each to 5 GeV): the package default (Magnus), the Kvaerno5 reference, ΔM = 1e-12 GeV, and the equations with the
vacuum term ΔM h̄0 σ1 of H_N switched off below T_c = 60 or 40 GeV (smoothly over 2 % in T) — the change that keeps the
pseudo-Dirac charge Q of docs/physics.md §7.5. Also the profile of the smallest |Re λ| of A(T) and of the breaking
rate Γ_Q/H (adiabatic elimination) for ΔM = 1e-9, 1e-10, 1e-12 GeV.

Writes OUT/strong_washout.json (strict JSON) and OUT/strong_washout.png. About 1–2 min on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pathlib
import sys

import numpy as np

#: The authors' Fortran run of this point as quoted in issue 34 (their code, their M = 2 GeV table; T [GeV] → Y_L).
FORTRAN_QUOTED = {50.0: 8e-9, 30.0: 2.6e-9, 10.0: 2.49e-9}
POINT = dict(mass=2.0, delta_mass=1e-9, im_omega=4.0, re_omega=math.pi / 4, delta=math.pi, eta=1.5 * math.pi)
T_START = 7517.71
REPORT_T = (131.7, 100.0, 70.0, 50.0, 40.0, 30.0, 20.0, 10.0, 5.0)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=pathlib.Path, required=True)
    ap.add_argument("--reference", default=os.environ.get("LTA_JAX_REFERENCE_DIR", "../shared/reference"))
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    import jax
    import jax.numpy as jnp

    from lta_jax.kinetics.averaged import KineticOptions, KineticSystem, pseudo_dirac_charge
    from lta_jax.model.parameters import ModelParameters
    from lta_jax.plasma.susceptibility import in_house_susceptibility, susceptibility_from_table
    from lta_jax.plasma.thermodynamics import in_house_thermodynamics, thermodynamics_from_table
    from lta_jax.rates.base import RateModel, TabulatedRates
    from lta_jax.rates.computed import ComputedRates
    from lta_jax.solver.diagnostics import linear_eigenvalues_over_hubble, pseudo_dirac_breaking_over_hubble
    from lta_jax.solver.integrate import solve
    from lta_jax.solver.methods import SolverOptions

    class VacuumTermCut(RateModel):
        """h̄0 → h̄0 · σ((T − T_c)/(0.02 T_c)): the vacuum splitting ΔM h̄0 σ1 off below T_c (h̄0 enters nothing
        else above M except the negligible time-dilated decays)."""

        inner: RateModel
        t_cut: float

        def __call__(self, temperature, mass):
            c = self.inner(temperature, mass)
            return c._replace(h_zero=c.h_zero * jax.nn.sigmoid((temperature - self.t_cut) / (0.02 * self.t_cut)))

        def check_range(self, t_low, t_high, mass):
            self.inner.check_range(t_low, t_high, mass)

        @property
        def description(self):
            return f"{self.inner.description}, vacuum term off below {self.t_cut:g} GeV"

        @property
        def expensive(self):
            return self.inner.expensive

    inputs = {"computed rates, in-house plasma": (ComputedRates.build(), in_house_thermodynamics(),
                                                  in_house_susceptibility())}
    ref = pathlib.Path(args.reference)
    table = ref / "nuMSM-fortran" / "Int_OrgH_MN10E-1_kcAve.dat"
    if table.is_file():
        inputs = {"authors' M = 1 GeV table scaled, reference plasma": (
            TabulatedRates.from_file(table), thermodynamics_from_table(ref / "thermo" / "standardmodel.dat"),
            susceptibility_from_table(ref / "thermo" / "susceptibility.dat")), **inputs}
    else:
        print(f"reference table missing ({table}): computed rates only", file=sys.stderr)

    params = ModelParameters(**POINT)
    out = {"command": "python experiments/strong_washout.py --out " + str(args.out), "point": POINT,
           "T_start": T_START, "fortran_quoted_issue_34": {str(k): v for k, v in FORTRAN_QUOTED.items()}, "inputs": {}}
    curves = {}
    for label, (rates, thermo, susc) in inputs.items():
        runs = {"default (Magnus)": (params, rates, SolverOptions(n_save=600)),
                "Kvaerno5": (params, rates, SolverOptions.kvaerno5(n_save=600)),
                "ΔM = 1e-12 GeV": (ModelParameters(**{**POINT, "delta_mass": 1e-12}), rates, SolverOptions(n_save=600)),
                "vacuum term off below 60 GeV": (params, VacuumTermCut(rates, 60.0), SolverOptions(n_save=600)),
                "vacuum term off below 40 GeV": (params, VacuumTermCut(rates, 40.0), SolverOptions(n_save=600))}
        block = {}
        for name, (p, r, opts) in runs.items():
            sol = solve(p, r, t_start=T_START, t_end=5.0, thermo=thermo, susceptibility=susc, solver_options=opts,
                        raise_on_failure=True)
            t, x = np.asarray(sol.temperatures), np.asarray(sol.states)
            y_l = x[:, :3].sum(1)
            q = np.asarray(pseudo_dirac_charge(x, 1.0))

            def at(tt, values):
                return float(np.interp(math.log(tt), np.log(t[::-1]), values[::-1]))

            block[name] = {"Y_L": {str(tt): at(tt, y_l) for tt in REPORT_T},
                           "Q": {str(tt): at(tt, q) for tt in REPORT_T},
                           "Y_L_T_sph": float(np.asarray(sol.raw.state_sph)[:3].sum()),
                           "Y_Dalpha_10GeV": [at(10.0, x[:, a]) for a in range(3)],
                           "Delta_N_10GeV": at(10.0, x[:, 7] + x[:, 8])}
            curves[(label, name)] = (t, y_l)
            print(f"{label} | {name}: Y_L " + ", ".join(f"{tt:g}: {v:.3g}" for tt, v in
                                                        zip(REPORT_T, block[name]["Y_L"].values())),
                  file=sys.stderr, flush=True)
        profile = {}
        grid = np.geomspace(150.0, 10.0, 41)
        for dm in (1e-9, 1e-10, 1e-12):
            system = KineticSystem(ModelParameters(**{**POINT, "delta_mass": dm}), rates, thermo, susc,
                                   KineticOptions())
            slowest = jax.vmap(lambda tt: linear_eigenvalues_over_hubble(system, tt)[0])(jnp.asarray(grid))
            breaking = jax.vmap(lambda tt: pseudo_dirac_breaking_over_hubble(system, tt))(jnp.asarray(grid))
            profile[f"{dm:g}"] = {"T": grid.tolist(), "slowest_over_H": np.asarray(slowest).tolist(),
                                  "Gamma_Q_over_H": np.asarray(breaking).tolist()}
        out["inputs"][label] = {"runs": block, "profile": profile}

    (args.out / "strong_washout.json").write_text(json.dumps(out, indent=1, allow_nan=False))
    _plot(out, curves, args.out / "strong_washout.png")
    print(json.dumps({k: {n: r["Y_L"]["10.0"] for n, r in v["runs"].items()} for k, v in out["inputs"].items()},
                     indent=1))


def _plot(out, curves, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = list(out["inputs"])
    fig, axes = plt.subplots(2, len(labels), figsize=(6.5 * len(labels), 9), squeeze=False)
    for col, label in enumerate(labels):
        ax = axes[0, col]
        for i, name in enumerate(out["inputs"][label]["runs"]):
            t, y = curves[(label, name)]
            ax.loglog(t, np.abs(y), color=f"C{i}", ls="--" if name == "Kvaerno5" else "-",
                      lw=2.5 if name == "Kvaerno5" else 1.3, label=name)
        ax.plot(list(FORTRAN_QUOTED), list(FORTRAN_QUOTED.values()), "k*", ms=11,
                label="authors' Fortran (M = 2 GeV table; issue 34)")
        ax.set_ylim(1e-13, 1e-7)
        ax.set_xlim(7e3, 5)
        ax.axvline(131.7, color="0.6", lw=0.8)
        ax.set_xlabel("T [GeV]")
        ax.set_ylabel("|Y_L| = |Σα Y_Δα|")
        ax.set_title(f"strong-washout point: {label}", fontsize=10)
        ax.legend(fontsize=8, loc="lower left")
        ax = axes[1, col]
        for i, (dm, prof) in enumerate(out["inputs"][label]["profile"].items()):
            ax.loglog(prof["T"], prof["slowest_over_H"], color=f"C{i}", lw=2, label=f"|Re λ|_min of A / H, ΔM = {dm}")
            ax.loglog(prof["T"], prof["Gamma_Q_over_H"], color=f"C{i}", ls=":", lw=2,
                      label=f"Γ_Q / H (adiabatic elimination, §7.5), ΔM = {dm}")
        ax.axhline(1.0, color="k", lw=0.8)
        ax.set_xlim(150, 10)
        ax.set_ylim(1e-6, 1e5)
        ax.set_xlabel("T [GeV]")
        ax.set_ylabel("rate / H")
        ax.set_title("slowest mode of A(T) vs the pseudo-Dirac breaking rate", fontsize=10)
        ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
