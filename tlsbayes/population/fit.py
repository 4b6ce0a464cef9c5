"""Fitting a population: sample the hyper-posterior of :class:`Population` and package it."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import __version__
from .. import results as R
from ..errors import TLSBayesError
from ..rundir import CHECKPOINT_FILE
from ..sampling import SamplerSettings, sample
from .members import load_member, x_of
from .model import Population
from .report import write_population

__all__ = ["PopulationResult", "fit_population", "population_from_runs"]


@dataclass
class PopulationResult:
    """What :func:`fit_population` produced.

    Attributes
    ----------
    idata : arviz.InferenceData
        ``posterior``: ``mu_<g>``, ``sigma_<g>`` and, for the log scale, the population median
        ``<param>_median_<g> = exp(μ)`` and mean ``<param>_mean_<g> = exp(μ + σ²/2)``;
        ``log_likelihood['members']``: per-member ``ln L̂_i(Λ)``; ``observed_data['members']``:
        each member's stage-1 posterior median of the parameter.
    summary : pandas.DataFrame
        :func:`tlsbayes.results.summarize` of the hyper-posterior.
    members : pandas.DataFrame
        One row per resonator: group, source, draws, stage-1 median and 68 % interval, the
        reweighting ESS (median and 5th percentile over the hyper-posterior) and a flag.
    warnings : list of str
    run : tlsbayes.sampling.SamplerRun
    converged : bool
    verdict : str
    lnl_variance : ndarray
        ``Σ_i (1/ESS_i − 1/K_i)`` at the hyper-posterior draws used for the diagnostics.
    """

    idata: object
    summary: object
    members: object
    warnings: list
    run: object
    converged: bool
    verdict: str
    lnl_variance: np.ndarray = field(default_factory=lambda: np.zeros(0))
    population: Population | None = None


def fit_population(population: Population, settings: SamplerSettings | None = None, outdir=None,
                   *, min_ess=20.0, diag_draws=400, print_fn=print) -> PopulationResult:
    """Sample the hyper-posterior and, if ``outdir`` is given, write the population directory.

    Parameters
    ----------
    population : Population
    settings : SamplerSettings, optional
        Default: ``SamplerSettings(seed=0)``.
    outdir : path-like, optional
        Written (atomically, file by file): ``population.nc`` (ArviZ), ``summary.csv``,
        ``members.csv``, ``population.md`` and ``checkpoint.h5``.
    min_ess : float
        A resonator whose median reweighting ESS over the hyper-posterior is below this is
        flagged, with a warning.
    diag_draws : int
        Hyper-posterior draws at which the ESS and the ln L variance are evaluated.
    """
    settings = settings or SamplerSettings(seed=0)
    if settings.seed is None:
        settings = SamplerSettings(**{**settings.to_dict(), "seed": 0})
    if not population.free_names:
        raise TLSBayesError("every hyperparameter is fixed: nothing to sample")
    rng = np.random.default_rng(settings.seed)
    starts = np.vstack([population.start_point()[None, :],
                        population.priors.sample(settings.map_starts, rng)])
    checkpoint = None
    if outdir is not None:
        outdir = Path(outdir)
        outdir.mkdir(parents=True, exist_ok=True)
        checkpoint = outdir / CHECKPOINT_FILE
    # The ball is drawn from a fresh stream of the same seed (not from the one that drew the
    # starts): that is how the shipped population results were sampled, kept bit for bit.
    sampled = sample(population, settings, rng=np.random.default_rng(settings.seed),
                     starts=starts, checkpoint=checkpoint)
    best, run = sampled.map, sampled.run
    print_fn(run.verdict)
    result = _result(population, run, best, min_ess=min_ess, diag_draws=diag_draws,
                     settings=settings)
    for w in result.warnings:
        print_fn("WARNING: " + w)
    if outdir is not None:
        write_population(result, outdir)
    return result


def _result(population, run, best, *, min_ess, diag_draws, settings):
    """Assemble the :class:`PopulationResult` of a finished hyper-posterior run."""
    import pandas as pd

    groups, mu, sigma = _hyper_posterior(population, run)
    rows, var, warn, var_med, near_cut = _member_diagnostics(
        population, run, mu, sigma, min_ess=min_ess, diag_draws=diag_draws)
    members_df = pd.DataFrame(rows).set_index("member")
    attrs = _provenance(population, run, best, settings, var_med=var_med, near_cut=near_cut,
                        warn=warn)
    extra = attrs["extra"]
    idata = R.build_inference_data(**groups, attrs=attrs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # no MAP column: the mode of a hierarchical posterior sits at the small-sigma edge
        # and is not a useful point estimate
        summary = R.summarize(idata).drop(columns=["map", "map_warning"])
    # the sampled hyperparameters report the figures the run was gated on
    summary["ess"] = [extra["ess"].get(n, row["ess_bulk"]) for n, row in summary.iterrows()]
    summary["r_hat"] = [extra["rhat"].get(n, row["r_hat"]) for n, row in summary.iterrows()]
    return PopulationResult(idata=idata, summary=summary, members=members_df, warnings=warn,
                            run=run, converged=bool(run.converged), verdict=run.verdict,
                            lnl_variance=var, population=population)


def _hyper_posterior(population, run):
    """InferenceData groups of the hyper-posterior, and ``mu, sigma`` ``(ndraws, ngroups)``."""
    theta = run.samples()  # (nw, nd, ndim)
    nw, nd, ndim = theta.shape
    flat = theta.reshape(nw * nd, ndim)
    params = population.priors.to_params(flat)
    mu, sigma = population.hyper_params(flat)
    post = {n: np.asarray(params[n], dtype=float).reshape(nw, nd)
            for n in population.free_names}
    if population.scale == "log":
        for j, lab in enumerate(population.labels):
            post[f"{population.param}_median_{lab}"] = np.exp(mu[:, j]).reshape(nw, nd)
            post[f"{population.param}_mean_{lab}"] = np.exp(
                mu[:, j] + 0.5 * sigma[:, j] ** 2).reshape(nw, nd)
    ll, _ = population.member_terms(mu, sigma)
    stats = run.sample_stats()
    sample_stats = {"lp": stats["log_prob"], "log_prior": stats["log_prior"],
                    "log_likelihood": stats["log_likelihood"],
                    "acceptance_rate": run.acceptance_fraction}
    medians = np.array([np.median(m.z) for m in population.members])
    observed = {"members": x_of(medians, population.scale)}
    return ({"posterior": post, "sample_stats": sample_stats,
             "log_likelihood": {"members": ll.reshape(nw, nd, -1)},
             "observed_data": observed}, mu, sigma)


def _member_diagnostics(population, run, mu, sigma, *, min_ess, diag_draws):
    """Reweighting ESS per member and the ln L variance on evenly spaced hyper-posterior
    draws: ``(rows of the member table, variance per draw, warnings, median variance,
    fraction of draws near the cut)``."""
    n = mu.shape[0]
    idx = np.linspace(0, n - 1, min(diag_draws, n)).astype(np.int64)
    _, ess = population.member_terms(mu[idx], sigma[idx])
    K = np.array([m.K for m in population.members], dtype=float)
    with np.errstate(divide="ignore"):
        var = np.sum(1.0 / ess - 1.0 / K, axis=1)
    ess_med = np.median(ess, axis=0)
    ess_p05 = np.percentile(ess, 5, axis=0)
    warn = []
    rows = []
    for i, m in enumerate(population.members):
        x = x_of(m.z, population.scale)
        q16, q50, q84 = np.percentile(x, [16, 50, 84])
        low = ess_med[i] < min_ess
        if low:
            warn.append(f"member {m.name!r} ({m.group}): median reweighting ESS "
                        f"{ess_med[i]:.1f} < {min_ess:g} of {m.K} draws; the population is "
                        "much narrower than, or away from, its posterior: its ln L estimate "
                        "is noisy (more stage-1 draws, or a wider population, help)")
        if m.converged is False:
            warn.append(f"member {m.name!r}: its stage-1 fit did not converge ({m.source})")
        rows.append({"member": m.name, "group": m.group, "source": m.source, "draws": m.K,
                     f"{population.param}_median": q50, "q16": q16, "q84": q84,
                     "ess_median": float(ess_med[i]), "ess_p05": float(ess_p05[i]),
                     "low_ess": bool(low)})
    var_med = float(np.median(var)) if var.size else 0.0
    cut = population.max_variance
    near_cut = float(np.mean(var > 0.5 * cut)) if (cut is not None and var.size) else 0.0
    if near_cut > 0.05:
        warn.append(f"{100 * near_cut:.0f} % of the hyper-posterior lies where the ln L "
                    f"variance exceeds half the cut ({cut:g}): its small-sigma edge is set by "
                    "the number of stage-1 draws, not by the data; use more draws "
                    "(--max-draws) to see whether sigma goes lower")
    if var_med > 1.0:
        warn.append(f"the Monte-Carlo variance of ln L is {var_med:.2f} (> 1) at the median "
                    "hyper-posterior draw: the hyper-posterior is distorted by sampling noise; "
                    "use more stage-1 draws (--max-draws)")
    if not run.converged:
        warn.append("the hyper-posterior sampler did not converge: " + run.verdict)
    return rows, var, warn, var_med, near_cut


def _provenance(population, run, best, settings, *, var_med, near_cut, warn):
    """Provenance attributes of ``population.nc`` (the ``extra`` entry holds the run's
    figures, the members and the warnings)."""
    map_params = {n: float(v) for n, v in
                  zip(population.priors.names,
                      (population.priors.to_params(best.theta[None, :])[n][0]
                       for n in population.priors.names))
                  if n in population.free_names}
    data_hash = R.data_sha256(*[a for m in population.members for a in (m.z, m.log_prior)])
    extra = {
        "kind": "population",
        "param": population.param,
        "scale": population.scale,
        "groups": list(population.groups),
        "members": [{"name": m.name, "group": m.group, "source": m.source, "draws": m.K,
                     "prior": m.prior.to_dict() if m.prior is not None else None}
                    for m in population.members],
        "map": map_params,
        "steps": run.steps,
        "burn_in": run.burn_in,
        "thin": run.thin,
        "ess": dict(zip(population.free_names, map(float, run.ess))),
        "rhat": dict(zip(population.free_names, map(float, run.rhat))),
        "wall_time_s": run.wall_time,
        "lnl_variance_median": var_med,
        "max_variance": population.max_variance,
        "fraction_near_cut": near_cut,
        "warnings": warn,
    }
    return R.provenance(
        version=__version__, model_card_text="", priors=population.priors.to_dict(),
        data_hash=data_hash, seed=settings.seed, sampler_settings=run.settings.to_dict(),
        tau=dict(zip(population.free_names, map(float, run.tau))), verdict=run.verdict,
        converged=bool(run.converged), extra=extra)


def population_from_runs(groups, *, param="delta0", scale="log", max_draws=1000,
                         sigma_scale=1.0, max_variance=1.0) -> Population:
    """Build a :class:`Population` from ``{group: [run directory or .nc, ...]}``."""
    members = [load_member(src, param, g, scale=scale, max_draws=max_draws)
               for g, sources in groups.items() for src in sources]
    return Population(members, param=param, scale=scale, sigma_scale=sigma_scale,
                      max_variance=max_variance)
