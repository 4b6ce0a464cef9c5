"""Row filters: a tiny whitelisted comparison grammar, evaluated without ``eval``.

``"fit_ok == 1"``, ``"flag == 0 and temperature_K < 0.02"``: see :func:`parse_filter`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import DataError
from .tables import Table

__all__ = ["MAX_FILTER_CHARS", "Filter", "Operand", "parse_filter"]

# Unambiguous: one way to split digits between integer and fraction, so a failed match
# backtracks in linear time (the former "\d+\.?\d*" was quadratic: 8 000 digits took 5 s).
_FILTER_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<num>[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)(?![A-Za-z0-9_.])
  | (?P<str>'[^'\n]*'|"[^"\n]*")
  | (?P<op>==|!=|<=|>=|<|>)
  | (?P<bq>`[^`\n]+`)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
""", re.VERBOSE)
#: Longest filter accepted, in characters (a filter is a line of a card, not a program).
MAX_FILTER_CHARS = 1000
_OPS = {
    "==": np.equal, "!=": np.not_equal, "<": np.less, "<=": np.less_equal,
    ">": np.greater, ">=": np.greater_equal,
}
_RESERVED = ("or", "not", "in", "is", "if", "else", "lambda", "import")


@dataclass(frozen=True)
class Operand:
    """One side of a comparison: a column name, a number or a text constant."""

    kind: str  # "column", "number", "string"
    value: Any

    def __str__(self):
        return repr(self.value) if self.kind != "number" else f"{self.value:g}"


@dataclass(frozen=True)
class Filter:
    """A parsed row filter: comparisons joined by ``and``; see :func:`parse_filter`."""

    text: str
    comparisons: tuple  # of (left Operand, op str, right Operand)

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
    if len(text) > MAX_FILTER_CHARS:
        raise DataError(f"filter {text[:40]!r}... is {len(text)} characters long; the limit "
                        f"is {MAX_FILTER_CHARS}")
    tokens = _tokens(text)
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


def _tokens(text: str) -> list:
    """``[(kind, value, position), ...]``, kind "and", "operand" or "op"; blanks dropped."""
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
            tokens.append(("operand", Operand("column", tok), m.start()))
        elif kind == "bq":
            tokens.append(("operand", Operand("column", tok[1:-1]), m.start()))
        elif kind == "num":
            tokens.append(("operand", Operand("number", float(tok)), m.start()))
        elif kind == "str":
            tokens.append(("operand", Operand("string", tok[1:-1]), m.start()))
        else:
            tokens.append(("op", tok, m.start()))
    return tokens
