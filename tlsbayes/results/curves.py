"""What the fit figure draws, computed from the posterior: the contract between the model and
every renderer of that figure (the PNG of :func:`tlsbayes.plotting.plot_fit`, an SVG...).

:func:`fit_curves` evaluates the model (posterior draws on a grid of x and at the data points)
and converts everything into the units the data came in; :class:`FitCurves` holds the result
as plain numpy arrays and strings, so that a renderer needs neither the model nor numba, and
the curves can be stored with a run (:meth:`FitCurves.to_json` / :meth:`FitCurves.from_json`,
exact: floats are written with ``repr``) and drawn again without evaluating anything.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

__all__ = ["QUANTILES", "GRID_POINTS", "MAX_DRAWS", "DatasetCurves", "FitCurves", "fit_curves"]

#: Percentiles of the prediction drawn as bands and curve: 95 % band, 68 % band, median.
QUANTILES = (2.5, 16.0, 50.0, 84.0, 97.5)
#: Points of the x grid the curves are evaluated on.
GRID_POINTS = 200
#: Posterior draws (chosen at random, seeded) the quantiles are taken over.
MAX_DRAWS = 400

# How each kind of x / y is best looked at.
_LOG_X = {"field", "photon_number", "power"}
_LOG_Y = {"inverse_q", "damping_rate"}
_X_LABEL = {"temperature": "T [K]", "field": "|E| [V/m]", "photon_number": "photon number",
            "power": "P [W]"}
_Y_LABEL = {"frequency": "f [Hz]", "inverse_q": "1/Qᵢ", "damping_rate": "Γ [s⁻¹]",
            "fractional_shift": "δf/f"}


@dataclass(frozen=True, eq=False)
class DatasetCurves:
    """One data set's panel of the fit figure (data with bands above, residuals below).

    "Display units" are those the data came in (dBm, mK, Qᵢ for 1/Qᵢ data, ``f - offset`` in
    Hz for frequencies: see the labels); "fit units" are the SI units the model is fitted in.
    ``G`` is the number of grid points (:data:`GRID_POINTS`), ``n`` the number of data points.

    Attributes
    ----------
    name : str
        The data set's name in the card.
    model : str
        The model kind (``tls_qi_power``...).
    title : str
        Panel title, ``"data set <name> (model <kind>)"``.
    x_grid : ndarray, shape (G,)
        x of the curves, display units, increasing in fit units (geometric spacing on a log
        x axis).
    band : ndarray, shape (5, G)
        The :data:`QUANTILES` (2.5, 16, 50, 84, 97.5 %) of the posterior prediction at each
        ``x_grid`` point, display units (taken after the conversion: for Qᵢ data, quantiles
        of 1/prediction); NaN where no draw is finite.
    x : ndarray, shape (n,)
        The data's x, display units.
    y : ndarray, shape (n,)
        The data, display units.
    sigma : ndarray, shape (n,)
        Quoted standard deviations of ``y``, display units (all ones in fit units when none
        were quoted).
    error_bars : bool
        Whether uncertainties were quoted (draw ``sigma`` as error bars).
    median_at_data : ndarray, shape (n,)
        Pointwise posterior-median prediction at the data points (each point at its own
        constants, e.g. its temperature), **fit units**.
    residual : ndarray, shape (n,)
        ``(data - median_at_data) / sigma`` in fit units when ``error_bars``, else
        ``data - median_at_data``; sign flipped for Qᵢ data (shown as Qᵢ, fitted as 1/Qᵢ) so
        that a point above the curve has a positive residual.
    x_label, y_label, residual_label : str
        Axis labels (plain text, units in brackets).
    log_x, log_y : bool
        Logarithmic x axis (both panels), logarithmic y axis (the upper panel).
    """

    name: str
    model: str
    title: str
    x_grid: np.ndarray
    band: np.ndarray
    x: np.ndarray
    y: np.ndarray
    sigma: np.ndarray
    error_bars: bool
    median_at_data: np.ndarray
    residual: np.ndarray
    x_label: str
    y_label: str
    residual_label: str
    log_x: bool
    log_y: bool

    def to_dict(self) -> dict:
        """Plain lists, strings and bools (JSON-ready)."""
        return {f.name: (getattr(self, f.name).tolist()
                         if isinstance(getattr(self, f.name), np.ndarray)
                         else getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_dict(cls, doc: dict) -> DatasetCurves:
        """Inverse of :meth:`to_dict`; KeyError/TypeError/ValueError on a malformed one."""
        kw = {}
        for f in fields(cls):
            v = doc[f.name]
            if f.type == "np.ndarray":
                v = np.asarray(v, dtype=np.float64)
            elif f.type == "bool":
                v = bool(v)
            elif not isinstance(v, str):
                raise TypeError(f"curves field {f.name}: expected a string")
            kw[f.name] = v
        return cls(**kw)


@dataclass(frozen=True, eq=False)
class FitCurves:
    """Everything the fit figure draws: one :class:`DatasetCurves` per data set, in the
    posterior's order, and the figure title.

    Attributes
    ----------
    title : str or None
        Figure title (the card and group), None for none.
    datasets : tuple of DatasetCurves
    """

    title: str | None
    datasets: tuple

    def to_json(self) -> dict:
        """A JSON-ready dict (floats survive ``json.dumps``/``json.loads`` exactly)."""
        return {"title": self.title, "datasets": [d.to_dict() for d in self.datasets]}

    @classmethod
    def from_json(cls, doc: dict) -> FitCurves:
        """Inverse of :meth:`to_json`; KeyError/TypeError/ValueError on a malformed one."""
        title = doc["title"]
        if title is not None and not isinstance(title, str):
            raise TypeError("curves title: expected a string")
        return cls(title, tuple(DatasetCurves.from_dict(d) for d in doc["datasets"]))


def _grid(x, log):
    lo, hi = float(np.min(x)), float(np.max(x))
    if log and lo > 0:
        return np.geomspace(lo, hi, GRID_POINTS)
    return np.linspace(lo, hi, GRID_POINTS)


def _y_display(y_axis, model, pred_g, y, sigma):
    """``(pred, data, sigma, residual sign, label)`` in the units the data came in."""
    if y_axis is not None and y_axis.reciprocal:  # Qi data, fitted as 1/Qi
        with np.errstate(divide="ignore", invalid="ignore"):
            return 1.0 / pred_g, 1.0 / y, sigma / y**2, -1.0, "Qᵢ"
    if model.y_kind == "frequency":
        offset = float(np.median(y))
        return pred_g - offset, y - offset, sigma, 1.0, f"f − {offset:.9g} Hz"
    if y_axis is not None and y_axis.si_unit_factor != 1.0:
        k = y_axis.si_unit_factor
        return pred_g / k, y / k, sigma / k, 1.0, y_axis.label
    return pred_g, y, sigma, 1.0, _Y_LABEL.get(model.y_kind, model.y_kind)


def _quantiles(values: np.ndarray) -> np.ndarray:
    """:data:`QUANTILES` of each column of ``values`` (S, G), NaN ignored, shape (5, G).

    ``np.nanpercentile`` sorts column by column in Python (10 ms for 200 columns); columns
    without NaN take ``np.percentile``'s vectorised path, which gives the same numbers.
    """
    clean = ~np.isnan(values).any(axis=0)
    out = np.empty((len(QUANTILES), values.shape[1]))
    out[:, clean] = np.percentile(values[:, clean], list(QUANTILES), axis=0)
    if not clean.all():
        out[:, ~clean] = np.nanpercentile(values[:, ~clean], list(QUANTILES), axis=0)
    return out


def _dataset_curves(ds, P, x_axis, y_axis) -> DatasetCurves:
    """The panel of data set ``ds`` from the ``(S, k)`` model parameter matrix ``P``."""
    model = ds.model
    xk = model.x_kind
    logx = xk in _LOG_X or (xk == "temperature" and model.kind == "nems_damping")
    if x_axis is not None and x_axis.log is not None:
        logx = x_axis.log
    xg = _grid(ds.x, xk in _LOG_X or logx)
    pred_g = model.predict_matrix(P, xg)
    pred_d = ds.predict_matrix(P)  # each point at its own constants (e.g. T)
    show_x = x_axis.to_display if x_axis is not None else (lambda v: v)
    quoted = bool(np.any(ds.sigma != 1.0))
    pred_show, y_show, s_show, sign, ylab = _y_display(y_axis, model, pred_g, ds.y, ds.sigma)
    med_d = np.nanmedian(pred_d, axis=0)
    return DatasetCurves(
        name=str(ds.name), model=str(model.kind),
        title=f"data set {ds.name} (model {model.kind})",
        x_grid=np.asarray(show_x(xg), dtype=float),
        band=_quantiles(pred_show),
        x=np.asarray(show_x(ds.x), dtype=float), y=np.asarray(y_show, dtype=float),
        sigma=np.asarray(s_show, dtype=float), error_bars=quoted,
        median_at_data=med_d, residual=sign * (ds.y - med_d) / ds.sigma,
        x_label=x_axis.label if x_axis is not None else _X_LABEL.get(xk, xk),
        y_label=ylab, residual_label="(data − model)/σ" if quoted else "data − model",
        log_x=bool(logx), log_y=bool(model.y_kind in _LOG_Y and np.all(y_show > 0)))


def fit_curves(posterior, theta, *, max_draws=MAX_DRAWS, rng=None, title=None,
               axes_of=None) -> FitCurves:
    """Evaluate what the fit figure draws (the model at posterior draws; numba is used here).

    Parameters
    ----------
    posterior : tlsbayes.inference.posterior.Posterior
    theta : ndarray, shape (nsamples, ndim)
        Posterior samples in sampling coordinates.
    max_draws : int
        Posterior draws (at random, from ``rng``) the quantiles are taken over.
    rng : numpy.random.Generator, optional
        Default ``default_rng(0)``: the same samples give the same curves.
    title : str, optional
        Figure title (the card and group).
    axes_of : dict, optional
        ``data set name -> (x Axis, y Axis)`` (:class:`tlsbayes.reporting.Axis`, either may
        be None): the axes in the units of the data (dBm, mK, Qi...) with their names; by
        default SI with the kind's name.

    Returns
    -------
    FitCurves
    """
    rng = np.random.default_rng(0) if rng is None else rng
    axes_of = axes_of or {}
    if theta.shape[0] > max_draws:
        theta = theta[rng.choice(theta.shape[0], max_draws, replace=False)]
    params = posterior.params(theta)
    panels = []
    for ds in posterior.datasets:
        P = np.column_stack([np.broadcast_to(params[n], theta.shape[:1])
                             for n in ds.model.param_names])
        x_axis, y_axis = axes_of.get(ds.name, (None, None))
        panels.append(_dataset_curves(ds, np.ascontiguousarray(P), x_axis, y_axis))
    return FitCurves(title, tuple(panels))
