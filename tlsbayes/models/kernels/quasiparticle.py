"""Numba kernels of the thermal-quasiparticle models (:mod:`tlsbayes.models.quasiparticle`).

Imported on first prediction, not with the models: the column layout (``PARAMS``,
``CONSTS``) and every index constant are declared once in :mod:`tlsbayes.models.quasiparticle`,
which reading a card needs without numba.
"""

import math

import numba
import numpy as np

from ...physics import constants as K_
from ...physics.quasiparticle import mb_sigma_reduced
from ...physics.quasiparticle_columns import (COLUMN_WORK_ROWS, qp_inverse_q_columns,
                                              qp_shift_columns)
from ...physics.shift import shift_bracket
from ..specs.quasiparticle import (GAP_DELTA0, FS_F0, FS_DELTA0, FS_ALPHA, FS_GAP, XS_DELTA0, XS_ALPHA,
                             XS_GAP, XS_OFFSET, IQ_DELTA_TLS, IQ_DELTA_OTHER, IQ_ALPHA, IQ_GAP,
                             C_GAP, C_GAP_RATIO, C_F)

__all__ = ["predict_frequency_shift_qp", "predict_fractional_shift_qp", "predict_inverse_q_qp"]


@numba.njit(cache=True)
def _qp_gap(value, by_delta, ratio):
    """(Δ0 [J], Tc [K]) from the gap parameter: Tc [K] or Δ0 [eV], with Δ0 = ratio k_B Tc."""
    if by_delta:
        d0 = value * K_.e
        return d0, d0 / (ratio * K_.k_B)
    return ratio * K_.k_B * value, value


@numba.njit(cache=True)
def _gap_columns(P, col, by_delta, ratio):
    """(Δ0 [J], Tc [K]) of every walker, arrays (nwalkers,), from the gap column of P."""
    nw = P.shape[0]
    d0, tc = np.empty(nw), np.empty(nw)
    for w in range(nw):
        d0[w], tc[w] = _qp_gap(P[w, col], by_delta, ratio)
    return d0, tc


@numba.njit(cache=True)
def _qp_shift_matrix(T, f, alpha, d0, tc, offset, out):
    """``out[w, i] = TLS-free quasiparticle shift (α/2)δσ2/σ2(0) + offset`` of walker w at T[i];
    NaN where T >= Tc.  ``f, alpha, d0, tc, offset``: per walker, shape (nwalkers,).

    Above Tc there is no superconducting resonator, so the prediction is NaN (-inf likelihood).
    Evaluated temperature by temperature across the walkers (:func:`qp_shift_columns`).
    """
    nw = f.size
    s20 = np.empty(nw)
    for w in range(nw):
        s20[w] = mb_sigma_reduced(0.0, d0[w] / (K_.h * f[w]), False)[1]
    work = np.empty((COLUMN_WORK_ROWS, nw))
    col = np.empty(nw)
    for i in range(T.size):
        qp_shift_columns(T[i], f, alpha, d0, tc, s20, col, work)
        for w in range(nw):
            out[w, i] = np.nan if T[i] >= tc[w] else offset[w] + col[w]


@numba.njit(cache=True)
def predict_frequency_shift_qp(P, T, consts):
    by_delta, ratio = int(consts[C_GAP]) == GAP_DELTA0, consts[C_GAP_RATIO]
    nw, n = P.shape[0], T.size
    out = np.empty((nw, n))
    c = K_.h / (2.0 * math.pi * K_.k_B)
    d0, tc = _gap_columns(P, FS_GAP, by_delta, ratio)
    _qp_shift_matrix(T, np.ascontiguousarray(P[:, FS_F0]), np.ascontiguousarray(P[:, FS_ALPHA]),
                     d0, tc, np.zeros(nw), out)
    for w in range(nw):
        f0 = P[w, FS_F0]
        scale = P[w, FS_DELTA0] / math.pi
        for i in range(n):
            y = c * f0 / T[i] if T[i] > 0.0 else np.inf
            out[w, i] = f0 * (1.0 + scale * shift_bracket(y) + out[w, i])
    return out


@numba.njit(cache=True)
def predict_fractional_shift_qp(P, T, consts):
    by_delta, ratio, f = (int(consts[C_GAP]) == GAP_DELTA0, consts[C_GAP_RATIO],
                          consts[C_F])
    nw, n = P.shape[0], T.size
    out = np.empty((nw, n))
    c = K_.h * f / (2.0 * math.pi * K_.k_B)
    d0, tc = _gap_columns(P, XS_GAP, by_delta, ratio)
    _qp_shift_matrix(T, np.full(nw, f), np.ascontiguousarray(P[:, XS_ALPHA]), d0, tc,
                     np.ascontiguousarray(P[:, XS_OFFSET]), out)
    for w in range(nw):
        scale = P[w, XS_DELTA0] / math.pi
        for i in range(n):
            y = c / T[i] if T[i] > 0.0 else np.inf
            out[w, i] += scale * shift_bracket(y)
    return out


@numba.njit(cache=True)
def predict_inverse_q_qp(P, T, consts):
    by_delta, ratio, f = (int(consts[C_GAP]) == GAP_DELTA0, consts[C_GAP_RATIO],
                          consts[C_F])
    nw, n = P.shape[0], T.size
    out = np.empty((nw, n))
    hf = K_.h * f
    d0, tc = _gap_columns(P, IQ_GAP, by_delta, ratio)
    alpha = np.ascontiguousarray(P[:, IQ_ALPHA])
    work = np.empty((COLUMN_WORK_ROWS, nw))
    qp = np.empty(nw)
    for i in range(n):  # temperature by temperature across the walkers: see qp_inverse_q_columns
        t = T[i]
        thermal = math.tanh(hf / (2.0 * K_.k_B * t)) if t > 0.0 else 1.0
        qp_inverse_q_columns(t, f, alpha, d0, tc, qp, work)
        for w in range(nw):
            out[w, i] = P[w, IQ_DELTA_OTHER] + P[w, IQ_DELTA_TLS] * thermal + qp[w]
    return out
