"""Regime diagnostics of a parameter point: why an asymmetry is made or survives (paper §4, §5.3; docs/diagnostics.md).

All rates are the package's own — the rate matrices of :func:`lta_jax.kinetics.averaged.system_rate_matrices` and the
Jacobian of :func:`lta_jax.kinetics.averaged.kinetic_rhs` — so the diagnostics describe exactly the equations solved.
Every function takes a :class:`KineticSystem` and a temperature [GeV]; they are pure JAX and ``vmap`` over temperatures
or systems (the general eigenvalues of A(T) use :func:`jax.numpy.linalg.eigvals`: on CPU LAPACK; on a CUDA GPU JAX
lowers it to cuSOLVER's geev where cuSOLVER ≥ 11.7.1, else to LAPACK on the host — read from jaxlib 0.10.2, not run on
a GPU here).

* Γ_N eigenvalues over H (paper Figs. 4, 11, 13): the two damping rates of the HNLs; where they cross H the HNLs come
  into (T_in) or drop out of (T_out) equilibrium.
* The linear matrix A(T) of (4.3), dx/dz = A x + b (z = ln M/T; dz/dt = H by default, so the eigenvalues of A are
  rates in units of H): |Re λ|_min/H and |Re λ|_max/H (Fig. 5). A wash-out of the slowest mode needs |Re λ|_min > H.
* The physical mass difference δM(T) = Δλ(H_N)/(2|h̄0|) (4.7), half the difference of the eigenvalues of H_N in
  energy units (δM(T → 0) → (4.8)); the oscillation rate Γ_osc = M δM(T)/(3T) (4.5) over H; and the oscillation
  temperature T_osc = (M δM M0/3)^{1/3} (4.6) with δM and M0 = T²/H taken at T.
* L± = Δ_N ∓ Σ_α Y_Δα (4.4) along a solution: L− is conserved where γ̄− is negligible (high T), L+ where γ̄+ is.
* At large |Im ω| the pseudo-Dirac charge Q (docs/physics.md §7.5) is conserved by all rates; its decay rate from the
  Majorana splitting, Γ_Q/H, is where a strong-washout point keeps or loses its asymmetry below T_sph.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from lta_jax.kinetics.averaged import (KineticSystem, conserved_combinations, expansion_rate, kinetic_rhs,
                                       system_rate_matrices)
from lta_jax.rates.base import RateVariant


def rate_matrices_at(system: KineticSystem, temperature):
    """Γ_να, Γ̃^α_N, Γ̃_να, Γ_N (with the vacuum decays when the system includes them) and H_N at T [GeV]."""
    return system_rate_matrices(system, system.rates(temperature, system.params.mass))


def gamma_n_eigenvalues_over_hubble(system: KineticSystem, temperature) -> Float[Array, "2"]:
    """Eigenvalues of the Hermitian damping matrix Γ_N at T over the Hubble rate H(T), ascending (paper Figs. 4, 11,
    13)."""
    gamma_n = rate_matrices_at(system, temperature).gamma_N
    hermitian = 0.5 * (gamma_n + jnp.conj(gamma_n.T))
    return jnp.linalg.eigvalsh(hermitian) / system.thermo.hubble_rate(temperature)


def linear_matrix(system: KineticSystem, temperature) -> Float[Array, "11 11"]:
    """A(T) of dx/dz = A x + b (4.3): the exact Jacobian of the package's right-hand side (the equations are linear)."""
    z = jnp.log(system.params.mass / temperature)
    return jax.jacfwd(lambda x: kinetic_rhs(z, x, system))(jnp.zeros(11))


def linear_eigenvalues_over_hubble(system: KineticSystem, temperature) -> Float[Array, "2"]:
    """(|Re λ|_min, |Re λ|_max)/H of the eigenvalues λ of the rate matrix H_z A(T), H_z = dz/dt (paper Fig. 5).

    General eigenvalues (:func:`jax.numpy.linalg.eigvals`; on a GPU, cuSOLVER or LAPACK on the host: module docstring)."""
    a = linear_matrix(system, temperature)
    scale = expansion_rate(system, temperature) / system.thermo.hubble_rate(temperature)
    real = jnp.abs(jnp.real(jnp.linalg.eigvals(a))) * scale
    return jnp.stack([jnp.min(real), jnp.max(real)])


#: L± = Δ_N ∓ Σα Y_Δα (4.4) as coefficient vectors on the 11-vector state (Δ_N = Y−₁₁ + Y−₂₂).
L_PLUS = (-1.0, -1.0, -1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0)
L_MINUS = (1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0)


def slowest_combination_overlaps(system: KineticSystem, temperature) -> Float[Array, "2"]:
    """|cos| of the angle between the slowest combination of the state — the left eigenvector ℓ of A(T) with the
    smallest |Re λ|, so that d(ℓ·x)/dz = λ ℓ·x — and L+, L− (4.4). The paper's statement "L± are nearly conserved"
    (§4) is that this combination is L− at high and L+ at low temperature (its rate is |Re λ|_min). General
    eigenvalues: the module docstring says on which devices."""
    lam, left = jnp.linalg.eig(linear_matrix(system, temperature).T)
    i = jnp.argmin(jnp.abs(jnp.real(lam)))
    vec = left[:, i]
    vec = jnp.real(vec / vec[jnp.argmax(jnp.abs(vec))])  # remove the arbitrary complex phase (λ_min is real here)
    dirs = jnp.asarray([L_PLUS, L_MINUS])
    return jnp.abs(dirs @ vec) / (jnp.linalg.norm(vec) * jnp.linalg.norm(dirs, axis=1))


def physical_mass_difference(system: KineticSystem, temperature) -> Float[Array, ""]:
    """δM(T) = (λ₂ − λ₁)/(2|h̄0|) [GeV] from the eigenvalues λ of H_N (4.7); half the splitting, like ΔM."""
    coeffs = system.rates(temperature, system.params.mass)
    h_n = system_rate_matrices(system, coeffs).hamiltonian
    lam = jnp.linalg.eigvalsh(0.5 * (h_n + jnp.conj(h_n.T)))
    return (lam[1] - lam[0]) / (2 * jnp.abs(coeffs.h_zero))


def pseudo_dirac_breaking_over_hubble(system: KineticSystem, temperature) -> Float[Array, ""]:
    """Γ_Q/H: the rate at which the Majorana splitting erases the pseudo-Dirac charge Q (docs/physics.md §7.5).

    With one h-basis Yukawa column negligible (|Im ω| ≳ 2), Q = Σα Y_Δα ± (Y−₁₁ − Y−₂₂) is conserved by every rate
    and broken by the off-diagonal element m = |H_N,12| of the Hamiltonian: the vacuum (Majorana) splitting ΔM h̄0 plus
    the Higgs-induced part ∝ Σα h_α3 h*_α2, which is first order in the small Yukawa column. Eliminating the fast coherence Y−₁₂ adiabatically
    (it relaxes at Γ₁₂ = Re(Γ_N,11 + Γ_N,22)/2 and oscillates at ΔE = |Re(H_N,11 − H_N,22)|, both ≫ H) gives

        H dQ/dz = −Γ_Q Q,    Γ_Q = f · 4 m² Γ₁₂/(ΔE² + Γ₁₂²),

    where f = D/Q is the share of Q held by D = Y−₁₁ − Y−₂₂ once the fast rates have equilibrated it with the leptons:
    f = (r₊ + r₋)/6 / (1ᵀω̃⁻¹1 + (r₊ + r₋)/6), r± = γ̄_ν±/γ̄_N±. In vacuum (ΔE → 0) this is the familiar
    suppression of lepton-number violation of a pseudo-Dirac pair by (splitting/width)². It reproduces the smallest
    |Re λ| of A(T) where the Majorana term dominates the breaking (tests; docs/physics.md §7.5)."""
    coeffs = system.rates(temperature, system.params.mass)
    mats = system_rate_matrices(system, coeffs)
    m = jnp.abs(mats.hamiltonian[0, 1])
    split = jnp.abs(jnp.real(mats.hamiltonian[0, 0] - mats.hamiltonian[1, 1]))
    damping = 0.5 * jnp.real(mats.gamma_N[0, 0] + mats.gamma_N[1, 1])
    ratios = coeffs.gamma_nu_plus / coeffs.gamma_N_plus + coeffs.gamma_nu_minus / coeffs.gamma_N_minus
    lepton_share = jnp.sum(jnp.linalg.solve(system.susceptibility(temperature), jnp.ones(3)))
    share = (ratios / 6) / (lepton_share + ratios / 6)
    rate = share * 4 * m**2 * damping / (split**2 + damping**2)
    return rate / system.thermo.hubble_rate(temperature)


def oscillation_rate_over_hubble(system: KineticSystem, temperature) -> Float[Array, ""]:
    """Γ_osc/H = M δM(T)/(3 T H(T)) (4.5)."""
    m = system.params.mass
    return m * physical_mass_difference(system, temperature) / (3 * temperature
                                                                * system.thermo.hubble_rate(temperature))


def oscillation_temperature(system: KineticSystem, temperature) -> Float[Array, ""]:
    """T_osc = (M δM M0/3)^{1/3} [GeV] (4.6), with δM = δM(T) and M0 = T²/H(T) taken at T."""
    m0 = temperature**2 / system.thermo.hubble_rate(temperature)
    return (system.params.mass * physical_mass_difference(system, temperature) * m0 / 3) ** (1 / 3)


def crossings(temperatures, ratio) -> list[dict]:
    """Temperatures where ``ratio`` (e.g. Γ/H) crosses 1, interpolated linearly in (ln T, ln ratio); each with its
    direction as the universe cools: "rises above" (equilibration) or "falls below" (freeze-out)."""
    t = np.asarray(temperatures, dtype=float)
    r = np.asarray(ratio, dtype=float)
    order = np.argsort(-t)  # cooling: T descending
    t, r = t[order], r[order]
    with np.errstate(divide="ignore", invalid="ignore"):
        lr = np.log(np.abs(r))
    out = []
    for i in range(len(t) - 1):
        a, b = lr[i], lr[i + 1]
        if np.isfinite(a) and np.isfinite(b) and (a < 0) != (b < 0):
            f = a / (a - b)
            out.append({"T": float(np.exp(np.log(t[i]) + f * (np.log(t[i + 1]) - np.log(t[i])))),
                        "direction": "rises above" if b > a else "falls below"})
    return out


def equilibration_temperatures(temperatures, gamma_over_h) -> dict:
    """T_in and T_out from the Γ_N eigenvalues over H (columns: ascending eigenvalues) on a temperature grid.

    Per eigenvalue: T_in = the highest temperature where it rises above H, T_out = the lowest where it falls below H
    (None if it never does). The paper's recipe (§5.3) takes T_out as the lower of the two eigenvalues' values."""
    g = np.asarray(gamma_over_h)
    per = []
    for k in range(g.shape[1]):
        c = crossings(temperatures, g[:, k])
        rises = [x["T"] for x in c if x["direction"] == "rises above"]
        falls = [x["T"] for x in c if x["direction"] == "falls below"]
        per.append({"T_in": max(rises) if rises else None, "T_out": min(falls) if falls else None, "crossings": c})
    ins = [p["T_in"] for p in per if p["T_in"] is not None]
    outs = [p["T_out"] for p in per if p["T_out"] is not None]
    return {"T_in": max(ins) if ins else None, "T_out": min(outs) if outs else None, "eigenvalues": per}


def without_fermion_number_violation(system: KineticSystem) -> KineticSystem:
    """The same system with γ̄_ν− = γ̄_N− = 0 (paper Fig. 13)."""
    rates = system.rates
    if isinstance(rates, RateVariant):
        rates = RateVariant(rates.base, rates.rate_scale, rates.h_plus, fermion_number_violation=False)
    else:
        rates = RateVariant(rates, fermion_number_violation=False)
    return KineticSystem(system.params, rates, system.thermo, system.susceptibility, system.options)


@eqx.filter_jit
def _profile(system: KineticSystem, temperatures, eigen: bool):
    # Module-level filter_jit with the system as an argument: one compilation serves every point of the same
    # structure (a closure over the system would bake it in as constants and recompile for each point).
    def at(t):
        out = {"gamma_N_over_H": gamma_n_eigenvalues_over_hubble(system, t),
               "delta_M_T": physical_mass_difference(system, t),
               "Gamma_osc_over_H": oscillation_rate_over_hubble(system, t),
               "T_osc_T": oscillation_temperature(system, t)}
        if eigen:
            out["A_eigenvalues_over_H"] = linear_eigenvalues_over_hubble(system, t)
            out["slowest_overlap_L_plus_L_minus"] = slowest_combination_overlaps(system, t)
            out["pseudo_dirac_breaking_over_H"] = pseudo_dirac_breaking_over_hubble(system, t)
        return out

    return jax.vmap(at)(temperatures)


def diagnose(system: KineticSystem, temperatures, solution=None, *, eigen: bool = True) -> dict:
    """All diagnostics on a temperature grid [GeV] (NumPy arrays), the T_in/T_out summary, δM(0), the Γ_N eigenvalues
    with γ̄− = 0 (Fig. 13), and — given a :class:`lta_jax.solver.integrate.Solution` of the same system — L±, Δ_N,
    Y_L and Y_Δα along the run with the relative drifts of L± in their regimes (module docstring)."""
    from lta_jax.model.parameters import physical_mass_splitting_vacuum

    temperatures = np.sort(np.asarray(temperatures, dtype=float))[::-1]
    grid = jnp.asarray(temperatures)
    prof = {k: np.asarray(v) for k, v in _profile(system, grid, eigen).items()}
    no_fnv = np.asarray(_profile(without_fermion_number_violation(system), grid, False)["gamma_N_over_H"])
    out = {"T": temperatures, **prof, "gamma_N_over_H_without_fnv": no_fnv,
           "equilibration": equilibration_temperatures(temperatures, prof["gamma_N_over_H"]),
           "equilibration_without_fnv": equilibration_temperatures(temperatures, no_fnv),
           "delta_M_vacuum": float(physical_mass_splitting_vacuum(system.params)),
           # Γ_Q describes the slowest charge only where one Yukawa column is negligible (docs/physics.md §7.5).
           "pseudo_dirac_regime": bool(abs(float(system.params.im_omega)) >= 2.0)}
    if eigen:
        lam_min = prof["A_eigenvalues_over_H"][:, 0]
        above = temperatures[lam_min > 1]
        out["slowest_mode_above_H"] = ([float(above.min()), float(above.max())] if above.size else None)
        overlap = prof["slowest_overlap_L_plus_L_minus"]
        low, high = temperatures <= 20.0, temperatures >= 150.0
        out["slowest_combination"] = {
            "min_overlap_with_L_plus_below_20GeV": float(overlap[low, 0].min()) if low.any() else None,
            "min_overlap_with_L_minus_above_150GeV": float(overlap[high, 1].min()) if high.any() else None,
            "note": "|cos| between the left eigenvector of A with the smallest |Re λ| and L± (1 = identical)"}
    if solution is not None:
        t_run = solution.temperatures
        x = solution.states
        l_plus, l_minus = conserved_combinations(x)
        out["run"] = {"T": t_run, "L_plus": np.asarray(l_plus), "L_minus": np.asarray(l_minus),
                      "Delta_N": x[:, 7] + x[:, 8], "Y_L": x[:, 0] + x[:, 1] + x[:, 2], "Y_De": x[:, 0],
                      "Y_Dmu": x[:, 1], "Y_Dtau": x[:, 2]}
        delta_n, y_l = out["run"]["Delta_N"], out["run"]["Y_L"]
        out["conservation"] = {
            "L_plus_below_20GeV": _drift(t_run, np.asarray(l_plus), delta_n, y_l, t_run <= 20.0),
            "L_minus_above_150GeV": _drift(t_run, np.asarray(l_minus), delta_n, y_l, t_run >= 150.0),
            "note": "change = |L±(window end) − L±(window start)|; ratio = change / (total variation of Δ_N + total "
                    "variation of Σα Y_Δα in the window): ≪ 1 means L± is nearly conserved while its parts move",
        }
    return out


def _drift(t, values, delta_n, y_l, window) -> dict | None:
    """How well L± is conserved over the saved points inside ``window`` (see the note in :func:`diagnose`)."""
    if np.count_nonzero(window) < 2:
        return None
    v = values[window]
    change = float(abs(v[-1] - v[0]))
    parts = float(np.sum(np.abs(np.diff(delta_n[window]))) + np.sum(np.abs(np.diff(y_l[window]))))
    return {"T_range": [float(t[window].min()), float(t[window].max())], "change": change,
            "parts_variation": parts, "ratio": change / parts if parts > 0 else math.nan,
            "max_abs": float(np.max(np.abs(v)))}


__all__ = ["rate_matrices_at", "gamma_n_eigenvalues_over_hubble", "linear_matrix", "linear_eigenvalues_over_hubble",
           "physical_mass_difference", "slowest_combination_overlaps", "pseudo_dirac_breaking_over_hubble", "L_PLUS", "L_MINUS", "oscillation_rate_over_hubble", "oscillation_temperature", "crossings",
           "equilibration_temperatures", "without_fermion_number_violation", "diagnose"]
