"""The same seed gives the same chain, bit for bit, across refactors of the package.

Three shipped cards are fitted through the command line for 1000 steps (the chain is
deterministic from the first step, so a short run pins it as well as a converged one): the
Defrance B(2) 809 MHz Qi(P) card (stretch moves, self-consistent field), the Maillet SiN
N-state damping card (NEMS kernel, tables) and the real Ta LGS1 card (DE moves, real data,
dBm powers). Every array of the ``posterior``, ``sample_stats`` and ``log_likelihood`` groups of
posterior.nc is compared, by SHA-256 of its float64 bytes, with the values recorded in
``tests/reference/pinned_draws.json``; the first and last element are compared too, so that a
failure shows how far the chain moved.

A change that is *meant* to change the chain (a new move, a different random stream, a
changed kernel) regenerates the file with ``python tests/reference/pin_draws.py`` and says why
in its commit; a refactor never does. A numpy/numba upgrade that changes floating-point
results in the last bit also shows up here.
"""

import hashlib
import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
PINS = ROOT / "tests" / "reference" / "pinned_draws.json"
sys.path.insert(0, str(ROOT / "tests" / "reference"))

from pin_draws import CARDS, run_and_digest  # noqa: E402


def _real_data_missing(card):
    # the real card reads the shared measured data, which a bare clone may not have beside it
    if not card.startswith("models/real/"):
        return False
    from tlsbayes import io as tio

    return not Path(os.environ.get("TLSBAYES_REAL_DATA") or tio.real_data_dir()).is_dir()


@pytest.mark.parametrize("card", CARDS)
def test_same_seed_same_chain_as_pinned(card, tmp_path):
    if _real_data_missing(card):
        pytest.skip("shared real data not found (set TLSBAYES_REAL_DATA)")
    pinned = json.loads(PINS.read_text())[card]
    got = run_and_digest(card, tmp_path / "run", root=ROOT)
    assert sorted(got) == sorted(pinned), "posterior.nc variables changed"
    moved = {k: (pinned[k], got[k]) for k in pinned if got[k] != pinned[k]}
    assert not moved, f"{card}: chain differs from the pinned one: {moved}"
