"""Build the Mattis–Bardeen and BCS-gap tables of tlsbayes.physics.mb_table.

Three quantities, each a piecewise polynomial (Chebyshev fit at Chebyshev nodes, converted to a
power series in the panel's local variable in [-1, 1], evaluated by Horner's scheme):

* ``gap``: δ = Δ(T)/Δ0 of weak-coupling BCS theory against u = sqrt(1 - T/Tc) in [U_LO, U_HI)
  (δ ∝ u near Tc, so δ is analytic in u; below t = 1 - U_HI², δ = 1 to double precision).
  Values from :func:`tlsbayes.physics.quasiparticle.bcs_gap_fraction`.
* ``s0``: b σ2(T=0)/(π σn) against y = ln b, b = ħω/Δ (1 at b -> 0), for y in [Y_LO, Y_HI).
* ``th`` and ``s1``: with a = k_BT/Δ, the thermal deficit of σ2, ``e^(1/a) [σ2(0) - σ2(T)] b/π``,
  and the scaled absorption ``e^(1/a) σ1 b/π`` (b < 2: no pair breaking), against x = ln a and
  y = ln b on a rectangle of square panels of side 1/PPU2.  The factor e^(Δ/k_BT) removes the
  Boltzmann factor that every thermal term carries, so the tables hold slowly varying
  functions and their relative error is that of the thermal terms themselves.

Values come from the quadratures of tlsbayes.physics.quasiparticle (``*_quadrature``: Gauss–Legendre
rules in E = Δ - ħω cos² φ for σ2 and E = Δ + ħω sinh² s for σ1, the Fermi factors scaled by
e^(Δ/k_BT); the gap equation solved by Newton iteration), which stay in the package as the
slow twin and the fallback outside the tables.  Every panel is checked at
random points against a fresh evaluation; the largest relative errors are in the metadata, and
tests/test_mb_table.py holds the tables to the kernel's quadrature over the whole domain.

Run: ``python tools/build_mb_table.py [processes]`` (25-45 s on 2 cores).  If the layout of the
.npz changes, delete the old file first: while it is missing the package integrates instead.
"""

from __future__ import annotations

import json
import math
import sys
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np
from numpy.polynomial import chebyshev as Ch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_nems_n_table import cheb_to_power_matrix  # noqa: E402

from tlsbayes.physics.quasiparticle import (  # noqa: E402
    bcs_gap_fraction_quadrature,
    sigma1_scaled_quadrature,
    sigma2_deficit_scaled_quadrature,
    sigma2_zero_quadrature,
)

# u = sqrt(1 - t) in panels of 0.02 from U_LO (t = 0.9996) to U_HI (t = 0.0396; δ = 1 below).
# Nearer Tc the gap equation in the real-energy form is ill-conditioned (the solver's error
# grows as ~1e-15/δ), so the kernel solves it there; each panel is a least-squares fit on
# GAP_OVERSAMPLE times as many Chebyshev nodes as coefficients, which averages that noise.
U_LO, U_HI, GAP_PANELS, GAP_DEG, GAP_OVERSAMPLE = 0.02, 0.98, 48, 16, 6
Y_LO, Y_HI = -9.5, 0.0  # b = ħω/Δ from 7.5e-5 to 1 (pair breaking starts at b = 2)
X_LO, X_HI = -6.5, 2.5  # a = k_BT/Δ from 1.5e-3 (e^(-1/a) = 1e-289) to 12 (T/Tc ~ 0.9993)
PPU1, DEG1 = 4, 16
PPU2, DEG2 = 2, 14
OUT = Path(__file__).resolve().parents[1] / "tlsbayes" / "physics" / "mb_table.npz"

def _s0_of_y(y):
    b = math.exp(y)
    return b * sigma2_zero_quadrature(1.0 / b) / math.pi


def _th_of_xy(x, y):
    a, b = math.exp(x), math.exp(y)
    return b * sigma2_deficit_scaled_quadrature(a / b, 1.0 / b) / math.pi


def _s1_of_xy(x, y):
    a, b = math.exp(x), math.exp(y)
    return b * sigma1_scaled_quadrature(a / b, 1.0 / b) / math.pi


def _gap_of_u(u):
    return bcs_gap_fraction_quadrature(1.0 - u * u)


FUNCS_1D = {"gap": (_gap_of_u, U_LO, (U_HI - U_LO) / GAP_PANELS, GAP_DEG, GAP_OVERSAMPLE),
            "s0": (_s0_of_y, Y_LO, 1.0 / PPU1, DEG1, 1)}
FUNCS_2D = {"th": _th_of_xy, "s1": _s1_of_xy}


def fit_1d(fun, lo, width, deg, oversample, seed, check=8):
    """Power series of ``fun`` on [lo, lo + width] in X = 2 (t - lo)/width - 1, and its error.

    A least-squares Chebyshev fit on ``oversample (deg + 1)`` Chebyshev nodes (interpolation
    for oversample = 1).
    The error is the largest |fit - fun| at ``check`` random points, relative to max |fun| on
    the panel (absolute where fun crosses 0, as δ does at Tc).
    """
    m = oversample * (deg + 1)
    xs = np.cos(np.pi * (np.arange(m) + 0.5) / m)
    vals = np.array([fun(lo + (x + 1) / 2 * width) for x in xs])
    power = Ch.chebfit(xs, vals, deg) @ cheb_to_power_matrix(deg)
    rng = np.random.default_rng(seed)
    scale = np.abs(vals).max()
    err = max(abs(np.polynomial.polynomial.polyval(X, power) - fun(lo + (X + 1) / 2 * width))
              for X in rng.uniform(-1, 1, check)) / scale
    return power, err


def panel_1d(job):
    name, p = job
    fun, lo, width, deg, oversample = FUNCS_1D[name]
    return fit_1d(fun, lo + p * width, width, deg, oversample, seed=p)


def panel_2d(job):
    name, (i, j) = job
    fun = FUNCS_2D[name]
    w = 1.0 / PPU2
    x0, y0 = X_LO + i * w, Y_LO + j * w
    xs = np.cos(np.pi * (np.arange(DEG2 + 1) + 0.5) / (DEG2 + 1))
    px, py = x0 + (xs + 1) / 2 * w, y0 + (xs + 1) / 2 * w
    V = np.array([[fun(a, b) for b in py] for a in px])  # V[ix, iy]
    Ti = np.linalg.inv(Ch.chebvander(xs, DEG2))
    M = cheb_to_power_matrix(DEG2)
    power = M.T @ (Ti @ V @ Ti.T) @ M  # power[ix, iy]: coefficient of X^ix Y^iy
    rng = np.random.default_rng(1000 * i + j)
    err = 0.0
    for X, Y in rng.uniform(-1, 1, (8, 2)):
        ref = fun(x0 + (X + 1) / 2 * w, y0 + (Y + 1) / 2 * w)
        err = max(err, abs(np.polynomial.polynomial.polyval2d(X, Y, power) / ref - 1))
    return power.T.copy(), err  # stored [iy, ix]: rows are powers of Y


def main():
    procs = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    t0 = time.time()
    for fun in (_s0_of_y, _gap_of_u):
        fun(0.1)  # compile once, before the workers fork
    _th_of_xy(0.0, 0.0), _s1_of_xy(0.0, 0.0)
    nx, ny = int((X_HI - X_LO) * PPU2), int((Y_HI - Y_LO) * PPU2)
    n1 = {"gap": GAP_PANELS, "s0": int((Y_HI - Y_LO) * PPU1)}
    out, meta = {}, {}
    with Pool(procs) as pool:
        for name, n in n1.items():
            res = pool.map(panel_1d, [(name, p) for p in range(n)])
            out[name] = np.array([r[0] for r in res])
            meta[f"{name}_max_error"] = max(r[1] for r in res)
        for name in FUNCS_2D:
            jobs = [(name, (i, j)) for i in range(nx) for j in range(ny)]
            res = pool.map(panel_2d, jobs, chunksize=4)
            out[name] = np.array([r[0] for r in res]).reshape(nx, ny, DEG2 + 1, DEG2 + 1)
            meta[f"{name}_max_relative_error"] = max(r[1] for r in res)
    meta.update({
        "what": ("gap[p]: δ = Δ(T)/Δ0 against u = sqrt(1 - T/Tc) on equal panels from u_lo "
                 "to u_hi; "
                 "s0[p]: b σ2(T=0)/(π σn) against y = ln(ħω/Δ) on panels of 1/ppu1 from y_lo; "
                 "th[i, j] and s1[i, j]: e^(Δ/k_BT) b [σ2(0) - σ2(T)]/(π σn) and "
                 "e^(Δ/k_BT) b σ1/(π σn) on the panel x in [x_lo + i/ppu2, ...), y in "
                 "[y_lo + j/ppu2, ...), x = ln(k_BT/Δ); coefficients [iy, ix] of Y^iy X^ix, "
                 "all in local variables X, Y in [-1, 1]; errors relative (gap, s0: to the "
                 "panel's largest value)"),
        "generator": "tools/build_mb_table.py",
        "seconds": round(time.time() - t0, 1),
    })
    np.savez(OUT, **out, u_lo=np.float64(U_LO), u_hi=np.float64(U_HI),
             x_lo=np.float64(X_LO), x_hi=np.float64(X_HI),
             y_lo=np.float64(Y_LO), y_hi=np.float64(Y_HI), ppu1=np.float64(PPU1),
             ppu2=np.float64(PPU2), meta=np.array(json.dumps(meta)))
    # numba caches are keyed on each function's own source file, and a cached caller holds its
    # own copy of a frozen table: drop every cache of the package so that all recompile.
    for cache in OUT.parents[1].rglob("*.nb[ic]"):
        cache.unlink()
    print(OUT, json.dumps(meta, indent=1))


if __name__ == "__main__":
    main()
