"""The README's Python examples run as a new user would paste them (in order, one namespace, a fresh interpreter)."""

import pathlib
import re
import subprocess
import sys

import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.slow  # computed rates, a 4-point batch and a reverse-mode gradient: ≈ 1–2 min on 2 cores
def test_readme_python_blocks_run(tmp_path):
    """In a fresh Python process, as a new user would run them: in the slow step's xdist worker, after the other slow
    tests, XLA aborted the process while compiling the README's solve_batch (twice, 2026-12-06; the test alone passed).
    A fresh interpreter is also what the README promises."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) >= 2
    script = tmp_path / "readme_blocks.py"
    script.write_text("\n".join(blocks) + "\n"
                      "assert grad.shape == (6,) and g.shape == (6,)\n"
                      "assert abs(g[1] - grad[1]) <= 1e-6 * abs(grad[1])\n"
                      "print('README blocks ran')\n")
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=README.parent,
                         timeout=1200)
    assert run.returncode == 0, run.stderr[-4000:]
    assert "README blocks ran" in run.stdout
