"""The Q-power model: internal loss 1/Qi vs readout field or power (Defrance Eq. 4 and 6).

Kernel of :mod:`tlsbayes.physics.qpower`.  ``PARAMS`` names the columns of the parameter matrix
(the critical-scale column is named per saturation kind, see :data:`CRITICAL_NAME`),
``CONSTS`` the constants vector; ``SAT_*`` are the saturation codes stored in it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numba
import numpy as np

from ..physics import constants as K_
from ..physics.qpower import field_constant, inverse_q_scalar, self_consistent_inverse_q_into
from .base import Model, Parameter, register

__all__ = ["QPower", "PARAMS", "CONSTS", "SATURATION_KINDS", "CRITICAL_NAME"]

PARAMS = ("delta0", "delta_other", "x_c", "beta")
P_DELTA0 = PARAMS.index("delta0")
P_DELTA_OTHER = PARAMS.index("delta_other")
P_XC = PARAMS.index("x_c")
P_BETA = PARAMS.index("beta")

CONSTS = ("T", "f", "saturation", "Qc", "A0", "d", "eps_r")
C_T = CONSTS.index("T")
C_F = CONSTS.index("f")
C_SATURATION = CONSTS.index("saturation")
C_QC = CONSTS.index("Qc")
C_A0 = CONSTS.index("A0")
C_D = CONSTS.index("d")
C_EPS_R = CONSTS.index("eps_r")

SATURATION_KINDS = ("field", "photon_number", "power", "power_self_consistent")
SAT_FIELD = SATURATION_KINDS.index("field")
SAT_PHOTON_NUMBER = SATURATION_KINDS.index("photon_number")
SAT_POWER = SATURATION_KINDS.index("power")
SAT_SELF_CONSISTENT = SATURATION_KINDS.index("power_self_consistent")

#: Name of the ``x_c`` column for each saturation kind.
CRITICAL_NAME = {"field": "E_c", "photon_number": "n_c", "power": "P_c",
                 "power_self_consistent": "E_c"}

# Solver settings of the self-consistent field (Eq. 6), as the Defrance fits always used them.
_SC_TOL, _SC_MAXITER = 1e-12, 60


@numba.njit(cache=True)
def _predict_self_consistent(P, x, consts, out):
    # Hot path of the Defrance fits: the thermal factor and the field constants of Eq. 6
    # are computed once per call, not once per walker and point.
    T, f, Qc = consts[C_T], consts[C_F], consts[C_QC]
    nw, n = P.shape[0], x.size
    thermal = math.tanh(K_.h * f / (2.0 * K_.k_B * T)) if T > 0.0 else 1.0
    k = np.empty(n)
    for i in range(n):
        k[i] = field_constant(x[i], f, Qc, consts[C_A0], consts[C_D], consts[C_EPS_R])
    kc = np.empty(n)
    step = np.empty(n)
    for w in range(nw):
        inv_ec2 = 1.0 / (P[w, P_XC] * P[w, P_XC])
        for i in range(n):
            kc[i] = k[i] * inv_ec2
        self_consistent_inverse_q_into(kc, Qc, P[w, P_DELTA0] * thermal, P[w, P_DELTA_OTHER],
                                       P[w, P_BETA], _SC_TOL, _SC_MAXITER, out[w], step)
    return out


@numba.njit(cache=True)
def _predict_qpower(P, x, consts):
    T, f, mode = consts[C_T], consts[C_F], int(consts[C_SATURATION])
    nw, n = P.shape[0], x.size
    out = np.empty((nw, n))
    if mode == SAT_SELF_CONSISTENT:
        return _predict_self_consistent(P, x, consts, out)
    # photon number and power saturate as x/x_c, the field as (x/x_c)²
    power_like = mode != SAT_FIELD
    for w in range(nw):
        d0, dother, xc, beta = P[w, P_DELTA0], P[w, P_DELTA_OTHER], P[w, P_XC], P[w, P_BETA]
        for i in range(n):
            out[w, i] = inverse_q_scalar(T, f, x[i], d0, dother, xc, beta, power_like)
    return out


@register
@dataclass(frozen=True)
class QPower(Model):
    """Internal loss ``1/Qi`` vs readout field or power (Defrance Eq. 4).

    ``saturation`` says what ``x`` is:

    * ``"field"``: |E| in V/m (computed from P_read with Eq. 6 beforehand); parameter ``E_c``.
    * ``"photon_number"``: mean photon number; parameter ``n_c`` (the line attenuation, if
      the photon number was computed without it, folds into n_c).
    * ``"power"``: readout power in W, at the device or at the VNA; parameter ``P_c`` in W.
      E² ∝ P, so an unknown line attenuation A simply rescales P_c by 10^(A/10): ``P_c`` is the
      critical power *referred to wherever the power was measured*.
    * ``"power_self_consistent"``: power at the device in W; |E| from Eq. 6 with the loaded
      Q solved together with Qi (needs ``Qc``, ``A0``, ``d``); parameter ``E_c``.  Eq. 4 and
      6 depend on P and E_c only through P/E_c², so powers known only up to an attenuation
      A [dB] (e.g. VNA output powers) give E_c,fit = E_c·10^(A/20): the device's E_c is
      E_c,fit·10^(-A/20).

    No separate power-offset parameter is needed: in every mode the critical scale (n_c, P_c
    or E_c) absorbs an unknown line attenuation exactly, and a free offset would only make
    an exactly degenerate direction (tests/test_power_offset.py).

    Constants: ``T`` [K] and ``f`` [Hz] of the measurement.
    """

    T: float
    f: float
    saturation: str = "field"
    Qc: float = math.nan
    A0: float = math.nan
    d: float = math.nan
    eps_r: float = K_.EPS_R_SILICON

    kind: ClassVar[str] = "q_power"
    y_kind: ClassVar[str] = "inverse_q"
    y_unit: ClassVar[str] = ""
    PARAMS = PARAMS
    CONSTS = CONSTS

    def __post_init__(self):
        if self.saturation not in SATURATION_KINDS:
            raise ValueError(f"q_power: unknown saturation {self.saturation!r} "
                             f"(allowed: {', '.join(SATURATION_KINDS)})")
        if self.saturation == "power_self_consistent":
            missing = [k for k in ("Qc", "A0", "d") if not (getattr(self, k) > 0)]
            if missing:
                raise ValueError("q_power with saturation 'power_self_consistent' needs "
                                 f"positive constants {', '.join(missing)}")

    @property
    def x_kind(self):
        return {"field": "field", "photon_number": "photon_number"}.get(self.saturation,
                                                                         "power")

    @property
    def x_unit(self):
        return {"field": "V/m", "photon_number": ""}.get(self.saturation, "W")

    def constants(self):
        """The constants this model uses: the geometry (``Qc``, ``A0``, ``d``, ``eps_r``) only
        with ``power_self_consistent``, so that a report never lists a permittivity that played
        no part in the fit."""
        c = super().constants()
        if self.saturation != "power_self_consistent":
            for k in ("Qc", "A0", "d", "eps_r"):
                c.pop(k, None)
        return c

    def slot_names(self):
        crit = CRITICAL_NAME[self.saturation]
        return tuple(crit if s == "x_c" else s for s in PARAMS)

    @property
    def parameters(self):
        crit = {
            "E_c": Parameter("E_c", "V/m", r"$E_c$",
                             {"dist": "loguniform", "low": 1e-2, "high": 1e5}, (0.0, math.inf)),
            "n_c": Parameter("n_c", "", r"$n_c$",
                             {"dist": "loguniform", "low": 1e-4, "high": 1e10}, (0.0, math.inf)),
            "P_c": Parameter("P_c", "W", r"$P_c$",
                             {"dist": "loguniform", "low": 1e-24, "high": 1e-3}, (0.0, math.inf)),
        }
        return (
            Parameter("delta0", "", r"$F\delta_0$",
                      {"dist": "loguniform", "low": 1e-8, "high": 1e-2}, (0.0, 1.0)),
            Parameter("delta_other", "", r"$\delta_\mathrm{other}$",
                      {"dist": "loguniform", "low": 1e-10, "high": 1e-2}, (0.0, 1.0)),
            crit[CRITICAL_NAME[self.saturation]],
            Parameter("beta", "", r"$\beta$", {"dist": "uniform", "low": 0.1, "high": 0.6},
                      (0.0, 1.0)),
        )

    def kernel_consts(self):
        values = {"T": self.T, "f": self.f, "saturation": float(SATURATION_KINDS.index(
            self.saturation)), "Qc": self.Qc, "A0": self.A0, "d": self.d, "eps_r": self.eps_r}
        return np.array([values[c] for c in CONSTS])

    kernel = staticmethod(_predict_qpower)
