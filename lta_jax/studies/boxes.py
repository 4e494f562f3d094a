"""The parameter boxes the studies search and how they are sampled: the paper's large-LTA box (its Table 1), which
coordinates are periodic, scrambled Sobol points of the unit cube and a box sample in the columns of
:func:`lta_jax.solve_batch`. Light (NumPy and SciPy only), so that the optimiser and the freeze-out recipe both import it
without importing each other.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy.stats import qmc

LARGE_LTA_BOX = {"log10_delta_M": (-12.0, -10.0), "im_omega": (-0.2, 0.2), "re_omega": (0.4 * math.pi, 0.6 * math.pi),
                 "delta": (0.0, 2 * math.pi), "eta": (0.0, 2 * math.pi)}
#: Coordinates that wrap around (the others are kept inside the box).
PERIODIC = ("delta", "eta")


def starting_points(n: int, *, sampler: str = "sobol", seed: int = 0, dim: int = 5) -> np.ndarray:
    """``n`` points of the unit cube [0, 1]^dim (scrambled Sobol or uniform random)."""
    if sampler == "sobol":
        with warnings.catch_warnings():  # balance of a non-power-of-two sample: scrambling keeps it uniform
            warnings.simplefilter("ignore", UserWarning)
            return qmc.Sobol(dim, scramble=True, seed=seed).random(n)
    if sampler == "random":
        return np.random.default_rng(seed).random((n, dim))
    raise ValueError(f"sampler must be 'sobol' or 'random', got {sampler!r}")


def box_sample(n: int, mass: float, hierarchy: str = "NH", *, seed: int = 0, box: dict | None = None) -> dict:
    """``n`` scrambled Sobol points of ``box`` (default :data:`LARGE_LTA_BOX`) at fixed ``mass`` [GeV], as the columns
    :func:`lta_jax.solve_batch` takes (M, delta_M, im_omega, re_omega, delta, eta, hierarchy)."""
    box = LARGE_LTA_BOX if box is None else box
    names = list(box)
    lo = np.array([box[k][0] for k in names])
    hi = np.array([box[k][1] for k in names])
    cols = dict(zip(names, (lo + starting_points(n, seed=seed, dim=len(names)) * (hi - lo)).T))
    return {"M": np.full(n, float(mass)), "delta_M": 10 ** cols["log10_delta_M"], "im_omega": cols["im_omega"],
            "re_omega": cols["re_omega"], "delta": cols["delta"], "eta": cols["eta"], "hierarchy": hierarchy}


__all__ = ["LARGE_LTA_BOX", "PERIODIC", "starting_points", "box_sample"]
