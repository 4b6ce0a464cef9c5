"""Tests for tlsbayes.results: building, storing, summarising and diagnosing posteriors.

All posteriors are synthetic draws from known distributions with fixed seeds, so every
expected number is either computed with numpy on the very same samples or known analytically.
"""

import datetime as dt
import math
import sys
from pathlib import Path

import numpy as np
import pytest

from tlsbayes import results as R
from tlsbayes.errors import TLSBayesError
from tlsbayes.models.degeneracy import KNOWN_DEGENERACIES

NCHAIN, NDRAW, NOBS = 8, 2000, 6
SEED = 20240601


def _correlated_normal(rng, rho, size):
    """Two standard normal arrays of ``size`` with correlation ``rho``."""
    z1 = rng.standard_normal(size)
    z2 = rho * z1 + math.sqrt(1.0 - rho**2) * rng.standard_normal(size)
    return z1, z2


def _sample_stats(rng, nchain=NCHAIN, ndraw=NDRAW):
    return {
        "lp": rng.normal(-10.0, 1.0, (nchain, ndraw)),
        "log_prior": rng.normal(-2.0, 0.1, (nchain, ndraw)),
        "log_likelihood": rng.normal(-8.0, 1.0, (nchain, ndraw)),
        "acceptance_rate": rng.uniform(0.2, 0.5, nchain),
    }


def _build(posterior, rng=None, **kwargs):
    rng = np.random.default_rng(SEED + 1) if rng is None else rng
    nchain, ndraw = next(iter(posterior.values())).shape
    kwargs.setdefault("sample_stats", _sample_stats(rng, nchain, ndraw))
    kwargs.setdefault("log_likelihood", {"y": rng.normal(-1.0, 0.3, (nchain, ndraw, NOBS))})
    kwargs.setdefault("observed_data", {"y": rng.normal(size=NOBS)})
    return R.build_inference_data(posterior=posterior, **kwargs)


@pytest.fixture(scope="module")
def posterior():
    """Physical parameters with known structure.

    log(E_c) and beta correlated with rho = +0.90, delta0 and delta_other with rho = -0.80,
    f0 a large, well-determined frequency, everything else independent.
    """
    rng = np.random.default_rng(SEED)
    shape = (NCHAIN, NDRAW)
    z_ec, z_beta = _correlated_normal(rng, 0.90, shape)
    z_d0, z_do = _correlated_normal(rng, -0.80, shape)
    return {
        "E_c": np.exp(np.log(30.0) + 0.3 * z_ec),  # V/m
        "beta": 1.6 + 0.2 * z_beta,
        "delta0": 4e-6 + 5e-7 * z_d0,
        "delta_other": 2e-6 + 3e-7 * z_do,
        "f0": 5.123456789e9 + 10.0 * rng.standard_normal(shape),  # Hz
    }


@pytest.fixture(scope="module")
def idata(posterior):
    return _build(posterior)


def _prov(**overrides):
    kwargs = dict(
        version="0.1.0",
        model_card_text='[model]\nname = "tls_loss"\n',
        priors={"E_c": {"dist": "LogUniform", "low": 1.0, "high": 1e4},
                "beta": {"dist": "Uniform", "low": 0.5, "high": 3.0}},
        data_hash=R.data_sha256(np.arange(NOBS, dtype=float)),
        seed=1234,
        sampler_settings={"nwalkers": 32, "nsteps": 5000, "moves": [["DEMove", 0.8]]},
        tau=np.array([41.5, 38.25]),
        verdict="converged: 5000 steps > 50 tau",
        converged=True,
        extra={"note": None, "nested": {"a": [1, 2, {"b": True}]}},
    )
    kwargs.update(overrides)
    return R.provenance(**kwargs)


# --------------------------------------------------------------------------------------------
# build_inference_data / provenance / data_sha256
# --------------------------------------------------------------------------------------------


def test_build_groups_shapes_and_dims(posterior):
    rng = np.random.default_rng(3)
    stats = _sample_stats(rng)
    idata = _build(
        posterior,
        rng=rng,
        sample_stats=stats,
        constant_data={"T": np.linspace(0.01, 0.1, NOBS), "sigma": 0.05},
        prior={"beta": rng.normal(size=(1, 500))},
        obs_dims={"y": "point", "T": "point"},
    )
    assert set(idata.groups()) == {"posterior", "sample_stats", "log_likelihood",
                                   "observed_data", "constant_data", "prior"}
    assert R.attrs_of(idata) == {"format": "tlsbayes-result/1"}  # stamped even without attrs
    assert set(idata.posterior.data_vars) == set(posterior)
    assert idata.posterior.sizes["chain"] == NCHAIN and idata.posterior.sizes["draw"] == NDRAW
    np.testing.assert_array_equal(idata.posterior["beta"].values, posterior["beta"])
    assert idata.log_likelihood["y"].dims == ("chain", "draw", "point")
    assert idata.observed_data["y"].dims == ("point",)
    assert idata.constant_data["T"].dims == ("point",)
    assert idata.constant_data["sigma"].ndim == 0
    assert idata.prior["beta"].shape == (1, 500)
    # one rate per walker is repeated along the draws
    acc = idata.sample_stats["acceptance_rate"].values
    assert acc.shape == (NCHAIN, NDRAW)
    np.testing.assert_array_equal(acc, np.repeat(stats["acceptance_rate"][:, None], NDRAW, 1))
    for key in ("lp", "log_prior", "log_likelihood"):
        np.testing.assert_array_equal(idata.sample_stats[key].values, stats[key])


def test_default_observation_dim_name(idata):
    assert idata.observed_data["y"].dims == ("y_point",)
    assert idata.log_likelihood["y"].dims == ("chain", "draw", "y_point")


def test_log_likelihood_layout_is_usable_by_arviz_loo(idata):
    import arviz as az

    loo = az.loo(idata)
    assert loo["n_data_points"] == NOBS


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda kw: kw["posterior"].update(beta=np.zeros(NDRAW)), "posterior 'beta' has shape"),
        (lambda kw: kw["posterior"].update(beta=np.zeros((NCHAIN + 1, NDRAW))), "chains"),
        (lambda kw: kw["sample_stats"].pop("log_prior"), "'log_prior'"),
        (lambda kw: kw["log_likelihood"].update(y=np.zeros((NCHAIN, NDRAW, NOBS + 1))),
         "observed_data 'y' has 6"),
        (lambda kw: kw["log_likelihood"].update(z=np.zeros((NCHAIN, NDRAW, NOBS))),
         "no matching entry in observed_data"),
        (lambda kw: kw["observed_data"].update(y=np.zeros((NOBS, 2))), "expected (nobs,)"),
    ],
)
def test_build_rejects_bad_shapes(change, message):
    rng = np.random.default_rng(0)
    kw = dict(
        posterior={"beta": rng.normal(size=(NCHAIN, NDRAW)),
                   "f0": rng.normal(size=(NCHAIN, NDRAW))},
        sample_stats=_sample_stats(rng),
        log_likelihood={"y": rng.normal(size=(NCHAIN, NDRAW, NOBS))},
        observed_data={"y": rng.normal(size=NOBS)},
    )
    change(kw)
    with pytest.raises(R.ResultError, match=message.replace("(", r"\(").replace(")", r"\)")):
        R.build_inference_data(**kw)


def test_provenance_keys_and_format():
    prov = _prov()
    assert set(prov) == {"version", "model_card_text", "priors", "data_hash", "seed",
                         "sampler_settings", "tau", "verdict", "converged", "extra",
                         "created", "format"}
    assert prov["format"] == f"tlsbayes-result/{R.RESULT_FORMAT_VERSION}"
    assert R.RESULT_FORMAT_VERSION == 1
    created = dt.datetime.fromisoformat(prov["created"])
    assert created.utcoffset() == dt.timedelta(0)
    assert abs((dt.datetime.now(dt.timezone.utc) - created).total_seconds()) < 60
    assert prov["tau"] == [41.5, 38.25] and prov["converged"] is True


def test_attrs_encoded_for_netcdf_and_decoded_back(posterior):
    prov = _prov()
    idata = _build(posterior, attrs=prov)
    for value in idata.attrs.values():
        # NetCDF attributes can only be text or numbers
        assert isinstance(value, (str, int, float)) and not isinstance(value, bool)
    assert idata.attrs["verdict"] == prov["verdict"]  # strings are stored as they are
    assert isinstance(idata.attrs["priors"], str)  # nested dicts as JSON text
    assert R.attrs_of(idata) == prov


def test_json_looking_plain_string_stays_a_string(posterior):
    idata = _build(posterior, attrs={"verdict": "[1, 2]", "n": 3, "x": 2.5})
    attrs = R.attrs_of(idata)
    assert attrs["verdict"] == "[1, 2]" and attrs["n"] == 3 and attrs["x"] == 2.5


def test_unstorable_attr_is_reported_by_name(posterior):
    with pytest.raises(R.ResultError, match="attribute 'card'"):
        _build(posterior, attrs={"card": object()})


def test_data_sha256_is_stable_and_discriminating():
    x = np.linspace(0.0, 1.0, 11)
    digest = R.data_sha256(x, b"raw bytes", "text")
    # Pinned value: a change here means old results no longer match their data.
    assert digest == "b08f65636131b4ee1a9677c1340028a59651814b5e2da97235888b23f1a93188"
    assert R.data_sha256(x.copy(), b"raw bytes", "text") == digest
    assert R.data_sha256(x.astype(">f8"), b"raw bytes", "text") == digest  # byte order
    assert R.data_sha256(x[::-1][::-1], b"raw bytes", "text") == digest  # memory layout
    assert R.data_sha256(x.astype(np.float32), b"raw bytes", "text") != digest
    assert R.data_sha256(x, b"raw byteS", "text") != digest
    assert R.data_sha256(np.arange(6).reshape(2, 3)) != R.data_sha256(np.arange(6).reshape(3, 2))
    assert R.data_sha256(b"ab", b"c") != R.data_sha256(b"a", b"bc")
    assert len(digest) == 64


# --------------------------------------------------------------------------------------------
# summarize
# --------------------------------------------------------------------------------------------


def test_summary_matches_numpy_on_the_same_samples(idata, posterior):
    df = R.summarize(idata)
    assert list(df.index) == list(posterior)
    assert list(df.columns) == ["mean", "sd", "median", "q16", "q84", "hdi_low", "hdi_high",
                                "ess_bulk", "ess_tail", "r_hat", "map", "map_warning"]
    for name, samples in posterior.items():
        flat = samples.ravel()
        row = df.loc[name]
        assert row["mean"] == pytest.approx(np.mean(flat), rel=1e-12)
        assert row["sd"] == pytest.approx(np.std(flat, ddof=1), rel=1e-10)
        assert row["median"] == pytest.approx(np.median(flat), rel=1e-12)
        assert row["q16"] == pytest.approx(np.quantile(flat, 0.16), rel=1e-12)
        assert row["q84"] == pytest.approx(np.quantile(flat, 0.84), rel=1e-12)
        assert math.isnan(row["map"]) and row["map_warning"] == ""


def test_var_names_selects_and_orders_rows(idata):
    df = R.summarize(idata, var_names=["f0", "beta"])
    assert list(df.index) == ["f0", "beta"]
    with pytest.raises(R.ResultError, match="'nope'"):
        R.summarize(idata, var_names=["nope"])


def _iid_normal_idata(seed=7, shift_chain=None, shift=0.0):
    rng = np.random.default_rng(seed)
    mu = rng.standard_normal((NCHAIN, NDRAW))
    if shift_chain is not None:
        mu[shift_chain] += shift
    return _build({"mu": mu}, rng=rng), mu


def test_hdi_of_a_normal_is_plus_minus_1_96_sigma():
    idata, mu = _iid_normal_idata()
    sigma = np.std(mu, ddof=1)
    row = R.summarize(idata, hdi_prob=0.95).loc["mu"]
    # The width of the narrowest interval is well determined; its position slides by a few
    # hundredths with the sample because the density is nearly equal at both ends.
    assert row["hdi_high"] - row["hdi_low"] == pytest.approx(2 * 1.96 * sigma, abs=0.05)
    assert row["hdi_low"] == pytest.approx(-1.96 * sigma, abs=0.1)
    assert row["hdi_high"] == pytest.approx(1.96 * sigma, abs=0.1)
    # hdi_prob is honoured: the 68 % HDI of a normal is +-0.994 sigma
    row68 = R.summarize(idata, hdi_prob=0.68).loc["mu"]
    assert row68["hdi_high"] - row68["hdi_low"] == pytest.approx(2 * 0.994 * sigma, abs=0.04)


def test_ess_of_iid_draws_is_close_to_the_number_of_draws():
    idata, _ = _iid_normal_idata()
    row = R.summarize(idata).loc["mu"]
    n = NCHAIN * NDRAW
    assert 0.8 * n < row["ess_bulk"] < 1.2 * n
    assert 0.8 * n < row["ess_tail"] < 1.2 * n


def test_ess_and_r_hat_are_arviz_rank_normalised_diagnostics(idata):
    import arviz as az

    # computed without ArviZ (tlsbayes.results.stats): held to ArviZ's values to 1e-10
    df = R.summarize(idata)
    bulk = az.ess(idata, method="bulk")
    tail = az.ess(idata, method="tail")
    rhat = az.rhat(idata, method="rank")
    hdi = az.hdi(idata, hdi_prob=0.95)
    for name in df.index:
        assert df.loc[name, "ess_bulk"] == pytest.approx(float(bulk[name]), rel=1e-10)
        assert df.loc[name, "ess_tail"] == pytest.approx(float(tail[name]), rel=1e-10)
        assert df.loc[name, "r_hat"] == pytest.approx(float(rhat[name]), rel=1e-10)
        assert (df.loc[name, "hdi_low"], df.loc[name, "hdi_high"]) == tuple(hdi[name].values)
    assert not np.allclose(df["ess_bulk"], df["ess_tail"])  # the two methods are distinct


@pytest.mark.parametrize("shape, phi, shift", [((32, 173), 0.8, 0.3), ((4, 57), 0.95, 1.0),
                                               ((2, 4), 0.0, 0.0), ((1, 100), 0.5, 0.0),
                                               ((8, 301), 0.0, 0.0)])
def test_own_statistics_equal_arviz_on_awkward_chains(shape, phi, shift):
    """Short, odd-length, two-chain and single-chain (R-hat NaN) draws, with ties; a chain
    shifted (R-hat must see it); and NaN propagation, as ArviZ."""
    import warnings

    import arviz as az

    from tlsbayes.results import stats

    rng = np.random.default_rng(sum(shape))
    e = rng.standard_normal(shape)
    x = np.empty_like(e)
    x[:, 0] = e[:, 0]
    for t in range(1, shape[1]):
        x[:, t] = phi * x[:, t - 1] + e[:, t]
    x[0] += shift
    x = np.round(x, 1)  # ties, as a chain with rejected proposals has
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = az.convert_to_dataset({"a": x})
        ref = {"bulk": float(az.ess(ds, method="bulk")["a"]),
               "tail": float(az.ess(ds, method="tail")["a"]),
               "rhat": float(az.rhat(ds, method="rank")["a"]),
               "hdi": tuple(az.hdi(ds, hdi_prob=0.9)["a"].values)}
    got = {"bulk": stats.ess_bulk(x), "tail": stats.ess_tail(x), "rhat": stats.rhat(x),
           "hdi": stats.hdi(x, 0.9)}
    np.testing.assert_allclose([got[k] for k in ("bulk", "tail", "rhat")],
                               [ref[k] for k in ("bulk", "tail", "rhat")], rtol=1e-10)
    assert got["hdi"] == ref["hdi"]
    assert math.isnan(got["rhat"]) == (shape[0] < 2)
    x[0, 0] = np.nan
    assert math.isnan(stats.ess_bulk(x)) and math.isnan(stats.rhat(x))


def test_ess_of_autocorrelated_draws_is_much_smaller():
    rng = np.random.default_rng(11)
    phi = 0.9  # AR(1): integrated autocorrelation time (1 + phi) / (1 - phi) = 19
    x = np.empty((NCHAIN, NDRAW))
    x[:, 0] = rng.standard_normal(NCHAIN)
    for t in range(1, NDRAW):
        x[:, t] = phi * x[:, t - 1] + math.sqrt(1 - phi**2) * rng.standard_normal(NCHAIN)
    row = R.summarize(_build({"mu": x}, rng=rng)).loc["mu"]
    assert row["ess_bulk"] == pytest.approx(NCHAIN * NDRAW / 19.0, rel=0.3)


def test_r_hat_is_one_for_mixed_chains_and_large_for_a_shifted_chain():
    mixed, _ = _iid_normal_idata()
    assert R.summarize(mixed).loc["mu", "r_hat"] == pytest.approx(1.0, abs=0.01)
    shifted, _ = _iid_normal_idata(shift_chain=3, shift=3.0)
    assert R.summarize(shifted).loc["mu", "r_hat"] > 1.1


def test_map_warning_fires_far_from_the_median_and_not_at_it(idata, posterior):
    flat = posterior["beta"].ravel()
    median, sd = np.median(flat), np.std(flat, ddof=1)
    at_median = R.summarize(idata, map_params={"beta": median}).loc["beta"]
    assert at_median["map"] == median and at_median["map_warning"] == ""
    far = R.summarize(idata, map_params={"beta": median + 3 * sd}).loc["beta"]
    assert "above the 16-84 % interval" in far["map_warning"]
    assert "3.0 sd from the median" in far["map_warning"]
    # only the parameter with a bad MAP is flagged
    assert R.summarize(idata, map_params={"beta": median + 3 * sd}).loc["f0", "map_warning"] == ""


def test_map_warning_says_which_condition_failed():
    # Exponential(1): median ln 2 = 0.693, sd 1, q16 = 0.174, q84 = 1.833.  Its skew lets the
    # two conditions fail independently.
    rng = np.random.default_rng(5)
    idata = _build({"gamma": rng.exponential(1.0, (NCHAIN, NDRAW))}, rng=rng)
    inside_but_far = R.summarize(idata, map_params={"gamma": 1.8}).loc["gamma", "map_warning"]
    assert "sd from the median" in inside_but_far and "interval" not in inside_but_far
    outside_but_near = R.summarize(idata, map_params={"gamma": 0.1}).loc["gamma", "map_warning"]
    assert "below the 16-84 % interval" in outside_but_near
    assert "sd from the median" not in outside_but_near


# --------------------------------------------------------------------------------------------
# formatting
# --------------------------------------------------------------------------------------------


def test_format_summary_is_aligned_and_keeps_significant_digits(idata, posterior):
    df = R.summarize(idata, map_params={"beta": 5.0})
    text = R.format_summary(df, sig=3)
    lines = text.splitlines()
    assert len(lines) == 2 + len(df)
    header, rule = lines[0], lines[1]
    for col in ["parameter", *df.columns]:
        assert col in header
    assert set(rule) <= {"-", " "}
    # every numeric column ends at the same position in every row
    for col in ["mean", "sd", "ess_bulk", "r_hat"]:
        end = header.index(col) + len(col)
        for line in lines[2:]:
            assert line[end - 1] != " " and (end == len(line) or line[end] == " ")
    f0_line = next(line for line in lines if line.startswith("f0"))
    # f0 ~ 5.123456789 GHz with sd 10 Hz: the Hz digits must survive formatting
    assert f"{np.mean(posterior['f0']):.0f}"[:9] in f0_line and "e+09" not in f0_line
    assert "MAP above the 16-84 % interval" in text


def test_format_summary_markdown_without_tabulate(idata, monkeypatch):
    monkeypatch.setitem(sys.modules, "tabulate", None)  # importing it would now fail
    df = R.summarize(idata, map_params={"beta": 5.0})
    md = R.format_summary_markdown(df)
    lines = md.splitlines()
    assert len(lines) == 2 + len(df)
    ncols = 1 + len(df.columns)
    for line in lines:
        assert line.startswith("|") and line.endswith("|")
        assert line.replace("\\|", "").count("|") == ncols + 1
    assert lines[1].split("|")[1:3] == [":---", "---:"]
    assert lines[2].startswith("| E_c |")


# --------------------------------------------------------------------------------------------
# degeneracy_report
# --------------------------------------------------------------------------------------------


def test_summary_table_writes_the_csv_pandas_writes(idata):
    """results.table.Table (no pandas on a fit's path) writes summary.csv and checks.csv cell
    for cell as pandas.DataFrame.to_csv did: floats, NaN, ints, mixed columns, quoting."""
    from tlsbayes.results.table import Table

    df = R.summarize(idata, map_params={"beta": 5.0})
    df["identified"] = ["yes, with \"quotes\""] + [""] * (len(df) - 1)
    assert df.to_csv(index_label="parameter") == df.to_pandas().to_csv(index_label="parameter")
    t = Table([{"n": 40, "runs": 7, "p": 3e-6, "ok": True, "why": None},
               {"n": 41, "runs": 7.5, "p": float("nan"), "ok": False, "why": "a,b"}],
              ["n", "runs", "p", "ok", "why"])
    assert t.to_csv(index=False) == t.to_pandas().to_csv(index=False)
    assert t.to_csv(index=False).splitlines()[1:] == ["40,7.0,3e-06,True,", '41,7.5,,False,"a,b"']
    assert t.loc[1, "runs"] == 7.5 and t.loc[0]["n"] == 40 and list(t["n"]) == [40, 41]


def test_degeneracy_report_finds_pairs_with_sign_and_rho(idata, posterior):
    rep = R.degeneracy_report(idata, log_params=["E_c"])
    corr = rep["correlation"]
    assert list(corr.index) == list(corr.columns) == list(posterior)
    expected = np.corrcoef(np.log(posterior["E_c"]).ravel(), posterior["beta"].ravel())[0, 1]
    assert corr.loc["E_c", "beta"] == pytest.approx(expected, abs=1e-12)
    assert corr.loc["E_c", "beta"] == pytest.approx(0.90, abs=0.01)
    assert corr.loc["delta0", "delta_other"] == pytest.approx(-0.80, abs=0.015)

    a, b, rho = rep["pairs"][0]
    assert {a, b} == {"E_c", "beta"} and rho > 0
    a, b, rho = rep["pairs"][1]
    assert {a, b} == {"delta0", "delta_other"} and rho < 0
    rhos = [abs(p[2]) for p in rep["pairs"]]
    assert rhos == sorted(rhos, reverse=True) and len(rhos) == 10

    assert len(rep["text"]) == 2
    assert rep["text"][0].startswith(
        f"E_c and beta are strongly correlated (rho = +{expected:.2f})")
    assert "E_c–beta banana" in rep["text"][0]
    assert rep["text"][1].startswith(
        "delta0 and delta_other are strongly anti-correlated (rho = -0.8")
    assert KNOWN_DEGENERACIES[frozenset({"delta0", "delta_other"})] in rep["text"][1]


def test_degeneracy_threshold_controls_the_text(idata):
    assert R.degeneracy_report(idata, log_params=["E_c"], threshold=0.95)["text"] == []
    assert len(R.degeneracy_report(idata, log_params=["E_c"], threshold=0.85)["text"]) == 1


def test_degeneracy_uses_log_space_for_log_params():
    # K is log-normal with a wide spread; log K and x are correlated with rho = 0.9, but the
    # long tail of K hides that from a linear correlation of the raw values.
    rng = np.random.default_rng(17)
    z1, z2 = _correlated_normal(rng, 0.9, (NCHAIN, NDRAW))
    idata = _build({"x": 0.5 + 0.1 * z2, "K": np.exp(2.0 + 2.0 * z1)}, rng=rng)
    raw = R.degeneracy_report(idata)
    assert abs(raw["correlation"].loc["x", "K"]) < 0.5
    assert raw["text"] == []
    logged = R.degeneracy_report(idata, log_params=["K"])
    assert logged["correlation"].loc["x", "K"] == pytest.approx(0.9, abs=0.01)
    assert logged["log_params"] == ("K",)
    (sentence,) = logged["text"]
    assert sentence.startswith("x and K are strongly correlated (rho = +0.9")
    assert KNOWN_DEGENERACIES[frozenset({"x", "K"})] in sentence


def test_degeneracy_custom_explanations_and_unknown_pair(idata):
    custom = {frozenset({"beta", "E_c"}): "a custom reason"}
    text = R.degeneracy_report(idata, log_params=["E_c"], explanations=custom)["text"]
    assert text[0].endswith(": a custom reason.")
    assert text[1].endswith(")."), "a pair without an explanation gets a bare sentence"


def test_degeneracy_rejects_bad_log_params(posterior):
    rng = np.random.default_rng(2)
    idata = _build({"a3": rng.normal(size=(NCHAIN, NDRAW)), "T0": rng.normal(size=(NCHAIN, NDRAW))})
    with pytest.raises(R.ResultError, match="'a3' has non-positive samples"):
        R.degeneracy_report(idata, log_params=["a3"])
    with pytest.raises(R.ResultError, match="'n_ph'"):
        R.degeneracy_report(idata, log_params=["n_ph"])


def test_known_degeneracies_cover_the_library_pairs():
    for pair in [{"E_c", "beta"}, {"x", "K"}, {"C", "gamma"}, {"delta0", "delta_other"}]:
        assert len(KNOWN_DEGENERACIES[frozenset(pair)]) > 40
    assert KNOWN_DEGENERACIES[frozenset({"E_c", "beta"})].startswith(
        "the data do not reach far enough above E_c")


# --------------------------------------------------------------------------------------------
# save / load
# --------------------------------------------------------------------------------------------


@pytest.fixture()
def full_idata(posterior):
    rng = np.random.default_rng(99)
    loglik = rng.normal(-1.0, 0.3, (NCHAIN, NDRAW, NOBS))
    loglik[0, 0, 0] = np.nan  # NaN must survive the round trip
    return _build(
        posterior,
        rng=rng,
        log_likelihood={"y": loglik},
        constant_data={
            "T": np.linspace(0.01, 0.1, NOBS),
            "sigma": np.full(NOBS, 0.05, dtype=np.float32),
            "n_repeat": np.arange(NOBS, dtype=np.int64),
            "f_probe": 5.0e9,
        },
        prior={"beta": rng.normal(size=(1, 300))},
        attrs=_prov(),
        obs_dims={"y": "point", "T": "point", "sigma": "point", "n_repeat": "point"},
    )


def _assert_identical_groups(a, b):
    assert set(a.groups()) == set(b.groups())
    for group in a.groups():
        da, db = a[group], b[group]
        assert set(da.data_vars) == set(db.data_vars), group
        for name in da.data_vars:
            va, vb = da[name], db[name]
            assert va.dims == vb.dims, (group, name)
            assert va.dtype == vb.dtype, (group, name)
            assert va.values.tobytes() == vb.values.tobytes(), (group, name)  # bit for bit


def test_save_load_round_trip(tmp_path, full_idata):
    path = tmp_path / "run.nc"
    assert R.save(full_idata, path) == path
    loaded = R.load(path)
    _assert_identical_groups(full_idata, loaded)
    assert np.isnan(loaded.log_likelihood["y"].values[0, 0, 0])
    assert R.attrs_of(loaded) == _prov() | {"created": R.attrs_of(full_idata)["created"]}
    decoded = R.attrs_of(loaded)
    assert decoded["extra"] == {"note": None, "nested": {"a": [1, 2, {"b": True}]}}
    assert decoded["converged"] is True and type(decoded["seed"]) is int
    assert decoded["sampler_settings"]["moves"] == [["DEMove", 0.8]]


def test_load_reads_into_memory_so_the_file_can_be_replaced(tmp_path, full_idata):
    path = tmp_path / "run.nc"
    R.save(full_idata, path)
    loaded = R.load(path)
    R.save(loaded, path)  # overwriting a file we just read must work and keep the data
    _assert_identical_groups(full_idata, R.load(path))
    path.unlink()
    assert loaded.posterior["beta"].values.sum() == full_idata.posterior["beta"].values.sum()


def test_save_does_not_modify_idata_without_format(tmp_path, posterior):
    import arviz as az

    bare = az.from_dict(posterior={"beta": posterior["beta"]})
    R.save(bare, tmp_path / "bare.nc")
    assert "format" not in bare.attrs
    assert R.attrs_of(R.load(tmp_path / "bare.nc"))["format"] == "tlsbayes-result/1"


def test_atomic_save_leaves_no_temp_file(tmp_path, full_idata):
    path = tmp_path / "run.nc"
    R.save(full_idata, path)
    R.save(full_idata, path)  # replacing an existing result
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.nc"]


def test_failed_save_keeps_old_file_and_leaves_no_temp_file(tmp_path, full_idata, monkeypatch):
    from tlsbayes.results import store

    path = tmp_path / "run.nc"
    R.save(full_idata, path)
    before = path.read_bytes()

    def full_disk(fd):  # the bytes are written, their flush to the disk fails
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store.os, "fsync", full_disk)
    with pytest.raises(R.ResultError, match="No space left on device") as info:
        R.save(full_idata, path)
    assert str(path) in str(info.value)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.nc"]


def test_save_into_missing_directory(tmp_path, full_idata):
    with pytest.raises(R.ResultError, match="does not exist"):
        R.save(full_idata, tmp_path / "missing" / "run.nc")


def _expect_load_error(path, fragment):
    with pytest.raises(R.ResultError) as info:
        R.load(path)
    assert isinstance(info.value, TLSBayesError)
    message = str(info.value)
    assert str(path) in message, message
    assert fragment in message, message
    return message


def test_load_text_file(tmp_path):
    path = tmp_path / "result.nc"
    path.write_text("parameter,mean\nbeta,1.6\n")
    _expect_load_error(path, "is not a NetCDF file")


def test_load_truncated_netcdf(tmp_path, full_idata):
    good = tmp_path / "good.nc"
    R.save(full_idata, good)
    data = good.read_bytes()
    bad = tmp_path / "truncated.nc"
    bad.write_bytes(data[: len(data) // 2])
    _expect_load_error(bad, "truncated or corrupt")


def test_load_netcdf_that_is_not_a_tlsbayes_result(tmp_path, posterior):
    import arviz as az

    path = tmp_path / "foreign.nc"
    az.from_dict(posterior={"beta": posterior["beta"]}).to_netcdf(str(path))
    _expect_load_error(path, "is not a tlsbayes result (no 'format' attribute")


def test_load_wrong_format_version(tmp_path, posterior):
    path = tmp_path / "future.nc"
    R.save(_build(posterior, attrs=_prov(extra=None) | {"format": "tlsbayes-result/7"}), path)
    _expect_load_error(path, "was written by an incompatible format version 7")


def test_load_file_without_posterior(tmp_path):
    import arviz as az

    path = tmp_path / "noposterior.nc"
    # save() stamps the format, so only the missing posterior is wrong
    R.save(az.from_dict(observed_data={"y": np.arange(3.0)}), path)
    _expect_load_error(path, "has no posterior group")


def test_load_missing_file(tmp_path):
    _expect_load_error(tmp_path / "nothing.nc", "does not exist")


def test_saved_file_is_the_one_arviz_writes(tmp_path, full_idata):
    """R.save writes with h5netcdf alone; arviz.from_netcdf reads it back identical (values,
    dtypes, dimensions, coordinates, group and root attributes) to the file ArviZ itself
    writes from the same InferenceData, and R.load reads ArviZ's file identically."""
    import arviz as az

    ours, theirs = tmp_path / "ours.nc", tmp_path / "theirs.nc"
    R.save(full_idata, ours)
    full_idata.to_netcdf(str(theirs), engine="h5netcdf")
    a, b = az.from_netcdf(str(ours)), az.from_netcdf(str(theirs))
    assert a.groups() == b.groups()
    for group in a.groups():
        assert a[group].identical(b[group]), group
    assert a.attrs == b.attrs
    _assert_identical_groups(R.load(ours), R.load(theirs))
    loaded = R.load(theirs)
    for group in loaded.groups():
        assert loaded[group].attrs == dict(b[group].attrs), group
        assert set(loaded[group].coords) == set(b[group].coords), group


# Run in a fresh interpreter: the netCDF4 wheel bundles its own libhdf5 (2.2 here) beside
# h5py's (2.0), and two HDF5 libraries in one test process is a crash risk for the whole
# worker, not something this test is about.
_NETCDF4_COMPARE = r"""
import sys
import numpy as np
import netCDF4
import xarray as xr

def attr(x):  # repr: a NaN _FillValue equals itself
    return repr(np.asarray(x).tolist())

def walk(g):
    out = {"attrs": {k: attr(g.getncattr(k)) for k in g.ncattrs()},
           "dims": {n: len(d) for n, d in g.dimensions.items()}, "vars": {}}
    for name, v in g.variables.items():
        v.set_auto_maskandscale(False)
        out["vars"][name] = (v.dimensions, str(v.dtype),
                             {k: attr(v.getncattr(k)) for k in v.ncattrs()},
                             np.asarray(v[...]).tobytes())
    out["groups"] = {n: walk(sub) for n, sub in g.groups.items()}
    return out

ours, theirs = sys.argv[1:3]
with netCDF4.Dataset(ours) as x, netCDF4.Dataset(theirs) as y:
    a, b = walk(x), walk(y)
assert set(a["groups"]) == set(b["groups"]) and len(a["groups"]) >= 5, sorted(a["groups"])
for name in a["groups"]:
    assert a["groups"][name] == b["groups"][name], name
assert a == b, "root group"
for group in a["groups"]:
    with xr.open_dataset(ours, group=group, engine="netcdf4") as x, \
            xr.open_dataset(theirs, group=group, engine="netcdf4") as y:
        assert x.load().identical(y.load()), group
        assert list(x.variables) == list(y.variables) and list(x.dims) == list(y.dims), group
assert "h5py" not in sys.modules
print("identical")
"""


def test_netcdf4_reads_our_file_as_the_one_arviz_writes(tmp_path, full_idata):
    """The netCDF4 library (netCDF-C, not HDF5 directly) reads from R.save's file (written
    with h5py directly, uncompressed) the same groups, dimensions, variables, attributes and
    bytes as from ArviZ's own file of the same InferenceData, and so does xarray's netcdf4
    engine (variables, coordinates and dimensions in the same order)."""
    import subprocess

    ours, theirs = tmp_path / "ours.nc", tmp_path / "theirs.nc"
    R.save(full_idata, ours)
    full_idata.to_netcdf(str(theirs), engine="h5netcdf")
    done = subprocess.run([sys.executable, "-c", _NETCDF4_COMPARE, str(ours), str(theirs)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "identical", done.stderr[-2000:]


def test_fit_result_groups_are_those_of_arviz(posterior):
    """build_result gives the groups arviz.dict_to_dataset gives: chain/draw coordinates,
    the created_at/arviz_version attributes, dimension names."""
    import arviz as az

    result = R.build_result(posterior=posterior, sample_stats=_sample_stats(
        np.random.default_rng(1)), log_likelihood={}, observed_data={})
    ref = az.dict_to_dataset({n: posterior[n] for n in posterior})
    post = result.posterior
    assert set(post.coords) == {"chain", "draw"}
    assert np.array_equal(post.coords["draw"].values, ref["draw"].values)
    assert set(post.attrs) == set(ref.attrs)
    for name in posterior:
        assert post[name].dims == ref[name].dims


def test_a_variable_named_as_a_dimension_it_does_not_index_round_trips(tmp_path):
    """netCDF-4 stores such a variable under another name (h5netcdf writes those files):
    it is read back under its own name, values and dimensions unchanged."""
    from tlsbayes.results.groups import Group, Result, Variable

    values = np.arange(6.0).reshape(2, 3)
    result = Result({"posterior": Group({"draw": Variable(("chain", "draw"), values)}, {},
                                        {})}, {})
    R.save(result, tmp_path / "clash.nc")
    back = R.load(tmp_path / "clash.nc").posterior["draw"]
    assert back.dims == ("chain", "draw") and np.array_equal(back.values, values)
