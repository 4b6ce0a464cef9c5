"""Numba kernels of the Q-power model (:mod:`tlsbayes.models.qpower`).

Imported on first prediction, not with the models: the column layout (``PARAMS``,
``CONSTS``) and every index constant are declared once in :mod:`tlsbayes.models.qpower`,
which reading a card needs without numba.
"""

import math

import numba
import numpy as np

from ...physics import constants as K_
from ...physics.qpower import field_constant, inverse_q_scalar, self_consistent_inverse_q_into
from ..specs.qpower import (P_DELTA0, P_DELTA_OTHER, P_XC, P_BETA, C_T, C_F, C_SATURATION, C_QC, C_A0,
                      C_D, C_EPS_R, SAT_FIELD, SAT_SELF_CONSISTENT)

__all__ = ["predict_qpower"]

# Solver settings of the self-consistent field (Eq. 6), as the Defrance fits always used them.
_SC_TOL, _SC_MAXITER = 1e-12, 60


@numba.njit(cache=True)
def _predict_self_consistent(P, x, consts, out):
    # Hot path of the Defrance fits: the thermal factor and the field constants of Eq. 6
    # are computed once per call, not once per walker and point.
    T, f, Qc = consts[C_T], consts[C_F], consts[C_QC]
    nw, n = P.shape[0], x.size
    thermal = math.tanh(K_.h * f / (2.0 * K_.k_B * T)) if T > 0.0 else 1.0
    k = np.empty(n)
    for i in range(n):
        k[i] = field_constant(x[i], f, Qc, consts[C_A0], consts[C_D], consts[C_EPS_R])
    kc = np.empty(n)
    step = np.empty(n)
    for w in range(nw):
        inv_ec2 = 1.0 / (P[w, P_XC] * P[w, P_XC])
        for i in range(n):
            kc[i] = k[i] * inv_ec2
        self_consistent_inverse_q_into(kc, Qc, P[w, P_DELTA0] * thermal, P[w, P_DELTA_OTHER],
                                       P[w, P_BETA], _SC_TOL, _SC_MAXITER, out[w], step)
    return out


@numba.njit(cache=True)
def predict_qpower(P, x, consts):
    T, f, mode = consts[C_T], consts[C_F], int(consts[C_SATURATION])
    nw, n = P.shape[0], x.size
    out = np.empty((nw, n))
    if mode == SAT_SELF_CONSISTENT:
        return _predict_self_consistent(P, x, consts, out)
    # photon number and power saturate as x/x_c, the field as (x/x_c)²
    power_like = mode != SAT_FIELD
    for w in range(nw):
        d0, dother, xc, beta = P[w, P_DELTA0], P[w, P_DELTA_OTHER], P[w, P_XC], P[w, P_BETA]
        for i in range(n):
            out[w, i] = inverse_q_scalar(T, f, x[i], d0, dother, xc, beta, power_like)
    return out
