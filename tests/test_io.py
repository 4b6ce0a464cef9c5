"""tlsbayes.io: reading tables, unit conversion to SI, row selection and validation."""

import hashlib
import math
import os
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

from tlsbayes import io as tio
from tlsbayes.errors import DataError

REAL = Path(os.environ.get("TLSBAYES_REAL_DATA")
            or Path(__file__).resolve().parents[2] / "shared" / "data" / "real")
needs_real = pytest.mark.skipif(not REAL.is_dir(),
                                reason=f"shared real-data directory {REAL} not present "
                                       "(set TLSBAYES_REAL_DATA to point at it)")


def write(tmp_path, text, name="d.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def raises(match_parts, fn, *args, **kw):
    """Call fn, expect DataError whose message contains every part (plain substrings)."""
    with pytest.raises(DataError) as ei:
        fn(*args, **kw)
    msg = str(ei.value)
    assert "\n" not in msg
    for part in match_parts:
        assert part in msg, f"{part!r} not in {msg!r}"
    return msg


# --- unit conversions -------------------------------------------------------------------------

def test_temperature_mK_uK_to_K(tmp_path):
    p = write(tmp_path, "T,f\n10,5\n250,6\n")
    d = tio.load_xy(p, x={"column": "T", "unit": "mK"}, y={"column": "f", "unit": "GHz"})
    assert d.x == pytest.approx([0.010, 0.250], rel=1e-15)
    assert d.y == pytest.approx([5e9, 6e9], rel=1e-15)
    assert (d.x_kind, d.y_kind, d.x_unit, d.y_unit) == ("temperature", "frequency", "K", "Hz")
    d = tio.load_xy(p, x={"column": "T", "unit": "uK"}, y={"column": "f", "unit": "kHz"})
    assert d.x == pytest.approx([1e-5, 2.5e-4], rel=1e-15)
    assert d.y == pytest.approx([5e3, 6e3], rel=1e-15)
    with pytest.warns(tio.DataWarning):  # 250 K looks like mK; tested below
        d = tio.load_xy(p, x={"column": "T", "unit": "K"}, y={"column": "f", "unit": "MHz"})
    assert d.x == pytest.approx([10.0, 250.0]) and d.y == pytest.approx([5e6, 6e6])


def test_power_units_to_watts(tmp_path):
    p = write(tmp_path, "P,Qi\n-100,1e5\n-30,2e5\n0,3e5\n")
    d = tio.load_xy(p, x={"column": "P", "unit": "dBm"}, y={"column": "Qi", "kind": "Qi"})
    assert d.x == pytest.approx([1e-13, 1e-6, 1e-3], rel=1e-12)
    assert d.x_kind == "power" and d.x_unit == "W"
    d = tio.load_xy(p, x={"column": "P", "unit": "dBW"}, y={"column": "Qi", "kind": "Qi"})
    assert d.x == pytest.approx([1e-10, 1e-3, 1.0], rel=1e-12)
    q = write(tmp_path, "P,Qi\n2,1e5\n3,2e5\n", "lin.csv")
    d = tio.load_xy(q, x={"column": "P", "unit": "mW"}, y={"column": "Qi", "kind": "Qi"})
    assert d.x == pytest.approx([2e-3, 3e-3], rel=1e-15)


def test_qi_becomes_inverse_q_with_sigma_propagated(tmp_path):
    p = write(tmp_path, "E,Qi,dQi\n1.0,2e5,4e3\n2.0,5e5,1e4\n")
    d = tio.load_xy(p, x={"column": "E", "unit": "V/m"}, y={"column": "Qi", "kind": "Qi"},
                    sigma={"column": "dQi"})
    assert d.y == pytest.approx([1 / 2e5, 1 / 5e5], rel=1e-15)
    assert d.sigma == pytest.approx([4e3 / 2e5 ** 2, 1e4 / 5e5 ** 2], rel=1e-15)
    assert d.y_kind == "inverse_q" and d.x_kind == "field"
    assert any("1/Qi" in n for n in d.notes)
    # already 1/Qi: untouched
    d2 = tio.load_xy(p, x={"column": "E", "unit": "V/m"},
                     y={"column": "Qi", "kind": "inverse_q"}, sigma="dQi")
    assert d2.y == pytest.approx([2e5, 5e5]) and d2.sigma == pytest.approx([4e3, 1e4])


def test_damping_hz_2pi_to_per_second(tmp_path):
    p = write(tmp_path, "T_mK,gamma,dgamma\n20,10,1\n40,12,2\n")
    d = tio.load_xy(p, x={"column": "T_mK"}, y={"column": "gamma", "unit": "Hz_2pi"},
                    sigma={"column": "dgamma"})
    assert d.y == pytest.approx([2 * math.pi * 10, 2 * math.pi * 12], rel=1e-15)
    assert d.sigma == pytest.approx([2 * math.pi, 4 * math.pi], rel=1e-15)
    assert d.y_kind == "damping_rate" and d.y_unit == "1/s"
    d = tio.load_xy(p, x={"column": "T_mK"}, y={"column": "gamma", "unit": "1/s"})
    assert d.y == pytest.approx([10, 12])


def test_dimensionless_kinds(tmp_path):
    p = write(tmp_path, "n,shift\n1e2,-1e-6\n1e4,2e-6\n")
    d = tio.load_xy(p, x={"column": "n", "kind": "photon_number"},
                    y={"column": "shift", "kind": "fractional_shift"})
    assert d.x == pytest.approx([1e2, 1e4]) and d.y == pytest.approx([-1e-6, 2e-6])
    assert d.x_unit == "" and d.y_kind == "fractional_shift"


# --- units from column names ------------------------------------------------------------------

@pytest.mark.parametrize("name, unit", [
    ("temperature_K", "K"), ("T_mK", "mK"), ("power_vna_dBm", "dBm"), ("f_res_Hz", "Hz"),
    ("f_res_GHz", "GHz"), ("gamma_Hz_2pi", "Hz_2pi"), ("P_dBW", "dBW"), ("Qi", None),
    ("Qi_sigma", None), ("temperature", None), ("K", None), ("frac_shift_5.6GHz", None),
])
def test_unit_from_column(name, unit):
    assert tio.unit_from_column(name) == unit


def test_units_read_from_column_names(tmp_path):
    p = write(tmp_path, "temperature_mK,f_res_GHz,f_res_sigma_kHz\n20,5.000001,0.2\n"
                        "40,5.000002,0.3\n")
    d = tio.load_xy(p, x="temperature_mK", y="f_res_GHz", sigma="f_res_sigma_kHz")
    assert d.x == pytest.approx([0.02, 0.04], rel=1e-15)
    assert d.y == pytest.approx([5.000001e9, 5.000002e9], rel=1e-15)
    assert d.sigma == pytest.approx([200.0, 300.0], rel=1e-12)  # its own unit, kHz
    assert d.units == {"x": "mK", "y": "GHz", "sigma": "kHz"}
    # sigma without a unit in its name inherits y's unit
    q = write(tmp_path, "power_vna_dBm,f_res_MHz,df\n-50,5000,0.001\n-40,5000.1,0.002\n", "b.csv")
    d = tio.load_xy(q, x="power_vna_dBm", y="f_res_MHz", sigma="df")
    assert d.sigma == pytest.approx([1e3, 2e3]) and d.x == pytest.approx([1e-8, 1e-7])


def test_no_unit_anywhere_asks_for_one(tmp_path):
    p = write(tmp_path, "temperature,f_res_Hz,f_hz\n0.01,5e9,5e9\n0.02,5.1e9,5.1e9\n")
    raises([str(p), "'temperature'", "no unit", "explicit"], tio.load_xy, p,
           x="temperature", y="f_res_Hz")
    raises([str(p), "'f_hz'", "no unit", "case-sensitive", "did you mean 'Hz'"], tio.load_xy,
           p, x={"column": "temperature", "unit": "K"}, y="f_hz")


@pytest.mark.parametrize("x, y, parts", [
    ({"column": "T", "unit": "mk"}, "f_Hz", ["unknown unit 'mk'", "did you mean 'mK'"]),
    ({"column": "T", "unit": "K", "kind": "tempreature"}, "f_Hz", ["unknown kind"]),
    ({"column": "T", "unit": "GHz", "kind": "temperature"}, "f_Hz",
     ["'T'", "not a unit of temperature"]),
    ({"column": "T", "unit": "K"}, {"column": "f_Hz", "kind": "Qi"},
     ["'f_Hz'", "'Hz' is not a unit of Qi"]),
    ({"column": "T", "unit": "K"}, {"column": "f_Hz", "unit": ""},
     ["'f_Hz'", "give kind explicitly"]),
    ({"column": "T", "unit": "K", "colum": "x"}, "f_Hz", ["unknown key 'colum'"]),
])
def test_bad_specs(tmp_path, x, y, parts):
    p = write(tmp_path, "T,f_Hz\n0.01,5e9\n0.02,5.1e9\n")
    raises([str(p)] + parts, tio.load_xy, p, x=x, y=y)


# --- filter grammar ---------------------------------------------------------------------------

FILTER_CSV = """# header comment
name,T_K,f_Hz,ok,flag
a,0.010,5.00e9,1,0
b,0.020,5.01e9,0,0
a,0.030,5.02e9,1,1
b,0.040,5.03e9,1,0
a,0.050,5.04e9,1,0
"""


@pytest.mark.parametrize("flt, xs", [
    ("ok == 1", [0.01, 0.03, 0.04, 0.05]),
    ("ok != 0", [0.01, 0.03, 0.04, 0.05]),
    ("ok == 1 and flag == 0", [0.01, 0.04, 0.05]),
    ("flag == 0 and T_K < 0.045", [0.01, 0.02, 0.04]),
    ("T_K <= 0.02", [0.01, 0.02]),
    ("T_K >= 0.04 and T_K>0.01", [0.04, 0.05]),
    ("name == 'a'", [0.01, 0.03, 0.05]),
    ('name != "a"', [0.02, 0.04]),
    ('name == "a" and ok == 1 and flag != 1', [0.01, 0.05]),
    ("0.03 < T_K", [0.04, 0.05]),
    ("`f_Hz` > 5.015e9", [0.03, 0.04, 0.05]),
])
def test_filter(tmp_path, flt, xs):
    p = write(tmp_path, FILTER_CSV)
    d = tio.load_xy(p, x="T_K", y="f_Hz", filter=flt)
    assert d.x == pytest.approx(xs)
    assert d.n_rows_read == 5 and d.n_rows_used == len(xs)


@pytest.mark.parametrize("flt, parts", [
    ("__import__('os')", ["unexpected '('"]),
    ("__import__('os').system('true')", ["unexpected"]),
    ("ok == 1 or flag == 0", ["'or' is not supported"]),
    ("not ok == 1", ["'not' is not supported"]),
    ("(ok == 1)", ["unexpected '('"]),
    ("0 < T_K < 1", ["chain comparisons with 'and'"]),
    ("ok = 1", ["unexpected '='"]),
    ("ok == ", ["ends where operand was expected"]),
    ("1 == 1", ["two constants"]),
    ("ok.real == 1", ["unexpected '.'"]),
    ("ok == 1 and", ["ends where"]),
    ("", ["empty"]),
])
def test_filter_rejects_anything_else(tmp_path, flt, parts):
    p = write(tmp_path, FILTER_CSV)
    raises([str(p), "filter"] + parts, tio.load_xy, p, x="T_K", y="f_Hz", filter=flt)


def test_filter_is_never_evaluated(tmp_path):
    p = write(tmp_path, FILTER_CSV)
    marker = tmp_path / "pwned"
    evil = f"__import__('pathlib').Path('{marker}').touch() == None"
    with pytest.raises(DataError):
        tio.load_xy(p, x="T_K", y="f_Hz", filter=evil)
    with pytest.raises(DataError):
        tio.parse_filter(f"ok == 1 and open('{marker}', 'w')")
    assert not marker.exists()
    # the package uses neither eval/exec nor pandas.query
    for f in Path(tio.__file__).parent.glob("*.py"):
        assert not re.search(r"\b(eval|exec)\(|\.query\(", f.read_text()), f


def test_filter_unknown_column_and_type_errors(tmp_path):
    p = write(tmp_path, FILTER_CSV)
    raises([str(p), "no column 'fit_ok'", "filter"], tio.load_xy, p, x="T_K", y="f_Hz",
           filter="fit_ok == 1")
    raises([str(p), "no column 'flg'", "did you mean 'flag'"], tio.load_xy, p, x="T_K",
           y="f_Hz", filter="flg == 0")
    # a text column compared with a number: points at the first text cell (line 3)
    raises([str(p), "line 3", "'name'", "non-numeric value 'a'", "quote the value"],
           tio.load_xy, p, x="T_K", y="f_Hz", filter="name == 1")
    raises([str(p), "only be compared with == or !="], tio.load_xy, p, x="T_K", y="f_Hz",
           filter="name < 'b'")


def test_filter_empty_cells_compare_false(tmp_path):
    p = write(tmp_path, "T_K,f_Hz,ok\n0.01,5e9,1\n0.02,5.1e9,\n0.03,5.2e9,nan\n0.04,5.3e9,1\n")
    assert tio.load_xy(p, x="T_K", y="f_Hz", filter="ok == 1").x == pytest.approx([.01, .04])
    assert tio.load_xy(p, x="T_K", y="f_Hz", filter="ok != 0").x == pytest.approx([.01, .04])


# --- window, grouping, sorting ----------------------------------------------------------------

def test_window_in_declared_unit(tmp_path):
    p = write(tmp_path, "T_mK,f_Hz\n10,5e9\n20,5.1e9\n30,5.2e9\n40,5.3e9\n")
    d = tio.load_xy(p, x="T_mK", y="f_Hz", window={"min": 20, "max": 30})
    assert d.x == pytest.approx([0.020, 0.030])  # bounds inclusive, in mK
    assert tio.load_xy(p, x="T_mK", y="f_Hz", window={"min": 25}).x == pytest.approx([.03, .04])
    assert tio.load_xy(p, x="T_mK", y="f_Hz", window={"max": 20}).x == pytest.approx([.01, .02])
    q = write(tmp_path, "P_dBm,Qi\n-120,1e5\n-100,2e5\n-80,3e5\n-60,4e5\n", "p.csv")
    d = tio.load_xy(q, x="P_dBm", y={"column": "Qi", "kind": "Qi"},
                    window={"min": -110, "max": -70})
    assert d.x == pytest.approx([1e-13, 1e-11], rel=1e-12)
    raises([str(p), "window min (30) is above max (20)"], tio.load_xy, p, x="T_mK", y="f_Hz",
           window={"min": 30, "max": 20})
    raises([str(p), "unknown key 'mn'"], tio.load_xy, p, x="T_mK", y="f_Hz", window={"mn": 1})
    raises([str(p), "only 1 row(s) left after the window"], tio.load_xy, p, x="T_mK",
           y="f_Hz", window={"min": 35})


GROUP_CSV = """resonator,cooldown,T_K,f_Hz
R1,1,0.01,5.0e9
R2,1,0.01,6.0e9
R1,2,0.02,5.1e9
R2,2,0.02,6.1e9
R1,2,0.03,5.2e9
"""


def test_grouping(tmp_path):
    p = write(tmp_path, GROUP_CSV)
    assert tio.groups(p, "resonator") == {"R1": 3, "R2": 2}
    assert list(tio.groups(p, "cooldown").items()) == [("1", 2), ("2", 3)]
    d = tio.load_xy(p, x="T_K", y="f_Hz", group={"column": "resonator", "value": "R2"})
    assert d.y == pytest.approx([6.0e9, 6.1e9]) and d.n_rows_used == 2
    d = tio.load_xy(p, x="T_K", y="f_Hz", group={"column": "cooldown", "value": 2})
    assert d.y == pytest.approx([5.1e9, 6.1e9, 5.2e9]) and d.n_rows_used == 3
    raises([str(p), "'resonator'", "no row has the group value 'R3'", "'R1', 'R2'"],
           tio.load_xy, p, x="T_K", y="f_Hz", group={"column": "resonator", "value": "R3"})
    raises([str(p), "no row has the group value 'r1'", "did you mean 'R1'"],
           tio.load_xy, p, x="T_K", y="f_Hz", group={"column": "resonator", "value": "r1"})
    raises([str(p), "unknown key 'val'"], tio.load_xy, p, x="T_K", y="f_Hz",
           group={"column": "resonator", "val": "R1"})
    raises([str(p), "no column 'resontor'", "did you mean 'resonator'"], tio.groups, p,
           "resontor")


def test_group_then_duplicates_across_groups_are_fine(tmp_path):
    # same (x, y) in two different groups is not a duplicate once a group is selected
    p = write(tmp_path, "g,T_K,f_Hz\na,0.01,5e9\nb,0.01,5e9\na,0.02,5.1e9\nb,0.02,5.2e9\n")
    d = tio.load_xy(p, x="T_K", y="f_Hz", group={"column": "g", "value": "b"})
    assert d.y == pytest.approx([5e9, 5.2e9])
    raises([str(p), "line 3", "duplicate of line 2", "'T_K'/'f_Hz'"], tio.load_xy, p,
           x="T_K", y="f_Hz")


def test_unsorted_x_is_sorted_and_noted(tmp_path):
    p = write(tmp_path, "# c\nT_K,f_Hz,s_Hz\n0.03,5.3e9,3\n0.01,5.1e9,1\n0.02,5.2e9,2\n")
    d = tio.load_xy(p, x="T_K", y="f_Hz", sigma="s_Hz")
    assert d.x == pytest.approx([0.01, 0.02, 0.03])
    assert d.y == pytest.approx([5.1e9, 5.2e9, 5.3e9])
    assert d.sigma == pytest.approx([1, 2, 3])
    assert list(d.lines) == [4, 5, 3]
    assert any("sorted" in n for n in d.notes)
    sorted_ = write(tmp_path, "T_K,f_Hz\n0.01,5.1e9\n0.02,5.2e9\n", "s.csv")
    assert not any("sorted" in n for n in tio.load_xy(sorted_, x="T_K", y="f_Hz").notes)


def test_xydata_provenance_and_readonly(tmp_path):
    p = write(tmp_path, "T_K,f_Hz\n0.01,5.1e9\n0.02,5.2e9\n")
    d = tio.load_xy(p, x="T_K", y="f_Hz")
    assert d.sha256 == hashlib.sha256(p.read_bytes()).hexdigest()
    assert d.source == str(p) and d.columns == {"x": "T_K", "y": "f_Hz", "sigma": None}
    assert d.sigma is None
    with pytest.raises(ValueError):
        d.x[0] = 1.0
    with pytest.raises(AttributeError):
        d.x = np.zeros(2)


# --- reading tables ---------------------------------------------------------------------------

def test_hash_inside_a_cell_is_not_a_comment(tmp_path):
    # pandas' comment="#" would cut these rows at '#' and lose T_K and f_Hz
    p = write(tmp_path, "# real comment\ndesc,T_K,f_Hz\nfilm #1,0.01,5e9\n  # indented comment\n"
                        "film #2,0.02,5.1e9\n\nfilm #1,0.03,5.2e9\n")
    t = tio.read_table(p)
    assert t.cells["desc"] == ("film #1", "film #2", "film #1")
    assert list(t.lines) == [3, 5, 7] and t.header_line == 2
    d = tio.load_xy(p, x="T_K", y="f_Hz", group={"column": "desc", "value": "film #1"})
    assert d.x == pytest.approx([0.01, 0.03]) and list(d.lines) == [3, 7]


def test_quoted_fields_and_tsv(tmp_path):
    p = write(tmp_path, 'name,T_K,f_Hz\n"a, b",0.01,5e9\n"c",0.02,5.1e9\n')
    assert tio.read_table(p).cells["name"] == ("a, b", "c")
    q = write(tmp_path, "T_K\tf_Hz\n0.01\t5e9\n0.02\t5.1e9\n", "t.tsv")
    assert tio.load_xy(q, x="T_K", y="f_Hz").n == 2


@pytest.mark.parametrize("text, parts", [
    ("", ["is empty"]),
    ("   \n\n", ["is empty"]),
    ("# only\n# comments\n", ["no header line"]),
    ("# c\nT_K,f_Hz\n", ["no data rows", "line 2"]),
    ("T_K,f_Hz\n0.01,5e9\n0.02,5.1e9,7\n", ["line 3", "3 fields", "2 columns"]),
    ("T_K,T_K\n0.01,5e9\n", ["line 1", "duplicate column name 'T_K'"]),
    ("T_K,\n0.01,5e9\n", ["line 1", "column 2 of the header has no name"]),
    ('T_K,f_Hz\n"0.01,5e9\n', ["line 2", "unparseable"]),
])
def test_read_table_errors(tmp_path, text, parts):
    p = write(tmp_path, text)
    raises([str(p)] + parts, tio.read_table, p)


def test_missing_binary_and_directory(tmp_path):
    raises([str(tmp_path / "nope.csv"), "not found"], tio.read_table, tmp_path / "nope.csv")
    raises([str(tmp_path), "directory"], tio.read_table, tmp_path)
    h = tmp_path / "x.h5"
    h.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(100))
    raises([str(h), "HDF5", "CSV"], tio.read_table, h)
    b = tmp_path / "b.csv"
    b.write_bytes(b"T_K,f_Hz\n0.01,\xff\xfe\n")
    raises([str(b), "line 2", "UTF-8"], tio.read_table, b)


def test_to_pandas(tmp_path):
    p = write(tmp_path, "# c\nname,T_K\nfilm #1,0.01\nb,0.02\n")
    df = tio.read_table(p).to_pandas()
    assert list(df["name"]) == ["film #1", "b"] and df["T_K"].tolist() == [0.01, 0.02]
    assert list(df.index) == [3, 4]


# --- validation -------------------------------------------------------------------------------

HDR = "# one comment line\n# another\n"


@pytest.mark.parametrize("body, kw, parts", [
    # missing column, with a suggestion
    ("T_K,f_Hz\n0.01,5e9\n0.02,5.1e9\n", dict(x="T_K", y="f_hz"),
     ["no column 'f_hz' (y)", "did you mean 'f_Hz'"]),
    ("T_K,f_Hz\n0.01,5e9\n0.02,5.1e9\n", dict(x="T_K", y="f_Hz", sigma="sigma_Hz"),
     ["no column 'sigma_Hz' (sigma)"]),
    # non-numeric cell: line counts the comment lines
    ("T_K,f_Hz\n0.01,5e9\n0.02,5.1e9\n0.03,abc\n", dict(x="T_K", y="f_Hz"),
     ["line 6", "column 'f_Hz'", "non-numeric value 'abc'"]),
    ("T_K,f_Hz\n0.01,5e9\n0.02,5.1e9\n0.03,1_000\n", dict(x="T_K", y="f_Hz"),
     ["line 6", "non-numeric value '1_000'"]),
    # NaN / inf / empty
    ("T_K,f_Hz\n0.01,5e9\nnan,5.1e9\n0.03,5.2e9\n", dict(x="T_K", y="f_Hz"),
     ["line 5", "column 'T_K'", "NaN or inf"]),
    ("T_K,f_Hz\n0.01,5e9\n0.02,-inf\n0.03,5.2e9\n", dict(x="T_K", y="f_Hz"),
     ["line 5", "column 'f_Hz'", "NaN or inf"]),
    ("T_K,f_Hz\n0.01,5e9\n0.02,1e999\n0.03,5.2e9\n", dict(x="T_K", y="f_Hz"),
     ["line 5", "column 'f_Hz'", "NaN or inf"]),
    ("T_K,f_Hz\n0.01,5e9\n0.02,\n0.03,5.2e9\n", dict(x="T_K", y="f_Hz"),
     ["line 5", "column 'f_Hz'", "empty cell"]),
    # non-positive temperature
    ("T_K,f_Hz\n0.01,5e9\n0.0,5.1e9\n", dict(x="T_K", y="f_Hz"),
     ["line 5", "column 'T_K'", "non-positive temperature"]),
    ("T_mK,f_Hz\n10,5e9\n-5,5.1e9\n", dict(x="T_mK", y="f_Hz"),
     ["line 5", "column 'T_mK'", "non-positive temperature"]),
    # sigma <= 0
    ("T_K,f_Hz,s\n0.01,5e9,1\n0.02,5.1e9,0\n", dict(x="T_K", y="f_Hz", sigma="s"),
     ["line 5", "column 's'", "sigma must be > 0"]),
    ("T_K,f_Hz,s\n0.01,5e9,-1\n0.02,5.1e9,1\n", dict(x="T_K", y="f_Hz", sigma="s"),
     ["line 4", "column 's'", "sigma must be > 0"]),
    # fewer than two points
    ("T_K,f_Hz\n0.01,5e9\n", dict(x="T_K", y="f_Hz"), ["only 1 row(s) left", "at least 2"]),
    ("T_K,f_Hz,ok\n0.01,5e9,1\n0.02,5.1e9,0\n", dict(x="T_K", y="f_Hz", filter="ok == 1"),
     ["only 1 row(s) left after group/filter"]),
    # duplicate rows
    ("T_K,f_Hz\n0.01,5e9\n0.02,5.1e9\n0.01,5e9\n", dict(x="T_K", y="f_Hz"),
     ["line 6", "duplicate of line 4", "'T_K'/'f_Hz'"]),
    # Qi <= 0
    ("P_dBm,Qi\n-90,1e5\n-80,-2e5\n", dict(x="P_dBm", y={"column": "Qi", "kind": "Qi"}),
     ["line 5", "column 'Qi'", "non-positive Qi"]),
    ("P_dBm,Qi\n-90,0\n-80,2e5\n", dict(x="P_dBm", y={"column": "Qi", "kind": "Qi"}),
     ["line 4", "non-positive Qi"]),
    # same column twice
    ("T_K,f_Hz\n0.01,5e9\n0.02,5.1e9\n", dict(x="T_K", y={"column": "T_K", "kind": "frequency",
                                                          "unit": "Hz"}),
     ["same column"]),
])
def test_validation_errors(tmp_path, body, kw, parts):
    p = write(tmp_path, HDR + body)
    raises([str(p)] + parts, tio.load_xy, p, **kw)


def test_validation_only_looks_at_selected_rows(tmp_path):
    # the bad row is excluded by the filter (y) and by the window (x has to be numeric)
    p = write(tmp_path, "T_K,f_Hz,ok\n0.01,5e9,1\n0.02,abc,0\n0.03,5.2e9,1\n0.5,5.3e9,1\n")
    d = tio.load_xy(p, x="T_K", y="f_Hz", filter="ok == 1", window={"max": 0.1})
    assert d.x == pytest.approx([0.01, 0.03]) and d.n_rows_used == 2 and d.n_rows_read == 4


def test_mK_in_a_K_column_warns(tmp_path):
    p = write(tmp_path, HDR + "temperature_K,f_Hz\n10,5e9\n250,5.1e9\n")
    with pytest.warns(tio.DataWarning, match=r"line 5.*250 K.*mK"):
        d = tio.load_xy(p, x="temperature_K", y="f_Hz")
    assert any("warning" in n and "mK" in n for n in d.notes)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tio.load_xy(p, x={"column": "temperature_K", "unit": "mK"}, y="f_Hz")
        ok = write(tmp_path, "temperature_K,f_Hz\n0.01,5e9\n19.9,5.1e9\n", "ok.csv")
        tio.load_xy(ok, x="temperature_K", y="f_Hz")


def test_real_data_dir_env_override(tmp_path, monkeypatch):
    monkeypatch.setenv("TLSBAYES_REAL_DATA", str(tmp_path))
    assert tio.real_data_dir() == tmp_path
    monkeypatch.delenv("TLSBAYES_REAL_DATA")
    assert tio.real_data_dir().parts[-3:] == ("shared", "data", "real")


# --- real measured data (skipped when the shared directory is absent) --------------------------

@needs_real
def test_real_bcqt_gaas_both_resonators():
    path = REAL / "bcqt_gaas_resA_resB_Qi_vs_power.csv"
    counts = tio.groups(path, "resonator")
    assert set(counts) == {"ResonatorA", "ResonatorB"}
    used = {}
    for res in counts:
        d = tio.load_xy(path, x={"column": "power_vna_dBm"}, y={"column": "Qi", "kind": "Qi"},
                        sigma={"column": "Qi_sigma"}, filter="fit_ok == 1",
                        group={"column": "resonator", "value": res})
        assert d.n >= 5 and d.n_rows_read == sum(counts.values())
        assert np.all(np.diff(d.x) >= 0) and np.all(d.x > 0) and np.all(d.x < 1e-2)
        assert np.all((d.y > 1e-8) & (d.y < 1e-3)) and np.all(d.sigma > 0)
        assert d.y_kind == "inverse_q" and d.x_unit == "W"
        used[res] = d.n
    assert sum(used.values()) < sum(counts.values())  # fit_ok == 0 rows dropped
    # ResonatorA has rows with fit_ok == 0; B has none
    assert used["ResonatorA"] < counts["ResonatorA"] and used["ResonatorB"] == counts["ResonatorB"]


@needs_real
def test_real_ta_groups_and_hash_in_cells():
    path = REAL / "ta_grainsize_Qi_vs_power_LGS1_SGS1.csv"
    t = tio.read_table(path)
    # a '#' inside a cell must not truncate the row (pandas comment='#' would)
    assert any("#" in s for s in t.cells["film_description"])
    assert all(c for c in t.cells["Qi"])
    g = tio.groups(t, "resonator")
    assert len(g) >= 2 and sum(g.values()) == t.n_rows
    assert any(k.startswith("LGS1") for k in g) and any(k.startswith("SGS1") for k in g)
    for res in g:
        d = tio.load_xy(t, x="power_vna_dBm", y={"column": "Qi", "kind": "Qi"},
                        sigma="Qi_sigma", filter="flag_bad_fit == 0",
                        group={"column": "resonator", "value": res})
        assert d.n >= 2 and np.all(np.isfinite(d.y)) and np.all(d.x[1:] >= d.x[:-1])
