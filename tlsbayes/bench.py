"""Speed benchmarks: tlsbayes kernels against the baselines a user would write, side by side.

Run ``tlsbayes bench`` (or ``python -m tlsbayes.bench``).  Every figure is the median wall
time of many repeats of one 40-point evaluation on one core, measured in the same process and
run, and reported as a ratio against its baseline.  Baselines:

* damping: ``scipy.integrate.dblquad`` of the literal Maillet Eq. 2 integrand (timed at a few
  temperatures and scaled to 40), and a vectorised numpy version (the literal integrand on a
  fixed u × v grid, summed with the trapezoidal rule);
* frequency shift: ``scipy.special.psi`` on complex arguments;
* Q-power: the same formula written with numpy.

Then the wall time to a converged posterior for every shipped card of the papers
(``models/*.toml``, or the cards given with ``--cards``) against emcee's own floor: see
:func:`run_fits`.
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


#: The shipped cards of the two papers (simulated data at their values), in the repository.
PAPER_CARDS = Path(__file__).resolve().parents[1] / "models"


def card_paths(paths=None) -> list[Path]:
    """Cards to time: the given files and directories (their ``*.toml``), default every
    top-level card in ``models/`` (the papers' fits; ``models/defrance2024`` and the real-data
    cards are passed explicitly)."""
    paths = [PAPER_CARDS] if not paths else [Path(p) for p in paths]
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


def run_fits(print_fn=print, cards=None, repeats=3, slow_s=20.0):
    """Wall time to a converged posterior per card, against emcee's own floor.

    Each card is fitted as ``tlsbayes fit`` would (its priors, data and sampler settings: seed,
    moves, max_steps; MAP from ``map_starts`` prior draws, then the convergence-gated run,
    without writing files).  The floor is :func:`tlsbayes.sampling.sampler_floor`: the same
    walkers, dimension, moves and number of steps with a log-probability that costs nothing.
    The run and the floor are each timed ``repeats`` times (once if the first run takes more
    than ``slow_s`` seconds) and the medians reported, as for the kernels: the first run of a
    process also pays one-time costs (loading compiled diagnostics from the numba cache, the
    allocator's first growth of the heap), about 0.1-0.2 s, that later runs do not.
    """
    from . import card as tcard
    from .sampling import run as run_sampler
    from .sampling import sample, sampler_floor

    rows = []
    print_fn("time to a converged posterior, against emcee with a trivial log-probability "
             f"for the same steps (median of {repeats} runs)")
    print_fn(f"{'card':40s} {'ndim':>4s} {'steps':>6s} {'MAP s':>7s} {'sample s':>9s} "
             f"{'floor s':>8s} {'ratio':>6s} {'min ESS':>8s} {'ESS/s':>7s}  verdict")
    for path in card_paths(cards):
        card = tcard.load_card(path)
        post, _ = tcard.build_posterior(card)
        settings = tcard.sampler_settings(card, progress=False)
        first = sample(post, settings, rng=np.random.default_rng(settings.seed))
        t_map, r = first.map_seconds, first.run
        times = [first.run_seconds]
        for _ in range(repeats - 1):
            if times[0] > slow_s:
                break
            t0 = time.perf_counter()
            r = run_sampler(post.log_prob, first.p0, settings, names=post.free_names)
            times.append(time.perf_counter() - t0)
        nw = first.p0.shape[0]
        t_run = statistics.median(times)
        floor = statistics.median(
            sampler_floor(nw, post.ndim, r.steps, seed=settings.seed, moves=settings.moves)
            for _ in range(len(times)))
        ess = float(np.min(r.ess))
        rows.append({"card": str(path), "name": card.name, "ndim": post.ndim, "steps": r.steps,
                     "runs": len(times), "map_s": t_map, "sample_s": t_run,
                     "first_sample_s": times[0], "floor_s": floor, "ratio": t_run / floor,
                     "min_ess": ess, "ess_per_s": ess / (t_map + t_run),
                     "converged": r.converged})
        print_fn(f"{card.name:40s} {post.ndim:4d} {r.steps:6d} {t_map:7.2f} {t_run:9.2f} "
                 f"{floor:8.2f} {t_run / floor:6.2f} {ess:8.0f} {ess / (t_map + t_run):7.0f}  "
                 f"{'converged' if r.converged else 'NOT converged'}"
                 + ("" if len(times) == repeats else f" (1 run: {times[0]:.0f} s)"))
    return rows


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
                   help="cards or directories of cards to time (default: models/*.toml)")
    args = p.parse_args(argv)
    run(quick=args.quick)
    if not args.no_fits:
        print()
        run_fits(cards=args.cards)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
