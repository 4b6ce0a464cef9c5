"""Tables of the BCS gap and the Mattis–Bardeen conductivity in reduced variables.

The quadratures of :mod:`tlsbayes.physics.quasiparticle` cost 10-40 µs per point (the gap
equation is solved by Newton iteration on an integral; σ1 and σ2 are integrals over the
energy).  A fit evaluates them ~10^7 times, so the kernels read these tables instead, built by
``tools/build_mb_table.py`` from those very quadratures (``mb_table.npz``, plain arrays loaded
with ``allow_pickle=False``: nothing executes).  Each table is piecewise: a power series in the
panel's local variable X (and Y) in [-1, 1], from a Chebyshev fit at Chebyshev nodes,
evaluated by Horner's scheme.  Reduced variables, with Δ = Δ(T) the gap at T and ħω = h f:

* ``gap``: δ = Δ(T)/Δ0 against u = sqrt(1 - T/Tc) in [U_LO, U_HI) (T/Tc from 0.04 to 0.9996;
  nearer Tc the gap equation is ill-conditioned in the form the kernel solves, and solved);
* ``s0``: ``b σ2(T=0)/(π σn)`` against y = ln b, b = ħω/Δ in [e^Y_LO, e^Y_HI);
* ``th``, ``s1``: ``e^(1/a) b [σ2(0) - σ2(T)]/(π σn)`` and ``e^(1/a) b σ1/(π σn)`` against
  x = ln a, a = k_BT/Δ in [e^X_LO, e^X_HI), and y.  Every thermal term carries the Boltzmann
  factor e^(-Δ/k_BT) = e^(-1/a); the tables hold what multiplies it, a slowly varying function,
  so their relative error is that of the thermal terms themselves (σ2(T) - σ2(0) keeps its
  accuracy when it is a tiny difference).

Outside their domain the functions return NaN and the caller integrates.  The domain covers
ħω < Δ (pair breaking starts at 2Δ, where σ is not smooth) and k_BT < 12 Δ (T/Tc below
~0.9993); tests/test_mb_table.py holds every table to the quadrature over all of it
(the largest errors at build time are in ``META``).

If the .npz is missing (only while ``tools/build_mb_table.py`` bootstraps it), the domain is
empty and everything falls back to quadrature.
"""

import json
from pathlib import Path

import numba
import numpy as np

_PATH = Path(__file__).with_name("mb_table.npz")


def load_tables(path):
    """The arrays of the table file ``path`` as a dict (an empty-domain placeholder if absent).

    Parameters
    ----------
    path : pathlib.Path
        An .npz written by tools/build_mb_table.py.

    Returns
    -------
    dict
        Name -> array (see the module docstring); ``meta`` is a JSON string.
    """
    if not path.exists():
        return {"gap": np.zeros((1, 17)), "s0": np.zeros((1, 17)),
                "th": np.zeros((1, 1, 15, 15)), "s1": np.zeros((1, 1, 15, 15)),
                "u_lo": 0.0, "u_hi": 0.0, "x_lo": 0.0, "x_hi": 0.0, "y_lo": 0.0, "y_hi": 0.0,
                "ppu1": 1.0, "ppu2": 1.0, "meta": "{}"}
    with np.load(path, allow_pickle=False) as t:
        return {k: t[k] for k in t.files}


_t = load_tables(_PATH)
#: Build metadata: largest errors found when the tables were made, generator, layout.
META = json.loads(str(_t["meta"]))
# numba freezes a global array into the compiled (and cached) code only if it is under 1 MB;
# each table here is (checked below, so that a rebuilt table cannot silently turn the callers
# uncachable).
_GAP = np.ascontiguousarray(_t["gap"])
_S0 = np.ascontiguousarray(_t["s0"])
_TH = np.ascontiguousarray(_t["th"])
_S1 = np.ascontiguousarray(_t["s1"])
for _name, _a in (("gap", _GAP), ("s0", _S0), ("th", _TH), ("s1", _S1)):
    if _a.nbytes >= 1_000_000:
        raise RuntimeError(f"{_PATH.name}: table {_name!r} is {_a.nbytes} bytes (>= 1 MB)")
if _TH.shape[2:] != (15, 15) or _S1.shape[2:] != (15, 15):
    raise RuntimeError(f"{_PATH.name}: the 2-D tables must have degree-14 panels")
#: Table domain: U_LO <= u = sqrt(1 - T/Tc) < U_HI; X_LO <= ln(k_BT/Δ) < X_HI;
#: Y_LO <= ln(ħω/Δ) < Y_HI.
U_LO, U_HI = float(_t["u_lo"]), float(_t["u_hi"])
X_LO, X_HI = float(_t["x_lo"]), float(_t["x_hi"])
Y_LO, Y_HI = float(_t["y_lo"]), float(_t["y_hi"])
_GAP_PPU = _GAP.shape[0] / (U_HI - U_LO) if U_HI > U_LO else 1.0  # panels per unit of u
_PPU1 = float(_t["ppu1"])
_PPU2 = float(_t["ppu2"])
del _t, _name, _a


@numba.njit(cache=True)
def piecewise_series(coef, r):
    """Horner's rule on the power series ``coef[i]`` of the panel i = int(r) holding r.

    ``coef[i, k]`` is the coefficient of X^k, X = 2 (r - i) - 1 in [-1, 1]; r >= 0 is the
    position in panel units (the last panel also takes r up to its end).  Shared with the
    NEMS tables (tlsbayes.physics.nems).
    """
    i = min(int(r), coef.shape[0] - 1)
    X = 2.0 * (r - i) - 1.0
    c = coef[i]
    s = c[c.size - 1]
    for k in range(c.size - 2, -1, -1):
        s = s * X + c[k]
    return s


@numba.njit(cache=True)
def _estrin_14(q, X, X2, X4, X8):
    """The degree-14 polynomial ``Σ q[k] X^k`` by Estrin's scheme (powers of X given)."""
    q0 = (q[0] + q[1] * X) + X2 * (q[2] + q[3] * X)
    q1 = (q[4] + q[5] * X) + X2 * (q[6] + q[7] * X)
    q2 = (q[8] + q[9] * X) + X2 * (q[10] + q[11] * X)
    q3 = (q[12] + q[13] * X) + X2 * q[14]
    return (q0 + X4 * q1) + X8 * (q2 + X4 * q3)


@numba.njit(cache=True)
def tensor_series_14(c, X, Y):
    """``Σ c[iy, ix] X^ix Y^iy`` for a (15, 15) array c: a degree-14 tensor power series.

    Horner in Y; each power of Y a degree-14 polynomial in X by Estrin's scheme (depth 4
    instead of Horner's 14 dependent multiply-adds: about twice as fast).  Shared with the
    n = 3/2 NEMS table (tlsbayes.physics.nems.both_F15_of_log).
    """
    X2 = X * X
    X4 = X2 * X2
    X8 = X4 * X4
    s = 0.0
    for iy in range(14, -1, -1):
        s = s * Y + _estrin_14(c[iy], X, X2, X4, X8)
    return s


@numba.njit(cache=True)
def _tensor_pair_14(a, b, X, Y):
    """:func:`tensor_series_14` of two (15, 15) arrays at the same (X, Y), in one pass.

    Each result is bit for bit the single evaluation's (the same operations in the same
    order); the powers of X and the loop are shared and the two independent Horner chains
    in Y overlap in the pipeline.
    """
    X2 = X * X
    X4 = X2 * X2
    X8 = X4 * X4
    sa = 0.0
    sb = 0.0
    for iy in range(14, -1, -1):
        sa = sa * Y + _estrin_14(a[iy], X, X2, X4, X8)
        sb = sb * Y + _estrin_14(b[iy], X, X2, X4, X8)
    return sa, sb


@numba.njit(cache=True)
def tensor_series_14_columns(c, X, Y, out, n):
    """``out[k] = tensor_series_14(c, X[k], Y[k])`` for k < n: many points of one panel.

    The loop over the points is innermost, with the coefficients of a row held in scalars:
    LLVM vectorises it (about 3x cheaper per point than one series at a time), and each
    value is bit for bit :func:`tensor_series_14`'s (the same operations in the same order).
    """
    for k in range(n):
        out[k] = 0.0
    for iy in range(14, -1, -1):
        q = c[iy]
        q0, q1, q2, q3, q4, q5, q6, q7 = q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7]
        q8, q9, q10, q11, q12, q13, q14 = q[8], q[9], q[10], q[11], q[12], q[13], q[14]
        for k in range(n):
            x = X[k]
            x2 = x * x
            x4 = x2 * x2
            x8 = x4 * x4
            e0 = (q0 + q1 * x) + x2 * (q2 + q3 * x)
            e1 = (q4 + q5 * x) + x2 * (q6 + q7 * x)
            e2 = (q8 + q9 * x) + x2 * (q10 + q11 * x)
            e3 = (q12 + q13 * x) + x2 * q14
            out[k] = out[k] * Y[k] + ((e0 + x4 * e1) + x8 * (e2 + x4 * e3))


@numba.njit(cache=True)
def panel_of_log(x, y):
    """``(i, j, X, Y)``: the 2-D panel ``[i, j]`` holding (x, y) (inside the domain) and the
    local variables X, Y in [-1, 1] there."""
    rx = (x - X_LO) * _PPU2
    ry = (y - Y_LO) * _PPU2
    i = min(int(rx), _TH.shape[0] - 1)
    j = min(int(ry), _TH.shape[1] - 1)
    return i, j, 2.0 * (rx - i) - 1.0, 2.0 * (ry - j) - 1.0


@numba.njit(cache=True)
def in_domain_2d(x, y):
    """Whether (x = ln a, y = ln b) lies in the domain of the 2-D tables."""
    return X_LO <= x < X_HI and Y_LO <= y < Y_HI


@numba.njit(cache=True)
def deficit_and_sigma1_columns(i, j, X, Y, th, s1, n, want_sigma1):
    """:func:`sigma2_deficit_of_log` (into ``th``) and, if ``want_sigma1``,
    :func:`sigma1_of_log` (into ``s1``) of n points of the panel ``[i, j]`` at local
    variables ``X[:n]``, ``Y[:n]`` (:func:`panel_of_log`); bit for bit the pointwise values."""
    tensor_series_14_columns(_TH[i, j], X, Y, th, n)
    if want_sigma1:
        tensor_series_14_columns(_S1[i, j], X, Y, s1, n)


@numba.njit(cache=True)
def _panel_2d(coef, x, y):
    """The tensor series of the panel of ``coef[i, j]`` holding (x, y) (inside the domain)."""
    i, j, X, Y = panel_of_log(x, y)
    return tensor_series_14(coef[i, j], X, Y)


@numba.njit(cache=True)
def gap_fraction_of_u(u):
    """δ = Δ(T)/Δ0 (weak-coupling BCS) at u = sqrt(1 - T/Tc); NaN outside U_LO <= u < U_HI."""
    if not (U_LO <= u < U_HI):
        return np.nan
    return piecewise_series(_GAP, (u - U_LO) * _GAP_PPU)


@numba.njit(cache=True)
def sigma2_zero_of_log(y):
    """``b σ2(T=0)/(π σn)`` at y = ln b, b = ħω/Δ; NaN outside Y_LO <= y < Y_HI."""
    if not (Y_LO <= y < Y_HI):
        return np.nan
    return piecewise_series(_S0, (y - Y_LO) * _PPU1)


@numba.njit(cache=True)
def sigma2_deficit_of_log(x, y):
    """``e^(1/a) b [σ2(0) - σ2(T)]/(π σn)`` at x = ln a (a = k_BT/Δ), y = ln b; NaN outside."""
    if not (X_LO <= x < X_HI and Y_LO <= y < Y_HI):
        return np.nan
    return _panel_2d(_TH, x, y)


@numba.njit(cache=True)
def sigma_deficit_and_sigma1_of_log(x, y):
    """:func:`sigma2_deficit_of_log` and :func:`sigma1_of_log` at one point, in one pass
    (the same panel; values bit for bit those of the two functions); NaNs outside."""
    if not (X_LO <= x < X_HI and Y_LO <= y < Y_HI):
        return np.nan, np.nan
    i, j, X, Y = panel_of_log(x, y)
    return _tensor_pair_14(_TH[i, j], _S1[i, j], X, Y)


@numba.njit(cache=True)
def sigma1_of_log(x, y):
    """``e^(1/a) b σ1/(π σn)`` at x = ln a (a = k_BT/Δ), y = ln b (b = ħω/Δ < 2); NaN outside."""
    if not (X_LO <= x < X_HI and Y_LO <= y < Y_HI):
        return np.nan
    return _panel_2d(_S1, x, y)
