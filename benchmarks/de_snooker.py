"""Does the DE snooker pay for itself?  ESS per CPU second of the ``"de"`` move set with and
without snooker proposals, side by side on the same targets, starts and seeds.

Each variant runs a fixed number of steps from the same start (the MAP ball of the card);
the second half of the chain gives tau (:func:`tlsbayes.sampling.diagnostics.integrated_time`)
and the ESS ``nwalkers * n / tau`` of the worst parameter.  Reported: that ESS per 1000 steps
(mean over seeds), the CPU time per step (process time, less sensitive than wall time to other
processes on a shared machine) and their ratio, ESS per CPU second.  Targets: the real Ta card
(needs the shared real data, ``TLSBAYES_REAL_DATA``) and a 5-D banana (curved, correlated).

    python benchmarks/de_snooker.py --seeds 3 --snooker 0 0.1 0.2
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time
from pathlib import Path

import numpy as np

from tlsbayes import card as tcard
from tlsbayes.sampling import moves as tmoves
from tlsbayes.sampling import run, sample
from tlsbayes.sampling.diagnostics import integrated_time

ROOT = Path(__file__).resolve().parents[1]


def banana(theta):
    """5-D banana: x0 ~ N(0, 2^2), x1 | x0 ~ N(0.5 (x0^2 - 4), 1), x2.. ~ N(0, 1)."""
    b = theta[:, 1] - 0.5 * (theta[:, 0] ** 2 - 4.0)
    return -0.5 * ((theta[:, 0] / 2.0) ** 2 + b * b + np.sum(theta[:, 2:] ** 2, axis=1))


def targets():
    from tlsbayes.sampling import SamplerSettings

    card = tcard.load_card(ROOT / "models/real/ta_LGS1_5p70GHz_qpower.toml")
    post, _ = tcard.build_posterior(card)
    settings = tcard.sampler_settings(card, progress=False)
    first = sample(post, settings, rng=np.random.default_rng(settings.seed))
    yield "ta_LGS1_5p70GHz_qpower", post.log_prob, first.p0, settings
    p0 = np.random.default_rng(1).normal(scale=1e-3, size=(32, 5))
    yield "banana 5-D", banana, p0, SamplerSettings(moves="de", progress=False)


def step_costs(nwalkers=32, ndim=5, steps=2000, repeats=5):
    """CPU microseconds per step of each move set with a free log-probability (the floor),
    interleaved, median of ``repeats``: emcee's stretch, emcee's DE + snooker (the old "de"
    set), and :class:`tlsbayes.sampling.moves.DEMove` without and with snooker."""
    import emcee

    def trivial(theta):
        return -0.5 * np.einsum("ij,ij->i", theta, theta)

    sets = {"emcee stretch": lambda: emcee.moves.StretchMove(),
            "emcee DE 0.8 + snooker 0.2": lambda: [(emcee.moves.DEMove(), 0.8),
                                                   (emcee.moves.DESnookerMove(), 0.2)],
            "DEMove(snooker=0)": lambda: tmoves.DEMove(0.0),
            "DEMove(snooker=0.1)": lambda: tmoves.DEMove(0.1)}
    out = {k: [] for k in sets}
    p0 = np.random.default_rng(0).normal(size=(nwalkers, ndim))
    for _ in range(repeats):
        for name, make in sets.items():
            sampler = emcee.EnsembleSampler(nwalkers, ndim, trivial, vectorize=True,
                                            moves=make())
            c0 = time.process_time()
            sampler.run_mcmc(p0, steps, progress=False)
            out[name].append(1e6 * (time.process_time() - c0) / steps)
    return {k: statistics.median(v) for k, v in out.items()}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--snooker", type=float, nargs="+", default=[0.0, 0.1, 0.2])
    p.add_argument("--steps", type=int, nargs=2, default=[4000, 12000], metavar=("TA", "BANANA"))
    p.add_argument("--cost-only", action="store_true", help="only the per-step cost")
    args = p.parse_args(argv)
    print("CPU us per step, free log-probability, 32 walkers, 5 parameters (median of 5):")
    for name, us in step_costs().items():
        print(f"  {name:28s} {us:7.0f}")
    if args.cost_only:
        return 0
    print(f"{'target':24s} {'snooker':>7s} {'steps':>6s} {'ESS/1000 steps':>15s} "
          f"{'CPU ms/step':>12s} {'ESS/CPU s':>10s}")
    for (name, fn, p0, settings), steps in zip(targets(), args.steps):
        rows = {s: [] for s in args.snooker}
        for seed in range(args.seeds):
            for s in args.snooker:  # interleaved: the machine's load hits every variant alike
                tmoves.DE_SNOOKER = s
                fixed = dataclasses.replace(settings, seed=seed, max_steps=steps, chunk=steps,
                                            target_ess=1e12)
                c0 = time.process_time()
                r = run(fn, p0, fixed)
                cpu = time.process_time() - c0
                tau = integrated_time(r.chain[steps // 2:])
                ess = float(np.min(r.chain.shape[1] * (steps - steps // 2) / tau))
                rows[s].append((1000 * ess / (steps - steps // 2), 1000 * cpu / steps))
        for s, v in rows.items():
            ess_k, ms = (statistics.mean(c) for c in zip(*v))
            print(f"{name:24s} {s:7.2f} {steps:6d} {ess_k:15.1f} {ms:12.2f} "
                  f"{ess_k / ms:10.0f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
