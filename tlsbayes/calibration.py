"""Simulation-based calibration (Talts et al. 2018): are the posteriors honest?

For each injection: draw θ* from the prior, simulate data from the likelihood at θ*, sample the
posterior, and record the rank of θ* among L posterior draws.  If the whole chain (model,
likelihood, priors, sampler) is right, every parameter's ranks are uniform on {0, ..., L}.
Uniformity is tested with a Kolmogorov-Smirnov test on the randomised ranks.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
from scipy import stats

from .inference.posterior import Dataset, Posterior
from .inference.prior_set import PriorSet
from .sampling import SamplerSettings, sample


@dataclass(frozen=True)
class SBCCase:
    """What to calibrate: a model on a fixed design, a prior, and the noise level.

    ``rel_noise`` sets the known σ of each point as a fraction of the true prediction
    (``abs_noise`` adds a constant floor in the unit of y).  ``moves``: the move set the case
    is about, whatever :func:`run_sbc` is asked for (None: the one asked for).
    """

    name: str
    model: object
    x: np.ndarray
    priors: PriorSet
    rel_noise: float = 0.01
    abs_noise: float = 0.0
    moves: str | None = None


@dataclass
class SBCResult:
    name: str
    names: tuple
    ranks: np.ndarray  # (n_injections, ndim), in 0..n_draws
    n_draws: int
    converged: np.ndarray  # (n_injections,) sampler verdicts at the step budget
    pvalues: dict

    def table(self) -> str:
        rows = [f"{self.name}: {len(self.ranks)} injections, {self.n_draws} draws each, "
                f"{int(self.converged.sum())} converged within the step budget"]
        for n in self.names:
            rows.append(f"  {n:12s} KS p = {self.pvalues[n]:.3f}")
        return "\n".join(rows)


def _one(args):
    case, i, seed, steps, n_draws, nwalkers, moves = args
    moves = case.moves or moves
    rng = np.random.default_rng([seed, i])
    pri = case.priors
    theta_true = pri.sample(1, rng)[0]
    truth = {k: float(np.asarray(v)) for k, v in pri.to_params(theta_true).items()}
    mu = case.model.predict(truth, case.x)
    sigma = case.rel_noise * np.abs(mu) + case.abs_noise
    y = mu + sigma * rng.standard_normal(mu.size)
    post = Posterior([Dataset(case.name, case.model, case.x, y, sigma)], pri)

    starts = pri.sample(4, rng)
    # The seed is drawn after the MAP starts and before the ball; the MAP search draws
    # nothing, so drawing it here keeps every injection's streams as they were.
    settings = SamplerSettings(nwalkers=nwalkers, chunk=max(steps // 4, 100), max_steps=steps,
                               target_ess=n_draws, seed=int(rng.integers(2 ** 31)),
                               ball_scale=1e-3, moves=moves, progress=False)
    run = sample(post, settings, rng=rng, starts=starts).run
    draws = run.chain[run.burn_in:].reshape(-1, pri.ndim)
    # Thin to n_draws roughly independent draws: ranks need independence, not just quantity.
    idx = np.linspace(0, draws.shape[0] - 1, n_draws).astype(int)
    sel = draws[rng.permutation(draws.shape[0])[idx]] if draws.shape[0] >= n_draws else draws
    ranks = (sel < theta_true[None, :]).sum(axis=0)
    return ranks, bool(run.converged)


def run_sbc(case: SBCCase, n_injections=100, *, steps=3000, n_draws=100, nwalkers=32, seed=0,
            workers=1, progress=False, moves="stretch") -> SBCResult:
    """Run simulation-based calibration for one case.

    Parameters
    ----------
    case : SBCCase
    n_injections : int
        Number of prior draws (>= 100 for a meaningful test).
    steps : int
        Sampler steps per injection (the burn-in rule of :mod:`tlsbayes.sampling` applies).
    n_draws : int
        Posterior draws L used for each rank (taken evenly across the post-burn-in chain after a
        random shuffle of walkers and steps).
    workers : int
        Processes (injections are independent).
    moves : str
        Sampler move set (:data:`tlsbayes.sampling.MOVES`), e.g. ``"de"`` to calibrate the
        DE move.
    """
    jobs = [(case, i, seed, steps, n_draws, nwalkers, moves) for i in range(n_injections)]
    if workers > 1:
        with ProcessPoolExecutor(workers) as ex:
            out = list(ex.map(_one, jobs, chunksize=1))
    else:
        out = [_one(j) for j in jobs]
    ranks = np.array([r for r, _ in out])
    conv = np.array([c for _, c in out])
    rng = np.random.default_rng(seed)
    pvals = {}
    for k, n in enumerate(case.priors.free_names):
        # Randomised ranks are exactly U(0, 1) under calibration, so KS applies.
        u = (ranks[:, k] + rng.uniform(size=len(ranks))) / (n_draws + 1)
        pvals[n] = float(stats.kstest(u, "uniform").pvalue)
    return SBCResult(case.name, case.priors.free_names, ranks, n_draws, conv, pvals)


def default_cases():
    """The calibration cases of the shipped model families, on the papers' designs.

    Priors are narrower than the cards' defaults (a decade or so around the papers' values)
    so that each injection is a realistic, informative experiment.
    """
    from . import simulate as sim
    from .models import FrequencyShift, NemsDamping, QPower

    A0, Qc = sim.defrance_geometry(809e6)
    cases = [
        SBCCase("q_power", QPower(T=0.246, f=809e6, saturation="power_self_consistent", Qc=Qc,
                                  A0=A0, d=sim.DEFRANCE_D),
                sim.dbm_to_watt(np.linspace(-150, -70, 25)),
                PriorSet.from_dict({
                    "delta0": {"dist": "loguniform", "low": 3e-6, "high": 3e-5},
                    "delta_other": {"dist": "loguniform", "low": 2e-7, "high": 3e-6},
                    "E_c": {"dist": "loguniform", "low": 1.0, "high": 20.0},
                    "beta": {"dist": "uniform", "low": 0.1, "high": 0.6}}),
                rel_noise=0.01),
        # Qi(P) of a Ta CPW resonator (models/real/ta_*_batch.toml) with P_c reaching far
        # below the lowest power: where it does, the posterior has the shelf the "de_jump"
        # set's saturation-ridge jumps are for; this case calibrates those jumps
        SBCCase("q_power_shelf", QPower(T=0.009, f=5.8e9, saturation="power"),
                sim.dbm_to_watt(np.linspace(-90, -30, 16)),
                PriorSet.from_dict({
                    "delta0": {"dist": "loguniform", "low": 3e-7, "high": 3e-6},
                    "delta_other": {"dist": "loguniform", "low": 1e-6, "high": 1e-5},
                    "P_c": {"dist": "loguniform", "low": 1e-17, "high": 1e-10},
                    "beta": {"dist": "uniform", "low": 0.1, "high": 0.6}}),
                rel_noise=0.01, moves="de_jump"),
        SBCCase("frequency_shift", FrequencyShift(), np.linspace(0.24, 0.45, 22),
                PriorSet.from_dict({
                    "f0": {"dist": "uniform", "low": 808.9e6, "high": 809.1e6},
                    "delta0": {"dist": "loguniform", "low": 2e-6, "high": 3e-5}}),
                rel_noise=0.0, abs_noise=20.0),
        SBCCase("nems_S", NemsDamping(omega=sim.MAILLET["omega"], state="S"),
                np.geomspace(0.03, 0.6, 20),
                PriorSet.from_dict({
                    "C": {"dist": "loguniform", "low": 1e-5, "high": 1e-4},
                    "gamma": {"dist": "loguniform", "low": 3.0, "high": 30.0},
                    "n_ph": {"dist": "fixed", "value": 1.0}}),
                rel_noise=0.03),
        SBCCase("nems_N", NemsDamping(omega=sim.MAILLET["omega"], state="N"),
                np.geomspace(0.03, 10.0, 25),
                PriorSet.from_dict({
                    "C": {"dist": "loguniform", "low": 1e-5, "high": 1e-4},
                    "gamma": {"dist": "loguniform", "low": 3.0, "high": 30.0},
                    "n_ph": {"dist": "fixed", "value": 1.0},
                    "x": {"dist": "uniform", "low": 0.0, "high": 1.0},
                    "K": {"dist": "loguniform", "low": 1e-3, "high": 1.0}}),
                rel_noise=0.03),
    ]
    return {c.name: c for c in cases}


__all__ = ["SBCCase", "SBCResult", "run_sbc", "default_cases"]
