"""Stage 5 — solving: integrators driven by diffrax (``integrate``), observables of a solution (``observables``) and
derivatives through the solve (``gradients``)."""

from lta_jax.solver.integrate import RawSolution, Solution, SolveError, SolverOptions, solve, solve_arrays

__all__ = ["RawSolution", "Solution", "SolveError", "SolverOptions", "solve", "solve_arrays"]
