"""The convergence gate of a sampling run.

Convergence rule (all conditions for every parameter)
-----------------------------------------------------
Checked at the steps of :func:`next_check`: every ``CHECK_GROWTH = 1.25`` times the previous
check (at least ``CHECK_MIN_GAP = 50`` steps later), and at every multiple of ``chunk`` while
the chain is shorter than ``CHUNK_CHECKS = 10`` chunks.  A run therefore stops at the first check
at or after the first step ``s`` at which the rule holds, at most ``max(1.25 s, s + 50)``
steps: within 1.5x of ``s`` whenever ``s >= 100`` (the length criterion alone needs ``50 tau``
post-burn-in steps).  A check reads the whole chain after burn-in (thinned, below), so the
checks of a run cost about 5x the last one (a geometric series) beyond 10 chunks; checking at
every chunk all the way (until 2026-12-03) made that quadratic in the length of a long run:
on a Ta curve of 100 000 steps (tau ~ 1800) 213 checks took 75 % of the sampling CPU.
Checkpoints are written between checks (:mod:`tlsbayes.sampling.runner`).  The cheap tau
criteria are evaluated first, the bulk ESS only when those pass and the split R-hat only when
the bulk ESS passes too (see :func:`diagnose`).
Every criterion reads every ``k``-th step of the post-burn-in chain (ending at its last step),
``k = floor(tau_prev / THIN_PER_TAU)`` with ``THIN_PER_TAU = 10``, at most a
``MIN_THINNED = 200``-th of the post-burn-in steps (:func:`check_thinning`; 1 without a previous
estimate or below 10): tau is ``k`` times the thinned chain's, the bulk ESS that of the thinned
draws (a few per cent below the whole chain's), the length criterion counts every step.
Let ``n`` be the number of steps so far and ``tau`` the integrated autocorrelation time.

* **Burn-in.**  ``min(n // 2, ceil(burn_factor * max(tau_prev)))`` steps, where ``tau_prev``
  is the estimate of the previous check (half the chain at the first check, which never
  passes: the burn-in needs a previous estimate); ``burn_factor = 5`` by default.  It is moved by one
  step where needed to leave an even number of steps (so that R-hat and ESS share one sort,
  :func:`tlsbayes.sampling.diagnostics.rank_diagnostics`).  The walkers start in a tiny ball
  at the MAP and the memory of that start decays roughly like ``exp(-t / tau)``; after 5 tau the
  residual bias is below 1 % of the initial offset, smaller than the Monte-Carlo error at the
  target ESS.  ``tau_prev`` comes from a chain at least 2/3 as long, so the burn-in is close
  to 5 of the final tau.  Never discarding more
  than half keeps the rule from chasing a noisy tau estimate; when the cap binds the
  chain-length test fails anyway.  ``tau`` is then estimated on the post-burn-in chain and used
  everywhere below.
* **tau stable** (only if ``settings.tau_rtol`` is set; off by default):
  ``|tau - tau_prev| / tau < tau_rtol``.  Not needed by default: once the chain is 50 tau
  long the estimate of tau is reliable to a few per cent (emcee's guidance), and the length,
  R-hat (early against late half of every walker block) and ESS tests must all hold on the
  same chain; the calibration of the whole rule is checked by ``benchmarks/sbc.py`` and
  ``tests/test_calibration.py``.  Waiting for tau to settle to 2 % ran the real Ta card to
  ~2.7x the steps the other criteria needed.
* **long enough**: post-burn-in steps ``>= tau_factor * max(tau)``.
* **split R-hat** (rank-normalised, :func:`tlsbayes.sampling.diagnostics.split_rhat`, equal to
  ArviZ's ``rhat(method="rank")``) ``< rhat_max``.  The walkers are cut into ``n_groups``
  blocks of consecutive walker indices; each block is one chain, its draws ordered step by
  step (all walkers of the block at step 1, then at step 2, ...).  Every chain is split in
  half *in time*, so the statistic compares early against late (non-stationarity) and block
  against block (walkers stuck in different modes).  Why blocks rather than one chain per
  walker: R-hat**2 is approximately ``1 + m / ESS`` for ``m`` split chains, so with 32
  walkers (64 split chains) R-hat < 1.01 would need ESS > 3000, whereas 4 blocks (8 split
  chains) reach 1.01 near ESS ~ 400, consistent with ``target_ess``.  Walkers left over when
  ``nwalkers`` is not a multiple of ``n_groups`` (at most ``n_groups - 1``) are left out of
  R-hat only.
* **ESS** ``>= target_ess``, taking the smaller of the bulk ESS (each walker one chain,
  which ignores the coupling between walkers of an ensemble sampler) and
  ``nwalkers * n_post / tau`` (emcee's estimate).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from .settings import SamplerSettings

__all__ = ["Diagnosis", "diagnose", "verdict", "next_check", "is_scheduled", "check_thinning",
           "thinned", "THIN_PER_TAU", "MIN_THINNED", "CHECK_GROWTH",
           "CHECK_MIN_GAP", "CHUNK_CHECKS"]

#: A check follows the previous one at this factor of its step count (see :func:`next_check`).
CHECK_GROWTH = 1.25
#: ... but at least this many steps later.
CHECK_MIN_GAP = 50
#: Below this many chunks of steps, a check also comes at every multiple of ``chunk``.
CHUNK_CHECKS = 10
#: A check reads every ``floor(tau_prev / THIN_PER_TAU)``-th step (see :func:`check_thinning`).
THIN_PER_TAU = 10
#: ... keeping at least this many draws per walker.
MIN_THINNED = 200


def next_check(steps: int, chunk: int, max_steps: int) -> int:
    """Step count of the convergence check that follows one at ``steps``.

    ``min(max(ceil(1.25 steps), steps + 50), max_steps)``, and no later than the next
    multiple of ``chunk`` while the chain is shorter than ``CHUNK_CHECKS * chunk`` steps:
    there a check costs little next to the chunk of steps it may save; beyond, checking at
    every chunk would make the checks quadratic in the run's length.  A function of the step
    count of the previous check only, so a run resumed from a checkpoint (which records the
    steps of every check made) checks at exactly the steps of the uninterrupted run.
    """
    grow = max(math.ceil(CHECK_GROWTH * steps), steps + CHECK_MIN_GAP)
    if steps < CHUNK_CHECKS * chunk:
        grow = min(grow, (steps // chunk + 1) * chunk)
    return int(min(grow, max_steps))


def check_thinning(tau_prev_max: float, n_post: int) -> int:
    """Every how many steps a check reads the chain of ``n_post`` post-burn-in steps:
    ``floor(tau_prev / THIN_PER_TAU)`` with ``tau_prev`` the previous check's largest tau, but
    at most ``n_post // MIN_THINNED`` and at least 1 (1 without a finite ``tau_prev``).

    Draws closer than a tenth of tau carry almost no information the others lack: for an
    AR(1) chain thinned by ``k = tau / 10`` the thinned tau times ``k`` equals tau to
    ``1 + (2k / tau)^2 / 12`` (0.3 %), and the bulk ESS of the thinned draws is a few per cent
    below the whole chain's (a conservative check).  The checks' FFTs and sorts then cost ``k``
    times less: on a Ta curve of 113 719 steps with tau ~ 1800 they took 6.9 of 21 s of
    sampling CPU, 0.08 s after.
    The cap keeps ``MIN_THINNED`` draws per walker where the previous tau is long next to the
    chain (a stuck walker), so that tau is still estimated rather than undefined.
    """
    if not math.isfinite(tau_prev_max):
        return 1
    return max(1, min(int(tau_prev_max // THIN_PER_TAU), n_post // MIN_THINNED))


def thinned(post: np.ndarray, k: int) -> np.ndarray:
    """Every ``k``-th step of ``post`` (nsteps, nwalkers, ndim) ending at its last step, an even
    number of them where more than one (R-hat and ESS then share one sort)."""
    if k <= 1:
        return post
    m = (post.shape[0] + k - 1) // k
    m -= m % 2 if m > 1 else 0
    return post[post.shape[0] - 1 - k * (m - 1)::k]


def is_scheduled(step: int, chunk: int) -> bool:
    """Whether ``step`` is on the check schedule of a run without a step cap; a check
    elsewhere was made because the cap was reached."""
    s = 0
    while s < step:
        s = next_check(s, chunk, step + CHECK_MIN_GAP)
    return s == step > 0


@dataclass(frozen=True)
class Diagnosis:
    """Outcome of one convergence check: burn-in (steps), tau, ESS, R-hat (each shape (ndim,)),
    suggested thinning, and the failed criteria (empty when converged)."""

    burn_in: int
    tau: np.ndarray
    ess: np.ndarray
    rhat: np.ndarray
    thin: int
    failures: tuple[str, ...]


def _fmt_params(names, idx, values, fmt) -> str:
    return ", ".join(f"'{names[i]}' ({format(values[i], fmt)})" for i in idx)


def diagnose(chain: np.ndarray, tau_prev, settings: SamplerSettings, names,
           full: bool = False) -> Diagnosis:
    """Evaluate the convergence criteria on ``chain`` (nsteps, nwalkers, ndim).

    The τ-based criteria (finite, stable, chain >= tau_factor τ, nwalkers·n/τ >= target ESS)
    cost one batched FFT; the rank-normalised R-hat and bulk ESS cost sorts of the whole chain.
    Unless ``full``, those are computed only once the cheap criteria pass, and R-hat only
    once the bulk ESS passes too: before that the run cannot be converged whatever they say,
    so every check decides exactly as if all were computed.  The last check before the step
    cap is ``full`` so that the verdict names every failed criterion.
    """
    # numba and scipy.fft: imported by the first check, not by every reader of verdict_headline
    from .diagnostics import ess_bulk, integrated_time, rank_diagnostics

    n, nwalkers, ndim = chain.shape
    size = nwalkers // settings.n_groups
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        # Early checks run on short chains where the estimators warn or return NaN; the
        # criteria below already refuse to declare convergence on them.
        warnings.simplefilter("ignore")
        # No previous estimate, or one that is not finite (a stuck parameter): burn half.
        tau_prev_max = (float(np.max(tau_prev))
                        if tau_prev is not None and np.all(np.isfinite(tau_prev)) else math.inf)
        burn = (int(min(n // 2, math.ceil(settings.burn_factor * tau_prev_max)))
                if math.isfinite(tau_prev_max) else n // 2)
        if (n - burn) % 2 and n > 1:
            # an even post-burn-in length lets R-hat and ESS share one sort (rank_diagnostics)
            burn += 1 if burn < n // 2 else -1
        post = chain[burn:]
        n_post = post.shape[0]
        k = check_thinning(tau_prev_max, n_post)
        draws = thinned(post, k)
        # the window reaches ~c tau (c = 5): lags up to twice that of the previous tau first
        tau = k * integrated_time(draws, max_lag=(int(10 * tau_prev_max / k) + 16
                                                  if math.isfinite(tau_prev_max) else None))
        ess_tau = nwalkers * n_post / tau
        tau_max_ = float(np.max(tau)) if np.all(np.isfinite(tau)) else math.inf
        stable = tau_prev is not None and (
            settings.tau_rtol is None or np.all(np.abs(tau - tau_prev) / tau < settings.tau_rtol))
        cheap_ok = (stable and np.all(np.isfinite(tau))
                    and n_post >= settings.tau_factor * tau_max_
                    and np.all(ess_tau >= settings.target_ess))
        run_ranks = full or cheap_ok
        ess_bulk_ = np.full(ndim, np.nan)
        rhat = np.full(ndim, np.nan)
        rhat_skipped = False
        if draws.shape[0] >= 4 and run_ranks:
            if size >= 1:
                # The bulk ESS first: where it fails (the tau criteria pass, so the ESS test is
                # the bulk ESS's) the check fails whatever R-hat says; R-hat is skipped then.
                floor = None if full else settings.target_ess
                ess_bulk_, rhat = rank_diagnostics(draws, settings.n_groups, ess_floor=floor)
                rhat_skipped = floor is not None and bool(np.any(ess_bulk_ < floor))
            else:
                ess_bulk_ = ess_bulk(draws.transpose(1, 0, 2))
    ess = np.fmin(ess_bulk_, ess_tau)  # fmin: a NaN from one estimator defers to the other

    failures = []
    if not np.all(np.isfinite(tau)):
        idx = np.flatnonzero(~np.isfinite(tau))
        failures.append("tau not finite for " + ", ".join(f"'{names[i]}'" for i in idx)
                        + " (parameter does not move?)")
    if tau_prev is None:
        failures.append("burn-in: no previous tau estimate yet (first check)")
    elif settings.tau_rtol is not None:
        change = np.abs(tau - tau_prev) / tau
        idx = np.flatnonzero(~(change < settings.tau_rtol))
        if idx.size:
            failures.append(
                f"tau not stable to {100 * settings.tau_rtol:g} %: changed since the last check "
                "by " + ", ".join(f"{100 * change[i]:.1f} % for '{names[i]}'" for i in idx))
    tau_max = float(np.max(tau)) if np.all(np.isfinite(tau)) else math.inf
    if not n_post >= settings.tau_factor * tau_max:
        i = int(np.nanargmax(np.where(np.isfinite(tau), tau, np.inf)))
        failures.append(
            f"chain too short: {n_post} post-burn-in steps < {settings.tau_factor:g} tau = "
            f"{settings.tau_factor * tau_max:.0f} steps (tau('{names[i]}') = {tau[i]:.1f})")
    idx = np.flatnonzero(~(rhat < settings.rhat_max))
    if not run_ranks:
        failures.append("split R-hat and bulk ESS not evaluated yet (the tau criteria fail)")
    elif rhat_skipped:
        failures.append("split R-hat not evaluated yet (the bulk ESS fails)")
    elif idx.size:
        failures.append(f"split R-hat >= {settings.rhat_max:g} for "
                        + _fmt_params(names, idx, rhat, ".4f"))
    idx = np.flatnonzero(~(ess >= settings.target_ess))
    if idx.size:
        failures.append(f"ESS < {settings.target_ess:g} for " + _fmt_params(names, idx, ess, ".0f"))

    tau_min = float(np.min(tau)) if np.all(np.isfinite(tau)) else 1.0
    thin = max(1, int(0.5 * tau_min))
    return Diagnosis(burn, tau, ess, rhat, thin, tuple(failures))


def verdict(diag: Diagnosis, steps: int, settings: SamplerSettings, names) -> str:
    if not diag.failures:
        i_tau, i_ess, i_rhat = np.argmax(diag.tau), np.argmin(diag.ess), np.argmax(diag.rhat)
        return (f"converged after {steps} steps (burn-in {diag.burn_in}): "
                f"max tau = {diag.tau[i_tau]:.1f} ('{names[i_tau]}'), "
                f"min ESS = {diag.ess[i_ess]:.0f} ('{names[i_ess]}'), "
                f"max R-hat = {diag.rhat[i_rhat]:.4f} ('{names[i_rhat]}')")
    return (f"NOT converged after {steps} steps (max_steps = {settings.max_steps}): "
            + "; ".join(diag.failures))


def verdict_headline(converged: bool, verdict_text: str) -> str:
    """The report's verdict line: :func:`verdict`'s sentence once, its first word in capitals
    when the chain did not converge ("converged after ..." / "NOT CONVERGED after ...")."""
    word = "converged" if converged else "NOT CONVERGED"
    if not verdict_text:
        return word + "."
    if converged and verdict_text.startswith("converged"):
        return verdict_text
    if not converged and verdict_text.startswith("NOT converged"):
        return "NOT CONVERGED" + verdict_text[len("NOT converged"):]
    return f"{word}. {verdict_text}"
