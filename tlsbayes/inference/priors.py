"""Prior distributions and the ordered set of priors of a model.

Each prior is a small frozen dataclass (:class:`Uniform`, :class:`LogUniform`, :class:`Normal`,
:class:`TruncatedNormal`, :class:`Fixed`) with vectorised ``log_prob``, ``cdf``, ``ppf`` and
``sample`` in the *physical* coordinate, plus the map to the *sampling* coordinate in which the
walkers move (``ln x`` for :class:`LogUniform`, ``x`` otherwise).  :class:`PriorSet` lays the free
parameters out in a ``theta`` vector and converts between ``theta`` and ``params``.

Each free prior also supplies its *compiled row* (:meth:`Prior.compiled_row`): a distribution
code and the numbers, in the sampling coordinate, from which the one compiled log-prior
evaluator (:mod:`tlsbayes.inference.prior_set`) computes its density; sets of priors, parsing
from cards (:func:`~tlsbayes.inference.prior_set.prior_from_dict`) and that evaluator live in
:mod:`tlsbayes.inference.prior_set`.

All log densities return ``-inf`` for impossible points (including NaN input), never NaN.
"""

from __future__ import annotations

import functools
import math
import numbers
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from tlsbayes.errors import PriorError

__all__ = [
    "Prior",
    "Uniform",
    "LogUniform",
    "Normal",
    "TruncatedNormal",
    "Fixed",
    "DISTRIBUTIONS",
    "ROW_CODES",
    "ROW_COLUMNS",
]

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)

#: Density shapes of a compiled row: flat in the sampling coordinate (uniform, and log-uniform
#: in ``z = ln x``) or Gaussian (normal, truncated normal).
ROW_CODES = ("uniform", "loguniform", "normal", "truncnorm")
CODE_UNIFORM = ROW_CODES.index("uniform")
CODE_LOGUNIFORM = ROW_CODES.index("loguniform")
CODE_NORMAL = ROW_CODES.index("normal")
CODE_TRUNCNORM = ROW_CODES.index("truncnorm")

#: Numbers of a compiled row, all in the sampling coordinate ``z``: the support ``[low, high]``,
#: the Gaussian's ``mu`` and ``sigma`` (0 for flat rows) and the log density's constant, so that
#: ``ln p(z) = log_norm`` (flat) or ``log_norm - ((z - mu)/sigma)²/2`` (Gaussian) inside.
ROW_COLUMNS = ("low", "high", "mu", "sigma", "log_norm")
R_LOW = ROW_COLUMNS.index("low")
R_HIGH = ROW_COLUMNS.index("high")
R_MU = ROW_COLUMNS.index("mu")
R_SIGMA = ROW_COLUMNS.index("sigma")
R_LOG_NORM = ROW_COLUMNS.index("log_norm")


@functools.cache
def _special():
    """:mod:`scipy.special`, imported by the first Gaussian prior that needs it: reading a card
    with uniform and log-uniform priors imports no scipy."""
    from scipy import special

    return special


def fmt(v: float) -> str:
    """Format a number for an error message: exact, but ``0`` rather than ``0.0``."""
    v = float(v)
    if math.isfinite(v) and v.is_integer() and abs(v) < 1e16:
        return str(int(v))
    return repr(v)


def scalar_or_array(a: np.ndarray) -> Any:
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
    la = _special().log_ndtr(a)
    lb = _special().log_ndtr(b)
    with np.errstate(divide="ignore", invalid="ignore"):
        return lb + np.log(-np.expm1(la - lb))


def _log_sub(log_a: np.ndarray, log_b: np.ndarray) -> np.ndarray:
    """``ln(exp(log_a) - exp(log_b))`` for ``log_a >= log_b``."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return log_a + np.log(-np.expm1(log_b - log_a))


def as_real(key: str, value: Any) -> float:
    # bool is an int subclass, but `low = true` in a card is a typo, not a number
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise PriorError(f"{key} must be a number, got {type(value).__name__} {value!r}")
    v = float(value)
    if math.isnan(v):
        raise PriorError(f"{key} must be a number, got nan")
    return v


def check_rng(rng: Any) -> np.random.Generator:
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
            object.__setattr__(self, key, as_real(key, getattr(self, key)))
        self._check()

    def _check(self) -> None:
        """Validate relations between fields and cache derived constants."""

    def _require_finite(self, *keys: str) -> None:
        for key in keys:
            v = getattr(self, key)
            if not math.isfinite(v):
                raise PriorError(f"{key} must be finite, got {fmt(v)}")

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
        return scalar_or_array(np.where(np.isnan(lp), -np.inf, lp))

    def cdf(self, x: Any) -> Any:
        """Cumulative distribution function ``P(X <= x)``; NaN for NaN input."""
        x = np.asarray(x, dtype=float)
        with np.errstate(all="ignore"):
            c = np.clip(self._cdf(x), 0.0, 1.0)
        return scalar_or_array(np.where(np.isnan(x), np.nan, c))

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
        return scalar_or_array(np.where(valid, x, np.nan))

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
        u = check_rng(rng).random(size)
        return np.asarray(self.ppf(u), dtype=float)

    def to_sampling(self, x: Any) -> Any:
        """Map physical value(s) to the sampling coordinate ``z`` (identity here)."""
        return scalar_or_array(np.asarray(x, dtype=float))

    def from_sampling(self, z: Any) -> Any:
        """Map sampling coordinate(s) ``z`` back to physical value(s) (identity here)."""
        return scalar_or_array(np.asarray(z, dtype=float))

    def log_prob_sampling(self, z: Any) -> Any:
        """Log density of the sampling coordinate ``z``, Jacobian included.

        For the identity transform this equals :meth:`log_prob`; ``-inf`` outside the support
        and for NaN, never NaN.
        """
        return self.log_prob(z)

    def compiled_row(self) -> tuple[int, tuple[float, ...]]:
        """``(code, numbers)`` for the compiled log-prior evaluator: a ``CODE_*`` constant
        (:data:`ROW_CODES`) and the :data:`ROW_COLUMNS` values in the sampling coordinate."""
        raise PriorError(f"{type(self).__name__} has no compiled form")

    def to_dict(self) -> dict[str, Any]:
        """``dist``, numeric keys, unit, latex: what :func:`.prior_set.prior_from_dict` reads."""
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
            raise PriorError(f"low ({fmt(self.low)}) must be less than high ({fmt(self.high)})")
        width = self.high - self.low
        if not math.isfinite(width):
            raise PriorError(
                f"width high - low overflows for [{fmt(self.low)}, {fmt(self.high)}]"
            )
        object.__setattr__(self, "_log_width", math.log(width))

    @property
    def support(self) -> tuple[float, float]:
        return (self.low, self.high)

    def _log_prob(self, x: np.ndarray) -> np.ndarray:
        return np.where((x >= self.low) & (x <= self.high), -self._log_width, -np.inf)

    def _cdf(self, x: np.ndarray) -> np.ndarray:
        return (x - self.low) / (self.high - self.low)

    def compiled_row(self) -> tuple[int, tuple[float, ...]]:
        lo, hi = self.support
        return CODE_UNIFORM, (lo, hi, 0.0, 0.0, -math.log(hi - lo))

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
                f"low must be > 0 for a log-uniform prior, got {fmt(self.low)} "
                "(use a uniform prior for ranges that include zero)"
            )
        if not self.low < self.high:
            raise PriorError(f"low ({fmt(self.low)}) must be less than high ({fmt(self.high)})")
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

    def compiled_row(self) -> tuple[int, tuple[float, ...]]:
        """Flat in ``z`` on ``[ln low, ln high]`` with density ``1/ln(high/low)``.

        ``ln(high/low)`` is what the sampler has always used (the pinned chains depend on its
        last bit); where it loses digits (high < 2 low) or overflows (more than ~308 decades)
        the cancellation-free ``_log_range`` takes over.
        """
        lo, hi = self.support
        ratio = hi / lo
        log_range = math.log(ratio) if 2.0 <= ratio < math.inf else self._log_range
        return CODE_LOGUNIFORM, (math.log(lo), math.log(hi), 0.0, 0.0, -math.log(log_range))

    def to_sampling(self, x: Any) -> Any:
        """``z = ln x``; NaN for ``x < 0`` and ``-inf`` for ``x = 0``."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return scalar_or_array(np.log(np.asarray(x, dtype=float)))

    def from_sampling(self, z: Any) -> Any:
        """``x = exp(z)``, clipped into ``[low, high]`` when ``z`` is in the sampling support.

        The clip only removes rounding of ``exp(ln low)``, so that any ``z`` with a finite
        prior maps to a physical value inside the support.
        """
        z = np.asarray(z, dtype=float)
        with np.errstate(over="ignore"):
            x = np.exp(z)
        inside = (z >= self._zlow) & (z <= self._zhigh)
        return scalar_or_array(np.where(inside, np.clip(x, self.low, self.high), x))

    def log_prob_sampling(self, z: Any) -> Any:
        """``ln p_x(e^z) + z = -ln ln(high/low)`` on ``[ln low, ln high]``, else ``-inf``.

        Written out directly rather than via ``exp(z)`` so that ``z = +inf`` cannot produce
        ``-inf + inf = NaN``.
        """
        z = np.asarray(z, dtype=float)
        inside = (z >= self._zlow) & (z <= self._zhigh)
        return scalar_or_array(np.where(inside, -math.log(self._log_range), -np.inf))


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
            raise PriorError(f"sigma must be > 0, got {fmt(self.sigma)}")

    @property
    def support(self) -> tuple[float, float]:
        return (-math.inf, math.inf)

    def _log_prob(self, x: np.ndarray) -> np.ndarray:
        u = (x - self.mu) / self.sigma
        return -0.5 * u * u - math.log(self.sigma) - _LOG_SQRT_2PI

    def _cdf(self, x: np.ndarray) -> np.ndarray:
        return _special().ndtr((x - self.mu) / self.sigma)

    def _ppf(self, q: np.ndarray) -> np.ndarray:
        return self.mu + self.sigma * _special().ndtri(q)

    def compiled_row(self) -> tuple[int, tuple[float, ...]]:
        return _gaussian_row(self, CODE_NORMAL)

    def sample(self, size: int | tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        # standard_normal has no u = 0 -> -inf corner and is exact in the tails
        return self.mu + self.sigma * check_rng(rng).standard_normal(size)


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
            raise PriorError(f"sigma must be > 0, got {fmt(self.sigma)}")
        # low < high also rules out low = +inf and high = -inf
        if not self.low < self.high:
            raise PriorError(f"low ({fmt(self.low)}) must be less than high ({fmt(self.high)})")
        a = (self.low - self.mu) / self.sigma
        b = (self.high - self.mu) / self.sigma
        log_mass = float(_log_ndtr_diff(b, a))
        if not math.isfinite(log_mass):
            raise PriorError(
                f"interval [{fmt(self.low)}, {fmt(self.high)}] carries no probability mass "
                f"under N({fmt(self.mu)}, {fmt(self.sigma)}) in double precision"
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

    def compiled_row(self) -> tuple[int, tuple[float, ...]]:
        return _gaussian_row(self, CODE_TRUNCNORM)

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
            np.logaddexp(_special().log_ndtr(a), log_q + lm),
            _log_sub(_special().log_ndtr(b), log_1mq + lm),
        )
        log_upper = np.where(  # ln Phi(-u)
            lower_half,
            _log_sub(_special().log_ndtr(-a), log_q + lm),
            np.logaddexp(_special().log_ndtr(-b), log_1mq + lm),
        )
        use_lower = log_lower <= math.log(0.5)
        u = np.where(use_lower, _special().ndtri_exp(np.minimum(log_lower, 0.0)),
                     -_special().ndtri_exp(np.minimum(log_upper, 0.0)))
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

    def compiled_row(self) -> tuple[int, tuple[float, ...]]:
        raise PriorError("a fixed parameter is not in theta and has no compiled row")

    def _cdf(self, x: np.ndarray) -> np.ndarray:
        return np.where(x < self.value, 0.0, 1.0)

    def _ppf(self, q: np.ndarray) -> np.ndarray:
        return np.full_like(q, self.value)


def _gaussian_row(p: Normal | TruncatedNormal, code: int) -> tuple[int, tuple[float, ...]]:
    """Compiled row of a (truncated) Gaussian: the constant read off ``log_prob`` itself.

    ``log_norm = ln p(x0) + ((x0 - mu)/sigma)²/2`` at a point ``x0`` of the support, so the
    truncation mass comes from the same expression as the Python density.
    """
    lo, hi = p.support
    x0 = min(max(p.mu, lo), hi)
    log_norm = p.log_prob(x0) + 0.5 * ((x0 - p.mu) / p.sigma) ** 2
    return code, (lo, hi, p.mu, p.sigma, log_norm)


DISTRIBUTIONS: dict[str, type[Prior]] = {
    cls.dist: cls for cls in (Uniform, LogUniform, Normal, TruncatedNormal, Fixed)
}
