"""The package's on-disk cache: ``$LTA_JAX_CACHE_DIR`` (default ``~/.cache/lta-jax``; ``off`` disables it).

Two things live there, both safe to delete at any time:

* ``jax/`` — JAX's persistent compilation cache, switched on by the command line (:func:`enable_compilation_cache`), so
  a repeated command does not recompile;
* ``tables/`` — tables that cost seconds to compute and depend only on the package's own code (the one-loop neutrino
  self-energy of the computed rate model, the per-mass rate tables of a solve): :func:`cached_arrays` keys them by
  their arguments (a model by :func:`content_digest`) and by a hash of the source files they are computed from, so an
  edited model never reads a stale table. Files are written atomically
  (temporary file + rename), so concurrent processes (test workers, cluster workers) at worst compute a table twice.
"""

from __future__ import annotations

import hashlib
import os
import pathlib
from typing import Callable

import numpy as np

_PACKAGE_DIR = pathlib.Path(__file__).resolve().parent


def cache_root() -> pathlib.Path | None:
    """The cache directory, or None when ``LTA_JAX_CACHE_DIR`` is ``off``/``none``/``0``/empty or it cannot be made."""
    where = os.environ.get("LTA_JAX_CACHE_DIR", str(pathlib.Path.home() / ".cache" / "lta-jax"))
    if where.strip().lower() in ("off", "none", "0", ""):
        return None
    path = pathlib.Path(where)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return path


def enable_compilation_cache() -> None:
    """JAX's persistent compilation cache in ``<cache>/jax``, every compilation stored: with only those of ≥ 0.5 s
    stored, a repeated ``lta-jax solve`` recompiled about a dozen small programs (set-up pieces, the sphaleron kernel's
    weights, eager operations): 8.8–9.7 s → 8.2 s per repeated command (2-core CPU, docs/numerics.md)."""
    root = cache_root()
    if root is None:
        return
    import jax

    jax.config.update("jax_compilation_cache_dir", str(root / "jax"))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


def cached_arrays(name: str, key: tuple, sources: tuple[str, ...], compute: Callable[[], dict]) -> dict:
    """``compute()`` (a dict of NumPy arrays), read from ``<cache>/tables`` when an entry with the same ``name``,
    ``key`` and source files (paths relative to the package, or folders) exists; computed and stored otherwise."""
    root = cache_root()
    if root is None:
        return compute()
    digest = hashlib.sha256(repr((name, key, np.__version__)).encode())
    for source in sources:
        path = _PACKAGE_DIR / source
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(file.read_bytes())
    target = root / "tables" / f"{name}-{digest.hexdigest()[:20]}.npz"
    if target.is_file():
        try:
            with np.load(target) as data:
                return {k: data[k] for k in data.files}
        except (OSError, ValueError):
            pass  # unreadable (e.g. truncated by a full disk): recompute and overwrite
    arrays = compute()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(tmp, **arrays)
        os.replace(tmp, target)
    except OSError:
        pass  # a read-only or full cache only costs time
    return arrays


#: Modules whose pytree node types :func:`content_digest` accepts: their code is the package's own (hashed through the
#: ``sources`` of :func:`cached_arrays`) or versioned (interpax), so equal content means equal behaviour.
_KNOWN_MODULES = ("lta_jax", "interpax", "builtins", "collections")


def content_digest(tree) -> str | None:
    """A hash of a pytree's structure (node types, static fields) and of every leaf's dtype, shape and bytes — a key for
    an object such as a rate model that a cached table is computed from. None when a node type is defined outside the
    package (a user's own model class: its code could change between runs while its arrays stay the same, so it is
    never cached) or a leaf is not an array."""
    import jax

    leaves, treedef = jax.tree_util.tree_flatten(tree)

    def known(node) -> bool:
        data = node.node_data()
        if data is not None and data[0].__module__.split(".")[0] not in _KNOWN_MODULES:
            return False
        return all(known(child) for child in node.children())

    if not known(treedef):
        return None
    import interpax

    digest = hashlib.sha256(f"{treedef}|interpax {interpax.__version__}".encode())
    for leaf in leaves:
        try:
            array = np.asarray(leaf)
        except Exception:  # noqa: BLE001 — an opaque leaf: no key
            return None
        if array.dtype == object:
            return None
        digest.update(f"{array.dtype}{array.shape}".encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()
