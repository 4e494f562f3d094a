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
