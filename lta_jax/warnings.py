"""Warnings attributed to the user's code: the first stack frame outside this package and the JAX/equinox/diffrax
machinery it runs under, so a warning names the line that called ``solve`` (or the command line), not a library file."""

from __future__ import annotations

import pathlib
import sys
import warnings

_PACKAGE_DIR = str(pathlib.Path(__file__).resolve().parent)
_LIBRARY_MARKERS = ("/equinox/", "/jax/", "/jaxlib/", "/diffrax/", "/optimistix/", "/typer/", "/click/", "/lineax/",
                    "<frozen ")


class PhysicsWarning(UserWarning):
    """A result outside the range where the model is validated (it is computed, but carries an uncertainty)."""


#: (message, category, file, line) of the warnings shown under a once-per-place action ("default", "module", "once").
_SHOWN: set = set()


def _action(message: str, category: type[Warning], module: str, lineno: int) -> str:
    """The action of the first filter in :data:`warnings.filters` that matches (Python's own lookup order)."""
    for action, msg, cat, mod, line in warnings.filters:
        if ((msg is None or msg.match(message)) and issubclass(category, cat)
                and (mod is None or mod.match(module)) and (line == 0 or line == lineno)):
            return action
    return warnings.defaultaction


def warn_user(message: str, category: type[Warning] = PhysicsWarning) -> None:
    """``warnings.warn`` at the first caller frame that is neither this package nor a library it runs under.

    Shown once per place under the default filters. Python's own once-per-place registry is reset whenever any code
    changes the warning filters (JAX does, while tracing), so the same validity warning of a command came out twice
    (checks, then the solve); this function remembers what it showed. Filters that say "always" (``pytest.warns``) or
    "error" are obeyed as usual."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not (filename.startswith(_PACKAGE_DIR) or any(m in filename for m in _LIBRARY_MARKERS)):
            break
        frame = frame.f_back
    if frame is None:  # called from inside the package only (the command line): attribute it to the package
        warnings.warn(message, category, stacklevel=2)
        return
    module = frame.f_globals.get("__name__", "lta_jax")
    key = (message, category, frame.f_code.co_filename, frame.f_lineno)
    if _action(message, category, module, frame.f_lineno) in ("default", "module", "once"):
        if key in _SHOWN:
            return
        _SHOWN.add(key)
    warnings.warn_explicit(message, category, frame.f_code.co_filename, frame.f_lineno, module=module,
                           registry=frame.f_globals.setdefault("__warningregistry__", {}))
