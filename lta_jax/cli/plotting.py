"""Figures: asymmetries vs temperature."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402

from lta_jax.model import constants as c  # noqa: E402

import math  # noqa: E402


_SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _decade_label(value: float, _position=None) -> str:
    """'10⁻⁵' for a power of ten, '' otherwise (tick labels of a log axis without mathtext)."""
    if not value > 0:
        return ""
    exponent = round(math.log10(value))
    if abs(math.log10(value) - exponent) > 1e-9:
        return ""
    return "10" + str(exponent).translate(_SUPERSCRIPTS)


def plot_asymmetries(solution, path, title: str = "", reference=None, y_b: float | None = None):
    """|Y_Δα|, |Y_L| and |Δ_N| vs T (log–log; solid where positive, dashed where negative), T_sph marked, and Y_B at
    T_sph against the observed value. The y range covers eight decades below the largest curve (the physics, not the
    round-off of the first steps). ``reference`` is an optional (T, states) pair drawn as a thin grey line."""
    t = solution.temperatures
    x = solution.states
    fig, ax = plt.subplots(figsize=(9.6, 5.2))
    # A fixed layout with room for the legend on the right: a tight bounding box (or tight_layout) draws the figure
    # once more to measure it, 0.2 of the 0.55 s this figure took in a warm process.
    fig.subplots_adjust(left=0.085, right=0.75, bottom=0.1, top=0.9)
    # Y_Δμ and Y_Δτ are often nearly equal: distinct dash patterns and widths keep both visible.
    curves = [("Y_Δe", x[:, 0], "C0", 2.2, (0, ())), ("Y_Δμ", x[:, 1], "C1", 1.6, (0, ())),
              ("Y_Δτ", x[:, 2], "C2", 1.0, (0, ())), ("Y_L = Σα Y_Δα (LTA)", x[:, 0:3].sum(1), "k", 1.8, (0, ())),
              ("Δ_N = Tr Y−", x[:, 7] + x[:, 8], "C3", 1.2, (0, ()))]
    top = 0.0
    for label, y, color, width, _ in curves:
        pos = np.where(y > 0, y, np.nan)
        neg = np.where(y < 0, -y, np.nan)
        ax.loglog(t, pos, color=color, lw=width, label=label)
        ax.loglog(t, neg, color=color, lw=width, ls=(0, (4, 2)))
        top = max(top, float(np.nanmax(np.abs(y))) if np.any(y) else 0.0)
    if reference is not None:
        t_ref, x_ref = reference
        ax.loglog(t_ref, np.abs(x_ref[:, 0:3].sum(1)), color="0.4", lw=0.8, ls=":", label="|Y_L| reference")
    if top > 0:
        ax.set_ylim(top * 1e-8, top * 5)
    ax.axvline(c.T_SPHALERON, color="0.6", lw=0.8)
    ax.text(c.T_SPHALERON, 0.02, " T_sph = 131.7 GeV", color="0.4", fontsize=8, ha="left",
            transform=ax.get_xaxis_transform())
    if y_b is not None and np.isfinite(y_b):
        ax.plot([c.T_SPHALERON], [abs(y_b)], marker="o", color="C4", ms=7, ls="none",
                label=f"|Y_B(T_sph)| = {abs(y_b):.2e}" + (" (< 0)" if y_b < 0 else ""))
        ax.axhline(c.Y_B_OBSERVED, color="C4", lw=0.8, ls=":", label=f"observed Y_B = {c.Y_B_OBSERVED:.2g}")
    ax.invert_xaxis()
    for axis in (ax.xaxis, ax.yaxis):  # decades as plain text: mathtext tick labels were a third of the drawing time
        axis.set_major_formatter(matplotlib.ticker.FuncFormatter(_decade_label))
        axis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlabel("T [GeV]")
    ax.set_ylabel("|Y|   (solid: > 0, dashed: < 0)")
    ax.set_title(title, fontsize=8, wrap=True)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


def plot_chiral(solution, path, title: str = ""):
    """The chiral extension below T_sph in the style of the paper's Fig. 16: Y_Δe, Y_Δμ, Y_Δτ with the condensate
    (solid) and from the standard equations (dashed), L+ = Δ_N − Σα Y_Δα (black) and the γ_C drop temperature;
    upper panel the whole range (symmetric-log y), lower panel T < 50 GeV on a linear scale.
    ``solution``: a successful :class:`lta_jax.solver.chiral.ChiralSolution`."""
    t, x, std = solution.temperatures, solution.states, np.asarray(solution.standard.states)
    opts = solution.options
    law = (f"condensate (7.9), κ = {float(opts.kappa):g}, γ_C = {float(opts.gamma_c_amplitude):g} H dropping at "
           f"{float(opts.gamma_c_temperature):.3g} GeV" if opts.mode == "condensate" else "perturbative flips (7.7)")
    fig, axes = plt.subplots(2, 1, figsize=(7.5, 8))
    names = ("Y_Δe", "Y_Δμ", "Y_Δτ")
    l_plus = x[:, 7] + x[:, 8] - x[:, :3].sum(axis=1)
    for ax, zoom in zip(axes, (False, True)):
        sel = t <= 50 if zoom else np.ones_like(t, bool)
        for k in range(3):
            ax.plot(t[sel], x[sel, k], color=f"C{k}", label=f"{names[k]}, with R₀")
            ax.plot(t[sel], std[sel, k], color=f"C{k}", ls="--", lw=1, label=f"{names[k]}, standard equations")
        ax.plot(t[sel], l_plus[sel], color="k", lw=1, label="L+ = Δ_N − Σ Y_Δα (with R₀)")
        if opts.mode == "condensate" and t[sel].min() < opts.gamma_c_temperature < t[sel].max():
            ax.axvline(opts.gamma_c_temperature, color="0.6", lw=0.8, ls=":")
        ax.set_xscale("log")
        ax.set_xlabel("T [GeV]")
        ax.set_ylabel("Y = n/s")
        ax.axhline(0, color="0.7", lw=0.6)
        ax.grid(True, alpha=0.3)
        if zoom:
            ax.set_title("T < 50 GeV (linear scale; dotted: γ_C drop)", fontsize=9)
        else:
            ax.set_yscale("symlog", linthresh=1e-8)
            ax.set_title(f"{title}\nbelow T_sph: {law}" if title else f"below T_sph: {law}", fontsize=8)
            ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


RATE_LABELS = ("γ̄_ν+", "γ̄_ν−", "γ̄_N+", "γ̄_N−", "h̄+", "h̄−", "h̄0")
#: Temperature bands [GeV] of the accuracy report (issue 3: 5 GeV–10 TeV, level-crossing band 20–35 GeV separate).
RATE_BANDS = ((5.0, 20.0), (20.0, 35.0), (35.0, 60.0), (60.0, 131.7), (131.7, 160.0), (160.0, 1e4))


def rate_ratios(table: np.ndarray, other, mass: float) -> dict:
    """Min/max of computed/tabulated per coefficient and T band (rows of ``table`` inside each band); for h̄− also the
    temperature of its sign change in 20–40 GeV in both (NaN if none)."""
    t = table[:, 0]
    ref = np.asarray([np.asarray(other(float(tt), mass)) for tt in t])  # (n, 7)
    out = {}
    for j, name in enumerate(RATE_LABELS):
        bands = {}
        for lo, hi in RATE_BANDS:
            sel = (t >= lo) & (t < hi) & (np.abs(ref[:, j]) > 0)
            if sel.any():
                r = table[sel, 1 + j] / ref[sel, j]
                bands[f"{lo:g}-{hi:g}"] = [float(r.min()), float(r.max())]
        out[name] = bands

    def zero(values):
        sel = (t >= 20) & (t <= 40)
        tt, vv = t[sel][::-1], values[sel][::-1]
        idx = np.flatnonzero(np.sign(vv[1:]) != np.sign(vv[:-1]))
        if idx.size == 0:
            return float("nan")
        i = idx[-1]
        return float(tt[i] - vv[i] * (tt[i + 1] - tt[i]) / (vv[i + 1] - vv[i]))

    out["h_minus_zero_GeV"] = {"model": zero(table[:, 6]), "table": zero(ref[:, 5])}
    return out


def plot_rate_tables(table: np.ndarray, other, mass: float, path, title: str = "", other_label: str = "table"):
    """|coefficient| vs T for the seven coefficients (log–log), with ``other`` (a rate model, named ``other_label`` in
    the legend: the compared file) overlaid in black, and their ratio on a symmetric-log axis (ratios span 0.1–100 and
    change sign where h̄− does)."""
    t = table[:, 0]
    fig, axes = plt.subplots(2, 4, figsize=(15, 7))
    for j, name in enumerate(RATE_LABELS):
        ax = axes.flat[j]
        ax.loglog(t, np.abs(table[:, 1 + j]), "C0", label="this model")
        if other is not None:
            ref = np.asarray([float(other(float(tt), mass)[j]) for tt in t])
            ax.loglog(t, np.abs(ref), "k--", lw=1, label=other_label)
        ax.set_title(f"|{name}| [GeV], M = {mass:g} GeV", fontsize=9)
        ax.axvspan(20, 35, color="0.9", label="level-crossing band (20–35 GeV)" if j == 0 else None)
        ax.set_xlabel("T [GeV]")
    axes.flat[0].legend(fontsize=8)
    ax = axes.flat[7]
    if other is None:
        ax.axis("off")  # no comparison table: nothing to show in the ratio panel
    else:
        for j, name in enumerate(RATE_LABELS):
            ref = np.asarray([float(other(float(tt), mass)[j]) for tt in t])
            with np.errstate(divide="ignore", invalid="ignore"):
                ax.semilogx(t, table[:, 1 + j] / ref, label=name)
        # Symmetric log: the ratios reach ~100 (γ̄_ν− at low T) and go negative where h̄− changes sign in one model
        # first; a linear axis capped at 3 hid both.
        ax.set_yscale("symlog", linthresh=0.1)
        ax.axhspan(0.8, 1.2, color="0.9")
        ax.axhline(0.0, color="0.5", lw=0.6)
        ax.set_title(f"model / {other_label}\n(grey: 0.8–1.2; symmetric log axis)", fontsize=9)
        ax.legend(fontsize=7, ncol=2)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_dilution(out: dict, mass: float, widths, thermo, path, title: str = "") -> None:
    """The late-time HNL problem (paper Fig. 2): Γ_I⟨M/E⟩/H, the HNL yields n_I/s against equilibrium, and the
    dilution factor D(T) = (s a³)(T)/(s a³)(T_in), all against T (decreasing to the right)."""
    from lta_jax.studies.dilution import thermal_averages

    traj = out["trajectory"]
    t = np.asarray(traj["T"])
    m_over_e = np.array([float(thermal_averages(mass, tt)[1]) for tt in t])
    hubble = np.asarray(thermo.hubble_rate(t))
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    limit = out.get("lifetime_limit_s")
    for i, label in enumerate(("N₂", "N₃")):
        tau = out["lifetimes_s"][i]
        over = limit is not None and tau > limit  # marked: a lifetime above the BBN limit
        axes[0].loglog(t, float(widths[i]) * m_over_e / hubble, color=f"C{i}", lw=2.5 if over else 1.5,
                       label=f"{label} (τ = {tau:.2g} s{f' > limit {limit:g} s' if over else ''})")
        axes[1].loglog(t, np.asarray(traj["hnl_yields"])[:, i], color=f"C{i}", label=f"n/s, {label}")
    axes[0].axhline(1.0, color="0.6", lw=0.8)
    axes[0].set_ylabel("Γ ⟨M/E⟩ / H (radiation-dominated H)")
    if out.get("lifetime_exceeds_limit"):
        axes[0].set_title(f"decay rate over expansion rate\nlifetime above the {limit:g} s BBN limit", fontsize=9,
                          color="C3")
    else:
        axes[0].set_title("decay rate over expansion rate", fontsize=9)
    axes[1].loglog(t, np.asarray(traj["equilibrium_yield"]), "k:", label="n_eq/s (both helicities)")
    axes[1].set_ylim(1e-3 * float(np.max(traj["hnl_yields"])), 3 * float(np.max(traj["hnl_yields"])))
    axes[1].set_ylabel("yield n/s")
    axes[1].set_title("HNL abundances", fontsize=9)
    axes[2].semilogx(t, np.asarray(traj["D"]), "k")
    axes[2].set_ylabel("D(T) = (s a³)(T) / (s a³)(T_in)")
    axes[2].set_title(f"dilution: D_fin = {out['D_fin']:.3g}", fontsize=9)
    for ax in axes:
        ax.set_xlabel("T [GeV]")
        ax.invert_xaxis()
    axes[0].legend(fontsize=8)
    # The yields sit at the top until they decay and fall on the right: the lower left is empty (the default
    # placement covered n_eq/s).
    axes[1].legend(fontsize=7, loc="lower left")
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def plot_dilution_scan(masses, table: dict, path, title: str = "") -> None:
    """D_fin against M for several Im ω (paper Fig. 3); ``table`` maps Im ω → list of D_fin."""
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for im_omega, values in table.items():
        ax.loglog(masses, values, "o-", ms=4, label=f"Im ω = {im_omega:g}")
    ax.set_xlabel("M [GeV]")
    # The masses as plain numbers (the log axis labelled 6×10⁰, 4×10⁰ on a short range).
    ax.set_xticks(sorted(set(masses)), [f"{m:g}" for m in sorted(set(masses))])
    ax.set_xticks([], minor=True)
    ax.set_ylabel("D_fin = (s a³)_fin / (s a³)_in")
    from matplotlib.ticker import LogFormatter

    ax.yaxis.set_major_formatter(LogFormatter())  # "3", not "3×10⁰", on the short ranges D_fin spans
    ax.yaxis.set_minor_formatter(LogFormatter(labelOnlyBase=False, minor_thresholds=(2, 0.4)))
    ax.axhline(1.0, color="0.6", lw=0.8)
    ax.legend(fontsize=8)
    ax.set_title(title or "entropy dilution by HNL decays", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def plot_diagnostics(diag: dict, path, title: str = "") -> None:
    """Six panels in the style of the paper's Figs. 4, 5, 11 and 13 from :func:`lta_jax.solver.diagnostics.diagnose`:
    rates over H (Γ_N eigenvalues with and without γ̄−, |Re λ| of A), Γ_osc/H, δM(T) against δM(0), T_osc(T), and along
    the run L±, Δ_N, Y_L and the flavoured asymmetries. T increases to the right (time runs right to left), as in the
    paper."""
    t = np.asarray(diag["T"])
    fig, axes = plt.subplots(2, 3, figsize=(15, 8.2))
    ax = axes[0, 0]
    g, g0 = np.asarray(diag["gamma_N_over_H"]), np.asarray(diag["gamma_N_over_H_without_fnv"])
    for k, style in ((0, "C0"), (1, "C1")):
        ax.loglog(t, np.abs(g[:, k]), color=style, label=f"Γ_N eigenvalue {k + 1} / H")
        ax.loglog(t, np.abs(g0[:, k]), color=style, ls="--", lw=1, label=f"Γ_N eigenvalue {k + 1} / H with γ̄− = 0")
    if "A_eigenvalues_over_H" in diag:
        a = np.asarray(diag["A_eigenvalues_over_H"])
        ax.loglog(t, a[:, 0], color="C2", ls="--", lw=1.5, label="|Re λ|_min of A / H")
        ax.loglog(t, a[:, 1], color="C2", ls=":", lw=1, label="|Re λ|_max of A / H")
    if diag.get("pseudo_dirac_regime") and "pseudo_dirac_breaking_over_H" in diag:
        ax.loglog(t, np.asarray(diag["pseudo_dirac_breaking_over_H"]), color="C5", ls="-.", lw=1.2,
                  label="Γ_Q / H, pseudo-Dirac charge (physics.md §7.5)")
    ax.axhline(1.0, color="k", lw=0.8)
    eq = diag["equilibration"]
    for key, marker in (("T_in", "v"), ("T_out", "^")):
        if eq[key] is not None:
            ax.plot([eq[key]], [1.0], marker=marker, color="k", ms=8, ls="none",
                    label=f"{key} = {eq[key]:.3g} GeV")
    ax.set_ylabel("rate / H")
    ax.set_title("rates over H (Figs. 4, 5, 11, 13)", fontsize=10)
    ax.legend(fontsize=7, loc="best")

    ax = axes[0, 1]
    ax.loglog(t, np.asarray(diag["Gamma_osc_over_H"]), color="C3")
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set_ylabel("Γ_osc / H = M δM(T) / (3 T H)")
    ax.set_title("oscillation rate over H (4.5), Fig. 11 middle", fontsize=10)

    ax = axes[0, 2]
    ax.loglog(t, np.asarray(diag["delta_M_T"]), color="C4", label="δM(T) from H_N (4.7)")
    ax.axhline(diag["delta_M_vacuum"], color="0.4", ls="--", lw=1, label=f"δM(0) (4.8) = {diag['delta_M_vacuum']:.3g} GeV")
    ax.set_ylabel("δM [GeV]")
    ax.set_title("physical mass difference", fontsize=10)
    ax.legend(fontsize=7)

    ax = axes[1, 0]
    ax.loglog(t, np.asarray(diag["T_osc_T"]), color="C5", label="T_osc from δM(T), M0(T) (4.6)")
    ax.loglog(t, t, color="0.5", lw=0.8, ls=":", label="T_osc = T")
    ax.set_ylabel("T_osc [GeV]")
    ax.set_title("oscillation temperature", fontsize=10)
    ax.legend(fontsize=7)

    run = diag.get("run")
    for ax, keys, heading in ((axes[1, 1], ("L_plus", "L_minus", "Delta_N", "Y_L"), "L± = Δ_N ∓ Σ Y_Δα (4.4), Fig. 4"),
                              (axes[1, 2], ("Y_De", "Y_Dmu", "Y_Dtau"), "flavoured asymmetries (Fig. 11 lower)")):
        if run is None:
            ax.set_visible(False)
            continue
        tr = np.asarray(run["T"])
        peak = max(float(np.max(np.abs(np.asarray(run[k])))) for k in keys)
        labels = {"L_plus": "L+ = Δ_N − Σ Y_Δα", "L_minus": "L− = Δ_N + Σ Y_Δα", "Delta_N": "Δ_N = Tr Y−",
                  "Y_L": "Σ Y_Δα", "Y_De": "Y_Δe", "Y_Dmu": "Y_Δμ", "Y_Dtau": "Y_Δτ"}
        for k, style in zip(keys, ("-", "--", ":", "-") if len(keys) == 4 else ("-", "--", ":")):
            ax.plot(tr, np.asarray(run[k]), ls=style, lw=1.6 if style == ":" else 1.3, label=labels[k])
        ax.set_xscale("log")
        # A power of ten for the linear band keeps the ±threshold tick labels apart.
        ax.set_yscale("symlog", linthresh=10.0 ** math.floor(math.log10(max(peak * 1e-4, 1e-30))))
        ax.set_ylabel("Y = n/s")
        ax.set_title(heading, fontsize=10)
        ax.legend(fontsize=7)
    for ax in axes.flat:
        ax.axvline(c.T_SPHALERON, color="0.7", lw=0.8)
        ax.set_xlabel("T [GeV]")
        ax.grid(True, which="major", alpha=0.25)
    axes[0, 1].text(c.T_SPHALERON, 0.97, " T_sph", transform=axes[0, 1].get_xaxis_transform(), color="0.45",
                    fontsize=8, va="top")
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_history(result, path, baselines: dict | None = None):
    """Left: objective of every evaluation against the solve-equivalents spent (screen grey, refinement coloured per
    candidate, best feasible so far in black; ``baselines`` {label: value} as horizontal lines). Right: Y_B/target of
    the same evaluations with the feasible band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    settings = result.settings
    target, tol = settings["bau_target"], settings["bau_tolerance"]
    rows = result.history
    n_screen = result.screened
    x = np.array([r["solve_equivalents"] for r in rows], dtype=float)  # spent when each evaluation was done
    obj = np.array([r["objective"] for r in rows], dtype=float)
    y_b = np.array([r["Y_B"] for r in rows], dtype=float) / target
    feasible = np.array([r["feasible"] for r in rows])
    screen = np.array([r["phase"] == "screen" for r in rows])
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    def labelled(mask, text):  # no legend entry for a series without points
        return text if np.any(mask) else None

    ax1.semilogy(x[screen], obj[screen], ".", color="0.75", ms=3, label=labelled(screen, "screen"))
    ax1.semilogy(x[screen & feasible], obj[screen & feasible], ".", color="0.35", ms=4,
                 label=labelled(screen & feasible, "screen, feasible"))
    cands = sorted({r["candidate"] for r in rows if r["phase"] == "refine"})
    cmap = plt.get_cmap("tab10")
    for i, cand in enumerate(cands):
        sel = np.array([r["phase"] == "refine" and r["candidate"] == cand and r["accepted"] for r in rows])
        ax1.semilogy(x[sel], obj[sel], "-", color=cmap(i % 10), lw=1, alpha=0.8,
                     label=f"refinement: accepted steps, one colour per candidate ({len(cands)})" if i == 0 else None)
    best, best_x, best_y = -np.inf, [], []
    for xi, oi, fi in zip(x, obj, feasible):
        if fi and oi > best:
            best = oi
        if np.isfinite(best):
            best_x.append(xi)
            best_y.append(best)
    if best_x:
        ax1.semilogy(best_x, best_y, "k-", lw=2, label="best feasible so far")
        # The result written on the figure: the best feasible value on the optimiser's grid (the confirmed value is
        # in the JSON, full_solve_*).
        ax1.annotate(f"best feasible {best_y[-1]:.3g}", (best_x[-1], best_y[-1]), xytext=(-6, 8),
                     textcoords="offset points", ha="right", fontsize=8)
    for j, (label, value) in enumerate((baselines or {}).items()):
        ax1.axhline(value, ls="--", color=cmap((j + 5) % 10), label=label)
    ax1.axvline(n_screen, color="0.5", lw=0.8, ls=":", label="end of the screen")
    right = float(np.nanmax(x)) if x.size else 1.0
    for ax in (ax1, ax2):  # a margin, so that no point sits half outside the frame
        ax.set_xlim(-0.02 * right, 1.03 * right)
    ax1.set_xlabel("solve-equivalents spent")
    ax1.set_ylabel("|Y_L(T_end)|" if settings["objective"] == "lta" else "soft max |Y_e|")
    ax1.set_title(f"{settings['objective']}, M = {settings['M']:g} GeV {settings['hierarchy']}, "
                  f"{'BAU band' if settings['bau'] else 'no BAU constraint'}", fontsize=10)
    finite = obj[np.isfinite(obj) & (obj > 0)]
    if finite.size:
        ax1.set_ylim(max(finite.min() / 2, finite.max() * 1e-6), finite.max() * 3)
    ax1.legend(fontsize=7, loc="lower right")
    ax2.plot(x[screen], y_b[screen], ".", color="0.75", ms=3)
    ax2.plot(x[~screen], y_b[~screen], ".", color="C1", ms=4, label=labelled(~screen, "refinement"))
    ax2.axhspan(1 - tol, 1 + tol, color="C2", alpha=0.25, label="feasible band")
    ax2.set_yscale("symlog", linthresh=0.1)
    ax2.set_xlabel("solve-equivalents spent")
    ax2.set_ylabel("Y_B / target")
    ax2.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


_EXPLORE_LABELS = {"log10_delta_M": "log10(ΔM/GeV)", "im_omega": "Im ω", "re_omega": "Re ω / π", "delta": "δ / π",
                   "eta": "η / π"}


def _explore_columns(samples: dict) -> dict:
    """Flattened samples with the angles in units of π (as the paper's figures)."""
    cols = {k: np.asarray(samples[k], dtype=float).ravel() for k in _EXPLORE_LABELS}
    for k in ("re_omega", "delta", "eta"):
        cols[k] = cols[k] / math.pi
    return cols


def plot_explore(samples: dict, summary: dict, out_dir, title: str = "") -> list:
    """The figures of ``lta-jax explore`` (docs/exploration.md): Fig.-6 style (|Y_L(T_end)| against log10 ΔM, Im ω and
    Re ω, coloured by ln(Y_B/Y_B^obs)), Fig.-7 style (|Y_L| over the (Im ω, log10 ΔM) plane) and a corner plot of the
    five parameters. Returns the paths written."""
    import pathlib

    out_dir = pathlib.Path(out_dir)
    cols = _explore_columns(samples)
    y_l = np.abs(np.asarray(samples["Y_L_end"], dtype=float).ravel())
    ln_yb = np.log(np.abs(np.asarray(samples["Y_B"], dtype=float).ravel()) / 8.7e-11)
    n = y_l.size
    settings = summary.get("settings", {})
    head = (f"M = {settings.get('mass', float('nan')):g} GeV {settings.get('hierarchy', '')}, "
            f"box {settings.get('box', '')}, BAU width {settings.get('bau_width', float('nan')):g} in ln Y_B, "
            f"{n} draws ({settings.get('chains', '?')} chains)")
    paths = []

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6), sharey=True)
    for ax, key in zip(axes, ("log10_delta_M", "im_omega", "re_omega")):
        sc = ax.scatter(cols[key], y_l, c=ln_yb, s=6, cmap="coolwarm", vmin=-0.3, vmax=0.3)
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(_decade_label))
        ax.set_xlabel(_EXPLORE_LABELS[key])
    axes[0].set_ylabel(f"|Y_L(T_end = {settings.get('t_end', 10):g} GeV)|")
    fig.colorbar(sc, ax=axes, label="ln(Y_B / 8.7e-11)", fraction=0.03)
    fig.suptitle(f"BAU-compatible samples (paper Fig. 6 style): {head}", fontsize=10)
    paths.append(out_dir / "fig6_lta_vs_parameters.png")
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6.5, 5))
    order = np.argsort(y_l)
    sc = ax.scatter(cols["im_omega"][order], cols["log10_delta_M"][order], c=np.log10(y_l[order] + 1e-300), s=8,
                    cmap="viridis")
    fig.colorbar(sc, ax=ax, label="log10 |Y_L(T_end)|")
    ax.set_xlabel("Im ω")
    ax.set_ylabel("log10(ΔM/GeV)")
    ax.set_title(f"|Y_L| over the (Im ω, ΔM) plane (paper Fig. 7 style)\n{head}", fontsize=9)
    fig.tight_layout()
    paths.append(out_dir / "fig7_im_omega_delta_M.png")
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)

    keys = list(_EXPLORE_LABELS)
    fig, axes = plt.subplots(5, 5, figsize=(12, 12))
    for i, ki in enumerate(keys):
        for j, kj in enumerate(keys):
            ax = axes[i, j]
            if j > i:
                ax.axis("off")
                continue
            if i == j:
                ax.hist(cols[ki], bins=30, color="C0", histtype="stepfilled", alpha=0.7)
                ax.set_yticks([])
            else:
                ax.scatter(cols[kj], cols[ki], s=2, alpha=0.4, color="C0")
            if i == len(keys) - 1:
                ax.set_xlabel(_EXPLORE_LABELS[kj])
            else:
                ax.set_xticklabels([])
            if j == 0 and i > 0:
                ax.set_ylabel(_EXPLORE_LABELS[ki])
            elif j > 0:
                ax.set_yticklabels([])
    rhat = summary.get("rhat", {})
    fig.suptitle(f"posterior of the five parameters: {head}\nR-hat: " + ", ".join(
        f"{_EXPLORE_LABELS[k]} {rhat[k]:.3f}" for k in keys if rhat.get(k) is not None), fontsize=9)
    paths.append(out_dir / "corner.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)
    return [str(p) for p in paths]
