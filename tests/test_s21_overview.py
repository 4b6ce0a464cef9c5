"""The overview page of a ``tlsbayes s21`` run (tlsbayes.s21.overview), from a made-up table."""

import numpy as np
import pandas as pd

from tlsbayes.s21.overview import RESONATOR_GAP_HZ, resonator_groups, write_overview


def test_resonator_groups_split_at_wide_gaps():
    f = np.array([5.7e9 + 3e4, 6.1e9, 5.7e9, np.nan, 6.1e9 - 2e5, 5.7e9 + 0.9 * RESONATOR_GAP_HZ])
    assert resonator_groups(f).tolist() == [0, 1, 0, -1, 1, 0]


def _table():
    rows = []
    for i, (p, t, status, reason) in enumerate([
            (-40, 0.01, "ok", ""), (-60, 0.01, "ok", ""), (-40, 0.05, "ok", ""),
            (-80, 0.01, "flagged", "span 2.1 linewidths (< 3)"),
            (-100, 0.01, "failed", "no resonance: dip 1.2 x the noise (< 5)")]):
        qi = np.nan if status == "failed" else 1e6 * (1 + 0.1 * i)
        rows.append({"file": f"/data/res_{p}dB_{t * 1e3:g}mK.csv", "trace": 0, "power_dBm": p,
                     "temperature_K": t, "f_res_Hz": 5.7e9 - 1e3 * t, "Qi": qi,
                     "Qi_q16": 0.95 * qi, "Qi_q84": 1.05 * qi, "Qc": 3e5, "Ql": 2e5,
                     "status": status, "reason": reason, "f_res_Hz_q16": 5.7e9 - 1e3 * t - 10,
                     "f_res_Hz_q84": 5.7e9 - 1e3 * t + 10})
    return pd.DataFrame(rows)


def test_overview_page_names_flagged_and_failed_traces(tmp_path):
    table = _table()
    fig = {("/data/res_-80dB_10mK.csv", 0): "figures/res_-80dB_10mK-abc_t0.png"}
    written = write_overview(table, tmp_path, fig)
    assert [p.name for p in written] == ["overview.png", "overview.html"]
    assert (tmp_path / "overview.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (tmp_path / "overview.html").read_text()
    assert "5 traces: 3 ok, 1 flagged, 1 failed" in page
    assert '<img src="figures/res_-80dB_10mK-abc_t0.png"' in page
    assert "res_-100dB_10mK.csv" in page and "no resonance" in page
    assert "res_-40dB_10mK.csv" not in page  # ok traces are only in the figure
    assert "# linewidths" in page  # reasons counted with their numbers stripped


def test_overview_without_png_and_with_markup_in_names(tmp_path):
    table = _table()
    table.loc[3, "file"] = "/data/<b>_-80dB_10mK.csv"
    written = write_overview(table, tmp_path, png=False)
    assert [p.name for p in written] == ["overview.html"]
    page = (tmp_path / "overview.html").read_text()
    assert "&lt;b&gt;_-80dB_10mK.csv" in page and "<b>_" not in page
    assert "overview.png" not in page
