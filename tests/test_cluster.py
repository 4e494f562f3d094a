"""Campaigns on a Dask cluster (issue 17): options and cards checked before anything starts, the envelope's wave
schedule, and (slow) scans on a LocalCluster of worker processes — equal to the in-process scan point for point, a
worker killed mid-scan losing and duplicating nothing, a client killed with SIGKILL resuming as before."""

import json
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from typer.testing import CliRunner

from lta_jax.cli.commands import app
from lta_jax.studies.cluster import ClusterOptions, cluster_options
from lta_jax.studies.envelope import envelope_waves
from lta_jax.studies.scan import load_results, parse_card, run_scan

runner = CliRunner()

#: 16 one-point chunks on the fixed-grid path at M = 1 GeV down to 60 GeV: each chunk is one short vmapped call, and
#: there are enough of them that a worker can be killed while others are still queued.
CARD = {
    "scan": {"sampling": "sobol", "points": 16, "seed": 5, "preset": "large-lta", "chunk": 1},
    "fixed": {"M": 1.0},
    "solver": {"T_end": 60.0, "grid_steps": 200},
}
CARD_TOML = """
[scan]
sampling = "sobol"
points = 16
seed = 5
preset = "large-lta"
chunk = 1

[fixed]
M = 1.0

[solver]
T_end = 60.0
grid_steps = 200
"""
COMPARED = ("index", "M", "delta_M", "im_omega", "re_omega", "delta", "eta", "Y_B", "Y_B_sphaleron", "Y_L_end",
            "Y_De_end", "Y_Dmu_end", "Y_Dtau_end", "Delta_N_end", "max_abs_Y_e", "result_code", "status")


@pytest.mark.parametrize("kwargs, match", [
    ({}, None),
    ({"workers": 0}, "positive integer"),
    ({"workers": 2, "scheduler": "tcp://x:1"}, "exclude each other"),
    ({"card_section": {"nodes": 3}}, "unknown keys"),
    ({"card_section": {"workers": 2, "scheduler": "tcp://x:1"}}, "exclude each other"),
    ({"scheduler": " "}, "address"),
])
def test_cluster_options_are_checked(kwargs, match):
    if match is None:
        assert cluster_options(**kwargs) is None  # nothing said: in-process
        assert cluster_options(card_section={"workers": 3}) == ClusterOptions(workers=3)
        # the command line wins over the card
        assert cluster_options(scheduler="tcp://h:8786", card_section={"workers": 3}).scheduler == "tcp://h:8786"
        return
    with pytest.raises(ValueError, match=match):
        cluster_options(**kwargs)


def test_cluster_table_is_not_part_of_the_plan():
    """Where a scan runs does not change what it computes: a card with [cluster] has the digest of the same card
    without it, so a directory started on a cluster resumes in-process and the other way round."""
    with_cluster = json.loads(json.dumps(CARD)) | {"cluster": {"workers": 2}}
    assert parse_card(with_cluster).digest == parse_card(CARD).digest
    with pytest.raises(ValueError, match="grid_steps"):
        parse_card(json.loads(json.dumps(CARD)) | {"solver": {"grid_steps": 2.5}})


def test_cli_bad_cluster_options_exit_2_before_anything_starts(tmp_path):
    card = tmp_path / "scan.toml"
    card.write_text(CARD_TOML)
    for extra, message in ((["--workers", "0"], "positive integer"),
                           (["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], "exclude each other")):
        result = runner.invoke(app, ["scan", "--card", str(card), "--out", str(tmp_path / "o"), *extra])
        assert result.exit_code == 2 and message in result.output
    bad = tmp_path / "bad.toml"
    bad.write_text(CARD_TOML + "\n[cluster]\nworkers = 2\nscheduler = 'tcp://127.0.0.1:1'\n")
    result = runner.invoke(app, ["scan", "--card", str(bad), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "exclude each other" in result.output
    result = runner.invoke(app, ["envelope", "--masses", "1", "--out", str(tmp_path / "e"), "--workers", "-1"])
    assert result.exit_code == 2 and "positive integer" in result.output
    result = runner.invoke(app, ["envelope", "--masses", "1", "--out", str(tmp_path / "e"), "--schedule", "random"])
    assert result.exit_code == 2 and "--schedule" in result.output
    result = runner.invoke(app, ["envelope", "--masses", "1", "--out", str(tmp_path / "e"), "--gradient-cost", "0.5"])
    assert result.exit_code == 2 and "--gradient-cost" in result.output
    assert not (tmp_path / "o").exists() and not (tmp_path / "e").exists()


@pytest.mark.parametrize("n_masses", [1, 2, 5, 12])
@pytest.mark.parametrize("constraints", [(True, False), (True,), (False,)])
def test_envelope_waves_respect_the_warm_start_dependencies(n_masses, constraints):
    """Every (curve, mass) task exactly once; in the wave schedule the tasks a task warm-starts from (the neighbours on
    its curve, and the constrained point at its mass for the unconstrained curve) are either in an earlier wave or
    not yet done — never in the same wave — and two curves take three waves whatever the number of masses."""
    for schedule in ("chain", "waves"):
        waves = envelope_waves(n_masses, constraints, schedule)
        tasks = [t for w in waves for t in w]
        assert sorted(tasks) == sorted((b, i) for b in constraints for i in range(n_masses))
        wave_of = {t: k for k, w in enumerate(waves) for t in w}
        for (bau, i), k in wave_of.items():
            sources = [(bau, j) for j in (i - 1, i + 1) if 0 <= j < n_masses]
            if not bau and True in constraints:
                sources.append((True, i))
            assert all(wave_of[s] != k for s in sources)
            if schedule == "waves" and not bau and True in constraints:
                assert wave_of[(True, i)] < k  # the constrained point at the same mass always comes first
        if schedule == "waves":
            assert len(waves) == min(n_masses, 2) + len(constraints) - 1
            if n_masses > 1:  # odd masses start from both neighbours
                assert all(wave_of[(b, i)] > wave_of[(b, i - 1)] for b, i in tasks if i % 2)


# ---------------------------------------------------------------------------------------------------- slow: clusters


def _rows(out):
    return load_results(out)


def _assert_same_rows(a, b):
    for key in COMPARED:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The in-process scan of CARD (it also fills the run's compilation cache, which the workers then read)."""
    out = tmp_path_factory.mktemp("reference")
    report = run_scan(CARD, out, progress=False)
    assert report.solved_now == 16 and report.failed == 0
    rows = _rows(out)
    assert set(rows["worker"]) == {f"in-process ({os.uname().nodename}, pid {os.getpid()})"}
    return rows


@pytest.fixture(scope="module")
def local_cluster():
    """A LocalCluster of two worker processes (spawned, one thread each), as `--workers 2` starts it."""
    from lta_jax.studies.cluster import dask_client

    with dask_client(ClusterOptions(workers=2)) as client:
        yield client


@pytest.mark.slow
def test_scan_on_two_workers_equals_the_in_process_scan(reference, local_cluster, tmp_path):
    out = tmp_path / "cluster"
    address = local_cluster.scheduler.address
    report = run_scan(CARD, out, progress=False, cluster=ClusterOptions(scheduler=address))
    assert report.solved_now == 16 and report.failed == 0
    rows = _rows(out)
    _assert_same_rows(rows, reference)  # bit for bit: same compiled code, same inputs
    workers = set(local_cluster.scheduler_info()["workers"])
    assert {w.split(" ")[0] for w in rows["worker"]} <= workers  # every row names the worker that computed it
    import h5py
    with h5py.File(out / "results.h5", "r") as f:
        assert list(f["worker"].asstr()[...]) == list(rows["worker"])


@pytest.mark.slow
def test_killing_a_worker_mid_scan_loses_and_duplicates_nothing(reference, local_cluster, tmp_path):
    """SIGKILL one worker process (by its PID) while chunks are still queued: the scheduler gives its unfinished
    chunk to the other worker (the nanny restarts the dead one), every point is written exactly once, and the rows
    equal the in-process scan."""
    out = tmp_path / "killed"
    pids = local_cluster.run(os.getpid)  # {worker address: pid}
    outcome = {}

    def scan():
        try:
            outcome["report"] = run_scan(CARD, out, progress=False,
                                         cluster=ClusterOptions(scheduler=local_cluster.scheduler.address))
        except BaseException as err:  # noqa: BLE001 (reported by the test below)
            outcome["error"] = err

    thread = threading.Thread(target=scan)
    thread.start()
    chunks = out / "chunks"
    deadline = time.time() + 300
    victim = None
    while time.time() < deadline and thread.is_alive():
        busy = {w: keys for w, keys in local_cluster.processing().items() if keys}
        if list(chunks.glob("chunk_*.h5")) and busy:
            victim = next(iter(busy))  # a worker with a chunk in hand
            break
        time.sleep(0.01)
    assert victim is not None, "the scan finished before a worker could be killed"
    written_before = len(list(chunks.glob("chunk_*.h5")))
    os.kill(pids[victim], signal.SIGKILL)
    thread.join(timeout=600)
    assert not thread.is_alive() and "error" not in outcome, outcome.get("error")
    assert written_before < 16
    with pytest.raises(ProcessLookupError):
        os.kill(pids[victim], 0)  # it is really gone
    report = outcome["report"]
    assert report.solved_now == 16 and report.failed == 0
    rows = _rows(out)
    np.testing.assert_array_equal(rows["index"], np.arange(16))  # nothing lost, nothing twice
    assert len(list(chunks.glob("chunk_*.h5"))) == 16
    _assert_same_rows(rows, reference)


@pytest.mark.slow
def test_client_killed_with_sigkill_resumes(reference, tmp_path):
    """`lta-jax scan --workers 2` killed with SIGKILL after its first chunk file: the rerun (in-process) computes only
    the missing chunks, keeps the finished ones untouched, and the rows equal the uninterrupted scan's."""
    card = tmp_path / "scan.toml"
    card.write_text(CARD_TOML)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "lta_jax.cli.commands", "scan", "--card", str(card), "--out", str(out),
           "--workers", "2", "--no-progress"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    chunks = out / "chunks"
    try:
        deadline = time.time() + 300
        while time.time() < deadline and proc.poll() is None and not list(chunks.glob("chunk_*.h5")):
            time.sleep(0.01)
        assert proc.poll() is None, "scan ended before it could be killed: " + proc.stderr.read().decode()[-2000:]
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        try:  # the worker processes of its local cluster (same session), if they outlive it
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    finished = sorted(chunks.glob("chunk_*.h5"))
    assert 1 <= len(finished) < 16 and not (out / "results.h5").exists()
    stamps = {p.name: p.stat().st_mtime_ns for p in finished}
    report = run_scan(CARD, out, progress=False)
    assert report.done_before == len(finished) and report.solved_now == 16 - len(finished)
    assert all(p.stat().st_mtime_ns == stamps[p.name] for p in finished)  # not recomputed
    rows = _rows(out)
    np.testing.assert_array_equal(rows["index"], np.arange(16))
    _assert_same_rows(rows, reference)
    assert sum(w.startswith("in-process") for w in rows["worker"]) == 16 - len(finished)


@pytest.mark.slow
def test_envelope_on_a_cluster_equals_the_same_schedule_in_process(local_cluster, tmp_path):
    """The wave schedule gives the same envelope on two workers as in this process (warm starts come only from
    earlier waves), each point file names its worker, and the CLI accepts --scheduler."""
    from lta_jax.studies.envelope import run_envelope

    kw = dict(masses=[1.0, 2.0, 3.0], constraints=(True,), budget_per_mass=70, t_end=50.0, steps=100, candidates=2,
              progress=False, gradient_cost=4.0)  # fixed, not measured: the number of steps is the same everywhere
    here = run_envelope("provisional", tmp_path / "here", schedule="waves", **kw)
    result = runner.invoke(app, ["envelope", "--masses", "1", "2", "3", "--bau", "--budget-per-mass", "70",
                                 "--rates", "provisional", "--T-end", "50", "--grid-steps", "100",
                                 "--candidates", "2", "--out", str(tmp_path / "there"), "--no-progress", "--gradient-cost", "4",
                                 "--scheduler", local_cluster.scheduler.address])
    assert result.exit_code == 0, result.output
    there = json.loads((tmp_path / "there" / "envelope.json").read_text())
    assert [p["warm_starts"] for p in here["points"]] == [0, 2, 0]  # M = 2 starts from both neighbours
    for a, b in zip(here["points"], there["points"]):
        assert a["best"] == b["best"] and a["warm_starts"] == b["warm_starts"]
        assert a["worker"].startswith("in-process") and b["worker"].startswith("tcp://")
        assert a["schedule"] == b["schedule"] == "waves"


@pytest.mark.slow
def test_a_task_that_always_kills_its_worker_stops_with_one_line():
    """A task that takes down every worker it runs on ends the campaign with ClusterTaskFailed (one line naming the
    task; the command line prints it as `error: ...`, exit 1) instead of a KilledWorker traceback, and results that
    finished before it have been handed over already."""
    import dask
    from distributed import Client, LocalCluster

    from lta_jax.studies.cluster import ClusterTaskFailed, run_tasks

    got = {}
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
                Client(cluster) as client:
            with pytest.raises(ClusterTaskFailed) as info:
                run_tasks(client, [("fine", abs, (-3,)), ("crash", os._exit, (1,))],
                          lambda name, value: got.setdefault(name, value), in_flight_per_worker=1)
    message = str(info.value)
    assert "\n" not in message and "crash" in message and "rerun" in message
    assert got == {"fine": 3}
