"""Resumable scans (issue 5): card validation, deterministic plans, atomic chunk files, resume after kill -9."""

import json
import math
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from typer.testing import CliRunner

from lta_jax.cli.commands import app
from lta_jax.studies.scan import PRESETS, load_results, parse_card, plan_points, run_scan

runner = CliRunner()

CARD = {
    "scan": {"sampling": "sobol", "points": 6, "seed": 3, "preset": "large-lta", "chunk": 2, "strategy": "sequential"},
    "fixed": {"M": 1.0},
    "solver": {"T_end": 60.0},
}
CARD_TOML = """
[scan]
sampling = "sobol"
points = 6
seed = 3
preset = "large-lta"
chunk = 2
strategy = "sequential"

[fixed]
M = 1.0

[solver]
T_end = 60.0
"""


def test_plan_is_deterministic_and_inside_the_box():
    card = parse_card(CARD)
    a, b = plan_points(card), plan_points(card)
    for k in ("M", "delta_M", "im_omega", "re_omega", "delta", "eta"):
        np.testing.assert_array_equal(a[k], b[k])
    box = PRESETS["large-lta"]
    assert np.all(a["M"] == 1.0)  # fixed, not scanned
    assert np.all((np.log10(a["delta_M"]) >= box["log10_delta_M"][0]) & (np.log10(a["delta_M"]) <= -10.0))
    assert np.all(np.abs(a["im_omega"]) <= 0.2)
    assert np.all((a["re_omega"] >= 0.4 * math.pi) & (a["re_omega"] <= 0.6 * math.pi))
    assert len(set(a["delta"])) == 6


def test_grid_plan():
    card = parse_card({"scan": {"sampling": "grid"},
                       "parameters": {"log10_delta_M": {"range": [-12, -10], "n": 3},
                                      "re_omega": {"range": ["0.4pi", "0.6pi"], "n": 2}}})
    pts = plan_points(card)
    assert card.n_points == 6
    np.testing.assert_allclose(sorted(set(np.round(np.log10(pts["delta_M"]), 12))), [-12, -11, -10])
    np.testing.assert_allclose(sorted(set(pts["re_omega"])), [0.4 * math.pi, 0.6 * math.pi])


@pytest.mark.parametrize("card, match", [
    ({"scan": {"sampling": "lhs", "points": 4}, "parameters": {"eta": [0, 1]}}, "sampling"),
    ({"scan": {"sampling": "grid"}, "parameters": {"eta": [0, 1]}}, "count n"),
    ({"scan": {"sampling": "random"}, "parameters": {"eta": [0, 1]}}, "points"),
    ({"scan": {"points": 4, "preset": "tiny"}}, "preset"),
    ({"scan": {"points": 4}, "parameters": {"mass": [0, 1]}}, "unknown scan parameters"),
    ({"scan": {"points": 4}, "parameters": {"eta": [1, 0]}}, "lo ≤ hi"),
    ({"scan": {"points": 4, "colour": 1}, "parameters": {"eta": [0, 1]}}, "unknown keys"),
    ({"scan": {"points": 4}}, "nothing to scan"),
    ({"scan": {"points": 4}, "fixed": {"hierarchy": "XH"}, "parameters": {"eta": [0, 1]}}, "hierarchy"),
    ({"scan": {"points": 4}, "parameters": {"eta": [0, 1]}, "solver": {"tolerance": "sloppy"}}, "tolerance"),
    ({"scan": {"points": 4}, "parameters": {"eta": [0, 1]}, "solver": {"grid_pilot": 16}}, "needs grid_steps"),
    ({"scan": {"points": 4}, "parameters": {"eta": [0, 1]}, "solver": {"grid_steps": 200, "grid_pilot": 1}},
     "grid_pilot must be"),
])
def test_bad_cards(card, match):
    with pytest.raises(ValueError, match=match):
        parse_card(card)


def test_grid_pilot_reaches_the_solver_options():
    from lta_jax.studies.scan import _solver_options

    card = parse_card({"scan": {"points": 4}, "parameters": {"eta": [0, 1]},
                       "solver": {"grid_steps": 200, "grid_pilot": 16}})
    options = _solver_options(card)
    assert (options.fixed_steps, options.grid_pilot) == (200, 16)
    assert parse_card({"scan": {"points": 4}, "parameters": {"eta": [0, 1]},
                       "solver": {"grid_steps": 200}}).digest != card.digest


def test_cli_bad_card_exits_2(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[scan]\nsampling = 'grid'\n[parameters]\neta = [0, 1]\n")
    result = runner.invoke(app, ["scan", "--card", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "count n" in result.output
    assert not (tmp_path / "o").exists()


@pytest.mark.slow  # long run (≥ 60 s on 2 cores in the default suite, 2026-12-02): the bounded slow step of .ci/run
def test_resume_after_kill_9(tmp_path):
    """Start a scan in a subprocess, kill -9 it after the first chunk file appears, resume: every point exactly once,
    finished chunks are not recomputed, and the rows equal an uninterrupted scan's rows."""
    card_path = tmp_path / "scan.toml"
    card_path.write_text(CARD_TOML)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "lta_jax.cli.commands", "scan", "--card", str(card_path), "--out", str(out), "--no-progress"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 300
    chunks = out / "chunks"
    try:
        while time.time() < deadline:
            if list(chunks.glob("chunk_*.h5")) or proc.poll() is not None:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "scan finished before it could be killed: " + proc.stderr.read().decode()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    finished = sorted(chunks.glob("chunk_*.h5"))
    assert 1 <= len(finished) < 3 and not (out / "results.h5").exists()
    stamps = {p.name: p.stat().st_mtime_ns for p in finished}
    partial = load_results(out)
    assert len(partial["index"]) == 2 * len(finished)

    report = run_scan(CARD, out, progress=False)  # resume in-process
    assert report.done_before == 2 * len(finished) and report.solved_now == 6 - report.done_before
    for p in finished:  # not recomputed
        assert p.stat().st_mtime_ns == stamps[p.name]
    rows = load_results(out)
    np.testing.assert_array_equal(rows["index"], np.arange(6))
    assert list(rows["status"]) == ["success"] * 6
    assert np.isfinite(rows["Y_B"]).all()
    # consolidated file equals the chunk files
    import h5py
    with h5py.File(out / "results.h5", "r") as f:
        np.testing.assert_array_equal(f["index"][...], np.arange(6))
        np.testing.assert_array_equal(f["Y_B"][...], rows["Y_B"])
    # an uninterrupted scan gives the same rows
    fresh = run_scan(CARD, tmp_path / "fresh", progress=False)
    assert fresh.solved_now == 6
    np.testing.assert_allclose(load_results(tmp_path / "fresh")["Y_B"], rows["Y_B"], rtol=1e-10)
    # a rerun of a complete scan solves nothing
    assert run_scan(CARD, out, progress=False).solved_now == 0
    # a different card is refused for the same directory
    other = json.loads(json.dumps(CARD))
    other["scan"]["seed"] = 4
    with pytest.raises(ValueError, match="different card"):
        run_scan(other, out, progress=False)
