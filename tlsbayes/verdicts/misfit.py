"""Per data set misfit verdict: does the model miss a trend, or the scatter, of these data?

Three checks per data set, on posterior draws:

runs
    Wald-Wolfowitz runs test on the signs of the residuals ``y - mu`` at the posterior median
    prediction (pointwise median of ``mu`` over draws), ordered by ``x``: too few runs (long
    stretches above, then below the model) is a trend the model misses.  Exact null
    distribution given the numbers of positive and negative residuals; one-sided.
lag-1 autocorrelation
    ``r1 = sum(r_i r_{i+1}) / sum(r_i^2)`` of the normalised residuals (by the noise model's
    standard deviation) ordered by ``x``, against :data:`N_PERMUTATIONS` random orderings of
    the same residuals; one-sided (a trend makes neighbours alike).
discrepancy (posterior predictive)
    ``D(y, theta) = -2 ln p(y | theta)`` (chi^2 for Gaussian noise) of the data against data
    replicated from the likelihood at the same draw; ``p = P(D(y_rep) >= D(y))``.  With a free
    noise scale it cannot fire (the scale absorbs the scatter), and the trend checks carry the
    verdict.

Neither trend check depends on the overall noise level, so a fitted noise scale cannot hide a
trend.  ``misfit`` is true when ``min(p_runs, p_r1) < alpha / 2`` (the two trend statistics,
Bonferroni) or ``p_discrepancy < alpha``, with :data:`ALPHA` = 0.01: data simulated from the
model are flagged with probability at most ~2 % by construction; residuals of a fitted model
vary less along x than noise, which makes all three checks conservative.

Measured (``benchmarks/verdict_calibration.py``): a straight line with its exact posterior is
flagged on 0.98 % of 5000 data sets from the model, and on 46 % / 100 % of data with a missed
parabola of 0.1 / 0.2 sigma per unit x^2 (x in [-5, 5], 25 points); Qi(P) sweeps from the
model: 0 of 115 flagged; data from two TLS populations (beta 0.15 and 0.9) fitted with one
beta: 105 of 105 flagged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "ALPHA",
    "N_PERMUTATIONS",
    "MAX_DRAWS",
    "Misfit",
    "runs_test",
    "lag1_test",
    "check_dataset",
    "check_posterior",
]

#: Nominal false-alarm level of each of the two verdicts (trend, scatter).
ALPHA = 0.01
#: Random orderings for the lag-1 autocorrelation test (p-values resolved to ~3e-4).
N_PERMUTATIONS = 4000
#: Posterior draws used for the predictive check (evenly spaced through the chain).
MAX_DRAWS = 400


@dataclass(frozen=True)
class Misfit:
    """Misfit verdict of one data set.

    Attributes
    ----------
    dataset : str
    misfit : bool
    reason : str
        One sentence ("" when the model describes the data).
    n : int
        Number of points.
    runs, runs_expected : float
        Observed and expected (under no trend) number of sign runs.
    p_runs, r1, p_r1, p_discrepancy : float
        p-values of the three checks and the lag-1 autocorrelation.
    max_abs_residual : float
        Largest normalised residual at the posterior median prediction.
    """

    dataset: str
    misfit: bool
    reason: str
    n: int
    runs: float
    runs_expected: float
    p_runs: float
    r1: float
    p_r1: float
    p_discrepancy: float
    max_abs_residual: float


def runs_test(signs) -> tuple:
    """Wald-Wolfowitz runs test for too few runs.

    Parameters
    ----------
    signs : array_like of bool, shape (n,)
        ``True`` for a positive residual, in the order of ``x``.

    Returns
    -------
    runs : int
    expected : float
        ``1 + 2 n1 n2 / n``.
    p : float
        ``P(R <= runs)`` under random order given ``n1`` positive and ``n2`` negative (exact);
        1 when one sign is missing (no test possible).
    """
    from scipy import special  # not at import: reading a card or a run needs no scipy

    s = np.asarray(signs, dtype=bool)
    n1, n2 = int(s.sum()), int((~s).sum())
    runs = 1 + int(np.count_nonzero(s[1:] != s[:-1])) if s.size else 0
    if n1 == 0 or n2 == 0:
        return runs, float(runs), 1.0
    n = n1 + n2
    expected = 1.0 + 2.0 * n1 * n2 / n
    log_total = special.gammaln(n + 1) - special.gammaln(n1 + 1) - special.gammaln(n2 + 1)

    def lcomb(a, b):
        if b < 0 or b > a:
            return -math.inf
        return special.gammaln(a + 1) - special.gammaln(b + 1) - special.gammaln(a - b + 1)

    p = 0.0
    for r in range(2, runs + 1):
        k = r // 2
        if r % 2 == 0:
            lp = math.log(2.0) + lcomb(n1 - 1, k - 1) + lcomb(n2 - 1, k - 1)
            p += math.exp(lp - log_total)
        else:
            p += math.exp(lcomb(n1 - 1, k - 1) + lcomb(n2 - 1, k) - log_total)
            p += math.exp(lcomb(n1 - 1, k) + lcomb(n2 - 1, k - 1) - log_total)
    return runs, expected, min(1.0, p)


def _lag1(r: np.ndarray) -> np.ndarray:
    """Lag-1 autocorrelation along the last axis (not centred: an offset is a misfit too)."""
    num = np.sum(r[..., 1:] * r[..., :-1], axis=-1)
    den = np.sum(r * r, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, 0.0)


def lag1_test(r, rng: np.random.Generator, n_perm: int = N_PERMUTATIONS) -> tuple:
    """Permutation test of a positive lag-1 autocorrelation.

    Parameters
    ----------
    r : array_like, shape (n,)
        Normalised residuals in the order of ``x``.
    rng : numpy.random.Generator
    n_perm : int

    Returns
    -------
    r1 : float
    p : float
        ``(1 + #{perm: r1_perm >= r1}) / (1 + n_perm)``.
    """
    r = np.asarray(r, dtype=float)
    r1 = float(_lag1(r))
    if r.size < 3:
        return r1, 1.0
    perms = rng.permuted(np.broadcast_to(r, (n_perm, r.size)), axis=1)
    hits = int(np.count_nonzero(_lag1(perms) >= r1 - 1e-12))
    return r1, (1 + hits) / (1 + n_perm)


def check_dataset(name, x, y, mu, scale, dev_obs, dev_rep, *, rng: np.random.Generator,
                  alpha: float = ALPHA) -> Misfit:
    """Misfit verdict of one data set from predictions at posterior draws.

    Parameters
    ----------
    name : str
    x, y : ndarray, shape (n,)
        Abscissae (any unit; only their order is used) and data.
    mu : ndarray, shape (S, n)
        Model prediction at ``S`` posterior draws.
    scale : ndarray, shape (S, n) or (n,)
        Standard deviation of the noise model at those draws.
    dev_obs, dev_rep : ndarray, shape (S,)
        Discrepancy ``-2 ln p(y | theta_s)`` of the data and of data replicated at ``theta_s``.
    rng : numpy.random.Generator
        For the permutations.
    alpha : float
        Nominal false-alarm level of each verdict (trend, scatter).
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    order = np.argsort(x, kind="stable")
    mu_med = np.median(np.atleast_2d(mu), axis=0)
    sc = np.median(np.atleast_2d(np.broadcast_to(scale, np.shape(mu))), axis=0)
    r = ((y - mu_med) / sc)[order]
    nz = r[r != 0.0]
    runs, expected, p_runs = runs_test(nz > 0)
    r1, p_r1 = lag1_test(r, rng)
    dev_obs, dev_rep = np.asarray(dev_obs, float), np.asarray(dev_rep, float)
    p_dev = float(np.mean(dev_rep >= dev_obs)) if dev_obs.size else 1.0
    trend = min(p_runs, p_r1) < alpha / 2.0
    scatter = p_dev < alpha
    reasons = []
    if trend:
        why = []
        if p_runs < alpha / 2.0:
            why.append(f"the residuals ordered by x change sign {runs - 1} times where "
                       f"{expected - 1:.0f} are expected (runs test p = {p_runs:.2g})")
        if p_r1 < alpha / 2.0:
            why.append(f"neighbouring residuals are alike (lag-1 autocorrelation {r1:+.2f}, "
                       f"p = {p_r1:.2g})")
        reasons.append("the model misses a trend in these data: " + " and ".join(why)
                       + "; see the residuals in the fit figure and consider a different model")
    if scatter:
        reasons.append(
            f"the residuals are larger than the noise model allows (posterior predictive "
            f"p = {p_dev:.2g} for -2 ln L; largest |residual| {np.max(np.abs(r)):.1f} sigma): "
            "the quoted uncertainties are too small or the model misses part of the data")
    return Misfit(dataset=str(name), misfit=bool(trend or scatter), reason="; ".join(reasons),
                  n=int(y.size), runs=float(runs), runs_expected=float(expected),
                  p_runs=float(p_runs), r1=r1, p_r1=float(p_r1), p_discrepancy=p_dev,
                  max_abs_residual=float(np.max(np.abs(r))) if r.size else 0.0)


def _noise_sd(kind: str, sigma: np.ndarray, extra: np.ndarray) -> np.ndarray:
    """Standard deviation of each point under a likelihood family, shape (S, n).

    ``extra`` holds the likelihood's own parameters per draw, in its declared order
    (noise_scale; jitter; noise_scale, nu).  Student-t uses its scale, which is all the
    residual normalisation needs (the trend checks are scale-free along a data set).
    """
    if kind == "gaussian":
        return np.broadcast_to(sigma, (extra.shape[0], sigma.size))
    if kind == "gaussian_jitter":
        return np.sqrt(sigma[None, :] ** 2 + extra[:, :1] ** 2)
    return extra[:, :1] * sigma[None, :]


def check_posterior(posterior, theta, *, rng: np.random.Generator | None = None,
                    alpha: float = ALPHA, max_draws: int = MAX_DRAWS) -> list:
    """Misfit verdict of every data set of a fitted posterior.

    Parameters
    ----------
    posterior : Posterior
        Provides ``datasets`` (``x``, ``y``, ``sigma``, ``likelihood``), ``params(theta)`` and
        ``predict(theta)``.
    theta : ndarray, shape (S, ndim)
        Posterior draws in sampling coordinates; at most ``max_draws`` evenly spaced are used.
    rng : numpy.random.Generator, optional
        Replicated data and permutations (default ``default_rng(0)``: same draws, same verdict).
    alpha : float

    Returns
    -------
    list of Misfit
        One per data set, in the posterior's order.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    theta = np.atleast_2d(np.asarray(theta, dtype=float))
    if theta.shape[0] > max_draws:
        theta = theta[np.linspace(0, theta.shape[0] - 1, max_draws).astype(int)]
    params = posterior.params(theta)
    mus = posterior.predict(theta)
    out = []
    for ds in posterior.datasets:
        mu = mus[ds.name]
        lik = ds.likelihood
        names = ds.likelihood_param_names
        extra = (np.column_stack([params[n] for n in names]) if names
                 else np.ones((theta.shape[0], 1)))
        sd = _noise_sd(lik.kind, ds.sigma, extra)
        ex = extra if names else None
        dev_obs = -2.0 * lik.total(mu, ds.y, ds.sigma, ex)
        y_rep = lik.sample(mu, ds.sigma, ex, rng)
        dev_rep = np.array([-2.0 * lik.total(mu[s:s + 1], y_rep[s], ds.sigma,
                                             None if ex is None else ex[s:s + 1])[0]
                            for s in range(theta.shape[0])])
        out.append(check_dataset(ds.name, ds.x, ds.y, mu, sd, dev_obs, dev_rep, rng=rng,
                                 alpha=alpha))
    return out
