"""Result files: an :class:`arviz.InferenceData` written to and read from NetCDF-4.

Files are NetCDF-4 (HDF5) written by ArviZ through ``h5netcdf``, atomically (temporary file,
fsync, rename); nothing read from disk is unpickled.  :func:`load` checks the ``format``
attribute (:mod:`tlsbayes.results.provenance`) and names the file in every error.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from tlsbayes.atomic import fsync_directory, new_temporary
from tlsbayes.errors import ResultError, TLSBayesError
from tlsbayes.results.provenance import (
    READABLE_FORMAT_VERSIONS,
    RESULT_FORMAT_NAME,
    format_string,
)

if TYPE_CHECKING:  # ArviZ takes seconds to import: only when a result is read or written
    import arviz as az

__all__ = ["load", "save"]

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


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

    import arviz as az

    attrs = dict(idata.attrs)
    attrs.setdefault("format", format_string())
    # A new InferenceData sharing the datasets lets us write the completed attributes without
    # mutating the caller's object.
    to_write = az.InferenceData(attrs=attrs, **{g: idata[g] for g in idata.groups()})

    image = _netcdf_image(to_write)
    # Not mkstemp: its mode 0600 would make the result unreadable to colleagues.
    tmp = new_temporary(path, ".tmp")
    try:
        with open(tmp, "r+b") as fh:
            fh.write(image)
            fh.flush()
            # Without the fsync a power cut after the rename could leave an empty file under
            # the final name.
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as err:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(err, (OSError, ValueError, TypeError)) and not isinstance(err, TLSBayesError):
            raise ResultError(f"cannot write result file '{path}': {err}") from err
        raise
    fsync_directory(directory)
    return path


def _netcdf_image(idata) -> bytes:
    """The NetCDF-4 file of ``idata`` built in memory, as ``InferenceData.to_netcdf`` writes
    it (root attributes, one group per ArviZ group, zlib for numeric variables).

    In memory because libhdf5 crashes (double free, segmentation fault) when a write to disk
    fails with a full disk; Python's own write of the bytes fails with a plain OSError
    (:func:`tlsbayes.atomic.hdf5_image` does the same for the checkpoint).
    """
    import io

    import h5netcdf
    import xarray as xr

    buffer = io.BytesIO()
    h5netcdf.File(buffer, "w").close()
    xr.Dataset(attrs=idata.attrs).to_netcdf(buffer, mode="a", engine="h5netcdf")
    for group in idata.groups():
        data = idata[group]
        encoding = {name: {"zlib": True} for name, v in data.variables.items()
                    if v.dtype.kind in "biufcS"}
        data.to_netcdf(buffer, mode="a", group=group, engine="h5netcdf", encoding=encoding)
    return buffer.getvalue()


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

    import arviz as az

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
                   f"'{format_string()}')")
    name, sep, version_text = str(fmt).partition("/")
    if name != RESULT_FORMAT_NAME or not sep:
        raise fail(f"is not a tlsbayes result (format is {fmt!r}, expected "
                   f"'{format_string()}')")
    try:
        version = int(version_text)
    except ValueError:
        raise fail(f"has a malformed format attribute {fmt!r}") from None
    if version not in READABLE_FORMAT_VERSIONS:
        readable = ", ".join(str(v) for v in sorted(READABLE_FORMAT_VERSIONS))
        raise fail(
            f"was written by an incompatible format version {version} (this tlsbayes reads "
            f"format version {readable}); use a matching tlsbayes version to read it"
        )
    if "posterior" not in idata.groups():
        raise fail("has no posterior group")
    return idata

