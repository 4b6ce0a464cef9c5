"""What the fit figure draws (tlsbayes.results.curves): the model's curves in the units of the
data, checked against the model evaluated directly, and stored and read back exactly."""

import io
import json

import numpy as np
import pytest

from tlsbayes import plotting
from tlsbayes.inference.likelihood import Likelihood
from tlsbayes.inference.posterior import Dataset, Posterior
from tlsbayes.inference.prior_set import PriorSet
from tlsbayes.models import FrequencyShift, QPower
from tlsbayes.reporting.context import Axis
from tlsbayes.results.curves import GRID_POINTS, QUANTILES, FitCurves, fit_curves

QI_TRUTH = {"delta0": 2e-6, "delta_other": 3e-7, "P_c": 1e-12, "beta": 0.3}


def _qi_posterior():
    model = QPower(T=0.011, f=5.7e9, saturation="power")
    P = np.geomspace(1e-16, 1e-6, 15)
    inv_q = model.predict(QI_TRUTH, P) * (1 + 0.02 * np.sin(np.arange(15)))
    ds = Dataset("qi", model, P, inv_q, 0.01 * inv_q, Likelihood("gaussian"))
    pri = {n: {"dist": "fixed", "value": v} for n, v in QI_TRUTH.items() if n != "delta0"}
    pri["delta0"] = {"dist": "loguniform", "low": 1e-8, "high": 1e-4}
    pri.update({k: v for k, v in ds.default_priors().items() if k not in pri})
    return Posterior([ds], PriorSet.from_dict(pri)), model, P, inv_q


def _point_mass(post, values, n=50):
    """``n`` identical draws at ``values`` (sampling coordinates)."""
    free = {k: np.full(n, v) for k, v in values.items() if k in post.free_names}
    return post.priors.from_params(free)


def test_a_point_mass_posterior_draws_the_model_itself_in_the_units_of_the_data():
    """All draws equal: every quantile is the model at the grid; Qi data (fitted as 1/Qi) are
    shown as Qi with sigma/y^2 error bars and the residual's sign flipped."""
    post, model, P, inv_q = _qi_posterior()
    theta = _point_mass(post, QI_TRUTH)
    c = fit_curves(post, theta, axes_of={"qi": (None, Axis("Qi", "", reciprocal=True))},
                   title="card")
    (d,) = c.datasets
    grid = np.geomspace(P.min(), P.max(), GRID_POINTS)  # power: a log axis, a geometric grid
    np.testing.assert_allclose(d.x_grid, grid, rtol=1e-15)
    expect = 1.0 / model.predict(QI_TRUTH, grid)
    assert d.band.shape == (len(QUANTILES), GRID_POINTS)
    for row in d.band:
        np.testing.assert_allclose(row, expect, rtol=1e-12)
    mu = model.predict(QI_TRUTH, P)
    np.testing.assert_allclose(d.median_at_data, mu, rtol=1e-12)
    np.testing.assert_allclose(d.y, 1.0 / inv_q, rtol=1e-15)
    np.testing.assert_allclose(d.sigma, 0.01 / inv_q, rtol=1e-12)
    np.testing.assert_allclose(d.residual, -(inv_q - mu) / (0.01 * inv_q), atol=1e-9)
    assert d.error_bars and d.log_x and d.log_y
    assert (d.y_label, d.residual_label) == ("Qᵢ", "(data − model)/σ")
    assert (c.title, d.title) == ("card", "data set qi (model q_power)")


def test_band_quantiles_are_those_of_the_draws_and_frequencies_are_offset():
    """Two clusters of draws (f0 = a or b, 30 %/70 %): the 16 % curve is the model at a, the
    50 % and 84 % at b; frequencies are shown as f - median(y), the offset in the label."""
    model = FrequencyShift()
    T = np.linspace(0.02, 0.5, 12)
    truth = {"f0": 5e9, "delta0": 1e-5}
    y = model.predict(truth, T)
    ds = Dataset("f", model, T, y, np.full(T.size, 10.0), Likelihood("gaussian"))
    pri = {"f0": {"dist": "uniform", "low": 4.9e9, "high": 5.1e9},
           "delta0": {"dist": "fixed", "value": 1e-5}}
    post = Posterior([ds], PriorSet.from_dict(pri))
    a, b = 5e9 - 100.0, 5e9 + 100.0
    theta = post.priors.from_params({"f0": np.r_[np.full(30, a), np.full(70, b)]})
    (d,) = fit_curves(post, theta).datasets
    offset = float(np.median(y))
    grid = np.linspace(T.min(), T.max(), GRID_POINTS)
    at = {v: model.predict({**truth, "f0": v}, grid) - offset for v in (a, b)}
    np.testing.assert_allclose(d.band[1], at[a], rtol=0, atol=1e-3)
    for k in (2, 3, 4):
        np.testing.assert_allclose(d.band[k], at[b], rtol=0, atol=1e-3)
    np.testing.assert_allclose(d.y, y - offset, atol=1e-3)
    assert d.y_label == f"f − {offset:.9g} Hz" and not d.log_x and not d.log_y
    np.testing.assert_allclose(d.residual, (y - model.predict({**truth, "f0": b}, T)) / 10.0,
                               atol=1e-6)


def test_curves_survive_json_exactly_and_draw_the_same_figure():
    """Stored as JSON and read back: every array bit for bit (NaN included), and the figure
    drawn from the copy is the same file as the one drawn from the original."""
    post, *_ = _qi_posterior()
    theta = np.random.default_rng(1).normal(size=(80, post.ndim))
    c = fit_curves(post, theta, title="t")
    d0 = c.datasets[0]
    band = d0.band.copy()
    band[0, 3] = np.nan
    c = FitCurves(c.title, (type(d0)(**{**d0.__dict__, "band": band}),))
    back = FitCurves.from_json(json.loads(json.dumps(c.to_json())))
    for name, v in c.datasets[0].__dict__.items():
        w = getattr(back.datasets[0], name)
        if isinstance(v, np.ndarray):
            assert w.dtype == np.float64 and np.array_equal(v, w, equal_nan=True), name
        else:
            assert w == v, name
    png = []
    for curves in (c, back):
        buf = io.BytesIO()
        plotting.plot_fit(curves, buf)
        png.append(buf.getvalue())
    assert png[0] == png[1] and png[0][:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("damage", [
    lambda doc: doc["datasets"][0].pop("band"),
    lambda doc: doc["datasets"][0].update(title=3),
    lambda doc: doc.update(title=["x"]),
])
def test_a_malformed_curves_document_is_refused(damage):
    post, *_ = _qi_posterior()
    doc = fit_curves(post, np.zeros((5, post.ndim))).to_json()
    damage(doc)
    with pytest.raises((KeyError, TypeError, ValueError)):
        FitCurves.from_json(doc)


def test_band_quantiles_equal_numpys_nanpercentile_with_nan_and_infinite_draws():
    """The fast path (np.percentile on the columns without NaN) gives numpy's nanpercentile
    bit for bit, with NaN draws, an all-NaN column and infinite draws."""
    import warnings

    from tlsbayes.results.curves import _quantiles

    rng = np.random.default_rng(0)
    v = rng.lognormal(size=(400, 60))
    v[3, 5] = np.nan
    v[:, 7] = np.nan
    v[10, 9], v[11, 9], v[12, 11] = np.inf, -np.inf, np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the all-NaN column
        expect = np.nanpercentile(v, list(QUANTILES), axis=0)
        got = _quantiles(v)
    assert np.array_equal(got, expect, equal_nan=True)
    assert np.isnan(got[:, 7]).all() and not np.isnan(got[:, 5]).any()
