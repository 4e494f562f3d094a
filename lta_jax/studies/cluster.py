"""Campaigns beyond one process: scans and envelopes on a Dask cluster (Dask ``distributed``).

Where the work runs is a choice of :class:`ClusterOptions`:

* ``None`` (the default) — today's in-process executor;
* ``ClusterOptions(workers=N)`` — a :class:`distributed.LocalCluster` of N worker *processes* on this machine, started
  with the ``spawn`` method (a fresh interpreter each, never a fork of this JAX-initialised process), one thread each
  (JAX already uses the cores inside a solve);
* ``ClusterOptions(scheduler="tcp://host:8786")`` — join a running cluster (``dask scheduler`` / ``dask worker`` by hand,
  or ``dask-jobqueue`` on SLURM: docs/cluster.md).

What a worker does is the same function the in-process executor calls (one code path): it builds the rate model once
per process (cached by its specification string, so a 9-column table path must be readable on every worker), compiles
once, and then solves whole chunks. The *client* — the process running ``lta-jax scan`` or ``lta-jax envelope`` — is
the only writer of result files, so the atomic chunk files and the resume logic do not depend on where a chunk ran.
A worker that dies mid-chunk loses nothing: the scheduler gives its unfinished task to another worker (Dask's own
bookkeeping), and the client writes each chunk exactly once.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # light at import: the command line checks cluster options before JAX is imported
    from lta_jax.rates.base import RateModel

CLUSTER_KEYS = {"scheduler", "workers"}


@dataclass(frozen=True)
class ClusterOptions:
    """Where to run a campaign: ``scheduler`` (address of a running Dask scheduler) or ``workers`` (start a local
    cluster of that many worker processes) — exactly one of them."""

    scheduler: str | None = None
    workers: int | None = None

    def __post_init__(self):
        if (self.scheduler is None) == (self.workers is None):
            raise ValueError("give either a scheduler address or a number of workers, not both and not neither")
        if self.workers is not None and (int(self.workers) != self.workers or self.workers < 1):
            raise ValueError(f"the number of workers must be a positive integer, got {self.workers!r}")
        if self.scheduler is not None and not str(self.scheduler).strip():
            raise ValueError("--scheduler needs an address such as tcp://host:8786")
        check_dask_installed()  # here, so that options built in Python (not only by the command line) say it too

    @property
    def description(self) -> str:
        return f"dask scheduler {self.scheduler}" if self.scheduler else f"local dask cluster of {self.workers} workers"


def cluster_options(scheduler: str | None = None, workers: int | None = None, card_section: dict | None = None):
    """:class:`ClusterOptions` from command-line values, falling back to a card's ``[cluster]`` table (keys
    ``scheduler``, ``workers``); ``None`` (in-process) when neither says anything. Checked before anything starts."""
    if scheduler is None and workers is None and card_section:
        unknown = set(card_section) - CLUSTER_KEYS
        if unknown:
            raise ValueError(f"unknown keys in [cluster]: {sorted(unknown)}; allowed {sorted(CLUSTER_KEYS)}")
        scheduler, workers = card_section.get("scheduler"), card_section.get("workers")
    if scheduler is None and workers is None:
        return None
    if scheduler is not None and workers is not None:
        raise ValueError("--scheduler and --workers exclude each other (join a cluster, or start a local one)")
    return ClusterOptions(scheduler=scheduler, workers=None if workers is None else int(workers))


def check_dask_installed() -> None:
    """Dask is an optional dependency (the ``cluster`` extra; the plain install stays small for the main job): say
    how to get it, before anything starts, when a campaign asks for a cluster without it."""
    missing = [name for name in ("dask", "distributed") if importlib.util.find_spec(name) is None]
    if missing:
        raise ValueError(f"--workers/--scheduler (or a [cluster] table) need Dask, which is not installed (missing: "
                         f"{', '.join(missing)}); install the cluster extra: pip install -e \".[cluster]\" "
                         f"(or pip install \"lta-jax[cluster]\")")


@contextlib.contextmanager
def dask_client(options: ClusterOptions):
    """A connected :class:`distributed.Client` (and, for ``workers=N``, the local cluster it owns, closed on exit)."""
    import dask
    from distributed import Client, LocalCluster

    with dask.config.set({"distributed.worker.multiprocessing-method": "spawn",
                          # a chunk can take minutes of pure compute: do not declare the worker dead for it
                          "distributed.scheduler.worker-ttl": None}):
        if options.scheduler is not None:
            try:
                client = Client(options.scheduler, timeout="30s")
            except (OSError, TimeoutError, ValueError) as err:
                raise ValueError(f"cannot reach a Dask scheduler at {options.scheduler!r}: {err}") from err
            with client:
                yield client
        else:
            with LocalCluster(n_workers=options.workers, threads_per_worker=1, processes=True,
                              dashboard_address=None, silence_logs=logging.ERROR) as cluster, \
                    Client(cluster) as client:
                yield client


def worker_identity() -> str:
    """Who computes: the Dask worker's address (with host and process id), or ``in-process`` plus host and pid."""
    where = f"{socket.gethostname()}, pid {os.getpid()}"
    try:
        from distributed import get_worker

        return f"{get_worker().address} ({where})"
    except (ImportError, ValueError):
        return f"in-process ({where})"


def rate_model_for(spec) -> "RateModel":
    """The rate model of a specification string (:func:`lta_jax.rates.specs.rate_model_from_spec`), built once per
    process: a worker builds it for its first chunk and reuses it for every later one. In a Dask worker the first
    call also switches on the package's persistent compilation cache (``LTA_JAX_CACHE_DIR``; ``off`` disables it), as
    the command line does, so workers load what the client or an earlier campaign compiled instead of recompiling."""
    from lta_jax.cache import remembered

    def build():
        from lta_jax.rates.specs import rate_model_from_spec

        if not worker_identity().startswith("in-process"):
            from lta_jax.cache import enable_compilation_cache

            enable_compilation_cache()
        return rate_model_from_spec(spec)

    return remembered("rate_model_spec", None, (str(spec),), build)


def n_workers(client) -> int:
    """Workers connected now (at least 1, so that a window of in-flight tasks is never empty)."""
    return max(1, len(client.scheduler_info().get("workers", {})))


class ClusterTaskFailed(RuntimeError):
    """A task that Dask gave up on (it took down every worker that ran it): one line for the user, whose finished
    results are already saved."""


def run_tasks(client, tasks, on_result, *, in_flight_per_worker: int = 2, key_prefix: str = "lta-jax"):
    """Submit ``tasks`` — a list of ``(name, function, args)`` — to the cluster, keeping about
    ``in_flight_per_worker`` per connected worker queued (so a 10⁶-point scan does not hold 10⁵ futures), and call
    ``on_result(name, value)`` in the client as each one finishes, in completion order. A task whose worker died is
    re-run by the scheduler elsewhere (up to Dask's ``allowed-failures``); a task that raises stops the campaign with
    its exception after cancelling what is queued (finished results have been handed to ``on_result`` already); a
    task Dask gave up on after its workers died (``KilledWorker``) stops it with :class:`ClusterTaskFailed`."""
    import uuid

    from distributed import KilledWorker, as_completed

    run_id = uuid.uuid4().hex[:8]  # keys unique per run: never reuse a task a killed client left on a shared cluster
    pending = list(reversed(tasks))
    window = max(1, in_flight_per_worker * n_workers(client))
    names = {}

    def submit():
        name, fn, args = pending.pop()
        future = client.submit(fn, *args, key=f"{key_prefix}-{name}-{run_id}", pure=False)
        names[future.key] = name
        return future

    first = [submit() for _ in range(min(window, len(pending)))]
    queue = as_completed(first)
    try:
        for future in queue:
            try:
                value = future.result()  # raises the task's exception here
            except KilledWorker as err:
                raise ClusterTaskFailed(
                    f"task {names.get(future.key, future.key)} took down every worker that ran it (Dask's "
                    "allowed-failures; out of memory or a crash in the worker?) — stopped; finished results are "
                    "saved, rerun the same command to resume") from err
            on_result(names.pop(future.key), value)
            future.release()
            while pending and queue.count() < max(1, in_flight_per_worker * n_workers(client)):
                queue.add(submit())
    except BaseException:
        for future in list(queue.futures):
            future.cancel()
        raise


__all__ = ["ClusterOptions", "ClusterTaskFailed", "cluster_options", "dask_client", "worker_identity", "rate_model_for", "run_tasks",
           "n_workers"]
