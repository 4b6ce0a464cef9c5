"""The Q-power model: internal loss 1/Qi vs readout field or power (Defrance Eq. 4 and 6).

Kernel in :mod:`tlsbayes.models.kernels.qpower` (imported on the first prediction), built on
:mod:`tlsbayes.physics.qpower`. ``PARAMS`` (in :mod:`tlsbayes.models.specs.qpower`) names the
columns of the parameter matrix (the critical-scale column is named per saturation kind, see
:data:`CRITICAL_NAME`), ``CONSTS`` the constants vector; ``SAT_*`` are the saturation codes
stored in it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..physics import constants as K_
from .base import Model, Parameter, lazy_kernel, register
from .specs.qpower import (PARAMS, CONSTS, SATURATION_KINDS, CRITICAL_NAME)

__all__ = ["QPower", "PARAMS", "CONSTS", "SATURATION_KINDS", "CRITICAL_NAME"]


def _load():
    """The kernel module (numba), imported on the first prediction."""
    from .kernels import qpower as kernels

    return kernels


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

    def saturation_ridge(self):
        """``(amplitude, scale, slope, power)`` names and exponent of the high-drive limit:
        far above saturation ``[1 + (x/x_c)^p]^-beta -> (x_c/x)^(p beta)`` (Eq. 4), so the
        data fix only ``delta0 x_c^(p beta)`` there (p = 2 for a field, 1 for a photon number
        or a power).  None for the self-consistent field, whose saturation is not of this form.
        Used by the ``"de_jump"`` move set (:func:`tlsbayes.sampling.moves.ridge_jump`)."""
        if self.saturation == "power_self_consistent":
            return None
        return ("delta0", CRITICAL_NAME[self.saturation], "beta",
                2.0 if self.saturation == "field" else 1.0)

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

    kernel = lazy_kernel(_load, "predict_qpower")
