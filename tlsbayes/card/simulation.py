"""Simulate a data table in a model card's own layout (``tlsbayes simulate``).

:func:`parse_simulation` validates the card's ``[simulation]`` table; the rest draws from it.

The card says what to simulate in its optional ``[simulation]`` table (see
:mod:`tlsbayes.card`):

* the parameter values (physical, SI); a parameter not listed takes its prior median;
* per data set, the x grid ``{min, max, n, scale}`` in the *declared* unit of the data's x
  column (dBm stays dBm); without one, the x values of the card's own data (after its
  filter and window), else 30 points spanning the card's x window;
* per data set, the noise: ``relative`` (σ = r |μ|) or ``absolute`` (σ in the SI unit of the
  model's y: 1/Qi, Hz, 1/s, ...); without one, the median relative σ of the card's data.

The noise of the card's k-th data set is drawn from the random stream ``(seed, k)`` (so the
data sets of one card get independent noise, and the same seed gives the same table), with
the data set's own likelihood (its noise scale, jitter or Student-t
parameters included), and the table is written with the card's column names and units: x, y
(``Qi`` columns hold Qi and σ_Qi = σ_{1/Qi} Qi²), σ if the card reads one, the group column
set to the card's group value, and constant columns that satisfy the card's row filter.  The
written file is read back through the card's own column specs before it is moved into place,
so a simulated table always loads with the card.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import __version__
from .. import io as tio
from ..atomic import atomic_output
from ..errors import CardError, DataError, TLSBayesError
from ..inference.likelihood import Likelihood
from ..inference.prior_set import PriorSet
from .build import build_posterior
from .parameters import physical_ranges
from .schema import (SIM_NOISE_KEYS, SIM_X_KEYS, SIMULATION_DATASET_KEYS, SIMULATION_KEYS,
                     Context, did_you_mean, is_real, show)

__all__ = ["SimulatedTable", "parse_simulation", "simulation_parameters", "simulate_card",
           "write_simulated_csv"]

#: Most points ``[simulation.datasets.NAME] x.n`` may ask for (checked before any allocation).
MAX_SIM_POINTS = 1_000_000
_DEFAULT_N = 30


def parse_simulation(ctx: Context, raw, specs, infos) -> dict:
    """Validate ``[simulation]``: what ``tlsbayes simulate`` draws data from.

    ``seed`` (integer >= 0); ``parameters`` (name -> physical SI value, names of the card's
    parameters); ``datasets.<data set name>`` with ``x = {min, max, n, scale}`` (in the
    declared unit of the data's x column; scale "linear" or "log") and ``noise`` (exactly one
    of ``relative`` or ``absolute``, the standard deviation of the model's y in SI).
    """
    sim = dict(ctx.table("[simulation]", raw))
    ctx.keys("[simulation]", sim, SIMULATION_KEYS)
    if "seed" in sim and not (isinstance(sim["seed"], int) and not isinstance(sim["seed"], bool)
                              and sim["seed"] >= 0):
        raise ctx.err("[simulation]", f"seed must be an integer >= 0, got {show(sim['seed'])}")
    params = dict(ctx.table("[simulation.parameters]", sim.get("parameters", {})))
    ranges = physical_ranges(infos)
    for pname, v in params.items():
        if pname not in infos:
            raise ctx.err("[simulation.parameters]", f"unknown parameter {pname!r}"
                          f"{did_you_mean(pname, infos)} (the models use: {', '.join(infos)})")
        if not (is_real(v) and math.isfinite(v)):
            raise ctx.err("[simulation.parameters]", f"{pname} must be a finite number (SI "
                          f"units), got {show(v)}")
        lo, hi = ranges[pname]
        if not lo <= v <= hi:
            raise ctx.err("[simulation.parameters]", f"{pname} = {v!r} is outside its "
                          f"physical range [{lo:g}, {hi:g}]")
    names = [s.name for s in specs]
    per = {}
    for dname, d in ctx.table("[simulation.datasets]", sim.get("datasets", {})).items():
        where = f"[simulation.datasets.{dname}]"
        if dname not in names:
            raise ctx.err("[simulation.datasets]", f"unknown data set {dname!r}"
                          f"{did_you_mean(dname, names)} (the card's data sets: "
                          f"{', '.join(names)})")
        d = dict(ctx.table(where, d))
        ctx.keys(where, d, SIMULATION_DATASET_KEYS)
        if "x" in d:
            x = dict(ctx.table(where + " x", d["x"], "a table {min, max, n, scale}"))
            ctx.keys(where + " x", x, SIM_X_KEYS, required=("min", "max", "n"))
            for key in ("min", "max"):
                if not (is_real(x[key]) and math.isfinite(x[key])):
                    raise ctx.err(where, f"x.{key} must be a finite number, got {show(x[key])}")
            if not x["min"] < x["max"]:
                raise ctx.err(where, f"x.min = {x['min']!r} must be below x.max = {x['max']!r}")
            if not (isinstance(x["n"], int) and not isinstance(x["n"], bool) and x["n"] >= 2):
                raise ctx.err(where, f"x.n must be an integer >= 2, got {show(x['n'])}")
            if x["n"] > MAX_SIM_POINTS:
                raise ctx.err(where, f"x.n = {x['n']} is above the limit of {MAX_SIM_POINTS} "
                              "simulated points per data set")
            x.setdefault("scale", "linear")
            if x["scale"] not in ("linear", "log"):
                raise ctx.err(where, f"x.scale must be \"linear\" or \"log\", got "
                              f"{show(x['scale'])}")
            if x["scale"] == "log" and not x["min"] > 0:
                raise ctx.err(where, f"x.min must be > 0 for scale = \"log\", got {x['min']!r}")
            d["x"] = x
        if "noise" in d:
            noise = dict(ctx.table(where + " noise", d["noise"], "a table {relative} or "
                                   "{absolute}"))
            ctx.keys(where + " noise", noise, SIM_NOISE_KEYS)
            if len(noise) != 1:
                raise ctx.err(where, "noise needs exactly one of relative or absolute")
            (key, v), = noise.items()
            if not (is_real(v) and math.isfinite(v) and v > 0):
                raise ctx.err(where, f"noise.{key} must be a finite number > 0, got {show(v)}")
            d["noise"] = noise
        per[dname] = d
    out = {"parameters": params, "datasets": per}
    if "seed" in sim:
        out["seed"] = sim["seed"]
    return out


@dataclass(frozen=True)
class SimulatedTable:
    """A simulated table in a card's layout.

    Attributes
    ----------
    dataset : str
        Name of the card's data set it was simulated for.
    columns : tuple of str
    rows : list of tuple
        Cell values (floats or text), one tuple per row, in ``columns`` order.
    header : tuple of str
        Comment lines (without ``#``) stating that the data are simulated, and how.
    params : dict
        The parameter values used (physical SI).
    x_si, mu, y_si, sigma_si : ndarray
        Grid, noiseless prediction, simulated observable and σ, in the model's SI units.
    """

    dataset: str
    columns: tuple
    rows: list
    header: tuple
    params: dict
    x_si: np.ndarray
    mu: np.ndarray
    y_si: np.ndarray
    sigma_si: np.ndarray

    def to_csv_text(self) -> str:
        lines = [f"# {h}" for h in self.header]
        lines.append(",".join(self.columns))
        for r in self.rows:
            lines.append(",".join(v if isinstance(v, str) else f"{v:.12g}" for v in r))
        return "\n".join(lines) + "\n"


def _spec(card, dataset):
    names = [s.name for s in card.datasets]
    if dataset is None:
        if len(names) > 1:
            raise CardError(f"{card.path}: the card has {len(names)} data sets "
                            f"({', '.join(names)}); choose one with --dataset")
        return card.datasets[0]
    for s in card.datasets:
        if s.name == dataset:
            return s
    raise CardError(f"{card.path}: no data set {dataset!r} (the card's data sets: "
                    f"{', '.join(names)})")


def _load(card, spec):
    """The data set's XYData, or None if its file is not there."""
    if not spec.path.is_file():
        return None
    try:
        return tio.load_xy(spec.path, x=spec.data["x"], y=spec.data["y"],
                           sigma=spec.data.get("sigma"), filter=spec.data.get("filter"),
                           window=spec.data.get("window"), group=spec.data.get("group"))
    except DataError as exc:
        raise DataError(f"{card.path}: data set {spec.name!r}: {exc}") from None


def _priors(card):
    """The card's priors: from its posterior when the data are readable, else data-free defaults."""
    if all(s.path.is_file() for s in card.datasets):
        posterior, _ = build_posterior(card)
        return posterior.priors
    pri = {}
    for s in card.datasets:
        model = s.build_model()
        lik = Likelihood(s.likelihood)
        for name, pd in model.default_priors().items():
            pri.setdefault(name, pd)
        sfx = f"_{s.suffix}" if s.suffix else ""
        for name, pd in lik.default_priors().items():
            pri.setdefault(name + sfx, pd)
    pri.update(card.priors)
    return PriorSet.from_dict(pri)


def simulation_parameters(card) -> dict:
    """Every parameter of the card: its ``[simulation]`` value, else its prior median (SI)."""
    given = card.simulation.get("parameters", {})
    missing = [n for n in card.parameters if n not in given]
    out = {}
    if missing:
        priors = _priors(card)
        for n in missing:
            out[n] = float(priors[n].ppf(0.5))
    out.update({n: float(v) for n, v in given.items()})
    return {n: out[n] for n in card.parameters}


def _grid(card, spec, data):
    sim = card.simulation.get("datasets", {}).get(spec.name, {})
    xs = tio.resolve_spec(spec.data["x"], "x")
    window = spec.data.get("window", {})
    if "x" in sim:
        g = sim["x"]
        lo, hi, n, scale = g["min"], g["max"], g["n"], g.get("scale", "linear")
        if ("min" in window and lo < window["min"]) or ("max" in window and hi > window["max"]):
            raise CardError(f"{card.path}: [simulation.datasets.{spec.name}] x = [{lo:g}, "
                            f"{hi:g}] leaves the card's window {window}")
    elif data is not None:
        return tio.from_si(data.x, xs.unit), xs
    elif "min" in window and "max" in window:
        lo, hi, n, scale = window["min"], window["max"], _DEFAULT_N, "linear"
    else:
        raise CardError(f"{card.path}: data set {spec.name!r}: no x grid to simulate on; add "
                        f"[simulation.datasets.{spec.name}] x = {{ min = ..., max = ..., "
                        "n = ... }}, or a window, or make the data file readable")
    grid = np.geomspace(lo, hi, n) if scale == "log" else np.linspace(lo, hi, n)
    return grid, xs


def _sigma(card, spec, data, mu):
    sim = card.simulation.get("datasets", {}).get(spec.name, {})
    noise = sim.get("noise")
    if noise is not None:
        if "relative" in noise:
            return noise["relative"] * np.abs(mu), f"relative {noise['relative']:g}"
        return np.full(mu.shape, float(noise["absolute"])), f"absolute {noise['absolute']:g}"
    if "sigma" not in spec.data:
        return np.ones(mu.shape), "sigma = 1 (no sigma column); the likelihood's own noise"
    if data is None:
        raise CardError(f"{card.path}: data set {spec.name!r}: no noise level to simulate "
                        f"with; add [simulation.datasets.{spec.name}] noise = "
                        "{ relative = ... } or { absolute = ... }, or make the data readable")
    rel = float(np.median(data.sigma / np.abs(data.y)))
    return rel * np.abs(mu), f"relative {rel:.3g} (median of the card's data)"


def _filter_cells(spec, n):
    """Constant columns that make every row pass the card's filter (column vs constant)."""
    if "filter" not in spec.data:
        return {}
    roles = {spec.data[r]["column"] for r in ("x", "y", "sigma") if r in spec.data}
    out = {}
    for left, op, right in tio.parse_filter(spec.data["filter"]).comparisons:
        col, const, flip = ((left, right, False) if left.kind == "column" else
                            (right, left, True))
        if col.kind != "column" or const.kind == "column" or col.value in roles:
            continue
        if flip:
            op = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}.get(op, op)
        v = const.value
        if const.kind == "string":
            val = v if op == "==" else v + "_other"
        else:
            val = {"==": v, "<=": v, ">=": v, "<": v - 1.0, ">": v + 1.0, "!=": v + 1.0}[op]
        out[col.value] = val
    return out


def simulate_card(card, *, dataset=None, seed=None) -> SimulatedTable:
    """Simulate one data set of ``card`` in its data layout.

    Parameters
    ----------
    card : tlsbayes.card.Card
    dataset : str, optional
        Data set name; required when the card has several.
    seed : int, optional
        Overrides ``[simulation] seed`` (default 0).  Same seed, same table.

    Raises
    ------
    CardError, DataError
        Unknown data set, nothing to take the grid or the noise from, or simulated values that
        the card's columns cannot hold (e.g. 1/Qi <= 0 from too much noise).
    """
    spec = _spec(card, dataset)
    seed = card.simulation.get("seed", 0) if seed is None else seed
    if not (isinstance(seed, (int, np.integer)) and seed >= 0):
        raise CardError(f"{card.path}: seed must be an integer >= 0, got {seed!r}")
    data = _load(card, spec)
    params = simulation_parameters(card)
    model = spec.build_model()
    lik = Likelihood(spec.likelihood)
    grid, xs = _grid(card, spec, data)
    x_si = tio.to_si(grid, xs.unit)
    mu = np.asarray(model.predict(params, x_si), dtype=float)
    if not np.all(np.isfinite(mu)):
        raise CardError(f"{card.path}: data set {spec.name!r}: the model is not finite on the "
                        "simulation grid at the simulation parameters")
    sigma, noise_note = _sigma(card, spec, data, mu)
    sfx = f"_{spec.suffix}" if spec.suffix else ""
    extra = (np.array([[params[p.name + sfx] for p in lik.parameters]])
             if lik.parameters else None)
    index = [s.name for s in card.datasets].index(spec.name)
    rng = np.random.default_rng((int(seed), index))
    y = lik.sample(mu[None, :], sigma, extra, rng)[0]

    ys = tio.resolve_spec(spec.data["y"], "y")
    cols = {xs.column: grid}
    if ys.kind == "Qi":
        if np.any(y <= 0):
            raise DataError(f"{card.path}: data set {spec.name!r}: simulated 1/Qi <= 0 (noise "
                            "too large for a Qi column); lower the noise")
        cols[ys.column] = 1.0 / y
        if "sigma" in spec.data:
            cols[spec.data["sigma"]["column"]] = sigma / y ** 2
    else:
        cols[ys.column] = tio.from_si(y, ys.unit)
        if "sigma" in spec.data:
            ss = tio.resolve_spec(spec.data["sigma"], "sigma", parent=ys)
            cols[ss.column] = tio.from_si(sigma, ss.unit)
    const = _filter_cells(spec, grid.size)
    if "group" in spec.data:
        const[spec.data["group"]["column"]] = spec.data["group"]["value"]
    for k, v in const.items():
        cols.setdefault(k, [v] * grid.size)
    columns = tuple(cols)
    rows = list(zip(*(cols[c] for c in columns)))
    rows = [tuple(float(v) if isinstance(v, (float, np.floating, int)) and not isinstance(v, bool)
                  else str(v) for v in r) for r in rows]
    shown = ", ".join(f"{n} = {v:.6g}" for n, v in params.items())
    header = (f"SIMULATED data, generated by tlsbayes {__version__} (tlsbayes simulate) from "
              f"card {Path(card.path).name} ({card.name}), data set {spec.name!r}, seed {seed}; "
              "not a measurement",
              f"model {spec.model} at {shown}",
              f"noise: {lik.kind} likelihood, sigma {noise_note} (SI unit of y: "
              f"{model.y_unit or 'dimensionless'})")
    return SimulatedTable(dataset=spec.name, columns=columns, rows=rows, header=header,
                          params=params, x_si=x_si, mu=mu, y_si=y, sigma_si=sigma)


def write_simulated_csv(card, out, *, dataset=None, seed=None) -> SimulatedTable:
    """Simulate (see :func:`simulate_card`) and write the CSV atomically to ``out``.

    The temporary file is loaded back with the card's column specs, filter, window and group
    before the rename; if any simulated row would be dropped, nothing is written.
    """
    table = simulate_card(card, dataset=dataset, seed=seed)
    spec = _spec(card, table.dataset)
    out = Path(out)
    if not out.parent.is_dir():
        raise DataError(f"{out}: output directory {str(out.parent)!r} does not exist")
    with atomic_output(out) as tmp:
        tmp.write_text(table.to_csv_text(), encoding="utf-8")
        try:
            back = tio.load_xy(tmp, x=spec.data["x"], y=spec.data["y"],
                               sigma=spec.data.get("sigma"), filter=spec.data.get("filter"),
                               window=spec.data.get("window"), group=spec.data.get("group"))
        except TLSBayesError as exc:
            raise DataError(f"{card.path}: simulated table does not load with the card: "
                            f"{exc}") from None
        if back.n != len(table.rows):
            raise DataError(f"{card.path}: data set {spec.name!r}: the card's filter/window "
                            f"keeps only {back.n} of {len(table.rows)} simulated rows")
    return table
