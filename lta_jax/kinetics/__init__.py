"""Stage 4 — kinetic equations: the 11 momentum-averaged equations (``averaged``) as pure JAX right-hand sides, and an
independent NumPy implementation of the same equations for cross-checks (``numpy_reference``)."""

from lta_jax.kinetics.averaged import (STATE_LABELS, KineticOptions, KineticSystem, initial_state, kinetic_rhs)

__all__ = ["STATE_LABELS", "KineticOptions", "KineticSystem", "initial_state", "kinetic_rhs"]
