"""What a report says was fitted: card, data files, rows selected, priors, constants, axes.

:func:`run_context` gathers it from a run directory (``run.json`` and ``card.toml``, which
``tlsbayes fit`` and ``batch`` write before sampling), falling back to the card text stored in
the result's provenance.  Everything here is read, nothing is recomputed: the data file's
sha256 is the one ``run.json`` recorded (and ``posterior.nc`` holds under ``data_files``).

The same context gives the figures their titles (card and group) and their axes in the units
of the data (:class:`Axis`: dBm for a dBm column, the column's ``label`` such as
``"VNA output power"`` where the card gives one).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import io as tio
from ..errors import TLSBayesError
from ..models import CONSTANT_UNITS

__all__ = ["Axis", "DataSetInfo", "PriorInfo", "RunContext", "run_context", "format_prior",
           "format_value"]

#: Default axis names of the x and y kinds (when the card gives no ``label``).
KIND_NAMES = {"temperature": "T", "frequency": "f", "power": "power", "field": "|E|",
              "photon_number": "photon number", "Qi": "Q_i", "inverse_q": "1/Q_i",
              "damping_rate": "damping rate", "fractional_shift": "δf/f"}


def format_value(v, unit: str = "") -> str:
    """``v`` (up to 10 significant digits, as a card writes it) and its unit: ``"0.011 K"``."""
    if isinstance(v, str):
        return v
    text = f"{float(v):.10g}"
    return f"{text} {unit}".strip()


def format_prior(prior, unit: str = "") -> str:
    """A prior in words: ``"log-uniform on [1e-20, 0.1] W"``, ``"fixed at 0.5"``."""
    d = prior.to_dict()
    dist = d["dist"]
    u = f" {unit}" if unit else ""
    if dist == "fixed":
        return f"fixed at {format_value(d['value'], unit)}"
    if dist in ("uniform", "loguniform"):
        name = "uniform" if dist == "uniform" else "log-uniform"
        return f"{name} on [{d['low']:.4g}, {d['high']:.4g}]{u}"
    if dist == "normal":
        return f"normal, mean {d['mu']:.4g}{u}, sd {d['sigma']:.4g}{u}"
    if dist == "truncnorm":
        return (f"normal, mean {d['mu']:.4g}{u}, sd {d['sigma']:.4g}{u}, truncated to "
                f"[{d['low']:.4g}, {d['high']:.4g}]{u}")
    keys = ", ".join(f"{k} = {v:.4g}" for k, v in d.items()
                     if k not in ("dist", "unit", "latex") and isinstance(v, (int, float)))
    return f"{dist} ({keys}){u}"


@dataclass(frozen=True)
class Axis:
    """How one axis shows SI values: in the data's unit, with a name.

    ``to_display(si)`` converts; ``log`` says whether a logarithmic axis suits the displayed
    values (never for a dBm axis, whose numbers are already logarithmic).
    """

    name: str
    unit: str
    log: bool | None = None  # None: the plot's default for the kind
    reciprocal: bool = False  # Qi data fitted as 1/Qi: shown as Qi
    si_unit_factor: float = 1.0

    @property
    def label(self) -> str:
        return f"{self.name} [{self.unit}]" if self.unit else self.name

    def to_display(self, values):
        v = np.asarray(values, dtype=float)
        if self.reciprocal:
            with np.errstate(divide="ignore"):
                return 1.0 / v
        if self.unit in tio.LOG_UNITS:
            with np.errstate(divide="ignore", invalid="ignore"):
                return tio.from_si(v, self.unit)
        return v / self.si_unit_factor


def _axis(spec: dict, role: str) -> Axis | None:
    try:
        cs = tio.resolve_spec(spec, role)
    except TLSBayesError:
        return None
    name = spec.get("label") or KIND_NAMES.get(cs.kind, cs.kind)
    if role == "y" and cs.kind == "Qi":
        return Axis(name, "", reciprocal=True)
    if cs.unit in tio.LOG_UNITS:
        return Axis(name, cs.unit, log=False)
    factor = tio.UNITS[cs.unit][1]
    unit = "Γ/2π: Hz" if cs.unit == "Hz_2pi" else cs.unit
    return Axis(name, unit, si_unit_factor=factor)


@dataclass(frozen=True)
class DataSetInfo:
    """One data set as fitted: where its points came from and how they were selected."""

    name: str
    model: str
    likelihood: str
    n_points: int
    file: str = ""            # as the card writes it ("{real}/x.csv")
    path: str = ""            # as read
    sha256: str = ""          # of the file's bytes, from run.json
    group: str = ""           # "column = 'value'" or ""
    filter: str = ""
    window: str = ""          # "power_vna_dBm <= -10 dBm"
    x_column: str = ""
    y_column: str = ""
    x_axis: Axis | None = None
    y_axis: Axis | None = None
    constants: tuple = ()     # ((name, "value unit"), ...)
    traces: tuple = ()        # traces used and left out (tlsbayes s21 tables), from run.json


@dataclass(frozen=True)
class PriorInfo:
    """A prior actually used; ``declared`` in the card's [priors], else the model's default."""

    name: str
    text: str
    declared: bool | None  # None: unknown (no card recorded)


@dataclass(frozen=True)
class RunContext:
    """What was fitted (see the module docstring)."""

    card_name: str
    title: str = ""
    card_path: str = ""
    reference: str = ""
    attribution: str = ""
    simulated: bool | None = None
    datasets: tuple = ()
    priors: tuple = ()
    units: dict = field(default_factory=dict)

    @property
    def group_text(self) -> str:
        """The group(s) of the data, ``"resonator = 'LGS1_5.70GHz'"``, or ``""``."""
        return "; ".join(sorted({d.group for d in self.datasets if d.group}))

    @property
    def figure_title(self) -> str:
        """Card name and group, for every figure of the run."""
        g = self.group_text
        return f"{self.card_name} ({g})" if g else self.card_name

    def dataset(self, name: str) -> DataSetInfo | None:
        return next((d for d in self.datasets if d.name == name), None)


def _window_text(window, x_column, unit):
    if not window:
        return ""
    u = f" {unit}" if unit else ""
    lo, hi = window.get("min"), window.get("max")
    if lo is not None and hi is not None:
        return f"{lo:g}{u} <= {x_column} <= {hi:g}{u}"
    if lo is not None:
        return f"{x_column} >= {lo:g}{u}"
    return f"{x_column} <= {hi:g}{u}"


def _constants(model) -> tuple:
    out = []
    for k, v in model.constants().items():
        if isinstance(v, float) and not math.isfinite(v):
            continue  # not given (e.g. Qc of a model that does not use it)
        out.append((k, format_value(v, CONSTANT_UNITS.get(k, ""))))
    return tuple(out)


def _dataset_info(spec, ds, data_file: dict) -> DataSetInfo:
    data = spec.data
    xspec, yspec = data.get("x", {}), data.get("y", {})
    x_axis = _axis(xspec, "x")
    group = data.get("group")
    gtext = f"{group['column']} = {group['value']!r}" if isinstance(group, dict) else ""
    return DataSetInfo(
        name=ds.name, model=ds.model.kind, likelihood=ds.likelihood.kind, n_points=ds.n,
        file=str(data.get("file", "")), path=str(data_file.get("source", spec.path)),
        sha256=str(data_file.get("sha256", "")), group=gtext, filter=data.get("filter", ""),
        window=_window_text(data.get("window"), xspec.get("column", "x"),
                            x_axis.unit if x_axis else ""),
        x_column=xspec.get("column", ""), y_column=yspec.get("column", ""), x_axis=x_axis,
        y_axis=_axis(yspec, "y"), constants=_constants(ds.model),
        traces=tuple(str(t) for t in data_file.get("traces", ())))


def _card_of(outdir: Path, attrs: dict):
    """The run's card (its group applied) and run.json, else from the provenance; or None."""
    from .. import card as tcard
    from .. import rundir

    extra = attrs.get("extra", {}) or {}
    # the card's text only: no data file is read here, so its paths need no confinement
    meta = tcard.DataAccess(None, allow_outside=True)
    try:
        info = rundir.read_run_info(outdir)
        card = tcard.parse_card(rundir.read_card_copy(outdir), Path(info["card"]), access=meta)
        if isinstance(info.get("group"), dict):
            card = rundir.card_for_group(card, info["group"]["column"], info["group"]["value"])
        return card, info
    except TLSBayesError:
        pass
    text = attrs.get("model_card_text") or ""
    if not text:
        return None, {}
    try:
        return tcard.parse_card(text, Path(extra.get("card_path") or rundir.CARD_FILE),
                                access=meta), {}
    except TLSBayesError:
        return None, {}


def run_context(outdir, attrs: dict, posterior) -> RunContext:
    """The :class:`RunContext` of the run in ``outdir`` whose result has ``attrs``.

    Parameters
    ----------
    outdir : path-like
        The run directory (``run.json`` and ``card.toml`` read if present).
    attrs : dict
        The result's provenance (:func:`tlsbayes.results.attrs_of`).
    posterior : Posterior
        The fitted posterior (priors used, data sets, parameter units).
    """
    card, info = _card_of(Path(outdir), attrs)
    extra = attrs.get("extra", {}) or {}
    files = info.get("data") or extra.get("data_files") or []
    info_units = {n: p.unit for n, p in posterior.parameter_info().items()}
    specs = {s.name: s for s in card.datasets} if card is not None else {}
    datasets = []
    for i, ds in enumerate(posterior.datasets):
        f = files[i] if i < len(files) and isinstance(files[i], dict) else {}
        if ds.name in specs:
            datasets.append(_dataset_info(specs[ds.name], ds, f))
        else:
            datasets.append(DataSetInfo(ds.name, ds.model.kind, ds.likelihood.kind, ds.n,
                                        path=str(f.get("source", "")),
                                        sha256=str(f.get("sha256", "")),
                                        constants=_constants(ds.model)))
    declared = set(card.priors) if card is not None else None
    priors = tuple(
        PriorInfo(n, format_prior(p, info_units.get(n, "")),
                  None if declared is None else n in declared)
        for n, p in posterior.priors.items())
    meta = card.meta if card is not None else {}
    return RunContext(
        card_name=card.name if card is not None else str(extra.get("card_name") or "run"),
        title=meta.get("title", ""), card_path=str(info.get("card") or extra.get("card_path")
                                                   or ""),
        reference=meta.get("reference", ""), attribution=meta.get("attribution", ""),
        simulated=meta.get("simulated"), datasets=tuple(datasets), priors=priors,
        units=info_units)
