"""Kernels against the independent high-precision references in tests/data/*.json.

The references come from tests/reference/generate_references.py: mpmath at >= 30 digits,
adaptive quadrature of the literal double integral (not the closed v-integral, not the
one-variable reduction), and mpmath's complex digamma for the shift.
"""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from tlsbayes import physics as ph

DATA = Path(__file__).parent / "data"


def _load(name):
    return json.loads((DATA / name).read_text())


def _values(entry, key):
    # The *_str fields carry 25 significant digits; parse those, not the rounded floats.
    return np.array([float(s) for s in entry[key + "_str"]])


def test_universal_F_to_1e12_over_1e_minus6_to_1e6():
    ref = _load("ref_nems_F.json")
    a = np.array([float(s) for s in ref["a_repr"]])
    F_ref = _values(ref, "F")
    F = ph.nems_universal_F(a)
    rel = np.abs(F / F_ref - 1)
    inside = (a >= 1e-6) & (a <= 1e6)
    assert inside.sum() >= 25
    assert rel[inside].max() <= 1e-12, dict(zip(a[inside], rel[inside]))
    assert rel.max() <= 1e-12  # also the extra points at 1e-8 .. 1e8


@pytest.mark.parametrize("case,tol", [("S_n1", 1e-12), ("N_n1", 1e-12),
                                      ("S_n1.5", 1e-13), ("N_n1.5", 1e-13),
                                      ("S_n3", 1e-9), ("N_n3", 1e-9)])
def test_nems_damping_against_literal_double_integral(case, tol):
    c = _load("ref_nems_damping.json")["cases"][case]
    T = np.array([float(s) for s in c["T_repr"]])
    G_ref = _values(c, "Gamma")
    A_ph, A_el = float(c["A_ph_str"]), float(c["A_el_str"])
    omega = float(c["omega_str"])
    G = ph.nems_damping(T, omega, c["C"], A_ph, n_ph=c["n_ph"], A_el=A_el, x=c["x"])
    rel = np.abs(G / G_ref - 1)
    assert T.min() <= 1e-3 and T.max() >= 10.0
    assert rel.max() <= tol, dict(zip(T, rel))
    # The mixed (phonon + electron) channel on its own, where the reference has it.
    if "Gamma_mix_str" in c:
        Gmix = ph.nems_damping(T, omega, c["C"], A_ph, n_ph=c["n_ph"], A_el=A_el, x=1.0)
        assert np.abs(Gmix / _values(c, "Gamma_mix") - 1).max() <= tol


def test_reference_parameters_are_the_maillet_beam():
    c = _load("ref_nems_damping.json")["cases"]["N_n1"]
    A_ph = ph.phonon_rate_prefactor_1d(9.8 * ph.constants.e, 2900.0, 130e-9, 300e-9, 6000.0)
    assert float(c["A_ph_str"]) == pytest.approx(A_ph, rel=1e-14)
    assert float(c["A_el_str"]) == pytest.approx(ph.electron_rate_prefactor(0.07), rel=1e-14)
    assert c["x"] == 0.17 and c["C"] == 4.3e-5
    assert float(c["omega_str"]) == pytest.approx(2 * math.pi * 17.5e6, rel=1e-15)


@pytest.mark.parametrize("f0", [0.8e9, 1.6e9])
def test_frequency_shift_absolute_1e_minus14(f0):
    ref = _load("ref_shift.json")
    series = next(s for s in ref["series"] if s["f0"] == f0)
    T = np.array([float(t) for t in series["T_repr"]])
    s_ref = _values(series, "s")
    s = ph.tls_frequency_shift(T, f0, 1.0)  # in units of F δ0
    window = (T >= 1e-3) & (T <= 2.0)
    assert window.sum() >= 60
    err = np.abs(s - s_ref)
    assert err[window].max() <= 1e-14, dict(zip(T[window], err[window]))
    assert err.max() <= 1e-13  # also 0.1 mK and 10-100 K
