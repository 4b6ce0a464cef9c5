"""Exceptions with messages a physicist can act on.

Every error raised for bad user input derives from :class:`TLSBayesError`; its message names the
file, column or parameter involved and what is wrong.  The command line prints it as one line
and exits with status 2.
"""

import contextlib
import logging
import warnings


class TLSBayesError(ValueError):
    """Base class for errors caused by bad input (data, cards, priors, run directories)."""


class PriorError(TLSBayesError):
    """A prior declaration is invalid (bad bounds, unknown distribution, unknown key)."""


class DataError(TLSBayesError):
    """A data table is unusable (missing column, non-numeric or non-finite cell, ...)."""


class CardError(TLSBayesError):
    """A model card is invalid (unknown key, unknown model, missing parameter, ...)."""


class SamplingError(TLSBayesError):
    """The sampler cannot start or continue (start outside prior support, corrupt checkpoint)."""


class ResultError(TLSBayesError):
    """A result cannot be built, written or read (bad shapes, unreadable or foreign file)."""


class RunDirError(TLSBayesError):
    """A run directory is missing, damaged, of another format, or locked by another process."""


class BatchError(TLSBayesError):
    """A batch cannot start (engine unavailable, output directory locked...)."""


def one_line(exc: BaseException) -> str:
    """The message of ``exc`` on one line; prefixed by its type unless it is a
    :class:`TLSBayesError` (whose message is already meant for the user)."""
    text = " ".join(str(exc).split())
    return text if isinstance(exc, TLSBayesError) else f"{type(exc).__name__}: {text}"


def silence_foreign_output() -> None:
    """Hide the warnings and log records of libraries (numpy, ArviZ, corner, matplotlib...)
    for the rest of this process: the user acts on tlsbayes' own one-line messages, and e.g.
    ``WARNING:root:Too few points to create valid contours`` says nothing they can act on.

    For worker processes; the command line uses :func:`foreign_output_silenced`.
    """
    warnings.simplefilter("ignore")
    logging.getLogger().addHandler(logging.NullHandler())
    logging.disable(logging.WARNING)


@contextlib.contextmanager
def foreign_output_silenced(*own):
    """For the block: :func:`silence_foreign_output`, except the warning categories ``own``
    (tlsbayes' own, e.g. ``DataWarning``), which are always shown.

    Log records up to WARNING are dropped (libraries such as ArviZ log through their own
    stderr handlers), and a root logger with a handler (the ``NullHandler`` added here) keeps
    ``logging.warning`` from installing its default stderr handler.
    """
    root = logging.getLogger()
    null = logging.NullHandler()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for category in own:
            warnings.simplefilter("always", category)
        root.addHandler(null)
        previous = logging.root.manager.disable
        logging.disable(max(previous, logging.WARNING))
        try:
            yield
        finally:
            logging.disable(previous)
            root.removeHandler(null)
