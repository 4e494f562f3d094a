"""Write the tables shipped with the package (``lta_jax/data/tables``): the Standard-Model degrees of freedom, the
susceptibilities, the one-loop neutrino self-energy of the computed rate model, the sphaleron kernel and the spline
slopes of those tables — everything a first solve computes that depends on no user input (≈ 5 s of a cold
``lta-jax solve``; docs/numerics.md). Run after changing any of the models they come from:

    python -m lta_jax.data.generate_tables            # rewrites lta_jax/data/tables
    python -m lta_jax.data.generate_tables --out DIR  # writes them elsewhere (the test compares the two)

The files keep the names of the on-disk cache (:func:`lta_jax.cache.cached_arrays`): a name carries a hash of the
source files a table is computed from, so after an edit the shipped file is simply not found and the table is computed
as before — the shipped tables can be stale only in the sense of being unused, never wrong.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

from lta_jax.cache import SHIPPED_KINDS, SHIPPED_TABLES_DIR

#: What a first run computes: the command line's main job (its default point, models and summary).
def _first_run(plot: pathlib.Path) -> list[str]:
    return [sys.executable, "-c", "import sys; from lta_jax.cli.commands import main; "
            f"sys.argv = ['lta-jax', 'solve', '--plot', {str(plot)!r}]; main()"]


def generate(out: pathlib.Path) -> list[pathlib.Path]:
    """Compute the tables in a fresh process with an empty cache and no shipped tables; copy the shipped kinds to
    ``out`` (replacing what was there). Returns the files written."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "LTA_JAX_CACHE_DIR": cache, "LTA_JAX_SHIPPED_TABLES": "off"}
        subprocess.run(_first_run(pathlib.Path(cache) / "first.png"), env=env, check=True,
                       stdout=subprocess.DEVNULL)
        produced = sorted((pathlib.Path(cache) / "tables").glob("*.npz"))
        out.mkdir(parents=True, exist_ok=True)
        for old in out.glob("*.npz"):
            old.unlink()
        written = []
        for file in produced:
            if file.name.rsplit("-", 1)[0] in SHIPPED_KINDS:
                shutil.copyfile(file, out / file.name)
                written.append(out / file.name)
    return written


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=pathlib.Path, default=SHIPPED_TABLES_DIR)
    args = ap.parse_args(argv)
    for path in generate(args.out):
        print(f"{path} ({path.stat().st_size // 1024} KiB)", file=sys.stderr)


if __name__ == "__main__":
    main()
