"""The public whitelist schema of TOML cards and plans.

Everything a card (:mod:`tlsbayes.card`) or a design plan (:mod:`tlsbayes.design`) may say is
listed here or next to the code that reads it, and every violation is reported through one
:class:`Context`, so that each message starts with the file and names the table and the key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

from ..errors import CardError
from ..io.suggest import did_you_mean

__all__ = [
    "CARD_KEYS",
    "COLUMN_KEYS",
    "DATASET_KEYS",
    "DATA_KEYS",
    "GROUP_KEYS",
    "NAME_PATTERN",
    "DATASET_NAME_PATTERN",
    "REAL_PLACEHOLDER",
    "SAMPLER_KEYS",
    "SAMPLER_TYPES",
    "SIMULATION_DATASET_KEYS",
    "SIMULATION_KEYS",
    "SIM_NOISE_KEYS",
    "SIM_X_KEYS",
    "TOP_KEYS",
    "WINDOW_KEYS",
    "Context",
    "did_you_mean",
    "is_real",
    "show",
    "table_array",
    "toml_document",
]

SAMPLER_KEYS = ("nwalkers", "chunk", "checkpoint_seconds", "max_steps", "target_ess", "tau_rtol", "tau_factor",
                "rhat_max", "n_groups", "burn_factor", "moves", "ball_scale", "map_starts",
                "seed", "progress", "engine")
#: type each ``[sampler]`` key must have (``float`` accepts integers too)
SAMPLER_TYPES = {
    "nwalkers": int, "chunk": int, "checkpoint_seconds": float, "max_steps": int, "target_ess": float, "tau_rtol": float,
    "tau_factor": float, "rhat_max": float, "n_groups": int, "burn_factor": float,
    "moves": str,
    "ball_scale": float, "map_starts": int, "seed": int, "progress": bool,
    "engine": str,
}
TOP_KEYS = ("card", "dataset", "priors", "sampler", "simulation")
SIMULATION_KEYS = ("seed", "parameters", "datasets")
SIMULATION_DATASET_KEYS = ("x", "noise")
SIM_X_KEYS = ("min", "max", "n", "scale")
SIM_NOISE_KEYS = ("relative", "absolute")
CARD_KEYS = ("name", "title", "description", "simulated", "reference", "attribution")
DATASET_KEYS = ("name", "model", "likelihood", "constants", "data")
DATA_KEYS = ("file", "x", "y", "sigma", "filter", "window", "group", "T", "status")
COLUMN_KEYS = ("column", "unit", "kind", "label")
WINDOW_KEYS = ("min", "max")
GROUP_KEYS = ("column", "value")
#: name of a card or plan
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")
#: name of a data set (it becomes a parameter-name suffix)
DATASET_NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
#: placeholder for the shared real-data directory in a data file path
REAL_PLACEHOLDER = "{real}"


class Context:
    """Error factory carrying the path of the card or plan being read.

    Parameters
    ----------
    path : str or Path
        Named at the start of every message.
    """

    def __init__(self, path):
        self.path = str(path)

    def err(self, table: str, msg: str, cls=CardError):
        """An exception ``cls("<path>: <table> <msg>")`` (to be raised by the caller)."""
        return cls(f"{self.path}: {table} {msg}")

    def keys(self, table: str, d: Mapping, allowed, required=()):
        """Raise if ``d`` has a key not in ``allowed`` or lacks one of ``required``."""
        for key in d:
            if key not in allowed:
                raise self.err(table, f"unknown key {key!r} (allowed: {', '.join(allowed)})"
                               + did_you_mean(key, allowed))
        for key in required:
            if key not in d:
                raise self.err(table, f"missing required key {key!r}")

    def table(self, where: str, value, what="a table"):
        """``value`` if it is a table, else raise naming ``where`` and ``what`` was expected."""
        if not isinstance(value, Mapping):
            raise self.err(where, f"must be {what}, got {show(value)}")
        return value


def show(v) -> str:
    """A value as a message shows it: ``a table``, ``an array`` or ``int 3``."""
    if isinstance(v, Mapping):
        return "a table"
    if isinstance(v, list):
        return "an array"
    return f"{type(v).__name__} {v!r}"


def is_real(v) -> bool:
    """True for an int or float that is not a bool (TOML numbers)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def table_array(ctx: Context, doc: Mapping, key: str, plural: str, owner: str) -> list:
    """The ``[[key]]`` array of ``doc``: one or more tables (each checked by the caller).

    ``plural`` names the entries in messages ("data sets"), ``owner`` what holds them ("card").
    """
    if key not in doc:
        raise CardError(f"{ctx.path}: no [[{key}]] table (a {owner} needs at least one)")
    raw = doc[key]
    if isinstance(raw, Mapping):
        raise CardError(f"{ctx.path}: write the {plural} as [[{key}]] (an array of "
                        f"tables), not [{key}]")
    if not isinstance(raw, list) or not raw:
        raise CardError(f"{ctx.path}: [[{key}]] must be one or more tables")
    return raw


def toml_document(text: str, ctx: Context, top_keys, head: str, head_keys):
    """Parse a TOML card or plan: whitelisted top-level keys, a ``[head]`` table with a name.

    Returns ``(doc, meta, name)``: the whole document, the ``[head]`` table and its name.
    """
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CardError(f"{ctx.path}: malformed TOML: {exc}") from None
    except RecursionError:  # tomllib recurses once per level of nested arrays or tables
        raise CardError(f"{ctx.path}: malformed TOML: arrays or tables nested too deeply "
                        "to parse") from None
    for key in doc:
        if key not in top_keys:
            raise CardError(f"{ctx.path}: unknown top-level table or key {key!r} (allowed: "
                            f"{', '.join('[' + k + ']' for k in top_keys)})"
                            + did_you_mean(key, top_keys))
    if head not in doc:
        raise CardError(f"{ctx.path}: missing table [{head}] (with at least name = \"...\")")
    meta = dict(ctx.table(f"[{head}]", doc[head]))
    ctx.keys(f"[{head}]", meta, head_keys, required=("name",))
    name = meta["name"]
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise ctx.err(f"[{head}]", f"name must be text of letters, digits, '_', '.', '-', got "
                      f"{name!r}")
    return doc, meta, name
