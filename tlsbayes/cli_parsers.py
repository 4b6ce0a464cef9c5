"""The argument parsers of the ``tlsbayes`` subcommands, one ``add_*`` function each (split
from :mod:`tlsbayes.cli`); each sets ``func`` to its handler in :mod:`tlsbayes.cli_commands`.
"""

from __future__ import annotations

import argparse

from . import cli_commands as C
from .cli_commands import EXIT_BAD_INPUT


class Parser(argparse.ArgumentParser):
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


def _allow_outside_argument(parser):
    # The flag's name is tlsbayes.card.ALLOW_FLAG, spelled out so that --help imports no card.
    parser.add_argument("--allow-outside-data", action="store_true",
                        help="let the card read data files outside its own folder tree and "
                             "the shared real-data directory (absolute or '..' paths, links "
                             "leading out; for report/resume also a --data given to the fit); "
                             "refused otherwise")


def _card_arguments(parser, nargs=None):
    parser.add_argument("card", nargs=nargs, help="model card (TOML), e.g. models/defrance_"
                        "B2_809MHz_qpower.toml" + (nargs and "; several: one queue of workers, "
                                                   "each card in DIR/<card name>" or ""))
    parser.add_argument("--data",
                        help="CSV replacing the card's data file (single-dataset cards)")
    _allow_outside_argument(parser)
    parser.add_argument("--seed", type=_int_at_least(0),
                        help="random seed (default: the card's, else 0)")
    parser.add_argument("--walkers", type=_int_at_least(2), help="number of walkers")
    parser.add_argument("--max-steps", type=_int_at_least(1), help="step cap")


class _ExamplesFormatter(argparse.HelpFormatter):
    """Wraps the description as usual but prints an ``examples:`` epilog line by line."""

    def _fill_text(self, text, width, indent):
        if text.startswith("examples:\n"):
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def _examples(*commands) -> dict:
    """``add_parser`` keywords for an epilog of example commands (tests/test_examples.py
    runs every one of them, so the cards they name must exist)."""
    return {"formatter_class": _ExamplesFormatter,
            "epilog": "examples:\n" + "\n".join(f"  {c}" for c in commands)}


def _plots_argument(parser, text="figures drawn after the result is saved: none, fit (data "
                   "and fit), all (also corner and trace; default); 'tlsbayes report' draws "
                   "skipped ones later"):
    # The choices are fit_report.PLOT_CHOICES and rundir.FIGURE_FILES, spelled out so that
    # --help imports no pipeline.
    parser.add_argument("--plots", choices=("none", "fit", "all"), default="all", help=text)
    parser.add_argument("--figures", choices=("svg", "png"), default="svg",
                        help="format of the figures: svg (default; drawn without matplotlib, "
                             "vector, viewable in any browser) or png (matplotlib)")


def add_fit(sub):
    p = sub.add_parser("fit", help="fit a model card: MAP, MCMC to convergence, report",
                       description="Fit a model card and write a run directory with "
                                   "posterior.nc, summary.csv, report.md and figures.",
                       **_examples("tlsbayes fit models/maillet_SiN_damping_N.toml",
                                   "tlsbayes fit models/real/ta_LGS1_5p70GHz_qpower.toml "
                                   "--plots none"))
    _card_arguments(p)
    p.add_argument("--out", help="run directory (default results/runs/<card name>)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace a run of another card, data or seed in --out (else refused)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    _plots_argument(p)
    p.add_argument("--allow-unconverged", action="store_true",
                   help="exit 0 even if the run hit its step cap without converging")
    p.set_defaults(func=C.cmd_fit)


def add_check(sub):
    p = sub.add_parser("check", help="validate a card and its data without fitting",
                       description="Do everything 'fit' does before sampling (card, data, "
                                   "priors, sampler settings) and report; writes nothing.",
                       **_examples("tlsbayes check models/maillet_SiN_damping_N.toml"))
    _card_arguments(p)
    p.set_defaults(func=C.cmd_check)


def add_resume(sub):
    p = sub.add_parser("resume", help="continue an interrupted or unconverged run",
                       description="Continue the run in DIR from its last checkpoint; the "
                                   "result is identical to an uninterrupted run.",
                       **_examples("tlsbayes resume results/runs/maillet_SiN_damping_N"))
    p.add_argument("run_dir", help="run directory written by 'tlsbayes fit'")
    p.add_argument("--max-steps", type=_int_at_least(1), help="raise the step cap")
    _plots_argument(p)
    p.add_argument("--allow-unconverged", action="store_true")
    _allow_outside_argument(p)
    p.set_defaults(func=C.cmd_resume)


def add_report(sub):
    p = sub.add_parser("report", help="re-make summary, figures and report.md (no sampling)",
                       description="Rebuild summary.csv, figures and report.md from the "
                                   "saved posterior.nc without resampling.",
                       **_examples("tlsbayes report results/runs/maillet_SiN_damping_N",
                                   "tlsbayes report results/runs/maillet_SiN_damping_N "
                                   "--plots none --html"))
    p.add_argument("run_dir")
    _plots_argument(p, "figures to (re)draw (default all: any that 'fit --plots' skipped)")
    p.add_argument("--html", action="store_true",
                   help="also write report.html: one self-contained page, figures embedded "
                        "(for a lab notebook or an email)")
    _allow_outside_argument(p)
    p.set_defaults(func=C.cmd_report)


def add_models(sub):
    p = sub.add_parser("models", help="list the shipped model cards")
    p.set_defaults(func=C.cmd_models)


def add_simulate(sub):
    p = sub.add_parser("simulate", help="simulate a data table in a card's layout",
                       description="Simulate data from the card's model at the values of its "
                                   "[simulation] table (parameters, x grid, noise; prior "
                                   "medians where absent) and write them as a CSV with the "
                                   "card's columns and units.",
                       **_examples("tlsbayes simulate models/defrance_B2_809MHz_qpower.toml "
                                   "--out sim.csv --seed 1"))
    p.add_argument("card", help="model card (TOML)")
    p.add_argument("--out", required=True, help="CSV to write (atomically)")
    p.add_argument("--seed", type=int, help="random seed (default: [simulation] seed, else 0)")
    p.add_argument("--dataset", help="data set to simulate (cards with several)")
    _allow_outside_argument(p)
    p.set_defaults(func=C.cmd_simulate)


def add_s21(sub):
    p = sub.add_parser("s21", help="raw resonator traces (S21) to per-trace posteriors",
                       description="Fit every trace file under PATH (files or folders) and "
                                   "write DIR/traces.csv (one row per trace: f_res, Qi, Qc, "
                                   "Ql with 16/84 %% quantiles, status, reason) and each "
                                   "trace's posterior as NetCDF in DIR/posteriors/ and its "
                                   "figure in DIR/figures/. Reruns "
                                   "skip files already fitted with the same options. Exit 0: "
                                   "no trace failed; 4: some failed.")
    p.add_argument("paths", nargs="+", metavar="PATH", help="trace files or folders")
    p.add_argument("--out", required=True, metavar="DIR", help="output directory")
    p.add_argument("--workers", type=_int_at_least(1), default=1,
                   help="local worker processes (default 1)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="Dask distributed scheduler, e.g. tcp://host:8786")
    p.add_argument("--columns", choices=("db_deg", "db_rad", "lin_deg", "reim", "iq"),
                   help="column layout of text files (default: from header or numbers)")
    p.add_argument("--pattern", metavar="REGEX",
                   help="file-name pattern with groups power_dBm and temperature_mK/_K")
    p.add_argument("--geometry", choices=("notch", "inverse", "reflection"),
                   help="resonator geometry (default: notch; reflection for .s1p)")
    p.add_argument("--noise", choices=("estimate", "free"), default="estimate",
                   help="noise level estimated from the data (default) or sampled")
    p.add_argument("--seed", type=int, default=0, help="seed of every trace's sampler")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--no-plots", action="store_true", help="no per-trace figures (faster)")
    p.set_defaults(func=C.cmd_s21)


def add_batch(sub):
    p = sub.add_parser("batch", help="fit every group of a table (resonator, film...)",
                       description="Fit the card to every group of rows of the data (one "
                                   "value of --group-by each), in parallel, and write "
                                   "DIR/index.csv and one run directory per group. Reruns "
                                   "skip finished groups and continue interrupted ones. "
                                   "Exit 0: all converged; 3: some not converged; 4: some "
                                   "failed.",
                       **_examples("tlsbayes batch models/real/gaas_trilayer_resB_qpower.toml "
                                   "--group-by resonator --workers 2 --out results/batch/gaas"))
    _card_arguments(p, nargs="+")
    p.add_argument("--group-by", required=True, metavar="COLUMN",
                   help="column whose values define the groups")
    p.add_argument("--out", required=True, metavar="DIR", help="batch directory")
    p.add_argument("--workers", type=_int_at_least(1),
                   help="local worker processes (default: CPUs), or MPI workers with --mpi")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="Dask distributed scheduler, e.g. tcp://host:8786")
    p.add_argument("--mpi", action="store_true", help="MPI workers via mpi4py.futures")
    _plots_argument(p, "figures per group, drawn after its result is saved (default all)")
    p.add_argument("--no-plots", action="store_true", help="same as --plots none")
    p.add_argument("--allow-unconverged", action="store_true",
                   help="exit 0 when no group failed even if some did not converge")
    p.set_defaults(func=C.cmd_batch)


def add_design(sub):
    p = sub.add_parser("design", help="forecast the posterior widths of proposed measurements",
                       description="Fisher forecast, at the current posterior or a given point, "
                                   "of the posterior widths and degeneracies each alternative "
                                   "of a plan (TOML; see tlsbayes.design) would give, checked "
                                   "by simulating and fitting; writes design.md, design.json "
                                   "and design_ellipses.png.")
    p.add_argument("card", help="model card (TOML)")
    p.add_argument("--plan", required=True, help="plan file (TOML) with the alternatives")
    p.add_argument("--out", help="output directory (default results/design/<plan name>)")
    p.add_argument("--at", metavar="RUN_DIR",
                   help="forecast at the posterior medians of this finished run")
    p.add_argument("--no-check", action="store_true",
                   help="skip the simulate-and-fit check of the plan's alternatives")
    _allow_outside_argument(p)
    p.set_defaults(func=C.cmd_design)


def add_population(sub):
    p = sub.add_parser("population", help="hierarchical inference over many fitted resonators",
                       description="Two-stage population inference: reweight each run's "
                                   "posterior of --param against its own prior to sample "
                                   "ln(param) ~ Normal(mu_g, sigma_g) per group; writes "
                                   "population.nc, summary.csv, members.csv, population.md.")
    p.add_argument("run_dirs", nargs="*", metavar="RUN_DIR",
                   help="run directories of group 'all'")
    p.add_argument("--group", nargs="+", action="append", metavar=("NAME", "RUN_DIR"),
                   help="a named group and its run directories (repeatable)")
    p.add_argument("--param", default="delta0", help="population parameter (default delta0)")
    p.add_argument("--scale", choices=("log", "linear"), default="log",
                   help="population in ln(param) (default) or param")
    p.add_argument("--out", help="output directory (default results/populations/<param>)")
    p.add_argument("--seed", type=_int_at_least(0), default=0)
    p.add_argument("--max-draws", type=_int_at_least(10), default=1000,
                   help="posterior draws kept per resonator (default 1000)")
    p.add_argument("--min-ess", type=float, default=20.0,
                   help="warn when a resonator's reweighting ESS is below this (default 20)")
    p.add_argument("--sigma-scale", type=float, default=1.0,
                   help="scale of the half-normal prior on each sigma (default 1)")
    p.add_argument("--max-variance", type=float, default=1.0,
                   help="exclude hyperparameters where the Monte-Carlo variance of ln L "
                        "exceeds this (default 1)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--allow-unconverged", action="store_true")
    p.set_defaults(func=C.cmd_population)


def add_compare(sub):
    p = sub.add_parser("compare", help="rank fitted models by PSIS-LOO",
                       description="PSIS-LOO from the pointwise log-likelihood of each run's "
                                   "posterior.nc (all data sets of a joint fit included); "
                                   "table of elpd_loo, se, elpd difference, dse, p_loo, "
                                   "stacking weight and Pareto k.")
    p.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="runs fitted to the same data")
    p.add_argument("--names", help="comma-separated labels (default: card names)")
    p.add_argument("--by", choices=("observation", "dataset"), default="observation",
                   help="leave out one point (default) or one whole data set")
    p.add_argument("--out", help="write compare.md and compare.csv here")
    p.set_defaults(func=C.cmd_compare)


def add_bench(sub):
    p = sub.add_parser("bench", help="time kernels and fits against baselines",
                       description="Median time per 40-point evaluation of each kernel against "
                                   "the baseline a user would write, and the time to a "
                                   "converged posterior against emcee's own floor, measured "
                                   "side by side in one run.")
    p.add_argument("--quick", action="store_true",
                   help="a few minutes: shorter kernel timings; each card once, fit figure "
                        "only")
    p.add_argument("--no-fits", action="store_true",
                   help="kernels only; skip the time-to-converged-posterior section")
    p.add_argument("--cards", nargs="+", metavar="PATH",
                   help="cards, or directories of cards, to time (default: every shipped "
                        "card, models/*.toml and models/real/*.toml)")
    p.add_argument("--markdown", metavar="FILE",
                   help="also write the per-card table as Markdown (the README's bench table)")
    p.add_argument("--engine", choices=("emcee", "compiled", "compiled_loop"),
                   help="sample every timed card with this engine (default: each card's own "
                        "setting), e.g. to compare the two side by side")
    p.add_argument("--startup", action="store_true",
                   help="only the fixed costs of a real fit (process start to report with "
                        "figures) side by side with a curve_fit process, phase by phase")
    p.add_argument("--s21", nargs="*", metavar="PATH", help="only raw S21: one trace phase by "
                   "phase, then 'tlsbayes s21' on PATH (default: the shared Ta traces) beside "
                   "resonator_tools' method (--quick: one trace only)")
    p.add_argument("--workers", type=_int_at_least(1), default=2, help="--s21 workers (2)")
    p.add_argument("--out", metavar="DIR", help="keep the --s21 folder run here")
    p.add_argument("--json", metavar="FILE", help="also write the --s21 figures as JSON")
    p.set_defaults(func=C.cmd_bench)


#: One function per subcommand, in the order ``tlsbayes --help`` lists them.
SUBCOMMANDS = (add_fit, add_check, add_resume, add_report, add_models, add_simulate,
                add_batch, add_design, add_population, add_compare, add_s21, add_bench)
