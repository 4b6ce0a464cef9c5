"""The NEMS damping model: Γ(T) of a nanomechanical mode (Maillet Eq. 2-4).

Kernel in :mod:`tlsbayes.models.kernels.nems` (imported on the first prediction), built on
:mod:`tlsbayes.physics.nems`. ``PARAMS`` (in :mod:`tlsbayes.models.specs.nems`) names the
columns of the parameter matrix (the superconducting state uses the first three; with ``phonon =
"free"`` the ``gamma`` column holds ``A_ph``), ``CONSTS`` the constants vector; ``STATE_*`` and
``PHONON_*`` are the option codes stored in it. The rate prefactors are Maillet Eq. 3/4 as
written once in :mod:`tlsbayes.physics.nems`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .base import Model, Parameter, lazy_kernel, register
from .specs.nems import (PARAMS, N_PARAMS_S, CONSTS, STATES, PHONON_MODELS)

__all__ = ["NemsDamping", "PARAMS", "CONSTS", "STATES", "PHONON_MODELS"]


def _load():
    """The kernel module (numba), imported on the first prediction."""
    from .kernels import nems as kernels

    return kernels


@register
@dataclass(frozen=True)
class NemsDamping(Model):
    """Damping rate Γ [s^-1] of a NEMS mode vs temperature (Maillet Eq. 2-4).

    ``state="S"`` (superconducting metal: phonons only; parameters C, gamma, n_ph) or
    ``state="N"`` (normal: adds x and K).  ``phonon="1d_beam"`` computes the phonon prefactor
    from the deformation potential ``gamma`` [eV] and the beam constants (Eq. 3);
    ``phonon="free"`` makes the prefactor ``A_ph`` [J^-n s^-1] a parameter (the
    semi-phenomenological rate of the goalpost cantilever, n_ph = 3/2).
    """

    omega: float
    rho: float = 2900.0
    e: float = 130e-9
    w: float = 300e-9
    c_l: float = 6000.0
    state: str = "S"
    phonon: str = "1d_beam"

    kind: ClassVar[str] = "nems_damping"
    x_kind: ClassVar[str] = "temperature"
    x_unit: ClassVar[str] = "K"
    y_kind: ClassVar[str] = "damping_rate"
    y_unit: ClassVar[str] = "1/s"
    PARAMS = PARAMS
    CONSTS = CONSTS

    def __post_init__(self):
        if self.state not in STATES:
            raise ValueError(f"nems_damping: state must be 'S' or 'N', not {self.state!r}")
        if self.phonon not in PHONON_MODELS:
            raise ValueError(f"nems_damping: phonon must be '1d_beam' or 'free', "
                             f"not {self.phonon!r}")

    def slot_names(self):
        used = PARAMS if self.state == "N" else PARAMS[:N_PARAMS_S]
        ph = "A_ph" if self.phonon == "free" else "gamma"
        return tuple(ph if s == "gamma" else s for s in used)

    @property
    def parameters(self):
        ph = (Parameter("gamma", "eV", r"$\gamma$",
                        {"dist": "loguniform", "low": 0.1, "high": 100.0}, (0.0, math.inf))
              if self.phonon == "1d_beam" else
              Parameter("A_ph", "J^-n/s", r"$A_\mathrm{ph}$",
                        {"dist": "loguniform", "low": 1e10, "high": 1e60}, (0.0, math.inf)))
        out = (
            Parameter("C", "", r"$C$", {"dist": "loguniform", "low": 1e-7, "high": 1e-3},
                      (0.0, math.inf)),
            ph,
            Parameter("n_ph", "", r"$n_\mathrm{ph}$", {"dist": "fixed", "value": 1.0},
                      (0.5, 4.0)),
        )
        if self.state == "N":
            out += (
                Parameter("x", "", r"$x$", {"dist": "uniform", "low": 0.0, "high": 1.0},
                          (0.0, 1.0)),
                Parameter("K", "", r"$K$", {"dist": "loguniform", "low": 1e-3, "high": 1.0},
                          (0.0, 1.0)),
            )
        return out

    def kernel_consts(self):
        values = {"omega": self.omega, "rho": self.rho, "e": self.e, "w": self.w,
                  "c_l": self.c_l, "state": float(STATES.index(self.state)),
                  "phonon": float(PHONON_MODELS.index(self.phonon))}
        return np.array([values[c] for c in CONSTS])

    kernel = lazy_kernel(_load, "predict_nems")
