"""Units and kinds: which unit tokens exist, what each column kind holds, conversion to SI.

See :mod:`tlsbayes.io` for the table of units and kinds and the rules that fill in a
column spec's unit and kind.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import DataError
from .suggest import did_you_mean

__all__ = [
    "UNITS",
    "LOG_UNITS",
    "X_KINDS",
    "Y_KINDS",
    "ColumnSpec",
    "resolve_spec",
    "to_si",
    "from_si",
    "unit_from_column",
]

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
#: logarithmic unit tokens (converted as ``factor * 10**(v/10)``)
LOG_UNITS = ("dBm", "dBW")

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
_SPEC_KEYS = ("column", "unit", "kind", "label")


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
                            + did_you_mean(key, _SPEC_KEYS))
    col = spec.get("column")
    if not isinstance(col, str) or not col:
        raise DataError(f"{role}: 'column' must be a non-empty column name, got {col!r}")
    kinds = X_KINDS if role == "x" else Y_KINDS
    kind = _declared_kind(spec.get("kind"), role, col, kinds, parent)
    unit = _declared_unit(spec.get("unit"), role, col, kind, parent)
    dim = UNITS[unit][0]
    if parent is not None:
        pdim = UNITS[parent.unit][0]
        if dim != pdim:
            raise DataError(f"sigma column {col!r}: unit {unit!r} ({dim}) does not match the "
                            f"unit of y {parent.unit!r} ({pdim})")
        if unit in LOG_UNITS:
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


def _declared_kind(kind, role: str, col: str, kinds, parent: ColumnSpec | None):
    """The spec's kind checked against ``kinds`` (sigma: inherited from y), or ``None``."""
    if kind is not None:
        if not isinstance(kind, str) or kind not in kinds:
            raise DataError(f"{role} column {col!r}: unknown kind {kind!r} for {role} "
                            f"(allowed: {', '.join(kinds)})" + did_you_mean(kind, kinds))
        if parent is not None and kind != parent.kind:
            raise DataError(f"sigma column {col!r}: kind {kind!r} differs from the kind of y "
                            f"({parent.kind!r})")
        return kind
    return parent.kind if parent is not None else None


def _declared_unit(unit, role: str, col: str, kind, parent: ColumnSpec | None) -> str:
    """The spec's unit, else the column name's, else the parent's or ``""`` if dimensionless."""
    if unit is not None:
        if not isinstance(unit, str) or unit not in UNITS:
            raise DataError(f"{role} column {col!r}: unknown unit {unit!r} (allowed: "
                            + ", ".join(repr(u) for u in UNITS) + ")"
                            + did_you_mean(unit, [u for u in UNITS if u]))
        return unit
    unit = unit_from_column(col)
    if unit is not None:
        return unit
    if parent is not None:
        return parent.unit
    if kind is not None and _KIND_DIMENSION[kind] == "dimensionless":
        return ""
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


def to_si(values, unit: str) -> np.ndarray:
    """Values in the unit token ``unit`` -> SI (``dBm`` -> W, ``mK`` -> K, ...).

    Parameters
    ----------
    values : array_like
        Values in ``unit``; any shape.
    unit : str
        A key of :data:`UNITS`.

    Returns
    -------
    ndarray of float64, same shape as ``values``
    """
    values = np.asarray(values, dtype=float)
    factor = UNITS[unit][1]
    if unit in LOG_UNITS:
        return factor * np.power(10.0, values / 10.0)
    return values * factor


def from_si(values, unit: str) -> np.ndarray:
    """Inverse of :func:`to_si`: SI values expressed in the unit token ``unit``."""
    values = np.asarray(values, dtype=float)
    factor = UNITS[unit][1]
    if unit in LOG_UNITS:
        return 10.0 * np.log10(values / factor)
    return values / factor
