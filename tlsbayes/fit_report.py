"""The report of one fit: summary table, checks, figures and report.md from a saved result.

Split from :mod:`tlsbayes.fit` (which samples and writes the result): :func:`report_from_idata`
is what ``tlsbayes fit``, ``resume`` and ``report`` run once ``posterior.nc`` is safe, and
:func:`draw_figures` the figures of ``--plots`` in the format of ``--figures`` (SVG by default,
drawn without matplotlib; matplotlib is imported only for ``--figures png``).
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from pathlib import Path

import numpy as np

from . import results as R
from . import rundir
from .verdicts import report as V
from .reporting import report_markdown, run_context
from . import __version__
from .atomic import atomic_output, atomic_write_text, file_sha256
from .errors import TLSBayesError
from .results.curves import fit_curves
from .results.model_outputs import ModelOutputs, evaluate_model, median_prediction
from .results.table import Table


def atomic_savefig(plot_fn, path, *args, **kwargs) -> Path:
    """Call ``plot_fn(*args, tmp_path, **kwargs)`` then rename the figure into place."""
    with atomic_output(path) as tmp:
        plot_fn(*args, tmp, **kwargs)
    return Path(path)


#: ``--plots`` choices: which figures a fit (or ``report``) draws after the result is saved.
PLOT_CHOICES = ("none", "fit", "all")


def plot_level(plots) -> str:
    """``--plots`` value from a flag or a bool (True: ``"all"``, False: ``"none"``)."""
    if plots is True or plots is None:
        return "all"
    if plots is False:
        return "none"
    if plots not in PLOT_CHOICES:
        raise TLSBayesError(f"--plots {plots!r}: expected one of {', '.join(PLOT_CHOICES)}")
    return plots


def figure_format(fmt) -> str:
    """``--figures`` value checked: a key of :data:`tlsbayes.rundir.FIGURE_FILES`."""
    if fmt not in rundir.FIGURE_FILES:
        raise TLSBayesError(f"--figures {fmt!r}: expected one of "
                            f"{', '.join(rundir.FIGURE_FILES)}")
    return fmt


def report_from_idata(idata, posterior, outdir, *, plots="all", truths=None, chain=None,
                      burn=0, print_fn=print, result_key=None, figures="svg"):
    """Summary table, degeneracy report, figures and report.md from a saved result.

    The summary is written and printed before any figure is drawn (figures take longer than
    everything else here); ``plots`` (:data:`PLOT_CHOICES`, or a bool) selects them,
    ``figures`` their format (:data:`tlsbayes.plotting.FORMATS`), and ``tlsbayes report``
    draws the skipped ones later.  report.md is written last.
    ``result_key`` (:func:`summary_key` of the posterior.nc ``idata`` was read from or written
    to) lets the summary statistics and what the report needs from the model be reused from
    :data:`tlsbayes.rundir.SUMMARY_CACHE` and :data:`tlsbayes.rundir.MODEL_CACHE` when they
    were computed from that very file, and stores them for the next report: a re-plot of a
    run written by this version then evaluates no model (and imports no numba).
    """
    outdir = Path(outdir)
    attrs = R.attrs_of(idata)
    extra = attrs.get("extra", {}) or {}
    log_params = extra.get("log_params", [])
    summary = cached_summary(outdir, result_key)
    if summary is None:
        summary = _summary_statistics(idata, extra)
        if result_key is not None:
            _store_summary(outdir, result_key, summary)
    ctx = run_context(outdir, attrs, posterior)
    model = model_outputs(idata, posterior, summary, ctx, outdir, result_key)
    verd = V.evaluate(posterior, idata, misfit=model.misfit)
    summary["identified"] = V.identified_column(verd, summary.index)
    atomic_write_text(outdir / rundir.SUMMARY_FILE, summary.to_csv(index_label="parameter"))
    atomic_write_text(outdir / rundir.CHECKS_FILE, V.checks_table(verd).to_csv(index=False))
    deg = R.degeneracy_report(idata, log_params=log_params)
    guidance = noise_guidance(summary, posterior, at_median=model.at_median)
    print_fn(R.format_summary(summary))
    for s in deg["text"] + guidance + V.terminal_lines(verd):
        print_fn(s)
    start, start_cpu = time.perf_counter(), time.process_time()
    drawn = draw_figures(idata, posterior, outdir, plot_level(plots), truths=truths,
                         chain=chain, burn=burn, log_params=log_params, context=ctx,
                         curves=model.curves, fmt=figures)
    plots_s, plots_cpu_s = time.perf_counter() - start, time.process_time() - start_cpu
    figures = _current_figures(outdir, drawn)
    md = report_markdown(ctx, attrs, summary, deg, figures, guidance=guidance,
                         verdicts_md=V.markdown_section(verd), log_params=log_params)
    atomic_write_text(outdir / rundir.REPORT_FILE, md)
    return {"summary": summary, "degeneracy": deg, "figures": figures, "guidance": guidance,
            "verdicts": verd, "plots_s": plots_s, "plots_cpu_s": plots_cpu_s, "markdown": md}


def _summary_statistics(idata, extra):
    """:func:`tlsbayes.results.summarize` with the convergence figures the sampler was gated on
    (split R-hat over walker blocks, ESS = min(ArviZ bulk, emcee's N/tau)); ArviZ's per-walker
    R-hat is stricter than the gate and would contradict the verdict."""
    summary = R.summarize(idata, map_params=extra.get("map", {}))
    for col, key in (("r_hat", "rhat"), ("ess", "ess")):
        gate = extra.get(key)
        if gate:
            summary[col] = [gate.get(n, float("nan")) for n in summary.index]
    return summary


#: Layout of :data:`tlsbayes.rundir.SUMMARY_CACHE`; bump it when the summary's statistics change.
SUMMARY_CACHE_FORMAT = 1


def summary_key(result_path) -> dict:
    """What the stored summary statistics must have been computed from: the sha256 of this
    posterior.nc (any change to the file, e.g. a resume that extends the chain, changes
    it), the tlsbayes version and the cache layout."""
    return {"format": SUMMARY_CACHE_FORMAT, "tlsbayes": __version__,
            "posterior_sha256": file_sha256(result_path)}


def _cached(path, key):
    """The JSON document stored at ``path`` for ``key``, or None (no key, no file, a damaged
    one, or one computed from another posterior.nc or tlsbayes)."""
    if key is None:
        return None
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) and doc.get("key") == key else None


def cached_summary(outdir, key):
    """The summary statistics stored in ``outdir`` for ``key``, or None: no key, no cache, a
    damaged one, or one computed from another posterior.nc or tlsbayes (then the caller
    recomputes them: a stale number is never shown)."""
    doc = _cached(Path(outdir) / rundir.SUMMARY_CACHE, key)
    if doc is None:
        return None
    try:
        columns = list(doc["columns"])
        rows = {label: dict(zip(columns, row)) for label, row in zip(doc["index"], doc["rows"])}
        return Table(rows, columns, index_name=doc.get("index_name"))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _store_summary(outdir, key, summary) -> None:
    rows = [[summary.loc[n, c] for c in summary.columns] for n in summary.index]
    doc = {"key": key, "index": summary.index, "columns": summary.columns,
           "index_name": summary.index_name, "rows": rows}
    atomic_write_text(Path(outdir) / rundir.SUMMARY_CACHE,
                      json.dumps(doc, default=lambda v: v.item()))  # numpy scalars


#: Layout of :data:`tlsbayes.rundir.MODEL_CACHE`; bump it when what is stored changes.
MODEL_CACHE_FORMAT = 1


def model_outputs(idata, posterior, summary, context, outdir, key) -> ModelOutputs:
    """What the report needs from the model: stored in ``outdir`` for ``key``, or evaluated
    (numba's kernels) and stored for the next report.

    A stored copy is used only for the very posterior.nc it was computed from (``key``, a
    :func:`summary_key`: any change to the file, a resume, another tlsbayes, recomputes it)
    and the same data sets; ``summary`` gives the posterior medians, ``context`` (a
    :class:`tlsbayes.reporting.RunContext`) the display axes of the fit figure.
    """
    path = Path(outdir) / rundir.MODEL_CACHE
    doc = _cached(path, key)
    if doc is not None and doc.get("format") == MODEL_CACHE_FORMAT:
        try:
            stored = ModelOutputs.from_json(doc["outputs"])
        except (KeyError, TypeError, ValueError):
            stored = None
        names = [ds.name for ds in posterior.datasets]
        if stored is not None and [c.name for c in stored.curves.datasets] == names:
            return stored
    median = {n: float(summary.loc[n, "median"]) for n in summary.index}
    out = evaluate_model(posterior, _theta(idata, posterior), median,
                         axes_of=_axes_of(context))
    if key is not None:
        atomic_write_text(path, json.dumps({"key": key, "format": MODEL_CACHE_FORMAT,
                                            "outputs": out.to_json()}))
    return out


def _theta(idata, posterior):
    """The posterior draws of ``idata`` in sampling coordinates, shape (nsamples, ndim)."""
    names = list(posterior.free_names)
    return posterior.priors.from_params(
        {n: idata.posterior[n].values.reshape(-1) for n in names})


def _axes_of(context):
    """``data set name -> (x Axis, y Axis)`` of a run context (None: SI axes)."""
    if context is None:
        return None
    return {d.name: (d.x_axis, d.y_axis) for d in context.datasets}


def _current_figures(outdir, drawn) -> list:
    """The figures drawn now and those already there from this result (not older than
    posterior.nc: a figure of an earlier, shorter chain is left out), in report order, one
    per figure: the one drawn now, else the newest of its SVG and PNG files."""
    result = outdir / rundir.POSTERIOR_FILE
    since = result.stat().st_mtime if result.exists() else math.inf
    out = []
    for files in zip(*rundir.FIGURE_FILES.values()):  # (fit.svg, fit.png), (corner...
        now = [f for f in files if f in drawn]
        there = [(p.stat().st_mtime, f) for f in files if (p := outdir / f).exists()
                 and p.stat().st_mtime >= since]
        if now or there:
            out.append(now[0] if now else max(there)[1])
    return out


def draw_figures(idata, posterior, outdir, level: str, *, truths=None, chain=None, burn=0,
                 log_params=(), context=None, curves=None, fmt="svg") -> list:
    """Draw the figures of ``level`` (``"fit"``: the data with the posterior fit; ``"all"``:
    also the corner plot and, given the chain, the trace); return their file names.

    Every figure is titled with the card and group (``context``, a
    :class:`tlsbayes.reporting.RunContext`), the fit in the units of the data; the corner and
    trace plots draw the same coordinate per parameter (log10 of those in ``log_params``).
    ``curves`` (a :class:`tlsbayes.results.curves.FitCurves` of these draws and axes, e.g.
    :attr:`ModelOutputs.curves <tlsbayes.results.model_outputs.ModelOutputs.curves>`) spares
    evaluating the model; its title is replaced by the context's.
    ``fmt``: ``"svg"`` (:mod:`tlsbayes.plotting.svg_figures`, no matplotlib) or ``"png"``
    (:mod:`tlsbayes.plotting.mpl`, the only place matplotlib is imported).
    """
    if level == "none":
        return []
    from . import plotting

    draw = plotting.renderer(fmt)
    fit_file, corner_file, trace_file = rundir.FIGURE_FILES[fmt]

    names = list(posterior.free_names)
    post = idata.posterior
    samples = np.column_stack([post[n].values.reshape(-1) for n in names])
    title = context.figure_title if context is not None else None
    if curves is None:
        curves = fit_curves(posterior, _theta(idata, posterior), axes_of=_axes_of(context))
    curves = dataclasses.replace(curves, title=title)
    atomic_savefig(draw.plot_fit, outdir / fit_file, curves)
    figures = [fit_file]
    if level == "all":
        info = posterior.parameter_info()
        atomic_savefig(draw.plot_corner, outdir / corner_file, samples, names,
                       param_info=info, log_params=log_params, truths=truths, title=title)
        figures.append(corner_file)
        if chain is not None:
            shown, labels = corner_coordinates(chain, names, posterior.priors, log_params)
            atomic_savefig(draw.plot_trace, outdir / trace_file, shown, names,
                           burn=burn, labels=[plotting.axis_label(info, n, lg)
                                              for n, lg in zip(names, labels)], title=title)
            figures.append(trace_file)
    return figures


def corner_coordinates(chain, names, priors, log_params):
    """The chain (sampling coordinates) in the corner plot's: the physical value, log10 of it
    for ``log_params``; returns it and, per parameter, whether it is log10."""
    out = np.empty(chain.shape, dtype=float)
    logs = []
    for k, n in enumerate(names):
        v = np.asarray(priors[n].from_sampling(chain[..., k]), dtype=float)
        lg = n in log_params and bool(np.all(v > 0))
        out[..., k] = np.log10(v) if lg else v
        logs.append(lg)
    return out, logs


#: A fitted noise scale outside [1/2, 2] (or residuals that far from the quoted sigma) means
#: the quoted uncertainties are not the scatter of the data; Student-t nu below this is
#: heavy-tailed (the fourth moment is infinite for nu <= 4).
NOISE_SCALE_LIMITS = (0.5, 2.0)
NU_SMALL = 5.0


def noise_guidance(summary, posterior, at_median=None) -> list:
    """Sentences for report.md when the quoted uncertainties do not describe the data.

    * a fitted ``noise_scale`` (per data set) with median above 2 or below 1/2;
    * a free Student-t ``nu`` with median below :data:`NU_SMALL`;
    * for a plain ``gaussian`` likelihood, an rms normalised residual at the posterior median
      above 2 or below 1/2 (sqrt(chi^2/n)).

    Parameters
    ----------
    summary : pandas.DataFrame
        From :func:`tlsbayes.results.summarize` (``median``, ``q16``, ``q84`` per parameter).
    posterior : Posterior
        The fitted posterior (data sets, likelihoods, priors).
    at_median : dict, optional
        ``data set name -> (n,)`` model at the summary's medians
        (:func:`tlsbayes.results.model_outputs.median_prediction`, computed here if not
        given).
    """
    lo, hi = NOISE_SCALE_LIMITS
    out = []
    rows = summary.index
    med = {n: float(summary.loc[n, "median"]) for n in rows}
    for ds in posterior.datasets:
        names = dict(zip((p.name for p in ds.likelihood.parameters), ds.likelihood_param_names))
        label = f"data set `{ds.name}`"
        s_name = names.get("noise_scale")
        if s_name in med:
            s, q16, q84 = med[s_name], summary.loc[s_name, "q16"], summary.loc[s_name, "q84"]
            if s > hi:
                out.append(f"{label}: the fitted noise scale {s_name} = {s:.3g} (68 %: {q16:.3g}-"
                    f"{q84:.3g}) says the quoted uncertainties are about {s:.2g} times smaller "
                    "than the scatter of the data (S21-fit errors are often optimistic). The "
                    "posterior widths already include this factor; check the residuals in "
                    "the fit figure for outliers or a trend the model misses (a trend means the "
                    "model, not the error bars, is wrong), and consider likelihood = "
                    "\"student_t\" if a few points dominate.")
            elif s < lo:
                out.append(f"{label}: the fitted noise scale {s_name} = {s:.3g} (68 %: {q16:.3g}-"
                    f"{q84:.3g}) says the quoted uncertainties are about {1 / s:.2g} times "
                    "larger than the scatter of the data: they may be conservative, or "
                    "correlated between points (e.g. a shared calibration), which this "
                    "likelihood does not model.")
        nu_name = names.get("nu")
        if nu_name in med and med[nu_name] < NU_SMALL:
            out.append(
                f"{label}: the fitted Student-t {nu_name} = {med[nu_name]:.3g} is small: the "
                "residuals are heavy-tailed, i.e. some points are outliers for their quoted "
                "uncertainty. Look for bad S21 fits (flag columns, a row filter) before "
                "trusting a Gaussian error model.")
        if ds.likelihood.kind == "gaussian":
            if at_median is None:
                at_median = median_prediction(posterior, med)
            mu = at_median[ds.name]
            r = float(np.sqrt(np.mean(((ds.y - mu) / ds.sigma) ** 2)))
            if r > hi or r < lo:
                what = ("smaller than the scatter: the posterior is too narrow"
                        if r > hi else "larger than the scatter: the posterior is too wide")
                out.append(
                    f"{label}: the rms residual at the posterior median is {r:.3g} times the "
                    f"quoted uncertainties, which are thus {what}. Refit with likelihood = "
                    "\"gaussian_noise_scale\" (a free scale on the quoted sigma) or "
                    "\"student_t\".")
    return out
