"""The optimiser's step rule as optax gradient transformations (chained with ``optax.chain``).

The refinement of :mod:`lta_jax.studies.optimise` climbs ln J (J = |Y_L|, max |Y_e| or the effective LTA) in the
normalised box coordinates v while keeping g = ln(Y_B/target) = 0. One step is

    move    = radius · P∇ln J / |P∇ln J|,   P = 1 − ∇g ∇gᵀ/|∇g|²   (projection on the constraint's tangent space),
    restore = −g ∇g/|∇g|², shortened to 2·radius                    (Gauss–Newton step back to the band),

and the candidate tries v + f·(move + restore) for a few fractions f in one batch (the batched line search). Here the
three pieces are optax transformations — :func:`project_on_constraint`, :func:`normalise_to_radius`,
:func:`add_restoration` — that take the ascent direction ∇ln J as ``updates`` and the trust radius, ∇g and g as extra
arguments; :func:`refinement_rule` chains them. The updates are steps to *add* (``optax.apply_updates(v, step)``), so
optax's own transformations chained after them (e.g. ``optax.scale``, a momentum) act on the ascent step.

They run on the host with NumPy (one candidate at a time, inside the refinement's Python loop), which reproduces the
optimiser's former hand-written step to the bit.
"""

from __future__ import annotations

import numpy as np
import optax


def project_on_constraint() -> optax.GradientTransformationExtraArgs:
    """``updates`` ↦ its component orthogonal to ``constraint_gradient`` (∇g); unchanged without a constraint."""

    def update(updates, state, params=None, *, constraint_gradient=None, **extra):
        del params, extra
        if constraint_gradient is None:
            return updates, state
        norm2 = float(constraint_gradient @ constraint_gradient) + 1e-300
        return updates - (updates @ constraint_gradient) / norm2 * constraint_gradient, state

    return optax.GradientTransformationExtraArgs(lambda params: optax.EmptyState(), update)


def normalise_to_radius(epsilon: float = 0.0) -> optax.GradientTransformationExtraArgs:
    """``updates`` ↦ ``radius`` · updates / (|updates| + epsilon) (zero stays zero): a step of the trust radius."""

    def update(updates, state, params=None, *, radius, **extra):
        del params, extra
        norm = np.linalg.norm(updates) + epsilon
        return (radius * updates / norm if norm > 0 else np.zeros_like(updates)), state

    return optax.GradientTransformationExtraArgs(lambda params: optax.EmptyState(), update)


def add_restoration() -> optax.GradientTransformationExtraArgs:
    """``updates`` ↦ updates − g ∇g/|∇g|² (the restoration capped at 2 ``radius``: a first-order step is trusted only
    within a few radii); unchanged without a constraint."""

    def update(updates, state, params=None, *, radius, constraint_gradient=None, residual=None, **extra):
        del params, extra
        if constraint_gradient is None:
            return updates, state
        norm2 = float(constraint_gradient @ constraint_gradient) + 1e-300
        restore = -residual / norm2 * constraint_gradient
        restore_norm = np.linalg.norm(restore)
        if restore_norm > 2 * radius:
            restore = restore * (2 * radius / restore_norm)
        return updates + restore, state

    return optax.GradientTransformationExtraArgs(lambda params: optax.EmptyState(), update)


def normalise_blocks(split: int) -> optax.GradientTransformation:
    """Preconditioning: ``updates[:split]`` and ``updates[split:]`` each scaled to unit length (a zero block stays
    zero). With rate-uncertainty coordinates after the model's, the model's ln J gradients (10–100 per unit of the
    normalised box) would otherwise take nearly all of every trust-radius step and leave the rate factors where they
    started (measured: factors within 0.998–1.002 after eight steps); the combined direction is still an ascent
    direction (its inner product with the gradient is the sum of the blocks' norms)."""

    def update(updates, state, params=None):
        del params
        out = np.array(updates, dtype=float)
        for block in (slice(0, split), slice(split, None)):
            norm = np.linalg.norm(out[block])
            out[block] = out[block] / norm if norm > 0 else 0.0
        return out, state

    return optax.GradientTransformation(lambda params: optax.EmptyState(), update)


def refinement_rule(constrained: bool, split: int | None = None) -> optax.GradientTransformationExtraArgs:
    """The refinement's step: projected, trust-radius ascent plus restoration under the BAU constraint
    (extra arguments ``radius``, ``constraint_gradient``, ``residual``); without it the normalised ascent alone.
    ``split``: precondition by :func:`normalise_blocks` first (model coordinates before ``split``, rate factors after)."""
    first = [normalise_blocks(split)] if split is not None else []
    if constrained:
        return optax.chain(*first, project_on_constraint(), normalise_to_radius(), add_restoration())
    return optax.chain(*first, normalise_to_radius(epsilon=1e-300))


__all__ = ["project_on_constraint", "normalise_to_radius", "add_restoration", "normalise_blocks", "refinement_rule"]
