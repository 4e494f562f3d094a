"""Bad inputs raise clear errors before compilation; failed solves report their diffrax result, never numbers."""

import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

from lta_jax.cli.commands import app
from lta_jax.solver.observables import summary
from lta_jax.model.parameters import ModelParameters
from lta_jax.rates.provisional import ProvisionalRates
from lta_jax.rates.base import RateVariant, TabulatedRates, parse_fortran_table
from lta_jax.solver.integrate import SolverOptions, solve
from lta_jax.plasma.susceptibility import susceptibility_from_table
from lta_jax.plasma.thermodynamics import thermodynamics_from_table

GOOD = ModelParameters(1.0, 1e-11, 0.1, 1.6, 1.0, 2.0)
runner = CliRunner()


def _no_compile(monkeypatch):
    """Make any attempt to reach the compiled solver fail loudly: errors must come first."""
    import lta_jax.solver.integrate as solver

    def boom(*args, **kwargs):
        raise AssertionError("the solver was compiled/called before input validation")

    monkeypatch.setattr(solver, "_solve_compiled", boom)


@pytest.mark.parametrize("params, match", [
    (ModelParameters(float("nan"), 1e-11), "finite"),
    (ModelParameters(-1.0, 1e-11), "positive"),
    (ModelParameters(1.0, 0.0), "ΔM"),
])
def test_bad_parameters_before_compilation(monkeypatch, params, match):
    _no_compile(monkeypatch)
    with pytest.raises(ValueError, match=match):
        solve(params, ProvisionalRates(), t_start=1e3, t_end=10.0)


@pytest.mark.parametrize("t_start, t_end, match", [
    (1e3, 2e3, "below"), (1e3, 1e3, "below"), (float("inf"), 10.0, "finite"), (1e3, -1.0, "positive"),
    (1e3, 1.0, "provisional"),  # outside the rate model's range
    (1e6, 10.0, "provisional"),
])
def test_bad_temperatures_before_compilation(monkeypatch, t_start, t_end, match):
    _no_compile(monkeypatch)
    with pytest.raises(ValueError, match=match):
        solve(GOOD, ProvisionalRates(), t_start=t_start, t_end=t_end)


def test_rate_table_range_and_malformed(monkeypatch, tmp_path, reference_file):
    _no_compile(monkeypatch)
    rates = TabulatedRates.from_file(reference_file("nuMSM-fortran/Int_OrgH_MN10E-1_kcAve.dat"))
    assert rates.table_mass == 1.0
    with pytest.raises(ValueError, match="outside the rate table"):
        solve(GOOD, rates, t_start=1e3, t_end=1.0)
    bad = tmp_path / "bad.dat"
    bad.write_text("1.0 2.0 3.0\n")
    with pytest.raises(ValueError, match="expected 9 columns"):
        TabulatedRates.from_file(bad)
    bad.write_text("1.0 2.0 x 4 5 6 7 8 9\n")
    with pytest.raises(ValueError, match="malformed"):
        TabulatedRates.from_file(bad)
    with pytest.raises(FileNotFoundError):
        TabulatedRates.from_file(tmp_path / "nope.dat")
    with pytest.raises(ValueError, match="rate scale"):
        RateVariant(rates, rate_scale=-1.0).check_range(10, 100, 1.0)


def test_fortran_number_format(tmp_path):
    f = tmp_path / "t.dat"
    f.write_text("1.0 -7.44015-316 2.5E+01\n")
    np.testing.assert_array_equal(parse_fortran_table(f), [[1.0, 0.0, 25.0]])


def test_malformed_thermo_and_susceptibility_tables(tmp_path):
    bad = tmp_path / "bad.dat"
    bad.write_text("1 2 3\n4 5 6\n")
    with pytest.raises(ValueError, match="malformed"):
        thermodynamics_from_table(bad)
    with pytest.raises(ValueError, match="malformed"):
        susceptibility_from_table(bad)


def test_failed_solve_reports_status_not_numbers():
    sol = solve(GOOD, ProvisionalRates(), t_start=1e3, t_end=10.0, solver_options=SolverOptions(max_steps=20))
    assert not sol.succeeded
    assert sol.status == "max_steps_reached"
    out = summary(sol)
    assert out["status"] == "max_steps_reached"
    assert all(math.isnan(out[k]) for k in ("Y_B", "Y_L_end", "max_abs_Y_e"))
    from lta_jax.solver.integrate import SolveError

    with pytest.raises(SolveError, match="max_steps_reached"):
        solve(GOOD, ProvisionalRates(), t_start=1e3, t_end=10.0, solver_options=SolverOptions(max_steps=20),
              raise_on_failure=True)


def test_cli_bad_inputs_exit_2(tmp_path):
    for args in (["solve", "--M", "-1"], ["solve", "--delta-M", "0"], ["solve", "--hierarchy", "XH"],
                 ["solve", "--T-end", "2000"], ["solve", "--re-omega", "abc"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert "error" in result.output.lower()
    card = tmp_path / "card.toml"
    card.write_text("M = 1.0\nbogus = 3\n")
    result = runner.invoke(app, ["solve", "--card", str(card)])
    assert result.exit_code != 0 and "unknown keys" in result.output
    card.write_text("M = [\n")
    result = runner.invoke(app, ["solve", "--card", str(card)])
    assert result.exit_code != 0 and "malformed card" in result.output


@pytest.mark.slow  # long run (≥ 45 s on 2 cores in the default suite, 2026-12-02): the bounded slow step of .ci/run
def test_cli_card_solve_with_table(tmp_path, reference_file):
    """A TOML card with a rate table: JSON contract keys, π-multiples, CLI overriding the card, and a plot."""
    rates = reference_file("nuMSM-fortran/Int_ModH_MN10E-1_kcAve.dat")
    card = tmp_path / "card.toml"
    card.write_text(f'M = 1.0\ndelta_M = 1e-12\nim_omega = 1.0986122886681098\nre_omega = "0.8125pi"\n'
                    f'delta = "1.8125pi"\neta = "1.375pi"\nrates = "{rates}"\nT_start = 995.954\nT_end = 50.0\n')
    out_json, out_png = tmp_path / "r.json", tmp_path / "r.png"
    result = runner.invoke(app, ["solve", "--card", str(card), "--T-end", "20", "--json", str(out_json),
                                 "--plot", str(out_png)])
    assert result.exit_code == 0, result.output
    data = json.loads(out_json.read_text())
    for key in ("Y_B", "Y_L_sph", "Y_L_end", "Y_Delta_end", "max_abs_Y_e", "T_max_Y_e", "T_end", "status", "inputs"):
        assert key in data
    assert data["status"] == "success" and data["T_end"] == 20.0 and len(data["Y_Delta_end"]) == 3
    assert data["inputs"]["re_omega"] == pytest.approx(0.8125 * math.pi)
    assert data["provisional_rates"] is False
    assert data["Y_B"] == pytest.approx(-28 / 79 * data["Y_L_sph"])
    assert out_png.stat().st_size > 10_000
