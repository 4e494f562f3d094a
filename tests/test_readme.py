"""The README's Python examples run as a new user would paste them (in order, one namespace)."""

import pathlib
import re

import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.slow  # computed rates, a 4-point batch and a reverse-mode gradient: ≈ 1–2 min on 2 cores
def test_readme_python_blocks_run(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) >= 2
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)  # noqa: S102 — the README's own code
    assert namespace["grad"].shape == (6,) and namespace["g"].shape == (6,)
    assert abs(namespace["g"][1] - namespace["grad"][1]) <= 1e-6 * abs(namespace["grad"][1])
