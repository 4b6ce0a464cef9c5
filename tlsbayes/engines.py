"""Engines of ``tlsbayes batch``: :class:`concurrent.futures.Executor` factories.

* :func:`local_executor`: local processes (``spawn``), each dying with the batch process;
* :func:`dask_executor`: a Dask distributed scheduler (``pip install 'tlsbayes[dask]'``);
* :func:`mpi_executor`: :class:`mpi4py.futures.MPIPoolExecutor` (``pip install mpi4py``).

An engine that is not installed or cannot be reached raises :class:`~tlsbayes.errors.BatchError`
with the command that installs or starts it.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import sys

from .errors import BatchError, one_line

__all__ = ["dask_executor", "local_executor", "mpi_executor"]


def _worker_init(parent_pid: int) -> None:
    """Local worker start-up: die with the batch process; non-interactive matplotlib; no
    library warnings on the batch's stderr."""
    from .errors import silence_foreign_output

    os.environ.setdefault("MPLBACKEND", "Agg")
    silence_foreign_output()
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            return
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os._exit(1)


def local_executor(workers: int) -> cf.ProcessPoolExecutor:
    """Pool of ``workers`` local processes (``spawn``), each dying with this process."""
    import multiprocessing

    return cf.ProcessPoolExecutor(max_workers=int(workers),
                                  mp_context=multiprocessing.get_context("spawn"),
                                  initializer=_worker_init, initargs=(os.getpid(),))


def dask_executor(address: str, timeout: float = 30.0):
    """``(executor, client)`` for the Dask distributed scheduler at ``address``.

    Close the client when done.  Tasks are submitted with ``pure=False`` (Dask would otherwise
    merge identical calls).

    Raises
    ------
    BatchError
        dask.distributed is not installed or the scheduler cannot be reached.
    """
    try:
        from distributed import Client
    except ImportError:
        raise BatchError("--scheduler needs dask.distributed, which is not installed: "
                         "pip install 'tlsbayes[dask]'") from None
    try:
        client = Client(address, timeout=timeout)
    except (OSError, TimeoutError, ValueError) as exc:
        raise BatchError(f"--scheduler {address}: cannot connect to the Dask scheduler "
                         f"({one_line(exc)})") from None
    return client.get_executor(pure=False), client


def mpi_executor(workers: int | None = None):
    """:class:`mpi4py.futures.MPIPoolExecutor` with ``workers`` processes (None: the MPI
    universe's).

    Raises
    ------
    BatchError
        mpi4py is not installed.
    """
    try:
        from mpi4py.futures import MPIPoolExecutor
    except ImportError:
        raise BatchError("--mpi needs mpi4py, which is not installed: pip install mpi4py (it "
                         "needs an MPI library such as Open MPI or MPICH), then run e.g. "
                         "'mpiexec -n 1 tlsbayes batch ... --mpi --workers 8'; or use --workers "
                         "N (local processes) or --scheduler ADDRESS (Dask)") from None
    return MPIPoolExecutor(max_workers=workers)
