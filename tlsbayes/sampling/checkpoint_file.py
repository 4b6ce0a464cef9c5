"""Reading a checkpoint file with h5py alone (the layout: :mod:`tlsbayes.sampling.checkpoint`).

Kept apart from the writer, an emcee backend, so that the commands that only look at a
checkpoint (a no-op ``resume``, ``tlsbayes report``) do not import emcee (1-2 s: its KDE move
imports scipy.stats).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from ..errors import SamplingError

__all__ = ["EMCEE_GROUP", "STATE_GROUP", "CHECKPOINT_FORMAT", "Checkpoint", "read_checkpoint"]

#: Group written by :class:`emcee.backends.HDFBackend` (its default ``name``).
EMCEE_GROUP = "mcmc"
#: Group holding the tlsbayes bookkeeping in a checkpoint.
STATE_GROUP = "tlsbayes"
CHECKPOINT_FORMAT = 1


@dataclass(frozen=True, eq=False)
class Checkpoint:
    """Contents of a checkpoint file (see the module docstring for the layout)."""

    path: Path
    chain: np.ndarray
    log_prob: np.ndarray
    blobs: np.ndarray | None
    accepted: np.ndarray
    random_state: tuple
    steps: int
    tau_history: np.ndarray
    tau_history_steps: np.ndarray
    wall_time: float
    settings: dict
    names: tuple[str, ...]
    blob_names: tuple[str, ...]

    @property
    def nwalkers(self) -> int:
        return self.chain.shape[1]

    @property
    def ndim(self) -> int:
        return self.chain.shape[2]


def read_checkpoint(path) -> Checkpoint:
    """Read and validate a checkpoint written by :meth:`AtomicHDFBackend.save`.

    Raises
    ------
    SamplingError
        Naming the file and the problem if it is missing, unreadable or inconsistent.
    """
    path = Path(path)
    if not path.is_file():
        raise SamplingError(f"checkpoint '{path}' does not exist")

    def broken(what):
        return SamplingError(f"checkpoint '{path}' is unusable: {what}")

    try:
        f = h5py.File(path, "r")
    except Exception as exc:  # h5py raises OSError for garbage, other types for odd files
        raise broken(f"not a readable HDF5 file ({exc})") from exc
    try:
        with f:
            for group in (EMCEE_GROUP, STATE_GROUP):
                if group not in f:
                    raise broken(f"group '{group}' is missing")
            g, s = f[EMCEE_GROUP], f[STATE_GROUP]
            if int(s.attrs["format_version"]) != CHECKPOINT_FORMAT:
                raise broken(f"format_version {s.attrs['format_version']} is not "
                             f"{CHECKPOINT_FORMAT}")
            nwalkers, ndim = int(g.attrs["nwalkers"]), int(g.attrs["ndim"])
            iteration = int(g.attrs["iteration"])
            chain = g["chain"][:iteration]
            log_prob = g["log_prob"][:iteration]
            accepted = g["accepted"][...]
            blobs = g["blobs"][:iteration] if bool(g.attrs["has_blobs"]) else None
            key = s["rng_key"][...]
            random_state = (str(s["rng_key"].attrs["algorithm"]), key,
                            int(s["rng_key"].attrs["pos"]), int(s["rng_key"].attrs["has_gauss"]),
                            float(s["rng_key"].attrs["cached_gaussian"]))
            steps = int(s.attrs["steps"])
            tau_history = s["tau_history"][...]
            tau_history_steps = s["tau_history_steps"][...]
            wall_time = float(s.attrs["wall_time"])
            settings = json.loads(s.attrs["settings"])
            names = tuple(json.loads(s.attrs["names"]))
            blob_names = tuple(json.loads(s.attrs["blob_names"]))
    except SamplingError:
        raise
    except Exception as exc:  # truncated datasets, missing keys, bad JSON, ...
        what = (f"a dataset or attribute is missing ({exc.args[0]})" if isinstance(exc, KeyError)
                else f"{type(exc).__name__}: {exc}")
        raise broken(what) from exc

    expected = {
        "chain": (chain.shape, (iteration, nwalkers, ndim)),
        "log_prob": (log_prob.shape, (iteration, nwalkers)),
        "accepted": (accepted.shape, (nwalkers,)),
        "rng_key": (key.shape, (624,)),
        "tau_history": (tau_history.shape, (tau_history_steps.shape[0], ndim)),
    }
    if blobs is not None:
        expected["blobs"] = (blobs.shape, (iteration, nwalkers))
    for name, (got, want) in expected.items():
        if got != want:
            raise broken(f"dataset '{name}' has shape {got}, expected {want}")
    if steps != iteration or iteration < 1:
        raise broken(f"steps = {steps} but the chain holds {iteration} steps")
    # a checkpoint is written at a check or between two (tlsbayes.sampling.runner), never
    # with a check recorded beyond its last step
    if tau_history_steps.size and (int(tau_history_steps[-1]) > steps
                                   or np.any(np.diff(tau_history_steps) <= 0)):
        raise broken(f"tau history {tau_history_steps.tolist()[-3:]} does not fit the "
                     f"{steps} steps of the chain")
    try:
        # emcee's random_state setter ignores a bad state silently; a resumed run would then
        # diverge from the uninterrupted one without any error.
        np.random.RandomState().set_state(random_state)
    except Exception as exc:
        raise broken(f"invalid random-generator state ({exc})") from exc
    if len(names) != ndim:
        raise broken(f"{len(names)} parameter names for ndim = {ndim}")
    if blobs is not None and tuple(blobs.dtype.names or ()) != blob_names:
        raise broken(f"blob fields {blobs.dtype.names} do not match blob_names {blob_names}")
    return Checkpoint(path, chain, log_prob, blobs, accepted, random_state, steps, tau_history,
                      tau_history_steps, wall_time, settings, names, blob_names)
