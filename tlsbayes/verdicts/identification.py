"""Per-parameter identification verdict: did the data, not the prior, set this value?

For every free parameter the verdict is ``yes``, ``weak`` or ``no`` with one sentence a
physicist can act on.  It is computed from the posterior draws (physical units), the prior
actually used (bounds, log or linear scale) and, for scale parameters, the range the data span.
Everything is measured in the prior's own coordinate ``z``: ``log10 x`` for a log-uniform prior
(its sampling transform is ``"log"``), ``x`` otherwise.

Measures
--------
width ratio
    (posterior 16-84 % width) / (prior 16-84 % width) in ``z``.  1 means the data did not
    narrow the prior at all.
edge mass
    Fraction of the posterior within :data:`EDGE_FRACTION` (5 %) of the prior range from a
    finite bound, in ``z``.  A flat posterior against a bound that fills a fraction ``f`` of
    the prior range puts ``0.05 / f`` there, so :data:`EDGE_MASS` = 0.10 catches such a
    posterior whenever ``f < 0.5``; above that its width ratio already says ``no``.
outside the data
    For a scale parameter with a data span (:func:`data_spans`: ``P_c`` in W against the
    measured powers, ``E_c`` against measured fields or, for the self-consistent Qi(P) model,
    against the field at the device from Eq. 6 and the measured Qi, ``n_c`` against photon
    numbers), the posterior median below the lowest or above the highest measured value.

Rules (thresholds calibrated in ``benchmarks/verdict_calibration.py``)
----------------------------------------------------------------------
``no``
    width ratio > :data:`RATIO_NO` (0.5); or piled at a bound (edge mass > 0.10) with width
    ratio > :data:`RATIO_WEAK` (0.2); or outside the data with width ratio > 0.2 or piled.
``weak``
    width ratio > 0.2, or piled at a bound (the value is set by the bound: the data want a
    value beyond it), or the median outside the data span; and any parameter whose posterior
    correlation with a ``no`` parameter exceeds :data:`RHO_INHERIT` (|rho| > 0.9, in ``z``
    coordinates) is at most ``weak``: it inherits the prior of that parameter.
``yes``
    otherwise.

Measured (benchmarks/verdict_calibration.py; Qi(P) with the real Ta cards' priors, 1 % noise):

* sweep across the knee (P_c = -110 dBm, sweep -140 to -60 dBm): ``yes`` for all five
  parameters in 100 of 100 data sets (Laplace draws; largest width ratio 0.003 for P_c, 0.017
  for beta) and in 5 of 5 short emcee fits;
* sweep entirely above the knee (P_c = -140 dBm, sweep -100 to -40 dBm; 10 emcee fits of 3000
  steps): P_c ``no`` in 8 of 10 (width ratio 0.38-0.42, edge mass 0.09-0.15, median below
  the lowest power), delta0 ``weak`` in those 8; in the other 2 the posterior itself puts a
  narrow knee inside the sweep (P_c width ratio 0.06, unchanged after 8000 steps): the noise
  makes a spurious knee, which no threshold on the posterior can see;
* NEMS N state with K = 0.6 under its default prior (1e-3 to 1): K ``no`` in 5 of 5 (width
  ratio 0.49-0.66), C, gamma and x ``yes``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np


__all__ = [
    "EDGE_FRACTION",
    "EDGE_MASS",
    "RATIO_WEAK",
    "RATIO_NO",
    "RHO_INHERIT",
    "DataSpan",
    "Identification",
    "identify",
    "data_spans",
    "identify_posterior",
    "VERDICT_ORDER",
]

#: Width of the band next to a finite prior bound, as a fraction of the prior range in z.
EDGE_FRACTION = 0.05
#: Posterior mass inside that band above which the posterior is "piled against the bound".
EDGE_MASS = 0.10
#: Width ratios (posterior / prior, 16-84 %, in z) above which a parameter is weak / not
#: identified.
RATIO_WEAK = 0.2
RATIO_NO = 0.5
#: |rho| with an unidentified parameter above which a parameter inherits its prior.
RHO_INHERIT = 0.9
#: Verdicts from best to worst.
VERDICT_ORDER = ("yes", "weak", "no")


@dataclass(frozen=True)
class DataSpan:
    """The range of the data against which a scale parameter is judged.

    Attributes
    ----------
    low, high : float
        Smallest and largest measured value, in the parameter's own unit.
    what : str
        What the data measured, e.g. ``"power"`` (used in "the lowest power measured").
    unit : str
        SI unit of ``low``/``high`` and of the parameter.
    """

    low: float
    high: float
    what: str
    unit: str = ""

    def show(self, v: float) -> str:
        """``v`` with its unit; a power in W also in dBm (what the VNA was set to)."""
        s = f"{v:.3g} {self.unit}".strip()
        if self.unit == "W" and v > 0:
            s += f" = {10.0 * math.log10(v / 1e-3):.0f} dBm"
        return s

    def merged(self, other: "DataSpan") -> "DataSpan":
        return DataSpan(min(self.low, other.low), max(self.high, other.high), self.what,
                        self.unit)


@dataclass(frozen=True)
class Identification:
    """Identification verdict of one parameter.

    Attributes
    ----------
    name : str
    verdict : {"yes", "weak", "no"}
    reason : str
        One sentence, starting with the parameter name.
    width_ratio : float
        Posterior / prior 16-84 % width in the prior's coordinate.
    edge_mass : float
        Largest posterior fraction within :data:`EDGE_FRACTION` of a finite prior bound.
    edge : float or None
        That bound (physical units), ``None`` when nothing is piled against a bound.
    outside : str
        ``"below"``/``"above"`` when the posterior median of a scale parameter lies outside
        the data span, else ``""``.
    inherits : str
        Name of the unidentified parameter whose prior this one inherits, else ``""``.
    rho : float
        Correlation with ``inherits`` (NaN when none).
    """

    name: str
    verdict: str
    reason: str
    width_ratio: float
    edge_mass: float
    edge: float | None = None
    outside: str = ""
    inherits: str = ""
    rho: float = math.nan
    coordinate: str = field(default="linear")


def _is_log(prior) -> bool:
    return getattr(prior, "transform", "identity") == "log"


def _z(prior, x):
    x = np.asarray(x, dtype=float)
    if _is_log(prior):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log10(x)
    return x


def _is_fixed(prior) -> bool:
    lo, hi = prior.support
    return lo == hi


def _show(v: float, unit: str) -> str:
    return f"{v:.3g} {unit}".strip()


def _measures(draws: np.ndarray, prior):
    """Width ratio, (edge mass, bound) of one parameter; see the module docstring."""
    z = _z(prior, draws)
    z = z[np.isfinite(z)]
    zp = _z(prior, [prior.ppf(0.16), prior.ppf(0.84)])
    q16, q84 = np.percentile(z, [16, 84])
    ratio = float((q84 - q16) / (zp[1] - zp[0]))
    lo, hi = prior.support
    zlo, zhi = (float(v) for v in _z(prior, [lo, hi]))
    span = zhi - zlo
    if not math.isfinite(span):
        # one open side: a band of the same relative size, measured on the prior's 95 % range
        a, b = _z(prior, [prior.ppf(0.025), prior.ppf(0.975)])
        span = float(b - a)
    band = EDGE_FRACTION * span
    best = (0.0, None)
    for bound, zb, side in ((lo, zlo, 1.0), (hi, zhi, -1.0)):
        if math.isfinite(zb):
            mass = float(np.mean(side * (z - zb) < band))
            if mass > best[0]:
                best = (mass, float(bound))
    return ratio, best[0], best[1]


def _own_verdict(name, prior, d, span, unit):
    """Verdict and reason from this parameter alone (no correlations)."""
    ratio, mass, bound = _measures(d, prior)
    piled = mass > EDGE_MASS
    med = float(np.median(d))
    outside = ""
    if span is not None:
        outside = "below" if med < span.low else "above" if med > span.high else ""
    coord = "log10" if _is_log(prior) else "linear"
    wide = f"its posterior is {ratio:.0%} as wide as the prior (16-84 %, {coord} scale)"
    if outside:
        edge_txt = (f"reaches the prior edge {span.show(bound)}, " if piled else "lies ")
        lim = span.low if outside == "below" else span.high
        where = f"{outside} the {'lowest' if outside == 'below' else 'highest'} {span.what} " \
                f"measured ({span.show(lim)})"
        act = (f"measure {outside} {span.show(lim)} to reach it, or fix {name} from another "
               "measurement")
        if piled or ratio > RATIO_WEAK:
            return ("no", f"{name} is not constrained by these data (its posterior {edge_txt}"
                          f"{where}): {act}", ratio, mass, bound if piled else None, outside)
        return ("weak", f"{name} is extrapolated: its posterior median lies {where}; "
                        f"{act}", ratio, mass, None, outside)
    if ratio > RATIO_NO:
        return ("no", f"{name} is not constrained by these data: {wide}, so the prior sets "
                      f"its value; fix it or measure where it matters", ratio, mass,
                bound if piled else None, "")
    if piled:
        b = _show(bound, unit)
        if ratio > RATIO_WEAK:
            low = bound <= med
            lim = _show(float(np.percentile(d, 95 if low else 5)), unit)
            return ("no", f"{name} is only bounded from {'above' if low else 'below'} by these "
                          f"data: its posterior runs into the prior edge {b} ({mass:.0%} of it "
                          f"within {EDGE_FRACTION:.0%} of the range) and {wide}; quote the "
                          f"95 % {'upper' if low else 'lower'} limit {lim}, not a value",
                    ratio, mass, bound, "")
        return ("weak", f"{name} is pressed against its prior bound {b} ({mass:.0%} of the "
                        f"posterior within {EDGE_FRACTION:.0%} of the range): the data "
                        f"prefer values beyond it, so the bound sets the interval; widen the "
                        f"prior if such values are physical", ratio, mass, bound, "")
    if ratio > RATIO_WEAK:
        return ("weak", f"{name} is weakly identified: {wide}", ratio, mass, None, "")
    return ("yes", f"{name} is identified: the data narrowed its prior to "
                   f"{100 * ratio:.2g} % of its width ({coord} scale)", ratio, mass, None, "")


def _inherited_action(name, inherits, own, spans, names) -> str:
    """What to do about ``name``, which inherits the prior of the unconstrained ``inherits``.

    For a saturation scale (P_c, E_c, n_c) outside the measured range the data see only the
    combination delta0 * scale^beta and the bend towards the knee; with beta fixed (from
    another resonator, or at a value argued for), that bend places the scale: so the advice
    is to measure beyond the knee or fix beta.
    """
    src = own[inherits][1]
    span, outside = spans.get(inherits), own[inherits][5]
    if span is not None and outside and "beta" in names and name != "beta":
        lim = span.low if outside == "below" else span.high
        return (f"measure {outside} {span.show(lim)} to reach {inherits}, or fix beta (from "
                f"another resonator or a value argued for) so that the bend of the data "
                f"places {inherits}")
    if src.startswith(f"{inherits} is not constrained") and ": " in src:
        return src.split(": ", 1)[1]
    return f"identify {inherits} or fix it"


def _correlations(names, columns):
    data = np.vstack(columns)
    c = data - data.mean(axis=1, keepdims=True)
    norm = np.sqrt(np.einsum("ij,ij->i", c, c))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.clip((c @ c.T) / np.outer(norm, norm), -1.0, 1.0)


def identify(draws: Mapping, priors: Mapping, *, spans: Mapping | None = None,
             units: Mapping | None = None) -> dict:
    """Identification verdict of every free parameter.

    Parameters
    ----------
    draws : mapping of str to array_like
        Posterior draws in physical units, any shape (flattened), one entry per parameter.
    priors : mapping of str to prior
        The priors actually used (a :class:`~tlsbayes.inference.priors.PriorSet` or a dict of
        prior objects with ``support``, ``ppf`` and ``transform``).  Fixed priors are skipped.
    spans : mapping of str to DataSpan, optional
        Data span of the scale parameters (:func:`data_spans`).
    units : mapping of str to str, optional
        Unit of each parameter, for the sentences (default: the prior's ``unit``).

    Returns
    -------
    dict of str to Identification
        In the order of ``priors``, free parameters present in ``draws`` only.
    """
    spans = spans or {}
    units = units or {}
    names = [n for n in priors if n in draws and not _is_fixed(priors[n])]
    flat = {n: np.asarray(draws[n], dtype=float).ravel() for n in names}
    own = {}
    for n in names:
        unit = units.get(n) or getattr(priors[n], "unit", "")
        own[n] = _own_verdict(n, priors[n], flat[n], spans.get(n), unit)
    rho = _correlations(names, [_z(priors[n], flat[n]) for n in names]) if names else None
    out = {}
    for i, n in enumerate(names):
        verdict, reason, ratio, mass, edge, outside = own[n]
        inherits, r_in = "", math.nan
        for j, m in enumerate(names):
            r = rho[i, j]
            if j != i and own[m][0] == "no" and abs(r) > RHO_INHERIT \
                    and (not inherits or abs(r) > abs(r_in)):
                inherits, r_in = m, float(r)
        if inherits and verdict != "no":
            act = _inherited_action(n, inherits, own, spans, names)
            reason = (f"{n} inherits the prior of {inherits} (rho = {r_in:+.2f}), which these "
                      f"data do not constrain: {act}")
            verdict = "weak"
        coord = "log10" if _is_log(priors[n]) else "linear"
        out[n] = Identification(n, verdict, reason, ratio, mass, edge, outside, inherits, r_in,
                                coord)
    return out


#: Scale parameters of a model and the data they are judged against: (model kind, saturation
#: or None) -> (parameter, what the data measured).  The data's x is in the parameter's unit,
#: except for the self-consistent field (see :func:`_device_field`).
_SCALES = {
    ("q_power", "power"): ("P_c", "power"),
    ("q_power", "field"): ("E_c", "field"),
    ("q_power", "photon_number"): ("n_c", "photon number"),
    ("q_power", "power_self_consistent"): ("E_c", "field at the device"),
}


def _device_field(ds) -> np.ndarray:
    """|E| [V/m] at each measured power of a self-consistent Qi(P) data set (Defrance Eq. 6).

    ``|E|^2 = k(P) Qr^2`` with the loaded ``Qr = 1/(1/Qi + 1/Qc)`` taken from the measured
    ``1/Qi`` (the data's y), so the span is what the resonator actually saw.
    """
    from ..physics.field import field_constant  # plain numpy: no compiler to inspect data

    m = ds.model
    k = field_constant(np.asarray(ds.x, dtype=float), m.f, m.Qc, m.A0, m.d, m.eps_r)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sqrt(k) / (np.asarray(ds.y, dtype=float) + 1.0 / m.Qc)


def data_spans(datasets) -> dict:
    """Data spans of the scale parameters of a posterior's data sets.

    Parameters
    ----------
    datasets : iterable of Dataset
        Each with ``model`` (``kind``, ``x_unit``, optionally ``saturation``) and ``x`` in the
        model's SI unit.  Data sets sharing a parameter give the union of their spans.

    Returns
    -------
    dict of str to DataSpan
    """
    out = {}
    for ds in datasets:
        key = (ds.model.kind, getattr(ds.model, "saturation", None))
        if key not in _SCALES or len(ds.x) == 0:
            continue
        name, what = _SCALES[key]
        if key[1] == "power_self_consistent":
            x, unit = _device_field(ds), "V/m"
            x = x[np.isfinite(x) & (x > 0)]
            if x.size == 0:
                continue
        else:
            x, unit = ds.x, ds.model.x_unit
        span = DataSpan(float(np.min(x)), float(np.max(x)), what, unit)
        out[name] = out[name].merged(span) if name in out else span
    return out


def identify_posterior(posterior, draws: Mapping) -> dict:
    """:func:`identify` with the priors, units and data spans of a fitted posterior.

    Parameters
    ----------
    posterior : Posterior
        Provides ``priors``, ``datasets`` and ``parameter_info()``.
    draws : mapping of str to array_like
        Posterior draws in physical units (e.g. ``idata.posterior[name].values``).
    """
    info = posterior.parameter_info()
    units = {n: getattr(p, "unit", "") for n, p in info.items()}
    return identify(draws, posterior.priors, spans=data_spans(posterior.datasets), units=units)
