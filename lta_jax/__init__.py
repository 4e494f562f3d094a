"""lta-jax: differentiable JAX solver for low-scale leptogenesis and late-time lepton asymmetries in the νMSM.

The package reads in data-flow order, one folder per stage: model → plasma → rates → kinetics → solver → studies → cli.
Public API:

    from lta_jax import ModelParameters, ComputedRates, solve, summary
    sol = solve(ModelParameters(1.0, 1.26e-11, -0.14, 1.63, 4.08, 3.20), ComputedRates.build(), t_end=5.0)
    print(summary(sol))
"""

import jax

# float64 everywhere: asymmetries ~1e-11 sit next to O(1e-3) densities (docs/numerics.md).
jax.config.update("jax_enable_x64", True)

from lta_jax.studies.batch import BatchResult, solve_batch  # noqa: E402
from lta_jax.solver.gradients import observables_and_jacobian  # noqa: E402
from lta_jax.kinetics.averaged import KineticOptions  # noqa: E402
from lta_jax.solver.observables import summary  # noqa: E402
from lta_jax.model.parameters import ModelParameters, NeutrinoData  # noqa: E402
from lta_jax.rates.provisional import ProvisionalRates  # noqa: E402
from lta_jax.rates.base import RateVariant, TabulatedRates  # noqa: E402
from lta_jax.solver.integrate import Solution, SolverOptions, solve  # noqa: E402
from lta_jax.rates.computed import ComputedRates  # noqa: E402
from lta_jax.plasma.thermodynamics import thermodynamics_from_table  # noqa: E402
from lta_jax.plasma.susceptibility import susceptibility_from_table  # noqa: E402

__all__ = ["ModelParameters", "NeutrinoData", "TabulatedRates", "RateVariant", "ProvisionalRates", "KineticOptions",
           "SolverOptions", "Solution", "solve", "summary", "observables_and_jacobian", "solve_batch", "BatchResult",
           "ComputedRates", "thermodynamics_from_table", "susceptibility_from_table"]
