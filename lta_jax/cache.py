"""The package's on-disk cache: ``$LTA_JAX_CACHE_DIR`` (default ``~/.cache/lta-jax``; ``off`` disables it).

On disk, three things live there, all safe to delete at any time (in memory, per process, :func:`remembered` keeps
the rate tables of the masses solved so far, the resolved equations' per-mode rate models and the batch path's
compiled set-ups):

* ``jax/`` — JAX's persistent compilation cache, switched on by the command line (:func:`enable_compilation_cache`), so
  a repeated command does not recompile;
* ``tables/`` — tables that cost seconds to compute and depend only on the package's own code (the one-loop neutrino
  self-energy of the computed rate model, the per-mass rate tables of a solve, the slopes of the models' splines, the
  sphaleron kernel's weights): :func:`cached_arrays` keys them by
  their arguments (a model by :func:`content_digest`) and by a hash of the source files they are computed from, so an
  edited model never reads a stale table;
* ``programs/`` — serialised solve and set-up programs of the command line (:func:`cached_program_call`, switched on by
  :func:`enable_program_cache`): JAX caches compiled programs but not the tracing that precedes compilation (≈ 2 s of
  a repeated ``lta-jax solve``); a program exported with ``jax.export`` is read back and called without tracing.
  Files are written atomically
  (temporary file + rename), so concurrent processes (test workers, cluster workers) at worst compute a table twice.
"""

from __future__ import annotations

import functools
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


#: Tables shipped with the package (:mod:`lta_jax.data.generate_tables` writes them; a test recomputes them): the ones
#: that depend on no user input, found under the same names as in ``<cache>/tables``.
SHIPPED_TABLES_DIR = _PACKAGE_DIR / "data" / "tables"
SHIPPED_KINDS = ("dof", "susceptibility", "self_energy", "sphaleron_kernel", "spline_slopes")


def _shipped_tables_enabled() -> bool:
    # LTA_JAX_SHIPPED_TABLES=off: compute everything (the generator and the test that checks the shipped files).
    return os.environ.get("LTA_JAX_SHIPPED_TABLES", "on").lower() not in ("off", "0", "no", "none")


def _load_npz(path: pathlib.Path) -> dict | None:
    try:
        with np.load(path) as data:
            return {k: data[k] for k in data.files}
    except (OSError, ValueError):
        return None  # unreadable (e.g. truncated by a full disk): recompute and overwrite


def cached_arrays(name: str, key: tuple, sources: tuple[str, ...], compute: Callable[[], dict]) -> dict:
    """``compute()`` (a dict of NumPy arrays), read from ``<cache>/tables`` or from the tables shipped with the package
    when an entry with the same ``name``, ``key`` and source files (paths relative to the package, or folders) exists;
    computed and stored otherwise. The name carries a hash of the sources, so an edited model never reads a stale
    table, shipped or cached."""
    digest = hashlib.sha256(repr((name, key)).encode())
    for source in sources:
        path = _PACKAGE_DIR / source
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(file.read_bytes())
    filename = f"{name}-{digest.hexdigest()[:20]}.npz"
    shipped = SHIPPED_TABLES_DIR / filename
    if _shipped_tables_enabled() and shipped.is_file():
        arrays = _load_npz(shipped)
        if arrays is not None:
            return arrays
    root = cache_root()
    if root is None:
        return compute()
    target = root / "tables" / filename
    if target.is_file():
        arrays = _load_npz(target)
        if arrays is not None:
            return arrays
    arrays = compute()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(tmp, **arrays)
        os.replace(tmp, target)
    except OSError:
        pass  # a read-only or full cache only costs time
    return arrays


def cached_spline(x, f):
    """interpax's C²-continuous cubic spline (``method="cubic2"``) of ``f`` (first axis) on the nodes ``x``, its slopes
    read from ``<cache>/tables`` when the same (x, f) was splined before. interpax computes the slopes op by op, and in
    a fresh process every new array shape compiles its primitives: ≈ 0.3 s for each of the three model tables of a
    solve (the thermodynamics, the susceptibility, the self-energy), a sixth of a repeated ``lta-jax solve``. The
    stored slopes are the ones interpax computed, so the spline is the same to the bit."""
    import interpax
    import jax.numpy as jnp

    x, f = np.asarray(x, dtype=float), np.asarray(f, dtype=float)
    slopes = cached_arrays("spline_slopes", (content_digest((x, f)),), (), lambda: {
        "fx": np.asarray(interpax.Interpolator1D(x, f, method="cubic2").derivs["fx"])})["fx"]
    return interpax.Interpolator1D(x, f, method="cubic2", fx=jnp.asarray(slopes))


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


_PROGRAMS = {"enabled": False}


def enable_program_cache() -> None:
    """Let :func:`cached_program_call` serve programs from ``<cache>/programs`` (the command line switches it on, with
    ``EQX_ON_ERROR=nan``: programs with equinox's host-callback errors cannot be exported and are run as usual)."""
    _PROGRAMS["enabled"] = True


@functools.cache
def _code_digest() -> str:
    """The package's source files and the versions of the libraries that trace and compile its programs."""
    import diffrax
    import equinox
    import interpax
    import jax
    import jaxlib

    digest = hashlib.sha256(repr((jax.__version__, jaxlib.__version__, diffrax.__version__, equinox.__version__,
                                  interpax.__version__, np.__version__)).encode())
    for file in sorted(_PACKAGE_DIR.rglob("*.py")):
        digest.update(file.read_bytes())
    return digest.hexdigest()


def _platform() -> str:
    """Where programs run: the backend and the device kind (a cache directory shared by CPU and GPU hosts, a cluster
    home directory, keeps one program per platform)."""
    import jax

    return f"{jax.default_backend()}:{jax.devices()[0].device_kind}"


def cached_program_call(name: str, fn: Callable, args: tuple, out_treedef):
    """``fn(*args)`` through a program serialised with ``jax.export`` in ``<cache>/programs``, or None (the caller then
    runs its jitted function) when the program cache is off or the call cannot be exported.

    The key is the structure, shapes and dtypes of the array arguments, the description of the non-array ones (which
    become constants of the program), the platform (:func:`_platform`), the package's code and the library
    versions; the arrays themselves are inputs, so one program serves every parameter point of the same set-up. The
    output must have the structure ``out_treedef`` (given by the caller: rebuilding it from the program would need the
    tracing this avoids). A call
    that cannot be exported (e.g. host callbacks) leaves a marker and is not tried again; a program read back that
    cannot be called here returns None (the caller traces instead)."""
    root = cache_root()
    if not _PROGRAMS["enabled"] or root is None:
        return None
    import equinox as eqx
    import jax
    from jax import export

    dynamic, static = eqx.partition(args, eqx.is_array)
    leaves, in_tree = jax.tree_util.tree_flatten(dynamic)
    static_leaves, static_tree = jax.tree_util.tree_flatten(static)
    described = (f"{name}|{in_tree}|{[(x.shape, str(x.dtype)) for x in leaves]}|{static_tree}|{static_leaves!r}|"
                 f"{_platform()}")
    if "0x" in described:  # an object described by its address: no stable key
        return None
    key = hashlib.sha256(f"{described}|{_code_digest()}".encode()).hexdigest()[:24]
    program = root / "programs" / f"{name}-{key}.jaxexport"
    refused = program.with_suffix(".unsupported")
    if refused.exists():
        return None
    exported = None
    if program.is_file():
        try:
            exported = export.deserialize(bytearray(program.read_bytes()))
        except Exception:  # noqa: BLE001 — unreadable (truncated, other format): export it again
            exported = None
    if exported is None:
        def flat(*array_leaves):
            out = fn(*eqx.combine(jax.tree_util.tree_unflatten(in_tree, array_leaves), static))
            out_leaves, tree = jax.tree_util.tree_flatten(out)
            if tree != out_treedef:
                raise ValueError(f"{name}: output structure {tree} is not the expected {out_treedef}")
            return out_leaves

        try:
            exported = export.export(jax.jit(flat))(*[jax.ShapeDtypeStruct(x.shape, x.dtype) for x in leaves])
            blob = exported.serialize()
        except ImportError:  # serialisation needs flatbuffers (a dependency; absent only in a broken install)
            return None
        except Exception:  # noqa: BLE001 — not exportable here (host callbacks, ...): the caller's jit path
            try:
                refused.parent.mkdir(parents=True, exist_ok=True)
                refused.touch()
            except OSError:
                pass
            return None
        try:
            program.parent.mkdir(parents=True, exist_ok=True)
            tmp = program.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(blob)
            os.replace(tmp, program)
        except OSError:
            pass
    try:
        return jax.tree_util.tree_unflatten(out_treedef, exported.call(*leaves))
    except Exception:  # noqa: BLE001 — a program that cannot run here (another platform's, a stale format): trace
        return None


# ----------------------------------------------------------------------------------------------------------------------
# In memory: the one store of the package's per-process caches (rate tables of the masses solved so far, per-mode rate
# models, compiled batch set-ups), so that none lives in a module dictionary of its own.

_MEMORY: dict = {}


def remembered(kind: str, owner, key: tuple, build: Callable, limit: int = 32):
    """``build()`` once per (``kind``, ``owner``, ``key``) in this process. ``owner`` (a model object) is kept alive with
    its entry, so that its id cannot be reused by another object; at most ``limit`` entries per kind are kept (the
    oldest goes first)."""
    store = _MEMORY.setdefault(kind, {})
    full_key = (id(owner), key)
    hit = store.get(full_key)
    if hit is not None and hit[0] is owner:
        return hit[1]
    value = build()
    if len(store) >= limit:
        store.pop(next(iter(store)))
    store[full_key] = (owner, value)
    return value


def first_time(kind: str, key) -> bool:
    """True the first time ``key`` is seen under ``kind`` in this process (it is then remembered)."""
    seen = _MEMORY.setdefault(kind, {})
    if key in seen:
        return False
    seen[key] = True
    return True

