"""Frequency-shift models: the TLS digamma shift f(T) (Defrance Eq. 5) and the NEMS log shift.

Kernels in :mod:`tlsbayes.models.kernels.shift` (imported on the first prediction), built on
:mod:`tlsbayes.physics.shift`. Column layout of each kernel's parameter matrix (``*_PARAMS``)
and constants vector (``*_CONSTS``) is declared once in
:mod:`tlsbayes.models.specs.shift`; every index below is derived from it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .base import Model, Parameter, lazy_kernel, register
from .specs.shift import (FREQUENCY_SHIFT_PARAMS, FREQUENCY_SHIFT_CONSTS, LOG_SHIFT_PARAMS,
                          LOG_SHIFT_CONSTS)

__all__ = ["FrequencyShift", "LogShift", "FREQUENCY_SHIFT_PARAMS", "LOG_SHIFT_PARAMS",
           "tls_shift_parameters"]


def _load():
    """The kernel module (numba), imported on the first prediction."""
    from .kernels import shift as kernels

    return kernels


def tls_shift_parameters():
    """``(f0, delta0)`` of the TLS shift, shared with the quasiparticle f(T) model."""
    return (
        Parameter("f0", "Hz", r"$f_0$", {"dist": "uniform", "low": 1e6, "high": 2e10},
                  (0.0, math.inf)),
        Parameter("delta0", "", r"$F\delta_0$",
                  {"dist": "loguniform", "low": 1e-8, "high": 1e-2}, (0.0, 1.0)),
    )


@register
@dataclass(frozen=True)
class FrequencyShift(Model):
    """Resonance frequency vs temperature, TLS digamma form (Defrance Eq. 5).

    ``f(T) = f0 [1 + (F δ0/π)(Re ψ(1/2 + i h f0/2πk_BT) - ln(h f0/2πk_BT))]``; ``delta0`` is
    F·δ0 (F = 1 for the parallel-plate capacitors of Defrance et al.).
    """

    kind: ClassVar[str] = "frequency_shift"
    x_kind: ClassVar[str] = "temperature"
    x_unit: ClassVar[str] = "K"
    y_kind: ClassVar[str] = "frequency"
    y_unit: ClassVar[str] = "Hz"
    PARAMS = FREQUENCY_SHIFT_PARAMS
    CONSTS = FREQUENCY_SHIFT_CONSTS

    @property
    def parameters(self):
        return tls_shift_parameters()

    def default_priors(self, x=None, y=None):
        pri = super().default_priors()
        if y is not None and len(y):
            # f0 = f(T -> 0) lies within a few δ0 of the data; 1e-3 relative is generous.
            hi, lo = float(np.max(y)), float(np.min(y))
            pri["f0"] = {"dist": "uniform", "low": lo * (1 - 1e-3), "high": hi * (1 + 1e-3)}
        return pri

    def kernel_consts(self):
        return np.zeros(len(self.CONSTS))

    kernel = lazy_kernel(_load, "predict_frequency_shift")


@register
@dataclass(frozen=True)
class LogShift(Model):
    """Fractional frequency shift ``δω/ω = C ln(T/T0) + a3 T³`` (Maillet Fig. 2b)."""

    kind: ClassVar[str] = "log_shift"
    x_kind: ClassVar[str] = "temperature"
    x_unit: ClassVar[str] = "K"
    y_kind: ClassVar[str] = "fractional_shift"
    y_unit: ClassVar[str] = ""
    PARAMS = LOG_SHIFT_PARAMS
    CONSTS = LOG_SHIFT_CONSTS

    @property
    def parameters(self):
        return (
            Parameter("C", "", r"$C$", {"dist": "loguniform", "low": 1e-7, "high": 1e-3},
                      (0.0, math.inf)),
            Parameter("T0", "K", r"$T_0$", {"dist": "loguniform", "low": 1e-4, "high": 1e3},
                      (0.0, math.inf)),
            Parameter("a3", "K^-3", r"$a_3$", {"dist": "uniform", "low": -1e-4, "high": 1e-4}),
        )

    def kernel_consts(self):
        return np.zeros(len(self.CONSTS))

    kernel = lazy_kernel(_load, "predict_log_shift")
