"""Shared fixtures. Reference data (third-party, never copied here) are read from $LTA_JAX_REFERENCE_DIR, default
../shared/reference relative to the repository root; tests that need them skip loudly when they are absent."""

import os
import pathlib

import pytest

import lta_jax  # noqa: F401  (enables float64)
from lta_jax.model import benchmark_points as benchmark_points

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
REFERENCE_DIR = pathlib.Path(os.environ.get("LTA_JAX_REFERENCE_DIR", REPO_ROOT.parent / "shared" / "reference"))

#: Paper Fig.-19 point of the reference evolution LA_Evo_ModH.dat (docs/rate-table-format.md), as keyword arguments.
FIG19 = {name: float(getattr(benchmark_points.FIG19, name))
         for name in ("mass", "delta_mass", "im_omega", "re_omega", "delta", "eta")}


def reference_path(relpath: str) -> pathlib.Path:
    path = REFERENCE_DIR / relpath
    if not path.is_file():
        pytest.skip(f"REFERENCE DATA MISSING: {path} (set LTA_JAX_REFERENCE_DIR)")
    return path


@pytest.fixture
def reference_file():
    return reference_path
