"""emcee, imported without :mod:`scipy.stats`: every module of tlsbayes takes it from here.

``import emcee`` imports all of its moves, and its KDE move (``emcee/moves/kde.py``) imports
``scipy.stats`` for ``gaussian_kde``: 1.3-1.6 s of a 2 s emcee import, for a move tlsbayes never
uses.  emcee's module already handles a missing ``scipy.stats`` (``gaussian_kde = None``), so
while emcee is imported ``scipy.stats`` is marked absent (``sys.modules["scipy.stats"] =
None``, the import system's own way of saying so), then unmarked, and the KDE move is handed
a ``gaussian_kde`` that imports scipy.stats when a KDE proposal is first made: KDEMove still
works, and pays for scipy.stats only if used.  Nothing else of emcee changes (the engine, its
moves and its HDF5 layout are emcee's own).
"""

from __future__ import annotations

import sys

__all__ = ["emcee"]


def gaussian_kde(*args, **kwargs):
    """``scipy.stats.gaussian_kde(*args, **kwargs)``, imported on first call (for KDEMove)."""
    from scipy.stats import gaussian_kde as kde

    return kde(*args, **kwargs)


def _import_emcee():
    if "emcee" in sys.modules or "scipy.stats" in sys.modules:
        import emcee

        return emcee
    sys.modules["scipy.stats"] = None  # type: ignore[assignment]
    try:
        import emcee
    except ImportError:  # an emcee whose KDE move needs scipy.stats: the plain import
        emcee = None
    finally:
        if "scipy.stats" in sys.modules and sys.modules["scipy.stats"] is None:
            del sys.modules["scipy.stats"]
    if emcee is None:
        import emcee
    kde = sys.modules.get("emcee.moves.kde")
    if kde is not None and getattr(kde, "gaussian_kde", False) is None:
        kde.gaussian_kde = gaussian_kde
    return emcee


emcee = _import_emcee()
