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
* ``label`` (optional text): what the column measures, for axes and reports (e.g.
  ``"VNA output power"``); it changes no value.

Row selection, in this order: ``group`` (one value of one column), ``filter`` (a tiny
whitelisted comparison grammar, see :func:`parse_filter`; never ``eval``), ``window``
(inclusive ``{"min": v, "max": v}`` on ``x`` *in the unit declared for x*, before conversion,
so ``window = {min = -90, max = -30}`` on a dBm column means dBm).  Only the selected rows are
validated.

Modules: :mod:`~tlsbayes.io.units` (unit tokens, kinds, column specs, SI conversion),
:mod:`~tlsbayes.io.tables` (reading CSV/HDF5/NetCDF into text cells),
:mod:`~tlsbayes.io.filters` (the row-filter grammar), :mod:`~tlsbayes.io.xy` (one curve in SI),
:mod:`~tlsbayes.io.suggest` ("did you mean" for messages), :mod:`~tlsbayes.io.traces` (the
output of ``tlsbayes s21`` as data: per-trace posterior draws, per-point temperatures).
"""

from __future__ import annotations

from .filters import Filter, parse_filter
from .suggest import did_you_mean
from .tables import Table, as_table, file_problem, groups, read_table, real_data_dir
from .units import (LOG_UNITS, UNITS, X_KINDS, Y_KINDS, ColumnSpec, from_si, resolve_spec,
                    to_si, unit_from_column)
from .xy import DataWarning, XYData, load_xy
from .traces import (DEFAULT_STATUS, STATUSES, TRACES_TABLE, TraceData, is_raw_trace_folder,
                     load_traces, point_values, s21_cache_dir, traces_table)

__all__ = [
    "file_problem",
    "UNITS",
    "LOG_UNITS",
    "X_KINDS",
    "Y_KINDS",
    "ColumnSpec",
    "DataWarning",
    "Filter",
    "Table",
    "XYData",
    "as_table",
    "did_you_mean",
    "groups",
    "load_xy",
    "parse_filter",
    "read_table",
    "real_data_dir",
    "resolve_spec",
    "to_si",
    "from_si",
    "unit_from_column",
    "DEFAULT_STATUS",
    "STATUSES",
    "TRACES_TABLE",
    "TraceData",
    "is_raw_trace_folder",
    "load_traces",
    "point_values",
    "s21_cache_dir",
    "traces_table",
]
