"""``tlsbayes bench --s21``: raw S21 traces to posteriors, timed, beside the usual point estimate.

Two measurements, each side by side with the circle fit plus least squares of resonator_tools
(Probst et al. 2015; :mod:`tlsbayes.s21.baseline`) on the same traces:

1. **One trace** (:func:`single_trace`): a simulated 1001-point notch trace with delay,
   mismatch and an amplitude slope, written as a text file and taken through every phase of
   ``tlsbayes s21`` in this process: read, circle start, least squares + quality, sampling to
   the convergence gate, the NetCDF write and the figure.  CPU seconds
   (``time.process_time``, one core) per phase, median over repeats (seeds), and the wall time
   of a cold ``tlsbayes s21 FILE --no-plots`` process (interpreter, imports, numba cache load,
   fit, write) for the whole story.
2. **A folder** (:func:`folder_run`; default the 582 Ta traces of the shared real data):
   ``tlsbayes s21`` on ``workers`` processes with figures, wall time, the machine's load
   average while it ran, the CPU of every phase summed over traces (from the ``cpu_*``
   columns of ``traces.csv``), status counts; then the baseline on the same traces in this
   process, its CPU, and the agreement of Q_i: percentiles of ``Q_i,ours/Q_i,baseline - 1``
   over the traces that both call good, and the fraction inside our 16-84 % interval.

Timings on a shared machine move with its load; the load average is printed beside them.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from .s21 import baseline, fit, readers
from .s21.run import run_s21, write_posterior
from .s21.simulate import simulate_trace, theta_from_q

__all__ = ["single_trace", "folder_run", "default_folder", "main_s21"]

PCTS = (5, 16, 50, 84, 95)
#: The simulated trace of :func:`single_trace`: a Ta-like hanger resonator at 5.7 GHz.
SIM = dict(f_r=5.7e9, Qi=8e5, Qc_abs=3e5, phi=0.25, a=0.05, a1=2e-10, alpha=1.1, tau=6e-8)
SIM_LINEWIDTHS = 12.0
SIM_SNR = 60.0  # circle diameter over the noise per quadrature


def default_folder() -> Path:
    """The Ta traces of the shared real data (``$TLSBAYES_REAL_DATA/s21/ta_grainsize``)."""
    from .io.tables import real_data_dir

    return real_data_dir() / "s21" / "ta_grainsize"


def _write_sim_trace(folder: Path, n_points: int, seed: int) -> tuple[Path, dict]:
    p = dict(SIM)
    ql = 1.0 / (1.0 / p["Qi"] + np.cos(p["phi"]) / p["Qc_abs"])
    half = 0.5 * SIM_LINEWIDTHS * p["f_r"] / ql
    f = np.linspace(p["f_r"] - half, p["f_r"] + half, n_points)
    theta = theta_from_q(**p)
    sigma = p["a"] * ql / p["Qc_abs"] / SIM_SNR
    z = simulate_trace(f, theta, sigma, np.random.default_rng(seed))
    path = folder / "sim_-40dB_10mK.csv"
    np.savetxt(path, np.column_stack([f, 20 * np.log10(np.abs(z)), np.degrees(np.angle(z))]),
               delimiter=",")
    return path, p


def _cold_process(path: Path, out: Path) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of a fresh ``tlsbayes s21 FILE`` process."""
    cmd = [sys.executable, "-c", "import sys; from tlsbayes.cli import main; sys.exit(main())",
           "s21", str(path), "--out", str(out), "--quiet", "--no-plots"]
    cpu0 = _children_cpu()
    t0 = time.perf_counter()
    subprocess.run(cmd, check=False, capture_output=True)
    return time.perf_counter() - t0, _children_cpu() - cpu0


def single_trace(n_points: int = 1001, repeats: int = 5, cold: bool = True,
                 print_fn=print) -> dict:
    """Time one simulated trace through every phase (module docstring, 1).

    Parameters
    ----------
    n_points : int
    repeats : int
        Fits with seeds 0..repeats-1; medians are reported.
    cold : bool
        Also time a fresh ``tlsbayes s21`` process on the file.
    print_fn : callable

    Returns
    -------
    dict
        Median CPU seconds per phase (``read``, ``start``, ``lsq``, ``sample``, ``write``,
        ``figure``, ``total_to_posterior`` = read to write), the baseline's CPU, the truth and
        both Q_i, and ``cold_process_s``/``cold_process_cpu_s`` (wall and CPU).
    """
    from .s21.figures import plot_trace_fit

    phases = {k: [] for k in ("read", "start", "lsq", "sample", "write", "figure", "baseline")}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        path, truth = _write_sim_trace(tmp, n_points, seed=1)
        fit.fit_trace(readers.read_trace(path)[0], seed=0)  # numba and imports warm
        for seed in range(repeats):
            c0 = time.process_time()
            (trace,) = readers.read_trace(path)
            phases["read"].append(time.process_time() - c0)
            res = fit.fit_trace(trace, seed=seed)
            v = res.values
            phases["start"].append(v["cpu_start_s"])
            phases["lsq"].append(v["cpu_lsq_s"])
            phases["sample"].append(v["cpu_seconds"] - v["cpu_start_s"] - v["cpu_lsq_s"])
            c0 = time.process_time()
            write_posterior(tmp / "post.nc", res, res.row(), source=str(path), sha256="",
                            options="{}", n_traces=1)
            phases["write"].append(time.process_time() - c0)
            c0 = time.process_time()
            plot_trace_fit(trace, res, tmp / "fig.png")
            phases["figure"].append(time.process_time() - c0)
            c0 = time.process_time()
            base = baseline.circle_lsq_fit(trace.f, trace.z)
            phases["baseline"].append(time.process_time() - c0)
        cold_s, cold_cpu = _cold_process(path, tmp / "cold") if cold else (np.nan, np.nan)
    med = {key: statistics.median(v) for key, v in phases.items()}
    med["total_to_posterior"] = sum(med[key] for key in ("read", "start", "lsq", "sample",
                                                         "write"))
    out = {"n_points": n_points, "repeats": repeats, "cpu_s": med, "cold_process_s": cold_s,
           "cold_process_cpu_s": cold_cpu,
           "steps": v.get("steps"), "converged": v.get("converged"),
           "Qi_truth": truth["Qi"], "Qi_ours": v["Qi"], "Qi_q16": v["Qi_q16"],
           "Qi_q84": v["Qi_q84"], "Qi_baseline": base.Qi, "Qi_baseline_err": base.Qi_err,
           "loadavg_1min": os.getloadavg()[0]}
    _print_single(out, print_fn)
    return out


def _print_single(r: dict, print_fn) -> None:
    c = r["cpu_s"]
    print_fn(f"one simulated {r['n_points']}-point trace, CPU seconds on one core "
             f"(median of {r['repeats']}; load average {r['loadavg_1min']:.1f})")
    print_fn("  " + "  ".join(f"{key} {c[key]:.3f}" for key in
                              ("read", "start", "lsq", "sample", "write", "figure")))
    print_fn(f"  read -> converged posterior -> NetCDF: {c['total_to_posterior']:.3f} s "
             f"({r['steps']} steps, converged {r['converged']}); target <= 1 s")
    print_fn(f"  cold process 'tlsbayes s21 FILE --no-plots': {r['cold_process_s']:.2f} s wall, "
             f"{r['cold_process_cpu_s']:.2f} s CPU (interpreter, imports, numba cache, fit)")
    print_fn(f"  baseline (circle fit + least squares): {c['baseline']:.3f} s "
             f"= {c['baseline'] / c['total_to_posterior']:.2f} x ours")
    print_fn(f"  Qi: truth {r['Qi_truth']:.4g}; ours {r['Qi_ours']:.4g} "
             f"[{r['Qi_q16']:.4g}, {r['Qi_q84']:.4g}]; baseline {r['Qi_baseline']:.4g} "
             f"+- {r['Qi_baseline_err']:.2g} (no amplitude slope in its environment)")


class _LoadSampler:
    """The 1-minute load average, sampled every few seconds in a thread."""

    def __init__(self, every_s: float = 5.0):
        self.values = [os.getloadavg()[0]]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, args=(every_s,), daemon=True)

    def _loop(self, every_s):
        while not self._stop.wait(every_s):
            self.values.append(os.getloadavg()[0])

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.values.append(os.getloadavg()[0])


def _children_cpu() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _baseline_on(table) -> tuple[dict, float, int]:
    """Baseline Q_i of every (file, trace) of ``table``, and its total CPU seconds."""
    out, cpu, n = {}, 0.0, 0
    for path in sorted(set(table["file"])):
        try:
            traces = readers.read_trace(path)
        except Exception:  # the table already holds this file's failure
            continue
        for i, tr in enumerate(traces):
            c0 = time.process_time()
            out[(path, i)] = baseline.circle_lsq_fit(tr.f, tr.z)
            cpu += time.process_time() - c0
            n += 1
    return out, cpu, n


def _agreement(table, base: dict) -> dict:
    ratio, inside = [], 0
    for row in table.itertuples(index=False):
        b = base.get((row.file, int(row.trace)))
        if row.status != "ok" or b is None or not b.success or not (b.Qi > 0):
            continue
        if not np.isfinite(b.Qi):
            continue
        ratio.append(row.Qi / b.Qi - 1.0)
        inside += bool(row.Qi_q16 <= b.Qi <= row.Qi_q84)
    ratio = np.asarray(ratio)
    return {"n": int(ratio.size),
            "ratio_minus_1_percentiles": dict(zip(map(str, PCTS), np.percentile(
                ratio, PCTS).round(5).tolist())) if ratio.size else {},
            "baseline_inside_our_16_84": inside / max(ratio.size, 1)}


def folder_run(paths, *, workers: int = 2, out=None, plots: bool = True,
               print_fn=print) -> dict:
    """``tlsbayes s21`` on ``paths`` with ``workers``, then the baseline (module docstring, 2).

    Parameters
    ----------
    paths : sequence of path-like
    workers : int
    out : path-like, optional
        Output directory of the run (kept); default a temporary one.  It must not hold an
        earlier run of the same traces, or those are reused and not timed.
    plots : bool
    print_fn : callable

    Returns
    -------
    dict
    """
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(out) if out is not None else Path(tmp) / "run"
        cpu_children0, cpu_self0 = _children_cpu(), time.process_time()
        with _LoadSampler() as load:
            t0 = time.perf_counter()
            res = run_s21(paths, out, workers=workers, progress=False, plots=plots)
            wall = time.perf_counter() - t0
        cpu_total = _children_cpu() - cpu_children0 + time.process_time() - cpu_self0
        table = res.table
    sums = {name: float(table[col].fillna(0).sum()) if col in table else 0.0
            for name, col in (("read", "cpu_read_s"), ("start", "cpu_start_s"),
                              ("lsq", "cpu_lsq_s"), ("fit", "cpu_seconds"),
                              ("figure", "cpu_figure_s"))}
    sums["sample"] = sums.pop("fit") - sums["start"] - sums["lsq"]
    sums["write_and_overhead"] = cpu_total - sum(sums.values())
    base, base_cpu, n_base = _baseline_on(table)
    counts = table["status"].value_counts().to_dict()
    r = {"traces": len(table), "fitted_files": res.fitted, "reused_files": res.reused,
         "workers": workers, "wall_s": wall, "cpu_total_s": cpu_total, "cpu_phase_s": sums,
         "loadavg_mean": float(np.mean(load.values)), "loadavg_max": float(np.max(load.values)),
         "status": {s: int(counts.get(s, 0)) for s in ("ok", "flagged", "failed")},
         "baseline_cpu_s": base_cpu, "baseline_traces": n_base,
         "agreement": _agreement(table, base)}
    _print_folder(r, print_fn)
    return r


def _print_folder(r: dict, print_fn) -> None:
    print_fn(f"tlsbayes s21 on {r['traces']} traces, {r['workers']} workers, figures: "
             f"{r['wall_s']:.1f} s wall (load average mean {r['loadavg_mean']:.1f}, max "
             f"{r['loadavg_max']:.1f}); {r['fitted_files']} files fitted, "
             f"{r['reused_files']} reused")
    s = r["status"]
    print_fn(f"  status: {s['ok']} ok, {s['flagged']} flagged, {s['failed']} failed")
    print_fn(f"  CPU {r['cpu_total_s']:.1f} s: " + ", ".join(
        f"{key} {v:.1f}" for key, v in r["cpu_phase_s"].items()))
    n = max(r["traces"], 1)
    print_fn(f"  per trace: {r['cpu_total_s'] / n:.3f} s CPU; baseline (circle fit + least "
             f"squares, one core) {r['baseline_cpu_s'] / max(r['baseline_traces'], 1):.3f} s")
    a = r["agreement"]
    pct = ", ".join(f"{k}%: {v:+.2%}" for k, v in a["ratio_minus_1_percentiles"].items())
    print_fn(f"  Qi_ours/Qi_baseline - 1 over {a['n']} traces ok here: {pct}; baseline inside "
             f"our 16-84 %: {a['baseline_inside_our_16_84']:.1%}")


def main_s21(paths=None, *, workers: int = 2, out=None, quick: bool = False,
             json_path=None, print_fn=print) -> dict:
    """The ``--s21`` section of ``tlsbayes bench``: :func:`single_trace`, then
    :func:`folder_run` on ``paths`` (default :func:`default_folder`, skipped with a note when
    absent, or when ``quick``); the figures also as JSON in ``json_path`` if given."""
    result = {"single": single_trace(repeats=3 if quick else 5, cold=not quick,
                                     print_fn=print_fn)}
    paths = [Path(p) for p in paths] if paths else [default_folder()]
    missing = [p for p in paths if not p.exists()]
    if missing and not quick:
        print_fn(f"no traces at '{missing[0]}' (set TLSBAYES_REAL_DATA); folder run skipped")
    elif not quick:
        print_fn()
        result["folder"] = folder_run(paths, workers=workers, out=out, print_fn=print_fn)
    if json_path is not None:
        import json

        from .atomic import atomic_write_text

        atomic_write_text(json_path, json.dumps(result, indent=1, default=float))
    return result
