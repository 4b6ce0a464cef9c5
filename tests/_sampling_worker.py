"""Test helper for tests/test_sampling.py: a known Gaussian target and a checkpointed run.

Run as ``python tests/_sampling_worker.py CHECKPOINT`` it samples with a deliberately slow
log-probability so that the test can SIGKILL it between checkpoints.  The test imports the
same module for the target, so the subprocess and the in-process runs share one definition
(bit-identical chains need identical arithmetic).
"""

import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

if __name__ == "__main__":  # the test passes PYTHONPATH, this covers a manual run
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tlsbayes import sampling  # noqa: E402
from tlsbayes.sampling import convergence  # noqa: E402

NAMES = ("a", "b", "c")
MU = np.array([1.0, -2.0, 0.5])
SD = np.array([1.0, 2.0, 0.5])
CORR = np.array([[1.0, 0.8, -0.3],
                 [0.8, 1.0, 0.2],
                 [-0.3, 0.2, 1.0]])
PRECISION = np.linalg.inv(CORR * np.outer(SD, SD))
BOX = 50.0  # uniform prior |theta_i| < BOX: wide enough not to matter, but gives blobs


class Gaussian:
    """Vectorised correlated Gaussian returning (log_prob, log_prior, log_likelihood).

    Parameters
    ----------
    delay : float
        Seconds to sleep per call (makes a subprocess slow enough to be killed mid-run).
    interrupt_after : int, optional
        Raise KeyboardInterrupt on this call number (1-based), simulating Ctrl-C.
    """

    def __init__(self, delay=0.0, interrupt_after=None):
        self.delay = delay
        self.interrupt_after = interrupt_after
        self.calls = 0

    def __call__(self, theta):
        self.calls += 1
        if self.interrupt_after is not None and self.calls >= self.interrupt_after:
            raise KeyboardInterrupt
        if self.delay:
            time.sleep(self.delay)
        d = theta - MU
        # einsum, not BLAS: the result must not depend on thread count or memory alignment.
        log_like = -0.5 * np.einsum("ni,ij,nj->n", d, PRECISION, d)
        log_prior = np.where(np.all(np.abs(theta) < BOX, axis=1), 0.0, -np.inf)
        return log_prior + log_like, log_prior, log_like


# a checkpoint at every chunk (checkpoint_seconds=0): the kill tests count on it
KILL_SETTINGS = sampling.SamplerSettings(chunk=100, checkpoint_seconds=0, max_steps=1200,
                                         seed=11, progress=False)


def start(settings, target):
    """Initial walkers for ``settings`` around the mode (deterministic from the seed)."""
    rng = np.random.default_rng(settings.seed)
    return sampling.initial_ball(MU, settings.resolve_nwalkers(3), rng, target, 1e-2,
                                 names=NAMES)


def run_kill_job(checkpoint, *, delay=0.0, resume=False, **changes):
    """The job the kill tests interrupt; ``changes`` override fields of KILL_SETTINGS."""
    settings = dataclasses.replace(KILL_SETTINGS, **changes)
    target = Gaussian(delay=delay)
    return sampling.run(target, start(settings, target), settings,
                        checkpoint=checkpoint, names=NAMES, resume=resume)


def _never_converged(chain, tau_prev, settings, names, full=False):
    """Stand-in for the (comparatively slow) convergence check, so that checkpoint writes
    dominate the worker's time and random kills land inside them."""
    ones = np.ones(chain.shape[2])
    return convergence.Diagnosis(0, ones, ones, ones, 1, ("fast checks: never converged",))


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--delay", type=float, default=0.002)
    parser.add_argument("--chunk", type=int, default=KILL_SETTINGS.chunk)
    parser.add_argument("--max-steps", type=int, default=KILL_SETTINGS.max_steps)
    parser.add_argument("--fast-checks", action="store_true")
    args = parser.parse_args()
    if args.fast_checks:
        convergence.diagnose = _never_converged
    run_kill_job(args.checkpoint, delay=args.delay, chunk=args.chunk, max_steps=args.max_steps)
