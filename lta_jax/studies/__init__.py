"""Stage 6 — studies built on many solves: batches with per-point status (``batch``), resumable scans (``scan``) and
the BAU-constrained optimiser (``optimise``)."""
