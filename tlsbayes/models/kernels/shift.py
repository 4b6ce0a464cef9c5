"""Numba kernels of the frequency-shift models (:mod:`tlsbayes.models.shift`).

Imported on first prediction, not with the models: the column layout (``PARAMS``,
``CONSTS``) and every index constant are declared once in :mod:`tlsbayes.models.shift`,
which reading a card needs without numba.
"""

import math

import numba
import numpy as np

from ...physics import constants as K_
from ...physics.shift import shift_bracket
from ..specs.shift import (FS_F0, FS_DELTA0, LS_C, LS_T0, LS_A3)

__all__ = ["predict_frequency_shift", "predict_log_shift"]


@numba.njit(cache=True)
def predict_frequency_shift(P, T, consts):
    nw, n = P.shape[0], T.size
    out = np.empty((nw, n))
    c = K_.h / (2.0 * math.pi * K_.k_B)
    for w in range(nw):
        f0 = P[w, FS_F0]
        scale = P[w, FS_DELTA0] / math.pi
        for i in range(n):
            y = c * f0 / T[i] if T[i] > 0.0 else np.inf
            out[w, i] = f0 * (1.0 + scale * shift_bracket(y))
    return out


@numba.njit(cache=True)
def predict_log_shift(P, T, consts):
    nw, n = P.shape[0], T.size
    out = np.empty((nw, n))
    for w in range(nw):
        C, T0, a3 = P[w, LS_C], P[w, LS_T0], P[w, LS_A3]
        for i in range(n):
            t = T[i]
            out[w, i] = C * math.log(t / T0) + a3 * t * t * t
    return out
