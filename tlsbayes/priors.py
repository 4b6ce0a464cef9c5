"""Prior distributions and the ordered set of priors of a model.

Each prior is a small frozen dataclass (:class:`Uniform`, :class:`LogUniform`, :class:`Normal`,
:class:`TruncatedNormal`, :class:`Fixed`) with vectorised ``log_prob``, ``cdf``, ``ppf`` and
``sample`` in the *physical* coordinate, plus the map to the *sampling* coordinate in which the
walkers move (``ln x`` for :class:`LogUniform`, ``x`` otherwise).  :class:`PriorSet` lays the free
parameters out in a ``theta`` vector and converts between ``theta`` and ``params``.

Priors read from cards go through :func:`prior_from_dict`, which accepts only whitelisted
distribution names and keys and never evaluates strings.

All log densities return ``-inf`` for impossible points (including NaN input), never NaN.
"""

from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from scipy import special

from tlsbayes.errors import PriorError

__all__ = [
    "Prior",
    "Uniform",
    "LogUniform",
    "Normal",
    "TruncatedNormal",
    "Fixed",
    "PriorSet",
    "prior_from_dict",
]

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def _fmt(v: float) -> str:
    """Format a number for an error message: exact, but ``0`` rather than ``0.0``."""
    v = float(v)
    if math.isfinite(v) and v.is_integer() and abs(v) < 1e16:
        return str(int(v))
    return repr(v)


def _out(a: np.ndarray) -> Any:
    """Return 0-d results as Python scalars so scalar input gives scalar output."""
    a = np.asarray(a)
    if a.ndim == 0:
        return a.item()
    return a


def _log_ratio(x: np.ndarray | float, low: float) -> np.ndarray:
    """``ln(x / low)`` without overflow of ``x / low`` and without cancellation near ``x = low``.

    Close to ``low`` the difference ``x - low`` is exact (Sterbenz), so ``log1p`` keeps full
    relative precision even for very narrow log-uniform ranges.
    """
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        near = np.log1p((x - low) / low)
        far = np.log(x) - math.log(low)
    return np.where(x < 2.0 * low, near, far)


def _log_ndtr_diff(hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """``ln(Phi(hi) - Phi(lo))`` for ``hi >= lo``, accurate deep in either tail.

    Intervals entirely above zero are reflected (``Phi(hi) - Phi(lo) = Phi(-lo) - Phi(-hi)``) so
    both ``log_ndtr`` calls are on the side where they are accurate.
    """
    hi = np.asarray(hi, dtype=float)
    lo = np.asarray(lo, dtype=float)
    flip = lo > 0
    a = np.where(flip, -hi, lo)
    b = np.where(flip, -lo, hi)
    la = special.log_ndtr(a)
    lb = special.log_ndtr(b)
    with np.errstate(divide="ignore", invalid="ignore"):
        return lb + np.log(-np.expm1(la - lb))


def _log_sub(log_a: np.ndarray, log_b: np.ndarray) -> np.ndarray:
    """``ln(exp(log_a) - exp(log_b))`` for ``log_a >= log_b``."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return log_a + np.log(-np.expm1(log_b - log_a))


def _as_real(key: str, value: Any) -> float:
    # bool is an int subclass, but `low = true` in a card is a typo, not a number
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise PriorError(f"{key} must be a number, got {type(value).__name__} {value!r}")
    v = float(value)
    if math.isnan(v):
        raise PriorError(f"{key} must be a number, got nan")
    return v


def _check_rng(rng: Any) -> np.random.Generator:
    # An int seed or the legacy global state would silently break "same seed -> same arrays"
    # across call sites, so insist on a Generator.
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    return rng


# --------------------------------------------------------------------------------------------
# distributions
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class Prior:
    """Base class of the one-dimensional priors.

    Subclasses declare their numeric fields (``_keys``); this class provides validation of
    ``unit``/``latex``, the generic vectorised wrappers, the identity sampling transform and
    serialisation.

    Parameters
    ----------
    unit : str, optional
        Unit of the physical value (SI, e.g. ``"K"``, ``"Hz"``, ``"s^-1"``); informational.
    latex : str, optional
        LaTeX label for plots, e.g. ``r"$\\Gamma$"``.
    """

    unit: str = field(default="", kw_only=True)
    latex: str = field(default="", kw_only=True)

    dist: ClassVar[str] = ""
    transform: ClassVar[str] = "identity"
    _keys: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        for key in ("unit", "latex"):
            if not isinstance(getattr(self, key), str):
                raise PriorError(f"{key} must be a string, got {getattr(self, key)!r}")
        for key in self._keys:
            object.__setattr__(self, key, _as_real(key, getattr(self, key)))
        self._check()

    def _check(self) -> None:
        """Validate relations between fields and cache derived constants."""

    def _require_finite(self, *keys: str) -> None:
        for key in keys:
            v = getattr(self, key)
            if not math.isfinite(v):
                raise PriorError(f"{key} must be finite, got {_fmt(v)}")

    # -- subclass hooks, all on float arrays --------------------------------------------------
    def _log_prob(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _cdf(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _ppf(self, q: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    @property
    def support(self) -> tuple[float, float]:
        """Closed interval ``(low, high)`` outside which the density is zero (±inf if open)."""
        raise NotImplementedError

    # -- public, vectorised ---------------------------------------------------------------------
    def log_prob(self, x: Any) -> Any:
        """Log probability density in the physical coordinate.

        Parameters
        ----------
        x : float or array_like
            Physical value(s), in ``unit``.

        Returns
        -------
        float or ndarray
            ``ln p(x)`` in ``1/unit`` (same shape as `x`); ``-inf`` outside the support and for
            NaN, never NaN.
        """
        x = np.asarray(x, dtype=float)
        with np.errstate(all="ignore"):
            lp = self._log_prob(x)
        return _out(np.where(np.isnan(lp), -np.inf, lp))

    def cdf(self, x: Any) -> Any:
        """Cumulative distribution function ``P(X <= x)``; NaN for NaN input."""
        x = np.asarray(x, dtype=float)
        with np.errstate(all="ignore"):
            c = np.clip(self._cdf(x), 0.0, 1.0)
        return _out(np.where(np.isnan(x), np.nan, c))

    def ppf(self, q: Any) -> Any:
        """Quantile function, the inverse of :meth:`cdf`.

        Parameters
        ----------
        q : float or array_like
            Probabilities in ``[0, 1]``; anything else (or NaN) gives NaN.

        Returns
        -------
        float or ndarray
            Physical value(s) in the support, same shape as `q`.
        """
        q = np.asarray(q, dtype=float)
        valid = (q >= 0.0) & (q <= 1.0)
        qs = np.where(valid, q, 0.5)
        with np.errstate(all="ignore"):
            x = np.clip(self._ppf(qs), *self.support)
        return _out(np.where(valid, x, np.nan))

    def sample(self, size: int | tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        """Draw independent samples by inverse-CDF sampling.

        Parameters
        ----------
        size : int or tuple of int
            Output shape.
        rng : numpy.random.Generator
            Source of randomness; the same seed gives the same samples.

        Returns
        -------
        ndarray
            Physical values of shape `size`.
        """
        u = _check_rng(rng).random(size)
        return np.asarray(self.ppf(u), dtype=float)

    def to_sampling(self, x: Any) -> Any:
        """Map physical value(s) to the sampling coordinate ``z`` (identity here)."""
        return _out(np.asarray(x, dtype=float))

    def from_sampling(self, z: Any) -> Any:
        """Map sampling coordinate(s) ``z`` back to physical value(s) (identity here)."""
        return _out(np.asarray(z, dtype=float))

    def log_prob_sampling(self, z: Any) -> Any:
        """Log density of the sampling coordinate ``z``, Jacobian included.

        For the identity transform this equals :meth:`log_prob`; ``-inf`` outside the support
        and for NaN, never NaN.
        """
        return self.log_prob(z)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict accepted by :func:`prior_from_dict` (``dist``, numeric keys, unit, latex)."""
        d: dict[str, Any] = {"dist": self.dist}
        d.update({k: getattr(self, k) for k in self._keys})
        d["unit"] = self.unit
        d["latex"] = self.latex
        return d

    def __repr__(self) -> str:
        parts = [f"{k}={getattr(self, k)!r}" for k in self._keys]
        parts += [f"{k}={getattr(self, k)!r}" for k in ("unit", "latex") if getattr(self, k)]
        return f"{type(self).__name__}({', '.join(parts)})"


@dataclass(frozen=True, repr=False)
class Uniform(Prior):
    """Uniform prior on ``[low, high]`` (physical units)."""

    low: float
    high: float

    dist: ClassVar[str] = "uniform"
    _keys: ClassVar[tuple[str, ...]] = ("low", "high")

    def _check(self) -> None:
        self._require_finite("low", "high")
        if not self.low < self.high:
            raise PriorError(f"low ({_fmt(self.low)}) must be less than high ({_fmt(self.high)})")
        width = self.high - self.low
        if not math.isfinite(width):
            raise PriorError(
                f"width high - low overflows for [{_fmt(self.low)}, {_fmt(self.high)}]"
            )
        object.__setattr__(self, "_log_width", math.log(width))

    @property
    def support(self) -> tuple[float, float]:
        return (self.low, self.high)

    def _log_prob(self, x: np.ndarray) -> np.ndarray:
        return np.where((x >= self.low) & (x <= self.high), -self._log_width, -np.inf)

    def _cdf(self, x: np.ndarray) -> np.ndarray:
        return (x - self.low) / (self.high - self.low)

    def _ppf(self, q: np.ndarray) -> np.ndarray:
        # low + 1 * width can round away from high; pin the end points exactly
        x = self.low + q * (self.high - self.low)
        return np.where(q == 1.0, self.high, x)


@dataclass(frozen=True, repr=False)
class LogUniform(Prior):
    """Log-uniform (reciprocal) prior, ``p(x) = 1 / (x ln(high/low))`` on ``[low, high]``.

    Sampled in ``z = ln x``, where it is uniform on ``[ln low, ln high]``.  Use it for scale
    parameters spanning decades (damping rates, couplings, loss tangents).
    """

    low: float
    high: float

    dist: ClassVar[str] = "loguniform"
    transform: ClassVar[str] = "log"
    _keys: ClassVar[tuple[str, ...]] = ("low", "high")

    def _check(self) -> None:
        self._require_finite("low", "high")
        if not self.low > 0.0:
            raise PriorError(
                f"low must be > 0 for a log-uniform prior, got {_fmt(self.low)} "
                "(use a uniform prior for ranges that include zero)"
            )
        if not self.low < self.high:
            raise PriorError(f"low ({_fmt(self.low)}) must be less than high ({_fmt(self.high)})")
        log_range = float(_log_ratio(self.high, self.low))
        object.__setattr__(self, "_log_range", log_range)
        object.__setattr__(self, "_zlow", math.log(self.low))
        object.__setattr__(self, "_zhigh", math.log(self.high))

    @property
    def support(self) -> tuple[float, float]:
        return (self.low, self.high)

    def _log_prob(self, x: np.ndarray) -> np.ndarray:
        inside = (x >= self.low) & (x <= self.high)
        log_x = np.log(np.where(inside, x, 1.0))
        return np.where(inside, -log_x - math.log(self._log_range), -np.inf)

    def _cdf(self, x: np.ndarray) -> np.ndarray:
        c = _log_ratio(np.maximum(x, self.low), self.low) / self._log_range
        return np.where(x <= self.low, 0.0, c)

    def _ppf(self, q: np.ndarray) -> np.ndarray:
        # low * exp(.) keeps relative precision for narrow ranges; for ranges wider than ~300
        # decades exp(q ln(high/low)) itself would overflow, so go through ln low instead
        if self._log_range < 700.0:
            x = self.low * np.exp(q * self._log_range)
        else:
            x = np.exp(self._zlow + q * self._log_range)
        return np.where(q == 0.0, self.low, np.where(q == 1.0, self.high, x))

    def to_sampling(self, x: Any) -> Any:
        """``z = ln x``; NaN for ``x < 0`` and ``-inf`` for ``x = 0``."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return _out(np.log(np.asarray(x, dtype=float)))

    def from_sampling(self, z: Any) -> Any:
        """``x = exp(z)``, clipped into ``[low, high]`` when ``z`` is in the sampling support.

        The clip only removes rounding of ``exp(ln low)``, so that any ``z`` with a finite
        prior maps to a physical value inside the support.
        """
        z = np.asarray(z, dtype=float)
        with np.errstate(over="ignore"):
            x = np.exp(z)
        inside = (z >= self._zlow) & (z <= self._zhigh)
        return _out(np.where(inside, np.clip(x, self.low, self.high), x))

    def log_prob_sampling(self, z: Any) -> Any:
        """``ln p_x(e^z) + z = -ln ln(high/low)`` on ``[ln low, ln high]``, else ``-inf``.

        Written out directly rather than via ``exp(z)`` so that ``z = +inf`` cannot produce
        ``-inf + inf = NaN``.
        """
        z = np.asarray(z, dtype=float)
        inside = (z >= self._zlow) & (z <= self._zhigh)
        return _out(np.where(inside, -math.log(self._log_range), -np.inf))


@dataclass(frozen=True, repr=False)
class Normal(Prior):
    """Gaussian prior with mean ``mu`` and standard deviation ``sigma`` (physical units)."""

    mu: float
    sigma: float

    dist: ClassVar[str] = "normal"
    _keys: ClassVar[tuple[str, ...]] = ("mu", "sigma")

    def _check(self) -> None:
        self._require_finite("mu", "sigma")
        if not self.sigma > 0.0:
            raise PriorError(f"sigma must be > 0, got {_fmt(self.sigma)}")

    @property
    def support(self) -> tuple[float, float]:
        return (-math.inf, math.inf)

    def _log_prob(self, x: np.ndarray) -> np.ndarray:
        u = (x - self.mu) / self.sigma
        return -0.5 * u * u - math.log(self.sigma) - _LOG_SQRT_2PI

    def _cdf(self, x: np.ndarray) -> np.ndarray:
        return special.ndtr((x - self.mu) / self.sigma)

    def _ppf(self, q: np.ndarray) -> np.ndarray:
        return self.mu + self.sigma * special.ndtri(q)

    def sample(self, size: int | tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        # standard_normal has no u = 0 -> -inf corner and is exact in the tails
        return self.mu + self.sigma * _check_rng(rng).standard_normal(size)


@dataclass(frozen=True, repr=False)
class TruncatedNormal(Prior):
    """Gaussian ``N(mu, sigma)`` restricted to ``[low, high]`` and renormalised.

    ``low = -inf`` or ``high = +inf`` give one-sided truncation (e.g. ``low = 0`` for a
    positive quantity).  Normalisation and quantiles are computed in log space, so the
    interval may lie far out in a tail of the Gaussian.
    """

    mu: float
    sigma: float
    low: float
    high: float

    dist: ClassVar[str] = "truncnorm"
    _keys: ClassVar[tuple[str, ...]] = ("mu", "sigma", "low", "high")

    def _check(self) -> None:
        self._require_finite("mu", "sigma")
        if not self.sigma > 0.0:
            raise PriorError(f"sigma must be > 0, got {_fmt(self.sigma)}")
        # low < high also rules out low = +inf and high = -inf
        if not self.low < self.high:
            raise PriorError(f"low ({_fmt(self.low)}) must be less than high ({_fmt(self.high)})")
        a = (self.low - self.mu) / self.sigma
        b = (self.high - self.mu) / self.sigma
        log_mass = float(_log_ndtr_diff(b, a))
        if not math.isfinite(log_mass):
            raise PriorError(
                f"interval [{_fmt(self.low)}, {_fmt(self.high)}] carries no probability mass "
                f"under N({_fmt(self.mu)}, {_fmt(self.sigma)}) in double precision"
            )
        object.__setattr__(self, "_a", a)
        object.__setattr__(self, "_b", b)
        object.__setattr__(self, "_log_mass", log_mass)

    @property
    def support(self) -> tuple[float, float]:
        return (self.low, self.high)

    def _log_prob(self, x: np.ndarray) -> np.ndarray:
        u = (x - self.mu) / self.sigma
        lp = -0.5 * u * u - math.log(self.sigma) - _LOG_SQRT_2PI - self._log_mass
        return np.where((x >= self.low) & (x <= self.high), lp, -np.inf)

    def _cdf(self, x: np.ndarray) -> np.ndarray:
        u = np.clip((x - self.mu) / self.sigma, self._a, self._b)
        c = np.exp(_log_ndtr_diff(u, np.full_like(u, self._a)) - self._log_mass)
        # explicit ends: with an infinite bound, u = a = -inf would give (-inf) - (-inf) = NaN
        return np.where(u <= self._a, 0.0, np.where(u >= self._b, 1.0, c))

    def _ppf(self, q: np.ndarray) -> np.ndarray:
        # Solve for u either through ln Phi(u) (accurate for u <= 0) or through
        # ln Phi(-u) (accurate for u > 0).  Each target is built from the end of the interval
        # nearer to q (1 - q is exact for q >= 1/2), so the sums never cancel badly.
        a, b, lm = self._a, self._b, self._log_mass
        log_q = np.log(q)
        log_1mq = np.log1p(-q)
        lower_half = q <= 0.5
        log_lower = np.where(  # ln Phi(u)
            lower_half,
            np.logaddexp(special.log_ndtr(a), log_q + lm),
            _log_sub(special.log_ndtr(b), log_1mq + lm),
        )
        log_upper = np.where(  # ln Phi(-u)
            lower_half,
            _log_sub(special.log_ndtr(-a), log_q + lm),
            np.logaddexp(special.log_ndtr(-b), log_1mq + lm),
        )
        use_lower = log_lower <= math.log(0.5)
        u = np.where(use_lower, special.ndtri_exp(np.minimum(log_lower, 0.0)),
                     -special.ndtri_exp(np.minimum(log_upper, 0.0)))
        u = np.where(q == 0.0, a, np.where(q == 1.0, b, u))
        return self.mu + self.sigma * u


@dataclass(frozen=True, repr=False)
class Fixed(Prior):
    """A parameter held at ``value``: a point mass, excluded from ``theta``.

    ``log_prob`` is the log of the point probability: 0 at ``value``, ``-inf`` elsewhere.
    """

    value: float

    dist: ClassVar[str] = "fixed"
    _keys: ClassVar[tuple[str, ...]] = ("value",)

    def _check(self) -> None:
        self._require_finite("value")

    @property
    def support(self) -> tuple[float, float]:
        return (self.value, self.value)

    def _log_prob(self, x: np.ndarray) -> np.ndarray:
        return np.where(x == self.value, 0.0, -np.inf)

    def _cdf(self, x: np.ndarray) -> np.ndarray:
        return np.where(x < self.value, 0.0, 1.0)

    def _ppf(self, q: np.ndarray) -> np.ndarray:
        return np.full_like(q, self.value)


_DISTS: dict[str, type[Prior]] = {
    cls.dist: cls for cls in (Uniform, LogUniform, Normal, TruncatedNormal, Fixed)
}


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
        raise PriorError(f"{where}: missing key 'dist' (one of: {', '.join(_DISTS)})")
    dist = d["dist"]
    if not isinstance(dist, str) or dist not in _DISTS:
        raise PriorError(
            f"{where}: unknown distribution dist = {dist!r} (allowed: {', '.join(_DISTS)})"
            + _did_you_mean(dist, _DISTS)
        )
    cls = _DISTS[dist]
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
        lo, hi = (_as_real("physical_range", v) for v in physical_range)
        if not lo <= hi:
            raise PriorError(f"{where}: physical range [{_fmt(lo)}, {_fmt(hi)}] is inverted")
        s_lo, s_hi = prior.support
        if s_lo < lo or s_hi > hi:
            raise PriorError(
                f"{where} extends outside its physical range [{_fmt(lo)}, {_fmt(hi)}]: "
                f"support is [{_fmt(s_lo)}, {_fmt(s_hi)}]"
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
        lp = np.zeros(t.shape[:-1])
        for i, (_, prior) in enumerate(self._free):
            lp = lp + prior.log_prob_sampling(t[..., i])
        return _out(lp)

    def in_support(self, theta: Any) -> Any:
        """Whether ``theta`` has a finite prior: bool, or bool array of shape (nwalkers,)."""
        return _out(np.isfinite(np.asarray(self.log_prob(theta))))

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
                    f"parameter {n!r} is fixed at {_fmt(v)} but was given {params[n]!r}"
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
        _check_rng(rng)
        cols = [np.asarray(p.to_sampling(p.sample(n, rng)), dtype=float) for _, p in self._free]
        if not cols:
            return np.zeros((n, 0))
        return np.stack(cols, axis=-1)
