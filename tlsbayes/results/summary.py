"""Summaries of a result: the per-parameter table, its text/Markdown rendering, degeneracies.

Every function acts on a result with a ``posterior`` group (a
:class:`~tlsbayes.results.groups.Result` or an :class:`arviz.InferenceData`; only
``posterior[name].values``/``.dims`` and the group's ``coords`` are used) or on the table
:func:`summarize` returns.  The statistics are ArviZ's (:mod:`tlsbayes.results.stats`),
computed without importing ArviZ.  The physics explanation of a degenerate pair comes from
:data:`tlsbayes.models.degeneracy.KNOWN_DEGENERACIES`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from tlsbayes.errors import ResultError
from tlsbayes.models.degeneracy import KNOWN_DEGENERACIES
from tlsbayes.results import stats
from tlsbayes.results.table import Table, is_numeric

__all__ = ["degeneracy_report", "format_summary", "format_summary_markdown", "summarize"]

_SUMMARY_COLUMNS = (
    "mean",
    "sd",
    "median",
    "q16",
    "q84",
    "hdi_low",
    "hdi_high",
    "ess_bulk",
    "ess_tail",
    "r_hat",
    "map",
    "map_warning",
)
# Columns holding a position on the parameter axis: printed to the precision set by the sd.
_LOCATION_COLUMNS = frozenset({"mean", "median", "q16", "q84", "hdi_low", "hdi_high", "map"})


def _scalar_slices(posterior, var_names: Iterable[str]):
    """Yield ``(label, draws)`` for every scalar component of the requested variables;
    ``draws`` has shape ``(nchain, ndraw)``."""
    for name in var_names:
        da = posterior[name]
        values = np.asarray(da.values, dtype=float)
        # (chain, draw, *extra) whatever order the dimensions were stored in
        order = [da.dims.index("chain"), da.dims.index("draw")]
        extra = [i for i, d in enumerate(da.dims) if d not in ("chain", "draw")]
        values = np.transpose(values, order + extra)
        if not extra:
            yield name, values
            continue
        for idx in np.ndindex(*values.shape[2:]):
            labels = [str(np.asarray(posterior.coords[da.dims[a]].values)[i])
                      if da.dims[a] in posterior.coords else str(i)
                      for a, i in zip(extra, idx)]
            yield f"{name}[{','.join(labels)}]", values[(slice(None), slice(None), *idx)]


def _resolve_var_names(idata, var_names: Iterable[str] | None) -> list[str]:
    if "posterior" not in idata.groups():
        raise ResultError("the result has no posterior group")
    available = list(idata.posterior.data_vars)
    if var_names is None:
        return available
    if isinstance(var_names, str):
        var_names = [var_names]
    names = list(var_names)
    unknown = [n for n in names if n not in available]
    if unknown:
        raise ResultError(
            f"unknown parameter(s) {', '.join(repr(u) for u in unknown)}; the posterior has "
            f"{', '.join(available)}"
        )
    return names


def _map_warning(map_value: float, median: float, sd: float, q16: float, q84: float) -> str:
    if not math.isfinite(map_value):
        return ""
    problems = []
    if not q16 <= map_value <= q84:
        side = "below" if map_value < q16 else "above"
        problems.append(f"MAP {side} the 16-84 % interval")
    if sd > 0 and abs(map_value - median) > sd:
        problems.append(f"MAP {abs(map_value - median) / sd:.1f} sd from the median")
    return "; ".join(problems)


def summarize(
    idata,
    *,
    map_params: Mapping[str, float] | None = None,
    hdi_prob: float = 0.95,
    var_names: Iterable[str] | None = None,
) -> Table:
    """One row of posterior statistics per parameter.

    Parameters
    ----------
    idata : Result or arviz.InferenceData
        Result with a ``posterior`` group.
    map_params : mapping of str to float, optional
        Maximum a posteriori point (physical units) to compare with the posterior.
    hdi_prob : float, default 0.95
        Probability mass of the highest-density interval.
    var_names : iterable of str, optional
        Parameters to include, in this order; default all posterior variables.  A variable
        with extra dimensions gives one row per component, labelled ``name[coord,...]``.

    Returns
    -------
    Table
        (:class:`tlsbayes.results.table.Table`: a pandas-like table, ``.to_pandas()`` for a
        DataFrame.)  Index ``parameter``; columns ``mean``, ``sd`` (ddof=1), ``median``, ``q16``, ``q84``
        (linear-interpolated quantiles over all chains and draws), ``hdi_low``, ``hdi_high``
        (ArviZ's HDI), ``ess_bulk``, ``ess_tail``, ``r_hat`` (ArviZ's rank-normalised split
        R-hat; all four from :mod:`tlsbayes.results.stats`), ``map`` (NaN when not given) and ``map_warning`` (empty when fine; otherwise
        says whether the MAP is outside the 16-84 % interval and/or more than 1 sd from the
        median: a MAP far from the bulk means the posterior is skewed or multimodal and the
        MAP is not a representative point estimate).

    Raises
    ------
    ResultError
        If there is no posterior or a requested parameter is unknown.
    """
    if not 0 < hdi_prob < 1:
        raise ResultError(f"hdi_prob must lie strictly between 0 and 1, got {hdi_prob}")
    names = _resolve_var_names(idata, var_names)
    map_params = dict(map_params or {})

    rows = {}
    for label, draws in _scalar_slices(idata.posterior, names):
        samples = draws.ravel()
        mean = float(np.mean(samples))
        sd = float(np.std(samples, ddof=1)) if samples.size > 1 else math.nan
        median, q16, q84 = (float(v) for v in np.quantile(samples, [0.5, 0.16, 0.84]))
        interval = stats.hdi(samples, hdi_prob)
        map_value = float(map_params.get(label, math.nan))
        rows[label] = {
            "mean": mean,
            "sd": sd,
            "median": median,
            "q16": q16,
            "q84": q84,
            "hdi_low": interval[0],
            "hdi_high": interval[1],
            "ess_bulk": stats.ess_bulk(draws),
            "ess_tail": stats.ess_tail(draws),
            "r_hat": stats.rhat(draws),
            "map": map_value,
            "map_warning": _map_warning(map_value, median, sd, q16, q84),
        }
    return Table(rows, _SUMMARY_COLUMNS, index_name="parameter")


def _location_digits(value: float, scale: float, sig: int) -> int:
    """Significant digits that resolve ``value`` down to ``sig`` digits of ``scale``.

    A frequency of 5.123456789e9 Hz with sd 10 Hz must print as 5123456789, not 5.12e+09.
    """
    if not (math.isfinite(value) and math.isfinite(scale)) or value == 0 or scale <= 0:
        return sig
    digits = math.floor(math.log10(abs(value))) - math.floor(math.log10(scale)) + sig
    return min(max(digits, 1), 17)


def _cells(df, sig: int) -> tuple[list[str], list[list[str]], list[bool]]:
    """Header, formatted rows and per-column "is numeric" flags."""
    if sig < 1:
        raise ResultError(f"sig must be at least 1, got {sig}")
    columns = list(df.columns)
    header = [getattr(df, "index_name", None) or getattr(df.index, "name", None)
              or "parameter"] + [str(c) for c in columns]
    numeric = [False] + [is_numeric(df[c]) for c in columns]
    rows = []
    for label, row in df.iterrows():
        scale = float(row["sd"]) if "sd" in df.columns else math.nan
        cells = [str(label)]
        for col in columns:
            value = row[col]
            if not isinstance(value, numbers.Real) or isinstance(value, bool):
                cells.append("" if value is None else str(value))
                continue
            value = float(value)
            if math.isnan(value):
                cells.append("-" if col == "map" else "nan")
            elif col in ("ess_bulk", "ess_tail", "ess"):
                cells.append(f"{value:.0f}")
            elif col == "r_hat":
                # r_hat 1.004 vs 1.04 matters; significant digits would print both as "1".
                cells.append(f"{value:.3f}")
            elif col in _LOCATION_COLUMNS:
                cells.append(f"{value:.{_location_digits(value, scale, sig)}g}")
            else:
                cells.append(f"{value:.{sig}g}")
        rows.append(cells)
    return header, rows, numeric


def format_summary(df, *, sig: int = 3) -> str:
    """Render a :func:`summarize` table as aligned plain text for a terminal.

    Parameters
    ----------
    df : Table or pandas.DataFrame
        Output of :func:`summarize` (other tables with numeric columns work too).
    sig : int, default 3
        Significant digits of the standard deviation.  Location columns (mean, median,
        quantiles, HDI, MAP) are printed to the same absolute precision as the sd, so a
        well-constrained large number keeps its meaningful digits.  ESS is printed as an
        integer and R-hat with three decimals.

    Returns
    -------
    str
        Header, a dashed rule and one line per parameter; numbers right-aligned, text
        left-aligned; no trailing newline.
    """
    header, rows, numeric = _cells(df, sig)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        parts = [c.rjust(w) if num else c.ljust(w) for c, w, num in zip(cells, widths, numeric)]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def format_summary_markdown(df, *, sig: int = 3) -> str:
    """Render a :func:`summarize` table as a GitHub-flavoured Markdown pipe table.

    Same cell formatting as :func:`format_summary`; does not need ``tabulate``.

    Parameters
    ----------
    df : Table or pandas.DataFrame
        Output of :func:`summarize`.
    sig : int, default 3
        Significant digits of the standard deviation (see :func:`format_summary`).

    Returns
    -------
    str
        The table, numeric columns right-aligned (``---:``); no trailing newline.
    """
    header, rows, numeric = _cells(df, sig)

    def esc(text: str) -> str:
        return text.replace("|", "\\|")

    lines = ["| " + " | ".join(esc(h) for h in header) + " |",
             "|" + "|".join("---:" if num else ":---" for num in numeric) + "|"]
    lines += ["| " + " | ".join(esc(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Degeneracies
# --------------------------------------------------------------------------------------------


def _pearson(columns: list) -> np.ndarray:
    """Pearson correlation matrix of the sample ``columns`` (NaN for one that does not vary)."""
    if not columns:
        return np.empty((0, 0))
    data = np.vstack(columns)
    centred = data - data.mean(axis=1, keepdims=True)
    norm = np.sqrt(np.einsum("ij,ij->i", centred, centred))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = (centred @ centred.T) / np.outer(norm, norm)
    # Rounding can push |rho| a hair above 1 for perfectly (anti)correlated pairs.
    return np.clip(corr, -1.0, 1.0)


def degeneracy_report(
    idata,
    *,
    log_params: Iterable[str] = (),
    threshold: float = 0.7,
    explanations: Mapping[frozenset, str] | None = None,
) -> dict[str, Any]:
    """Find strongly correlated parameter pairs and explain the known ones.

    Parameters
    ----------
    idata : Result or arviz.InferenceData
        Result with a ``posterior`` group; scalar (``(chain, draw)``) variables are used.
    log_params : iterable of str
        Parameters to take the natural log of before correlating.  Pass the log-uniform
        (scale) parameters: they are sampled in log space, where their posterior is close to
        Gaussian, and a linear correlation of the raw values would understate the degeneracy.
    threshold : float, default 0.7
        Pairs with ``|rho| > threshold`` get a sentence in ``"text"``.
    explanations : mapping of frozenset to str, optional
        Physics explanation per unordered pair, appended to its sentence; default
        :data:`tlsbayes.models.degeneracy.KNOWN_DEGENERACIES`.  Extend it with ``{**KNOWN_DEGENERACIES, ...}``.

    Returns
    -------
    dict
        ``"correlation"``: :class:`~tlsbayes.results.table.Table`, Pearson correlation over all chains and draws
        (NaN for a parameter that does not vary); ``"pairs"``: list of
        ``(name_a, name_b, rho)`` for every pair, by ``|rho|`` descending (NaN last);
        ``"text"``: one sentence per pair above the threshold; ``"log_params"``: the
        parameters that were log-transformed.

    Raises
    ------
    ResultError
        If a log parameter is not in the posterior or has a non-positive sample, or the
        threshold is outside [0, 1].
    """
    if not 0 <= threshold <= 1:
        raise ResultError(f"threshold must lie in [0, 1], got {threshold}")
    explanations = KNOWN_DEGENERACIES if explanations is None else explanations
    names = [n for n in _resolve_var_names(idata, None)
             if set(idata.posterior[n].dims) <= {"chain", "draw"}]
    log_params = tuple(log_params)
    unknown = [p for p in log_params if p not in names]
    if unknown:
        raise ResultError(
            f"log_params {', '.join(repr(u) for u in unknown)} not among the scalar posterior "
            f"parameters ({', '.join(names)})"
        )

    columns = []
    for name in names:
        samples = np.asarray(idata.posterior[name].values, dtype=float).ravel()
        if name in log_params:
            if np.any(samples <= 0):
                raise ResultError(
                    f"parameter '{name}' has non-positive samples and cannot be taken in "
                    f"log space (remove it from log_params)"
                )
            samples = np.log(samples)
        columns.append(samples)

    corr = _pearson(columns)
    corr_df = Table({n: dict(zip(names, map(float, row))) for n, row in zip(names, corr)}, names)

    pairs = [(names[i], names[j], float(corr[i, j]))
             for i in range(len(names)) for j in range(i + 1, len(names))]
    pairs.sort(key=lambda p: (math.isnan(p[2]), -abs(p[2]) if not math.isnan(p[2]) else 0.0))

    text = []
    for a, b, rho in pairs:
        if math.isnan(rho) or abs(rho) <= threshold:
            continue
        kind = "correlated" if rho > 0 else "anti-correlated"
        sentence = f"{a} and {b} are strongly {kind} (rho = {rho:+.2f})"
        why = explanations.get(frozenset({a, b}))
        text.append(f"{sentence}: {why}." if why else f"{sentence}.")
    return {"correlation": corr_df, "pairs": pairs, "text": text, "log_params": log_params}
