"""Expected Fisher information of a plan's data, and the Gaussian forecast from it.

See :mod:`tlsbayes.design` for the formulas.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from ..errors import TLSBayesError
from ..inference.priors import LogUniform, Normal, TruncatedNormal, Uniform

__all__ = ["Forecast", "fisher_information", "forecast", "prior_precision"]


def prior_precision(priors) -> np.ndarray:
    """Diagonal Gaussian approximation of the prior: 1/variance per free parameter.

    In sampling coordinates: a uniform (or log-uniform, in ``ln x``) prior of width ``w`` has
    variance ``w²/12``; a normal prior ``σ²``; a truncated normal its truncated variance.
    """
    prec = []
    for n in priors.free_names:
        p = priors[n]
        if isinstance(p, (Uniform, LogUniform)):
            lo, hi = p.support
            if isinstance(p, LogUniform):
                lo, hi = math.log(lo), math.log(hi)
            var = (hi - lo) ** 2 / 12.0
        elif isinstance(p, Normal):
            var = p.sigma ** 2
        elif isinstance(p, TruncatedNormal):
            a, b = (p.low - p.mu) / p.sigma, (p.high - p.mu) / p.sigma
            var = float(stats.truncnorm.var(a, b, loc=p.mu, scale=p.sigma))
        else:
            raise TLSBayesError(f"prior for {n!r}: {type(p).__name__} has no Gaussian "
                                "approximation in the design module")
        prec.append(1.0 / var)
    return np.diag(prec)



def _scale_terms(ds, params: Mapping) -> tuple[np.ndarray, np.ndarray | None]:
    """Per-point noise scale c (m, n) of a data set, and ν (m,) for Student-t."""
    kind = ds.likelihood.kind
    names = ds.likelihood_param_names
    sig = ds.sigma[None, :]
    if kind == "gaussian":
        m = next(iter(params.values())).shape[0]
        return np.broadcast_to(sig, (m, ds.n)), None
    first = np.asarray(params[names[0]])[:, None]
    if kind == "gaussian_noise_scale":
        return first * sig, None
    if kind == "gaussian_jitter":
        return np.sqrt(sig * sig + first * first), None
    return first * sig, np.asarray(params[names[1]], dtype=np.float64)



def _student_nu_terms(nu: float) -> tuple[float, float]:
    """Per-point Fisher information of Student-t for (ln scale, ν) and (ν, ν).

    Lange, Little & Taylor, JASA 84, 881 (1989), Eq. (A.?) in the form
    I_{σν} = -2/(σ(ν+1)(ν+3)), I_{νν} = ¼[ψ'(ν/2) - ψ'((ν+1)/2)] - (ν+5)/(2ν(ν+1)(ν+3)).
    """
    i_lnc_nu = -2.0 / ((nu + 1.0) * (nu + 3.0))
    i_nu_nu = (0.25 * (special.polygamma(1, 0.5 * nu) - special.polygamma(1, 0.5 * (nu + 1.0)))
               - (nu + 5.0) / (2.0 * nu * (nu + 1.0) * (nu + 3.0)))
    return i_lnc_nu, float(i_nu_nu)



def _model_terms(posterior, thetas: np.ndarray):
    """Predictions, ln scales and ν of every data set at each row of ``thetas``."""
    mus = posterior.predict(thetas)
    params = posterior.params(thetas)
    out = []
    for ds in posterior.datasets:
        c, nu = _scale_terms(ds, params)
        out.append((mus[ds.name], np.log(c), nu))
    return out



def _derivatives(posterior, theta, steps):
    """Five-point central derivatives of (mu, ln c, ν) of every data set, with steps h."""
    k = theta.size
    offsets = np.array([2.0, 1.0, -1.0, -2.0])
    weights = np.array([-1.0, 8.0, -8.0, 1.0]) / 12.0
    rows = [theta]
    for i in range(k):
        for o in offsets:
            t = theta.copy()
            t[i] += o * steps[i]
            rows.append(t)
    terms = _model_terms(posterior, np.array(rows))
    derivs = []
    for mu, lnc, nu in terms:
        def d(a):
            a = a[1:].reshape((k, 4) + a.shape[1:])
            return np.einsum("j,ij...->i...", weights, a) / steps.reshape((k,) + (1,) * (a.ndim - 2))
        derivs.append((d(mu), d(lnc), d(nu) if nu is not None else None,
                       mu[0], np.exp(lnc[0]), nu[0] if nu is not None else None))
    return derivs



def _assemble(posterior, derivs) -> np.ndarray:
    k = posterior.ndim
    F = np.zeros((k, k))
    for ds, (dmu, dlnc, dnu, _, c, nu) in zip(posterior.datasets, derivs):
        w = 1.0 / (c * c)
        if ds.likelihood.kind == "student_t":
            a_mu, a_c = (nu + 1.0) / (nu + 3.0), 2.0 * nu / (nu + 3.0)
        else:
            a_mu, a_c = 1.0, 2.0
        F += a_mu * (dmu * w) @ dmu.T + a_c * dlnc @ dlnc.T
        if dnu is not None and np.any(dnu != 0):
            i_cn, i_nn = _student_nu_terms(float(nu))
            s = dlnc.sum(axis=1)
            F += i_cn * (np.outer(s, dnu) + np.outer(dnu, s)) + ds.n * i_nn * np.outer(dnu, dnu)
    return 0.5 * (F + F.T)



def _default_steps(priors, theta) -> np.ndarray:
    steps = []
    for n, t in zip(priors.free_names, theta):
        p = priors[n]
        lo, hi = p.support
        if p.transform == "log":
            scale = 1.0
        elif math.isfinite(lo) and math.isfinite(hi):
            scale = min(hi - lo, max(abs(t), 1e-3 * (hi - lo)))
        else:
            scale = max(abs(t), getattr(p, "sigma", 1.0))
        steps.append(scale)
    return np.array(steps)



def fisher_information(posterior, theta, *, steps=None, refine=True) -> dict:
    """Expected Fisher information of the data of ``posterior`` at ``theta``.

    Parameters
    ----------
    posterior : Posterior
        Its data sets define the measurement (their ``y`` is not used).
    theta : ndarray, shape (ndim,)
        Point in sampling coordinates.
    steps : ndarray, shape (ndim,), optional
        Finite-difference steps; default: a tenth of the forecast width of each parameter,
        found from a first pass with steps of 1e-3 of each parameter's natural scale.
    refine : bool
        Do the second pass (ignored when ``steps`` is given).

    Returns
    -------
    dict
        ``"F"`` (ndim, ndim) likelihood information; ``"steps"``; ``"error"``: the largest
        change of an element of F between steps h and 2h, relative to sqrt(F_ii F_jj).
    """
    theta = np.asarray(theta, dtype=np.float64)
    P = prior_precision(posterior.priors)
    if steps is None:
        scale = _default_steps(posterior.priors, theta)
        steps = 1e-3 * scale
        if refine:
            F0 = _assemble(posterior, _derivatives(posterior, theta, steps))
            sd = np.sqrt(np.diag(np.linalg.inv(F0 + P)))
            steps = np.clip(0.1 * sd, 1e-9 * scale, 0.05 * scale)
    steps = np.asarray(steps, dtype=np.float64)
    F = _assemble(posterior, _derivatives(posterior, theta, steps))
    F2 = _assemble(posterior, _derivatives(posterior, theta, 2.0 * steps))
    norm = np.sqrt(np.outer(np.diag(F) + np.diag(P), np.diag(F) + np.diag(P)))
    err = float(np.max(np.abs(F - F2) / norm)) if F.size else 0.0
    return {"F": F, "steps": steps, "error": err}



@dataclass(frozen=True, eq=False)
class Forecast:
    """The Fisher forecast of one alternative.

    Attributes
    ----------
    names : tuple of str
        Free parameters (theta order).
    theta : ndarray
        Forecast point, sampling coordinates.
    values : dict
        Physical value of each free parameter at the point.
    log : tuple of bool
        Whether each parameter is sampled as its log.
    cov : ndarray
        Forecast posterior covariance in sampling coordinates, ``(F + P)^-1``.
    sd : ndarray
        Its square-root diagonal (σ of ``ln x`` for log parameters).
    rel : ndarray
        Relative width: ``sd`` for log parameters, ``sd / |value|`` otherwise.
    corr : ndarray
        Correlation matrix.
    prior_sd : ndarray
        σ of the Gaussian prior approximation (a forecast close to it is prior-limited).
    fisher : ndarray
        Likelihood information F.
    error : float
        Numerical error estimate of F (see :func:`fisher_information`).
    n_points : int
    """

    names: tuple
    theta: np.ndarray
    values: dict
    log: tuple
    cov: np.ndarray
    sd: np.ndarray
    rel: np.ndarray
    corr: np.ndarray
    prior_sd: np.ndarray
    fisher: np.ndarray
    error: float
    n_points: int

    def rho(self, a: str, b: str) -> float:
        i, j = self.names.index(a), self.names.index(b)
        return float(self.corr[i, j])



def forecast(posterior, theta, *, prior=True) -> Forecast:
    """Fisher forecast of the posterior of ``posterior``'s data at ``theta``.

    ``prior=False`` leaves the prior out (the pure Cramér-Rao bound; it may be singular).
    """
    theta = np.asarray(theta, dtype=np.float64)
    fi = fisher_information(posterior, theta)
    P = prior_precision(posterior.priors)
    A = fi["F"] + (P if prior else 0.0)
    try:
        cov = np.linalg.inv(A)
    except np.linalg.LinAlgError:
        raise TLSBayesError("the Fisher matrix is singular: some parameter is not constrained "
                            "by the data (include the prior)") from None
    cov = 0.5 * (cov + cov.T)
    sd = np.sqrt(np.diag(cov))
    names = posterior.free_names
    logs = tuple(posterior.priors[n].transform == "log" for n in names)
    vals = {n: float(v[0]) for n, v in posterior.params(theta).items() if n in names}
    rel = np.array([s if lg else s / abs(vals[n]) if vals[n] != 0 else math.inf
                    for n, s, lg in zip(names, sd, logs)])
    return Forecast(names=names, theta=theta, values=vals, log=logs, cov=cov, sd=sd, rel=rel,
                    corr=cov / np.outer(sd, sd), prior_sd=1.0 / np.sqrt(np.diag(P)),
                    fisher=fi["F"], error=fi["error"],
                    n_points=sum(ds.n for ds in posterior.datasets))

