"""Reading a card: the TOML text through the whitelist into a validated :class:`Card`.

No data file is read here (see :mod:`tlsbayes.card.build`): a card whose data are elsewhere
can still be loaded.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .. import io as tio
from ..errors import CardError, DataError
from ..inference.likelihood import KINDS as LIKELIHOOD_KINDS
from ..inference.likelihood import Likelihood
from ..models import MODELS, model_from_dict
from .confine import ALLOW_FLAG, DataAccess, access_for_run, lexical_problem
from .parameters import check_priors, checked_model, parameter_infos
from .schema import (CARD_KEYS, COLUMN_KEYS, DATA_KEYS, DATASET_KEYS, DATASET_NAME_PATTERN,
                     GROUP_KEYS, REAL_PLACEHOLDER, SAMPLER_KEYS, SAMPLER_TYPES, TOP_KEYS,
                     WINDOW_KEYS, Context, did_you_mean, is_real, show, table_array,
                     toml_document)
from .simulation import parse_simulation

__all__ = ["Card", "DatasetSpec", "load_card", "parse_card", "parse_run_card"]


@dataclass(frozen=True)
class DatasetSpec:
    """One ``[[dataset]]`` of a card, validated.

    Attributes
    ----------
    name : str
    model : str
        Model kind (key of :data:`tlsbayes.models.MODELS`).
    likelihood : str
        Likelihood kind.
    constants : dict
        Passed to :func:`tlsbayes.models.model_from_dict`.
    data : dict
        The ``[dataset.data]`` table as written (``x``/``y``/``sigma`` as tables).
    path : Path
        The data file, resolved (relative paths against the card's directory, ``{real}``
        against :func:`tlsbayes.io.real_data_dir`).
    suffix : str
        Suffix of the likelihood's parameter names ("" in single-data-set cards).
    """

    name: str
    model: str
    likelihood: str
    constants: dict
    data: dict
    path: Path
    suffix: str = ""
    # ((model kind, copy of constants), model object): see build_model
    _built: tuple | None = field(default=None, init=False, repr=False, compare=False)

    def build_model(self):
        """The model object of this data set, built once and then reused.

        Models are frozen, so the one object built while the card is parsed serves the
        parameter list, the posterior and the simulation.  It is rebuilt only if ``model`` or
        ``constants`` changed since (e.g. a copy made with :func:`dataclasses.replace`, which
        starts without one).

        Raises
        ------
        KeyError, TypeError, ValueError
            As :func:`tlsbayes.models.model_from_dict`.
        """
        key = (self.model, self.constants)
        if self._built is None or self._built[0] != key:
            self._remember(model_from_dict(self.model, self.constants))
        return self._built[1]

    def _remember(self, model) -> None:
        object.__setattr__(self, "_built", ((self.model, dict(self.constants)), model))


@dataclass(frozen=True, eq=False)
class Card:
    """A parsed, validated model card.

    Attributes
    ----------
    name : str
    path : Path
        The card file as given.
    text : str
        Its full text (for provenance).
    meta : dict
        The ``[card]`` table.
    datasets : tuple of DatasetSpec
    priors : dict
        The ``[priors]`` table (name -> prior table).
    sampler : dict
        The ``[sampler]`` table.
    parameters : tuple of str
        Every parameter the card's models and likelihoods use, in ``theta`` order.
    simulation : dict
        The ``[simulation]`` table, validated (see :mod:`tlsbayes.card.simulation`).
    allow_outside_data : bool
        The user lifted the confinement of data paths (see :mod:`tlsbayes.card.confine`).
    """

    name: str
    path: Path
    text: str
    meta: dict
    datasets: tuple
    priors: dict
    sampler: dict
    parameters: tuple = field(default=())
    simulation: dict = field(default_factory=dict)
    allow_outside_data: bool = False


def load_card(path, *, allow_outside_data: bool = False) -> Card:
    """Read and validate a model card.

    Its data paths must stay in the card's folder tree or the shared real-data directory
    unless ``allow_outside_data`` (see :mod:`tlsbayes.card.confine`).

    Raises
    ------
    CardError
        Missing or unreadable file, malformed TOML (with line and column), or any whitelist
        violation; the message names the card, the table and the key.
    PriorError
        A ``[priors]`` entry is invalid (unknown parameter, bad bounds, outside the
        parameter's physical range).
    """
    p = Path(path).expanduser()  # "~/cards/x.toml" as typed where no shell expands it
    try:
        text = p.read_text(encoding="utf-8-sig")  # an editor's byte-order mark is not TOML
    except FileNotFoundError:
        raise CardError(f"{path}: card file not found") from None
    except UnicodeDecodeError:
        raise CardError(f"{path}: card is not UTF-8 text") from None
    except OSError as exc:
        raise CardError(f"{path}: cannot read card ({exc.strerror or exc})") from None
    return parse_card(text, p, access=DataAccess(p.absolute().parent, allow_outside_data))


def parse_card(text: str, path, *, access: DataAccess | None = None) -> Card:
    """Validate a card given as text; ``path`` names it and anchors relative data paths.

    ``access`` says where data may be read from (default: the folder of ``path`` and the
    shared real-data directory; see :mod:`tlsbayes.card.confine`).
    """
    ctx = Context(path)
    base = Path(path).absolute().parent
    access = DataAccess(base) if access is None else access
    text = text.removeprefix("\ufeff")  # byte-order mark
    doc, meta, name = toml_document(text, ctx, TOP_KEYS, "card", CARD_KEYS)
    for key in ("title", "description", "reference", "attribution"):
        if key in meta and not isinstance(meta[key], str):
            raise ctx.err("[card]", f"{key} must be text, got {show(meta[key])}")
    if "simulated" in meta and not isinstance(meta["simulated"], bool):
        raise ctx.err("[card]", f"simulated must be true or false, got {show(meta['simulated'])}")

    specs = _parse_datasets(ctx, doc, base, access)
    # parameters of the card, in theta order; model and likelihood objects validate here
    infos = parameter_infos(ctx, specs)
    priors = check_priors(ctx, doc["priors"], infos) if "priors" in doc else {}
    sampler = _parse_sampler(ctx, doc["sampler"]) if "sampler" in doc else {}
    simulation = (parse_simulation(ctx, doc["simulation"], specs, infos)
                  if "simulation" in doc else {})
    return Card(name=name, path=Path(path), text=text, meta=meta, datasets=tuple(specs),
                priors=priors, sampler=sampler, parameters=tuple(infos), simulation=simulation,
                allow_outside_data=access.allow_outside)


def parse_run_card(text: str, info: dict, run_json, *, allow_outside_data: bool = False):
    """``(card, data_override)`` of a run directory: its card copy ``text`` parsed as if it
    stood where its run.json ``info`` says the card was, and run.json's ``data_override``.

    Nothing stored in the run directory widens where data are read from
    (:func:`tlsbayes.card.confine.access_for_run`) unless ``allow_outside_data``.
    """
    access, override = access_for_run(info, text, run_json, allow_outside=allow_outside_data)
    return parse_card(text, Path(info["card"]), access=access), override


def _parse_datasets(ctx: Context, doc: Mapping, base: Path, access: DataAccess) -> list:
    """The ``[[dataset]]`` array: one :class:`DatasetSpec` each, names distinct."""
    raw_sets = table_array(ctx, doc, "dataset", "data sets", "card")
    multi = len(raw_sets) > 1
    specs = []
    seen = {}
    for i, ds in enumerate(raw_sets):
        specs.append(_parse_dataset(ctx, i, ds, multi, base, access))
        n = specs[-1].name
        if n in seen:
            raise CardError(f"{ctx.path}: [[dataset]] #{i + 1}: name {n!r} is already used by "
                            f"[[dataset]] #{seen[n] + 1}; give each data set its own name")
        seen[n] = i
    return specs


def _parse_sampler(ctx: Context, raw) -> dict:
    """The ``[sampler]`` table: whitelisted keys of the right types."""
    raw = ctx.table("[sampler]", raw)
    ctx.keys("[sampler]", raw, SAMPLER_KEYS)
    sampler = {}
    for key, v in raw.items():
        want = SAMPLER_TYPES[key]
        ok = (isinstance(v, bool) if want is bool
              else isinstance(v, str) if want is str
              else isinstance(v, int) and not isinstance(v, bool) if want is int
              else is_real(v) and math.isfinite(v))
        if not ok:
            kind = {bool: "true or false", str: "text", int: "an integer",
                    float: "a finite number"}[want]
            raise ctx.err("[sampler]", f"{key} must be {kind}, got {show(v)}")
        sampler[key] = v
    return sampler


def _parse_dataset(ctx: Context, i: int, ds, multi: bool, base: Path,
                   access: DataAccess) -> DatasetSpec:
    """One ``[[dataset]]`` table (the ``i``-th); its model is built here, once."""
    if not isinstance(ds, Mapping):
        raise ctx.err(f"[[dataset]] #{i + 1}", f"must be a table, got {show(ds)}")
    ref = ""
    if multi:
        ref = (f" of dataset {ds['name']!r}" if isinstance(ds.get("name"), str)
               else f" of dataset #{i + 1}")
    label = "[[dataset]]" + ref
    ctx.keys(label, ds, DATASET_KEYS, required=("model", "data"))

    kind = ds["model"]
    if not isinstance(kind, str) or kind not in MODELS:
        raise ctx.err(label, f"unknown model {kind!r} (known: {', '.join(MODELS)})"
                      + did_you_mean(kind, MODELS))
    name = ds.get("name", kind)
    if not isinstance(name, str) or not DATASET_NAME_PATTERN.match(name):
        raise ctx.err(label, f"name must start with a letter and hold only letters, digits "
                      f"and '_', got {name!r}")
    lik = ds.get("likelihood", "gaussian")
    if not isinstance(lik, str) or lik not in LIKELIHOOD_KINDS:
        raise ctx.err(label, f"unknown likelihood {lik!r} (allowed: "
                      f"{', '.join(LIKELIHOOD_KINDS)})" + did_you_mean(lik, LIKELIHOOD_KINDS))

    ctab = "[dataset.constants]" + ref
    constants = _parse_constants(ctx, ctab, kind, ds.get("constants", {}))
    data = _parse_data(ctx, ref, ds["data"])
    constants = _point_constants(ctx, ref, kind, lik, constants, data)
    # units and kinds, against the model (no file needed)
    model = checked_model(ctx, ctab, lambda: model_from_dict(kind, constants))
    _check_columns(ctx, ref, kind, model, lik, data)

    path = _resolve_file(ctx, "[dataset.data]" + ref, data["file"], base, access)
    has_params = bool(Likelihood(lik).parameters)
    spec = DatasetSpec(name=name, model=kind, likelihood=lik, constants=constants, data=data,
                       path=path, suffix=name if (multi and has_params) else "")
    spec._remember(model)
    return spec


def _parse_constants(ctx: Context, ctab: str, kind: str, raw) -> dict:
    """``[dataset.constants]``: known constants of model ``kind``, SI numbers > 0 or text."""
    constants = dict(ctx.table(ctab, raw))
    fields = MODELS[kind].__dataclass_fields__
    for key, v in constants.items():
        if key not in fields:
            allowed = ", ".join(fields) or "none"
            raise ctx.err(ctab, f"unknown constant {key!r} for model {kind!r} (allowed: "
                          f"{allowed})" + did_you_mean(key, fields))
        ftype = str(fields[key].type)
        if ftype == "str" or isinstance(v, str):
            if ftype != "str" or not isinstance(v, str):
                raise ctx.err(ctab, f"{key} must be {'text' if ftype == 'str' else 'a number'}, "
                              f"got {show(v)}")
        elif not is_real(v):
            raise ctx.err(ctab, f"{key} must be a number (SI units), got {show(v)}")
        elif not (math.isfinite(v) and v > 0):
            raise ctx.err(ctab, f"{key} must be a finite number > 0 (SI units), got {v!r}")
    return constants


def _parse_data(ctx: Context, ref: str, raw) -> dict:
    """``[dataset.data]`` (a deep copy; column names given as text become tables)."""
    dtab = "[dataset.data]" + ref
    data = copy.deepcopy(dict(ctx.table(dtab, raw)))
    ctx.keys(dtab, data, DATA_KEYS, required=("file", "x", "y"))
    for role in ("x", "y", "sigma", "T"):
        if role not in data:
            continue
        v = data[role]
        if isinstance(v, str):
            data[role] = {"column": v}
            continue
        where = f"[dataset.data.{role}]" + ref
        ctx.table(where, v, "a column name or a table {column, unit, kind}")
        ctx.keys(where, v, COLUMN_KEYS, required=("column",))
        for key, val in v.items():
            if not isinstance(val, str):
                raise ctx.err(where, f"{key} must be text, got {show(val)}")
    file = data["file"]
    if not isinstance(file, str) or not file:
        raise ctx.err(dtab, f"file must be a path (text), got {show(file)}")
    if "filter" in data:
        if not isinstance(data["filter"], str):
            raise ctx.err(dtab, f"filter must be text, got {show(data['filter'])}")
        try:
            tio.parse_filter(data["filter"])
        except DataError as exc:
            raise ctx.err(dtab, str(exc)) from None
    if "window" in data:
        _check_window(ctx, "[dataset.data.window]" + ref, data["window"])
    if "group" in data:
        _check_group(ctx, "[dataset.data.group]" + ref, data["group"])
    if "status" in data:
        st = data["status"]
        st = [st] if isinstance(st, str) else st
        if not (isinstance(st, list) and st
                and all(isinstance(v, str) and v in tio.STATUSES[:2] for v in st)):
            raise ctx.err(dtab, f"status must be \"ok\", \"flagged\" or a list of them, got "
                          f"{show(data['status'])}")
        data["status"] = st
    return data


def _point_constants(ctx: Context, ref: str, kind: str, lik: str, constants: dict,
                     data: dict) -> dict:
    """Check ``T`` (per-point temperature) and ``status`` against the model and likelihood;
    the constants with a placeholder ``T`` when only the column gives it."""
    dtab = "[dataset.data]" + ref
    if "status" in data and lik != "trace_posterior":
        raise ctx.err(dtab, "status selects traces of a traces table: it needs likelihood "
                      "= \"trace_posterior\"")
    if "T" not in data:
        return constants
    cls = MODELS[kind]
    if "T" not in getattr(cls, "CONSTS", ()) or "T" not in cls.__dataclass_fields__:
        raise ctx.err("[dataset.data.T]" + ref, f"model {kind!r} has no constant temperature "
                      "T to take from a column")
    # the curve of the figures is drawn at the median T of the data (set when loaded)
    return constants if "T" in constants else {**constants, "T": 1.0}


def _check_window(ctx: Context, where: str, raw) -> None:
    w = ctx.table(where, raw, "a table {min, max}")
    ctx.keys(where, w, WINDOW_KEYS)
    if not w:
        raise ctx.err(where, "needs min, max or both")
    for key, val in w.items():
        if not (is_real(val) and math.isfinite(val)):
            raise ctx.err(where, f"{key} must be a finite number, got {show(val)}")
    if "min" in w and "max" in w and not w["min"] < w["max"]:
        raise ctx.err(where, f"is inverted or empty: min = {w['min']!r} is not below max = "
                      f"{w['max']!r}")


def _check_group(ctx: Context, where: str, raw) -> None:
    g = ctx.table(where, raw, "a table {column, value}")
    ctx.keys(where, g, GROUP_KEYS, required=GROUP_KEYS)
    if not isinstance(g["column"], str):
        raise ctx.err(where, f"column must be text, got {show(g['column'])}")
    if not (isinstance(g["value"], str) or is_real(g["value"])):
        raise ctx.err(where, f"value must be text or a number, got {show(g['value'])}")


def _check_columns(ctx: Context, ref: str, kind: str, model, lik: str, data: dict) -> None:
    """Fill in the kinds of x and y from the model and check units and kinds against it."""
    dtab = "[dataset.data]" + ref
    if "kind" not in data["x"]:
        data["x"]["kind"] = model.x_kind
    if "kind" not in data["y"]:
        if model.y_kind == "inverse_q":
            raise ctx.err("[dataset.data.y]" + ref, f"needs kind = \"Qi\" or kind = "
                          f"\"inverse_q\" for model {kind!r} (say whether column "
                          f"{data['y']['column']!r} holds Qi or 1/Qi)")
        data["y"]["kind"] = model.y_kind
    try:
        xs = tio.resolve_spec(data["x"], "x")
        ys = tio.resolve_spec(data["y"], "y")
        if "sigma" in data:
            tio.resolve_spec(data["sigma"], "sigma", parent=ys)
    except DataError as exc:
        raise ctx.err(dtab, str(exc)) from None
    got_y = "inverse_q" if ys.kind == "Qi" else ys.kind
    if xs.kind != model.x_kind:
        raise ctx.err("[dataset.data.x]" + ref,
                      f"holds {xs.kind} (unit {xs.unit!r}) but model {kind!r}"
                      + (f" with saturation {model.saturation!r}" if kind == "q_power" else "")
                      + f" needs {model.x_kind}")
    if got_y != model.y_kind:
        raise ctx.err("[dataset.data.y]" + ref, f"holds {ys.kind} but model {kind!r} predicts "
                      f"{model.y_kind}")
    if lik in Likelihood.requires_sigma and "sigma" not in data:
        raise ctx.err(dtab, f"has no sigma, which likelihood {lik!r} needs; add sigma = "
                      "{ column = \"...\" } or use likelihood = \"gaussian_noise_scale\" or "
                      "\"student_t\"")


def _resolve_file(ctx: Context, dtab: str, file: str, base: Path, access: DataAccess) -> Path:
    """The data file: ``{real}/...`` in the shared real-data directory, else relative to the
    card's directory; refused if it may not be read (see :mod:`tlsbayes.card.confine`)."""
    label = f"{ctx.path}: {dtab} file {file!r}"
    real = file.startswith(REAL_PLACEHOLDER + "/")
    rest = file[len(REAL_PLACEHOLDER) + 1:] if real else file
    if "{" in rest or "}" in rest:
        raise CardError(f"{label}: " + (f"only the placeholder {REAL_PLACEHOLDER} is known"
                                         if real else
                                         f"unknown placeholder (the only one is "
                                         f"{REAL_PLACEHOLDER}/..., the shared real-data "
                                         "directory)"))
    why = None if access.allow_outside else lexical_problem(rest)
    if why is not None:
        raise CardError(f"{label} {why}; a card reads its data from its own folder tree or "
                        f"{REAL_PLACEHOLDER}/... (the shared real-data directory); pass "
                        f"{ALLOW_FLAG} to read it anyway")
    if real:
        p = tio.real_data_dir() / rest
    else:
        p = Path(rest) if Path(rest).is_absolute() else base / rest
    access.check(p, label)
    return p
