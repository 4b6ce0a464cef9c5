"""The log-probability convention of tlsbayes and its adapter to emcee.

A *vectorised* log-probability ``log_prob_vec(theta)`` takes ``theta`` of shape ``(n, ndim)``
in sampling coordinates and returns either the log-probability, shape ``(n,)``, or a tuple
``(log_prob, *blobs)`` of such arrays (``log_prior``, ``log_likelihood`` by default).  ``-inf``
marks an impossible point; NaN is an error.
"""

from __future__ import annotations

import numpy as np

from ..errors import SamplingError

__all__ = ["log_prob_only", "split_output", "LogProbAdapter"]


def log_prob_only(out, n: int) -> np.ndarray:
    """The log-probability array of ``out`` (what a vectorised function returned), shape (n,)."""
    lp = out[0] if isinstance(out, (tuple, list)) else out
    lp = np.asarray(lp, dtype=float)
    if lp.shape != (n,):
        raise SamplingError(
            f"the log-probability function returned shape {lp.shape} for {n} points; "
            f"expected ({n},)"
        )
    return lp


def split_output(out, n: int, blob_names) -> tuple[np.ndarray, list[np.ndarray]]:
    """Validate what a vectorised log-probability returned: ``(log_prob, [blob arrays])``."""
    if not isinstance(out, (tuple, list)):
        return log_prob_only(out, n), []
    if len(out) != 1 + len(blob_names):
        raise SamplingError(f"the log-probability function returned {len(out)} arrays; "
                            f"expected log_prob plus the blobs {tuple(blob_names)}")
    arrays = [np.asarray(a, dtype=float) for a in out]
    for name, a in zip(("log_prob",) + tuple(blob_names), arrays):
        if a.shape != (n,):
            raise SamplingError(f"the log-probability function returned {name} of shape "
                                f"{a.shape} for {n} points; expected ({n},)")
    return arrays[0], arrays[1:]


class LogProbAdapter:
    """Turn the tlsbayes vectorised convention into what emcee expects with vectorize=True.

    emcee iterates over the returned object walker by walker: each item must be the scalar
    log-probability, or a sequence ``(log_prob, blob_1, ...)`` for that walker.  A tuple of
    arrays ``(log_prob, log_prior, log_likelihood)`` would be read as three walkers, so it is
    transposed into per-walker tuples here; emcee then builds a structured blob array with
    one field per blob name (``blobs_dtype``).

    A KeyboardInterrupt in the user function, and a SamplingError for a malformed or NaN
    result, are recorded rather than propagated: emcee's function wrapper would otherwise
    print the walker positions and a traceback before the one-line message.  The proposals get
    -inf (rejected) and :func:`tlsbayes.sampling.runner.run` raises the recorded exception
    right after the step; that step is never checkpointed.
    """

    def __init__(self, fn, blob_names, names):
        self.fn = fn
        self.blob_names = tuple(blob_names)
        self.names = names
        self.blobs_dtype = [(b, np.float64) for b in self.blob_names] or None
        self.pending: BaseException | None = None
        self._with_blobs = False

    def __call__(self, theta):
        theta = np.asarray(theta, dtype=float)
        n = theta.shape[0]
        if self.pending is None:
            try:
                log_prob, blobs = self.arrays(theta)
            except (KeyboardInterrupt, SamplingError) as exc:
                self.pending = exc
        if self.pending is not None:
            log_prob = np.full(n, -np.inf)
            blobs = [np.full(n, -np.inf) for _ in self.blob_names] if self._with_blobs else []
        self._with_blobs = bool(blobs)
        # Python floats: zipping lists is several times cheaper than iterating numpy arrays,
        # and emcee converts every item with float() anyway.
        return list(zip(log_prob.tolist(), *(b.tolist() for b in blobs))) if blobs else log_prob

    def arrays(self, theta) -> tuple[np.ndarray, list[np.ndarray]]:
        """``(log_prob, [blob arrays])`` at ``theta`` (n, ndim), validated; raises
        :class:`SamplingError` naming the point where the log-probability is NaN."""
        n = theta.shape[0]
        log_prob, blobs = split_output(self.fn(theta), n, self.blob_names)
        bad = np.flatnonzero(np.isnan(log_prob))
        if bad.size:
            where = ", ".join(f"'{k}' = {v:.6g}" for k, v in zip(self.names, theta[bad[0]]))
            raise SamplingError(f"log-probability is NaN at {where}; log densities "
                                "must be -inf for impossible points, never NaN")
        return log_prob, blobs

    def raise_pending(self) -> None:
        if self.pending is not None:
            raise self.pending
