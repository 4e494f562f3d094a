"""Shared fixtures. Reference data (third-party, never copied here) are read from $LTA_JAX_REFERENCE_DIR, default
../shared/reference relative to the repository root; tests that need them skip loudly when they are absent."""

import os
import pathlib
import tempfile

import pytest

import lta_jax  # noqa: F401  (enables float64)
from lta_jax.model import benchmark_points as benchmark_points

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
REFERENCE_DIR = pathlib.Path(os.environ.get("LTA_JAX_REFERENCE_DIR", REPO_ROOT.parent / "shared" / "reference"))

#: Paper Fig.-19 point of the reference evolution LA_Evo_ModH.dat (docs/rate-table-format.md), as keyword arguments.
FIG19 = {name: float(getattr(benchmark_points.FIG19, name))
         for name in ("mass", "delta_mass", "im_omega", "re_omega", "delta", "eta")}



def _shared_compilation_cache() -> None:
    """One lta-jax cache per test run (lta_jax.cache: JAX's persistent compilation cache and the self-energy table),
    shared by the xdist workers and the command-line subprocesses (LTA_JAX_CACHE_DIR), so what several test files (or a
    test and the command it runs) compute identically is computed once. Fresh for every run: timings of the suite never
    rest on an earlier run's cache."""
    from lta_jax.cache import enable_compilation_cache

    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID") or f"solo-{os.getpid()}"
    os.environ["LTA_JAX_CACHE_DIR"] = str(pathlib.Path(tempfile.gettempdir()) / f"lta-jax-test-cache-{run_id}")
    enable_compilation_cache()


_shared_compilation_cache()


def reference_path(relpath: str) -> pathlib.Path:
    path = REFERENCE_DIR / relpath
    if not path.is_file():
        pytest.skip(f"REFERENCE DATA MISSING: {path} (set LTA_JAX_REFERENCE_DIR)")
    return path


@pytest.fixture
def reference_file():
    return reference_path


@pytest.fixture(scope="session")
def computed_rates():
    """The package's default (computed) rate model, built once per test session."""
    from lta_jax.rates.computed import ComputedRates

    return ComputedRates.build()
