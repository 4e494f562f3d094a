"""An independent NumPy implementation of the averaged kinetic equations, for validation and benchmarks.

Written directly from docs/physics.md §2.3–2.4 with NumPy complex 2×2 matrices (no code shared with
:mod:`lta_jax.kinetics.averaged` beyond the Yukawa bilinears), with tabulated inputs interpolated by ``numpy.interp``: rates
linear in ln T, g_eff linear in ln T, susceptibilities linear in T. Used with SciPy's stiff solvers (Radau, BDF,
LSODA) to check the diffrax solution and to time it against them.
"""

from __future__ import annotations

import math

import numpy as np

from lta_jax.model.parameters import ModelParameters, yukawa_bilinears
from lta_jax.rates.base import parse_fortran_table
from lta_jax.plasma.thermodynamics import read_laine_meyer_table


def numpy_kinetic_system(params: ModelParameters, rates_path, thermo_path, susc_path):
    """Return ``(rhs, jac)`` for ``scipy.integrate.solve_ivp`` in z = ln(M/T); the Jacobian is exact (linear system).

    ``rates_path`` is a 9-column rate table (used at its own mass), ``thermo_path`` a Laine–Meyer table and
    ``susc_path`` a susceptibility table (format of docs/rate-table-format.md).
    """
    table = parse_fortran_table(rates_path, n_columns=9)
    table = table[np.argsort(table[:, 0])]
    ln_t = np.log(table[:, 0])
    lm = read_laine_meyer_table(thermo_path)
    sus = np.loadtxt(susc_path)
    sus = sus[np.argsort(sus[:, 0])]
    b = yukawa_bilinears(params)
    yp, ym, hh = np.asarray(b.y_plus), np.asarray(b.y_minus), np.asarray(b.hh_dagger)
    mass, dmass = float(params.mass), float(params.delta_mass)
    sigma1 = np.array([[0, 1], [1, 0]], dtype=complex)

    def rhs(z, x):
        t = mass * math.exp(-z)
        gnp, gnm, gNp, gNm, hp, hm, h0 = (np.interp(math.log(t), ln_t, table[:, i]) for i in range(1, 8))
        g_eff = np.interp(math.log(t), np.log(lm["T"]), lm["g_eff"])
        hubble = t**2 / (1.22089e19 * math.sqrt(45 / (4 * math.pi**3 * g_eff)))
        cdiag = np.interp(t, sus[:, 0], sus[:, 3])
        doff = np.interp(t, sus[:, 0], sus[:, 4])
        omega = doff + (cdiag - doff) * np.eye(3)
        yd = x[0:3]
        p = np.array([[x[3], x[5] + 1j * x[6]], [x[5] - 1j * x[6], x[4]]])
        m = np.array([[x[7], x[9] + 1j * x[10]], [x[9] - 1j * x[10], x[8]]])
        w = omega @ yd
        ham = dmass * h0 * sigma1 + hp * yp.sum(0) + hm * ym.sum(0)
        gam = gNp * yp.sum(0) + gNm * ym.sum(0)
        dd = np.empty(3)
        src_p = np.zeros((2, 2), complex)
        src_m = np.zeros((2, 2), complex)
        for a in range(3):
            gt_nu = -gNp * yp[a].T + gNm * ym[a].T
            gt_n = -gnp * yp[a] + gnm * ym[a]
            dd[a] = np.real(-(gnp + gnm) * hh[a] * w[a] / 6 + 2j * np.trace(p @ gt_nu.imag) - np.trace(m @ gt_nu.real))
            src_p += gt_n.imag * w[a]
            src_m += gt_n.real * w[a]
        rh, ih, rg, ig = ham.real, ham.imag, gam.real, gam.imag
        dp = (-1j * (rh @ p - p @ rh) + 0.5 * (ih @ m - m @ ih) - 0.5 * (rg @ p + p @ rg)
              - 0.25j * (ig @ m + m @ ig) - 1j / 12 * src_p)
        dm = (2 * (ih @ p - p @ ih) - 1j * (rh @ m - m @ rh) - 1j * (ig @ p + p @ ig) - 0.5 * (rg @ m + m @ rg)
              - src_m / 6)
        out = np.concatenate([dd, [dp[0, 0].real, dp[1, 1].real, dp[0, 1].real, dp[0, 1].imag],
                              [dm[0, 0].real, dm[1, 1].real, dm[0, 1].real, dm[0, 1].imag]])
        return out / hubble

    def jac(z, x):  # the system is linear: the Jacobian is the matrix of the map
        return np.stack([rhs(z, e) for e in np.eye(11)], axis=1)

    return rhs, jac
