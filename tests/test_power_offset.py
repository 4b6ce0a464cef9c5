"""Powers known only up to the line attenuation: the Q-power critical scale absorbs it.

Real readout powers are VNA output powers (tlsbayes real-data README): the attenuation A of
the input line is unknown.  In every power-like mode of ``QPower`` the prediction depends on
the power only through its ratio to the critical scale, so a fit of VNA powers returns the
critical scale referred to the VNA, and A needs no parameter of its own.
"""

import math

import numpy as np
import pytest

from tlsbayes.models import QPower

A_DB = 63.7  # an arbitrary attenuation
LOSS = 10.0 ** (-A_DB / 10.0)
P_VNA = 1e-3 * 10.0 ** (np.linspace(-80.0, 10.0, 37) / 10.0)  # W at the VNA
P_DEVICE = P_VNA * LOSS


@pytest.mark.parametrize("T", [0.012, 0.246])
def test_self_consistent_field_E_c_absorbs_the_attenuation(T):
    model = QPower(T=T, f=809e6, saturation="power_self_consistent", Qc=8e3, A0=3.2754e-7,
                   d=800e-9)
    dev = {"delta0": 8.9e-6, "delta_other": 0.9e-6, "E_c": 3.4, "beta": 0.2}
    vna = dict(dev, E_c=dev["E_c"] * 10.0 ** (A_DB / 20.0))
    a = model.predict(dev, P_DEVICE)
    b = model.predict(vna, P_VNA)
    assert np.ptp(a) > 0.3 * a.max()  # the sweep crosses the saturation: a real test
    np.testing.assert_allclose(b, a, rtol=1e-9)


@pytest.mark.parametrize("saturation,crit", [("power", "P_c"), ("photon_number", "n_c")])
def test_power_and_photon_number_critical_scales_absorb_the_attenuation(saturation, crit):
    model = QPower(T=0.012, f=7.4e9, saturation=saturation)
    x_dev = P_DEVICE if saturation == "power" else P_DEVICE / 1e-21  # photons ∝ power
    dev = {"delta0": 2e-6, "delta_other": 1e-7, crit: 1e-15 if crit == "P_c" else 50.0,
           "beta": 0.3}
    vna = dict(dev, **{crit: dev[crit] / LOSS})
    a = model.predict(dev, x_dev)
    b = model.predict(vna, x_dev / LOSS)
    assert np.ptp(a) > 0.5 * a.max()
    np.testing.assert_allclose(b, a, rtol=1e-13)
    # ... and a wrong scale is visible: the model does depend on the ratio
    c = model.predict(dict(dev, **{crit: dev[crit] * 10.0}), x_dev)
    assert np.max(np.abs(c / a - 1)) > 0.1
    assert math.isclose(10.0 * math.log10(vna[crit] / dev[crit]), A_DB, rel_tol=1e-12)
