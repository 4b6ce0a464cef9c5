"""report.md: a page that says on its own what was fitted, to what, and what came out.

Sections, in order: title and verdict; what was fitted (card, data file and its sha256, group,
filter, window, columns, constants in units); the priors actually used, each marked as declared
in the card or the model's default; the posterior summary (units, one ESS column, the
coordinate each parameter is drawn in); degeneracies; what the data identify and the misfit
checks (:mod:`tlsbayes.verdicts.report`); notes on the quoted uncertainties; the figures; and
the run's provenance.

One coordinate per parameter: the table gives each value in its unit; the corner and trace
plots draw the parameters with a log-uniform prior as log10 of that same value (labelled so,
and listed under the table), the rest as they are.
"""

from __future__ import annotations

import math

from ..rundir import FIGURE_FILES
from ..sampling.convergence import verdict_headline
from .context import RunContext

__all__ = ["report_markdown", "FIGURE_CAPTIONS", "ESS_NOTE"]

#: What each figure shows (file name of either format -> caption; "{x}" is the x axis of the
#: first data set, "{corner}" the corner plot's file).
FIGURE_CAPTIONS = {
    name: caption for files in FIGURE_FILES.values() for name, caption in zip(files, (
        "Data ({x}) with the posterior median curve and its 68 % and 95 % bands; below, the "
        "residuals in units of the quoted uncertainty.",
        "Posterior of every free parameter, one panel per pair (the coordinates of the table "
        "above; log10 where marked).",
        "Walker paths in the same coordinates as {corner}; the shaded steps were discarded as "
        "burn-in."))}


def _corner_and_trace(figures) -> tuple:
    """File names of the corner and trace plots among ``figures`` (default: the SVG ones)."""
    for files in FIGURE_FILES.values():
        if files[1] in figures or files[2] in figures:
            return files[1], files[2]
    return FIGURE_FILES["svg"][1:]

ESS_NOTE = ("ESS: the effective sample size the convergence gate used, the smaller of the "
            "rank-normalised bulk ESS and walkers x steps / tau, both on every k-th step "
            "after burn-in (k = max tau / 10 of the previous check, at least 1 and at most a "
            "200th of those steps; so a fast parameter's ESS is at most the number of those "
            "draws); summary.csv also lists ArviZ's `ess_bulk` and `ess_tail` of the stored "
            "draws; the gate needs ESS >= 1000. R-hat: split R-hat over 4 blocks of walkers "
            "(the gate needs < 1.01). 95 % HDI: the narrowest interval holding 95 % of the "
            "draws.")


def _g(v, digits: int = 4) -> str:
    try:
        v = float(v)
    except (TypeError, ValueError):
        return str(v)
    return f"{v:.{digits}g}" if math.isfinite(v) else "–"


def _esc(text) -> str:
    return str(text).replace("|", "\\|")


def _what_was_fitted(ctx: RunContext, attrs) -> list:
    lines = ["## What was fitted", ""]
    card = f"`{ctx.card_name}`" + (f" ({ctx.card_path})" if ctx.card_path else "")
    lines.append(f"- card: {card}")
    if ctx.reference:
        lines.append(f"- reference: {ctx.reference}")
    if ctx.simulated is not None:
        lines.append("- data: " + ("SIMULATED by tlsbayes (labelled so in the card)"
                                   if ctx.simulated else "measured"))
    if ctx.attribution:
        lines.append(f"- attribution: {ctx.attribution}")
    for d in ctx.datasets:
        lines += ["", f"Data set `{d.name}`: model `{d.model}`, likelihood `{d.likelihood}`, "
                      f"{d.n_points} points.", ""]
        if d.file or d.path:
            shown = f"`{d.file}`" if d.file else f"`{d.path}`"
            read = f", read from `{d.path}`" if d.file and d.path and d.path != d.file else ""
            lines.append(f"- data file: {shown}{read}")
        if d.sha256:
            lines.append(f"- data file sha256: `{d.sha256}` (the value in run.json and in "
                         "posterior.nc's `data_files`)")
        lines.append(f"- group: {d.group or 'none (every row)'}")
        lines.append(f"- filter: {f'`{d.filter}`' if d.filter else 'none'}")
        lines.append(f"- window: {d.window or 'none'}")
        if d.x_column:
            xa = f" ({d.x_axis.label})" if d.x_axis else ""
            ya = f" ({d.y_axis.label})" if d.y_axis else ""
            lines.append(f"- x: column `{d.x_column}`{xa}; y: column `{d.y_column}`{ya}")
        if d.constants:
            lines.append("- constants: " + ", ".join(f"{k} = {v}" for k, v in d.constants))
        lines += [f"- traces: {t}" for t in d.traces]
    return lines + [""]


def _priors(ctx: RunContext) -> list:
    lines = ["## Priors used", "",
             "Every parameter's prior as sampled: declared in the card's `[priors]`, or the "
             "model's default where the card declares none.", "",
             "| parameter | prior | source |", "|:---|:---|:---|"]
    for p in ctx.priors:
        src = ("declared in the card" if p.declared else "default (not in the card)"
               if p.declared is not None else "not recorded")
        lines.append(f"| {p.name} | {_esc(p.text)} | {src} |")
    return lines + [""]


def _summary(ctx: RunContext, summary, log_params, figures=()) -> list:
    log_params = set(log_params)
    lines = ["## Posterior summary", "",
             "| parameter | unit | median | 16-84 % | 95 % HDI | mean ± sd | MAP | ESS | R-hat "
             "| identified | figures show |",
             "|:---|:---|---:|---:|---:|---:|---:|---:|---:|:---|:---|"]
    for n in summary.index:
        r = summary.loc[n]
        unit = ctx.units.get(n, "") or "–"
        shown = f"log10 {n}" if n in log_params else n
        ess = r.get("ess", r.get("ess_bulk", float("nan")))
        lines.append(
            f"| {n} | {unit} | {_g(r['median'])} | {_g(r['q16'], 3)} – {_g(r['q84'], 3)} | "
            f"{_g(r['hdi_low'], 3)} – {_g(r['hdi_high'], 3)} | {_g(r['mean'])} ± {_g(r['sd'], 2)}"
            f" | {_g(r['map'])} | {_g(ess, 4)} | {_g(r['r_hat'], 4)} | "
            f"{r.get('identified', '')} | {shown} |")
    lines += ["", "Values in the unit of their row ('–': dimensionless). " + ESS_NOTE]
    logs = [n for n in summary.index if n in log_params]
    if logs:
        corner, trace = _corner_and_trace(figures)
        lines += ["", f"{corner} and {trace} draw " + ", ".join(f"`{n}`" for n in logs)
                  + " as log10 of the value in the table (their priors are log-uniform), "
                  "the other parameters as they are."]
    warn = [f"- `{n}`: {w}" for n, w in summary["map_warning"].items() if w]
    if warn:
        lines += ["", "MAP vs median warnings:", ""] + warn
    return lines + [""]


def _degeneracies(deg) -> list:
    lines = ["## Degeneracies", ""]
    lines += [f"- {s}" for s in deg["text"]] or ["- no pair of parameters has |rho| above 0.7"]
    pairs = deg["pairs"][:5]
    if pairs:
        lines += ["", "Most correlated pairs (log10 of the log-uniform parameters): " + ", ".join(
            f"{a}–{b} ({r:+.2f})" for a, b, r in pairs)]
    return lines + [""]


def _figures(ctx: RunContext, figures) -> list:
    if not figures:
        return ["## Figures", "", "Figures skipped (`--plots`): `tlsbayes report <run dir>` "
                "draws them.", ""]
    first = ctx.datasets[0] if ctx.datasets else None
    x = first.x_axis.label if first is not None and first.x_axis else "x"
    lines = ["## Figures", ""]
    for f in figures:
        cap = FIGURE_CAPTIONS.get(f, "").format(x=x, corner=_corner_and_trace(figures)[0])
        lines += [f"![{f}: {ctx.figure_title}]({f})", "", f"*{f}*: {cap}", ""]
    if _corner_and_trace(figures)[0] not in figures:
        lines += ["Figures skipped (`--plots`): `tlsbayes report <run dir>` draws them.", ""]
    return lines


def _provenance(attrs) -> list:
    extra = attrs.get("extra", {}) or {}
    wall = extra.get("wall_time_s")
    wall = f"{wall:.1f} s" if isinstance(wall, (int, float)) else "?"
    return ["## Run", "",
            f"- tlsbayes {attrs.get('version')}, result format {attrs.get('format')}, created "
            f"{attrs.get('created')}",
            f"- seed {attrs.get('seed')}, steps {extra.get('steps')}, burn-in "
            f"{extra.get('burn_in')}, thin {extra.get('thin')}, sampling time {wall}", ""]



def report_markdown(ctx: RunContext, attrs, summary, deg, figures, *, guidance=(),
                    verdicts_md: str = "", log_params=()) -> str:
    """The text of report.md.

    Parameters
    ----------
    ctx : RunContext
        What was fitted (:func:`~.context.run_context`).
    attrs : dict
        The result's provenance (verdict, seed, steps...).
    summary : tlsbayes.results.table.Table
        :func:`tlsbayes.results.summarize` with the gate's ``ess``/``r_hat`` and
        ``identified``.
    deg : dict
        :func:`tlsbayes.results.degeneracy_report`.
    figures : list of str
        File names of the figures drawn.
    guidance : sequence of str
        Sentences on the quoted uncertainties.
    verdicts_md : str
        :func:`tlsbayes.verdicts.report.markdown_section`.
    log_params : sequence of str
        Parameters drawn as log10 in the figures.
    """
    ok = attrs.get("converged", False)
    head = ctx.title or ctx.card_name
    lines = [f"# {head}", "",
             f"tlsbayes fit report of card `{ctx.card_name}`"
             + (f", {ctx.group_text}" if ctx.group_text else "") + ".", "",
             f"**Verdict:** {verdict_headline(ok, attrs.get('verdict', ''))}", ""]
    lines += _what_was_fitted(ctx, attrs) + _priors(ctx)
    lines += _summary(ctx, summary, log_params, figures)
    lines += _degeneracies(deg)
    if verdicts_md:
        lines += [verdicts_md]
    if guidance:
        lines += ["## Quoted uncertainties", ""] + [f"- {g}" for g in guidance] + [""]
    lines += _figures(ctx, figures) + _provenance(attrs)
    return "\n".join(lines)
