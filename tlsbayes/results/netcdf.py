"""A :class:`~tlsbayes.results.groups.Result` to and from a NetCDF-4 file, with h5py and
h5netcdf (no ArviZ, xarray or pandas: they take seconds to import and are not needed to move
arrays in and out of HDF5).

The file holds what ArviZ writes (``InferenceData.to_netcdf(engine="h5netcdf")``): one NetCDF
group per result group, coordinate variables for the dimensions that have them, the group
attributes, and the root attributes on the root group; floating-point variables carry a NaN
``_FillValue``, booleans are stored as ``int8`` with ``dtype = "bool"``, as xarray encodes
them.  ``arviz.from_netcdf``, xarray (both engines) and the netCDF4 library read it as they
read ArviZ's own file of the same data (tests/test_results.py), and :func:`read` (h5netcdf)
reads files ArviZ wrote.  Two differences in how it is stored, not in what is read:

* it is written with h5py directly, in h5netcdf's layout (dimension scales, netCDF-4's
  dimension ids, creation order): 0.015 against 0.077 s CPU for the Ta card's result;
* the arrays are not zlib-compressed (ArviZ's ``compress=True``): posterior draws are floats
  that zlib shrinks by only ~17 % (2.65 -> 2.20 MB for the Ta card) for as much CPU time as
  everything else in writing the file.

:func:`image` builds the file in memory (the caller writes the bytes: see
:func:`tlsbayes.results.store.save` for why).
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

    Written with h5py directly (:func:`_write`), in the layout h5netcdf gives the same
    groups; a result whose variable shares its name with a dimension it is not the coordinate
    of (which netCDF-4 stores under another name) is written by h5netcdf itself.

    Raises
    ------
    ResultError
        A variable of a dtype a result file cannot hold (strings, objects).
    ValueError, TypeError
        From h5py/h5netcdf (an attribute h5py cannot store, ...).
    """
    import io

    buffer = io.BytesIO()
    if all(_plain_layout(result[g]) for g in result.groups()):
        import h5py

        with h5py.File(buffer, "w", track_order=True) as fh:
            _write(fh, result)
    else:
        import h5netcdf

        with h5netcdf.File(buffer, "w") as fh:
            _fill(fh, result)
    return buffer.getvalue()


#: Name of the dataset that holds a dimension without a coordinate variable (netCDF-C's).
_NOT_A_VARIABLE = b"This is a netCDF dimension but not a netCDF variable."


def _dimension_coords(group: Group) -> list:
    """Names of the coordinate variables of dimensions (1-D, named as their dimension)."""
    return [n for n, v in group.coords.items() if tuple(v.dims) == (n,) and n in group.sizes]


def _plain_layout(group: Group) -> bool:
    """True unless a variable is named as a dimension it is not the coordinate of."""
    coords = set(_dimension_coords(group))
    return not any(n in group.sizes and n not in coords
                   for n in [*group.coords, *group.data_vars])


def _dataset(g, name, var: Variable, path: str, ids: dict):
    """Create variable ``name`` of group ``g`` (h5py) with the attributes netCDF-4 and xarray
    read: ``_Netcdf4Coordinates``/``_Netcdf4Dimid`` (the dimension ids), ``_FillValue``."""
    data, attrs, fill = _encoded(path, var)
    kw = {"track_order": True} if fill is None else {"track_order": True, "fillvalue": fill}
    ds = g.create_dataset(name, data=data, **kw)
    if var.dims:
        ds.attrs["_Netcdf4Coordinates"] = np.array([ids[d] for d in var.dims], dtype=np.int32)
        ds.attrs["_Netcdf4Dimid"] = np.array(ids[var.dims[0]], dtype=np.int32)
    if fill is not None:
        ds.attrs["_FillValue"] = np.array([fill], dtype=data.dtype)
    for key, value in attrs.items():
        ds.attrs[key] = value
    return ds


def _write(fh, result: Result) -> None:
    """Write ``result`` into the open h5py file ``fh`` as h5netcdf would (:func:`_fill`), at a
    fifth of its cost (h5netcdf first makes a placeholder scale for every dimension, then
    deletes and re-creates it for each coordinate variable, with many lookups per variable).

    Per group: dimension ids numbered through the file in the order of ``sizes``; a
    placeholder dimension scale (``>f4``, named as netCDF-C names them) for each dimension
    without a coordinate variable; the coordinate variables as dimension scales; then the
    other variables with their scales attached (``DIMENSION_LIST``).  Groups, variables and
    attributes keep their creation order, as netCDF-C and h5netcdf write them.
    """
    import h5py

    from tlsbayes import __version__

    for key, value in result.attrs.items():
        fh.attrs[key] = value
    next_id = 0
    for gname in result.groups():
        group = result[gname]
        g = fh.create_group(gname, track_order=True)
        ids, scales = {}, {}
        for dim in group.sizes:
            ids[dim], next_id = next_id, next_id + 1
        coords = _dimension_coords(group)
        for dim, size in group.sizes.items():
            if dim not in coords:
                ds = g.create_dataset(dim, shape=(size,), dtype=">f4", track_order=True)
                ds.attrs["_Netcdf4Dimid"] = np.array(ids[dim], dtype=np.int32)
                ds.make_scale(_NOT_A_VARIABLE + f"{size:10}".encode("ascii"))
                scales[dim] = ds
        for dim in coords:
            scales[dim] = _dataset(g, dim, group.coords[dim], f"{gname}/{dim}", ids)
            scales[dim].make_scale(dim)
        rest = [(n, v) for n, v in group.coords.items() if n not in scales]
        for name, var in [*rest, *group.data_vars.items()]:
            ds = _dataset(g, name, var, f"{gname}/{name}", ids)
            for i, dim in enumerate(var.dims):
                ds.dims[i].attach_scale(scales[dim])
        for key, value in group.attrs.items():
            g.attrs[key] = value
    props = (f"version=2,tlsbayes={__version__},hdf5={h5py.version.hdf5_version},"
             f"h5py={h5py.__version__}")
    fh.attrs["_NCProperties"] = np.array(props, dtype=h5py.string_dtype("ascii", len(props)))


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
