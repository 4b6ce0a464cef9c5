"""The ``tlsbayes`` command: thin subcommands over the library.

    tlsbayes fit CARD [--data CSV] [--out DIR] [--seed N] [--walkers N] [--max-steps N]
    tlsbayes resume DIR
    tlsbayes report DIR
    tlsbayes models
    tlsbayes bench

Exit status: 0 on success; 2 on bad input, with one line naming the file, column or parameter;
3 when a run stopped at its step cap without converging (unless ``--allow-unconverged``);
130 when interrupted.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .errors import TLSBayesError

EXIT_BAD_INPUT = 2
EXIT_NOT_CONVERGED = 3
MODELS_DIR = Path(__file__).resolve().parents[1] / "models"
RUN_FILE = "run.json"


def _err(msg):
    print(f"tlsbayes: error: {msg}", file=sys.stderr)


def _settings(card, args):
    from .sampling import SamplerSettings

    s = dict(card.sampler)
    for key, val in (("seed", args.seed), ("nwalkers", args.walkers),
                     ("max_steps", args.max_steps)):
        if val is not None:
            s[key] = val
    if getattr(args, "no_progress", False):
        s["progress"] = False
    s.setdefault("seed", 0)
    return SamplerSettings.from_dict(s)


def _verdict_exit(result, allow):
    if result.converged:
        return 0
    bar = "!" * 78
    print(f"\n{bar}\nNOT CONVERGED: {result.verdict}\nThe posterior in {result.outdir} is not "
          f"trustworthy. Continue with: tlsbayes resume {result.outdir} (after raising "
          f"max_steps), or rerun with --max-steps.\n{bar}", file=sys.stderr)
    return 0 if allow else EXIT_NOT_CONVERGED


def _cmd_fit(args):
    from . import config
    from ._atomic import atomic_write_text
    from .fit import run_fit

    card = config.load_card(args.card)
    posterior, data = config.build_posterior(card, data_override=args.data)
    settings = _settings(card, args)
    out = Path(args.out) if args.out else Path("results") / "runs" / card.name
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "card.toml", card.text)
    run_info = {"card": str(Path(card.path).resolve()), "card_name": card.name,
                "data_override": str(Path(args.data).resolve()) if args.data else None,
                "settings": settings.to_dict(),
                "data": [{"source": str(d.source), "sha256": d.sha256,
                          "rows_used": d.n_rows_used} for d in data]}
    atomic_write_text(out / RUN_FILE, json.dumps(run_info, indent=1))
    print(f"tlsbayes fit: card {card.path} ({card.name}), {posterior.ndim} free parameters "
          f"({', '.join(posterior.free_names)}), "
          f"{sum(ds.n for ds in posterior.datasets)} data points -> {out}")
    result = run_fit(posterior, settings, out, card_text=card.text,
                     extra_attrs={"card_name": card.name, "card_path": str(card.path),
                                  "data_files": run_info["data"]})
    print(f"\nresults in {out}: posterior.nc, summary.csv, report.md, fit.png, corner.png, "
          "trace.png")
    return _verdict_exit(result, args.allow_unconverged)


def _load_run(run_dir):
    """Rebuild the posterior of a run directory from its card copy (for resume and report)."""
    from . import config
    from .sampling import SamplerSettings

    run_dir = Path(run_dir)
    info_path = run_dir / RUN_FILE
    if not info_path.is_file():
        raise TLSBayesError(f"{run_dir}: not a tlsbayes run directory (no {RUN_FILE})")
    try:
        info = json.loads(info_path.read_text())
        card_text = (run_dir / "card.toml").read_text()
    except (OSError, ValueError) as exc:
        raise TLSBayesError(f"{run_dir}: run directory is damaged ({exc})") from None
    # Parse the saved copy as if it stood where the original card did, so that relative data
    # paths resolve as they did for the fit.
    card = config.parse_card(card_text, Path(info["card"]))
    posterior, _ = config.build_posterior(card, data_override=info.get("data_override"))
    return card, posterior, SamplerSettings.from_dict(info["settings"])


def _cmd_resume(args):
    from .fit import run_fit

    card, posterior, settings = _load_run(args.run_dir)
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
    from . import config

    cards = sorted(MODELS_DIR.glob("*.toml"))
    if not cards:
        print(f"no model cards in {MODELS_DIR}")
        return 0
    for path in cards:
        try:
            card = config.load_card(path)
            kinds = "+".join(d.model for d in card.datasets)
            title = card.meta.get("title", "")
            sim = " [simulated data]" if card.meta.get("simulated") else ""
            print(f"{path.name:45s} {kinds:28s} {title}{sim}")
        except TLSBayesError as exc:
            print(f"{path.name:45s} INVALID: {exc}")
    return 0


def _cmd_bench(args):
    from . import bench

    bench.run(quick=args.quick)
    if not args.no_fits:
        print()
        bench.run_fits()
    return 0


def build_parser():
    p = argparse.ArgumentParser(prog="tlsbayes", description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="Run 'tlsbayes COMMAND --help' for each command.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    f = sub.add_parser("fit", help="fit a model card: MAP, MCMC to convergence, report",
                       description="Fit a model card and write a run directory with "
                                   "posterior.nc, summary.csv, report.md and figures.")
    f.add_argument("card", help="model card (TOML), e.g. models/defrance_B2_809MHz.toml")
    f.add_argument("--data", help="CSV replacing the card's data file (single-dataset cards)")
    f.add_argument("--out", help="run directory (default results/runs/<card name>)")
    f.add_argument("--seed", type=int, help="random seed (default: the card's, else 0)")
    f.add_argument("--walkers", type=int, help="number of walkers")
    f.add_argument("--max-steps", type=int, help="step cap")
    f.add_argument("--no-progress", action="store_true", help="no progress bar")
    f.add_argument("--allow-unconverged", action="store_true",
                   help="exit 0 even if the run hit its step cap without converging")
    f.set_defaults(func=_cmd_fit)

    r = sub.add_parser("resume", help="continue an interrupted or unconverged run",
                       description="Continue the run in DIR from its last checkpoint; the "
                                   "result is identical to an uninterrupted run.")
    r.add_argument("run_dir", help="run directory written by 'tlsbayes fit'")
    r.add_argument("--max-steps", type=int, help="raise the step cap")
    r.add_argument("--allow-unconverged", action="store_true")
    r.set_defaults(func=_cmd_resume)

    rp = sub.add_parser("report", help="re-make summary, figures and report.md (no sampling)",
                        description="Rebuild summary.csv, figures and report.md from the "
                                    "saved posterior.nc without resampling.")
    rp.add_argument("run_dir")
    rp.set_defaults(func=_cmd_report)

    m = sub.add_parser("models", help="list the shipped model cards")
    m.set_defaults(func=_cmd_models)

    b = sub.add_parser("bench", help="time kernels and fits against baselines",
                       description="Median time per 40-point evaluation of each kernel against "
                                   "the baseline a user would write, and the time to a "
                                   "converged posterior against emcee's own floor, measured "
                                   "side by side in one run.")
    b.add_argument("--quick", action="store_true", help="shorter timing runs")
    b.add_argument("--no-fits", action="store_true",
                   help="kernels only; skip the time-to-converged-posterior section")
    b.set_defaults(func=_cmd_bench)
    return p


def main(argv=None):
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: bad flags exit 2 with a usage line, --help exits 0
        return int(exc.code or 0)
    try:
        return args.func(args)
    except TLSBayesError as exc:
        _err(exc)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("tlsbayes: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
