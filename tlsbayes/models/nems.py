"""The NEMS damping model: Γ(T) of a nanomechanical mode (Maillet Eq. 2-4).

Kernel of :mod:`tlsbayes.physics.nems`.  ``PARAMS`` names the columns of the parameter matrix
(the superconducting state uses the first three; with ``phonon = "free"`` the ``gamma`` column
holds ``A_ph``), ``CONSTS`` the constants vector; ``STATE_*`` and ``PHONON_*`` are the option
codes stored in it.  The rate prefactors are Maillet Eq. 3/4 as written once in
:mod:`tlsbayes.physics.nems`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numba
import numpy as np

from ..physics import constants as K_
from ..physics.nems import (damping_F15_of_log, damping_n1_over_Comega, damping_over_Comega,
                            electron_rate_prefactor_scalar, phonon_rate_prefactor_1d_scalar,
                            universal_F_of_log)
from .base import Model, Parameter, register

__all__ = ["NemsDamping", "PARAMS", "CONSTS", "STATES", "PHONON_MODELS"]

PARAMS = ("C", "gamma", "n_ph", "x", "K")
P_C = PARAMS.index("C")
P_GAMMA = PARAMS.index("gamma")
P_N_PH = PARAMS.index("n_ph")
P_X = PARAMS.index("x")
P_K = PARAMS.index("K")
#: Columns the superconducting state uses (it has no electron channel: x and K are absent).
N_PARAMS_S = PARAMS.index("x")

CONSTS = ("omega", "rho", "e", "w", "c_l", "state", "phonon")
C_OMEGA = CONSTS.index("omega")
C_RHO = CONSTS.index("rho")
C_E = CONSTS.index("e")
C_W = CONSTS.index("w")
C_C_L = CONSTS.index("c_l")
C_STATE = CONSTS.index("state")
C_PHONON = CONSTS.index("phonon")

STATES = ("S", "N")
STATE_S = STATES.index("S")
STATE_N = STATES.index("N")
PHONON_MODELS = ("1d_beam", "free")
PHONON_1D_BEAM = PHONON_MODELS.index("1d_beam")
PHONON_FREE = PHONON_MODELS.index("free")


@numba.njit(cache=True)
def _row_n1(out_row, scale, l_ph, l_both, lnT, x):
    """Γ row for n_ph = 1: Γ = Cω F(a), ln a = ln(ω/(A k_B)) - ln T (one log per channel)."""
    for i in range(lnT.size):
        g = universal_F_of_log(l_ph - lnT[i])
        if x != 0.0:
            g = (1.0 - x) * g + x * universal_F_of_log(l_both - lnT[i])
        out_row[i] = scale * g


@numba.njit(cache=True)
def _row_n15(row, T, lnT, omega, C, A_ph, A_el, x):
    """Γ row for n_ph = 3/2 from the tables; a point outside them takes the general path.

    ln a_ph = ln(ω/(A_ph k_B^{3/2})) - 3/2 ln T, ln a_el = ln(ω/(A_el k_B)) - ln T.
    """
    l_ph = math.log(omega / A_ph) - 1.5 * math.log(K_.k_B)
    x_el = x if A_el > 0.0 else 0.0  # no electrons: Γ_S whatever x is
    l_el = math.log(omega / (A_el * K_.k_B)) if x_el != 0.0 else 0.0
    scale = C * omega
    for i in range(lnT.size):
        row[i] = scale * damping_F15_of_log(l_ph - 1.5 * lnT[i], l_el - lnT[i], x_el)
    # A NaN is a point outside the tables; it is mended here, not in the loop above,
    # which runs 1.7 times as fast without the branch to the general kernel.
    for i in range(lnT.size):
        if row[i] != row[i]:
            row[i] = scale * damping_over_Comega(T[i], omega, A_ph, 1.5, A_el, x)


@numba.njit(cache=True)
def _kernel_start(P, T, consts):
    """``(out, ln T, fast, ω)``: the (nwalkers, n) output to fill, ln T, and whether the rows
    may take the tables (ω > 0 and every T in (0, inf); otherwise the per-point path)."""
    omega = consts[C_OMEGA]
    lnT = np.empty(T.size)
    fast = omega > 0.0
    for i in range(T.size):
        fast = fast and 0.0 < T[i] < np.inf
        lnT[i] = math.log(T[i]) if T[i] > 0.0 else 0.0
    return np.empty((P.shape[0], T.size)), lnT, fast, omega


@numba.njit(cache=True)
def _walker_rates(P, w, consts):
    """``(C, A_ph, n_ph, x, A_el)`` of walker ``w``: the rate prefactors of Maillet Eq. 3-4."""
    normal = int(consts[C_STATE]) == STATE_N
    if int(consts[C_PHONON]) == PHONON_FREE:
        A_ph = P[w, P_GAMMA]
    else:
        A_ph = phonon_rate_prefactor_1d_scalar(P[w, P_GAMMA] * K_.e, consts[C_RHO],
                                               consts[C_E], consts[C_W], consts[C_C_L])
    x = P[w, P_X] if normal else 0.0
    A_el = electron_rate_prefactor_scalar(P[w, P_K]) if normal else 0.0
    return P[w, P_C], A_ph, P[w, P_N_PH], x, A_el


@numba.njit(cache=True)
def _fast_row_n1(out_row, lnT, omega, C, A_ph, x, A_el):
    """Γ row for n_ph = 1 from one log per channel (:func:`_row_n1`); False (row not written)
    where a rate prefactor makes those logs infinite."""
    if not A_ph > 0.0:
        return False
    l_ph = math.log(omega / (A_ph * K_.k_B))
    l_both = math.log(omega / ((A_ph + A_el) * K_.k_B))
    if not (math.isfinite(l_ph) and math.isfinite(l_both)):
        return False
    _row_n1(out_row, C * omega, l_ph, l_both, lnT, x)
    return True


@numba.njit(cache=True)
def _predict_nems(P, T, consts):
    """Γ (nwalkers, n) for any phonon power n_ph (the general kernel)."""
    out, lnT, fast, omega = _kernel_start(P, T, consts)
    for w in range(P.shape[0]):
        C, A_ph, n_ph, x, A_el = _walker_rates(P, w, consts)
        if fast and n_ph == 1.0 and _fast_row_n1(out[w], lnT, omega, C, A_ph, x, A_el):
            continue
        if fast and n_ph == 1.5 and A_ph > 0.0:
            _row_n15(out[w], T, lnT, omega, C, A_ph, A_el, x)
            continue
        for i in range(T.size):
            out[w, i] = C * omega * damping_over_Comega(T[i], omega, A_ph, n_ph, A_el, x)
    return out


@numba.njit(cache=True)
def _predict_nems_n1(P, T, consts):
    """:func:`_predict_nems` when every walker has n_ph = 1, the same numbers without the
    n = 3/2 tables and the quadrature in the compiled code (a first fit of an n_ph = 1 card
    compiles in less than half the time); an empty (0, n) array if some walker has another n_ph.
    """
    out, lnT, fast, omega = _kernel_start(P, T, consts)
    for w in range(P.shape[0]):
        C, A_ph, n_ph, x, A_el = _walker_rates(P, w, consts)
        if n_ph != 1.0:
            return np.empty((0, T.size))
        if fast and _fast_row_n1(out[w], lnT, omega, C, A_ph, x, A_el):
            continue
        for i in range(T.size):
            out[w, i] = C * omega * damping_n1_over_Comega(T[i], omega, A_ph, A_el, x)
    return out


def predict_nems(P, T, consts):
    """The NEMS kernel: Γ [s^-1] of shape (nwalkers, n) for the parameter matrix ``P``
    (columns ``PARAMS``), temperatures ``T`` [K] (n,) and constants ``consts`` (``CONSTS``).

    The n_ph = 1 kernel first (the usual card: n_ph fixed at 1), the general one only if some
    walker has another n_ph, so that only the kernels a card uses are ever compiled.
    """
    out = _predict_nems_n1(P, T, consts)
    if out.shape[0] != P.shape[0]:
        out = _predict_nems(P, T, consts)
    return out


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

    kernel = staticmethod(predict_nems)
