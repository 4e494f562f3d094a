"""Figures: asymmetries vs temperature."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from . import constants as c  # noqa: E402


def plot_asymmetries(solution, path, title: str = "", reference=None):
    """|Y_Δα|, |Y_L| and |Δ_N| vs T (log–log; dashed where negative), T_sph marked. ``reference`` is an optional
    (T, states) pair drawn as thin black lines (e.g. the authors' Fortran output)."""
    t = solution.temperatures
    x = solution.states
    fig, ax = plt.subplots(figsize=(7, 4.5))
    curves = [("Y_Δe", x[:, 0], "C0"), ("Y_Δμ", x[:, 1], "C1"), ("Y_Δτ", x[:, 2], "C2"),
              ("Y_L = Σ Y_Δα", x[:, 0:3].sum(1), "k"), ("Δ_N = Tr Y−", x[:, 7] + x[:, 8], "C3")]
    for label, y, color in curves:
        pos = np.where(y > 0, y, np.nan)
        neg = np.where(y < 0, -y, np.nan)
        ax.loglog(t, pos, color=color, lw=1.6, label=label)
        ax.loglog(t, neg, color=color, lw=1.6, ls="--")
    if reference is not None:
        t_ref, x_ref = reference
        ax.loglog(t_ref, np.abs(x_ref[:, 0:3].sum(1)), color="0.4", lw=0.8, ls=":", label="|Y_L| reference")
    ax.axvline(c.T_SPHALERON, color="0.6", lw=0.8)
    ax.text(c.T_SPHALERON, ax.get_ylim()[0] * 3 if ax.get_ylim()[0] > 0 else 1e-20, " T_sph", color="0.4",
            fontsize=8)
    ax.invert_xaxis()
    ax.set_xlabel("T [GeV]")
    ax.set_ylabel("|Y| (solid > 0, dashed < 0)")
    ax.set_title(title, fontsize=8)
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path
