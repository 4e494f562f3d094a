"""Stage 7 — the command line ``lta-jax``: commands (``commands``), settings → validated run (``settings``), figures
(``plotting``)."""

from lta_jax.cli.commands import app, main

__all__ = ["app", "main"]
