"""The fit pipeline: card -> posterior -> MAP -> emcee -> ArviZ result -> summary, report.

``run_fit(posterior, settings, outdir)`` samples and writes a run directory (its layout:
:mod:`tlsbayes.rundir`): the result ``posterior.nc`` (:func:`tlsbayes.results.build_idata`),
the checkpoint, then the summary table, the report and the figures
(:func:`tlsbayes.fit_report.report_from_idata`).  Every file is written atomically (temporary
file, then rename).

The bodies of the ``tlsbayes`` subcommands on one run live here too, so that the command line
only parses and dispatches:

========================  ==========================================================
:func:`prepare_fit`       card, data, posterior and sampler settings (``check``, ``fit``)
:func:`fit_card`          ``tlsbayes fit``: run directory, run.json, card copy, run_fit
:func:`load_run`          rebuild the posterior of a run directory from its card copy
:func:`resume_run`        ``tlsbayes resume``
:func:`report_run`        ``tlsbayes report``: summary, figures, report.md, no sampling
========================  ==========================================================
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import results as R
from . import rundir
from .errors import SamplingError, TLSBayesError
from .fit_report import figure_format, plot_level, report_from_idata, summary_key

# The sampler (emcee, scipy.optimize, h5py) and the results (ArviZ, xarray) are imported by
# the functions that use them: ``check``, ``models``, a rejected card and a no-op ``resume``
# must not pay seconds of imports.


@dataclass
class FitResult:
    """What :func:`run_fit` produced (the files are in ``outdir``)."""

    idata: object
    summary: object
    degeneracy: dict
    run: object
    map_params: dict
    outdir: Path
    converged: bool
    verdict: str
    #: Identification and misfit verdicts (:class:`tlsbayes.verdicts.Verdicts`).
    verdicts: object = None
    #: Wall and CPU seconds per phase: ``map``, ``sampling``, ``results`` (NetCDF), ``report``
    #: (summary, checks, report.md), ``plots`` (what ``tlsbayes bench`` breaks down).
    phases: dict = field(default_factory=dict)
    phases_cpu: dict = field(default_factory=dict)


def run_fit(posterior, settings, outdir, *, card_text="", extra_attrs=None,
            resume=False, plots="all", truths=None, print_fn=print,
            figures="svg") -> FitResult:
    """Fit ``posterior`` and write the run directory; see the module docstring.

    Parameters
    ----------
    posterior : tlsbayes.inference.posterior.Posterior
    settings : SamplerSettings
        ``seed`` fixes everything (MAP starts, walker ball, chain).
    outdir : path-like
        Created if needed.
    card_text : str
        The model card, stored in the result's provenance.
    resume : bool
        Continue from ``outdir/checkpoint.h5``.
    truths : dict, optional
        Known values to draw on the corner plot (simulation truth).
    figures : {"svg", "png"}
        Format of the figures (``plots``).
    """
    from .sampling import SamplerSettings, sample

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    if settings.seed is None:
        settings = SamplerSettings(**{**settings.to_dict(), "seed": 0})
    rng = np.random.default_rng(settings.seed)
    names = posterior.free_names

    def map_values(best):
        return {n: float(v[0]) for n, v in posterior.params(best.theta[None, :]).items()
                if n in names}

    clock, phases, phases_cpu = [(time.perf_counter(), time.process_time())], {}, {}

    def lap(name):
        clock.append((time.perf_counter(), time.process_time()))
        phases[name], phases_cpu[name] = (b - a for a, b in zip(*clock[-2:]))

    def show_map(best):
        lap("map")
        print_fn("MAP: " + ", ".join(f"{n} = {v:.4g}" for n, v in map_values(best).items()))

    sampled = sample(posterior, settings, rng=rng, checkpoint=outdir / rundir.CHECKPOINT_FILE,
                     resume=resume, on_map=show_map)
    run, map_params = sampled.run, map_values(sampled.map)
    print_fn(run.verdict)
    lap("sampling")
    idata = R.build_idata(posterior, run, map_params=map_params, card_text=card_text,
                          extra_attrs=extra_attrs, rng=rng)
    R.save(idata, outdir / rundir.POSTERIOR_FILE)
    lap("results")
    res = report_from_idata(idata, posterior, outdir, plots=plots, truths=truths, chain=run.chain,
                            burn=run.burn_in, print_fn=print_fn, figures=figures,
                            result_key=summary_key(outdir / rundir.POSTERIOR_FILE))
    lap("report")
    for times, key in ((phases, "plots_s"), (phases_cpu, "plots_cpu_s")):
        times["report"], times["plots"] = times["report"] - res[key], res[key]
    return FitResult(idata=idata, summary=res["summary"], degeneracy=res["degeneracy"], run=run,
                     map_params=map_params, outdir=outdir, converged=bool(run.converged),
                     verdict=run.verdict, verdicts=res["verdicts"], phases=phases,
                     phases_cpu=phases_cpu)


# --------------------------------------------------------------------------------------------
# the subcommands on one run (tlsbayes check / fit / resume / report)
# --------------------------------------------------------------------------------------------
def card_settings(card, ndim: int, *, seed=None, walkers=None, max_steps=None, progress=None):
    """Sampler settings of the card, overridden by the flags; checked against ``ndim``.

    Parameters
    ----------
    card : tlsbayes.card.Card
    ndim : int
        Free parameters of the posterior (the walker count must suit it).
    seed, walkers, max_steps, progress : optional
        The command-line overrides (None: the card's value).

    Raises
    ------
    SamplingError
        The walker count does not suit ``ndim``, naming ``--walkers`` or the card's key.
    """
    from .card import sampler_settings
    from .sampling import ensemble_problem

    # The flags are range-checked by argparse: a bad value left here comes from the card.
    settings = sampler_settings(card, seed=seed, nwalkers=walkers, max_steps=max_steps,
                                progress=progress)
    nw = settings.resolve_nwalkers(ndim)
    where = (f"--walkers {walkers}" if walkers is not None
             else f"{card.path}: [sampler] nwalkers = {nw}")
    problem = ensemble_problem(nw, ndim, settings.n_groups) or _size_problem(nw, settings, ndim)
    if problem:
        raise SamplingError(f"{where}: {problem}")
    if not 0 <= settings.seed < 2**64:
        where = f"--seed {seed}" if seed is not None else f"{card.path}: [sampler] seed"
        raise SamplingError(f"{where}: the seed must be below 2**64 (it is stored as an "
                            "unsigned 64-bit integer)")
    return settings


#: Limits checked before a run directory is written: walkers, steps and the memory the chain
#: (steps x walkers x parameters, float64) and its log-probabilities take.
MAX_WALKERS = 100_000
MAX_STEPS = 100_000_000
MAX_CHAIN_BYTES = 8 * 2**30


def _size_problem(nwalkers: int, settings, ndim: int) -> str | None:
    """Why the chain of ``nwalkers`` walkers cannot be held in memory, or None."""
    if nwalkers > MAX_WALKERS:
        return f"{nwalkers} walkers are above the limit of {MAX_WALKERS}"
    if settings.max_steps > MAX_STEPS:
        return (f"max_steps {settings.max_steps} is above the limit of {MAX_STEPS} (--max-steps "
                "or [sampler] max_steps)")
    size = settings.max_steps * nwalkers * (ndim + 1) * 8
    if size > MAX_CHAIN_BYTES:
        return (f"a chain of {settings.max_steps} steps x {nwalkers} walkers x {ndim} "
                f"parameters takes {size / 2**30:.3g} GiB, above the limit of "
                f"{MAX_CHAIN_BYTES / 2**30:g} GiB; lower the walkers or max_steps")
    return None


def prepare_fit(card_path, *, data=None, seed=None, walkers=None, max_steps=None,
                progress=None, allow_outside_data=False):
    """Everything ``fit`` does before it writes or samples.

    Returns
    -------
    card, posterior, loaded, settings
        The card, its posterior, the loaded data tables and the sampler settings.
    """
    from . import card as tcard

    card = tcard.load_card(card_path, allow_outside_data=allow_outside_data)
    if any(d.likelihood == "trace_posterior" for d in card.datasets):
        from .s21.run import fit_card_traces

        # raw trace folders named as data: their per-trace posteriors first (resumable)
        fit_card_traces(card, progress=progress is not False, print_fn=_stderr)
    posterior, loaded = tcard.build_posterior(card, data_override=data)
    if posterior.ndim == 0:
        raise SamplingError(f"{card.path}: every parameter is fixed, so there is nothing to "
                            "sample; give at least one a prior in [priors]")
    settings = card_settings(card, posterior.ndim, seed=seed, walkers=walkers,
                             max_steps=max_steps, progress=progress)
    return card, posterior, loaded, settings


def _stderr(line: str) -> None:
    print(line, file=sys.stderr)


def describe_fit(card, posterior, loaded, settings) -> list:
    """Lines describing a prepared fit: card, parameters, points, walkers; one per data file."""
    lines = [f"card {card.path} ({card.name}): {posterior.ndim} free parameters "
             f"({', '.join(posterior.free_names)}), "
             f"{sum(ds.n for ds in posterior.datasets)} data points, "
             f"{settings.resolve_nwalkers(posterior.ndim)} walkers, "
             f"max_steps {settings.max_steps}"]
    for d in loaded:
        lines.append(f"  data {d.source}: {d.n} points" + "".join(
            f"; {n}" for n in d.notes if not n.startswith("warning:")))
    return lines


def _data_info(loaded) -> list:
    # traces used and left out (status, reason) of a tlsbayes s21 table, for the report
    return [{"source": str(d.source), "sha256": d.sha256, "rows_used": d.n_rows_used,
             **({"traces": [n for n in d.notes if "traces" in n]}
                if any("traces with status" in n for n in d.notes) else {})}
            for d in loaded]


def fit_card(card_path, *, out=None, data=None, seed=None, walkers=None, max_steps=None,
             progress=None, plots="all", overwrite=False, allow_outside_data=False,
             print_fn: Callable = print, figures="svg") -> FitResult:
    """``tlsbayes fit``: prepare, write run.json and the card copy, :func:`run_fit`.

    Parameters
    ----------
    card_path : path-like
    out : path-like, optional
        Run directory (default :func:`tlsbayes.rundir.default_run_dir` of the card's name).
    data, seed, walkers, max_steps, progress, allow_outside_data : optional
        Command-line overrides of the card (the last: :mod:`tlsbayes.card.confine`).
    plots : {"none", "fit", "all"}
        Figures drawn once the result is saved (:data:`PLOT_CHOICES`).
    figures : {"svg", "png"}
        Their format (``fit.svg``... or ``fit.png``...: :data:`tlsbayes.rundir.FIGURE_FILES`).
    overwrite : bool
        Replace a run of another card, data or seed in ``out`` (else refused).
    print_fn : callable
        Receives the progress lines.

    Raises
    ------
    TLSBayesError
        Bad card, data, settings or ``out``.  A fit that fails before its first checkpoint
        leaves no half-written run directory behind.
    """
    figure_format(figures)
    card, posterior, loaded, settings = prepare_fit(
        card_path, data=data, seed=seed, walkers=walkers, max_steps=max_steps,
        progress=progress, allow_outside_data=allow_outside_data)
    out = Path(out) if out else rundir.default_run_dir(card.name)
    created = rundir.make_run_dir(out)
    info = rundir.new_run_info(card_path=card.path, card_name=card.name, data_override=data,
                               card_sha256=rundir.text_sha256(card.text),
                               settings=settings.to_dict(), data=_data_info(loaded))
    with rundir.lock(out, holder="another tlsbayes process", remove=True):
        rundir.claim(out, info, overwrite=overwrite)
        rundir.remove_temporaries(out)  # left by a kill in mid-write (before any checkpoint)
        fresh = [n for n in (rundir.CARD_FILE, rundir.RUN_JSON) if not (out / n).exists()]
        rundir.write_card_copy(out, card.text)
        rundir.write_run_info(out, info)
        return _fit_into(out, card, posterior, loaded, settings, info, fresh, created,
                         plots=plots, figures=figures, print_fn=print_fn)


def _fit_into(out, card, posterior, loaded, settings, info, fresh, created, *, plots, figures,
              print_fn):
    """The rest of :func:`fit_card`, with ``out`` locked, claimed and run.json written."""
    first, *rest = describe_fit(card, posterior, loaded, settings)
    for line in [f"tlsbayes fit: {first}", *rest, f"  -> {out}"]:
        print_fn(line)
    try:
        result = run_fit(posterior, settings, out, card_text=card.text, print_fn=print_fn,
                         plots=plots, figures=figures,
                         extra_attrs={"card_name": card.name, "card_path": str(card.path),
                                      "data_files": info["data"]})
    except TLSBayesError:
        rundir.discard_unstarted(out, fresh, created)
        raise
    files = (rundir.POSTERIOR_FILE, rundir.SUMMARY_FILE, rundir.CHECKS_FILE, rundir.REPORT_FILE,
             *[f for f in rundir.FIGURE_FILES[figures] if (out / f).exists()])
    print_fn(f"\nresults in {out}: {', '.join(files)}")
    if plot_level(plots) != "all":
        print_fn(f"figures skipped (--plots {plots}): tlsbayes report {out} draws them")
    return result


def resume_run(run_dir, *, max_steps=None, plots="all", allow_outside_data=False, print_fn=print,
               figures="svg"):
    """``tlsbayes resume``: continue the run in ``run_dir`` from its checkpoint.

    Parameters
    ----------
    run_dir : path-like
    max_steps : int, optional
        New step cap.
    plots : {"none", "fit", "all"}
        Figures drawn once the result is saved, ``figures`` their format (svg, png).
    allow_outside_data : bool
        See :func:`tlsbayes.rundir.load_run`.

    Returns
    -------
    FitResult or str
        The continued fit, or (nothing done) the note saying why the run need not continue.
    """
    run_dir = Path(run_dir)
    rundir.read_run_info(run_dir)  # a run directory, before the lock file is created in it
    with rundir.lock(run_dir, remove=True):
        return _resume_locked(run_dir, max_steps, plots=plots, figures=figures,
                              print_fn=print_fn, allow_outside_data=allow_outside_data)


def _resume_locked(run_dir, max_steps, *, plots, figures, print_fn, allow_outside_data):
    card, posterior, settings = rundir.load_run(run_dir, allow_outside_data=allow_outside_data)
    rundir.remove_temporaries(run_dir)  # left by a kill in mid-write
    note = rundir.resume_note(run_dir, posterior)
    if note:
        return note
    if max_steps is not None:
        settings = type(settings).from_dict({**settings.to_dict(), "max_steps": max_steps})
    info = rundir.read_run_info(run_dir)
    extra = {"card_name": card.name, "card_path": str(card.path), "data_files": info.get("data")}
    if isinstance(info.get("group"), dict):  # a run of 'tlsbayes batch', as batch records it
        extra["group"] = info["group"]
    return run_fit(posterior, settings, run_dir, card_text=card.text, resume=True,
                   print_fn=print_fn, plots=plots, figures=figures, extra_attrs=extra)


def report_run(run_dir, *, plots="all", html=False, allow_outside_data=False,
               figures="svg") -> Path:
    """``tlsbayes report``: summary, figures (``plots``, default all: any a ``fit --plots``
    skipped; in the format ``figures``) and report.md from the saved result; returns the path
    of the report (of report.html, a self-contained page with the figures embedded, if
    ``html``).  Nothing is resampled."""
    from .sampling import read_checkpoint

    run_dir = Path(run_dir)
    rundir.read_run_info(run_dir)  # a run directory, before the lock file is created in it
    with rundir.lock(run_dir, remove=True):
        card, posterior, settings = rundir.load_run(run_dir, allow_outside_data=allow_outside_data)
        # The summary, verdicts and figures read the posterior group and the attributes alone;
        # read first, so that a missing or foreign file is named by the reader's own message.
        idata = R.load(run_dir / rundir.POSTERIOR_FILE, groups=("posterior",))
        key = summary_key(run_dir / rundir.POSTERIOR_FILE)  # the lock: no one rewrites it now
        rundir.verify_result(run_dir, R.attrs_of(idata), card.text, posterior, settings)
        chain, burn = None, 0
        if (run_dir / rundir.CHECKPOINT_FILE).is_file():
            ck = read_checkpoint(run_dir / rundir.CHECKPOINT_FILE)
            rundir.verify_checkpoint(run_dir)
            rundir.verify_checkpoint_seed(run_dir, ck)
            chain = ck.chain
            burn = int(R.attrs_of(idata).get("extra", {}).get("burn_in", 0))
        res = report_from_idata(idata, posterior, run_dir, chain=chain, burn=burn, plots=plots,
                                result_key=key, figures=figures)
        if html:
            from .reporting import write_html_report

            return write_html_report(res["markdown"], run_dir / rundir.REPORT_HTML, base=run_dir)
    return run_dir / rundir.REPORT_FILE


def card_catalog(models_dir) -> list:
    """``tlsbayes models``: one line per card under ``models_dir``: path, models, title.

    Cards at the top level first, then those in subdirectories (``models/defrance2024/...``);
    TOML files of another kind in a subdirectory (e.g. a design plan) are left out.  A card
    that does not load is listed as ``INVALID`` with the reason.
    """
    from . import card as tcard

    models_dir = Path(models_dir)
    cards = sorted(models_dir.rglob("*.toml"),
                   key=lambda p: (len(p.relative_to(models_dir).parts), str(p)))
    if not cards:
        return [f"no model cards in {models_dir}"]
    lines = []
    for path in cards:
        shown = path.relative_to(models_dir).as_posix()
        if path.parent != models_dir and not _has_card_table(path):
            continue
        try:
            card = tcard.load_card(path, allow_outside_data=True)  # listed, not read
            kinds = "+".join(d.model for d in card.datasets)
            title = card.meta.get("title", "")
            sim = " [simulated data]" if card.meta.get("simulated") else ""
            lines.append(f"{shown:45s} {kinds:28s} {title}{sim}")
        except TLSBayesError as exc:
            lines.append(f"{shown:45s} INVALID: {exc}")
    return lines


def _has_card_table(path):
    """True if the TOML file has a top-level [card] table (or cannot be parsed: show it)."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    try:
        return "card" in tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return True
