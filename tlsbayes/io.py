"""Data tables in, SI out: the one place where units are converted.

A measured table is a CSV file whose *whole-line* comments start with ``#`` (provenance,
licence, caveats).  :func:`read_table` reads it into a :class:`Table` of text cells that
remembers the line of the file each row came from, so that every error can point at the
offending line.  :func:`load_xy` picks the abscissa, the observable and (optionally) its
uncertainty, selects rows (group, filter, window), validates them and converts them to SI
(:class:`XYData`, sorted by ``x``).

HDF5 and NetCDF tables (``.h5``/``.hdf5``/``.nc``, recognised by their first bytes, not their
name) are read too, in the column-per-dataset layout: every 1-D dataset (NetCDF variable) of
one length is a column, named by the dataset; text datasets give text columns.  The datasets
are those of the root group, or of its only subgroup when the root holds none; a single 1-D
compound dataset (a structured array) gives one column per field.  NetCDF's ``_FillValue`` /
``missing_value`` become empty cells and ``scale_factor`` / ``add_offset`` are applied; the
dimension-only datasets of NetCDF-4 are skipped.  Units come from the column names or the
card, as for CSV.  "Line" ``k`` in messages about such a table is its ``k``-th row.

Why not ``pandas.read_csv(comment="#")``: pandas cuts a line at the first ``#`` *anywhere*,
so a cell such as ``large-grain Ta film #1`` silently loses the rest of its row (every number
after it becomes NaN).  Here only lines whose first non-blank character is ``#`` are comments.

Units (case-sensitive tokens)
-----------------------------
=================  =========================================  =====================
kind               units accepted                             SI unit of the result
=================  =========================================  =====================
temperature        ``K``, ``mK``, ``uK``                      K
frequency          ``Hz``, ``kHz``, ``MHz``, ``GHz``          Hz
power              ``W``, ``mW``, ``dBm``, ``dBW``            W
field              ``V/m``                                    V/m
photon_number      ``""``                                     (dimensionless)
damping_rate       ``1/s`` (Γ), ``Hz_2pi`` (Γ/2π in Hz)       1/s
Qi                 ``""``; becomes ``inverse_q`` (1/Qi)       (dimensionless)
inverse_q          ``""``                                     (dimensionless)
fractional_shift   ``""``                                     (dimensionless)
=================  =========================================  =====================

``x`` kinds: temperature, frequency, power, field, photon_number.  ``y`` kinds: frequency,
Qi, inverse_q, damping_rate, fractional_shift.  A column spec is ``{"column": name,
"unit": token, "kind": kind}``:

* ``unit`` omitted: taken from the column name when it ends in ``_<token>``
  (``temperature_K``, ``power_vna_dBm``, ``f_res_Hz``, ``gamma_Hz_2pi``); dimensionless kinds
  default to ``""``; otherwise an error asks for an explicit unit.
* ``kind`` omitted: inferred from the unit's dimension (``K`` -> temperature, ``dBm`` ->
  power, ``Hz_2pi`` -> damping_rate, ...); a dimensionless ``y`` needs an explicit kind.
* ``sigma`` inherits the kind of ``y``, and its unit unless it states one (explicitly or in
  its name, e.g. ``f_res_sigma_Hz``).  For ``Qi`` the uncertainty of 1/Qi is σ_Qi / Qi².

Row selection, in this order: ``group`` (one value of one column), ``filter`` (a tiny
whitelisted comparison grammar, see :func:`parse_filter`; never ``eval``), ``window``
(inclusive ``{"min": v, "max": v}`` on ``x`` *in the unit declared for x*, before conversion,
so ``window = {min = -90, max = -30}`` on a dBm column means dBm).  Only the selected rows are
validated.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import math
import os
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import DataError

__all__ = [
    "UNITS",
    "X_KINDS",
    "Y_KINDS",
    "ColumnSpec",
    "DataWarning",
    "Filter",
    "Table",
    "XYData",
    "groups",
    "load_xy",
    "parse_filter",
    "read_table",
    "real_data_dir",
    "resolve_spec",
    "to_si",
    "from_si",
    "unit_from_column",
]


class DataWarning(UserWarning):
    """Suspicious but usable data (e.g. temperatures that look like mK in a K column)."""


# --------------------------------------------------------------------------------------------
# units and kinds
# --------------------------------------------------------------------------------------------

#: unit token -> (dimension, factor to SI); ``dBm``/``dBW`` are logarithmic (factor is the
#: reference power in W).
UNITS: dict[str, tuple[str, float]] = {
    "K": ("temperature", 1.0),
    "mK": ("temperature", 1e-3),
    "uK": ("temperature", 1e-6),
    "Hz": ("frequency", 1.0),
    "kHz": ("frequency", 1e3),
    "MHz": ("frequency", 1e6),
    "GHz": ("frequency", 1e9),
    "W": ("power", 1.0),
    "mW": ("power", 1e-3),
    "dBm": ("power", 1e-3),
    "dBW": ("power", 1.0),
    "V/m": ("field", 1.0),
    "": ("dimensionless", 1.0),
    "1/s": ("rate", 1.0),
    "Hz_2pi": ("rate", 2.0 * math.pi),
}
_LOG_UNITS = ("dBm", "dBW")

#: kind -> SI unit of the converted values
X_KINDS: dict[str, str] = {
    "temperature": "K",
    "frequency": "Hz",
    "power": "W",
    "field": "V/m",
    "photon_number": "",
}
Y_KINDS: dict[str, str] = {
    "frequency": "Hz",
    "Qi": "",
    "inverse_q": "",
    "damping_rate": "1/s",
    "fractional_shift": "",
}
_KIND_DIMENSION = {
    "temperature": "temperature",
    "frequency": "frequency",
    "power": "power",
    "field": "field",
    "photon_number": "dimensionless",
    "Qi": "dimensionless",
    "inverse_q": "dimensionless",
    "damping_rate": "rate",
    "fractional_shift": "dimensionless",
}
# kinds whose values must be > 0 (a fractional shift may have any sign)
_POSITIVE_KINDS = ("temperature", "frequency", "power", "field", "photon_number", "Qi",
                   "inverse_q", "damping_rate")
_SPEC_KEYS = ("column", "unit", "kind")
_WINDOW_KEYS = ("min", "max")
_GROUP_KEYS = ("column", "value")
_MK_SUSPICION_K = 20.0  # a "K" column whose maximum exceeds this probably holds mK


def real_data_dir() -> Path:
    """Directory of the shared real measured data.

    ``$TLSBAYES_REAL_DATA`` if set, else ``shared/data/real`` next to the repository
    (``<repo>/../shared/data/real``).  The directory may not exist.
    """
    env = os.environ.get("TLSBAYES_REAL_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "shared" / "data" / "real"


def unit_from_column(column: str) -> str | None:
    """Unit token a column name ends with (``power_vna_dBm`` -> ``dBm``), or ``None``."""
    for tok in sorted((t for t in UNITS if t), key=len, reverse=True):
        if column.endswith("_" + tok) and len(column) > len(tok) + 1:
            return tok
    return None


@dataclass(frozen=True)
class ColumnSpec:
    """A resolved column spec: which column, in which unit, holding which kind."""

    column: str
    unit: str
    kind: str


def _did_you_mean(word: Any, options) -> str:
    if not isinstance(word, str):
        return ""
    options = list(options)
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if not close:
        folded = [o for o in options if o.lower() == word.lower()]
        close = folded[:1]
    return f"; did you mean {close[0]!r}?" if close else ""


def resolve_spec(spec: Any, role: str, parent: ColumnSpec | None = None) -> ColumnSpec:
    """Check a column spec and fill in its unit and kind.

    Parameters
    ----------
    spec : Mapping or str
        ``{"column": name, "unit": token, "kind": kind}`` (unit and kind optional) or just
        the column name.
    role : {"x", "y", "sigma"}
    parent : ColumnSpec, optional
        For ``sigma``: the resolved ``y`` spec, whose kind (and default unit) it inherits.

    Raises
    ------
    DataError
        Unknown key, unknown unit or kind, unit not a unit of the kind, or no unit given
        where one is needed.  The message names the role and the column, not a file.
    """
    if isinstance(spec, str):
        spec = {"column": spec}
    if not isinstance(spec, Mapping):
        raise DataError(f"{role}: expected a column name or a table "
                        f"{{column, unit, kind}}, got {spec!r}")
    for key in spec:
        if key not in _SPEC_KEYS:
            raise DataError(f"{role}: unknown key {key!r} (allowed: {', '.join(_SPEC_KEYS)})"
                            + _did_you_mean(key, _SPEC_KEYS))
    col = spec.get("column")
    if not isinstance(col, str) or not col:
        raise DataError(f"{role}: 'column' must be a non-empty column name, got {col!r}")
    kinds = X_KINDS if role == "x" else Y_KINDS
    kind = spec.get("kind")
    if kind is not None:
        if not isinstance(kind, str) or kind not in kinds:
            raise DataError(f"{role} column {col!r}: unknown kind {kind!r} for {role} "
                            f"(allowed: {', '.join(kinds)})" + _did_you_mean(kind, kinds))
        if parent is not None and kind != parent.kind:
            raise DataError(f"sigma column {col!r}: kind {kind!r} differs from the kind of y "
                            f"({parent.kind!r})")
    elif parent is not None:
        kind = parent.kind
    unit = spec.get("unit")
    if unit is not None:
        if not isinstance(unit, str) or unit not in UNITS:
            raise DataError(f"{role} column {col!r}: unknown unit {unit!r} (allowed: "
                            + ", ".join(repr(u) for u in UNITS) + ")"
                            + _did_you_mean(unit, [u for u in UNITS if u]))
    else:
        unit = unit_from_column(col)
        if unit is None:
            if parent is not None:
                unit = parent.unit
            elif kind is not None and _KIND_DIMENSION[kind] == "dimensionless":
                unit = ""
            else:
                tail = col.rsplit("_", 1)[-1] if "_" in col else ""
                folded = [u for u in UNITS if u and u.lower() == tail.lower()]
                hint = (f"; unit tokens are case-sensitive: did you mean {folded[0]!r}?"
                        if folded else "")
                example = "K" if role == "x" else "Hz"
                raise DataError(
                    f"{role} column {col!r}: no unit given and none can be read from the "
                    "column name (it does not end in _<unit>); give one explicitly, e.g. "
                    f"{{column = {col!r}, unit = \"{example}\"}} (allowed: "
                    + ", ".join(repr(u) for u in UNITS) + ")" + hint)
    dim = UNITS[unit][0]
    if parent is not None:
        pdim = UNITS[parent.unit][0]
        if dim != pdim:
            raise DataError(f"sigma column {col!r}: unit {unit!r} ({dim}) does not match the "
                            f"unit of y {parent.unit!r} ({pdim})")
        if unit in _LOG_UNITS:
            raise DataError(f"sigma column {col!r}: a logarithmic unit ({unit}) cannot be "
                            "used for an uncertainty")
    if kind is None:
        candidates = [k for k in kinds if _KIND_DIMENSION[k] == dim]
        if len(candidates) != 1:
            raise DataError(
                f"{role} column {col!r}: unit {unit!r} does not say what the column holds; "
                f"give kind explicitly (one of: {', '.join(candidates or kinds)})")
        kind = candidates[0]
    if _KIND_DIMENSION[kind] != dim:
        allowed = [u for u, (d, _) in UNITS.items() if d == _KIND_DIMENSION[kind]]
        raise DataError(f"{role} column {col!r}: unit {unit!r} is not a unit of {kind} "
                        "(allowed: " + ", ".join(repr(u) for u in allowed) + ")")
    return ColumnSpec(col, unit, kind)


def _to_si(values: np.ndarray, unit: str) -> np.ndarray:
    dim, factor = UNITS[unit]
    if unit in _LOG_UNITS:
        return factor * np.power(10.0, values / 10.0)
    return values * factor


def to_si(values, unit: str) -> np.ndarray:
    """Values in the unit token ``unit`` -> SI (``dBm`` -> W, ``mK`` -> K, ...)."""
    return _to_si(np.asarray(values, dtype=float), unit)


def from_si(values, unit: str) -> np.ndarray:
    """Inverse of :func:`to_si`: SI values expressed in the unit token ``unit``."""
    values = np.asarray(values, dtype=float)
    factor = UNITS[unit][1]
    if unit in _LOG_UNITS:
        return 10.0 * np.log10(values / factor)
    return values / factor


# --------------------------------------------------------------------------------------------
# tables
# --------------------------------------------------------------------------------------------

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z")
_NONFINITE = re.compile(r"[+-]?(?:nan|inf|infinity)\Z", re.IGNORECASE)
_MAGIC = {b"\x89HDF": "HDF5", b"CDF\x01": "NetCDF", b"CDF\x02": "NetCDF",
          b"PK\x03\x04": "zip/xlsx"}


@dataclass(frozen=True, eq=False)
class Table:
    """A CSV table as text cells, each row remembering its line in the file.

    Attributes
    ----------
    source : str
        The path as given.
    sha256 : str
        SHA-256 of the file bytes.
    columns : tuple of str
        Header names, in file order.
    cells : dict
        ``column -> tuple of str`` (stripped of surrounding blanks).
    lines : ndarray of int, shape (n_rows,)
        1-based line number in the file of each row (comment lines counted).
    """

    source: str
    sha256: str
    columns: tuple
    cells: dict
    lines: np.ndarray
    header_line: int = 1

    @property
    def n_rows(self) -> int:
        return int(self.lines.size)

    def _where(self, row: int | None = None, column: str | None = None) -> str:
        out = self.source
        if row is not None:
            out += f", line {int(self.lines[row])}"
        if column is not None:
            out += f", column {column!r}"
        return out

    def require(self, column: str, role: str = "") -> None:
        """Raise :class:`DataError` (with a "did you mean") if ``column`` is absent."""
        if column not in self.cells:
            what = f" ({role})" if role else ""
            shown = ", ".join(self.columns[:30]) + (", ..." if len(self.columns) > 30 else "")
            raise DataError(f"{self.source}: no column {column!r}{what}"
                            f"{_did_you_mean(column, self.columns)}; columns are: {shown}")

    def column(self, name: str) -> tuple:
        """Text cells of one column."""
        self.require(name)
        return self.cells[name]

    def numeric(self, name: str, rows=None, missing_ok: bool = False,
                context: str = "") -> np.ndarray:
        """Cells of ``name`` (at ``rows``, default all) as float64.

        Only plain decimal numbers are accepted.  Empty, NaN and infinite cells raise
        :class:`DataError` naming the line, unless ``missing_ok`` (then they are NaN); text
        always raises.  ``context`` is appended to messages (e.g. which filter needed it).
        """
        self.require(name)
        cells = self.cells[name]
        rows = np.arange(self.n_rows) if rows is None else np.asarray(rows, dtype=np.int64)
        out = np.empty(rows.size)
        for k, r in enumerate(rows):
            s = cells[r]
            v = float(s) if _NUMBER.match(s) else None
            if v is not None and math.isfinite(v):
                out[k] = v
                continue
            if v is None and s and not _NONFINITE.match(s):
                raise DataError(f"{self._where(r, name)}: non-numeric value {s!r}{context}")
            if missing_ok:
                out[k] = math.nan
                continue
            if not s:
                raise DataError(f"{self._where(r, name)}: empty cell{context}")
            raise DataError(f"{self._where(r, name)}: non-finite value {s!r} (NaN or inf); "
                            f"remove the row or exclude it with a filter{context}")
        return out

    def to_pandas(self):
        """A ``pandas.DataFrame`` (numeric columns as float64, others as text)."""
        import pandas as pd

        data = {}
        for c in self.columns:
            try:
                data[c] = self.numeric(c, missing_ok=True)
            except DataError:
                data[c] = list(self.cells[c])
        return pd.DataFrame(data, index=pd.Index(self.lines, name="line"))


def read_table(path) -> Table:
    """Read a CSV table whose comment lines start with ``#`` (or an HDF5/NetCDF table).

    Comma-separated (tab-separated for ``.tsv``), first non-comment line is the header,
    blank lines and lines whose first non-blank character is ``#`` are skipped, fields may be
    double-quoted.  Cells are kept as text; see :meth:`Table.numeric`.  HDF5 and NetCDF
    files in the column-per-dataset layout are recognised by their first bytes and read as
    described in the module docstring.

    Raises
    ------
    DataError
        File missing or unreadable, not UTF-8 text (xlsx is recognised and refused), an
        HDF5/NetCDF file that is not a column table, empty, no header, duplicate or empty column names, a row with the wrong
        number of fields, malformed quoting, or no data rows.  Messages name the file and,
        where relevant, the line.
    """
    src = str(path)
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{src}: data file not found") from None
    except IsADirectoryError:
        raise DataError(f"{src}: is a directory, not a data file") from None
    except OSError as exc:
        raise DataError(f"{src}: cannot read data file ({exc.strerror or exc})") from None
    digest = hashlib.sha256(raw).hexdigest()
    if raw.startswith(b"\x89HDF"):
        return _read_hdf5_table(p, src, digest)
    if raw.startswith((b"CDF\x01", b"CDF\x02")):
        return _read_netcdf3_table(p, src, digest)
    for magic, fmt in _MAGIC.items():
        if raw.startswith(magic):
            raise DataError(f"{src}: looks like a {fmt} file; only CSV tables are supported "
                            "(export the columns to CSV)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise DataError(f"{src}, line {line}: not UTF-8 text (byte {raw[exc.start]:#04x}); "
                        "save the table as UTF-8 CSV") from None
    if not text.strip():
        raise DataError(f"{src}: file is empty")

    physical = text.splitlines(keepends=True)
    # (line number, text) of the lines the CSV parser sees
    content = [(i + 1, ln) for i, ln in enumerate(physical)
               if ln.strip() and not ln.lstrip().startswith("#")]
    if not content:
        raise DataError(f"{src}: no header line (the file holds only comments)")
    delimiter = "\t" if p.suffix.lower() == ".tsv" else ","

    pos = 0  # index in `content` of the next line the reader will pull

    def feed():
        nonlocal pos
        while pos < len(content):
            pos += 1
            yield content[pos - 1][1]

    reader = csv.reader(feed(), delimiter=delimiter, strict=True)
    records = []  # (line, fields)
    while True:
        start = content[pos][0] if pos < len(content) else None
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise DataError(f"{src}, line {start}: unparseable CSV ({exc})") from None
        records.append((start, [f.strip() for f in fields]))

    header_line, header = records[0]
    for j, name in enumerate(header):
        if not name:
            raise DataError(f"{src}, line {header_line}: column {j + 1} of the header has no "
                            "name")
    seen = set()
    for name in header:
        if name in seen:
            raise DataError(f"{src}, line {header_line}: duplicate column name {name!r}")
        seen.add(name)
    rows, lines = [], []
    for line, fields in records[1:]:
        if not any(fields):
            continue  # a row of empty fields (spreadsheet export padding)
        if len(fields) != len(header):
            raise DataError(f"{src}, line {line}: {len(fields)} fields, but the header "
                            f"(line {header_line}) has {len(header)} columns")
        rows.append(fields)
        lines.append(line)
    if not rows:
        raise DataError(f"{src}: no data rows (only a header on line {header_line})")
    cells = {name: tuple(r[j] for r in rows) for j, name in enumerate(header)}
    return Table(src, digest, tuple(header), cells, np.asarray(lines, dtype=np.int64),
                 header_line)


_NC_DIMENSION_ONLY = "This is a netCDF dimension but not a netCDF variable"


def _attr_text(v) -> str:
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, np.ndarray) and v.size == 1:
        return _attr_text(v.reshape(-1)[0])
    return str(v)


def _column_cells(src: str, name: str, values: np.ndarray, attrs: Mapping) -> tuple:
    """Text cells of one column (decoded, CF missing values and scaling applied)."""
    values = np.asarray(values)
    if values.dtype.kind in "SUO":
        out = []
        for v in values:
            if isinstance(v, bytes):
                try:
                    v = v.decode("utf-8")
                except UnicodeDecodeError:
                    raise DataError(f"{src}, column {name!r}: text that is not UTF-8") from None
            out.append(str(v).strip())
        return tuple(out)
    if values.dtype.kind not in "biuf":
        raise DataError(f"{src}, column {name!r}: unsupported data type {values.dtype} (numbers "
                        "or text only)")
    missing = np.zeros(values.shape, dtype=bool)
    for key in ("_FillValue", "missing_value"):
        if key in attrs:
            fill = np.asarray(attrs[key]).reshape(-1)
            for f in fill:
                missing |= (values == f) | (np.isnan(values) & np.isnan(f)
                                            if values.dtype.kind == "f" else False)
    if "scale_factor" in attrs or "add_offset" in attrs:
        values = (values * np.asarray(attrs.get("scale_factor", 1.0)).reshape(-1)[0]
                  + np.asarray(attrs.get("add_offset", 0.0)).reshape(-1)[0])
    if values.dtype.kind == "f":
        cells = [repr(float(v)) for v in values]
    else:
        cells = [str(int(v)) for v in values]
    return tuple("" if m else c for c, m in zip(cells, missing))


def _columns_table(src: str, digest: str, columns: list, fmt: str) -> Table:
    """A :class:`Table` from ``[(name, values, attrs), ...]`` of 1-D columns."""
    if not columns:
        raise DataError(f"{src}: this {fmt} file holds no 1-D datasets to use as columns (the "
                        "column-per-dataset layout: one 1-D dataset per column)")
    lengths = {name: len(v) for name, v, _ in columns}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{n}: {k}" for n, k in lengths.items())
        raise DataError(f"{src}: the 1-D datasets of this {fmt} file have different lengths "
                        f"({shown}); a table needs columns of one length")
    n = next(iter(lengths.values()))
    if n == 0:
        raise DataError(f"{src}: no data rows (the {fmt} datasets are empty)")
    cells = {name: _column_cells(src, name, v, a) for name, v, a in columns}
    return Table(src, digest, tuple(cells), cells, np.arange(1, n + 1, dtype=np.int64), 0)


def _read_hdf5_table(p: Path, src: str, digest: str) -> Table:
    """An HDF5 (or NetCDF-4) file in the column-per-dataset layout; see the module docstring."""
    import h5py

    try:
        fh = h5py.File(p, "r")
    except OSError as exc:
        raise DataError(f"{src}: looks like an HDF5 file but cannot be opened ({exc}); export "
                        "the columns to CSV or write one 1-D dataset per column") from None
    with fh:
        group = fh
        members = [(k, v) for k, v in fh.items() if isinstance(v, h5py.Dataset)]
        subgroups = [v for v in fh.values() if isinstance(v, h5py.Group)]
        if not members and len(subgroups) == 1:
            group = subgroups[0]
            members = [(k, v) for k, v in group.items() if isinstance(v, h5py.Dataset)]
        columns = []
        for name, ds in members:
            if ds.ndim != 1:
                continue
            if _attr_text(ds.attrs.get("NAME", b"")).startswith(_NC_DIMENSION_ONLY):
                continue  # a NetCDF-4 dimension without a variable: not data
            if ds.dtype.names:  # a structured array: its fields are the columns
                arr = ds[()]
                columns += [(f, arr[f], {}) for f in ds.dtype.names]
                continue
            attrs = dict(ds.attrs)
            values = ds.asstr()[()] if h5py.check_string_dtype(ds.dtype) else ds[()]
            columns.append((name, values, attrs))
        names = [c[0] for c in columns]
        dup = next((c for c in names if names.count(c) > 1), None)
        if dup is not None:
            raise DataError(f"{src}: duplicate column name {dup!r}")
        where = f"group {group.name!r} of this HDF5" if group is not fh else "HDF5"
        return _columns_table(src, digest, columns, where)


def _read_netcdf3_table(p: Path, src: str, digest: str) -> Table:
    """A NetCDF-3 (classic) file: 1-D variables (and 2-D char arrays) of one dimension."""
    from scipy.io import netcdf_file

    try:
        fh = netcdf_file(p, "r", mmap=False)
    except Exception as exc:  # scipy raises several types for malformed files
        raise DataError(f"{src}: looks like a NetCDF file but cannot be read ({exc}); export "
                        "the columns to CSV") from None
    try:
        columns = []
        for name, var in fh.variables.items():
            data = np.array(var.data)
            attrs = dict(var._attributes)
            if data.ndim == 2 and data.dtype.kind == "S" and data.dtype.itemsize == 1:
                data = np.array([b"".join(row).rstrip(b"\0") for row in data])
            elif data.ndim != 1:
                continue
            columns.append((name, data, attrs))
        return _columns_table(src, digest, columns, "NetCDF")
    finally:
        fh.close()


def _as_table(path_or_table) -> Table:
    return path_or_table if isinstance(path_or_table, Table) else read_table(path_or_table)


def groups(path, column: str) -> dict:
    """Distinct values of ``column`` and how many rows have each (order of first appearance).

    Values are the cell texts as written.  ``path`` may also be a :class:`Table`.
    """
    table = _as_table(path)
    out: dict[str, int] = {}
    for v in table.column(column):
        out[v] = out.get(v, 0) + 1
    return out


# --------------------------------------------------------------------------------------------
# row filter: a whitelisted grammar, evaluated without eval
# --------------------------------------------------------------------------------------------

_FILTER_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<num>[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(?![A-Za-z0-9_.])
  | (?P<str>'[^'\n]*'|"[^"\n]*")
  | (?P<op>==|!=|<=|>=|<|>)
  | (?P<bq>`[^`\n]+`)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
""", re.VERBOSE)
_OPS = {
    "==": np.equal, "!=": np.not_equal, "<": np.less, "<=": np.less_equal,
    ">": np.greater, ">=": np.greater_equal,
}
_RESERVED = ("or", "not", "in", "is", "if", "else", "lambda", "import")


@dataclass(frozen=True)
class _Operand:
    kind: str  # "column", "number", "string"
    value: Any

    def __str__(self):
        return repr(self.value) if self.kind != "number" else f"{self.value:g}"


@dataclass(frozen=True)
class Filter:
    """A parsed row filter: comparisons joined by ``and``; see :func:`parse_filter`."""

    text: str
    comparisons: tuple  # of (left _Operand, op str, right _Operand)

    @property
    def columns(self) -> tuple:
        """Column names the filter reads, in order of appearance."""
        names = [o.value for c in self.comparisons for o in (c[0], c[2]) if o.kind == "column"]
        return tuple(dict.fromkeys(names))

    def mask(self, table: Table, rows=None) -> np.ndarray:
        """Boolean mask over ``rows`` (default all) of the rows that pass.

        Empty or NaN cells compare false with everything (including ``!=``).
        """
        rows = np.arange(table.n_rows) if rows is None else np.asarray(rows, dtype=np.int64)
        keep = np.ones(rows.size, dtype=bool)
        ctx = f" (needed by filter {self.text!r})"
        for left, op, right in self.comparisons:
            for o in (left, right):
                if o.kind == "column":
                    table.require(o.value, role=f"filter {self.text!r}")
            textual = "string" in (left.kind, right.kind)
            if textual:
                if op not in ("==", "!="):
                    raise DataError(f"{table.source}: filter {self.text!r}: text can only be "
                                    f"compared with == or !=, not {op!r}")
                a, b = (np.array([table.cells[o.value][r] for r in rows], dtype=object)
                        if o.kind == "column" else o.value for o in (left, right))
                res = (a == b) if op == "==" else (a != b)
                keep &= np.asarray(res, dtype=bool)
                continue
            hint = (ctx + "; quote the value to compare text, e.g. col == 'abc'")
            a, b = (table.numeric(o.value, rows, missing_ok=True, context=hint)
                    if o.kind == "column" else o.value for o in (left, right))
            with np.errstate(invalid="ignore"):
                res = _OPS[op](a, b) & ~np.isnan(a) & ~np.isnan(b)
            keep &= res
        return keep


def parse_filter(text: str) -> Filter:
    """Parse a row filter such as ``"fit_ok == 1"`` or ``"flag == 0 and temperature_K < 0.02"``.

    Grammar (nothing else is accepted, nothing is evaluated)::

        filter     := comparison ("and" comparison)*
        comparison := operand op operand        (not two constants)
        op         := == | != | < | <= | > | >=
        operand    := column | number | 'text' | "text"
        column     := identifier, or `any name` in backquotes

    Raises
    ------
    DataError
        On any other token (parentheses, calls, attribute access, ``or``...), with the
        position.
    """
    if not isinstance(text, str):
        raise DataError(f"filter must be a string, got {text!r}")
    tokens = []
    i = 0
    while i < len(text):
        m = _FILTER_TOKEN.match(text, i)
        if m is None:
            raise DataError(f"filter {text!r}: unexpected {text[i]!r} at position {i + 1} "
                            "(allowed: column names, numbers, quoted text, == != < <= > >=, "
                            "and)")
        i = m.end()
        kind = m.lastgroup
        tok = m.group(kind)
        if kind == "space":
            continue
        if kind == "name" and tok == "and":
            tokens.append(("and", tok, m.start()))
        elif kind == "name" and tok in _RESERVED:
            raise DataError(f"filter {text!r}: {tok!r} is not supported (only comparisons "
                            "joined by 'and')")
        elif kind == "name":
            tokens.append(("operand", _Operand("column", tok), m.start()))
        elif kind == "bq":
            tokens.append(("operand", _Operand("column", tok[1:-1]), m.start()))
        elif kind == "num":
            tokens.append(("operand", _Operand("number", float(tok)), m.start()))
        elif kind == "str":
            tokens.append(("operand", _Operand("string", tok[1:-1]), m.start()))
        else:
            tokens.append(("op", tok, m.start()))
    if not tokens:
        raise DataError("filter is empty")

    comparisons = []
    k = 0

    def expect(what):
        nonlocal k
        if k >= len(tokens):
            raise DataError(f"filter {text!r}: ends where {what} was expected")
        kind, val, at = tokens[k]
        if kind != what:
            shown = val if isinstance(val, str) else str(val)
            raise DataError(f"filter {text!r}: expected {what} at position {at + 1}, "
                            f"found {shown!r}"
                            + ("; chain comparisons with 'and'" if kind == "op" else ""))
        k += 1
        return val, at

    while True:
        left, at = expect("operand")
        op, _ = expect("op")
        right, _ = expect("operand")
        if left.kind != "column" and right.kind != "column":
            raise DataError(f"filter {text!r}: comparison at position {at + 1} compares two "
                            "constants; one side must be a column")
        comparisons.append((left, op, right))
        if k == len(tokens):
            break
        expect("and")
    return Filter(text, tuple(comparisons))


# --------------------------------------------------------------------------------------------
# x, y, sigma
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class XYData:
    """One curve in SI units, sorted by ``x``, with its provenance.

    Attributes
    ----------
    x, y : ndarray, shape (n,)
        Abscissa and observable in SI (``x_unit``/``y_unit``); read-only.
    sigma : ndarray, shape (n,), or None
        Standard deviation of ``y`` (same unit), or ``None`` if no sigma column was given.
    n_rows_read, n_rows_used : int
        Data rows in the file, and rows kept after group/filter/window.
    source : str
        Path of the file as given.
    sha256 : str
        SHA-256 of the file bytes.
    columns : dict
        ``{"x": name, "y": name, "sigma": name or None}``.
    x_kind, y_kind : str
        What x and y hold (``Qi`` data come out as ``inverse_q``).
    notes : tuple of str
        What was done to the data (selection counts, conversion, sorting, warnings).
    units : dict
        Declared units ``{"x": ..., "y": ..., "sigma": ...}`` before conversion.
    x_unit, y_unit : str
        SI units of ``x`` and ``y``.
    lines : ndarray of int, shape (n,)
        Line in the file of each point (same order as ``x``).
    """

    x: np.ndarray
    y: np.ndarray
    sigma: np.ndarray | None
    n_rows_read: int
    n_rows_used: int
    source: str
    sha256: str
    columns: dict
    x_kind: str
    y_kind: str
    notes: tuple = ()
    units: dict = field(default_factory=dict)
    x_unit: str = ""
    y_unit: str = ""
    lines: np.ndarray | None = None

    @property
    def n(self) -> int:
        return int(self.x.size)


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _number(value, what: str, src: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value):
        raise DataError(f"{src}: {what} must be a finite number, got {value!r}")
    return float(value)


def load_xy(path, x, y, sigma=None, filter=None, window=None, group=None) -> XYData:
    """Load one curve ``y(x)`` from a table, select rows, validate, convert to SI.

    Parameters
    ----------
    path : str, Path or Table
        CSV file (see :func:`read_table`) or an already read :class:`Table`.
    x, y : Mapping or str
        Column specs ``{"column": ..., "unit": ..., "kind": ...}`` (see the module docstring)
        or bare column names.
    sigma : Mapping or str, optional
        Column of standard deviations of ``y``.
    filter : str, optional
        Row filter, e.g. ``"fit_ok == 1"`` (see :func:`parse_filter`).
    window : Mapping, optional
        ``{"min": v, "max": v}`` (either optional), inclusive, in the declared unit of ``x``.
    group : Mapping, optional
        ``{"column": name, "value": v}``: keep the rows whose cell equals ``v`` (text
        compared as text, numbers numerically).

    Returns
    -------
    XYData

    Raises
    ------
    DataError
        See the module docstring; messages name the file, the column and the first
        offending line.

    Warns
    -----
    DataWarning
        Temperatures above 20 K in a ``K`` column (probably mK).
    """
    table = _as_table(path)
    src = table.source
    # a missing column is the more basic mistake: report it before any unit problem
    for spec, role in ((x, "x"), (y, "y"), (sigma, "sigma")):
        name = spec if isinstance(spec, str) else (
            spec.get("column") if isinstance(spec, Mapping) else None)
        if isinstance(name, str) and name:
            table.require(name, role)
    try:
        xs = resolve_spec(x, "x")
        ys = resolve_spec(y, "y")
        ss = resolve_spec(sigma, "sigma", parent=ys) if sigma is not None else None
        flt = parse_filter(filter) if filter is not None else None
    except DataError as exc:
        raise DataError(f"{src}: {exc}") from None
    if xs.column == ys.column:
        raise DataError(f"{src}: x and y are the same column {xs.column!r}")

    notes = []
    rows = np.arange(table.n_rows)

    if group is not None:
        if not isinstance(group, Mapping):
            raise DataError(f"{src}: group must be a table {{column, value}}, got {group!r}")
        for key in group:
            if key not in _GROUP_KEYS:
                raise DataError(f"{src}: group: unknown key {key!r} (allowed: "
                                f"{', '.join(_GROUP_KEYS)})" + _did_you_mean(key, _GROUP_KEYS))
        gcol, gval = group.get("column"), group.get("value")
        if not isinstance(gcol, str) or "value" not in group:
            raise DataError(f"{src}: group needs 'column' (a name) and 'value'")
        table.require(gcol, "group")
        if isinstance(gval, str):
            sel = np.array([table.cells[gcol][r] == gval for r in rows], dtype=bool)
        elif isinstance(gval, (int, float)) and not isinstance(gval, bool):
            vals = table.numeric(gcol, rows, missing_ok=True,
                                 context=f" (group value {gval!r} is a number; quote it to "
                                         "compare text)")
            sel = vals == float(gval)
        else:
            raise DataError(f"{src}: group value must be text or a number, got {gval!r}")
        if not sel.any():
            known = groups(table, gcol)
            shown = ", ".join(repr(v) for v in list(known)[:20])
            raise DataError(f"{src}, column {gcol!r}: no row has the group value {gval!r}"
                            f"{_did_you_mean(gval, known)}; values are: {shown}")
        rows = rows[sel]
        notes.append(f"group {gcol} = {gval!r}: {rows.size} of {table.n_rows} rows")

    if flt is not None:
        n_before = rows.size
        rows = rows[flt.mask(table, rows)]
        notes.append(f"filter {flt.text!r}: kept {rows.size} of {n_before} rows")

    def too_few(stage):
        if rows.size < 2:
            raise DataError(f"{src}: only {rows.size} row(s) left after {stage} "
                            f"({table.n_rows} rows read); need at least 2 points")

    too_few("group/filter" if (group is not None or flt is not None) else "reading")
    xv = table.numeric(xs.column, rows)

    if window is not None:
        if not isinstance(window, Mapping):
            raise DataError(f"{src}: window must be a table {{min, max}}, got {window!r}")
        for key in window:
            if key not in _WINDOW_KEYS:
                raise DataError(f"{src}: window: unknown key {key!r} (allowed: min, max)"
                                + _did_you_mean(key, _WINDOW_KEYS))
        lo = _number(window["min"], "window min", src) if "min" in window else -math.inf
        hi = _number(window["max"], "window max", src) if "max" in window else math.inf
        if not lo <= hi:
            raise DataError(f"{src}: window min ({lo:g}) is above max ({hi:g})")
        inside = (xv >= lo) & (xv <= hi)
        n_before = rows.size
        rows, xv = rows[inside], xv[inside]
        notes.append(f"window {xs.column} in [{lo:g}, {hi:g}] {xs.unit or '(dimensionless)'}: "
                     f"kept {rows.size} of {n_before} rows")
        too_few("the window")

    yv = table.numeric(ys.column, rows)
    sv = table.numeric(ss.column, rows) if ss is not None else None

    # physical validity, in the declared units (signs do not change on conversion)
    for vals, spec, role in ((xv, xs, "x"), (yv, ys, "y")):
        if spec.kind in _POSITIVE_KINDS and spec.unit not in _LOG_UNITS:
            bad = ~(vals > 0)
            if bad.any():
                r = rows[_first(bad)]
                what = {"temperature": "non-positive temperature",
                        "Qi": "non-positive Qi"}.get(spec.kind, f"non-positive {spec.kind}")
                raise DataError(f"{src}, line {table.lines[r]}, column {spec.column!r}: "
                                f"{what} {table.cells[spec.column][r]!r} ({role}); "
                                "exclude the row with a filter if it is a bad fit")
    if sv is not None:
        bad = ~(sv > 0)
        if bad.any():
            r = rows[_first(bad)]
            raise DataError(f"{src}, line {table.lines[r]}, column {ss.column!r}: "
                            f"sigma must be > 0, got {table.cells[ss.column][r]!r}")

    xsi = _to_si(xv, xs.unit)
    ysi = _to_si(yv, ys.unit)
    ssi = _to_si(sv, ss.unit) if sv is not None else None
    y_kind = ys.kind
    if ys.kind == "Qi":
        if ssi is not None:
            ssi = ssi / (ysi * ysi)
        ysi = 1.0 / ysi
        y_kind = "inverse_q"
        notes.append("y converted from Qi to 1/Qi" + (", sigma to sigma_Qi/Qi^2"
                                                       if ssi is not None else ""))
    for spec, si_unit, role in ((xs, X_KINDS[xs.kind], "x"), (ys, Y_KINDS[ys.kind], "y")):
        if spec.unit != si_unit:
            notes.append(f"{role} converted from {spec.unit} to {si_unit}")

    for vals, spec in ((xsi, xs), (ysi, ys)) + (((ssi, ss),) if ssi is not None else ()):
        bad = ~np.isfinite(vals)
        if bad.any():  # overflow on conversion, e.g. 1e400 dBm
            r = rows[_first(bad)]
            raise DataError(f"{src}, line {table.lines[r]}, column {spec.column!r}: value "
                            f"{table.cells[spec.column][r]!r} overflows on conversion to SI")

    # duplicates: the same (x, y) twice is a copy, not a repeated measurement
    order = np.lexsort((ysi, xsi))
    same = (np.diff(xsi[order]) == 0) & (np.diff(ysi[order]) == 0)
    if same.any():
        k = _first(same)
        a, b = sorted((table.lines[rows[order[k]]], table.lines[rows[order[k + 1]]]))
        raise DataError(f"{src}, line {b}, columns {xs.column!r}/{ys.column!r}: duplicate of "
                        f"line {a} (same x and y); remove one of them, or select one curve with "
                        "a filter or group if the table mixes several")

    if xs.kind == "temperature" and xs.unit == "K" and np.max(xv) > _MK_SUSPICION_K:
        r = rows[int(np.argmax(xv))]
        msg = (f"{src}, line {table.lines[r]}, column {xs.column!r}: temperature "
               f"{xv.max():g} K is above {_MK_SUSPICION_K:g} K; are these mK in a K column? "
               "(declare unit = \"mK\" if so)")
        warnings.warn(msg, DataWarning, stacklevel=2)
        notes.append("warning: " + msg)

    lines = table.lines[rows]
    if np.any(np.diff(xsi) < 0):
        srt = np.argsort(xsi, kind="stable")
        xsi, ysi, lines = xsi[srt], ysi[srt], lines[srt]
        ssi = ssi[srt] if ssi is not None else None
        notes.append("rows sorted by x (the file is not in increasing x)")

    arrays = [np.ascontiguousarray(a, dtype=np.float64) for a in (xsi, ysi)]
    if ssi is not None:
        arrays.append(np.ascontiguousarray(ssi, dtype=np.float64))
    for a in arrays:
        a.setflags(write=False)
    lines = np.ascontiguousarray(lines)
    lines.setflags(write=False)
    return XYData(
        x=arrays[0], y=arrays[1], sigma=arrays[2] if ssi is not None else None,
        n_rows_read=table.n_rows, n_rows_used=int(rows.size), source=src,
        sha256=table.sha256,
        columns={"x": xs.column, "y": ys.column, "sigma": ss.column if ss else None},
        x_kind=xs.kind, y_kind=y_kind, notes=tuple(notes),
        units={"x": xs.unit, "y": ys.unit, "sigma": ss.unit if ss else None},
        x_unit=X_KINDS[xs.kind], y_unit=Y_KINDS[y_kind], lines=lines,
    )
