"""A :class:`~tlsbayes.results.groups.Result` to and from a NetCDF-4 file, with h5netcdf alone.

The file is the one ArviZ writes (``InferenceData.to_netcdf(engine="h5netcdf")``): one NetCDF
group per result group, coordinate variables for the dimensions that have them, the group
attributes, and the root attributes on the root group; floating-point variables carry a NaN
``_FillValue``, booleans are stored as ``int8`` with ``dtype = "bool"``, as xarray encodes
them.  Unlike ArviZ's ``compress=True`` the arrays are stored without zlib: posterior draws
are floats that zlib shrinks by only ~17 % (the Ta card's file: 2.65 MB -> 2.20 MB) for half of
the time it takes to write the file (0.068 -> 0.13 s CPU); how a variable is stored on disk
is not part of what the readers return.  ``arviz.from_netcdf``, xarray and the netCDF4
library therefore read it back unchanged (tests/test_results.py), and :func:`read` reads
files ArviZ wrote, compressed or not.  :func:`image` builds the file in memory (the caller
writes the bytes: see :func:`tlsbayes.results.store.save` for why).  Neither direction imports ArviZ, xarray or
pandas (they take seconds to import and are not needed to move arrays in and out of HDF5).
"""

from __future__ import annotations

import numpy as np

from tlsbayes.errors import ResultError
from tlsbayes.results.groups import Group, Result, Variable

__all__ = ["image", "read"]

# Attributes the NetCDF-4/HDF5 layer keeps for itself (dimension bookkeeping).
_RESERVED = frozenset({"_FillValue", "_Netcdf4Dimid", "_Netcdf4Coordinates", "_NCProperties",
                       "CLASS", "NAME", "REFERENCE_LIST", "DIMENSION_LIST"})


def _encoded(name: str, var: Variable) -> tuple[np.ndarray, dict, object]:
    """``(data, attrs, fillvalue)`` of ``var`` as xarray would write it."""
    values, attrs, fill = var.values, dict(var.attrs), None
    if values.dtype == bool:
        values, attrs["dtype"] = values.astype(np.int8), "bool"
    elif values.dtype.kind == "f":
        fill = values.dtype.type(np.nan)
    elif values.dtype.kind not in "iu":
        raise ResultError(f"variable '{name}': cannot store values of dtype {values.dtype} "
                          "in a result file")
    return values, attrs, fill


def image(result: Result) -> bytes:
    """The NetCDF-4 file of ``result``, built in memory.

    Raises
    ------
    ResultError
        A variable of a dtype a result file cannot hold (strings, objects).
    ValueError, TypeError
        From h5py/h5netcdf (an attribute h5py cannot store, ...).
    """
    import io

    import h5netcdf

    buffer = io.BytesIO()
    with h5netcdf.File(buffer, "w") as fh:
        _fill(fh, result)
    return buffer.getvalue()


def _fill(fh, result: Result) -> None:
    """Write the groups and attributes of ``result`` into the open h5netcdf file ``fh``."""
    for key, value in result.attrs.items():
        fh.attrs[key] = value
    for gname in result.groups():
        group = result[gname]
        g = fh.create_group(gname)
        g.dimensions = dict(group.sizes)
        # coordinates first: their dimension scales are then the coordinate variables
        for name, var in [*group.coords.items(), *group.data_vars.items()]:
            data, attrs, fill = _encoded(f"{gname}/{name}", var)
            v = g.create_variable(name, var.dims, data=data, fillvalue=fill)
            for key, value in attrs.items():
                v.attrs[key] = value
        for key, value in group.attrs.items():
            g.attrs[key] = value


def _decoded(var) -> Variable:
    """A variable read by h5netcdf, decoded as xarray decodes it (fill value, booleans)."""
    values = var[...]
    attrs = {k: v for k, v in var.attrs.items() if k not in _RESERVED}
    fill = var.attrs.get("_FillValue")
    if values.dtype.kind == "f" and fill is not None:
        fill = np.asarray(fill).reshape(-1)[0]
        if not np.isnan(fill):
            values = np.where(values == fill, np.nan, values)
    if attrs.get("dtype") == "bool":
        attrs.pop("dtype")
        values = values.astype(bool)
    return Variable(var.dimensions, values, attrs)


def _plain(value):
    return value.decode() if isinstance(value, bytes) else value


def read(path, only=None) -> Result:
    """Read a result file written by :func:`write` or by ArviZ, fully into memory (only the
    groups named in ``only``, if given; a group the file lacks is left out).

    Raises
    ------
    OSError, KeyError, ValueError, RuntimeError
        From h5py/h5netcdf, for a file that is not (readable) NetCDF-4; the caller names the
        file in its message.
    """
    import h5netcdf

    groups = {}
    with h5netcdf.File(path, "r") as fh:
        attrs = {k: _plain(v) for k, v in fh.attrs.items() if k not in _RESERVED}
        for gname, g in fh.groups.items():
            if only is not None and gname not in only:
                continue
            data_vars, coords = {}, {}
            for name, var in g.variables.items():
                is_coord = var.dimensions == (name,)
                (coords if is_coord else data_vars)[name] = _decoded(var)
            groups[gname] = Group(data_vars, coords,
                                  {k: _plain(v) for k, v in g.attrs.items()
                                   if k not in _RESERVED})
    return Result(groups, attrs)
