"""Data shipped with the package: model tables that depend on no user input (``tables/``), written by
:mod:`lta_jax.data.generate_tables` and checked against a fresh computation by tests/test_shipped_tables.py."""
