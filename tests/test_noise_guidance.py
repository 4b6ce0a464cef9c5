"""report.md says so when the quoted uncertainties do not describe the scatter of the data."""

import re

import numpy as np
import pandas as pd
import pytest

from tlsbayes.fit import run_fit
from tlsbayes.fit_report import noise_guidance
from tlsbayes.inference.likelihood import Likelihood
from tlsbayes.models import LogShift
from tlsbayes.inference.posterior import Dataset, Posterior
from tlsbayes.inference.prior_set import PriorSet
from tlsbayes.sampling import SamplerSettings

TRUTH = {"C": 2.1e-5, "T0": 0.1}
PRIORS = {"C": {"dist": "loguniform", "low": 1e-7, "high": 1e-3},
          "T0": {"dist": "loguniform", "low": 1e-3, "high": 10.0},
          "a3": {"dist": "fixed", "value": 0.0}}


def _data(n, true_sigma, seed):
    rng = np.random.default_rng(seed)
    T = np.geomspace(0.03, 1.0, n)
    mu = LogShift().predict(dict(TRUTH, a3=0.0), T)
    return T, mu + true_sigma * rng.standard_normal(n)


def _posterior(T, y, quoted, kind, extra=None):
    ds = Dataset("shift", LogShift(), T, y, np.full(T.size, quoted), Likelihood(kind))
    pri = dict(PRIORS)
    pri.update(extra or {})
    pri.update({k: v for k, v in ds.default_priors().items() if k not in pri})
    return Posterior([ds], PriorSet.from_dict(pri))


def _summary(values):
    return pd.DataFrame({"median": values, "q16": values, "q84": values})


def test_fit_with_optimistic_error_bars_says_so_in_the_report(tmp_path):
    """Quoted sigma three times too small: the noise scale comes out near 3 and report.md
    explains it; with honest error bars the section is absent."""
    T, y = _data(40, 3e-7, seed=4)
    settings = SamplerSettings(seed=3, progress=False, target_ess=400.0, max_steps=20_000)
    post = _posterior(T, y, 1e-7, "gaussian_noise_scale")
    res = run_fit(post, settings, tmp_path / "a", plots=False, print_fn=lambda *a: None)
    assert res.converged
    s = float(res.summary.loc["noise_scale", "median"])
    assert 2.3 < s < 3.9
    report = (tmp_path / "a" / "report.md").read_text()
    assert "## Quoted uncertainties" in report
    assert f"noise_scale = {s:.3g}" in report and "smaller than the scatter" in report
    honest = _posterior(T, y, 3e-7, "gaussian_noise_scale")
    res = run_fit(honest, settings, tmp_path / "b", plots=False, print_fn=lambda *a: None)
    assert 0.6 < float(res.summary.loc["noise_scale", "median"]) < 1.6
    assert "## Quoted uncertainties" not in (tmp_path / "b" / "report.md").read_text()


@pytest.mark.parametrize("true_sigma,expect", [(3e-7, "smaller"), (0.3e-7, "larger"),
                                               (1e-7, None)])
def test_plain_gaussian_fit_reports_the_rms_normalised_residual(true_sigma, expect):
    T, y = _data(400, true_sigma, seed=5)
    post = _posterior(T, y, 1e-7, "gaussian")
    out = noise_guidance(_summary(pd.Series(TRUTH)), post)
    if expect is None:
        assert out == []
        return
    (sentence,) = out
    r = float(re.search(r"rms residual at the posterior median is ([0-9.]+) times", sentence)
              .group(1))
    # 400 points: the rms of the normalised residuals is within ~4 % of true/quoted
    assert r == pytest.approx(true_sigma / 1e-7, rel=0.1)
    assert expect in sentence and "gaussian_noise_scale" in sentence


def test_small_student_t_nu_and_small_noise_scale_are_flagged():
    T, y = _data(30, 1e-7, seed=6)
    post = _posterior(T, y, 1e-7, "student_t",
                      {"nu": {"dist": "uniform", "low": 1.0, "high": 50.0}})
    heavy = noise_guidance(_summary(pd.Series(dict(TRUTH, noise_scale=0.3, nu=2.2))), post)
    assert len(heavy) == 2
    assert "1/0.3" not in heavy[0] and "3.3 times larger" in heavy[0]
    assert "nu = 2.2 is small" in heavy[1] and "outliers" in heavy[1]
    assert noise_guidance(_summary(pd.Series(dict(TRUTH, noise_scale=1.2, nu=20.0))), post) == []
