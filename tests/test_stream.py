"""tlsbayes.sampling.stream draws emcee's random numbers in compiled code: the same numbers,
bit for bit, as numpy's own ``RandomState`` calls in emcee's order, and the generator left in
the state those calls leave it in (so the stream continues as emcee's would).

The reference below draws with the very numpy calls emcee makes (``EnsembleSampler.sample``'s
move choice, ``RedBlueMove``'s shuffle, ``StretchMove.get_proposal``'s ``rand``/``randint``,
``DEMove``'s ``random_sample``/``standard_normal``, the acceptance ``rand``), one step at a
time.  Configurations: odd and even ensembles (4-69 walkers, so the shuffle's rejection masks
and ``randint``'s ranges vary), stretch, DE and weighted mixes, a generator that starts in
mid-block with a cached Gaussian, chunks long enough to cross many MT19937 twists.
"""

import numpy as np
import pytest

from tlsbayes.sampling.stream import ROW_LOG_U, draw_chunk


def _reference(de, a, cdf, random, nsteps, nwalkers, ndim):
    """The draws of ``nsteps`` steps by numpy's calls, laid out as ``draw_chunk``'s."""
    nmax = (nwalkers + 1) // 2
    move = np.empty(nsteps, dtype=np.int64)
    labels = np.empty((nsteps, nwalkers), dtype=np.int64)
    draws = np.full((nsteps, 2, 6, nmax), np.nan)
    rint = np.zeros((nsteps, 2, nmax), dtype=np.int64)
    for k in range(nsteps):
        m = int(cdf.searchsorted(random.random_sample(), side="right"))
        move[k] = m
        lab = np.arange(nwalkers) % 2
        random.shuffle(lab)
        labels[k] = lab
        for split in (0, 1):
            n = int(np.count_nonzero(lab == split))
            d = draws[k, split]
            if de[m]:
                u = random.random_sample((5, n))
                d[4, :n] = random.standard_normal(n)
                d[:4, :n] = u[:4]
                d[ROW_LOG_U, :n] = np.log(u[4])
            else:
                zz = ((a[m] - 1.0) * random.rand(n) + 1) ** 2.0 / a[m]
                d[0, :n] = zz
                d[1, :n] = (ndim - 1.0) * np.log(zz)
                rint[k, split, :n] = random.randint(nwalkers - n, size=(n,))
                d[ROW_LOG_U, :n] = np.log(random.rand(n))
    return move, labels, draws, rint


@pytest.mark.parametrize("case", range(24))
def test_draws_and_final_state_equal_numpy_calls(case):
    rng = np.random.default_rng(case)
    nwalkers = int(rng.integers(4, 70))
    ndim = int(rng.integers(1, 12))
    nmoves = int(rng.integers(1, 4))
    de = rng.integers(0, 2, size=nmoves).astype(bool)
    if case < 2:
        de[:] = bool(case)  # one pure stretch and one pure DE case for sure
    a = rng.uniform(1.5, 3.0, size=nmoves)
    cdf = np.cumsum(rng.uniform(0.1, 1.0, size=nmoves))
    cdf /= cdf[-1]
    ours = np.random.RandomState(int(rng.integers(1 << 30)))
    ours.standard_normal(int(rng.integers(0, 3)))  # mid-block, maybe a cached Gaussian
    ref = np.random.RandomState()
    ref.set_state(ours.get_state())
    nsteps = int(rng.integers(1, 300))

    expected = _reference(de, a, cdf, ref, nsteps, nwalkers, ndim)
    got = draw_chunk(de, a, cdf, ours, nsteps, nwalkers, ndim)

    for name, e, g in zip(("move", "labels", "draws", "rint"), expected, got):
        if name == "draws":
            filled = ~np.isnan(e)  # the columns a half of n walkers uses
            assert np.array_equal(e[filled], g[filled]), name
        else:
            assert np.array_equal(e, g), name
    s_ref, s_ours = ref.get_state(), ours.get_state()
    assert s_ref[0] == s_ours[0] and np.array_equal(s_ref[1], s_ours[1])
    assert s_ref[2:] == s_ours[2:]  # position, cached Gaussian flag and value
    # and the stream continues identically
    assert np.array_equal(ref.random_sample(7), ours.random_sample(7))


def test_gaussians_of_many_draws_equal_numpy():
    # the polar method's log and sqrt are the C library's in both: 200 000 values
    ours = np.random.RandomState(5)
    ref = np.random.RandomState(5)
    got = draw_chunk([True], [2.0], np.ones(1), ours, 3125, 64, 3)[2][:, :, 4].ravel()
    expected = []
    for _ in range(3125):
        ref.random_sample()
        lab = np.arange(64) % 2
        ref.shuffle(lab)
        for _split in (0, 1):
            ref.random_sample((5, 32))
            expected.append(ref.standard_normal(32))
    assert np.array_equal(got, np.concatenate(expected))
