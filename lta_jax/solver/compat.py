"""The three diffrax internals the package relies on, gathered in one place.

diffrax 0.7.2 (pinned in pyproject.toml) does not export them publicly; when the pin moves, this is the only module to
check:

* ``converged``, ``diverged``, ``small`` — the termination tests of diffrax's VeryChord root finder, reused by
  :class:`lta_jax.solver.methods.ContractionChord` (the released root finder rejects slowly converging Newton steps);
* ``AbstractLocalInterpolation`` — the base of the Magnus dense output (:class:`lta_jax.solver.magnus.MagnusInterpolation`);
* ``WrapTerm`` — diffeqsolve wraps a user's term in it for the time direction; the Magnus solver unwraps it to read the
  generator of a :class:`lta_jax.solver.magnus.LinearODETerm` directly.
"""

from diffrax._local_interpolation import AbstractLocalInterpolation
from diffrax._root_finder._verychord import _converged as converged
from diffrax._root_finder._verychord import _diverged as diverged
from diffrax._root_finder._verychord import _small as small
from diffrax._term import WrapTerm

__all__ = ["AbstractLocalInterpolation", "WrapTerm", "converged", "diverged", "small"]
