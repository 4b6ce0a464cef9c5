"""The ``tlsbayes`` command: thin subcommands over the library.

    tlsbayes fit CARD [--data CSV] [--out DIR] [--seed N] [--walkers N] [--max-steps N]
    tlsbayes check CARD [--data CSV] [--seed N] [--walkers N] [--max-steps N]
    tlsbayes resume DIR
    tlsbayes report DIR
    tlsbayes models
    tlsbayes simulate CARD --out CSV [--seed N] [--dataset NAME]
    tlsbayes batch CARD [--data CSV] --group-by COLUMN [--workers N | --scheduler ADDRESS]
                   [--mpi] --out DIR
    tlsbayes design CARD --plan PLAN [--out DIR] [--at RUN_DIR] [--no-check]
    tlsbayes population [RUN_DIR...] [--group NAME RUN_DIR...]... [--param delta0] [--out DIR]
    tlsbayes compare RUN_DIR RUN_DIR... [--names A,B,...] [--by observation|dataset] [--out DIR]
    tlsbayes bench

Exit status: 0 on success; 2 on bad input, with one line naming the file, column or parameter;
3 when a run stopped at its step cap without converging (unless ``--allow-unconverged``);
130 when interrupted.  ``batch``: 0 when every group converged, 3 when some did not (none
failed), 4 when at least one group failed (see ``tlsbayes.batch``).  Warnings (e.g.
temperatures that look like mK in a K column) are one ``tlsbayes: warning: ...`` line each on
stderr.  ``resume`` of a run that already converged
changes nothing, says so in one line and exits 0.  Every bad input and its message:
``docs/bad_inputs.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

from . import __version__
from .errors import SamplingError, TLSBayesError

EXIT_BAD_INPUT = 2
EXIT_NOT_CONVERGED = 3
MODELS_DIR = Path(__file__).resolve().parents[1] / "models"
RUN_FILE = "run.json"
#: Layout version of run.json; bump it when resume/report can no longer read older ones.
RUN_FORMAT = 1


def _err(msg):
    print(f"tlsbayes: error: {msg}", file=sys.stderr)


def _warn_line(message, category, filename, lineno, file=None, line=None):
    """``warnings.showwarning`` for the command line: one line, no source excerpt."""
    print(f"tlsbayes: warning: {message}", file=sys.stderr)


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error message (no usage block), exit status 2."""

    def error(self, message):
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see: {self.prog} --help)\n")


def _int_at_least(low):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{text!r} must be an integer >= {low}")
        return value
    return parse


def _settings(card, args, ndim):
    """Sampler settings of the card, overridden by the flags; checked against ``ndim``."""
    from .card import sampler_settings
    from .sampling import ensemble_problem

    # The flags are range-checked by argparse: a bad value left here comes from the card.
    settings = sampler_settings(card, seed=args.seed, nwalkers=args.walkers,
                                max_steps=args.max_steps,
                                progress=False if getattr(args, "no_progress", False) else None)
    nw = settings.resolve_nwalkers(ndim)
    where = (f"--walkers {args.walkers}" if args.walkers is not None
             else f"{card.path}: [sampler] nwalkers = {nw}")
    problem = ensemble_problem(nw, ndim, settings.n_groups)
    if problem:
        raise SamplingError(f"{where}: {problem}")
    return settings


def _verdict_exit(result, allow):
    if result.converged:
        return 0
    bar = "!" * 78
    print(f"\n{bar}\nNOT CONVERGED: {result.verdict}\nThe posterior in {result.outdir} is not "
          f"trustworthy. Continue with: tlsbayes resume {result.outdir} (after raising "
          f"max_steps), or rerun with --max-steps.\n{bar}", file=sys.stderr)
    return 0 if allow else EXIT_NOT_CONVERGED


def _prepare(args):
    """Everything ``fit`` does before it writes or samples: card, data, settings."""
    from . import card as tcard

    card = tcard.load_card(args.card)
    posterior, data = tcard.build_posterior(card, data_override=args.data)
    settings = _settings(card, args, posterior.ndim)
    return card, posterior, data, settings


def _describe(card, posterior, data, settings):
    print(f"card {card.path} ({card.name}): {posterior.ndim} free parameters "
          f"({', '.join(posterior.free_names)}), "
          f"{sum(ds.n for ds in posterior.datasets)} data points, "
          f"{settings.resolve_nwalkers(posterior.ndim)} walkers, max_steps {settings.max_steps}")
    for d in data:
        print(f"  data {d.source}: {d.n} points" + "".join(f"; {n}" for n in d.notes
                                                             if not n.startswith("warning:")))


def _cmd_check(args):
    card, posterior, data, settings = _prepare(args)
    _describe(card, posterior, data, settings)
    print("card and data are valid (nothing written)")
    return 0


def _cmd_fit(args):
    from ._atomic import atomic_write_text
    from .fit import run_fit

    card, posterior, data, settings = _prepare(args)
    out = Path(args.out) if args.out else Path("results") / "runs" / card.name
    if out.exists() and not out.is_dir():
        raise TLSBayesError(f"--out {out}: exists and is not a directory")
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TLSBayesError(f"--out {out}: cannot create the run directory "
                            f"({exc.strerror or exc})") from None
    fresh = [n for n in ("card.toml", RUN_FILE) if not (out / n).exists()]
    atomic_write_text(out / "card.toml", card.text)
    run_info = {"run_format": RUN_FORMAT, "tlsbayes_version": __version__,
                "card": str(Path(card.path).resolve()), "card_name": card.name,
                "data_override": str(Path(args.data).resolve()) if args.data else None,
                "settings": settings.to_dict(),
                "data": [{"source": str(d.source), "sha256": d.sha256,
                          "rows_used": d.n_rows_used} for d in data]}
    atomic_write_text(out / RUN_FILE, json.dumps(run_info, indent=1))
    print("tlsbayes fit: ", end="")
    _describe(card, posterior, data, settings)
    print(f"  -> {out}")
    try:
        result = run_fit(posterior, settings, out, card_text=card.text,
                         extra_attrs={"card_name": card.name, "card_path": str(card.path),
                                      "data_files": run_info["data"]})
    except TLSBayesError:
        # Failed before the first checkpoint (MAP, start ball): nothing to resume, so leave no
        # half-written run directory behind.
        if not (out / "checkpoint.h5").exists():
            for name in fresh:
                (out / name).unlink(missing_ok=True)
            if created and not any(out.iterdir()):
                out.rmdir()
        raise
    print(f"\nresults in {out}: posterior.nc, summary.csv, report.md, fit.png, corner.png, "
          "trace.png")
    return _verdict_exit(result, args.allow_unconverged)


def _load_run(run_dir):
    """Rebuild the posterior of a run directory from its card copy (for resume and report)."""
    from . import card as tcard
    from .sampling import SamplerSettings

    run_dir = Path(run_dir)
    info_path = run_dir / RUN_FILE
    if not info_path.is_file():
        raise TLSBayesError(f"{run_dir}: not a tlsbayes run directory (no {RUN_FILE})")
    try:
        info = json.loads(info_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TLSBayesError(f"{info_path}: damaged, not readable JSON ({exc})") from None
    if not isinstance(info, dict):
        raise TLSBayesError(f"{info_path}: damaged, expected a JSON object")
    fmt = info.get("run_format", 1)  # run directories from before run_format was recorded
    if fmt != RUN_FORMAT:
        raise TLSBayesError(f"{info_path}: run format {fmt!r} (tlsbayes "
                            f"{info.get('tlsbayes_version', '?')}) is not the format "
                            f"{RUN_FORMAT} this tlsbayes {__version__} reads; use the tlsbayes "
                            "version that wrote it, or fit the card again")
    for key, kind in (("card", str), ("settings", dict)):
        if not isinstance(info.get(key), kind):
            raise TLSBayesError(f"{info_path}: damaged, key {key!r} is missing or not "
                                f"{'text' if kind is str else 'a table'}")
    card_copy = run_dir / "card.toml"
    try:
        card_text = card_copy.read_text(encoding="utf-8")
    except (OSError, ValueError) as exc:
        what = "is missing" if isinstance(exc, FileNotFoundError) else f"is unreadable ({exc})"
        raise TLSBayesError(f"{card_copy}: the run's copy of its card {what}; the run "
                            "directory is incomplete") from None
    # Parse the saved copy as if it stood where the original card did, so that relative data
    # paths resolve as they did for the fit.
    card = tcard.parse_card(card_text, Path(info["card"]))
    if isinstance(info.get("group"), dict):  # a run directory of 'tlsbayes batch'
        from .batch import card_for_group

        card = card_for_group(card, info["group"]["column"], info["group"]["value"])
    posterior, _ = tcard.build_posterior(card, data_override=info.get("data_override"))
    try:
        settings = SamplerSettings.from_dict(info["settings"])
    except (SamplingError, TypeError) as exc:
        raise TLSBayesError(f"{info_path}: damaged sampler settings ({exc})") from None
    return card, posterior, settings


def _resume_check(run_dir, posterior):
    """Stop early, before any work, if the run in ``run_dir`` cannot or need not continue.

    Returns a note (the run already converged: nothing to do) or None (resume it).
    """
    from . import results as R
    from .sampling import read_checkpoint

    ck_path = run_dir / "checkpoint.h5"
    if not ck_path.is_file():
        raise SamplingError(f"{ck_path}: missing, so there is nothing to resume (the run "
                            f"stopped before its first checkpoint); start again with: "
                            "tlsbayes fit")
    ck = read_checkpoint(ck_path)
    post, report = run_dir / "posterior.nc", run_dir / "report.md"
    # report.md is written last: older than posterior.nc (or absent), the run was stopped
    # while writing its results, and resuming rewrites them from the checkpoint.
    if post.exists() and report.exists() and \
            report.stat().st_mtime_ns >= post.stat().st_mtime_ns:
        attrs = R.attrs_of(R.load(post))
        steps = (attrs.get("extra") or {}).get("steps")
        if attrs.get("converged") is True and steps == ck.steps:
            return (f"{run_dir}: this run already converged after {ck.steps} steps; nothing "
                    f"to resume, nothing changed (tlsbayes report {run_dir} rebuilds the "
                    "report)")
    if tuple(ck.names) == tuple(posterior.free_names):
        # Walkers restart where they stopped: all must lie inside the (possibly edited) priors.
        last = ck.chain[-1]
        values = posterior.params(last)
        for j, name in enumerate(posterior.free_names):
            lo, hi = posterior.priors[name].support
            out = [w for w in range(last.shape[0]) if not lo <= float(values[name][w]) <= hi]
            if out:
                w = out[0]
                raise SamplingError(
                    f"{run_dir / 'card.toml'}: [priors] {name}: {len(out)} of {last.shape[0]} "
                    f"walkers stopped outside its support [{lo:g}, {hi:g}] (walker {w} at "
                    f"{name} = {float(values[name][w]):g}); the prior was narrowed after the "
                    "run, so it cannot be resumed: restore the prior or fit again")
    return None


def _cmd_resume(args):
    from ._atomic import remove_temporaries
    from .batch import RUN_FILES
    from .fit import run_fit

    card, posterior, settings = _load_run(args.run_dir)
    remove_temporaries(args.run_dir, RUN_FILES)  # left by a kill in mid-write
    note = _resume_check(Path(args.run_dir), posterior)
    if note:
        print(f"tlsbayes: {note}", file=sys.stderr)
        return 0
    if args.max_steps is not None:
        settings = type(settings).from_dict({**settings.to_dict(), "max_steps": args.max_steps})
    result = run_fit(posterior, settings, Path(args.run_dir), card_text=card.text, resume=True,
                     extra_attrs={"card_name": card.name, "card_path": str(card.path)})
    return _verdict_exit(result, args.allow_unconverged)


def _cmd_report(args):
    from . import results as R
    from .fit import report_from_idata
    from .sampling import read_checkpoint

    run_dir = Path(args.run_dir)
    _, posterior, _ = _load_run(run_dir)
    idata = R.load(run_dir / "posterior.nc")
    chain, burn = None, 0
    if (run_dir / "checkpoint.h5").is_file():
        ck = read_checkpoint(run_dir / "checkpoint.h5")
        chain = ck.chain
        burn = int(R.attrs_of(idata).get("extra", {}).get("burn_in", 0))
    report_from_idata(idata, posterior, run_dir, chain=chain, burn=burn)
    print(f"report written to {run_dir / 'report.md'}")
    return 0


def _cmd_models(args):
    from . import card as tcard

    # cards at the top level first, then those in subdirectories (models/defrance2024/...)
    cards = sorted(MODELS_DIR.rglob("*.toml"),
                   key=lambda p: (len(p.relative_to(MODELS_DIR).parts), str(p)))
    if not cards:
        print(f"no model cards in {MODELS_DIR}")
        return 0
    for path in cards:
        shown = path.relative_to(MODELS_DIR).as_posix()
        if path.parent != MODELS_DIR and not _has_card_table(path):
            continue  # another kind of TOML in a subdirectory (e.g. a design plan)
        try:
            card = tcard.load_card(path)
            kinds = "+".join(d.model for d in card.datasets)
            title = card.meta.get("title", "")
            sim = " [simulated data]" if card.meta.get("simulated") else ""
            print(f"{shown:45s} {kinds:28s} {title}{sim}")
        except TLSBayesError as exc:
            print(f"{shown:45s} INVALID: {exc}")
    return 0


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


def _cmd_simulate(args):
    from . import card as tcard
    from .card import write_simulated_csv

    card = tcard.load_card(args.card)
    table = write_simulated_csv(card, args.out, dataset=args.dataset, seed=args.seed)
    print(f"tlsbayes simulate: {len(table.rows)} rows of data set {table.dataset!r} of card "
          f"{card.path} -> {args.out} (SIMULATED; columns {', '.join(table.columns)})")
    return 0


def _cmd_batch(args):
    import contextlib

    from . import batch
    from . import card as tcard

    if args.scheduler and (args.workers is not None or args.mpi):
        raise TLSBayesError("--scheduler cannot be combined with --workers or --mpi (the Dask "
                            "cluster has its own workers)")
    card = tcard.load_card(args.card)
    plans = batch.plan_groups(card, args.group_by, data=args.data)
    settings = _settings(card, args, next((len(p.free_names) for p in plans if p.free_names), 1))
    executor, engine, closing = None, f"{args.workers or 'all CPU'} local worker(s)", None
    if args.scheduler:
        executor, closing = batch.dask_executor(args.scheduler)
        engine = f"Dask scheduler {args.scheduler}"
    elif args.mpi:
        executor = closing = batch.mpi_executor(args.workers)
        engine = "MPI (mpi4py.futures)"
    print(f"tlsbayes batch: card {card.path}, {len(plans)} group(s) of column "
          f"{args.group_by!r}, {engine} -> {args.out}", flush=True)
    with closing if closing is not None else contextlib.nullcontext():
        res = batch.run_batch(card, args.group_by, args.out, settings=settings, data=args.data,
                              executor=executor, workers=args.workers, plots=not args.no_plots,
                              plans=plans, print_fn=lambda line: print(line, flush=True))
    print(f"{res.count(batch.CONVERGED)} converged, {res.count(batch.NOT_CONVERGED)} not "
          f"converged, {res.count(batch.FAILED)} failed; index: {res.index}")
    if res.exit_status == EXIT_NOT_CONVERGED and args.allow_unconverged:
        return 0
    return res.exit_status


def _cmd_design(args):
    from . import card as tcard
    from . import design

    card = tcard.load_card(args.card)
    plan = design.load_plan(args.plan, card)
    out = Path(args.out) if args.out else Path("results") / "design" / plan.name
    res = design.run_design(card, plan, run_dir=args.at, outdir=out, check=not args.no_check)
    print(f"design written to {out}: " + ", ".join(Path(f).name for f in res.files))
    return 0


def _cmd_population(args):
    from . import population as H
    from .sampling import SamplerSettings

    groups = {}
    if args.run_dirs:
        groups["all"] = list(args.run_dirs)
    for name, *dirs in args.group or []:
        if not dirs:
            raise TLSBayesError(f"--group {name}: no run directories given")
        groups.setdefault(name, []).extend(dirs)
    if not groups:
        raise TLSBayesError("population: give run directories (positional or --group NAME ...)")
    pop = H.population_from_runs(groups, param=args.param, scale=args.scale,
                                 max_draws=args.max_draws, sigma_scale=args.sigma_scale,
                                 max_variance=args.max_variance)
    out = Path(args.out) if args.out else Path("results") / "populations" / args.param
    print(f"tlsbayes population: {len(pop.members)} resonators in {len(pop.groups)} group(s) "
          f"({', '.join(pop.groups)}), {args.scale} {args.param} ~ Normal(mu, sigma) -> {out}")
    settings = SamplerSettings(seed=args.seed, progress=not args.no_progress)
    result = H.fit_population(pop, settings, out, min_ess=args.min_ess)
    print(H.format_population(result))
    print(f"\nresults in {out}: population.nc, summary.csv, members.csv, population.md")
    if not result.converged and not args.allow_unconverged:
        print(f"NOT CONVERGED: {result.verdict}", file=sys.stderr)
        return EXIT_NOT_CONVERGED
    return 0


def _cmd_compare(args):
    from . import compare as C

    names = [n.strip() for n in args.names.split(",")] if args.names else None
    result = C.compare_runs(args.run_dirs, names=names, unit=args.by)
    print(C.format_compare(result))
    if args.out:
        C.write_compare(result, args.out)
        print(f"\nwritten: {Path(args.out) / 'compare.md'}, {Path(args.out) / 'compare.csv'}")
    return 0


def _cmd_bench(args):
    from . import bench

    bench.run(quick=args.quick)
    if not args.no_fits:
        print()
        try:
            bench.run_fits(cards=args.cards)
        except FileNotFoundError as exc:
            print(f"tlsbayes: error: {exc}", file=sys.stderr)
            return 2
    return 0


def _card_arguments(parser):
    parser.add_argument("card", help="model card (TOML), e.g. models/defrance_B2_809MHz.toml")
    parser.add_argument("--data",
                        help="CSV replacing the card's data file (single-dataset cards)")
    parser.add_argument("--seed", type=_int_at_least(0),
                        help="random seed (default: the card's, else 0)")
    parser.add_argument("--walkers", type=_int_at_least(2), help="number of walkers")
    parser.add_argument("--max-steps", type=_int_at_least(1), help="step cap")


def build_parser():
    p = _Parser(prog="tlsbayes", description=__doc__.split("\n")[0],
                formatter_class=argparse.RawDescriptionHelpFormatter,
                epilog="Run 'tlsbayes COMMAND --help' for each command.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    f = sub.add_parser("fit", help="fit a model card: MAP, MCMC to convergence, report",
                       description="Fit a model card and write a run directory with "
                                   "posterior.nc, summary.csv, report.md and figures.")
    _card_arguments(f)
    f.add_argument("--out", help="run directory (default results/runs/<card name>)")
    f.add_argument("--no-progress", action="store_true", help="no progress bar")
    f.add_argument("--allow-unconverged", action="store_true",
                   help="exit 0 even if the run hit its step cap without converging")
    f.set_defaults(func=_cmd_fit)

    c = sub.add_parser("check", help="validate a card and its data without fitting",
                       description="Do everything 'fit' does before sampling (card, data, "
                                   "priors, sampler settings) and report; writes nothing.")
    _card_arguments(c)
    c.set_defaults(func=_cmd_check)

    r = sub.add_parser("resume", help="continue an interrupted or unconverged run",
                       description="Continue the run in DIR from its last checkpoint; the "
                                   "result is identical to an uninterrupted run.")
    r.add_argument("run_dir", help="run directory written by 'tlsbayes fit'")
    r.add_argument("--max-steps", type=_int_at_least(1), help="raise the step cap")
    r.add_argument("--allow-unconverged", action="store_true")
    r.set_defaults(func=_cmd_resume)

    rp = sub.add_parser("report", help="re-make summary, figures and report.md (no sampling)",
                        description="Rebuild summary.csv, figures and report.md from the "
                                    "saved posterior.nc without resampling.")
    rp.add_argument("run_dir")
    rp.set_defaults(func=_cmd_report)

    m = sub.add_parser("models", help="list the shipped model cards")
    m.set_defaults(func=_cmd_models)

    sm = sub.add_parser("simulate", help="simulate a data table in a card's layout",
                        description="Simulate data from the card's model at the values of its "
                                    "[simulation] table (parameters, x grid, noise; prior "
                                    "medians where absent) and write them as a CSV with the "
                                    "card's columns and units.")
    sm.add_argument("card", help="model card (TOML)")
    sm.add_argument("--out", required=True, help="CSV to write (atomically)")
    sm.add_argument("--seed", type=int, help="random seed (default: [simulation] seed, else 0)")
    sm.add_argument("--dataset", help="data set to simulate (cards with several)")
    sm.set_defaults(func=_cmd_simulate)

    bt = sub.add_parser("batch", help="fit every group of a table (resonator, film...)",
                        description="Fit the card to every group of rows of the data (one "
                                    "value of --group-by each), in parallel, and write "
                                    "DIR/index.csv and one run directory per group. Reruns "
                                    "skip finished groups and continue interrupted ones. "
                                    "Exit 0: all converged; 3: some not converged; 4: some "
                                    "failed.")
    _card_arguments(bt)
    bt.add_argument("--group-by", required=True, metavar="COLUMN",
                    help="column whose values define the groups")
    bt.add_argument("--out", required=True, metavar="DIR", help="batch directory")
    bt.add_argument("--workers", type=_int_at_least(1),
                    help="local worker processes (default: CPUs), or MPI workers with --mpi")
    bt.add_argument("--scheduler", metavar="ADDRESS",
                    help="Dask distributed scheduler, e.g. tcp://host:8786")
    bt.add_argument("--mpi", action="store_true", help="MPI workers via mpi4py.futures")
    bt.add_argument("--no-plots", action="store_true", help="no figures (faster)")
    bt.add_argument("--allow-unconverged", action="store_true",
                    help="exit 0 when no group failed even if some did not converge")
    bt.set_defaults(func=_cmd_batch)

    dz = sub.add_parser("design", help="forecast the posterior widths of proposed measurements",
                        description="Fisher forecast, at the current posterior or a given point, "
                                    "of the posterior widths and degeneracies each alternative "
                                    "of a plan (TOML; see tlsbayes.design) would give, checked "
                                    "by simulating and fitting; writes design.md, design.json "
                                    "and design_ellipses.png.")
    dz.add_argument("card", help="model card (TOML)")
    dz.add_argument("--plan", required=True, help="plan file (TOML) with the alternatives")
    dz.add_argument("--out", help="output directory (default results/design/<plan name>)")
    dz.add_argument("--at", metavar="RUN_DIR",
                    help="forecast at the posterior medians of this finished run")
    dz.add_argument("--no-check", action="store_true",
                    help="skip the simulate-and-fit check of the plan's alternatives")
    dz.set_defaults(func=_cmd_design)

    po = sub.add_parser("population", help="hierarchical inference over many fitted resonators",
                        description="Two-stage population inference: reweight each run's "
                                    "posterior of --param against its own prior to sample "
                                    "ln(param) ~ Normal(mu_g, sigma_g) per group; writes "
                                    "population.nc, summary.csv, members.csv, population.md.")
    po.add_argument("run_dirs", nargs="*", metavar="RUN_DIR",
                    help="run directories of group 'all'")
    po.add_argument("--group", nargs="+", action="append", metavar=("NAME", "RUN_DIR"),
                    help="a named group and its run directories (repeatable)")
    po.add_argument("--param", default="delta0", help="population parameter (default delta0)")
    po.add_argument("--scale", choices=("log", "linear"), default="log",
                    help="population in ln(param) (default) or param")
    po.add_argument("--out", help="output directory (default results/populations/<param>)")
    po.add_argument("--seed", type=_int_at_least(0), default=0)
    po.add_argument("--max-draws", type=_int_at_least(10), default=1000,
                    help="posterior draws kept per resonator (default 1000)")
    po.add_argument("--min-ess", type=float, default=20.0,
                    help="warn when a resonator's reweighting ESS is below this (default 20)")
    po.add_argument("--sigma-scale", type=float, default=1.0,
                    help="scale of the half-normal prior on each sigma (default 1)")
    po.add_argument("--max-variance", type=float, default=1.0,
                    help="exclude hyperparameters where the Monte-Carlo variance of ln L "
                         "exceeds this (default 1)")
    po.add_argument("--no-progress", action="store_true", help="no progress bar")
    po.add_argument("--allow-unconverged", action="store_true")
    po.set_defaults(func=_cmd_population)

    co = sub.add_parser("compare", help="rank fitted models by PSIS-LOO",
                        description="PSIS-LOO from the pointwise log-likelihood of each run's "
                                    "posterior.nc (all data sets of a joint fit included); "
                                    "table of elpd_loo, se, elpd difference, dse, p_loo, "
                                    "stacking weight and Pareto k.")
    co.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="runs fitted to the same data")
    co.add_argument("--names", help="comma-separated labels (default: card names)")
    co.add_argument("--by", choices=("observation", "dataset"), default="observation",
                    help="leave out one point (default) or one whole data set")
    co.add_argument("--out", help="write compare.md and compare.csv here")
    co.set_defaults(func=_cmd_compare)

    b = sub.add_parser("bench", help="time kernels and fits against baselines",
                       description="Median time per 40-point evaluation of each kernel against "
                                   "the baseline a user would write, and the time to a "
                                   "converged posterior against emcee's own floor, measured "
                                   "side by side in one run.")
    b.add_argument("--quick", action="store_true", help="shorter timing runs")
    b.add_argument("--no-fits", action="store_true",
                   help="kernels only; skip the time-to-converged-posterior section")
    b.add_argument("--cards", nargs="+", metavar="PATH",
                   help="cards, or directories of cards, to time (default: every top-level "
                        "card in models/, the papers' fits)")
    b.set_defaults(func=_cmd_bench)
    return p


def main(argv=None):
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: bad flags exit 2 with one line, --help exits 0
        return int(exc.code or 0)
    try:
        from .io import DataWarning

        with warnings.catch_warnings():
            warnings.showwarning = _warn_line
            warnings.simplefilter("always", DataWarning)  # once per data set, every run
            return args.func(args)
    except TLSBayesError as exc:
        _err(exc)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("tlsbayes: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
