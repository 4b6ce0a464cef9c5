"""Numba kernels of the NEMS damping model (:mod:`tlsbayes.models.nems`).

Imported on first prediction, not with the models: the column layout (``PARAMS``,
``CONSTS``) and every index constant are declared once in :mod:`tlsbayes.models.nems`,
which reading a card needs without numba.
"""

import math

import numba
import numpy as np

from ...physics import constants as K_
from ...physics.nems import (damping_F15_of_log, damping_n1_over_Comega, damping_over_Comega,
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
def _kernel_start(P, T, consts):
    """``(out, ln T, fast, ω)``: the (nwalkers, n) output to fill, ln T, and whether the rows
    may take the tables (ω > 0 and every T in (0, inf); otherwise the per-point path)."""
    omega = consts[C_OMEGA]
    lnT = np.empty(T.size)
    fast = omega > 0.0
    for i in range(T.size):
        fast = fast and 0.0 < T[i] < np.inf
        lnT[i] = math.log(T[i]) if T[i] > 0.0 else 0.0
    return np.empty((P.shape[0], T.size)), lnT, fast, omega


@numba.njit(cache=True)
def _walker_rates(P, w, consts):
    """``(C, A_ph, n_ph, x, A_el)`` of walker ``w``: the rate prefactors of Maillet Eq. 3-4."""
    normal = int(consts[C_STATE]) == STATE_N
    if int(consts[C_PHONON]) == PHONON_FREE:
        A_ph = P[w, P_GAMMA]
    else:
        A_ph = phonon_rate_prefactor_1d_scalar(P[w, P_GAMMA] * K_.e, consts[C_RHO],
                                               consts[C_E], consts[C_W], consts[C_C_L])
    x = P[w, P_X] if normal else 0.0
    A_el = electron_rate_prefactor_scalar(P[w, P_K]) if normal else 0.0
    return P[w, P_C], A_ph, P[w, P_N_PH], x, A_el


@numba.njit(cache=True)
def _fast_row_n1(out_row, lnT, omega, C, A_ph, x, A_el):
    """Γ row for n_ph = 1 from one log per channel (:func:`_row_n1`); False (row not written)
    where a rate prefactor makes those logs infinite."""
    if not A_ph > 0.0:
        return False
    l_ph = math.log(omega / (A_ph * K_.k_B))
    l_both = math.log(omega / ((A_ph + A_el) * K_.k_B))
    if not (math.isfinite(l_ph) and math.isfinite(l_both)):
        return False
    _row_n1(out_row, C * omega, l_ph, l_both, lnT, x)
    return True


@numba.njit(cache=True)
def _predict_nems(P, T, consts):
    """Γ (nwalkers, n) for any phonon power n_ph (the general kernel)."""
    out, lnT, fast, omega = _kernel_start(P, T, consts)
    for w in range(P.shape[0]):
        C, A_ph, n_ph, x, A_el = _walker_rates(P, w, consts)
        if fast and n_ph == 1.0 and _fast_row_n1(out[w], lnT, omega, C, A_ph, x, A_el):
            continue
        if fast and n_ph == 1.5 and A_ph > 0.0:
            _row_n15(out[w], T, lnT, omega, C, A_ph, A_el, x)
            continue
        for i in range(T.size):
            out[w, i] = C * omega * damping_over_Comega(T[i], omega, A_ph, n_ph, A_el, x)
    return out


@numba.njit(cache=True)
def _predict_nems_n1(P, T, consts):
    """:func:`_predict_nems` when every walker has n_ph = 1, the same numbers without the
    n = 3/2 tables and the quadrature in the compiled code (a first fit of an n_ph = 1 card
    compiles in less than half the time); an empty (0, n) array if some walker has another n_ph.
    """
    out, lnT, fast, omega = _kernel_start(P, T, consts)
    for w in range(P.shape[0]):
        C, A_ph, n_ph, x, A_el = _walker_rates(P, w, consts)
        if n_ph != 1.0:
            return np.empty((0, T.size))
        if fast and _fast_row_n1(out[w], lnT, omega, C, A_ph, x, A_el):
            continue
        for i in range(T.size):
            out[w, i] = C * omega * damping_n1_over_Comega(T[i], omega, A_ph, A_el, x)
    return out


def predict_nems(P, T, consts):
    """The NEMS kernel: Γ [s^-1] of shape (nwalkers, n) for the parameter matrix ``P``
    (columns ``PARAMS``), temperatures ``T`` [K] (n,) and constants ``consts`` (``CONSTS``).

    The n_ph = 1 kernel first (the usual card: n_ph fixed at 1), the general one only if some
    walker has another n_ph, so that only the kernels a card uses are ever compiled.
    """
    out = _predict_nems_n1(P, T, consts)
    if out.shape[0] != P.shape[0]:
        out = _predict_nems(P, T, consts)
    return out
