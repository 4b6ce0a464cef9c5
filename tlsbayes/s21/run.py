"""``tlsbayes s21 PATH... --out DIR``: a folder of raw traces to a table of per-trace posteriors.

Output directory
----------------
``DIR/traces.csv``
    One row per trace, columns :data:`FIRST_COLUMNS` first (``file, trace, power_dBm,
    temperature_K, f_res_Hz, Qi, Qi_q16, Qi_q84, Qc, Ql, status, reason``), then the other
    summaries of :class:`tlsbayes.s21.fit.TraceResult` (16/84 % quantiles, least-squares values,
    noise levels, sampler diagnostics).  Medians and quantiles as in :mod:`tlsbayes.s21.fit`.
    Written atomically, once at the end.
``DIR/posteriors/<name>-<hash>_t<k>.nc``
    The posterior of trace ``k`` of a file (NetCDF, one per trace): the post-burn-in draws of
    every sampled parameter (sampling coordinates, dimension ``draw``) and of the derived
    ``f_res_Hz``, ``Qi``, ``Qc``, ``Ql``, ``Qc_abs``; no draws for a trace that was not sampled
    (failed).  Attributes: ``row`` (the table row, JSON), ``source_sha256`` (of the trace
    file), ``options`` (JSON of the fit options), ``n_traces`` (traces in the file).  Written
    atomically by the worker that fitted the trace, so a killed run keeps every finished file.
``DIR/figures/<name>-<hash>_t<k>.png``
    Unless ``plots=False``: each sampled trace's circle, |S21| and phase with the posterior band,
    and residuals (:func:`tlsbayes.s21.figures.plot_trace_fit`).
``DIR/overview.html``, ``DIR/overview.png``
    One page over the run (:mod:`tlsbayes.s21.overview`): Q_i vs power per temperature,
    f_res vs temperature, status counts, the flagged and failed traces with their reasons
    and thumbnails; the PNG (and the thumbnails) only with ``plots``.

Resuming
--------
A file is skipped when the NetCDF of each of its traces exists and its ``source_sha256`` and
``options`` equal those of this run; its rows are then read back from the NetCDF attributes.
A changed file or changed options refit it.

Parallel runs
-------------
One task per file, on local processes (``workers`` > 1, :func:`tlsbayes.engines.local_executor`)
or a Dask scheduler (:func:`tlsbayes.engines.dask_executor`), the engines of ``tlsbayes batch``.
Every trace is fitted with the same seed, so the result does not depend on the order or the
number of workers.

Exit status (:attr:`S21Run.exit_status`): 0 when no trace failed, 4 when some did (their
``status`` and ``reason`` are in the table).  Paths that do not exist, folders without trace
files and a bad ``pattern`` raise :class:`~tlsbayes.errors.DataError` before anything is fitted.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
import math
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from ..atomic import atomic_output
from ..errors import DataError
from ..io.traces import POSTERIOR_COLUMN, TRACES_TABLE
from ..physics import s21 as k
from .fit import TraceResult, fit_file_traces
from .quality import FAILED
from .readers import COLUMN_KINDS, find_trace_files

__all__ = ["FIRST_COLUMNS", "S21Run", "run_s21", "posterior_path", "figure_path",
           "write_posterior"]

#: Leading columns of ``traces.csv`` (the issue's minimum set, plus the trace index).
FIRST_COLUMNS = ("file", "trace", "power_dBm", "temperature_K", "f_res_Hz", "Qi", "Qi_q16",
                 "Qi_q84", "Qc", "Ql", "status", "reason")
EXIT_OK, EXIT_FAILED = 0, 4
_DERIVED = (("f_res_Hz", "f_r"), ("Qi", "Qi"), ("Qc", "Qc"), ("Ql", "Ql"), ("Qc_abs", "Qc_abs"))


@dataclass(frozen=True)
class _Task:
    """One file to fit (picklable: it travels to worker processes)."""

    path: str
    stem: str
    sha256: str
    options: str  # JSON of the keyword arguments of fit_file_traces
    plots: bool = True


@dataclass(frozen=True, eq=False)
class S21Run:
    """What :func:`run_s21` did.

    Attributes
    ----------
    table : pandas.DataFrame
        The rows of ``traces.csv``.
    out : Path
        The output directory.
    fitted, reused : int
        Files fitted in this run and files taken over from an earlier run.
    skipped : list of Path
        Text files in the folders without a power in their name (not traces).
    """

    table: pd.DataFrame
    out: Path
    fitted: int
    reused: int
    skipped: list

    def summary_lines(self) -> list[str]:
        """What ``tlsbayes s21`` prints: files skipped (if any), then the status counts."""
        lines = []
        if self.skipped:
            n = len(self.skipped)
            lines.append(f"skipped {n} file{'s' if n > 1 else ''} without a power in "
                         f"{'their names' if n > 1 else 'its name'} (not traces), e.g. "
                         f"'{self.skipped[0]}'")
        counts = self.table["status"].value_counts() if len(self.table) else {}
        lines.append(f"{len(self.table)} traces ({self.fitted} files fitted, {self.reused} "
                     "reused): " + ", ".join(f"{counts.get(s, 0)} {s}" for s in
                                             ("ok", "flagged", "failed"))
                     + f" -> {self.out / TRACES_TABLE}")
        return lines

    @property
    def exit_status(self) -> int:
        failed = (self.table["status"] == FAILED).any() if len(self.table) else False
        return EXIT_FAILED if failed else EXIT_OK


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _stem(path: Path) -> str:
    """File-system-safe, unique name of a trace file's outputs (name + hash of its path)."""
    safe = re.sub(r"[^A-Za-z0-9_.+-]", "_", path.stem)[:80]
    return f"{safe}-{hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:8]}"


def posterior_path(out, stem: str, index: int) -> Path:
    """NetCDF file of trace ``index`` of the file with output name ``stem``."""
    return Path(out) / "posteriors" / f"{stem}_t{index}.nc"


def _relative_posterior(stem: str, index: int) -> str:
    """The ``posterior`` cell of a row: its NetCDF relative to the output folder."""
    return posterior_path(".", stem, index).as_posix().removeprefix("./")


def figure_path(out, stem: str, index: int) -> Path:
    """Figure of trace ``index`` of the file with output name ``stem``."""
    return Path(out) / "figures" / f"{stem}_t{index}.png"


def _jsonable(value):
    if isinstance(value, (np.floating, float)):
        return None if math.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def write_posterior(path: Path, res: TraceResult, row: dict, *, source: str, sha256: str,
                    options: str, n_traces: int) -> None:
    """Write one trace's posterior NetCDF atomically (layout in the module docstring).

    Parameters
    ----------
    path : Path
    res : TraceResult
    row : dict
        The table row (stored as the JSON attribute ``row``).
    source, sha256, options : str
        Trace file, its sha256 and the JSON of the fit options (the resume key).
    n_traces : int
        Traces in the file.
    """
    import xarray as xr

    data = {}
    if res.samples is not None:
        code = k.geometry_code(res.values.get("geometry", "notch"))
        for i, name in enumerate(res.names):
            data[name] = ("draw", res.samples[:, i])
        derived = k.derived_q(res.samples[:, : k.NPARAMS], code)
        for name, key in _DERIVED:
            data[name] = ("draw", np.asarray(derived[key], dtype=float))
    ds = xr.Dataset(data, attrs={
        "row": json.dumps({key: _jsonable(v) for key, v in row.items()}),
        "source_sha256": sha256, "options": options, "n_traces": n_traces,
        "file": source})
    # Built in memory, written by Python: libhdf5 crashes on a full disk (tlsbayes.atomic).
    image = bytes(ds.to_netcdf())
    with atomic_output(path) as tmp:
        tmp.write_bytes(image)


def _fit_task(task: _Task, out: str) -> list[dict]:
    """Worker: fit every trace of one file, write their NetCDFs, return their rows."""
    results = fit_file_traces(task.path, **json.loads(task.options))
    rows = []
    for i, (trace, res) in enumerate(results):
        if task.plots and trace is not None and res.samples is not None:
            from .figures import plot_trace_fit

            cpu0 = time.process_time()
            with atomic_output(figure_path(out, task.stem, i)) as tmp:
                plot_trace_fit(trace, res, tmp)
            res.values["cpu_figure_s"] = time.process_time() - cpu0
        row = {"trace": i, **res.row(), POSTERIOR_COLUMN: _relative_posterior(task.stem, i)}
        write_posterior(posterior_path(out, task.stem, i), res, row, source=task.path,
                        sha256=task.sha256, options=task.options, n_traces=len(results))
        rows.append(row)
    return rows


def _reuse(task: _Task, out: Path) -> list[dict] | None:
    """Rows of a file fitted earlier with the same content and options, else None."""
    import xarray as xr

    rows, i, n = [], 0, 1
    while i < n:
        path = posterior_path(out, task.stem, i)
        if not path.is_file():
            return None
        try:
            with xr.open_dataset(path) as ds:
                attrs = dict(ds.attrs)
        except Exception:  # a damaged file is refitted, never trusted
            return None
        if attrs.get("source_sha256") != task.sha256 or attrs.get("options") != task.options:
            return None
        n = int(attrs["n_traces"])
        row = json.loads(attrs["row"])
        row.setdefault(POSTERIOR_COLUMN, _relative_posterior(task.stem, i))
        rows.append(row)
        i += 1
    return rows


def _table(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    for col in FIRST_COLUMNS:
        if col not in df:
            df[col] = np.nan
    rest = [c for c in df.columns if c not in FIRST_COLUMNS]
    df = df[list(FIRST_COLUMNS) + rest]
    return df.sort_values(["file", "trace"], kind="stable").reset_index(drop=True)


def _execute(tasks, out: Path, workers: int, executor, progress: bool) -> list[dict]:
    rows: list[dict] = []
    bar = tqdm(total=len(tasks), unit="file", desc="s21", disable=not progress,
               dynamic_ncols=True)
    try:
        if executor is None and workers <= 1:
            for t in tasks:
                rows.extend(_fit_task(t, str(out)))
                bar.update()
            return rows
        own = None
        if executor is None:
            from ..engines import local_executor

            executor = own = local_executor(workers)
        try:
            futures = [executor.submit(_fit_task, t, str(out)) for t in tasks]
            for fut in cf.as_completed(futures):
                rows.extend(fut.result())
                bar.update()
        finally:
            if own is not None:
                own.shutdown(cancel_futures=True)
        return rows
    finally:
        bar.close()


def run_s21(paths, out, *, workers: int = 1, executor=None, scheduler: str | None = None,
            columns: str | None = None,
            pattern: str | None = None, geometry: str | None = None,
            noise: str = "estimate", seed: int = 0, progress: bool = True,
            plots: bool = True) -> S21Run:
    """Fit every trace under ``paths`` and write ``out`` (module docstring).

    Parameters
    ----------
    paths : sequence of path-like
        Trace files and folders (searched recursively, see
        :func:`tlsbayes.s21.readers.find_trace_files`).
    out : path-like
        Output directory (created).
    workers : int
        Local worker processes (1: in this process).
    executor : concurrent.futures.Executor, optional
        Another engine, used instead of local processes and left open.
    scheduler : str, optional
        Address of a Dask distributed scheduler to run the files on (instead of ``workers``).
    columns, pattern
        Column layout of text files and file-name pattern (:mod:`tlsbayes.s21.readers`).
    geometry : {"notch", "inverse", "reflection"}, optional
        Default: each trace's own.
    noise : {"estimate", "free"}
        Noise level of the likelihood (:class:`tlsbayes.s21.trace.TracePosterior`).
    seed : int
        Seed of every trace's sampler.
    progress : bool
        Progress bar (files) on stderr.
    plots : bool
        One figure per sampled trace in ``out/figures`` (files fitted in this run).

    Returns
    -------
    S21Run

    Raises
    ------
    DataError
        Bad ``paths``, ``columns``, ``pattern`` or ``workers`` (one line naming it).
    """
    if columns is not None and columns not in COLUMN_KINDS:
        raise DataError(f"--columns {columns!r}: choose one of {', '.join(COLUMN_KINDS)}")
    if geometry is not None:
        try:
            k.geometry_code(geometry)
        except (KeyError, ValueError) as exc:
            raise DataError(f"--geometry {geometry!r}: {exc}") from None
    if int(workers) < 1:
        raise DataError(f"--workers {workers}: must be at least 1")
    files, skipped = find_trace_files(paths, pattern)
    out = Path(out)
    (out / "posteriors").mkdir(parents=True, exist_ok=True)
    if plots:
        (out / "figures").mkdir(exist_ok=True)
    options = json.dumps({"columns": columns, "pattern": pattern, "geometry": geometry,
                          "noise": noise, "seed": int(seed)}, sort_keys=True)
    rows, todo = [], []
    for f in files:
        task = _Task(str(f), _stem(f), _sha256(f), options, bool(plots))
        old = _reuse(task, out)
        if old is None:
            todo.append(task)
        else:
            rows.extend(old)
    reused = len(files) - len(todo)
    client = None
    if scheduler is not None and executor is None and todo:
        from ..engines import dask_executor

        executor, client = dask_executor(scheduler)
    try:
        rows.extend(_execute(todo, out, int(workers), executor, progress))
    finally:
        if client is not None:
            client.close()
    table = _table(rows)
    with atomic_output(out / TRACES_TABLE) as tmp:
        table.to_csv(tmp, index=False)
    _overview(table, out, png=plots)
    return S21Run(table, out, len(todo), reused, skipped)


def _overview(table: pd.DataFrame, out: Path, png: bool) -> None:
    from .overview import write_overview

    figure_of = {}
    for file, trace in zip(table["file"], table["trace"]):
        fig = figure_path(out, _stem(Path(str(file))), int(trace))
        if fig.is_file():
            figure_of[(str(file), int(trace))] = str(fig.relative_to(out))
    write_overview(table, out, figure_of, png=png)


def fit_card_traces(card, *, progress: bool = True, print_fn=print) -> list:
    """Run :func:`run_s21` on every raw trace folder a card names as data.

    A ``trace_posterior`` data set whose ``file`` is a folder of raw traces (no
    ``traces.csv``) is fitted into :func:`tlsbayes.io.s21_cache_dir` of that folder; a rerun
    reuses every trace fitted before (same files, same options), so this is cheap once done.

    Returns
    -------
    list of S21Run
        One per raw folder fitted or checked.
    """
    from ..io import is_raw_trace_folder, s21_cache_dir

    runs = []
    for spec in card.datasets:
        if spec.likelihood != "trace_posterior" or not is_raw_trace_folder(spec.path):
            continue
        out = s21_cache_dir(spec.path)
        res = run_s21([spec.path], out, progress=progress, plots=False)
        counts = res.table["status"].value_counts()
        print_fn(f"s21: {spec.path}: {len(res.table)} traces ({res.fitted} files fitted, "
                 f"{res.reused} reused): " + ", ".join(
                     f"{counts.get(s, 0)} {s}" for s in ("ok", "flagged", "failed"))
                 + f" -> {out / TRACES_TABLE}")
        runs.append(res)
    return runs
