"""Solving the momentum-resolved equations (:mod:`lta_jax.kinetics.resolved`): structured exponential steps whose cost
grows linearly in the number of modes — the coupled step (default) and the Strang splitting — and the dense solvers as
references (docs/resolved.md).

The generator has arrow structure: the modes couple only through the three lepton asymmetries d = Y_Δ,

    d' = a d + Σ_i B_i u_i,     u_i' = C_i d + D_i u_i + b_i         (blocks: :class:`ModeBlocks`).

It is split into the asymmetry part 𝒜 (d' = a d + Σ_i B_i u_i with the modes frozen: one 6 × 6 exponential) and the
mode part ℳ (u_i' = D_i u_i + C_i d + b_i with d frozen: one 9 × 9 exponential per mode, the drive C_i d + b_i as an
augmented column). A step of length h is the symmetric (Strang) composition exp(h𝒜/2) exp(hℳ) exp(h𝒜/2) with all
blocks at the step's midpoint: second order, cost ∝ N, and every HNL oscillation is propagated exactly inside
exp(hℳ) — as for the averaged equations' Magnus integrator, the step follows how fast the rates change, not the
oscillation phase. Each factor is damped on its own (a and D_i are), which is why the split is made here: splitting
off the whole coupling (a, B, C) instead is exact by a 6-dimensional reduction but grows like e^{h√‖Σ B_i C_i‖}, and
it overflowed where the coupling is stiff (measured, docs/resolved.md).

The coupled step (:func:`coupled_step`, default since 2026-12-06) keeps the coupling inside each mode's exponential
instead of splitting it off; the splitting below is kept as ``method="split"`` for comparison.

The splitting error is largest where the asymmetry–mode coupling is stiff (T ≈ 7–40 GeV for large Yukawas): besides
``substeps`` equal steps per output interval, ``refine`` extra steps are placed with density ∝
:func:`coupling_stiffness`. Its accuracy is measured against Kvaerno5 on the dense (8N + 3)-dimensional system
(``tests/test_resolved.py``, docs/resolved.md); that solver (O(N³) Newton solves) and the adaptive Magnus integrator on
the dense generator (small N) are the references.
"""

from __future__ import annotations

from typing import Any

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from lta_jax.kinetics.averaged import GeneratorBasis
from lta_jax.kinetics.resolved import (ModeBlocks, ResolvedSystem, dense_generator, initial_state, mode_blocks,
                                       project, resolved_rhs)
from lta_jax.rates.interpolated import InterpolatedRates
from lta_jax.solver.magnus import LinearODETerm, Magnus4, expm, held_fixed
from lta_jax.solver.methods import default_solver, pid_controller
from lta_jax.solver.result import RawSolution, output_points

#: Resolved-equation methods: "coupled" (structured, default), "split" (structured Strang splitting), "kvaerno5" and
#: "magnus" (dense references).
METHODS = ("coupled", "split", "kvaerno5", "magnus")
#: The structured methods (one exponential per mode and step, cost ∝ N; differentiable in both modes).
STRUCTURED = ("coupled", "split")


class ResolvedOptions(eqx.Module):
    """Numerics of the resolved equations (all static).

    Attributes:
        method: "coupled" (default: :func:`coupled_step`, cost ∝ N), "split" (Strang splitting, :func:`split_step`),
            "kvaerno5" (dense implicit reference) or "magnus" (dense adaptive Magnus, small N).
        substeps: steps per output interval (the outputs are ``n_save`` points uniform in z plus the sphaleron window,
            as for the averaged solve; default 1).
        refine: extra steps placed where the coupling is stiff (:func:`refinement_nodes`; default ``None``: 250 for
            "coupled", 2000 for "split", the choices measured in docs/resolved.md).
        n_save: output points uniform in z (default 1000).
        rtol, max_steps: for the dense adaptive methods.
    """

    method: str = eqx.field(static=True, default="coupled")
    substeps: int = eqx.field(static=True, default=1)
    refine: int | None = eqx.field(static=True, default=None)
    n_save: int = eqx.field(static=True, default=1000)
    rtol: float = eqx.field(static=True, default=1e-8)
    max_steps: int = eqx.field(static=True, default=200_000)

    def __check_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"unknown resolved method {self.method!r}; choose one of {METHODS}")
        if int(self.substeps) < 1 or int(self.n_save) < 2:
            raise ValueError("substeps must be ≥ 1 and n_save ≥ 2")
        if self.refine is not None and int(self.refine) < 0:
            raise ValueError(f"refine must be ≥ 0, got {self.refine}")

    @property
    def refinement_steps(self) -> int:
        """``refine``, or the method's default (250 for "coupled", 2000 for "split"). With uniform per-mode rates the
        resolved solve must reproduce the averaged one: Y_L(10 GeV) 4.6e-3 off with no placed steps, 1.2e-3 with 250,
        4.4e-4 with 500 (the splitting with 2000: 1.3e-3; Fig.-18 point, provisional rates, 4 + 5 modes)."""
        if self.refine is not None:
            return int(self.refine)
        return 2000 if self.method == "split" else 250


def _asymmetry_exponential(blocks: ModeBlocks, tau):
    """exp(τ𝒜) of the asymmetry part d' = a d + Σ_i B_i u_i with the modes frozen, as (d, u) → d."""
    m = jnp.zeros((6, 6)).at[:3, :3].set(blocks.a).at[:3, 3:].set(jnp.eye(3))
    phi = expm(tau * m)

    def apply(d, u):
        return phi[:3, :3] @ d + phi[:3, 3:] @ jnp.einsum("nij,nj->i", blocks.b_blocks, u)

    return apply


def _mode_step(blocks: ModeBlocks, h, d, u):
    """exp(hℳ) of the mode part u_i' = D_i u_i + C_i d + b_i with d frozen: one 9 × 9 exponential per mode."""
    n = blocks.d_blocks.shape[0]
    drive = jnp.einsum("nij,j->ni", blocks.c_blocks, d) + blocks.source
    g = jnp.zeros((n, 9, 9)).at[:, :8, :8].set(blocks.d_blocks).at[:, :8, 8].set(drive)
    p = jax.vmap(expm)(h * g)
    return jnp.einsum("nij,nj->ni", p[:, :8, :8], u) + p[:, :8, 8]


def split_step(blocks: ModeBlocks, h, d, u):
    """One Strang step exp(h𝒜/2) exp(hℳ) exp(h𝒜/2) with frozen blocks."""
    half = _asymmetry_exponential(blocks, 0.5 * h)
    d = half(d, u)
    u = _mode_step(blocks, h, d, u)
    return half(d, u), u


def _inverse3(m):
    """Inverse of a 3 × 3 matrix by cofactors: arithmetic only (no LAPACK call under vmap, see
    :func:`lta_jax.solver.magnus.expm`)."""
    cofactors = jnp.stack([jnp.cross(m[1], m[2]), jnp.cross(m[2], m[0]), jnp.cross(m[0], m[1])])
    return cofactors.T / jnp.dot(m[0], cofactors[0])


def coupled_step(blocks: ModeBlocks, h, d, u):
    """One step of the coupled exponential method (blocks frozen at the step's midpoint).

    For an asymmetry that is linear over the step, d(s) = d₀ + (s/h)(d₁ − d₀), the system is solved exactly, mode by
    mode: the mode obeys u_i' = D_i u_i + C_i d(s) + b_i, and its contribution to the asymmetries is
    ∫₀ʰ e^{(h−s)a} B_i u_i(s) ds. Both come from one exponential of the augmented generator (sizes 3, 8, 3, 3, 1)

        h K_i = [[h a, h B_i, 0,   0, 0  ],        acting on (x, u_i, v, Δ, 1),  v(s) = d(s), v' = Δ/h,
                 [0,   h D_i, h C_i, 0, h b_i],
                 [0,   0,     0,   I, 0  ],
                 [0,   0,     0,   0, 0  ],
                 [0,   0,     0,   0, 0  ]]

    whose exponential has the blocks [[E, X_i, Z_i, Z2_i, y_i], [0, P_i, Q_i, Q2_i, r_i], …]: u_i(h) = P_i u_i0 +
    Q_i d₀ + Q2_i (d₁ − d₀) + r_i and d(h) = E d₀ + Σ_i (X_i u_i0 + Z_i d₀ + Z2_i (d₁ − d₀) + y_i). Requiring d(h) = d₁
    is a 3 × 3 linear system for d₁ (collocation at the step's end). What the splitting approximates, this step does
    exactly: the oscillating mode source of the asymmetries is integrated over the step (the splitting's trapezoidal
    rule on ∫ B_i u_i ds was its dominant error, measured: 12 % in Y_L(10 GeV) with 821 steps at a point where a
    Crank–Nicolson treatment of the coupling and a fourth-order Magnus mode step were no better), and the modes follow
    a changing asymmetry (the linear d(s); a constant mid-step asymmetry needed placed extra steps where the
    coupling is stiff). Cost: one 18 × 18 exponential per mode (≈ 3× the splitting's 9 × 9 per step), at 10× its
    accuracy for equal cost (docs/resolved.md).
    """
    n = blocks.d_blocks.shape[0]
    k = jnp.zeros((n, 18, 18), dtype=blocks.d_blocks.dtype)
    k = k.at[:, :3, :3].set(jnp.broadcast_to(h * blocks.a, (n, 3, 3)))
    k = k.at[:, :3, 3:11].set(h * blocks.b_blocks).at[:, 3:11, 3:11].set(h * blocks.d_blocks)
    k = k.at[:, 3:11, 11:14].set(h * blocks.c_blocks).at[:, 3:11, 17].set(h * blocks.source)
    k = k.at[:, 11:14, 14:17].set(jnp.broadcast_to(jnp.eye(3, dtype=k.dtype), (n, 3, 3)))
    p = jax.vmap(expm)(k)
    e = p[0, :3, :3]  # e^{ha}, the same in every mode's exponential
    x, z, z2, y = p[:, :3, 3:11], p[:, :3, 11:14], p[:, :3, 14:17], p[:, :3, 17]
    z_sum, z2_sum = jnp.sum(z, axis=0), jnp.sum(z2, axis=0)
    rhs = e @ d + jnp.einsum("nij,nj->i", x, u) + (z_sum - z2_sum) @ d + jnp.sum(y, axis=0)
    d1 = _inverse3(jnp.eye(3, dtype=k.dtype) - z2_sum) @ rhs
    q, q2, r = p[:, 3:11, 11:14], p[:, 3:11, 14:17], p[:, 3:11, 17]
    u1 = (jnp.einsum("nij,nj->ni", p[:, 3:11, 3:11], u) + jnp.einsum("nij,j->ni", q - q2, d)
          + jnp.einsum("nij,j->ni", q2, d1) + r)
    return d1, u1


#: The step of each structured method.
STEPS = {"coupled": coupled_step, "split": split_step}


def coupling_stiffness(blocks: ModeBlocks):
    """κ = ‖a‖ + √‖Σ_i B_i C_i‖ (per unit z): the rates of the asymmetry–mode coupling that the splitting does not
    propagate exactly (the splitting error is small where h κ ≲ 1)."""
    e = jnp.einsum("nij,njk->ik", blocks.b_blocks, blocks.c_blocks)
    return jnp.max(jnp.sum(jnp.abs(blocks.a), axis=1)) + jnp.sqrt(jnp.max(jnp.sum(jnp.abs(e), axis=1)))


def refinement_nodes(system: ResolvedSystem, basis: GeneratorBasis, z0, z1, count: int, probes: int = 256):
    """``count`` extra nodes in [z0, z1] with density ∝ :func:`coupling_stiffness` (equidistribution of ∫κ dz, κ
    sampled at ``probes`` points and interpolated linearly): steps shrink where the coupling is stiff."""
    z = jnp.linspace(z0, z1, probes)
    kappa = jax.vmap(lambda zz: coupling_stiffness(mode_blocks(zz, system, basis)))(z)
    kappa = kappa + 1e-3 * jnp.max(kappa)  # keep the cumulative strictly increasing
    cumulative = jnp.concatenate([jnp.zeros(1), jnp.cumsum(0.5 * (kappa[1:] + kappa[:-1]) * jnp.diff(z))])
    targets = (jnp.arange(count) + 0.5) / count * cumulative[-1]
    # A grid is a choice, not a result: derivatives see nodes that move only with z0 and z1 (as the averaged placed
    # grid, lta_jax.solver.magnus.held_fixed). Moving with θ, nodes crossing output points made the discrete map
    # wiggle at the splitting's accuracy (≈ 6e-4 of Y_L), so that its exact derivative in M was 15 % off the
    # difference quotient over ΔM = 1e-4 and sign-unstable over 1e-3 (set (4.1), 6 + 5 modes; measured 2026-12-06).
    return held_fixed(jnp.interp(targets, cumulative, z), z0, z1)


def split_solve(system: ResolvedSystem, basis: GeneratorBasis, z_out, y0, substeps: int, refine: int = 0,
                step=split_step):
    """States at the increasing points ``z_out`` (the first is the initial point) by ``step`` (the splitting, or
    :func:`coupled_step`), with ``substeps``
    equal steps between consecutive points plus ``refine`` extra nodes placed where the coupling is stiff
    (:func:`refinement_nodes`). Returns (states (len(z_out), 8N + 3), all finite)."""
    n = system.n_modes
    fractions = jnp.arange(substeps) / substeps
    h_out = jnp.diff(z_out)
    z_left = (z_out[:-1, None] + fractions[None, :] * h_out[:, None]).reshape(-1)
    is_output = jnp.zeros(z_left.shape[0], dtype=bool).at[::substeps].set(True)
    if refine:
        z_left = jnp.concatenate([z_left, refinement_nodes(system, basis, z_out[0], z_out[-1], refine)])
        is_output = jnp.concatenate([is_output, jnp.zeros(refine, dtype=bool)])
    order = jnp.argsort(z_left, stable=True)
    z_left, is_output = z_left[order], is_output[order]
    z_right = jnp.concatenate([z_left[1:], z_out[-1:]])
    step_fn = step

    def advance(x, zz):
        z, z_next = zz
        step = z_next - z
        blocks = mode_blocks(z + 0.5 * step, system, basis)
        d, u = step_fn(blocks, step, x[:3], x[3:].reshape(n, 8))
        return jnp.concatenate([d, u.reshape(-1)]), x

    x_end, x_left = jax.lax.scan(advance, y0, (z_left, z_right))
    # The state at the left end of every output interval, in order, then the final state.
    index = jnp.nonzero(is_output, size=z_out.shape[0] - 1)[0]
    states = jnp.concatenate([x_left[index], x_end[None]])
    return states, jnp.all(jnp.isfinite(states))


def solve_resolved_arrays(system: ResolvedSystem, t_start, t_end, y0=None, options: ResolvedOptions = ResolvedOptions()):
    """Pure, traceable solve of the resolved equations from ``t_start`` to ``t_end`` [GeV]. Returns
    (:class:`lta_jax.solver.result.RawSolution` of the projected 11-vectors, resolved states at the n_save points)."""
    mass = system.params.mass
    t_start = jnp.asarray(t_start, dtype=float)
    t_end = jnp.asarray(t_end, dtype=float)
    if system.rates.expensive:
        # Per-mode table built inside the traced solve (batches over M, derivatives), as for the averaged equations.
        table = InterpolatedRates.build(system.rates, mass, t_end, t_start)
        system = eqx.tree_at(lambda s: s.kinetic.rates, system, table)
    z0, z1 = jnp.log(mass / t_start), jnp.log(mass / t_end)
    if y0 is None:
        y0 = initial_state(system, t_start)
    n = options.n_save
    z_main, z_sph, z_window, z_all, order, inverse = output_points(mass, z0, z1, n)
    basis = GeneratorBasis.build(system.kinetic)
    if options.method in STRUCTURED:
        # z_all[order][0] is z0 (the first uniform point), so the output grid starts at the initial state.
        refine = options.refinement_steps
        states, finite = split_solve(system, basis, z_all[order], y0, options.substeps, refine,
                                     STEPS[options.method])
        ys = states[inverse]
        steps = jnp.asarray(options.substeps * (z_all.shape[0] - 1) + refine)
        result = diffrax.RESULTS.where(finite, diffrax.RESULTS.successful, diffrax.RESULTS.internal_error)
        stats = (steps, steps, jnp.asarray(0))
    else:
        if options.method == "kvaerno5":
            term = diffrax.ODETerm(lambda z, x, s: resolved_rhs(z, x, s))
            args: Any = system
            solver = default_solver()
            controller = pid_controller(options.rtol, _dense_atol(system.n_modes))
        else:
            term = LinearODETerm(lambda z, x, a: resolved_rhs(z, x, a[0]),
                                 lambda z, a: dense_generator(z, a[0], a[1]))
            args = (system, basis)
            # Without local extrapolation: this path's accuracy record (docs/resolved.md) was measured so; the
            # extrapolated step and its larger dtmax were validated for the averaged equations only.
            solver = Magnus4(extrapolate=False)
            controller = pid_controller(options.rtol, _dense_atol(system.n_modes), dtmax=0.003)
        sol = diffrax.diffeqsolve(term, solver, t0=z0, t1=z1, dt0=(z1 - z0) / 1000, y0=y0, args=args,
                                  saveat=diffrax.SaveAt(ts=z_all[order]), stepsize_controller=controller,
                                  max_steps=options.max_steps, throw=False)
        ys = sol.ys[inverse]
        result = sol.result
        stats = (sol.stats["num_steps"], sol.stats["num_accepted_steps"], sol.stats["num_rejected_steps"])
    projected = project(ys)
    raw = RawSolution(z=z_main, states=projected[:n], z_sph=z_sph, state_sph=projected[n], z_window=z_window,
                      states_window=projected[n + 1:], result=result, num_steps=stats[0],
                      num_accepted_steps=stats[1], num_rejected_steps=stats[2])
    return raw, ys[:n]


def _dense_atol(n_modes: int):
    """Absolute tolerances of the dense solvers: the averaged ones (Kvaerno5 reference), per mode divided by N."""
    per_mode = np.array([1e-10, 1e-10, 1e-10, 1e-10, 1e-18, 1e-18, 1e-18, 1e-18]) / n_modes
    return jnp.asarray(np.concatenate([np.full(3, 1e-18), np.tile(per_mode, n_modes)]))


__all__ = ["ResolvedOptions", "METHODS", "STRUCTURED", "split_step", "coupled_step", "split_solve",
           "solve_resolved_arrays"]
