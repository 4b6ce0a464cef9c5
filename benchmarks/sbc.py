"""Simulation-based calibration of every shipped model family (full size: >= 100 injections).

Usage: python benchmarks/sbc.py [--n 100] [--steps 3000] [--workers 2] [--moves stretch|de]
                               [--cases ...] [--out results/sbc.json]

Prints one table per case (KS p-value per parameter of the rank statistics) and writes them as
JSON.  The CI runs a bounded version of the same code (tests/test_calibration.py).
"""

import argparse
import json
import time
from pathlib import Path

from tlsbayes.calibration import default_cases, run_sbc


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=100)
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--cases", nargs="*", default=None)
    p.add_argument("--moves", default="stretch", help="sampler move set (stretch, de)")
    p.add_argument("--out", default="results/sbc.json")
    a = p.parse_args()
    out = {}
    for name, case in default_cases().items():
        if a.cases and name not in a.cases:
            continue
        t0 = time.perf_counter()
        r = run_sbc(case, a.n, steps=a.steps, workers=a.workers, seed=a.seed, moves=a.moves)
        dt = time.perf_counter() - t0
        print(r.table(), f"\n  ({dt:.0f} s)", flush=True)
        out[name] = {"n_injections": a.n, "steps": a.steps, "n_draws": r.n_draws,
                     "ks_pvalues": r.pvalues, "n_converged": int(r.converged.sum()),
                     "seconds": round(dt, 1), "seed": a.seed, "moves": a.moves}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
