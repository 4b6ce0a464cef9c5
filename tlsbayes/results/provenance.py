"""Provenance of a result: what reproduces and judges a run, and its NetCDF encoding.

Root attributes of a result hold the provenance (:func:`provenance`).  NetCDF attributes can
hold only strings and numbers, so nested values are stored as JSON text (:func:`encode_attrs`)
and decoded again by :func:`attrs_of`.  :func:`data_sha256` fingerprints the data a posterior
was conditioned on.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from tlsbayes.errors import ResultError

if TYPE_CHECKING:  # ArviZ takes seconds to import; only the type is needed here
    import arviz as az

__all__ = [
    "READABLE_FORMAT_VERSIONS",
    "RESULT_FORMAT_NAME",
    "RESULT_FORMAT_VERSION",
    "attrs_of",
    "data_sha256",
    "encode_attrs",
    "format_string",
    "provenance",
]

RESULT_FORMAT_NAME = "tlsbayes-result"
#: Bump when the layout of a result file changes in a way old readers would misread.
RESULT_FORMAT_VERSION = 1
#: Versions this code can read.  Kept separate from RESULT_FORMAT_VERSION so that a future
#: version 2 can still declare version 1 files readable.
READABLE_FORMAT_VERSIONS = frozenset({1})

# Root attribute listing which other root attributes hold JSON text.  An explicit list (rather
# than guessing from the text) keeps a plain string that happens to look like JSON a string.
# NetCDF reserves attribute names starting with "_", hence no leading underscore.
_JSON_KEYS_ATTR = "tlsbayes_json_attrs"


def format_string(version: int = RESULT_FORMAT_VERSION) -> str:
    """The ``format`` attribute of a result: ``"tlsbayes-result/<version>"``."""
    return f"{RESULT_FORMAT_NAME}/{version}"


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj, key=str)
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    raise TypeError(f"values of type {type(obj).__name__} cannot be stored")


def encode_attrs(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """Turn a provenance dict into NetCDF-storable root attributes.

    Strings, ints and floats are kept; everything else (dicts, lists, booleans, ``None``,
    arrays) becomes JSON text, listed in a reserved attribute so that :func:`attrs_of` decodes
    exactly those.

    Raises
    ------
    ResultError
        If a name is not a string or is reserved, or a value cannot be stored.
    """
    if _JSON_KEYS_ATTR in attrs:
        raise ResultError(f"attribute name '{_JSON_KEYS_ATTR}' is reserved by tlsbayes")
    out: dict[str, Any] = {}
    json_keys = []
    for key, value in attrs.items():
        if not isinstance(key, str):
            raise ResultError(f"attribute name {key!r} is not a string")
        if isinstance(value, np.generic) and not isinstance(value, np.bool_):
            value = value.item()
        # bool is an int subclass but NetCDF has no boolean type (h5netcdf refuses it), so
        # it must go through JSON along with None and containers.
        if isinstance(value, str) or (
            isinstance(value, (int, float)) and not isinstance(value, bool)
        ):
            out[key] = value
            continue
        try:
            out[key] = json.dumps(value, default=_json_default, allow_nan=True)
        except (TypeError, ValueError) as err:
            raise ResultError(f"attribute '{key}': {err}") from err
        json_keys.append(key)
    if json_keys:
        out[_JSON_KEYS_ATTR] = json.dumps(json_keys)
    return out


def attrs_of(idata: az.InferenceData) -> dict[str, Any]:
    """Return the provenance stored in ``idata`` with JSON-encoded values decoded.

    Parameters
    ----------
    idata : arviz.InferenceData
        A result built by :func:`build_inference_data` or read by :func:`load`.

    Returns
    -------
    dict
        Root attributes; nested dicts/lists, booleans and ``None`` are restored, NumPy scalars
        read back from NetCDF become Python ``int``/``float``.  Tuples come back as lists and
        non-string dict keys as strings (JSON has neither).

    Raises
    ------
    ResultError
        If an attribute marked as JSON is not valid JSON.
    """
    return decode_attrs(dict(idata.attrs))


def read_attrs(path) -> dict[str, Any]:
    """The provenance of a result file, read without ArviZ or xarray (see :func:`attrs_of`).

    For the quick paths (a no-op ``resume``): the root attributes of the NetCDF-4 file are
    HDF5 attributes of its root group, read here with ``h5py`` alone.

    Parameters
    ----------
    path : path-like
        A ``posterior.nc`` written by :func:`tlsbayes.results.save`.
    """
    import h5py

    with h5py.File(path, "r") as fh:
        raw = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in fh.attrs.items()
               if not k.startswith("_NC")}
    return decode_attrs(raw)


def decode_attrs(raw: dict[str, Any]) -> dict[str, Any]:
    """Decode raw root attributes (JSON-encoded values marked by :func:`encode_attrs`)."""
    json_keys: list[str] = []
    if _JSON_KEYS_ATTR in raw:
        try:
            json_keys = list(json.loads(raw.pop(_JSON_KEYS_ATTR)))
        except (TypeError, ValueError) as err:
            raise ResultError(f"attribute '{_JSON_KEYS_ATTR}' is not valid JSON: {err}") from err
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key in json_keys:
            try:
                out[key] = json.loads(value)
            except (TypeError, ValueError) as err:
                raise ResultError(f"attribute '{key}' is not valid JSON: {err}") from err
        elif isinstance(value, np.generic):
            out[key] = value.item()
        elif isinstance(value, np.ndarray):
            out[key] = value.tolist()
        else:
            out[key] = value
    return out


def provenance(
    *,
    version: str,
    model_card_text: str,
    priors: Mapping[str, Any],
    data_hash: str,
    seed: int | None,
    sampler_settings: Mapping[str, Any],
    tau: Any,
    verdict: str,
    converged: bool,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Collect what is needed to reproduce and judge a run.

    Parameters
    ----------
    version : str
        ``tlsbayes.__version__`` of the code that produced the run.
    model_card_text : str
        The model card (TOML) verbatim, so the result is self-contained.
    priors : mapping
        Prior declarations per parameter (e.g. ``{"E_c": {"dist": "LogUniform", ...}}``).
    data_hash : str
        :func:`data_sha256` of the data the posterior was conditioned on.
    seed : int or None
        Seed of the ``numpy.random.Generator`` used.
    sampler_settings : mapping
        Walkers, steps, burn-in, thinning, moves, ...
    tau : float, sequence or mapping
        Integrated autocorrelation time(s) in steps (per parameter).
    verdict : str
        One-line convergence verdict for humans.
    converged : bool
        Whether the convergence gate passed.
    extra : mapping, optional
        Anything else worth keeping; stored under the key ``"extra"``.

    Returns
    -------
    dict
        The keys above (``extra`` as ``{}`` when not given) plus ``"created"`` (UTC, ISO 8601)
        and ``"format"`` (``"tlsbayes-result/<RESULT_FORMAT_VERSION>"``).
    """
    if isinstance(tau, np.ndarray):
        tau = tau.tolist()
    elif isinstance(tau, np.generic):
        tau = tau.item()
    return {
        "version": str(version),
        "model_card_text": str(model_card_text),
        "priors": dict(priors),
        "data_hash": str(data_hash),
        "seed": None if seed is None else int(seed),
        "sampler_settings": dict(sampler_settings),
        "tau": dict(tau) if isinstance(tau, Mapping) else tau,
        "verdict": str(verdict),
        "converged": bool(converged),
        "extra": dict(extra or {}),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "format": format_string(),
    }


def data_sha256(*arrays_or_bytes: Any) -> str:
    """SHA-256 hex digest of data, identical across runs, processes and platforms.

    Parameters
    ----------
    *arrays_or_bytes : array_like, bytes or str
        Bytes-like objects are hashed as they are, ``str`` as UTF-8, everything else through
        ``numpy.asarray`` in C order and little-endian byte order.

    Returns
    -------
    str
        64 hexadecimal characters.

    Notes
    -----
    Each item's kind, dtype and shape are hashed together with its bytes, so ``[1, 2]`` as
    ``int64`` and as ``float64``, a ``(2, 3)`` and a ``(3, 2)`` array, or ``(a, b)`` and the
    concatenation ``a + b`` all give different digests.
    """
    h = hashlib.sha256()
    h.update(b"tlsbayes-data-sha256/1\0")
    for item in arrays_or_bytes:
        if isinstance(item, (bytes, bytearray, memoryview)):
            header, payload = "bytes", bytes(item)
        elif isinstance(item, str):
            header, payload = "str", item.encode("utf-8")
        else:
            arr = np.asarray(item)
            if arr.dtype == object:
                raise ResultError(
                    f"data_sha256: cannot hash an array of Python objects ({type(item).__name__})"
                )
            if arr.dtype.byteorder == ">":
                arr = arr.astype(arr.dtype.newbyteorder("<"))
            arr = np.ascontiguousarray(arr)
            header = f"array:{arr.dtype.str}:{arr.shape}"
            payload = arr.tobytes()
        head = header.encode("ascii")
        # Length prefixes make the encoding unambiguous: no two item lists share a stream.
        h.update(len(head).to_bytes(8, "little") + head)
        h.update(len(payload).to_bytes(8, "little") + payload)
    return h.hexdigest()

