"""The figure of ``lta-jax solve``, drawn by a second process that starts before the solve.

A repeated ``lta-jax solve`` spent ≈ 1.2 s of its ≈ 4–5 s on the figure: importing matplotlib (≈ 0.5 s) and the first
draw (fonts, text layout). Started as soon as the command's input is checked, a second process does the import and a
warm-up draw on the other core while this one imports JAX and solves; it is then sent the arrays and only draws.
The figure is :func:`lta_jax.cli.plotting.plot_asymmetries` either way (the same function, the same file); if the
process cannot be started or fails, the command draws in-process as before and says why on stderr.

Protocol: the parent writes one ``.npz`` (temperatures, states, and a JSON string with the path, title and Y_B) to
the child's stdin and closes it; the child exits 0 when the file is written. An empty stdin (the solve failed, or the
command stopped) makes the child exit without drawing.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from types import SimpleNamespace


class PlotProcess:
    """Handle of the drawing process; :meth:`draw` sends it one figure, :meth:`close` stops it unused."""

    def __init__(self):
        self._proc = subprocess.Popen([sys.executable, "-m", "lta_jax.cli.plot_process"], stdin=subprocess.PIPE,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def draw(self, path, temperatures, states, title: str, y_b: float | None, timeout: float = 300.0) -> str | None:
        """Have the process write the figure; None when it did, else why not (the caller then draws itself)."""
        import numpy as np

        buffer = io.BytesIO()
        meta = json.dumps({"path": str(path), "title": title, "y_b": None if y_b is None else float(y_b)})
        np.savez(buffer, temperatures=np.asarray(temperatures, dtype=float), states=np.asarray(states, dtype=float),
                 meta=np.array(meta))
        try:
            _, err = self._proc.communicate(buffer.getvalue(), timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as exc:
            self._proc.kill()
            self._proc.wait()
            return f"plot process: {exc!r}"
        if self._proc.returncode != 0:
            tail = err.decode(errors="replace").strip().splitlines()[-1:] if err else []
            return f"plot process exited with {self._proc.returncode}: {' '.join(tail)}"
        return None

    def close(self) -> None:
        """Stop the process if it has not drawn (an empty stdin makes it exit)."""
        if self._proc.poll() is None:
            try:
                self._proc.communicate(b"", timeout=30)
            except (OSError, ValueError, subprocess.TimeoutExpired):
                self._proc.kill()
                self._proc.wait()


def start() -> PlotProcess | None:
    """A :class:`PlotProcess`, or None when none can be started (the command then draws in-process)."""
    try:
        return PlotProcess()
    except OSError:
        return None


def _serve() -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from lta_jax.cli.plotting import plot_asymmetries

    # Warm-up: the first draw loads the fonts and builds the text-layout caches (≈ 0.3 s).
    fig = plt.figure(figsize=(2, 1))
    fig.text(0.1, 0.5, "Y_Δe Y_Δμ Y_Δτ Σα Δ_N −0.5 10⁻¹⁰ T [GeV]", fontsize=8)
    fig.canvas.draw()
    plt.close(fig)
    data = sys.stdin.buffer.read()
    if not data:
        return 0
    with np.load(io.BytesIO(data)) as arrays:
        # What plot_asymmetries reads of a solution.
        solution = SimpleNamespace(temperatures=arrays["temperatures"], states=arrays["states"])
        meta = json.loads(str(arrays["meta"]))
    plot_asymmetries(solution, meta["path"], title=meta["title"], y_b=meta["y_b"])
    return 0


if __name__ == "__main__":
    sys.exit(_serve())
