"""Every repository path the documentation names exists (issue 35): README.md, docs/*.md, benchmarks/README.md and the
command line's help texts."""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]
#: Repository paths as documents write them: a top-level folder of the project, then a file name with an extension.
PATH = re.compile(r"\b((?:lta_jax|docs|benchmarks|experiments|tests)/[A-Za-z0-9_./-]*[A-Za-z0-9_]\.(?:py|md|png|json|toml))\b")


def _named(text: str) -> set[str]:
    """Paths named in ``text``, except those written after ``--out`` (a file a command is told to create)."""
    return {m.group(1) for m in PATH.finditer(text) if not text[:m.start()].endswith("--out ")}


def _documents():
    yield "README.md", (ROOT / "README.md").read_text()
    yield "benchmarks/README.md", (ROOT / "benchmarks" / "README.md").read_text()
    for doc in sorted((ROOT / "docs").glob("*.md")):
        yield str(doc.relative_to(ROOT)), doc.read_text()
    yield "lta_jax/cli/commands.py (help)", (ROOT / "lta_jax" / "cli" / "commands.py").read_text()


def test_every_named_path_exists():
    missing = {f"{where}: {path}" for where, text in _documents() for path in _named(text)
               if not (ROOT / path).exists() and not (ROOT / "docs" / path).exists()}
    assert not missing, "\n".join(sorted(missing))


def test_the_detector_finds_paths():
    assert _named("see lta_jax/solver/magnus.py and docs/numerics.md, not lta_jax.") == {
        "lta_jax/solver/magnus.py", "docs/numerics.md"}
    assert _named("run x.py --out benchmarks/results/new.json") == set()
