"""Batch fits: one card, one data table, one fit per group of rows (resonator, film, cooldown...).

    tlsbayes batch CARD [CARD...] [--data CSV] --group-by COLUMN
                   [--workers N | --scheduler ADDR | --mpi] --out DIR

Every distinct value of ``COLUMN`` is one group.  Each group is fitted with the card's model,
priors, likelihood, filter, window and sampler settings (the card's own ``group`` is replaced
by this one), in its own run directory ``DIR/runs/<group>/``, which is a normal run directory
(``tlsbayes resume`` and ``tlsbayes report`` work on it).  ``DIR/index.csv`` holds one row per
group, see :data:`INDEX_COLUMNS`.  Several cards make one batch: their groups share one queue
of workers (fewest points first) and each card has its batch directory ``DIR/<card name>``.

Engines
-------
The fits go through a :class:`concurrent.futures.Executor`, so the engine is a choice:

* local processes (default): :class:`~concurrent.futures.ProcessPoolExecutor` with ``--workers N``
  (default: the number of CPUs, at most the number of groups), started with ``spawn``.
  On Linux a worker dies with the batch process (``PR_SET_PDEATHSIG``), so killing the batch
  leaves no orphan still writing into ``DIR``;
* Dask distributed: ``--scheduler tcp://host:8786`` (``pip install 'tlsbayes[dask]'``); the
  workers need tlsbayes installed and must see ``DIR``, the card and the data at the same
  paths (a shared file system);
* MPI: ``--mpi`` uses :class:`mpi4py.futures.MPIPoolExecutor` (``pip install mpi4py``), e.g.
  ``mpiexec -n 1 tlsbayes batch ... --mpi --workers 8`` (spawned workers) or
  ``mpiexec -n 9 python -m mpi4py.futures -m tlsbayes.cli batch ... --mpi``.

Guarantees
----------
* **Independent groups.**  An error in one group (bad data, a failed MAP, a crash of its worker
  process) is recorded in its row (``status = failed``, ``error``) and printed; the other
  groups go on.  If a local worker process dies, the pool is restarted and the unfinished
  groups run again; groups still hit by a dying worker are then retried one at a time, so only
  the group that kills its worker is reported failed.
* **Same results whatever the engine or worker count.**  Each group's seed is derived from the
  card's seed (or ``--seed``) and the group's name only (:func:`group_seed`), never from its
  position or from which worker ran it.
* **Idempotent.**  A group whose run directory is finished (``run.json`` marks it finished and
  ``posterior.nc`` loads) with the same card, data, group and settings is skipped; an
  interrupted one continues from its ``checkpoint.h5`` (losing at most one checkpoint interval,
  ``chunk`` steps); a finished one whose ``max_steps`` was raised continues sampling.  A run
  directory holding a fit of another card, data or seed is never overwritten: that group
  fails with the reason.
* **Atomic files.**  ``index.csv`` is rewritten atomically after every finished group (groups
  still running are listed as ``pending``); every file of a run directory is written atomically
  (:mod:`tlsbayes.atomic`).  Temporaries a kill left in a run directory are removed when the
  group runs again.  One batch at a time per ``DIR`` (a lock file, ``DIR/.batch.lock``).

Exit status of the command: 0 when every group converged; 3 when some did not converge (and
none failed), 0 with ``--allow-unconverged``; 4 when at least one group failed; 2 on bad input
(card, data file, group column, engine options).
"""

from .group import fit_group, plot_group
from .index import (CONVERGED, FAILED, INDEX_COLUMNS, INDEX_FILE, NOT_CONVERGED, PENDING,
                    RUNS_DIR)
from .plan import MAX_RUN_DIR_NAME, GroupPlan, group_seed, plan_groups, run_dir_name
from .run import BatchResult, CardBatch, batch_card, run_batch, run_batches

__all__ = [
    "CONVERGED",
    "NOT_CONVERGED",
    "FAILED",
    "PENDING",
    "RUNS_DIR",
    "MAX_RUN_DIR_NAME",
    "plot_group",
    "INDEX_FILE",
    "INDEX_COLUMNS",
    "GroupPlan",
    "BatchResult",
    "batch_card",
    "group_seed",
    "run_dir_name",
    "plan_groups",
    "fit_group",
    "run_batch",
    "run_batches",
    "CardBatch",
]
