"""What every model shares: named parameters, the predict wrapper and the registry of kinds.

A model is a small frozen dataclass holding the *constants* of an experiment (geometry,
frequency, temperature...).  Its parameters are declared by name; ``predict(params, x)`` maps a
``params`` mapping to the predicted observable at the points ``x`` and mutates nothing.
``params`` values may be floats (one prediction, shape ``(n,)``) or arrays of shape
``(nwalkers,)`` (shape ``(nwalkers, n)``): the heavy lifting is one numba call either way.

The contract between a model and its numba kernel is spelt out once per kernel module:
``PARAMS`` names the columns of the ``(nwalkers, k)`` parameter matrix the kernel reads and
``CONSTS`` the entries of its constants vector, in order.  :meth:`Model.slot_names` says which
parameter name fills each column (a few columns take a name that depends on the constants,
e.g. the critical scale ``E_c``/``n_c``/``P_c`` of :class:`~tlsbayes.models.qpower.QPower`).

Models know nothing about priors beyond *suggesting* defaults (plain dicts, parsed by
:mod:`tlsbayes.inference.prior_set`), because priors sit below models in the layer order.

Every model states the kind and SI unit of its ``x`` and ``y``; conversion from what users
have (mK, GHz, dBm, Qi, Γ/2π) happens once, at the edge (:mod:`tlsbayes.io`).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Callable, ClassVar, Mapping

import numpy as np

__all__ = ["Parameter", "Model", "MODELS", "register", "model_from_dict", "CONSTANT_UNITS",
           "kernel_array", "lazy_kernel"]

#: SI unit of every numeric model constant, by name ("" for dimensionless); text constants
#: (``saturation``, ``state``, ``phonon``, ``gap``) have none.  One table for all models
#: because a name means the same thing in each (``f`` is always the resonance frequency);
#: tests/test_report.py checks that every numeric field of every model is listed.
CONSTANT_UNITS = {
    "T": "K", "f": "Hz", "Qc": "", "A0": "m^2", "d": "m", "eps_r": "",
    "omega": "rad/s", "rho": "kg/m^3", "e": "m", "w": "m", "c_l": "m/s", "gap_ratio": "",
}


@dataclass(frozen=True)
class Parameter:
    """A named model parameter.

    Attributes
    ----------
    name : str
        Identifier used in cards, results and joint fits (shared by name across data sets).
    unit : str
        SI unit ("" for dimensionless).
    latex : str
        LaTeX label for plots.
    prior : dict
        Suggested default prior, as a card would declare it.
    physical_range : tuple of float
        Bounds no prior may exceed (e.g. beta in [0, 1], x in [0, 1]).
    """

    name: str
    unit: str
    latex: str
    prior: dict
    physical_range: tuple = (-math.inf, math.inf)


def kernel_array(a) -> np.ndarray:
    """``a`` as a read-only, C-contiguous float64 array (a view; a copy only if needed).

    Every compiled kernel and likelihood receives its data arrays (x, y, sigma) in this one
    form: numba compiles one specialisation per array type (layout and read-only flag), and
    on a fresh install (empty numba cache) each costs about a second.
    """
    v = np.ascontiguousarray(a, dtype=np.float64).view()
    v.flags.writeable = False
    return v


def _stack(params: Mapping, names):
    """(nwalkers, k) matrix of the named parameters, and whether the input was scalar."""
    cols = [np.asarray(params[n], dtype=np.float64) for n in names]
    scalar = all(c.ndim == 0 for c in cols)
    cols = np.broadcast_arrays(*[np.atleast_1d(c) for c in cols])
    return np.ascontiguousarray(np.stack(cols, axis=-1)), scalar


class Model:
    """Shared behaviour of the models: parameter bookkeeping and the predict wrapper.

    Subclasses set ``PARAMS``/``CONSTS`` (their kernel module's column names), ``kernel`` (the
    numba function ``kernel(P (nwalkers, k), x (n,), consts) -> (nwalkers, n)``) and implement
    :attr:`parameters` and :meth:`kernel_consts`.
    """

    kind: ClassVar[str]
    x_kind: ClassVar[str]
    x_unit: ClassVar[str]
    y_kind: ClassVar[str]
    y_unit: ClassVar[str]
    PARAMS: ClassVar[tuple]
    CONSTS: ClassVar[tuple]
    kernel: ClassVar[Callable]

    @property
    def parameters(self) -> tuple:
        raise NotImplementedError

    @property
    def param_names(self) -> tuple:
        return tuple(p.name for p in self.parameters)

    def slot_names(self) -> tuple:
        """The parameter name in each kernel column this model fills, in ``PARAMS`` order.

        ``PARAMS`` itself unless a subclass renames a column or leaves trailing ones unused;
        always equal to :attr:`param_names` (tests/test_model_contract.py).
        """
        return self.PARAMS

    def constants(self) -> dict:
        """The experiment constants, as a plain dict (for provenance and cards).

        Only the dataclass fields: ``__dataclass_fields__`` also lists the ``ClassVar``
        pseudo-fields (``kind``, ``y_kind``...), which are not constants of the experiment.
        """
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def default_priors(self, x=None, y=None) -> dict:
        """Suggested priors (card-style dicts) for every parameter, given the data if known."""
        return {p.name: dict(p.prior) for p in self.parameters}

    def kernel_consts(self) -> np.ndarray:
        """The kernel's constants vector, float64 of shape ``(len(CONSTS),)`` (at least 1)."""
        raise NotImplementedError

    def predict(self, params: Mapping, x) -> np.ndarray:
        """Predicted ``y`` at ``x``.

        Parameters
        ----------
        params : mapping
            ``name -> value``; values are floats or arrays of shape ``(nwalkers,)``.
        x : array_like, shape (n,)
            Abscissae in the model's SI unit (``x_unit``).

        Returns
        -------
        ndarray
            Shape ``(n,)`` for scalar params, ``(nwalkers, n)`` otherwise.
        """
        P, scalar = _stack(params, self.param_names)
        x = kernel_array(np.asarray(x, dtype=np.float64).reshape(-1))
        out = self.kernel(P, x, self.kernel_consts())
        return out[0] if scalar else out

    def predict_matrix(self, P: np.ndarray, x: np.ndarray) -> np.ndarray:
        """``predict`` on a ready ``(nwalkers, k)`` C-contiguous matrix in ``param_names``
        order."""
        return self.kernel(P, kernel_array(x), self.kernel_consts())


class lazy_kernel:  # noqa: N801 - used like staticmethod, as a class attribute
    """Class attribute ``kernel``: a numba function of a kernel module imported on first use.

    Reading a card builds its models (names, units, constants, default priors) and never
    predicts; importing numba and loading the compiled kernels costs about a second, so a
    model's module names its kernel and the kernel module is imported when first asked for.

    Parameters
    ----------
    load : callable
        ``load() -> module``, a static ``from .kernels import x`` in the model's module.
    name : str
        The kernel function's name in that module.
    """

    def __init__(self, load: Callable, name: str):
        self._load, self._name, self._fn = load, name, None

    def __get__(self, obj, owner=None):
        if self._fn is None:
            self._fn = getattr(self._load(), self._name)
        return self._fn


MODELS: dict = {}
"""``kind -> model class``; filled by :func:`register` as the kernel modules are imported."""


def register(cls):
    """Class decorator: make ``cls`` buildable from cards under ``cls.kind``."""
    if cls.kind in MODELS:
        raise ValueError(f"model kind {cls.kind!r} registered twice")
    MODELS[cls.kind] = cls
    return cls


def model_from_dict(kind: str, constants: Mapping) -> Model:
    """Build a model from its kind and a dict of constants (what a card declares).

    Raises ``KeyError``/``TypeError``/``ValueError`` with the offending name; the config layer
    turns them into :class:`tlsbayes.errors.CardError`.
    """
    if kind not in MODELS:
        raise KeyError(f"unknown model {kind!r} (known: {', '.join(sorted(MODELS))})")
    cls = MODELS[kind]
    allowed = set(cls.__dataclass_fields__)
    unknown = set(constants) - allowed
    if unknown:
        raise TypeError(f"model {kind!r}: unknown constant(s) {', '.join(sorted(unknown))} "
                        f"(allowed: {', '.join(sorted(allowed)) or 'none'})")
    return cls(**constants)
