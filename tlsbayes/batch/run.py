"""The batch: plan, skip what is done, run the groups on an engine, keep ``index.csv``."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from .. import rundir
from ..engines import dask_executor, mpi_executor, run_tasks
from ..errors import BatchError, TLSBayesError
from .group import Figures, Task, fit_group, group_run_info
from .index import (CONVERGED, FAILED, INDEX_FILE, NOT_CONVERGED, PENDING, RUNS_DIR,
                    posterior_row, progress_line, run_state, write_index)
from .plan import plan_groups


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
    from ..fit_report import plot_level

    task_fn = fit_group if task_fn is None else task_fn
    out = Path(out)
    figures = Figures(plot_level(plots), out=out, print_fn=print_fn)
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
            write_index(index, list(rows.values()), params)
            print_fn(progress_line(done, n, rows[row["group"]]))

        tasks = []
        for p in plans:
            if p.error:
                finish({"group": p.group, "status": FAILED, "error": p.error})
                continue
            info = group_run_info(card, p, group_by, out, settings, data)
            state, why, idata = run_state(out / p.run_dir, info)
            if state == "conflict":
                finish({"group": p.group, "status": FAILED, "error": why})
            elif state == "done":
                finish({**posterior_row(idata), **rundir.verdict_cells(out / p.run_dir),
                        "group": p.group, "skipped": True})
            else:
                tasks.append(Task(p.group, group_by, str(Path(card.path).resolve()),
                                   card.text, data_abs, str(out.resolve()), p.run_dir, info,
                                   state == "resume", "none", card.allow_outside_data))
        write_index(index, list(rows.values()), params)
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
    from .. import card as tcard
    from ..fit import card_settings

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

