"""Batched solves (issue 5): same numbers as single solves, per-point status, errors before compilation."""

import math

import numpy as np
import pytest

import lta_jax.studies.batch as batch
from lta_jax import ModelParameters, ProvisionalRates, SolverOptions, solve, solve_batch, summary
from lta_jax.studies.batch import BATCH_OBSERVABLES, parameter_arrays

FAST = SolverOptions(rtol=1e-6, atol_density=1e-9, atol_asymmetry=1e-16, n_save=200)
POINTS = dict(M=[1.0, 1.0, 1.0], delta_M=[1.26e-11, 3e-12, 8e-11], im_omega=[-0.14, 0.1, 0.05],
              re_omega=[0.52 * math.pi, 0.45 * math.pi, 0.55 * math.pi], delta=[1.3 * math.pi, 0.3, 4.0],
              eta=[1.02 * math.pi, 2.0, 5.5])
T_END = 40.0


@pytest.fixture(scope="module")
def threaded():
    return solve_batch(POINTS, ProvisionalRates(), t_end=T_END, solver_options=FAST, strategy="threads", workers=2)


def test_batch_equals_single_solves(threaded):
    """Every batch row equals the corresponding single solve + summary (same compiled equations)."""
    assert list(threaded.status) == ["success"] * 3
    for i in range(3):
        p = ModelParameters(*(POINTS[k][i] for k in ("M", "delta_M", "im_omega", "re_omega", "delta", "eta")))
        s = summary(solve(p, ProvisionalRates(), t_end=T_END, solver_options=FAST))
        expected = {"Y_B": s["Y_B"], "Y_B_sphaleron": s["Y_B_sphaleron"], "Y_L_sph": s["Y_L_sph"],
                    "Y_L_end": s["Y_L_end"], "Y_De_end": s["Y_Delta_end"][0], "Y_Dmu_end": s["Y_Delta_end"][1],
                    "Y_Dtau_end": s["Y_Delta_end"][2], "Delta_N_end": s["Delta_N_end"],
                    "max_abs_Y_e": s["max_abs_Y_e"], "Y_e_at_max": s["Y_e_at_max"], "T_max_Y_e": s["T_max_Y_e"]}
        for key, value in expected.items():
            # Batch and single solve are separately compiled programs (round-off differs at 1e-16; the adaptive
            # solves then agree to ~1e-8). The stiff sphaleron equation amplifies that: measured 2.7e-6.
            rel = 1e-5 if key == "Y_B_sphaleron" else 1e-6
            assert threaded.observables[key][i] == pytest.approx(value, rel=rel, abs=1e-25), key
        assert threaded.steps[i] == s["steps"]
    # the three points are different physics, not copies of one row
    assert len(set(np.round(threaded.observables["Y_B"] / 1e-14))) == 3


@pytest.mark.slow  # long physics run (≥ 25 s on 2 cores, 2026-12-01): the bounded slow step of .ci/run
def test_vmap_and_sequential_agree_with_threads(threaded):
    """vmap steps all points in lock-step (its own compiled program) and must give the same physics."""
    for strategy, chunk in (("vmap", 2), ("sequential", None)):
        other = solve_batch(POINTS, ProvisionalRates(), t_end=T_END, solver_options=FAST, strategy=strategy,
                            chunk_size=chunk)
        assert list(other.status) == ["success"] * 3
        for key in BATCH_OBSERVABLES:
            np.testing.assert_allclose(other.observables[key], threaded.observables[key], rtol=1e-5, atol=1e-22,
                                       err_msg=f"{strategy}: {key}")


def test_failed_point_is_reported_not_returned_as_numbers():
    """A point that hits max_steps gets its diffrax status and NaN observables; its neighbours are unaffected."""
    pts = dict(POINTS)
    pts["delta_M"] = [1.26e-11, 1e-9, 8e-11]  # ΔM = 1e-9: ~10⁵ rad of oscillations before 40 GeV
    # Kvaerno5 resolves every oscillation, so this point needs > 3000 steps (the Magnus default succeeds on it).
    opts = SolverOptions.kvaerno5(rtol=1e-6, atol_density=1e-9, atol_asymmetry=1e-16, atol_hnl_asymmetry=1e-16,
                                  n_save=200, max_steps=3000)
    result = solve_batch(pts, ProvisionalRates(), t_end=T_END, solver_options=opts, strategy="threads")
    assert list(result.status) == ["success", "max_steps_reached", "success"]
    assert list(result.succeeded) == [True, False, True]
    for key in BATCH_OBSERVABLES:
        assert math.isnan(result.observables[key][1]), key
        assert np.isfinite(result.observables[key][[0, 2]]).all(), key
    rows = result.rows()
    assert rows[1]["status"] == "max_steps_reached" and math.isnan(rows[1]["Y_B"])


def test_bad_point_rejected_before_compilation(monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("compiled before validation")

    monkeypatch.setattr(batch, "_point_jit", boom)
    monkeypatch.setattr(batch, "_chunk_vmap", boom)
    bad = dict(POINTS, M=[1.0, 1.0, -2.0])
    with pytest.raises(ValueError, match="batch point 2: HNL mass M must be positive"):
        solve_batch(bad, ProvisionalRates(), t_end=T_END)
    bad = dict(POINTS, delta_M=[1e-11, float("nan"), 1e-11])
    with pytest.raises(ValueError, match="batch point 1: .*finite"):
        solve_batch(bad, ProvisionalRates(), t_end=T_END, strategy="vmap")
    with pytest.raises(ValueError, match="batch point 0: T_end"):
        solve_batch(POINTS, ProvisionalRates(), t_start=100.0, t_end=200.0)
    with pytest.raises(ValueError, match="unknown strategy"):
        solve_batch(POINTS, ProvisionalRates(), strategy="gpu-please")


def test_parameter_forms():
    as_list = [ModelParameters(1.0, 1e-11, 0.1, 1.5, 0.0, 0.0), ModelParameters(2.0, 2e-11, 0.2, 1.6, 0.1, 0.2)]
    arrays = parameter_arrays(as_list)
    np.testing.assert_array_equal(arrays["M"], [1.0, 2.0])
    batched = ModelParameters(np.array([1.0, 2.0]), np.array([1e-11, 2e-11]), 0.1, 1.5, hierarchy="IH")
    arrays = parameter_arrays(batched)
    assert arrays["hierarchy"] == "IH" and arrays["im_omega"].shape == (2,)
    with pytest.raises(ValueError, match="one hierarchy per batch"):
        parameter_arrays([ModelParameters(1.0, 1e-11), ModelParameters(1.0, 1e-11, hierarchy="IH")])
    with pytest.raises(ValueError, match="different lengths"):
        parameter_arrays(dict(POINTS, M=[1.0, 2.0]))
    with pytest.raises(ValueError, match="missing"):
        parameter_arrays({"M": [1.0]})


@pytest.mark.slow  # long physics run (≥ 25 s on 2 cores, 2026-12-01): the bounded slow step of .ci/run
def test_vmap_sharded_over_two_host_devices(tmp_path):
    """With two (virtual) local devices the vmap chunks are sharded over both and give the same numbers."""
    import json
    import os
    import subprocess
    import sys

    script = tmp_path / "sharded.py"
    script.write_text(
        "import json, math, jax\n"
        "from lta_jax import solve_batch, ProvisionalRates, SolverOptions\n"
        f"pts = {POINTS!r}\n"
        "pts = {k: v[:2] for k, v in pts.items()}\n"
        "opts = SolverOptions(rtol=1e-6, atol_density=1e-9, atol_asymmetry=1e-16, n_save=200)\n"
        f"r = solve_batch(pts, ProvisionalRates(), t_end={T_END}, solver_options=opts, strategy='vmap')\n"
        "print(json.dumps({'devices': len(jax.local_devices()), 'status': list(map(str, r.status)),"
        " 'Y_B': r.observables['Y_B'].tolist(), 'chunk': r.chunk_size}))\n")
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2", JAX_PLATFORMS="cpu")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    data = json.loads(out.stdout.strip().splitlines()[-1])
    assert data["devices"] == 2 and data["chunk"] == 2 and data["status"] == ["success", "success"]
    reference = solve_batch({k: v[:2] for k, v in POINTS.items()}, ProvisionalRates(), t_end=T_END,
                            solver_options=FAST, strategy="threads")
    np.testing.assert_allclose(data["Y_B"], reference.observables["Y_B"], rtol=1e-5)


def test_auto_strategy_is_the_measured_default_for_fixed_grids_too(monkeypatch):
    """strategy='auto' is threads on CPU and vmap on an accelerator, fixed grids included (threads measured 1.3–1.7×
    faster than vmap for fixed grids on the 2-core CPU; batch module docstring)."""
    opts = SolverOptions.fixed_grid(50, n_save=26)
    pts = {k: v[:2] for k, v in POINTS.items()}
    assert solve_batch(pts, ProvisionalRates(), t_end=T_END, solver_options=opts).strategy == "threads"
    monkeypatch.setattr(batch, "default_strategy", lambda: "vmap")  # what an accelerator backend returns
    result = solve_batch(pts, ProvisionalRates(), t_end=T_END, solver_options=opts)
    assert result.strategy == "vmap" and list(result.status) == ["success"] * 2


def test_threads_solve_chunks_of_points_per_call():
    """'threads' hands each worker chunks of points (one compiled lax.map call each; chunk sizes are powers of two up
    to THREAD_CHUNK, so a handful of programs covers every batch size); the rows equal per-point solves to round-off,
    in input order, with padding dropped."""
    assert [batch.thread_chunk(n, 2) for n in (1, 2, 3, 5, 9, 17, 33, 1000)] == [1, 1, 2, 2, 4, 8, 16, 16]
    assert batch.thread_chunk(7, 1) == 4 and batch.thread_chunk(100, 16) == 4
    opts = SolverOptions.fixed_grid(50, n_save=26)
    pts = {k: v + v[:2] for k, v in POINTS.items()}  # 5 points: chunks of 2 (the last one padded)
    chunked = solve_batch(pts, ProvisionalRates(), t_end=T_END, solver_options=opts, strategy="threads", workers=2)
    single = solve_batch(pts, ProvisionalRates(), t_end=T_END, solver_options=opts, strategy="sequential")
    assert chunked.chunk_size == 2 and chunked.workers == 2 and single.chunk_size == 1
    assert list(chunked.status) == ["success"] * 5
    for key in BATCH_OBSERVABLES:
        np.testing.assert_allclose(chunked.observables[key], single.observables[key], rtol=1e-9, atol=1e-30,
                                   err_msg=key)
    np.testing.assert_array_equal(chunked.observables["Y_B"][3:], chunked.observables["Y_B"][:2])
