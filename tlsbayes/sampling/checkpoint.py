"""Checkpoints: an emcee backend that rewrites its HDF5 file atomically, and its reader.

Checkpoint file (HDF5, written atomically at a multiple of ``chunk`` steps when due)
-----------------------------------------------------------------------------------
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

import hashlib
import json
import os
import secrets
from pathlib import Path

import numpy as np

from ..atomic import fsync_directory, hdf5_image, record_checksum
from ..errors import SamplingError
from .emcee_import import emcee
# The reader needs h5py alone (a no-op resume and ``tlsbayes report`` must not import emcee).
from .checkpoint_file import (CHECKPOINT_FORMAT, EMCEE_GROUP, STATE_GROUP, Checkpoint,
                              read_checkpoint)

__all__ = ["EMCEE_GROUP", "STATE_GROUP", "CHECKPOINT_FORMAT", "Checkpoint", "read_checkpoint",
           "AtomicHDFBackend"]


#: Upper bound on the bytes of one HDF5 chunk of a checkpoint dataset.
_CHUNK_BYTES = 16 << 20
#: The storage reserves a run's whole ``max_steps`` at once when that takes at most this many
#: bytes (:meth:`AtomicHDFBackend.grow`).
RESERVE_BYTES = 1 << 30


def _chunks(data: np.ndarray) -> tuple[int, ...]:
    """Chunk shape of a checkpoint dataset: whole steps, as few equal chunks as fit in
    :data:`_CHUNK_BYTES`.  h5py's guess (~1 MB chunks, padded) costs a third of the write
    and ~15 % more file; a resumable dataset (``maxshape=None``) must be chunked at all."""
    steps = max(data.shape[0], 1)
    row = max(data[:1].nbytes, 1)
    pieces = -(-steps * row // _CHUNK_BYTES)
    return (max(1, -(-steps // pieces)),) + data.shape[1:]


class AtomicHDFBackend(emcee.backends.Backend):
    """emcee's in-memory backend, bound to a checkpoint file written atomically by :meth:`save`.

    Using emcee's own storage (rather than re-implementing it) keeps acceptance counts, blobs
    and ``get_last_sample`` exactly as emcee defines them.

    Parameters
    ----------
    path : path-like or None
        Checkpoint file; ``None`` keeps the chain in memory only (:meth:`save` does nothing).
    max_steps : int, optional
        The run's step cap: :meth:`grow` never reserves room beyond it.
    """

    def __init__(self, path=None, *, dtype=None, max_steps=None):
        super().__init__(dtype=dtype)
        self.path = None if path is None else Path(path)
        self.max_steps = max_steps

    def restore(self, ck: Checkpoint) -> None:
        """Prime the storage with a saved chain, acceptance counts and random state."""
        self.reset(ck.nwalkers, ck.ndim)
        self.chain = np.array(ck.chain, dtype=self.dtype)
        self.log_prob = np.array(ck.log_prob, dtype=self.dtype)
        self.blobs = None if ck.blobs is None else np.array(ck.blobs)
        self.accepted = np.array(ck.accepted, dtype=self.dtype)
        self.random_state = ck.random_state
        self.iteration = ck.steps

    def grow(self, ngrow, blobs) -> None:
        """Room for ``ngrow`` more steps, as emcee's ``Backend.grow``: the run's whole
        ``max_steps`` at once where that takes at most :data:`RESERVE_BYTES`, else at least
        double the room.

        emcee's own ``grow`` concatenates exactly the rows asked for, copying the whole chain
        every time: quadratic in the run's length when a run appends chunk after chunk (a Ta
        curve of 113 719 steps: 254 appends, 7.0 of 21 s of sampling CPU).  Doubling still
        copies, and every new array is fresh memory to fault in: the appends of a 142 149-step
        run cost 0.18-0.20 s of CPU that way (0.6-1.0 s in some fresh processes), 0.09 s with
        the room reserved once.  A reservation costs address space, not memory: ``numpy.empty``
        leaves the rows no step writes untouched, and their pages are never allocated (that
        run's peak resident memory: 1.39 GB doubling, 1.36 GB reserved).  Rows
        beyond ``iteration`` are spare capacity, as in emcee (its getters slice
        ``[:iteration]``; a checkpoint stores ``[:iteration]``), never more than up to
        ``max_steps``.
        """
        self._check_blobs(blobs)
        need = self.iteration + ngrow
        blob_room = blobs is None or (self.blobs is not None and len(self.blobs) >= need)
        if len(self.chain) >= need and blob_room:
            return
        size = 2 * len(self.chain)
        if self.max_steps is not None:  # a run of 142 000 steps capped at 150 000: not 262 144
            row = self.nwalkers * ((self.ndim + 1) * np.dtype(self.dtype).itemsize
                                   + (0 if blobs is None else blobs.dtype.itemsize))
            small = row * self.max_steps <= RESERVE_BYTES
            size = self.max_steps if small else min(size, self.max_steps)
        size = max(need, size)
        it = self.iteration

        def resized(old, shape, dtype):
            new = np.empty((size,) + shape, dtype=dtype)
            if old is not None:
                new[:it] = old[:it]
            return new

        self.chain = resized(self.chain, (self.nwalkers, self.ndim), self.dtype)
        self.log_prob = resized(self.log_prob, (self.nwalkers,), self.dtype)
        if blobs is not None:
            dt = np.dtype((blobs.dtype, blobs.shape[1:]))
            self.blobs = resized(self.blobs, (self.nwalkers,), dt)

    def append_steps(self, chain, log_prob, blobs, accepted, random_state) -> None:
        """Store ``n`` steps at once, as ``n`` calls of emcee's ``save_step`` would.

        Parameters
        ----------
        chain : ndarray, shape (n, nwalkers, ndim)
        log_prob : ndarray, shape (n, nwalkers)
        blobs : ndarray, shape (n, nwalkers), structured (one field per blob), or None
        accepted : ndarray, shape (nwalkers,)
            Accepted proposals per walker over the ``n`` steps.
        random_state : tuple
            The random generator's state after the last step.
        """
        n = chain.shape[0]
        self.grow(n, None if blobs is None else blobs[0])
        it = self.iteration
        self.chain[it:it + n] = chain
        self.log_prob[it:it + n] = log_prob
        if blobs is not None:
            self.blobs[it:it + n] = blobs
        self.accepted += accepted
        self.random_state = random_state
        self.iteration = it + n

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
            record_checksum(path, tmp, hashlib.sha256(image).hexdigest())
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
        for name in ("chain", "log_prob") + (("blobs",) if self.has_blobs() else ()):
            data = getattr(self, name)[:it]
            g.create_dataset(name, data=data, maxshape=(None,) + data.shape[1:],
                             chunks=_chunks(data))
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
