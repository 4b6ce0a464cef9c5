"""Trace readers on files the tests write: every format, and bad files (one-line errors)."""

import numpy as np
import pytest

from tlsbayes.errors import DataError
from tlsbayes.s21 import readers
from tlsbayes.s21.simulate import simulate_trace, theta_from_q

F = np.linspace(5.7e9 - 2e5, 5.7e9 + 2e5, 201)
TRUTH = theta_from_q(5.7e9, 5e5, 2e5, 0.2, 0.1, 0.0, 1.0, 3e-8)
Z = simulate_trace(F, TRUTH, 1e-4, np.random.default_rng(0))


def _write_db_deg(path, f=F, z=Z):
    np.savetxt(path, np.column_stack([f, 20 * np.log10(np.abs(z)), np.rad2deg(np.angle(z))]),
               delimiter=",")


def _same(trace, f=F, z=Z):
    np.testing.assert_allclose(trace.f, f, rtol=1e-12)
    np.testing.assert_allclose(trace.z, z, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name,power,temp", [
    ("HKU_3A_5p704GHz_-35dB_9mK.csv", -35.0, 0.009),
    ("E06_02_7p41255GHz_MPsweep_-30p0dB_12mK.csv", -30.0, 0.012),
    ("NYU2D_AL_INP_220131_7.7182GHz_-20.0dB_75.0mK.csv", -20.0, 0.075),
    ("chip_-7p5dBm_1p2K.txt", -7.5, 1.2),
])
def test_power_and_temperature_from_default_names(name, power, temp):
    assert readers.parse_name(name) == pytest.approx((power, temp))


def test_declared_name_pattern(tmp_path):
    p = tmp_path / "run7_P=-42.5_T=20.csv"
    _write_db_deg(p)
    pat = r"P=(?P<power_dBm>[-\d.]+)_T=(?P<temperature_mK>[\d.]+)"
    (t,) = readers.read_trace(p, pattern=pat)
    assert (t.power_dBm, t.temperature_K) == pytest.approx((-42.5, 0.020))
    with pytest.raises(DataError, match="power_dBm"):
        readers.read_trace(p, pattern=r"T=(?P<temperature_mK>\d+)")


def test_text_formats(tmp_path):
    _write_db_deg(tmp_path / "a_-35dB_9mK.csv")
    np.savetxt(tmp_path / "b_-30p0dB_12mK.csv", np.column_stack([F, Z.real, Z.imag]),
               delimiter=",", header="frequency_Hz,re,im", comments="")
    np.savetxt(tmp_path / "c_-20dB_10mK.txt", np.column_stack([F, Z.real, Z.imag]),
               header="freq I Q", comments="# ")  # a commented header: numbers decide
    np.savetxt(tmp_path / "d_-20dB_10mK.dat", np.column_stack([F, Z.real, Z.imag]),
               delimiter="\t", header="f\tI\tQ", comments="")
    np.savetxt(tmp_path / "e_-10dB_10mK.csv", np.column_stack(
        [F, 20 * np.log10(np.abs(Z)), np.angle(Z)]), delimiter=";",
        header="f;S21_dB;phase_rad", comments="")
    (tmp_path / "conditions.csv").write_text("power,temperature\n-35,9\n")
    files, skipped = readers.find_trace_files([tmp_path])
    assert [p.name for p in skipped] == ["conditions.csv"]
    assert len(files) == 5
    for p in files:
        (t,) = readers.read_trace(p)
        _same(t)
    (t,) = readers.read_trace(tmp_path / "b_-30p0dB_12mK.csv")
    assert t.meta["columns"] == "reim" and t.power_dBm == -30.0


def test_touchstone(tmp_path):
    skrf = pytest.importorskip("skrf")
    s = np.zeros((F.size, 2, 2), dtype=complex)
    s[:, 1, 0] = s[:, 0, 1] = Z
    skrf.Network(frequency=skrf.Frequency.from_f(F, unit="Hz"), s=s).write_touchstone(
        str(tmp_path / "t_-40dB_15mK.s2p"))
    one = skrf.Network(frequency=skrf.Frequency.from_f(F, unit="Hz"), s=Z[:, None, None])
    one.write_touchstone(str(tmp_path / "r_-40dB_15mK.s1p"))
    (t2,) = readers.read_trace(tmp_path / "t_-40dB_15mK.s2p")
    (t1,) = readers.read_trace(tmp_path / "r_-40dB_15mK.s1p")
    _same(t2)
    _same(t1)
    assert (t2.geometry, t1.geometry, t2.power_dBm) == ("notch", "reflection", -40.0)


def test_netcdf_and_hdf5(tmp_path):
    xr = pytest.importorskip("xarray")
    ds = xr.Dataset({"real": ("frequency", Z.real), "imag": ("frequency", Z.imag)},
                    coords={"frequency": F}, attrs={"temperature_K": 0.011})
    ds.to_netcdf(tmp_path / "one_-25dB.nc")
    (t,) = readers.read_trace(tmp_path / "one_-25dB.nc")
    _same(t)
    assert (t.power_dBm, t.temperature_K) == pytest.approx((-25.0, 0.011))
    powers = np.array([-60.0, -40.0])
    sweep = xr.Dataset(
        {"S21_dB": (("power", "freq"), np.tile(20 * np.log10(np.abs(Z)), (2, 1))),
         "S21_phase_deg": (("power", "freq"), np.tile(np.rad2deg(np.angle(Z)), (2, 1)))},
        coords={"freq": F, "power": powers})
    pytest.importorskip("h5netcdf")
    sweep.to_netcdf(tmp_path / "sweep_9mK.h5", engine="h5netcdf")
    traces = readers.read_trace(tmp_path / "sweep_9mK.h5")
    assert [t.power_dBm for t in traces] == [-60.0, -40.0]
    for t in traces:
        _same(t)
        assert t.temperature_K == pytest.approx(0.009)


def test_qcodes_database(tmp_path):
    qc = pytest.importorskip("qcodes")
    from qcodes.dataset import (Measurement, initialise_or_create_database_at,
                                load_or_create_experiment)
    from qcodes.parameters import Parameter

    db = tmp_path / "cooldown.db"
    initialise_or_create_database_at(db)
    exp = load_or_create_experiment("resonators", sample_name="Ta_H3A3")
    freq = Parameter("frequency", unit="Hz", set_cmd=None, get_cmd=None)
    s21 = Parameter("S21", get_cmd=None, set_cmd=None, vals=qc.validators.ComplexNumbers())
    for power in (-50.0, -30.0):
        meas = Measurement(exp=exp, name=f"res1_{power:g}dB_10mK")
        meas.register_parameter(freq)
        meas.register_parameter(s21, setpoints=(freq,), paramtype="complex")
        with meas.run() as saver:
            saver.add_result((freq, F), (s21, Z))
            saver.dataset.add_metadata("power_dBm", power)
    traces = readers.read_trace(db)
    assert [t.power_dBm for t in traces] == [-50.0, -30.0]
    for t in traces:
        _same(t)
        assert t.temperature_K == pytest.approx(0.010)
        assert "::run" in t.file


# ---- bad input: one line naming the file, never a traceback from deep inside -------------
def _one_line(exc, path):
    msg = str(exc.value)
    assert "\n" not in msg and path.name in msg
    return msg


def test_one_column_file(tmp_path):
    p = tmp_path / "x_-35dB_9mK.csv"
    np.savetxt(p, F)
    with pytest.raises(DataError) as exc:
        readers.read_trace(p)
    assert "1 column" in _one_line(exc, p)


def test_nan_rows_are_dropped_and_counted(tmp_path):
    p = tmp_path / "x_-35dB_9mK.csv"
    z = Z.copy()
    z[[3, 50, 51]] = np.nan
    _write_db_deg(p, F, z)
    (t,) = readers.read_trace(p)
    assert t.n_dropped == 3 and t.f.size == F.size - 3
    _write_db_deg(p, F, np.full(F.size, np.nan))
    with pytest.raises(DataError) as exc:
        readers.read_trace(p)
    assert "finite points" in _one_line(exc, p)


def test_name_without_power(tmp_path):
    p = tmp_path / "resonator_trace.csv"
    _write_db_deg(p)
    with pytest.raises(DataError) as exc:
        readers.read_trace(p)
    assert "no readout power" in _one_line(exc, p)


def test_empty_folder_and_missing_path(tmp_path):
    with pytest.raises(DataError, match="holds no trace files"):
        readers.find_trace_files([tmp_path])
    with pytest.raises(DataError, match="no such file"):
        readers.find_trace_files([tmp_path / "nope"])


def test_corrupt_files(tmp_path):
    db = tmp_path / "broken.db"
    db.write_bytes(b"SQLite format 3\x00" + b"\x13" * 2000)
    with pytest.raises(DataError) as exc:
        readers.read_trace(db)
    _one_line(exc, db)
    txt = tmp_path / "notsqlite.db"
    txt.write_text("hello")
    with pytest.raises(DataError) as exc:
        readers.read_trace(txt)
    assert "not an SQLite" in _one_line(exc, txt)
    nc = tmp_path / "bad_-3dB.nc"
    nc.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
    with pytest.raises(DataError) as exc:
        readers.read_trace(nc)
    _one_line(exc, nc)
    s2p = tmp_path / "bad_-3dB.s2p"
    s2p.write_text("# GHz S MA R 50\n1 2 3\n")
    pytest.importorskip("skrf")
    with pytest.raises(DataError) as exc:
        readers.read_trace(s2p)
    _one_line(exc, s2p)
    bad = tmp_path / "bad_-3dB_9mK.csv"
    bad.write_text("1,2,3\n4,x,6\n")
    with pytest.raises(DataError, match="line 2"):
        readers.read_trace(bad)
