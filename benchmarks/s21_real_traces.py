"""All shared raw S21 traces: status counts, agreement with the authors' Ta fits, time per trace.

Data (read in place from $TLSBAYES_REAL_DATA/s21, never copied): Ta CPW resonators
(Boulder-Cryogenic-Quantum-Testbed/data @ 2dfc69da, TaGrainSize_2023, no licence file), GaAs
trilayer resonators A and B (same repository, GaAs_Loss_Article; McRae et al.,
arXiv:2009.10101), NYU Al on InP (Boulder-Cryogenic-Quantum-Testbed/scresonators @ 9d8894e5,
MIT).  The Ta traces are compared with the authors' own DCM fits
(ta_grainsize_Qi_vs_power_LGS1_SGS1.csv, rows with flag_bad_fit == 0).

Two methods side by side on the same traces:

* ``lsq``: circle-fit start + least squares, the method of resonator_tools (Probst et al.
  2015), a point estimate with a Jacobian error;
* ``posterior``: the same start, then the per-trace posterior sampled to convergence
  (``--sample N`` traces, chosen at random; all with ``--sample all``).

Reported: status counts per data set; for Ta the fraction with Q_i within the authors' 1σ and
f_res within 1 kHz, and percentiles of Q_i,ours/Q_i,authors - 1; CPU seconds per trace
(``time.process_time``, one core) of each method.

Usage::

    TLSBAYES_REAL_DATA=/path/to/shared/data/real python benchmarks/s21_real_traces.py \
        [--sample 40] [--seed 0] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from _s21_ta import TA_TRACES, authors_rows, match, real_dir  # noqa: E402

from tlsbayes.s21 import fit, readers  # noqa: E402

PCTS = (5, 16, 50, 84, 95)


def dataset_of(path: Path) -> str:
    return path.relative_to(real_dir() / "s21").parts[0]


def agreement(pairs, results, qi_key, f_key) -> dict:
    rel, qi_ok, f_ok, n = [], 0, 0, 0
    for row, path in pairs:
        v = results.get(path)
        if v is None:
            continue
        n += 1
        qi, fr = v.get(qi_key, np.nan), v.get(f_key, np.nan)
        qi_ok += bool(abs(qi - row["Qi"]) <= row["Qi_sigma"])
        f_ok += bool(abs(fr - row["f_res_Hz"]) <= 1e3)
        rel.append(qi / row["Qi"] - 1)
    rel = np.asarray(rel, dtype=float)
    rel = rel[np.isfinite(rel)]
    return {"n": n, "Qi_within_1sigma": qi_ok / max(n, 1), "f_res_within_1kHz": f_ok / max(n, 1),
            "Qi_ratio_minus_1_percentiles": dict(zip(map(str, PCTS),
                                                     np.percentile(rel, PCTS).round(5).tolist()))
            if rel.size else {}}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sample", default="40", help="traces to sample (a number or 'all')")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    real = real_dir()
    files, skipped = readers.find_trace_files([real / "s21"])
    rows = [r for r in authors_rows(real) if r["flag_bad_fit"] == 0]
    pairs = match(rows, [p for p in files if dataset_of(p) == TA_TRACES.name])

    status = {}
    lsq_values, lsq_cpu = {}, []
    for p in files:
        (res,) = fit.fit_file(p, sample=False)
        status.setdefault(dataset_of(p), Counter())[res.status] += 1
        lsq_values[p] = res.values
        if "cpu_seconds" in res.values:
            lsq_cpu.append(res.values["cpu_seconds"])

    rng = np.random.default_rng(args.seed)
    ta_paths = [p for _, p in pairs]
    n_s = len(ta_paths) if args.sample == "all" else min(int(args.sample), len(ta_paths))
    chosen = [ta_paths[i] for i in rng.choice(len(ta_paths), n_s, replace=False)]
    post_values, post_cpu, steps, post_status = {}, [], [], Counter()
    for p in chosen:
        (res,) = fit.fit_file(p, seed=args.seed)
        post_status[res.status] += 1
        post_values[p] = res.values
        if res.samples is not None:
            post_cpu.append(res.values["cpu_seconds"])
            steps.append(res.values["steps"])

    sampled_pairs = [(r, p) for r, p in pairs if p in post_values]
    out = {
        "traces": len(files), "skipped_files": len(skipped),
        "status_lsq": {k: dict(v) for k, v in status.items()},
        "ta_lsq_vs_authors": agreement(pairs, lsq_values, "Qi_lsq", "f_res_Hz_lsq"),
        "ta_posterior_vs_authors": agreement(sampled_pairs, post_values, "Qi", "f_res_Hz"),
        "ta_lsq_vs_authors_same_subset": agreement(sampled_pairs, lsq_values, "Qi_lsq",
                                                   "f_res_Hz_lsq"),
        "posterior_status": dict(post_status),
        "cpu_seconds_per_trace": {
            "lsq_median": float(np.median(lsq_cpu)), "lsq_p90": float(np.percentile(lsq_cpu, 90)),
            "posterior_median": float(np.median(post_cpu)) if post_cpu else None,
            "posterior_p90": float(np.percentile(post_cpu, 90)) if post_cpu else None},
        "posterior_steps_median": float(np.median(steps)) if steps else None,
    }
    text = json.dumps(out, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return out


if __name__ == "__main__":
    t0 = time.perf_counter()
    main()
    print(f"wall {time.perf_counter() - t0:.0f} s", file=sys.stderr)
