"""Raw resonator traces in: text tables, Touchstone, HDF5/NetCDF; power and temperature from names.

A trace is one VNA sweep around one resonance: frequencies [Hz] and complex S21 (S11 for a
one-port reflection measurement), with the readout power and the temperature that it was taken
at.  :func:`find_trace_files` turns files and folders into a sorted list of trace files;
:func:`read_trace` reads one file into a list of :class:`Trace` (a NetCDF file can hold a
power sweep, a QCoDeS database many runs: :mod:`tlsbayes.s21.readers_db`).

File formats
------------
* **Text** (``.csv``, ``.txt``, ``.dat``, ``.tsv``): comma, semicolon, tab or blank
  separated; whole lines starting with ``#``, ``!`` or ``%`` are comments.  The first column
  is the frequency in Hz; the other two are, by ``columns``:

  ======================  ==================================================
  ``"db_deg"``            |S21| in dB, phase in degrees (the Boulder files)
  ``"db_rad"``            |S21| in dB, phase in radians
  ``"lin_deg"``           |S21| linear, phase in degrees
  ``"reim"`` / ``"iq"``   real and imaginary part (I and Q)
  ======================  ==================================================

  ``columns=None`` decides from a header line when there is one (names containing
  ``re``/``real`` + ``im``/``imag``, or ``i`` + ``q``: real/imag; ``db`` or ``mag`` +
  ``phase``/``deg``/``rad``: magnitude and phase, in radians only when the phase name says
  ``rad``); without a header from the numbers: a third column beyond ±2π+0.01 is a phase in
  degrees with dB magnitudes; else a second column beyond ±2 is dB with the phase in radians;
  else the two are real and imaginary parts.  Declare ``columns`` when in doubt.
* **Touchstone** (``.s2p``: S21; ``.s1p``: S11, geometry ``reflection``) through scikit-rf.
* **HDF5 / NetCDF** (``.h5``, ``.hdf5``, ``.nc``) through xarray: the frequency is the
  variable or coordinate whose name contains ``freq``; S21 is a complex variable, or a pair of
  real variables named as the text columns are (``real``/``imag``, ``i``/``q``,
  ``*db*``/``*phase*``).  A second dimension whose coordinate name contains ``power`` splits
  the file into one trace per power.  Power and temperature come from the attributes
  ``power_dBm`` and ``temperature_K`` (of the variable or of the file) when present.

Power and temperature from file names
-------------------------------------
By default the power is the number before ``dB`` or ``dBm`` and the temperature the number
before ``mK`` (or ``K``), each delimited by ``_``; ``p`` may stand for the decimal point:
``..._-35dB_9mK.csv``, ``..._-30p0dB_12mK.csv``, ``..._-20.0dB_75.0mK.csv``.  A different
layout is declared with a regular expression with the named groups ``power_dBm`` and
``temperature_mK`` or ``temperature_K`` (searched in the file name without its folder).  A
trace file needs a power; the temperature is NaN when the name has none.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import DataError

__all__ = ["Trace", "TEXT_SUFFIXES", "TRACE_SUFFIXES", "COLUMN_KINDS", "find_trace_files",
           "parse_name", "read_trace", "read_text", "read_touchstone", "read_xarray",
           "traces_from_dataset",
           "make_trace"]

TEXT_SUFFIXES = (".csv", ".txt", ".dat", ".tsv")
TOUCHSTONE_SUFFIXES = (".s2p", ".s1p")
XARRAY_SUFFIXES = (".nc", ".h5", ".hdf5")
DB_SUFFIXES = (".db",)
TRACE_SUFFIXES = TEXT_SUFFIXES + TOUCHSTONE_SUFFIXES + XARRAY_SUFFIXES + DB_SUFFIXES
COLUMN_KINDS = ("db_deg", "db_rad", "lin_deg", "reim", "iq")

_NUM = r"[-+]?\d+(?:[p.]\d+)?"
_POWER = re.compile(rf"(?:^|_)(?P<power_dBm>{_NUM})dBm?(?=_|\.|$)")
_TEMP = re.compile(rf"(?:^|_)(?P<temperature>\d+(?:[p.]\d+)?)(?P<unit>mK|K)(?=_|\.|$)")
_MIN_POINTS = 20


@dataclass
class Trace:
    """One resonator trace.

    Attributes
    ----------
    file : str
        Source (a path, with ``::label`` when one file holds several traces).
    f : ndarray, shape (m,)
        Frequencies [Hz], increasing.
    z : ndarray of complex, shape (m,)
        S21 (S11 for reflection).
    power_dBm : float
        Readout power at the instrument [dBm].
    temperature_K : float
        Temperature [K]; NaN when unknown.
    geometry : str
        ``"notch"`` or ``"reflection"`` (Touchstone ``.s1p``).
    n_dropped : int
        Rows dropped because a value was not finite.
    """

    file: str
    f: np.ndarray
    z: np.ndarray
    power_dBm: float
    temperature_K: float
    geometry: str = "notch"
    n_dropped: int = 0
    meta: dict = field(default_factory=dict)


def _num(text: str) -> float:
    return float(text.replace("p", "."))


def parse_name(path, pattern: str | None = None) -> tuple[float, float]:
    """``(power_dBm, temperature_K)`` from a file name (module docstring); NaN when absent."""
    name = Path(path).name
    if pattern is not None:
        m = re.search(pattern, name)
        if m is None:
            return math.nan, math.nan
        g = m.groupdict()
        power = _num(g["power_dBm"]) if g.get("power_dBm") else math.nan
        if g.get("temperature_K"):
            temp = _num(g["temperature_K"])
        elif g.get("temperature_mK"):
            temp = _num(g["temperature_mK"]) * 1e-3
        else:
            temp = math.nan
        return power, temp
    mp = _POWER.search(name)
    mt = _TEMP.search(name)
    power = _num(mp.group("power_dBm")) if mp else math.nan
    temp = math.nan
    if mt:
        temp = _num(mt.group("temperature")) * (1e-3 if mt.group("unit") == "mK" else 1.0)
    return power, temp


def _check_pattern(pattern):
    if pattern is None:
        return
    try:
        groups = re.compile(pattern).groupindex
    except re.error as exc:
        raise DataError(f"file-name pattern {pattern!r} is not a regular expression: {exc}")
    if "power_dBm" not in groups:
        raise DataError(f"file-name pattern {pattern!r} has no named group 'power_dBm'")


def find_trace_files(paths, pattern: str | None = None) -> tuple[list[Path], list[Path]]:
    """Trace files in ``paths`` (files, or folders searched recursively), sorted.

    In a folder, a file counts as a trace when its suffix is one of :data:`TRACE_SUFFIXES`
    and (for text files) its name carries a power; other text files (``conditions.csv``, fit
    tables) are returned in the second list, *skipped*.  A file named explicitly is always
    a trace.

    Raises
    ------
    DataError
        A path that does not exist, or a folder without any trace file.
    """
    _check_pattern(pattern)
    files: list[Path] = []
    skipped: list[Path] = []
    for p in map(Path, paths):
        if p.is_file():
            files.append(p)
        elif p.is_dir():
            found = [q for q in sorted(p.rglob("*"))
                     if q.is_file() and q.suffix.lower() in TRACE_SUFFIXES]
            n_before = len(files)
            for q in found:
                if q.suffix.lower() in TEXT_SUFFIXES and math.isnan(parse_name(q, pattern)[0]):
                    skipped.append(q)
                else:
                    files.append(q)
            if len(files) == n_before:
                what = f"; skipped {len(found)} without a power in the name" if found else ""
                raise DataError(f"folder '{p}' holds no trace files "
                                f"({', '.join(TRACE_SUFFIXES)}){what}")
        else:
            raise DataError(f"'{p}': no such file or folder")
    return sorted(set(files)), skipped


def make_trace(src, f, z, power, temp, geometry="notch", meta=None) -> Trace:
    """Validate and sort one trace; drop non-finite rows (counted in ``n_dropped``).

    Raises
    ------
    DataError
        No power, fewer than 20 finite points, or a frequency that is not positive.
    """
    if not np.isfinite(power):
        raise DataError(f"'{src}': no readout power (no '..._<P>dB_...' in the file name and "
                        "no power_dBm attribute); rename the file or declare a name pattern")
    f = np.asarray(f, dtype=float).reshape(-1)
    z = np.asarray(z, dtype=complex).reshape(-1)
    good = np.isfinite(f) & np.isfinite(z.real) & np.isfinite(z.imag)
    n_bad = int(good.size - good.sum())
    f, z = f[good], z[good]
    if f.size < _MIN_POINTS:
        raise DataError(f"'{src}': {f.size} finite points; a trace needs at least {_MIN_POINTS}")
    if f.min() <= 0.0:
        raise DataError(f"'{src}': frequency column has values <= 0 (expected Hz)")
    order = np.argsort(f, kind="stable")
    f, z = f[order], z[order]
    if f[-1] == f[0]:
        raise DataError(f"'{src}': all frequencies are equal")
    return Trace(str(src), f, z, float(power), float(temp), geometry, n_bad, dict(meta or {}))


def _polar(mag, phase, kind):
    amp = 10.0 ** (mag / 20.0) if kind.startswith("db") else mag
    ph = np.deg2rad(phase) if kind.endswith("deg") else phase
    return amp * np.exp(1j * ph)


def _kind_from_header(names: list[str]) -> str | None:
    low = [n.strip().lower() for n in names[1:3]]
    if len(low) < 2:
        return None
    a, b = low
    if (("re" in a) and ("im" in b)) or (a in ("i", "i_v") and b in ("q", "q_v")):
        return "reim"
    if any(t in a for t in ("db", "mag", "amp", "abs")) and any(
            t in b for t in ("phase", "deg", "rad", "arg", "ang")):
        scale = "db" if "db" in a else "lin"
        return f"{scale}_{'rad' if 'rad' in b else 'deg'}"
    return None


def _kind_from_numbers(c2, c3) -> str:
    c2, c3 = c2[np.isfinite(c2)], c3[np.isfinite(c3)]
    if c2.size == 0 or c3.size == 0:
        return "db_deg"  # nothing to judge; make_trace rejects the file anyway
    if np.nanmax(np.abs(c3)) > 2.0 * np.pi + 0.01:
        return "db_deg"
    if np.nanmax(np.abs(c2)) > 2.0:
        return "db_rad"
    return "reim"


def _split(line: str) -> list[str]:
    return [t for t in re.split(r"[,;\t ]+", line.strip()) if t != ""]


def read_text(path, columns: str | None = None, pattern: str | None = None) -> Trace:
    """One text trace (module docstring).  Raises :class:`DataError` naming the file."""
    path = Path(path)
    if columns is not None and columns not in COLUMN_KINDS:
        raise DataError(f"columns = {columns!r}: choose one of {', '.join(COLUMN_KINDS)}")
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError as exc:
        raise DataError(f"'{path}': cannot read ({exc.strerror})") from None
    rows, header, first = [], None, None
    for i, line in enumerate(lines, 1):
        s = line.strip()
        if not s or s[0] in "#!%":
            continue
        toks = _split(s)
        if first is None:
            first = i
            try:
                [float(t) for t in toks]
            except ValueError:
                header = toks
                continue
        rows.append((i, toks))
    if not rows:
        raise DataError(f"'{path}': no data rows")
    width = len(rows[0][1])
    if width < 3:
        raise DataError(f"'{path}': {width} column(s); a trace needs frequency plus two S21 "
                        "columns (dB + phase, or real + imaginary)")
    if width > 3 and columns is None and header is None:
        raise DataError(f"'{path}': {width} columns and no header; declare which hold S21")
    data = np.full((len(rows), 3), np.nan)
    for r, (i, toks) in enumerate(rows):
        if len(toks) != width:
            raise DataError(f"'{path}' line {i}: {len(toks)} values, expected {width}")
        for c in range(3):
            try:
                data[r, c] = float(toks[c])
            except ValueError:
                raise DataError(f"'{path}' line {i}: {toks[c]!r} is not a number") from None
    kind = columns or (header and _kind_from_header(header)) or _kind_from_numbers(
        data[:, 1], data[:, 2])
    if kind in ("reim", "iq"):
        z = data[:, 1] + 1j * data[:, 2]
    else:
        z = _polar(data[:, 1], data[:, 2], kind)
    power, temp = parse_name(path, pattern)
    return make_trace(path, data[:, 0], z, power, temp, meta={"columns": kind})


def read_touchstone(path, pattern: str | None = None) -> Trace:
    """S21 of a ``.s2p`` or S11 of a ``.s1p`` file, through scikit-rf."""
    path = Path(path)
    try:
        import skrf
    except ImportError:
        raise DataError(f"'{path}': reading Touchstone files needs scikit-rf "
                        "(pip install 'tlsbayes[s21]')") from None
    try:
        net = skrf.Network(str(path))
    except Exception as exc:  # scikit-rf raises many types for a malformed file
        raise DataError(f"'{path}': not a readable Touchstone file ({type(exc).__name__}: "
                        f"{str(exc).splitlines()[0] if str(exc) else ''})") from None
    s = net.s
    if s.shape[1] == 1:
        z, geometry = s[:, 0, 0], "reflection"
    elif s.shape[1] >= 2:
        z, geometry = s[:, 1, 0], "notch"
    else:
        raise DataError(f"'{path}': Touchstone file without S-parameters")
    power, temp = parse_name(path, pattern)
    return make_trace(path, net.f, z, power, temp, geometry, meta={"format": "touchstone"})


def _pick(names, *needles):
    for n in names:
        low = n.lower()
        if any(t == low or t in low for t in needles):
            return n
    return None


def _xarray_signal(ds, path):
    names = list(ds.data_vars)
    for n in names:
        if np.iscomplexobj(ds[n].values):
            return ds[n], None, "complex"
    exact = {n.lower(): n for n in names}
    for a, b in (("real", "imag"), ("re", "im"), ("i", "q")):
        if a in exact and b in exact:
            return ds[exact[a]], ds[exact[b]], "reim"
    mag = _pick(names, "db", "mag", "amp")
    ph = _pick(names, "phase", "deg", "arg")
    if mag and ph:
        unit = str(ds[ph].attrs.get("units", ph)).lower()
        kind = ("db" if "db" in mag.lower() else "lin") + ("_rad" if "rad" in unit else "_deg")
        return ds[mag], ds[ph], kind
    raise DataError(f"'{path}': no S21 variables found among {names} (need a complex "
                    "variable, real/imag, i/q, or a *db*/*phase* pair)")


def _attr(ds, var, key):
    for src in (var.attrs, ds.attrs):
        if key in src:
            return float(np.asarray(src[key]).reshape(-1)[0])
    return math.nan


def read_xarray(path, pattern: str | None = None) -> list[Trace]:
    """Traces of an HDF5 or NetCDF file (module docstring), through xarray."""
    path = Path(path)
    try:
        import xarray as xr
    except ImportError:
        raise DataError(f"'{path}': reading HDF5/NetCDF traces needs xarray") from None
    try:
        ds = xr.open_dataset(path)
        ds.load()
    except Exception as exc:  # engines raise OSError, ValueError, KeyError, ...
        raise DataError(f"'{path}': not a readable HDF5/NetCDF file ({type(exc).__name__})"
                        ) from None
    with ds:
        return traces_from_dataset(ds, path, path.name, pattern)


def traces_from_dataset(ds, src, name: str, pattern: str | None = None) -> list[Trace]:
    """Traces of an :class:`xarray.Dataset` (layout of :func:`read_xarray`).

    Parameters
    ----------
    ds : xarray.Dataset
    src : str or path
        Source named in messages and in :attr:`Trace.file`.
    name : str
        Text searched for power and temperature when the attributes lack them.
    pattern : str, optional
        File-name pattern (module docstring).
    """
    a, b, kind = _xarray_signal(ds, src)
    fname = _pick(list(a.dims) + list(ds.coords) + list(ds.data_vars), "freq")
    if fname is None:
        raise DataError(f"'{src}': no frequency variable (a name containing 'freq')")
    f = np.asarray(ds[fname].values, dtype=float)
    z = a.values if kind == "complex" else (
        a.values + 1j * b.values if kind == "reim" else _polar(a.values, b.values, kind))
    name_power, name_temp = parse_name(name, pattern)
    temp = _attr(ds, a, "temperature_K")
    temp = name_temp if math.isnan(temp) else temp
    other = [d for d in a.dims if d != ds[fname].dims[0]]
    if not other:
        power = _attr(ds, a, "power_dBm")
        return [make_trace(src, f, z, name_power if math.isnan(power) else power, temp,
                           meta={"format": "xarray"})]
    pdim = other[0]
    if len(other) > 1 or "power" not in pdim.lower():
        raise DataError(f"'{src}': S21 has dimensions {a.dims}; a second dimension must "
                        "be a power sweep (a name containing 'power')")
    powers = np.asarray(ds[pdim].values, dtype=float)
    zz = np.moveaxis(np.asarray(z), a.dims.index(pdim), 0)
    return [make_trace(f"{src}::{pdim}={p:g}", f, zz[i], p, temp, meta={"format": "xarray"})
            for i, p in enumerate(powers)]


def read_trace(path, columns: str | None = None, pattern: str | None = None) -> list[Trace]:
    """All traces of one file, whatever its format (module docstring).

    Raises
    ------
    DataError
        One line naming the file: unreadable, malformed, no power, too few points.
    """
    path = Path(path)
    _check_pattern(pattern)
    suffix = path.suffix.lower()
    if suffix in TOUCHSTONE_SUFFIXES:
        return [read_touchstone(path, pattern)]
    if suffix in XARRAY_SUFFIXES:
        return read_xarray(path, pattern)
    if suffix in DB_SUFFIXES:
        from .readers_db import read_qcodes_db

        return read_qcodes_db(path, traces_from_dataset, pattern)
    return [read_text(path, columns, pattern)]
