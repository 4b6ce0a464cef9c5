"""A posterior's log-probability as a few compiled calls, for the compiled sampling path.

:meth:`tlsbayes.inference.posterior.Posterior.log_prob` composes compiled pieces (the prior
rows, each data set's model kernel and likelihood) with numpy glue: column selection, the
likelihood's ``extra`` matrix, masks for impossible points.  On the Ta card that glue is about
a third of a half-ensemble call (~15 of 41 µs for 16 walkers).  :func:`fast_log_prob` returns
the same function with the glue compiled: per call one prior call, per data set one gather,
its kernel and its likelihood, and one combination.  It calls the very functions
``Posterior.log_prob`` calls, on the same numbers, so its values are the same bit for bit
(``tests/test_compiled_sampler.py``).

Data sets whose likelihood needs per-trace draws (``trace_posterior``) are not covered: a
posterior with one of them keeps its own ``log_prob``.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["fast_log_prob", "FastLogProb", "gather_rows", "combine_rows"]


@numba.njit(cache=True)
def gather_rows(lprior, params, mcols, lcols, n_extra):
    """Rows of finite prior; their model matrix and likelihood ``extra`` matrix.

    Returns
    -------
    ok : ndarray of int64, shape (n_ok,)
    P : ndarray, shape (n_ok, len(mcols))
    extra : ndarray, shape (n_ok, n_extra)
        The likelihood's own parameters, padded with ones (``Likelihood.extra_matrix``).
    """
    n = 0
    for w in range(lprior.size):
        n += np.isfinite(lprior[w])
    ok = np.empty(n, dtype=np.int64)
    P = np.empty((n, mcols.size))
    extra = np.ones((n, n_extra))
    i = 0
    for w in range(lprior.size):
        if np.isfinite(lprior[w]):
            ok[i] = w
            for k in range(mcols.size):
                P[i, k] = params[w, mcols[k]]
            for k in range(lcols.size):
                extra[i, k] = params[w, lcols[k]]
            i += 1
    return ok, P, extra


@numba.njit(cache=True)
def combine_rows(lprior, ok, llike_ok):
    """``log_prob`` and the blobs ``(log_prior, log_likelihood)`` as columns of one matrix:
    ``-inf`` likelihood off the prior's support, NaN sums as ``-inf`` (``Posterior.log_prob``).
    """
    blobs = np.empty((lprior.size, 2))
    for w in range(lprior.size):
        blobs[w, 0] = lprior[w]
        blobs[w, 1] = -np.inf
    for i in range(ok.size):
        blobs[ok[i], 1] = llike_ok[i]
    lp = np.empty(lprior.size)
    for w in range(lprior.size):
        v = lprior[w] + blobs[w, 1]
        lp[w] = v if v == v else -np.inf
    return lp, blobs


class FastLogProb:
    """``Posterior.log_prob`` for ``theta`` of shape (n, ndim), glue compiled.

    Calling it returns ``(log_prob, log_prior, log_likelihood)`` as the posterior does;
    :meth:`matrix` returns the two blobs as the columns of one matrix, in the order of
    :data:`BLOB_NAMES` (what the compiled stepper stores).
    """

    #: The blobs of :meth:`matrix`, in column order.
    BLOB_NAMES = ("log_prior", "log_likelihood")

    def __init__(self, posterior):
        from ..inference.kernels import total_log_likelihood
        from ..inference.likelihood_codes import EXTRA_COLUMNS
        from ..inference.prior_set import prior_and_params

        self._prior = prior_and_params
        self._total = total_log_likelihood
        self.priors = posterior.priors.compiled
        self.n_extra = len(EXTRA_COLUMNS)
        pos = {n: i for i, n in enumerate(posterior.priors.names)}
        self._sets = []
        for d in posterior.datasets:
            mcols = np.array([pos[n] for n in d.model.param_names], dtype=np.int64)
            lcols = np.array([pos[n] for n in d.likelihood_param_names], dtype=np.int64)
            if d.point_constants:
                predict = d.predict_matrix  # kernel per group of point constants
            else:
                kernel, x, consts = d.model.kernel, d.x, d.model.kernel_consts()

                def predict(P, kernel=kernel, x=x, consts=consts):
                    return kernel(P, x, consts)
            self._sets.append((predict, mcols, lcols, d.likelihood.code, d.y, d.sigma))
        one = len(posterior.datasets) == 1 and not posterior.datasets[0].point_constants
        #: ``(dataset, mcols, lcols)`` of a posterior of one data set without point
        #: constants (what tlsbayes.sampling.compiled_loop can run), else None
        self.single = (posterior.datasets[0], mcols, lcols) if one else None

    def __call__(self, theta):
        lp, blobs = self.matrix(theta)
        return lp, blobs[:, 0].copy(), blobs[:, 1].copy()

    def matrix(self, theta):
        """``(log_prob (n,), blobs (n, 2))`` at ``theta`` (n, ndim); never NaN."""
        theta = np.ascontiguousarray(theta, dtype=np.float64)
        lprior, params = self._prior(theta, self.priors)
        total = None
        for predict, mcols, lcols, code, y, sigma in self._sets:
            ok, P, extra = gather_rows(lprior, params, mcols, lcols, self.n_extra)
            if ok.size:
                ll = self._total(code, predict(P), y, sigma, extra)
            else:
                ll = np.empty(0)
            total = ll if total is None else total + ll
        return combine_rows(lprior, ok, total)


def fast_log_prob(log_prob_vec):
    """A compiled-glue twin of ``log_prob_vec`` if it is a ``Posterior.log_prob`` it can
    reproduce bit for bit, else ``None``.

    Parameters
    ----------
    log_prob_vec : callable
        What the sampler was handed (``target.log_prob``).
    """
    from ..inference.likelihood_codes import KIND_TRACE_POSTERIOR
    from ..inference.posterior import Posterior

    posterior = getattr(log_prob_vec, "__self__", None)
    if type(posterior) is not Posterior or getattr(log_prob_vec, "__func__", None) \
            is not Posterior.log_prob:
        return None
    if any(d.draws is not None or d.likelihood.code == KIND_TRACE_POSTERIOR
           for d in posterior.datasets):
        return None
    return FastLogProb(posterior)
