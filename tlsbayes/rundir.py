"""The run directory: its file names, ``run.json``, the card copy, the lock, the resume decision.

This module is the one owner of the layout of a run directory written by ``tlsbayes fit`` (and
by ``tlsbayes batch``, one per group).  No other module spells a file name of it; they use the
constants below::

    run.json         RUN_JSON         how the run was started (card, data, settings; RUN_FORMAT)
    card.toml        CARD_FILE        verbatim copy of the card (resume and report rebuild from it)
    checkpoint.h5    CHECKPOINT_FILE  emcee-layout chain checkpoint (resume continues from it)
    posterior.nc     POSTERIOR_FILE   ArviZ InferenceData with provenance (tlsbayes.results)
    summary.csv      SUMMARY_FILE     one row per parameter (``identified``: yes/weak/no)
    summary_cache.json SUMMARY_CACHE  the statistics of summary.csv, keyed by posterior.nc's sha256
    model_cache.json MODEL_CACHE      the model on the posterior (fit curves, misfit), same key
    checks.csv       CHECKS_FILE      one row per data set: the misfit checks (``misfit``)
    report.md        REPORT_FILE      verdict, table, degeneracies, figures; written last
    fit.svg, corner.svg, trace.svg    FIGURES           the figures (``--figures svg``, the default)
    fit.png, corner.png, trace.png    FIGURES_PNG       the same with ``--figures png`` (matplotlib)

Every file is written atomically (:mod:`tlsbayes.atomic`); :func:`remove_temporaries` cleans
what a kill left behind.  A directory written into by several processes is protected by
:func:`lock`.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import hashlib
import json
import os
from pathlib import Path

from tlsbayes import __version__
from tlsbayes.atomic import atomic_write_text, file_sha256
from tlsbayes.atomic import remove_temporaries as _remove_atomic_temporaries
from tlsbayes.errors import CardError, RunDirError, SamplingError, TLSBayesError

__all__ = [
    "CARD_FILE", "CHECKPOINT_FILE", "CHECKSUM_FILE", "CHECKS_FILE", "CORNER_PLOT", "FIGURES",
    "FIGURES_PNG", "FIGURE_FILES", "FIT_PLOT", "LOCK_FILE", "MODEL_CACHE", "POSTERIOR_FILE",
    "REPORT_FILE", "RUN_FILES", "REPORT_HTML", "RUN_FORMAT", "RUN_JSON", "SUMMARY_CACHE",
    "SUMMARY_FILE", "TRACE_PLOT",
    "card_for_group", "claim", "verdict_cells", "default_run_dir", "discard_unstarted",
    "load_run", "lock", "make_run_dir", "new_run_info", "read_card_copy", "read_run_info",
    "remove_temporaries", "resume_note", "text_sha256", "verify_checkpoint",
    "verify_checkpoint_seed", "verify_data", "verify_result", "write_card_copy", "write_run_info",
]

POSTERIOR_FILE = "posterior.nc"
CHECKPOINT_FILE = "checkpoint.h5"
RUN_JSON = "run.json"
CARD_FILE = "card.toml"
SUMMARY_FILE = "summary.csv"
CHECKS_FILE = "checks.csv"
REPORT_FILE = "report.md"
#: The report as one self-contained HTML page (``tlsbayes report --html``).
REPORT_HTML = "report.html"
FIT_PLOT = "fit.svg"
CORNER_PLOT = "corner.svg"
TRACE_PLOT = "trace.svg"
FIT_PLOT_PNG = "fit.png"
CORNER_PLOT_PNG = "corner.png"
TRACE_PLOT_PNG = "trace.png"
#: The summary statistics with the sha256 of the posterior.nc they were computed from (a
#: re-plot reuses them only for that very file: tlsbayes.fit_report.cached_summary).
SUMMARY_CACHE = "summary_cache.json"
#: What the report needs from the model (the fit figure's curves, the misfit verdicts, the model
#: at the posterior median), keyed as SUMMARY_CACHE: a re-plot of this very posterior.nc
#: evaluates no model (tlsbayes.fit_report.model_outputs).
MODEL_CACHE = "model_cache.json"
#: Checksums (sha256) of the newest and previous checkpoint.h5, written with it.
CHECKSUM_FILE = "checkpoint.h5.sha256"
#: Figures of a run (SVG, the default format), in the order the report shows them.
FIGURES = (FIT_PLOT, CORNER_PLOT, TRACE_PLOT)
#: The same figures drawn as PNG (``--figures png``).
FIGURES_PNG = (FIT_PLOT_PNG, CORNER_PLOT_PNG, TRACE_PLOT_PNG)
#: Figure format (tlsbayes.plotting.FORMATS) -> its (fit, corner, trace) files.
FIGURE_FILES = {"svg": FIGURES, "png": FIGURES_PNG}
#: Files of a run directory (their temporaries are cleaned before a run continues).
RUN_FILES = (POSTERIOR_FILE, CHECKPOINT_FILE, CHECKSUM_FILE, SUMMARY_FILE, CHECKS_FILE,
             SUMMARY_CACHE, MODEL_CACHE, REPORT_FILE, REPORT_HTML, *FIGURES, *FIGURES_PNG,
             CARD_FILE, RUN_JSON)
#: Lock file held by the process writing into a directory (``tlsbayes batch``).
LOCK_FILE = ".batch.lock"
#: Layout version of run.json; bump it when resume/report can no longer read older ones.
RUN_FORMAT = 1
#: Parent of the default run directory of ``tlsbayes fit`` (relative to the working directory).
DEFAULT_RUNS_DIR = Path("results") / "runs"


def default_run_dir(card_name: str) -> Path:
    """``results/runs/<card name>``: where ``tlsbayes fit`` writes without ``--out``."""
    return DEFAULT_RUNS_DIR / card_name


# --------------------------------------------------------------------------------------------
# creating
# --------------------------------------------------------------------------------------------
def make_run_dir(out) -> bool:
    """Create the run directory ``out`` (and parents); return True if it did not exist.

    Raises
    ------
    RunDirError
        ``out`` exists and is not a directory, or cannot be created (named as ``--out``).
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise RunDirError(f"--out {out}: exists and is not a directory")
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunDirError(f"--out {out}: cannot create the run directory "
                          f"({exc.strerror or exc})") from None
    return created


def discard_unstarted(out, fresh, created: bool) -> None:
    """Undo :func:`make_run_dir` and the ``fresh`` files after a run failed before its first
    checkpoint (MAP, start ball): there is nothing to resume, so leave no half-written run
    directory behind.  A directory with a checkpoint is left as it is."""
    out = Path(out)
    if (out / CHECKPOINT_FILE).exists():
        return
    for name in (*fresh, CHECKSUM_FILE):
        (out / name).unlink(missing_ok=True)
    if created and {p.name for p in out.iterdir()} <= {LOCK_FILE}:
        (out / LOCK_FILE).unlink(missing_ok=True)  # held by this process: see lock()
        out.rmdir()


def new_run_info(*, card_path, card_name: str, settings: dict, data: list, data_override=None,
                 card_sha256: str | None = None, group: dict | None = None,
                 batch: dict | None = None) -> dict:
    """The content of ``run.json`` for a new run.

    Parameters
    ----------
    card_path : path-like
        The card that was fitted (stored absolute: the card copy is parsed as if it stood
        there, so that relative data paths resolve as they did for the fit).
    card_name : str
    settings : dict
        ``SamplerSettings.to_dict()``.
    data : list of dict
        Source, SHA-256 and rows used per data file.
    data_override : path-like, optional
        Table replacing the card's data file (stored absolute).
    card_sha256, group, batch : optional
        A group of ``tlsbayes batch``: the card's digest, ``{"column", "value"}`` of the group
        and ``{"dir", "seed"}`` of the batch.
    """
    info = {"run_format": RUN_FORMAT, "tlsbayes_version": __version__,
            "card": str(Path(card_path).resolve()), "card_name": card_name}
    if card_sha256 is not None:
        info["card_sha256"] = card_sha256
    info["data_override"] = str(Path(data_override).resolve()) if data_override else None
    info["settings"] = settings
    info["data"] = data
    if group is not None:
        info["group"] = group
    if batch is not None:
        info["batch"] = batch
    return info


def write_run_info(run_dir, info: dict) -> Path:
    """Write ``run.json`` atomically."""
    return atomic_write_text(Path(run_dir) / RUN_JSON, json.dumps(info, indent=1))


def write_card_copy(run_dir, card_text: str) -> Path:
    """Write the run's verbatim copy of its card atomically."""
    return atomic_write_text(Path(run_dir) / CARD_FILE, card_text)


def remove_temporaries(run_dir) -> list:
    """Delete the temporaries a kill in mid-write left next to the run files of ``run_dir``."""
    return _remove_atomic_temporaries(run_dir, RUN_FILES)


# --------------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------------
def read_run_info(run_dir) -> dict:
    """``run.json`` of ``run_dir``, checked: format, ``card`` text, ``settings`` table.

    Raises
    ------
    RunDirError
        Naming the file: not a run directory, damaged JSON, another run format.
    """
    run_dir = Path(run_dir)
    info_path = run_dir / RUN_JSON
    if not info_path.is_file():
        raise RunDirError(f"{run_dir}: not a tlsbayes run directory (no {RUN_JSON})")
    try:
        info = json.loads(info_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RunDirError(f"{info_path}: damaged, not readable JSON ({exc})") from None
    except RecursionError:
        raise RunDirError(f"{info_path}: damaged, JSON nested too deeply to read") from None
    if not isinstance(info, dict):
        raise RunDirError(f"{info_path}: damaged, expected a JSON object")
    fmt = info.get("run_format", 1)  # run directories from before run_format was recorded
    if fmt != RUN_FORMAT:
        raise RunDirError(f"{info_path}: run format {fmt!r} (tlsbayes "
                          f"{info.get('tlsbayes_version', '?')}) is not the format "
                          f"{RUN_FORMAT} this tlsbayes {__version__} reads; use the tlsbayes "
                          "version that wrote it, or fit the card again")
    for key, kind in (("card", str), ("settings", dict)):
        if not isinstance(info.get(key), kind):
            raise RunDirError(f"{info_path}: damaged, key {key!r} is missing or not "
                              f"{'text' if kind is str else 'a table'}")
    return info


def read_card_copy(run_dir) -> str:
    """Text of the run's copy of its card.

    Raises
    ------
    RunDirError
        The copy is missing or unreadable (the run directory is incomplete).
    """
    card_copy = Path(run_dir) / CARD_FILE
    try:
        return card_copy.read_text(encoding="utf-8")
    except (OSError, ValueError) as exc:
        what = "is missing" if isinstance(exc, FileNotFoundError) else f"is unreadable ({exc})"
        raise RunDirError(f"{card_copy}: the run's copy of its card {what}; the run "
                          "directory is incomplete") from None


def card_for_group(card, column: str, value: str):
    """The card with its data set restricted to the rows where ``column == value`` (as text).

    The card of one group of ``tlsbayes batch``; ``run.json`` of such a run records
    ``{"column", "value"}`` under ``"group"`` and :func:`load_run` applies it again.

    Raises
    ------
    CardError
        If the card has several data sets, or its own ``group`` selects another column.
    """
    if len(card.datasets) != 1:
        raise CardError(f"{card.path}: batch fits need a card with exactly one [[dataset]], "
                        f"this one has {len(card.datasets)}")
    spec = card.datasets[0]
    own = spec.data.get("group")
    if own is not None and own.get("column") != column:
        raise CardError(f"{card.path}: [dataset.data.group] selects column {own['column']!r}; "
                        f"it cannot be combined with --group-by {column!r} (select the other "
                        "column with a filter instead)")
    data = {**spec.data, "group": {"column": column, "value": str(value)}}
    return dataclasses.replace(card, datasets=(dataclasses.replace(spec, data=data),))


def load_run(run_dir, *, allow_outside_data: bool = False):
    """Rebuild the posterior of a run directory from its card copy (for resume and report).

    Returns
    -------
    card : tlsbayes.card.Card
        Parsed from the copy as if it stood where the original card did, so that relative
        data paths resolve as they did for the fit (restricted to its group for a run of
        ``tlsbayes batch``).
    posterior : tlsbayes.posterior.Posterior
    settings : tlsbayes.sampling.SamplerSettings
        As recorded in ``run.json``.

    Raises
    ------
    RunDirError, CardError, DataError
        Naming the file: not a run directory, damaged run.json or card copy, unusable data.
    """
    from tlsbayes import card as tcard
    from tlsbayes.sampling import SamplerSettings

    run_dir = Path(run_dir)
    info = read_run_info(run_dir)
    card, override = tcard.parse_run_card(read_card_copy(run_dir), info, run_dir / RUN_JSON,
                                          allow_outside_data=allow_outside_data)
    if isinstance(info.get("group"), dict):  # a run directory of 'tlsbayes batch'
        card = card_for_group(card, info["group"]["column"], info["group"]["value"])
    posterior, loaded = tcard.build_posterior(card, data_override=override)
    verify_data(run_dir, info, loaded)
    try:
        settings = SamplerSettings.from_dict(info["settings"])
    except (SamplingError, TypeError) as exc:
        raise RunDirError(f"{run_dir / RUN_JSON}: damaged sampler settings ({exc})") from None
    return card, posterior, settings


# --------------------------------------------------------------------------------------------
# ownership: whose run a directory holds, and do its files belong together
# --------------------------------------------------------------------------------------------
def text_sha256(text: str) -> str:
    """SHA-256 (hex) of a card's text, as ``run.json`` records it under ``card_sha256``."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _identity(info: dict, card_text: str | None = None) -> dict:
    """What makes a run the same run: card text, data files, group, seed."""
    data = info.get("data") if isinstance(info.get("data"), list) else []
    card = info.get("card_sha256") or (text_sha256(card_text) if card_text is not None
                                       else None)
    return {"card": card, "data": [d.get("sha256") for d in data if isinstance(d, dict)],
            "group": info.get("group"), "seed": (info.get("settings") or {}).get("seed")}


def claim(out, info: dict, *, overwrite: bool = False) -> None:
    """Before ``fit`` writes the run ``info`` into ``out`` (with its :func:`lock` held).

    A directory holding the same run (same card text, data, group and seed) is written over,
    and so is one holding nothing but a copy of the same card text (a fit killed between
    writing its card copy and ``run.json``); one holding another run, or run files without a
    readable ``run.json``, is refused unless ``overwrite``, which deletes the old run's files
    first.

    Raises
    ------
    RunDirError
        One line naming ``out`` and what differs.
    """
    out = Path(out)
    present = [n for n in RUN_FILES if (out / n).exists()]
    if not present:
        return
    if overwrite:
        for name in RUN_FILES:
            (out / name).unlink(missing_ok=True)
        return
    if present == [CARD_FILE]:  # a fit killed between its card copy and run.json
        with contextlib.suppress(OSError, ValueError):
            if text_sha256((out / CARD_FILE).read_text("utf-8")) == info.get("card_sha256"):
                return
    hint = "choose another --out, or pass --overwrite to replace it"
    try:
        old = read_run_info(out)
        copy = (out / CARD_FILE).read_text(encoding="utf-8")
    except (RunDirError, OSError, ValueError):
        raise RunDirError(f"--out {out}: holds files of a run ({', '.join(present)}) without a "
                          f"readable {RUN_JSON} and {CARD_FILE}; {hint}") from None
    mine, theirs = _identity(info), _identity(old, copy)
    labels = {"card": "card text", "data": "data (sha256)", "group": "group", "seed": "seed"}
    differ = [f"{labels[k]} {theirs[k]!r} != {mine[k]!r}" if k in ("group", "seed")
              else labels[k] for k in labels if theirs[k] != mine[k]]
    if differ:
        raise RunDirError(f"--out {out}: holds a run of card {old.get('card_name', '?')!r} "
                          f"with another {', '.join(differ)}; {hint}")


def verify_data(run_dir, info: dict, loaded) -> None:
    """The data a run directory's card reads now are the data it was fitted to.

    Raises
    ------
    RunDirError
        A data file changed since the fit (its SHA-256 is not the one in ``run.json``).
    """
    recorded = info.get("data")
    if not isinstance(recorded, list):
        return  # run directories from before the data were recorded
    for rec, d in zip(recorded, loaded):
        want = rec.get("sha256") if isinstance(rec, dict) else None
        if want is not None and want != d.sha256:
            raise RunDirError(f"{Path(run_dir)}: data file {d.source} changed since the fit "
                              f"(sha256 {d.sha256[:12]}..., {RUN_JSON} records "
                              f"{str(want)[:12]}...); restore it, or fit again")


def verify_result(run_dir, attrs: dict, card_text: str, posterior, settings) -> None:
    """``posterior.nc`` was written by this run: same card text, data and seed.

    Raises
    ------
    RunDirError
        Naming posterior.nc and what differs (a result copied in from another run, a card copy
        edited since the result was written, data changed since the fit).
    """
    from tlsbayes import results as R

    path = Path(run_dir) / POSTERIOR_FILE
    seed = attrs.get("seed")
    if isinstance(seed, (list, tuple)) and len(seed) == 1:  # read_attrs: a 1-element array
        seed = seed[0]
    data_hash = R.data_sha256(*[a for ds in posterior.datasets for a in (ds.x, ds.y, ds.sigma)])
    differ = [what for what, ok in (
        (f"card text than {CARD_FILE}", attrs.get("model_card_text") == card_text),
        ("data than the card's data files", attrs.get("data_hash") == data_hash),
        (f"seed than {RUN_JSON}", settings.seed is None or seed == settings.seed),
    ) if not ok]
    if differ:
        raise RunDirError(f"{path}: written from another {' and '.join(differ)}, so it does not "
                          "belong to this run directory; resume the run or fit it again")


# --------------------------------------------------------------------------------------------
# checkpoint checksum
# --------------------------------------------------------------------------------------------
def verify_checkpoint(run_dir) -> None:
    """The checkpoint is the file its checksum (``checkpoint.h5.sha256``) was written for.

    The checksum file holds the digests of the newest and the previous checkpoint (it is
    replaced just before the checkpoint is, so a kill between the two leaves both valid).
    A run directory from before checksums were written has none and is not checked.

    Raises
    ------
    SamplingError
        The checkpoint does not match (flipped bits, a file copied in), naming what to do.
    """
    run_dir = Path(run_dir)
    ck, sums = run_dir / CHECKPOINT_FILE, run_dir / CHECKSUM_FILE
    if not ck.is_file() or not sums.is_file():
        return
    try:
        known = sums.read_text(encoding="ascii").split()
    except (OSError, ValueError):
        known = []
    if file_sha256(ck) not in known:
        raise SamplingError(f"{ck}: corrupt or not this run's checkpoint (its sha256 is not "
                            f"the one in {CHECKSUM_FILE}); delete the run directory and fit "
                            "again (tlsbayes fit --overwrite)")


def verify_checkpoint_seed(run_dir, ck) -> None:
    """The checkpoint ``ck`` was sampled with the seed ``run.json`` records.

    Raises
    ------
    RunDirError
        A checkpoint of another run (another seed) copied into this directory.
    """
    want = (read_run_info(run_dir)["settings"]).get("seed")
    got = (ck.settings or {}).get("seed")
    if want is not None and got is not None and want != got:
        raise RunDirError(f"{ck.path}: sampled with seed {got!r}, but {RUN_JSON} records seed "
                          f"{want!r}: not this run's checkpoint; fit again (tlsbayes fit "
                          "--overwrite)")


# --------------------------------------------------------------------------------------------
# resume decision
# --------------------------------------------------------------------------------------------
def _finished_note(run_dir: Path, steps: int, posterior) -> str | None:
    """The note for a run whose results are complete and converged at ``steps``, else None."""
    from tlsbayes import results as R
    from tlsbayes.sampling import SamplerSettings

    post, report = run_dir / POSTERIOR_FILE, run_dir / REPORT_FILE
    # report.md is written last: older than posterior.nc (or absent), the run was stopped
    # while writing its results, and resuming rewrites them from the checkpoint.
    if post.exists() and report.exists() and \
            report.stat().st_mtime_ns >= post.stat().st_mtime_ns:
        # Its root attributes alone (h5py), not the whole result through ArviZ: a no-op
        # resume must answer in well under a second.
        attrs = R.read_attrs(post)
        settings = SamplerSettings.from_dict(read_run_info(run_dir)["settings"])
        verify_result(run_dir, attrs, read_card_copy(run_dir), posterior, settings)
        done = (attrs.get("extra") or {}).get("steps")
        if attrs.get("converged") is True and done == steps:
            return (f"{run_dir}: this run already converged after {steps} steps; nothing "
                    f"to resume, nothing changed (tlsbayes report {run_dir} rebuilds the "
                    "report)")
    return None


def _check_walkers_in_support(run_dir: Path, last, posterior) -> None:
    """Walkers restart where they stopped: all must lie inside the (possibly edited) priors."""
    values = posterior.params(last)
    for name in posterior.free_names:
        lo, hi = posterior.priors[name].support
        out = [w for w in range(last.shape[0]) if not lo <= float(values[name][w]) <= hi]
        if out:
            w = out[0]
            raise SamplingError(
                f"{run_dir / CARD_FILE}: [priors] {name}: {len(out)} of {last.shape[0]} "
                f"walkers stopped outside its support [{lo:g}, {hi:g}] (walker {w} at "
                f"{name} = {float(values[name][w]):g}); the prior was narrowed after the "
                "run, so it cannot be resumed: restore the prior or fit again")


def resume_note(run_dir, posterior) -> str | None:
    """Decide, before any work, whether the run in ``run_dir`` can and need continue.

    Parameters
    ----------
    run_dir : path-like
    posterior : tlsbayes.posterior.Posterior
        Rebuilt from the run's card copy.

    Returns
    -------
    str or None
        A note when the run already converged (nothing to do); None: resume it.

    Raises
    ------
    SamplingError
        No checkpoint (nothing to resume), or walkers outside a prior narrowed since.
    """
    from tlsbayes.sampling import read_checkpoint

    run_dir = Path(run_dir)
    ck_path = run_dir / CHECKPOINT_FILE
    if not ck_path.is_file():
        raise SamplingError(f"{ck_path}: missing, so there is nothing to resume (the run "
                            f"stopped before its first checkpoint); start again with: "
                            "tlsbayes fit")
    ck = read_checkpoint(ck_path)  # its own messages for a file that is not a checkpoint
    verify_checkpoint(run_dir)
    verify_checkpoint_seed(run_dir, ck)
    note = _finished_note(run_dir, ck.steps, posterior)
    if note:
        return note
    if tuple(ck.names) == tuple(posterior.free_names):
        _check_walkers_in_support(run_dir, ck.chain[-1], posterior)
    return None


# --------------------------------------------------------------------------------------------
# lock
# --------------------------------------------------------------------------------------------
@contextlib.contextmanager
def lock(directory, *, holder: str = "another tlsbayes process",
         error: type[TLSBayesError] = RunDirError, remove: bool = False):
    """Hold ``directory/.batch.lock`` (an exclusive ``flock``) for the block.

    Parameters
    ----------
    directory : path-like
        Must exist.
    holder : str
        Who holds the lock when it is taken, for the message.
    error : type
        Raised (with a one-line message naming the lock file) when another process holds it,
        or the lock file cannot be created (a read-only directory).  No lock on platforms
        without ``fcntl``.
    remove : bool
        Delete the lock file on release (``fit``, ``resume``, ``report``: a finished run
        directory holds no lock file).  Safe because a process that took the lock checks that
        the file it locked is still the one at the path.
    """
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        yield
        return
    directory = Path(directory)
    path = directory / LOCK_FILE
    try:
        fh = open(path, "a")
    except OSError as exc:
        raise error(f"{directory}: cannot write into this directory "
                    f"({exc.strerror or exc})") from None
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            # The holder we waited on may have removed the file it locked (remove=True):
            # then another process may hold a new file at the path.
            if os.stat(path).st_ino != os.fstat(fh.fileno()).st_ino:
                raise OSError
        except OSError:
            raise error(f"{directory}: {holder} is writing into this directory "
                        f"(it holds {path})") from None
        try:
            yield
        finally:
            if remove:
                path.unlink(missing_ok=True)
    finally:
        fh.close()


def verdict_cells(run_dir) -> dict:
    """index.csv's ``unidentified`` and ``misfit`` of a finished run, read from its files.

    Read back from summary.csv (``identified``) and checks.csv (``misfit``) rather than kept
    from the fit, so that a rerun which skips the group writes the same cells.
    """
    out = {"unidentified": "", "misfit": ""}
    try:
        with open(Path(run_dir) / SUMMARY_FILE, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        out["unidentified"] = " ".join(r["parameter"] for r in rows
                                       if r.get("identified") == "no")
        with open(Path(run_dir) / CHECKS_FILE, newline="", encoding="utf-8") as fh:
            flags = [r.get("misfit") for r in csv.DictReader(fh)]
        out["misfit"] = "true" if "true" in flags else "false" if flags else ""
    except (OSError, KeyError, csv.Error):
        pass  # a run written before the verdicts existed: the cells stay empty
    return out
