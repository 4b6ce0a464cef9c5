"""The figure of one fitted trace, for a physicist to check at a glance.

Four panels: the resonance circle in the complex plane, |S21| [dB] and phase [rad, unwrapped]
against frequency, each with the data and the posterior median model with its 16-84 % band
(pointwise quantiles over posterior draws), and the residuals (data - median model) divided
by the noise level ``sigma_fit`` of the least-squares fit, real and imaginary parts.
"""

from __future__ import annotations

import numpy as np

from ..physics import s21 as k

__all__ = ["plot_trace_fit"]

#: Posterior draws evaluated for the bands (pointwise quantiles; 200 resolve 16/84 %).
N_BAND = 200


def plot_trace_fit(trace, res, path, *, seed: int = 0) -> None:
    """Write the figure of ``trace`` fitted as ``res`` to ``path`` (format from the suffix).

    Parameters
    ----------
    trace : tlsbayes.s21.readers.Trace
    res : tlsbayes.s21.fit.TraceResult
        Sampled (``res.samples`` not None) and with ``values['f_ref_Hz']`` and ``'geometry'``.
    path : path-like
    seed : int
        Stream choosing the draws of the band.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    code = k.geometry_code(res.values["geometry"])
    f_ref = float(res.values["f_ref_Hz"])
    # PARAMS and, when it was fitted, the background curvature (s21.lsq.choose_background)
    draws = res.samples[:, : k.NPARAMS + (k.NBG if k.BG_PARAMS[0] in res.names else 0)]
    pick = np.random.default_rng(seed).choice(draws.shape[0], min(N_BAND, draws.shape[0]),
                                              replace=False)
    f = trace.f
    # the data as fitted: conjugated when the circle ran the other way (s21.fit)
    z = np.conj(trace.z) if res.values.get("conjugated") else trace.z
    model = k.model_batch(f, draws[pick], f_ref, code)  # (N_BAND, m)
    mid = k.model_batch(f, np.median(draws, axis=0)[None, :], f_ref, code)[0]
    db = 20 * np.log10(np.abs(model))
    # Unwrap every curve from the data's first phase so that all sit on the same branch.
    ph_data = np.unwrap(np.angle(z))
    ph = np.unwrap(np.angle(model), axis=1)
    ph += 2 * np.pi * np.round((ph_data[0] - ph[:, :1]) / (2 * np.pi))
    x = (f - float(res.values.get("f_res_Hz", f_ref))) / 1e3
    sigma = float(res.values.get("sigma_fit", np.nan)) or np.nan

    fig, ax = plt.subplots(2, 2, figsize=(10, 7.5))
    a = ax[0, 0]
    a.plot(z.real, z.imag, ".", ms=2, color="0.5", label="data")
    a.plot(mid.real, mid.imag, "-", color="C3", lw=1.2, label="posterior median")
    a.set_aspect("equal", adjustable="datalim")
    a.set_xlabel("Re S21")
    a.set_ylabel("Im S21")
    a.legend(fontsize=8)
    for a, data, curves, label in ((ax[0, 1], 20 * np.log10(np.abs(z)), db, "|S21| [dB]"),
                                   (ax[1, 0], ph_data, ph, "phase [rad]")):
        lo, med, hi = np.percentile(curves, [16, 50, 84], axis=0)
        a.plot(x, data, ".", ms=2, color="0.5")
        a.fill_between(x, lo, hi, color="C3", alpha=0.35, lw=0, label="16-84 %")
        a.plot(x, med, "-", color="C3", lw=1.0, label="median")
        a.set_xlabel("f - f_res [kHz]")
        a.set_ylabel(label)
        a.legend(fontsize=8)
    r = (z - mid) / sigma
    a = ax[1, 1]
    a.plot(x, r.real, ".", ms=2, label="Re")
    a.plot(x, r.imag, ".", ms=2, label="Im")
    a.axhline(0, color="k", lw=0.6)
    a.set_xlabel("f - f_res [kHz]")
    a.set_ylabel("residual / sigma")
    a.legend(fontsize=8)
    v = res.values
    fig.suptitle(f"{trace.file}\nP = {trace.power_dBm:g} dBm, T = {trace.temperature_K:g} K; "
                 f"Qi = {v['Qi']:.4g} (+{v['Qi_q84'] - v['Qi']:.2g}/-{v['Qi'] - v['Qi_q16']:.2g}),"
                 f" Qc = {v['Qc']:.4g}; {res.status}{': ' + res.reason if res.reason else ''}",
                 fontsize=8)
    # fixed margins: tight_layout draws the figure once more (a third of its cost) and a
    # run draws hundreds of these
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.07, top=0.9, wspace=0.25, hspace=0.28)
    fig.savefig(path, dpi=90)
    plt.close(fig)
