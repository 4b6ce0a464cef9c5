"""emcee's random numbers for a chunk of steps, drawn in one compiled call.

The compiled engine must draw exactly the numbers emcee draws, from emcee's own stream (the
legacy ``numpy.random.RandomState``, MT19937, that emcee seeds and checkpoints), in emcee's
order: per step a move choice and the red-blue shuffle, then per half what the move draws.
Drawn by numpy that is about ten calls a step (~20 µs for 32 walkers), more than the Ta card's
likelihood.  None of those numbers depends on the walkers, so :func:`draw_chunk` draws a whole
chunk at once in compiled code: MT19937 itself and the legacy algorithms that ``RandomState``
uses on it (``random_sample``: 53-bit doubles from two 32-bit words; ``shuffle`` and
``randint``: masked rejection on 32-bit words; ``standard_normal``: the polar method with its
cached second value), then writes the generator's state back, so the stream continues exactly
where numpy's would.  The logarithms of the draws (stretch factors, acceptance uniforms) are
taken afterwards by numpy, as emcee takes them, on the whole chunk at once: numba's
``math.log`` differs from numpy's in the last bit for ~0.3 % of arguments.  The polar method's
own ``log`` and ``sqrt`` are the C library's in numpy and in numba alike.

``tests/test_stream.py`` holds every draw, and the generator state after it, to numpy's own
calls, bit for bit.
"""

from __future__ import annotations

import math

import numba
import numpy as np

__all__ = ["draw_chunk", "ROW_LOG_U"]

#: Rows of the per-half draws block ``draws[k, split]`` (6, n): DE uses rows 0-3 (uniforms:
#: complement walkers, snooker or not) and 4 (the scale noise); stretch row 0 (z) and 1 (its
#: log MH factor); both row 5 (log of the acceptance uniform).
ROW_LOG_U = 5

_N, _M = 624, 397


@numba.njit(cache=True)
def _next32(key, pos):
    """The next 32-bit output of MT19937 at position ``pos`` of ``key``; ``(word, pos)``.
    (The position travels as a value, not in an array, so that it stays in a register.)"""
    if pos >= _N:
        # the twist, in place: entries past i are still old, entries before i new, as in the
        # reference three-loop form
        for i in range(_N):
            y = (np.int64(key[i]) & 0x80000000) | (np.int64(key[(i + 1) % _N]) & 0x7FFFFFFF)
            v = np.int64(key[(i + _M) % _N]) ^ (y >> 1)
            if y & 1:
                v ^= 0x9908B0DF
            key[i] = v
        pos = 0
    y = np.int64(key[pos])
    y ^= y >> 11
    y ^= (y << 7) & 0x9D2C5680
    y ^= (y << 15) & 0xEFC60000
    y ^= y >> 18
    return y, pos + 1


@numba.njit(cache=True)
def _double(key, pos):
    """``RandomState.random_sample()``: 53 random bits from two words; ``(value, pos)``."""
    a, pos = _next32(key, pos)
    b, pos = _next32(key, pos)
    return ((a >> 5) * 67108864.0 + (b >> 6)) / 9007199254740992.0, pos


@numba.njit(cache=True)
def _masked(key, pos, rng):
    """A uniform integer in 0 .. ``rng`` (``rng`` < 2**32) by masked rejection, as numpy's
    ``random_interval`` (shuffle) and its bounded ``randint`` (masked, 32-bit) draw it;
    ``(value, pos)``."""
    if rng == 0:
        return 0, pos
    mask = rng
    mask |= mask >> 1
    mask |= mask >> 2
    mask |= mask >> 4
    mask |= mask >> 8
    mask |= mask >> 16
    while True:
        v, pos = _next32(key, pos)
        v &= mask
        if v <= rng:
            return v, pos


@numba.njit(cache=True)
def _gauss(key, pos, has_gauss, gauss):
    """``RandomState.standard_normal()``: the polar method, its second value kept;
    ``(value, pos, has_gauss, gauss)``."""
    if has_gauss:
        return gauss, pos, False, 0.0
    while True:
        x1, pos = _double(key, pos)
        x2, pos = _double(key, pos)
        x1 = 2.0 * x1 - 1.0
        x2 = 2.0 * x2 - 1.0
        r2 = x1 * x1 + x2 * x2
        if r2 < 1.0 and r2 != 0.0:
            break
    f = math.sqrt(-2.0 * math.log(r2) / r2)
    return f * x2, pos, True, f * x1


@numba.njit(cache=True)
def _draw(key, st, cache, cdf, de, a, nsteps, nwalkers, move, labels, draws, rint):
    """Fill ``move``, ``labels``, ``draws`` (logs not yet taken) and ``rint`` for ``nsteps``
    steps from the state (``key``, ``st`` = (position, has a kept Gaussian), ``cache`` = the
    kept Gaussian), which is updated; see :func:`draw_chunk`."""
    pos, has_gauss, gauss = st[0], st[1] != 0, cache[0]
    for k in range(nsteps):
        u, pos = _double(key, pos)  # RandomState.choice(moves, p=weights): one uniform
        m = 0
        while m < cdf.size - 1 and cdf[m] <= u:  # searchsorted(side="right")
            m += 1
        move[k] = m
        lab = labels[k]
        for w in range(nwalkers):
            lab[w] = w % 2
        for i in range(nwalkers - 1, 0, -1):  # RandomState.shuffle (Fisher-Yates, reversed)
            j, pos = _masked(key, pos, i)
            lab[i], lab[j] = lab[j], lab[i]
        for split in range(2):
            n = (nwalkers + 1 - split) // 2  # walkers with label == split
            d = draws[k, split]
            if de[m]:
                for r in range(5):  # random_sample((5, n)), C order
                    for j in range(n):
                        d[r if r < 4 else ROW_LOG_U, j], pos = _double(key, pos)
                for j in range(n):  # standard_normal(n)
                    d[4, j], pos, has_gauss, gauss = _gauss(key, pos, has_gauss, gauss)
            else:
                am = a[m]
                for j in range(n):  # ((a - 1) * rand(n) + 1) ** 2 / a, as numpy rounds it
                    v, pos = _double(key, pos)
                    z = (am - 1.0) * v + 1.0
                    d[0, j] = (z * z) / am
                    d[1, j] = d[0, j]
                for j in range(n):  # randint(nwalkers - n, size=n)
                    rint[k, split, j], pos = _masked(key, pos, nwalkers - n - 1)
                for j in range(n):  # the acceptance uniforms, rand(n)
                    d[ROW_LOG_U, j], pos = _double(key, pos)
    st[0], st[1], cache[0] = pos, has_gauss, gauss


def draw_chunk(de, a, cdf, random: np.random.RandomState, nsteps: int, nwalkers: int,
               ndim: int):
    """Every random number of ``nsteps`` emcee steps, drawn from ``random`` in emcee's order.

    Parameters
    ----------
    de : sequence of bool
        Per move: a DE move (:class:`~tlsbayes.sampling.moves.DEMove`), else emcee's stretch.
    a : sequence of float
        Stretch scale of each move (ignored for DE).
    cdf : ndarray, shape (nmoves,)
        Cumulative move weights, last entry 1 (emcee's move choice).
    random : numpy.random.RandomState
        emcee's stream, MT19937; advanced past the draws, as numpy's own calls advance it.
    nsteps, nwalkers, ndim : int

    Returns
    -------
    move : ndarray of int64, shape (nsteps,)
        Index of the move of each step.
    labels : ndarray of int64, shape (nsteps, nwalkers)
        Half (0 or 1) of each walker.
    draws : ndarray, shape (nsteps, 2, 6, (nwalkers + 1) // 2)
        Per step and half (rows: :data:`ROW_LOG_U` and the module docstring of
        :mod:`tlsbayes.sampling.compiled_loop`); a half of ``n`` walkers fills the first ``n``
        columns (the other is 1, whose log is 0).
    rint : ndarray of int64, shape (nsteps, 2, (nwalkers + 1) // 2)
        The stretch move's complement walkers.
    """
    name, key, pos, has_gauss, cached = random.get_state(legacy=True)
    if name != "MT19937":
        raise ValueError(f"emcee's stream is MT19937, got {name}")
    key = np.array(key, dtype=np.uint32)
    st = np.array([pos, has_gauss], dtype=np.int64)
    cache = np.array([cached], dtype=np.float64)
    nmax = (nwalkers + 1) // 2
    move = np.empty(nsteps, dtype=np.int64)
    labels = np.empty((nsteps, nwalkers), dtype=np.int64)
    draws = np.ones((nsteps, 2, 6, nmax))
    rint = np.zeros((nsteps, 2, nmax), dtype=np.int64)
    de = np.asarray(de, dtype=np.bool_)
    _draw(key, st, cache, np.asarray(cdf, dtype=np.float64), de,
          np.asarray(a, dtype=np.float64), nsteps, nwalkers, move, labels, draws, rint)
    random.set_state((name, key, int(st[0]), int(st[1]), float(cache[0])))
    # the logs by numpy, as emcee takes them (elementwise: the same bits on any array)
    draws[:, :, ROW_LOG_U] = np.log(draws[:, :, ROW_LOG_U])
    stretch = ~de[move]
    if stretch.any():
        draws[stretch, :, 1] = (ndim - 1.0) * np.log(draws[stretch, :, 1])
    return move, labels, draws, rint
