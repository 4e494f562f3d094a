"""The tables shipped with the package (lta_jax/data/tables) are what the code computes now (issue 35: a cold first
run reads them instead of computing ≈ 5 s of model tables). A fresh computation in a clean cache, with the shipped
tables switched off, must produce the same files (names carry a hash of the sources: an edit to a model without
``python -m lta_jax.data.generate_tables`` fails here) with the same arrays."""

import numpy as np

from lta_jax.cache import SHIPPED_KINDS, SHIPPED_TABLES_DIR
from lta_jax.data.generate_tables import generate


def test_shipped_tables_match_a_fresh_computation(tmp_path):
    fresh = {p.name: p for p in generate(tmp_path / "fresh")}
    shipped = {p.name: p for p in SHIPPED_TABLES_DIR.glob("*.npz")}
    assert {name.rsplit("-", 1)[0] for name in fresh} == set(SHIPPED_KINDS)
    assert sorted(fresh) == sorted(shipped), (
        "the shipped tables are stale: run `python -m lta_jax.data.generate_tables` and commit lta_jax/data/tables")
    for name, path in fresh.items():
        with np.load(path) as a, np.load(shipped[name]) as b:
            assert sorted(a.files) == sorted(b.files)
            for key in a.files:
                np.testing.assert_allclose(a[key], b[key], rtol=1e-10, atol=0, err_msg=f"{name}:{key}")


def test_shipped_tables_are_used(tmp_path, monkeypatch):
    """With an empty cache the shipped degrees-of-freedom table is read: its computation is never called."""
    from lta_jax.plasma import thermodynamics

    monkeypatch.setenv("LTA_JAX_CACHE_DIR", str(tmp_path / "empty"))

    def refuse():
        raise AssertionError("computed although a shipped table exists")

    monkeypatch.setattr(thermodynamics, "in_house_dof_table", refuse)
    thermodynamics.in_house_thermodynamics.cache_clear()
    try:
        assert thermodynamics.in_house_thermodynamics().label == "in-house"
        monkeypatch.setenv("LTA_JAX_SHIPPED_TABLES", "off")  # and the switch the generator uses does turn them off
        thermodynamics.in_house_thermodynamics.cache_clear()
        try:
            thermodynamics.in_house_thermodynamics()
            raise RuntimeError("not reached")
        except AssertionError:
            pass
    finally:
        thermodynamics.in_house_thermodynamics.cache_clear()
