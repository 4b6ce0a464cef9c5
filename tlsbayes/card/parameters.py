"""The parameters of a card: which names its models and likelihoods use, their physical
ranges, the ``[priors]`` table checked against them, and the merged default priors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ..errors import PriorError
from ..inference.likelihood import Likelihood
from ..inference.prior_set import prior_from_dict
from .schema import Context, did_you_mean, show

__all__ = ["checked_model", "check_priors", "merge_default", "parameter_infos",
           "physical_ranges"]


def checked_model(ctx: Context, label: str, build: Callable):
    """``build()`` (a model constructor), its errors turned into a :class:`CardError`.

    Parameters
    ----------
    ctx : Context
    label : str
        Table named in the message (``[dataset.constants]``).
    build : callable
        Returns the model; raises ``KeyError``/``TypeError``/``ValueError`` naming the
        offending constant (as :func:`tlsbayes.models.model_from_dict` does).
    """
    try:
        return build()
    except (KeyError, TypeError, ValueError) as exc:
        msg = exc.args[0] if exc.args else str(exc)
        raise ctx.err(label, str(msg)) from None


def parameter_infos(ctx: Context, specs) -> dict:
    """``name -> [Parameter, ...]`` over all data sets, in theta order (no data needed)."""
    infos: dict[str, list] = {}
    for s in specs:
        model = checked_model(ctx, "[dataset.constants]", s.build_model)
        lik = Likelihood(s.likelihood)
        sfx = f"_{s.suffix}" if s.suffix else ""
        for p in model.parameters:
            infos.setdefault(p.name, []).append(p)
        for p in lik.parameters:
            infos.setdefault(p.name + sfx, []).append(p)
    return infos


def physical_ranges(infos: Mapping) -> dict:
    """Intersection of the physical ranges of each name over the data sets using it."""
    out = {}
    for name, params in infos.items():
        lo = max(p.physical_range[0] for p in params)
        hi = min(p.physical_range[1] for p in params)
        out[name] = (lo, hi)
    return out


def check_priors(ctx: Context, raw, infos: Mapping) -> dict:
    """The ``[priors]`` table validated: ``name -> prior table`` (copies).

    Raises
    ------
    PriorError
        Unknown parameter, not a table, or an invalid prior or one outside the parameter's
        physical range; the message starts with the card path and ``[priors]``.
    """
    names = tuple(infos)
    raw = ctx.table("[priors]", raw)
    ranges = physical_ranges(infos)
    priors = {}
    for pname, pd in raw.items():
        if pname not in infos:
            raise PriorError(f"{ctx.path}: [priors] prior for unknown parameter {pname!r}"
                             f"{did_you_mean(pname, names)} (the models use: "
                             f"{', '.join(names)})")
        if not isinstance(pd, Mapping):
            raise PriorError(f"{ctx.path}: [priors] {pname} must be a table such as "
                             f"{{ dist = \"uniform\", low = ..., high = ... }}, got "
                             f"{show(pd)}")
        try:
            prior_from_dict(pd, name=pname, physical_range=ranges[pname])
        except PriorError as exc:
            raise PriorError(f"{ctx.path}: [priors] {exc}") from None
        priors[pname] = dict(pd)
    return priors


def merge_default(old: dict, new: dict) -> dict:
    """Default prior for a parameter shared by two data sets: the hull when compatible."""
    if (old.get("dist") == new.get("dist") and old.get("dist") in ("uniform", "loguniform")
            and set(old) == set(new) == {"dist", "low", "high"}):
        return {"dist": old["dist"], "low": min(old["low"], new["low"]),
                "high": max(old["high"], new["high"])}
    return old
