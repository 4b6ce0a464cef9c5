"""Engines of ``tlsbayes batch``: :class:`concurrent.futures.Executor` factories.

* :func:`local_executor`: local processes (``spawn``), each dying with the batch process;
* :func:`dask_executor`: a Dask distributed scheduler (``pip install 'tlsbayes[dask]'``);
* :func:`mpi_executor`: :class:`mpi4py.futures.MPIPoolExecutor` (``pip install mpi4py``);
* :func:`run_tasks`: every task through an engine, follow-up jobs (figures) queued behind the
  tasks still waiting, a dead local worker survived (pool restarted, then one task at a time).

An engine that is not installed or cannot be reached raises :class:`~tlsbayes.errors.BatchError`
with the command that installs or starts it.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import os
import sys

from .errors import BatchError, one_line

__all__ = ["dask_executor", "local_executor", "mpi_executor", "run_tasks"]


def _worker_init(parent_pid: int) -> None:
    """Local worker start-up: die with the batch process; non-interactive matplotlib; no
    library warnings on the batch's stderr; a quick exit."""
    import atexit

    from .errors import silence_foreign_output

    os.environ.setdefault("MPLBACKEND", "Agg")
    silence_foreign_output()
    # Registered first, so it runs last of the exit handlers: a worker exits after the pool
    # has its every result, and tearing down an interpreter holding numba's compiled code
    # cost 0.15-0.17 s of every batch's end (the pool's shutdown waits for it).
    atexit.register(_quick_exit)
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


def _quick_exit() -> None:
    """End a pool worker without the interpreter's teardown (its files are closed and its
    results sent: the pool exits it only when every task is done)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(0)


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


# --------------------------------------------------------------------------------------------
# running tasks
# --------------------------------------------------------------------------------------------
def run_tasks(tasks, task_fn, on_result, on_error, *, executor=None, workers=None,
              print_fn=print, follow=None) -> None:
    """Run ``task_fn(task)`` for every task; report each outcome as it comes.

    Parameters
    ----------
    tasks : list
        Picklable task objects, submitted in this order (the local engine starts them in
        order, so put the longest first: :func:`tlsbayes.batch.run.run_batches` puts the
        groups with the fewest points first).
    task_fn : callable
        Picklable; its exceptions are reported through ``on_error``.
    on_result, on_error : callable
        ``on_result(task, result)``; ``on_error(task, why)`` (``why``: one line) for a task
        that raised or whose worker died for good.
    executor : concurrent.futures.Executor, optional
        Engine left open; default: a local pool of ``workers`` processes (default: CPUs, at
        most the number of tasks), restarted once if a worker dies, then the unfinished
        tasks one at a time, so only a task that kills its worker fails.
    follow : object, optional
        Follow-up jobs: ``follow.job(task, result)`` returns ``(fn, *args)`` or None; the job
        is submitted when the task's result arrives, so it queues behind every task not yet
        started; ``follow.done(task, future)`` receives it and ``follow.failed(task, why)``
        a job that could not be submitted.
    """
    if executor is not None:
        for t in _drain(executor, tasks, task_fn, on_result, on_error, follow):
            on_error(t, "the engine lost this group (its worker died)")
        return
    workers = max(1, min(int(workers or os.cpu_count() or 1), len(tasks)))
    pending = tasks
    for attempt in range(2):
        pending = _drain_local(workers, pending, task_fn, on_result, on_error, follow)
        if not pending:
            return
        how = "restarting the pool" if attempt == 0 else "retrying them one at a time"
        print_fn(f"a worker process died; {how} for the {len(pending)} unfinished group(s)")
    for t in pending:  # isolation: only the task that kills its worker fails
        for lost in _drain_local(1, [t], task_fn, on_result, on_error, follow):
            on_error(lost, "its worker process died (crashed or was killed) in three attempts")


def _drain(executor, tasks, task_fn, on_result, on_error, follow) -> list:
    """Run ``tasks`` (and their follow-up jobs) on ``executor``; return the tasks lost to a
    broken (dead-worker) pool."""
    futures = {executor.submit(task_fn, t): (False, t) for t in tasks}
    broken = []
    try:
        while futures:
            done, _ = cf.wait(futures, return_when=cf.FIRST_COMPLETED)
            for fut in done:
                is_follow_up, t = futures.pop(fut)
                if is_follow_up:
                    follow.done(t, fut)
                    continue
                try:
                    result = fut.result()
                except cf.BrokenExecutor:
                    broken.append(t)
                    continue
                except Exception as exc:  # noqa: BLE001 - e.g. Dask's KilledWorker
                    on_error(t, one_line(exc))
                    continue
                on_result(t, result)
                job = follow.job(t, result) if follow is not None else None
                if job is not None:
                    try:
                        futures[executor.submit(*job)] = (True, t)
                    except (cf.BrokenExecutor, RuntimeError) as exc:
                        follow.failed(t, one_line(exc) or "the engine stopped")
    except BaseException:
        for f in futures:
            f.cancel()
        raise
    return broken


def _drain_local(workers, tasks, task_fn, on_result, on_error, follow) -> list:
    pool = local_executor(workers)
    try:
        broken = _drain(pool, tasks, task_fn, on_result, on_error, follow)
    except BaseException:
        # Do not wait for running fits on Ctrl-C; the workers die with this process.
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return broken
