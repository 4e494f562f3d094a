"""Names the studies accept (objectives, start strategies, envelope schedules), in a module without heavy imports so
that the command line rejects a wrong name before JAX is imported."""

#: Objectives of the optimiser and the envelopes: |Y_L(T_end)|, max |Y_Δe| below T_sph, |Y_L(T_end)|/D_fin.
OBJECTIVES = ("lta", "max-ye", "effective-lta")
#: Start strategies: the Sobol screen alone, or the §5.3 freeze-out recipe's guesses refined first.
STARTS = ("sample", "freeze-out")
#: Envelope schedules (lta_jax.studies.envelope.envelope_waves): masses in a chain, or in parallel waves.
SCHEDULES = ("chain", "waves")
#: Largest optimiser budget in solve-equivalents (the screen, 30 % of it, is planned in memory: 1e7 is ~100 MB and
#: ~14 core-hours); here so that the command line refuses a larger one before JAX is imported.
MAX_BUDGET = 10_000_000
#: Derivatives of the optimiser's refinement: exact reverse mode (default), exact forward mode, forward differences.
GRADIENT_METHODS = ("reverse", "forward", "fd")

#: Kinetics the studies run (as :data:`lta_jax.solver.result.KINETICS`, repeated here without importing JAX).
STUDY_KINETICS = ("averaged", "resolved")
#: How :func:`check_study_kinetics` names the settings: as Python arguments, or as command-line options.
PYTHON_NAMES = dict(kinetics="kinetics", n_modes="n_modes", rate_uncertainty="rate_uncertainty", mass="the mass",
                    objectives="objective 'lta' or 'max-ye'")
CLI_NAMES = dict(kinetics="--kinetics", n_modes="--modes", rate_uncertainty="--rate-uncertainty", mass="--M",
                 objectives="--objective lta or max-ye")


def check_study_kinetics(kinetics, n_modes, rate_uncertainty, objective, free_mass=False, names=PYTHON_NAMES) -> dict:
    """The keyword arguments of :func:`lta_jax.solve` that select a study's kinetics ({} for the averaged equations),
    checked before anything compiles — by the optimiser, the envelope and the command line (``names=CLI_NAMES``).

    Not implemented for the resolved equations, and refused rather than silently averaged: rate-uncertainty factors,
    the dilution objective and a free mass (the per-mode rate table is built at the fixed mass)."""
    k, n = names["kinetics"], names["n_modes"]
    if kinetics not in STUDY_KINETICS:
        raise ValueError(f"{k} must be one of {STUDY_KINETICS}, got {kinetics!r}")
    if kinetics == "averaged":
        if n_modes is not None:
            raise ValueError(f"{n} needs {k} resolved" if names is CLI_NAMES else f"{n} needs {k}='resolved'")
        return {}
    if n_modes is not None and (isinstance(n_modes, bool) or not isinstance(n_modes, int) or n_modes < 2):
        raise ValueError(f"{n} must be an integer ≥ 2, got {n_modes!r}")
    if rate_uncertainty != 1.0:
        raise ValueError(f"{names['rate_uncertainty']} > 1 is not available with {k} resolved")
    if objective == "effective-lta" or free_mass:
        raise ValueError(f"{k} resolved optimises at a fixed {names['mass']} with {names['objectives']}")
    return dict(kinetics="resolved", n_modes=n_modes)
