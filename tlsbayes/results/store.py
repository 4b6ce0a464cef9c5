"""Result files: a :class:`~tlsbayes.results.groups.Result` written to and read from NetCDF-4.

Files are the NetCDF-4 (HDF5) files ArviZ writes (``arviz.from_netcdf`` reads them), written
here with h5py and read with ``h5netcdf`` (:mod:`tlsbayes.results.netcdf`: no ArviZ, xarray or
pandas import), atomically (temporary file, fsync, rename); nothing read from disk is
unpickled.  :func:`load` checks the ``format`` attribute (:mod:`tlsbayes.results.provenance`)
and names the file in every error.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from pathlib import Path
from tlsbayes.atomic import fsync_directory, new_temporary
from tlsbayes.errors import ResultError, TLSBayesError
from tlsbayes.results import netcdf
from tlsbayes.results.groups import Result
from tlsbayes.results.provenance import (
    READABLE_FORMAT_VERSIONS,
    RESULT_FORMAT_NAME,
    format_string,
)

__all__ = ["load", "save"]

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def save(idata, path: str | os.PathLike) -> Path:
    """Write a result to NetCDF atomically.

    The file is written to a temporary file in the target directory, flushed to disk and then
    renamed over ``path``, so a crash or a full disk never leaves a half-written result under
    the final name (and never destroys a previous result).

    Parameters
    ----------
    idata : Result or arviz.InferenceData
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

    result = Result.from_inference_data(idata)
    attrs = dict(result.attrs)
    attrs.setdefault("format", format_string())
    # The same groups under the completed attributes: the caller's object is not modified.
    to_write = result.with_attrs(attrs)

    # Not mkstemp: its mode 0600 would make the result unreadable to colleagues.
    tmp = new_temporary(path, ".tmp")
    try:
        # Built in memory, written by Python: libhdf5 crashes (double free, segmentation
        # fault) when its own write to disk fails with a full disk; Python's write of the
        # bytes fails with a plain OSError (tlsbayes.atomic.hdf5_image does the same for the
        # checkpoint).
        image = netcdf.image(to_write)
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


def load(path: str | os.PathLike, *, groups=None) -> Result:
    """Read a result written by :func:`save` (only ``groups``, e.g. ``("posterior",)``, if
    given: the report's figures and verdicts need the posterior alone).

    Only NetCDF is read (no pickle), fully into memory, so the file is closed on return and
    may be overwritten.

    Parameters
    ----------
    path : str or path-like
        A ``.nc`` result file.
    groups : iterable of str, optional
        The groups to read (default all); the attributes are always read.

    Returns
    -------
    Result
        ``.to_inference_data()`` gives the :class:`arviz.InferenceData`.

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
            # h5netcdf warns about files of other writers; a foreign file is reported below.
            warnings.simplefilter("ignore", UserWarning)
            idata = netcdf.read(path, only=groups)
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

