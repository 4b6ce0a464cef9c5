"""Build the NEMS damping tables for a phonon rate ∝ ε^n with n != 1 (default n = 3/2).

Maillet et al., PRB 107, 064104 (2023), Eq. 2-4.  With u = ε/k_BT and the v-integral done in
closed form (G of tlsbayes.physics.nems.v_integral), the two damping channels are

    F_n(a_ph)            = ∫_0^∞ du sech²(u/2) G(a_ph tanh(u/2) / u^n)             (phonons)
    H_n(a_el, a_ph)      = ∫_0^∞ du sech²(u/2) G(tanh(u/2) / (u/a_el + u^n/a_ph))  (both)

with a_ph = ω/(A_ph (k_BT)^n) and a_el = ω/(A_el k_BT); Γ_S = Cω F_n and
Γ_N = Cω [(1 - x) F_n + x H_n].  For n = 1 both collapse to the universal F(a) of
tools/build_nems_table.py; for n != 1 the electron channel makes H_n a genuine function of two
variables, and it is that the goalpost cantilever card (n = 3/2) needs at every temperature.

Tables (all in logarithms, t = ln a):

* ``f1d``: F_n(e^t) for t in [T_LO, T_HI], panels of 1/4 unit, degree 13 power series in the
  panel's local variable (as the n = 1 table).  Outside: the caller falls back to quadrature.
* ``both``: H_n as a function of x1 = ln a_el and x2 = ln r = ln(a_el/a_ph) (the ratio of the
  phonon to the electron rate at ε = k_BT), for x1 in unit rows [X1_LO, X1_HI).  In row k the
  table spans x2 in [lo_k, hi_k) in unit panels, each a tensor power series of degree DEG2 in
  both local variables.  Below lo_k the electrons dominate so completely that H_n = F(a_el)
  (the n = 1 function) and above hi_k that H_n = F_n(a_ph), both to REDUCTION_TOL relative;
  lo_k and hi_k are found here by evaluating all three at 5 x1 and every 1/4 unit of x2.

Values come from a fixed composite Gauss-Legendre rule in s = ln u (20 nodes per unit from
ln u = -40, then breakpoints at u = 1 ... 90) in double precision; a rule with 30 nodes on half
units agrees to 4.4e-16 at 400 random points, and tests/test_physics_reference.py holds the
result to mpmath references of the literal double integral.  Every panel is checked at random
points against a direct evaluation; the largest relative error is recorded in the metadata.

The output is an .npz of plain arrays (loaded with allow_pickle=False: nothing executes); the
kernels for n = 3/2 are tlsbayes.physics.nems.phonon_F15_of_log and both_F15_of_log.
Run: ``python tools/build_nems_n_table.py [processes] [n]`` (15-18 s on 2 cores for n = 3/2).
"""

from __future__ import annotations

import json
import math
import sys
import time
from multiprocessing import Pool
from pathlib import Path

import numba
import numpy as np
from numpy.polynomial import chebyshev as Ch

from tlsbayes.physics.nems import universal_F_of_log, v_integral

T_LO, T_HI = -40.0, 40.0
PANELS_PER_UNIT = 4
DEG1 = 13
X1_LO, X1_HI = -20, 12
X2_MIN, X2_MAX = -50, 50
DEG2 = 14
REDUCTION_TOL = 2e-15
OUT_DIR = Path(__file__).resolve().parents[1] / "tlsbayes" / "physics"

_XG, _WG = np.polynomial.legendre.leggauss(20)
_EDGES = np.concatenate([np.arange(-40.0, 0.0, 1.0),
                         np.log([1, 1.5, 2, 3, 4, 6, 8, 11, 16, 22, 32, 45, 64, 90.0])])
NONE = 800.0  # ln a of a channel that is absent (its rate is e^-800: exactly zero in double)


@numba.njit
def damping_F(l_el, l_ph, n):
    """∫ sech²(u/2) G(b) du with 1/b = coth(u/2) (u e^-l_el + u^n e^-l_ph), in s = ln u."""
    tot = 0.0
    for p in range(_EDGES.size - 1):
        lo = _EDGES[p]
        hi = _EDGES[p + 1]
        half = 0.5 * (hi - lo)
        mid = 0.5 * (hi + lo)
        acc = 0.0
        for j in range(_XG.size):
            s = mid + half * _XG[j]
            u = math.exp(s)
            eu = math.exp(-u)
            sech2 = 4.0 * eu / ((1.0 + eu) * (1.0 + eu))
            th = (1.0 - eu) / (1.0 + eu) if u > 1e-8 else 0.5 * u
            inv_b = (math.exp(s - l_el) + math.exp(n * s - l_ph)) / th
            acc += _WG[j] * sech2 * v_integral(1.0 / inv_b) * u
        tot += half * acc
    return tot


def cheb_to_power_matrix(deg):
    """M with M[k, i] = coefficient of x^i in the Chebyshev polynomial T_k."""
    M = np.zeros((deg + 1, deg + 1))
    for k in range(deg + 1):
        M[k, :k + 1] = Ch.cheb2poly(np.eye(deg + 1)[k])[:k + 1]
    return M


def panel_1d(job):
    p, n = job
    width = 1.0 / PANELS_PER_UNIT
    lo = T_LO + p * width
    xs = np.cos(np.pi * np.arange(DEG1 + 1) / DEG1)  # Chebyshev-Lobatto
    vals = np.array([damping_F(NONE, lo + (x + 1) / 2 * width, n) for x in xs])
    cheb = Ch.chebfit(xs, vals, DEG1)
    power = cheb @ cheb_to_power_matrix(DEG1)
    rng = np.random.default_rng(p)
    err = 0.0
    for x in rng.uniform(-1, 1, 8):
        f = damping_F(NONE, lo + (x + 1) / 2 * width, n)
        err = max(err, abs(np.polynomial.polynomial.polyval(x, power) / f - 1))
    return p, power, err


def row_bounds(job):
    """[lo, hi) of x2 in row [k, k + 1) outside which a one-channel reduction is exact."""
    k, n = job
    x2s = np.arange(X2_MIN, X2_MAX + 1e-9, 0.25)
    bad_lo, bad_hi = [], []
    for x1 in np.linspace(k, k + 1, 5):
        f1 = universal_F_of_log(x1)
        for x2 in x2s:
            h = damping_F(x1, x1 - x2, n)
            if abs(f1 / h - 1) > REDUCTION_TOL:
                bad_lo.append(x2)
            if abs(damping_F(NONE, x1 - x2, n) / h - 1) > REDUCTION_TOL:
                bad_hi.append(x2)
    lo = math.floor(min(bad_lo)) - 1
    hi = math.ceil(max(bad_hi)) + 1
    if lo <= X2_MIN or hi >= X2_MAX:
        raise RuntimeError(f"row {k}: reductions not reached inside [{X2_MIN}, {X2_MAX}]")
    return k, lo, hi


def panel_2d(job):
    (k, j), n = job
    xs = np.cos(np.pi * (np.arange(DEG2 + 1) + 0.5) / (DEG2 + 1))  # Chebyshev, first kind
    x1 = k + (xs + 1) / 2
    x2 = j + (xs + 1) / 2
    V = np.array([[damping_F(a, a - b, n) for b in x2] for a in x1])  # V[i1, i2]
    Ti = np.linalg.inv(Ch.chebvander(xs, DEG2))
    cheb = Ti @ V @ Ti.T  # cheb[k1, k2]
    M = cheb_to_power_matrix(DEG2)
    power = M.T @ cheb @ M  # power[i1, i2]: coefficient of X^i1 Y^i2
    rng = np.random.default_rng(1000 * (k + 100) + j)
    err = 0.0
    for X, Y in rng.uniform(-1, 1, (8, 2)):
        a, b = k + (X + 1) / 2, j + (Y + 1) / 2
        f = damping_F(a, a - b, n)
        g = np.polynomial.polynomial.polyval2d(X, Y, power)
        err = max(err, abs(g / f - 1))
    return (k, j), power.T.copy(), err  # stored [i2, i1]: rows are powers of Y


def main():
    procs = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    n = float(sys.argv[2]) if len(sys.argv) > 2 else 1.5
    t0 = time.time()
    damping_F(0.0, 0.0, n)  # compile once, before the workers fork
    npanel = int((T_HI - T_LO) * PANELS_PER_UNIT)
    rows = list(range(X1_LO, X1_HI))
    with Pool(procs) as pool:
        r1 = sorted(pool.map(panel_1d, [(p, n) for p in range(npanel)]), key=lambda r: r[0])
        bounds = sorted(pool.map(row_bounds, [(k, n) for k in rows]))
        jobs = [((k, j), n) for k, lo, hi in bounds for j in range(lo, hi)]
        r2 = pool.map(panel_2d, jobs, chunksize=8)
    row_lo = np.array([b[1] for b in bounds], dtype=np.int64)
    row_hi = np.array([b[2] for b in bounds], dtype=np.int64)
    row_start = np.concatenate([[0], np.cumsum(row_hi - row_lo)[:-1]]).astype(np.int64)
    both = np.array([r[1] for r in r2])
    meta = {
        "what": ("NEMS damping for a phonon rate ∝ ε^n: f1d = F_n(t = ln a_ph) on panels of "
                 "1/f1d_panels_per_unit, ascending powers of x = 2 (t - t_panel)/width - 1; "
                 "both = H_n(x1 = ln a_el, x2 = ln a_el/a_ph) on unit panels, "
                 "both[p, i2, i1] the coefficient of Y^i2 X^i1, X and Y the local variables "
                 "in [-1, 1]; row k covers x1 in [x1_lo + k, x1_lo + k + 1) and x2 in "
                 "[row_lo[k], row_hi[k]), its panels starting at row_start[k]"),
        "generator": "tools/build_nems_n_table.py",
        "n": n,
        "reduction_tol": REDUCTION_TOL,
        "f1d_max_relative_error": max(r[2] for r in r1),
        "both_max_relative_error": max(r[2] for r in r2),
        "both_panels": len(r2),
        "seconds": round(time.time() - t0, 1),
    }
    out = OUT_DIR / f"nems_n{n:g}_table.npz"
    np.savez(out, n=np.float64(n), f1d=np.array([r[1] for r in r1]),
             f1d_t_lo=np.float64(T_LO), f1d_t_hi=np.float64(T_HI),
             f1d_panels_per_unit=np.float64(PANELS_PER_UNIT),
             both=both, x1_lo=np.float64(X1_LO), row_lo=row_lo, row_hi=row_hi,
             row_start=row_start, meta=np.array(json.dumps(meta)))
    # numba's cache is keyed on each source file's timestamp, and a cached caller holds its own
    # copy of a frozen table: touch the modules whose kernels read it so they recompile.
    for name in ("physics/nems.py", "models/nems.py"):
        (OUT_DIR.parent / name).touch()
    print(out, json.dumps(meta, indent=1))


if __name__ == "__main__":
    main()
