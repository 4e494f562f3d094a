"""Exponential (Magnus) integrator for linear ODEs, as a diffrax solver.

The averaged kinetic equations are affine in the state: dx/dz = A(z) x + b(z) (b is the S_eq source term, zero by
default). An explicit or implicit Runge–Kutta method must resolve every HNL oscillation, whose frequency over H grows
like T⁻³; an exponential integrator propagates the oscillation exactly through a matrix exponential, so its step
follows how fast A(z) *changes*, not how fast the solution oscillates.

Fourth-order Magnus method with two Gauss–Legendre nodes z₀ + c₁,₂h, c₁,₂ = ½ ∓ √3/6 (Blanes, Casas, Oteo, Ros,
Phys. Rep. 470 (2009) 151, eq. (4.52)):

    Ω₄ = (h/2)(A₁ + A₂) + (√3/12) h² [A₂, A₁],        x₁ = exp(Ω₄) x₀.

The inhomogeneous term is treated exactly by augmenting the state with a constant 1: the generator is
G = [[A, b], [0, 0]] (12 × 12 for the 11 equations). The error estimate for the PID controller is step doubling
(see :class:`Magnus4`), so the step adapts to the variation of A. The generators of a step are evaluated in one
``vmap`` call, so the rate physics is compiled once, not once per node. Fixed and node grids use the commutator-free
fourth-order step instead (:func:`step_propagator`), which stays stable on coarse grids.

Dense output (:class:`MagnusInterpolation`) is fourth order too: through the two Gauss nodes A(z₀ + τ) ≈ α + βτ, whose
Magnus expansion to fourth order is exactly Ω(τ) = ατ + βτ²/2 − (τ³/12)[α, β] (it reproduces Ω₄ at τ = h).

The vector field must be affine in a 1-D state; A is obtained by forward-mode differentiation of the vector field
(``jax.jacfwd``), b as its value at x = 0, so any affine right-hand side works unchanged.
"""

from __future__ import annotations

import math
from typing import Callable, ClassVar

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from lta_jax.solver.compat import AbstractLocalInterpolation, WrapTerm

_C1 = 0.5 - math.sqrt(3) / 6
_C2 = 0.5 + math.sqrt(3) / 6
#: Squarings allowed in the scaling-and-squaring exponential: ‖Ω‖₁ up to 5.4 × 2³² before it reports NaN.
MAX_SQUARINGS = 32
#: Taylor coefficients 1/k! (k = 0…18) and the norm bound θ₁₈ below which the degree-18 Taylor polynomial has a
#: backward error below double-precision round-off (Bader, Blanes & Casas, "Computing the matrix exponential with an
#: optimized Taylor polynomial approximation", Mathematics 7 (2019) 1174, Table 1).
_TAYLOR18 = tuple(1.0 / math.factorial(k) for k in range(19))
_THETA18 = 1.090863719290036

def _expm_taylor18(matrix: Float[Array, "n n"]) -> Float[Array, "n n"]:
    """The exponential itself (see :func:`expm`): degree-18 Taylor, Paterson–Stockmeyer, squarings in a loop."""
    c = _TAYLOR18
    norm = jnp.max(jnp.sum(jnp.abs(matrix), axis=-2))
    needed = jnp.ceil(jnp.log2(jnp.maximum(norm, 1e-300) / _THETA18))
    squarings = jnp.clip(needed, 0, MAX_SQUARINGS).astype(jnp.int32)
    a = matrix * jnp.exp2(-squarings.astype(matrix.dtype))
    identity = jnp.eye(matrix.shape[-1], dtype=matrix.dtype)
    powers = [identity, a]
    for _ in range(5):
        powers.append(powers[-1] @ a)
    a6 = powers[5] @ a

    def block(j):  # Σ_{k=0}^{5} c_{6j+k} A^k
        return sum(c[6 * j + k] * powers[k] for k in range(6))

    result = (c[18] * a6 + block(2)) @ a6 + block(1)
    result = result @ a6 + block(0)
    result = jax.lax.fori_loop(0, squarings, lambda _, x: x @ x, result)
    return jnp.where(jnp.isfinite(norm) & (needed <= MAX_SQUARINGS), result, jnp.nan)


def frechet_derivative(matrix, direction):
    """L(A, E) = d/dε exp(A + εE) at ε = 0: forward-mode differentiation of the scaling-and-squaring recursion (the
    loop carries X_j and its tangent, X_{j+1} = X_j², dX_{j+1} = dX_j X_j + X_j dX_j; cost ≈ 3 exponentials' worth of
    products, fewer under ``vmap`` over directions, where the primal part is shared)."""
    return jax.jvp(_expm_taylor18, (matrix,), (direction,))[1]


@jax.custom_jvp
def expm(matrix: Float[Array, "n n"]) -> Float[Array, "n n"]:
    """Matrix exponential: degree-18 Taylor polynomial with scaling and squaring (Bader, Blanes & Casas 2019).

    e^A = (T₁₈(A/2^s))^(2^s) with s the smallest integer for which ‖A/2^s‖₁ ≤ θ₁₈; T₁₈ is evaluated by the
    Paterson–Stockmeyer scheme in powers A…A⁶ (8 matrix products). Two choices differ from ``jax.scipy.linalg.expm``
    (Padé-13 + a linear solve), both measured (docs/numerics.md):

    * the squarings run in a loop whose trip count is the s the matrix needs (a ``fori_loop`` with a traced bound),
      not a scan over all 32 allowed squarings with a ``cond`` inside, which under ``vmap`` becomes a ``select`` that
      computes every branch (32 squarings and all five Padé degrees for every matrix): 75 → 15 µs per vmapped 12 × 12
      matrix, compilation 15.7 → 2.3 s;
    * matrix products only, no linear solve. Under ``vmap`` on CPU a batched ``solve`` becomes LAPACK calls
      (getrf/trsm) that split the batch over XLA's intra-op thread pool and block on it; two of them running at once
      on a 2-thread pool each held a thread waiting for work queued behind the other, and vmapped batches with
      computed rates deadlocked (jaxlib 0.10.2; gdb showed both pool threads in ``ParallelBatchMap``). Taylor-18 also
      measured faster than Padé-13 with LAPACK (single 12 × 12: 136 vs 153 µs; vmapped: 6.8 vs 7.1 µs per matrix;
      compile 0.47 vs 0.66 s) at the same accuracy (≤ 2e-11 relative to SciPy up to ‖A‖ = 1e4).

    Derivatives, forward and reverse (docs/numerics.md, "Reverse mode"): a loop with a traced trip count can be
    differentiated forwards but not transposed, so the derivative is defined here: the tangent of e^A in direction E
    is the Fréchet derivative L(A, E) (:func:`frechet_derivative`), and its transpose — what reverse mode needs — is
    L(A, ·)ᵀ = L(Aᵀ, ·) (for the trace inner product, since e^{Aᵀ} = (e^A)ᵀ). ``lax.custom_linear_solve`` carries that
    pair (its "solve" is L(A, ·), its "transpose solve" L(Aᵀ, ·); both are matrix products only), so ``jax.jvp``,
    ``jax.vjp``, ``jax.grad`` and ``vmap`` of them all work, to round-off of ``jax.scipy.linalg.expm``'s derivatives.
    A reverse pass through one exponential costs about three forward ones. Second derivatives are not supported
    (:class:`SecondDerivativeError`, raised at tracing). NaN beyond ``MAX_SQUARINGS`` or for non-finite input.
    """
    return _expm_taylor18(matrix)


@jax.custom_jvp
def _first_derivative_only(matrix):
    """The identity; differentiating it raises :class:`SecondDerivativeError`. :func:`expm`'s derivative rule passes its
    primal through it, so that a second derivative (``jax.hessian``, ``jax.grad`` of ``jax.grad``, …) stops with that
    clear message at tracing instead of a JAX error from inside ``lax.custom_linear_solve``.

    Not where the exponential sits inside ``lax.scan``/``lax.map`` (the fixed and node grids): when JAX linearises a
    loop body it evaluates custom rules' primal parts inline, so the guard is gone and the outer derivative treats
    L(A, ·) as independent of A — ``jax.hessian`` of a fixed-grid map then returns wrong numbers without an error
    (measured 2026-12-06: entries off by up to 200 % against central differences of the gradient; docs/numerics.md).
    Second derivatives are not supported on any path; the observable maps refuse them at entry
    (:func:`first_order_only`)."""
    return matrix


class SecondDerivativeError(NotImplementedError):
    """A second derivative was requested through :func:`expm`."""


@jax.custom_jvp
def first_order_only(x):
    """The identity, differentiable once: its derivative rule passes the tangent through and the primal through
    :func:`_first_derivative_only`, so that differentiating it twice raises :class:`SecondDerivativeError`. The
    observable maps apply it to θ on entry: called at top level (where JAX keeps custom rules), it refuses a second
    derivative before it reaches exponentials inside loops, where the guard of :func:`expm` is evaluated inline."""
    return x


@first_order_only.defjvp
def _first_order_only_jvp(primals, tangents):
    return _first_derivative_only(primals[0]), tangents[0]


@_first_derivative_only.defjvp
def _first_derivative_only_jvp(primals, tangents):
    raise SecondDerivativeError(
        "second derivatives (jax.hessian, jax.grad of jax.grad, jax.jacfwd of jax.jacrev, ...) through the solver are "
        "not supported: the matrix exponential's derivative rule (lta_jax.solver.magnus.expm) is first order only. "
        "Differentiate the gradient by central differences (lta_jax.solver.gradients.central_differences) instead.")


@expm.defjvp
def _expm_jvp(primals, tangents):
    (matrix,), (direction,) = primals, tangents
    matrix = _first_derivative_only(matrix)
    # The identity "matvec" is never used: custom_linear_solve is here only to declare the linear map and its transpose.
    tangent = jax.lax.custom_linear_solve(lambda x: x, direction,
                                          solve=lambda _, e: frechet_derivative(matrix, e),
                                          transpose_solve=lambda _, g: frechet_derivative(matrix.T, g))
    return _expm_taylor18(matrix), tangent


def affine_generator(vector_field, t, args, n: int) -> Float[Array, "n+1 n+1"]:
    """G(t) = [[A, b], [0, 0]] for an affine vector field f(t, x) = A(t) x + b(t) of a 1-D state of size n."""
    zero = jnp.zeros(n)

    def f(x):
        return vector_field(t, x, args)

    b, a = f(zero), jax.jacfwd(f)(zero)
    top = jnp.concatenate([a, b[:, None]], axis=1)
    return jnp.concatenate([top, jnp.zeros((1, n + 1), dtype=top.dtype)], axis=0)


class LinearODETerm(diffrax.ODETerm):
    """An ``ODETerm`` of an affine system that also supplies its generator G(t) = [[A, b], [0, 0]] directly; the Magnus
    solvers use it instead of differentiating the vector field (any other solver just sees the vector field)."""

    generator_fn: Callable

    def generator(self, t, args):
        return self.generator_fn(t, args)


def _generator(terms, t, args, n):
    """The generator of the terms a diffrax solver receives. diffeqsolve wraps the user's term in a ``WrapTerm`` (time
    direction ±1: it integrates in τ = ±t, so dx/dτ = ±f(±τ, x)); unwrap it, so that a :class:`LinearODETerm` supplies
    its generator directly. (Before this was unwrapped, every adaptive step differentiated the vector field at its six
    nodes instead: the same generator to round-off, 2× the cost per step and 1 s more tracing, docs/numerics.md.)"""
    direction = 1
    if isinstance(terms, WrapTerm):
        terms, direction = terms.term, terms.direction
    if isinstance(terms, LinearODETerm):
        generator = terms.generator(t * direction, args)
    else:
        generator = affine_generator(terms.vf, t * direction, args, n)
    return direction * generator


def _commutator(a, b):
    return a @ b - b @ a


def magnus_exponent(g1, g2, h):
    """Ω₄ of one step of length h from the generators at the two Gauss nodes."""
    return 0.5 * h * (g1 + g2) + (math.sqrt(3) / 12) * h**2 * _commutator(g2, g1)


#: Weights of the fourth-order commutator-free Magnus step (Blanes & Moan, Appl. Numer. Math. 56 (2006) 1519, "CF4" with
#: two exponentials): exp(h(β G₁ + α G₂)) exp(h(α G₁ + β G₂)), G₁, G₂ at the Gauss nodes.
_CF_ALPHA = 0.25 + math.sqrt(3) / 6
_CF_BETA = 0.25 - math.sqrt(3) / 6


def step_propagator(g1, g2, h):
    """Propagator of one fixed-grid step: the fourth-order commutator-free Magnus method (two exponentials).

    Used on fixed grids instead of the one-exponential Magnus4 step exp(h/2 (G₁+G₂) + √3/12 h² [G₂, G₁]) because the
    commutator term is not damped: with the large steps of a coarse grid and fast HNL oscillations it added growing
    modes (large-LTA box at M = 1 GeV, 10³ → 10 GeV: 100 and 200 uniform steps blew up to 1e74 and 1e32; 400 steps
    were 3.7e-3 off). Each commutator-free exponent is a weighted mean of the generators, so a damped system stays
    damped: the same points gave 4.9e-3 (100 steps), 5.5e-4 (200), 1.4e-4 (400) and 7e-6 (800) relative to an
    adaptive rtol-1e-8 solve (docs/numerics.md). Costs two exponentials instead of one.
    """
    first = expm(h * (_CF_ALPHA * g1 + _CF_BETA * g2))
    second = expm(h * (_CF_BETA * g1 + _CF_ALPHA * g2))
    return second @ first


#: Contiguous groups in which a grid's step exponentials are computed (:func:`grid_propagators`).
PROPAGATOR_GROUPS = 4


def grid_propagators(g1, g2, h):
    """:func:`step_propagator` of every step of a grid (generators at the Gauss nodes (N, m, m), step lengths scalar
    or (N,)), vmapped in :data:`PROPAGATOR_GROUPS` contiguous groups of steps.

    Why groups: under ``vmap`` the squaring loop of :func:`expm` runs, for every matrix of the batch, as many times as
    the batch's largest matrix needs (finished matrices are carried along by a ``select``). ‖hA‖ grows by five
    orders of magnitude from the start of a run (no squaring) to its end (about ten), so one batch pays ten squarings
    for every step; contiguous groups pay only their own. Same results to round-off (1e-14); the 800 steps of the Fig.-18 run
    to 5 GeV (2-core CPU, fastest of 15 calls): 7.8–8.2 ms in one batch, 5.2–5.7 ms in 4 groups (8 groups: no better).
    """
    n = g1.shape[0]
    h = jnp.broadcast_to(jnp.asarray(h, dtype=g1.dtype), (n,))
    groups = min(PROPAGATOR_GROUPS, n)
    size = -(-n // groups)
    pad = groups * size - n  # repeat the last step to fill the last group (its result is dropped)

    def grouped(x):
        x = jnp.concatenate([x, jnp.repeat(x[-1:], pad, axis=0)]) if pad else x
        return x.reshape((groups, size) + x.shape[1:])

    # lax.map runs the groups one after another through one compiled body (a Python loop of vmaps compiled the
    # exponential once per group: 0.7 → 1.7 s for 800 steps).
    out = jax.lax.map(lambda a: jax.vmap(step_propagator)(*a), (grouped(g1), grouped(g2), grouped(h)))
    return out.reshape((groups * size,) + out.shape[2:])[:n]


def _augment(y):
    return jnp.concatenate([y, jnp.ones((1,), dtype=y.dtype)])


class MagnusInterpolation(AbstractLocalInterpolation):
    """Fourth-order dense output inside one Magnus step: x(t₀ + τ) = exp(ατ + βτ²/2 − τ³/12 [α, β]) x₀, plus
    (τ/h)·``end_correction`` so that it ends on the step's returned state (the extrapolated one of :class:`Magnus4`)."""

    t0: Float[Array, ""]
    t1: Float[Array, ""]
    y0: Float[Array, " n"]
    alpha: Float[Array, "m m"]
    beta: Float[Array, "m m"]
    end_correction: Float[Array, " n"]

    def _at(self, t):
        tau = t - self.t0
        omega = self.alpha * tau + 0.5 * self.beta * tau**2 - (tau**3 / 12) * _commutator(self.alpha, self.beta)
        fraction = tau / jnp.where(self.t1 > self.t0, self.t1 - self.t0, 1.0)
        return (expm(omega) @ _augment(self.y0))[:-1] + fraction * self.end_correction

    def evaluate(self, t0, t1=None, left: bool = True):
        del left
        if t1 is None:
            return self._at(t0)
        return self._at(t1) - self._at(t0)


class Magnus4(diffrax.AbstractSolver):
    """Fourth-order Magnus integrator for affine ODEs dx/dt = A(t) x + b(t) (two Gauss nodes, one exponential).

    Error estimate (``error_estimate=True``, for ``diffrax.PIDController``): step doubling. The step is also taken as
    two half steps and err = (x_half − x_full)/(2⁴ − 1), the leading local error of x_full. With ``extrapolate=True``
    (default) the step returns the Richardson-extrapolated x_half + (x_half − x_full)/15 = x_full + 16 err (local
    extrapolation, as in Dormand–Prince: the controller bounds the error of x_full, the solution carries the better
    value), and the dense output is shifted linearly so that it ends there. Measured against Kvaerno5 (64 Sobol points
    of the large-LTA box × 6 (M, hierarchy) cases + the named points, docs/numerics.md): the end values 10–50× closer
    at the same steps, which lets ``dtmax`` double (0.003 → 0.006, 35–45 % fewer steps) with every observable still
    ≤ 6e-5 off. An embedded lower-order estimate does not work here: the difference to the
    second-order exponential midpoint rule is the commutator term itself, large wherever the HNLs oscillate fast, and
    it drove the controller to ~50× more steps than the fourth-order method needs (measured); sixth-order Magnus
    with an embedded fourth-order estimate (tried, removed) is unstable at the phases per step involved (its
    nested commutators grow like (hω)²). With ``error_estimate=False`` (``diffrax.ConstantStepSize``) a step costs
    two Jacobian evaluations and one 12 × 12 exponential; with it, six and three. The package's own fixed and node
    grids (``SolverOptions.fixed_grid``) do not step through this class: they use :func:`fixed_grid_solve` and
    :func:`node_states` with the commutator-free step (:func:`step_propagator`), which stays stable on coarse grids.
    The state must be a 1-D array.
    """

    error_estimate: bool = eqx.field(static=True, default=True)
    extrapolate: bool = eqx.field(static=True, default=True)

    term_structure: ClassVar = diffrax.AbstractTerm
    interpolation_cls: ClassVar = MagnusInterpolation

    def order(self, terms):
        return 4

    def error_order(self, terms):
        return 5

    def init(self, terms, t0, t1, y0, args):
        return None

    def step(self, terms, t0, t1, y0, args, solver_state, made_jump):
        del solver_state, made_jump
        n = y0.shape[0]
        h = t1 - t0
        half = 0.5 * h
        nodes = [t0 + _C1 * h, t0 + _C2 * h]
        if self.error_estimate:  # the two half steps' Gauss nodes
            nodes += [t0 + _C1 * half, t0 + _C2 * half, t0 + half + _C1 * half, t0 + half + _C2 * half]
        # One vmapped evaluation of all generators: the rate physics is traced and compiled once per step, not once
        # per node (compile time of an adaptive solve 27 s → see docs/numerics.md).
        gs = jax.vmap(lambda t: _generator(terms, t, args, n))(jnp.stack(nodes))
        g1, g2 = gs[0], gs[1]
        y_aug = _augment(y0)
        if self.error_estimate:
            omegas = jnp.stack([magnus_exponent(g1, g2, h), magnus_exponent(gs[2], gs[3], half),
                                magnus_exponent(gs[4], gs[5], half)])
            full, first, second = jax.vmap(expm)(omegas)
            y1 = (full @ y_aug)[:-1]
            y_half = second @ (first @ y_aug)
            y_error = (y_half[:-1] - y1) / 15.0
        else:
            y1 = (expm(magnus_exponent(g1, g2, h)) @ y_aug)[:-1]
            y_error = None
        correction = 16.0 * y_error if (self.error_estimate and self.extrapolate) else jnp.zeros_like(y1)
        beta = (g2 - g1) / ((_C2 - _C1) * h)
        alpha = g1 - beta * (_C1 * h)
        dense_info = dict(y0=y0, alpha=alpha, beta=beta, end_correction=correction)
        y1 = y1 + correction
        result = diffrax.RESULTS.where(jnp.all(jnp.isfinite(y1)), diffrax.RESULTS.successful,
                                       diffrax.RESULTS.internal_error)
        return y1, y_error, dense_info, None, result

    def func(self, terms, t0, y0, args):
        return terms.vf(t0, y0, args)


def _grid_steps(generator, args, z_nodes):
    """Generators at the two Gauss nodes of every interval of ``z_nodes`` and the intervals' step propagators:
    (g1, g2, propagators, left ends, lengths)."""
    left, h = z_nodes[:-1], jnp.diff(z_nodes)
    g1 = jax.vmap(lambda z, dz: generator(z + _C1 * dz, args))(left, h)
    g2 = jax.vmap(lambda z, dz: generator(z + _C2 * dz, args))(left, h)
    return g1, g2, grid_propagators(g1, g2, h), left, h


def _chain(propagators, y_aug):
    """Apply the propagators in turn to the augmented state: (the final state, the state at the left end of every
    step)."""
    return jax.lax.scan(lambda y, propagator: (propagator @ y, y), y_aug, propagators)


def node_states(generator, args, z_nodes, y0):
    """Fourth-order commutator-free Magnus (:func:`step_propagator`) through the given nodes z_0 < z_1 < … < z_N
    (any spacing, one step per interval; the interval propagators are computed at once with ``vmap`` and chained by a
    scan). Returns the states at all N + 1 nodes,
    shape (N + 1, n): no dense output, so it is the cheapest path when the observables sit on nodes (gradients,
    optimisation: T_sph and T_end are nodes). Forward-mode differentiable, also in the nodes (see :func:`expm`).
    """
    propagators = _grid_steps(generator, args, z_nodes)[2]
    final, lefts = _chain(propagators, _augment(y0))
    return jnp.concatenate([lefts, final[None]])[:, :-1]


#: Least node density of a placed grid, relative to the uniform one: no step longer than 4 uniform steps, however small
#: the pilot's error estimate (a coarse pilot can miss a feature inside one of its intervals).
MIN_RELATIVE_DENSITY = 0.25


def error_density(generator, args, z0, z1, y0, pilot: int):
    """Where a grid needs its nodes: step doubling of the commutator-free step (:func:`step_propagator`) on ``pilot``
    uniform intervals of [z0, z1] (one vmapped batch, as a fixed grid; 6 exponentials per interval).

    The local error of a fourth-order step is e ≈ C(z) h⁵, so a grid whose steps equidistribute it has node density
    ∝ C(z)^{1/5}. Returns (edges of the pilot intervals (pilot + 1,), density per interval (pilot,), normalised to mean
    1 and bounded below by :data:`MIN_RELATIVE_DENSITY`). The error of each interval is measured on the pilot's own
    trajectory (two half steps per interval), component by component, and its largest component counts; the density
    is the mean of two: errors relative to the magnitude each component has reached so far, and relative to its
    largest magnitude over the run (measured: either alone left Y_B or the late asymmetries under-resolved,
    docs/numerics.md). No gradient flows through it (a grid is a choice, not a result).
    """
    edges = jnp.linspace(z0, z1, pilot + 1)
    left, h = edges[:-1], jnp.diff(edges)
    fractions = jnp.array([_C1, _C2, 0.5 * _C1, 0.5 * _C2, 0.5 + 0.5 * _C1, 0.5 + 0.5 * _C2])
    gs = jax.vmap(lambda z, dz: jax.vmap(lambda f: generator(z + f * dz, args))(fractions))(left, h)
    full = grid_propagators(gs[:, 0], gs[:, 1], h)
    halves = jnp.einsum("kij,kjl->kil", grid_propagators(gs[:, 4], gs[:, 5], 0.5 * h),
                        grid_propagators(gs[:, 2], gs[:, 3], 0.5 * h))

    final, starts = _chain(halves, _augment(y0))  # the pilot's state at the start of each interval
    error = jnp.einsum("kij,kj->ki", halves - full, starts)[:, :-1]
    ends = jnp.concatenate([starts[1:, :-1], final[None, :-1]])
    magnitude = jnp.maximum(jnp.abs(starts[:, :-1]), jnp.abs(ends))
    reached = jax.lax.cummax(magnitude, axis=0)  # each component's largest magnitude so far
    overall = reached[-1]

    def density_for(scale):  # ∝ (relative local error)^{1/5}, mean 1
        relative = jnp.abs(error) / jnp.where(scale > 0, scale, 1.0)
        d = jnp.max(relative, axis=1) ** 0.2
        return d / jnp.maximum(jnp.mean(d), 1e-300)

    # Two scales, nodes for both: errors relative to what each component has reached so far (the small asymmetry at
    # T_sph that sets Y_B) and relative to its largest magnitude over the run (what dominates late observables).
    density = 0.5 * (density_for(jnp.maximum(reached, 1e-6 * overall)) + density_for(overall))
    density = jnp.where(jnp.isfinite(density), jnp.maximum(density, MIN_RELATIVE_DENSITY), 1.0)
    return jax.lax.stop_gradient(edges), jax.lax.stop_gradient(density)


def placed_nodes(edges, density, a, b, steps: int):
    """``steps + 1`` nodes from a to b (inside the pilot's edges) that equidistribute a piecewise-constant density:
    node k sits where the density's integral from a reaches k/steps of its integral over [a, b]. a and b are exact."""
    cumulative = jnp.concatenate([jnp.zeros(1, dtype=density.dtype), jnp.cumsum(density * jnp.diff(edges))])
    targets = jnp.linspace(jnp.interp(a, edges, cumulative), jnp.interp(b, edges, cumulative), steps + 1)
    inner = jnp.interp(targets[1:-1], cumulative, edges)
    return jnp.concatenate([jnp.reshape(a, (1,)), inner, jnp.reshape(b, (1,))])


def held_fixed(nodes, z0, z1):
    """Nodes as z0 + (z1 − z0) s with the fractions s held constant under differentiation: derivatives see a fixed
    grid whose ends move with z0 and z1, as with uniform nodes."""
    return z0 + (z1 - z0) * jax.lax.stop_gradient((nodes - z0) / (z1 - z0))


def grid_nodes(generator, args, z0, z1, y0, steps: int, pilot: int | None):
    """The nodes of a fixed grid of ``steps`` steps from z0 to z1: uniform (``pilot=None``) or placed by
    :func:`error_density` on ``pilot`` intervals (:func:`held_fixed`)."""
    if pilot is None:
        return jnp.linspace(z0, z1, steps + 1)
    edges, density = error_density(generator, args, z0, z1, y0, pilot)
    return held_fixed(placed_nodes(edges, density, z0, z1, steps), z0, z1)


def aligned_steps(steps: int, n_save: int) -> int:
    """The number of uniform steps nearest to ``steps`` (at least one per saved interval) that puts all ``n_save``
    points of ``linspace(z0, z1, n_save)`` on nodes: a multiple of n_save − 1. A saved point on a node costs nothing,
    one between nodes costs a dense-output step (two exponentials, as much as a grid step), so aligning never costs
    more than it saves: 800 steps with 1000 saved points become 999 steps and no dense output (docs/numerics.md)."""
    intervals = max(n_save - 1, 1)
    return intervals * max(1, round(steps / intervals))


def fixed_grid_solve(generator, args, z0, z1, y0, steps: int, save_z, pilot: int | None = None,
                     on_nodes: int = 0):
    """Fourth-order commutator-free Magnus (:func:`step_propagator`) on ``steps`` steps without diffrax's loop: all
    step propagators are computed at once (``vmap``), chained by a scan of matrix–vector products, and the state at
    each ``save_z`` is the same kind of step taken from the left end of its interval (generators from their linear
    interpolant in the interval). Identical work for every parameter point, so ``vmap`` over points pays.

    The nodes are uniform in z, or (``pilot`` = number of pilot intervals) placed where the local error is
    (:func:`grid_nodes`). ``on_nodes = k`` (uniform nodes only, ``steps`` a multiple of k − 1, see
    :func:`aligned_steps`): the first k entries of ``save_z`` are ``linspace(z0, z1, k)``, every (steps/(k−1))-th node,
    and are read off the chain instead of being computed by dense output. ``generator(z, args)`` returns the
    (n+1) × (n+1) affine generator. Returns (states at save_z, all finite).
    """
    if on_nodes and (pilot is not None or steps % max(on_nodes - 1, 1)):
        raise ValueError(f"on_nodes = {on_nodes} needs uniform nodes and steps ({steps}) a multiple of "
                         f"{max(on_nodes - 1, 1)}")
    nodes_z = grid_nodes(generator, args, z0, z1, y0, steps, pilot)
    g1, g2, propagators, z_left, h = _grid_steps(generator, args, nodes_z)
    final, nodes = _chain(propagators, _augment(y0))  # state at the left end of every step
    on_grid = jnp.concatenate([nodes, final[None]])[::steps // max(on_nodes - 1, 1)][:on_nodes, :-1]
    save_z = save_z[on_nodes:]
    if save_z.shape[0] == 0:
        return on_grid, jnp.all(jnp.isfinite(on_grid))
    beta = (g2 - g1) / ((_C2 - _C1) * h)[:, None, None]
    alpha = g1 - beta * (_C1 * h)[:, None, None]
    index = jnp.clip(jnp.searchsorted(nodes_z, save_z, side="right") - 1, 0, steps - 1)
    tau = save_z - z_left[index]

    def dense(k, t):  # the same commutator-free step over [z_k, z_k + t], generators from their linear interpolant
        a, b = alpha[k], beta[k]
        return (step_propagator(a + b * (_C1 * t), a + b * (_C2 * t), t) @ nodes[k])[:-1]

    # lax.map in batches (bounded memory). A plain vmap over ~1000 save points once stalled XLA on the CPU; that was
    # the LAPACK deadlock of the former Padé exponential (see expm), kept in batches since.
    states = jax.lax.map(lambda kt: dense(*kt), (index, tau), batch_size=256)
    states = jnp.concatenate([on_grid, states])
    return states, jnp.all(jnp.isfinite(states))
