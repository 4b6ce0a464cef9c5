"""From a parsed card to what is sampled: the data loaded, the posterior built, the sampler
settings.  Each data set's model object is the one built when the card was parsed
(:meth:`DatasetSpec.build_model <tlsbayes.card.parse.DatasetSpec.build_model>`).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from .. import io as tio
from ..errors import CardError, DataError, PriorError, SamplingError, TLSBayesError
from ..inference.likelihood import Likelihood
from ..inference.prior_set import PriorSet
from .parameters import checked_model, merge_default
from .schema import REAL_PLACEHOLDER, Context

__all__ = ["build_posterior", "sampler_settings"]


def sampler_settings(card, **overrides):
    """The card's ``[sampler]`` table as :class:`~tlsbayes.sampling.SamplerSettings`.

    ``overrides`` (``None`` values ignored) replace the card's keys; the seed is 0 when
    neither sets one, so that a card always gives the same chain.  A bad value raises a
    :class:`SamplingError` naming the card.
    """
    from ..sampling import SamplerSettings

    s = dict(card.sampler)
    s.update({k: v for k, v in overrides.items() if v is not None})
    s.setdefault("seed", 0)
    try:
        return SamplerSettings.from_dict(s)
    except SamplingError as exc:
        raise SamplingError(f"{card.path}: [sampler] "
                            + str(exc).removeprefix("sampler setting ")) from None


def build_posterior(card, data_override=None):
    """Load the card's data and build its posterior.

    Parameters
    ----------
    card : tlsbayes.card.Card
    data_override : str or Path, optional
        Data file replacing the card's (single-data-set cards only; relative to the current
        directory, as typed on a command line).

    Returns
    -------
    posterior : Posterior
    data : list of tlsbayes.io.XYData
        One per data set, in card order.

    Raises
    ------
    CardError
        Missing data file, data that do not suit the model, or ``data_override`` with several
        data sets.
    DataError
        The data file is unusable (message: card, data set, then the file's own message).
    PriorError
        A prior is invalid or outside the parameter's physical range.
    """
    # The posterior's module imports the compiled kernels (numba): here, not when a card is read.
    from ..inference.posterior import Posterior

    ctx = Context(card.path)
    specs = list(card.datasets)
    if data_override is not None:
        if len(specs) != 1:
            raise CardError(f"{ctx.path}: a data file override (--data) needs a card with "
                            f"exactly one [[dataset]], this one has {len(specs)}")
        specs = [dataclasses.replace(specs[0], path=Path(data_override))]
    datasets, loaded = _load_datasets(ctx, card.datasets, specs, data_override)
    priors = _priors(ctx, card, datasets)
    try:
        posterior = Posterior(datasets, priors)
    except TLSBayesError as exc:
        raise CardError(f"{ctx.path}: {exc}") from None
    return posterior, loaded


def _load_datasets(ctx: Context, originals, specs, data_override) -> tuple:
    """``(datasets, loaded)``: a :class:`Dataset` and its :class:`XYData` per data set.

    ``specs`` are the card's data sets (``originals``) with the data file overridden if
    ``data_override``; each model comes from its original, where it was built at parse time.
    A table read by several data sets is read once.
    """
    from ..inference.posterior import Dataset

    tables: dict[Path, tio.Table] = {}
    datasets, loaded = [], []
    multi = len(specs) > 1
    for orig, s in zip(originals, specs):
        dtab = f"[dataset.data] of dataset {s.name!r}" if multi else "[dataset.data]"
        where = "(--data)" if data_override is not None else f"file = {s.data['file']!r}"
        traces = s.likelihood == "trace_posterior"
        problem = tio.file_problem(s.path)
        if traces and s.path.is_dir():
            problem = None  # a tlsbayes s21 output folder, or raw traces fitted into the cache
        if problem:
            hint = ""
            if s.data["file"].startswith(REAL_PLACEHOLDER + "/") and data_override is None \
                    and not tio.real_data_dir().is_dir():
                hint = (f"; the shared real-data directory {tio.real_data_dir()} does not "
                        "exist (set TLSBAYES_REAL_DATA)")
            what = problem.replace("data file not found", "not found")
            raise ctx.err(dtab, f"{where}: data file {str(s.path)!r} {what}{hint}")
        try:
            d, draws, point_T = _load_traces(s) if traces else _load_table(s, tables)
        except (DataError, TLSBayesError) as exc:
            raise DataError(f"{ctx.path}: data set {s.name!r}: {exc}") from None
        model = checked_model(ctx, "[dataset.constants]", orig.build_model)
        if point_T is not None:
            # each point at its own T; the model's own T (the median) draws the figures' curve
            model = dataclasses.replace(model, T=float(np.median(point_T)))
        try:
            ds = Dataset(name=s.name, model=model, x=d.x, y=d.y, sigma=d.sigma,
                         likelihood=Likelihood(s.likelihood), suffix=s.suffix, draws=draws,
                         point_constants={"T": point_T} if point_T is not None else None)
        except TLSBayesError as exc:
            raise CardError(f"{ctx.path}: data set {s.name!r}: {exc}") from None
        datasets.append(ds)
        loaded.append(d)
    return datasets, loaded


def _load_table(s, tables: dict):
    """A data set's curve from a table (read once per file); per-point T if declared."""
    key = s.path.resolve()
    if key not in tables:
        tables[key] = tio.read_table(s.path)
    d = tio.load_xy(tables[key], x=s.data["x"], y=s.data["y"], sigma=s.data.get("sigma"),
                    filter=s.data.get("filter"), window=s.data.get("window"),
                    group=s.data.get("group"))
    point_T = tio.point_values(tables[key], d.lines, s.data["T"]) if "T" in s.data else None
    return d, None, point_T


def _load_traces(s):
    """A data set's curve from a traces table of ``tlsbayes s21``, with each point's draws."""
    from ..inference.traces import TraceDraws

    cache = tio.s21_cache_dir(s.path) if tio.is_raw_trace_folder(s.path) else None
    td = tio.load_traces(s.path, x=s.data["x"], y=s.data["y"], filter=s.data.get("filter"),
                         window=s.data.get("window"), group=s.data.get("group"),
                         T=s.data.get("T"), status=s.data.get("status", tio.DEFAULT_STATUS),
                         cache=cache)
    return td.xy, TraceDraws.from_samples(td.draws, names=td.labels), td.point_T


def _priors(ctx: Context, card, datasets) -> PriorSet:
    """Default priors (data-dependent), then the card's; theta order = first use."""
    merged: dict[str, dict] = {}
    ranges: dict[str, tuple] = {}
    for ds in datasets:
        info = ds.parameter_info()
        for name, pd in ds.default_priors().items():
            merged[name] = merge_default(merged[name], pd) if name in merged else pd
            lo, hi = info[name].physical_range
            if name in ranges:
                lo, hi = max(lo, ranges[name][0]), min(hi, ranges[name][1])
            ranges[name] = (lo, hi)
    for name in card.priors:
        if name not in merged:  # load_card checked this; a changed card object is possible
            raise PriorError(f"{ctx.path}: [priors] prior for unknown parameter {name!r} "
                             f"(the models use: {', '.join(merged)})")
    final = {n: (card.priors[n] if n in card.priors else merged[n]) for n in merged}
    try:
        return PriorSet.from_dict(final, physical_ranges=ranges)
    except PriorError as exc:
        bad = next((n for n in final if f"{n!r}" in str(exc)), None)
        table = "[priors]" if bad in card.priors else "default prior:"
        raise PriorError(f"{ctx.path}: {table} {exc}") from None
