"""One trace from data to posterior: circle start -> least squares -> quality -> sampling.

:func:`fit_trace` never raises for a bad trace: whatever goes wrong becomes the ``status`` and
``reason`` of its :class:`TraceResult` (a reader's :class:`~tlsbayes.errors.DataError`
is turned into a failed result by :func:`fit_file`).

Summaries are posterior medians and 16/84 % quantiles.  Q_i is summarised through 1/Q_i
(the sampled coordinate, a monotone map), so ``Qi_q16 = 1/q84(1/Q_i)``; an upper quantile of
``inf`` means 1/Q_i reaches 0 at that quantile (Q_i unbounded above).
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from ..errors import DataError, TLSBayesError
from ..physics import s21 as k
from ..sampling import SamplerSettings, run
from . import quality
from .circle import circle_start
from .lsq import choose_background, refine
from .readers import Trace, read_trace
from .trace import TracePosterior

__all__ = ["TraceResult", "fit_trace", "fit_file", "fit_file_traces", "trace_settings", "SUMMARY_COLUMNS"]

#: Quantities summarised per trace (columns ``<name>``, ``<name>_q16``, ``<name>_q84``).
SUMMARY_COLUMNS = ("f_res_Hz", "Qi", "Qc", "Ql", "Qc_abs", "phi")


def trace_settings(seed: int = 0, **changes) -> SamplerSettings:
    """Sampler settings for one trace: the default gate, independence moves, frequent checks.

    A trace's posterior is near-Gaussian around the least-squares optimum, so
    :func:`fit_trace` samples it with the ``"independence"`` move set
    (:mod:`tlsbayes.sampling.independence`) proposing from the optimum and its covariance:
    tau is 1.5-3 steps and the gate's tau-stability test, checked every 20 steps, stops a
    1001-point trace after ~420 steps (~0.6-0.7 s CPU against ~9 s with the ``"de"`` set).
    24 walkers (three times the 8 parameters) give the gate's tau and R-hat enough chains.
    """
    base = dict(nwalkers=24, chunk=20, moves="independence", seed=seed, progress=False)
    base.update(changes)
    return SamplerSettings(**base)


@dataclass
class TraceResult:
    """Per-trace result (one row of the traces table, plus the samples).

    ``values`` holds the geometry fitted, the summaries (``SUMMARY_COLUMNS`` with
    ``_q16``/``_q84``), the least-squares ``*_lsq`` values, noise levels and sampler diagnostics; ``samples`` the
    post-burn-in draws in sampling coordinates (``names``), or None when not sampled.
    """

    file: str
    power_dBm: float
    temperature_K: float
    status: str
    reason: str
    values: dict = field(default_factory=dict)
    names: tuple = ()
    samples: np.ndarray | None = None

    def row(self) -> dict:
        """Flat dictionary for a table row (without the samples)."""
        out = {"file": self.file, "power_dBm": self.power_dBm,
               "temperature_K": self.temperature_K}
        out.update(self.values)
        out["status"], out["reason"] = self.status, self.reason
        return out


def _quantiles(x) -> tuple[float, float, float]:
    q16, q50, q84 = np.percentile(x, [16, 50, 84])
    return float(q50), float(q16), float(q84)


def _summaries(theta, geometry) -> dict:
    """Medians and 16/84 % quantiles of the derived quantities of draws ``theta``."""
    out = {}
    d = k.derived_q(theta, geometry)
    inv_m, inv_lo, inv_hi = _quantiles(theta[:, k.I_INV_QI])
    with np.errstate(divide="ignore"):
        out["Qi"], out["Qi_q16"], out["Qi_q84"] = 1 / inv_m, 1 / inv_hi, 1 / inv_lo
    for name, key in (("f_res_Hz", "f_r"), ("Qc", "Qc"), ("Ql", "Ql"), ("Qc_abs", "Qc_abs")):
        out[name], out[name + "_q16"], out[name + "_q84"] = _quantiles(d[key])
    out["phi"], out["phi_q16"], out["phi_q84"] = _quantiles(theta[:, k.I_PHI])
    return out


def _oriented_start(f, z, code):
    """Circle start of ``z``, or of ``conj(z)`` when the circle runs the other way.

    With the opposite time convention (``e^{+iωt}``, some VNAs and conjugating file
    conversions) the resonance circle is traversed clockwise instead of counter-clockwise,
    and the phase fit of the start can only describe it with ``Q_l < 0``.  ``conj(z)`` is
    then the same resonance in the convention of :mod:`tlsbayes.physics.s21`: the Q's and
    f_r are unchanged, φ, α and τ change sign.  Returns ``(start, z_used)``; ``z_used is z``
    when no conjugation was needed.
    """
    start = circle_start(f, z, code)
    if not k.derived_q(start.theta, code)["Ql"] < 0:
        return start, z
    zc = np.conj(z)
    return circle_start(f, zc, code), zc


def fit_trace(trace: Trace, *, geometry: str | None = None, noise: str = "estimate",
              sample: bool = True, settings: SamplerSettings | None = None,
              seed: int = 0) -> TraceResult:
    """Fit one trace (module docstring); never raises for bad data.

    Parameters
    ----------
    trace : Trace
    geometry : {"notch", "inverse", "reflection"}, optional
        Default: the trace's own (``reflection`` for ``.s1p``, else ``notch``).
    noise : {"estimate", "free"}
        See :class:`tlsbayes.s21.trace.TracePosterior`.
    sample : bool
        False: stop after least squares (the summaries are then the least-squares values
        with ±1σ from its covariance).
    settings : SamplerSettings, optional
        Default :func:`trace_settings` with ``seed``.
    seed : int
        Seed of the start sample and of the sampler.

    Returns
    -------
    TraceResult
        ``values["conjugated"]`` is True when the data were fitted as ``conj(z)`` (a circle
        traversed the other way, :func:`_oriented_start`).
    """
    geometry = geometry or trace.geometry
    code = k.geometry_code(geometry)
    res = TraceResult(trace.file, trace.power_dBm, trace.temperature_K, quality.FAILED, "",
                      values={"geometry": geometry})
    cpu0 = time.process_time()
    try:
        start, z = _oriented_start(trace.f, trace.z, code)
        res.values["conjugated"] = z is not trace.z
        cpu1 = time.process_time()
        fit = choose_background(trace.f, z, refine(trace.f, z, start.theta, start.f_ref, code),
                                start.f_ref, code)
        verdict = quality.assess(trace.f, z, fit, start.f_ref, code, trace.n_dropped)
        res.values.update(cpu_start_s=cpu1 - cpu0, cpu_lsq_s=time.process_time() - cpu1)
    except (ValueError, ArithmeticError, np.linalg.LinAlgError) as exc:
        res.reason = f"start or least squares failed: {type(exc).__name__}: {exc}"
        return res
    lsq_q = k.derived_q(fit.theta, code)
    res.values.update({"f_res_Hz_lsq": float(fit.theta[k.I_FR]), "Qi_lsq": float(lsq_q["Qi"]),
                       "Qc_lsq": float(lsq_q["Qc"]), "Ql_lsq": float(lsq_q["Ql"]),
                       "sigma_fit": fit.sigma_fit, "sigma_diff": fit.sigma_diff,
                       "background": "curved" if fit.background else "linear",
                       "n_points": int(trace.f.size), "f_ref_Hz": start.f_ref})
    res.status, res.reason = verdict.status, verdict.reason
    if verdict.status == quality.FAILED:
        res.values["cpu_seconds"] = time.process_time() - cpu0
        return res
    post = TracePosterior(trace.f, z, fit, start.f_ref, code, noise)
    res.names = post.names
    if not sample:
        draws = np.random.default_rng(seed).multivariate_normal(
            post.optimum(), post.covariance(), size=4000)
        res.values.update(_summaries(draws[:, : k.NPARAMS], code))
        res.values["cpu_seconds"] = time.process_time() - cpu0
        return res
    settings = settings or trace_settings(seed, nwalkers=3 * post.ndim)
    try:
        p0 = post.start(settings.resolve_nwalkers(post.ndim), np.random.default_rng(seed))
        chain = run(post, p0, settings, names=post.names,
                    proposal=(post.optimum(), post.covariance()))
    except (TLSBayesError, ValueError) as exc:
        res.status, res.reason = quality.FAILED, f"sampling failed: {exc}"
        return res
    draws = chain.chain[chain.burn_in:].reshape(-1, post.ndim)
    res.samples = draws
    res.values.update(_summaries(draws[:, : k.NPARAMS], code))
    res.values.update({"converged": bool(chain.converged), "steps": int(chain.steps),
                       "tau_max": float(np.max(chain.tau)), "ess_min": float(np.min(chain.ess)),
                       "evaluations": int(chain.steps * p0.shape[0])})
    if not chain.converged:
        note = f"sampler not converged ({chain.verdict})"
        res.status = quality.FLAGGED
        res.reason = f"{res.reason}; {note}" if res.reason else note
    res.values["cpu_seconds"] = time.process_time() - cpu0
    return res


def fit_file_traces(path, *, columns=None, pattern=None,
                    **kwargs) -> list[tuple[Trace | None, TraceResult]]:
    """Read a file and fit each of its traces: ``[(trace, result), ...]``.

    An unreadable file gives one ``(None, failed result)`` naming the file.  Each result's
    ``values`` hold the CPU seconds of its phases: ``cpu_read_s`` (the file's read, shared
    among its traces), ``cpu_start_s`` (circle start), ``cpu_lsq_s`` (least squares and
    quality), and ``cpu_seconds`` (start to summaries, sampling included).
    """
    cpu0 = time.process_time()
    try:
        traces = read_trace(path, columns=columns, pattern=pattern)
    except DataError as exc:
        power, temp = math.nan, math.nan
        return [(None, TraceResult(str(path), power, temp, quality.FAILED, str(exc)))]
    read_s = (time.process_time() - cpu0) / len(traces)
    out = [(t, fit_trace(t, **kwargs)) for t in traces]
    for _, r in out:
        r.values["cpu_read_s"] = read_s
    return out


def fit_file(path, *, columns=None, pattern=None, **kwargs) -> list[TraceResult]:
    """Read a file and fit each of its traces; an unreadable file gives one failed result."""
    return [r for _, r in fit_file_traces(path, columns=columns, pattern=pattern, **kwargs)]
