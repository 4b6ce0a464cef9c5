"""Reading and writing a fitted population: files, terminal text, group contrasts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import special

from .. import results as R
from ..atomic import atomic_write_text
from ..errors import TLSBayesError
from ..rundir import SUMMARY_FILE
from ..sampling.convergence import verdict_headline
from .members import clean_label

__all__ = ["write_population", "group_contrast", "population_markdown", "format_population"]


def write_population(result, outdir) -> Path:
    """Write ``population.nc``, ``summary.csv``, ``members.csv``, ``population.md`` of a
    :class:`~tlsbayes.population.fit.PopulationResult`."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    R.save(result.idata, outdir / "population.nc")
    atomic_write_text(outdir / SUMMARY_FILE, result.summary.to_csv(index_label="parameter"))
    atomic_write_text(outdir / "members.csv", result.members.to_csv())
    atomic_write_text(outdir / "population.md", population_markdown(result))
    return outdir


def group_contrast(result_or_idata, a, b):
    """How the population of group ``a`` compares with that of group ``b``.

    Returns
    -------
    dict
        ``p_median``: P(μ_a > μ_b), i.e. the population median of θ is larger in ``a``;
        ``p_mean``: P(E_a[θ] > E_b[θ]) with E[θ] = exp(μ + σ²/2) (log scale) or μ (linear);
        ``p_new``: probability that a new resonator of ``a`` has the larger θ than a new one
        of ``b``, ``E[Φ((μ_a − μ_b) / sqrt(σ_a² + σ_b²))]``;
        ``dmu``: median and 2.5/97.5 % quantiles of μ_a − μ_b (for the log scale,
        ``ratio_median`` gives exp of the same: the ratio of the population medians).
    """
    idata = getattr(result_or_idata, "idata", result_or_idata)
    post = idata.posterior
    la, lb = clean_label(a), clean_label(b)
    for lab, g in ((la, a), (lb, b)):
        if f"mu_{lab}" not in post:
            groups = sorted(v[3:] for v in post.data_vars if v.startswith("mu_"))
            raise TLSBayesError(f"no group {g!r} in the population (groups: {', '.join(groups)})")
    scale = (R.attrs_of(idata).get("extra") or {}).get("scale", "log")

    def get(name):
        return np.asarray(post[name].values, dtype=float).reshape(-1)

    mua, mub = get(f"mu_{la}"), get(f"mu_{lb}")
    sa, sb = get(f"sigma_{la}"), get(f"sigma_{lb}")
    d = mua - mub
    if scale == "log":
        mean_a, mean_b = np.exp(mua + 0.5 * sa ** 2), np.exp(mub + 0.5 * sb ** 2)
    else:
        mean_a, mean_b = mua, mub
    q = np.percentile(d, [2.5, 50, 97.5])
    out = {
        "a": a, "b": b, "scale": scale,
        "p_median": float(np.mean(d > 0)),
        "p_mean": float(np.mean(mean_a > mean_b)),
        "p_new": float(np.mean(special.ndtr(d / np.sqrt(sa ** 2 + sb ** 2)))),
        "dmu": {"q2.5": float(q[0]), "median": float(q[1]), "q97.5": float(q[2])},
    }
    if scale == "log":
        out["ratio_median"] = {k: float(np.exp(v)) for k, v in out["dmu"].items()}
    return out


def _contrasts(idata, groups):
    """``(a, b, group_contrast(idata, a, b))`` for every pair of groups, in group order."""
    return [(a, b, group_contrast(idata, a, b))
            for i, a in enumerate(groups) for b in groups[i + 1:]]


def population_markdown(result) -> str:
    """The ``population.md`` report: verdict, hyper-posterior table, members, warnings."""
    attrs = R.attrs_of(result.idata)
    extra = attrs.get("extra") or {}
    param = extra.get("param", "theta")
    coord = f"ln {param}" if extra.get("scale") == "log" else param
    lines = ["# tlsbayes population report", "",
             f"**Verdict:** {verdict_headline(result.converged, result.verdict)}", "",
             f"Population model: {coord} ~ Normal(mu_g, sigma_g) per group "
             f"({', '.join(extra.get('groups', []))}); two-stage importance reweighting of "
             f"{len(result.members)} stage-1 posteriors against their own priors.", "",
             f"- tlsbayes {attrs.get('version')}, seed {attrs.get('seed')}, steps "
             f"{extra.get('steps')}, burn-in {extra.get('burn_in')}",
             "- hyperpriors: " + ", ".join(f"`{n}` {d['dist']}("
                                            + ", ".join(f"{k}={v:g}" for k, v in d.items()
                                                        if k not in ("dist", "unit", "latex"))
                                            + ")" for n, d in attrs.get("priors", {}).items()),
             f"- Monte-Carlo variance of ln L at the median hyper-posterior draw: "
             f"{extra.get('lnl_variance_median', float('nan')):.3g}; hyperparameters where it "
             f"exceeds {extra.get('max_variance')} are excluded "
             f"({100 * extra.get('fraction_near_cut', 0.0):.1f} % of the draws above half "
             "of that)", "",
             "## Hyper-posterior", "", R.format_summary_markdown(result.summary), ""]
    groups = extra.get("groups", [])
    if len(groups) > 1:
        lines += ["## Group contrasts", ""]
        for a, b, c in _contrasts(result.idata, groups):
            lines.append(f"- {a} vs {b}: P(median_{a} > median_{b}) = {c['p_median']:.3f}, "
                         f"P(mean_{a} > mean_{b}) = {c['p_mean']:.3f}, P(new {a} resonator "
                         f"> new {b} resonator) = {c['p_new']:.3f}")
        lines.append("")
    m = result.members
    lines += ["## Members", "",
              "| member | group | draws | median | 16 % | 84 % | ESS (median) | ESS (5 %) | |",
              "|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for name, r in m.iterrows():
        lines.append(f"| {name} | {r['group']} | {r['draws']} | {r[f'{param}_median']:.4g} | "
                     f"{r['q16']:.4g} | {r['q84']:.4g} | {r['ess_median']:.0f} | "
                     f"{r['ess_p05']:.0f} | {'LOW ESS' if r['low_ess'] else ''} |")
    lines.append("")
    if result.warnings:
        lines += ["## Warnings", ""] + [f"- **{w}**" for w in result.warnings] + [""]
    return "\n".join(lines)


def format_population(result) -> str:
    """Terminal text: hyper-posterior table, group contrasts, low-ESS members, warnings."""
    extra = R.attrs_of(result.idata).get("extra") or {}
    lines = [R.format_summary(result.summary)]
    groups = extra.get("groups", [])
    for a, b, c in _contrasts(result.idata, groups):
        lines.append(f"{a} vs {b}: P(median {a} > median {b}) = {c['p_median']:.3f}; "
                     f"P(mean {a} > mean {b}) = {c['p_mean']:.3f}; "
                     f"P(new {a} > new {b}) = {c['p_new']:.3f}")
    m = result.members
    lines.append(f"reweighting ESS per resonator: median over members "
                 f"{float(np.median(m['ess_median'])):.0f}, lowest "
                 f"{float(np.min(m['ess_median'])):.0f} ({m['ess_median'].idxmin()}); "
                 f"ln L Monte-Carlo variance {extra.get('lnl_variance_median', 0.0):.3g}")
    lines += [f"WARNING: {w}" for w in result.warnings]
    return "\n".join(lines)
