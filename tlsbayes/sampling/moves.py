"""The emcee move sets a sampler setting may name, and tlsbayes' vectorised DE move.

A whitelist: settings name a move set, they never carry code or arbitrary class paths.
The ``"independence"`` set (:mod:`tlsbayes.sampling.independence`) also needs a proposal
``(mean, cov)`` from the caller (e.g. a least-squares optimum and its covariance), passed to
:func:`build_moves` by :func:`tlsbayes.sampling.runner.run`.

:class:`DEMove` is the differential-evolution move of the ``"de"`` set.  emcee's own
``DEMove`` and ``DESnookerMove`` accept or reject walker by walker in a Python loop, and the
snooker also builds its proposals in one and splits the ensemble in four (four log-probability
calls per step instead of two): per step the emcee ``"de"`` set cost 1.5-10x a stretch move.
This move draws every proposal and every acceptance of a half-ensemble in a few array
operations, so a step costs no more than a stretch step.  It follows emcee's ``Move`` protocol
(``propose(model, state) -> (state, accepted)``, ``tune``) without inheriting from it, so that
checking a setting does not import emcee (1-2 s); emcee stays the engine that calls it, and its
HDF5 backend the checkpoint.

The ``"de"`` set is ``[(DEMove(snooker=0), 1.0)]``: every step, each half of the ensemble (red-blue
split, :class:`_HalfEnsembleMove`) takes a DE proposal ``x + gamma0 (1 + 1e-5 N(0, 1)) (z1 - z2)``
with ``gamma0 = 2.38 / sqrt(2 ndim)`` and ``z1 != z2`` drawn uniformly from the other half.
Same algorithm as emcee's ``DEMove`` (pair selection, gamma, split and acceptance compared line by
line, and side by side on the Ta curve SGS1_4.90GHz H2A2_cooldown2: tau(P_c) 417/597 ours,
409/413 emcee's over the second half of 20 000 steps, seeds 0/1).

:class:`KDEMove` (independence proposals from a kernel density of the other half) is kept
available, tested, but in no set: on that Ta curve, whose P_c posterior has a flat shelf holding
~13 % of the mass from P_c ~ 1e-13 W down to the prior edge 1e-20 W (Laplace integration over a
grid of P_c), DE + KDE passed the gate in 2 500-7 000 steps with 0-0.6 % of the draws on the
shelf: a false convergence (the walkers had not found the shelf).  DE alone does not pass the
gate there in 60 000 steps (tau(P_c) ~ 2000), which is the honest answer
(``benchmarks/move_sets.py``).

The ``"de_jump"`` set is for such shelves: the same DE move, but a fifth of the walkers'
proposals (chosen by the uniform that picks snooker) are saturation-ridge jumps
(:func:`ridge_jump`): ln P_c drawn uniformly over its prior range, ln delta0 shifted so that
delta0 P_c^beta, all the data fix above saturation, stays.  On the Ta curve SGS1_5.68GHz of
cooldown 4 the gate stopped after 37 263 steps instead of 142 149, with the same quantiles
(the three Ta batch cards use it).  Where there is no shelf the jumps are mostly rejected and
some runs get longer: SGS1_4.49GHz of that batch 5000 -> 37 263 steps (DE's τ there still grew
with the chain, 149 / 190 / 452 at 10 000 / 20 000 / 40 000 steps), so ``"de"`` stays the
default.
The draws are DE's, so the compiled engines reproduce it bit for bit.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from ..errors import SamplingError

__all__ = ["MOVES", "NEEDS_PROPOSAL", "build_moves", "DEMove", "KDEMove", "require_walkers",
           "de_scale"]


class _HalfEnsembleMove:
    """emcee's red-blue scheme, vectorised: each half of the ensemble in turn is moved against
    the other (the complement, fixed while the half is updated, which keeps every update a valid
    Metropolis-Hastings step).  Subclasses draw a half's proposals in :meth:`half_proposal`."""

    def tune(self, state, accepted) -> None:
        """emcee's tuning hook: nothing is adapted (the move keeps no state between steps)."""

    def half_proposal(self, x, comp, random):
        """``(q, log_factor, log_u)`` for the walkers ``x`` (n, ndim) against ``comp`` (m, ndim):
        proposals, log Metropolis-Hastings corrections and log acceptance uniforms, each (n,)."""
        raise NotImplementedError

    def propose(self, model, state):
        """One step of every walker: each half of the ensemble in turn against the other.

        Parameters
        ----------
        model : emcee's model tuple
            Uses ``model.random`` (the sampler's seeded ``RandomState``) and
            ``model.compute_log_prob_fn``.
        state : emcee.State
            Updated in place (coordinates, log-probabilities, blobs of accepted walkers).

        Returns
        -------
        state : emcee.State
        accepted : ndarray of bool, shape (nwalkers,)
        """
        nwalkers, ndim = state.coords.shape
        require_walkers(type(self).__name__, nwalkers, ndim)
        random = model.random
        half = np.arange(nwalkers) % 2
        random.shuffle(half)
        accepted = np.zeros(nwalkers, dtype=bool)
        for split in (0, 1):
            inds = np.flatnonzero(half == split)
            q, log_factor, log_u = self.half_proposal(state.coords[inds],
                                                      state.coords[half != split], random)
            log_prob, blobs = model.compute_log_prob_fn(q)
            ok = log_factor + log_prob - state.log_prob[inds] > log_u
            moved = inds[ok]
            accepted[moved] = True
            state.coords[moved] = q[ok]
            state.log_prob[moved] = log_prob[ok]
            if blobs is not None:
                if state.blobs is None:
                    raise SamplingError(f"{type(self).__name__}: the log-probability returned "
                                        "blobs but the start state has none")
                state.blobs[moved] = blobs[ok]
        return state, accepted


class DEMove(_HalfEnsembleMove):
    """Differential evolution with an optional snooker update, vectorised over walkers.

    The ensemble is split at random in two halves (emcee's red-blue scheme); each walker ``x``
    of one half is moved using walkers of the other half (the complement, fixed while the half
    is updated, which keeps every update a valid Metropolis-Hastings step), then the halves
    swap.  Per walker, with probability ``snooker``, the proposal is

    * **snooker** (ter Braak & Vrugt 2008): pick three distinct complement walkers
      ``z, z1, z2``; with ``e = (x - z) / |x - z|``,
      ``x' = x + gamma_s (e . (z1 - z2)) e``, accepted with probability
      ``min(1, p(x') |x' - z|^(d-1) / (p(x) |x - z|^(d-1)))``;

    otherwise

    * **DE** (ter Braak 2006, Nelson et al. 2013): pick two distinct complement walkers
      ``z1, z2``; ``x' = x + gamma (z1 - z2)`` with ``gamma = gamma0 (1 + sigma N(0, 1))``,
      a symmetric proposal.

    Both kernels are reversible for the target given the complement, and the choice between
    them does not depend on ``x``, so the mixture is too.  emcee 3.1.6's ``DESnookerMove``
    normalises ``x - z`` by ``sqrt(|x - z|)`` instead of ``|x - z|`` and uses the exponent
    ``(d - 1) / 2``: its proposal is not the snooker's and it does not leave the target
    invariant (fixed upstream after 3.1.6, dfm/emcee#531); this move uses the published rule.

    Parameters
    ----------
    snooker : float
        Probability, per walker and step, of a snooker proposal (0 to 1).
    gamma0 : float, optional
        Mean DE scale; default ``2.38 / sqrt(2 ndim)``.
    sigma : float
        Relative spread of the DE scale (emcee's default 1e-5).
    gamma_snooker : float
        Snooker scale (1.7, as in the reference and emcee).

    References
    ----------
    C. J. F. ter Braak, Stat. Comput. 16, 239 (2006); C. J. F. ter Braak and J. A. Vrugt,
    Stat. Comput. 18, 435 (2008); B. Nelson et al., ApJS 210, 11 (2014).
    """

    def __init__(self, snooker: float = 0.0, gamma0: float | None = None, sigma: float = 1e-5,
                 gamma_snooker: float = 1.7, jump: float = 0.0, jump_axes=None):
        if not 0.0 <= snooker <= 1.0:
            raise SamplingError(f"DE move: snooker = {snooker} must be within [0, 1]")
        if not (0.0 <= jump <= 1.0 - snooker and (jump == 0.0 or jump_axes is not None)):
            raise SamplingError(f"DE move: jump = {jump} must be within [0, 1 - snooker] "
                                "and come with its axes")
        self.snooker, self.gamma0, self.sigma = float(snooker), gamma0, float(sigma)
        self.gamma_snooker = float(gamma_snooker)
        self.jump = float(jump)
        self.jump_axes = None if jump_axes is None else tuple(float(v) for v in jump_axes)

    def half_proposal(self, x, comp, random):
        """DE (and snooker) proposals of one half; see :meth:`get_proposal`."""
        # every draw of this half at once: three complement indices, the snooker choice and
        # the acceptance uniform (rows of u), the DE scale noise (g)
        u = random.random_sample((5, x.shape[0]))
        g = random.standard_normal(x.shape[0])
        q, log_factor = self.get_proposal(x, comp, u[:4], g)
        return q, log_factor, np.log(u[4])

    def get_proposal(self, x, comp, u, g):
        """Proposals for the walkers ``x`` (n, ndim) given the complement ``comp`` (m, ndim).

        Parameters
        ----------
        x : ndarray, shape (n, ndim)
        comp : ndarray, shape (m, ndim), m >= 3
        u : ndarray, shape (4, n)
            Uniforms on [0, 1): the three complement walkers (rows 0-2), snooker or not (3).
        g : ndarray, shape (n,)
            Standard normals (the DE scale noise).

        Returns
        -------
        q : ndarray, shape (n, ndim)
        log_factor : ndarray, shape (n,)
            Log of the Metropolis-Hastings correction (0 for DE, the snooker's Jacobian).
        """
        n, ndim = x.shape
        z, z1, z2 = comp[_three_distinct(comp.shape[0], u[:3])]
        d12 = z1 - z2
        g0 = de_scale(self.gamma0, ndim)
        q = x + (g0 * (1.0 + self.sigma * g))[:, None] * d12
        if self.snooker == 0 and self.jump == 0:
            return q, np.zeros(n)
        # Snooker along delta = x - z: x' = x + gamma_s (e . d12) e with e = delta / |delta|,
        # i.e. x' - z = (1 + t) delta with t = gamma_s (delta . d12) / |delta|^2, so the
        # Jacobian |x' - z|^(d-1) / |x - z|^(d-1) is |1 + t|^(d-1).  Computed for every walker
        # and selected: fewer array calls than masking for ~16 walkers.
        delta = x - z
        with np.errstate(divide="ignore", invalid="ignore"):
            t = self.gamma_snooker * (np.einsum("ij,ij->i", delta, d12)
                                      / np.einsum("ij,ij->i", delta, delta))
        snook = u[3] < self.snooker
        q = np.where(snook[:, None], x + t[:, None] * delta, q)
        with np.errstate(divide="ignore", invalid="ignore"):
            # t = -1 puts x' on z (measure zero): log 0 = -inf, rejected
            log_factor = np.where(snook, (ndim - 1) * np.log(np.abs(1.0 + t)), 0.0)
        if self.jump > 0:
            jumps = ~snook & (u[3] < self.snooker + self.jump)
            q[jumps] = ridge_jump(x[jumps], u[0, jumps], self.jump_axes)
        return q, log_factor


class KDEMove(_HalfEnsembleMove):
    """Independence proposals from a Gaussian kernel density estimate of the complement.

    For each walker ``x`` of a half: pick a complement walker ``z_k`` uniformly and propose
    ``x' = z_k + L n`` with ``n ~ N(0, I)`` and ``L L^T = h^2 C``, where ``C`` is the sample
    covariance of the complement (``m`` walkers) and ``h = m^(-1/(ndim + 4))`` (Scott's rule, as
    ``scipy.stats.gaussian_kde`` and emcee's ``KDEMove``).  The proposal density
    ``K(y) = (1/m) sum_j N(y; z_j, h^2 C)`` does not depend on ``x``, so the move is an
    independence sampler given the complement, accepted with probability
    ``min(1, p(x') K(x) / (p(x) K(x')))``.  It jumps a walker straight to the neighbourhood
    of any other walker, however far: where the posterior has a long, thin, low shelf (a
    parameter not bounded by the data down to its prior edge) the few walkers on the shelf
    carry the others there and back, which difference moves, with steps the size of the bulk,
    do only by a slow random walk.  If ``C`` is singular (a collapsed complement) the half
    stays put.

    Draws per half of ``n`` walkers: ``random_sample((2, n))`` (row 0 picks ``k``, row 1 the
    acceptance uniform), then ``standard_normal((n, ndim))``.
    """

    def half_proposal(self, x, comp, random):
        n, ndim = x.shape
        m = comp.shape[0]
        u = random.random_sample((2, n))
        g = random.standard_normal((n, ndim))
        h = m ** (-1.0 / (ndim + 4))
        try:
            chol = np.linalg.cholesky(h * h * np.cov(comp, rowvar=False).reshape(ndim, ndim))
        except np.linalg.LinAlgError:
            return x, np.full(n, -np.inf), np.log(u[1])
        q = comp[(u[0] * m).astype(np.intp)] + g @ chol.T
        white = np.linalg.inv(chol)
        return q, _log_kde(x, comp, white) - _log_kde(q, comp, white), np.log(u[1])


def ridge_jump(x, u, axes):
    """The saturation-ridge jump of :class:`DEMove` for walkers ``x`` (n, ndim).

    ``axes = (i_amp, i_scale, i_slope, power, lo, hi)``: the scale coordinate (ln x_c) is
    drawn uniformly on ``[lo, hi)`` from ``u`` (n,), and the amplitude coordinate (ln delta0)
    shifted by ``-power * slope`` times the same amount, so that ``delta0 x_c^(power beta)``,
    all the data fix far above saturation, stays.  Symmetric (the draw does not depend on
    ``x``) with Jacobian 1 (a shear): accepted with the plain Metropolis ratio.
    """
    i_amp, i_scale, i_slope, power, lo, hi = axes
    ia, isc, isl = int(i_amp), int(i_scale), int(i_slope)
    q = x.copy()
    new = lo + (hi - lo) * u
    d = new - x[:, isc]
    q[:, isc] = new
    q[:, ia] = x[:, ia] - power * x[:, isl] * d
    return q


def require_walkers(label: str, nwalkers: int, ndim: int) -> None:
    """Raise unless each half of the ensemble leaves three distinct complement walkers per
    walker (the DE and snooker proposals draw three), i.e. ``nwalkers >= max(6, 2 ndim)``.

    Raises
    ------
    SamplingError
        Naming ``label`` (the move), the walker count and the number needed.
    """
    need = max(6, 2 * ndim)
    if nwalkers < need:
        raise SamplingError(f"{label}: {nwalkers} walkers are too few for {ndim} parameters; "
                            f"at least {need} are needed")


def de_scale(gamma0: float | None, ndim: int) -> float:
    """The mean DE scale: ``gamma0``, or ``2.38 / sqrt(2 ndim)`` if None (ter Braak 2006)."""
    return 2.38 / math.sqrt(2 * ndim) if gamma0 is None else gamma0


def _log_kde(y, centres, white):
    """Log of ``sum_j exp(-|W (y_i - c_j)|^2 / 2)`` per row of ``y`` (n, ndim): the kernel
    density up to a constant that cancels in :class:`KDEMove`'s ratio."""
    w = (y[:, None, :] - centres[None, :, :]) @ white.T
    a = -0.5 * np.einsum("ijk,ijk->ij", w, w)
    top = a.max(axis=1)
    return top + np.log(np.exp(a - top[:, None]).sum(axis=1))


def _three_distinct(m: int, u: np.ndarray) -> np.ndarray:
    """Ordered triples of distinct indices in ``range(m)`` from uniforms ``u`` (3, n), each
    uniform over the ``m (m-1) (m-2)`` triples: the second skips the first, the third both.

    Returns
    -------
    ndarray of int, shape (3, n)
    """
    abc = (u * np.array([[m], [m - 1], [m - 2]])).astype(np.intp)
    a, b, c = abc
    b += b >= a
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    c += c >= lo
    c += c >= hi
    return abc


def _moves():
    # emcee (seconds) is imported when a sampler is built, not when a setting is checked
    # (``tlsbayes check`` validates the move name only); see emcee_import for scipy.stats.
    from .emcee_import import emcee

    return emcee.moves


def _independence_moves(*args, **kwargs):
    from .independence import independence_moves  # imports emcee: only when used

    return independence_moves(*args, **kwargs)


#: Snooker probability of the ``"de"`` set: none.  Measured (``benchmarks/de_snooker.py``,
#: 3 seeds, ESS of the worst parameter per CPU second, side by side): on the real Ta card
#: snooker 0 / 0.1 / 0.2 gave 1797 / 1626 / 1306 (fewer ESS per step and a dearer step); on a
#: 5-D banana 660 / 581 / 577 (9 % more ESS per step, 22 % dearer steps).  It does not pay, so
#: the set has none; it stays available as ``DEMove(snooker=p)`` (tested).
DE_SNOOKER = 0.0

#: Share of the walkers' DE proposals that are saturation-ridge jumps in the ``"de_jump"`` set.
DE_JUMP = 0.2

#: ``name -> factory`` of an emcee move list ``[(move, weight), ...]``.  The factories take no
#: argument, except those of :data:`NEEDS_PROPOSAL`, which take their proposal.
MOVES: dict[str, Callable[..., list]] = {
    "stretch": lambda: [(_moves().StretchMove(), 1.0)],
    "de": lambda: [(DEMove(snooker=DE_SNOOKER), 1.0)],
    "de_jump": lambda axes: [(DEMove(snooker=DE_SNOOKER, jump=DE_JUMP, jump_axes=axes), 1.0)],
    "independence": lambda proposal: _independence_moves(*proposal),
}

#: Move sets that need a proposal: ``(mean, cov)`` for ``"independence"``, the ridge axes
#: (:meth:`tlsbayes.inference.posterior.Posterior.saturation_ridge`) for ``"de_jump"``.
NEEDS_PROPOSAL = frozenset({"independence", "de_jump"})


def build_moves(name: str, proposal=None) -> list:
    """Fresh emcee move list ``[(move, weight), ...]`` for the move set ``name``.

    Fresh objects per sampler: emcee moves are stateless today, but sharing one between two
    samplers would tie them together if a move ever kept an adaptation state.

    Parameters
    ----------
    name : str
        A key of :data:`MOVES`.
    proposal : tuple (mean, cov), optional
        Required by the move sets in :data:`NEEDS_PROPOSAL`, ignored by the others.
    """
    if name in NEEDS_PROPOSAL:
        if proposal is None:
            what = "(mean, cov)" if name == "independence" else "(the saturation ridge's axes)"
            raise SamplingError(f"moves '{name}' need a proposal {what}; none was given")
        return MOVES[name](proposal)
    return MOVES[name]()
