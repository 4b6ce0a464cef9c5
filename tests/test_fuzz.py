"""Property-based fuzz of the command line (issue 15): any card text or data table ends in
exit 0 or exit 2 with one line; never exit 1 (a traceback), never a crash, within a time bound.

Cards are the valid card of ``tests/_batch_data.py`` with 1-3 random mutations (a value
replaced by a hostile one, a line deleted, a fragment inserted); tables are random rows of
hostile cells (extreme numbers, text, quotes, missing or extra fields, stray bytes).  Both go
through ``tlsbayes check`` in-process (everything ``fit`` does before sampling), and a few
tables through a real ``fit`` of 2 steps.  Derandomized: the same examples on every run.
"""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import _batch_data as BD
from tlsbayes.cli import main

#: Wall seconds one command may take: a hang or a quadratic parser takes minutes; a command
#: takes well under a second once imported (the first also imports: seconds on a loaded machine).
TIME_BOUND_S = 60.0

CARD_LINES = BD.CARD.format(data="groups.csv", chunk=200, seed=3,
                            progress="false").splitlines()

_TOML_VALUES = st.one_of(
    st.integers(min_value=-2**70, max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(
        lambda v: {"nan": "nan", "inf": "inf", "-inf": "-inf"}.get(repr(v), repr(v))),
    st.text(max_size=30).map(json.dumps),
    st.sampled_from([
        '""', '"x"', "[]", "{}", "[[[]]]", "true", "false", "1e400", "-0.0", "0",
        '"../../../../etc/passwd"', '"/dev/null"', '"/dev/stdin"', '"groups.csv"', '"."',
        '{ column = "resonator" }', '{ column = "f_res_Hz", unit = "mK" }',
        '{ column = "temperature_K", kind = "Qi" }', '{ dist = "normal", mu = 0, sigma = -1 }',
        '{ dist = "loguniform", low = 1, high = 0 }', '{ dist = "fixed", value = 5e9 }',
        '{ dist = "uniform", low = -1e308, high = 1e308 }', '{ dist = "nope" }',
        '"student_t"', '"gaussian_noise_scale"', '"f_res_Hz > 1e9 and"', '"(((((("',
        '"quasiparticle"', '"frequency_shift"', '"nems"', '{ min = 0.1, max = 0.05 }',
        "18446744073709551616", "100000000000", "-1", "1.5",
    ]),
)

_FRAGMENTS = st.one_of(
    st.text(max_size=40),
    st.sampled_from([
        "[sampler]", "[priors]", "[[dataset]]", "[dataset.data]", "[card]", "[simulation]",
        '[dataset.constants]\nf = 5e9', 'filter = "f_res_Hz > 0"', 'window = { min = 0.1 }',
        'group = { column = "resonator", value = "R0" }', "nwalkers = 3", "moves = \"de\"",
        'f0 = { dist = "normal", mu = 5e9, sigma = 1e3 }', "walkrs = 4",
        'likelihood = "student_t"', "x = [" * 50, '[simulation.datasets.f]\nx = { n = 1e10 }',
    ]),
)


def _apply(lines: list, op) -> list:
    kind, at, value = op
    lines = list(lines)
    if not lines:
        return [value] if kind == "insert" else lines
    i = at % len(lines)
    if kind == "replace":
        key, sep, _ = lines[i].partition(" = ")
        lines[i] = f"{key} = {value}" if sep else lines[i]
    elif kind == "delete":
        del lines[i]
    else:
        lines.insert(i, value)
    return lines


_CARD_OPS = st.one_of(
    st.tuples(st.just("replace"), st.integers(0, 100), _TOML_VALUES),
    st.tuples(st.just("delete"), st.integers(0, 100), st.just("")),
    st.tuples(st.just("insert"), st.integers(0, 100), _FRAGMENTS),
)

_HOSTILE_CELLS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-10**30, max_value=10**30).map(str),
    st.sampled_from(["", " ", "nan", "inf", "-inf", "1e-320", "1e305", "1e400", "0", "-1",
                     "R0", "R1", '"', '""', '"a,b"', "5e9", "0.1", "300", "1,5", "#", "\t"]),
    st.text(max_size=8),
)


def _mostly(plausible, hostile=_HOSTILE_CELLS, odds=5):
    """``plausible``, or ``hostile`` once in ``odds``: most tables get past the parser to the
    checks of values, and some are valid."""
    return st.integers(1, odds).flatmap(lambda k: hostile if k == 1 else plausible)


_ROWS = st.tuples(
    _mostly(st.sampled_from(["R0", "R1"]), odds=40),
    _mostly(st.floats(0.0, 1.0).map(repr), odds=40),
    _mostly(st.floats(4.0e9, 6.0e9).map(repr), odds=40),
    _mostly(st.floats(0.0, 1e5).map(repr), odds=40),
).map(list)

_HEADERS = _mostly(st.just("resonator,temperature_K,f_res_Hz,f_res_sigma_Hz"), st.sampled_from([
    "resonator,temperature_K,f_res_Hz",
    "resonator,temperature_K,f_res_Hz,f_res_sigma_Hz,f_res_Hz",
    "resonator,temperature_mK,f_res_Hz,f_res_sigma_Hz",
    "", "# only a comment", "resonator,temperature_K,f_res_Hz,f_res_sigma_Hz,extra",
]))

_PREFIXES = _mostly(st.just(b""), st.sampled_from([b"\xef\xbb\xbf", b"\x89HDF\r\n\x1a\n",
                                                   b"\xff\xfe", b"PK\x03\x04", b"CDF\x01"]))


def _run(argv) -> tuple[int, str, float]:
    """``main(argv)`` in-process: (exit code, stderr, wall seconds)."""
    out, err = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, err.getvalue(), time.perf_counter() - start


def _assert_clean(code: int, err: str, seconds: float, allowed=(0, 2)) -> None:
    assert code in allowed, err
    assert "Traceback" not in err, err
    if code == 2:
        lines = [ln for ln in err.splitlines() if ln.startswith("tlsbayes") and "error" in ln]
        assert len(lines) == 1, err
    assert seconds < TIME_BOUND_S, (seconds, err)


_GROUPS_CSV = []  # the valid table, simulated once


@pytest.fixture(scope="module", autouse=True)
def _warm():
    """Simulate the valid table and import everything ``check`` needs, once."""
    with tempfile.TemporaryDirectory() as d:
        _GROUPS_CSV.append(BD.write_csv(Path(d) / "groups.csv", groups=("R0",),
                                        bad=False).read_bytes())
        code, err, _ = _run(["check", BD.write_card(Path(d) / "card.toml")])
        assert code == 0, err


_FUZZ = settings(max_examples=100, deadline=None, derandomize=True, database=None,
                 suppress_health_check=[HealthCheck.too_slow])


@_FUZZ
@given(ops=st.lists(_CARD_OPS, min_size=1, max_size=3))
def test_any_card_text_ends_in_exit_0_or_2(ops):
    lines = CARD_LINES
    for op in ops:
        lines = _apply(lines, op)
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "groups.csv").write_bytes(_GROUPS_CSV[0])
        card = Path(d) / "card.toml"
        card.write_text("\n".join(lines) + "\n", encoding="utf-8", errors="surrogatepass")
        _assert_clean(*_run(["check", card]))


def _table(header: str, rows: list, prefix: bytes) -> bytes:
    text = "\n".join([header, *(",".join(r) for r in rows)]) + "\n"
    return prefix + text.encode("utf-8", errors="surrogatepass")


_TABLES = st.builds(_table, _HEADERS, st.lists(_ROWS, max_size=12), _PREFIXES)


@_FUZZ
@given(table=_TABLES)
def test_any_data_table_ends_in_exit_0_or_2(table):
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "groups.csv").write_bytes(table)
        card = BD.write_card(Path(d) / "card.toml")
        _assert_clean(*_run(["check", card]))


_VALID_ROWS = st.lists(
    st.tuples(st.floats(0.02, 0.4), st.floats(4.9e9, 5.1e9), st.floats(1.0, 1e4)),
    min_size=2, max_size=10)


@settings(max_examples=3, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(rows=_VALID_ROWS)
def test_a_fit_of_any_valid_looking_table_ends_in_exit_0_2_or_3(rows):
    """A table ``check`` accepts goes through MAP, sampling and the result files (2 steps)."""
    body = "\n".join(f"R0,{t!r},{f!r},{s!r}" for t, f, s in rows)
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "groups.csv").write_text(
            "resonator,temperature_K,f_res_Hz,f_res_sigma_Hz\n" + body + "\n")
        card = BD.write_card(Path(d) / "card.toml")
        code, err, seconds = _run(["fit", card, "--out", Path(d) / "run", "--no-progress",
                                   "--max-steps", "2", "--plots", "none"])
        # 3: not converged after 2 steps, the expected outcome of a valid table
        _assert_clean(code, err, seconds, allowed=(0, 2, 3))
