"""lta-jax: differentiable JAX solver for low-scale leptogenesis and late-time lepton asymmetries in the νMSM.

Public API (read the modules in this order: parameters → thermodynamics → susceptibility → rates → kinetics → solver
→ observables → gradients/optimise):

    from lta_jax import ModelParameters, TabulatedRates, solve, summary
    sol = solve(ModelParameters(1.0, 1e-12, ...), TabulatedRates.from_file(path), t_end=10.0)
    print(summary(sol))
"""

import jax

# float64 everywhere: asymmetries ~1e-11 sit next to O(1e-3) densities (toolchain.md).
jax.config.update("jax_enable_x64", True)

from lta_jax.studies.batch import BatchResult, solve_batch  # noqa: E402
from lta_jax.solver.gradients import observables_and_jacobian  # noqa: E402
from lta_jax.kinetics.averaged import KineticOptions  # noqa: E402
from lta_jax.solver.observables import summary  # noqa: E402
from lta_jax.model.parameters import ModelParameters, NeutrinoData  # noqa: E402
from lta_jax.rates.provisional import ProvisionalRates  # noqa: E402
from lta_jax.rates.base import RateVariant, TabulatedRates  # noqa: E402
from lta_jax.solver.integrate import Solution, SolverOptions, solve  # noqa: E402

__all__ = ["ModelParameters", "NeutrinoData", "TabulatedRates", "RateVariant", "ProvisionalRates", "KineticOptions",
           "SolverOptions", "Solution", "solve", "summary", "observables_and_jacobian", "solve_batch", "BatchResult"]
