"""``index.csv`` of a batch (one row per group) and the state of a group's run directory."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

from ..errors import TLSBayesError, one_line
from ..rundir import CHECKPOINT_FILE, POSTERIOR_FILE, RUN_JSON

INDEX_FILE = "index.csv"
#: Run directories of the groups, under the batch directory.
RUNS_DIR = "runs"
#: Columns of index.csv; ``<param>_median``, ``<param>_q16``, ``<param>_q84`` (physical units,
#: quantiles over all posterior draws) follow ``steps`` for every free parameter.
INDEX_COLUMNS = ("group", "n_rows", "n_points", "status", "converged", "max_rhat", "min_ess",
                 "steps", "unidentified", "misfit", "run_dir", "error")
CONVERGED, NOT_CONVERGED, FAILED, PENDING = "converged", "not_converged", "failed", "pending"
# Settings that may change between reruns without making a finished run another fit.
_RESUMABLE_SETTINGS = ("max_steps", "progress")


def posterior_row(idata) -> dict:
    """Index fields of a result: verdict, convergence figures, quantiles."""
    import numpy as np

    from .. import results as R

    attrs = R.attrs_of(idata)
    extra = attrs.get("extra") or {}
    rhat = [float(v) for v in (extra.get("rhat") or {}).values()]
    ess = [float(v) for v in (extra.get("ess") or {}).values()]
    post = {}
    for name in idata.posterior.data_vars:
        draws = np.asarray(idata.posterior[name].values, dtype=float).ravel()
        post[name] = tuple(float(q) for q in np.quantile(draws, [0.5, 0.16, 0.84]))
    converged = attrs.get("converged") is True
    return {"status": CONVERGED if converged else NOT_CONVERGED, "converged": converged,
            "max_rhat": max(rhat) if rhat else math.nan,
            "min_ess": min(ess) if ess else math.nan,
            "steps": extra.get("steps"), "posterior": post}


def _identity(info: dict) -> dict:
    """What makes two run.json describe the same fit (not max_steps: it may be raised)."""
    settings = {k: v for k, v in info.get("settings", {}).items()
                if k not in _RESUMABLE_SETTINGS}
    return {"card": info.get("card_sha256"), "data": [d.get("sha256") for d in
                                                       info.get("data", [])],
            "group": info.get("group"), "settings": settings}


def run_state(run_dir: Path, info: dict) -> tuple[str, str, object]:
    """``(state, why, idata)``: state is done (idata: its result), resume, fresh or
    conflict (why: the reason)."""
    from .. import results as R

    ck = (run_dir / CHECKPOINT_FILE).is_file()
    path = run_dir / RUN_JSON
    if not path.is_file():
        if ck:
            return "conflict", f"{run_dir} has a {CHECKPOINT_FILE} but no {RUN_JSON}", None
        return "fresh", "", None
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return "conflict", f"{path} is unreadable ({one_line(exc)})", None
    mine, theirs = _identity(info), _identity(old if isinstance(old, dict) else {})
    diff = [k for k in mine if mine[k] != theirs[k]]
    if diff:
        return "conflict", (f"{run_dir} holds another fit (its {', '.join(diff)} differ); "
                            "delete it or choose another --out"), None
    if old.get("finished") and old.get("settings") == info["settings"]:
        try:
            return "done", "", R.load(run_dir / POSTERIOR_FILE)
        except TLSBayesError:
            pass
    return ("resume" if ck else "fresh"), "", None


def write_index(path: Path, rows: list, params: list) -> None:
    from ..atomic import atomic_write_text

    k = INDEX_COLUMNS.index("steps") + 1
    cols = list(INDEX_COLUMNS[:k])
    for p in params:
        cols += [f"{p}_median", f"{p}_q16", f"{p}_q84"]
    cols += list(INDEX_COLUMNS[k:])
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for r in rows:
        cells = {k: r.get(k) for k in INDEX_COLUMNS}
        cells["converged"] = {True: "true", False: "false"}.get(r.get("converged"), "")
        for p in params:
            q = (r.get("posterior") or {}).get(p, (None, None, None))
            cells.update({f"{p}_median": q[0], f"{p}_q16": q[1], f"{p}_q84": q[2]})
        w.writerow(["" if cells[c] is None else
                    (repr(cells[c]) if isinstance(cells[c], float) else cells[c])
                    for c in cols])
    atomic_write_text(path, buf.getvalue())


def progress_line(k: int, n: int, row: dict) -> str:
    where = f" -> {row['run_dir']}"
    if row["status"] == FAILED:
        return f"[{k}/{n}] {row['group']}: FAILED: {row.get('error', '')}"
    what = "converged" if row["status"] == CONVERGED else "NOT converged"
    if row.get("skipped"):
        return f"[{k}/{n}] {row['group']}: {what} (finished earlier, skipped){where}"
    return (f"[{k}/{n}] {row['group']}: {what} after {row.get('steps')} steps in "
            f"{row.get('seconds', math.nan):.1f} s, max R-hat {row['max_rhat']:.4f}, "
            f"min ESS {row['min_ess']:.0f}{where}")

