"""The design report: Markdown table, JSON, and the 68 % ellipses of the chosen pair."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import stats

from .plan import Plan, Sweep

__all__ = ["DesignResult", "design_json", "design_markdown", "ellipse_points", "fmt_pct",
           "plot_ellipses"]

#: 2-D region holding 68.3 % of a Gaussian: chi^2 with 2 degrees of freedom.
_DCHI2_68 = float(stats.chi2.ppf(0.682689492137, 2))


@dataclass
class DesignResult:
    """What :func:`run_design` computed and wrote."""

    plan: Plan
    theta: np.ndarray
    point_source: str
    forecasts: dict
    checks: dict = field(default_factory=dict)
    pair: tuple | None = None
    outdir: Path | None = None
    files: tuple = ()



def fmt_pct(x: float) -> str:
    return "inf" if not math.isfinite(x) else (f"{100 * x:.3g} %")



def design_markdown(card, res: DesignResult) -> str:
    """The design report: forecast table per alternative, correlations, checks."""
    plan = res.plan
    first = next(iter(res.forecasts.values()))
    names = first.names
    lines = [f"# Experiment design: {plan.meta.get('title', plan.name)}", "",
             f"- card `{card.name}` ({card.path}), plan `{plan.name}` ({plan.path})",
             f"- forecast point ({res.point_source}): "
             + ", ".join(f"{n} = {first.values[n]:.4g}" for n in names),
             "- Fisher information in the sampling coordinates (ln x for log-uniform "
             "parameters) with the prior as a Gaussian; sigma of ln x is the relative width",
             ""]
    if plan.meta.get("description"):
        lines += [plan.meta["description"], ""]
    goal = plan.target
    head = ["alternative", "points"] + [f"σ({n})" for n in names]
    if res.pair:
        head.append(f"ρ({res.pair[0]}, {res.pair[1]})")
    if goal is not None:
        head.append(f"all ≤ {100 * goal:g} %")
    lines += ["## Forecast relative widths (1 σ)", "",
              "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for aname, fc in res.forecasts.items():
        cells = [aname, str(fc.n_points)]
        for i in range(len(names)):
            mark = " (prior-limited)" if fc.sd[i] > 0.5 * fc.prior_sd[i] else ""
            cells.append(fmt_pct(fc.rel[i]) + mark)
        if res.pair:
            cells.append(f"{fc.rho(*res.pair):+.2f}")
        if goal is not None:
            cells.append("yes" if np.all(fc.rel <= goal) else "no")
        lines.append("| " + " | ".join(cells) + " |")
    errs = max(fc.error for fc in res.forecasts.values())
    lines += ["", f"Largest numerical error of a Fisher element (steps h vs 2h): {errs:.1e} "
                  "(relative).", ""]
    for aname, fc in res.forecasts.items():
        alt = next(a for a in plan.alternatives if a.name == aname)
        lines.append(f"- **{aname}**: " + (alt.description + "; " if alt.description else "")
                     + "; ".join(_describe_sweep(sw) for sw in alt.sweeps))
    if res.checks:
        lines += ["", "## Simulate-and-fit check", "",
                  "Data simulated at the forecast point with the plan's grid and noise, fitted "
                  "with `tlsbayes.fit.run_fit`; posterior σ in sampling coordinates.", "",
                  "| alternative | parameter | Fisher σ | fit σ | fit / Fisher |",
                  "|---|---|---|---|---|"]
        for aname, chk in res.checks.items():
            fc = res.forecasts[aname]
            for i, n in enumerate(names):
                lines.append(f"| {aname} | {n} | {fc.sd[i]:.4g} | {chk['sd'][i]:.4g} | "
                             f"{chk['sd'][i] / fc.sd[i]:.2f} |")
            if res.pair:
                i, j = names.index(res.pair[0]), names.index(res.pair[1])
                lines.append(f"| {aname} | ρ({res.pair[0]}, {res.pair[1]}) | {fc.corr[i, j]:+.2f}"
                             f" | {chk['corr'][i, j]:+.2f} | |")
            if not all(chk["converged"]):
                lines.append(f"| {aname} | NOT CONVERGED: {chk['verdicts'][0]} | | | |")
    if res.pair:
        lines += ["", "## Degeneracy", "",
                  f"68 % ellipses of ({res.pair[0]}, {res.pair[1]}) per alternative: "
                  "![design_ellipses.png](design_ellipses.png)"]
    return "\n".join(lines) + "\n"



def _describe_sweep(sw: Sweep) -> str:
    parts = [f"data set `{sw.dataset}`"]
    if sw.x is not None:
        parts.append(f"{sw.x.size} points, x from {sw.x.min():.4g} to {sw.x.max():.4g} "
                     f"{sw.x_unit or '(dimensionless)'}")
    else:
        parts.append("the card's x")
    if sw.temperatures is not None:
        parts.append("T = " + ", ".join(f"{t * 1e3:.4g} mK" for t in sw.temperatures))
    parts.append(f"noise {sw.noise[0]} {sw.noise[1]:g}" if sw.noise else "the card's sigma")
    return ", ".join(parts)



def design_json(card, res: DesignResult) -> dict:
    """Machine-readable design results."""
    out = {"card": card.name, "plan": res.plan.name, "point_source": res.point_source,
           "pair": list(res.pair) if res.pair else None, "target": res.plan.target,
           "alternatives": {}}
    for aname, fc in res.forecasts.items():
        d = {"names": list(fc.names), "values": fc.values, "log": list(fc.log),
             "sd_sampling": fc.sd.tolist(), "relative_sd": fc.rel.tolist(),
             "prior_sd": fc.prior_sd.tolist(), "corr": fc.corr.tolist(),
             "fisher_error": fc.error, "n_points": fc.n_points}
        if aname in res.checks:
            chk = res.checks[aname]
            d["check"] = {"sd_sampling": chk["sd"].tolist(), "corr": chk["corr"].tolist(),
                          "converged": chk["converged"],
                          "ratio_fit_over_fisher": (chk["sd"] / fc.sd).tolist()}
        out["alternatives"][aname] = d
    return out



def ellipse_points(mean, cov, dchi2=_DCHI2_68, n=200) -> np.ndarray:
    """Points ``(n, 2)`` on the ellipse ``(x-m)^T cov^-1 (x-m) = dchi2``."""
    L = np.linalg.cholesky(np.asarray(cov, dtype=np.float64))
    t = np.linspace(0.0, 2.0 * math.pi, n)
    circle = np.stack([np.cos(t), np.sin(t)])
    return (np.asarray(mean)[:, None] + math.sqrt(dchi2) * (L @ circle)).T



def plot_ellipses(res: DesignResult, path, *, param_info=None):
    """68 % ellipse of the pair for each alternative (and each check, dashed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    a, b = res.pair
    fig, ax = plt.subplots(figsize=(6.4, 5.0))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    logs = {}
    for k, (aname, fc) in enumerate(res.forecasts.items()):
        i, j = fc.names.index(a), fc.names.index(b)
        logs = {a: fc.log[i], b: fc.log[j]}
        idx = [i, j]
        pts = ellipse_points(fc.theta[idx], fc.cov[np.ix_(idx, idx)])
        pts = np.where([logs[a], logs[b]], np.exp(pts), pts)
        col = colors[k % len(colors)]
        ax.plot(pts[:, 0], pts[:, 1], color=col,
                label=f"{aname}: σ {fmt_pct(fc.rel[i])}, {fmt_pct(fc.rel[j])}, "
                      f"ρ {fc.corr[i, j]:+.2f}")
        if aname in res.checks:
            chk = res.checks[aname]
            pts = ellipse_points(fc.theta[idx], chk["cov"][np.ix_(idx, idx)])
            pts = np.where([logs[a], logs[b]], np.exp(pts), pts)
            ax.plot(pts[:, 0], pts[:, 1], color=col, ls="--",
                    label=f"{aname}: simulate-and-fit width (centred on the point)")
    fc = next(iter(res.forecasts.values()))
    pa, pb = fc.values[a], fc.values[b]
    ax.plot([pa], [pb], "k+", ms=10, label="forecast point")
    from matplotlib.ticker import FormatStrFormatter

    for axis, name in ((ax.xaxis, a), (ax.yaxis, b)):
        if logs.get(name):
            (ax.set_xscale if axis is ax.xaxis else ax.set_yscale)("log")
            # plain numbers: a forecast region rarely spans a decade
            axis.set_major_formatter(FormatStrFormatter("%g"))
            axis.set_minor_formatter(FormatStrFormatter("%g"))
    info = param_info or {}

    def lab(n):
        p = info.get(n)
        text = p.latex if p is not None and p.latex else n
        return f"{text} [{p.unit}]" if p is not None and p.unit else text

    ax.set_xlabel(lab(a))
    ax.set_ylabel(lab(b))
    ax.set_title(f"68 % forecast regions: {res.plan.meta.get('title', res.plan.name)}",
                 fontsize=9)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)

