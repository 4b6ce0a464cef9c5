"""Posteriors over one or several data sets that share parameters by name.

A :class:`Dataset` pairs a model, its data and a likelihood.  A :class:`Posterior` holds the
data sets and one :class:`~tlsbayes.inference.prior_set.PriorSet` over the union of their
parameter names: f(T) and Qi(E) of one resonator share ``delta0`` simply by both naming it;
NEMS damping in the S and N states share ``C`` and ``gamma``.

``Posterior.log_prob(theta)`` takes ``theta`` of shape ``(ndim,)`` or ``(nwalkers, ndim)`` and
returns ``(log_prob, log_prior, log_likelihood)``; the likelihood is not evaluated where the
prior is ``-inf``.  Posteriors are stateless and picklable.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..errors import TLSBayesError
from ..models.base import kernel_array
from .likelihood import Likelihood
from .likelihood_codes import X_SCALE
from .prior_set import PriorSet, prior_and_params

if TYPE_CHECKING:  # numba at import: the trace likelihood imports it when first used
    from .traces import TraceDraws

__all__ = ["Dataset", "Posterior"]

@dataclass(frozen=True, eq=False)
class Dataset:
    """One observed curve and how to compare a model with it.

    Parameters
    ----------
    name : str
        Identifier (used for pointwise log-likelihood groups and per-data-set parameters).
    model : tlsbayes.models.Model
        Provides ``param_names`` and ``predict_matrix``.
    x, y : ndarray, shape (n,)
        Abscissae (model's ``x_unit``) and observations (model's ``y_unit``), SI.
    sigma : ndarray, shape (n,), optional
        Quoted standard deviations of ``y``; ``None`` means not quoted (only allowed with a
        likelihood that has a noise parameter; σ = 1 in the unit of y then).
    likelihood : Likelihood
        Noise model.
    suffix : str
        Appended to the likelihood's own parameter names (``noise_scale`` ->
        ``noise_scale_<suffix>``) so that each data set of a joint fit has its own noise.
    draws : TraceDraws, optional
        Per-point posterior draws (likelihood ``trace_posterior`` only, and always with it);
        ``sigma`` defaults to each point's posterior standard deviation then.
    point_constants : mapping, optional
        ``constant name -> (n,) values``: model constants that differ from point to point
        (e.g. ``T`` of each trace of a Q_i(P) data set measured at several temperatures).
        The model is evaluated once per distinct combination, with those values in its
        constants vector.
    """

    name: str
    model: object
    x: np.ndarray
    y: np.ndarray
    sigma: np.ndarray | None = None
    likelihood: Likelihood = field(default_factory=Likelihood)
    suffix: str = ""
    draws: TraceDraws | None = None
    point_constants: dict | None = None

    def __post_init__(self):
        x = np.ascontiguousarray(np.asarray(self.x, dtype=np.float64).reshape(-1))
        y = np.ascontiguousarray(np.asarray(self.y, dtype=np.float64).reshape(-1))
        if x.shape != y.shape:
            raise TLSBayesError(f"data set {self.name!r}: x has {x.size} points but y has "
                                f"{y.size}")
        self._check_draws(y)
        object.__setattr__(self, "_groups", self._point_groups(x.size))
        if self.sigma is None and self.draws is not None:
            object.__setattr__(self, "sigma", self.draws.sd * y)
        if self.sigma is None:
            if self.likelihood.kind in Likelihood.requires_sigma:
                raise TLSBayesError(
                    f"data set {self.name!r}: no uncertainties (sigma) were given, which the "
                    f"'{self.likelihood.kind}' likelihood needs; give a sigma column or use "
                    "likelihood 'gaussian_noise_scale' or 'student_t'")
            s = np.ones_like(y)
        else:
            s = np.ascontiguousarray(np.broadcast_to(
                np.asarray(self.sigma, dtype=np.float64), y.shape)).copy()
        object.__setattr__(self, "x", kernel_array(x))
        object.__setattr__(self, "y", kernel_array(y))
        object.__setattr__(self, "sigma", kernel_array(s))

    def _check_draws(self, y):
        traces = self.likelihood.kind == "trace_posterior"
        if traces and self.draws is None:
            raise TLSBayesError(f"data set {self.name!r}: likelihood 'trace_posterior' needs "
                                "per-trace posteriors (a traces table of 'tlsbayes s21')")
        if self.draws is not None and not traces:
            raise TLSBayesError(f"data set {self.name!r}: per-trace draws need likelihood "
                                "'trace_posterior'")
        if self.draws is not None and self.draws.n != y.size:
            raise TLSBayesError(f"data set {self.name!r}: {self.draws.n} traces of draws for "
                                f"{y.size} points")

    def _point_groups(self, n):
        """``[(indices, constants vector)]`` per distinct point-constant combination, or None."""
        if not self.point_constants:
            return None
        base = np.asarray(self.model.kernel_consts(), dtype=np.float64)
        cols, vals = [], []
        for name, v in self.point_constants.items():
            if name not in self.model.CONSTS:
                raise TLSBayesError(f"data set {self.name!r}: model {self.model.kind!r} has no "
                                    f"constant {name!r} to vary from point to point")
            v = np.asarray(v, dtype=np.float64).reshape(-1)
            if v.size != n:
                raise TLSBayesError(f"data set {self.name!r}: {v.size} values of {name!r} for "
                                    f"{n} points")
            cols.append(self.model.CONSTS.index(name))
            vals.append(v)
        table = np.stack(vals, axis=1)
        uniq, inverse = np.unique(table, axis=0, return_inverse=True)
        groups = []
        for g, row in enumerate(uniq):
            consts = base.copy()
            consts[cols] = row
            groups.append((np.flatnonzero(inverse.reshape(-1) == g), consts))
        return groups

    def predict_matrix(self, P: np.ndarray) -> np.ndarray:
        """Model values at this data set's points, shape ``(nwalkers, n)``, from a ready
        ``(nwalkers, k)`` parameter matrix (point constants applied)."""
        P = np.ascontiguousarray(P)
        if self._groups is None:
            return self.model.predict_matrix(P, self.x)
        return grouped_predict(self.model.kernel, P, self.x, self._groups)

    @property
    def n(self) -> int:
        return self.y.size

    @property
    def likelihood_param_names(self) -> tuple:
        sfx = f"_{self.suffix}" if self.suffix else ""
        return tuple(p.name + sfx for p in self.likelihood.parameters)

    @property
    def param_names(self) -> tuple:
        """Every parameter this data set needs: the model's, then the likelihood's."""
        return tuple(self.model.param_names) + self.likelihood_param_names

    def parameter_info(self) -> dict:
        """``name -> Parameter`` (model and likelihood), names as used in the posterior."""
        info = {p.name: p for p in self.model.parameters}
        for p, n in zip(self.likelihood.parameters, self.likelihood_param_names):
            info[n] = p
        return info

    def default_priors(self) -> dict:
        pri = self.model.default_priors(self.x, self.y)
        lp = self.likelihood.default_priors(self.y, self.sigma)
        for p, n in zip(self.likelihood.parameters, self.likelihood_param_names):
            pri[n] = lp[p.name]
        return pri

    def data_hash(self) -> str:
        h = hashlib.sha256()
        for a in (self.x, self.y, self.sigma):
            h.update(np.ascontiguousarray(a, dtype="<f8").tobytes())
        return h.hexdigest()


def grouped_predict(kernel, P, x, groups):
    """``kernel`` evaluated group by group with each group's constants, shape (nwalkers, n)."""
    out = np.empty((P.shape[0], x.size))
    for idx, consts in groups:
        out[:, idx] = kernel(P, kernel_array(x[idx]), consts)
    return out


def _row_sums(pw):
    """Summed log-likelihood per walker, ``-inf`` (never NaN) where a term is impossible."""
    tot = pw.sum(axis=1)
    tot[np.isnan(tot)] = -np.inf
    return tot


class Posterior:
    """Joint posterior of one or more data sets; see the module docstring.

    Parameters
    ----------
    datasets : sequence of Dataset
    priors : PriorSet
        Must cover every parameter of every data set, and nothing else.
    """

    def __init__(self, datasets, priors: PriorSet):
        self.datasets = tuple(datasets)
        self.priors = priors
        names = dict.fromkeys(n for d in self.datasets for n in d.param_names)
        missing = [n for n in names if n not in priors]
        if missing:
            raise TLSBayesError(f"no prior for parameter(s) {', '.join(missing)}")
        unused = [n for n in priors if n not in names]
        if unused:
            raise TLSBayesError(f"prior(s) for unknown parameter(s) {', '.join(unused)} "
                                f"(the models use: {', '.join(names)})")
        self._compiled = priors.compiled
        pos = {n: i for i, n in enumerate(priors.names)}
        self._cols = [(np.array([pos[n] for n in d.model.param_names], dtype=np.int64),
                       np.array([pos[n] for n in d.likelihood_param_names], dtype=np.int64))
                      for d in self.datasets]
        self._hot = self._likelihoods = None  # see _hot_path

    def _hot_path(self) -> list:
        """What every log-likelihood evaluation reads, looked up on the first one.

        The sampler calls log_prob ~1e4 times a run with ~16 walkers: everything that does not
        depend on theta (model constants, kernels, likelihood codes) is looked up once, so that
        the Python overhead stays small next to emcee's own per-step cost.  Not in
        ``__init__``: the kernels import numba, and a posterior rebuilt only to check a run
        directory (a ``resume`` with nothing to do) never evaluates.
        """
        from .kernels import (dataset_columns, pointwise_log_likelihood, sum_log_prob,
                              total_log_likelihood)

        self._likelihoods = (total_log_likelihood, pointwise_log_likelihood)
        self._columns, self._sum = dataset_columns, sum_log_prob
        self._hot = [(d.model.kernel, d.model.kernel_consts(), d.x, mcols, lcols,
                      d.likelihood.code, d.y, d.sigma, d.draws, d._groups)
                     for d, (mcols, lcols) in zip(self.datasets, self._cols)]
        return self._hot

    def __getstate__(self):
        return {"datasets": self.datasets, "priors": self.priors}

    def __setstate__(self, state):
        self.__init__(state["datasets"], state["priors"])

    @property
    def ndim(self) -> int:
        return self.priors.ndim

    @property
    def free_names(self) -> tuple:
        return self.priors.free_names

    def parameter_info(self) -> dict:
        info = {}
        for d in self.datasets:
            info.update(d.parameter_info())
        return info

    def saturation_ridge(self):
        """Axes of the saturation-ridge jump (move set ``"de_jump"``):
        ``(i_amp, i_scale, i_slope, power, lo, hi)`` in sampling coordinates, from the one data
        set whose model declares a ``saturation_ridge``.

        Raises
        ------
        TLSBayesError
            No such data set, or several; the amplitude or the scale not free on a log
            scale, the scale's prior unbounded, or the slope not free on a linear scale.
        """
        ridges = {r for d in self.datasets
                  if (r := getattr(d.model, "saturation_ridge", lambda: None)()) is not None}
        if len(ridges) != 1:
            raise TLSBayesError("moves 'de_jump' need one data set with a saturation ridge "
                                f"(a q_power model), found {len(ridges)}")
        amp, scale, slope, power = ridges.pop()
        free, pri = self.free_names, self.priors
        ok = (all(n in free for n in (amp, scale, slope)) and pri[amp].transform == "log"
              and pri[scale].transform == "log" and pri[slope].transform != "log")
        lo, hi = pri[scale].support if ok else (0.0, math.inf)
        if not (ok and 0.0 < lo and math.isfinite(hi)):
            raise TLSBayesError(f"moves 'de_jump' need {amp} and {scale} free with log-scale "
                                f"priors, {scale}'s bounded, and {slope} free on a linear scale")
        return (float(free.index(amp)), float(free.index(scale)), float(free.index(slope)),
                float(power), math.log(lo), math.log(hi))

    def _prior_and_params(self, theta2):
        return prior_and_params(np.ascontiguousarray(theta2), self._compiled)

    def _per_dataset(self, params, pointwise):
        """Log-likelihood per data set: ``(nwalkers, n)`` each if ``pointwise``, else
        ``(nwalkers,)`` each."""
        hot = self._hot if self._hot is not None else self._hot_path()
        f = self._likelihoods[1] if pointwise else self._likelihoods[0]
        out = []
        for kernel, consts, x, mcols, lcols, code, y, sigma, draws, groups in hot:
            P, extra = self._columns(params, mcols, lcols)
            if groups is None:
                mu = kernel(P, x, consts)
            else:
                mu = grouped_predict(kernel, P, x, groups)
            if draws is None:
                out.append(f(code, mu, y, sigma, extra))
            else:
                pw = draws.pointwise(mu, extra[:, X_SCALE])
                out.append(pw if pointwise else _row_sums(pw))
        return out

    def _total_log_likelihood(self, params):
        """Summed log-likelihood over data sets, shape (nwalkers,): the sampler's hot path."""
        total, *rest = self._per_dataset(params, pointwise=False)
        for ll in rest:
            total = total + ll
        return total

    def log_prior(self, theta):
        """Log prior (sampling coordinates, Jacobians included); float or (nwalkers,)."""
        return self.priors.log_prob(theta)

    def log_likelihood(self, theta):
        """Log likelihood summed over data sets; float or (nwalkers,)."""
        return self.log_prob(theta)[2]

    def log_prob(self, theta):
        """``(log_prob, log_prior, log_likelihood)`` at ``theta``.

        Parameters
        ----------
        theta : ndarray, shape (ndim,) or (nwalkers, ndim)

        Returns
        -------
        tuple of float or of ndarray (nwalkers,)
            ``-inf`` (never NaN) wherever the prior or the likelihood vanishes.
        """
        if self._hot is None:
            self._hot_path()
        t = np.asarray(theta, dtype=np.float64)
        single = t.ndim == 1
        lprior, params = self._prior_and_params(np.atleast_2d(t))
        ok = np.isfinite(lprior)
        if ok.all():
            llike = self._total_log_likelihood(params)
        else:
            llike = np.full(lprior.size, -np.inf)
            if ok.any():
                llike[ok] = self._total_log_likelihood(params[ok])
        lp = self._sum(lprior, llike)
        if single:
            return float(lp[0]), float(lprior[0]), float(llike[0])
        return lp, lprior, llike

    def __call__(self, theta):
        return self.log_prob(theta)

    def params(self, theta) -> dict:
        """``name -> (nwalkers,)`` physical values at ``theta`` (fixed parameters included)."""
        _, params = self._prior_and_params(np.atleast_2d(np.asarray(theta, dtype=np.float64)))
        return {n: params[:, i] for i, n in enumerate(self.priors.names)}

    def pointwise_log_likelihood(self, theta) -> dict:
        """``dataset name -> (nwalkers, n)`` pointwise log-likelihood (for PSIS-LOO)."""
        _, params = self._prior_and_params(np.atleast_2d(np.asarray(theta, dtype=np.float64)))
        return {ds.name: pw for ds, pw in zip(self.datasets,
                                              self._per_dataset(params, pointwise=True))}

    def simulate(self, theta, rng) -> dict:
        """``dataset name -> (nwalkers, n)`` data simulated at ``theta`` with each noise model.

        With prior draws for ``theta`` this is the prior predictive; with posterior draws, the
        posterior predictive.
        """
        _, params = self._prior_and_params(np.atleast_2d(np.asarray(theta, dtype=np.float64)))
        out = {}
        for ds, (mc, lc) in zip(self.datasets, self._cols):
            mu = ds.predict_matrix(params[:, mc])
            out[ds.name] = ds.likelihood.sample(mu, ds.sigma, params[:, lc] if lc.size else None,
                                                rng)
        return out

    def predict(self, theta) -> dict:
        """``dataset name -> (nwalkers, n)`` model prediction at each data set's x."""
        _, params = self._prior_and_params(np.atleast_2d(np.asarray(theta, dtype=np.float64)))
        return {ds.name: ds.predict_matrix(params[:, mc])
                for ds, (mc, _) in zip(self.datasets, self._cols)}
