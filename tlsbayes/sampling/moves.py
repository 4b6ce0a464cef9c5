"""The emcee move sets a sampler setting may name.

A whitelist: settings name a move set, they never carry code or arbitrary class paths.
"""

from __future__ import annotations

from typing import Callable

import emcee

__all__ = ["MOVES", "build_moves"]

#: ``name -> factory`` of an emcee move list ``[(move, weight), ...]``.
MOVES: dict[str, Callable[[], list]] = {
    "stretch": lambda: [(emcee.moves.StretchMove(), 1.0)],
    "de": lambda: [(emcee.moves.DEMove(), 0.8), (emcee.moves.DESnookerMove(), 0.2)],
}


def build_moves(name: str) -> list:
    """Fresh emcee move list ``[(move, weight), ...]`` for the move set ``name``.

    Fresh objects per sampler: emcee moves are stateless today, but sharing one between two
    samplers would tie them together if a move ever kept an adaptation state.
    """
    return MOVES[name]()
