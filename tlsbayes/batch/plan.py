"""Groups of a batch: which rows, which seed, which directory, and whether each can be fitted."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import TLSBayesError, one_line
from ..rundir import card_for_group
from .index import RUNS_DIR


def group_seed(seed: int, group: str) -> int:
    """Seed of one group's fit: a function of the batch seed and the group name only.

    The first 4 bytes of SHA-256(``"<seed>/<group>"``), so results never depend on the order
    of the groups, on the worker count or on which worker fitted a group.
    """
    digest = hashlib.sha256(f"{int(seed)}/{group}".encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "little")


#: Longest group name used as it is for a directory name (file systems allow 255 bytes).
MAX_RUN_DIR_NAME = 64


def run_dir_name(group: str) -> str:
    """Directory name of a group: the name itself if it is a safe file name of at most
    :data:`MAX_RUN_DIR_NAME` characters, otherwise the name with unsafe characters replaced,
    cut to that length, plus 8 hex digits of its hash (two groups never share a directory)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", group).strip("._") or "group"
    if safe != group or len(safe) > MAX_RUN_DIR_NAME:
        safe = (safe[:MAX_RUN_DIR_NAME].rstrip("._") or "group") + "-" + \
            hashlib.sha256(group.encode("utf-8")).hexdigest()[:8]
    return safe


@dataclass(frozen=True)
class GroupPlan:
    """One group as planned by :func:`plan_groups`.

    Attributes
    ----------
    group : str
        The cell text identifying the group.
    n_rows : int
        Rows of the table in the group that pass the card's filter (before the window).
    run_dir : str
        Run directory relative to the batch directory (``runs/<name>``).
    n_points : int or None
        Points the fit uses (after filter and window); None if the data are unusable.
    free_names : tuple of str
        Free parameters of the group's posterior (empty if unusable).
    data_info : list of dict
        Source, SHA-256 and rows used of the data (for run.json).
    error : str
        Why the group cannot be fitted ("" if it can).
    """

    group: str
    n_rows: int
    run_dir: str
    n_points: int | None = None
    free_names: tuple = ()
    data_info: list = dataclasses.field(default_factory=list)
    error: str = ""


def plan_groups(card, group_by: str, data=None) -> list[GroupPlan]:
    """Split the data into groups and check that each group's posterior can be built.

    Parameters
    ----------
    card : tlsbayes.card.Card
        A card with one data set.
    group_by : str
        Column whose distinct values, among the rows the card's filter passes, define the
        groups (order of first appearance).
    data : path-like, optional
        Table replacing the card's data file.

    Raises
    ------
    CardError, DataError
        The card has several data sets or its own group selects another column, the table is
        unreadable, or it has no column ``group_by``.  A problem of one group's data (e.g.
        too few rows after the filter) is not raised: it is in that group's ``error``.
    """
    from .. import card as tcard
    from .. import io as tio

    card_for_group(card, group_by, "")  # validates the card's shape before reading data
    path = Path(data) if data is not None else card.datasets[0].path
    table = tio.read_table(path)
    # The card's filter says which rows the batch is about: a group it removes entirely
    # (another film, another cooldown) is not one of this batch's groups, not a failure.
    flt = card.datasets[0].data.get("filter")
    keep = tio.parse_filter(flt).mask(table) if flt else None
    counts = tio.groups(table, group_by, keep)
    plans = []
    for group, n_rows in counts.items():
        run_dir = f"{RUNS_DIR}/{run_dir_name(group)}"
        try:
            posterior, loaded = tcard.build_posterior(card_for_group(card, group_by, group),
                                                      data_override=data)
        except TLSBayesError as exc:
            plans.append(GroupPlan(group, n_rows, run_dir, error=one_line(exc)))
            continue
        plans.append(GroupPlan(
            group, n_rows, run_dir, n_points=sum(ds.n for ds in posterior.datasets),
            free_names=tuple(posterior.free_names),
            data_info=[{"source": str(d.source), "sha256": d.sha256,
                        "rows_used": d.n_rows_used} for d in loaded]))
    return plans

