"""The compiled sampling path: emcee's ensemble step re-implemented, the same chain bit for bit.

emcee's own step (``EnsembleSampler.sample`` -> the move's ``propose``: a move choice, a
red-blue split, proposals, acceptance, ``State`` bookkeeping, the blob conversion of the
log-probability adapter) costs 400-530 µs of CPU for 32 walkers, 10-15 µs per walker
evaluation, more than the 2-5 µs the likelihoods of the Ta and TLS cards cost
(``tlsbayes bench``).  :class:`CompiledStepper` takes the same steps with the proposals and the
acceptance compiled (numba) and the log-probability called once per half-ensemble as before:
a chunk's random numbers first, in one compiled call (:mod:`tlsbayes.sampling.stream`), then
per half-ensemble one log-posterior call and one compiled call (:func:`advance`).

Same chain, not only the same distribution: every random number is drawn from emcee's own
stream (the legacy ``RandomState`` that emcee seeds and stores in the checkpoint), the very
numbers numpy's calls would draw in emcee's order (a move choice, the split shuffle, then per
half what the move draws), and every log of a random number is taken by numpy, as emcee does
(numba's ``math.log`` differs from numpy's in the last bit for ~0.3 % of arguments).  The proposals and acceptance
tests repeat emcee's arithmetic operation by operation (no fastmath), so a run on this path
writes the chain, log-probabilities, blobs, acceptance counts and random state that emcee
would have written (``tests/test_compiled_sampler.py`` compares them), and a checkpoint of
either path resumes on the other.  The DE move with snooker > 0 takes its snooker dot products
in a loop where numpy uses ``einsum``: same distribution, possibly not the same last bits.

Moves it knows (:func:`move_spec`): emcee's ``StretchMove`` (default ``nsplits``,
``randomize_split``) and tlsbayes' vectorised :class:`~tlsbayes.sampling.moves.DEMove`, alone
or mixed with weights; any other move set returns ``None`` and the run stays on emcee.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numba
import numpy as np

from .moves import de_scale, require_walkers
from .stream import ROW_LOG_U, draw_chunk

__all__ = ["MOVE_STRETCH", "MOVE_DE", "MoveSpec", "move_spec", "CompiledStepper"]

#: Kinds of compiled move (integer codes of :class:`MoveSpec`).
MOVE_KINDS = ("stretch", "de")
MOVE_STRETCH = MOVE_KINDS.index("stretch")
MOVE_DE = MOVE_KINDS.index("de")
#: Entries of :meth:`MoveSpec.jump_row`: the jump probability, then the axes of
#: :func:`tlsbayes.sampling.moves.ridge_jump` (three coordinate indices, the saturation power,
#: the scale coordinate's prior range).
JUMP_ROW = ("p", "i_amp", "i_scale", "i_slope", "power", "lo", "hi")
(JUMP_P, JUMP_AMP, JUMP_SCALE, JUMP_SLOPE, JUMP_POWER, JUMP_LO,
 JUMP_HI) = range(len(JUMP_ROW))


@dataclass(frozen=True)
class MoveSpec:
    """One compiled move and its constants.

    Attributes
    ----------
    kind : int
        ``MOVE_STRETCH`` or ``MOVE_DE``.
    a : float
        Stretch scale (stretch only).
    gamma0 : float or None
        Mean DE scale; ``None``: ``2.38 / sqrt(2 ndim)`` (DE only).
    sigma : float
        Relative spread of the DE scale (DE only).
    snooker : float
        Snooker probability (DE only).
    gamma_snooker : float
        Snooker scale (DE only).
    jump : float
        Saturation-ridge jump probability (DE only).
    jump_axes : tuple of float
        ``(i_amp, i_scale, i_slope, power, lo, hi)`` of the jump (see
        :func:`tlsbayes.sampling.moves.ridge_jump`), or ``()``.
    """

    kind: int
    a: float = 2.0
    gamma0: float | None = None
    sigma: float = 1e-5
    snooker: float = 0.0
    gamma_snooker: float = 1.7
    jump: float = 0.0
    jump_axes: tuple = ()

    def jump_row(self) -> np.ndarray:
        """The jump for the compiled proposal, as :data:`JUMP_ROW` lays it out (the indices
        as floats: one row of the stepper's move constants)."""
        return np.array([self.jump, *(self.jump_axes or (0.0,) * 6)], dtype=np.float64)


def move_spec(moves) -> tuple[list[MoveSpec], np.ndarray] | None:
    """The compiled equivalent of an emcee move list ``[(move, weight), ...]``, or ``None``.

    Returns
    -------
    (specs, weights) or None
        ``None`` when a move is not one the compiled path reproduces exactly.
    """
    from .moves import DEMove

    specs, weights = [], []
    for move, weight in moves:
        if type(move) is DEMove:
            specs.append(MoveSpec(MOVE_DE, gamma0=move.gamma0, sigma=move.sigma,
                                  snooker=move.snooker, gamma_snooker=move.gamma_snooker,
                                  jump=move.jump, jump_axes=move.jump_axes or ()))
        elif (type(move).__name__ == "StretchMove" and type(move).__module__.startswith("emcee")
              and move.nsplits == 2 and move.randomize_split and not move.live_dangerously):
            specs.append(MoveSpec(MOVE_STRETCH, a=float(move.a)))
        else:
            return None
        if not _reproduces(move, specs[-1]):
            return None
        weights.append(float(weight))
    # emcee normalises the weights itself (EnsembleSampler.__init__)
    w = np.atleast_1d(weights).astype(float)
    return specs, w / np.sum(w)


#: ``(move class, MoveSpec) -> bool``: verdicts of :func:`_reproduces`, once per process.
_VERIFIED: dict = {}


def _reproduces(move, spec: MoveSpec) -> bool:
    """Whether three compiled steps equal three steps of ``move`` itself, bit for bit (to
    1e-12 with snooker proposals).

    A guard, ~1 ms once per process and move: should the Python move change (its draws, its
    arithmetic) without its compiled twin following, the run goes back to emcee instead of
    silently sampling with the old rule.
    """
    if spec.jump > 0:  # the probe is 3-D: the jump on its axes 0-2, the card's exponent
        from .moves import DEMove

        axes = (0.0, 1.0, 2.0, spec.jump_axes[3], -3.0, 3.0)
        spec = replace(spec, jump_axes=axes)
        move = DEMove(snooker=move.snooker, gamma0=move.gamma0, sigma=move.sigma,
                      gamma_snooker=move.gamma_snooker, jump=move.jump, jump_axes=axes)
    key = (type(move), spec)
    if key not in _VERIFIED:
        from types import SimpleNamespace

        from .emcee_import import emcee

        nwalkers, ndim = 12, 3
        x0 = np.random.default_rng(0).normal(size=(nwalkers, ndim))

        def log_prob(q):
            return -0.5 * np.einsum("ij,ij->i", q, q)

        model = SimpleNamespace(random=np.random.RandomState(7),
                                compute_log_prob_fn=lambda q: (log_prob(q), None))
        state = emcee.State(x0.copy(), log_prob=log_prob(x0))
        stepper = CompiledStepper([spec], np.ones(1),
                                  lambda q: (log_prob(q), np.empty((q.shape[0], 0))))
        x, lp, random = x0.copy(), log_prob(x0), np.random.RandomState(7)
        for _ in range(3):
            model.random.random_sample()  # EnsembleSampler.sample's move choice
            state, _ = move.propose(model, state)
        stepper.run(x, lp, np.empty((nwalkers, 0)), random, 3)
        if spec.snooker > 0:  # its dot products: a loop here, einsum there (last bits)
            same = np.allclose(x, state.coords, rtol=1e-12, atol=0.0)
        else:
            same = np.array_equal(x, state.coords) and np.array_equal(lp, state.log_prob)
        _VERIFIED[key] = bool(same)
    return _VERIFIED[key]


# --------------------------------------------------------------------------------------------
# compiled pieces (one half-ensemble each)
# --------------------------------------------------------------------------------------------


@numba.njit(cache=True)
def _halves(labels, split):
    """Walkers of half ``split`` and of the complement, each in increasing order (as emcee's
    boolean masks select them)."""
    n = 0
    for lab in labels:
        n += lab == split
    inds = np.empty(n, dtype=np.int64)
    comp = np.empty(labels.size - n, dtype=np.int64)
    i = k = 0
    for w in range(labels.size):
        if labels[w] == split:
            inds[i] = w
            i += 1
        else:
            comp[k] = w
            k += 1
    return inds, comp


@numba.njit(cache=True)
def de_proposal(coords, labels, split, u, g, g0, sigma, snooker, gamma_snooker, jmp):
    """:meth:`DEMove.get_proposal` for half ``split``: walkers, proposals, log MH factors.

    Parameters
    ----------
    coords : ndarray, shape (nwalkers, ndim)
    labels : ndarray of int64, shape (nwalkers,)
        Half of each walker (0 or 1).
    split : int
    u : ndarray, shape (>= 4, n)
        Uniforms (rows 0-3): the three complement walkers, snooker or not.
    g : ndarray, shape (n,)
        Standard normals (the DE scale noise).
    g0, sigma, snooker, gamma_snooker : float
        As in :class:`~tlsbayes.sampling.moves.DEMove` (``g0`` resolved).
    jmp : ndarray, shape (7,)
        :meth:`MoveSpec.jump_row` (entries :data:`JUMP_ROW`).

    Returns
    -------
    inds : ndarray of int64, shape (n,)
    q : ndarray, shape (n, ndim)
    log_factor : ndarray, shape (n,)
    """
    inds, comp = _halves(labels, split)
    n, m, ndim = inds.size, comp.size, coords.shape[1]
    q = np.empty((n, ndim))
    log_factor = np.zeros(n)
    for j in range(n):
        # DEMove's _three_distinct: the second skips the first, the third both
        a = np.intp(u[0, j] * m)
        b = np.intp(u[1, j] * (m - 1))
        c = np.intp(u[2, j] * (m - 2))
        b += b >= a
        lo, hi = min(a, b), max(a, b)
        c += c >= lo
        c += c >= hi
        x, z, z1, z2 = inds[j], comp[a], comp[b], comp[c]
        s = g0 * (1.0 + sigma * g[j])
        if snooker > 0 and u[3, j] < snooker:
            dd = 0.0
            d12 = 0.0
            for k in range(ndim):
                delta = coords[x, k] - coords[z, k]
                dd += delta * delta
                d12 += delta * (coords[z1, k] - coords[z2, k])
            t = gamma_snooker * (d12 / dd)
            for k in range(ndim):
                q[j, k] = coords[x, k] + t * (coords[x, k] - coords[z, k])
            log_factor[j] = (ndim - 1) * math.log(abs(1.0 + t))
        elif jmp[JUMP_P] > 0 and u[3, j] < snooker + jmp[JUMP_P]:  # moves.ridge_jump
            ia, isc = int(jmp[JUMP_AMP]), int(jmp[JUMP_SCALE])
            isl = int(jmp[JUMP_SLOPE])
            for k in range(ndim):
                q[j, k] = coords[x, k]
            new = jmp[JUMP_LO] + (jmp[JUMP_HI] - jmp[JUMP_LO]) * u[0, j]
            dd = new - coords[x, isc]
            q[j, isc] = new
            q[j, ia] = coords[x, ia] - jmp[JUMP_POWER] * coords[x, isl] * dd
        else:
            for k in range(ndim):
                q[j, k] = coords[x, k] + s * (coords[z1, k] - coords[z2, k])
    return inds, q, log_factor


@numba.njit(cache=True)
def stretch_proposal(coords, labels, split, zz, rint):
    """``StretchMove.get_proposal`` for half ``split`` (``zz``, ``rint`` drawn by numpy).

    Returns
    -------
    inds : ndarray of int64, shape (n,)
    q : ndarray, shape (n, ndim)
    """
    inds, comp = _halves(labels, split)
    n, ndim = inds.size, coords.shape[1]
    q = np.empty((n, ndim))
    for j in range(n):
        c, s = comp[rint[j]], inds[j]
        for k in range(ndim):
            q[j, k] = coords[c, k] - (coords[c, k] - coords[s, k]) * zz[j]
    return inds, q


@numba.njit(cache=True)
def accept(coords, log_prob, blobs, accepted, inds, q, new_log_prob, new_blobs, log_factor,
           log_u):
    """Metropolis-Hastings test of each proposal and the in-place update of the state.

    ``log_factor + new - old > log_u`` in emcee's order of operations; accepted walkers take
    their proposal's coordinates, log-probability and blobs, and ``accepted`` is set for them.
    """
    # element loops, not row assignments: the same copies, a third of the compile time
    for j in range(inds.size):
        w = inds[j]
        if log_factor[j] + new_log_prob[j] - log_prob[w] > log_u[j]:
            accepted[w] = True
            for k in range(coords.shape[1]):
                coords[w, k] = q[j, k]
            log_prob[w] = new_log_prob[j]
            for k in range(blobs.shape[1]):
                blobs[w, k] = new_blobs[j, k]


@numba.njit(cache=True)
def advance(h, nwalkers, fbuf, ibuf, mconst, draws, inds, q, new_log_prob, new_blobs,
            log_factor):
    """One compiled call between two log-posterior evaluations of :meth:`CompiledStepper.run`.

    Half-ensemble ``h`` (``h = 2 k + split``) of the chunk: first the proposals of half
    ``h - 1`` (``inds``, ``q``, ``log_factor``, evaluated as ``new_log_prob``,
    ``new_blobs``) are accepted or not (:func:`accept`) and, when that half ends step ``k``,
    the step's row is stored and its acceptances counted; then the proposals of half ``h``
    are returned (:func:`de_proposal` or :func:`stretch_proposal` with the move of step
    ``k``; empty after the last half).  Two calls a step instead of four, no Python in
    between.  The state lives in two flat buffers (:func:`_views`: a call's cost is mostly
    its arguments' dispatch, ~0.1 µs each); ``mconst`` holds per move (DE or not, its
    scale, sigma, snooker, snooker scale, then :meth:`MoveSpec.jump_row`).
    """
    (coords, log_prob, blobs, chain, log_probs, blob_chain, accepted, n_accepted, move,
     labels, rint) = _views(nwalkers, q.shape[1], new_blobs.shape[1], draws.shape[0],
                            draws.shape[3], fbuf, ibuf)
    if h > 0:
        k, split = (h - 1) // 2, (h - 1) % 2
        accept(coords, log_prob, blobs, accepted, inds, q, new_log_prob, new_blobs,
               log_factor, draws[k, split, ROW_LOG_U])
        if split == 1:
            for w in range(nwalkers):
                for j in range(coords.shape[1]):
                    chain[k, w, j] = coords[w, j]
                log_probs[k, w] = log_prob[w]
                for j in range(blobs.shape[1]):
                    blob_chain[k, w, j] = blobs[w, j]
                n_accepted[w] += accepted[w]
                accepted[w] = 0
    if h >= 2 * draws.shape[0]:
        return np.empty(0, dtype=np.int64), np.empty((0, coords.shape[1])), np.empty(0)
    k, split = h // 2, h % 2
    m = move[k]
    d = draws[k, split]
    if mconst[m, 0] != 0.0:
        return de_proposal(coords, labels[k], split, d, d[4], mconst[m, 1], mconst[m, 2],
                           mconst[m, 3], mconst[m, 4], mconst[m, 5:])
    out_inds, out_q = stretch_proposal(coords, labels[k], split, d[0], rint[k, split])
    return out_inds, out_q, d[1].copy()


@numba.njit(cache=True)
def _views(nwalkers, ndim, nblobs, nsteps, nmax, fbuf, ibuf):
    """The arrays of :func:`advance` as views of its two buffers.

    ``fbuf``: coords (nwalkers, ndim), log_prob (nwalkers,), blobs (nwalkers, nblobs), then
    chain (nsteps, nwalkers, ndim), log_probs (nsteps, nwalkers), blob_chain (nsteps,
    nwalkers, nblobs).  ``ibuf``: accepted and n_accepted (nwalkers,) each, move (nsteps,),
    labels (nsteps, nwalkers), rint (nsteps, 2, nmax).
    """
    a = nwalkers * ndim
    b = a + nwalkers
    c = b + nwalkers * nblobs
    d = c + nsteps * a
    e = d + nsteps * nwalkers
    f = e + nsteps * nwalkers * nblobs
    i1 = nwalkers
    i2 = i1 + nwalkers
    i3 = i2 + nsteps
    i4 = i3 + nsteps * nwalkers
    i5 = i4 + nsteps * 2 * nmax
    return (fbuf[:a].reshape((nwalkers, ndim)), fbuf[a:b],
            fbuf[b:c].reshape((nwalkers, nblobs)), fbuf[c:d].reshape((nsteps, nwalkers, ndim)),
            fbuf[d:e].reshape((nsteps, nwalkers)),
            fbuf[e:f].reshape((nsteps, nwalkers, nblobs)), ibuf[:i1], ibuf[i1:i2],
            ibuf[i2:i3], ibuf[i3:i4].reshape((nsteps, nwalkers)),
            ibuf[i4:i5].reshape((nsteps, 2, nmax)))


class CompiledStepper:
    """Steps of an emcee ensemble run with compiled moves; see the module docstring.

    Parameters
    ----------
    specs, weights
        From :func:`move_spec`.
    evaluate : callable
        ``evaluate(q) -> (log_prob (n,), blobs (n, nblobs))`` for proposals ``q`` of shape
        ``(n, ndim)``; raises on NaN (as the emcee adapter does).
    loop : callable, optional
        Returns a runner taking whole chunks in one compiled call
        (:func:`tlsbayes.sampling.compiled_loop.chunk_runner`, compiling it if need be; None
        where it cannot), called by :meth:`take_loop`.
    """

    def __init__(self, specs, weights, evaluate, loop=None):
        self.specs, self.evaluate = list(specs), evaluate
        self.cdf = np.cumsum(weights)
        self.cdf /= self.cdf[-1]
        # one move on a one-data-set posterior: whole chunks in one compiled call, from
        # take_loop() on
        self.chunk_runner = None
        self._loop = loop if len(self.specs) == 1 else None

    def take_loop(self) -> None:
        """From now on take whole chunks in one compiled call, if ``loop`` was given and
        returns a runner; the chain is the same."""
        if self._loop is not None:
            self.chunk_runner, self._loop = self._loop(), None

    def run(self, coords, log_prob, blobs, random: np.random.RandomState, nsteps: int,
            on_step=None):
        """Take ``nsteps`` steps from the state (``coords``, ``log_prob``, ``blobs``), which is
        updated in place, drawing from ``random``.

        Parameters
        ----------
        coords : ndarray, shape (nwalkers, ndim)
        log_prob : ndarray, shape (nwalkers,)
        blobs : ndarray, shape (nwalkers, nblobs)
        random : numpy.random.RandomState
            emcee's stream (its state continues as emcee's would).
        nsteps : int
        on_step : callable, optional
            Called after every step (a progress bar).

        Returns
        -------
        chain : ndarray, shape (nsteps, nwalkers, ndim)
        log_probs : ndarray, shape (nsteps, nwalkers)
        blob_chain : ndarray, shape (nsteps, nwalkers, nblobs)
        accepted : ndarray of int64, shape (nwalkers,)
            Accepted proposals per walker over the ``nsteps`` steps.
        """
        nwalkers, ndim = coords.shape
        for spec in self.specs:
            if spec.kind == MOVE_DE:
                require_walkers("DE move", nwalkers, ndim)
        # every random number of the chunk first (none depends on the walkers), in one call
        move, labels, draws, rint = draw_chunk(
            [s.kind == MOVE_DE for s in self.specs], [s.a for s in self.specs], self.cdf,
            random, nsteps, nwalkers, ndim)
        if self.chunk_runner is not None and nwalkers % 2 == 0 and blobs.shape[1] == 2:
            out = self.chunk_runner(self.specs[0], coords, log_prob, blobs, labels, draws,
                                    rint)
            for _ in range(nsteps if on_step is not None else 0):
                on_step()
            return out
        nblobs, nmax = blobs.shape[1], draws.shape[3]
        # the state in two flat buffers, laid out as compiled._views reads them
        fbuf = np.empty((nsteps + 1) * nwalkers * (ndim + 1 + nblobs))
        ibuf = np.zeros(2 * nwalkers + nsteps * (1 + nwalkers + 2 * nmax), dtype=np.int64)
        fbuf[:nwalkers * ndim] = coords.ravel()
        fbuf[nwalkers * ndim:nwalkers * (ndim + 1)] = log_prob
        fbuf[nwalkers * (ndim + 1):nwalkers * (ndim + 1 + nblobs)] = blobs.ravel()
        ibuf[2 * nwalkers:] = np.concatenate([move, labels.ravel(), rint.ravel()])
        mconst = np.array([[s.kind == MOVE_DE, de_scale(s.gamma0, ndim), s.sigma, s.snooker,
                            s.gamma_snooker, *s.jump_row()] for s in self.specs],
                          dtype=np.float64)
        # DEMove.propose / RedBlueMove.propose with StretchMove.get_proposal, draw for draw:
        # propose half 0; then per half evaluate, accept, propose the next (compiled.advance)
        inds, q, log_factor = advance(0, nwalkers, fbuf, ibuf, mconst, draws,
                                      np.empty(0, dtype=np.int64), np.empty((0, ndim)),
                                      np.empty(0), np.empty((0, nblobs)), np.empty(0))
        evaluate = self.evaluate
        for h in range(1, 2 * nsteps + 1):
            new_lp, new_blobs = evaluate(q)
            inds, q, log_factor = advance(h, nwalkers, fbuf, ibuf, mconst, draws, inds, q,
                                          new_lp, new_blobs, log_factor)
            if on_step is not None and h % 2 == 0:
                on_step()
        (coords[...], log_prob[...], blobs[...], chain, log_probs, blob_chain, _,
         n_accepted) = _views(nwalkers, ndim, nblobs, nsteps, nmax, fbuf, ibuf)[:8]
        return chain, log_probs, blob_chain, n_accepted
