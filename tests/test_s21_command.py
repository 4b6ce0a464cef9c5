"""``tlsbayes s21``: simulated trace files in, traces.csv and NetCDF posteriors out."""

import json

import numpy as np
import pandas as pd
import pytest

from tlsbayes.cli import main
from tlsbayes.physics import s21 as k
from tlsbayes.s21.run import FIRST_COLUMNS, posterior_path, run_s21
from tlsbayes.s21.simulate import simulate_trace, theta_from_q

F0 = 5.7e9
F = np.linspace(F0 - 4e5, F0 + 4e5, 1001)
#: Per file: (power dBm, temperature mK, Q_i, |Q_c|, mismatch phi)
CASES = {"res_-40dB_10mK.csv": (-40.0, 10.0, 7e5, 2.2e5, -0.35),
         "res_-60p0dB_25mK.csv": (-60.0, 25.0, 3e5, 2.5e5, 0.2)}


def _truth(qi, qc, phi, shift):
    return theta_from_q(F0 + shift, qi, qc, phi, 0.08, 3e-9, -1.2, 5.5e-8)


def _write(folder):
    truths = {}
    for i, (name, (p, t, qi, qc, phi)) in enumerate(CASES.items()):
        theta = _truth(qi, qc, phi, 1e4 * (i + 1))
        z = simulate_trace(F, theta, 0.08 * 0.2 / 60, np.random.default_rng(10 + i))
        body = np.column_stack([F, 20 * np.log10(np.abs(z)), np.degrees(np.angle(z))])
        np.savetxt(folder / name, body, delimiter=",", header="frequency_Hz,mag_dB,phase_deg",
                   comments="")
        truths[name] = (p, t, k.derived_q(theta))
    (folder / "conditions.csv").write_text("note\nnot a trace\n")
    return truths


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    data = tmp_path_factory.mktemp("traces")
    truths = _write(data)
    out = tmp_path_factory.mktemp("out")
    assert main(["s21", str(data), "--out", str(out), "--quiet"]) == 0
    return data, out, truths


def test_table_matches_simulated_truth(first_run):
    data, out, truths = first_run
    df = pd.read_csv(out / "traces.csv")
    assert tuple(df.columns[: len(FIRST_COLUMNS)]) == FIRST_COLUMNS
    assert len(df) == len(CASES)  # conditions.csv is not a trace
    for _, row in df.iterrows():
        name = row["file"].split("/")[-1]
        power, temp_mK, d = truths[name]
        assert row["status"] == "ok", row["reason"]
        assert row["power_dBm"] == power
        assert row["temperature_K"] == pytest.approx(temp_mK * 1e-3)
        assert row["Qi_q16"] < row["Qi"] < row["Qi_q84"]
        for col, key in (("Qi", "Qi"), ("Qc", "Qc"), ("Ql", "Ql"), ("f_res_Hz", "f_r")):
            half = 0.5 * (row[f"{col}_q84"] - row[f"{col}_q16"])
            assert abs(row[col] - d[key]) < 4 * half, (name, col, row[col], d[key], half)
        assert abs(row["f_res_Hz"] - d["f_r"]) < 1e3  # Hz


def test_posterior_netcdf_holds_the_draws(first_run):
    import xarray as xr

    _, out, _ = first_run
    df = pd.read_csv(out / "traces.csv")
    files = sorted((out / "posteriors").glob("*.nc"))
    assert len(files) == len(df)
    with xr.open_dataset(files[0]) as ds:
        row = json.loads(ds.attrs["row"])
        qi = ds["Qi"].values
    match = df[df["file"] == row["file"]].iloc[0]
    # The table's median is the posterior's: 1/median(1/Qi) = median(Qi) for the draws.
    assert np.median(qi) == pytest.approx(match["Qi"], rel=1e-3)
    assert qi.size > 1000
    figures = sorted((out / "figures").glob("*.png"))
    assert [p.stem for p in figures] == [p.stem for p in files]
    assert all(p.stat().st_size > 10_000 for p in figures)


def test_workers_give_the_same_table(first_run, tmp_path):
    data, out, _ = first_run
    res = run_s21([data], tmp_path / "par", workers=2, progress=False, plots=False)
    a, b = (pd.read_csv(d / "traces.csv").filter(regex="^(?!cpu_)")  # timings differ
            for d in (out, tmp_path / "par"))
    assert res.fitted == len(CASES)
    pd.testing.assert_frame_equal(a, b)


def test_rerun_reuses_and_changed_file_is_refitted(first_run, tmp_path):
    data, out, _ = first_run
    before = pd.read_csv(out / "traces.csv")
    res = run_s21([data], out, progress=False)
    assert (res.fitted, res.reused) == (0, len(CASES))
    pd.testing.assert_frame_equal(pd.read_csv(out / "traces.csv"), before)
    # Another seed is another option set: everything is refitted.
    res = run_s21([data], out, progress=False, seed=1, plots=False)
    assert (res.fitted, res.reused) == (len(CASES), 0)


def test_unreadable_file_is_a_failed_row(tmp_path, capsys):
    bad = tmp_path / "dev_-30dB_10mK.csv"
    bad.write_text("1,2\n3,4\n")
    out = tmp_path / "out"
    assert main(["s21", str(bad), "--out", str(out), "--quiet"]) == 4
    df = pd.read_csv(out / "traces.csv")
    assert df["status"].tolist() == ["failed"] and "dev_-30dB_10mK.csv" in df["reason"][0]
    assert posterior_path(out, next((out / "posteriors").glob("*.nc")).stem[:-3], 0).is_file()


@pytest.mark.parametrize("argv, words", [
    (["nowhere"], "nowhere"),
    (["EMPTY"], "holds no trace files"),
    (["EMPTY", "--pattern", "(unclosed"], "regular expression"),
])
def test_bad_input_exit_2_one_line(tmp_path, capsys, argv, words):
    (tmp_path / "empty").mkdir()
    argv = [str(tmp_path / "empty") if a == "EMPTY" else a for a in argv]
    assert main(["s21", *argv, "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and "\n" not in err and "Traceback" not in err
