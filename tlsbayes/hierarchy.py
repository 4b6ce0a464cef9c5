"""Populations of resonators: two-stage hierarchical inference by importance reweighting.

Stage 1 fits every resonator on its own (``tlsbayes fit``), each with its own prior
``π_i(θ)`` recorded in its ``posterior.nc``.  Stage 2 infers the hyperparameters ``Λ`` of a
population model ``π_pop(θ | Λ)`` from those posteriors alone, as in gravitational-wave
population inference (Thrane & Talbot 2019, PASA 36, e010, Sec. on hierarchical
models; Mandel, Farr & Gair 2019, MNRAS 486, 1086):

    L(Λ) = Π_i ∫ L_i(θ) π_pop(θ | Λ) dθ  ∝  Π_i (1/K_i) Σ_k π_pop(θ_ik | Λ) / π_i(θ_ik),

where ``θ_ik`` are the ``K_i`` posterior draws of resonator ``i`` (the evidence of each fit is a
constant factor).  The population model here is

    z_i = ln θ_i  ~  Normal(μ_g, σ_g)      (``scale="log"``; ``z = θ`` for ``scale="linear"``),

one ``(μ_g, σ_g)`` per group ``g`` (a film, a deposition recipe), for one named parameter
(``delta0`` by default).  Both the population density and ``π_i`` are taken in the coordinate
``z`` (``π_i(z) = π_i(θ) |dθ/dz|``), so the ratio is Jacobian-free.

Validity and diagnostics
------------------------
* The estimator is unbiased for ``L(Λ)`` (not for ``ln L``).  Its quality at ``Λ`` is the
  effective number of draws of each resonator, ``ESS_i = (Σ_k w_ik)² / Σ_k w_ik²`` with
  ``w_ik = π_pop(z_ik | Λ) / π_i(z_ik)``; the variance of the estimated ``ln L`` is about
  ``Σ_i (1/ESS_i − 1/K_i)`` (Talbot & Golomb 2023, MNRAS 526, 3495).  Both are computed over
  the hyper-posterior and reported; a warning is raised when a resonator's median ESS falls
  below ``min_ess`` or the ln L variance exceeds 1.  Low ESS happens when the population is
  much narrower than a resonator's posterior, or sits where that resonator has few draws.
* Where that variance exceeds ``max_variance`` (1 by default) the hyperparameters are
  treated as impossible, as gwpopulation's ``maximum_uncertainty`` does: below the members'
  posterior widths the estimate becomes a spiky kernel-density estimate of bandwidth σ, in
  which a sampler gets stuck.  The share of the hyper-posterior close to that cut is
  reported; a large share means more stage-1 draws are needed to resolve small σ.
* The population density is not renormalised to the per-resonator prior support; keep those
  supports wide (they are, for the shipped cards: decades in δ0).

Speed: every draw of every resonator is packed into flat arrays once; one numba kernel
evaluates the ``(walkers × resonators × draws)`` sum (3-6 ns per term, one exponential
each): 300 resonators with the default 1000 draws cost 30-60 ms per ensemble step of 32
walkers on a shared 2-core machine (``results/populations.md``), linear in resonators × draws.

A direct joint posterior (every resonator's parameters and the hyperparameters sampled
together), :class:`JointPopulation`, is provided as the reference for small populations; the
tests hold the two-stage result to it.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numba
import numpy as np
from scipy import special

from . import __version__
from . import results as R
from ._atomic import atomic_write_text
from .errors import TLSBayesError
from .fit import _bounds
from .inference.priors import Fixed, Prior
from .inference.prior_set import PriorSet, prior_from_dict
from .sampling import SamplerSettings, find_map, initial_ball
from .sampling import run as run_sampler

__all__ = [
    "Member",
    "load_member",
    "Population",
    "PopulationResult",
    "JointPopulation",
    "default_hyperpriors",
    "fit_population",
    "group_contrast",
    "population_markdown",
]

SCALES = ("log", "linear")
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


# --------------------------------------------------------------------------------------------
# members
# --------------------------------------------------------------------------------------------


def _z_of(x, scale):
    x = np.asarray(x, dtype=float)
    if scale == "log":
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(x)
    return x


def _x_of(z, scale):
    z = np.asarray(z, dtype=float)
    return np.exp(z) if scale == "log" else z


def _log_prior_z(prior: Prior, x, scale):
    """ln π(z) of a physical-coordinate prior, in the population coordinate z (Jacobian in)."""
    lp = np.asarray(prior.log_prob(x), dtype=float)
    if scale == "log":
        with np.errstate(divide="ignore", invalid="ignore"):
            lp = lp + np.log(np.asarray(x, dtype=float))
    return np.where(np.isnan(lp), -np.inf, lp)


@dataclass(frozen=True, eq=False)
class Member:
    """One resonator's stage-1 posterior of the population parameter.

    Attributes
    ----------
    name : str
        Label (card name or directory name).
    group : str
        Population it belongs to.
    z : ndarray, shape (K,)
        Posterior draws in the population coordinate (``ln θ`` for ``scale="log"``).
    log_prior : ndarray, shape (K,)
        ``ln π_i(z)`` of the resonator's own stage-1 prior at those draws, in the same
        coordinate (Jacobian included).
    prior : Prior
        The stage-1 prior of the parameter, physical coordinate.
    source : str
        Where the draws came from.
    converged : bool or None
        The stage-1 verdict, if recorded.
    """

    name: str
    group: str
    z: np.ndarray
    log_prior: np.ndarray
    prior: Prior | None = None
    source: str = ""
    converged: bool | None = None

    def __post_init__(self):
        z = np.ascontiguousarray(np.asarray(self.z, dtype=np.float64).reshape(-1))
        lp = np.ascontiguousarray(np.asarray(self.log_prior, dtype=np.float64).reshape(-1))
        if z.size == 0:
            raise TLSBayesError(f"population member {self.name!r}: no posterior draws")
        if lp.shape != z.shape:
            raise TLSBayesError(f"population member {self.name!r}: {z.size} draws but "
                                f"{lp.size} prior values")
        if not (np.all(np.isfinite(z)) and np.all(np.isfinite(lp))):
            raise TLSBayesError(f"population member {self.name!r} ({self.source}): some draws "
                                "are not finite or lie outside the member's own prior support")
        object.__setattr__(self, "z", z)
        object.__setattr__(self, "log_prior", lp)

    @property
    def K(self) -> int:
        return int(self.z.size)


def _as_idata(source):
    """``(idata, label, source text)`` from an InferenceData, a run directory or a .nc file."""
    if hasattr(source, "posterior") and hasattr(source, "attrs"):
        return source, None, "<InferenceData>"
    path = Path(source)
    nc = path / "posterior.nc" if path.is_dir() else path
    if path.is_dir() and not nc.is_file():
        raise TLSBayesError(f"{path}: not a tlsbayes run directory (no posterior.nc)")
    idata = R.load(nc)
    label = path.name if path.is_dir() else path.stem
    return idata, label, str(nc)


def load_member(source, param="delta0", group="all", *, name=None, scale="log",
                max_draws=1000) -> Member:
    """Read one resonator's posterior of ``param`` and its prior from a stage-1 result.

    Parameters
    ----------
    source : path-like or arviz.InferenceData
        A run directory written by ``tlsbayes fit``, a ``posterior.nc``, or the InferenceData.
    param : str
        Parameter of the population model (physical name, e.g. ``"delta0"``).
    group : str
        Population label of this resonator.
    name : str, optional
        Label; default the batch group recorded in the result (``tlsbayes batch``), else its
        card name, else the directory name.
    scale : {"log", "linear"}
        Population coordinate: ``ln θ`` or ``θ``.
    max_draws : int
        Keep at most this many draws, evenly spaced over the chains and draws (the cost of
        stage 2 is proportional to it; the reported ESS says whether it is enough).

    Raises
    ------
    TLSBayesError
        No such parameter, a fixed parameter, or no prior recorded for it (the message names
        the file).
    """
    if scale not in SCALES:
        raise TLSBayesError(f"unknown population scale {scale!r} (allowed: {', '.join(SCALES)})")
    idata, label, where = _as_idata(source)
    attrs = R.attrs_of(idata)
    if param not in idata.posterior:
        raise TLSBayesError(f"{where}: parameter {param!r} is not in the posterior (it has "
                            f"{', '.join(idata.posterior.data_vars)}); is it fixed?")
    pri = (attrs.get("priors") or {}).get(param)
    if pri is None:
        raise TLSBayesError(f"{where}: no prior recorded for {param!r}; the reweighting needs "
                            "the stage-1 prior")
    prior = prior_from_dict(pri, name=param)
    if isinstance(prior, Fixed):
        raise TLSBayesError(f"{where}: parameter {param!r} has a fixed prior")
    x = np.asarray(idata.posterior[param].values, dtype=float).reshape(-1)
    if max_draws is not None and x.size > max_draws:
        x = x[np.linspace(0, x.size - 1, int(max_draws)).round().astype(np.int64)]
    extra = attrs.get("extra") or {}
    if name is None:
        # a run of `tlsbayes batch` is named by its group (the card is shared by all)
        grp = extra.get("group")
        name = ((grp.get("value") if isinstance(grp, dict) else None)
                or extra.get("card_name") or label or "member")
    if scale == "log" and not np.all(x > 0):
        raise TLSBayesError(f"{where}: {param!r} has non-positive draws; use scale 'linear'")
    return Member(name=str(name), group=str(group), z=_z_of(x, scale),
                  log_prior=_log_prior_z(prior, x, scale), prior=prior, source=where,
                  converged=attrs.get("converged"))


# --------------------------------------------------------------------------------------------
# the hyper-likelihood kernel
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# the population posterior
# --------------------------------------------------------------------------------------------


def _clean_label(text):
    out = "".join(c if (c.isalnum() or c in "_.-") else "_" for c in str(text))
    return out or "group"


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
                lows.append(_z_of(lo, scale) if not (scale == "log" and lo <= 0) else -np.inf)
                highs.append(_z_of(hi, scale))
            else:
                lows.append(float(np.min(m.z)))
                highs.append(float(np.max(m.z)))
        lo, hi = float(np.min(lows)), float(np.max(highs))
        if not (math.isfinite(lo) and math.isfinite(hi)):
            # an unbounded member prior: fall back on the span of the draws, widened
            zs = np.concatenate([m.z for m in members if m.group == g])
            span = max(float(np.ptp(zs)), 1.0)
            lo, hi = float(np.min(zs)) - 5 * span, float(np.max(zs)) + 5 * span
        label = _clean_label(g)
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
        self.labels = tuple(_clean_label(g) for g in self.groups)
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


# --------------------------------------------------------------------------------------------
# fitting
# --------------------------------------------------------------------------------------------


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


def _sample(log_prob, names, starts, settings, checkpoint, bounds=None, print_fn=print):
    """MAP from ``starts``, a small ball around it, then the convergence-gated emcee run."""
    rng = np.random.default_rng(settings.seed)

    def one(th):
        return log_prob(np.asarray(th, dtype=float)[None, :])[0][0]

    best = find_map(one, starts, names=names)
    nwalkers = settings.resolve_nwalkers(len(names))
    p0 = initial_ball(best.theta, nwalkers, rng, log_prob, settings.ball_scale, names=names,
                      support=bounds)
    run = run_sampler(log_prob, p0, settings, checkpoint=checkpoint, names=names)
    print_fn(run.verdict)
    return best, run


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
    names = population.free_names
    if not names:
        raise TLSBayesError("every hyperparameter is fixed: nothing to sample")
    rng = np.random.default_rng(settings.seed)
    starts = np.vstack([population.start_point()[None, :],
                        population.priors.sample(settings.map_starts, rng)])
    checkpoint = None
    if outdir is not None:
        outdir = Path(outdir)
        outdir.mkdir(parents=True, exist_ok=True)
        checkpoint = outdir / "checkpoint.h5"
    best, run = _sample(population.log_prob, names, starts, settings, checkpoint,
                        bounds=_bounds(population.priors), print_fn=print_fn)
    result = _result(population, run, best, min_ess=min_ess, diag_draws=diag_draws,
                     settings=settings)
    for w in result.warnings:
        print_fn("WARNING: " + w)
    if outdir is not None:
        write_population(result, outdir)
    return result


def _result(population, run, best, *, min_ess, diag_draws, settings):
    import pandas as pd

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
    observed = {"members": _x_of(medians, population.scale)}

    # Diagnostics on evenly spaced hyper-posterior draws.
    idx = np.linspace(0, flat.shape[0] - 1, min(diag_draws, flat.shape[0])).astype(np.int64)
    _, ess = population.member_terms(mu[idx], sigma[idx])
    K = np.array([m.K for m in population.members], dtype=float)
    with np.errstate(divide="ignore"):
        var = np.sum(1.0 / ess - 1.0 / K, axis=1)
    ess_med = np.median(ess, axis=0)
    ess_p05 = np.percentile(ess, 5, axis=0)
    warn = []
    rows = []
    for i, m in enumerate(population.members):
        x = _x_of(m.z, population.scale)
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
    members_df = pd.DataFrame(rows).set_index("member")

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
        "max_variance": cut,
        "fraction_near_cut": near_cut,
        "warnings": warn,
    }
    attrs = R.provenance(
        version=__version__, model_card_text="", priors=population.priors.to_dict(),
        data_hash=data_hash, seed=settings.seed, sampler_settings=run.settings.to_dict(),
        tau=dict(zip(population.free_names, map(float, run.tau))), verdict=run.verdict,
        converged=bool(run.converged), extra=extra)
    idata = R.build_inference_data(
        posterior=post, sample_stats=sample_stats,
        log_likelihood={"members": ll.reshape(nw, nd, -1)}, observed_data=observed,
        attrs=attrs)
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


def write_population(result: PopulationResult, outdir) -> Path:
    """Write ``population.nc``, ``summary.csv``, ``members.csv``, ``population.md``."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    R.save(result.idata, outdir / "population.nc")
    atomic_write_text(outdir / "summary.csv", result.summary.to_csv(index_label="parameter"))
    atomic_write_text(outdir / "members.csv", result.members.to_csv())
    atomic_write_text(outdir / "population.md", population_markdown(result))
    return outdir


# --------------------------------------------------------------------------------------------
# questions asked of a hyper-posterior
# --------------------------------------------------------------------------------------------


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
    la, lb = _clean_label(a), _clean_label(b)
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


def population_markdown(result: PopulationResult) -> str:
    """The ``population.md`` report: verdict, hyper-posterior table, members, warnings."""
    attrs = R.attrs_of(result.idata)
    extra = attrs.get("extra") or {}
    param = extra.get("param", "theta")
    coord = f"ln {param}" if extra.get("scale") == "log" else param
    lines = ["# tlsbayes population report", "",
             f"**Verdict:** {'converged' if result.converged else 'NOT CONVERGED'}. "
             f"{result.verdict}", "",
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
        for i, a in enumerate(groups):
            for b in groups[i + 1:]:
                c = group_contrast(result.idata, a, b)
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


# --------------------------------------------------------------------------------------------
# the reference: one joint posterior of everything
# --------------------------------------------------------------------------------------------


class JointPopulation:
    """Direct joint posterior of every member's parameters and the hyperparameters.

    ``p(θ_1..θ_N, Λ | d) ∝ π(Λ) Π_i L_i(θ_i) π_pop(z_i | Λ) π_i(other parameters of i)``:
    each member's own prior on the population parameter is replaced by the population
    density.  Exact, but its dimension grows with the number of resonators: the reference
    against which the two-stage result is checked on small populations.

    Parameters
    ----------
    posteriors : sequence of tlsbayes.inference.posterior.Posterior
    groups : sequence of str
        Group of each posterior.
    param : str
        The population parameter; free in every posterior.
    scale : {"log", "linear"}
    hyperpriors : PriorSet
        Same layout as :attr:`Population.priors`.
    noncentered : bool
        Sample ``η_i = (z_i − μ_g)/σ_g`` instead of ``z_i`` (then ``z_i = μ_g + σ_g η_i`` and
        ``η_i ~ N(0, 1)``).  The centred form has Neal's funnel between σ_g and the z_i when
        the members are weakly measured; the non-centred form removes it (Papaspiliopoulos,
        Roberts & Sköld 2007).  Both target the same posterior.

    Notes
    -----
    ``theta`` = every member's free parameters (its own sampling coordinates, with the
    population parameter replaced by ``η`` when non-centred), then the hyperparameters.
    """

    def __init__(self, posteriors, groups, *, param="delta0", scale="log", hyperpriors,
                 noncentered=False):
        self.posteriors = tuple(posteriors)
        self.groups_of = tuple(str(g) for g in groups)
        if len(self.groups_of) != len(self.posteriors):
            raise TLSBayesError("one group per posterior is needed")
        if scale not in SCALES:
            raise TLSBayesError(f"unknown population scale {scale!r}")
        self.param, self.scale, self.priors = param, scale, hyperpriors
        self.noncentered = bool(noncentered)
        self.groups = tuple(dict.fromkeys(self.groups_of))
        self.labels = tuple(_clean_label(g) for g in self.groups)
        self._blocks = []
        pos = 0
        names = []
        for i, p in enumerate(self.posteriors):
            if param not in p.free_names:
                raise TLSBayesError(f"posterior {i}: {param!r} is not a free parameter")
            j = p.free_names.index(param)
            self._blocks.append((pos, pos + p.ndim, j, p.priors[param]))
            names += [(f"eta[{i}]" if (self.noncentered and n == param) else f"{n}[{i}]")
                      for n in p.free_names]
            pos += p.ndim
        self._hyper = pos
        self.free_names = tuple(names) + tuple(hyperpriors.free_names)
        self._gidx = [self.groups.index(g) for g in self.groups_of]

    @property
    def ndim(self):
        return len(self.free_names)

    def log_prob(self, theta):
        t = np.array(np.atleast_2d(theta), dtype=np.float64)
        n = t.shape[0]
        lprior = np.atleast_1d(np.asarray(self.priors.log_prob(t[:, self._hyper:]), float))
        p = self.priors.to_params(t[:, self._hyper:])
        llike = np.zeros(n)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            for post, (a, b, j, prior), g in zip(self.posteriors, self._blocks, self._gidx):
                lab = self.labels[g]
                mu = np.asarray(p[f"mu_{lab}"], float)
                sig = np.asarray(p[f"sigma_{lab}"], float)
                block = np.ascontiguousarray(t[:, a:b])
                if self.noncentered:
                    eta = block[:, j].copy()
                    x = _x_of(mu + sig * eta, self.scale)
                    block[:, j] = prior.to_sampling(x)
                    lpop = -0.5 * eta * eta - _LOG_SQRT_2PI
                _, lpr, lli = post.log_prob(block)
                s = block[:, j]
                own = np.asarray(prior.log_prob_sampling(s), dtype=float)
                if not self.noncentered:
                    x = np.asarray(prior.from_sampling(s), dtype=float)
                    u = (_z_of(x, self.scale) - mu) / sig
                    lpop = -0.5 * u * u - np.log(sig) - _LOG_SQRT_2PI
                    # density of z -> density of the member's sampling coordinate s
                    if self.scale == "log":
                        lpop = lpop - np.log(x)
                    if prior.transform == "log":
                        lpop = lpop + np.log(x)
                # outside the member's prior support (own = -inf) the point is impossible
                term = np.where(np.isfinite(own) & np.isfinite(lpr) & (sig > 0),
                                lpr - own + lpop, -np.inf)
                lprior = lprior + term
                llike = llike + np.where(np.isfinite(term), lli, 0.0)
        lprior = np.where(np.isnan(lprior), -np.inf, lprior)
        llike = np.where(np.isfinite(lprior), llike, -np.inf)
        lp = lprior + llike
        lp[np.isnan(lp)] = -np.inf
        return lp, lprior, llike

    def __call__(self, theta):
        return self.log_prob(theta)

    def hyper_samples(self, run):
        """``{name: draws}`` of the hyperparameters (physical) from a finished run."""
        th = run.samples().reshape(-1, self.ndim)[:, self._hyper:]
        pp = self.priors.to_params(th)
        return {n: np.asarray(pp[n], dtype=float) for n in self.priors.free_names}

    def bounds(self):
        out = []
        for p, (a, b, j, prior) in zip(self.posteriors, self._blocks):
            bl = _bounds(p.priors)
            if self.noncentered:
                bl[j] = (-math.inf, math.inf)
            out += bl
        return out + _bounds(self.priors)

    def sample(self, settings: SamplerSettings, starts, checkpoint=None, print_fn=print):
        """Sample the joint posterior from the given ``starts`` (MAP, ball, gated emcee)."""
        _, run = _sample(self.log_prob, self.free_names, starts, settings, checkpoint,
                         bounds=self.bounds(), print_fn=print_fn)
        return run


# --------------------------------------------------------------------------------------------
# command-line helpers
# --------------------------------------------------------------------------------------------


def population_from_runs(groups, *, param="delta0", scale="log", max_draws=1000,
                         sigma_scale=1.0, max_variance=1.0) -> Population:
    """Build a :class:`Population` from ``{group: [run directory or .nc, ...]}``."""
    members = [load_member(src, param, g, scale=scale, max_draws=max_draws)
               for g, sources in groups.items() for src in sources]
    return Population(members, param=param, scale=scale, sigma_scale=sigma_scale,
                      max_variance=max_variance)


def format_population(result: PopulationResult) -> str:
    """Terminal text: hyper-posterior table, group contrasts, low-ESS members, warnings."""
    extra = R.attrs_of(result.idata).get("extra") or {}
    lines = [R.format_summary(result.summary)]
    groups = extra.get("groups", [])
    for i, a in enumerate(groups):
        for b in groups[i + 1:]:
            c = group_contrast(result.idata, a, b)
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
