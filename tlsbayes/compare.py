"""Model comparison by PSIS-LOO from saved posteriors.

The expected log pointwise predictive density of each model,

    elpd_loo = Σ_i ln p(y_i | y_−i),

is estimated by Pareto-smoothed importance sampling of the pointwise log-likelihood that every
run stores in its ``posterior.nc`` (Vehtari, Gelman & Gabry 2017, Stat. Comput. 27, 1413;
computed by :func:`arviz.loo`).  Models are ranked by elpd_loo; ``elpd_diff`` is the
difference to the best and ``dse`` its standard error from the pointwise differences;
``weight`` are stacking weights (Yao et al. 2018, Bayesian Anal. 13, 917).

Joint posteriors store one log-likelihood variable per data set.  The unit left out is either

* ``"observation"`` (default): every point of every data set, i.e. the data sets'
  pointwise values are concatenated, so ``elpd_loo`` is the sum over data sets of the sum
  over their points; or
* ``"dataset"``: a whole curve, the pointwise values of each data set summed over its
  points first (leave-one-curve-out; PSIS is then often unreliable, watch k).

Runs compared must have been fitted to the same observations (checked on the stored
``observed_data``): the elpd of different data sets are not comparable.

Diagnostics, reported loudly:

* Pareto k > 0.7 for some observation: the importance ratios have too heavy a tail, the
  PSIS estimate for that point is unreliable (Vehtari et al. 2024, JMLR 25); refit
  without it (exact LOO) or use k-fold cross-validation.
* p_loo (the effective number of parameters) larger than the number of free parameters
  (by more than 1, its typical noise): a misspecified model, outliers, or parameters that
  only a few points constrain (a heuristic, not a verdict).
* a run that did not converge.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import results as R
from .atomic import atomic_write_text
from .errors import TLSBayesError
from .rundir import POSTERIOR_FILE

__all__ = ["UNITS", "K_THRESHOLD", "CompareResult", "pointwise_log_likelihood", "loo",
           "compare_runs", "format_compare", "compare_markdown", "write_compare"]

UNITS = ("observation", "dataset")
#: Pareto k above which a PSIS-LOO term is unreliable (Vehtari et al. 2024).
K_THRESHOLD = 0.7


def _load(source):
    """``(idata, name, where)`` from an InferenceData or a Result, a run directory or a .nc
    file; ``idata`` is an :class:`arviz.InferenceData` (PSIS-LOO is ArviZ's)."""
    if hasattr(source, "posterior") and hasattr(source, "attrs"):
        attrs = R.attrs_of(source)
        if isinstance(source, R.Result):
            source = source.to_inference_data()
        return source, (attrs.get("extra") or {}).get("card_name") or "model", "<InferenceData>"
    path = Path(source)
    if path.is_dir():
        nc = path / POSTERIOR_FILE
        if not nc.is_file():
            raise TLSBayesError(f"{path}: not a tlsbayes run directory (no posterior.nc)")
        return R.load(nc).to_inference_data(), path.name, str(nc)
    return R.load(path).to_inference_data(), path.stem, str(path)


def pointwise_log_likelihood(idata, unit="observation", where="result"):
    """All data sets' pointwise log-likelihoods as one ``(chain, draw, n)`` array.

    Parameters
    ----------
    idata : arviz.InferenceData
        A tlsbayes result with a ``log_likelihood`` group.
    unit : {"observation", "dataset"}
        What one LOO term leaves out (see the module docstring).

    Returns
    -------
    loglik : ndarray, shape (nchain, ndraw, n)
    observed : ndarray, shape (total points,)
        The observations of every data set, concatenated in the same order.
    labels : list of str
        ``"<dataset>[<i>]"`` per term (or the data set name for ``unit="dataset"``).
    """
    if unit not in UNITS:
        raise TLSBayesError(f"unknown LOO unit {unit!r} (allowed: {', '.join(UNITS)})")
    if "log_likelihood" not in idata.groups() or not list(idata.log_likelihood.data_vars):
        raise TLSBayesError(f"{where}: no pointwise log_likelihood group; PSIS-LOO needs it")
    blocks, obs, labels = [], [], []
    for name, da in idata.log_likelihood.data_vars.items():
        extra = [d for d in da.dims if d not in ("chain", "draw")]
        arr = np.asarray(da.transpose("chain", "draw", *extra).values, dtype=float)
        arr = arr.reshape(arr.shape[0], arr.shape[1], -1)
        if not np.all(np.isfinite(arr)):
            raise TLSBayesError(f"{where}: log-likelihood of {name!r} has non-finite values "
                                "at some posterior draws")
        if "observed_data" in idata.groups() and name in idata.observed_data:
            obs.append(np.asarray(idata.observed_data[name].values, dtype=float).reshape(-1))
        if unit == "observation":
            blocks.append(arr)
            labels += [f"{name}[{i}]" for i in range(arr.shape[2])]
        else:
            blocks.append(arr.sum(axis=2, keepdims=True))
            labels.append(str(name))
    observed = np.concatenate(obs) if obs else np.zeros(0)
    return np.concatenate(blocks, axis=2), observed, labels


@dataclass(frozen=True, eq=False)
class _Model:
    name: str
    where: str
    elpd: object  # arviz ELPDData
    observed: np.ndarray
    labels: list
    n_params: int
    converged: bool | None


def loo(idata, unit="observation", where="result"):
    """PSIS-LOO (:func:`arviz.loo`, pointwise) of a tlsbayes result, all data sets included."""
    import arviz as az
    import xarray as xr

    ll, observed, labels = pointwise_log_likelihood(idata, unit, where)
    nchain, ndraw, n = ll.shape
    one = az.InferenceData(
        posterior=idata.posterior,
        log_likelihood=xr.Dataset({"y": (("chain", "draw", "loo_unit"), ll)},
                                  coords={"chain": idata.posterior.chain.values,
                                          "draw": idata.posterior.draw.values}))
    with warnings.catch_warnings():
        # ArviZ warns about high k itself; tlsbayes reports it in the table and loudly below.
        warnings.simplefilter("ignore")
        elpd = az.loo(one, pointwise=True, var_name="y")
    return elpd, observed, labels


@dataclass
class CompareResult:
    """What :func:`compare_runs` produced.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per model, best first: ``rank`` (1 = best), ``elpd_loo``, ``se``, ``elpd_diff``
        (≤ 0, relative to the best), ``dse``, ``p_loo``, ``n_params``, ``weight``
        (stacking), ``max_k``, ``n_k_bad`` (terms with k > 0.7), ``converged``.
    warnings : list of str
    unit : str
    n : int
        Number of LOO terms.
    loo : dict
        ``name -> arviz ELPDData`` (pointwise).
    """

    table: object
    warnings: list
    unit: str
    n: int
    loo: dict = field(default_factory=dict)
    sources: dict = field(default_factory=dict)


def _unique(names):
    out, seen = [], {}
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n}_{seen[n]}")
    return out


def compare_runs(sources, *, names=None, unit="observation") -> CompareResult:
    """Rank models fitted to the same data by PSIS-LOO.

    Parameters
    ----------
    sources : sequence of path-like or arviz.InferenceData
        Run directories (``posterior.nc`` inside), result files or results; at least two.
    names : sequence of str, optional
        Labels; default the card name recorded in each result, else the directory name.
    unit : {"observation", "dataset"}

    Raises
    ------
    TLSBayesError
        Fewer than two runs, a run without pointwise log-likelihood, or runs fitted to
        different observations (the message names them).
    """
    import arviz as az

    sources = list(sources)
    if len(sources) < 2:
        raise TLSBayesError("compare needs at least two runs")
    if names is not None and len(names) != len(sources):
        raise TLSBayesError(f"{len(names)} names for {len(sources)} runs")
    loaded = []
    for i, src in enumerate(sources):
        idata, default, where = _load(src)
        attrs = R.attrs_of(idata)
        elpd, observed, labels = loo(idata, unit, where)
        name = names[i] if names is not None else ((attrs.get("extra") or {}).get("card_name")
                                                   or default)
        loaded.append((str(name), where, elpd, observed, labels,
                       len(idata.posterior.data_vars), attrs.get("converged")))
    models = [_Model(u, *rest) for u, (_, *rest) in zip(_unique([t[0] for t in loaded]),
                                                         loaded)]
    ref = models[0]
    for m in models[1:]:
        same = (m.observed.shape == ref.observed.shape
                and np.allclose(m.observed, ref.observed, rtol=1e-12, atol=0.0))
        if not same or len(m.labels) != len(ref.labels):
            raise TLSBayesError(
                f"runs {ref.where} and {m.where} were fitted to different observations "
                f"({ref.observed.size} vs {m.observed.size} points"
                f"{'' if m.observed.size != ref.observed.size else ', values differ'}); "
                "PSIS-LOO compares models on the same data only")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cmp = az.compare({m.name: m.elpd for m in models}, ic="loo", method="stacking")
    rows = []
    warn = []
    by_name = {m.name: m for m in models}
    for name, r in cmp.iterrows():
        m = by_name[name]
        k = np.asarray(m.elpd.pareto_k.values, dtype=float)
        bad = int(np.sum(k > K_THRESHOLD))
        rows.append({"model": name, "rank": int(r["rank"]) + 1,
                     "elpd_loo": float(r["elpd_loo"]),
                     "se": float(r["se"]), "elpd_diff": 0.0 - float(r["elpd_diff"]) + 0.0,
                     "dse": float(r["dse"]), "p_loo": float(r["p_loo"]),
                     "n_params": m.n_params, "weight": float(r["weight"]),
                     "max_k": float(np.max(k)), "n_k_bad": bad,
                     "converged": m.converged})
        if bad:
            worst = [m.labels[j] for j in np.argsort(k)[::-1][:min(bad, 5)]]
            warn.append(f"model {name!r}: Pareto k > {K_THRESHOLD} for {bad} of {k.size} "
                        f"LOO terms (max k = {np.max(k):.2f}, worst: {', '.join(worst)}); "
                        "PSIS-LOO is unreliable for them: refit without those points "
                        "(exact LOO) or use k-fold cross-validation before trusting the "
                        "ranking")
        if float(r["p_loo"]) > m.n_params + 1.0:
            warn.append(f"model {name!r}: p_loo = {float(r['p_loo']):.1f} exceeds its "
                        f"{m.n_params} free parameters: some points are very influential "
                        "(outliers, or parameters only a few points constrain) or the model "
                        "is misspecified; look at its Pareto k and residuals")
        if m.converged is False:
            warn.append(f"model {name!r}: its fit did not converge ({m.where})")
    import pandas as pd

    table = pd.DataFrame(rows).set_index("model")
    return CompareResult(table=table, warnings=warn, unit=unit, n=len(ref.labels),
                         loo={m.name: m.elpd for m in models},
                         sources={m.name: m.where for m in models})


def _cells(table):
    head = ["model", "rank", "elpd_loo", "se", "Δelpd", "dse", "p_loo", "params", "weight",
            "max k", "k>0.7"]
    rows = []
    for name, r in table.iterrows():
        rows.append([str(name), f"{r['rank']}", f"{r['elpd_loo']:.2f}", f"{r['se']:.2f}",
                     f"{r['elpd_diff']:.2f}", f"{r['dse']:.2f}", f"{r['p_loo']:.2f}",
                     f"{r['n_params']}", f"{r['weight']:.3f}", f"{r['max_k']:.2f}",
                     f"{r['n_k_bad']}" + (" !" if r["n_k_bad"] else "")])
    return head, rows


def _verdict(result: CompareResult) -> str:
    t = result.table
    best = t.index[0]
    if len(t) < 2:
        return f"best: {best}"
    second = t.index[1]
    d, dse = -t.loc[second, "elpd_diff"], t.loc[second, "dse"]
    ratio = d / dse if dse > 0 else math.inf
    strength = ("decisive" if ratio > 4 else "clear" if ratio > 2 else
                "not significant: the data do not separate them")
    return (f"best: {best}; next, {second}, is worse by Δelpd = {d:.2f} ± {dse:.2f} "
            f"({ratio:.1f} dse, {strength})")


def format_compare(result: CompareResult) -> str:
    """Terminal text: the table, the verdict and the warnings (with a banner if k is bad)."""
    head, rows = _cells(result.table)
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    line = lambda cells: "  ".join(c.rjust(w) if i else c.ljust(w)  # noqa: E731
                                   for i, (c, w) in enumerate(zip(cells, widths)))
    out = [f"PSIS-LOO over {result.n} {result.unit}s (elpd: higher is better)",
           line(head), line(["-" * w for w in widths])] + [line(r) for r in rows]
    out.append(_verdict(result))
    if any(result.table["n_k_bad"] > 0):
        bar = "!" * 78
        out += [bar, "WARNING: Pareto k > 0.7: some LOO estimates below are unreliable", bar]
    out += [f"WARNING: {w}" for w in result.warnings]
    return "\n".join(out)


def compare_markdown(result: CompareResult, title="Model comparison (PSIS-LOO)") -> str:
    """Markdown table, verdict and warnings."""
    head, rows = _cells(result.table)
    md = [f"## {title}", "",
          f"PSIS-LOO over {result.n} {result.unit}s; elpd higher is better, Δelpd relative "
          "to the best, dse its standard error, weight = stacking weight.", "",
          "| " + " | ".join(head) + " |", "|" + "---|" + "---:|" * (len(head) - 1)]
    md += ["| " + " | ".join(r) + " |" for r in rows]
    md += ["", f"**{_verdict(result)}**", ""]
    if result.warnings:
        md += [f"- **WARNING:** {w}" for w in result.warnings] + [""]
    md += ["Runs: " + ", ".join(f"`{n}` = {w}" for n, w in result.sources.items()), ""]
    return "\n".join(md)


def write_compare(result: CompareResult, outdir) -> Path:
    """Write ``compare.md`` and ``compare.csv`` into ``outdir`` (atomically)."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(outdir / "compare.csv", result.table.to_csv())
    atomic_write_text(outdir / "compare.md", compare_markdown(result))
    return outdir
