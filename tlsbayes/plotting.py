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


def _label(info, name, log):
    p = info.get(name)
    lab = p.latex if p is not None and p.latex else name
    unit = p.unit if p is not None else ""
    if log:
        lab = r"$\log_{10}$ " + lab
    return f"{lab} [{unit}]" if unit and unit not in ("", "y") else lab


def plot_corner(samples, names, path, *, param_info=None, log_params=(), truths=None):
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
    """
    import corner

    info = param_info or {}
    log_params = set(log_params)
    cols, labels, tr = [], [], []
    for i, n in enumerate(names):
        col = samples[:, i]
        lg = n in log_params and np.all(col > 0)
        cols.append(np.log10(col) if lg else col)
        labels.append(_label(info, n, lg))
        t = None if truths is None else truths.get(n)
        tr.append(None if t is None else (math.log10(t) if lg and t > 0 else t))
    data = np.column_stack(cols)
    # Fixed-width columns break corner's histogram ranges; nudge them so the figure still draws.
    ranges = [(c.min() - 0.5, c.max() + 0.5) if np.ptp(c) == 0 else 0.999 for c in data.T]
    fig = corner.corner(data, labels=labels, truths=tr if truths else None,
                        quantiles=[0.16, 0.5, 0.84], show_titles=True, title_fmt=".3g",
                        range=ranges, truth_color="tab:red")
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_trace(chain, names, path, *, burn=0, max_walkers=16):
    """Walker traces, one panel per parameter, with the discarded burn-in shaded.

    Parameters
    ----------
    chain : ndarray, shape (nsteps, nwalkers, ndim)
        Full chain in sampling coordinates.
    names : sequence of str
    path : path-like
    burn : int
        Steps discarded as burn-in.
    """
    nsteps, nw, nd = chain.shape
    fig, axes = plt.subplots(nd, 1, figsize=(8, 1.6 * nd + 0.6), sharex=True, squeeze=False)
    idx = np.linspace(0, nw - 1, min(nw, max_walkers)).astype(int)
    for k, ax in enumerate(axes[:, 0]):
        ax.plot(chain[:, idx, k], lw=0.4, alpha=0.6)
        ax.set_ylabel(names[k], fontsize=8)
        if burn:
            ax.axvspan(0, burn, color="0.85", zorder=-1)
    axes[-1, 0].set_xlabel("step")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _grid(x, log):
    lo, hi = float(np.min(x)), float(np.max(x))
    if log and lo > 0:
        return np.geomspace(lo, hi, 200)
    return np.linspace(lo, hi, 200)


def plot_fit(posterior, theta, path, *, max_draws=400, rng=None):
    """Data with the posterior median curve, 68 % and 95 % bands, and residuals.

    Parameters
    ----------
    posterior : tlsbayes.inference.posterior.Posterior
    theta : ndarray, shape (nsamples, ndim)
        Posterior samples in sampling coordinates.
    path : path-like
    max_draws : int
        Posterior draws used for the bands.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    if theta.shape[0] > max_draws:
        theta = theta[rng.choice(theta.shape[0], max_draws, replace=False)]
    params = posterior.params(theta)
    nds = len(posterior.datasets)
    fig, axes = plt.subplots(2, nds, figsize=(5.2 * nds, 5.6), squeeze=False,
                             gridspec_kw={"height_ratios": [3, 1]})
    for j, ds in enumerate(posterior.datasets):
        ax, axr = axes[0, j], axes[1, j]
        model = ds.model
        xk = model.x_kind
        logx = xk in _LOG_X or (xk == "temperature" and model.kind == "nems_damping")
        logy = model.y_kind in _LOG_Y
        P = np.column_stack([np.broadcast_to(params[n], theta.shape[:1])
                             for n in model.param_names])
        xg = _grid(ds.x, logx)
        pred_g = model.predict_matrix(np.ascontiguousarray(P), xg)
        pred_d = ds.predict_matrix(P)  # each point at its own constants (e.g. T)
        offset = 0.0
        if model.y_kind == "frequency":
            offset = float(np.median(ds.y))
        q = np.nanpercentile(pred_g, [2.5, 16, 50, 84, 97.5], axis=0) - offset
        ax.fill_between(xg, q[0], q[4], color="tab:blue", alpha=0.18, lw=0, label="95 %")
        ax.fill_between(xg, q[1], q[3], color="tab:blue", alpha=0.35, lw=0, label="68 %")
        ax.plot(xg, q[2], color="tab:blue", lw=1.4, label="posterior median")
        ax.errorbar(ds.x, ds.y - offset, yerr=ds.sigma if np.any(ds.sigma != 1.0) else None,
                    fmt="o", ms=3, color="k", lw=0.8, label="data")
        med_d = np.nanmedian(pred_d, axis=0)
        resid = (ds.y - med_d) / ds.sigma
        axr.axhline(0, color="0.5", lw=0.8)
        axr.plot(ds.x, resid, "o", ms=3, color="k")
        axr.set_ylabel("(data − model)/σ" if np.any(ds.sigma != 1.0) else "data − model")
        for a in (ax, axr):
            if logx:
                a.set_xscale("log")
        if logy and np.all(ds.y > 0):
            ax.set_yscale("log")
        ylab = _Y_LABEL.get(model.y_kind, model.y_kind)
        if offset:
            ylab = f"f − {offset:.9g} Hz"
        ax.set_ylabel(ylab)
        ax.set_title(f"{ds.name} ({model.kind})", fontsize=10)
        axr.set_xlabel(_X_LABEL.get(xk, xk))
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
