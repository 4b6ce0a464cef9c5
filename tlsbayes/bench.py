"""Speed benchmarks: tlsbayes kernels against the baselines a user would write, side by side.

Run ``tlsbayes bench`` (or ``python -m tlsbayes.bench``).  Every figure is the median wall
time of many repeats of one 40-point evaluation on one core, measured in the same process and
run, and reported as a ratio against its baseline.  Baselines:

* damping: ``scipy.integrate.dblquad`` of the literal Maillet Eq. 2 integrand (timed at a few
  temperatures and scaled to 40), and a vectorised numpy version (the literal integrand on a
  fixed u × v grid, summed with the trapezoidal rule);
* frequency shift: ``scipy.special.psi`` on complex arguments;
* Q-power: the same formula written with numpy.

Then every shipped card (``models/*.toml`` and ``models/real/*.toml``, or the cards given
with ``--cards``) fitted as ``tlsbayes fit`` would, phase by phase, against the
likelihood-only limit and emcee's own floor: see :mod:`tlsbayes.bench_fits`.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from pathlib import Path

import numpy as np

from . import physics as ph
from .physics import nems as _nems
from .physics import qpower as _qp
from .physics import shift as _shift
from .physics.constants import e as ELEMENTARY_CHARGE
from .physics.constants import k_B

# Maillet SiN beam (PRB 107, 064104 (2023)).
OMEGA = 2 * math.pi * 17.5e6
C_MAILLET = 4.3e-5
A_PH = ph.phonon_rate_prefactor_1d(9.8 * ELEMENTARY_CHARGE, 2900.0, 130e-9, 300e-9, 6000.0)
A_EL = ph.electron_rate_prefactor(0.07)
X_MAILLET = 0.17


def median_time(fn, *, min_time=0.2, repeats=7):
    """Median seconds per call of ``fn()`` over ``repeats`` batches lasting ~min_time each."""
    fn()
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        dt = time.perf_counter() - t0
        if dt >= min_time / repeats or n >= 1 << 24:
            break
        n *= 2
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        samples.append((time.perf_counter() - t0) / n)
    return statistics.median(samples)


def _literal_rate(u, v, T, n_ph, A_ph, A_el):
    """1/τ at (u, v) written literally from Maillet Eq. 3/4 (numpy, broadcasting)."""
    eps = u * k_B * T
    s = 1.0 - v * v
    coth = 1.0 / np.tanh(u / 2.0)
    return coth * s * (A_ph * eps ** n_ph + A_el * eps)


def damping_dblquad(T, n_ph=1.0, A_el=0.0, x=0.0):
    """Γ by scipy.integrate.dblquad of the literal integrand (the slow baseline)."""
    from scipy.integrate import dblquad

    def gamma(A_el_channel):
        def integrand(v, u):
            wt = OMEGA / _literal_rate(u, v, T, n_ph, A_PH, A_el_channel)
            return v * v / (1 - v * v) / math.cosh(u / 2) ** 2 * wt / (1 + wt * wt)

        val, _ = dblquad(integrand, 1e-12, 80.0, 0.0, 1.0, epsabs=1e-13, epsrel=1e-10)
        return C_MAILLET * OMEGA * val

    g = gamma(0.0)
    return g if x == 0 else (1 - x) * g + x * gamma(A_el)


def damping_numpy_grid(T, n_ph=1.0, A_el=0.0, x=0.0, nu=400, nv=400):
    """Γ from the literal integrand on a fixed (u, v) grid, vectorised over T (numpy)."""
    T = np.asarray(T, dtype=float)[:, None, None]
    u = np.geomspace(1e-6, 80.0, nu)[None, :, None]
    # v clustered at 1, where the Lorentzian in 1 - v² lives when rates are fast.
    v = (1.0 - np.geomspace(1e-12, 1.0, nv)[::-1])[None, None, :]

    def gamma(A_el_channel):
        wt = OMEGA / _literal_rate(u, v, T, n_ph, A_PH, A_el_channel)
        f = v * v / (1 - v * v) / np.cosh(u / 2) ** 2 * wt / (1 + wt * wt)
        inner = np.trapezoid(f, v.ravel(), axis=2)
        return C_MAILLET * OMEGA * np.trapezoid(inner, u.ravel(), axis=1)

    g = gamma(0.0)
    return g if x == 0 else (1 - x) * g + x * gamma(A_el)


def shift_scipy(T, f0, F_delta0):
    """Frequency shift with scipy.special.psi on complex arguments (the usual user code)."""
    from scipy.special import psi

    y = ph.constants.h * f0 / (2 * np.pi * k_B * T)
    return F_delta0 / np.pi * (psi(0.5 + 1j * y).real - np.log(y))


def inverse_q_numpy(T, f, E, delta0, delta_other, E_c, beta):
    return delta_other + delta0 * np.tanh(ph.constants.h * f / (2 * k_B * T)) / (
        1 + (E / E_c) ** 2) ** beta


def run(print_fn=print, quick=False):
    """Measure and print the kernel benchmark table; return the rows as dicts."""
    T_nems = np.geomspace(0.03, 10.0, 40)
    T_shift = np.linspace(0.24, 0.45, 40)
    E = np.geomspace(1.0, 1e4, 40)
    rows = []
    min_time = 0.05 if quick else 0.3

    def add(name, t_ours, t_base, base_name):
        rows.append({"kernel": name, "ours_s": t_ours, "baseline": base_name,
                     "baseline_s": t_base, "speedup": t_base / t_ours})

    # --- damping, n_ph = 1, normal state (two channels) -------------------------------
    t_pub = median_time(lambda: ph.nems_damping(T_nems, OMEGA, C_MAILLET, A_PH, A_el=A_EL,
                                                x=X_MAILLET), min_time=min_time)
    t_ker = median_time(lambda: _nems._nems_damping_1d(T_nems, OMEGA, C_MAILLET, A_PH, 1.0,
                                                       A_EL, X_MAILLET), min_time=min_time)
    n_dbl = 1 if quick else 3
    T_dbl = np.geomspace(0.05, 2.0, n_dbl)
    t0 = time.perf_counter()
    for T in T_dbl:
        damping_dblquad(T, A_el=A_EL, x=X_MAILLET)
    t_dbl = (time.perf_counter() - t0) / n_dbl * 40
    t_grid = median_time(lambda: damping_numpy_grid(T_nems, A_el=A_EL, x=X_MAILLET),
                         min_time=min_time, repeats=3)
    add("Gamma_N n_ph=1 (kernel)", t_ker, t_dbl, f"dblquad ({n_dbl} T, x40)")
    add("Gamma_N n_ph=1 (kernel)", t_ker, t_grid, "numpy 400x400 grid")
    add("Gamma_N n_ph=1 (public API)", t_pub, t_dbl, f"dblquad ({n_dbl} T, x40)")

    # --- damping, n_ph = 3/2 (the 1-D and 2-D tables) ------------------------------------
    A15 = OMEGA / (k_B * 0.3) ** 1.5
    t15 = median_time(lambda: _nems._nems_damping_1d(T_nems, OMEGA, C_MAILLET, A15, 1.5,
                                                     ph.electron_rate_prefactor(0.11), 0.12),
                      min_time=min_time, repeats=3)
    t15_grid = median_time(lambda: damping_numpy_grid(T_nems, 1.5, 0.0, 0.0),
                           min_time=min_time, repeats=3) * 2
    add("Gamma_N n_ph=3/2 (kernel)", t15, t15_grid, "numpy 400x400 grid")

    # --- frequency shift ------------------------------------------------------------
    t_sh_k = median_time(lambda: _shift._frequency_shift_1d(T_shift, 0.8e9, 1e-5),
                         min_time=min_time)
    t_sh_p = median_time(lambda: ph.tls_frequency_shift(T_shift, 0.8e9, 1e-5),
                         min_time=min_time)
    t_sh_s = median_time(lambda: shift_scipy(T_shift, 0.8e9, 1e-5), min_time=min_time)
    add("frequency shift (kernel)", t_sh_k, t_sh_s, "scipy.special.psi")
    add("frequency shift (public API)", t_sh_p, t_sh_s, "scipy.special.psi")

    # --- Q-power ----------------------------------------------------------------------
    Tq = np.full(40, 0.246)
    fq = np.full(40, 0.8e9)
    t_q = median_time(lambda: _qp._inverse_q_1d(Tq, fq, E, 9e-6, 1e-6, 3.4, 0.2, False),
                      min_time=min_time)
    t_qn = median_time(lambda: inverse_q_numpy(Tq, fq, E, 9e-6, 1e-6, 3.4, 0.2),
                       min_time=min_time)
    add("inverse Q (kernel)", t_q, t_qn, "numpy expression")

    print_fn("tlsbayes kernel benchmark: median time per 40-point evaluation, one core")
    print_fn(f"{'kernel':30s} {'tlsbayes':>12s}  {'baseline':28s} {'baseline':>12s} "
             f"{'speed-up':>10s}")
    for r in rows:
        print_fn(f"{r['kernel']:30s} {_fmt_time(r['ours_s']):>12s}  {r['baseline']:28s} "
                 f"{_fmt_time(r['baseline_s']):>12s} {r['speedup']:>10.3g}")
    return rows


def card_paths(paths=None) -> list[Path]:
    """Cards to time: the given files and directories (their ``*.toml``), default every
    shipped card (:func:`tlsbayes.bench_fits.shipped_cards`: ``models/*.toml`` and
    ``models/real/*.toml``; ``models/defrance2024`` is passed explicitly)."""
    from .bench_fits import shipped_cards

    if not paths:
        return shipped_cards()
    paths = [Path(p) for p in paths]
    out = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted(p.glob("*.toml")))
        elif p.is_file():
            out.append(p)
        else:
            raise FileNotFoundError(f"tlsbayes bench: no card or directory '{p}'")
    if not out:
        raise FileNotFoundError("tlsbayes bench: no *.toml card found in "
                                + ", ".join(f"'{p}'" for p in paths))
    return out


def run_fits(print_fn=print, cards=None, quick=False, engine=None):
    """Time every card of :func:`card_paths` phase by phase (:mod:`tlsbayes.bench_fits`);
    ``engine`` overrides the cards' sampler engine."""
    from . import bench_fits

    return bench_fits.run_fits(print_fn, card_paths(cards), quick=quick, engine=engine)


def _fmt_time(t):
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9)):
        if t >= scale:
            return f"{t / scale:.3g} {unit}"
    return f"{t / 1e-9:.3g} ns"


def main(argv=None):
    p = argparse.ArgumentParser(prog="tlsbayes bench", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="shorter timing runs")
    p.add_argument("--no-fits", action="store_true", help="kernels only, skip the fit timings")
    p.add_argument("--cards", nargs="+", metavar="PATH",
                   help="cards or directories of cards to time (default: models/*.toml "
                        "and models/real/*.toml)")
    args = p.parse_args(argv)
    run(quick=args.quick)
    if not args.no_fits:
        print()
        run_fits(cards=args.cards, quick=args.quick)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
