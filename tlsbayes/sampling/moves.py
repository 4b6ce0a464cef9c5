"""The emcee move sets a sampler setting may name.

A whitelist: settings name a move set, they never carry code or arbitrary class paths.
The ``"independence"`` set (:mod:`tlsbayes.sampling.independence`) also needs a proposal
``(mean, cov)`` from the caller (e.g. a least-squares optimum and its covariance), passed to
:func:`build_moves` by :func:`tlsbayes.sampling.runner.run`.
"""

from __future__ import annotations

from typing import Callable

from ..errors import SamplingError

__all__ = ["MOVES", "NEEDS_PROPOSAL", "build_moves"]

def _moves():
    # emcee (1-2 s: its KDE move imports scipy.stats) is imported when a sampler is built,
    # not when a setting is checked (``tlsbayes check`` validates the move name only).
    import emcee.moves

    return emcee.moves


def _independence_moves(*args, **kwargs):
    from .independence import independence_moves  # imports emcee: only when used

    return independence_moves(*args, **kwargs)


#: ``name -> factory`` of an emcee move list ``[(move, weight), ...]``.
#: The factories take no argument except ``"independence"``, which takes ``(mean, cov)``.
MOVES: dict[str, Callable[..., list]] = {
    "stretch": lambda: [(_moves().StretchMove(), 1.0)],
    "de": lambda: [(_moves().DEMove(), 0.8), (_moves().DESnookerMove(), 0.2)],
    "independence": _independence_moves,
}

#: Move sets that need a proposal ``(mean, cov)``.
NEEDS_PROPOSAL = frozenset({"independence"})


def build_moves(name: str, proposal=None) -> list:
    """Fresh emcee move list ``[(move, weight), ...]`` for the move set ``name``.

    Fresh objects per sampler: emcee moves are stateless today, but sharing one between two
    samplers would tie them together if a move ever kept an adaptation state.

    Parameters
    ----------
    name : str
        A key of :data:`MOVES`.
    proposal : tuple (mean, cov), optional
        Required by the move sets in :data:`NEEDS_PROPOSAL`, ignored by the others.
    """
    if name in NEEDS_PROPOSAL:
        if proposal is None:
            raise SamplingError(f"moves '{name}' need a proposal (mean, cov); none was given")
        mean, cov = proposal
        return MOVES[name](mean, cov)
    return MOVES[name]()
