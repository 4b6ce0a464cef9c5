"""The fit pipeline: MAP -> emcee -> ArviZ result -> summary, degeneracy report, figures.

``run_fit(posterior, settings, outdir)`` does everything and writes a run directory:

    posterior.nc     ArviZ InferenceData (posterior, sample_stats, log_likelihood,
                     observed_data, constant_data, prior) with provenance attributes
    checkpoint.h5    emcee-layout chain checkpoint (resume with ``resume=True``)
    summary.csv      one row per parameter
    report.md        verdict, table, degeneracy report, figures
    corner.png, fit.png, trace.png

Every file is written atomically (temporary file, then rename).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import __version__
from . import results as R
from ._atomic import atomic_output, atomic_write_text
from .inference.priors import LogUniform
from .sampling import SamplerSettings, sample


def atomic_savefig(plot_fn, path, *args, **kwargs) -> Path:
    """Call ``plot_fn(*args, tmp_path, **kwargs)`` then rename the figure into place."""
    with atomic_output(path) as tmp:
        plot_fn(*args, tmp, **kwargs)
    return Path(path)


@dataclass
class FitResult:
    """What :func:`run_fit` produced (the files are in ``outdir``)."""

    idata: object
    summary: object
    degeneracy: dict
    run: object
    map_params: dict
    outdir: Path
    converged: bool
    verdict: str


def _log_params(priors):
    return [n for n in priors.free_names if isinstance(priors[n], LogUniform)]


def build_idata(posterior, run, *, map_params, card_text="", extra_attrs=None, prior_draws=1000,
                rng=None):
    """ArviZ InferenceData of a finished run (post-burn-in, thinned draws)."""
    rng = np.random.default_rng(0) if rng is None else rng
    names = posterior.free_names
    theta = run.samples()  # (nw, nd, ndim)
    nw, nd, _ = theta.shape
    flat = theta.reshape(nw * nd, -1)
    params = posterior.params(flat)
    post = {n: params[n].reshape(nw, nd) for n in names}
    stats = run.sample_stats()
    sample_stats = {"lp": stats["log_prob"]}
    for k in ("log_prior", "log_likelihood"):
        if k in stats:
            sample_stats[k] = stats[k]
    sample_stats["acceptance_rate"] = np.broadcast_to(
        run.acceptance_fraction[:, None], (nw, nd)).copy()
    pw = posterior.pointwise_log_likelihood(flat)
    log_lik = {k: v.reshape(nw, nd, -1) for k, v in pw.items()}
    observed = {ds.name: ds.y for ds in posterior.datasets}
    obs_dims = {ds.name: f"{ds.name}_point" for ds in posterior.datasets}
    constant = {}
    for ds in posterior.datasets:
        constant[f"{ds.name}_x"] = ds.x
        constant[f"{ds.name}_sigma"] = ds.sigma
        obs_dims[f"{ds.name}_x"] = f"{ds.name}_point"
        obs_dims[f"{ds.name}_sigma"] = f"{ds.name}_point"
    prior_theta = posterior.priors.sample(prior_draws, rng)
    prior_params = posterior.params(prior_theta)
    prior = {n: prior_params[n][None, :] for n in names}
    data_hash = R.data_sha256(*[a for ds in posterior.datasets for a in (ds.x, ds.y, ds.sigma)])
    extra = {
        "map": map_params,
        "steps": run.steps,
        "burn_in": run.burn_in,
        "thin": run.thin,
        "ess": dict(zip(names, map(float, run.ess))),
        "rhat": dict(zip(names, map(float, run.rhat))),
        "wall_time_s": run.wall_time,
        "datasets": [{"name": ds.name, "model": ds.model.kind, "constants": ds.model.constants(),
                      "likelihood": ds.likelihood.kind, "n": ds.n,
                      "x_kind": ds.model.x_kind, "x_unit": ds.model.x_unit,
                      "y_kind": ds.model.y_kind, "y_unit": ds.model.y_unit,
                      "sha256": ds.data_hash()} for ds in posterior.datasets],
        "log_params": _log_params(posterior.priors),
    }
    extra.update(extra_attrs or {})
    attrs = R.provenance(
        version=__version__, model_card_text=card_text, priors=posterior.priors.to_dict(),
        data_hash=data_hash, seed=run.settings.seed, sampler_settings=run.settings.to_dict(),
        tau=dict(zip(names, map(float, run.tau))), verdict=run.verdict,
        converged=bool(run.converged), extra=extra)
    idata = R.build_inference_data(posterior=post, sample_stats=sample_stats,
                                   log_likelihood=log_lik, observed_data=observed,
                                   constant_data=constant, prior=prior, attrs=attrs,
                                   obs_dims=obs_dims)
    # Predictive draws (noise included): prior predictive from the prior draws, posterior
    # predictive from up to 500 posterior draws.
    n_pp = min(500, flat.shape[0])
    post_theta = flat[np.linspace(0, flat.shape[0] - 1, n_pp).astype(int)]
    groups = {}
    for group, th in (("prior_predictive", prior_theta), ("posterior_predictive", post_theta)):
        sims = posterior.simulate(th, rng)
        groups[group] = {k: v[None, :, :] for k, v in sims.items()}
    import xarray as xr

    idata.add_groups({g: xr.Dataset({k: (("chain", "draw", obs_dims[k]), v)
                                     for k, v in d.items()})
                      for g, d in groups.items()})
    return idata


def run_fit(posterior, settings: SamplerSettings, outdir, *, card_text="", extra_attrs=None,
            resume=False, plots=True, truths=None, print_fn=print) -> FitResult:
    """Fit ``posterior`` and write the run directory; see the module docstring.

    Parameters
    ----------
    posterior : tlsbayes.inference.posterior.Posterior
    settings : SamplerSettings
        ``seed`` fixes everything (MAP starts, walker ball, chain).
    outdir : path-like
        Created if needed.
    card_text : str
        The model card, stored in the result's provenance.
    resume : bool
        Continue from ``outdir/checkpoint.h5``.
    truths : dict, optional
        Known values to draw on the corner plot (simulation truth).
    """
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    if settings.seed is None:
        settings = SamplerSettings(**{**settings.to_dict(), "seed": 0})
    rng = np.random.default_rng(settings.seed)
    names = posterior.free_names

    def map_values(best):
        return {n: float(v[0]) for n, v in posterior.params(best.theta[None, :]).items()
                if n in names}

    def show_map(best):
        print_fn("MAP: " + ", ".join(f"{n} = {v:.4g}" for n, v in map_values(best).items()))

    sampled = sample(posterior, settings, rng=rng, checkpoint=outdir / "checkpoint.h5",
                     resume=resume, on_map=show_map)
    run, map_params = sampled.run, map_values(sampled.map)
    print_fn(run.verdict)
    idata = build_idata(posterior, run, map_params=map_params, card_text=card_text,
                        extra_attrs=extra_attrs, rng=rng)
    R.save(idata, outdir / "posterior.nc")
    res = report_from_idata(idata, posterior, outdir, plots=plots, truths=truths, chain=run.chain,
                            burn=run.burn_in, print_fn=print_fn)
    return FitResult(idata=idata, summary=res["summary"], degeneracy=res["degeneracy"], run=run,
                     map_params=map_params, outdir=outdir, converged=bool(run.converged),
                     verdict=run.verdict)


def report_from_idata(idata, posterior, outdir, *, plots=True, truths=None, chain=None, burn=0,
                      print_fn=print):
    """Summary table, degeneracy report, figures and report.md from a saved result."""
    from . import plotting

    outdir = Path(outdir)
    attrs = R.attrs_of(idata)
    extra = attrs.get("extra", {}) or {}
    map_params = extra.get("map", {})
    log_params = extra.get("log_params", [])
    summary = R.summarize(idata, map_params=map_params)
    # Report the convergence figures the sampler was gated on (split R-hat over walker blocks,
    # ESS = min(ArviZ bulk, emcee's N/tau)); ArviZ's per-walker R-hat is stricter than the gate
    # and would contradict the verdict.
    for col, key in (("r_hat", "rhat"), ("ess", "ess")):
        gate = extra.get(key)
        if gate:
            summary[col] = [gate.get(n, float("nan")) for n in summary.index]
    atomic_write_text(outdir / "summary.csv", summary.to_csv(index_label="parameter"))
    deg = R.degeneracy_report(idata, log_params=log_params)
    names = list(posterior.free_names)
    figures = []
    if plots:
        post = idata.posterior
        samples = np.column_stack([post[n].values.reshape(-1) for n in names])
        theta = posterior.priors.from_params({n: samples[:, i] for i, n in enumerate(names)})
        info = posterior.parameter_info()
        atomic_savefig(plotting.plot_corner, outdir / "corner.png", samples, names,
                       param_info=info, log_params=log_params, truths=truths)
        atomic_savefig(plotting.plot_fit, outdir / "fit.png", posterior, theta)
        figures += ["fit.png", "corner.png"]
        if chain is not None:
            atomic_savefig(plotting.plot_trace, outdir / "trace.png", chain, names, burn=burn)
            figures.append("trace.png")
    guidance = noise_guidance(summary, posterior)
    text = R.format_summary(summary)
    print_fn(text)
    for s in deg["text"] + guidance:
        print_fn(s)
    md = _report_markdown(attrs, summary, deg, figures, guidance)
    atomic_write_text(outdir / "report.md", md)
    return {"summary": summary, "degeneracy": deg, "figures": figures, "guidance": guidance}


#: A fitted noise scale outside [1/2, 2] (or residuals that far from the quoted sigma) means
#: the quoted uncertainties are not the scatter of the data; Student-t nu below this is
#: heavy-tailed (the fourth moment is infinite for nu <= 4).
NOISE_SCALE_LIMITS = (0.5, 2.0)
NU_SMALL = 5.0


def noise_guidance(summary, posterior) -> list:
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
                out.append(
                    f"{label}: the fitted noise scale {s_name} = {s:.3g} (68 %: {q16:.3g}-"
                    f"{q84:.3g}) says the quoted uncertainties are about {s:.2g} times smaller "
                    "than the scatter of the data (S21-fit errors are often optimistic). The "
                    "posterior widths already include this factor; check the residuals in "
                    "fit.png for outliers or a trend the model misses (a trend means the model, "
                    "not the error bars, is wrong), and consider likelihood = \"student_t\" if "
                    "a few points dominate.")
            elif s < lo:
                out.append(
                    f"{label}: the fitted noise scale {s_name} = {s:.3g} (68 %: {q16:.3g}-"
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
            theta = posterior.priors.from_params(
                {n: med[n] for n in posterior.free_names if n in med})
            mu = posterior.predict(np.asarray(theta, dtype=np.float64)[None, :])[ds.name][0]
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


def _report_markdown(attrs, summary, deg, figures, guidance=()):
    extra = attrs.get("extra", {}) or {}
    lines = ["# tlsbayes fit report", ""]
    verdict = attrs.get("verdict", "")
    ok = attrs.get("converged", False)
    lines += [f"**Verdict:** {'converged' if ok else 'NOT CONVERGED'}. {verdict}", ""]
    lines += [f"- tlsbayes {attrs.get('version')}, result format {attrs.get('format')}, "
              f"created {attrs.get('created')}",
              f"- seed {attrs.get('seed')}, steps {extra.get('steps')}, burn-in "
              f"{extra.get('burn_in')}, thin {extra.get('thin')}, "
              f"sampling time {extra.get('wall_time_s', float('nan')):.1f} s",
              f"- data sha256 {attrs.get('data_hash')}", ""]
    for ds in extra.get("datasets", []):
        lines.append(f"- data set `{ds['name']}`: model `{ds['model']}`, likelihood "
                     f"`{ds['likelihood']}`, {ds['n']} points, constants "
                     f"`{json.dumps(ds['constants'])}`")
    lines += ["", "## Posterior summary", "", R.format_summary_markdown(summary), ""]
    warn = [f"- `{n}`: {w}" for n, w in summary["map_warning"].items() if w]
    if warn:
        lines += ["MAP vs median warnings:", ""] + warn + [""]
    lines += ["## Degeneracies", ""]
    lines += [f"- {s}" for s in deg["text"]] or ["- no pair of parameters has |rho| above 0.7"]
    pairs = deg["pairs"][:5]
    if pairs:
        lines += ["", "Most correlated pairs: " + ", ".join(
            f"{a}–{b} ({r:+.2f})" for a, b, r in pairs)]
    lines += [""]
    if guidance:
        lines += ["## Quoted uncertainties", ""] + [f"- {g}" for g in guidance] + [""]
    for f in figures:
        lines += [f"![{f}]({f})", ""]
    return "\n".join(lines)
