"""Numba kernels of the NEMS damping model (:mod:`tlsbayes.models.nems`).

Imported on first prediction, not with the models: the column layout (``PARAMS``,
``CONSTS``) and every index constant are declared once in :mod:`tlsbayes.models.nems`,
which reading a card needs without numba.
"""

import math

import numba
import numpy as np

from ...physics import constants as K_
from ...physics.nems import (damping_F15_of_log, damping_over_Comega,
                             electron_rate_prefactor_scalar, phonon_rate_prefactor_1d_scalar,
                             universal_F_of_log)
from ..specs.nems import (P_C, P_GAMMA, P_N_PH, P_X, P_K, C_OMEGA, C_RHO, C_E, C_W, C_C_L, C_STATE,
                    C_PHONON, STATE_N, PHONON_FREE)

__all__ = ["predict_nems"]


@numba.njit(cache=True)
def _row_n1(out_row, scale, l_ph, l_both, lnT, x):
    """Γ row for n_ph = 1: Γ = Cω F(a), ln a = ln(ω/(A k_B)) - ln T (one log per channel)."""
    for i in range(lnT.size):
        g = universal_F_of_log(l_ph - lnT[i])
        if x != 0.0:
            g = (1.0 - x) * g + x * universal_F_of_log(l_both - lnT[i])
        out_row[i] = scale * g


@numba.njit(cache=True)
def _row_n15(row, T, lnT, omega, C, A_ph, A_el, x):
    """Γ row for n_ph = 3/2 from the tables; a point outside them takes the general path.

    ln a_ph = ln(ω/(A_ph k_B^{3/2})) - 3/2 ln T, ln a_el = ln(ω/(A_el k_B)) - ln T.
    """
    l_ph = math.log(omega / A_ph) - 1.5 * math.log(K_.k_B)
    x_el = x if A_el > 0.0 else 0.0  # no electrons: Γ_S whatever x is
    l_el = math.log(omega / (A_el * K_.k_B)) if x_el != 0.0 else 0.0
    scale = C * omega
    for i in range(lnT.size):
        row[i] = scale * damping_F15_of_log(l_ph - 1.5 * lnT[i], l_el - lnT[i], x_el)
    # A NaN is a point outside the tables; it is mended here, not in the loop above,
    # which runs 1.7 times as fast without the branch to the general kernel.
    for i in range(lnT.size):
        if row[i] != row[i]:
            row[i] = scale * damping_over_Comega(T[i], omega, A_ph, 1.5, A_el, x)


@numba.njit(cache=True)
def predict_nems(P, T, consts):
    omega, rho, e, w_, c_l = (consts[C_OMEGA], consts[C_RHO], consts[C_E], consts[C_W],
                              consts[C_C_L])
    normal = int(consts[C_STATE]) == STATE_N
    free_ph = int(consts[C_PHONON]) == PHONON_FREE
    nw, n = P.shape[0], T.size
    out = np.empty((nw, n))
    fast = omega > 0.0
    lnT = np.empty(n)
    for i in range(n):
        fast = fast and 0.0 < T[i] < np.inf
        lnT[i] = math.log(T[i]) if T[i] > 0.0 else 0.0
    for w in range(nw):
        C = P[w, P_C]
        if free_ph:
            A_ph = P[w, P_GAMMA]
        else:
            A_ph = phonon_rate_prefactor_1d_scalar(P[w, P_GAMMA] * K_.e, rho, e, w_, c_l)
        n_ph = P[w, P_N_PH]
        x = P[w, P_X] if normal else 0.0
        A_el = electron_rate_prefactor_scalar(P[w, P_K]) if normal else 0.0
        if fast and n_ph == 1.0 and A_ph > 0.0:
            l_ph = math.log(omega / (A_ph * K_.k_B))
            l_both = math.log(omega / ((A_ph + A_el) * K_.k_B))
            if math.isfinite(l_ph) and math.isfinite(l_both):
                _row_n1(out[w], C * omega, l_ph, l_both, lnT, x)
                continue
        if fast and n_ph == 1.5 and A_ph > 0.0:
            _row_n15(out[w], T, lnT, omega, C, A_ph, A_el, x)
            continue
        for i in range(n):
            out[w, i] = C * omega * damping_over_Comega(T[i], omega, A_ph, n_ph, A_el, x)
    return out
