"""Models: named parameters, units, labels, and a walker-vectorised ``predict``.

A model is a small frozen dataclass holding the *constants* of an experiment (geometry,
frequency, temperature...).  Its parameters are declared by name; ``predict(params, x)`` maps a
``params`` mapping to the predicted observable at the points ``x`` and mutates nothing.
``params`` values may be floats (one prediction, shape ``(n,)``) or arrays of shape
``(nwalkers,)`` (shape ``(nwalkers, n)``): the heavy lifting is one numba call either way.

Models know nothing about priors beyond *suggesting* defaults (plain dicts, parsed by
:mod:`tlsbayes.priors`), because priors sit below models in the layer order.

Every model states the kind and SI unit of its ``x`` and ``y``; conversion from what users
have (mK, GHz, dBm, Qi, Γ/2π) happens once, at the edge (:mod:`tlsbayes.io`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar, Mapping

import numba
import numpy as np

from .physics import constants as K_
from .physics.nems import damping_F15_of_log, damping_over_Comega, universal_F_of_log
from .physics.qpower import field_constant, inverse_q_scalar, self_consistent_inverse_q_into
from .physics.quasiparticle import (BCS_GAP_RATIO, mb_sigma_reduced, qp_inverse_q_scalar,
                                    qp_shift_scalar)
from .physics.shift import shift_bracket

__all__ = [
    "Parameter",
    "FrequencyShift",
    "LogShift",
    "QPower",
    "NemsDamping",
    "FrequencyShiftQP",
    "FractionalShiftQP",
    "InverseQQP",
    "MODELS",
    "model_from_dict",
]


@dataclass(frozen=True)
class Parameter:
    """A named model parameter.

    Attributes
    ----------
    name : str
        Identifier used in cards, results and joint fits (shared by name across data sets).
    unit : str
        SI unit ("" for dimensionless).
    latex : str
        LaTeX label for plots.
    prior : dict
        Suggested default prior, as a card would declare it.
    physical_range : tuple of float
        Bounds no prior may exceed (e.g. beta in [0, 1], x in [0, 1]).
    """

    name: str
    unit: str
    latex: str
    prior: dict
    physical_range: tuple = (-math.inf, math.inf)


def _stack(params: Mapping, names):
    """(nwalkers, k) matrix of the named parameters, and whether the input was scalar."""
    cols = [np.asarray(params[n], dtype=np.float64) for n in names]
    scalar = all(c.ndim == 0 for c in cols)
    cols = np.broadcast_arrays(*[np.atleast_1d(c) for c in cols])
    return np.ascontiguousarray(np.stack(cols, axis=-1)), scalar


class _Model:
    """Shared behaviour: parameter bookkeeping and the predict wrapper."""

    kind: ClassVar[str]
    x_kind: ClassVar[str]
    x_unit: ClassVar[str]
    y_kind: ClassVar[str]
    y_unit: ClassVar[str]

    @property
    def parameters(self) -> tuple:
        raise NotImplementedError

    @property
    def param_names(self) -> tuple:
        return tuple(p.name for p in self.parameters)

    def constants(self) -> dict:
        """The experiment constants, as a plain dict (for provenance and cards)."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    def default_priors(self, x=None, y=None) -> dict:
        """Suggested priors (card-style dicts) for every parameter, given the data if known."""
        return {p.name: dict(p.prior) for p in self.parameters}

    def _consts(self) -> np.ndarray:
        raise NotImplementedError

    def predict(self, params: Mapping, x) -> np.ndarray:
        """Predicted ``y`` at ``x``.

        Parameters
        ----------
        params : mapping
            ``name -> value``; values are floats or arrays of shape ``(nwalkers,)``.
        x : array_like, shape (n,)
            Abscissae in the model's SI unit (``x_unit``).

        Returns
        -------
        ndarray
            Shape ``(n,)`` for scalar params, ``(nwalkers, n)`` otherwise.
        """
        P, scalar = _stack(params, self.param_names)
        x = np.ascontiguousarray(np.asarray(x, dtype=np.float64).reshape(-1))
        out = self._kernel(P, x, self._consts())
        return out[0] if scalar else out

    def predict_matrix(self, P: np.ndarray, x: np.ndarray) -> np.ndarray:
        """``predict`` on a ready ``(nwalkers, k)`` matrix in ``param_names`` order (hot path)."""
        return self._kernel(P, x, self._consts())


# --- frequency shift ------------------------------------------------------------------------

@numba.njit(cache=True)
def _predict_frequency_shift(P, T, consts):
    nw, n = P.shape[0], T.size
    out = np.empty((nw, n))
    c = K_.h / (2.0 * math.pi * K_.k_B)
    for w in range(nw):
        f0 = P[w, 0]
        scale = P[w, 1] / math.pi
        for i in range(n):
            y = c * f0 / T[i] if T[i] > 0.0 else np.inf
            out[w, i] = f0 * (1.0 + scale * shift_bracket(y))
    return out


@dataclass(frozen=True)
class FrequencyShift(_Model):
    """Resonance frequency vs temperature, TLS digamma form (Defrance Eq. 5).

    ``f(T) = f0 [1 + (F δ0/π)(Re ψ(1/2 + i h f0/2πk_BT) - ln(h f0/2πk_BT))]``; ``delta0`` is
    F·δ0 (F = 1 for the parallel-plate capacitors of Defrance et al.).
    """

    kind: ClassVar[str] = "frequency_shift"
    x_kind: ClassVar[str] = "temperature"
    x_unit: ClassVar[str] = "K"
    y_kind: ClassVar[str] = "frequency"
    y_unit: ClassVar[str] = "Hz"

    @property
    def parameters(self):
        return (
            Parameter("f0", "Hz", r"$f_0$", {"dist": "uniform", "low": 1e6, "high": 2e10},
                      (0.0, math.inf)),
            Parameter("delta0", "", r"$F\delta_0$",
                      {"dist": "loguniform", "low": 1e-8, "high": 1e-2}, (0.0, 1.0)),
        )

    def default_priors(self, x=None, y=None):
        pri = super().default_priors()
        if y is not None and len(y):
            # f0 = f(T -> 0) lies within a few δ0 of the data; 1e-3 relative is generous.
            hi, lo = float(np.max(y)), float(np.min(y))
            pri["f0"] = {"dist": "uniform", "low": lo * (1 - 1e-3), "high": hi * (1 + 1e-3)}
        return pri

    def _consts(self):
        return np.zeros(1)

    _kernel = staticmethod(_predict_frequency_shift)


# --- NEMS log shift -----------------------------------------------------------------------

@numba.njit(cache=True)
def _predict_log_shift(P, T, consts):
    nw, n = P.shape[0], T.size
    out = np.empty((nw, n))
    for w in range(nw):
        C, T0, a3 = P[w, 0], P[w, 1], P[w, 2]
        for i in range(n):
            t = T[i]
            out[w, i] = C * math.log(t / T0) + a3 * t * t * t
    return out


@dataclass(frozen=True)
class LogShift(_Model):
    """Fractional frequency shift ``δω/ω = C ln(T/T0) + a3 T³`` (Maillet Fig. 2b)."""

    kind: ClassVar[str] = "log_shift"
    x_kind: ClassVar[str] = "temperature"
    x_unit: ClassVar[str] = "K"
    y_kind: ClassVar[str] = "fractional_shift"
    y_unit: ClassVar[str] = ""

    @property
    def parameters(self):
        return (
            Parameter("C", "", r"$C$", {"dist": "loguniform", "low": 1e-7, "high": 1e-3},
                      (0.0, math.inf)),
            Parameter("T0", "K", r"$T_0$", {"dist": "loguniform", "low": 1e-4, "high": 1e3},
                      (0.0, math.inf)),
            Parameter("a3", "K^-3", r"$a_3$", {"dist": "uniform", "low": -1e-4, "high": 1e-4}),
        )

    def _consts(self):
        return np.zeros(1)

    _kernel = staticmethod(_predict_log_shift)


# --- Q-power --------------------------------------------------------------------------------

SATURATION_KINDS = ("field", "photon_number", "power", "power_self_consistent")


@numba.njit(cache=True)
def _predict_qpower(P, x, consts):
    # consts: T, f, mode (0 field, 1 photon, 2 power, 3 self-consistent), Qc, A0, d, eps_r
    T, f, mode = consts[0], consts[1], int(consts[2])
    nw, n = P.shape[0], x.size
    out = np.empty((nw, n))
    if mode == 3:
        # Hot path of the Defrance fits: the thermal factor and the field constants of Eq. 6
        # are computed once per call, not once per walker and point.
        Qc = consts[3]
        thermal = math.tanh(K_.h * f / (2.0 * K_.k_B * T)) if T > 0.0 else 1.0
        k = np.empty(n)
        for i in range(n):
            k[i] = field_constant(x[i], f, Qc, consts[4], consts[5], consts[6])
        kc = np.empty(n)
        step = np.empty(n)
        for w in range(nw):
            inv_ec2 = 1.0 / (P[w, 2] * P[w, 2])
            for i in range(n):
                kc[i] = k[i] * inv_ec2
            self_consistent_inverse_q_into(kc, Qc, P[w, 0] * thermal, P[w, 1], P[w, 3], 1e-12,
                                           60, out[w], step)
        return out
    for w in range(nw):
        d0, dother, xc, beta = P[w, 0], P[w, 1], P[w, 2], P[w, 3]
        for i in range(n):
            out[w, i] = inverse_q_scalar(T, f, x[i], d0, dother, xc, beta, mode != 0)
    return out


@dataclass(frozen=True)
class QPower(_Model):
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

    @property
    def parameters(self):
        crit = {
            "field": Parameter("E_c", "V/m", r"$E_c$",
                               {"dist": "loguniform", "low": 1e-2, "high": 1e5}, (0.0, math.inf)),
            "photon_number": Parameter("n_c", "", r"$n_c$",
                                       {"dist": "loguniform", "low": 1e-4, "high": 1e10},
                                       (0.0, math.inf)),
            "power": Parameter("P_c", "W", r"$P_c$",
                               {"dist": "loguniform", "low": 1e-24, "high": 1e-3},
                               (0.0, math.inf)),
        }
        c = crit["field" if self.saturation == "power_self_consistent" else self.saturation]
        return (
            Parameter("delta0", "", r"$F\delta_0$",
                      {"dist": "loguniform", "low": 1e-8, "high": 1e-2}, (0.0, 1.0)),
            Parameter("delta_other", "", r"$\delta_\mathrm{other}$",
                      {"dist": "loguniform", "low": 1e-10, "high": 1e-2}, (0.0, 1.0)),
            c,
            Parameter("beta", "", r"$\beta$", {"dist": "uniform", "low": 0.1, "high": 0.6},
                      (0.0, 1.0)),
        )

    def _consts(self):
        mode = SATURATION_KINDS.index(self.saturation)
        return np.array([self.T, self.f, float(mode), self.Qc, self.A0, self.d, self.eps_r])

    _kernel = staticmethod(_predict_qpower)


# --- NEMS damping ---------------------------------------------------------------------------

@numba.njit(cache=True)
def _predict_nems(P, T, consts):
    # consts: omega, rho, e, w, c_l, state (0 S, 1 N), phonon (0 1d beam with gamma, 1 free A_ph)
    omega, rho, e, w_, c_l = consts[0], consts[1], consts[2], consts[3], consts[4]
    normal, free_ph = consts[5] == 1.0, consts[6] == 1.0
    nw, n = P.shape[0], T.size
    out = np.empty((nw, n))
    fast = omega > 0.0
    lnT = np.empty(n)
    for i in range(n):
        fast = fast and 0.0 < T[i] < np.inf
        lnT[i] = math.log(T[i]) if T[i] > 0.0 else 0.0
    for w in range(nw):
        C = P[w, 0]
        if free_ph:
            A_ph = P[w, 1]
        else:
            g = P[w, 1] * K_.e  # eV -> J
            A_ph = g * g / (K_.hbar * K_.hbar * rho * e * w_ * c_l * c_l * c_l)
        n_ph = P[w, 2]
        if normal:
            x = P[w, 3]
            A_el = 4.0 * math.pi * P[w, 4] / K_.hbar
        else:
            x = 0.0
            A_el = 0.0
        if fast and n_ph == 1.0 and A_ph > 0.0:
            # Γ = Cω F(a), ln a = ln(ω/(A k_B)) - ln T: one logarithm per walker and channel.
            l_ph = math.log(omega / (A_ph * K_.k_B))
            l_both = math.log(omega / ((A_ph + A_el) * K_.k_B))
            if math.isfinite(l_ph) and math.isfinite(l_both):
                scale = C * omega
                for i in range(n):
                    g = universal_F_of_log(l_ph - lnT[i])
                    if x != 0.0:
                        g = (1.0 - x) * g + x * universal_F_of_log(l_both - lnT[i])
                    out[w, i] = scale * g
                continue
        if fast and n_ph == 1.5 and A_ph > 0.0:
            # ln a_ph = ln(ω/(A_ph k_B^{3/2})) - 3/2 ln T, ln a_el = ln(ω/(A_el k_B)) - ln T;
            # a point outside the tables takes the general path.
            l_ph = math.log(omega / A_ph) - 1.5 * math.log(K_.k_B)
            x_el = x if A_el > 0.0 else 0.0  # no electrons: Γ_S whatever x is
            l_el = math.log(omega / (A_el * K_.k_B)) if x_el != 0.0 else 0.0
            scale = C * omega
            row = out[w]
            for i in range(n):
                row[i] = scale * damping_F15_of_log(l_ph - 1.5 * lnT[i], l_el - lnT[i], x_el)
            # A NaN is a point outside the tables; it is mended here, not in the loop above,
            # which runs 1.7 times as fast without the branch to the general kernel.
            for i in range(n):
                if row[i] != row[i]:
                    row[i] = scale * damping_over_Comega(T[i], omega, A_ph, n_ph, A_el, x)
            continue
        for i in range(n):
            out[w, i] = C * omega * damping_over_Comega(T[i], omega, A_ph, n_ph, A_el, x)
    return out


@dataclass(frozen=True)
class NemsDamping(_Model):
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

    def __post_init__(self):
        if self.state not in ("S", "N"):
            raise ValueError(f"nems_damping: state must be 'S' or 'N', not {self.state!r}")
        if self.phonon not in ("1d_beam", "free"):
            raise ValueError(f"nems_damping: phonon must be '1d_beam' or 'free', "
                             f"not {self.phonon!r}")

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

    def _consts(self):
        return np.array([self.omega, self.rho, self.e, self.w, self.c_l,
                         1.0 if self.state == "N" else 0.0,
                         1.0 if self.phonon == "free" else 0.0])

    _kernel = staticmethod(_predict_nems)


MODELS = {m.kind: m for m in (FrequencyShift, LogShift, QPower, NemsDamping)}


def model_from_dict(kind: str, constants: Mapping) -> _Model:
    """Build a model from its kind and a dict of constants (what a card declares).

    Raises ``KeyError``/``TypeError``/``ValueError`` with the offending name; the config layer
    turns them into :class:`tlsbayes.errors.CardError`.
    """
    if kind not in MODELS:
        raise KeyError(f"unknown model {kind!r} (known: {', '.join(sorted(MODELS))})")
    cls = MODELS[kind]
    allowed = set(cls.__dataclass_fields__)
    unknown = set(constants) - allowed
    if unknown:
        raise TypeError(f"model {kind!r}: unknown constant(s) {', '.join(sorted(unknown))} "
                        f"(allowed: {', '.join(sorted(allowed)) or 'none'})")
    return cls(**constants)


# --- thermal quasiparticles (Mattis–Bardeen) added to the TLS terms ---------------------------

GAP_PARAMETERS = ("Tc", "Delta0")


@numba.njit(cache=True)
def _qp_gap(value, by_delta, ratio):
    """(Δ0 [J], Tc [K]) from the gap parameter: Tc [K] or Δ0 [eV], with Δ0 = ratio k_B Tc."""
    if by_delta:
        d0 = value * K_.e
        return d0, d0 / (ratio * K_.k_B)
    return ratio * K_.k_B * value, value


@numba.njit(cache=True)
def _qp_shift_row(T, f, alpha, d0, tc, out, offset):
    """``out[i] = TLS-free quasiparticle shift (α/2)δσ2/σ2(0) + offset``; NaN where T >= Tc.

    Above Tc there is no superconducting resonator, so the prediction is NaN (-inf likelihood).
    """
    s20 = mb_sigma_reduced(0.0, d0 / (K_.h * f), False)[1]
    for i in range(T.size):
        if T[i] >= tc:
            out[i] = np.nan
        else:
            out[i] = offset + qp_shift_scalar(T[i], f, alpha, d0, tc, s20)


@numba.njit(cache=True)
def _predict_frequency_shift_qp(P, T, consts):
    # P: f0, delta0, alpha, Tc or Delta0; consts: by_delta, gap_ratio
    by_delta, ratio = consts[0] == 1.0, consts[1]
    nw, n = P.shape[0], T.size
    out = np.empty((nw, n))
    c = K_.h / (2.0 * math.pi * K_.k_B)
    for w in range(nw):
        f0 = P[w, 0]
        scale = P[w, 1] / math.pi
        d0, tc = _qp_gap(P[w, 3], by_delta, ratio)
        _qp_shift_row(T, f0, P[w, 2], d0, tc, out[w], 0.0)
        for i in range(n):
            y = c * f0 / T[i] if T[i] > 0.0 else np.inf
            out[w, i] = f0 * (1.0 + scale * shift_bracket(y) + out[w, i])
    return out


@numba.njit(cache=True)
def _predict_fractional_shift_qp(P, T, consts):
    # P: delta0, alpha, Tc or Delta0, shift_offset; consts: by_delta, gap_ratio, f
    by_delta, ratio, f = consts[0] == 1.0, consts[1], consts[2]
    nw, n = P.shape[0], T.size
    out = np.empty((nw, n))
    c = K_.h * f / (2.0 * math.pi * K_.k_B)
    for w in range(nw):
        scale = P[w, 0] / math.pi
        d0, tc = _qp_gap(P[w, 2], by_delta, ratio)
        _qp_shift_row(T, f, P[w, 1], d0, tc, out[w], P[w, 3])
        for i in range(n):
            y = c / T[i] if T[i] > 0.0 else np.inf
            out[w, i] += scale * shift_bracket(y)
    return out


@numba.njit(cache=True)
def _predict_inverse_q_qp(P, T, consts):
    # P: delta_tls, delta_other, alpha, Tc or Delta0; consts: by_delta, gap_ratio, f
    by_delta, ratio, f = consts[0] == 1.0, consts[1], consts[2]
    nw, n = P.shape[0], T.size
    out = np.empty((nw, n))
    hf = K_.h * f
    for w in range(nw):
        d_tls, d_other, alpha = P[w, 0], P[w, 1], P[w, 2]
        d0, tc = _qp_gap(P[w, 3], by_delta, ratio)
        for i in range(n):
            t = T[i]
            thermal = math.tanh(hf / (2.0 * K_.k_B * t)) if t > 0.0 else 1.0
            out[w, i] = d_other + d_tls * thermal + qp_inverse_q_scalar(t, f, alpha, d0, tc)
    return out


class _QuasiparticleMixin:
    """Gap bookkeeping shared by the quasiparticle models (constants ``gap``, ``gap_ratio``)."""

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

    def _gap_consts(self):
        return [1.0 if self.gap == "Delta0" else 0.0, float(self.gap_ratio)]


@dataclass(frozen=True)
class FrequencyShiftQP(_QuasiparticleMixin, _Model):
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

    def __post_init__(self):
        self._check_gap()

    @property
    def parameters(self):
        return FrequencyShift().parameters + self._gap_parameters()

    def default_priors(self, x=None, y=None):
        pri = FrequencyShift().default_priors(x, y)
        pri.update({p.name: dict(p.prior) for p in self._gap_parameters()})
        return self._gap_default(pri, x)

    def _consts(self):
        return np.array(self._gap_consts())

    _kernel = staticmethod(_predict_frequency_shift_qp)


@dataclass(frozen=True)
class FractionalShiftQP(_QuasiparticleMixin, _Model):
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

    def __post_init__(self):
        self._check_frequency()
        self._check_gap()

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

    def _consts(self):
        return np.array(self._gap_consts() + [self.f])

    _kernel = staticmethod(_predict_fractional_shift_qp)


@dataclass(frozen=True)
class InverseQQP(_QuasiparticleMixin, _Model):
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

    def __post_init__(self):
        self._check_frequency()
        self._check_gap()

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

    def _consts(self):
        return np.array(self._gap_consts() + [self.f])

    _kernel = staticmethod(_predict_inverse_q_qp)


MODELS.update({m.kind: m for m in (FrequencyShiftQP, FractionalShiftQP, InverseQQP)})
