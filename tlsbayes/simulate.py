"""Simulated data sets at the source papers' parameters (for tests, cards and examples).

Every generator returns plain arrays in SI units plus the truth, and is seeded.  The values and
ranges follow the papers:

* Defrance et al., arXiv:2403.03534: f(T) at -100 dBm from 240 to 450 mK; Qi vs readout power
  from -150 to -70 dBm at 246 mK; Table 1 geometry; Table 3 parameters.
* Maillet et al., PRB 107, 064104 (2023): SiN beam, damping 30 mK-10 K in the N state and up to
  0.6 K in the S state; frequency shift with C = 2.1e-5.
"""

from __future__ import annotations

import numpy as np

from .models import FrequencyShift, LogShift, NemsDamping, QPower
from .models.papers import DEFRANCE_D, DEFRANCE_TABLE1, MAILLET  # noqa: F401  (re-exported)


def dbm_to_watt(p_dbm):
    """Power in dBm -> W."""
    return 1e-3 * 10.0 ** (np.asarray(p_dbm, dtype=float) / 10.0)


def defrance_geometry(f0):
    """(A0 [m²], Qc) of the Table 1 slot whose design frequency is nearest to ``f0`` [Hz].

    Measured frequencies sit a few per cent off design; for a Table 3 resonator use its
    ``geometry`` (explicit slot) instead.
    """
    slot = min(DEFRANCE_TABLE1, key=lambda s: abs(f0 - s.f_design))
    return slot.A0, slot.Qc


def defrance_qpower(f0, delta0, delta_other, E_c, beta, *, T=0.246, rel_noise=0.01, n=33,
                    p_dbm=(-150.0, -70.0), seed=0):
    """Qi⁻¹ vs readout power with the self-consistent field of Eq. 6.

    Returns ``(model, P_watt, inverse_q, sigma, truth)``.
    """
    A0, Qc = defrance_geometry(f0)
    model = QPower(T=T, f=f0, saturation="power_self_consistent", Qc=Qc, A0=A0, d=DEFRANCE_D)
    P = dbm_to_watt(np.linspace(*p_dbm, n))
    truth = {"delta0": delta0, "delta_other": delta_other, "E_c": E_c, "beta": beta}
    mu = model.predict(truth, P)
    rng = np.random.default_rng(seed)
    sigma = rel_noise * mu
    return model, P, mu + sigma * rng.standard_normal(n), sigma, truth


def defrance_fshift(f0, delta0, *, T=(0.24, 0.45), n=22, sigma_hz=20.0, seed=0):
    """f_res(T) at fixed readout power.  Returns ``(model, T, f, sigma, truth)``."""
    model = FrequencyShift()
    T = np.linspace(*T, n)
    truth = {"f0": f0, "delta0": delta0}
    mu = model.predict(truth, T)
    rng = np.random.default_rng(seed)
    sigma = np.full(n, float(sigma_hz))
    return model, T, mu + sigma * rng.standard_normal(n), sigma, truth


def maillet_damping(state, *, T=None, n=30, rel_noise=0.03, seed=0, **overrides):
    """SiN-beam damping Γ [s⁻¹] vs T in state "S" (30 mK-0.6 K) or "N" (30 mK-10 K).

    Returns ``(model, T, Gamma, sigma, truth)``.
    """
    p = dict(MAILLET, **overrides)
    model = NemsDamping(omega=p["omega"], rho=p["rho"], e=p["e"], w=p["w"], c_l=p["c_l"],
                        state=state)
    if T is None:
        T = np.geomspace(0.03, 0.6 if state == "S" else 10.0, n)
    truth = {"C": p["C"], "gamma": p["gamma"], "n_ph": 1.0}
    if state == "N":
        truth.update(x=p["x"], K=p["K"])
    mu = model.predict(truth, T)
    rng = np.random.default_rng(seed)
    sigma = rel_noise * mu
    return model, np.asarray(T), mu + sigma * rng.standard_normal(len(T)), sigma, truth


def maillet_shift(*, T=None, n=25, sigma=2e-7, C=2.1e-5, T0=0.1, a3=0.0, seed=0):
    """NEMS fractional frequency shift C ln(T/T0) + a3 T³.  Returns (model, T, y, sigma, truth)."""
    model = LogShift()
    T = np.geomspace(0.03, 1.0, n) if T is None else np.asarray(T)
    truth = {"C": C, "T0": T0, "a3": a3}
    mu = model.predict(truth, T)
    rng = np.random.default_rng(seed)
    s = np.full(T.size, float(sigma))
    return model, T, mu + s * rng.standard_normal(T.size), s, truth
