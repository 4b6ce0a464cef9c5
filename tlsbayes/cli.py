"""The ``tlsbayes`` command: thin subcommands over the library.

Exit status: 0 on success, 2 on bad input (one line naming the file, column or parameter),
1 on a run that did not converge (unless ``--allow-unconverged``).
"""

from __future__ import annotations

import argparse
import sys

from .errors import TLSBayesError


def _cmd_bench(args):
    from . import bench

    bench.run(quick=args.quick)
    if not args.no_fits:
        print()
        bench.run_fits()
    return 0


def build_parser():
    p = argparse.ArgumentParser(prog="tlsbayes", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    b = sub.add_parser("bench", help="time the kernels against scipy/numpy baselines",
                       description="Median time per 40-point evaluation of each kernel, and "
                                   "the speed-up over the baseline a user would write, "
                                   "measured side by side in one run.")
    b.add_argument("--quick", action="store_true", help="shorter timing runs")
    b.add_argument("--no-fits", action="store_true",
                   help="kernels only; skip the time-to-converged-posterior section")
    b.set_defaults(func=_cmd_bench)
    return p


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except TLSBayesError as exc:
        print(f"tlsbayes: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tlsbayes: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
