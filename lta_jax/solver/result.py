"""What a solve returns: the saved grid (:func:`output_points`), the compiled core's arrays (:class:`RawSolution`), the
user-facing :class:`Solution` and how a failed solve is reported (:class:`SolveError`, :func:`result_message`).

Every integrator (:mod:`lta_jax.solver.methods`, the resolved splitting in :mod:`lta_jax.solver.resolved`) fills the
same :class:`RawSolution`, so observables (:mod:`lta_jax.solver.observables`) do not depend on how a state was reached.
"""

from __future__ import annotations

import functools
from typing import Any

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from lta_jax.kinetics.averaged import KineticSystem
from lta_jax.model import constants as c

#: Temperatures of the sphaleron-rate post-processing window (docs/physics.md §5: start ≈160 GeV, end ≈110 GeV).
SPHALERON_WINDOW = (160.0, 110.0)
N_SPHALERON_POINTS = 121


class RawSolution(eqx.Module):
    """Arrays returned by the compiled core (batchable)."""

    z: Float[Array, "n"]
    states: Float[Array, "n 11"]
    z_sph: Float[Array, ""]
    state_sph: Float[Array, "11"]
    z_window: Float[Array, "m"]
    states_window: Float[Array, "m 11"]
    result: Any
    num_steps: Array
    num_accepted_steps: Array
    num_rejected_steps: Array


def output_points(mass, z0, z1, n_save: int):
    """The saved points of a solve from z0 to z1: ``n_save`` uniform in z, z(T_sph) and the sphaleron window 160–110
    GeV (clipped to the range). Returns (z_main, z_sph, z_window, z_all, order, inverse): z_all concatenates them,
    ``order`` sorts z_all, ``inverse`` undoes the sort."""
    z_main = jnp.linspace(z0, z1, n_save)
    z_sph = jnp.clip(jnp.log(mass / c.T_SPHALERON), z0, z1)
    hi, lo = SPHALERON_WINDOW
    z_window = jnp.clip(jnp.linspace(jnp.log(mass / hi), jnp.log(mass / lo), N_SPHALERON_POINTS), z0, z1)
    z_all = jnp.concatenate([z_main, z_sph[None], z_window])
    order = jnp.argsort(z_all)
    return z_main, z_sph, z_window, z_all, order, jnp.argsort(order)



@functools.cache
def raw_solution_structure():
    """The pytree structure of a :class:`RawSolution` (from a placeholder: no tracing)."""
    zero = jnp.zeros(())
    return jax.tree_util.tree_structure(RawSolution(zero, zero, zero, zero, zero, zero, diffrax.RESULTS.successful,
                                                    zero, zero, zero))


class Solution(eqx.Module):
    """Result of :func:`solve`: the trajectory, diffrax status and the set-up that produced it.

    Observables are in :mod:`lta_jax.solver.observables` (``summary(solution)`` gives the usual numbers).
    """

    system: KineticSystem
    raw: RawSolution
    t_start: float
    t_end: float

    @property
    def temperatures(self) -> np.ndarray:
        """Saved temperatures [GeV], descending."""
        return np.asarray(self.system.params.mass * np.exp(-np.asarray(self.raw.z)))

    @property
    def states(self) -> np.ndarray:
        """Saved 11-vectors, shape (n_save, 11) (column order of :data:`lta_jax.kinetics.averaged.STATE_LABELS`)."""
        return np.asarray(self.raw.states)

    @property
    def succeeded(self) -> bool:
        return bool(self.raw.result == diffrax.RESULTS.successful)

    @property
    def status(self) -> str:
        """"success" or the diffrax result message."""
        return "success" if self.succeeded else result_message(self.raw.result)


def result_message(result) -> str:
    for name in ("max_steps_reached", "singular", "breakdown", "dt_min_reached", "event_occurred",
                 "nonlinear_max_steps_reached", "nonlinear_divergence", "internal_error"):
        member = getattr(diffrax.RESULTS, name, None)
        if member is not None and bool(result == member):
            return name
    return "failed"


class SolveError(RuntimeError):
    """A solve that did not succeed (the diffrax result is in the message and in ``.status``)."""

    def __init__(self, status: str, detail: str = ""):
        super().__init__(f"kinetic solve failed: diffrax result '{status}'{': ' + detail if detail else ''}")
        self.status = status



#: Kinetic equations :func:`lta_jax.solver.integrate.solve` integrates.
KINETICS = ("averaged", "resolved")


class ResolvedSolution(Solution):
    """Result of a momentum-resolved solve: as :class:`Solution` (``states`` are the averaged 11-vectors
    Y_Δ, Y± = Σ_i u_i±, so every observable is computed the same way) plus the per-mode states."""

    mode_states: Any

    @property
    def grid(self):
        """The momentum grid (:class:`lta_jax.kinetics.resolved.MomentumGrid`)."""
        return self.system.grid



__all__ = ["SPHALERON_WINDOW", "N_SPHALERON_POINTS", "KINETICS", "RawSolution", "Solution", "ResolvedSolution",
           "SolveError", "output_points", "raw_solution_structure", "result_message"]
