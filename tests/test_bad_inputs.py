"""Every bad input a clear error, through the real command line.

Each case of :data:`CASES` builds a bad input in its own directory from the shipped cards
(``models/defrance_B2_809MHz_qpower.toml``, ``..._fshift.toml`` and their data, copied and
modified) and runs ``tlsbayes.cli.main`` in-process.  It must:

* exit with status 2 (or the documented status of the few inputs that are accepted);
* write exactly one line on stderr (``tlsbayes...: error: ...``) naming the file (with line
  and column, or the table and key, or the flag) and what is wrong;
* print no traceback;
* leave its directory exactly as it was: no run directory created, no file changed (checked
  with a SHA-256 snapshot of every file before and after).

A few cases also run in a subprocess (``python -m tlsbayes.cli``), where stderr is the real one.

Decisions (also in ``docs/bad_inputs.md``):

* temperatures above 20 K in a ``K`` column warn (they are probably mK) and the run goes on;
* unsorted data are sorted by x, with a note in the data summary;
* an odd number of walkers is accepted (emcee's stretch move splits any ensemble in two);
  fewer than 2 x (free parameters) is refused before anything is written;
* ``resume`` of a run that already converged changes nothing and exits 0 with one line.

The table of inputs and messages: ``python tests/test_bad_inputs.py --table`` prints it as
markdown, ``--write`` rewrites ``docs/bad_inputs.md``.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import io
import json
import pickle
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from tlsbayes.cli import main

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"
PACKAGE = ROOT / "tlsbayes"
DOC = ROOT / "docs" / "bad_inputs.md"
Q_CARD, Q_DATA = "defrance_B2_809MHz_qpower.toml", "defrance_B2_809MHz_Qi_vs_power.csv"
F_CARD, F_DATA = "defrance_B2_809MHz_fshift.toml", "defrance_B2_809MHz_f_vs_T.csv"

# Sampler settings loose enough that the shipped Qi(P) card "converges" in a few dozen steps:
# the finished run that the run-directory cases corrupt (one tiny fit per test session).
TINY_SAMPLER = ("nwalkers = 8\nchunk = 20\nmax_steps = 200\ntarget_ess = 10.0\n"
                "tau_rtol = 10.0\ntau_factor = 1.0\nrhat_max = 10.0\nn_groups = 2\n"
                "map_starts = 2\nprogress = false\n")


# --------------------------------------------------------------------------------------------
# building inputs
# --------------------------------------------------------------------------------------------


def _sub(text: str, old: str, new: str) -> str:
    """Replace the one occurrence of ``old`` (a changed shipped card fails loudly here)."""
    assert text.count(old) == 1, f"expected exactly one {old!r} in the shipped file"
    return text.replace(old, new)


def _header_index(lines) -> int:
    return next(i for i, ln in enumerate(lines) if ln.strip() and not ln.startswith("#"))


def _data_line(data_file: str, row: int) -> int:
    """1-based line in the shipped file of data row ``row`` (0-based)."""
    lines = (MODELS / "data" / data_file).read_text().splitlines()
    return _header_index(lines) + 2 + row


def _set_cell(text: str, row: int, column: str, value: str) -> str:
    lines = text.splitlines()
    h = _header_index(lines)
    header = lines[h].split(",")
    cells = lines[h + 1 + row].split(",")
    cells[header.index(column)] = value
    lines[h + 1 + row] = ",".join(cells)
    return "\n".join(lines) + "\n"


def _map_rows(text: str, fn) -> str:
    """Apply ``fn`` to the list of data rows (header and comments kept)."""
    lines = text.splitlines()
    h = _header_index(lines)
    return "\n".join(lines[:h + 1] + fn(lines[h + 1:])) + "\n"


def _workspace(d: Path, which: str = "q", card=None, data=None) -> Path:
    """Copy a shipped card and its data into ``d``; ``card``/``data`` edit the text.

    ``data`` may return bytes (binary garbage).  Returns the card path.
    """
    card_name, data_name = (Q_CARD, Q_DATA) if which == "q" else (F_CARD, F_DATA)
    (d / "data").mkdir(parents=True)
    text = (MODELS / card_name).read_text()
    (d / "card.toml").write_text(card(text) if card else text)
    raw = (MODELS / "data" / data_name).read_text()
    new = data(raw) if data else raw
    target = d / "data" / data_name
    target.write_bytes(new) if isinstance(new, bytes) else target.write_text(new)
    return d / "card.toml"


def _fit(d: Path, which="q", card=None, data=None, flags=()):
    return ["fit", str(_workspace(d, which, card, data)), "--out", str(d / "out"),
            "--no-progress", *flags]


def _check(d: Path, which="q", card=None, data=None, flags=()):
    return ["check", str(_workspace(d, which, card, data)), *flags]


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _card_edit(old, new):
    return lambda t: _sub(t, old, new)


def _h5_linking_out(text: str) -> bytes:
    """An HDF5 table whose Qi column is an external link to /etc/passwd (never followed)."""
    import h5py

    with tempfile.TemporaryDirectory() as td:
        p = Path(td) / "t.h5"
        with h5py.File(p, "w") as f:
            f["power_dBm"] = [-100.0, -90.0, -80.0]
            f["Qi"] = h5py.ExternalLink("/etc/passwd", "/Qi")
        return p.read_bytes()


def _line_of(text: str, needle: str) -> int:
    return text[:text.index(needle)].count("\n") + 1


def _run_copy(d: Path, run: Path, edit=None) -> Path:
    target = d / "run"
    shutil.copytree(run, target)
    if edit:
        edit(target)
    return target


def _resume(edit=None):
    return lambda d, run: ["resume", str(_run_copy(d, run, edit))]


def _report(edit=None):
    return lambda d, run: ["report", str(_run_copy(d, run, edit))]


def _garbage(name, data=b"\x00garbage" * 200):
    return lambda r: (r / name).write_bytes(data)


def _truncate(name, keep=6000):
    return lambda r: (r / name).write_bytes((r / name).read_bytes()[:keep])


def _edit_json(fn):
    def edit(r):
        info = json.loads((r / "run.json").read_text())
        fn(info)
        (r / "run.json").write_text(json.dumps(info))
    return edit


class _Payload:
    """Unpickling this creates ``marker``: proof that a file was (not) unpickled."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _pickle_payload(name):
    def edit(r):
        (r / "posterior.nc").unlink(missing_ok=True)
        (r / name).write_bytes(pickle.dumps(_Payload(r / "UNPICKLED")))
    return edit


def _result_format(fmt):
    def edit(r):
        import h5py

        with h5py.File(r / "posterior.nc", "r+") as f:
            f.attrs["format"] = fmt
    return edit


def _narrow_beta(r):
    # a run killed after its last checkpoint (no posterior.nc yet), whose card copy then had
    # its beta prior narrowed away from where the walkers stand
    (r / "posterior.nc").unlink()
    (r / "card.toml").write_text(_sub((r / "card.toml").read_text(),
                                      "low = 0.1, high = 0.6", "low = 0.5, high = 0.6"))


# --------------------------------------------------------------------------------------------
# the cases
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One bad input.

    ``argv(d, run)`` builds the input in the empty directory ``d`` (``run``: a finished run
    directory to copy, or None) and returns the command line.  ``needles`` must all appear in
    the one stderr line (``{d}`` is replaced by the case directory), ``out`` in stdout.
    """

    id: str
    what: str
    argv: Callable
    needles: tuple = ()
    code: int = 2
    out: tuple = ()
    err_lines: int = 1
    needs_run: bool = False


QL = lambda row: _data_line(Q_DATA, row)  # noqa: E731
FL = lambda row: _data_line(F_DATA, row)  # noqa: E731
QCSV = "{d}/data/" + Q_DATA
FCSV = "{d}/data/" + F_DATA
CARD = "{d}/card.toml"
_Q_TEXT = (MODELS / Q_CARD).read_text()

CASES = [
    # ---- data files -------------------------------------------------------------------------
    Case("csv_missing_column", "CSV without the sigma column the card names",
         lambda d, r: _fit(d, data=lambda t: _map_rows(
             _sub(t, "power_dBm,Qi,Qi_sigma", "power_dBm,Qi"),
             lambda rows: [x.rsplit(",", 1)[0] for x in rows])),
         (QCSV, "no column 'Qi_sigma' (sigma)", "columns are: power_dBm, Qi")),
    Case("csv_renamed_column", "CSV whose Qi column is called Q_i",
         lambda d, r: _fit(d, data=_card_edit("power_dBm,Qi,Qi_sigma", "power_dBm,Q_i,Qi_sigma")),
         (QCSV, "no column 'Qi' (y)")),
    Case("csv_non_numeric", "text in a numeric cell",
         lambda d, r: _fit(d, data=lambda t: _set_cell(t, 2, "Qi", "abc")),
         (f"{QCSV}, line {QL(2)}, column 'Qi'", "non-numeric value 'abc'")),
    Case("csv_nan", "NaN in the observable",
         lambda d, r: _fit(d, data=lambda t: _set_cell(t, 2, "Qi", "nan")),
         (f"{QCSV}, line {QL(2)}, column 'Qi'", "non-finite value 'nan'")),
    Case("csv_inf_sigma", "inf in the sigma column",
         lambda d, r: _fit(d, data=lambda t: _set_cell(t, 4, "Qi_sigma", "inf")),
         (f"{QCSV}, line {QL(4)}, column 'Qi_sigma'", "non-finite value 'inf'")),
    Case("csv_empty_cell", "an empty cell",
         lambda d, r: _fit(d, data=lambda t: _set_cell(t, 3, "Qi", "")),
         (f"{QCSV}, line {QL(3)}, column 'Qi'", "empty cell")),
    Case("csv_zero_sigma", "sigma = 0",
         lambda d, r: _fit(d, data=lambda t: _set_cell(t, 2, "Qi_sigma", "0")),
         (f"{QCSV}, line {QL(2)}, column 'Qi_sigma'", "sigma must be > 0, got '0'")),
    Case("csv_negative_sigma", "sigma < 0",
         lambda d, r: _fit(d, data=lambda t: _set_cell(t, 2, "Qi_sigma", "-5")),
         (f"{QCSV}, line {QL(2)}, column 'Qi_sigma'", "sigma must be > 0, got '-5'")),
    Case("csv_tiny_sigma", "sigma = 1e-320 (its square underflows)",
         lambda d, r: _fit(d, "f", data=lambda t: _set_cell(t, 2, "f_res_sigma_Hz", "1e-320")),
         (f"{FCSV}, line {FL(2)}, column 'f_res_sigma_Hz'", "sigma is below 1e-150")),
    Case("csv_huge_y", "y = 1e305 (its square overflows)",
         lambda d, r: _fit(d, "f", data=lambda t: _set_cell(t, 2, "f_res_Hz", "1e305")),
         (f"{FCSV}, line {FL(2)}, column 'f_res_Hz'", "|y| is above 1e+150")),
    Case("data_is_directory", "--data naming a directory",
         lambda d, r: _fit(d, "f", flags=["--data", str(d / "data")]),
         ("is a directory, not a data file",)),
    Case("data_is_device", "--data naming a device (/dev/null)",
         lambda d, r: _check(d, "f", flags=["--data", "/dev/null"]),
         ("'/dev/null' is a character device, not a data file",)),
    Case("csv_negative_qi", "a negative Qi",
         lambda d, r: _fit(d, data=lambda t: _set_cell(t, 2, "Qi", "-6e5")),
         (f"{QCSV}, line {QL(2)}, column 'Qi'", "non-positive Qi '-6e5'")),
    Case("csv_empty_file", "an empty data file",
         lambda d, r: _fit(d, data=lambda t: ""), (QCSV, "file is empty")),
    Case("csv_comments_only", "a data file with only comment lines",
         lambda d, r: _fit(d, data=lambda t: "# nothing measured\n"),
         (QCSV, "no header line")),
    Case("csv_header_only", "a header and no rows",
         lambda d, r: _fit(d, data=lambda t: _map_rows(t, lambda rows: [])),
         (QCSV, "no data rows (only a header on line")),
    Case("csv_one_point", "a single data row",
         lambda d, r: _fit(d, data=lambda t: _map_rows(t, lambda rows: rows[:1])),
         (QCSV, "only 1 row(s) left", "need at least 2 points")),
    Case("csv_duplicate_row", "the same row twice",
         lambda d, r: _fit(d, data=lambda t: _map_rows(t, lambda rows: rows[:3] + rows[2:])),
         (f"{QCSV}, line {QL(3)}", f"duplicate of line {QL(2)} (same x and y)")),
    Case("csv_ragged_row", "a row with an extra field",
         lambda d, r: _fit(d, data=lambda t: _map_rows(
             t, lambda rows: rows[:2] + [rows[2] + ",1"] + rows[3:])),
         (f"{QCSV}, line {QL(2)}", "4 fields, but the header", "has 3 columns")),
    Case("csv_not_utf8", "a Latin-1 byte in the CSV",
         lambda d, r: _fit(d, data=lambda t: t.encode() + b"-60,1e6,1e4 \xb5\n"),
         (QCSV, "not UTF-8 text (byte 0xb5)")),
    Case("csv_is_hdf5", "a damaged HDF5 file as the data table",
         lambda d, r: _fit(d, data=lambda t: b"\x89HDF\r\n\x1a\n" + bytes(64)),
         (QCSV, "looks like an HDF5 file but cannot be opened")),
    Case("temperature_zero", "T = 0 in a K column",
         lambda d, r: _fit(d, "f", data=lambda t: _set_cell(t, 2, "temperature_K", "0")),
         (f"{FCSV}, line {FL(2)}, column 'temperature_K'", "non-positive temperature '0'")),
    Case("temperature_negative", "T < 0",
         lambda d, r: _fit(d, "f", data=lambda t: _set_cell(t, 2, "temperature_K", "-0.3")),
         (f"{FCSV}, line {FL(2)}, column 'temperature_K'",
          "non-positive temperature '-0.3'")),
    Case("temperature_inf", "T = inf",
         lambda d, r: _fit(d, "f", data=lambda t: _set_cell(t, 5, "temperature_K", "inf")),
         (f"{FCSV}, line {FL(5)}, column 'temperature_K'", "non-finite value 'inf'")),
    Case("temperature_mK_in_K", "mK values (240-450) in the temperature_K column: WARNS",
         lambda d, r: _check(d, "f", data=lambda t: _map_rows(t, lambda rows: [
             f"{1000 * float(x.split(',')[0]):g}," + x.split(",", 1)[1] for x in rows])),
         ("tlsbayes: warning:", FCSV, "column 'temperature_K'", "temperature 450 K is above "
          "20 K; are these mK in a K column?", "unit = \"mK\""),
         code=0, out=("card and data are valid",)),
    Case("data_unsorted", "rows in decreasing x: sorted, with a note",
         lambda d, r: _check(d, "f", data=lambda t: _map_rows(t, lambda rows: rows[::-1])),
         code=0, err_lines=0, out=("22 points; rows sorted by x (the file is not in "
                                   "increasing x)",)),
    # ---- cards ------------------------------------------------------------------------------
    Case("card_missing", "a card path that does not exist",
         lambda d, r: ["fit", str(d / "no_such_card.toml")],
         ("{d}/no_such_card.toml: card file not found",)),
    Case("card_is_directory", "a directory given as the card",
         lambda d, r: ["check", str(d)], ("{d}: cannot read card",)),
    Case("card_not_utf8", "a card that is not UTF-8 text",
         lambda d, r: ["check", _write(d / "card.toml", b"[card]\nname = \"\xff\"\n")],
         (CARD, "card is not UTF-8 text")),
    Case("card_malformed_toml", "a syntax error in the card",
         lambda d, r: _fit(d, card=_card_edit("[priors]\n", "[priors]\nbeta = = 1\n")),
         (CARD, "malformed TOML", f"line {_line_of(_Q_TEXT, '[priors]') + 1}")),
    Case("card_malformed_table", "an unclosed table header",
         lambda d, r: _fit(d, card=_card_edit("[priors]\n", "[priors\n")),
         (CARD, "malformed TOML", "Expected ']'", f"line {_line_of(_Q_TEXT, '[priors]')}")),
    Case("card_unknown_top_level", "an unknown top-level table",
         lambda d, r: _fit(d, card=lambda t: t + "\n[bogus]\nx = 1\n"),
         (CARD, "unknown top-level table or key 'bogus'")),
    Case("card_unknown_card_key", "an unknown key in [card]",
         lambda d, r: _fit(d, card=_card_edit("simulated = true\n",
                                              "simulated = true\nauthor = \"me\"\n")),
         (CARD, "[card] unknown key 'author'")),
    Case("card_unknown_dataset_key", "a misspelt key in [[dataset]]",
         lambda d, r: _fit(d, card=_card_edit('likelihood = "gaussian"\n',
                                              'likelihood = "gaussian"\nmodle = 3\n')),
         (CARD, "[[dataset]] unknown key 'modle'", "did you mean 'model'?")),
    Case("card_unknown_constant", "an unknown constant for the model",
         lambda d, r: _fit(d, card=_card_edit("d = 800e-9\n", "d = 800e-9\nthickness = 1.0\n")),
         (CARD, "[dataset.constants] unknown constant 'thickness' for model 'q_power'")),
    Case("card_unknown_column_key", "an unknown key in a column table",
         lambda d, r: _fit(d, card=_card_edit('y = { column = "Qi", kind = "Qi" }',
                                              'y = { colum = "Qi", kind = "Qi" }')),
         (CARD, "[dataset.data.y] unknown key 'colum'")),
    Case("card_unknown_prior_key", "an unknown key in a prior",
         lambda d, r: _fit(d, card=_card_edit("low = 0.1, high = 0.6",
                                              "low = 0.1, high = 0.6, mean = 0.3")),
         (CARD, "[priors] prior for 'beta': unknown key 'mean'")),
    Case("card_unknown_model", "an unknown model",
         lambda d, r: _fit(d, card=_card_edit('model = "q_power"', 'model = "q_powr"')),
         (CARD, "[[dataset]] unknown model 'q_powr'", "did you mean 'q_power'?")),
    Case("card_constant_negative", "a negative temperature constant",
         lambda d, r: _fit(d, card=_card_edit("T = 0.246", "T = -0.246")),
         (CARD, "[dataset.constants] T must be a finite number > 0")),
    Case("card_constant_text", "a number written as text",
         lambda d, r: _fit(d, card=_card_edit("f = 809e6", 'f = "809e6"')),
         (CARD, "[dataset.constants] f must be a number")),
    Case("prior_unknown_parameter", "a prior for a parameter the model does not have",
         lambda d, r: _fit(d, card=_card_edit(
             "[priors]\n", '[priors]\ndelta1 = { dist = "uniform", low = 0, high = 1 }\n')),
         (CARD, "[priors] prior for unknown parameter 'delta1'", "did you mean 'delta0'?")),
    Case("prior_missing_bound", "a uniform prior without high",
         lambda d, r: _fit(d, card=_card_edit("low = 0.1, high = 0.6", "low = 0.1")),
         (CARD, "[priors] prior for 'beta': missing key 'high'")),
    Case("prior_missing_dist", "a prior without dist",
         lambda d, r: _fit(d, card=_card_edit('dist = "uniform", low = 0.1', "low = 0.1")),
         (CARD, "[priors] prior for 'beta': missing key 'dist'")),
    Case("prior_unknown_dist", "an unknown distribution",
         lambda d, r: _fit(d, card=_card_edit('dist = "uniform", low = 0.1',
                                              'dist = "uniformm", low = 0.1')),
         (CARD, "[priors] prior for 'beta': unknown distribution", "did you mean 'uniform'?")),
    Case("prior_inverted", "low above high",
         lambda d, r: _fit(d, card=_card_edit("low = 0.1, high = 0.6", "low = 0.6, high = 0.1")),
         (CARD, "[priors] prior for 'beta': low (0.6) must be less than high (0.1)")),
    Case("prior_text_bound", "a bound written as text",
         lambda d, r: _fit(d, card=_card_edit("low = 0.1, high = 0.6",
                                              'low = "0.1", high = 0.6')),
         (CARD, "[priors] prior for 'beta'", "low")),
    Case("prior_loguniform_zero", "a log-uniform prior starting at 0",
         lambda d, r: _fit(d, card=_card_edit("low = 1e-7, high = 1e-3", "low = 0, high = 1e-3")),
         (CARD, "[priors] prior for 'delta0': low must be > 0 for a log-uniform prior")),
    Case("prior_loguniform_negative", "a log-uniform prior with a negative bound",
         lambda d, r: _fit(d, card=_card_edit("low = 1e-7, high = 1e-3",
                                              "low = -1e-7, high = 1e-3")),
         (CARD, "[priors] prior for 'delta0': low must be > 0", "got -1e-07")),
    Case("prior_beta_above_one", "beta prior reaching 1.5",
         lambda d, r: _fit(d, card=_card_edit("low = 0.1, high = 0.6", "low = 0.1, high = 1.5")),
         (CARD, "[priors] prior for 'beta' extends outside its physical range [0, 1]")),
    Case("prior_beta_negative", "beta prior reaching below 0",
         lambda d, r: _fit(d, card=_card_edit("low = 0.1, high = 0.6", "low = -0.1, high = 0.6")),
         (CARD, "[priors] prior for 'beta' extends outside its physical range [0, 1]")),
    Case("prior_beta_fixed_2", "beta fixed at 2",
         lambda d, r: _fit(d, card=_card_edit('beta = { dist = "uniform", low = 0.1, high = 0.6 }',
                                              'beta = { dist = "fixed", value = 2.0 }')),
         (CARD, "[priors] prior for 'beta' extends outside its physical range",
          "support is [2, 2]")),
    Case("data_file_missing", "the card's data file does not exist",
         lambda d, r: _fit(d, card=_card_edit(Q_DATA, "nothere.csv")),
         (CARD, "[dataset.data] file = 'data/nothere.csv'",
          "data file '{d}/data/nothere.csv' not found")),
    Case("data_file_placeholder", "an unknown {placeholder} in the data path",
         lambda d, r: _fit(d, card=_card_edit("data/" + Q_DATA, "{home}/q.csv")),
         (CARD, "[dataset.data] file '{home}/q.csv': unknown placeholder")),
    Case("data_file_absolute", "an absolute data path in the card (outside its folder)",
         lambda d, r: _fit(d, card=_card_edit("data/" + Q_DATA, "/etc/passwd")),
         (CARD, "[dataset.data] file '/etc/passwd' is an absolute path",
          "pass --allow-outside-data to read it anyway")),
    Case("data_file_dotdot", "a data path leaving the card's folder with '..'",
         lambda d, r: _fit(d, card=_card_edit("data/" + Q_DATA, "../../" + Q_DATA)),
         (CARD, f"[dataset.data] file '../../{Q_DATA}' goes up with '..'",
          "--allow-outside-data")),
    Case("data_hdf5_external_link", "an HDF5 table with an external link (never followed)",
         lambda d, r: _fit(d, data=_h5_linking_out),
         (CARD, QCSV + ": HDF5 member /Qi is an external link to another file")),
    Case("filter_code", "Python code as a row filter (never evaluated)",
         lambda d, r: _fit(d, card=_card_edit(
             "window = {", "filter = \"__import__('os').system('touch {d}/PWNED')\"\nwindow = {"
             .replace("{d}", str(d)))),
         (CARD, "[dataset.data] filter", "unexpected '('")),
    Case("sampler_text_walkers", "nwalkers given as text",
         lambda d, r: _fit(d, card=_card_edit("[sampler]\n", '[sampler]\nnwalkers = "many"\n')),
         (CARD, "[sampler] nwalkers must be an integer, got str 'many'")),
    Case("sampler_float_steps", "max_steps = 1.5",
         lambda d, r: _fit(d, card=_card_edit("[sampler]\n", "[sampler]\nmax_steps = 1.5\n")),
         (CARD, "[sampler] max_steps must be an integer, got float 1.5")),
    Case("sampler_text_progress", "progress = \"yes\"",
         lambda d, r: _fit(d, card=_card_edit("[sampler]\n", '[sampler]\nprogress = "yes"\n')),
         (CARD, "[sampler] progress must be true or false")),
    Case("sampler_negative_walkers", "nwalkers = -4 in the card",
         lambda d, r: _fit(d, card=_card_edit("[sampler]\n", "[sampler]\nnwalkers = -4\n")),
         (CARD, "[sampler] nwalkers = -4 is invalid")),
    Case("sampler_few_walkers", "nwalkers = 6 in the card for 4 free parameters",
         lambda d, r: _fit(d, card=_card_edit("[sampler]\n", "[sampler]\nnwalkers = 6\n")),
         (CARD, "[sampler] nwalkers = 6: 6 walkers are too few for 4 parameters")),
    Case("sampler_unknown_key", "a misspelt sampler key",
         lambda d, r: _fit(d, card=_card_edit("[sampler]\n", "[sampler]\nwalkers = 32\n")),
         (CARD, "[sampler] unknown key 'walkers'", "did you mean 'nwalkers'?")),
    Case("sampler_moves_code", "a move set naming a Python function",
         lambda d, r: _fit(d, card=_card_edit("[sampler]\n", '[sampler]\nmoves = "os.system"\n')),
         (CARD, "[sampler] moves = 'os.system' is invalid", "'stretch', 'de'")),
    # ---- command-line flags -----------------------------------------------------------------
    Case("flag_negative_walkers", "--walkers -4",
         lambda d, r: _fit(d, flags=["--walkers", "-4"]),
         ("tlsbayes fit: error: argument --walkers: '-4' must be an integer >= 2",)),
    Case("flag_few_walkers", "--walkers 6 for 4 free parameters",
         lambda d, r: _fit(d, flags=["--walkers", "6"]),
         ("--walkers 6: 6 walkers are too few for 4 parameters", "need at least 8")),
    Case("flag_odd_walkers", "--walkers 9 (odd): accepted",
         lambda d, r: _check(d, flags=["--walkers", "9"]),
         code=0, err_lines=0, out=("4 free parameters", "9 walkers")),
    Case("flag_text_seed", "--seed abc",
         lambda d, r: _fit(d, flags=["--seed", "abc"]),
         ("tlsbayes fit: error: argument --seed: 'abc' is not an integer",)),
    Case("flag_float_seed", "--seed 1.5",
         lambda d, r: _fit(d, flags=["--seed", "1.5"]),
         ("argument --seed: '1.5' is not an integer",)),
    Case("flag_negative_seed", "--seed -1",
         lambda d, r: _fit(d, flags=["--seed", "-1"]),
         ("argument --seed: '-1' must be an integer >= 0",)),
    Case("flag_zero_steps", "--max-steps 0",
         lambda d, r: _fit(d, flags=["--max-steps", "0"]),
         ("argument --max-steps: '0' must be an integer >= 1",)),
    Case("flag_unknown", "a misspelt flag",
         lambda d, r: _fit(d, flags=["--wakers", "8"]),
         ("tlsbayes: error: unrecognized arguments: --wakers 8",)),
    Case("flag_out_is_file", "--out naming an existing file",
         lambda d, r: ["fit", _workspace(d), "--out", _write(d / "taken", b"keep me")],
         ("--out {d}/taken: exists and is not a directory",)),
    Case("flag_data_missing", "--data naming a missing file",
         lambda d, r: _check(d, flags=["--data", str(d / "nope.csv")]),
         (CARD, "(--data): data file '{d}/nope.csv' not found")),
    Case("flag_data_joint_card", "--data with a card of two data sets",
         lambda d, r: ["check", str(MODELS / "defrance_B2_809MHz_joint.toml"), "--data",
                       str(MODELS / "data" / Q_DATA)],
         ("defrance_B2_809MHz_joint.toml: a data file override (--data) needs a card with "
          "exactly one [[dataset]]",)),
    # ---- run directories --------------------------------------------------------------------
    Case("run_not_a_run", "report on a directory that is not a run",
         lambda d, r: ["report", str(d)], ("{d}: not a tlsbayes run directory (no run.json)",)),
    Case("run_posterior_garbage", "posterior.nc overwritten with garbage",
         _report(_garbage("posterior.nc")),
         ("{d}/run/posterior.nc", "is not a NetCDF file"), needs_run=True),
    Case("run_posterior_truncated", "posterior.nc cut short",
         _report(_truncate("posterior.nc")),
         ("{d}/run/posterior.nc", "is not a readable NetCDF file (truncated or corrupt?)"),
         needs_run=True),
    Case("run_posterior_missing", "posterior.nc missing",
         _report(lambda r: (r / "posterior.nc").unlink()),
         ("{d}/run/posterior.nc' does not exist",), needs_run=True),
    Case("run_posterior_format", "posterior.nc from an incompatible result format",
         _report(_result_format("tlsbayes-result/99")),
         ("{d}/run/posterior.nc", "incompatible format version 99"), needs_run=True),
    Case("run_posterior_foreign", "a NetCDF file that is not a tlsbayes result",
         _report(_result_format("someone-else/1")),
         ("{d}/run/posterior.nc", "is not a tlsbayes result"), needs_run=True),
    Case("run_posterior_pickle", "posterior.nc that is really a pickle (never unpickled)",
         _report(lambda r: (r / "posterior.nc").write_bytes(
             pickle.dumps(_Payload(r / "UNPICKLED")))),
         ("{d}/run/posterior.nc", "is not a NetCDF file"), needs_run=True),
    Case("run_only_pkl", "posterior.pkl instead of posterior.nc (ignored)",
         _report(_pickle_payload("posterior.pkl")),
         ("{d}/run/posterior.nc' does not exist",), needs_run=True),
    Case("run_checkpoint_garbage", "checkpoint.h5 overwritten with garbage",
         _resume(_garbage("checkpoint.h5")),
         ("{d}/run/checkpoint.h5' is unusable: not a readable HDF5 file",), needs_run=True),
    Case("run_checkpoint_truncated", "checkpoint.h5 cut short",
         _resume(_truncate("checkpoint.h5")),
         ("{d}/run/checkpoint.h5' is unusable", "truncated file"), needs_run=True),
    Case("run_checkpoint_missing", "resume of a run without checkpoint.h5",
         _resume(lambda r: (r / "checkpoint.h5").unlink()),
         ("{d}/run/checkpoint.h5: missing, so there is nothing to resume",), needs_run=True),
    Case("run_card_copy_missing", "run directory without its card.toml",
         _report(lambda r: (r / "card.toml").unlink()),
         ("{d}/run/card.toml: the run's copy of its card is missing",), needs_run=True),
    Case("run_json_missing", "run directory without run.json",
         _resume(lambda r: (r / "run.json").unlink()),
         ("{d}/run: not a tlsbayes run directory (no run.json)",), needs_run=True),
    Case("run_json_garbage", "run.json that is not JSON",
         _report(lambda r: (r / "run.json").write_text("{not json")),
         ("{d}/run/run.json: damaged, not readable JSON",), needs_run=True),
    Case("run_json_missing_key", "run.json without the card path",
         _report(_edit_json(lambda i: i.pop("card"))),
         ("{d}/run/run.json: damaged, key 'card' is missing",), needs_run=True),
    Case("run_json_version", "run.json from an incompatible run format",
         _resume(_edit_json(lambda i: i.update(run_format=2, tlsbayes_version="9.0"))),
         ("{d}/run/run.json: run format 2 (tlsbayes 9.0) is not the format 1",),
         needs_run=True),
    Case("run_start_outside_prior", "resume after the beta prior was narrowed away from the "
         "walkers", _resume(_narrow_beta),
         ("{d}/run/card.toml: [priors] beta", "walkers stopped outside its support [0.5, 0.6]"),
         needs_run=True),
    Case("run_finished", "resume of a run that already converged: exit 0, nothing changed",
         _resume(), ("{d}/run: this run already converged after", "nothing to resume"),
         code=0, needs_run=True),
]


# --------------------------------------------------------------------------------------------
# running a case
# --------------------------------------------------------------------------------------------


def snapshot(root: Path) -> dict:
    """Every directory and file under ``root`` with the SHA-256 of its bytes."""
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        out[rel] = "dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def invoke(argv) -> tuple[int, str, str]:
    """``tlsbayes.cli.main(argv)`` in-process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def make_finished_run(root: Path) -> Path:
    """A converged run directory of the shipped Qi(P) card under very loose gates."""
    card = _workspace(root, card=_card_edit("[sampler]\n", "[sampler]\n" + TINY_SAMPLER))
    run = root / "run"
    code, _, err = invoke(["fit", card, "--out", run, "--no-progress"])
    assert code == 0, f"the tiny fit did not converge: {err}"
    return run


def check_case(case: Case, d: Path, run) -> tuple[list, str, str]:
    """Run ``case`` in the empty directory ``d``; assert the contract; return argv and output."""
    argv = [str(a) for a in case.argv(d, run)]
    before = snapshot(d)
    code, out, err = invoke(argv)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == case.code, f"exit {code}, expected {case.code}; stderr: {err}"
    assert len(lines) == case.err_lines, f"expected {case.err_lines} stderr line(s): {err!r}"
    assert "Traceback" not in out + err
    for needle in case.needles:
        needle = needle.replace("{d}", str(d))
        assert needle in err, f"{needle!r} not in stderr {err!r}"
    if case.code == 2:
        assert lines[0].startswith("tlsbayes") and ": error: " in lines[0], lines[0]
    for needle in case.out:
        assert needle in out, f"{needle!r} not in stdout {out!r}"
    assert snapshot(d) == before, "the command changed or created files"
    return argv, out, err


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    return make_finished_run(tmp_path_factory.mktemp("finished"))


def test_there_are_at_least_30_distinct_cases():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)) and len(ids) >= 30
    assert len({c.what for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case, tmp_path, request):
    run = request.getfixturevalue("finished_run") if case.needs_run else None
    d = tmp_path / "case"
    d.mkdir()
    check_case(case, d, run)


def test_the_unsorted_rows_are_sorted_with_their_lines(tmp_path):
    """The accepted unsorted file gives the same data as the sorted one, point by point."""
    from tlsbayes import card as tcard

    card = _workspace(tmp_path, "f", data=lambda t: _map_rows(t, lambda rows: rows[::-1]))
    _, (rev,) = tcard.build_posterior(tcard.load_card(card))
    _, (ref,) = tcard.build_posterior(tcard.load_card(MODELS / F_CARD))
    assert (rev.x == ref.x).all() and (rev.y == ref.y).all() and (rev.sigma == ref.sigma).all()
    n = rev.n
    assert list(rev.lines) == [ref.lines[0] + n - 1 - k for k in range(n)]


def test_the_unpickle_payload_is_live(tmp_path):
    """The pickle cases would notice an unpickling: loading the payload does create the file."""
    marker = tmp_path / "UNPICKLED"
    pickle.loads(pickle.dumps(_Payload(marker))).close()
    assert marker.exists()


def test_a_failure_after_the_run_directory_was_made_leaves_nothing(tmp_path, monkeypatch):
    """A run that fails before its first checkpoint (e.g. no finite MAP) removes its files."""
    from tlsbayes import fit
    from tlsbayes.errors import SamplingError

    def fail(*args, **kwargs):
        raise SamplingError("all MAP starts have log-probability -inf")

    monkeypatch.setattr(fit, "run_fit", fail)
    card = _workspace(tmp_path / "w")
    before = snapshot(tmp_path)
    code, _, err = invoke(["fit", card, "--out", tmp_path / "w" / "new", "--no-progress"])
    assert code == 2 and err.count("\n") == 1 and "MAP starts" in err
    assert snapshot(tmp_path) == before
    # an existing directory is kept (only the files this fit wrote are removed)
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "notes.txt").write_text("mine")
    code, _, _ = invoke(["fit", card, "--out", tmp_path / "old", "--no-progress"])
    assert code == 2
    assert sorted(p.name for p in (tmp_path / "old").iterdir()) == ["notes.txt"]


@pytest.mark.parametrize("case_id", ["card_malformed_toml", "flag_negative_walkers",
                                     "temperature_mK_in_K"])
def test_bad_input_in_a_subprocess(case_id, tmp_path):
    """The real stderr of the installed command: one line, nothing else (no library noise)."""
    case = next(c for c in CASES if c.id == case_id)
    d = tmp_path / "case"
    d.mkdir()
    argv = case.argv(d, None)
    before = snapshot(d)
    proc = subprocess.run([sys.executable, "-m", "tlsbayes.cli", *map(str, argv)],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    lines = proc.stderr.splitlines()
    assert proc.returncode == case.code, proc.stderr
    assert len(lines) == case.err_lines, proc.stderr
    for needle in case.needles:
        assert needle.replace("{d}", str(d)) in lines[0]
    assert snapshot(d) == before


# --------------------------------------------------------------------------------------------
# inputs are data only
# --------------------------------------------------------------------------------------------

FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__"}
FORBIDDEN_MODULES = {"pickle", "_pickle", "cPickle", "marshal", "shelve", "dill", "cloudpickle",
                     "joblib", "importlib"}
FORBIDDEN_ATTRIBUTES = {"read_pickle", "to_pickle", "unsafe_load", "import_module"}


def code_execution_risks(source: str) -> list[str]:
    """Calls and imports through which a file's contents could become code."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Name) and f.id in FORBIDDEN_CALLS:
                found.append(f"{f.id}() at line {node.lineno}")
            if isinstance(f, ast.Attribute) and f.attr in FORBIDDEN_ATTRIBUTES:
                found.append(f".{f.attr}() at line {node.lineno}")
            for kw in node.keywords:
                if kw.arg == "allow_pickle" and not (isinstance(kw.value, ast.Constant)
                                                     and kw.value.value is False):
                    found.append(f"allow_pickle at line {node.lineno}")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""])
            for name in names:
                # importlib.metadata reads installed packages' metadata; it runs no code
                if name != "importlib.metadata" and name.split(".")[0] in FORBIDDEN_MODULES:
                    found.append(f"import {name} at line {node.lineno}")
    return found


@pytest.mark.parametrize("snippet", [
    "x = eval(text)", "exec(code)", "m = __import__(name)", "import pickle",
    "from marshal import loads", "import importlib.util", "df = pd.read_pickle(p)",
    "a = np.load(p, allow_pickle=True)", "c = compile(src, 'f', 'exec')",
])
def test_the_source_scan_catches_code_execution(snippet):
    assert code_execution_risks(snippet)


def test_the_package_never_evaluates_or_unpickles():
    """No eval/exec/compile/__import__, no pickle-family module anywhere in tlsbayes."""
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 10
    risks = {str(p.relative_to(ROOT)): r for p in files
             if (r := code_execution_risks(p.read_text(encoding="utf-8")))}
    assert risks == {}


def test_card_paths_resolve_relative_to_the_card_not_the_cwd(tmp_path, monkeypatch):
    """From another directory holding a decoy data/ file, the card still reads its own data."""
    card = _workspace(tmp_path / "cards" / "b2", "f")
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "data").mkdir(parents=True)
    decoy = _map_rows((MODELS / "data" / F_DATA).read_text(), lambda rows: rows[:5])
    (elsewhere / "data" / F_DATA).write_text(decoy)
    monkeypatch.chdir(elsewhere)
    code, out, err = invoke(["check", card])
    assert code == 0, err
    assert f"data {card.parent / 'data' / F_DATA}: 22 points" in out
    # the same relative name on the command line (--data) is relative to the cwd: the decoy
    code, out, err = invoke(["check", card, "--data", f"data/{F_DATA}"])
    assert code == 0, err
    assert f"data data/{F_DATA}: 5 points" in out


def test_a_run_directory_is_read_relative_to_its_card_from_any_cwd(tmp_path, monkeypatch,
                                                                   finished_run):
    """resume/report rebuild the data path from the card's location, not from the cwd."""
    monkeypatch.chdir(tmp_path)
    run = _run_copy(tmp_path, finished_run)
    before = snapshot(run)
    code, _, err = invoke(["resume", run])
    assert code == 0 and "already converged" in err
    assert snapshot(run) == before


# --------------------------------------------------------------------------------------------
# the table in docs/bad_inputs.md
# --------------------------------------------------------------------------------------------


def test_every_case_is_in_the_documented_table():
    text = DOC.read_text(encoding="utf-8")
    missing = [c.id for c in CASES if f"`{c.id}`" not in text]
    assert not missing, f"regenerate with: python tests/test_bad_inputs.py --write ({missing})"


def _show(text: str, d: Path) -> str:
    text = text.replace(str(d) + "/", "").replace(str(d), ".")
    text = text.replace(str(MODELS) + "/", "models/")
    return text.replace("|", "\\|").strip()


def table() -> str:
    """Run every case and return the markdown table (input -> exit status and message)."""
    rows = ["| case | bad input | command | exit | message |", "|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        run = make_finished_run(Path(tmp) / "finished")
        for k, case in enumerate(CASES):
            d = Path(tmp) / f"case{k}"
            d.mkdir()
            argv, out, err = check_case(case, d, run if case.needs_run else None)
            shown = err.strip() or "stdout: " + " / ".join(
                ln.strip() for ln in out.splitlines() if any(n in ln for n in case.out))
            cmd = "tlsbayes " + " ".join(argv)
            rows.append(f"| `{case.id}` | {case.what} | `{_show(cmd, d)}` | {case.code} | "
                        f"{_show(shown, d)} |")
    head = (
        "# Bad inputs and their messages\n\n"
        "Generated by `python tests/test_bad_inputs.py --write` (the same cases are the tests "
        "of `tests/test_bad_inputs.py`). Each bad input is built from the shipped card "
        f"`models/{Q_CARD}` (or `{F_CARD}`) and its data, copied into a scratch directory "
        "(shown as `.`) and modified; the run-directory cases corrupt a copy of a finished run. "
        "Every case exits with status 2 and writes one line on stderr naming the file (with "
        "line and column, table and key, or the flag) and what is wrong, without a traceback, "
        "and leaves every file as it was (no run directory is created).\n\n"
        "Accepted on purpose (exit 0):\n\n"
        "- temperatures above 20 K in a `K` column: one warning line (probably mK), the run "
        "goes on;\n"
        "- rows not in increasing x: sorted, noted in the data summary;\n"
        "- an odd number of walkers: emcee's stretch move splits any ensemble in two halves; "
        "fewer than twice the number of free parameters is refused;\n"
        "- `resume` of a run that already converged: one line, nothing changed.\n\n"
        "Cards, CSV tables and result files are data only: no `eval`/`exec`, no pickle "
        "(`test_the_package_never_evaluates_or_unpickles`); a `.pkl` in a run directory is "
        "never read; paths in a card are relative to the card and stay in its folder tree or "
        "the shared real-data directory unless `--allow-outside-data` is given (no absolute or "
        "`..` paths, no links leading out, no HDF5 external links or storage), `--data` is "
        "relative to the current directory.\n\n"
        "`tlsbayes check CARD` runs every check `fit` makes before sampling and writes "
        "nothing.\n\n")
    return head + "\n".join(rows) + "\n"


if __name__ == "__main__":
    if "--write" in sys.argv[1:]:
        DOC.write_text(table(), encoding="utf-8")
        print(f"wrote {DOC}")
    elif "--table" in sys.argv[1:]:
        print(table(), end="")
    else:
        sys.exit(f"usage: {sys.argv[0]} --table | --write")
