#!/usr/bin/env python
r"""Generate slow, high-precision reference values for the TLS kernels.

This script is the *independent* arbiter for the fast (numba) kernels of
``tlsbayes``.  It writes three JSON files to ``tests/data/``:

``ref_nems_F.json``
    The universal damping function

    .. math::

        F(a) = \int_0^\infty du \int_0^1 dv\;
               \frac{v^2}{1-v^2}\,\mathrm{sech}^2(u/2)\,
               \frac{\omega\tau}{1+(\omega\tau)^2},
        \qquad
        \omega\tau = \frac{a}{u\,(1-v^2)\coth(u/2)},

    i.e. :math:`\Gamma/(C\omega)` for a relaxation rate
    :math:`1/\tau = A\,\varepsilon(1-v^2)\coth(\varepsilon/2k_BT)`,
    :math:`\varepsilon = u k_B T`, :math:`a = \omega/(A k_B T)`.
    Known limits: :math:`F(0)=\pi/2` and :math:`F(a)\to\pi^2/(6a)`.

``ref_nems_damping.json``
    The NEMS damping rate :math:`\Gamma` (s^-1) of Maillet et al., PRB 107,
    064104 (2023), Eq. 2, in the superconducting (S) and normal (N) state,

    .. math::

        \Gamma[\tau](T) = C\omega \int_0^\infty du \int_0^1 dv\;
            \frac{v^2}{1-v^2}\,\mathrm{sech}^2(u/2)\,
            \frac{\omega\tau}{1+\omega^2\tau^2},

    with the relaxation rates evaluated literally at every node
    :math:`(u, v)`: :math:`\varepsilon = u k_B T`,
    :math:`(\Delta_0/\varepsilon)^2 = 1-v^2`,
    :math:`\Delta_0^2/\varepsilon = \varepsilon(1-v^2)`,
    :math:`1/\tau_{ph} = A_{ph}(\Delta_0/\varepsilon)^2\varepsilon^n
    \coth(\varepsilon/2k_BT)` and
    :math:`1/\tau_{el} = A_{el}(\Delta_0^2/\varepsilon)
    \coth(\varepsilon/2k_BT)`.
    :math:`\Gamma_S = \Gamma[\tau_{ph}]`,
    :math:`\Gamma_N = (1-x)\Gamma[\tau_{ph}] +
    x\,\Gamma[(1/\tau_{ph}+1/\tau_{el})^{-1}]`.
    Six cases (n = 1, 1.5, 3; S and N) at
    ``T = 10**linspace(-3, 1, 17)`` K.

``ref_shift.json``
    The TLS resonant-frequency shift bracket

    .. math::

        s(T) = \frac{1}{\pi}\left[\mathrm{Re}\,\psi(1/2 + i y) - \ln y\right],
        \qquad y = \frac{h f_0}{2\pi k_B T},

    i.e. :math:`(f(T)-f_0)/f_0` divided by :math:`F\delta_0`, from mpmath's
    complex digamma function, for :math:`f_0` = 0.8 and 1.6 GHz.

Method
------
The damping integrals are computed as the **literal double integral**: an
outer ``mpmath.quad`` (tanh-sinh) over ``u`` whose integrand is itself an
inner ``mpmath.quad`` (tanh-sinh) over ``v``, at ``mp.dps = 30`` (40 for
the self-check).  Nothing of the fast method is used: no closed form of the
``v``-integral, no series for it, no reduction to a one-variable integral.
The integrand is coded exactly as written above (``v**2/(1-v**2)``,
``omega*tau/(1+(omega*tau)**2)`` with ``omega*tau = omega/rate`` and the rate
built from its physical factors), so a mistake in the fast kernels' algebra
(closed form, branch choice, large-``b`` series switch, reduction to
:math:`F(a)`) cannot be reproduced here.

Numerical care:

* For fixed ``u`` the ``v``-integrand is a Lorentzian in
  :math:`s = 1-v^2` of half-width :math:`b(u) = \omega\tau\,(1-v^2)`
  (independent of ``v``), peaked at ``v = 1``; for fast rates it is
  extremely narrow (width ~1e-11 in ``v``).  The inner integral is split at
  ``v_k = 1 - (b/2) 10^k`` for ``k = -1, 0, 1, 3, 5, ...`` (while
  ``(b/2) 10^k < 1/2``), so every piece is smooth on its own scale.
  Internally the nodes are generated in ``w = 1 - v`` (an exact
  reflection, ``v = 1 - w``, ``1 - v^2 = w (1 + v)``), which keeps full
  *relative* precision of ``1 - v^2`` next to ``v = 1``.
* The outer integral is split at ``u = 1, 10, 40`` and at the ``u`` where
  :math:`b(u) = 1`, i.e. where :math:`\omega\tau(v=0) = 1` (the
  Lorentzian changes from narrow to broad), and cut at ``u = 150``, where
  :math:`\mathrm{sech}^2(u/2) < 10^{-63}`; the neglected tail is bounded
  by :math:`\pi e^{-150} \approx 10^{-65}` (in units of :math:`C\omega`)
  and added to the error estimate.
* Both relaxation rates carry the factor :math:`1-v^2`; at each node the
  rate is formed as ``(1 - v^2) * R(u)`` with the ``v``-independent factor
  :math:`R(u) = [A_{ph}\varepsilon^n + A_{el}\varepsilon]\coth(u/2)`
  computed once per outer node (an exact factorisation, not a reduction).
* Every piece is mapped linearly onto ``[-1, 1]`` before calling
  ``mp.quad`` so mpmath's node cache (keyed by interval) stays bounded.
* The reported error estimate of each value is
  ``outer quad error + 2 * max(inner quad error) + tail bound``
  (``2 = \int sech^2(u/2) du``), scaled like the value.
* Self-check: a subset of points is recomputed at ``dps + 10`` with a
  *different*, denser set of breakpoints (``v`` breakpoints every decade,
  shifted by half a decade; ``u`` breakpoints at 0.2, 0.7, 2, 5, 20, 60
  and where :math:`b(u) = 10^{-2..2}`; cut at ``u = 160``); the maximum
  relative difference is stored in each file's ``meta``.
* Sanity asserts: :math:`F(a)\to\pi/2` at small ``a``; at large ``a`` the
  values agree with the asymptotic expansion obtained by expanding the
  Lorentzian in powers of :math:`1/(\omega\tau)` (elementary ``v``-moments
  times 1-D ``u``-moments); the S-state damping at 1 mK agrees with its
  low-temperature law :math:`\Gamma_S \propto T^n`; ``S_n1`` agrees with
  ``F(a)`` at :math:`a = \omega/(A_{ph} k_B T)`; the shift agrees with its
  large-``y`` and small-``y`` expansions.

Inputs (``a``, ``T``) are the float64 numbers stored in the files and are
converted exactly to mpmath, so each reference is the exact function value
at the stored float64 argument.  Physical constants are the CODATA values of
``scipy.constants``, converted with ``mp.mpf(repr(value))``.

Usage
-----
::

    /work/venv/bin/python tests/reference/generate_references.py [--only A|B|C]
        [--procs N]

Run time: about 20 minutes with two processes on a shared 2-core machine
(part A ~5 min, part B ~14 min, part C < 1 s).
The output is deterministic (apart from the date and timings in ``meta``).
"""

import argparse
import datetime
import json
import os
import sys
import time
from multiprocessing import Pool

import mpmath
import numpy as np
import scipy
import scipy.constants as sc
from mpmath import mp

DPS = 30                 # working precision of the production run
CHECK_DPS = DPS + 10     # precision of the self-check recomputation
SHIFT_DPS = 50           # digamma is cheap: use more digits
# Breakpoint layouts.  Layout 0 is the production run; layout 1 (denser and
# shifted breakpoints, different cut-off) is used only for the self-check.
#   u_base : fixed outer breakpoints (u = 0 is the lower end)
#   u_cross: k such that the u where b(u) = 10^k is added as a breakpoint
#   u_max  : outer cut-off
#   w_exp  : inner breakpoints w = 1 - v = (b/2) 10^k for k in w_exp, then
#            continuing with step w_step (in k) while w < 1/2
LAYOUTS = {
    0: dict(u_base=("0", "1", "10", "40"), u_cross=(0,), u_max=150,
            w_exp=(-1, 0, 1), w_step=2),
    1: dict(u_base=("0", "0.2", "0.7", "2", "5", "20", "60"),
            u_cross=(-2, -1, 0, 1, 2), u_max=160,
            w_exp=(-1.5, -0.5, 0.5), w_step=1),
}
METHOD = ("literal double integral, nested mpmath.quad (tanh-sinh) with "
          "breakpoints")

HERE = os.path.dirname(os.path.abspath(__file__))
DATA_DIR = os.path.normpath(os.path.join(HERE, "..", "data"))
SCRIPT_REL = "tests/reference/generate_references.py"

# Inputs ---------------------------------------------------------------------
A_VALUES = sorted([10.0 ** (k / 2.0) for k in range(-12, 13)]
                  + [1e-8, 1e-7, 3e-7, 1e8])
A_CHECK = [1e-8, 1e-6, 10.0 ** -2.5, 1.0, 10.0 ** 2.5, 1e6]
T_NEMS = [float(t) for t in 10.0 ** np.linspace(-3.0, 1.0, 17)]
T_NEMS_CHECK_IDX = [0, 8, 16]       # 1 mK, 0.1 K, 10 K
F0_SHIFT = [0.8e9, 1.6e9]
T_SHIFT = sorted(set([float(t) for t in
                      10.0 ** np.linspace(-3.0, np.log10(2.0), 60)]
                     + [1e-4, 1e-2, 0.1, 0.25, 0.45, 10.0, 100.0]))

# Maillet SiN beam (decimal strings -> exact mpmath at any precision)
BEAM = dict(f_mode="17.5e6", C="4.3e-5", e_thick="130e-9", w_width="300e-9",
            rho="2900", c_l="6000", gamma_eV="9.8", x="0.17", K="0.07")
NEMS_CASES = ["S_n1", "N_n1", "S_n1.5", "N_n1.5", "S_n3", "N_n3"]


# Constants and parameters ---------------------------------------------------
def constants():
    """CODATA constants from scipy.constants as mpf at the current precision."""
    return dict(hbar=mp.mpf(repr(sc.hbar)), k_B=mp.mpf(repr(sc.k)),
                h=mp.mpf(repr(sc.h)), e=mp.mpf(repr(sc.e)))


def nems_case(name):
    """Parameters (mpf) of one NEMS damping case at the current precision.

    Returns a dict with n_ph, A_ph [J^-n s^-1], A_el [J^-1 s^-1], x,
    omega [rad/s], C.
    """
    c = constants()
    omega = 2 * mp.pi * mp.mpf(BEAM["f_mode"])
    C = mp.mpf(BEAM["C"])
    if name.endswith("_n1"):
        n = mp.mpf(1)
        gamma = mp.mpf(BEAM["gamma_eV"]) * c["e"]              # J
        A_ph = gamma ** 2 / (c["hbar"] ** 2 * mp.mpf(BEAM["rho"])
                             * mp.mpf(BEAM["e_thick"])
                             * mp.mpf(BEAM["w_width"])
                             * mp.mpf(BEAM["c_l"]) ** 3)
        K, x = mp.mpf("0.07"), mp.mpf("0.17")
    elif name.endswith("_n1.5"):
        n = mp.mpf("1.5")
        A_ph = omega / (c["k_B"] * mp.mpf("0.3")) ** n
        K, x = mp.mpf("0.11"), mp.mpf("0.12")
    elif name.endswith("_n3"):
        n = mp.mpf(3)
        A_ph = omega / (c["k_B"] * mp.mpf("0.3")) ** n
        K, x = mp.mpf("0.07"), mp.mpf("0.17")
    else:
        raise ValueError(name)
    if name.startswith("S_"):
        A_el, x = mp.zero, mp.zero
    else:
        A_el = 4 * mp.pi * K / c["hbar"]
    return dict(n_ph=n, A_ph=A_ph, A_el=A_el, x=x, omega=omega, C=C,
                k_B=c["k_B"])


# Quadrature machinery -------------------------------------------------------
def quad_pieces(f, pts):
    """Integrate ``f`` over ``[pts[0], pts[-1]]`` piece by piece.

    Each piece ``[lo, hi]`` is mapped linearly onto ``[-1, 1]`` and
    integrated with ``mp.quad`` (tanh-sinh).  Returns ``(value, error)``,
    the sums of the values and of mpmath's error estimates.
    """
    tot = mp.zero
    err = mp.zero
    for lo, hi in zip(pts[:-1], pts[1:]):
        if not hi > lo:
            continue
        half = (hi - lo) / 2
        mid = (hi + lo) / 2
        val, e = mp.quad(lambda t: f(mid + half * t), [-1, 1], error=True)
        tot += val * half
        err += e * half
    return tot, err


def inner_v(omega_tau, b, variant):
    r"""Inner integral :math:`\int_0^1 dv\, v^2/(1-v^2)\,\omega\tau/(1+\omega^2\tau^2)`.

    ``omega_tau(s)`` returns :math:`\omega\tau` at :math:`s = 1 - v^2` (the
    ``u`` dependence is in the closure).  ``b`` = :math:`\omega\tau\,(1-v^2)`
    sets the Lorentzian width and is used **only** to place breakpoints.
    The nodes are generated in ``w = 1 - v``.
    """
    one = mp.one

    def g(w):
        v = one - w
        s = w * (one + v)                  # = 1 - v**2, exact near v = 1
        if not s:                          # v = 1 exactly: the limit 1/b
            return one / omega_tau(one)
        wt = omega_tau(s)
        return v * v / s * wt / (one + wt * wt)

    lay = LAYOUTS[variant]
    d = b / 2                              # half-width of the peak in w = 1-v
    ks = list(lay["w_exp"])
    while len(ks) < 200:
        ks.append(ks[-1] + lay["w_step"])
    pts = [mp.zero]
    for k in ks:
        x = d * mp.mpf(10) ** k
        if not x < mp.mpf("0.5"):
            break
        pts.append(x)
    pts.append(one)
    return quad_pieces(g, pts)


def _bisect_decreasing(fun, target, lo, hi, iters=200):
    """Root of fun(u) = target for fun decreasing on [lo, hi] (log bisection)."""
    flo, fhi = fun(lo), fun(hi)
    if not (flo > target > fhi):
        return None
    llo, lhi = mp.log(lo), mp.log(hi)
    for _ in range(iters):
        lm = (llo + lhi) / 2
        if fun(mp.exp(lm)) > target:
            llo = lm
        else:
            lhi = lm
        if lhi - llo < mp.mpf("1e-12"):
            break
    return mp.exp((llo + lhi) / 2)


def outer_u(make_omega_tau, b_of_u, variant):
    r"""Outer integral over ``u`` of :math:`\mathrm{sech}^2(u/2)` times the inner integral.

    ``make_omega_tau(u)`` returns the function ``s -> omega*tau(u, s)``;
    ``b_of_u(u)`` = :math:`\omega\tau\,(1-v^2)` is used for breakpoints only.
    Returns ``(value, error_estimate)`` of the dimensionless double integral.
    """
    lay = LAYOUTS[variant]
    umax = mp.mpf(lay["u_max"])
    pts = {mp.mpf(p) for p in lay["u_base"]}
    for k in lay["u_cross"]:
        uc = _bisect_decreasing(b_of_u, mp.mpf(10) ** k, mp.mpf("1e-30"), umax)
        if uc is not None:
            pts.add(uc)
    pts.add(umax)
    pts = sorted(pts)
    inner_err = [mp.zero]

    def h(u):
        val, e = inner_v(make_omega_tau(u), b_of_u(u), variant)
        if e > inner_err[0]:
            inner_err[0] = e
        return mp.sech(u / 2) ** 2 * val

    val, err = quad_pieces(h, pts)
    tail = mp.pi * mp.exp(-umax)      # >= int_umax^inf sech^2(u/2) pi/4 du
    return val, err + 2 * inner_err[0] + tail


def F_double_integral(a, variant=0):
    """Universal function F(a) as the literal double integral (dimensionless)."""
    a = mp.mpf(a)

    def make_omega_tau(u):
        u_coth = u * mp.coth(u / 2)
        return lambda s: a / (u_coth * s)     # omega*tau = a/(u (1-v^2) coth(u/2))

    def b_of_u(u):
        return a / (u * mp.coth(u / 2))

    return outer_u(make_omega_tau, b_of_u, variant)


def nems_double_integral(case, T, which, variant=0):
    r"""Dimensionless :math:`\Gamma[\tau]/(C\omega)` for one NEMS case.

    ``which = 'ph'``: :math:`\tau = \tau_{ph}`;
    ``which = 'mix'``: :math:`1/\tau = 1/\tau_{ph} + 1/\tau_{el}`.
    """
    p = nems_case(case)
    T = mp.mpf(T)
    kT = p["k_B"] * T
    omega, n, A_ph = p["omega"], p["n_ph"], p["A_ph"]
    A_el = p["A_el"] if which == "mix" else mp.zero

    def make_omega_tau(u):
        eps = u * kT                          # epsilon = u k_B T  [J]
        cth = mp.coth(u / 2)                  # coth(eps / 2 k_B T)
        # 1/tau = A_ph (Delta0/eps)^2 eps^n coth + A_el (Delta0^2/eps) coth
        #       = (1 - v^2) * [A_ph eps^n + A_el eps] coth(u/2):
        # the v-independent factor is hoisted out of the inner loop.
        R = (A_ph * eps ** n + A_el * eps) * cth

        def omega_tau(s):                     # s = 1 - v^2
            return omega / (s * R)
        return omega_tau

    def b_of_u(u):
        eps = u * kT
        return omega / (mp.coth(u / 2) * (A_ph * eps ** n + A_el * eps))

    return outer_u(make_omega_tau, b_of_u, variant)


# Worker ---------------------------------------------------------------------
def run_task(task):
    """Evaluate one task in a worker; returns (task, value_str, err_str, secs)."""
    t0 = time.time()
    kind = task[0]
    if kind == "A":
        _, a, dps, variant = task
        mp.dps = dps
        val, err = F_double_integral(a, variant)
    elif kind == "B":
        _, case, T, which, dps, variant = task
        mp.dps = dps
        val, err = nems_double_integral(case, T, which, variant)
    else:
        raise ValueError(kind)
    return task, mp.nstr(val, dps), mp.nstr(err, 5), time.time() - t0


def run_tasks(tasks, procs, label):
    """Run tasks (in a pool if procs > 1); return {task: (val, err)} as mpf strings."""
    out = {}
    t0 = time.time()
    n = len(tasks)
    if procs > 1:
        pool = Pool(procs)
        it = pool.imap_unordered(run_task, tasks)
    else:
        pool = None
        it = map(run_task, tasks)
    try:
        for i, (task, val, err, secs) in enumerate(it, 1):
            out[task] = (val, err)
            print(f"[{label} {i:3d}/{n}] {task}: {val[:22]} "
                  f"(err {err}) {secs:6.1f}s, elapsed {time.time() - t0:7.1f}s",
                  flush=True)
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    return out


# Helpers --------------------------------------------------------------------
def s25(x):
    """25-significant-digit string of an mpf."""
    return mp.nstr(mp.mpf(x), 25)


def rel(x, y):
    x, y = mp.mpf(x), mp.mpf(y)
    return abs(x - y) / abs(y)


def base_meta(dps, extra):
    meta = {
        "generator": SCRIPT_REL,
        "mpmath_version": mpmath.__version__,
        "mpmath_backend": mpmath.libmp.BACKEND,
        "numpy_version": np.__version__,
        "scipy_version": scipy.__version__,
        "python_version": sys.version.split()[0],
        "dps": dps,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"),
        "constants": {
            "source": "scipy.constants (CODATA), converted with "
                      "mp.mpf(repr(value))",
            "hbar": repr(sc.hbar), "k_B": repr(sc.k), "h": repr(sc.h),
            "e": repr(sc.e),
        },
    }
    meta.update(extra)
    return meta


def write_json(name, obj):
    os.makedirs(DATA_DIR, exist_ok=True)
    path = os.path.join(DATA_DIR, name)
    with open(path, "w") as fh:
        json.dump(obj, fh, indent=1)
        fh.write("\n")
    print(f"wrote {path}", flush=True)


# Part A ---------------------------------------------------------------------
def large_a_expansion(a, nterms=5):
    r"""Asymptotic expansion of F(a) for large a (sanity check only).

    Expanding the Lorentzian, :math:`\omega\tau/(1+\omega^2\tau^2) =
    \sum_k (-1)^k (\omega\tau)^{-(2k+1)}`, and
    :math:`(\omega\tau)^{-1} = u\coth(u/2)(1-v^2)/a`, gives
    :math:`F(a) \sim \sum_k (-1)^k m_k c_k / a^{2k+1}` with the elementary
    moments :math:`m_k = \int_0^1 v^2 (1-v^2)^{2k} dv` (exact rationals) and
    :math:`c_k = \int_0^\infty \mathrm{sech}^2(u/2) (u\coth(u/2))^{2k+1} du`
    (1-D quadrature).  Asymptotic only (valid while u coth(u/2) << a over
    the support of sech^2).
    """
    a = mp.mpf(a)
    key = (mp.prec, nterms)
    if key not in _LARGE_A_MOMENTS:
        mom = []
        for k in range(nterms):
            # m_k = int_0^1 v^2 (1 - v^2)^(2k) dv = sum_j C(2k, j)(-1)^j/(2j+3)
            m_k = mp.fsum(mp.binomial(2 * k, j) * (-1) ** j
                          / mp.mpf(2 * j + 3) for j in range(2 * k + 1))
            c_k = mp.quad(lambda u: mp.sech(u / 2) ** 2
                          * (u * mp.coth(u / 2)) ** (2 * k + 1),
                          [0, 1, 10, 40, 100, 250])
            mom.append(m_k * c_k)
        _LARGE_A_MOMENTS[key] = mom
    return mp.fsum((-1) ** k * mk_ck / a ** (2 * k + 1)
                   for k, mk_ck in enumerate(_LARGE_A_MOMENTS[key]))


_LARGE_A_MOMENTS = {}


def part_A(procs):
    t_start = time.time()
    mp.dps = DPS
    tasks = [("A", a, DPS, 0) for a in A_VALUES]
    checks = [("A", a, CHECK_DPS, 1) for a in A_CHECK]
    res = run_tasks(tasks + checks, procs, "A")
    mp.dps = CHECK_DPS
    F = {a: (mp.mpf(res[("A", a, DPS, 0)][0]), mp.mpf(res[("A", a, DPS, 0)][1]))
         for a in A_VALUES}
    self_check = max(rel(F[a][0], res[("A", a, CHECK_DPS, 1)][0])
                     for a in A_CHECK)
    print(f"A self-check max rel diff (dps {CHECK_DPS}, other breakpoints): "
          f"{mp.nstr(self_check, 3)}")

    # sanity: small-a limit pi/2 (F(a) = pi/2 - O(a ln(1/a)))
    halfpi = mp.pi / 2
    dev_small = rel(F[1e-8][0], halfpi)
    print(f"F(1e-8)/(pi/2) - 1 = {mp.nstr(F[1e-8][0] / halfpi - 1, 5)}")
    assert F[1e-8][0] < halfpi and dev_small < 1e-6, dev_small
    # sanity: monotone decreasing
    vals = [F[a][0] for a in A_VALUES]
    assert all(x > y for x, y in zip(vals[:-1], vals[1:]))
    # sanity: large-a limit pi^2/(6a) and its asymptotic expansion
    dev_large = rel(F[1e8][0], mp.pi ** 2 / (6 * mp.mpf(1e8)))
    print(f"F(1e8)*6a/pi^2 - 1 = {mp.nstr(F[1e8][0] * 6 * mp.mpf(1e8) / mp.pi**2 - 1, 5)}")
    assert dev_large < 1e-14, dev_large
    asym_dev = mp.zero
    for a in A_VALUES:
        if a >= 1e3:
            d = rel(F[a][0], large_a_expansion(a))
            print(f"  a = {a:8.3g}: rel diff to large-a expansion {mp.nstr(d, 3)}")
            asym_dev = max(asym_dev, d)
    assert asym_dev < 1e-15, asym_dev

    mp.dps = DPS
    out = {
        "meta": base_meta(DPS, {
            "quantity": "F(a) = int_0^inf du int_0^1 dv v^2/(1-v^2) "
                        "sech^2(u/2) wt/(1+wt^2), wt = a/(u (1-v^2) coth(u/2))",
            "method": METHOD,
            "u_cutoff": LAYOUTS[0]["u_max"],
            "breakpoint_layouts": {"production": LAYOUTS[0],
                                   "self_check": LAYOUTS[1]},
            "processes": procs,
            "part_run_time_s": round(time.time() - t_start, 1),
            "self_check": {
                "description": "max relative difference to a recomputation at "
                               f"dps={CHECK_DPS} with different v and u "
                               f"breakpoints and u cut-off {LAYOUTS[1]['u_max']}",
                "points_a": A_CHECK,
                "max_rel_diff": float(self_check),
            },
            "sanity": {
                "rel_dev_F(1e-8)_from_pi/2": float(dev_small),
                "rel_dev_F(1e8)_from_pi^2/(6a)": float(dev_large),
                "max_rel_dev_from_large_a_expansion_a>=1e3": float(asym_dev),
            },
        }),
        "a": list(A_VALUES),
        "a_repr": [repr(a) for a in A_VALUES],
        "F": [float(F[a][0]) for a in A_VALUES],
        "F_str": [s25(F[a][0]) for a in A_VALUES],
        "F_err": [float(F[a][1]) for a in A_VALUES],
    }
    write_json("ref_nems_F.json", out)
    return float(self_check)


# Part B ---------------------------------------------------------------------
def low_T_law(case, T):
    r"""Leading low-T S-state damping (sanity check only).

    For slow rates, :math:`\omega\tau \gg 1`, the Lorentzian factor is
    :math:`1/(\omega\tau)` and
    :math:`\Gamma_S \approx C\,A_{ph}(k_BT)^n/3 \int_0^\infty
    \mathrm{sech}^2(u/2)\coth(u/2)\,u^n du
    = C\,A_{ph}(k_BT)^n \cdot 4(1-2^{-n-1})\Gamma(n+1)\zeta(n+1)/3`.
    """
    p = nems_case(case)
    n = p["n_ph"]
    moment = 4 * (1 - mp.mpf(2) ** (-n - 1)) * mp.gamma(n + 1) * mp.zeta(n + 1)
    return p["C"] * p["A_ph"] * (p["k_B"] * mp.mpf(T)) ** n * moment / 3


def part_B(procs):
    t_start = time.time()
    mp.dps = DPS
    tasks, checks = [], []
    for case in NEMS_CASES:
        whichs = ["ph"] if case.startswith("S_") else ["ph", "mix"]
        for w in whichs:
            tasks += [("B", case, T, w, DPS, 0) for T in T_NEMS]
            checks += [("B", case, T_NEMS[i], w, CHECK_DPS, 1)
                       for i in T_NEMS_CHECK_IDX]
    # consistency of the two integrand codings: S_n1 at 1 K against F(a)
    T1 = T_NEMS[12]
    assert T1 == 1.0
    p1 = nems_case("S_n1")
    a1 = float(p1["omega"] / (p1["A_ph"] * p1["k_B"] * mp.mpf(T1)))
    cross = [("A", a1, DPS, 0)]
    res = run_tasks(tasks + checks + cross, procs, "B")

    mp.dps = CHECK_DPS
    self_check = mp.zero
    for t in checks:
        t0 = t[:4] + (DPS, 0)
        self_check = max(self_check, rel(res[t0][0], res[t][0]))
    print(f"B self-check max rel diff (dps {CHECK_DPS}, other breakpoints): "
          f"{mp.nstr(self_check, 3)}")

    mp.dps = DPS
    cases_out = {}
    sanity = {}
    for case in NEMS_CASES:
        p = nems_case(case)
        Comega = p["C"] * p["omega"]
        g_ph, e_ph, g_mix, e_mix, gam, gerr = [], [], [], [], [], []
        for T in T_NEMS:
            v_ph = mp.mpf(res[("B", case, T, "ph", DPS, 0)][0]) * Comega
            err_ph = mp.mpf(res[("B", case, T, "ph", DPS, 0)][1]) * Comega
            g_ph.append(v_ph)
            e_ph.append(err_ph)
            if case.startswith("S_"):
                gam.append(v_ph)
                gerr.append(err_ph)
            else:
                v_mx = mp.mpf(res[("B", case, T, "mix", DPS, 0)][0]) * Comega
                err_mx = mp.mpf(res[("B", case, T, "mix", DPS, 0)][1]) * Comega
                g_mix.append(v_mx)
                e_mix.append(err_mx)
                gam.append((1 - p["x"]) * v_ph + p["x"] * v_mx)
                gerr.append((1 - p["x"]) * err_ph + p["x"] * err_mx)
        # sanity: below the high-T plateau pi C omega / 2, increasing in T
        plateau = mp.pi * Comega / 2
        assert all(0 < g < plateau for g in gam)
        assert all(x < y for x, y in zip(gam[:-1], gam[1:]))
        if case.startswith("S_"):
            d = rel(gam[0], low_T_law(case, T_NEMS[0]))
            print(f"  {case}: Gamma_S(1 mK) vs low-T law: rel diff {mp.nstr(d, 3)}")
            assert d < 1e-4, d
            sanity[f"{case}_rel_dev_1mK_from_low_T_law"] = float(d)
        entry = {
            "n_ph": float(p["n_ph"]),
            "A_ph": float(p["A_ph"]), "A_ph_str": s25(p["A_ph"]),
            "A_el": float(p["A_el"]), "A_el_str": s25(p["A_el"]),
            "x": float(p["x"]),
            "omega": float(p["omega"]), "omega_str": s25(p["omega"]),
            "C": float(p["C"]),
            "T": list(T_NEMS),
            "T_repr": [repr(T) for T in T_NEMS],
            "Gamma": [float(g) for g in gam],
            "Gamma_str": [s25(g) for g in gam],
            "Gamma_err": [float(e) for e in gerr],
            "Gamma_ph": [float(g) for g in g_ph],
            "Gamma_ph_str": [s25(g) for g in g_ph],
            "Gamma_ph_err": [float(e) for e in e_ph],
        }
        if g_mix:
            entry.update({
                "Gamma_mix": [float(g) for g in g_mix],
                "Gamma_mix_str": [s25(g) for g in g_mix],
                "Gamma_mix_err": [float(e) for e in e_mix],
            })
        cases_out[case] = entry

    # sanity: S_n1 (physical units) against F(a) (dimensionless coding)
    d_cross = rel(res[("B", "S_n1", T1, "ph", DPS, 0)][0],
                  res[("A", a1, DPS, 0)][0])
    print(f"  S_n1 at 1 K vs F(a={a1!r}): rel diff {mp.nstr(d_cross, 3)}")
    # a1 is rounded to float64: allow the resulting ~1e-16 shift
    assert d_cross < 1e-14, d_cross
    sanity["S_n1_1K_vs_F(a)_rel_diff"] = float(d_cross)

    out = {
        "meta": base_meta(DPS, {
            "quantity": "NEMS damping Gamma [s^-1], Maillet et al. PRB 107, "
                        "064104 (2023) Eq. 2 with literal rates; Gamma_S = "
                        "Gamma[tau_ph]; Gamma_N = (1-x) Gamma[tau_ph] + "
                        "x Gamma[(1/tau_ph + 1/tau_el)^-1]",
            "rates": "1/tau_ph = A_ph (1-v^2) eps^n coth(u/2); "
                     "1/tau_el = A_el eps (1-v^2) coth(u/2); eps = u k_B T",
            "method": METHOD,
            "u_cutoff": LAYOUTS[0]["u_max"],
            "breakpoint_layouts": {"production": LAYOUTS[0],
                                   "self_check": LAYOUTS[1]},
            "processes": procs,
            "part_run_time_s": round(time.time() - t_start, 1),
            "beam_parameters": dict(BEAM, omega="2*pi*f_mode",
                                    A_ph_n1="gamma^2/(hbar^2 rho e w c_l^3), "
                                            "gamma in J = gamma_eV * e",
                                    A_ph_n1p5_n3="omega/(k_B * 0.3 K)^n",
                                    A_el="4 pi K / hbar"),
            "fields": "Gamma = total (S or N), Gamma_ph = Gamma[tau_ph], "
                      "Gamma_mix = Gamma[(1/tau_ph+1/tau_el)^-1] (N only); "
                      "*_err = mpmath error estimate (outer + 2*max inner + "
                      "u-tail bound)",
            "self_check": {
                "description": "max relative difference to a recomputation at "
                               f"dps={CHECK_DPS} with different v and u "
                               f"breakpoints and u cut-off {LAYOUTS[1]['u_max']}, for "
                               "every case and integral at T = "
                               + ", ".join(repr(T_NEMS[i])
                                           for i in T_NEMS_CHECK_IDX) + " K",
                "max_rel_diff": float(self_check),
            },
            "sanity": sanity,
        }),
        "cases": cases_out,
    }
    write_json("ref_nems_damping.json", out)
    return float(self_check)


# Part C ---------------------------------------------------------------------
def shift_bracket(f0, T):
    """s(T) = (Re psi(1/2 + i y) - ln y)/pi, y = h f0/(2 pi k_B T)."""
    c = constants()
    y = c["h"] * mp.mpf(f0) / (2 * mp.pi * c["k_B"] * mp.mpf(T))
    val = (mp.re(mp.digamma(mp.mpf(1) / 2 + mp.j * y)) - mp.log(y)) / mp.pi
    return val, y


def part_C():
    t0 = time.time()
    series, self_check = [], mp.zero
    asym_large, asym_small = mp.zero, mp.zero
    for f0 in F0_SHIFT:
        mp.dps = SHIFT_DPS
        vals, ys = [], []
        for T in T_SHIFT:
            v, y = shift_bracket(f0, T)
            vals.append(v)
            ys.append(y)
            # sanity: large-y series -(1/pi) sum (1-2^(1-2k))|B_2k|/(2k y^2k)
            if y > 40:
                ser = -mp.fsum((1 - mp.mpf(2) ** (1 - 2 * k))
                               * abs(mp.bernoulli(2 * k)) / (2 * k * y ** (2 * k))
                               for k in range(1, 8)) / mp.pi
                asym_large = max(asym_large, rel(v, ser))
            # sanity: small-y Taylor series of Re psi(1/2 + i y):
            # psi(1/2) + sum_k (-1)^(k+1) (2^(2k+1) - 1) zeta(2k+1) y^(2k)
            if y < 1e-3:
                ser = (mp.digamma(mp.mpf(1) / 2)
                       + mp.fsum((-1) ** (k + 1) * (2 ** (2 * k + 1) - 1)
                                 * mp.zeta(2 * k + 1) * y ** (2 * k)
                                 for k in range(1, 7))
                       - mp.log(y)) / mp.pi
                asym_small = max(asym_small, rel(v, ser))
        mp.dps = SHIFT_DPS + 30
        for T, v in zip(T_SHIFT, vals):
            v2, _ = shift_bracket(f0, T)
            self_check = max(self_check, rel(v, v2))
        mp.dps = SHIFT_DPS
        series.append({
            "f0": f0,
            "T": list(T_SHIFT),
            "T_repr": [repr(T) for T in T_SHIFT],
            "y": [float(y) for y in ys],
            "s": [float(v) for v in vals],
            "s_str": [s25(v) for v in vals],
        })
    print(f"C self-check max rel diff (dps {SHIFT_DPS + 30}): "
          f"{mp.nstr(self_check, 3)}; large-y series {mp.nstr(asym_large, 3)}; "
          f"small-y series {mp.nstr(asym_small, 3)}")
    assert asym_large < 1e-14 and asym_small < 1e-14
    out = {
        "meta": base_meta(SHIFT_DPS, {
            "quantity": "s(T) = (1/pi) [Re psi(1/2 + i y) - ln y], "
                        "y = h f0/(2 pi k_B T); (f(T)-f0)/f0 = F delta0 * s(T)",
            "convention": "ln(h f0 / 2 pi k_B T): s -> 0 as T -> 0, so f0 = "
                          "f(T -> 0); s ~ -1/(24 pi y^2) < 0 at low T",
            "method": "mpmath.digamma (complex) at dps "
                      f"{SHIFT_DPS}; no quadrature",
            "self_check": {
                "description": "max relative difference to a recomputation "
                               f"at dps={SHIFT_DPS + 30}",
                "max_rel_diff": float(self_check),
            },
            "sanity": {
                "max_rel_dev_large_y_series_(y>40,7_terms)": float(asym_large),
                "max_rel_dev_small_y_series_(y<1e-3)": float(asym_small),
            },
        }),
        "series": series,
    }
    write_json("ref_shift.json", out)
    print(f"C done in {time.time() - t0:.1f}s")
    return float(self_check)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", choices=["A", "B", "C"], default=None,
                    help="generate only one of the three files")
    ap.add_argument("--procs", type=int, default=2,
                    help="worker processes for parts A and B (max 2)")
    args = ap.parse_args(argv)
    procs = max(1, min(2, args.procs))
    t0 = time.time()
    parts = [args.only] if args.only else ["C", "A", "B"]
    for part in parts:
        tp = time.time()
        if part == "A":
            part_A(procs)
        elif part == "B":
            part_B(procs)
        else:
            part_C()
        print(f"part {part}: {time.time() - tp:.1f}s", flush=True)
    print(f"total run time: {time.time() - t0:.1f}s "
          f"({(time.time() - t0) / 60:.1f} min)", flush=True)


if __name__ == "__main__":
    main()
