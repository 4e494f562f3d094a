"""Any rate model tabulated once per mass: cubic Hermite interpolation in ln T, first-order Taylor in M.

The seven coefficients depend on (T, M) only, while a solve evaluates them at every stage of every step (six times a
step for the Magnus integrator with step doubling). The computed model costs ~0.2–0.4 ms an evaluation on the CPU,
so :class:`InterpolatedRates` evaluates it once on a grid in ln T (values and exact d/d ln T by forward-mode
differentiation) and interpolates with cubic Hermite polynomials: C¹, fourth-order accurate, a few µs an evaluation.

The grid is uniform in the warped coordinate u = ln T + a w tanh((ln T − ln T_c)/w) (:func:`warp`; T_c = 150 GeV,
w = 0.15, a = 3): nodes are 4× denser through the electroweak crossover (≈ 130–175 GeV), where v(T) switches on and
the coefficients change fastest, and 1.16× sparser elsewhere (5–1439 GeV, 512 nodes). Why: Y_B is fixed at T_sph and
can be a near-cancellation; at such a point (NH, M = 10 GeV, |Y_B| 50× below the box median) a uniform 512-node table
(coefficients up to 4.6e-4 of their local scale off direct evaluation at 110–170 GeV; warped: 3.6e-6) moved Y_B
by 1.1e-3 against Kvaerno5 with direct rates; 1024 uniform nodes: 6e-5; 2048: 4e-7 but at 4× the build cost; the
warped 512-node table: 1.1e-6 (tests/test_magnus.py).

Derivatives with respect to M keep flowing: the table also stores ∂/∂M at the table's mass M₀ and returns
c(T, M₀) + (M − M₀) ∂c/∂M(T, M₀), exact in value at M = M₀ and in ∂/∂M up to the linear interpolation of the slopes
(≤ 5e-4 measured; the solver always builds the table at the point's own mass). When the table is built inside a traced
function (batches over M, Jacobians), M₀ is the traced mass and the whole table carries its derivative.

Interpolation error against direct evaluation: ``docs/validation.md`` and ``tests/test_magnus.py``.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from lta_jax.cache import cached_arrays, content_digest, remembered
from lta_jax.rates.base import RateCoefficients, RateModel

#: Nodes of the table (fixed, so the table's shape does not depend on the temperature range).
DEFAULT_NODES = 512
#: The table extends this far beyond the requested range on both sides (in ln T).
PAD = 0.05
#: Centre [GeV], half-width (in ln T) and amplitude of the node-density bump of :func:`warp` (density 1 + a at T_c).
WARP_CENTRE, WARP_WIDTH, WARP_AMPLITUDE = 150.0, 0.15, 3.0


def warp(ln_t):
    """u(ln T) = ln T + a w tanh((ln T − ln T_c)/w): the coordinate in which the table's nodes are uniform."""
    return ln_t + WARP_AMPLITUDE * WARP_WIDTH * jnp.tanh((ln_t - math.log(WARP_CENTRE)) / WARP_WIDTH)


def warp_slope(ln_t):
    """du/d ln T = 1 + a sech²((ln T − ln T_c)/w) ∈ [1, 1 + a]."""
    return 1 + WARP_AMPLITUDE / jnp.cosh((ln_t - math.log(WARP_CENTRE)) / WARP_WIDTH) ** 2


def unwarp(u):
    """ln T with warp(ln T) = u: bisection on |u − ln T| ≤ a w (u is monotone), then two Newton steps, which also
    give the exact derivative d ln T/du = 1/warp_slope."""
    half = WARP_AMPLITUDE * WARP_WIDTH
    lo, hi = u - half, u + half

    def bisect(_, bracket):
        lo, hi = bracket
        mid = 0.5 * (lo + hi)
        above = warp(mid) > u
        return jnp.where(above, lo, mid), jnp.where(above, mid, hi)

    lo, hi = jax.lax.fori_loop(0, 60, bisect, (lo, hi))
    x = jax.lax.stop_gradient(0.5 * (lo + hi))
    for _ in range(2):
        x = x - (warp(x) - u) / warp_slope(x)
    return x


def _stack(rates: RateModel, ln_t, mass):
    return jnp.stack(list(rates(jnp.exp(ln_t), mass)))


class InterpolatedRates(RateModel):
    """Tabulated version of ``base`` at mass ``mass`` on nodes uniform in u = :func:`warp` (ln T) from ``u0`` in steps
    of ``d_u`` (see module)."""

    base: RateModel
    mass: Float[Array, ""]
    u0: Float[Array, ""]
    d_u: Float[Array, ""]
    values: Float[Array, "n 7"]
    slopes: Float[Array, "n 7"]  # d/du
    mass_slopes: Float[Array, "n 7"]  # ∂/∂M at self.mass

    @staticmethod
    def build(base: RateModel, mass, t_low, t_high, nodes: int = DEFAULT_NODES) -> "InterpolatedRates":
        """Tabulate ``base`` at ``mass`` between ``t_low`` and ``t_high`` [GeV] (traceable in all three)."""
        mass = jnp.asarray(mass, dtype=float)
        u_lo = warp(jnp.log(jnp.asarray(t_low, dtype=float)) - PAD)
        u_hi = warp(jnp.log(jnp.asarray(t_high, dtype=float)) + PAD)
        ln_t = unwarp(jnp.linspace(u_lo, u_hi, nodes))

        def node(lt):
            values, slopes = jax.jvp(lambda x: _stack(base, x, mass), (lt,), (jnp.ones_like(lt),))
            _, mass_slopes = jax.jvp(lambda m: _stack(base, lt, m), (mass,), (jnp.ones_like(mass),))
            return values, slopes / warp_slope(lt), mass_slopes

        values, slopes, mass_slopes = jax.vmap(node)(ln_t)
        return InterpolatedRates(base, mass, u_lo, (u_hi - u_lo) / (nodes - 1), values, slopes, mass_slopes)

    def __call__(self, temperature, mass):
        n = self.values.shape[0]
        x = (warp(jnp.log(temperature)) - self.u0) / self.d_u
        i = jnp.clip(jnp.floor(x), 0, n - 2).astype(int)
        u = x - i
        h = self.d_u
        # Cubic Hermite basis on [node i, node i+1].
        h00 = (1 + 2 * u) * (1 - u) ** 2
        h10 = u * (1 - u) ** 2
        h01 = u**2 * (3 - 2 * u)
        h11 = u**2 * (u - 1)
        value = (h00 * self.values[i] + h10 * h * self.slopes[i] + h01 * self.values[i + 1]
                 + h11 * h * self.slopes[i + 1])
        dm = (1 - u) * self.mass_slopes[i] + u * self.mass_slopes[i + 1]
        value = value + (jnp.asarray(mass) - self.mass) * dm
        return RateCoefficients(*value)

    def check_range(self, t_low, t_high, mass):
        self.base.check_range(t_low, t_high, mass)
        # Compared in u (warp is monotone): no inversion unless the range is refused.
        u_lo, u_hi = float(self.u0), float(self.u0 + (self.values.shape[0] - 1) * self.d_u)
        if float(warp(math.log(t_low))) < u_lo - 1e-9 or float(warp(math.log(t_high))) > u_hi + 1e-9:
            lo, hi = float(unwarp(u_lo)), float(unwarp(u_hi))
            raise ValueError(f"temperatures {t_low:g}–{t_high:g} GeV are outside this rate table "
                             f"({math.exp(lo):g}–{math.exp(hi):g} GeV); rebuild it for the range")

    @property
    def description(self) -> str:
        return self.base.description


_build_jit = eqx.filter_jit(InterpolatedRates.build)


def tabulate(base: RateModel, mass, t_low, t_high, nodes: int = DEFAULT_NODES) -> InterpolatedRates:
    """Compiled :meth:`InterpolatedRates.build` (returns ``base`` unchanged if it is already a table)."""
    if isinstance(base, InterpolatedRates):
        return base
    return _build_jit(base, jnp.asarray(mass, dtype=float), jnp.asarray(t_low, dtype=float),
                      jnp.asarray(t_high, dtype=float), nodes)


#: The arrays of a rate table (:class:`lta_jax.rates.interpolated.InterpolatedRates` without its base model).
_TABLE_FIELDS = ("mass", "u0", "d_u", "values", "slopes", "mass_slopes")


def cached_table(rates: RateModel, mass: float, t_low: float, t_high: float) -> InterpolatedRates:
    """The rate table of ``rates`` at ``mass`` over [t_low, t_high], built once and reused by later solves of the
    same model, mass and range (rates once per mass, not per step; a handful of tables are kept in memory).

    Averaged tables (86 kB) are also kept on disk (``<cache>/tables``, :mod:`lta_jax.cache`) for models made of the
    package's own classes, keyed by the model's content (:func:`lta_jax.cache.content_digest`), mass, range and the
    rate, plasma and model code: a new process then reads the table instead of tracing its build (≈ 1.2 s of a
    repeated ``lta-jax solve``, docs/numerics.md)."""
    return remembered("rate_table", rates, (mass, t_low, t_high), lambda: _disk_table(rates, mass, t_low, t_high))


def _disk_table(rates: RateModel, mass: float, t_low: float, t_high: float) -> InterpolatedRates:
    """The table from ``<cache>/tables`` (built and stored on a miss); built directly when the model has no content
    key or is a per-mode model (:func:`cached_table`)."""
    from lta_jax.rates.modes import mode_model_of

    # Per-mode tables (resolved equations) stay in memory only: ≈ 4.5 MB a mass with 53 modes, against 86 kB.
    on_disk = not isinstance(rates, InterpolatedRates) and mode_model_of(rates) is None
    digest = content_digest(rates) if on_disk else None
    if digest is None:
        return tabulate(rates, mass, t_low, t_high)

    def compute():
        table = tabulate(rates, mass, t_low, t_high)
        return {name: np.asarray(getattr(table, name)) for name in _TABLE_FIELDS}

    arrays = cached_arrays("rate_table", (digest, float(mass), float(t_low), float(t_high), DEFAULT_NODES),
                           ("rates", "plasma", "model"), compute)
    return InterpolatedRates(rates, *(jnp.asarray(arrays[name]) for name in _TABLE_FIELDS))
