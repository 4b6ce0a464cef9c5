"""Exceptions with messages a physicist can act on.

Every error raised for bad user input derives from :class:`TLSBayesError`; its message names the
file, column or parameter involved and what is wrong.  The command line prints it as one line
and exits with status 2.
"""


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
