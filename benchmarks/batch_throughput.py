"""Throughput of ``tlsbayes batch`` against the worker count, and the per-task cost of the engines.

    python benchmarks/batch_throughput.py [--groups 6] [--plots]

1. Fits per minute: one simulated table of ``--groups`` resonators (frequency_shift model,
   15 points each, simulated by tlsbayes.simulate), fitted by ``tlsbayes.batch.run_batch`` with
   1 and 2 local worker processes and with a 2-worker Dask ``LocalCluster``.  The card is the
   small one of the tests (16 walkers, ESS >= 400, converges in 1400-2400 steps); figures off
   unless ``--plots``.  Wall time includes starting the worker processes (``spawn``), so with
   few groups the per-process import cost weighs in.  Each engine fits the same groups with
   the same seeds; the script checks that the posteriors are identical.
2. Per-task overhead: ``--tasks`` trivial tasks (return the argument) through a direct call,
   a 2-process ``ProcessPoolExecutor`` and the Dask executor of a 2-worker ``LocalCluster``:
   pipelined (submit all, then wait) and one at a time (submit, wait, repeat).

Prints the load average before and after: the numbers are only meaningful on an idle machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, wait
from pathlib import Path

import numpy as np


def trivial(x):
    return x


def _write_inputs(d: Path, n_groups: int):
    from tlsbayes.simulate import defrance_fshift

    rng = np.random.default_rng(1)
    lines = ["resonator,temperature_K,f_res_Hz,f_res_sigma_Hz"]
    for g in range(n_groups):
        f0, d0 = 5e9 + 0.25e9 * g, 10 ** rng.uniform(-5.5, -4.5)
        _, T, f, s, _ = defrance_fshift(f0, d0, T=(0.02, 0.4), n=15, sigma_hz=300.0, seed=g)
        lines += [f"G{g},{t:.6g},{ff:.3f},{ss:g}" for t, ff, ss in zip(T, f, s)]
    (d / "groups.csv").write_text("\n".join(lines) + "\n")
    tests = Path(__file__).resolve().parents[1] / "tests"
    sys.path.insert(0, str(tests))
    import _batch_data as BD

    return BD.write_card(d / "card.toml"), d / "groups.csv", BD.SEED


def _batch(card_path, data, out, seed, *, workers=None, executor=None, plots=False):
    from tlsbayes import batch
    from tlsbayes.card import load_card
    from tlsbayes.sampling import SamplerSettings

    card = load_card(card_path)
    settings = SamplerSettings.from_dict({**card.sampler, "seed": seed})
    t0 = time.perf_counter()
    res = batch.run_batch(card, "resonator", out, settings=settings, data=data,
                          workers=workers, executor=executor, plots=plots,
                          print_fn=lambda line: None)
    wall = time.perf_counter() - t0
    assert res.count(batch.CONVERGED) == len(res.rows), [r["status"] for r in res.rows]
    return wall


def _same(a: Path, b: Path) -> bool:
    from tlsbayes import results as R

    for run in sorted((a / "runs").iterdir()):
        pa = R.load(run / "posterior.nc").posterior
        pb = R.load(b / "runs" / run.name / "posterior.nc").posterior
        if not all(np.array_equal(pa[v].values, pb[v].values) for v in pa.data_vars):
            return False
    return True


def _overheads(executor, n):
    """(pipelined, one-at-a-time) seconds per trivial task."""
    executor.submit(trivial, 0).result()  # warm: workers up, function shipped
    t0 = time.perf_counter()
    futures = [executor.submit(trivial, i) for i in range(n)]
    wait(futures)
    assert [f.result() for f in futures] == list(range(n))
    pipelined = (time.perf_counter() - t0) / n
    t0 = time.perf_counter()
    for i in range(n):
        assert executor.submit(trivial, i).result() == i
    serial = (time.perf_counter() - t0) / n
    return pipelined, serial


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--groups", type=int, default=6)
    ap.add_argument("--tasks", type=int, default=200)
    ap.add_argument("--plots", action="store_true", help="write the figures of every run")
    a = ap.parse_args()

    from distributed import Client, LocalCluster

    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())} "
          f"({os.cpu_count()} CPUs)")
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        card, data, seed = _write_inputs(d, a.groups)
        rows = []
        for workers in (1, 2):
            wall = _batch(card, data, d / f"local{workers}", seed, workers=workers,
                          plots=a.plots)
            rows.append(("local processes", workers, wall))
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            wall = _batch(card, data, d / "dask", seed, executor=client.get_executor(pure=False),
                          plots=a.plots)
            rows.append(("Dask LocalCluster", 2, wall))
            over_dask = _overheads(client.get_executor(pure=False), a.tasks)
        identical = _same(d / "local1", d / "local2") and _same(d / "local1", d / "dask")

    print(f"\nFits per minute, {a.groups} groups, figures {'on' if a.plots else 'off'}:")
    print(f"{'engine':20s} {'workers':>7s} {'wall [s]':>9s} {'fits/min':>9s} {'speed-up':>9s}")
    for name, w, wall in rows:
        print(f"{name:20s} {w:7d} {wall:9.1f} {60 * a.groups / wall:9.1f} "
              f"{rows[0][2] / wall:9.2f}")
    print(f"posteriors identical across engines and worker counts: {identical}")

    t0 = time.perf_counter()
    for i in range(a.tasks):
        trivial(i)
    direct = (time.perf_counter() - t0) / a.tasks
    with ProcessPoolExecutor(max_workers=2) as pool:
        over_pool = _overheads(pool, a.tasks)
    print(f"\nPer-task overhead, {a.tasks} trivial tasks:")
    print(f"{'engine':28s} {'pipelined [ms]':>15s} {'one at a time [ms]':>19s}")
    print(f"{'direct call':28s} {1e3 * direct:15.4f} {1e3 * direct:19.4f}")
    for name, (pipe, serial) in (("ProcessPoolExecutor (2)", over_pool),
                                 ("Dask executor (2 workers)", over_dask)):
        print(f"{name:28s} {1e3 * pipe:15.3f} {1e3 * serial:19.3f}")
    print(f"\nload average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
