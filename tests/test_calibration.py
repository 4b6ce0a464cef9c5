"""Simulation-based calibration, bounded for CI (benchmarks/sbc.py runs the full size).

For each model family: injections drawn from the prior, data simulated, posterior sampled,
rank of the truth among posterior draws.  Calibrated posteriors give uniform ranks.  The CI
form uses 40 injections of 1500 steps per family (the full run: 100+ of 3000); a KS p-value
below 0.001 fails (at 40 injections a 0.01 threshold would flag 1 in 100 honest runs per
parameter, and there are 13 parameters).
"""

import os

import pytest

from tlsbayes.calibration import default_cases, run_sbc

N_INJ = int(os.environ.get("TLSBAYES_SBC_N", "40"))
STEPS = int(os.environ.get("TLSBAYES_SBC_STEPS", "1500"))


@pytest.mark.slow
@pytest.mark.parametrize("case", list(default_cases()))
def test_rank_statistics_uniform(case):
    res = run_sbc(default_cases()[case], N_INJ, steps=STEPS, n_draws=50, workers=2, seed=7)
    print(res.table())
    assert res.ranks.shape == (N_INJ, len(res.names))
    assert ((res.ranks >= 0) & (res.ranks <= 50)).all()
    for name, p in res.pvalues.items():
        assert p > 1e-3, f"{case}: ranks of {name} not uniform (KS p = {p:.2g})\n{res.table()}"
