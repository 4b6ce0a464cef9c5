"""Atomic file output: write to a temporary file in the target directory, then rename.

A reader (or a SIGKILL at any moment) sees either the old complete file or the new complete
file, never a partial one.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path


def fsync_directory(directory) -> None:
    """Make a rename inside ``directory`` durable (no-op where directories cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def new_temporary(path, suffix: str | None = None) -> Path:
    """Create an empty, uniquely named temporary file next to ``path`` and return its path.

    The name is ``.<stem of path>.<random><suffix>`` (``suffix`` defaults to that of
    ``path``), hidden and in the same directory so that :func:`os.replace` is atomic.  Unlike
    :func:`tempfile.mkstemp`, whose mode is always 0600, the file is created with mode 0666
    minus the umask, so results are as readable as any other file the user writes.
    """
    path = Path(path)
    suffix = path.suffix if suffix is None else suffix
    for _ in range(100):
        tmp = path.parent / f".{path.stem}.{secrets.token_hex(4)}{suffix}"
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        except OSError as exc:  # read-only, full, no permission: name the file meant
            raise type(exc)(exc.errno, exc.strerror, str(path)) from None
        return tmp
    raise FileExistsError(f"no free temporary name next to {path}")


def remove_temporaries(directory, targets) -> list:
    """Delete temporaries left next to ``targets`` (file names) in ``directory`` by a kill.

    Every atomic writer of tlsbayes (:func:`atomic_output`, ``results.save``, the sampler's
    checkpoint) names its temporary ``.<stem>.<...>`` after the target's stem, and only a
    SIGKILL or power cut in mid-write leaves one behind.  Call this only when no other process
    is writing into ``directory``.  Returns the removed paths.
    """
    directory = Path(directory)
    prefixes = tuple(f".{Path(t).stem}." for t in targets)
    removed = []
    for p in directory.glob(".*"):
        if p.is_file() and p.name.startswith(prefixes):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
                removed.append(p)
    return removed


@contextlib.contextmanager
def atomic_output(path):
    """Context manager yielding a temporary path; on success it replaces ``path``.

    The temporary file keeps the suffix of ``path`` (so writers that infer the format from it,
    like matplotlib, still work) and is removed if the block raises.
    """
    path = Path(path)
    tmp = new_temporary(path)
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.filename is None:
            exc.filename = str(path)  # writers given a file object (matplotlib) name none
        raise
    fsync_directory(path.parent)


def hdf5_image(fill) -> bytes:
    """The bytes of an HDF5 file built in memory by ``fill(file)`` (an open ``h5py.File``).

    Why in memory: when a write to disk fails (a full disk, ENOSPC; a quota), libhdf5 leaves
    its file objects half-closed and the process then dies in ``free()`` or with a
    segmentation fault while h5py releases them.  Built in memory, the file is written by
    Python (:func:`atomic_write_bytes`), whose failure is a plain :class:`OSError` and leaves
    no temporary behind.  libhdf5's own in-memory driver (``core`` without a backing store)
    builds it without a Python callback per write, as a ``io.BytesIO`` would need.
    """
    import h5py

    with h5py.File(f"tlsbayes-image-{secrets.token_hex(8)}.h5", "w", driver="core",
                   backing_store=False) as f:
        fill(f)
        f.flush()
        return f.id.get_file_image()


def atomic_write_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (nothing under ``path`` if the disk is full)."""
    with atomic_output(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def atomic_write_text(path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_output(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def file_sha256(path) -> str:
    """SHA-256 (hex) of a whole file, read in blocks of 1 MiB."""
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def checksum_path(path) -> Path:
    """``<path>.sha256``: where :func:`record_checksum` keeps the digests of ``path``."""
    path = Path(path)
    return path.with_name(path.name + ".sha256")


def record_checksum(path, new_file, digest: str | None = None) -> None:
    """Before ``new_file`` (a complete temporary) replaces ``path``: record its SHA-256.

    ``<path>.sha256`` is replaced atomically with two lines, the digest of ``new_file`` and
    the newest digest it held, so that a kill between this and the rename of ``new_file``
    leaves a checksum file that still vouches for the old ``path``.  ``digest``: the
    SHA-256 (hex) of ``new_file`` when the caller has it (saves reading the file back).
    """
    sums = checksum_path(path)
    try:
        previous = sums.read_text(encoding="ascii").split()[:1]
    except (OSError, ValueError):
        previous = []
    atomic_write_text(sums, "\n".join([digest or file_sha256(new_file), *previous]) + "\n")
