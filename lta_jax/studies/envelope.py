"""Envelopes: the largest LTA (|Y_L| at T_end = 10 GeV) or max |Y_e| as a function of the HNL mass, with and without
the BAU constraint — the paper's Figs. 8 (NH), 9 (IH) and 17 — from the optimiser of :mod:`lta_jax.studies.optimise`.

Masses are done in increasing order; each optimisation is warm-started from the best points already found at the
neighbouring masses (same constraint), because the optimal (ΔM, ω, δ, η) move slowly with M. Every (mass, constraint)
result is written atomically to its own JSON file as soon as it is done, so an interrupted envelope resumes where it
stopped (a file written with different settings is refused, never mixed in).
"""

from __future__ import annotations

import contextlib
import json
import math
import pathlib
import time

import numpy as np

from lta_jax.model import constants as c
from lta_jax.rates.base import RateModel
from lta_jax.studies.choices import SCHEDULES
from lta_jax.studies.optimise import DEFAULT_CANDIDATES, OPTIMISATION_STEPS, optimise
from lta_jax.studies.output import stderr_progress, write_json_atomic

#: Required LTA for sterile-neutrino dark matter by resonant production, Y_L ≃ 66e-6 (paper (5.1); docs/physics.md).
REQUIRED_LTA = 66e-6




def _point_file(out_dir: pathlib.Path, mass: float, bau: bool) -> pathlib.Path:
    return out_dir / f"M_{mass:g}_{'bau' if bau else 'no-bau'}.json"


def envelope_waves(n_masses: int, constraints, schedule: str) -> list[list[tuple[bool, int]]]:
    """The order of the (constraint, mass index) optimisations, as waves: a task is warm-started only from results of
    earlier waves (and resumed files), so the tasks of one wave are independent and may run in parallel.

    * ``chain`` — one task per wave, masses in increasing order: each mass starts from the one below it (and, without
      the BAU constraint, from the constrained result at the same mass); best for one process, nothing in parallel;
    * ``waves`` — even-numbered masses, then odd-numbered ones (which start from both neighbours); the second
      constraint's even masses run beside the first constraint's odd ones. Three waves for two curves, whatever the
      number of masses: the schedule of a cluster.
    """
    if schedule == "chain":
        return [[(bau, i)] for bau in constraints for i in range(n_masses)]
    if schedule != "waves":
        raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
    waves: dict[int, list] = {}
    for offset, bau in enumerate(constraints):
        for i in range(n_masses):
            waves.setdefault(offset + i % 2, []).append((bau, i))
    return [waves[w] for w in sorted(waves)]


def _warm_starts(done: dict, masses: list, bau: bool, i: int) -> list[dict]:
    """Best points already found next to mass ``i`` on the same curve; without the BAU constraint also the constrained
    result at the same mass (admissible there, so the unconstrained maximum is never reported below the constrained
    one). Only successful solves."""
    def ok(key):
        return key in done and done[key]["best"].get("status") == "success"

    warm = [done[(bau, n)]["best"] for n in masses[max(0, i - 1): i + 2] if ok((bau, n))]
    if not bau and ok((True, masses[i])):
        warm.append(done[(True, masses[i])]["best"])
    return [dict(w, M=masses[i]) for w in warm]


def optimise_envelope_point(rates, mass: float, bau: bool, warm: list, settings: dict, start: str,
                            progress: bool = False) -> dict:
    """One point of an envelope: the optimisation at ``mass`` with (or without) the BAU constraint from the warm
    starts ``warm`` — the task of a cluster worker and of the in-process executor alike. ``rates``: a rate model, or
    its specification string (a worker builds the model once per process). Returns the point file's content."""
    from lta_jax.studies.cluster import rate_model_for, worker_identity

    model = rate_model_for(rates) if isinstance(rates, str) else rates
    t0 = time.perf_counter()
    result = optimise(model, objective=settings["objective"], mass=mass, hierarchy=settings["hierarchy"], bau=bau,
                      budget=settings["budget_per_mass"], seed=settings["seed"], t_end=settings["T_end"],
                      steps=settings["steps"], candidates=settings["candidates"], progress=progress, start=start,
                      extra_starts=warm, keep_history=False, gradient_cost=settings.get("gradient_cost"),
                      gradient=settings.get("gradient", "reverse"), rate_uncertainty=settings.get("rate_uncertainty", 1.0),
                      kinetics=settings.get("kinetics", "averaged"), n_modes=settings.get("n_modes"))
    return {"settings": settings, "M": mass, "bau": bau, "best": result.best,
            "solve_equivalents": result.solve_equivalents, "full_solves": result.full_solves,
            "rejected_by_full_solve": result.rejected_by_full_solve, "seconds": time.perf_counter() - t0,
            "warm_starts": len(warm), "worker": worker_identity()}


def run_envelope(rates: RateModel | str, out_dir, *, masses, objective: str = "lta", hierarchy: str = "NH",
                 constraints=(True, False), budget_per_mass: float = 1000.0, seed: int = 0, t_end: float = 10.0,
                 steps: int = OPTIMISATION_STEPS, candidates: int = DEFAULT_CANDIDATES, progress: bool = True,
                 log=None, start: str = "sample", cluster=None, schedule: str | None = None,
                 gradient_cost: float | None = None, gradient: str = "reverse", rate_uncertainty: float = 1.0,
                 kinetics: str = "averaged", n_modes: int | None = None) -> dict:
    """Optimise at every mass and constraint; returns {"settings", "points"} and writes ``envelope.json`` plus one
    file per (mass, constraint) into ``out_dir``. Finished files of the same settings are reused (resume).
    ``start="freeze-out"``: the §5.3 recipe's guesses start every mass (:func:`lta_jax.studies.optimise.optimise`).

    ``cluster`` (:class:`lta_jax.studies.cluster.ClusterOptions`): run the optimisations on a Dask cluster; ``rates``
    must then be a specification string ("computed", a table path readable by every worker, ...). ``schedule``
    (:func:`envelope_waves`): "chain" in-process and "waves" on a cluster by default; the same schedule gives the same
    points wherever it runs. The schedule is recorded per point but is not part of the settings, so a directory can be
    resumed with the other one (finished points are kept, later ones warm-start from them). ``gradient_cost``: as in
    :func:`lta_jax.studies.optimise.optimise` (fixed instead of measured: the envelope is then reproducible);
    ``gradient``: the optimiser's derivatives (recorded in the settings unless the default); ``rate_uncertainty`` = F > 1:
    every optimisation also moves the rate factors within [1/F, F] (:mod:`lta_jax.rates.uncertainty`; the optimistic
    edge of the band, recorded in the settings); ``kinetics="resolved"`` with ``n_modes``: every optimisation on the
    momentum-resolved equations (recorded in the settings). Long because of its
    docstring and the resume/cluster bookkeeping, which share the ``done`` map and the single writer ``finish``."""
    masses = sorted(float(m) for m in masses)
    if not masses or any(not (math.isfinite(m) and m > 0) for m in masses):
        raise ValueError(f"masses must be positive numbers, got {masses!r}")
    if budget_per_mass <= 0:
        raise ValueError(f"budget per mass must be positive, got {budget_per_mass!r}")
    schedule = schedule or ("chain" if cluster is None else "waves")
    waves = envelope_waves(len(masses), constraints, schedule)
    if cluster is not None and not isinstance(rates, str):
        raise ValueError("on a cluster, give the rate model as its specification string (workers build it)")
    from lta_jax.studies.cluster import rate_model_for

    model = rate_model_for(rates) if isinstance(rates, str) else rates
    for m in masses:
        model.check_range(t_end, 1e3, m)
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    settings = dict(objective=objective, hierarchy=hierarchy, budget_per_mass=budget_per_mass, seed=seed, T_end=t_end,
                    steps=steps, candidates=candidates, rates=model.description, bau_target=c.Y_B_OBSERVED)
    if start != "sample":  # only when set, so that directories written before the option existed still resume
        settings["start"] = start
    if gradient_cost is not None:
        settings["gradient_cost"] = float(gradient_cost)
    if gradient != "reverse":
        settings["gradient"] = gradient
    from lta_jax.rates.uncertainty import check_uncertainty_factor

    if check_uncertainty_factor(rate_uncertainty) > 1:
        settings["rate_uncertainty"] = float(rate_uncertainty)
    if kinetics != "averaged":  # checked here, before any optimisation compiles (optimise checks the same)
        from lta_jax.studies.choices import check_study_kinetics

        check_study_kinetics(kinetics, n_modes, rate_uncertainty, objective, False)
        from lta_jax.studies.optimise import OPTIMISATION_RESOLVED

        # The resolved numerics are part of the settings: a directory made with other ones is not resumed.
        settings.update(kinetics=kinetics, n_modes=48 if n_modes is None else int(n_modes),
                        resolved_numerics=dict(OPTIMISATION_RESOLVED))
    elif n_modes is not None:
        raise ValueError("n_modes needs kinetics='resolved'")
    done: dict[tuple[bool, float], dict] = {}
    for bau in constraints:
        for m in masses:
            path = _point_file(out_dir, m, bau)
            if path.is_file():
                data = json.loads(path.read_text())
                if data["settings"] != settings:
                    raise ValueError(f"{path} was written with different settings; use another --out directory")
                done[(bau, m)] = data
                if log:
                    log(f"M = {m:g} GeV, {'BAU' if bau else 'no BAU'}: done before (resumed)")
    n_tasks = sum(len(w) for w in waves)
    bar = task_id = None
    if progress and cluster is not None:  # in-process, each optimisation shows its own bar
        bar, task_id = stderr_progress("envelope", n_tasks, len(done), unit="optimisations")

    def finish(key, data):  # in the client only: the single writer of result files
        data["schedule"] = schedule
        write_json_atomic(_point_file(out_dir, data["M"], data["bau"]), data)
        done[key] = data
        if bar is not None:
            bar.update(task_id, advance=1)
        if log:
            best = data["best"]
            # The best point of a BAU run can lie outside the band (nothing feasible found): say so, with its Y_B.
            if not data["bau"] or best.get("feasible"):
                verdict = ""
            elif best.get("full_solve_confirms_band") is False:  # in the band on the grid, not in the full solve
                verdict = (f", no confirmed feasible point: the best grid point's Y_B = {best.get('Y_B'):.3g} is "
                           f"{best.get('full_solve_Y_B'):.3g} in the full solve, outside the band")
            else:
                verdict = f", no feasible point: Y_B = {best.get('Y_B'):.3g} is outside the band"
            log(f"M = {data['M']:g} GeV, {'BAU' if data['bau'] else 'no BAU'}: {objective} = "
                f"{best.get('objective')}{verdict} ({data['seconds']:.0f} s, {data['worker']})")

    try:
        from lta_jax.studies.cluster import dask_client

        with contextlib.nullcontext() if cluster is None else dask_client(cluster) as client:
            for wave in waves:
                todo = [(bau, i) for bau, i in wave if (bau, masses[i]) not in done]
                # warm starts from the state at the start of the wave, so the schedule alone fixes every result
                jobs = {(bau, masses[i]): (masses[i], bau, _warm_starts(done, masses, bau, i), settings, start)
                        for bau, i in todo}
                if client is None:
                    for key, args in jobs.items():
                        finish(key, optimise_envelope_point(model, *args, progress=progress))
                elif jobs:
                    from lta_jax.studies.cluster import run_tasks

                    names = {f"envelope-M{m:g}-{'bau' if bau else 'nobau'}": (bau, m) for bau, m in jobs}
                    run_tasks(client, [(name, optimise_envelope_point, (rates, *jobs[key]))
                                       for name, key in names.items()],
                              lambda name, data: finish(names[name], data), in_flight_per_worker=1)
    finally:
        if bar is not None:
            bar.stop()
    points = [done[(bau, m)] for bau in constraints for m in masses]
    envelope = {"settings": settings, "points": points}
    write_json_atomic(out_dir / "envelope.json", envelope)
    return envelope


def _admissible(point: dict) -> bool:
    best = point["best"]
    return best.get("status") == "success" and (not point["bau"] or bool(best.get("feasible")))


def plot_envelope(envelope: dict, path, band: dict | None = None) -> None:
    """Best objective against M, one curve per constraint, the required LTA (5.1) as a line (objectives lta and
    effective-lta: before and after the entropy dilution by HNL decays). ``band``: the envelope of the same settings
    with rate factors within [1/F, F] (``run_envelope(..., rate_uncertainty=F)``): shaded from the central curve up
    to its optimistic edge, at the masses where both have an admissible point."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    settings = envelope["settings"]
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for bau, style in ((True, "o-"), (False, "s--")):
        rows = [p for p in envelope["points"] if p["bau"] == bau and p["best"].get("status") == "success"
                and (not bau or p["best"].get("feasible"))]
        curve = sorted((p for p in envelope["points"] if p["bau"] == bau), key=lambda p: p["M"])
        if rows:
            # A mass without an admissible point breaks the line (NaN): no value is drawn across it.
            ax.loglog([p["M"] for p in curve], [p["best"]["objective"] if p in rows else np.nan for p in curve],
                      style, label="with BAU (Y_B within 10 %)" if bau else "without BAU constraint")
        if band is not None and rows:
            edge = {p["M"]: p for p in band["points"] if p["bau"] == bau and _admissible(p)}
            both = [p for p in curve if p in rows and p["M"] in edge]
            if both:
                ms = [p["M"] for p in both]
                low = [p["best"]["objective"] for p in both]
                high = [max(edge[m]["best"]["objective"], v) for m, v in zip(ms, low)]
                factor = band["settings"]["rate_uncertainty"]
                ax.fill_between(ms, low, high, color="C0" if bau else "C1", alpha=0.25, lw=0,
                                label=f"{'with' if bau else 'without'} BAU, rates within ×{factor:g} (optimistic edge)")
        missing = [p["M"] for p in curve if p not in rows]
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
    title = f"{settings['hierarchy']} envelope, {settings['budget_per_mass']:g} solve-equivalents per mass"
    if settings.get("kinetics") == "resolved":
        title = f"{settings['hierarchy']} envelope, momentum-resolved ({settings['n_modes']} + 5 modes), " \
                f"{settings['budget_per_mass']:g} resolved solves per mass"
    if band is not None:
        title += f"\nshaded: every rate coefficient within ×{band['settings']['rate_uncertainty']:g}, optimised"
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
