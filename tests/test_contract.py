"""The newcomer contract: every module imports, bad input fails fast, stdout carries only strict JSON."""

import importlib
import json
import os
import pathlib
import subprocess
import sys
import time

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "lta_jax"


def test_every_module_imports():
    modules = sorted(".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts)
                     for p in PACKAGE.rglob("*.py"))
    assert len(modules) > 25
    for name in modules:
        importlib.import_module(name.removesuffix(".__init__"))


def _distribution_names(requirements) -> set[str]:
    return {d.split(">")[0].split("=")[0].split(";")[0].split("<")[0].strip().lower() for d in requirements}


def test_declared_dependencies_cover_every_import():
    """Every third-party module the package imports is declared in pyproject.toml (a fresh install would fail): the
    plain dependencies cover every import at module level; an optional extra (Dask: ``cluster``) may only be imported
    inside functions, so a plain install still imports every module (the main job does not need it)."""
    import ast
    import tomllib

    project = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())["project"]
    names = _distribution_names(project["dependencies"])
    extras = {name: _distribution_names(reqs) for name, reqs in project["optional-dependencies"].items()}
    optional = set().union(*(reqs for name, reqs in extras.items() if name != "test"))
    assert {"dask", "distributed"} <= extras["cluster"] <= extras["test"]  # the suite runs the cluster tests
    distribution = {"jaxlib": "jaxlib", "yaml": "pyyaml"}
    stdlib = set(sys.stdlib_module_names) | {"lta_jax", "__future__"}
    missing, eager_optional = set(), set()
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        module_level = {id(node) for stmt in tree.body for node in ast.walk(stmt)
                        if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
        for node in ast.walk(tree):
            mods = []
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                mods = [node.module]
            for mod in mods:
                top = distribution.get(mod.split(".")[0], mod.split(".")[0])
                if top in stdlib or top.lower() in names:
                    continue
                if top.lower() not in optional:
                    missing.add(top)
                elif id(node) in module_level:
                    eager_optional.add(f"{top} in {path.relative_to(PACKAGE.parent)}")
    assert not missing, f"imported but not declared in pyproject.toml: {sorted(missing)}"
    assert not eager_optional, f"optional dependencies imported at module level: {sorted(eager_optional)}"


def test_cluster_without_dask_is_a_clear_error(monkeypatch):
    """A plain install has no Dask: asking for a cluster says which extra to install, before anything starts."""
    import importlib.util

    from lta_jax.studies import cluster

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "distributed" else real(name, *a))
    with pytest.raises(ValueError, match=r"need Dask.*missing: distributed.*\.\[cluster\]"):
        cluster.cluster_options(workers=2)
    with pytest.raises(ValueError, match=r"need Dask.*\.\[cluster\]"):  # options built in Python say it too
        cluster.ClusterOptions(scheduler="tcp://localhost:8786")
    assert cluster.cluster_options() is None  # in-process campaigns do not need it


@pytest.mark.parametrize("args", [["--T-start", "100", "--T-end", "200"], ["--T-end", "0.01"], ["--M", "50"],
                                  ["--M", "0.05"], ["--max-steps", "0"], ["--solver", "rk4"],
                                  ["--kinetics", "resolved", "--rates", "provisional"], ["--modes", "24"],
                                  ["--kinetics", "resolved", "--modes", "1"], ["--kinetics", "exact"]])
def test_bad_input_exits_2_fast(args, tmp_path):
    """Exit 2 with a message on stderr, before JAX is imported (measured 0.3 s on the 2-core machine; bound 4 s)."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "lta_jax.cli.commands", "solve", *args], capture_output=True,
                          text=True, cwd=tmp_path, timeout=120)
    elapsed = time.perf_counter() - t0
    assert proc.returncode == 2, proc.stderr
    assert "error:" in proc.stderr and proc.stdout == ""
    assert elapsed < 4, f"rejection took {elapsed:.1f} s"


BAD_CARD = "[scan]\nsampling = 'grid'\n[parameters]\neta = [0, 1]\n"


@pytest.mark.parametrize("args", [["scan", "--card", "bad.toml", "--out", "o"],
                                  ["scan", "--card", "bad.toml", "--out", "o", "--workers", "0"],
                                  ["optimise", "--objective", "nope"], ["optimise", "--budget", "0"],
                                  ["optimise", "--gradient-cost", "0.5"],
                                  ["envelope", "--masses", "-1", "--out", "o"],
                                  ["envelope", "--masses", "1", "--out", "o", "--schedule", "random"],
                                  ["envelope", "--masses", "1", "--out", "o", "--workers", "2", "--scheduler", "x"]])
def test_bad_study_input_exits_2_fast(args, tmp_path):
    """Scans, the optimiser and envelopes reject bad options and cards before JAX is imported, and start nothing
    (measured 0.6 s on the 2-core machine, from 5–6.6 s before their checks moved ahead of the imports; bound 4 s)."""
    (tmp_path / "bad.toml").write_text(BAD_CARD)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "lta_jax.cli.commands", *args], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120)
    elapsed = time.perf_counter() - t0
    assert proc.returncode == 2, proc.stderr
    assert "error" in proc.stderr and proc.stdout == "" and not (tmp_path / "o").exists()
    assert elapsed < 4, f"rejection took {elapsed:.1f} s"


def test_command_line_checks_input_without_importing_jax():
    """The plain-Python checks of the command line (and the package's top level) import no JAX; the same solver
    names and step limit as the solver stage; float64 is on however JAX and lta_jax are imported. (``main`` relies on
    it too: its prompt-exit handler, registered first, must run after JAX's exit handlers.)"""
    code = ("import sys, lta_jax, lta_jax.cli.commands, lta_jax.cli.checks; assert 'jax' not in sys.modules; "
            "from lta_jax.cli.checks import SOLVER_NAMES, DEFAULT_MAX_STEPS; "
            "from lta_jax.solver.integrate import SOLVERS, SolverOptions; "
            "assert set(SOLVERS) == set(SOLVER_NAMES) and SolverOptions().max_steps == DEFAULT_MAX_STEPS; "
            "import jax.numpy as jnp; assert jnp.ones(1).dtype == jnp.float64; "
            "assert lta_jax.solver.solve_arrays and lta_jax.solve")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    first_jax = "import jax, lta_jax.model.parameters, jax.numpy as jnp; assert jnp.ones(1).dtype == jnp.float64"
    subprocess.run([sys.executable, "-c", first_jax], check=True, timeout=120)


def test_failed_solve_gives_strict_json_with_nulls(tmp_path):
    """A solve stopped by --max-steps: exit 1, strict JSON (no NaN tokens), observables null, status says why."""
    env = dict(os.environ, LTA_JAX_CACHE_DIR=str(tmp_path / "cache"))
    proc = subprocess.run([sys.executable, "-m", "lta_jax.cli.commands", "solve", "--rates", "provisional",
                           "--max-steps", "5", "--T-end", "50"], capture_output=True, text=True, cwd=tmp_path,
                          timeout=600, env=env)
    assert proc.returncode == 1, proc.stderr
    # The solve was exported as a program (no tracing in a repeated command) and its compilation went to the persistent
    # compilation cache (neither would happen with host callbacks in it).
    assert list((tmp_path / "cache" / "programs").glob("solve-*.jaxexport")), "solve program not exported"
    assert list((tmp_path / "cache" / "programs").glob("system-*.jaxexport")), "set-up program not exported"
    assert list((tmp_path / "cache" / "jax").glob("jit_call_exported-*")), "solve not in the compilation cache"
    again = subprocess.run(proc.args, capture_output=True, text=True, cwd=tmp_path, timeout=600, env=env)
    assert again.returncode == 1 and len(list((tmp_path / "cache" / "programs").glob("solve-*"))) == 1
    assert len(list((tmp_path / "cache" / "programs").glob("system-*"))) == 1
    first, second = (json.loads(p.stdout) for p in (proc, again))
    first.pop("wall_time_s"), second.pop("wall_time_s")
    assert first == second  # the program read back gives the same result as the one exported

    def reject(token):
        raise ValueError(f"non-strict JSON token {token}")

    out = json.loads(proc.stdout, parse_constant=reject)
    assert out["status"] == "max_steps_reached"
    assert out["Y_B"] is None and out["Y_L_end"] is None and out["Y_Delta_end"] == [None, None, None]
    assert out["inputs"]["max_steps"] == 5


def test_progress_bars_write_to_stderr():
    from lta_jax.studies.optimise import _progress

    with _progress(True, 3, "optimising") as bar:  # the package's one progress implementation (studies/output.py)
        assert bar.bar.console.stderr
        bar.update(2)


def test_strict_json_helper():
    from lta_jax.cli.commands import to_json

    text = to_json({"a": float("nan"), "b": [1.0, float("inf")], "c": {"d": -float("inf")}})
    assert json.loads(text) == {"a": None, "b": [1.0, None], "c": {"d": None}}


def test_disk_cache_computes_once_and_can_be_switched_off(tmp_path, monkeypatch):
    """lta_jax.cache: a table is computed once per key and source hash, read back equal afterwards, and recomputed
    when the cache is off."""
    import numpy as np

    from lta_jax.cache import cached_arrays

    calls = []

    def compute():
        calls.append(1)
        return {"x": np.arange(5.0), "y": np.eye(2)}

    monkeypatch.setenv("LTA_JAX_CACHE_DIR", str(tmp_path))
    first = cached_arrays("probe", (1,), ("cache.py",), compute)
    again = cached_arrays("probe", (1,), ("cache.py",), compute)
    assert len(calls) == 1 and np.array_equal(first["y"], again["y"])
    cached_arrays("probe", (2,), ("cache.py",), compute)  # another key
    assert len(calls) == 2 and len(list((tmp_path / "tables").glob("probe-*.npz"))) == 2
    monkeypatch.setenv("LTA_JAX_CACHE_DIR", "off")
    cached_arrays("probe", (1,), ("cache.py",), compute)
    assert len(calls) == 3


def test_rate_table_is_kept_on_disk_by_model_content(tmp_path, monkeypatch):
    """A solve's per-mass rate table is read back from the disk cache in a later process (here: after the in-memory
    copy is gone) with the same numbers, without being rebuilt; a model with other content is another entry; a model
    class defined outside the package is never cached (its code could change while its arrays do not)."""
    import numpy as np

    from lta_jax.cache import content_digest
    from lta_jax.rates.base import RateVariant
    from lta_jax.rates.provisional import ProvisionalRates
    from lta_jax.rates import interpolated as integrate  # where the rate-table cache lives

    monkeypatch.setenv("LTA_JAX_CACHE_DIR", str(tmp_path))
    rates = ProvisionalRates()
    first = integrate._disk_table(rates, 2.0, 5.0, 1e3)
    assert len(list((tmp_path / "tables").glob("rate_table-*.npz"))) == 1

    def no_build(*args, **kwargs):
        raise AssertionError("the table was rebuilt instead of read from disk")

    monkeypatch.setattr(integrate, "tabulate", no_build)
    again = integrate._disk_table(ProvisionalRates(), 2.0, 5.0, 1e3)  # equal content, another object
    for name in integrate._TABLE_FIELDS:
        np.testing.assert_array_equal(np.asarray(getattr(again, name)), np.asarray(getattr(first, name)))
    assert again.base is not rates
    for other in (RateVariant(rates, rate_scale=2.0), ProvisionalRates(t_min=4.0)):  # other content: a new build
        with pytest.raises(AssertionError, match="rebuilt"):
            integrate._disk_table(other, 2.0, 5.0, 1e3)
    with pytest.raises(AssertionError, match="rebuilt"):  # another mass
        integrate._disk_table(rates, 2.5, 5.0, 1e3)

    class UsersOwnRates(ProvisionalRates):
        pass

    assert content_digest(rates) == content_digest(ProvisionalRates()) is not None
    assert content_digest(UsersOwnRates()) is None


def test_model_splines_and_set_up_read_back_from_the_cache_equal(tmp_path, monkeypatch):
    """What a repeated command reads instead of computing gives the same numbers to the bit: the slopes of the models'
    splines (lta_jax.cache.cached_spline, against interpax's own), the sphaleron kernel's weights (against the
    traced computation) and a KineticSystem built from the cached set-up program (against the jitted constructor)."""
    import interpax
    import jax
    import numpy as np

    from lta_jax import cache
    from lta_jax.model.benchmark_points import FIG18
    from lta_jax.plasma.thermodynamics import in_house_thermodynamics
    from lta_jax.plasma.susceptibility import in_house_susceptibility
    from lta_jax.rates.provisional import ProvisionalRates
    from lta_jax.kinetics.averaged import KineticOptions
    from lta_jax.solver import observables, setup

    monkeypatch.setenv("LTA_JAX_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("LTA_JAX_SHIPPED_TABLES", "off")  # the round trip through the cache, not the shipped tables
    x = np.linspace(0.0, 3.0, 40)
    f = np.stack([np.sin(3 * x), np.exp(x)], axis=1)
    for _ in range(2):  # computed, then read back
        spline = cache.cached_spline(x, f)
        own = interpax.Interpolator1D(x, f, method="cubic2")
        np.testing.assert_array_equal(np.asarray(spline.derivs["fx"]), np.asarray(own.derivs["fx"]))
        np.testing.assert_array_equal(np.asarray(spline(x[:-1] + 0.03)), np.asarray(own(x[:-1] + 0.03)))
    assert len(list((tmp_path / "tables").glob("spline_slopes-*.npz"))) == 1

    thermo, options = in_house_thermodynamics(), KineticOptions()
    traced = np.asarray(observables._kernel_weights(observables._Expansion(thermo, options), 64))
    for _ in range(2):
        np.testing.assert_array_equal(observables._stored_weights(thermo, options, 64), traced)
    assert len(list((tmp_path / "tables").glob("sphaleron_kernel-*.npz"))) == 1

    monkeypatch.setitem(cache._PROGRAMS, "enabled", True)
    args = (FIG18, ProvisionalRates(), thermo, in_house_susceptibility(), options)
    for _ in range(2):  # exported, then deserialised
        from_program = setup.set_up_system(*args)
        jitted = setup.build_system(*args)
        for a, b in zip(jax.tree_util.tree_leaves(from_program), jax.tree_util.tree_leaves(jitted)):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
        assert jax.tree_util.tree_structure(from_program) == jax.tree_util.tree_structure(jitted)
    assert len(list((tmp_path / "programs").glob("system-*.jaxexport"))) == 1


def test_physics_warning_names_the_callers_line_once_per_place():
    """A validity warning names the user's line (not a file of the package or of JAX), and shows once per place under
    the default filters even when other code changes the filters in between (as JAX does while tracing: the same
    warning of ``lta-jax solve --T-end 3`` came out twice); "always" still shows every one."""
    import warnings

    from lta_jax.model.validity import check_computed_range
    from lta_jax.warnings import PhysicsWarning

    def warn_twice():
        for _ in range(2):
            check_computed_range(4.5, 100.0, 1.0)  # below 5 GeV: one PhysicsWarning
            warnings.filterwarnings("ignore", message="unrelated")  # resets Python's per-place registry

    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("default")
        warn_twice()
    assert len(shown) == 1 and issubclass(shown[0].category, PhysicsWarning)
    assert shown[0].filename == __file__ and "T_end = 4.5 GeV" in str(shown[0].message)
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        warn_twice()
    assert len(shown) == 2


def test_plot_process_draws_the_figure_of_the_command(tmp_path):
    """The solve command's figure drawn by the second process (lta_jax.cli.plot_process) is the file the same function
    writes in-process, byte for byte; a failing draw is reported (the command then draws itself); an unused process
    stops when closed."""
    import numpy as np

    from lta_jax.cli import plot_process
    from lta_jax.cli.plotting import plot_asymmetries

    temperatures = np.geomspace(1e3, 5.0, 300)
    states = np.outer(np.sin(np.log(temperatures)), np.linspace(1e-7, 1e-6, 11))

    class Solution:
        pass

    solution = Solution()
    solution.temperatures, solution.states = temperatures, states
    title = "M = 1 GeV, ΔM = 1e-11 GeV\nrates: test"
    process = plot_process.start()
    assert process is not None
    assert process.draw(tmp_path / "process.png", temperatures, states, title, -1.5e-10) is None
    plot_asymmetries(solution, tmp_path / "here.png", title=title, y_b=-1.5e-10)
    assert (tmp_path / "process.png").read_bytes() == (tmp_path / "here.png").read_bytes()

    failing = plot_process.start()
    message = failing.draw(tmp_path / "no-such-folder" / "x.png", temperatures, states, title, None)
    assert message is not None and "exited with 1" in message
    unused = plot_process.start()
    unused.close()
    assert unused._proc.returncode == 0


def test_program_cache_is_keyed_by_platform_and_falls_back(tmp_path, monkeypatch):
    """A cache directory shared by CPU and GPU hosts keeps one program per platform (the key names it), and a program
    read back that cannot run here makes the caller trace instead (None) rather than fail."""
    import jax
    import jax.numpy as jnp
    from jax import export

    from lta_jax import cache

    monkeypatch.setenv("LTA_JAX_CACHE_DIR", str(tmp_path))
    monkeypatch.setitem(cache._PROGRAMS, "enabled", True)
    fn, args = (lambda x: x * 2.0), (jnp.arange(3.0),)
    treedef = jax.tree_util.tree_structure(jnp.zeros(3))
    assert list(cache.cached_program_call("double", fn, args, treedef)) == [0.0, 2.0, 4.0]
    monkeypatch.setattr(cache, "_platform", lambda: "gpu:NVIDIA H100")  # another host of the same cluster
    assert list(cache.cached_program_call("double", fn, args, treedef)) == [0.0, 2.0, 4.0]
    assert len(list((tmp_path / "programs").glob("double-*.jaxexport"))) == 2

    class Unrunnable:
        def call(self, *args):
            raise ValueError("exported for platforms ('cuda',) but used on ('cpu',)")

    monkeypatch.setattr(export, "deserialize", lambda blob: Unrunnable())
    assert cache.cached_program_call("double", fn, args, treedef) is None


def test_help_shows_units_defaults_and_plain_flags():
    """Help text is printed literally (no rich markup eating "[s]" or "[rad or Npi]"), the point options of solve name
    their defaults, and boolean flags read --x/--no-x without a <bool> placeholder (issue 35 §5)."""
    def helptext(command):
        proc = subprocess.run([sys.executable, "-m", "lta_jax.cli.commands", command, "--help"], capture_output=True,
                              text=True, env={**os.environ, "COLUMNS": "200"})
        assert proc.returncode == 0, proc.stderr
        return " ".join(proc.stdout.split())  # the help wraps at the terminal's width

    dilution = helptext("dilution")
    assert "lifetimes above this [s]" in dilution
    solve = helptext("solve")
    assert "Dirac phase δ [rad or Npi] (default 1.30pi)" in solve and "(default 1: the paper's Fig.-18 point)" in solve
    assert "--source-term / --no-source-term" in solve and "<bool>" not in solve
