"""The ``tlsbayes`` command: thin subcommands over the library.

    tlsbayes fit CARD [--data CSV] [--out DIR] [--seed N] [--walkers N] [--max-steps N]
    tlsbayes check CARD [--data CSV] [--seed N] [--walkers N] [--max-steps N]
    tlsbayes resume DIR
    tlsbayes report DIR [--html]
    tlsbayes models
    tlsbayes simulate CARD --out CSV [--seed N] [--dataset NAME]
    tlsbayes batch CARD [CARD...] [--data CSV] --group-by COLUMN
                   [--workers N | --scheduler ADDRESS] [--mpi] --out DIR
    tlsbayes design CARD --plan PLAN [--out DIR] [--at RUN_DIR] [--no-check]
    tlsbayes population [RUN_DIR...] [--group NAME RUN_DIR...]... [--param delta0] [--out DIR]
    tlsbayes compare RUN_DIR RUN_DIR... [--names A,B,...] [--by observation|dataset] [--out DIR]
    tlsbayes s21 PATH... --out DIR [--workers N | --scheduler ADDRESS] [--columns KIND]
                 [--pattern REGEX] [--geometry G] [--noise estimate|free] [--seed N] [--no-plots]
    tlsbayes bench

Exit status: 0 on success; 2 on bad input, with one line naming the file, column or parameter;
3 when a run stopped at its step cap without converging (unless ``--allow-unconverged``);
130 when interrupted.  ``batch``: 0 when every group converged, 3 when some did not (none
failed), 4 when at least one group failed (see ``tlsbayes.batch``); ``s21``: 0, or 4 when at
least one trace failed (its row says why).  Warnings (e.g.
temperatures that look like mK in a K column) are one ``tlsbayes: warning: ...`` line each on
stderr.  ``resume`` of a run that already converged
changes nothing, says so in one line and exits 0.  Every bad input and its message:
``docs/bad_inputs.md``.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

from .cli_commands import EXIT_BAD_INPUT, EXIT_NOT_CONVERGED, MODELS_DIR
from .cli_parsers import SUBCOMMANDS, Parser
from .errors import TLSBayesError

__all__ = ["EXIT_BAD_INPUT", "EXIT_NOT_CONVERGED", "MODELS_DIR", "build_parser", "main"]


def _err(msg):
    print(f"tlsbayes: error: {msg}", file=sys.stderr)


def _warn_line(message, category, filename, lineno, file=None, line=None):
    """``warnings.showwarning`` for the command line: one line, no source excerpt."""
    print(f"tlsbayes: warning: {message}", file=sys.stderr)


def build_parser():
    """The ``tlsbayes`` argument parser: one subparser per command (``args.func`` runs it)."""
    p = Parser(prog="tlsbayes", description=__doc__.split("\n")[0],
               formatter_class=argparse.RawDescriptionHelpFormatter,
               epilog="Run 'tlsbayes COMMAND --help' for each command.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in SUBCOMMANDS:
        add(sub)
    return p


def _numba_cache_fallback() -> None:
    """Point numba's cache at the temporary folder when it could write neither next to the
    package nor under the user's cache folder (a read-only shared install run with a HOME
    that is not writable): numba then raises at import ("no locator available") instead of
    compiling."""
    def writable(folder: Path) -> bool:
        while not os.path.exists(folder) and folder != folder.parent:
            folder = folder.parent
        return os.access(folder, os.W_OK | os.X_OK)

    if "NUMBA_CACHE_DIR" in os.environ or writable(Path(__file__).parent / "physics"):
        return
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if not writable(Path(cache)):
        import tempfile

        os.environ["NUMBA_CACHE_DIR"] = os.path.join(tempfile.gettempdir(),
                                                     f"tlsbayes-numba-{os.getuid()}")


def main(argv=None):
    """Run the ``tlsbayes`` command ``argv`` (default ``sys.argv[1:]``); return the exit status.

    Called without ``argv`` (the program itself), the process is also set up for a short
    command and left quickly (:mod:`tlsbayes.process`); a call from Python changes nothing.
    """
    if argv is not None:
        return _main(argv)
    from . import process

    process.setup()
    try:
        return _main(None)
    finally:
        process.finish()


def _main(argv):
    _numba_cache_fallback()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: bad flags exit 2 with one line, --help exits 0
        return int(exc.code or 0)
    try:
        from .errors import foreign_output_silenced
        from .io import DataWarning

        # Library warnings and log lines are hidden; ours are shown once per data set, every run.
        with foreign_output_silenced(DataWarning):
            warnings.showwarning = _warn_line
            return args.func(args)
    except TLSBayesError as exc:
        _err(exc)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("tlsbayes: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader of stdout has gone (tlsbayes models | head -1)
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - nothing left to flush at exit
        return 0
    except (OSError, MemoryError) as exc:  # a full or read-only disk, no permission, no memory
        _err(_system_error(exc))
        return EXIT_BAD_INPUT


def _system_error(exc) -> str:
    """One line for an error of the system rather than of the input: the file and the reason."""
    if isinstance(exc, MemoryError):
        return "out of memory (lower the walkers, max_steps or the data size)"
    reason = exc.strerror or " ".join(str(exc).split()) or type(exc).__name__
    names = [str(n) for n in (exc.filename, exc.filename2) if n is not None]
    return f"{' -> '.join(names)}: {reason}" if names else reason


if __name__ == "__main__":
    raise SystemExit(main())
