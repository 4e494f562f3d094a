"""The paper's benchmark parameter points (normal hierarchy) as :class:`~lta_jax.model.parameters.ModelParameters`.

* :data:`FIG18` — paper Fig. 18: M = 1 GeV, ΔM = 1.26e-11 GeV, Im ω = −0.14, Re ω = 0.52π, δ = 1.30π, η = 1.02π
  (docs/physics.md V14; the CLI's default point).
* :data:`FIG19` — paper Fig. 19, the point of the authors' Fortran evolution ``LA_Evo_ModH.dat``: M = 1 GeV,
  ΔM = 1e-12 GeV, Im ω = ln 3, Re ω = 13π/16, δ = 29π/16, η = 22π/16 (docs/rate-table-format.md; docs/physics.md V10, V15).
* :data:`SET_4_1` — the paper's parameter set (4.1), a large-LTA point: M = 2 GeV, ΔM = 0.983e-11 GeV,
  Im ω = −2.754e-3, Re ω = 0.551π, δ = 0.993π, η = 1.479π (the optimiser's target at M = 2 GeV).
* :data:`TABLE4` — the five 1808.10833 Table-4 benchmarks of docs/physics.md V9, M = 0.5, 1, 2, 5, 10 GeV (parameters as
  quoted in michaelhb/nuMSM ``main.py``, "From Table 4"; Re ω, δ, η given there in units of π).
"""

from __future__ import annotations

import math

from lta_jax.model.parameters import ModelParameters

FIG18 = ModelParameters(1.0, 1.26e-11, -0.14, 0.52 * math.pi, 1.30 * math.pi, 1.02 * math.pi)
FIG19 = ModelParameters(1.0, 1e-12, math.log(3), 13 * math.pi / 16, 29 * math.pi / 16, 22 * math.pi / 16)
SET_4_1 = ModelParameters(2.0, 0.983e-11, -2.754e-3, 0.551 * math.pi, 0.993 * math.pi, 1.479 * math.pi)
TABLE4 = tuple(ModelParameters(m, dm, im_w, re_w * math.pi, delta * math.pi, eta * math.pi)
               for m, dm, im_w, re_w, delta, eta in (
                   (0.5, 5.9794e-9, 5.3897, 0.64803, 1.8599, 0.35291),
                   (1.0, 5.3782e-9, 5.2607, 0.83214, 1.2708, 1.7938),
                   (2.0, 3.0437e-9, 5.5435, 1.6514, 1.6384, 0.75733),
                   (5.0, 1.7945e-9, 5.229, 1.7753, 1.4481, 1.2070),
                   (10.0, 2.7660e-9, 4.4442, 0.84146, 1.7963, 0.92261)))
#: Y_B(T_sph) of the TABLE4 points in the specification's V9 column (docs/physics.md §10).
TABLE4_SPECIFICATION_Y_B = (8.47e-11, 1.06e-10, 8.46e-11, 9.20e-11, 7.36e-11)

__all__ = ["FIG18", "FIG19", "SET_4_1", "TABLE4", "TABLE4_SPECIFICATION_Y_B"]
