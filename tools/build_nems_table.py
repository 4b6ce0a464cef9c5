"""Build the piecewise-Chebyshev table of the universal NEMS damping function F(a).

F(a) = Γ/(Cω) for TLS relaxation rates of the form A (Δ0²/ε) coth(ε/2k_BT), with
a = ω/(A k_B T) (Maillet et al., PRB 107, 064104 (2023), Eq. 2 with Eq. 3 or 4):

    F(a) = ∫_0^∞ du sech²(u/2) G(a tanh(u/2)/u),
    G(b) = ∫_0^1 v² b/((1-v²)² + b²) dv = Im[c (ln(1+c) - ½ ln b + iπ/4)],  c = sqrt(1 - i b).

The closed form of G is the v-integral done analytically; here it is evaluated in mpmath at
40 digits, so the cancellation that plagues it in double precision at large b does not matter.
The u-integral is done by mpmath's tanh-sinh quadrature with breakpoints.

The table covers t = ln a in [T_LO, T_HI] in panels of width 1/PANELS_PER_UNIT.  On each panel
F is interpolated at the DEGREE + 1 Chebyshev-Lobatto nodes (exact DCT-I at 40 digits), and the
Chebyshev series is converted, still at 40 digits, to ascending powers of the local variable
x = 2 (t - t_panel) / width - 1 in [-1, 1]; only then is it rounded to doubles.  The kernel
evaluates that polynomial by Horner's rule: on panels this narrow the coefficients fall by more
than an order of magnitude per power, so the monomial form is as well conditioned as the
Chebyshev form and costs one multiply-add per term instead of Clenshaw's two (6 ns instead of
28 ns per value with 64 unit panels of degree 22).  The largest neglected Chebyshev coefficient
(the next degree, estimated from a DEGREE + 2 interpolant on every panel) is recorded in the
metadata.  Outside the table the kernel uses the asymptotic forms

    F(a) ≈ π/2 - a (Q - P ln a)          (a -> 0; error O(a² ln² a))
    F(a) ≈ π²/(6a) - R/a³                (a -> ∞)

whose constants P, Q, R are computed here too.  The output is JSON so that loading it executes
nothing.  Run: ``python tools/build_nems_table.py [processes]`` (about 15 CPU-minutes).

This script is NOT the test reference: tests/reference/generate_references.py computes the
literal double integral independently.
"""

from __future__ import annotations

import json
import sys
import time
from multiprocessing import Pool
from pathlib import Path

import mpmath as mp

DPS = 40
T_LO, T_HI = -32, 32
PANELS_PER_UNIT = 4
DEGREE = 13
OUT = Path(__file__).resolve().parents[1] / "tlsbayes" / "physics" / "nems_F_table.json"


def G(b):
    """v-integral in closed form (mpmath)."""
    if b == 0:
        return mp.pi / 4
    c = mp.sqrt(1 - 1j * b)
    return mp.im(c * (mp.log(1 + c) - mp.log(b) / 2 + 1j * mp.pi / 4))


def tau(u):
    """tanh(u/2)/u, the u-dependence of b = a·tau(u); tends to 1/2 as u -> 0."""
    return mp.tanh(u / 2) / u if u != 0 else mp.mpf(1) / 2


def F(a):
    mp.mp.dps = DPS
    a = mp.mpf(a)
    f = lambda u: mp.sech(u / 2) ** 2 * G(a * tau(u))  # noqa: E731
    # b(u) = a tau(u) passes through 1 near u ~ a (tau ~ 1/u for large u): break there.
    pts = sorted({mp.mpf(0), mp.mpf(1), mp.mpf(4), mp.mpf(16), mp.mpf(60), mp.mpf(200)}
                 | ({min(max(a, mp.mpf("1e-3")), mp.mpf(150))} if a > 0 else set()))
    return mp.quad(f, pts)


def node_values(job):
    """F at the ``degree + 1`` Chebyshev-Lobatto nodes of one panel."""
    panel, degree = job
    mp.mp.dps = DPS
    width = mp.mpf(1) / PANELS_PER_UNIT
    lo = T_LO + panel * width
    vals = []
    for j in range(degree + 1):
        x = mp.cos(mp.pi * j / degree)
        t = lo + (x + 1) / 2 * width
        vals.append(F(mp.exp(t)))
    # As decimal strings: an mpf unpickled in the parent is rounded to the parent's precision
    # at that moment (15 digits by default), which would cap the table at double precision.
    return job, [mp.nstr(v, DPS, strip_zeros=False) for v in vals]


def cheb_coeffs(vals):
    """Chebyshev coefficients from values at Lobatto nodes x_j = cos(pi j / N) (exact DCT-I)."""
    n = len(vals) - 1
    coeffs = []
    for k in range(n + 1):
        s = mp.mpf(0)
        for j in range(n + 1):
            w = mp.mpf(1) / 2 if j in (0, n) else mp.mpf(1)
            s += w * vals[j] * mp.cos(mp.pi * j * k / n)
        ck = 2 * s / n
        if k in (0, n):
            ck /= 2
        coeffs.append(ck)
    return coeffs


def cheb_to_monomial(coeffs):
    """Ascending power-series coefficients of Σ c_k T_k(x), exactly (mpmath arithmetic)."""
    n = len(coeffs)
    out = [mp.mpf(0)] * n
    t_prev, t_cur = [mp.mpf(1)], [mp.mpf(0), mp.mpf(1)]  # T_0, T_1 as power series
    for k, c in enumerate(coeffs):
        t_k = t_prev if k == 0 else t_cur
        if k >= 2:
            # T_k = 2 x T_{k-1} - T_{k-2}
            t_k = [mp.mpf(0)] + [2 * v for v in t_cur]
            for i, v in enumerate(t_prev):
                t_k[i] -= v
            t_prev, t_cur = t_cur, t_k
        for i, v in enumerate(t_k):
            out[i] += c * v
    return out


def asymptotic_constants():
    mp.mp.dps = DPS
    sech2 = lambda u: mp.sech(u / 2) ** 2  # noqa: E731
    P = mp.quad(lambda u: sech2(u) * tau(u), [0, 1, 10, 200]) / 4
    Q = mp.quad(lambda u: sech2(u) * tau(u) * (1 + mp.log(4) - mp.log(tau(u))), [0, 1, 10, 200]) / 4
    R = mp.mpf(8) / 105 * mp.quad(lambda u: sech2(u) / tau(u) ** 3, [0, 1, 10, 200])
    return P, Q, R


def main():
    t0 = time.time()
    npanel = (T_HI - T_LO) * PANELS_PER_UNIT
    # The DEGREE + 2 interpolants only measure what the DEGREE interpolant leaves out.
    jobs = [(p, d) for p in range(npanel) for d in (DEGREE, DEGREE + 2)]
    mp.mp.dps = DPS
    with Pool(int(sys.argv[1]) if len(sys.argv) > 1 else 2) as pool:
        results = {job: [mp.mpf(v) for v in vals]
                   for job, vals in pool.imap_unordered(node_values, jobs, chunksize=4)}
    cheb = [cheb_coeffs(results[(p, DEGREE)]) for p in range(npanel)]
    coeffs = [[float(c) for c in cheb_to_monomial(cs)] for cs in cheb]
    P, Q, R = asymptotic_constants()
    tail = max(max(abs(c) for c in cheb_coeffs(results[(p, DEGREE + 2)])[DEGREE + 1:])
               / abs(cheb[p][0]) for p in range(npanel))
    # Check the asymptotic forms where they take over.
    a_lo, a_hi = mp.exp(T_LO), mp.exp(T_HI)
    lo_err = abs((mp.pi / 2 - a_lo * (Q - P * mp.log(a_lo))) / F(a_lo) - 1)
    hi_err = abs((mp.pi ** 2 / (6 * a_hi) - R / a_hi ** 3) / F(a_hi) - 1)
    table = {
        "meta": {
            "what": ("F(t = ln a) on panels of width 1/panels_per_unit: ascending power "
                     "coefficients in x = 2 (t - t_panel) / width - 1"),
            "generator": "tools/build_nems_table.py",
            "mpmath_version": mp.__version__,
            "dps": DPS,
            "t_lo": T_LO,
            "t_hi": T_HI,
            "panels_per_unit": PANELS_PER_UNIT,
            "degree": DEGREE,
            "max_relative_neglected_chebyshev_coefficient": float(tail),
            "asymptote_relative_error_at_t_lo": float(lo_err),
            "asymptote_relative_error_at_t_hi": float(hi_err),
            "seconds": round(time.time() - t0, 1),
        },
        "P": float(P),
        "Q": float(Q),
        "R": float(R),
        "coefficients": coeffs,
    }
    OUT.write_text(json.dumps(table, indent=1))
    print(json.dumps(table["meta"], indent=1))


if __name__ == "__main__":
    main()
