"""Traces from a QCoDeS dataset database (``.db``, SQLite), through the qcodes package.

Every run of every experiment in the database is converted with
``DataSet.to_xarray_dataset()`` and read like a NetCDF file
(by the ``convert`` function the caller passes, :func:`tlsbayes.s21.readers.traces_from_dataset`,
so that this module does not import the readers that import it): the frequency setpoint is the one whose
name contains ``freq``, S21 a complex parameter or a real/imag, i/q or dB/phase pair; a
setpoint named ``*power*`` splits a run into one trace per power.  Power and temperature come
from the run's metadata ``power_dBm`` and ``temperature_K`` (``DataSet.add_metadata``), else
from the run name with the file-name rules.  The database is opened read-only.  A run that
holds no S21 (a temperature log, say) is skipped; a database with none raises.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import DataError

__all__ = ["read_qcodes_db"]

_SQLITE_MAGIC = b"SQLite format 3\x00"


def read_qcodes_db(path, convert, pattern: str | None = None) -> list:
    """All traces of a QCoDeS database.

    Parameters
    ----------
    path : path-like
        The ``.db`` file.
    convert : callable
        ``convert(xarray_dataset, source, run_name, pattern) -> list[Trace]``
        (:func:`tlsbayes.s21.readers.traces_from_dataset`).
    pattern : str, optional
        File-name pattern for power and temperature (:func:`tlsbayes.s21.readers.parse_name`).

    Raises
    ------
    DataError
        One line naming the file: not an SQLite file, not a QCoDeS database, no S21 runs,
        qcodes not installed.
    """
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            magic = fh.read(len(_SQLITE_MAGIC))
    except OSError as exc:
        raise DataError(f"'{path}': cannot read ({exc.strerror})") from None
    if magic != _SQLITE_MAGIC:
        raise DataError(f"'{path}': not an SQLite (QCoDeS) database")
    try:
        from qcodes.dataset import experiments
        from qcodes.dataset.sqlite.database import connect
    except ImportError:
        raise DataError(f"'{path}': reading QCoDeS databases needs qcodes "
                        "(pip install 'tlsbayes[s21]')") from None
    try:
        conn = connect(str(path), read_only=True)
    except Exception as exc:  # sqlite3.DatabaseError, RuntimeError for unknown versions...
        raise DataError(f"'{path}': not a readable QCoDeS database ({type(exc).__name__})"
                        ) from None
    traces: list = []
    problems: list[str] = []
    try:
        try:
            runs = [ds for exp in experiments(conn=conn) for ds in exp.data_sets()]
        except Exception as exc:
            raise DataError(f"'{path}': not a readable QCoDeS database "
                            f"({type(exc).__name__})") from None
        for ds in runs:
            src = f"{path}::run{ds.run_id}"
            try:
                xds = ds.to_xarray_dataset()
            except Exception as exc:  # an empty or unfinished run
                problems.append(f"run {ds.run_id}: {type(exc).__name__}")
                continue
            xds.attrs.update({k: v for k, v in (ds.metadata or {}).items()
                              if k in ("power_dBm", "temperature_K")})
            try:
                traces.extend(convert(xds, src, ds.name or "", pattern))
            except DataError as exc:
                problems.append(str(exc))
    finally:
        conn.close()
    if not traces:
        why = f" ({problems[0]})" if problems else ""
        raise DataError(f"'{path}': no S21 traces in the database{why}")
    return traces
