"""Many compiled steps in one call: the log-posterior of one data set inside the step loop.

:class:`~tlsbayes.sampling.compiled.CompiledStepper` calls the log-posterior from Python once
per half-ensemble, about ten compiled calls a step whose dispatch costs more than the Ta
card's likelihood itself.  For a posterior of one data set without point constants
(:class:`~tlsbayes.sampling.compiled_target.FastLogProb` says so) :func:`run_steps` takes a
whole chunk of steps in one compiled call: the random numbers are drawn first
(:func:`tlsbayes.sampling.stream.draw_chunk`, as emcee draws them: they never depend on the
state), then the loop proposes, evaluates the
prior rows, the model kernel and the likelihood, and accepts, with the same compiled functions
on the same numbers, so the chain stays emcee's bit for bit.

The model kernel is passed as a numba first-class function of one fixed signature
(:data:`KERNEL_SIG`), so the loop is compiled once and cached for every model; a kernel that
cannot be compiled for that signature leaves the chunk to the stepper.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numba import types

from ..inference.kernels import prior_rows_and_params, total_log_likelihood
from .compiled import MOVE_DE, accept, de_proposal, stretch_proposal
from .compiled_target import combine_rows, gather_rows
from .stream import ROW_LOG_U

__all__ = ["KERNEL_SIG", "chunk_runner", "run_steps"]


def _array(ndim, dtype=types.float64, readonly=False):
    return types.Array(dtype, ndim, "C", readonly=readonly)


F1, F2, F3, F4 = (_array(n) for n in (1, 2, 3, 4))
R1 = _array(1, readonly=True)
I1, I2, I3 = (_array(n, types.int64) for n in (1, 2, 3))
#: ``kernel(P (nwalkers, k), x (n,) read-only, consts) -> (nwalkers, n)``, as the posterior
#: calls every model kernel (:func:`tlsbayes.models.base.kernel_array`).
KERNEL_SIG = F2(F2, R1, F1)



@numba.njit(types.void(types.FunctionType(KERNEL_SIG), types.int64, F2, F1, F2, I2, F4, I3,
                       types.float64, types.float64, types.float64, types.float64, F1,
                       I1, F2, F1, I1, I1, I1, types.int64, R1, F1, types.int64, R1, R1,
                       F3, F2, F3, I1), cache=True)
def _loop(kernel, kind, coords, log_prob, blobs, labels, draws, rint, g0, sigma, snooker,
          gamma_snooker, jmp, codes, table, fixed, free_pos, mcols, lcols, n_extra, x, consts,
          code, y, sigma_y, chain, log_probs, blob_chain, n_accepted):
    nsteps, nwalkers = labels.shape
    accepted = np.zeros(nwalkers, dtype=np.bool_)
    for k in range(nsteps):
        accepted[:] = False
        for split in range(2):
            d = draws[k, split]
            if kind == MOVE_DE:
                inds, q, log_factor = de_proposal(coords, labels[k], split, d[:4], d[4], g0,
                                                  sigma, snooker, gamma_snooker, jmp)
            else:
                inds, q = stretch_proposal(coords, labels[k], split, d[0], rint[k, split])
                log_factor = d[1].copy()
            lprior, params = prior_rows_and_params(q, codes, table, fixed, free_pos)
            ok, P, extra = gather_rows(lprior, params, mcols, lcols, n_extra)
            if ok.size > 0:
                ll = total_log_likelihood(code, kernel(P, x, consts), y, sigma_y, extra)
            else:
                ll = np.empty(0)
            lp, bl = combine_rows(lprior, ok, ll)
            accept(coords, log_prob, blobs, accepted, inds, q, lp, bl, log_factor,
                   d[ROW_LOG_U])
        chain[k] = coords
        log_probs[k] = log_prob
        blob_chain[k] = blobs
        for w in range(nwalkers):
            n_accepted[w] += accepted[w]


def run_steps(spec, t, coords, log_prob, blobs, labels, draws, rint):
    """The steps of the move ``spec`` (a :class:`MoveSpec`) on the posterior described by
    ``t`` (:func:`loop_arrays`) in one compiled call, from the chunk's random numbers
    (``labels``, ``draws``, ``rint``: :func:`tlsbayes.sampling.stream.draw_chunk`); the state
    and results as :meth:`CompiledStepper.run`."""
    nsteps, nwalkers = labels.shape
    ndim = coords.shape[1]
    g0 = 2.38 / math.sqrt(2 * ndim) if spec.gamma0 is None else float(spec.gamma0)
    chain = np.empty((nsteps, nwalkers, ndim))
    log_probs = np.empty((nsteps, nwalkers))
    blob_chain = np.empty((nsteps,) + blobs.shape)
    n_accepted = np.zeros(nwalkers, dtype=np.int64)
    _loop(t["kernel"], spec.kind, coords, log_prob, blobs, labels, draws, rint, g0,
          float(spec.sigma), float(spec.snooker), float(spec.gamma_snooker), spec.jump_row(),
          t["codes"],
          t["table"], t["fixed"], t["free_pos"], t["mcols"], t["lcols"], t["n_extra"], t["x"],
          t["consts"], t["code"], t["y"], t["sigma"], chain, log_probs, blob_chain, n_accepted)
    return chain, log_probs, blob_chain, n_accepted


def loop_arrays(fast) -> dict | None:
    """What :func:`run_steps` needs from a
    :class:`~tlsbayes.sampling.compiled_target.FastLogProb` (one data set without point
    constants, its kernel compiled for :data:`KERNEL_SIG`), or ``None``."""
    if fast.single is None:
        return None
    d, mcols, lcols = fast.single
    kernel = d.model.kernel
    try:
        kernel.compile(KERNEL_SIG)
    except Exception:  # not a numba kernel (a Python wrapper), or another signature
        return None
    c = fast.priors
    return {"kernel": kernel, "codes": np.array(c.codes, dtype=np.int64),
            "table": np.array(c.table, dtype=np.float64),
            "fixed": np.array(c.fixed, dtype=np.float64),
            "free_pos": np.array(c.free_pos, dtype=np.int64), "mcols": mcols, "lcols": lcols,
            "n_extra": fast.n_extra, "x": d.x,
            "consts": np.array(d.model.kernel_consts(), dtype=np.float64),
            "code": int(d.likelihood.code), "y": d.y, "sigma": d.sigma}


def chunk_runner(fast):
    """``runner(spec, coords, log_prob, blobs, labels, draws, rint)`` taking whole chunks on
    ``fast`` in one compiled call (:func:`run_steps`), or ``None`` where it cannot."""
    t = loop_arrays(fast)
    if t is None:
        return None

    def runner(spec, coords, log_prob, blobs, labels, draws, rint):
        return run_steps(spec, t, coords, log_prob, blobs, labels, draws, rint)
    return runner
