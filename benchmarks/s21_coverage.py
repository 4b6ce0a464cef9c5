"""Calibration of the per-trace S21 posteriors: coverage of 68/95 % intervals on simulated traces.

Each trace is drawn with realistic parameters (1001 points; Q_i log-uniform 1e5-3e6, |Q_c|
log-uniform 5e4-1e6, mismatch φ in ±0.6 rad, amplitude 0.01-1 with a slope of up to 2 % across
the span, phase offset anywhere, cable delay 20-80 ns, span 5-20 linewidths, dip 10-300 times the
noise per point), then fitted by :func:`tlsbayes.s21.fit.fit_trace` (circle start, least
squares, sampling).  A central interval covers when it contains the truth; for calibrated
posteriors the fractions are 0.68 and 0.95 within their binomial error
``sqrt(p (1 - p) / n)``.  Also reported: CPU seconds per trace (start to converged
posterior) and the sampler's steps.

Usage::

    python benchmarks/s21_coverage.py --n 120 --seed 1 [--noise free]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from tlsbayes.physics import s21 as k
from tlsbayes.s21.fit import fit_trace
from tlsbayes.s21.readers import make_trace
from tlsbayes.s21.simulate import simulate_trace, theta_from_q

QUANTITIES = ("Qi", "Ql", "Qc", "f_r")


def draw_case(rng):
    qi = 10 ** rng.uniform(5, np.log10(3e6))
    qc = 10 ** rng.uniform(np.log10(5e4), 6)
    phi = rng.uniform(-0.6, 0.6)
    ql = 1 / (1 / qi + np.cos(phi) / qc)
    f0 = rng.uniform(4e9, 8e9)
    n_lw = rng.uniform(5, 20)
    half = 0.5 * n_lw * f0 / ql
    f = np.linspace(f0 - half, f0 + half, 1001)
    a = 10 ** rng.uniform(-2, 0)
    a1 = rng.uniform(-0.02, 0.02) * a / (2 * half)
    fr = f0 + rng.uniform(-1, 1) * f0 / ql
    theta = theta_from_q(fr, qi, qc, phi, a, a1, rng.uniform(-np.pi, np.pi),
                         rng.uniform(20e-9, 80e-9))
    snr = 10 ** rng.uniform(1, np.log10(300))
    sigma = a * (ql / qc) / snr
    return f, theta, sigma


def truth_values(theta):
    d = k.derived_q(theta)
    return {"Qi": float(d["Qi"]), "Ql": float(d["Ql"]), "Qc": float(d["Qc"]),
            "f_r": float(theta[k.I_FR])}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=120)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--noise", default="estimate", choices=("estimate", "free"))
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    hits = {q: {68: 0, 95: 0} for q in QUANTITIES}
    cpu, steps, n_ok, statuses = [], [], 0, {}
    t_wall = time.perf_counter()
    for i in range(args.n):
        f, theta, sigma = draw_case(rng)
        z = simulate_trace(f, theta, sigma, rng)
        tr = make_trace(f"sim{i}", f, z, -50.0, 0.01)
        res = fit_trace(tr, noise=args.noise, seed=i)
        statuses[res.status] = statuses.get(res.status, 0) + 1
        if res.samples is None:
            continue
        n_ok += 1
        cpu.append(res.values["cpu_seconds"])
        steps.append(res.values["steps"])
        d = k.derived_q(res.samples[:, : k.NPARAMS])
        draws = {"Qi": d["Qi"], "Ql": d["Ql"], "Qc": d["Qc"], "f_r": d["f_r"]}
        truth = truth_values(theta)
        for q in QUANTITIES:
            x = draws[q]
            if q == "Qi":  # quantiles through 1/Qi (Qi may be +inf at inv_Qi = 0)
                x = -1.0 / x
                t = -1.0 / truth[q]
            else:
                t = truth[q]
            for level, (lo, hi) in ((68, (16, 84)), (95, (2.5, 97.5))):
                a, b = np.percentile(x, [lo, hi])
                hits[q][level] += bool(a <= t <= b)
    out = {"n_traces": args.n, "n_sampled": n_ok, "status": statuses, "noise": args.noise,
           "coverage": {q: {str(lv): hits[q][lv] / max(n_ok, 1) for lv in (68, 95)}
                        for q in QUANTITIES},
           "binomial_sd": {"68": float(np.sqrt(0.68 * 0.32 / max(n_ok, 1))),
                           "95": float(np.sqrt(0.95 * 0.05 / max(n_ok, 1)))},
           "cpu_seconds_per_trace": {"median": float(np.median(cpu)) if cpu else None,
                                     "p90": float(np.percentile(cpu, 90)) if cpu else None},
           "steps": {"median": float(np.median(steps)) if steps else None},
           "wall_seconds": time.perf_counter() - t_wall}
    print(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    main()
