"""The handlers of the ``tlsbayes`` subcommands: each calls one pipeline function and prints
its outcome (split from :mod:`tlsbayes.cli`, which parses the arguments and maps exceptions to
exit codes).  Pipelines are imported inside each handler, so that ``--help`` and a bad flag
import none of them.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .errors import TLSBayesError

EXIT_BAD_INPUT = 2
EXIT_NOT_CONVERGED = 3
MODELS_DIR = Path(__file__).resolve().parents[1] / "models"


def _overrides(args):
    """The card overrides given on the command line (None: the card's value)."""
    return {"seed": args.seed, "walkers": args.walkers, "max_steps": args.max_steps,
            "progress": False if getattr(args, "no_progress", False) else None}


def _verdict_exit(result, allow):
    if result.converged:
        return 0
    bar = "!" * 78
    print(f"\n{bar}\nNOT CONVERGED: {result.verdict}\nThe posterior in {result.outdir} is not "
          f"trustworthy. Continue with: tlsbayes resume {result.outdir} (after raising "
          f"max_steps), or rerun with --max-steps.\n{bar}", file=sys.stderr)
    return 0 if allow else EXIT_NOT_CONVERGED


def cmd_check(args):
    from .fit import describe_fit, prepare_fit

    prepared = prepare_fit(args.card, data=args.data, allow_outside_data=args.allow_outside_data,
                           **_overrides(args))
    for line in describe_fit(*prepared):
        print(line)
    print("card and data are valid (nothing written)")
    return 0


def cmd_fit(args):
    from .fit import fit_card

    result = fit_card(args.card, out=args.out, data=args.data, plots=args.plots,
                      figures=args.figures,
                      overwrite=args.overwrite, allow_outside_data=args.allow_outside_data,
                      **_overrides(args))
    return _verdict_exit(result, args.allow_unconverged)


def cmd_resume(args):
    from .fit import resume_run

    result = resume_run(args.run_dir, max_steps=args.max_steps, plots=args.plots,
                        figures=args.figures,
                        allow_outside_data=args.allow_outside_data)
    if isinstance(result, str):  # nothing to do
        print(f"tlsbayes: {result}", file=sys.stderr)
        return 0
    return _verdict_exit(result, args.allow_unconverged)


def cmd_report(args):
    from .fit import report_run

    path = report_run(args.run_dir, plots=args.plots, html=args.html, figures=args.figures,
                      allow_outside_data=args.allow_outside_data)
    print(f"report written to {path}")
    return 0


def cmd_models(args):
    from .fit import card_catalog

    for line in card_catalog(MODELS_DIR):
        print(line)
    return 0


def cmd_simulate(args):
    from . import card as tcard
    from .card import write_simulated_csv

    card = tcard.load_card(args.card, allow_outside_data=args.allow_outside_data)
    table = write_simulated_csv(card, args.out, dataset=args.dataset, seed=args.seed)
    print(f"tlsbayes simulate: {len(table.rows)} rows of data set {table.dataset!r} of card "
          f"{card.path} -> {args.out} (SIMULATED; columns {', '.join(table.columns)})")
    return 0


def cmd_batch(args):
    from . import batch

    res = batch.batch_card(args.card, args.group_by, args.out, data=args.data,
                           allow_outside_data=args.allow_outside_data,
                           workers=args.workers, scheduler=args.scheduler, mpi=args.mpi,
                           plots="none" if args.no_plots else args.plots,
                           figures=args.figures, **_overrides(args))
    if res.exit_status == EXIT_NOT_CONVERGED and args.allow_unconverged:
        return 0
    return res.exit_status


def cmd_design(args):
    from . import card as tcard
    from . import design

    card = tcard.load_card(args.card, allow_outside_data=args.allow_outside_data)
    plan = design.load_plan(args.plan, card)
    out = Path(args.out) if args.out else Path("results") / "design" / plan.name
    res = design.run_design(card, plan, run_dir=args.at, outdir=out, check=not args.no_check)
    print(f"design written to {out}: " + ", ".join(Path(f).name for f in res.files))
    return 0


def cmd_population(args):
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


def cmd_compare(args):
    from . import compare as C

    names = [n.strip() for n in args.names.split(",")] if args.names else None
    result = C.compare_runs(args.run_dirs, names=names, unit=args.by)
    print(C.format_compare(result))
    if args.out:
        C.write_compare(result, args.out)
        print(f"\nwritten: {Path(args.out) / 'compare.md'}, {Path(args.out) / 'compare.csv'}")
    return 0


def cmd_bench(args):
    from . import bench, bench_startup

    if args.s21 is not None:
        from . import bench_s21

        bench_s21.main_s21(args.s21, workers=args.workers, out=args.out, quick=args.quick,
                           json_path=args.json)
        return 0
    if args.startup:
        bench_startup.run()
        return 0
    bench.run(quick=args.quick)
    if not args.no_fits:
        print()
        try:
            rows = bench.run_fits(cards=args.cards, quick=args.quick, engine=args.engine)
        except FileNotFoundError as exc:
            print(f"tlsbayes: error: {exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
        if args.markdown:
            from .bench_fits import markdown_table

            Path(args.markdown).write_text("\n".join(markdown_table(rows)) + "\n")
            print(f"\nwritten: {args.markdown}")
        print()
        bench_startup.run()
    return 0


def cmd_s21(args):
    from .s21.run import run_s21

    res = run_s21(args.paths, args.out, workers=args.workers, scheduler=args.scheduler,
                  columns=args.columns, pattern=args.pattern, geometry=args.geometry,
                  noise=args.noise, seed=args.seed, progress=not args.quiet,
                  plots=not args.no_plots)
    print("\n".join(res.summary_lines()))
    return res.exit_status
