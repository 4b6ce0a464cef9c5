"""Thermal-quasiparticle models: Mattis–Bardeen terms added to the TLS terms.

Kernels in :mod:`tlsbayes.models.kernels.quasiparticle` (imported on the first prediction),
built on :mod:`tlsbayes.physics.quasiparticle`. Each kernel's parameter columns (``*_PARAMS``)
and constants (``QP_CONSTS``, shared by the three) are declared once in
:mod:`tlsbayes.models.specs.quasiparticle`; the ``gap`` column
holds ``Tc`` [K] or ``Delta0`` [eV] as the constant ``gap`` says (``GAP_TC`` / ``GAP_DELTA0``
codes in the constants vector).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..physics import constants as K_
from ..physics.constants import BCS_GAP_RATIO
from .base import Model, Parameter, lazy_kernel, register
from .specs.quasiparticle import (GAP_PARAMETERS, FREQUENCY_SHIFT_QP_PARAMS,
                                  FRACTIONAL_SHIFT_QP_PARAMS, INVERSE_Q_QP_PARAMS, QP_CONSTS, C_F)
from .shift import FrequencyShift

__all__ = ["FrequencyShiftQP", "FractionalShiftQP", "InverseQQP", "GAP_PARAMETERS",
           "FREQUENCY_SHIFT_QP_PARAMS", "FRACTIONAL_SHIFT_QP_PARAMS", "INVERSE_Q_QP_PARAMS",
           "QP_CONSTS"]


def _load():
    """The kernel module (numba), imported on the first prediction."""
    from .kernels import quasiparticle as kernels

    return kernels


class _QuasiparticleMixin:
    """Gap bookkeeping shared by the quasiparticle models (constants ``gap``, ``gap_ratio``)."""

    CONSTS = QP_CONSTS

    def slot_names(self):
        return tuple(self.gap if s == "gap" else s for s in self.PARAMS)

    def __post_init__(self):
        if "f" in self.__dataclass_fields__:  # f(T) has no constant f: there f = f0
            self._check_frequency()
        self._check_gap()

    def _check_frequency(self):
        if not (self.f > 0.0 and math.isfinite(self.f)):
            raise ValueError(f"{self.kind} needs the constant f (resonance frequency in Hz, "
                             f"> 0), got {self.f!r}")

    def _check_gap(self):
        if self.gap not in GAP_PARAMETERS:
            raise ValueError(f"{self.kind}: gap must be one of {', '.join(GAP_PARAMETERS)}, "
                             f"not {self.gap!r}")
        if not (self.gap_ratio > 0.0 and math.isfinite(self.gap_ratio)):
            raise ValueError(f"{self.kind}: gap_ratio must be a finite number > 0, "
                             f"not {self.gap_ratio!r}")

    def _gap_parameters(self):
        alpha = Parameter("alpha", "", r"$\alpha$",
                          {"dist": "loguniform", "low": 1e-5, "high": 1.0}, (0.0, 1.0))
        if self.gap == "Delta0":
            gap = Parameter("Delta0", "eV", r"$\Delta_0$",
                            {"dist": "loguniform", "low": 1e-5, "high": 3e-3}, (0.0, math.inf))
        else:
            gap = Parameter("Tc", "K", r"$T_c$", {"dist": "loguniform", "low": 0.1, "high": 20.0},
                            (0.0, math.inf))
        return alpha, gap

    def _gap_default(self, pri, x):
        """The film is superconducting at every measured T: the gap prior starts above max T."""
        if x is None or not len(x):
            return pri
        tmin = 1.05 * float(np.max(x))
        if self.gap == "Delta0":
            lo = self.gap_ratio * K_.k_B * tmin / K_.e
            pri["Delta0"] = {"dist": "loguniform", "low": lo, "high": max(3e-3, 10.0 * lo)}
        else:
            pri["Tc"] = {"dist": "loguniform", "low": tmin, "high": max(20.0, 10.0 * tmin)}
        return pri

    def kernel_consts(self):
        values = {"gap": float(GAP_PARAMETERS.index(self.gap)),
                  "gap_ratio": float(self.gap_ratio), "f": getattr(self, "f", math.nan)}
        return np.array([values[c] for c in self.CONSTS])


@register
@dataclass(frozen=True)
class FrequencyShiftQP(_QuasiparticleMixin, Model):
    """Resonance frequency vs temperature: TLS digamma shift plus Mattis–Bardeen shift.

    ``f(T) = f0 [1 + (F δ0/π)(Re ψ(1/2 + i y) - ln y) + (α/2)(σ2(T) - σ2(0))/σ2(0)]``,
    ``y = h f0/2πk_BT``, σ2 the Mattis–Bardeen conductivity at f0 with the BCS gap Δ(T)
    (:mod:`tlsbayes.physics.quasiparticle`; Gao, PhD thesis, Caltech 2008; Zmuidzinas,
    Annu. Rev. CMP 3, 169 (2012)).  Both terms vanish at T = 0, so ``f0 = f(T -> 0)``.

    Constants: ``gap`` = ``"Tc"`` (parameter Tc [K], Δ0 = gap_ratio k_B Tc) or ``"Delta0"``
    (parameter Δ0 [eV], Tc = Δ0/(gap_ratio k_B)); ``gap_ratio`` = Δ0/k_BTc, default the BCS
    1.764.  The prediction is NaN (zero likelihood) at T >= Tc.
    """

    gap: str = "Tc"
    gap_ratio: float = BCS_GAP_RATIO

    kind: ClassVar[str] = "frequency_shift_qp"
    x_kind: ClassVar[str] = "temperature"
    x_unit: ClassVar[str] = "K"
    y_kind: ClassVar[str] = "frequency"
    y_unit: ClassVar[str] = "Hz"
    PARAMS = FREQUENCY_SHIFT_QP_PARAMS
    # f(T) takes its frequency from the parameter f0, so it has no constant f
    CONSTS = QP_CONSTS[:C_F]

    @property
    def parameters(self):
        return FrequencyShift().parameters + self._gap_parameters()

    def default_priors(self, x=None, y=None):
        pri = FrequencyShift().default_priors(x, y)
        pri.update({p.name: dict(p.prior) for p in self._gap_parameters()})
        return self._gap_default(pri, x)

    kernel = lazy_kernel(_load, "predict_frequency_shift_qp")


@register
@dataclass(frozen=True)
class FractionalShiftQP(_QuasiparticleMixin, Model):
    """Fractional frequency shift vs temperature, TLS plus Mattis–Bardeen, with an offset.

    ``y(T) = (F δ0/π)(Re ψ(1/2 + i y) - ln y) + (α/2)(σ2(T) - σ2(0))/σ2(0) + shift_offset``
    at the fixed frequency ``f`` [Hz] (constant).  ``shift_offset`` absorbs the reference of
    the data (e.g. shifts quoted relative to f at the lowest measured T rather than to
    f(T -> 0)).  Gap constants as in :class:`FrequencyShiftQP`.
    """

    f: float = math.nan
    gap: str = "Tc"
    gap_ratio: float = BCS_GAP_RATIO

    kind: ClassVar[str] = "fractional_shift_qp"
    x_kind: ClassVar[str] = "temperature"
    x_unit: ClassVar[str] = "K"
    y_kind: ClassVar[str] = "fractional_shift"
    y_unit: ClassVar[str] = ""
    PARAMS = FRACTIONAL_SHIFT_QP_PARAMS

    @property
    def parameters(self):
        alpha, gap = self._gap_parameters()
        return (
            Parameter("delta0", "", r"$F\delta_0$",
                      {"dist": "loguniform", "low": 1e-8, "high": 1e-2}, (0.0, 1.0)),
            alpha,
            gap,
            Parameter("shift_offset", "", r"$y_0$",
                      {"dist": "uniform", "low": -1e-3, "high": 1e-3}),
        )

    def default_priors(self, x=None, y=None):
        pri = self._gap_default(super().default_priors(), x)
        if y is not None and len(y):
            span = float(np.ptp(y)) + float(np.max(np.abs(y))) or 1e-6
            pri["shift_offset"] = {"dist": "uniform", "low": -span, "high": span}
        return pri

    kernel = lazy_kernel(_load, "predict_fractional_shift_qp")


@register
@dataclass(frozen=True)
class InverseQQP(_QuasiparticleMixin, Model):
    """Internal loss vs temperature at a fixed readout power: TLS + Mattis–Bardeen + other.

    ``1/Qi(T) = δ_TLS tanh(h f/2k_BT) + α σ1(T)/σ2(T) + δ_other`` (Defrance Eq. 4 at fixed
    field; Gao 2008 and Zmuidzinas 2012 for the thin-film quasiparticle loss, σ from Mattis &
    Bardeen 1958).  ``delta_tls`` is the TLS loss *at the measurement power*,
    ``F δ0 / [1 + (|E|/E_c)²]^β``, taken independent of T (the temperature dependence of E_c
    is neglected); it equals the ``delta0`` of f(T) only at low power, hence its own name.

    Constants: ``f`` [Hz] (resonance frequency), gap constants as in :class:`FrequencyShiftQP`.
    """

    f: float = math.nan
    gap: str = "Tc"
    gap_ratio: float = BCS_GAP_RATIO

    kind: ClassVar[str] = "inverse_q_qp"
    x_kind: ClassVar[str] = "temperature"
    x_unit: ClassVar[str] = "K"
    y_kind: ClassVar[str] = "inverse_q"
    y_unit: ClassVar[str] = ""
    PARAMS = INVERSE_Q_QP_PARAMS

    @property
    def parameters(self):
        alpha, gap = self._gap_parameters()
        return (
            Parameter("delta_tls", "", r"$\delta_\mathrm{TLS}$",
                      {"dist": "loguniform", "low": 1e-9, "high": 1e-2}, (0.0, 1.0)),
            Parameter("delta_other", "", r"$\delta_\mathrm{other}$",
                      {"dist": "loguniform", "low": 1e-10, "high": 1e-2}, (0.0, 1.0)),
            alpha,
            gap,
        )

    def default_priors(self, x=None, y=None):
        return self._gap_default(super().default_priors(), x)

    kernel = lazy_kernel(_load, "predict_inverse_q_qp")
