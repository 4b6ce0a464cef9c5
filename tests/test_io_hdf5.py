"""HDF5 and NetCDF tables (column-per-dataset layout) read exactly like the same CSV."""

import numpy as np
import pytest

from tlsbayes import card as tcard
from tlsbayes import io as tio
from tlsbayes.errors import DataError

h5py = pytest.importorskip("h5py")

# A small Qi(P) table as users have it: units in the names, a text group column, a flag.
POWER = np.array([-90.0, -80.0, -70.0, -60.0, -50.0, -90.0, -80.0, -70.0])
QI = np.array([1.1e5, 1.5e5, 2.2e5, 3.1e5, 3.9e5, 0.9e5, 1.2e5, 1.7e5])
QI_SIGMA = 0.02 * QI
FIT_OK = np.array([1, 1, 0, 1, 1, 1, 1, 1])
RES = ["R1"] * 5 + ["R2"] * 3
T_MK = np.array([12.0, 12.0, 12.0, 12.5, 12.0, 11.0, 11.0, 11.5])

SPEC = dict(x="power_vna_dBm", y={"column": "Qi", "kind": "Qi"}, sigma="Qi_sigma",
            filter="fit_ok == 1", group={"column": "resonator", "value": "R1"})


def _csv(tmp_path):
    p = tmp_path / "t.csv"
    lines = ["resonator,T_mK,power_vna_dBm,Qi,Qi_sigma,fit_ok"]
    lines += [f"{r},{float(t)!r},{float(pw)!r},{float(q)!r},{float(s)!r},{k}"
              for r, t, pw, q, s, k in zip(RES, T_MK, POWER, QI, QI_SIGMA, FIT_OK)]
    p.write_text("\n".join(lines) + "\n")
    return p


def _same(a, b):
    for k in ("x", "y", "sigma"):
        np.testing.assert_array_equal(getattr(a, k), getattr(b, k))
    assert a.n_rows_used == b.n_rows_used and a.units == b.units


def test_hdf5_column_per_dataset_reads_like_csv(tmp_path):
    p = tmp_path / "t.h5"
    with h5py.File(p, "w") as f:
        f["resonator"] = np.array(RES, dtype=h5py.string_dtype())   # variable-length text
        f["T_mK"] = T_MK
        f["power_vna_dBm"] = POWER
        f["Qi"] = QI
        f["Qi_sigma"] = QI_SIGMA
        f["fit_ok"] = FIT_OK.astype(np.int32)
        f["matrix"] = np.zeros((3, 3))  # not a column: ignored
    t = tio.read_table(p)
    assert set(t.columns) == {"resonator", "T_mK", "power_vna_dBm", "Qi", "Qi_sigma", "fit_ok"}
    assert t.n_rows == 8 and t.cells["resonator"][5] == "R2" and t.cells["fit_ok"][2] == "0"
    h = tio.load_xy(p, **SPEC)
    c = tio.load_xy(_csv(tmp_path), **SPEC)
    _same(h, c)
    assert h.n == 4 and h.x[0] == pytest.approx(1e-12, rel=1e-14)  # -90 dBm in W
    assert h.sha256 != c.sha256 and len(h.sha256) == 64
    # temperature column, mK from its name
    d = tio.load_xy(p, x="T_mK", y={"column": "Qi", "kind": "Qi"},
                    group={"column": "resonator", "value": "R2"})
    assert d.x == pytest.approx([0.011, 0.011, 0.0115], rel=1e-15) and d.x_unit == "K"


def test_hdf5_fixed_length_text_subgroup_and_structured_array(tmp_path):
    p = tmp_path / "g.h5"
    with h5py.File(p, "w") as f:
        g = f.create_group("sweep")
        g["resonator"] = np.array([r.encode() for r in RES], dtype="S8")  # fixed-length bytes
        g["power_vna_dBm"] = POWER
        g["Qi"] = QI
        g["Qi_sigma"] = QI_SIGMA
        g["fit_ok"] = FIT_OK
    _same(tio.load_xy(p, **SPEC), tio.load_xy(_csv(tmp_path), **SPEC))
    q = tmp_path / "s.h5"
    rec = np.zeros(8, dtype=[("resonator", "S4"), ("power_vna_dBm", "f8"), ("Qi", "f8"),
                             ("Qi_sigma", "f8"), ("fit_ok", "i4")])
    rec["resonator"] = [r.encode() for r in RES]
    rec["power_vna_dBm"], rec["Qi"], rec["Qi_sigma"], rec["fit_ok"] = POWER, QI, QI_SIGMA, FIT_OK
    with h5py.File(q, "w") as f:
        f["table"] = rec
    _same(tio.load_xy(q, **SPEC), tio.load_xy(_csv(tmp_path), **SPEC))


def _xr_dataset(with_missing=False):
    xr = pytest.importorskip("xarray")
    qi = QI.copy()
    if with_missing:
        qi[3] = np.nan
    return xr.Dataset({"resonator": ("row", np.array(RES)), "power_vna_dBm": ("row", POWER),
                       "Qi": ("row", qi), "Qi_sigma": ("row", QI_SIGMA),
                       "fit_ok": ("row", FIT_OK.astype(np.int32))})


@pytest.mark.parametrize("engine,fmt", [("h5netcdf", "NETCDF4"), ("scipy", "NETCDF3_64BIT")])
def test_netcdf_written_by_xarray_reads_like_csv(tmp_path, engine, fmt):
    pytest.importorskip(engine if engine != "scipy" else "scipy.io")
    p = tmp_path / "t.nc"
    _xr_dataset().to_netcdf(p, engine=engine, format=fmt)
    t = tio.read_table(p)
    assert "row" not in t.columns  # the NetCDF-4 dimension without a variable is skipped
    _same(tio.load_xy(p, **SPEC), tio.load_xy(_csv(tmp_path), **SPEC))


@pytest.mark.parametrize("engine,fmt", [("h5netcdf", "NETCDF4"), ("scipy", "NETCDF3_64BIT")])
def test_netcdf_fill_values_are_missing_cells_and_scaling_is_applied(tmp_path, engine, fmt):
    p = tmp_path / "m.nc"
    ds = _xr_dataset(with_missing=True)
    enc = {"Qi": {"_FillValue": -1.0},
           "power_vna_dBm": {"dtype": "int16", "scale_factor": 0.5, "add_offset": -100.0,
                             "_FillValue": -32768}}
    ds.to_netcdf(p, engine=engine, format=fmt, encoding=enc)
    t = tio.read_table(p)
    assert t.cells["Qi"][3] == ""                     # NaN written as the fill value
    np.testing.assert_allclose(t.numeric("power_vna_dBm"), POWER)  # unpacked
    with pytest.raises(DataError, match=r"line 4, column 'Qi': empty cell"):
        tio.load_xy(p, x="power_vna_dBm", y={"column": "Qi", "kind": "Qi"})
    d = tio.load_xy(p, x="power_vna_dBm", y={"column": "Qi", "kind": "Qi"},
                    filter="fit_ok == 1 and Qi > 0", group={"column": "resonator", "value": "R1"})
    assert d.n == 3  # rows 1, 2, 5 of R1: the flagged row and the missing Qi are excluded


def test_a_card_reads_an_hdf5_table(tmp_path):
    p = tmp_path / "t.h5"
    with h5py.File(p, "w") as f:
        f["resonator"] = np.array(RES, dtype=h5py.string_dtype())
        for k, v in (("power_vna_dBm", POWER), ("Qi", QI), ("Qi_sigma", QI_SIGMA),
                     ("fit_ok", FIT_OK)):
            f[k] = v
    card_text = f"""
[card]
name = "h5card"
[[dataset]]
model = "q_power"
likelihood = "gaussian_noise_scale"
[dataset.constants]
T = 0.012
f = 7e9
saturation = "power"
[dataset.data]
file = "{{file}}"
x = {{ column = "power_vna_dBm" }}
y = {{ column = "Qi", kind = "Qi" }}
sigma = {{ column = "Qi_sigma" }}
filter = "fit_ok == 1"
group = {{ column = "resonator", value = "R1" }}
"""
    posts = []
    for f in (p, _csv(tmp_path)):
        card = tcard.parse_card(card_text.replace("{file}", f.name), tmp_path / "c.toml")
        post, data = tcard.build_posterior(card)
        posts.append(post)
    a, b = (q.datasets[0] for q in posts)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.y, b.y)
    np.testing.assert_array_equal(a.sigma, b.sigma)


def test_hdf5_tables_that_are_not_tables(tmp_path):
    p = tmp_path / "ragged.h5"
    with h5py.File(p, "w") as f:
        f["x_K"] = np.arange(3.0)
        f["y"] = np.arange(4.0)
    with pytest.raises(DataError, match=r"ragged\.h5: .*different lengths \(x_K: 3, y: 4\)"):
        tio.read_table(p)
    q = tmp_path / "none.h5"
    with h5py.File(q, "w") as f:
        f["image"] = np.zeros((4, 4))
    with pytest.raises(DataError, match=r"none\.h5: .*no 1-D datasets"):
        tio.read_table(q)
    bad = tmp_path / "broken.h5"
    bad.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(100))
    with pytest.raises(DataError, match=r"broken\.h5: looks like an HDF5 file"):
        tio.read_table(bad)
    nc = tmp_path / "broken.nc"
    nc.write_bytes(b"CDF\x01" + bytes(10))
    with pytest.raises(DataError, match=r"broken\.nc: looks like a NetCDF file"):
        tio.read_table(nc)
