"""The batch: plan, skip what is done, run the groups on an engine, keep ``index.csv``."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
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
              plans=None, task_fn=None, figures="svg") -> BatchResult:
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
        Figures of each run (``tlsbayes.fit_report.PLOT_CHOICES``; True: all, False: none),
        drawn by :func:`plot_group` once the group's result is saved and queued behind the
        fits not yet started, so figures never hold up a fit; ``tlsbayes report`` draws
        skipped ones.  ``figures``: their format (svg, png).
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
    return run_batches([CardBatch(card, out, settings, plans)], group_by, data=data,
                       executor=executor, workers=workers, plots=plots, print_fn=print_fn,
                       task_fn=task_fn, figures=figures)[0]


@dataclass
class CardBatch:
    """One card's share of :func:`run_batches`: its card, batch directory and settings.

    ``plans`` (:func:`plan_groups` of the card) is computed if None.
    """

    card: object
    out: Path
    settings: object
    plans: list | None = None
    rows: dict = field(default_factory=dict)
    done: int = 0
    #: Prefix of its progress lines (the card's name when a batch has several cards).
    label: str = ""

    def finish(self, row: dict, print_fn) -> None:
        """Record one group's outcome, rewrite index.csv, print the progress line."""
        self.done += 1
        self.rows[row["group"]].update(row)
        params = next((list(p.free_names) for p in self.plans if p.free_names), [])
        write_index(Path(self.out) / INDEX_FILE, list(self.rows.values()), params)
        print_fn(self.label + progress_line(self.done, len(self.plans), self.rows[row["group"]]))

    def tasks(self, group_by: str, data, print_fn) -> list:
        """The groups still to fit; the failed, conflicting and finished ones recorded."""
        card, out = self.card, Path(self.out)
        self.rows = {p.group: {"group": p.group, "n_rows": p.n_rows, "n_points": p.n_points,
                               "status": PENDING, "run_dir": p.run_dir} for p in self.plans}
        data_abs = str(Path(data).resolve()) if data is not None else None
        tasks = []
        for p in self.plans:
            if p.error:
                self.finish({"group": p.group, "status": FAILED, "error": p.error}, print_fn)
                continue
            info = group_run_info(card, p, group_by, out, self.settings, data)
            state, why, idata = run_state(out / p.run_dir, info)
            if state == "conflict":
                self.finish({"group": p.group, "status": FAILED, "error": why}, print_fn)
            elif state == "done":
                self.finish({**posterior_row(idata), **rundir.verdict_cells(out / p.run_dir),
                             "group": p.group, "skipped": True}, print_fn)
            else:
                tasks.append(Task(p.group, group_by, str(Path(card.path).resolve()),
                                  card.text, data_abs, str(out.resolve()), p.run_dir, info,
                                  state == "resume", "none", card.allow_outside_data,
                                  p.n_points or 0))
        params = next((list(p.free_names) for p in self.plans if p.free_names), [])
        write_index(out / INDEX_FILE, list(self.rows.values()), params)
        return tasks

    def result(self) -> BatchResult:
        final = [self.rows[p.group] for p in self.plans]
        statuses = {r["status"] for r in final}
        status = 4 if FAILED in statuses or PENDING in statuses else (
            3 if NOT_CONVERGED in statuses else 0)
        return BatchResult(rows=final, index=Path(self.out) / INDEX_FILE, exit_status=status)


def run_batches(batches, group_by: str, *, data=None, executor=None, workers=None,
                plots="all", print_fn=print, task_fn=None, figures="svg") -> list:
    """:func:`run_batch` of several cards through one engine: the groups of every card in one
    queue (fewest points first: the least constrained fits run longest), so that no worker
    idles while another card's groups wait.

    Parameters
    ----------
    batches : list of CardBatch
        One per card, each with its own batch directory (distinct).
    group_by, data, executor, workers, plots, print_fn, task_fn, figures
        As in :func:`run_batch`.

    Returns
    -------
    list of BatchResult
        One per card, in order.
    """
    from ..fit_report import figure_format, plot_level

    task_fn = fit_group if task_fn is None else task_fn
    figures = Figures(plot_level(plots), print_fn=print_fn, fmt=figure_format(figures))
    by_out = {}
    for b in batches:
        b.out = Path(b.out)
        b.plans = plan_groups(b.card, group_by, data=data) if b.plans is None else b.plans
        try:
            (b.out / RUNS_DIR).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BatchError(f"--out {b.out}: cannot create the batch directory "
                             f"({exc.strerror or exc})") from None
        by_out[str(b.out.resolve())] = b
    if len(by_out) != len(batches):
        raise BatchError("two cards of one batch cannot share a batch directory")
    for b in batches if len(batches) > 1 else ():
        b.label = b.label or f"{b.card.name} "

    with contextlib.ExitStack() as locks:
        for b in batches:
            locks.enter_context(rundir.lock(b.out, holder="another tlsbayes batch",
                                            error=BatchError))
        tasks = [t for b in batches for t in b.tasks(group_by, data, print_fn)]
        # Fewest points first.  A fit's cost is its length far more than its points: the
        # fits the data constrain least run longest (the shipped Ta batches: 13 points,
        # 142 149 steps; 15 points, 23 848; 30-36 points, 1250-1875), and one long fit
        # started last holds the whole batch (2 workers: 1.2-1.3x the speed of 1 with the
        # most points first, 1.5x with the fewest).  Results do not depend on the order.
        tasks.sort(key=lambda t: t.size)
        if tasks:
            run_tasks(tasks, task_fn, lambda t, row: by_out[t.out].finish(row, print_fn),
                      lambda t, why: by_out[t.out].finish(
                          {"group": t.group, "status": FAILED, "error": why}, print_fn),
                      executor=executor, workers=workers, print_fn=print_fn,
                      follow=figures if figures.level != "none" else None)
            if figures.level != "none":
                print_fn(f"figures (--plots {figures.level}) of {figures.drawn} group(s) drawn "
                         "after the fits")
    return [b.result() for b in batches]


def batch_card(card_path, group_by: str, out, *, data=None, seed=None, walkers=None,
               max_steps=None, progress=None, workers=None, scheduler=None, mpi=False,
               plots="all", allow_outside_data=False, print_fn=None,
               figures="svg") -> BatchResult:
    """``tlsbayes batch``: plan the groups, choose the engine, :func:`run_batches`, summarise.

    Parameters
    ----------
    card_path : path-like or list of path-like
        One card, or several: their groups then share one queue of the engine (fewest
        points first) and each card gets its own batch directory ``out/<card name>``.
    group_by : str
        Column defining the groups.
    out : path-like
        Batch directory (several cards: the directory of their batch directories).
    data, seed, walkers, max_steps, progress, allow_outside_data : optional
        Command-line overrides of the cards (see :mod:`tlsbayes.card.confine` for the last).
    workers : int, optional
        Local worker processes, or MPI workers with ``mpi``.
    scheduler : str, optional
        Dask scheduler address (not with ``workers`` or ``mpi``).
    mpi : bool
        MPI workers via mpi4py.futures.
    plots : {"none", "fit", "all"} or bool
        Figures of each run, drawn after its result is saved
        (``tlsbayes.fit_report.PLOT_CHOICES``; True: all, False: none); ``tlsbayes report``
        draws skipped ones later.
    figures : {"svg", "png"}
        Their format.
    print_fn : callable, optional
        Receives the progress lines (default: print, flushed).

    Returns
    -------
    BatchResult
        Of the one card; of several, their rows together (each with its ``card``), ``index``
        the directory ``out`` and the worst exit status.

    Raises
    ------
    TLSBayesError
        Bad card, table, column, engine options; engine unavailable; ``out`` locked; two cards
        of the same name.
    """
    from .. import card as tcard
    from ..fit import card_settings

    print_fn = (lambda line: print(line, flush=True)) if print_fn is None else print_fn
    if scheduler and (workers is not None or mpi):
        raise TLSBayesError("--scheduler cannot be combined with --workers or --mpi (the Dask "
                            "cluster has its own workers)")
    paths = [card_path] if isinstance(card_path, (str, Path)) else list(card_path)
    batches = []
    for path in paths:
        card = tcard.load_card(path, allow_outside_data=allow_outside_data)
        plans = plan_groups(card, group_by, data=data)
        ndim = next((len(p.free_names) for p in plans if p.free_names), 1)
        settings = card_settings(card, ndim, seed=seed, walkers=walkers, max_steps=max_steps,
                                 progress=progress)
        card_out = Path(out) if len(paths) == 1 else Path(out) / card.name
        if any(b.out == card_out for b in batches):
            raise TLSBayesError(f"{path}: another card of this batch is also named "
                                f"{card.name!r} (each card gets the batch directory "
                                f"{card_out})")
        batches.append(CardBatch(card, card_out, settings, plans))
    executor, engine, closing = None, f"{workers or 'all CPU'} local worker(s)", None
    if scheduler:
        executor, closing = dask_executor(scheduler)
        engine = f"Dask scheduler {scheduler}"
    elif mpi:
        executor = closing = mpi_executor(workers)
        engine = "MPI (mpi4py.futures)"
    for b in batches:
        print_fn(f"tlsbayes batch: card {b.card.path}, {len(b.plans)} group(s) of column "
                 f"{group_by!r}, {engine} -> {b.out}")
    with closing if closing is not None else contextlib.nullcontext():
        results = run_batches(batches, group_by, data=data, executor=executor,
                              workers=workers, plots=plots, print_fn=print_fn,
                              figures=figures)
    for b, res in zip(batches, results):
        print_fn(f"{res.count(CONVERGED)} converged, {res.count(NOT_CONVERGED)} not "
                 f"converged, {res.count(FAILED)} failed; index: {res.index}")
    if len(results) == 1:
        return results[0]
    return BatchResult(rows=[dict(r, card=b.card.name) for b, res in zip(batches, results)
                             for r in res.rows],
                       index=Path(out), exit_status=max(r.exit_status for r in results))
