"""The forecast point, and the posterior an alternative's data would have."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np

from ..errors import CardError, TLSBayesError
from ..inference.posterior import Dataset, Posterior
from ..inference.priors import Fixed
from ..rundir import POSTERIOR_FILE
from .plan import Alternative

__all__ = ["forecast_point", "plan_posterior", "true_noise_theta"]


def forecast_point(posterior, *, point=None, card_point=None,
                   run_dir=None) -> tuple[np.ndarray, str]:
    """``theta`` (sampling coordinates) to forecast at, and where it came from.

    Parameters
    ----------
    posterior : Posterior
        The card's posterior (defines names and priors).
    point : mapping, optional
        Physical values (e.g. a plan's ``[point]``); used where no run is given.
    card_point : mapping, optional
        Physical values of lower precedence (a card's ``[simulation]`` parameters).
    run_dir : path-like, optional
        A finished run directory: the posterior medians in its ``posterior.nc``.

    Raises
    ------
    CardError
        A value outside its prior, a fixed parameter given another value, or a run whose
        parameters are not the card's.
    """
    from .. import results as R

    priors = posterior.priors
    values = {n: float(np.asarray(priors[n].ppf(0.5))) for n in priors.free_names}
    source = {n: "prior median" for n in values}
    given = [(n, v, "card [simulation]") for n, v in (card_point or {}).items()]
    given += [(n, v, "plan [point]") for n, v in (point or {}).items()]
    for n, v, where in given:
        if n not in priors:
            raise CardError(f"{where}: unknown parameter {n!r}")
        if isinstance(priors[n], Fixed):
            if v != priors[n].value:
                raise CardError(f"{where}: {n} = {v!r}, but the card fixes {n} at "
                                f"{priors[n].value!r}")
            continue
        values[n], source[n] = float(v), where
    if run_dir is not None:
        path = Path(run_dir) / POSTERIOR_FILE
        if not path.is_file():
            raise CardError(f"{run_dir}: not a finished run directory (no posterior.nc)")
        idata = R.load(path)
        missing = [n for n in priors.free_names if n not in idata.posterior]
        if missing:
            raise CardError(f"{path}: the run has no parameter {missing[0]!r} of the card "
                            "(was it fitted with another card?)")
        for n in priors.free_names:
            values[n] = float(np.median(idata.posterior[n].values))
            source[n] = "run median"
    for n, v in values.items():
        lo, hi = priors[n].support
        if not lo <= v <= hi:
            raise CardError(f"forecast point: {n} = {v:g} ({source[n]}) lies outside its prior "
                            f"[{lo:g}, {hi:g}]")
    theta = np.asarray(priors.from_params(values), dtype=np.float64)
    kinds = sorted(set(source.values()))
    return theta, ", ".join(kinds)



def plan_posterior(posterior, alternative: Alternative, theta) -> Posterior:
    """The posterior the alternative's data would have (noise-free data at ``theta``).

    Each sweep (and each of its temperatures) becomes a :class:`Dataset` with the card data
    set's model (temperature replaced), likelihood and parameter suffix; the priors are the
    card's.  ``y`` is the prediction at ``theta``; only ``x`` and ``sigma`` matter for the
    Fisher information, and :func:`simulate_and_fit` replaces ``y`` by simulated data.
    """
    by_name = {ds.name: ds for ds in posterior.datasets}
    params = {k: float(v[0]) for k, v in posterior.params(theta).items()}
    out = []
    for k, sw in enumerate(alternative.sweeps):
        base = by_name[sw.dataset]
        temps = sw.temperatures if sw.temperatures is not None else (None,)
        for T in temps:
            model = base.model if T is None else dataclasses.replace(base.model, T=T)
            x = base.x if sw.x is None else sw.x
            mu = np.asarray(model.predict({n: params[n] for n in model.param_names}, x))
            if not np.all(np.isfinite(mu)):
                raise TLSBayesError(f"alternative {alternative.name!r}: the model of data set "
                                    f"{sw.dataset!r} is not finite on the plan's grid")
            if sw.noise is None:
                sigma = base.sigma
            elif sw.noise[0] == "relative":
                sigma = sw.noise[1] * np.abs(mu)
            else:
                sigma = np.full(mu.shape, sw.noise[1])
            name = f"{sw.dataset}_{k + 1}" + ("" if T is None else f"_T{T * 1e3:.4g}mK")
            name = re.sub(r"[^A-Za-z0-9_]", "_", name)
            out.append(Dataset(name=name, model=model, x=x, y=mu, sigma=sigma,
                               likelihood=base.likelihood, suffix=base.suffix))
    return Posterior(out, posterior.priors)



def true_noise_theta(posterior, theta) -> np.ndarray:
    """``theta`` with every noise_scale set to 1 (a plan states the real noise)."""
    theta = np.array(theta, dtype=np.float64)
    for i, n in enumerate(posterior.free_names):
        if n == "noise_scale" or n.startswith("noise_scale_"):
            prior = posterior.priors[n]
            lo, hi = prior.support
            if lo <= 1.0 <= hi:
                theta[i] = float(prior.to_sampling(1.0))
    return theta

