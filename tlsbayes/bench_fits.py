"""Per-card fit benchmark of ``tlsbayes bench``: where the time of a fit goes, card by card.

Every shipped card (``models/*.toml`` and ``models/real/*.toml``; batch cards, ``*_batch.toml``, are timed by
``benchmarks/batch_throughput.py`` and listed as skipped) is fitted in this process as
``tlsbayes fit`` would (:func:`tlsbayes.fit.run_fit`: MAP, the gated run, ``posterior.nc``, the
report and its figures, into a temporary directory).  Reported per card, wall seconds:

* **phases**: ``load`` (card, data, posterior and the first log-probability call, which loads
  the numba cache), ``MAP``, ``sample``, ``results``, ``report``, ``plots``; the imports are
  measured once, in a fresh process, and shown in the header (every card pays them once);
  the first card is fitted once, untimed, before the table (:func:`warm_up`), so that the
  loading of the sampler's compiled functions, once per process, is not charged to it;
* **x limit**: sampling CPU time over the *likelihood-only limit*
  ``c_w * target_ess * max(tau)``, the likelihood work needed for the target ESS: ``c_w`` is
  the CPU cost of one walker evaluation at its cheapest (one vectorised call on half of the
  ensemble at the final walker positions, divided by its size, through the compiled-glue
  log-posterior of :mod:`tlsbayes.sampling.compiled_target` where the card has one, as the
  compiled engine calls it), ``max(tau)`` the run's
  largest autocorrelation time, so ``target_ess * max(tau)`` walker evaluations give
  ``target_ess`` independent draws of the worst parameter (target <= 5x; the gate's own
  requirement of a chain of 50 tau already costs ``50 * nwalkers / target_ess`` = 1.6x of it
  with 32 walkers and ESS 1000);
* **x floor**: sampling time over emcee's floor (:func:`tlsbayes.sampling.sampler_floor`: the
  same walkers, dimension, moves and steps with a log-probability that costs nothing);
* **MAP %**: MAP over the card's total, as one ``tlsbayes fit`` process would pay it
  (imports plus the phases above); **ESS/s**: the smallest ESS over MAP plus sampling time.

Each card keeps its own settings (seed, moves, target ESS).  ``--quick`` draws only the fit
figure and times the likelihood for less long; the full run draws every figure.  A lower
target ESS would not make a fair quick mode: the gate's length criterion (50 tau with every
walker) would then set the steps, not the ESS, and inflate the ratio to the limit.
"""

from __future__ import annotations

import dataclasses
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .errors import TLSBayesError

ROOT = Path(__file__).resolve().parents[1]
CARD_DIRS = (ROOT / "models", ROOT / "models" / "real")
#: What the imports phase imports: everything a fit with figures loads.
_IMPORTS = ("import time; t = time.perf_counter(); "
            "import tlsbayes.fit, tlsbayes.sampling.runner, tlsbayes.sampling.start, "
            "tlsbayes.results, tlsbayes.plotting.svg_figures; print(time.perf_counter() - t)")
PHASES = ("load", "map", "sampling", "results", "report", "plots")


def is_batch_card(path) -> bool:
    """A batch card (``*_batch.toml``: many resonators in one table, for ``tlsbayes batch
    --group-by``), fitted curve by curve and timed by the batch benchmark, not here."""
    return Path(path).stem.endswith("_batch")


def shipped_cards() -> list[Path]:
    """Every top-level card of ``models/`` and ``models/real/``, sorted."""
    return [p for d in CARD_DIRS for p in sorted(d.glob("*.toml"))]


def measure_imports() -> float:
    """Seconds a fresh interpreter spends importing what a fit with figures imports."""
    out = subprocess.run([sys.executable, "-c", _IMPORTS], capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    return float(out.stdout.strip().splitlines()[-1])


def _time_call(fn, min_time: float, clock=time.perf_counter) -> float:
    """Median seconds per call of ``fn()`` over 5 batches of ~min_time / 5 each (``clock``:
    wall by default; ``time.process_time`` for CPU seconds on a loaded machine)."""
    fn()
    n, t = 1, 0.0
    while True:
        t0 = clock()
        for _ in range(n):
            fn()
        t = clock() - t0
        if t >= min_time / 5 or n >= 4096:
            break
        n *= 2
    runs = []
    for _ in range(5):
        t0 = clock()
        for _ in range(n):
            fn()
        runs.append((clock() - t0) / n)
    return statistics.median(runs)


def _fit(path, quick: bool, engine):
    """``(posterior, settings, fit result, load seconds)`` of one fit of the card at ``path``
    as ``tlsbayes fit`` runs it, into a temporary directory (``engine``: override, or None)."""
    from .fit import prepare_fit, run_fit

    t0 = time.perf_counter()
    # shipped cards; nyu_al_inp_fshift_from_s21_output reads the README's `tlsbayes s21` output
    # outside its folder: timed when that exists, else "not timed: ... not found"
    _, posterior, _, settings = prepare_fit(path, progress=False, allow_outside_data=True)
    if engine is not None:
        settings = dataclasses.replace(settings, engine=engine)
    nw = settings.resolve_nwalkers(posterior.ndim)
    posterior.log_prob(posterior.priors.sample(nw // 2, np.random.default_rng(0)))
    load = time.perf_counter() - t0
    with tempfile.TemporaryDirectory(prefix="tlsbayes-bench-") as tmp:
        res = run_fit(posterior, settings, Path(tmp) / "run", plots="fit" if quick else "all",
                      print_fn=lambda *a, **k: None)
    return posterior, settings, res, load


def measure_card(path, *, quick: bool = False, imports: float = 0.0,
                 engine: str | None = None) -> dict:
    """Fit one card as ``tlsbayes fit`` would and time it; see the module docstring.

    ``engine`` overrides the card's sampler engine (``"emcee"`` or ``"compiled"``)."""
    from .sampling import move_proposal, sampler_floor
    from .sampling.compiled_target import fast_log_prob

    posterior, settings, res, load = _fit(path, quick, engine)
    nw = settings.resolve_nwalkers(posterior.ndim)
    run = res.run
    half = np.ascontiguousarray(run.chain[-1, : nw // 2])
    log_prob = fast_log_prob(posterior.log_prob) or posterior.log_prob
    c_w = _time_call(lambda: log_prob(half), 0.15 if quick else 0.3,
                     clock=time.process_time) / half.shape[0]
    floor = sampler_floor(nw, posterior.ndim, run.steps, seed=settings.seed or 0,
                          moves=settings.moves,
                          proposal=move_proposal(posterior, settings.moves))
    tau_max = float(np.max(run.tau))
    limit = c_w * settings.target_ess * tau_max
    ph = {"load": load, **res.phases}
    sampling_cpu = res.phases_cpu["sampling"]
    ess = float(np.min(run.ess))
    return {"card": str(path), "name": Path(path).stem, "ndim": posterior.ndim, "nwalkers": nw,
            "steps": run.steps, "moves": settings.moves, "phases": ph,
            "total_s": sum(ph.get(k, 0.0) for k in PHASES), "c_w_s": c_w, "tau_max": tau_max,
            "limit_s": limit, "x_limit": sampling_cpu / limit, "sampling_cpu_s": sampling_cpu,
            "engine": settings.engine, "floor_s": floor,
            "x_floor": ph["sampling"] / floor, "min_ess": ess,
            "ess_per_s": ess / (ph["map"] + ph["sampling"]),
            "map_share": ph["map"] / (imports + sum(ph.get(k, 0.0) for k in PHASES)),
            "imports_s": imports,
            "converged": run.converged, "target_ess": settings.target_ess}


HEADER = (f"{'card':38s} {'d':>2s} {'steps':>6s} {'load':>5s} {'MAP':>5s} {'sample':>6s} "
          f"{'result':>6s} {'report':>6s} {'plots':>5s} {'MAP%':>5s} {'us/w':>6s} "
          f"{'limit':>6s} {'xlim':>5s} {'floor':>6s} {'xflr':>5s} {'ESS/s':>6s}")


def format_row(r: dict) -> str:
    ph = r["phases"]
    return (f"{r['name'][:38]:38s} {r['ndim']:2d} {r['steps']:6d} {ph['load']:5.2f} "
            f"{ph['map']:5.2f} {ph['sampling']:6.2f} {ph['results']:6.2f} {ph['report']:6.2f} "
            f"{ph['plots']:5.2f} {100 * r['map_share']:5.1f} {1e6 * r['c_w_s']:6.1f} "
            f"{r['limit_s']:6.2f} {r['x_limit']:5.2f} {r['floor_s']:6.2f} {r['x_floor']:5.2f} "
            f"{r['ess_per_s']:6.0f}" + ("" if r["converged"] else "  NOT converged"))


def run_fits(print_fn=print, cards=None, quick: bool = False,
             engine: str | None = None) -> list[dict]:
    """Time every card (default :func:`shipped_cards`) and print the table; the rows.
    ``engine`` overrides every card's sampler engine."""
    cards = shipped_cards() if cards is None else list(cards)
    imports = measure_imports()
    import tlsbayes.fit  # noqa: F401  (the imports are timed above, in a fresh process)
    import tlsbayes.plotting.svg_figures  # noqa: F401
    import tlsbayes.results  # noqa: F401

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print_fn(f"fits as `tlsbayes fit` runs them, wall seconds per phase"
             f"{' (--quick: fit figure only)' if quick else ''}; imports "
             f"{imports:.2f} s once per process; load average {load:.1f}")
    print_fn("us/w: likelihood CPU cost per walker evaluation; limit: us/w x target ESS x max "
             "tau; xlim: sampling CPU over the limit (target <= 5); xflr: sampling wall over "
             "emcee's floor" + (f"; engine {engine}" if engine else ""))
    warm_up(cards, quick, engine, print_fn)
    print_fn(HEADER)
    rows = []
    for path in cards:
        if is_batch_card(path):
            print_fn(f"{Path(path).stem[:38]:38s} batch card: see benchmarks/batch_throughput.py")
            continue
        try:
            r = measure_card(path, quick=quick, imports=imports, engine=engine)
        except TLSBayesError as exc:
            # e.g. a card that reads the output of an earlier `tlsbayes s21` run not made here
            print_fn(f"{Path(path).stem[:38]:38s} not timed: {str(exc).splitlines()[0][:240]}")
            continue
        rows.append(r)
        print_fn(format_row(r))
    return rows


def warm_up(cards, quick: bool, engine, print_fn) -> None:
    """Fit the first timable card once, untimed: the first fit of a process loads the sampler's
    compiled functions from the numba cache (a fixed cost of the process, counted by
    ``--startup``), which would otherwise land in the sampling time of whichever card comes
    first (``defrance_B2_809MHz_fshift``: 6.4x the limit first, 3.8-4.1x after another card)."""
    for path in cards:
        if is_batch_card(path):
            continue
        t0 = time.perf_counter()
        try:
            _fit(path, quick, engine)  # the fit only: its timings and floor are not needed
        except TLSBayesError:
            continue
        print_fn(f"warm-up: {Path(path).stem} fitted once first, untimed "
                 f"({time.perf_counter() - t0:.2f} s, the loading of compiled code included)")
        return


def markdown_table(rows) -> list[str]:
    """The README's bench table from :func:`run_fits` rows."""
    out = ["| card | engine | steps | load s | MAP s | sample s | sample CPU s | results s "
           "| report s | plots s | MAP % | µs/walker | x limit | x floor | ESS/s |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        ph = r["phases"]
        out.append(f"| {r['name']} | {r['engine']} | {r['steps']} | {ph['load']:.2f} | "
                   f"{ph['map']:.2f} | {ph['sampling']:.2f} | {r['sampling_cpu_s']:.2f} | "
                   f"{ph['results']:.2f} | {ph['report']:.2f} | {ph['plots']:.2f} | "
                   f"{100 * r['map_share']:.0f} | {1e6 * r['c_w_s']:.1f} | {r['x_limit']:.2f} | "
                   f"{r['x_floor']:.2f} | {r['ess_per_s']:.0f} |"
                   + ("" if r["converged"] else " (not converged)"))
    return out
