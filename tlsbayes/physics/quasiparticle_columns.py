"""The quasiparticle terms at one temperature for many parameter sets at once.

A model kernel evaluates σ1, σ2 of every walker at every data temperature.  Walked point by
point, each value costs two 225-term tensor series of :mod:`tlsbayes.physics.mb_table` (~70 %
of a quasiparticle kernel).  The walkers of an ensemble at one temperature nearly always lie
in one table panel, so here the series run across the walkers
(:func:`~tlsbayes.physics.mb_table.tensor_series_14_columns`, which LLVM vectorises): the
inverse-Q kernel costs half as much.  Every value is bit for bit that of the pointwise
functions of :mod:`tlsbayes.physics.quasiparticle` (the same operations in the same order;
tests/test_quasiparticle.py).
"""

import math

import numba
import numpy as np

from .constants import h, k_B
from .mb_table import deficit_and_sigma1_columns, in_domain_2d, panel_of_log, sigma2_zero_of_log
from .quasiparticle import QP_NEGLIGIBLE, bcs_gap_fraction, mb_sigma_reduced

__all__ = ["COLUMN_WORK_ROWS", "mb_sigma_columns", "qp_shift_columns", "qp_inverse_q_columns"]

#: Rows of the scratch array of the column functions (shape (COLUMN_WORK_ROWS, n)).
COLUMN_WORK_ROWS = 17
_W_S0, _W_PI_D, _W_BOLTZ, _W_X, _W_Y, _W_PANEL, _W_IDX, _W_XC, _W_YC, _W_TH, _W_T1 = range(11)
_W_THETA, _W_D, _W_S1, _W_S2, _W_K = range(12, 17)


@numba.njit(cache=True)
def mb_sigma_columns(theta, d, n, want_sigma1, s1, s2, work):
    """:func:`mb_sigma_reduced` at ``(theta[k], d[k])`` for k < n, into ``s1[k], s2[k]``.

    Bit for bit the pointwise values.  The points in the 2-D tables' domain are grouped by
    panel and each group's series run across its points
    (:func:`~tlsbayes.physics.mb_table.tensor_series_14_columns`, vectorised): the walkers of
    an ensemble at one temperature nearly always share a panel, and the series are ~70 % of
    a quasiparticle kernel's cost.  ``work``: scratch of shape (COLUMN_WORK_ROWS, >= n).
    """
    s0w, pid, bz, Xw, Yw, pc = (work[_W_S0], work[_W_PI_D], work[_W_BOLTZ], work[_W_X],
                                work[_W_Y], work[_W_PANEL])
    idx, Xc, Yc, th, t1 = work[_W_IDX], work[_W_XC], work[_W_YC], work[_W_TH], work[_W_T1]
    for k in range(n):
        t, dk = theta[k], d[k]
        pc[k] = -1.0
        if t > 0.0 and dk > 0.0:  # as mb_sigma_reduced computes them
            y = -math.log(dk)
            s0 = sigma2_zero_of_log(y)
            x = math.log(t / dk)
            if s0 == s0 and in_domain_2d(x, y):
                i, j, X, Y = panel_of_log(x, y)
                Xw[k], Yw[k], pc[k] = X, Y, i * 65536.0 + j
                s0w[k], pid[k], bz[k] = s0, math.pi * dk, math.exp(-dk / t)
                continue
        s1[k], s2[k] = mb_sigma_reduced(t, dk, want_sigma1)
    for k in range(n):
        if pc[k] < 0.0:
            continue
        code, m = pc[k], 0
        for k2 in range(k, n):
            if pc[k2] == code:
                idx[m], Xc[m], Yc[m] = k2, Xw[k2], Yw[k2]
                pc[k2] = -1.0
                m += 1
        deficit_and_sigma1_columns(int(code // 65536.0), int(code % 65536.0), Xc, Yc, th, t1,
                                   m, want_sigma1)
        for q in range(m):
            k2 = int(idx[q])
            s1[k2] = pid[k2] * bz[k2] * t1[q] if want_sigma1 else 0.0
            s2[k2] = pid[k2] * (s0w[k2] - bz[k2] * th[q])


@numba.njit(cache=True)
def qp_shift_columns(T, f, alpha, Delta0, Tc, sigma2_zero, out, work):
    """``out[k] = qp_shift_scalar(T, f[k], alpha[k], Delta0[k], Tc[k], sigma2_zero[k])``.

    One temperature T [K], n = ``f.size`` parameter sets (arrays); bit for bit the scalar
    function, with the conductivities of :func:`mb_sigma_columns`.
    """
    theta, dd, s1, s2, kk = (work[_W_THETA], work[_W_D], work[_W_S1], work[_W_S2],
                             work[_W_K])
    kT = k_B * T
    m = 0
    for k in range(f.size):
        hf = h * f[k]
        if not (kT * QP_NEGLIGIBLE < Delta0[k]):
            t = T / Tc[k]
            if t != t or T < 0.0:
                out[k] = np.nan
                continue
            dd[m] = Delta0[k] * bcs_gap_fraction(t) / hf
            theta[m] = kT / hf
            kk[m] = k
            m += 1
        else:
            out[k] = np.nan if (T != T or T < 0.0) else 0.0
    mb_sigma_columns(theta, dd, m, False, s1, s2, work)
    for q in range(m):
        k = int(kk[q])
        out[k] = 0.5 * alpha[k] * (s2[q] - sigma2_zero[k]) / sigma2_zero[k]


@numba.njit(cache=True)
def qp_inverse_q_columns(T, f, alpha, Delta0, Tc, out, work):
    """``out[k] = qp_inverse_q_scalar(T, f, alpha[k], Delta0[k], Tc[k])`` for every k.

    One temperature T [K] and frequency f [Hz], parameter sets in the arrays; bit for bit
    the scalar function, with the conductivities of :func:`mb_sigma_columns`.
    """
    n = alpha.size
    if T != T or T < 0.0:
        out[:n] = np.nan
        return
    theta, dd, s1, s2 = work[_W_THETA], work[_W_D], work[_W_S1], work[_W_S2]
    hf = h * f
    for k in range(n):
        dd[k] = Delta0[k] * bcs_gap_fraction(T / Tc[k]) / hf
        theta[k] = k_B * T / hf
    mb_sigma_columns(theta, dd, n, True, s1, s2, work)
    for k in range(n):
        out[k] = np.inf if s2[k] <= 0.0 else alpha[k] * s1[k] / s2[k]
