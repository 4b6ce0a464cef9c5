"""Experiment design: forecast the posterior widths a proposed measurement would give.

A *plan* is a small TOML file, parsed through a whitelist like a model card, that describes
one or more alternative measurements for the data sets of a card::

    [plan]
    name = "B2_lower_T"                 # required; letters, digits, _ . -
    title = "..."                       # optional text
    description = "..."                 # optional text
    pair = ["E_c", "beta"]              # optional: the degeneracy to draw (default: a known
                                        #   pair of the card, e.g. E_c-beta, x-K, C-gamma)
    target = 0.10                       # optional: relative sigma goal, flagged in the table
    check = ["paper"]                   # optional: alternatives to check by simulate-and-fit
                                        #   (true: the first; false: none; default: the first)
    seed = 1                            # optional: seed of the simulate-and-fit check

    [point]                             # optional: parameter values (physical units) at
    E_c = 3.4                           #   which to forecast; see "the forecast point" below
    beta = 0.20

    [[alternative]]                     # one or more
    name = "paper"
    description = "..."                 # optional
    [[alternative.sweep]]               # one or more measurements of card data sets
    dataset = "qi"                      # which card data set (optional if the card has one)
    x = { min = -150, max = -70, n = 33, unit = "dBm" }   # the swept variable; see below
    T = { values = [246], unit = "mK" } # q_power only: one sweep per temperature
    noise = { relative = 0.01 }         # or { absolute = 1e-8 } (SI unit of y)

* ``x`` is ``{min, max, n, unit, scale}`` (``scale = "linear"`` in the declared unit, the
  default, so a dBm grid is evenly spaced in dB; or ``"log"``), or ``{values = [...], unit}``,
  as in a card's ``[simulation]`` table.  The unit must be a unit of the model's ``x``
  (:data:`tlsbayes.io.UNITS`); without one, the unit the card declares for its x column.
  Values are converted to SI once, here.  Omitted: the card's own data points.
* ``T`` (models with a measurement-temperature constant, i.e. ``q_power``): a number in K, or
  a grid table like ``x``.  Each temperature is one more sweep of the same ``x``.
* ``noise``: the true scatter of the proposed data, relative to the prediction or absolute
  in the SI unit of the model's ``y`` (1/Qi for ``q_power``).  Omitted (only with ``x``
  omitted too): the card's quoted sigmas.  A likelihood ``noise_scale`` is evaluated at 1
  (the plan's noise is the real one); other likelihood parameters at the forecast point.

Every unknown table or key is a :class:`~tlsbayes.errors.CardError` naming the key and the
plan file.

The forecast point
------------------
In order of precedence: the posterior medians of a finished run (``tlsbayes design CARD --plan
PLAN --at RUN_DIR``), the plan's ``[point]`` table, the card's ``[simulation]`` parameters,
and for everything not given the prior median of the card.

The forecast
------------
For data ``y_i`` with mean ``mu_i(theta)`` and scale ``c_i(theta)`` (sigma, or
``noise_scale * sigma`` ...), the expected Fisher information in the card's sampling
coordinates ``theta`` (``ln x`` for log-uniform parameters) is

    Gaussian:  F = sum_i [ d mu_i d mu_i^T / c_i^2 + 2 d ln c_i d ln c_i^T ]
    Student-t: F = sum_i [ (nu+1)/(nu+3) d mu_i d mu_i^T / c_i^2
                           + 2 nu/(nu+3) d ln c_i d ln c_i^T ] (+ the nu terms if nu is free)

(the Gaussian one is the standard result for a mean and a variance that depend on the
parameters; Student-t: Lange, Little & Taylor, JASA 84, 881 (1989)).  The derivatives are
five-point central differences whose steps are a tenth of the forecast width of each
parameter (found by one refinement pass); the difference between steps h and 2h is reported
as the numerical error.  The prior enters as a Gaussian of the same variance (uniform of width
w: w^2/12 in the sampling coordinate), so a direction the data do not constrain keeps its prior
width instead of blowing up.  The forecast covariance is ``(F + P)^-1``.

The Fisher forecast is a local, Gaussian approximation; :func:`simulate_and_fit` checks it by
simulating the plan's data at the point and fitting them with :func:`tlsbayes.fit.run_fit`.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import special, stats

from . import io as tio
from ._atomic import atomic_output, atomic_write_text
from .config import _Ctx, _dym, _is_real, _show, _toml_document
from .errors import CardError, TLSBayesError
from .inference.posterior import Dataset, Posterior
from .inference.priors import Fixed, LogUniform, Normal, TruncatedNormal, Uniform
from .results import KNOWN_DEGENERACIES

__all__ = [
    "PLAN_TOP_KEYS",
    "PLAN_KEYS",
    "ALTERNATIVE_KEYS",
    "SWEEP_KEYS",
    "Sweep",
    "Alternative",
    "Plan",
    "Forecast",
    "load_plan",
    "parse_plan",
    "forecast_point",
    "plan_posterior",
    "prior_precision",
    "fisher_information",
    "forecast",
    "simulate_and_fit",
    "run_design",
]

PLAN_TOP_KEYS = ("plan", "point", "alternative")
PLAN_KEYS = ("name", "title", "description", "pair", "target", "check", "seed")
ALTERNATIVE_KEYS = ("name", "description", "sweep")
SWEEP_KEYS = ("dataset", "x", "T", "noise")
_GRID_KEYS = ("min", "max", "n", "unit", "scale", "values")
_NOISE_KEYS = ("relative", "absolute")
_SCALES = ("linear", "log")
_MAX_POINTS = 100_000
#: 2-D region holding 68.3 % of a Gaussian: chi^2 with 2 degrees of freedom.
_DCHI2_68 = float(stats.chi2.ppf(0.682689492137, 2))


# --------------------------------------------------------------------------------------------
# plan files
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sweep:
    """One proposed measurement of one card data set.

    Attributes
    ----------
    dataset : str
        Name of the card data set (its model, constants and likelihood are reused).
    x : ndarray or None
        Abscissae in the model's SI unit; ``None``: the card's own data points.
    temperatures : tuple of float or None
        Measurement temperatures [K] (one sweep each), or ``None`` to keep the card's.
    noise : tuple or None
        ``("relative", r)`` or ``("absolute", s)`` (SI unit of y), or ``None`` for the card's
        quoted sigmas.
    """

    dataset: str
    x: np.ndarray | None = None
    temperatures: tuple | None = None
    noise: tuple | None = None
    x_unit: str = ""


@dataclass(frozen=True)
class Alternative:
    """A named proposed measurement: one or more sweeps analysed together."""

    name: str
    sweeps: tuple
    description: str = ""


@dataclass(frozen=True, eq=False)
class Plan:
    """A parsed, validated plan file (see the module docstring)."""

    name: str
    path: Path
    text: str
    meta: dict
    point: dict
    alternatives: tuple
    pair: tuple | None = None
    target: float | None = None
    check: tuple = ()
    seed: int = 0


def load_plan(path, card) -> Plan:
    """Read and validate a plan file against the card it is for.

    Raises
    ------
    CardError
        Missing or malformed file, or any whitelist violation; the message starts with the
        plan path and names the table and the key.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CardError(f"{path}: plan file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CardError(f"{path}: cannot read plan ({exc})") from None
    return parse_plan(text, p, card)


def _grid(ctx: _Ctx, where: str, spec, dimension: str, what: str,
          default_unit: str | None = None) -> np.ndarray:
    """A grid table (or a bare number, for T) -> sorted SI values."""
    if _is_real(spec):
        values, unit = [float(spec)], None
    else:
        spec = ctx.table(where, spec, "a number or a table {min, max, n, unit, scale} or "
                                      "{values, unit}")
        ctx.keys(where, spec, _GRID_KEYS)
        unit = spec.get("unit")
        if "values" in spec:
            extra = [k for k in ("min", "max", "n", "scale") if k in spec]
            if extra:
                raise ctx.err(where, f"give either values or min/max/n, not both (found "
                                     f"{', '.join(extra)} with values)")
            values = spec["values"]
            if not isinstance(values, list) or not values or not all(map(_is_real, values)):
                raise ctx.err(where, f"values must be a non-empty array of numbers, got "
                                     f"{_show(values)}")
            values = [float(v) for v in values]
        else:
            missing = [k for k in ("min", "max", "n") if k not in spec]
            if missing:
                raise ctx.err(where, f"missing key {missing[0]!r} (a grid needs min, max and "
                                     "n, or values)")
            lo, hi, n = spec["min"], spec["max"], spec["n"]
            for key, v in (("min", lo), ("max", hi)):
                if not (_is_real(v) and math.isfinite(v)):
                    raise ctx.err(where, f"{key} must be a finite number, got {_show(v)}")
            if not (isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= _MAX_POINTS):
                raise ctx.err(where, f"n must be an integer from 1 to {_MAX_POINTS}, got "
                                     f"{_show(n)}")
            if n > 1 and not lo < hi:
                raise ctx.err(where, f"min ({lo!r}) must be below max ({hi!r})")
            scale = spec.get("scale", "linear")
            if scale not in _SCALES:
                raise ctx.err(where, f"scale must be one of {', '.join(_SCALES)}, got "
                                     f"{_show(scale)}" + _dym(scale, _SCALES))
            if scale == "log":
                if unit in ("dBm", "dBW"):
                    raise ctx.err(where, f"scale = \"log\" makes no sense for {unit} (already "
                                         "logarithmic); use \"linear\"")
                if not lo > 0:
                    raise ctx.err(where, f"scale = \"log\" needs min > 0, got {lo!r}")
                values = list(np.geomspace(lo, hi, n)) if n > 1 else [float(lo)]
            else:
                values = list(np.linspace(lo, hi, n)) if n > 1 else [float(lo)]
    if unit is None:
        unit = default_unit or {"temperature": "K"}.get(dimension)
        if unit is None:
            raise ctx.err(where, f"needs a unit for the {what} (one of: "
                                 + ", ".join(u for u, (d, _) in tio.UNITS.items()
                                             if d == dimension and u) + ")")
    if not isinstance(unit, str) or unit not in tio.UNITS:
        raise ctx.err(where, f"unknown unit {unit!r}" + _dym(unit, [u for u in tio.UNITS if u]))
    if tio.UNITS[unit][0] != dimension:
        allowed = [repr(u) for u, (d, _) in tio.UNITS.items() if d == dimension]
        raise ctx.err(where, f"unit {unit!r} is not a unit of the {what} (allowed: "
                             f"{', '.join(allowed)})")
    si = tio._to_si(np.asarray(values, dtype=np.float64), unit)
    if not np.all(np.isfinite(si)) or (dimension != "dimensionless" and not np.all(si > 0)):
        raise ctx.err(where, f"the {what} must be finite and > 0 in SI units")
    if np.unique(si).size != si.size:
        raise ctx.err(where, f"the {what} values repeat; give distinct values")
    return np.sort(si)


def parse_plan(text: str, path, card) -> Plan:
    """Validate a plan given as text; ``path`` names it in messages.

    Parameters
    ----------
    text : str
    path : str or Path
    card : tlsbayes.config.Card
        The card the plan is for: data set and parameter names are checked against it.
    """
    ctx = _Ctx(path)
    doc, meta, name = _toml_document(text, ctx, PLAN_TOP_KEYS, "plan", PLAN_KEYS)
    for key in ("title", "description"):
        if key in meta and not isinstance(meta[key], str):
            raise ctx.err("[plan]", f"{key} must be text, got {_show(meta[key])}")
    params = tuple(card.parameters)

    pair = meta.get("pair")
    if pair is not None:
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)
                and pair[0] != pair[1]):
            raise ctx.err("[plan]", f"pair must be two different parameter names, got "
                                    f"{_show(pair)}")
        for p in pair:
            if p not in params:
                raise ctx.err("[plan]", f"pair: unknown parameter {p!r}{_dym(p, params)} (the "
                                        f"card's parameters: {', '.join(params)})")
        pair = tuple(pair)
    target = meta.get("target")
    if target is not None and not (_is_real(target) and 0 < target < 10):
        raise ctx.err("[plan]", f"target must be a relative width between 0 and 10 (0.1 = 10 "
                                f"%), got {_show(target)}")
    seed = meta.get("seed", 0)
    if not (isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0):
        raise ctx.err("[plan]", f"seed must be an integer >= 0, got {_show(seed)}")

    point = {}
    if "point" in doc:
        raw = ctx.table("[point]", doc["point"])
        for pname, v in raw.items():
            if pname not in params:
                raise ctx.err("[point]", f"unknown parameter {pname!r}{_dym(pname, params)} "
                                         f"(the card's parameters: {', '.join(params)})")
            if not (_is_real(v) and math.isfinite(v)):
                raise ctx.err("[point]", f"{pname} must be a finite number (physical units), "
                                         f"got {_show(v)}")
            point[pname] = float(v)

    if "alternative" not in doc:
        raise CardError(f"{ctx.path}: no [[alternative]] table (a plan needs at least one)")
    raw_alts = doc["alternative"]
    if isinstance(raw_alts, Mapping):
        raise CardError(f"{ctx.path}: write the alternatives as [[alternative]] (an array of "
                        "tables), not [alternative]")
    if not isinstance(raw_alts, list) or not raw_alts:
        raise CardError(f"{ctx.path}: [[alternative]] must be one or more tables")
    specs = {s.name: s for s in card.datasets}
    alts, seen = [], set()
    for i, a in enumerate(raw_alts):
        label = f"[[alternative]] #{i + 1}"
        a = ctx.table(label, a)
        if isinstance(a.get("name"), str):
            label = f"[[alternative]] {a['name']!r}"
        ctx.keys(label, a, ALTERNATIVE_KEYS, required=("name", "sweep"))
        aname = a["name"]
        if not isinstance(aname, str) or not aname.strip():
            raise ctx.err(label, f"name must be non-empty text, got {_show(aname)}")
        if aname in seen:
            raise ctx.err(label, "name is used twice; give each alternative its own name")
        seen.add(aname)
        desc = a.get("description", "")
        if not isinstance(desc, str):
            raise ctx.err(label, f"description must be text, got {_show(desc)}")
        raw_sw = a["sweep"]
        if isinstance(raw_sw, Mapping):
            raw_sw = [raw_sw]
        if not isinstance(raw_sw, list) or not raw_sw:
            raise ctx.err(label, "sweep must be one or more tables [[alternative.sweep]]")
        sweeps = []
        for j, sw in enumerate(raw_sw):
            where = f"{label} sweep #{j + 1}"
            sw = ctx.table(where, sw)
            ctx.keys(where, sw, SWEEP_KEYS)
            sweeps.append(_parse_sweep(ctx, where, sw, specs, card))
        alts.append(Alternative(aname, tuple(sweeps), desc))

    names = [a.name for a in alts]
    check = meta.get("check", True)
    if check is True:
        check = names[:1]
    elif check is False:
        check = []
    elif isinstance(check, list) and all(isinstance(c, str) for c in check):
        for c in check:
            if c not in names:
                raise ctx.err("[plan]", f"check: no alternative named {c!r}{_dym(c, names)} "
                                        f"(alternatives: {', '.join(names)})")
    else:
        raise ctx.err("[plan]", f"check must be true, false or an array of alternative names, "
                                f"got {_show(check)}")
    return Plan(name=name, path=Path(path), text=text, meta=meta, point=point,
                alternatives=tuple(alts), pair=pair,
                target=float(target) if target is not None else None, check=tuple(check),
                seed=int(seed))


def _parse_sweep(ctx: _Ctx, where: str, sw: Mapping, specs: Mapping, card) -> Sweep:
    from .models import model_from_dict

    if "dataset" in sw:
        dname = sw["dataset"]
        if not isinstance(dname, str) or dname not in specs:
            raise ctx.err(where, f"dataset: the card {card.name!r} has no data set {dname!r}"
                                 f"{_dym(dname, specs)} (its data sets: {', '.join(specs)})")
    elif len(specs) == 1:
        dname = next(iter(specs))
    else:
        raise ctx.err(where, f"needs dataset = \"...\" (the card has several: "
                             f"{', '.join(specs)})")
    spec = specs[dname]
    model = model_from_dict(spec.model, spec.constants)
    x = None
    if "x" in sw:
        dim = tio.UNITS[tio.X_KINDS[model.x_kind]][0]
        try:  # default unit: the one the card declares for its x column
            unit = tio.resolve_spec(spec.data["x"], "x").unit
        except (TLSBayesError, KeyError, TypeError):
            unit = None
        x = _grid(ctx, f"{where} x", sw["x"], dim, f"x ({model.x_kind}) of model "
                                                    f"{spec.model!r}", default_unit=unit)
    temps = None
    if "T" in sw:
        if "T" not in getattr(model, "__dataclass_fields__", {}):
            raise ctx.err(where, f"T: model {spec.model!r} has no measurement-temperature "
                                 f"constant (its x is {model.x_kind}; give temperatures as x)")
        temps = tuple(float(t) for t in _grid(ctx, f"{where} T", sw["T"], "temperature",
                                              "measurement temperature"))
    noise = None
    if "noise" in sw:
        nz = ctx.table(f"{where} noise", sw["noise"], "a table {relative = r} or "
                                                      "{absolute = s}")
        ctx.keys(f"{where} noise", nz, _NOISE_KEYS)
        if len(nz) != 1:
            raise ctx.err(f"{where} noise", "give exactly one of relative, absolute")
        (kind, v), = nz.items()
        if not (_is_real(v) and math.isfinite(v) and v > 0):
            raise ctx.err(f"{where} noise", f"{kind} must be a finite number > 0, got "
                                            f"{_show(v)}")
        noise = (kind, float(v))
    elif x is not None:
        raise ctx.err(where, "needs noise = { relative = r } or { absolute = s } (the noise "
                             "of the card's data is only used when x is omitted too)")
    return Sweep(dname, x, temps, noise, model.x_unit)


# --------------------------------------------------------------------------------------------
# the forecast point and the plan's posterior
# --------------------------------------------------------------------------------------------


def forecast_point(posterior, *, point=None, card_point=None,
                   run_dir=None) -> tuple[np.ndarray, str]:
    """``theta`` (sampling coordinates) to forecast at, and where it came from.

    Parameters
    ----------
    posterior : Posterior
        The card's posterior (defines names and priors).
    point : mapping, optional
        Physical values (e.g. a plan's ``[point]``); used where no run is given.
    card_point : mapping, optional
        Physical values of lower precedence (a card's ``[simulation]`` parameters).
    run_dir : path-like, optional
        A finished run directory: the posterior medians in its ``posterior.nc``.

    Raises
    ------
    CardError
        A value outside its prior, a fixed parameter given another value, or a run whose
        parameters are not the card's.
    """
    from . import results as R

    priors = posterior.priors
    values = {n: float(np.asarray(priors[n].ppf(0.5))) for n in priors.free_names}
    source = {n: "prior median" for n in values}
    given = [(n, v, "card [simulation]") for n, v in (card_point or {}).items()]
    given += [(n, v, "plan [point]") for n, v in (point or {}).items()]
    for n, v, where in given:
        if n not in priors:
            raise CardError(f"{where}: unknown parameter {n!r}")
        if isinstance(priors[n], Fixed):
            if v != priors[n].value:
                raise CardError(f"{where}: {n} = {v!r}, but the card fixes {n} at "
                                f"{priors[n].value!r}")
            continue
        values[n], source[n] = float(v), where
    if run_dir is not None:
        path = Path(run_dir) / "posterior.nc"
        if not path.is_file():
            raise CardError(f"{run_dir}: not a finished run directory (no posterior.nc)")
        idata = R.load(path)
        missing = [n for n in priors.free_names if n not in idata.posterior]
        if missing:
            raise CardError(f"{path}: the run has no parameter {missing[0]!r} of the card "
                            "(was it fitted with another card?)")
        for n in priors.free_names:
            values[n] = float(np.median(idata.posterior[n].values))
            source[n] = "run median"
    for n, v in values.items():
        lo, hi = priors[n].support
        if not lo <= v <= hi:
            raise CardError(f"forecast point: {n} = {v:g} ({source[n]}) lies outside its prior "
                            f"[{lo:g}, {hi:g}]")
    theta = np.asarray(priors.from_params(values), dtype=np.float64)
    kinds = sorted(set(source.values()))
    return theta, ", ".join(kinds)


def plan_posterior(posterior, alternative: Alternative, theta) -> Posterior:
    """The posterior the alternative's data would have (noise-free data at ``theta``).

    Each sweep (and each of its temperatures) becomes a :class:`Dataset` with the card data
    set's model (temperature replaced), likelihood and parameter suffix; the priors are the
    card's.  ``y`` is the prediction at ``theta``; only ``x`` and ``sigma`` matter for the
    Fisher information, and :func:`simulate_and_fit` replaces ``y`` by simulated data.
    """
    by_name = {ds.name: ds for ds in posterior.datasets}
    params = {k: float(v[0]) for k, v in posterior.params(theta).items()}
    out = []
    for k, sw in enumerate(alternative.sweeps):
        base = by_name[sw.dataset]
        temps = sw.temperatures if sw.temperatures is not None else (None,)
        for T in temps:
            model = base.model if T is None else dataclasses.replace(base.model, T=T)
            x = base.x if sw.x is None else sw.x
            mu = np.asarray(model.predict({n: params[n] for n in model.param_names}, x))
            if not np.all(np.isfinite(mu)):
                raise TLSBayesError(f"alternative {alternative.name!r}: the model of data set "
                                    f"{sw.dataset!r} is not finite on the plan's grid")
            if sw.noise is None:
                sigma = base.sigma
            elif sw.noise[0] == "relative":
                sigma = sw.noise[1] * np.abs(mu)
            else:
                sigma = np.full(mu.shape, sw.noise[1])
            name = f"{sw.dataset}_{k + 1}" + ("" if T is None else f"_T{T * 1e3:.4g}mK")
            name = re.sub(r"[^A-Za-z0-9_]", "_", name)
            out.append(Dataset(name=name, model=model, x=x, y=mu, sigma=sigma,
                               likelihood=base.likelihood, suffix=base.suffix))
    return Posterior(out, posterior.priors)


def _true_noise_theta(posterior, theta) -> np.ndarray:
    """``theta`` with every noise_scale set to 1 (a plan states the real noise)."""
    theta = np.array(theta, dtype=np.float64)
    for i, n in enumerate(posterior.free_names):
        if n == "noise_scale" or n.startswith("noise_scale_"):
            prior = posterior.priors[n]
            lo, hi = prior.support
            if lo <= 1.0 <= hi:
                theta[i] = float(prior.to_sampling(1.0))
    return theta


# --------------------------------------------------------------------------------------------
# Fisher information
# --------------------------------------------------------------------------------------------


def prior_precision(priors) -> np.ndarray:
    """Diagonal Gaussian approximation of the prior: 1/variance per free parameter.

    In sampling coordinates: a uniform (or log-uniform, in ``ln x``) prior of width ``w`` has
    variance ``w²/12``; a normal prior ``σ²``; a truncated normal its truncated variance.
    """
    prec = []
    for n in priors.free_names:
        p = priors[n]
        if isinstance(p, (Uniform, LogUniform)):
            lo, hi = p.support
            if isinstance(p, LogUniform):
                lo, hi = math.log(lo), math.log(hi)
            var = (hi - lo) ** 2 / 12.0
        elif isinstance(p, Normal):
            var = p.sigma ** 2
        elif isinstance(p, TruncatedNormal):
            a, b = (p.low - p.mu) / p.sigma, (p.high - p.mu) / p.sigma
            var = float(stats.truncnorm.var(a, b, loc=p.mu, scale=p.sigma))
        else:
            raise TLSBayesError(f"prior for {n!r}: {type(p).__name__} has no Gaussian "
                                "approximation in the design module")
        prec.append(1.0 / var)
    return np.diag(prec)


def _scale_terms(ds, params: Mapping) -> tuple[np.ndarray, np.ndarray | None]:
    """Per-point noise scale c (m, n) of a data set, and ν (m,) for Student-t."""
    kind = ds.likelihood.kind
    names = ds.likelihood_param_names
    sig = ds.sigma[None, :]
    if kind == "gaussian":
        m = next(iter(params.values())).shape[0]
        return np.broadcast_to(sig, (m, ds.n)), None
    first = np.asarray(params[names[0]])[:, None]
    if kind == "gaussian_noise_scale":
        return first * sig, None
    if kind == "gaussian_jitter":
        return np.sqrt(sig * sig + first * first), None
    return first * sig, np.asarray(params[names[1]], dtype=np.float64)


def _student_nu_terms(nu: float) -> tuple[float, float]:
    """Per-point Fisher information of Student-t for (ln scale, ν) and (ν, ν).

    Lange, Little & Taylor, JASA 84, 881 (1989), Eq. (A.?) in the form
    I_{σν} = -2/(σ(ν+1)(ν+3)), I_{νν} = ¼[ψ'(ν/2) - ψ'((ν+1)/2)] - (ν+5)/(2ν(ν+1)(ν+3)).
    """
    i_lnc_nu = -2.0 / ((nu + 1.0) * (nu + 3.0))
    i_nu_nu = (0.25 * (special.polygamma(1, 0.5 * nu) - special.polygamma(1, 0.5 * (nu + 1.0)))
               - (nu + 5.0) / (2.0 * nu * (nu + 1.0) * (nu + 3.0)))
    return i_lnc_nu, float(i_nu_nu)


def _model_terms(posterior, thetas: np.ndarray):
    """Predictions, ln scales and ν of every data set at each row of ``thetas``."""
    mus = posterior.predict(thetas)
    params = posterior.params(thetas)
    out = []
    for ds in posterior.datasets:
        c, nu = _scale_terms(ds, params)
        out.append((mus[ds.name], np.log(c), nu))
    return out


def _derivatives(posterior, theta, steps):
    """Five-point central derivatives of (mu, ln c, ν) of every data set, with steps h."""
    k = theta.size
    offsets = np.array([2.0, 1.0, -1.0, -2.0])
    weights = np.array([-1.0, 8.0, -8.0, 1.0]) / 12.0
    rows = [theta]
    for i in range(k):
        for o in offsets:
            t = theta.copy()
            t[i] += o * steps[i]
            rows.append(t)
    terms = _model_terms(posterior, np.array(rows))
    derivs = []
    for mu, lnc, nu in terms:
        def d(a):
            a = a[1:].reshape((k, 4) + a.shape[1:])
            return np.einsum("j,ij...->i...", weights, a) / steps.reshape((k,) + (1,) * (a.ndim - 2))
        derivs.append((d(mu), d(lnc), d(nu) if nu is not None else None,
                       mu[0], np.exp(lnc[0]), nu[0] if nu is not None else None))
    return derivs


def _assemble(posterior, derivs) -> np.ndarray:
    k = posterior.ndim
    F = np.zeros((k, k))
    for ds, (dmu, dlnc, dnu, _, c, nu) in zip(posterior.datasets, derivs):
        w = 1.0 / (c * c)
        if ds.likelihood.kind == "student_t":
            a_mu, a_c = (nu + 1.0) / (nu + 3.0), 2.0 * nu / (nu + 3.0)
        else:
            a_mu, a_c = 1.0, 2.0
        F += a_mu * (dmu * w) @ dmu.T + a_c * dlnc @ dlnc.T
        if dnu is not None and np.any(dnu != 0):
            i_cn, i_nn = _student_nu_terms(float(nu))
            s = dlnc.sum(axis=1)
            F += i_cn * (np.outer(s, dnu) + np.outer(dnu, s)) + ds.n * i_nn * np.outer(dnu, dnu)
    return 0.5 * (F + F.T)


def _default_steps(priors, theta) -> np.ndarray:
    steps = []
    for n, t in zip(priors.free_names, theta):
        p = priors[n]
        lo, hi = p.support
        if p.transform == "log":
            scale = 1.0
        elif math.isfinite(lo) and math.isfinite(hi):
            scale = min(hi - lo, max(abs(t), 1e-3 * (hi - lo)))
        else:
            scale = max(abs(t), getattr(p, "sigma", 1.0))
        steps.append(scale)
    return np.array(steps)


def fisher_information(posterior, theta, *, steps=None, refine=True) -> dict:
    """Expected Fisher information of the data of ``posterior`` at ``theta``.

    Parameters
    ----------
    posterior : Posterior
        Its data sets define the measurement (their ``y`` is not used).
    theta : ndarray, shape (ndim,)
        Point in sampling coordinates.
    steps : ndarray, shape (ndim,), optional
        Finite-difference steps; default: a tenth of the forecast width of each parameter,
        found from a first pass with steps of 1e-3 of each parameter's natural scale.
    refine : bool
        Do the second pass (ignored when ``steps`` is given).

    Returns
    -------
    dict
        ``"F"`` (ndim, ndim) likelihood information; ``"steps"``; ``"error"``: the largest
        change of an element of F between steps h and 2h, relative to sqrt(F_ii F_jj).
    """
    theta = np.asarray(theta, dtype=np.float64)
    P = prior_precision(posterior.priors)
    if steps is None:
        scale = _default_steps(posterior.priors, theta)
        steps = 1e-3 * scale
        if refine:
            F0 = _assemble(posterior, _derivatives(posterior, theta, steps))
            sd = np.sqrt(np.diag(np.linalg.inv(F0 + P)))
            steps = np.clip(0.1 * sd, 1e-9 * scale, 0.05 * scale)
    steps = np.asarray(steps, dtype=np.float64)
    F = _assemble(posterior, _derivatives(posterior, theta, steps))
    F2 = _assemble(posterior, _derivatives(posterior, theta, 2.0 * steps))
    norm = np.sqrt(np.outer(np.diag(F) + np.diag(P), np.diag(F) + np.diag(P)))
    err = float(np.max(np.abs(F - F2) / norm)) if F.size else 0.0
    return {"F": F, "steps": steps, "error": err}


@dataclass(frozen=True, eq=False)
class Forecast:
    """The Fisher forecast of one alternative.

    Attributes
    ----------
    names : tuple of str
        Free parameters (theta order).
    theta : ndarray
        Forecast point, sampling coordinates.
    values : dict
        Physical value of each free parameter at the point.
    log : tuple of bool
        Whether each parameter is sampled as its log.
    cov : ndarray
        Forecast posterior covariance in sampling coordinates, ``(F + P)^-1``.
    sd : ndarray
        Its square-root diagonal (σ of ``ln x`` for log parameters).
    rel : ndarray
        Relative width: ``sd`` for log parameters, ``sd / |value|`` otherwise.
    corr : ndarray
        Correlation matrix.
    prior_sd : ndarray
        σ of the Gaussian prior approximation (a forecast close to it is prior-limited).
    fisher : ndarray
        Likelihood information F.
    error : float
        Numerical error estimate of F (see :func:`fisher_information`).
    n_points : int
    """

    names: tuple
    theta: np.ndarray
    values: dict
    log: tuple
    cov: np.ndarray
    sd: np.ndarray
    rel: np.ndarray
    corr: np.ndarray
    prior_sd: np.ndarray
    fisher: np.ndarray
    error: float
    n_points: int

    def rho(self, a: str, b: str) -> float:
        i, j = self.names.index(a), self.names.index(b)
        return float(self.corr[i, j])


def forecast(posterior, theta, *, prior=True) -> Forecast:
    """Fisher forecast of the posterior of ``posterior``'s data at ``theta``.

    ``prior=False`` leaves the prior out (the pure Cramér-Rao bound; it may be singular).
    """
    theta = np.asarray(theta, dtype=np.float64)
    fi = fisher_information(posterior, theta)
    P = prior_precision(posterior.priors)
    A = fi["F"] + (P if prior else 0.0)
    try:
        cov = np.linalg.inv(A)
    except np.linalg.LinAlgError:
        raise TLSBayesError("the Fisher matrix is singular: some parameter is not constrained "
                            "by the data (include the prior)") from None
    cov = 0.5 * (cov + cov.T)
    sd = np.sqrt(np.diag(cov))
    names = posterior.free_names
    logs = tuple(posterior.priors[n].transform == "log" for n in names)
    vals = {n: float(v[0]) for n, v in posterior.params(theta).items() if n in names}
    rel = np.array([s if lg else s / abs(vals[n]) if vals[n] != 0 else math.inf
                    for n, s, lg in zip(names, sd, logs)])
    return Forecast(names=names, theta=theta, values=vals, log=logs, cov=cov, sd=sd, rel=rel,
                    corr=cov / np.outer(sd, sd), prior_sd=1.0 / np.sqrt(np.diag(P)),
                    fisher=fi["F"], error=fi["error"],
                    n_points=sum(ds.n for ds in posterior.datasets))


# --------------------------------------------------------------------------------------------
# simulate-and-fit check
# --------------------------------------------------------------------------------------------


def simulate_and_fit(posterior, theta, *, seed=0, n_sims=1, settings=None) -> dict:
    """Simulate the plan's data at ``theta`` and fit them; the posterior widths measured.

    Parameters
    ----------
    posterior : Posterior
        A plan posterior (:func:`plan_posterior`): its data sets' x, sigma and likelihood.
    theta : ndarray, shape (ndim,)
        Truth, sampling coordinates.
    seed : int
    n_sims : int
        Independent simulated data sets; widths are averaged over them.
    settings : tlsbayes.sampling.SamplerSettings, optional
        Default: converged runs with ESS >= 400 (enough for a width to ~4 %).

    Returns
    -------
    dict
        ``"sd"`` (ndim,) posterior standard deviations in sampling coordinates (mean over the
        simulations), ``"sd_each"`` (n_sims, ndim), ``"corr"`` (ndim, ndim) mean correlation,
        ``"cov"`` mean covariance, ``"converged"`` list of bool, ``"verdicts"``.
    """
    from .fit import run_fit
    from .sampling import SamplerSettings

    rng = np.random.default_rng(seed)
    names = posterior.free_names
    sds, corrs, covs, conv, verdicts = [], [], [], [], []
    for r in range(n_sims):
        sims = posterior.simulate(np.asarray(theta)[None, :], rng)
        dsets = [dataclasses.replace(ds, y=sims[ds.name][0]) for ds in posterior.datasets]
        sim_post = Posterior(dsets, posterior.priors)
        s = settings or SamplerSettings(seed=seed + 1000 * r + 1, progress=False,
                                        target_ess=400.0, max_steps=40_000)
        with tempfile.TemporaryDirectory(prefix="tlsbayes-design-") as tmp:
            res = run_fit(sim_post, s, tmp, plots=False, print_fn=lambda *a, **k: None)
        post = res.idata.posterior
        th = posterior.priors.from_params(
            {n: np.asarray(post[n].values, dtype=np.float64).reshape(-1) for n in names})
        cov = np.cov(th, rowvar=False).reshape(len(names), len(names))
        sd = np.sqrt(np.diag(cov))
        sds.append(sd)
        covs.append(cov)
        corrs.append(cov / np.outer(sd, sd))
        conv.append(bool(res.converged))
        verdicts.append(res.verdict)
    return {"sd": np.mean(sds, axis=0), "sd_each": np.array(sds),
            "corr": np.mean(corrs, axis=0), "cov": np.mean(covs, axis=0),
            "converged": conv, "verdicts": verdicts}


# --------------------------------------------------------------------------------------------
# the design command
# --------------------------------------------------------------------------------------------


#: Degeneracies to draw by default, in the order the papers write them.
_PAIRS = (("E_c", "beta"), ("n_c", "beta"), ("P_c", "beta"), ("x", "K"), ("C", "gamma"),
          ("delta0", "delta_other"))


def _default_pair(names, first: Forecast | None):
    known = list(_PAIRS) + [tuple(sorted(p)) for p in KNOWN_DEGENERACIES]
    for a, b in known:
        if a in names and b in names:
            return (a, b)
    if first is not None and len(names) >= 2:
        c = np.abs(first.corr - np.eye(len(names)))
        i, j = np.unravel_index(np.argmax(c), c.shape)
        return (names[min(i, j)], names[max(i, j)])
    return None


@dataclass
class DesignResult:
    """What :func:`run_design` computed and wrote."""

    plan: Plan
    theta: np.ndarray
    point_source: str
    forecasts: dict
    checks: dict = field(default_factory=dict)
    pair: tuple | None = None
    outdir: Path | None = None
    files: tuple = ()


def _fmt_pct(x: float) -> str:
    return "inf" if not math.isfinite(x) else (f"{100 * x:.3g} %")


def run_design(card, plan: Plan, *, posterior=None, run_dir=None, outdir=None, check=True,
               print_fn=print) -> DesignResult:
    """Forecast every alternative of ``plan``, check some by simulate-and-fit, write a report.

    Parameters
    ----------
    card : tlsbayes.config.Card
    plan : Plan
    posterior : Posterior, optional
        The card's posterior (built from the card if not given).
    run_dir : path-like, optional
        A finished run of the card: forecast at its posterior medians.
    outdir : path-like, optional
        Where to write ``design.md``, ``design.json`` and ``design_ellipses.png`` (atomically);
        nothing is written if ``None``.
    check : bool
        Run the plan's simulate-and-fit checks.
    """
    from . import config

    if posterior is None:
        posterior, _ = config.build_posterior(card)
    sim = (getattr(card, "simulation", None) or {}).get("parameters", {})
    theta0, source = forecast_point(posterior, point=plan.point, card_point=sim,
                                    run_dir=run_dir)
    theta0 = _true_noise_theta(posterior, theta0)
    forecasts, plan_posts = {}, {}
    for alt in plan.alternatives:
        pp = plan_posterior(posterior, alt, theta0)
        plan_posts[alt.name] = pp
        forecasts[alt.name] = forecast(pp, theta0)
    names = posterior.free_names
    pair = plan.pair or _default_pair(names, next(iter(forecasts.values()), None))
    if pair is not None and not all(p in names for p in pair):
        fixed = [p for p in pair if p not in names]
        raise CardError(f"{plan.path}: [plan] pair: {fixed[0]!r} is fixed in the card, not a "
                        "free parameter")
    checks = {}
    if check:
        for k, aname in enumerate(plan.check):
            print_fn(f"simulate-and-fit check of {aname!r} ...")
            checks[aname] = simulate_and_fit(plan_posts[aname], theta0, seed=plan.seed + k)
    res = DesignResult(plan=plan, theta=theta0, point_source=source, forecasts=forecasts,
                       checks=checks, pair=pair)
    text = design_markdown(card, res)
    print_fn(text)
    if outdir is not None:
        out = Path(outdir)
        out.mkdir(parents=True, exist_ok=True)
        files = [atomic_write_text(out / "design.md", text),
                 atomic_write_text(out / "design.json", json.dumps(design_json(card, res),
                                                                   indent=1))]
        if pair is not None:
            with atomic_output(out / "design_ellipses.png") as tmp:
                plot_ellipses(res, tmp, param_info=posterior.parameter_info())
            files.append(out / "design_ellipses.png")
        res.outdir, res.files = out, tuple(files)
    return res


def design_markdown(card, res: DesignResult) -> str:
    """The design report: forecast table per alternative, correlations, checks."""
    plan = res.plan
    first = next(iter(res.forecasts.values()))
    names = first.names
    lines = [f"# Experiment design: {plan.meta.get('title', plan.name)}", "",
             f"- card `{card.name}` ({card.path}), plan `{plan.name}` ({plan.path})",
             f"- forecast point ({res.point_source}): "
             + ", ".join(f"{n} = {first.values[n]:.4g}" for n in names),
             "- Fisher information in the sampling coordinates (ln x for log-uniform "
             "parameters) with the prior as a Gaussian; sigma of ln x is the relative width",
             ""]
    if plan.meta.get("description"):
        lines += [plan.meta["description"], ""]
    goal = plan.target
    head = ["alternative", "points"] + [f"σ({n})" for n in names]
    if res.pair:
        head.append(f"ρ({res.pair[0]}, {res.pair[1]})")
    if goal is not None:
        head.append(f"all ≤ {100 * goal:g} %")
    lines += ["## Forecast relative widths (1 σ)", "",
              "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for aname, fc in res.forecasts.items():
        cells = [aname, str(fc.n_points)]
        for i in range(len(names)):
            mark = " (prior-limited)" if fc.sd[i] > 0.5 * fc.prior_sd[i] else ""
            cells.append(_fmt_pct(fc.rel[i]) + mark)
        if res.pair:
            cells.append(f"{fc.rho(*res.pair):+.2f}")
        if goal is not None:
            cells.append("yes" if np.all(fc.rel <= goal) else "no")
        lines.append("| " + " | ".join(cells) + " |")
    errs = max(fc.error for fc in res.forecasts.values())
    lines += ["", f"Largest numerical error of a Fisher element (steps h vs 2h): {errs:.1e} "
                  "(relative).", ""]
    for aname, fc in res.forecasts.items():
        alt = next(a for a in plan.alternatives if a.name == aname)
        lines.append(f"- **{aname}**: " + (alt.description + "; " if alt.description else "")
                     + "; ".join(_describe_sweep(sw) for sw in alt.sweeps))
    if res.checks:
        lines += ["", "## Simulate-and-fit check", "",
                  "Data simulated at the forecast point with the plan's grid and noise, fitted "
                  "with `tlsbayes.fit.run_fit`; posterior σ in sampling coordinates.", "",
                  "| alternative | parameter | Fisher σ | fit σ | fit / Fisher |",
                  "|---|---|---|---|---|"]
        for aname, chk in res.checks.items():
            fc = res.forecasts[aname]
            for i, n in enumerate(names):
                lines.append(f"| {aname} | {n} | {fc.sd[i]:.4g} | {chk['sd'][i]:.4g} | "
                             f"{chk['sd'][i] / fc.sd[i]:.2f} |")
            if res.pair:
                i, j = names.index(res.pair[0]), names.index(res.pair[1])
                lines.append(f"| {aname} | ρ({res.pair[0]}, {res.pair[1]}) | {fc.corr[i, j]:+.2f}"
                             f" | {chk['corr'][i, j]:+.2f} | |")
            if not all(chk["converged"]):
                lines.append(f"| {aname} | NOT CONVERGED: {chk['verdicts'][0]} | | | |")
    if res.pair:
        lines += ["", "## Degeneracy", "",
                  f"68 % ellipses of ({res.pair[0]}, {res.pair[1]}) per alternative: "
                  "![design_ellipses.png](design_ellipses.png)"]
    return "\n".join(lines) + "\n"


def _describe_sweep(sw: Sweep) -> str:
    parts = [f"data set `{sw.dataset}`"]
    if sw.x is not None:
        parts.append(f"{sw.x.size} points, x from {sw.x.min():.4g} to {sw.x.max():.4g} "
                     f"{sw.x_unit or '(dimensionless)'}")
    else:
        parts.append("the card's x")
    if sw.temperatures is not None:
        parts.append("T = " + ", ".join(f"{t * 1e3:.4g} mK" for t in sw.temperatures))
    parts.append(f"noise {sw.noise[0]} {sw.noise[1]:g}" if sw.noise else "the card's sigma")
    return ", ".join(parts)


def design_json(card, res: DesignResult) -> dict:
    """Machine-readable design results."""
    out = {"card": card.name, "plan": res.plan.name, "point_source": res.point_source,
           "pair": list(res.pair) if res.pair else None, "target": res.plan.target,
           "alternatives": {}}
    for aname, fc in res.forecasts.items():
        d = {"names": list(fc.names), "values": fc.values, "log": list(fc.log),
             "sd_sampling": fc.sd.tolist(), "relative_sd": fc.rel.tolist(),
             "prior_sd": fc.prior_sd.tolist(), "corr": fc.corr.tolist(),
             "fisher_error": fc.error, "n_points": fc.n_points}
        if aname in res.checks:
            chk = res.checks[aname]
            d["check"] = {"sd_sampling": chk["sd"].tolist(), "corr": chk["corr"].tolist(),
                          "converged": chk["converged"],
                          "ratio_fit_over_fisher": (chk["sd"] / fc.sd).tolist()}
        out["alternatives"][aname] = d
    return out


def ellipse_points(mean, cov, dchi2=_DCHI2_68, n=200) -> np.ndarray:
    """Points ``(n, 2)`` on the ellipse ``(x-m)^T cov^-1 (x-m) = dchi2``."""
    L = np.linalg.cholesky(np.asarray(cov, dtype=np.float64))
    t = np.linspace(0.0, 2.0 * math.pi, n)
    circle = np.stack([np.cos(t), np.sin(t)])
    return (np.asarray(mean)[:, None] + math.sqrt(dchi2) * (L @ circle)).T


def plot_ellipses(res: DesignResult, path, *, param_info=None):
    """68 % ellipse of the pair for each alternative (and each check, dashed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    a, b = res.pair
    fig, ax = plt.subplots(figsize=(6.4, 5.0))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    logs = {}
    for k, (aname, fc) in enumerate(res.forecasts.items()):
        i, j = fc.names.index(a), fc.names.index(b)
        logs = {a: fc.log[i], b: fc.log[j]}
        idx = [i, j]
        pts = ellipse_points(fc.theta[idx], fc.cov[np.ix_(idx, idx)])
        pts = np.where([logs[a], logs[b]], np.exp(pts), pts)
        col = colors[k % len(colors)]
        ax.plot(pts[:, 0], pts[:, 1], color=col,
                label=f"{aname}: σ {_fmt_pct(fc.rel[i])}, {_fmt_pct(fc.rel[j])}, "
                      f"ρ {fc.corr[i, j]:+.2f}")
        if aname in res.checks:
            chk = res.checks[aname]
            pts = ellipse_points(fc.theta[idx], chk["cov"][np.ix_(idx, idx)])
            pts = np.where([logs[a], logs[b]], np.exp(pts), pts)
            ax.plot(pts[:, 0], pts[:, 1], color=col, ls="--",
                    label=f"{aname}: simulate-and-fit width (centred on the point)")
    fc = next(iter(res.forecasts.values()))
    pa, pb = fc.values[a], fc.values[b]
    ax.plot([pa], [pb], "k+", ms=10, label="forecast point")
    from matplotlib.ticker import FormatStrFormatter

    for axis, name in ((ax.xaxis, a), (ax.yaxis, b)):
        if logs.get(name):
            (ax.set_xscale if axis is ax.xaxis else ax.set_yscale)("log")
            # plain numbers: a forecast region rarely spans a decade
            axis.set_major_formatter(FormatStrFormatter("%g"))
            axis.set_minor_formatter(FormatStrFormatter("%g"))
    info = param_info or {}

    def lab(n):
        p = info.get(n)
        text = p.latex if p is not None and p.latex else n
        return f"{text} [{p.unit}]" if p is not None and p.unit else text

    ax.set_xlabel(lab(a))
    ax.set_ylabel(lab(b))
    ax.set_title(f"68 % forecast regions: {res.plan.meta.get('title', res.plan.name)}",
                 fontsize=9)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
