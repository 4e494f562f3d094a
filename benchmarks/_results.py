"""What every benchmark script writes: the machine it ran on and the results as JSON, on stdout and optionally to a
file (imported by the scripts in this folder, which Python puts first on the path when a script runs)."""

from __future__ import annotations

import json
import os
import platform


def machine(**extra) -> dict:
    """Platform, CPU count, JAX version and devices, plus ``extra`` (e.g. the device under test)."""
    import jax

    return {"platform": platform.platform(), "processor": platform.processor(), "cpus": os.cpu_count(),
            "jax": jax.__version__, "devices": str(jax.devices()), **extra}


def emit(out: dict, path: str | None) -> None:
    """Print ``out`` as JSON and, with ``path``, write it there too."""
    text = json.dumps(out, indent=1)
    if path:
        with open(path, "w") as f:
            f.write(text + "\n")
    print(text)
