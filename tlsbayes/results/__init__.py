"""Posterior results: the groups of an ArviZ ``InferenceData``, NetCDF storage, provenance,
summaries.

A result in memory is a :class:`~tlsbayes.results.groups.Result` (plain arrays with the group,
variable and dimension names of an InferenceData; ``.to_inference_data()`` converts it), so
that a fit never imports ArviZ or xarray; the functions here also accept an
:class:`arviz.InferenceData`.

========================================  =================================================
:mod:`tlsbayes.results.groups`            Result / Group / Variable containers
:mod:`tlsbayes.results.convert`           a run -> Result, one function per group
:mod:`tlsbayes.results.provenance`        root attributes (JSON-encoded), data fingerprint
:mod:`tlsbayes.results.netcdf`            Result <-> NetCDF-4 file (h5py out, h5netcdf in)
:mod:`tlsbayes.results.store`             NetCDF-4 read/write (atomic, no pickle)
:mod:`tlsbayes.results.stats`             HDI, tail ESS (ArviZ's definitions, on arrays)
:mod:`tlsbayes.results.summary`           per-parameter table, text/Markdown, degeneracies
:mod:`tlsbayes.results.table`             Table: labelled rows and columns, pandas' CSV, no pandas
========================================  =================================================

The names below are the public interface; import them from ``tlsbayes.results``.
"""

from tlsbayes.errors import ResultError
from tlsbayes.lazy import lazy_getattr
from tlsbayes.results.provenance import (
    RESULT_FORMAT_NAME,
    RESULT_FORMAT_VERSION,
    attrs_of,
    data_sha256,
    provenance,
    read_attrs,
)
from tlsbayes.results.groups import Group, Result, Variable
from tlsbayes.results.store import load, save

# Imported on first use (PEP 562): ``tlsbayes.results`` is on the path of commands that never
# build or summarise a result (``check``, ``models``, a no-op ``resume``), and ArviZ, xarray
# take seconds to import.  (provenance and store import ArviZ only when called.)
_LAZY = {
    "build_idata": "convert", "build_inference_data": "convert", "build_result": "convert", "log_params": "convert",
    "degeneracy_report": "summary", "format_summary": "summary",
    "format_summary_markdown": "summary", "summarize": "summary",
}


def _load(owner):
    if owner == "convert":
        from tlsbayes.results import convert as module
    else:
        from tlsbayes.results import summary as module
    return module


__getattr__ = lazy_getattr(__name__, _LAZY, globals(), _load)


__all__ = [
    "RESULT_FORMAT_NAME",
    "RESULT_FORMAT_VERSION",
    "Group",
    "Result",
    "ResultError",
    "Variable",
    "attrs_of",
    "build_idata",
    "build_inference_data",
    "build_result",
    "data_sha256",
    "degeneracy_report",
    "format_summary",
    "format_summary_markdown",
    "load",
    "log_params",
    "provenance",
    "read_attrs",
    "save",
    "summarize",
]
