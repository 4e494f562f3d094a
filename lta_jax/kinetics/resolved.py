"""The momentum-resolved kinetic equations (paper (6.1b–d); docs/physics.md §2.2, docs/resolved.md).

The HNL density matrices ρ±(y) are kept per momentum mode y_i = k_i/T on a grid (paper (6.2)); the three lepton
asymmetries couple to all modes through momentum integrals, and the modes couple to each other only through them.

Variables. Per mode the state holds the *yield carried by the mode*, u_i± = W_i (T³/s) ρ±(y_i), with W_i the quadrature
weight of ∫ d³y/(2π)³ (trapezoidal rule in y; the paper uses the same rule). Then the averaged yields are plain sums,
Y± = Σ_i u_i±, and the state is the real vector

    x = (Y_Δe, Y_Δμ, Y_Δτ, u_1, …, u_N),    u_i = (u+11, u+22, Re u+12, Im u+12, u−11, u−22, Re u−12, Im u−12)_i,

8N + 3 numbers. Multiplying (6.1c, d) by W_i T³/s gives, per mode, exactly the averaged equations of
:func:`lta_jax.kinetics.averaged.averaged_equations` with that mode's coefficients, except that the μ terms carry the
mode's share v_i of the integral ∫ d³y/(2π)³ f_ν(1 − f_ν) = 1/12:

    H dY_Δα/dz = Σ_i [ −(1/6) v_i Γ_να(y_i) w_α + 2i Tr(u_i+ Im Γ̃_να(y_i)) − Tr(u_i− Re Γ̃_να(y_i)) ]      (6.1b)
    H du_i+/dz = (averaged Y+ equation with the rates at y_i, acting on u_i±, back-reaction × v_i) − H S_i      (6.1c)
    H du_i−/dz = (averaged Y− equation with the rates at y_i, acting on u_i±, back-reaction × v_i)              (6.1d)

with v_i = W_i f_ν(1 − f_ν)(y_i) / Σ_j W_j f_ν(1 − f_ν)(y_j). In the averaged equations γ_ν± enter only the washout
(Γ_να) and the back-reaction (Γ̃^α_N), so "× v_i" is implemented by scaling the mode's γ_ν± by v_i.

Two normalisations make the discrete system consistent with the averaged one (so that, with momentum-independent
rates, Σ_i of the resolved equations *is* the averaged system, exactly — a test): the μ-weights v_i sum to one
(the quadrature's value of 1/12 is replaced by the exact one), and the equilibrium is distributed over the modes as
e_i(z) = W_i f_F(E_i)/Σ_j W_j f_F(E_j) times the exact Y_eq(z) (initial condition u_i+ = −Y_eq e_i, source
S_i = d(Y_eq e_i)/dz). Both only remove the quadrature's truncation error at y < y₁ and y > y_max.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from lta_jax.kinetics.averaged import (GeneratorBasis, KineticSystem, _linear_part, expansion_rate)
from lta_jax.plasma.thermodynamics import equilibrium_yield
from lta_jax.rates.base import RateCoefficients
from lta_jax.rates.modes import QUADRATURE_RULES

#: Paper (6.2): lowest and highest mode.
Y_MIN, Y_MAX = 0.1, 20.0
#: Low modes added to the grid (6.2) by default (the paper's "manually added low momenta"). Why: on the plain grid the
#: lowest node y = 0.1 carries the whole trapezoid end weight down to the next node (y ≈ 0.6 for 48 modes), at the
#: fastest rates and oscillations of any mode, and Y_B converges only like 1/N (Fig.-18 point, computed rates: N = 8,
#: 24, 48, 96 give Y_B = −6.1e-9, −1.3e-8 … −3.2e-9); with these five modes added, 48 and 96 modes give −7.8e-10 and
#: −7.5e-10, and 200 modes uniform in y −7.2e-10 (docs/resolved.md).
LOW_MODES = (0.15, 0.2, 0.3, 0.4, 0.5)


class MomentumGrid(eqx.Module):
    """Modes y_i = k_i/T with quadrature weights W_i of ∫ d³y/(2π)³ g(y) ≈ Σ_i W_i g(y_i) (:func:`grid_from_modes`)."""

    y: Float[Array, "N"]
    weights: Float[Array, "N"]

    @property
    def n_modes(self) -> int:
        return int(self.y.shape[0])

    @property
    def nu_weights(self) -> Float[Array, "N"]:
        """v_i: each mode's share of ∫ f_ν(1 − f_ν) (sums to one)."""
        f = 1 / (jnp.exp(self.y) + 1)
        w = self.weights * f * (1 - f)
        return w / jnp.sum(w)

    def equilibrium_shares(self, z) -> Float[Array, "N"]:
        """e_i(z): each mode's share of the equilibrium density at z = ln(M/T) (sums to one)."""
        energy = jnp.sqrt(self.y**2 + jnp.exp(2 * z))
        w = self.weights / (jnp.exp(energy) + 1)
        return w / jnp.sum(w)


def _equilibrium_cumulative(y):
    """F(y) = ∫_0^y t² f_F(t) dt (massless f_F = 1/(e^t + 1)) at the points y (fine trapezoid, ≤ 1e-9 relative)."""
    fine = np.concatenate([np.linspace(0.0, float(np.max(y)), 200_001)])
    density = fine**2 / (np.exp(fine) + 1)
    cumulative = np.concatenate([[0.0], np.cumsum(0.5 * (density[1:] + density[:-1]) * np.diff(fine))])
    return np.interp(y, fine, cumulative)


#: Quadrature rules of :func:`grid_from_modes` (defined with the per-mode rate models, which name theirs).
RULES = QUADRATURE_RULES


def grid_from_modes(y, rule: str = "uniform") -> MomentumGrid:
    """Quadrature weights for given modes (increasing, positive): the trapezoidal rule in the variable in which the
    grid is uniform.

    * ``rule="equilibrium"`` — in the cumulative equilibrium weight F(y) = ∫ y² f_F dy, ∫ y² g dy = ∫ (g/f_F) dF ≈
      Σ_i w_i^F g(y_i)/f_F(y_i): for the paper's grid (6.2), equidistant in F, where it is exact for the equilibrium
      distribution (the trapezoid in y overweights the sparse high modes: 24 modes, ∫ f_F 18 % too large);
    * ``rule="uniform"`` — in y, for grids uniform in y such as the authors' per-mode tables (k/T = 0.3, 0.4, …, 10),
      where it is the more accurate rule for the steep low-momentum rates (their FNV rates at 1 TeV fall like y⁻³:
      averaged over the modes the trapezoid in y gives their averaged table to 1.3 %, the one in F to 5.7 %).
    """
    y = np.asarray(y, dtype=float)
    if y.ndim != 1 or y.size < 2 or np.any(np.diff(y) <= 0) or y[0] <= 0:
        raise ValueError("momentum modes must be at least two positive, increasing values of k/T")
    if rule not in RULES:
        raise ValueError(f"quadrature rule must be one of {RULES}, got {rule!r}")
    if rule == "equilibrium":
        measure, density = _equilibrium_cumulative(y), 1 / (np.exp(y) + 1)
    else:
        measure, density = y, 1 / y**2
    step = np.diff(measure)
    w = np.zeros_like(y)
    w[:-1] += 0.5 * step
    w[1:] += 0.5 * step
    return MomentumGrid(jnp.asarray(y), jnp.asarray(w / density / (2 * math.pi**2)))


def momentum_grid(n_modes: int = 48, y_min: float = Y_MIN, y_max: float = Y_MAX, extra=()) -> MomentumGrid:
    """The paper's grid (6.2): N modes from y_min to y_max with equal equilibrium weight between neighbours,
    ∫_{y_i}^{y_{i+1}} y² f_F dy = ∫_{y_min}^{y_max} y² f_F dy / (N − 1) (massless f_F), plus optional ``extra`` modes
    (the paper's "manually added low modes", e.g. :data:`LOW_MODES`, which :func:`lta_jax.solve` adds)."""
    n_modes = int(n_modes)
    if n_modes < 2:
        raise ValueError(f"need at least 2 momentum modes, got {n_modes}")
    if not (0 < y_min < y_max):
        raise ValueError(f"need 0 < y_min < y_max, got {y_min}, {y_max}")
    fine = np.linspace(y_min, y_max, 20001)
    density = fine**2 / (np.exp(fine) + 1)
    cumulative = np.concatenate([[0.0], np.cumsum(0.5 * (density[1:] + density[:-1]) * np.diff(fine))])
    y = np.interp(np.linspace(0, cumulative[-1], n_modes), cumulative, fine)
    y[0], y[-1] = y_min, y_max
    extra = np.asarray(extra, dtype=float).reshape(-1)
    if extra.size:
        if np.any(extra <= 0):
            raise ValueError("extra modes must be positive")
        y = np.unique(np.concatenate([y, extra]))
    return grid_from_modes(y, rule="equilibrium")


class ResolvedSystem(eqx.Module):
    """Everything the resolved right-hand side needs: the averaged set-up (parameters, *per-mode* rates,
    thermodynamics, susceptibilities, options, Yukawa bilinears) and the momentum grid."""

    kinetic: KineticSystem
    grid: MomentumGrid

    @property
    def params(self):
        return self.kinetic.params

    @property
    def rates(self):
        return self.kinetic.rates

    @property
    def thermo(self):
        return self.kinetic.thermo

    @property
    def susceptibility(self):
        return self.kinetic.susceptibility

    @property
    def options(self):
        return self.kinetic.options

    @property
    def n_modes(self) -> int:
        return self.grid.n_modes

    @property
    def size(self) -> int:
        return 3 + 8 * self.n_modes

    def temperature(self, z):
        return self.kinetic.temperature(z)


def mode_coefficients(system: ResolvedSystem, temperature) -> Float[Array, "N 7"]:
    """The seven coefficients per mode, with γ_ν± multiplied by the mode's μ-weight v_i (module docstring)."""
    c = jnp.stack(list(system.rates(temperature, system.params.mass)), axis=-1)
    c = jnp.broadcast_to(c, (system.n_modes, 7))
    return c.at[:, 0:2].multiply(system.grid.nu_weights[:, None])


def mode_sources(z, system: ResolvedSystem) -> Float[Array, "N"]:
    """S_i = d(Y_eq e_i)/dz per mode (exact derivative by forward-mode AD); Σ_i S_i = dY_eq/dz."""
    def per_mode(zz):
        y_eq = equilibrium_yield(system.thermo, system.temperature(zz), system.params.mass)
        return y_eq * system.grid.equilibrium_shares(zz)

    return jax.jvp(per_mode, (z,), (jnp.ones_like(z),))[1]


def resolved_rhs(z, x, system: ResolvedSystem) -> Float[Array, "M"]:
    """dx/dz of the 8N + 3 resolved equations (module docstring): the averaged right-hand side per mode
    (:func:`lta_jax.kinetics.averaged._linear_part`) on (Y_Δ, u_i), the Y_Δ parts summed over modes."""
    n = system.n_modes
    temperature = system.temperature(z)
    coeffs = mode_coefficients(system, temperature)
    omega_tilde = system.susceptibility(temperature)
    d, u = x[:3], x[3:].reshape(n, 8)

    def mode(c, u_i):
        return _linear_part(system.kinetic, RateCoefficients(*c), omega_tilde, jnp.concatenate([d, u_i]))

    parts = jax.vmap(mode)(coeffs, u) / expansion_rate(system.kinetic, temperature)
    du = parts[:, 3:]
    if system.options.source_term:
        du = du.at[:, 0:2].add(-mode_sources(z, system)[:, None])
    return jnp.concatenate([jnp.sum(parts[:, :3], axis=0), du.reshape(-1)])


class ModeBlocks(eqx.Module):
    """The generator of the resolved system at one z, by blocks (all divided by H):

        d' = a d + Σ_i B_i u_i,    u_i' = C_i d + D_i u_i + b_i,

    a (3×3), B (N×3×8), C (N×8×3), D (N×8×8), b (N×8)."""

    a: Float[Array, "3 3"]
    b_blocks: Float[Array, "N 3 8"]
    c_blocks: Float[Array, "N 8 3"]
    d_blocks: Float[Array, "N 8 8"]
    source: Float[Array, "N 8"]


def mode_blocks(z, system: ResolvedSystem, basis: GeneratorBasis) -> ModeBlocks:
    """:class:`ModeBlocks` at z from the per-point :class:`GeneratorBasis` of the averaged equations: each mode's 11×11
    generator is the averaged one with that mode's coefficients, one (N × 70)·(70 × 121) product for all modes."""
    temperature = system.temperature(z)
    c = mode_coefficients(system, temperature)
    w = system.susceptibility(temperature).reshape(9)
    u = jnp.concatenate([c, (c[:, :, None] * w[None, None, :]).reshape(-1, 63)], axis=1)
    j = (u @ basis.matrix).reshape(-1, 11, 11) / expansion_rate(system.kinetic, temperature)
    source = jnp.zeros((system.n_modes, 8))
    if system.options.source_term:
        source = source.at[:, 0:2].set(-mode_sources(z, system)[:, None])
    return ModeBlocks(jnp.sum(j[:, :3, :3], axis=0), j[:, :3, 3:], j[:, 3:, :3], j[:, 3:, 3:], source)


def dense_generator(z, system: ResolvedSystem, basis: GeneratorBasis) -> Float[Array, "M+1 M+1"]:
    """G = [[A, b], [0, 0]] of the whole resolved system, (8N + 4)² (for dense solvers and tests; the structured
    integrator never forms it)."""
    blocks = mode_blocks(z, system, basis)
    n = system.n_modes
    size = 3 + 8 * n
    g = jnp.zeros((size + 1, size + 1))
    g = g.at[:3, :3].set(blocks.a)
    g = g.at[:3, 3:size].set(jnp.transpose(blocks.b_blocks, (1, 0, 2)).reshape(3, 8 * n))
    g = g.at[3:size, :3].set(blocks.c_blocks.reshape(8 * n, 3))
    g = g.at[3:size, 3:size].set(jax.scipy.linalg.block_diag(*[blocks.d_blocks[i] for i in range(n)]))
    g = g.at[3:size, size].set(blocks.source.reshape(-1))
    return g


def initial_state(system: ResolvedSystem, t_start) -> Float[Array, "M"]:
    """No HNLs and no asymmetries: Y_Δ = 0, u− = 0, u+ = −Y_eq e_i 1 per mode (docs/physics.md §2.5)."""
    z0 = jnp.log(system.params.mass / t_start)
    y_eq = equilibrium_yield(system.thermo, t_start, system.params.mass)
    u = jnp.zeros((system.n_modes, 8))
    share = y_eq * system.grid.equilibrium_shares(z0)
    u = u.at[:, 0].set(-share).at[:, 1].set(-share)
    return jnp.concatenate([jnp.zeros(3), u.reshape(-1)])


def project(x: Float[Array, "... M"]) -> Float[Array, "... 11"]:
    """The averaged 11-vector (Y_Δ, Y+ = Σ_i u_i+, Y− = Σ_i u_i−) of resolved states (leading axes kept)."""
    x = jnp.asarray(x)
    n = (x.shape[-1] - 3) // 8
    u = x[..., 3:].reshape(*x.shape[:-1], n, 8)
    return jnp.concatenate([x[..., :3], jnp.sum(u, axis=-2)], axis=-1)


def mode_density_matrices(x: Float[Array, "M"], grid: MomentumGrid, thermo, temperature):
    """(ρ+, ρ−) per mode as (N, 4) real arrays (11, 22, Re 12, Im 12) of occupation numbers: ρ = u s/(W T³)."""
    n = grid.n_modes
    u = jnp.asarray(x)[3:].reshape(n, 8)
    scale = thermo.entropy_density(temperature) / (grid.weights * temperature**3)
    return u[:, :4] * scale[:, None], u[:, 4:] * scale[:, None]


__all__ = ["MomentumGrid", "momentum_grid", "grid_from_modes", "ResolvedSystem", "resolved_rhs", "ModeBlocks",
           "mode_blocks", "dense_generator", "initial_state", "project", "mode_coefficients", "mode_sources",
           "mode_density_matrices", "Y_MIN", "Y_MAX", "RULES", "LOW_MODES"]
