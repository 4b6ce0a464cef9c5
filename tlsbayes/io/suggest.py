"""Spelling suggestions for error messages ("did you mean ...?").

Shared by the data tables (:mod:`tlsbayes.io`) and the whitelists of cards and plans
(:mod:`tlsbayes.card.schema`), so that every message suggests a close name the same way.
"""

from __future__ import annotations

import difflib
from typing import Any

__all__ = ["did_you_mean"]


def did_you_mean(word: Any, options) -> str:
    """``"; did you mean 'x'?"`` for the closest of ``options`` to ``word``, or ``""``.

    Parameters
    ----------
    word : Any
        What the user wrote; anything but text gives ``""``.
    options : iterable of str
        The names that are allowed.

    Returns
    -------
    str
        The suffix to append to a message: a close match (difflib ratio >= 0.6), else a
        case-insensitive match, else nothing.
    """
    if not isinstance(word, str):
        return ""
    options = list(options)
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if not close:
        folded = [o for o in options if o.lower() == word.lower()]
        close = folded[:1]
    return f"; did you mean {close[0]!r}?" if close else ""
