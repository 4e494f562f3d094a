"""The newcomer contract: every module imports, bad input fails fast, stdout carries only strict JSON."""

import importlib
import json
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


def test_declared_dependencies_cover_every_import():
    """Every third-party module the package imports is declared in pyproject.toml (a fresh install would fail)."""
    import ast
    import tomllib

    declared = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {d.split(">")[0].split("=")[0].split(";")[0].split("<")[0].strip().lower() for d in declared}
    distribution = {"jaxlib": "jaxlib", "yaml": "pyyaml"}
    stdlib = set(sys.stdlib_module_names) | {"lta_jax", "__future__"}
    missing = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            mods = []
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                mods = [node.module]
            for mod in mods:
                top = mod.split(".")[0]
                if top not in stdlib and distribution.get(top, top).lower() not in names:
                    missing.add(top)
    assert not missing, f"imported but not declared in pyproject.toml: {sorted(missing)}"


@pytest.mark.parametrize("args", [["--T-start", "100", "--T-end", "200"], ["--T-end", "0.01"], ["--M", "50"],
                                  ["--M", "0.05"], ["--max-steps", "0"], ["--solver", "rk4"]])
def test_bad_input_exits_2_fast(args, tmp_path):
    """Exit 2 with a message on stderr, before any rate model is built (measured ~2–3 s, mostly importing JAX)."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "lta_jax.cli.commands", "solve", *args], capture_output=True,
                          text=True, cwd=tmp_path, timeout=120)
    elapsed = time.perf_counter() - t0
    assert proc.returncode == 2, proc.stderr
    assert "error:" in proc.stderr and proc.stdout == ""
    assert elapsed < 10, f"rejection took {elapsed:.1f} s"


def test_failed_solve_gives_strict_json_with_nulls(tmp_path):
    """A solve stopped by --max-steps: exit 1, strict JSON (no NaN tokens), observables null, status says why."""
    proc = subprocess.run([sys.executable, "-m", "lta_jax.cli.commands", "solve", "--rates", "provisional",
                           "--max-steps", "5", "--T-end", "50"], capture_output=True, text=True, cwd=tmp_path,
                          timeout=600)
    assert proc.returncode == 1, proc.stderr

    def reject(token):
        raise ValueError(f"non-strict JSON token {token}")

    out = json.loads(proc.stdout, parse_constant=reject)
    assert out["status"] == "max_steps_reached"
    assert out["Y_B"] is None and out["Y_L_end"] is None and out["Y_Delta_end"] == [None, None, None]
    assert out["inputs"]["max_steps"] == 5


def test_progress_bars_write_to_stderr():
    from lta_jax.studies.optimise import _progress

    bar = _progress(True, 3, "optimising")
    assert bar.progress.console.stderr


def test_strict_json_helper():
    from lta_jax.cli.commands import to_json

    text = to_json({"a": float("nan"), "b": [1.0, float("inf")], "c": {"d": -float("inf")}})
    assert json.loads(text) == {"a": None, "b": [1.0, None], "c": {"d": None}}
