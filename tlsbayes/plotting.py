"""Figures: corner plot, data with posterior bands and residuals, trace plot.

Free functions that take arrays, a posterior and a path, and write one PNG each.  Matplotlib
runs headless (Agg).
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

# How each kind of x / y is best looked at.
_LOG_X = {"field", "photon_number", "power"}
_LOG_Y = {"inverse_q", "damping_rate"}
_X_LABEL = {"temperature": "T [K]", "field": "|E| [V/m]", "photon_number": "photon number",
            "power": "P [W]"}
_Y_LABEL = {"frequency": "f [Hz]", "inverse_q": r"$1/Q_i$", "damping_rate": r"$\Gamma$ [s$^{-1}$]",
            "fractional_shift": r"$\delta f/f$"}


def axis_label(info, name, log):
    """Axis label of parameter ``name``: the name the summary table uses and its unit,
    ``log10`` in front if ``log`` (the same label in the corner and trace plots, so that each
    parameter has one name and one coordinate across the report)."""
    p = info.get(name)
    unit = p.unit if p is not None else ""
    lab = f"log10 {name}" if log else name
    return f"{lab} [{unit}]" if unit and unit not in ("", "y") else lab


def plot_corner(samples, names, path, *, param_info=None, log_params=(), truths=None,
                title=None):
    """Corner plot of posterior samples.

    Parameters
    ----------
    samples : ndarray, shape (nsamples, nparams)
        Physical values.
    names : sequence of str
        Parameter names (columns of ``samples``).
    path : path-like
        Output PNG.
    param_info : dict, optional
        ``name -> Parameter`` for labels and units.
    log_params : iterable of str
        Parameters shown as log10 (those with log-uniform priors).
    truths : dict, optional
        ``name -> value`` drawn as lines (e.g. the simulation truth or the paper's value).
    title : str, optional
        Figure title (the card and group).
    """
    import corner

    info = param_info or {}
    log_params = set(log_params)
    cols, labels, tr = [], [], []
    for i, n in enumerate(names):
        col = samples[:, i]
        lg = n in log_params and np.all(col > 0)
        cols.append(np.log10(col) if lg else col)
        labels.append(axis_label(info, n, lg))
        t = None if truths is None else truths.get(n)
        tr.append(None if t is None else (math.log10(t) if lg and t > 0 else t))
    data = np.column_stack(cols)
    # Fixed-width columns break corner's histogram ranges; nudge them so the figure still draws.
    ranges = [(c.min() - 0.5, c.max() + 0.5) if np.ptp(c) == 0 else 0.999 for c in data.T]
    fig = corner.corner(data, labels=labels, truths=tr if truths else None,
                        quantiles=[0.16, 0.5, 0.84], show_titles=True, title_fmt=".3g",
                        range=ranges, truth_color="tab:red")
    if title:
        fig.suptitle(title, y=1.0, va="bottom", fontsize=11)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def plot_trace(chain, names, path, *, burn=0, max_walkers=16, labels=None, title=None):
    """Walker traces, one panel per parameter, with the discarded burn-in shaded.

    Parameters
    ----------
    chain : ndarray, shape (nsteps, nwalkers, ndim)
        Full chain, in the coordinates ``labels`` name (the caller converts it to those of
        the corner plot).
    names : sequence of str
    path : path-like
    burn : int
        Steps discarded as burn-in.
    labels : sequence of str, optional
        Axis label per parameter (default: the names).
    title : str, optional
        Figure title (the card and group).
    """
    nsteps, nw, nd = chain.shape
    fig, axes = plt.subplots(nd, 1, figsize=(8, 1.6 * nd + 0.6), sharex=True, squeeze=False)
    idx = np.linspace(0, nw - 1, min(nw, max_walkers)).astype(int)
    for k, ax in enumerate(axes[:, 0]):
        ax.plot(chain[:, idx, k], lw=0.4, alpha=0.6)
        ax.set_ylabel(labels[k] if labels is not None else names[k], fontsize=8)
        if burn:
            ax.axvspan(0, burn, color="0.85", zorder=-1)
    axes[-1, 0].set_xlabel("step")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _grid(x, log):
    lo, hi = float(np.min(x)), float(np.max(x))
    if log and lo > 0:
        return np.geomspace(lo, hi, 200)
    return np.linspace(lo, hi, 200)


def _y_display(y_axis, model, pred_g, y, sigma):
    """``(pred, data, sigma, residual sign, label, offset)`` in the units the data came in."""
    if y_axis is not None and y_axis.reciprocal:  # Qi data, fitted as 1/Qi
        with np.errstate(divide="ignore", invalid="ignore"):
            return 1.0 / pred_g, 1.0 / y, sigma / y**2, -1.0, r"$Q_i$", 0.0
    if model.y_kind == "frequency":
        offset = float(np.median(y))
        return pred_g - offset, y - offset, sigma, 1.0, f"f − {offset:.9g} Hz", offset
    if y_axis is not None and y_axis.si_unit_factor != 1.0:
        k = y_axis.si_unit_factor
        return pred_g / k, y / k, sigma / k, 1.0, y_axis.label, 0.0
    return pred_g, y, sigma, 1.0, _Y_LABEL.get(model.y_kind, model.y_kind), 0.0


def plot_fit(posterior, theta, path, *, max_draws=400, rng=None, title=None, axes_of=None):
    """Data with the posterior median curve, 68 % and 95 % bands, and residuals.

    Parameters
    ----------
    posterior : tlsbayes.inference.posterior.Posterior
    theta : ndarray, shape (nsamples, ndim)
        Posterior samples in sampling coordinates.
    path : path-like
    max_draws : int
        Posterior draws used for the bands.
    title : str, optional
        Figure title (the card and group).
    axes_of : dict, optional
        ``data set name -> (x Axis, y Axis)`` (:class:`tlsbayes.reporting.Axis`, either may
        be None): the axes in the units of the data (dBm, mK, Qi...) with their names; by
        default SI with the kind's name.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    axes_of = axes_of or {}
    if theta.shape[0] > max_draws:
        theta = theta[rng.choice(theta.shape[0], max_draws, replace=False)]
    params = posterior.params(theta)
    nds = len(posterior.datasets)
    fig, axes = plt.subplots(2, nds, figsize=(5.2 * nds, 5.8), squeeze=False,
                             gridspec_kw={"height_ratios": [3, 1]})
    for j, ds in enumerate(posterior.datasets):
        ax, axr = axes[0, j], axes[1, j]
        model = ds.model
        x_axis, y_axis = axes_of.get(ds.name, (None, None))
        xk = model.x_kind
        logx = xk in _LOG_X or (xk == "temperature" and model.kind == "nems_damping")
        if x_axis is not None and x_axis.log is not None:
            logx = x_axis.log
        P = np.column_stack([np.broadcast_to(params[n], theta.shape[:1])
                             for n in model.param_names])
        xg = _grid(ds.x, xk in _LOG_X or logx)
        pred_g = model.predict_matrix(np.ascontiguousarray(P), xg)
        pred_d = ds.predict_matrix(P)  # each point at its own constants (e.g. T)
        show_x = x_axis.to_display if x_axis is not None else (lambda v: v)
        xg_d, x_d = show_x(xg), show_x(ds.x)
        quoted = np.any(ds.sigma != 1.0)
        pred_show, y_show, s_show, sign, ylab, _ = _y_display(y_axis, model, pred_g, ds.y,
                                                                   ds.sigma)
        q = np.nanpercentile(pred_show, [2.5, 16, 50, 84, 97.5], axis=0)
        ax.fill_between(xg_d, q[0], q[4], color="tab:blue", alpha=0.18, lw=0, label="95 %")
        ax.fill_between(xg_d, q[1], q[3], color="tab:blue", alpha=0.35, lw=0, label="68 %")
        ax.plot(xg_d, q[2], color="tab:blue", lw=1.4, label="posterior median")
        ax.errorbar(x_d, y_show, yerr=s_show if quoted else None,
                    fmt="o", ms=3, color="k", lw=0.8, label="data")
        med_d = np.nanmedian(pred_d, axis=0)
        resid = sign * (ds.y - med_d) / ds.sigma
        axr.axhline(0, color="0.5", lw=0.8)
        axr.plot(x_d, resid, "o", ms=3, color="k")
        axr.set_ylabel("(data − model)/σ" if quoted else "data − model")
        for a in (ax, axr):
            if logx:
                a.set_xscale("log")
        if model.y_kind in _LOG_Y and np.all(y_show > 0):
            ax.set_yscale("log")
        ax.set_ylabel(ylab)
        ax.set_title(f"data set {ds.name} (model {model.kind})", fontsize=9)
        axr.set_xlabel(x_axis.label if x_axis is not None else _X_LABEL.get(xk, xk))
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
