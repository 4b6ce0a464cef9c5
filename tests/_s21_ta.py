"""Glue between the raw Ta traces (shared/data/real/s21/ta_grainsize) and the authors' fits.

Source of both: github.com/Boulder-Cryogenic-Quantum-Testbed/data @ 2dfc69da, TaGrainSize_2023
(no licence file in that repository); the tidy table ta_grainsize_Qi_vs_power_LGS1_SGS1.csv
holds the authors' own DCM fits.  Nothing is copied here: paths point at $TLSBAYES_REAL_DATA.

A trace matches a table row when its measurement folder is the row's ``measurement_id``
(blanks read as underscores), its power is the row's ``power_vna_dBm`` and the frequency in
its name is within 5 MHz of the row's ``f_res_Hz``.
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

from tlsbayes.s21 import readers

TA_TABLE = "ta_grainsize_Qi_vs_power_LGS1_SGS1.csv"
TA_TRACES = Path("s21") / "ta_grainsize"


def real_dir() -> Path:
    env = os.environ.get("TLSBAYES_REAL_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data" / "real"


def authors_rows(real: Path) -> list[dict]:
    """Rows of the tidy table (read with csv: a cell holds 'film #1', so no comment='#')."""
    with open(real / TA_TABLE, newline="") as fh:
        lines = [ln for ln in fh if not ln.startswith("#")]
    rows = list(csv.DictReader(lines))
    for r in rows:
        for key in ("power_vna_dBm", "f_res_Hz", "Qi", "Qi_sigma", "flag_bad_fit"):
            r[key] = float(r[key])
    return rows


def trace_key(path) -> tuple[str, float, float]:
    path = Path(path)
    ghz = float(re.search(r"_(\d+p\d+)GHz", path.name).group(1).replace("p", "."))
    return path.parent.name.replace(" ", "_"), ghz * 1e9, readers.parse_name(path)[0]


def match(rows, trace_files) -> list[tuple[dict, Path]]:
    """``(row, trace file)`` for every row that has a trace (the last such file when several)."""
    by_key = {}
    for p in sorted(trace_files):
        folder, f, power = trace_key(p)
        by_key.setdefault((folder, power), []).append((f, p))
    out = []
    for r in rows:
        cands = [p for f, p in by_key.get((r["measurement_id"], r["power_vna_dBm"]), [])
                 if abs(f - r["f_res_Hz"]) < 5e6]
        if cands:
            out.append((r, cands[-1]))
    return out
