"""Physical constants and fixed reference values (GeV units, hbar = c = k_B = 1).

Every number cites where it comes from; ``docs/physics.md`` / ``docs/plasma.md`` refer to the project's physics
notes, equation numbers "(x.y)" to arXiv:2011.12637 (the paper).
"""

from __future__ import annotations

import math

#: Higgs vacuum expectation value in the 174-GeV normalisation, <Phi> = v0 (docs/physics.md §1.1; default of the public
#: 1808.10833 implementation; the paper's §2 quotes 174 GeV).
V0 = 174.1

#: Planck mass M_Pl = G_N^{-1/2} [GeV] (docs/plasma.md §1.1).
M_PLANCK = 1.22089e19

#: Sphaleron freeze-out temperature T_sph = 131.7 GeV (D'Onofrio, Rummukainen, Tranberg, arXiv:1404.3565).
T_SPHALERON = 131.7

#: Observed baryon yield Y_B = n_B/s from Planck 2018 (docs/plasma.md §4).
Y_B_OBSERVED = 8.7e-11

#: B/(B-L) in the symmetric phase with sphalerons in equilibrium (docs/physics.md §5).
B_OVER_B_MINUS_L = 28.0 / 79.0

#: Riemann zeta(3).
ZETA3 = 1.2020569031595942

#: Fermi constant [GeV^-2].
G_FERMI = 1.1663787e-5

#: SU(2) gauge coupling used in the rate and susceptibility models (docs/physics.md §6.4).
G_WEAK = 0.65

#: alpha_W = g^2 / 4pi for the symmetric-phase sphaleron rate (docs/physics.md §5: alpha_W ~ 0.0336).
ALPHA_W = 0.0336

#: Vacuum masses [GeV] (docs/plasma.md §1.4 species list).
M_W = 80.38
M_Z = 91.19
M_HIGGS = 125.1
M_TOP = 172.7
M_BOTTOM = 4.18
M_CHARM = 1.27
M_TAU = 1.77686
M_MUON = 0.10566
M_ELECTRON = 0.000511
M_STRANGE = 0.093
M_DOWN = 0.0047
M_UP = 0.0022

#: Lattice crossover temperature of the SM electroweak transition (D'Onofrio, Rummukainen, arXiv:1508.07161).
T_ELECTROWEAK_CROSSOVER = 159.5

#: Massless SM degrees of freedom 28 + (7/8) 90 (docs/plasma.md §1.4 item 1).
G_SM_MASSLESS = 28.0 + 7.0 / 8.0 * 90.0

#: Equilibrium number density of one massless fermionic helicity state, n_eq / T^3 = 3 zeta(3) / (4 pi^2)
#: (docs/plasma.md §1.1).
N_EQ_MASSLESS_OVER_T3 = 3.0 * ZETA3 / (4.0 * math.pi**2)

#: 1 eV in GeV.
EV = 1e-9
