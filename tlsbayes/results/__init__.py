"""Posterior results: ArviZ ``InferenceData``, NetCDF storage, provenance, summaries.

Everything here is a free function acting on an :class:`arviz.InferenceData`; there is no
result class to keep in sync with ArviZ.

========================================  =================================================
:mod:`tlsbayes.results.convert`           a run -> InferenceData, one function per group
:mod:`tlsbayes.results.provenance`        root attributes (JSON-encoded), data fingerprint
:mod:`tlsbayes.results.store`             NetCDF-4 read/write (atomic, no pickle)
:mod:`tlsbayes.results.summary`           per-parameter table, text/Markdown, degeneracies
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
from tlsbayes.results.store import load, save

# Imported on first use (PEP 562): ``tlsbayes.results`` is on the path of commands that never
# build or summarise a result (``check``, ``models``, a no-op ``resume``), and ArviZ, xarray
# and pandas take seconds to import.  (provenance and store import ArviZ only when called.)
_LAZY = {
    "build_idata": "convert", "build_inference_data": "convert", "log_params": "convert",
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
    "ResultError",
    "attrs_of",
    "build_idata",
    "build_inference_data",
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
