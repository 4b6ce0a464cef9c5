"""The process of a ``tlsbayes`` command: set up for small arrays and a short life.

Two process-wide settings, made by the ``tlsbayes`` program (:func:`tlsbayes.cli.main` run
as the command, ``argv`` None) and by the ``tlsbayes bench`` child that times a fit as the
command runs it; never on import, so a Python session that imports tlsbayes keeps its own.

* **One BLAS thread.**  numpy's and scipy's OpenBLAS start one thread per core when they are
  loaded, and those threads spin: on the 2-core test machine importing numpy costs 0.13-0.15 s
  CPU with them and 0.06-0.08 s with ``OPENBLAS_NUM_THREADS=1`` (``/usr/bin/time python -c
  "import numpy"``), and a whole fit of the real Ta card about 0.2 s less.  A fit's arrays
  (walkers x parameters, draws x points) are far below the sizes OpenBLAS would split between
  threads, and ``batch`` runs its fits in parallel processes.  Only set when the user set none
  of the thread variables and numpy is not loaded yet (after that it has no effect).
* **The garbage collector.**  numba, scipy and emcee leave long-lived objects (123 400
  tracked at the end of a fit of the real Ta card); the collections that run while they are
  created, and the interpreter's own at exit, traverse all of them (0.1-0.15 s CPU of a fit:
  ``perf`` shows ``gc_collect_main``).
  :func:`setup` raises the first-generation threshold (700 -> 10 000 allocations) and
  :func:`finish` freezes what is alive (:func:`gc.freeze`), so the exit does not traverse it
  (every file of a run is written and closed before).  Neither touches a number: a run's
  results are the same bit for bit.
"""

from __future__ import annotations

import gc
import os
import sys

#: Variables that set the thread count of OpenBLAS (in the order it reads them): if the user
#: set any, their choice stands.
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")

#: First-generation threshold of the garbage collector during a command (Python's is 700).
GC_THRESHOLD0 = 10_000


def setup(environ=None) -> bool:
    """Set up the process of a command (see the module docstring); call before numpy loads.

    Parameters
    ----------
    environ : mapping, optional
        The environment to amend (default :data:`os.environ`).

    Returns
    -------
    bool
        True if the BLAS thread count was set here (False: the user's, or numpy was loaded).
    """
    gc.set_threshold(GC_THRESHOLD0, *gc.get_threshold()[1:])
    if "numpy" in sys.modules:
        return False
    return single_blas_thread(os.environ if environ is None else environ)


def single_blas_thread(environ) -> bool:
    """Set one OpenBLAS thread in ``environ`` unless it names a thread count; True if set.

    Also the environment of a child process (``tlsbayes bench`` gives its children that of
    a command).
    """
    if any(k in environ for k in BLAS_THREAD_VARIABLES):
        return False
    environ["OPENBLAS_NUM_THREADS"] = "1"
    return True


def finish() -> None:
    """Before the process exits: freeze the objects alive, so the exit does not traverse them."""
    gc.freeze()
