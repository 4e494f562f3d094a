"""The benchmark scripts' quick modes keep working (CI has no GPU: bench_gpu --quick runs on the CPU)."""

import json
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.mark.slow  # compiles two batch sizes and the CPU comparison: ≈ 40 s on 2 cores
@pytest.mark.parametrize("script", ["bench_gpu.py", "bench_gradients.py"])
def test_benchmark_quick_mode_runs(script, tmp_path):
    out = tmp_path / "result.json"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), "--quick", "--out", str(out)],
                          capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(out.read_text())
    assert result["command"].endswith("--quick") and result["machine"]["jax"]
    if script == "bench_gpu.py":
        assert all(row["succeeded"] == row["points"] and row["points_per_second"] > 0 for row in result["rows"])
        assert all(row["worst_relative_difference_from_cpu"] < 1e-6 for row in result["rows"])
    else:
        row = result["results"]["node grid (400 steps)"]
        assert row["value_and_grad_reverse"]["ratio_to_value"] > 1 and row["gradient_30_over_6"] > 0
