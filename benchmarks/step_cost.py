"""CPU cost of a sampler step on real cards: emcee's own step against the card's log-probability.

For each card: the MAP search (CPU seconds of ``find_map``, numba cache warm, second call) and,
from a ball around the MAP, ``--steps`` emcee steps with the card's walkers and moves twice:
once with a log-probability that costs nothing (emcee's floor) and once with the card's
``Posterior.log_prob`` behind the adapter the sampler uses; each timed in CPU seconds (the
shared machine's wall times count other processes), the better of two repetitions.  Prints
the CPU per step of both, their ratio (the CPU version of ``tlsbayes bench``'s "x floor" for
the emcee engine) and the CPU of one half-ensemble ``log_prob`` call.

Run ``python benchmarks/step_cost.py CARD ...`` from a checkout; for an older checkout
side by side, ``PYTHONPATH=OLD python benchmarks/step_cost.py CARD ...`` from OLD.
``TLSBAYES_REAL_DATA`` must point at the shared real data.
"""

import argparse
import time

import numpy as np

from tlsbayes.fit import prepare_fit
from tlsbayes.sampling.start import find_map, initial_ball, support_bounds

_BLOBS = [("log_prior", np.float64), ("log_likelihood", np.float64)]


def _trivial(theta):
    lp = -0.5 * np.einsum("ij,ij->i", theta, theta)
    return [(v, 0.0, v) for v in lp]


def _cpu_steps(fn, p0, moves, steps):
    import emcee

    from tlsbayes.sampling.runner import build_moves

    nw, nd = p0.shape
    sampler = emcee.EnsembleSampler(nw, nd, fn, vectorize=True, moves=build_moves(moves),
                                    blobs_dtype=_BLOBS)
    t0 = time.process_time()
    sampler.run_mcmc(p0, steps, progress=False)
    return time.process_time() - t0, sampler


def measure(card, steps):
    from tlsbayes.sampling.logprob import LogProbAdapter

    _, post, _, settings = prepare_fit(card, progress=False)
    nw = settings.resolve_nwalkers(post.ndim)
    rng = np.random.default_rng(int(settings.seed or 0))
    starts = post.priors.sample(settings.map_starts, rng)
    support = support_bounds(post.priors)
    find_map(post.log_prob, starts, names=post.free_names, bounds=support)  # compile
    t0 = time.process_time()
    best = find_map(post.log_prob, starts, names=post.free_names, bounds=support)
    t_map = time.process_time() - t0
    p0 = initial_ball(best.theta, nw, rng, post.log_prob, settings.ball_scale,
                      names=post.free_names, support=support)
    adapter = LogProbAdapter(post.log_prob, ("log_prior", "log_likelihood"), post.free_names)
    _cpu_steps(adapter, p0, settings.moves, 50)
    floor, real = [], []
    for _ in range(2):
        floor.append(_cpu_steps(_trivial, np.random.default_rng(0).normal(size=p0.shape),
                                settings.moves, steps)[0])
        t, sampler = _cpu_steps(adapter, p0, settings.moves, steps)
        real.append(t)
    half = np.ascontiguousarray(sampler.get_chain()[-1][: nw // 2])
    t0 = time.process_time()
    for _ in range(400):
        post.log_prob(half)
    t_call = (time.process_time() - t0) / 400
    return {"map": t_map, "floor": min(floor) / steps, "real": min(real) / steps,
            "call": t_call, "nw": nw}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cards", nargs="+")
    ap.add_argument("--steps", type=int, default=1500)
    args = ap.parse_args()
    print(f"{'card':42s} {'MAP CPU s':>9s} {'floor us/step':>13s} {'card us/step':>12s} "
          f"{'x floor':>7s} {'log_prob(nw/2) us':>17s}")
    for card in args.cards:
        r = measure(card, args.steps)
        print(f"{card.rsplit('/', 1)[-1][:42]:42s} {r['map']:9.2f} {1e6 * r['floor']:13.0f} "
              f"{1e6 * r['real']:12.0f} {r['real'] / r['floor']:7.2f} {1e6 * r['call']:17.0f}",
              flush=True)


if __name__ == "__main__":
    main()
