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


def warn_user(message: str, category: type[Warning] = PhysicsWarning) -> None:
    """``warnings.warn`` at the first caller frame that is neither this package nor a library it runs under."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not (filename.startswith(_PACKAGE_DIR) or any(m in filename for m in _LIBRARY_MARKERS)):
            break
        frame = frame.f_back
    if frame is None:  # called from inside the package only (the command line): attribute it to the package
        warnings.warn(message, category, stacklevel=2)
        return
    warnings.warn_explicit(message, category, frame.f_code.co_filename, frame.f_lineno,
                           module=frame.f_globals.get("__name__", "lta_jax"), registry=frame.f_globals.setdefault(
                               "__warningregistry__", {}))
