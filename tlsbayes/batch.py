"""Batch fits: one card, one data table, one fit per group of rows (resonator, film, cooldown...).

    tlsbayes batch CARD [--data CSV] --group-by COLUMN [--workers N | --scheduler ADDR | --mpi]
                   --out DIR

Every distinct value of ``COLUMN`` is one group.  Each group is fitted with the card's model,
priors, likelihood, filter, window and sampler settings (the card's own ``group`` is replaced
by this one), in its own run directory ``DIR/runs/<group>/``, which is a normal run directory
(``tlsbayes resume`` and ``tlsbayes report`` work on it).  ``DIR/index.csv`` holds one row per
group, see :data:`INDEX_COLUMNS`.

Engines
-------
The fits go through a :class:`concurrent.futures.Executor`, so the engine is a choice:

* local processes (default): :class:`~concurrent.futures.ProcessPoolExecutor` with ``--workers N``
  (default: the number of CPUs, at most the number of groups), started with ``spawn``.
  On Linux a worker dies with the batch process (``PR_SET_PDEATHSIG``), so killing the batch
  leaves no orphan still writing into ``DIR``;
* Dask distributed: ``--scheduler tcp://host:8786`` (``pip install 'tlsbayes[dask]'``); the
  workers need tlsbayes installed and must see ``DIR``, the card and the data at the same
  paths (a shared file system);
* MPI: ``--mpi`` uses :class:`mpi4py.futures.MPIPoolExecutor` (``pip install mpi4py``), e.g.
  ``mpiexec -n 1 tlsbayes batch ... --mpi --workers 8`` (spawned workers) or
  ``mpiexec -n 9 python -m mpi4py.futures -m tlsbayes.cli batch ... --mpi``.

Guarantees
----------
* **Independent groups.**  An error in one group (bad data, a failed MAP, a crash of its worker
  process) is recorded in its row (``status = failed``, ``error``) and printed; the other
  groups go on.  If a local worker process dies, the pool is restarted and the unfinished
  groups run again; groups still hit by a dying worker are then retried one at a time, so only
  the group that kills its worker is reported failed.
* **Same results whatever the engine or worker count.**  Each group's seed is derived from the
  card's seed (or ``--seed``) and the group's name only (:func:`group_seed`), never from its
  position or from which worker ran it.
* **Idempotent.**  A group whose run directory is finished (``run.json`` marks it finished and
  ``posterior.nc`` loads) with the same card, data, group and settings is skipped; an
  interrupted one continues from its ``checkpoint.h5`` (losing at most one checkpoint interval,
  ``chunk`` steps); a finished one whose ``max_steps`` was raised continues sampling.  A run
  directory holding a fit of another card, data or seed is never overwritten: that group
  fails with the reason.
* **Atomic files.**  ``index.csv`` is rewritten atomically after every finished group (groups
  still running are listed as ``pending``); every file of a run directory is written atomically
  (:mod:`tlsbayes.atomic`).  Temporaries a kill left in a run directory are removed when the
  group runs again.  One batch at a time per ``DIR`` (a lock file, ``DIR/.batch.lock``).

Exit status of the command: 0 when every group converged; 3 when some did not converge (and
none failed), 0 with ``--allow-unconverged``; 4 when at least one group failed; 2 on bad input
(card, data file, group column, engine options).
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import csv
import dataclasses
import datetime as _dt
import hashlib
import io
import json
import math
import re
import time
from dataclasses import dataclass
from pathlib import Path

from . import rundir
from .engines import dask_executor, mpi_executor, run_tasks
from .errors import BatchError, TLSBayesError, one_line
from .rundir import CHECKPOINT_FILE, POSTERIOR_FILE, RUN_JSON, card_for_group

__all__ = [
    "INDEX_FILE",
    "INDEX_COLUMNS",
    "GroupPlan",
    "BatchResult",
    "batch_card",
    "group_seed",
    "run_dir_name",
    "plan_groups",
    "fit_group",
    "run_batch",
]

INDEX_FILE = "index.csv"
RUNS_DIR = "runs"
#: Columns of index.csv; ``<param>_median``, ``<param>_q16``, ``<param>_q84`` (physical units,
#: quantiles over all posterior draws) follow ``steps`` for every free parameter.
INDEX_COLUMNS = ("group", "n_rows", "n_points", "status", "converged", "max_rhat", "min_ess",
                 "steps", "unidentified", "misfit", "run_dir", "error")
CONVERGED, NOT_CONVERGED, FAILED, PENDING = "converged", "not_converged", "failed", "pending"
# Settings that may change between reruns without making a finished run another fit.
_RESUMABLE_SETTINGS = ("max_steps", "progress")


# --------------------------------------------------------------------------------------------
# groups
# --------------------------------------------------------------------------------------------
def group_seed(seed: int, group: str) -> int:
    """Seed of one group's fit: a function of the batch seed and the group name only.

    The first 4 bytes of SHA-256(``"<seed>/<group>"``), so results never depend on the order
    of the groups, on the worker count or on which worker fitted a group.
    """
    digest = hashlib.sha256(f"{int(seed)}/{group}".encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "little")


#: Longest group name used as it is for a directory name (file systems allow 255 bytes).
MAX_RUN_DIR_NAME = 64


def run_dir_name(group: str) -> str:
    """Directory name of a group: the name itself if it is a safe file name of at most
    :data:`MAX_RUN_DIR_NAME` characters, otherwise the name with unsafe characters replaced,
    cut to that length, plus 8 hex digits of its hash (two groups never share a directory)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", group).strip("._") or "group"
    if safe != group or len(safe) > MAX_RUN_DIR_NAME:
        safe = (safe[:MAX_RUN_DIR_NAME].rstrip("._") or "group") + "-" + \
            hashlib.sha256(group.encode("utf-8")).hexdigest()[:8]
    return safe


@dataclass(frozen=True)
class GroupPlan:
    """One group as planned by :func:`plan_groups`.

    Attributes
    ----------
    group : str
        The cell text identifying the group.
    n_rows : int
        Rows of the table in the group (before filter and window).
    run_dir : str
        Run directory relative to the batch directory (``runs/<name>``).
    n_points : int or None
        Points the fit uses (after filter and window); None if the data are unusable.
    free_names : tuple of str
        Free parameters of the group's posterior (empty if unusable).
    data_info : list of dict
        Source, SHA-256 and rows used of the data (for run.json).
    error : str
        Why the group cannot be fitted ("" if it can).
    """

    group: str
    n_rows: int
    run_dir: str
    n_points: int | None = None
    free_names: tuple = ()
    data_info: list = dataclasses.field(default_factory=list)
    error: str = ""


def plan_groups(card, group_by: str, data=None) -> list[GroupPlan]:
    """Split the data into groups and check that each group's posterior can be built.

    Parameters
    ----------
    card : tlsbayes.card.Card
        A card with one data set.
    group_by : str
        Column whose distinct values define the groups (order of first appearance).
    data : path-like, optional
        Table replacing the card's data file.

    Raises
    ------
    CardError, DataError
        The card has several data sets or its own group selects another column, the table is
        unreadable, or it has no column ``group_by``.  A problem of one group's data (e.g.
        too few rows after the filter) is not raised: it is in that group's ``error``.
    """
    from . import card as tcard
    from . import io as tio

    card_for_group(card, group_by, "")  # validates the card's shape before reading data
    path = Path(data) if data is not None else card.datasets[0].path
    table = tio.read_table(path)
    counts = tio.groups(table, group_by)
    plans = []
    for group, n_rows in counts.items():
        run_dir = f"{RUNS_DIR}/{run_dir_name(group)}"
        try:
            posterior, loaded = tcard.build_posterior(card_for_group(card, group_by, group),
                                                      data_override=data)
        except TLSBayesError as exc:
            plans.append(GroupPlan(group, n_rows, run_dir, error=one_line(exc)))
            continue
        plans.append(GroupPlan(
            group, n_rows, run_dir, n_points=sum(ds.n for ds in posterior.datasets),
            free_names=tuple(posterior.free_names),
            data_info=[{"source": str(d.source), "sha256": d.sha256,
                        "rows_used": d.n_rows_used} for d in loaded]))
    return plans


# --------------------------------------------------------------------------------------------
# one group (runs in a worker)
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Task:
    group: str
    column: str
    card_path: str
    card_text: str
    data: str | None
    out: str
    run_dir: str
    info: dict
    resume: bool
    plots: str | bool
    allow_outside_data: bool = False


def _quiet(*args, **kwargs) -> None:
    pass


def _posterior_row(idata) -> dict:
    """Index fields of a result: verdict, convergence figures, quantiles."""
    import numpy as np

    from . import results as R

    attrs = R.attrs_of(idata)
    extra = attrs.get("extra") or {}
    rhat = [float(v) for v in (extra.get("rhat") or {}).values()]
    ess = [float(v) for v in (extra.get("ess") or {}).values()]
    post = {}
    for name in idata.posterior.data_vars:
        draws = np.asarray(idata.posterior[name].values, dtype=float).ravel()
        post[name] = tuple(float(q) for q in np.quantile(draws, [0.5, 0.16, 0.84]))
    converged = attrs.get("converged") is True
    return {"status": CONVERGED if converged else NOT_CONVERGED, "converged": converged,
            "max_rhat": max(rhat) if rhat else math.nan,
            "min_ess": min(ess) if ess else math.nan,
            "steps": extra.get("steps"), "posterior": post}


def fit_group(task: _Task) -> dict:
    """Fit one group and write its run directory; never raises for a problem of the group.

    Returns the group's index row (``status = failed`` and ``error`` if it failed) plus
    ``seconds``, the wall time spent, and ``phases``, that of each phase of the fit
    (:attr:`tlsbayes.fit.FitResult.phases`).
    """
    t0 = time.perf_counter()
    row = {"group": task.group, "run_dir": task.run_dir}
    try:
        row.update(_fit_group(task))
    except Exception as exc:  # noqa: BLE001 - one group's failure must not stop the batch
        row.update(status=FAILED, error=one_line(exc))
    row["seconds"] = time.perf_counter() - t0
    return row


def _fit_group(task: _Task) -> dict:
    from . import card as tcard
    from .fit import run_fit
    from .sampling import SamplerSettings

    access = tcard.DataAccess(Path(task.card_path).parent, task.allow_outside_data)
    card = card_for_group(tcard.parse_card(task.card_text, Path(task.card_path), access=access),
                          task.column, task.group)
    posterior, _ = tcard.build_posterior(card, data_override=task.data)
    settings = SamplerSettings.from_dict(task.info["settings"])
    run_dir = Path(task.out) / task.run_dir
    run_dir.mkdir(parents=True, exist_ok=True)
    rundir.remove_temporaries(run_dir)
    info = dict(task.info)
    rundir.write_card_copy(run_dir, card.text)
    rundir.write_run_info(run_dir, info)
    result = run_fit(posterior, settings, run_dir, card_text=card.text, resume=task.resume,
                     plots=task.plots, print_fn=_quiet,
                     extra_attrs={"card_name": card.name, "card_path": str(card.path),
                                  "data_files": info["data"], "group": info["group"]})
    row = {**_posterior_row(result.idata), **rundir.verdict_cells(run_dir),
           "phases": result.phases}
    # Written last: it marks the run directory finished for reruns of the batch.
    info["finished"] = {"status": row["status"],
                        "utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
    rundir.write_run_info(run_dir, info)
    return row


# --------------------------------------------------------------------------------------------
# the batch
# --------------------------------------------------------------------------------------------
@dataclass
class BatchResult:
    """What :func:`run_batch` did.

    Attributes
    ----------
    rows : list of dict
        One per group, in group order (the rows of index.csv).
    index : Path
    exit_status : int
        0 all converged, 3 some not converged (none failed), 4 some failed.
    """

    rows: list
    index: Path
    exit_status: int

    def count(self, status: str) -> int:
        return sum(r["status"] == status for r in self.rows)


def _identity(info: dict) -> dict:
    """What makes two run.json describe the same fit (not max_steps: it may be raised)."""
    settings = {k: v for k, v in info.get("settings", {}).items()
                if k not in _RESUMABLE_SETTINGS}
    return {"card": info.get("card_sha256"), "data": [d.get("sha256") for d in
                                                       info.get("data", [])],
            "group": info.get("group"), "settings": settings}


def _state(run_dir: Path, info: dict) -> tuple[str, str, object]:
    """``(state, why, idata)``: state is done (idata: its result), resume, fresh or
    conflict (why: the reason)."""
    from . import results as R

    ck = (run_dir / CHECKPOINT_FILE).is_file()
    path = run_dir / RUN_JSON
    if not path.is_file():
        if ck:
            return "conflict", f"{run_dir} has a {CHECKPOINT_FILE} but no {RUN_JSON}", None
        return "fresh", "", None
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return "conflict", f"{path} is unreadable ({one_line(exc)})", None
    mine, theirs = _identity(info), _identity(old if isinstance(old, dict) else {})
    diff = [k for k in mine if mine[k] != theirs[k]]
    if diff:
        return "conflict", (f"{run_dir} holds another fit (its {', '.join(diff)} differ); "
                            "delete it or choose another --out"), None
    if old.get("finished") and old.get("settings") == info["settings"]:
        try:
            return "done", "", R.load(run_dir / POSTERIOR_FILE)
        except TLSBayesError:
            pass
    return ("resume" if ck else "fresh"), "", None


def _write_index(path: Path, rows: list, params: list) -> None:
    from .atomic import atomic_write_text

    k = INDEX_COLUMNS.index("steps") + 1
    cols = list(INDEX_COLUMNS[:k])
    for p in params:
        cols += [f"{p}_median", f"{p}_q16", f"{p}_q84"]
    cols += list(INDEX_COLUMNS[k:])
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for r in rows:
        cells = {k: r.get(k) for k in INDEX_COLUMNS}
        cells["converged"] = {True: "true", False: "false"}.get(r.get("converged"), "")
        for p in params:
            q = (r.get("posterior") or {}).get(p, (None, None, None))
            cells.update({f"{p}_median": q[0], f"{p}_q16": q[1], f"{p}_q84": q[2]})
        w.writerow(["" if cells[c] is None else
                    (repr(cells[c]) if isinstance(cells[c], float) else cells[c])
                    for c in cols])
    atomic_write_text(path, buf.getvalue())


def _progress_line(k: int, n: int, row: dict) -> str:
    where = f" -> {row['run_dir']}"
    if row["status"] == FAILED:
        return f"[{k}/{n}] {row['group']}: FAILED: {row.get('error', '')}"
    what = "converged" if row["status"] == CONVERGED else "NOT converged"
    if row.get("skipped"):
        return f"[{k}/{n}] {row['group']}: {what} (finished earlier, skipped){where}"
    return (f"[{k}/{n}] {row['group']}: {what} after {row.get('steps')} steps in "
            f"{row.get('seconds', math.nan):.1f} s, max R-hat {row['max_rhat']:.4f}, "
            f"min ESS {row['min_ess']:.0f}{where}")


def run_batch(card, group_by: str, out, *, settings, data=None, executor=None,
              workers: int | None = None, plots="all", print_fn=print,
              plans=None, task_fn=None) -> BatchResult:
    """Fit every group of the data; see the module docstring.

    Parameters
    ----------
    card : tlsbayes.card.Card
    group_by : str
        Column defining the groups.
    out : path-like
        Batch directory (created): ``index.csv`` and ``runs/<group>/``.
    settings : tlsbayes.sampling.SamplerSettings
        Sampler settings; each group gets ``seed = group_seed(settings.seed, group)`` and no
        progress bar.
    data : path-like, optional
        Table replacing the card's data file.
    executor : concurrent.futures.Executor, optional
        Engine (Dask's ``client.get_executor()``, ``MPIPoolExecutor``...), left open.  Default:
        local processes, ``workers`` of them (default: CPUs, at most the number of groups),
        restarted if a worker dies.
    plots : {"none", "fit", "all"} or bool
        Figures of each run (``tlsbayes.fit_report.PLOT_CHOICES``; True: all, False: none), drawn by
        :func:`plot_group` once the group's result is saved and queued behind the fits not
        yet started, so figures never hold up a fit; ``tlsbayes report`` draws skipped ones.
    print_fn : callable
        Receives one line per finished group.
    plans : list of GroupPlan, optional
        :func:`plan_groups` of the same card, column and data, if already computed.
    task_fn : callable, optional
        Replaces :func:`fit_group` (must be picklable); for tests and extensions.

    Returns
    -------
    BatchResult

    Raises
    ------
    CardError, DataError, BatchError
        Before any fit: unusable card, table or group column; ``out`` locked by another batch.
    """
    from .fit_report import plot_level

    task_fn = fit_group if task_fn is None else task_fn
    out = Path(out)
    figures = _Figures(plot_level(plots), out=out, print_fn=print_fn)
    plans = plan_groups(card, group_by, data=data) if plans is None else plans
    params = next((list(p.free_names) for p in plans if p.free_names), [])
    data_abs = str(Path(data).resolve()) if data is not None else None
    try:
        (out / RUNS_DIR).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BatchError(f"--out {out}: cannot create the batch directory "
                         f"({exc.strerror or exc})") from None

    with rundir.lock(out, holder="another tlsbayes batch", error=BatchError):
        rows = {p.group: {"group": p.group, "n_rows": p.n_rows, "n_points": p.n_points,
                          "status": PENDING, "run_dir": p.run_dir} for p in plans}
        n = len(plans)
        done = 0
        index = out / INDEX_FILE

        def finish(row):
            nonlocal done
            done += 1
            rows[row["group"]].update(row)
            _write_index(index, list(rows.values()), params)
            print_fn(_progress_line(done, n, rows[row["group"]]))

        tasks = []
        for p in plans:
            if p.error:
                finish({"group": p.group, "status": FAILED, "error": p.error})
                continue
            info = _group_run_info(card, p, group_by, out, settings, data)
            state, why, idata = _state(out / p.run_dir, info)
            if state == "conflict":
                finish({"group": p.group, "status": FAILED, "error": why})
            elif state == "done":
                finish({**_posterior_row(idata), **rundir.verdict_cells(out / p.run_dir),
                        "group": p.group, "skipped": True})
            else:
                tasks.append(_Task(p.group, group_by, str(Path(card.path).resolve()),
                                   card.text, data_abs, str(out.resolve()), p.run_dir, info,
                                   state == "resume", "none", card.allow_outside_data))
        _write_index(index, list(rows.values()), params)
        # Longest first (cost ~ points): the last fits to start are the short ones, so the
        # workers finish together.  Results do not depend on the order (group_seed).
        size = {p.group: p.n_points or 0 for p in plans}
        tasks.sort(key=lambda t: -size[t.group])
        if tasks:
            run_tasks(tasks, task_fn, lambda t, row: finish(row),
                      lambda t, why: finish({"group": t.group, "status": FAILED, "error": why}),
                      executor=executor, workers=workers, print_fn=print_fn,
                      follow=figures if figures.level != "none" else None)
            if figures.level != "none":
                print_fn(f"figures (--plots {figures.level}) of {figures.drawn} group(s) drawn "
                         "after the fits")

    final = [rows[p.group] for p in plans]
    statuses = {r["status"] for r in final}
    status = 4 if FAILED in statuses or PENDING in statuses else (
        3 if NOT_CONVERGED in statuses else 0)
    return BatchResult(rows=final, index=index, exit_status=status)


def _group_run_info(card, plan: GroupPlan, group_by: str, out: Path, settings, data) -> dict:
    """run.json of one group: the batch's settings with the group's own seed, no progress."""
    base_seed = 0 if settings.seed is None else int(settings.seed)
    s = {**settings.to_dict(), "seed": group_seed(base_seed, plan.group), "progress": False}
    return rundir.new_run_info(
        card_path=card.path, card_name=card.name,
        card_sha256=hashlib.sha256(card.text.encode("utf-8")).hexdigest(),
        data_override=data, settings=s, data=plan.data_info,
        group={"column": group_by, "value": plan.group},
        batch={"dir": str(out.resolve()), "seed": base_seed})


def batch_card(card_path, group_by: str, out, *, data=None, seed=None, walkers=None,
               max_steps=None, progress=None, workers=None, scheduler=None, mpi=False,
               plots="all", allow_outside_data=False, print_fn=None) -> BatchResult:
    """``tlsbayes batch``: plan the groups, choose the engine, :func:`run_batch`, summarise.

    Parameters
    ----------
    card_path : path-like
    group_by : str
        Column defining the groups.
    out : path-like
        Batch directory.
    data, seed, walkers, max_steps, progress, allow_outside_data : optional
        Command-line overrides of the card (see :mod:`tlsbayes.card.confine` for the last).
    workers : int, optional
        Local worker processes, or MPI workers with ``mpi``.
    scheduler : str, optional
        Dask scheduler address (not with ``workers`` or ``mpi``).
    mpi : bool
        MPI workers via mpi4py.futures.
    plots : {"none", "fit", "all"} or bool
        Figures of each run, drawn after its result is saved (``tlsbayes.fit_report.PLOT_CHOICES``;
        True: all, False: none); ``tlsbayes report`` draws skipped ones later.
    print_fn : callable, optional
        Receives the progress lines (default: print, flushed).

    Raises
    ------
    TLSBayesError
        Bad card, table, column, engine options; engine unavailable; ``out`` locked.
    """
    from . import card as tcard
    from .fit import card_settings

    print_fn = (lambda line: print(line, flush=True)) if print_fn is None else print_fn
    if scheduler and (workers is not None or mpi):
        raise TLSBayesError("--scheduler cannot be combined with --workers or --mpi (the Dask "
                            "cluster has its own workers)")
    card = tcard.load_card(card_path, allow_outside_data=allow_outside_data)
    plans = plan_groups(card, group_by, data=data)
    ndim = next((len(p.free_names) for p in plans if p.free_names), 1)
    settings = card_settings(card, ndim, seed=seed, walkers=walkers, max_steps=max_steps,
                             progress=progress)
    executor, engine, closing = None, f"{workers or 'all CPU'} local worker(s)", None
    if scheduler:
        executor, closing = dask_executor(scheduler)
        engine = f"Dask scheduler {scheduler}"
    elif mpi:
        executor = closing = mpi_executor(workers)
        engine = "MPI (mpi4py.futures)"
    print_fn(f"tlsbayes batch: card {card.path}, {len(plans)} group(s) of column "
             f"{group_by!r}, {engine} -> {out}")
    with closing if closing is not None else contextlib.nullcontext():
        res = run_batch(card, group_by, out, settings=settings, data=data, executor=executor,
                        workers=workers, plots=plots, plans=plans, print_fn=print_fn)
    print_fn(f"{res.count(CONVERGED)} converged, {res.count(NOT_CONVERGED)} not "
             f"converged, {res.count(FAILED)} failed; index: {res.index}")
    return res


def plot_group(out: str, run_dir: str, level: str) -> str:
    """Figures (``level`` fit or all) of a finished group by ``tlsbayes report``; "" or why
    not (never raises: the result is saved, figures are an extra)."""
    from .fit import report_run
    try:  # a run directory this batch wrote from its own command line (--data included)
        with contextlib.redirect_stdout(io.StringIO()):  # the fit printed the summary
            report_run(Path(out) / run_dir, plots=level, allow_outside_data=True)
    except Exception as exc:  # noqa: BLE001 - a figure must not fail a saved fit
        return one_line(exc)
    return ""


@dataclass
class _Figures:
    """A group's figures, queued behind every fit still waiting (never holding one up)."""
    level: str
    out: Path
    print_fn: object
    drawn: int = 0

    def job(self, task: _Task, row: dict):
        if self.level == "none" or row.get("status") not in (CONVERGED, NOT_CONVERGED):
            return None
        return plot_group, str(self.out.resolve()), task.run_dir, self.level

    def failed(self, task: _Task, why: str) -> None:
        self.print_fn(f"{task.group}: figures not drawn ({why}); 'tlsbayes report "
                      f"{self.out / task.run_dir}' draws them")

    def done(self, task: _Task, fut) -> None:
        try:
            why = fut.result()
        except Exception as exc:  # noqa: BLE001 - dead worker, Dask error: report, go on
            why = one_line(exc) or type(exc).__name__
        if why:
            self.failed(task, why)
        else:
            self.drawn += 1
