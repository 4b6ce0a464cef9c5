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


def test_bad_traces_in_a_folder_each_get_a_status_and_a_reason(tmp_path, capsys):
    # one folder with every kind of bad trace: the run finishes, each gets a row (or is
    # skipped with a note), nothing raises
    folder = tmp_path / "bad"
    folder.mkdir()
    rng = np.random.default_rng(3)

    def write(name, z, f=F):
        body = np.column_stack([f, 20 * np.log10(np.abs(z)), np.degrees(np.angle(z))])
        np.savetxt(folder / name, body, delimiter=",")

    np.savetxt(folder / "onecol_-30dB_10mK.csv", F)
    write("flat_-30dB_10mK.csv", 0.08 * np.exp(0.3j) * (1 + 1e-3 * rng.normal(size=F.size)))
    theta = _truth(7e5, 2.2e5, 0.1, 0.0)
    z = simulate_trace(F, theta, 1e-4, rng)
    other = theta.copy()
    other[k.I_FR] = F0 + 2.5e5
    write("twodips_-30dB_10mK.csv", z * k.s21_batch(F, other[None, :], F0, k.NOTCH)[0] / 0.08)
    zn = z.copy()
    zn[::10] = np.nan  # 10 % of the rows
    write("nanrows_-30dB_10mK.csv", zn)
    (folder / "corrupt_-30dB.db").write_bytes(b"SQLite format 3\x00" + b"\x13" * 2000)
    write("notes_without_power.csv", z)  # in a folder: not a trace, skipped
    out = tmp_path / "out"
    assert main(["s21", str(folder), "--out", str(out), "--quiet", "--no-plots"]) == 4
    lines = capsys.readouterr().out.strip().splitlines()
    assert any("skipped 1 file without a power in its name" in ln and "notes_without_power.csv"
               in ln for ln in lines)
    df = pd.read_csv(out / "traces.csv").set_index(
        pd.read_csv(out / "traces.csv")["file"].str.split("/").str[-1])
    assert len(df) == 5
    want = {"onecol_-30dB_10mK.csv": ("failed", "1 column"),
            "flat_-30dB_10mK.csv": ("failed", "no resonance"),
            "twodips_-30dB_10mK.csv": ("flagged", "second dip"),
            "nanrows_-30dB_10mK.csv": ("flagged", "non-finite rows dropped"),
            "corrupt_-30dB.db": ("failed", "corrupt_-30dB.db")}
    for name, (status, words) in want.items():
        assert df.loc[name, "status"] == status and words in df.loc[name, "reason"], (
            name, df.loc[name, "status"], df.loc[name, "reason"])
        assert "\n" not in df.loc[name, "reason"]
    # a file named explicitly is a trace: without a power it is a failed row naming it
    assert main(["s21", str(folder / "notes_without_power.csv"), "--out",
                 str(tmp_path / "o2"), "--quiet", "--no-plots"]) == 4
    row = pd.read_csv(tmp_path / "o2" / "traces.csv").iloc[0]
    assert row["status"] == "failed" and "notes_without_power.csv" in row["reason"]
    assert "no readout power" in row["reason"]
