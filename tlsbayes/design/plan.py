"""Plan files: a TOML whitelist (shared with cards) describing proposed measurements.

See :mod:`tlsbayes.design` for the format.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import io as tio
from ..card.schema import Context, did_you_mean, is_real, show, table_array, toml_document
from ..errors import CardError, TLSBayesError

__all__ = ["PLAN_TOP_KEYS", "PLAN_KEYS", "ALTERNATIVE_KEYS", "SWEEP_KEYS", "Sweep",
           "Alternative", "Plan", "load_plan", "parse_plan"]

PLAN_TOP_KEYS = ("plan", "point", "alternative")
PLAN_KEYS = ("name", "title", "description", "pair", "target", "check", "seed")
ALTERNATIVE_KEYS = ("name", "description", "sweep")
SWEEP_KEYS = ("dataset", "x", "T", "noise")
_GRID_KEYS = ("min", "max", "n", "unit", "scale", "values")
_NOISE_KEYS = ("relative", "absolute")
_SCALES = ("linear", "log")
_MAX_POINTS = 100_000


@dataclass(frozen=True)
class Sweep:
    """One proposed measurement of one card data set.

    Attributes
    ----------
    dataset : str
        Name of the card data set (its model, constants and likelihood are reused).
    x : ndarray or None
        Abscissae in the model's SI unit; ``None``: the card's own data points.
    temperatures : tuple of float or None
        Measurement temperatures [K] (one sweep each), or ``None`` to keep the card's.
    noise : tuple or None
        ``("relative", r)`` or ``("absolute", s)`` (SI unit of y), or ``None`` for the card's
        quoted sigmas.
    """

    dataset: str
    x: np.ndarray | None = None
    temperatures: tuple | None = None
    noise: tuple | None = None
    x_unit: str = ""



@dataclass(frozen=True)
class Alternative:
    """A named proposed measurement: one or more sweeps analysed together."""

    name: str
    sweeps: tuple
    description: str = ""



@dataclass(frozen=True, eq=False)
class Plan:
    """A parsed, validated plan file (see the module docstring)."""

    name: str
    path: Path
    text: str
    meta: dict
    point: dict
    alternatives: tuple
    pair: tuple | None = None
    target: float | None = None
    check: tuple = ()
    seed: int = 0



def load_plan(path, card) -> Plan:
    """Read and validate a plan file against the card it is for.

    Raises
    ------
    CardError
        Missing or malformed file, or any whitelist violation; the message starts with the
        plan path and names the table and the key.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CardError(f"{path}: plan file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CardError(f"{path}: cannot read plan ({exc})") from None
    return parse_plan(text, p, card)



def _grid(ctx: Context, where: str, spec, dimension: str, what: str,
          default_unit: str | None = None) -> np.ndarray:
    """A grid table (or a bare number, for T) -> sorted SI values."""
    if is_real(spec):
        values, unit = [float(spec)], None
    else:
        spec = ctx.table(where, spec, "a number or a table {min, max, n, unit, scale} or "
                                      "{values, unit}")
        ctx.keys(where, spec, _GRID_KEYS)
        unit = spec.get("unit")
        if "values" in spec:
            extra = [k for k in ("min", "max", "n", "scale") if k in spec]
            if extra:
                raise ctx.err(where, f"give either values or min/max/n, not both (found "
                                     f"{', '.join(extra)} with values)")
            values = spec["values"]
            if not isinstance(values, list) or not values or not all(map(is_real, values)):
                raise ctx.err(where, f"values must be a non-empty array of numbers, got "
                                     f"{show(values)}")
            values = [float(v) for v in values]
        else:
            missing = [k for k in ("min", "max", "n") if k not in spec]
            if missing:
                raise ctx.err(where, f"missing key {missing[0]!r} (a grid needs min, max and "
                                     "n, or values)")
            lo, hi, n = spec["min"], spec["max"], spec["n"]
            for key, v in (("min", lo), ("max", hi)):
                if not (is_real(v) and math.isfinite(v)):
                    raise ctx.err(where, f"{key} must be a finite number, got {show(v)}")
            if not (isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= _MAX_POINTS):
                raise ctx.err(where, f"n must be an integer from 1 to {_MAX_POINTS}, got "
                                     f"{show(n)}")
            if n > 1 and not lo < hi:
                raise ctx.err(where, f"min ({lo!r}) must be below max ({hi!r})")
            scale = spec.get("scale", "linear")
            if scale not in _SCALES:
                raise ctx.err(where, f"scale must be one of {', '.join(_SCALES)}, got "
                                     f"{show(scale)}" + did_you_mean(scale, _SCALES))
            if scale == "log":
                if unit in ("dBm", "dBW"):
                    raise ctx.err(where, f"scale = \"log\" makes no sense for {unit} (already "
                                         "logarithmic); use \"linear\"")
                if not lo > 0:
                    raise ctx.err(where, f"scale = \"log\" needs min > 0, got {lo!r}")
                values = list(np.geomspace(lo, hi, n)) if n > 1 else [float(lo)]
            else:
                values = list(np.linspace(lo, hi, n)) if n > 1 else [float(lo)]
    if unit is None:
        unit = default_unit or {"temperature": "K"}.get(dimension)
        if unit is None:
            raise ctx.err(where, f"needs a unit for the {what} (one of: "
                                 + ", ".join(u for u, (d, _) in tio.UNITS.items()
                                             if d == dimension and u) + ")")
    if not isinstance(unit, str) or unit not in tio.UNITS:
        raise ctx.err(where, f"unknown unit {unit!r}"
                      + did_you_mean(unit, [u for u in tio.UNITS if u]))
    if tio.UNITS[unit][0] != dimension:
        allowed = [repr(u) for u, (d, _) in tio.UNITS.items() if d == dimension]
        raise ctx.err(where, f"unit {unit!r} is not a unit of the {what} (allowed: "
                             f"{', '.join(allowed)})")
    si = tio.to_si(np.asarray(values, dtype=np.float64), unit)
    if not np.all(np.isfinite(si)) or (dimension != "dimensionless" and not np.all(si > 0)):
        raise ctx.err(where, f"the {what} must be finite and > 0 in SI units")
    if np.unique(si).size != si.size:
        raise ctx.err(where, f"the {what} values repeat; give distinct values")
    return np.sort(si)



def parse_plan(text: str, path, card) -> Plan:
    """Validate a plan given as text; ``path`` names it in messages.

    Parameters
    ----------
    text : str
    path : str or Path
    card : tlsbayes.card.Card
        The card the plan is for: data set and parameter names are checked against it.
    """
    ctx = Context(path)
    doc, meta, name = toml_document(text, ctx, PLAN_TOP_KEYS, "plan", PLAN_KEYS)
    for key in ("title", "description"):
        if key in meta and not isinstance(meta[key], str):
            raise ctx.err("[plan]", f"{key} must be text, got {show(meta[key])}")
    params = tuple(card.parameters)
    pair, target, seed = _plan_settings(ctx, meta, params)
    point = _plan_point(ctx, doc["point"], params) if "point" in doc else {}
    alts = _alternatives(ctx, doc, card)
    check = _checks(ctx, meta.get("check", True), [a.name for a in alts])
    return Plan(name=name, path=Path(path), text=text, meta=meta, point=point,
                alternatives=tuple(alts), pair=pair,
                target=float(target) if target is not None else None, check=tuple(check),
                seed=int(seed))


def _plan_settings(ctx: Context, meta: Mapping, params: tuple) -> tuple:
    """``(pair, target, seed)`` of the ``[plan]`` table, checked."""
    pair = meta.get("pair")
    if pair is not None:
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)
                and pair[0] != pair[1]):
            raise ctx.err("[plan]", f"pair must be two different parameter names, got "
                                    f"{show(pair)}")
        for p in pair:
            if p not in params:
                raise ctx.err("[plan]", f"pair: unknown parameter {p!r}{did_you_mean(p, params)} "
                                        f"(the card's parameters: {', '.join(params)})")
        pair = tuple(pair)
    target = meta.get("target")
    if target is not None and not (is_real(target) and 0 < target < 10):
        raise ctx.err("[plan]", f"target must be a relative width between 0 and 10 (0.1 = 10 "
                                f"%), got {show(target)}")
    seed = meta.get("seed", 0)
    if not (isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0):
        raise ctx.err("[plan]", f"seed must be an integer >= 0, got {show(seed)}")
    return pair, target, seed


def _plan_point(ctx: Context, raw, params: tuple) -> dict:
    """The ``[point]`` table: physical values of card parameters."""
    point = {}
    raw = ctx.table("[point]", raw)
    for pname, v in raw.items():
        if pname not in params:
            raise ctx.err("[point]", f"unknown parameter {pname!r}{did_you_mean(pname, params)} "
                                     f"(the card's parameters: {', '.join(params)})")
        if not (is_real(v) and math.isfinite(v)):
            raise ctx.err("[point]", f"{pname} must be a finite number (physical units), "
                                     f"got {show(v)}")
        point[pname] = float(v)
    return point


def _alternatives(ctx: Context, doc: Mapping, card) -> list:
    """The ``[[alternative]]`` array: one :class:`Alternative` each, names distinct."""
    raw_alts = table_array(ctx, doc, "alternative", "alternatives", "plan")
    specs = {s.name: s for s in card.datasets}
    alts, seen = [], set()
    for i, a in enumerate(raw_alts):
        label = f"[[alternative]] #{i + 1}"
        a = ctx.table(label, a)
        if isinstance(a.get("name"), str):
            label = f"[[alternative]] {a['name']!r}"
        ctx.keys(label, a, ALTERNATIVE_KEYS, required=("name", "sweep"))
        aname = a["name"]
        if not isinstance(aname, str) or not aname.strip():
            raise ctx.err(label, f"name must be non-empty text, got {show(aname)}")
        if aname in seen:
            raise ctx.err(label, "name is used twice; give each alternative its own name")
        seen.add(aname)
        desc = a.get("description", "")
        if not isinstance(desc, str):
            raise ctx.err(label, f"description must be text, got {show(desc)}")
        raw_sw = a["sweep"]
        if isinstance(raw_sw, Mapping):
            raw_sw = [raw_sw]
        if not isinstance(raw_sw, list) or not raw_sw:
            raise ctx.err(label, "sweep must be one or more tables [[alternative.sweep]]")
        sweeps = []
        for j, sw in enumerate(raw_sw):
            where = f"{label} sweep #{j + 1}"
            sw = ctx.table(where, sw)
            ctx.keys(where, sw, SWEEP_KEYS)
            sweeps.append(_parse_sweep(ctx, where, sw, specs, card))
        alts.append(Alternative(aname, tuple(sweeps), desc))
    return alts


def _checks(ctx: Context, check, names: list) -> list:
    """The alternatives to check by simulate-and-fit (``[plan] check``)."""
    if check is True:
        return names[:1]
    if check is False:
        return []
    if isinstance(check, list) and all(isinstance(c, str) for c in check):
        for c in check:
            if c not in names:
                raise ctx.err("[plan]", f"check: no alternative named {c!r}"
                                        f"{did_you_mean(c, names)} (alternatives: "
                                        f"{', '.join(names)})")
        return check
    raise ctx.err("[plan]", f"check must be true, false or an array of alternative names, "
                            f"got {show(check)}")


def _parse_sweep(ctx: Context, where: str, sw: Mapping, specs: Mapping, card) -> Sweep:
    if "dataset" in sw:
        dname = sw["dataset"]
        if not isinstance(dname, str) or dname not in specs:
            raise ctx.err(where, f"dataset: the card {card.name!r} has no data set {dname!r}"
                                 f"{did_you_mean(dname, specs)} (its data sets: "
                                 f"{', '.join(specs)})")
    elif len(specs) == 1:
        dname = next(iter(specs))
    else:
        raise ctx.err(where, f"needs dataset = \"...\" (the card has several: "
                             f"{', '.join(specs)})")
    spec = specs[dname]
    model = spec.build_model()
    x = None
    if "x" in sw:
        dim = tio.UNITS[tio.X_KINDS[model.x_kind]][0]
        try:  # default unit: the one the card declares for its x column
            unit = tio.resolve_spec(spec.data["x"], "x").unit
        except (TLSBayesError, KeyError, TypeError):
            unit = None
        x = _grid(ctx, f"{where} x", sw["x"], dim, f"x ({model.x_kind}) of model "
                                                    f"{spec.model!r}", default_unit=unit)
    temps = None
    if "T" in sw:
        if "T" not in getattr(model, "__dataclass_fields__", {}):
            raise ctx.err(where, f"T: model {spec.model!r} has no measurement-temperature "
                                 f"constant (its x is {model.x_kind}; give temperatures as x)")
        temps = tuple(float(t) for t in _grid(ctx, f"{where} T", sw["T"], "temperature",
                                              "measurement temperature"))
    noise = None
    if "noise" in sw:
        nz = ctx.table(f"{where} noise", sw["noise"], "a table {relative = r} or "
                                                      "{absolute = s}")
        ctx.keys(f"{where} noise", nz, _NOISE_KEYS)
        if len(nz) != 1:
            raise ctx.err(f"{where} noise", "give exactly one of relative, absolute")
        (kind, v), = nz.items()
        if not (is_real(v) and math.isfinite(v) and v > 0):
            raise ctx.err(f"{where} noise", f"{kind} must be a finite number > 0, got "
                                            f"{show(v)}")
        noise = (kind, float(v))
    elif x is not None:
        raise ctx.err(where, "needs noise = { relative = r } or { absolute = s } (the noise "
                             "of the card's data is only used when x is omitted too)")
    return Sweep(dname, x, temps, noise, model.x_unit)
