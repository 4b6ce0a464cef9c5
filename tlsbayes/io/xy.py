"""One curve y(x) from a table: select rows, validate, convert to SI (:func:`load_xy`)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from ..errors import DataError
from .filters import parse_filter
from .suggest import did_you_mean
from .tables import Table, as_table, groups
from .units import LOG_UNITS, X_KINDS, Y_KINDS, ColumnSpec, resolve_spec, to_si

__all__ = ["DataWarning", "XYData", "load_xy"]

# kinds whose values must be > 0 (a fractional shift may have any sign)
_POSITIVE_KINDS = ("temperature", "frequency", "power", "field", "photon_number", "Qi",
                   "inverse_q", "damping_rate")
_WINDOW_KEYS = ("min", "max")
_GROUP_KEYS = ("column", "value")
_MK_SUSPICION_K = 20.0  # a "K" column whose maximum exceeds this probably holds mK


class DataWarning(UserWarning):
    """Suspicious but usable data (e.g. temperatures that look like mK in a K column)."""


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
        CSV file (see :func:`~tlsbayes.io.read_table`) or an already read
        :class:`~tlsbayes.io.Table`.
    x, y : Mapping or str
        Column specs ``{"column": ..., "unit": ..., "kind": ...}`` (see :mod:`tlsbayes.io`)
        or bare column names.
    sigma : Mapping or str, optional
        Column of standard deviations of ``y``.
    filter : str, optional
        Row filter, e.g. ``"fit_ok == 1"`` (see :func:`~tlsbayes.io.parse_filter`).
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
        See :mod:`tlsbayes.io`; messages name the file, the column and the first
        offending line.

    Warns
    -----
    DataWarning
        Temperatures above 20 K in a ``K`` column (probably mK).
    """
    table = as_table(path)
    xs, ys, ss, flt = _specs(table, x, y, sigma, filter)
    notes = []
    rows = np.arange(table.n_rows)
    if group is not None:
        rows = _select_group(table, rows, group, notes)
    if flt is not None:
        n_before = rows.size
        rows = rows[flt.mask(table, rows)]
        notes.append(f"filter {flt.text!r}: kept {rows.size} of {n_before} rows")
    _need_two(table, rows, "group/filter" if (group is not None or flt is not None)
              else "reading")
    xv = table.numeric(xs.column, rows)
    if window is not None:
        rows, xv = _select_window(table, rows, xv, xs, window, notes)
        _need_two(table, rows, "the window")
    yv = table.numeric(ys.column, rows)
    sv = table.numeric(ss.column, rows) if ss is not None else None
    _check_positive(table, rows, xv, xs, yv, ys, sv, ss)
    xsi, ysi, ssi, y_kind = _convert(table, rows, xv, xs, yv, ys, sv, ss, notes)
    _check_magnitudes(table, rows, (xsi, xs, "x"), (ysi, ys, "y"), (ssi, ss, "sigma"))
    _check_duplicates(table, rows, xsi, xs, ysi, ys)
    if xs.kind == "temperature" and xs.unit == "K" and np.max(xv) > _MK_SUSPICION_K:
        r = rows[int(np.argmax(xv))]
        msg = (f"{table.source}, line {table.lines[r]}, column {xs.column!r}: temperature "
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
    return _xydata(table, rows, lines, (xsi, ysi, ssi), (xs, ys, ss), y_kind, notes)


def _specs(table: Table, x, y, sigma, filter) -> tuple:
    """Resolved ``(x, y, sigma or None, Filter or None)``; a missing column is reported first."""
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
    return xs, ys, ss, flt


def _need_two(table: Table, rows: np.ndarray, stage: str) -> None:
    if rows.size < 2:
        raise DataError(f"{table.source}: only {rows.size} row(s) left after {stage} "
                        f"({table.n_rows} rows read); need at least 2 points")


def _select_group(table: Table, rows: np.ndarray, group, notes: list) -> np.ndarray:
    """The rows whose ``group["column"]`` cell equals ``group["value"]``."""
    src = table.source
    if not isinstance(group, Mapping):
        raise DataError(f"{src}: group must be a table {{column, value}}, got {group!r}")
    for key in group:
        if key not in _GROUP_KEYS:
            raise DataError(f"{src}: group: unknown key {key!r} (allowed: "
                            f"{', '.join(_GROUP_KEYS)})" + did_you_mean(key, _GROUP_KEYS))
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
                        f"{did_you_mean(gval, known)}; values are: {shown}")
    rows = rows[sel]
    notes.append(f"group {gcol} = {gval!r}: {rows.size} of {table.n_rows} rows")
    return rows


def _select_window(table: Table, rows, xv, xs: ColumnSpec, window, notes: list) -> tuple:
    """``(rows, xv)`` with ``x`` inside the window (inclusive, declared unit of x)."""
    src = table.source
    if not isinstance(window, Mapping):
        raise DataError(f"{src}: window must be a table {{min, max}}, got {window!r}")
    for key in window:
        if key not in _WINDOW_KEYS:
            raise DataError(f"{src}: window: unknown key {key!r} (allowed: min, max)"
                            + did_you_mean(key, _WINDOW_KEYS))
    lo = _number(window["min"], "window min", src) if "min" in window else -math.inf
    hi = _number(window["max"], "window max", src) if "max" in window else math.inf
    if not lo <= hi:
        raise DataError(f"{src}: window min ({lo:g}) is above max ({hi:g})")
    inside = (xv >= lo) & (xv <= hi)
    n_before = rows.size
    rows, xv = rows[inside], xv[inside]
    notes.append(f"window {xs.column} in [{lo:g}, {hi:g}] {xs.unit or '(dimensionless)'}: "
                 f"kept {rows.size} of {n_before} rows")
    return rows, xv


def _check_positive(table: Table, rows, xv, xs, yv, ys, sv, ss) -> None:
    """Physical validity, in the declared units (signs do not change on conversion)."""
    src = table.source
    for vals, spec, role in ((xv, xs, "x"), (yv, ys, "y")):
        if spec.kind in _POSITIVE_KINDS and spec.unit not in LOG_UNITS:
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


def _convert(table: Table, rows, xv, xs, yv, ys, sv, ss, notes: list) -> tuple:
    """``(x, y, sigma or None, y kind)`` in SI; Qi becomes 1/Qi.  Overflow is an error."""
    xsi = to_si(xv, xs.unit)
    ysi = to_si(yv, ys.unit)
    ssi = to_si(sv, ss.unit) if sv is not None else None
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
            raise DataError(f"{table.source}, line {table.lines[r]}, column {spec.column!r}: "
                            f"value {table.cells[spec.column][r]!r} overflows on conversion "
                            "to SI")
    return xsi, ysi, ssi, y_kind


#: Largest magnitude of x, y or sigma (SI) and smallest sigma: their squares (the likelihood's
#: residual / sigma squared) stay finite and normal in double precision.
SI_MAGNITUDE_MAX = 1e150
SIGMA_MIN = 1e-150


def _check_magnitudes(table: Table, rows, *columns) -> None:
    """Refuse values whose squares overflow or underflow (sigma = 1e-320, y = 1e305) before
    the likelihood is evaluated, naming the column and line; ``columns`` are
    ``(values or None, spec, role)``."""
    for vals, spec, role in columns:
        if vals is None:
            continue
        problems = [(np.abs(vals) > SI_MAGNITUDE_MAX,
                     f"|{role}| is above {SI_MAGNITUDE_MAX:g} (SI)")]
        if role == "sigma":
            problems.append((vals < SIGMA_MIN, f"sigma is below {SIGMA_MIN:g} (SI)"))
        for bad, what in problems:
            if bad.any():
                i = _first(bad)
                raise DataError(f"{table.source}, line {table.lines[rows[i]]}, column "
                                f"{spec.column!r}: {what}: {vals[i]:.3g}, whose square is not a "
                                "normal double; check the column's unit")


def _check_duplicates(table: Table, rows, xsi, xs, ysi, ys) -> None:
    """The same (x, y) twice is a copy, not a repeated measurement."""
    order = np.lexsort((ysi, xsi))
    same = (np.diff(xsi[order]) == 0) & (np.diff(ysi[order]) == 0)
    if same.any():
        k = _first(same)
        a, b = sorted((table.lines[rows[order[k]]], table.lines[rows[order[k + 1]]]))
        raise DataError(f"{table.source}, line {b}, columns {xs.column!r}/{ys.column!r}: "
                        f"duplicate of line {a} (same x and y); remove one of them, or select "
                        "one curve with a filter or group if the table mixes several")


def _xydata(table: Table, rows, lines, values: tuple, specs: tuple, y_kind: str,
            notes: list) -> XYData:
    """Read-only contiguous arrays wrapped in :class:`XYData`."""
    xsi, ysi, ssi = values
    xs, ys, ss = specs
    arrays = [np.ascontiguousarray(a, dtype=np.float64) for a in (xsi, ysi)]
    if ssi is not None:
        arrays.append(np.ascontiguousarray(ssi, dtype=np.float64))
    for a in arrays:
        a.setflags(write=False)
    lines = np.ascontiguousarray(lines)
    lines.setflags(write=False)
    return XYData(
        x=arrays[0], y=arrays[1], sigma=arrays[2] if ssi is not None else None,
        n_rows_read=table.n_rows, n_rows_used=int(rows.size), source=table.source,
        sha256=table.sha256,
        columns={"x": xs.column, "y": ys.column, "sigma": ss.column if ss else None},
        x_kind=xs.kind, y_kind=y_kind, notes=tuple(notes),
        units={"x": xs.unit, "y": ys.unit, "sigma": ss.unit if ss else None},
        x_unit=X_KINDS[xs.kind], y_unit=Y_KINDS[y_kind], lines=lines,
    )
