"""The stage-2 population posterior: a numba hyper-likelihood kernel and :class:`Population`.

The estimator and its validity are described in :mod:`tlsbayes.population`.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from ..errors import TLSBayesError
from ..inference.prior_set import PriorSet
from ..inference.priors import Fixed
from .members import SCALES, clean_label, z_of

__all__ = ["Population", "default_hyperpriors"]


@numba.njit(cache=True)
def _weight_sums(z, neg_log_prior, lo, hi, m, h, shift):
    """``Σ e^{t_k − shift}`` and ``Σ e^{2(t_k − shift)}`` over draws ``lo..hi-1``, with
    ``t_k = −ln π(z_k) − h (z_k − m)²`` (``h = 1/2σ²``)."""
    s1 = 0.0
    s2 = 0.0
    for k in range(lo, hi):
        d = z[k] - m
        e = math.exp(neg_log_prior[k] - shift - h * d * d)
        s1 += e
        s2 += e * e
    return s1, s2


@numba.njit(cache=True)
def _member_terms(mu, sigma, z, neg_log_prior, start, member_group, top):
    """Per-walker, per-member Monte-Carlo hyper-likelihood and its effective sample size.

    ``ll[w, i] = ln( (1/K_i) Σ_k N(z_ik | μ_g, σ_g) / π_i(z_ik) )`` (Thrane & Talbot 2019,
    PASA 36, e010) with ``g`` the group of member ``i``, and
    ``ess[w, i] = (Σ_k w_ik)² / Σ_k w_ik²``.  The exponentials are shifted by
    ``top_i = max_k(-ln π_i)``, an upper bound of every exponent, so one pass suffices and
    nothing overflows; only if the population lies so far from a member's draws that every
    term underflows is the sum redone with the exact maximum (log-sum-exp).

    Parameters
    ----------
    mu, sigma : ndarray, shape (nwalkers, ngroups)
        Population mean and standard deviation in the coordinate of ``z``.
    z, neg_log_prior : ndarray, shape (total draws,)
        All members' draws, concatenated, and ``-ln π_i(z)`` at them.
    start : ndarray of int, shape (nmembers + 1,)
        Offsets of each member's draws in ``z``.
    member_group : ndarray of int, shape (nmembers,)
    top : ndarray, shape (nmembers,)
        ``max_k(-ln π_i(z_ik))`` per member.

    Returns
    -------
    ll, ess : ndarray, shape (nwalkers, nmembers)
        ``-inf`` and 0 where ``σ <= 1e-150`` or not finite.
    """
    nw = mu.shape[0]
    nm = member_group.size
    ll = np.empty((nw, nm))
    ess = np.empty((nw, nm))
    log_norm = 0.5 * math.log(2.0 * math.pi)
    for w in range(nw):
        for i in range(nm):
            g = member_group[i]
            m = mu[w, g]
            s = sigma[w, g]
            # σ below 1e-150 (s² underflows; a spread of e^(1e-150)) counts as impossible
            if not (s > 1e-150 and math.isfinite(s) and math.isfinite(m)):
                ll[w, i] = -np.inf
                ess[w, i] = 0.0
                continue
            lo = start[i]
            hi = start[i + 1]
            h = 0.5 / (s * s)
            shift = top[i]
            s1, s2 = _weight_sums(z, neg_log_prior, lo, hi, m, h, shift)
            if not (s1 > 1e-100):  # keeps s2 >= s1²/K clear of underflow
                shift = -np.inf
                for k in range(lo, hi):
                    d = z[k] - m
                    shift = max(shift, neg_log_prior[k] - h * d * d)
                s1, s2 = _weight_sums(z, neg_log_prior, lo, hi, m, h, shift)
            ll[w, i] = shift + math.log(s1) - math.log(hi - lo) - math.log(s) - log_norm
            ess[w, i] = s1 * s1 / s2
    return ll, ess


def default_hyperpriors(members, *, sigma_scale=1.0, scale="log"):
    """Hyperpriors (card-style dicts) for every group: μ_g uniform, σ_g half-normal.

    ``μ_g ~ Uniform`` over the hull of the members' own prior supports (in z: ``ln`` of the
    log-uniform δ0 bounds, decades wide); ``σ_g ~ HalfNormal(sigma_scale)`` in the unit of z
    (1 by default: a spread of a factor e in δ0 is plausible a priori, a factor e³ is not).

    Returns
    -------
    dict
        ``{"mu_<g>": {...}, "sigma_<g>": {...}}`` in group order.
    """
    groups = list(dict.fromkeys(m.group for m in members))
    out = {}
    for g in groups:
        lows, highs = [], []
        for m in members:
            if m.group != g:
                continue
            if m.prior is not None:
                lo, hi = m.prior.support
                lows.append(z_of(lo, scale) if not (scale == "log" and lo <= 0) else -np.inf)
                highs.append(z_of(hi, scale))
            else:
                lows.append(float(np.min(m.z)))
                highs.append(float(np.max(m.z)))
        lo, hi = float(np.min(lows)), float(np.max(highs))
        if not (math.isfinite(lo) and math.isfinite(hi)):
            # an unbounded member prior: fall back on the span of the draws, widened
            zs = np.concatenate([m.z for m in members if m.group == g])
            span = max(float(np.ptp(zs)), 1.0)
            lo, hi = float(np.min(zs)) - 5 * span, float(np.max(zs)) + 5 * span
        label = clean_label(g)
        out[f"mu_{label}"] = {"dist": "uniform", "low": lo, "high": hi}
        out[f"sigma_{label}"] = {"dist": "truncnorm", "mu": 0.0, "sigma": float(sigma_scale),
                                 "low": 0.0, "high": 20.0 * float(sigma_scale)}
    return out


class Population:
    """The stage-2 posterior ``p(Λ | data) ∝ π(Λ) Π_i L̂_i(Λ)``; see the module docstring.

    Parameters
    ----------
    members : sequence of Member
    param : str
        Name of the population parameter (for labels only).
    scale : {"log", "linear"}
        Coordinate of the members' ``z`` and of the Normal population.
    hyperpriors : dict or PriorSet, optional
        Priors of ``mu_<group>`` and ``sigma_<group>``; defaults from
        :func:`default_hyperpriors`.  Given dicts override the defaults name by name.
    sigma_scale : float
        Scale of the default half-normal prior on each σ_g.
    max_variance : float or None
        Hyperparameters at which the Monte-Carlo variance of the estimated ln L,
        ``Σ_i (1/ESS_i − 1/K_i)``, exceeds this are treated as impossible (as
        ``maximum_uncertainty`` in gwpopulation; Talbot & Golomb 2023).  Without it the
        sampler wanders into σ_g far below the members' posterior widths, where the estimate
        is a spiky kernel-density estimate of bandwidth σ_g.  ``None`` disables the cut.

    Notes
    -----
    ``log_prob(theta)`` takes ``theta`` of shape ``(n, 2 * ngroups)`` (sampling coordinates of
    the hyperpriors, in the order ``mu_g1, sigma_g1, mu_g2, ...``) and returns
    ``(log_prob, log_prior, log_likelihood)``, each ``(n,)``; -inf, never NaN.
    """

    def __init__(self, members, *, param="delta0", scale="log", hyperpriors=None,
                 sigma_scale=1.0, max_variance=1.0):
        members = list(members)
        if not members:
            raise TLSBayesError("a population needs at least one member")
        if scale not in SCALES:
            raise TLSBayesError(f"unknown population scale {scale!r} "
                                f"(allowed: {', '.join(SCALES)})")
        names = [m.name for m in members]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise TLSBayesError(f"population members with the same name: {', '.join(dup)} "
                                "(give each run a distinct name)")
        self.members = tuple(members)
        self.param = str(param)
        self.scale = scale
        self.groups = tuple(dict.fromkeys(m.group for m in members))
        self.labels = tuple(clean_label(g) for g in self.groups)
        if len(set(self.labels)) != len(self.labels):
            raise TLSBayesError(f"group names {self.groups} collide once made file-safe")
        defaults = default_hyperpriors(members, sigma_scale=sigma_scale, scale=scale)
        if isinstance(hyperpriors, PriorSet):
            priors = hyperpriors
        else:
            given = dict(hyperpriors or {})
            unknown = [k for k in given if k not in defaults]
            if unknown:
                raise TLSBayesError(f"hyperprior for unknown hyperparameter(s) "
                                    f"{', '.join(unknown)} (known: {', '.join(defaults)})")
            priors = PriorSet.from_dict({k: given.get(k, v) for k, v in defaults.items()})
        if list(priors.names) != list(defaults):
            raise TLSBayesError(f"hyperpriors must be {', '.join(defaults)} in this order")
        self.priors = priors
        gi = {g: j for j, g in enumerate(self.groups)}
        self._group = np.array([gi[m.group] for m in members], dtype=np.int64)
        self._start = np.zeros(len(members) + 1, dtype=np.int64)
        self._start[1:] = np.cumsum([m.K for m in members])
        self._z = np.ascontiguousarray(np.concatenate([m.z for m in members]))
        self._nlp = np.ascontiguousarray(-np.concatenate([m.log_prior for m in members]))
        self._top = np.array([np.max(-m.log_prior) for m in members])
        self._inv_K = np.array([1.0 / m.K for m in members])
        if max_variance is not None and not max_variance > 0:
            raise TLSBayesError(f"max_variance must be positive or None, got {max_variance!r}")
        self.max_variance = None if max_variance is None else float(max_variance)

    # -- layout --------------------------------------------------------------------------------
    @property
    def free_names(self) -> tuple:
        return self.priors.free_names

    @property
    def ndim(self) -> int:
        return self.priors.ndim

    def hyper_params(self, theta):
        """``(mu, sigma)``, each of shape ``(n, ngroups)``, from ``theta`` ``(n, ndim)``."""
        p = self.priors.to_params(np.atleast_2d(np.asarray(theta, dtype=float)))
        mu = np.column_stack([np.asarray(p[f"mu_{lab}"], dtype=float) for lab in self.labels])
        sigma = np.column_stack([np.asarray(p[f"sigma_{lab}"], dtype=float)
                                 for lab in self.labels])
        return np.ascontiguousarray(mu), np.ascontiguousarray(sigma)

    # -- densities -----------------------------------------------------------------------------
    def member_terms(self, mu, sigma):
        """Per-member ``ln L̂_i`` and ESS, each ``(n, nmembers)``, at ``mu, sigma (n, ngroups)``."""
        mu = np.ascontiguousarray(np.atleast_2d(np.asarray(mu, dtype=np.float64)))
        sigma = np.ascontiguousarray(np.atleast_2d(np.asarray(sigma, dtype=np.float64)))
        return _member_terms(mu, sigma, self._z, self._nlp, self._start, self._group, self._top)

    def log_prob(self, theta):
        t = np.atleast_2d(np.asarray(theta, dtype=np.float64))
        lprior = np.atleast_1d(np.asarray(self.priors.log_prob(t), dtype=float))
        llike = np.full(lprior.size, -np.inf)
        ok = np.isfinite(lprior)
        if ok.any():
            mu, sigma = self.hyper_params(t[ok])
            ll, ess = self.member_terms(mu, sigma)
            total = ll.sum(axis=1)
            if self.max_variance is not None:
                with np.errstate(divide="ignore"):
                    var = np.sum(1.0 / ess - self._inv_K, axis=1)
                total = np.where(var <= self.max_variance, total, -np.inf)
            llike[ok] = total
        lp = lprior + llike
        lp[np.isnan(lp)] = -np.inf
        return lp, lprior, llike

    def __call__(self, theta):
        return self.log_prob(theta)

    def start_point(self):
        """A sensible starting ``theta``: group means and spreads of the member medians."""
        params = {}
        for lab, g in zip(self.labels, self.groups):
            med = np.array([np.median(m.z) for m in self.members if m.group == g])
            spread = float(np.std(med)) if med.size > 1 else 0.0
            width = float(np.median([np.std(m.z) for m in self.members if m.group == g]))
            params[f"mu_{lab}"] = float(np.mean(med))
            params[f"sigma_{lab}"] = max(spread, width, 1e-3)
        for n in self.priors.names:
            if isinstance(self.priors[n], Fixed):
                params.pop(n, None)
            else:
                lo, hi = self.priors[n].support
                params[n] = float(np.clip(params[n], lo + 1e-9 * (1 + abs(lo)),
                                          hi - 1e-9 * (1 + abs(hi))))
        return self.priors.from_params(params)
