"""Posterior results: ArviZ ``InferenceData``, NetCDF storage, summaries, degeneracy report.

Everything here is a free function acting on an :class:`arviz.InferenceData`; there is no
result class to keep in sync with ArviZ.  The layout of a result is:

``posterior``
    one ``(chain, draw)`` variable per free parameter, in physical units (emcee walkers are
    the chains).
``sample_stats``
    ``lp``, ``log_prior``, ``log_likelihood`` (all ``(chain, draw)``) and optionally
    ``acceptance_rate``.
``log_likelihood``
    pointwise log likelihood ``(chain, draw, <obs dim>)`` per observed quantity, for LOO/WAIC.
``observed_data``, ``constant_data``, ``prior``
    the data, the fixed inputs (x values, uncertainties, constants) and prior samples.
root attributes
    the provenance (see :func:`provenance`); nested values are stored as JSON strings and
    decoded again by :func:`attrs_of`.

Files are NetCDF-4 (HDF5) written by ArviZ through ``h5netcdf``; nothing read from disk is
unpickled.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import math
import numbers
import os
import types
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from tlsbayes._atomic import fsync_directory as _fsync_directory
from tlsbayes._atomic import new_temporary as _new_temporary
from tlsbayes.errors import TLSBayesError

__all__ = [
    "KNOWN_DEGENERACIES",
    "RESULT_FORMAT_NAME",
    "RESULT_FORMAT_VERSION",
    "ResultError",
    "attrs_of",
    "build_inference_data",
    "data_sha256",
    "degeneracy_report",
    "format_summary",
    "format_summary_markdown",
    "load",
    "provenance",
    "save",
    "summarize",
]

RESULT_FORMAT_NAME = "tlsbayes-result"
#: Bump when the layout of a result file changes in a way old readers would misread.
RESULT_FORMAT_VERSION = 1
# Versions this code can read.  Kept separate from RESULT_FORMAT_VERSION so that a future
# version 2 can still declare version 1 files readable.
_READABLE_FORMAT_VERSIONS = frozenset({1})

# Root attribute listing which other root attributes hold JSON text.  An explicit list (rather
# than guessing from the text) keeps a plain string that happens to look like JSON a string.
# NetCDF reserves attribute names starting with "_", hence no leading underscore.
_JSON_KEYS_ATTR = "tlsbayes_json_attrs"

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"

_REQUIRED_SAMPLE_STATS = ("lp", "log_prior", "log_likelihood")

_SUMMARY_COLUMNS = (
    "mean",
    "sd",
    "median",
    "q16",
    "q84",
    "hdi_low",
    "hdi_high",
    "ess_bulk",
    "ess_tail",
    "r_hat",
    "map",
    "map_warning",
)
# Columns holding a position on the parameter axis: printed to the precision set by the sd.
_LOCATION_COLUMNS = frozenset({"mean", "median", "q16", "q84", "hdi_low", "hdi_high", "map"})


class ResultError(TLSBayesError):
    """A result cannot be built, written or read (bad shapes, unreadable or foreign file)."""


#: Physics behind the parameter pairs that are often degenerate, keyed by unordered pair; the
#: text is appended to the sentence of :func:`degeneracy_report`.  Read-only: extend it with
#: ``{**KNOWN_DEGENERACIES, frozenset({"a", "b"}): "..."}``.
KNOWN_DEGENERACIES: Mapping[frozenset, str] = types.MappingProxyType(
    {
        frozenset({"E_c", "beta"}): (
            "the data do not reach far enough above E_c for the saturation slope and the onset "
            "to be separated: only a combination of E_c and beta is constrained (the E_c–beta "
            "banana); data at lower temperature or over a wider power range break it"
        ),
        frozenset({"delta0", "delta_other"}): (
            "only the TLS part delta0 saturates with power and is suppressed by "
            "tanh(h f / 2 k_B T) at high temperature, while delta_other does not change; if the "
            "data never reach the saturated (high-power) or thermally suppressed regime, only "
            "the low-power total delta0 + delta_other is constrained and the two trade off "
            "against each other; data at higher power or higher temperature separate them"
        ),
        frozenset({"x", "K"}): (
            "in the normal state a fraction x of the TLS also relaxes through the conduction "
            "electrons at a rate set by K; while that channel is slow compared with the mode "
            "frequency its extra damping grows as x*K*T, so only the product x*K is "
            "constrained (and once it is fast the electron-coupled TLS sit on the plateau and K "
            "drops out); data spanning the crossover of the electron channel, or the "
            "superconducting-state damping of the same device (x = 0), separate them"
        ),
        frozenset({"C", "gamma"}): (
            "below the crossover to the high-temperature plateau the damping is "
            "relaxation-limited and proportional to C*gamma^2 (the phonon relaxation rate scales "
            "as gamma^2), so only the product C*gamma^2 is constrained; data reaching the plateau "
            "Gamma = (pi/2) C omega, or the logarithmic frequency shift, which fixes C alone, "
            "break it"
        ),
    }
)


# --------------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------------


def _as_array(name: str, value: Any) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype == object:
        raise ResultError(f"{name}: cannot store values of type {type(value).__name__}")
    return arr


def _check_chain_draw(group: str, data: Mapping[str, Any], shape: tuple[int, int] | None,
                      extra_ndim: int) -> tuple[dict[str, np.ndarray], tuple[int, int] | None]:
    """Validate that every array in ``data`` is ``(nchain, ndraw, *extra)`` with a common
    ``(nchain, ndraw)``; return the arrays and that shape."""
    out = {}
    for name, value in data.items():
        arr = _as_array(f"{group} '{name}'", value)
        if arr.ndim != 2 + extra_ndim:
            want = "(nchain, ndraw" + ", nobs" * extra_ndim + ")"
            raise ResultError(
                f"{group} '{name}' has shape {arr.shape}, expected {want}"
            )
        if shape is None:
            shape = arr.shape[:2]
        elif arr.shape[:2] != shape:
            raise ResultError(
                f"{group} '{name}' has {arr.shape[0]} chains x {arr.shape[1]} draws, but the "
                f"posterior has {shape[0]} x {shape[1]}"
            )
        out[str(name)] = arr
    return out, shape


def _dims_for(name: str, arr: np.ndarray, obs_dims: Mapping[str, Any]) -> list[str]:
    """Dimension names of the non-sample axes of ``arr``."""
    if name in obs_dims:
        dims = obs_dims[name]
        dims = [dims] if isinstance(dims, str) else list(dims)
        if len(dims) != arr.ndim:
            raise ResultError(
                f"obs_dims['{name}'] names {len(dims)} dimension(s) but '{name}' has "
                f"{arr.ndim} (shape {arr.shape})"
            )
        return dims
    return [f"{name}_dim_{i}" for i in range(arr.ndim)]


def build_inference_data(
    *,
    posterior: Mapping[str, Any],
    sample_stats: Mapping[str, Any],
    log_likelihood: Mapping[str, Any],
    observed_data: Mapping[str, Any],
    constant_data: Mapping[str, Any] | None = None,
    prior: Mapping[str, Any] | None = None,
    attrs: Mapping[str, Any] | None = None,
    obs_dims: Mapping[str, str | Sequence[str]] | None = None,
) -> az.InferenceData:
    """Assemble the samples of one run into an :class:`arviz.InferenceData`.

    Parameters
    ----------
    posterior : mapping of str to array_like, shape (nchain, ndraw)
        Free parameters in physical (not sampling) coordinates.  Each emcee walker is a chain.
    sample_stats : mapping of str to array_like
        Must contain ``"lp"`` (log posterior), ``"log_prior"`` and ``"log_likelihood"``, each
        ``(nchain, ndraw)``.  ``"acceptance_rate"`` may be given per chain, shape ``(nchain,)``,
        and is then repeated along the draws.  Other ``(nchain, ndraw)`` entries are kept.
    log_likelihood : mapping of str to array_like, shape (nchain, ndraw, nobs)
        Pointwise log likelihood per observed quantity (needed by ``arviz.loo``/``waic``).
        Every key must also be a key of ``observed_data``.
    observed_data : mapping of str to array_like, shape (nobs,)
        The measured values.
    constant_data : mapping of str to array_like, optional
        Fixed inputs: x values (temperature, power, ...), uncertainties, constants.  Scalars
        are stored as 0-d variables.
    prior : mapping of str to array_like, shape (1, nsamples), optional
        Samples drawn from the prior (one pseudo-chain).
    attrs : mapping, optional
        Provenance, normally from :func:`provenance`.  Strings, ints and floats are stored as
        they are; dicts, lists, tuples, arrays, booleans and ``None`` are stored as JSON text
        (NetCDF attributes can hold none of these) and decoded again by :func:`attrs_of`.
        A ``"format"`` entry is added if missing.
    obs_dims : mapping of str to str or sequence of str, optional
        Dimension name(s) of the observation axis of an observed (or constant) variable.
        Observed variables default to ``"<name>_point"``; give an x value in
        ``constant_data`` the same dimension name as its observed variable to tie them.
        Other constant arrays default to ``"<name>_dim_<i>"``.

    Returns
    -------
    arviz.InferenceData
        With groups ``posterior``, ``sample_stats``, ``log_likelihood``, ``observed_data`` and,
        when given, ``constant_data`` and ``prior``.

    Raises
    ------
    ResultError
        If an array has the wrong shape, a required sample statistic is missing, or an
        attribute cannot be stored.
    """
    obs_dims = dict(obs_dims or {})
    if not posterior:
        raise ResultError("posterior is empty: there are no sampled parameters to store")

    post, shape = _check_chain_draw("posterior", posterior, None, 0)
    assert shape is not None
    nchain, ndraw = shape

    missing = [key for key in _REQUIRED_SAMPLE_STATS if key not in sample_stats]
    if missing:
        raise ResultError(f"sample_stats lacks {', '.join(repr(m) for m in missing)}")
    stats_in = dict(sample_stats)
    if "acceptance_rate" in stats_in:
        acc = np.asarray(stats_in["acceptance_rate"], dtype=float)
        if acc.shape == (nchain,):
            # emcee reports one rate per walker; repeating it keeps sample_stats (chain, draw)
            # so ArviZ can handle every variable of the group alike.
            stats_in["acceptance_rate"] = np.repeat(acc[:, None], ndraw, axis=1)
    stats, _ = _check_chain_draw("sample_stats", stats_in, shape, 0)

    observed: dict[str, np.ndarray] = {}
    for name, value in observed_data.items():
        arr = _as_array(f"observed_data '{name}'", value)
        if arr.ndim != 1:
            raise ResultError(
                f"observed_data '{name}' has shape {arr.shape}, expected (nobs,)"
            )
        observed[str(name)] = arr
    for name in observed:
        obs_dims.setdefault(name, f"{name}_point")

    loglik, _ = _check_chain_draw("log_likelihood", log_likelihood, shape, 1)
    for name, arr in loglik.items():
        if name not in observed:
            raise ResultError(
                f"log_likelihood '{name}' has no matching entry in observed_data "
                f"(observed: {', '.join(observed) or 'none'})"
            )
        if arr.shape[2] != observed[name].shape[0]:
            raise ResultError(
                f"log_likelihood '{name}' has {arr.shape[2]} points per draw but "
                f"observed_data '{name}' has {observed[name].shape[0]}"
            )

    groups: dict[str, xr.Dataset] = {
        "posterior": az.dict_to_dataset(post),
        "sample_stats": az.dict_to_dataset(stats),
        "log_likelihood": az.dict_to_dataset(
            loglik, dims={name: _dims_for(name, arr[0, 0], obs_dims)
                          for name, arr in loglik.items()}
        ),
        "observed_data": xr.Dataset(
            {name: (_dims_for(name, arr, obs_dims), arr) for name, arr in observed.items()}
        ),
    }
    if constant_data:
        const = {}
        for name, value in constant_data.items():
            arr = _as_array(f"constant_data '{name}'", value)
            const[str(name)] = (_dims_for(str(name), arr, obs_dims), arr)
        try:
            groups["constant_data"] = xr.Dataset(const)
        except ValueError as err:  # conflicting sizes along a shared dimension name
            raise ResultError(f"constant_data: {err}") from err
    if prior:
        prior_arrays = {}
        for name, value in prior.items():
            arr = _as_array(f"prior '{name}'", value)
            if arr.ndim != 2:
                raise ResultError(
                    f"prior '{name}' has shape {arr.shape}, expected (1, nsamples)"
                )
            prior_arrays[str(name)] = arr
        groups["prior"] = az.dict_to_dataset(prior_arrays)

    root_attrs = _encode_attrs(dict(attrs or {}))
    root_attrs.setdefault("format", _format_string())
    return az.InferenceData(attrs=root_attrs, **groups)


# --------------------------------------------------------------------------------------------
# Provenance and attributes
# --------------------------------------------------------------------------------------------


def _format_string(version: int = RESULT_FORMAT_VERSION) -> str:
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


def _encode_attrs(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """Turn a provenance dict into NetCDF-storable root attributes."""
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
    raw = dict(idata.attrs)
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
        "format": _format_string(),
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


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------


def save(idata: az.InferenceData, path: str | os.PathLike) -> Path:
    """Write a result to NetCDF atomically.

    The file is written to a temporary file in the target directory, flushed to disk and then
    renamed over ``path``, so a crash or a full disk never leaves a half-written result under
    the final name (and never destroys a previous result).

    Parameters
    ----------
    idata : arviz.InferenceData
        The result; a ``"format"`` attribute is written if it has none (``idata`` itself is
        not modified).
    path : str or path-like
        Destination, conventionally ``*.nc``.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ResultError
        If the directory does not exist or the file cannot be written.
    """
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise ResultError(
            f"cannot write result file '{path}': directory '{directory}' does not exist"
        )

    attrs = dict(idata.attrs)
    attrs.setdefault("format", _format_string())
    # A new InferenceData sharing the datasets lets us write the completed attributes without
    # mutating the caller's object.
    to_write = az.InferenceData(attrs=attrs, **{g: idata[g] for g in idata.groups()})

    # Not mkstemp: its mode 0600 would make the result unreadable to colleagues.
    tmp = _new_temporary(path, ".tmp")
    try:
        to_write.to_netcdf(str(tmp), engine="h5netcdf")
        # h5netcdf closes the file but does not fsync it; without this a power cut after the
        # rename could leave an empty file under the final name.
        with open(tmp, "r+b") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as err:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(err, (OSError, ValueError, TypeError)) and not isinstance(err, TLSBayesError):
            raise ResultError(f"cannot write result file '{path}': {err}") from err
        raise
    _fsync_directory(directory)
    return path


def _has_hdf5_signature(path: Path) -> bool:
    # HDF5 allows a user block before the superblock, so the signature may sit at 0, 512,
    # 1024, 2048, ... bytes.
    size = path.stat().st_size
    with open(path, "rb") as fh:
        offset = 0
        while offset + len(_HDF5_SIGNATURE) <= size:
            fh.seek(offset)
            if fh.read(len(_HDF5_SIGNATURE)) == _HDF5_SIGNATURE:
                return True
            offset = 512 if offset == 0 else offset * 2
    return False


def load(path: str | os.PathLike) -> az.InferenceData:
    """Read a result written by :func:`save`.

    Only NetCDF is read (no pickle), fully into memory, so the file is closed on return and
    may be overwritten.

    Parameters
    ----------
    path : str or path-like
        A ``.nc`` result file.

    Returns
    -------
    arviz.InferenceData

    Raises
    ------
    ResultError
        Naming the file, if it does not exist, is not a (readable) NetCDF file, is not a
        tlsbayes result, was written by an incompatible format version, or has no posterior.
    """
    path = Path(path)

    def fail(problem: str, cause: BaseException | None = None) -> ResultError:
        err = ResultError(f"result file '{path}' {problem}")
        err.__cause__ = cause
        return err

    if not path.exists():
        raise fail("does not exist")
    if not path.is_file():
        raise fail("is not a file")
    try:
        if not _has_hdf5_signature(path):
            raise fail("is not a NetCDF file (no NetCDF-4/HDF5 signature)")
    except OSError as err:
        raise fail(f"cannot be read: {err.strerror or err}", err) from err

    try:
        with warnings.catch_warnings():
            # ArviZ warns about groups outside its schema; a foreign file is reported below.
            warnings.simplefilter("ignore", UserWarning)
            with az.rc_context(rc={"data.load": "eager"}):
                idata = az.from_netcdf(str(path), engine="h5netcdf")
    except Exception as err:  # noqa: BLE001
        # h5py, h5netcdf and xarray raise OSError, KeyError, ValueError, RuntimeError, ... for
        # damaged files; the user needs one actionable message, the cause stays chained.
        raise fail(
            f"is not a readable NetCDF file (truncated or corrupt?): {type(err).__name__}: {err}",
            err,
        ) from err

    fmt = idata.attrs.get("format")
    if fmt is None:
        raise fail(f"is not a tlsbayes result (no 'format' attribute; expected "
                   f"'{_format_string()}')")
    name, sep, version_text = str(fmt).partition("/")
    if name != RESULT_FORMAT_NAME or not sep:
        raise fail(f"is not a tlsbayes result (format is {fmt!r}, expected "
                   f"'{_format_string()}')")
    try:
        version = int(version_text)
    except ValueError:
        raise fail(f"has a malformed format attribute {fmt!r}") from None
    if version not in _READABLE_FORMAT_VERSIONS:
        readable = ", ".join(str(v) for v in sorted(_READABLE_FORMAT_VERSIONS))
        raise fail(
            f"was written by an incompatible format version {version} (this tlsbayes reads "
            f"format version {readable}); use a matching tlsbayes version to read it"
        )
    if "posterior" not in idata.groups():
        raise fail("has no posterior group")
    return idata


# --------------------------------------------------------------------------------------------
# Summaries
# --------------------------------------------------------------------------------------------


def _scalar_slices(posterior: xr.Dataset, var_names: Iterable[str]):
    """Yield ``(label, name, index)`` for every scalar component of the requested variables."""
    for name in var_names:
        da = posterior[name]
        extra = [d for d in da.dims if d not in ("chain", "draw")]
        if not extra:
            yield name, name, {}
            continue
        for idx in np.ndindex(*(da.sizes[d] for d in extra)):
            sel = dict(zip(extra, idx))
            coords = [str(da[d].values[i]) if d in da.coords else str(i)
                      for d, i in sel.items()]
            yield f"{name}[{','.join(coords)}]", name, sel


def _resolve_var_names(idata: az.InferenceData, var_names: Iterable[str] | None) -> list[str]:
    if "posterior" not in idata.groups():
        raise ResultError("the result has no posterior group")
    available = list(idata.posterior.data_vars)
    if var_names is None:
        return available
    if isinstance(var_names, str):
        var_names = [var_names]
    names = list(var_names)
    unknown = [n for n in names if n not in available]
    if unknown:
        raise ResultError(
            f"unknown parameter(s) {', '.join(repr(u) for u in unknown)}; the posterior has "
            f"{', '.join(available)}"
        )
    return names


def _map_warning(map_value: float, median: float, sd: float, q16: float, q84: float) -> str:
    if not math.isfinite(map_value):
        return ""
    problems = []
    if not q16 <= map_value <= q84:
        side = "below" if map_value < q16 else "above"
        problems.append(f"MAP {side} the 16-84 % interval")
    if sd > 0 and abs(map_value - median) > sd:
        problems.append(f"MAP {abs(map_value - median) / sd:.1f} sd from the median")
    return "; ".join(problems)


def summarize(
    idata: az.InferenceData,
    *,
    map_params: Mapping[str, float] | None = None,
    hdi_prob: float = 0.95,
    var_names: Iterable[str] | None = None,
) -> pd.DataFrame:
    """One row of posterior statistics per parameter.

    Parameters
    ----------
    idata : arviz.InferenceData
        Result with a ``posterior`` group.
    map_params : mapping of str to float, optional
        Maximum a posteriori point (physical units) to compare with the posterior.
    hdi_prob : float, default 0.95
        Probability mass of the highest-density interval.
    var_names : iterable of str, optional
        Parameters to include, in this order; default all posterior variables.  A variable
        with extra dimensions gives one row per component, labelled ``name[coord,...]``.

    Returns
    -------
    pandas.DataFrame
        Index ``parameter``; columns ``mean``, ``sd`` (ddof=1), ``median``, ``q16``, ``q84``
        (linear-interpolated quantiles over all chains and draws), ``hdi_low``, ``hdi_high``
        (ArviZ HDI), ``ess_bulk``, ``ess_tail``, ``r_hat`` (ArviZ rank-normalised split
        R-hat), ``map`` (NaN when not given) and ``map_warning`` (empty when fine; otherwise
        says whether the MAP is outside the 16-84 % interval and/or more than 1 sd from the
        median: a MAP far from the bulk means the posterior is skewed or multimodal and the
        MAP is not a representative point estimate).

    Raises
    ------
    ResultError
        If there is no posterior or a requested parameter is unknown.
    """
    if not 0 < hdi_prob < 1:
        raise ResultError(f"hdi_prob must lie strictly between 0 and 1, got {hdi_prob}")
    names = _resolve_var_names(idata, var_names)
    map_params = dict(map_params or {})
    posterior = idata.posterior

    with warnings.catch_warnings():
        # Short test chains trigger ArviZ's "too few draws" warnings; the numbers themselves
        # (ESS, R-hat) already tell the user the same thing.
        warnings.simplefilter("ignore", UserWarning)
        hdi = az.hdi(posterior, hdi_prob=hdi_prob, var_names=names)
        ess_bulk = az.ess(posterior, var_names=names, method="bulk")
        ess_tail = az.ess(posterior, var_names=names, method="tail")
        rhat = az.rhat(posterior, var_names=names, method="rank")

    rows = {}
    for label, name, sel in _scalar_slices(posterior, names):
        samples = np.asarray(posterior[name].isel(sel).values, dtype=float).ravel()
        mean = float(np.mean(samples))
        sd = float(np.std(samples, ddof=1)) if samples.size > 1 else math.nan
        median, q16, q84 = (float(v) for v in np.quantile(samples, [0.5, 0.16, 0.84]))
        interval = hdi[name].isel(sel).values
        map_value = float(map_params.get(label, math.nan))
        rows[label] = {
            "mean": mean,
            "sd": sd,
            "median": median,
            "q16": q16,
            "q84": q84,
            "hdi_low": float(interval[0]),
            "hdi_high": float(interval[1]),
            "ess_bulk": float(ess_bulk[name].isel(sel).values),
            "ess_tail": float(ess_tail[name].isel(sel).values),
            "r_hat": float(rhat[name].isel(sel).values),
            "map": map_value,
            "map_warning": _map_warning(map_value, median, sd, q16, q84),
        }
    df = pd.DataFrame.from_dict(rows, orient="index", columns=list(_SUMMARY_COLUMNS))
    df.index.name = "parameter"
    return df


def _location_digits(value: float, scale: float, sig: int) -> int:
    """Significant digits that resolve ``value`` down to ``sig`` digits of ``scale``.

    A frequency of 5.123456789e9 Hz with sd 10 Hz must print as 5123456789, not 5.12e+09.
    """
    if not (math.isfinite(value) and math.isfinite(scale)) or value == 0 or scale <= 0:
        return sig
    digits = math.floor(math.log10(abs(value))) - math.floor(math.log10(scale)) + sig
    return min(max(digits, 1), 17)


def _cells(df: pd.DataFrame, sig: int) -> tuple[list[str], list[list[str]], list[bool]]:
    """Header, formatted rows and per-column "is numeric" flags."""
    if sig < 1:
        raise ResultError(f"sig must be at least 1, got {sig}")
    columns = list(df.columns)
    header = [df.index.name or "parameter"] + [str(c) for c in columns]
    numeric = [False] + [pd.api.types.is_numeric_dtype(df[c]) for c in columns]
    rows = []
    for label, row in df.iterrows():
        scale = float(row["sd"]) if "sd" in df.columns else math.nan
        cells = [str(label)]
        for col in columns:
            value = row[col]
            if not isinstance(value, numbers.Real) or isinstance(value, bool):
                cells.append("" if value is None else str(value))
                continue
            value = float(value)
            if math.isnan(value):
                cells.append("-" if col == "map" else "nan")
            elif col in ("ess_bulk", "ess_tail", "ess"):
                cells.append(f"{value:.0f}")
            elif col == "r_hat":
                # r_hat 1.004 vs 1.04 matters; significant digits would print both as "1".
                cells.append(f"{value:.3f}")
            elif col in _LOCATION_COLUMNS:
                cells.append(f"{value:.{_location_digits(value, scale, sig)}g}")
            else:
                cells.append(f"{value:.{sig}g}")
        rows.append(cells)
    return header, rows, numeric


def format_summary(df: pd.DataFrame, *, sig: int = 3) -> str:
    """Render a :func:`summarize` table as aligned plain text for a terminal.

    Parameters
    ----------
    df : pandas.DataFrame
        Output of :func:`summarize` (other frames with numeric columns work too).
    sig : int, default 3
        Significant digits of the standard deviation.  Location columns (mean, median,
        quantiles, HDI, MAP) are printed to the same absolute precision as the sd, so a
        well-constrained large number keeps its meaningful digits.  ESS is printed as an
        integer and R-hat with three decimals.

    Returns
    -------
    str
        Header, a dashed rule and one line per parameter; numbers right-aligned, text
        left-aligned; no trailing newline.
    """
    header, rows, numeric = _cells(df, sig)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        parts = [c.rjust(w) if num else c.ljust(w) for c, w, num in zip(cells, widths, numeric)]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def format_summary_markdown(df: pd.DataFrame, *, sig: int = 3) -> str:
    """Render a :func:`summarize` table as a GitHub-flavoured Markdown pipe table.

    Same cell formatting as :func:`format_summary`; does not need ``tabulate``.

    Parameters
    ----------
    df : pandas.DataFrame
        Output of :func:`summarize`.
    sig : int, default 3
        Significant digits of the standard deviation (see :func:`format_summary`).

    Returns
    -------
    str
        The table, numeric columns right-aligned (``---:``); no trailing newline.
    """
    header, rows, numeric = _cells(df, sig)

    def esc(text: str) -> str:
        return text.replace("|", "\\|")

    lines = ["| " + " | ".join(esc(h) for h in header) + " |",
             "|" + "|".join("---:" if num else ":---" for num in numeric) + "|"]
    lines += ["| " + " | ".join(esc(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Degeneracies
# --------------------------------------------------------------------------------------------


def degeneracy_report(
    idata: az.InferenceData,
    *,
    log_params: Iterable[str] = (),
    threshold: float = 0.7,
    explanations: Mapping[frozenset, str] | None = None,
) -> dict[str, Any]:
    """Find strongly correlated parameter pairs and explain the known ones.

    Parameters
    ----------
    idata : arviz.InferenceData
        Result with a ``posterior`` group; scalar (``(chain, draw)``) variables are used.
    log_params : iterable of str
        Parameters to take the natural log of before correlating.  Pass the log-uniform
        (scale) parameters: they are sampled in log space, where their posterior is close to
        Gaussian, and a linear correlation of the raw values would understate the degeneracy.
    threshold : float, default 0.7
        Pairs with ``|rho| > threshold`` get a sentence in ``"text"``.
    explanations : mapping of frozenset to str, optional
        Physics explanation per unordered pair, appended to its sentence; default
        :data:`KNOWN_DEGENERACIES`.  Extend it with ``{**KNOWN_DEGENERACIES, ...}``.

    Returns
    -------
    dict
        ``"correlation"``: pandas.DataFrame, Pearson correlation over all chains and draws
        (NaN for a parameter that does not vary); ``"pairs"``: list of
        ``(name_a, name_b, rho)`` for every pair, by ``|rho|`` descending (NaN last);
        ``"text"``: one sentence per pair above the threshold; ``"log_params"``: the
        parameters that were log-transformed.

    Raises
    ------
    ResultError
        If a log parameter is not in the posterior or has a non-positive sample, or the
        threshold is outside [0, 1].
    """
    if not 0 <= threshold <= 1:
        raise ResultError(f"threshold must lie in [0, 1], got {threshold}")
    explanations = KNOWN_DEGENERACIES if explanations is None else explanations
    names = [n for n in _resolve_var_names(idata, None)
             if set(idata.posterior[n].dims) <= {"chain", "draw"}]
    log_params = tuple(log_params)
    unknown = [p for p in log_params if p not in names]
    if unknown:
        raise ResultError(
            f"log_params {', '.join(repr(u) for u in unknown)} not among the scalar posterior "
            f"parameters ({', '.join(names)})"
        )

    columns = []
    for name in names:
        samples = np.asarray(idata.posterior[name].values, dtype=float).ravel()
        if name in log_params:
            if np.any(samples <= 0):
                raise ResultError(
                    f"parameter '{name}' has non-positive samples and cannot be taken in "
                    f"log space (remove it from log_params)"
                )
            samples = np.log(samples)
        columns.append(samples)

    if columns:
        data = np.vstack(columns)
        centred = data - data.mean(axis=1, keepdims=True)
        norm = np.sqrt(np.einsum("ij,ij->i", centred, centred))
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = (centred @ centred.T) / np.outer(norm, norm)
        # Rounding can push |rho| a hair above 1 for perfectly (anti)correlated pairs.
        corr = np.clip(corr, -1.0, 1.0)
    else:
        corr = np.empty((0, 0))
    corr_df = pd.DataFrame(corr, index=names, columns=names)

    pairs = [(names[i], names[j], float(corr[i, j]))
             for i in range(len(names)) for j in range(i + 1, len(names))]
    pairs.sort(key=lambda p: (math.isnan(p[2]), -abs(p[2]) if not math.isnan(p[2]) else 0.0))

    text = []
    for a, b, rho in pairs:
        if math.isnan(rho) or abs(rho) <= threshold:
            continue
        kind = "correlated" if rho > 0 else "anti-correlated"
        sentence = f"{a} and {b} are strongly {kind} (rho = {rho:+.2f})"
        why = explanations.get(frozenset({a, b}))
        text.append(f"{sentence}: {why}." if why else f"{sentence}.")
    return {"correlation": corr_df, "pairs": pairs, "text": text, "log_params": log_params}
