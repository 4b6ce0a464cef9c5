"""Conversion of a run into a result (the groups of an ArviZ ``InferenceData``), one function
per group.

Organised as ArviZ's own emcee converter (``arviz/data/io_emcee.py``): each group of the result
is produced by its own function, and one function assembles them.  The groups are built as
ArviZ's ``dict_to_dataset`` builds them (``chain``/``draw`` and extra-dimension coordinates,
``created_at``/``arviz_version`` attributes) but as a :class:`~tlsbayes.results.groups.Result`
of plain arrays: ArviZ and xarray take seconds to import and a fit needs neither.  Entry
points:

:func:`build_result`
    validates and assembles arrays the caller already has (any sampler).
:func:`build_inference_data`
    the same, as an :class:`arviz.InferenceData` (imports ArviZ).
:func:`build_idata`
    converts a finished tlsbayes run (a posterior and a :class:`~tlsbayes.sampling.SamplerRun`)
    and adds the predictive groups; returns a :class:`~tlsbayes.results.groups.Result`.

The layout of a result:

``posterior``
    one ``(chain, draw)`` variable per free parameter, in physical units (emcee walkers are
    the chains).
``sample_stats``
    ``lp``, ``log_prior``, ``log_likelihood`` (all ``(chain, draw)``) and optionally
    ``acceptance_rate``.
``log_likelihood``
    pointwise log likelihood ``(chain, draw, <obs dim>)`` per observed quantity, for LOO/WAIC.
``observed_data``, ``constant_data``, ``prior``
    the data, the fixed inputs (x values, uncertainties, constants) and prior samples.
``prior_predictive``, ``posterior_predictive`` (:func:`build_idata` only)
    simulated data sets, noise included.
root attributes
    the provenance (see :func:`tlsbayes.results.provenance.provenance`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from tlsbayes import __version__
from tlsbayes.errors import ResultError
from tlsbayes.inference.priors import LogUniform
from tlsbayes.results.groups import Group, Result, Variable, arviz_group_attrs
from tlsbayes.results.provenance import data_sha256, encode_attrs, format_string, provenance

__all__ = ["build_idata", "build_inference_data", "build_result", "log_params"]

_REQUIRED_SAMPLE_STATS = ("lp", "log_prior", "log_likelihood")
#: Posterior draws simulated for the posterior predictive group (evenly spaced over the run).
POSTERIOR_PREDICTIVE_DRAWS = 500


# --------------------------------------------------------------------------------------------
# Validation of arrays given by the caller
# --------------------------------------------------------------------------------------------


def _as_array(name: str, value: Any) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype == object:
        raise ResultError(f"{name}: cannot store values of type {type(value).__name__}")
    return arr


def _check_chain_draw(group: str, data: Mapping[str, Any], shape: tuple[int, int] | None,
                      extra_ndim: int) -> tuple[dict[str, np.ndarray], tuple[int, int] | None]:
    """Validate that every array in ``data`` is ``(nchain, ndraw, *extra)`` with a common
    ``(nchain, ndraw)``; return the arrays and that shape."""
    out = {}
    for name, value in data.items():
        arr = _as_array(f"{group} '{name}'", value)
        if arr.ndim != 2 + extra_ndim:
            want = "(nchain, ndraw" + ", nobs" * extra_ndim + ")"
            raise ResultError(
                f"{group} '{name}' has shape {arr.shape}, expected {want}"
            )
        if shape is None:
            shape = arr.shape[:2]
        elif arr.shape[:2] != shape:
            raise ResultError(
                f"{group} '{name}' has {arr.shape[0]} chains x {arr.shape[1]} draws, but the "
                f"posterior has {shape[0]} x {shape[1]}"
            )
        out[str(name)] = arr
    return out, shape


def _dims_for(name: str, arr: np.ndarray, obs_dims: Mapping[str, Any]) -> list[str]:
    """Dimension names of the non-sample axes of ``arr``."""
    if name in obs_dims:
        dims = obs_dims[name]
        dims = [dims] if isinstance(dims, str) else list(dims)
        if len(dims) != arr.ndim:
            raise ResultError(
                f"obs_dims['{name}'] names {len(dims)} dimension(s) but '{name}' has "
                f"{arr.ndim} (shape {arr.shape})"
            )
        return dims
    return [f"{name}_dim_{i}" for i in range(arr.ndim)]


# --------------------------------------------------------------------------------------------
# One function per group (arrays given by the caller)
# --------------------------------------------------------------------------------------------


def dict_to_group(data: Mapping[str, np.ndarray],
                  dims: Mapping[str, Sequence[str]] | None = None) -> Group:
    """A ``(chain, draw, ...)`` group as ``arviz.dict_to_dataset`` builds it.

    Every dimension gets an integer coordinate ``0 .. n-1``; extra axes are named by ``dims``
    or ``<name>_dim_<i>``; the group gets ArviZ's ``created_at`` and ``arviz_version``.
    """
    dims = dict(dims or {})
    variables = {}
    for name, arr in data.items():
        extra = list(dims.get(name, [f"{name}_dim_{i}" for i in range(arr.ndim - 2)]))
        variables[name] = Variable(["chain", "draw", *extra], arr)
    sizes: dict[str, int] = {}
    for var in variables.values():
        sizes.update(var.sizes)
    coords = {d: Variable([d], np.arange(n)) for d, n in sizes.items()}
    return Group(variables, coords, arviz_group_attrs())


def _plain_group(variables: Mapping[str, tuple[Sequence[str], np.ndarray]]) -> Group:
    """A group without coordinates or attributes (as ``xarray.Dataset(variables)``)."""
    return Group({n: Variable(d, a) for n, (d, a) in variables.items()})


def posterior_group(posterior: Mapping[str, Any]) -> tuple[Group, tuple[int, int]]:
    """``posterior`` group and its ``(nchain, ndraw)``; every variable ``(nchain, ndraw)``."""
    if not posterior:
        raise ResultError("posterior is empty: there are no sampled parameters to store")
    post, shape = _check_chain_draw("posterior", posterior, None, 0)
    assert shape is not None
    return dict_to_group(post), shape


def sample_stats_group(sample_stats: Mapping[str, Any], shape: tuple[int, int]) -> Group:
    """``sample_stats`` group: ``lp``, ``log_prior``, ``log_likelihood`` required.

    An ``acceptance_rate`` given per chain, shape ``(nchain,)``, is repeated along the draws.
    """
    nchain, ndraw = shape
    missing = [key for key in _REQUIRED_SAMPLE_STATS if key not in sample_stats]
    if missing:
        raise ResultError(f"sample_stats lacks {', '.join(repr(m) for m in missing)}")
    stats_in = dict(sample_stats)
    if "acceptance_rate" in stats_in:
        acc = np.asarray(stats_in["acceptance_rate"], dtype=float)
        if acc.shape == (nchain,):
            # emcee reports one rate per walker; repeating it keeps sample_stats (chain, draw)
            # so ArviZ can handle every variable of the group alike.
            stats_in["acceptance_rate"] = np.repeat(acc[:, None], ndraw, axis=1)
    stats, _ = _check_chain_draw("sample_stats", stats_in, shape, 0)
    return dict_to_group(stats)


def _arrays_of_ndim(group: str, data: Mapping[str, Any], ndim: int,
                    want: str) -> dict[str, np.ndarray]:
    """The arrays of ``data``, each checked to have ``ndim`` axes (``want`` names them)."""
    out: dict[str, np.ndarray] = {}
    for name, value in data.items():
        arr = _as_array(f"{group} '{name}'", value)
        if arr.ndim != ndim:
            raise ResultError(f"{group} '{name}' has shape {arr.shape}, expected {want}")
        out[str(name)] = arr
    return out


def observed_data_group(observed: Mapping[str, np.ndarray],
                        obs_dims: Mapping[str, Any]) -> Group:
    """``observed_data`` group: one ``(nobs,)`` variable per observed quantity."""
    return _plain_group(
        {name: (_dims_for(name, arr, obs_dims), arr) for name, arr in observed.items()}
    )


def log_likelihood_group(log_likelihood: Mapping[str, Any], shape: tuple[int, int],
                         observed: Mapping[str, np.ndarray],
                         obs_dims: Mapping[str, Any]) -> Group:
    """``log_likelihood`` group: ``(nchain, ndraw, nobs)`` per observed quantity."""
    loglik, _ = _check_chain_draw("log_likelihood", log_likelihood, shape, 1)
    for name, arr in loglik.items():
        if name not in observed:
            raise ResultError(
                f"log_likelihood '{name}' has no matching entry in observed_data "
                f"(observed: {', '.join(observed) or 'none'})"
            )
        if arr.shape[2] != observed[name].shape[0]:
            raise ResultError(
                f"log_likelihood '{name}' has {arr.shape[2]} points per draw but "
                f"observed_data '{name}' has {observed[name].shape[0]}"
            )
    return dict_to_group(
        loglik, dims={name: _dims_for(name, arr[0, 0], obs_dims) for name, arr in loglik.items()}
    )


def constant_data_group(constant_data: Mapping[str, Any], obs_dims: Mapping[str, Any]) -> Group:
    """``constant_data`` group: fixed inputs; scalars are stored as 0-d variables."""
    const = {}
    for name, value in constant_data.items():
        arr = _as_array(f"constant_data '{name}'", value)
        const[str(name)] = (_dims_for(str(name), arr, obs_dims), arr)
    try:
        return _plain_group(const)
    except ValueError as err:  # conflicting sizes along a shared dimension name
        raise ResultError(f"constant_data: {err}") from err


def prior_group(prior: Mapping[str, Any]) -> Group:
    """``prior`` group: samples of the prior, one pseudo-chain ``(1, nsamples)``."""
    return dict_to_group(_arrays_of_ndim("prior", prior, 2, "(1, nsamples)"))


def build_inference_data(**kwargs):
    """:func:`build_result` as an :class:`arviz.InferenceData` (same arguments)."""
    return build_result(**kwargs).to_inference_data()


def build_result(
    *,
    posterior: Mapping[str, Any],
    sample_stats: Mapping[str, Any],
    log_likelihood: Mapping[str, Any],
    observed_data: Mapping[str, Any],
    constant_data: Mapping[str, Any] | None = None,
    prior: Mapping[str, Any] | None = None,
    attrs: Mapping[str, Any] | None = None,
    obs_dims: Mapping[str, str | Sequence[str]] | None = None,
) -> Result:
    """Assemble the samples of one run into a result (the groups of an InferenceData).

    Parameters
    ----------
    posterior : mapping of str to array_like, shape (nchain, ndraw)
        Free parameters in physical (not sampling) coordinates.  Each emcee walker is a chain.
    sample_stats : mapping of str to array_like
        Must contain ``"lp"`` (log posterior), ``"log_prior"`` and ``"log_likelihood"``, each
        ``(nchain, ndraw)``.  ``"acceptance_rate"`` may be given per chain, shape ``(nchain,)``,
        and is then repeated along the draws.  Other ``(nchain, ndraw)`` entries are kept.
    log_likelihood : mapping of str to array_like, shape (nchain, ndraw, nobs)
        Pointwise log likelihood per observed quantity (needed by ``arviz.loo``/``waic``).
        Every key must also be a key of ``observed_data``.
    observed_data : mapping of str to array_like, shape (nobs,)
        The measured values.
    constant_data : mapping of str to array_like, optional
        Fixed inputs: x values (temperature, power, ...), uncertainties, constants.  Scalars
        are stored as 0-d variables.
    prior : mapping of str to array_like, shape (1, nsamples), optional
        Samples drawn from the prior (one pseudo-chain).
    attrs : mapping, optional
        Provenance, normally from :func:`~tlsbayes.results.provenance.provenance`.  Strings,
        ints and floats are stored as they are; dicts, lists, tuples, arrays, booleans and
        ``None`` are stored as JSON text (NetCDF attributes can hold none of these) and decoded
        again by :func:`~tlsbayes.results.provenance.attrs_of`.  A ``"format"`` entry is added
        if missing.
    obs_dims : mapping of str to str or sequence of str, optional
        Dimension name(s) of the observation axis of an observed (or constant) variable.
        Observed variables default to ``"<name>_point"``; give an x value in
        ``constant_data`` the same dimension name as its observed variable to tie them.
        Other constant arrays default to ``"<name>_dim_<i>"``.

    Returns
    -------
    Result
        With groups ``posterior``, ``sample_stats``, ``log_likelihood``, ``observed_data`` and,
        when given, ``constant_data`` and ``prior``.

    Raises
    ------
    ResultError
        If an array has the wrong shape, a required sample statistic is missing, or an
        attribute cannot be stored.
    """
    obs_dims = dict(obs_dims or {})
    post, shape = posterior_group(posterior)
    stats = sample_stats_group(sample_stats, shape)
    observed = _arrays_of_ndim("observed_data", observed_data, 1, "(nobs,)")
    for name in observed:
        obs_dims.setdefault(name, f"{name}_point")
    groups: dict[str, Group] = {
        "posterior": post,
        "sample_stats": stats,
        "log_likelihood": log_likelihood_group(log_likelihood, shape, observed, obs_dims),
        "observed_data": observed_data_group(observed, obs_dims),
    }
    if constant_data:
        groups["constant_data"] = constant_data_group(constant_data, obs_dims)
    if prior:
        groups["prior"] = prior_group(prior)
    root_attrs = encode_attrs(dict(attrs or {}))
    root_attrs.setdefault("format", format_string())
    return Result(groups, root_attrs)


# --------------------------------------------------------------------------------------------
# A finished tlsbayes run: one function per group
# --------------------------------------------------------------------------------------------


def log_params(priors) -> list:
    """Free parameters with a log-uniform (scale) prior: correlate them in log space."""
    return [n for n in priors.free_names if isinstance(priors[n], LogUniform)]


def _run_posterior(posterior, run):
    """``(draws, flat, (nwalkers, ndraw))``: posterior draws per parameter ``(nwalkers,
    ndraw)`` and the flat sampling coordinates ``(nwalkers * ndraw, ndim)`` they come from."""
    theta = run.samples()  # (nw, nd, ndim)
    nw, nd, _ = theta.shape
    flat = theta.reshape(nw * nd, -1)
    params = posterior.params(flat)
    return {n: params[n].reshape(nw, nd) for n in posterior.free_names}, flat, (nw, nd)


def _run_sample_stats(run, shape):
    stats = run.sample_stats()
    sample_stats = {"lp": stats["log_prob"]}
    for k in ("log_prior", "log_likelihood"):
        if k in stats:
            sample_stats[k] = stats[k]
    sample_stats["acceptance_rate"] = np.broadcast_to(
        run.acceptance_fraction[:, None], shape).copy()
    return sample_stats


def _run_log_likelihood(posterior, flat, shape):
    pw = posterior.pointwise_log_likelihood(flat)
    return {k: v.reshape(*shape, -1) for k, v in pw.items()}


def _run_data(posterior):
    """``(observed, constant, obs_dims)``: y per data set; its x and sigma on the same axis."""
    observed = {ds.name: ds.y for ds in posterior.datasets}
    obs_dims = {ds.name: f"{ds.name}_point" for ds in posterior.datasets}
    constant = {}
    for ds in posterior.datasets:
        constant[f"{ds.name}_x"] = ds.x
        constant[f"{ds.name}_sigma"] = ds.sigma
        obs_dims[f"{ds.name}_x"] = f"{ds.name}_point"
        obs_dims[f"{ds.name}_sigma"] = f"{ds.name}_point"
    return observed, constant, obs_dims


def _run_attrs(posterior, run, *, map_params, card_text, extra_attrs):
    """Provenance of a run: settings, seed, verdict, convergence figures, data sets."""
    names = posterior.free_names
    data_hash = data_sha256(*[a for ds in posterior.datasets for a in (ds.x, ds.y, ds.sigma)])
    extra = {
        "map": map_params,
        "steps": run.steps,
        "burn_in": run.burn_in,
        "thin": run.thin,
        "ess": dict(zip(names, map(float, run.ess))),
        "rhat": dict(zip(names, map(float, run.rhat))),
        "wall_time_s": run.wall_time,
        "datasets": [{"name": ds.name, "model": ds.model.kind, "constants": ds.model.constants(),
                      "likelihood": ds.likelihood.kind, "n": ds.n,
                      "x_kind": ds.model.x_kind, "x_unit": ds.model.x_unit,
                      "y_kind": ds.model.y_kind, "y_unit": ds.model.y_unit,
                      "sha256": ds.data_hash()} for ds in posterior.datasets],
        "log_params": log_params(posterior.priors),
    }
    extra.update(extra_attrs or {})
    return provenance(
        version=__version__, model_card_text=card_text, priors=posterior.priors.to_dict(),
        data_hash=data_hash, seed=run.settings.seed, sampler_settings=run.settings.to_dict(),
        tau=dict(zip(names, map(float, run.tau))), verdict=run.verdict,
        converged=bool(run.converged), extra=extra)


def _predictive_groups(posterior, prior_theta, flat, rng, obs_dims):
    """Prior predictive from the prior draws, posterior predictive from up to
    :data:`POSTERIOR_PREDICTIVE_DRAWS` evenly spaced posterior draws (noise included)."""
    n_pp = min(POSTERIOR_PREDICTIVE_DRAWS, flat.shape[0])
    post_theta = flat[np.linspace(0, flat.shape[0] - 1, n_pp).astype(int)]
    groups = {}
    # Order matters: both draw from ``rng``, prior first (same seed -> same result file).
    for group, th in (("prior_predictive", prior_theta), ("posterior_predictive", post_theta)):
        sims = posterior.simulate(th, rng)
        groups[group] = _plain_group({k: (("chain", "draw", obs_dims[k]), v[None, :, :])
                                      for k, v in sims.items()})
    return groups


def build_idata(posterior, run, *, map_params, card_text="", extra_attrs=None, prior_draws=1000,
                rng=None) -> Result:
    """The result of a finished run (post-burn-in, thinned draws): the groups of an ArviZ
    InferenceData, without ArviZ (``.to_inference_data()`` converts it).

    Parameters
    ----------
    posterior : tlsbayes.posterior.Posterior
        The posterior that was sampled (data sets, priors, model).
    run : tlsbayes.sampling.SamplerRun
        The finished run: chain, sample statistics, convergence figures, settings.
    map_params : dict of str to float
        Maximum a posteriori point, physical units (stored in the provenance).
    card_text : str
        The model card verbatim (stored in the provenance).
    extra_attrs : dict, optional
        Merged into the provenance's ``extra``.
    prior_draws : int, default 1000
        Samples of the ``prior`` group (and of the prior predictive).
    rng : numpy.random.Generator, optional
        Draws the prior samples and the predictive noise; default ``default_rng(0)``.

    Returns
    -------
    Result
        The groups of :func:`build_result` plus ``prior_predictive`` and
        ``posterior_predictive``, ``(1, ndraws, nobs)`` per data set.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    post, flat, shape = _run_posterior(posterior, run)
    observed, constant, obs_dims = _run_data(posterior)
    prior_theta = posterior.priors.sample(prior_draws, rng)
    prior_params = posterior.params(prior_theta)
    result = build_result(
        posterior=post, sample_stats=_run_sample_stats(run, shape),
        log_likelihood=_run_log_likelihood(posterior, flat, shape), observed_data=observed,
        constant_data=constant, prior={n: prior_params[n][None, :] for n in posterior.free_names},
        attrs=_run_attrs(posterior, run, map_params=map_params, card_text=card_text,
                         extra_attrs=extra_attrs),
        obs_dims=obs_dims)
    groups = {g: result[g] for g in result.groups()}
    # ArviZ's group order: the predictive groups after the posterior (as add_groups puts them)
    order = ["posterior", "posterior_predictive", "log_likelihood", "sample_stats", "prior",
             "prior_predictive", "observed_data", "constant_data"]
    groups.update(_predictive_groups(posterior, prior_theta, flat, rng, obs_dims))
    return Result({g: groups[g] for g in sorted(groups, key=order.index)}, result.attrs)
