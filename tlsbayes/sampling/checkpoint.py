"""Checkpoints: an emcee backend that rewrites its HDF5 file atomically, and its reader.

Checkpoint file (HDF5, written atomically at the end of every chunk)
---------------------------------------------------------------------
* group ``mcmc``: exactly the layout of :class:`emcee.backends.HDFBackend` (datasets
  ``chain``, ``log_prob``, ``accepted``, ``blobs`` (compound, one field per blob name);
  attributes ``version``, ``nwalkers``, ``ndim``, ``has_blobs``, ``iteration``,
  ``random_state_0..4``), so ``emcee.backends.HDFBackend(path, read_only=True)`` reads it.
* group ``tlsbayes``: attributes ``format_version``, ``steps``, ``wall_time``, ``settings``,
  ``names`` and ``blob_names`` (JSON text); datasets ``rng_key`` (MT19937 key, with the rest of
  the generator state as its attributes), ``tau_history`` ``(nchecks, ndim)`` and
  ``tau_history_steps`` ``(nchecks,)``.  Plain datasets and attributes only, never pickle.

The file is written to a temporary file in the same directory, fsync'ed and moved over the
previous checkpoint with :func:`os.replace`, so a SIGKILL at any moment leaves either the old or
the new complete checkpoint (plus, if the kill hit a write, a hidden
``.<name>.<pid>.<hex>.tmp`` that is safe to delete).  Rewriting the whole chain every chunk
costs O(steps) I/O per chunk; for the chain sizes of this project (<= 50 000 x 64 x 10
doubles) that is seconds at most, and it is what makes the replace atomic.

:class:`AtomicHDFBackend` follows the pattern of emcee's own ``emcee.backends.HDFBackend`` (a
:class:`emcee.backends.Backend` subclass bound to a file, same group layout), but keeps the
chain in emcee's in-memory storage and writes the file only at :meth:`AtomicHDFBackend.save`,
whole and atomically, instead of growing it in place step by step: an in-place write killed
half-way would leave a chain that cannot be resumed.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import emcee
import h5py
import numpy as np

from ..atomic import fsync_directory, hdf5_image, record_checksum
from ..errors import SamplingError

__all__ = ["EMCEE_GROUP", "STATE_GROUP", "CHECKPOINT_FORMAT", "Checkpoint", "read_checkpoint",
           "AtomicHDFBackend"]

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
    if tau_history_steps.size == 0 or int(tau_history_steps[-1]) != steps:
        raise broken(f"tau history does not end at step {steps}")
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


class AtomicHDFBackend(emcee.backends.Backend):
    """emcee's in-memory backend, bound to a checkpoint file written atomically by :meth:`save`.

    Using emcee's own storage (rather than re-implementing it) keeps acceptance counts, blobs
    and ``get_last_sample`` exactly as emcee defines them.

    Parameters
    ----------
    path : path-like or None
        Checkpoint file; ``None`` keeps the chain in memory only (:meth:`save` does nothing).
    """

    def __init__(self, path=None, *, dtype=None):
        super().__init__(dtype=dtype)
        self.path = None if path is None else Path(path)

    def restore(self, ck: Checkpoint) -> None:
        """Prime the storage with a saved chain, acceptance counts and random state."""
        self.reset(ck.nwalkers, ck.ndim)
        self.chain = np.array(ck.chain, dtype=self.dtype)
        self.log_prob = np.array(ck.log_prob, dtype=self.dtype)
        self.blobs = None if ck.blobs is None else np.array(ck.blobs)
        self.accepted = np.array(ck.accepted, dtype=self.dtype)
        self.random_state = ck.random_state
        self.iteration = ck.steps

    def save(self, *, names, blob_names, settings, tau_history, tau_history_steps,
             wall_time) -> None:
        """Write the complete state to :attr:`path` atomically (temp file, fsync, os.replace).

        Parameters
        ----------
        names, blob_names : sequence of str
            Parameter and blob names.
        settings : SamplerSettings
            The run's settings (seed filled in).
        tau_history : array_like, shape (nchecks, ndim)
        tau_history_steps : array_like, shape (nchecks,)
        wall_time : float
            Seconds of sampling so far, summed over resumed sessions.
        """
        if self.path is None:
            return
        path = self.path
        directory = path.parent if str(path.parent) else Path(".")
        # Unique name, created exclusively; not mkstemp, whose 0600 mode would make the
        # checkpoint unreadable to colleagues (emcee's own backend follows the umask).
        tmp = directory / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"

        def fill(f):
            self._write_emcee_group(f.create_group(EMCEE_GROUP))
            self._write_state_group(
                f.create_group(STATE_GROUP), names=names, blob_names=blob_names,
                settings=settings, tau_history=tau_history,
                tau_history_steps=tau_history_steps, wall_time=wall_time)

        # Built in memory, written by Python: a full disk is an OSError, not a crash of
        # libhdf5 (see tlsbayes.atomic.hdf5_image).
        image = hdf5_image(fill)
        try:
            with open(tmp, "xb") as fh:
                fh.write(image)
                fh.flush()
                os.fsync(fh.fileno())
            # Its digest, verified by resume and report (tlsbayes.rundir.verify_checkpoint).
            record_checksum(path, tmp)
            os.replace(tmp, path)
        except BaseException as exc:
            # Includes KeyboardInterrupt mid-write: the previous checkpoint is still in place.
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            if isinstance(exc, OSError):
                then = (f"the previous one is intact: make room, then 'tlsbayes resume "
                        f"{directory}' continues from it" if path.exists() else
                        "nothing was saved")
                raise SamplingError(f"{path}: cannot write the checkpoint "
                                    f"({exc.strerror or exc}); {then}") from None
            raise
        fsync_directory(directory)

    def _write_emcee_group(self, g) -> None:
        # Same attributes, datasets, dtypes and maxshapes as emcee.backends.HDFBackend.
        nwalkers, ndim = self.shape
        it = self.iteration
        g.attrs["version"] = emcee.__version__
        g.attrs["nwalkers"] = nwalkers
        g.attrs["ndim"] = ndim
        g.attrs["has_blobs"] = self.has_blobs()
        g.attrs["iteration"] = it
        g.create_dataset("accepted", data=self.accepted)
        g.create_dataset("chain", data=self.chain[:it], maxshape=(None, nwalkers, ndim))
        g.create_dataset("log_prob", data=self.log_prob[:it], maxshape=(None, nwalkers))
        if self.has_blobs():
            g.create_dataset("blobs", data=self.blobs[:it], maxshape=(None, nwalkers))
        for i, v in enumerate(self.random_state):
            g.attrs[f"random_state_{i}"] = v

    def _write_state_group(self, s, *, names, blob_names, settings, tau_history,
                           tau_history_steps, wall_time) -> None:
        ndim = self.shape[1]
        s.attrs["format_version"] = CHECKPOINT_FORMAT
        s.attrs["steps"] = self.iteration
        s.attrs["wall_time"] = float(wall_time)
        s.attrs["settings"] = json.dumps(settings.to_dict())
        s.attrs["names"] = json.dumps(list(names))
        s.attrs["blob_names"] = json.dumps(list(blob_names))
        algorithm, key, pos, has_gauss, cached = self.random_state
        k = s.create_dataset("rng_key", data=np.asarray(key, dtype=np.uint32))
        k.attrs["algorithm"] = str(algorithm)
        k.attrs["pos"] = int(pos)
        k.attrs["has_gauss"] = int(has_gauss)
        k.attrs["cached_gaussian"] = float(cached)
        s.create_dataset("tau_history",
                         data=np.asarray(tau_history, dtype=float).reshape(-1, ndim))
        s.create_dataset("tau_history_steps",
                         data=np.asarray(tau_history_steps, dtype=np.int64))
