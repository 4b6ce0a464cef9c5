"""Throughput of ``tlsbayes batch`` against the worker count, and the per-task cost of the engines.

    python benchmarks/batch_throughput.py --ta [--workers 1 2] [--repeat N] [--separate]
                                          [--plots none|fit|all]
    python benchmarks/batch_throughput.py [--groups 6] [--plots]          # simulated groups

0. ``--ta`` (real data; TLSBAYES_REAL_DATA): the three shipped Ta batch cards
   (``models/real/ta_*_batch.toml``, ``--group-by resonator``: the 11 groups their cooldown
   filters keep) as one batch, as ``tlsbayes batch models/real/ta_*_batch.toml --group-by
   resonator --workers N`` runs them (one queue of the 11 groups, fewest points first), or with
   ``--separate`` as three batch commands one after the other (a fresh pool each), for each
   worker count of ``--workers`` (default 1 then 2), side by side: wall time, fits per minute
   and their ratio to the first worker count, CPU seconds (this process and its workers; the
   sum of the fits' CPU in the workers; the rest: planning, worker start-up and imports,
   index writing), and the posteriors compared bit for bit.  Then one table row per group
   (points, steps, wall and CPU of its fit, CPU by phase), and one typical group fitted in a
   fresh process, twice (``--no-profile``: skipped): what a worker pays once (imports, numba
   cache loading, first calls) against each fit, and the ratio that fixed cost allows (the
   1-worker wall is fixed + W, an n-worker wall at least fixed + W / n).  ``--repeat N``:
   every card N times in the one queue (seeds card seed + 0 .. N - 1; N x 11 groups), a
   larger batch of the same curves.  The 1-vs-2 worker ratio only means something on an idle
   machine; the CPU seconds are meaningful under load.

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


TA_CARDS = ("ta_LGS1_H3A3_cooldown1_batch", "ta_LGS1_H3A3_cooldown3_batch",
            "ta_SGS1_H2A2_wIRfilters_cooldown4_batch")
MODELS = Path(__file__).resolve().parents[1] / "models" / "real"


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _ta_batches(out: Path, workers: int, plots: str, separate: bool, repeat: int = 1) -> dict:
    """The three Ta cards as one batch (one queue), or as three batch commands one after the
    other (``separate``); each card ``repeat`` times, with the seeds card seed + 0, 1, ...;
    wall, CPU of this process and its workers, per-group rows."""
    import dataclasses

    from tlsbayes import batch
    from tlsbayes.card import load_card
    from tlsbayes.fit import card_settings

    jobs = []
    for name in TA_CARDS:
        card = load_card(MODELS / f"{name}.toml")
        plans = [p for p in batch.plan_groups(card, "resonator") if not p.error]
        settings = card_settings(card, len(plans[0].free_names), progress=False)
        for k in range(repeat):
            jobs.append(batch.CardBatch(
                card, out / (name if k == 0 else f"{name}-seed+{k}"),
                dataclasses.replace(settings, seed=settings.seed + k), plans))
    rows, t0, c0 = [], time.perf_counter(), _cpu()
    # separate: one batch command per card, its repeats in its queue (jobs are card by card)
    groups = ([jobs[i:i + repeat] for i in range(0, len(jobs), repeat)] if separate
              else [jobs])
    for group in groups:
        results = batch.run_batches(group, "resonator", workers=workers, plots=plots,
                                    print_fn=lambda line: None)
        rows += [dict(r, card=j.card.name) for j, res in zip(group, results) for r in res.rows]
    wall, cpu = time.perf_counter() - t0, _cpu() - c0
    bad = [r["group"] for r in rows if r["status"] != batch.CONVERGED]
    return {"wall": wall, "cpu": cpu, "rows": rows, "not_converged": bad}


def _profile_one(card_name: str, group: str, out: str) -> None:
    """In a fresh process: import costs, then the same group fitted twice (phases)."""
    import json

    t0 = time.perf_counter()
    steps = {}
    for mod in ("numpy", "tlsbayes.batch", "tlsbayes.card", "tlsbayes.fit",
                "tlsbayes.sampling.runner", "tlsbayes.results.convert"):
        t = time.perf_counter()
        __import__(mod)
        steps[mod] = time.perf_counter() - t
    from tlsbayes import batch
    from tlsbayes.card import load_card
    from tlsbayes.fit import card_settings

    card = load_card(MODELS / f"{card_name}.toml")
    plan = next(p for p in batch.plan_groups(card, "resonator") if p.group == group)
    settings = card_settings(card, len(plan.free_names), progress=False)
    fits = []
    for k in range(2):
        info = batch.group.group_run_info(card, plan, "resonator", Path(out) / str(k), settings,
                                          None)
        task = batch.group.Task(group, "resonator", str(card.path), card.text, None,
                           str(Path(out) / str(k)), plan.run_dir, info, False, "none")
        row = batch.fit_group(task)
        fits.append({"seconds": row["seconds"], "cpu": row["cpu_seconds"],
                     "steps": row.get("steps"), "phases": row.get("phases", {})})
    print(json.dumps({"imports": steps, "import_total": sum(steps.values()),
                      "process_to_first_fit": time.perf_counter() - t0 - sum(
                          f["seconds"] for f in fits), "fits": fits}))


def _print_groups(rows) -> None:
    """Per group: points, steps, wall and CPU seconds of its fit (in its worker), CPU by phase."""
    phases = ("map", "sampling", "results", "report", "plots")
    print(f"{'card':40s} {'group':14s} {'pts':>4s} {'steps':>6s} {'wall':>6s} {'CPU':>6s} "
          + " ".join(f"{p:>8s}" for p in phases))
    for r in sorted(rows, key=lambda r: -r.get("cpu_seconds", 0)):
        pc = r.get("phases_cpu") or {}
        print(f"{r['card']:40s} {r['group']:14s} {r.get('n_points') or 0:4d} "
              f"{r.get('steps') or 0:6d} {r.get('seconds', 0):6.1f} {r.get('cpu_seconds', 0):6.1f} "
              + " ".join(f"{pc.get(p, 0):8.2f}" for p in phases))


def _ta(a) -> None:
    import json
    import subprocess

    from tlsbayes.io import real_data_dir

    if not (real_data_dir() / "ta_grainsize_Qi_vs_power_LGS1_SGS1.csv").is_file():
        raise SystemExit(f"real data not found in {real_data_dir()} (set TLSBAYES_REAL_DATA)")
    load0 = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        runs = {w: _ta_batches(d / f"w{w}", w, a.plots, a.separate, a.repeat)
                for w in a.workers}
        first = a.workers[0]
        same = all(_same(d / f"w{first}" / n.name, d / f"w{w}" / n.name)
                   for w in a.workers[1:] for n in sorted((d / f"w{first}").iterdir()))
        rows = runs[first]["rows"]
        profile = None
        if a.profile:
            typical = sorted(rows, key=lambda r: r.get("cpu_seconds", 0))[len(rows) // 2]
            prof = subprocess.run([sys.executable, __file__, "--profile-one", typical["card"],
                                   typical["group"], str(d / "prof")], capture_output=True,
                                  text=True, check=True)
            profile = json.loads(prof.stdout.strip().splitlines()[-1])
    n = len(rows)
    how = ("three batch commands one after the other" if a.separate
           else "one batch of the three cards (one queue)")
    print(f"load average before: {' '.join(f'{v:.2f}' for v in load0)}, after: "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())} ({os.cpu_count()} CPUs)")
    times = f", each {a.repeat} times (seeds + 0 .. {a.repeat - 1})" if a.repeat > 1 else ""
    print(f"\nThree Ta batch cards{times}, {n} groups, {how}, figures: {a.plots}")
    print(f"{'workers':>7s} {'wall [s]':>9s} {'fits/min':>9s} {'ratio':>6s} {'CPU [s]':>8s} "
          f"{'fits CPU':>9s} {'other CPU':>10s} {'not converged':>14s}")
    for w, r in runs.items():
        fits = sum(g.get("cpu_seconds", 0) for g in r["rows"])
        print(f"{w:7d} {r['wall']:9.1f} {60 * n / r['wall']:9.1f} "
              f"{runs[first]['wall'] / r['wall']:6.2f} {r['cpu']:8.1f} {fits:9.1f} "
              f"{r['cpu'] - fits:10.1f} {len(r['not_converged']):14d}")
    print("(ratio: wall of the first worker count over this one = fits per minute over the "
          "first's; CPU: this process and its workers; fits CPU: the sum over groups of each "
          "fit's CPU in its worker; other: planning, worker start-up and imports, index "
          "writing, figures)")
    if len(runs) > 1:
        print(f"posteriors identical for every worker count: {same}")
    print(f"\nPer group ({first} worker(s)), seconds; CPU by phase:")
    _print_groups(rows)
    if profile:
        print(f"\nOne group ({typical['card']} / {typical['group']}) in a fresh process:")
        print("  imports: " + ", ".join(f"{k} {v:.2f} s" for k, v in profile["imports"].items()))
        for k, f in enumerate(profile["fits"]):
            ph = ", ".join(f"{p} {v:.2f}" for p, v in f["phases"].items())
            print(f"  fit {k + 1}: {f['seconds']:.2f} s wall, {f['cpu']:.2f} s CPU "
                  f"({f['steps']} steps; wall by phase {ph})")
        extra = profile["fits"][0]["cpu"] - profile["fits"][1]["cpu"]
        print(f"  first fit minus second: {extra:.2f} s CPU (first calls: numba cache loading, "
              "lazy imports)")
        # What every worker pays once, and the best ratio a perfect split of the rest allows:
        # the 1-worker wall is fixed + W, an n-worker wall at least fixed + W / n.
        fixed = profile["import_total"] + profile["fits"][0]["seconds"] \
            - profile["fits"][1]["seconds"]
        w1 = runs[first]["wall"]
        print(f"  a worker's fixed cost (imports + first fit minus second, wall): {fixed:.2f} s; "
              f"the rest of the {first}-worker wall: {w1 - fixed:.2f} s")
        for w in list(runs)[1:]:
            bound = w1 / (fixed + (w1 - fixed) * first / w)
            print(f"  {w} workers: measured ratio {w1 / runs[w]['wall']:.2f}, at most "
                  f"{bound:.2f} with that fixed cost and a perfect split of the rest")
    if a.json:
        Path(a.json).write_text(json.dumps({"runs": runs, "groups": n, "profile": profile,
                                            "identical": same, "load_before": load0,
                                            "separate": a.separate}, indent=1, default=str))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--groups", type=int, default=6)
    ap.add_argument("--tasks", type=int, default=200)
    ap.add_argument("--plots", nargs="?", const="all", default=None,
                    help="figures of every run: none, fit or all (bare --plots: all)")
    ap.add_argument("--ta", action="store_true", help="the three real Ta batch cards")
    ap.add_argument("--json", help="--ta: write the figures to this JSON file")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2],
                    help="--ta: worker counts, run one after the other (default: 1 2)")
    ap.add_argument("--separate", action="store_true",
                    help="--ta: three batch commands one after the other, as before "
                         "'tlsbayes batch' took several cards")
    ap.add_argument("--repeat", type=int, default=1,
                    help="--ta: every card this many times (seeds card seed + 0, 1, ...) in the "
                         "one queue: a larger batch of the same curves")
    ap.add_argument("--no-profile", dest="profile", action="store_false",
                    help="--ta: skip the fresh-process profile of one group")
    ap.add_argument("--profile-one", nargs=3, metavar=("CARD", "GROUP", "OUT"),
                    help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.profile_one:
        return _profile_one(*a.profile_one)
    if a.ta:
        a.plots = a.plots or "none"
        return _ta(a)
    a.plots = a.plots not in (None, "none")

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
