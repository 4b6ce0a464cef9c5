"""n_ph = 3/2 damping: the tables against the quadrature they replaced, side by side.

40 temperatures from 30 mK to 1 K at the goalpost card's simulation values (ω = 2π·4 MHz,
A_ph = 5e41 J^-1.5 s^-1, K = 0.11), S state (x = 0) and N state (x = 0.12).  Prints the median
time per 40-point evaluation of each path, their ratio and their largest relative difference.
Run: ``python benchmarks/n15_tables_vs_quadrature.py``.
"""

import math

import numba
import numpy as np

from tlsbayes.bench import median_time
from tlsbayes.physics import electron_rate_prefactor, nems

T = np.geomspace(0.03, 1.0, 40)
OMEGA = 2 * math.pi * 4e6
A_PH = 5e41
A_EL = electron_rate_prefactor(0.11)


@numba.njit
def quadrature_path(T, omega, A_ph, A_el, x):
    """Γ/(Cω) the way the kernel did it before the tables: 336-node quadrature per channel."""
    out = np.empty(T.size)
    for i in range(T.size):
        g = nems._damping_integral(T[i], omega, A_ph, 1.5, 0.0)
        if x != 0.0:
            g = (1 - x) * g + x * nems._damping_integral(T[i], omega, A_ph, 1.5, A_el)
        out[i] = g
    return out


def main():
    for x in (0.0, 0.12):
        tab = nems._nems_damping_1d(T, OMEGA, 1.0, A_PH, 1.5, A_EL, x) / OMEGA
        quad = quadrature_path(T, OMEGA, A_PH, A_EL, x)
        t_tab = median_time(lambda: nems._nems_damping_1d(T, OMEGA, 1.0, A_PH, 1.5, A_EL, x))
        t_quad = median_time(lambda: quadrature_path(T, OMEGA, A_PH, A_EL, x))
        print(f"{'S' if x == 0 else 'N'} state: tables {t_tab * 1e6:.2f} us, quadrature "
              f"{t_quad * 1e6:.1f} us, ratio {t_quad / t_tab:.0f}, "
              f"max relative difference {np.abs(tab / quad - 1).max():.1e}")


if __name__ == "__main__":
    main()
