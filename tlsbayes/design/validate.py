"""Check a Fisher forecast by simulating the plan's data and fitting them."""

from __future__ import annotations

import dataclasses
import tempfile

import numpy as np

from ..inference.posterior import Posterior

__all__ = ["simulate_and_fit"]


def simulate_and_fit(posterior, theta, *, seed=0, n_sims=1, settings=None) -> dict:
    """Simulate the plan's data at ``theta`` and fit them; the posterior widths measured.

    Parameters
    ----------
    posterior : Posterior
        A plan posterior (:func:`plan_posterior`): its data sets' x, sigma and likelihood.
    theta : ndarray, shape (ndim,)
        Truth, sampling coordinates.
    seed : int
    n_sims : int
        Independent simulated data sets; widths are averaged over them.
    settings : tlsbayes.sampling.SamplerSettings, optional
        Default: converged runs with ESS >= 400 (enough for a width to ~4 %).

    Returns
    -------
    dict
        ``"sd"`` (ndim,) posterior standard deviations in sampling coordinates (mean over the
        simulations), ``"sd_each"`` (n_sims, ndim), ``"corr"`` (ndim, ndim) mean correlation,
        ``"cov"`` mean covariance, ``"converged"`` list of bool, ``"verdicts"``.
    """
    from ..fit import run_fit
    from ..sampling import SamplerSettings

    rng = np.random.default_rng(seed)
    names = posterior.free_names
    sds, corrs, covs, conv, verdicts = [], [], [], [], []
    for r in range(n_sims):
        sims = posterior.simulate(np.asarray(theta)[None, :], rng)
        dsets = [dataclasses.replace(ds, y=sims[ds.name][0]) for ds in posterior.datasets]
        sim_post = Posterior(dsets, posterior.priors)
        s = settings or SamplerSettings(seed=seed + 1000 * r + 1, progress=False,
                                        target_ess=400.0, max_steps=40_000)
        with tempfile.TemporaryDirectory(prefix="tlsbayes-design-") as tmp:
            res = run_fit(sim_post, s, tmp, plots=False, print_fn=lambda *a, **k: None)
        post = res.idata.posterior
        th = posterior.priors.from_params(
            {n: np.asarray(post[n].values, dtype=np.float64).reshape(-1) for n in names})
        cov = np.cov(th, rowvar=False).reshape(len(names), len(names))
        sd = np.sqrt(np.diag(cov))
        sds.append(sd)
        covs.append(cov)
        corrs.append(cov / np.outer(sd, sd))
        conv.append(bool(res.converged))
        verdicts.append(res.verdict)
    return {"sd": np.mean(sds, axis=0), "sd_each": np.array(sds),
            "corr": np.mean(corrs, axis=0), "cov": np.mean(covs, axis=0),
            "converged": conv, "verdicts": verdicts}

