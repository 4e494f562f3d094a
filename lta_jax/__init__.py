"""lta-jax: differentiable JAX solver for low-scale leptogenesis and late-time lepton asymmetries in the νMSM.

The package reads in data-flow order, one folder per stage: model → plasma → rates → kinetics → solver → studies → cli.
Public API:

    from lta_jax import ModelParameters, ComputedRates, solve, summary
    sol = solve(ModelParameters(1.0, 1.26e-11, -0.14, 1.63, 4.08, 3.20), ComputedRates.build(), t_end=5.0)
    print(summary(sol))
"""

import os as _os
import sys as _sys

# float64 everywhere: asymmetries ~1e-11 sit next to O(1e-3) densities (docs/numerics.md). Set without importing JAX,
# so that the command line can check its input before the seconds-long JAX import: JAX reads JAX_ENABLE_X64 when it
# is first imported; if it already is, switch the flag directly.
if "jax" in _sys.modules:
    _sys.modules["jax"].config.update("jax_enable_x64", True)
else:
    _os.environ["JAX_ENABLE_X64"] = "1"

#: Public API: name → module that defines it (imported on first use, PEP 562).
_PUBLIC = {
    "BatchResult": "lta_jax.studies.batch", "solve_batch": "lta_jax.studies.batch",
    "observables_and_jacobian": "lta_jax.solver.gradients",
    "KineticOptions": "lta_jax.kinetics.averaged",
    "summary": "lta_jax.solver.observables",
    "ModelParameters": "lta_jax.model.parameters", "NeutrinoData": "lta_jax.model.parameters",
    "ProvisionalRates": "lta_jax.rates.provisional",
    "RateVariant": "lta_jax.rates.base", "TabulatedRates": "lta_jax.rates.base",
    "Solution": "lta_jax.solver.integrate", "SolverOptions": "lta_jax.solver.integrate", "solve": "lta_jax.solver.integrate",
    "ComputedRates": "lta_jax.rates.computed",
    "thermodynamics_from_table": "lta_jax.plasma.thermodynamics",
    "susceptibility_from_table": "lta_jax.plasma.susceptibility",
}

__all__ = ["ModelParameters", "NeutrinoData", "TabulatedRates", "RateVariant", "ProvisionalRates", "KineticOptions",
           "SolverOptions", "Solution", "solve", "summary", "observables_and_jacobian", "solve_batch", "BatchResult",
           "ComputedRates", "thermodynamics_from_table", "susceptibility_from_table"]


#: The stage packages, reachable as attributes after a plain ``import lta_jax`` (e.g. ``lta_jax.solver.solve_arrays``).
_STAGES = ("model", "plasma", "rates", "kinetics", "solver", "studies", "cli")


def __getattr__(name: str):
    import importlib

    if name in _PUBLIC:
        value = getattr(importlib.import_module(_PUBLIC[name]), name)
        globals()[name] = value
        return value
    if name in _STAGES:
        return importlib.import_module(f"lta_jax.{name}")
    raise AttributeError(f"module 'lta_jax' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
