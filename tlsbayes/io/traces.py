"""The output of ``tlsbayes s21`` as the data of a card: a traces table and its posteriors.

A card's ``[dataset.data] file`` may name

* a traces table (``DIR/traces.csv`` written by ``tlsbayes s21 ... --out DIR``),
* the output folder ``DIR`` itself (it holds ``traces.csv``), or
* a folder of raw trace files: ``tlsbayes fit`` then runs ``tlsbayes s21`` on it first, into
  :func:`s21_cache_dir` (resumable: a rerun reuses every trace already fitted).

The card's ``x``/``y`` columns pick the curve as for any table (``power_dBm`` or
``temperature_K``; ``Qi`` or ``f_res_Hz``), ``filter``/``window``/``group`` select rows, and
only traces whose ``status`` is in ``status`` (default ``["ok"]``) are used; the others are
listed in the notes (file, status, reason).  Each used row's posterior NetCDF (column
``posterior`` of the table, relative to its folder) supplies the draws of ``Qi`` (as 1/Q_i)
or ``f_res_Hz``: the measurement is that posterior, not the median.  A temperature column
``T = {column = "temperature_K"}`` gives every point its own model temperature (Q_i over a
power x temperature grid fitted as one data set).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..errors import DataError
from .tables import Table, read_table
from .units import resolve_spec, to_si
from .xy import XYData, load_xy

__all__ = ["TRACES_TABLE", "POSTERIOR_COLUMN", "DEFAULT_STATUS", "STATUSES", "DRAWN_COLUMNS",
           "TraceData", "traces_table", "is_raw_trace_folder", "s21_cache_dir", "load_traces",
           "point_values"]

#: File name of the table ``tlsbayes s21`` writes in its output folder.
TRACES_TABLE = "traces.csv"
#: Column of the traces table naming each trace's posterior NetCDF (relative to the table).
POSTERIOR_COLUMN = "posterior"
STATUSES = ("ok", "flagged", "failed")
DEFAULT_STATUS = ("ok",)
#: y columns with per-trace draws: column -> NetCDF variable.  Both are uniform a priori in
#: the SI value of y (1/Q_i and f_r are sampled with flat priors).
DRAWN_COLUMNS = {"Qi": "Qi", "f_res_Hz": "f_res_Hz"}
_CACHE_ENV = "TLSBAYES_S21_CACHE"
_DEFAULT_CACHE = Path("results") / "s21-cache"


@dataclass(frozen=True, eq=False)
class TraceData:
    """One curve from a traces table, with each point's posterior draws.

    Attributes
    ----------
    xy : XYData
        Medians of the used traces (``sigma`` None), sorted by ``x``.
    draws : list of ndarray
        Draws of ``y`` in SI (1/Q_i or f_res in Hz), one array per point, in ``xy`` order.
    labels : list of str
        ``file`` (and ``#trace`` if the file holds several) of each point.
    point_T : ndarray, shape (n,), or None
        Temperature of each point [K] when a ``T`` column was given.
    excluded : tuple of (str, str, str)
        ``(file, status, reason)`` of the traces left out by their status.
    """

    xy: XYData
    draws: list
    labels: list
    point_T: np.ndarray | None
    excluded: tuple


def traces_table(path) -> Path | None:
    """The traces table named by ``path`` (the file, or ``path/traces.csv``), else None."""
    p = Path(path)
    if p.is_file():
        return p
    if p.is_dir() and (p / TRACES_TABLE).is_file():
        return p / TRACES_TABLE
    return None


def is_raw_trace_folder(path) -> bool:
    """A folder without a traces table: raw traces that ``tlsbayes s21`` must fit first."""
    return Path(path).is_dir() and traces_table(path) is None


def s21_cache_dir(folder) -> Path:
    """Where ``tlsbayes fit`` keeps the ``tlsbayes s21`` output of a raw trace folder.

    ``$TLSBAYES_S21_CACHE`` (default ``results/s21-cache``) ``/<folder name>-<hash of its
    absolute path>``.
    """
    p = Path(folder).resolve()
    root = Path(os.environ.get(_CACHE_ENV) or _DEFAULT_CACHE)
    safe = re.sub(r"[^A-Za-z0-9_.+-]", "_", p.name)[:60] or "traces"
    return root / f"{safe}-{hashlib.sha1(str(p).encode()).hexdigest()[:10]}"


def _resolve(path, cache) -> Path:
    table = traces_table(path)
    if table is None and cache is not None:
        table = traces_table(cache)
    if table is not None:
        return table
    if Path(path).is_dir():
        raise DataError(f"{path}: a folder of raw traces without {TRACES_TABLE}; run "
                        f"'tlsbayes s21 {path} --out DIR' and name DIR in the card, or let "
                        "'tlsbayes fit' fit the traces first")
    raise DataError(f"{path}: no such traces table or folder")


def _status_rows(table: Table, status) -> tuple:
    """``(kept table, excluded)``: only the rows whose status is in ``status``."""
    for col in ("status", "file"):
        table.require(col, "traces table")
    cells = table.cells["status"]
    keep = np.array([c in status for c in cells], dtype=bool)
    reasons = table.cells.get("reason", ("",) * table.n_rows)
    excluded = tuple((table.cells["file"][r], cells[r], reasons[r])
                     for r in np.flatnonzero(~keep))
    if not keep.any():
        raise DataError(f"{table.source}: no trace has status {' or '.join(status)} "
                        f"({table.n_rows} traces: {', '.join(sorted(set(cells)))})")
    sub = replace(table, cells={c: tuple(v[r] for r in np.flatnonzero(keep))
                                for c, v in table.cells.items()},
                  lines=table.lines[keep])
    return sub, excluded


def point_values(table: Table, lines, T) -> np.ndarray:
    """Temperature [K] of each point of a curve, from column spec ``T``.

    Parameters
    ----------
    table : Table
    lines : ndarray of int
        File line of each point (:attr:`XYData.lines`, so in the curve's order).
    T : mapping or str
        Column spec (``{"column": "temperature_K"}``; unit from the name or ``unit``).
    """
    try:
        spec = resolve_spec(T if not isinstance(T, str) else {"column": T}, "x")
    except DataError as exc:
        raise DataError(f"{table.source}: T: {exc}") from None
    if spec.kind != "temperature":
        raise DataError(f"{table.source}: T column {spec.column!r} holds {spec.kind}, not a "
                        "temperature")
    row_of = {int(line): r for r, line in enumerate(table.lines)}
    values = to_si(table.numeric(spec.column, [row_of[int(v)] for v in lines]), spec.unit)
    if not np.all(values > 0):
        raise DataError(f"{table.source}, column {spec.column!r}: temperatures must be > 0")
    return values


def _inside_folder(src: Path, rel: str, line: int) -> Path:
    """The posterior NetCDF a traces table names (column ``posterior``), which must lie in
    the table's own folder (links resolved): a table cannot make tlsbayes read elsewhere."""
    folder = Path(os.path.realpath(src.parent))
    target = Path(os.path.realpath(src.parent / rel))
    if folder not in target.parents:
        raise DataError(f"{src}, line {line}, column {POSTERIOR_COLUMN!r}: names a file outside "
                        "the traces table's folder; a traces table reads only its own folder "
                        "(as 'tlsbayes s21' writes it)")
    return src.parent / rel


def _nc_by_file(folder: Path) -> dict:
    """``(file, trace) -> NetCDF`` from the attributes of every posterior (old tables
    without a ``posterior`` column)."""
    import xarray as xr

    out = {}
    for nc in sorted((folder / "posteriors").glob("*.nc")):
        with xr.open_dataset(nc) as ds:
            row = json.loads(ds.attrs.get("row", "{}"))
            out[(str(ds.attrs.get("file")), int(row.get("trace", 0)))] = nc
    return out


def _read_draws(nc: Path, var: str, where: str) -> np.ndarray:
    import xarray as xr

    try:
        with xr.open_dataset(nc) as ds:
            if var not in ds:
                raise DataError(f"{where}: posterior {nc} has no draws of {var!r} (was the "
                                "trace sampled?)")
            return np.asarray(ds[var].values, dtype=float).reshape(-1)
    except (OSError, ValueError) as exc:
        raise DataError(f"{where}: cannot read posterior {nc}: {exc}") from None


def load_traces(path, *, x, y, filter=None, window=None, group=None, T=None,
                status=DEFAULT_STATUS, cache=None) -> TraceData:
    """Load one curve and each point's posterior draws from a traces table (module docstring).

    Parameters
    ----------
    path : path-like
        Traces table or ``tlsbayes s21`` output folder (or a raw folder whose output is in
        ``cache``).
    x, y, filter, window, group
        As for :func:`tlsbayes.io.load_xy`; ``y`` must be ``Qi`` or ``f_res_Hz``.
    T : mapping or str, optional
        Column of each trace's temperature (``{"column": "temperature_K"}``).
    status : sequence of str
        Statuses of the traces to use (``ok``, ``flagged``).
    cache : path-like, optional
        The ``tlsbayes s21`` output folder of a raw trace folder ``path``.

    Raises
    ------
    DataError
        No table, an unknown status, a y column without draws, a missing posterior (one line
        naming the file).
    """
    status = tuple(status)
    bad = [s for s in status if s not in STATUSES[:2]]
    if bad or not status:
        raise DataError(f"{path}: status {bad or list(status)!r}: choose among ok, flagged")
    src = _resolve(path, cache)
    table, excluded = _status_rows(read_table(src), status)
    xy = load_xy(table, x=x, y=y, filter=filter, window=window, group=group)
    ycol = xy.columns["y"]
    if ycol not in DRAWN_COLUMNS:
        raise DataError(f"{src}: y column {ycol!r} has no per-trace draws (use one of "
                        f"{', '.join(DRAWN_COLUMNS)})")
    row_of = {int(line): r for r, line in enumerate(table.lines)}
    rows = np.array([row_of[int(line)] for line in xy.lines], dtype=np.int64)
    files = [table.cells["file"][r] for r in rows]
    traces = (table.numeric("trace", rows) if "trace" in table.cells
              else np.zeros(rows.size)).astype(int)
    labels = [f if t == 0 else f"{f}#{t}" for f, t in zip(files, traces)]
    by_file = None
    draws = []
    for r, f, t, lab in zip(rows, files, traces, labels):
        rel = table.cells.get(POSTERIOR_COLUMN, ("",) * table.n_rows)[r]
        if rel:
            nc = _inside_folder(src, rel, table.lines[r])
        else:
            by_file = _nc_by_file(src.parent) if by_file is None else by_file
            nc = by_file.get((f, int(t)))
        where = f"{src}, line {table.lines[r]} ({Path(f).name})"
        if nc is None or not Path(nc).is_file():
            raise DataError(f"{where}: its posterior NetCDF is missing ({nc or 'not found'})")
        d = _read_draws(Path(nc), DRAWN_COLUMNS[ycol], where)
        draws.append(1.0 / d if xy.y_kind == "inverse_q" else d)
    point_T = point_values(table, xy.lines, T) if T is not None else None
    notes = list(xy.notes) + [f"{len(draws)} traces with status {'/'.join(status)}"]
    if excluded:
        notes.append(f"{len(excluded)} traces left out: " + "; ".join(
            f"{Path(f).name} {s}" + (f" ({why})" if why else "") for f, s, why in excluded))
    return TraceData(replace(xy, notes=tuple(notes)), draws, labels, point_T, excluded)
