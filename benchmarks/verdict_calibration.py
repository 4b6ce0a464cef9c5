"""Calibration of the identification and misfit verdicts (tlsbayes.verdicts) on simulated data.

Usage: python benchmarks/verdict_calibration.py [--n 40] [--steps 3000] [--only CASE ...]

Every case simulates data with a known truth, fits it with a short convergence-capped emcee
run (MAP start, 32 walkers, differential-evolution moves, at most ``--steps`` steps) and records
the verdicts.  Qi(P) cases use a q_power model with ``saturation = "power"`` (P_c in W), the
priors of the shipped real Ta cards (P_c log-uniform 1e-20 to 1e-1 W, beta 0.05 to 1, free
noise scale) and 1 % Gaussian noise on 1/Qi at 25 powers, T = 20 mK, f = 5 GHz.

Cases
-----
knee      truth delta0 1e-5, delta_other 1e-6, P_c 1e-14 W (-110 dBm), beta 0.4; sweep -140 to
          -60 dBm, across the saturation knee: every TLS parameter should be identified.
above     the same, but P_c = 1e-17 W (-140 dBm) and a sweep from -100 to -40 dBm, entirely
          above the knee: P_c is not identified and delta0 inherits its prior.
nems_K    Maillet SiN beam, N state (x = 0.17, K = 0.6, C = 4.3e-5, gamma = 9.8 eV), 3 % noise at
          30 temperatures 30 mK to 10 K, K's default prior log-uniform 1e-3 to 1: K is not
          identified and piles at its bound 1.
two_beta  trend: two TLS populations (delta 6e-6, P_c 1e-16 W, beta 0.15 and delta 6e-6,
          P_c 1e-12 W, beta 0.9) plus delta_other 1e-6, fitted with one beta: misfit expected.
toy       exact Gaussian posterior of a straight line (25 points, sigma = 1, flat priors):
          5000 data sets from the model (false-alarm rate of the misfit verdict) and 500 each
          from parabolas of curvature 0.1 and 0.2 sigma per unit x^2 on x in [-5, 5] (power).

Measured (2 shared cores under a load of ~10; 2026-12-03)
---------------------------------------------------------
python benchmarks/verdict_calibration.py --laplace --n 100 --only toy knee two_beta  (~10 min)

* toy: misfit flagged on 0.98 % of 5000 data sets from the model (nominal <= 2 %: trend and
  scatter each at 1 %); power 46 % at curvature 0.1, 100 % at 0.2 (500 sets each).
* knee (Laplace draws): identification ``yes`` for delta0, delta_other, P_c, beta, noise_scale
  in 100/100 (width ratios <= 0.0011, 0.0021, 0.0032, 0.017, 0.057); misfit 0/100 (fitted
  residuals: p_runs < 0.5 in 17 %, p_r1 < 0.5 in 19 %: the trend checks are conservative).
* two_beta (Laplace draws): misfit 100/100 (runs test p < 0.05 in 99 %, lag-1 in 100 %); in
  1/100 the Laplace approximation itself failed (BFGS overflow; width ratio 3.5 for
  delta_other), which shows as delta_other/P_c ``no`` there.

python benchmarks/verdict_calibration.py --n 10 --steps 3000 --only above  (~4 min)

* above: P_c ``no`` in 8/10 (width ratio 0.38-0.42, edge mass 0.09-0.15), delta0 ``weak`` in
  the same 8; in 2/10 the posterior itself has a narrow knee inside the sweep (P_c width ratio
  0.06, unchanged with 8000 steps for the first of them): a spurious knee made by the noise.
  Misfit 0/10.

python benchmarks/verdict_calibration.py --n 5 --steps 2000 --only nems_K knee two_beta (~7 min)

* nems_K: K ``no`` in 5/5 (width ratio 0.49-0.66, edge mass 0.06-0.12); C, gamma, x ``yes``.
* knee (emcee): all ``yes`` 5/5, misfit 0/5; two_beta (emcee): misfit 5/5.

Model data in total: 0 of 115 Qi(P) and 5 NEMS fits flagged as misfit (nominal <= 2 %).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tlsbayes.inference import Dataset, Likelihood, Posterior, PriorSet  # noqa: E402
from tlsbayes.models import NemsDamping, QPower  # noqa: E402
from tlsbayes.sampling import SamplerSettings, initial_ball  # noqa: E402
from tlsbayes.sampling import run as run_sampler  # noqa: E402
from tlsbayes.verdicts import check_dataset, check_posterior, identify_posterior  # noqa: E402

QP_PRIORS = {
    "delta0": {"dist": "loguniform", "low": 1e-8, "high": 1e-2},
    "delta_other": {"dist": "loguniform", "low": 1e-10, "high": 1e-3},
    "P_c": {"dist": "loguniform", "low": 1e-20, "high": 1e-1, "unit": "W"},
    "beta": {"dist": "uniform", "low": 0.05, "high": 1.0},
    "noise_scale": {"dist": "loguniform", "low": 0.05, "high": 100.0},
}
QP_MODEL = QPower(T=0.02, f=5e9, saturation="power")
TLS = ("delta0", "delta_other", "P_c", "beta")


def dbm(p):
    return 1e-3 * 10.0 ** (np.asarray(p, dtype=float) / 10.0)


def qpower_data(truth, p_dbm, rng, *, second=None):
    """1/Qi at powers ``p_dbm`` with 1 % Gaussian noise; ``second`` adds a TLS population."""
    x = dbm(p_dbm)
    mu = QP_MODEL.predict(truth, x)
    if second is not None:
        mu = mu + QP_MODEL.predict({**second, "delta_other": 0.0}, x)
    sigma = 0.01 * mu
    return x, mu + sigma * rng.standard_normal(x.size), sigma


def qpower_posterior(x, y, sigma):
    ds = Dataset("qi", QP_MODEL, x, y, sigma, likelihood=Likelihood("gaussian_noise_scale"))
    return Posterior([ds], PriorSet.from_dict(QP_PRIORS))


def short_fit(post, truth, seed, steps):
    """Posterior draws (sampling coordinates, second half of a capped run) and convergence.

    The walkers start in a ball of relative radius 0.05 around the truth (not a MAP search:
    under 2 shared cores the MAP costs as much as the run, and the start does not change a
    mixed chain); the wide ball lets differential evolution spread along prior-dominated
    ridges within the step budget.
    """
    rng = np.random.default_rng(seed)
    names = post.free_names
    start = post.priors.from_params({n: truth[n] for n in names})
    settings = SamplerSettings(nwalkers=32, chunk=steps, max_steps=steps, moves="de",
                               seed=int(rng.integers(2 ** 31)), progress=False)
    p0 = initial_ball(start, 32, rng, post.log_prob, 0.05, names=names)
    run = run_sampler(post.log_prob, p0, settings, names=names)
    return run.chain[steps // 2:].reshape(-1, post.ndim), bool(run.converged)


def laplace_draws(post, truth, seed, n=2000):
    """Draws from the Laplace approximation (Gaussian at the MAP, in sampling coordinates).

    Used where the posterior is well identified and close to Gaussian in the sampling
    coordinates (the ``knee`` and ``two_beta`` sweeps): a fraction of the cost of a chain, so
    that 40+ data sets fit in a shared-core budget.  The MAP is found from the truth (or the
    given start) with Nelder-Mead then BFGS; the Hessian by central differences.
    """
    from scipy import optimize

    rng = np.random.default_rng(seed)
    x0 = post.priors.from_params({k: truth[k] for k in post.free_names})

    def nlp(th):
        v = post.log_prob(th)[0]
        return -v if np.isfinite(v) else 1e300

    r = optimize.minimize(nlp, x0, method="Nelder-Mead",
                          options={"maxiter": 4000, "xatol": 1e-7, "fatol": 1e-9})
    r = optimize.minimize(nlp, r.x, method="BFGS")
    m, k = r.x, len(r.x)
    h = 1e-4
    H = np.empty((k, k))
    for i in range(k):
        for j in range(i, k):
            e_i, e_j = np.eye(k)[i] * h, np.eye(k)[j] * h
            H[i, j] = H[j, i] = (nlp(m + e_i + e_j) - nlp(m + e_i - e_j)
                                 - nlp(m - e_i + e_j) + nlp(m - e_i - e_j)) / (4 * h * h)
    cov = np.linalg.inv(H)
    cov = 0.5 * (cov + cov.T)
    return rng.multivariate_normal(m, cov, size=n)


def verdicts_of(post, theta):
    draws = post.params(theta)
    ident = identify_posterior(post, {n: draws[n] for n in post.free_names})
    mis = check_posterior(post, theta)
    return ident, mis


def case_qpower(kind, n, steps, seed=0, laplace=False):
    """``knee``, ``above`` or ``two_beta``: per data set verdicts and measures.

    ``steps`` of emcee per data set, or (``laplace``) draws of :func:`laplace_draws`.
    """
    rows = []
    for i in range(n):
        rng = np.random.default_rng([seed, i, {"knee": 1, "above": 2, "two_beta": 3}[kind]])
        truth = {"delta0": 1e-5, "delta_other": 1e-6, "P_c": 1e-14, "beta": 0.4}
        second = None
        grid = np.linspace(-140, -60, 25)
        if kind == "above":
            truth["P_c"] = 1e-17
            grid = np.linspace(-100, -40, 25)
        elif kind == "two_beta":
            truth = {"delta0": 6e-6, "delta_other": 1e-6, "P_c": 1e-16, "beta": 0.15}
            second = {"delta0": 6e-6, "P_c": 1e-12, "beta": 0.9}
        x, y, sigma = qpower_data(truth, grid, rng, second=second)
        post = qpower_posterior(x, y, sigma)
        start = {**truth, "noise_scale": 1.0}
        if second is not None:  # one beta: start between the two populations
            start = {"delta0": 1.2e-5, "delta_other": 1e-6, "P_c": 1e-14, "beta": 0.4,
                     "noise_scale": 1.0}
        if laplace:
            theta, conv = laplace_draws(post, start, int(rng.integers(2 ** 31))), True
        else:
            theta, conv = short_fit(post, start, int(rng.integers(2 ** 31)), steps)
        ident, mis = verdicts_of(post, theta)
        rows.append(_row(ident, mis, conv))
        print(f"  {kind} {i}: {rows[-1]['verdict']} misfit {rows[-1]['misfit']}", flush=True)
    return rows


def case_nems(n, steps, seed=0):
    model = NemsDamping(omega=2 * np.pi * 17.5e6, state="N")
    truth = {"C": 4.3e-5, "gamma": 9.8, "n_ph": 1.0, "x": 0.17, "K": 0.6}
    pri = PriorSet.from_dict({
        "C": {"dist": "loguniform", "low": 1e-7, "high": 1e-3},
        "gamma": {"dist": "loguniform", "low": 0.1, "high": 100.0},
        "n_ph": {"dist": "fixed", "value": 1.0},
        "x": {"dist": "uniform", "low": 0.0, "high": 1.0},
        "K": {"dist": "loguniform", "low": 1e-3, "high": 1.0}})
    T = np.geomspace(0.03, 10.0, 30)
    rows = []
    for i in range(n):
        rng = np.random.default_rng([seed, i, 4])
        mu = model.predict(truth, T)
        sigma = 0.03 * mu
        y = mu + sigma * rng.standard_normal(T.size)
        post = Posterior([Dataset("N", model, T, y, sigma)], pri)
        theta, conv = short_fit(post, truth, int(rng.integers(2 ** 31)), steps)
        rows.append(_row(*verdicts_of(post, theta), conv))
        print(f"  nems {i}: {rows[-1]['verdict']} misfit {rows[-1]['misfit']}", flush=True)
    return rows


def _row(ident, mis, conv):
    return {"converged": conv,
            "verdict": {k: v.verdict for k, v in ident.items()},
            "width_ratio": {k: round(v.width_ratio, 4) for k, v in ident.items()},
            "edge_mass": {k: round(v.edge_mass, 4) for k, v in ident.items()},
            "reason": {k: v.reason for k, v in ident.items()},
            "misfit": [m.misfit for m in mis], "p_runs": [m.p_runs for m in mis],
            "p_r1": [m.p_r1 for m in mis], "p_discrepancy": [m.p_discrepancy for m in mis],
            "misfit_reason": [m.reason for m in mis]}


def toy_line(n_sets, curvature, seed=0, n=25, draws=400):
    """Misfit verdicts on a straight-line fit with its exact Gaussian posterior.

    Data ``y = 1 + 0.5 x + curvature x^2 + N(0, 1)`` on 25 points in [-5, 5]; the posterior of
    (a, b) under flat priors is N(beta_hat, (X^T X)^-1).
    """
    rng = np.random.default_rng([seed, 99])
    x = np.linspace(-5, 5, n)
    X = np.column_stack([np.ones(n), x])
    cov = np.linalg.inv(X.T @ X)
    L = np.linalg.cholesky(cov)
    flags = []
    for _ in range(n_sets):
        y = 1 + 0.5 * x + curvature * x ** 2 + rng.standard_normal(n)
        bhat = cov @ X.T @ y
        coef = bhat + rng.standard_normal((draws, 2)) @ L.T
        mu = coef @ X.T
        y_rep = mu + rng.standard_normal(mu.shape)
        dev_obs = np.sum((y - mu) ** 2, axis=1)
        dev_rep = np.sum((y_rep - mu) ** 2, axis=1)
        m = check_dataset("line", x, y, mu, np.ones(n), dev_obs, dev_rep, rng=rng)
        flags.append(m.misfit)
    return float(np.mean(flags))


def summarise(name, rows):
    n = len(rows)
    out = {"n": n, "converged": sum(r["converged"] for r in rows),
           "misfit_rate": float(np.mean([any(r["misfit"]) for r in rows]))}
    for k in ("p_runs", "p_r1", "p_discrepancy"):
        v = np.array([r[k][0] for r in rows])
        out[f"{k}_below_0.05_0.5"] = [float(np.mean(v < 0.05)), float(np.mean(v < 0.5))]
    params = rows[0]["verdict"].keys()
    for p in params:
        v = [r["verdict"][p] for r in rows]
        out[p] = {k: v.count(k) for k in ("yes", "weak", "no")}
        w = [r["width_ratio"][p] for r in rows]
        e = [r["edge_mass"][p] for r in rows]
        out[p]["width_ratio_min_med_max"] = [min(w), float(np.median(w)), max(w)]
        out[p]["edge_mass_min_med_max"] = [min(e), float(np.median(e)), max(e)]
    print(f"{name}: {json.dumps(out)}", flush=True)
    print(f"  e.g. {json.dumps(rows[0]['reason'])}", flush=True)
    if any(rows[0]["misfit"]):
        print(f"  e.g. {rows[0]['misfit_reason']}", flush=True)
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=40)
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--only", nargs="*", default=None)
    p.add_argument("--laplace", action="store_true",
                   help="Laplace draws instead of emcee (knee, two_beta)")
    p.add_argument("--out", default=None, help="write the figures as JSON here")
    a = p.parse_args()
    res = {}
    todo = a.only or ["toy", "knee", "above", "two_beta", "nems_K"]
    for case in todo:
        t0 = time.perf_counter()
        if case == "toy":
            res["toy"] = {"false_alarm_rate_5000": toy_line(5000, 0.0),
                          "power_curv_0.1_500": toy_line(500, 0.1, seed=1),
                          "power_curv_0.2_500": toy_line(500, 0.2, seed=2)}
            print(f"toy: {json.dumps(res['toy'])}", flush=True)
        elif case == "nems_K":
            res[case] = summarise(case, case_nems(a.n, a.steps))
        else:
            res[case] = summarise(case, case_qpower(case, a.n, a.steps, laplace=a.laplace))
        print(f"  ({time.perf_counter() - t0:.0f} s)", flush=True)
    if a.out:
        Path(a.out).write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
