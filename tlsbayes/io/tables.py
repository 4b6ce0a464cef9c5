"""Tables as text cells: CSV with whole-line ``#`` comments, and HDF5/NetCDF column tables.

:func:`read_table` reads a file into a :class:`Table` of text cells that remembers the line of
the file each row came from, so that every error can point at the offending line.  See
:mod:`tlsbayes.io` for the formats and why pandas is not used to read CSV.
"""

from __future__ import annotations

import csv
import hashlib
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError
from .suggest import did_you_mean

__all__ = ["Table", "as_table", "file_problem", "groups", "read_table", "real_data_dir"]


def real_data_dir() -> Path:
    """Directory of the shared real measured data.

    ``$TLSBAYES_REAL_DATA`` if set, else ``shared/data/real`` next to the repository
    (``<repo>/../shared/data/real``).  The directory may not exist.
    """
    env = os.environ.get("TLSBAYES_REAL_DATA")
    if env:
        return Path(env)
    # this file is <repo>/tlsbayes/io/tables.py
    return Path(__file__).resolve().parents[3] / "shared" / "data" / "real"


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
                            f"{did_you_mean(column, self.columns)}; columns are: {shown}")

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




_NOT_REGULAR = (("S_ISDIR", "is a directory, not a data file"),
                ("S_ISFIFO", "is a FIFO (a named pipe such as /dev/stdin from a pipe), not a "
                             "data file; save the table to a file"),
                ("S_ISCHR", "is a character device, not a data file"),
                ("S_ISBLK", "is a block device, not a data file"),
                ("S_ISSOCK", "is a socket, not a data file"))


def file_problem(path) -> str | None:
    """Why ``path`` cannot be a data file (``"data file not found"``, ``"is a directory..."``,
    ``"is a FIFO..."``), or None for a regular file (or one whose status cannot be read: the
    read reports why).  A FIFO or device is refused before it is opened: reading one may
    block forever, and a table is read twice (its digest, then its rows)."""
    import stat

    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "data file not found"
    except OSError:
        return None
    for test, what in _NOT_REGULAR:
        if getattr(stat, test)(mode):
            return what
    return None


def read_table(path) -> Table:
    """Read a CSV table whose comment lines start with ``#`` (or an HDF5/NetCDF table).

    Comma-separated (tab-separated for ``.tsv``), first non-comment line is the header,
    blank lines and lines whose first non-blank character is ``#`` are skipped, fields may be
    double-quoted.  Cells are kept as text; see :meth:`Table.numeric`.  HDF5 and NetCDF
    files in the column-per-dataset layout are recognised by their first bytes and read as
    described in the :mod:`tlsbayes.io` docstring.

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
    problem = file_problem(p)
    if problem:
        raise DataError(f"{src}: {problem}")
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
    delimiter = "\t" if p.suffix.lower() == ".tsv" else ","
    return _records_table(src, digest, _csv_records(src, text, delimiter))


def _csv_records(src: str, text: str, delimiter: str) -> list:
    """``[(line, fields), ...]`` of the non-comment records of a CSV text (fields stripped)."""
    physical = text.splitlines(keepends=True)
    # (line number, text) of the lines the CSV parser sees
    content = [(i + 1, ln) for i, ln in enumerate(physical)
               if ln.strip() and not ln.lstrip().startswith("#")]
    if not content:
        raise DataError(f"{src}: no header line (the file holds only comments)")

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
    return records


def _records_table(src: str, digest: str, records: list) -> Table:
    """A :class:`Table` from CSV records: the first is the header, the rest the data rows."""
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


def _cf_number(src: str, name: str, attrs: Mapping, key: str, default=None):
    """The CF attribute ``key`` of a column as a 1-D float array (``default`` if absent).

    Raises :class:`DataError` naming the file, the column and the attribute (never its value)
    if it is not a number.
    """
    if key not in attrs:
        return default
    try:
        v = np.asarray(attrs[key])
        ok = v.dtype.kind in "biuf" and v.size >= 1
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise DataError(f"{src}, column {name!r}: attribute {key} must be a number (it is "
                        f"{_kind_of(attrs[key])}); fix or remove the attribute")
    return v.reshape(-1).astype(float)


def _kind_of(v) -> str:
    """What a value is, for a message that must not show the value itself."""
    if isinstance(v, (str, bytes)):
        return "text"
    dt = getattr(v, "dtype", None)
    if dt is not None:
        return f"of type {dt}" + (" (a record)" if dt.names else "")
    return f"a {type(v).__name__}"


def _column_cells(src: str, name: str, values: np.ndarray, attrs: Mapping) -> tuple:
    """Text cells of one column (decoded, CF missing values and scaling applied)."""
    values = np.asarray(values)
    if values.ndim != 1 or values.dtype.names:
        raise DataError(f"{src}, column {name!r}: holds {values.ndim}-D values of type "
                        f"{values.dtype} per row; a column needs one number or text per row")
    if values.dtype.kind == "O" and not all(isinstance(v, (str, bytes)) for v in values):
        raise DataError(f"{src}, column {name!r}: holds objects that are neither numbers nor "
                        "text (references or variable-length arrays); numbers or text only")
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
        for f in _cf_number(src, name, attrs, key, default=()):
            missing |= (values == f) | (np.isnan(values) & np.isnan(f)
                                        if values.dtype.kind == "f" else False)
    scale = _cf_number(src, name, attrs, "scale_factor")
    offset = _cf_number(src, name, attrs, "add_offset")
    if scale is not None or offset is not None:
        values = (values * (1.0 if scale is None else scale[0])
                  + (0.0 if offset is None else offset[0]))
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


def _hdf5_members(h5py, src: str, group) -> tuple:
    """``(datasets, subgroups)`` of an HDF5 group: ``[(name, dataset)]`` and ``[group]``.

    Only what is stored in this file is read: external links, datasets with external
    storage and virtual datasets (which map other files) are refused, and so are soft links
    that do not resolve (a loop or a missing target); each with one line naming the member.
    """
    datasets, subgroups = [], []
    for name in group:
        link = group.get(name, getlink=True)
        where = f"{src}: HDF5 member {group.name.rstrip('/')}/{name}"
        if isinstance(link, h5py.ExternalLink):
            raise DataError(f"{where} is an external link to another file; tlsbayes reads "
                            "only the file it is given (copy the data into it)")
        try:
            obj = group[name]
        except (KeyError, RuntimeError, OSError):
            raise DataError(f"{where} is a soft link that does not resolve (a loop or a "
                            "missing target)") from None
        if isinstance(obj, h5py.Dataset):
            if obj.external or obj.is_virtual:
                raise DataError(f"{where} keeps its values in other files (external storage "
                                "or a virtual dataset); tlsbayes reads only the file it is "
                                "given (copy the data into it)")
            datasets.append((name, obj))
        elif isinstance(obj, h5py.Group):
            subgroups.append(obj)
    return datasets, subgroups


def _hdf5_values(h5py, src: str, name: str, ds) -> np.ndarray:
    """The values of a 1-D HDF5 dataset (text decoded), or :class:`DataError`."""
    try:
        return ds.asstr()[()] if h5py.check_string_dtype(ds.dtype) else ds[()]
    except (OSError, ValueError, TypeError, RuntimeError) as exc:
        raise DataError(f"{src}, column {name!r}: cannot be read ({type(exc).__name__}; a "
                        "compression filter that is not installed, or a damaged file)") from None


def _hdf5_attrs(src: str, name: str, ds) -> dict:
    """The attributes of an HDF5 dataset, or :class:`DataError` if they cannot be read."""
    try:
        return dict(ds.attrs)
    except (OSError, ValueError, TypeError, RuntimeError) as exc:
        raise DataError(f"{src}, column {name!r}: its attributes cannot be read "
                        f"({type(exc).__name__}); remove the unusual attribute") from None


def _compound_columns(src: str, name: str, values: np.ndarray) -> list:
    """``[(field, values, {})]`` of a compound (structured) dataset: one column per field,
    each holding one number or text per row."""
    out = []
    for f in values.dtype.names:
        sub = values.dtype.fields[f][0]
        if sub.names or sub.shape:
            what = "a nested record" if sub.names else f"an array of shape {sub.shape}"
            raise DataError(f"{src}, variable {name!r}, field {f!r}: holds {what} per row; "
                            "a column needs one number or text per row")
        out.append((f, values[f], {}))
    return out


def _read_hdf5_table(p: Path, src: str, digest: str) -> Table:
    """An HDF5 (or NetCDF-4) file in the column-per-dataset layout; see :mod:`tlsbayes.io`."""
    import h5py

    try:
        fh = h5py.File(p, "r")
    except OSError as exc:
        raise DataError(f"{src}: looks like an HDF5 file but cannot be opened ({exc}); export "
                        "the columns to CSV or write one 1-D dataset per column") from None
    with fh:
        group = fh
        members, subgroups = _hdf5_members(h5py, src, fh)
        if not members and len(subgroups) == 1:
            group = subgroups[0]
            members, _ = _hdf5_members(h5py, src, group)
        columns = []
        for name, ds in members:
            if ds.ndim != 1:
                continue
            attrs = _hdf5_attrs(src, name, ds)
            if _attr_text(attrs.get("NAME", b"")).startswith(_NC_DIMENSION_ONLY):
                continue  # a NetCDF-4 dimension without a variable: not data
            if ds.dtype.names:  # a structured array: its fields are the columns
                columns += _compound_columns(src, name, _hdf5_values(h5py, src, name, ds))
                continue
            columns.append((name, _hdf5_values(h5py, src, name, ds), attrs))
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


def as_table(path_or_table) -> Table:
    """``path_or_table`` itself if it is a :class:`Table`, else :func:`read_table` of it."""
    return path_or_table if isinstance(path_or_table, Table) else read_table(path_or_table)


def groups(path, column: str, keep=None) -> dict:
    """Distinct values of ``column`` and how many rows have each (order of first appearance).

    Values are the cell texts as written.  ``path`` may also be a :class:`Table`; ``keep``
    (boolean, one per row), if given, counts only the rows it marks (e.g. those a card's
    filter passes).
    """
    table = as_table(path)
    cells = table.column(column)
    keep = np.ones(len(cells), dtype=bool) if keep is None else np.asarray(keep, dtype=bool)
    out: dict[str, int] = {}
    for v, k in zip(cells, keep):
        if k:
            out[v] = out.get(v, 0) + 1
    return out
