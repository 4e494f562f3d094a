"""Checks of command-line settings that need neither JAX nor a rate model (plain Python), run before anything heavy is
imported: a wrong number, temperature order, solver name, step limit or rate specification exits 2 within about a
second of starting the command. ``settings.prepare_run`` runs the same checks, then builds the models."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from lta_jax.model.validity import (check_computed_range, check_hierarchy, check_parameter_values, check_temperatures,
                                    parse_angle, start_temperature)

#: Integrators of ``lta-jax solve --solver`` (lta_jax.solver.integrate.SOLVERS builds their options).
SOLVER_NAMES = ("kvaerno5", "magnus")
#: Kinetic equations of ``lta-jax solve --kinetics``.
KINETICS_NAMES = ("averaged", "resolved")
#: Rate specifications that select the package's own computed model.
COMPUTED_SPECS = (None, "", "computed", "computed-paper", "computed-ulysses")
DEFAULT_MAX_STEPS = 100_000


@dataclass(frozen=True)
class CheckedSettings:
    """The parsed numbers of a settings dictionary (angles in radians, temperatures in GeV)."""

    values: dict
    hierarchy: str
    t_start: float
    t_end: float
    rate_scale: float
    max_steps: int
    solver: str
    kinetics: str = "averaged"
    n_modes: int | None = None


def number(settings: dict, key: str) -> float:
    value = settings[key]
    try:
        return float(value)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{key} must be a number, got {value!r}") from err


def positive_int(settings: dict, key: str, default: int) -> int:
    value = settings.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value) or value < 1:
        raise ValueError(f"{key} must be a positive integer, got {value!r}")
    return int(value)


def precheck_rate_spec(spec, t_low: float, t_high: float, mass: float, kinetics: str = "averaged") -> None:
    """Every check on a rate specification that needs no built model (the computed model's range, a table's
    existence, per-mode rates for the resolved equations), so bad input fails before the (seconds-long) self-energy
    tabulation compiles anything."""
    if spec in COMPUTED_SPECS:
        check_computed_range(t_low, t_high, mass)
        return
    if kinetics == "resolved":
        if spec == "provisional" or Path(str(spec)).is_file():
            raise ValueError("the resolved equations need per-mode rates: --rates computed (default) or a directory "
                             f"of per-mode tables, got {spec!r}")
        if not Path(str(spec)).is_dir():
            raise FileNotFoundError(f"per-mode table directory not found: {spec}")
        return
    if spec != "provisional" and Path(str(spec)).is_dir():
        raise ValueError(f"{spec} is a directory (per-mode tables need --kinetics resolved)")
    if spec != "provisional" and not Path(str(spec)).is_file():
        raise FileNotFoundError(f"rate table not found: {spec} (or use --rates computed|computed-ulysses|provisional)")


def check_output_file(path, option: str) -> None:
    """An output file of a command, checked before any work (a result must never be computed and then lost): its
    folder exists and is writable, and the path is not a folder. ``None``: nothing to write."""
    if path is None or str(path) == "":
        return
    import os

    target = Path(path)
    if target.is_dir():
        raise ValueError(f"{option} {target}: is a directory, not a file")
    folder = target.parent
    if not folder.is_dir():
        raise ValueError(f"{option} {target}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise ValueError(f"{option} {target}: not writable")


def check_output_dir(path, option: str) -> None:
    """An output directory (created if missing, resumed if present), checked before any work: not an existing file,
    and its nearest existing ancestor a writable folder."""
    import os

    target = Path(path)
    if target.exists() and not target.is_dir():
        raise ValueError(f"{option} {target}: exists and is not a directory")
    ancestor = target
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir() or not os.access(ancestor, os.W_OK):
        raise ValueError(f"{option} {target}: {ancestor} is not a writable folder")


def check_settings(settings: dict) -> CheckedSettings:
    """Parse and check every setting that needs no model: raises ``ValueError``/``FileNotFoundError``."""
    for key, option in (("json", "--json"), ("plot", "--plot"), ("export", "--export")):
        check_output_file(settings.get(key), option)
    hierarchy = str(settings.get("hierarchy", "NH")).upper()
    check_hierarchy(hierarchy)
    values = dict(mass=number(settings, "M"), delta_mass=number(settings, "delta_M"),
                  im_omega=number(settings, "im_omega"), re_omega=parse_angle(settings["re_omega"]),
                  delta=parse_angle(settings["delta"]), eta=parse_angle(settings["eta"]))
    check_parameter_values(**values)
    t_start = (number(settings, "T_start") if settings.get("T_start") is not None
               else start_temperature(values["mass"], values["delta_mass"]))
    t_end = number(settings, "T_end") if settings.get("T_end") is not None else 5.0
    check_temperatures(t_start, t_end)
    scale = number(settings, "rate_scale") if settings.get("rate_scale") is not None else 1.0
    if not (scale > 0 and math.isfinite(scale)):
        raise ValueError(f"rate scale must be positive and finite, got {scale!r}")
    max_steps = positive_int(settings, "max_steps", DEFAULT_MAX_STEPS)
    solver = str(settings.get("solver", "magnus")).lower()
    if solver not in SOLVER_NAMES:
        raise ValueError(f"solver must be one of {list(SOLVER_NAMES)}, got {solver!r}")
    kinetics = str(settings.get("kinetics", "averaged")).lower()
    if kinetics not in KINETICS_NAMES:
        raise ValueError(f"kinetics must be one of {list(KINETICS_NAMES)}, got {kinetics!r}")
    n_modes = None
    if settings.get("modes") is not None:
        if kinetics != "resolved":
            raise ValueError("--modes needs --kinetics resolved")
        n_modes = positive_int(settings, "modes", 48)
        if n_modes < 2:
            raise ValueError(f"modes must be at least 2, got {n_modes}")
    precheck_rate_spec(settings.get("rates"), t_end, t_start, values["mass"], kinetics)
    if settings.get("export") and not settings.get("dilution"):
        raise ValueError("--export needs --dilution (it writes Y_Δα(T) and the dilution factor D(T))")
    if settings.get("chiral"):
        if kinetics != "averaged":
            raise ValueError("--chiral works with the averaged equations (--kinetics averaged)")
        from lta_jax.model.constants import T_SPHALERON  # plain Python (no JAX)

        if not t_end < T_SPHALERON:
            raise ValueError(f"--chiral acts below T_sph = {T_SPHALERON} GeV: --T-end must be below it, "
                             f"got {t_end:g}")
        for key in ("kappa", "gamma_c"):
            if settings.get(key) is not None:
                value = settings[key]
                if not (isinstance(value, (int, float)) and math.isfinite(value)):
                    raise ValueError(f"--{key.replace('_', '-')} must be a finite number, got {value!r}")
        if settings.get("gamma_c") is not None and settings["gamma_c"] < 0:
            raise ValueError(f"--gamma-c must be ≥ 0, got {settings['gamma_c']!r}")
        kappa_limit = 2484 / 768  # lta_jax.kinetics.chiral.KAPPA_LIMIT (checked here without importing JAX)
        if settings.get("kappa") is not None and not settings["kappa"] < kappa_limit:
            raise ValueError(f"--kappa must be below 2484/768 ≈ {kappa_limit:.4f}: above it (7.9) drives R0 away from "
                             f"μ_R = κμ₁ instead of towards it, got {settings['kappa']!r}")
        gamma_c_drop(settings)
    elif any(settings.get(key) is not None for key in ("kappa", "gamma_c", "gamma_c_drop")):
        raise ValueError("--kappa, --gamma-c and --gamma-c-drop need --chiral")
    for key in ("thermo", "susceptibility"):
        if settings.get(key) and not Path(str(settings[key])).is_file():
            raise FileNotFoundError(f"{key} table not found: {settings[key]}")
    return CheckedSettings(values, hierarchy, t_start, t_end, scale, max_steps, solver, kinetics, n_modes)


def gamma_c_drop(settings: dict) -> float | None:
    """The drop temperature T_* of γ_C from ``--gamma-c-drop`` (card key ``gamma_c_drop``): a temperature in GeV
    (default 40), or "max" → None (at the standard run's max |Y_Δe|, resolved by the chiral solve)."""
    value = settings.get("gamma_c_drop")
    if value is None:
        return 40.0
    if isinstance(value, str) and value.strip().lower() == "max":
        return None
    try:
        temperature = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"--gamma-c-drop must be a temperature in GeV or 'max', got {value!r}") from None
    from lta_jax.model.constants import T_SPHALERON  # plain Python (no JAX)

    if not (math.isfinite(temperature) and 0 < temperature < T_SPHALERON):
        raise ValueError(f"--gamma-c-drop must lie between 0 and T_sph = {T_SPHALERON} GeV, got {value!r}")
    return temperature
