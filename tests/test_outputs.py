"""Output paths are checked before any work (issue 35): an unwritable output path exits 2 with a clear message within
seconds, for every command that writes one, instead of solving first and losing the result."""

import subprocess
import sys
import time

import pytest

BAD_FILE = "/nonexistent_dir_lta/x.json"


@pytest.fixture(scope="module")
def a_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("outputs") / "a_file.txt"
    path.write_text("not a directory")
    return str(path)


CASES = [
    (["solve", "--json", BAD_FILE], "--json"),
    (["solve", "--plot", "/nonexistent_dir_lta/x.png"], "--plot"),
    (["diagnose", "--json", BAD_FILE], "--json"),
    (["optimise", "--M", "1", "--json", BAD_FILE], "--json"),
    (["optimise", "--M", "1", "--plot", "/nonexistent_dir_lta/p.png"], "--plot"),
    (["dilution", "--plot", "/nonexistent_dir_lta/d.png"], "--plot"),
    (["rates", "--out", "/nonexistent_dir_lta/t.dat"], "--out"),
    (["rates", "--M", "-1", "--out", "t.dat"], "HNL mass"),
]


@pytest.mark.parametrize("args, needle", CASES, ids=[" ".join(a[:2]) + " " + n for a, n in CASES])
def test_bad_output_path_exits_2_before_any_work(args, needle):
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "lta_jax.cli.commands", *args], capture_output=True, text=True,
                          timeout=120)
    elapsed = time.perf_counter() - start
    assert proc.returncode == 2, proc.stderr
    assert needle in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stdout == ""
    assert elapsed < 10, f"took {elapsed:.1f} s: work was done before the check"


@pytest.mark.parametrize("command", ["scan", "envelope"])
def test_output_directory_that_is_a_file_exits_2(command, a_file, tmp_path):
    card = tmp_path / "card.toml"
    card.write_text('[scan]\nsampling = "sobol"\npoints = 2\npreset = "large-lta"\n[fixed]\nM = 1.0\n')
    args = (["scan", "--card", str(card)] if command == "scan" else ["envelope", "--masses", "1"]) + ["--out", a_file]
    proc = subprocess.run([sys.executable, "-m", "lta_jax.cli.commands", *args], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2 and "is not a directory" in proc.stderr, proc.stderr


def test_output_checks_accept_good_paths(tmp_path):
    from lta_jax.cli.checks import check_output_dir, check_output_file

    check_output_file(tmp_path / "new.json", "--json")
    check_output_file(None, "--json")
    check_output_dir(tmp_path / "new" / "deeper", "--out")
    with pytest.raises(ValueError, match="is a directory"):
        check_output_file(tmp_path, "--json")


def test_sizes_that_cannot_run_are_refused_before_allocating(tmp_path):
    """optimise --budget 1e12 and a scan of 1e12 points exit 2 with a clear message (they ended in a MemoryError
    traceback, the scan leaving OUT/chunks behind)."""
    proc = subprocess.run([sys.executable, "-m", "lta_jax.cli.commands", "optimise", "--M", "1", "--budget", "1e12"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "--budget" in proc.stderr and "Traceback" not in proc.stderr
    card = tmp_path / "huge.toml"
    card.write_text('[scan]\nsampling = "sobol"\npoints = 1000000000000\npreset = "large-lta"\n[fixed]\nM = 1.0\n')
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "lta_jax.cli.commands", "scan", "--card", str(card), "--out",
                           str(out)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "more than one scan holds" in proc.stderr, proc.stderr
    assert not out.exists()


def test_command_line_physics_warning_reads_plainly(tmp_path):
    """A PhysicsWarning of a command reads 'warning: …' on stderr, once, without the entry script's file and line
    (`lta-jax solve --T-end 3` printed '/…/bin/lta-jax:8: PhysicsWarning: …'). Checked on a bad input that warns and
    then exits before any solve: T_end = 3 GeV with the computed rates, and --export without --dilution."""
    proc = subprocess.run([sys.executable, "-c", "import sys; from lta_jax.cli.commands import main; "
                           "sys.argv = ['lta-jax', 'solve', '--T-end', '3', '--export', 'x.txt']; main()"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if "below 5 GeV" in line]
    assert len(lines) == 1 and lines[0].startswith("warning: "), proc.stderr
