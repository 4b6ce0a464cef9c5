"""Tests for tlsbayes.inference.priors and prior_set: densities against scipy.stats, normalisation, sampling,
sampling-coordinate Jacobians, whitelist parsing and the PriorSet layout."""

import math
import pickle

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_allclose, assert_array_equal
from scipy import integrate, stats

from tlsbayes.errors import PriorError
from tlsbayes.inference.priors import Fixed, LogUniform, Normal, Prior, TruncatedNormal, Uniform
from tlsbayes.inference.prior_set import PriorSet, prior_from_dict

INF = math.inf


def _truncnorm_scipy(mu, sigma, low, high):
    return stats.truncnorm((low - mu) / sigma, (high - mu) / sigma, loc=mu, scale=sigma)


# (prior, scipy equivalent); covers narrow/wide ranges and truncation in either tail
CASES = [
    (Uniform(-2.0, 3.5), stats.uniform(loc=-2.0, scale=5.5)),
    (Uniform(1e-3, 1.5e-3, unit="K"), stats.uniform(loc=1e-3, scale=0.5e-3)),
    (LogUniform(1e-7, 1e-4, unit="s^-1"), stats.loguniform(1e-7, 1e-4)),
    (LogUniform(0.5, 2.0), stats.loguniform(0.5, 2.0)),
    (Normal(1.5, 0.3), stats.norm(1.5, 0.3)),
    (Normal(-4e9, 2e6, unit="Hz"), stats.norm(-4e9, 2e6)),
    (TruncatedNormal(0.3, 0.1, 0.1, 0.6), _truncnorm_scipy(0.3, 0.1, 0.1, 0.6)),
    (TruncatedNormal(0.0, 1.0, 3.0, 8.0), _truncnorm_scipy(0.0, 1.0, 3.0, 8.0)),
    (TruncatedNormal(0.0, 1.0, -8.0, -3.0), _truncnorm_scipy(0.0, 1.0, -8.0, -3.0)),
    (TruncatedNormal(2.0, 1.0, 0.0, INF), _truncnorm_scipy(2.0, 1.0, 0.0, INF)),
    (TruncatedNormal(0.0, 1.0, -INF, -5.0), _truncnorm_scipy(0.0, 1.0, -INF, -5.0)),
]
CONTINUOUS = [p for p, _ in CASES]
ALL_PRIORS = CONTINUOUS + [Fixed(0.01, unit="K")]
ids = [repr(p) for p, _ in CASES]


def _window(prior):
    """A finite x-range covering the support plus margins on both sides."""
    lo, hi = prior.support
    if isinstance(prior, Normal) or not (math.isfinite(lo) and math.isfinite(hi)):
        mu, s = prior.mu, prior.sigma
        lo = lo if math.isfinite(lo) else mu - 8 * s
        hi = hi if math.isfinite(hi) else mu + 8 * s
    w = hi - lo
    return lo - 0.2 * w, hi + 0.2 * w


def _points(prior, n=1001):
    a, b = _window(prior)
    lo, hi = prior.support
    x = np.concatenate([np.linspace(a, b, n), [lo, hi]])
    return x[np.isfinite(x)]


# ---------------------------------------------------------------------------------------------
# agreement with scipy.stats
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("prior, ref", CASES, ids=ids)
def test_log_prob_matches_scipy(prior, ref):
    x = _points(prior)
    # atol only matters where ln p crosses 0 and relative error is meaningless
    assert_allclose(prior.log_prob(x), ref.logpdf(x), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("prior, ref", CASES, ids=ids)
def test_cdf_matches_scipy(prior, ref):
    x = _points(prior)
    assert_allclose(prior.cdf(x), ref.cdf(x), rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("prior, ref", CASES, ids=ids)
def test_ppf_matches_scipy(prior, ref):
    q = np.concatenate([np.linspace(0.0, 1.0, 1001), [1e-6, 1e-3, 1 - 1e-3, 1 - 1e-6]])
    assert_allclose(prior.ppf(q), ref.ppf(q), rtol=1e-12, atol=1e-14 * ref.std())


@pytest.mark.parametrize(
    "mu, sigma, low, high, q",
    [(2.0, 1.0, 0.0, INF, 1 - 1e-12), (1.0, 2.0, -1.0, 40.0, 1 - 1e-12), (0.0, 1.0, 3.0, 8.0, 1e-15)],
)
def test_truncnorm_ppf_extreme_quantiles_against_mpmath(mu, sigma, low, high, q):
    # scipy itself loses digits here (~3e-7 relative), so the reference is 50-digit mpmath
    mpmath.mp.dps = 50
    a = (mpmath.mpf(low) - mu) / sigma
    b = (mpmath.mpf(high) - mu) / sigma if math.isfinite(high) else mpmath.inf
    pa, pb = mpmath.ncdf(a), mpmath.ncdf(b)
    target = pa + mpmath.mpf(q) * (pb - pa)
    u = mpmath.findroot(lambda u: mpmath.ncdf(u) - target, mpmath.sqrt(2) * mpmath.erfinv(2 * target - 1))
    expected = float(mu + sigma * u)
    assert TruncatedNormal(mu, sigma, low, high).ppf(q) == pytest.approx(expected, rel=1e-12)


def test_scalar_input_gives_python_float():
    p = Normal(0.0, 1.0)
    for value in (p.log_prob(0.5), p.cdf(0.5), p.ppf(0.5), p.log_prob_sampling(0.5)):
        assert type(value) is float
    assert p.log_prob(np.zeros((3, 4))).shape == (3, 4)


# ---------------------------------------------------------------------------------------------
# normalisation and Jacobians
# ---------------------------------------------------------------------------------------------


def _finite_support(prior):
    """Support with infinite ends replaced by mu ± 40 sigma (the mass beyond is < 1e-300).

    quad's infinite-interval map has unit scale and misses a narrow peak at 4e9 Hz.
    """
    lo, hi = prior.support
    if not math.isfinite(lo):
        lo = prior.mu - 40 * prior.sigma
    if not math.isfinite(hi):
        hi = prior.mu + 40 * prior.sigma
    return lo, hi


def _integrate(f, lo, hi, peak):
    points = [peak] if lo < peak < hi else None
    total, _ = integrate.quad(f, lo, hi, points=points, epsabs=0, epsrel=1e-11, limit=500)
    return total


@pytest.mark.parametrize("prior", CONTINUOUS, ids=repr)
def test_density_integrates_to_one(prior):
    lo, hi = _finite_support(prior)
    peak = getattr(prior, "mu", lo)
    assert _integrate(lambda x: math.exp(prior.log_prob(x)), lo, hi, peak) == pytest.approx(1.0, rel=1e-9)


@pytest.mark.parametrize("prior", CONTINUOUS, ids=repr)
def test_sampling_density_integrates_to_one(prior):
    lo, hi = _finite_support(prior)
    zlo, zhi = prior.to_sampling(lo), prior.to_sampling(hi)
    peak = prior.to_sampling(getattr(prior, "mu", lo))
    total = _integrate(lambda z: math.exp(prior.log_prob_sampling(z)), zlo, zhi, peak)
    assert total == pytest.approx(1.0, rel=1e-9)


def test_loguniform_is_uniform_in_log_with_jacobian():
    p = LogUniform(1e-7, 1e-4)
    assert p.transform == "log"
    z = np.linspace(math.log(1e-7), math.log(1e-4), 101)
    lpz = p.log_prob_sampling(z)
    assert_allclose(lpz, -math.log(math.log(1e3)), rtol=1e-14)
    assert_allclose(lpz, p.log_prob(p.from_sampling(z)) + z, rtol=1e-12)
    assert_allclose(p.to_sampling(p.from_sampling(z)), z, rtol=1e-15)
    x = np.geomspace(1e-7, 1e-4, 50)
    assert_allclose(p.to_sampling(x), np.log(x), rtol=1e-15)
    assert_allclose(p.from_sampling(p.to_sampling(x)), x, rtol=1e-14)
    # from_sampling at the edges of the z-support stays inside the physical support
    edges = p.from_sampling(np.array([math.log(1e-7), math.log(1e-4)]))
    assert 1e-7 <= edges[0] and edges[1] <= 1e-4


@pytest.mark.parametrize("prior", [p for p in ALL_PRIORS if p.transform == "identity"], ids=repr)
def test_identity_transform(prior):
    x = _points(prior, 51) if not isinstance(prior, Fixed) else np.array([prior.value, 0.0])
    assert_array_equal(prior.to_sampling(x), x)
    assert_array_equal(prior.from_sampling(x), x)
    assert_array_equal(prior.log_prob_sampling(x), prior.log_prob(x))


def test_truncnorm_far_tail_is_normalised():
    # 100 sigma out: Phi differences underflow in linear space but not in log space
    p = TruncatedNormal(0.0, 1.0, 100.0, 101.0)
    x = np.linspace(100.0, 101.0, 5)
    assert np.all(np.isfinite(p.log_prob(x)))
    assert _integrate(lambda v: math.exp(p.log_prob(v)), 100.0, 101.0, 100.0) == pytest.approx(1.0, rel=1e-9)
    # the density there is ~100/sigma, so one ulp of x moves q by ~1e-12: round trip to 1e-9
    assert_allclose(p.cdf(p.ppf([0.1, 0.5, 0.9])), [0.1, 0.5, 0.9], rtol=1e-9)
    mpmath.mp.dps = 50
    sf_a, sf_b = mpmath.ncdf(-100), mpmath.ncdf(-101)
    u = mpmath.findroot(lambda u: (sf_a - mpmath.ncdf(-u)) / (sf_a - sf_b) - mpmath.mpf("0.1"), 100.001)
    assert p.ppf(0.1) == pytest.approx(float(u), rel=1e-14)


def test_fixed_is_a_point_mass():
    p = Fixed(0.01)
    assert p.log_prob(0.01) == 0.0
    assert p.log_prob(0.0100001) == -INF
    assert_array_equal(p.cdf([0.0, 0.01, 1.0]), [0.0, 1.0, 1.0])
    assert_array_equal(p.ppf([0.0, 0.3, 1.0]), [0.01, 0.01, 0.01])
    assert_array_equal(p.sample(4, np.random.default_rng(0)), np.full(4, 0.01))
    assert p.support == (0.01, 0.01)


# ---------------------------------------------------------------------------------------------
# quantiles and sampling
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("prior", CONTINUOUS, ids=repr)
def test_ppf_cdf_round_trip(prior):
    lo, hi = prior.support
    x = _points(prior, 401)
    x = x[(x > lo) & (x < hi)]
    c = prior.cdf(x)
    # cdf values near 1 carry only ~1e-16 absolute precision, i.e. ~1e-16 / (1 - c) relative
    # precision in the upper tail; no inverse can recover more, so stop at 1 - 1e-5
    keep = (c > 1e-12) & (c < 1 - 1e-5)
    x, c = x[keep], c[keep]
    assert x.size > 100
    assert_allclose(prior.ppf(c), x, rtol=1e-9, atol=1e-9 * (x.max() - x.min()))
    q = np.linspace(0.001, 0.999, 199)
    assert_allclose(prior.cdf(prior.ppf(q)), q, rtol=1e-10)


ROUNDING_CASES = [  # naive ppf(1) rounds below high for these
    Uniform(-8.828639303896113, 7.529684616214077),
    LogUniform(1.31315055058975e-07, 1.961616564044137e-05),
]


@pytest.mark.parametrize("prior", CONTINUOUS + ROUNDING_CASES, ids=repr)
def test_ppf_end_points_and_invalid_q(prior):
    lo, hi = prior.support
    assert prior.ppf(0.0) == lo and prior.ppf(1.0) == hi
    assert np.isnan(prior.ppf([-0.1, 1.1, np.nan])).all()
    assert prior.cdf(lo) == 0.0 and prior.cdf(hi) == 1.0
    assert math.isnan(prior.cdf(np.nan))


@pytest.mark.parametrize("prior", CONTINUOUS, ids=repr)
def test_samples_follow_cdf(prior):
    x = prior.sample(4000, np.random.default_rng(20240611))
    assert x.shape == (4000,)
    lo, hi = prior.support
    assert np.all((x >= lo) & (x <= hi))
    assert stats.kstest(x, prior.cdf).pvalue > 0.01


@pytest.mark.parametrize("prior, ref", CASES, ids=ids)
def test_sample_moments(prior, ref):
    # KS has little power against a few-percent scale error; moments at n = 20000 do
    n = 20000
    x = prior.sample(n, np.random.default_rng(31))
    mean, var, _, kurt = (float(v) for v in ref.stats(moments="mvsk"))
    assert abs(x.mean() - mean) < 5 * math.sqrt(var / n)
    assert abs(x.var() - var) < 5 * math.sqrt((kurt + 2.0) * var**2 / n)


def test_narrow_loguniform_keeps_precision():
    # ln(high/low) ~ 1e-9: log(x) - log(low) would keep only ~7 digits
    low, high = 1.0e-6, 1.000000001e-6
    p = LogUniform(low, high)
    mpmath.mp.dps = 50
    lnr = mpmath.log(mpmath.mpf(high) / mpmath.mpf(low))
    x = low + np.array([0.1, 0.37, 0.9]) * (high - low)
    expected_cdf = [float(mpmath.log(mpmath.mpf(v) / mpmath.mpf(low)) / lnr) for v in x]
    assert_allclose(p.cdf(x), expected_cdf, rtol=1e-12)
    assert p.log_prob_sampling(math.log(x[0])) == pytest.approx(float(-mpmath.log(lnr)), rel=1e-14)


@pytest.mark.parametrize("prior", ALL_PRIORS, ids=repr)
def test_same_seed_same_samples(prior):
    a = prior.sample((5, 3), np.random.default_rng(7))
    b = prior.sample((5, 3), np.random.default_rng(7))
    assert a.shape == (5, 3)
    assert_array_equal(a, b)
    if not isinstance(prior, Fixed):
        assert not np.array_equal(a, prior.sample((5, 3), np.random.default_rng(8)))


def test_sample_requires_generator():
    with pytest.raises(TypeError, match="Generator"):
        Uniform(0, 1).sample(3, 42)


# ---------------------------------------------------------------------------------------------
# never NaN, -inf outside the support
# ---------------------------------------------------------------------------------------------



SPECIAL = [np.nan, INF, -INF, 0.0, -0.0, 5e-324, -5e-324, 1.7e308, -1.7e308]


def _check_log_prob_at(prior, x):
    lo, hi = prior.support
    lp = prior.log_prob(x)
    assert not math.isnan(lp)
    if math.isnan(x) or not lo <= x <= hi:
        assert lp == -INF
    elif math.isfinite(lo) and math.isfinite(hi):
        assert math.isfinite(lp)
    zlo, zhi = prior.to_sampling(lo), prior.to_sampling(hi)
    lpz = prior.log_prob_sampling(x)  # x read as a sampling coordinate
    assert not math.isnan(lpz)
    if math.isnan(x) or not zlo <= x <= zhi:
        assert lpz == -INF


@pytest.mark.parametrize("prior", ALL_PRIORS, ids=repr)
def test_log_prob_special_values(prior):
    for x in SPECIAL:
        _check_log_prob_at(prior, x)
    lp = prior.log_prob(np.array(SPECIAL))
    assert lp.shape == (len(SPECIAL),) and not np.isnan(lp).any()


@settings(max_examples=300, deadline=None)
@given(x=st.floats(allow_nan=True, allow_infinity=True))
def test_log_prob_never_nan(x):
    for prior in ALL_PRIORS:
        _check_log_prob_at(prior, x)


@settings(max_examples=100, deadline=None)
@given(z=hnp.arrays(np.float64, st.integers(0, 20), elements=st.floats(allow_nan=True, allow_infinity=True)))
def test_log_prob_sampling_vectorised_never_nan(z):
    for prior in ALL_PRIORS:
        lpz = prior.log_prob_sampling(z)
        assert lpz.shape == z.shape
        assert not np.isnan(lpz).any()
        zlo, zhi = (prior.to_sampling(v) for v in prior.support)
        outside = np.isnan(z) | (z < zlo) | (z > zhi)
        assert np.all(lpz[outside] == -INF)
        assert not np.isnan(prior.log_prob(z)).any()


# ---------------------------------------------------------------------------------------------
# construction, serialisation, whitelist parsing
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda: Uniform(1.0, 1.0), ["low", "high", "1"]),
        (lambda: Uniform(2.0, 1.0), ["low (2)", "high (1)"]),
        (lambda: Uniform(0.0, INF), ["high", "inf"]),
        (lambda: Uniform(-1e308, 1e308), ["overflows"]),
        (lambda: Uniform(np.nan, 1.0), ["low", "nan"]),
        (lambda: Uniform("0", 1.0), ["low", "str"]),
        (lambda: Uniform(True, 2.0), ["low", "bool"]),
        (lambda: LogUniform(0.0, 1.0), ["low", "> 0", "0"]),
        (lambda: LogUniform(-1.0, 1.0), ["low", "-1"]),
        (lambda: LogUniform(1e-4, 1e-7), ["low", "high"]),
        (lambda: Normal(0.0, 0.0), ["sigma", "0"]),
        (lambda: Normal(0.0, -1.0), ["sigma", "-1"]),
        (lambda: Normal(INF, 1.0), ["mu", "inf"]),
        (lambda: TruncatedNormal(0.0, 1.0, 2.0, 1.0), ["low (2)", "high (1)"]),
        (lambda: TruncatedNormal(0.0, 1.0, INF, INF), ["low (inf)", "high (inf)"]),
        (lambda: TruncatedNormal(0.0, 1.0, 0.0, -INF), ["low (0)", "high (-inf)"]),
        (lambda: TruncatedNormal(0.0, 1e-200, 1.0, 2.0), ["no probability mass"]),
        (lambda: TruncatedNormal(0.0, -1.0, 0.0, 1.0), ["sigma"]),
        (lambda: Fixed(np.inf), ["value", "inf"]),
        (lambda: Uniform(0.0, 1.0, unit=3), ["unit"]),
    ],
)
def test_invalid_construction(make, words):
    with pytest.raises(PriorError) as info:
        make()
    for w in words:
        assert w in str(info.value)


@pytest.mark.parametrize("prior", ALL_PRIORS, ids=repr)
def test_dict_and_pickle_round_trip(prior):
    d = prior.to_dict()
    assert set(d) == {"dist", "unit", "latex", *prior._keys}
    assert all(type(v) in (str, float) for v in d.values())
    assert prior_from_dict(d) == prior
    clone = pickle.loads(pickle.dumps(prior))
    assert clone == prior
    x = _points(prior, 21) if not isinstance(prior, Fixed) else np.array([prior.value])
    assert_array_equal(clone.log_prob(x), prior.log_prob(x))


def test_to_dict_example():
    p = LogUniform(1e-7, 1e-4, latex=r"$\Gamma$")
    assert p.to_dict() == {"dist": "loguniform", "low": 1e-7, "high": 1e-4, "unit": "", "latex": r"$\Gamma$"}


def test_prior_from_dict_accepts_ints_and_labels():
    p = prior_from_dict({"dist": "uniform", "low": 0, "high": 1, "unit": "K", "latex": "$T$"}, name="T")
    assert p == Uniform(0.0, 1.0, unit="K", latex="$T$")
    assert type(p.low) is float


@pytest.mark.parametrize(
    "d, words",
    [
        ({"dist": "gaussian", "mu": 0, "sigma": 1}, ["dist", "'gaussian'", "truncnorm"]),
        ({"dist": "Uniform", "low": 0, "high": 1}, ["'Uniform'", "did you mean 'uniform'"]),
        ({"low": 0.1, "high": 0.6}, ["missing key 'dist'"]),
        (
            {"dist": "uniform", "low": 0.1, "hgih": 0.6},
            ["unknown key 'hgih' (allowed: low, high, unit, latex)", "did you mean 'high'"],
        ),
        ({"dist": "uniform", "low": 0.1}, ["missing key 'high'"]),
        ({"dist": "truncnorm", "mu": 0.3, "sigma": 0.1, "low": 0.1}, ["missing key 'high'"]),
        ({"dist": "fixed", "value": 0.3, "sigma": 0.1}, ["unknown key 'sigma'", "allowed: value"]),
        ({"dist": "uniform", "low": 0.6, "high": 0.1}, ["low (0.6)", "high (0.1)"]),
        ({"dist": "loguniform", "low": 0, "high": 1e-4}, ["low", "> 0", "got 0"]),
        ({"dist": "loguniform", "low": -1e-7, "high": 1e-4}, ["low", "-1e-07"]),
        ({"dist": "normal", "mu": 0.3, "sigma": 0}, ["sigma", "got 0"]),
        ({"dist": "uniform", "low": "0.1", "high": 0.6}, ["low", "'0.1'"]),
        ({"dist": "uniform", "low": 0.1, "high": 0.6, "unit": 1}, ["unit"]),
        (["uniform", 0.1, 0.6], ["expected a table"]),
    ],
)
def test_whitelist_errors_name_parameter_and_key(d, words):
    with pytest.raises(PriorError) as info:
        prior_from_dict(d, name="beta")
    msg = str(info.value)
    assert msg.startswith("prior for 'beta'")
    for w in words:
        assert w in msg


def test_strings_are_never_evaluated():
    # an eval-based parser would raise ZeroDivisionError (or run the code) instead
    for text in ("1/0", "__import__('os').getpid()"):
        with pytest.raises(PriorError, match="must be a number"):
            prior_from_dict({"dist": "uniform", "low": text, "high": 1.0}, name="beta")
    with pytest.raises(PriorError, match="unknown distribution"):
        prior_from_dict({"dist": "__import__('os')"}, name="beta")


@pytest.mark.parametrize(
    "d",
    [
        {"dist": "uniform", "low": -0.1, "high": 0.5},
        {"dist": "uniform", "low": 0.1, "high": 1.5},
        {"dist": "normal", "mu": 0.3, "sigma": 0.1},
        {"dist": "truncnorm", "mu": 0.3, "sigma": 0.1, "low": 0.0, "high": INF},
        {"dist": "fixed", "value": 2.0},
    ],
)
def test_physical_range_violation(d):
    with pytest.raises(PriorError) as info:
        prior_from_dict(d, name="beta", physical_range=(0, 1))
    assert "prior for 'beta' extends outside its physical range [0, 1]" in str(info.value)


def test_physical_range_itself_validated():
    with pytest.raises(PriorError, match=r"prior for 'beta': physical range \[1, 0\] is inverted"):
        prior_from_dict({"dist": "uniform", "low": 0.1, "high": 0.6}, name="beta", physical_range=(1, 0))


def test_physical_range_accepts_priors_inside():
    for d in (
        {"dist": "uniform", "low": 0.1, "high": 0.6},
        {"dist": "uniform", "low": 0, "high": 1},
        {"dist": "truncnorm", "mu": 0.3, "sigma": 0.5, "low": 0.0, "high": 1.0},
        {"dist": "fixed", "value": 0.25},
    ):
        assert isinstance(prior_from_dict(d, name="beta", physical_range=(0, 1)), Prior)
    p = prior_from_dict({"dist": "loguniform", "low": 1e3, "high": 1e6}, name="Gamma", physical_range=(0, INF))
    assert p.support == (1e3, 1e6)


# ---------------------------------------------------------------------------------------------
# PriorSet
# ---------------------------------------------------------------------------------------------

CARD = {
    "f0": {"dist": "normal", "mu": 4.2e9, "sigma": 1e6, "unit": "Hz"},
    "Gamma": {"dist": "loguniform", "low": 1e3, "high": 1e6, "unit": "s^-1", "latex": r"$\Gamma$"},
    "T": {"dist": "fixed", "value": 0.015, "unit": "K"},
    "beta": {"dist": "truncnorm", "mu": 0.3, "sigma": 0.1, "low": 0.1, "high": 0.6},
    "c": {"dist": "uniform", "low": -1.0, "high": 1.0},
}


@pytest.fixture
def ps():
    return PriorSet.from_dict(CARD, physical_ranges={"beta": (0, 1), "Gamma": (0, INF), "unused": (0, 1)})


def test_priorset_layout(ps):
    assert ps.names == ("f0", "Gamma", "T", "beta", "c")
    assert ps.free_names == ("f0", "Gamma", "beta", "c")
    assert ps.fixed == {"T": 0.015}
    assert ps.ndim == 4
    assert list(ps) == list(ps.names) and len(ps) == 5
    assert ps["Gamma"] == LogUniform(1e3, 1e6, unit="s^-1", latex=r"$\Gamma$")


def test_priorset_physical_range_is_enforced():
    with pytest.raises(PriorError, match="prior for 'c' extends outside its physical range"):
        PriorSet.from_dict(CARD, physical_ranges={"c": (0, 1)})
    with pytest.raises(PriorError, match="prior for 'beta': unknown key 'hgih'"):
        PriorSet.from_dict({"beta": {"dist": "uniform", "low": 0.1, "hgih": 0.6}})


def test_priorset_params_round_trip_vectorised(ps):
    theta = ps.sample(32, np.random.default_rng(3))
    assert theta.shape == (32, 4)
    params = ps.to_params(theta)
    assert list(params) == list(ps.names)
    assert all(np.shape(v) == (32,) for v in params.values())
    assert_array_equal(params["T"], np.full(32, 0.015))
    # Gamma is log-uniform, so its theta column is ln Gamma
    assert_allclose(theta[:, 1], np.log(params["Gamma"]), rtol=1e-15)
    assert np.all((params["Gamma"] >= 1e3) & (params["Gamma"] <= 1e6))
    assert_allclose(ps.from_params(params), theta, rtol=1e-14)


def test_priorset_params_round_trip_single(ps):
    params = {"f0": 4.2e9, "Gamma": 2e4, "beta": 0.35, "c": -0.2}
    theta = ps.from_params(params)
    assert theta.shape == (4,)
    assert theta[1] == pytest.approx(math.log(2e4))
    back = ps.to_params(theta)
    assert all(type(v) is float for v in back.values())
    assert back["T"] == 0.015
    for k, v in params.items():
        assert back[k] == pytest.approx(v, rel=1e-14)
    # fixed values may be passed along (as to_params returns them) ...
    assert_array_equal(ps.from_params(back), theta)
    # ... but not changed
    with pytest.raises(PriorError, match="'T' is fixed at 0.015"):
        ps.from_params({**params, "T": 0.02})


def test_priorset_from_params_errors(ps):
    with pytest.raises(PriorError, match="missing value for free parameter 'beta'"):
        ps.from_params({"f0": 4.2e9, "Gamma": 2e4, "c": 0.0})
    with pytest.raises(PriorError, match="unknown parameter 'gamma'"):
        ps.from_params({"f0": 4.2e9, "gamma": 2e4, "beta": 0.3, "c": 0.0})


def test_priorset_log_prob_is_sum_of_components(ps):
    theta = ps.sample(16, np.random.default_rng(11))
    expected = sum(ps[n].log_prob_sampling(theta[:, i]) for i, n in enumerate(ps.free_names))
    lp = ps.log_prob(theta)
    assert lp.shape == (16,)
    assert np.all(np.isfinite(lp))
    assert_allclose(lp, expected, rtol=1e-14)
    single = ps.log_prob(theta[0])
    assert type(single) is float and single == pytest.approx(expected[0], rel=1e-14)
    # the log-uniform term is the z-density (constant), not the x-density
    assert ps["Gamma"].log_prob_sampling(theta[0, 1]) == pytest.approx(-math.log(math.log(1e3)))


def test_priorset_outside_support_only_affects_that_walker(ps):
    theta = ps.sample(5, np.random.default_rng(0))
    theta[1, 3] = 1.5  # c outside [-1, 1]
    theta[2, 1] = math.log(1e7)  # Gamma above 1e6
    theta[3, 2] = np.nan
    lp = ps.log_prob(theta)
    assert_array_equal(np.isfinite(lp), [True, False, False, False, True])
    assert_array_equal(lp[1:4], [-INF] * 3)
    assert_array_equal(ps.in_support(theta), [True, False, False, False, True])
    assert ps.in_support(theta[0]) is True and ps.in_support(theta[1]) is False


def test_priorset_rejects_bad_shapes(ps):
    for bad in (np.zeros(5), np.zeros((3, 5)), np.zeros((2, 3, 4)), 0.0):
        with pytest.raises(ValueError, match=r"theta must have shape \(4,\)"):
            ps.log_prob(bad)


def test_priorset_sample_is_reproducible(ps):
    a = ps.sample(8, np.random.default_rng(99))
    assert_array_equal(a, ps.sample(8, np.random.default_rng(99)))
    assert not np.array_equal(a, ps.sample(8, np.random.default_rng(100)))
    assert np.all(ps.in_support(a))


def test_priorset_sample_matches_marginals(ps):
    theta = ps.sample(4000, np.random.default_rng(5))
    params = ps.to_params(theta)
    for name in ps.free_names:
        assert stats.kstest(params[name], ps[name].cdf).pvalue > 0.01


def test_priorset_pickle_and_dict_round_trip(ps):
    clone = pickle.loads(pickle.dumps(ps))
    assert clone == ps
    theta = ps.sample(10, np.random.default_rng(1))
    assert_array_equal(clone.log_prob(theta), ps.log_prob(theta))
    assert PriorSet.from_dict(ps.to_dict()) == ps
    assert ps.to_dict()["T"] == {"dist": "fixed", "value": 0.015, "unit": "K", "latex": ""}


def test_priorset_order_matters():
    a = PriorSet({"x": Uniform(0, 1), "y": Normal(0, 1)})
    b = PriorSet({"y": Normal(0, 1), "x": Uniform(0, 1)})
    assert a != b
    assert a == PriorSet({"x": Uniform(0, 1), "y": Normal(0, 1)})


def test_priorset_rejects_non_priors():
    with pytest.raises(PriorError, match="prior for 'x'"):
        PriorSet({"x": {"dist": "uniform", "low": 0, "high": 1}})
