"""One page over a ``tlsbayes s21`` run: ``DIR/overview.png`` and ``DIR/overview.html``.

The figure has three panels:

* **Q_i vs readout power**, one series per temperature (and per resonator when the run holds
  several: resonance frequencies more than ``RESONATOR_GAP_HZ`` apart), posterior medians with
  16-84 % error bars; ``ok`` traces filled, ``flagged`` open; failed traces have no number;
* **f_res vs temperature**: the shift from each series' value at its lowest temperature [kHz],
  one series per resonator and power, with 16-84 % error bars;
* **status counts** (ok, flagged, failed).

The HTML page shows the figure, the counts, the most common reasons, and a table of every
flagged and failed trace with its reason and, where the trace was drawn, a thumbnail linking
to its figure in ``DIR/figures``.
"""

from __future__ import annotations

import html
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from ..atomic import atomic_output, atomic_write_text

__all__ = ["write_overview", "resonator_groups", "RESONATOR_GAP_HZ"]

#: Resonance frequencies further apart than this belong to different resonators [Hz].
RESONATOR_GAP_HZ = 5e6
_STATUSES = ("ok", "flagged", "failed")
_COLORS = {"ok": "C2", "flagged": "C1", "failed": "C3"}
_MAX_SERIES = 12  # legend entries; further series are drawn without a label


def resonator_groups(f_res) -> np.ndarray:
    """Resonator index of each trace: sorted resonance frequencies split at gaps wider than
    :data:`RESONATOR_GAP_HZ`; NaN frequencies get -1.

    Parameters
    ----------
    f_res : array_like, shape (n,)
        Resonance frequencies [Hz].

    Returns
    -------
    ndarray of int, shape (n,)
    """
    f = np.asarray(f_res, dtype=float)
    out = np.full(f.size, -1)
    ok = np.flatnonzero(np.isfinite(f))
    if ok.size:
        order = ok[np.argsort(f[ok])]
        out[order] = np.concatenate([[0], np.cumsum(np.diff(f[order]) > RESONATOR_GAP_HZ)])
    return out


def _numbers(table: pd.DataFrame) -> pd.DataFrame:
    df = table[table["status"].isin(("ok", "flagged"))].copy()
    df = df[np.isfinite(df["Qi"].astype(float)) & np.isfinite(df["f_res_Hz"].astype(float))]
    df["resonator"] = resonator_groups(df["f_res_Hz"])
    df["T_mK"] = (1e3 * df["temperature_K"].astype(float)).round(1)
    return df


def _errorbars(ax, x, y, lo, hi, status, color, label):
    lower = np.clip(y - lo, 0, None)
    upper = np.where(np.isfinite(hi), hi - y, 0.0)
    for st, fill in (("ok", color), ("flagged", "none")):
        m = (status == st).to_numpy()
        if m.any():
            ax.errorbar(x[m], y[m], yerr=[lower[m], upper[m]], fmt="o", ms=4, color=color,
                        mfc=fill, lw=0.8, capsize=0, label=label if st == "ok" or not
                        (status == "ok").any() else None)


def _qi_panel(ax, df):
    multi = df["resonator"].nunique() > 1
    keys = sorted(df.groupby(["T_mK", "resonator"]).groups)
    for j, (t, r) in enumerate(keys):
        g = df[(df["T_mK"] == t) & (df["resonator"] == r)].sort_values("power_dBm")
        f_ghz = g["f_res_Hz"].median() / 1e9
        label = (f"{t:g} mK" + (f", {f_ghz:.4f} GHz" if multi else "")
                 if j < _MAX_SERIES else None)
        _errorbars(ax, g["power_dBm"].to_numpy(float), g["Qi"].to_numpy(float),
                   g["Qi_q16"].to_numpy(float), g["Qi_q84"].to_numpy(float), g["status"],
                   f"C{j % 10}", label)
    ax.set_yscale("log")
    ax.set_xlabel("readout power at the VNA [dBm]")
    ax.set_ylabel("Q_i (median, 16-84 %)")
    ax.set_title("Q_i vs power, per temperature (open: flagged)", fontsize=9)
    if keys:
        ax.legend(fontsize=6, ncol=2 if len(keys) > 6 else 1)


def _fres_panel(ax, df):
    keys = sorted(df.groupby(["resonator", "power_dBm"]).groups)
    for j, (r, p) in enumerate(keys):
        g = df[(df["resonator"] == r) & (df["power_dBm"] == p)].sort_values("T_mK")
        if g.empty:
            continue
        f0 = float(g["f_res_Hz"].iloc[0])
        y = (g["f_res_Hz"].to_numpy(float) - f0) / 1e3
        lo = (g["f_res_Hz_q16"].to_numpy(float) - f0) / 1e3
        hi = (g["f_res_Hz_q84"].to_numpy(float) - f0) / 1e3
        label = f"{f0 / 1e9:.4f} GHz, {p:g} dBm" if j < _MAX_SERIES else None
        _errorbars(ax, g["T_mK"].to_numpy(float), y, lo, hi, g["status"], f"C{j % 10}", label)
    ax.set_xlabel("temperature [mK]")
    ax.set_ylabel("f_res - f_res(lowest T) [kHz]")
    ax.set_title("f_res vs temperature, per resonator and power", fontsize=9)
    if 0 < len(keys) <= _MAX_SERIES:
        ax.legend(fontsize=6)


def _status_panel(ax, counts):
    ax.bar(_STATUSES, [counts.get(s, 0) for s in _STATUSES],
           color=[_COLORS[s] for s in _STATUSES])
    for i, s in enumerate(_STATUSES):
        ax.annotate(str(counts.get(s, 0)), (i, counts.get(s, 0)), ha="center", va="bottom",
                    fontsize=8)
    ax.set_ylabel("traces")
    ax.set_title("status", fontsize=9)


def _figure(table: pd.DataFrame, path: Path, counts: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    df = _numbers(table)
    fig = plt.figure(figsize=(13, 4.6))
    grid = fig.add_gridspec(1, 3, width_ratios=[2.2, 2.2, 1])
    _qi_panel(fig.add_subplot(grid[0]), df)
    _fres_panel(fig.add_subplot(grid[1]), df)
    _status_panel(fig.add_subplot(grid[2]), counts)
    fig.suptitle(f"tlsbayes s21: {len(table)} traces", fontsize=10)
    fig.subplots_adjust(left=0.06, right=0.99, bottom=0.12, top=0.88, wspace=0.28)
    with atomic_output(path) as tmp:
        fig.savefig(tmp, dpi=90, format="png")
    plt.close(fig)


def _reason_counts(table) -> list[tuple[str, int]]:
    """Most common reasons, numbers stripped so that alike reasons count together."""
    import re

    c = Counter()
    for reason in table.loc[table["status"] != "ok", "reason"].fillna(""):
        for part in str(reason).split("; "):
            if part:
                c[re.sub(r"[-+]?\d[\d.e+-]*", "#", part)[:90]] += 1
    return c.most_common(10)


def _html(table, counts, figure_of, has_png) -> str:
    esc = html.escape
    rows = []
    bad = table[table["status"] != "ok"].sort_values(["status", "file", "trace"])
    for r in bad.itertuples(index=False):
        fig = figure_of.get((str(r.file), int(r.trace)))
        thumb = (f'<a href="{esc(fig)}"><img src="{esc(fig)}" width="260" loading="lazy" '
                 f'alt="figure"></a>' if fig else "")
        qi = f"{r.Qi:.4g}" if isinstance(r.Qi, float) and np.isfinite(r.Qi) else ""
        rows.append(f"<tr class='{esc(r.status)}'><td>{esc(r.status)}</td>"
                    f"<td>{esc(Path(str(r.file)).name)}<br><small>{esc(str(r.file))}</small>"
                    f"</td><td>{r.power_dBm:g}</td><td>{1e3 * r.temperature_K:g}</td>"
                    f"<td>{qi}</td><td>{esc(str(r.reason))}</td><td>{thumb}</td></tr>")
    reasons = "".join(f"<li>{n} x {esc(text)}</li>" for text, n in _reason_counts(table))
    count_text = ", ".join(f"{counts.get(s, 0)} {s}" for s in _STATUSES)
    img = ('<p><img src="overview.png" alt="overview" style="max-width:100%"></p>'
           if has_png else "")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>tlsbayes s21 overview</title>
<style>body{{font-family:sans-serif;margin:1.5em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px;vertical-align:top;font-size:13px}}
tr.failed td:first-child{{color:#b00}}tr.flagged td:first-child{{color:#a60}}</style>
</head><body>
<h1>tlsbayes s21 overview</h1>
<p>{len(table)} traces: {count_text}. Table: <a href="traces.csv">traces.csv</a>;
posteriors in <code>posteriors/</code>, one figure per sampled trace in <code>figures/</code>.</p>
{img}
<h2>Reasons</h2><ul>{reasons or "<li>none</li>"}</ul>
<h2>Flagged and failed traces ({len(bad)})</h2>
<table><tr><th>status</th><th>file</th><th>power [dBm]</th><th>T [mK]</th><th>Q_i</th>
<th>reason</th><th>figure</th></tr>
{"".join(rows)}
</table></body></html>
"""


def write_overview(table: pd.DataFrame, out, figure_of: dict | None = None,
                   png: bool = True) -> list[Path]:
    """Write ``out/overview.html`` (and ``out/overview.png`` when ``png``), atomically.

    Parameters
    ----------
    table : pandas.DataFrame
        The rows of ``traces.csv``.
    out : path-like
        The run directory.
    figure_of : dict, optional
        ``(file, trace) -> path of its figure relative to out`` for the traces drawn.
    png : bool

    Returns
    -------
    list of Path
        The files written.
    """
    out = Path(out)
    counts = table["status"].value_counts().to_dict() if len(table) else {}
    written = []
    if png:
        _figure(table, out / "overview.png", counts)
        written.append(out / "overview.png")
    atomic_write_text(out / "overview.html", _html(table, counts, figure_of or {}, png))
    written.append(out / "overview.html")
    return written
