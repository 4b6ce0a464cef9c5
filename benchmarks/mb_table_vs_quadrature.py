"""Mattis–Bardeen and BCS-gap kernels: the tables against the quadrature, side by side.

40 temperatures from 30 to 315 mK at the NYU card's values (Al, Tc = 1.2 K, f = 7.7182 GHz,
Δ0 = 1.764 k_B Tc).  For the gap Δ(T)/Δ0, for σ2 alone (the frequency-shift path) and for σ1 and
σ2 (the loss path), prints the median time per 40-point evaluation of each path, their ratio and
their largest relative difference.  Both paths take the same reduced arguments; the quadrature
path is the package's twin (``*_quadrature`` in tlsbayes.physics.quasiparticle).
Run: ``python benchmarks/mb_table_vs_quadrature.py``.
"""

import numba
import numpy as np

from tlsbayes.bench import median_time
from tlsbayes.physics import quasiparticle as qp
from tlsbayes.physics.constants import h, k_B

TC, F = 1.2, 7.7182e9
T = np.linspace(0.030, 0.315, 40)
D0 = qp.BCS_GAP_RATIO * k_B * TC


@numba.njit
def gap_table(t):
    out = np.empty(t.size)
    for i in range(t.size):
        out[i] = qp.bcs_gap_fraction(t[i])
    return out


@numba.njit
def gap_quadrature(t):
    out = np.empty(t.size)
    for i in range(t.size):
        out[i] = qp.bcs_gap_fraction_quadrature(t[i])
    return out


@numba.njit
def sigma_table(theta, d, want_sigma1):
    out = np.empty((2, theta.size))
    for i in range(theta.size):
        out[0, i], out[1, i] = qp.mb_sigma_reduced(theta[i], d[i], want_sigma1)
    return out


@numba.njit
def sigma_quadrature(theta, d, want_sigma1):
    out = np.empty((2, theta.size))
    for i in range(theta.size):
        out[0, i], out[1, i] = qp.mb_sigma_quadrature(theta[i], d[i], want_sigma1)
    return out


def _row(label, fast, slow, pick):
    a, b = pick(fast()), pick(slow())
    t_fast, t_slow = median_time(fast), median_time(slow)
    print(f"{label:24s} tables {t_fast * 1e6:8.2f} us   quadrature {t_slow * 1e6:8.1f} us   "
          f"ratio {t_slow / t_fast:6.0f}   max relative difference "
          f"{np.max(np.abs(a / b - 1)):.1e}")


def main():
    t = T / TC
    delta = gap_quadrature(t)
    theta = k_B * T / (h * F)
    d = D0 * delta / (h * F)
    _row("gap Delta(T)/Delta0", lambda: gap_table(t), lambda: gap_quadrature(t), lambda x: x)
    _row("sigma2 (shift path)", lambda: sigma_table(theta, d, False),
         lambda: sigma_quadrature(theta, d, False), lambda x: x[1])
    _row("sigma1, sigma2 (loss)", lambda: sigma_table(theta, d, True),
         lambda: sigma_quadrature(theta, d, True), lambda x: x.ravel())


if __name__ == "__main__":
    main()
