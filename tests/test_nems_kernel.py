"""The NEMS kernel's n_ph = 1 specialisation gives the general kernel's numbers, bit for bit.

``models.kernels.nems.predict_nems`` runs the n_ph = 1 kernel when every walker has n_ph = 1 and the
general one otherwise; a matrix with one extra n_ph = 3/2 walker therefore sends the same
n_ph = 1 rows through the general kernel, which must not change a bit of them.
"""

import numpy as np
import pytest

from tlsbayes.models import nems
from tlsbayes.models.specs import nems as spec


def _walkers(model, rng, n):
    P = np.empty((n, len(nems.PARAMS)))
    P[:, spec.P_C] = 10 ** rng.uniform(-7, -3, n)
    P[:, spec.P_GAMMA] = (10 ** rng.uniform(0, 2, n) if model.phonon == "1d_beam"
                          else 10 ** rng.uniform(25, 45, n))
    P[0, spec.P_GAMMA] = 0.0  # no phonon rate: the per-point path
    P[:, spec.P_N_PH] = 1.0
    P[:, spec.P_X] = rng.uniform(0, 1, n)
    P[1, spec.P_X] = 0.0
    P[:, spec.P_K] = 10 ** rng.uniform(-3, 0, n)
    return P


@pytest.mark.parametrize("state", nems.STATES)
@pytest.mark.parametrize("phonon", nems.PHONON_MODELS)
@pytest.mark.parametrize("T", [np.geomspace(0.01, 5.0, 12),
                               np.array([0.0, 0.02, np.inf, 0.3, -1.0, 1.0])])
def test_n1_kernel_equals_the_general_kernel(state, phonon, T):
    model = nems.NemsDamping(omega=2 * np.pi * 17.5e6, state=state, phonon=phonon)
    P = _walkers(model, np.random.default_rng(3), 8)
    n1 = model.predict_matrix(P, T)
    mixed = np.vstack([P, P[-1:]])
    mixed[-1, spec.P_N_PH] = 1.5
    general = model.predict_matrix(mixed, T)
    assert n1.shape == (8, T.size)
    assert np.array_equal(n1, general[:-1], equal_nan=True)
    assert np.isfinite(n1[:, T > 0]).all()
