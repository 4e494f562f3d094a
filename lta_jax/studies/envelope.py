"""Envelopes: the largest LTA (|Y_L| at T_end = 10 GeV) or max |Y_e| as a function of the HNL mass, with and without
the BAU constraint — the paper's Figs. 8 (NH), 9 (IH) and 17 — from the optimiser of :mod:`lta_jax.studies.optimise`.

Masses are done in increasing order; each optimisation is warm-started from the best points already found at the
neighbouring masses (same constraint), because the optimal (ΔM, ω, δ, η) move slowly with M. Every (mass, constraint)
result is written atomically to its own JSON file as soon as it is done, so an interrupted envelope resumes where it
stopped (a file written with different settings is refused, never mixed in).
"""

from __future__ import annotations

import json
import math
import pathlib
import time

from lta_jax.model import constants as c
from lta_jax.rates.base import RateModel
from lta_jax.studies.optimise import DEFAULT_CANDIDATES, OPTIMISATION_STEPS, optimise
from lta_jax.studies.output import write_json_atomic

#: Required LTA for sterile-neutrino dark matter by resonant production, Y_L ≃ 66e-6 (paper (5.1); docs/physics.md).
REQUIRED_LTA = 66e-6


def _point_file(out_dir: pathlib.Path, mass: float, bau: bool) -> pathlib.Path:
    return out_dir / f"M_{mass:g}_{'bau' if bau else 'no-bau'}.json"


def run_envelope(rates: RateModel, out_dir, *, masses, objective: str = "lta", hierarchy: str = "NH",
                 constraints=(True, False), budget_per_mass: float = 1000.0, seed: int = 0, t_end: float = 10.0,
                 steps: int = OPTIMISATION_STEPS, candidates: int = DEFAULT_CANDIDATES, progress: bool = True,
                 log=None, start: str = "sample") -> dict:
    """Optimise at every mass and constraint; returns {"settings", "points"} and writes ``envelope.json`` plus one
    file per (mass, constraint) into ``out_dir``. Finished files of the same settings are reused (resume).
    ``start="freeze-out"``: the §5.3 recipe's guesses start every mass (:func:`lta_jax.studies.optimise.optimise`)."""
    masses = sorted(float(m) for m in masses)
    if not masses or any(not (math.isfinite(m) and m > 0) for m in masses):
        raise ValueError(f"masses must be positive numbers, got {masses!r}")
    if budget_per_mass <= 0:
        raise ValueError(f"budget per mass must be positive, got {budget_per_mass!r}")
    for m in masses:
        rates.check_range(t_end, 1e3, m)
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    settings = dict(objective=objective, hierarchy=hierarchy, budget_per_mass=budget_per_mass, seed=seed, T_end=t_end,
                    steps=steps, candidates=candidates, rates=rates.description, bau_target=c.Y_B_OBSERVED)
    if start != "sample":  # only when set, so that directories written before the option existed still resume
        settings["start"] = start
    points = []
    with_bau: dict[float, dict] = {}
    for bau in constraints:
        done: dict[float, dict] = {}
        for m in masses:
            path = _point_file(out_dir, m, bau)
            if path.is_file():
                data = json.loads(path.read_text())
                if data["settings"] != settings:
                    raise ValueError(f"{path} was written with different settings; use another --out directory")
                done[m] = data
        for i, m in enumerate(masses):
            if m in done:
                if log:
                    log(f"M = {m:g} GeV, {'BAU' if bau else 'no BAU'}: done before (resumed)")
                continue
            warm = [done[n]["best"] for n in masses[max(0, i - 1): i + 2] if n in done and
                    done[n]["best"].get("status") == "success"]
            if not bau and m in with_bau and with_bau[m]["best"].get("status") == "success":
                # A point of the constrained curve is admissible without the constraint: the unconstrained
                # maximum is never reported below the constrained one.
                warm.append(with_bau[m]["best"])
            t0 = time.perf_counter()
            result = optimise(rates, objective=objective, mass=m, hierarchy=hierarchy, bau=bau,
                              budget=budget_per_mass, seed=seed, t_end=t_end, steps=steps, candidates=candidates,
                              progress=progress, start=start,
                              extra_starts=[dict(w, M=m) for w in warm], keep_history=False)
            data = {"settings": settings, "M": m, "bau": bau, "best": result.best,
                    "solve_equivalents": result.solve_equivalents, "seconds": time.perf_counter() - t0,
                    "warm_starts": len(warm)}
            write_json_atomic(_point_file(out_dir, m, bau), data)
            done[m] = data
            if log:
                log(f"M = {m:g} GeV, {'BAU' if bau else 'no BAU'}: {objective} = {result.best.get('objective')} "
                    f"({data['seconds']:.0f} s)")
        points += [done[m] for m in masses]
        if bau:
            with_bau = done
    envelope = {"settings": settings, "points": points}
    write_json_atomic(out_dir / "envelope.json", envelope)
    return envelope


def plot_envelope(envelope: dict, path) -> None:
    """Best objective against M, one curve per constraint, the required LTA (5.1) as a line (objectives lta and
    effective-lta: before and after the entropy dilution by HNL decays)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    settings = envelope["settings"]
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for bau, style in ((True, "o-"), (False, "s--")):
        rows = [p for p in envelope["points"] if p["bau"] == bau and p["best"].get("status") == "success"
                and (not bau or p["best"].get("feasible"))]
        if rows:
            ax.loglog([p["M"] for p in rows], [p["best"]["objective"] for p in rows], style,
                      label="with BAU (Y_B within 10 %)" if bau else "without BAU constraint")
        missing = [p["M"] for p in envelope["points"] if p["bau"] == bau and p not in rows]
        for k, m in enumerate(missing):  # never drawn as a value: marked where nothing admissible was found
            ax.axvline(m, color="C0" if bau else "C1", lw=0.8, ls=":",
                       label=("no feasible point found (BAU)" if bau else "no successful solve") if k == 0 else None)
    if settings["objective"] == "lta":
        ax.axhline(REQUIRED_LTA, color="k", lw=1, ls=":", label="required for DM (5.1), before dilution")
        ax.set_ylabel(f"max |Y_L(T = {settings['T_end']:g} GeV)|")
    elif settings["objective"] == "effective-lta":
        ax.axhline(REQUIRED_LTA, color="k", lw=1, ls=":", label="required for DM (5.1)")
        ax.set_ylabel(f"max |Y_L(T = {settings['T_end']:g} GeV)| / D_fin (after dilution)")
    else:
        ax.set_ylabel("max |Y_Δe| (T ≤ T_sph)")
    ax.set_xlabel("M [GeV]")
    masses = sorted({p["M"] for p in envelope["points"]})
    ax.set_xticks(masses, [f"{m:g}" for m in masses])
    ax.set_xticks([], minor=True)
    ax.set_title(f"{settings['hierarchy']} envelope, {settings['budget_per_mass']:g} solve-equivalents per mass",
                 fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
