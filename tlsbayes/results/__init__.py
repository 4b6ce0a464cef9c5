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
from tlsbayes.results.convert import build_idata, build_inference_data, log_params
from tlsbayes.results.provenance import (
    RESULT_FORMAT_NAME,
    RESULT_FORMAT_VERSION,
    attrs_of,
    data_sha256,
    provenance,
)
from tlsbayes.results.store import load, save
from tlsbayes.results.summary import (
    degeneracy_report,
    format_summary,
    format_summary_markdown,
    summarize,
)

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
    "save",
    "summarize",
]
