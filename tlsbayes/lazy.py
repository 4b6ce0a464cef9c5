"""Names of a package imported on first use (PEP 562), for packages whose modules are slow.

``tlsbayes.results`` (ArviZ, xarray) and ``tlsbayes.sampling`` (emcee, scipy.optimize) are on
the import path of commands that never use those libraries (``check``, ``models``, a rejected
card); each package maps its slow names to the module that owns them and gets a module-level
``__getattr__`` from :func:`lazy_getattr`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import ModuleType


def lazy_getattr(package: str, owners: Mapping[str, str], namespace: dict,
                 load: Callable[[str], ModuleType]) -> Callable:
    """A module ``__getattr__`` importing ``package.<owners[name]>`` when ``name`` is first used.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    owners : mapping of str to str
        Public name -> submodule (relative to ``package``) that defines it.
    namespace : dict
        The package's ``globals()``: the value is cached there, so the import runs once.
    load : callable
        ``load(owner) -> module``, written by the package with static ``from . import x``
        statements: nothing is imported by a computed name (no importlib; the package is
        checked for that in tests/test_bad_inputs.py).
    """

    def __getattr__(name):
        owner = owners.get(name)
        if owner is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(load(owner), name)
        namespace[name] = value
        return value

    return __getattr__
