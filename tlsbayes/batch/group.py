"""One group of a batch, in a worker: its fit (:func:`fit_group`) and its figures."""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import io
import time
from dataclasses import dataclass
from pathlib import Path

from .. import rundir
from ..errors import one_line
from ..rundir import card_for_group
from .index import CONVERGED, FAILED, NOT_CONVERGED, posterior_row
from .plan import GroupPlan, group_seed


@dataclass(frozen=True)
class Task:
    """What a worker needs to fit one group (picklable; see :func:`fit_group`)."""

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
    #: Expected cost, for the order of the queue (points used by the fit).
    size: int = 0


def _quiet(*args, **kwargs) -> None:
    pass


def fit_group(task: Task) -> dict:
    """Fit one group and write its run directory; never raises for a problem of the group.

    Returns the group's index row (``status = failed`` and ``error`` if it failed) plus
    ``seconds`` and ``cpu_seconds``, the wall and CPU time of this process spent, and
    ``phases`` and ``phases_cpu``, those of each phase of the fit
    (:attr:`tlsbayes.fit.FitResult.phases`).
    """
    t0, c0 = time.perf_counter(), time.process_time()
    row = {"group": task.group, "run_dir": task.run_dir}
    try:
        row.update(_fit_group(task))
    except Exception as exc:  # noqa: BLE001 - one group's failure must not stop the batch
        row.update(status=FAILED, error=one_line(exc))
    row["seconds"] = time.perf_counter() - t0
    row["cpu_seconds"] = time.process_time() - c0
    return row


def _fit_group(task: Task) -> dict:
    from .. import card as tcard
    from ..fit import run_fit
    from ..sampling import SamplerSettings, load_loop

    load_loop()  # a worker fits many groups: the compiled loop from every fit's first chunk

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
    row = {**posterior_row(result.idata), **rundir.verdict_cells(run_dir),
           "phases": result.phases, "phases_cpu": result.phases_cpu}
    # Written last: it marks the run directory finished for reruns of the batch.
    info["finished"] = {"status": row["status"],
                        "utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
    rundir.write_run_info(run_dir, info)
    return row


def group_run_info(card, plan: GroupPlan, group_by: str, out: Path, settings, data) -> dict:
    """run.json of one group: the batch's settings with the group's own seed, no progress."""
    base_seed = 0 if settings.seed is None else int(settings.seed)
    s = {**settings.to_dict(), "seed": group_seed(base_seed, plan.group), "progress": False}
    return rundir.new_run_info(
        card_path=card.path, card_name=card.name,
        card_sha256=hashlib.sha256(card.text.encode("utf-8")).hexdigest(),
        data_override=data, settings=s, data=plan.data_info,
        group={"column": group_by, "value": plan.group},
        batch={"dir": str(out.resolve()), "seed": base_seed})


def plot_group(out: str, run_dir: str, level: str, fmt: str = "svg") -> str:
    """Figures (``level`` fit or all, format ``fmt``) of a finished group by ``tlsbayes
    report``; "" or why not (never raises: the result is saved, figures are an extra)."""
    from ..fit import report_run
    try:  # a run directory this batch wrote from its own command line (--data included)
        with contextlib.redirect_stdout(io.StringIO()):  # the fit printed the summary
            report_run(Path(out) / run_dir, plots=level, allow_outside_data=True, figures=fmt)
    except Exception as exc:  # noqa: BLE001 - a figure must not fail a saved fit
        return one_line(exc)
    return ""


@dataclass
class Figures:
    """A group's figures, queued behind every fit still waiting (never holding one up)."""

    level: str
    print_fn: object
    drawn: int = 0
    #: Their format (``--figures``: svg or png).
    fmt: str = "svg"

    def job(self, task: Task, row: dict):
        if self.level == "none" or row.get("status") not in (CONVERGED, NOT_CONVERGED):
            return None
        return plot_group, task.out, task.run_dir, self.level, self.fmt

    def failed(self, task: Task, why: str) -> None:
        self.print_fn(f"{task.group}: figures not drawn ({why}); 'tlsbayes report "
                      f"{Path(task.out) / task.run_dir}' draws them")

    def done(self, task: Task, fut) -> None:
        try:
            why = fut.result()
        except Exception as exc:  # noqa: BLE001 - dead worker, Dask error: report, go on
            why = one_line(exc) or type(exc).__name__
        if why:
            self.failed(task, why)
        else:
            self.drawn += 1
