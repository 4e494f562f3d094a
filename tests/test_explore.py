"""lta-jax explore (issue 36): settings refused before any compilation, the coordinate transforms and CP folding,
and a small run end to end — outputs, folding, box, resumption (lta_jax/studies/explore.py; docs/exploration.md)."""

import json
import math
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest

from lta_jax.studies.explore import (BOXES, OBSERVABLES, PARAMETERS, ExploreSettings, _fold, check_settings,
                                     explore)


@pytest.mark.parametrize("change, message", [({"mass": 0.0}, "M must"), ({"hierarchy": "XH"}, "hierarchy"),
                                             ({"box": "tiny"}, "box"), ({"bau_width": 0.0}, "bau_width"),
                                             ({"chains": 0}, "chains"), ({"budget": 1e12}, "budget"),
                                             ({"kernel": "mala"}, "kernel"), ({"warmup": 2}, "warmup")])
def test_bad_settings_refused(change, message):
    with pytest.raises(ValueError, match=message):
        check_settings(ExploreSettings(**{"mass": 2.0, **change}))


def test_command_line_refuses_before_compiling(tmp_path):
    """A bad option or an output that is a file exits 2 within seconds (no JAX compilation)."""
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    for args in (["--M", "2", "--out", str(not_a_dir)], ["--M", "50", "--out", str(tmp_path / "o")],
                 ["--M", "2", "--chains", "0", "--out", str(tmp_path / "o")],
                 ["--M", "2", "--workers", "0", "--out", str(tmp_path / "o")],
                 ["--M", "2", "--workers", "2", "--scheduler", "tcp://x:1", "--out", str(tmp_path / "o")]):
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "lta_jax.cli.commands", "explore", *args], capture_output=True,
                              text=True)
        assert proc.returncode == 2, proc.stderr
        assert time.perf_counter() - start < 20
        assert "Traceback" not in proc.stderr


class _Box:
    """What _fold needs of the target: the box's lower edges and widths."""

    def __init__(self, box):
        self.lo = np.array([box[k][0] for k in PARAMETERS])
        self.width = np.array([box[k][1] - box[k][0] for k in PARAMETERS])


def test_warmup_fits_in_half_the_budget():
    """The warm-up is cut so that, with every step at its largest number of gradients, it costs at most half the
    remaining budget — never below the minimum of 10 steps, never above the requested number."""
    from lta_jax.studies.explore import MIN_WARMUP, affordable_warmup

    nuts = ExploreSettings(mass=2.0, chains=4, warmup=100, max_doublings=6)
    assert affordable_warmup(nuts, 40000.0, 2.5) == 31  # ⌊0.5 · 40000 / (4 · 64 · 2.5)⌋
    assert 4 * 31 * 64 * 2.5 <= 0.5 * 40000 < 4 * 32 * 64 * 2.5
    assert affordable_warmup(nuts, 1.0, 2.5) == MIN_WARMUP == 10
    assert affordable_warmup(nuts, 1e9, 2.5) == 100
    hmc = ExploreSettings(mass=2.0, chains=2, warmup=100, kernel="hmc", hmc_steps=8)
    assert affordable_warmup(hmc, 2000.0, 2.0) == 31  # ⌊0.5 · 2000 / (2 · 8 · 2)⌋


def test_cp_folding_maps_into_the_box_and_flips_asymmetries():
    box = _Box(BOXES["large-lta"])
    theta = np.array([[-11.0, 0.1, 0.5 * math.pi, 1.0, 2.0], [-10.5, -0.05, 0.45 * math.pi, 6.0, 0.3]])
    obs = np.array([[-1e-10, 2e-6, 1e-6, 5e-7, 5e-7, 3e-6], [2e-10, -1e-6, 0, 0, 0, 1e-6]])
    t2, o2, flip = _fold(theta, obs, box)
    assert flip.tolist() == [True, False]
    np.testing.assert_allclose(t2[0], [-11.0, -0.1, 0.5 * math.pi, 2 * math.pi - 1.0, 2 * math.pi - 2.0])
    np.testing.assert_allclose(o2[0], [1e-10, -2e-6, -1e-6, -5e-7, -5e-7, 3e-6])
    np.testing.assert_array_equal(t2[1], theta[1])
    assert np.all(t2[:, 3:] >= 0) and np.all(t2[:, 3:] < 2 * math.pi)


@pytest.mark.slow  # compiles NUTS through reverse-mode Magnus (≈ 1–2 min on 2 cores): the bounded slow step
def test_small_run_outputs_fold_and_resume(tmp_path):
    """Two chains, a short warm-up: samples.h5 holds (chains, draws) per parameter and observable, every draw has
    Y_B > 0 (CP folding) and lies in the box, summary.json is strict JSON with R-hat/ESS per parameter; a rerun with
    a larger budget continues the same chains (the first draws are kept, more are added)."""
    out = tmp_path / "run"
    kw = dict(chains=2, warmup=10, block=4, steps=120, bau_width=0.5, progress=False, out=out)
    first = explore(2.0, budget=1.0, **kw)
    n1 = first.summary["draws_per_chain"]
    assert n1 == 4 and first.summary["warmup_steps_run"] == 10 and first.summary["budget_exceeded"]
    with h5py.File(out / "samples.h5") as f:
        for name in PARAMETERS + OBSERVABLES:
            assert f[name].shape == (2, n1)
        y_b = np.asarray(f["Y_B"])
        theta = {k: np.asarray(f[k]) for k in PARAMETERS}
    assert np.all(y_b > 0)
    for k, (lo, hi) in BOXES["large-lta"].items():
        assert np.all(theta[k] >= lo - 1e-12) and np.all(theta[k] <= hi + 1e-12), k
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["rhat"]) >= set(PARAMETERS)
    assert summary["solve_equivalents"] > 0
    spent = first.summary["solve_equivalents"]
    # room for one more block of 2 chains × 4 draws × ≤ 63 gradients, not for two
    per_block = 2 * 4 * (first.summary["gradient_evaluations_after_warmup"] / (2 * n1)
                         * first.summary["gradient_cost_solve_equivalents"] + 1)
    second = explore(2.0, budget=spent + 1.5 * per_block, **kw)
    assert second.summary["draws_per_chain"] in (n1 + 4, n1 + 8)
    np.testing.assert_array_equal(second.samples["Y_B"][:, :n1], y_b)
    with pytest.raises(ValueError, match="other settings"):
        explore(2.0, budget=1.0, **{**kw, "bau_width": 0.3})


class _Gaussian:
    """A known target for the sampler code: independent normals with means μ and widths σ in 5 dimensions."""

    mean = np.array([0.5, -1.0, 0.0, 2.0, 0.3])
    sigma = np.array([0.1, 1.0, 0.5, 2.0, 0.05])

    def log_density(self, z):
        import jax.numpy as jnp

        return -0.5 * jnp.sum(((z - self.mean) / self.sigma) ** 2)


def test_sampler_code_on_a_known_gaussian():
    """The warm-up, the vmapped NUTS blocks and the R-hat/ESS diagnostics of lta_jax.studies.explore on a Gaussian of
    very different widths: R-hat ≤ 1.05, ESS ≥ 100 of 4 × 300 draws for every coordinate, means within 4 standard
    errors and widths within 15 %."""
    import jax
    import jax.numpy as jnp

    from lta_jax.studies.explore import _diagnostics, _init_state, _make_step, _run_block, _warm_up

    target = _Gaussian()
    settings = ExploreSettings(mass=2.0, chains=4, warmup=200, block=100)
    z0 = target.mean + np.random.default_rng(0).normal(size=(4, 5)) * 3 * target.sigma
    params, positions, _, _ = _warm_up(target, settings, z0, jax.random.PRNGKey(1), settings.warmup)
    step = _make_step(target, settings, params)
    states = jax.vmap(lambda z: _init_state("nuts", z, target.log_density))(jnp.asarray(positions))
    blocks, key = [], jax.random.PRNGKey(2)
    for _ in range(3):
        key, sub = jax.random.split(key)
        states, infos = _run_block(step, states, sub, settings.block, settings.chains)
        blocks.append(np.asarray(infos.position))
    draws = np.concatenate(blocks, axis=1)  # (chains, draws, 5)
    for i in range(5):
        rhat, ess = _diagnostics(draws[..., i])
        assert rhat <= 1.05 and ess >= 100, (i, rhat, ess)
        x = draws[..., i].ravel()
        assert abs(x.mean() - target.mean[i]) < 4 * target.sigma[i] / math.sqrt(ess), i
        assert abs(x.std() / target.sigma[i] - 1) < 0.15, i


def test_transforms_edges_periodicity_and_jacobian():
    """Bounded coordinates stay strictly inside (0, 1) even far out; periodic ones wrap (z and z + 1 are the same
    point); the log-Jacobian makes the flat prior a normalised density in z (∫ σ(z)(1 − σ(z)) dz = 1)."""
    import jax.numpy as jnp

    from lta_jax.studies.explore import log_jacobian, to_unit

    periodic = np.array([False, False, False, True, True])
    z = jnp.asarray([-40.0, 0.0, 40.0, 3.25, -0.75])
    v = np.asarray(to_unit(z, periodic))
    assert 0.0 <= v[0] < 1e-15 and v[1] == 0.5 and 1 - 1e-15 < v[2] <= 1.0
    np.testing.assert_allclose(v[3:], [0.25, 0.25])
    np.testing.assert_allclose(np.asarray(to_unit(z + 1.0, periodic))[3:], v[3:])
    grid = np.linspace(-40, 40, 200001)
    dens = np.exp([float(log_jacobian(jnp.asarray([g, 0, 0, 0, 0.0]), periodic)) for g in grid[::100]])
    integral = float(np.sum(dens) * (grid[100] - grid[0])) / 0.25**2
    assert abs(integral - 1) < 1e-3
    assert float(log_jacobian(jnp.asarray([0.0, 0, 0, 5.0, -7.0]), periodic)) == pytest.approx(3 * np.log(0.25))


def test_cluster_runs_are_refused_where_they_cannot_run(tmp_path):
    """A cluster run needs an output directory (its groups write there) and a rate specification string; a directory
    of one kind of run is not reused by the other — all refused before anything starts."""
    from lta_jax.rates.provisional import ProvisionalRates
    from lta_jax.studies.cluster import ClusterOptions

    cluster = ClusterOptions(workers=2)
    with pytest.raises(ValueError, match="output directory"):
        explore(2.0, chains=2, cluster=cluster)
    with pytest.raises(ValueError, match="specification string"):
        explore(2.0, chains=2, cluster=cluster, out=tmp_path / "a", rates=ProvisionalRates())
    (tmp_path / "b" / "groups").mkdir(parents=True)
    with pytest.raises(ValueError, match="holds a cluster run"):
        explore(2.0, chains=2, out=tmp_path / "b")
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "state.npz").write_bytes(b"")
    with pytest.raises(ValueError, match="holds an in-process run"):
        explore(2.0, chains=2, cluster=cluster, out=tmp_path / "c")


@pytest.mark.slow  # two workers, each compiling the sampler (≈ 3 min on 2 cores)
def test_chains_in_groups_on_a_local_cluster_and_resume(tmp_path):
    """--workers 2: the chains run in two groups (one per worker, own directory and seed), their draws are merged
    into one (chains, draws) set with R-hat/ESS over all chains; a rerun with a larger budget continues every
    group's chains."""
    from lta_jax.studies.cluster import ClusterOptions

    out = tmp_path / "run"
    kw = dict(chains=2, warmup=10, block=4, steps=120, bau_width=0.5, progress=False, out=out,
              cluster=ClusterOptions(workers=2))
    first = explore(2.0, budget=1.0, **kw)
    assert first.summary["cluster"]["groups"] == 2 and first.summary["cluster"]["chains_per_group"] == [1, 1]
    n1 = first.summary["draws_per_chain"]
    assert n1 == 4
    with h5py.File(out / "samples.h5") as f:
        for name in PARAMETERS + OBSERVABLES:
            assert f[name].shape == (2, n1)
        assert np.all(np.asarray(f["Y_B"]) > 0)
    assert (out / "groups" / "0" / "state.npz").exists() and (out / "groups" / "1" / "state.npz").exists()
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["rhat"]) >= set(PARAMETERS) and summary["solve_equivalents"] > 0
    spent = first.summary["solve_equivalents"]
    second = explore(2.0, budget=4 * spent, **kw)
    assert second.summary["draws_per_chain"] > n1
    np.testing.assert_array_equal(second.samples["Y_B"][:, :n1], first.samples["Y_B"])
