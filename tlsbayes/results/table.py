"""A small labelled table: the summary, correlation and checks tables of a fit, without pandas.

Importing pandas takes 0.4-0.6 s, more than everything else a fit with ``--plots none`` does
after sampling; these tables need rows by label, columns by name and a CSV.  :class:`Table`
offers the part of the :class:`pandas.DataFrame` interface they use (``index``, ``columns``,
``loc[row]``, ``loc[row, column]``, ``table[column]``, column assignment, ``iterrows``,
``drop(columns=...)``, ``to_csv``) with the same CSV text, and :meth:`Table.to_pandas` for
anything else.
"""

from __future__ import annotations

import csv
import io
import math
import numbers
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["Table", "Row", "Column"]


class Row(dict):
    """One row, ``column -> value`` (a dict: ``row["median"]``, ``row.get("ess")``)."""


class Column(dict):
    """One column, ``label -> value``; iterating yields the values, as a pandas Series does.

    ``np.asarray(column)`` is the values as an array; ``.items()`` the (label, value) pairs.
    """

    def __iter__(self) -> Iterator:
        return iter(self.values())

    def __array__(self, dtype=None, copy=None):
        return np.asarray(list(self.values()), dtype=dtype)

    def tolist(self) -> list:
        return list(self.values())


class _Loc:
    def __init__(self, table: Table):
        self._table = table

    def __getitem__(self, key):
        t = self._table
        if isinstance(key, tuple):
            label, column = key
            return t._rows[t._position(label)][t._column(column)]
        return Row(zip(t.columns, t._rows[t._position(key)]))


class Table:
    """Rows of values under named columns, each row with a label.

    Parameters
    ----------
    rows : mapping of label to mapping, or sequence of mappings
        ``label -> {column: value}``; a sequence gives the labels 0, 1, 2, ...
    columns : sequence of str
        Column order (a row's missing column: NaN).
    index_name : str, optional
        Name of the label column (the CSV header of the labels).
    """

    def __init__(self, rows: Mapping | Sequence, columns: Sequence[str], *,
                 index_name: str | None = None):
        if not isinstance(rows, Mapping):
            rows = dict(enumerate(rows))
        self.columns = list(columns)
        self.index = list(rows)
        self.index_name = index_name
        self._pos = {label: i for i, label in enumerate(self.index)}
        self._rows = [[r.get(c, math.nan) for c in self.columns] for r in rows.values()]

    # -- access ------------------------------------------------------------------------------
    def _position(self, label) -> int:
        try:
            return self._pos[label]
        except KeyError:
            raise KeyError(label) from None

    def _column(self, name) -> int:
        try:
            return self.columns.index(name)
        except ValueError:
            raise KeyError(name) from None

    @property
    def loc(self) -> _Loc:
        """``table.loc[label]`` (a :class:`Row`) or ``table.loc[label, column]`` (a value)."""
        return _Loc(self)

    def __getitem__(self, column: str) -> Column:
        j = self._column(column)
        return Column(zip(self.index, (r[j] for r in self._rows)))

    def __setitem__(self, column: str, values) -> None:
        """Replace or append ``column``: one value per row (in index order), or one for all."""
        if isinstance(values, str) or not isinstance(values, Iterable):
            values = [values] * len(self.index)
        values = list(values)
        if len(values) != len(self.index):
            raise ValueError(f"column {column!r}: {len(values)} values for "
                             f"{len(self.index)} rows")
        if column not in self.columns:
            self.columns.append(column)
            for r in self._rows:
                r.append(math.nan)
        j = self._column(column)
        for r, v in zip(self._rows, values):
            r[j] = v

    def __len__(self) -> int:
        return len(self.index)

    def __contains__(self, column) -> bool:
        return column in self.columns

    def iterrows(self) -> Iterator[tuple[Any, Row]]:
        """``(label, row)`` for every row, in order."""
        for label, r in zip(self.index, self._rows):
            yield label, Row(zip(self.columns, r))

    def drop(self, *, columns: Iterable[str]) -> Table:
        """A copy without ``columns``."""
        gone = set(columns)
        keep = [c for c in self.columns if c not in gone]
        return Table({label: row for label, row in self.iterrows()}, keep,
                     index_name=self.index_name)

    # -- output ------------------------------------------------------------------------------
    def to_csv(self, *, index: bool = True, index_label: str | None = None) -> str:
        """The table as CSV text, cell for cell what :meth:`pandas.DataFrame.to_csv` writes.

        Floats as ``repr`` (shortest round-trip), NaN and None as empty cells, a column of
        integers and floats as floats, text quoted only where needed, ``\\n`` line ends.
        """
        cells = [_csv_column([r[j] for r in self._rows]) for j in range(len(self.columns))]
        header = list(self.columns)
        if index:
            header = [index_label if index_label is not None else (self.index_name or "")] \
                + header
            cells = [[str(label) for label in self.index]] + cells
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(zip(*cells) if cells else [[] for _ in self.index])
        return out.getvalue()

    def to_pandas(self):
        """This table as a :class:`pandas.DataFrame` (imports pandas)."""
        import pandas as pd

        df = pd.DataFrame(self._rows, index=self.index, columns=self.columns)
        df.index.name = self.index_name
        return df

    def __repr__(self) -> str:
        return f"Table({len(self.index)} rows: {', '.join(map(str, self.columns))})"


def is_numeric(values: Iterable) -> bool:
    """Whether every value is a real number (not a bool): a right-aligned column."""
    return all(isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_))
               for v in values)


def _csv_column(values: list) -> list:
    """The CSV cells of one column, typed per column as pandas infers a dtype."""
    if values and all(isinstance(v, (bool, np.bool_)) for v in values):
        return [str(bool(v)) for v in values]
    if values and all(isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_))
                      for v in values):
        return [str(int(v)) for v in values]
    if is_numeric(values):
        return [_float_cell(float(v)) for v in values]
    return [_object_cell(v) for v in values]


def _float_cell(v: float) -> str:
    return "" if math.isnan(v) else repr(v)


def _object_cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, (float, np.floating)):
        return _float_cell(float(v))
    if isinstance(v, np.generic):
        return str(v.item())
    return str(v)
