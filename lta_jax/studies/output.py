"""Result files of studies: strict JSON (RFC 8259, no NaN/Infinity tokens: missing values are null and a status field
says why) written atomically (temporary file + rename, so a crash never leaves a half-written result)."""

from __future__ import annotations

import json
import math
import pathlib


def finite_or_null(value):
    """NaN/±Infinity become null, recursively; NumPy scalars and arrays become Python values."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite_or_null(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_null(v) for v in value]
    if hasattr(value, "tolist"):
        return finite_or_null(value.tolist())
    return value


def to_json(value) -> str:
    """Strict JSON text (RFC 8259: no NaN or Infinity tokens)."""
    return json.dumps(finite_or_null(value), indent=2, default=str, allow_nan=False)


def write_json_atomic(path, value) -> None:
    """Write ``value`` as strict JSON to ``path`` via a temporary file in the same directory and a rename."""
    path = pathlib.Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(to_json(value) + "\n")
    tmp.replace(path)


def stderr_progress(label: str, total: int, done: int = 0, unit: str = "points"):
    """A started rich progress bar on stderr (stdout carries results only) and its task id; ``bar.stop()`` ends it."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    bar = Progress(TextColumn(label), BarColumn(), TextColumn("{task.completed:.0f}/{task.total:.0f} " + unit),
                   TimeElapsedColumn(), TimeRemainingColumn(), console=Console(stderr=True))
    bar.start()
    return bar, bar.add_task(label, total=total, completed=done)
