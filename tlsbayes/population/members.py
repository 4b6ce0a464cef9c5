"""Members of a population: one resonator's stage-1 posterior draws and prior, in the
population coordinate ``z`` (``ln θ`` or ``θ``)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import results as R
from ..errors import TLSBayesError
from ..inference.prior_set import prior_from_dict
from ..inference.priors import Fixed, Prior
from ..rundir import POSTERIOR_FILE

__all__ = ["SCALES", "Member", "load_member", "z_of", "x_of", "clean_label"]

SCALES = ("log", "linear")
#: ln sqrt(2 pi), the normalisation of a standard normal log-density.
LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def z_of(x, scale):
    """Population coordinate ``z`` of physical values ``x``: ``ln x`` (log scale) or ``x``."""
    x = np.asarray(x, dtype=float)
    if scale == "log":
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(x)
    return x


def x_of(z, scale):
    """Inverse of :func:`z_of`."""
    z = np.asarray(z, dtype=float)
    return np.exp(z) if scale == "log" else z


def log_prior_z(prior: Prior, x, scale):
    """ln π(z) of a physical-coordinate prior, in the population coordinate z (Jacobian in)."""
    lp = np.asarray(prior.log_prob(x), dtype=float)
    if scale == "log":
        with np.errstate(divide="ignore", invalid="ignore"):
            lp = lp + np.log(np.asarray(x, dtype=float))
    return np.where(np.isnan(lp), -np.inf, lp)


@dataclass(frozen=True, eq=False)
class Member:
    """One resonator's stage-1 posterior of the population parameter.

    Attributes
    ----------
    name : str
        Label (card name or directory name).
    group : str
        Population it belongs to.
    z : ndarray, shape (K,)
        Posterior draws in the population coordinate (``ln θ`` for ``scale="log"``).
    log_prior : ndarray, shape (K,)
        ``ln π_i(z)`` of the resonator's own stage-1 prior at those draws, in the same
        coordinate (Jacobian included).
    prior : Prior
        The stage-1 prior of the parameter, physical coordinate.
    source : str
        Where the draws came from.
    converged : bool or None
        The stage-1 verdict, if recorded.
    """

    name: str
    group: str
    z: np.ndarray
    log_prior: np.ndarray
    prior: Prior | None = None
    source: str = ""
    converged: bool | None = None

    def __post_init__(self):
        z = np.ascontiguousarray(np.asarray(self.z, dtype=np.float64).reshape(-1))
        lp = np.ascontiguousarray(np.asarray(self.log_prior, dtype=np.float64).reshape(-1))
        if z.size == 0:
            raise TLSBayesError(f"population member {self.name!r}: no posterior draws")
        if lp.shape != z.shape:
            raise TLSBayesError(f"population member {self.name!r}: {z.size} draws but "
                                f"{lp.size} prior values")
        if not (np.all(np.isfinite(z)) and np.all(np.isfinite(lp))):
            raise TLSBayesError(f"population member {self.name!r} ({self.source}): some draws "
                                "are not finite or lie outside the member's own prior support")
        object.__setattr__(self, "z", z)
        object.__setattr__(self, "log_prior", lp)

    @property
    def K(self) -> int:
        return int(self.z.size)


def _as_idata(source):
    """``(idata, label, source text)`` from an InferenceData, a run directory or a .nc file."""
    if hasattr(source, "posterior") and hasattr(source, "attrs"):
        return source, None, "<InferenceData>"
    path = Path(source)
    nc = path / POSTERIOR_FILE if path.is_dir() else path
    if path.is_dir() and not nc.is_file():
        raise TLSBayesError(f"{path}: not a tlsbayes run directory (no posterior.nc)")
    idata = R.load(nc)
    label = path.name if path.is_dir() else path.stem
    return idata, label, str(nc)


def load_member(source, param="delta0", group="all", *, name=None, scale="log",
                max_draws=1000) -> Member:
    """Read one resonator's posterior of ``param`` and its prior from a stage-1 result.

    Parameters
    ----------
    source : path-like or arviz.InferenceData
        A run directory written by ``tlsbayes fit``, a ``posterior.nc``, or the InferenceData.
    param : str
        Parameter of the population model (physical name, e.g. ``"delta0"``).
    group : str
        Population label of this resonator.
    name : str, optional
        Label; default the batch group recorded in the result (``tlsbayes batch``), else its
        card name, else the directory name.
    scale : {"log", "linear"}
        Population coordinate: ``ln θ`` or ``θ``.
    max_draws : int
        Keep at most this many draws, evenly spaced over the chains and draws (the cost of
        stage 2 is proportional to it; the reported ESS says whether it is enough).

    Raises
    ------
    TLSBayesError
        No such parameter, a fixed parameter, or no prior recorded for it (the message names
        the file).
    """
    if scale not in SCALES:
        raise TLSBayesError(f"unknown population scale {scale!r} (allowed: {', '.join(SCALES)})")
    idata, label, where = _as_idata(source)
    attrs = R.attrs_of(idata)
    if param not in idata.posterior:
        raise TLSBayesError(f"{where}: parameter {param!r} is not in the posterior (it has "
                            f"{', '.join(idata.posterior.data_vars)}); is it fixed?")
    pri = (attrs.get("priors") or {}).get(param)
    if pri is None:
        raise TLSBayesError(f"{where}: no prior recorded for {param!r}; the reweighting needs "
                            "the stage-1 prior")
    prior = prior_from_dict(pri, name=param)
    if isinstance(prior, Fixed):
        raise TLSBayesError(f"{where}: parameter {param!r} has a fixed prior")
    x = np.asarray(idata.posterior[param].values, dtype=float).reshape(-1)
    if max_draws is not None and x.size > max_draws:
        x = x[np.linspace(0, x.size - 1, int(max_draws)).round().astype(np.int64)]
    extra = attrs.get("extra") or {}
    if name is None:
        # a run of `tlsbayes batch` is named by its group (the card is shared by all)
        grp = extra.get("group")
        name = ((grp.get("value") if isinstance(grp, dict) else None)
                or extra.get("card_name") or label or "member")
    if scale == "log" and not np.all(x > 0):
        raise TLSBayesError(f"{where}: {param!r} has non-positive draws; use scale 'linear'")
    return Member(name=str(name), group=str(group), z=z_of(x, scale),
                  log_prior=log_prior_z(prior, x, scale), prior=prior, source=where,
                  converged=attrs.get("converged"))


def clean_label(text):
    """``text`` made file- and variable-safe (the group label in ``mu_<label>``)."""
    out = "".join(c if (c.isalnum() or c in "_.-") else "_" for c in str(text))
    return out or "group"
