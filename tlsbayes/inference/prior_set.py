"""Sets of priors: the ordered :class:`PriorSet`, card parsing, and the one compiled evaluator.

:class:`PriorSet` lays the free parameters out in a ``theta`` vector and converts between
``theta`` and ``params``.  Its log density and the sampler's hot path are the same compiled
function, :func:`prior_and_params`, fed with the rows each prior supplies
(:meth:`tlsbayes.inference.priors.Prior.compiled_row`).

Priors read from cards go through :func:`prior_from_dict`, which accepts only whitelisted
distribution names and keys and never evaluates strings.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from tlsbayes.errors import PriorError

from .priors import (DISTRIBUTIONS, ROW_COLUMNS, Fixed, Prior, as_real, check_rng, fmt,
                     scalar_or_array)

__all__ = ["PriorSet", "prior_from_dict", "CompiledPriors", "compile_priors",
           "prior_and_params"]


# --------------------------------------------------------------------------------------------
# the compiled evaluator
# --------------------------------------------------------------------------------------------


class CompiledPriors(NamedTuple):
    """A :class:`PriorSet` flattened into arrays for :func:`prior_and_params`.

    Attributes
    ----------
    codes : ndarray of int64, shape (ndim,)
        Row code of each free parameter (``CODE_*`` of :mod:`tlsbayes.inference.priors`).
    table : ndarray, shape (ndim, len(ROW_COLUMNS))
        Row numbers of each free parameter, in the sampling coordinate.
    fixed : ndarray, shape (nparams,)
        Value of every parameter, NaN for the free ones.
    free_pos : ndarray of int64, shape (ndim,)
        Position of each free parameter among all parameters.
    """

    codes: np.ndarray
    table: np.ndarray
    fixed: np.ndarray
    free_pos: np.ndarray


def compile_priors(priors: PriorSet) -> CompiledPriors:
    """Flatten ``priors`` into the arrays of the compiled evaluator (one row per free prior)."""
    free = priors.free_names
    codes = np.empty(len(free), dtype=np.int64)
    table = np.zeros((len(free), len(ROW_COLUMNS)))
    for i, name in enumerate(free):
        try:
            codes[i], table[i] = priors[name].compiled_row()
        except PriorError as exc:
            raise PriorError(f"prior for {name!r}: {exc}") from None
    fixed = np.array([priors[n].value if isinstance(priors[n], Fixed) else np.nan
                      for n in priors.names])
    free_pos = np.array([priors.names.index(n) for n in free], dtype=np.int64)
    return CompiledPriors(codes, table, fixed, free_pos)


def prior_and_params(theta: np.ndarray, compiled: CompiledPriors):
    """Log prior and physical values of every parameter: the sampler's hot path.

    Parameters
    ----------
    theta : ndarray, shape (nwalkers, ndim)
        Sampling coordinates (C-contiguous float64).
    compiled : CompiledPriors

    Returns
    -------
    lp : ndarray, shape (nwalkers,)
        Joint log prior in sampling coordinates (Jacobians included); ``-inf`` outside the
        support and for NaN, never NaN.
    params : ndarray, shape (nwalkers, nparams)
        Physical values in :attr:`PriorSet.names` order, fixed ones included.
    """
    return _evaluator()(theta, *compiled)


@functools.cache
def _evaluator():
    """The compiled evaluator, imported (with numba) on the first evaluation and then kept:
    an import statement here would cost ~10 us a call on the sampler's hot path."""
    from .kernels import prior_rows_and_params

    return prior_rows_and_params


# --------------------------------------------------------------------------------------------
# parsing
# --------------------------------------------------------------------------------------------


def prior_from_dict(
    d: Mapping[str, Any],
    name: str = "parameter",
    physical_range: tuple[float, float] | None = None,
) -> Prior:
    """Build a prior from a plain dict (e.g. a TOML table) through a whitelist.

    Parameters
    ----------
    d : Mapping
        ``{"dist": <name>, <numeric keys>..., "unit": str, "latex": str}``.  Allowed ``dist``
        names and their numeric keys: ``uniform`` (low, high), ``loguniform`` (low, high),
        ``normal`` (mu, sigma), ``truncnorm`` (mu, sigma, low, high), ``fixed`` (value).
        ``unit`` and ``latex`` are optional.  Numeric keys must be numbers; strings are
        rejected, never evaluated.
    name : str, optional
        Parameter name, used in error messages.
    physical_range : (float, float), optional
        Interval the parameter can physically take (±inf allowed); the prior's support must
        lie inside it.

    Returns
    -------
    Prior

    Raises
    ------
    PriorError
        Unknown distribution, unknown or missing key, non-numeric or invalid value, or support
        outside `physical_range`; the message names the parameter and the key.
    """
    where = f"prior for {name!r}"
    if not isinstance(d, Mapping):
        raise PriorError(f"{where}: expected a table of keys, got {type(d).__name__} {d!r}")
    if "dist" not in d:
        raise PriorError(f"{where}: missing key 'dist' (one of: {', '.join(DISTRIBUTIONS)})")
    dist = d["dist"]
    if not isinstance(dist, str) or dist not in DISTRIBUTIONS:
        raise PriorError(
            f"{where}: unknown distribution dist = {dist!r} (allowed: {', '.join(DISTRIBUTIONS)})"
            + _did_you_mean(dist, DISTRIBUTIONS)
        )
    cls = DISTRIBUTIONS[dist]
    allowed = cls._keys + ("unit", "latex")
    for key in d:
        if key != "dist" and key not in allowed:
            raise PriorError(
                f"{where}: unknown key {key!r} (allowed: {', '.join(allowed)})"
                + _did_you_mean(key, allowed)
            )
    missing = [k for k in cls._keys if k not in d]
    if missing:
        raise PriorError(
            f"{where}: missing key {missing[0]!r} ({dist} requires: {', '.join(cls._keys)})"
        )
    try:
        prior = cls(**{k: d[k] for k in allowed if k in d})
    except PriorError as exc:
        raise PriorError(f"{where}: {exc}") from None

    if physical_range is not None:
        lo, hi = (as_real("physical_range", v) for v in physical_range)
        if not lo <= hi:
            raise PriorError(f"{where}: physical range [{fmt(lo)}, {fmt(hi)}] is inverted")
        s_lo, s_hi = prior.support
        if s_lo < lo or s_hi > hi:
            raise PriorError(
                f"{where} extends outside its physical range [{fmt(lo)}, {fmt(hi)}]: "
                f"support is [{fmt(s_lo)}, {fmt(s_hi)}]"
            )
    return prior


def _did_you_mean(word: Any, options: Any) -> str:
    if not isinstance(word, str):
        return ""
    close = difflib.get_close_matches(word, list(options), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


# --------------------------------------------------------------------------------------------
# sets of priors
# --------------------------------------------------------------------------------------------


class PriorSet(Mapping):
    """Ordered mapping ``name -> Prior`` defining the layout of ``theta``.

    ``theta`` holds the free (non-:class:`Fixed`) parameters in declaration order, each in its
    sampling coordinate (``ln x`` for log-uniform priors).  Fixed parameters appear in
    ``params`` but not in ``theta``.  Instances are immutable in use and picklable.

    Parameters
    ----------
    priors : Mapping[str, Prior]
        Priors in the order that defines ``theta``.
    """

    def __init__(self, priors: Mapping[str, Prior]) -> None:
        if not isinstance(priors, Mapping):
            raise PriorError(f"priors must be a mapping name -> prior, got {type(priors).__name__}")
        for name, prior in priors.items():
            if not isinstance(name, str) or not name:
                raise PriorError(f"parameter names must be non-empty strings, got {name!r}")
            if not isinstance(prior, Prior):
                raise PriorError(
                    f"prior for {name!r}: expected a Prior, got {type(prior).__name__}"
                )
        self._priors: dict[str, Prior] = dict(priors)
        self._free: tuple[tuple[str, Prior], ...] = tuple(
            (n, p) for n, p in self._priors.items() if not isinstance(p, Fixed)
        )

    @classmethod
    def from_dict(
        cls,
        d: Mapping[str, Mapping[str, Any]],
        physical_ranges: Mapping[str, tuple[float, float]] | None = None,
    ) -> PriorSet:
        """Parse ``{name: {"dist": ..., ...}}`` with :func:`prior_from_dict`.

        Parameters
        ----------
        d : Mapping
            One prior table per parameter, in ``theta`` order.
        physical_ranges : Mapping[str, (float, float)], optional
            Physical range per parameter name; names not in `d` are ignored.
        """
        if not isinstance(d, Mapping):
            raise PriorError(f"priors must be a table name -> prior, got {type(d).__name__}")
        ranges = physical_ranges or {}
        return cls(
            {n: prior_from_dict(v, name=n, physical_range=ranges.get(n)) for n, v in d.items()}
        )

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """``{name: prior.to_dict()}``, accepted by :meth:`from_dict`."""
        return {n: p.to_dict() for n, p in self._priors.items()}

    # -- mapping protocol ----------------------------------------------------------------------
    def __getitem__(self, name: str) -> Prior:
        return self._priors[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._priors)

    def __len__(self) -> int:
        return len(self._priors)

    def __eq__(self, other: object) -> bool:
        # order defines theta, so two sets with the same priors in another order differ
        if not isinstance(other, PriorSet):
            return NotImplemented
        return list(self._priors.items()) == list(other._priors.items())

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        inner = ", ".join(f"{n}={p!r}" for n, p in self._priors.items())
        return f"PriorSet({inner})"

    # -- layout --------------------------------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        """All parameter names, in order."""
        return tuple(self._priors)

    @property
    def free_names(self) -> tuple[str, ...]:
        """Names of the free parameters: the columns of ``theta``."""
        return tuple(n for n, _ in self._free)

    @property
    def fixed(self) -> dict[str, float]:
        """``{name: value}`` of the fixed parameters."""
        return {n: p.value for n, p in self._priors.items() if isinstance(p, Fixed)}

    @property
    def ndim(self) -> int:
        """Number of free parameters (length of ``theta``)."""
        return len(self._free)

    def _theta(self, theta: Any) -> np.ndarray:
        t = np.asarray(theta, dtype=float)
        if t.ndim not in (1, 2) or t.shape[-1] != self.ndim:
            raise ValueError(
                f"theta must have shape ({self.ndim},) or (nwalkers, {self.ndim}), got {t.shape}"
            )
        return t

    @property
    def compiled(self) -> CompiledPriors:
        """This set flattened for :func:`prior_and_params` (built once, on first use)."""
        c = self.__dict__.get("_compiled")
        if c is None:
            c = self._compiled = compile_priors(self)
        return c

    # -- densities and conversions -------------------------------------------------------------
    def log_prob(self, theta: Any) -> Any:
        """Joint log prior density of ``theta`` in sampling coordinates (Jacobians included).

        Parameters
        ----------
        theta : array_like, shape (ndim,) or (nwalkers, ndim)

        Returns
        -------
        float or ndarray of shape (nwalkers,)
            ``-inf`` where any parameter is outside its support (or NaN), never NaN.
        """
        t = self._theta(theta)
        lp, _ = prior_and_params(np.ascontiguousarray(np.atleast_2d(t)), self.compiled)
        return float(lp[0]) if t.ndim == 1 else lp

    def in_support(self, theta: Any) -> Any:
        """Whether ``theta`` has a finite prior: bool, or bool array of shape (nwalkers,)."""
        return scalar_or_array(np.isfinite(np.asarray(self.log_prob(theta))))

    def to_params(self, theta: Any) -> dict[str, Any]:
        """Physical values of all parameters, fixed ones included.

        Parameters
        ----------
        theta : array_like, shape (ndim,) or (nwalkers, ndim)

        Returns
        -------
        dict
            ``name -> float`` for 1-D `theta`, ``name -> ndarray (nwalkers,)`` for 2-D (fixed
            values broadcast), in declaration order.
        """
        t = self._theta(theta)
        lead = t.shape[:-1]
        free = {n: p.from_sampling(t[..., i]) for i, (n, p) in enumerate(self._free)}
        return {
            n: free[n] if n in free else (np.full(lead, p.value) if lead else p.value)
            for n, p in self._priors.items()
        }

    def from_params(self, params: Mapping[str, Any]) -> np.ndarray:
        """Inverse of :meth:`to_params`.

        Parameters
        ----------
        params : Mapping[str, float or array_like]
            Physical values of every free parameter (scalars, or arrays broadcastable to
            ``(nwalkers,)``).  Fixed parameters may be given but must equal their value.

        Returns
        -------
        ndarray, shape (ndim,) or (nwalkers, ndim)
        """
        unknown = [k for k in params if k not in self._priors]
        if unknown:
            raise PriorError(f"unknown parameter {unknown[0]!r} (known: {', '.join(self.names)})")
        for n, v in self.fixed.items():
            if n in params and not np.all(np.asarray(params[n], dtype=float) == v):
                raise PriorError(
                    f"parameter {n!r} is fixed at {fmt(v)} but was given {params[n]!r}"
                )
        missing = [n for n in self.free_names if n not in params]
        if missing:
            raise PriorError(f"missing value for free parameter {missing[0]!r}")
        if not self._free:
            return np.zeros(0)
        cols = np.broadcast_arrays(
            *(np.asarray(p.to_sampling(params[n]), dtype=float) for n, p in self._free)
        )
        return np.stack(cols, axis=-1)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Draw ``n`` points from the prior.

        Parameters
        ----------
        n : int
            Number of draws (e.g. ``nwalkers``).
        rng : numpy.random.Generator

        Returns
        -------
        ndarray, shape (n, ndim)
            Points in sampling coordinates.
        """
        check_rng(rng)
        cols = [np.asarray(p.to_sampling(p.sample(n, rng)), dtype=float) for _, p in self._free]
        if not cols:
            return np.zeros((n, 0))
        return np.stack(cols, axis=-1)
