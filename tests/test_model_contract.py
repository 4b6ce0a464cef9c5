"""The contract between models, kernels and the compiled inference code, checked by name.

* Each kernel module declares its column layout once (``PARAMS``, ``CONSTS``) and every index
  constant is ``tuple.index(name)`` of it; option and likelihood codes are distinct.
* Each model's parameter names are its kernel's columns, in order.
* Maillet Eq. 3/4, written once as numba scalars, against 50-digit mpmath; the Python helpers
  return exactly the scalar's bits.
* Each prior's compiled row gives scipy.stats' log density; PriorSet.log_prob *is* the
  compiled evaluator.
"""

import math
import re

import mpmath
import numpy as np
import pytest
from scipy import stats

from tlsbayes.errors import PriorError
from tlsbayes.inference import likelihood_codes as L
from tlsbayes.inference import priors as PR
from tlsbayes.inference.prior_set import PriorSet, compile_priors, prior_and_params
from tlsbayes.models import MODELS, base, nems, qpower, quasiparticle, shift
from tlsbayes.models.specs import nems as nems_spec
from tlsbayes.models.specs import qpower as qpower_spec
from tlsbayes.models.specs import quasiparticle as qp_spec
from tlsbayes.models.specs import shift as shift_spec
from tlsbayes.physics import constants as K_
from tlsbayes.physics import nems as phys_nems

# (module, tuple name, prefix of its index constants, whether every entry needs a constant)
LAYOUTS = [
    (shift_spec, "FREQUENCY_SHIFT_PARAMS", "FS_", True),
    (shift_spec, "LOG_SHIFT_PARAMS", "LS_", True),
    (qpower_spec, "PARAMS", "P_", True),
    (qpower_spec, "CONSTS", "C_", True),
    (qpower_spec, "SATURATION_KINDS", "SAT_", True),
    (nems_spec, "PARAMS", "P_", True),
    (nems_spec, "CONSTS", "C_", True),
    (nems_spec, "STATES", "STATE_", True),
    (nems_spec, "PHONON_MODELS", "PHONON_", True),
    (qp_spec, "FREQUENCY_SHIFT_QP_PARAMS", "FS_", True),
    (qp_spec, "FRACTIONAL_SHIFT_QP_PARAMS", "XS_", True),
    (qp_spec, "INVERSE_Q_QP_PARAMS", "IQ_", True),
    (qp_spec, "QP_CONSTS", "C_", True),
    (qp_spec, "GAP_PARAMETERS", "GAP_", True),
    (L, "KINDS", "KIND_", True),
    (L, "EXTRA_COLUMNS", "X_", True),
    (PR, "ROW_CODES", "CODE_", True),
    (PR, "ROW_COLUMNS", "R_", True),
]

# every variant of every model kind (the parameter names depend on the constants)
VARIANTS = [
    shift.FrequencyShift(),
    shift.LogShift(),
    *[qpower.QPower(T=0.05, f=1e9, saturation=s, Qc=1e5, A0=1e-8, d=3e-7)
      for s in qpower.SATURATION_KINDS],
    *[nems.NemsDamping(omega=1e8, state=s, phonon=p)
      for s in nems.STATES for p in nems.PHONON_MODELS],
    *[cls(gap=g, **({} if cls is quasiparticle.FrequencyShiftQP else {"f": 5e9}))
      for cls in (quasiparticle.FrequencyShiftQP, quasiparticle.FractionalShiftQP,
                  quasiparticle.InverseQQP) for g in quasiparticle.GAP_PARAMETERS],
]


def _norm(s):
    return re.sub(r"[^0-9A-Z]", "", s.upper())


def _entry_of(const_suffix, entries):
    """The entry a constant names: an exact match, else the one entry it is the tail of."""
    key = _norm(const_suffix)
    exact = [e for e in entries if _norm(e) == key]
    if exact:
        return exact[0]
    tails = [e for e in entries if _norm(e).endswith(key)]
    assert len(tails) == 1, f"{const_suffix} matches {tails} of {entries}"
    return tails[0]


@pytest.mark.parametrize("module, tname, prefix, complete", LAYOUTS,
                         ids=[f"{m.__name__.split('.')[-1]}.{t}" for m, t, _, _ in LAYOUTS])
def test_index_constants_are_the_declared_positions(module, tname, prefix, complete):
    entries = getattr(module, tname)
    assert len(set(entries)) == len(entries), f"{tname} repeats a name"
    consts = {k: v for k, v in vars(module).items()
              if k.startswith(prefix) and isinstance(v, int) and not isinstance(v, bool)}
    named = {}
    for k, v in consts.items():
        e = _entry_of(k[len(prefix):], entries)
        assert v == entries.index(e), f"{module.__name__}.{k} = {v}, not {tname}.index({e!r})"
        named[e] = k
    assert len(set(consts.values())) == len(consts), f"{prefix}* codes are not distinct"
    if complete:
        assert set(named) == set(entries), f"no constant for {set(entries) - set(named)}"


@pytest.mark.parametrize("model", VARIANTS, ids=repr)
def test_parameter_names_are_the_kernel_columns_in_order(model):
    names = model.param_names
    assert names == model.slot_names()
    assert len(names) <= len(model.PARAMS)
    # a column keeps its declared name unless it is one of the named variant columns
    variant = {"x_c", "gamma", "gap"}
    for slot, name in zip(model.PARAMS, names):
        assert name == slot or slot in variant, (slot, name)
    assert type(model) is MODELS[model.kind]


@pytest.mark.parametrize("model", VARIANTS, ids=repr)
def test_constants_vector_follows_consts(model):
    c = model.kernel_consts()
    assert c.dtype == np.float64 and c.shape == (len(model.CONSTS),)
    named = dict(zip(model.CONSTS, c))
    for k, v in named.items():
        if k in model.__dataclass_fields__ and isinstance(getattr(model, k), float):
            assert v == getattr(model, k) or (math.isnan(v) and math.isnan(getattr(model, k)))
    codes = {"saturation": qpower.SATURATION_KINDS, "state": nems.STATES,
             "phonon": nems.PHONON_MODELS, "gap": quasiparticle.GAP_PARAMETERS}
    for k, options in codes.items():
        if k in named:
            assert named[k] == options.index(getattr(model, k))


def test_nems_superconducting_state_uses_the_leading_columns():
    assert nems.N_PARAMS_S == 3
    s = nems.NemsDamping(omega=1e8, state="S").param_names
    n = nems.NemsDamping(omega=1e8, state="N").param_names
    assert n[:nems.N_PARAMS_S] == s


def test_model_registry_is_the_base_registry():
    assert MODELS is base.MODELS
    assert list(MODELS) == ["frequency_shift", "log_shift", "q_power", "nems_damping",
                            "frequency_shift_qp", "fractional_shift_qp", "inverse_q_qp"]


# --- Maillet Eq. 3/4 ------------------------------------------------------------------------

BEAMS = [(9.8 * K_.e, 2900.0, 130e-9, 300e-9, 6000.0), (0.37 * K_.e, 3100.0, 50e-9, 1e-6, 9100.0),
         (42.0 * K_.e, 2330.0, 2e-7, 2e-7, 8433.0)]


@pytest.mark.parametrize("beam", BEAMS)
def test_phonon_prefactor_matches_mpmath(beam):
    mpmath.mp.dps = 50
    g, rho, e, w, c = (mpmath.mpf(v) for v in beam)
    hbar = mpmath.mpf(K_.hbar)
    ref = g ** 2 / (hbar ** 2 * rho * e * w * c ** 3)
    got = phys_nems.phonon_rate_prefactor_1d_scalar(*beam)
    assert abs(got / float(ref) - 1.0) < 4e-15
    # the Python helper returns the numba scalar's exact bits
    assert phys_nems.phonon_rate_prefactor_1d(*beam) == got


@pytest.mark.parametrize("K", [1e-7, 0.07, 0.11, 0.999])
def test_electron_prefactor_matches_mpmath(K):
    mpmath.mp.dps = 50
    ref = 4 * mpmath.pi * mpmath.mpf(K) / mpmath.mpf(K_.hbar)
    got = phys_nems.electron_rate_prefactor_scalar(K)
    assert abs(got / float(ref) - 1.0) < 2e-15
    assert phys_nems.electron_rate_prefactor(K) == got


def test_prefactor_helpers_broadcast_arrays_elementwise():
    K = np.array([[0.01, 0.07], [0.2, 0.5]])
    got = phys_nems.electron_rate_prefactor(K)
    assert got.shape == K.shape
    assert all(got[i, j] == phys_nems.electron_rate_prefactor_scalar(K[i, j])
               for i in range(2) for j in range(2))
    gam = np.array([1.0, 9.8]) * K_.e
    got = phys_nems.phonon_rate_prefactor_1d(gam, 2900.0, 130e-9, 300e-9, 6000.0)
    assert list(got) == [phys_nems.phonon_rate_prefactor_1d_scalar(g, 2900.0, 130e-9, 300e-9,
                                                                    6000.0) for g in gam]


def test_nems_model_uses_the_eq3_eq4_prefactors():
    # the model's gamma [eV] and K enter through the same prefactors as the physics API
    m = nems.NemsDamping(omega=2 * math.pi * 17.5e6, state="N")
    T = np.geomspace(0.01, 1.0, 9)
    p = {"C": 4.3e-5, "gamma": 9.8, "n_ph": 1.0, "x": 0.17, "K": 0.07}
    A_ph = phys_nems.phonon_rate_prefactor_1d(9.8 * K_.e, m.rho, m.e, m.w, m.c_l)
    A_el = phys_nems.electron_rate_prefactor(0.07)
    ref = phys_nems.nems_damping(T, m.omega, 4.3e-5, A_ph, A_el=A_el, x=0.17)
    np.testing.assert_allclose(m.predict(p, T), ref, rtol=1e-13)


# --- compiled prior rows --------------------------------------------------------------------

PRIORS = [
    (PR.Uniform(-1.0, 2.5), lambda z: stats.uniform(-1.0, 3.5).logpdf(z), PR.CODE_UNIFORM),
    (PR.LogUniform(1e-6, 1e-2),  # uniform in z = ln x
     lambda z: stats.uniform(math.log(1e-6), math.log(1e-2) - math.log(1e-6)).logpdf(z),
     PR.CODE_LOGUNIFORM),
    (PR.Normal(0.3, 0.1), lambda z: stats.norm(0.3, 0.1).logpdf(z), PR.CODE_NORMAL),
    (PR.TruncatedNormal(0.2, 0.3, 0.1, 0.6),
     lambda z: stats.truncnorm((0.1 - 0.2) / 0.3, (0.6 - 0.2) / 0.3, 0.2, 0.3).logpdf(z),
     PR.CODE_TRUNCNORM),
    (PR.TruncatedNormal(0.0, 1.0, 0.0, math.inf),
     lambda z: stats.truncnorm(0.0, np.inf, 0.0, 1.0).logpdf(z), PR.CODE_TRUNCNORM),
]


@pytest.mark.parametrize("prior, ref, code", PRIORS, ids=[repr(p[0]) for p in PRIORS])
def test_compiled_row_gives_the_scipy_log_density(prior, ref, code):
    row_code, numbers = prior.compiled_row()
    assert row_code == code and len(numbers) == len(PR.ROW_COLUMNS)
    lo, hi = numbers[PR.R_LOW], numbers[PR.R_HIGH]
    if math.isfinite(hi - lo):
        z = np.linspace(lo, hi, 41)
        z = np.concatenate([z, [lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo), np.nan]])
    else:  # a Gaussian with an open end: mu ± 6 sigma, cut to the support
        mu, sig = numbers[PR.R_MU], numbers[PR.R_SIGMA]
        z = np.linspace(max(lo, mu - 6 * sig), min(hi, mu + 6 * sig), 41)
        z = np.concatenate([z, [lo - 0.5 * sig, np.nan]])
    ps = PriorSet({"a": prior})
    lp, params = prior_and_params(np.ascontiguousarray(z[:, None]), compile_priors(ps))
    with np.errstate(invalid="ignore"):
        expected = ref(z)
    expected = np.where(np.isnan(expected), -np.inf, expected)
    fin = np.isfinite(expected)
    assert np.array_equal(np.isfinite(lp), fin)
    np.testing.assert_allclose(lp[fin], expected[fin], rtol=1e-12, atol=1e-13)
    # exp(z) unclipped (the sampler's values), so an ulp off from_sampling's clipped ends
    x = np.asarray(prior.from_sampling(z))
    np.testing.assert_allclose(params[fin, 0], x[fin], rtol=1e-15)


def test_loguniform_row_keeps_precision_where_ln_ratio_would_not():
    narrow = PR.LogUniform(1.0e-6, 1.000000001e-6)
    mpmath.mp.dps = 50
    lnr = mpmath.log(mpmath.mpf(1.000000001e-6) / mpmath.mpf(1.0e-6))
    assert narrow.compiled_row()[1][PR.R_LOG_NORM] == pytest.approx(float(-mpmath.log(lnr)),
                                                                   rel=1e-14)
    wide = PR.LogUniform(1e-300, 1e300)  # high/low overflows
    assert wide.compiled_row()[1][PR.R_LOG_NORM] == pytest.approx(-math.log(600 * math.log(10)),
                                                                 rel=1e-14)


def test_fixed_prior_has_no_row():
    with pytest.raises(PriorError, match="fixed"):
        PR.Fixed(1.0).compiled_row()


def test_priorset_log_prob_is_the_compiled_evaluator():
    ps = PriorSet({"a": PR.Uniform(-1, 2), "b": PR.LogUniform(1e-6, 1e-2),
                   "c": PR.Normal(0.3, 0.1), "k": PR.Fixed(7.0),
                   "d": PR.TruncatedNormal(0.2, 0.3, 0.1, 0.6)})
    rng = np.random.default_rng(4)
    theta = ps.sample(300, rng)
    theta[::5] += rng.normal(scale=2.0, size=theta[::5].shape)
    lp, params = prior_and_params(theta, ps.compiled)
    assert np.array_equal(ps.log_prob(theta), lp)
    assert ps.log_prob(theta[3]) == lp[3]
    assert np.isinf(lp).any() and np.isfinite(lp).any()
    assert np.all(params[:, ps.names.index("k")] == 7.0)


def test_physical_constants_are_scipys():
    """physics.constants writes the CODATA values out (reading a card imports no scipy)."""
    from scipy import constants as sc

    assert (K_.h, K_.hbar, K_.k_B, K_.e, K_.eps0) == (sc.h, sc.hbar, sc.k, sc.e, sc.epsilon_0)
    assert K_.BCS_GAP_RATIO == pytest.approx(1.7638769, abs=1e-7)
