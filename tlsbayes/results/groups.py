"""A result in memory without ArviZ or xarray: named groups of named arrays with dimensions.

:class:`Result` holds what an :class:`arviz.InferenceData` holds (groups of variables with
dimension names, coordinates, group and root attributes) as plain NumPy arrays, and answers
the part of the InferenceData/xarray interface that tlsbayes uses on the path of a fit::

    result.posterior["beta"].values        # ndarray (chain, draw)
    result.posterior["beta"].dims          # ("chain", "draw")
    list(result.posterior.data_vars)       # variable names; "beta" in result.posterior
    result.groups(), result["posterior"], result.attrs

ArviZ (4 s to import) and xarray (1 s) are needed only to convert one into the other
(:meth:`Result.to_inference_data`, :meth:`Result.from_inference_data`), e.g. for PSIS-LOO;
the NetCDF file is written and read without them (:mod:`tlsbayes.results.netcdf`).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

__all__ = ["Group", "Result", "Variable", "arviz_group_attrs"]


def arviz_group_attrs() -> dict[str, str]:
    """The attributes ArviZ stamps on a group it builds (``created_at``, ``arviz_version``).

    The ArviZ version is read from the installed package's metadata (no import); ``"unknown"``
    when ArviZ is not installed.
    """
    from importlib.metadata import PackageNotFoundError, version as package_version

    try:
        version = package_version("arviz")
    except PackageNotFoundError:
        version = "unknown"
    return {"created_at": _dt.datetime.now(_dt.timezone.utc).isoformat(),
            "arviz_version": version}


class Variable:
    """One array with named dimensions (the part of :class:`xarray.DataArray` tlsbayes uses).

    Parameters
    ----------
    dims : sequence of str
        One name per axis of ``values``.
    values : array_like
    attrs : mapping, optional
    """

    __slots__ = ("attrs", "dims", "values")

    def __init__(self, dims, values, attrs=None):
        self.values = np.asarray(values)
        self.dims = tuple(str(d) for d in dims)
        if len(self.dims) != self.values.ndim:
            raise ValueError(f"{len(self.dims)} dimension names for an array of shape "
                             f"{self.values.shape}")
        self.attrs = dict(attrs or {})

    @property
    def dtype(self):
        return self.values.dtype

    @property
    def shape(self) -> tuple[int, ...]:
        return self.values.shape

    @property
    def ndim(self) -> int:
        return self.values.ndim

    @property
    def sizes(self) -> dict[str, int]:
        return dict(zip(self.dims, self.values.shape))

    def __array__(self, dtype=None, copy=None):
        return self.values if dtype is None else self.values.astype(dtype)

    def __repr__(self) -> str:
        return f"Variable(dims={self.dims}, shape={self.values.shape}, dtype={self.dtype})"


class Group(Mapping):
    """The variables of one group (the part of :class:`xarray.Dataset` tlsbayes uses).

    Iterating, ``len`` and ``in`` see the data variables; ``group[name]`` also finds a
    coordinate (as xarray does).

    Parameters
    ----------
    data_vars : mapping of str to Variable
    coords : mapping of str to Variable, optional
        Coordinate variables, each named after its one dimension.
    attrs : mapping, optional
    """

    def __init__(self, data_vars: Mapping[str, Variable], coords=None, attrs=None):
        self.data_vars: dict[str, Variable] = dict(data_vars)
        self.coords: dict[str, Variable] = dict(coords or {})
        self.attrs: dict[str, Any] = dict(attrs or {})
        sizes: dict[str, int] = {}
        for name, var in [*self.data_vars.items(), *self.coords.items()]:
            for dim, size in var.sizes.items():
                if sizes.setdefault(dim, size) != size:
                    raise ValueError(f"'{name}' has {size} along '{dim}', another variable "
                                     f"{sizes[dim]}")
        self.sizes = sizes

    @property
    def dims(self) -> dict[str, int]:
        return dict(self.sizes)

    def __getitem__(self, name: str) -> Variable:
        if name in self.data_vars:
            return self.data_vars[name]
        return self.coords[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.data_vars)

    def __len__(self) -> int:
        return len(self.data_vars)

    def __contains__(self, name) -> bool:
        return name in self.data_vars

    def __repr__(self) -> str:
        return f"Group({', '.join(self.data_vars)}; sizes {self.sizes})"


class Result:
    """Groups of a result and its root attributes (the part of InferenceData tlsbayes uses).

    Parameters
    ----------
    groups : mapping of str to Group
        In the order they are written.
    attrs : mapping, optional
        Root attributes (the provenance, NetCDF-encoded: see
        :func:`tlsbayes.results.provenance.encode_attrs`).
    """

    def __init__(self, groups: Mapping[str, Group], attrs=None):
        self._groups: dict[str, Group] = dict(groups)
        self.attrs: dict[str, Any] = dict(attrs or {})

    def groups(self) -> list[str]:
        return list(self._groups)

    def __getitem__(self, name: str) -> Group:
        return self._groups[name]

    def __contains__(self, name) -> bool:
        return name in self._groups

    def __getattr__(self, name: str) -> Group:
        groups = self.__dict__.get("_groups", {})
        if name in groups:
            return groups[name]
        raise AttributeError(f"the result has no group or attribute {name!r}")

    def __repr__(self) -> str:
        return f"Result(groups={self.groups()})"

    def with_attrs(self, attrs: Mapping[str, Any]) -> Result:
        """The same groups (not copied) under other root attributes."""
        return Result(self._groups, attrs)

    def to_inference_data(self):
        """The :class:`arviz.InferenceData` of this result (imports ArviZ and xarray)."""
        import arviz as az
        import xarray as xr

        def dataset(group: Group):
            return xr.Dataset({n: (v.dims, v.values, v.attrs) for n, v in group.data_vars.items()},
                              coords={n: (v.dims, v.values, v.attrs)
                                      for n, v in group.coords.items()},
                              attrs=group.attrs)

        return az.InferenceData(attrs=dict(self.attrs),
                                **{g: dataset(grp) for g, grp in self._groups.items()})

    @classmethod
    def from_inference_data(cls, idata) -> Result:
        """The :class:`Result` of an :class:`arviz.InferenceData` (or of a Result: itself)."""
        if isinstance(idata, cls):
            return idata
        groups = {}
        for name in idata.groups():
            ds = idata[name]
            groups[name] = Group(
                {str(n): Variable(da.dims, np.asarray(da.values), da.attrs)
                 for n, da in ds.data_vars.items()},
                coords={str(n): Variable(da.dims, np.asarray(da.values), da.attrs)
                        for n, da in ds.coords.items()},
                attrs=dict(ds.attrs))
        return cls(groups, dict(idata.attrs))
