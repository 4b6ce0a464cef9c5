"""The reference: one joint posterior of every member's parameters and the hyperparameters."""

from __future__ import annotations

import math

import numpy as np

from ..errors import TLSBayesError
from ..sampling import SamplerSettings, sample, support_bounds
from .members import LOG_SQRT_2PI, SCALES, clean_label, x_of, z_of

__all__ = ["JointPopulation"]


class JointPopulation:
    """Direct joint posterior of every member's parameters and the hyperparameters.

    ``p(θ_1..θ_N, Λ | d) ∝ π(Λ) Π_i L_i(θ_i) π_pop(z_i | Λ) π_i(other parameters of i)``:
    each member's own prior on the population parameter is replaced by the population
    density.  Exact, but its dimension grows with the number of resonators: the reference
    against which the two-stage result is checked on small populations.

    Parameters
    ----------
    posteriors : sequence of tlsbayes.inference.posterior.Posterior
    groups : sequence of str
        Group of each posterior.
    param : str
        The population parameter; free in every posterior.
    scale : {"log", "linear"}
    hyperpriors : PriorSet
        Same layout as :attr:`Population.priors`.
    noncentered : bool
        Sample ``η_i = (z_i − μ_g)/σ_g`` instead of ``z_i`` (then ``z_i = μ_g + σ_g η_i`` and
        ``η_i ~ N(0, 1)``).  The centred form has Neal's funnel between σ_g and the z_i when
        the members are weakly measured; the non-centred form removes it (Papaspiliopoulos,
        Roberts & Sköld 2007).  Both target the same posterior.

    Notes
    -----
    ``theta`` = every member's free parameters (its own sampling coordinates, with the
    population parameter replaced by ``η`` when non-centred), then the hyperparameters.
    """

    def __init__(self, posteriors, groups, *, param="delta0", scale="log", hyperpriors,
                 noncentered=False):
        self.posteriors = tuple(posteriors)
        self.groups_of = tuple(str(g) for g in groups)
        if len(self.groups_of) != len(self.posteriors):
            raise TLSBayesError("one group per posterior is needed")
        if scale not in SCALES:
            raise TLSBayesError(f"unknown population scale {scale!r}")
        self.param, self.scale, self.priors = param, scale, hyperpriors
        self.noncentered = bool(noncentered)
        self.groups = tuple(dict.fromkeys(self.groups_of))
        self.labels = tuple(clean_label(g) for g in self.groups)
        self._blocks = []
        pos = 0
        names = []
        for i, p in enumerate(self.posteriors):
            if param not in p.free_names:
                raise TLSBayesError(f"posterior {i}: {param!r} is not a free parameter")
            j = p.free_names.index(param)
            self._blocks.append((pos, pos + p.ndim, j, p.priors[param]))
            names += [(f"eta[{i}]" if (self.noncentered and n == param) else f"{n}[{i}]")
                      for n in p.free_names]
            pos += p.ndim
        self._hyper = pos
        self.free_names = tuple(names) + tuple(hyperpriors.free_names)
        self._gidx = [self.groups.index(g) for g in self.groups_of]

    @property
    def ndim(self):
        return len(self.free_names)

    def log_prob(self, theta):
        t = np.array(np.atleast_2d(theta), dtype=np.float64)
        n = t.shape[0]
        lprior = np.atleast_1d(np.asarray(self.priors.log_prob(t[:, self._hyper:]), float))
        p = self.priors.to_params(t[:, self._hyper:])
        llike = np.zeros(n)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            for post, (a, b, j, prior), g in zip(self.posteriors, self._blocks, self._gidx):
                lab = self.labels[g]
                mu = np.asarray(p[f"mu_{lab}"], float)
                sig = np.asarray(p[f"sigma_{lab}"], float)
                block = np.ascontiguousarray(t[:, a:b])
                if self.noncentered:
                    eta = block[:, j].copy()
                    x = x_of(mu + sig * eta, self.scale)
                    block[:, j] = prior.to_sampling(x)
                    lpop = -0.5 * eta * eta - LOG_SQRT_2PI
                _, lpr, lli = post.log_prob(block)
                s = block[:, j]
                own = np.asarray(prior.log_prob_sampling(s), dtype=float)
                if not self.noncentered:
                    x = np.asarray(prior.from_sampling(s), dtype=float)
                    u = (z_of(x, self.scale) - mu) / sig
                    lpop = -0.5 * u * u - np.log(sig) - LOG_SQRT_2PI
                    # density of z -> density of the member's sampling coordinate s
                    if self.scale == "log":
                        lpop = lpop - np.log(x)
                    if prior.transform == "log":
                        lpop = lpop + np.log(x)
                # outside the member's prior support (own = -inf) the point is impossible
                term = np.where(np.isfinite(own) & np.isfinite(lpr) & (sig > 0),
                                lpr - own + lpop, -np.inf)
                lprior = lprior + term
                llike = llike + np.where(np.isfinite(term), lli, 0.0)
        lprior = np.where(np.isnan(lprior), -np.inf, lprior)
        llike = np.where(np.isfinite(lprior), llike, -np.inf)
        lp = lprior + llike
        lp[np.isnan(lp)] = -np.inf
        return lp, lprior, llike

    def __call__(self, theta):
        return self.log_prob(theta)

    def hyper_samples(self, run):
        """``{name: draws}`` of the hyperparameters (physical) from a finished run."""
        th = run.samples().reshape(-1, self.ndim)[:, self._hyper:]
        pp = self.priors.to_params(th)
        return {n: np.asarray(pp[n], dtype=float) for n in self.priors.free_names}

    def bounds(self):
        """Support of every coordinate of ``theta`` (sampling coordinates; η is unbounded)."""
        out = []
        for p, (a, b, j, prior) in zip(self.posteriors, self._blocks):
            bl = support_bounds(p.priors)
            if self.noncentered:
                bl[j] = (-math.inf, math.inf)
            out += bl
        return out + support_bounds(self.priors)

    def sample(self, settings: SamplerSettings, starts, checkpoint=None, print_fn=print):
        """Sample the joint posterior from the given ``starts`` (MAP, ball, gated emcee)."""
        # the ball from a fresh stream of the seed, as fit_population does
        run = sample(self, settings, rng=np.random.default_rng(settings.seed), starts=starts,
                     support=self.bounds(), checkpoint=checkpoint).run
        print_fn(run.verdict)
        return run
